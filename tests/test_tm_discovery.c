/* How a TaskManager finds the leader of an HA cluster (actors/taskmanager/tm_discovery.h) against
 * a real etcd on free loopback ports: the discovery thread tells a test actor, with one local
 * message, each time etcd names another leader (another candidacy, or the same one at another
 * address), and says nothing while the answer stays the same, while no JobManager campaigns, or
 * while etcd does not answer; and a TaskManager actor (taskmanager.h) that registered with a
 * JobManager registers with it again at once when etcd names a new candidacy of the same
 * JobManager (it lost the leadership and won it again under a new epoch, forgetting its
 * TaskManagers), not only at its next slot report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actors/cluster/cluster.h"
#include "actors/runtime/node.h"
#include "actors/taskmanager/taskmanager.h"
#include "actors/taskmanager/tm_discovery.h"
#include "bus/base/error.h"
#include "bus/messages.h"
#include "bus/msgtypes.h"
#include "state/etcd/ha.h"
#include "tests/support/actor.h"
#include "tests/support/etcd.h"
#include "tests/support/process.h"

#define T_LEADER  (WR_MSG_LOCAL_FIRST + 900) /* what the discovery sends the test actor */
#define T_CLUSTER "t"
#define T_RENEW   100 /* the discovery asks etcd every 100 ms */
#define T_MAX     16

/* The test actor: every leader it was told of, in order (a slot is written before n counts it). */
typedef struct {
    atomic_int n;
    wr_ha_candidate_t told[T_MAX];
    atomic_int malformed;
} s_told_t;

static int s_tm_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    (void)self;
    s_told_t *t = state;
    const wr_msg_t *m = *msg;
    if (m->type != T_LEADER) return 0;
    int n = atomic_load(&t->n);
    if (m->len != sizeof(wr_ha_candidate_t) || n >= T_MAX) {
        atomic_fetch_add(&t->malformed, 1);
        return 0;
    }
    memcpy(&t->told[n], m->data, sizeof t->told[n]);
    atomic_store(&t->n, n + 1);
    return 0;
}

static const wr_behaviour_t s_tm_behaviour = {.on_message = s_tm_message};

/* A JobManager's stand-in: counts the registrations and answers each under `epoch`. */
typedef struct {
    atomic_int registers;
    _Atomic int64_t epoch;
} s_jm_t;

static int s_jm_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_jm_t *jm = state;
    const wr_msg_t *m = *msg;
    if (m->type != WR_MSG_TM_REGISTER) return 0;
    wr_msg_tm_registered_t r = {.jm_incarnation = 1,
                                .heartbeat_timeout_ms = 2000,
                                .epoch = (uint64_t)atomic_load(&jm->epoch)};
    wr_msg_t *a = wr_msg_tm_registered_new(WR_MSG_TM_REGISTERED, NULL, NULL, &r);
    assert_non_null(a);
    a->corr = m->corr;
    a->epoch = r.epoch;
    assert_int_equal(wr_send_msg(self, m->from, &a), 0);
    atomic_fetch_add(&jm->registers, 1);
    return 0;
}

static const wr_behaviour_t s_jm_behaviour = {.on_message = s_jm_message};

/* The running test's nodes and discovery, released by s_teardown also when the test fails. */
static struct {
    wr_node_t *node, *jm;
    wr__discovery_t *d;
    s_told_t told;
    s_jm_t jm_state;
} s_fx;

static int s_setup(void **state)
{
    memset(&s_fx, 0, sizeof s_fx);
    return te_setup(state);
}

static int s_teardown(void **state)
{
    wr__discovery_stop(&s_fx.d);
    wr_node_destroy(&s_fx.node);
    wr_node_destroy(&s_fx.jm);
    return te_teardown(state);
}

static wr_ha_opts_t s_opts(const char *endpoints)
{
    return (wr_ha_opts_t){
        .endpoints = endpoints, .cluster_id = T_CLUSTER, .lease_ttl_ms = 2000, .renew_ms = T_RENEW};
}

