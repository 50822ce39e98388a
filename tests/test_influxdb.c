/* actors/connectors/influxdb: the InfluxDB sink against a real influxd 1.6.7 (Debian's influxdb,
 * started per test by tests/support/influxdb.h on free loopback ports, its files in the test's
 * directory, killed by pid at the end).
 *
 *   - the line protocol formatter: escaping of nasty names and strings, byte for byte, each line
 *     read back by the strict reader (influx_parse.h); what line protocol cannot carry (NaN,
 *     a tag ending in a backslash, a newline in a tag) skipped and counted; InfluxDB's error
 *     bodies read
 *   - nasty tag values and strings (spaces, commas, equals, quotes, backslashes, UTF-8) written by
 *     the sink and read back through InfluxDB's query API unchanged
 *   - refused writes fail with InfluxDB's own message: a database that does not exist, a field
 *     type conflict; a server that is not there fails after the bounded retries, naming the URL
 *   - a server that accepts connections and never answers: each try ends at the timeout, then the
 *     write fails (it never hangs); api v2's URL (1.6.7 answers 404 to it)
 *   - against a scripted server (a thread here): a 503 and a 429 are retried and the next 204
 *     succeeds; api v2's request carries its token, api v1's its basic authentication
 *   - `weir bench influxdb` runs small, leaving no influxd behind; SIGTERM stops it cleanly
 *   - a job (`weir local`) writing into a file sink and the InfluxDB sink: the points a query
 *     returns are the file's results (tags, fields, timestamp = window end); the same job again
 *     into the same database overwrites them (same count, same values); a job into a database
 *     that does not exist fails with InfluxDB's message */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/connectors/influxdb/influx_line.h"
#include "actors/connectors/influxdb/influx_parse.h"
#include "actors/connectors/influxdb/influx_reply.h"
#include "actors/connectors/influxdb/influxdb.h"
#include "actors/connectors/registry/registry.h"
#include "bus/base/error.h"
#include "bus/base/jsonr.h"
#include "tests/support/http.h"
#include "tests/support/influxdb.h"
#include "tests/support/jobs.h"

#define S_DB     "weir"
#define S_JOB_MS 60000

enum { F_DEV, F_START, F_END, F_N, F_AVG, F_FLAG, F_NOTE };

/* Results as a window makes them, and a string field: dev string, window_start time, window_end
 * time, n int, avg double, ok bool, note string. */
static wr_batch_t *s_batch(void)
{
    static const wr_field_t fields[] = {{"dev", WR_T_STRING},      {"window_start", WR_T_TIME},
                                        {"window_end", WR_T_TIME}, {"n", WR_T_INT},
                                        {"avg", WR_T_DOUBLE},      {"ok", WR_T_BOOL},
                                        {"note", WR_T_STRING}};
    wr_schema_t s;
    wr_schema_init(&s);
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
        wr_schema_add(&s, fields[f].name, fields[f].type);
    wr_batch_t *b = wr_batch_new(&s, 16);
    assert_non_null(b);
    return b;
}

static void s_row(wr_batch_t *b, const char *dev, int64_t end, int64_t n, double avg, bool ok,
                  const char *note)
{
    uint32_t i = b->count;
    assert_int_equal(wr_batch_reserve(b, i + 1), 0);
    assert_int_equal(wr_batch_push_str(b, F_DEV, dev, (uint32_t)strlen(dev)), 0);
    assert_int_equal(wr_batch_push_str(b, F_NOTE, note, (uint32_t)strlen(note)), 0);
    wr_batch_i64(b, F_START)[i] = end - 60000;
    wr_batch_i64(b, F_END)[i] = end;
    wr_batch_i64(b, F_N)[i] = n;
    wr_batch_f64(b, F_AVG)[i] = avg;
    wr_batch_i64(b, F_FLAG)[i] = ok;
    b->count++;
}

/* The nasty values of the escaping tests: names, strings. */
static const char *const s_nasty[] = {
    "plain",
    "a b",
    "a,b",
    "a=b",
    "a\\b",
    "say \"hi\"",
    "x, y=z \\q",
    "ünï€ode 🌡",
    "=leading",
    "trailing,",
    " ",
    "\\\\double",
    "tab\there",
    "quote\"",
    "back\\,comma",
    "back\\ space",
};
/* Which of them a tag can hold (influx_line.h: no backslash before , = or space). */
static bool s_nasty_tag_ok(size_t i)
{
    return strcmp(s_nasty[i], "back\\,comma") && strcmp(s_nasty[i], "back\\ space");
}
#define S_NASTY (sizeof s_nasty / sizeof *s_nasty)

