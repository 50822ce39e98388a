/* wr_mailbox: a bounded MPSC queue of messages that measures itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actors/runtime/mailbox.h"
#include "bus/base/error.h"
#include "bus/msgtypes.h"
#include "tests/support/actor.h"

#define T_DATA (WR_MSG_LOCAL_FIRST + 7) /* a process-private test type */

static wr_msg_t *s_msg(uint16_t type, const char *text)
{
    wr_msg_t *m = wr_msg_new(type, "n1/sender", "n1/box", text, text ? strlen(text) : 0);
    assert_non_null(m);
    return m;
}

/* Pushes a message that must be accepted. */
static void s_push_ok(wr_mailbox_t *mb, uint16_t type, const char *text)
{
    wr_msg_t *m = s_msg(type, text);
    assert_int_equal(wr_mailbox_push(mb, &m), 0);
    assert_null(m); /* the mailbox took it */
}

/* Pops after a pause: a quiet mailbox samples the payload of every message it hands out. */
static wr_msg_t *s_pop_quietly(wr_mailbox_t *mb)
{
    wr_test_quiet_pause();
    return wr_mailbox_pop(mb);
}

static void test_push_pop_fifo(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(8);
    assert_non_null(mb);
    assert_int_equal(wr_mailbox_capacity(mb), 8);
    assert_null(wr_mailbox_pop(mb)); /* empty */

    s_push_ok(mb, T_DATA, "one");
    s_push_ok(mb, T_DATA, "two");
    s_push_ok(mb, WR_MSG_PING, "three");
    assert_int_equal(wr_mailbox_depth(mb), 3);

    const char *want[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        wr_msg_t *m = wr_mailbox_pop(mb);
        assert_non_null(m);
        assert_int_equal(m->len, strlen(want[i]));
        assert_memory_equal(m->data, want[i], m->len);
        assert_string_equal(m->from, "n1/sender");
        assert_true(m->enq_ns > 0); /* stamped by the push */
        wr_msg_destroy(&m);
    }
    assert_null(wr_mailbox_pop(mb));
    assert_int_equal(wr_mailbox_depth(mb), 0);
    wr_mailbox_destroy(&mb);
    assert_null(mb);
    wr_mailbox_destroy(&mb); /* NULL-safe */
}

static void test_capacity_rounds_up_to_a_power_of_two(void **state)
{
    (void)state;
    uint32_t asked[] = {1, 2, 3, 5, 1000, 1024};
    uint32_t got[] = {2, 2, 4, 8, 1024, 1024};
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        wr_mailbox_t *mb = wr_mailbox_new(asked[i]);
        assert_non_null(mb);
        assert_int_equal(wr_mailbox_capacity(mb), got[i]);
        wr_mailbox_destroy(&mb);
    }
}

static void test_full_mailbox_pushes_back(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(4);
    for (int i = 0; i < 4; i++)
        s_push_ok(mb, T_DATA, "x");

    wr_msg_t *extra = s_msg(T_DATA, "extra");
    assert_int_equal(wr_mailbox_push(mb, &extra), WR_EAGAIN);
    assert_non_null(extra); /* the sender keeps it */
    assert_int_equal(wr_mailbox_push(mb, &extra), WR_EAGAIN);
    assert_non_null(extra);

    wr_mailbox_stats_t st;
    wr_mailbox_stats(mb, &st);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(st.depth, 4);
    assert_int_equal(st.enqueued, 4);

    /* room again after one pop, and the retried message goes to the back */
    wr_msg_t *m = wr_mailbox_pop(mb);
    wr_msg_destroy(&m);
    assert_int_equal(wr_mailbox_push(mb, &extra), 0);
    assert_null(extra);
    for (int i = 0; i < 3; i++) {
        m = wr_mailbox_pop(mb);
        assert_memory_equal(m->data, "x", 1);
        wr_msg_destroy(&m);
    }
    m = wr_mailbox_pop(mb);
    assert_int_equal(m->len, 5);
    assert_memory_equal(m->data, "extra", 5);
    wr_msg_destroy(&m);
    wr_mailbox_destroy(&mb);
}

