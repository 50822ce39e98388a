/* JSON lines and CSV into record batches. One pass per line: find its end, parse it into a
 * per-field scratch (so a bad line leaves the batch untouched), then commit the scratch to the
 * batch's columns. Numbers are parsed by hand (bus/base/numparse.h). */
#include "actors/connectors/textin.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus/base/error.h"
#include "bus/base/numparse.h"
#include "bus/base/strbuf.h"

enum { S_MAX_DEPTH = 64, S_ECHO_MAX = 40, S_MAX_COLUMNS = 4096 };

typedef union {
    int64_t i;
    double d;
} s_value_t;

struct wr_textin {
    wr_schema_t schema;
    wr_textin_options_t opt;
    char *name;
    uint8_t name_len[WR_SCHEMA_MAX_FIELDS];
    uint64_t all_fields; /* bit i for field i */
    wr_textin_stats_t st;
    bool skipping;                    /* inside an overlong line being skipped */
    uint64_t skip_offset, skip_lines; /* where that line starts, and the lines before it */
    bool header_done;                 /* CSV with header: the header was read */
    int *col_map;                     /* CSV with header: field of each column, -1 to skip it */
    uint32_t ncols;
    uint32_t guess; /* JSON: the field the next key most likely names */
    /* the record being parsed */
    s_value_t val[WR_SCHEMA_MAX_FIELDS];
    const char *str[WR_SCHEMA_MAX_FIELDS]; /* NULL: the string is at scratch + str_off */
    uint32_t str_off[WR_SCHEMA_MAX_FIELDS], str_len[WR_SCHEMA_MAX_FIELDS];
    char *scratch; /* unescaped strings of the current record */
    size_t scratch_len, scratch_cap;
    const char *line; /* start of the current line, for columns in messages */
    wr_strbuf_t err;
    int err_rc; /* WR_ENOMEM from the scratch, reported over WR_EPROTO */
};

static inline bool s_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

/* ---- lifecycle ---- */

wr_textin_t *wr_textin_new(const wr_schema_t *schema, const wr_textin_options_t *opt)
{
    if (opt->format != WR_TEXTIN_JSONL && opt->format != WR_TEXTIN_CSV) return NULL;
    if (opt->on_error != WR_TEXTIN_FAIL && opt->on_error != WR_TEXTIN_SKIP) return NULL;
    if (schema->n == 0 || schema->n > WR_SCHEMA_MAX_FIELDS) return NULL;
    wr_textin_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->schema = *schema;
    t->opt = *opt;
    if (!t->opt.max_line) t->opt.max_line = WR_TEXTIN_DEFAULT_MAX_LINE;
    t->name = strdup(opt->name ? opt->name : "input");
    t->opt.name = t->name;
    t->scratch_cap = 256;
    t->scratch = malloc(t->scratch_cap);
    wr_strbuf_init(&t->err);
    if (!t->name || !t->scratch) {
        wr_textin_destroy(&t);
        return NULL;
    }
    for (uint32_t i = 0; i < schema->n; i++) {
        t->name_len[i] = (uint8_t)strlen(schema->f[i].name);
        t->all_fields |= UINT64_C(1) << i;
    }
    return t;
}

void wr_textin_destroy(wr_textin_t **t)
{
    if (!t || !*t) return;
    free((*t)->name);
    free((*t)->scratch);
    free((*t)->col_map);
    wr_strbuf_release(&(*t)->err);
    free(*t);
    *t = NULL;
}

const char *wr_textin_error(const wr_textin_t *t)
{
    return t->err.buf;
}

const wr_textin_stats_t *wr_textin_stats(const wr_textin_t *t)
{
    return &t->st;
}

void wr_textin_resume_point(const wr_textin_t *t, uint64_t *offset, uint64_t *lines)
{
    *offset = t->skipping ? t->skip_offset : t->st.offset;
    *lines = t->skipping ? t->skip_lines : t->st.lines;
}

