#include "tests/support/expr_reference.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/keygroup.h"

enum {
    R_LIT,
    R_FIELD,
    R_NEG,
    R_NOT,
    R_ADD,
    R_SUB,
    R_MUL,
    R_DIV,
    R_MOD,
    R_EQ,
    R_NE,
    R_LT,
    R_LE,
    R_GT,
    R_GE,
    R_AND,
    R_OR,
    R_COND,
    R_ABS,
    R_MIN,
    R_MAX,
    R_FLOOR,
    R_CEIL,
    R_ROUND,
    R_SQRT,
    R_POW,
    R_LOG,
    R_EXP,
    R_IF,
    R_LEN,
    R_HASH,
    R_INT,
    R_DOUBLE,
    R_STARTS,
    R_CONTAINS
};
static const char *const s_rname[] = {
    "",    "",    "-",   "!",     "+",    "-",      "*",           "/",       "%",
    "==",  "!=",  "<",   "<=",    ">",    ">=",     "&&",          "||",      "?",
    "abs", "min", "max", "floor", "ceil", "round",  "sqrt",        "pow",     "log",
    "exp", "if",  "len", "hash",  "int",  "double", "starts_with", "contains"};

struct xr_node {
    int op, type, nargs;
    xr_node_t *a[3];
    int64_t i; /* R_LIT int/bool/time */
    double f;  /* R_LIT double */
    const char *s;
    int field;
    char text[40]; /* R_LIT: how it is written */
};

#define S_POOL 4096 /* nodes of one expression */

struct xr_gen {
    xf_rng_t *rng;
    xr_node_t pool[S_POOL];
    int n;
};

