/* wr_expr: filter and map expressions compiled once and evaluated a batch at a time. The heart of
 * this file is a per-record reference evaluator: random well-typed expressions are printed as
 * text, compiled, evaluated over random batches and compared with it record for record. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/expr/expr.h"
#include "actors/dataflow/record/keygroup.h"
#include "bus/base/error.h"

enum { F_DEVICE, F_TS, F_TEMP, F_OK, F_SEQ, F_NOTE, F_HUM, F_NN /* "n" */, F_COUNT };

static const char *const s_field_names[] = {"device", "ts",   "temp", "ok",
                                            "seq",    "note", "hum",  "n"};

static wr_schema_t s_schema(void)
{
    static const enum wr_type types[] = {WR_T_STRING, WR_T_TIME,   WR_T_DOUBLE, WR_T_BOOL,
                                         WR_T_INT,    WR_T_STRING, WR_T_DOUBLE, WR_T_INT};
    wr_schema_t s;
    wr_schema_init(&s);
    for (int f = 0; f < F_COUNT; f++)
        assert_int_equal(wr_schema_add(&s, s_field_names[f], types[f]), 0);
    return s;
}

/* ---- random data ---- */

static uint64_t s_rng = 88172645463325252ull;

static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static uint32_t s_below(uint32_t n)
{
    return (uint32_t)(s_rand() % n);
}

static const char *const s_words[] = {"",       "a",     "ab",    "abc",  "b",    "dev-1",
                                      "dev-10", "dev-2", "DEV-1", "x\"y", "\xff", "dev-1\xff"};
#define S_NWORDS (sizeof s_words / sizeof s_words[0])

static int64_t s_rand_int(void)
{
    static const int64_t edge[] = {0, 1, -1, 2, 3, 7, -7, 100, INT64_MAX, INT64_MIN, 1 << 20};
    return s_below(3) ? (int64_t)s_below(41) - 20 : edge[s_below(sizeof edge / sizeof edge[0])];
}

static double s_rand_double(void)
{
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 3.25, 30.5};
    switch (s_below(8)) {
    case 0:
        return edge[s_below(sizeof edge / sizeof edge[0])];
    case 1:
        return s_below(50) == 0 ? NAN : INFINITY * (s_below(2) ? 1 : -1);
    case 2:
        return (double)((int)s_below(21) - 10);
    default:
        return ((double)s_below(100000) - 50000) / 128.0;
    }
}

static void s_fill(wr_batch_t *b, uint32_t n)
{
    wr_batch_clear(b);
    assert_int_equal(wr_batch_reserve(b, n), 0);
    for (uint32_t i = 0; i < n; i++) {
        const char *d = s_words[s_below(S_NWORDS)], *note = s_words[s_below(S_NWORDS)];
        assert_int_equal(wr_batch_push_str(b, F_DEVICE, d, (uint32_t)strlen(d)), 0);
        assert_int_equal(wr_batch_push_str(b, F_NOTE, note, (uint32_t)strlen(note)), 0);
        wr_batch_i64(b, F_TS)[i] = 1700000000000 + (int64_t)s_below(7200000) - 3600000;
        wr_batch_f64(b, F_TEMP)[i] = s_rand_double();
        wr_batch_f64(b, F_HUM)[i] = s_rand_double();
        wr_batch_i64(b, F_OK)[i] = s_below(2);
        wr_batch_i64(b, F_SEQ)[i] = s_rand_int();
        wr_batch_i64(b, F_NN)[i] = s_rand_int();
        b->count++;
    }
}

/* ---- the reference: an AST, its text, and a per-record interpreter ---- */

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

typedef struct rnode {
    int op, type, nargs;
    struct rnode *a[3];
    int64_t i; /* R_LIT int/bool/time */
    double f;  /* R_LIT double */
    const char *s;
    int field;
    char text[40]; /* R_LIT: how it is written */
} rnode;

typedef struct {
    int64_t i;
    double f;
    const char *s;
    uint32_t len;
} rval;

static rnode s_pool[4096];
static int s_pool_n;

