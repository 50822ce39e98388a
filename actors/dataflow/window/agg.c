/* Window aggregates: names, accumulator layout, merging and final values (see agg.h). */
#include "actors/dataflow/window/agg.h"

#include <stdio.h>
#include <stdlib.h>

#include "bus/base/error.h"

static const struct {
    const char *name;
    wr_agg_kind_t kind;
} s_names[] = {
    {"count", WR_AGG_COUNT},   {"sum", WR_AGG_SUM},           {"min", WR_AGG_MIN},
    {"max", WR_AGG_MAX},       {"avg", WR_AGG_AVG},           {"mean", WR_AGG_AVG},
    {"stddev", WR_AGG_STDDEV}, {"stddev_pop", WR_AGG_STDDEV}, {"stddev_samp", WR_AGG_STDDEV_SAMP},
    {"first", WR_AGG_FIRST},   {"last", WR_AGG_LAST},         {"quantile", WR_AGG_QUANTILE},
};

int wr_agg_parse(const char *name, wr_agg_t *out)
{
    if (!name || !out) return WR_EINVAL;
    for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++)
        if (!strcmp(name, s_names[i].name) && s_names[i].kind != WR_AGG_QUANTILE) {
            out->kind = s_names[i].kind;
            out->q = 0;
            return 0;
        }
    double q;
    char *end;
    if (!strcmp(name, "median")) {
        q = 0.5;
    } else if (name[0] == 'p' && name[1] >= '0' && name[1] <= '9') {
        q = strtod(name + 1, &end) / 100;
        if (*end) return WR_EINVAL;
    } else if (!strncmp(name, "quantile(", 9)) {
        q = strtod(name + 9, &end);
        if (end == name + 9 || strcmp(end, ")")) return WR_EINVAL;
    } else {
        return WR_EINVAL;
    }
    if (!(q >= 0 && q <= 1)) return WR_EINVAL;
    out->kind = WR_AGG_QUANTILE;
    out->q = q;
    return 0;
}

const char *wr_agg_name(wr_agg_kind_t kind)
{
    for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++)
        if (s_names[i].kind == kind) return s_names[i].name;
    return "?";
}

static int s_field_kind(wr_agg_kind_t k)
{
    switch (k) {
    case WR_AGG_SUM:
    case WR_AGG_AVG:
        return WR__F_SUM;
    case WR_AGG_MIN:
        return WR__F_MIN;
    case WR_AGG_MAX:
        return WR__F_MAX;
    case WR_AGG_STDDEV:
    case WR_AGG_STDDEV_SAMP:
        return WR__F_MOM;
    case WR_AGG_FIRST:
        return WR__F_FIRST;
    case WR_AGG_LAST:
        return WR__F_LAST;
    case WR_AGG_QUANTILE:
        return WR__F_SKETCH;
    default:
        return -1;
    }
}

static uint32_t s_field_size(int kind)
{
    switch (kind) {
    case WR__F_MOM:
    case WR__F_FIRST:
    case WR__F_LAST:
        return 16;
    case WR__F_SKETCH:
        return WR__SKF_BYTES;
    default:
        return 8;
    }
}

static void s_field_empty(uint8_t *p, int kind)
{
    int64_t t;
    switch (kind) {
    case WR__F_MIN:
        wr__st(p, INFINITY);
        break;
    case WR__F_MAX:
        wr__st(p, -INFINITY);
        break;
    case WR__F_FIRST:
    case WR__F_LAST:
        t = kind == WR__F_FIRST ? INT64_MAX : INT64_MIN;
        memcpy(p, &t, 8);
        wr__st(p + 8, NAN);
        break;
    default:
        memset(p, 0, s_field_size(kind));
    }
}

