/* The bounded queue of the MQTT source (mqtt_queue.h). A message in a buffer: its topic's length
 * and its payload's (uint32 each, native order: the buffer never leaves the process), the topic
 * and a NUL, the payload. */
#include "actors/connectors/mqtt/mqtt_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

struct wr__mqtt_queue {
    pthread_mutex_t lock;
    pthread_cond_t room;
    wr_strbuf_t in; /* being filled */
    size_t cap;
    bool closed;
    uint64_t dropped;
};

wr__mqtt_queue_t *wr__mqtt_queue_new(size_t cap)
{
    wr__mqtt_queue_t *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    if (pthread_mutex_init(&q->lock, NULL)) {
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->room, NULL)) {
        pthread_mutex_destroy(&q->lock);
        free(q);
        return NULL;
    }
    wr_strbuf_init(&q->in);
    q->cap = cap;
    return q;
}

void wr__mqtt_queue_destroy(wr__mqtt_queue_t **qp)
{
    wr__mqtt_queue_t *q = *qp;
    if (!q) return;
    pthread_cond_destroy(&q->room);
    pthread_mutex_destroy(&q->lock);
    wr_strbuf_release(&q->in);
    free(q);
    *qp = NULL;
}

int wr__mqtt_queue_push(wr__mqtt_queue_t *q, const char *topic, const void *payload, size_t len)
{
    size_t tlen = strlen(topic);
    size_t need = 2 * sizeof(uint32_t) + tlen + 1 + len;
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    /* a message larger than the whole queue waits for an empty one, then goes in alone */
    while (!q->closed && q->in.len && q->in.len + need > q->cap)
        pthread_cond_wait(&q->room, &q->lock);
    if (q->closed)
        rc = WR_ECLOSED;
    else if (tlen > UINT32_MAX || len > UINT32_MAX || !wr_strbuf_grow(&q->in, need))
        rc = WR_ENOMEM;
    if (!rc) {
        uint32_t h[2] = {(uint32_t)tlen, (uint32_t)len};
        char *p = q->in.buf + q->in.len;
        memcpy(p, h, sizeof h);
        memcpy(p + sizeof h, topic, tlen + 1);
        if (len) memcpy(p + sizeof h + tlen + 1, payload, len);
        q->in.len += need;
        q->in.buf[q->in.len] = '\0';
    } else {
        q->in.failed = false; /* (nothing was appended) */
        q->dropped++;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

bool wr__mqtt_queue_take(wr__mqtt_queue_t *q, wr_strbuf_t *out)
{
    wr_strbuf_reset(out);
    pthread_mutex_lock(&q->lock);
    bool got = q->in.len > 0;
    if (got) {
        wr_strbuf_t t = q->in;
        q->in = *out;
        *out = t;
        pthread_cond_signal(&q->room);
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

void wr__mqtt_queue_close(wr__mqtt_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->room);
    pthread_mutex_unlock(&q->lock);
}

uint64_t wr__mqtt_queue_dropped(wr__mqtt_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t n = q->dropped;
    pthread_mutex_unlock(&q->lock);
    return n;
}

bool wr__mqtt_queue_next(const wr_strbuf_t *buf, size_t *at, const char **topic,
                         const char **payload, size_t *len)
{
    uint32_t h[2];
    if (*at + sizeof h > buf->len) return false;
    memcpy(h, buf->buf + *at, sizeof h);
    *topic = buf->buf + *at + sizeof h;
    *payload = *topic + h[0] + 1;
    *len = h[1];
    *at += sizeof h + h[0] + 1 + h[1];
    return true;
}

void wr__mqtt_cursor_init(wr__mqtt_cursor_t *c)
{
    memset(c, 0, sizeof *c);
    wr_strbuf_init(&c->buf);
}

void wr__mqtt_cursor_release(wr__mqtt_cursor_t *c)
{
    wr_strbuf_release(&c->buf);
    wr__mqtt_cursor_init(c);
}

bool wr__mqtt_cursor_next(wr__mqtt_cursor_t *c, wr__mqtt_queue_t *q)
{
    for (;;) {
        if (wr__mqtt_queue_next(&c->buf, &c->at, &c->topic, &c->payload, &c->len)) {
            c->done = 0;
            return true;
        }
        c->at = 0;
        c->topic = NULL;
        if (!wr__mqtt_queue_take(q, &c->buf)) return false;
    }
}

bool wr__mqtt_cursor_empty(const wr__mqtt_cursor_t *c, wr__mqtt_queue_t *q)
{
    if (c->topic || c->at < c->buf.len) return false;
    pthread_mutex_lock(&q->lock);
    bool empty = q->in.len == 0;
    pthread_mutex_unlock(&q->lock);
    return empty;
}

uint64_t wr__mqtt_cursor_unread(wr__mqtt_cursor_t *c, wr__mqtt_queue_t *q)
{
    uint64_t n = c->topic ? 1 : 0;
    while (wr__mqtt_cursor_next(c, q))
        n++;
    return n;
}
