/* The rocksdb window backend's private state, shared by window_rocks.c (life cycle, records,
 * closing panes), window_rocks_fire.c (firing) and window_rocks_ckpt.c (checkpoints). Not for
 * other modules. */
#ifndef WR_WINDOW_ROCKS_INTERNAL_H
#define WR_WINDOW_ROCKS_INTERNAL_H

#include "actors/dataflow/window/window_internal.h"
#include "state/panestore.h"

/* Checkpoints store the open panes' entries changed since the previous checkpoint as delta runs
 * in the store, at pane numbers from here on (far above any real pane). */
#define WR__ROCKS_DELTA_BASE ((int64_t)1 << 61)

/* An open pane: key -> accumulator and a dirty byte (changed since the last checkpoint), in
 * memory until the watermark passes its end. */
typedef struct {
    int64_t pane;
    wr__keytable_t *kt; /* entries: key u64, accumulator */
} wr__ropen_t;

/* A pane closed by the firing under way, sorted by (kg, key) and kept in memory until the firing
 * completes (its run was just written, and reading it back would cost a cold read). Its
 * accumulators hold sketch handles: a closed pane's run owns its sketches (wr__rocks_run_done
 * frees them), a checkpoint's delta run borrows its open pane's. */
typedef struct {
    int64_t pane;
    size_t n, pos; /* entries; the merge's position */
    size_t cap;    /* entries the arrays hold */
    uint16_t *kg;
    uint64_t *key;
    uint8_t *acc;
} wr__rrun_t;

/* A firing, kept across pauses: windows [a_lo, a_hi] (multiples of g, clipped to the data) go in
 * chunks of panes one cursor can merge; the chunk under way is windows [c_lo, c_hi]. */
typedef struct {
    bool active, chunk; /* chunk: [c_lo, c_hi] is under way */
    bool kept;          /* runs[0] is the kept run, stored already */
    int64_t wm, lo_new, closed_new;
    int64_t a_lo, a_hi, c_lo, c_hi;
    wr_panestore_cursor_t *cur; /* NULL: no stored panes in the chunk */
    bool row_live;              /* cur's current row is in row */
    wr_panestore_row_t row;
} wr__rfire_t;

typedef struct wr__rocks {
    wr_panestore_t *ps;
    char *dir;
    uint32_t maxp, kg_lo, kg_hi; /* key groups: all of them, or the restored range */
    /* panes < closed are closed (in the store if they had data); the store may hold data in
     * panes [st_lo, st_hi] (st_lo > st_hi: none) */
    int64_t closed, st_lo, st_hi;
    wr__ropen_t *open; /* ascending panes, all >= closed */
    size_t nopen, open_cap;
    wr__rrun_t *runs; /* panes closed by the firing under way, ascending */
    size_t nruns;
    /* the newest stored run, kept in memory for one more firing: the next one reads it from here,
     * not cold from the file just ingested (the SST writer drops its pages from the page cache).
     * Dropped when a late record changes its pane. n == 0: none. */
    wr__rrun_t keep;
    /* Memory kept for the next pane rather than given back: a table, a run's arrays and the
     * sort's scratch, hundreds of MB each for millions of keys, whose fresh pages would cost a
     * fault and a zeroing each (~1 ms per 2 MiB) at every pane. */
    wr__keytable_t *spare_kt; /* empty */
    wr__rrun_t spare_run;     /* n == 0 */
    void *sort_a, *sort_b;
    size_t sort_cap;
    wr__rfire_t f;
    /* a key's panes while its windows fire: kp_tail[i] NULL for an accumulator with pool
     * sketches, else kp_acc[i] is a stored one (from the cursor) and its sketches lie there */
    int64_t *kp_pane;
    const uint8_t **kp_acc;
    const void **kp_tail;
    size_t kp_cap;
    uint8_t *one;  /* scratch accumulators: 2 K */
    uint8_t *ld;   /* a stored accumulator as read for a re-fire (its sketches then loaded) */
    uint8_t *tbuf; /* an entry's tail (its sketches' entries) being written */
    size_t tbuf_cap;
    uint64_t late_updates; /* records written into closed panes */
    uint8_t *init;         /* a new open entry's payload: empty accumulator, not dirty */
    /* delta runs of open panes in the store (see WR__ROCKS_DELTA_BASE): id, pane */
    int64_t (*deltas)[2];
    size_t ndeltas, deltas_cap;
    int64_t delta_next;
} wr__rocks_t;

/* The key group of key. */
uint16_t wr__rocks_kg(const wr_window_t *w, uint64_t key);
/* Sorts open pane o by (kg, key) into run r: all of it (o's table is freed), or with dirty_only
 * its dirty entries (made clean). 0 or WR_ENOMEM. */
int wr__rocks_sort_pane(wr_window_t *w, wr__ropen_t *o, wr__rrun_t *r, bool dirty_only);
/* The index of open pane p, created if absent (-1 on OOM). */
long wr__rocks_open_get(wr_window_t *w, int64_t p);
void wr__rocks_run_free(wr__rrun_t *r);
/* Done with run u of a closed pane: frees its sketches, then as wr__rocks_run_recycle. */
void wr__rocks_run_done(wr_window_t *w, wr__rrun_t *u);
/* Writes run u as pane `pane` of the store: with quantiles, each entry's sketches go into its
 * tail (the stored form of agg.h). */
int wr__rocks_put_run(wr_window_t *w, int64_t pane, const wr__rrun_t *u);
/* The stored form of acc (a copy, rewritten in place; the sketches stay its owner's): its tail
 * into *tail (r->tbuf), *len bytes. 0 or WR_ENOMEM. */
int wr__rocks_encode(wr_window_t *w, uint8_t *acc, const void **tail, size_t *len);
/* A stored accumulator (acc_size bytes at acc, tail of len bytes) into dst with its sketches
 * loaded into w's pool. WR_EPROTO for a damaged tail (dst holds no sketch then), WR_ENOMEM. */
int wr__rocks_load(wr_window_t *w, uint8_t *dst, const uint8_t *acc, const void *tail, size_t len);
/* Done with run u (zeroed): its arrays become the spare run if they are the larger, else go. */
void wr__rocks_run_recycle(wr__rocks_t *r, wr__rrun_t *u);
/* Done with an open pane's table (*kt nulled): emptied, it becomes the spare, or goes. */
void wr__rocks_kt_recycle(wr__rocks_t *r, wr__keytable_t **kt);
/* Fires the windows a in [a_lo, a_hi] of key, whose non-empty panes are kp[0..n) (ascending). */
int wr__rocks_fire_key(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, size_t n,
                       int64_t a_lo, int64_t a_hi, uint8_t late);
int wr__rocks_kp_reserve(wr__rocks_t *r, size_t n);

#endif