/* s_batch's records of the nasty values, each as the tag and the note. */
static void s_nasty_rows(wr_batch_t *b)
{
    for (size_t i = 0; i < S_NASTY; i++)
        s_row(b, s_nasty[i], 1000 * (int64_t)(i + 1), (int64_t)i, (double)i / 3, i % 2, s_nasty[i]);
}

/* Every record of b as points into out; how many were written. */
static uint32_t s_format(const wr_influx_line_t *f, const wr_batch_t *b, wr_strbuf_t *out,
                         wr_influx_line_stats_t *st)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->count; i++)
        n += wr_influx_line_row(f, b, i, out, st);
    return n;
}

/* The formatter of s_batch's points: measurement m, tag dev, fields n avg ok note. */
static void s_fmt(wr_influx_line_t *f, const wr_batch_t *b, const char *m)
{
    static const int tags[] = {F_DEV}, fields[] = {F_N, F_AVG, F_FLAG, F_NOTE};
    assert_int_equal(wr_influx_line_init(f, &b->schema, m, strlen(m), tags, 1, fields, 4, F_END),
                     0);
}

/* ---- the formatter ---- */

static void test_line_escaping(void **state)
{
    (void)state;
    wr_batch_t *b = s_batch();
    s_row(b, "a b,c=d", 1700000060000, 42, 21.5, true, "say \"hi\" \\ there");
    s_row(b, "ünï€ode", 1700000120000, -7, 0.1, false, "line\nbreak, =");
    s_row(b, "x", 1700000180000, 0, 1e300, true, "");
    wr_influx_line_t f;
    s_fmt(&f, b, "my m,eas=ure");
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    wr_influx_line_stats_t st = {0};
    assert_int_equal(s_format(&f, b, &out, &st), b->count);
    assert_string_equal(out.buf,
                        "my\\ m\\,eas=ure,dev=a\\ b\\,c\\=d n=42i,avg=21.5,ok=true,"
                        "note=\"say \\\"hi\\\" \\\\ there\" 1700000060000\n"
                        "my\\ m\\,eas=ure,dev=ünï€ode n=-7i,avg=0.1,ok=false,"
                        "note=\"line\nbreak, =\" 1700000120000\n"
                        "my\\ m\\,eas=ure,dev=x n=0i,avg=1e+300,ok=true,note=\"\" 1700000180000\n");
    assert_int_equal(st.skipped, 0);
    assert_int_equal(st.dropped_fields, 0);
    /* every nasty value, as a tag and as a string, reads back as it was */
    wr_batch_clear(b);
    s_nasty_rows(b);
    wr_influx_point_t p;
    wr_influx_point_init(&p);
    for (uint32_t i = 0; i < b->count; i++) {
        wr_strbuf_reset(&out);
        bool written = wr_influx_line_row(&f, b, i, &out, &st);
        assert_int_equal(written, s_nasty_tag_ok(i));
        if (!written) {
            assert_int_equal(out.len, 0);
            continue;
        }
        assert_int_equal(out.buf[out.len - 1], '\n');
        assert_int_equal(wr_influx_parse_line(out.buf, out.len - 1, &p), 0);
        assert_int_equal(p.m_len, strlen("my m,eas=ure"));
        assert_memory_equal(p.text.buf, "my m,eas=ure", p.m_len);
        assert_int_equal(p.ntags, 1);
        assert_int_equal(p.tag[0].val_len, strlen(s_nasty[i]));
        assert_memory_equal(p.text.buf + p.tag[0].val, s_nasty[i], p.tag[0].val_len);
        assert_int_equal(p.nfields, 4);
        assert_int_equal(p.field[0].kind, WR_INFLUX_INT);
        assert_int_equal(p.field[0].i, i);
        assert_int_equal(p.field[1].kind, WR_INFLUX_FLOAT);
        assert_true(p.field[1].f == (double)i / 3); /* the shortest text reads back exactly */
        assert_int_equal(p.field[2].kind, WR_INFLUX_BOOL);
        assert_int_equal(p.field[2].i, i % 2);
        assert_int_equal(p.field[3].kind, WR_INFLUX_STRING);
        assert_int_equal(p.field[3].val_len, strlen(s_nasty[i]));
        assert_memory_equal(p.text.buf + p.field[3].val, s_nasty[i], p.field[3].val_len);
        assert_int_equal(p.ts, 1000 * (int64_t)(i + 1));
    }
    assert_int_equal(st.skipped, 2);
    wr_influx_point_release(&p);
    wr_strbuf_release(&out);
    wr_influx_line_release(&f);
    wr_batch_destroy(&b);
}

