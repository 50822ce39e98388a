/* Quantile sketches (actors/dataflow/window/sketch.h): the documented error bound, exact merges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/sketch.h"
#include "bus/base/error.h"

static int d_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The exact q-quantile as sketch.h defines it: rank floor(q (n - 1)) of the sorted values. */
static double s_exact(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, d_cmp);
    return v[(size_t)floor(q * (double)(n - 1))];
}

static void s_check(wr__sketch_pool_t *p, const uint32_t *hs, size_t nh, double *vals, size_t n,
                    double alpha)
{
    static const double qs[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
    double out[11];
    assert_int_equal(wr__sketch_quantiles(p, hs, nh, qs, 11, out), 0);
    for (int k = 0; k < 11; k++) {
        double x = s_exact(vals, n, qs[k]);
        assert_true(fabs(out[k] - x) <= alpha * fabs(x) * (1 + 1e-9));
    }
}

static void test_quantiles_within_bound(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    assert_non_null(p);
    uint32_t h = 0;
    double v[1000];
    for (int i = 0; i < 1000; i++) {
        v[i] = i + 1;
        assert_int_equal(wr__sketch_add(p, &h, v[i]), 0);
    }
    assert_int_equal(wr__sketch_count(p, h), 1000);
    s_check(p, &h, 1, v, 1000, 0.01);
    double q = 0.5, med;
    assert_int_equal(wr__sketch_quantiles(p, &h, 1, &q, 1, &med), 0);
    assert_true(fabs(med - 500) <= 5); /* rank floor(0.5 * 999) = 499: the value 500 */
    assert_int_equal(wr__sketch_pool_live(p), 1);
    wr__sketch_free(p, &h);
    assert_int_equal(h, 0);
    assert_int_equal(wr__sketch_pool_live(p), 0);
    wr__sketch_pool_destroy(&p);
    assert_null(p);
    wr__sketch_pool_destroy(&p);
}

static void test_signs_zero_nan_empty(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.02);
    uint32_t h = 0;
    double q[] = {0, 0.5, 1}, out[3];
    assert_int_equal(wr__sketch_quantiles(p, &h, 1, q, 3, out), 0); /* empty */
    assert_true(isnan(out[0]) && isnan(out[2]));
    assert_int_equal(wr__sketch_add(p, &h, NAN), 0); /* ignored */
    assert_int_equal(h, 0);
    double v[] = {-1000, -3.5, -0.001, 0, 0, -0.0, 2e-5, 7, 1e6};
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(wr__sketch_add(p, &h, v[i]), 0);
    assert_int_equal(wr__sketch_count(p, h), 9);
    s_check(p, &h, 1, v, 9, 0.02);
    double mid = 0.5, z;
    assert_int_equal(wr__sketch_quantiles(p, &h, 1, &mid, 1, &z), 0);
    assert_true(z == 0); /* zero is its own, exact bucket */
    wr__sketch_free(p, &h);
    wr__sketch_pool_destroy(&p);
}

/* A merged sketch is the sketch of the union: same answers as adding everything to one. */
static void test_merge_is_union(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    uint32_t a = 0, b = 0, all = 0, none = 0;
    double v[3000];
    uint64_t s = 42;
    for (int i = 0; i < 3000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = ((double)(s >> 11) / 9007199254740992.0 - 0.3) * 500;
        assert_int_equal(wr__sketch_add(p, i % 3 ? &a : &b, v[i]), 0);
        assert_int_equal(wr__sketch_add(p, &all, v[i]), 0);
    }
    uint32_t both[] = {a, b, 0};
    double q[] = {0, 0.1, 0.5, 0.9, 0.99, 1}, x[6], y[6], z[6];
    assert_int_equal(wr__sketch_quantiles(p, both, 3, q, 6, x), 0); /* union without merging */
    assert_int_equal(wr__sketch_merge(p, &a, b), 0);
    assert_int_equal(wr__sketch_merge(p, &a, none), 0);
    assert_int_equal(wr__sketch_quantiles(p, &a, 1, q, 6, y), 0);
    assert_int_equal(wr__sketch_quantiles(p, &all, 1, q, 6, z), 0);
    for (int k = 0; k < 6; k++)
        assert_true(x[k] == z[k] && y[k] == z[k]);
    assert_int_equal(wr__sketch_count(p, a), 3000);
    s_check(p, &a, 1, v, 3000, 0.01);
    uint32_t c = 0;
    assert_int_equal(wr__sketch_merge(p, &c, b), 0); /* into an empty sketch: a copy */
    assert_int_equal(wr__sketch_count(p, c), wr__sketch_count(p, b));
    wr__sketch_free(p, &a);
    wr__sketch_free(p, &b);
    wr__sketch_free(p, &c);
    wr__sketch_free(p, &all);
    assert_int_equal(wr__sketch_pool_live(p), 0);
    assert_true(wr__sketch_pool_bytes(p) > 0);
    wr__sketch_pool_destroy(&p);
}

