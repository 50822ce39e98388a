#include "state/ckpt_meta.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"

static const char s_magic[4] = {'W', 'R', 'C', 'K'};

/* Smallest msgpack encodings, to bound counts read from untrusted input before allocating. */
#define S_MIN_TASK_BYTES 7 /* fixarray, five fixints, fixarray */
#define S_MIN_BLOB_BYTES 5 /* fixarray, fixstr(1), fixint, bin8(0) */

static char *s_strndup(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static void s_blob_release(wr_ckpt_blob_t *b)
{
    free(b->name);
    free(b->data);
    free(b->file);
    free(b->path);
}

static void s_task_release(wr_ckpt_task_t *t)
{
    for (uint32_t i = 0; i < t->nblobs; i++)
        s_blob_release(&t->blobs[i]);
    free(t->blobs);
}

wr_ckpt_meta_t *wr_ckpt_meta_new(const char *job, uint64_t id, wr_ckpt_kind_t kind)
{
    wr_ckpt_meta_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->job = strdup(job ? job : "");
    if (!m->job) {
        free(m);
        return NULL;
    }
    m->id = id;
    m->kind = kind;
    return m;
}

void wr_ckpt_meta_destroy(wr_ckpt_meta_t **p)
{
    if (!p || !*p) return;
    wr_ckpt_meta_t *m = *p;
    for (uint32_t i = 0; i < m->ntasks; i++)
        s_task_release(&m->tasks[i]);
    free(m->tasks);
    free(m->job);
    free(m);
    *p = NULL;
}

bool wr_ckpt_name_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > WR_CKPT_NAME_MAX || s[0] == '.') return false;
    return !memchr(s, '/', len) && !memchr(s, '\0', len);
}

static bool s_blob_valid(const wr_ckpt_blob_t *b)
{
    size_t nlen = b->name ? strlen(b->name) : 0;
    if (nlen == 0 || nlen > WR_CKPT_NAME_MAX) return false;
    if (b->kind == WR_CKPT_BLOB_INLINE) return b->len == 0 || b->data;
    if (b->kind != WR_CKPT_BLOB_EXCLUSIVE && b->kind != WR_CKPT_BLOB_SHARED) return false;
    if (!b->file || !wr_ckpt_name_valid(b->file, strlen(b->file))) return false;
    return b->kind == WR_CKPT_BLOB_SHARED || strcmp(b->file, WR_CKPT_METADATA_FILE) != 0;
}

static bool s_task_valid(const wr_ckpt_task_t *t)
{
    if (t->parallelism == 0 || t->subtask >= t->parallelism || t->kg_lo > t->kg_hi) return false;
    if (t->nblobs > 0 && !t->blobs) return false;
    for (uint32_t i = 0; i < t->nblobs; i++)
        if (!s_blob_valid(&t->blobs[i])) return false;
    return true;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Every rule of the header comment, over the whole meta. WR_EINVAL, or WR_ENOMEM. */
static int s_meta_check(const wr_ckpt_meta_t *m)
{
    if (!m->job || !wr_ckpt_name_valid(m->job, strlen(m->job))) return WR_EINVAL;
    if (m->kind != WR_CKPT_CHECKPOINT && m->kind != WR_CKPT_SAVEPOINT) return WR_EINVAL;
    if (m->ntasks == 0) return 0;
    uint64_t *keys = malloc(m->ntasks * sizeof *keys);
    if (!keys) return WR_ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < m->ntasks && !rc; i++) {
        if (!s_task_valid(&m->tasks[i])) rc = WR_EINVAL;
        keys[i] = (uint64_t)m->tasks[i].vertex << 32 | m->tasks[i].subtask;
    }
    if (!rc) qsort(keys, m->ntasks, sizeof *keys, s_cmp_u64);
    for (uint32_t i = 1; i < m->ntasks && !rc; i++)
        if (keys[i] == keys[i - 1]) rc = WR_EINVAL;
    free(keys);
    return rc;
}

const wr_ckpt_task_t *wr_ckpt_meta_task(const wr_ckpt_meta_t *m, uint32_t vertex, uint32_t subtask)
{
    for (uint32_t i = 0; i < m->ntasks; i++)
        if (m->tasks[i].vertex == vertex && m->tasks[i].subtask == subtask) return &m->tasks[i];
    return NULL;
}

