/* JobManager high availability when etcd itself fails: a 3-member etcd (tests/support/etcd.h), 2
 * JobManagers and 2 TaskManagers as real `weir` processes on loopback (ha_cluster.h), running an
 * exactly-once job (a windowed job into a file sink with exactly_once: true, checkpoints every
 * second), with a 2 s lease renewed every 300 ms:
 *
 *   - one member killed -9, the one that leads etcd (its raft leader: the others elect anew): the
 *     job is unaffected: the leader stays, checkpoints go on past a lease, no restart, nothing
 *     taken over, and it finishes with the output of an uninterrupted `weir local` run. Here the
 *     lease is 4 s: etcd (its default 1 s election timeout, randomized up to 2 s) answered again
 *     2.7 s after its leader's kill under ASan, past the 1.7 s a 2 s lease leaves a leader, which
 *     then steps down as it should (most likely the failure CI saw once: the job taken over,
 *     attempt 1)
 *   - every member killed for longer than the lease: the leader steps down (its log says so),
 *     nothing is committed meanwhile (the committed part files do not change from 400 ms after
 *     the kill, while checkpoints are still triggered, to etcd's return), and once etcd is
 *     back a leader takes the job over from its latest checkpoint; it finishes with the output of
 *     an uninterrupted `weir local` run, line for line
 *   - the same, with the standby killed before: the leader leads again under a new epoch once etcd
 *     is back, with the TaskManagers it knew before, and the job (one that needs every slot) runs
 *     again within 15 s and finishes exactly once (it stayed RESTARTING: the slots of the jobs
 *     forgotten at the step-down were still counted as held)
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

#define S_JOB_MS               180000 /* a job runs to its end, etcd's outage included */
#define S_LEASE_MS             2000
#define S_LOST_LEADER_LEASE_MS 4000 /* outlasts etcd's election of a new leader, under ASan */
#define S_DOWN_MS              (2 * S_LEASE_MS) /* how long etcd stays down once the leader stepped down */
#define S_SETTLE_MS            400              /* a commit under way when etcd went down ends */
#define S_AGAIN_MS             15000 /* a leader that leads again runs the job again (restart, ASan, load) */

/* How many of the JobManagers' logs contain text. */
static size_t s_jm_logs_say(const hc_cluster_t *c, const char *text)
{
    size_t n = 0;
    for (int i = 0; i < c->njms; i++)
        n += c->jm[i] && strstr(ps_read_file(c->jm[i]->err), text);
    return n;
}

/* A 3-member etcd, 2 JobManagers and 2 TaskManagers running the exactly-once job of `seconds`
 * of records, past its second checkpoint (s_start, the JobManagers' lease lease_ms). */
typedef struct {
    pj_output_t want; /* the uninterrupted run's output */
    const char *out, *id;
    te_cluster_t *etcd;
    hc_cluster_t c;
    int leader; /* the JobManager that leads */
} s_run_t;

static void s_start(s_run_t *r, unsigned seconds, unsigned slots, int lease_ms)
{
    unsigned rate = ps_h.asan ? 15000 : 40000;
    pj_size_t z = {.devices = 200, .source_par = 2, .total = (unsigned long long)rate * seconds};
    const char *ref = ps_path("reference");
    r->out = ps_path("out");
    r->want = pj_local("local", pj_topology("reference", ref, &z), ref, S_JOB_MS);
    z.rate = rate;

    r->etcd = te_cluster_start("etcd");
    r->c = (hc_cluster_t){
        .njms = 2,
        .etcd = r->etcd->endpoints,
        .settings = PS_ARGV(
            "--set", ps_fmt("high-availability.etcd.lease-ttl=%ds", lease_ms / 1000), "--set",
            "high-availability.etcd.renew-interval=300ms", "--set", "heartbeat.timeout=2s", "--set",
            ps_fmt("taskmanager.numberOfTaskSlots=%u", slots)),
        .jm_settings = PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                               ps_fmt("state.checkpoints.dir=%s", ps_path("ck")))};
    hc_start(&r->c);
    r->id = pj_submit(&r->c.pc, pj_topology("etcd-faults", r->out, &z));
    pj_wait_job(&r->c.pc, r->id, "ALL-RUNNING", 0, PC_START_MS);
    pj_wait_checkpoint(&r->c.pc, r->id, 2, S_JOB_MS);
    r->leader = hc_wait_leader(&r->c, -1, HC_TAKEOVER_MS);
}

/* The job finishes; its committed output is the uninterrupted run's; every daemon stops. */
static void s_finish(s_run_t *r, const char *what)
{
    pj_wait_job(&r->c.pc, r->id, "FINISHED", 0, S_JOB_MS);
    pj_output_t got = pj_committed(r->out);
    print_message("  %zu results in %zu part files\n", got.n, got.parts);
    pj_expect_same(what, &got, &r->want);
    hc_stop(&r->c);
}

