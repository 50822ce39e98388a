/* One node and its actors: spawning, messaging, requests, asks, timers, scheduling, back-pressure,
 * supervision, the system actor's inspection replies, and a leak-free shutdown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/base/mp.h"
#include "bus/messages.h"
#include "tests/support/actor.h"

/* Process-private message types that script the probe actor below. */
enum {
    T_DATA = WR_MSG_LOCAL_FIRST + 1, /* just recorded */
    T_FAIL,                          /* the handler returns WR_EIO */
    T_ASK,                           /* ask probe->target with T_QUESTION */
    T_QUESTION,                      /* an echo replies to it */
    T_KEEP,                          /* kept unanswered until T_RELEASE */
    T_RELEASE,                       /* reply to the kept request now */
    T_TICK,
    T_ONCE,
    T_NEVER,
};

static wr_node_t *s_node(const char *id, unsigned threads, uint32_t turn_budget)
{
    wr_node_opts_t o = {.id = id, .threads = threads, .turn_budget = turn_budget};
    int err = 0;
    wr_node_t *n = wr_node_new(&o, &err);
    assert_non_null(n);
    assert_int_equal(err, 0);
    return n;
}

/* Sends a message from outside the actor system; it must be accepted. */
static void s_tell(wr_node_t *n, const char *to, uint16_t type, const void *payload, size_t len)
{
    wr_msg_t *m = wr_msg_new(type, "n1/test", to, payload, len);
    assert_non_null(m);
    assert_int_equal(wr_node_send(n, &m), 0);
    assert_null(m);
}

static void s_spawn(wr_node_t *n, const char *path, const wr_behaviour_t *b, void *state)
{
    wr_spawn_opts_t o = {.path = path, .behaviour = b, .state = state};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
}

/* ---- the probe: a scriptable actor that records what happens to it ---- */

#define S_LOG_MAX 64

typedef struct s_probe {
    /* script, set before spawning */
    const char *target;    /* T_ASK asks it */
    uint16_t ask_type;     /* what T_ASK sends (0: T_QUESTION) */
    int64_t ask_ms;        /* T_ASK's timeout */
    bool block_first;      /* the first message blocks the handler until `gate` opens */
    bool fail_start;       /* on_start returns WR_EIO */
    struct s_probe *watch; /* the first message records watch->handled in seen */
    struct s_order *order; /* on_stop appends the actor's path here */
    /* what happened */
    atomic_int starts, stops, handled, entered, gate, seen, timeouts, replies, late_replied;
    atomic_int done; /* free_state ran */
    int ask_rc;
    uint64_t ask_corr;
    pthread_mutex_t lock;
    wr_msg_t *log[S_LOG_MAX]; /* every message handled, in order (owned) */
    int nlog;
    wr_msg_t *kept; /* a T_KEEP request waiting for T_RELEASE */
} s_probe_t;

typedef struct s_order {
    pthread_mutex_t lock;
    char paths[16][WR_PATH_MAX];
    int n;
} s_order_t;

static void s_probe_init(s_probe_t *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
}

static void s_probe_release(s_probe_t *p)
{
    for (int i = 0; i < p->nlog; i++)
        wr_msg_destroy(&p->log[i]);
    wr_msg_destroy(&p->kept);
    pthread_mutex_destroy(&p->lock);
}

/* Number of logged messages of type. */
static int s_probe_count(s_probe_t *p, uint16_t type)
{
    int c = 0;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nlog; i++)
        c += p->log[i]->type == type;
    pthread_mutex_unlock(&p->lock);
    return c;
}

/* The k-th logged message of type (borrowed), or NULL. */
static const wr_msg_t *s_probe_nth(s_probe_t *p, uint16_t type, int k)
{
    const wr_msg_t *found = NULL;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nlog && !found; i++)
        if (p->log[i]->type == type && k-- == 0) found = p->log[i];
    pthread_mutex_unlock(&p->lock);
    return found;
}

static int s_probe_start(wr_actor_t *self, void *state)
{
    (void)self;
    s_probe_t *p = state;
    atomic_fetch_add(&p->starts, 1);
    return p->fail_start ? WR_EIO : 0;
}

static int s_probe_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_probe_t *p = state;
    wr_msg_t *m = *msg;
    int rc = 0;
    if (p->watch && atomic_load(&p->handled) == 0)
        atomic_store(&p->seen, atomic_load(&p->watch->handled));
    if (p->block_first && !atomic_exchange(&p->entered, 1))
        while (!atomic_load(&p->gate))
            wr_test_sleep_ms(1);
    switch (m->type) {
    case T_FAIL:
        rc = WR_EIO;
        break;
    case T_ASK:
        p->ask_rc = wr_ask(self, p->target, p->ask_type ? p->ask_type : T_QUESTION, "q?", 2,
                           p->ask_ms, &p->ask_corr);
        break;
    case WR_MSG_TIMEOUT:
        atomic_fetch_add(&p->timeouts, 1);
        break;
    case T_QUESTION: /* the answer to T_ASK */
        atomic_fetch_add(&p->replies, 1);
        break;
    case T_RELEASE:
        if (p->kept && wr_reply(self, p->kept, T_QUESTION, "late", 4) == 0)
            atomic_fetch_add(&p->late_replied, 1);
        wr_msg_destroy(&p->kept);
        break;
    default:
        break;
    }
    pthread_mutex_lock(&p->lock);
    if (m->type == T_KEEP) {
        wr_msg_destroy(&p->kept);
        p->kept = wr_msg_new(m->type, m->from, m->to, m->data, m->len);
        p->kept->corr = m->corr;
    }
    if (p->nlog < S_LOG_MAX) {
        p->log[p->nlog++] = m;
        *msg = NULL; /* the probe keeps it */
    }
    pthread_mutex_unlock(&p->lock);
    atomic_fetch_add(&p->handled, 1);
    return rc;
}

