/* Quantile sketches: sparse relative-error histograms in size-class blocks (see sketch.h). */
#include "actors/dataflow/window/sketch.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "actors/dataflow/window/keytable.h"
#include "bus/base/error.h"

#define S_IDX_MAX      ((1 << 18) - 1) /* bucket index magnitude clamp */
#define S_KEY_BIAS     (1u << 19)      /* entry key = signed key + bias, in [1, 2^20 - 1] */
#define S_CNT_BITS     12
#define S_CNT_MAX      ((1u << S_CNT_BITS) - 1)
#define S_CLASSES      22 /* class c blocks hold 2^(c+1) words: up to 4M entries */
#define S_HANDLE_SHIFT 27
#define S_DENSE_MIN    4096 /* a union whose key range is at most this is counted densely */
#define S_MAP_MIN      ((size_t)64 << 10) /* a class's first mapping */
#define S_START_EVERY  65536 /* frees between two choices of the class new sketches start in */

typedef struct {
    uint32_t *mem;    /* cap blocks of 2^(c+1) words; block 0 is never handed out */
    size_t bytes;     /* mem's mapping (see s_map_grow) */
    uint32_t nblocks; /* blocks ever handed out, plus the reserved block 0 */
    uint32_t cap;
    uint32_t free_head; /* a free block's word 0 links to the next free one; 0 ends the list */
} s_class_t;

struct wr__sketch_pool {
    double alpha, gamma, inv_ln_gamma, ln_gamma, mid; /* mid = 2 / (gamma + 1) */
    s_class_t cls[S_CLASSES];
    uint64_t live; /* pool sketches */
    uint64_t inl;  /* non-empty inline sketches (fields) */
    /* New sketches start in the class that half the sketches freed lately needed (a typical
     * pane's final size): no growth copies for them. freed[c] counts frees since the last
     * choice. */
    unsigned start;
    uint32_t freed[S_CLASSES], nfreed;
    uint32_t *scratch; /* merge output and sort space */
    size_t scratch_cap;
    uint64_t *dense; /* dense counts for quantiles */
    size_t dense_cap;
};

static inline size_t s_words(unsigned c)
{
    return (size_t)2 << c;
}

static inline uint32_t *s_block(const wr__sketch_pool_t *p, uint32_t h)
{
    unsigned c = h >> S_HANDLE_SHIFT;
    return p->cls[c].mem + (size_t)(h & ((1u << S_HANDLE_SHIFT) - 1)) * s_words(c);
}

/* The smallest class whose blocks hold n entries, or -1. */
static int s_class_for(size_t n)
{
    for (unsigned c = 0; c < S_CLASSES; c++)
        if (s_words(c) - 1 >= n) return (int)c;
    return -1;
}

/* A class's memory grown from old (old_bytes; NULL: none yet) to bytes (a power of two times
 * S_MAP_MIN), its pages moved, not copied; NULL on failure (old stays). Small pools stay in
 * small pages (a window of a few keys does not take 2 MiB per class); from 2 MiB on, huge pages
 * (sketches are reached at random, one per pane). */
