/* The Kafka sink (actors/connectors/kafka/kafka_sink.h) against librdkafka's mock cluster: 3
 * brokers in this process for the whole group (made by its setup, destroyed by its teardown
 * whatever happened), a topic of 4 partitions of its own for each test, and a transaction-log
 * folder that the test's teardown removes.
 *
 * Records 0, 1, 2, ... are {"id":i,"dev":"d<i%7>","v":i.5}. The oracle reads the whole topic back
 * (every message, aborted ones too: this mock does not hide them) and counts record i's messages:
 * at least once, each must arrive with its value and key; exactly once, each must be in exactly
 * one committed transaction (its weir.txn header in the committed set of the transaction logs).
 * Crashes are a writer closed without commit; recovery runs the class's recover as the
 * JobManager does before an attempt starts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/cluster/cluster.h"
#include "actors/connectors/kafka/kafka.h"
#include "actors/connectors/kafka/kafka_sink.h"
#include "actors/connectors/kafka/kafka_txnlog.h"
#include "actors/connectors/sink.h"
#include "bus/base/error.h"
#include "bus/base/path.h"
#include "tests/support/wait.h"

#define MAX_ID       4096
#define PARTITIONS   4
#define API_PRODUCE  0 /* Kafka protocol ApiKeys */
#define API_METADATA 3
#define API_END_TXN  26

/* The group's: one mock cluster for every test (destroying one can take a second). */
typedef struct {
    rd_kafka_t *mrk; /* the mock cluster's handle */
    rd_kafka_mock_cluster_t *mc;
    char bootstrap[256];
    int topics; /* made so far: each test writes its own */
} s_mock_t;

typedef struct {
    s_mock_t *mock;
    rd_kafka_mock_cluster_t *mc;
    bool brokers_down, end_txn_error, produce_error; /* what the teardown undoes */
    char topic[16];
    char dir[64];
    char txn_log[96];
    wr_schema_t schema;
    wr_kafka_sink_config_t cfg;
} fx_t;

static int s_group_setup(void **state)
{
    s_mock_t *m = calloc(1, sizeof *m);
    if (!m) return -1;
    *state = m;
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", why, sizeof why);
    if (!(m->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why))) return -1;
    if (!(m->mc = rd_kafka_mock_cluster_new(m->mrk, 3))) return -1;
    /* at Metadata v4 the mock honours allow.auto.create.topics=false (v2 creates any topic) */
    rd_kafka_mock_set_apiversion(m->mc, API_METADATA, 0, 4);
    snprintf(m->bootstrap, sizeof m->bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
    return 0;
}

static int s_group_teardown(void **state)
{
    s_mock_t *m = *state;
    if (m && m->mc) rd_kafka_mock_cluster_destroy(m->mc);
    if (m && m->mrk) rd_kafka_destroy(m->mrk);
    free(m);
    return 0;
}

/* Makes topic by asking for it: the mock creates a topic a client that allows it asks for (4
 * partitions, 3 replicas), at once; rd_kafka_mock_topic_create and the mock's other calls queue
 * an operation that its thread sometimes serves only a second later. */
static int s_make_topic(const char *bootstrap, const char *topic)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why) ||
        rd_kafka_conf_set(conf, "allow.auto.create.topics", "true", why, sizeof why))
        return -1;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) return -1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int rc = rd_kafka_metadata(rk, 0, rkt, &md, 5000) ? -1 : 0;
    if (!rc && (md->topic_cnt != 1 || md->topics[0].partition_cnt != PARTITIONS)) rc = -1;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

static int s_setup(void **state)
{
    s_mock_t *m = *state;
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;
    fx->mock = m;
    fx->mc = m->mc;
    snprintf(fx->topic, sizeof fx->topic, "out%d", m->topics++);
    if (s_make_topic(m->bootstrap, fx->topic)) return -1;
    strcpy(fx->dir, "/tmp/test_kafka_sink.XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    snprintf(fx->txn_log, sizeof fx->txn_log, "%s/txn", fx->dir);
    wr_schema_init(&fx->schema);
    wr_schema_add(&fx->schema, "id", WR_T_INT);
    wr_schema_add(&fx->schema, "dev", WR_T_STRING);
    wr_schema_add(&fx->schema, "v", WR_T_DOUBLE);
    fx->cfg = (wr_kafka_sink_config_t){.bootstrap = m->bootstrap,
                                       .topic = fx->topic,
                                       .key = "dev",
                                       .guarantee = WR_KAFKA_AT_LEAST_ONCE,
                                       .txn_prefix = "t",
                                       .txn_log = fx->txn_log};
    return 0;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    int rc = fx->dir[0] == '/' ? nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS) : 0;
    /* what the test did to the brokers, undone whatever happened */
    for (int b = 1; fx->brokers_down && b <= 3; b++)
        rd_kafka_mock_broker_set_up(fx->mc, b);
    if (fx->end_txn_error) rd_kafka_mock_clear_request_errors(fx->mc, API_END_TXN);
    if (fx->produce_error) rd_kafka_mock_clear_request_errors(fx->mc, API_PRODUCE);
    free(fx);
    return rc;
}

