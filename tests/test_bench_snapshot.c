/* `weir bench snapshot` through the real weir binary, small (20,000 keys):
 *
 *   - `--json` prints the figures: a first checkpoint of segments and a main part, the main
 *     part's times by the walk as built and by the baseline (the bench itself fails when the two
 *     walks' bytes differ), their ratio; its temp folder is gone afterwards
 *   - bad values are usage errors naming the option
 *   - SIGTERM stops it: exit 128 + 15, saying so */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_RUN_MS (ps_h.asan ? 120000 : 30000)

static void test_json(void **state)
{
    (void)state;
    ps_result_t r = ps_run("bench",
                           PS_ARGV("bench", "snapshot", "--keys", "20000", "--rounds", "3", "--p95",
                                   "--late", "500", "--json"),
                           S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir bench snapshot exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *v = tj_parse(r.out);
    if (!v) PS_FAIL("not JSON:\n%s", r.out);
    assert_string_equal(tj_str(v, "bench"), "snapshot");
    assert_true(tj_num(v, "keys") == 20000 && tj_num(v, "rounds") == 3 && tj_num(v, "late") == 500);
    assert_true(tj_get(v, "p95") && tj_get(v, "p95")->type == TJ_BOOL &&
                tj_get(v, "p95")->num == 1);
    assert_non_null(tj_str(tj_get(v, "machine"), "cpu"));
    /* 12 minutes of event time, the watermark 12 s behind: minutes 0-10 closed (kept a minute
     * longer for the allowed lateness) */
    double segs = tj_num(v, "segments"), main = tj_num(v, "main_bytes");
    if (segs < 1 || segs > 11) PS_FAIL("%g segments:\n%s", segs, r.out);
    /* every key holds its open panes in the main, and more than that in the segments */
    if (main < 20000 * 14 || tj_num(v, "first_checkpoint_bytes") < main * 2)
        PS_FAIL("sizes:\n%s", r.out);
    const tj_value_t *a = tj_get(v, "main_s"), *b = tj_get(v, "main_s_by_group");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(tj_num(a, "best") > 0 && tj_num(a, "best") <= tj_num(a, "median"));
    assert_true(tj_num(b, "best") > 0 && tj_num(b, "best") <= tj_num(b, "median"));
    assert_true(fabs(tj_num(v, "ratio") - tj_num(b, "median") / tj_num(a, "median")) < 0.01);
    /* the first checkpoint restored (the bench checks its keys and panes against the engine's):
     * every key, a pane for each minute of the 12 but the one expired, give or take the open */
    double panes = tj_num(v, "restore_panes");
    if (!(tj_num(v, "restore_s") > 0 && tj_num(v, "read_s") > 0 && panes >= 20000 * 10 &&
          panes <= 20000 * 13))
        PS_FAIL("the restore:\n%s", r.out);
    const char *tmp = getenv("TMPDIR");
    ps_expect_bench_gone(tj_str(v, "dir"),
                         ps_fmt("%s/weir-bench-snapshot-", tmp && *tmp ? tmp : "/tmp"));
}

static void test_bad_values_are_usage_errors(void **state)
{
    (void)state;
    static const char *const bad[][2] = {{"--rounds", "0"}, {"--rounds", "17"}, {"--minutes", "10"},
                                         {"--keys", "0"},   {"--keys", "x"},    {"--late", "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_result_t r =
            ps_run("bench", PS_ARGV("bench", "snapshot", bad[i][0], bad[i][1]), S_RUN_MS);
        if (r.code != 2 || !strstr(r.err, bad[i][0]))
            PS_FAIL("%s %s: exit %d:\n%s", bad[i][0], bad[i][1], r.code, r.err);
    }
    ps_result_t r = ps_run("bench", PS_ARGV("bench", "snapshot", "extra"), S_RUN_MS);
    if (r.code != 2) PS_FAIL("an extra argument: exit %d:\n%s", r.code, r.err);
    r = ps_run("bench", PS_ARGV("bench", "snapshot", "--keys", "10", "--late", "11"), S_RUN_MS);
    if (r.code != 2 || !strstr(r.err, "--late"))
        PS_FAIL("more late keys than keys: exit %d:\n%s", r.code, r.err);
}

static void test_sigterm_stops_it(void **state)
{
    (void)state;
    ps_proc_t *b = ps_start("bench", PS_ARGV("bench", "snapshot", "--keys", "2000000"), NULL);
    if (ps_wait_text(b, b->out, "machine:", 1, 20000) < 0) PS_FAIL("the bench printed no header");
    kill(b->pid, SIGTERM);
    if (!ps_wait_exit(b, 20000)) PS_FAIL("the bench did not exit after SIGTERM");
    if (ps_exit_code(b) != 128 + SIGTERM) PS_FAIL("it exited %d after SIGTERM", ps_exit_code(b));
    if (!strstr(ps_read_file(b->err), "SIGTERM received")) PS_FAIL("it did not say why it ended");
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_snapshot", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_bad_values_are_usage_errors, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_it, ps_setup, ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
