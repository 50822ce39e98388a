/* Window snapshots' byte plumbing (internal to window_snap*.c): XXH64 checksums and the writer's
 * hot path. */
#ifndef WR_WINDOW_SNAP_INTERNAL_H
#define WR_WINDOW_SNAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "actors/dataflow/window/window_internal.h"
#include "actors/dataflow/window/window_snap.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "window snapshots are written in host order, which must be little-endian"
#endif

/* ---- the format (see window_snap.h) ---- */

#define WR__SNAP_MAGIC     "WEIRWSN1"
#define WR__SNAP_END_MAGIC "WEIRWEND"
#define WR__SNAP_INDEX_ENT 32 /* offset, length, keys, checksum: u64 each */
#define WR__SNAP_TRAILER                                                                           \
    32 /* index offset u64, max_parallelism u32, version u32, checksum of                          \
          index and the trailer's first 16 bytes u64, end magic */

#define WR__SNAP_FULL     0u /* parts (see window_snap.h) */
#define WR__SNAP_MAIN     1u
#define WR__SNAP_SEGMENT  2u
#define WR__SNAP_SEG_ENT  16 /* a main's segment: pane i64, id u64 */
#define WR__SNAP_MAX_SEGS (WR_WINDOW_MAX_RING + 1)

/* The header's contents. Version 2 adds part, nsegs, sealed (after keys) and the segment list
 * (after the aggregates). segs: reading, the list's bytes in the header; writing, the list. */
typedef struct {
    uint32_t version, header_bytes, kind, ncols, naggs, acc_size, ring, maxp;
    int64_t size, slide, gap, lateness, pane, wm, lo, base;
    double alpha;
    uint64_t keys;
    uint32_t part, nsegs;
    int64_t sealed; /* main: the last sealed pane; segment: its pane */
    wr_agg_t aggs[WR_AGG_MAX_AGGS];
    const uint8_t *segs;
    const wr_window_seg_t *wsegs;
    uint64_t sum; /* the header's checksum (set by reading and writing) */
} wr__snap_head_t;

/* A segment's id: of its header's and its trailer's checksums (together they cover every byte),
 * never 0. */
uint64_t wr__snap_seg_id(uint64_t head_sum, uint64_t trailer_sum);

/* The header of engine w: its shape and time axis (keys and maxp are the caller's). */
void wr__snap_head_of(const wr_window_t *w, wr__snap_head_t *h);
/* The bytes wr__snap_head_write writes for h. */
size_t wr__snap_head_bytes(const wr__snap_head_t *h);
/* Appends h (its wsegs as the segment list), then its checksum. 0 or the writer's error. */
int wr__snap_head_write(wr_snap_writer_t *out, wr__snap_head_t *h);
/* Reads and checks the header at the start of b[0..len) (versions 1 and 2; a version 1 header
 * reads as part 0): 0, WR_EPROTO or WR_EVERSION. */
int wr__snap_head_read(const uint8_t *b, size_t len, wr__snap_head_t *h);
/* 0 when engine w can take the keys of a snapshot with header h, else WR_EINVAL. */
int wr__snap_head_fits(const wr_window_t *w, const wr__snap_head_t *h);

/* XXH64 with seed 0, over data given in pieces of any size. */
typedef struct {
    uint64_t v[4];
    uint8_t tail[32];
    size_t nt;
    uint64_t len;
} wr__sum_t;

void wr__sum_init(wr__sum_t *s);
void wr__sum_update(wr__sum_t *s, const void *p, size_t n);
uint64_t wr__sum_final(const wr__sum_t *s);
/* XXH64 of p[0..n). */
uint64_t wr__sum(const void *p, size_t n);

#define WR__SNAPW_CHUNKS (-2) /* a writer's fd: into chunks that next_chunk hands out */

