/* The Kafka source (kafka.h): its keys, the rules across them, and its enumerator, which lists
 * the topics' partitions, one split each, finds where each starts and deals them out by
 * wr__ksrc_owner. The reader is kafka_source_reader.c. */
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_source_internal.h"
#include "actors/connectors/textin.h"
#include "actors/connectors/textsrc.h"
#include "bus/base/error.h"

#define S_START_WAIT_MS 10000                    /* for the cluster's answers at start */
#define S_TIME_MOST     INT64_C(253402300799999) /* 9999-12-31 */
#define S_DURATION_MOST INT64_C(86400000)        /* a day */

static const char *const s_starts[] = {"earliest", "latest", "timestamp", "committed", NULL};
static const char *const s_ends[] = {"none", "latest", NULL};

typedef wr_kafka_source_config_t s_config_t;

static const wr_param_t s_params[] = {
    {.key = "bootstrap.servers",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(s_config_t, bootstrap),
     .required = true,
     .example = "127.0.0.1:9092",
     .doc = "the brokers to start from"},
    {.key = "topic",
     .type = WR_PARAM_LIST,
     WR_PARAM_AT(s_config_t, topics),
     .required = true,
     .example = "readings",
     .doc = "a topic, or a list of them"},
    WR_TEXTSRC_FORMAT(s_config_t, format, "jsonl or csv: each message holds one or more lines"),
    WR_TEXTSRC_HEADER(s_config_t, header, "csv: must be false (a message has no header line)"),
    WR_TEXTSRC_ON_ERROR(
        s_config_t, on_error,
        "a bad line: fail (the job fails, naming topic/partition@offset) or skip (counted)"),
    WR_TEXTSRC_MAX_LINE(s_config_t, max_line),
    {.key = "start",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(s_config_t, start),
     .words = s_starts,
     .dflt = "earliest",
     .doc = "where a fresh job starts each partition: earliest, latest, timestamp or committed"},
    {.key = "start_time",
     .type = WR_PARAM_TIME,
     WR_PARAM_AT(s_config_t, start_time_ms),
     .lo = 0,
     .hi = S_TIME_MOST,
     .example = "2024-01-01T00:00:00Z",
     .doc = "start: timestamp only: the first message at or after this time"},
    {.key = "end",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(s_config_t, end),
     .words = s_ends,
     .dflt = "none",
     .doc = "none (a stream: never ends) or latest: each partition ends at its end offset when the "
            "job first starts, and the source ends when all do (no discovery then)"},
    {.key = "group",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(s_config_t, group),
     .dflt = "weir",
     .doc = "the consumer group offsets are committed to (for monitoring) and read from "
            "(start: committed)"},
    {.key = "idle_timeout",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(s_config_t, idle_timeout_ms),
     .lo = 0,
     .hi = S_DURATION_MOST,
     .dflt = "10s",
     .doc = "a partition without messages this long stops holding the watermark back (0: never)"},
    {.key = "discovery_interval",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(s_config_t, discovery_interval_ms),
     .lo = 0,
     .hi = S_DURATION_MOST,
     .dflt = "30s",
     .doc = "how often each subtask looks for partitions created since (0: never)"},
    {.key = "properties",
     .type = WR_PARAM_PAIRS,
     WR_PARAM_AT(s_config_t, properties),
     .doc = "librdkafka consumer properties, passed through (weir's own settings win)"},
};

static int s_check_topics(const s_config_t *c, const wr_param_check_t *ck)
{
    if (!c->topics) return wr_param_fail(ck, "topic", "no topic");
    wr__ksrc_topics_t t;
    if (wr__ksrc_topics_init(&t, c->topics)) return WR_ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < t.n && !rc; i++) {
        const char *why = wr__ksrc_topic_invalid(t.v[i]);
        if (why)
            rc = wr_param_fail(ck, "topic", "'%s' %s", t.v[i], why);
        else if (wr__ksrc_topics_find(&t, t.v[i], strlen(t.v[i])) != (int)i)
            rc = wr_param_fail(ck, "topic", "'%s' is listed twice", t.v[i]);
    }
    wr__ksrc_topics_release(&t);
    return rc;
}

