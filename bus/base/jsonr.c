/* Strict JSON pull reader (jsonr.h). */
#include "bus/base/jsonr.h"

#include <string.h>

#include "bus/base/base64.h"
#include "bus/base/error.h"
#include "bus/base/numparse.h"

static int s_fail(wr_jsonr_t *r, int err)
{
    if (!r->err) r->err = err;
    return r->err;
}

void wr_jsonr_init(wr_jsonr_t *r, const void *buf, size_t len)
{
    memset(r, 0, sizeof *r);
    r->p = buf;
    r->end = r->p + len;
    if (len > WR_JSONR_MAX_SIZE) r->err = WR_ETOOBIG;
}

static void s_ws(wr_jsonr_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

enum wr_jsonr_kind wr_jsonr_peek(wr_jsonr_t *r)
{
    if (r->err) return WR_JSONR_INVALID;
    s_ws(r);
    if (r->p == r->end) return WR_JSONR_INVALID;
    switch (*r->p) {
    case 'n':
        return WR_JSONR_NULL;
    case 't':
    case 'f':
        return WR_JSONR_BOOL;
    case '"':
        return WR_JSONR_STR;
    case '[':
        return WR_JSONR_ARR;
    case '{':
        return WR_JSONR_OBJ;
    default:
        return *r->p == '-' || (*r->p >= '0' && *r->p <= '9') ? WR_JSONR_NUM : WR_JSONR_INVALID;
    }
}

/* Consumes the next value's first byte if the value is of kind k. */
static int s_expect(wr_jsonr_t *r, enum wr_jsonr_kind k)
{
    if (r->err) return r->err;
    if (wr_jsonr_peek(r) != k) return s_fail(r, WR_EPROTO);
    return 0;
}

static int s_literal(wr_jsonr_t *r, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0) return s_fail(r, WR_EPROTO);
    r->p += n;
    return 0;
}

static int s_open(wr_jsonr_t *r, enum wr_jsonr_kind k)
{
    if (s_expect(r, k)) return r->err;
    if (r->depth >= WR_JSONR_MAX_DEPTH) return s_fail(r, WR_EPROTO);
    uint64_t bit = UINT64_C(1) << r->depth;
    r->objs = k == WR_JSONR_OBJ ? r->objs | bit : r->objs & ~bit;
    r->depth++;
    r->p++;
    r->first = true;
    return 0;
}

int wr_jsonr_obj_begin(wr_jsonr_t *r)
{
    return s_open(r, WR_JSONR_OBJ);
}

int wr_jsonr_arr_begin(wr_jsonr_t *r)
{
    return s_open(r, WR_JSONR_ARR);
}

/* Before the next element of a container closed by `close`: true when one follows (its comma
 * consumed), false after the closing byte or on failure. */
static bool s_in_object(const wr_jsonr_t *r)
{
    return r->depth > 0 && (r->objs >> (r->depth - 1) & 1);
}

static bool s_next(wr_jsonr_t *r, char close)
{
    if (r->err) return false;
    if (r->depth == 0 || s_in_object(r) != (close == '}')) return s_fail(r, WR_EPROTO), false;
    s_ws(r);
    if (r->p == r->end) return s_fail(r, WR_EPROTO), false;
    if (*r->p == close) {
        r->p++;
        r->depth--;
        r->first = false; /* the enclosing container has had this element */
        return false;
    }
    if (!r->first) {
        if (*r->p != ',') return s_fail(r, WR_EPROTO), false;
        r->p++;
        s_ws(r);
        if (r->p < r->end && *r->p == close) return s_fail(r, WR_EPROTO), false; /* [1,] */
    }
    r->first = false;
    return true;
}

