/* The cluster protocol in one process (tests/support/cluster.h): a JobManager and TaskManagers as
 * nodes over inproc://, asked what `weir` asks. TaskManagers register and are listed; a job is
 * placed in slots, runs and finishes with every record counted once; slots are refused when too
 * few are free and given back when a job ends; a job is canceled; actors and mailboxes are
 * inspected, locally and relayed; a lost TaskManager is declared dead and rejoins. Failover:
 * test_failover_inproc.c. What needs a real process boundary (kill -9, SIGSTOP, exit codes,
 * garbage on a port) stays in test_cluster.c and test_cluster_bad_input.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/generator/generator.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "bus/messages.h"
#include "bus/msgtypes.h"
#include "tests/support/actor.h"
#include "tests/support/cluster.h"

/* A job counting readings per device in 1-minute tumbling windows, results collected: devices
 * report every 10 s of event time, jitter within the watermark's out-of-orderness, none late, so
 * every reading is counted exactly once. total 0: unbounded; rate 0: as fast as it can. */
static const char *s_job(char *buf, size_t cap, const char *name, uint32_t parallelism,
                         uint64_t total, uint64_t rate)
{
    snprintf(buf, cap,
             "name: %s\nparallelism: %u\n"
             "sources:\n  - {type: generator, devices: 100, total: %llu, rate: %llu, jitter: 1s,"
             " late_fraction: 0, seed: 7}\n"
             "key_by: device\n"
             "event_time: {field: ts, max_out_of_orderness: 2s}\n"
             "window: {type: tumbling, size: 1min}\n"
             "aggregates: {n: count(), t: sum(temperature)}\n"
             "sinks: [{type: collect}]\n",
             name, parallelism, (unsigned long long)total, (unsigned long long)rate);
    return buf;
}

/* Result lines reduced to "device window_start n", sorted: what the oracle below can say. */
static char *s_counts(const char *collected)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (const char *p = collected; *p; p = strchr(p, '\n') + 1) {
        const char *d = strstr(p, "{\"device\":"), *w = strstr(p, "\"window_start\":"),
                   *n = strstr(p, "\"n\":");
        assert_true(d == p && w && n && n < strchr(p, '\n'));
        wr_strbuf_addf(&sb, "%lld %lld %lld\n", strtoll(d + 10, NULL, 10),
                       strtoll(w + 15, NULL, 10), strtoll(n + 4, NULL, 10));
    }
    char *text = wr_strbuf_detach(&sb, NULL);
    char *sorted = tc_sort_lines(text);
    free(text);
    return sorted;
}

/* The oracle of s_job's results: each of its total readings (the generator's, offset by offset)
 * counted in its device's one-minute window, as "device window_start n" lines, sorted. */
static char *s_expected_counts(uint64_t total)
{
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = 100;
    cfg.total = total;
    cfg.jitter_ms = 1000;
    cfg.seed = 7;
    wr_generator_t *g = wr_generator_new(&cfg);
    assert_non_null(g);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (uint64_t o = 0; o < total; o++) {
        wr_generator_record_t r;
        wr_generator_record(g, o, &r);
        int64_t start = r.ts - ((r.ts % 60000) + 60000) % 60000;
        wr_strbuf_addf(&sb, "%lld %lld\n", (long long)r.device, (long long)start);
    }
    /* equal lines are adjacent once sorted: count them */
    char *each = wr_strbuf_detach(&sb, NULL), *sorted = tc_sort_lines(each);
    free(each);
    wr_strbuf_init(&sb);
    for (char *p = sorted, *run = sorted; *p;) {
        char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p);
        long long n = 0;
        for (run = p; *p && !strncmp(p, run, len + 1); p += len + 1)
            n++;
        wr_strbuf_add(&sb, run, len);
        wr_strbuf_addf(&sb, " %lld\n", n);
    }
    free(sorted);
    wr_generator_destroy(&g);
    char *text = wr_strbuf_detach(&sb, NULL);
    sorted = tc_sort_lines(text);
    free(text);
    return sorted;
}

/* How many actors of a node row of ACTORS_REPLY have a path starting with prefix. */
static uint32_t s_actors_named(const wr_msg_t *actors, uint32_t row, const char *prefix)
{
    uint32_t n = 0;
    char addr[WR_ADDR_MAX];
    for (uint32_t a = 0, na = tc_mp_len(actors, "%u.actors", row); a < na; a++) {
        tc_mp_str(actors, addr, sizeof addr, "%u.actors.%u.addr", row, a);
        const char *path = strchr(addr, '/');
        n += path && !strncmp(path + 1, prefix, strlen(prefix));
    }
    return n;
}