static void test_line_unwritable(void **state)
{
    (void)state;
    wr_batch_t *b = s_batch();
    s_row(b, "nan", 1000, 1, NAN, true, "a");       /* the NaN field left out */
    s_row(b, "ends\\", 2000, 2, 2.0, true, "b");    /* a tag ending in a backslash: skipped */
    s_row(b, "new\nline", 3000, 3, 3.0, true, "c"); /* a newline in a tag: skipped */
    s_row(b, "", 4000, 4, -INFINITY, false, "d");   /* no tag; the -Inf field left out */
    wr_influx_line_t f;
    s_fmt(&f, b, "m");
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    wr_influx_line_stats_t st = {0};
    assert_int_equal(s_format(&f, b, &out, &st), 2);
    assert_string_equal(out.buf, "m,dev=nan n=1i,ok=true,note=\"a\" 1000\n"
                                 "m n=4i,ok=false,note=\"d\" 4000\n");
    assert_int_equal(st.skipped, 2);
    assert_int_equal(st.dropped_fields, 2);
    wr_influx_line_release(&f);
    /* a point whose only field is NaN is skipped, its field not counted as dropped */
    static const int tags[] = {F_DEV}, fields[] = {F_AVG};
    assert_int_equal(wr_influx_line_init(&f, &b->schema, "m", 1, tags, 1, fields, 1, F_END), 0);
    wr_strbuf_reset(&out);
    st = (wr_influx_line_stats_t){0};
    assert_false(wr_influx_line_row(&f, b, 0, &out, &st));
    assert_int_equal(out.len, 0);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.dropped_fields, 0);
    wr_influx_line_release(&f);
    /* what cannot be a measurement, or a time */
    assert_int_equal(wr_influx_line_init(&f, &b->schema, "m\\", 2, tags, 1, fields, 1, F_END),
                     WR_EINVAL);
    assert_int_equal(wr_influx_line_init(&f, &b->schema, "m", 1, tags, 1, fields, 1, F_AVG),
                     WR_EINVAL);
    assert_int_equal(wr_influx_line_init(&f, &b->schema, "m", 1, tags, 1, fields, 0, F_END),
                     WR_EINVAL);
    wr_strbuf_release(&out);
    wr_batch_destroy(&b);
}

static void test_line_reader_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "m",          "m ",        "m v=1",         "m v=1 ",
        "m,t v=1 1", "m,t= v=1 1", "m v= 1",    "m v=\"x 1",     "m v=1x 1",
        "m v=nan 1", "m v=1 1x",   "m\\ v=1 1", "m,t=a\\ v=1 1", "m v=1,, 1",
        " m v=1 1",  "m v=1i 1 2", "m v=i 1",
    };
    wr_influx_point_t p;
    wr_influx_point_init(&p);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (wr_influx_parse_line(bad[i], strlen(bad[i]), &p) != WR_EPROTO)
            fail_msg("the reader took '%s'", bad[i]);
    const char *good = "m,t=a\\ b v=-1.5e+3,w=T,s=\"x\\\"y\" -5";
    assert_int_equal(wr_influx_parse_line(good, strlen(good), &p), 0);
    assert_true(p.field[0].f == -1500.0);
    assert_int_equal(p.field[1].i, 1);
    assert_int_equal(p.ts, -5);
    wr_influx_point_release(&p);
}