static void s_exactly_once(fx_t *fx)
{
    fx->cfg.guarantee = WR_KAFKA_EXACTLY_ONCE;
}

/* ---- writing ---- */

static wr_sink_t *s_open_rc(const fx_t *fx, uint32_t attempt, uint32_t subtask, int *rc,
                            wr_strbuf_t *err)
{
    wr_sink_open_t o = {
        .schema = &fx->schema, .attempt = attempt, .subtask = subtask, .parallelism = 2};
    return wr_sink_open(&wr_kafka_sink_class, &fx->cfg, &o, rc, err);
}

static wr_sink_t *s_open(const fx_t *fx, uint32_t attempt, uint32_t subtask)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = 0;
    wr_sink_t *s = s_open_rc(fx, attempt, subtask, &rc, &err);
    if (!s) fprintf(stderr, "open: %s: %s\n", wr_strerror(rc), err.buf);
    assert_non_null(s);
    wr_strbuf_release(&err);
    return s;
}

/* Writes records lo..hi-1 as one batch. */
static void s_write(const fx_t *fx, wr_sink_t *s, int64_t lo, int64_t hi)
{
    wr_batch_t *b = wr_batch_new(&fx->schema, (uint32_t)(hi - lo));
    assert_non_null(b);
    for (int64_t i = lo; i < hi; i++) {
        char dev[16];
        snprintf(dev, sizeof dev, "d%d", (int)(i % 7));
        wr_batch_i64(b, 0)[b->count] = i;
        assert_int_equal(wr_batch_push_str(b, 1, dev, (uint32_t)strlen(dev)), 0);
        wr_batch_f64(b, 2)[b->count++] = (double)i + 0.5;
    }
    int rc = wr_sink_write(s, b, NULL, 0);
    if (rc) fprintf(stderr, "write: %s: %s\n", wr_strerror(rc), wr_sink_failed_on(s));
    assert_int_equal(rc, 0);
    wr_batch_destroy(&b);
}

static void s_precommit(wr_sink_t *s, uint64_t id, wr_strbuf_t *committable)
{
    wr_strbuf_init(committable);
    int rc = wr_sink_precommit(s, id, committable);
    if (rc) fprintf(stderr, "precommit: %s: %s\n", wr_strerror(rc), wr_sink_failed_on(s));
    assert_int_equal(rc, 0);
}

static void s_commit(wr_sink_t *s, uint64_t id)
{
    int rc = wr_sink_commit(s, id);
    if (rc) fprintf(stderr, "commit: %s: %s\n", wr_strerror(rc), wr_sink_failed_on(s));
    assert_int_equal(rc, 0);
}

/* The transactions a committable lists. */
static uint32_t s_listed(const fx_t *fx, const wr_strbuf_t *c)
{
    wr_kafka_pending_t *p = NULL;
    uint32_t n = 0;
    assert_int_equal(
        wr_kafka_committable_decode(fx->cfg.txn_prefix, (const uint8_t *)c->buf, c->len, &p, &n),
        0);
    free(p);
    return n;
}

/* The class's recover over committables c[0, n) before attempt `attempt`. */
static int s_recover(const fx_t *fx, const wr_strbuf_t *c, uint32_t n, uint32_t attempt,
                     wr_strbuf_t *why)
{
    const uint8_t *p[4];
    size_t len[4];
    assert_true(n <= 4);
    for (uint32_t i = 0; i < n; i++) {
        p[i] = (const uint8_t *)c[i].buf;
        len[i] = c[i].len;
    }
    wr_sink_recover_t r = {.states = p, .lens = len, .n = n, .attempt = attempt};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_kafka_sink_class.recover(&fx->cfg, &r, &err);
    assert_true(rc == 0 ? err.len == 0 : err.len > 0); /* a failure says why */
    if (rc) fprintf(stderr, "recover: %s: %s\n", wr_strerror(rc), err.buf);
    if (why) wr_strbuf_adds(why, err.buf);
    wr_strbuf_release(&err);
    return rc;
}

