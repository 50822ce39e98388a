/* `weir bench iot` through the real weir binary, at a small scale:
 *
 *   - memory backend with p95, checkpoints off, every 300 ms, and every 300 ms with a kill,
 *     the generator paced so that each job lasts at least 3.6 s, `--json`: three runs, each job
 * FINISHED with plausible figures (events/s = readings / duration; the checkpointed runs completed
 * checkpoints with sizes; the kill run restarted once and recovered no sooner than the restart
 * delay; every process's peak RSS), the ratio to checkpoints off is the quotient of the two runs'
 * rates; and once it exited, no process it started is left and its temp folder is gone
 *   - SIGTERM in the middle of a run: it exits 128 + 15 with no process left and no folder
 *   - bad options are usage errors that start nothing
 *
 * The bench's children all name its temp folder on their command lines (the JobManager's
 * checkpoints, the TaskManagers' RocksDB folder). WEIR_TEST_FILTER=PATTERN runs only the matching
 * tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/fs.h"
#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_RUN_MS  (ps_h.asan ? 240000 : 120000)
#define S_DEVICES "6000"
#define S_MINUTES "30" /* 1.08M readings (30 minutes: panes expire, as in the steady state) ... */
#define S_RATE                                                                                     \
    "300000" /* ... in at least 3.6 s on any machine: two checkpoints come before the kill         \
                (20,000 devices and 3.6M readings at 1M a second cost three times the CPU, 32 s    \
                of the ASan suite's, for no other check) */

/* The run of doc with that checkpoint interval and kill; fails when there is not exactly one. */
static const tj_value_t *s_run(const tj_value_t *doc, double interval_ms, bool kill)
{
    const tj_value_t *runs = tj_get(doc, "runs"), *found = NULL;
    for (size_t i = 0; runs && runs->type == TJ_ARR && i < runs->n; i++) {
        const tj_value_t *r = runs->items[i];
        if (tj_num(r, "checkpoint_interval_ms") == interval_ms && tj_get(r, "kill") &&
            tj_get(r, "kill")->type == TJ_BOOL && tj_get(r, "kill")->num == (kill ? 1 : 0)) {
            if (found) PS_FAIL("two runs with checkpoints every %.0f ms", interval_ms);
            found = r;
        }
    }
    if (!found) PS_FAIL("no run with checkpoints every %.0f ms, kill %d", interval_ms, kill);
    return found;
}