static void test_error_replies(void **state)
{
    (void)state;
    wr_strbuf_t m;
    wr_strbuf_init(&m);
    const char *v1 = "{\"error\":\"database not found: \\\"nope\\\"\"}\n";
    assert_int_equal(wr_influx_reply_error(v1, strlen(v1), &m), 0);
    assert_string_equal(m.buf, "database not found: \"nope\"");
    wr_strbuf_reset(&m);
    const char *v2 = "{\"code\":\"not found\",\"message\":\"bucket \\\"b\\\" not found\"}";
    assert_int_equal(wr_influx_reply_error(v2, strlen(v2), &m), 0);
    assert_string_equal(m.buf, "bucket \"b\" not found");
    wr_strbuf_reset(&m);
    const char *ctl = "{\"error\":\"a\\nb\\u0000c\"}";
    assert_int_equal(wr_influx_reply_error(ctl, strlen(ctl), &m), 0);
    assert_int_equal(m.len, 5);
    assert_memory_equal(m.buf, "a b c", 5);
    static const char *const bad[] = {
        "", "<html>", "{\"error\":1}", "{}", "{\"error\":\"x\"} x", "[\"error\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wr_strbuf_reset(&m);
        assert_int_equal(wr_influx_reply_error(bad[i], strlen(bad[i]), &m), WR_EPROTO);
        assert_int_equal(m.len, 0);
    }
    wr_strbuf_release(&m);
}

/* ---- the sink's writer against influxd ---- */

/* The sink's config for url and database, its defaults otherwise (measurement m; 2 retries 20 ms
 * apart); database "v2" makes it api v2 (org o, bucket "b ucket", token t), "slow" gives it a
 * timeout of 300 ms, "auth" user me, password secret. Released by s_close. */
typedef struct {
    const wr_sink_class_t *cls;
    wr_influxdb_sink_config_t c;
    void *w;
} s_sink_t;

static void s_open(s_sink_t *s, const char *url, const char *database, const wr_batch_t *b,
                   wr_strbuf_t *err)
{
    s->cls = wr_connectors_sink("influxdb", strlen("influxdb"));
    assert_non_null(s->cls);
    assert_int_equal(wr_params_defaults(s->cls->params, s->cls->nparams, &s->c), 0);
    free(s->c.url);
    s->c.url = strdup(url);
    s->c.measurement = strdup("m");
    snprintf(s->c.database, sizeof s->c.database, "%s", database);
    s->c.retries = 2;
    s->c.retry_backoff_ms = 20;
    s->c.connect_timeout_ms = 500;
    if (!strcmp(database, "v2")) { /* api v2: org o, bucket b, token t */
        s->c.api = WR_INFLUXDB_V2;
        snprintf(s->c.org, sizeof s->c.org, "o");
        snprintf(s->c.bucket, sizeof s->c.bucket, "b ucket");
        snprintf(s->c.token, sizeof s->c.token, "t");
    }
    if (!strcmp(database, "slow")) s->c.timeout_ms = 300;
    if (!strcmp(database, "auth")) {
        snprintf(s->c.username, sizeof s->c.username, "me");
        snprintf(s->c.password, sizeof s->c.password, "secret");
    }
    wr_sink_open_t o = {.schema = &b->schema, .parallelism = 1};
    int rc = s->cls->open(&s->c, &o, &s->w, err);
    if (rc) fail_msg("open: %s: %s", wr_strerror(rc), err->buf);
}

static void s_close(s_sink_t *s)
{
    s->cls->close(&s->w);
    wr_params_release(s->cls->params, s->cls->nparams, &s->c);
}

static void test_nasty_values_round_trip(void **state)
{
    (void)state;
    ti_influx_t *db = ti_start("influxd");
    ti_query(db, NULL, "CREATE DATABASE " S_DB);
    wr_batch_t *b = s_batch();
    s_nasty_rows(b);
    s_sink_t s = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    s_open(&s, db->url, S_DB, b, &err);
    assert_int_equal(s.cls->write(s.w, b, NULL, 0), 0);
    assert_int_equal(s.cls->flush(s.w), 0);
    s_close(&s);
    ti_series_t got = ti_select(db, S_DB, "SELECT * FROM m");
    int c_time = ti_col(&got, "time"), c_dev = ti_col(&got, "dev"), c_note = ti_col(&got, "note");
    int c_n = ti_col(&got, "n");
    assert_true(c_time >= 0 && c_dev >= 0 && c_note >= 0 && c_n >= 0);
    size_t want = 0;
    for (size_t i = 0; i < S_NASTY; i++) {
        if (!s_nasty_tag_ok(i)) continue;
        const char **row = NULL;
        for (size_t r = 0; r < got.nrows; r++)
            if (!strcmp(got.rows[r][c_time], ti_number(1000.0 * (double)(i + 1))))
                row = got.rows[r];
        if (!row) fail_msg("no point for '%s'", s_nasty[i]);
        assert_string_equal(row[c_dev], s_nasty[i]);
        assert_string_equal(row[c_note], s_nasty[i]);
        assert_string_equal(row[c_n], ti_number((double)i));
        want++;
    }
    assert_int_equal(got.nrows, want);
    wr_strbuf_release(&err);
    wr_batch_destroy(&b);
}