void wr_textin_seek(wr_textin_t *t, uint64_t offset, uint64_t lines)
{
    t->st.offset = offset;
    t->st.lines = lines;
    t->skipping = false;
    if (offset == 0) t->header_done = false;
}

/* ---- errors ---- */

/* Starts the message for a bad current line: "NAME:LINE: " and, for a field, "FIELD: ". */
static void s_begin(wr_textin_t *t, int field)
{
    wr_strbuf_reset(&t->err);
    wr_strbuf_addf(&t->err, "%s:%llu: ", t->name, (unsigned long long)(t->st.lines + 1));
    if (field >= 0) wr_strbuf_addf(&t->err, "%s: ", t->schema.f[field].name);
}

/* Input text in quotes, shortened, control bytes as '?'. */
static void s_echo(wr_textin_t *t, const char *s, size_t len)
{
    wr_strbuf_addc(&t->err, '\'');
    for (size_t i = 0; i < len && i < S_ECHO_MAX; i++)
        wr_strbuf_addc(&t->err, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
    wr_strbuf_adds(&t->err, len > S_ECHO_MAX ? "...'" : "'");
}

/* A bad line: the message (field -1: about the line, at column of p). Returns NULL, for the
 * pointer-returning parsers below. */
static const char *s_bad(wr_textin_t *t, int field, const char *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *s_bad(wr_textin_t *t, int field, const char *p, const char *fmt, ...)
{
    s_begin(t, field);
    if (p) wr_strbuf_addf(&t->err, "column %zu: ", (size_t)(p - t->line) + 1);
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wr_strbuf_adds(&t->err, msg);
    return NULL;
}

/* "field: 'text' is not a TYPE" (or out of range), after a value parser failed with rc. */
static void s_bad_value(wr_textin_t *t, int field, const char *v, size_t len, int rc)
{
    static const char *const what[] = {
        [WR_T_INT] = "an integer",
        [WR_T_DOUBLE] = "a number",
        [WR_T_BOOL] = "a boolean (true or false)",
        [WR_T_TIME] = "a time (epoch milliseconds or ISO-8601 such as 2024-05-29T16:26:40Z)",
        [WR_T_STRING] = "a string",
    };
    s_begin(t, field);
    s_echo(t, v, len);
    if (rc == WR_ETOOBIG)
        wr_strbuf_adds(&t->err, " is out of range");
    else
        wr_strbuf_addf(&t->err, " is not %s", what[t->schema.f[field].type]);
}

/* ---- scratch strings ---- */

static bool s_scratch_grow(wr_textin_t *t, size_t extra)
{
    if (t->scratch_len + extra <= t->scratch_cap) return true;
    size_t cap = t->scratch_cap;
    while (cap < t->scratch_len + extra)
        cap *= 2;
    char *p = realloc(t->scratch, cap);
    if (!p) {
        t->err_rc = WR_ENOMEM;
        return false;
    }
    t->scratch = p;
    t->scratch_cap = cap;
    return true;
}

static void s_put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static int s_hex4(const char *p, const char *e)
{
    if (e - p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = s_digit(c)                               ? c - '0'
                : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* ---- JSON ---- */

static inline const char *s_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* A JSON string at p (on its opening quote). Its text is [*s, *s + *len): borrowed from the
 * input when it has no escapes, else decoded into the scratch (*s NULL, *off its place there).
 * Returns the position after the closing quote, or NULL (the message names field). */
static const char *s_json_string(wr_textin_t *t, int field, const char *p, const char *e,
                                 const char **s, uint32_t *off, uint32_t *len)
{
    const char *q = ++p;
    while (q < e && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < e && *q == '"') {
        *s = p;
        *len = (uint32_t)(q - p);
        return q + 1;
    }
    /* slow path: escapes. The decoded text is never longer than the source. */
    if (!s_scratch_grow(t, (size_t)(e - p))) return NULL;
    char *out = t->scratch + t->scratch_len;
    size_t n = (size_t)(q - p);
    memcpy(out, p, n);
    for (;;) {
        if (q >= e) return s_bad(t, field, p - 1, "unterminated string");
        unsigned char c = (unsigned char)*q;
        if (c == '"') break;
        if (c < 0x20)
            return s_bad(t, field, q, "control character 0x%02x in a string (escape it)", c);
        if (c != '\\') {
            out[n++] = (char)c;
            q++;
            continue;
        }
        if (q + 1 >= e) return s_bad(t, field, q, "unterminated string");
        char x = q[1];
        q += 2;
        switch (x) {
        case '"':
            out[n++] = '"';
            break;
        case '\\':
            out[n++] = '\\';
            break;
        case '/':
            out[n++] = '/';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            int cp = s_hex4(q, e);
            if (cp < 0) return s_bad(t, field, q - 2, "bad \\u escape (four hex digits)");
            q += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return s_bad(t, field, q - 6, "lone low surrogate \\u%04x", (unsigned)cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int lo = e - q >= 6 && q[0] == '\\' && q[1] == 'u' ? s_hex4(q + 2, e) : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return s_bad(t, field, q - 6, "high surrogate \\u%04x without its low half",
                                 (unsigned)cp);
                q += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            s_put_utf8(out, &n, (uint32_t)cp);
            break;
        }
        default:
            return s_bad(t, field, q - 2, "unknown escape '\\%c'", x >= 0x20 && x < 0x7f ? x : '?');
        }
    }
    *s = NULL;
    *off = (uint32_t)t->scratch_len;
    *len = (uint32_t)n;
    t->scratch_len += n;
    return q + 1;
}

static inline bool s_number_char(char c)
{
    return s_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static const char *s_literal(const char *p, const char *e, const char *word, size_t n)
{
    return (size_t)(e - p) >= n && !memcmp(p, word, n) ? p + n : NULL;
}

/* Skips one JSON value of any kind (an unknown key's), checking its syntax. NULL if bad. */
static const char *s_json_skip(wr_textin_t *t, const char *p, const char *e, int depth)
{
    const char *s;
    uint32_t off, len;
    if (depth > S_MAX_DEPTH) return NULL;
    p = s_ws(p, e);
    if (p >= e) return NULL;
    switch (*p) {
    case '"': {
        size_t mark = t->scratch_len;
        p = s_json_string(t, -1, p, e, &s, &off, &len);
        t->scratch_len = mark;
        return p;
    }
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        p = s_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= e || *p != '"') return NULL;
                size_t mark = t->scratch_len;
                p = s_json_string(t, -1, p, e, &s, &off, &len);
                t->scratch_len = mark;
                if (!p) return NULL;
                p = s_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            p = s_json_skip(t, p, e, depth + 1);
            if (!p) return NULL;
            p = s_ws(p, e);
            if (p < e && *p == ',') {
                p = s_ws(p + 1, e);
                continue;
            }
            return p < e && *p == close ? p + 1 : NULL;
        }
    }
    case 't':
        return s_literal(p, e, "true", 4);
    case 'f':
        return s_literal(p, e, "false", 5);
    case 'n':
        return s_literal(p, e, "null", 4);
    default: {
        const char *q = p;
        double v;
        while (q < e && s_number_char(*q))
            q++;
        return q > p && wr_parse_double(p, (size_t)(q - p), &v) != WR_EINVAL ? q : NULL;
    }
    }
}

/* The field a key names, or -1. Keys usually come in the same order on every line. */
static int s_field_of(wr_textin_t *t, const char *k, size_t len)
{
    uint32_t g = t->guess;
    if (g < t->schema.n && t->name_len[g] == len && !memcmp(t->schema.f[g].name, k, len))
        return (int)g;
    for (uint32_t i = 0; i < t->schema.n; i++)
        if (t->name_len[i] == len && !memcmp(t->schema.f[i].name, k, len)) return (int)i;
    return -1;
}

/* Ends a bare JSON token (a number or a literal). */
static inline bool s_token_end(const char *p, const char *e)
{
    return p >= e || *p == ' ' || *p == '\t' || *p == ',' || *p == '}' || *p == ']' || *p == ':';
}

/* What is at p, for "expected X, found Y", into buf (S_FOUND_MAX bytes): the kind of a JSON value
 * that is one ("a string", "a number", "null", ...), otherwise the text itself in quotes, up to
 * the end of its token, or of the line when whole. Returns buf. */
#define S_FOUND_MAX (S_ECHO_MAX + 8)
static const char *s_found(const char *p, const char *e, bool whole, char *buf)
{
    static const struct {
        const char *word, *kind;
    } literals[] = {{"true", "a boolean"}, {"false", "a boolean"}, {"null", "null"}};
    const char *kind = NULL, *q = p;
    if (p >= e)
        kind = "the end of the line";
    else if (*p == '"')
        kind = "a string";
    else if (*p == '{')
        kind = "an object";
    else if (*p == '[')
        kind = "an array";
    for (size_t i = 0; !kind && i < sizeof literals / sizeof *literals; i++) {
        size_t n = strlen(literals[i].word);
        if ((q = s_literal(p, e, literals[i].word, n)) && s_token_end(q, e))
            kind = literals[i].kind;
    }
    if (!kind) {
        double v;
        for (q = p; q < e && s_number_char(*q); q++)
            ;
        if (q > p && s_token_end(q, e) && wr_parse_double(p, (size_t)(q - p), &v) != WR_EINVAL)
            kind = "a number";
    }
    if (kind) return strcpy(buf, kind);
    for (q = p; q < e && (whole || !s_token_end(q, e)); q++)
        ;
    size_t n = 0, len = (size_t)(q - p);
    buf[n++] = '\'';
    for (size_t i = 0; i < len && i < S_ECHO_MAX; i++)
        buf[n++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
    strcpy(buf + n, len > S_ECHO_MAX ? "...'" : "'");
    return buf;
}

/* The value of field f at p (after the colon and spaces). */
static const char *s_json_value(wr_textin_t *t, int f, const char *p, const char *e)
{
    enum wr_type type = t->schema.f[f].type;
    char found[S_FOUND_MAX];
    const char *s;
    uint32_t off, len;
    int rc;
    if (type == WR_T_STRING) {
        if (p >= e || *p != '"')
            return s_bad(t, f, p, "expected a string, found %s", s_found(p, e, false, found));
        return s_json_string(t, f, p, e, &t->str[f], &t->str_off[f], &t->str_len[f]);
    }
    if (type == WR_T_BOOL) {
        const char *q;
        if ((q = s_literal(p, e, "true", 4)))
            t->val[f].i = 1;
        else if ((q = s_literal(p, e, "false", 5)))
            t->val[f].i = 0;
        else
            return s_bad(t, f, p, "expected true or false, found %s", s_found(p, e, false, found));
        return q;
    }
    if (type == WR_T_TIME && p < e && *p == '"') {
        size_t mark = t->scratch_len;
        const char *q = s_json_string(t, f, p, e, &s, &off, &len);
        if (!q) return NULL;
        if (!s) s = t->scratch + off;
        rc = wr_parse_time(s, len, &t->val[f].i);
        t->scratch_len = mark;
        if (rc) {
            s_bad_value(t, f, s, len, rc);
            return NULL;
        }
        return q;
    }
    const char *q = p;
    while (q < e && s_number_char(*q))
        q++;
    if (q == p) {
        const char *want = type == WR_T_TIME  ? "a time"
                           : type == WR_T_INT ? "an integer"
                                              : "a number";
        return s_bad(t, f, p, "expected %s, found %s", want, s_found(p, e, false, found));
    }
    len = (uint32_t)(q - p);
    if (type == WR_T_DOUBLE)
        rc = wr_parse_double(p, len, &t->val[f].d);
    else
        rc = wr_parse_int(p, len, &t->val[f].i);
    if (rc == WR_ENOMEM) t->err_rc = rc;
    if (rc) {
        s_bad_value(t, f, p, len, rc);
        return NULL;
    }
    return q;
}

/* Names the first field of the schema missing from `seen`. */
static int s_missing(wr_textin_t *t, uint64_t seen)
{
    for (uint32_t i = 0; i < t->schema.n; i++) {
        if (!(seen & (UINT64_C(1) << i))) {
            s_bad(t, (int)i, NULL, "missing (every field of the schema is required)");
            break;
        }
    }
    return WR_EPROTO;
}

static int s_json_line(wr_textin_t *t, const char *p, const char *e)
{
    char found[S_FOUND_MAX];
    uint64_t seen = 0;
    p = s_ws(p, e);
    if (p >= e || *p != '{')
        return s_bad(t, -1, p, "expected a JSON object ('{'), found %s",
                     s_found(p, e, true, found)),
               WR_EPROTO;
    p = s_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= e || *p != '"')
                return s_bad(t, -1, p, "expected a key in double quotes"), WR_EPROTO;
            const char *k;
            uint32_t koff, klen;
            size_t mark = t->scratch_len;
            const char *kp = p;
            p = s_json_string(t, -1, p, e, &k, &koff, &klen);
            if (!p) return WR_EPROTO;
            if (!k) k = t->scratch + koff;
            int f = s_field_of(t, k, klen);
            t->scratch_len = mark;
            p = s_ws(p, e);
            if (p >= e || *p != ':') return s_bad(t, -1, p, "expected ':' after a key"), WR_EPROTO;
            p = s_ws(p + 1, e);
            if (f < 0) {
                char key[S_ECHO_MAX + 1];
                size_t n = klen < S_ECHO_MAX ? klen : S_ECHO_MAX;
                memcpy(key, k, n);
                key[n] = '\0';
                const char *q = s_json_skip(t, p, e, 0);
                if (!q) {
                    s_bad(t, -1, p, "malformed JSON value");
                    wr_strbuf_adds(&t->err, " of the key ");
                    s_echo(t, key, n);
                    return WR_EPROTO;
                }
                p = q;
            } else {
                uint64_t bit = UINT64_C(1) << f;
                if (seen & bit) return s_bad(t, f, kp, "appears twice"), WR_EPROTO;
                seen |= bit;
                t->guess = (uint32_t)f + 1;
                p = s_json_value(t, f, p, e);
                if (!p) return WR_EPROTO;
            }
            p = s_ws(p, e);
            if (p < e && *p == ',') {
                p = s_ws(p + 1, e);
                continue;
            }
            if (p < e && *p == '}') {
                p++;
                break;
            }
            return s_bad(t, -1, p, "expected ',' or '}'"), WR_EPROTO;
        }
    }
    t->guess = 0;
    p = s_ws(p, e);
    if (p < e) return s_bad(t, -1, p, "text after the object"), WR_EPROTO;
    return seen == t->all_fields ? 0 : s_missing(t, seen);
}

