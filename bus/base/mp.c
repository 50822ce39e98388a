#include "bus/base/mp.h"

#include <string.h>

#include "bus/base/error.h"
#include "bus/base/strbuf.h"

static inline uint16_t s_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t s_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t s_be64(const uint8_t *p)
{
    return (uint64_t)s_be32(p) << 32 | s_be32(p + 4);
}

static inline int s_fail(wr_mp_reader_t *r, int err)
{
    if (!r->err) r->err = err;
    return r->err;
}

void wr_mp_reader_init(wr_mp_reader_t *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
    r->err = 0;
}

size_t wr_mp_remaining(const wr_mp_reader_t *r)
{
    return (size_t)(r->end - r->p);
}

/* clang-format off */
#define S_X4(k) k, k, k, k
#define S_X16(k) S_X4(k), S_X4(k), S_X4(k), S_X4(k)

/* Kind of the object each tag starts (0xc1, never used by msgpack, is WR_MP_INVALID). */
static const uint8_t s_kinds[256] = {
    S_X16(WR_MP_UINT), S_X16(WR_MP_UINT), S_X16(WR_MP_UINT), S_X16(WR_MP_UINT), /* fixint */
    S_X16(WR_MP_UINT), S_X16(WR_MP_UINT), S_X16(WR_MP_UINT), S_X16(WR_MP_UINT),
    S_X16(WR_MP_MAP),                                                     /* 0x80 fixmap */
    S_X16(WR_MP_ARRAY),                                                   /* 0x90 fixarray */
    S_X16(WR_MP_STR), S_X16(WR_MP_STR),                                   /* 0xa0 fixstr */
    WR_MP_NIL, WR_MP_INVALID, WR_MP_BOOL, WR_MP_BOOL,                     /* 0xc0 */
    WR_MP_BIN, WR_MP_BIN, WR_MP_BIN, WR_MP_EXT, WR_MP_EXT, WR_MP_EXT,     /* 0xc4 */
    WR_MP_FLOAT, WR_MP_FLOAT, S_X4(WR_MP_UINT), S_X4(WR_MP_INT),          /* 0xca */
    S_X4(WR_MP_EXT), WR_MP_EXT,                                           /* 0xd4 fixext */
    WR_MP_STR, WR_MP_STR, WR_MP_STR, WR_MP_ARRAY, WR_MP_ARRAY,            /* 0xd9 */
    WR_MP_MAP, WR_MP_MAP,                                                 /* 0xde */
    S_X16(WR_MP_INT), S_X16(WR_MP_INT),                                   /* 0xe0 negative fixint */
};

/* Bytes in the header that a tag starts (the tag included), for tags 0xc0..0xdf. */
static const uint8_t s_hdr_len[32] = {
    1, 1, 1, 1,    /* nil, (never used), false, true */
    2, 3, 5,       /* bin 8/16/32 */
    3, 4, 6,       /* ext 8/16/32: length, then the type byte */
    5, 9,          /* float 32/64 */
    2, 3, 5, 9,    /* uint 8..64 */
    2, 3, 5, 9,    /* int 8..64 */
    2, 2, 2, 2, 2, /* fixext 1..16: the type byte */
    2, 3, 5,       /* str 8/16/32 */
    3, 5,          /* array 16/32 */
    3, 5,          /* map 16/32 */
};
/* clang-format on */

static inline enum wr_mp_kind s_kind(uint8_t t)
{
    return (enum wr_mp_kind)s_kinds[t];
}

enum wr_mp_kind wr_mp_peek(const wr_mp_reader_t *r)
{
    if (r->err || r->p >= r->end) return WR_MP_INVALID;
    return s_kind(r->p[0]);
}

/* The size field of a variable-length header: 1, 2 or 4 bytes at p. */
static inline uint32_t s_size(const uint8_t *p, unsigned width)
{
    return width == 1 ? p[0] : width == 2 ? s_be16(p) : s_be32(p);
}

