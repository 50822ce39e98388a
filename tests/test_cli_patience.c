/* cli/cli.h's wr_cli_ask_jm for an answer that takes long: `weir savepoint` and `weir stop
 * --savepoint` are answered when the savepoint is done, which can take longer than
 * client.timeout (a slow sink holds the barriers back). They wait as long as the JobManager still
 * answers about the job (asked after every client.timeout + 1 s without the answer), saying once
 * that they do; a JobManager that leaves two such questions in a row unanswered ends the wait.
 * Before, the CLI gave up after client.timeout + 1 s with "no JobManager answers" while the
 * JobManager went on and stopped the job (seen in test_kafka_job under load).
 *
 * The JobManager here is an actor at jm/jobmanager on one node, which is the client's node too:
 * it answers JOB_REQ at once while `alive`, and a SAVEPOINT_REQ after `answer_ms`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/messages.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "tests/support/probe.h"

enum { S_ANSWER = TP_NEVER + 1 };

typedef struct {
    int64_t answer_ms;   /* the savepoint's answer comes this long after its request */
    atomic_bool alive;   /* answers JOB_REQ */
    atomic_int job_reqs; /* JOB_REQs it was sent */
    wr_msg_t *asked;     /* the SAVEPOINT_REQ waiting for its answer */
} s_jm_t;

static int s_jm_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_jm_t *jm = state;
    wr_msg_t *m = *msg;
    if (m->type == WR_MSG_JOB_REQ) {
        atomic_fetch_add(&jm->job_reqs, 1);
        if (!atomic_load(&jm->alive)) return 0;
        wr_msg_job_reply_t j = {
            .id = wr_strv("0123456789abcdef"), .state = wr_strv("RUNNING"), .attempt = 1};
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        assert_int_equal(wr_msg_job_reply_pack(&j, &sb), 0);
        assert_int_equal(wr_reply(self, m, WR_MSG_JOB_REPLY, sb.data, sb.size), 0);
        msgpack_sbuffer_destroy(&sb);
    } else if (m->type == WR_MSG_SAVEPOINT_REQ) {
        jm->asked = m;
        *msg = NULL; /* kept until S_ANSWER */
        assert_int_equal(wr_timer_after(self, jm->answer_ms, S_ANSWER, NULL), 0);
    } else if (m->type == S_ANSWER && jm->asked) {
        wr_msg_savepoint_done_t done = {wr_strv("/savepoints/savepoint-0123456789abcdef-7")};
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        assert_int_equal(wr_msg_savepoint_done_pack(&done, &sb), 0);
        assert_int_equal(wr_reply(self, jm->asked, WR_MSG_SAVEPOINT_DONE, sb.data, sb.size), 0);
        msgpack_sbuffer_destroy(&sb);
        wr_msg_destroy(&jm->asked);
    }
    return 0;
}

static void s_jm_free(void *state)
{
    s_jm_t *jm = state;
    wr_msg_destroy(&jm->asked);
}

static const wr_behaviour_t s_jm = {.on_message = s_jm_message, .free_state = s_jm_free};

/* A savepoint asked of jm with client.timeout 300 ms: the answer (NULL: none) and how long the
 * wait took, in *ms. */
static wr_msg_t *s_ask(s_jm_t *jm, int64_t *ms, wr_msg_savepoint_done_t *done)
{
    wr_node_t *n = tp_node("jm", 2, 0);
    tp_spawn(n, "jobmanager", &s_jm, jm);
    wr_config_t *cfg = wr_config_new();
    assert_non_null(cfg);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_config_set(cfg, NULL, "jobmanager.node-id", "jm", &err), 0);
    assert_int_equal(wr_config_set(cfg, NULL, "client.timeout", "300ms", &err), 0);
    assert_int_equal(wr_config_set(cfg, NULL, "execution.checkpointing.timeout", "20s", &err), 0);
    wr_msg_savepoint_req_t sp = {.stop = true};
    snprintf(sp.job, sizeof sp.job, "0123456789abcdef");
    int64_t t0 = wr_now_ns();
    wr_msg_t *answer = wr_cli_ask_jm(n, cfg, "stop", WR_MSG_SAVEPOINT_REQ, &sp,
                                     WR_MSG_SAVEPOINT_DONE, done, sp.job);
    *ms = (wr_now_ns() - t0) / 1000000;
    wr_strbuf_release(&err);
    wr_config_destroy(&cfg);
    /* (the answer outlives the node: a message is the caller's once taken) */
    wr_node_destroy(&n);
    return answer;
}

/* A savepoint answered after 3 s, ten client.timeouts: the answer, not "no JobManager answers". */
static void test_a_long_savepoint_is_waited_for(void **state)
{
    (void)state;
    s_jm_t jm = {.answer_ms = 3000};
    atomic_store(&jm.alive, true);
    int64_t ms;
    wr_msg_savepoint_done_t done;
    wr_msg_t *answer = s_ask(&jm, &ms, &done);
    assert_non_null(answer);
    assert_int_equal(done.path.len, strlen("/savepoints/savepoint-0123456789abcdef-7"));
    assert_memory_equal(done.path.s, "/savepoints/savepoint-0123456789abcdef-7", done.path.len);
    print_message("  answered after %lld ms, the JobManager was asked about the job %d times\n",
                  (long long)ms, atomic_load(&jm.job_reqs));
    assert_true(ms >= 2900);
    assert_true(atomic_load(&jm.job_reqs) >= 2); /* it checked the JobManager was there */
    wr_proto_release(&wr_msg_savepoint_done_decl, &done);
    wr_msg_destroy(&answer);
}

/* A JobManager that answers nothing more: the wait ends after two steps of client.timeout + 1 s,
 * each followed by a question about the job that waits as long, long before
 * execution.checkpointing.timeout (20 s). */
static void test_a_silent_jobmanager_ends_the_wait(void **state)
{
    (void)state;
    s_jm_t jm = {.answer_ms = 60000};
    atomic_store(&jm.alive, false);
    int64_t ms;
    wr_msg_savepoint_done_t done;
    wr_msg_t *answer = s_ask(&jm, &ms, &done);
    assert_null(answer);
    print_message("  gave up after %lld ms\n", (long long)ms);
    assert_true(ms >= 4 * 1300 - 100);
    assert_true(ms < 15000);
    assert_int_equal(atomic_load(&jm.job_reqs), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_long_savepoint_is_waited_for),
        cmocka_unit_test(test_a_silent_jobmanager_ends_the_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