static int s_blob_copy(wr_ckpt_blob_t *d, const wr_ckpt_blob_t *s, bool with_path)
{
    *d = (wr_ckpt_blob_t){.kind = s->kind, .len = s->len, .size = s->size};
    d->name = strdup(s->name);
    bool ok = d->name != NULL;
    if (s->kind == WR_CKPT_BLOB_INLINE && s->len > 0) {
        d->data = malloc(s->len);
        if (d->data) memcpy(d->data, s->data, s->len);
        ok = ok && d->data;
    }
    if (s->file) ok = ok && (d->file = strdup(s->file));
    if (with_path && s->path) ok = ok && (d->path = strdup(s->path));
    if (!ok) s_blob_release(d);
    return ok ? 0 : WR_ENOMEM;
}

static int s_task_copy(wr_ckpt_task_t *d, const wr_ckpt_task_t *s, bool with_path)
{
    *d = *s;
    d->blobs = NULL;
    d->nblobs = 0;
    if (s->nblobs > 0 && !(d->blobs = calloc(s->nblobs, sizeof *d->blobs))) return WR_ENOMEM;
    for (; d->nblobs < s->nblobs; d->nblobs++) {
        if (s_blob_copy(&d->blobs[d->nblobs], &s->blobs[d->nblobs], with_path)) {
            s_task_release(d);
            return WR_ENOMEM;
        }
    }
    return 0;
}

/* Room for one more task; the caller fills tasks[ntasks] and then increments ntasks. */
static int s_reserve_task(wr_ckpt_meta_t *m)
{
    if (m->ntasks == UINT32_MAX) return WR_ETOOBIG;
    wr_ckpt_task_t *t = realloc(m->tasks, ((size_t)m->ntasks + 1) * sizeof *t);
    if (!t) return WR_ENOMEM;
    m->tasks = t;
    return 0;
}

int wr_ckpt_meta_add_task(wr_ckpt_meta_t *m, const wr_ckpt_task_t *t)
{
    if (!s_task_valid(t)) return WR_EINVAL;
    if (wr_ckpt_meta_task(m, t->vertex, t->subtask)) return WR_EEXIST;
    int rc = s_reserve_task(m);
    if (!rc) rc = s_task_copy(&m->tasks[m->ntasks], t, false);
    if (!rc) m->ntasks++;
    return rc;
}

wr_ckpt_meta_t *wr_ckpt_meta_dup(const wr_ckpt_meta_t *m)
{
    wr_ckpt_meta_t *d = wr_ckpt_meta_new(m->job, m->id, m->kind);
    if (!d) return NULL;
    d->trigger_ms = m->trigger_ms;
    d->complete_ms = m->complete_ms;
    d->incremental_size = m->incremental_size;
    for (uint32_t i = 0; i < m->ntasks; i++) {
        if (s_reserve_task(d) || s_task_copy(&d->tasks[d->ntasks], &m->tasks[i], true)) {
            wr_ckpt_meta_destroy(&d);
            return NULL;
        }
        d->ntasks++;
    }
    return d;
}

uint64_t wr_ckpt_meta_full_size(const wr_ckpt_meta_t *m)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < m->ntasks; i++)
        for (uint32_t j = 0; j < m->tasks[i].nblobs; j++) {
            const wr_ckpt_blob_t *b = &m->tasks[i].blobs[j];
            sum += b->kind == WR_CKPT_BLOB_INLINE ? b->len : b->size;
        }
    return sum;
}

uint32_t wr_ckpt_crc32(const void *buf, size_t len)
{
    /* Nibble table of the reflected polynomial 0xEDB88320: small, const, fast enough for
     * metadata. */
    static const uint32_t tab[16] = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
                                     0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
                                     0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                                     0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    const uint8_t *p = buf;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ tab[crc & 15];
        crc = (crc >> 4) ^ tab[crc & 15];
    }
    return ~crc;
}

static void s_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t s_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int s_sb_write(void *data, const char *buf, size_t len)
{
    wr_strbuf_t *sb = data;
    wr_strbuf_add(sb, buf, len);
    return sb->failed ? -1 : 0;
}