static void *s_map_grow(void *old, size_t old_bytes, size_t bytes)
{
    void *m = old;
    if (bytes >= WR__HUGE)
        return (old ? wr__huge_grow(&m, old_bytes, bytes) : !(m = wr__huge_map(bytes))) ? NULL : m;
    m = old ? wr__remap(old, old_bytes, bytes, NULL)
            : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* A free block of class c: its handle, or 0 on OOM. Reallocates the class's memory, so block
 * pointers of class c taken before the call are stale after it. */
static uint32_t s_alloc(wr__sketch_pool_t *p, unsigned c)
{
    s_class_t *k = &p->cls[c];
    uint32_t idx;
    if (k->free_head) {
        idx = k->free_head;
        k->free_head = k->mem[(size_t)idx * s_words(c)];
        /* freed blocks lie at random and are cold: the next one is fetched while this is used */
        if (k->free_head) __builtin_prefetch(k->mem + (size_t)k->free_head * s_words(c), 1);
    } else {
        if (k->nblocks == 0) k->nblocks = 1;
        if (k->nblocks >= k->cap) {
            size_t block = s_words(c) * sizeof *k->mem, bytes = k->bytes ? k->bytes * 2 : S_MAP_MIN;
            while (bytes < 16 * block)
                bytes *= 2;
            uint64_t ncap = bytes / block;
            if (ncap > (1u << S_HANDLE_SHIFT)) ncap = 1u << S_HANDLE_SHIFT;
            void *m = ncap > k->cap ? s_map_grow(k->mem, k->bytes, bytes) : NULL;
            if (!m) return 0;
            k->mem = m;
            k->bytes = bytes;
            k->cap = (uint32_t)ncap;
        }
        idx = k->nblocks++;
    }
    k->mem[(size_t)idx * s_words(c)] = 0;
    return ((uint32_t)c << S_HANDLE_SHIFT) | idx;
}

static void s_release(wr__sketch_pool_t *p, uint32_t h)
{
    unsigned c = h >> S_HANDLE_SHIFT;
    uint32_t idx = h & ((1u << S_HANDLE_SHIFT) - 1);
    p->cls[c].mem[(size_t)idx * s_words(c)] = p->cls[c].free_head;
    p->cls[c].free_head = idx;
}

/* A new block of class cmin or the smallest that holds n entries, holding the n entries at e (not
 * in the pool: an allocation may move the pool's memory; e need not be aligned): its handle, or 0
 * on OOM or more entries than a sketch holds. The caller counts it live. */
static uint32_t s_new_block(wr__sketch_pool_t *p, const void *e, uint32_t n, unsigned cmin)
{
    int c = s_class_for(n);
    uint32_t h = c < 0 ? 0 : s_alloc(p, (unsigned)c > cmin ? (unsigned)c : cmin);
    if (!h) return 0;
    uint32_t *b = s_block(p, h);
    b[0] = n;
    memcpy(b + 1, e, (size_t)n * 4);
    return h;
}

static int s_scratch(wr__sketch_pool_t *p, size_t n)
{
    if (n <= p->scratch_cap) return 0;
    size_t cap = p->scratch_cap ? p->scratch_cap : 256;
    while (cap < n)
        cap *= 2;
    uint32_t *s = realloc(p->scratch, cap * sizeof *s);
    if (!s) return WR_ENOMEM;
    p->scratch = s;
    p->scratch_cap = cap;
    return 0;
}

wr__sketch_pool_t *wr__sketch_pool_new(double alpha)
{
    if (!(alpha > 0 && alpha < 1)) return NULL;
    wr__sketch_pool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->alpha = alpha;
    p->gamma = (1 + alpha) / (1 - alpha);
    p->ln_gamma = log(p->gamma);
    p->inv_ln_gamma = 1 / p->ln_gamma;
    p->mid = 2 / (p->gamma + 1);
    return p;
}

void wr__sketch_pool_destroy(wr__sketch_pool_t **pp)
{
    if (!pp || !*pp) return;
    wr__sketch_pool_t *p = *pp;
    for (unsigned c = 0; c < S_CLASSES; c++)
        if (p->cls[c].mem) munmap(p->cls[c].mem, p->cls[c].bytes);
    free(p->scratch);
    free(p->dense);
    free(p);
    *pp = NULL;
}

/* The biased bucket key of x (not NaN). */
static uint32_t s_key(const wr__sketch_pool_t *p, double x)
{
    if (x == 0) return S_KEY_BIAS;
    double a = fabs(x);
    double li = ceil(log(a) * p->inv_ln_gamma); /* log(inf) = inf: clamped below */
    int32_t idx = li > S_IDX_MAX ? S_IDX_MAX : li < -S_IDX_MAX ? -S_IDX_MAX : (int32_t)li;
    int32_t key = (1 << 18) + idx;
    return (uint32_t)((int32_t)S_KEY_BIAS + (x < 0 ? -key : key));
}

static double s_value(const wr__sketch_pool_t *p, uint32_t biased)
{
    int32_t key = (int32_t)biased - (int32_t)S_KEY_BIAS;
    if (key == 0) return 0;
    int32_t idx = (key < 0 ? -key : key) - (1 << 18);
    double v = exp(idx * p->ln_gamma) * p->mid;
    return key < 0 ? -v : v;
}

/* Counts one value of bucket key bk in the pool sketch *h (0: a new one, in class c0). */
static int s_add_key(wr__sketch_pool_t *p, uint32_t *h, uint32_t bk, unsigned c0)
{
    if (!*h) {
        uint32_t nh = s_alloc(p, c0);
        if (!nh) return WR_ENOMEM;
        uint32_t *b = s_block(p, nh);
        b[0] = 1;
        b[1] = bk << S_CNT_BITS | 1;
        *h = nh;
        p->live++;
        return 0;
    }
    uint32_t *b = s_block(p, *h);
    uint32_t n = b[0], *e = b + 1;
    uint32_t lo = 0, hi = n; /* first entry with a greater key */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (e[mid] >> S_CNT_BITS <= bk)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && e[lo - 1] >> S_CNT_BITS == bk && (e[lo - 1] & S_CNT_MAX) < S_CNT_MAX) {
        e[lo - 1]++;
        return 0;
    }
    unsigned c = *h >> S_HANDLE_SHIFT;
    if (n < s_words(c) - 1) {
        memmove(e + lo + 1, e + lo, (size_t)(n - lo) * sizeof *e);
        e[lo] = bk << S_CNT_BITS | 1;
        b[0] = n + 1;
        return 0;
    }
    if (c + 1 >= S_CLASSES) return WR_ENOMEM;
    uint32_t nh = s_alloc(p, c + 1); /* another class: b stays valid */
    if (!nh) return WR_ENOMEM;
    uint32_t *nb = s_block(p, nh), *ne = nb + 1;
    memcpy(ne, e, (size_t)lo * sizeof *e);
    ne[lo] = bk << S_CNT_BITS | 1;
    memcpy(ne + lo + 1, e + lo, (size_t)(n - lo) * sizeof *e);
    nb[0] = n + 1;
    s_release(p, *h);
    *h = nh;
    return 0;
}