/* ---- the oracle ---- */

typedef struct {
    int count[MAX_ID]; /* messages of record i (exactly once: in committed transactions) */
    int uncommitted;   /* exactly once: messages of transactions not committed */
    int with_header;   /* messages carrying weir.txn */
} s_seen_t;

static void s_expect_value(int64_t i, char *out, size_t cap)
{
    snprintf(out, cap, "{\"id\":%lld,\"dev\":\"d%d\",\"v\":%lld.5}", (long long)i, (int)(i % 7),
             (long long)i);
}

/* Checks message m against record i's value and key (key_field: "dev", "id" or ""). */
static int64_t s_check_message(const rd_kafka_message_t *m, const char *key_field)
{
    long long id = -1;
    char value[256], want[256];
    assert_true(m->len < sizeof value);
    memcpy(value, m->payload, m->len);
    value[m->len] = '\0';
    assert_int_equal(sscanf(value, "{\"id\":%lld,", &id), 1);
    assert_true(id >= 0 && id < MAX_ID);
    s_expect_value(id, want, sizeof want);
    assert_string_equal(value, want);
    char key[32] = "";
    if (!strcmp(key_field, "dev")) snprintf(key, sizeof key, "d%d", (int)(id % 7));
    if (!strcmp(key_field, "id")) snprintf(key, sizeof key, "%lld", id);
    assert_int_equal(m->key_len, strlen(key));
    if (key[0])
        assert_memory_equal(m->key, key, m->key_len);
    else
        assert_null(m->key);
    return id;
}

/* Reads the whole topic into *seen; exactly once (log non-NULL), counts only messages of
 * committed transactions. */
static void s_read(const fx_t *fx, const wr_kafka_txnlog_t *log, s_seen_t *seen)
{
    memset(seen, 0, sizeof *seen);
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(
        rd_kafka_conf_set(conf, "bootstrap.servers", fx->mock->bootstrap, why, sizeof why),
        RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "group.id", "test", why, sizeof why);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why, sizeof why);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof why);
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", why, sizeof why);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, fx->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, fx->topic, NULL);
    const struct rd_kafka_metadata *md = NULL; /* now, not at the next 1 s topic scan */
    assert_int_equal(rd_kafka_metadata(rk, 0, rkt, &md, 5000), 0);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    assert_int_equal(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    int eof = 0;
    int64_t deadline = wr_test_now_ms() + 10000;
    while (eof < PARTITIONS && wr_test_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof++;
        } else {
            assert_int_equal(m->err, 0);
            int64_t id = s_check_message(m, fx->cfg.key);
            rd_kafka_headers_t *h = NULL;
            const void *txn = NULL;
            size_t len = 0;
            if (!rd_kafka_message_headers(m, &h) &&
                !rd_kafka_header_get_last(h, WR_KAFKA_TXN_HEADER, &txn, &len))
                seen->with_header++;
            if (!log)
                seen->count[id]++;
            else if (txn && wr_kafka_txnlog_committed(log, fx->cfg.txn_prefix, txn, len))
                seen->count[id]++;
            else
                seen->uncommitted++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    assert_int_equal(eof, PARTITIONS);
}

/* Records [lo, hi) counted once each, every other record never. */
static void s_expect(const s_seen_t *seen, int64_t lo, int64_t hi)
{
    for (int64_t i = 0; i < MAX_ID; i++) {
        int want = i >= lo && i < hi;
        if (seen->count[i] != want)
            fprintf(stderr, "record %lld: %d messages, want %d\n", (long long)i, seen->count[i],
                    want);
        assert_int_equal(seen->count[i], want);
    }
}

/* Exactly once: records [lo, hi) each in exactly one committed transaction. Returns how many
 * messages were in transactions not committed. */
static int s_expect_committed(const fx_t *fx, int64_t lo, int64_t hi)
{
    wr_kafka_txnlog_t log;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_kafka_txnlog_load(fx->txn_log, fx->cfg.txn_prefix, &log, &err), 0);
    wr_strbuf_release(&err);
    s_seen_t *seen = malloc(sizeof *seen);
    assert_non_null(seen);
    s_read(fx, &log, seen);
    s_expect(seen, lo, hi);
    int uncommitted = seen->uncommitted;
    assert_int_equal(seen->with_header, (int)(hi - lo) + uncommitted); /* every one has it */
    free(seen);
    wr_kafka_txnlog_release(&log);
    return uncommitted;
}

