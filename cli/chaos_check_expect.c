/* The oracle of the chaos checker (chaos_check_int.h): the expected (device, window) results of a
 * range of devices, recomputed from the generator, in an open-addressing hash table sized once
 * from an upper bound on their number. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bus/base/error.h"
#include "cli/chaos_check_int.h"

#define S_BATCH     32 /* records whose slots are prefetched before they are updated */
#define S_MIN_SLOTS 16

/* 32 bytes; n == 0 marks a free slot (a result has at least one record). Temperatures are in
 * units of 2^-21 (every one is a multiple of 2^-21 in [0, 32): chaos_check.h), so lo, hi and sum
 * are exact integers: a window's fewer than 2^26 readings sum below 2^52 units. */
typedef struct {
    uint32_t device;
    uint32_t window; /* (start / slide) - the job's first window (s_first_window) */
    uint32_t n;
    uint32_t seen; /* lines found with these values */
    uint32_t lo, hi;
    uint64_t sum;
} s_entry_t;

_Static_assert(sizeof(s_entry_t) == WR__CHAOS_ENTRY_BYTES, "an entry is 32 bytes");

struct wr__chaos_expect {
    s_entry_t *slots;
    uint64_t mask;        /* slots - 1 (a power of two) */
    uint64_t count, most; /* results, and the most the table takes (70% of its slots) */
    int64_t first;        /* the job's first window, in slides */
    int64_t slide_ms, size_ms;
    int64_t lo, hi; /* the devices [lo, hi) */
};

static uint64_t s_hash(uint32_t device, uint32_t window)
{
    uint64_t x = (uint64_t)device << 32 | window;
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The slot of (device, window): its entry, or the free slot where it would go. */
static s_entry_t *s_find(const wr__chaos_expect_t *e, uint32_t device, uint32_t window)
{
    for (uint64_t i = s_hash(device, window) & e->mask;; i = (i + 1) & e->mask) {
        s_entry_t *s = &e->slots[i];
        if (!s->n || (s->device == device && s->window == window)) return s;
    }
}

/* floor(a / b) for b > 0 (event times before the epoch too). */
static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - (a % b < 0);
}

/* Rounds of the generator: readings of the device reporting most (ceil(total / devices)). */
static uint64_t s_rounds(const wr_chaos_job_t *j)
{
    return j->gen.total / j->gen.devices + (j->gen.total % j->gen.devices != 0);
}

/* The first window (in slides) any record can be in: no event time is before start - jitter.
 * Only for a job whose windows fit (wr__chaos_windows_fit). */
static int64_t s_first_window(const wr_chaos_job_t *j)
{
    return s_floor_div(j->gen.start_ms - j->gen.jitter_ms - j->size_ms, j->slide_ms);
}

bool wr__chaos_windows_fit(const wr_chaos_job_t *j)
{
    /* every event time lies in [start - jitter, start + rounds * interval) (generator.h) */
    double lo = (double)j->gen.start_ms - (double)j->gen.jitter_ms - (double)j->size_ms;
    double hi = (double)j->gen.start_ms + (double)s_rounds(j) * (double)j->gen.interval_ms;
    if (lo < -0x1p62 || hi > 0x1p62) return false;
    int64_t last = s_floor_div((int64_t)hi, j->slide_ms);
    return last - s_first_window(j) < (INT64_C(1) << 32) - 1;
}

/* At most how many results one device has: its readings (one per round) span at most
 * (rounds - 1) * interval + jitter of event time, and each is in size / slide windows. */
static double s_per_device(const wr_chaos_job_t *j)
{
    double rounds = (double)s_rounds(j), windows = (double)(j->size_ms / j->slide_ms);
    double span = (rounds - 1) * (double)j->gen.interval_ms + (double)j->gen.jitter_ms;
    double spanned = floor((span + (double)j->size_ms) / (double)j->slide_ms) + 1;
    return fmin(rounds * windows, spanned);
}

/* At most how many results the devices [lo, hi) have. */
static double s_results(const wr_chaos_job_t *j, uint64_t devices)
{
    double all = (double)j->gen.total * (double)(j->size_ms / j->slide_ms);
    return fmin((double)devices * s_per_device(j), all);
}

/* The slots of a table for that many results at most 70% full: a power of two, at least 16. */
static uint64_t s_slots(double results)
{
    uint64_t slots = S_MIN_SLOTS;
    while ((double)(slots * 7 / 10) < results && slots < (UINT64_C(1) << 58))
        slots *= 2;
    return slots;
}

uint64_t wr__chaos_expect_bytes(const wr_chaos_job_t *j, uint64_t devices)
{
    return s_slots(s_results(j, devices)) * sizeof(s_entry_t);
}

uint64_t wr__chaos_expect_devices_max(const wr_chaos_job_t *j, uint64_t mem_max)
{
    if (mem_max < S_MIN_SLOTS * sizeof(s_entry_t)) return 0;
    uint64_t slots = S_MIN_SLOTS;
    while (slots * 2 * sizeof(s_entry_t) <= mem_max && slots < (UINT64_C(1) << 58))
        slots *= 2;
    double most = (double)(slots * 7 / 10), per = s_per_device(j);
    if (s_results(j, j->gen.devices) <= most) return j->gen.devices;
    double devices = floor(most / per);
    return devices < (double)j->gen.devices ? (uint64_t)devices : j->gen.devices;
}

