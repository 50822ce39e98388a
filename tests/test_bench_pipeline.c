/* `weir bench pipeline` through the real weir binary, small (10,000 devices, 4M events):
 *
 *   - `--json` prints the run's figures: every event in at the source and the window, windows
 *     fired, the ratio the two rates' (the bench itself fails when a run loses or adds events)
 *   - `--serve 100ms` runs it again with the REST API and every node's metrics served and
 *     scraped every 100 ms, then once more without: every request answered (one round asks each
 *     of the 3 nodes' /metrics and 3 REST paths); the baseline is the mean of the runs without,
 *     and the ratio the serving run's rate to it
 *   - bad values of --serve are usage errors */
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
    ps_result_t r = ps_run("bench",
                           PS_ARGV("bench", "pipeline", "--devices", "10000", "--events",
                                   ps_fmt("%d", S_EVENTS), "--serve", "100ms", "--json"),
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
    double a = tj_num(serve, "events_per_s"),
           b = tj_num(serve, "baseline_not_serving_events_per_s");
    print_message("  %.0f events/s serving, %.0f not: ratio %.3f; %.0f requests\n", a, b,
                  tj_num(serve, "ratio"), tj_num(serve, "requests"));
    assert_true(b > 0); /* the mean of the runs around it */
    assert_true(a > 0 && fabs(tj_num(serve, "ratio") - a / b) < 1e-3);
    assert_true(tj_num(serve, "requests") >= 6); /* a round at least */
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
