/* The JobManager's job registry (actors/jobmanager/jm_jobs.h) and the reports of a job's subtasks
 * (TASK_STATE), driven by hand: a registry on a test node with a TaskManager registered that runs
 * nothing (its deployments go nowhere), a job of two subtasks (a generator chained into a collect
 * sink), and the reports its subtasks would send, made by the codec from their declaration. A
 * report is read by its declaration alone; the lines a collect sink reports count once, whatever
 * attempt reported them and whatever the job did in between. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_jobs.h"
#include "actors/jobmanager/jm_leader.h"
#include "actors/jobmanager/jm_tms.h"
#include "actors/runtime/node.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/json.h"
#include "bus/messages.h"
#include "tests/support/cluster.h"

#define T_TICK (WR_MSG_LOCAL_FIRST + 900) /* the test actor: run the registry's tick */

/* A registry, what it places on and records with, and the node its actor runs on. */
typedef struct {
    wr__leader_t *leader;
    wr__tms_t *tms;
    wr__jobs_t *jobs;
    wr_jobmanager_opts_t o;
    wr_node_t *node;
    char job[WR_MSG_JOB_ID_MAX];
} s_fx_t;

static void s_granted(void *ctx, wr_actor_t *self, uint64_t epoch)
{
    (void)ctx;
    (void)self;
    (void)epoch;
}

/* The test's stand-in for the JobManager actor: the registry's handlers, and a PONG for what
 * they do not answer, so that every request of the test is synchronous. */
static int s_registry_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    wr__jobs_t *js = state;
    const wr_msg_t *m = *msg;
    switch (m->type) {
    case WR_MSG_JOB_SUBMIT:
        return wr__jobs_on_submit(js, self, m);
    case WR_MSG_JOB_REQ:
        return wr__jobs_on_describe(js, self, m);
    case WR_MSG_TASK_STATE: {
        int rc = wr__jobs_on_task_state(js, self, m);
        return rc ? rc : wr_reply(self, m, WR_MSG_PONG, NULL, 0);
    }
    case T_TICK:
        wr__jobs_tick(js, self);
        return wr_reply(self, m, WR_MSG_PONG, NULL, 0);
    default:
        return wr_reply(self, m, WR_MSG_PONG, NULL, 0);
    }
}

static const wr_behaviour_t s_registry = {.on_message = s_registry_message};

/* Sends the registry type with payload bytes; the reply (the caller destroys it). */
static wr_msg_t *s_ask(s_fx_t *f, uint16_t type, const void *data, size_t len)
{
    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(f->node, "n/jm", type, data, len, 5000, &reply), 0);
    assert_non_null(reply);
    return reply;
}

/* A registry leading with a TaskManager of two slots, and a job of two subtasks running on it
 * (attempt 0): a generator chained into a collect sink, restarted at once when it fails. */
static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->o.restart = (wr_restart_opts_t){.kind = WR_RESTART_FIXED_DELAY, .attempts = 3};
    f->leader = wr__leader_standalone_new();
    f->tms = wr__tms_new();
    assert_true(f->leader && f->tms);
    wr__leader_events_t ev = {.granted = s_granted};
    assert_int_equal(wr__leader_start(f->leader, NULL, "n", "inproc://n", &ev), 0);
    f->jobs = wr__jobs_new(&f->o, f->tms, f->leader);
    assert_non_null(f->jobs);
    wr__tm_reg_t reg = {.id = "tm-x", .endpoint = "inproc://tm-x", .slots = 2, .incarnation = 7};
    enum wr__tm_change change;
    assert_int_equal(wr__tms_register(f->tms, &reg, true, &change), 0);
    int rc = 0;
    f->node = wr_node_new(&(wr_node_opts_t){.id = "n", .threads = 1}, &rc);
    assert_non_null(f->node);
    wr_spawn_opts_t so = {.path = "jm", .behaviour = &s_registry, .state = f->jobs};
    assert_int_equal(wr_actor_spawn(f->node, &so, NULL), 0);

    static const char yaml[] = "name: reports\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: 10, total: 1000}\n"
                               "sinks:\n  - {type: collect}\n";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    tc_submit_payload(yaml, &sb);
    wr_msg_t *reply = s_ask(f, WR_MSG_JOB_SUBMIT, sb.data, sb.size);
    wr_msg_job_ref_t id;
    assert_int_equal(wr_msg_job_ref_unpack(reply, &id), 0);
    memcpy(f->job, id.job, sizeof f->job);
    wr_msg_destroy(&reply);
    msgpack_sbuffer_destroy(&sb);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    wr_node_destroy(&f->node);
    wr__jobs_destroy(&f->jobs);
    wr__tms_destroy(&f->tms);
    wr__leader_destroy(&f->leader);
    free(f);
    return 0;
}