/* One bucket past its 12-bit count, many buckets past several size classes. */
static void test_big_counts_and_growth(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    uint32_t h = 0, g = 0;
    for (int i = 0; i < 10000; i++)
        assert_int_equal(wr__sketch_add(p, &h, 42.0), 0);
    assert_int_equal(wr__sketch_add(p, &h, 1.0), 0);
    assert_int_equal(wr__sketch_count(p, h), 10001);
    double q[] = {0, 0.5, 1}, out[3];
    assert_int_equal(wr__sketch_quantiles(p, &h, 1, q, 3, out), 0);
    assert_true(fabs(out[0] - 1) <= 0.01 && fabs(out[1] - 42) <= 0.42 && fabs(out[2] - 42) <= 0.42);
    assert_int_equal(wr__sketch_merge(p, &h, h), 0); /* doubling a heavy bucket */
    assert_int_equal(wr__sketch_count(p, h), 20002);
    size_t n = 20000;
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = exp((double)i / 700.0 - 10); /* ~1400 distinct buckets */
        assert_int_equal(wr__sketch_add(p, &g, v[i]), 0);
    }
    s_check(p, &g, 1, v, n, 0.01);
    free(v);
    wr__sketch_free(p, &h);
    wr__sketch_free(p, &g);
    wr__sketch_pool_destroy(&p);
}

/* Values far apart take the sorting path; extremes clamp but stay ordered. */
static void test_wide_ranges_and_extremes(void **state)
{
    (void)state;
    for (int ai = 0; ai < 3; ai++) {
        double alpha = (double[]){0.001, 0.01, 0.05}[ai];
        wr__sketch_pool_t *p = wr__sketch_pool_new(alpha);
        uint32_t h = 0;
        double v[] = {1e-200, 3e-50, -2e40, 5e100, 1e200, -1e-100, 7.5, 1e300, -1e300};
        size_t n = alpha < 0.002 ? 7 : 9; /* 1e300 is outside alpha 0.001's exact range */
        for (size_t i = 0; i < n; i++)
            assert_int_equal(wr__sketch_add(p, &h, v[i]), 0);
        double w[9];
        memcpy(w, v, sizeof w);
        s_check(p, &h, 1, w, n, alpha);
        wr__sketch_free(p, &h);
        wr__sketch_pool_destroy(&p);
    }
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    uint32_t h = 0;
    assert_int_equal(wr__sketch_add(p, &h, INFINITY), 0);
    assert_int_equal(wr__sketch_add(p, &h, 4.9e-324), 0); /* subnormal */
    double q = 1, top;
    assert_int_equal(wr__sketch_quantiles(p, &h, 1, &q, 1, &top), 0);
    assert_true(top > 1e300); /* clamped to the top bucket */
    wr__sketch_free(p, &h);
    wr__sketch_pool_destroy(&p);
    assert_null(wr__sketch_pool_new(0));
    assert_null(wr__sketch_pool_new(1));
}

static void test_random_property(void **state)
{
    (void)state;
    uint64_t s = 7;
    for (int round = 0; round < 60; round++) {
        double alpha = (double[]){0.005, 0.01, 0.03}[round % 3];
        wr__sketch_pool_t *p = wr__sketch_pool_new(alpha);
        size_t parts = 1 + round % 7, n = 0;
        uint32_t hs[8] = {0};
        double *v = malloc(4000 * sizeof *v);
        for (size_t k = 0; k < parts; k++) {
            size_t m = (size_t)(round * 37 + k * 11) % 500;
            for (size_t i = 0; i < m; i++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                double u = (double)(s >> 11) / 9007199254740992.0;
                double x = round % 2 ? (u - 0.5) * 200 : exp(u * 30 - 15);
                v[n++] = x;
                assert_int_equal(wr__sketch_add(p, &hs[k], x), 0);
            }
        }
        if (n) s_check(p, hs, parts, v, n, alpha);
        for (size_t k = 0; k < parts; k++)
            wr__sketch_free(p, &hs[k]);
        assert_int_equal(wr__sketch_pool_live(p), 0);
        free(v);
        wr__sketch_pool_destroy(&p);
    }
}