static void test_closed_mailbox_refuses_but_keeps_queue(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(4);
    s_push_ok(mb, T_DATA, "before");
    wr_mailbox_close(mb);

    wr_msg_t *late = s_msg(T_DATA, "late");
    assert_int_equal(wr_mailbox_push(mb, &late), WR_ECLOSED);
    assert_non_null(late);
    wr_msg_destroy(&late);

    wr_msg_t *m = wr_mailbox_pop(mb); /* what was queued is still there */
    assert_non_null(m);
    assert_memory_equal(m->data, "before", 6);
    wr_msg_destroy(&m);
    assert_null(wr_mailbox_pop(mb));

    wr_mailbox_stats_t st;
    wr_mailbox_stats(mb, &st);
    assert_int_equal(st.rejected, 0); /* closed is not back-pressure */
    wr_mailbox_destroy(&mb);
}

static void test_stats_depth_and_age(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(16);
    wr_mailbox_stats_t st;
    wr_mailbox_stats(mb, &st);
    assert_int_equal(st.capacity, 16);
    assert_int_equal(st.depth, 0);
    assert_int_equal(st.high_water, 0);
    assert_int_equal(st.oldest_age_ns, 0);

    for (int i = 0; i < 5; i++)
        s_push_ok(mb, T_DATA, "abc");
    wr_test_sleep_ms(30); /* the enqueue stamp is a coarse clock: a few ms of resolution */
    wr_mailbox_stats(mb, &st);
    assert_int_equal(st.depth, 5);
    assert_int_equal(st.high_water, 5);
    assert_int_equal(st.enqueued, 5);
    assert_int_equal(st.dequeued, 0);
    assert_true(st.oldest_age_ns >= 10 * 1000000LL);

    for (int i = 0; i < 3; i++) {
        wr_msg_t *m = wr_mailbox_pop(mb);
        wr_msg_destroy(&m);
    }
    s_push_ok(mb, T_DATA, "abc");
    wr_mailbox_stats(mb, &st);
    assert_int_equal(st.depth, 3);
    assert_int_equal(st.high_water, 5); /* a high-water mark does not go down */
    assert_int_equal(st.enqueued, 6);
    assert_int_equal(st.dequeued, 3);
    assert_true(st.oldest_age_ns > 0);

    while (wr_mailbox_depth(mb)) {
        wr_msg_t *m = wr_mailbox_pop(mb);
        wr_msg_destroy(&m);
    }
    wr_mailbox_stats(mb, &st);
    assert_int_equal(st.oldest_age_ns, 0); /* empty: no age */
    assert_int_equal(st.dequeued, 6);
    wr_mailbox_destroy(&mb);
}

static uint64_t s_type_count(const wr_mailbox_stats_t *st, uint16_t type)
{
    for (int i = 0; i < WR_MAILBOX_TYPE_SLOTS; i++)
        if (st->types[i].count && st->types[i].type == type) return st->types[i].count;
    return 0;
}

static void test_accounting_types_and_histogram(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(4);
    wr_mailbox_account(mb, WR_MSG_PING, 500);         /* 0 us: bucket 0 */
    wr_mailbox_account(mb, WR_MSG_PING, 3000);        /* 3 us: [2, 4) is bucket 1 */
    wr_mailbox_account(mb, T_DATA, 1000 * 1000);      /* 1000 us: [512, 1024) is bucket 9 */
    wr_mailbox_account(mb, T_DATA, 5LL * 1000000000); /* 5 s: the last bucket takes the rest */

    wr_mailbox_stats_t st;
    wr_mailbox_stats(mb, &st);
    assert_int_equal(s_type_count(&st, WR_MSG_PING), 2);
    assert_int_equal(s_type_count(&st, T_DATA), 2);
    assert_int_equal(s_type_count(&st, WR_MSG_STOP), 0);
    assert_int_equal(st.other_types, 0);
    assert_int_equal(st.processed_ns, 500 + 3000 + 1000000 + 5000000000ULL);
    assert_int_equal(st.hist[0], 1);
    assert_int_equal(st.hist[1], 1);
    assert_int_equal(st.hist[9], 1);
    assert_int_equal(st.hist[WR_MAILBOX_HIST_BUCKETS - 1], 1);
    uint64_t total = 0;
    for (int i = 0; i < WR_MAILBOX_HIST_BUCKETS; i++)
        total += st.hist[i];
    assert_int_equal(total, 4);
    wr_mailbox_destroy(&mb);
}

