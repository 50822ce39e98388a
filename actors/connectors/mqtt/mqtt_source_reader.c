/* The MQTT source's reader (mqtt_source_internal.h): one libmosquitto client per subtask, whose
 * network thread (mosquitto_loop_start) connects, subscribes on every connection, reconnects
 * with back-off and pushes each message into the bounded queue (mqtt_queue.h). The subtask's
 * read call takes the queue whole and parses each payload's lines with textin straight into the
 * batch; when the batch fills inside a payload, the rest waits for the next call. What the
 * network thread learns (connected, subscribed, refused) it notes under the reader's lock; only
 * the subtask's thread logs. */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/mqtt/mqtt_queue.h"
#include "actors/connectors/mqtt/mqtt_source_internal.h"
#include "actors/connectors/textin.h"
#include "actors/connectors/textsrc.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_KEEPALIVE     30  /* s */
#define S_RECEIVE_MAX   100 /* QoS 1 messages in flight to a subscriber */
#define S_RECONNECT_MIN 1   /* s, doubling up to */
#define S_RECONNECT_MAX 30
#define S_MS            INT64_C(1000000)

/* What the network thread saw (under lock). */
typedef struct {
    bool connected, subscribed;
    int64_t subscribed_ns; /* when the last subscription was granted */
    uint64_t connects, losses;
    int lost_rc;   /* the last connection loss's reason (MOSQ_ERR_* or MQTT reason code) */
    int fatal;     /* WR_E*: the broker refused the connection or a subscription */
    char why[256]; /* of fatal */
} s_net_t;

typedef struct {
    const wr_mqtt_source_config_t *c;
    uint32_t subtask, parallelism;
    char host[WR_PARAM_STRING_MAX];
    int port;
    char client_id[WR__MQTT_NAME_MAX];
    char **filters; /* what it subscribes to ($share/GROUP/FILTER) */
    int nfilters;
    wr_textin_t *text;
    struct mosquitto *mosq;
    bool looping;      /* the network thread runs */
    bool start_failed; /* on_unavailable: wait, and the broker was down at start */
    wr__mqtt_queue_t *q;
    pthread_mutex_t lock;
    s_net_t net;
    /* the messages taken, being read: buf[at...]; the one started, cur */
    wr_strbuf_t buf;
    size_t at;
    const char *topic, *payload;
    size_t len, done; /* payload bytes, of which done are read; len 0 and !topic: none */
    /* the split */
    bool has_split, idle, ended;
    uint32_t slot;
    char split_id[WR_SPLIT_ID_MAX];
    int64_t last_ns; /* the last message, or the start */
    /* what is reported */
    uint64_t messages, records, connects_seen, losses_seen;
    wr_textsrc_log_t log; /* skipped lines */
    uint32_t empty;       /* reads in a row that found nothing (the retry's back-off) */
    wr_logrl_t rl;
} s_reader_t;

/* ---- libmosquitto's callbacks, on its network thread ---- */

static void s_note_fatal(s_reader_t *r, const char *fmt, const char *what)
{
    pthread_mutex_lock(&r->lock);
    if (!r->net.fatal) {
        r->net.fatal = WR_EIO;
        snprintf(r->net.why, sizeof r->net.why, fmt, what);
    }
    pthread_mutex_unlock(&r->lock);
}

static void s_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                         const mosquitto_property *props)
{
    (void)flags;
    (void)props;
    s_reader_t *r = obj;
    if (rc) { /* a refusal (not authorised, a bad client id): trying again will not help */
        s_note_fatal(r, "the broker refused the connection: %.200s", mosquitto_reason_string(rc));
        mosquitto_disconnect(mosq);
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->net.connected = true;
    r->net.connects++;
    pthread_mutex_unlock(&r->lock);
    /* every time: a clean session forgot them, and asking again is harmless otherwise */
    rc = mosquitto_subscribe_multiple(mosq, NULL, r->nfilters, r->filters, (int)r->c->qos, 0, NULL);
    if (rc) s_note_fatal(r, "cannot subscribe: %.200s", mosquitto_strerror(rc));
}

static void s_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
                           const mosquitto_property *props)
{
    (void)mosq;
    (void)mid;
    (void)props;
    s_reader_t *r = obj;
    for (int i = 0; i < n && i < r->nfilters; i++) {
        if (granted[i] < 0x80) continue;
        char what[256];
        snprintf(what, sizeof what, "%.160s (%.60s)", r->filters[i],
                 mosquitto_reason_string(granted[i]));
        s_note_fatal(r, "the broker refused the subscription to %.200s", what);
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->net.subscribed = true;
    r->net.subscribed_ns = wr_coarse_ns();
    pthread_mutex_unlock(&r->lock);
}

static void s_on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                            const mosquitto_property *props)
{
    (void)mosq;
    (void)props;
    s_reader_t *r = obj;
    pthread_mutex_lock(&r->lock);
    r->net.connected = r->net.subscribed = false;
    if (rc) {
        r->net.losses++;
        r->net.lost_rc = rc;
    }
    pthread_mutex_unlock(&r->lock);
}

