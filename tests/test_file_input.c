/* Input files as a user meets them (issue 10): long lines, bad lines skipped and shown, a failing
 * file source's teardown. Long lines and the skipped count run on the in-process cluster
 * (tests/support/cluster.h); what the CLI prints (the end-of-job line, `weir job --json`) and what
 * a process logs run as real processes (tests/support/proc_cluster.h). Every file lives in the
 * test's directory (tests/support/process.h), removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/strbuf.h"
#include "tests/support/cluster.h"
#include "tests/support/jobs.h"
#include "tests/support/proc_cluster.h"
#include "tests/support/process.h"

#define S_JOB_MS 60000

/* The in-process cluster of the running test, stopped by the teardown whatever happens. */
static tc_cluster_t *s_tc;

/* ---- input files ---- */

/* One good line: {"id": id, "s": "<len times c>"}. */
static void s_good(wr_strbuf_t *sb, int id, char c, size_t len)
{
    wr_strbuf_addf(sb, "{\"id\": %d, \"s\": \"", id);
    for (size_t i = 0; i < len; i++)
        wr_strbuf_addc(sb, c);
    wr_strbuf_adds(sb, "\"}\n");
}

/* Writes sb to the test's directory as name; returns the path. Releases sb. */
static const char *s_file(const char *name, wr_strbuf_t *sb)
{
    const char *path = ps_path(name);
    ps_write_file(path, sb->buf);
    wr_strbuf_release(sb);
    return path;
}

/* A job reading path (records {id: int, s: string}) with on_error, at parallelism 2 so that the
 * records cross an output gate to the sink's subtasks; results into a collect sink, or, when
 * sink_dir is not NULL, an exactly-once file sink there. */
static const char *s_topology(const char *name, const char *path, const char *on_error,
                              const char *sink_dir)
{
    return ps_fmt("name: %s\nparallelism: 2\nschema: {id: int, s: string}\n"
                  "sources:\n  - {type: file, path: %s, on_error: %s}\n"
                  "sinks:\n  - %s%s%s\n",
                  name, path, on_error, sink_dir ? "{type: file, exactly_once: true, path: " : "",
                  sink_dir ? sink_dir : "{type: collect", "}");
}

/* The length of the value of "s" in the collected line of record id; -1 when there is none. */
static long s_collected_len(const char *collected, int id)
{
    char head[64];
    snprintf(head, sizeof head, "{\"id\":%d,\"s\":\"", id);
    const char *p = strstr(collected, head);
    if (!p) return -1;
    p += strlen(head);
    const char *q = strchr(p, '"');
    return q ? q - p : -1;
}

/* Runs the topology on a fresh in-process cluster until it is in state `want`; the job's id. */
static const char *s_run_inproc(const char *yaml, const char *want)
{
    tc_start(&s_tc, &(tc_opts_t){.taskmanagers = 2, .slots = 2});
    char *id = ps_alloc(TC_JOB_ID_MAX);
    char why[256] = "";
    if (tc_submit(s_tc, yaml, id, why, sizeof why)) fail_msg("refused: %s", why);
    assert_true(tc_wait_state(s_tc, id, want, TC_WAIT_MS));
    return id;
}

/* The job's error as `weir job` gives it. */
static const char *s_job_error(const char *id)
{
    wr_msg_t *job = tc_job(s_tc, id);
    char *error = ps_alloc(1024);
    tc_mp_str(job, error, 1024, "error");
    wr_msg_destroy(&job);
    return error;
}

/* A file of n lines in the test's directory: line i is record i + 1 with a string of lens[i]
 * bytes, or, for a negative length, a line that is not JSON. Returns its path. */
static const char *s_lines_file(const char *name, const long *lens, int n)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (int i = 0; i < n; i++) {
        if (lens[i] < 0)
            wr_strbuf_adds(&sb, "this is not json at all\n");
        else
            s_good(&sb, i + 1, (char)('a' + i), (size_t)lens[i]);
    }
    return s_file(name, &sb);
}

