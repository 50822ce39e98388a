/* actors/connectors/kafka: the Kafka source as subtasks drive it (actors/connectors/source.h)
 * against librdkafka's mock cluster (3 brokers, made before and destroyed after each test), fed
 * by a producer here. The oracle is what the test produced: every record read once, with its
 * fields, by the subtask the dealing rule names; across a restore at another parallelism; from
 * latest, a timestamp and the group's committed offsets; an idle partition released and woken;
 * partitions found by discovery; bad lines failing or skipped; CSV; a missing topic, a bad
 * property and foreign checkpoint positions refused; the leader of two partitions down a while.
 *
 * What the mock (librdkafka 2.0.2) cannot show: it cannot add partitions to a topic (no
 * CreatePartitions handler; rd_kafka_mock_topic_create refuses an existing topic), so discovery
 * is shown by subtasks that start with no partitions; and its ListOffsets does not look up
 * timestamps (it answers -1, "no such message", for every one), so start: timestamp is shown
 * only where every message is older than start_time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/kafka/kafka.h"
#include "actors/connectors/source.h"
#include "actors/connectors/textin.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"

#define T_TOPIC   "readings"
#define T_PARTS   4
#define T_IDS     2048
#define T_P_MAX   4
#define T_WAIT_MS 10000 /* for records that are due */
#define T_BATCH   256
#define T_MS      INT64_C(1000000)

enum { F_ID, F_TS, F_DEV };

typedef struct {
    rd_kafka_t *mrk; /* the handle the mock cluster lives in */
    rd_kafka_mock_cluster_t *mock;
    rd_kafka_t *producer;
    char bootstrap[256];
    wr_schema_t schema; /* id int, ts time, dev string */
    wr_kafka_source_config_t cfg;
    wr_strbuf_t err;
    /* the oracle: each record produced */
    int32_t part[T_IDS]; /* -1: not produced */
    int64_t ts[T_IDS];
    /* what the sources read */
    wr_source_t *src[T_P_MAX];
    uint32_t p;
    uint8_t seen[T_IDS];
    uint32_t total, by[T_P_MAX]; /* records read, in all and by each subtask */
    int64_t part_ts[T_PARTS];    /* the latest event time read from each partition */
} fx_t;

static rd_kafka_t *s_client(rd_kafka_type_t type, const char *bootstrap)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (bootstrap) rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why);
    rd_kafka_conf_set(conf, "log_level", "2", why, sizeof why); /* its retries are expected */
    rd_kafka_conf_set(conf, "linger.ms", "0", why, sizeof why);
    rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "200", why, sizeof why);
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!rk) rd_kafka_conf_destroy(conf);
    return rk;
}

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;
    if (!(fx->mrk = s_client(RD_KAFKA_PRODUCER, NULL)) ||
        !(fx->mock = rd_kafka_mock_cluster_new(fx->mrk, 3)))
        return -1;
    snprintf(fx->bootstrap, sizeof fx->bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(fx->mock));
    if (rd_kafka_mock_topic_create(fx->mock, T_TOPIC, T_PARTS, 3) ||
        !(fx->producer = s_client(RD_KAFKA_PRODUCER, fx->bootstrap)))
        return -1;
    /* the leaders known now, not at the producer's first topic scan, a second later */
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(fx->producer, 1, NULL, &md, T_WAIT_MS)) return -1;
    rd_kafka_metadata_destroy(md);
    wr_schema_init(&fx->schema);
    wr_schema_add(&fx->schema, "id", WR_T_INT);
    wr_schema_add(&fx->schema, "ts", WR_T_TIME);
    wr_schema_add(&fx->schema, "dev", WR_T_STRING);
    fx->cfg = (wr_kafka_source_config_t){.bootstrap = fx->bootstrap,
                                         .topics = T_TOPIC,
                                         .format = WR_TEXTIN_JSONL,
                                         .on_error = WR_TEXTIN_FAIL,
                                         .max_line = 1024,
                                         .start = WR_KAFKA_START_EARLIEST,
                                         .group = "weir-test",
                                         /* the mock answers a fetch only when this is up */
                                         .properties = "fetch.wait.max.ms=10"};
    for (uint32_t i = 0; i < T_IDS; i++)
        fx->part[i] = -1;
    wr_strbuf_init(&fx->err);
    return 0;
}

static void s_close(fx_t *fx)
{
    for (uint32_t s = 0; s < T_P_MAX; s++)
        wr_source_destroy(&fx->src[s]);
    fx->p = 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    s_close(fx);
    /* the cluster first: destroyed after its last client it may wait a second for its I/O */
    if (fx->mock) rd_kafka_mock_cluster_destroy(fx->mock);
    if (fx->producer) rd_kafka_destroy(fx->producer);
    if (fx->mrk) rd_kafka_destroy(fx->mrk);
    wr_strbuf_release(&fx->err);
    free(fx);
    return 0;
}