static void test_more_types_than_slots_count_as_other(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(4);
    const int ntypes = WR_MAILBOX_TYPE_SLOTS + 8;
    for (int t = 0; t < ntypes; t++)
        wr_mailbox_account(mb, (uint16_t)(WR_MSG_LOCAL_FIRST + t), 1);
    wr_mailbox_account(mb, WR_MSG_LOCAL_FIRST, 1); /* a type that has a slot keeps counting there */

    wr_mailbox_stats_t st;
    wr_mailbox_stats(mb, &st);
    uint64_t in_slots = 0;
    int used = 0;
    for (int i = 0; i < WR_MAILBOX_TYPE_SLOTS; i++) {
        in_slots += st.types[i].count;
        used += st.types[i].count > 0;
    }
    assert_int_equal(used, WR_MAILBOX_TYPE_SLOTS);
    assert_int_equal(st.other_types, 8);
    assert_int_equal(in_slots + st.other_types, (uint64_t)ntypes + 1);
    assert_int_equal(s_type_count(&st, WR_MSG_LOCAL_FIRST), 2);
    wr_mailbox_destroy(&mb);
}

static void test_recent_ring_newest_first(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(64);
    wr_mailbox_recent_t r[WR_MAILBOX_RECENT];
    assert_int_equal(wr_mailbox_recent(mb, r, WR_MAILBOX_RECENT), 0); /* nothing dequeued yet */

    s_push_ok(mb, WR_MSG_PING, "first");
    s_push_ok(mb, T_DATA, "second");
    s_push_ok(mb, WR_MSG_PONG, ""); /* an empty payload */
    s_push_ok(mb, T_DATA, "not popped yet");
    for (int i = 0; i < 3; i++) {
        wr_msg_t *m = s_pop_quietly(mb);
        wr_msg_destroy(&m);
    }

    size_t n = wr_mailbox_recent(mb, r, WR_MAILBOX_RECENT);
    assert_int_equal(n, 3); /* dequeued messages only */
    for (size_t i = 0; i < n; i++)
        assert_true(r[i].sampled);
    assert_int_equal(r[0].type, WR_MSG_PONG);
    assert_int_equal(r[0].size, 0);
    assert_int_equal(r[0].sample_len, 0);
    assert_int_equal(r[1].type, T_DATA);
    assert_int_equal(r[1].size, 6);
    assert_int_equal(r[1].sample_len, 6);
    assert_memory_equal(r[1].sample, "second", 6);
    assert_int_equal(r[2].type, WR_MSG_PING);
    assert_int_equal(r[2].sample_len, 5);
    assert_memory_equal(r[2].sample, "first", 5);
    assert_string_equal(r[2].from, "n1/sender");
    assert_true(r[2].enq_ns > 0);
    assert_true(r[2].deq_ns >= r[2].enq_ns);

    assert_int_equal(wr_mailbox_recent(mb, r, 1), 1); /* n limits the copy */
    assert_int_equal(r[0].type, WR_MSG_PONG);
    wr_mailbox_destroy(&mb);
}

static void test_recent_ring_wraps_and_samples_are_capped(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(64);
    const int total = WR_MAILBOX_RECENT + 5;
    for (int i = 0; i < total; i++) {
        char text[16];
        snprintf(text, sizeof text, "msg-%d", i);
        s_push_ok(mb, T_DATA, text);
        wr_msg_t *m = wr_mailbox_pop(mb);
        wr_msg_destroy(&m);
    }
    char big[WR_MAILBOX_SAMPLE_MAX * 2 + 1];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s_push_ok(mb, T_DATA, big);
    wr_msg_t *m = s_pop_quietly(mb);
    wr_msg_destroy(&m);

    wr_mailbox_recent_t r[WR_MAILBOX_RECENT + 4];
    size_t n = wr_mailbox_recent(mb, r, WR_MAILBOX_RECENT + 4);
    assert_int_equal(n, WR_MAILBOX_RECENT); /* the ring keeps the last WR_MAILBOX_RECENT */
    assert_true(r[0].sampled);
    assert_int_equal(r[0].size, sizeof big - 1);
    assert_int_equal(r[0].sample_len, WR_MAILBOX_SAMPLE_MAX); /* the first bytes only */
    assert_memory_equal(r[0].sample, big, WR_MAILBOX_SAMPLE_MAX);
    int sampled = 0;
    for (size_t i = 1; i < n; i++) { /* then msg-(total-1), msg-(total-2), ... */
        int pos = total - (int)i;    /* the position it was dequeued at */
        char want[16];
        snprintf(want, sizeof want, "msg-%d", pos);
        assert_int_equal(r[i].size, strlen(want));
        /* popped back to back (busy): one in eight is sampled, by position */
        if (pos % 8 == 0) assert_true(r[i].sampled);
        if (r[i].sampled) {
            sampled++;
            assert_int_equal(r[i].sample_len, strlen(want));
            assert_memory_equal(r[i].sample, want, strlen(want));
        } else {
            assert_int_equal(r[i].sample_len, 0);
        }
    }
    assert_true(sampled >= 2 && sampled < (int)n - 1);
    wr_mailbox_destroy(&mb);
}

