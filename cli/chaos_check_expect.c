/* The oracle of the chaos checker (chaos_check_int.h): every expected (device, window) result,
 * recomputed from the generator, in an open-addressing hash table. */
#include <stdlib.h>

#include "bus/base/error.h"
#include "cli/chaos_check_int.h"

#define S_BATCH 32 /* records whose slots are prefetched before they are updated */

/* 48 bytes; n == 0 marks a free slot (a result has at least one record). */
typedef struct {
    int64_t device, start;
    double lo, hi, sum;
    uint32_t n;
    uint32_t seen; /* lines found with these values */
} s_entry_t;

struct wr__chaos_expect {
    s_entry_t *slots;
    uint64_t mask; /* slots - 1 (a power of two) */
    uint64_t count;
    int64_t size_ms;
};

static uint64_t s_hash(int64_t device, int64_t start)
{
    uint64_t x = (uint64_t)device * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)start;
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The slot of (device, start): its entry, or the free slot where it would go. */
static s_entry_t *s_find(const wr__chaos_expect_t *e, int64_t device, int64_t start)
{
    for (uint64_t i = s_hash(device, start) & e->mask;; i = (i + 1) & e->mask) {
        s_entry_t *s = &e->slots[i];
        if (!s->n || (s->device == device && s->start == start)) return s;
    }
}

/* Doubles the table. WR_ENOMEM (the table is then as it was). */
static int s_grow(wr__chaos_expect_t *e)
{
    wr__chaos_expect_t bigger = *e;
    bigger.mask = e->mask * 2 + 1;
    if (!(bigger.slots = calloc(bigger.mask + 1, sizeof *bigger.slots))) return WR_ENOMEM;
    for (uint64_t i = 0; i <= e->mask; i++)
        if (e->slots[i].n) *s_find(&bigger, e->slots[i].device, e->slots[i].start) = e->slots[i];
    free(e->slots);
    *e = bigger;
    return 0;
}

static int s_add(wr__chaos_expect_t *e, int64_t device, int64_t start, double t)
{
    s_entry_t *s = s_find(e, device, start);
    if (s->n) {
        s->n++;
        s->sum += t;
        if (t < s->lo) s->lo = t;
        if (t > s->hi) s->hi = t;
        return 0;
    }
    if ((e->count + 1) * 10 > (e->mask + 1) * 7) { /* keep the load at most 70% */
        int rc = s_grow(e);
        if (rc) return rc;
        s = s_find(e, device, start);
    }
    *s = (s_entry_t){.device = device, .start = start, .lo = t, .hi = t, .sum = t, .n = 1};
    e->count++;
    return 0;
}

/* floor(a / b) for b > 0 (event times before the epoch too). */
static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - (a % b < 0);
}

/* A first table size (a power of two) for about as many results as the job will have: each
 * device's windows over the event time its readings span (the table grows if there are more). */
static uint64_t s_slots(const wr_chaos_job_t *j)
{
    const wr_generator_config_t *g = &j->gen;
    uint64_t devices = g->total < g->devices ? g->total : g->devices;
    double span = (double)g->total / (double)g->devices * (double)g->interval_ms;
    double results = (double)devices * ((span + (double)j->size_ms) / (double)j->slide_ms + 1);
    double most = (double)g->total * (double)(j->size_ms / j->slide_ms); /* each a new one */
    if (results > most) results = most;
    uint64_t slots = 1024;
    while (slots < (UINT64_C(1) << 32) && (double)slots * 0.7 < results)
        slots *= 2;
    return slots;
}

wr__chaos_expect_t *wr__chaos_expect_new(const wr_chaos_job_t *j, int *err)
{
    int rc = 0;
    wr__chaos_expect_t *e = calloc(1, sizeof *e);
    wr_generator_t *g = wr_generator_new(&j->gen);
    uint64_t slots = g ? s_slots(j) : 1;
    if (!e || !(e->slots = calloc(slots, sizeof *e->slots))) rc = WR_ENOMEM;
    if (!rc && !g) rc = WR_EINVAL;
    if (!rc) {
        e->mask = slots - 1;
        e->size_ms = j->size_ms;
    }
    int64_t windows = rc ? 0 : j->size_ms / j->slide_ms;
    wr_generator_record_t r[S_BATCH];
    int64_t last[S_BATCH];
    for (uint64_t o = 0; !rc && o < j->gen.total; o += S_BATCH) {
        uint32_t n = j->gen.total - o < S_BATCH ? (uint32_t)(j->gen.total - o) : S_BATCH;
        for (uint32_t i = 0; i < n; i++) {
            wr_generator_record(g, o + i, &r[i]);
            last[i] = s_floor_div(r[i].ts, j->slide_ms) * j->slide_ms;
            for (int64_t w = 0; w < windows; w++)
                __builtin_prefetch(
                    &e->slots[s_hash(r[i].device, last[i] - w * j->slide_ms) & e->mask], 1);
        }
        for (uint32_t i = 0; i < n; i++) /* in offset order: the sums add as documented */
            for (int64_t w = 0; w < windows && !rc; w++)
                rc = s_add(e, r[i].device, last[i] - w * j->slide_ms, r[i].temperature);
    }
    wr_generator_destroy(&g);
    if (rc) {
        if (err) *err = rc;
        wr__chaos_expect_destroy(&e);
    }
    return e;
}

void wr__chaos_expect_destroy(wr__chaos_expect_t **ep)
{
    if (!ep || !*ep) return;
    free((*ep)->slots);
    free(*ep);
    *ep = NULL;
}

uint64_t wr__chaos_expect_count(const wr__chaos_expect_t *e)
{
    return e->count;
}

static void s_row(const wr__chaos_expect_t *e, const s_entry_t *s, wr__chaos_row_t *row)
{
    *row = (wr__chaos_row_t){.device = s->device,
                             .start = s->start,
                             .end = s->start + e->size_ms,
                             .n = s->n,
                             .lo = s->lo,
                             .hi = s->hi,
                             .sum = s->sum};
}

bool wr__chaos_expect_get(const wr__chaos_expect_t *e, int64_t device, int64_t start,
                          wr__chaos_row_t *row)
{
    const s_entry_t *s = s_find(e, device, start);
    if (s->n && row) s_row(e, s, row);
    return s->n != 0;
}

uint32_t wr__chaos_expect_see(wr__chaos_expect_t *e, int64_t device, int64_t start)
{
    s_entry_t *s = s_find(e, device, start);
    if (!s->n) return 0;
    if (s->seen < UINT32_MAX) s->seen++;
    return s->seen;
}

void wr__chaos_expect_each(const wr__chaos_expect_t *e,
                           void (*fn)(void *ctx, const wr__chaos_row_t *row, uint32_t seen),
                           void *ctx)
{
    for (uint64_t i = 0; i <= e->mask; i++) {
        if (!e->slots[i].n) continue;
        wr__chaos_row_t row;
        s_row(e, &e->slots[i], &row);
        fn(ctx, &row, e->slots[i].seen);
    }
}