static rnode *s_new(int op, int type)
{
    assert_true(s_pool_n < 4096);
    rnode *n = &s_pool[s_pool_n++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->type = type;
    return n;
}

static const int s_fields_of[5][2] = {
    {F_SEQ, F_NN}, {F_TEMP, F_HUM}, {F_OK, F_OK}, {F_TS, F_TS}, {F_DEVICE, F_NOTE}};

static rnode *s_leaf(int type)
{
    if (type == WR_T_TIME || s_below(2)) {
        rnode *n = s_new(R_FIELD, type);
        n->field = s_fields_of[type][s_below(2)];
        return n;
    }
    rnode *n = s_new(R_LIT, type);
    switch (type) {
    case WR_T_INT:
        if (s_below(6) == 0) {
            static const char *const units[] = {"ms", "s", "min", "h", "d"};
            static const int64_t ms[] = {1, 1000, 60000, 3600000, 86400000};
            int u = (int)s_below(5);
            n->i = (int64_t)s_below(10) * ms[u];
            snprintf(n->text, sizeof n->text, "%d%s", (int)(n->i / ms[u]), units[u]);
        } else {
            n->i = s_rand_int();
            if (n->i == INT64_MIN) n->i = INT64_MIN + 1; /* not writable as a literal */
            snprintf(n->text, sizeof n->text, n->i < 0 ? "(%lld)" : "%lld", (long long)n->i);
        }
        break;
    case WR_T_DOUBLE:
        do
            n->f = s_rand_double();
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
        n->i = s_below(2);
        strcpy(n->text, n->i ? "true" : "false");
        break;
    case WR_T_STRING:
        n->s = s_words[s_below(S_NWORDS)];
        snprintf(n->text, sizeof n->text, "'%s'", strcmp(n->s, "x\"y") == 0 ? "x\\\"y" : n->s);
        break;
    }
    return n;
}

static rnode *s_gen(int type, int depth);

static rnode *s_mk(int op, int type, rnode *a, rnode *b, rnode *c)
{
    rnode *n = s_new(op, type);
    n->a[0] = a, n->a[1] = b, n->a[2] = c;
    n->nargs = c ? 3 : b ? 2 : 1;
    return n;
}

static int s_num_type(void)
{
    return s_below(2) ? WR_T_INT : WR_T_DOUBLE;
}

static rnode *s_gen(int type, int depth)
{
    if (depth == 0 || s_below(4) == 0) return s_leaf(type);
    int d = depth - 1;
    switch (type) {
    case WR_T_INT:
        switch (s_below(14)) {
        case 0:
        case 1:
        case 2:
            return s_mk(R_ADD + (int)s_below(5), type, s_gen(type, d), s_gen(type, d), NULL);
        case 3:
            return s_mk(R_NEG, type, s_gen(type, d), NULL, NULL);
        case 4:
            return s_mk(R_ABS, type, s_gen(type, d), NULL, NULL);
        case 5:
            return s_mk(R_MIN + (int)s_below(2), type, s_gen(type, d), s_gen(type, d), NULL);
        case 6:
            return s_mk(R_INT, type, s_gen((int)s_below(4), d), NULL, NULL);
        case 7:
            return s_mk(R_LEN, type, s_gen(WR_T_STRING, d), NULL, NULL);
        case 8:
            return s_mk(R_HASH, type, s_gen((int)s_below(5), d), NULL, NULL);
        case 9:
            return s_mk(R_SUB, type, s_gen(WR_T_TIME, d), s_gen(WR_T_TIME, d), NULL);
        case 10:
            return s_mk(R_FLOOR + (int)s_below(3), type, s_gen(type, d), NULL, NULL);
        default:
            return s_mk(s_below(2) ? R_COND : R_IF, type, s_gen(WR_T_BOOL, d), s_gen(type, d),
                        s_gen(type, d));
        }
    case WR_T_DOUBLE:
        switch (s_below(12)) {
        case 0:
        case 1:
        case 2: {
            int ta = s_num_type(), tb = ta == WR_T_INT ? WR_T_DOUBLE : s_num_type();
            if (s_below(2)) ta ^= tb, tb ^= ta, ta ^= tb;
            return s_mk(R_ADD + (int)s_below(5), type, s_gen(ta, d), s_gen(tb, d), NULL);
        }
        case 3:
            return s_mk(R_NEG, type, s_gen(type, d), NULL, NULL);
        case 4:
            return s_mk(R_ABS, type, s_gen(type, d), NULL, NULL);
        case 5:
            return s_mk(R_MIN + (int)s_below(2), type, s_gen(type, d), s_gen(s_num_type(), d),
                        NULL);
        case 6:
            return s_mk(R_FLOOR + (int)s_below(3), type, s_gen(type, d), NULL, NULL);
        case 7: {
            static const int ops[] = {R_SQRT, R_LOG, R_EXP};
            return s_mk(ops[s_below(3)], type, s_gen(s_num_type(), d), NULL, NULL);
        }
        case 8:
            return s_mk(R_POW, type, s_gen(s_num_type(), d), s_gen(s_num_type(), d), NULL);
        case 9: {
            static const int from[] = {WR_T_INT, WR_T_TIME, WR_T_BOOL, WR_T_DOUBLE};
            return s_mk(R_DOUBLE, type, s_gen(from[s_below(4)], d), NULL, NULL);
        }
        default:
            return s_mk(s_below(2) ? R_COND : R_IF, type, s_gen(WR_T_BOOL, d), s_gen(type, d),
                        s_gen(s_num_type(), d));
        }
    case WR_T_BOOL:
        switch (s_below(10)) {
        case 0:
        case 1: {
            int ta = s_num_type(), tb = s_num_type();
            return s_mk(R_EQ + (int)s_below(6), type, s_gen(ta, d), s_gen(tb, d), NULL);
        }
        case 2: {
            int tb = s_below(2) ? WR_T_TIME : WR_T_INT;
            return s_mk(R_EQ + (int)s_below(6), type, s_gen(WR_T_TIME, d), s_gen(tb, d), NULL);
        }
        case 3:
            return s_mk(R_EQ + (int)s_below(6), type, s_gen(WR_T_STRING, d), s_gen(WR_T_STRING, d),
                        NULL);
        case 4:
            return s_mk(R_EQ + (int)s_below(2), type, s_gen(type, d), s_gen(type, d), NULL);
        case 5:
        case 6:
            return s_mk(R_AND + (int)s_below(2), type, s_gen(type, d), s_gen(type, d), NULL);
        case 7:
            return s_mk(R_NOT, type, s_gen(type, d), NULL, NULL);
        case 8:
            return s_mk(R_STARTS + (int)s_below(2), type, s_gen(WR_T_STRING, d),
                        s_gen(WR_T_STRING, d), NULL);
        default:
            return s_mk(R_COND, type, s_gen(type, d), s_gen(type, d), s_gen(type, d));
        }
    case WR_T_TIME:
        switch (s_below(5)) {
        case 0:
            return s_mk(R_ADD, type, s_gen(type, d), s_gen(WR_T_INT, d), NULL);
        case 1:
            return s_mk(R_ADD, type, s_gen(WR_T_INT, d), s_gen(type, d), NULL);
        case 2:
            return s_mk(R_SUB, type, s_gen(type, d), s_gen(WR_T_INT, d), NULL);
        case 3:
            return s_mk(R_MIN + (int)s_below(2), type, s_gen(type, d), s_gen(type, d), NULL);
        default:
            return s_mk(R_IF, type, s_gen(WR_T_BOOL, d), s_gen(type, d), s_gen(type, d));
        }
    default:
        return s_leaf(type); /* strings: fields and literals only */
    }
}

static void s_print(const rnode *n, char *buf, size_t cap, size_t *at)
{
#define S_OUT(...) (*at += (size_t)snprintf(buf + *at, *at < cap ? cap - *at : 0, __VA_ARGS__))
    switch (n->op) {
    case R_LIT:
        S_OUT("%s", n->text);
        return;
    case R_FIELD:
        S_OUT("%s", s_field_names[n->field]);
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

static double s_d(const rnode *n, rval v)
{
    return n->type == WR_T_DOUBLE ? v.f : (double)v.i;
}

static int s_ref_strcmp(rval a, rval b)
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

static bool s_any_double(const rnode *n)
{
    return n->a[0]->type == WR_T_DOUBLE || (n->a[1] && n->a[1]->type == WR_T_DOUBLE);
}

static rval s_ref(const rnode *n, const wr_batch_t *b, uint32_t row, uint64_t *dz)
{
    rval v = {0, 0, NULL, 0}, x = v, y = v;
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
        x = s_ref(n->a[0], b, row, dz);
        if ((n->op == R_AND) != (x.i != 0)) return x;
        return s_ref(n->a[1], b, row, dz);
    }
    if (n->op == R_COND || n->op == R_IF) {
        x = s_ref(n->a[0], b, row, dz);
        const rnode *pick = x.i ? n->a[1] : n->a[2];
        y = s_ref(pick, b, row, dz);
        if (n->type == WR_T_DOUBLE) y.f = s_d(pick, y);
        return y;
    }
    x = s_ref(n->a[0], b, row, dz);
    if (n->nargs > 1) y = s_ref(n->a[1], b, row, dz);
    const rnode *A = n->a[0], *B = n->a[1];
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

/* ---- helpers ---- */

static wr_expr_t *s_compile_ok(const char *src, const wr_schema_t *schema)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_expr_t *e = wr_expr_compile(src, schema, &err);
    if (!e) fail_msg("'%s' did not compile: %s", src, err.buf);
    assert_int_equal(err.len, 0);
    wr_strbuf_release(&err);
    return e;
}

/* The error message src gets, which must start "column N: ". */
static void s_compile_err(const char *src, const char *want)
{
    wr_schema_t s = s_schema();
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_expr_t *e = wr_expr_compile(src, &s, &err);
    if (e) fail_msg("'%s' compiled, expected: %s", src, want);
    if (strncmp(err.buf, want, strlen(want)) != 0)
        fail_msg("'%s':\n  got:  %s\n  want: %s", src, err.buf, want);
    assert_null(strchr(err.buf, '\n'));
    wr_strbuf_release(&err);
}

/* A constant expression's value, the same for every record, as 8 bytes. */
static int64_t s_const(const char *src, bool dbl)
{
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 3);
    wr_expr_t *e = s_compile_ok(src, &s);
    assert_int_equal(wr_expr_type(e) == WR_T_DOUBLE, dbl);
    int64_t out[3];
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    assert_memory_equal(&out[0], &out[1], 8);
    assert_memory_equal(&out[0], &out[2], 8);
    wr_expr_destroy(&e);
    wr_batch_destroy(&b);
    return out[0];
}

static int64_t s_const_i(const char *src)
{
    return s_const(src, false);
}

static double s_const_f(const char *src)
{
    int64_t v = s_const(src, true);
    double f;
    memcpy(&f, &v, 8);
    return f;
}

/* ---- tests ---- */

static void test_filter_and_map(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 4);
    const char *dev[] = {"dev-1", "dev-2", "dev-1", "other"};
    double temp[] = {31.0, 35.5, 20.0, 40.0};
    wr_batch_clear(b);
    for (int i = 0; i < 4; i++) {
        wr_batch_push_str(b, F_DEVICE, dev[i], (uint32_t)strlen(dev[i]));
        wr_batch_push_str(b, F_NOTE, "", 0);
        wr_batch_f64(b, F_TEMP)[i] = temp[i];
        b->count++;
    }
    wr_expr_t *filter = s_compile_ok("temp > 30.5 && starts_with(device, 'dev-')", &s);
    assert_int_equal(wr_expr_type(filter), WR_T_BOOL);
    assert_int_equal(wr_expr_field(filter), -1);
    uint32_t sel[4], n = 99;
    assert_int_equal(wr_expr_select(filter, b, sel, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sel[0], 0);
    assert_int_equal(sel[1], 1);

    wr_expr_t *map = s_compile_ok("temp * 1.8 + 32", &s);
    double f[4];
    assert_int_equal(wr_expr_eval(map, b, f), 0);
    for (int i = 0; i < 4; i++)
        assert_true(f[i] == temp[i] * 1.8 + 32);

    wr_expr_t *pass = s_compile_ok("device", &s);
    assert_int_equal(wr_expr_type(pass), WR_T_STRING);
    assert_int_equal(wr_expr_field(pass), F_DEVICE);
    assert_int_equal(wr_expr_eval(pass, b, f), WR_EINVAL); /* strings are passed, not computed */
    assert_int_equal(wr_expr_select(map, b, sel, &n), WR_EINVAL);
    assert_int_equal(n, 0);

    wr_expr_destroy(&filter);
    wr_expr_destroy(&map);
    wr_expr_destroy(&pass);
    assert_null(map);
    wr_expr_destroy(&map);
    wr_expr_destroy(NULL);
    wr_batch_destroy(&b);
}

static void test_precedence(void **state)
{
    (void)state;
    assert_int_equal(s_const_i("1 + 2 * 3"), 7);
    assert_int_equal(s_const_i("(1 + 2) * 3"), 9);
    assert_int_equal(s_const_i("10 - 4 - 3"), 3);
    assert_int_equal(s_const_i("100 / 10 / 5"), 2);
    assert_int_equal(s_const_i("2 * 7 % 4"), 2);
    assert_int_equal(s_const_i("-2 * 3"), -6);
    assert_int_equal(s_const_i("- -2"), 2);
    assert_int_equal(s_const_i("-(2 + 3) * 2"), -10);
    assert_int_equal(s_const_i("1 + 2 < 4"), 1);
    assert_int_equal(s_const_i("!true == false"), 1); /* ! binds looser than == */
    assert_int_equal(s_const_i("!(true == false)"), 1);
    assert_int_equal(s_const_i("true || false && false"), 1);
    assert_int_equal(s_const_i("(true || false) && false"), 0);
    assert_int_equal(s_const_i("!false && false"), 0);
    assert_int_equal(s_const_i("false ? 1 : true ? 2 : 3"), 2); /* right-associative */
    assert_int_equal(s_const_i("true ? false ? 1 : 2 : 3"), 2);
    assert_int_equal(s_const_i("1 < 2 ? 10 : 20"), 10);
    assert_int_equal(s_const_i(" \t1\n+\r1 "), 2);
    assert_int_equal(s_const_i("1+2*3-4/2"), 5);
    assert_true(s_const_f("1 + 2 * 0.5") == 2.0);
    assert_true(s_const_f(".5 + 1.") == 1.5);
    assert_true(s_const_f("1e3 + 2.5E-1") == 1000.25);
    assert_true(s_const_f("-1e-3") == -0.001);
    assert_true(s_const_f("7 / 2.0") == 3.5);
    assert_int_equal(s_const_i("7 / 2"), 3);
    assert_int_equal(s_const_i("-7 / 2"), -3);
    assert_int_equal(s_const_i("-7 % 3"), -1);
    assert_int_equal(s_const_i("9223372036854775807 + 1"), INT64_MIN); /* wraps */
    assert_int_equal(s_const_i("-9223372036854775807 - 1"), INT64_MIN);
    assert_int_equal(s_const_i("(-9223372036854775807 - 1) / -1"), INT64_MIN);
    assert_int_equal(s_const_i("(-9223372036854775807 - 1) % -1"), 0);
}

static void test_functions(void **state)
{
    (void)state;
    assert_int_equal(s_const_i("abs(-5)"), 5);
    assert_true(s_const_f("abs(-2.5)") == 2.5);
    assert_int_equal(s_const_i("min(3, -4)"), -4);
    assert_int_equal(s_const_i("max(3, -4)"), 3);
    assert_true(s_const_f("max(3, 4.5)") == 4.5);
    assert_true(s_const_f("min(3, 4.5)") == 3.0);
    assert_true(s_const_f("floor(-1.5)") == -2.0);
    assert_true(s_const_f("ceil(1.2)") == 2.0);
    assert_true(s_const_f("round(2.5)") == 3.0);
    assert_true(s_const_f("round(-2.5)") == -3.0);
    assert_int_equal(s_const_i("floor(7)"), 7); /* ints stay ints */
    assert_true(s_const_f("sqrt(16)") == 4.0);
    assert_true(s_const_f("pow(2, 10)") == 1024.0);
    assert_true(s_const_f("log(1)") == 0.0);
    assert_true(s_const_f("exp(0)") == 1.0);
    assert_true(isnan(s_const_f("sqrt(-1)")));
    assert_true(isinf(s_const_f("log(0)")));
    assert_int_equal(s_const_i("if(1 > 2, 10, 20)"), 20);
    assert_true(s_const_f("if(true, 1, 2.5)") == 1.0);
    assert_int_equal(s_const_i("len('')"), 0);
    assert_int_equal(s_const_i("len('abc')"), 3);
    assert_int_equal(s_const_i("len(\"a\\\"b\\n\")"), 4);
    assert_int_equal(s_const_i("len('\\0x')"), 2);
    assert_int_equal(s_const_i("starts_with('device-1', 'dev')"), 1);
    assert_int_equal(s_const_i("starts_with('de', 'dev')"), 0);
    assert_int_equal(s_const_i("starts_with('x', '')"), 1);
    assert_int_equal(s_const_i("contains('hello world', 'o w')"), 1);
    assert_int_equal(s_const_i("contains('hello', 'world')"), 0);
    assert_int_equal(s_const_i("contains('', '')"), 1);
    assert_int_equal(s_const_i("hash(42)"), (int64_t)wr_hash_u64(42));
    assert_int_equal(s_const_i("hash('dev-1')"), (int64_t)wr_hash_bytes("dev-1", 5));
    assert_int_equal(s_const_i("hash(0.0) == hash(-0.0)"), 1);
    assert_int_equal(s_const_i("hash(true)"), (int64_t)wr_hash_u64(1));
    assert_int_equal(s_const_i("int(2.9)"), 2);
    assert_int_equal(s_const_i("int(-2.9)"), -2);
    assert_int_equal(s_const_i("int(1e300)"), INT64_MAX);
    assert_int_equal(s_const_i("int(-1e300)"), INT64_MIN);
    assert_int_equal(s_const_i("int(sqrt(-1))"), 0);
    assert_int_equal(s_const_i("int(true) + int(false)"), 1);
    assert_true(s_const_f("double(3) / 2") == 1.5);
    assert_true(s_const_f("double(true)") == 1.0);

    /* Over fields too, including time. */
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 600);
    wr_expr_t *e = s_compile_ok("int(ts) - int(ts - 90s) + len(device) * 0", &s);
    int64_t out[600];
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    for (int i = 0; i < 600; i++)
        assert_int_equal(out[i], 90000);
    wr_expr_destroy(&e);
    wr_batch_destroy(&b);
}

