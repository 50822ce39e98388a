/* The Kafka connector, through librdkafka: a source that reads a topic's partitions as splits,
 * and a sink that writes records as JSON messages, at least once or exactly once in a transaction
 * per checkpoint.
 *
 * Source keys:
 *   sources:
 *     - type: kafka
 *       bootstrap.servers: 127.0.0.1:9092  # required: the brokers to start from
 *       topic: readings            # required: a topic, or a list of them ([a, b])
 *       format: jsonl              # jsonl (default) or csv: each message holds one or more
 *                                  #   lines, read as a file's are (textin.h); a message's
 *                                  #   last line needs no newline
 *       header: false              # csv only: the columns are the schema's fields in order (a
 *                                  #   message has no header line); must be false
 *       on_error: fail             # a bad line: fail (the job fails, naming it
 *                                  #   topic/partition@offset:line, the line of that message)
 *                                  #   or skip (counted in `weir job`'s SKIPPED, the first
 *                                  #   ones logged so)
 *       max_line: 1048576          # the longest line, bytes (1 KiB to 16 MiB)
 *       start: earliest            # where a fresh job starts each partition: earliest,
 *                                  #   latest, timestamp (start_time), or committed (the
 *                                  #   group's committed offsets; earliest where none)
 *       start_time: 2024-01-01T00:00:00Z  # start: timestamp only (and required): the first
 *                                  #   message at or after it, by the brokers' time index; a
 *                                  #   partition without one starts at its end
 *       end: none                  # none (default: a stream, it never ends) or latest: bounded,
 *                                  #   as Flink's setBounded(latest): each partition ends at its
 *                                  #   end offset when the job first starts (checkpoints keep
 *                                  #   it: a restore ends at the same place), the source when
 *                                  #   all have; no discovery. For backfills, tests, benchmarks
 *       group: weir                # the consumer group whose offsets are committed (for
 *                                  #   monitoring, after each completed checkpoint) and read by
 *                                  #   start: committed. No group membership: partitions are
 *                                  #   splits the job deals out itself, as Flink's KafkaSource
 *       idle_timeout: 10s          # a partition without messages this long stops holding the
 *                                  #   watermark back until it has messages again (0: never)
 *       discovery_interval: 30s    # how often each subtask looks for partitions created since
 *                                  #   (0: never); new ones are read from their earliest offset
 *       properties:                # any librdkafka consumer property, passed through
 *         security.protocol: ssl   #   (security settings included); weir's own settings win
 *                                  #   where they clash (enable.auto.commit, group.id, ...)
 * The records are the topology's `schema`, which a Kafka source requires; its key and event-time
 * fields are the topology's, as for files. A partition is a split ("topic/3"), its position the
 * offset of the next message to read (and how much of it was read, when a batch filled up inside
 * a message of many lines); checkpoints hold the offsets and a restore rewinds there. Where a
 * fresh job starts is resolved to real offsets when the job starts, so a checkpoint never holds
 * "latest".
 * Partitions are dealt out by a hash of the topic plus the partition number, so a subtask knows
 * which partitions it reads (and which new ones it takes) without asking anyone. Any
 * parallelism; a subtask without partitions stays idle. A topic that does not exist is an error
 * at start (the source lists all topics to find out: asking for one by name lets a broker that
 * auto-creates topics make it). Discovery asks the cluster from the subtask's thread, waiting at
 * most a second per request; a failure is logged and tried again at the next interval.
 *
 * Sink keys:
 *   sinks:
 *     - type: kafka
 *       bootstrap.servers: 127.0.0.1:9092  # required
 *       topic: results             # required: one topic, which must exist (the sink never
 *                                  #   creates it: a missing one fails the job at start)
 *       key: device                # a field whose value is each message's key: a string field
 *                                  #   its bytes, any other its JSON text (default: none, no key)
 *       format: json               # one JSON object per message (rowfmt.h); the only format
 *       guarantee: at-least-once   # at-least-once (default: flushed at each barrier, so
 *                                  #   nothing a checkpoint covers is lost; a restore may
 *                                  #   write some again) or exactly-once (below)
 *       transactional_id_prefix: weir  # exactly-once (default weir): transactional ids are
 *                                  #   PREFIX-SUBTASK-ATTEMPT-N; 1 to 64 of letters, digits and
 *                                  #   . _ - (not starting with . or -); two jobs may not share a
 *                                  #   prefix on one cluster of brokers (nor in one folder: the
 *                                  #   JobManager refuses the second, resource kafka-txn:)
 *       transaction_log: kafka-transactions  # exactly-once (default kafka-transactions): a
 *                                  #   folder every TaskManager and the JobManager share (as they
 *                                  #   share the checkpoint folder), relative to the working
 *                                  #   directory (made absolute there): each writer's log of its
 *                                  #   transactions and the records of those pre-committed but
 *                                  #   not yet committed (kafka_sink.h says why)
 *       properties:                # any librdkafka producer property, passed through
 *         compression.type: lz4
 * weir's own producer settings win over properties: acks=all, enable.idempotence=true,
 * allow.auto.create.topics=false, and exactly-once transactional.id and transaction.timeout.ms
 * (15 min, the brokers' default transaction.max.timeout.ms; a checkpoint interval must stay below
 * it). Any parallelism.
 * Exactly-once: the records between two barriers go into one Kafka transaction; at the barrier
 * it is flushed (pre-committed) and when the checkpoint completes it is committed. What a
 * restore does with transactions a failed attempt left is kafka_sink.h's to say.
 *
 * Errors: librdkafka's codes are translated at this module's edge (kafka_client.h); fatal
 * producer errors fail the subtask (the job restores), retriable ones are retried by librdkafka
 * within its timeouts. */
