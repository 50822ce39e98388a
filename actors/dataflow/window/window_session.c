/* Session windows: per key a list of sessions sorted by start, each one accumulator and at most
 * one pending timer in a lazy heap.
 *
 * A record at t is the window [t, t + gap); it merges with every session of its key that it
 * overlaps or touches (Flink's TimeWindow.intersects), earliest first. Timers: a session needs
 * its firing at end - 1 (while not fired), then its cleanup at end - 1 + lateness. A session keeps
 * the time of its pending heap entry; extending a session does not touch the heap: when the stale
 * entry pops, the session is looked at again and re-queued for its current time. So the heap
 * holds about one entry per live session. Entries of freed sessions are recognised by a
 * generation number.
 *
 * Node layout (packed, read with memcpy): start i64 @0, end i64 @8, key u64 @16, next u32 @24,
 * gen u32 @28, pending i64 @32, fired u8 @40, accumulator @44. Node 0 is never used. */
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/window_internal.h"
#include "bus/base/error.h"

#define S_NONE INT64_MAX

enum { S_START = 0, S_END = 8, S_KEY = 16, S_NEXT = 24, S_GEN = 28, S_PEND = 32, S_FIRED = 40 };
#define S_ACC 44

static inline uint8_t *s_nd(const wr_window_t *w, uint32_t n)
{
    return w->ss_nodes + (size_t)n * w->ss_stride;
}

static inline int64_t s_i64(const wr_window_t *w, uint32_t n, int off)
{
    int64_t v;
    memcpy(&v, s_nd(w, n) + off, 8);
    return v;
}

static inline void s_set_i64(wr_window_t *w, uint32_t n, int off, int64_t v)
{
    memcpy(s_nd(w, n) + off, &v, 8);
}

static inline uint32_t s_u32(const wr_window_t *w, uint32_t n, int off)
{
    uint32_t v;
    memcpy(&v, s_nd(w, n) + off, 4);
    return v;
}

static inline void s_set_u32(wr_window_t *w, uint32_t n, int off, uint32_t v)
{
    memcpy(s_nd(w, n) + off, &v, 4);
}

static inline uint32_t s_head(const wr_window_t *w, uint32_t e)
{
    uint32_t h;
    memcpy(&h, wr__kt_entry(w->kt, e) + 8, 4);
    return h;
}

static inline void s_set_head(wr_window_t *w, uint32_t e, uint32_t h)
{
    memcpy(wr__kt_entry(w->kt, e) + 8, &h, 4);
}

int wr__session_init(wr_window_t *w)
{
    w->ss_stride = (S_ACC + w->lay.size + 3) / 4 * 4;
    w->ss_cap = 64;
    w->ss_n = 1;
    w->heap_cap = 64;
    if (!(w->ss_nodes = calloc(w->ss_cap, w->ss_stride)) ||
        !(w->heap = malloc(w->heap_cap * sizeof *w->heap)) ||
        wr__merge_init(&w->merge, &w->lay, 1) ||
        !(w->kt = wr__kt_new(w->spec.expected_keys, 4, w->spec.prefault)))
        return WR_ENOMEM;
    return 0;
}

void wr__session_release(wr_window_t *w)
{
    free(w->ss_nodes);
    free(w->heap);
}

size_t wr__session_bytes(const wr_window_t *w)
{
    return (size_t)w->ss_cap * w->ss_stride + w->heap_cap * sizeof *w->heap;
}

/* A new session node [start, end) of key, empty accumulator; 0 on OOM. */
static uint32_t s_alloc(wr_window_t *w, uint64_t key, int64_t start, int64_t end)
{
    uint32_t n = w->ss_free;
    if (n) {
        w->ss_free = s_u32(w, n, S_NEXT);
    } else {
        if (w->ss_n == w->ss_cap) {
            uint8_t *p = realloc(w->ss_nodes, (size_t)w->ss_cap * 2 * w->ss_stride);
            if (!p) return 0;
            memset(p + (size_t)w->ss_cap * w->ss_stride, 0, (size_t)w->ss_cap * w->ss_stride);
            w->ss_nodes = p;
            w->ss_cap *= 2;
        }
        n = w->ss_n++;
    }
    uint8_t *nd = s_nd(w, n);
    memcpy(nd + S_START, &start, 8);
    memcpy(nd + S_END, &end, 8);
    memcpy(nd + S_KEY, &key, 8);
    s_set_u32(w, n, S_NEXT, 0);
    s_set_i64(w, n, S_PEND, S_NONE);
    nd[S_FIRED] = 0;
    memcpy(nd + S_ACC, w->lay.empty, w->lay.size);
    w->panes_live++;
    return n;
}