static void test_time_arithmetic(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 1000);
    const int64_t *ts = wr_batch_i64(b, F_TS);
    struct {
        const char *src;
        enum wr_type type;
        int64_t add; /* expected: ts + add, or add when the result is an int */
    } cases[] = {
        {"ts + 5min", WR_T_TIME, 300000},
        {"5min + ts", WR_T_TIME, 300000},
        {"ts - 2h", WR_T_TIME, -7200000},
        {"ts + 500ms + 10s + 1d", WR_T_TIME, 500 + 10000 + 86400000},
        {"ts + 1min - ts", WR_T_INT, 60000},
        {"(ts - 1h) - ts", WR_T_INT, -3600000},
        {"min(ts, ts + 1s)", WR_T_TIME, 0},
        {"max(ts, ts + 1s)", WR_T_TIME, 1000},
        {"if(true, ts, ts + 1s)", WR_T_TIME, 0},
        {"ts + 3 * 1s", WR_T_TIME, 3000},
    };
    int64_t out[1000];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        wr_expr_t *e = s_compile_ok(cases[k].src, &s);
        assert_int_equal(wr_expr_type(e), cases[k].type);
        assert_int_equal(wr_expr_eval(e, b, out), 0);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(out[i], (cases[k].type == WR_T_TIME ? ts[i] : 0) + cases[k].add);
        wr_expr_destroy(&e);
    }
    /* Comparisons of times with times and with epoch milliseconds. */
    wr_expr_t *e = s_compile_ok("ts >= 1700000000000 && ts - 30min < ts", &s);
    uint32_t sel[1000], n, want = 0;
    assert_int_equal(wr_expr_select(e, b, sel, &n), 0);
    for (int i = 0; i < 1000; i++)
        want += ts[i] >= 1700000000000;
    assert_int_equal(n, want);
    wr_expr_destroy(&e);
    wr_batch_destroy(&b);
}

