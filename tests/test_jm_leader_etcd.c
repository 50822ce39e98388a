/* The JobManager's leadership service through etcd (actors/jobmanager/jm_leader_etcd.c), driven
 * through its service API (jm_leader.h) against a real etcd on free loopback ports, in one
 * process: each JobManager is a test actor on one node that owns a service, handles the service's
 * local messages as the JobManager does, and runs the test's calls on its own thread (the service
 * belongs to its actor). Checked: of two candidates exactly one leads, under its candidacy key's
 * create revision; the job records keep the standalone service's contract
 * (tests/support/leader.h); a standby takes over with a higher epoch and reads the records back
 * once the leader is gone; a leader whose key was deleted or whose lease was revoked is deposed
 * by its next fenced write and campaigns again; and a leader cut off from etcd stops leading by its
 * own clock, before anything tells it so. Short timings (a lease of 2 s renewed every 250 ms) keep
 * the binary fast. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_leader.h"
#include "actors/runtime/node.h"
#include "bus/base/error.h"
#include "bus/msgtypes.h"
#include "state/etcd/ha.h"
#include "tests/support/actor.h"
#include "tests/support/etcd.h"
#include "tests/support/leader.h"
#include "tests/support/process.h"

#define T_RUN     (WR_MSG_LOCAL_FIRST + 900) /* the test actor: run a call on its thread */
#define T_CLUSTER "t"
#define T_TTL_MS  2000
#define T_RENEW   250

/* ---- the test's JobManagers ---- */

/* One JobManager: its service and what the service told it. */
typedef struct {
    wr__leader_t *l;
    atomic_int granted, revoked;
    _Atomic uint64_t epoch; /* of the last grant */
    char why[300];          /* the last revocation's reason, written before revoked counts it */
} s_jm_t;

enum s_op {
    OP_START,
    OP_IS_LEADER,
    OP_EPOCH,
    OP_PUT_JOB,
    OP_PUT_POINTER,
    OP_RECORDS,
    OP_CHECK_RECORDS,
    OP_ADDRESS,
    OP_CANDIDATES,
    OP_DESTROY
};

/* A call the actor runs on its thread (a local message: never encoded, so pointers pass). */
typedef struct {
    enum s_op op;
    const char *id, *text; /* OP_START: the endpoint; OP_PUT_*: the job and graph/checkpoint */
    uint32_t attempt;
    void *out; /* OP_RECORDS, OP_CHECK_RECORDS: a wr_strbuf_t; OP_ADDRESS: a wr_ha_addr_t;
                  OP_CANDIDATES: s_cands_t */
} s_call_t;

typedef struct {
    wr_ha_candidate_t c[WR_HA_CANDIDATES];
    size_t n;
} s_cands_t;

static void s_granted(void *ctx, wr_actor_t *self, uint64_t epoch)
{
    (void)self;
    s_jm_t *jm = ctx;
    atomic_store(&jm->epoch, epoch);
    atomic_fetch_add(&jm->granted, 1);
}

static void s_revoked(void *ctx, wr_actor_t *self, const char *why)
{
    (void)self;
    s_jm_t *jm = ctx;
    snprintf(jm->why, sizeof jm->why, "%s", why);
    atomic_fetch_add(&jm->revoked, 1);
}