/* Frees node n (its accumulator's sketches too); its heap entries become stale. */
static void s_free(wr_window_t *w, uint32_t n)
{
    wr__acc_clear(&w->lay, s_nd(w, n) + S_ACC, w->sk);
    s_set_u32(w, n, S_GEN, s_u32(w, n, S_GEN) + 1);
    s_set_u32(w, n, S_NEXT, w->ss_free);
    w->ss_free = n;
    w->panes_live--;
}

static int s_push(wr_window_t *w, int64_t t, uint32_t node)
{
    if (w->heap_n == w->heap_cap) {
        wr__timer_t *h = realloc(w->heap, w->heap_cap * 2 * sizeof *h);
        if (!h) return WR_ENOMEM;
        w->heap = h;
        w->heap_cap *= 2;
    }
    wr__timer_t x = {.t = t, .node = node, .gen = s_u32(w, node, S_GEN)};
    size_t i = w->heap_n++;
    while (i > 0 && w->heap[(i - 1) / 2].t > t) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = x;
    return 0;
}

static wr__timer_t s_pop(wr_window_t *w)
{
    wr__timer_t top = w->heap[0], x = w->heap[--w->heap_n];
    size_t i = 0, n = w->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && w->heap[c + 1].t < w->heap[c].t) c++;
        if (w->heap[c].t >= x.t) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n) w->heap[i] = x;
    return top;
}

/* Makes sure node n is looked at no later than t. */
static int s_schedule(wr_window_t *w, uint32_t n, int64_t t)
{
    if (s_i64(w, n, S_PEND) <= t) return 0;
    s_set_i64(w, n, S_PEND, t);
    return s_push(w, t, n);
}

static int s_fire(wr_window_t *w, const wr_window_sink_t *sink, uint32_t n, uint8_t late)
{
    const uint8_t *acc = s_nd(w, n) + S_ACC;
    wr__merge_panes(&w->merge, &w->lay, w->sk, &acc, NULL, 1);
    uint64_t key;
    memcpy(&key, s_nd(w, n) + S_KEY, 8);
    s_nd(w, n)[S_FIRED] = 1;
    return wr__emit(w, sink, key, s_i64(w, n, S_START), s_i64(w, n, S_END), late);
}

int wr__session_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                    const double *const *cols, size_t n, const wr_window_sink_t *sink)
{
    int rc = wr__kt_reserve(w->kt, n);
    if (rc) return rc;
    const int64_t gap = w->spec.gap_ms, late = w->spec.lateness_ms, wm = w->wm;
    for (size_t i = 0; i < 8 && i < n; i++)
        wr__kt_prefetch_slot(w->kt, wr__kt_hash(keys[i]));
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n) wr__kt_prefetch_slot(w->kt, wr__kt_hash(keys[i + 8]));
        int64_t t = ts[i];
        if (t < WR_WINDOW_TS_MIN || t > WR_WINDOW_TS_MAX) {
            w->b_late[w->n_late++] = (uint32_t)i;
            continue;
        }
        uint64_t key = keys[i], h = wr__kt_hash(key);
        int64_t ws = t, we = t + gap;
        uint32_t e = wr__kt_find(w->kt, key, h), prev = 0, cur = 0;
        if (e != WR__KT_NONE) {
            cur = s_head(w, e);
            while (cur && s_i64(w, cur, S_END) < ws) {
                prev = cur;
                cur = s_u32(w, cur, S_NEXT);
            }
        }
        uint32_t f;
        if (!cur || s_i64(w, cur, S_START) > we) { /* a session of its own */
            if (we - 1 + late <= wm) {
                w->b_late[w->n_late++] = (uint32_t)i;
                continue;
            }
            uint32_t zero = 0;
            if (e == WR__KT_NONE) e = wr__kt_insert(w->kt, key, h, &zero);
            if (!(f = s_alloc(w, key, ws, we))) return WR_ENOMEM;
            s_set_u32(w, f, S_NEXT, cur);
            if (prev)
                s_set_u32(w, prev, S_NEXT, f);
            else
                s_set_head(w, e, f);
        } else { /* merges cur and every later session the grown window reaches */
            f = cur;
            int64_t end = s_i64(w, f, S_END) > we ? s_i64(w, f, S_END) : we;
            uint32_t nx = s_u32(w, f, S_NEXT);
            while (nx && s_i64(w, nx, S_START) <= end) {
                if ((rc = wr__acc_merge_into(&w->lay, s_nd(w, f) + S_ACC, s_nd(w, nx) + S_ACC,
                                             w->sk)))
                    return rc;
                if (s_i64(w, nx, S_END) > end) end = s_i64(w, nx, S_END);
                uint32_t after = s_u32(w, nx, S_NEXT);
                s_free(w, nx);
                nx = after;
            }
            s_set_u32(w, f, S_NEXT, nx);
            if (ws < s_i64(w, f, S_START)) s_set_i64(w, f, S_START, ws);
            s_set_i64(w, f, S_END, end);
        }
        if ((rc = wr__acc_add(&w->lay, s_nd(w, f) + S_ACC, t, cols, i, w->sk))) return rc;
        w->records++;
        int64_t end = s_i64(w, f, S_END);
        if (end - 1 <= wm) { /* late: fire now; cleanup stays due at end - 1 + lateness */
            if ((rc = s_fire(w, sink, f, 1)) || (rc = s_schedule(w, f, end - 1 + late))) return rc;
        } else {
            s_nd(w, f)[S_FIRED] = 0;
            if ((rc = s_schedule(w, f, end - 1))) return rc;
        }
    }
    return 0;
}

