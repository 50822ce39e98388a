/* The authenticated bus (issue 12; bus/keys.h, bus/curve.h) against real `weir` processes on
 * loopback with security on, as the keys ps_group_setup made (tests/support/process.h): the
 * attacker is a raw czmq DEALER of the test speaking bus/envelope.h. A peer without a key, or with
 * a key of another cluster, is refused at the handshake and counted; a valid TaskManager key
 * using the JobManager's routing id is dropped and counted as an impostor, by the JobManager (its
 * frames) and by a TaskManager (whose own connection holds that id: libzmq parks the impostor's,
 * which stays silent), and the TaskManagers carry on, none of their traffic going to the
 * impostor; a TaskManager key offering 65,536 slots, a job at parallelism 4096, tm-b registering
 * with another TaskManager's key and savepoints outside the roots (/etc too) are refused, with
 * nothing deployed or written; a viewer may look but not cancel (the error names the role), an
 * admin may; a client certificate removed from the public folder is refused from then on, and the
 * CLI says its key was refused; a process without its keys does not start and says to run `weir
 * keygen`. Every test keeps a job running and checks it still is.
 *
 * Needs WEIR_BIN (`scons test` sets it); the DEALER is closed in the teardown, the processes
 * killed. WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <czmq.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/fs.h"
#include "bus/envelope.h"
#include "bus/messages.h"
#include "bus/proto.h"
#include "tests/support/jobs.h"
#include "tests/support/proc_cluster.h"

#define S_JOB_MS    30000 /* a job starts running */
#define S_ANSWER_MS 1500  /* what an answer to the DEALER would take at most */

static struct {
    zsock_t *dealer;
    char revoked[700], from[700]; /* a certificate moved out of public/ by a test, and where it
                                     was: put back in the teardown */
    char etc[64];                 /* a folder in /etc a refused savepoint must not make */
} s_t;

static int s_group_setup(void **state)
{
    (void)state;
    int rc = ps_group_setup("test_security", false);
    zsys_handler_set(NULL);
    return rc;
}

static int s_teardown(void **state)
{
    ps_kill_all();
    zsock_destroy(&s_t.dealer);
    if (s_t.revoked[0]) rename(s_t.revoked, s_t.from);
    s_t.revoked[0] = '\0';
    if (s_t.etc[0]) wr_fs_rmtree(s_t.etc); /* (only there when a refusal failed) */
    s_t.etc[0] = '\0';
    return ps_teardown(state);
}

/* A cluster with a job that runs until the test ends (the JobManager with jm_settings too,
 * NULL: none); the job's id. */
static const char *s_cluster_with_job(pc_cluster_t *c, const char *const jm_settings[])
{
    pj_cluster_start(c, jm_settings);
    const char *topo = ps_path("job.yaml");
    ps_write_file(topo, ps_fmt("name: steady\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: 50, total: 100000000, rate: 2000, "
                               "seed: 1}\n"
                               "key_by: device\nevent_time: {field: ts}\n"
                               "window: {type: tumbling, size: 1s}\naggregates:\n  n: count()\n"
                               "sinks:\n  - {type: file, path: %s}\n",
                               ps_path("out")));
    const char *id = pj_submit(c, topo);
    pj_wait_job(c, id, "ALL-RUNNING", 0, S_JOB_MS);
    return id;
}

/* The DEALER of the test as node id `identity`, connected to endpoint; with keys (me, server
 * and the folder dir, NULL: the cluster's) when me is not NULL. */
static void s_dealer(const char *identity, const char *endpoint, const char *dir, const char *me,
                     const char *server)
{
    zsock_destroy(&s_t.dealer);
    s_t.dealer = zsock_new(ZMQ_DEALER);
    assert_non_null(s_t.dealer);
    zsock_set_identity(s_t.dealer, identity);
    zsock_set_linger(s_t.dealer, 0);
    zsock_set_sndtimeo(s_t.dealer, 1000);
    zsock_set_rcvtimeo(s_t.dealer, S_ANSWER_MS);
    if (me) pc_curve_client(s_t.dealer, dir, me, server);
    assert_int_equal(zsock_connect(s_t.dealer, "%s", endpoint), 0);
}

/* Sends an envelope of type from -> to with payload (NULL: nil) on the DEALER; a send the
 * connection never takes (no handshake) is not an error. */
