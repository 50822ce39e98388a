/* The Kafka source's topics, split ids, positions, the dealing rule, and the requests its
 * enumerator and readers make to the cluster (kafka_source_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_client.h"
#include "actors/connectors/kafka/kafka_source_internal.h"
#include "bus/base/error.h"

/* ---- topics ---- */

int wr__ksrc_topics_init(wr__ksrc_topics_t *t, const char *lines)
{
    *t = (wr__ksrc_topics_t){0};
    size_t at = 0, len, n = 0;
    const char *line;
    while (wr_params_next_line(lines, &at, &line, &len))
        n++;
    t->v = calloc(n ? n : 1, sizeof *t->v);
    if (!t->v) return WR_ENOMEM;
    for (at = 0; wr_params_next_line(lines, &at, &line, &len); t->n++)
        if (!(t->v[t->n] = strndup(line, len))) {
            wr__ksrc_topics_release(t);
            return WR_ENOMEM;
        }
    return 0;
}

void wr__ksrc_topics_release(wr__ksrc_topics_t *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    *t = (wr__ksrc_topics_t){0};
}

int wr__ksrc_topics_find(const wr__ksrc_topics_t *t, const char *name, size_t len)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (strlen(t->v[i]) == len && !memcmp(t->v[i], name, len)) return (int)i;
    return -1;
}

const char *wr__ksrc_topic_invalid(const char *name)
{
    size_t len = strlen(name);
    if (len > WR__KSRC_TOPIC_MAX) return "is longer than a Kafka source takes (52 bytes)";
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return "is not a Kafka topic name ('.' and '..' are not)";
    if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len)
        return "is not a Kafka topic name (letters, digits, '.', '_' and '-' only)";
    return NULL;
}

/* ---- splits ---- */