int wr_mp_read_obj(wr_mp_reader_t *r, wr_mp_obj_t *o)
{
    if (r->err) return r->err;
    const uint8_t *p = r->p;
    size_t avail = (size_t)(r->end - p);
    if (avail == 0) return s_fail(r, WR_EPROTO);
    uint8_t t = p[0];
    size_t hdr = 1;
    uint64_t body = 0;     /* bytes after the header that belong to this object */
    uint64_t min_rest = 0; /* array/map: the least number of bytes the elements need */

    o->kind = s_kind(t);
    o->n = 0;
    if (t >= 0xc0 && t <= 0xdf) {
        hdr = s_hdr_len[t - 0xc0];
        if (avail < hdr) return s_fail(r, WR_EPROTO);
    }
    switch (o->kind) {
    case WR_MP_NIL:
        break;
    case WR_MP_BOOL:
        o->v.b = t == 0xc3;
        break;
    case WR_MP_UINT:
        o->v.u = t <= 0x7f   ? t
                 : t == 0xcc ? p[1]
                 : t == 0xcd ? s_be16(p + 1)
                 : t == 0xce ? s_be32(p + 1)
                             : s_be64(p + 1);
        break;
    case WR_MP_INT:
        o->v.i = t >= 0xe0   ? (int8_t)t
                 : t == 0xd0 ? (int8_t)p[1]
                 : t == 0xd1 ? (int16_t)s_be16(p + 1)
                 : t == 0xd2 ? (int32_t)s_be32(p + 1)
                             : (int64_t)s_be64(p + 1);
        break;
    case WR_MP_FLOAT:
        o->f32 = t == 0xca;
        if (o->f32) {
            uint32_t bits = s_be32(p + 1);
            float f;
            memcpy(&f, &bits, sizeof f);
            o->v.f = f;
        } else {
            uint64_t bits = s_be64(p + 1);
            memcpy(&o->v.f, &bits, sizeof o->v.f);
        }
        break;
    case WR_MP_STR:
        o->n = t <= 0xbf ? (uint32_t)(t & 0x1f) : s_size(p + 1, 1u << (t - 0xd9));
        body = o->n;
        break;
    case WR_MP_BIN:
        o->n = s_size(p + 1, 1u << (t - 0xc4));
        body = o->n;
        break;
    case WR_MP_EXT:
        if (t >= 0xd4) {
            o->n = 1u << (t - 0xd4);
        } else {
            o->n = s_size(p + 1, 1u << (t - 0xc7));
        }
        o->ext_type = (int8_t)p[hdr - 1];
        body = o->n;
        break;
    case WR_MP_ARRAY:
        o->n = t <= 0x9f ? (uint32_t)(t & 0x0f) : s_size(p + 1, t == 0xdc ? 2 : 4);
        min_rest = o->n;
        break;
    case WR_MP_MAP:
        o->n = t <= 0x8f ? (uint32_t)(t & 0x0f) : s_size(p + 1, t == 0xde ? 2 : 4);
        min_rest = 2 * (uint64_t)o->n;
        break;
    case WR_MP_INVALID:
        return s_fail(r, WR_EPROTO);
    }
    if (body > avail - hdr || min_rest > avail - hdr) return s_fail(r, WR_EPROTO);
    o->data = p + hdr;
    r->p = p + hdr + body;
    return 0;
}

/* Reads the next object and requires its kind to be k. */
static inline int s_read_kind(wr_mp_reader_t *r, wr_mp_obj_t *o, enum wr_mp_kind k)
{
    int rc = wr_mp_read_obj(r, o);
    if (rc == 0 && o->kind != k) rc = s_fail(r, WR_EPROTO);
    return rc;
}

int wr_mp_read_nil(wr_mp_reader_t *r)
{
    wr_mp_obj_t o;
    return s_read_kind(r, &o, WR_MP_NIL);
}

int wr_mp_read_bool(wr_mp_reader_t *r, bool *v)
{
    wr_mp_obj_t o;
    int rc = s_read_kind(r, &o, WR_MP_BOOL);
    if (rc == 0) *v = o.v.b;
    return rc;
}

int wr_mp_read_uint(wr_mp_reader_t *r, uint64_t *v)
{
    wr_mp_obj_t o;
    if (!r->err && r->p < r->end && r->p[0] <= 0x7f) { /* positive fixint: most of our ints */
        *v = *r->p++;
        return 0;
    }
    int rc = wr_mp_read_obj(r, &o);
    if (rc) return rc;
    if (o.kind == WR_MP_UINT)
        *v = o.v.u;
    else if (o.kind == WR_MP_INT && o.v.i >= 0)
        *v = (uint64_t)o.v.i;
    else
        return s_fail(r, WR_EPROTO);
    return 0;
}

int wr_mp_read_int(wr_mp_reader_t *r, int64_t *v)
{
    wr_mp_obj_t o;
    int rc = wr_mp_read_obj(r, &o);
    if (rc) return rc;
    if (o.kind == WR_MP_INT)
        *v = o.v.i;
    else if (o.kind == WR_MP_UINT && o.v.u <= INT64_MAX)
        *v = (int64_t)o.v.u;
    else
        return s_fail(r, WR_EPROTO);
    return 0;
}

