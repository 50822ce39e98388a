/* Credit-based flow control: the state machines alone, then a synthetic producer and a slow
 * consumer on two nodes talking over real tcp loopback sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "actors/runtime/synthetic.h"
#include "bus/channel.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"

/* The receiving ends of the payloads, decoded as the actors decode them. */
static int s_credit(wr_chan_tx_t *tx, const msgpack_sbuffer *sb)
{
    wr_msg_credit_t c;
    int rc = wr_msg_credit_decode(sb->data, sb->size, &c);
    return rc ? rc : wr_chan_tx_on_credit(tx, &c);
}

static int s_batch(wr_chan_rx_t *rx, const void *payload, size_t len, wr_chan_batch_t *b)
{
    wr_msg_data_batch_t m;
    int rc = wr_msg_data_batch_decode(payload, len, &m);
    return rc ? rc : wr_chan_rx_on_batch(rx, &m, b);
}

static int s_end(wr_chan_rx_t *rx, const wr_chan_tx_t *tx)
{
    wr_msg_t *m = wr_chan_tx_end(tx);
    assert_non_null(m);
    wr_chan_payload_t p;
    uint64_t channel = 0;
    int rc = wr_chan_unpack(m, &p, &channel);
    assert_int_equal(channel, rc ? 0 : tx->channel);
    if (!rc) rc = wr_chan_rx_on_end(rx, &p.end);
    wr_msg_destroy(&m);
    return rc;
}

static void test_credits_gate_the_sender(void **state)
{
    (void)state;
    wr_chan_tx_t tx;
    wr_chan_rx_t rx;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_chan_tx_init(&tx, 7);
    wr_chan_rx_init(&rx, 7, 4);
    char rec[16] = "0123456789abcdef";

    /* no credit yet: the sender holds back and nothing is packed */
    assert_int_equal(wr_chan_tx_batch(&tx, rec, sizeof rec, 1, &sb), WR_EAGAIN);
    assert_int_equal(sb.size, 0);

    /* the receiver opens with its whole window */
    assert_int_equal(wr_chan_rx_open(&rx, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), 0);
    assert_int_equal(tx.credits, 4);

    /* four batches go, the fifth waits */
    int credits_returned = 0;
    for (int i = 0; i < 4; i++) {
        sb.size = 0;
        assert_int_equal(wr_chan_tx_batch(&tx, rec, sizeof rec, 1, &sb), 0);
        wr_chan_batch_t b;
        assert_int_equal(s_batch(&rx, (uint8_t *)sb.data, sb.size, &b), 0);
        assert_int_equal(b.seq, (uint64_t)i);
        assert_int_equal(b.count, 1);
        assert_memory_equal(b.records, rec, sizeof rec);
    }
    sb.size = 0;
    assert_int_equal(wr_chan_tx_batch(&tx, rec, sizeof rec, 1, &sb), WR_EAGAIN);

    /* consuming returns credit in batches of half the window */
    for (int i = 0; i < 4; i++) {
        sb.size = 0;
        int rc = wr_chan_rx_consumed(&rx, &sb);
        assert_true(rc == 0 || rc == 1);
        if (rc == 1) {
            credits_returned++;
            assert_int_equal(s_credit(&tx, &sb), 0);
        }
    }
    assert_int_equal(credits_returned, 2);
    assert_int_equal(tx.credits, 4);

    assert_int_equal(s_end(&rx, &tx), 0);
    assert_true(rx.ended);
    assert_int_equal(rx.records, 4);
    msgpack_sbuffer_destroy(&sb);
}