static int s_hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16) return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Reads a string at r->p (the quote), unescaped, appending to out when out is not NULL. */
static int s_str(wr_jsonr_t *r, wr_strbuf_t *out)
{
    if (s_expect(r, WR_JSONR_STR)) return r->err;
    const char *p = r->p + 1, *end = r->end;
    size_t before = out ? out->len : 0;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) goto bad;
        if (c >= 0x80) {
            size_t n = wr__utf8_len((const unsigned char *)p, (size_t)(end - p));
            if (!n) goto bad;
            if (out) wr_strbuf_add(out, p, n);
            p += n;
            continue;
        }
        if (c != '\\') {
            const char *run = p;
            while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
                   (unsigned char)*p < 0x80)
                p++;
            if (out) wr_strbuf_add(out, run, (size_t)(p - run));
            continue;
        }
        if (end - p < 2) goto bad;
        char e = p[1], ch;
        p += 2;
        switch (e) {
        case '"':
            ch = '"';
            break;
        case '\\':
            ch = '\\';
            break;
        case '/':
            ch = '/';
            break;
        case 'b':
            ch = '\b';
            break;
        case 'f':
            ch = '\f';
            break;
        case 'n':
            ch = '\n';
            break;
        case 'r':
            ch = '\r';
            break;
        case 't':
            ch = '\t';
            break;
        case 'u': {
            unsigned u, lo;
            if (end - p < 4 || s_hex4(p, &u)) goto bad;
            p += 4;
            if (u >= 0xdc00 && u <= 0xdfff) goto bad; /* a low surrogate alone */
            if (u >= 0xd800 && u <= 0xdbff) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || s_hex4(p + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                p += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
            char b[4];
            size_t n;
            if (u < 0x80) {
                b[0] = (char)u;
                n = 1;
            } else if (u < 0x800) {
                b[0] = (char)(0xc0 | u >> 6);
                b[1] = (char)(0x80 | (u & 0x3f));
                n = 2;
            } else if (u < 0x10000) {
                b[0] = (char)(0xe0 | u >> 12);
                b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
                b[2] = (char)(0x80 | (u & 0x3f));
                n = 3;
            } else {
                b[0] = (char)(0xf0 | u >> 18);
                b[1] = (char)(0x80 | ((u >> 12) & 0x3f));
                b[2] = (char)(0x80 | ((u >> 6) & 0x3f));
                b[3] = (char)(0x80 | (u & 0x3f));
                n = 4;
            }
            if (out) wr_strbuf_add(out, b, n);
            continue;
        }
        default:
            goto bad;
        }
        if (out) wr_strbuf_addc(out, ch);
    }
    if (p == end) goto bad;
    if (out && out->failed) {
        wr_strbuf_truncate(out, before);
        return s_fail(r, WR_ENOMEM);
    }
    r->p = p + 1;
    return 0;
bad:
    if (out) wr_strbuf_truncate(out, before);
    return s_fail(r, WR_EPROTO);
}

bool wr_jsonr_obj_next(wr_jsonr_t *r)
{
    if (!s_next(r, '}')) return false;
    const char *start = r->p;
    if (s_str(r, NULL)) return false;
    const char *body = start + 1;
    size_t raw = (size_t)(r->p - 1 - body);
    r->key[0] = '\0';
    if (raw < sizeof r->key && !memchr(body, '\\', raw)) {
        memcpy(r->key, body, raw); /* the common case: short, no escapes */
        r->key[raw] = '\0';
    } else if (memchr(body, '\\', raw)) {
        const char *after = r->p;
        r->p = start;
        wr_strbuf_t tmp;
        wr_strbuf_init(&tmp);
        int rc = s_str(r, &tmp);
        if (rc == 0 && tmp.len < sizeof r->key && !memchr(tmp.buf, '\0', tmp.len))
            memcpy(r->key, tmp.buf, tmp.len + 1);
        wr_strbuf_release(&tmp);
        if (rc) return false;
        r->p = after;
    }
    s_ws(r);
    if (r->p == r->end || *r->p != ':') return s_fail(r, WR_EPROTO), false;
    r->p++;
    return true;
}

bool wr_jsonr_arr_next(wr_jsonr_t *r)
{
    return s_next(r, ']');
}

int wr_jsonr_read_null(wr_jsonr_t *r)
{
    if (s_expect(r, WR_JSONR_NULL)) return r->err;
    return s_literal(r, "null");
}

int wr_jsonr_read_bool(wr_jsonr_t *r, bool *v)
{
    if (s_expect(r, WR_JSONR_BOOL)) return r->err;
    bool t = *r->p == 't';
    if (s_literal(r, t ? "true" : "false")) return r->err;
    *v = t;
    return 0;
}

/* Length of the JSON number at s[0, avail) (RFC 8259 grammar), 0 if there is none; *integer
 * says whether it has neither fraction nor exponent. */