static int64_t s_do(wr_actor_t *self, s_jm_t *jm, const s_call_t *c)
{
    switch (c->op) {
    case OP_START: {
        wr__leader_events_t ev = {.granted = s_granted, .revoked = s_revoked, .ctx = jm};
        return wr__leader_start(jm->l, self, wr_actor_path(self), c->text, &ev);
    }
    case OP_IS_LEADER:
        return wr__leader_is_leader(jm->l);
    case OP_EPOCH:
        return (int64_t)wr__leader_epoch(jm->l);
    case OP_PUT_JOB:
        return wr__leader_put_job(jm->l, self, c->id, c->text, strlen(c->text));
    case OP_PUT_POINTER:
        return wr__leader_put_pointer(jm->l, self, c->id, c->attempt, c->text);
    case OP_RECORDS:
        return tl_records(jm->l, c->out);
    case OP_CHECK_RECORDS:
        return tl_check_records(jm->l, self, c->out);
    case OP_ADDRESS: {
        const char *node, *endpoint;
        wr__leader_address(jm->l, &node, &endpoint);
        wr_ha_addr_t *a = c->out;
        snprintf(a->node, sizeof a->node, "%s", node);
        snprintf(a->endpoint, sizeof a->endpoint, "%s", endpoint);
        return 0;
    }
    case OP_CANDIDATES: {
        s_cands_t *cs = c->out;
        cs->n = wr__leader_candidates(jm->l, cs->c, WR_HA_CANDIDATES);
        return 0;
    }
    case OP_DESTROY:
        wr__leader_destroy(&jm->l);
        return 0;
    }
    return WR_EINVAL;
}

static int s_jm_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_jm_t *jm = state;
    const wr_msg_t *m = *msg;
    if (m->type >= WR__LEADER_MSG_FIRST && m->type <= WR__LEADER_MSG_LAST)
        return jm->l ? wr__leader_on_message(jm->l, self, m) : 0; /* as the JobManager does */
    if (m->type != T_RUN || m->len != sizeof(s_call_t)) return 0;
    s_call_t c;
    memcpy(&c, m->data, sizeof c);
    int64_t rc = s_do(self, jm, &c);
    return wr_reply(self, m, WR_MSG_PONG, &rc, sizeof rc);
}

static void s_jm_free(void *state)
{
    s_jm_t *jm = state;
    wr__leader_destroy(&jm->l);
    free(jm);
}

static const wr_behaviour_t s_jm_behaviour = {.on_message = s_jm_message, .free_state = s_jm_free};

/* The running test's node and etcd, released by s_teardown also when the test fails (the node
 * first: its services revoke their leases while etcd still runs). */
static struct {
    wr_node_t *node;
    te_etcd_t *etcd;
} s_fx;

static int s_setup(void **state)
{
    memset(&s_fx, 0, sizeof s_fx);
    return te_setup(state);
}

static int s_teardown(void **state)
{
    if (s_fx.etcd) kill(s_fx.etcd->proc->pid, SIGCONT); /* a test that stopped it */
    wr_node_destroy(&s_fx.node);
    return te_teardown(state);
}

/* Starts etcd, the test's client of it, and the node. */
static void s_start(void)
{
    s_fx.etcd = te_start("etcd");
    te_client(s_fx.etcd->endpoint);
    wr_node_opts_t no = {.id = "n", .threads = 2};
    int rc = 0;
    s_fx.node = wr_node_new(&no, &rc);
    if (!s_fx.node) fail_msg("wr_node_new: %s", wr_strerror(rc));
}

/* A JobManager actor at path with an etcd service (lease ttl_ms renewed every renew_ms), not yet
 * campaigning. Borrowed: the actor owns it. */
static s_jm_t *s_jm(const char *path, int64_t ttl_ms, int64_t renew_ms)
{
    wr_ha_opts_t o = {.endpoints = s_fx.etcd->endpoint,
                      .cluster_id = T_CLUSTER,
                      .lease_ttl_ms = ttl_ms,
                      .renew_ms = renew_ms};
    s_jm_t *jm = calloc(1, sizeof *jm);
    assert_non_null(jm);
    wr_strbuf_reset(&te_fx.err);
    jm->l = wr__leader_etcd_new(&o, &te_fx.err);
    if (!jm->l) {
        free(jm);
        fail_msg("wr__leader_etcd_new: %s", te_fx.err.buf);
    }
    wr_spawn_opts_t so = {.path = path, .behaviour = &s_jm_behaviour, .state = jm};
    assert_int_equal(wr_actor_spawn(s_fx.node, &so, NULL), 0);
    return jm;
}