/* ---- CSV ---- */

static int s_bool_text(const char *s, size_t len, int64_t *out)
{
    static const char *const words[] = {"false", "true", "0", "1"};
    for (int i = 0; i < 4; i++) {
        if (strlen(words[i]) == len && !strncasecmp(s, words[i], len)) {
            *out = i % 2;
            return 0;
        }
    }
    return WR_EINVAL;
}

/* One CSV field at p: [*v, *v + *len) after unquoting. Returns the position after it (on the
 * comma or at e), or NULL. */
static const char *s_csv_field(wr_textin_t *t, const char *p, const char *e, const char **v,
                               uint32_t *off, uint32_t *len)
{
    if (p < e && *p == '"') {
        const char *q = p + 1;
        const char *close = memchr(q, '"', (size_t)(e - q));
        if (close && (close + 1 == e || close[1] == ',')) { /* no "" inside */
            *v = q;
            *len = (uint32_t)(close - q);
            return close + 1;
        }
        if (!s_scratch_grow(t, (size_t)(e - q))) return NULL;
        char *out = t->scratch + t->scratch_len;
        size_t n = 0;
        for (;;) {
            if (q >= e) return s_bad(t, -1, p, "unterminated quoted field");
            if (*q == '"') {
                if (q + 1 < e && q[1] == '"') {
                    out[n++] = '"';
                    q += 2;
                    continue;
                }
                q++;
                break;
            }
            out[n++] = *q++;
        }
        if (q < e && *q != ',')
            return s_bad(t, -1, q, "text after a closing quote (a quote inside a field is \"\")");
        *v = NULL;
        *off = (uint32_t)t->scratch_len;
        *len = (uint32_t)n;
        t->scratch_len += n;
        return q;
    }
    const char *q = p;
    while (q < e && *q != ',') {
        if (*q == '"') return s_bad(t, -1, q, "a quote inside an unquoted field (quote the field)");
        q++;
    }
    *v = p;
    *len = (uint32_t)(q - p);
    return q;
}

