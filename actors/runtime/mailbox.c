#include "actors/runtime/mailbox.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"

#define S_SAMPLE_EVERY    8
#define S_SAMPLE_QUIET_NS 1000000 /* a message within 1 ms of the last sample is not sampled */

/* Relaxed single-writer counters: the consumer stores, any thread loads. */
#define LOAD(x)     atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

typedef struct {
    _Atomic size_t seq; /* Vyukov: == pos when free for the producer of pos, pos+1 when filled */
    wr_msg_t *msg;
    _Atomic int64_t enq_ns;
} s_slot_t;

/* One recent header under a seqlock: seq is odd while the consumer writes the entry. Readers on
 * other threads copy it while it may change, so every field is an atomic word: the writer stores
 * them with release (nothing it wrote before, the odd seq included, can be seen after them) and
 * readers load them with acquire (their second load of seq cannot come before them). A copy that
 * raced a write sees an odd or a changed seq and is tried again. Plain moves on x86; no fences
 * (which ThreadSanitizer cannot follow). */
#define S_WORDS(bytes) (((bytes) + 7) / 8)

typedef struct {
    _Atomic uint32_t seq;
    _Atomic uint64_t head; /* type | sampled << 16 | size << 32 */
    _Atomic int64_t enq_ns, deq_ns;
    _Atomic uint32_t sample_len;
    _Atomic uint64_t from[S_WORDS(WR_ADDR_MAX)];
    _Atomic uint64_t sample[S_WORDS(WR_MAILBOX_SAMPLE_MAX)];
} s_recent_t;

struct wr_mailbox {
    s_slot_t *slots;
    size_t mask;
    _Atomic bool closed;
    _Alignas(64) _Atomic size_t enqueue_pos; /* producers */
    _Atomic uint64_t rejected;
    _Alignas(64) _Atomic size_t dequeue_pos; /* consumer */
    _Atomic uint32_t high_water;
    _Atomic uint64_t processed_ns;
    _Atomic uint64_t hist[WR_MAILBOX_HIST_BUCKETS];
    struct {
        _Atomic uint16_t type;
        _Atomic uint64_t count;
    } types[WR_MAILBOX_TYPE_SLOTS];
    _Atomic uint64_t other_types;
    int64_t last_sample_ns; /* consumer only */
    s_recent_t recent[WR_MAILBOX_RECENT];
};

wr_mailbox_t *wr_mailbox_new(uint32_t capacity)
{
    size_t n = 2;
    while (n < capacity)
        n <<= 1;
    wr_mailbox_t *mb = aligned_alloc(64, (sizeof *mb + 63) / 64 * 64);
    if (!mb) return NULL;
    memset(mb, 0, sizeof *mb);
    mb->slots = calloc(n, sizeof *mb->slots);
    if (!mb->slots) {
        free(mb);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        atomic_init(&mb->slots[i].seq, i);
    mb->mask = n - 1;
    return mb;
}

void wr_mailbox_destroy(wr_mailbox_t **mbp)
{
    if (!mbp || !*mbp) return;
    wr_mailbox_t *mb = *mbp;
    wr_msg_t *m;
    while ((m = wr_mailbox_pop(mb)))
        wr_msg_destroy(&m);
    free(mb->slots);
    free(mb);
    *mbp = NULL;
}

int wr_mailbox_push(wr_mailbox_t *mb, wr_msg_t **msg)
{
    if (atomic_load_explicit(&mb->closed, memory_order_acquire)) return WR_ECLOSED;
    size_t pos = atomic_load_explicit(&mb->enqueue_pos, memory_order_relaxed);
    s_slot_t *slot;
    for (;;) {
        slot = &mb->slots[pos & mb->mask];
        size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)seq - (intptr_t)pos;
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&mb->enqueue_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (dif < 0) {
            atomic_fetch_add_explicit(&mb->rejected, 1, memory_order_relaxed);
            return WR_EAGAIN;
        } else {
            pos = atomic_load_explicit(&mb->enqueue_pos, memory_order_relaxed);
        }
    }
    int64_t now = wr_coarse_ns();
    (*msg)->enq_ns = now;
    slot->msg = *msg;
    STORE(slot->enq_ns, now);
    atomic_store_explicit(&slot->seq, pos + 1, memory_order_release);
    *msg = NULL;
    return 0;
}