/* Writes b's one record with a sink into database; the write's or the flush's code, the sink's
 * failed_on (kept) in *why. */
static int s_write_one(const char *url, const char *database, const wr_batch_t *b, const char **why)
{
    s_sink_t s = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    s_open(&s, url, database, b, &err);
    int rc = s.cls->write(s.w, b, NULL, 0);
    if (!rc) rc = s.cls->flush(s.w);
    const char *on = s.cls->failed_on(s.w);
    *why = on ? ps_fmt("%s", on) : "";
    assert_int_equal(s.cls->flush(s.w), rc); /* a failed writer stays failed */
    s_close(&s);
    wr_strbuf_release(&err);
    return rc;
}

static void test_refused_writes(void **state)
{
    (void)state;
    ti_influx_t *db = ti_start("influxd");
    ti_query(db, NULL, "CREATE DATABASE " S_DB);
    wr_batch_t *b = s_batch();
    s_row(b, "d1", 60000, 5, 1.5, true, "x");
    const char *why;
    /* a database that does not exist: InfluxDB's 404 and its message, at once */
    int64_t t0 = ps_now_ms();
    assert_int_equal(s_write_one(db->url, "nope", b, &why), WR_ENOTFOUND);
    print_message("  missing database: %s\n", why);
    assert_non_null(strstr(why, ps_fmt("%s/write?precision=ms&db=nope", db->url)));
    assert_non_null(strstr(why, "HTTP 404: database not found: \"nope\""));
    assert_null(strstr(why, "tries"));
    /* a field type conflict: n is a string field in m already */
    th_http_t r = th_http(db->port, "POST", "/write?db=" S_DB "&precision=ms",
                          "m,dev=d0 n=\"text\" 1", strlen("m,dev=d0 n=\"text\" 1"));
    assert_int_equal(r.status, 204);
    assert_int_equal(s_write_one(db->url, S_DB, b, &why), WR_EINVAL);
    print_message("  field type conflict: %s\n", why);
    assert_non_null(strstr(why, "HTTP 400: partial write: field type conflict"));
    assert_true(ps_now_ms() - t0 < 3000); /* refusals are not retried */
    /* what curl cannot send at all (the sink's check refuses such a URL first): not retried */
    assert_int_equal(s_write_one("http://127.0.0.1:99999", S_DB, b, &why), WR_ECONFIG);
    print_message("  a malformed URL: %s\n", why);
    assert_null(strstr(why, "tries"));
    /* no InfluxDB there: retried, then failed naming the URL */
    ti_stop(db);
    t0 = ps_now_ms();
    assert_int_equal(s_write_one(db->url, S_DB, b, &why), WR_EUNREACH);
    print_message("  no server: %s (%lld ms)\n", why, (long long)(ps_now_ms() - t0));
    assert_non_null(strstr(why, db->url));
    assert_non_null(strstr(why, "no connection"));
    assert_non_null(strstr(why, "(3 tries)"));
    assert_true(ps_now_ms() - t0 >= 20 + 40); /* the backoff: 20 ms, then 40 */
    wr_batch_destroy(&b);
}

static void test_never_hangs(void **state)
{
    (void)state;
    wr_batch_t *b = s_batch();
    s_row(b, "d1", 60000, 5, 1.5, true, "x");
    /* a server that takes the connection and never answers: each try ends at the timeout */
    int port = 0, fd = ps_listen(&port);
    assert_true(fd >= 0);
    const char *url = ps_fmt("http://127.0.0.1:%d", port), *why;
    int64_t t0 = ps_now_ms();
    assert_int_equal(s_write_one(url, "slow", b, &why), WR_ETIMEDOUT);
    int64_t ms = ps_now_ms() - t0;
    print_message("  silent server: %s (%lld ms)\n", why, (long long)ms);
    assert_non_null(strstr(why, "no answer within 300 ms (3 tries)"));
    assert_true(ms >= 3 * 300 && ms < 3 * 300 + 3000);
    close(fd);
    /* api v2's endpoint, which 1.6.7 does not have: its URL and InfluxDB's 404 */
    ti_influx_t *db = ti_start("influxd");
    assert_int_equal(s_write_one(db->url, "v2", b, &why), WR_ENOTFOUND);
    print_message("  v2 on 1.6.7: %s\n", why);
    assert_non_null(strstr(
        why, ps_fmt("%s/api/v2/write?precision=ms&org=o&bucket=b%%20ucket: HTTP 404", db->url)));
    wr_batch_destroy(&b);
}