static void test_string_comparisons(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    const char *dev[] = {"dev-1", "dev-10", "dev-2", "", "DEV-1", "dev-1\xff", "dev-"};
    for (int i = 0; i < 7; i++) {
        wr_batch_push_str(b, F_DEVICE, dev[i], (uint32_t)strlen(dev[i]));
        wr_batch_push_str(b, F_NOTE, dev[(i + 1) % 7], (uint32_t)strlen(dev[(i + 1) % 7]));
        b->count++;
    }
    struct {
        const char *src;
        const char *want; /* '1' or '0' per record */
    } cases[] = {
        {"device == 'dev-1'", "1000000"},
        {"'dev-1' == device", "1000000"},
        {"device != 'dev-1'", "0111111"},
        {"device < 'dev-10'", "1001101"}, /* bytewise: "" < "DEV-1" < "dev-" < "dev-1" */
        {"device <= 'dev-10'", "1101101"},
        {"device > 'dev-1'", "0110010"},
        {"device >= 'dev-1'", "1110010"},
        {"device == ''", "0001000"},
        {"device == 'dev-1\xff'", "0000010"},
        {"device > 'dev-1\xfe'", "0010010"},
        {"device < note", "1101101"},
        {"device == note", "0000000"},
        {"starts_with(device, 'dev-1')", "1100010"},
        {"starts_with(device, note)", "0010010"},
        {"contains(device, '-1')", "1100110"},
        {"contains(device, '')", "1111111"},
        {"contains(note, device)", "1001001"},
        {"len(device) > 5", "0100010"},
        {"'abc' < 'abd' && 'ab' < 'abc' && !('b' < 'abc')", "1111111"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        wr_expr_t *e = s_compile_ok(cases[k].src, &s);
        int64_t out[7];
        assert_int_equal(wr_expr_eval(e, b, out), 0);
        char got[8];
        for (int i = 0; i < 7; i++)
            got[i] = out[i] ? '1' : '0';
        got[7] = 0;
        if (strcmp(got, cases[k].want) != 0)
            fail_msg("%s: got %s, want %s", cases[k].src, got, cases[k].want);
        wr_expr_destroy(&e);
    }
    wr_batch_destroy(&b);
}

static void test_division_by_zero(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 2000);
    int64_t *seq = wr_batch_i64(b, F_SEQ), *nn = wr_batch_i64(b, F_NN);
    uint64_t zeros = 0;
    for (int i = 0; i < 2000; i++) {
        nn[i] = i % 7 == 0 ? 0 : i % 13 - 6;
        zeros += nn[i] == 0;
    }
    int64_t out[2000];
    wr_expr_t *e = s_compile_ok("seq / n", &s);
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    assert_int_equal(wr_expr_div_zero(e), zeros);
    for (int i = 0; i < 2000; i++)
        if (nn[i] == 0) assert_int_equal(out[i], 0);
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    assert_int_equal(wr_expr_div_zero(e), 2 * zeros);
    wr_expr_destroy(&e);

    /* Guarded divisions are not performed, so not counted. */
    const char *guarded[] = {"n != 0 && seq / n > 1", "n == 0 || seq % n == 0",
                             "if(n == 0, 0, seq / n) >= 0", "n != 0 ? seq / n > 0 : false"};
    for (int k = 0; k < 4; k++) {
        e = s_compile_ok(guarded[k], &s);
        uint32_t sel[2000], n;
        assert_int_equal(wr_expr_select(e, b, sel, &n), 0);
        assert_int_equal(wr_expr_div_zero(e), 0);
        wr_expr_destroy(&e);
    }
    /* Doubles follow IEEE and count nothing. */
    e = s_compile_ok("temp / 0.0", &s);
    double f[2000];
    assert_int_equal(wr_expr_eval(e, b, f), 0);
    assert_int_equal(wr_expr_div_zero(e), 0);
    wr_expr_destroy(&e);
    (void)seq;
    wr_batch_destroy(&b);
}

