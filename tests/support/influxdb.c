/* A real InfluxDB for the tests (influxdb.h). */
#include "tests/support/influxdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/jsonr.h"
#include "bus/base/strbuf.h"
#include "tests/support/http.h"

#define S_START_MS 30000

int ti_group_setup(const char *name)
{
    if (th_group_setup(name, false)) return -1;
    if (access(TI_INFLUXD_BIN, X_OK) == 0) return 0;
    fprintf(stderr, "%s: %s is missing (Debian's influxdb; deploy/install-deps.sh)\n", name,
            TI_INFLUXD_BIN);
    return -1;
}

ti_influx_t *ti_start(const char *name)
{
    ti_influx_t *db = ps_alloc(sizeof *db);
    db->port = ps_free_port();
    do
        db->rpc_port = ps_free_port();
    while (db->rpc_port == db->port);
    snprintf(db->url, sizeof db->url, "http://127.0.0.1:%d", db->port);
    const char *dir = ps_path(name);
    const char *conf = ps_path(ps_fmt("%s.conf", name));
    ps_write_file(conf, ps_fmt("reporting-disabled = true\n"
                               "bind-address = \"127.0.0.1:%d\"\n"
                               "[meta]\n  dir = \"%s/meta\"\n"
                               "[data]\n  dir = \"%s/data\"\n  wal-dir = \"%s/wal\"\n"
                               "  query-log-enabled = false\n"
                               "[http]\n  enabled = true\n  bind-address = \"127.0.0.1:%d\"\n"
                               "  log-enabled = false\n"
                               "[monitor]\n  store-enabled = false\n"
                               "[continuous_queries]\n  enabled = false\n"
                               "[[graphite]]\n  enabled = false\n"
                               "[[collectd]]\n  enabled = false\n"
                               "[[opentsdb]]\n  enabled = false\n"
                               "[[udp]]\n  enabled = false\n",
                               db->rpc_port, dir, dir, dir, db->port));
    db->proc = ps_start_program(name, TI_INFLUXD_BIN, PS_ARGV("-config", conf), NULL);
    for (int64_t until = ps_now_ms() + S_START_MS;; ps_sleep_ms(50)) {
        if (th_http_quiet(db->port, "/ping") == 204) break;
        if (!ps_running(db->proc) || ps_now_ms() > until)
            PS_FAIL("influxd did not answer on %s", db->url);
    }
    return db;
}

void ti_stop(ti_influx_t *db)
{
    if (!db->proc) return;
    ps_kill9(db->proc);
    ps_release(db->proc);
    db->proc = NULL;
}

/* s URL-encoded (RFC 3986's unreserved bytes kept). */
static const char *s_encode(const char *s)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            wr_strbuf_addc(&sb, (char)c);
        else
            wr_strbuf_addf(&sb, "%%%02X", c);
    }
    if (sb.failed) PS_FAIL("out of memory");
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

const char *ti_query(const ti_influx_t *db, const char *database, const char *q)
{
    const char *path =
        ps_fmt("/query?%sq=%s", database ? ps_fmt("db=%s&", database) : "", s_encode(q));
    th_http_t r = th_http(db->port, "POST", path, "", 0);
    if (r.status != 200 || strstr(r.body, "\"error\""))
        PS_FAIL("%s: HTTP %ld: %s", q, r.status, r.body);
    return r.body;
}

const char *ti_number(double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return ps_fmt("%s", buf);
}

/* One value of a row as text. */
static const char *s_value(wr_jsonr_t *r)
{
    wr_strbuf_t sb;
    bool b;
    double d;
    switch (wr_jsonr_peek(r)) {
    case WR_JSONR_STR:
        wr_strbuf_init(&sb);
        wr_jsonr_read_str(r, &sb);
        return ps_keep(wr_strbuf_detach(&sb, NULL));
    case WR_JSONR_NUM:
        return wr_jsonr_read_double(r, &d) ? "" : ti_number(d);
    case WR_JSONR_BOOL:
        wr_jsonr_read_bool(r, &b);
        return b ? "true" : "false";
    default:
        wr_jsonr_skip(r);
        return "";
    }
}

/* Strings of an array (columns, or a row's values), kept. */
static const char **s_array(wr_jsonr_t *r, size_t *n)
{
    size_t cap = 16;
    const char **v = ps_alloc(cap * sizeof *v);
    *n = 0;
    wr_jsonr_arr_begin(r);
    while (wr_jsonr_arr_next(r)) {
        if (*n == cap) {
            const char **more = ps_alloc(2 * cap * sizeof *more);
            memcpy(more, v, cap * sizeof *v);
            v = more;
            cap *= 2;
        }
        v[(*n)++] = s_value(r);
    }
    return v;
}

/* The first series of a result: {"name":..,"columns":[..],"values":[[..]..]}. */
static void s_series(wr_jsonr_t *r, ti_series_t *s)
{
    wr_jsonr_obj_begin(r);
    while (wr_jsonr_obj_next(r)) {
        if (!strcmp(r->key, "columns")) {
            s->cols = s_array(r, &s->ncols);
        } else if (!strcmp(r->key, "values")) {
            size_t cap = 64;
            s->rows = ps_alloc(cap * sizeof *s->rows);
            wr_jsonr_arr_begin(r);
            while (wr_jsonr_arr_next(r)) {
                if (s->nrows == cap) {
                    const char ***more = ps_alloc(2 * cap * sizeof *more);
                    memcpy(more, s->rows, cap * sizeof *s->rows);
                    s->rows = more;
                    cap *= 2;
                }
                size_t n;
                s->rows[s->nrows++] = s_array(r, &n);
            }
        } else {
            wr_jsonr_skip(r);
        }
    }
}

ti_series_t ti_select(const ti_influx_t *db, const char *database, const char *q)
{
    th_http_t a = th_http(db->port, "GET",
                          ps_fmt("/query?db=%s&epoch=ms&q=%s", database, s_encode(q)), NULL, 0);
    if (a.status != 200) PS_FAIL("%s: HTTP %ld: %s", q, a.status, a.body);
    ti_series_t s = {0};
    wr_jsonr_t r;
    wr_jsonr_init(&r, a.body, strlen(a.body));
    wr_jsonr_obj_begin(&r); /* {"results":[{"statement_id":0,"series":[...]}]} */
    while (wr_jsonr_obj_next(&r)) {
        if (strcmp(r.key, "results")) {
            wr_jsonr_skip(&r);
            continue;
        }
        wr_jsonr_arr_begin(&r);
        for (bool first = true; wr_jsonr_arr_next(&r); first = false) {
            wr_jsonr_obj_begin(&r);
            while (wr_jsonr_obj_next(&r)) {
                if (first && !strcmp(r.key, "error")) PS_FAIL("%s: %s", q, a.body);
                if (!first || strcmp(r.key, "series")) {
                    wr_jsonr_skip(&r);
                    continue;
                }
                wr_jsonr_arr_begin(&r);
                for (bool one = true; wr_jsonr_arr_next(&r); one = false)
                    if (one)
                        s_series(&r, &s);
                    else
                        wr_jsonr_skip(&r);
            }
        }
    }
    if (wr_jsonr_end(&r)) PS_FAIL("%s: not InfluxDB's JSON: %s", q, a.body);
    return s;
}

int ti_col(const ti_series_t *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (!strcmp(s->cols[i], name)) return (int)i;
    return -1;
}