int wr_mp_read_double(wr_mp_reader_t *r, double *v)
{
    wr_mp_obj_t o;
    int rc = wr_mp_read_obj(r, &o);
    if (rc) return rc;
    if (o.kind == WR_MP_FLOAT)
        *v = o.v.f;
    else if (o.kind == WR_MP_UINT)
        *v = (double)o.v.u;
    else if (o.kind == WR_MP_INT)
        *v = (double)o.v.i;
    else
        return s_fail(r, WR_EPROTO);
    return 0;
}

int wr_mp_read_array(wr_mp_reader_t *r, uint32_t *n)
{
    wr_mp_obj_t o;
    int rc = s_read_kind(r, &o, WR_MP_ARRAY);
    if (rc == 0) *n = o.n;
    return rc;
}

int wr_mp_read_map(wr_mp_reader_t *r, uint32_t *n)
{
    wr_mp_obj_t o;
    int rc = s_read_kind(r, &o, WR_MP_MAP);
    if (rc == 0) *n = o.n;
    return rc;
}

int wr_mp_read_versioned_list(wr_mp_reader_t *r, uint64_t version, size_t min_entry_bytes,
                              uint32_t *n)
{
    uint32_t top = 0, count = 0;
    uint64_t v = 0;
    wr_mp_read_array(r, &top);
    if (!r->err && top != 2) return WR_EPROTO;
    wr_mp_read_uint(r, &v);
    if (!r->err && v != version) return WR_EVERSION;
    wr_mp_read_array(r, &count);
    if (r->err) return r->err;
    if (count > wr_mp_remaining(r) / min_entry_bytes) return WR_EPROTO;
    *n = count;
    return 0;
}

int wr_mp_read_str(wr_mp_reader_t *r, const char **s, uint32_t *len)
{
    wr_mp_obj_t o;
    int rc = s_read_kind(r, &o, WR_MP_STR);
    if (rc == 0) {
        *s = (const char *)o.data;
        *len = o.n;
    }
    return rc;
}

int wr_mp_read_str_copy(wr_mp_reader_t *r, char *dst, size_t cap)
{
    const char *s;
    uint32_t len;
    int rc = wr_mp_read_str(r, &s, &len);
    if (rc) return rc;
    if (len >= cap) return s_fail(r, WR_ETOOBIG);
    if (memchr(s, '\0', len)) return s_fail(r, WR_EPROTO);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

int wr_mp_read_bin(wr_mp_reader_t *r, const uint8_t **p, uint32_t *len)
{
    wr_mp_obj_t o;
    int rc = s_read_kind(r, &o, WR_MP_BIN);
    if (rc == 0) {
        *p = o.data;
        *len = o.n;
    }
    return rc;
}

int wr_mp_skip(wr_mp_reader_t *r)
{
    return wr__mp_skip_nested(r, 0);
}

int wr__mp_skip_nested(wr_mp_reader_t *r, int outer)
{
    uint64_t left[WR_MP_MAX_DEPTH]; /* objects still to skip in each open container */
    int depth = 0;
    wr_mp_obj_t o;
    if (outer < 0 || outer > WR_MP_MAX_DEPTH) return s_fail(r, WR_EINVAL);
    do {
        if (wr_mp_read_obj(r, &o)) return r->err;
        if (depth > 0) left[depth - 1]--;
        if (o.kind == WR_MP_ARRAY || o.kind == WR_MP_MAP) {
            if (outer + depth == WR_MP_MAX_DEPTH) return s_fail(r, WR_EPROTO);
            if (o.n > 0) left[depth++] = o.kind == WR_MP_MAP ? 2 * (uint64_t)o.n : o.n;
        }
        while (depth > 0 && left[depth - 1] == 0)
            depth--;
    } while (depth > 0);
    return 0;
}

int wr_pack_str(msgpack_packer *pk, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len > UINT32_MAX) return -1;
    int rc = msgpack_pack_str(pk, len);
    if (rc == 0 && len > 0) rc = msgpack_pack_str_body(pk, s, len);
    return rc;
}

int wr_pack_bin(msgpack_packer *pk, const void *p, size_t len)
{
    if (len > UINT32_MAX) return -1;
    int rc = msgpack_pack_bin(pk, len);
    if (rc == 0 && len > 0) rc = msgpack_pack_bin_body(pk, p, len);
    return rc;
}

int wr_pack_strbuf_write(void *data, const char *buf, size_t len)
{
    wr_strbuf_t *sb = data;
    wr_strbuf_add(sb, buf, len);
    return sb->failed ? -1 : 0;
}
