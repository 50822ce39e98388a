/* What a `weir chaos` run shows (cli/chaos_report.h): the table at the end, the JSON object, the
 * HTML page and the live line, from one hand-built result with a fault of every kind, disrupted
 * and not, throughput samples and processes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/jsonr.h"
#include "cli/chaos_report.h"

/* A name from the run that needs escaping everywhere: quotes, <, >, & and a newline. */
#define S_NASTY "partition \"jm-a\" <leader> & etcd\nboth ways"

static const wr_chaos_fault_t s_faults[] = {
    {WR_CHAOS_KILL, "tm-2", "tm", "kill -9 tm-2, restarted after 1.4 s", 10000, 11400, 300, 1400,
     true},
    {WR_CHAOS_PAUSE, "tm-1", "tm", "pause tm-1 for 3.0 s", 20000, 23000, 500, 1800, true},
    {WR_CHAOS_PARTITION, "jm-a", "jm", S_NASTY, 30000, 34000, 1000, 4100, true},
    {WR_CHAOS_ETCD, "etcd-1", "etcd", "pause etcd-1 for 2.0 s", 40000, 42000, -1, -1, false},
    {WR_CHAOS_KILL, "tm-3", "tm", "kill -9 tm-3, restarted after 0.5 s", 50000, 50500, 200, 900,
     true},
    {WR_CHAOS_KILL, "jm-b", "jm", "kill -9 jm-b (leader), restarted after 2.0 s", 60000, 62000,
     3000, 6000, true},
};
#define S_NFAULTS (sizeof s_faults / sizeof *s_faults)

static const wr_chaos_sample_t s_samples[] = {
    {1000, 0},      {10000, 20000.5}, {11000, 0}, {12000, 19000}, {30000, 20000},  {31000, 0},
    {35000, 21000}, {60000, 20000},   {61000, 0}, {67000, 20000}, {70000, 12345.5}};
#define S_NSAMPLES (sizeof s_samples / sizeof *s_samples)

static void s_result(wr_chaos_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->seed = 7;
    r->duration_ms = 60000;
    r->wall_ms = 71000;
    snprintf(r->cpu, sizeof r->cpu, "Test CPU <x86> & \"friends\"");
    snprintf(r->backend, sizeof r->backend, "memory");
    snprintf(r->sink, sizeof r->sink, "exactly-once");
    r->devices = 10000;
    r->records = 1234567;
    r->reference_ms = -1;
    r->verdict = (wr_chaos_verdict_t){
        .expected = 300000, .ok = 300000, .lines = 300000, .files = 3, .valid = true};
    r->faults = s_faults;
    r->nfaults = S_NFAULTS;
    r->samples = s_samples;
    r->nsamples = S_NSAMPLES;
    r->availability = 0.93;
    r->throughput = 17654.4;
    r->ckpt_completed = 61;
    r->ckpt_failed = 2;
    r->restarts = 5;
    static const char *const names[] = {"jm-a", "jm-b", "tm-1", "tm-2", "tm-3", "etcd-1"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(r->procs[i].name, sizeof r->procs[i].name, "%s", names[i]);
        r->procs[i].peak_rss = (uint64_t)(100 + i) << 20;
        r->procs[i].starts = i == 3 ? 2 : 1;
    }
    r->nprocs = 6;
}

static void s_invalid(wr_chaos_result_t *r)
{
    r->verdict.valid = false;
    r->verdict.ok = 299997;
    r->verdict.lost = 2;
    r->verdict.duplicated = 1;
    snprintf(r->verdict.first_lost, sizeof r->verdict.first_lost,
             "{\"device\":\"d-42\",\"window_start\":60000,\"n\":6}");
    snprintf(r->verdict.first_duplicated, sizeof r->verdict.first_duplicated,
             "{\"device\":\"d-7\",\"window_start\":0,\"n\":6} (2 times)");
}