int wr__sketch_add(wr__sketch_pool_t *p, uint32_t *h, double x)
{
    if (isnan(x)) return 0;
    return s_add_key(p, h, s_key(p, x), p->start);
}

/* Counts the class a freed sketch of n entries needed (not the one it had: a pool that learned
 * to start large would never learn back); every S_START_EVERY frees, new sketches start in the
 * smallest class that at least half of those needed. */
static void s_note_freed(wr__sketch_pool_t *p, uint32_t n)
{
    p->freed[s_class_for(n)]++;
    if (++p->nfreed < S_START_EVERY) return;
    uint32_t cum = 0;
    unsigned s = 0;
    while ((cum += p->freed[s]) < p->nfreed / 2)
        s++;
    p->start = s;
    memset(p->freed, 0, sizeof p->freed);
    p->nfreed = 0;
}

void wr__sketch_free(wr__sketch_pool_t *p, uint32_t *h)
{
    if (!*h) return;
    s_note_freed(p, s_block(p, *h)[0]); /* the block's line: s_release writes it anyway */
    s_release(p, *h);
    p->live--;
    *h = 0;
}

uint64_t wr__sketch_count(const wr__sketch_pool_t *p, uint32_t h)
{
    if (!h) return 0;
    const uint32_t *b = s_block(p, h);
    uint64_t n = 0;
    for (uint32_t i = 1; i <= b[0]; i++)
        n += b[i] & S_CNT_MAX;
    return n;
}

void wr__sketch_prefetch(const wr__sketch_pool_t *p, uint32_t h)
{
    if (!h) return;
    const uint32_t *b = s_block(p, h);
    __builtin_prefetch(b, 1); /* the header, the first entries; a small block may straddle */
    __builtin_prefetch(b + s_words(h >> S_HANDLE_SHIFT) - 1, 1); /* two lines */
}