static void s_probe_stop(wr_actor_t *self, void *state)
{
    s_probe_t *p = state;
    if (p->order) {
        pthread_mutex_lock(&p->order->lock);
        snprintf(p->order->paths[p->order->n++], WR_PATH_MAX, "%s", wr_actor_path(self));
        pthread_mutex_unlock(&p->order->lock);
    }
    atomic_fetch_add(&p->stops, 1);
}

static void s_probe_done(void *state)
{
    s_probe_t *p = state;
    atomic_store(&p->done, 1);
}

static const wr_behaviour_t s_probe = {.on_start = s_probe_start,
                                       .on_message = s_probe_message,
                                       .on_stop = s_probe_stop,
                                       .free_state = s_probe_done};

static wr_actor_t *s_spawn_probe(wr_node_t *n, const char *path, s_probe_t *p, wr_actor_t *sup)
{
    wr_spawn_opts_t o = {.path = path, .behaviour = &s_probe, .state = p, .supervisor = sup};
    wr_actor_t *ref = NULL;
    assert_int_equal(wr_actor_spawn(n, &o, &ref), 0);
    assert_non_null(ref);
    return ref;
}

static char *s_to_json(const wr_msg_t *m)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_mp_to_json(m->data, m->len, 1 << 20, &sb), 0);
    return wr_strbuf_detach(&sb, NULL);
}

/* ---- tests ---- */

static void test_spawn_send_and_reply(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    assert_string_equal(wr_node_id(n), "n1");
    assert_string_equal(wr_node_endpoint(n), ""); /* no bind: a client-only node */
    assert_int_equal(wr_node_actor_count(n), 1);  /* the system actor */

    s_spawn(n, "echo", &wr_test_echo, NULL);
    s_probe_t p;
    s_probe_init(&p);
    p.target = "echo";
    p.ask_ms = 2000;
    wr_actor_t *client = s_spawn_probe(n, "client", &p, NULL);
    assert_string_equal(wr_actor_addr(client), "n1/client");
    assert_string_equal(wr_actor_path(client), "client");
    assert_ptr_equal(wr_actor_node(client), n);
    assert_int_equal(wr_node_actor_count(n), 3);

    /* the client asks the echo; the echo's reply comes back to the client */
    s_tell(n, "n1/client", T_ASK, NULL, 0);
    assert_true(wr_test_wait_count(&p.replies, 1, WR_TEST_WAIT_MS));
    const wr_msg_t *reply = s_probe_nth(&p, T_QUESTION, 0);
    assert_non_null(reply);
    assert_string_equal(reply->from, "n1/echo");
    assert_string_equal(reply->to, "n1/client");
    assert_int_equal(reply->corr, p.ask_corr);
    assert_int_equal(reply->len, 2);
    assert_memory_equal(reply->data, "q?", 2);
    assert_int_equal(atomic_load(&p.starts), 1);

    /* wr_send with a bare path and with a full address both reach a local actor */
    wr_actor_t *echo = wr_node_lookup(n, "echo");
    assert_non_null(echo);
    assert_int_equal(wr_send(echo, "client", T_DATA, "a", 1), 0);
    assert_int_equal(wr_send(echo, "n1/client", T_DATA, "b", 1), 0);
    assert_int_equal(wr_send(echo, "nobody", T_DATA, "c", 1), WR_ENOACTOR);
    assert_true(wr_test_wait_count(&p.handled, 4, WR_TEST_WAIT_MS));
    assert_memory_equal(s_probe_nth(&p, T_DATA, 0)->data, "a", 1);
    assert_memory_equal(s_probe_nth(&p, T_DATA, 1)->data, "b", 1);
    assert_null(wr_node_lookup(n, "nobody"));

    wr_actor_unref(&echo);
    wr_actor_unref(&client);
    assert_null(client);
    wr_node_destroy(&n);
    assert_null(n);
    assert_int_equal(atomic_load(&p.stops), 1);
    assert_int_equal(atomic_load(&p.done), 1);
    s_probe_release(&p);
    wr_node_destroy(&n); /* NULL-safe */
}

static void s_count_free(void *state)
{
    atomic_fetch_add((atomic_int *)state, 1);
}

static void test_spawn_validates_paths(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 1, 0);
    const wr_behaviour_t counted = {.on_message = wr_test_echo_message, .free_state = s_count_free};
    atomic_int freed = 0;
    char longest[WR_PATH_MAX], too_long[WR_PATH_MAX + 1];
    memset(longest, 'a', WR_PATH_MAX - 1);
    longest[WR_PATH_MAX - 1] = '\0';
    memset(too_long, 'b', WR_PATH_MAX);
    too_long[WR_PATH_MAX] = '\0';

    const char *good[] = {"a", "jobs/j1/map-0", "x_y.z:1", longest};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        wr_spawn_opts_t o = {.path = good[i], .behaviour = &counted, .state = &freed};
        assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
    }
    const char *bad[] = {NULL, "", "/abs", "has space", "semi;colon", "ü", too_long};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wr_spawn_opts_t o = {.path = bad[i], .behaviour = &counted, .state = &freed};
        wr_actor_t *ref = (wr_actor_t *)&o; /* must come back NULL */
        assert_int_equal(wr_actor_spawn(n, &o, &ref), WR_EINVAL);
        assert_null(ref);
    }
    assert_int_equal(atomic_load(&freed), 7); /* a refused actor's state is freed all the same */

    wr_spawn_opts_t no_handler = {.path = "quiet", .behaviour = &(wr_behaviour_t){0}};
    assert_int_equal(wr_actor_spawn(n, &no_handler, NULL), WR_EINVAL);

    wr_spawn_opts_t dup = {.path = "jobs/j1/map-0", .behaviour = &counted, .state = &freed};
    assert_int_equal(wr_actor_spawn(n, &dup, NULL), WR_EEXIST);
    wr_spawn_opts_t sys = {.path = "node", .behaviour = &counted, .state = &freed};
    assert_int_equal(wr_actor_spawn(n, &sys, NULL), WR_EEXIST); /* the system actor's */
    assert_int_equal(atomic_load(&freed), 9);
    assert_int_equal(wr_node_actor_count(n), 5);

    wr_node_destroy(&n);
    assert_int_equal(atomic_load(&freed), 13);
}

