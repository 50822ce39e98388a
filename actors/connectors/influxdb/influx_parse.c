/* A strict line protocol reader (influx_parse.h). */
#include "actors/connectors/influxdb/influx_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

void wr_influx_point_init(wr_influx_point_t *p)
{
    memset(p, 0, sizeof *p);
    wr_strbuf_init(&p->text);
}

void wr_influx_point_release(wr_influx_point_t *p)
{
    wr_strbuf_release(&p->text);
}

typedef struct {
    const char *s;
    size_t len, at;
    wr_influx_point_t *p;
} s_in_t;

/* An escaped name or tag value up to an unescaped byte of stops (or the end), unescaped into
 * p->text: *off and *n say where. False when it is empty or a backslash ends it. */
static bool s_token(s_in_t *in, const char *stops, bool eq, size_t *off, size_t *n)
{
    *off = in->p->text.len;
    size_t start = in->at;
    while (in->at < in->len && !(in->s[in->at] && strchr(stops, in->s[in->at]))) {
        char c = in->s[in->at];
        if (c == '\n') return false;
        if (c != '\\') {
            wr_strbuf_addc(&in->p->text, c);
            in->at++;
            continue;
        }
        if (in->at + 1 >= in->len) return false;
        char d = in->s[in->at + 1];
        if (d == '\n') return false;
        if (d == ',' || d == ' ' || (eq && d == '=')) {
            wr_strbuf_addc(&in->p->text, d);
        } else {
            wr_strbuf_addc(&in->p->text, c);
            wr_strbuf_addc(&in->p->text, d);
        }
        in->at += 2;
    }
    *n = in->p->text.len - *off;
    return in->at > start;
}

static bool s_next(s_in_t *in, char c)
{
    if (in->at < in->len && in->s[in->at] == c) {
        in->at++;
        return true;
    }
    return false;
}

/* A quoted string field value into p->text. */
static bool s_string(s_in_t *in, wr_influx_pair_t *f)
{
    f->kind = WR_INFLUX_STRING;
    f->val = in->p->text.len;
    in->at++; /* the opening quote */
    while (in->at < in->len && in->s[in->at] != '"') {
        char c = in->s[in->at++];
        if (c == '\\' && in->at < in->len && (in->s[in->at] == '"' || in->s[in->at] == '\\'))
            c = in->s[in->at++];
        wr_strbuf_addc(&in->p->text, c);
    }
    f->val_len = in->p->text.len - f->val;
    return s_next(in, '"');
}

static bool s_word(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && !memcmp(s, *words, n)) return true;
    return false;
}

/* A number or a boolean, up to ',' ' ' or the end. */
static bool s_scalar(s_in_t *in, wr_influx_pair_t *f)
{
    static const char *const yes[] = {"t", "T", "true", "True", "TRUE", NULL};
    static const char *const no[] = {"f", "F", "false", "False", "FALSE", NULL};
    size_t start = in->at;
    while (in->at < in->len && in->s[in->at] != ',' && in->s[in->at] != ' ')
        in->at++;
    size_t n = in->at - start;
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, in->s + start, n);
    buf[n] = '\0';
    if (s_word(buf, n, yes) || s_word(buf, n, no)) {
        f->kind = WR_INFLUX_BOOL;
        f->i = s_word(buf, n, yes);
        return true;
    }
    char *end;
    errno = 0;
    if (buf[n - 1] == 'i') {
        buf[n - 1] = '\0';
        f->kind = WR_INFLUX_INT;
        f->i = strtoll(buf, &end, 10);
        return n > 1 && !errno && *end == '\0' &&
               (buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9'));
    }
    f->kind = WR_INFLUX_FLOAT;
    f->f = strtod(buf, &end);
    return *end == '\0' && isfinite(f->f) &&
           (buf[0] == '-' || buf[0] == '.' || (buf[0] >= '0' && buf[0] <= '9'));
}

static bool s_point(s_in_t *in)
{
    wr_influx_point_t *p = in->p;
    size_t off;
    if (!s_token(in, ", ", false, &off, &p->m_len)) return false;
    while (s_next(in, ',')) {
        if (p->ntags == WR_INFLUX_PARSE_MAX) return false;
        wr_influx_pair_t *t = &p->tag[p->ntags++];
        if (!s_token(in, ",= ", true, &t->key, &t->key_len) || !s_next(in, '=') ||
            !s_token(in, ",= ", true, &t->val, &t->val_len))
            return false;
    }
    if (!s_next(in, ' ')) return false;
    do {
        if (p->nfields == WR_INFLUX_PARSE_MAX) return false;
        wr_influx_pair_t *f = &p->field[p->nfields++];
        if (!s_token(in, ",= ", true, &f->key, &f->key_len) || !s_next(in, '=')) return false;
        bool ok = in->at < in->len && in->s[in->at] == '"' ? s_string(in, f) : s_scalar(in, f);
        if (!ok) return false;
    } while (s_next(in, ','));
    if (!s_next(in, ' ')) return false;
    size_t start = in->at;
    while (in->at < in->len && ((in->s[in->at] >= '0' && in->s[in->at] <= '9') ||
                                (in->at == start && in->s[in->at] == '-')))
        in->at++;
    char buf[24];
    size_t n = in->at - start;
    if (in->at != in->len || n == 0 || n >= sizeof buf) return false;
    memcpy(buf, in->s + start, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    p->ts = strtoll(buf, &end, 10);
    return !errno && *end == '\0';
}

int wr_influx_parse_line(const char *line, size_t len, wr_influx_point_t *p)
{
    wr_strbuf_reset(&p->text);
    p->m_len = 0;
    p->ntags = p->nfields = 0;
    p->ts = 0;
    s_in_t in = {.s = line, .len = len, .p = p};
    bool ok = s_point(&in);
    if (p->text.failed) return WR_ENOMEM;
    return ok ? 0 : WR_EPROTO;
}
