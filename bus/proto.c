/* The table-driven payload codec (bus/proto.h): one encoder and one strict decoder that walk a
 * declaration's descriptor table. */
#include "bus/proto.h"

#include <stdlib.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"

/* Every LIST and DICT member has this layout (WR_PROTO_TYPES), whatever its element type. */
typedef struct {
    void *v;
    uint32_t n;
} s_list_t;

static void s_list_get(const char *at, char **v, uint32_t *n)
{
    void *p;
    memcpy(&p, at + offsetof(s_list_t, v), sizeof p);
    memcpy(n, at + offsetof(s_list_t, n), sizeof *n);
    *v = p;
}

static void s_list_set(char *at, void *v, uint32_t n)
{
    memcpy(at + offsetof(s_list_t, v), &v, sizeof v);
    memcpy(at + offsetof(s_list_t, n), &n, sizeof n);
}

/* The fields before an ARRAY's optional tail. */
static uint32_t s_required(const wr_proto_struct_t *d)
{
    uint32_t i = 0;
    while (i < d->nfields && !(d->fields[i].flags & WR_PF_OPT))
        i++;
    return i;
}

/* Whether the DICT keys (field key, a STR or a STRV) of entries a and b are the same. */
static bool s_same_key(const wr_proto_field_t *key, const char *a, const char *b)
{
    if (key->kind == WR_PK_STR) return !strcmp(a + key->offset, b + key->offset);
    wr_strv_t x, y;
    memcpy(&x, a + key->offset, sizeof x);
    memcpy(&y, b + key->offset, sizeof y);
    return x.len == y.len && (!x.len || !memcmp(x.s, y.s, x.len));
}

/* ---- encoding ---- */

typedef struct {
    msgpack_packer *pk;
    bool named;                   /* every struct as a map with its field names */
    const wr_proto_field_t *head; /* this BIN is written without its bytes (wr_proto_encode_head) */
} s_enc_t;

static int s_enc_struct(const s_enc_t *e, const wr_proto_struct_t *d, const char *base);
static int s_enc_value(const s_enc_t *e, const wr_proto_field_t *f, const char *base);

/* msgpack-c answers -1 when its writer fails: an sbuffer that cannot grow. */
static int s_pk(int rc)
{
    return rc ? WR_ENOMEM : 0;
}

static int s_write(const s_enc_t *e, const void *p, size_t len)
{
    return len ? s_pk(e->pk->callback(e->pk->data, (const char *)p, len)) : 0;
}

/* Whether an OPT_ field holds its zero value (and so is left out). */
static bool s_zero(const wr_proto_field_t *f, const char *base)
{
    const char *at = base + f->offset;
    switch (f->kind) {
    case WR_PK_BOOL: {
        bool v;
        memcpy(&v, at, sizeof v);
        return !v;
    }
    case WR_PK_U32: {
        uint32_t v;
        memcpy(&v, at, sizeof v);
        return !v;
    }
    case WR_PK_U64: {
        uint64_t v;
        memcpy(&v, at, sizeof v);
        return !v;
    }
    case WR_PK_I64: {
        int64_t v;
        memcpy(&v, at, sizeof v);
        return !v;
    }
    case WR_PK_STR:
        return at[0] == '\0';
    case WR_PK_STRV: {
        wr_strv_t v;
        memcpy(&v, at, sizeof v);
        return !v.s;
    }
    case WR_PK_BIN:
    case WR_PK_RAW: {
        wr_bytes_t v;
        memcpy(&v, at, sizeof v);
        return !v.p;
    }
    default:
        return false; /* not a kind that may be optional */
    }
}

/* Whether field i of a struct of d at base is written: an OPT_ one when it is not zero, a WITH_
 * one when the field it goes with is written. */
static bool s_present(const wr_proto_struct_t *d, uint32_t i, const char *base)
{
    while (i > 0 && (d->fields[i].flags & WR_PF_WITH))
        i--;
    const wr_proto_field_t *f = &d->fields[i];
    return !(f->flags & WR_PF_OPT) || !s_zero(f, base);
}

/* Whether no WITH_ field of a struct of d at base holds a value that would not be written. */
static bool s_with_ok(const wr_proto_struct_t *d, const char *base)
{
    for (uint32_t i = 0; i < d->nfields; i++)
        if ((d->fields[i].flags & WR_PF_WITH) && !s_present(d, i, base) &&
            !s_zero(&d->fields[i], base))
            return false;
    return true;
}