static void test_node_options_are_validated(void **state)
{
    (void)state;
    const char *bad_ids[] = {NULL, "", "has/slash", "a-node-id-that-is-far-too-long-for-weir"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        wr_node_opts_t o = {.id = bad_ids[i], .threads = 1};
        int err = 0;
        assert_null(wr_node_new(&o, &err));
        assert_int_equal(err, WR_EINVAL);
    }
}

static void test_request_round_trip(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_spawn(n, "echo", &wr_test_echo, NULL);

    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(n, "n1/echo", T_DATA, "hello", 5, 2000, &reply), 0);
    assert_non_null(reply);
    assert_int_equal(reply->type, T_DATA);
    assert_string_equal(reply->from, "n1/echo");
    assert_int_equal(reply->len, 5);
    assert_memory_equal(reply->data, "hello", 5);
    wr_msg_destroy(&reply);

    /* the system actor answers PING with PONG and the same payload; a bare path works too */
    assert_int_equal(wr_node_request(n, "node", WR_MSG_PING, "\xa2hi", 3, 2000, &reply), 0);
    assert_int_equal(reply->type, WR_MSG_PONG);
    assert_string_equal(reply->from, "n1/node");
    assert_int_equal(reply->len, 3);
    assert_memory_equal(reply->data, "\xa2hi", 3);
    wr_msg_destroy(&reply);

    /* many requests in a row each get their own reply */
    for (int i = 0; i < 200; i++) {
        char body[16];
        int len = snprintf(body, sizeof body, "req-%d", i);
        assert_int_equal(wr_node_request(n, "n1/echo", T_DATA, body, (size_t)len, 2000, &reply), 0);
        assert_int_equal(reply->len, (size_t)len);
        assert_memory_equal(reply->data, body, (size_t)len);
        wr_msg_destroy(&reply);
    }
    wr_node_destroy(&n);
}

static void test_request_timeout_and_no_actor(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t silent;
    s_probe_init(&silent);
    wr_actor_t *ref = s_spawn_probe(n, "silent", &silent, NULL);

    wr_msg_t *reply = (wr_msg_t *)&silent; /* must come back NULL */
    int64_t t0 = wr_now_ns();
    assert_int_equal(wr_node_request(n, "n1/silent", T_KEEP, "x", 1, 80, &reply), WR_ETIMEDOUT);
    int64_t took_ms = (wr_now_ns() - t0) / 1000000;
    assert_null(reply);
    assert_true(took_ms >= 79 && took_ms < 1000);
    assert_int_equal(s_probe_count(&silent, T_KEEP), 1); /* it did arrive */

    /* the request's temporary address is gone: a reply now finds nobody and is dropped */
    s_tell(n, "n1/silent", T_RELEASE, NULL, 0);
    assert_true(wr_test_wait_count(&silent.handled, 2, WR_TEST_WAIT_MS));
    assert_int_equal(atomic_load(&silent.late_replied), 0);

    t0 = wr_now_ns();
    assert_int_equal(wr_node_request(n, "n1/nobody", T_DATA, NULL, 0, 5000, &reply), WR_ENOACTOR);
    assert_true(wr_now_ns() - t0 < 1000 * 1000000LL); /* at once, not after the timeout */
    assert_null(reply);
    assert_int_equal(wr_node_request(n, "n1/", T_DATA, NULL, 0, 100, &reply), WR_EINVAL);

    wr_actor_unref(&ref);
    wr_node_destroy(&n);
    s_probe_release(&silent);
}

static void test_ask_with_reply(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_spawn(n, "echo", &wr_test_echo, NULL);
    s_probe_t asker;
    s_probe_init(&asker);
    asker.target = "n1/echo";
    asker.ask_ms = 100;
    wr_actor_t *ref = s_spawn_probe(n, "asker", &asker, NULL);

    s_tell(n, "n1/asker", T_ASK, NULL, 0);
    assert_true(wr_test_wait_count(&asker.replies, 1, WR_TEST_WAIT_MS));
    assert_int_equal(s_probe_nth(&asker, T_QUESTION, 0)->corr, asker.ask_corr);
    assert_true(asker.ask_corr != 0);

    wr_test_sleep_ms(200); /* past the ask's timeout: the answered ask must not time out as well */
    assert_int_equal(atomic_load(&asker.replies), 1);
    assert_int_equal(atomic_load(&asker.timeouts), 0);
    assert_int_equal(atomic_load(&asker.handled), 2); /* T_ASK and the reply: nothing else came */

    wr_actor_unref(&ref);
    wr_node_destroy(&n);
    s_probe_release(&asker);
}

