/* JobManager high availability through a real etcd (tests/support/etcd.h), with real `weir`
 * processes on loopback (tests/support/ha_cluster.h): who leads, and who may not.
 *
 *   - election with 2 JobManagers on the default lease and renewal, and with 3 on fast ones:
 *     exactly one leads (etcd names it and only its log says so); `weir jobs` asked through etcd
 *     alone or through any JobManager (a standby answers NOT_LEADER and the CLI follows it) names
 *     that leader, its epoch, and the others as standbys with their endpoints
 *   - split brain: the leader of an exactly-once job paused (SIGSTOP) past its lease; a standby
 *     takes over and the job restarts on it; resumed (SIGCONT), the old leader logs that it no
 *     longer leads, every TaskManager stays with the new leader's epoch (what the old one sent is
 *     refused, and counted in their logs), and the committed output is exactly an uninterrupted
 *     run's: the old leader committed nothing
 *   - a TaskManager of another cluster id is refused at registration: the JobManager's answer
 *     names both ids, the TaskManager logs it, and it gets no slot
 *
 * WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
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

#define S_JOB_MS 120000 /* a job runs to its end, a takeover included */

/* Lease and renewal short enough for tests that wait for a lease to expire. */
static const char *const s_fast[] = {"--set", "high-availability.etcd.lease-ttl=2s",
                                     "--set", "high-availability.etcd.renew-interval=300ms",
                                     "--set", "heartbeat.timeout=2s",
                                     NULL};

/* Fails unless `weir jobs` (text and --json) asked via (a JobManager's index; -1: etcd alone)
 * names leader and every other JobManager of c as a standby at its endpoint. */
static void s_expect_named(hc_cluster_t *c, int via, int leader)
{
    const char *how = via < 0 ? "--etcd" : ps_fmt("--jobmanager %s", hc_jm_ids[via]);
    ps_result_t r = via < 0 ? hc_cli(c, PS_ARGV("jobs", "--json"))
                            : hc_cli_via(c, via, PS_ARGV("jobs", "--json"));
    const tj_value_t *doc = r.code == 0 ? tj_parse(r.out) : NULL;
    if (!doc) PS_FAIL("`weir jobs --json %s` exited %d:\n%s%s", how, r.code, r.out, r.err);
    const char *named = tj_str(doc, "leader"), *ha = tj_str(doc, "ha");
    if (!named || strcmp(named, hc_jm_ids[leader]) || !ha || strcmp(ha, "etcd") ||
        tj_num(doc, "epoch") <= 0)
        PS_FAIL("`weir jobs --json %s` does not name %s the leader: %s", how, hc_jm_ids[leader],
                r.out);
    const tj_value_t *standbys = tj_get(doc, "standbys");
    size_t want = 0;
    for (int i = 0; i < c->njms; i++) {
        if (i == leader) continue;
        want++;
        bool found = false;
        for (size_t k = 0; standbys && standbys->type == TJ_ARR && k < standbys->n; k++) {
            const char *node = tj_str(standbys->items[k], "node");
            const char *ep = tj_str(standbys->items[k], "endpoint");
            found |= node && ep && !strcmp(node, hc_jm_ids[i]) && !strcmp(ep, c->endpoint[i]);
        }
        if (!found)
            PS_FAIL("`weir jobs --json %s` does not list %s at %s as a standby: %s", how,
                    hc_jm_ids[i], c->endpoint[i], r.out);
    }
    if (!standbys || standbys->type != TJ_ARR || standbys->n != want)
        PS_FAIL("`weir jobs --json %s` lists other standbys than the %zu others: %s", how, want,
                r.out);

    /* the text: "leader jm-b (etcd, epoch 3); standbys: jm-a (tcp://...), ..." */
    r = via < 0 ? hc_cli(c, PS_ARGV("jobs")) : hc_cli_via(c, via, PS_ARGV("jobs"));
    const char *first = ps_fmt("leader %s (etcd, epoch %lld); standbys: ", hc_jm_ids[leader],
                               (long long)tj_num(doc, "epoch"));
    if (r.code != 0 || strncmp(r.out, first, strlen(first)))
        PS_FAIL("`weir jobs %s` exited %d and does not begin with \"%s\":\n%s%s", how, r.code,
                first, r.out, r.err);
    for (int i = 0; i < c->njms; i++)
        if (i != leader && !strstr(r.out, ps_fmt("%s (%s)", hc_jm_ids[i], c->endpoint[i])))
            PS_FAIL("`weir jobs %s` does not name the standby %s (%s):\n%s", how, hc_jm_ids[i],
                    c->endpoint[i], r.out);
}

/* Waits until `weir jobs --json --etcd` lists n standbys: the leader lists them as it last read
 * the candidates from etcd (every renew-interval). */