/* ---- many producers, one consumer ---- */

#define S_PRODUCERS    4
#define S_PER_PRODUCER 100000

typedef struct {
    wr_mailbox_t *mb;
    uint32_t id;
    uint64_t full; /* pushes that met a full mailbox */
} s_producer_t;

static void *s_produce(void *arg)
{
    s_producer_t *p = arg;
    for (uint32_t seq = 0; seq < S_PER_PRODUCER; seq++) {
        uint32_t body[2] = {p->id, seq};
        wr_msg_t *m = wr_msg_new(T_DATA, NULL, NULL, body, sizeof body);
        if (!m) return "out of memory";
        int rc;
        while ((rc = wr_mailbox_push(p->mb, &m)) == WR_EAGAIN) {
            p->full++;
            sched_yield();
        }
        if (rc) {
            wr_msg_destroy(&m);
            return "push failed";
        }
    }
    return NULL;
}

static void test_many_producers_one_consumer(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(256);
    s_producer_t prod[S_PRODUCERS];
    pthread_t th[S_PRODUCERS];
    for (uint32_t i = 0; i < S_PRODUCERS; i++) {
        prod[i] = (s_producer_t){.mb = mb, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, s_produce, &prod[i]), 0);
    }

    uint32_t next[S_PRODUCERS] = {0};
    uint64_t got = 0, bad = 0;
    const uint64_t want = (uint64_t)S_PRODUCERS * S_PER_PRODUCER;
    while (got < want) {
        wr_msg_t *m = wr_mailbox_pop(mb);
        if (!m) {
            sched_yield();
            continue;
        }
        uint32_t body[2];
        if (m->len != sizeof body) {
            bad++;
        } else {
            memcpy(body, m->data, sizeof body);
            /* exactly once and in each producer's order: the next expected sequence number */
            if (body[0] >= S_PRODUCERS || body[1] != next[body[0]])
                bad++;
            else
                next[body[0]]++;
        }
        got++;
        wr_msg_destroy(&m);
    }
    for (int i = 0; i < S_PRODUCERS; i++) {
        void *err = NULL;
        pthread_join(th[i], &err);
        assert_null(err);
    }
    assert_int_equal(bad, 0);
    for (int i = 0; i < S_PRODUCERS; i++)
        assert_int_equal(next[i], S_PER_PRODUCER);
    assert_null(wr_mailbox_pop(mb)); /* nothing extra */

    wr_mailbox_stats_t st;
    wr_mailbox_stats(mb, &st);
    uint64_t full = 0;
    for (int i = 0; i < S_PRODUCERS; i++)
        full += prod[i].full;
    assert_int_equal(st.enqueued, want);
    assert_int_equal(st.dequeued, want);
    assert_int_equal(st.rejected, full);
    assert_true(st.high_water <= 256);
    wr_mailbox_destroy(&mb);
}

static void test_destroy_frees_queued_messages(void **state)
{
    (void)state;
    wr_mailbox_t *mb = wr_mailbox_new(32);
    for (int i = 0; i < 20; i++)
        s_push_ok(mb, T_DATA, "left behind: the leak checker would see it");
    wr_mailbox_close(mb);
    wr_mailbox_destroy(&mb); /* under --mode=asan, a leak here fails the binary */
    assert_null(mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_fifo),
        cmocka_unit_test(test_capacity_rounds_up_to_a_power_of_two),
        cmocka_unit_test(test_full_mailbox_pushes_back),
        cmocka_unit_test(test_closed_mailbox_refuses_but_keeps_queue),
        cmocka_unit_test(test_stats_depth_and_age),
        cmocka_unit_test(test_accounting_types_and_histogram),
        cmocka_unit_test(test_more_types_than_slots_count_as_other),
        cmocka_unit_test(test_recent_ring_newest_first),
        cmocka_unit_test(test_recent_ring_wraps_and_samples_are_capped),
        cmocka_unit_test(test_many_producers_one_consumer),
        cmocka_unit_test(test_destroy_frees_queued_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