/* A sketch read where it lies (a view: the pool's, or stored entries at any alignment) gives the
 * quantiles its handle gives, bit for bit, mixed in one union; wr__sketch_check takes stored
 * entries as wr__sketch_load does and refuses damaged ones. */
static void test_views_of_stored_entries(void **state)
{
    (void)state;
    static const double qs[] = {0, 0.1, 0.5, 0.95, 0.99, 1};
    uint64_t s = 11;
    for (int round = 0; round < 40; round++) {
        wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
        uint32_t hs[6] = {0};
        size_t parts = 1 + round % 6;
        for (size_t k = 0; k < parts; k++)
            for (size_t i = 0; i < (size_t)(round * 13 + k * 7) % 300; i++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                double u = (double)(s >> 11) / 9007199254740992.0;
                double x = round % 2 ? (u - 0.5) * 200 : exp(u * 30 - 15);
                assert_int_equal(wr__sketch_add(p, &hs[k], x), 0);
            }
        /* odd parts as stored copies one byte off alignment, even ones the pool's */
        uint8_t *copies = malloc(1 + 6 * 4 * 4096);
        wr__sketch_view_t vs[6];
        size_t off = 1;
        for (size_t k = 0; k < parts; k++) {
            uint32_t n;
            const uint32_t *e = wr__sketch_entries(p, hs[k], &n);
            vs[k] = wr__sketch_view(p, hs[k]);
            assert_int_equal(vs[k].n, n);
            if (k % 2 == 0 || !n) continue;
            memcpy(copies + off, e, (size_t)n * 4);
            assert_int_equal(wr__sketch_check(copies + off, n), 0);
            vs[k] = (wr__sketch_view_t){copies + off, n};
            off += (size_t)n * 4;
        }
        double a[6], b[6];
        assert_int_equal(wr__sketch_quantiles(p, hs, parts, qs, 6, a), 0);
        assert_int_equal(wr__sketch_quantiles_of(p, vs, parts, qs, 6, b), 0);
        assert_memory_equal(a, b, sizeof a);
        for (size_t k = 0; k < parts; k++)
            wr__sketch_free(p, &hs[k]);
        free(copies);
        wr__sketch_pool_destroy(&p);
    }
    /* damaged stored entries: zero key, zero count, keys descending */
    uint32_t good[3] = {5u << 12 | 1, 6u << 12 | 2, 6u << 12 | 4095};
    assert_int_equal(wr__sketch_check(good, 3), 0);
    assert_int_equal(wr__sketch_check(good, 0), 0);
    uint32_t zero_key[1] = {7}, zero_count[1] = {5u << 12}, down[2] = {6u << 12 | 1, 5u << 12 | 1};
    assert_int_equal(wr__sketch_check(zero_key, 1), WR_EPROTO);
    assert_int_equal(wr__sketch_check(zero_count, 1), WR_EPROTO);
    assert_int_equal(wr__sketch_check(down, 2), WR_EPROTO);
    /* more entries than the largest class holds (refused before a word is read) */
    assert_int_equal(wr__sketch_check(good, 1u << 22), WR_EPROTO);
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    uint32_t h = 7;
    assert_int_equal(wr__sketch_load(p, &h, good, 1u << 22), WR_EPROTO);
    assert_int_equal(h, 0);
    wr__sketch_pool_destroy(&p);
}

/* Sketches whose size the pool has learned do not grow block by block: after many six-bucket
 * sketches were freed (panes expiring), a new one keeps its handle while its six buckets fill
 * (it starts at that size); after many one-bucket sketches, new ones start small again. Either
 * way the quantiles are those of the values. */
