/* `weir bench pipeline` through the real weir binary, small (10,000 devices, 4M events):
 *
 *   - `--json` prints the run's figures: every event in at the source and the window, windows
 *     fired, the ratio the two rates' (the bench itself fails when a run loses or adds events)
 *   - `--serve 100ms --pairs 3` runs it 3 times more with the REST API and every node's metrics
 *     served and scraped every 100 ms, each beside a run without, in turns: every request
 *     answered (one round asks each of the 3 nodes' /metrics and 3 REST paths); each pair's
 *     ratio is its serving run's rate to the other's, and the median is the middle one
 *   - bad values of --serve and --pairs are usage errors */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_RUN_MS (ps_h.asan ? 180000 : 60000)
#define S_EVENTS 4000000

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
    double ratios[3];
    for (size_t i = 0; i < 3; i++) {
        double a = tj_num(pairs->items[i], "serving_events_per_s"),
               b = tj_num(pairs->items[i], "not_serving_events_per_s");
        ratios[i] = tj_num(pairs->items[i], "ratio");
        print_message("  pair %zu: %.0f events/s serving, %.0f not: ratio %.3f\n", i + 1, a, b,
                      ratios[i]);
        assert_true(a > 0 && b > 0 && fabs(ratios[i] - a / b) < 1e-3);
    }
    /* the median of three: the one neither below both others nor above both */
    double mid = ratios[0] + ratios[1] + ratios[2] - fmin(ratios[0], fmin(ratios[1], ratios[2])) -
                 fmax(ratios[0], fmax(ratios[1], ratios[2]));
    assert_true(fabs(tj_num(serve, "median_ratio") - mid) < 1e-3);
    assert_true(tj_num(serve, "min_ratio") <= mid && tj_num(serve, "max_ratio") >= mid);
    assert_true(tj_num(serve, "requests") >= 3 * 6); /* a round at least, per serving run */
    assert_true(tj_num(serve, "failed_requests") == 0);
    assert_true(tj_num(serve, "bytes_served") > 1000);
    assert_true(tj_num(serve, "goal_ratio") == 0.98);
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
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