static size_t s_number_len(const char *s, size_t avail, bool *integer)
{
    size_t i = 0;
    *integer = true;
#define DIGIT(k) ((k) < avail && s[k] >= '0' && s[k] <= '9')
    if (i < avail && s[i] == '-') i++;
    if (!DIGIT(i)) return 0;
    if (s[i] == '0')
        i++;
    else
        while (DIGIT(i))
            i++;
    if (i < avail && s[i] == '.') {
        *integer = false;
        if (!DIGIT(i + 1)) return 0;
        i++;
        while (DIGIT(i))
            i++;
    }
    if (i < avail && (s[i] == 'e' || s[i] == 'E')) {
        *integer = false;
        i++;
        if (i < avail && (s[i] == '+' || s[i] == '-')) i++;
        if (!DIGIT(i)) return 0;
        while (DIGIT(i))
            i++;
    }
    /* a number ends at a delimiter: 01, 0x10 and 1.2.3 are no numbers followed by more */
    if (i < avail && (DIGIT(i) || s[i] == '.' || s[i] == '+' || s[i] == '-' ||
                      (s[i] | 0x20) == 'e' || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
        return 0;
#undef DIGIT
    return i;
}

int wr_jsonr_read_int(wr_jsonr_t *r, int64_t *v)
{
    if (r->err) return r->err;
    enum wr_jsonr_kind k = wr_jsonr_peek(r);
    const char *s = r->p;
    size_t avail = (size_t)(r->end - r->p), n;
    bool integer;
    int64_t x;
    if (k == WR_JSONR_STR) {
        const char *q = memchr(s + 1, '"', avail - 1);
        if (!q) return s_fail(r, WR_EPROTO);
        size_t in = (size_t)(q - s - 1);
        n = s_number_len(s + 1, in, &integer);
        if (n == 0 || n != in || !integer || wr_parse_int(s + 1, n, &x))
            return s_fail(r, WR_EPROTO);
        r->p = q + 1;
    } else if (k == WR_JSONR_NUM) {
        n = s_number_len(s, avail, &integer);
        if (n == 0 || !integer || wr_parse_int(s, n, &x)) return s_fail(r, WR_EPROTO);
        r->p += n;
    } else {
        return s_fail(r, WR_EPROTO);
    }
    *v = x;
    return 0;
}

int wr_jsonr_read_double(wr_jsonr_t *r, double *v)
{
    if (s_expect(r, WR_JSONR_NUM)) return r->err;
    bool integer;
    size_t n = s_number_len(r->p, (size_t)(r->end - r->p), &integer);
    double x;
    if (n == 0) return s_fail(r, WR_EPROTO);
    int rc = wr_parse_double(r->p, n, &x);
    if (rc) return s_fail(r, rc == WR_ENOMEM ? WR_ENOMEM : WR_EPROTO);
    r->p += n;
    *v = x;
    return 0;
}

int wr_jsonr_read_str(wr_jsonr_t *r, wr_strbuf_t *out)
{
    return s_str(r, out);
}

int wr_jsonr_read_str_copy(wr_jsonr_t *r, char *dst, size_t cap)
{
    if (r->err) return r->err;
    wr_strbuf_t tmp;
    wr_strbuf_init(&tmp);
    int rc = s_str(r, &tmp);
    if (rc == 0 && tmp.len >= cap) rc = WR_ETOOBIG;
    if (rc == 0 && memchr(tmp.buf, '\0', tmp.len)) rc = WR_EPROTO;
    if (rc == 0) memcpy(dst, tmp.buf, tmp.len + 1);
    wr_strbuf_release(&tmp);
    return rc ? s_fail(r, rc) : 0;
}

int wr_jsonr_read_base64(wr_jsonr_t *r, wr_strbuf_t *out)
{
    if (r->err) return r->err;
    wr_strbuf_t tmp;
    wr_strbuf_init(&tmp);
    int rc = s_str(r, &tmp);
    if (rc == 0) {
        rc = wr_base64_decode(tmp.buf, tmp.len, out);
        if (rc) s_fail(r, rc == WR_ENOMEM ? WR_ENOMEM : WR_EPROTO);
        rc = r->err;
    }
    wr_strbuf_release(&tmp);
    return rc;
}

int wr_jsonr_skip(wr_jsonr_t *r)
{
    int base = r->depth;
    bool b;
    for (;;) {
        switch (wr_jsonr_peek(r)) {
        case WR_JSONR_NULL:
            wr_jsonr_read_null(r);
            break;
        case WR_JSONR_BOOL:
            wr_jsonr_read_bool(r, &b);
            break;
        case WR_JSONR_NUM: {
            size_t n = s_number_len(r->p, (size_t)(r->end - r->p), &b);
            if (n == 0) return s_fail(r, WR_EPROTO);
            r->p += n;
            break;
        }
        case WR_JSONR_STR:
            s_str(r, NULL);
            break;
        case WR_JSONR_ARR:
            wr_jsonr_arr_begin(r);
            break;
        case WR_JSONR_OBJ:
            wr_jsonr_obj_begin(r);
            break;
        default:
            return s_fail(r, WR_EPROTO);
        }
        /* move to the next value inside what this call opened, closing what ends here */
        bool more = false;
        while (!r->err && r->depth > base && !more)
            more = s_in_object(r) ? wr_jsonr_obj_next(r) : wr_jsonr_arr_next(r);
        if (r->err || !more) return r->err;
    }
}

int wr_jsonr_end(wr_jsonr_t *r)
{
    if (r->err) return r->err;
    if (r->depth != 0) return s_fail(r, WR_EPROTO);
    s_ws(r);
    if (r->p != r->end) return s_fail(r, WR_EPROTO);
    return 0;
}
