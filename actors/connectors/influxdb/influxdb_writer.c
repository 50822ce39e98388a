/* The InfluxDB sink's writer (influxdb_writer.h): records formatted as points into one buffer,
 * POSTed every `batch` points and at the end of every write: a window firing's results are in
 * InfluxDB when the write returns, not held until a barrier (a job may have no checkpoints). */
#include "actors/connectors/influxdb/influxdb_writer.h"

#include <stdlib.h>
#include <string.h>

#include "actors/connectors/influxdb/influx_client.h"
#include "actors/connectors/influxdb/influx_line.h"
#include "actors/connectors/influxdb/influxdb.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

typedef struct {
    const wr_influxdb_sink_config_t *c; /* borrowed */
    uint32_t subtask;
    wr_influx_client_t *client;
    wr_influx_line_t fmt;
    bool fmt_ready;
    wr_strbuf_t buf; /* the points not POSTed yet, reused */
    uint32_t points; /* in buf */
    wr_influx_line_stats_t stats;
    bool warned; /* about something line protocol cannot carry */
    int err;     /* the first failure: every call after it fails the same way */
    wr_strbuf_t failed_on;
} s_writer_t;

void wr__influxdb_close(void **wp)
{
    s_writer_t *w = *wp;
    if (!w) return;
    wr_influx_client_destroy(&w->client);
    if (w->fmt_ready) wr_influx_line_release(&w->fmt);
    wr_strbuf_release(&w->buf);
    wr_strbuf_release(&w->failed_on);
    free(w);
    *wp = NULL;
}

/* Whether name is a line of the LIST value list. */
static bool s_listed(const char *list, const char *name)
{
    size_t at = 0, len;
    const char *line;
    while (wr_params_next_line(list, &at, &line, &len))
        if (len == strlen(name) && !memcmp(line, name, len)) return true;
    return false;
}

/* Columns of the LIST value list into cols (*n of them); or, list NULL, those dflt accepts.
 * WR_EINVAL (err says which) for a name that is no column of s, or is "time". */
static int s_columns(const char *what, const char *list, const wr_schema_t *s, int *cols,
                     uint32_t *n, bool (*dflt)(const wr_schema_t *s, int col, const void *arg),
                     const void *arg, wr_strbuf_t *err)
{
    *n = 0;
    if (!list) {
        for (uint32_t i = 0; i < s->n; i++)
            if (dflt(s, (int)i, arg)) cols[(*n)++] = (int)i;
        return 0;
    }
    size_t at = 0, len;
    const char *line;
    while (wr_params_next_line(list, &at, &line, &len)) {
        char name[WR_FIELD_NAME_MAX] = "";
        if (len < sizeof name) memcpy(name, line, len);
        int col = len < sizeof name ? wr_schema_find(s, name) : -1;
        if (col < 0) {
            wr_strbuf_addf(err, "%s: '%.*s' is not a column of the results", what, (int)len, line);
            return WR_EINVAL;
        }
        if (*n == WR_SCHEMA_MAX_FIELDS) return WR_EINVAL;
        cols[(*n)++] = col;
    }
    return 0;
}

/* The key column: the results' first, when it is not the time column. */
static bool s_default_tag(const wr_schema_t *s, int col, const void *arg)
{
    const wr_influxdb_sink_config_t *c = arg;
    return col == 0 && strcmp(s->f[col].name, c->time);
}

/* The aggregates: every column that is no tag, no window bound and not the time. */
static bool s_default_field(const wr_schema_t *s, int col, const void *arg)
{
    const wr_influxdb_sink_config_t *c = arg;
    const char *name = s->f[col].name;
    bool tag = c->tags ? s_listed(c->tags, name) : s_default_tag(s, col, c);
    return !tag && strcmp(name, "window_start") && strcmp(name, "window_end") &&
           strcmp(name, c->time);
}

