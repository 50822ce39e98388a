/* actors/connectors/mqtt/mqtt_queue: the bounded queue between an MQTT client's network thread
 * and the subtask that reads its messages. Messages come out whole and in order; a push into a
 * full queue waits until the reader takes (back-pressure), never drops; a message larger than
 * the queue goes in alone; after close a push (also one waiting) is refused and counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/mqtt/mqtt_queue.h"
#include "bus/base/error.h"

#define T_CAP 256

/* Takes everything queued and checks it is messages first, first + 1, ... ("m<k>" on topic
 * "t/<k>"); returns how many. */
static int s_take_in_order(wr__mqtt_queue_t *q, wr_strbuf_t *buf, int first)
{
    int n = 0;
    if (!wr__mqtt_queue_take(q, buf)) return 0;
    size_t at = 0, len;
    const char *topic, *payload;
    while (wr__mqtt_queue_next(buf, &at, &topic, &payload, &len)) {
        char want[32];
        snprintf(want, sizeof want, "t/%d", first + n);
        assert_string_equal(topic, want);
        snprintf(want, sizeof want, "m%d", first + n);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(payload, want, len);
        n++;
    }
    assert_int_equal(at, buf->len);
    return n;
}

static void test_messages_come_out_whole_and_in_order(void **state)
{
    (void)state;
    wr__mqtt_queue_t *q = wr__mqtt_queue_new(T_CAP);
    assert_non_null(q);
    wr_strbuf_t buf;
    wr_strbuf_init(&buf);
    assert_false(wr__mqtt_queue_take(q, &buf));
    for (int k = 0; k < 5; k++) {
        char topic[16], msg[16];
        snprintf(topic, sizeof topic, "t/%d", k);
        snprintf(msg, sizeof msg, "m%d", k);
        assert_int_equal(wr__mqtt_queue_push(q, topic, msg, strlen(msg)), 0);
    }
    assert_int_equal(s_take_in_order(q, &buf, 0), 5);
    /* an empty payload is a message too */
    assert_int_equal(wr__mqtt_queue_push(q, "t/x", NULL, 0), 0);
    assert_true(wr__mqtt_queue_take(q, &buf));
    size_t at = 0, len = 1;
    const char *topic, *payload;
    assert_true(wr__mqtt_queue_next(&buf, &at, &topic, &payload, &len));
    assert_string_equal(topic, "t/x");
    assert_int_equal(len, 0);
    assert_false(wr__mqtt_queue_next(&buf, &at, &topic, &payload, &len));
    assert_int_equal(wr__mqtt_queue_dropped(q), 0);
    wr_strbuf_release(&buf);
    wr__mqtt_queue_destroy(&q);
    assert_null(q);
    wr__mqtt_queue_destroy(&q); /* NULL-safe */
}

typedef struct {
    wr__mqtt_queue_t *q;
    int from, n;
    int rc;     /* the last push's */
    int pushed; /* so far */
} s_pusher_t;

