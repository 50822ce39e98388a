/* The walk that writes a snapshot's sections (see window_snap.h): every key once, its records
 * into each stream's section of the key's group.
 *
 * The sections go out in key-group order, but the walk goes through the key table in memory
 * order: in key-group order it jumps around a table of gigabytes, each key's entry a miss and
 * each of its panes' sketch blocks another. So the groups are taken in batches of about
 * S_BATCH_BYTES of records: for a batch, the walk goes over the table in memory order, picks the
 * keys of the batch's groups and writes their records into a stage per stream and group (chunks
 * of an arena); then the stages go out to the streams in group order, each group's bytes
 * checksummed as a section. The bytes written are those of a walk in group order, key by key in
 * table order within a group (test_window_snap checks that the batching changes no byte).
 *
 * Measured (a throwaway harness around wr_window_snapshot_incremental, 2.5M keys, a subtask's
 * share of the seed's job: 10-minute windows sliding by 1 minute, p95; docs/performance.md), a
 * main part: 0.90-1.27 s in key-group order; 0.55-0.66 s in 32 MiB batches. Larger batches are
 * a little faster (one batch for everything 0.46-0.51 s, at the cost of the whole main in
 * memory), smaller ones slower (8 MiB 0.84-0.90 s, 2 MiB 1.05-1.36 s). The arena is what made
 * staging pay: stages in malloc'd buffers took 0.67-0.99 s, most of it page faults of their fresh
 * memory, which the arena's huge pages and its reuse from batch to batch avoid. `weir bench
 * snapshot` (cli/bench_snapshot.c) times this walk against one group a batch.
 *
 * Within a batch the walk also asks for each picked key's entry S_FAR keys ahead and for its
 * panes' sketch blocks S_NEAR keys ahead (an empty asm after each prefetch: S_PREFETCH). */
#include <stdlib.h>
#include <sys/mman.h>

#include "actors/dataflow/window/window_snap_internal.h"
#include "bus/base/error.h"

#define S_FAR         16
#define S_NEAR        8
#define S_BATCH_BYTES ((uint64_t)32 << 20) /* records staged per batch, about */
#define S_FIRST_BPK   256                  /* a key's bytes over all streams: first guess */
#define S_MAX_STAGES  8192                 /* streams x groups of one batch (at least a group) */
#define S_CHUNK       ((size_t)64 << 10)   /* a stage's chunk */
#define S_REGION      ((size_t)32 << 20)   /* the arena's regions */
#define S_PICK        1024                 /* keys picked from the table at a time */

/* An empty asm after each prefetch. Without it gcc 12.2 at -O2 emitted none of three
 * __builtin_prefetch in a row in an earlier shape of this code (reproduced in a 20-line file;
 * -fno-tree-dce keeps them); in a later shape it kept them, but the walk measured slower without
 * the asm (5M keys with p95, a first checkpoint: 8.9-11.1 s against 7.9-8.3 s, main parts
 * 1.8-2.1 s against 1.5-1.9 s; the walk then in key-group order). */
#define S_PREFETCH(p)                                                                              \
    do {                                                                                           \
        __builtin_prefetch(p);                                                                     \
        __asm__ volatile("" ::: "memory");                                                         \
    } while (0)

int wr__snap_groups(const wr_window_t *w, uint32_t maxp, uint32_t (*key_group)(void *, uint64_t),
                    void *ctx, uint16_t **kgp, uint64_t **firstp)
{
    uint32_t n = w->kt->count;
    uint16_t *kg = malloc((n ? n : 1) * sizeof *kg);
    uint64_t *first = calloc((size_t)maxp + 1, sizeof *first);
    int rc = kg && first ? 0 : WR_ENOMEM;
    for (uint32_t e = 0; e < n && !rc; e++) {
        uint32_t g = key_group(ctx, wr__kt_key(w->kt, e));
        if (g >= maxp) {
            rc = WR_EINVAL;
            break;
        }
        kg[e] = (uint16_t)g; /* maxp <= 65536 */
        first[g + 1]++;
    }
    for (uint32_t g = 0; g < maxp && !rc; g++)
        first[g + 1] += first[g];
    if (rc) {
        free(kg);
        free(first);
        kg = NULL;
        first = NULL;
    }
    *kgp = kg;
    *firstp = first;
    return rc;
}

/* The ring panes [lo, hi] that some stream of xs reads (hi < lo: none; sessions: none). */
static void s_pf_range(const wr_window_t *w, const wr__snap_stream_t *xs, size_t nx, int64_t *lo,
                       int64_t *hi)
{
    *lo = w->base + w->R;
    *hi = w->base - 1;
    if (w->spec.kind == WR_WINDOW_SESSION) return;
    for (size_t k = 0; k < nx; k++) {
        int64_t a = xs[k].pf_lo > w->base ? xs[k].pf_lo : w->base;
        int64_t b = xs[k].pf_hi < w->base + w->R - 1 ? xs[k].pf_hi : w->base + w->R - 1;
        if (a > b) continue;
        if (a < *lo) *lo = a;
        if (b > *hi) *hi = b;
    }
}