/* ---- producing ---- */

static void s_send(fx_t *fx, int32_t partition, const char *text, size_t len, int64_t ts)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        fx->producer, RD_KAFKA_V_TOPIC(T_TOPIC), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE((void *)text, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
    if (e) fail_msg("produce: %s", rd_kafka_err2str(e));
}

static void s_flush(fx_t *fx)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(fx->producer, T_WAIT_MS);
    if (e) fail_msg("flush: %s", rd_kafka_err2str(e));
}

/* Records first, first + 1, ... (n), record k to partition parts[k % nparts] at event time
 * ts0 + k, `lines` records to a message (its last line with a newline or not, in turn). */
static void s_records(fx_t *fx, uint32_t first, uint32_t n, uint32_t lines, const int32_t *parts,
                      uint32_t nparts, int64_t ts0)
{
    wr_strbuf_t msg[T_PARTS];
    uint32_t in[T_PARTS] = {0}, sent = 0;
    for (int32_t p = 0; p < T_PARTS; p++)
        wr_strbuf_init(&msg[p]);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t id = first + k;
        int32_t p = parts[k % nparts];
        assert_true(id < T_IDS && fx->part[id] < 0);
        fx->part[id] = p;
        fx->ts[id] = ts0 + k;
        if (in[p]) wr_strbuf_addc(&msg[p], '\n');
        wr_strbuf_addf(&msg[p], "{\"id\": %u, \"ts\": %lld, \"dev\": \"d%u\"}", id,
                       (long long)fx->ts[id], id % 7);
        if (++in[p] < lines && k + nparts < n) continue;
        if (sent++ % 2) wr_strbuf_addc(&msg[p], '\n');
        s_send(fx, p, msg[p].buf, msg[p].len, 0);
        wr_strbuf_reset(&msg[p]);
        in[p] = 0;
    }
    for (int32_t p = 0; p < T_PARTS; p++)
        wr_strbuf_release(&msg[p]);
    s_flush(fx);
}

static const int32_t s_all[] = {0, 1, 2, 3};

/* ---- reading ---- */