static void test_three_runs_json(void **state)
{
    (void)state;
    ps_result_t r = ps_run("bench",
                           PS_ARGV("bench", "iot", "--devices", S_DEVICES, "--minutes", S_MINUTES,
                                   "--backends", "memory", "--p95", "with", "--checkpoints",
                                   "off,300ms", "--kill", "--rate", S_RATE, "--json"),
                           S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir bench iot exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("not one JSON object:\n%s", r.out);
    const char *dir = tj_str(doc, "dir");
    if (!dir) PS_FAIL("no dir in:\n%s", r.out);
    ps_expect_bench_gone(dir, "/tmp/weir-bench-iot-");

    assert_string_equal(tj_str(doc, "bench"), "iot");
    assert_non_null(tj_str(tj_get(doc, "machine"), "cpu"));
    double events = tj_num(doc, "events");
    assert_true(events == 6000.0 * 30 * 6);
    const tj_value_t *runs = tj_get(doc, "runs");
    assert_true(runs && runs->type == TJ_ARR && runs->n == 3);
    for (size_t i = 0; i < runs->n; i++) {
        const tj_value_t *x = runs->items[i];
        assert_string_equal(tj_str(x, "backend"), "memory");
        assert_true(tj_get(x, "p95") && tj_get(x, "p95")->num == 1);
        double ms = tj_num(x, "duration_ms"), eps = tj_num(x, "events_per_s");
        if (!(ms > 0 && fabs(eps - events * 1000.0 / ms) <= 1.0))
            PS_FAIL("run %zu: %.0f events/s, but %.0f readings in %.0f ms", i, eps, events, ms);
        const tj_value_t *rss = tj_get(x, "peak_rss");
        if (!(tj_num(rss, "jm") > 1e6 && tj_num(rss, "tm-1") > 1e6 && tj_num(rss, "tm-2") > 1e6))
            PS_FAIL("run %zu: a peak RSS under 1 MB", i);
    }
    const tj_value_t *off = s_run(doc, 0, false), *on = s_run(doc, 300, false),
                     *kill = s_run(doc, 300, true);
    assert_true(tj_num(off, "checkpoints") == 0 && tj_num(off, "restarts") == 0);
    assert_true(tj_num(off, "recovery_ms") == -1 && tj_num(on, "recovery_ms") == -1);
    for (const tj_value_t *x = on; x; x = x == on ? kill : NULL) {
        double n = tj_num(x, "checkpoints"), p50 = tj_num(x, "checkpoint_p50_ms"),
               max = tj_num(x, "checkpoint_max_ms");
        double align = tj_num(x, "alignment_max_ms"); /* within a checkpoint's duration */
        if (!(n >= 2 && p50 >= 0 && p50 <= max && tj_num(x, "full_size_max") > 0 && align >= 0 &&
              align <= max))
            PS_FAIL("%.0f checkpoints, p50 %.0f ms, max %.0f ms, alignment max %.0f ms, full size "
                    "max %.0f",
                    n, p50, max, align, tj_num(x, "full_size_max"));
        const tj_value_t *each = tj_get(x, "checkpoint_durations_ms"); /* the max among them */
        assert_true(each && each->type == TJ_ARR && each->n == (size_t)(n < 64 ? n : 64));
        double most = 0;
        for (size_t k = 0; k < each->n; k++)
            most = each->items[k]->num > most ? each->items[k]->num : most;
        assert_true(most == max || n > 64); /* (the first 64 are listed) */
        const tj_value_t *incr = tj_get(x, "checkpoint_incremental_bytes"); /* each its own */
        assert_true(incr && incr->type == TJ_ARR && incr->n == each->n);
        for (size_t k = 0; k < incr->n; k++)
            if (!(incr->items[k]->num > 0 && incr->items[k]->num <= tj_num(x, "full_size_max")))
                PS_FAIL("checkpoint %zu: incremental %.0f bytes, full max %.0f", k + 1,
                        incr->items[k]->num, tj_num(x, "full_size_max"));
        /* 30 minutes of event time: the window is full for the last 19 (checkpoints seen then) */
        double steady = tj_num(x, "steady_checkpoints"),
               sratio = tj_num(x, "steady_incremental_ratio_p50");
        if (!(steady >= 1 && steady < n && sratio > 0 && sratio <= 1 &&
              tj_num(x, "steady_incremental_size_p50") > 0))
            PS_FAIL("%.0f of %.0f checkpoints in the steady state, incremental p50 %.0f bytes, "
                    "%.4f of full",
                    steady, n, tj_num(x, "steady_incremental_size_p50"), sratio);
        double ratio = tj_num(x, "ratio_to_checkpoints_off");
        assert_true(fabs(ratio - tj_num(x, "events_per_s") / tj_num(off, "events_per_s")) < 0.01);
    }
    /* the kill: one restart, recovered after the restart delay (1 s) and within a minute */
    assert_true(tj_num(on, "restarts") == 0);
    double rec = tj_num(kill, "recovery_ms");
    if (tj_num(kill, "restarts") != 1 || !(rec >= 1000 && rec < 60000))
        PS_FAIL("the kill run: %.0f restarts, recovery %.0f ms", tj_num(kill, "restarts"), rec);
}

static void test_sigterm_stops_every_process(void **state)
{
    (void)state;
    ps_expect_bench_sigterm(PS_ARGV("bench", "iot", "--devices", "2000000"),
                            "iot bench:", "/tmp/weir-bench-iot-", 3);
}

/* The daemons leave the REST API's and the metrics' default ports (8081, 9249) alone: the
 * JobManager serves both on ports the kernel picked, no daemon warns of a port taken. */
static void test_daemons_take_no_default_port(void **state)
{
    (void)state;
    ps_result_t r =
        ps_run("bench",
               PS_ARGV("bench", "iot", "--devices", "2000", "--minutes", "2", "--backends",
                       "memory", "--p95", "without", "--checkpoints", "off", "--keep", "--json"),
               S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir bench iot exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    const char *dir = doc ? tj_str(doc, "dir") : NULL;
    if (!dir || strncmp(dir, "/tmp/weir-bench-iot-", 20)) PS_FAIL("no dir in:\n%s", r.out);
    static const char *const files[] = {"jm-1.1.out", "jm-1.1.log", "tm-1.1.log", "tm-2.1.log"};
    char failure[600] = "";
    for (size_t i = 0; i < sizeof files / sizeof files[0] && !failure[0]; i++) {
        char *text = ps_slurp(ps_fmt("%s/%s", dir, files[i]));
        const char *rest = strstr(text, "REST API on http://127.0.0.1:"),
                   *metrics = strstr(text, "metrics on http://127.0.0.1:");
        if (strstr(text, "no REST API") || strstr(text, "no Prometheus metrics") ||
            (i == 0 &&
             (!rest || atoi(rest + 29) == 8081 || !metrics || atoi(metrics + 28) == 9249)))
            snprintf(failure, sizeof failure, "%s: a default port, or one taken:\n%.400s", files[i],
                     text);
        free(text);
    }
    wr_fs_rmtree(dir);
    if (failure[0]) PS_FAIL("%s", failure);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *const *cases[] = {
        PS_ARGV("bench", "iot", "--backends", "memory,disk"),
        PS_ARGV("bench", "iot", "--p95", "maybe"),
        PS_ARGV("bench", "iot", "--checkpoints", "off,10s,20s"),
        PS_ARGV("bench", "iot", "--checkpoints", "off", "--kill"),
        PS_ARGV("bench", "iot", "--devices", "0"),
        PS_ARGV("bench", "iot", "--parallelism", "3"),
        PS_ARGV("bench", "iot", "--rate", "fast"),
        PS_ARGV("bench", "iot", "--set", "no-such.key=1"),
        PS_ARGV("bench", "iot", "extra"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_result_t r = ps_run("bad", cases[i], 10000);
        if (r.code != 2 || !strstr(r.err, "weir bench iot:"))
            PS_FAIL("case %zu exited %d:\n%s", i, r.code, r.err);
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_iot", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_three_runs_json),
        S_TEST(test_sigterm_stops_every_process),
        S_TEST(test_daemons_take_no_default_port),
        S_TEST(test_bad_options),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir bench iot", tests, s_group_setup, ps_group_teardown);
}
