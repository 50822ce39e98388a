/* The rocksdb window backend: life cycle, the record path, closing panes (see window_rocks.h).
 * Firing is in window_rocks_fire.c, checkpoints in window_rocks_ckpt.c. */
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/dataflow/window/window_rocks_internal.h"
#include "bus/base/error.h"

#define S_IDX_PF 16 /* prefetch distance of index slots, in records */
/* Entries per stored block. A late record reads and rewrites its block and reads one block of
 * every pane of the windows it re-fires (a dozen): with the store's default of 1024 entries,
 * ~80 KB each with p95, the seed's job spent a sixth of its CPU time on its 1 in 10,000 late
 * records. A firing's merge steps from block to block: 128 entries keep that step rare. */
#define S_BLOCK_ENTRIES 128

/* What the sort of a closing pane orders: (kg, key), and the entry. */
typedef struct {
    uint64_t key;
    uint32_t e;
    uint16_t kg;
    uint16_t pad;
} s_item_t;

uint16_t wr__rocks_kg(const wr_window_t *w, uint64_t key)
{
    const wr_window_spec_t *s = &w->spec;
    uint32_t kg = s->key_group ? s->key_group(s->key_group_ctx, key)
                               : wr_key_group(wr_hash_u64(key), w->rocks->maxp);
    return (uint16_t)kg;
}

int wr__rocks_kp_reserve(wr__rocks_t *r, size_t n)
{
    if (n <= r->kp_cap) return 0;
    size_t cap = r->kp_cap * 2 > n ? r->kp_cap * 2 : n;
    int64_t *p = realloc(r->kp_pane, cap * sizeof *p);
    if (p) r->kp_pane = p;
    const uint8_t **a = realloc(r->kp_acc, cap * sizeof *a);
    if (a) r->kp_acc = a;
    const void **t = realloc(r->kp_tail, cap * sizeof *t);
    if (t) r->kp_tail = t;
    if (!p || !a || !t) return WR_ENOMEM;
    r->kp_cap = cap;
    return 0;
}

int wr__rocks_check(const wr_window_spec_t *s, wr_window_refusal_t *out)
{
    int64_t slide = s->kind == WR_WINDOW_SLIDING ? s->slide_ms : s->size_ms;
    const char *why = NULL;
    if (s->size_ms / wr__gcd(s->size_ms, slide) > WR_PANESTORE_MAX_PANES) {
        why = "the rocksdb backend merges at most 64 panes per window (size / gcd(size, slide))";
    } else if (s->max_parallelism > WR_PANESTORE_KG_END) {
        why = "the rocksdb backend stores at most 65536 key groups (max parallelism)";
    }
    if (why && out) *out = (wr_window_refusal_t){why, -1};
    return why ? WR_EINVAL : 0;
}

int wr__rocks_init(wr_window_t *w)
{
    const wr_window_spec_t *s = &w->spec;
    int64_t slide = s->kind == WR_WINDOW_SLIDING ? s->slide_ms : s->size_ms;
    w->P = wr__gcd(s->size_ms, slide);
    w->K = s->size_ms / w->P;
    w->g = slide / w->P;
    uint32_t maxp = s->max_parallelism ? s->max_parallelism : 128;
    if (wr__rocks_check(s, NULL)) return WR_EINVAL;
    wr__rocks_t *r = calloc(1, sizeof *r);
    if (!r) return WR_ENOMEM;
    w->rocks = r;
    r->maxp = maxp;
    r->kg_hi = maxp;
    w->lo = wr__slice_lo(w, w->wm);
    r->closed = wr__floor_div(w->wm + 1, w->P);
    r->st_lo = INT64_MAX;
    r->st_hi = INT64_MIN;
    /* room for the panes of a late record's windows: K + K - 1 */
    if (!(r->dir = strdup(s->state_dir)) || !(r->one = malloc((size_t)w->lay.size * 2 * w->K)) ||
        !(r->ld = malloc((size_t)w->lay.size)) || !(r->init = calloc(1, (size_t)w->lay.size + 1)) ||
        wr__rocks_kp_reserve(r, (size_t)w->K + 64) ||
        wr__merge_init(&w->merge, &w->lay, (uint32_t)w->K))
        return WR_ENOMEM;
    memcpy(r->init, w->lay.empty, w->lay.size);
    wr_panestore_config_t cfg = {.acc_size = w->lay.size,
                                 .block_entries = S_BLOCK_ENTRIES,
                                 .cache_bytes = s->cache_bytes,
                                 .tails = w->lay.nsketch > 0};
    int rc = WR_EIO;
    if (!(r->ps = wr_panestore_open(r->dir, &cfg, &rc))) return rc;
    return 0;
}

