/* One librdkafka producer of the Kafka sink (kafka_sink.h): its settings, its topic checked,
 * messages sent with backpressure, delivery reports and fatal errors collected, transactions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_client.h"
#include "actors/connectors/kafka/kafka_sink.h"
#include "actors/connectors/kafka/kafka_txnlog.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_FLUSH_MS   600000 /* past message.timeout.ms (5 min by default): every message resolves */
#define S_TXN_MS     60000  /* init_transactions, commit_transaction */
#define S_COMMIT_TRY 5      /* commit_transaction calls while librdkafka says retriable */

struct wr__kafka_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    const char *topic; /* the config's */
    bool txn;
    char txn_id[WR_KAFKA_TXN_ID_MAX];
    size_t txn_len;
    uint64_t failed;      /* messages the brokers did not take */
    char failed_why[256]; /* the first one's reason */
    bool fatal;
    rd_kafka_resp_err_t fatal_code;
    char fatal_why[512];
};

/* Delivery reports (served by poll and flush, on the caller's thread). */
static void s_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    wr__kafka_producer_t *p = opaque;
    if (m->err && !p->failed++)
        snprintf(p->failed_why, sizeof p->failed_why, "%s", rd_kafka_err2str(m->err));
}

static void s_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    wr__kafka_producer_t *p = opaque;
    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        wr_debug("kafka sink %s: %s (retried)", rd_kafka_name(rk), reason);
        return;
    }
    char why[sizeof p->fatal_why - 32];
    p->fatal_code = rd_kafka_fatal_error(rk, why, sizeof why);
    p->fatal = true;
    snprintf(p->fatal_why, sizeof p->fatal_why, "fatal error: %s (%s)", why,
             rd_kafka_err2name(p->fatal_code));
}

/* The fatal error, if any: WR_EIO (WR_ESTALE when fenced) with its text in err. */
static int s_fatal(const wr__kafka_producer_t *p, wr_strbuf_t *err)
{
    if (!p->fatal) return 0;
    wr_strbuf_adds(err, p->fatal_why);
    return wr_kafka_code(p->fatal_code) == WR_ESTALE ? WR_ESTALE : WR_EIO;
}

/* Asks the brokers for the topic until it has partitions, for timeout_ms at most. */
static int s_check_topic(wr__kafka_producer_t *p, const char *bootstrap, int timeout_ms,
                         wr_strbuf_t *err)
{
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        const struct rd_kafka_metadata *md = NULL;
        e = rd_kafka_metadata(p->rk, 0, p->rkt, &md, timeout_ms - waited);
        if (!e) {
            e = md->topic_cnt != 1                ? RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC
                : md->topics[0].err               ? md->topics[0].err
                : md->topics[0].partition_cnt < 1 ? RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE
                                                  : RD_KAFKA_RESP_ERR_NO_ERROR;
            rd_kafka_metadata_destroy(md);
        }
        if (!e) return 0;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            wr_strbuf_addf(err, "topic '%s' does not exist on %s (the sink does not create topics)",
                           p->topic, bootstrap);
            return WR_ENOTFOUND;
        }
        if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT) break;
        rd_kafka_poll(p->rk, 100); /* a leader being elected: ask again */
    }
    wr_strbuf_addf(err, "topic '%s' on %s: %s", p->topic, bootstrap, rd_kafka_err2str(e));
    return wr_kafka_code(e) == WR_ETIMEDOUT ? WR_ETIMEDOUT : WR_EIO;
}