static int s_csv_value(wr_textin_t *t, int f, const char *v, uint32_t off, uint32_t len)
{
    enum wr_type type = t->schema.f[f].type;
    if (type == WR_T_STRING) {
        t->str[f] = v;
        t->str_off[f] = off;
        t->str_len[f] = len;
        return 0;
    }
    if (!v) v = t->scratch + off;
    int rc;
    switch (type) {
    case WR_T_INT:
        rc = wr_parse_int(v, len, &t->val[f].i);
        break;
    case WR_T_DOUBLE:
        rc = wr_parse_double(v, len, &t->val[f].d);
        break;
    case WR_T_BOOL:
        rc = s_bool_text(v, len, &t->val[f].i);
        break;
    default:
        rc = wr_parse_time(v, len, &t->val[f].i);
        break;
    }
    if (rc == WR_ENOMEM) t->err_rc = rc;
    if (rc) {
        if (len == 0) {
            s_begin(t, f);
            wr_strbuf_adds(&t->err, "empty (only a string field may be empty)");
        } else {
            s_bad_value(t, f, v, len, rc);
        }
        return WR_EPROTO;
    }
    return 0;
}

static int s_csv_line(wr_textin_t *t, const char *p, const char *e)
{
    uint32_t expected = t->opt.header ? t->ncols : t->schema.n, col = 0;
    for (;; col++) {
        const char *v;
        uint32_t off = 0, len;
        const char *start = p;
        p = s_csv_field(t, p, e, &v, &off, &len);
        if (!p) return WR_EPROTO;
        if (col >= expected) {
            s_bad(t, -1, start, "more than %u columns", expected);
            return WR_EPROTO;
        }
        int f = t->opt.header ? t->col_map[col] : (int)col;
        if (f >= 0 && s_csv_value(t, f, v, off, len)) return WR_EPROTO;
        if (p == e) break;
        p++;
    }
    if (col + 1 != expected) {
        s_bad(t, -1, NULL, "%u columns, expected %u", col + 1, expected);
        return WR_EPROTO;
    }
    return 0;
}

