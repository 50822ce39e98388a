/* A Kafka cluster for development and tests: librdkafka's mock cluster (rdkafka_mock.h), inside
 * this process, behind weir's own calls (no rd_kafka type here). `weir kafka-mock` runs one; the
 * Kafka benchmark and tests start one in-process.
 *
 *     wr_kafka_mock_t *m = wr_kafka_mock_new(3, &err);
 *     wr_kafka_mock_topic_create(m, "readings", 4, &err);
 *     ... clients connect to wr_kafka_mock_bootstraps(m) ...
 *     wr_kafka_mock_broker_down(m, WR_KAFKA_MOCK_ALL, &err);
 *     wr_kafka_mock_destroy(&m);
 *
 * What it is (librdkafka 2.0.2, Debian 12): brokers 1..N, each listening on 127.0.0.1 on a port
 * the kernel picks when the cluster starts; a broker keeps its port while it is down and back up.
 * No port can be asked for: rd_kafka_mock_broker_new binds port 0 and no configuration property
 * sets it (`weir kafka-mock --port` puts a forwarder to broker 1 there instead). Real clients
 * (librdkafka's, kcat) produce, consume and use consumer groups against it. Its limits, which
 * docs/kafka.md spells out for users: each partition keeps at most 5 MiB or 100,000 message sets
 * and drops the oldest beyond that; it accepts the transactional API but does not hide aborted
 * transactions from read_committed consumers nor store send_offsets_to_transaction offsets. A topic
 * a client that allows it (allow.auto.create.topics, a producer's default) names before it exists
 * is created with 4 partitions; weir's source and sink never allow it (a missing topic is an
 * error).
 *
 * Threading: the cluster runs on librdkafka's threads; its calls may come from any one thread at
 * a time (the owner's). */
#ifndef WR_KAFKA_MOCK_H
#define WR_KAFKA_MOCK_H

#include "bus/base/strbuf.h"

#define WR_KAFKA_MOCK_MAX_BROKERS    16
#define WR_KAFKA_MOCK_MAX_PARTITIONS 1024
#define WR_KAFKA_MOCK_ALL            (-1) /* every broker, for down and up */

typedef struct wr_kafka_mock wr_kafka_mock_t;

/* A new cluster of `brokers` brokers (1 to WR_KAFKA_MOCK_MAX_BROKERS) on 127.0.0.1, up. NULL with
 * err saying why (a count out of range, librdkafka failing to start it). */
wr_kafka_mock_t *wr_kafka_mock_new(int brokers, wr_strbuf_t *err);
/* Stops the cluster and frees it: first every broker goes down (its clients see their
 * connections close and new ones refused at once), then librdkafka destroys the cluster, which
 * can take a second or two (librdkafka 2.0.2's rd_kafka_mock_cluster_destroy joins an internal
 * broker thread that can miss its wakeup and sleep out a 1 s poll: `weir kafka-mock` exited
 * 10 ms after SIGTERM in 7 of 8 runs, 1.0 s in the other). NULL-safe, nulls *m. */
void wr_kafka_mock_destroy(wr_kafka_mock_t **m);

/* The brokers' addresses, comma-separated ("127.0.0.1:40731,127.0.0.1:35913"): what clients use
 * as bootstrap.servers. Borrowed, valid until destroy. */
const char *wr_kafka_mock_bootstraps(const wr_kafka_mock_t *m);
/* How many brokers it has (their ids are 1..that). */
int wr_kafka_mock_brokers(const wr_kafka_mock_t *m);

/* Creates topic with `partitions` partitions (1 to WR_KAFKA_MOCK_MAX_PARTITIONS), replicated on
 * up to 3 brokers. 0; WR_EINVAL for a bad name or count, WR_EEXIST when it exists, WR_EIO; err
 * says why. */
int wr_kafka_mock_topic_create(wr_kafka_mock_t *m, const char *topic, int partitions,
                               wr_strbuf_t *err);

/* Broker `broker` (1..brokers, or WR_KAFKA_MOCK_ALL) goes down: its listener closes (new
 * connections are refused) and its connections are closed; it keeps its port and its data.
 * Doing it twice is harmless. 0; WR_ENOTFOUND for no such broker (err says why). */
int wr_kafka_mock_broker_down(wr_kafka_mock_t *m, int broker, wr_strbuf_t *err);
/* The broker is back: it listens again on its port. Otherwise as down. */
int wr_kafka_mock_broker_up(wr_kafka_mock_t *m, int broker, wr_strbuf_t *err);

#endif