const uint32_t *wr__sketch_entries(const wr__sketch_pool_t *p, uint32_t h, uint32_t *n)
{
    wr__sketch_view_t v = wr__sketch_view(p, h); /* (a pool's entries are aligned) */
    *n = v.n;
    return v.e;
}

int wr__sketch_load(wr__sketch_pool_t *p, uint32_t *h, const void *e, uint32_t n)
{
    *h = 0;
    if (!n) return 0;
    if (wr__sketch_check(e, n)) return WR_EPROTO;
    uint32_t nh = s_new_block(p, e, n, 0);
    if (!nh) return WR_ENOMEM;
    *h = nh;
    p->live++;
    return 0;
}

/* Appends (key, count) to out as entries of at most S_CNT_MAX each; returns the new length. */
static size_t s_emit(uint32_t *out, size_t m, uint32_t key, uint64_t cnt)
{
    while (cnt > 0) {
        uint32_t c = cnt > S_CNT_MAX ? S_CNT_MAX : (uint32_t)cnt;
        out[m++] = key << S_CNT_BITS | c;
        cnt -= c;
    }
    return m;
}

/* Entry i of a view (views of stored entries need not be aligned). */
static inline uint32_t s_entry(wr__sketch_view_t v, uint32_t i)
{
    uint32_t x;
    memcpy(&x, (const uint8_t *)v.e + (size_t)i * 4, 4);
    return x;
}

/* The union of views a and b into the scratch space: its entry count, or -1 on OOM. Equal keys
 * are combined; a combined count above S_CNT_MAX splits again, so the union has at most
 * a.n + b.n entries. (Views into the pool stay valid: only the scratch space moves.) */
static ptrdiff_t s_union2(wr__sketch_pool_t *p, wr__sketch_view_t a, wr__sketch_view_t b)
{
    if (s_scratch(p, (size_t)a.n + b.n)) return -1;
    size_t i = 0, j = 0, m = 0;
    uint32_t cur = 0;
    uint64_t cnt = 0;
    while (i < a.n || j < b.n) {
        uint32_t x = (j >= b.n || (i < a.n && s_entry(a, (uint32_t)i) <= s_entry(b, (uint32_t)j)))
                         ? s_entry(a, (uint32_t)i++)
                         : s_entry(b, (uint32_t)j++);
        if (x >> S_CNT_BITS != cur) {
            m = s_emit(p->scratch, m, cur, cnt);
            cur = x >> S_CNT_BITS;
            cnt = 0;
        }
        cnt += x & S_CNT_MAX;
    }
    return (ptrdiff_t)s_emit(p->scratch, m, cur, cnt);
}

int wr__sketch_merge(wr__sketch_pool_t *p, uint32_t *dst, uint32_t src)
{
    if (!src) return 0;
    uint32_t ns = s_block(p, src)[0];
    if (!*dst) {
        int c = s_class_for(ns);
        uint32_t nh = c < 0 ? 0 : s_alloc(p, (unsigned)c);
        if (!nh) return WR_ENOMEM;
        const uint32_t *sb = s_block(p, src); /* after the alloc: it may have moved */
        memcpy(s_block(p, nh), sb, (size_t)(ns + 1) * sizeof *sb);
        *dst = nh;
        p->live++;
        return 0;
    }
    ptrdiff_t u = s_union2(p, wr__sketch_view(p, *dst), wr__sketch_view(p, src));
    if (u < 0) return WR_ENOMEM;
    uint32_t nh = s_new_block(p, p->scratch, (uint32_t)u, 0);
    if (!nh) return WR_ENOMEM;
    s_release(p, *dst);
    *dst = nh;
    return 0;
}

static int s_cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* The 0-based rank of the q-quantile of n values (q clamped to [0, 1]); false for a NaN q. */
static bool s_rank(double q, uint64_t n, uint64_t *rank)
{
    if (isnan(q)) return false;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    *rank = (uint64_t)floor(q * (double)(n - 1));
    return true;
}

wr__sketch_view_t wr__sketch_view(const wr__sketch_pool_t *p, uint32_t h)
{
    if (!h) return (wr__sketch_view_t){NULL, 0};
    const uint32_t *b = s_block(p, h);
    return (wr__sketch_view_t){b + 1, b[0]};
}

