/* `weir bench panestore` through the real weir binary, small:
 *
 *   - `--json` prints its figures: every pane's entries put, the merge over every key, the store
 *     and the in-memory baseline agreeing (the bench itself checks the merged counts and sums),
 *     the machine named; its store under --dir is gone at the end
 *   - SIGTERM stops it between two steps: exit 128 + 15 saying so, its store removed (weir blocks
 *     SIGINT and SIGTERM to wait for them; a command that never asks would ignore both) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_PREFIX "weir-bench-panestore-"

static void test_figures_agree_and_the_store_goes(void **state)
{
    (void)state;
    const char *dir = ps_path("stores");
    assert_int_equal(mkdir(dir, 0700), 0);
    ps_result_t r = ps_run(
        "bench", PS_ARGV("bench", "panestore", "--keys", "20000", "--dir", dir, "--json"), 120000);
    if (r.code != 0) PS_FAIL("bench panestore exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    assert_true(tj_get(doc, "results_agree")->num == 1);
    const tj_value_t *machine = tj_get(doc, "machine");
    if (!machine || !tj_str(machine, "cpu")) PS_FAIL("the machine is not named:\n%s", r.out);
    const tj_value_t *put = tj_get(doc, "put"), *merge = tj_get(doc, "merge");
    assert_non_null(put);
    assert_non_null(merge);
    assert_true(tj_num(put, "entries") == 11 * 20000.0); /* 11 panes of every key */
    assert_true(tj_num(merge, "keys") == 20000);
    assert_true(tj_num(merge, "entries") == 10 * 20000.0); /* a window of 10 of them */
    assert_int_equal(ps_entries_named(dir, S_PREFIX), 0);
}

static void test_sigterm_stops_it_and_removes_its_store(void **state)
{
    (void)state;
    const char *dir = ps_path("stores");
    assert_int_equal(mkdir(dir, 0700), 0);
    ps_proc_t *p = ps_start(
        "bench",
        PS_ARGV("bench", "panestore", "--keys", ps_h.asan ? "500000" : "2000000", "--dir", dir),
        NULL);
    int64_t deadline = ps_now_ms() + 60000;
    while (ps_entries_named(dir, S_PREFIX) < 1) {
        if (!ps_running(p) || ps_now_ms() > deadline) PS_FAIL("no store appeared in %s", dir);
        ps_sleep_ms(10);
    }
    ps_expect_sigterm_stop(p, 30000);
    assert_int_equal(ps_entries_named(dir, S_PREFIX), 0);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_panestore", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_figures_agree_and_the_store_goes, ps_setup,
                                        ps_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_it_and_removes_its_store, ps_setup,
                                        ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
