/* The MQTT source's reader (mqtt_source_internal.h): one libmosquitto client per subtask, whose
 * network thread (s_network: weir's own loop around mosquitto_loop) connects, subscribes on every
 * connection, reconnects with back-off and pushes each message into the bounded queue
 * (mqtt_queue.h). The subtask's
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

#include "actors/connectors/mqtt/mqtt_drain.h"
#include "actors/connectors/mqtt/mqtt_queue.h"
#include "actors/connectors/mqtt/mqtt_source_internal.h"
#include "actors/connectors/textin.h"
#include "actors/connectors/textsrc.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/stopper.h"

#define S_KEEPALIVE     30  /* s */
#define S_RECEIVE_MAX   100 /* QoS 1 messages in flight to a subscriber */
#define S_RECONNECT_MIN 1   /* s, times the square of the attempt, up to */
#define S_RECONNECT_MAX 30
#define S_MS            INT64_C(1000000)
#define S_LOOP_MS                                                                                  \
    200 /* the network thread's longest wait in mosquitto_loop: how soon it                        \
           sees that the reader closes */

/* What the network thread saw (under lock). */
typedef struct {
    bool connected, subscribed;
    int64_t subscribed_ns; /* when the last subscription was granted */
    uint64_t connects, losses;
    int lost_rc;   /* the last connection loss's reason (MOSQ_ERR_* or MQTT reason code) */
    int fatal;     /* WR_E*: the broker refused the connection or a subscription */
    char why[256]; /* of fatal */
} s_net_t;

/* Messages of one split: its queue, which a network thread fills, and the cursor reading it. */
typedef struct {
    wr__mqtt_queue_t *q;
    wr__mqtt_cursor_t cur;
    uint32_t slot;
} s_feed_t;

/* A gone subtask's session this subtask drains (mqtt_drain.h): a split of its own, whose
 * messages come through a queue of their own, so that each split's records stay in the order
 * its session received them (watermarks are per split). */
typedef struct {
    s_feed_t feed;
    char split_id[WR_SPLIT_ID_MAX];
    char client_id[WR__MQTT_NAME_MAX];
    wr__mqtt_drain_t *drain; /* NULL once it is done */
    bool done;               /* the session is gone and every message of it read */
} s_drained_t;

#define S_DRAINS_MAX 64 /* gone subtasks' sessions one subtask drains */