static void s_wait_standbys(hc_cluster_t *c, size_t n)
{
    const tj_value_t *doc = NULL, *standbys = NULL;
    for (int64_t t0 = ps_now_ms(); ps_now_ms() - t0 < PC_START_MS; ps_poll_pause(100)) {
        hc_leader_doc(c, &doc);
        standbys = doc ? tj_get(doc, "standbys") : NULL;
        if (standbys && standbys->type == TJ_ARR && standbys->n == n) return;
    }
    PS_FAIL("the leader does not list %zu standbys after %d ms", n, PC_START_MS);
}

/* njms JobManagers campaign with settings: exactly one leads, and every way of asking says so. */
static void s_election(int njms, const char *const *settings)
{
    te_etcd_t *etcd = te_start("etcd");
    hc_cluster_t c = {.njms = njms, .etcd = etcd->endpoint, .settings = settings, .ntms = -1};
    hc_start(&c);
    int leader = hc_leader(&c), leading = 0;
    for (int i = 0; i < njms; i++) {
        leading += hc_log_leads(&c, i);
        const char *log = ps_read_file(c.jm[i]->err);
        if (!strstr(log, "candidate for the leadership of cluster default"))
            PS_FAIL("%s did not campaign", hc_jm_ids[i]);
    }
    if (leader < 0 || leading != 1 || !hc_log_leads(&c, leader))
        PS_FAIL("%d JobManagers say they lead; etcd names %s", leading,
                leader >= 0 ? hc_jm_ids[leader] : "none");
    s_wait_standbys(&c, (size_t)njms - 1);
    s_expect_named(&c, -1, leader);
    for (int i = 0; i < njms; i++)
        s_expect_named(&c, i, leader);
    print_message("  %s leads of %d\n", hc_jm_ids[leader], njms);
    hc_stop(&c);
}

static void test_election_of_2_on_defaults(void **state)
{
    (void)state;
    s_election(2, NULL);
}

static void test_election_of_3(void **state)
{
    (void)state;
    s_election(3, s_fast);
}

/* ---- split brain ---- */

/* The epoch of the last "registered with <jm>/jobmanager ..., epoch E" in a TaskManager's log;
 * -1 when there is none. */
static long long s_registered_epoch(const char *log, const char *jm)
{
    const char *key = ps_fmt("registered with %s/", jm), *last = NULL;
    for (const char *p = log; (p = strstr(p, key)); p++)
        last = p;
    const char *at = last ? strstr(last, "epoch ") : NULL;
    return at ? strtoll(at + 6, NULL, 10) : -1;
}

static void test_split_brain(void **state)
{
    (void)state;
    unsigned rate = ps_h.asan ? 20000 : 60000;
    pj_size_t z = {.devices = 200, .rate = rate, .source_par = 2, .total = rate * 12ULL};
    const char *ref = ps_path("reference"), *out = ps_path("out");
    z.rate = 0;
    pj_output_t want = pj_local("local", pj_topology("reference", ref, &z), ref, S_JOB_MS);
    z.rate = rate;

    te_etcd_t *etcd = te_start("etcd");
    hc_cluster_t c = {.njms = 2,
                      .etcd = etcd->endpoint,
                      .settings = s_fast,
                      .jm_settings =
                          PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                  ps_fmt("state.checkpoints.dir=%s", ps_path("ck")))};
    hc_start(&c);
    const char *id = pj_submit(&c.pc, pj_topology("sb", out, &z));
    pj_wait_job(&c.pc, id, "ALL-RUNNING", 0, PC_START_MS);
    pj_wait_checkpoint(&c.pc, id, 2, S_JOB_MS);
    int old = hc_leader(&c);
    if (old < 0) PS_FAIL("no leader");
    ps_result_t r = hc_cli(&c, PS_ARGV("jobs", "--json"));
    long long old_epoch = pj_jnum(r.out, "epoch");

    int64_t t0 = ps_now_ms();
    hc_pause(&c, old);
    int next = hc_wait_leader(&c, old, HC_TAKEOVER_MS);
    const char *job = pj_wait_job(&c.pc, id, "ALL-RUNNING", 1, S_JOB_MS);
    r = hc_cli(&c, PS_ARGV("jobs", "--json"));
    long long new_epoch = pj_jnum(r.out, "epoch");
    print_message("  %s paused; %s leads (epoch %lld after %lld), the job runs again (attempt "
                  "%lld) %lld ms later\n",
                  hc_jm_ids[old], hc_jm_ids[next], new_epoch, old_epoch, pj_jnum(job, "attempt"),
                  (long long)(ps_now_ms() - t0));
    assert_true(new_epoch > old_epoch);

    hc_resume(&c, old);
    if (ps_wait_text(c.jm[old], c.jm[old]->err, "no longer leading the cluster", 1, 10000) < 0)
        PS_FAIL("%s, resumed, does not say it no longer leads", hc_jm_ids[old]);
    print_message("  %s resumed: %s", hc_jm_ids[old],
                  strstr(ps_read_file(c.jm[old]->err), "no longer leading"));
    job = pj_wait_job(&c.pc, id, "FINISHED", 0, S_JOB_MS);
    assert_int_equal(hc_leader(&c), next);
    assert_false(hc_log_leads(&c, old));

    /* every TaskManager ends with the new leader's epoch; whatever the old leader sent them
     * after was refused (by the TaskManager, or dropped by a subtask), and nothing else was */
    for (int t = 0; t < PC_MAX_TMS; t++) {
        const char *log = ps_read_file(c.pc.tm[t]->err);
        long long with_new = s_registered_epoch(log, hc_jm_ids[next]);
        long long with_old = s_registered_epoch(log, hc_jm_ids[old]);
        if (with_new != new_epoch || with_old > old_epoch)
            PS_FAIL("%s registered with %s at epoch %lld and %s at %lld; the leader's is %lld",
                    pc_tm_ids[t], hc_jm_ids[next], with_new, hc_jm_ids[old], with_old, new_epoch);
        size_t nlines, refused = 0;
        char **lines = ps_lines(c.pc.tm[t]->err, &nlines);
        for (size_t i = 0; i < nlines; i++) {
            if (!strstr(lines[i], " of epoch ") ||
                (!strstr(lines[i], "refusing ") && !strstr(lines[i], "dropping ")))
                continue;
            refused++;
            if (!strstr(lines[i], ps_fmt("from %s/", hc_jm_ids[old])))
                PS_FAIL("%s refused a message not from %s: %s", pc_tm_ids[t], hc_jm_ids[old],
                        lines[i]);
        }
        print_message("  %s: registered with %s at epoch %lld, %zu messages of %s refused\n",
                      pc_tm_ids[t], hc_jm_ids[next], with_new, refused, hc_jm_ids[old]);
    }
    pj_output_t got = pj_committed(out);
    print_message("  %zu results in %zu part files\n", got.n, got.parts);
    pj_expect_same("after the split brain", &got, &want);
    hc_stop(&c);
}