uint32_t wr__ksrc_owner(const char *topic, int32_t partition, uint32_t parallelism)
{
    uint32_t h = 2166136261u; /* FNV-1a, 32 bits */
    for (const unsigned char *p = (const unsigned char *)topic; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (uint32_t)(((uint64_t)h + (uint64_t)partition) % parallelism);
}

void wr__ksrc_split_id(char *id, const char *topic, int32_t partition)
{
    snprintf(id, WR_SPLIT_ID_MAX, "%s/%d", topic, (int)partition);
}

int wr__ksrc_split_parse(const char *id, const wr__ksrc_topics_t *t, uint32_t *topic,
                         int32_t *partition)
{
    const char *slash = strrchr(id, '/');
    if (!slash) return WR_EPROTO;
    int k = wr__ksrc_topics_find(t, id, (size_t)(slash - id));
    const char *d = slash + 1;
    size_t digits = strspn(d, "0123456789");
    if (k < 0 || !digits || digits > 10 || d[digits] || (d[0] == '0' && digits > 1))
        return WR_EPROTO;
    uint64_t n = strtoull(d, NULL, 10);
    if (n > INT32_MAX) return WR_EPROTO;
    *topic = (uint32_t)k;
    *partition = (int32_t)n;
    return 0;
}

int wr__ksrc_position_pack(int64_t offset, uint64_t bytes, int64_t end, wr_strbuf_t *out)
{
    uint64_t v[3] = {(uint64_t)offset, bytes, (uint64_t)end};
    return wr_split_position_pack(v, end >= 0 ? 3 : bytes ? 2 : 1, out);
}

int wr__ksrc_position_read(const wr_split_t *s, int64_t *offset, uint64_t *bytes, int64_t *end)
{
    uint64_t v[3] = {0, 0, UINT64_MAX};
    if (wr_split_position_read(s, v, 1) && (wr_split_position_read(s, v, 2) || !v[1]) &&
        wr_split_position_read(s, v, 3))
        return WR_EPROTO;
    if (v[0] > INT64_MAX || (v[2] != UINT64_MAX && v[2] > INT64_MAX)) return WR_EPROTO;
    *offset = (int64_t)v[0];
    *bytes = v[1];
    *end = v[2] == UINT64_MAX ? -1 : (int64_t)v[2];
    return 0;
}

/* ---- consumers ---- */

rd_kafka_conf_t *wr__ksrc_conf(const wr_kafka_source_config_t *c, wr_strbuf_t *err)
{
    wr_strbuf_t props;
    wr_strbuf_init(&props);
    wr_strbuf_adds(&props, WR_KAFKA_SOURCE_DEFAULTS);
    if (c->properties) wr_strbuf_addf(&props, "\n%s", c->properties); /* (later ones win) */
    if (props.failed) {
        wr_strbuf_release(&props);
        wr_strbuf_adds(err, "out of memory");
        return NULL;
    }
    const wr_kafka_prop_t fixed[] = {
        {"group.id", c->group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"isolation.level", "read_committed"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    rd_kafka_conf_t *conf =
        wr_kafka_conf_new(c->bootstrap, props.buf, fixed, sizeof fixed / sizeof *fixed, err);
    wr_strbuf_release(&props);
    return conf;
}

rd_kafka_t *wr__ksrc_consumer(rd_kafka_conf_t *conf, wr_strbuf_t *err)
{
    return wr_kafka_new(RD_KAFKA_CONSUMER, conf, "kafka source: cannot make a consumer", err);
}

/* ---- metadata ---- */

static int s_int32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Topic md's partitions, ascending, appended to l. */
static int s_add_partitions(const rd_kafka_metadata_topic_t *md, rd_kafka_topic_partition_list_t *l)
{
    int32_t *ids = malloc((size_t)(md->partition_cnt ? md->partition_cnt : 1) * sizeof *ids);
    if (!ids) return WR_ENOMEM;
    for (int i = 0; i < md->partition_cnt; i++)
        ids[i] = md->partitions[i].id;
    qsort(ids, (size_t)md->partition_cnt, sizeof *ids, s_int32_cmp);
    for (int i = 0; i < md->partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, md->topic, ids[i]);
    free(ids);
    return 0;
}

int wr__ksrc_partitions(rd_kafka_t *rk, const wr_kafka_source_config_t *c,
                        const wr__ksrc_topics_t *t, int timeout_ms,
                        rd_kafka_topic_partition_list_t **out, wr_strbuf_t *err)
{
    const struct rd_kafka_metadata *md = NULL;
    /* all topics: a request naming one lets a broker that auto-creates topics create it */
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e) {
        wr_strbuf_addf(err, "kafka source: cannot list the topics on %s: %s", c->bootstrap,
                       rd_kafka_err2str(e));
        return wr_kafka_code(e);
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    int rc = 0;
    for (uint32_t i = 0; i < t->n && !rc; i++) {
        const rd_kafka_metadata_topic_t *mt = NULL;
        for (int k = 0; k < md->topic_cnt && !mt; k++)
            if (!strcmp(md->topics[k].topic, t->v[i])) mt = &md->topics[k];
        if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            wr_strbuf_addf(err, "kafka source: topic '%s' does not exist on %s", t->v[i],
                           c->bootstrap);
            rc = WR_ENOTFOUND;
        } else if (mt->err && !mt->partition_cnt) {
            wr_strbuf_addf(err, "kafka source: topic '%s' on %s: %s", t->v[i], c->bootstrap,
                           rd_kafka_err2str(mt->err));
            rc = wr_kafka_code(mt->err);
        } else {
            rc = s_add_partitions(mt, l);
        }
    }
    rd_kafka_metadata_destroy(md);
    if (rc) {
        rd_kafka_topic_partition_list_destroy(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* ---- offsets ---- */

/* Each partition of l whose offset is `from` gets the broker's answer to ListOffsets for
 * `query` (a timestamp, or RD_KAFKA_OFFSET_BEGINNING / _END): one request for them all. */
static int s_list_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, int64_t from,
                          int64_t query, int timeout_ms, wr_strbuf_t *err)
{
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(l->cnt ? l->cnt : 1);
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset == from)
            rd_kafka_topic_partition_list_add(q, l->elems[i].topic, l->elems[i].partition)->offset =
                query;
    rd_kafka_resp_err_t e = q->cnt ? rd_kafka_offsets_for_times(rk, q, timeout_ms) : 0;
    const rd_kafka_topic_partition_t *bad = NULL;
    for (int i = 0, k = 0; !e && i < l->cnt; i++) {
        if (l->elems[i].offset != from) continue;
        if (q->elems[k].err && !bad) bad = &q->elems[k];
        l->elems[i].offset = q->elems[k++].offset;
    }
    int rc = 0;
    if (e) {
        wr_strbuf_addf(err, "kafka source: cannot look up offsets: %s", rd_kafka_err2str(e));
        rc = wr_kafka_code(e);
    } else if (bad) {
        wr_strbuf_addf(err, "kafka source: cannot look up offsets of %s/%d: %s", bad->topic,
                       (int)bad->partition, rd_kafka_err2str(bad->err));
        rc = wr_kafka_code(bad->err);
    }
    rd_kafka_topic_partition_list_destroy(q);
    return rc;
}

int wr__ksrc_resolve(rd_kafka_t *rk, int start, int64_t start_time_ms,
                     rd_kafka_topic_partition_list_t *l, int timeout_ms, wr_strbuf_t *err)
{
    const int64_t none = RD_KAFKA_OFFSET_INVALID;
    for (int i = 0; i < l->cnt; i++)
        l->elems[i].offset = none;
    int rc = 0;
    if (start == WR_KAFKA_START_COMMITTED) {
        rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, timeout_ms);
        for (int i = 0; !e && i < l->cnt; i++)
            if (l->elems[i].err) e = l->elems[i].err;
        if (e) {
            wr_strbuf_addf(err, "kafka source: cannot read the group's committed offsets: %s",
                           rd_kafka_err2str(e));
            return wr_kafka_code(e);
        }
        for (int i = 0; i < l->cnt; i++)
            if (l->elems[i].offset < 0) l->elems[i].offset = none; /* none committed */
    }
    if (start == WR_KAFKA_START_LATEST) {
        rc = s_list_offsets(rk, l, none, RD_KAFKA_OFFSET_END, timeout_ms, err);
    } else if (start == WR_KAFKA_START_TIMESTAMP) {
        /* -1: no message at or after start_time: the end */
        rc = s_list_offsets(rk, l, none, start_time_ms, timeout_ms, err);
        if (!rc) rc = s_list_offsets(rk, l, -1, RD_KAFKA_OFFSET_END, timeout_ms, err);
    } else { /* earliest, and committed where the group has no offset */
        rc = s_list_offsets(rk, l, none, RD_KAFKA_OFFSET_BEGINNING, timeout_ms, err);
    }
    for (int i = 0; i < l->cnt && !rc; i++) {
        if (l->elems[i].offset >= 0) continue;
        wr_strbuf_addf(err, "kafka source: no offset to start %s/%d at", l->elems[i].topic,
                       (int)l->elems[i].partition);
        rc = WR_EIO;
    }
    return rc;
}