/* The row of node id in ACTORS_REPLY. */
static uint32_t s_row(const wr_msg_t *actors, const char *id)
{
    char node[WR_NODE_MAX];
    for (uint32_t i = 0, n = tc_mp_len(actors, "."); i < n; i++)
        if (!strcmp(tc_mp_str(actors, node, sizeof node, "%u.node", i), id)) return i;
    fail_msg("`actors` does not list %s", id);
    return 0;
}

/* The job actors on the TaskManagers. */
static uint32_t s_subtasks(tc_cluster_t *c)
{
    wr_msg_t *actors = tc_actors(c);
    uint32_t n = 0;
    for (uint32_t i = 0; i < 2; i++)
        n += s_actors_named(actors, s_row(actors, tc_tm_id(c, i)), "job-");
    wr_msg_destroy(&actors);
    return n;
}

static bool s_no_subtasks(void *c)
{
    return s_subtasks(c) == 0;
}

/* ---- the happy path ---- */

static void test_taskmanagers_register_and_are_listed(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, &(tc_opts_t){.taskmanagers = 3});
    wr_msg_t *actors = tc_actors(c);
    assert_int_equal(tc_mp_len(actors, "."), 4); /* the JobManager's node and three TaskManagers */
    char s[32];
    assert_string_equal(tc_mp_str(actors, s, sizeof s, "0.node"), "jm-1");
    assert_int_equal(s_actors_named(actors, 0, "jobmanager"), 1);
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t row = s_row(actors, tc_tm_id(c, i));
        assert_string_equal(tc_mp_str(actors, s, sizeof s, "%u.status", row), "up");
        assert_int_equal(s_actors_named(actors, row, "taskmanager"), 1);
        assert_int_equal(s_actors_named(actors, row, "node"), 1);
    }
    wr_msg_destroy(&actors);
    tc_stop((tc_cluster_t **)state);
    assert_null(*state);
    tc_stop((tc_cluster_t **)state); /* NULL-safe */
}

static void test_job_runs_to_its_end_and_counts_every_record_once(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "count", 2, 20000, 0), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));

    wr_msg_t *jobs = tc_jobs(c);
    char s[32];
    assert_int_equal(tc_mp_len(jobs, "jobs"), 1);
    assert_string_equal(tc_mp_str(jobs, s, sizeof s, "jobs.0.id"), id);
    assert_string_equal(tc_mp_str(jobs, s, sizeof s, "jobs.0.name"), "count");
    assert_string_equal(tc_mp_str(jobs, s, sizeof s, "jobs.0.state"), "FINISHED");
    assert_string_equal(tc_mp_str(jobs, s, sizeof s, "ha"), "standalone"); /* who answers */
    assert_string_equal(tc_mp_str(jobs, s, sizeof s, "leader"), "jm-1");
    assert_true(tc_mp_int(jobs, "epoch") > 0);
    assert_int_equal(tc_mp_len(jobs, "standbys"), 0);
    wr_msg_destroy(&jobs);
    wr_msg_t *job = tc_job(c, id);
    assert_int_equal(tc_mp_int(job, "operators.0.records_in"), 20000);
    assert_int_equal(tc_mp_int(job, "restarts"), 0);
    wr_msg_destroy(&job);
    /* every reading counted once, in its device's window */
    char *lines = tc_collected(c, id), *got = s_counts(lines), *want = s_expected_counts(20000);
    assert_string_equal(got, want);
    free(lines);
    free(got);
    free(want);
}

/* Subtask i of every operator shares slot i, placed on the TaskManager with the most free slots:
 * parallelism 4 on two TaskManagers of two slots takes them all, two on each. */