/* Files of the transaction log folder whose names end in suffix. */
static int s_files(const fx_t *fx, const char *suffix)
{
    DIR *d = opendir(fx->txn_log);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name), slen = strlen(suffix);
        n += len >= slen && !strcmp(e->d_name + len - slen, suffix);
    }
    if (d) closedir(d);
    return n;
}

/* The bytes of a file of the folder ("" when missing). */
static void s_file(const fx_t *fx, const char *name, wr_strbuf_t *out)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fx->txn_log, name);
    wr_strbuf_init(out);
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        wr_strbuf_add(out, buf, n);
    if (f) fclose(f);
}

/* ---- at least once ---- */

/* Reads the topic and expects records [lo, hi) once each. */
static void s_expect_topic(const fx_t *fx, int64_t lo, int64_t hi)
{
    s_seen_t *seen = malloc(sizeof *seen);
    assert_non_null(seen);
    s_read(fx, NULL, seen);
    s_expect(seen, lo, hi);
    assert_int_equal(seen->with_header, 0); /* no transactions */
    free(seen);
}

/* Two writers, several batches and barriers: at each barrier every record written before it is
 * in the topic (linger.ms would hold them back for 3 s otherwise), once, its value the record's
 * JSON, its key its dev field. */
static void test_at_least_once(void **state)
{
    fx_t *fx = *state;
    fx->cfg.properties = "linger.ms=3000";
    wr_sink_t *a = s_open(fx, 0, 0), *b = s_open(fx, 0, 1);
    s_write(fx, a, 0, 100);
    s_write(fx, b, 100, 250);
    assert_int_equal(wr_sink_barrier(a, 1), 0);
    assert_int_equal(wr_sink_barrier(b, 1), 0);
    s_expect_topic(fx, 0, 250);
    s_write(fx, a, 250, 300);
    s_write(fx, b, 300, 301);
    s_write(fx, a, 301, 600);
    assert_int_equal(wr_sink_barrier(a, 2), 0);
    assert_int_equal(wr_sink_flush(b), 0);
    s_expect_topic(fx, 0, 600);
    wr_sink_destroy(&a);
    wr_sink_destroy(&b);
    assert_int_equal(s_files(fx, ""), 0); /* no log folder at least once */
}

/* A key field that is not a string: its JSON text. A producer queue of 8 messages: the writer
 * waits for room (backpressure), it drops nothing. */
static void test_int_key_and_backpressure(void **state)
{
    fx_t *fx = *state;
    snprintf(fx->cfg.key, sizeof fx->cfg.key, "id");
    fx->cfg.properties = "queue.buffering.max.messages=8";
    wr_sink_t *s = s_open(fx, 0, 0);
    s_write(fx, s, 0, 500);
    assert_int_equal(wr_sink_flush(s), 0);
    wr_sink_destroy(&s);
    s_expect_topic(fx, 0, 500);
}

