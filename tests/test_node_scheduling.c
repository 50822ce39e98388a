/* When an actor's handler runs, on one node: timers (once after a delay, every period, cancelled,
 * also from the handler of their own tick), turns shared on one worker (a busy actor does not
 * starve the others: it yields after its turn budget), and a full mailbox pushing back on every
 * sender (which keeps its message and may retry). Usage is test_node.c; the probe actor and the
 * helpers are tests/support/probe.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>

#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "tests/support/probe.h"

/* ---- timers ---- */

typedef struct {
    atomic_int ticks, once, never;
    int64_t start_ns, once_ns;
    uint64_t every_id;
    int every_rc;
} s_clock_t;

static int s_clock_start(wr_actor_t *self, void *state)
{
    s_clock_t *c = state;
    c->start_ns = wr_now_ns();
    uint64_t never = 0;
    int rc = wr_timer_after(self, 40, TP_ONCE, NULL);
    if (!rc) rc = wr_timer_every(self, 10, TP_TICK, &c->every_id);
    if (!rc) rc = wr_timer_after(self, 20, TP_NEVER, &never);
    wr_timer_cancel(self, never);     /* cancelled before it fires */
    wr_timer_cancel(self, 987654321); /* unknown ids are harmless */
    c->every_rc = wr_timer_every(self, 0, TP_TICK, NULL);
    return rc;
}

static int s_clock_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_clock_t *c = state;
    switch ((*msg)->type) {
    case TP_TICK:
        if (atomic_fetch_add(&c->ticks, 1) + 1 == 3) wr_timer_cancel(self, c->every_id);
        break;
    case TP_ONCE:
        c->once_ns = wr_now_ns();
        atomic_fetch_add(&c->once, 1);
        break;
    case TP_NEVER:
        atomic_fetch_add(&c->never, 1);
        break;
    }
    return 0;
}

static void test_timers_after_every_cancel(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    s_clock_t c = {0};
    const wr_behaviour_t clock = {.on_start = s_clock_start, .on_message = s_clock_message};
    tp_spawn(n, "clock", &clock, &c);

    assert_true(wr_test_wait_count(&c.once, 1, WR_TEST_WAIT_MS));
    assert_true(wr_test_wait_count(&c.ticks, 3, WR_TEST_WAIT_MS));
    assert_true(c.once_ns - c.start_ns >= 40 * 1000000LL);
    assert_int_equal(c.every_rc, WR_EINVAL);
    wr_test_sleep_ms(80); /* several periods after the cancel */
    assert_int_equal(atomic_load(&c.ticks), 3);
    assert_int_equal(atomic_load(&c.once), 1);
    assert_int_equal(atomic_load(&c.never), 0);
    wr_node_destroy(&n);
}

/* Cancels its periodic timer from the handler of the first tick: the timer thread may still be
 * busy with that very tick, and the cancel must stick all the same. */
typedef struct {
    atomic_int ticks;
    uint64_t id;
} s_one_tick_t;

static int s_one_tick_start(wr_actor_t *self, void *state)
{
    s_one_tick_t *o = state;
    return wr_timer_every(self, 2, TP_TICK, &o->id);
}

static int s_one_tick_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_one_tick_t *o = state;
    if ((*msg)->type == TP_TICK && atomic_fetch_add(&o->ticks, 1) == 0)
        wr_timer_cancel(self, o->id);
    return 0;
}

static void test_timer_cancel_from_its_own_tick(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    const wr_behaviour_t b = {.on_start = s_one_tick_start, .on_message = s_one_tick_message};
    enum { N = 50 };
    s_one_tick_t ticks[N];
    for (int i = 0; i < N; i++) {
        char path[16];
        snprintf(path, sizeof path, "t%d", i);
        ticks[i] = (s_one_tick_t){.id = 0};
        tp_spawn(n, path, &b, &ticks[i]);
    }
    for (int i = 0; i < N; i++)
        assert_true(wr_test_wait_count(&ticks[i].ticks, 1, WR_TEST_WAIT_MS));
    wr_test_sleep_ms(30); /* many periods */
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&ticks[i].ticks), 1);
    wr_node_destroy(&n);
}