/* The field of kind fk on column col, added when missing. */
static uint32_t s_field(wr__agg_layout_t *l, int fk, uint32_t col)
{
    uint32_t f = 0;
    while (f < l->nfields && !(l->f[f].kind == fk && l->f[f].col == col))
        f++;
    if (f == l->nfields) {
        l->f[f] = (wr__field_t){.kind = (uint8_t)fk, .col = col, .off = l->size};
        s_field_empty(l->empty + l->size, fk);
        l->size += s_field_size(fk);
        l->nsketch += fk == WR__F_SKETCH;
        l->nfields++;
    }
    return f;
}

int wr__agg_layout(wr__agg_layout_t *l, const wr_agg_t *aggs, uint32_t n, uint32_t ncols)
{
    memset(l, 0, sizeof *l);
    if (!aggs || n == 0 || n > WR_AGG_MAX_AGGS) return WR_EINVAL;
    l->size = 4;
    l->naggs = n;
    for (uint32_t a = 0; a < n; a++) {
        l->aggs[a] = aggs[a];
        if (aggs[a].kind == WR_AGG_COUNT) continue;
        int fk = s_field_kind(aggs[a].kind);
        if (fk < 0 || aggs[a].col >= ncols) return WR_EINVAL;
        if (fk == WR__F_SKETCH && !(aggs[a].q >= 0 && aggs[a].q <= 1)) return WR_EINVAL;
        l->agg_field[a] = s_field(l, fk, aggs[a].col);
    }
    /* after the aggregates' own fields: a layout without quantiles is what it always was */
    for (uint32_t f = 0, nf = l->nfields; f < nf; f++)
        if (l->f[f].kind == WR__F_SKETCH) {
            l->clamp[f][0] = s_field(l, WR__F_MIN, l->f[f].col);
            l->clamp[f][1] = s_field(l, WR__F_MAX, l->f[f].col);
        }
    return 0;
}

/* A quantile v of a window whose values lie in [lo, hi] (NaN stays NaN). */
static inline double s_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int wr__merge_init(wr__merge_t *m, const wr__agg_layout_t *l, uint32_t max_panes)
{
    memset(m, 0, sizeof *m);
    m->cap = max_panes;
    for (uint32_t f = 0; f < l->nfields; f++)
        if (l->f[f].kind == WR__F_SKETCH && !(m->sk[f] = calloc(max_panes, sizeof *m->sk[f]))) {
            wr__merge_release(m);
            return WR_ENOMEM;
        }
    return 0;
}

void wr__merge_release(wr__merge_t *m)
{
    for (uint32_t f = 0; f < WR__MAX_FIELDS; f++)
        free(m->sk[f]);
    memset(m, 0, sizeof *m);
}

/* Chan et al.: the mean and M2 of two disjoint groups of na and nb values. */
static void s_moments_merge(uint8_t *dst, uint64_t na, const uint8_t *src, uint64_t nb)
{
    if (na == 0) {
        memcpy(dst, src, 16);
        return;
    }
    double ma = wr__ld(dst), mb = wr__ld(src), n = (double)(na + nb), d = mb - ma;
    wr__st(dst, ma + d * ((double)nb / n));
    wr__st(dst + 8, wr__ld(dst + 8) + wr__ld(src + 8) + d * d * ((double)na * (double)nb / n));
}

/* Merges the non-sketch fields of src (nb records) into dst (na records before). */
static void s_fields_merge(const wr__agg_layout_t *l, uint8_t *dst, uint64_t na, const uint8_t *src,
                           uint64_t nb)
{
    for (uint32_t i = 0; i < l->nfields; i++) {
        uint8_t *d = dst + l->f[i].off;
        const uint8_t *s = src + l->f[i].off;
        int64_t td, ts;
        switch (l->f[i].kind) {
        case WR__F_SUM:
            wr__st(d, wr__ld(d) + wr__ld(s));
            break;
        case WR__F_MIN:
            if (wr__ld(s) < wr__ld(d)) wr__st(d, wr__ld(s));
            break;
        case WR__F_MAX:
            if (wr__ld(s) > wr__ld(d)) wr__st(d, wr__ld(s));
            break;
        case WR__F_MOM:
            s_moments_merge(d, na, s, nb);
            break;
        case WR__F_FIRST: /* src is later in time: it wins only with a strictly earlier time */
            memcpy(&td, d, 8);
            memcpy(&ts, s, 8);
            if (ts < td) memcpy(d, s, 16);
            break;
        case WR__F_LAST:
            memcpy(&td, d, 8);
            memcpy(&ts, s, 8);
            if (ts >= td) memcpy(d, s, 16);
            break;
        default:
            break; /* sketches: by the caller */
        }
    }
}

