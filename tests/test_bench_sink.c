/* `weir bench sink` through the real weir binary, small:
 *
 *   - `--json` prints its figures: the rows rounded up to whole batches, the sinks' output the
 *     same bytes as the printf baseline's, each speed-up the baseline's time over the sink's,
 *     the machine named
 *   - SIGTERM stops it within a second however many rows it was given: exit 128 + 15 saying so
 *     (weir blocks SIGINT and SIGTERM to wait for them; a benchmark that never asks ignores both
 *     to its end, minutes later here) */
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

#include "tests/support/json.h"
#include "tests/support/process.h"

static void test_json_figures_add_up(void **state)
{
    (void)state;
    ps_result_t r = ps_run(
        "bench", PS_ARGV("bench", "sink", "--rows", "20000", "--rounds", "2", "--json"), 60000);
    if (r.code != 0) PS_FAIL("bench sink exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    assert_string_equal(tj_str(doc, "bench"), "sink");
    if (!tj_str(tj_get(doc, "machine"), "cpu")) PS_FAIL("the machine is not named:\n%s", r.out);
    assert_true(tj_num(doc, "rows") == 20480); /* 20 batches of 1024 */
    assert_true(tj_num(doc, "rounds") == 2);
    const tj_value_t *same = tj_get(doc, "identical_output");
    assert_true(same && same->type == TJ_BOOL && same->num == 1);
    static const char *const kinds[] = {"text", "json"};
    for (int k = 0; k < 2; k++) {
        double ns = tj_num(doc, ps_fmt("%s_ns_per_row", kinds[k])),
               rate = tj_num(doc, ps_fmt("%s_rows_per_s", kinds[k])),
               base = tj_num(doc, ps_fmt("%s_baseline_ns_per_row", kinds[k])),
               speedup = tj_num(doc, ps_fmt("%s_speedup", kinds[k]));
        if (!(ns > 0 && base > 0 && fabs(rate - 1e9 / ns) <= 0.01 * rate &&
              fabs(speedup - base / ns) <= 0.01 * speedup))
            PS_FAIL("%s: %.1f ns/row, %.0f rows/s, baseline %.1f ns/row, speed-up %.2f", kinds[k],
                    ns, rate, base, speedup);
    }
}

/* Whether process pid blocks SIGTERM (weir's main does before anything else that takes time). */
static bool s_blocks_sigterm(pid_t pid)
{
    char *status = ps_slurp(ps_fmt("/proc/%d/status", (int)pid));
    const char *blk = strstr(status, "\nSigBlk:");
    bool yes = blk && (strtoull(blk + 8, NULL, 16) >> (SIGTERM - 1) & 1);
    free(status);
    return yes;
}

static void test_sigterm_stops_it(void **state)
{
    (void)state;
    /* 100M rows: about ten minutes of formatting, were SIGTERM not asked for */
    ps_proc_t *p = ps_start("bench", PS_ARGV("bench", "sink", "--rows", "100000000"), NULL);
    int64_t deadline = ps_now_ms() + 10000;
    while (!s_blocks_sigterm(p->pid)) {
        if (!ps_running(p) || ps_now_ms() > deadline) PS_FAIL("bench sink never blocked SIGTERM");
        ps_sleep_ms(5);
    }
    ps_sleep_ms(300); /* into its first round */
    ps_expect_sigterm_stop(p, ps_h.asan ? 5000 : 1000);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_sink", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_figures_add_up, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_it, ps_setup, ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
