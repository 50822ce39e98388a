/* The JobManager's leadership service (actors/jobmanager/jm_leader.h) in its standalone form, and
 * what a JobManager that is granted the leadership does with the job records it finds
 * (actors/jobmanager/jm_jobs.h): the standalone service leads from its start with an epoch that
 * grows from one JobManager to the next, publishes its address, keeps job records while it
 * leads; a new leader takes every recorded job over and deploys it in an attempt past the
 * recorded one. The etcd implementation passes the same record tests (test_jm_leader_etcd). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/topology.h"
#include "actors/jobmanager/jm_jobs.h"
#include "actors/jobmanager/jm_leader.h"
#include "actors/jobmanager/jm_tms.h"
#include "actors/runtime/node.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/json.h"
#include "bus/msgtypes.h"
#include "tests/support/actor.h"
#include "tests/support/cluster.h"
#include "tests/support/leader.h"

#define T_TICK (WR_MSG_LOCAL_FIRST + 900) /* the test actor: run the registry's tick */

static void s_granted(void *ctx, wr_actor_t *self, uint64_t epoch)
{
    (void)self;
    *(uint64_t *)ctx = epoch;
}

static wr__leader_t *s_started(uint64_t *epoch)
{
    wr__leader_t *l = wr__leader_standalone_new();
    assert_non_null(l);
    wr__leader_events_t ev = {.granted = s_granted, .ctx = epoch};
    assert_int_equal(wr__leader_start(l, NULL, "jm-1", "tcp://127.0.0.1:6123", &ev), 0);
    return l;
}

static void test_standalone_leads_from_its_start_with_a_growing_epoch(void **state)
{
    (void)state;
    wr__leader_t *l = wr__leader_standalone_new();
    assert_non_null(l);
    assert_false(wr__leader_is_leader(l));
    assert_true(wr__leader_epoch(l) == 0);
    assert_int_equal(wr__leader_put_job(l, NULL, "00000001", "x", 1), WR_ESTALE); /* not leading */
    wr__leader_destroy(&l);
    assert_null(l);

    uint64_t first = 0, second = 0;
    l = s_started(&first);
    assert_true(wr__leader_is_leader(l));
    assert_true(first > 0 && wr__leader_epoch(l) == first);
    assert_string_equal(wr__leader_kind(l), "standalone");
    const char *node = NULL, *endpoint = NULL;
    wr__leader_address(l, &node, &endpoint);
    assert_string_equal(node, "jm-1");
    assert_string_equal(endpoint, "tcp://127.0.0.1:6123");

    wr_test_sleep_ms(2); /* a JobManager started after it fences its subtasks */
    wr__leader_t *next = s_started(&second);
    assert_true(second > first);
    wr__leader_destroy(&next);
    wr__leader_destroy(&l);
}

static const char *s_records(wr__leader_t *l, wr_strbuf_t *sb)
{
    wr_strbuf_reset(sb);
    assert_int_equal(tl_records(l, sb), 0);
    return sb->buf;
}

/* The records' contract (tests/support/leader.h), which the etcd implementation keeps too
 * (test_jm_leader_etcd). */
static void test_standalone_keeps_job_records_while_it_leads(void **state)
{
    (void)state;
    uint64_t epoch = 0;
    wr__leader_t *l = s_started(&epoch);
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    if (tl_check_records(l, NULL, &why)) fail_msg("%s", why.buf);
    wr_strbuf_release(&why);
    wr__leader_destroy(&l);
}

/* ---- a new leader takes the recorded jobs over ---- */

/* The test's stand-in for the JobManager actor: the job registry's answers and its tick. */
static int s_registry_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    wr__jobs_t *js = state;
    const wr_msg_t *m = *msg;
    if (m->type == WR_MSG_JOB_REQ) return wr__jobs_on_describe(js, self, m);
    if (m->type == T_TICK) wr__jobs_tick(js, self);
    return wr_reply(self, m, WR_MSG_PONG, NULL, 0);
}

static const wr_behaviour_t s_registry = {.on_message = s_registry_message};

/* `weir job ID` of the registry on node n, as JSON ("" when it answers an error). */
static char *s_describe(wr_node_t *n, const char *id)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    wr_pack_str(&pk, id);
    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(n, "n/jm", WR_MSG_JOB_REQ, sb.data, sb.size, 2000, &reply), 0);
    msgpack_sbuffer_destroy(&sb);
    wr_strbuf_t json;
    wr_strbuf_init(&json);
    if (reply->type == WR_MSG_JOB_REPLY)
        assert_int_equal(wr_mp_to_json(reply->data, reply->len, SIZE_MAX, &json), 0);
    wr_msg_destroy(&reply);
    return wr_strbuf_detach(&json, NULL);
}