int wr__sketch_check(const void *e, uint32_t n)
{
    if (s_class_for(n) < 0) return WR_EPROTO; /* more than a sketch holds */
    uint32_t prev = 0;
    for (uint32_t i = 0; i < n; i++) { /* keys in [1, 2^20 - 1], ascending; counts >= 1 */
        uint32_t x, key;
        memcpy(&x, (const uint8_t *)e + (size_t)i * 4, 4);
        key = x >> S_CNT_BITS;
        if (!key || !(x & S_CNT_MAX) || key < prev) return WR_EPROTO;
        prev = key;
    }
    return 0;
}

/* The members of a union of sketches: pool handles, or views. */
typedef struct {
    const wr__sketch_pool_t *p;
    const uint32_t *hs;
    const wr__sketch_view_t *vs;
} s_union_t;

static inline wr__sketch_view_t s_member(const s_union_t *u, size_t i)
{
    return u->vs ? u->vs[i] : wr__sketch_view(u->p, u->hs[i]);
}

/* The bucket of 0-based rank `rank` (< n) in dense[0..range) (counts summing to n): the first
 * whose cumulative count passes rank. Counted from the nearer end: a p95 or p99 is a few buckets
 * from the top, and the count is a chain of dependent adds. */
static size_t s_dense_rank(const uint64_t *dense, size_t range, uint64_t n, uint64_t rank)
{
    size_t i = 0;
    uint64_t cum = 0;
    if (rank < n / 2) {
        while ((cum += dense[i]) <= rank)
            i++;
        return i;
    }
    /* the last bucket whose count from the top, itself included, reaches n - rank: the same one
     * (the counts below it sum to at most rank, with it to more) */
    i = range - 1;
    while ((cum += dense[i]) < n - rank)
        i--;
    return i;
}

static int s_quantiles(wr__sketch_pool_t *p, const s_union_t *u, size_t nh, const double *qs,
                       size_t nq, double *out)
{
    /* the key range from each member's ends; the values counted in the pass that follows (every
     * entry counts at least one: a union of entries is empty only without entries) */
    size_t t = 0;
    uint64_t n = 0;
    uint32_t kmin = UINT32_MAX, kmax = 0;
    for (size_t s = 0; s < nh; s++) {
        wr__sketch_view_t v = s_member(u, s);
        if (!v.n) continue;
        t += v.n;
        if (s_entry(v, 0) >> S_CNT_BITS < kmin) kmin = s_entry(v, 0) >> S_CNT_BITS;
        if (s_entry(v, v.n - 1) >> S_CNT_BITS > kmax) kmax = s_entry(v, v.n - 1) >> S_CNT_BITS;
    }
    if (t == 0) {
        for (size_t k = 0; k < nq; k++)
            out[k] = NAN;
        return 0;
    }
    size_t range = (size_t)(kmax - kmin) + 1;
    if (range <= S_DENSE_MIN || range <= 4 * t) {
        if (range > p->dense_cap) {
            uint64_t *d = realloc(p->dense, range * sizeof *d);
            if (!d) return WR_ENOMEM;
            p->dense = d;
            p->dense_cap = range;
        }
        memset(p->dense, 0, range * sizeof *p->dense);
        for (size_t s = 0; s < nh; s++) {
            wr__sketch_view_t v = s_member(u, s);
            for (uint32_t i = 0; i < v.n; i++) {
                uint32_t x = s_entry(v, i);
                p->dense[(x >> S_CNT_BITS) - kmin] += x & S_CNT_MAX;
                n += x & S_CNT_MAX;
            }
        }
        for (size_t k = 0; k < nq; k++) {
            uint64_t rank;
            if (!s_rank(qs[k], n, &rank)) {
                out[k] = NAN;
                continue;
            }
            out[k] = s_value(p, kmin + (uint32_t)s_dense_rank(p->dense, range, n, rank));
        }
        return 0;
    }
    if (s_scratch(p, t)) return WR_ENOMEM;
    size_t m = 0;
    for (size_t s = 0; s < nh; s++) {
        wr__sketch_view_t v = s_member(u, s);
        if (v.n) memcpy(p->scratch + m, v.e, (size_t)v.n * sizeof *p->scratch);
        m += v.n;
    }
    for (size_t i = 0; i < m; i++)
        n += p->scratch[i] & S_CNT_MAX;
    qsort(p->scratch, m, sizeof *p->scratch, s_cmp_u32);
    for (size_t k = 0; k < nq; k++) {
        uint64_t rank, cum = 0;
        size_t i = 0;
        if (!s_rank(qs[k], n, &rank)) {
            out[k] = NAN;
            continue;
        }
        while ((cum += p->scratch[i] & S_CNT_MAX) <= rank)
            i++;
        out[k] = s_value(p, p->scratch[i] >> S_CNT_BITS);
    }
    return 0;
}