void wr__rocks_run_free(wr__rrun_t *r)
{
    free(r->kg);
    free(r->key);
    free(r->acc);
    memset(r, 0, sizeof *r);
}

void wr__rocks_run_recycle(wr__rocks_t *r, wr__rrun_t *u)
{
    if (u->cap > r->spare_run.cap) {
        wr__rrun_t t = r->spare_run;
        r->spare_run = *u;
        r->spare_run.n = r->spare_run.pos = 0;
        *u = t;
    }
    wr__rocks_run_free(u);
}

void wr__rocks_run_done(wr_window_t *w, wr__rrun_t *u)
{
    size_t sz = w->lay.size;
    for (size_t i = 0; i < u->n && w->lay.nsketch; i++) {
        if (i % WR__SK_BURST == 0) /* freeing writes each sketch's block */
            wr__accs_prefetch(&w->lay, u->acc + i * sz, sz, u->n - i, w->sk);
        wr__acc_free_sketches(&w->lay, u->acc + i * sz, w->sk);
    }
    wr__rocks_run_recycle(w->rocks, u);
}

int wr__rocks_encode(wr_window_t *w, uint8_t *acc, const void **tail, size_t *len)
{
    wr__rocks_t *r = w->rocks;
    const uint32_t *e[WR__MAX_FIELDS];
    uint32_t n[WR__MAX_FIELDS];
    size_t bytes = wr__acc_store(&w->lay, acc, w->sk, e, n);
    if (bytes > r->tbuf_cap) {
        size_t cap = r->tbuf_cap ? r->tbuf_cap : 256;
        while (cap < bytes)
            cap *= 2;
        uint8_t *t = realloc(r->tbuf, cap);
        if (!t) return WR_ENOMEM;
        r->tbuf = t;
        r->tbuf_cap = cap;
    }
    size_t off = 0; /* a copy: the caller may free the sketches before the tail is written */
    for (uint32_t k = 0; k < w->lay.nsketch; k++) {
        if (n[k]) memcpy(r->tbuf + off, e[k], (size_t)n[k] * 4);
        off += (size_t)n[k] * 4;
    }
    *tail = r->tbuf;
    *len = bytes;
    return 0;
}

int wr__rocks_load(wr_window_t *w, uint8_t *dst, const uint8_t *acc, const void *tail, size_t len)
{
    size_t used;
    memcpy(dst, acc, w->lay.size);
    int rc = wr__acc_load(&w->lay, dst, tail, len, &used, w->sk);
    if (!rc && used != len) { /* trailing bytes: a damaged value */
        wr__acc_free_sketches(&w->lay, dst, w->sk);
        rc = WR_EPROTO;
    }
    return rc;
}

typedef struct {
    wr_window_t *w;
    const wr__rrun_t *u;
    int rc;
} s_enc_t;

/* put_run_tails's encode: entry i's sketches into its tail (entries come in order: their
 * sketches, at random in the pool, are prefetched a burst at a time). */
static const void *s_encode(void *ctx, size_t i, uint8_t *acc, size_t *len)
{
    s_enc_t *x = ctx;
    const void *tail = NULL;
    size_t sz = x->w->lay.size;
    if (i % WR__SK_BURST == 0)
        wr__accs_prefetch(&x->w->lay, x->u->acc + i * sz, sz, x->u->n - i, x->w->sk);
    *len = 0;
    if (!x->rc) x->rc = wr__rocks_encode(x->w, acc, &tail, len);
    return x->rc ? NULL : tail;
}

int wr__rocks_put_run(wr_window_t *w, int64_t pane, const wr__rrun_t *u)
{
    wr__rocks_t *r = w->rocks;
    if (!w->lay.nsketch) return wr_panestore_put_run(r->ps, pane, u->kg, u->key, u->acc, u->n);
    s_enc_t x = {.w = w, .u = u};
    int rc = wr_panestore_put_run_tails(r->ps, pane, u->kg, u->key, u->acc, u->n, s_encode, &x);
    return x.rc ? x.rc : rc;
}