/* Runs c on the actor at path (on its thread) and returns what it returned. */
static int64_t s_run(const char *path, s_call_t c)
{
    wr_msg_t *reply = NULL;
    int rc = wr_node_request(s_fx.node, path, T_RUN, &c, sizeof c, 10000, &reply);
    if (rc) fail_msg("asking %s: %s", path, wr_strerror(rc));
    int64_t out = 0;
    bool ok = reply->type == WR_MSG_PONG && reply->len == sizeof out;
    if (ok) memcpy(&out, reply->data, sizeof out);
    wr_msg_destroy(&reply);
    if (!ok) fail_msg("%s did not answer the call", path);
    return out;
}

#define RUN(path, ...) s_run(path, (s_call_t){__VA_ARGS__})

static void s_campaign(const char *path)
{
    const char *ep = ps_fmt("tcp://127.0.0.1:%d", path[3]); /* a distinct address each */
    assert_int_equal(RUN(path, .op = OP_START, .text = ep), 0);
}

/* A JobManager at path that campaigns alone and is granted the leadership (failing the test
 * otherwise). */
static s_jm_t *s_leader(const char *path, int64_t ttl_ms, int64_t renew_ms)
{
    s_jm_t *jm = s_jm(path, ttl_ms, renew_ms);
    s_campaign(path);
    if (!wr_test_wait_count(&jm->granted, 1, 10000)) fail_msg("%s was not granted", path);
    return jm;
}

/* A call that writes into a wr_strbuf_t (OP_RECORDS, OP_CHECK_RECORDS): its code in *rc, the
 * text kept until the test ends. */
static const char *s_text(const char *path, enum s_op op, int64_t *rc)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    *rc = RUN(path, .op = op, .out = &sb);
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

/* The candidacy keys in etcd, oldest first (the test's own reading, not ha.c's). */
typedef struct {
    char value[64];
    int64_t create, lease;
    char key[WR_HA_KEY_MAX];
} s_key_t;

static size_t s_keys(s_key_t *out, size_t cap)
{
    char prefix[WR_HA_KEY_MAX];
    assert_int_equal(wr_ha_key(T_CLUSTER, "leader", "", prefix), 0);
    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(te_fx.c, prefix, strlen(prefix), true, &r, &te_fx.err));
    size_t n = 0;
    for (size_t i = 0; i < r.n && n < cap; i++, n++) {
        s_key_t k = {.create = r.kvs[i].create_revision, .lease = r.kvs[i].lease};
        snprintf(k.value, sizeof k.value, "%s", r.kvs[i].value);
        snprintf(k.key, sizeof k.key, "%s", r.kvs[i].key);
        size_t at = n;
        while (at > 0 && out[at - 1].create > k.create) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = k;
    }
    wr_etcd_range_release(&r);
    return n;
}

static bool s_any_granted(void *ctx)
{
    s_jm_t **jms = ctx;
    return atomic_load(&jms[0]->granted) + atomic_load(&jms[1]->granted) > 0;
}

static bool s_is_standby(void *ctx)
{
    return RUN(ctx, .op = OP_IS_LEADER) == 0;
}

/* ---- the tests ---- */