static int s_enc_str(const s_enc_t *e, const void *s, size_t len)
{
    if (len && (!s || memchr(s, '\0', len))) return WR_EINVAL;
    if (len > UINT32_MAX) return WR_ETOOBIG;
    int rc = s_pk(msgpack_pack_str(e->pk, len));
    return rc ? rc : s_write(e, s, len);
}

static int s_enc_bin(const s_enc_t *e, const wr_proto_field_t *f, const uint8_t *p, size_t len)
{
    if (len && !p && e->head != f) return WR_EINVAL;
    if (len > UINT32_MAX) return WR_ETOOBIG;
    int rc;
    if (f->flags & WR_PF_FIX) {
        uint8_t h[5] = {0xc6, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                        (uint8_t)len};
        rc = s_write(e, h, sizeof h);
    } else {
        rc = s_pk(msgpack_pack_bin(e->pk, len));
    }
    return rc || e->head == f ? rc : s_write(e, p, len);
}

bool wr_proto_one_object(const uint8_t *p, size_t len)
{
    if (!len || !p) return false;
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, p, len);
    return wr_mp_skip(&r) == 0 && wr_mp_remaining(&r) == 0;
}

static int s_enc_list(const s_enc_t *e, const wr_proto_field_t *f, const char *at)
{
    const wr_proto_struct_t *sub = f->sub;
    char *v;
    uint32_t n;
    s_list_get(at, &v, &n);
    if (n > f->size) return WR_ETOOBIG;
    if (n && !v) return WR_EINVAL;
    bool dict = f->kind == WR_PK_DICT;
    int rc = s_pk(dict ? msgpack_pack_map(e->pk, n) : msgpack_pack_array(e->pk, n));
    for (uint32_t i = 0; !rc && i < n; i++) {
        const char *el = v + (size_t)i * sub->size;
        if (!dict) {
            rc = s_enc_struct(e, sub, el);
            continue;
        }
        for (uint32_t k = 0; k < i && !rc; k++) /* a key twice would not read back */
            if (s_same_key(&sub->fields[0], el, v + (size_t)k * sub->size)) rc = WR_EINVAL;
        if (!rc) rc = s_enc_value(e, &sub->fields[0], el);
        if (!rc) rc = s_enc_value(e, &sub->fields[1], el);
    }
    return rc;
}