void wr__rocks_kt_recycle(wr__rocks_t *r, wr__keytable_t **kt)
{
    if (*kt && !r->spare_kt) {
        wr__kt_clear(*kt);
        r->spare_kt = *kt;
        *kt = NULL;
    }
    wr__kt_destroy(kt);
}

void wr__rocks_release(wr_window_t *w)
{
    wr__rocks_t *r = w->rocks;
    if (!r) return;
    wr_panestore_cursor_destroy(&r->f.cur);
    for (size_t i = 0; i < r->nopen; i++)
        wr__kt_destroy(&r->open[i].kt);
    for (size_t i = 0; i < r->nruns; i++)
        wr__rocks_run_free(&r->runs[i]);
    wr__rocks_run_free(&r->keep);
    wr__rocks_run_free(&r->spare_run);
    wr__kt_destroy(&r->spare_kt);
    free(r->sort_a);
    free(r->sort_b);
    wr_panestore_close(&r->ps);
    free(r->open);
    free(r->runs);
    free(r->kp_pane);
    free(r->kp_acc);
    free(r->kp_tail);
    free(r->one);
    free(r->ld);
    free(r->tbuf);
    free(r->init);
    free(r->deltas);
    free(r->dir);
    free(r);
    w->rocks = NULL;
}

void wr__rocks_stats(const wr_window_t *w, wr_window_stats_t *out)
{
    const wr__rocks_t *r = w->rocks;
    uint64_t entries = 0, keys = 0;
    size_t bytes = sizeof *w + sizeof *r + (size_t)w->lay.naggs * WR__OUT_CAP * sizeof(double) +
                   w->b_cap * (sizeof *w->b_hash + sizeof *w->b_pane + 3 * sizeof(uint32_t) + 1);
    for (size_t i = 0; i < r->nopen; i++) {
        entries += r->open[i].kt->count;
        if (r->open[i].kt->count > keys) keys = r->open[i].kt->count;
        bytes += wr__kt_bytes(r->open[i].kt);
    }
    for (size_t i = 0; i < r->nruns; i++)
        bytes += r->runs[i].cap * (10 + (size_t)w->lay.size);
    bytes += (r->keep.cap + r->spare_run.cap) * (10 + (size_t)w->lay.size) +
             2 * r->sort_cap * sizeof(s_item_t) + (r->spare_kt ? wr__kt_bytes(r->spare_kt) : 0);
    bytes += wr__sketch_pool_bytes(w->sk) + r->tbuf_cap;
    *out = (wr_window_stats_t){
        .keys_live = keys,
        .sketches = wr__sketch_pool_live(w->sk),
        .panes_live = entries,
        .spill_panes = r->late_updates,
        .memory_bytes = bytes,
        .records_added = w->records,
        .windows_fired = w->fired,
        .late_refires = w->refires,
        .dropped_late = w->dropped,
        .watermark = w->wm,
        .pane_ms = w->P,
    };
}

/* ---- the record path ---- */

long wr__rocks_open_get(wr_window_t *w, int64_t p)
{
    wr__rocks_t *r = w->rocks;
    size_t i = 0;
    while (i < r->nopen && r->open[i].pane < p)
        i++;
    if (i < r->nopen && r->open[i].pane == p) return (long)i;
    if (r->nopen == r->open_cap) {
        size_t cap = r->open_cap ? 2 * r->open_cap : 4;
        wr__ropen_t *o = realloc(r->open, cap * sizeof *o);
        if (!o) return -1;
        r->open = o;
        r->open_cap = cap;
    }
    wr__keytable_t *kt =
        r->spare_kt ? r->spare_kt : wr__kt_new(w->spec.expected_keys, w->lay.size + 1, false);
    if (!kt) return -1;
    r->spare_kt = NULL;
    memmove(r->open + i + 1, r->open + i, (r->nopen - i) * sizeof *r->open);
    r->open[i] = (wr__ropen_t){.pane = p, .kt = kt};
    r->nopen++;
    return (long)i;
}

typedef struct {
    wr_window_t *w;
    int64_t ts;
    const double *const *cols;
    size_t row;
} s_late_t;