static int s_check(void *config, const wr_param_check_t *ck)
{
    s_config_t *c = config;
    if (c->header)
        return wr_param_fail(ck, "header",
                             "a Kafka message has no header line: the columns are the schema's "
                             "fields in order (header: false)");
    int rc = s_check_topics(c, ck);
    if (rc) return rc;
    if (c->start == WR_KAFKA_START_TIMESTAMP && !wr_param_given(ck, "start_time"))
        return wr_param_fail(ck, "start", "start: timestamp needs start_time");
    /* (from the bus every key counts as given) */
    if (ck->lines && c->start != WR_KAFKA_START_TIMESTAMP && wr_param_given(ck, "start_time"))
        return wr_param_fail(ck, "start_time", "start_time is only for start: timestamp");
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    rd_kafka_conf_t *conf = wr__ksrc_conf(c, &err);
    if (conf) rd_kafka_conf_destroy(conf);
    if (!conf)
        rc = wr_param_fail(ck, strncmp(err.buf, "properties: ", 12) ? NULL : "properties", "%s",
                           err.buf);
    wr_strbuf_release(&err);
    return rc;
}

/* ---- the enumerator ---- */

typedef struct {
    uint32_t topic;
    int32_t partition;
} s_part_t;

static int s_part_cmp(const void *a, const void *b)
{
    const s_part_t *x = a, *y = b;
    if (x->topic != y->topic) return x->topic < y->topic ? -1 : 1;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* The restored splits are partitions of the configured topics, each once, at an offset: their
 * partitions into *held (sorted; the caller frees it). */
static int s_check_restored(const wr_splits_t *splits, const wr__ksrc_topics_t *t, s_part_t **held,
                            wr_strbuf_t *err)
{
    s_part_t *v = malloc((splits->n ? splits->n : 1) * sizeof *v);
    if (!v) return WR_ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < splits->n && !rc; i++) {
        const wr_split_t *s = &splits->v[i];
        int64_t offset, end;
        uint64_t bytes;
        if (wr__ksrc_split_parse(s->id, t, &v[i].topic, &v[i].partition)) {
            wr_strbuf_addf(err,
                           "kafka source: the checkpoint's split '%s' is no partition of the "
                           "configured topics",
                           s->id);
            rc = WR_EPROTO;
        } else if (wr__ksrc_position_read(s, &offset, &bytes, &end)) {
            wr_strbuf_addf(err, "kafka source: the checkpoint's position of %s is no offset",
                           s->id);
            rc = WR_EPROTO;
        }
    }
    if (!rc) qsort(v, splits->n, sizeof *v, s_part_cmp);
    for (uint32_t i = 1; i < splits->n && !rc; i++) {
        if (s_part_cmp(&v[i - 1], &v[i])) continue;
        wr_strbuf_addf(err, "kafka source: the checkpoint holds %s/%d twice", t->v[v[i].topic],
                       (int)v[i].partition);
        rc = WR_EPROTO;
    }
    if (rc) {
        free(v);
        return rc;
    }
    *held = v;
    return 0;
}

/* The partitions of all that held[0, nheld) does not name (new). */
static rd_kafka_topic_partition_list_t *s_unheld(const rd_kafka_topic_partition_list_t *all,
                                                 const wr__ksrc_topics_t *t, const s_part_t *held,
                                                 uint32_t nheld)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(all->cnt ? all->cnt : 1);
    for (int i = 0; i < all->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &all->elems[i];
        s_part_t key = {(uint32_t)wr__ksrc_topics_find(t, p->topic, strlen(p->topic)),
                        p->partition};
        if (!nheld || !bsearch(&key, held, nheld, sizeof key, s_part_cmp))
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    }
    return l;
}

/* Appends a split for each partition of l, at its offset. */
static int s_add_splits(wr_splits_t *splits, const rd_kafka_topic_partition_list_t *l)
{
    wr_strbuf_t pos;
    wr_strbuf_init(&pos);
    int rc = 0;
    for (int i = 0; i < l->cnt && !rc; i++) {
        char id[WR_SPLIT_ID_MAX];
        wr__ksrc_split_id(id, l->elems[i].topic, l->elems[i].partition);
        wr_strbuf_reset(&pos);
        rc = wr__ksrc_position_pack(l->elems[i].offset, 0, -1, &pos);
        if (!rc) rc = wr_splits_add(splits, id, pos.buf, pos.len, INT64_MIN);
    }
    wr_strbuf_release(&pos);
    return rc;
}

/* Bounded (end: latest): every split without an end gets its partition's end offset now (a
 * fresh one; a restored one of a checkpoint an unbounded run took). */
