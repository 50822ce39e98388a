/* libFuzzer target: the window snapshot decoder, which reads checkpoint files off disk.
 * Input: one byte choosing the engine (bits 0-1: sliding, tumbling, session; with quantiles), the
 * first key group restored (bits 2-4), an incremental snapshot (bit 6) and a key remap (bit 7),
 * then the snapshot: one stream, or (bit 6) parts each a u32 length (little-endian) and its bytes,
 * the first the main, the others its segments (at most 8). It is restored as it is (the checksums
 * must hold), and again with every part's checksums recomputed, so that damage reaches the
 * section decoder. Whatever restores must then run: the engine fires and drops everything at the
 * end of time. No crash, no leak, either way. Seeds: version 1 (seed-0..2, written before
 * incremental snapshots) and version 2 full and incremental (incr-*; WEIR_SNAP_SEEDS=DIR
 * test_window_snap writes them). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/window_snap.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The engines the corpus was made with (tests/fuzz/corpus/window_snap). */
static wr_window_spec_t s_spec(uint8_t which)
{
    wr_window_spec_t s = {.lateness_ms = 20, .ncols = 1, .naggs = 4};
    switch (which % 3) {
    case 0:
        s.kind = WR_WINDOW_SLIDING, s.size_ms = 40, s.slide_ms = 10;
        break;
    case 1:
        s.kind = WR_WINDOW_TUMBLING, s.size_ms = 10;
        break;
    default:
        s.kind = WR_WINDOW_SESSION, s.gap_ms = 15;
    }
    const wr_agg_t aggs[4] = {{.kind = WR_AGG_COUNT},
                              {.kind = WR_AGG_SUM},
                              {.kind = WR_AGG_QUANTILE, .q = 0.5},
                              {.kind = WR_AGG_LAST}};
    memcpy(s.aggs, aggs, sizeof aggs);
    return s;
}

static uint64_t s_map(void *ctx, uint64_t key)
{
    (void)ctx;
    return key * 3 + 1;
}

#define S_PARTS 9

static uint32_t s_kg(void *ctx, uint64_t key)
{
    (void)ctx;
    return (uint32_t)(key % 16);
}

/* An engine that took a main's segments over writes its next main referencing them. */
static void s_main_after(wr_window_t *w)
{
    wr_window_seg_t segs[WR_WINDOW_MAX_RING + 1];
    int n = wr_window_segments(w, segs, WR_WINDOW_MAX_RING + 1);
    if (n < 0) abort();
    for (int i = 0; i < n; i++)
        if (segs[i].due) return; /* (a closed pane after the sealed ones: its segment is due) */
    wr_snap_writer_t *out = wr_snap_writer_new_mem();
    if (!out) abort();
    if (wr_window_snapshot_main(w, segs, (size_t)n, 16, s_kg, NULL, out)) abort();
    wr_snap_writer_destroy(&out);
}

/* Restores key groups [lo, 16) (the corpus's max_parallelism) of p[0] and its segments
 * p[1..n), keys remapped when `map`; unmapped, as a restart that goes on with the segments. */
static void s_try(const wr_window_spec_t *spec, const wr_snap_part_t *p, size_t n, uint32_t lo,
                  bool map)
{
    wr_window_t *w = wr_window_new(spec, NULL);
    if (!w) abort();
    bool adopted = false;
    int rc =
        map ? wr_window_restore_parts(w, p[0].data, p[0].len, p + 1, n - 1, lo, 16, s_map, NULL)
            : wr_window_restore_going_on(w, p[0].data, p[0].len, p + 1, n - 1, lo, 16, &adopted);
    if (rc == 0 && adopted) s_main_after(w);
    if (rc == 0) {
        /* twice: the second must find every key there already (or restore nothing) */
        int again = wr_window_restore_parts(w, p[0].data, p[0].len, p + 1, n - 1, lo, 16,
                                            map ? s_map : NULL, NULL);
        wr_window_stats_t st;
        wr_window_stats(w, &st);
        if (again != 0 && again != WR_EEXIST) abort();
        if (again == 0 && st.keys_live != 0 && n == 1) abort(); /* (segments merge again) */
        if (wr_window_advance(w, INT64_MAX, NULL)) abort();
        wr_window_stats(w, &st);
        if (st.keys_live || st.panes_live || st.sketches) abort();
    }
    wr_window_destroy(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    wr_window_spec_t spec = s_spec(data[0]);
    uint32_t lo = data[0] >> 2 & 7;
    bool map = data[0] & 0x80;
    wr_snap_part_t p[S_PARTS];
    size_t n = 0;
    if (data[0] & 0x40) { /* parts */
        for (size_t at = 1; at + 4 <= size && n < S_PARTS;) {
            uint32_t len;
            memcpy(&len, data + at, 4);
            at += 4;
            if (len > size - at) break;
            p[n++] = (wr_snap_part_t){data + at, len};
            at += len;
        }
        if (!n) return 0;
    } else {
        p[n++] = (wr_snap_part_t){data + 1, size - 1};
    }
    s_try(&spec, p, n, lo, map);
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    for (size_t i = 0; i < n; i++) { /* each part resealed in a copy of its own place */
        uint8_t *at = copy + (p[i].data - data);
        memcpy(at, p[i].data, p[i].len);
        wr__window_snap_reseal(at, p[i].len);
        p[i].data = at;
    }
    s_try(&spec, p, n, lo, map);
    free(copy);
    return 0;
}