struct wr_snap_writer {
    int fd;          /* -1: memory; WR__SNAPW_CHUNKS: chunks */
    int64_t fd_base; /* the fd's position when the writer began (-1: not seekable) */
    uint8_t *buf;
    size_t cap, pos;
    uint64_t base; /* stream offset of buf[0] */
    size_t hashed; /* while summing: buf[0..hashed) is in sum */
    bool summing;
    wr__sum_t sum;
    int err; /* sticky */
    /* chunk writers (window_snap_walk.c's stages, made in place; only the functions below that
     * append and wr__snapw_off apply): called when buf lacks room for n bytes (n <= 64 KiB), it
     * moves buf to a fresh chunk of at least n bytes (base += pos; pos 0). 0 or WR_ENOMEM */
    int (*next_chunk)(wr_snap_writer_t *w, size_t n);
    void *chunk_ctx; /* next_chunk's */
};

/* Makes room for n more bytes (fd writers flush; memory writers grow; chunk writers take the next
 * chunk). 0 or the sticky error. */
int wr__snapw_make_room(wr_snap_writer_t *w, size_t n);

/* n contiguous bytes to fill at the writer's position (n at most 64 KiB), or NULL after an
 * error; wr__snapw_commit(w, n) then adds them. */
static inline uint8_t *wr__snapw_room(wr_snap_writer_t *w, size_t n)
{
    if (w->cap - w->pos < n && wr__snapw_make_room(w, n)) return NULL;
    return w->buf + w->pos;
}

static inline void wr__snapw_commit(wr_snap_writer_t *w, size_t n)
{
    w->pos += n;
}

/* Appends p[0..n) (any size). 0 or the sticky error. */
int wr__snapw_put(wr_snap_writer_t *w, const void *p, size_t n);

static inline uint64_t wr__snapw_off(const wr_snap_writer_t *w)
{
    return w->base + w->pos;
}

/* Overwrites the n bytes at stream offset off (written before, n at most what was written from
 * there) with p: an fd writer flushes and writes them in place (pwrite). 0, WR_EINVAL (out of
 * range, not seekable) or the writer's error. */
int wr__snapw_patch(wr_snap_writer_t *w, uint64_t off, const void *p, size_t n);

/* A checksum over the bytes written between begin and end (one at a time). */
void wr__snapw_sum_begin(wr_snap_writer_t *w);
uint64_t wr__snapw_sum_end(wr_snap_writer_t *w);

/* Writes the sections of w's keys (key e in group kg[e]; first[g]: the keys in groups below g,
 * first[maxp] all of them), each key's record by put (which may write nothing and return 1: the
 * key is left out), the index and the trailer after a header that started at stream offset
 * start, and flushes. Within a section the keys are in table order. Panes [pf_lo, pf_hi] are
 * those put reads (prefetched ahead of it: a hint). *sum (if sum) gets the trailer's checksum.
 * 0 or an error. The walk's way: window_snap_walk.c. */
int wr__snap_body(const wr_window_t *w, wr_snap_writer_t *out, uint64_t start, uint32_t maxp,
                  const uint16_t *kg, const uint64_t *first,
                  int (*put)(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg),
                  void *arg, int64_t pf_lo, int64_t pf_hi, uint64_t *sum);
/* One stream of wr__snap_bodies: its writer, the stream offset its header started at, the key
 * records' writer (as wr__snap_body's put) and its argument, the ring panes put reads [pf_lo,
 * pf_hi] (a prefetch hint); index is scratch; sum gets the trailer's checksum. */
typedef struct {
    wr_snap_writer_t *out;
    uint64_t start;
    int (*put)(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg);
    void *arg;
    int64_t pf_lo, pf_hi;
    uint8_t *index;
    uint64_t sum;
} wr__snap_stream_t;

/* wr__snap_body for streams xs[0..nx) at once, in one pass over the keys (each key's entry is
 * read once for all of them). Extra memory: the records of a batch of key groups (about 32 MiB)
 * staged. 0 or the first error. */
