/* Draining a gone subtask's MQTT session (mqtt_drain.h). The drain's thread connects, and its
 * callbacks note what the broker says under the drain's lock; the subtask's thread only reads
 * those notes. */
#include "actors/connectors/mqtt/mqtt_drain.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/stopper.h"

#define S_KEEPALIVE 30         /* s */
#define S_LOOP_MS   200        /* the longest wait in mosquitto_loop: how soon a stop is seen */
#define S_RETRY_MS  1000       /* between attempts to reach the broker */
#define S_QUIET_NS  1000000000 /* nothing for this long after the UNSUBACK: the session is empty */

struct wr__mqtt_drain {
    wr__mqtt_drain_opts_t o;
    struct mosquitto *mosq;
    pthread_t thread;
    bool running, connected_at_start;
    wr_stopper_t stopping;
    pthread_mutex_t lock; /* over what follows */
    bool connected, had_session, unsubscribed, done;
    int64_t last_ns; /* the UNSUBACK or the last message since */
    uint64_t messages;
    int fatal;
    char why[256];
};

static void s_note_fatal(wr__mqtt_drain_t *d, const char *what)
{
    pthread_mutex_lock(&d->lock);
    if (!d->fatal) {
        d->fatal = WR_EIO;
        snprintf(d->why, sizeof d->why, "%s", what);
    }
    pthread_mutex_unlock(&d->lock);
}

/* ---- libmosquitto's callbacks, on the drain's thread ---- */

static void s_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                         const mosquitto_property *props)
{
    (void)props;
    wr__mqtt_drain_t *d = obj;
    if (rc) {
        char why[200];
        snprintf(why, sizeof why, "the broker refused the connection: %.160s",
                 mosquitto_reason_string(rc));
        s_note_fatal(d, why);
        return;
    }
    pthread_mutex_lock(&d->lock);
    d->connected = true;
    d->had_session = d->had_session || (flags & 1); /* CONNACK's session present */
    pthread_mutex_unlock(&d->lock);
    /* no more of the shared subscription's messages for it (asked whether the session held it or
     * not: harmless either way) */
    rc = mosquitto_unsubscribe_multiple(mosq, NULL, d->o.nfilters, d->o.filters, NULL);
    if (rc) {
        char why[200];
        snprintf(why, sizeof why, "cannot unsubscribe: %.160s", wr__mqtt_error(rc));
        s_note_fatal(d, why);
    }
}

static void s_on_unsubscribe(struct mosquitto *mosq, void *obj, int mid,
                             const mosquitto_property *props)
{
    (void)mosq, (void)mid, (void)props;
    wr__mqtt_drain_t *d = obj;
    pthread_mutex_lock(&d->lock);
    d->unsubscribed = true;
    d->last_ns = wr_now_ns();
    pthread_mutex_unlock(&d->lock);
}

static void s_on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                            const mosquitto_property *props)
{
    (void)mosq, (void)rc, (void)props;
    wr__mqtt_drain_t *d = obj;
    pthread_mutex_lock(&d->lock);
    d->connected = d->unsubscribed = false; /* (asked again on the next connection) */
    pthread_mutex_unlock(&d->lock);
}

static void s_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
                         const mosquitto_property *props)
{
    (void)mosq, (void)props;
    wr__mqtt_drain_t *d = obj;
    /* waits while the subtask's queue is full; refused only once it closes (counted there) */
    wr__mqtt_queue_push(d->o.q, m->topic, m->payload,
                        m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
    pthread_mutex_lock(&d->lock);
    d->messages++;
    d->last_ns = wr_now_ns();
    pthread_mutex_unlock(&d->lock);
}

/* ---- the thread ---- */

/* Whether the session is read out: unsubscribed, and nothing since for S_QUIET_NS. */
static bool s_quiet(wr__mqtt_drain_t *d)
{
    pthread_mutex_lock(&d->lock);
    bool quiet = d->unsubscribed && wr_now_ns() - d->last_ns >= S_QUIET_NS;
    bool fatal = d->fatal != 0;
    pthread_mutex_unlock(&d->lock);
    return quiet && !fatal;
}

static bool s_failed(wr__mqtt_drain_t *d)
{
    pthread_mutex_lock(&d->lock);
    bool fatal = d->fatal != 0;
    pthread_mutex_unlock(&d->lock);
    return fatal;
}

/* Ends the session: a DISCONNECT whose session expiry is 0, written before it returns. false when
 * it could not be written (the connection is gone: the session stays, with its expiry). */
static bool s_end_session(wr__mqtt_drain_t *d)
{
    mosquitto_property *props = NULL;
    int rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 0);
    if (!rc) {
        mosquitto_threaded_set(d->mosq, false); /* (written now, not queued for a next loop) */
        rc = mosquitto_disconnect_v5(d->mosq, MQTT_RC_NORMAL_DISCONNECTION, props);
        mosquitto_threaded_set(d->mosq, true);
    }
    mosquitto_property_free_all(&props);
    if (rc) return false;
    pthread_mutex_lock(&d->lock);
    d->done = true;
    pthread_mutex_unlock(&d->lock);
    return true;
}

