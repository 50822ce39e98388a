/* `weir bench pipeline` through the real weir binary, small (10,000 devices, 4M events, 1M under
 * ASan):
 *
 *   - `--json` prints the run's figures: every event in at the source and the window, windows
 *     fired, the ratio the two rates' (the bench itself fails when a run loses or adds events)
 *   - `--serve 100ms --pairs 3` runs it 3 times more with the REST API and every node's metrics
 *     served and scraped every 100 ms, each beside a run without, in turns: every request
 *     answered (one round asks each of the 3 nodes' /metrics and 3 REST paths); each pair's
 *     ratio is its serving run's rate to the other's, its CPU ratio the same of events per CPU
 *     second, and the medians are the middle ones; the cost at one round a second is the middle
 *     one of each pair's (1 - ratio) / its rounds a second
 *   - bad values of --serve and --pairs are usage errors
 *   - SIGTERM stops it, in the source-alone run (one thread) and while its job runs on the
 *     in-process cluster (the job canceled): exit 128 + 15 within seconds, saying so */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_RUN_MS (ps_h.asan ? 180000 : 60000)
#define S_EVENTS (ps_h.asan ? 1000000 : 4000000) /* 7 runs: 28M events cost 32 s of ASan's CPU */

/* The median of three: the one neither below both others nor above both. */
static double s_mid(const double v[3])
{
    return v[0] + v[1] + v[2] - fmin(v[0], fmin(v[1], v[2])) - fmax(v[0], fmax(v[1], v[2]));
}