static void test_errors_name_the_column(void **state)
{
    (void)state;
    s_compile_err("temprature > 3",
                  "column 1: unknown field 'temprature' (fields: device, ts, temp, ok, seq, note, "
                  "hum, n)");
    s_compile_err("temp + device", "column 6: cannot apply '+' to double and string");
    s_compile_err("ts + ts", "column 4: cannot apply '+' to time and time (time takes");
    s_compile_err("1 - ts", "column 3: cannot apply '-' to int and time");
    s_compile_err("ts * 2", "column 4: cannot apply '*' to time and int");
    s_compile_err("ok + 1", "column 4: cannot apply '+' to bool and int");
    s_compile_err("seq && ok", "column 5: '&&' needs bool operands, got int and bool");
    s_compile_err("ok || 1", "column 4: '||' needs bool operands, got bool and int");
    s_compile_err("!seq", "column 1: '!' needs a bool, got int");
    s_compile_err("-ok", "column 1: '-' needs a number, got bool");
    s_compile_err("-device", "column 1: '-' needs a number, got string");
    s_compile_err("seq ? 1 : 2", "column 5: the condition must be bool, got int");
    s_compile_err("ok ? device : note", "column 4: cannot choose between strings");
    s_compile_err("ok ? ts : 1", "column 4: the two branches have different types: time and int");
    s_compile_err("if(seq, 1, 2)", "column 4: the condition must be bool, got int");
    s_compile_err("1 < 2 < 3", "column 7: comparisons do not chain; join them with '&&'");
    s_compile_err("ok < ok", "column 4: cannot compare bool with bool using '<'");
    s_compile_err("ts == 1.5", "column 4: cannot compare time with double using '=='");
    s_compile_err("device == 1", "column 8: cannot compare string with int using '=='");
    s_compile_err("ok == 1", "column 4: cannot compare bool with int using '=='");
    s_compile_err("sqrt(device)", "column 6: sqrt needs a number, got string");
    s_compile_err("abs(ts)", "column 5: abs needs a number, got time");
    s_compile_err("pow(2, ok)", "column 1: pow needs numbers, got int and bool");
    s_compile_err("max(ts, 1)", "column 1: max needs two numbers or two times, got time and int");
    s_compile_err("len(seq)", "column 5: len needs a string, got int");
    s_compile_err("int(device)", "column 5: int() cannot convert a string");
    s_compile_err("double(note)", "column 8: double() cannot convert a string");
    s_compile_err("contains(device, 1)", "column 18: contains needs strings, got int");
    s_compile_err("foo(1)", "column 1: unknown function 'foo' (functions: abs, min, max,");
    s_compile_err("max(1)", "column 1: max takes 2 arguments, got 1");
    s_compile_err("len()", "column 1: len takes 1 argument, got 0");
    s_compile_err("min(1,2,3,4,5,6,7,8,9)", "column 21: too many arguments");
    s_compile_err("abs(1, 2", "column 9: expected ',' or ')', found the end of the expression");
    s_compile_err("1 / 0", "column 3: integer division by zero");
    s_compile_err("seq % (2 - 2)", "column 5: integer division by zero");
    s_compile_err("'abc'", "column 1: a string result must be a bare field");
    s_compile_err("", "column 1: unexpected end of the expression");
    s_compile_err("   ", "column 4: unexpected end of the expression");
    s_compile_err("temp >", "column 7: unexpected end of the expression");
    s_compile_err("(temp > 3", "column 10: expected ')', found the end of the expression");
    s_compile_err("temp > 3)", "column 9: unexpected ')' after the expression");
    s_compile_err("temp > 3 4", "column 10: unexpected '4' after the expression");
    s_compile_err("ok ? 1 2", "column 8: expected ':' of '?:', found '2'");
    s_compile_err("temp = 3", "column 6: '=' is not an operator; did you mean '=='?");
    s_compile_err("ok & ok", "column 4: '&' is not an operator; did you mean '&&'?");
    s_compile_err("ok | ok", "column 4: '|' is not an operator; did you mean '||'?");
    s_compile_err("'abc", "column 1: unterminated string");
    s_compile_err("device == 'a\\qb'", "column 13: unknown escape '\\q'");
    s_compile_err("5parsecs", "column 1: unknown unit 'parsecs' after a number");
    s_compile_err("ts + 1.5s", "column 6: a duration must be a whole number");
    s_compile_err("99999999999999999999", "column 1: integer out of range");
    s_compile_err("9223372036854775808", "column 1: integer out of range");
    s_compile_err("106751991168d", "column 1: duration out of range");
    s_compile_err("1e999", "column 1: number out of range");
    s_compile_err("temp # 2", "column 6: unexpected character '#'");
    s_compile_err("temp \x01", "column 6: unexpected byte 0x01");
    s_compile_err("ok ? : 1", "column 6: unexpected ':'");
    s_compile_err("seq +* 2", "column 6: unexpected '*'");
    /* Messages stay on one line whatever the source holds. */
    s_compile_err("temp 'a\nb'", "column 6: unexpected ''a?b'' after the expression");
    s_compile_err("'a\\\n'", "column 3: unknown escape '\\?'");

    char deep[400];
    memset(deep, '(', 100);
    strcpy(deep + 100, "1");
    memset(deep + 101, ')', 100);
    deep[201] = 0;
    s_compile_err(deep, "column 65: expression nested too deeply (over 64 levels)");
    memset(deep, '-', 100);
    strcpy(deep + 100, "1");
    s_compile_err(deep, "column 64: expression nested too deeply");

    char *big = malloc(600 * 6 + 1);
    size_t at = 0;
    for (int i = 0; i < 600; i++)
        at += (size_t)sprintf(big + at, "%sseq", i ? " + " : "");
    s_compile_err(big, "column ");
    wr_schema_t sc = s_schema();
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_null(wr_expr_compile(big, &sc, &err));
    assert_non_null(strstr(err.buf, "expression too complex"));
    wr_strbuf_release(&err);
    free(big);

    /* No error buffer is fine; neither is a missing source an assert. */
    assert_null(wr_expr_compile("nope", &sc, NULL));
    wr_strbuf_init(&err);
    assert_null(wr_expr_compile(NULL, &sc, &err));
    assert_true(err.len > 0);
    wr_strbuf_release(&err);
}