static void test_receiver_catches_loss_and_abuse(void **state)
{
    (void)state;
    wr_chan_tx_t tx;
    wr_chan_rx_t rx;
    msgpack_sbuffer sb, b0, b1;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&b0);
    msgpack_sbuffer_init(&b1);
    wr_chan_tx_init(&tx, 1);
    wr_chan_rx_init(&rx, 1, 2);
    assert_int_equal(wr_chan_rx_open(&rx, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), 0);
    assert_int_equal(wr_chan_tx_batch(&tx, "aaaaaaaa", 8, 1, &b0), 0);
    assert_int_equal(wr_chan_tx_batch(&tx, "bbbbbbbb", 8, 1, &b1), 0);
    wr_chan_batch_t b;

    /* batch 0 lost on the way: batch 1 is out of sequence */
    assert_int_equal(s_batch(&rx, (uint8_t *)b1.data, b1.size, &b), WR_EPROTO);
    /* every truncation of a valid batch is rejected */
    for (size_t n = 0; n < b0.size; n++)
        assert_int_equal(s_batch(&rx, (uint8_t *)b0.data, n, &b), WR_EPROTO);
    assert_int_equal(s_batch(&rx, (uint8_t *)b0.data, b0.size, &b), 0);
    /* a duplicate is out of sequence too */
    assert_int_equal(s_batch(&rx, (uint8_t *)b0.data, b0.size, &b), WR_EPROTO);
    assert_int_equal(s_batch(&rx, (uint8_t *)b1.data, b1.size, &b), 0);

    /* a sender that ignores its credit: a third batch with no credit granted */
    wr_chan_tx_t rogue = tx;
    rogue.credits = 1;
    sb.size = 0;
    assert_int_equal(wr_chan_tx_batch(&rogue, "cccccccc", 8, 1, &sb), 0);
    assert_int_equal(s_batch(&rx, (uint8_t *)sb.data, sb.size, &b), WR_ETOOBIG);

    /* another channel's batch or credit is refused */
    wr_chan_rx_t other;
    wr_chan_rx_init(&other, 2, 2);
    assert_int_equal(s_batch(&other, (uint8_t *)b0.data, b0.size, &b), WR_EPROTO);
    sb.size = 0;
    assert_int_equal(wr_chan_rx_open(&other, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), WR_EPROTO);

    /* a barrier that follows a lost batch exposes the gap before the receiver snapshots: a
     * checkpoint over it would hold the sender past records that never arrived */
    wr_chan_rx_t gap_rx;
    wr_chan_rx_init(&gap_rx, 1, 2);
    wr_msg_barrier_t barrier = {.channel = 1, .checkpoint = 3, .next_seq = tx.next_seq};
    assert_int_equal(wr_chan_rx_on_barrier(&gap_rx, &barrier), WR_EPROTO);
    assert_int_equal(wr_chan_rx_on_barrier(&rx, &barrier), 0); /* rx has every batch */
    barrier.channel = 2;
    assert_int_equal(wr_chan_rx_on_barrier(&rx, &barrier), WR_EPROTO);

    /* an end that announces more batches than arrived exposes the gap */
    wr_chan_rx_t short_rx;
    wr_chan_rx_init(&short_rx, 1, 2);
    assert_int_equal(s_end(&short_rx, &tx), WR_EPROTO);
    assert_false(short_rx.ended);

    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&b0);
    msgpack_sbuffer_destroy(&b1);
}

/* Credits are totals: a CREDIT lost on the way is made good by the next one or by asking again
 * (a repeated CHANNEL_OPEN), and one that arrives twice or late gives nothing twice. */
static void test_lost_and_repeated_credits(void **state)
{
    (void)state;
    wr_chan_tx_t tx;
    wr_chan_rx_t rx;
    msgpack_sbuffer sb, first;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&first);
    wr_chan_tx_init(&tx, 5);
    wr_chan_rx_init(&rx, 5, 4);

    /* the answer to the first open is lost; the sender asks again and gets the window once */
    assert_int_equal(wr_chan_rx_open(&rx, &first), 0);
    assert_int_equal(wr_chan_rx_open(&rx, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), 0);
    assert_int_equal(tx.credits, 4);
    assert_int_equal(s_credit(&tx, &first), 0); /* the lost one turns up after all: nothing */
    assert_int_equal(tx.credits, 4);
    assert_int_equal(rx.granted, 4);

    /* four batches, all consumed; the receiver's two credits back are lost on the way */
    char rec[8] = "abcdefgh";
    msgpack_sbuffer late;
    msgpack_sbuffer_init(&late);
    for (int i = 0; i < 4; i++) {
        sb.size = 0;
        assert_int_equal(wr_chan_tx_batch(&tx, rec, sizeof rec, 1, &sb), 0);
        wr_chan_batch_t b;
        assert_int_equal(s_batch(&rx, (uint8_t *)sb.data, sb.size, &b), 0);
        sb.size = 0;
        if (wr_chan_rx_consumed(&rx, &sb) == 1 && !late.size)
            msgpack_sbuffer_write(&late, sb.data, sb.size);
    }
    assert_int_equal(tx.credits, 0);
    assert_int_equal(rx.granted, 8);
    /* asking again brings the whole of it back, and the first lost CREDIT arriving late after
     * that is stale */
    sb.size = 0;
    assert_int_equal(wr_chan_rx_open(&rx, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), 0);
    assert_int_equal(tx.credits, 4);
    assert_int_equal(s_credit(&tx, &late), 0);
    assert_int_equal(tx.credits, 4);
    /* a batch spent, then the same total again: still 3 */
    sb.size = 0;
    assert_int_equal(wr_chan_tx_batch(&tx, rec, sizeof rec, 1, &sb), 0);
    sb.size = 0;
    assert_int_equal(wr_chan_rx_open(&rx, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), 0);
    assert_int_equal(tx.credits, 3);

    /* a total granting more than UINT32_MAX unsent batches is refused */
    sb.size = 0;
    assert_int_equal(wr_msg_credit_pack(&(wr_msg_credit_t){5, tx.sent + (1ull << 32)}, &sb), 0);
    assert_int_equal(s_credit(&tx, &sb), WR_EPROTO);
    assert_int_equal(tx.credits, 3);

    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&first);
    msgpack_sbuffer_destroy(&late);
}

/* A batch written in place (wr_chan_tx_seal: the records first, the header last) is the very
 * batch wr_chan_tx_batch packs, and its header is WR_CHAN_BATCH_HEADER bytes for any values. */