int wr__snap_bodies(const wr_window_t *w, wr__snap_stream_t *xs, size_t nx, uint32_t maxp,
                    const uint16_t *kg, const uint64_t *first);
/* wr__snap_bodies in steps (a segment written ahead between batches of records,
 * window_snap_ahead.c): a walk over the keys in w's table now (entries [0, count): keys added
 * later are not visited), each step a batch of key groups (about 32 MiB of records staged). The
 * walk reads w afresh at every step, so w may change between steps, but no entry below the count
 * it began with may be removed or moved (a sweep's removals: see wr__ahead_settle). xs, kg and
 * first are borrowed until the walk is freed; xs[].index is the walk's. */
typedef struct wr__snap_walk wr__snap_walk_t;
/* 0, WR_EINVAL (no streams) or WR_ENOMEM. *wk NULL on failure. */
int wr__snap_walk_new(const wr_window_t *w, wr__snap_stream_t *xs, size_t nx, uint32_t maxp,
                      const uint16_t *kg, const uint64_t *first, wr__snap_walk_t **wk);
/* One batch: 0 (more to come), 1 (the last: every stream finished and flushed) or an error (the
 * streams' bytes are garbage). */
int wr__snap_walk_step(wr__snap_walk_t *wk);
/* NULL-safe; nulls *wk. */
void wr__snap_walk_free(wr__snap_walk_t **wk);
/* kg and first (see wr__snap_body) for w's keys grouped by key_group: malloc'd, the caller frees
 * both. 0, WR_EINVAL (a group >= maxp; maxp at most WR_WINDOW_SNAP_MAX_GROUPS) or WR_ENOMEM. */
int wr__snap_groups(const wr_window_t *w, uint32_t maxp, uint32_t (*key_group)(void *, uint64_t),
                    void *ctx, uint16_t **kg, uint64_t **first);
/* A segment's key record (wr__snap_body's put; arg: the pane, an int64_t): the key and its
 * accumulator of the pane; nothing (1) when it has none. */
int wr__snap_put_pane(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg);
/* Writes the header of the segment of closed pane *pane of w (max_parallelism maxp) to out and
 * sets *x to the stream of its key records (pane borrowed as its argument) and *head_sum to the
 * header's checksum (with the trailer's, the segment's id). 0 or the writer's error. */
int wr__snap_seg_begin(const wr_window_t *w, int64_t *pane, uint32_t maxp, wr_snap_writer_t *out,
                       wr__snap_stream_t *x, uint64_t *head_sum);
/* Whether closed pane p of w provably holds no data (then no segment is written for it). */
bool wr__snap_pane_empty(const wr_window_t *w, int64_t p);
/* The last closed pane: its end - 1 <= the watermark. */
static inline int64_t wr__snap_closed(const wr_window_t *w)
{
    return wr__floor_div(w->wm + 1, w->P) - 1;
}
/* The last pane a main would seal: the last closed one, or the one before the pane whose segment
 * is being written ahead (the main holds that pane and the later closed ones as it holds the
 * open ones, and the segment goes on after it; window_snap_ahead.c). */
int64_t wr__snap_main_sealed(const wr_window_t *w);
/* Appends accumulator acc in its stored form (sketch entries inline). */
int wr__snap_put_acc(const wr_window_t *w, wr_snap_writer_t *out, const uint8_t *acc);
/* Which panes of a key a sliced key record keeps: those after `after`; and, of a key that
 * maybe(arg, key) says may have more (asked once a key: nearly every key has none), those
 * pane(arg, key, p) accepts. */
typedef struct {
    int64_t after;
    bool (*maybe)(const void *arg, uint64_t key);
    bool (*pane)(const void *arg, uint64_t key, int64_t p);
    const void *arg;
} wr__snap_keep_t;
/* A sliced key record of entry e with only the panes keep keeps (NULL: all); returns 1 when it
 * keeps none (nothing written). */
int wr__snap_put_slices(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e,
                        const wr__snap_keep_t *keep);

#endif