/* ---- jobs ---- */

/* The job NAME.yaml: a generator's readings, keyed sliding windows (count and sum), into an
 * exactly-once file sink in folder out (the oracle) and an InfluxDB sink (measurement readings,
 * the key device as its tag, n and s as its fields, the window's end its time). */
static const char *s_topology(const char *name, const char *out, const char *url,
                              const char *database)
{
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    unsigned devices = ps_h.asan ? 20 : 40;
    ps_write_file(path, ps_fmt("name: %s\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: %u, total: %u, jitter: 1s, "
                               "late_fraction: 0, seed: 7}\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                               "window: {type: sliding, size: 2min, slide: 20s}\n"
                               "aggregates:\n  n: count()\n  s: sum(temperature)\n"
                               "sinks:\n  - {type: file, path: %s, exactly_once: true}\n"
                               "  - {type: influxdb, url: '%s', database: %s, measurement: "
                               "readings, batch: 500, retries: 2, retry_backoff: 50ms}\n",
                               name, devices, devices * 100, out, url, database));
    return path;
}

/* The file sink's results as "device=D time=END n=N s=S" (numbers as ti_number writes them),
 * sorted. */
static char **s_from_file(const pj_output_t *o)
{
    char **v = ps_alloc((o->n ? o->n : 1) * sizeof *v);
    for (size_t i = 0; i < o->n; i++) {
        double dev = NAN, end = NAN, n = NAN, sum = NAN;
        wr_jsonr_t r;
        wr_jsonr_init(&r, o->lines[i], strlen(o->lines[i]));
        wr_jsonr_obj_begin(&r);
        while (wr_jsonr_obj_next(&r)) {
            double *at = !strcmp(r.key, "device")       ? &dev
                         : !strcmp(r.key, "window_end") ? &end
                         : !strcmp(r.key, "n")          ? &n
                         : !strcmp(r.key, "s")          ? &sum
                                                        : NULL;
            if (at)
                wr_jsonr_read_double(&r, at);
            else
                wr_jsonr_skip(&r);
        }
        if (wr_jsonr_end(&r)) fail_msg("not a result: %s", o->lines[i]);
        v[i] = (char *)ps_fmt("device=%s time=%s n=%s s=%s", ti_number(dev), ti_number(end),
                              ti_number(n), ti_number(sum));
    }
    ps_sort_strings(v, o->n);
    return v;
}

/* The points of measurement readings the same way, sorted; *n of them. */
static char **s_from_influx(const ti_influx_t *db, const char *database, size_t *n)
{
    ti_series_t got = ti_select(db, database, "SELECT * FROM readings");
    int c_time = ti_col(&got, "time"), c_dev = ti_col(&got, "device"), c_n = ti_col(&got, "n"),
        c_s = ti_col(&got, "s");
    if (c_time < 0 || c_dev < 0 || c_n < 0 || c_s < 0 || got.ncols != 4)
        fail_msg("the points have other columns than time, device, n and s");
    char **v = ps_alloc((got.nrows ? got.nrows : 1) * sizeof *v);
    for (size_t i = 0; i < got.nrows; i++) {
        const char **row = got.rows[i];
        v[i] = (char *)ps_fmt("device=%s time=%s n=%s s=%s", row[c_dev], row[c_time], row[c_n],
                              row[c_s]);
    }
    ps_sort_strings(v, got.nrows);
    *n = got.nrows;
    return v;
}

