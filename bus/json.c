#include "bus/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"

/* One rendering into one buffer. Non-string map keys are rendered into a buffer of their own
 * first, so there may be a few of these on the stack at once. */
struct s_json {
    wr_mp_reader_t *r;
    wr_strbuf_t *out;
    size_t start; /* out->len when this rendering began */
    size_t limit; /* out->len beyond which the output is cut */
    bool cut;
};

static int s_value(struct s_json *j, int depth);

static size_t s_room(const struct s_json *j)
{
    return j->out->len < j->limit ? j->limit - j->out->len : 0;
}

/* Input bytes worth rendering when in_bytes of them take at least out_bytes of output: a little
 * more than fits in the room left, so that anything longer is still seen to overflow and cut. */
static size_t s_clamp(const struct s_json *j, size_t n, size_t in_bytes, size_t out_bytes)
{
    size_t want = s_room(j) / out_bytes * in_bytes;
    return want < n && n - want > 8 ? want + 8 : n;
}

/* Cuts the output at the limit (never inside a UTF-8 sequence) and marks the rendering done. */
static void s_cut(struct s_json *j)
{
    wr_strbuf_t *out = j->out;
    size_t n = out->len < j->limit ? out->len : j->limit;
    while (n > j->start && n < out->len && ((uint8_t)out->buf[n] & 0xc0) == 0x80)
        n--;
    wr_strbuf_truncate(out, n);
    wr_strbuf_adds(out, "...");
    j->cut = true;
}

/* After each append: out of memory is an error, past the limit ends the rendering. */
static int s_check(struct s_json *j)
{
    if (j->out->failed) return WR_ENOMEM;
    if (j->out->len > j->limit) s_cut(j);
    return j->out->failed ? WR_ENOMEM : 0;
}

static void s_base64(wr_strbuf_t *sb, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!wr_strbuf_grow(sb, (n + 2) / 3 * 4)) return;
    char *o = sb->buf + sb->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    sb->len = (size_t)(o - sb->buf);
    sb->buf[sb->len] = '\0';
}