static void test_fields_named_like_functions(void **state)
{
    (void)state;
    wr_schema_t s;
    wr_schema_init(&s);
    assert_int_equal(wr_schema_add(&s, "min", WR_T_INT), 0);
    assert_int_equal(wr_schema_add(&s, "len", WR_T_DOUBLE), 0);
    wr_batch_t *b = wr_batch_new(&s, 0);
    for (int i = 0; i < 5; i++) {
        wr_batch_i64(b, 0)[i] = i;
        wr_batch_f64(b, 1)[i] = i * 0.5;
        b->count++;
    }
    wr_expr_t *e = s_compile_ok("min(min, 2) + len", &s);
    double out[5];
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    for (int i = 0; i < 5; i++)
        assert_true(out[i] == (i < 2 ? i : 2) + i * 0.5);
    wr_expr_destroy(&e);
    wr_batch_destroy(&b);
}

static void test_batch_shape_checked(void **state)
{
    (void)state;
    wr_schema_t s = s_schema(), other;
    wr_expr_t *e = s_compile_ok("seq > 1", &s);
    wr_schema_init(&other);
    assert_int_equal(wr_schema_add(&other, "x", WR_T_INT), 0);
    wr_batch_t *b = wr_batch_new(&other, 0);
    b->count = 1;
    int64_t out[1];
    uint32_t sel[1], n;
    assert_int_equal(wr_expr_eval(e, b, out), WR_EINVAL); /* seq is field 4: not in this batch */
    assert_int_equal(wr_expr_select(e, b, sel, &n), WR_EINVAL);
    wr_batch_destroy(&b);
    /* Same position, other type. */
    wr_schema_t t = s;
    t.f[F_SEQ].type = WR_T_DOUBLE;
    b = wr_batch_new(&t, 0);
    b->count = 1;
    assert_int_equal(wr_expr_eval(e, b, out), WR_EINVAL);
    wr_batch_destroy(&b);
    /* An empty batch is fine. */
    b = wr_batch_new(&s, 0);
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    assert_int_equal(wr_expr_select(e, b, sel, &n), 0);
    assert_int_equal(n, 0);
    wr_batch_destroy(&b);
    wr_expr_destroy(&e);
}