/* Removes session n from its key's list; drops the key when it has no session left. */
static void s_cleanup(wr_window_t *w, uint32_t n)
{
    uint64_t key;
    memcpy(&key, s_nd(w, n) + S_KEY, 8);
    uint32_t e = wr__kt_find(w->kt, key, wr__kt_hash(key)), prev = 0, cur = s_head(w, e);
    while (cur != n) {
        prev = cur;
        cur = s_u32(w, cur, S_NEXT);
    }
    uint32_t next = s_u32(w, n, S_NEXT);
    if (prev)
        s_set_u32(w, prev, S_NEXT, next);
    else
        s_set_head(w, e, next);
    s_free(w, n);
    if (!s_head(w, e)) wr__kt_remove(w->kt, e);
}

int wr__session_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink)
{
    const int64_t late = w->spec.lateness_ms;
    int rc = 0;
    uint64_t seen = w->fired;
    w->paused = false;
    while (w->heap_n && w->heap[0].t <= wm) {
        if (wr__sink_full(w, sink, &seen)) {
            w->paused = true;
            w->pause_wm = wm;
            return WR_EAGAIN;
        }
        wr__timer_t x = s_pop(w);
        uint32_t n = x.node;
        if (s_u32(w, n, S_GEN) != x.gen || s_i64(w, n, S_PEND) != x.t) continue; /* stale */
        s_set_i64(w, n, S_PEND, S_NONE);
        int64_t end = s_i64(w, n, S_END);
        if (!s_nd(w, n)[S_FIRED] && end - 1 <= x.t && (rc = s_fire(w, sink, n, 0))) break;
        if (s_nd(w, n)[S_FIRED] && end - 1 + late <= x.t) {
            s_cleanup(w, n);
            continue;
        }
        if ((rc = s_schedule(w, n, s_nd(w, n)[S_FIRED] ? end - 1 + late : end - 1))) break;
    }
    w->wm = wm;
    wr__kt_trim(w->kt);
    return rc;
}

/* ---- snapshot support (window_snap.c) ---- */

uint32_t wr__session_first(const wr_window_t *w, uint32_t e)
{
    return s_head(w, e);
}

uint32_t wr__session_get(const wr_window_t *w, uint32_t n, int64_t *start, int64_t *end,
                         const uint8_t **acc)
{
    *start = s_i64(w, n, S_START);
    *end = s_i64(w, n, S_END);
    *acc = s_nd(w, n) + S_ACC;
    return s_u32(w, n, S_NEXT);
}

int wr__session_append(wr_window_t *w, uint32_t e, uint32_t *tail, int64_t start, int64_t end,
                       uint8_t *acc)
{
    uint32_t n = s_alloc(w, wr__kt_key(w->kt, e), start, end);
    if (!n) {
        wr__acc_clear(&w->lay, acc, w->sk);
        return WR_ENOMEM;
    }
    memcpy(s_nd(w, n) + S_ACC, acc, w->lay.size);
    if (*tail)
        s_set_u32(w, *tail, S_NEXT, n);
    else
        s_set_head(w, e, n);
    *tail = n;
    bool fired = end - 1 <= w->wm;
    s_nd(w, n)[S_FIRED] = fired;
    return s_schedule(w, n, fired ? end - 1 + w->spec.lateness_ms : end - 1);
}