static int s_enc_value(const s_enc_t *e, const wr_proto_field_t *f, const char *base)
{
    const char *at = base + f->offset;
    msgpack_packer *pk = e->pk;
    switch (f->kind) {
    case WR_PK_BOOL: {
        bool v;
        memcpy(&v, at, sizeof v);
        return s_pk(v ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    }
    case WR_PK_U32: {
        uint32_t v;
        memcpy(&v, at, sizeof v);
        return s_pk(f->flags & WR_PF_FIX ? msgpack_pack_fix_uint32(pk, v)
                                         : msgpack_pack_uint32(pk, v));
    }
    case WR_PK_U64: {
        uint64_t v;
        memcpy(&v, at, sizeof v);
        return s_pk(f->flags & WR_PF_FIX ? msgpack_pack_fix_uint64(pk, v)
                                         : msgpack_pack_uint64(pk, v));
    }
    case WR_PK_I32: {
        int32_t v;
        memcpy(&v, at, sizeof v);
        return s_pk(msgpack_pack_int32(pk, v));
    }
    case WR_PK_I64: {
        int64_t v;
        memcpy(&v, at, sizeof v);
        return s_pk(msgpack_pack_int64(pk, v));
    }
    case WR_PK_F64: {
        double v;
        memcpy(&v, at, sizeof v);
        return s_pk(msgpack_pack_double(pk, v));
    }
    case WR_PK_STR: {
        size_t n = strnlen(at, f->size);
        return n == f->size ? WR_EINVAL : s_enc_str(e, at, n);
    }
    case WR_PK_STRV: {
        wr_strv_t v;
        memcpy(&v, at, sizeof v);
        return s_enc_str(e, v.s, v.len);
    }
    case WR_PK_BIN: {
        wr_bytes_t v;
        memcpy(&v, at, sizeof v);
        return s_enc_bin(e, f, v.p, v.len);
    }
    case WR_PK_BINSTR: {
        wr_binstr_t v;
        memcpy(&v, at, sizeof v);
        return v.str ? s_enc_str(e, v.p, v.len) : s_enc_bin(e, f, v.p, v.len);
    }
    case WR_PK_RAW:
    case WR_PK_OPAQUE: {
        wr_bytes_t v;
        memcpy(&v, at, sizeof v);
        bool one = wr_proto_one_object(v.p, v.len);
        if (f->kind == WR_PK_RAW && !one) return WR_EINVAL;
        if (e->named && !one && v.len) return s_enc_bin(e, f, v.p, v.len); /* bytes, for humans */
        return s_write(e, v.p, v.len);
    }
    case WR_PK_STRUCT:
        return s_enc_struct(e, f->sub, at);
    case WR_PK_LIST:
    case WR_PK_DICT:
        return s_enc_list(e, f, at);
    }
    return WR_EINVAL;
}

static int s_enc_struct(const s_enc_t *e, const wr_proto_struct_t *d, const char *base)
{
    if (d->enc == WR_PROTO_BARE) return d->nfields ? s_enc_value(e, &d->fields[0], base) : 0;
    if (!s_with_ok(d, base)) return WR_EINVAL;
    bool map = d->enc == WR_PROTO_MAP || e->named;
    uint32_t n = 0, upto = d->nfields;
    if (map) {
        for (uint32_t i = 0; i < d->nfields; i++)
            n += s_present(d, i, base);
    } else { /* the optional tail: all of it when any of it is set, else none */
        n = upto = s_required(d);
        for (uint32_t i = upto; i < d->nfields; i++)
            if (s_present(d, i, base)) n = upto = d->nfields;
    }
    int rc = s_pk(map ? msgpack_pack_map(e->pk, n) : msgpack_pack_array(e->pk, n));
    for (uint32_t i = 0; !rc && i < upto; i++) {
        const wr_proto_field_t *f = &d->fields[i];
        if (map && !s_present(d, i, base)) continue;
        if (map) rc = s_enc_str(e, f->name, strlen(f->name));
        if (!rc) rc = s_enc_value(e, f, base);
    }
    return rc;
}

int wr_proto_encode(const wr_proto_struct_t *d, const void *p, msgpack_packer *pk)
{
    s_enc_t e = {pk, false, NULL};
    return s_enc_struct(&e, d, p);
}

static int s_pack(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *out, bool named)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    s_enc_t e = {&pk, named, NULL};
    size_t mark = out->size;
    int rc = s_enc_struct(&e, d, p);
    if (rc) out->size = mark;
    return rc;
}

int wr_proto_pack(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *out)
{
    return s_pack(d, p, out, false);
}

int wr_proto_pack_named(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *out)
{
    return s_pack(d, p, out, true);
}

/* A fixed buffer as a msgpack-c writer. */
typedef struct {
    uint8_t *buf;
    size_t cap, len;
} s_fixed_t;

static int s_fixed_write(void *data, const char *buf, size_t len)
{
    s_fixed_t *f = data;
    if (len > f->cap - f->len) return -1;
    memcpy(f->buf + f->len, buf, len);
    f->len += len;
    return 0;
}

int wr_proto_encode_head(const wr_proto_struct_t *d, const void *p, uint8_t *buf, size_t cap,
                         size_t *len)
{
    if (d->enc != WR_PROTO_ARRAY || !d->nfields || d->fields[d->nfields - 1].kind != WR_PK_BIN)
        return WR_EINVAL;
    s_fixed_t fixed = {buf, cap, 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &fixed, s_fixed_write);
    s_enc_t e = {&pk, false, &d->fields[d->nfields - 1]};
    int rc = s_enc_struct(&e, d, p);
    *len = fixed.len;
    return rc == WR_ENOMEM ? WR_ETOOBIG : rc;
}

/* ---- decoding ---- */

static int s_dec_struct(wr_mp_reader_t *r, const wr_proto_struct_t *d, char *base);
static int s_dec_value(wr_mp_reader_t *r, const wr_proto_field_t *f, char *base);

