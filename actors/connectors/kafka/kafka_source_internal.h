/* Internal to the Kafka source (kafka.h): what its enumerator (kafka_source.c) and its reader
 * (kafka_source_reader.c) share: the configured topics, split ids and positions, the rule that
 * deals partitions out to subtasks, and the requests both make (kafka_source_meta.c).
 *
 * A split is a partition, "topic/N". Its position is msgpack [offset]: the offset of the next
 * message to read; or [offset, bytes] when a reader stopped inside that message (a batch filled
 * up before its last line): its first `bytes` bytes are read, and a restore reads on from there,
 * so a message of many lines is never read twice in part. A bounded source (end: latest) writes
 * [offset, bytes, end] (bytes may be 0 there): the split is done once offset reaches end, the
 * partition's end offset when the job first started, kept by every checkpoint so that a restore
 * ends where the first run would have. Offsets in positions are always real
 * ones: the enumerator resolves where a fresh job starts (earliest, latest, a timestamp, the
 * group's committed offsets) before the splits reach any reader, so a checkpoint never holds
 * "latest", which would mean another offset when restored. */
#ifndef WR__KAFKA_SOURCE_INTERNAL_H
#define WR__KAFKA_SOURCE_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/kafka/kafka.h"
#include "bus/base/strbuf.h"

/* The longest topic name a source takes: "topic/2147483647" must fit in a split id. */
#define WR__KSRC_TOPIC_MAX (WR_SPLIT_ID_MAX - 1 - 11)

/* The configured topics (the `topic` lines), in their order. */
typedef struct {
    char **v;
    uint32_t n;
} wr__ksrc_topics_t;

/* Reads the `topic` lines into t: 0, WR_ENOMEM. */
int wr__ksrc_topics_init(wr__ksrc_topics_t *t, const char *lines);
void wr__ksrc_topics_release(wr__ksrc_topics_t *t);
/* The index of topic name[0, len) in t, or -1. */
int wr__ksrc_topics_find(const wr__ksrc_topics_t *t, const char *name, size_t len);
/* Why name is no topic a source can read ("is not a Kafka topic name ..."), or NULL. */
const char *wr__ksrc_topic_invalid(const char *name);

/* The subtask of `parallelism` that reads partition N of topic: (FNV-1a(topic) + N) mod
 * parallelism. Stable across versions and machines: checkpoints and discovery depend on it. */
uint32_t wr__ksrc_owner(const char *topic, int32_t partition, uint32_t parallelism);

/* "topic/N" into id (WR_SPLIT_ID_MAX bytes). */
void wr__ksrc_split_id(char *id, const char *topic, int32_t partition);
/* A split id of one of t's topics: its topic's index and partition. WR_EPROTO for anything else
 * (another topic, not "topic/N" with N a partition number written plainly). */
int wr__ksrc_split_parse(const char *id, const wr__ksrc_topics_t *t, uint32_t *topic,
                         int32_t *partition);

/* A position (above) appended to out (end -1: none): 0, WR_ENOMEM. */
int wr__ksrc_position_pack(int64_t offset, uint64_t bytes, int64_t end, wr_strbuf_t *out);
/* s's position (*end -1 when it has none): WR_EPROTO unless it is [offset], [offset, bytes > 0]
 * or [offset, bytes, end], offset and end real ones. */
int wr__ksrc_position_read(const wr_split_t *s, int64_t *offset, uint64_t *bytes, int64_t *end);

/* A configuration for one of the source's consumers: bootstrap.servers, the properties, then
 * weir's own settings (group.id from `group`, no auto commit, no auto offset store,
 * read_committed, earliest where an offset is out of range). allow.auto.create.topics keeps the
 * consumer's default, false: set explicitly, librdkafka warns at every metadata request to a
 * broker older than 0.11 (the mock is one); wr__ksrc_partitions finds a missing topic anyway.
 * NULL with err saying why. */
rd_kafka_conf_t *wr__ksrc_conf(const wr_kafka_source_config_t *c, wr_strbuf_t *err);
/* A consumer made of conf (taken, also on failure). NULL with err saying why. */
rd_kafka_t *wr__ksrc_consumer(rd_kafka_conf_t *conf, wr_strbuf_t *err);

/* Every partition of t's topics, listed by the cluster, into *out (new; the caller destroys it),
 * topic by topic in t's order, partitions in ascending order. The request lists all topics, so
 * no broker creates a missing one: a topic not listed is WR_ENOTFOUND, "topic 'x' does not exist
 * on BOOTSTRAP". WR_ETIMEDOUT or WR_EIO when the cluster does not answer within timeout_ms. */
int wr__ksrc_partitions(rd_kafka_t *rk, const wr_kafka_source_config_t *c,
                        const wr__ksrc_topics_t *t, int timeout_ms,
                        rd_kafka_topic_partition_list_t **out, wr_strbuf_t *err);

/* Sets the offset of every partition of l to where a reader starting it by `start` (enum
 * wr_kafka_start) begins: the first offset kept, the end, the first message at or after
 * start_time_ms (the end where there is none, as Kafka answers and Flink takes it), or the
 * group's committed offset (the first offset kept where none). Blocks up to timeout_ms per
 * request. WR_ETIMEDOUT, WR_EIO, ... with err saying why. */
int wr__ksrc_resolve(rd_kafka_t *rk, int start, int64_t start_time_ms,
                     rd_kafka_topic_partition_list_t *l, int timeout_ms, wr_strbuf_t *err);

/* The reader (kafka_source_reader.c), as wr_source_class_t's hooks. */
int wr__ksrc_open(const void *config, const wr_source_open_t *o, void **reader, wr_strbuf_t *err);
void wr__ksrc_close(void **reader);
int wr__ksrc_add_split(void *reader, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err);
int wr__ksrc_read(void *reader, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err);
int wr__ksrc_snapshot(void *reader, wr_source_snap_t *snap);
void wr__ksrc_checkpoint_done(void *reader, uint64_t checkpoint_id);

#endif