static void test_new_sketches_start_at_the_typical_size(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    enum { N = 70000 }; /* past the pool's 65,536 frees between two choices */
    uint32_t *hs = calloc(N, sizeof *hs);
    double six[] = {10, 11, 12.5, 14, 15.5, 17}; /* six buckets apart at alpha 0.01 */
    for (int round = 0; round < 2; round++) {
        size_t nv = round ? 1 : 6;
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < nv; j++)
                assert_int_equal(wr__sketch_add(p, &hs[i], six[j]), 0);
        for (size_t i = 0; i < N; i++)
            wr__sketch_free(p, &hs[i]);
        uint32_t h = 0, first = 0;
        for (size_t j = 0; j < 6; j++) {
            assert_int_equal(wr__sketch_add(p, &h, six[j]), 0);
            if (j == 0) first = h;
        }
        if (round == 0)
            assert_int_equal(h, first); /* learned: started with room for six */
        else
            assert_int_not_equal(h, first); /* learned: started with room for one, then grew */
        double v[6];
        memcpy(v, six, sizeof v);
        s_check(p, &h, 1, v, 6, 0.01);
        wr__sketch_prefetch(p, h); /* a hint: changes nothing */
        wr__sketch_prefetch(p, 0);
        assert_int_equal(wr__sketch_count(p, h), 6);
        wr__sketch_free(p, &h);
    }
    assert_int_equal(wr__sketch_pool_live(p), 0);
    free(hs);
    wr__sketch_pool_destroy(&p);
}

/* Every rank of small unions reads back its exact value's bucket: the value a sketch of that value
 * alone gives. Buckets with gaps between them, repeated values, both signs; each quantile counted
 * from the bottom (ranks below the middle) or the top. */
static void test_every_rank_reads_its_bucket(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    uint64_t s = 7;
    for (size_t n = 1; n <= 60; n++) {
        uint32_t hs[3] = {0, 0, 0};
        double v[60];
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            double base[] = {-40, -3, 0, 1, 1.5, 20, 20.3, 29, 300};
            v[i] = base[(s >> 33) % 9];
            assert_int_equal(wr__sketch_add(p, &hs[i % 3], v[i]), 0);
        }
        qsort(v, n, sizeof *v, d_cmp);
        for (size_t r = 0; r < n; r++) {
            double q = n == 1       ? 0
                       : r == n - 1 ? 1
                                    : ((double)r + 0.25) / (double)(n - 1),
                   got, want;
            uint32_t one = 0;
            assert_int_equal(wr__sketch_add(p, &one, v[r]), 0);
            double zero = 0;
            assert_int_equal(wr__sketch_quantiles(p, &one, 1, &zero, 1, &want), 0);
            assert_int_equal(wr__sketch_quantiles(p, hs, 3, &q, 1, &got), 0);
            assert_true(got == want);
            wr__sketch_free(p, &one);
        }
        for (int k = 0; k < 3; k++)
            wr__sketch_free(p, &hs[k]);
    }
    assert_int_equal(wr__sketch_pool_live(p), 0);
    wr__sketch_pool_destroy(&p);
}

/* Blocks freed and handed out again, in a random order, across the classes' growth: no two live
 * sketches share a block (each keeps exactly what was added to it). */
static void test_reused_blocks_stay_apart(void **state)
{
    (void)state;
    enum { N = 20000 };
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    uint32_t *h = calloc(N, sizeof *h), *cnt = calloc(N, sizeof *cnt);
    assert_non_null(h);
    assert_non_null(cnt);
    uint64_t s = 99;
    for (int round = 0; round < 6; round++) {
        for (size_t i = 0; i < N; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            if ((s >> 40) % 3 == 0) { /* a third freed, its slot starts again */
                wr__sketch_free(p, &h[i]);
                cnt[i] = 0;
            }
            size_t adds = (s >> 20) % (round + 2); /* some grow into bigger classes */
            for (size_t a = 0; a < adds; a++) {
                assert_int_equal(wr__sketch_add(p, &h[i], (double)(i % 97) + (double)a * 3), 0);
                cnt[i]++;
            }
        }
        for (size_t i = 0; i < N; i++)
            assert_int_equal(wr__sketch_count(p, h[i]), cnt[i]);
    }
    for (size_t i = 0; i < N; i++) {
        double q = 0, lo;
        if (!cnt[i]) continue;
        assert_int_equal(wr__sketch_quantiles(p, &h[i], 1, &q, 1, &lo), 0);
        assert_true(fabs(lo - (double)(i % 97)) <= 0.01 * (double)(i % 97)); /* its own values */
        wr__sketch_free(p, &h[i]);
    }
    assert_int_equal(wr__sketch_pool_live(p), 0);
    free(h);
    free(cnt);
    wr__sketch_pool_destroy(&p);
}

/* ---- sketches in accumulator fields (sketch.h: inline up to WR__SKF_INLINE entries) ---- */