static void test_etcd_leader_member_lost(void **state)
{
    (void)state;
    s_run_t run, *r = &run;
    s_start(r, 20, 2, S_LOST_LEADER_LEASE_MS);
    hc_cluster_t *c = &r->c;
    te_cluster_t *etcd = r->etcd;
    const char *id = r->id;
    int leader = r->leader;

    /* one member of three lost: a quorum is left */
    long long before = pj_jnum(pj_job(&c->pc, id), "latest_checkpoint");
    int lost = te_cluster_leader(etcd);
    if (lost < 0) PS_FAIL("no etcd member says it leads");
    te_member_kill9(etcd, lost);
    int64_t t0 = ps_now_ms();
    /* past a lease (checkpoints every second) */
    pj_wait_checkpoint(&c->pc, id, before + S_LOST_LEADER_LEASE_MS / 1000 + 2, S_JOB_MS);
    const char *job = pj_job(&c->pc, id);
    print_message("  %s (etcd's leader) killed: checkpoints %lld to %lld completed in the %lld ms "
                  "after, attempt %lld, %lld restarts\n",
                  etcd->member[lost].name, before, pj_jnum(job, "latest_checkpoint"),
                  (long long)(ps_now_ms() - t0), pj_jnum(job, "attempt"), pj_jnum(job, "restarts"));
    if (!pj_all_running(job) || pj_jnum(job, "attempt") != 0 || pj_jnum(job, "restarts") != 0)
        PS_FAIL("the job was affected by the loss of one etcd member: %s", job);
    if (hc_leader(c) != leader || s_jm_logs_say(c, "no longer leading") ||
        s_jm_logs_say(c, "taken over"))
        PS_FAIL("the leadership changed with the loss of one etcd member");

    s_finish(r, "after the loss of etcd's leader");
}

static void test_etcd_all_members_lost(void **state)
{
    (void)state;
    s_run_t run, *r = &run;
    s_start(r, 30, 2, S_LEASE_MS);
    hc_cluster_t *c = &r->c;
    te_cluster_t *etcd = r->etcd;
    const char *id = r->id, *out = r->out;
    int leader = r->leader;
    int64_t t0;
    const char *job;

    /* every member lost for longer than the lease: the leader steps down; nothing commits from
     * S_SETTLE_MS after the kill (a checkpoint recorded in etcd before may still be committing)
     * until etcd is back: not the checkpoints triggered while etcd is gone, not after */
    te_cluster_kill9(etcd);
    t0 = ps_now_ms();
    ps_sleep_ms(S_SETTLE_MS);
    pj_output_t down = pj_committed(out);
    if (ps_wait_text(c->jm[leader], c->jm[leader]->err, "no longer leading the cluster", 1,
                     S_LEASE_MS + 10000) < 0)
        PS_FAIL("%s does not step down without etcd", hc_jm_ids[leader]);
    int64_t stepped = ps_now_ms() - t0;
    print_message("  etcd down: %s stepped down after %lld ms: %s", hc_jm_ids[leader],
                  (long long)stepped,
                  strstr(ps_read_file(c->jm[leader]->err), "no longer leading"));
    if (stepped < S_SETTLE_MS + 500)
        PS_FAIL("%s stepped down %lld ms after etcd was gone: before a checkpoint could be "
                "triggered without it",
                hc_jm_ids[leader], (long long)stepped);
    ps_sleep_ms(S_DOWN_MS);
    pj_output_t later = pj_committed(out);
    print_message("  %zu results in %zu part files committed %d ms after the kill, %zu in %zu "
                  "%lld ms after\n",
                  down.n, down.parts, S_SETTLE_MS, later.n, later.parts,
                  (long long)(ps_now_ms() - t0));
    if (later.n != down.n || later.parts != down.parts)
        PS_FAIL("committed while etcd was down: %zu results in %zu part files, then %zu in %zu",
                down.n, down.parts, later.n, later.parts);
    if (s_jm_logs_say(c, "leading the cluster (etcd), epoch") != 1 || hc_log_leads(c, 0) ||
        hc_log_leads(c, 1))
        PS_FAIL("a JobManager leads without etcd");

    /* etcd back: a leader takes the job over and it finishes exactly once */
    te_cluster_restart(etcd);
    t0 = ps_now_ms();
    int next = hc_wait_leader(c, -1, HC_TAKEOVER_MS);
    job = pj_wait_job(&c->pc, id, "ALL-RUNNING", 1, S_JOB_MS);
    print_message("  etcd back: %s leads, the job runs again %lld ms later (attempt %lld)\n",
                  hc_jm_ids[next], (long long)(ps_now_ms() - t0), pj_jnum(job, "attempt"));
    s_finish(r, "after etcd's outage");
}

static void test_etcd_lost_same_leader_again(void **state)
{
    (void)state;
    s_run_t run, *r = &run;
    s_start(r, 12, 1,
            S_LEASE_MS); /* the job needs every slot: one still held in the leader's books shows */
    hc_cluster_t *c = &r->c;
    int leader = r->leader;

    /* the standby gone, so that the leader leads again once etcd is back: under a new epoch,
     * with the TaskManagers it had before, which must register again */
    hc_kill9(c, 1 - leader);
    te_cluster_kill9(r->etcd);
    if (ps_wait_text(c->jm[leader], c->jm[leader]->err, "no longer leading the cluster", 1,
                     S_LEASE_MS + 10000) < 0)
        PS_FAIL("%s does not step down without etcd", hc_jm_ids[leader]);
    te_cluster_restart(r->etcd);
    int64_t t0 = ps_now_ms();
    if (ps_wait_text(c->jm[leader], c->jm[leader]->err, "leading the cluster (etcd)", 2,
                     HC_TAKEOVER_MS) < 0)
        PS_FAIL("%s does not lead again once etcd is back", hc_jm_ids[leader]);
    const char *job = pj_wait_job(&c->pc, r->id, "ALL-RUNNING", 1, S_AGAIN_MS);
    print_message("  etcd back: %s leads again, the job runs again %lld ms later (attempt %lld)\n",
                  hc_jm_ids[leader], (long long)(ps_now_ms() - t0), pj_jnum(job, "attempt"));
    s_finish(r, "after etcd's outage under the same leader");
}

static int s_group_setup(void **state)
{
    (void)state;
    return te_group_setup("test_ha_etcd");
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_etcd_leader_member_lost),
        S_TEST(test_etcd_all_members_lost),
        S_TEST(test_etcd_lost_same_leader_again),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir HA: etcd's faults", tests, s_group_setup,
                                       ps_group_teardown);
}
