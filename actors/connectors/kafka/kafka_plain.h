/* Plain librdkafka clients, bytes in and counts out, no weir records: a writer that loads a topic
 * with ready-made messages, and a drain that reads a topic to its end as fast as librdkafka gives
 * it. `weir bench kafka` fills the mock cluster with the one and measures the raw consume, the
 * baseline of its Kafka source, with the other.
 *
 *     wr_kafka_writer_t *w = wr_kafka_writer_new(bootstrap, "linger.ms=10\n", &err);
 *     wr_kafka_writer_send(w, "readings", 3, line, len, &err);   // copied, queued
 *     wr_kafka_writer_flush(w, 30000, &err);                      // every message delivered
 *     wr_kafka_writer_offsets(w, "readings", 3, &low, &high, &err);
 *     wr_kafka_writer_destroy(&w);
 *
 *     wr_kafka_drain_t d;
 *     wr_kafka_drain(bootstrap, "readings", 8, messages, &(wr_kafka_drain_opts_t){
 *         .quiet_ms = 10000}, &d, &err);
 *
 * Properties are librdkafka's, "name=value" lines (WR_PARAM_PAIRS; NULL: none), set before the
 * settings each client needs (kafka_client.h). Errors: WR_E* codes (kafka_client.h translates
 * librdkafka's), with err saying what failed. Each object belongs to one thread. */
#ifndef WR_KAFKA_PLAIN_H
#define WR_KAFKA_PLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

typedef struct wr_kafka_writer wr_kafka_writer_t;

/* A producer (acks=all, no idempotence). NULL with err saying why (a property librdkafka
 * refuses). */
wr_kafka_writer_t *wr_kafka_writer_new(const char *bootstrap, const char *properties,
                                       wr_strbuf_t *err);
/* NULL-safe, nulls *w; what was not delivered yet is dropped. */
void wr_kafka_writer_destroy(wr_kafka_writer_t **w);
/* Queues one message of value[0, len) (copied; no key) for `partition` of topic, waiting while
 * librdkafka's queue is full. 0; the first delivery failure so far (err names it), or the send's
 * own error. */
int wr_kafka_writer_send(wr_kafka_writer_t *w, const char *topic, int32_t partition,
                         const void *value, size_t len, wr_strbuf_t *err);
/* Waits up to timeout_ms until every queued message is delivered. 0; WR_ETIMEDOUT; the first
 * delivery failure's code (err names it). */
int wr_kafka_writer_flush(wr_kafka_writer_t *w, int timeout_ms, wr_strbuf_t *err);
/* The brokers' low and high offsets of a partition: it holds messages [low, high). 0, or the
 * code of the failure (err names it). */
int wr_kafka_writer_offsets(wr_kafka_writer_t *w, const char *topic, int32_t partition,
                            int64_t *low, int64_t *high, wr_strbuf_t *err);

/* What a drain reads, and until when. */
typedef struct {
    const char *properties; /* librdkafka's, "name=value" lines; NULL: none */
    int64_t quiet_ms;       /* fail when no message came for this long */
    /* optional: asked between two batches; true stops the drain (WR_ECLOSED) */
    bool (*stop)(void *ctx);
    void *stop_ctx;
} wr_kafka_drain_opts_t;

/* What a drain read. */
typedef struct {
    uint64_t messages, bytes; /* values' bytes */
    uint64_t lines;           /* '\n'-separated lines of the values (a last one without '\n' too) */
    int64_t start_ns;         /* the drain's start (wr_now_ns), before its consumer exists */
    int64_t first_ns, last_ns; /* its first and last message (0: none) */
} wr_kafka_drain_t;

/* Reads partitions 0..partitions-1 of topic from their start (a consumer that assigns itself the
 * partitions: no group) until `messages` messages came, touching every byte (it counts lines).
 * 0; WR_ETIMEDOUT when fewer came and then none for o->quiet_ms; WR_ECLOSED when o->stop said
 * so; another code for a consumer error (err says which: a fetch the brokers refuse, a partition
 * that does not exist). *out holds what was read either way. */
int wr_kafka_drain(const char *bootstrap, const char *topic, int32_t partitions, uint64_t messages,
                   const wr_kafka_drain_opts_t *o, wr_kafka_drain_t *out, wr_strbuf_t *err);

#endif
