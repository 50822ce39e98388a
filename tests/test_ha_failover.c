/* JobManager failover through a real etcd (tests/support/etcd.h), with real `weir` processes on
 * loopback (tests/support/ha_cluster.h): the leader of an exactly-once job (a windowed job into a
 * file sink with exactly_once: true, checkpoints every second) is killed -9 three times in one
 * run, each killed JobManager started again so that a standby is always there. Each time a
 * standby takes over, restarts the job from the latest checkpoint (its log names the checkpoint;
 * it is at least the latest one `weir job` reported before the kill), and at the end the
 * committed output is, line for line, that of an uninterrupted `weir local` run.
 *
 *   - memory state backend, 2 JobManagers, the default lease and renewal (prints each takeover)
 *   - RocksDB state backend (its localdir in the test's directory), 3 JobManagers, a 2 s lease
 *
 * WEIR_TEST_FILTER=PATTERN runs only the matching tests; an ASan build runs a smaller job. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/etcd.h"
#include "tests/support/ha_cluster.h"
#include "tests/support/jobs.h"

#define S_JOB_MS 180000 /* a job runs to its end, takeovers included */
#define S_KILLS  3

/* The checkpoint number at the end of the path in the last "taken over from attempt A, restoring
 * PATH" of log; -1 when there is none. */
static long long s_restored(const char *log)
{
    const char *last = NULL;
    for (const char *p = log; (p = strstr(p, "taken over from attempt")); p++)
        last = p;
    const char *path = last ? strstr(last, "restoring ") : NULL;
    if (!path) return -1;
    size_t len = strcspn(path, "\n");
    const char *end = path + len;
    while (end > path && (end[-1] < '0' || end[-1] > '9'))
        end--;
    const char *digits = end;
    while (digits > path && digits[-1] >= '0' && digits[-1] <= '9')
        digits--;
    return digits < end ? strtoll(digits, NULL, 10) : -1;
}

/* The leader of a job with state backend `backend` killed S_KILLS times among njms JobManagers
 * with settings (NULL: the defaults). */
static void s_failovers(const char *backend, int njms, const char *const *settings)
{
    unsigned rate = ps_h.asan ? 15000 : 40000;
    pj_size_t z = {.devices = 200, .source_par = 2, .total = rate * 25ULL};
    const char *ref = ps_path("reference"), *out = ps_path("out");
    pj_output_t want = pj_local("local", pj_topology("reference", ref, &z), ref, S_JOB_MS);
    z.rate = rate;

    te_etcd_t *etcd = te_start("etcd");
    hc_cluster_t c = {.njms = njms,
                      .etcd = etcd->endpoint,
                      .settings = settings ? settings : PS_ARGV("--set", "heartbeat.timeout=2s"),
                      .jm_settings =
                          PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                  ps_fmt("state.checkpoints.dir=%s", ps_path("ck")), "--set",
                                  ps_fmt("state.backend=%s", backend), "--set",
                                  ps_fmt("state.backend.rocksdb.localdir=%s", ps_path("rocksdb")))};
    hc_start(&c);
    const char *id = pj_submit(&c.pc, pj_topology("ha", out, &z));
    const char *job = pj_wait_job(&c.pc, id, "ALL-RUNNING", 0, PC_START_MS);
    long long attempt = pj_jnum(job, "attempt");
    for (int k = 1; k <= S_KILLS; k++) {
        /* a checkpoint of this attempt completed: the takeover has one to restore */
        pj_wait_checkpoint(&c.pc, id, pj_jnum(job, "latest_checkpoint") + 1, S_JOB_MS);
        job = pj_job(&c.pc, id);
        if (!pj_all_running(job))
            PS_FAIL("the job ended before kill %d: make it longer: %s", k, job);
        long long latest = pj_jnum(job, "latest_checkpoint");
        int leader = hc_wait_leader(&c, -1, HC_TAKEOVER_MS);
        int64_t killed = ps_now_ms(), killed_day = hc_day_ms();
        hc_kill9(&c, leader);
        int next = hc_wait_leader(&c, leader, HC_TAKEOVER_MS);
        /* from the new leader's log: the CLI finds it only once a call to the dead one timed out */
        int64_t leads =
            (hc_log_time(&c, next, "leading the cluster (etcd)") - killed_day + 86400000) %
            86400000;
        job = pj_wait_job(&c.pc, id, "ALL-RUNNING", attempt + 1, S_JOB_MS);
        attempt = pj_jnum(job, "attempt");
        long long restored = s_restored(ps_read_file(c.jm[next]->err));
        print_message("  kill %d of %s: %s leads after %lld ms (its log), the job runs again after "
                      "%lld ms (attempt %lld, from checkpoint %lld; %lld before the kill)\n",
                      k, hc_jm_ids[leader], hc_jm_ids[next], (long long)leads,
                      (long long)(ps_now_ms() - killed), attempt, restored, latest);
        if (restored < latest)
            PS_FAIL("%s restored checkpoint %lld, not the latest (%lld or later)", hc_jm_ids[next],
                    restored, latest);
        hc_jm_start(&c, leader); /* a standby again */
    }
    job = pj_wait_job(&c.pc, id, "FINISHED", 0, S_JOB_MS);
    pj_output_t got = pj_committed(out);
    print_message("  %zu results in %zu part files\n", got.n, got.parts);
    pj_expect_same(ps_fmt("after %d leader kills", S_KILLS), &got, &want);
    hc_stop(&c);
}

static void test_leader_kills_memory_on_defaults(void **state)
{
    (void)state;
    s_failovers("memory", 2, NULL);
}

static void test_leader_kills_rocksdb(void **state)
{
    (void)state;
    s_failovers("rocksdb", 3,
                PS_ARGV("--set", "high-availability.etcd.lease-ttl=2s", "--set",
                        "high-availability.etcd.renew-interval=300ms", "--set",
                        "heartbeat.timeout=2s"));
}

static int s_group_setup(void **state)
{
    (void)state;
    return te_group_setup("test_ha_failover");
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_leader_kills_memory_on_defaults),
        S_TEST(test_leader_kills_rocksdb),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir HA: the leader killed during an exactly-once job",
                                       tests, s_group_setup, ps_group_teardown);
}