static void test_slots_are_taken_refused_and_given_back(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, &(tc_opts_t){.taskmanagers = 2, .slots = 2});
    char yaml[1024], id[TC_JOB_ID_MAX], other[TC_JOB_ID_MAX], why[256];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "wide", 4, 0, 2000), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "RUNNING", TC_WAIT_MS));
    wr_msg_t *job = tc_job(c, id);
    uint32_t on[2] = {0, 0};
    char node[WR_NODE_MAX];
    for (uint32_t i = 0; i < 4; i++) {
        tc_mp_str(job, node, sizeof node, "operators.0.subtasks.%u.node", i);
        on[0] += !strcmp(node, tc_tm_id(c, 0));
        on[1] += !strcmp(node, tc_tm_id(c, 1));
    }
    wr_msg_destroy(&job);
    assert_int_equal(on[0], 2);
    assert_int_equal(on[1], 2);

    /* every slot is taken: the next job is refused, and told why */
    assert_int_equal(
        tc_submit(c, s_job(yaml, sizeof yaml, "more", 1, 100, 0), other, why, sizeof why),
        WR_EAGAIN);
    assert_non_null(strstr(why, "not enough slots: the job needs 1"));
    /* a job bigger than the cluster is refused however free it is */
    assert_int_equal(tc_cancel(c, id), 0);
    assert_int_equal(
        tc_submit(c, s_job(yaml, sizeof yaml, "huge", 5, 100, 0), other, why, sizeof why),
        WR_EAGAIN);
    assert_non_null(strstr(why, "the job needs 5"));
    /* the canceled job gave its slots back */
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "more", 4, 4000, 0), other, NULL, 0), 0);
    assert_true(tc_wait_state(c, other, "FINISHED", TC_WAIT_MS));
}

static void test_cancel_stops_every_subtask(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "endless", 2, 0, 5000), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "RUNNING", TC_WAIT_MS));
    assert_int_equal(tc_cancel(c, id), 0);
    char s[32];
    assert_string_equal(tc_job_state(c, id, s, sizeof s), "CANCELED");
    /* its subtask actors are gone from both TaskManagers */
    assert_true(wr_test_wait_until(s_no_subtasks, c, TC_WAIT_MS, 10));
    /* twice, or a job that does not exist: refused */
    assert_int_equal(tc_cancel(c, id), WR_EINVAL);
    assert_int_equal(tc_cancel(c, "ffffffff"), WR_ENOTFOUND);
}

/* `weir actors` lists a running job's subtasks; `weir mailbox` answers for the JobManager's own
 * actors and relays to the TaskManager that hosts the actor. */
static void test_actors_and_mailboxes_are_inspected(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    char yaml[1024], id[TC_JOB_ID_MAX], s[WR_ADDR_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "seen", 2, 0, 5000), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "RUNNING", TC_WAIT_MS));
    assert_int_equal(s_subtasks(c), 4); /* source and window, two subtasks each */

    wr_msg_t *mb = tc_mailbox(c, "jm-1/jobmanager", 4);
    assert_int_equal(mb->type, WR_MSG_MAILBOX_REPLY);
    assert_string_equal(tc_mp_str(mb, s, sizeof s, "addr"), "jm-1/jobmanager");
    assert_true(tc_mp_int(mb, "capacity") > 0);
    assert_true(tc_mp_int(mb, "dequeued") > 0);
    assert_true(tc_mp_int(mb, "types.tm-register") >= 2);
    assert_true(tc_mp_len(mb, "recent") > 0);
    wr_msg_destroy(&mb);

    mb = tc_mailbox(c, "tm-2/taskmanager", 16); /* relayed to tm-2's system actor */
    assert_int_equal(mb->type, WR_MSG_MAILBOX_REPLY);
    assert_string_equal(tc_mp_str(mb, s, sizeof s, "addr"), "tm-2/taskmanager");
    assert_true(tc_mp_int(mb, "types.task-deploy") >= 1);
    bool deploy_seen = false;
    for (uint32_t i = 0, n = tc_mp_len(mb, "recent"); i < n; i++)
        deploy_seen |= !strcmp(tc_mp_str(mb, s, sizeof s, "recent.%u.type", i), "task-deploy");
    assert_true(deploy_seen || tc_mp_int(mb, "dequeued") > 16);
    wr_msg_destroy(&mb);

    /* no such actor, no such node */
    mb = tc_mailbox(c, "tm-1/nobody", 0);
    assert_int_equal(wr_test_error_code(mb, NULL, 0), WR_ENOACTOR);
    wr_msg_destroy(&mb);
    mb = tc_mailbox(c, "tm-9/taskmanager", 0);
    char text[128];
    assert_int_equal(wr_test_error_code(mb, text, sizeof text), WR_ENOACTOR);
    assert_non_null(strstr(text, "not in this cluster"));
    wr_msg_destroy(&mb);
    assert_int_equal(tc_cancel(c, id), 0);
}