static void *s_push(void *arg)
{
    s_pusher_t *p = arg;
    for (int k = p->from; k < p->from + p->n; k++) {
        char topic[16], msg[16];
        snprintf(topic, sizeof topic, "t/%d", k);
        snprintf(msg, sizeof msg, "m%d", k);
        if ((p->rc = wr__mqtt_queue_push(p->q, topic, msg, strlen(msg)))) break;
        __atomic_add_fetch(&p->pushed, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static int s_pushed(s_pusher_t *p)
{
    return __atomic_load_n(&p->pushed, __ATOMIC_SEQ_CST);
}

static void test_a_full_queue_holds_the_pusher_back(void **state)
{
    (void)state;
    wr__mqtt_queue_t *q = wr__mqtt_queue_new(T_CAP);
    wr_strbuf_t buf;
    wr_strbuf_init(&buf);
    /* 1000 messages of ~16 bytes through a 256-byte queue: the pusher waits for the reader */
    s_pusher_t p = {.q = q, .from = 0, .n = 1000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_push, &p), 0);
    usleep(50 * 1000);
    int held = s_pushed(&p);
    assert_true(held > 0 && held < 1000); /* it filled the queue and waits */
    usleep(50 * 1000);
    assert_int_equal(s_pushed(&p), held); /* still waiting: nothing dropped */
    int got = 0;
    while (got < 1000) {
        int n = s_take_in_order(q, &buf, got);
        assert_true((size_t)n * 16 <= 2 * T_CAP); /* bounded */
        got += n;
        if (!n) usleep(100);
    }
    pthread_join(t, NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(wr__mqtt_queue_dropped(q), 0);
    wr_strbuf_release(&buf);
    wr__mqtt_queue_destroy(&q);
}

static void test_a_message_larger_than_the_queue_goes_in_alone(void **state)
{
    (void)state;
    wr__mqtt_queue_t *q = wr__mqtt_queue_new(T_CAP);
    wr_strbuf_t buf;
    wr_strbuf_init(&buf);
    char big[4 * T_CAP];
    memset(big, 'x', sizeof big);
    assert_int_equal(wr__mqtt_queue_push(q, "big", big, sizeof big), 0);
    assert_true(wr__mqtt_queue_take(q, &buf));
    size_t at = 0, len;
    const char *topic, *payload;
    assert_true(wr__mqtt_queue_next(&buf, &at, &topic, &payload, &len));
    assert_int_equal(len, sizeof big);
    assert_memory_equal(payload, big, len);
    wr_strbuf_release(&buf);
    wr__mqtt_queue_destroy(&q);
}

static void test_close_refuses_and_counts(void **state)
{
    (void)state;
    wr__mqtt_queue_t *q = wr__mqtt_queue_new(T_CAP);
    /* a pusher waiting on a full queue returns at close, its message refused and counted */
    s_pusher_t p = {.q = q, .from = 0, .n = 1000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_push, &p), 0);
    while (!s_pushed(&p))
        usleep(1000);
    usleep(20 * 1000);
    wr__mqtt_queue_close(q);
    pthread_join(t, NULL);
    assert_int_equal(p.rc, WR_ECLOSED);
    assert_int_equal(wr__mqtt_queue_dropped(q), 1);
    assert_int_equal(wr__mqtt_queue_push(q, "t", "late", 4), WR_ECLOSED);
    assert_int_equal(wr__mqtt_queue_dropped(q), 2);
    /* what was queued before is still there to read (and count) */
    wr_strbuf_t buf;
    wr_strbuf_init(&buf);
    assert_int_equal(s_take_in_order(q, &buf, 0), s_pushed(&p));
    wr_strbuf_release(&buf);
    wr__mqtt_queue_destroy(&q);
}

/* The reading side's cursor: messages in order across takes, a message read in pieces stays
 * the current one, empty only once nothing is begun, taken or queued, and what is left counted
 * at the end. */
static void test_the_cursor(void **state)
{
    (void)state;
    wr__mqtt_queue_t *q = wr__mqtt_queue_new(T_CAP);
    wr__mqtt_cursor_t c;
    wr__mqtt_cursor_init(&c);
    assert_true(wr__mqtt_cursor_empty(&c, q));
    assert_false(wr__mqtt_cursor_next(&c, q));
    assert_int_equal(wr__mqtt_queue_push(q, "a/1", "one", 3), 0);
    assert_int_equal(wr__mqtt_queue_push(q, "a/2", "two", 3), 0);
    assert_false(wr__mqtt_cursor_empty(&c, q)); /* queued */
    assert_true(wr__mqtt_cursor_next(&c, q));
    assert_string_equal(c.topic, "a/1");
    assert_memory_equal(c.payload, "one", 3);
    c.done = 2; /* read in part: still begun */
    assert_false(wr__mqtt_cursor_empty(&c, q));
    c.topic = NULL;                             /* read out */
    assert_false(wr__mqtt_cursor_empty(&c, q)); /* taken, not read */
    assert_int_equal(wr__mqtt_queue_push(q, "a/3", "three", 5), 0);
    assert_true(wr__mqtt_cursor_next(&c, q));
    assert_string_equal(c.topic, "a/2");
    assert_int_equal(c.done, 0);
    c.topic = NULL;
    assert_true(wr__mqtt_cursor_next(&c, q)); /* from the next take */
    assert_string_equal(c.topic, "a/3");
    assert_int_equal(c.len, 5);
    c.topic = NULL;
    assert_true(wr__mqtt_cursor_empty(&c, q));
    /* at close: the one begun and those queued */
    assert_int_equal(wr__mqtt_queue_push(q, "b", "x", 1), 0);
    assert_int_equal(wr__mqtt_queue_push(q, "b", "y", 1), 0);
    assert_true(wr__mqtt_cursor_next(&c, q));
    assert_int_equal(wr__mqtt_queue_push(q, "b", "z", 1), 0);
    assert_int_equal(wr__mqtt_cursor_unread(&c, q), 3);
    assert_true(wr__mqtt_cursor_empty(&c, q));
    wr__mqtt_cursor_release(&c);
    wr__mqtt_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_come_out_whole_and_in_order),
        cmocka_unit_test(test_a_full_queue_holds_the_pusher_back),
        cmocka_unit_test(test_a_message_larger_than_the_queue_goes_in_alone),
        cmocka_unit_test(test_close_refuses_and_counts),
        cmocka_unit_test(test_the_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
