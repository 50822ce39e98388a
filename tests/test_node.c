/* One node and its actors, as a user of the runtime sees them: spawning (paths validated), sending
 * and replying, requests from outside the actor system (with timeouts), asks between actors (a
 * late reply dropped), many actors coming and going, the system actor's inspection replies
 * (`actors`, `mailbox`), and a leak-free shutdown with live actors. When handlers run (timers,
 * turns, back-pressure) is test_node_scheduling.c; supervision is test_node_supervision.c. The
 * probe actor and the helpers are tests/support/probe.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/base/strbuf.h"
#include "bus/json.h"
#include "bus/messages.h"
#include "tests/support/probe.h"

/* ---- spawning, messages, requests and asks ---- */

static void test_spawn_send_and_reply(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    assert_string_equal(wr_node_id(n), "n1");
    assert_string_equal(wr_node_endpoint(n), ""); /* no bind: a client-only node */
    assert_int_equal(wr_node_actor_count(n), 1);  /* the system actor */

    tp_spawn(n, "echo", &wr_test_echo, NULL);
    tp_probe_t p;
    tp_probe_init(&p);
    p.target = "echo";
    p.ask_ms = 2000;
    wr_actor_t *client = tp_spawn_probe(n, "client", &p, NULL);
    assert_string_equal(wr_actor_addr(client), "n1/client");
    assert_string_equal(wr_actor_path(client), "client");
    assert_ptr_equal(wr_actor_node(client), n);
    assert_int_equal(wr_node_actor_count(n), 3);

    /* the client asks the echo; the echo's reply comes back to the client */
    tp_tell(n, "n1/client", TP_ASK, NULL, 0);
    assert_true(wr_test_wait_count(&p.replies, 1, WR_TEST_WAIT_MS));
    const wr_msg_t *reply = tp_probe_nth(&p, TP_QUESTION, 0);
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
    assert_int_equal(wr_send(echo, "client", TP_DATA, "a", 1), 0);
    assert_int_equal(wr_send(echo, "n1/client", TP_DATA, "b", 1), 0);
    assert_int_equal(wr_send(echo, "nobody", TP_DATA, "c", 1), WR_ENOACTOR);
    assert_true(wr_test_wait_count(&p.handled, 4, WR_TEST_WAIT_MS));
    assert_memory_equal(tp_probe_nth(&p, TP_DATA, 0)->data, "a", 1);
    assert_memory_equal(tp_probe_nth(&p, TP_DATA, 1)->data, "b", 1);
    assert_null(wr_node_lookup(n, "nobody"));

    wr_actor_unref(&echo);
    wr_actor_unref(&client);
    assert_null(client);
    wr_node_destroy(&n);
    assert_null(n);
    assert_int_equal(atomic_load(&p.stops), 1);
    assert_int_equal(atomic_load(&p.done), 1);
    tp_probe_release(&p);
    wr_node_destroy(&n); /* NULL-safe */
}

static void s_count_free(void *state)
{
    atomic_fetch_add((atomic_int *)state, 1);
}

static void test_spawn_validates_paths(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 1, 0);
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
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_spawn(n, "echo", &wr_test_echo, NULL);

    wr_msg_t *reply = NULL;
    assert_int_equal(wr_node_request(n, "n1/echo", TP_DATA, "hello", 5, 2000, &reply), 0);
    assert_non_null(reply);
    assert_int_equal(reply->type, TP_DATA);
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
        assert_int_equal(wr_node_request(n, "n1/echo", TP_DATA, body, (size_t)len, 2000, &reply),
                         0);
        assert_int_equal(reply->len, (size_t)len);
        assert_memory_equal(reply->data, body, (size_t)len);
        wr_msg_destroy(&reply);
    }
    wr_node_destroy(&n);
}

