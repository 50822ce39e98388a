/* Expression evaluation: one kernel per operation and representation, run over a chunk of
 * records, either densely (every record of the chunk: plain loops the compiler vectorises) or
 * through a selection vector (the records a lazy &&, || or ?: still needs). */
#include <math.h>
#include <string.h>

#include "actors/dataflow/expr/expr_internal.h"
#include "actors/dataflow/record/keygroup.h"
#include "bus/base/error.h"

#define CHUNK WR__EXPR_CHUNK

/* Runs the statements after m for each selected record index i: all m of them, or sel[0..m).
 * (Variadic because a statement may hold commas outside parentheses.) */
#define S_LOOP(sel, m, ...)                                                                        \
    do {                                                                                           \
        if (sel) {                                                                                 \
            for (uint32_t k_ = 0; k_ < (m); k_++) {                                                \
                uint32_t i = (sel)[k_];                                                            \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            for (uint32_t i = 0; i < (m); i++) {                                                   \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define S_UN(name, TA, TO, expr)                                                                   \
    static void name(TO *restrict o, const TA *restrict a, const uint32_t *sel, uint32_t m)        \
    {                                                                                              \
        S_LOOP(sel, m, o[i] = (expr));                                                             \
    }

#define S_BIN(name, TA, TO, expr)                                                                  \
    static void name(TO *restrict o, const TA *restrict a, const TA *restrict b,                   \
                     const uint32_t *sel, uint32_t m)                                              \
    {                                                                                              \
        S_LOOP(sel, m, o[i] = (expr));                                                             \
    }

/* The six comparisons of one representation. */
#define S_CMP(sfx, T)                                                                              \
    S_BIN(k_eq_##sfx, T, int64_t, a[i] == b[i])                                                    \
    S_BIN(k_ne_##sfx, T, int64_t, a[i] != b[i])                                                    \
    S_BIN(k_lt_##sfx, T, int64_t, a[i] < b[i])                                                     \
    S_BIN(k_le_##sfx, T, int64_t, a[i] <= b[i])                                                    \
    S_BIN(k_gt_##sfx, T, int64_t, a[i] > b[i])                                                     \
    S_BIN(k_ge_##sfx, T, int64_t, a[i] >= b[i])

/* Integer arithmetic wraps (two's complement) instead of being undefined. */
#define S_WRAP(x) ((int64_t)(x))

static inline int64_t s_f2i(double x)
{
    if (!(x == x)) return 0;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    if (x < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)x;
}

static inline int64_t s_hash_f(double x)
{
    uint64_t u;
    if (x == 0) x = 0; /* -0.0 hashes as 0.0, since they compare equal */
    memcpy(&u, &x, 8);
    return (int64_t)wr_hash_u64(u);
}

/* clang-format off */
S_UN(k_neg_i, int64_t, int64_t, S_WRAP(0 - (uint64_t)a[i]))
S_UN(k_neg_f, double, double, -a[i])
S_UN(k_not, int64_t, int64_t, a[i] == 0)
S_UN(k_i2f, int64_t, double, (double)a[i])
S_UN(k_f2i, double, int64_t, s_f2i(a[i]))
S_UN(k_abs_i, int64_t, int64_t, a[i] < 0 ? S_WRAP(0 - (uint64_t)a[i]) : a[i])
S_UN(k_abs_f, double, double, fabs(a[i]))
S_UN(k_floor, double, double, floor(a[i]))
S_UN(k_ceil, double, double, ceil(a[i]))
S_UN(k_round, double, double, round(a[i]))
S_UN(k_sqrt, double, double, sqrt(a[i]))
S_UN(k_log, double, double, log(a[i]))
S_UN(k_exp, double, double, exp(a[i]))
S_UN(k_hash_i, int64_t, int64_t, (int64_t)wr_hash_u64((uint64_t)a[i]))
S_UN(k_hash_f, double, int64_t, s_hash_f(a[i]))

S_BIN(k_add_i, int64_t, int64_t, S_WRAP((uint64_t)a[i] + (uint64_t)b[i]))
S_BIN(k_sub_i, int64_t, int64_t, S_WRAP((uint64_t)a[i] - (uint64_t)b[i]))
S_BIN(k_mul_i, int64_t, int64_t, S_WRAP((uint64_t)a[i] * (uint64_t)b[i]))
S_BIN(k_min_i, int64_t, int64_t, a[i] < b[i] ? a[i] : b[i])
S_BIN(k_max_i, int64_t, int64_t, a[i] > b[i] ? a[i] : b[i])
S_CMP(i, int64_t)
S_BIN(k_add_f, double, double, a[i] + b[i])
S_BIN(k_sub_f, double, double, a[i] - b[i])
S_BIN(k_mul_f, double, double, a[i] * b[i])
S_BIN(k_div_f, double, double, a[i] / b[i])
S_BIN(k_mod_f, double, double, fmod(a[i], b[i]))
S_BIN(k_pow, double, double, pow(a[i], b[i]))
S_BIN(k_min_f, double, double, a[i] < b[i] ? a[i] : b[i])
S_BIN(k_max_f, double, double, a[i] > b[i] ? a[i] : b[i])
S_CMP(f, double)
/* clang-format on */

/* Integer / and %: by zero yields 0 and is counted; INT64_MIN / -1 wraps. */
static uint64_t k_divmod_i(int64_t *restrict o, const int64_t *restrict a,
                           const int64_t *restrict b, const uint32_t *sel, uint32_t m, bool mod)
{
    uint64_t zeros = 0;
    S_LOOP(sel, m, {
        int64_t y = b[i];
        if (y == 0) {
            o[i] = 0;
            zeros++;
        } else if (y == -1) {
            o[i] = mod ? 0 : S_WRAP(0 - (uint64_t)a[i]);
        } else {
            o[i] = mod ? a[i] % y : a[i] / y;
        }
    });
    return zeros;
}

/* A string operand: a string column, or a literal seen as a column whose every record is it
 * (mask 0 maps every index to the literal's one offset pair). */
typedef struct {
    const uint32_t *off;
    const char *heap;
    uint32_t mask;
} s_strs;

static inline const char *s_str_at(const s_strs *s, uint32_t i, uint32_t *len)
{
    uint32_t j = i & s->mask;
    *len = s->off[j + 1] - s->off[j];
    return s->heap + s->off[j];
}

static void k_cmp_s(int64_t *restrict o, const s_strs *a, const s_strs *b, int which,
                    const uint32_t *sel, uint32_t m)
{
    /* For each outcome (<, =, >): does op `which` (EQ NE LT LE GT GE) hold? */
    static const uint8_t holds[3][6] = {{0, 1, 1, 1, 0, 0}, {1, 0, 0, 1, 0, 1}, {0, 1, 0, 0, 1, 1}};
    const int64_t lt = holds[0][which], eq = holds[1][which], gt = holds[2][which];
    if (which < 2) { /* == and !=: unequal lengths settle it without reading bytes */
        S_LOOP(sel, m, {
            uint32_t la, lb;
            const char *x = s_str_at(a, i, &la), *y = s_str_at(b, i, &lb);
            o[i] = la == lb && memcmp(x, y, la) == 0 ? eq : lt;
        });
        return;
    }
    S_LOOP(sel, m, {
        uint32_t la, lb;
        const char *x = s_str_at(a, i, &la), *y = s_str_at(b, i, &lb);
        int c = memcmp(x, y, la < lb ? la : lb);
        if (c == 0) c = (la > lb) - (la < lb);
        o[i] = c < 0 ? lt : c == 0 ? eq : gt;
    });
}

static void k_str_fn(int64_t *restrict o, const s_strs *a, const s_strs *b, int op,
                     const uint32_t *sel, uint32_t m)
{
    uint32_t la, lb;
    switch (op) {
    case WR__LEN:
        S_LOOP(sel, m, (void)s_str_at(a, i, &la); o[i] = la);
        break;
    case WR__HASH_S:
        S_LOOP(sel, m, {
            const char *x = s_str_at(a, i, &la);
            o[i] = (int64_t)wr_hash_bytes(x, la);
        });
        break;
    case WR__STARTS:
        S_LOOP(sel, m, {
            const char *x = s_str_at(a, i, &la), *y = s_str_at(b, i, &lb);
            o[i] = la >= lb && memcmp(x, y, lb) == 0;
        });
        break;
    case WR__CONTAINS:
        S_LOOP(sel, m, {
            const char *x = s_str_at(a, i, &la), *y = s_str_at(b, i, &lb);
            o[i] = lb == 0 || (la >= lb && memmem(x, la, y, lb) != NULL);
        });
        break;
    }
}

/* ---- the tree walk ---- */

typedef struct {
    const wr_batch_t *b;
    uint32_t start; /* first record of the chunk */
} s_ctx;

static s_strs s_strs_of(const wr_expr_t *e, const s_ctx *c, const wr__node_t *n)
{
    s_strs s;
    if (n->op == WR__STR) {
        s.off = n->lit;
        s.heap = e->strs + n->str;
        s.mask = 0;
    } else {
        s.off = (const uint32_t *)c->b->col[n->field] + c->start;
        s.heap = c->b->heap[n->field];
        s.mask = UINT32_MAX;
    }
    return s;
}

/* Runs node n's kernel over the selected records: a and b are its first two arguments' values
 * (or NULL), o its output. */
static void s_apply(wr_expr_t *e, const s_ctx *c, const wr__node_t *n, const void *a, const void *b,
                    void *o, const uint32_t *sel, uint32_t m)
{
    switch ((enum wr__op)n->op) {
    case WR__NEG_I:
        k_neg_i(o, a, sel, m);
        break;
    case WR__NEG_F:
        k_neg_f(o, a, sel, m);
        break;
    case WR__NOT:
        k_not(o, a, sel, m);
        break;
    case WR__I2F:
        k_i2f(o, a, sel, m);
        break;
    case WR__F2I:
        k_f2i(o, a, sel, m);
        break;
    case WR__ABS_I:
        k_abs_i(o, a, sel, m);
        break;
    case WR__ABS_F:
        k_abs_f(o, a, sel, m);
        break;
    case WR__FLOOR:
        k_floor(o, a, sel, m);
        break;
    case WR__CEIL:
        k_ceil(o, a, sel, m);
        break;
    case WR__ROUND:
        k_round(o, a, sel, m);
        break;
    case WR__SQRT:
        k_sqrt(o, a, sel, m);
        break;
    case WR__LOG:
        k_log(o, a, sel, m);
        break;
    case WR__EXP:
        k_exp(o, a, sel, m);
        break;
    case WR__HASH_I:
        k_hash_i(o, a, sel, m);
        break;
    case WR__HASH_F:
        k_hash_f(o, a, sel, m);
        break;
    case WR__ADD_I:
        k_add_i(o, a, b, sel, m);
        break;
    case WR__SUB_I:
        k_sub_i(o, a, b, sel, m);
        break;
    case WR__MUL_I:
        k_mul_i(o, a, b, sel, m);
        break;
    case WR__DIV_I:
        e->div_zero += k_divmod_i(o, a, b, sel, m, false);
        break;
    case WR__MOD_I:
        e->div_zero += k_divmod_i(o, a, b, sel, m, true);
        break;
    case WR__MIN_I:
        k_min_i(o, a, b, sel, m);
        break;
    case WR__MAX_I:
        k_max_i(o, a, b, sel, m);
        break;
    case WR__EQ_I:
        k_eq_i(o, a, b, sel, m);
        break;
    case WR__NE_I:
        k_ne_i(o, a, b, sel, m);
        break;
    case WR__LT_I:
        k_lt_i(o, a, b, sel, m);
        break;
    case WR__LE_I:
        k_le_i(o, a, b, sel, m);
        break;
    case WR__GT_I:
        k_gt_i(o, a, b, sel, m);
        break;
    case WR__GE_I:
        k_ge_i(o, a, b, sel, m);
        break;
    case WR__ADD_F:
        k_add_f(o, a, b, sel, m);
        break;
    case WR__SUB_F:
        k_sub_f(o, a, b, sel, m);
        break;
    case WR__MUL_F:
        k_mul_f(o, a, b, sel, m);
        break;
    case WR__DIV_F:
        k_div_f(o, a, b, sel, m);
        break;
    case WR__MOD_F:
        k_mod_f(o, a, b, sel, m);
        break;
    case WR__POW:
        k_pow(o, a, b, sel, m);
        break;
    case WR__MIN_F:
        k_min_f(o, a, b, sel, m);
        break;
    case WR__MAX_F:
        k_max_f(o, a, b, sel, m);
        break;
    case WR__EQ_F:
        k_eq_f(o, a, b, sel, m);
        break;
    case WR__NE_F:
        k_ne_f(o, a, b, sel, m);
        break;
    case WR__LT_F:
        k_lt_f(o, a, b, sel, m);
        break;
    case WR__LE_F:
        k_le_f(o, a, b, sel, m);
        break;
    case WR__GT_F:
        k_gt_f(o, a, b, sel, m);
        break;
    case WR__GE_F:
        k_ge_f(o, a, b, sel, m);
        break;
    case WR__EQ_S:
    case WR__NE_S:
    case WR__LT_S:
    case WR__LE_S:
    case WR__GT_S:
    case WR__GE_S: {
        s_strs x = s_strs_of(e, c, &e->nodes[n->arg[0]]), y = s_strs_of(e, c, &e->nodes[n->arg[1]]);
        k_cmp_s(o, &x, &y, n->op - WR__EQ_S, sel, m);
        break;
    }
    case WR__LEN:
    case WR__HASH_S:
    case WR__STARTS:
    case WR__CONTAINS: {
        s_strs x = s_strs_of(e, c, &e->nodes[n->arg[0]]), y = x;
        if (n->arg[1] >= 0) y = s_strs_of(e, c, &e->nodes[n->arg[1]]);
        k_str_fn(o, &x, &y, n->op, sel, m);
        break;
    }
    default:
        break; /* leaves and lazy nodes never get here */
    }
}

static const void *s_eval(wr_expr_t *e, const s_ctx *c, int32_t ni, const uint32_t *sel,
                          uint32_t m);

/* && and ||: the right side runs only where the left one does not settle the result. */
static void s_logic(wr_expr_t *e, const s_ctx *c, const wr__node_t *n, int64_t *restrict o,
                    const uint32_t *sel, uint32_t m)
{
    const int64_t *l = s_eval(e, c, n->arg[0], sel, m);
    int64_t need = n->op == WR__AND; /* the left value that leaves the question open */
    uint32_t *s2 = e->sel + (size_t)n->level * 2 * CHUNK, m2 = 0;
    S_LOOP(sel, m, s2[m2] = i; m2 += (l[i] != 0) == need);
    if (m2 == 0) {
        S_LOOP(sel, m, o[i] = l[i] != 0);
        return;
    }
    const int64_t *r = s_eval(e, c, n->arg[1], m2 == m ? sel : s2, m2);
    /* r holds garbage where it was not computed; the masks take it only where it was. */
    if (need)
        S_LOOP(sel, m, o[i] = r[i] & -(int64_t)(l[i] != 0));
    else
        S_LOOP(sel, m, int64_t t = l[i] != 0; o[i] = t | (r[i] & (t - 1)));
}

static void s_cond(wr_expr_t *e, const s_ctx *c, const wr__node_t *n, int64_t *restrict o,
                   const uint32_t *sel, uint32_t m)
{
    const int64_t *k = s_eval(e, c, n->arg[0], sel, m);
    uint32_t *st = e->sel + (size_t)n->level * 2 * CHUNK, *sf = st + CHUNK, mt = 0, mf = 0;
    S_LOOP(sel, m, {
        st[mt] = i;
        sf[mf] = i;
        mt += k[i] != 0;
        mf += k[i] == 0;
    });
    /* Copied as bytes, which is type-blind: doubles and ints alike. */
    for (int side = 1; side <= 2; side++) {
        uint32_t ms = side == 1 ? mt : mf;
        const uint32_t *ss = side == 1 ? st : sf;
        if (ms == 0) continue;
        const char *v = s_eval(e, c, n->arg[side], ms == m ? sel : ss, ms);
        if (ms == m && !sel)
            memcpy(o, v, (size_t)m * 8);
        else
            S_LOOP(ss, ms, memcpy(&o[i], v + (size_t)i * 8, 8));
    }
}

/* The values of node ni over the selected records of the chunk (others are unspecified). */
static const void *s_eval(wr_expr_t *e, const s_ctx *c, int32_t ni, const uint32_t *sel, uint32_t m)
{
    const wr__node_t *n = &e->nodes[ni];
    if (n->op == WR__FIELD) return (const int64_t *)c->b->col[n->field] + c->start;
    if (n->op == WR__CONST) return e->consts + (size_t)n->kbuf * CHUNK;
    int64_t *o = e->scratch + (size_t)n->level * CHUNK;
    if (n->op == WR__AND || n->op == WR__OR) {
        s_logic(e, c, n, o, sel, m);
    } else if (n->op == WR__COND) {
        s_cond(e, c, n, o, sel, m);
    } else {
        const wr__node_t *a0 = n->arg[0] >= 0 ? &e->nodes[n->arg[0]] : NULL;
        const wr__node_t *a1 = n->arg[1] >= 0 ? &e->nodes[n->arg[1]] : NULL;
        const void *a = a0 && a0->type != WR_T_STRING ? s_eval(e, c, n->arg[0], sel, m) : NULL;
        const void *b = a1 && a1->type != WR_T_STRING ? s_eval(e, c, n->arg[1], sel, m) : NULL;
        s_apply(e, c, n, a, b, o, sel, m);
    }
    return o;
}

void wr__expr_fold(wr_expr_t *e, int32_t ni)
{
    wr__node_t *n = &e->nodes[ni];
    /* One record's worth of each argument, in a variable of its representation's type. */
    int64_t ai[2] = {0, 0}, oi = 0;
    double af[2] = {0, 0}, of = 0;
    const void *arg[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        if (n->arg[k] < 0) continue;
        const wr__node_t *a = &e->nodes[n->arg[k]];
        ai[k] = a->k.i;
        af[k] = a->k.f;
        arg[k] = a->type == WR_T_DOUBLE ? (const void *)&af[k] : (const void *)&ai[k];
    }
    s_ctx c = {NULL, 0}; /* constants read no batch */
    bool dbl = n->type == WR_T_DOUBLE;
    s_apply(e, &c, n, arg[0], arg[1], dbl ? (void *)&of : (void *)&oi, NULL, 1);
    n->op = WR__CONST;
    if (dbl)
        n->k.f = of;
    else
        n->k.i = oi;
    n->arg[0] = n->arg[1] = n->arg[2] = -1;
}

static int s_check(const wr_expr_t *e, const wr_batch_t *b)
{
    for (uint32_t k = 0; k < e->n_refs; k++)
        if (e->ref_field[k] >= b->schema.n || b->schema.f[e->ref_field[k]].type != e->ref_type[k])
            return WR_EINVAL;
    return 0;
}

int wr_expr_eval(wr_expr_t *e, const wr_batch_t *b, void *out)
{
    if (e->nodes[e->root].type == WR_T_STRING || s_check(e, b) != 0) return WR_EINVAL;
    for (uint32_t start = 0; start < b->count; start += CHUNK) {
        uint32_t m = b->count - start < CHUNK ? b->count - start : CHUNK;
        s_ctx c = {b, start};
        const void *v = s_eval(e, &c, e->root, NULL, m);
        /* memmove: out may be the very column a bare field reads (an in-place map). */
        memmove((int64_t *)out + start, v, (size_t)m * 8);
    }
    return 0;
}

int wr_expr_select(wr_expr_t *e, const wr_batch_t *b, uint32_t *sel, uint32_t *n)
{
    *n = 0;
    if (e->nodes[e->root].type != WR_T_BOOL || s_check(e, b) != 0) return WR_EINVAL;
    uint32_t k = 0;
    for (uint32_t start = 0; start < b->count; start += CHUNK) {
        uint32_t m = b->count - start < CHUNK ? b->count - start : CHUNK;
        s_ctx c = {b, start};
        const int64_t *v = s_eval(e, &c, e->root, NULL, m);
        for (uint32_t i = 0; i < m; i++) {
            sel[k] = start + i;
            k += v[i] != 0;
        }
    }
    *n = k;
    return 0;
}