/* Stage far: entry e's first line and the lines of ring panes [lo, hi]; stage near: the sketch
 * blocks of those panes (their accumulators are in the cache by then). */
static inline void s_prefetch(const wr_window_t *w, uint32_t e, int64_t lo, int64_t hi, bool near)
{
    const uint8_t *ent = wr__kt_entry(w->kt, e);
    if (!near) S_PREFETCH(ent);
    if (near && !w->lay.nsketch) return;
    const size_t asz = w->lay.size;
    for (int64_t p = lo, slot = w->base_slot + (lo - w->base); p <= hi; p++, slot++) {
        const uint8_t *acc = ent + 8 + (slot >= w->R ? slot - w->R : slot) * asz;
        if (!near)
            S_PREFETCH(acc);
        else if (wr__acc_count(acc))
            wr__acc_prefetch(&w->lay, acc, w->sk);
    }
}

/* A stage: one stream's records of one group in a batch, in a list of chunks of the arena (each
 * a header, then up to S_CHUNK bytes or more for a bigger room: its writer's buf), w first (a
 * chunk writer hands its stage to s_next_chunk). */
typedef struct {
    wr_snap_writer_t w;
    uint8_t *first, *cur; /* chunks: NULL when nothing is written */
    uint64_t keys;
} s_stage_t;

typedef struct {
    uint8_t *next;
    uint64_t used; /* bytes in the chunk (the current one's: its writer's pos) */
} s_chunk_t;

/* The arena the stages' chunks come from: regions of S_REGION bytes mapped as they are needed,
 * 2 MiB aligned and asked for as transparent huge pages (a 4 KiB page fault costs 12-16 us on a
 * virtual machine here: 64 MiB of fresh small pages 0.2 s, of huge pages 5 ms), and used again
 * by every batch of the walk. */
typedef struct s_region {
    struct s_region *next;
    void *map; /* what mmap gave (map_len bytes) */
    size_t map_len;
    uint8_t *lo, *hi; /* the aligned room */
} s_region_t;

/* One walk's state: the streams, the key groups (of entries [0, n): the keys when it began),
 * where it is (the next batch starts at group g0; bpk: a key's bytes, as the last batch wrote),
 * the arena (regions, the one in use and the position in it) and a batch's stages
 * (stage[k * span + g - g0] for stream k and group g of the batch [g0, g0 + span)). */
struct wr__snap_walk {
    const wr_window_t *w;
    wr__snap_stream_t *xs;
    size_t nx;
    uint32_t maxp, n, max_span, g0;
    const uint16_t *kg;
    const uint64_t *first;
    uint64_t bpk;
    int64_t pf_lo, pf_hi;
    s_region_t *regions, *in;
    uint8_t *at;
    s_stage_t *stage;
    uint32_t pick[S_PICK];
};

typedef wr__snap_walk_t s_walk_t;

static s_region_t *s_region_new(size_t need)
{
    const size_t huge = (size_t)2 << 20;
    size_t len = (need > S_REGION ? need : S_REGION) + huge;
    s_region_t *r = malloc(sizeof *r);
    void *map = r ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : MAP_FAILED;
    if (map == MAP_FAILED) {
        free(r);
        return NULL;
    }
    uintptr_t lo = ((uintptr_t)map + huge - 1) & ~(uintptr_t)(huge - 1);
    *r = (s_region_t){.map = map, .map_len = len, .lo = (uint8_t *)lo};
    r->hi = (uint8_t *)map + len;
    (void)madvise(r->lo, (size_t)(r->hi - r->lo) & ~(huge - 1), MADV_HUGEPAGE); /* a hint */
    return r;
}

/* A chunk of size bytes from the arena (aligned to 64), or NULL (WR_ENOMEM). */
static uint8_t *s_arena_take(s_walk_t *wk, size_t size)
{
    size = (size + 63) & ~(size_t)63;
    while (!wk->in || (size_t)(wk->in->hi - wk->at) < size) {
        s_region_t *next = wk->in ? wk->in->next : wk->regions;
        if (next && (size_t)(next->hi - next->lo) < size) next = NULL; /* (rare: a huge room) */
        if (!next) {
            if (!(next = s_region_new(size))) return NULL;
            next->next = wk->in ? wk->in->next : wk->regions;
            if (wk->in)
                wk->in->next = next;
            else
                wk->regions = next;
        }
        wk->in = next;
        wk->at = next->lo;
    }
    uint8_t *c = wk->at;
    wk->at += size;
    return c;
}