/* Whether view v holds exactly pool sketch h's entries. */
static bool s_same_entries(const wr__sketch_pool_t *p, wr__sketch_view_t v, uint32_t h)
{
    wr__sketch_view_t w = wr__sketch_view(p, h);
    return v.n == w.n && (!v.n || !memcmp(v.e, w.e, (size_t)v.n * 4));
}

/* A field fed value after value holds what a pool sketch fed the same holds: inline while it
 * fits (nothing in the pool), in the pool from the entry after; merges and frees likewise. */
static void test_field_inline_then_pool(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    assert_non_null(p);
    uint8_t f[WR__SKF_BYTES + 3], *fld = f + 3; /* at any alignment */
    memset(f, 0, sizeof f);
    uint32_t h = 0;
    for (int i = 0; i < 40; i++) {
        double x = i % 3 ? 10.0 * (i + 1) : -1.5 * i; /* new buckets, repeats, zero, negatives */
        assert_int_equal(wr__skf_add(p, fld, x), 0);
        assert_int_equal(wr__sketch_add(p, &h, x), 0);
        wr__sketch_view_t v = wr__skf_view(p, fld);
        assert_true(s_same_entries(p, v, h));
        uint32_t n;
        memcpy(&n, fld, 4);
        assert_int_equal(n, v.n);
        if (v.n <= WR__SKF_INLINE) { /* inline: the view points into the field, padding zero */
            assert_ptr_equal(v.e, fld + 4);
            for (uint32_t k = v.n + 1; k <= WR__SKF_INLINE; k++)
                assert_int_equal(fld[4 * k] | fld[4 * k + 1] | fld[4 * k + 2] | fld[4 * k + 3], 0);
            assert_int_equal(wr__sketch_pool_live(p), 2); /* h, and the field's */
        }
    }
    assert_true(wr__skf_view(p, fld).n > WR__SKF_INLINE);
    assert_int_equal(wr__skf_add(p, fld, NAN), 0); /* NaN: not counted */
    assert_true(s_same_entries(p, wr__skf_view(p, fld), h));
    wr__skf_free(p, fld);
    for (size_t k = 0; k < WR__SKF_BYTES; k++)
        assert_int_equal(fld[k], 0);
    wr__sketch_free(p, &h);
    assert_int_equal(wr__sketch_pool_live(p), 0);
    wr__skf_free(p, fld); /* an empty field: nothing */
    assert_int_equal(wr__sketch_pool_live(p), 0);
    wr__sketch_pool_destroy(&p);
}

static void test_field_merge(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    assert_non_null(p);
    /* sizes of the two sides: empty, inline, the union still inline, the union in the pool, both
     * in the pool */
    static const int sizes[][2] = {{0, 3}, {3, 0}, {2, 2}, {3, 3}, {5, 4}, {9, 2}, {2, 9}, {8, 8}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        uint8_t a[WR__SKF_BYTES] = {0}, b[WR__SKF_BYTES] = {0};
        uint32_t ha = 0, hb = 0;
        for (int i = 0; i < sizes[t][0]; i++) {
            assert_int_equal(wr__skf_add(p, a, 100.0 + 7 * i), 0);
            assert_int_equal(wr__sketch_add(p, &ha, 100.0 + 7 * i), 0);
        }
        for (int i = 0; i < sizes[t][1]; i++) { /* half of them in a's buckets */
            double x = i % 2 ? 100.0 + 7 * i : 103.5 + 7 * i;
            assert_int_equal(wr__skf_add(p, b, x), 0);
            assert_int_equal(wr__sketch_add(p, &hb, x), 0);
        }
        uint64_t live = wr__sketch_pool_live(p);
        assert_int_equal(wr__skf_merge(p, a, b), 0);
        assert_int_equal(wr__sketch_merge(p, &ha, hb), 0);
        assert_true(s_same_entries(p, wr__skf_view(p, a), ha));
        assert_true(s_same_entries(p, wr__skf_view(p, b), hb)); /* src unchanged */
        assert_int_equal(wr__sketch_pool_live(p),
                         live + (!sizes[t][0] && sizes[t][1] ? 2 : 0)); /* a (and ha) new */
        wr__skf_free(p, a);
        wr__skf_free(p, b);
        wr__sketch_free(p, &ha);
        wr__sketch_free(p, &hb);
        assert_int_equal(wr__sketch_pool_live(p), 0);
    }
    wr__sketch_pool_destroy(&p);
}

