/* The seeded schedule of `weir chaos` (cli/chaos_nemesis.h): the same arguments give the same
 * faults, a short run covers every allowed kind, --targets and --faults restrict what is drawn,
 * and the lists parse or name what is wrong. No process is started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bus/base/error.h"
#include "cli/chaos_nemesis.h"

#define S_MAX     64
#define S_ALL     ((1u << WR_CHAOS_NKINDS) - 1)
#define S_JM0     WR_CHAOS_ETCDS
#define S_TM0     (WR_CHAOS_ETCDS + WR_CHAOS_JMS)
#define S_MEMBERS (WR_CHAOS_ETCDS + WR_CHAOS_JMS + WR_CHAOS_TMS)

static void test_same_seed_same_schedule(void **state)
{
    (void)state;
    wr_chaos_plan_t a[S_MAX], b[S_MAX], c[S_MAX];
    assert_int_equal(wr_chaos_nemesis_schedule(1, S_ALL, WR_CHAOS_TARGETS_ALL, 10000, a, S_MAX),
                     S_MAX);
    assert_int_equal(wr_chaos_nemesis_schedule(1, S_ALL, WR_CHAOS_TARGETS_ALL, 10000, b, S_MAX),
                     S_MAX);
    assert_int_equal(wr_chaos_nemesis_schedule(2, S_ALL, WR_CHAOS_TARGETS_ALL, 10000, c, S_MAX),
                     S_MAX);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    for (size_t i = 0; i < S_MAX; i++) {
        /* the interval +-30%, holds in their ranges */
        assert_in_range(a[i].gap_ms, 7000, 13000);
        assert_in_range(a[i].hold_ms, 0, 6000);
        assert_true(a[i].node < S_MEMBERS);
        if (a[i].kind == WR_CHAOS_PAUSE) assert_in_range(a[i].hold_ms, 500, 6000);
        if (a[i].kind == WR_CHAOS_KILL) assert_in_range(a[i].hold_ms, 0, 3000);
        if (a[i].variant == WR_CHAOS_V_ETCD_QUORUM) {
            assert_in_range(a[i].node, 0, WR_CHAOS_ETCDS - 1);
            assert_in_range(a[i].node2, 0, WR_CHAOS_ETCDS - 1);
            assert_int_not_equal(a[i].node, a[i].node2);
        }
    }
}

/* Every round holds each allowed kind once: 8 faults (60 s at 5 s) cover kill, pause, partition
 * and etcd twice; 32 faults cover every variant and both JobManagers' and TaskManagers' kills. */
static void test_rounds_cover_every_kind_and_variant(void **state)
{
    (void)state;
    wr_chaos_plan_t p[S_MAX];
    for (uint64_t seed = 1; seed <= 20; seed++) {
        assert_int_equal(
            wr_chaos_nemesis_schedule(seed, S_ALL, WR_CHAOS_TARGETS_ALL, 5000, p, S_MAX), S_MAX);
        int kinds[WR_CHAOS_NKINDS] = {0}, variants[WR_CHAOS_NVARIANTS] = {0};
        bool kill_jm = false, kill_tm = false, pause_jm = false, pause_tm = false;
        for (size_t i = 0; i < 8; i++)
            kinds[p[i].kind]++;
        for (int k = 0; k < WR_CHAOS_NKINDS; k++)
            assert_int_equal(kinds[k], 2);
        for (size_t i = 0; i < 32; i++) {
            variants[p[i].variant]++;
            /* a JobManager's kill or pause is resolved (leader or standby) when applied */
            bool jm = p[i].variant == WR_CHAOS_V_NODE && p[i].node < 0, tm = p[i].node >= S_TM0;
            kill_jm |= p[i].kind == WR_CHAOS_KILL && jm;
            kill_tm |= p[i].kind == WR_CHAOS_KILL && tm;
            pause_jm |= p[i].kind == WR_CHAOS_PAUSE && jm;
            pause_tm |= p[i].kind == WR_CHAOS_PAUSE && tm;
        }
        for (int v = 0; v < WR_CHAOS_NVARIANTS; v++)
            assert_true(variants[v] > 0);
        assert_true(kill_jm && kill_tm && pause_jm && pause_tm);
    }
}

