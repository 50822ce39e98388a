/* librdkafka configuration, logs and errors (kafka_client.h). */
#include "actors/connectors/kafka/kafka_client.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "actors/connectors/params.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

/* librdkafka's syslog levels onto weir's log. Its errors are warnings here: they are what it
 * retries itself (a broker that refuses connections); what fails a source or a sink reaches it
 * through librdkafka's error callbacks and results, and is logged or reported there. */
static void s_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const char *who = rk ? rd_kafka_name(rk) : "kafka";
    if (level <= 4)
        wr_warn("kafka %s: %s: %s", who, fac, buf);
    else
        wr_debug("kafka %s: %s: %s", who, fac, buf);
}

static int s_set(rd_kafka_conf_t *conf, const char *name, const char *value, const char *where,
                 wr_strbuf_t *err)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK) return 0;
    wr_strbuf_addf(err, "%s%s: %s", where, name, why);
    return WR_ECONFIG;
}

rd_kafka_conf_t *wr_kafka_conf_new(const char *bootstrap, const char *properties,
                                   const wr_kafka_prop_t *fixed, uint32_t nfixed, wr_strbuf_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        wr_strbuf_adds(err, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, s_log);
    int rc = s_set(conf, "bootstrap.servers", bootstrap, "", err);
    size_t at = 0, len;
    const char *line;
    char name[256], value[WR_PARAM_STRING_MAX];
    while (!rc && wr_params_next_line(properties, &at, &line, &len)) {
        const char *eq = memchr(line, '=', len);
        size_t nlen = (size_t)(eq - line);
        if (nlen >= sizeof name) {
            wr_strbuf_addf(err, "properties: %.*s...: name too long", 32, line);
            rc = WR_ECONFIG;
            break;
        }
        memcpy(name, line, nlen);
        name[nlen] = '\0';
        memcpy(value, eq + 1, len - nlen - 1);
        value[len - nlen - 1] = '\0';
        rc = s_set(conf, name, value, "properties: ", err);
    }
    for (uint32_t i = 0; !rc && i < nfixed; i++)
        rc = s_set(conf, fixed[i].name, fixed[i].value, "", err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

int wr_kafka_code(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return 0;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
        return WR_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return WR_ENOTFOUND;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        return WR_EPERM;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
        return WR_ESTALE;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return WR_EAGAIN;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__STATE:
        return WR_EINVAL;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        return WR_ETIMEDOUT;
    default:
        return WR_EIO;
    }
}

rd_kafka_t *wr_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                         wr_strbuf_t *err)
{
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf); /* (rd_kafka_new takes it only when it succeeds) */
        wr_strbuf_addf(err, "%s%s%s", what ? what : "", what ? ": " : "", why);
    }
    return rk;
}

/* The rest of a consumer's close, on a thread of its own: rd_kafka_destroy returns once the
 * commits in flight are answered or time out (socket.timeout.ms). */
static void *s_reap(void *arg)
{
    rd_kafka_t *rk = arg;
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return NULL;
}

void wr_kafka_consumer_destroy(rd_kafka_t **rkp, int wait_ms)
{
    rd_kafka_t *rk = *rkp;
    if (!rk) return;
    *rkp = NULL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_error_t *e = q ? rd_kafka_consumer_close_queue(rk, q) : NULL;
    bool closed = false;
    if (q && !e) {
        int64_t deadline = wr_now_ns() + (int64_t)wait_ms * 1000000;
        while (!(closed = rd_kafka_consumer_closed(rk)) && wr_now_ns() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20);
            if (ev) rd_kafka_event_destroy(ev);
        }
    }
    if (e) rd_kafka_error_destroy(e);
    if (q) rd_kafka_queue_destroy(q);
    if (closed || !q || e) {
        rd_kafka_destroy(rk);
        return;
    }
    pthread_attr_t at;
    pthread_t t;
    bool reaped = !pthread_attr_init(&at) &&
                  !pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) &&
                  !pthread_create(&t, &at, s_reap, rk);
    pthread_attr_destroy(&at);
    wr_warn("kafka %s: not closed within %d ms (brokers unreachable?): %s", rd_kafka_name(rk),
            wait_ms,
            reaped ? "its close goes on in the background until its offset commits are answered or "
                     "time out"
                   : "waiting for it here");
    if (!reaped) s_reap(rk);
}

int wr_kafka_error(rd_kafka_error_t *e, const char *what, wr_strbuf_t *err)
{
    if (!e) return 0;
    int rc = wr_kafka_code(rd_kafka_error_code(e));
    if (err) wr_strbuf_addf(err, "%s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return rc ? rc : WR_EIO;
}