static int s_pack_blob(msgpack_packer *pk, const wr_ckpt_blob_t *b)
{
    bool inl = b->kind == WR_CKPT_BLOB_INLINE;
    int rc = msgpack_pack_array(pk, inl ? 3 : 4);
    rc = rc || wr_pack_str(pk, b->name) || msgpack_pack_uint32(pk, (uint32_t)b->kind);
    if (inl) return rc || wr_pack_bin(pk, b->data, b->len);
    return rc || wr_pack_str(pk, b->file) || msgpack_pack_uint64(pk, b->size);
}

static int s_pack_task(msgpack_packer *pk, const wr_ckpt_task_t *t)
{
    int rc = msgpack_pack_array(pk, 6) || msgpack_pack_uint32(pk, t->vertex) ||
             msgpack_pack_uint32(pk, t->subtask) || msgpack_pack_uint32(pk, t->parallelism) ||
             msgpack_pack_uint32(pk, t->kg_lo) || msgpack_pack_uint32(pk, t->kg_hi) ||
             msgpack_pack_array(pk, t->nblobs);
    for (uint32_t i = 0; i < t->nblobs && !rc; i++)
        rc = s_pack_blob(pk, &t->blobs[i]);
    return rc;
}

int wr_ckpt_meta_encode(const wr_ckpt_meta_t *m, wr_strbuf_t *out)
{
    int rc = s_meta_check(m);
    if (rc) return rc;
    size_t start = out->len;
    uint8_t hdr[WR_CKPT_META_HDR] = {0};
    wr_strbuf_add(out, hdr, sizeof hdr);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, s_sb_write);
    int prc = msgpack_pack_array(&pk, 7) || wr_pack_str(&pk, m->job) ||
              msgpack_pack_uint64(&pk, m->id) || msgpack_pack_uint32(&pk, (uint32_t)m->kind) ||
              msgpack_pack_int64(&pk, m->trigger_ms) || msgpack_pack_int64(&pk, m->complete_ms) ||
              msgpack_pack_uint64(&pk, m->incremental_size) || msgpack_pack_array(&pk, m->ntasks);
    for (uint32_t i = 0; i < m->ntasks && !prc; i++)
        prc = s_pack_task(&pk, &m->tasks[i]);
    size_t plen = out->len - start - WR_CKPT_META_HDR;
    if (prc || out->failed) {
        rc = out->failed ? WR_ENOMEM : WR_ETOOBIG; /* msgpack-c fails on a length over 2^32 */
    } else if (plen > WR_CKPT_META_MAX - WR_CKPT_META_HDR) {
        rc = WR_ETOOBIG;
    } else {
        uint8_t *h = (uint8_t *)out->buf + start;
        memcpy(h, s_magic, 4);
        s_put_be32(h + 4, WR_CKPT_META_VERSION);
        s_put_be32(h + 8, (uint32_t)plen);
        s_put_be32(h + 12, wr_ckpt_crc32(h + WR_CKPT_META_HDR, plen));
    }
    if (rc) {
        wr_strbuf_truncate(out, start);
        out->failed = false;
    }
    return rc;
}

/* A string as a new NUL-terminated copy: WR_EPROTO if it holds a NUL byte. */
static int s_read_strdup(wr_mp_reader_t *r, char **out)
{
    const char *s = NULL;
    uint32_t len = 0;
    if (wr_mp_read_str(r, &s, &len)) return r->err;
    if (memchr(s, '\0', len)) return r->err = WR_EPROTO;
    if (!(*out = s_strndup(s, len))) return r->err = WR_ENOMEM;
    return 0;
}

static int s_read_u32(wr_mp_reader_t *r, uint32_t *v)
{
    uint64_t u = 0;
    if (wr_mp_read_uint(r, &u)) return r->err;
    if (u > UINT32_MAX) return r->err = WR_EPROTO;
    *v = (uint32_t)u;
    return 0;
}