static void test_ask_timeout_drops_late_reply(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t slow, asker;
    s_probe_init(&slow);
    s_probe_init(&asker);
    asker.target = "n1/slow";
    asker.ask_type = T_KEEP; /* slow keeps those unanswered until T_RELEASE */
    asker.ask_ms = 50;
    wr_actor_t *slow_ref = s_spawn_probe(n, "slow", &slow, NULL);
    wr_actor_t *asker_ref = s_spawn_probe(n, "asker", &asker, NULL);

    s_tell(n, "n1/asker", T_ASK, NULL, 0);
    assert_true(wr_test_wait_count(&asker.timeouts, 1, WR_TEST_WAIT_MS));
    assert_int_equal(asker.ask_rc, 0);
    const wr_msg_t *to = s_probe_nth(&asker, WR_MSG_TIMEOUT, 0);
    assert_int_equal(to->corr, asker.ask_corr);
    assert_int_equal(s_probe_count(&slow, T_KEEP), 1); /* the question did arrive */

    /* now slow answers: the reply reaches the asker's mailbox but not its handler */
    wr_mailbox_stats_t before, after;
    wr_mailbox_stats(wr_actor_mailbox(asker_ref), &before);
    s_tell(n, "n1/slow", T_RELEASE, NULL, 0);
    assert_true(wr_test_wait_count(&slow.late_replied, 1, WR_TEST_WAIT_MS));
    int64_t deadline = wr_now_ns() + WR_TEST_WAIT_MS * 1000000LL;
    do {
        wr_test_sleep_ms(1);
        wr_mailbox_stats(wr_actor_mailbox(asker_ref), &after);
    } while (after.dequeued == before.dequeued && wr_now_ns() < deadline);
    assert_int_equal(after.dequeued, before.dequeued + 1);
    wr_test_sleep_ms(20);
    assert_int_equal(atomic_load(&asker.replies), 0);
    assert_int_equal(atomic_load(&asker.timeouts), 1);

    wr_actor_unref(&slow_ref);
    wr_actor_unref(&asker_ref);
    wr_node_destroy(&n);
    s_probe_release(&slow);
    s_probe_release(&asker);
}

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
    int rc = wr_timer_after(self, 40, T_ONCE, NULL);
    if (!rc) rc = wr_timer_every(self, 10, T_TICK, &c->every_id);
    if (!rc) rc = wr_timer_after(self, 20, T_NEVER, &never);
    wr_timer_cancel(self, never);     /* cancelled before it fires */
    wr_timer_cancel(self, 987654321); /* unknown ids are harmless */
    c->every_rc = wr_timer_every(self, 0, T_TICK, NULL);
    return rc;
}

static int s_clock_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_clock_t *c = state;
    switch ((*msg)->type) {
    case T_TICK:
        if (atomic_fetch_add(&c->ticks, 1) + 1 == 3) wr_timer_cancel(self, c->every_id);
        break;
    case T_ONCE:
        c->once_ns = wr_now_ns();
        atomic_fetch_add(&c->once, 1);
        break;
    case T_NEVER:
        atomic_fetch_add(&c->never, 1);
        break;
    }
    return 0;
}

static void test_timers_after_every_cancel(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_clock_t c = {0};
    const wr_behaviour_t clock = {.on_start = s_clock_start, .on_message = s_clock_message};
    s_spawn(n, "clock", &clock, &c);

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
    return wr_timer_every(self, 2, T_TICK, &o->id);
}

static int s_one_tick_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    s_one_tick_t *o = state;
    if ((*msg)->type == T_TICK && atomic_fetch_add(&o->ticks, 1) == 0) wr_timer_cancel(self, o->id);
    return 0;
}