static void s_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
                         const mosquitto_property *props)
{
    (void)mosq;
    (void)props;
    s_reader_t *r = obj;
    /* waits while the queue is full (back-pressure); refused only once closing (counted) */
    wr__mqtt_queue_push(r->q, m->topic, m->payload, m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
}

/* ---- skipped lines ---- */

/* textin's on_bad: msg is ":LINE: what is wrong" (the topic comes first) */
static void s_on_bad(void *ctx, const char *msg)
{
    s_reader_t *r = ctx;
    wr_textsrc_log_one(&r->log, wr_textin_stats(r->text)->bad,
                       "mqtt source %u/%u: skipped a line of a message on %s%s", r->subtask,
                       r->parallelism, r->topic, msg);
}

/* ---- lifecycle ---- */

static pthread_once_t s_lib_once = PTHREAD_ONCE_INIT;

static void s_lib_init(void)
{
    mosquitto_lib_init(); /* (process-wide: OpenSSL and the random seed) */
}

/* Messages taken or queued but never read: counted and logged at close. */
static uint64_t s_unread(s_reader_t *r)
{
    uint64_t n = r->topic ? 1 : 0;
    const char *topic, *payload;
    size_t len;
    do {
        while (wr__mqtt_queue_next(&r->buf, &r->at, &topic, &payload, &len))
            n++;
        r->at = 0;
    } while (wr__mqtt_queue_take(r->q, &r->buf));
    return n;
}

void wr__msrc_close(void **rp)
{
    s_reader_t *r = *rp;
    if (!r) return;
    if (r->q) wr__mqtt_queue_close(r->q); /* a push waiting for room returns */
    if (r->mosq) {
        /* (a normal disconnection: the broker keeps the session for session_expiry) */
        mosquitto_disconnect_v5(r->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
        if (r->looping) mosquitto_loop_stop(r->mosq, false);
        mosquitto_destroy(r->mosq);
    }
    if (r->text) wr_textsrc_log_sum(&r->log, wr_textin_stats(r->text)->bad, true);
    if (r->q) {
        uint64_t unread = s_unread(r), refused = wr__mqtt_queue_dropped(r->q);
        if (unread || refused)
            wr_warn("mqtt source %u/%u: closing with %llu messages received and not read, %llu "
                    "refused while closing (libmosquitto acknowledged them: they are lost)",
                    r->subtask, r->parallelism, (unsigned long long)unread,
                    (unsigned long long)refused);
        wr__mqtt_queue_destroy(&r->q);
    }
    for (int i = 0; i < r->nfilters; i++)
        free(r->filters[i]);
    free(r->filters);
    wr_textin_destroy(&r->text);
    wr_strbuf_release(&r->buf);
    pthread_mutex_destroy(&r->lock);
    free(r);
    *rp = NULL;
}

/* The filters to subscribe to: each topic line, as $share/GROUP/FILTER unless share_group is
 * none. */
static int s_filters(s_reader_t *r, const wr_source_open_t *o)
{
    const wr_mqtt_source_config_t *c = r->c;
    char group[WR__MQTT_NAME_MAX] = "";
    if (!strcmp(c->share_group, "auto"))
        snprintf(group, sizeof group, "weir-%s-%s", o->job ? o->job : "job",
                 o->name ? o->name : "source");
    else if (strcmp(c->share_group, "none"))
        snprintf(group, sizeof group, "%s", c->share_group);
    size_t at = 0, len;
    const char *line;
    while (wr_params_next_line(c->topics, &at, &line, &len))
        r->nfilters++;
    if (!(r->filters = calloc((size_t)r->nfilters, sizeof *r->filters))) return WR_ENOMEM;
    at = 0;
    for (int i = 0; wr_params_next_line(c->topics, &at, &line, &len); i++) {
        wr_strbuf_t f;
        wr_strbuf_init(&f);
        if (group[0]) wr_strbuf_addf(&f, "$share/%s/", group);
        wr_strbuf_add(&f, line, len);
        if (f.failed || !(r->filters[i] = wr_strbuf_detach(&f, NULL))) {
            wr_strbuf_release(&f);
            return WR_ENOMEM;
        }
    }
    return 0;
}

/* libmosquitto's error for messages: errno's text for MOSQ_ERR_ERRNO. */
static const char *s_mosq_error(int rc)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* The client: options, credentials, TLS, callbacks. */
static int s_client(s_reader_t *r, wr_strbuf_t *err)
{
    const wr_mqtt_source_config_t *c = r->c;
    wr__mqtt_tls_t tls;
    int rc = wr__mqtt_tls_read(c->tls, &tls, err);
    if (rc) return rc;
    if (!(r->mosq = mosquitto_new(r->client_id, c->clean_start, r))) return WR_ENOMEM;
    mosquitto_int_option(r->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(r->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, S_RECEIVE_MAX);
    mosquitto_reconnect_delay_set(r->mosq, S_RECONNECT_MIN, S_RECONNECT_MAX, true);
    mosquitto_connect_v5_callback_set(r->mosq, s_on_connect);
    mosquitto_subscribe_v5_callback_set(r->mosq, s_on_subscribe);
    mosquitto_disconnect_v5_callback_set(r->mosq, s_on_disconnect);
    mosquitto_message_v5_callback_set(r->mosq, s_on_message);
    int mrc = c->username ? mosquitto_username_pw_set(r->mosq, c->username, c->password) : 0;
    if (mrc) {
        wr_strbuf_addf(err, "mqtt source: username: %s", s_mosq_error(mrc));
        return WR_ECONFIG;
    }
    if (c->tls && (mrc = mosquitto_tls_set(r->mosq, tls.cafile, tls.capath, tls.certfile,
                                           tls.keyfile, NULL))) {
        wr_strbuf_addf(err,
                       "mqtt source: tls (cafile %s, capath %s, certfile %s, keyfile %s): %s "
                       "(a file that cannot be read?)",
                       tls.cafile ? tls.cafile : "-", tls.capath ? tls.capath : "-",
                       tls.certfile ? tls.certfile : "-", tls.keyfile ? tls.keyfile : "-",
                       s_mosq_error(mrc));
        return WR_ECONFIG;
    }
    return 0;
}

/* Connects (the TCP connection now; the broker's answer comes to s_on_connect) and starts the
 * network thread, which reconnects from then on. A broker that cannot be reached fails under
 * on_unavailable: fail, and is tried again by the network thread under wait. */
static int s_connect(s_reader_t *r, wr_strbuf_t *err)
{
    const wr_mqtt_source_config_t *c = r->c;
    mosquitto_property *props = NULL;
    uint32_t expiry = c->clean_start ? 0 : (uint32_t)(c->session_expiry_ms / 1000);
    if (mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, expiry))
        return WR_ENOMEM;
    int mrc = mosquitto_connect_bind_v5(r->mosq, r->host, r->port, S_KEEPALIVE, NULL, props);
    mosquitto_property_free_all(&props);
    if (mrc && c->on_unavailable == WR_MQTT_UNAVAILABLE_FAIL) {
        wr_strbuf_addf(err,
                       "mqtt source: cannot reach the broker %s: %s (on_unavailable: wait keeps "
                       "trying)",
                       c->broker, s_mosq_error(mrc));
        return WR_EIO;
    }
    r->start_failed = mrc != 0;
    if (mrc)
        wr_warn("mqtt source %u/%u: cannot reach the broker %s: %s (on_unavailable: wait: "
                "trying again)",
                r->subtask, r->parallelism, c->broker, s_mosq_error(mrc));
    if ((mrc = mosquitto_loop_start(r->mosq))) {
        wr_strbuf_addf(err, "mqtt source: cannot start the network thread: %s", s_mosq_error(mrc));
        return WR_EIO;
    }
    r->looping = true;
    return 0;
}

int wr__msrc_open(const void *config, const wr_source_open_t *o, void **rp, wr_strbuf_t *err)
{
    const wr_mqtt_source_config_t *c = config;
    pthread_once(&s_lib_once, s_lib_init);
    s_reader_t *r = calloc(1, sizeof *r);
    if (!r) return WR_ENOMEM;
    if (pthread_mutex_init(&r->lock, NULL)) {
        free(r);
        return WR_ENOMEM;
    }
    *rp = r;
    r->c = c;
    r->subtask = o->subtask;
    r->parallelism = o->parallelism;
    r->last_ns = wr_coarse_ns();
    wr_strbuf_init(&r->buf);
    wr_logrl_init(&r->rl, 0);
    wr_textsrc_log_init(&r->log, "mqtt source %u/%u", o->subtask, o->parallelism);
    if (!strcmp(c->client_id, "auto"))
        snprintf(r->client_id, sizeof r->client_id, "weir-%s-%s-%u", o->job ? o->job : "job",
                 o->name ? o->name : "source", o->subtask);
    else
        snprintf(r->client_id, sizeof r->client_id, "%s-%u", c->client_id, o->subtask);
    wr_textin_options_t to = {.format = c->format,
                              .on_error = c->on_error,
                              .max_line = c->max_line,
                              .name = "",
                              .on_bad = s_on_bad,
                              .ctx = r};
    int rc = 0;
    if (!wr__mqtt_broker(c->broker, r->host, sizeof r->host, &r->port)) {
        wr_strbuf_addf(err, "mqtt source: broker '%s' is not HOST:PORT", c->broker);
        rc = WR_ECONFIG;
    }
    if (!rc && !(r->text = wr_textin_new(o->schema, &to))) rc = WR_ENOMEM;
    if (!rc && !(r->q = wr__mqtt_queue_new((size_t)c->queue_bytes))) rc = WR_ENOMEM;
    if (!rc) rc = s_filters(r, o);
    if (!rc) rc = s_client(r, err);
    if (!rc) rc = s_connect(r, err);
    if (rc) wr__msrc_close(rp);
    return rc;
}

int wr__msrc_add_split(void *rp, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    if (r->has_split || s->pos_len) {
        wr_strbuf_addf(err, "mqtt source: split %s is not one subtask's subscription", s->id);
        return WR_EPROTO;
    }
    r->has_split = true;
    r->slot = slot;
    snprintf(r->split_id, sizeof r->split_id, "%s", s->id);
    return 0;
}

/* ---- reading ---- */

/* What the network thread noted: logged here (losses and reconnections), a refusal fails. */
static int s_net(s_reader_t *r, s_net_t *net, wr_strbuf_t *err)
{
    pthread_mutex_lock(&r->lock);
    *net = r->net;
    pthread_mutex_unlock(&r->lock);
    if (net->fatal) {
        wr_strbuf_addf(err, "mqtt source: broker %s: %s", r->c->broker, net->why);
        return net->fatal;
    }
    if (net->losses != r->losses_seen) {
        wr_warn_limited(&r->rl, "mqtt source %u/%u: lost the connection to %s (%s): reconnecting",
                        r->subtask, r->parallelism, r->c->broker,
                        net->lost_rc < 0x80 ? mosquitto_strerror(net->lost_rc)
                                            : mosquitto_reason_string(net->lost_rc));
        r->losses_seen = net->losses;
    }
    if (net->connects != r->connects_seen) {
        wr_info("mqtt source %u/%u: connected to %s as %s", r->subtask, r->parallelism,
                r->c->broker, r->client_id);
        r->connects_seen = net->connects;
    }
    return 0;
}

/* The next message to read into r->topic/payload/len: false when none is queued. */
static bool s_next_message(s_reader_t *r)
{
    for (;;) {
        if (wr__mqtt_queue_next(&r->buf, &r->at, &r->topic, &r->payload, &r->len)) {
            r->done = 0;
            wr_textin_seek(r->text, 0, 0); /* (line numbers in messages are the payload's) */
            return true;
        }
        r->at = 0;
        r->topic = NULL;
        if (!wr__mqtt_queue_take(r->q, &r->buf)) return false;
    }
}

/* Reads as much of the current message as b has room for. */
static int s_message(s_reader_t *r, wr_batch_t *b, wr_strbuf_t *err)
{
    size_t used = 0;
    int rc = wr_textin_parse(r->text, r->payload + r->done, r->len - r->done, true, b, NULL, &used);
    r->done += used;
    if (rc) {
        const char *why = wr_textin_error(r->text);
        wr_strbuf_addf(err, "mqtt source, broker %s, topic %s%s", r->c->broker, r->topic,
                       why[0] ? why : wr_strerror(rc));
        if (rc == WR_ETOOBIG)
            wr_strbuf_adds(err, " (the source's max_line sets the limit; on_error: skip skips it)");
        return rc;
    }
    if (r->done == r->len) {
        r->topic = NULL; /* read to its end */
        r->messages++;
    }
    return 0;
}

int wr__msrc_read(void *rp, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    wr_batch_t *b = wr_source_read_batch(rd);
    int64_t now = wr_coarse_ns();
    s_net_t net;
    int rc = s_net(r, &net, err);
    uint32_t cap = b->cap, before = b->count;
    bool drained = false;
    b->cap = b->count + wr_source_read_room(rd); /* textin fills a batch to its capacity */
    bool took = false; /* a message, even one without a record (skipped lines, empty) */
    while (!rc && r->has_split && !r->ended && b->count < b->cap) {
        if (!r->topic && !s_next_message(r)) {
            drained = true;
            break;
        }
        took = true;
        rc = s_message(r, b, err);
    }
    b->cap = cap;
    if (b->count > before) {
        wr_source_read_rows(rd, r->slot);
        r->records += b->count - before;
        r->idle = false;
    }
    if (took) r->last_ns = now;
    uint64_t bad = wr_textin_stats(r->text)->bad;
    wr_textsrc_log_sum(&r->log, bad, false);
    wr_source_read_skipped(rd, bad);
    int64_t quiet = now - (net.subscribed_ns > r->last_ns ? net.subscribed_ns : r->last_ns);
    /* idle: without messages for idle_timeout, or waiting for a broker down since the start
     * (on_unavailable: wait); a connection lost later counts as time without messages */
    bool unreachable = r->start_failed && !net.connects;
    if (!rc && drained && !r->idle &&
        (unreachable ||
         (r->c->idle_timeout_ms && now - r->last_ns >= r->c->idle_timeout_ms * S_MS))) {
        r->idle = true;
        wr_source_read_idle(rd, r->slot);
    }
    if (!rc && drained && r->c->end_after_idle_ms && net.subscribed &&
        quiet >= r->c->end_after_idle_ms * S_MS && !r->ended) {
        r->ended = true;
        wr_source_read_done(rd, r->slot);
        wr_info("mqtt source %u/%u: ending (end_after_idle: nothing for %lld ms) after %llu "
                "messages, %llu records",
                r->subtask, r->parallelism, (long long)r->c->end_after_idle_ms,
                (unsigned long long)r->messages, (unsigned long long)r->records);
    }
    *st = b->count > before ? WR_SOURCE_MORE : r->ended ? WR_SOURCE_END : WR_SOURCE_WAIT;
    /* nothing now: ask to be read again soon, backing off (1, 2, 4 ... 64 ms) while nothing
     * comes */
    r->empty = *st == WR_SOURCE_WAIT ? r->empty + (r->empty < 7) : 0;
    if (*st == WR_SOURCE_WAIT) wr_source_read_retry(rd, 1u << r->empty >> 1);
    return rc;
}

/* ---- checkpoints ---- */

int wr__msrc_snapshot(void *rp, wr_source_snap_t *snap)
{
    s_reader_t *r = rp;
    if (!r->has_split || r->ended) return 0;
    return wr_source_snap_split(snap, r->slot, r->split_id, NULL, 0);
}