/* The dealing rule, written again: (FNV-1a(topic) + partition) mod p. */
static uint32_t s_owner(int32_t partition, uint32_t p)
{
    uint32_t h = 2166136261u;
    for (const char *c = T_TOPIC; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return (uint32_t)(((uint64_t)h + (uint64_t)partition) % p);
}

/* p subtasks, fresh (restored NULL) or from restored (each gets a copy); the first start's
 * failure (err saying why), or 0. */
static int s_open(fx_t *fx, uint32_t p, const wr_splits_t *restored, bool start)
{
    s_close(fx);
    fx->p = p;
    int rc = 0;
    for (uint32_t s = 0; s < p && !rc; s++) {
        wr_source_opts_t o = {.schema = &fx->schema,
                              .ts_field = F_TS,
                              .subtask = s,
                              .parallelism = p,
                              .batch_records = T_BATCH};
        wr_strbuf_reset(&fx->err);
        fx->src[s] = wr_source_new(&wr_kafka_source_class, &fx->cfg, &o, &rc, &fx->err);
        if (rc || !start) continue;
        wr_splits_t copy = {0};
        for (uint32_t i = 0; restored && i < restored->n; i++) {
            const wr_split_t *sp = &restored->v[i];
            assert_int_equal(wr_splits_add(&copy, sp->id, sp->pos, sp->pos_len, sp->event_time), 0);
        }
        rc = wr_source_start(fx->src[s], restored ? &copy : NULL, &fx->err);
        wr_splits_release(&copy);
    }
    return rc;
}

/* One read of subtask s (at most max records), each record checked against the oracle and
 * counted; its status. */
static wr_source_status_t s_read(fx_t *fx, uint32_t s, uint32_t max)
{
    wr_source_status_t st;
    wr_strbuf_reset(&fx->err);
    int rc = wr_source_next(fx->src[s], max, 0, &st, &fx->err);
    if (rc) fail_msg("subtask %u: %s: %s", s, wr_strerror(rc), fx->err.buf);
    const wr_batch_t *b = wr_source_batch(fx->src[s]);
    for (uint32_t i = 0; i < b->count; i++) {
        int64_t id = ((const int64_t *)b->col[F_ID])[i];
        if (id < 0 || id >= T_IDS || fx->part[id] < 0)
            fail_msg("id %lld was not produced", (long long)id);
        assert_int_equal(((const int64_t *)b->col[F_TS])[i], fx->ts[id]);
        uint32_t len;
        const char *dev = wr_batch_str(b, F_DEV, i, &len);
        char want[16];
        snprintf(want, sizeof want, "d%u", (unsigned)(id % 7));
        assert_int_equal(len, strlen(want));
        assert_memory_equal(dev, want, len);
        if (s_owner(fx->part[id], fx->p) != s)
            fail_msg("id %lld of partition %d read by subtask %u of %u", (long long)id,
                     fx->part[id], s, fx->p);
        if (fx->ts[id] > fx->part_ts[fx->part[id]]) fx->part_ts[fx->part[id]] = fx->ts[id];
        fx->seen[id]++;
        fx->total++;
        fx->by[s]++;
    }
    return st;
}

/* Reads round-robin until `want` records in all were read; fails after T_WAIT_MS. */
static void s_drain(fx_t *fx, uint32_t want, uint32_t max)
{
    int64_t until = wr_now_ns() + T_WAIT_MS * T_MS;
    while (fx->total < want) {
        bool waited = true;
        for (uint32_t s = 0; s < fx->p; s++)
            waited &= s_read(fx, s, max) == WR_SOURCE_WAIT;
        if (wr_now_ns() > until) fail_msg("%u records of %u read", fx->total, want);
        if (waited) usleep(1000);
    }
}

/* Reads for ms milliseconds. */
static void s_quiet(fx_t *fx, int64_t ms)
{
    for (int64_t until = wr_now_ns() + ms * T_MS; wr_now_ns() < until; usleep(1000))
        for (uint32_t s = 0; s < fx->p; s++)
            assert_int_equal(s_read(fx, s, T_BATCH), WR_SOURCE_WAIT);
}

/* Each record of ids [first, last) read once, and no other. */
static void s_expect(const fx_t *fx, uint32_t first, uint32_t last)
{
    for (uint32_t id = 0; id < T_IDS; id++)
        if (fx->seen[id] != (id >= first && id < last))
            fail_msg("id %u read %u times", id, fx->seen[id]);
}

static void s_forget(fx_t *fx)
{
    memset(fx->seen, 0, sizeof fx->seen);
    memset(fx->by, 0, sizeof fx->by);
    fx->total = 0;
}

/* Every subtask's snapshot for checkpoint, together. */
static void s_snapshot(fx_t *fx, uint64_t checkpoint, wr_splits_t *out)
{
    wr_strbuf_t st;
    wr_strbuf_init(&st);
    for (uint32_t s = 0; s < fx->p; s++) {
        wr_strbuf_reset(&st);
        assert_int_equal(wr_source_snapshot(fx->src[s], checkpoint, &st), 0);
        assert_int_equal(wr_splits_decode((const uint8_t *)st.buf, st.len, out), 0);
    }
    wr_strbuf_release(&st);
}

/* The partition of split id "readings/N". */
static int32_t s_partition(const char *id)
{
    assert_memory_equal(id, T_TOPIC "/", strlen(T_TOPIC) + 1);
    return atoi(id + strlen(T_TOPIC) + 1);
}

/* ---- tests ---- */

static void test_every_record_once_by_its_owner(void **state)
{
    fx_t *fx = *state;
    s_records(fx, 0, 600, 2, s_all, T_PARTS, 1000);
    static const uint32_t ps[] = {1, 2, 4};
    for (uint32_t k = 0; k < 3; k++) {
        s_forget(fx);
        assert_int_equal(s_open(fx, ps[k], NULL, true), 0);
        s_drain(fx, 600, T_BATCH);
        s_quiet(fx, 100);
        s_expect(fx, 0, 600);
        /* each subtask holds the partitions the rule gives it, at their ends (150 records, 75
         * messages each) */
        for (uint32_t s = 0; s < ps[k]; s++) {
            wr_splits_t mine = {0};
            wr_strbuf_t st;
            wr_strbuf_init(&st);
            assert_int_equal(wr_source_snapshot(fx->src[s], 0, &st), 0);
            assert_int_equal(wr_splits_decode((const uint8_t *)st.buf, st.len, &mine), 0);
            uint32_t want = 0;
            for (int32_t n = 0; n < T_PARTS; n++)
                want += s_owner(n, ps[k]) == s;
            assert_int_equal(mine.n, want);
            for (uint32_t i = 0; i < mine.n; i++) {
                uint64_t offset;
                assert_int_equal(s_owner(s_partition(mine.v[i].id), ps[k]), s);
                assert_int_equal(wr_split_position_read(&mine.v[i], &offset, 1), 0);
                assert_int_equal(offset, 75);
            }
            wr_splits_release(&mine);
            wr_strbuf_release(&st);
        }
    }
}

/* Stopped inside messages of three lines at a checkpoint, restored at another parallelism: the
 * rest, and what came since, each once. */
static void test_restore_reads_the_rest_once(void **state)
{
    fx_t *fx = *state;
    s_records(fx, 0, 600, 3, s_all, T_PARTS, 1000);
    assert_int_equal(s_open(fx, 2, NULL, true), 0);
    s_drain(fx, 250, 4);
    /* one record more from each: a read that ends inside a message */
    wr_splits_t splits = {0};
    bool inside = false;
    for (int tries = 0; tries < 6 && !inside; tries++) {
        for (uint32_t s = 0; s < 2; s++)
            s_read(fx, s, 1);
        wr_splits_release(&splits);
        s_snapshot(fx, 1, &splits);
        for (uint32_t i = 0; i < splits.n; i++) {
            uint64_t v[2];
            inside |= wr_split_position_read(&splits.v[i], v, 2) == 0;
        }
    }
    assert_true(inside);
    assert_int_equal(splits.n, T_PARTS);
    s_close(fx);
    uint8_t before[T_IDS];
    memcpy(before, fx->seen, sizeof before);
    uint32_t total = fx->total;
    s_records(fx, 600, 200, 3, s_all, T_PARTS, 5000);

    static const uint32_t ps[] = {3, 1};
    for (uint32_t k = 0; k < 2; k++) {
        memcpy(fx->seen, before, sizeof before);
        fx->total = total;
        assert_int_equal(s_open(fx, ps[k], &splits, true), 0);
        s_drain(fx, 800, 7);
        s_quiet(fx, 100);
        s_expect(fx, 0, 800);
    }

    /* a partition the checkpoint does not know (created since) is read from its start */
    memcpy(fx->seen, before, sizeof before);
    fx->total = total;
    uint32_t again = 0, id0 = 0;
    while (!before[id0])
        id0++;
    int32_t gone = fx->part[id0]; /* a partition read from before the checkpoint */
    for (uint32_t i = 0; i < splits.n; i++)
        if (s_partition(splits.v[i].id) == gone) wr_splits_remove(&splits, i--);
    for (uint32_t id = 0; id < 800; id++)
        again += before[id] && fx->part[id] == gone;
    assert_int_equal(s_open(fx, 2, &splits, true), 0);
    s_drain(fx, 800 + again, 7);
    s_quiet(fx, 100);
    for (uint32_t id = 0; id < 800; id++) {
        uint8_t want = before[id] && fx->part[id] == gone ? 2 : 1;
        if (fx->seen[id] != want) fail_msg("id %u read %u times, not %u", id, fx->seen[id], want);
    }
    wr_splits_release(&splits);
}

/* Reads every subtask until each says END; fails after T_WAIT_MS. */
static void s_until_end(fx_t *fx, uint32_t max)
{
    int64_t until = wr_now_ns() + T_WAIT_MS * T_MS;
    bool ended[T_P_MAX] = {false};
    for (uint32_t left = fx->p; left;) {
        for (uint32_t s = 0; s < fx->p; s++)
            if (!ended[s] && s_read(fx, s, max) == WR_SOURCE_END) ended[s] = true, left--;
        if (wr_now_ns() > until)
            fail_msg("%u subtasks did not end (%u records read)", left, fx->total);
        usleep(500);
    }
}

/* end: latest: the source ends where the partitions ended when it started (an empty one at
 * once), also when restored from a checkpoint, whatever came since. */
static void test_bounded(void **state)
{
    fx_t *fx = *state;
    static const int32_t three[] = {0, 1, 2};
    s_records(fx, 0, 400, 2, three, 3, 1000); /* partition 3 stays empty */
    fx->cfg.end = WR_KAFKA_END_LATEST;
    assert_int_equal(s_open(fx, 2, NULL, true), 0);
    s_until_end(fx, T_BATCH);
    s_expect(fx, 0, 400);

    /* a checkpoint part of the way, more records into every partition, a restore at 3 */
    s_forget(fx);
    assert_int_equal(s_open(fx, 2, NULL, true), 0);
    s_drain(fx, 150, 4);
    wr_splits_t splits = {0};
    s_snapshot(fx, 1, &splits);
    assert_int_equal(splits.n, T_PARTS); /* the empty partition's (done) split too */
    s_close(fx);
    uint8_t before[T_IDS];
    memcpy(before, fx->seen, sizeof before);
    s_records(fx, 400, 100, 1, s_all, T_PARTS, 9000);
    assert_int_equal(s_open(fx, 3, &splits, true), 0);
    s_until_end(fx, 7);
    for (uint32_t id = 0; id < 500; id++)
        if (fx->seen[id] != (id < 400))
            fail_msg("id %u read %u times (%u before the checkpoint)", id, fx->seen[id],
                     before[id]);
    wr_splits_release(&splits);
    fx->cfg.end = WR_KAFKA_END_NONE;
}

static void test_start_latest_and_timestamp(void **state)
{
    fx_t *fx = *state;
    s_records(fx, 0, 40, 1, s_all, T_PARTS, 1000);
    fx->cfg.start = WR_KAFKA_START_LATEST;
    assert_int_equal(s_open(fx, 2, NULL, true), 0);
    s_quiet(fx, 200);
    s_records(fx, 40, 40, 1, s_all, T_PARTS, 2000);
    s_drain(fx, 40, T_BATCH);
    s_quiet(fx, 100);
    s_expect(fx, 40, 80);

    /* every message is older than start_time: the ends (the mock cannot say more, above) */
    s_forget(fx);
    fx->cfg.start = WR_KAFKA_START_TIMESTAMP;
    fx->cfg.start_time_ms = wr_wall_ms() + 3600 * 1000;
    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    s_quiet(fx, 200);
    s_records(fx, 80, 40, 1, s_all, T_PARTS, 3000);
    s_drain(fx, 40, T_BATCH);
    s_expect(fx, 80, 120);
}

/* The group's committed offsets of one partition, or RD_KAFKA_OFFSET_INVALID. */
static int64_t s_committed(fx_t *fx, int32_t partition)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", fx->bootstrap, why, sizeof why);
    rd_kafka_conf_set(conf, "group.id", fx->cfg.group, why, sizeof why);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, T_TOPIC, partition);
    assert_int_equal(rd_kafka_committed(rk, l, T_WAIT_MS), 0);
    int64_t offset = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return offset;
}