static void test_timer_cancel_from_its_own_tick(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    const wr_behaviour_t b = {.on_start = s_one_tick_start, .on_message = s_one_tick_message};
    enum { N = 50 };
    s_one_tick_t ticks[N];
    for (int i = 0; i < N; i++) {
        char path[16];
        snprintf(path, sizeof path, "t%d", i);
        ticks[i] = (s_one_tick_t){.id = 0};
        s_spawn(n, path, &b, &ticks[i]);
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
    wr_node_t *n = s_node("n1", 1, budget); /* one worker: actors take turns on it */
    s_probe_t busy, quiet;
    s_probe_init(&busy);
    s_probe_init(&quiet);
    busy.block_first = true;
    quiet.watch = &busy;
    wr_actor_t *busy_ref = s_spawn_probe(n, "busy", &busy, NULL);
    wr_actor_t *quiet_ref = s_spawn_probe(n, "quiet", &quiet, NULL);

    /* hold the worker inside busy's first message while both mailboxes fill */
    s_tell(n, "n1/busy", T_DATA, NULL, 0);
    assert_true(wr_test_wait_count(&busy.entered, 1, WR_TEST_WAIT_MS));
    for (int i = 1; i < flood; i++)
        s_tell(n, "n1/busy", T_DATA, NULL, 0);
    s_tell(n, "n1/quiet", T_DATA, NULL, 0);
    atomic_store(&busy.gate, 1);

    assert_true(wr_test_wait_count(&quiet.handled, 1, WR_TEST_WAIT_MS));
    /* quiet ran after busy's turn, not after busy's whole backlog */
    assert_true(atomic_load(&quiet.seen) <= (int)budget);
    assert_true(atomic_load(&quiet.seen) >= 1);
    assert_true(wr_test_wait_count(&busy.handled, flood, WR_TEST_WAIT_MS));

    wr_actor_unref(&busy_ref);
    wr_actor_unref(&quiet_ref);
    wr_node_destroy(&n);
    s_probe_release(&busy);
    s_probe_release(&quiet);
}

static void test_full_mailbox_pushes_back(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t gate;
    s_probe_init(&gate);
    gate.block_first = true;
    wr_spawn_opts_t o = {
        .path = "gate", .behaviour = &s_probe, .state = &gate, .mailbox_capacity = 4};
    wr_actor_t *ref = NULL;
    assert_int_equal(wr_actor_spawn(n, &o, &ref), 0);
    s_spawn(n, "echo", &wr_test_echo, NULL);
    wr_actor_t *echo = wr_node_lookup(n, "echo");

    s_tell(n, "n1/gate", T_DATA, NULL, 0); /* taken by the blocked handler */
    assert_true(wr_test_wait_count(&gate.entered, 1, WR_TEST_WAIT_MS));
    for (int i = 0; i < 4; i++)
        s_tell(n, "n1/gate", T_DATA, NULL, 0);

    wr_msg_t *m = wr_msg_new(T_DATA, "n1/test", "n1/gate", "over", 4);
    assert_int_equal(wr_node_send(n, &m), WR_EAGAIN);
    assert_non_null(m); /* the sender keeps it and may retry */
    assert_int_equal(wr_send(echo, "gate", T_DATA, NULL, 0), WR_EAGAIN);
    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(n, "n1/gate", T_DATA, NULL, 0, 1000, &reply), WR_EAGAIN);
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
    s_probe_release(&gate);
}

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
static void s_spawn_transient(wr_node_t *n, const char *path, s_probe_t *p, wr_actor_t *sup,
                              uint32_t max_restarts, int64_t window_ms)
{
    wr_spawn_opts_t o = {.path = path,
                         .behaviour = &s_probe,
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
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t sup, child;
    s_probe_init(&sup);
    s_probe_init(&child);
    wr_actor_t *sup_ref = s_spawn_probe(n, "sup", &sup, NULL);
    s_spawn_transient(n, "sup/worker", &child, sup_ref, 2, 60000);
    assert_true(wr_test_wait_count(&child.starts, 1, WR_TEST_WAIT_MS));

    for (int i = 1; i <= 2; i++) { /* each failure within the budget: on_stop, then on_start */
        s_tell(n, "n1/sup/worker", T_FAIL, NULL, 0);
        assert_true(wr_test_wait_count(&child.starts, i + 1, WR_TEST_WAIT_MS));
        assert_int_equal(atomic_load(&child.stops), i);
        assert_true(wr_test_wait_count(&sup.handled, i, WR_TEST_WAIT_MS));
        const wr_msg_t *m = s_probe_nth(&sup, WR_MSG_CHILD_FAILED, i - 1);
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
    s_tell(n, "n1/sup/worker", T_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    s_failure_t f = s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 2));
    assert_false(f.restarted);
    const wr_msg_t *stopped = s_probe_nth(&sup, WR_MSG_CHILD_STOPPED, 0);
    assert_non_null(stopped);
    assert_string_equal(stopped->from, "n1/sup/worker");
    assert_int_equal(s_probe_count(&sup, WR_MSG_CHILD_FAILED), 3);
    assert_int_equal(atomic_load(&child.starts), 3);
    assert_int_equal(atomic_load(&child.stops), 3);
    assert_null(wr_node_lookup(n, "sup/worker"));
    assert_int_equal(wr_node_actor_count(n), 2);
    assert_true(wr_test_wait_count(&child.done, 1, WR_TEST_WAIT_MS)); /* its state is released */

    wr_actor_unref(&sup_ref);
    wr_node_destroy(&n);
    s_probe_release(&sup);
    s_probe_release(&child);
}

static void test_restart_budget_renews_after_window(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t sup, child;
    s_probe_init(&sup);
    s_probe_init(&child);
    wr_actor_t *sup_ref = s_spawn_probe(n, "sup", &sup, NULL);
    s_spawn_transient(n, "flaky", &child, sup_ref, 1, 100);

    s_tell(n, "n1/flaky", T_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&child.starts, 2, WR_TEST_WAIT_MS));
    wr_test_sleep_ms(150); /* the first restart leaves the window */
    s_tell(n, "n1/flaky", T_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&child.starts, 3, WR_TEST_WAIT_MS));
    s_tell(n, "n1/flaky", T_FAIL, NULL, 0); /* a second one inside the window is one too many */
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    assert_true(s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 0)).restarted);
    assert_true(s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 1)).restarted);
    assert_false(s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 2)).restarted);
    assert_int_equal(s_probe_count(&sup, WR_MSG_CHILD_STOPPED), 1);

    wr_actor_unref(&sup_ref);
    wr_node_destroy(&n);
    s_probe_release(&sup);
    s_probe_release(&child);
}

static void test_never_restart_and_failed_start(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t sup, once, broken;
    s_probe_init(&sup);
    s_probe_init(&once);
    s_probe_init(&broken);
    broken.fail_start = true;
    wr_actor_t *sup_ref = s_spawn_probe(n, "sup", &sup, NULL);
    wr_actor_t *once_ref = s_spawn_probe(n, "once", &once, sup_ref); /* WR_RESTART_NEVER */

    s_tell(n, "n1/once", T_FAIL, NULL, 0);
    assert_true(wr_test_wait_count(&sup.handled, 2, WR_TEST_WAIT_MS));
    assert_false(s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 0)).restarted);
    assert_non_null(s_probe_nth(&sup, WR_MSG_CHILD_STOPPED, 0));
    assert_int_equal(atomic_load(&once.starts), 1);
    assert_int_equal(atomic_load(&once.stops), 1);
    assert_int_equal(wr_actor_stop(once_ref), 0); /* stopping a stopped actor is harmless */

    /* an actor whose on_start fails never started: on_stop is not owed */
    wr_actor_t *broken_ref = s_spawn_probe(n, "broken", &broken, sup_ref);
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    s_failure_t f = s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 1));
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
    s_probe_release(&sup);
    s_probe_release(&once);
    s_probe_release(&broken);
}