/* update_one's merge: the record itself goes into the stored accumulator, as the memory engine
 * adds it to its pane (same order of additions: exact sums); with quantiles through its sketches,
 * loaded from the stored tail and stored again. */
static int s_late_merge(void *ctx, void *dst, const void **tail, size_t *tail_len)
{
    const s_late_t *l = ctx;
    wr_window_t *w = l->w;
    if (!w->lay.nsketch) return wr__acc_add(&w->lay, dst, l->ts, l->cols, l->row, w->sk);
    uint8_t acc[WR__MAX_ACC], owned[WR__MAX_ACC];
    int rc = wr__rocks_load(w, acc, dst, *tail, *tail_len);
    if (rc) return rc;
    rc = wr__acc_add(&w->lay, acc, l->ts, l->cols, l->row, w->sk);
    memcpy(owned, acc, w->lay.size);
    if (!rc) rc = wr__rocks_encode(w, acc, tail, tail_len);
    if (!rc) memcpy(dst, acc, w->lay.size);
    wr__acc_free_sketches(&w->lay, owned, w->sk);
    return rc;
}

/* Re-fires the windows of closed pane p of key that fired already and are not cleaned up, from
 * the store (a late record just updated p). */
static int s_refire(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, uint16_t kg,
                    int64_t p)
{
    wr__rocks_t *r = w->rocks;
    int64_t a1 = wr__ceil_g(w, p - w->K + 1), a2 = wr__floor_g(w, p);
    int64_t fired_max = wr__floor_g(w, r->closed - w->K);
    if (a1 < w->lo) a1 = w->lo;
    if (a2 > fired_max) a2 = fired_max;
    if (a1 > a2) return 0;
    size_t n = 0, asz = w->lay.size;
    int rc = 0;
    for (int64_t q = a1; q <= a2 + w->K - 1 && !rc; q++) {
        uint8_t *buf = r->one + (size_t)(q - a1) * asz;
        void *tail = NULL;
        size_t len = 0;
        rc = wr_panestore_get_one(r->ps, q, kg, key, w->lay.nsketch ? r->ld : buf,
                                  w->lay.nsketch ? &tail : NULL, &len);
        if (rc == WR_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (!rc && w->lay.nsketch) rc = wr__rocks_load(w, buf, r->ld, tail, len);
        free(tail);
        if (rc) break;
        r->kp_pane[n] = q;
        r->kp_tail[n] = NULL;
        r->kp_acc[n++] = buf;
    }
    if (!rc) rc = wr__rocks_fire_key(w, sink, key, n, a1, a2, 1);
    for (size_t i = 0; i < n && w->lay.nsketch; i++)
        wr__acc_free_sketches(&w->lay, (uint8_t *)r->kp_acc[i], w->sk);
    return rc;
}

/* A record of closed pane p (>= lo): read-modify-write of the stored accumulator, then the
 * re-fires. */
static int s_add_late(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, int64_t ts,
                      int64_t p, const double *const *cols, size_t row)
{
    wr__rocks_t *r = w->rocks;
    uint16_t kg = wr__rocks_kg(w, key);
    uint8_t *one = r->one; /* an accumulator of the record alone: stored when the key is not */
    uint8_t stored[WR__MAX_ACC];
    const void *tail = NULL;
    size_t len = 0;
    memcpy(one, w->lay.empty, w->lay.size);
    int rc = wr__acc_add(&w->lay, one, ts, cols, row, w->sk);
    memcpy(stored, one, w->lay.size);
    if (!rc && w->lay.nsketch) rc = wr__rocks_encode(w, stored, &tail, &len);
    s_late_t l = {.w = w, .ts = ts, .cols = cols, .row = row};
    if (r->keep.n && r->keep.pane == p) wr__rocks_run_done(w, &r->keep); /* stale from now on */
    if (!rc) rc = wr_panestore_update_one(r->ps, p, kg, key, stored, tail, len, s_late_merge, &l);
    wr__acc_free_sketches(&w->lay, one, w->sk);
    if (rc) return rc;
    if (p < r->st_lo) r->st_lo = p;
    if (p > r->st_hi) r->st_hi = p;
    r->late_updates++;
    w->records++;
    return s_refire(w, sink, key, kg, p);
}

/* Every on-time record's candidate entry into b_cand, its lines prefetched (index slots
 * S_IDX_PF records ahead): a batch's entry lines fit in L2, so the updates that follow find
 * them in the cache, as the memory engine's do (window_slice.c). */
static void s_locate(wr_window_t *w, size_t n)
{
    const wr__rocks_t *r = w->rocks;
    const uint8_t *cls = w->b_cls;
    const uint64_t *hs = w->b_hash;
    const uint32_t *slot = w->b_slot;
    for (size_t i = 0; i < S_IDX_PF && i < n; i++)
        if (cls[i] == WR__REC_RING) wr__kt_prefetch_slot(r->open[slot[i]].kt, hs[i]);
    for (size_t i = 0; i < n; i++) {
        size_t j = i + S_IDX_PF;
        if (j < n && cls[j] == WR__REC_RING) wr__kt_prefetch_slot(r->open[slot[j]].kt, hs[j]);
        if (cls[i] != WR__REC_RING) continue;
        const wr__keytable_t *kt = r->open[slot[i]].kt;
        uint32_t e = w->b_cand[i] = wr__kt_candidate(kt, hs[i]);
        if (e == WR__KT_NONE) continue;
        const uint8_t *ent = wr__kt_entry(kt, e);
        __builtin_prefetch(ent, 1);
        __builtin_prefetch(ent + 8 + w->lay.size - 1, 1);
    }
}

int wr__rocks_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                  const double *const *cols, size_t n, const wr_window_sink_t *sink)
{
    wr__rocks_t *r = w->rocks;
    const int64_t P = w->P, lo = w->lo, closed = r->closed;
    uint8_t *cls = w->b_cls;
    int64_t *pane = w->b_pane;
    uint32_t *slot = w->b_slot, *cand = w->b_cand;
    uint64_t *hs = w->b_hash;
    size_t nlate_upd = 0;
    /* pass 1: classify; open the panes the batch needs */
    int64_t last_p = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t t = ts[i];
        if (t < WR_WINDOW_TS_MIN || t > WR_WINDOW_TS_MAX || (pane[i] = wr__floor_div(t, P)) < lo) {
            cls[i] = WR__REC_DROP;
            w->b_late[w->n_late++] = (uint32_t)i;
            continue;
        }
        if (pane[i] < closed) {
            cls[i] = WR__REC_SPILL;
            nlate_upd++;
            continue;
        }
        cls[i] = WR__REC_RING;
        hs[i] = wr__kt_hash(keys[i]);
        if (pane[i] != last_p && wr__rocks_open_get(w, last_p = pane[i]) < 0) return WR_ENOMEM;
    }
    /* pass 2: each record's open pane, with room for the batch */
    long oi = -1;
    last_p = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (cls[i] != WR__REC_RING) continue;
        if (pane[i] != last_p) {
            last_p = pane[i];
            for (oi = 0; r->open[oi].pane != last_p; oi++)
                ;
            int rc = wr__kt_reserve(r->open[oi].kt, n);
            if (rc) return rc;
        }
        slot[i] = (uint32_t)oi;
    }
    /* pass 3: locate every record's entry; pass 4: update, prefetching sketches ahead */
    s_locate(w, n);
    uint64_t added = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (w->lay.nsketch && i % WR__SK_BURST == 0) /* the entries are in the cache by now */
            for (size_t j = i; j < n && j < i + WR__SK_BURST; j++)
                if (cls[j] == WR__REC_RING && cand[j] != WR__KT_NONE)
                    wr__acc_prefetch(&w->lay, wr__kt_entry(r->open[slot[j]].kt, cand[j]) + 8,
                                     w->sk);
        if (cls[i] != WR__REC_RING) continue;
        wr__keytable_t *kt = r->open[slot[i]].kt;
        uint32_t e = cand[i];
        if (e == WR__KT_NONE || wr__kt_key(kt, e) != keys[i]) {
            e = wr__kt_find(kt, keys[i], hs[i]);
            if (e == WR__KT_NONE) e = wr__kt_insert(kt, keys[i], hs[i], r->init);
        }
        uint8_t *ent = wr__kt_entry(kt, e) + 8;
        rc = wr__acc_add(&w->lay, ent, ts[i], cols, i, w->sk);
        ent[w->lay.size] = 1; /* dirty */
        added += !rc;
    }
    w->records += added;
    /* late records into closed panes, in record order */
    for (size_t i = 0; i < n && nlate_upd && !rc; i++)
        if (cls[i] == WR__REC_SPILL) rc = s_add_late(w, sink, keys[i], ts[i], pane[i], cols, i);
    return rc;
}

