#include "actors/dataflow/record/batch.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

/* Smallest column capacity and string heap, so that no column pointer is ever NULL. */
#define S_MIN_CAP  16
#define S_MIN_HEAP 64

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define S_LITTLE_ENDIAN 1
#else
#define S_LITTLE_ENDIAN 0
#endif

static inline bool s_is_str(const wr_batch_t *b, uint32_t f)
{
    return b->schema.f[f].type == WR_T_STRING;
}

static inline uint32_t s_load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Copies n little-endian values of w bytes each, to or from the wire (a swap is its own
 * inverse, so one function serves both directions). */
static void s_copy_le(void *dst, const void *src, size_t n, size_t w)
{
    if (S_LITTLE_ENDIAN) {
        if (n) memcpy(dst, src, n * w);
        return;
    }
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < w; k++)
            d[i * w + k] = s[i * w + w - 1 - k];
}

static int s_heap_reserve(wr_batch_t *b, uint32_t f, size_t need)
{
    if (need <= b->heap_cap[f]) return 0;
    size_t cap = b->heap_cap[f] * 2;
    if (cap < need) cap = need;
    char *p = realloc(b->heap[f], cap);
    if (!p) return WR_ENOMEM;
    b->heap[f] = p;
    b->heap_cap[f] = cap;
    return 0;
}

wr_batch_t *wr_batch_new(const wr_schema_t *schema, uint32_t cap)
{
    if (cap > WR_BATCH_MAX || schema->n > WR_SCHEMA_MAX_FIELDS) return NULL;
    wr_batch_t *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->schema = *schema;
    for (uint32_t f = 0; f < b->schema.n; f++)
        if (s_is_str(b, f) && s_heap_reserve(b, f, S_MIN_HEAP) != 0) goto err;
    if (wr_batch_reserve(b, cap < S_MIN_CAP ? S_MIN_CAP : cap) != 0) goto err;
    return b;
err:
    wr_batch_destroy(&b);
    return NULL;
}

void wr_batch_destroy(wr_batch_t **bp)
{
    if (!bp || !*bp) return;
    wr_batch_t *b = *bp;
    for (uint32_t f = 0; f < WR_SCHEMA_MAX_FIELDS; f++) {
        free(b->col[f]);
        free(b->heap[f]);
    }
    free(b);
    *bp = NULL;
}

void wr_batch_clear(wr_batch_t *b)
{
    b->count = 0;
    for (uint32_t f = 0; f < b->schema.n; f++)
        b->heap_len[f] = 0;
}

int wr_batch_reserve(wr_batch_t *b, uint32_t cap)
{
    if (cap <= b->cap) return 0;
    if (cap > WR_BATCH_MAX) return WR_ETOOBIG;
    uint32_t ncap = b->cap > WR_BATCH_MAX / 2 ? WR_BATCH_MAX : b->cap * 2;
    if (ncap < cap) ncap = cap;
    /* Columns that grew before a failure stay grown: harmless, cap only says what all have. */
    for (uint32_t f = 0; f < b->schema.n; f++) {
        bool str = s_is_str(b, f);
        size_t bytes = str ? ((size_t)ncap + 1) * sizeof(uint32_t) : (size_t)ncap * 8;
        void *p = realloc(b->col[f], bytes);
        if (!p) return WR_ENOMEM;
        if (str && !b->col[f]) ((uint32_t *)p)[0] = 0;
        b->col[f] = p;
    }
    b->cap = ncap;
    return 0;
}

int wr_batch_push_str(wr_batch_t *b, int field, const char *s, uint32_t len)
{
    assert(field >= 0 && (uint32_t)field < b->schema.n && s_is_str(b, (uint32_t)field));
    if (b->count >= b->cap) {
        int rc = wr_batch_reserve(b, b->count + 1);
        if (rc) return rc;
    }
    uint32_t *off = b->col[field];
    /* From off[count], not heap_len, so that pushing again replaces an unfinished record. */
    uint32_t at = off[b->count];
    if (len > UINT32_MAX - at) return WR_ETOOBIG;
    if (s_heap_reserve(b, (uint32_t)field, (size_t)at + len) != 0) return WR_ENOMEM;
    if (len) memcpy(b->heap[field] + at, s, len);
    off[b->count + 1] = at + len;
    b->heap_len[field] = (size_t)at + len;
    return 0;
}

size_t wr_batch_encoded_size(const wr_batch_t *b)
{
    size_t n = 0;
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (s_is_str(b, f))
            n += ((size_t)b->count + 1) * 4 + ((const uint32_t *)b->col[f])[b->count];
        else
            n += (size_t)b->count * 8;
    }
    return n;
}

size_t wr_batch_encode(const wr_batch_t *b, uint8_t *out)
{
    uint8_t *p = out;
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (s_is_str(b, f)) {
            const uint32_t *off = b->col[f];
            s_copy_le(p, off, (size_t)b->count + 1, 4);
            p += ((size_t)b->count + 1) * 4;
            if (off[b->count]) memcpy(p, b->heap[f], off[b->count]);
            p += off[b->count];
        } else {
            s_copy_le(p, b->col[f], b->count, 8);
            p += (size_t)b->count * 8;
        }
    }
    return (size_t)(p - out);
}