/* The sketch of field f of acc: a live one's, or with tail (acc in the stored form, checked) its
 * entries in acc or in the tail, after those of the sketch fields before f that went there. */
static wr__sketch_view_t s_sketch_of(const wr__agg_layout_t *l, uint32_t f, const uint8_t *acc,
                                     const void *tail, const wr__sketch_pool_t *sk)
{
    if (!tail) return wr__skf_view(sk, acc + l->f[f].off);
    size_t off = 0;
    for (uint32_t i = 0; i < f; i++)
        if (l->f[i].kind == WR__F_SKETCH) off += wr__skf_store_bytes(acc + l->f[i].off);
    return wr__skf_stored_view(acc + l->f[f].off, (const uint8_t *)tail + off);
}

void wr__merge_panes(wr__merge_t *m, const wr__agg_layout_t *l, const wr__sketch_pool_t *sk,
                     const uint8_t *const *accs, const void *const *tails, size_t n)
{
    uint64_t count = 0;
    for (size_t j = 0; j < n; j++)
        count += wr__acc_count(accs[j]);
    m->count = count;
    /* Field by field, each a tight loop; the same results as merging pane after pane into the
     * empty accumulator (sums: 0.0 + s0 + s1 + ...). */
    for (uint32_t i = 0; i < l->nfields; i++) {
        uint32_t off = l->f[i].off;
        uint8_t *d = m->acc + off;
        double v;
        switch (l->f[i].kind) {
        case WR__F_SUM:
            v = 0;
            for (size_t j = 0; j < n; j++)
                v += wr__ld(accs[j] + off);
            wr__st(d, v);
            break;
        case WR__F_MIN:
            v = INFINITY;
            for (size_t j = 0; j < n; j++) {
                double x = wr__ld(accs[j] + off);
                v = x < v ? x : v;
            }
            wr__st(d, v);
            break;
        case WR__F_MAX:
            v = -INFINITY;
            for (size_t j = 0; j < n; j++) {
                double x = wr__ld(accs[j] + off);
                v = x > v ? x : v;
            }
            wr__st(d, v);
            break;
        case WR__F_MOM: {
            uint64_t na = 0;
            memcpy(d, l->empty + off, 16);
            for (size_t j = 0; j < n; j++) {
                uint64_t nb = wr__acc_count(accs[j]);
                s_moments_merge(d, na, accs[j] + off, nb);
                na += nb;
            }
            break;
        }
        case WR__F_FIRST:
        case WR__F_LAST:
            memcpy(d, l->empty + off, 16);
            for (size_t j = 0; j < n; j++) {
                int64_t td, ts;
                memcpy(&td, d, 8);
                memcpy(&ts, accs[j] + off, 8);
                if (l->f[i].kind == WR__F_FIRST ? ts < td : ts >= td) memcpy(d, accs[j] + off, 16);
            }
            break;
        default: /* sketches: read at wr__merge_finish */
            m->nsk[i] = 0;
            for (size_t j = 0; j < n && j < m->cap; j++) {
                wr__sketch_view_t sv = s_sketch_of(l, i, accs[j], tails ? tails[j] : NULL, sk);
                if (sv.n) m->sk[i][m->nsk[i]++] = sv;
            }
        }
    }
}

/* Whether aggregate a is a quantile of sketch field f. */
static inline bool s_quantile_of(const wr__agg_layout_t *l, uint32_t a, uint32_t f)
{
    return l->aggs[a].kind == WR_AGG_QUANTILE && l->agg_field[a] == f;
}