static int s_next_chunk(wr_snap_writer_t *w, size_t n)
{
    s_stage_t *st = (s_stage_t *)w;
    s_walk_t *wk = w->chunk_ctx;
    size_t cap = n > S_CHUNK ? n : S_CHUNK;
    uint8_t *c = s_arena_take(wk, sizeof(s_chunk_t) + cap);
    if (!c) return WR_ENOMEM;
    *(s_chunk_t *)c = (s_chunk_t){0};
    if (st->cur) {
        ((s_chunk_t *)st->cur)->used = w->pos;
        ((s_chunk_t *)st->cur)->next = c;
    } else {
        st->first = c;
    }
    st->cur = c;
    w->base += w->pos;
    w->buf = c + sizeof(s_chunk_t);
    w->cap = cap;
    w->pos = 0;
    return 0;
}

/* Writes the records of picked keys pick[0..m) (all in groups [g0, g0 + span)) into the stages. */
static int s_put_picked(s_walk_t *wk, uint32_t m, uint32_t g0, uint32_t span)
{
    const wr_window_t *w = wk->w;
    for (uint32_t i = 0; i < m && i < S_FAR; i++)
        s_prefetch(w, wk->pick[i], wk->pf_lo, wk->pf_hi, false);
    for (uint32_t i = 0; i < m; i++) {
        if (i + S_FAR < m) s_prefetch(w, wk->pick[i + S_FAR], wk->pf_lo, wk->pf_hi, false);
        if (i + S_NEAR < m) s_prefetch(w, wk->pick[i + S_NEAR], wk->pf_lo, wk->pf_hi, true);
        uint32_t e = wk->pick[i];
        for (size_t k = 0; k < wk->nx; k++) {
            s_stage_t *st = &wk->stage[k * span + (uint32_t)(wk->kg[e] - g0)];
            int rc = wk->xs[k].put(w, &st->w, e, wk->xs[k].arg);
            if (rc == 1) continue;
            if (rc) return rc;
            st->keys++;
        }
    }
    return 0;
}

/* The batch of groups [g0, g0 + span) holding `want` keys: their records into the stages, then
 * out to the streams as sections (index entries filled). *bytes: the bytes staged. */
static int s_batch(s_walk_t *wk, uint32_t g0, uint32_t span, uint64_t want, uint64_t *bytes)
{
    const uint32_t n = wk->n < wk->w->kt->count ? wk->n : wk->w->kt->count;
    size_t nstage = wk->nx * span;
    wk->in = NULL; /* the arena from its start */
    for (size_t i = 0; i < nstage; i++)
        wk->stage[i] = (s_stage_t){.w = {.fd = WR__SNAPW_CHUNKS,
                                         .fd_base = -1,
                                         .next_chunk = s_next_chunk,
                                         .chunk_ctx = wk}};
    int rc = 0;
    uint64_t picked = 0;
    for (uint32_t e = 0; e < n && picked < want && !rc;) { /* in memory order */
        uint32_t m = 0;
        for (; e < n && m < S_PICK; e++)
            if ((uint32_t)(wk->kg[e] - g0) < span) wk->pick[m++] = e;
        picked += m;
        rc = s_put_picked(wk, m, g0, span);
    }
    *bytes = 0;
    for (uint32_t j = 0; j < span && !rc; j++) { /* the sections, in group order */
        for (size_t k = 0; k < wk->nx && !rc; k++) {
            s_stage_t *st = &wk->stage[k * span + j];
            wr__snap_stream_t *x = &wk->xs[k];
            uint64_t off = wr__snapw_off(x->out) - x->start, len = wr__snapw_off(&st->w);
            wr__snapw_sum_begin(x->out); /* the section's checksum, as its bytes go out */
            for (uint8_t *c = st->first; c && !rc; c = ((s_chunk_t *)c)->next) {
                size_t used = c == st->cur ? st->w.pos : ((s_chunk_t *)c)->used;
                rc = wr__snapw_put(x->out, c + sizeof(s_chunk_t), used);
            }
            uint64_t ent[4] = {off, len, st->keys, wr__snapw_sum_end(x->out)};
            memcpy(x->index + (size_t)(g0 + j) * WR__SNAP_INDEX_ENT, ent, sizeof ent);
            *bytes += len;
        }
    }
    return rc;
}

/* The index and trailer of stream x after its sections; flushes. */
static int s_finish(wr__snap_stream_t *x, uint32_t maxp)
{
    wr_snap_writer_t *out = x->out;
    uint64_t index_off = wr__snapw_off(out) - x->start;
    uint32_t version = WR_WINDOW_SNAP_VERSION;
    wr__snapw_sum_begin(out);
    if (!wr__snapw_put(out, x->index, (size_t)maxp * WR__SNAP_INDEX_ENT) &&
        !wr__snapw_put(out, &index_off, 8) && !wr__snapw_put(out, &maxp, 4))
        wr__snapw_put(out, &version, 4);
    x->sum = wr__snapw_sum_end(out);
    if (!wr__snapw_put(out, &x->sum, 8)) wr__snapw_put(out, WR__SNAP_END_MAGIC, 8);
    return wr_snap_writer_flush(out);
}

