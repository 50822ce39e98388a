/* Plain librdkafka clients (kafka_plain.h). */
#include "actors/connectors/kafka/kafka_plain.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_client.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"

#define S_POLL_EVERY 1024 /* sends between two serves of the delivery reports */
#define S_BATCH      1024 /* messages a drain takes from librdkafka at a time */

/* ---- the writer ---- */

struct wr_kafka_writer {
    rd_kafka_t *rk;
    uint64_t sent;
    rd_kafka_resp_err_t failed; /* the first delivery failure (NO_ERROR: none) */
    char failed_on[256];        /* where: "topic [partition]: librdkafka's text" */
};

/* librdkafka's delivery report, served by rd_kafka_poll and rd_kafka_flush on the owner's
 * thread: keeps the first failure. */
static void s_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    wr_kafka_writer_t *w = opaque;
    if (!m->err || w->failed) return;
    w->failed = m->err;
    snprintf(w->failed_on, sizeof w->failed_on, "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
             (int)m->partition, rd_kafka_err2str(m->err));
}

wr_kafka_writer_t *wr_kafka_writer_new(const char *bootstrap, const char *properties,
                                       wr_strbuf_t *err)
{
    wr_kafka_writer_t *w = calloc(1, sizeof *w);
    if (!w) {
        wr_strbuf_adds(err, "out of memory");
        return NULL;
    }
    rd_kafka_conf_t *conf = wr_kafka_conf_new(bootstrap, properties, NULL, 0, err);
    if (!conf) goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, s_delivered);
    rd_kafka_conf_set_opaque(conf, w);
    if (!(w->rk = wr_kafka_new(RD_KAFKA_PRODUCER, conf, "librdkafka", err))) goto fail;
    return w;
fail:
    free(w);
    return NULL;
}

void wr_kafka_writer_destroy(wr_kafka_writer_t **wp)
{
    wr_kafka_writer_t *w = *wp;
    if (!w) return;
    if (w->rk) rd_kafka_destroy(w->rk);
    free(w);
    *wp = NULL;
}

/* The first delivery failure as a code, err naming it; 0 when none. */
static int s_failed(const wr_kafka_writer_t *w, wr_strbuf_t *err)
{
    if (!w->failed) return 0;
    wr_strbuf_addf(err, "delivery failed: %s", w->failed_on);
    return wr_kafka_code(w->failed);
}

int wr_kafka_writer_send(wr_kafka_writer_t *w, const char *topic, int32_t partition,
                         const void *value, size_t len, wr_strbuf_t *err)
{
    if (++w->sent % S_POLL_EVERY == 0) rd_kafka_poll(w->rk, 0);
    int rc = s_failed(w, err);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__QUEUE_FULL;
    while (!rc && e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        e = rd_kafka_producev(w->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_VALUE((void *)value, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(w->rk, 10); /* deliveries make room */
    }
    if (!rc && e) {
        wr_strbuf_addf(err, "%s [%d]: %s", topic, (int)partition, rd_kafka_err2str(e));
        rc = wr_kafka_code(e);
    }
    return rc;
}

int wr_kafka_writer_flush(wr_kafka_writer_t *w, int timeout_ms, wr_strbuf_t *err)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(w->rk, timeout_ms);
    int rc = s_failed(w, err);
    if (!rc && e) {
        wr_strbuf_addf(err, "%d messages not delivered after %d ms: %s", rd_kafka_outq_len(w->rk),
                       timeout_ms, rd_kafka_err2str(e));
        rc = wr_kafka_code(e);
    }
    return rc;
}

int wr_kafka_writer_offsets(wr_kafka_writer_t *w, const char *topic, int32_t partition,
                            int64_t *low, int64_t *high, wr_strbuf_t *err)
{
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(w->rk, topic, partition, low, high, 10000);
    if (!e) return 0;
    wr_strbuf_addf(err, "the offsets of %s [%d]: %s", topic, (int)partition, rd_kafka_err2str(e));
    return wr_kafka_code(e);
}

/* ---- the drain ---- */

/* Counts m's value into d. */
static void s_count(const rd_kafka_message_t *m, wr_kafka_drain_t *d)
{
    const char *v = m->payload, *end = v + m->len;
    d->messages++;
    d->bytes += m->len;
    for (const char *nl; v < end; v = nl + 1) {
        d->lines++;
        if (!(nl = memchr(v, '\n', (size_t)(end - v)))) break;
    }
}

int wr_kafka_drain(const char *bootstrap, const char *topic, int32_t partitions, uint64_t messages,
                   const wr_kafka_drain_opts_t *o, wr_kafka_drain_t *out, wr_strbuf_t *err)
{
    memset(out, 0, sizeof *out);
    out->start_ns = wr_now_ns();
    /* librdkafka assigns partitions only to a consumer of a group; it joins none, commits nothing
     */
    static const wr_kafka_prop_t fixed[] = {{"group.id", "weir-drain"},
                                            {"enable.auto.commit", "false"},
                                            {"enable.auto.offset.store", "false"},
                                            {"auto.offset.reset", "error"}};
    rd_kafka_conf_t *conf =
        wr_kafka_conf_new(bootstrap, o->properties, fixed, sizeof fixed / sizeof *fixed, err);
    if (!conf) return WR_ECONFIG;
    rd_kafka_t *rk = wr_kafka_new(RD_KAFKA_CONSUMER, conf, "librdkafka", err);
    if (!rk) return WR_EIO;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int32_t p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    int rc = 0;
    /* the partitions' leaders first: assigned before librdkafka knows them, a partition waits
     * for its offset query's 500 ms retry (as the Kafka source's reader, which warms up too) */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, 10000) : rd_kafka_last_error();
    if (md) rd_kafka_metadata_destroy(md);
    if (rkt) rd_kafka_topic_destroy(rkt);
    if (!e) e = rd_kafka_assign(rk, parts);
    if (e) {
        wr_strbuf_addf(err, "%s: %s", topic, rd_kafka_err2str(e));
        rc = wr_kafka_code(e);
    }
    rd_kafka_message_t *batch[S_BATCH];
    int64_t last = out->start_ns; /* the last progress */
    while (!rc && out->messages < messages) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch, S_BATCH);
        int64_t now = wr_now_ns();
        for (ssize_t i = 0; i < n; i++) {
            const rd_kafka_message_t *m = batch[i];
            if (m->err && !rc) {
                wr_strbuf_addf(err, "%s [%d]: %s", topic, (int)m->partition,
                               rd_kafka_message_errstr(m));
                rc = wr_kafka_code(m->err);
            } else if (!m->err) {
                s_count(m, out);
            }
            rd_kafka_message_destroy(batch[i]);
        }
        if (n > 0 && !out->first_ns) out->first_ns = now;
        if (n > 0) out->last_ns = last = now;
        if (!rc && out->messages < messages && now - last > o->quiet_ms * 1000000) {
            wr_strbuf_addf(err, "%llu of %llu messages of %s, then none for %lld ms",
                           (unsigned long long)out->messages, (unsigned long long)messages, topic,
                           (long long)o->quiet_ms);
            rc = WR_ETIMEDOUT;
        }
        if (!rc && o->stop && o->stop(o->stop_ctx)) rc = WR_ECLOSED;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    if (q) rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