/* The quantile aggregates a of sketch field f over the union of the sketches vs[0..nh), clamped
 * to [lo, hi], into out[a]: one pass over the union for all of them (p50, p95 and p99 of one
 * column read its sketches once). 0 or WR_ENOMEM. */
static int s_field_quantiles(const wr__agg_layout_t *l, uint32_t f, wr__sketch_pool_t *sk,
                             const wr__sketch_view_t *vs, size_t nh, double lo, double hi,
                             double *out)
{
    double qs[WR_AGG_MAX_AGGS] = {0}, v[WR_AGG_MAX_AGGS];
    uint32_t as[WR_AGG_MAX_AGGS], nq = 0;
    for (uint32_t a = 0; a < l->naggs; a++)
        if (s_quantile_of(l, a, f)) {
            as[nq] = a;
            qs[nq++] = l->aggs[a].q;
        }
    int rc = wr__sketch_quantiles_of(sk, vs, nh, qs, nq, v);
    for (uint32_t i = 0; i < nq && !rc; i++)
        out[as[i]] = s_clamp(v[i], lo, hi);
    return rc;
}

int wr__merge_finish(wr__merge_t *m, const wr__agg_layout_t *l, wr__sketch_pool_t *sk, double *out)
{
    double n = (double)m->count;
    for (uint32_t a = 0; a < l->naggs; a++) {
        const uint8_t *p = m->acc + l->f[l->agg_field[a]].off;
        double m2;
        switch (l->aggs[a].kind) {
        case WR_AGG_COUNT:
            out[a] = n;
            break;
        case WR_AGG_SUM:
        case WR_AGG_MIN:
        case WR_AGG_MAX:
            out[a] = wr__ld(p);
            break;
        case WR_AGG_AVG:
            out[a] = wr__ld(p) / n;
            break;
        case WR_AGG_STDDEV:
        case WR_AGG_STDDEV_SAMP:
            m2 = wr__ld(p + 8);
            if (m2 < 0) m2 = 0;
            out[a] = l->aggs[a].kind == WR_AGG_STDDEV ? sqrt(m2 / n)
                     : m->count > 1                   ? sqrt(m2 / (n - 1))
                                                      : NAN;
            break;
        case WR_AGG_FIRST:
        case WR_AGG_LAST:
            out[a] = wr__ld(p + 8);
            break;
        default: /* quantiles: below, per sketch field */
            break;
        }
    }
    for (uint32_t f = 0; f < l->nfields && l->nsketch; f++) {
        if (l->f[f].kind != WR__F_SKETCH) continue;
        int rc = s_field_quantiles(l, f, sk, m->sk[f], m->nsk[f],
                                   wr__ld(m->acc + l->f[l->clamp[f][0]].off),
                                   wr__ld(m->acc + l->f[l->clamp[f][1]].off), out);
        if (rc) return rc;
    }
    return 0;
}

int wr__acc_merge_into(const wr__agg_layout_t *l, uint8_t *dst, uint8_t *src, wr__sketch_pool_t *sk)
{
    uint32_t na = wr__acc_count(dst), nb = wr__acc_count(src);
    if (l->nsketch)
        for (uint32_t i = 0; i < l->nfields; i++)
            if (l->f[i].kind == WR__F_SKETCH) {
                int rc = wr__skf_merge(sk, dst + l->f[i].off, src + l->f[i].off);
                if (rc) return rc;
            }
    s_fields_merge(l, dst, na, src, nb);
    uint32_t n = na + nb;
    memcpy(dst, &n, 4);
    wr__acc_clear(l, src, sk);
    return 0;
}

void wr__acc_clear(const wr__agg_layout_t *l, uint8_t *acc, wr__sketch_pool_t *sk)
{
    if (l->nsketch)
        for (uint32_t i = 0; i < l->nfields; i++)
            if (l->f[i].kind == WR__F_SKETCH) wr__skf_free(sk, acc + l->f[i].off);
    memcpy(acc, l->empty, l->size);
}

