/* The benchmarks measure what they say: small runs of `weir bench window` whose --json is checked
 * against what the options imply (the figures themselves are the benchmarks' business, not a
 * test's). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

/* Runs `weir bench ARGS... --json` and returns its one JSON object. */
static const tj_value_t *s_bench(const char *const args[])
{
    ps_result_t r = ps_run("bench", args, 120000);
    if (r.code) PS_FAIL("weir bench exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    const tj_value_t *machine = tj_get(doc, "machine");
    if (!machine || !tj_str(machine, "cpu") || isnan(tj_num(machine, "cores")))
        PS_FAIL("the machine is not named:\n%s", r.out);
    return doc;
}

/* --state fills exactly keys x size/slide panes: it once ran the rocksdb run instead (its
 * child's number had become the rocksdb run's), reporting that run's counters as keys and
 * panes. */
static void test_window_state_fills_keys_times_panes(void **state)
{
    (void)state;
    const tj_value_t *doc = s_bench(
        PS_ARGV("bench", "window", "--state", "--keys", "20000", "--size", "10min", "--json"));
    assert_string_equal(tj_str(doc, "bench"), "window-state");
    assert_true(tj_num(doc, "keys_live") == 20000);
    assert_true(tj_num(doc, "panes_per_key") == 10);
    assert_true(tj_num(doc, "panes_live") == 200000);
    assert_true(tj_num(doc, "spill_panes") == 0);
}

/* The window bench's weir and bare runs see the same stream; weir's results agree with its
 * in-process check, and every rate is positive. */
static void test_window_runs_weir_and_bare_on_one_stream(void **state)
{
    (void)state;
    const tj_value_t *doc =
        s_bench(PS_ARGV("bench", "window", "--only", "weir,bare", "--keys", "20000", "--events",
                        "400000", "--rounds", "1", "--json"));
    const tj_value_t *weir = tj_get(doc, "weir"), *bare = tj_get(doc, "bare");
    assert_non_null(weir);
    assert_non_null(bare);
    assert_true(tj_num(weir, "events_per_s") > 0);
    assert_true(tj_num(bare, "events_per_s") > 0);
    assert_true(tj_num(weir, "windows_fired") > 0);
    const tj_value_t *agree = tj_get(doc, "results_agree");
    assert_true(agree && agree->type == TJ_BOOL && agree->num == 1);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window_state_fills_keys_times_panes, ps_setup,
                                        ps_teardown),
        cmocka_unit_test_setup_teardown(test_window_runs_weir_and_bare_on_one_stream, ps_setup,
                                        ps_teardown),
    };
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir bench: what the benchmarks measure", tests,
                                       s_group_setup, ps_group_teardown);
}