/* n bytes of src into atomic words (release; the last word padded with zeros). */
static void s_store_words(_Atomic uint64_t *dst, const void *src, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        memcpy(&w, (const uint8_t *)src + i, n - i < 8 ? n - i : 8);
        atomic_store_explicit(&dst[i / 8], w, memory_order_release);
    }
}

/* n bytes out of atomic words (acquire). */
static void s_load_words(void *dst, const _Atomic uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = atomic_load_explicit(&src[i / 8], memory_order_acquire);
        memcpy((uint8_t *)dst + i, &w, n - i < 8 ? n - i : 8);
    }
}

/* Entry pos % WR_MAILBOX_RECENT describes the message dequeued at position pos. */
static void s_note_recent(wr_mailbox_t *mb, size_t pos, const wr_msg_t *m, int64_t now)
{
    s_recent_t *e = &mb->recent[pos % WR_MAILBOX_RECENT];
    uint32_t seq = LOAD(e->seq);
    STORE(e->seq, seq + 1); /* ordered before the release stores below */
    /* payloads are sampled: every message of a quiet mailbox, one in S_SAMPLE_EVERY of a busy
     * one */
    bool sample = pos % S_SAMPLE_EVERY == 0 || now - mb->last_sample_ns > S_SAMPLE_QUIET_NS;
    uint32_t sample_len = 0;
    if (sample) {
        mb->last_sample_ns = now;
        sample_len = m->len < WR_MAILBOX_SAMPLE_MAX ? (uint32_t)m->len : WR_MAILBOX_SAMPLE_MAX;
        s_store_words(e->sample, m->data, sample_len);
    }
    uint64_t head = m->type | (uint64_t)sample << 16 | (uint64_t)(uint32_t)m->len << 32;
    atomic_store_explicit(&e->head, head, memory_order_release);
    atomic_store_explicit(&e->enq_ns, m->enq_ns, memory_order_release);
    atomic_store_explicit(&e->deq_ns, now, memory_order_release);
    atomic_store_explicit(&e->sample_len, sample_len, memory_order_release);
    s_store_words(e->from, m->from, strnlen(m->from, WR_ADDR_MAX - 1) + 1); /* with its NUL */
    atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* Copies entry e; false when it was being written (or rewritten) meanwhile. */
static bool s_read_recent(const s_recent_t *e, wr_mailbox_recent_t *r)
{
    uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
    if (s1 & 1 || !s1) return false;
    uint64_t head = atomic_load_explicit(&e->head, memory_order_acquire);
    r->type = (uint16_t)head;
    r->sampled = (head >> 16) & 1;
    r->size = (uint32_t)(head >> 32);
    r->enq_ns = atomic_load_explicit(&e->enq_ns, memory_order_acquire);
    r->deq_ns = atomic_load_explicit(&e->deq_ns, memory_order_acquire);
    r->sample_len = atomic_load_explicit(&e->sample_len, memory_order_acquire);
    if (r->sample_len > WR_MAILBOX_SAMPLE_MAX) return false;
    s_load_words(r->sample, e->sample, r->sample_len);
    s_load_words(r->from, e->from, WR_ADDR_MAX);
    r->from[WR_ADDR_MAX - 1] = '\0';
    return atomic_load_explicit(&e->seq, memory_order_relaxed) == s1;
}

wr_msg_t *wr_mailbox_pop(wr_mailbox_t *mb)
{
    size_t pos = LOAD(mb->dequeue_pos);
    s_slot_t *slot = &mb->slots[pos & mb->mask];
    size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
    if (seq != pos + 1) return NULL;
    wr_msg_t *m = slot->msg;
    uint32_t depth = (uint32_t)(LOAD(mb->enqueue_pos) - pos);
    if (depth > LOAD(mb->high_water)) STORE(mb->high_water, depth);
    s_note_recent(mb, pos, m, wr_coarse_ns());
    STORE(mb->dequeue_pos, pos + 1);
    atomic_store_explicit(&slot->seq, pos + mb->mask + 1, memory_order_release);
    return m;
}

void wr_mailbox_account(wr_mailbox_t *mb, uint16_t type, int64_t ns)
{
    STORE(mb->processed_ns, LOAD(mb->processed_ns) + (uint64_t)ns);
    uint64_t us = (uint64_t)ns / 1000;
    int b = 0;
    while (us >= 2 && b < WR_MAILBOX_HIST_BUCKETS - 1) {
        us >>= 1;
        b++;
    }
    STORE(mb->hist[b], LOAD(mb->hist[b]) + 1);
    for (unsigned i = 0, h = type * 2654435761u >> 27; i < WR_MAILBOX_TYPE_SLOTS; i++) {
        unsigned k = (h + i) % WR_MAILBOX_TYPE_SLOTS;
        uint64_t c = LOAD(mb->types[k].count);
        if (c == 0) STORE(mb->types[k].type, type);
        if (c == 0 || LOAD(mb->types[k].type) == type) {
            STORE(mb->types[k].count, c + 1);
            return;
        }
    }
    STORE(mb->other_types, LOAD(mb->other_types) + 1);
}

void wr_mailbox_close(wr_mailbox_t *mb)
{
    atomic_store_explicit(&mb->closed, true, memory_order_release);
}

uint32_t wr_mailbox_depth(const wr_mailbox_t *mb)
{
    size_t enq = LOAD(((wr_mailbox_t *)mb)->enqueue_pos);
    size_t deq = LOAD(((wr_mailbox_t *)mb)->dequeue_pos);
    return enq > deq ? (uint32_t)(enq - deq) : 0;
}

uint32_t wr_mailbox_capacity(const wr_mailbox_t *mb)
{
    return (uint32_t)mb->mask + 1;
}

void wr_mailbox_stats(const wr_mailbox_t *cmb, wr_mailbox_stats_t *out)
{
    wr_mailbox_t *mb = (wr_mailbox_t *)cmb; /* atomics are loaded, never stored */
    memset(out, 0, sizeof *out);
    size_t deq = LOAD(mb->dequeue_pos);
    size_t enq = LOAD(mb->enqueue_pos);
    out->capacity = wr_mailbox_capacity(mb);
    out->depth = enq > deq ? (uint32_t)(enq - deq) : 0;
    out->high_water = LOAD(mb->high_water);
    if (out->depth > out->high_water) out->high_water = out->depth;
    out->dequeued = deq;
    out->rejected = LOAD(mb->rejected);
    out->enqueued = deq + out->depth;
    if (out->depth) {
        s_slot_t *head = &mb->slots[deq & mb->mask];
        if (atomic_load_explicit(&head->seq, memory_order_acquire) == deq + 1) {
            int64_t age = wr_coarse_ns() - LOAD(head->enq_ns);
            out->oldest_age_ns = age > 0 ? age : 0;
        }
    }
    out->processed_ns = LOAD(mb->processed_ns);
    for (int i = 0; i < WR_MAILBOX_HIST_BUCKETS; i++)
        out->hist[i] = LOAD(mb->hist[i]);
    for (int i = 0; i < WR_MAILBOX_TYPE_SLOTS; i++) {
        out->types[i].type = LOAD(mb->types[i].type);
        out->types[i].count = LOAD(mb->types[i].count);
    }
    out->other_types = LOAD(mb->other_types);
}

size_t wr_mailbox_recent(const wr_mailbox_t *cmb, wr_mailbox_recent_t *out, size_t n)
{
    wr_mailbox_t *mb = (wr_mailbox_t *)cmb;
    size_t got = 0;
    size_t total = LOAD(mb->dequeue_pos);
    size_t avail = total < WR_MAILBOX_RECENT ? total : WR_MAILBOX_RECENT;
    for (size_t i = 0; i < avail && got < n; i++) {
        const s_recent_t *e = &mb->recent[(total - 1 - i) % WR_MAILBOX_RECENT];
        for (int tries = 0; tries < 100; tries++)
            if (s_read_recent(e, &out[got])) {
                got++;
                break;
            }
    }
    return got;
}