/* A producer; check_topic: ask for the topic first (a fence needs no topic). */
static wr__kafka_producer_t *s_new(const wr_kafka_sink_config_t *c, const char *txn_id,
                                   int timeout_ms, bool check_topic, int *rc, wr_strbuf_t *err)
{
    wr__kafka_producer_t *p = calloc(1, sizeof *p);
    if (!p) {
        *rc = WR_ENOMEM;
        return NULL;
    }
    p->topic = c->topic;
    p->txn = txn_id != NULL;
    if (p->txn) {
        snprintf(p->txn_id, sizeof p->txn_id, "%s", txn_id);
        p->txn_len = strlen(p->txn_id);
    }
    char timeout[24];
    snprintf(timeout, sizeof timeout, "%d", WR_KAFKA_TXN_TIMEOUT_MS);
    const wr_kafka_prop_t fixed[] = {{"acks", "all"},
                                     {"enable.idempotence", "true"},
                                     {"allow.auto.create.topics", "false"},
                                     {"transactional.id", txn_id},
                                     {"transaction.timeout.ms", timeout}};
    uint32_t nfixed = p->txn ? 5 : 3;
    rd_kafka_conf_t *conf = wr_kafka_conf_new(c->bootstrap, c->properties, fixed, nfixed, err);
    *rc = conf ? 0 : WR_ECONFIG;
    if (conf) {
        rd_kafka_conf_set_opaque(conf, p);
        rd_kafka_conf_set_dr_msg_cb(conf, s_delivered);
        rd_kafka_conf_set_error_cb(conf, s_error);
        if (!(p->rk = wr_kafka_new(RD_KAFKA_PRODUCER, conf, NULL, err))) *rc = WR_ECONFIG;
    }
    if (!*rc && !(p->rkt = rd_kafka_topic_new(p->rk, c->topic, NULL))) {
        wr_strbuf_addf(err, "topic '%s': %s", c->topic, rd_kafka_err2str(rd_kafka_last_error()));
        *rc = WR_EINVAL;
    }
    if (!*rc && check_topic) *rc = s_check_topic(p, c->bootstrap, timeout_ms, err);
    if (!*rc && p->txn)
        *rc =
            wr_kafka_error(rd_kafka_init_transactions(p->rk, timeout_ms), "init_transactions", err);
    if (*rc) wr__kafka_producer_destroy(&p);
    return p;
}

wr__kafka_producer_t *wr__kafka_producer_new(const wr_kafka_sink_config_t *c, const char *txn_id,
                                             int timeout_ms, int *rc, wr_strbuf_t *err)
{
    return s_new(c, txn_id, timeout_ms, true, rc, err);
}

void wr__kafka_producer_destroy(wr__kafka_producer_t **pp)
{
    if (!pp || !*pp) return;
    wr__kafka_producer_t *p = *pp;
    if (p->rkt) rd_kafka_topic_destroy(p->rkt);
    if (p->rk) rd_kafka_destroy(p->rk);
    free(p);
    *pp = NULL;
}

int wr__kafka_producer_begin(wr__kafka_producer_t *p, wr_strbuf_t *err)
{
    return wr_kafka_error(rd_kafka_begin_transaction(p->rk), "begin_transaction", err);
}

int wr__kafka_producer_send(wr__kafka_producer_t *p, const void *key, size_t klen,
                            const void *value, size_t vlen, wr_strbuf_t *err)
{
    for (;;) {
        rd_kafka_resp_err_t e =
            p->txn ? rd_kafka_producev(
                         p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                         RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
                         RD_KAFKA_V_HEADER(WR_KAFKA_TXN_HEADER, p->txn_id, (ssize_t)p->txn_len),
                         RD_KAFKA_V_END)
                   : rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(p->rkt),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_KEY(key, klen),
                                       RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
        int rc = s_fatal(p, err);
        if (rc) return rc;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            wr_strbuf_addf(err, "produce: %s", rd_kafka_err2str(e));
            return wr_kafka_code(e);
        }
        rd_kafka_poll(p->rk, 100); /* backpressure: deliveries make room */
    }
}

int wr__kafka_producer_poll(wr__kafka_producer_t *p, wr_strbuf_t *err)
{
    rd_kafka_poll(p->rk, 0);
    return s_fatal(p, err);
}

int wr__kafka_producer_flush(wr__kafka_producer_t *p, wr_strbuf_t *err)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, S_FLUSH_MS);
    int rc = s_fatal(p, err);
    if (!rc && p->failed) {
        wr_strbuf_addf(err, "%llu messages not delivered: %s", (unsigned long long)p->failed,
                       p->failed_why);
        rc = WR_EIO;
    }
    if (!rc && e) {
        wr_strbuf_addf(err, "%d messages still not delivered after %d s: %s",
                       rd_kafka_outq_len(p->rk), S_FLUSH_MS / 1000, rd_kafka_err2str(e));
        rc = WR_ETIMEDOUT;
    }
    return rc;
}

int wr__kafka_producer_commit(wr__kafka_producer_t *p, wr_strbuf_t *err)
{
    for (int tries = 1;; tries++) {
        rd_kafka_error_t *e = rd_kafka_commit_transaction(p->rk, S_TXN_MS);
        if (!e) return 0;
        if (tries < S_COMMIT_TRY && rd_kafka_error_is_retriable(e)) {
            rd_kafka_error_destroy(e);
            continue;
        }
        return wr_kafka_error(e, "commit_transaction", err);
    }
}

int wr__kafka_fence(const wr_kafka_sink_config_t *c, const char *txn_id, wr_strbuf_t *err)
{
    int rc;
    wr__kafka_producer_t *p = s_new(c, txn_id, S_TXN_MS, false, &rc, err);
    wr__kafka_producer_destroy(&p);
    return rc;
}