/* A str without NUL bytes. */
static int s_dec_str(wr_mp_reader_t *r, const char **s, size_t *len)
{
    uint32_t n = 0;
    if (wr_mp_read_str(r, s, &n)) return WR_EPROTO;
    *len = n;
    return memchr(*s, '\0', n) ? WR_EPROTO : 0;
}

static int s_dec_list(wr_mp_reader_t *r, const wr_proto_field_t *f, char *at)
{
    const wr_proto_struct_t *sub = f->sub;
    bool dict = f->kind == WR_PK_DICT;
    uint32_t n = 0;
    if (dict ? wr_mp_read_map(r, &n) : wr_mp_read_array(r, &n)) return WR_EPROTO;
    if (n > f->size) return WR_ETOOBIG;
    if (!n) return 0;
    char *v = calloc(n, sub->size);
    if (!v) return WR_ENOMEM;
    s_list_set(at, v, n); /* from now on the caller's release frees it */
    int rc = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        char *el = v + (size_t)i * sub->size;
        if (!dict) {
            rc = s_dec_struct(r, sub, el);
            continue;
        }
        rc = s_dec_value(r, &sub->fields[0], el);
        for (uint32_t k = 0; k < i && !rc; k++)
            if (s_same_key(&sub->fields[0], el, v + (size_t)k * sub->size)) rc = WR_EPROTO;
        if (!rc) rc = s_dec_value(r, &sub->fields[1], el);
    }
    return rc;
}