/* A temperature in units of 2^-21: exact for every one the generator makes (generator.c). */
static uint32_t s_units(double t)
{
    double u = ldexp(t, 21);
    assert(u >= 0 && u < 0x1p32 && u == floor(u) && "a temperature is k * 2^-21 in [0, 2048)");
    return (uint32_t)u;
}

/* A table of slots zeroed, in transparent huge pages where the system gives them (a hint: each
 * update is a cache miss anyway, and with 4 KiB pages a TLB miss too). NULL when out of memory. */
static s_entry_t *s_table_new(uint64_t slots)
{
    size_t bytes = slots * sizeof(s_entry_t);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

static void s_add(wr__chaos_expect_t *e, uint32_t device, uint32_t window, uint32_t t)
{
    s_entry_t *s = s_find(e, device, window);
    if (s->n) {
        s->n++;
        s->sum += t;
        if (t < s->lo) s->lo = t;
        if (t > s->hi) s->hi = t;
        return;
    }
    /* the table was sized for an upper bound on the results: a bug if they are more */
    assert(e->count < e->most && "more results than s_per_device allows");
    *s = (s_entry_t){.device = device, .window = window, .lo = t, .hi = t, .sum = t, .n = 1};
    e->count++;
}

wr__chaos_expect_t *wr__chaos_expect_new(const wr_chaos_job_t *j, int64_t lo, int64_t hi, int *err)
{
    int rc = 0;
    wr__chaos_expect_t *e = calloc(1, sizeof *e);
    wr_generator_t *g = wr_generator_new(&j->gen);
    uint64_t slots = g ? s_slots(s_results(j, (uint64_t)(hi - lo))) : 1;
    if (!e || !(e->slots = s_table_new(slots))) rc = WR_ENOMEM;
    if (!rc) e->mask = slots - 1;
    if (!rc && !g) rc = WR_EINVAL;
    if (!rc) {
        e->most = slots * 7 / 10;
        e->first = s_first_window(j);
        e->slide_ms = j->slide_ms;
        e->size_ms = j->size_ms;
        e->lo = lo;
        e->hi = hi;
    }
    int64_t windows = rc ? 0 : j->size_ms / j->slide_ms;
    wr_generator_record_t r;
    uint32_t dev[S_BATCH], last[S_BATCH], t[S_BATCH]; /* last: the last window holding it */
    for (uint64_t o = 0; !rc && o < j->gen.total; o += S_BATCH) {
        uint32_t n = 0, todo = j->gen.total - o < S_BATCH ? (uint32_t)(j->gen.total - o) : S_BATCH;
        for (uint32_t i = 0; i < todo; i++) { /* in offset order: the sums add as documented */
            wr_generator_record(g, o + i, &r);
            if (r.device < lo || r.device >= hi) continue;
            dev[n] = (uint32_t)r.device;
            last[n] = (uint32_t)(s_floor_div(r.ts, j->slide_ms) - e->first);
            t[n] = s_units(r.temperature);
            for (int64_t w = 0; w < windows; w++)
                __builtin_prefetch(&e->slots[s_hash(dev[n], last[n] - (uint32_t)w) & e->mask], 1);
            n++;
        }
        for (uint32_t i = 0; i < n; i++)
            for (int64_t w = 0; w < windows; w++)
                s_add(e, dev[i], last[i] - (uint32_t)w, t[i]);
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
    if ((*ep)->slots) munmap((*ep)->slots, ((*ep)->mask + 1) * sizeof(s_entry_t));
    free(*ep);
    *ep = NULL;
}

uint64_t wr__chaos_expect_count(const wr__chaos_expect_t *e)
{
    return e->count;
}

static void s_row(const wr__chaos_expect_t *e, const s_entry_t *s, wr__chaos_row_t *row)
{
    int64_t start = (e->first + s->window) * e->slide_ms;
    *row = (wr__chaos_row_t){.device = s->device,
                             .start = start,
                             .end = start + e->size_ms,
                             .n = s->n,
                             .lo = ldexp(s->lo, -21),
                             .hi = ldexp(s->hi, -21),
                             .sum = ldexp((double)s->sum, -21)};
}

/* The slot of (device, start), or NULL when no result of the table can have that key. */
static s_entry_t *s_lookup(const wr__chaos_expect_t *e, int64_t device, int64_t start)
{
    if (device < e->lo || device >= e->hi || start % e->slide_ms) return NULL;
    int64_t k = start / e->slide_ms;
    if (k < e->first || k - e->first > UINT32_MAX) return NULL;
    s_entry_t *s = s_find(e, (uint32_t)device, (uint32_t)(k - e->first));
    return s->n ? s : NULL;
}

bool wr__chaos_expect_get(const wr__chaos_expect_t *e, int64_t device, int64_t start,
                          wr__chaos_row_t *row)
{
    const s_entry_t *s = s_lookup(e, device, start);
    if (s && row) s_row(e, s, row);
    return s != NULL;
}

uint32_t wr__chaos_expect_see(wr__chaos_expect_t *e, int64_t device, int64_t start)
{
    s_entry_t *s = s_lookup(e, device, start);
    if (!s) return 0;
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