/* `weir job` of the job, as JSON (the caller frees it). */
static char *s_job(s_fx_t *f)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_msg_job_ref_t ref;
    memcpy(ref.job, f->job, sizeof ref.job);
    assert_int_equal(wr_msg_job_ref_pack(&ref, &sb), 0);
    wr_msg_t *reply = s_ask(f, WR_MSG_JOB_REQ, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(reply->type, WR_MSG_JOB_REPLY);
    wr_strbuf_t json;
    wr_strbuf_init(&json);
    assert_int_equal(wr_mp_to_json(reply->data, reply->len, SIZE_MAX, &json), 0);
    wr_msg_destroy(&reply);
    return wr_strbuf_detach(&json, NULL);
}

/* Whether `weir job` of the job holds text. */
static bool s_job_has(s_fx_t *f, const char *text)
{
    char *job = s_job(f);
    bool has = strstr(job, text) != NULL;
    if (!has) print_message("  `weir job` has no %s: %s\n", text, job);
    free(job);
    return has;
}

/* Sends the registry a report payload (any bytes). */
static void s_send_report(s_fx_t *f, const void *data, size_t len)
{
    wr_msg_t *reply = s_ask(f, WR_MSG_TASK_STATE, data, len);
    assert_int_equal(reply->type, WR_MSG_PONG);
    wr_msg_destroy(&reply);
}

/* The report of subtask `subtask` of the job's attempt: its state, and a collect sink's lines
 * (NULL: none). */