/* ---- TaskManagers coming and going ---- */

static void test_lost_taskmanager_is_dead_and_rejoins(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    tc_tm_stop(c, 1);
    assert_null(tc_tm_node(c, 1));
    assert_true(tc_wait_node_status(c, "tm-2", "dead", TC_WAIT_MS));
    char s[16];
    assert_string_equal(tc_node_status(c, "tm-1", s, sizeof s), "up");
    /* its mailbox cannot be asked for while it is dead */
    wr_msg_t *mb = tc_mailbox(c, "tm-2/taskmanager", 0);
    char text[128];
    assert_int_equal(wr_test_error_code(mb, text, sizeof text), WR_ENOACTOR);
    assert_non_null(strstr(text, "dead"));
    wr_msg_destroy(&mb);

    tc_tm_start(c, 1); /* a new process under the same id */
    assert_true(tc_wait_node_status(c, "tm-2", "up", TC_WAIT_MS));
    assert_true(tc_wait_tm_ready(c, 1, TC_WAIT_MS)); /* its heartbeat heard: it takes work */
    /* and it takes work again: a job that needs both TaskManagers' slots runs */
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "again", 4, 4000, 0), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
}

/* TaskManagers told a wrong JobManager id learn the real one from the node at its endpoint
 * (bus/transport.h), register with it and run a job. */
static void test_taskmanagers_told_a_wrong_jobmanager_id_learn_it(void **state)
{
    tc_cluster_t *c =
        tc_start((tc_cluster_t **)state, &(tc_opts_t){.taskmanagers = 2, .tm_jm_id = "jm-wrong"});
    /* tc_start waited until both were registered with jm-1; their peer tables say why */
    for (uint32_t i = 0; i < 2; i++) {
        wr_peer_info_t peers[4];
        size_t n = wr_node_peers(tc_tm_node(c, i), peers, 4);
        bool wrong = false;
        for (size_t p = 0; p < n && p < 4; p++)
            if (!strcmp(peers[p].id, "jm-wrong")) {
                wrong = true;
                assert_string_equal(peers[p].actual, "jm-1");
                assert_int_equal(peers[p].state, WR_PEER_DOWN);
            }
        assert_true(wrong);
    }
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "learned", 4, 4000, 0), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
}

/* Sends TASK_CANCEL of job id to every TaskManager of c, from the JobManager's node, under epoch.
 */
static void s_cancel_under(tc_cluster_t *c, const char *id, uint64_t epoch)
{
    wr_msg_job_ref_t ref;
    snprintf(ref.job, sizeof ref.job, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_job_ref_pack(&ref, &sb), 0);
    for (uint32_t i = 0; i < 2; i++) {
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "%s/%s", tc_tm_id(c, i), WR_TASKMANAGER_PATH);
        wr_msg_t *m = wr_msg_new(WR_MSG_TASK_CANCEL, "jm-1/jobmanager", to, sb.data, sb.size);
        assert_non_null(m);
        m->epoch = epoch;
        assert_int_equal(wr_node_send(tc_jm_node(c), &m), 0);
    }
    msgpack_sbuffer_destroy(&sb);
}

/* Whether every subtask of job id reported that it runs. */
static bool s_all_running(tc_cluster_t *c, const char *id)
{
    wr_msg_t *job = tc_job(c, id);
    bool all = true;
    char state[16];
    for (uint32_t v = 0, nv = tc_mp_len(job, "operators"); v < nv; v++)
        for (uint32_t k = 0, n = tc_mp_len(job, "operators.%u.subtasks", v); k < n; k++)
            all &=
                !strcmp(tc_mp_str(job, state, sizeof state, "operators.%u.subtasks.%u.state", v, k),
                        "running");
    wr_msg_destroy(&job);
    return all;
}

/* The actors the TaskManagers run (each one's taskmanager and system actor, and the subtasks). */
static size_t s_tm_actors(tc_cluster_t *c)
{
    return wr_node_actor_count(tc_tm_node(c, 0)) + wr_node_actor_count(tc_tm_node(c, 1));
}

/* Fencing on the TaskManagers' side: a cancel under an epoch older than the leader's (a deposed
 * leader's) is refused and the job runs on; the same cancel under the leader's epoch stops it. */