/* The collect sink got record i + 1 with a string of want[i] bytes (-1: not at all). */
static void s_assert_collected(const char *id, const long *want, int n)
{
    char *collected = tc_collected(s_tc, id);
    for (int i = 0; i < n; i++) {
        long got = s_collected_len(collected, i + 1);
        if (got != want[i]) {
            free(collected);
            fail_msg("record %d: a string of %ld bytes, expected %ld", i + 1, got, want[i]);
        }
    }
    free(collected);
}

/* Was a bug: the file source read into a 128 KiB buffer, so any longer line failed the job with
 * `source: message too large`, whatever max_line said. Lines of 200 KB and of about 1 MB (under
 * the 1 MiB default) are read, and their fields reach the sink across the bus. */
static void test_long_lines_reach_the_sink(void **state)
{
    (void)state;
    static const long lens[] = {200000, 1000000, 10};
    const char *path = s_lines_file("long.jsonl", lens, 3);
    const char *id = s_run_inproc(s_topology("long", path, "fail", NULL), "FINISHED");
    s_assert_collected(id, lens, 3);
}

/* A line over max_line (2 MB against 1 MiB): under on_error: fail the job fails naming the file,
 * the line, the limit and the key that sets it. */
static void test_overlong_line_fails_naming_file_and_line(void **state)
{
    (void)state;
    static const long lens[] = {10, 2000000, 10};
    const char *path = s_lines_file("overlong.jsonl", lens, 3);
    const char *id = s_run_inproc(s_topology("overlong", path, "fail", NULL), "FAILED");
    const char *error = s_job_error(id);
    const char *want = ps_fmt("%s:2: line longer than 1048576 bytes", path);
    if (!strstr(error, want) || !strstr(error, "max_line"))
        fail_msg("the error '%s' does not say '%s' and max_line", error, want);
}

/* Under on_error: skip the overlong line and a line that is not JSON are skipped and counted
 * (`weir job`'s skipped, summed per operator); the lines around them are intact. */
static void test_overlong_and_bad_lines_skipped_and_counted(void **state)
{
    (void)state;
    static const long lens[] = {10, 2000000, 10, -1, 300000};
    static const long want[] = {10, -1, 10, -1, 300000};
    const char *path = s_lines_file("skip.jsonl", lens, 5);
    const char *id = s_run_inproc(s_topology("skip", path, "skip", NULL), "FINISHED");
    s_assert_collected(id, want, 5);
    wr_msg_t *job = tc_job(s_tc, id);
    int64_t skipped = tc_mp_int(job, "operators.0.skipped"),
            records = tc_mp_int(job, "operators.0.records_in");
    wr_msg_destroy(&job);
    assert_int_equal(skipped, 2);
    assert_int_equal(records, 3);
}

/* ---- what the CLI and the log show (processes) ---- */

/* A file of 12 bad lines among good ones under on_error: skip, submitted with --wait: the
 * end-of-job line and `weir job --json` both count 12; the TaskManager's log names the first 10
 * with file:line and why, then sums up the rest in one line. */