static xr_node_t *s_new(xr_gen_t *g, int op, int type)
{
    assert_true(g->n < S_POOL);
    xr_node_t *n = &g->pool[g->n++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->type = type;
    return n;
}

static const int s_fields_of[5][2] = {
    {XF_SEQ, XF_NN}, {XF_TEMP, XF_HUM}, {XF_OK, XF_OK}, {XF_TS, XF_TS}, {XF_DEVICE, XF_NOTE}};

static xr_node_t *s_leaf(xr_gen_t *g, int type)
{
    if (type == WR_T_TIME || xf_below(g->rng, 2)) {
        xr_node_t *n = s_new(g, R_FIELD, type);
        n->field = s_fields_of[type][xf_below(g->rng, 2)];
        return n;
    }
    xr_node_t *n = s_new(g, R_LIT, type);
    switch (type) {
    case WR_T_INT:
        if (xf_below(g->rng, 6) == 0) {
            static const char *const units[] = {"ms", "s", "min", "h", "d"};
            static const int64_t ms[] = {1, 1000, 60000, 3600000, 86400000};
            int u = (int)xf_below(g->rng, 5);
            n->i = (int64_t)xf_below(g->rng, 10) * ms[u];
            snprintf(n->text, sizeof n->text, "%d%s", (int)(n->i / ms[u]), units[u]);
        } else {
            n->i = xf_rand_int(g->rng);
            if (n->i == INT64_MIN) n->i = INT64_MIN + 1; /* not writable as a literal */
            snprintf(n->text, sizeof n->text, n->i < 0 ? "(%lld)" : "%lld", (long long)n->i);
        }
        break;
    case WR_T_DOUBLE:
        do
            n->f = xf_rand_double(g->rng);
        while (!isfinite(n->f));
        snprintf(n->text, sizeof n->text, "%.17g", n->f);
        if (!strpbrk(n->text, ".e")) strcat(n->text, ".0");
        if (n->f < 0 || (n->f == 0 && signbit(n->f))) {
            char t[48];
            snprintf(t, sizeof t, "(%s)", n->text);
            memcpy(n->text, t, sizeof n->text);
        }
        break;
    case WR_T_BOOL:
        n->i = xf_below(g->rng, 2);
        strcpy(n->text, n->i ? "true" : "false");
        break;
    case WR_T_STRING:
        n->s = xf_rand_word(g->rng);
        snprintf(n->text, sizeof n->text, "'%s'", strcmp(n->s, "x\"y") == 0 ? "x\\\"y" : n->s);
        break;
    }
    return n;
}

static xr_node_t *s_gen(xr_gen_t *g, int type, int depth);

static xr_node_t *s_mk(xr_gen_t *g, int op, int type, xr_node_t *a, xr_node_t *b, xr_node_t *c)
{
    xr_node_t *n = s_new(g, op, type);
    n->a[0] = a, n->a[1] = b, n->a[2] = c;
    n->nargs = c ? 3 : b ? 2 : 1;
    return n;
}

static int s_num_type(xr_gen_t *g)
{
    return xf_below(g->rng, 2) ? WR_T_INT : WR_T_DOUBLE;
}

static xr_node_t *s_gen(xr_gen_t *g, int type, int depth)
{
    if (depth == 0 || xf_below(g->rng, 4) == 0) return s_leaf(g, type);
    int d = depth - 1;
    switch (type) {
    case WR_T_INT:
        switch (xf_below(g->rng, 14)) {
        case 0:
        case 1:
        case 2:
            return s_mk(g, R_ADD + (int)xf_below(g->rng, 5), type, s_gen(g, type, d),
                        s_gen(g, type, d), NULL);
        case 3:
            return s_mk(g, R_NEG, type, s_gen(g, type, d), NULL, NULL);
        case 4:
            return s_mk(g, R_ABS, type, s_gen(g, type, d), NULL, NULL);
        case 5:
            return s_mk(g, R_MIN + (int)xf_below(g->rng, 2), type, s_gen(g, type, d),
                        s_gen(g, type, d), NULL);
        case 6:
            return s_mk(g, R_INT, type, s_gen(g, (int)xf_below(g->rng, 4), d), NULL, NULL);
        case 7:
            return s_mk(g, R_LEN, type, s_gen(g, WR_T_STRING, d), NULL, NULL);
        case 8:
            return s_mk(g, R_HASH, type, s_gen(g, (int)xf_below(g->rng, 5), d), NULL, NULL);
        case 9:
            return s_mk(g, R_SUB, type, s_gen(g, WR_T_TIME, d), s_gen(g, WR_T_TIME, d), NULL);
        case 10:
            return s_mk(g, R_FLOOR + (int)xf_below(g->rng, 3), type, s_gen(g, type, d), NULL, NULL);
        default:
            return s_mk(g, xf_below(g->rng, 2) ? R_COND : R_IF, type, s_gen(g, WR_T_BOOL, d),
                        s_gen(g, type, d), s_gen(g, type, d));
        }
    case WR_T_DOUBLE:
        switch (xf_below(g->rng, 12)) {
        case 0:
        case 1:
        case 2: {
            int ta = s_num_type(g), tb = ta == WR_T_INT ? WR_T_DOUBLE : s_num_type(g);
            if (xf_below(g->rng, 2)) ta ^= tb, tb ^= ta, ta ^= tb;
            return s_mk(g, R_ADD + (int)xf_below(g->rng, 5), type, s_gen(g, ta, d), s_gen(g, tb, d),
                        NULL);
        }
        case 3:
            return s_mk(g, R_NEG, type, s_gen(g, type, d), NULL, NULL);
        case 4:
            return s_mk(g, R_ABS, type, s_gen(g, type, d), NULL, NULL);
        case 5:
            return s_mk(g, R_MIN + (int)xf_below(g->rng, 2), type, s_gen(g, type, d),
                        s_gen(g, s_num_type(g), d), NULL);
        case 6:
            return s_mk(g, R_FLOOR + (int)xf_below(g->rng, 3), type, s_gen(g, type, d), NULL, NULL);
        case 7: {
            static const int ops[] = {R_SQRT, R_LOG, R_EXP};
            return s_mk(g, ops[xf_below(g->rng, 3)], type, s_gen(g, s_num_type(g), d), NULL, NULL);
        }
        case 8:
            return s_mk(g, R_POW, type, s_gen(g, s_num_type(g), d), s_gen(g, s_num_type(g), d),
                        NULL);
        case 9: {
            static const int from[] = {WR_T_INT, WR_T_TIME, WR_T_BOOL, WR_T_DOUBLE};
            return s_mk(g, R_DOUBLE, type, s_gen(g, from[xf_below(g->rng, 4)], d), NULL, NULL);
        }
        default:
            return s_mk(g, xf_below(g->rng, 2) ? R_COND : R_IF, type, s_gen(g, WR_T_BOOL, d),
                        s_gen(g, type, d), s_gen(g, s_num_type(g), d));
        }
    case WR_T_BOOL:
        switch (xf_below(g->rng, 10)) {
        case 0:
        case 1: {
            int ta = s_num_type(g), tb = s_num_type(g);
            return s_mk(g, R_EQ + (int)xf_below(g->rng, 6), type, s_gen(g, ta, d), s_gen(g, tb, d),
                        NULL);
        }
        case 2: {
            int tb = xf_below(g->rng, 2) ? WR_T_TIME : WR_T_INT;
            return s_mk(g, R_EQ + (int)xf_below(g->rng, 6), type, s_gen(g, WR_T_TIME, d),
                        s_gen(g, tb, d), NULL);
        }
        case 3:
            return s_mk(g, R_EQ + (int)xf_below(g->rng, 6), type, s_gen(g, WR_T_STRING, d),
                        s_gen(g, WR_T_STRING, d), NULL);
        case 4:
            return s_mk(g, R_EQ + (int)xf_below(g->rng, 2), type, s_gen(g, type, d),
                        s_gen(g, type, d), NULL);
        case 5:
        case 6:
            return s_mk(g, R_AND + (int)xf_below(g->rng, 2), type, s_gen(g, type, d),
                        s_gen(g, type, d), NULL);
        case 7:
            return s_mk(g, R_NOT, type, s_gen(g, type, d), NULL, NULL);
        case 8:
            return s_mk(g, R_STARTS + (int)xf_below(g->rng, 2), type, s_gen(g, WR_T_STRING, d),
                        s_gen(g, WR_T_STRING, d), NULL);
        default:
            return s_mk(g, R_COND, type, s_gen(g, type, d), s_gen(g, type, d), s_gen(g, type, d));
        }
    case WR_T_TIME:
        switch (xf_below(g->rng, 5)) {
        case 0:
            return s_mk(g, R_ADD, type, s_gen(g, type, d), s_gen(g, WR_T_INT, d), NULL);
        case 1:
            return s_mk(g, R_ADD, type, s_gen(g, WR_T_INT, d), s_gen(g, type, d), NULL);
        case 2:
            return s_mk(g, R_SUB, type, s_gen(g, type, d), s_gen(g, WR_T_INT, d), NULL);
        case 3:
            return s_mk(g, R_MIN + (int)xf_below(g->rng, 2), type, s_gen(g, type, d),
                        s_gen(g, type, d), NULL);
        default:
            return s_mk(g, R_IF, type, s_gen(g, WR_T_BOOL, d), s_gen(g, type, d),
                        s_gen(g, type, d));
        }
    default:
        return s_leaf(g, type); /* strings: fields and literals only */
    }
}

static void s_print(const xr_node_t *n, char *buf, size_t cap, size_t *at)
{
#define S_OUT(...) (*at += (size_t)snprintf(buf + *at, *at < cap ? cap - *at : 0, __VA_ARGS__))
    switch (n->op) {
    case R_LIT:
        S_OUT("%s", n->text);
        return;
    case R_FIELD:
        S_OUT("%s", xf_field_names[n->field]);
        return;
    case R_NEG:
    case R_NOT:
        S_OUT("(%s", s_rname[n->op]);
        s_print(n->a[0], buf, cap, at);
        S_OUT(")");
        return;
    case R_COND:
        S_OUT("(");
        s_print(n->a[0], buf, cap, at);
        S_OUT(" ? ");
        s_print(n->a[1], buf, cap, at);
        S_OUT(" : ");
        s_print(n->a[2], buf, cap, at);
        S_OUT(")");
        return;
    }
    if (n->op >= R_ADD && n->op <= R_OR) {
        S_OUT("(");
        s_print(n->a[0], buf, cap, at);
        S_OUT(" %s ", s_rname[n->op]);
        s_print(n->a[1], buf, cap, at);
        S_OUT(")");
        return;
    }
    S_OUT("%s(", s_rname[n->op]);
    for (int k = 0; k < n->nargs; k++) {
        if (k) S_OUT(", ");
        s_print(n->a[k], buf, cap, at);
    }
    S_OUT(")");
#undef S_OUT
}

static double s_d(const xr_node_t *n, xr_val_t v)
{
    return n->type == WR_T_DOUBLE ? v.f : (double)v.i;
}

static int s_ref_strcmp(xr_val_t a, xr_val_t b)
{
    for (uint32_t i = 0; i < a.len && i < b.len; i++)
        if (a.s[i] != b.s[i]) return (unsigned char)a.s[i] < (unsigned char)b.s[i] ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int64_t s_ref_f2i(double x)
{
    if (isnan(x)) return 0;
    if (x >= 0x1p63) return INT64_MAX;
    if (x < -0x1p63) return INT64_MIN;
    return (int64_t)x;
}

static bool s_any_double(const xr_node_t *n)
{
    return n->a[0]->type == WR_T_DOUBLE || (n->a[1] && n->a[1]->type == WR_T_DOUBLE);
}

xr_val_t xr_eval(const xr_node_t *n, const wr_batch_t *b, uint32_t row, uint64_t *dz)
{
    xr_val_t v = {0, 0, NULL, 0}, x = v, y = v;
    if (n->op == R_LIT) {
        v.i = n->i, v.f = n->f, v.s = n->s, v.len = n->s ? (uint32_t)strlen(n->s) : 0;
        return v;
    }
    if (n->op == R_FIELD) {
        if (n->type == WR_T_STRING)
            v.s = wr_batch_str(b, n->field, row, &v.len);
        else if (n->type == WR_T_DOUBLE)
            v.f = ((const double *)b->col[n->field])[row];
        else
            v.i = ((const int64_t *)b->col[n->field])[row];
        return v;
    }
    /* lazy ones first */
    if (n->op == R_AND || n->op == R_OR) {
        x = xr_eval(n->a[0], b, row, dz);
        if ((n->op == R_AND) != (x.i != 0)) return x;
        return xr_eval(n->a[1], b, row, dz);
    }
    if (n->op == R_COND || n->op == R_IF) {
        x = xr_eval(n->a[0], b, row, dz);
        const xr_node_t *pick = x.i ? n->a[1] : n->a[2];
        y = xr_eval(pick, b, row, dz);
        if (n->type == WR_T_DOUBLE) y.f = s_d(pick, y);
        return y;
    }
    x = xr_eval(n->a[0], b, row, dz);
    if (n->nargs > 1) y = xr_eval(n->a[1], b, row, dz);
    const xr_node_t *A = n->a[0], *B = n->a[1];
    bool dbl = n->type == WR_T_DOUBLE;
    uint64_t ux = (uint64_t)x.i, uy = (uint64_t)y.i;
    switch (n->op) {
    case R_NEG:
        if (dbl)
            v.f = -x.f;
        else
            v.i = (int64_t)(0 - ux);
        break;
    case R_NOT:
        v.i = !x.i;
        break;
    case R_ADD:
        if (dbl)
            v.f = s_d(A, x) + s_d(B, y);
        else
            v.i = (int64_t)(ux + uy);
        break;
    case R_SUB:
        if (dbl)
            v.f = s_d(A, x) - s_d(B, y);
        else
            v.i = (int64_t)(ux - uy);
        break;
    case R_MUL:
        if (dbl)
            v.f = s_d(A, x) * s_d(B, y);
        else
            v.i = (int64_t)(ux * uy);
        break;
    case R_DIV:
    case R_MOD:
        if (dbl) {
            v.f = n->op == R_DIV ? s_d(A, x) / s_d(B, y) : fmod(s_d(A, x), s_d(B, y));
        } else if (y.i == 0) {
            v.i = 0;
            (*dz)++;
        } else if (y.i == -1) {
            v.i = n->op == R_DIV ? (int64_t)(0 - ux) : 0;
        } else {
            v.i = n->op == R_DIV ? x.i / y.i : x.i % y.i;
        }
        break;
    case R_EQ:
    case R_NE:
    case R_LT:
    case R_LE:
    case R_GT:
    case R_GE: {
        int c;
        if (A->type == WR_T_STRING) {
            c = s_ref_strcmp(x, y);
        } else if (s_any_double(n)) {
            double p = s_d(A, x), q = s_d(B, y);
            if (p != p || q != q) { /* unordered: only != holds */
                v.i = n->op == R_NE;
                break;
            }
            c = p < q ? -1 : p > q;
        } else {
            c = x.i < y.i ? -1 : x.i > y.i;
        }
        static const int want[][3] = {{0, 1, 0}, {1, 0, 1}, {1, 0, 0},
                                      {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};
        v.i = want[n->op - R_EQ][c + 1];
        break;
    }
    case R_ABS:
        if (dbl)
            v.f = fabs(x.f);
        else
            v.i = x.i < 0 ? (int64_t)(0 - ux) : x.i;
        break;
    case R_MIN:
    case R_MAX:
        if (dbl) {
            double p = s_d(A, x), q = s_d(B, y);
            v.f = n->op == R_MIN ? (p < q ? p : q) : (p > q ? p : q);
        } else {
            v.i = n->op == R_MIN ? (x.i < y.i ? x.i : y.i) : (x.i > y.i ? x.i : y.i);
        }
        break;
    case R_FLOOR:
    case R_CEIL:
    case R_ROUND:
        if (!dbl)
            v.i = x.i;
        else
            v.f = n->op == R_FLOOR ? floor(x.f) : n->op == R_CEIL ? ceil(x.f) : round(x.f);
        break;
    case R_SQRT:
        v.f = sqrt(s_d(A, x));
        break;
    case R_LOG:
        v.f = log(s_d(A, x));
        break;
    case R_EXP:
        v.f = exp(s_d(A, x));
        break;
    case R_POW:
        v.f = pow(s_d(A, x), s_d(B, y));
        break;
    case R_LEN:
        v.i = x.len;
        break;
    case R_HASH:
        if (A->type == WR_T_STRING) {
            v.i = (int64_t)wr_hash_bytes(x.s, x.len);
        } else if (A->type == WR_T_DOUBLE) {
            double f = x.f == 0 ? 0.0 : x.f;
            uint64_t u;
            memcpy(&u, &f, 8);
            v.i = (int64_t)wr_hash_u64(u);
        } else {
            v.i = (int64_t)wr_hash_u64(ux);
        }
        break;
    case R_INT:
        v.i = A->type == WR_T_DOUBLE ? s_ref_f2i(x.f) : x.i;
        break;
    case R_DOUBLE:
        v.f = s_d(A, x);
        break;
    case R_STARTS:
        v.i = x.len >= y.len && memcmp(x.s, y.s, y.len) == 0;
        break;
    case R_CONTAINS:
        v.i = 0;
        for (uint32_t at = 0; at + y.len <= x.len && !v.i; at++)
            v.i = memcmp(x.s + at, y.s, y.len) == 0;
        break;
    default:
        fail_msg("reference: op %d", n->op);
    }
    return v;
}

/* ---- the generator ---- */

xr_gen_t *xr_gen_new(xf_rng_t *rng)
{
    xr_gen_t *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->rng = rng;
    return g;
}

void xr_gen_destroy(xr_gen_t **g)
{
    if (!g) return;
    free(*g);
    *g = NULL;
}

const xr_node_t *xr_random(xr_gen_t *g, int type, int depth)
{
    g->n = 0;
    return s_gen(g, type, depth);
}

size_t xr_print(const xr_node_t *n, char *buf, size_t cap)
{
    size_t at = 0;
    s_print(n, buf, cap, &at);
    return at;
}
