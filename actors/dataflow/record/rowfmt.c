#include "actors/dataflow/record/rowfmt.h"

#include <string.h>

#include "bus/base/error.h"

/* Most bytes a non-string value takes. */
static size_t s_value_max(enum wr_type t, bool json)
{
    switch (t) {
    case WR_T_INT:
        return WR_NUMFMT_I64_MAX;
    case WR_T_TIME:
        return json ? WR_NUMFMT_I64_MAX : WR_NUMFMT_TIME_MAX;
    case WR_T_DOUBLE:
        return json ? WR_NUMFMT_JSON_MAX : WR_NUMFMT_G6_MAX;
    case WR_T_BOOL:
        return 5;
    case WR_T_STRING:
        return 0;
    }
    return 0;
}

/* The text before field f's value: "name=" (a space first but for the first field), or
 * "{"/"," and the quoted name and ':'. */
static void s_prefix(const wr_schema_t *s, uint32_t f, bool json, wr_strbuf_t *out)
{
    const char *name = s->f[f].name;
    if (json) {
        wr_strbuf_addc(out, f ? ',' : '{');
        wr_strbuf_add_json_str(out, name, strlen(name));
        wr_strbuf_addc(out, ':');
    } else {
        if (f) wr_strbuf_addc(out, ' ');
        wr_strbuf_adds(out, name);
        wr_strbuf_addc(out, '=');
    }
}

int wr_rowfmt_init(wr_rowfmt_t *fmt, const wr_schema_t *schema, bool json)
{
    memset(fmt, 0, sizeof *fmt);
    fmt->schema = *schema;
    fmt->json = json;
    wr_strbuf_init(&fmt->names);
    for (uint32_t f = 0; f < schema->n; f++) {
        fmt->off[f] = (uint32_t)fmt->names.len;
        s_prefix(schema, f, json, &fmt->names);
    }
    fmt->off[schema->n] = (uint32_t)fmt->names.len;
    if (fmt->names.failed) {
        wr_rowfmt_release(fmt);
        return WR_ENOMEM;
    }
    fmt->rest_max[schema->n] = json ? 3 : 1; /* "{" of no fields, "}", "\n" */
    for (uint32_t f = schema->n; f-- > 0;)
        fmt->rest_max[f] = fmt->rest_max[f + 1] + (fmt->off[f + 1] - fmt->off[f]) +
                           s_value_max(schema->f[f].type, json);
    return 0;
}

void wr_rowfmt_release(wr_rowfmt_t *fmt)
{
    wr_strbuf_release(&fmt->names);
}

/* Writes the non-string value of field f of record i at p; returns the end. tc: the field's time
 * cache (used by text times only). */
static char *s_put_value(char *p, const wr_batch_t *b, uint32_t f, uint32_t i, bool json,
                         wr_numfmt_time_t *tc)
{
    int64_t v = ((const int64_t *)b->col[f])[i];
    switch (b->schema.f[f].type) {
    case WR_T_TIME: /* JSON times are epoch ms */
        return p + (json ? wr_numfmt_i64(p, v) : wr_numfmt_time(tc, v, p));
    case WR_T_INT:
        return p + wr_numfmt_i64(p, v);
    case WR_T_BOOL:
        memcpy(p, v ? "true" : "false", v ? 4 : 5);
        return p + (v ? 4 : 5);
    case WR_T_DOUBLE: {
        double d = ((const double *)b->col[f])[i];
        return p + (json ? wr_numfmt_json_double(p, d) : wr_numfmt_g6(p, d));
    }
    case WR_T_STRING:
        break;
    }
    return p;
}

static void s_add_string(const wr_batch_t *b, uint32_t f, uint32_t i, bool json, wr_strbuf_t *out)
{
    uint32_t len;
    const char *s = wr_batch_str(b, (int)f, i, &len);
    if (json)
        wr_strbuf_add_json_str(out, s, len);
    else
        wr_strbuf_add(out, s, len);
}

void wr_rowfmt_row(wr_rowfmt_t *fmt, const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    uint32_t n = fmt->schema.n;
    if (!wr_strbuf_grow(out, fmt->rest_max[0])) return;
    char *p = out->buf + out->len;
    if (fmt->json && n == 0) *p++ = '{';
    for (uint32_t f = 0; f < n; f++) {
        uint32_t plen = fmt->off[f + 1] - fmt->off[f];
        memcpy(p, fmt->names.buf + fmt->off[f], plen);
        p += plen;
        if (fmt->schema.f[f].type != WR_T_STRING) {
            p = s_put_value(p, b, f, i, fmt->json, &fmt->time[f]);
            continue;
        }
        out->len = (size_t)(p - out->buf);
        s_add_string(b, f, i, fmt->json, out);
        if (!wr_strbuf_grow(out, fmt->rest_max[f + 1])) return;
        p = out->buf + out->len;
    }
    if (fmt->json) *p++ = '}';
    *p++ = '\n';
    out->len = (size_t)(p - out->buf);
    out->buf[out->len] = '\0';
}

void wr_rowfmt_json_object(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    if (b->schema.n == 0) wr_strbuf_addc(out, '{');
    for (uint32_t f = 0; f < b->schema.n; f++) {
        s_prefix(&b->schema, f, true, out);
        if (b->schema.f[f].type == WR_T_STRING) {
            s_add_string(b, f, i, true, out);
        } else if (wr_strbuf_grow(out, WR_NUMFMT_JSON_MAX)) {
            out->len = (size_t)(s_put_value(out->buf + out->len, b, f, i, true, NULL) - out->buf);
            out->buf[out->len] = '\0';
        }
    }
    wr_strbuf_addc(out, '}');
}