/* Puts a candidacy under the key's name; its create revision (or, rewritten, the key's). */
static int64_t s_candidacy(const char *name, const char *value)
{
    char key[WR_HA_KEY_MAX];
    assert_int_equal(wr_ha_key(T_CLUSTER, "leader", name, key), 0);
    TE_CHECK(wr_etcd_put(te_fx.c, key, strlen(key), value, strlen(value), 0, NULL, &te_fx.err));
    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(te_fx.c, key, strlen(key), false, &r, &te_fx.err));
    assert_int_equal(r.n, 1);
    int64_t rev = r.kvs[0].create_revision;
    wr_etcd_range_release(&r);
    return rev;
}

static void s_withdraw(const char *name)
{
    char key[WR_HA_KEY_MAX];
    assert_int_equal(wr_ha_key(T_CLUSTER, "leader", name, key), 0);
    int64_t deleted = 0;
    TE_CHECK(wr_etcd_delete(te_fx.c, key, strlen(key), false, &deleted, &te_fx.err));
    assert_int_equal(deleted, 1);
}

/* The n-th message (counting from 1) comes, and names node at endpoint under epoch. */
static void s_told(int n, const char *node, const char *endpoint, int64_t epoch)
{
    if (!wr_test_wait_count(&s_fx.told.n, n, 5000))
        fail_msg("told %d times, expected %d", atomic_load(&s_fx.told.n), n);
    const wr_ha_candidate_t *c = &s_fx.told.told[n - 1];
    assert_string_equal(c->addr.node, node);
    assert_string_equal(c->addr.endpoint, endpoint);
    assert_true(c->epoch == epoch);
}

/* Several rounds pass and the actor was told n times in all. */
static void s_quiet(int n)
{
    ps_sleep_ms(5 * T_RENEW);
    assert_int_equal(atomic_load(&s_fx.told.n), n);
}

static void test_tells_the_actor_each_time_the_leader_changes(void **state)
{
    (void)state;
    te_etcd_t *etcd = te_start("etcd");
    te_client(etcd->endpoint);
    wr_node_opts_t no = {.id = "n", .threads = 1};
    int rc = 0;
    s_fx.node = wr_node_new(&no, &rc);
    assert_non_null(s_fx.node);
    wr_spawn_opts_t so = {.path = "tm", .behaviour = &s_tm_behaviour, .state = &s_fx.told};
    assert_int_equal(wr_actor_spawn(s_fx.node, &so, NULL), 0);
    wr_ha_opts_t o = s_opts(etcd->endpoint);
    s_fx.d = wr__discovery_start(&o, s_fx.node, "n/tm", T_LEADER, &te_fx.err);
    if (!s_fx.d) fail_msg("wr__discovery_start: %s", te_fx.err.buf);

    s_quiet(0); /* no JobManager campaigns: nothing to say */
    int64_t a = s_candidacy("000000000000000a", "jm-a\ntcp://127.0.0.1:1\n");
    s_told(1, "jm-a", "tcp://127.0.0.1:1", a);
    s_quiet(1); /* not again while it leads */

    int64_t b = s_candidacy("000000000000000b", "jm-b\ntcp://127.0.0.1:2\n");
    s_candidacy("000000000000000c", "garbage"); /* undecodable: skipped */
    s_quiet(1);                                 /* a standby more changes nothing */

    /* the same candidacy at another address (its key rewritten: the epoch stays) */
    assert_true(s_candidacy("000000000000000a", "jm-a\ntcp://127.0.0.1:11\n") == a);
    s_told(2, "jm-a", "tcp://127.0.0.1:11", a);

    s_withdraw("000000000000000a"); /* the leader gone: the standby leads */
    s_told(3, "jm-b", "tcp://127.0.0.1:2", b);
    s_quiet(3);

    s_withdraw("000000000000000b"); /* none: nothing said, the TaskManager keeps jm-b */
    s_quiet(3);
    /* jm-b back under a new candidacy: a new epoch, told although the address is the same */
    int64_t b2 = s_candidacy("000000000000000d", "jm-b\ntcp://127.0.0.1:2\n");
    assert_true(b2 > b);
    s_told(4, "jm-b", "tcp://127.0.0.1:2", b2);

    /* etcd gone: nothing said, and the discovery still stops at once */
    ps_kill9(etcd->proc);
    s_quiet(4);
    int64_t t0 = ps_now_ms();
    wr__discovery_stop(&s_fx.d);
    assert_null(s_fx.d);
    assert_true(ps_now_ms() - t0 < 2000); /* at most the request in flight */
    assert_int_equal(atomic_load(&s_fx.told.malformed), 0);
}