/* ---- scheduling ---- */

static void test_busy_actor_does_not_starve_others(void **state)
{
    (void)state;
    const uint32_t budget = 4;
    const int flood = 100;
    wr_node_t *n = tp_node("n1", 1, budget); /* one worker: actors take turns on it */
    tp_probe_t busy, quiet;
    tp_probe_init(&busy);
    tp_probe_init(&quiet);
    busy.block_first = true;
    quiet.watch = &busy;
    wr_actor_t *busy_ref = tp_spawn_probe(n, "busy", &busy, NULL);
    wr_actor_t *quiet_ref = tp_spawn_probe(n, "quiet", &quiet, NULL);

    /* hold the worker inside busy's first message while both mailboxes fill */
    tp_tell(n, "n1/busy", TP_DATA, NULL, 0);
    assert_true(wr_test_wait_count(&busy.entered, 1, WR_TEST_WAIT_MS));
    for (int i = 1; i < flood; i++)
        tp_tell(n, "n1/busy", TP_DATA, NULL, 0);
    tp_tell(n, "n1/quiet", TP_DATA, NULL, 0);
    atomic_store(&busy.gate, 1);

    assert_true(wr_test_wait_count(&quiet.handled, 1, WR_TEST_WAIT_MS));
    /* quiet ran after busy's turn, not after busy's whole backlog */
    assert_true(atomic_load(&quiet.seen) <= (int)budget);
    assert_true(atomic_load(&quiet.seen) >= 1);
    assert_true(wr_test_wait_count(&busy.handled, flood, WR_TEST_WAIT_MS));

    wr_actor_unref(&busy_ref);
    wr_actor_unref(&quiet_ref);
    wr_node_destroy(&n);
    tp_probe_release(&busy);
    tp_probe_release(&quiet);
}

static void test_full_mailbox_pushes_back(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t gate;
    tp_probe_init(&gate);
    gate.block_first = true;
    wr_spawn_opts_t o = {
        .path = "gate", .behaviour = &tp_probe, .state = &gate, .mailbox_capacity = 4};
    wr_actor_t *ref = NULL;
    assert_int_equal(wr_actor_spawn(n, &o, &ref), 0);
    tp_spawn(n, "echo", &wr_test_echo, NULL);
    wr_actor_t *echo = wr_node_lookup(n, "echo");

    tp_tell(n, "n1/gate", TP_DATA, NULL, 0); /* taken by the blocked handler */
    assert_true(wr_test_wait_count(&gate.entered, 1, WR_TEST_WAIT_MS));
    for (int i = 0; i < 4; i++)
        tp_tell(n, "n1/gate", TP_DATA, NULL, 0);

    wr_msg_t *m = wr_msg_new(TP_DATA, "n1/test", "n1/gate", "over", 4);
    assert_int_equal(wr_node_send(n, &m), WR_EAGAIN);
    assert_non_null(m); /* the sender keeps it and may retry */
    assert_int_equal(wr_send(echo, "gate", TP_DATA, NULL, 0), WR_EAGAIN);
    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(n, "n1/gate", TP_DATA, NULL, 0, 1000, &reply), WR_EAGAIN);
    assert_null(reply);

    wr_mailbox_stats_t st;
    wr_mailbox_stats(wr_actor_mailbox(ref), &st);
    assert_int_equal(st.capacity, 4);
    assert_int_equal(st.depth, 4);
    assert_int_equal(st.rejected, 3);

    atomic_store(&gate.gate, 1);
    assert_true(wr_test_wait_count(&gate.handled, 5, WR_TEST_WAIT_MS));
    assert_int_equal(wr_node_send(n, &m), 0); /* room again */
    assert_null(m);
    assert_true(wr_test_wait_count(&gate.handled, 6, WR_TEST_WAIT_MS));

    wr_actor_unref(&echo);
    wr_actor_unref(&ref);
    wr_node_destroy(&n);
    tp_probe_release(&gate);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_after_every_cancel),
        cmocka_unit_test(test_timer_cancel_from_its_own_tick),
        cmocka_unit_test(test_busy_actor_does_not_starve_others),
        cmocka_unit_test(test_full_mailbox_pushes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