/* The point's columns from the config and the results' schema; err says what is wrong. */
static int s_layout(s_writer_t *w, const wr_schema_t *s, wr_strbuf_t *err)
{
    const wr_influxdb_sink_config_t *c = w->c;
    int tags[WR_SCHEMA_MAX_FIELDS], fields[WR_SCHEMA_MAX_FIELDS];
    uint32_t ntags, nfields;
    int time = wr_schema_find(s, c->time);
    if (time < 0 || (s->f[time].type != WR_T_TIME && s->f[time].type != WR_T_INT)) {
        wr_strbuf_addf(err, "time: '%s' is not an int or time column of the results", c->time);
        return WR_EINVAL;
    }
    int rc = s_columns("tags", c->tags, s, tags, &ntags, s_default_tag, c, err);
    if (!rc) rc = s_columns("fields", c->fields, s, fields, &nfields, s_default_field, c, err);
    if (rc) return rc;
    if (nfields == 0) {
        wr_strbuf_adds(err, "fields: the points would have no field (name the columns)");
        return WR_EINVAL;
    }
    for (uint32_t i = 0; i < ntags + nfields; i++) {
        int col = i < ntags ? tags[i] : fields[i - ntags];
        if (!strcmp(s->f[col].name, "time")) {
            wr_strbuf_adds(err, "a column called 'time' cannot be a tag or a field in InfluxDB");
            return WR_EINVAL;
        }
        if (i < ntags && c->fields && s_listed(c->fields, s->f[col].name)) {
            wr_strbuf_addf(err, "'%s' is both a tag and a field", s->f[col].name);
            return WR_EINVAL;
        }
    }
    rc = wr_influx_line_init(&w->fmt, s, c->measurement, strlen(c->measurement), tags, ntags,
                             fields, nfields, time);
    if (rc == WR_EINVAL) wr_strbuf_adds(err, "measurement: cannot be written in line protocol");
    w->fmt_ready = rc == 0;
    return rc;
}

int wr__influxdb_open(const void *config, const wr_sink_open_t *o, void **wp, wr_strbuf_t *err)
{
    s_writer_t *w = calloc(1, sizeof *w);
    if (!w) return WR_ENOMEM;
    w->c = config;
    w->subtask = o->subtask;
    wr_strbuf_init(&w->buf);
    wr_strbuf_init(&w->failed_on);
    *wp = w;
    int rc = s_layout(w, o->schema, err);
    if (!rc && !(w->client = wr_influx_client_new(w->c, err))) rc = WR_ENOMEM;
    if (rc) wr__influxdb_close(wp);
    return rc;
}

/* Records the writer's first failure rc (0: none). Returns rc. */
static int s_fail(s_writer_t *w, int rc)
{
    if (rc && !w->err) w->err = rc;
    return rc;
}

/* POSTs what the buffer holds. */
static int s_post(s_writer_t *w)
{
    if (w->err) return w->err;
    if (w->buf.failed) return s_fail(w, WR_ENOMEM);
    if (w->points == 0) return 0;
    wr_strbuf_reset(&w->failed_on);
    wr_strbuf_adds(&w->failed_on, "influxdb ");
    int rc = wr_influx_client_write(w->client, w->buf.buf, w->buf.len, &w->failed_on);
    if (rc) return s_fail(w, rc);
    wr_strbuf_reset(&w->buf);
    w->points = 0;
    return 0;
}

static void s_warn(s_writer_t *w, const char *when)
{
    if (!w->stats.skipped && !w->stats.dropped_fields) return;
    wr_warn("influxdb sink %s, subtask %u%s: %llu points skipped, %llu NaN/Inf fields left out "
            "(line protocol cannot carry them: influxdb.h)",
            w->c->measurement, w->subtask, when, (unsigned long long)w->stats.skipped,
            (unsigned long long)w->stats.dropped_fields);
}

int wr__influxdb_write(void *wp, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    s_writer_t *w = wp;
    if (w->err) return w->err;
    uint32_t n = sel ? nsel : b->count;
    for (uint32_t k = 0; k < n; k++) {
        if (wr_influx_line_row(&w->fmt, b, sel ? sel[k] : k, &w->buf, &w->stats)) w->points++;
        if (w->points >= w->c->batch) {
            int rc = s_post(w);
            if (rc) return rc;
        }
    }
    if (!w->warned && (w->stats.skipped || w->stats.dropped_fields)) {
        w->warned = true;
        s_warn(w, " (first time: totals at the end)");
    }
    return s_post(w);
}

int wr__influxdb_flush(void *wp)
{
    s_writer_t *w = wp;
    int rc = s_post(w);
    if (!rc) s_warn(w, " at the end");
    return rc;
}

int wr__influxdb_barrier(void *wp, uint64_t checkpoint_id)
{
    (void)checkpoint_id;
    return s_post(wp);
}

const char *wr__influxdb_failed_on(void *wp)
{
    s_writer_t *w = wp;
    return w->err && w->failed_on.len ? w->failed_on.buf : NULL;
}