static void test_taskmanager_registers_again_under_a_new_candidacy(void **state)
{
    (void)state;
    te_etcd_t *etcd = te_start("etcd");
    te_client(etcd->endpoint);
    char ep[2][96];
    for (int i = 0; i < 2; i++)
        snprintf(ep[i], sizeof ep[i], "inproc://tmd-%ld-%d", (long)getpid(), i);
    int rc = 0;
    wr_node_opts_t jo = {.id = "jm-x",
                         .bind = ep[0],
                         .threads = 1,
                         .heartbeat_interval_ms = 100,
                         .heartbeat_timeout_ms = 2000};
    s_fx.jm = wr_node_new(&jo, &rc);
    assert_non_null(s_fx.jm);
    wr_spawn_opts_t so = {
        .path = WR_JOBMANAGER_PATH, .behaviour = &s_jm_behaviour, .state = &s_fx.jm_state};
    assert_int_equal(wr_actor_spawn(s_fx.jm, &so, NULL), 0);
    char value[160];
    snprintf(value, sizeof value, "jm-x\n%s\n", ep[0]);
    atomic_store(&s_fx.jm_state.epoch, s_candidacy("000000000000000a", value));

    /* a TaskManager whose slot report (every 10 registration retries) comes after the test */
    wr_node_opts_t no = jo;
    no.id = "tm-x";
    no.bind = ep[1];
    s_fx.node = wr_node_new(&no, &rc);
    assert_non_null(s_fx.node);
    wr_ha_opts_t o = s_opts(etcd->endpoint);
    wr_taskmanager_opts_t to = {.ha = &o, .slots = 1, .register_retry_ms = 2000};
    int64_t t0 = ps_now_ms();
    assert_int_equal(wr_taskmanager_spawn(s_fx.node, &to), 0);
    if (!wr_test_wait_count(&s_fx.jm_state.registers, 1, 5000)) fail_msg("never registered");

    /* jm-x lost its leadership and won it again: a new candidacy, the same node and address */
    s_withdraw("000000000000000a");
    atomic_store(&s_fx.jm_state.epoch, s_candidacy("000000000000000b", value));
    if (!wr_test_wait_count(&s_fx.jm_state.registers, 2, 3000))
        fail_msg("registered %d times: not again under the new candidacy",
                 atomic_load(&s_fx.jm_state.registers));
    assert_true(ps_now_ms() - t0 < 10 * 2000); /* before its first slot report could come */
}

/* Options that cannot work are refused before a thread starts, with the reason. */
static void test_refuses_options_that_cannot_work(void **state)
{
    (void)state;
    wr_node_opts_t no = {.id = "n", .threads = 1};
    int rc = 0;
    s_fx.node = wr_node_new(&no, &rc);
    assert_non_null(s_fx.node);
    wr_ha_opts_t o = s_opts("http://127.0.0.1:1");
    o.renew_ms = 1000; /* over a third of 2 s */
    assert_null(wr__discovery_start(&o, s_fx.node, "n/tm", T_LEADER, &te_fx.err));
    assert_non_null(strstr(te_fx.err.buf, "high-availability.etcd.renew-interval"));
    wr_strbuf_reset(&te_fx.err);
    o = s_opts("127.0.0.1:2379"); /* not a URL */
    assert_null(wr__discovery_start(&o, s_fx.node, "n/tm", T_LEADER, &te_fx.err));
    assert_non_null(strstr(te_fx.err.buf, "127.0.0.1:2379"));
}

int main(void)
{
    if (te_group_setup("test_tm_discovery")) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tells_the_actor_each_time_the_leader_changes, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_taskmanager_registers_again_under_a_new_candidacy,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_options_that_cannot_work, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, ps_group_teardown);
}
