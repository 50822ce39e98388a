/* Window aggregates: names, accumulator layout, merging and final values (see agg.h). */
#include "actors/dataflow/agg.h"

#include <stdio.h>
#include <stdlib.h>

#include "bus/error.h"

static const struct {
    const char *name;
    wr_agg_kind_t kind;
} s_names[] = {
    {"count", WR_AGG_COUNT},   {"sum", WR_AGG_SUM},
    {"min", WR_AGG_MIN},       {"max", WR_AGG_MAX},
    {"avg", WR_AGG_AVG},       {"mean", WR_AGG_AVG},
    {"stddev", WR_AGG_STDDEV}, {"stddev_pop", WR_AGG_STDDEV},
    {"stddev_samp", WR_AGG_STDDEV_SAMP}, {"first", WR_AGG_FIRST},
    {"last", WR_AGG_LAST},     {"quantile", WR_AGG_QUANTILE},
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
    case WR_AGG_AVG: return WR__F_SUM;
    case WR_AGG_MIN: return WR__F_MIN;
    case WR_AGG_MAX: return WR__F_MAX;
    case WR_AGG_STDDEV:
    case WR_AGG_STDDEV_SAMP: return WR__F_MOM;
    case WR_AGG_FIRST: return WR__F_FIRST;
    case WR_AGG_LAST: return WR__F_LAST;
    case WR_AGG_QUANTILE: return WR__F_SKETCH;
    default: return -1;
    }
}

static uint32_t s_field_size(int kind)
{
    switch (kind) {
    case WR__F_MOM:
    case WR__F_FIRST:
    case WR__F_LAST: return 16;
    case WR__F_SKETCH: return 4;
    default: return 8;
    }
}

static void s_field_empty(uint8_t *p, int kind)
{
    int64_t t;
    switch (kind) {
    case WR__F_MIN: wr__st(p, INFINITY); break;
    case WR__F_MAX: wr__st(p, -INFINITY); break;
    case WR__F_FIRST:
    case WR__F_LAST:
        t = kind == WR__F_FIRST ? INT64_MAX : INT64_MIN;
        memcpy(p, &t, 8);
        wr__st(p + 8, NAN);
        break;
    default: memset(p, 0, s_field_size(kind));
    }
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
        uint32_t f = 0;
        while (f < l->nfields && !(l->f[f].kind == fk && l->f[f].col == aggs[a].col)) f++;
        if (f == l->nfields) {
            l->f[f] = (wr__field_t){.kind = (uint8_t)fk, .col = aggs[a].col, .off = l->size};
            s_field_empty(l->empty + l->size, fk);
            l->size += s_field_size(fk);
            l->nsketch += fk == WR__F_SKETCH;
            l->nfields++;
        }
        l->agg_field[a] = f;
    }
    return 0;
}

int wr__merge_init(wr__merge_t *m, const wr__agg_layout_t *l, uint32_t max_panes)
{
    memset(m, 0, sizeof *m);
    m->cap = max_panes;
    for (uint32_t f = 0; f < l->nfields; f++)
        if (l->f[f].kind == WR__F_SKETCH && !(m->sk[f] = calloc(max_panes, sizeof(uint32_t)))) {
            wr__merge_release(m);
            return WR_ENOMEM;
        }
    return 0;
}

void wr__merge_release(wr__merge_t *m)
{
    for (uint32_t f = 0; f < WR_AGG_MAX_AGGS; f++) free(m->sk[f]);
    memset(m, 0, sizeof *m);
}

void wr__merge_reset(wr__merge_t *m, const wr__agg_layout_t *l)
{
    m->count = 0;
    memcpy(m->acc, l->empty, l->size);
    memset(m->nsk, 0, sizeof m->nsk);
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
        case WR__F_SUM: wr__st(d, wr__ld(d) + wr__ld(s)); break;
        case WR__F_MIN:
            if (wr__ld(s) < wr__ld(d)) wr__st(d, wr__ld(s));
            break;
        case WR__F_MAX:
            if (wr__ld(s) > wr__ld(d)) wr__st(d, wr__ld(s));
            break;
        case WR__F_MOM: s_moments_merge(d, na, s, nb); break;
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
        default: break; /* sketches: by the caller */
        }
    }
}

void wr__merge_add(wr__merge_t *m, const wr__agg_layout_t *l, const uint8_t *acc)
{
    uint64_t nb = wr__acc_count(acc);
    s_fields_merge(l, m->acc, m->count, acc, nb);
    m->count += nb;
    if (l->nsketch)
        for (uint32_t i = 0; i < l->nfields; i++)
            if (l->f[i].kind == WR__F_SKETCH && m->nsk[i] < m->cap) {
                uint32_t h;
                memcpy(&h, acc + l->f[i].off, 4);
                m->sk[i][m->nsk[i]++] = h;
            }
}

int wr__merge_finish(wr__merge_t *m, const wr__agg_layout_t *l, wr__sketch_pool_t *sk, double *out)
{
    double n = (double)m->count;
    for (uint32_t a = 0; a < l->naggs; a++) {
        const uint8_t *p = m->acc + l->f[l->agg_field[a]].off;
        double m2;
        switch (l->aggs[a].kind) {
        case WR_AGG_COUNT: out[a] = n; break;
        case WR_AGG_SUM:
        case WR_AGG_MIN:
        case WR_AGG_MAX: out[a] = wr__ld(p); break;
        case WR_AGG_AVG: out[a] = wr__ld(p) / n; break;
        case WR_AGG_STDDEV:
        case WR_AGG_STDDEV_SAMP:
            m2 = wr__ld(p + 8);
            if (m2 < 0) m2 = 0;
            out[a] = l->aggs[a].kind == WR_AGG_STDDEV ? sqrt(m2 / n)
                     : m->count > 1                  ? sqrt(m2 / (n - 1))
                                                     : NAN;
            break;
        case WR_AGG_FIRST:
        case WR_AGG_LAST: out[a] = wr__ld(p + 8); break;
        default: { /* quantile */
            uint32_t f = l->agg_field[a];
            int rc = wr__sketch_quantiles(sk, m->sk[f], m->nsk[f], &l->aggs[a].q, 1, &out[a]);
            if (rc) return rc;
        }
        }
    }
    return 0;
}

int wr__acc_merge_into(const wr__agg_layout_t *l, uint8_t *dst, uint8_t *src, wr__sketch_pool_t *sk)
{
    uint32_t na = wr__acc_count(dst), nb = wr__acc_count(src);
    if (l->nsketch)
        for (uint32_t i = 0; i < l->nfields; i++)
            if (l->f[i].kind == WR__F_SKETCH) {
                uint32_t hd, hs;
                memcpy(&hd, dst + l->f[i].off, 4);
                memcpy(&hs, src + l->f[i].off, 4);
                int rc = wr__sketch_merge(sk, &hd, hs);
                if (rc) return rc;
                memcpy(dst + l->f[i].off, &hd, 4);
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
            if (l->f[i].kind == WR__F_SKETCH) {
                uint32_t h;
                memcpy(&h, acc + l->f[i].off, 4);
                wr__sketch_free(sk, &h);
            }
    memcpy(acc, l->empty, l->size);
}
