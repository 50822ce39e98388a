#include "tests/support/window.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bus/base/error.h"

void ws_out_push(ws_out_t *o, const ws_res_t *r)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 256;
        o->r = realloc(o->r, o->cap * sizeof *o->r);
        assert_non_null(o->r);
    }
    o->r[o->n] = *r;
    o->r[o->n].seq = o->n;
    o->n++;
}

void ws_out_clear(ws_out_t *o)
{
    o->n = 0;
    o->nlate = 0;
}

void ws_out_free(ws_out_t *o)
{
    free(o->r);
    free(o->late_rows);
}

void ws_emit(void *ctx, const wr_window_results_t *r)
{
    ws_out_t *o = ctx;
    assert_true(r->n > 0 && r->n <= 512);
    for (size_t i = 0; i < r->n; i++) {
        ws_res_t x = {.key = r->key[i],
                      .start = r->start[i],
                      .end = r->end[i],
                      .count = r->count[i],
                      .late = r->late[i]};
        for (uint32_t a = 0; a < o->naggs; a++)
            x.v[a] = r->val[a][i];
        ws_out_push(o, &x);
    }
}

void ws_late(void *ctx, const uint32_t *rows, size_t n)
{
    ws_out_t *o = ctx;
    for (size_t i = 0; i < n; i++) {
        if (o->nlate == o->late_cap) {
            o->late_cap = o->late_cap ? o->late_cap * 2 : 64;
            o->late_rows = realloc(o->late_rows, o->late_cap * sizeof *o->late_rows);
            assert_non_null(o->late_rows);
        }
        o->late_rows[o->nlate++] = rows[i];
    }
}

bool ws_full(void *ctx)
{
    ws_out_t *o = ctx;
    return o->pausing && o->asked++ % 2 == 0;
}

int ws_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink)
{
    int rc = wr_window_advance(w, wm, sink);
    while (rc == WR_EAGAIN) {
        ws_out_t *o = sink->ctx;
        o->pauses++;
        assert_true(wr_window_paused(w));
        uint64_t k = 1;
        int64_t t = wr_window_watermark(w) + 1;
        const double *none[WR_AGG_MAX_AGGS] = {0}; /* not read: a paused engine refuses first */
        assert_int_equal(wr_window_add(w, &k, &t, none, 1, sink), WR_EINVAL);
        assert_int_equal(wr_window_advance(w, INT64_MAX, sink), WR_EINVAL);
        rc = wr_window_resume(w, sink);
    }
    assert_false(wr_window_paused(w));
    return rc;
}

int ws_res_cmp(const void *x, const void *y)
{
    const ws_res_t *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}