static void test_in_place_map(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 1300);
    int64_t *seq = wr_batch_i64(b, F_SEQ);
    int64_t *want = malloc(1300 * sizeof *want);
    for (int i = 0; i < 1300; i++)
        want[i] = (int64_t)((uint64_t)seq[i] * 3);
    wr_expr_t *e = s_compile_ok("seq * 3", &s);
    assert_int_equal(wr_expr_eval(e, b, seq), 0);
    wr_expr_destroy(&e);
    e = s_compile_ok("seq", &s); /* a bare field into its own column: a no-op */
    assert_int_equal(wr_expr_eval(e, b, seq), 0);
    for (int i = 0; i < 1300; i++)
        assert_int_equal(seq[i], want[i]);
    wr_expr_destroy(&e);
    free(want);
    wr_batch_destroy(&b);
}

static bool s_same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, 8) == 0;
}

/* The core check: random typed expressions against the reference, over random batches. */
static void test_random_against_reference(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    const uint32_t sizes[] = {1, 7, 511, 512, 513, 1500};
    int64_t *out = malloc(1500 * 8);
    uint32_t *sel = malloc(1500 * 4);
    char src[8192];
    int compiled = 0, folded_div = 0, rounds = 4000;
    for (int round = 0; round < rounds; round++) {
        if (round % 50 == 0) s_fill(b, sizes[(round / 50) % 6]);
        s_pool_n = 0;
        static const int types[] = {WR_T_INT, WR_T_DOUBLE, WR_T_BOOL, WR_T_TIME, WR_T_BOOL};
        int type = types[round % 5];
        rnode *root = s_gen(type, 1 + round % 6);
        size_t at = 0;
        s_print(root, src, sizeof src, &at);
        assert_true(at < sizeof src);

        wr_strbuf_t err;
        wr_strbuf_init(&err);
        wr_expr_t *e = wr_expr_compile(src, &s, &err);
        if (!e) {
            /* A divisor that folds to a constant zero is refused at compile time. */
            if (!strstr(err.buf, "integer division by zero")) fail_msg("%s: %s", src, err.buf);
            folded_div++;
            wr_strbuf_release(&err);
            continue;
        }
        wr_strbuf_release(&err);
        compiled++;
        assert_int_equal(wr_expr_type(e), type);
        assert_int_equal(wr_expr_eval(e, b, out), 0);
        uint64_t dz = 0;
        uint32_t want_n = 0;
        for (uint32_t i = 0; i < b->count; i++) {
            rval v = s_ref(root, b, i, &dz);
            if (type == WR_T_DOUBLE) {
                double got;
                memcpy(&got, &out[i], 8);
                if (!s_same_double(got, v.f))
                    fail_msg("%s\n record %u: got %.17g, want %.17g", src, i, got, v.f);
            } else if (out[i] != v.i) {
                fail_msg("%s\n record %u: got %lld, want %lld", src, i, (long long)out[i],
                         (long long)v.i);
            }
            want_n += type == WR_T_BOOL && v.i;
        }
        if (wr_expr_div_zero(e) != dz)
            fail_msg("%s: %llu divisions by zero counted, want %llu", src,
                     (unsigned long long)wr_expr_div_zero(e), (unsigned long long)dz);
        if (type == WR_T_BOOL) {
            uint32_t n;
            assert_int_equal(wr_expr_select(e, b, sel, &n), 0);
            assert_int_equal(n, want_n);
            for (uint32_t k = 0; k < n; k++) {
                assert_true(out[sel[k]] == 1);
                if (k) assert_true(sel[k] > sel[k - 1]);
            }
        }
        wr_expr_destroy(&e);
    }
    print_message("random expressions: %d compiled and checked, %d refused (constant zero "
                  "divisor)\n",
                  compiled, folded_div);
    assert_true(compiled > rounds * 9 / 10);
    free(out);
    free(sel);
    wr_batch_destroy(&b);
}

