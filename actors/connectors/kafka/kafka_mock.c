/* librdkafka's mock cluster behind weir's calls (kafka_mock.h). */
#include "actors/connectors/kafka/kafka_mock.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_client.h"
#include "bus/base/error.h"

#define S_TOPIC_MAX 249 /* Kafka's longest topic name */

struct wr_kafka_mock {
    rd_kafka_t *rk; /* the handle the cluster runs on; it connects to nothing itself */
    rd_kafka_mock_cluster_t *cluster;
    int brokers;
};

wr_kafka_mock_t *wr_kafka_mock_new(int brokers, wr_strbuf_t *err)
{
    if (brokers < 1 || brokers > WR_KAFKA_MOCK_MAX_BROKERS) {
        wr_strbuf_addf(err, "brokers: %d is not 1 to %d", brokers, WR_KAFKA_MOCK_MAX_BROKERS);
        return NULL;
    }
    wr_kafka_mock_t *m = calloc(1, sizeof *m);
    if (!m) {
        wr_strbuf_adds(err, "out of memory");
        return NULL;
    }
    m->brokers = brokers;
    /* no bootstrap.servers: the handle only hosts the cluster (librdkafka notes that it has none
     * at its notice level, which weir's log keeps for debug) */
    rd_kafka_conf_t *conf = wr_kafka_conf_new("", NULL, NULL, 0, err);
    if (!conf || !(m->rk = wr_kafka_new(RD_KAFKA_PRODUCER, conf, "librdkafka", err))) goto fail;
    m->cluster = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->cluster) {
        wr_strbuf_adds(err, "librdkafka could not start its mock cluster (its log says why)");
        goto fail;
    }
    /* Metadata up to v4, whose requests say whether a missing topic may be created: at v2 (its
     * default) the mock creates any topic a client asks about, and a sink's producer
     * (allow.auto.create.topics=false) could not find out that its topic does not exist */
    rd_kafka_mock_set_apiversion(m->cluster, 3 /* Metadata */, 0, 4);
    return m;
fail:
    wr_kafka_mock_destroy(&m);
    return NULL;
}

void wr_kafka_mock_destroy(wr_kafka_mock_t **mp)
{
    wr_kafka_mock_t *m = *mp;
    if (!m) return;
    if (m->cluster) {
        /* at once for its clients: the destroy below can take a second (kafka_mock.h) */
        rd_kafka_mock_broker_set_down(m->cluster, WR_KAFKA_MOCK_ALL);
        rd_kafka_mock_cluster_destroy(m->cluster);
    }
    if (m->rk) rd_kafka_destroy(m->rk);
    free(m);
    *mp = NULL;
}

const char *wr_kafka_mock_bootstraps(const wr_kafka_mock_t *m)
{
    return rd_kafka_mock_cluster_bootstraps(m->cluster);
}

int wr_kafka_mock_brokers(const wr_kafka_mock_t *m)
{
    return m->brokers;
}

/* Kafka's rule for topic names: 1 to 249 of [a-zA-Z0-9._-], not "." nor "..". */
static bool s_topic_name_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > S_TOPIC_MAX || !strcmp(t, ".") || !strcmp(t, "..")) return false;
    return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int wr_kafka_mock_topic_create(wr_kafka_mock_t *m, const char *topic, int partitions,
                               wr_strbuf_t *err)
{
    if (!s_topic_name_ok(topic)) {
        wr_strbuf_addf(err, "'%.64s' is no topic name (1 to %d of a-z, A-Z, 0-9, '.', '_', '-')",
                       topic, S_TOPIC_MAX);
        return WR_EINVAL;
    }
    if (partitions < 1 || partitions > WR_KAFKA_MOCK_MAX_PARTITIONS) {
        wr_strbuf_addf(err, "topic %s: %d partitions is not 1 to %d", topic, partitions,
                       WR_KAFKA_MOCK_MAX_PARTITIONS);
        return WR_EINVAL;
    }
    int replicas = m->brokers < 3 ? m->brokers : 3;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->cluster, topic, partitions, replicas);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        wr_strbuf_addf(err, "topic %s exists already", topic);
        return WR_EEXIST;
    }
    wr_strbuf_addf(err, "topic %s: %s", topic, rd_kafka_err2str(e));
    return WR_EIO;
}

static int s_broker_set(wr_kafka_mock_t *m, int broker, bool up, wr_strbuf_t *err)
{
    if (broker != WR_KAFKA_MOCK_ALL && (broker < 1 || broker > m->brokers)) {
        wr_strbuf_addf(err, "no broker %d: the brokers are 1 to %d", broker, m->brokers);
        return WR_ENOTFOUND;
    }
    rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(m->cluster, broker)
                               : rd_kafka_mock_broker_set_down(m->cluster, broker);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    wr_strbuf_addf(err, "broker %d %s: %s", broker, up ? "up" : "down", rd_kafka_err2str(e));
    return WR_EIO;
}

int wr_kafka_mock_broker_down(wr_kafka_mock_t *m, int broker, wr_strbuf_t *err)
{
    return s_broker_set(m, broker, false, err);
}

int wr_kafka_mock_broker_up(wr_kafka_mock_t *m, int broker, wr_strbuf_t *err)
{
    return s_broker_set(m, broker, true, err);
}
