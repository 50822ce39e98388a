/* libFuzzer target: what the rocksdb window backend reads back from its pane store after a crash
 * or a restore, a block value with tails (state/panestore.h) whose entries' accumulators carry
 * quantile sketches in their stored form (agg.h). Input: one byte choosing the aggregates (bit 0:
 * one sketch column with min and max asked for, or two sketch columns with hidden min and max),
 * then the block value. The block parser must accept or refuse it (WR_EPROTO) without reading past
 * it; every entry of an accepted block is loaded as window_rocks.c loads it for a re-fire
 * (sketches validated, the tail used exactly), its quantiles read, its sketches freed; and checked
 * as its firing reads it in place (wr__acc_check_stored): the same verdict, and read in place its
 * quantiles equal the loaded ones. No crash, no leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/agg.h"
#include "bus/base/error.h"
#include "state/panestore_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The aggregates the corpus was made with (tests/fuzz/corpus/pane_tails). */
static int s_layout(uint8_t which, wr__agg_layout_t *l)
{
    const wr_agg_t one[] = {
        {WR_AGG_COUNT, 0, 0}, {WR_AGG_QUANTILE, 0, 0.95}, {WR_AGG_MIN, 0, 0}, {WR_AGG_MAX, 0, 0}};
    const wr_agg_t two[] = {{WR_AGG_COUNT, 0, 0},
                            {WR_AGG_QUANTILE, 0, 0.5},
                            {WR_AGG_QUANTILE, 1, 0.95},
                            {WR_AGG_SUM, 1, 0}};
    return which & 1 ? wr__agg_layout(l, two, 4, 2) : wr__agg_layout(l, one, 4, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    wr__agg_layout_t l;
    if (s_layout(data[0], &l)) abort();
    struct wr_panestore s = {.acc_size = l.size, .tails = true};
    wr__ps_block_t b;
    if (wr__ps_block_parse(&s, data + 1, size - 1, &b)) return 0;
    wr__sketch_pool_t *sk = wr__sketch_pool_new(0.01);
    if (!sk) return 0;
    const double qs[3] = {0, 0.5, 1};
    for (size_t i = 0; i < b.n; i++) {
        uint8_t acc[WR__MAX_ACC];
        uint32_t len;
        size_t used;
        const uint8_t *tail = wr__ps_block_tail(&b, i, &len);
        memcpy(acc, b.accs + i * l.size, l.size);
        const uint8_t *stored = b.accs + i * l.size;
        int checked = wr__acc_check_stored(&l, stored, tail, len);
        if (checked && checked != WR_EPROTO) abort();
        int rc = wr__acc_load(&l, acc, tail, len, &used, sk);
        if (rc == WR_ENOMEM) break;
        if (rc) {
            if (rc != WR_EPROTO || !checked) abort();
            continue;
        }
        if (used != len) { /* trailing bytes: window_rocks.c refuses the entry */
            if (!checked) abort();
            wr__acc_free_sketches(&l, acc, sk);
            continue;
        }
        if (checked) abort();
        const uint8_t *accs[2] = {acc, stored};
        const void *tails[2] = {NULL, tail};
        for (uint32_t f = 0; f < l.nfields; f++) {
            if (l.f[f].kind != WR__F_SKETCH) continue;
            double out[3], in_place[3];
            wr__sketch_view_t v = wr__skf_view(sk, acc + l.f[f].off);
            int qrc = wr__sketch_quantiles_of(sk, &v, 1, qs, 3, out);
            if (qrc == 0 && out[0] > out[2]) abort();
            wr__merge_t m; /* the same sketch loaded, then read in place: the same quantiles */
            if (wr__merge_init(&m, &l, 2)) break;
            wr__merge_panes(&m, &l, sk, accs + 1, tails + 1, 1);
            if (qrc == 0 && wr__sketch_quantiles_of(sk, m.sk[f], m.nsk[f], qs, 3, in_place) == 0 &&
                memcmp(out, in_place, sizeof out))
                abort();
            wr__merge_release(&m);
        }
        wr__acc_free_sketches(&l, acc, sk);
    }
    if (wr__sketch_pool_live(sk) != 0) abort();
    wr__sketch_pool_destroy(&sk);
    return 0;
}
