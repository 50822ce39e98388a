/* Actor timers (actor.h): a periodic timer ticks until its actor cancels it, and once cancelled
 * not one more tick is handled, not even those the timer thread queued while the handler that
 * cancels was still running (the ticks carry their timer's id; the actor drops a cancelled one's).
 * More timer cases (one-shots, cancel racing the timer thread): test_node_scheduling.c; asks timing
 * out: test_node.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>

#include "actors/runtime/node.h"
#include "bus/msgtypes.h"
#include "tests/support/actor.h"

enum { T_TICK = WR_MSG_LOCAL_FIRST + 1 };

typedef struct {
    int64_t period_ms, busy_ms; /* the tick that cancels is this slow */
    int cancel_at;              /* cancel in the handler of this tick */
    uint64_t id;
    atomic_int ticks;
    atomic_int corr_is_id; /* ticks whose corr was their timer's id */
} s_ticker_t;

static int s_ticker_start(wr_actor_t *self, void *state)
{
    s_ticker_t *t = state;
    return wr_timer_every(self, t->period_ms, T_TICK, &t->id);
}

static int s_ticker_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_ticker_t *t = state;
    if ((*msg)->type != T_TICK) return 0;
    atomic_fetch_add(&t->corr_is_id, (*msg)->corr == t->id);
    if (atomic_fetch_add(&t->ticks, 1) + 1 == t->cancel_at) {
        wr_test_sleep_ms((int)t->busy_ms); /* meanwhile the timer thread queues more ticks */
        wr_timer_cancel(self, t->id);
    }
    return 0;
}

static const wr_behaviour_t s_ticker = {.on_start = s_ticker_start, .on_message = s_ticker_message};

static wr_node_t *s_node(void)
{
    wr_node_opts_t o = {.id = "n1", .threads = 2};
    wr_node_t *n = wr_node_new(&o, NULL);
    assert_non_null(n);
    return n;
}

static void s_spawn(wr_node_t *n, const char *path, s_ticker_t *t)
{
    wr_spawn_opts_t o = {.path = path, .behaviour = &s_ticker, .state = t};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
}

static void test_periodic_timer_ticks_until_cancelled(void **state)
{
    (void)state;
    wr_node_t *n = s_node();
    s_ticker_t t = {.period_ms = 2, .cancel_at = 5};
    s_spawn(n, "ticker", &t);
    assert_true(wr_test_wait_count(&t.ticks, 5, WR_TEST_WAIT_MS));
    wr_test_sleep_ms(50); /* 25 periods */
    assert_int_equal(atomic_load(&t.ticks), 5);
    assert_int_equal(atomic_load(&t.corr_is_id), 5);
    wr_node_destroy(&n);
}

/* The handler of the first tick takes 40 periods: ticks pile up in the mailbox behind it, and its
 * cancel drops them all. */
static void test_cancel_drops_ticks_already_queued(void **state)
{
    (void)state;
    wr_node_t *n = s_node();
    s_ticker_t t = {.period_ms = 1, .busy_ms = 40, .cancel_at = 1};
    s_spawn(n, "ticker", &t);
    assert_true(wr_test_wait_count(&t.ticks, 1, WR_TEST_WAIT_MS));
    wr_actor_t *a = wr_node_lookup(n, "ticker");
    assert_non_null(a);
    wr_test_sleep_ms(100);
    assert_int_equal(atomic_load(&t.ticks), 1);
    wr_mailbox_stats_t st;
    wr_mailbox_stats(wr_actor_mailbox(a), &st);
    assert_true(st.dequeued > 5); /* the ticks that came, dropped */
    wr_actor_unref(&a);
    wr_node_destroy(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periodic_timer_ticks_until_cancelled),
        cmocka_unit_test(test_cancel_drops_ticks_already_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