static void test_serve_json(void **state)
{
    (void)state;
    ps_result_t r =
        ps_run("bench",
               PS_ARGV("bench", "pipeline", "--devices", "10000", "--events",
                       ps_fmt("%d", S_EVENTS), "--serve", "100ms", "--pairs", "3", "--json"),
               S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir bench pipeline exited %d:\n%s%s", r.code, r.out, r.err);
    const char *nl = strchr(r.out, '\n');
    if (!nl) PS_FAIL("not two JSON lines:\n%s", r.out);
    const tj_value_t *run = tj_parse(ps_fmt("%.*s", (int)(nl - r.out), r.out)),
                     *serve = tj_parse(nl + 1);
    if (!run || !serve) PS_FAIL("not two JSON lines:\n%s", r.out);
    assert_string_equal(tj_str(run, "bench"), "pipeline");
    assert_true(tj_num(run, "events") == S_EVENTS);
    assert_true(tj_num(run, "windows_fired") > 0);
    assert_string_equal(tj_str(serve, "bench"), "pipeline-serve");
    const tj_value_t *pairs = tj_get(serve, "pairs");
    if (!pairs || pairs->type != TJ_ARR || pairs->n != 3) PS_FAIL("not 3 pairs:\n%s", r.out);
    double ratios[3], cpu[3], cost[3], cpu_cost[3];
    for (size_t i = 0; i < 3; i++) {
        double a = tj_num(pairs->items[i], "serving_events_per_s"),
               b = tj_num(pairs->items[i], "not_serving_events_per_s");
        ratios[i] = tj_num(pairs->items[i], "ratio");
        print_message("  pair %zu: %.0f events/s serving, %.0f not: ratio %.3f\n", i + 1, a, b,
                      ratios[i]);
        assert_true(a > 0 && b > 0 && fabs(ratios[i] - a / b) < 1e-3);
        double ca = tj_num(pairs->items[i], "serving_events_per_cpu_s"),
               cb = tj_num(pairs->items[i], "not_serving_events_per_cpu_s");
        cpu[i] = tj_num(pairs->items[i], "cpu_ratio");
        assert_true(ca > 0 && cb > 0 && fabs(cpu[i] - ca / cb) < 1e-3);
        /* a round every 100 ms at most while the job ran (wall seconds): the bench counts the
         * cost of a run without a whole round in it as 1 */
        double per_s = tj_num(pairs->items[i], "rounds_per_s"), wall = S_EVENTS / a;
        if (per_s < 0 || per_s > 10 + 1 / wall)
            PS_FAIL("%.2f rounds a second at 100 ms:\n%s", per_s, r.out);
        cost[i] = per_s > 0 ? (1 - ratios[i]) / per_s : 1;
        cpu_cost[i] = per_s > 0 ? (1 - cpu[i]) / per_s : 1;
    }
    double mid = s_mid(ratios);
    assert_true(fabs(tj_num(serve, "median_ratio") - mid) < 1e-3);
    assert_true(fabs(tj_num(serve, "cpu_median_ratio") - s_mid(cpu)) < 1e-3);
    assert_true(fabs(tj_num(serve, "cpu_cost_at_1_round_per_s") - s_mid(cpu_cost)) < 1e-4);
    assert_true(fabs(tj_num(serve, "cost_at_1_round_per_s") - s_mid(cost)) < 1e-4);
    assert_true(tj_num(serve, "min_ratio") <= mid && tj_num(serve, "max_ratio") >= mid);
    assert_true(tj_num(serve, "requests") >= 3 * 6); /* a round at least, per serving run */
    assert_true(tj_num(serve, "failed_requests") == 0);
    assert_true(tj_num(serve, "bytes_served") > 1000);
    assert_true(tj_num(serve, "goal_cost") == 0.02);
}

static void test_bad_serve_is_a_usage_error(void **state)
{
    (void)state;
    static const char *const bad[] = {"0s", "-1s", "often"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_result_t r = ps_run("bench", PS_ARGV("bench", "pipeline", "--serve", bad[i]), S_RUN_MS);
        if (r.code != 2 || !strstr(r.err, "--serve"))
            PS_FAIL("--serve %s: exit %d:\n%s", bad[i], r.code, r.err);
    }
    static const char *const bad_pairs[] = {"0", "21", "some"};
    for (size_t i = 0; i < sizeof bad_pairs / sizeof bad_pairs[0]; i++) {
        ps_result_t r =
            ps_run("bench", PS_ARGV("bench", "pipeline", "--serve", "1s", "--pairs", bad_pairs[i]),
                   S_RUN_MS);
        if (r.code != 2 || !strstr(r.err, "--pairs"))
            PS_FAIL("--pairs %s: exit %d:\n%s", bad_pairs[i], r.code, r.err);
    }
}

/* Threads of process pid (0 when it is gone). */
static int s_threads(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Starts the bench with `events`, waits until it has at least `threads` threads (1: its header is
 * out, the source-alone run under way; more: the local cluster's), sends SIGTERM and expects it to
 * stop at once, saying so. */
static void s_expect_sigterm(const char *events, int threads)
{
    ps_proc_t *p = ps_start(
        "bench", PS_ARGV("bench", "pipeline", "--devices", "100000", "--events", events), NULL);
    if (ps_wait_text(p, p->out, "pipeline bench:", 1, S_RUN_MS) < 0)
        PS_FAIL("bench pipeline printed no header");
    int64_t deadline = ps_now_ms() + S_RUN_MS;
    while (s_threads(p->pid) < threads) {
        if (!ps_running(p) || ps_now_ms() > deadline)
            PS_FAIL("bench pipeline never ran %d threads", threads);
        ps_sleep_ms(20);
    }
    ps_expect_sigterm_stop(p, ps_h.asan ? 20000 : 10000);
}

static void test_sigterm_stops_it_in_either_phase(void **state)
{
    (void)state;
    s_expect_sigterm("4000000000", 1); /* the source alone: ~40 s of filling batches */
    s_expect_sigterm("200000000", 4);  /* the job: its filling alone takes seconds */
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_pipeline", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serve_json, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_bad_serve_is_a_usage_error, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_it_in_either_phase, ps_setup,
                                        ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