static void test_one_of_two_candidates_leads_under_its_keys_create_revision(void **state)
{
    (void)state;
    s_start();
    s_jm_t *jm[2] = {s_jm("jm-a", T_TTL_MS, T_RENEW), s_jm("jm-b", T_TTL_MS, T_RENEW)};
    s_campaign("jm-a");
    s_campaign("jm-b");
    assert_true(wr_test_wait_until(s_any_granted, jm, 10000, 5));
    ps_sleep_ms(4 * T_RENEW); /* rounds enough for a second grant, if there were one */
    assert_int_equal(atomic_load(&jm[0]->granted) + atomic_load(&jm[1]->granted), 1);
    assert_int_equal(atomic_load(&jm[0]->revoked) + atomic_load(&jm[1]->revoked), 0);
    int lead = atomic_load(&jm[0]->granted) ? 0 : 1;
    const char *leader = lead ? "jm-b" : "jm-a", *standby = lead ? "jm-a" : "jm-b";
    uint64_t epoch = atomic_load(&jm[lead]->epoch);

    /* the epoch is the create revision of the oldest key, which holds the leader's address and
     * is named after its lease */
    s_key_t keys[4];
    assert_int_equal(s_keys(keys, 4), 2);
    assert_true((uint64_t)keys[0].create == epoch);
    assert_string_equal(keys[0].value, ps_fmt("%s\ntcp://127.0.0.1:%d\n", leader, leader[3]));
    assert_string_equal(keys[0].key,
                        ps_fmt("/weir/t/leader/%016llx", (unsigned long long)keys[0].lease));
    assert_true(keys[1].create > keys[0].create && keys[1].lease != keys[0].lease);
    assert_non_null(strstr(keys[1].value, standby));

    assert_true(RUN(leader, .op = OP_IS_LEADER) == 1);
    assert_true((uint64_t)RUN(leader, .op = OP_EPOCH) == epoch);
    assert_true(RUN(standby, .op = OP_IS_LEADER) == 0);
    assert_true(RUN(standby, .op = OP_EPOCH) == 0);

    /* both publish the leader's address; the standby lists both candidates, the leader first */
    wr_ha_addr_t a;
    assert_true(RUN(standby, .op = OP_ADDRESS, .out = &a) == 0);
    assert_string_equal(a.node, leader);
    assert_string_equal(a.endpoint, ps_fmt("tcp://127.0.0.1:%d", leader[3]));
    assert_true(RUN(leader, .op = OP_ADDRESS, .out = &a) == 0);
    assert_string_equal(a.node, leader);
    s_cands_t cs;
    assert_true(RUN(standby, .op = OP_CANDIDATES, .out = &cs) == 0);
    assert_int_equal(cs.n, 2);
    assert_string_equal(cs.c[0].addr.node, leader);
    assert_true((uint64_t)cs.c[0].epoch == epoch && cs.c[0].lease == keys[0].lease);
    assert_string_equal(cs.c[1].addr.node, standby);

    /* a standby writes and reads no records */
    assert_true(RUN(standby, .op = OP_PUT_JOB, .id = "0000000a", .text = "g") == WR_ESTALE);
    int64_t rc = 0;
    s_text(standby, OP_RECORDS, &rc);
    assert_true(rc == WR_ESTALE);
}

/* The records' contract of every implementation (tests/support/leader.h), kept in etcd. */
static void test_records_keep_the_standalone_contract(void **state)
{
    (void)state;
    s_start();
    s_leader("jm-a", T_TTL_MS, T_RENEW);
    int64_t rc = 0;
    const char *broken = s_text("jm-a", OP_CHECK_RECORDS, &rc);
    if (rc) fail_msg("%s", broken);

    /* what is left is in etcd under the cluster's prefix */
    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(te_fx.c, "/weir/t/jobs/", 13, true, &r, &te_fx.err));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.kvs[0].key, "/weir/t/jobs/0000000b");
    assert_string_equal(r.kvs[0].value, "graph-B");
    wr_etcd_range_release(&r);
    TE_CHECK(wr_etcd_get(te_fx.c, "/weir/t/pointers/", 17, true, &r, &te_fx.err));
    assert_int_equal(r.n, 0); /* 0000000a's went with its graph */
    wr_etcd_range_release(&r);
}

/* The leader's service destroyed (its lease revoked): the standby leads with a higher epoch and
 * reads the leader's records back. */