/* Fails unless the points in database are exactly the file's results. */
static void s_expect_points(const ti_influx_t *db, const char *database, const pj_output_t *file)
{
    char **want = s_from_file(file);
    size_t n;
    char **got = s_from_influx(db, database, &n);
    for (size_t i = 0; i < n && i < file->n; i++)
        if (strcmp(got[i], want[i]))
            fail_msg("point %zu: InfluxDB has '%s', the file '%s'", i, got[i], want[i]);
    if (n != file->n) fail_msg("InfluxDB has %zu points, the file %zu results", n, file->n);
}

static void test_job_points_are_the_results(void **state)
{
    (void)state;
    ti_influx_t *db = ti_start("influxd");
    ti_query(db, NULL, "CREATE DATABASE " S_DB);
    const char *out = ps_path("out");
    pj_output_t file = pj_local("job", s_topology("job", out, db->url, S_DB), out, S_JOB_MS);
    s_expect_points(db, S_DB, &file);
    print_message("  %zu points, the file's results\n", file.n);
}

static void test_job_replay_overwrites(void **state)
{
    (void)state;
    ti_influx_t *db = ti_start("influxd");
    ti_query(db, NULL, "CREATE DATABASE " S_DB);
    const char *out1 = ps_path("out1"), *out2 = ps_path("out2");
    pj_output_t first = pj_local("job1", s_topology("job1", out1, db->url, S_DB), out1, S_JOB_MS);
    s_expect_points(db, S_DB, &first);
    pj_output_t again = pj_local("job2", s_topology("job2", out2, db->url, S_DB), out2, S_JOB_MS);
    pj_expect_same("the same job again", &again, &first);
    s_expect_points(db, S_DB, &first); /* the same count and values: nothing twice */
    ti_series_t count = ti_select(db, S_DB, "SELECT count(n) FROM readings");
    assert_int_equal(count.nrows, 1);
    assert_string_equal(count.rows[0][ti_col(&count, "count")], ti_number((double)first.n));
    print_message("  %zu points after two runs\n", first.n);
}

static void test_job_fails_on_a_missing_database(void **state)
{
    (void)state;
    ti_influx_t *db = ti_start("influxd");
    const char *out = ps_path("out");
    ps_result_t r = ps_run("job",
                           PS_ARGV("local", s_topology("job", out, db->url, "nope"), "--set",
                                   "execution.checkpointing.interval=1s", "--set",
                                   ps_fmt("state.checkpoints.dir=%s", ps_path("ck")), "--set",
                                   "restart-strategy=none"),
                           S_JOB_MS);
    if (r.code == 0) fail_msg("the job did not fail");
    print_message("  weir local exited %d: %s", r.code, r.err);
    const char *all = ps_fmt("%s%s", r.out, r.err);
    assert_non_null(strstr(all, "database not found: \"nope\""));
    assert_non_null(strstr(all, db->url));
}

/* A measurement InfluxDB would read as a comment (every point dropped with a 204) is refused
 * when the topology is read, naming the key. */
static void test_a_comment_measurement_or_a_bad_url_is_refused(void **state)
{
    (void)state;
    const char *path = ps_path("comment.yaml");
    ps_write_file(path, "name: c\nsources:\n  - {type: generator, devices: 1, total: 1}\n"
                        "sinks:\n  - {type: influxdb, url: 'http://127.0.0.1:1', measurement: "
                        "'#m'}\n");
    ps_result_t r = ps_run("comment", PS_ARGV("local", path), S_JOB_MS);
    if (r.code != 2 || !strstr(r.err, "measurement: '#m' starts with '#'"))
        fail_msg("weir local exited %d:\n%s", r.code, r.err);
    /* and a URL curl could not send to, at submit rather than at the first write */
    ps_write_file(path,
                  "name: c\nsources:\n  - {type: generator, devices: 1, total: 1}\n"
                  "sinks:\n  - {type: influxdb, url: 'http://127.0.0.1:99999', measurement: m}\n");
    r = ps_run("bad-port", PS_ARGV("local", path), S_JOB_MS);
    if (r.code != 2 || !strstr(r.err, "url: 'http://127.0.0.1:99999': Port number"))
        fail_msg("weir local exited %d:\n%s", r.code, r.err);
}