static int s_read_blob(wr_mp_reader_t *r, wr_ckpt_blob_t *b)
{
    uint32_t n = 0, kind = 0;
    wr_mp_read_array(r, &n);
    s_read_strdup(r, &b->name);
    s_read_u32(r, &kind);
    if (r->err) return r->err;
    b->kind = (wr_ckpt_blob_kind_t)kind;
    if (kind == WR_CKPT_BLOB_INLINE && n == 3) {
        const uint8_t *p = NULL;
        uint32_t len = 0;
        if (wr_mp_read_bin(r, &p, &len)) return r->err;
        if (len > 0 && !(b->data = malloc(len))) return r->err = WR_ENOMEM;
        if (len > 0) memcpy(b->data, p, len);
        b->len = len;
        return 0;
    }
    if ((kind != WR_CKPT_BLOB_EXCLUSIVE && kind != WR_CKPT_BLOB_SHARED) || n != 4)
        return r->err = WR_EPROTO;
    s_read_strdup(r, &b->file);
    wr_mp_read_uint(r, &b->size);
    return r->err;
}

static int s_read_task(wr_mp_reader_t *r, wr_ckpt_task_t *t)
{
    uint32_t n = 0, nb = 0;
    wr_mp_read_array(r, &n);
    if (!r->err && n != 6) return r->err = WR_EPROTO;
    s_read_u32(r, &t->vertex);
    s_read_u32(r, &t->subtask);
    s_read_u32(r, &t->parallelism);
    s_read_u32(r, &t->kg_lo);
    s_read_u32(r, &t->kg_hi);
    wr_mp_read_array(r, &nb);
    if (r->err) return r->err;
    if (nb > wr_mp_remaining(r) / S_MIN_BLOB_BYTES) return r->err = WR_EPROTO;
    if (nb > 0 && !(t->blobs = calloc(nb, sizeof *t->blobs))) return r->err = WR_ENOMEM;
    /* count each blob before reading it, so that a failure frees what was allocated */
    for (; t->nblobs < nb && !r->err; t->nblobs++)
        s_read_blob(r, &t->blobs[t->nblobs]);
    return r->err;
}

static int s_read_meta(wr_mp_reader_t *r, wr_ckpt_meta_t *m)
{
    uint32_t n = 0, kind = 0, nt = 0;
    wr_mp_read_array(r, &n);
    if (!r->err && n != 7) return r->err = WR_EPROTO;
    s_read_strdup(r, &m->job);
    wr_mp_read_uint(r, &m->id);
    s_read_u32(r, &kind);
    wr_mp_read_int(r, &m->trigger_ms);
    wr_mp_read_int(r, &m->complete_ms);
    wr_mp_read_uint(r, &m->incremental_size);
    wr_mp_read_array(r, &nt);
    if (r->err) return r->err;
    m->kind = (wr_ckpt_kind_t)kind;
    if (nt > wr_mp_remaining(r) / S_MIN_TASK_BYTES) return r->err = WR_EPROTO;
    if (nt > 0 && !(m->tasks = calloc(nt, sizeof *m->tasks))) return r->err = WR_ENOMEM;
    for (; m->ntasks < nt && !r->err; m->ntasks++)
        s_read_task(r, &m->tasks[m->ntasks]);
    if (!r->err && wr_mp_remaining(r) > 0) r->err = WR_EPROTO;
    return r->err;
}

int wr_ckpt_meta_decode(const void *buf, size_t len, wr_ckpt_meta_t **out)
{
    *out = NULL;
    const uint8_t *p = buf;
    if (len > WR_CKPT_META_MAX) return WR_ETOOBIG;
    if (len < WR_CKPT_META_HDR || memcmp(p, s_magic, 4) != 0) return WR_EPROTO;
    if (s_get_be32(p + 4) != WR_CKPT_META_VERSION) return WR_EVERSION;
    size_t plen = len - WR_CKPT_META_HDR;
    if (s_get_be32(p + 8) != plen || s_get_be32(p + 12) != wr_ckpt_crc32(p + 16, plen))
        return WR_EPROTO;

    wr_ckpt_meta_t *m = calloc(1, sizeof *m);
    if (!m) return WR_ENOMEM;
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, p + WR_CKPT_META_HDR, plen);
    int rc = s_read_meta(&r, m);
    if (!rc) {
        rc = s_meta_check(m);
        if (rc == WR_EINVAL) rc = WR_EPROTO; /* a broken rule in a file is a malformed file */
    }
    if (rc)
        wr_ckpt_meta_destroy(&m);
    else
        *out = m;
    return rc;
}