/* A JobManager's kills and pauses are aimed at the leader and the standby in turn, the leader
 * first, whatever the seed: a seed must not decide whether the leader is ever hit. */
static void test_jobmanager_faults_hit_the_leader_first(void **state)
{
    (void)state;
    wr_chaos_plan_t p[S_MAX];
    unsigned kill_only = 1u << WR_CHAOS_KILL, pause_only = 1u << WR_CHAOS_PAUSE;
    for (uint64_t seed = 1; seed <= 20; seed++)
        for (int k = 0; k < 2; k++) {
            size_t n = wr_chaos_nemesis_schedule(seed, k ? pause_only : kill_only,
                                                 WR_CHAOS_TARGET(WR_CHAOS_NODE_JM), 5000, p, 6);
            assert_int_equal(n, 6);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(p[i].variant, WR_CHAOS_V_NODE);
                assert_int_equal(p[i].node, -1);
                assert_int_equal(p[i].standby, i % 2 == 1);
            }
        }
}

static void test_targets_and_faults_restrict(void **state)
{
    (void)state;
    wr_chaos_plan_t p[S_MAX];
    unsigned tm = WR_CHAOS_TARGET(WR_CHAOS_NODE_TM);
    /* --faults kill --targets tm: TaskManagers only */
    assert_int_equal(wr_chaos_nemesis_schedule(3, 1u << WR_CHAOS_KILL, tm, 5000, p, S_MAX), S_MAX);
    for (size_t i = 0; i < S_MAX; i++) {
        assert_int_equal(p[i].kind, WR_CHAOS_KILL);
        assert_in_range(p[i].node, S_TM0, S_MEMBERS - 1);
    }
    /* --faults partition --targets tm: a TaskManager from the others, or the leader from them */
    assert_int_equal(wr_chaos_nemesis_schedule(3, 1u << WR_CHAOS_PARTITION, tm, 5000, p, S_MAX),
                     S_MAX);
    for (size_t i = 0; i < S_MAX; i++)
        assert_true(p[i].variant != WR_CHAOS_V_LEADER_ETCD_BOTH);
    /* --faults etcd --targets tm: nothing to draw, a usage error */
    assert_false(wr_chaos_nemesis_allowed(1u << WR_CHAOS_ETCD, tm));
    assert_int_equal(wr_chaos_nemesis_schedule(3, 1u << WR_CHAOS_ETCD, tm, 5000, p, S_MAX), 0);
    /* --faults kill --targets etcd: etcd members are killed then */
    unsigned etcd = WR_CHAOS_TARGET(WR_CHAOS_NODE_ETCD);
    assert_true(wr_chaos_nemesis_allowed(1u << WR_CHAOS_KILL, etcd));
    assert_int_equal(wr_chaos_nemesis_schedule(3, 1u << WR_CHAOS_KILL, etcd, 5000, p, S_MAX),
                     S_MAX);
    for (size_t i = 0; i < S_MAX; i++)
        assert_in_range(p[i].node, 0, WR_CHAOS_ETCDS - 1);
}

static void test_parse_list(void **state)
{
    (void)state;
    static const char *const names[] = {"kill", "pause", "partition", "etcd"};
    unsigned mask = 0;
    char bad[32];
    assert_int_equal(wr_chaos_parse_list("kill,etcd", names, 4, &mask, bad, sizeof bad), 0);
    assert_int_equal(mask, 1u << 0 | 1u << 3);
    assert_int_equal(wr_chaos_parse_list("kill,bogus", names, 4, &mask, bad, sizeof bad),
                     WR_EINVAL);
    assert_string_equal(bad, "bogus");
    assert_int_equal(wr_chaos_parse_list("kill,", names, 4, &mask, bad, sizeof bad), WR_EINVAL);
    assert_string_equal(bad, "");
    assert_int_equal(wr_chaos_parse_list("", names, 4, &mask, bad, sizeof bad), WR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_schedule),
        cmocka_unit_test(test_rounds_cover_every_kind_and_variant),
        cmocka_unit_test(test_jobmanager_faults_hit_the_leader_first),
        cmocka_unit_test(test_targets_and_faults_restrict),
        cmocka_unit_test(test_parse_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