static void test_request_timeout_and_no_actor(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t silent;
    tp_probe_init(&silent);
    wr_actor_t *ref = tp_spawn_probe(n, "silent", &silent, NULL);

    wr_msg_t *reply = (wr_msg_t *)&silent; /* must come back NULL */
    int64_t t0 = wr_now_ns();
    assert_int_equal(wr_node_request(n, "n1/silent", TP_KEEP, "x", 1, 80, &reply), WR_ETIMEDOUT);
    int64_t took_ms = (wr_now_ns() - t0) / 1000000;
    assert_null(reply);
    assert_true(took_ms >= 79 && took_ms < 1000);
    assert_int_equal(tp_probe_count(&silent, TP_KEEP), 1); /* it did arrive */

    /* the request's temporary address is gone: a reply now finds nobody and is dropped */
    tp_tell(n, "n1/silent", TP_RELEASE, NULL, 0);
    assert_true(wr_test_wait_count(&silent.handled, 2, WR_TEST_WAIT_MS));
    assert_int_equal(atomic_load(&silent.late_replied), 0);

    t0 = wr_now_ns();
    assert_int_equal(wr_node_request(n, "n1/nobody", TP_DATA, NULL, 0, 5000, &reply), WR_ENOACTOR);
    assert_true(wr_now_ns() - t0 < 1000 * 1000000LL); /* at once, not after the timeout */
    assert_null(reply);
    assert_int_equal(wr_node_request(n, "n1/", TP_DATA, NULL, 0, 100, &reply), WR_EINVAL);

    wr_actor_unref(&ref);
    wr_node_destroy(&n);
    tp_probe_release(&silent);
}

static void test_ask_with_reply(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_spawn(n, "echo", &wr_test_echo, NULL);
    tp_probe_t asker;
    tp_probe_init(&asker);
    asker.target = "n1/echo";
    asker.ask_ms = 100;
    wr_actor_t *ref = tp_spawn_probe(n, "asker", &asker, NULL);

    tp_tell(n, "n1/asker", TP_ASK, NULL, 0);
    assert_true(wr_test_wait_count(&asker.replies, 1, WR_TEST_WAIT_MS));
    assert_int_equal(tp_probe_nth(&asker, TP_QUESTION, 0)->corr, asker.ask_corr);
    assert_true(asker.ask_corr != 0);

    wr_test_sleep_ms(200); /* past the ask's timeout: the answered ask must not time out as well */
    assert_int_equal(atomic_load(&asker.replies), 1);
    assert_int_equal(atomic_load(&asker.timeouts), 0);
    assert_int_equal(atomic_load(&asker.handled), 2); /* TP_ASK and the reply: nothing else came */

    wr_actor_unref(&ref);
    wr_node_destroy(&n);
    tp_probe_release(&asker);
}

static void test_ask_timeout_drops_late_reply(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t slow, asker;
    tp_probe_init(&slow);
    tp_probe_init(&asker);
    asker.target = "n1/slow";
    asker.ask_type = TP_KEEP; /* slow keeps those unanswered until TP_RELEASE */
    asker.ask_ms = 50;
    wr_actor_t *slow_ref = tp_spawn_probe(n, "slow", &slow, NULL);
    wr_actor_t *asker_ref = tp_spawn_probe(n, "asker", &asker, NULL);

    tp_tell(n, "n1/asker", TP_ASK, NULL, 0);
    assert_true(wr_test_wait_count(&asker.timeouts, 1, WR_TEST_WAIT_MS));
    assert_int_equal(asker.ask_rc, 0);
    const wr_msg_t *to = tp_probe_nth(&asker, WR_MSG_TIMEOUT, 0);
    assert_int_equal(to->corr, asker.ask_corr);
    assert_int_equal(tp_probe_count(&slow, TP_KEEP), 1); /* the question did arrive */

    /* now slow answers: the reply reaches the asker's mailbox but not its handler */
    wr_mailbox_stats_t before, after;
    wr_mailbox_stats(wr_actor_mailbox(asker_ref), &before);
    tp_tell(n, "n1/slow", TP_RELEASE, NULL, 0);
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
    tp_probe_release(&slow);
    tp_probe_release(&asker);
}