/* ---- closing a pane: sort by (kg, key) ---- */

static inline uint8_t s_digit(const s_item_t *x, int d)
{
    return d < 8 ? (uint8_t)(x->key >> (8 * d)) : (uint8_t)(x->kg >> (8 * (d - 8)));
}

/* LSD radix sort by (kg, key), 10 byte digits; digits all items share are skipped. Returns the
 * buffer (a or b) that holds the result. */
static s_item_t *s_radix(s_item_t *a, s_item_t *b, size_t n)
{
    static const int nd = 10;
    size_t(*hist)[256] = calloc((size_t)nd, sizeof *hist);
    if (!hist) return NULL;
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < nd; d++)
            hist[d][s_digit(&a[i], d)]++;
    for (int d = 0; d < nd; d++) {
        size_t *h = hist[d], sum = 0;
        if (n && h[s_digit(&a[0], d)] == n) continue;
        for (int v = 0; v < 256; v++) {
            size_t c = h[v];
            h[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[h[s_digit(&a[i], d)]++] = a[i];
        s_item_t *t = a;
        a = b;
        b = t;
    }
    free(hist);
    return a;
}

/* Room for n entries in run u (empty): the spare run's arrays when they are large enough. */
static int s_run_reserve(wr__rocks_t *r, wr__rrun_t *u, size_t n, size_t asz)
{
    if (n < 1) n = 1;
    if (r->spare_run.cap >= n) {
        int64_t pane = u->pane;
        *u = r->spare_run;
        u->pane = pane;
        memset(&r->spare_run, 0, sizeof r->spare_run);
        return 0;
    }
    if (!(u->kg = malloc(n * 2)) || !(u->key = malloc(n * 8)) || !(u->acc = malloc(n * asz)))
        return WR_ENOMEM;
    u->cap = n;
    return 0;
}

static int s_sort_reserve(wr__rocks_t *r, size_t n)
{
    if (n <= r->sort_cap) return 0;
    free(r->sort_a);
    free(r->sort_b);
    r->sort_a = malloc(n * sizeof(s_item_t));
    r->sort_b = malloc(n * sizeof(s_item_t));
    r->sort_cap = r->sort_a && r->sort_b ? n : 0;
    return r->sort_cap ? 0 : WR_ENOMEM;
}

int wr__rocks_sort_pane(wr_window_t *w, wr__ropen_t *o, wr__rrun_t *run, bool dirty_only)
{
    wr__rocks_t *r = w->rocks;
    wr__keytable_t *kt = o->kt;
    size_t n = kt->count, asz = w->lay.size;
    memset(run, 0, sizeof *run);
    run->pane = o->pane;
    int rc = s_sort_reserve(r, n ? n : 1);
    if (rc || (rc = s_run_reserve(r, run, n, asz))) {
        wr__rocks_run_free(run);
        return rc;
    }
    s_item_t *a = r->sort_a, *s;
    size_t m = 0;
    for (uint32_t e = 0; e < n; e++) {
        uint8_t *dirty = wr__kt_entry(kt, e) + 8 + asz;
        if (dirty_only && !*dirty) continue;
        *dirty = 0;
        uint64_t key = wr__kt_key(kt, e);
        a[m++] = (s_item_t){.key = key, .e = e, .kg = wr__rocks_kg(w, key)};
    }
    run->n = n = m;
    if (!(s = s_radix(a, r->sort_b, n))) {
        wr__rocks_run_free(run);
        return WR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n) __builtin_prefetch(wr__kt_entry(kt, s[i + 8].e) + 8);
        run->kg[i] = s[i].kg;
        run->key[i] = s[i].key;
        memcpy(run->acc + i * asz, wr__kt_entry(kt, s[i].e) + 8, asz);
    }
    if (!dirty_only) wr__rocks_kt_recycle(r, &o->kt);
    return 0;
}