static void test_standby_takes_over_and_reads_the_records(void **state)
{
    (void)state;
    s_start();
    s_jm_t *a = s_leader("jm-a", T_TTL_MS, T_RENEW);
    s_jm_t *b = s_jm("jm-b", T_TTL_MS, T_RENEW);
    s_campaign("jm-b");
    s_key_t keys[4];
    int64_t deadline = ps_now_ms() + 10000;
    while (s_keys(keys, 4) < 2 && ps_now_ms() < deadline)
        ps_sleep_ms(10);
    assert_int_equal(s_keys(keys, 4), 2); /* jm-b campaigns */
    assert_true(RUN("jm-a", .op = OP_PUT_JOB, .id = "0000000a", .text = "graph-a") == 0);
    assert_true(RUN("jm-a", .op = OP_PUT_POINTER, .id = "0000000a", .attempt = 3,
                    .text = "/ck/0000000a/chk-5") == 0);
    assert_true(RUN("jm-a", .op = OP_PUT_JOB, .id = "0000000b", .text = "graph-b") == 0);
    assert_int_equal(atomic_load(&b->granted), 0);

    int64_t t0 = ps_now_ms();
    assert_true(RUN("jm-a", .op = OP_DESTROY) == 0);
    assert_int_equal(s_keys(keys, 4), 1); /* its key went with its lease */
    assert_true(wr_test_wait_count(&b->granted, 1, 5000));
    assert_true(ps_now_ms() - t0 < 2 * T_RENEW + 1000); /* not a lease's wait */
    uint64_t epoch = atomic_load(&b->epoch);
    assert_true(epoch > atomic_load(&a->epoch));
    assert_true((uint64_t)keys[0].create == epoch);

    int64_t rc = 0;
    const char *records = s_text("jm-b", OP_RECORDS, &rc);
    assert_true(rc == 0);
    assert_string_equal(records, "0000000a 3 /ck/0000000a/chk-5 graph-a;0000000b 0  graph-b;");
    /* and writes under its own epoch */
    assert_true(RUN("jm-b", .op = OP_PUT_POINTER, .id = "0000000b", .attempt = 1, .text = "") == 0);
}

/* The leader's candidacy taken away behind its back by the test's client: its next fenced write
 * fails with WR_ESTALE, which deposes it at once and revokes it from its next message; it then
 * campaigns again under a new key. A renew interval of 1 s keeps the elector from noticing
 * first. */
static void s_deposed_by(void (*take_away)(const s_key_t *key))
{
    s_start();
    s_jm_t *a = s_leader("jm-a", 3000, 1000);
    uint64_t first = atomic_load(&a->epoch);
    assert_true(RUN("jm-a", .op = OP_PUT_JOB, .id = "0000000a", .text = "graph-a") == 0);

    s_key_t keys[4];
    assert_int_equal(s_keys(keys, 4), 1);
    take_away(&keys[0]);
    assert_int_equal(s_keys(keys, 4), 0);
    assert_true(RUN("jm-a", .op = OP_PUT_POINTER, .id = "0000000a", .attempt = 1,
                    .text = "/ck/0000000a/chk-1") == WR_ESTALE);
    assert_true(RUN("jm-a", .op = OP_IS_LEADER) == 0); /* at once */
    assert_true(wr_test_wait_count(&a->revoked, 1, 5000));
    assert_non_null(strstr(a->why, "deposed"));
    assert_true(RUN("jm-a", .op = OP_EPOCH) == 0);
    wr_etcd_range_t r; /* the fenced write did not happen */
    TE_CHECK(wr_etcd_get(te_fx.c, "/weir/t/pointers/", 17, true, &r, &te_fx.err));
    assert_int_equal(r.n, 0);
    wr_etcd_range_release(&r);

    /* a candidate again, under a new key: granted with a higher epoch */
    assert_true(wr_test_wait_count(&a->granted, 2, 10000));
    assert_true(atomic_load(&a->epoch) > first);
    assert_int_equal(atomic_load(&a->revoked), 1);
    assert_int_equal(s_keys(keys, 4), 1);
    assert_true((uint64_t)keys[0].create == atomic_load(&a->epoch));
    assert_true(RUN("jm-a", .op = OP_PUT_POINTER, .id = "0000000a", .attempt = 1,
                    .text = "/ck/0000000a/chk-1") == 0);
}