static void test_many_actors_come_and_go(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
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
        int rc = wr_node_request(n, addr, TP_DATA, "?", 1, WR_TEST_WAIT_MS, &reply);
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

/* The payload of m as JSON; the caller frees it. */
static char *s_to_json(const wr_msg_t *m)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_mp_to_json(m->data, m->len, 1 << 20, &sb), 0);
    return wr_strbuf_detach(&sb, NULL);
}

static void test_actors_request_lists_every_actor(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_spawn(n, "echo", &wr_test_echo, NULL);
    tp_probe_t sup, kid;
    tp_probe_init(&sup);
    tp_probe_init(&kid);
    wr_actor_t *sup_ref = tp_spawn_probe(n, "jobs/sup", &sup, NULL);
    wr_actor_t *kid_ref = tp_spawn_probe(n, "jobs/sup/kid", &kid, sup_ref);

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
    tp_probe_release(&sup);
    tp_probe_release(&kid);
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
    wr_node_t *n = tp_node("n1", 2, 0);
    tp_probe_t box;
    tp_probe_init(&box);
    wr_actor_t *ref = tp_spawn_probe(n, "box", &box, NULL);

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
        tp_tell(n, "n1/box", TP_DATA, sb.data, sb.size);
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
    tp_probe_release(&box);
}

/* ---- shutdown ---- */

typedef struct {
    atomic_int *freed;
    int delay_ms; /* per message */
} s_busy_t;

static int s_busy_start(wr_actor_t *self, void *state)
{
    (void)state;
    int rc = wr_timer_every(self, 5, TP_TICK, NULL);
    if (!rc) rc = wr_timer_after(self, 10000, TP_ONCE, NULL); /* still pending at destroy */
    if (!rc) rc = wr_ask(self, "n1/node", TP_QUESTION, NULL, 0, 10000, NULL); /* never answered */
    return rc;
}

static int s_busy_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    (void)self;
    s_busy_t *b = state;
    if ((*msg)->type == TP_DATA && b->delay_ms) wr_test_sleep_ms(b->delay_ms);
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
    wr_node_t *n = tp_node("n1", 2, 0);
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
        tp_tell(n, "n1/slow", TP_DATA, "queued", 6);
    tp_tell(n, "n1/top/mid/leaf", TP_DATA, "queued", 6);
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

/* An actor whose stop outlasts the node's wait for it (S_STOP_WAIT_MS, 5 s) is finished before
 * the node's parts go: it was stopping on a worker, and finishing cancels its timers and tells
 * its supervisor. (The node once freed its timers first: a `weir local` whose Kafka source took
 * 5 s to close crashed there.) */
static void s_slow_stop(wr_actor_t *self, void *state)
{
    (void)self;
    (void)state;
    wr_test_sleep_ms(5500);
}

static void test_destroy_outlasted_by_a_stopping_actor(void **state)
{
    (void)state;
    wr_node_t *n = tp_node("n1", 2, 0);
    const wr_behaviour_t slow = {.on_start = s_busy_start,
                                 .on_message = s_busy_message,
                                 .on_stop = s_slow_stop,
                                 .free_state = s_busy_free};
    atomic_int freed = 0;
    s_busy_t *b = calloc(1, sizeof *b);
    b->freed = &freed;
    wr_spawn_opts_t o = {.path = "slow", .behaviour = &slow, .state = b};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
    wr_test_sleep_ms(20); /* started, its timers ticking */
    wr_node_destroy(&n);
    assert_int_equal(atomic_load(&freed), 1); /* its stop ran to its end */
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
        cmocka_unit_test(test_many_actors_come_and_go),
        cmocka_unit_test(test_actors_request_lists_every_actor),
        cmocka_unit_test(test_mailbox_request_peeks_recent_messages),
        cmocka_unit_test(test_destroy_with_live_actors_is_clean),
        cmocka_unit_test(test_destroy_outlasted_by_a_stopping_actor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