/* `weir bench influxdb` runs, starts and stops its own influxd, and says what it measured. */
static void test_bench_runs(void **state)
{
    (void)state;
    ps_result_t r = ps_run("bench",
                           PS_ARGV("bench", "influxdb", "--points", "20000", "--batch", "2000",
                                   "--rounds", "1", "--json"),
                           S_JOB_MS);
    if (r.code != 0) fail_msg("weir bench influxdb exited %d: %s", r.code, r.err);
    print_message("  %s", r.out);
    assert_non_null(strstr(r.out, "\"machine\":{\"cpu\""));
    assert_non_null(strstr(r.out, "\"points\":20000,"));
    assert_non_null(strstr(r.out, "\"ratio\":"));
    assert_non_null(strstr(r.out, "\"sink_cpu_s\":"));
    assert_int_equal(ps_processes_naming("weir-bench-influxdb-"), 0);
    /* SIGTERM in the middle: it stops, says so, and leaves no influxd and no folder behind */
    ps_expect_bench_sigterm(PS_ARGV("bench", "influxdb", "--points", "2000000", "--rounds", "3"),
                            "influxdb bench:", "/tmp/weir-bench-influxdb-", 1);
}

/* A scripted HTTP server on a thread: it answers connection i with answers[i] and keeps what
 * each request's head said. */
typedef struct {
    int fd;
    const char *const *answers;
    size_t n;
    char heads[4][1024];
} s_script_t;

static void *s_script_run(void *arg)
{
    s_script_t *sc = arg;
    for (size_t i = 0; i < sc->n; i++) {
        int c = accept(sc->fd, NULL, NULL);
        if (c < 0) break;
        size_t got = 0;
        char buf[65536];
        ssize_t r;
        /* the head, then the body (Content-Length) */
        while (got < sizeof buf - 1 && (r = read(c, buf + got, sizeof buf - 1 - got)) > 0) {
            got += (size_t)r;
            buf[got] = '\0';
            const char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
            if (end && cl && got >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10)) break;
        }
        buf[got] = '\0';
        size_t keep = got < sizeof sc->heads[i] - 1 ? got : sizeof sc->heads[i] - 1;
        memcpy(sc->heads[i], buf, keep);
        sc->heads[i][keep] = '\0';
        if (write(c, sc->answers[i], strlen(sc->answers[i])) < 0) break;
        close(c);
    }
    return NULL;
}

static void test_scripted_server(void **state)
{
    (void)state;
    wr_batch_t *b = s_batch();
    s_row(b, "d1", 60000, 5, 1.5, true, "x");
    static const char *const answers[] = {
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    };
    int port = 0;
    s_script_t sc = {.fd = ps_listen(&port), .answers = answers, .n = 4};
    assert_true(sc.fd >= 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_script_run, &sc), 0);
    const char *url = ps_fmt("http://127.0.0.1:%d", port), *why;
    int rc1 = s_write_one(url, "v2", b, &why);   /* 503, 429, then 204 */
    int rc2 = s_write_one(url, "auth", b, &why); /* 204 */
    pthread_join(t, NULL);
    close(sc.fd);
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, 0);
    for (int i = 0; i < 3; i++) {
        assert_non_null(
            strstr(sc.heads[i], "POST /api/v2/write?precision=ms&org=o&bucket=b%20ucket HTTP/1.1"));
        assert_non_null(strstr(sc.heads[i], "Authorization: Token t\r\n"));
        assert_non_null(strstr(sc.heads[i], "m,dev=d1 n=5i,avg=1.5,ok=true,note=\"x\" 60000\n"));
    }
    assert_non_null(strstr(sc.heads[3], "POST /write?precision=ms&db=auth HTTP/1.1"));
    /* "me:secret" in base64 */
    assert_non_null(strstr(sc.heads[3], "Authorization: Basic bWU6c2VjcmV0\r\n"));
    wr_batch_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_escaping),
        cmocka_unit_test(test_line_unwritable),
        cmocka_unit_test(test_line_reader_refuses),
        cmocka_unit_test(test_error_replies),
        cmocka_unit_test_setup_teardown(test_nasty_values_round_trip, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_refused_writes, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_never_hangs, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_scripted_server, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_a_comment_measurement_or_a_bad_url_is_refused,
                                        ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_job_points_are_the_results, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_job_replay_overwrites, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_job_fails_on_a_missing_database, ps_setup,
                                        ps_teardown),
        cmocka_unit_test_setup_teardown(test_bench_runs, ps_setup, ps_teardown),
    };
    if (ti_group_setup("test_influxdb")) return 1;
    return cmocka_run_group_tests(tests, NULL, th_group_teardown);
}