/* A completed checkpoint's offsets go to the group (subtask 0's only here): those its own
 * snapshot listed, not a later one's. A job started from the committed offsets reads on from
 * there, and from the start where the group has none. */
static void test_start_committed(void **state)
{
    fx_t *fx = *state;
    s_records(fx, 0, 400, 1, s_all, T_PARTS, 1000);
    assert_int_equal(s_open(fx, 2, NULL, true), 0);
    for (int64_t until = wr_now_ns() + T_WAIT_MS * T_MS; fx->by[0] < 60 || fx->by[1] < 60;) {
        for (uint32_t s = 0; s < 2; s++)
            if (fx->by[s] < 60) s_read(fx, s, 3);
        if (wr_now_ns() > until) fail_msg("%u and %u records read", fx->by[0], fx->by[1]);
    }
    wr_splits_t splits = {0}, later = {0};
    s_snapshot(fx, 5, &splits);
    uint8_t at5[T_IDS];
    memcpy(at5, fx->seen, sizeof at5);
    for (int k = 0; k < 10; k++) /* read on, and snapshot again: checkpoint 6 never completes */
        s_read(fx, 0, 3);
    s_snapshot(fx, 6, &later);
    wr_splits_release(&later);
    wr_source_checkpoint_done(fx->src[0], 5);
    for (uint32_t i = 0; i < splits.n; i++) {
        int32_t n = s_partition(splits.v[i].id);
        uint64_t offset;
        assert_int_equal(wr_split_position_read(&splits.v[i], &offset, 1), 0);
        int64_t want = s_owner(n, 2) == 0 ? (int64_t)offset : RD_KAFKA_OFFSET_INVALID;
        int64_t got = s_committed(fx, n);
        for (int64_t until = wr_now_ns() + T_WAIT_MS * T_MS; got != want && wr_now_ns() < until;
             got = s_committed(fx, n))
            usleep(10000);
        if (got != want)
            fail_msg("partition %d: committed %lld, not %lld", n, (long long)got, (long long)want);
    }
    wr_splits_release(&splits);
    s_close(fx);

    /* read again: subtask 1's partitions from the start, subtask 0's after checkpoint 5 */
    uint8_t first[T_IDS];
    memcpy(first, fx->seen, sizeof first);
    uint32_t want_total = fx->total;
    for (uint32_t id = 0; id < 400; id++)
        want_total += s_owner(fx->part[id], 2) == 1 || !at5[id];
    assert_true(want_total > 400 + 60);
    fx->cfg.start = WR_KAFKA_START_COMMITTED;
    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    s_drain(fx, want_total, T_BATCH);
    s_quiet(fx, 100);
    for (uint32_t id = 0; id < 400; id++) {
        uint8_t want = first[id] + (s_owner(fx->part[id], 2) == 1 || !at5[id]);
        if (fx->seen[id] != want) fail_msg("id %u read %u times, not %u", id, fx->seen[id], want);
    }
}