static void test_full_supervisor_mailbox_does_not_deadlock(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 1, 0); /* one worker: whoever waits on it must not just sleep */
    s_probe_t gate, sup, child;
    s_probe_init(&gate);
    s_probe_init(&sup);
    s_probe_init(&child);
    gate.block_first = true;
    wr_actor_t *gate_ref = s_spawn_probe(n, "gate", &gate, NULL);
    wr_spawn_opts_t o = {
        .path = "sup", .behaviour = &s_probe, .state = &sup, .mailbox_capacity = 2};
    wr_actor_t *sup_ref = NULL;
    assert_int_equal(wr_actor_spawn(n, &o, &sup_ref), 0);
    wr_actor_t *child_ref = s_spawn_probe(n, "kid", &child, sup_ref);
    assert_true(wr_test_wait_count(&sup.starts, 1, WR_TEST_WAIT_MS));
    assert_true(wr_test_wait_count(&child.starts, 1, WR_TEST_WAIT_MS));

    /* with the worker held, queue the child's failure ahead of a full supervisor mailbox */
    s_tell(n, "n1/gate", T_DATA, NULL, 0);
    assert_true(wr_test_wait_count(&gate.entered, 1, WR_TEST_WAIT_MS));
    s_tell(n, "n1/kid", T_FAIL, NULL, 0);
    s_tell(n, "n1/sup", T_DATA, NULL, 0);
    s_tell(n, "n1/sup", T_DATA, NULL, 0);
    atomic_store(&gate.gate, 1);

    /* the child's notices wait for room; the supervisor gets to run and makes it */
    assert_true(wr_test_wait_count(&sup.handled, 4, WR_TEST_WAIT_MS));
    assert_int_equal(s_probe_count(&sup, T_DATA), 2);
    assert_false(s_decode_failure(s_probe_nth(&sup, WR_MSG_CHILD_FAILED, 0)).restarted);
    assert_non_null(s_probe_nth(&sup, WR_MSG_CHILD_STOPPED, 0));

    wr_actor_unref(&gate_ref);
    wr_actor_unref(&sup_ref);
    wr_actor_unref(&child_ref);
    wr_node_destroy(&n);
    s_probe_release(&gate);
    s_probe_release(&sup);
    s_probe_release(&child);
}

static void test_stop_reaches_a_child_with_a_full_mailbox(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 1, 0);
    s_probe_t gate, parent, kid;
    s_probe_init(&gate);
    s_probe_init(&parent);
    s_probe_init(&kid);
    gate.block_first = true;
    wr_actor_t *gate_ref = s_spawn_probe(n, "gate", &gate, NULL);
    wr_actor_t *parent_ref = s_spawn_probe(n, "parent", &parent, NULL);
    wr_spawn_opts_t o = {.path = "parent/kid",
                         .behaviour = &s_probe,
                         .state = &kid,
                         .supervisor = parent_ref,
                         .mailbox_capacity = 2};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
    assert_true(wr_test_wait_count(&kid.starts, 1, WR_TEST_WAIT_MS));

    s_tell(n, "n1/gate", T_DATA, NULL, 0);
    assert_true(wr_test_wait_count(&gate.entered, 1, WR_TEST_WAIT_MS));
    assert_int_equal(wr_actor_stop(parent_ref), 0); /* the parent's turn comes first... */
    s_tell(n, "n1/parent/kid", T_DATA, NULL, 0);    /* ...and finds the kid's mailbox full */
    s_tell(n, "n1/parent/kid", T_DATA, NULL, 0);
    atomic_store(&gate.gate, 1);

    assert_true(wr_test_wait_count(&parent.stops, 1, WR_TEST_WAIT_MS));
    assert_int_equal(atomic_load(&kid.handled), 2);
    assert_int_equal(atomic_load(&kid.stops), 1);

    wr_actor_unref(&gate_ref);
    wr_actor_unref(&parent_ref);
    wr_node_destroy(&n);
    s_probe_release(&gate);
    s_probe_release(&parent);
    s_probe_release(&kid);
}

static void test_stopping_parent_stops_children_first(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_order_t order = {.n = 0};
    pthread_mutex_init(&order.lock, NULL);
    s_probe_t p[4];
    const char *paths[4] = {"parent", "parent/a", "parent/b", "parent/a/leaf"};
    wr_actor_t *refs[4];
    for (int i = 0; i < 4; i++) {
        s_probe_init(&p[i]);
        p[i].order = &order;
    }
    refs[0] = s_spawn_probe(n, paths[0], &p[0], NULL);
    refs[1] = s_spawn_probe(n, paths[1], &p[1], refs[0]);
    refs[2] = s_spawn_probe(n, paths[2], &p[2], refs[0]);
    refs[3] = s_spawn_probe(n, paths[3], &p[3], refs[1]);
    for (int i = 0; i < 4; i++)
        assert_true(wr_test_wait_count(&p[i].starts, 1, WR_TEST_WAIT_MS));
    s_tell(n, "n1/parent/a/leaf", T_DATA, NULL, 0);
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
        s_probe_release(&p[i]);
    }
    pthread_mutex_destroy(&order.lock);
}