/* Evaluation never allocates: the second (and first) pass over a large batch leaves the heap
 * exactly as it was, and gives the same answer. */
static void test_no_allocation_in_eval(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, 100000);
    wr_expr_t *e = s_compile_ok(
        "(temp > 10.0 && contains(device, 'dev')) || (seq % 7 == 3 ? hum < 0 : ts > ts - 1s)", &s);
    wr_expr_t *m = s_compile_ok("if(ok, temp * 1.8 + 32, sqrt(abs(hum))) + double(n / 3)", &s);
    int64_t *out1 = malloc(100000 * 8), *out2 = malloc(100000 * 8);
    uint32_t *sel = malloc(100000 * 4), n1, n2;
#if !defined(__SANITIZE_ADDRESS__)
    struct mallinfo2 before = mallinfo2();
#endif
    assert_int_equal(wr_expr_eval(e, b, out1), 0);
    assert_int_equal(wr_expr_select(e, b, sel, &n1), 0);
    assert_int_equal(wr_expr_eval(m, b, out1), 0);
    assert_int_equal(wr_expr_eval(m, b, out2), 0);
    assert_int_equal(wr_expr_select(e, b, sel, &n2), 0);
#if !defined(__SANITIZE_ADDRESS__)
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(before.uordblks, after.uordblks);
    assert_int_equal(before.hblkhd, after.hblkhd);
#endif
    assert_int_equal(n1, n2);
    assert_memory_equal(out1, out2, 100000 * 8);
    free(out1);
    free(out2);
    free(sel);
    wr_expr_destroy(&e);
    wr_expr_destroy(&m);
    wr_batch_destroy(&b);
}

static double s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Throughput, printed and never asserted (timings are not tests). */
static void test_throughput_report(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    enum { N = 1 << 20, BATCH = 4096 };
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_fill(b, N);
    struct {
        const char *what, *src;
        bool filter;
    } cases[] = {
        {"filter temp > 30.5", "temp > 30.5", true},
        {"filter seq >= 3 && ts > 1700000000000", "seq >= 3 && ts > 1700000000000", true},
        {"filter device == 'dev-1'", "device == 'dev-1'", true},
        {"map temp * 1.8 + 32", "temp * 1.8 + 32", false},
        {"map (ts - 1h) / 60000", "int(ts - 1h) / 60000", false},
    };
    int64_t *out = malloc((size_t)N * 8);
    uint32_t *sel = malloc((size_t)N * 4);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        wr_expr_t *e = s_compile_ok(cases[k].src, &s);
        /* Whole batches of BATCH records, as an operator sees them: a view into the big one. */
        wr_batch_t view = *b;
        double best = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = s_now();
            for (uint32_t start = 0; start < N; start += BATCH) {
                view.count = BATCH;
                for (uint32_t f = 0; f < s.n; f++)
                    view.col[f] = s.f[f].type == WR_T_STRING
                                      ? (void *)((uint32_t *)b->col[f] + start)
                                      : (void *)((int64_t *)b->col[f] + start);
                uint32_t n;
                if (cases[k].filter)
                    wr_expr_select(e, &view, sel + start, &n);
                else
                    wr_expr_eval(e, &view, out + start);
            }
            double dt = s_now() - t0;
            if (dt < best) best = dt;
        }
        print_message("%-42s %8.1f M records/s\n", cases[k].what, N / best / 1e6);
        wr_expr_destroy(&e);
    }
    free(out);
    free(sel);
    wr_batch_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_and_map),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_time_arithmetic),
        cmocka_unit_test(test_string_comparisons),
        cmocka_unit_test(test_division_by_zero),
        cmocka_unit_test(test_errors_name_the_column),
        cmocka_unit_test(test_fields_named_like_functions),
        cmocka_unit_test(test_batch_shape_checked),
        cmocka_unit_test(test_in_place_map),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_no_allocation_in_eval),
        cmocka_unit_test(test_throughput_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