static void test_cancel_of_a_stale_epoch_is_refused(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "fenced", 2, 0, 2000), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "RUNNING", TC_WAIT_MS));
    size_t idle = 4; /* 2 TaskManagers: a taskmanager and a system actor each */
    for (int i = 0; i < 1000 && !s_all_running(c, id); i++) /* every subtask deployed and started */
        usleep(10 * 1000);
    assert_true(s_all_running(c, id));
    size_t running = s_tm_actors(c);
    assert_true(running >= idle + 2); /* its subtasks (parallelism 2) are there */
    wr_msg_t *jobs = tc_jobs(c);
    uint64_t epoch = (uint64_t)tc_mp_int(jobs, "epoch");
    wr_msg_destroy(&jobs);
    assert_true(epoch > 1);

    s_cancel_under(c, id, epoch - 1);
    usleep(500 * 1000); /* a cancel obeyed stops the subtasks within milliseconds */
    assert_int_equal(s_tm_actors(c), running);

    s_cancel_under(c, id, epoch); /* the control: the leader's own epoch is obeyed */
    for (int i = 0; i < 500 && s_tm_actors(c) > idle; i++)
        usleep(10 * 1000);
    assert_int_equal(s_tm_actors(c), idle);
}

/* Submits a job (parallelism 2, unbounded) and, once it runs, deploys its subtask 0.0 of its
 * attempt to tm-1 again as its leader would, but with `credits` and only one place (its plan has
 * more subtasks); then waits until it fails and returns its error (into error, cap bytes). */
static const char *s_bad_deployment(tc_cluster_t *c, uint32_t credits, char *error, size_t cap)
{
    char yaml[1024], id[TC_JOB_ID_MAX];
    s_job(yaml, sizeof yaml, "misdeployed", 2, 0, 2000);
    assert_int_equal(tc_submit(c, yaml, id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "RUNNING", TC_WAIT_MS));
    wr_msg_t *job = tc_job(c, id), *jobs = tc_jobs(c);
    wr_msg_task_deploy_t d = {
        .attempt = (uint32_t)tc_mp_int(job, "attempt"), .credits = credits, .batch_records = 1024};
    uint64_t epoch = (uint64_t)tc_mp_int(jobs, "epoch");
    wr_msg_destroy(&job);
    wr_msg_destroy(&jobs);
    snprintf(d.job, sizeof d.job, "%s", id);
    wr_topology_t *t = NULL;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_topology_parse(yaml, strlen(yaml), "test", &t, &err), 0);
    wr_strbuf_release(&err);
    msgpack_sbuffer topo, sb;
    msgpack_sbuffer_init(&topo);
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &topo, msgpack_sbuffer_write);
    assert_int_equal(wr_topology_pack(t, &pk), 0);
    wr_topology_destroy(&t);
    wr_msg_place_t place = {.node = "tm-1"};
    d.topology = (wr_bytes_t){(const uint8_t *)topo.data, topo.size};
    d.places = (wr_msg_place_list_t){&place, 1};
    assert_int_equal(wr_msg_task_deploy_pack(&d, &sb), 0);
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/%s", tc_tm_id(c, 0), WR_TASKMANAGER_PATH);
    wr_msg_t *m = wr_msg_new(WR_MSG_TASK_DEPLOY, "jm-1/jobmanager", to, sb.data, sb.size);
    assert_non_null(m);
    m->epoch = epoch;
    assert_int_equal(wr_node_send(tc_jm_node(c), &m), 0);
    msgpack_sbuffer_destroy(&topo);
    msgpack_sbuffer_destroy(&sb);
    assert_true(tc_wait_state(c, id, "FAILED", 10000));
    job = tc_job(c, id);
    tc_mp_str(job, error, cap, "error");
    wr_msg_destroy(&job);
    return error;
}

/* A deployment the TaskManager cannot start a subtask for (one it refuses outright, here with no
 * credits; or one it cannot spawn, here with places that do not cover the plan) is reported failed
 * in the subtask's stead: the job does not wait for that subtask, it ends FAILED and says why (a
 * restart would deploy the same). Was: the JobManager heard nothing and the subtask stayed
 * "deploying"; and "cannot start subtask ...: success" in the TaskManager's log. */