static int s_csv_header(wr_textin_t *t, const char *p, const char *e)
{
    uint64_t seen = 0;
    uint32_t n = 0, cap = 16;
    int *map = malloc(cap * sizeof *map);
    int rc = 0;
    if (!map) return WR_ENOMEM;
    for (;;) {
        const char *v;
        uint32_t off = 0, len;
        const char *start = p;
        p = s_csv_field(t, p, e, &v, &off, &len);
        if (!p) {
            rc = t->err_rc ? t->err_rc : WR_EPROTO;
            goto out;
        }
        if (!v) v = t->scratch + off;
        if (n == S_MAX_COLUMNS) {
            s_bad(t, -1, start, "more than %d columns in the header", S_MAX_COLUMNS);
            rc = WR_EPROTO;
            goto out;
        }
        if (n == cap) {
            int *m = realloc(map, 2 * cap * sizeof *map);
            if (!m) {
                rc = WR_ENOMEM;
                goto out;
            }
            map = m;
            cap *= 2;
        }
        int f = s_field_of(t, v, len);
        if (f >= 0 && (seen & (UINT64_C(1) << f))) {
            s_bad(t, f, start, "two columns of the header have this name");
            rc = WR_EPROTO;
            goto out;
        }
        if (f >= 0) seen |= UINT64_C(1) << f;
        map[n++] = f;
        if (p == e) break;
        p++;
    }
    if (seen != t->all_fields) {
        for (uint32_t i = 0; i < t->schema.n; i++) {
            if (!(seen & (UINT64_C(1) << i))) {
                s_bad(t, (int)i, NULL, "no column of the header has this name");
                break;
            }
        }
        rc = WR_EPROTO;
    }
out:
    t->scratch_len = 0;
    if (rc) {
        free(map);
        return rc;
    }
    free(t->col_map);
    t->col_map = map;
    t->ncols = n;
    t->header_done = true;
    return 0;
}