/* Whether libmosquitto's rc leaves the connection up; an error that trying again cannot mend
 * (TLS, authentication...) ends the drain (noted: the subtask fails), so that it is not tried
 * every second for ever. */
static bool s_up(wr__mqtt_drain_t *d, int rc)
{
    if (rc != MOSQ_ERR_SUCCESS && wr__mqtt_fatal(rc)) {
        char why[200];
        snprintf(why, sizeof why, "the connection failed: %.160s", wr__mqtt_error(rc));
        s_note_fatal(d, why);
    }
    return rc == MOSQ_ERR_SUCCESS;
}

/* Drains until the session is read out (or it is stopped: then the session stays), reconnecting
 * asynchronously after a pause when the connection is lost or was refused, and ends the
 * session. */
static void *s_run(void *arg)
{
    wr__mqtt_drain_t *d = arg;
    bool connected = d->connected_at_start;
    while (!wr_stopper_stopped(&d->stopping) && !s_failed(d)) {
        if (!connected) {
            if (wr_stopper_wait(&d->stopping, S_RETRY_MS)) break;
            /* not blocking: mosquitto_loop completes the connection or fails it */
            connected = s_up(d, mosquitto_reconnect_async(d->mosq));
            continue;
        }
        /* quiet: what is already in the socket read first, then the session ended (unless
         * stopped meanwhile: a subtask that closes leaves it for the next restore) */
        if (s_quiet(d) && s_up(d, mosquitto_loop(d->mosq, 0, 1)) && s_quiet(d) &&
            !wr_stopper_stopped(&d->stopping)) {
            if (s_end_session(d)) break;
            connected = false;
            continue;
        }
        connected = s_up(d, mosquitto_loop(d->mosq, S_LOOP_MS, 1));
    }
    return NULL;
}

wr__mqtt_drain_t *wr__mqtt_drain_start(const wr__mqtt_drain_opts_t *o, wr_strbuf_t *err)
{
    wr__mqtt_drain_t *d = calloc(1, sizeof *d);
    if (!d || pthread_mutex_init(&d->lock, NULL)) {
        free(d);
        wr_strbuf_adds(err, "mqtt source: out of memory");
        return NULL;
    }
    d->o = *o;
    wr_stopper_init(&d->stopping);
    size_t said = err->len;
    int rc = wr__mqtt_client_new(o->config, o->client_id, false, d, &d->mosq, err);
    if (!rc) {
        mosquitto_connect_v5_callback_set(d->mosq, s_on_connect);
        mosquitto_unsubscribe_v5_callback_set(d->mosq, s_on_unsubscribe);
        mosquitto_disconnect_v5_callback_set(d->mosq, s_on_disconnect);
        mosquitto_message_v5_callback_set(d->mosq, s_on_message);
        /* the first connection here, blocking: only it takes the CONNECT's properties, which the
         * thread's reconnections reuse; until it is done the session keeps the expiry the
         * subtasks give it */
        mosquitto_property *props = NULL;
        uint32_t expiry = (uint32_t)(o->config->session_expiry_ms / 1000);
        rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, expiry)
                 ? WR_ENOMEM
                 : 0;
        if (!rc) /* (an error that trying again cannot mend is noted: the thread then ends) */
            d->connected_at_start = s_up(
                d, mosquitto_connect_bind_v5(d->mosq, o->host, o->port, S_KEEPALIVE, NULL, props));
        mosquitto_property_free_all(&props);
    }
    if (!rc) {
        mosquitto_threaded_set(d->mosq, true); /* (its thread is ours) */
        if ((rc = pthread_create(&d->thread, NULL, s_run, d))) {
            wr_strbuf_addf(err, "mqtt source: cannot start a thread: %s", strerror(rc));
            rc = WR_EIO;
        }
    }
    if (rc && err->len == said) wr_strbuf_addf(err, "mqtt source: %s", wr_strerror(rc));
    d->running = !rc;
    if (rc) wr__mqtt_drain_stop(&d);
    return d;
}

void wr__mqtt_drain_signal(wr__mqtt_drain_t *d)
{
    if (d) wr_stopper_stop(&d->stopping);
}

bool wr__mqtt_drain_done(wr__mqtt_drain_t *d, uint64_t *messages, bool *had_session)
{
    pthread_mutex_lock(&d->lock);
    bool done = d->done;
    *messages = d->messages;
    *had_session = d->had_session;
    pthread_mutex_unlock(&d->lock);
    return done;
}

int wr__mqtt_drain_error(wr__mqtt_drain_t *d, char *why, size_t len)
{
    pthread_mutex_lock(&d->lock);
    int rc = d->fatal;
    if (rc) snprintf(why, len, "%s", d->why);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

void wr__mqtt_drain_stop(wr__mqtt_drain_t **dp)
{
    wr__mqtt_drain_t *d = *dp;
    if (!d) return;
    if (d->running) {
        wr_stopper_stop(&d->stopping);
        pthread_join(d->thread, NULL);
    }
    if (d->mosq) mosquitto_destroy(d->mosq); /* (no DISCONNECT: the session keeps its expiry) */
    wr_stopper_destroy(&d->stopping);
    pthread_mutex_destroy(&d->lock);
    free(d);
    *dp = NULL;
}