void wr__merge_block(const wr__agg_layout_t *l, uint8_t *const *ents, size_t nk,
                     const uint32_t *offs, size_t ns, wr__block_t *b)
{
    for (size_t k = 0; k < nk; k++) {
        uint64_t c = 0;
        for (size_t j = 0; j < ns; j++)
            c += wr__acc_count(ents[k] + offs[j]);
        b->count[k] = c;
    }
    for (uint32_t i = 0; i < l->nfields; i++) {
        const uint32_t off = l->f[i].off;
        double *fa = b->fa[i], *fb = b->fb[i];
        switch (l->f[i].kind) {
        case WR__F_SUM:
            for (size_t k = 0; k < nk; k++) {
                double v = 0; /* + 0.0 from an empty pane is exact: v is never -0.0 */
                for (size_t j = 0; j < ns; j++)
                    v += wr__ld(ents[k] + offs[j] + off);
                fa[k] = v;
            }
            break;
        case WR__F_MIN:
            for (size_t k = 0; k < nk; k++) {
                double v = INFINITY;
                for (size_t j = 0; j < ns; j++) {
                    double x = wr__ld(ents[k] + offs[j] + off);
                    v = x < v ? x : v;
                }
                fa[k] = v;
            }
            break;
        case WR__F_MAX:
            for (size_t k = 0; k < nk; k++) {
                double v = -INFINITY;
                for (size_t j = 0; j < ns; j++) {
                    double x = wr__ld(ents[k] + offs[j] + off);
                    v = x > v ? x : v;
                }
                fa[k] = v;
            }
            break;
        case WR__F_MOM:
            for (size_t k = 0; k < nk; k++) {
                uint8_t m[16];
                uint64_t na = 0;
                memcpy(m, l->empty + off, 16);
                for (size_t j = 0; j < ns; j++) {
                    uint64_t nb = wr__acc_count(ents[k] + offs[j]);
                    if (!nb) continue;
                    s_moments_merge(m, na, ents[k] + offs[j] + off, nb);
                    na += nb;
                }
                fa[k] = wr__ld(m);
                fb[k] = wr__ld(m + 8);
            }
            break;
        case WR__F_FIRST:
        case WR__F_LAST: {
            bool first = l->f[i].kind == WR__F_FIRST;
            for (size_t k = 0; k < nk; k++) {
                int64_t tb = first ? INT64_MAX : INT64_MIN;
                double v = NAN;
                for (size_t j = 0; j < ns; j++) {
                    const uint8_t *p = ents[k] + offs[j] + off;
                    int64_t t;
                    memcpy(&t, p, 8);
                    if (first ? t < tb : t >= tb) {
                        tb = t;
                        v = wr__ld(p + 8);
                    }
                }
                fa[k] = v;
            }
            break;
        }
        default:
            break; /* sketches: at finish */
        }
    }
}