/* The source's event time, INT64_MIN while unknown. */
static int64_t s_event_time(fx_t *fx)
{
    int64_t t;
    return wr_source_event_time(fx->src[0], &t) ? t : INT64_MIN;
}

/* One record to each of partitions 0-2 at event time ts, read. */
static void s_tick(fx_t *fx, uint32_t *id, int64_t ts)
{
    uint32_t want = fx->total + 3;
    for (int32_t p = 0; p < 3; p++)
        s_records(fx, (*id)++, 1, 1, &p, 1, ts);
    s_drain(fx, want, T_BATCH);
}

/* Partition 3 has nothing: it holds the event time back until idle_timeout, then not; a record
 * wakes it, and it holds the event time back again until it has been quiet that long. */
static void test_idle_partition(void **state)
{
    fx_t *fx = *state;
    fx->cfg.idle_timeout_ms = 800;
    const int64_t slack = 10 * T_MS; /* the reader's clock is a coarse one */
    int64_t start = wr_now_ns(), known = 0;
    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    uint32_t id = 0;
    int64_t ts = 1000;
    while (s_event_time(fx) == INT64_MIN) {
        s_tick(fx, &id, ts += 10);
        if (wr_now_ns() - start > 5000 * T_MS) fail_msg("the event time stays unknown");
        usleep(20000);
    }
    known = wr_now_ns() - start;
    assert_true(known >= 800 * T_MS - slack);
    assert_int_equal(s_event_time(fx), ts); /* partitions 0-2's latest */

    /* woken: partition 3's record holds the others back */
    int64_t woke = wr_now_ns(), low = ts + 5;
    int32_t three = 3;
    s_records(fx, id++, 1, 1, &three, 1, low);
    s_drain(fx, fx->total + 1, T_BATCH);
    for (int k = 0; k < 3; k++) {
        s_tick(fx, &id, ts += 10);
        assert_int_equal(s_event_time(fx), low);
    }
    assert_true(wr_now_ns() - woke < 800 * T_MS);
    /* quiet again: released after idle_timeout */
    while (s_event_time(fx) == low) {
        s_tick(fx, &id, ts += 10);
        usleep(20000);
    }
    assert_true(wr_now_ns() - woke >= 800 * T_MS - slack);
    assert_int_equal(s_event_time(fx), ts);
    s_expect(fx, 0, id);
}