#ifndef WR_KAFKA_H
#define WR_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"

/* start: where a fresh job starts each partition */
enum wr_kafka_start {
    WR_KAFKA_START_EARLIEST,
    WR_KAFKA_START_LATEST,
    WR_KAFKA_START_TIMESTAMP,
    WR_KAFKA_START_COMMITTED
};

/* end: whether the source is bounded */
enum wr_kafka_end { WR_KAFKA_END_NONE, WR_KAFKA_END_LATEST };

/* The source's defaults for its consumers ("name=value" lines), which `properties` may
 * override: librdkafka 2.0.2 stops fetching a partition once queued.min.messages (100,000 by
 * default) are queued over the consumer's partitions, and looks again only when its broker
 * thread next wakes, up to a second later: a source that drains the queue faster than that waited
 * most of the time (a bounded read of 500,000 readings on the mock cluster took 3.5 s, 1.0 s with
 * this). The queue stays bounded by queued.max.messages.kbytes (64 MiB by default). A raw
 * consumer stalls the same way: `weir bench kafka` gives its baseline these defaults too. */
#define WR_KAFKA_SOURCE_DEFAULTS "queued.min.messages=1000000"

typedef struct {
    char *bootstrap;   /* bootstrap.servers */
    char *topics;      /* one per line (WR_PARAM_LIST) */
    int format;        /* enum wr_textin_format */
    bool header;       /* csv: always false (checked) */
    int on_error;      /* enum wr_textin_on_error */
    uint32_t max_line; /* bytes */
    int start;         /* enum wr_kafka_start */
    int64_t start_time_ms;
    int end; /* enum wr_kafka_end */
    char *group;
    int64_t idle_timeout_ms;       /* 0: never idle */
    int64_t discovery_interval_ms; /* 0: no discovery */
    char *properties;              /* "name=value" lines (WR_PARAM_PAIRS), or NULL */
} wr_kafka_source_config_t;

enum wr_kafka_guarantee { WR_KAFKA_AT_LEAST_ONCE, WR_KAFKA_EXACTLY_ONCE };

#define WR_KAFKA_FIELD_MAX 64 /* a key field's name, NUL included */

typedef struct {
    char *bootstrap;
    char *topic;
    char key[WR_KAFKA_FIELD_MAX]; /* "": no key */
    int format;                   /* json: the only one */
    int guarantee;                /* enum wr_kafka_guarantee */
    char *txn_prefix;             /* transactional_id_prefix */
    char *txn_log;                /* transaction_log: a folder (absolute once read) */
    char *properties;             /* "name=value" lines, or NULL */
} wr_kafka_sink_config_t;

extern const wr_connector_t wr_kafka_connector;

/* Each half's class (kafka_source.c, kafka_sink.c), which wr_kafka_connector puts together. */
extern const wr_source_class_t wr_kafka_source_class;
extern const wr_sink_class_t wr_kafka_sink_class;

#endif