static void test_many_actors_come_and_go(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    enum { N = 300 };
    wr_actor_t *refs[N];
    for (int i = 0; i < N; i++) {
        char path[16];
        snprintf(path, sizeof path, "e%d", i);
        wr_spawn_opts_t o = {.path = path, .behaviour = &wr_test_echo};
        assert_int_equal(wr_actor_spawn(n, &o, &refs[i]), 0);
    }
    assert_int_equal(wr_node_actor_count(n), N + 1);
    for (int i = 0; i < N; i += 2)
        assert_int_equal(wr_actor_stop(refs[i]), 0);
    int64_t deadline = wr_now_ns() + WR_TEST_WAIT_MS * 1000000LL;
    while (wr_node_actor_count(n) > N / 2 + 1 && wr_now_ns() < deadline)
        wr_test_sleep_ms(1);
    assert_int_equal(wr_node_actor_count(n), N / 2 + 1);

    for (int i = 0; i < N; i++) { /* every survivor is still found after the removals */
        char addr[32];
        snprintf(addr, sizeof addr, "n1/e%d", i);
        wr_actor_t *a = wr_node_lookup(n, addr + 3);
        wr_msg_t *reply = NULL;
        int rc = wr_node_request(n, addr, T_DATA, "?", 1, WR_TEST_WAIT_MS, &reply);
        if (i % 2) {
            assert_ptr_equal(a, refs[i]);
            assert_int_equal(rc, 0);
            assert_string_equal(reply->from, addr);
        } else {
            assert_null(a);
            assert_int_equal(rc, WR_ENOACTOR);
        }
        wr_msg_destroy(&reply);
        wr_actor_unref(&a);
    }
    wr_actor_info_t rows[2];
    assert_int_equal(wr_node_actors(n, rows, 2), N / 2 + 1); /* the count, beyond the rows */
    assert_string_equal(rows[0].addr, "n1/node");
    assert_string_equal(rows[1].addr, "n1/e1");

    for (int i = 0; i < N; i++)
        wr_actor_unref(&refs[i]);
    wr_node_destroy(&n);
}

/* ---- the system actor ---- */

static void test_actors_request_lists_every_actor(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_spawn(n, "echo", &wr_test_echo, NULL);
    s_probe_t sup, kid;
    s_probe_init(&sup);
    s_probe_init(&kid);
    wr_actor_t *sup_ref = s_spawn_probe(n, "jobs/sup", &sup, NULL);
    wr_actor_t *kid_ref = s_spawn_probe(n, "jobs/sup/kid", &kid, sup_ref);

    wr_msg_t *reply = NULL;
    const uint8_t nil = 0xc0;
    assert_int_equal(wr_node_request(n, "n1/node", WR_MSG_ACTORS_REQ, &nil, 1, 2000, &reply), 0);
    assert_int_equal(reply->type, WR_MSG_ACTORS_REPLY);

    wr_msg_actors_reply_t actors;
    assert_int_equal(wr_msg_actors_reply_unpack(reply, &actors), 0);
    assert_int_equal(actors.nodes.n, 1);
    const wr_msg_node_row_t *row = &actors.nodes.v[0];
    assert_true(wr_strv_eq(row->node, "n1"));
    assert_int_equal(row->actors.n, 4);
    const char *want[] = {"n1/node", "n1/echo", "n1/jobs/sup", "n1/jobs/sup/kid"}; /* spawn order */
    for (uint32_t i = 0; i < row->actors.n; i++)
        assert_true(wr_strv_eq(row->actors.v[i].addr, want[i]));
    wr_msg_actors_reply_release(&actors);
    char *json = s_to_json(reply);
    assert_non_null(strstr(json, "\"addr\":\"n1/jobs/sup/kid\",\"supervisor\":\"n1/jobs/sup\""));
    assert_non_null(strstr(json, "\"status\":\"up\""));
    free(json);
    wr_msg_destroy(&reply);

    wr_actor_unref(&sup_ref);
    wr_actor_unref(&kid_ref);
    wr_node_destroy(&n);
    s_probe_release(&sup);
    s_probe_release(&kid);
}

/* A MAILBOX_REQ payload. */
static void s_pack_mailbox_req(msgpack_sbuffer *sb, const char *addr, uint32_t peek)
{
    msgpack_sbuffer_init(sb);
    wr_msg_mailbox_req_t req = {.peek = peek};
    snprintf(req.addr, sizeof req.addr, "%s", addr);
    assert_int_equal(wr_msg_mailbox_req_pack(&req, sb), 0);
}

/* Waits until the runtime has accounted for n handled messages (just after each handler). */
static void s_wait_accounted(const wr_mailbox_t *mb, uint64_t n)
{
    int64_t deadline = wr_now_ns() + WR_TEST_WAIT_MS * 1000000LL;
    for (;;) {
        wr_mailbox_stats_t st;
        wr_mailbox_stats(mb, &st);
        uint64_t total = 0;
        for (int i = 0; i < WR_MAILBOX_HIST_BUCKETS; i++)
            total += st.hist[i];
        if (total >= n) return;
        assert_true(wr_now_ns() < deadline);
        wr_test_sleep_ms(1);
    }
}

