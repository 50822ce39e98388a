/* Split lists and their checkpoint state (split.h). */
#include "actors/connectors/split.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"

/* Smallest encoding of one split: fixarray, fixstr of one byte, fixint, bin8 of nothing. */
#define S_MIN_SPLIT_BYTES 6

static bool s_id_ok(const char *id, size_t len)
{
    return len > 0 && len < WR_SPLIT_ID_MAX && !memchr(id, '\0', len);
}

static int s_add(wr_splits_t *s, const char *id, size_t id_len, const void *pos, size_t pos_len,
                 int64_t event_time)
{
    if (!s_id_ok(id, id_len) || pos_len > WR_SPLIT_POSITION_MAX) return WR_EINVAL;
    if (s->n >= WR_SPLITS_MAX) return WR_ETOOBIG;
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? 2 * s->cap : 8;
        wr_split_t *v = realloc(s->v, cap * sizeof *v);
        if (!v) return WR_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    wr_split_t *sp = &s->v[s->n];
    *sp = (wr_split_t){.event_time = event_time};
    memcpy(sp->id, id, id_len);
    if (pos_len) {
        if (!(sp->pos = malloc(pos_len))) return WR_ENOMEM;
        memcpy(sp->pos, pos, pos_len);
        sp->pos_len = (uint32_t)pos_len;
    }
    s->n++;
    return 0;
}

int wr_splits_add(wr_splits_t *s, const char *id, const void *pos, size_t pos_len,
                  int64_t event_time)
{
    return s_add(s, id, strlen(id), pos, pos_len, event_time);
}

int wr_splits_set_position(wr_splits_t *s, uint32_t i, const void *pos, size_t pos_len)
{
    if (pos_len > WR_SPLIT_POSITION_MAX) return WR_EINVAL;
    uint8_t *p = pos_len ? malloc(pos_len) : NULL;
    if (pos_len && !p) return WR_ENOMEM;
    if (pos_len) memcpy(p, pos, pos_len);
    free(s->v[i].pos);
    s->v[i].pos = p;
    s->v[i].pos_len = (uint32_t)pos_len;
    return 0;
}

void wr_splits_remove(wr_splits_t *s, uint32_t i)
{
    free(s->v[i].pos);
    s->v[i] = s->v[--s->n];
}

void wr_splits_clear(wr_splits_t *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->v[i].pos);
    s->n = 0;
}

void wr_splits_release(wr_splits_t *s)
{
    wr_splits_clear(s);
    free(s->v);
    *s = (wr_splits_t){0};
}

void wr_splits_assign(wr_splits_t *s, uint32_t p)
{
    for (uint32_t k = 0; k < s->n; k++)
        s->v[k].subtask = p ? k % p : 0;
}

int wr_split_position_pack(const uint64_t *v, uint32_t n, wr_strbuf_t *out)
{
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, wr_pack_strbuf_write);
    int rc = msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; i < n && !rc; i++)
        rc = msgpack_pack_uint64(&pk, v[i]);
    if (!rc && !out->failed) return 0;
    wr_strbuf_truncate(out, start);
    out->failed = false;
    return WR_ENOMEM;
}

int wr_split_position_read(const wr_split_t *s, uint64_t *v, uint32_t n)
{
    wr_mp_reader_t r;
    uint32_t count = 0;
    if (!s->pos_len) return WR_EPROTO; /* not even an array */
    wr_mp_reader_init(&r, s->pos, s->pos_len);
    wr_mp_read_array(&r, &count);
    if (!r.err && count != n) return WR_EPROTO;
    for (uint32_t i = 0; i < n; i++)
        wr_mp_read_uint(&r, &v[i]);
    return r.err || wr_mp_remaining(&r) ? WR_EPROTO : 0;
}

int wr_splits_encode(const wr_splits_t *s, wr_strbuf_t *out)
{
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, wr_pack_strbuf_write);
    int rc = msgpack_pack_array(&pk, 2) | msgpack_pack_uint32(&pk, WR_SPLIT_STATE_VERSION) |
             msgpack_pack_array(&pk, s->n);
    for (uint32_t i = 0; i < s->n && !rc; i++)
        rc = msgpack_pack_array(&pk, 3) | wr_pack_str(&pk, s->v[i].id) |
             msgpack_pack_int64(&pk, s->v[i].event_time) |
             wr_pack_bin(&pk, s->v[i].pos, s->v[i].pos_len);
    if (!rc && !out->failed) return 0;
    wr_strbuf_truncate(out, start);
    out->failed = false;
    return WR_ENOMEM;
}

int wr_splits_decode(const uint8_t *data, size_t len, wr_splits_t *out)
{
    wr_mp_reader_t r;
    uint32_t count = 0, before = out->n;
    if (!len) return WR_EPROTO; /* (and data may be NULL) */
    wr_mp_reader_init(&r, data, len);
    int rc = wr_mp_read_versioned_list(&r, WR_SPLIT_STATE_VERSION, S_MIN_SPLIT_BYTES, &count);
    if (rc) return rc;
    for (uint32_t i = 0; i < count && !rc; i++) {
        uint32_t three = 0, id_len = 0, pos_len = 0;
        const char *id = NULL;
        const uint8_t *pos = NULL;
        int64_t event_time = 0;
        wr_mp_read_array(&r, &three);
        if (!r.err && three != 3) r.err = WR_EPROTO;
        wr_mp_read_str(&r, &id, &id_len);
        wr_mp_read_int(&r, &event_time);
        wr_mp_read_bin(&r, &pos, &pos_len);
        if (r.err) {
            rc = r.err;
            break;
        }
        rc = s_add(out, id, id_len, pos, pos_len, event_time);
        if (rc == WR_EINVAL) rc = WR_EPROTO;
    }
    if (!rc && wr_mp_remaining(&r)) rc = WR_EPROTO;
    if (rc) {
        while (out->n > before)
            wr_splits_remove(out, out->n - 1);
    }
    return rc;
}
