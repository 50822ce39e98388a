/* A bounded multi-producer, single-consumer mailbox with always-on instrumentation.
 *
 * Any thread may push; only the actor's current worker pops. Bounded means bounded: a push to a
 * full mailbox returns WR_EAGAIN and the sender keeps its message (it never grows, never drops).
 * Push is one CAS on a ring of slots (Vyukov's bounded queue); the statistics cost a few plain
 * stores on the consumer side, so they are always on. Readers on other threads (`weir mailbox`)
 * take racy-but-atomic snapshots: counters may be a message apart, never torn. */
#ifndef WR_MAILBOX_H
#define WR_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "bus/msg.h"

typedef struct wr_mailbox wr_mailbox_t;

#define WR_MAILBOX_HIST_BUCKETS                                                                    \
    16                            /* processing time: bucket i holds [2^i, 2^(i+1)) us; 0 is <2us */
#define WR_MAILBOX_TYPE_SLOTS 32  /* distinct message types counted; the rest go to `other` */
#define WR_MAILBOX_RECENT     16  /* headers of the most recently dequeued messages */
#define WR_MAILBOX_SAMPLE_MAX 512 /* bytes of payload kept per sampled recent message */

typedef struct {
    uint32_t capacity;
    uint32_t depth;
    uint32_t high_water;
    uint64_t enqueued;
    uint64_t dequeued;
    uint64_t rejected;     /* pushes refused because the mailbox was full */
    int64_t oldest_age_ns; /* age of the message at the head; 0 when empty */
    uint64_t processed_ns; /* total time spent handling dequeued messages */
    uint64_t hist[WR_MAILBOX_HIST_BUCKETS];
    struct {
        uint16_t type;
        uint64_t count;
    } types[WR_MAILBOX_TYPE_SLOTS]; /* dequeued per type; count 0 = unused slot */
    uint64_t other_types;
} wr_mailbox_stats_t;

typedef struct {
    uint16_t type;
    uint32_t size;  /* payload bytes */
    int64_t enq_ns; /* monotonic (coarse) */
    int64_t deq_ns;
    char from[WR_ADDR_MAX];
    bool sampled; /* payload sampled: every message of a quiet mailbox, 1 in 8 of a busy one */
    uint32_t
        sample_len; /* bytes of payload in sample (the first ones when the payload is longer) */
    uint8_t sample[WR_MAILBOX_SAMPLE_MAX];
} wr_mailbox_recent_t;

/* A mailbox holding at least `capacity` messages (rounded up to a power of two). NULL on OOM. */
wr_mailbox_t *wr_mailbox_new(uint32_t capacity);
/* Destroys every message still queued, then the mailbox. NULL-safe; nulls *mb. */
void wr_mailbox_destroy(wr_mailbox_t **mb);

/* Queues *msg: on success takes it (sets *msg NULL), stamps enq_ns and returns 0. Returns
 * WR_EAGAIN when full or WR_ECLOSED after close; the caller then still owns *msg. Any thread. */
int wr_mailbox_push(wr_mailbox_t *mb, wr_msg_t **msg);
/* Next message (the caller owns it), or NULL when empty. Consumer thread only. */
wr_msg_t *wr_mailbox_pop(wr_mailbox_t *mb);
/* Consumer: records that handling a message of `type` took `ns`. */
void wr_mailbox_account(wr_mailbox_t *mb, uint16_t type, int64_t ns);
/* Refuse further pushes (WR_ECLOSED). Queued messages stay until popped or destroyed. */
void wr_mailbox_close(wr_mailbox_t *mb);

uint32_t wr_mailbox_depth(const wr_mailbox_t *mb);
uint32_t wr_mailbox_capacity(const wr_mailbox_t *mb);
/* Snapshot of the counters; any thread. */
void wr_mailbox_stats(const wr_mailbox_t *mb, wr_mailbox_stats_t *out);
/* Copies up to n most recent headers, newest first; returns how many. Any thread. */
size_t wr_mailbox_recent(const wr_mailbox_t *mb, wr_mailbox_recent_t *out, size_t n);

#endif
