/* `weir bench failover` through the real weir binary, the smallest run that measures both kinds
 * of loss:
 *
 *   - `--kills 1 --tm-kills 1 --json` prints one JSON object whose figures are plausible: one
 *     sample each, p50 = max = that sample, the new leader leading no sooner than the old one's
 *     lease can have expired (lease-ttl - renew-interval after the kill) and the job running after
 *     that, a TaskManager loss of at least the restart delay, the default lease-ttl and the
 *     renew-interval given with --set (which every daemon gets); and once it exited, no process it
 *     started is left and its temp folder is gone
 *   - SIGTERM in the middle of a run: it exits 128 + 15 with no process left and no folder
 *   - bad options are usage errors that start nothing
 *
 * The bench's children all name its temp folder on their command lines (etcd's data, the
 * JobManagers' checkpoints, the TaskManagers' RocksDB folder): a process left behind is one whose
 * /proc/PID/cmdline holds it. tests/support/process.h runs the bench (killed at its deadline,
 * its children then die with it: PR_SET_PDEATHSIG). WEIR_TEST_FILTER=PATTERN runs only the
 * matching tests. */
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

#include "tests/support/etcd.h"
#include "tests/support/json.h"
#include "tests/support/process.h"

/* the whole small run: well under a minute in release (the goal), daemons under ASan are slower */
#define S_RUN_MS (ps_h.asan ? 120000 : 60000)

/* The loss object name of doc: count 1, one sample whose ms is p50 and max, within bounds. */
static const tj_value_t *s_one_sample(const tj_value_t *doc, const char *name, double min_ms)
{
    const tj_value_t *loss = tj_get(doc, name), *samples = tj_get(loss, "samples");
    if (!samples || samples->type != TJ_ARR || samples->n != 1 || tj_num(loss, "count") != 1)
        PS_FAIL("%s: not one sample", name);
    const tj_value_t *s = samples->items[0];
    double ms = tj_num(s, "ms");
    if (!(ms >= min_ms && ms < S_RUN_MS))
        PS_FAIL("%s: %.0f ms is not within [%.0f, %d)", name, ms, min_ms, S_RUN_MS);
    if (tj_num(loss, "p50_ms") != ms || tj_num(loss, "max_ms") != ms)
        PS_FAIL("%s: p50 %.0f and max %.0f, but the one sample is %.0f ms", name,
                tj_num(loss, "p50_ms"), tj_num(loss, "max_ms"), ms);
    /* every step of the breakdown was found in the logs, in order, before the job ran */
    double step = tj_num(s, "first_step_ms"), deploying = tj_num(s, "deploying_ms");
    if (!(step >= 0 && step <= deploying && deploying <= ms && tj_num(s, "registered_ms") >= 0))
        PS_FAIL("%s: a breakdown out of order: first step %.0f, registered %.0f, deploying %.0f, "
                "running %.0f ms",
                name, step, tj_num(s, "registered_ms"), deploying, ms);
    return s;
}

static void test_one_kill_of_each_json(void **state)
{
    (void)state;
    ps_result_t r =
        ps_run("bench",
               PS_ARGV("bench", "failover", "--kills", "1", "--tm-kills", "1", "--steady", "0s",
                       "--set", "high-availability.etcd.renew-interval=400ms", "--json"),
               S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir bench failover exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("not one JSON object:\n%s", r.out);
    const char *dir = tj_str(doc, "dir");
    if (!dir) PS_FAIL("no dir in:\n%s", r.out);
    ps_expect_bench_gone(dir, "/tmp/weir-bench-failover-");

    assert_string_equal(tj_str(doc, "bench"), "failover");
    assert_non_null(tj_str(tj_get(doc, "machine"), "cpu"));
    assert_true(tj_num(doc, "jobmanagers") == 2 && tj_num(doc, "taskmanagers") == 2);
    /* the default lease, the renewals of the --set */
    double ttl = tj_num(doc, "lease_ttl_ms"), renew = tj_num(doc, "renew_interval_ms");
    assert_true(ttl == 3000 && renew == 400);
    assert_true(tj_num(doc, "restart_delay_ms") == 1000);

    /* the standby cannot lead before the dead leader's lease can have expired */
    const tj_value_t *l = s_one_sample(doc, "leader_loss", ttl - renew);
    if (tj_num(l, "first_step_ms") < ttl - renew)
        PS_FAIL("the new leader led %.0f ms after the kill, before the lease (%.0f ms, renewed "
                "every %.0f) could expire",
                tj_num(l, "first_step_ms"), ttl, renew);
    const char *from = tj_str(l, "killed"), *to = tj_str(l, "leader_after");
    if (!from || !to || !strcmp(from, to) || strncmp(from, "jm-", 3) || strncmp(to, "jm-", 3))
        PS_FAIL("leader %s replaced by %s", from ? from : "?", to ? to : "?");
    /* a TaskManager kill waits the restart delay before the job is deployed again */
    const tj_value_t *t = s_one_sample(doc, "taskmanager_loss", tj_num(doc, "restart_delay_ms"));
    assert_true(!strncmp(tj_str(t, "killed"), "tm-", 3));

    double ratio = tj_num(doc, "ratio_p50");
    assert_true(fabs(ratio - tj_num(l, "ms") / tj_num(t, "ms")) < 0.01);
    assert_non_null(tj_get(doc, "goal_leader_met"));
    assert_non_null(tj_get(doc, "goal_taskmanager_met"));
}

static void test_sigterm_stops_every_process(void **state)
{
    (void)state;
    ps_expect_bench_sigterm(PS_ARGV("bench", "failover", "--kills", "3"),
                            "failover bench:", "/tmp/weir-bench-failover-", 3);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *const *cases[] = {
        PS_ARGV("bench", "failover", "--jms", "4"),
        PS_ARGV("bench", "failover", "--kills", "0", "--tm-kills", "0"),
        PS_ARGV("bench", "failover", "--steady", "soon"),
        PS_ARGV("bench", "failover", "--set", "no-such.key=1"),
        PS_ARGV("bench", "failover", "extra"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_result_t r = ps_run("bad", cases[i], 10000);
        if (r.code != 2 || !strstr(r.err, "weir bench failover:"))
            PS_FAIL("case %zu exited %d:\n%s", i, r.code, r.err);
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    if (ps_group_setup("test_bench_failover", false)) return -1;
    if (!te_available()) {
        fprintf(stderr, "test_bench_failover: %s is missing (Debian's etcd-server)\n", TE_ETCD_BIN);
        return -1;
    }
    return 0;
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_one_kill_of_each_json),
        S_TEST(test_sigterm_stops_every_process),
        S_TEST(test_bad_options),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir bench failover", tests, s_group_setup,
                                       ps_group_teardown);
}
