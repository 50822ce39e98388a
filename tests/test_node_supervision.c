/* Supervision on one node: a failed child is restarted within its budget (max_restarts within
 * restart_window_ms) and stopped once it is spent, its supervisor told each time (CHILD_FAILED,
 * CHILD_STOPPED); the budget renews after the window; a child that is never restarted, or whose
 * on_start fails, is stopped at once (on_stop owed only to one that started). A supervisor with a
 * full mailbox does not deadlock the worker, a stop reaches a child with a full mailbox, and
 * stopping a parent stops its children first, each after the work queued for it. Usage is
 * test_node.c; the probe actor and the helpers are tests/support/probe.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/messages.h"
#include "tests/support/probe.h"

/* ---- supervision ---- */

typedef struct {
    char child[WR_ADDR_MAX];
    int64_t code;
    bool restarted;
} s_failure_t;

static s_failure_t s_decode_failure(const wr_msg_t *m)
{
    s_failure_t f = {0};
    wr_msg_child_failed_t p;
    assert_int_equal(wr_msg_child_failed_unpack(m, &p), 0);
    memcpy(f.child, p.child, sizeof f.child);
    f.code = p.code;
    f.restarted = p.restarted;
    return f;
}

/* A probe supervised by sup, restarted up to max_restarts times within window_ms. */
static void s_spawn_transient(wr_node_t *n, const char *path, tp_probe_t *p, wr_actor_t *sup,
                              uint32_t max_restarts, int64_t window_ms)
{
    wr_spawn_opts_t o = {.path = path,
                         .behaviour = &tp_probe,
                         .state = p,
                         .supervisor = sup,
                         .restart = WR_RESTART_TRANSIENT,
                         .max_restarts = max_restarts,
                         .restart_window_ms = window_ms};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
}

static void test_failed_child_is_restarted_then_stopped(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t sup, child;
    tp_probe_init(&sup);
    tp_probe_init(&child);
    wr_actor_t *sup_ref = tp_spawn_probe(n, "sup", &sup, NULL);
    s_spawn_transient(n, "sup/worker", &child, sup_ref, 2, 60000);
    assert_true(wr_test_wait_count(&child.starts, 1, WR_TEST_WAIT_MS));

    for (int i = 1; i <= 2; i++) { /* each failure within the budget: on_stop, then on_start */
        tp_tell(n, "n1/sup/worker", TP_FAIL, NULL, 0);
        assert_true(wr_test_wait_count(&child.starts, i + 1, WR_TEST_WAIT_MS));
        assert_int_equal(atomic_load(&child.stops), i);
        assert_true(wr_test_wait_count(&sup.handled, i, WR_TEST_WAIT_MS));
        const wr_msg_t *m = tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, i - 1);
        assert_non_null(m);
        s_failure_t f = s_decode_failure(m);
        assert_string_equal(f.child, "n1/sup/worker");
        assert_int_equal(f.code, WR_EIO);
        assert_true(f.restarted);
    }
    wr_actor_info_t rows[8];
    size_t k = wr_node_actors(n, rows, 8);
    assert_int_equal(k, 3);
    assert_string_equal(rows[2].addr, "n1/sup/worker");
    assert_string_equal(rows[2].supervisor, "n1/sup");
    assert_int_equal(rows[2].restarts, 2);

    /* the budget is spent: the third failure stops the child */
    tp_tell(n, "n1/sup/worker", TP_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    s_failure_t f = s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 2));
    assert_false(f.restarted);
    const wr_msg_t *stopped = tp_probe_nth(&sup, WR_MSG_CHILD_STOPPED, 0);
    assert_non_null(stopped);
    assert_string_equal(stopped->from, "n1/sup/worker");
    assert_int_equal(tp_probe_count(&sup, WR_MSG_CHILD_FAILED), 3);
    assert_int_equal(atomic_load(&child.starts), 3);
    assert_int_equal(atomic_load(&child.stops), 3);
    assert_null(wr_node_lookup(n, "sup/worker"));
    assert_int_equal(wr_node_actor_count(n), 2);
    assert_true(wr_test_wait_count(&child.done, 1, WR_TEST_WAIT_MS)); /* its state is released */

    wr_actor_unref(&sup_ref);
    wr_node_destroy(&n);
    tp_probe_release(&sup);
    tp_probe_release(&child);
}