int wr__finish_block(const wr__agg_layout_t *l, uint8_t *const *ents, size_t nk,
                     const uint32_t *offs, size_t ns, wr__sketch_pool_t *sk, wr__block_t *b)
{
    for (uint32_t a = 0; a < l->naggs; a++) {
        uint32_t f = l->agg_field[a];
        const double *fa = b->fa[f], *fb = b->fb[f];
        double *out = b->val[a];
        switch (l->aggs[a].kind) {
        case WR_AGG_COUNT:
            for (size_t k = 0; k < nk; k++)
                out[k] = (double)b->count[k];
            break;
        case WR_AGG_AVG:
            for (size_t k = 0; k < nk; k++)
                out[k] = fa[k] / (double)b->count[k];
            break;
        case WR_AGG_STDDEV:
        case WR_AGG_STDDEV_SAMP:
            for (size_t k = 0; k < nk; k++) {
                double n = (double)b->count[k], m2 = fb[k] < 0 ? 0 : fb[k];
                out[k] = l->aggs[a].kind == WR_AGG_STDDEV ? sqrt(m2 / n)
                         : b->count[k] > 1                ? sqrt(m2 / (n - 1))
                                                          : NAN;
            }
            break;
        case WR_AGG_QUANTILE: /* below, per sketch field */
            break;
        default: /* sum, min, max, first, last */
            memcpy(out, fa, nk * sizeof *out);
        }
    }
    /* Quantiles: the block's sketches listed first, those in the pool prefetched as they are
     * listed (they live apart from the panes: read key after key, each would wait for memory),
     * then every key's quantiles from the union of its panes' sketches. */
    for (uint32_t f = 0; f < l->nfields && l->nsketch; f++) {
        if (l->f[f].kind != WR__F_SKETCH) continue;
        const uint32_t off = l->f[f].off;
        for (size_t k = 0; k < nk; k++) {
            wr__sketch_view_t *vs = b->sk + k * b->sk_cap;
            uint32_t nh = 0;
            for (size_t j = 0; j < ns && nh < b->sk_cap && b->count[k]; j++) {
                const uint8_t *fp = ents[k] + offs[j] + off;
                wr__skf_prefetch(sk, fp);
                vs[nh] = wr__skf_view(sk, fp);
                nh += vs[nh].n != 0;
            }
            b->nsk[k] = nh;
        }
        for (size_t k = 0; k < nk; k++) {
            if (!b->count[k]) continue;
            double v[WR_AGG_MAX_AGGS];
            int rc = s_field_quantiles(l, f, sk, b->sk + k * b->sk_cap, b->nsk[k],
                                       b->fa[l->clamp[f][0]][k], b->fa[l->clamp[f][1]][k], v);
            if (rc) return rc;
            for (uint32_t a = 0; a < l->naggs; a++)
                if (s_quantile_of(l, a, f)) b->val[a][k] = v[a];
        }
    }
    return 0;
}

size_t wr__acc_store(const wr__agg_layout_t *l, uint8_t *acc, const wr__sketch_pool_t *sk,
                     const uint32_t **e, uint32_t *n)
{
    size_t bytes = 0, k = 0;
    for (uint32_t i = 0; i < l->nfields && k < l->nsketch; i++) {
        if (l->f[i].kind != WR__F_SKETCH) continue;
        wr__sketch_view_t v = wr__skf_store(sk, acc + l->f[i].off);
        e[k] = v.e; /* (a pool block's entries: aligned) */
        n[k] = v.n;
        bytes += (size_t)n[k++] * 4;
    }
    return bytes;
}

void wr__acc_free_sketches(const wr__agg_layout_t *l, uint8_t *acc, wr__sketch_pool_t *sk)
{
    for (uint32_t i = 0; i < l->nfields && l->nsketch; i++)
        if (l->f[i].kind == WR__F_SKETCH) wr__skf_free(sk, acc + l->f[i].off);
}

int wr__acc_load(const wr__agg_layout_t *l, uint8_t *acc, const void *p, size_t len, size_t *used,
                 wr__sketch_pool_t *sk)
{
    const uint8_t *b = p;
    size_t off = 0;
    int rc = 0;
    *used = 0;
    /* field by field; after a failure the fields not loaded yet are zeroed (they are in the
     * stored form), and then every field freed: nothing stays allocated */
    for (uint32_t i = 0; i < l->nfields && l->nsketch; i++) {
        if (l->f[i].kind != WR__F_SKETCH) continue;
        uint8_t *f = acc + l->f[i].off;
        size_t u = 0;
        if (rc)
            memset(f, 0, WR__SKF_BYTES);
        else
            rc = wr__skf_load(sk, f, b + off, len - off, &u);
        off += u;
    }
    if (rc) {
        wr__acc_free_sketches(l, acc, sk);
        return rc;
    }
    *used = off;
    return 0;
}