static void test_skipped_lines_show_in_weir_job_and_the_summary(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (int i = 1; i <= 30; i++) {
        s_good(&sb, i, 'x', 5);
        if (i <= 12) wr_strbuf_addf(&sb, "{\"id\": \"bad %d\", \"s\": \"x\"}\n", i);
    }
    const char *path = s_file("bad.jsonl", &sb);
    const char *topo = ps_path("bad.yaml");
    ps_write_file(topo, s_topology("bad", path, "skip", ps_path("out")));
    pc_cluster_t c = {0};
    pj_cluster_start(&c, NULL);
    ps_result_t r =
        ps_run("submit", PS_ARGV("submit", topo, "--wait", "--jobmanager", c.endpoint), S_JOB_MS);
    if (r.code != 0 || !strstr(r.err, "FINISHED") ||
        !strstr(r.err, "30 records in, 30 out, 0 windows fired, 0 too late, 12 bad input lines "
                       "skipped"))
        PS_FAIL("exit %d, the summary does not count 12 skipped lines:\n%s", r.code, r.err);
    /* the job's id: "weir: job ID submitted" */
    char jid[32] = "";
    if (sscanf(r.err, "weir: job %31s submitted", jid) != 1) PS_FAIL("no job id in:\n%s", r.err);
    const char *job = pj_job(&c, jid);
    if (pj_jnum(job, "skipped") != 12) PS_FAIL("weir job --json does not count 12: %s", job);
    /* and as text: the SKIPPED column of the source's row (the first), after PAR, RECORDS IN and
     * OUT, WINDOWS and LATE */
    ps_result_t table = pc_cli(&c, PS_ARGV("job", jid));
    const char *row = strchr(table.out, '\n');
    double col[6] = {0};
    if (table.code || !strstr(table.out, " SKIPPED ") || !row ||
        sscanf(row + 1 + 40, "%lf %lf %lf %lf %lf %lf", &col[0], &col[1], &col[2], &col[3], &col[4],
               &col[5]) != 6 ||
        col[5] != 12)
        PS_FAIL("weir job does not show 12 in SKIPPED:\n%s", table.out);
    /* the TaskManager that ran the source logged the first 10 and then summed up the rest */
    char *log = NULL;
    for (int i = 0; i < 2 && !log; i++) {
        char *text = ps_read_file(c.tm[i]->err);
        if (strstr(text, "skipped")) log = text;
    }
    if (!log) PS_FAIL("no TaskManager logged a skipped line");
    size_t one_by_one = ps_count(log, "file source: skipped ");
    const char *second =
        ps_fmt("skipped %s:4: id: column 8: expected an integer, found a string", path);
    if (one_by_one != 10 || !strstr(log, second) ||
        !strstr(log, ps_fmt("file source %s: 2 more bad lines skipped (12 in all)", path)))
        PS_FAIL("%zu lines logged one by one (10 expected), or no '%s', or no summary:\n%s",
                one_by_one, second, log);
    pc_cluster_stop(&c);
}

/* Was a bug: when a file source failed, a downstream subtask on the same TaskManager still
 * consumed its batches and returned credit to the source's actor, gone by then: it failed too,
 * logging `credit: no such actor` at error level. The log has the job's failure and nothing about
 * a missing actor. */
static void test_failing_file_source_tears_down_quietly(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int n = ps_h.asan ? 50000 : 200000;
    for (int i = 0; i < n; i++)
        wr_strbuf_addf(&sb, "{\"id\": %d, \"ts\": %d}\n", i % 100, i * 10);
    wr_strbuf_adds(&sb, "this is not json at all\n");
    const char *path = s_file("fails.jsonl", &sb);
    const char *topo = ps_path("fails.yaml");
    ps_write_file(topo, ps_fmt("name: fails\nparallelism: 2\nschema: {id: int, ts: time}\n"
                               "sources:\n  - {type: file, path: %s}\n"
                               "key_by: id\nevent_time: {field: ts, max_out_of_orderness: 1s}\n"
                               "window: {type: tumbling, size: 1min}\n"
                               "aggregates: {n: count()}\nsinks:\n  - {type: collect}\n",
                               path));
    for (int round = 0; round < 3; round++) {
        ps_result_t r = ps_run("local", PS_ARGV("local", topo), S_JOB_MS);
        const char *failure =
            ps_fmt("%s:%d: column 1: expected a JSON object ('{'), found 'this is not json at "
                   "all'",
                   path, n + 1);
        if (r.code != 1 || !strstr(r.err, "FAILED") || !strstr(r.err, failure))
            PS_FAIL("round %d: exit %d, no job failure '%s':\n%s", round, r.code, failure, r.err);
        if (strstr(r.err, "no such actor"))
            PS_FAIL("round %d: the teardown logged a missing actor:\n%s", round, r.err);
    }
}

static int s_setup(void **state)
{
    return ps_setup(state);
}

static int s_teardown(void **state)
{
    tc_stop(&s_tc);
    return ps_teardown(state);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_file_input", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_long_lines_reach_the_sink),
        S_TEST(test_overlong_line_fails_naming_file_and_line),
        S_TEST(test_overlong_and_bad_lines_skipped_and_counted),
        S_TEST(test_skipped_lines_show_in_weir_job_and_the_summary),
        S_TEST(test_failing_file_source_tears_down_quietly),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir file input: long lines, skipped lines, teardown",
                                       tests, s_group_setup, ps_group_teardown);
}