/* Shortest text that reads back as the same value, with a ".0" so that it stays a float. */
static void s_double(wr_strbuf_t *sb, double d, bool f32)
{
    char buf[40];
    if (!isfinite(d)) {
        wr_strbuf_adds(sb, "null");
        return;
    }
    for (int prec = f32 ? 6 : 15;; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (prec >= (f32 ? 9 : 17)) break;
        if (f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    for (char *c = buf; *c; c++)
        if (*c == ',') /* a locale's decimal comma */
            *c = '.';
    wr_strbuf_adds(sb, buf);
    if (!strpbrk(buf, ".e")) wr_strbuf_adds(sb, ".0");
}

/* Longest text of a non-string key: keys nested in keys are escaped once per level, so their
 * text must be bounded even when the output is not. */
#define S_KEY_MAX 1024

/* A map key that is not a string: its JSON text, as a JSON string. */
static int s_key(struct s_json *j, int depth)
{
    wr_mp_reader_t kr = *j->r;
    if (wr__mp_skip_nested(j->r, depth)) return WR_EPROTO;
    kr.end = j->r->p;

    wr_strbuf_t text;
    wr_strbuf_init(&text);
    size_t room = s_room(j);
    struct s_json k = {&kr, &text, 0, room < S_KEY_MAX ? room : S_KEY_MAX, false};
    int rc = s_value(&k, depth);
    if (rc == 0 && text.failed) rc = WR_ENOMEM;
    if (rc == 0) {
        wr_strbuf_add_json_str(j->out, text.buf, s_clamp(j, text.len, 1, 1));
        rc = s_check(j);
        if (rc == 0 && k.cut && room <= S_KEY_MAX && !j->cut)
            s_cut(j); /* the key itself ran into our limit */
    }
    wr_strbuf_release(&text);
    return rc;
}

static int s_container(struct s_json *j, const wr_mp_obj_t *o, int depth)
{
    bool map = o->kind == WR_MP_MAP;
    int rc = 0;
    if (depth >= WR_MP_MAX_DEPTH) return WR_EPROTO;
    /* Every append is checked before the next read, so that the cap holds even when the input
     * turns out to be malformed further on. */
    wr_strbuf_addc(j->out, map ? '{' : '[');
    rc = s_check(j);
    for (uint32_t i = 0; i < o->n && rc == 0 && !j->cut; i++) {
        if (i > 0) {
            wr_strbuf_addc(j->out, ',');
            if ((rc = s_check(j)) != 0 || j->cut) break;
        }
        if (map) {
            if (wr_mp_peek(j->r) == WR_MP_STR)
                rc = s_value(j, depth + 1);
            else
                rc = s_key(j, depth + 1);
            if (rc || j->cut) break;
            wr_strbuf_addc(j->out, ':');
            if ((rc = s_check(j)) != 0 || j->cut) break;
        }
        rc = s_value(j, depth + 1);
    }
    if (rc == 0 && !j->cut) {
        wr_strbuf_addc(j->out, map ? '}' : ']');
        rc = s_check(j);
    }
    return rc;
}

/* Renders the next object, whose enclosing containers number `depth`. */
static int s_value(struct s_json *j, int depth)
{
    wr_strbuf_t *out = j->out;
    wr_mp_obj_t o;
    if (wr_mp_read_obj(j->r, &o)) return WR_EPROTO;
    switch (o.kind) {
    case WR_MP_NIL:
        wr_strbuf_adds(out, "null");
        break;
    case WR_MP_BOOL:
        wr_strbuf_adds(out, o.v.b ? "true" : "false");
        break;
    case WR_MP_UINT:
        wr_strbuf_addf(out, "%" PRIu64, o.v.u);
        break;
    case WR_MP_INT:
        wr_strbuf_addf(out, "%" PRId64, o.v.i);
        break;
    case WR_MP_FLOAT:
        s_double(out, o.v.f, o.f32);
        break;
    case WR_MP_STR:
        wr_strbuf_add_json_str(out, (const char *)o.data, s_clamp(j, o.n, 1, 1));
        break;
    case WR_MP_BIN:
        wr_strbuf_adds(out, "\"base64:");
        s_base64(out, o.data, s_clamp(j, o.n, 3, 4));
        wr_strbuf_addc(out, '"');
        break;
    case WR_MP_EXT:
        wr_strbuf_addf(out, "{\"ext\":%d,\"base64\":\"", o.ext_type);
        s_base64(out, o.data, s_clamp(j, o.n, 3, 4));
        wr_strbuf_adds(out, "\"}");
        break;
    case WR_MP_ARRAY:
    case WR_MP_MAP:
        return s_container(j, &o, depth);
    case WR_MP_INVALID:
        return WR_EPROTO;
    }
    return s_check(j);
}

int wr_mp_to_json(const uint8_t *buf, size_t len, size_t max_out, wr_strbuf_t *out)
{
    wr_mp_reader_t r;
    size_t start = out->len;
    struct s_json j = {&r, out, start, max_out < SIZE_MAX - start ? start + max_out : SIZE_MAX,
                       false};
    int rc = 0;

    wr_mp_reader_init(&r, buf, len);
    if (len == 0) {
        wr_strbuf_adds(out, "null");
        return s_check(&j);
    }
    wr_mp_reader_t probe = r;
    bool several = wr_mp_skip(&probe) == 0 && wr_mp_remaining(&probe) > 0;
    do {
        if (several) {
            wr_strbuf_addc(out, r.p == buf ? '[' : ',');
            if ((rc = s_check(&j)) != 0 || j.cut) break;
        }
        rc = s_value(&j, 0);
    } while (rc == 0 && !j.cut && wr_mp_remaining(&r) > 0);
    if (rc == 0 && !j.cut && several) {
        wr_strbuf_addc(out, ']');
        rc = s_check(&j);
    }
    return rc;
}