int wr__sketch_quantiles(wr__sketch_pool_t *p, const uint32_t *hs, size_t nh, const double *qs,
                         size_t nq, double *out)
{
    s_union_t u = {.p = p, .hs = hs};
    return s_quantiles(p, &u, nh, qs, nq, out);
}

int wr__sketch_quantiles_of(wr__sketch_pool_t *p, const wr__sketch_view_t *vs, size_t nv,
                            const double *qs, size_t nq, double *out)
{
    s_union_t u = {.p = p, .vs = vs};
    return s_quantiles(p, &u, nv, qs, nq, out);
}

size_t wr__sketch_pool_bytes(const wr__sketch_pool_t *p)
{
    size_t b = sizeof *p + p->scratch_cap * sizeof *p->scratch + p->dense_cap * sizeof *p->dense;
    for (unsigned c = 0; c < S_CLASSES; c++) /* blocks ever handed out: the memory touched */
        b += (size_t)p->cls[c].nblocks * s_words(c) * 4;
    return b;
}

uint64_t wr__sketch_pool_live(const wr__sketch_pool_t *p)
{
    return p->live + p->inl;
}

/* ---- sketches in accumulator fields ---- */

#define S_INL WR__SKF_INLINE

static inline uint32_t s_fw(const uint8_t *f, unsigned i)
{
    uint32_t x;
    memcpy(&x, f + 4 * (size_t)i, 4);
    return x;
}

static inline void s_fset(uint8_t *f, unsigned i, uint32_t x)
{
    memcpy(f + 4 * (size_t)i, &x, 4);
}

/* f becomes the pool sketch h of n entries. */
static void s_field_pool(uint8_t *f, uint32_t n, uint32_t h)
{
    memset(f, 0, WR__SKF_BYTES);
    s_fset(f, 0, n);
    s_fset(f, 1, h);
}

int wr__skf_add(wr__sketch_pool_t *p, uint8_t *f, double x)
{
    if (isnan(x)) return 0;
    uint32_t n = s_fw(f, 0), bk = s_key(p, x);
    if (n > S_INL) {
        uint32_t h = s_fw(f, 1);
        int rc = s_add_key(p, &h, bk, p->start);
        if (!rc) s_field_pool(f, s_block(p, h)[0], h);
        return rc;
    }
    uint32_t e[S_INL + 1];
    memcpy(e, f + 4, (size_t)n * 4);
    uint32_t lo = 0; /* first entry with a greater key */
    while (lo < n && e[lo] >> S_CNT_BITS <= bk)
        lo++;
    if (lo > 0 && e[lo - 1] >> S_CNT_BITS == bk && (e[lo - 1] & S_CNT_MAX) < S_CNT_MAX) {
        s_fset(f, lo, e[lo - 1] + 1);
        return 0;
    }
    memmove(e + lo + 1, e + lo, (size_t)(n - lo) * 4);
    e[lo] = bk << S_CNT_BITS | 1;
    if (n < S_INL) {
        memcpy(f + 4, e, (size_t)(n + 1) * 4);
        s_fset(f, 0, n + 1);
        p->inl += n == 0;
        return 0;
    }
    uint32_t h = s_new_block(p, e, S_INL + 1, p->start); /* outgrown: into the pool */
    if (!h) return WR_ENOMEM;
    s_field_pool(f, S_INL + 1, h);
    p->inl--;
    p->live++;
    return 0;
}