/* ---- lines ---- */

/* The end of the line at p: the newline ending it (outside CSV quotes), or NULL if none within
 * limit bytes. *newlines gets the newlines inside a CSV record's quotes. */
static const char *s_line_end(const wr_textin_t *t, const char *p, size_t limit, uint64_t *newlines)
{
    const char *nl = memchr(p, '\n', limit);
    *newlines = 0;
    if (t->opt.format == WR_TEXTIN_JSONL || !nl || !memchr(p, '"', (size_t)(nl - p))) return nl;
    bool quoted = false;
    for (size_t i = 0; i < limit; i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (p[i] == '\n' && !quoted)
            return p + i;
        else if (p[i] == '\n')
            ++*newlines;
    }
    return NULL;
}

static bool s_blank(const char *p, const char *e)
{
    return s_ws(p, e) == e;
}

/* Writes the parsed record into row b->count. */
static int s_commit(wr_textin_t *t, wr_batch_t *b)
{
    uint32_t row = b->count;
    for (uint32_t f = 0; f < t->schema.n; f++) {
        switch (t->schema.f[f].type) {
        case WR_T_DOUBLE:
            wr_batch_f64(b, (int)f)[row] = t->val[f].d;
            break;
        case WR_T_STRING: {
            const char *s = t->str[f] ? t->str[f] : t->scratch + t->str_off[f];
            int rc = wr_batch_push_str(b, (int)f, s, t->str_len[f]);
            if (rc) return rc;
            break;
        }
        default:
            wr_batch_i64(b, (int)f)[row] = t->val[f].i;
            break;
        }
    }
    b->count++;
    return 0;
}