static void test_restart_budget_renews_after_window(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t sup, child;
    tp_probe_init(&sup);
    tp_probe_init(&child);
    wr_actor_t *sup_ref = tp_spawn_probe(n, "sup", &sup, NULL);
    s_spawn_transient(n, "flaky", &child, sup_ref, 1, 100);

    tp_tell(n, "n1/flaky", TP_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&child.starts, 2, WR_TEST_WAIT_MS));
    wr_test_sleep_ms(150); /* the first restart leaves the window */
    tp_tell(n, "n1/flaky", TP_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&child.starts, 3, WR_TEST_WAIT_MS));
    tp_tell(n, "n1/flaky", TP_FAIL, NULL, 0); /* a second one inside the window is one too many */
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    assert_true(s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 0)).restarted);
    assert_true(s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 1)).restarted);
    assert_false(s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 2)).restarted);
    assert_int_equal(tp_probe_count(&sup, WR_MSG_CHILD_STOPPED), 1);

    wr_actor_unref(&sup_ref);
    wr_node_destroy(&n);
    tp_probe_release(&sup);
    tp_probe_release(&child);
}

static void test_never_restart_and_failed_start(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t sup, once, broken;
    tp_probe_init(&sup);
    tp_probe_init(&once);
    tp_probe_init(&broken);
    broken.fail_start = true;
    wr_actor_t *sup_ref = tp_spawn_probe(n, "sup", &sup, NULL);
    wr_actor_t *once_ref = tp_spawn_probe(n, "once", &once, sup_ref); /* WR_RESTART_NEVER */

    tp_tell(n, "n1/once", TP_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&sup.handled, 2, WR_TEST_WAIT_MS));
    assert_false(s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 0)).restarted);
    assert_non_null(tp_probe_nth(&sup, WR_MSG_CHILD_STOPPED, 0));
    assert_int_equal(atomic_load(&once.starts), 1);
    assert_int_equal(atomic_load(&once.stops), 1);
    assert_int_equal(wr_actor_stop(once_ref), 0); /* stopping a stopped actor is harmless */

    /* an actor whose on_start fails never started: on_stop is not owed */
    wr_actor_t *broken_ref = tp_spawn_probe(n, "broken", &broken, sup_ref);
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    s_failure_t f = s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 1));
    assert_string_equal(f.child, "n1/broken");
    assert_false(f.restarted);
    assert_int_equal(atomic_load(&broken.starts), 1);
    assert_int_equal(atomic_load(&broken.stops), 0);
    assert_int_equal(atomic_load(&broken.handled), 0);
    assert_null(wr_node_lookup(n, "broken"));

    wr_actor_unref(&once_ref);
    wr_actor_unref(&broken_ref);
    wr_actor_unref(&sup_ref);
    wr_node_destroy(&n);
    tp_probe_release(&sup);
    tp_probe_release(&once);
    tp_probe_release(&broken);
}

static void test_full_supervisor_mailbox_does_not_deadlock(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 1, 0); /* one worker: whoever waits on it must not just sleep */
    tp_probe_t gate, sup, child;
    tp_probe_init(&gate);
    tp_probe_init(&sup);
    tp_probe_init(&child);
    gate.block_first = true;
    wr_actor_t *gate_ref = tp_spawn_probe(n, "gate", &gate, NULL);
    wr_spawn_opts_t o = {
        .path = "sup", .behaviour = &tp_probe, .state = &sup, .mailbox_capacity = 2};
    wr_actor_t *sup_ref = NULL;
    assert_int_equal(wr_actor_spawn(n, &o, &sup_ref), 0);
    wr_actor_t *child_ref = tp_spawn_probe(n, "kid", &child, sup_ref);
    assert_true(wr_test_wait_count(&sup.starts, 1, WR_TEST_WAIT_MS));
    assert_true(wr_test_wait_count(&child.starts, 1, WR_TEST_WAIT_MS));

    /* with the worker held, queue the child's failure ahead of a full supervisor mailbox */
    tp_tell(n, "n1/gate", TP_DATA, NULL, 0);
    assert_true(wr_test_wait_count(&gate.entered, 1, WR_TEST_WAIT_MS));
    tp_tell(n, "n1/kid", TP_FAIL, NULL, 0);
    tp_tell(n, "n1/sup", TP_DATA, NULL, 0);
    tp_tell(n, "n1/sup", TP_DATA, NULL, 0);
    atomic_store(&gate.gate, 1);

    /* the child's notices wait for room; the supervisor gets to run and makes it */
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    assert_int_equal(tp_probe_count(&sup, TP_DATA), 2);
    assert_false(s_decode_failure(tp_probe_nth(&sup, WR_MSG_CHILD_FAILED, 0)).restarted);
    assert_non_null(tp_probe_nth(&sup, WR_MSG_CHILD_STOPPED, 0));

    wr_actor_unref(&gate_ref);
    wr_actor_unref(&sup_ref);
    wr_actor_unref(&child_ref);
    wr_node_destroy(&n);
    tp_probe_release(&gate);
    tp_probe_release(&sup);
    tp_probe_release(&child);
}