/* Subtasks that start without partitions (the mock cannot add some to a topic, above) find those
 * the rule gives them at the first discovery and read them from their first offset; later rounds
 * take none twice. */
static void test_discovery(void **state)
{
    fx_t *fx = *state;
    s_records(fx, 0, 200, 2, s_all, T_PARTS, 1000);
    fx->cfg.discovery_interval_ms = 100;
    assert_int_equal(s_open(fx, 2, NULL, false), 0); /* never started: no splits */
    s_quiet(fx, 50);
    assert_int_equal(fx->total, 0);
    s_drain(fx, 200, T_BATCH);
    s_quiet(fx, 350); /* three discovery rounds more */
    s_expect(fx, 0, 200);
    wr_splits_t splits = {0};
    s_snapshot(fx, 0, &splits);
    assert_int_equal(splits.n, T_PARTS);
    wr_splits_release(&splits);
}

static void s_send_text(fx_t *fx, int32_t partition, const char *text)
{
    s_send(fx, partition, text, strlen(text), 0);
}

static void test_bad_lines_fail_or_skip(void **state)
{
    fx_t *fx = *state;
    int32_t one = 1;
    s_records(fx, 0, 2, 2, &one, 1, 1000); /* offset 0 */
    fx->part[2] = fx->part[3] = fx->part[4] = 1;
    fx->ts[2] = 1002, fx->ts[3] = 1003, fx->ts[4] = 1004;
    char big[1200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s_send_text(fx, 1,
                "{\"id\": 2, \"ts\": 1002, \"dev\": \"d2\"}\n"
                "{\"id\": 9, \"ts\": \"soon\", \"dev\": \"d2\"}\n"
                "{\"id\": 3, \"ts\": 1003, \"dev\": \"d3\"}");        /* offset 1 */
    s_send_text(fx, 1, big);                                          /* offset 2 */
    s_send_text(fx, 1, "{\"id\": 4, \"ts\": 1004, \"dev\": \"d4\"}"); /* offset 3 */
    s_send(fx, 1, NULL, 0, 0);    /* offset 4: no value, no lines */
    s_send_text(fx, 1, "\n\r\n"); /* offset 5: blank lines */
    s_flush(fx);

    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    wr_source_status_t st;
    int rc = 0;
    for (int64_t until = wr_now_ns() + T_WAIT_MS * T_MS; !rc && wr_now_ns() < until;) {
        wr_strbuf_reset(&fx->err);
        rc = wr_source_next(fx->src[0], T_BATCH, 0, &st, &fx->err);
    }
    assert_int_equal(rc, WR_EPROTO);
    const char *want = T_TOPIC "/1@1:2: ts: ";
    if (strncmp(fx->err.buf, want, strlen(want)))
        fail_msg("'%s' is not '%s...'", fx->err.buf, want);

    fx->cfg.on_error = WR_TEXTIN_SKIP;
    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    s_drain(fx, 5, T_BATCH);
    s_quiet(fx, 50);
    s_expect(fx, 0, 5);
    assert_int_equal(wr_source_skipped(fx->src[0]), 2); /* the bad time, the long line */
    wr_splits_t splits = {0};                           /* every message read, the empty ones too */
    s_snapshot(fx, 0, &splits);
    for (uint32_t i = 0; i < splits.n; i++) {
        uint64_t offset;
        assert_int_equal(wr_split_position_read(&splits.v[i], &offset, 1), 0);
        assert_int_equal(offset, s_partition(splits.v[i].id) == 1 ? 6 : 0);
    }
    wr_splits_release(&splits);
}

static void test_csv(void **state)
{
    fx_t *fx = *state;
    fx->cfg.format = WR_TEXTIN_CSV;
    for (uint32_t id = 0; id < 40; id++) {
        fx->part[id] = (int32_t)(id % T_PARTS);
        fx->ts[id] = 1000 + id;
        char line[64];
        snprintf(line, sizeof line, "%u,%u,d%u\n%s", id, 1000 + id, id % 7, id % 3 ? "" : "\n");
        s_send_text(fx, fx->part[id], line);
    }
    s_flush(fx);
    assert_int_equal(s_open(fx, 2, NULL, true), 0);
    s_drain(fx, 40, T_BATCH);
    s_quiet(fx, 50);
    s_expect(fx, 0, 40);

    /* a header: refused (from the bus, without a message) */
    wr_param_check_t ck = {.p = wr_kafka_source_class.params, .n = wr_kafka_source_class.nparams};
    assert_int_equal(wr_kafka_source_class.check(&fx->cfg, &ck), 0);
    fx->cfg.header = true;
    assert_int_equal(wr_kafka_source_class.check(&fx->cfg, &ck), WR_EPROTO);
}

static void test_missing_topic_and_bad_property(void **state)
{
    fx_t *fx = *state;
    fx->cfg.topics = T_TOPIC "\nnope";
    assert_int_equal(s_open(fx, 1, NULL, true), WR_ENOTFOUND);
    char want[512];
    snprintf(want, sizeof want, "kafka source: topic 'nope' does not exist on %s", fx->bootstrap);
    assert_string_equal(fx->err.buf, want);
    /* and no broker made it on the way */
    const struct rd_kafka_metadata *md;
    assert_int_equal(rd_kafka_metadata(fx->producer, 1, NULL, &md, T_WAIT_MS), 0);
    assert_int_equal(md->topic_cnt, 1);
    assert_string_equal(md->topics[0].topic, T_TOPIC);
    rd_kafka_metadata_destroy(md);

    fx->cfg.topics = T_TOPIC;
    fx->cfg.properties = "fetch.wait.max.ms=10\nno.such.property=1";
    assert_int_equal(s_open(fx, 1, NULL, true), WR_ECONFIG);
    assert_null(fx->src[0]);
    assert_non_null(strstr(fx->err.buf, "properties: no.such.property: "));
    wr_param_check_t ck = {.p = wr_kafka_source_class.params, .n = wr_kafka_source_class.nparams};
    assert_int_equal(wr_kafka_source_class.check(&fx->cfg, &ck), WR_EPROTO);
}

/* Positions from a checkpoint are untrusted: another topic's partition, one twice, a position
 * that is no offset. */
static void test_foreign_positions(void **state)
{
    fx_t *fx = *state;
    static const struct {
        const char *id, *pos;
        size_t len;
        const char *says;
    } bad[] = {
        {"other/0", "\x91\x05", 2, "split 'other/0' is no partition"},
        {T_TOPIC "/01", "\x91\x05", 2, "split '" T_TOPIC "/01' is no partition"},
        {T_TOPIC "/1", "\x91\x05", 2, "holds " T_TOPIC "/1 twice"},
        {T_TOPIC "/2", "\x92\x05\x00", 3, "position of " T_TOPIC "/2 is no offset"},
        {T_TOPIC "/2", "\x91\xa1x", 3, "position of " T_TOPIC "/2 is no offset"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wr_splits_t splits = {0};
        assert_int_equal(wr_splits_add(&splits, T_TOPIC "/1", "\x91\x05", 2, INT64_MIN), 0);
        assert_int_equal(wr_splits_add(&splits, bad[i].id, bad[i].pos, bad[i].len, INT64_MIN), 0);
        assert_int_equal(s_open(fx, 1, &splits, true), WR_EPROTO);
        if (!strstr(fx->err.buf, bad[i].says)) fail_msg("%zu: '%s'", i, fx->err.buf);
        wr_splits_release(&splits);
    }
}

/* The leader of partitions 0 and 1 down for a while: the others are read on, then everything,
 * each once. */
static void test_broker_down(void **state)
{
    fx_t *fx = *state;
    static const int32_t leader[T_PARTS] = {1, 1, 2, 3};
    for (int32_t p = 0; p < T_PARTS; p++)
        assert_int_equal(rd_kafka_mock_partition_set_leader(fx->mock, T_TOPIC, p, leader[p]), 0);
    fx->cfg.properties = "fetch.wait.max.ms=10\nreconnect.backoff.max.ms=200";
    s_records(fx, 0, 200, 2, s_all, T_PARTS, 1000);
    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    s_drain(fx, 200, T_BATCH);

    assert_int_equal(rd_kafka_mock_broker_set_down(fx->mock, 1), 0);
    static const int32_t up[] = {2, 3}, down[] = {0, 1};
    s_records(fx, 200, 100, 2, up, 2, 2000);
    for (uint32_t k = 0; k < 100; k++) { /* (delivered once the broker is back) */
        uint32_t id = 300 + k;
        fx->part[id] = down[k % 2];
        fx->ts[id] = 3000 + k;
        char text[64];
        snprintf(text, sizeof text, "{\"id\": %u, \"ts\": %u, \"dev\": \"d%u\"}", id, 3000 + k,
                 id % 7);
        s_send_text(fx, fx->part[id], text);
    }
    s_drain(fx, 300, T_BATCH);
    uint32_t waits = 0;
    for (int64_t until = wr_now_ns() + 1500 * T_MS; wr_now_ns() < until; usleep(1000))
        waits += s_read(fx, 0, T_BATCH) == WR_SOURCE_WAIT;
    assert_int_equal(fx->total, 300);
    assert_true(waits > 100);

    assert_int_equal(rd_kafka_mock_broker_set_up(fx->mock, 1), 0);
    s_flush(fx);
    s_drain(fx, 400, T_BATCH);
    s_quiet(fx, 200);
    s_expect(fx, 0, 400);
}

/* A subtask closed while every broker is down, the commit of a completed checkpoint's offsets in
 * flight, is closed within the source's close wait (2 s), the rest of librdkafka's close going on
 * in the background. librdkafka's own close waits for the commit's answer, with the brokers down
 * up to socket.timeout.ms (60 s), and held the TaskManager's worker that long (a `weir local`
 * whose job ended while its brokers were down crashed behind it). */
static void test_close_with_the_brokers_down(void **state)
{
    fx_t *fx = *state;
    fx->cfg.properties = "fetch.wait.max.ms=10\nreconnect.backoff.max.ms=200";
    s_records(fx, 0, 200, 2, s_all, T_PARTS, 1000);
    assert_int_equal(s_open(fx, 1, NULL, true), 0);
    s_drain(fx, 200, T_BATCH);
    wr_splits_t splits = {0};
    s_snapshot(fx, 1, &splits);
    wr_splits_release(&splits);
    for (int32_t b = 1; b <= 3; b++)
        assert_int_equal(rd_kafka_mock_broker_set_down(fx->mock, b), 0);
    wr_source_checkpoint_done(fx->src[0], 1); /* the commit, which cannot be answered */
    int64_t t0 = wr_now_ns();
    s_close(fx);
    long long ms = (long long)((wr_now_ns() - t0) / T_MS);
    print_message("  closed in %lld ms with the brokers down\n", ms);
    if (ms > 4000) fail_msg("closing the source took %lld ms with the brokers down", ms);
    for (int32_t b = 1; b <= 3; b++)
        assert_int_equal(rd_kafka_mock_broker_set_up(fx->mock, b), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_record_once_by_its_owner),
        T(test_restore_reads_the_rest_once),
        T(test_bounded),
        T(test_start_latest_and_timestamp),
        T(test_start_committed),
        T(test_idle_partition),
        T(test_discovery),
        T(test_bad_lines_fail_or_skip),
        T(test_csv),
        T(test_missing_topic_and_bad_property),
        T(test_foreign_positions),
        T(test_broker_down),
        T(test_close_with_the_brokers_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