static void test_a_subtask_that_cannot_be_spawned_is_reported_failed(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    char error[TC_JOB_ERROR_MAX];
    if (!strstr(s_bad_deployment(c, 32, error, sizeof error),
                "cannot start the subtask on tm-1: invalid argument"))
        fail_msg("the job's error does not say which subtask could not start: %s", error);
    if (!strstr(s_bad_deployment(c, 0, error, sizeof error),
                "cannot start the subtask on tm-1: malformed message"))
        fail_msg("the job's error does not say which subtask was refused: %s", error);
}

/* bus.channel-credits is the JobManager's: it travels with every deployment. A job whose channels
 * have 1 credit still counts every record once; one configured beyond what a TaskManager takes
 * (65536) is refused at deploy, which only happens if the JobManager sent its own value. Was: the
 * JobManager sent 32 whatever the key said. */
static void test_the_jobmanagers_channel_credits_reach_the_subtasks(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, &(tc_opts_t){.jm = {.channel_credits = 1}});
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "one", 2, 20000, 0), id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    char *lines = tc_collected(c, id), *got = s_counts(lines), *want = s_expected_counts(20000);
    assert_string_equal(got, want);
    free(lines);
    free(got);
    free(want);
    tc_stop((tc_cluster_t **)state);

    c = tc_start((tc_cluster_t **)state, &(tc_opts_t){.jm = {.channel_credits = 65537}});
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "too-many", 2, 20000, 0), id, NULL, 0),
                     0);
    assert_true(tc_wait_state(c, id, "FAILED", TC_WAIT_MS));
    wr_msg_t *job = tc_job(c, id);
    char error[TC_JOB_ERROR_MAX];
    if (!strstr(tc_mp_str(job, error, sizeof error, "error"), "malformed message"))
        fail_msg("the deployment with 65537 credits was not refused: %s", error);
    wr_msg_destroy(&job);
}

/* A subtask's error reaches `weir job` whole, up to WR_MSG_ERROR_MAX: here one naming a file of a
 * 700-byte path. Was: cut at 256 bytes, in the subtask's report and again in the job's. */
static void test_a_long_error_reaches_the_job_whole(void **state)
{
    tc_cluster_t *c = tc_start((tc_cluster_t **)state, NULL);
    char path[720] = "/nonexistent-weir-test";
    while (strlen(path) < 700)
        strcat(path, "/abcdefghij");
    strcat(path, "/end.jsonl");
    char yaml[2048], id[TC_JOB_ID_MAX];
    snprintf(yaml, sizeof yaml,
             "name: long-error\nschema: {device: int, ts: time, temperature: double}\n"
             "sources: [{type: file, path: %s, format: jsonl}]\n"
             "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
             "window: {type: tumbling, size: 1min}\naggregates: {n: count()}\n"
             "sinks: [{type: collect}]\n",
             path);
    assert_int_equal(tc_submit(c, yaml, id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "FAILED", TC_WAIT_MS));
    wr_msg_t *job = tc_job(c, id);
    char error[TC_JOB_ERROR_MAX];
    if (!strstr(tc_mp_str(job, error, sizeof error, "error"), path))
        fail_msg("the job's error (%zu bytes) does not hold the whole path: %s", strlen(error),
                 error);
    wr_msg_destroy(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_taskmanagers_register_and_are_listed, tc_teardown),
        cmocka_unit_test_teardown(test_job_runs_to_its_end_and_counts_every_record_once,
                                  tc_teardown),
        cmocka_unit_test_teardown(test_slots_are_taken_refused_and_given_back, tc_teardown),
        cmocka_unit_test_teardown(test_cancel_stops_every_subtask, tc_teardown),
        cmocka_unit_test_teardown(test_cancel_of_a_stale_epoch_is_refused, tc_teardown),
        cmocka_unit_test_teardown(test_a_subtask_that_cannot_be_spawned_is_reported_failed,
                                  tc_teardown),
        cmocka_unit_test_teardown(test_the_jobmanagers_channel_credits_reach_the_subtasks,
                                  tc_teardown),
        cmocka_unit_test_teardown(test_a_long_error_reaches_the_job_whole, tc_teardown),
        cmocka_unit_test_teardown(test_actors_and_mailboxes_are_inspected, tc_teardown),
        cmocka_unit_test_teardown(test_lost_taskmanager_is_dead_and_rejoins, tc_teardown),
        cmocka_unit_test_teardown(test_taskmanagers_told_a_wrong_jobmanager_id_learn_it,
                                  tc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