static void s_delete_key(const s_key_t *key)
{
    int64_t deleted = 0;
    TE_CHECK(wr_etcd_delete(te_fx.c, key->key, strlen(key->key), false, &deleted, &te_fx.err));
    assert_int_equal(deleted, 1);
}

static void s_revoke_lease(const s_key_t *key)
{
    TE_CHECK(wr_etcd_lease_revoke(te_fx.c, key->lease, &te_fx.err));
}

/* as an operator's `etcdctl del` would: the lease lives on */
static void test_leader_whose_key_was_deleted_is_deposed_by_its_next_write(void **state)
{
    (void)state;
    s_deposed_by(s_delete_key);
}

static void test_leader_whose_lease_was_revoked_is_deposed_by_its_next_write(void **state)
{
    (void)state;
    s_deposed_by(s_revoke_lease);
}

/* etcd stopped (SIGSTOP): the leader stops leading by its own clock, within the lease less one
 * renew interval of its last renewal, before its elector has told it anything; once etcd runs
 * again it is revoked, campaigns under a new lease and leads again with a higher epoch. */
static void test_leader_cut_off_from_etcd_stops_leading_by_itself(void **state)
{
    (void)state;
    s_start();
    s_jm_t *a = s_leader("jm-a", T_TTL_MS, T_RENEW);
    uint64_t first = atomic_load(&a->epoch);
    ps_sleep_ms(2 * T_RENEW); /* renewed since the grant */
    assert_true(RUN("jm-a", .op = OP_IS_LEADER) == 1);

    int64_t t0 = ps_now_ms();
    assert_int_equal(kill(s_fx.etcd->proc->pid, SIGSTOP), 0);
    assert_true(wr_test_wait_until(s_is_standby, "jm-a", 10000, 10));
    int64_t took = ps_now_ms() - t0;
    int revoked = atomic_load(&a->revoked);
    /* the last renewal was sent at most one interval before the stop */
    if (took < T_TTL_MS - 2 * T_RENEW - 100 || took > T_TTL_MS - T_RENEW + 750)
        fail_msg("stopped leading %lld ms after etcd stopped; expected %d..%d", (long long)took,
                 T_TTL_MS - 2 * T_RENEW, T_TTL_MS - T_RENEW);
    assert_int_equal(revoked, 0); /* by its own clock, not told */

    /* the elector gives up too */
    assert_true(wr_test_wait_count(&a->revoked, 1, 5000));
    assert_non_null(strstr(a->why, "cannot renew its etcd lease"));
    assert_true(RUN("jm-a", .op = OP_EPOCH) == 0);

    assert_int_equal(kill(s_fx.etcd->proc->pid, SIGCONT), 0);
    assert_true(wr_test_wait_count(&a->granted, 2, 10000));
    assert_true(atomic_load(&a->epoch) > first);
    assert_true(RUN("jm-a", .op = OP_IS_LEADER) == 1);
    s_key_t keys[4];
    assert_int_equal(s_keys(keys, 4), 1); /* the stale lease's key is gone */
    assert_true((uint64_t)keys[0].create == atomic_load(&a->epoch));
}

int main(void)
{
    if (te_group_setup("test_jm_leader_etcd")) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_one_of_two_candidates_leads_under_its_keys_create_revision, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_records_keep_the_standalone_contract, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_standby_takes_over_and_reads_the_records, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_leader_whose_key_was_deleted_is_deposed_by_its_next_write, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_leader_whose_lease_was_revoked_is_deposed_by_its_next_write, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_leader_cut_off_from_etcd_stops_leading_by_itself,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, ps_group_teardown);
}