/* Parses one line [p, e) (no newline) into the batch; 0, WR_EPROTO (bad line), WR_ENOMEM. */
static int s_line(wr_textin_t *t, const char *p, const char *e, wr_batch_t *b, uint64_t *offsets)
{
    t->line = p;
    t->scratch_len = 0;
    t->err_rc = 0;
    if (e > p && e[-1] == '\r') e--;
    if (s_blank(p, e)) return 0;
    if (t->opt.format == WR_TEXTIN_CSV && t->opt.header && !t->header_done)
        return s_csv_header(t, p, e);
    int rc = t->opt.format == WR_TEXTIN_JSONL ? s_json_line(t, p, e) : s_csv_line(t, p, e);
    if (t->err_rc) return t->err_rc;
    if (rc) return rc;
    if (offsets) offsets[b->count] = t->st.offset;
    rc = s_commit(t, b);
    if (rc == 0) t->st.records++;
    return rc;
}

/* A bad line skipped (WR_TEXTIN_SKIP): counted, and told to on_bad. */
static void s_skipped(wr_textin_t *t)
{
    t->st.bad++;
    if (t->opt.on_bad) t->opt.on_bad(t->opt.ctx, t->err.buf);
}

/* wr_textin_parse; with header_only (and no batch), up to the end of a CSV header. */
static int s_parse(wr_textin_t *t, const char *buf, size_t len, bool eof, wr_batch_t *b,
                   uint64_t *offsets, size_t *consumed, bool header_only)
{
    static const char bom[] = "\xef\xbb\xbf";
    size_t pos = 0;
    int rc = 0;
    *consumed = 0;
    if (t->st.offset == 0 && len > 0 && !memcmp(buf, bom, len < 3 ? len : 3)) {
        if (len >= 3) {
            pos = 3;
            t->st.offset = 3;
        } else if (!eof) {
            return 0; /* perhaps a byte order mark: wait for the rest */
        }
    }
    while (pos < len && (header_only ? !t->header_done : b->count < b->cap)) {
        const char *p = buf + pos;
        size_t avail = len - pos;
        if (t->skipping) {
            const char *nl = memchr(p, '\n', avail);
            size_t used = nl ? (size_t)(nl - p) + 1 : avail;
            pos += used;
            t->st.offset += used;
            if (nl) t->skipping = false;
            continue;
        }
        size_t limit = avail < (size_t)t->opt.max_line + 1 ? avail : (size_t)t->opt.max_line + 1;
        uint64_t inner;
        const char *nl = s_line_end(t, p, limit, &inner);
        size_t line_len, used;
        if (nl) {
            line_len = (size_t)(nl - p);
            used = line_len + 1;
        } else if (avail > t->opt.max_line) {
            t->line = p;
            s_bad(t, -1, NULL, "line longer than %u bytes", t->opt.max_line);
            if (t->opt.on_error == WR_TEXTIN_FAIL) {
                rc = WR_ETOOBIG;
                break;
            }
            s_skipped(t);
            t->skip_offset = t->st.offset;
            t->skip_lines = t->st.lines++;
            t->skipping = true;
            continue;
        } else if (eof) {
            line_len = used = avail;
            inner = 0;
            for (size_t i = 0; i < avail; i++)
                inner += p[i] == '\n';
        } else {
            break;
        }
        rc = s_line(t, p, p + line_len, b, offsets);
        if (rc == WR_EPROTO && t->opt.on_error == WR_TEXTIN_SKIP &&
            !(t->opt.format == WR_TEXTIN_CSV && t->opt.header && !t->header_done)) {
            s_skipped(t);
            rc = 0;
        }
        if (rc) break;
        pos += used;
        t->st.offset += used;
        t->st.lines += 1 + inner;
    }
    *consumed = pos;
    return rc;
}

int wr_textin_parse(wr_textin_t *t, const char *buf, size_t len, bool eof, wr_batch_t *b,
                    uint64_t *offsets, size_t *consumed)
{
    *consumed = 0;
    if (!wr_schema_equal(&b->schema, &t->schema)) return WR_EINVAL;
    return s_parse(t, buf, len, eof, b, offsets, consumed, false);
}

int wr_textin_read_header(wr_textin_t *t, const char *buf, size_t len, bool eof, size_t *consumed,
                          bool *done)
{
    *consumed = 0;
    *done = true;
    if (t->opt.format != WR_TEXTIN_CSV || !t->opt.header || t->header_done) return 0;
    int rc = s_parse(t, buf, len, eof, NULL, NULL, consumed, true);
    *done = t->header_done;
    if (!rc && !*done && eof && *consumed == len) {
        t->line = buf + len;
        s_bad(t, -1, NULL, "no header line (the file ends before it)");
        rc = WR_EPROTO;
    }
    return rc;
}