typedef struct {
    const wr_mqtt_source_config_t *c;
    uint32_t subtask, parallelism;
    char host[WR_PARAM_STRING_MAX];
    int port;
    char client_id[WR__MQTT_NAME_MAX];
    char client_base[WR__MQTT_NAME_MAX - 16]; /* the client id less its subtask number */
    char **filters;                           /* what it subscribes to ($share/GROUP/FILTER) */
    int nfilters;
    wr_textin_t *text;
    struct mosquitto *mosq;
    pthread_t thread;     /* the network thread (s_network), while looping */
    bool looping;         /* it runs */
    wr_stopper_t closing; /* stopped when the reader closes: the thread ends */
    bool start_failed;    /* on_unavailable: wait, and the broker was down at start */
    pthread_mutex_t lock;
    s_net_t net;
    /* the split: its own client's messages */
    s_feed_t own;
    bool has_split, idle, ended;
    char split_id[WR_SPLIT_ID_MAX];
    /* gone subtasks' splits */
    s_drained_t drains[S_DRAINS_MAX];
    uint32_t ndrains;
    s_feed_t *reading; /* the feed whose message is being read (its topic for messages) */
    uint32_t turn;     /* where the next message is looked for first: 0 own, i + 1 drain i */
    int64_t last_ns;   /* the last message, or the start */
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
    wr__mqtt_queue_push(r->own.q, m->topic, m->payload,
                        m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
}

/* ---- skipped lines ---- */

/* textin's on_bad: msg is ":LINE: what is wrong" (the topic comes first) */
static void s_on_bad(void *ctx, const char *msg)
{
    s_reader_t *r = ctx;
    wr_textsrc_log_one(&r->log, wr_textin_stats(r->text)->bad,
                       "mqtt source %u/%u: skipped a line of a message on %s%s", r->subtask,
                       r->parallelism, r->reading ? r->reading->cur.topic : "?", msg);
}

/* ---- lifecycle ---- */

static pthread_once_t s_lib_once = PTHREAD_ONCE_INIT;

static void s_lib_init(void)
{
    mosquitto_lib_init(); /* (process-wide: OpenSSL and the random seed) */
}

/* A feed's messages taken or queued but never read, and those its queue refused (closing):
 * counted and logged at close. Releases it. */
static void s_feed_release(s_feed_t *f, uint64_t *unread, uint64_t *refused)
{
    if (f->q) {
        *unread += wr__mqtt_cursor_unread(&f->cur, f->q);
        *refused += wr__mqtt_queue_dropped(f->q);
        wr__mqtt_queue_destroy(&f->q);
    }
    wr__mqtt_cursor_release(&f->cur);
}

void wr__msrc_close(void **rp)
{
    s_reader_t *r = *rp;
    if (!r) return;
    /* every network thread told to stop first (a drain then no longer ends its session), then
     * the queues closed (a push waiting for room returns), then the threads joined: each within
     * S_LOOP_MS, or at once from a back-off */
    if (r->looping) wr_stopper_stop(&r->closing);
    for (uint32_t i = 0; i < r->ndrains; i++)
        wr__mqtt_drain_signal(r->drains[i].drain);
    if (r->own.q) wr__mqtt_queue_close(r->own.q);
    for (uint32_t i = 0; i < r->ndrains; i++)
        wr__mqtt_queue_close(r->drains[i].feed.q);
    if (r->looping) pthread_join(r->thread, NULL);
    wr_stopper_destroy(&r->closing);
    for (uint32_t i = 0; i < r->ndrains; i++)
        wr__mqtt_drain_stop(&r->drains[i].drain);
    if (r->mosq) {
        /* a normal disconnection, written now (the broker keeps the session for session_expiry;
         * with no connection there is nothing to write) */
        mosquitto_threaded_set(r->mosq, false);
        mosquitto_disconnect_v5(r->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
        mosquitto_destroy(r->mosq);
    }
    if (r->text) wr_textsrc_log_sum(&r->log, wr_textin_stats(r->text)->bad, true);
    uint64_t unread = 0, refused = 0;
    s_feed_release(&r->own, &unread, &refused);
    for (uint32_t i = 0; i < r->ndrains; i++)
        s_feed_release(&r->drains[i].feed, &unread, &refused);
    if (unread || refused)
        wr_warn("mqtt source %u/%u: closing with %llu messages received and not read, %llu "
                "refused while closing (libmosquitto acknowledged them: they are lost)",
                r->subtask, r->parallelism, (unsigned long long)unread,
                (unsigned long long)refused);
    for (int i = 0; i < r->nfilters; i++)
        free(r->filters[i]);
    free(r->filters);
    wr_textin_destroy(&r->text);
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
    int n = 0;
    while (wr_params_next_line(c->topics, &at, &line, &len))
        n++;
    if (!(r->filters = calloc((size_t)n, sizeof *r->filters))) return WR_ENOMEM;
    r->nfilters = n; /* (set only now: close frees that many) */
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

/* libmosquitto's errors that trying again cannot mend (as mosquitto_loop_forever's, less a
 * failed name lookup and a proxy's trouble, which may pass). */
bool wr__mqtt_fatal(int rc)
{
    switch (rc) {
    case MOSQ_ERR_NOMEM:
    case MOSQ_ERR_PROTOCOL:
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_TLS:
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_NOT_SUPPORTED:
    case MOSQ_ERR_AUTH:
    case MOSQ_ERR_ACL_DENIED:
        return true;
    }
    return false;
}

const char *wr__mqtt_error(int rc)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

int wr__mqtt_client_new(const wr_mqtt_source_config_t *c, const char *client_id, bool clean_start,
                        void *obj, struct mosquitto **out, wr_strbuf_t *err)
{
    wr__mqtt_tls_t tls;
    int rc = wr__mqtt_tls_read(c->tls, &tls, err);
    if (rc) return rc;
    struct mosquitto *mosq = *out = mosquitto_new(client_id, clean_start, obj);
    if (!mosq) return WR_ENOMEM;
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(mosq, MOSQ_OPT_RECEIVE_MAXIMUM, S_RECEIVE_MAX);
    int mrc = c->username ? mosquitto_username_pw_set(mosq, c->username, c->password) : 0;
    if (mrc) {
        wr_strbuf_addf(err, "mqtt source: username: %s", wr__mqtt_error(mrc));
        return WR_ECONFIG;
    }
    if (c->tls &&
        (mrc = mosquitto_tls_set(mosq, tls.cafile, tls.capath, tls.certfile, tls.keyfile, NULL))) {
        wr_strbuf_addf(err,
                       "mqtt source: tls (cafile %s, capath %s, certfile %s, keyfile %s): %s "
                       "(a file that cannot be read?)",
                       tls.cafile ? tls.cafile : "-", tls.capath ? tls.capath : "-",
                       tls.certfile ? tls.certfile : "-", tls.keyfile ? tls.keyfile : "-",
                       wr__mqtt_error(mrc));
        return WR_ECONFIG;
    }
    return 0;
}

/* The subtask's own client: the options above, its callbacks. */
static int s_client(s_reader_t *r, wr_strbuf_t *err)
{
    int rc = wr__mqtt_client_new(r->c, r->client_id, r->c->clean_start, r, &r->mosq, err);
    if (rc) return rc;
    mosquitto_connect_v5_callback_set(r->mosq, s_on_connect);
    mosquitto_subscribe_v5_callback_set(r->mosq, s_on_subscribe);
    mosquitto_disconnect_v5_callback_set(r->mosq, s_on_disconnect);
    mosquitto_message_v5_callback_set(r->mosq, s_on_message);
    return 0;
}

/* ---- the network thread ---- */

/* Receives until the reader closes; a lost or failed connection is tried again after 1, 4, 9,
 * 16, 25, then 30 s (libmosquitto's exponential back-off), a refusal or a fatal error ends the
 * thread (noted: the subtask fails). weir's own loop, not mosquitto_loop_start's: in
 * libmosquitto 2.0.11 a reconnection under way overwrites the disconnection that closing asks
 * for, and mosquitto_loop_stop then waits until the broker can be reached again; here closing is
 * the stopper, which no reconnection touches. */
static void *s_network(void *arg)
{
    s_reader_t *r = arg;
    int rc = r->start_failed ? MOSQ_ERR_NO_CONN : MOSQ_ERR_SUCCESS;
    uint32_t failed = 0;   /* attempts since the broker last accepted a connection */
    uint64_t accepted = 0; /* connections it accepted, when last looked */
    while (!wr_stopper_stopped(&r->closing)) {
        if (!rc) {
            rc = mosquitto_loop(r->mosq, S_LOOP_MS, 1);
            continue;
        }
        if (wr__mqtt_fatal(rc)) {
            s_note_fatal(r, "the connection failed: %.200s", wr__mqtt_error(rc));
            break;
        }
        pthread_mutex_lock(&r->lock);
        bool refused = r->net.fatal != 0;
        if (r->net.connects != accepted) { /* lost after a CONNACK: the back-off starts over */
            accepted = r->net.connects;
            failed = 0;
        }
        pthread_mutex_unlock(&r->lock);
        if (refused) break;
        int64_t delay = (int64_t)S_RECONNECT_MIN * (failed + 1) * (failed + 1);
        if (delay > S_RECONNECT_MAX) delay = S_RECONNECT_MAX;
        failed++;
        if (wr_stopper_wait(&r->closing, delay * 1000)) break;
        /* not blocking: mosquitto_loop completes the connection (or fails it), so a broker that
         * does not answer does not hold a close up */
        rc = mosquitto_reconnect_async(r->mosq);
    }
    return NULL;
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
                       c->broker, wr__mqtt_error(mrc));
        return WR_EIO;
    }
    r->start_failed = mrc != 0;
    if (mrc)
        wr_warn("mqtt source %u/%u: cannot reach the broker %s: %s (on_unavailable: wait: "
                "trying again)",
                r->subtask, r->parallelism, c->broker, wr__mqtt_error(mrc));
    mosquitto_threaded_set(r->mosq, true); /* (its thread is ours) */
    if ((mrc = pthread_create(&r->thread, NULL, s_network, r))) {
        wr_strbuf_addf(err, "mqtt source: cannot start the network thread: %s", strerror(mrc));
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
    wr_stopper_init(&r->closing);
    *rp = r;
    r->c = c;
    r->subtask = o->subtask;
    r->parallelism = o->parallelism;
    r->last_ns = wr_coarse_ns();
    wr__mqtt_cursor_init(&r->own.cur);
    wr_logrl_init(&r->rl, 0);
    wr_textsrc_log_init(&r->log, "mqtt source %u/%u", o->subtask, o->parallelism);
    if (!strcmp(c->client_id, "auto"))
        snprintf(r->client_base, sizeof r->client_base, "weir-%s-%s-", o->job ? o->job : "job",
                 o->name ? o->name : "source");
    else
        snprintf(r->client_base, sizeof r->client_base, "%s-", c->client_id);
    snprintf(r->client_id, sizeof r->client_id, "%s%u", r->client_base, o->subtask);
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
    if (!rc && !(r->own.q = wr__mqtt_queue_new((size_t)c->queue_bytes))) rc = WR_ENOMEM;
    if (!rc) rc = s_filters(r, o);
    if (!rc) rc = s_client(r, err);
    if (!rc) rc = s_connect(r, err);
    if (rc) wr__msrc_close(rp);
    return rc;
}

/* Starts draining the session of gone subtask k, split s. */
static int s_add_drain(s_reader_t *r, uint32_t slot, const wr_split_t *s, unsigned long k,
                       wr_strbuf_t *err)
{
    if (r->ndrains == S_DRAINS_MAX) {
        wr_strbuf_addf(err, "mqtt source: more than %d gone subtasks' sessions for subtask %u",
                       S_DRAINS_MAX, r->subtask);
        return WR_ETOOBIG;
    }
    s_drained_t *d = &r->drains[r->ndrains];
    *d = (s_drained_t){.feed.slot = slot};
    wr__mqtt_cursor_init(&d->feed.cur);
    if (!(d->feed.q = wr__mqtt_queue_new((size_t)r->c->queue_bytes))) return WR_ENOMEM;
    r->ndrains++; /* (closed with the reader from here on) */
    snprintf(d->split_id, sizeof d->split_id, "%s", s->id);
    snprintf(d->client_id, sizeof d->client_id, "%s%lu", r->client_base, k);
    wr__mqtt_drain_opts_t o = {.config = r->c,
                               .host = r->host,
                               .port = r->port,
                               .client_id = d->client_id,
                               .filters = r->filters,
                               .nfilters = r->nfilters,
                               .q = d->feed.q};
    if (!(d->drain = wr__mqtt_drain_start(&o, err))) return WR_EIO;
    wr_info("mqtt source %u/%u: draining the session of gone subtask %lu (%s)", r->subtask,
            r->parallelism, k, d->client_id);
    return 0;
}

int wr__msrc_add_split(void *rp, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    unsigned long k = 0;
    bool number = wr__mqtt_split_number(s->id, &k);
    if (number && !s->pos_len && k >= r->parallelism) return s_add_drain(r, slot, s, k, err);
    if (r->has_split || s->pos_len || !number || k != r->subtask) {
        wr_strbuf_addf(err, "mqtt source: split %s is not subtask %u's subscription", s->id,
                       r->subtask);
        return WR_EPROTO;
    }
    r->has_split = true;
    r->own.slot = slot;
    snprintf(r->split_id, sizeof r->split_id, "%s", s->id);
    return 0;
}

/* The drains' news: a drain whose session is gone and whose messages are all read is a split
 * done; a drain's failure fails the subtask. Whether every drain is done. */
static bool s_drains(s_reader_t *r, wr_source_read_t *rd, int *rc, wr_strbuf_t *err)
{
    bool all = true;
    for (uint32_t i = 0; i < r->ndrains && !*rc; i++) {
        s_drained_t *d = &r->drains[i];
        if (d->done) continue;
        char why[256];
        uint64_t n = 0;
        bool had = false;
        if (d->drain && (*rc = wr__mqtt_drain_error(d->drain, why, sizeof why))) {
            wr_strbuf_addf(err, "mqtt source: broker %s, draining %s: %s", r->c->broker,
                           d->client_id, why);
            break;
        }
        if (d->drain && wr__mqtt_drain_done(d->drain, &n, &had)) {
            wr_info("mqtt source %u/%u: took %llu messages from %s, whose session is now gone%s",
                    r->subtask, r->parallelism, (unsigned long long)n, d->client_id,
                    had ? "" : " (the broker no longer held it)");
            wr__mqtt_drain_stop(&d->drain);
        }
        if (!d->drain && wr__mqtt_cursor_empty(&d->feed.cur, d->feed.q)) {
            d->done = true;
            wr_source_read_done(rd, d->feed.slot);
        }
        all = all && d->done;
    }
    return all;
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

/* The feed to read from: the one whose message is begun, else the first in turn (its own, then
 * each drain's: a message from each in turn, so that none waits behind another) that has a
 * message. NULL when none has. */
static s_feed_t *s_next_feed(s_reader_t *r)
{
    if (r->reading && r->reading->cur.topic) return r->reading;
    uint32_t n = r->ndrains + 1;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (r->turn + k) % n;
        s_feed_t *f = i ? &r->drains[i - 1].feed : &r->own;
        if (i && r->drains[i - 1].done) continue;
        if (wr__mqtt_cursor_next(&f->cur, f->q)) {
            r->turn = (i + 1) % n;
            wr_textin_seek(r->text, 0, 0); /* (line numbers in messages are the payload's) */
            return r->reading = f;
        }
    }
    return NULL;
}

/* Reads as much of f's current message as b has room for. */
static int s_message(s_reader_t *r, s_feed_t *f, wr_batch_t *b, wr_strbuf_t *err)
{
    wr__mqtt_cursor_t *c = &f->cur;
    size_t used = 0;
    int rc = wr_textin_parse(r->text, c->payload + c->done, c->len - c->done, true, b, NULL, &used);
    c->done += used;
    if (rc) {
        const char *why = wr_textin_error(r->text);
        wr_strbuf_addf(err, "mqtt source, broker %s, topic %s%s", r->c->broker, c->topic,
                       why[0] ? why : wr_strerror(rc));
        if (rc == WR_ETOOBIG)
            wr_strbuf_adds(err, " (the source's max_line sets the limit; on_error: skip skips it)");
        return rc;
    }
    if (c->done == c->len) {
        c->topic = NULL; /* read to its end */
        r->messages++;
    }
    return 0;
}

/* Every split not done stops holding the watermark back (until it has rows again). */
static void s_idle(s_reader_t *r, wr_source_read_t *rd)
{
    r->idle = true;
    wr_source_read_idle(rd, r->own.slot);
    for (uint32_t i = 0; i < r->ndrains; i++)
        if (!r->drains[i].done) wr_source_read_idle(rd, r->drains[i].feed.slot);
}

int wr__msrc_read(void *rp, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    wr_batch_t *b = wr_source_read_batch(rd);
    int64_t now = wr_coarse_ns();
    s_net_t net;
    int rc = s_net(r, &net, err);
    bool drained_all = s_drains(r, rd, &rc, err);
    uint32_t cap = b->cap, before = b->count, from = b->count;
    bool drained = false;
    b->cap = b->count + wr_source_read_room(rd); /* textin fills a batch to its capacity */
    bool took = false; /* a message, even one without a record (skipped lines, empty) */
    s_feed_t *f, *last = NULL;
    while (!rc && r->has_split && !r->ended && b->count < b->cap) {
        if (!(f = s_next_feed(r))) {
            drained = true;
            break;
        }
        if (f != last && last && b->count > from) { /* each split's rows under its slot */
            wr_source_read_rows(rd, last->slot);
            from = b->count;
        }
        last = f;
        took = true;
        rc = s_message(r, f, b, err);
    }
    b->cap = cap;
    if (last && b->count > from) wr_source_read_rows(rd, last->slot);
    if (b->count > before) {
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
         (r->c->idle_timeout_ms && now - r->last_ns >= r->c->idle_timeout_ms * S_MS)))
        s_idle(r, rd);
    if (!rc && drained && drained_all && r->c->end_after_idle_ms && net.subscribed &&
        quiet >= r->c->end_after_idle_ms * S_MS && !r->ended) {
        r->ended = true;
        wr_source_read_done(rd, r->own.slot);
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
    int rc = 0;
    for (uint32_t i = 0; i < r->ndrains && !rc; i++) /* a drain not done is drained again */
        if (!r->drains[i].done)
            rc = wr_source_snap_split(snap, r->drains[i].feed.slot, r->drains[i].split_id, NULL, 0);
    if (rc || !r->has_split || r->ended) return rc;
    return wr_source_snap_split(snap, r->own.slot, r->split_id, NULL, 0);
}