/* The stored form: an inline sketch as it is, a pool one's entries in the tail; loads back to the
 * same entries; damage (a bad entry, a padding word, a short tail) is WR_EPROTO with nothing
 * allocated. */
static void test_field_stored_form(void **state)
{
    (void)state;
    wr__sketch_pool_t *p = wr__sketch_pool_new(0.01);
    assert_non_null(p);
    for (int n = 0; n <= 12; n++) {
        uint8_t f[WR__SKF_BYTES] = {0}, st[WR__SKF_BYTES], back[WR__SKF_BYTES];
        for (int i = 0; i < n; i++)
            assert_int_equal(wr__skf_add(p, f, 1.0 + i), 0);
        memcpy(st, f, sizeof st);
        wr__sketch_view_t tail = wr__skf_store(p, st);
        size_t tb = (size_t)tail.n * 4, used = 99;
        assert_int_equal(tail.n, n > WR__SKF_INLINE ? (uint32_t)n : 0);
        assert_int_equal(wr__skf_store_bytes(st), tb);
        if (n <= WR__SKF_INLINE) assert_memory_equal(st, f, sizeof st);
        uint8_t tcopy[64 * 4] = {0};
        if (tb) memcpy(tcopy, tail.e, tb);
        assert_int_equal(wr__skf_check_stored(st, tcopy, tb, &used), 0);
        assert_int_equal(used, tb);
        wr__sketch_view_t sv = wr__skf_stored_view(st, tcopy), lv = wr__skf_view(p, f);
        assert_int_equal(sv.n, lv.n);
        if (sv.n) assert_memory_equal(sv.e, lv.e, (size_t)sv.n * 4);
        uint64_t live = wr__sketch_pool_live(p);
        memcpy(back, st, sizeof back);
        assert_int_equal(wr__skf_load(p, back, tcopy, tb + 4, &used), 0); /* more bytes: fine */
        assert_int_equal(used, tb);
        assert_int_equal(wr__sketch_pool_live(p), live + (n > 0));
        lv = wr__skf_view(p, back);
        assert_int_equal(lv.n, (uint32_t)n);
        if (n) assert_memory_equal(lv.e, wr__skf_view(p, f).e, (size_t)n * 4);
        wr__skf_free(p, back);
        if (n) { /* damage: the first entry's count zero; a padding word; a short tail */
            uint8_t bad[WR__SKF_BYTES];
            memcpy(bad, st, sizeof bad);
            uint8_t *e0 = n > WR__SKF_INLINE ? tcopy : bad + 4, keep[4];
            memcpy(keep, e0, 4);
            e0[0] = 0; /* the count: the low 12 bits */
            e0[1] &= 0xF0;
            assert_int_equal(wr__skf_check_stored(bad, tcopy, tb, &used), WR_EPROTO);
            assert_int_equal(wr__skf_load(p, bad, tcopy, tb, &used), WR_EPROTO);
            for (size_t k = 0; k < WR__SKF_BYTES; k++)
                assert_int_equal(bad[k], 0);
            memcpy(e0, keep, 4);
            memcpy(bad, st, sizeof bad);
            if (n < WR__SKF_INLINE || n > WR__SKF_INLINE) {
                bad[WR__SKF_BYTES - 1] = 1;
                assert_int_equal(wr__skf_check_stored(bad, tcopy, tb, &used), WR_EPROTO);
            }
            if (tb) assert_int_equal(wr__skf_check_stored(st, tcopy, tb - 4, &used), WR_EPROTO);
            assert_int_equal(wr__sketch_pool_live(p), live);
        }
        wr__skf_free(p, f);
    }
    assert_int_equal(wr__sketch_pool_live(p), 0);
    wr__sketch_pool_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles_within_bound),
        cmocka_unit_test(test_signs_zero_nan_empty),
        cmocka_unit_test(test_merge_is_union),
        cmocka_unit_test(test_big_counts_and_growth),
        cmocka_unit_test(test_wide_ranges_and_extremes),
        cmocka_unit_test(test_random_property),
        cmocka_unit_test(test_new_sketches_start_at_the_typical_size),
        cmocka_unit_test(test_views_of_stored_entries),
        cmocka_unit_test(test_every_rank_reads_its_bucket),
        cmocka_unit_test(test_reused_blocks_stay_apart),
        cmocka_unit_test(test_field_inline_then_pool),
        cmocka_unit_test(test_field_merge),
        cmocka_unit_test(test_field_stored_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