void wr__skf_free(wr__sketch_pool_t *p, uint8_t *f)
{
    uint32_t n = s_fw(f, 0);
    if (n > S_INL) {
        uint32_t h = s_fw(f, 1);
        wr__sketch_free(p, &h);
    } else if (n) {
        p->inl--;
    }
    memset(f, 0, WR__SKF_BYTES);
}

wr__sketch_view_t wr__skf_view(const wr__sketch_pool_t *p, const uint8_t *f)
{
    uint32_t n = s_fw(f, 0);
    return n > S_INL ? wr__sketch_view(p, s_fw(f, 1)) : (wr__sketch_view_t){f + 4, n};
}

void wr__skf_prefetch(const wr__sketch_pool_t *p, const uint8_t *f)
{
    if (s_fw(f, 0) > S_INL) wr__sketch_prefetch(p, s_fw(f, 1));
}

int wr__skf_merge(wr__sketch_pool_t *p, uint8_t *dst, const uint8_t *src)
{
    wr__sketch_view_t vs = wr__skf_view(p, src);
    if (!vs.n) return 0;
    ptrdiff_t u = s_union2(p, wr__skf_view(p, dst), vs);
    if (u < 0) return WR_ENOMEM;
    uint32_t m = (uint32_t)u;
    if (m <= S_INL) { /* (the union stays in the scratch space) */
        wr__skf_free(p, dst);
        s_fset(dst, 0, m);
        memcpy(dst + 4, p->scratch, (size_t)m * 4);
        p->inl++;
        return 0;
    }
    uint32_t h = s_new_block(p, p->scratch, m, 0);
    if (!h) return WR_ENOMEM;
    wr__skf_free(p, dst);
    s_field_pool(dst, m, h);
    p->live++;
    return 0;
}

wr__sketch_view_t wr__skf_store(const wr__sketch_pool_t *p, uint8_t *f)
{
    uint32_t n = s_fw(f, 0);
    if (n <= S_INL) return (wr__sketch_view_t){NULL, 0};
    wr__sketch_view_t v = wr__sketch_view(p, s_fw(f, 1));
    memset(f + 4, 0, WR__SKF_BYTES - 4);
    return v;
}

int wr__skf_check_stored(const uint8_t *f, const void *tail, size_t len, size_t *used)
{
    uint32_t n = s_fw(f, 0);
    *used = 0;
    for (unsigned i = 1 + (n <= S_INL ? n : 0); i <= S_INL; i++) /* padding: zero */
        if (s_fw(f, i)) return WR_EPROTO;
    if (n <= S_INL) return n && wr__sketch_check(f + 4, n) ? WR_EPROTO : 0;
    if (len / 4 < n || wr__sketch_check(tail, n)) return WR_EPROTO;
    *used = (size_t)n * 4;
    return 0;
}

size_t wr__skf_store_bytes(const uint8_t *f)
{
    uint32_t n = s_fw(f, 0);
    return n > S_INL ? (size_t)n * 4 : 0;
}

wr__sketch_view_t wr__skf_stored_view(const uint8_t *f, const void *tail)
{
    uint32_t n = s_fw(f, 0);
    return (wr__sketch_view_t){n <= S_INL ? (const void *)(f + 4) : tail, n};
}

int wr__skf_load(wr__sketch_pool_t *p, uint8_t *f, const void *tail, size_t len, size_t *used)
{
    int rc = wr__skf_check_stored(f, tail, len, used);
    uint32_t n = s_fw(f, 0), h = 0;
    if (!rc && n > S_INL) rc = wr__sketch_load(p, &h, tail, n);
    if (rc) {
        memset(f, 0, WR__SKF_BYTES);
        *used = 0;
        return rc;
    }
    if (n > S_INL)
        s_fset(f, 1, h);
    else
        p->inl += n > 0;
    return 0;
}