static void s_dealer_send(uint16_t type, const char *from, const char *to, const void *payload,
                          size_t len)
{
    wr_envelope_t env = {.type = type,
                         .corr = 7,
                         .payload = payload ? payload : "\xc0",
                         .payload_len = payload ? len : 1};
    snprintf(env.from, sizeof env.from, "%s", from);
    snprintf(env.to, sizeof env.to, "%s", to);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_envelope_encode(&env, &sb), 0);
    zmq_send(zsock_resolve(s_t.dealer), sb.data, sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}

/* Whether the DEALER got any answer within S_ANSWER_MS. */
static bool s_dealer_answered(void)
{
    zframe_t *f = zframe_recv(s_t.dealer);
    bool got = f != NULL;
    zframe_destroy(&f);
    return got;
}

/* A counter of node's row in `weir actors --json`. */
static double s_count(const pc_cluster_t *c, const char *node, const char *field)
{
    double v = tj_num(pc_node_row(pc_actors(c), node, NULL), field);
    assert_false(isnan(v));
    return v;
}

/* Waits up to 5 s for node's counter field to exceed before. */
static double s_wait_count(const pc_cluster_t *c, const char *node, const char *field,
                           double before)
{
    int64_t end = ps_now_ms() + 5000;
    double v;
    while ((v = s_count(c, node, field)) <= before && ps_now_ms() < end)
        ps_poll_pause(100);
    if (v <= before)
        PS_FAIL("%s's %s stayed at %.0f: %s", node, field, before,
                pc_cli(c, PS_ARGV("actors", "--json")).out);
    return v;
}

/* The job still runs, on both TaskManagers as before, in its first attempt. */
static void s_job_unharmed(pc_cluster_t *c, const char *id)
{
    const char *job = pj_job(c, id);
    if (!pj_all_running(job) || pj_jnum(job, "attempt") != 0)
        PS_FAIL("the job was harmed: %s", job);
    ps_result_t r = pc_cli(c, PS_ARGV("actors", "--json"));
    if (r.code || !strstr(r.out, "\"tm-a\"") || !strstr(r.out, "\"tm-b\""))
        PS_FAIL("a TaskManager is gone: %s%s", r.out, r.err);
}

static void test_peer_without_a_key_is_refused_and_counted(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    const char *id = s_cluster_with_job(&c, NULL);
    double before = s_count(&c, "jm-1", "refused");

    /* plaintext, as the attacker: a cancel and a jobs request */
    s_dealer("garbage-1", c.endpoint, NULL, NULL, NULL);
    wr_msg_job_ref_t cancel = {0};
    snprintf(cancel.job, sizeof cancel.job, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_job_ref_pack(&cancel, &sb), 0);
    s_dealer_send(WR_MSG_JOB_CANCEL, "garbage-1/cli", "jm-1/jobmanager", sb.data, sb.size);
    s_dealer_send(WR_MSG_JOBS_REQ, "garbage-1/cli", "jm-1/jobmanager", NULL, 0);
    msgpack_sbuffer_destroy(&sb);
    assert_false(s_dealer_answered());

    s_wait_count(&c, "jm-1", "refused", before);
    if (!strstr(ps_read_file(c.jm->err), "refused a connection on"))
        PS_FAIL("the JobManager did not log the refusal");
    s_job_unharmed(&c, id);
    pc_cluster_stop(&c);
}

static void test_key_of_another_cluster_is_refused(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    const char *id = s_cluster_with_job(&c, NULL);
    /* another cluster's keys, with the same names; the JobManager's public key is no secret */
    const char *other = ps_path("other-keys");
    ps_result_t r =
        ps_run("keygen", PS_ARGV("keygen", "--keys-dir", other, "--taskmanager", "tm-a"), 20000);
    assert_int_equal(r.code, 0);
    char cp[1400];
    snprintf(cp, sizeof cp, "cp %s/public/jm-1 %s/public/jm-1", ps_h.keys, other);
    assert_int_equal(system(cp), 0);
    double before = s_count(&c, "jm-1", "unknown_key");

    s_dealer("tm-a", c.endpoint, other, "tm-a", "jm-1");
    s_dealer_send(WR_MSG_JOBS_REQ, "tm-a/cli", "jm-1/jobmanager", NULL, 0);
    assert_false(s_dealer_answered());

    s_wait_count(&c, "jm-1", "unknown_key", before);
    if (!strstr(ps_read_file(c.jm->err), "is no key of this cluster"))
        PS_FAIL("the JobManager did not log the unknown key");
    s_job_unharmed(&c, id);
    pc_cluster_stop(&c);
}