static void test_stop_reaches_a_child_with_a_full_mailbox(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 1, 0);
    tp_probe_t gate, parent, kid;
    tp_probe_init(&gate);
    tp_probe_init(&parent);
    tp_probe_init(&kid);
    gate.block_first = true;
    wr_actor_t *gate_ref = tp_spawn_probe(n, "gate", &gate, NULL);
    wr_actor_t *parent_ref = tp_spawn_probe(n, "parent", &parent, NULL);
    wr_spawn_opts_t o = {.path = "parent/kid",
                         .behaviour = &tp_probe,
                         .state = &kid,
                         .supervisor = parent_ref,
                         .mailbox_capacity = 2};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
    assert_true(wr_test_wait_count(&kid.starts, 1, WR_TEST_WAIT_MS));

    tp_tell(n, "n1/gate", TP_DATA, NULL, 0);
    assert_true(wr_test_wait_count(&gate.entered, 1, WR_TEST_WAIT_MS));
    assert_int_equal(wr_actor_stop(parent_ref), 0); /* the parent's turn comes first... */
    tp_tell(n, "n1/parent/kid", TP_DATA, NULL, 0);  /* ...and finds the kid's mailbox full */
    tp_tell(n, "n1/parent/kid", TP_DATA, NULL, 0);
    atomic_store(&gate.gate, 1);

    assert_true(wr_test_wait_count(&parent.stops, 1, WR_TEST_WAIT_MS));
    assert_int_equal(atomic_load(&kid.handled), 2);
    assert_int_equal(atomic_load(&kid.stops), 1);

    wr_actor_unref(&gate_ref);
    wr_actor_unref(&parent_ref);
    wr_node_destroy(&n);
    tp_probe_release(&gate);
    tp_probe_release(&parent);
    tp_probe_release(&kid);
}

static void test_stopping_parent_stops_children_first(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_order_t order = {.n = 0};
    pthread_mutex_init(&order.lock, NULL);
    tp_probe_t p[4];
    const char *paths[4] = {"parent", "parent/a", "parent/b", "parent/a/leaf"};
    wr_actor_t *refs[4];
    for (int i = 0; i < 4; i++) {
        tp_probe_init(&p[i]);
        p[i].order = &order;
    }
    refs[0] = tp_spawn_probe(n, paths[0], &p[0], NULL);
    refs[1] = tp_spawn_probe(n, paths[1], &p[1], refs[0]);
    refs[2] = tp_spawn_probe(n, paths[2], &p[2], refs[0]);
    refs[3] = tp_spawn_probe(n, paths[3], &p[3], refs[1]);
    for (int i = 0; i < 4; i++)
        assert_true(wr_test_wait_count(&p[i].starts, 1, WR_TEST_WAIT_MS));
    tp_tell(n, "n1/parent/a/leaf", TP_DATA, NULL, 0);
    assert_int_equal(wr_node_actor_count(n), 5);

    assert_int_equal(wr_actor_stop(refs[0]), 0);
    assert_true(wr_test_wait_count(&p[0].stops, 1, WR_TEST_WAIT_MS));
    assert_int_equal(order.n, 4);
    int pos[4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < order.n; j++)
            if (!strcmp(order.paths[j], paths[i])) pos[i] = j;
    assert_true(pos[3] < pos[1]); /* leaf before its supervisor a */
    assert_true(pos[1] < pos[0] && pos[2] < pos[0]);
    assert_int_equal(pos[0], 3);                     /* the parent last */
    assert_int_equal(atomic_load(&p[3].handled), 1); /* queued work was handled first */
    int64_t deadline = wr_now_ns() + WR_TEST_WAIT_MS * 1000000LL;
    while (wr_node_actor_count(n) > 1 && wr_now_ns() < deadline)
        wr_test_sleep_ms(1);
    assert_int_equal(wr_node_actor_count(n), 1); /* the system actor */
    assert_null(wr_node_lookup(n, "parent/a"));

    for (int i = 0; i < 4; i++)
        wr_actor_unref(&refs[i]);
    wr_node_destroy(&n);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(atomic_load(&p[i].stops), 1);
        assert_int_equal(atomic_load(&p[i].done), 1);
        tp_probe_release(&p[i]);
    }
    pthread_mutex_destroy(&order.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_child_is_restarted_then_stopped),
        cmocka_unit_test(test_restart_budget_renews_after_window),
        cmocka_unit_test(test_never_restart_and_failed_start),
        cmocka_unit_test(test_full_supervisor_mailbox_does_not_deadlock),
        cmocka_unit_test(test_stop_reaches_a_child_with_a_full_mailbox),
        cmocka_unit_test(test_stopping_parent_stops_children_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