int wr__acc_check_stored(const wr__agg_layout_t *l, const uint8_t *acc, const void *p, size_t len)
{
    size_t off = 0;
    for (uint32_t i = 0; i < l->nfields && l->nsketch; i++) {
        if (l->f[i].kind != WR__F_SKETCH) continue;
        size_t u;
        if (wr__skf_check_stored(acc + l->f[i].off, (const uint8_t *)p + off, len - off, &u))
            return WR_EPROTO;
        off += u;
    }
    return off == len ? 0 : WR_EPROTO;
}

uint32_t wr__agg_packed_size(const wr__agg_layout_t *l)
{
    return l->size - l->nsketch * (WR__SKF_BYTES - 4);
}

size_t wr__acc_pack(const wr__agg_layout_t *l, const uint8_t *acc, uint8_t *out,
                    const wr__sketch_pool_t *sk, wr__sketch_view_t *v)
{
    size_t lo = 4, bytes = 0, k = 0;
    if (!l->nsketch) { /* the accumulator itself */
        memcpy(out, acc, l->size);
        return 0;
    }
    memcpy(out, acc, 4);
    for (uint32_t i = 0; i < l->nfields; i++) { /* (fields lie in the order they are listed) */
        const uint8_t *f = acc + l->f[i].off;
        if (l->f[i].kind != WR__F_SKETCH) {
            memcpy(out + lo, f, s_field_size(l->f[i].kind));
            lo += s_field_size(l->f[i].kind);
            continue;
        }
        v[k] = wr__skf_view(sk, f);
        memcpy(out + lo, &v[k].n, 4);
        lo += 4;
        bytes += (size_t)v[k++].n * 4;
    }
    return bytes;
}

size_t wr__acc_packed_len(const wr__agg_layout_t *l, const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t lo = 4, toff = wr__agg_packed_size(l); /* as wr__acc_unpack walks it */
    if (len < toff) return 0;
    if (!l->nsketch) return toff; /* the accumulator itself */
    for (uint32_t i = 0; i < l->nfields; i++) {
        if (l->f[i].kind != WR__F_SKETCH) {
            lo += s_field_size(l->f[i].kind);
            continue;
        }
        uint32_t n;
        memcpy(&n, b + lo, 4);
        lo += 4;
        if ((len - toff) / 4 < n) return 0;
        toff += (size_t)n * 4;
    }
    return toff;
}

int wr__acc_unpack(const wr__agg_layout_t *l, uint8_t *acc, const void *p, size_t len, size_t *used,
                   wr__sketch_pool_t *sk)
{
    const uint8_t *b = p;
    size_t lo = 4, toff = wr__agg_packed_size(l); /* a field's offset there; the entries' */
    int rc = len < toff ? WR_EPROTO : 0;
    *used = 0;
    if (!l->nsketch) { /* the accumulator itself (a restore's every pane: one copy) */
        if (rc) return rc;
        memcpy(acc, b, l->size);
        *used = l->size;
        return 0;
    }
    if (!rc) memcpy(acc, b, 4);
    for (uint32_t i = 0; i < l->nfields; i++) {
        uint8_t *f = acc + l->f[i].off;
        if (l->f[i].kind != WR__F_SKETCH) {
            if (!rc) memcpy(f, b + lo, s_field_size(l->f[i].kind));
            lo += s_field_size(l->f[i].kind);
            continue;
        }
        memset(f, 0, WR__SKF_BYTES);
        if (rc) continue;
        uint32_t n;
        size_t u = 0;
        memcpy(&n, b + lo, 4);
        lo += 4;
        if ((len - toff) / 4 < n) { /* the entries: into the field, or left where they are */
            rc = WR_EPROTO;
            continue;
        }
        memcpy(f, &n, 4);
        if (n <= WR__SKF_INLINE) memcpy(f + 4, b + toff, (size_t)n * 4);
        rc = wr__skf_load(sk, f, b + toff, len - toff, &u);
        toff += (size_t)n * 4;
    }
    if (rc) {
        wr__acc_free_sketches(l, acc, sk);
        return rc;
    }
    *used = toff;
    return 0;
}