static int s_set_ends(rd_kafka_t *rk, wr_splits_t *splits, const wr__ksrc_topics_t *t,
                      wr_strbuf_t *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    int rc = 0;
    for (uint32_t i = 0; i < splits->n && !rc; i++) {
        uint32_t topic;
        int32_t partition;
        int64_t offset, end;
        uint64_t bytes;
        rc = wr__ksrc_split_parse(splits->v[i].id, t, &topic, &partition);
        if (!rc) rc = wr__ksrc_position_read(&splits->v[i], &offset, &bytes, &end);
        if (!rc && end < 0) rd_kafka_topic_partition_list_add(l, t->v[topic], partition);
    }
    if (!rc && l->cnt) rc = wr__ksrc_resolve(rk, WR_KAFKA_START_LATEST, 0, l, S_START_WAIT_MS, err);
    wr_strbuf_t pos;
    wr_strbuf_init(&pos);
    for (uint32_t i = 0, k = 0; i < splits->n && !rc && l->cnt; i++) {
        int64_t offset, end;
        uint64_t bytes;
        wr__ksrc_position_read(&splits->v[i], &offset, &bytes, &end); /* (read above) */
        if (end >= 0) continue;
        wr_strbuf_reset(&pos);
        rc = wr__ksrc_position_pack(offset, bytes, l->elems[k++].offset, &pos);
        if (!rc) rc = wr_splits_set_position(splits, i, pos.buf, pos.len);
    }
    wr_strbuf_release(&pos);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Fresh: every partition of the topics, at the offset `start` names. Restored: the restored
 * splits as they are, and partitions created since at their first offset. Each split to the
 * subtask wr__ksrc_owner names. Every subtask runs this and keeps its own splits: each resolves
 * every partition's start (one request for all), and uses only its own partitions' answers. */
static int s_enumerate(const void *config, uint32_t parallelism, bool restored, wr_splits_t *splits,
                       wr_strbuf_t *err)
{
    const s_config_t *c = config;
    wr__ksrc_topics_t t;
    s_part_t *held = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *all = NULL, *fresh = NULL;
    int rc = wr__ksrc_topics_init(&t, c->topics);
    if (!rc && restored) rc = s_check_restored(splits, &t, &held, err);
    if (!rc) {
        rd_kafka_conf_t *conf = wr__ksrc_conf(c, err);
        rk = conf ? wr__ksrc_consumer(conf, err) : NULL;
        rc = !conf ? WR_ECONFIG : !rk ? WR_EIO : 0;
    }
    if (!rc) rc = wr__ksrc_partitions(rk, c, &t, S_START_WAIT_MS, &all, err);
    if (!rc) fresh = s_unheld(all, &t, held, restored ? splits->n : 0);
    if (!rc && fresh->cnt)
        rc = wr__ksrc_resolve(rk, restored ? WR_KAFKA_START_EARLIEST : c->start, c->start_time_ms,
                              fresh, S_START_WAIT_MS, err);
    if (!rc) rc = s_add_splits(splits, fresh);
    if (!rc && c->end == WR_KAFKA_END_LATEST) rc = s_set_ends(rk, splits, &t, err);
    for (uint32_t i = 0; i < splits->n && !rc; i++) {
        uint32_t topic;
        int32_t partition;
        rc = wr__ksrc_split_parse(splits->v[i].id, &t, &topic, &partition);
        if (!rc) splits->v[i].subtask = wr__ksrc_owner(t.v[topic], partition, parallelism);
    }
    if (fresh) rd_kafka_topic_partition_list_destroy(fresh);
    if (all) rd_kafka_topic_partition_list_destroy(all);
    if (rk) rd_kafka_destroy(rk);
    free(held);
    wr__ksrc_topics_release(&t);
    return rc;
}

const wr_source_class_t wr_kafka_source_class = {
    .type = "kafka",
    .noun = "a Kafka source",
    .params = s_params,
    .nparams = sizeof s_params / sizeof *s_params,
    .config_size = sizeof(s_config_t),
    .check = s_check,
    .enumerate = s_enumerate,
    .open = wr__ksrc_open,
    .close = wr__ksrc_close,
    .add_split = wr__ksrc_add_split,
    .read = wr__ksrc_read,
    .snapshot = wr__ksrc_snapshot,
    .checkpoint_done = wr__ksrc_checkpoint_done,
};