int wr_batch_decode(wr_batch_t *b, const uint8_t *buf, size_t len, uint32_t count)
{
    int rc = WR_EPROTO;
    uint32_t heap[WR_SCHEMA_MAX_FIELDS];
    wr_batch_clear(b);
    if (count > WR_BATCH_MAX) goto err;

    /* Pass 1: the layout, from the lengths alone, before anything is allocated. */
    size_t pos = 0;
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (!s_is_str(b, f)) {
            if (len - pos < (size_t)count * 8) goto err;
            pos += (size_t)count * 8;
            continue;
        }
        size_t offs = ((size_t)count + 1) * 4;
        if (len - pos < offs || s_load32(buf + pos) != 0) goto err;
        heap[f] = s_load32(buf + pos + (size_t)count * 4);
        pos += offs;
        if (len - pos < heap[f]) goto err;
        pos += heap[f];
    }
    if (pos != len) goto err;

    rc = wr_batch_reserve(b, count);
    for (uint32_t f = 0; rc == 0 && f < b->schema.n; f++)
        if (s_is_str(b, f)) rc = s_heap_reserve(b, f, heap[f]);
    if (rc) goto err;

    /* Pass 2: copy, checking that string offsets never go down (so all lie within the heap)
     * and that bools are 0 or 1. */
    rc = WR_EPROTO;
    pos = 0;
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (!s_is_str(b, f)) {
            s_copy_le(b->col[f], buf + pos, count, 8);
            pos += (size_t)count * 8;
            if (b->schema.f[f].type == WR_T_BOOL) { /* kernels rely on exactly 0 or 1 */
                const uint64_t *v = b->col[f];
                uint64_t big = 0;
                for (uint32_t i = 0; i < count; i++)
                    big |= v[i] > 1;
                if (big) goto err;
            }
            continue;
        }
        uint32_t *off = b->col[f];
        s_copy_le(off, buf + pos, (size_t)count + 1, 4);
        pos += ((size_t)count + 1) * 4;
        uint32_t down = 0;
        for (uint32_t i = 0; i < count; i++)
            down |= off[i + 1] < off[i];
        if (down) goto err;
        if (heap[f]) memcpy(b->heap[f], buf + pos, heap[f]);
        pos += heap[f];
        b->heap_len[f] = heap[f];
    }
    b->count = count;
    return 0;
err:
    wr_batch_clear(b);
    for (uint32_t f = 0; f < b->schema.n; f++)
        if (s_is_str(b, f)) ((uint32_t *)b->col[f])[0] = 0;
    return rc;
}

int wr_batch_append_row(wr_batch_t *dst, const wr_batch_t *src, uint32_t i)
{
    assert(dst != src && dst->schema.n == src->schema.n && i < src->count);
    int rc = 0;
    if (dst->count >= dst->cap && (rc = wr_batch_reserve(dst, dst->count + 1)) != 0) return rc;
    for (uint32_t f = 0; rc == 0 && f < src->schema.n; f++) {
        assert(dst->schema.f[f].type == src->schema.f[f].type);
        if (s_is_str(src, f)) {
            uint32_t len;
            const char *s = wr_batch_str(src, (int)f, i, &len);
            rc = wr_batch_push_str(dst, (int)f, s, len);
        } else {
            ((int64_t *)dst->col[f])[dst->count] = ((const int64_t *)src->col[f])[i];
        }
    }
    if (rc) {
        for (uint32_t f = 0; f < dst->schema.n; f++) /* forget the strings already pushed */
            if (s_is_str(dst, f)) dst->heap_len[f] = ((uint32_t *)dst->col[f])[dst->count];
        return rc;
    }
    dst->count++;
    return 0;
}

#ifndef NDEBUG
/* Whether the records sel[0..n) (or 0..n) are in src and dst's fields have src's types. */
static bool s_rows_ok(const wr_batch_t *dst, const wr_batch_t *src, const uint32_t *sel, uint32_t n)
{
    for (uint32_t f = 0; f < src->schema.n; f++)
        if (dst->schema.f[f].type != src->schema.f[f].type) return false;
    if (!sel) return n <= src->count;
    for (uint32_t k = 0; k < n; k++)
        if (sel[k] >= src->count) return false;
    return true;
}
#endif

int wr_batch_append_rows(wr_batch_t *dst, const wr_batch_t *src, const uint32_t *sel, uint32_t n)
{
    assert(dst != src && dst->schema.n == src->schema.n);
    assert(s_rows_ok(dst, src, sel, n));
    if (!n) return 0;
    if (n > WR_BATCH_MAX - dst->count) return WR_ETOOBIG;
    const uint32_t at = dst->count;
    int rc = wr_batch_reserve(dst, at + n);
    for (uint32_t f = 0; rc == 0 && f < src->schema.n; f++) { /* string heaps: room first */
        if (!s_is_str(src, f)) continue;
        const uint32_t *so = src->col[f];
        uint64_t bytes = 0;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = sel ? sel[k] : k;
            bytes += so[i + 1] - so[i];
        }
        uint64_t from = ((const uint32_t *)dst->col[f])[at];
        if (bytes > UINT32_MAX - from)
            rc = WR_ETOOBIG;
        else
            rc = s_heap_reserve(dst, f, (size_t)(from + bytes));
    }
    if (rc) return rc;
    for (uint32_t f = 0; f < src->schema.n; f++) {
        if (!s_is_str(src, f)) {
            const int64_t *s = src->col[f];
            int64_t *d = (int64_t *)dst->col[f] + at;
            if (!sel) {
                memcpy(d, s, (size_t)n * 8);
                continue;
            }
            for (uint32_t k = 0; k < n; k++)
                d[k] = s[sel[k]];
            continue;
        }
        const uint32_t *so = src->col[f];
        uint32_t *d = (uint32_t *)dst->col[f] + at;
        const char *sh = src->heap[f];
        char *dh = dst->heap[f];
        uint32_t pos = d[0];
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = sel ? sel[k] : k, len = so[i + 1] - so[i];
            memcpy(dh + pos, sh + so[i], len);
            d[k + 1] = pos += len;
        }
        dst->heap_len[f] = pos;
    }
    dst->count = at + n;
    return 0;
}