static void test_new_leader_takes_recorded_jobs_over_past_their_attempt(void **state)
{
    (void)state;
    uint64_t epoch = 0;
    wr__leader_t *l = s_started(&epoch);
    /* the graph: a JOB_SUBMIT payload [topology] */
    static const char yaml[] = "name: taken\nparallelism: 1\nsources:\n"
                               "  - {type: generator, devices: 10, total: 1000}\n"
                               "sinks:\n  - {type: collect}\n";
    msgpack_sbuffer graph;
    msgpack_sbuffer_init(&graph);
    tc_submit_payload(yaml, &graph);
    assert_int_equal(wr__leader_put_job(l, NULL, "0000beef", graph.data, graph.size), 0);
    assert_int_equal(wr__leader_put_pointer(l, NULL, "0000beef", 4, ""), 0);
    assert_int_equal(wr__leader_put_job(l, NULL, "0000dead", "\xc1", 1), 0); /* does not decode */
    msgpack_sbuffer_destroy(&graph);

    wr_jobmanager_opts_t o = {.restart = {.kind = WR_RESTART_NONE}};
    wr__tms_t *tms = wr__tms_new();
    wr__jobs_t *js = wr__jobs_new(&o, tms, l);
    assert_non_null(tms);
    assert_non_null(js);
    assert_false(wr__jobs_want_tick(js));
    assert_int_equal(wr__jobs_take_over(js), 0);
    assert_true(wr__jobs_want_tick(js)); /* restarting */

    wr_node_opts_t no = {.id = "n", .threads = 1};
    int rc = 0;
    wr_node_t *n = wr_node_new(&no, &rc);
    assert_non_null(n);
    wr_spawn_opts_t so = {.path = "jm", .behaviour = &s_registry, .state = js};
    assert_int_equal(wr_actor_spawn(n, &so, NULL), 0);

    char *job = s_describe(n, "0000beef");
    assert_non_null(strstr(job, "\"state\":\"RESTARTING\""));
    assert_non_null(strstr(job, "\"error\":\"taken over by a new leader\""));
    assert_non_null(strstr(job, "\"attempt\":4,"));
    free(job);
    job = s_describe(n, "0000dead"); /* skipped, with a warning */
    assert_string_equal(job, "");
    free(job);

    /* a TaskManager with a slot: the tick deploys attempt 5 there (a node this test does not run:
     * the deployments are dropped) */
    wr__tm_reg_t reg = {.id = "tm-x", .endpoint = "inproc://tm-x", .slots = 1, .incarnation = 7};
    enum wr__tm_change change;
    assert_int_equal(wr__tms_register(tms, &reg, true, &change), 0);
    assert_int_equal(change, WR__TM_NEW);
    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(n, "n/jm", T_TICK, NULL, 0, 2000, &reply), 0);
    wr_msg_destroy(&reply);
    job = s_describe(n, "0000beef");
    assert_non_null(strstr(job, "\"attempt\":5,"));
    assert_non_null(strstr(job, "\"state\":\"RUNNING\""));
    assert_non_null(strstr(job, "{\"node\":\"tm-x\",\"state\":\"deploying\"}"));
    free(job);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_non_null(strstr(s_records(l, &sb), "0000beef 5 ")); /* recorded for a successor */
    wr_msg_job_attempt_list_t owned;
    assert_int_equal(wr__jobs_owned(js, "tm-x", &owned), 0); /* what tm-x may run */
    assert_int_equal(owned.n, 1);
    assert_string_equal(owned.v[0].job, "0000beef");
    assert_int_equal(owned.v[0].attempt, 5);
    free(owned.v);
    assert_int_equal(wr__jobs_owned(js, "tm-y", &owned), 0);
    assert_true(owned.n == 0 && owned.v == NULL);
    wr_strbuf_release(&sb);

    wr_node_destroy(&n);
    wr__jobs_destroy(&js);
    wr__tms_destroy(&tms);
    wr__leader_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standalone_leads_from_its_start_with_a_growing_epoch),
        cmocka_unit_test(test_standalone_keeps_job_records_while_it_leads),
        cmocka_unit_test(test_new_leader_takes_recorded_jobs_over_past_their_attempt),
    };
    return cmocka_run_group_tests_name("the JobManager's leadership service", tests, NULL, NULL);
}