/* The attacks 2 and 4 with a stolen TaskManager key: as jm-1 to the JobManager (STOP to
 * its jobmanager actor) and to a TaskManager (task-cancel of the job). */
static void test_taskmanager_key_as_the_jobmanager_is_dropped(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    const char *id = s_cluster_with_job(&c, NULL);
    double jm_before = s_count(&c, "jm-1", "impostors");

    s_dealer("jm-1", c.endpoint, NULL, "tm-a", "jm-1");
    s_dealer_send(WR_MSG_STOP, "jm-1/jobmanager", "jm-1/jobmanager", NULL, 0);
    s_dealer_send(WR_MSG_JOBS_REQ, "jm-1/cli", "jm-1/jobmanager", NULL, 0);
    assert_false(s_dealer_answered());
    s_wait_count(&c, "jm-1", "impostors", jm_before);

    wr_msg_job_ref_t cancel = {0};
    snprintf(cancel.job, sizeof cancel.job, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_job_ref_pack(&cancel, &sb), 0);
    double tm_before = s_count(&c, "tm-b", "impostors");
    s_dealer("jm-1", ps_fmt("tcp://127.0.0.1:%d", c.tm_port[1]), NULL, "tm-a", "tm-b");
    for (int i = 0; i < 3; i++)
        s_dealer_send(WR_MSG_TASK_CANCEL, "jm-1/jobmanager", "tm-b/taskmanager", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    /* tm-b's own connection to jm-1 keeps the id (no handover with keys): the DEALER gets none
     * of what tm-b sends the JobManager (a heartbeat every 500 ms); libzmq parks the DEALER's
     * connection, takes its first cancel for a routing id, and passes the others on under that
     * one's bytes: tm-b counts them as an impostor's (its key is tm-a's, bus/curve.h) */
    assert_false(s_dealer_answered());
    s_wait_count(&c, "tm-b", "impostors", tm_before);
    if (!strstr(ps_read_file(c.tm[1]->err), "with the key of 'tm-a'"))
        PS_FAIL("tm-b did not log the impostor");
    zsock_destroy(&s_t.dealer);

    ps_sleep_ms(1000); /* what a cancel would have done by now */
    s_job_unharmed(&c, id);
    pc_cluster_stop(&c);
}

/* Whether the DEALER's next answer within S_ANSWER_MS holds text. */
static bool s_dealer_answer_says(const char *text)
{
    zframe_t *f = zframe_recv(s_t.dealer);
    bool says = f && memmem(zframe_data(f), zframe_size(f), text, strlen(text));
    zframe_destroy(&f);
    return says;
}

/* Sends a TM_REGISTER of node with slots from node/taskmanager on the DEALER. */
static void s_dealer_register(const char *node, uint32_t slots)
{
    wr_msg_tm_register_t reg = {.slots = slots, .incarnation = 77};
    snprintf(reg.cluster, sizeof reg.cluster, "default");
    snprintf(reg.node, sizeof reg.node, "%s", node);
    snprintf(reg.endpoint, sizeof reg.endpoint, "tcp://127.0.0.1:1");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_tm_register_pack(&reg, &sb), 0);
    s_dealer_send(WR_MSG_TM_REGISTER, ps_fmt("%s/taskmanager", node), "jm-1/jobmanager", sb.data,
                  sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* Each TaskManager's actors ("tm-a/node tm-a/taskmanager tm-a/...|tm-b/..."): its subtasks. */
static const char *s_subtasks(const pc_cluster_t *c)
{
    const tj_value_t *doc = pc_actors(c);
    return ps_fmt("%s|%s", pc_actor_list(pc_node_row(doc, "tm-a", NULL)),
                  pc_actor_list(pc_node_row(doc, "tm-b", NULL)));
}

/* A savepoint (stop: `weir stop`) of job id into dir outside security.paths.savepoints: refused
 * naming dir and the key, nothing created. */
static void s_savepoint_refused(pc_cluster_t *c, const char *id, const char *dir, bool stop)
{
    ps_result_t r = stop ? pc_cli(c, PS_ARGV("stop", id, "--savepoint", dir))
                         : pc_cli(c, PS_ARGV("savepoint", id, dir));
    bool written = access(dir, F_OK) == 0;
    if (r.code != 1 || written || !strstr(r.err, dir) ||
        !strstr(r.err, "security.paths.savepoints"))
        PS_FAIL("%s into %s outside the roots: exit %d%s\n%s",
                stop ? "stop --savepoint" : "savepoint", dir, r.code, written ? ", written" : "",
                r.err);
}

/* The attacks on the caps, on registrations and on the savepoint roots, each against the
 * same running job: a TaskManager key offering 65,536 slots; a submit at parallelism 4096 (more
 * subtasks than jobmanager.max-subtasks-per-job, 4096 by default); tm-b registering again with
 * tm-c's key (a valid TaskManager key of this cluster); `weir savepoint` and `weir stop
 * --savepoint` into a folder of the run that is no root and into /etc. Each is refused, the
 * refusal said or counted, nothing deployed or written, and the job runs on where it ran. */
static void test_caps_registrations_and_roots_hold(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    const char *root = ps_path("sp-root");
    const char *id =
        s_cluster_with_job(&c, PS_ARGV("--set", ps_fmt("security.paths.savepoints=%s", root)));
    const char *subtasks = s_subtasks(&c);

    /* a fake TaskManager with a valid key of this cluster offering 65,536 slots */
    s_dealer("tm-c", c.endpoint, NULL, "tm-c", "jm-1");
    s_dealer_register("tm-c", 65536);
    if (!s_dealer_answer_says("slotmanager.max-slots-per-taskmanager"))
        PS_FAIL("65,536 slots were not refused naming slotmanager.max-slots-per-taskmanager");
    if (!strstr(ps_read_file(c.jm->err), "refusing a registration: TaskManager tm-c offers 65536"))
        PS_FAIL("the JobManager did not log the refused registration");
    if (pc_node_row(pc_actors(&c), "tm-c", NULL)) PS_FAIL("tm-c was registered");

    /* a submit at parallelism 4096: refused before anything is deployed */
    const char *wide = ps_path("wide.yaml");
    ps_write_file(wide, ps_fmt("name: wide\nparallelism: 4096\nsources:\n"
                               "  - {type: generator, devices: 50, total: 0, rate: 10}\n"
                               "sinks:\n  - {type: file, path: %s}\n",
                               ps_path("wide-out")));
    ps_result_t r = pc_cli(&c, PS_ARGV("submit", wide));
    if (r.code != 1 || !strstr(r.err, "jobmanager.max-subtasks-per-job"))
        PS_FAIL("a job at parallelism 4096 was not refused: exit %d\n%s%s", r.code, r.out, r.err);
    ps_sleep_ms(500); /* what a deploy would have spawned by now */
    const char *now = s_subtasks(&c);
    if (strcmp(now, subtasks))
        PS_FAIL("the TaskManagers' actors changed: %s, were %s", now, subtasks);

    /* tm-b registering again with another valid TaskManager key (tm-c's), at a bogus endpoint */
    double impostors = s_count(&c, "jm-1", "impostors");
    s_dealer("tm-b", c.endpoint, NULL, "tm-c", "jm-1");
    for (int i = 0; i < 3; i++)
        s_dealer_register("tm-b", 1);
    assert_false(s_dealer_answered());
    s_wait_count(&c, "jm-1", "impostors", impostors);
    zsock_destroy(&s_t.dealer);
    if (ps_count(ps_read_file(c.jm->err), "taskmanager tm-b registered") != 1)
        PS_FAIL("tm-b registered again");

    /* savepoints outside security.paths.savepoints: a folder of the run that is no root, /etc */
    snprintf(s_t.etc, sizeof s_t.etc, "/etc/weir-test-x-%d", (int)getpid());
    const char *dirs[] = {ps_path("not-a-root"), s_t.etc};
    for (int i = 0; i < 2; i++) {
        s_savepoint_refused(&c, id, dirs[i], false);
        s_savepoint_refused(&c, id, dirs[i], true);
    }
    s_job_unharmed(&c, id);
    if (strcmp((now = s_subtasks(&c)), subtasks))
        PS_FAIL("the TaskManagers' actors changed: %s, were %s", now, subtasks);
    /* the cluster's own connections, a JobManager's and a TaskManager's dialing each other and
     * the probes a node opens and closes at once included, are no impostors: the JobManager
     * counted tm-b's one, the TaskManagers none */
    if (impostors != 0 || s_count(&c, "jm-1", "impostors") != 1)
        PS_FAIL("jm-1 counted %.0f impostors before the attack, %.0f after: %s", impostors,
                s_count(&c, "jm-1", "impostors"), ps_read_file(c.jm->err));
    for (int i = 0; i < 2; i++)
        if (s_count(&c, pc_tm_ids[i], "impostors") != 0)
            PS_FAIL("%s counted impostors: %s", pc_tm_ids[i], ps_read_file(c.tm[i]->err));
    pc_cluster_stop(&c);
}

static void test_viewer_may_look_but_not_cancel_and_admin_may(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    const char *id = s_cluster_with_job(&c, NULL);

    ps_result_t r = pc_cli(&c, PS_ARGV("jobs", "--set", "security.client=viewer"));
    if (r.code || !strstr(r.out, id)) PS_FAIL("a viewer cannot list jobs: %s%s", r.out, r.err);
    r = pc_cli(&c, PS_ARGV("cancel", id, "--set", "security.client=viewer"));
    assert_int_equal(r.code, 1);
    if (!strstr(r.err, "role admin")) PS_FAIL("the refusal names no role: %s", r.err);
    if (!strstr(ps_read_file(c.jm->err), "key 'viewer' has role viewer"))
        PS_FAIL("the JobManager did not log who was refused");
    s_job_unharmed(&c, id);

    r = pc_cli(&c, PS_ARGV("cancel", id));
    if (r.code) PS_FAIL("an admin cannot cancel: %s", r.err);
    pj_wait_job(&c, id, "CANCELED", 0, S_JOB_MS);
    pc_cluster_stop(&c);
}

static void test_revoked_client_is_refused(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    const char *id = s_cluster_with_job(&c, NULL);
    ps_result_t r = pc_cli(&c, PS_ARGV("jobs", "--set", "security.client=viewer"));
    assert_int_equal(r.code, 0);

    /* revoked: its public certificate leaves the folder (put back in the teardown) */
    snprintf(s_t.from, sizeof s_t.from, "%s/public/viewer", ps_h.keys);
    snprintf(s_t.revoked, sizeof s_t.revoked, "%s/viewer.revoked", ps_h.keys);
    assert_int_equal(rename(s_t.from, s_t.revoked), 0);
    double before = s_count(&c, "jm-1", "unknown_key");

    r = pc_cli(&c, PS_ARGV("jobs", "--set", "security.client=viewer"));
    if (r.code != 1) PS_FAIL("a revoked viewer listed the jobs (exit %d): %s", r.code, r.out);
    if (!strstr(r.err, "refused this client's key 'viewer'") || !strstr(r.err, "security.client") ||
        !strstr(r.err, "security.keys-dir"))
        PS_FAIL("the CLI does not say its key was refused: %s", r.err);
    s_wait_count(&c, "jm-1", "unknown_key", before);
    r = pc_cli(&c, PS_ARGV("jobs"));
    if (r.code || !strstr(r.out, id)) PS_FAIL("the admin cannot list jobs: %s", r.err);
    s_job_unharmed(&c, id);
    pc_cluster_stop(&c);
}

static void test_missing_keys_stop_a_start_and_curve_off_says_so(void **state)
{
    (void)state;
    ps_result_t r = ps_run("jm",
                           PS_ARGV("jobmanager", "--bind", "tcp://127.0.0.1:0", "--set",
                                   ps_fmt("security.keys-dir=%s", ps_path("none"))),
                           20000);
    assert_int_equal(r.code, 1);
    if (!strstr(r.err, "weir keygen")) PS_FAIL("no hint to run weir keygen: %s", r.err);
    r = ps_run("tm", PS_ARGV("taskmanager", "--id", "tm-z", "--jobmanager", "tcp://127.0.0.1:1"),
               20000);
    assert_int_equal(r.code, 1);
    if (!strstr(r.err, "no key for 'tm-z'")) PS_FAIL("the missing key is not named: %s", r.err);
    r = ps_run("cli",
               PS_ARGV("jobs", "--jobmanager", "tcp://127.0.0.1:1", "--set", "client.timeout=200ms",
                       "--set", "security.curve=off"),
               20000);
    if (!strstr(r.err, "security.curve is off")) PS_FAIL("curve off is not said: %s", r.err);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_peer_without_a_key_is_refused_and_counted),
        S_TEST(test_key_of_another_cluster_is_refused),
        S_TEST(test_taskmanager_key_as_the_jobmanager_is_dropped),
        S_TEST(test_caps_registrations_and_roots_hold),
        S_TEST(test_viewer_may_look_but_not_cancel_and_admin_may),
        S_TEST(test_revoked_client_is_refused),
        S_TEST(test_missing_keys_stop_a_start_and_curve_off_says_so),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir: the authenticated bus", tests, s_group_setup,
                                       ps_group_teardown);
}
