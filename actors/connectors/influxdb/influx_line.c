/* InfluxDB line protocol from record batches (influx_line.h). */
#include "actors/connectors/influxdb/influx_line.h"

#include <math.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/numfmt.h"

void wr_influx_escape(wr_strbuf_t *out, const char *s, size_t len, bool key)
{
    if (!wr_strbuf_grow(out, 2 * len)) return;
    char *p = out->buf + out->len;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ',' || c == ' ' || (key && c == '=')) *p++ = '\\';
        *p++ = c;
    }
    out->len = (size_t)(p - out->buf);
    out->buf[out->len] = '\0';
}

void wr_influx_escape_str(wr_strbuf_t *out, const char *s, size_t len)
{
    if (!wr_strbuf_grow(out, 2 * len + 2)) return;
    char *p = out->buf + out->len;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') *p++ = '\\';
        *p++ = s[i];
    }
    *p++ = '"';
    out->len = (size_t)(p - out->buf);
    out->buf[out->len] = '\0';
}

bool wr_influx_tag_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' || s[i] == '\r') return false;
        if (s[i] == '\\' && (i + 1 == len || s[i + 1] == ',' || s[i + 1] == '=' || s[i + 1] == ' '))
            return false;
    }
    return true;
}

void wr_influx_line_release(wr_influx_line_t *f)
{
    wr_strbuf_release(&f->text);
}

static bool s_column_ok(const wr_schema_t *s, int col)
{
    return col >= 0 && (uint32_t)col < s->n;
}

int wr_influx_line_init(wr_influx_line_t *f, const wr_schema_t *schema, const char *measurement,
                        size_t len, const int *tags, uint32_t ntags, const int *fields,
                        uint32_t nfields, int time)
{
    memset(f, 0, sizeof *f);
    wr_strbuf_init(&f->text);
    f->schema = *schema;
    if (len == 0 || !wr_influx_tag_ok(measurement, len) || nfields == 0 ||
        ntags > WR_SCHEMA_MAX_FIELDS || nfields > WR_SCHEMA_MAX_FIELDS ||
        !s_column_ok(schema, time) ||
        (schema->f[time].type != WR_T_TIME && schema->f[time].type != WR_T_INT))
        return WR_EINVAL;
    f->ntags = ntags;
    f->nfields = nfields;
    f->time = time;
    wr_influx_escape(&f->text, measurement, len, false);
    f->mlen = (uint32_t)f->text.len;
    for (uint32_t i = 0; i < ntags; i++) {
        if (!s_column_ok(schema, tags[i])) return WR_EINVAL;
        f->tag[i] = tags[i];
        f->tag_off[i] = (uint32_t)f->text.len;
        const char *name = schema->f[tags[i]].name;
        wr_strbuf_addc(&f->text, ',');
        wr_influx_escape(&f->text, name, strlen(name), true);
        wr_strbuf_addc(&f->text, '=');
    }
    f->tag_off[ntags] = (uint32_t)f->text.len;
    for (uint32_t i = 0; i < nfields; i++) {
        if (!s_column_ok(schema, fields[i])) return WR_EINVAL;
        f->field[i] = fields[i];
        f->field_off[i] = (uint32_t)f->text.len;
        const char *name = schema->f[fields[i]].name;
        wr_influx_escape(&f->text, name, strlen(name), true);
        wr_strbuf_addc(&f->text, '=');
    }
    f->field_off[nfields] = (uint32_t)f->text.len;
    if (f->text.failed) {
        wr_influx_line_release(f);
        return WR_ENOMEM;
    }
    return 0;
}

/* The text of a non-string value of column col, record i, into buf (WR_NUMFMT_JSON_MAX bytes);
 * its length. Doubles must be finite. */
static size_t s_number(const wr_batch_t *b, int col, uint32_t i, char *buf)
{
    switch (b->schema.f[col].type) {
    case WR_T_DOUBLE:
        return wr_numfmt_json_double(buf, ((const double *)b->col[col])[i]);
    case WR_T_BOOL:
        if (((const int64_t *)b->col[col])[i]) {
            memcpy(buf, "true", 4);
            return 4;
        }
        memcpy(buf, "false", 5);
        return 5;
    default: /* int, time */
        return wr_numfmt_i64(buf, ((const int64_t *)b->col[col])[i]);
    }
}

/* Appends the tag set of record i; false when a value cannot be written. */
static bool s_tags(const wr_influx_line_t *f, const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    char num[WR_NUMFMT_JSON_MAX];
    for (uint32_t t = 0; t < f->ntags; t++) {
        int col = f->tag[t];
        const char *v = num;
        uint32_t len;
        if (b->schema.f[col].type == WR_T_STRING) {
            v = wr_batch_str(b, col, i, &len);
            if (!wr_influx_tag_ok(v, len)) return false;
        } else if (b->schema.f[col].type == WR_T_DOUBLE &&
                   !isfinite(((const double *)b->col[col])[i])) {
            return false;
        } else {
            len = (uint32_t)s_number(b, col, i, num);
        }
        if (len == 0) continue; /* no empty tag values: the tag is absent */
        wr_strbuf_add(out, f->text.buf + f->tag_off[t], f->tag_off[t + 1] - f->tag_off[t]);
        wr_influx_escape(out, v, len, true);
    }
    return true;
}

/* Appends the field set of record i; how many fields it wrote. */
static uint32_t s_fields(const wr_influx_line_t *f, const wr_batch_t *b, uint32_t i,
                         wr_strbuf_t *out, wr_influx_line_stats_t *st)
{
    uint32_t written = 0;
    for (uint32_t k = 0; k < f->nfields; k++) {
        int col = f->field[k];
        enum wr_type type = b->schema.f[col].type;
        if (type == WR_T_DOUBLE && !isfinite(((const double *)b->col[col])[i])) {
            st->dropped_fields++;
            continue;
        }
        if (written++) wr_strbuf_addc(out, ',');
        wr_strbuf_add(out, f->text.buf + f->field_off[k], f->field_off[k + 1] - f->field_off[k]);
        if (type == WR_T_STRING) {
            uint32_t len;
            const char *v = wr_batch_str(b, col, i, &len);
            wr_influx_escape_str(out, v, len);
            continue;
        }
        if (!wr_strbuf_grow(out, WR_NUMFMT_JSON_MAX + 1)) continue;
        out->len += s_number(b, col, i, out->buf + out->len);
        if (type == WR_T_INT || type == WR_T_TIME) out->buf[out->len++] = 'i';
        out->buf[out->len] = '\0';
    }
    return written;
}

bool wr_influx_line_row(const wr_influx_line_t *f, const wr_batch_t *b, uint32_t i,
                        wr_strbuf_t *out, wr_influx_line_stats_t *st)
{
    size_t start = out->len;
    wr_strbuf_add(out, f->text.buf, f->mlen);
    bool ok = s_tags(f, b, i, out);
    if (ok) {
        wr_strbuf_addc(out, ' ');
        uint64_t dropped = st->dropped_fields;
        ok = s_fields(f, b, i, out, st) > 0;
        if (!ok) st->dropped_fields = dropped; /* the point is skipped, not its fields */
    }
    if (!ok) {
        wr_strbuf_truncate(out, start);
        st->skipped++;
        return false;
    }
    if (wr_strbuf_grow(out, WR_NUMFMT_I64_MAX + 2)) {
        out->buf[out->len++] = ' ';
        out->len += wr_numfmt_i64(out->buf + out->len, ((const int64_t *)b->col[f->time])[i]);
        out->buf[out->len++] = '\n';
        out->buf[out->len] = '\0';
    }
    return true;
}
