/* `weir bench mqtt` through the real weir binary, small, against Debian's mosquitto (which the
 * benchmark starts itself, in a folder of its own under /tmp):
 *
 *   - `--json` prints its figures: every record in messages of --per-message lines, the ratio
 *     weir's rate over mosquitto_sub's, the machine named; its broker and folder gone at the end
 *   - SIGTERM stops it mid-run: exit 128 + 15 saying so, its broker killed and its folder removed
 *     (weir blocks SIGINT and SIGTERM to wait for them; the benchmark asked for neither, and a
 *     Ctrl-C killed its broker from under it: "publishing: The client is not currently
 *     connected") */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <string.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_PREFIX "weir-bench-mqtt-"

static void test_json_figures_add_up(void **state)
{
    (void)state;
    int before = ps_entries_named("/tmp", S_PREFIX);
    ps_result_t r = ps_run(
        "bench", PS_ARGV("bench", "mqtt", "--records", "20000", "--per-message", "8", "--json"),
        120000);
    if (r.code != 0) PS_FAIL("bench mqtt exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    if (!tj_str(tj_get(doc, "machine"), "cpu")) PS_FAIL("the machine is not named:\n%s", r.out);
    assert_true(tj_num(doc, "records") == 20000);
    assert_true(tj_num(doc, "messages") == 2500); /* 8 lines a message */
    assert_true(tj_num(doc, "per_message") == 8);
    double raw = tj_num(doc, "raw_records_per_s"), weir = tj_num(doc, "weir_records_per_s");
    if (!(raw > 0 && weir > 0 && fabs(tj_num(doc, "ratio") - weir / raw) < 0.001))
        PS_FAIL("raw %.0f, weir %.0f records/s, ratio %.3f", raw, weir, tj_num(doc, "ratio"));
    assert_int_equal(ps_processes_naming("/tmp/" S_PREFIX), 0);
    assert_int_equal(ps_entries_named("/tmp", S_PREFIX), before);
}

static void test_sigterm_stops_it_and_its_broker(void **state)
{
    (void)state;
    int before = ps_entries_named("/tmp", S_PREFIX);
    ps_proc_t *p = ps_start("bench", PS_ARGV("bench", "mqtt", "--records", "3000000"), NULL);
    int64_t deadline = ps_now_ms() + 30000;
    while (ps_processes_naming("/tmp/" S_PREFIX) < 1) { /* its broker names its folder */
        if (!ps_running(p) || ps_now_ms() > deadline) PS_FAIL("bench mqtt started no broker");
        ps_sleep_ms(10);
    }
    ps_sleep_ms(500); /* publishing by now */
    ps_expect_sigterm_stop(p, ps_h.asan ? 6000 : 3000);
    assert_int_equal(ps_processes_naming("/tmp/" S_PREFIX), 0);
    assert_int_equal(ps_entries_named("/tmp", S_PREFIX), before);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_mqtt", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_figures_add_up, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_it_and_its_broker, ps_setup,
                                        ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