/* ---- cluster ids ---- */

static void test_taskmanager_of_another_cluster_refused(void **state)
{
    (void)state;
    te_etcd_t *etcd = te_start("etcd");
    hc_cluster_t c = {.njms = 2, .etcd = etcd->endpoint, .settings = s_fast, .ntms = 1};
    hc_start(&c);
    int leader = hc_leader(&c);
    /* tm-b of cluster "other", pointed at the leader directly (etcd names no leader of "other") */
    ps_proc_t *tm = ps_start(
        "tm-b-other",
        PS_ARGV("taskmanager", "--id", "tm-b", "--bind",
                ps_fmt("tcp://127.0.0.1:%d", ps_free_port()), "--jobmanager", c.endpoint[leader],
                "--set", ps_fmt("jobmanager.node-id=%s", hc_jm_ids[leader]), "--set",
                "high-availability.cluster-id=other", "--set", "heartbeat.timeout=2s"),
        ps_h.daemon_env);
    const char *said = "TaskManager tm-b belongs to cluster 'other', this JobManager to 'default'";
    if (ps_wait_text(tm, tm->err, said, 1, PC_START_MS) < 0)
        PS_FAIL("tm-b does not log the refusal \"%s\"", said);
    if (ps_wait_text(c.jm[leader], c.jm[leader]->err, "refusing a registration", 1, PC_START_MS) <
        0)
        PS_FAIL("%s does not log the refusal", hc_jm_ids[leader]);
    print_message("  %s", strstr(ps_read_file(tm->err), "taskmanager: "));
    ps_sleep_ms(1000); /* registrations retried meanwhile are refused too */
    if (strstr(ps_read_file(c.jm[leader]->err), "taskmanager tm-b registered"))
        PS_FAIL("%s registered tm-b", hc_jm_ids[leader]);
    ps_result_t r = hc_cli(&c, PS_ARGV("actors", "--json"));
    const tj_value_t *doc = r.code == 0 ? tj_parse(r.out) : NULL;
    if (!doc || doc->type != TJ_ARR) PS_FAIL("weir actors --json exited %d:\n%s", r.code, r.err);
    const tj_value_t *own = pc_node_row(doc, "tm-a", NULL), *other = pc_node_row(doc, "tm-b", NULL);
    if (!own || tj_num(own, "slots") <= 0) PS_FAIL("tm-a of the cluster has no slots: %s", r.out);
    if (other && tj_num(other, "slots") > 0) PS_FAIL("tm-b got slots: %s", r.out);
    assert_true(ps_running(tm));
    pc_stop_daemons(&tm, 1);
    hc_stop(&c);
}

static int s_group_setup(void **state)
{
    (void)state;
    return te_group_setup("test_ha_election");
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_election_of_2_on_defaults),
        S_TEST(test_election_of_3),
        S_TEST(test_taskmanager_of_another_cluster_refused),
        S_TEST(test_split_brain),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir HA: election and fencing through etcd", tests,
                                       s_group_setup, ps_group_teardown);
}