/* The table as a string (the caller frees it). */
static char *s_table(const wr_chaos_result_t *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    wr_chaos_report_table(r, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* Every line of the table t fits 100 columns. */
static void s_assert_fits(const char *t)
{
    for (const char *line = t; *line;) {
        size_t n = strcspn(line, "\n");
        if (n > 99) fail_msg("a line of %zu columns: %.*s", n, (int)n, line);
        line += n + (line[n] == '\n');
    }
}

/* ---- JSON: a reader positioned at a path ("recovery.tm.p50_ms", "faults.2.what") ---- */

static void s_at(wr_jsonr_t *j, const wr_strbuf_t *doc, const char *path)
{
    wr_jsonr_init(j, doc->buf, doc->len);
    char seg[64];
    while (*path) {
        size_t n = strcspn(path, ".");
        assert_true(n < sizeof seg);
        memcpy(seg, path, n);
        seg[n] = '\0';
        path += n + (path[n] == '.');
        bool found = false;
        if (wr_jsonr_peek(j) == WR_JSONR_ARR) {
            long idx = strtol(seg, NULL, 10);
            wr_jsonr_arr_begin(j);
            for (long i = 0; !found && wr_jsonr_arr_next(j); i++)
                if (i == idx)
                    found = true;
                else
                    wr_jsonr_skip(j);
        } else {
            wr_jsonr_obj_begin(j);
            while (!found && wr_jsonr_obj_next(j))
                if (strcmp(j->key, seg) == 0)
                    found = true;
                else
                    wr_jsonr_skip(j);
        }
        if (!found) fail_msg("no %s in the JSON (at %s): %s", seg, path, doc->buf);
    }
}

static int64_t s_int(const wr_strbuf_t *doc, const char *path)
{
    wr_jsonr_t j;
    int64_t v = 0;
    s_at(&j, doc, path);
    assert_int_equal(wr_jsonr_read_int(&j, &v), 0);
    return v;
}

static double s_double(const wr_strbuf_t *doc, const char *path)
{
    wr_jsonr_t j;
    double v = 0;
    s_at(&j, doc, path);
    assert_int_equal(wr_jsonr_read_double(&j, &v), 0);
    return v;
}

static bool s_bool(const wr_strbuf_t *doc, const char *path)
{
    wr_jsonr_t j;
    bool v = false;
    s_at(&j, doc, path);
    assert_int_equal(wr_jsonr_read_bool(&j, &v), 0);
    return v;
}

static void s_assert_str(const wr_strbuf_t *doc, const char *path, const char *want)
{
    wr_jsonr_t j;
    wr_strbuf_t v;
    wr_strbuf_init(&v);
    s_at(&j, doc, path);
    int rc = wr_jsonr_read_str(&j, &v);
    bool same = rc == 0 && strcmp(v.buf, want) == 0;
    if (!same) fprintf(stderr, "%s: \"%s\", want \"%s\"\n", path, v.buf, want);
    wr_strbuf_release(&v);
    assert_true(same);
}

/* Elements of the array at path. */
static size_t s_count(const wr_strbuf_t *doc, const char *path)
{
    wr_jsonr_t j;
    size_t n = 0;
    s_at(&j, doc, path);
    assert_int_equal(wr_jsonr_arr_begin(&j), 0);
    while (wr_jsonr_arr_next(&j)) {
        wr_jsonr_skip(&j);
        n++;
    }
    assert_int_equal(j.err, 0);
    return n;
}

static void test_the_json_holds_the_run(void **state)
{
    (void)state;
    wr_chaos_result_t r;
    s_result(&r);
    wr_strbuf_t doc;
    wr_strbuf_init(&doc);
    assert_int_equal(wr_chaos_report_json(&r, &doc), 0);
    wr_jsonr_t j;
    wr_jsonr_init(&j, doc.buf, doc.len);
    wr_jsonr_skip(&j);
    assert_int_equal(wr_jsonr_end(&j), 0); /* one value, nothing after it */
    assert_null(strchr(doc.buf, '\n'));    /* compact: one line */
    assert_true(s_bool(&doc, "valid"));
    assert_int_equal(s_int(&doc, "seed"), 7);
    assert_int_equal(s_int(&doc, "duration_ms"), 60000);
    assert_int_equal(s_int(&doc, "wall_ms"), 71000);
    s_assert_str(&doc, "cpu", r.cpu);
    s_assert_str(&doc, "backend", "memory");
    s_assert_str(&doc, "sink", "exactly-once");
    assert_int_equal(s_int(&doc, "devices"), 10000);
    assert_int_equal(s_int(&doc, "records"), 1234567);
    s_assert_str(&doc, "topology", "");
    assert_int_equal(s_int(&doc, "reference_ms"), -1);
    assert_int_equal(s_int(&doc, "verdict.expected"), 300000);
    assert_int_equal(s_int(&doc, "verdict.ok"), 300000);
    assert_int_equal(s_int(&doc, "verdict.lost"), 0);
    assert_int_equal(s_int(&doc, "verdict.duplicated"), 0);
    assert_int_equal(s_int(&doc, "verdict.unexpected"), 0);
    assert_int_equal(s_int(&doc, "verdict.lines"), 300000);
    s_assert_str(&doc, "reason", "");
    s_assert_str(&doc, "verdict.first_lost", "");
    s_assert_str(&doc, "verdict.first_duplicated", "");
    s_assert_str(&doc, "verdict.first_unexpected", "");
    assert_int_equal(s_count(&doc, "faults"), S_NFAULTS);
    for (size_t i = 0; i < S_NFAULTS; i++) {
        const wr_chaos_fault_t *f = &s_faults[i];
        char p[64];
#define S_PATH(field) (snprintf(p, sizeof p, "faults.%zu." field, i), p)
        s_assert_str(&doc, S_PATH("kind"), wr_chaos_kind_name[f->kind]);
        s_assert_str(&doc, S_PATH("target"), f->target);
        s_assert_str(&doc, S_PATH("target_kind"), f->target_kind);
        s_assert_str(&doc, S_PATH("what"), f->what);
        assert_int_equal(s_int(&doc, S_PATH("start_ms")), f->start_ms);
        assert_int_equal(s_int(&doc, S_PATH("end_ms")), f->end_ms);
        assert_int_equal(s_int(&doc, S_PATH("detect_ms")), f->detect_ms);
        assert_int_equal(s_int(&doc, S_PATH("recover_ms")), f->recover_ms);
        assert_int_equal(s_bool(&doc, S_PATH("disrupted")), f->disrupted);
#undef S_PATH
    }
    /* TaskManagers: 1400, 1800, 900 -> the median of three is 1400 */
    assert_int_equal(s_int(&doc, "recovery.tm.n"), 3);
    assert_int_equal(s_int(&doc, "recovery.tm.p50_ms"), 1400);
    assert_int_equal(s_int(&doc, "recovery.tm.max_ms"), 1800);
    /* ... by fault: kills 1400, 900 (the lower median 900), a pause 1800, no partition */
    assert_int_equal(s_int(&doc, "recovery.tm.by_fault.kill.n"), 2);
    assert_int_equal(s_int(&doc, "recovery.tm.by_fault.kill.p50_ms"), 900);
    assert_int_equal(s_int(&doc, "recovery.tm.by_fault.kill.max_ms"), 1400);
    assert_int_equal(s_int(&doc, "recovery.tm.by_fault.pause.p50_ms"), 1800);
    assert_int_equal(s_int(&doc, "recovery.tm.by_fault.partition.n"), 0);
    assert_int_equal(s_int(&doc, "recovery.tm.by_fault.partition.p50_ms"), -1);
    assert_int_equal(s_int(&doc, "recovery.jm.by_fault.kill.p50_ms"), 6000);
    /* JobManagers: 4100, 6000 -> the lower median of two is 4100 */
    assert_int_equal(s_int(&doc, "recovery.jm.n"), 2);
    assert_int_equal(s_int(&doc, "recovery.jm.p50_ms"), 4100);
    assert_int_equal(s_int(&doc, "recovery.jm.max_ms"), 6000);
    /* etcd: its one fault did not disrupt the job */
    assert_int_equal(s_int(&doc, "recovery.etcd.n"), 0);
    assert_int_equal(s_int(&doc, "recovery.etcd.p50_ms"), -1);
    assert_int_equal(s_int(&doc, "recovery.etcd.max_ms"), -1);
    assert_true(s_double(&doc, "availability") == 0.93);
    assert_true(s_double(&doc, "throughput.avg") == 17654.4);
    assert_int_equal(s_count(&doc, "throughput.samples"), S_NSAMPLES);
    assert_int_equal(s_int(&doc, "throughput.samples.10.0"), 70000);
    assert_true(s_double(&doc, "throughput.samples.10.1") == 12345.5);
    assert_int_equal(s_int(&doc, "checkpoints.completed"), 61);
    assert_int_equal(s_int(&doc, "checkpoints.failed"), 2);
    assert_int_equal(s_int(&doc, "restarts"), 5);
    assert_int_equal(s_count(&doc, "processes"), 6);
    s_assert_str(&doc, "processes.3.name", "tm-2");
    assert_int_equal(s_int(&doc, "processes.3.peak_rss"), 103 << 20);
    assert_int_equal(s_int(&doc, "processes.3.starts"), 2);
    wr_strbuf_release(&doc);
}

/* The lower median for every count from 1 to 5 of disrupted faults, unsorted input; a disrupted
 * fault after which the job never ran again is in no figure. */
static void test_recovery_p50_is_the_lower_median(void **state)
{
    (void)state;
    static const int64_t ms[] = {5000, 1000, 4000, 2000, 3000};
    static const int64_t want[] = {5000, 1000, 4000, 2000, 3000}; /* of the first 1, 2, ... 5 */
    wr_chaos_fault_t f[6];
    wr_chaos_result_t r;
    s_result(&r);
    r.faults = f;
    for (size_t n = 1; n <= 5; n++) {
        memset(f, 0, sizeof f);
        for (size_t i = 0; i < n; i++)
            f[i] = (wr_chaos_fault_t){WR_CHAOS_KILL, "tm-1", "tm", "", 0, 0, 10, ms[i], true};
        f[n] = (wr_chaos_fault_t){WR_CHAOS_KILL, "tm-2", "tm", "", 0, 0, 10, -1, true};
        r.nfaults = n + 1;
        wr_strbuf_t doc;
        wr_strbuf_init(&doc);
        assert_int_equal(wr_chaos_report_json(&r, &doc), 0);
        assert_int_equal(s_int(&doc, "recovery.tm.n"), n);
        /* the lower median of the first n: 1 -> 5000; 2 -> {1000,5000} 1000; 3 -> 4000;
         * 4 -> {1000,2000,4000,5000} 2000; 5 -> 3000 */
        assert_int_equal(s_int(&doc, "recovery.tm.p50_ms"), want[n - 1]);
        assert_int_equal(s_int(&doc, "recovery.tm.max_ms"), 5000);
        wr_strbuf_release(&doc);
    }
}

static void test_strings_are_escaped_in_the_json(void **state)
{
    (void)state;
    wr_chaos_result_t r;
    s_result(&r);
    s_invalid(&r);
    wr_strbuf_t doc;
    wr_strbuf_init(&doc);
    assert_int_equal(wr_chaos_report_json(&r, &doc), 0);
    assert_non_null(strstr(doc.buf, "partition \\\"jm-a\\\" <leader> & etcd\\nboth ways"));
    assert_null(strchr(doc.buf, '\n'));
    s_assert_str(&doc, "faults.2.what", S_NASTY);
    assert_false(s_bool(&doc, "valid"));
    assert_int_equal(s_int(&doc, "verdict.lost"), 2);
    s_assert_str(&doc, "verdict.first_lost", r.verdict.first_lost);
    s_assert_str(&doc, "verdict.first_duplicated", r.verdict.first_duplicated);
    wr_strbuf_release(&doc);
}

/* ---- the table ---- */

/* A user's job (--topology): its file and its reference run instead of the built-in job's
 * devices and records, in the table, the JSON and the page. */
static void test_a_topology_run_names_its_file_and_reference(void **state)
{
    (void)state;
    wr_chaos_result_t r;
    s_result(&r);
    snprintf(r.sink, sizeof r.sink, "topology");
    r.devices = r.records = 0;
    snprintf(r.topology, sizeof r.topology, "examples/chaos-topology.yaml");
    r.reference_ms = 9500;
    char *t = s_table(&r);
    assert_non_null(
        strstr(t, "backend memory  topology examples/chaos-topology.yaml  reference run 9.5 s\n"));
    assert_null(strstr(t, " devices "));
    free(t);
    wr_strbuf_t doc;
    wr_strbuf_init(&doc);
    assert_int_equal(wr_chaos_report_json(&r, &doc), 0);
    s_assert_str(&doc, "topology", "examples/chaos-topology.yaml");
    assert_int_equal(s_int(&doc, "reference_ms"), 9500);
    wr_strbuf_release(&doc);
}

static void test_the_table_shows_goals_and_the_verdict_last(void **state)
{
    (void)state;
    wr_chaos_result_t r;
    s_result(&r);
    char *t = s_table(&r);
    assert_non_null(strstr(t, "TaskManager recovery p50 1.4 s (goal <= 2 s: met), max 1.8 s"));
    assert_non_null(strstr(t, "  by fault: kill p50 900 ms, max 1.4 s (2); pause p50 1.8 s, max "
                              "1.8 s (1)\n"));
    assert_non_null(strstr(t, "JobManager recovery p50 4.1 s (goal <= 5 s: met), max 6.0 s"));
    assert_non_null(strstr(t, "etcd recovery: no fault disrupted the job"));
    assert_non_null(strstr(t, "throughput 17,654 records/s"));
    assert_non_null(strstr(t, "1,234,567 records"));
    assert_non_null(strstr(t, "availability 93.0 %"));
    assert_non_null(strstr(t, "checkpoints 61 completed, 2 failed  restarts 5"));
    assert_non_null(strstr(t, "tm-2"));
    /* the verdict is the last line, after the measurements */
    size_t len = strlen(t);
    assert_true(len > 1 && t[len - 1] == '\n');
    const char *last = t + len - 1;
    while (last > t && last[-1] != '\n')
        last--;
    assert_memory_equal(last, "valid: true  (", 14);
    assert_true(last > strstr(t, "peak memory"));
    s_assert_fits(t); /* the newline inside a `what` does not break a row either */
    /* a long `what` goes on under its column */
    assert_non_null(strstr(t, "  partition \"jm-a\" <leader> & etcd both\n"
                              "                                                              "
                              "ways\n"));
    free(t);
}

static void test_an_invalid_run_shows_the_first_lost_line(void **state)
{
    (void)state;
    wr_chaos_result_t r;
    s_result(&r);
    s_invalid(&r);
    r.faults = &s_faults[3]; /* the etcd one alone: no disruption of a TaskManager */
    r.nfaults = 1;
    char *t = s_table(&r);
    assert_non_null(strstr(t,
                           "valid: false  (299,997 ok of 300,000 expected; 2 lost, 1 duplicated, "
                           "0 unexpected)"));
    assert_non_null(
        strstr(t, "first lost:       {\"device\":\"d-42\",\"window_start\":60000,\"n\":6}\n"));
    assert_non_null(strstr(t, "first duplicated: {\"device\":\"d-7\""));
    assert_null(strstr(t, "first unexpected"));
    assert_non_null(strstr(t, "TaskManager recovery: no fault disrupted the job (goal <= 2 s: "
                              "not measured)"));
    assert_null(strstr(t, "invalid run:"));
    free(t);
    /* a reason besides the counts: last in the table, in the JSON */
    snprintf(r.reason, sizeof r.reason, "the job ended FAILED instead of FINISHED");
    t = s_table(&r);
    static const char last[] = "\ninvalid run: the job ended FAILED instead of FINISHED\n";
    size_t len = strlen(t);
    assert_true(len > sizeof last && !strcmp(t + len - (sizeof last - 1), last));
    free(t);
    wr_strbuf_t doc;
    wr_strbuf_init(&doc);
    assert_int_equal(wr_chaos_report_json(&r, &doc), 0);
    s_assert_str(&doc, "reason", "the job ended FAILED instead of FINISHED");
    wr_strbuf_release(&doc);
}

/* The longest names a result can hold. */
static void test_the_table_fits_100_columns_with_long_names(void **state)
{
    (void)state;
    wr_chaos_result_t r;
    s_result(&r);
    s_invalid(&r);
    wr_chaos_fault_t f = s_faults[0];
    memset(f.target, 't', sizeof f.target - 1);
    memset(f.what, 'w', sizeof f.what - 1); /* one word longer than any line */
    memset(r.cpu, 'c', sizeof r.cpu - 1);
    memset(r.verdict.first_lost, 'l', sizeof r.verdict.first_lost - 1);
    memset(r.procs[0].name, 'p', sizeof r.procs[0].name - 1);
    r.faults = &f;
    r.nfaults = 1;
    char *t = s_table(&r);
    s_assert_fits(t);
    assert_non_null(strstr(t, "ttttttttttttttttttttttttttttttt")); /* the whole target */
    free(t);
}

/* ---- the HTML page ---- */

typedef struct {
    char dir[64];
    char path[128];
} s_html_fixture_t;

static int s_html_setup(void **state)
{
    s_html_fixture_t *x = calloc(1, sizeof *x);
    if (!x) return -1;
    snprintf(x->dir, sizeof x->dir, "/tmp/weir-test_chaos_report-XXXXXX");
    if (!mkdtemp(x->dir)) return free(x), -1;
    snprintf(x->path, sizeof x->path, "%s/report.html", x->dir);
    *state = x;
    return 0;
}

static int s_html_teardown(void **state)
{
    s_html_fixture_t *x = *state;
    int rc = wr_fs_rmtree(x->dir);
    free(x);
    return rc ? -1 : 0;
}

static size_t s_occurrences(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_the_html_page_is_self_contained(void **state)
{
    s_html_fixture_t *x = *state;
    wr_chaos_result_t r;
    s_result(&r);
    s_invalid(&r);
    wr_strbuf_t err, page;
    wr_strbuf_init(&err);
    wr_strbuf_init(&page);
    assert_int_equal(wr_chaos_report_html(&r, x->path, &err), 0);
    assert_int_equal(wr_fs_read(x->path, 1 << 20, &page), 0);
    assert_memory_equal(page.buf, "<!DOCTYPE html>", 15);
    assert_non_null(strstr(page.buf, "<title>weir chaos (seed 7): valid: false</title>"));
    const char *svg = strstr(page.buf, "<svg"), *end = strstr(page.buf, "</svg>");
    assert_non_null(svg);
    assert_non_null(end);
    /* one band per fault, all inside the chart; a mark per disruption the job came back from */
    assert_int_equal(s_occurrences(page.buf, "class=\"band\""), S_NFAULTS);
    assert_true(strstr(page.buf, "class=\"band\"") > svg);
    assert_int_equal(s_occurrences(page.buf, "class=\"mark\""), 5);
    assert_int_equal(s_occurrences(page.buf, "<polyline class=\"rate\""), 1);
    /* nothing runs and nothing is fetched */
    assert_null(strstr(page.buf, "<script"));
    assert_null(strstr(page.buf, "http"));
    /* the run's strings, escaped */
    assert_non_null(strstr(page.buf, "partition &quot;jm-a&quot; &lt;leader&gt; &amp; etcd\nboth"));
    assert_null(strstr(page.buf, "<leader>"));
    assert_non_null(strstr(page.buf, "Test CPU &lt;x86&gt; &amp; &quot;friends&quot;"));
    assert_non_null(strstr(page.buf, "first lost: <code>{&quot;device&quot;:&quot;d-42&quot;"));
    /* the tables */
    assert_non_null(strstr(page.buf, "<td>tm-2</td><td>103.0 MiB</td><td>2</td>"));
    /* written through a temp file renamed over the path: nothing else is left in the folder */
    DIR *d = opendir(x->dir);
    assert_non_null(d);
    size_t entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    assert_int_equal(entries, 1);
    wr_strbuf_release(&page);
    wr_strbuf_release(&err);
}

/* Samples that are no numbers, a time before the start and no faults: a chart still, with no
 * NaN or infinity in its coordinates. */
static void test_the_chart_survives_odd_samples(void **state)
{
    s_html_fixture_t *x = *state;
    const wr_chaos_sample_t odd[] = {{-5, NAN}, {1000, INFINITY}, {2000, 5}, {3000, -INFINITY}};
    wr_chaos_result_t r;
    s_result(&r);
    r.samples = odd;
    r.nsamples = sizeof odd / sizeof *odd;
    r.faults = NULL;
    r.nfaults = 0;
    r.wall_ms = 0;
    wr_strbuf_t err, page;
    wr_strbuf_init(&err);
    wr_strbuf_init(&page);
    assert_int_equal(wr_chaos_report_html(&r, x->path, &err), 0);
    assert_int_equal(wr_fs_read(x->path, 1 << 20, &page), 0);
    char *svg = strstr(page.buf, "<svg"), *end = strstr(page.buf, "</svg>");
    assert_non_null(svg);
    assert_non_null(end);
    *end = '\0';
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    assert_null(strstr(svg, "class=\"band\""));
    assert_non_null(strstr(svg, "<polyline class=\"rate\""));
    wr_strbuf_release(&page);
    wr_strbuf_release(&err);
}

static void test_an_html_page_that_cannot_be_written_says_why(void **state)
{
    s_html_fixture_t *x = *state;
    wr_chaos_result_t r;
    s_result(&r);
    char path[200];
    snprintf(path, sizeof path, "%s/missing/report.html", x->dir);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_chaos_report_html(&r, path, &err), WR_EIO);
    assert_non_null(strstr(err.buf, path));
    assert_non_null(strstr(err.buf, "No such file"));
    wr_strbuf_reset(&err);
    snprintf(path, sizeof path, "%s/", x->dir);
    assert_int_equal(wr_chaos_report_html(&r, path, &err), WR_EIO);
    assert_non_null(strstr(err.buf, "not a file name"));
    wr_strbuf_release(&err);
}

/* ---- the live line ---- */

static void test_the_live_line(void **state)
{
    (void)state;
    wr_chaos_live_t l = {.t_ms = 42500,
                         .duration_ms = 60000,
                         .fault = "pause tm-2 3.0s",
                         .job_state = "RUNNING",
                         .leader = "jm-a",
                         .rate = 12345.4,
                         .records = 410000,
                         .total = 600000,
                         .faults_done = 6,
                         .restarts = 3};
    char line[512];
    wr_chaos_live_line(&l, 0, line, sizeof line);
    assert_string_equal(line, "chaos 0:42/1:00  RUNNING (jm-a)  12,345 rec/s  0.41M/0.60M  "
                              "faults 6  restarts 3  now: pause tm-2 3.0s");
    l = (wr_chaos_live_t){.t_ms = 3723000,
                          .duration_ms = 7200000,
                          .fault = "",
                          .job_state = "?",
                          .leader = "",
                          .records = 412,
                          .total = 600};
    wr_chaos_live_line(&l, 0, line, sizeof line);
    assert_string_equal(line, "chaos 1:02:03/2:00:00  ?  0 rec/s  412/600  faults 0  restarts 0");
}

static void test_the_live_line_never_exceeds_cols(void **state)
{
    (void)state;
    char fault[200];
    memset(fault, 'x', sizeof fault - 1);
    fault[sizeof fault - 1] = '\0';
    memcpy(fault + 20, "\xc3\xa9\n", 3); /* an é and a newline from the run */
    wr_chaos_live_t l = {.t_ms = 1000,
                         .duration_ms = 300000,
                         .fault = fault,
                         .job_state = "RESTARTING",
                         .leader = "jm-b",
                         .rate = 1e6,
                         .records = 123456789,
                         .total = 3000000000ull,
                         .faults_done = 31,
                         .restarts = 12};
    char line[512], small[16];
    for (unsigned cols = 1; cols <= 300; cols++) {
        wr_chaos_live_line(&l, cols, line, sizeof line);
        size_t n = strlen(line);
        if (n >= cols) fail_msg("%zu bytes in %u columns: %s", n, cols, line);
        assert_null(strchr(line, '\n'));
        /* never cut inside the é */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)line[i] == 0xc3) assert_true(i + 1 < n);
    }
    wr_chaos_live_line(&l, 0, small, sizeof small); /* the buffer is the limit too */
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_json_holds_the_run),
        cmocka_unit_test(test_recovery_p50_is_the_lower_median),
        cmocka_unit_test(test_strings_are_escaped_in_the_json),
        cmocka_unit_test(test_a_topology_run_names_its_file_and_reference),
        cmocka_unit_test(test_the_table_shows_goals_and_the_verdict_last),
        cmocka_unit_test(test_an_invalid_run_shows_the_first_lost_line),
        cmocka_unit_test(test_the_table_fits_100_columns_with_long_names),
        cmocka_unit_test_setup_teardown(test_the_html_page_is_self_contained, s_html_setup,
                                        s_html_teardown),
        cmocka_unit_test_setup_teardown(test_the_chart_survives_odd_samples, s_html_setup,
                                        s_html_teardown),
        cmocka_unit_test_setup_teardown(test_an_html_page_that_cannot_be_written_says_why,
                                        s_html_setup, s_html_teardown),
        cmocka_unit_test(test_the_live_line),
        cmocka_unit_test(test_the_live_line_never_exceeds_cols),
    };
    return cmocka_run_group_tests_name("weir chaos report", tests, NULL, NULL);
}