static void s_report(s_fx_t *f, uint32_t attempt, uint32_t subtask, const char *state,
                     const char *lines)
{
    wr_msg_task_state_t r = {.subtask = subtask,
                             .stats = {.attempt = attempt, .records_in = 500, .records_out = 500}};
    memcpy(r.job, f->job, sizeof r.job);
    snprintf(r.state, sizeof r.state, "%s", state);
    if (!strcmp(state, "failed")) snprintf(r.error, sizeof r.error, "it broke");
    if (lines) r.stats.collected = wr_strv(lines);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_task_state_pack(&r, &sb), 0);
    s_send_report(f, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* The registry's tick: a failed job restarts (its restart delay is 0). */
static void s_tick(s_fx_t *f)
{
    wr_msg_t *reply = s_ask(f, T_TICK, NULL, 0);
    wr_msg_destroy(&reply);
}

/* A report as the subtask of attempt 0 sends it, but for its counters: stats holds the keys
 * given (name, then an int or, for a name starting with '$', a str) after the declaration's. */
static void s_report_with_stats(s_fx_t *f, const char *state, const char *extra_key)
{
    static const char *const keys[] = {"emit_delay_p50_ms",
                                       "emit_delay_p99_ms",
                                       "emit_delay_last_p99_ms",
                                       "attempt",
                                       "records_in",
                                       "records_out",
                                       "watermark",
                                       "backpressure",
                                       "windows_fired",
                                       "late_dropped",
                                       "skipped"};
    const size_t nkeys = sizeof keys / sizeof keys[0];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 6);
    wr_pack_str(&pk, f->job);
    msgpack_pack_uint32(&pk, 0);
    msgpack_pack_uint32(&pk, 0);
    wr_pack_str(&pk, state);
    wr_pack_str(&pk, "");
    msgpack_pack_map(&pk, (uint32_t)(nkeys + (extra_key != NULL)));
    for (size_t i = 0; i < nkeys; i++) {
        wr_pack_str(&pk, keys[i]);
        msgpack_pack_int64(&pk, !strcmp(keys[i], "attempt") ? 0 : 42);
    }
    if (extra_key && extra_key[0] == '$') {
        wr_pack_str(&pk, extra_key + 1);
        wr_pack_str(&pk, "x");
    } else if (extra_key) {
        wr_pack_str(&pk, extra_key);
        msgpack_pack_int64(&pk, 1);
    }
    s_send_report(f, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- the tests ---- */

/* A report is what its declaration says: one with a key it does not declare, or a declared key
 * of another type, is malformed and changes nothing; the declared one is taken whole. */
static void test_a_report_is_read_by_its_declaration_alone(void **state)
{
    s_fx_t *f = *state;
    assert_true(s_job_has(f, "\"subtasks\":[{\"node\":\"tm-x\",\"state\":\"deploying\"}"));
    s_report_with_stats(f, "running", "bogus");
    s_report_with_stats(f, "running", "$records_in"); /* (a second records_in, and a str) */
    assert_true(s_job_has(f, "\"subtasks\":[{\"node\":\"tm-x\",\"state\":\"deploying\"}"));
    assert_true(s_job_has(f, "\"records_in\":0,"));
    s_report_with_stats(f, "running", NULL);
    /* the subtask's counters (those not 0) follow its state */
    assert_true(s_job_has(f, "\"subtasks\":[{\"node\":\"tm-x\",\"state\":\"running\","
                             "\"records_in\":42,\"records_out\":42,\"backpressure\":42,"
                             "\"watermark\":42}"));
    assert_true(s_job_has(f, "\"records_in\":42,"));
}

/* Subtask 0 fails: the job fails over. Subtask 1, a sink that finished meanwhile, reports its
 * lines for the failed attempt after that, while the job waits to restart and again once the next
 * attempt runs: they are the failed attempt's, which the next one makes again, so they do not
 * count. */
static void test_lines_an_old_attempt_reports_late_do_not_count(void **state)
{
    s_fx_t *f = *state;
    s_report(f, 0, 0, "failed", NULL);
    assert_true(s_job_has(f, "\"state\":\"RESTARTING\""));
    s_report(f, 0, 1, "finished", "{\"late\":1}\n");
    s_tick(f);
    assert_true(s_job_has(f, "\"state\":\"RUNNING\""));
    assert_true(s_job_has(f, "\"attempt\":1,"));
    s_report(f, 0, 1, "finished", "{\"later\":1}\n");
    s_report(f, 1, 0, "finished", "{\"a\":1}\n");
    s_report(f, 1, 1, "finished", "{\"b\":1}\n");
    assert_true(s_job_has(f, "\"state\":\"FINISHED\""));
    assert_true(s_job_has(f, "\"collected\":\"{\\\"a\\\":1}\\n{\\\"b\\\":1}\\n\"}"));
}

/* Subtask 1, a sink, finishes and reports its lines; then subtask 0 fails. Without a checkpoint
 * the next attempt starts over and its sinks report every line again: the failed attempt's lines
 * go, and each line counts once. */
static void test_lines_of_a_failed_attempt_count_once(void **state)
{
    s_fx_t *f = *state;
    s_report(f, 0, 1, "finished", "{\"b\":1}\n");
    s_report(f, 0, 0, "failed", NULL);
    s_tick(f);
    assert_true(s_job_has(f, "\"attempt\":1,"));
    s_report(f, 1, 0, "finished", "{\"a\":1}\n");
    s_report(f, 1, 1, "finished", "{\"b\":1}\n");
    assert_true(s_job_has(f, "\"state\":\"FINISHED\""));
    assert_true(s_job_has(f, "\"collected\":\"{\\\"a\\\":1}\\n{\\\"b\\\":1}\\n\"}"));
}

/* A deterministic failure (the subtask's start met an error every restart would meet) ends the
 * job FAILED with its reason at once, though its strategy has 3 restarts left; any other failed
 * report fails it over (test_lines_an_old_attempt_reports_late_do_not_count). */
static void test_a_deterministic_failure_fails_the_job_without_restarts(void **state)
{
    s_fx_t *f = *state;
    wr_msg_task_state_t r = {.subtask = 1, .deterministic = true, .error = "no such thing"};
    memcpy(r.job, f->job, sizeof r.job);
    snprintf(r.state, sizeof r.state, "failed");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_task_state_pack(&r, &sb), 0);
    s_send_report(f, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    s_tick(f); /* (a restart would be due now) */
    assert_true(s_job_has(f, "\"state\":\"FAILED\""));
    assert_true(s_job_has(f, "cannot start, and no restart would: no such thing"));
    assert_true(s_job_has(f, "\"restarts\":0,"));
    assert_true(s_job_has(f, "\"attempt\":0,"));
}

/* Admission: a job the JobManager's state backend cannot run is refused at submit with the
 * window, the backend and why (rocksdb merges at most 64 panes per window: 65min / 1min has 65);
 * the same job with the memory backend is admitted. */
static void test_what_the_backend_cannot_run_is_refused(void **state)
{
    s_fx_t *f = *state;
    static const char yaml[] = "name: long\nparallelism: 1\nsources:\n"
                               "  - {type: generator, devices: 10, total: 1000}\n"
                               "key_by: device\nevent_time: {field: ts}\n"
                               "window: {type: sliding, size: 65min, slide: 1min}\n"
                               "aggregates: {n: count()}\nsinks:\n  - {type: collect}\n";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    tc_submit_payload(yaml, &sb);
    f->o.rocksdb = true;
    f->o.rocksdb_dir = "/nonexistent/rocksdb"; /* nothing is made there at submit */
    wr_msg_t *reply = s_ask(f, WR_MSG_JOB_SUBMIT, sb.data, sb.size);
    wr_msg_error_t e;
    assert_int_equal(wr_msg_error_unpack(reply, &e), 0);
    assert_int_equal(e.code, WR_EINVAL);
    char text[640];
    snprintf(text, sizeof text, "%.*s", (int)e.text.len, e.text.s);
    if (!strstr(text, "window window-1 (sliding 65min every 1min), state backend rocksdb: the "
                      "rocksdb backend merges at most 64 panes per window") ||
        !strstr(text, "state.backend: memory runs it"))
        fail_msg("the refusal does not say why: %s", text);
    wr_msg_destroy(&reply);
    /* memory: admitted, on to placement, which finds no slot (the fixture's job holds both) */
    f->o.rocksdb = false;
    reply = s_ask(f, WR_MSG_JOB_SUBMIT, sb.data, sb.size);
    assert_int_equal(wr_msg_error_unpack(reply, &e), 0);
    snprintf(text, sizeof text, "%.*s", (int)e.text.len, e.text.s);
    if (e.code != WR_EAGAIN || !strstr(text, "not enough slots"))
        fail_msg("the memory backend's job was not admitted: %s", text);
    wr_msg_destroy(&reply);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_report_is_read_by_its_declaration_alone, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_lines_an_old_attempt_reports_late_do_not_count,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_deterministic_failure_fails_the_job_without_restarts,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_what_the_backend_cannot_run_is_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_lines_of_a_failed_attempt_count_once, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests_name("the job registry and its subtasks' reports", tests, NULL,
                                       NULL);
}