static void test_sealed_batch_is_the_packed_batch(void **state)
{
    (void)state;
    const uint64_t channels[] = {0, 1, 300, UINT64_MAX};
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
        wr_chan_tx_t a, b;
        wr_chan_tx_init(&a, channels[i]);
        wr_chan_tx_init(&b, channels[i]);
        a.credits = b.credits = 2;
        a.next_seq = b.next_seq = channels[i] ^ 5;
        wr_msg_t *m = wr_chan_batch_alloc(64);
        assert_non_null(m);
        memcpy(wr_chan_batch_records(m), "0123456789", 10);
        assert_int_equal(wr_chan_tx_seal(&a, m, 3, 10), 0);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        assert_int_equal(wr_chan_tx_batch(&b, "0123456789", 10, 3, &sb), 0);
        assert_int_equal(m->len, WR_CHAN_BATCH_HEADER + 10);
        assert_int_equal(sb.size, m->len);
        assert_memory_equal(sb.data, m->data, m->len);
        wr_chan_payload_t p;
        uint64_t channel;
        assert_int_equal(wr_chan_unpack(m, &p, &channel), 0);
        assert_true(channel == channels[i] && p.batch.seq == (channels[i] ^ 5) &&
                    p.batch.count == 3);
        assert_memory_equal(p.batch.records.p, "0123456789", 10);
        /* not enough credit, or more bytes than the message holds: nothing changes */
        a.credits = 0;
        assert_int_equal(wr_chan_tx_seal(&a, m, 3, 10), WR_EAGAIN);
        a.credits = 1;
        assert_int_equal(wr_chan_tx_seal(&a, m, 3, 65), WR_EINVAL);
        msgpack_sbuffer_destroy(&sb);
        wr_msg_destroy(&m);
    }
}

/* Waits until *flag or an error is set, or the deadline passes. */
static bool s_wait(_Atomic int *flag, _Atomic int *err, int64_t ms)
{
    int64_t deadline = wr_now_ns() + ms * 1000000;
    while (!atomic_load(flag) && !atomic_load(err) && wr_now_ns() < deadline)
        usleep(1000);
    return atomic_load(flag) && !atomic_load(err);
}

static void s_run_pair(uint32_t window, int64_t delay_us, uint64_t batches, bool expect_waits)
{
    wr_node_opts_t rx_opts = {.id = "rx", .bind = "tcp://127.0.0.1:*", .threads = 2};
    wr_node_opts_t tx_opts = {.id = "tx", .bind = "tcp://127.0.0.1:*", .threads = 2};
    wr_node_t *rx = wr_node_new(&rx_opts, NULL);
    wr_node_t *tx = wr_node_new(&tx_opts, NULL);
    assert_non_null(rx);
    assert_non_null(tx);
    assert_int_equal(wr_node_connect(tx, "rx", wr_node_endpoint(rx)), 0);

    wr_synth_sink_result_t sink = {0};
    wr_synth_source_result_t source = {0};
    wr_synth_sink_opts_t so = {.path = "sink",
                               .channel = 9,
                               .window = window,
                               .record_size = 40,
                               .delay_us = delay_us,
                               .result = &sink};
    wr_synth_source_opts_t po = {.path = "source",
                                 .sink = "rx/sink",
                                 .channel = 9,
                                 .batches = batches,
                                 .batch_records = 1000,
                                 .record_size = 40,
                                 .result = &source};
    assert_int_equal(wr_synth_sink_spawn(rx, &so), 0);
    assert_int_equal(wr_synth_source_spawn(tx, &po), 0);

    assert_true(s_wait(&sink.done, &sink.error, 60000));
    /* nothing lost, duplicated or reordered */
    assert_int_equal(atomic_load(&sink.batches), batches);
    assert_int_equal(atomic_load(&sink.records), batches * 1000);
    assert_int_equal(atomic_load(&sink.bad_records), 0);
    assert_int_equal(atomic_load(&source.error), 0);
    /* bounded: never more than the window in flight, and the sink's mailbox stayed that small */
    assert_true(atomic_load(&source.max_in_flight) <= window);
    assert_true(atomic_load(&sink.max_depth) <= window + 2);
    if (expect_waits) assert_true(atomic_load(&source.credit_waits) > 0);

    wr_node_destroy(&tx);
    wr_node_destroy(&rx);
}

static void test_slow_consumer_pushes_back_on_the_source(void **state)
{
    (void)state;
    /* 2 ms per batch: the source could go ~100x faster, so it must keep stopping for credit */
    s_run_pair(8, 2000, 300, true);
}

static void test_fast_consumer_moves_everything(void **state)
{
    (void)state;
    s_run_pair(32, 0, 3000, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credits_gate_the_sender),
        cmocka_unit_test(test_lost_and_repeated_credits),
        cmocka_unit_test(test_receiver_catches_loss_and_abuse),
        cmocka_unit_test(test_sealed_batch_is_the_packed_batch),
        cmocka_unit_test(test_slow_consumer_pushes_back_on_the_source),
        cmocka_unit_test(test_fast_consumer_moves_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