static void test_mailbox_request_peeks_recent_messages(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    s_probe_t box;
    s_probe_init(&box);
    wr_actor_t *ref = s_spawn_probe(n, "box", &box, NULL);

    for (int i = 0; i < 3; i++) { /* {"word": "hello", "n": 40 + i}, into a quiet mailbox */
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        wr_pack_str(&pk, "word");
        wr_pack_str(&pk, "hello");
        wr_pack_str(&pk, "n");
        msgpack_pack_int(&pk, 40 + i);
        wr_test_quiet_pause(); /* a quiet mailbox samples every payload (a busy one, 1 in 8) */
        s_tell(n, "n1/box", T_DATA, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
        assert_true(wr_test_wait_count(&box.handled, i + 1, WR_TEST_WAIT_MS));
    }
    s_wait_accounted(wr_actor_mailbox(ref), 3);

    msgpack_sbuffer req;
    s_pack_mailbox_req(&req, "n1/box", 2);
    wr_msg_t *reply = NULL;
    assert_int_equal(
        wr_node_request(n, "n1/node", WR_MSG_MAILBOX_REQ, req.data, req.size, 2000, &reply), 0);
    msgpack_sbuffer_destroy(&req);
    assert_int_equal(reply->type, WR_MSG_MAILBOX_REPLY);
    char *json = s_to_json(reply);
    assert_non_null(strstr(json, "\"addr\":\"n1/box\""));
    assert_non_null(strstr(json, "\"enqueued\":3,\"dequeued\":3"));
    assert_non_null(strstr(json, "\"types\":{\"local\":3}"));
    /* peek 2: the two newest, newest first, their payloads decoded */
    assert_non_null(strstr(json, "\"payload\":{\"word\":\"hello\",\"n\":42}"));
    assert_non_null(strstr(json, "\"payload\":{\"word\":\"hello\",\"n\":41}"));
    assert_true(strstr(json, "\"n\":42") < strstr(json, "\"n\":41"));
    assert_null(strstr(json, "\"n\":40"));
    assert_non_null(strstr(json, "\"from\":\"n1/test\""));
    free(json);
    wr_msg_mailbox_reply_t mb;
    assert_int_equal(wr_msg_mailbox_reply_unpack(reply, &mb), 0);
    assert_int_equal(mb.recent.n, 2);
    wr_msg_mailbox_reply_release(&mb);
    wr_msg_destroy(&reply);

    /* errors come back as ERROR replies */
    s_pack_mailbox_req(&req, "n1/nobody", 1);
    assert_int_equal(
        wr_node_request(n, "n1/node", WR_MSG_MAILBOX_REQ, req.data, req.size, 2000, &reply), 0);
    msgpack_sbuffer_destroy(&req);
    assert_int_equal(reply->type, WR_MSG_ERROR);
    assert_int_equal(wr_test_error_code(reply, NULL, 0), WR_ENOACTOR);
    wr_msg_destroy(&reply);
    assert_int_equal(wr_node_request(n, "n1/node", WR_MSG_MAILBOX_REQ, "\x01", 1, 2000, &reply), 0);
    assert_int_equal(reply->type, WR_MSG_ERROR);
    assert_int_equal(wr_test_error_code(reply, NULL, 0), WR_EINVAL);
    wr_msg_destroy(&reply);

    wr_actor_unref(&ref);
    wr_node_destroy(&n);
    s_probe_release(&box);
}

/* ---- shutdown ---- */

typedef struct {
    atomic_int *freed;
    int delay_ms; /* per message */
} s_busy_t;

static int s_busy_start(wr_actor_t *self, void *state)
{
    (void)state;
    int rc = wr_timer_every(self, 5, T_TICK, NULL);
    if (!rc) rc = wr_timer_after(self, 10000, T_ONCE, NULL); /* still pending at destroy */
    if (!rc) rc = wr_ask(self, "n1/node", T_QUESTION, NULL, 0, 10000, NULL); /* never answered */
    return rc;
}

static int s_busy_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    (void)self;
    s_busy_t *b = state;
    if ((*msg)->type == T_DATA && b->delay_ms) wr_test_sleep_ms(b->delay_ms);
    return 0;
}

static void s_busy_free(void *state)
{
    s_busy_t *b = state;
    atomic_fetch_add(b->freed, 1);
    free(b);
}

static void test_destroy_with_live_actors_is_clean(void **state)
{
    (void)state;
    wr_node_t *n = s_node("n1", 2, 0);
    const wr_behaviour_t busy = {
        .on_start = s_busy_start, .on_message = s_busy_message, .free_state = s_busy_free};
    atomic_int freed = 0;
    const char *paths[] = {"top", "top/mid", "top/mid/leaf", "slow", "other"};
    int parent[] = {-1, 0, 1, -1, -1};
    wr_actor_t *refs[5];
    for (int i = 0; i < 5; i++) {
        s_busy_t *b = calloc(1, sizeof *b);
        b->freed = &freed;
        b->delay_ms = i == 3 ? 1 : 0;
        wr_spawn_opts_t o = {.path = paths[i],
                             .behaviour = &busy,
                             .state = b,
                             .supervisor = parent[i] < 0 ? NULL : refs[parent[i]]};
        assert_int_equal(wr_actor_spawn(n, &o, &refs[i]), 0);
    }
    for (int i = 0; i < 200; i++)
        s_tell(n, "n1/slow", T_DATA, "queued", 6);
    s_tell(n, "n1/top/mid/leaf", T_DATA, "queued", 6);
    wr_test_sleep_ms(20);     /* let the timers tick */
    wr_actor_unref(&refs[0]); /* the rest are released after the node is gone */

    int64_t t0 = wr_now_ns();
    wr_node_destroy(&n);
    assert_null(n);
    assert_true(wr_now_ns() - t0 < 3000 * 1000000LL);
    for (int i = 1; i < 5; i++)
        wr_actor_unref(&refs[i]);
    assert_int_equal(atomic_load(&freed), 5); /* and ASan finds nothing left over */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_send_and_reply),
        cmocka_unit_test(test_spawn_validates_paths),
        cmocka_unit_test(test_node_options_are_validated),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_request_timeout_and_no_actor),
        cmocka_unit_test(test_ask_with_reply),
        cmocka_unit_test(test_ask_timeout_drops_late_reply),
        cmocka_unit_test(test_timers_after_every_cancel),
        cmocka_unit_test(test_timer_cancel_from_its_own_tick),
        cmocka_unit_test(test_busy_actor_does_not_starve_others),
        cmocka_unit_test(test_full_mailbox_pushes_back),
        cmocka_unit_test(test_failed_child_is_restarted_then_stopped),
        cmocka_unit_test(test_restart_budget_renews_after_window),
        cmocka_unit_test(test_never_restart_and_failed_start),
        cmocka_unit_test(test_full_supervisor_mailbox_does_not_deadlock),
        cmocka_unit_test(test_stop_reaches_a_child_with_a_full_mailbox),
        cmocka_unit_test(test_stopping_parent_stops_children_first),
        cmocka_unit_test(test_many_actors_come_and_go),
        cmocka_unit_test(test_actors_request_lists_every_actor),
        cmocka_unit_test(test_mailbox_request_peeks_recent_messages),
        cmocka_unit_test(test_destroy_with_live_actors_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