/* A message the brokers refuse fails the barrier, saying why, and every call after it. */
static void test_delivery_failure_fails_the_barrier(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_open(fx, 0, 0);
    fx->produce_error = true;
    rd_kafka_mock_push_request_errors(
        fx->mc, API_PRODUCE, 4, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    s_write(fx, s, 0, 10);
    assert_int_equal(wr_sink_barrier(s, 1), WR_EIO);
    const char *why = wr_sink_failed_on(s);
    assert_non_null(why);
    assert_non_null(strstr(why, "messages not delivered: "));
    assert_int_equal(wr_sink_barrier(s, 2), WR_EIO);
    wr_sink_destroy(&s);
}

/* Open refuses what cannot work, saying why: a key field the records do not have, a topic the
 * brokers do not have (the sink does not create it), a property librdkafka does not know. */
static void test_open_errors(void **state)
{
    fx_t *fx = *state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = 0;
    snprintf(fx->cfg.key, sizeof fx->cfg.key, "device");
    assert_null(s_open_rc(fx, 0, 0, &rc, &err));
    assert_int_equal(rc, WR_EINVAL);
    assert_non_null(strstr(err.buf, "key: the records have no field 'device'"));
    snprintf(fx->cfg.key, sizeof fx->cfg.key, "dev");
    wr_strbuf_reset(&err);
    fx->cfg.topic = "missing";
    assert_null(s_open_rc(fx, 0, 0, &rc, &err));
    assert_int_equal(rc, WR_ENOTFOUND);
    assert_non_null(strstr(err.buf, "topic 'missing' does not exist on 127.0.0.1:"));
    fx->cfg.topic = fx->topic;
    for (int eo = 0; eo < 2; eo++) {
        fx->cfg.guarantee = eo ? WR_KAFKA_EXACTLY_ONCE : WR_KAFKA_AT_LEAST_ONCE;
        wr_strbuf_reset(&err);
        fx->cfg.properties = "linger.ms=5\nno.such.property=1";
        assert_null(s_open_rc(fx, 0, 0, &rc, &err));
        assert_int_equal(rc, WR_ECONFIG);
        assert_non_null(strstr(err.buf, "properties: no.such.property: "));
        wr_strbuf_reset(&err);
        fx->cfg.properties = "acks=0"; /* weir's own setting wins */
        wr_sink_t *s = s_open_rc(fx, 0, 0, &rc, &err);
        assert_non_null(s);
        wr_sink_destroy(&s);
        fx->cfg.properties = NULL;
    }
    wr_strbuf_release(&err);
}

/* ---- exactly once ---- */

/* Two writers over checkpoints 1..3 and the final one, a commit arriving after the next
 * precommit: each record in exactly one committed transaction, and nothing left but the logs. */
static void test_exactly_once(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    fx->cfg.key[0] = '\0'; /* no key */
    wr_sink_t *w[2] = {s_open(fx, 0, 0), s_open(fx, 0, 1)};
    wr_strbuf_t c;
    int64_t next = 0;
    for (uint64_t ckpt = 1; ckpt <= 4; ckpt++) {
        uint64_t id = ckpt == 4 ? WR_CKPT_FINAL : ckpt;
        for (int i = 0; i < 2; i++) {
            s_write(fx, w[i], next, next + 60);
            s_write(fx, w[i], next + 60, next + 100);
            next += 100;
            s_precommit(w[i], id, &c);
            /* this one and, until its commit comes, the one before */
            assert_int_equal(s_listed(fx, &c), ckpt == 1 ? 1 : 2);
            wr_strbuf_release(&c);
            if (ckpt > 1) s_commit(w[i], ckpt - 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        s_precommit(w[i], WR_CKPT_FINAL, &c); /* nothing written since: nothing new */
        assert_int_equal(s_listed(fx, &c), 1);
        wr_strbuf_release(&c);
        s_commit(w[i], WR_CKPT_FINAL);
        s_commit(w[i], WR_CKPT_FINAL); /* again: harmless */
        wr_sink_destroy(&w[i]);
    }
    assert_int_equal(s_expect_committed(fx, 0, next), 0);
    assert_int_equal(s_files(fx, ".records"), 0);
    assert_int_equal(s_files(fx, ".log"), 2);
}

/* Attempt 0's writer: records [0, 100) pre-committed at checkpoint 1 and committed, [100, 200)
 * pre-committed at checkpoint 2, [200, 250) written and flushed (its messages reach the brokers,
 * uncommitted); then it crashes. c1, c2: the committables of checkpoints 1 and 2. */
static void s_crash_after_precommit_2(const fx_t *fx, wr_strbuf_t *c1, wr_strbuf_t *c2)
{
    wr_sink_t *s = s_open(fx, 0, 0);
    s_write(fx, s, 0, 100);
    s_precommit(s, 1, c1);
    s_commit(s, 1);
    s_write(fx, s, 100, 200);
    s_precommit(s, 2, c2);
    s_write(fx, s, 200, 250);
    assert_int_equal(wr_sink_flush(s), 0);
    wr_sink_destroy(&s); /* the crash */
}

/* The next attempt's writer, as a replay: records [lo, hi) committed at checkpoint ckpt. */
static void s_replay(const fx_t *fx, uint32_t attempt, int64_t lo, int64_t hi, uint64_t ckpt)
{
    wr_sink_t *s = s_open(fx, attempt, 0);
    wr_strbuf_t c;
    s_write(fx, s, lo, hi);
    s_precommit(s, ckpt, &c);
    s_commit(s, ckpt);
    wr_sink_destroy(&s);
    wr_strbuf_release(&c);
}

/* Checkpoint 2 completed, its commit never came: the writer crashed after its precommit (and
 * after writing more, a transaction the checkpoint does not cover). Recovery with checkpoint 2's
 * committable re-sends transaction 1 (checkpoint 2's) and aborts transaction 2; the next attempt
 * writes what came after checkpoint 2 again, as a replay would. */
static void test_crash_after_completed_checkpoint(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    wr_strbuf_t c1, c2, log, again;
    s_crash_after_precommit_2(fx, &c1, &c2);
    assert_int_equal(s_listed(fx, &c2), 1);
    wr_strbuf_t twice[2] = {c2, c2}; /* listed twice: re-sent once */
    assert_int_equal(s_recover(fx, twice, 2, 1, NULL), 0);
    s_replay(fx, 1, 200, 250, 3);
    s_file(fx, "t-recover-a1.log", &log);
    assert_string_equal(log.buf, "abort t-0-0-2\n"
                                 "redo t-0-0-1 as t-0-0-1-r1\n"
                                 "commit t-0-0-1-r1\n"
                                 "redone t-0-0-1\n");
    /* transaction 1's first send and transaction 2 are in the topic, not committed */
    assert_int_equal(s_expect_committed(fx, 0, 250), 150);
    assert_int_equal(s_files(fx, ".records"), 0);
    /* recovering again (the same attempt, or a later one from the same checkpoint) changes
     * nothing */
    assert_int_equal(s_recover(fx, &c2, 1, 1, NULL), 0);
    assert_int_equal(s_recover(fx, &c2, 1, 2, NULL), 0);
    s_file(fx, "t-recover-a1.log", &again);
    assert_string_equal(again.buf, log.buf);
    assert_int_equal(s_files(fx, ".log"), 3); /* two writers', one recovery's */
    assert_int_equal(s_expect_committed(fx, 0, 250), 150);
    wr_strbuf_release(&again);
    wr_strbuf_release(&log);
    wr_strbuf_release(&c1);
    wr_strbuf_release(&c2);
}

/* The same crash, but checkpoint 2 did not complete: the restore is from checkpoint 1, whose
 * committable lists transaction 0 (committed since), so transactions 1 and 2 are aborted and the
 * next attempt writes everything after checkpoint 1 again. */
static void test_crash_before_checkpoint_completed(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    wr_strbuf_t c1, c2;
    s_crash_after_precommit_2(fx, &c1, &c2);
    assert_int_equal(s_recover(fx, &c1, 1, 1, NULL), 0);
    assert_int_equal(s_files(fx, ".records"), 0);
    s_replay(fx, 1, 100, 250, 2);
    assert_int_equal(s_expect_committed(fx, 0, 250), 150);
    wr_strbuf_release(&c1);
    wr_strbuf_release(&c2);
}

/* A recovery that fails halfway (the brokers refuse its redo's commit) leaves a redo begun and
 * not committed; the next recovery (of a later attempt, from the same checkpoint) aborts it and
 * re-sends the transaction again, under its own id. */
static void test_recovery_fails_halfway(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    wr_strbuf_t c1, c2, log;
    s_crash_after_precommit_2(fx, &c1, &c2);
    fx->end_txn_error = true;
    rd_kafka_mock_push_request_errors(fx->mc, API_END_TXN, 1, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
    assert_int_equal(s_recover(fx, &c2, 1, 1, NULL), WR_ESTALE);
    fx->end_txn_error = false;
    s_file(fx, "t-recover-a1.log", &log);
    assert_string_equal(log.buf, "abort t-0-0-2\n"
                                 "redo t-0-0-1 as t-0-0-1-r1\n");
    wr_strbuf_release(&log);
    assert_int_equal(wr_kafka_sink_class.first_attempt(&fx->cfg), 2);
    assert_int_equal(s_recover(fx, &c2, 1, 2, NULL), 0);
    s_file(fx, "t-recover-a2.log", &log);
    assert_string_equal(log.buf, "abort t-0-0-1-r1\n"
                                 "redo t-0-0-1 as t-0-0-1-r2\n"
                                 "commit t-0-0-1-r2\n"
                                 "redone t-0-0-1\n");
    s_replay(fx, 2, 200, 250, 3);
    /* t-0-0-1's first send, its first redo, t-0-0-2 */
    assert_int_equal(s_expect_committed(fx, 0, 250), 100 + 100 + 50);
    wr_strbuf_release(&log);
    wr_strbuf_release(&c1);
    wr_strbuf_release(&c2);
}

/* A zombie: the old writer, still alive, commits after the recovery fenced its transaction and
 * re-sent it. The brokers answer that commit with a fencing error (this mock does not fence by
 * itself, so the test gives the answer a broker gives); the writer fails with it, translated,
 * and its transaction never counts. */
static void test_zombie_is_fenced(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    wr_sink_t *zombie = s_open(fx, 0, 0);
    wr_strbuf_t c1;
    s_write(fx, zombie, 0, 100);
    s_precommit(zombie, 1, &c1);
    assert_int_equal(s_recover(fx, &c1, 1, 1, NULL), 0);
    fx->end_txn_error = true;
    rd_kafka_mock_push_request_errors(fx->mc, API_END_TXN, 1, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
    assert_int_equal(wr_sink_commit(zombie, 1), WR_ESTALE);
    fx->end_txn_error = false; /* the commit took it */
    const char *why = wr_sink_failed_on(zombie);
    assert_non_null(why);
    char want[64];
    snprintf(want, sizeof want, "kafka topic %s, transaction t-0-0-0: ", fx->topic);
    assert_non_null(strstr(why, want));
    assert_non_null(strstr(why, "enced"));                  /* librdkafka's "Fenced"/"fenced" */
    assert_int_equal(wr_sink_commit(zombie, 1), WR_ESTALE); /* the writer is done */
    wr_sink_destroy(&zombie);
    assert_int_equal(s_expect_committed(fx, 0, 100), 100);
    wr_strbuf_release(&c1);
}

/* ---- the committer ---- */

/* A new job starts past every attempt the logs of its prefix show, and only its prefix's. */
static void test_first_attempt(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    assert_int_equal(wr_kafka_sink_class.first_attempt(&fx->cfg), 0);
    wr_sink_t *s = s_open(fx, 3, 1);
    wr_sink_destroy(&s);
    assert_int_equal(wr_kafka_sink_class.first_attempt(&fx->cfg), 4);
    fx->cfg.txn_prefix = "other";
    s = s_open(fx, 9, 0);
    wr_sink_destroy(&s);
    fx->cfg.txn_prefix = "t";
    assert_int_equal(wr_kafka_sink_class.first_attempt(&fx->cfg), 4);
    assert_int_equal(s_recover(fx, NULL, 0, 6, NULL), 0); /* nothing to do: no log */
    assert_int_equal(wr_kafka_sink_class.first_attempt(&fx->cfg), 4);
    fx->cfg.guarantee = WR_KAFKA_AT_LEAST_ONCE;
    assert_int_equal(wr_kafka_sink_class.first_attempt(&fx->cfg), 0);
}

/* Exactly once, the sink names its folder (for security.paths.sinks) and its prefix in it (two
 * running jobs may not share it); at least once, nothing. A prefix that cannot be a file name
 * and a transactional id is refused. */
static void test_resources_paths_and_prefix(void **state)
{
    fx_t *fx = *state;
    wr_strbuf_t got, want;
    wr_strbuf_init(&got);
    wr_strbuf_init(&want);
    wr_kafka_sink_class.resources(&fx->cfg, &got);
    wr_kafka_sink_class.paths(&fx->cfg, &got);
    assert_int_equal(got.len, 0);
    s_exactly_once(fx);
    wr_strbuf_adds(&want, "kafka-txn:");
    assert_int_equal(wr_path_canonical(fx->txn_log, &want), 0);
    wr_strbuf_adds(&want, "/t\n");
    wr_kafka_sink_class.resources(&fx->cfg, &got);
    assert_string_equal(got.buf, want.buf);
    wr_strbuf_reset(&got);
    wr_strbuf_reset(&want);
    assert_int_equal(wr_path_canonical(fx->txn_log, &want), 0);
    wr_strbuf_adds(&want, "/\n");
    wr_kafka_sink_class.paths(&fx->cfg, &got);
    assert_string_equal(got.buf, want.buf);
    wr_param_check_t bus = {.p = wr_kafka_sink_class.params, .n = wr_kafka_sink_class.nparams};
    assert_int_equal(wr_kafka_sink_class.check(&fx->cfg, &bus), 0);
    const char *bad[] = {
        "",   "a/b", ".hidden",
        "-x", "a b", "x2345678901234567890123456789012345678901234567890123456789012345"};
    fx->cfg.txn_prefix = "x234567890123456789012345678901234567890123456789012345678901234";
    assert_int_equal(wr_kafka_sink_class.check(&fx->cfg, &bus), 0); /* 64: the longest */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fx->cfg.txn_prefix = (char *)bad[i];
        assert_int_equal(wr_kafka_sink_class.check(&fx->cfg, &bus), WR_EPROTO);
    }
    wr_strbuf_release(&got);
    wr_strbuf_release(&want);
}

/* What comes back from checkpoints and files is checked: a committable that is not one, one of
 * the attempt being started, a log line that is not one. */
static void test_recover_refuses_bad_input(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    wr_strbuf_t c, why;
    wr_strbuf_init(&c);
    wr_strbuf_init(&why);
    wr_strbuf_adds(&c, "\x92\x01\x91\x93\xa7t-0-0-0"); /* cut short */
    assert_int_equal(s_recover(fx, &c, 1, 1, &why), WR_EPROTO);
    assert_non_null(strstr(why.buf, "kafka sink state 0 of 1"));
    wr_sink_t *s = s_open(fx, 1, 0);
    wr_strbuf_release(&c);
    s_write(fx, s, 0, 10);
    s_precommit(s, 1, &c);
    wr_sink_destroy(&s);
    assert_int_equal(s_recover(fx, &c, 1, 1, NULL), WR_EINVAL); /* attempt 1's own */
    char path[256];
    snprintf(path, sizeof path, "%s/t-s0-a1.log", fx->txn_log);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("commit t-0-1-7\n", f); /* never pre-committed */
    fclose(f);
    wr_strbuf_reset(&why);
    assert_int_equal(s_recover(fx, &c, 1, 2, &why), WR_EPROTO);
    assert_non_null(strstr(why.buf, "t-s0-a1.log:3: not a line of this transaction log"));
    wr_strbuf_release(&c);
    wr_strbuf_release(&why);
}

/* A spool that does not hold its transaction's records is refused, not sent: one a message
 * short, one with its last message torn. */
static void test_recover_refuses_a_short_spool(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    wr_strbuf_t c1, c2, why, spool;
    wr_strbuf_init(&why);
    s_crash_after_precommit_2(fx, &c1, &c2);
    s_file(fx, "t-0-0-1.records", &spool);
    wr_mp_reader_t r; /* where its last message starts */
    wr_mp_reader_init(&r, spool.buf, spool.len);
    const uint8_t *key, *value;
    uint32_t klen, vlen;
    size_t last = 0;
    for (;;) {
        size_t at = spool.len - wr_mp_remaining(&r);
        if (wr_kafka_spool_next(&r, &key, &klen, &value, &vlen) != 1) break;
        last = at;
    }
    assert_true(last > 0);
    char path[256];
    snprintf(path, sizeof path, "%s/t-0-0-1.records", fx->txn_log);
    assert_int_equal(truncate(path, (off_t)last), 0);
    assert_int_equal(s_recover(fx, &c2, 1, 1, &why), WR_EPROTO);
    assert_non_null(
        strstr(why.buf, "transaction t-0-0-1: its spool does not hold its 100 records"));
    assert_int_equal(truncate(path, (off_t)last - 1), 0);
    wr_strbuf_reset(&why);
    assert_int_equal(s_recover(fx, &c2, 1, 1, &why), WR_EPROTO);
    assert_non_null(
        strstr(why.buf, "transaction t-0-0-1: its spool does not hold its 100 records"));
    wr_strbuf_release(&spool);
    wr_strbuf_release(&why);
    wr_strbuf_release(&c1);
    wr_strbuf_release(&c2);
}

/* ---- broker trouble ---- */

/* Every broker down for a while in the middle of a transaction, then back: the writes wait and
 * go on, nothing is lost, nothing is doubled. */
static void test_brokers_down_for_a_while(void **state)
{
    fx_t *fx = *state;
    s_exactly_once(fx);
    fx->cfg.properties = "reconnect.backoff.max.ms=200"; /* back soon after the brokers */
    wr_sink_t *s = s_open(fx, 0, 0);
    wr_strbuf_t c;
    s_write(fx, s, 0, 100);
    fx->brokers_down = true;
    for (int b = 1; b <= 3; b++)
        assert_int_equal(rd_kafka_mock_broker_set_down(fx->mc, b), 0);
    s_write(fx, s, 100, 200);
    s_write(fx, s, 200, 300);
    wr_test_sleep_ms(1500);
    for (int b = 1; b <= 3; b++)
        assert_int_equal(rd_kafka_mock_broker_set_up(fx->mc, b), 0);
    fx->brokers_down = false;
    s_write(fx, s, 300, 400);
    s_precommit(s, 1, &c);
    s_commit(s, 1);
    wr_strbuf_release(&c);
    wr_sink_destroy(&s);
    assert_int_equal(s_expect_committed(fx, 0, 400), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_at_least_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_int_key_and_backpressure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_delivery_failure_fails_the_barrier, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_exactly_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_completed_checkpoint, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_checkpoint_completed, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_recovery_fails_halfway, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_zombie_is_fenced, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_first_attempt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resources_paths_and_prefix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_recover_refuses_bad_input, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_recover_refuses_a_short_spool, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_brokers_down_for_a_while, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