static int s_dec_value(wr_mp_reader_t *r, const wr_proto_field_t *f, char *base)
{
    char *at = base + f->offset;
    switch (f->kind) {
    case WR_PK_BOOL: {
        bool v = false;
        if (wr_mp_read_bool(r, &v)) return WR_EPROTO;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case WR_PK_U32:
    case WR_PK_U64: {
        uint64_t v = 0;
        if (wr_mp_read_uint(r, &v) || (f->kind == WR_PK_U32 && v > UINT32_MAX)) return WR_EPROTO;
        if (f->kind == WR_PK_U64) {
            memcpy(at, &v, sizeof v);
        } else {
            uint32_t v32 = (uint32_t)v;
            memcpy(at, &v32, sizeof v32);
        }
        return 0;
    }
    case WR_PK_I32:
    case WR_PK_I64: {
        int64_t v = 0;
        if (wr_mp_read_int(r, &v) || (f->kind == WR_PK_I32 && (v < INT32_MIN || v > INT32_MAX)))
            return WR_EPROTO;
        if (f->kind == WR_PK_I64) {
            memcpy(at, &v, sizeof v);
        } else {
            int32_t v32 = (int32_t)v;
            memcpy(at, &v32, sizeof v32);
        }
        return 0;
    }
    case WR_PK_F64: {
        double v = 0;
        if (wr_mp_read_double(r, &v)) return WR_EPROTO;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case WR_PK_STR: {
        const char *s;
        size_t len;
        int rc = s_dec_str(r, &s, &len);
        if (rc) return rc;
        if (len >= f->size) return WR_ETOOBIG;
        memcpy(at, s, len);
        at[len] = '\0';
        return 0;
    }
    case WR_PK_STRV: {
        wr_strv_t v;
        int rc = s_dec_str(r, &v.s, &v.len);
        if (!rc) memcpy(at, &v, sizeof v);
        return rc;
    }
    case WR_PK_BIN: {
        wr_bytes_t v;
        uint32_t n = 0;
        if (wr_mp_read_bin(r, &v.p, &n)) return WR_EPROTO;
        v.len = n;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case WR_PK_BINSTR: {
        wr_binstr_t v = {.str = wr_mp_peek(r) == WR_MP_STR};
        uint32_t n = 0;
        const char *s = NULL;
        int rc = v.str ? s_dec_str(r, &s, &v.len) : wr_mp_read_bin(r, &v.p, &n) ? WR_EPROTO : 0;
        if (v.str)
            v.p = (const uint8_t *)s;
        else
            v.len = n;
        if (!rc) memcpy(at, &v, sizeof v);
        return rc;
    }
    case WR_PK_RAW: {
        wr_bytes_t v = {r->p, 0};
        if (wr_mp_skip(r)) return WR_EPROTO;
        v.len = (size_t)(r->p - v.p);
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case WR_PK_OPAQUE: {
        wr_bytes_t v = {r->p, wr_mp_remaining(r)};
        r->p = r->end;
        memcpy(at, &v, sizeof v);
        return 0;
    }
    case WR_PK_STRUCT:
        return s_dec_struct(r, f->sub, at);
    case WR_PK_LIST:
    case WR_PK_DICT:
        return s_dec_list(r, f, at);
    }
    return WR_EPROTO;
}

/* The field of d named by key (len bytes), or -1. */
static int s_field_named(const wr_proto_struct_t *d, const char *key, size_t len)
{
    for (uint32_t i = 0; i < d->nfields; i++)
        if (!strncmp(d->fields[i].name, key, len) && d->fields[i].name[len] == '\0') return (int)i;
    return -1;
}

static int s_dec_map(wr_mp_reader_t *r, const wr_proto_struct_t *d, char *base)
{
    uint32_t n = 0;
    uint64_t seen = 0; /* declarations have at most 64 fields (tests/test_proto.c) */
    if (wr_mp_read_map(r, &n)) return WR_EPROTO;
    int rc = 0;
    for (uint32_t k = 0; !rc && k < n; k++) {
        const char *key;
        size_t len;
        rc = s_dec_str(r, &key, &len);
        int i = rc ? -1 : s_field_named(d, key, len);
        if (i < 0 || (seen >> i & 1)) rc = WR_EPROTO; /* not a field, or a field twice */
        if (!rc) rc = s_dec_value(r, &d->fields[i], base);
        if (!rc) seen |= 1ull << i;
    }
    for (uint32_t i = 0; !rc && i < d->nfields; i++) {
        if (!(seen >> i & 1) && !(d->fields[i].flags & WR_PF_OPT)) rc = WR_EPROTO;
        if (i && (d->fields[i].flags & WR_PF_WITH) && (seen >> i & 1) != (seen >> (i - 1) & 1))
            rc = WR_EPROTO; /* a WITH_ field without the one it goes with, or the reverse */
    }
    return rc || s_with_ok(d, base) ? rc : WR_EPROTO;
}

static int s_dec_struct(wr_mp_reader_t *r, const wr_proto_struct_t *d, char *base)
{
    if (d->enc == WR_PROTO_MAP) return s_dec_map(r, d, base);
    if (d->enc == WR_PROTO_BARE) {
        if (d->nfields) return s_dec_value(r, &d->fields[0], base);
        return wr_mp_remaining(r) && wr_mp_read_nil(r) ? WR_EPROTO : 0; /* empty, or one nil */
    }
    uint32_t n = 0;
    if (wr_mp_read_array(r, &n) || (n != d->nfields && n != s_required(d))) return WR_EPROTO;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < n; i++)
        rc = s_dec_value(r, &d->fields[i], base);
    return rc || s_with_ok(d, base) ? rc : WR_EPROTO;
}

int wr_proto_decode(const wr_proto_struct_t *d, const void *buf, size_t len, void *p)
{
    static const uint8_t empty;
    memset(p, 0, d->size);
    if (!buf && len) return WR_EINVAL;
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf ? buf : &empty, len); /* (an empty sbuffer's data is NULL) */
    int rc = s_dec_struct(&r, d, p);
    if (!rc && wr_mp_remaining(&r)) rc = WR_EPROTO; /* trailing bytes */
    if (rc) {
        wr_proto_release(d, p);
        memset(p, 0, d->size);
    }
    return rc;
}

/* ---- releasing ---- */

static void s_release(const wr_proto_struct_t *d, char *base)
{
    for (uint32_t i = 0; i < d->nfields; i++) {
        const wr_proto_field_t *f = &d->fields[i];
        char *at = base + f->offset;
        if (f->kind == WR_PK_STRUCT) s_release(f->sub, at);
        if (f->kind != WR_PK_LIST && f->kind != WR_PK_DICT) continue;
        char *v;
        uint32_t n;
        s_list_get(at, &v, &n);
        for (uint32_t k = 0; v && k < n; k++)
            s_release(f->sub, v + (size_t)k * f->sub->size);
        free(v);
        s_list_set(at, NULL, 0);
    }
}

void wr_proto_release(const wr_proto_struct_t *d, void *p)
{
    if (p) s_release(d, p);
}