int wr__snap_walk_new(const wr_window_t *w, wr__snap_stream_t *xs, size_t nx, uint32_t maxp,
                      const uint16_t *kg, const uint64_t *first, wr__snap_walk_t **out)
{
    *out = NULL;
    if (!nx) return WR_EINVAL;
    s_walk_t *wk = malloc(sizeof *wk);
    if (!wk) return WR_ENOMEM;
    const uint32_t max_span = nx >= S_MAX_STAGES ? 1 : (uint32_t)(S_MAX_STAGES / nx);
    const size_t nstage = nx * (max_span < maxp ? max_span : maxp);
    *wk = (s_walk_t){.w = w,
                     .xs = xs,
                     .nx = nx,
                     .maxp = maxp,
                     .n = w->kt->count,
                     .max_span = max_span,
                     .kg = kg,
                     .first = first,
                     .bpk = S_FIRST_BPK,
                     .stage = malloc(nstage * sizeof *wk->stage)};
    for (size_t k = 0; k < nx; k++)
        xs[k].index = NULL;
    int rc = wk->stage ? 0 : WR_ENOMEM;
    for (size_t k = 0; k < nx && !rc; k++)
        if (!(xs[k].index = malloc((size_t)maxp * WR__SNAP_INDEX_ENT))) rc = WR_ENOMEM;
    *out = wk;
    if (rc) wr__snap_walk_free(out);
    return rc;
}

int wr__snap_walk_step(wr__snap_walk_t *wk)
{
    const uint32_t maxp = wk->maxp, g0 = wk->g0;
    const uint64_t *first = wk->first;
    if (g0 >= maxp) return 1;
    s_pf_range(wk->w, wk->xs, wk->nx, &wk->pf_lo, &wk->pf_hi); /* (the ring may have moved) */
    const uint64_t budget = wk->w->snap_batch ? wk->w->snap_batch : S_BATCH_BYTES;
    uint64_t want = first[g0 + 1] - first[g0];
    uint32_t span = 1;
    for (; g0 + span < maxp && span < wk->max_span; span++) {
        uint64_t more = first[g0 + span + 1] - first[g0 + span];
        if ((want + more) * wk->bpk > budget) break;
        want += more;
    }
    uint64_t bytes = 0;
    int rc = s_batch(wk, g0, span, want, &bytes);
    if (want && bytes) wk->bpk = (bytes + want - 1) / want;
    wk->g0 = g0 + span;
    for (size_t k = 0; k < wk->nx && !rc && wk->g0 == maxp; k++)
        rc = s_finish(&wk->xs[k], maxp);
    return rc ? rc : wk->g0 == maxp;
}

void wr__snap_walk_free(wr__snap_walk_t **wkp)
{
    s_walk_t *wk = *wkp;
    if (!wk) return;
    for (size_t k = 0; k < wk->nx; k++) {
        free(wk->xs[k].index);
        wk->xs[k].index = NULL;
    }
    for (s_region_t *r = wk->regions, *next; r; r = next) {
        next = r->next;
        munmap(r->map, r->map_len);
        free(r);
    }
    free(wk->stage);
    free(wk);
    *wkp = NULL;
}

int wr__snap_bodies(const wr_window_t *w, wr__snap_stream_t *xs, size_t nx, uint32_t maxp,
                    const uint16_t *kg, const uint64_t *first)
{
    wr__snap_walk_t *wk = NULL;
    int rc = wr__snap_walk_new(w, xs, nx, maxp, kg, first, &wk);
    while (!rc)
        rc = wr__snap_walk_step(wk);
    wr__snap_walk_free(&wk);
    return rc == 1 ? 0 : rc;
}

void wr_window_snapshot_batch(wr_window_t *w, uint64_t bytes)
{
    w->snap_batch = bytes;
}

int wr__snap_body(const wr_window_t *w, wr_snap_writer_t *out, uint64_t start, uint32_t maxp,
                  const uint16_t *kg, const uint64_t *first,
                  int (*put)(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg),
                  void *arg, int64_t pf_lo, int64_t pf_hi, uint64_t *sump)
{
    wr__snap_stream_t x = {
        .out = out, .start = start, .put = put, .arg = arg, .pf_lo = pf_lo, .pf_hi = pf_hi};
    int rc = wr__snap_bodies(w, &x, 1, maxp, kg, first);
    if (!rc && sump) *sump = x.sum;
    return rc;
}
