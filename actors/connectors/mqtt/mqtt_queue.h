/* The bounded queue between an MQTT client's network thread, which receives messages, and the
 * subtask that reads them (mqtt.h). Two buffers: the network thread appends each message (its
 * topic and payload, copied once) to the one it fills; the reader takes everything at once by
 * swapping it with the one it has read out, under the lock, and parses without it. No
 * allocation per message once the buffers have grown; memory is bounded by twice the capacity
 * (plus one message larger than it, which is let in alone so that it cannot wait for ever).
 *
 * Back-pressure: a push waits while the buffer being filled is full, which holds the network
 * thread, so libmosquitto stops reading the socket. Nothing is dropped silently: a push after
 * close (or out of memory) is refused and counted.
 *
 * Threading: one pushing thread and one taking thread at a time; every call is safe from
 * either. A cursor is the taking thread's. */
#ifndef WR__MQTT_QUEUE_H
#define WR__MQTT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

typedef struct wr__mqtt_queue wr__mqtt_queue_t;

/* A queue holding up to cap bytes of messages (each takes its topic, payload and 8 bytes).
 * NULL when out of memory. */
wr__mqtt_queue_t *wr__mqtt_queue_new(size_t cap);
/* NULL-safe, nulls *q. No push may be running (close first, and join the pushing thread). */
void wr__mqtt_queue_destroy(wr__mqtt_queue_t **q);

/* Appends a copy of the message, waiting while the queue is full. 0; WR_ECLOSED once closed
 * (also when it closes while waiting) and WR_ENOMEM: the message is not queued and is counted
 * as dropped. */
int wr__mqtt_queue_push(wr__mqtt_queue_t *q, const char *topic, const void *payload, size_t len);
/* Swaps everything queued into *out, which the caller has read out (it is emptied first: its
 * storage goes back to the pushing side), and wakes a waiting push. false when nothing was
 * queued (out is then empty). */
bool wr__mqtt_queue_take(wr__mqtt_queue_t *q, wr_strbuf_t *out);
/* From now on every push is refused; a waiting one returns. */
void wr__mqtt_queue_close(wr__mqtt_queue_t *q);
/* Messages refused so far. */
uint64_t wr__mqtt_queue_dropped(wr__mqtt_queue_t *q);

/* The next message of a buffer that wr__mqtt_queue_take filled, at *at (0 at first), which moves
 * past it: its topic (NUL-terminated in the buffer) and payload. false at the end. */
bool wr__mqtt_queue_next(const wr_strbuf_t *buf, size_t *at, const char **topic,
                         const char **payload, size_t *len);

/* The taking side's cursor over a queue: the buffer taken last and the message being read in it,
 * which a reader may read in pieces (a batch fills inside a payload). */
typedef struct {
    wr_strbuf_t buf;
    size_t at;                   /* the next message in buf */
    const char *topic, *payload; /* the message being read; topic NULL: none */
    size_t len, done;            /* its payload's bytes, of which done are read */
} wr__mqtt_cursor_t;

void wr__mqtt_cursor_init(wr__mqtt_cursor_t *c);
void wr__mqtt_cursor_release(wr__mqtt_cursor_t *c);
/* Moves to the next message, taking what q holds once the buffer is read out: false when none
 * is queued (topic is then NULL). */
bool wr__mqtt_cursor_next(wr__mqtt_cursor_t *c, wr__mqtt_queue_t *q);
/* Whether nothing is left to read: no message begun, none taken, none queued. */
bool wr__mqtt_cursor_empty(const wr__mqtt_cursor_t *c, wr__mqtt_queue_t *q);
/* The messages taken or queued and not read (the one begun counts), which it drops: for the
 * count at close. */
uint64_t wr__mqtt_cursor_unread(wr__mqtt_cursor_t *c, wr__mqtt_queue_t *q);

#endif
