/* The expression lexer and recursive-descent parser. Types are checked as each node is built,
 * conversions (int to double) are made explicit nodes, and constant subtrees are folded, so the
 * evaluator only ever sees well-typed trees. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/expr/expr_internal.h"
#include "bus/base/error.h"

enum { T_END = 256, T_INT, T_DBL, T_STR, T_IDENT, T_EQ, T_NE, T_LE, T_GE, T_AND, T_OR, T_ERR };

typedef struct {
    int kind;        /* T_* or the character of a one-character operator */
    int col;         /* 1-based */
    const char *txt; /* the token's source text */
    uint32_t len;
    int64_t i;     /* T_INT */
    double f;      /* T_DBL */
    uint32_t str;  /* T_STR: unescaped bytes at e->strs + str */
    uint32_t slen; /* T_STR */
} s_tok;

typedef struct {
    wr_expr_t *e;
    const wr_schema_t *schema;
    wr_strbuf_t *err;
    const char *src;
    size_t pos;
    s_tok t;
    int depth;
    bool failed;
} s_parser;

#define S_MAX_ARGS 8

/* clang-format off */
enum { F_ABS, F_MIN, F_MAX, F_FLOOR, F_CEIL, F_ROUND, F_SQRT, F_POW, F_LOG, F_EXP, F_IF, F_LEN,
       F_HASH, F_INT, F_DOUBLE, F_STARTS, F_CONTAINS, F_N };
static const struct {
    const char *name;
    int nargs;
} s_funcs[F_N] = {
    [F_ABS] = {"abs", 1},   [F_MIN] = {"min", 2},      [F_MAX] = {"max", 2},
    [F_FLOOR] = {"floor", 1}, [F_CEIL] = {"ceil", 1},  [F_ROUND] = {"round", 1},
    [F_SQRT] = {"sqrt", 1}, [F_POW] = {"pow", 2},      [F_LOG] = {"log", 1},
    [F_EXP] = {"exp", 1},   [F_IF] = {"if", 3},        [F_LEN] = {"len", 1},
    [F_HASH] = {"hash", 1}, [F_INT] = {"int", 1},      [F_DOUBLE] = {"double", 1},
    [F_STARTS] = {"starts_with", 2}, [F_CONTAINS] = {"contains", 2},
};
/* clang-format on */

static int s_fail(s_parser *p, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int s_fail(s_parser *p, int col, const char *fmt, ...)
{
    if (p->failed) return -1;
    p->failed = true;
    if (!p->err) return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wr_strbuf_addf(p->err, "column %d: %s", col, msg);
    return -1;
}

static const char *s_tname(int t)
{
    return wr_type_name((enum wr_type)t);
}

/* ---- lexer ---- */

static bool s_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool s_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Appends one byte to the literal pool; c < 0 only makes sure the pool exists, so that even an
 * empty literal points into real memory. */
static int s_str_add(s_parser *p, int c)
{
    wr_expr_t *e = p->e;
    if (e->strs_len == e->strs_cap) {
        if (e->strs_cap > UINT32_MAX / 2) return -1;
        uint32_t cap = e->strs_cap ? e->strs_cap * 2 : 64;
        char *s = realloc(e->strs, cap);
        if (!s) return -1;
        e->strs = s;
        e->strs_cap = cap;
    }
    if (c >= 0) e->strs[e->strs_len++] = (char)c;
    return 0;
}

static void s_lex_string(s_parser *p, s_tok *t)
{
    const char *s = p->src;
    char q = s[p->pos++];
    t->kind = T_STR;
    t->str = p->e->strs_len;
    if (s_str_add(p, -1) != 0) {
        s_fail(p, t->col, "out of memory");
        return;
    }
    for (;;) {
        char c = s[p->pos];
        if (c == 0) {
            s_fail(p, t->col, "unterminated string");
            return;
        }
        p->pos++;
        if (c == q) break;
        if (c == '\\') {
            char x = s[p->pos];
            const char *from = "\\\"'ntr0", *to = "\\\"'\n\t\r";
            const char *k = x ? strchr(from, x) : NULL;
            if (!k) {
                s_fail(p, (int)p->pos, "unknown escape '\\%c' (use \\\\ \\\" \\' \\n \\t \\r \\0)",
                       x > ' ' && x < 127 ? x : '?');
                return;
            }
            c = to[k - from]; /* "\0" maps to the terminating NUL */
            p->pos++;
        }
        if (s_str_add(p, (unsigned char)c) != 0) {
            s_fail(p, t->col, "out of memory");
            return;
        }
    }
    t->slen = p->e->strs_len - t->str;
}

static void s_lex_number(s_parser *p, s_tok *t)
{
    const char *s = p->src, *start = s + p->pos;
    size_t i = p->pos;
    bool dbl = false;
    while (s_digit(s[i]))
        i++;
    if (s[i] == '.') {
        dbl = true;
        for (i++; s_digit(s[i]);)
            i++;
    }
    if ((s[i] == 'e' || s[i] == 'E') &&
        (s_digit(s[i + 1]) || ((s[i + 1] == '+' || s[i + 1] == '-') && s_digit(s[i + 2])))) {
        dbl = true;
        for (i += 2; s_digit(s[i]);)
            i++;
    }
    size_t nlen = i - p->pos;
    size_t u = i;
    while (s_alpha(s[u]) || s_digit(s[u]))
        u++;
    p->pos = u;
    t->len = (uint32_t)(u - (size_t)(start - s));
    if (dbl) {
        char buf[64];
        if (nlen >= sizeof buf) {
            s_fail(p, t->col, "number too long");
            return;
        }
        memcpy(buf, start, nlen);
        buf[nlen] = 0;
        t->kind = T_DBL;
        t->f = strtod(buf, NULL);
        if (isinf(t->f)) s_fail(p, t->col, "number out of range: %s", buf);
        if (u > i) s_fail(p, t->col, "a duration must be a whole number (write 1500ms, not 1.5s)");
        return;
    }
    uint64_t v = 0;
    for (const char *d = start; d < s + i; d++) {
        if (v > (uint64_t)(INT64_MAX - (*d - '0')) / 10) {
            s_fail(p, t->col, "integer out of range: %.*s", (int)nlen, start);
            return;
        }
        v = v * 10 + (uint64_t)(*d - '0');
    }
    t->kind = T_INT;
    t->i = (int64_t)v;
    if (u == i) return;
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (strlen(units[k].unit) == u - i && memcmp(s + i, units[k].unit, u - i) == 0) {
            if (t->i > INT64_MAX / units[k].ms) {
                s_fail(p, t->col, "duration out of range: %.*s", (int)t->len, start);
                return;
            }
            t->i *= units[k].ms;
            return;
        }
    }
    s_fail(p, t->col, "unknown unit '%.*s' after a number (durations: ms, s, min, h, d)",
           (int)(u - i), s + i);
}

static void s_next(s_parser *p)
{
    const char *s = p->src;
    while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
        p->pos++;
    s_tok *t = &p->t;
    memset(t, 0, sizeof *t);
    t->col = (int)p->pos + 1;
    t->txt = s + p->pos;
    t->len = 1;
    char c = s[p->pos], d = c ? s[p->pos + 1] : 0;
    if (p->failed) {
        t->kind = T_ERR;
    } else if (c == 0) {
        t->kind = T_END;
        t->len = 0;
    } else if (s_digit(c) || (c == '.' && s_digit(d))) {
        s_lex_number(p, t);
    } else if (c == '"' || c == '\'') {
        s_lex_string(p, t);
        t->len = (uint32_t)(s + p->pos - t->txt);
    } else if (s_alpha(c)) {
        size_t i = p->pos;
        while (s_alpha(s[i]) || s_digit(s[i]))
            i++;
        t->kind = T_IDENT;
        t->len = (uint32_t)(i - p->pos);
        p->pos = i;
    } else {
        static const struct {
            char a, b;
            int kind;
        } two[] = {{'=', '=', T_EQ}, {'!', '=', T_NE},  {'<', '=', T_LE},
                   {'>', '=', T_GE}, {'&', '&', T_AND}, {'|', '|', T_OR}};
        for (size_t k = 0; k < sizeof two / sizeof two[0]; k++) {
            if (c == two[k].a && d == two[k].b) {
                t->kind = two[k].kind;
                t->len = 2;
                p->pos += 2;
                goto done;
            }
        }
        if (c && strchr("<>+-*/%!(),?:", c)) {
            t->kind = c;
            p->pos++;
        } else if (c == '=' || c == '&' || c == '|') {
            s_fail(p, t->col, "'%c' is not an operator; did you mean '%c%c'?", c, c, c);
        } else if (c > ' ' && c < 127) {
            s_fail(p, t->col, "unexpected character '%c'", c);
        } else {
            s_fail(p, t->col, "unexpected byte 0x%02x", (unsigned char)c);
        }
    }
done:
    if (p->failed) t->kind = T_ERR;
}

/* "'x'" for a token (control bytes shown as '?', so a message stays one line), or "the end of
 * the expression". */
static const char *s_tok_desc(const s_tok *t, char *buf, size_t cap)
{
    if (t->kind == T_END) return "the end of the expression";
    uint32_t n = t->len > 24 ? 24 : t->len;
    size_t at = 0;
    buf[at++] = '\'';
    for (uint32_t i = 0; i < n && at + 3 < cap; i++) {
        unsigned char c = (unsigned char)t->txt[i];
        buf[at++] = c < ' ' || c == 127 ? '?' : (char)c;
    }
    buf[at++] = '\'';
    buf[at] = 0;
    return buf;
}

static int s_unexpected(s_parser *p, const char *wanted)
{
    char b[40];
    if (wanted)
        return s_fail(p, p->t.col, "expected %s, found %s", wanted, s_tok_desc(&p->t, b, 40));
    if (p->t.kind == T_END) return s_fail(p, p->t.col, "unexpected end of the expression");
    return s_fail(p, p->t.col, "unexpected %s", s_tok_desc(&p->t, b, sizeof b));
}

/* ---- nodes ---- */

static int32_t s_node(s_parser *p, int op, int type, int col, int32_t a, int32_t b, int32_t c)
{
    wr_expr_t *e = p->e;
    if (p->failed || (a < -1) || (b < -1) || (c < -1)) return -1;
    if (e->n_nodes >= WR__EXPR_MAX_NODES)
        return s_fail(p, col, "expression too complex (over %d operations)", WR__EXPR_MAX_NODES);
    if (e->n_nodes == e->cap_nodes) {
        uint32_t cap = e->cap_nodes ? e->cap_nodes * 2 : 16;
        wr__node_t *n = realloc(e->nodes, cap * sizeof *n);
        if (!n) return s_fail(p, col, "out of memory");
        e->nodes = n;
        e->cap_nodes = cap;
    }
    wr__node_t *n = &e->nodes[e->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->type = (uint8_t)type;
    n->col = col;
    n->arg[0] = a, n->arg[1] = b, n->arg[2] = c;
    n->field = n->kbuf = -1;
    return (int32_t)e->n_nodes++;
}

static wr__node_t *s_n(s_parser *p, int32_t i)
{
    return &p->e->nodes[i];
}

static bool s_const(s_parser *p, int32_t i)
{
    return i >= 0 && (s_n(p, i)->op == WR__CONST || s_n(p, i)->op == WR__STR);
}

static int32_t s_const_i(s_parser *p, int type, int col, int64_t v)
{
    int32_t n = s_node(p, WR__CONST, type, col, -1, -1, -1);
    if (n >= 0) s_n(p, n)->k.i = v;
    return n;
}

/* An inner node, folded to a constant when every argument is one. */
static int32_t s_op(s_parser *p, int op, int type, int col, int32_t a, int32_t b, int32_t c)
{
    int32_t n = s_node(p, op, type, col, a, b, c);
    if (n < 0) return -1;
    if (s_const(p, a) && (b < 0 || s_const(p, b)) && (c < 0 || s_const(p, c)))
        wr__expr_fold(p->e, n);
    return n;
}

static int s_type(s_parser *p, int32_t n)
{
    return s_n(p, n)->type;
}

static bool s_num(int t)
{
    return t == WR_T_INT || t == WR_T_DOUBLE;
}

static int32_t s_to_double(s_parser *p, int32_t n)
{
    if (n < 0 || s_type(p, n) == WR_T_DOUBLE) return n;
    return s_op(p, WR__I2F, WR_T_DOUBLE, s_n(p, n)->col, n, -1, -1);
}

/* ---- typing of each construct ---- */

static int32_t s_arith(s_parser *p, int tok, int col, int32_t l, int32_t r)
{
    if (l < 0 || r < 0) return -1;
    int tl = s_type(p, l), tr = s_type(p, r);
    static const char ops[] = "+-*/%";
    int k = (int)(strchr(ops, tok) - ops);
    if (tl == WR_T_INT && tr == WR_T_INT) {
        if (tok == '/' || tok == '%') {
            wr__node_t *d = s_n(p, r);
            if (d->op == WR__CONST && d->k.i == 0)
                return s_fail(p, col, "integer division by zero");
        }
        return s_op(p, WR__ADD_I + k, WR_T_INT, col, l, r, -1);
    }
    if (s_num(tl) && s_num(tr)) {
        l = s_to_double(p, l);
        r = s_to_double(p, r);
        return s_op(p, WR__ADD_F + k, WR_T_DOUBLE, col, l, r, -1);
    }
    if (tok == '+' && ((tl == WR_T_TIME && tr == WR_T_INT) || (tl == WR_T_INT && tr == WR_T_TIME)))
        return s_op(p, WR__ADD_I, WR_T_TIME, col, l, r, -1);
    if (tok == '-' && tl == WR_T_TIME && (tr == WR_T_INT || tr == WR_T_TIME))
        return s_op(p, WR__SUB_I, tr == WR_T_INT ? WR_T_TIME : WR_T_INT, col, l, r, -1);
    if (tl == WR_T_TIME || tr == WR_T_TIME)
        return s_fail(p, col,
                      "cannot apply '%c' to %s and %s (time takes + and - of an int number of "
                      "ms, such as ts + 5min, and time - time gives ms)",
                      tok, s_tname(tl), s_tname(tr));
    return s_fail(p, col, "cannot apply '%c' to %s and %s (it needs numbers)", tok, s_tname(tl),
                  s_tname(tr));
}

static int32_t s_compare(s_parser *p, int tok, int col, int32_t l, int32_t r)
{
    if (l < 0 || r < 0) return -1;
    static const int toks[] = {T_EQ, T_NE, '<', T_LE, '>', T_GE};
    static const char *const names[] = {"==", "!=", "<", "<=", ">", ">="};
    int k = 0;
    while (toks[k] != tok)
        k++;
    int tl = s_type(p, l), tr = s_type(p, r);
    bool timeish = (tl == WR_T_TIME || tl == WR_T_INT) && (tr == WR_T_TIME || tr == WR_T_INT);
    if (tl == WR_T_STRING && tr == WR_T_STRING)
        return s_op(p, WR__EQ_S + k, WR_T_BOOL, col, l, r, -1);
    if (s_num(tl) && s_num(tr) && (tl == WR_T_DOUBLE || tr == WR_T_DOUBLE)) {
        l = s_to_double(p, l);
        r = s_to_double(p, r);
        return s_op(p, WR__EQ_F + k, WR_T_BOOL, col, l, r, -1);
    }
    if (timeish || (tl == WR_T_BOOL && tr == WR_T_BOOL && k < 2))
        return s_op(p, WR__EQ_I + k, WR_T_BOOL, col, l, r, -1);
    return s_fail(p, col, "cannot compare %s with %s using '%s'", s_tname(tl), s_tname(tr),
                  names[k]);
}

static int32_t s_logic(s_parser *p, int op, int col, int32_t l, int32_t r)
{
    if (l < 0 || r < 0) return -1;
    const char *name = op == WR__AND ? "&&" : "||";
    if (s_type(p, l) != WR_T_BOOL || s_type(p, r) != WR_T_BOOL)
        return s_fail(p, col, "'%s' needs bool operands, got %s and %s", name,
                      s_tname(s_type(p, l)), s_tname(s_type(p, r)));
    if (s_const(p, l)) { /* true && x is x, false && x is false; || likewise */
        bool v = s_n(p, l)->k.i != 0;
        return (op == WR__AND) == v ? r : l;
    }
    return s_node(p, op, WR_T_BOOL, col, l, r, -1);
}

static int32_t s_cond(s_parser *p, int col, int32_t c, int32_t a, int32_t b)
{
    if (c < 0 || a < 0 || b < 0) return -1;
    int tc = s_type(p, c), ta = s_type(p, a), tb = s_type(p, b);
    if (tc != WR_T_BOOL) return s_fail(p, col, "the condition must be bool, got %s", s_tname(tc));
    if (ta == WR_T_STRING || tb == WR_T_STRING)
        return s_fail(p, col,
                      "cannot choose between strings (strings can be compared, not "
                      "computed)");
    int t = ta;
    if (ta != tb) {
        if (!s_num(ta) || !s_num(tb))
            return s_fail(p, col, "the two branches have different types: %s and %s", s_tname(ta),
                          s_tname(tb));
        t = WR_T_DOUBLE;
        a = s_to_double(p, a);
        b = s_to_double(p, b);
        if (a < 0 || b < 0) return -1;
    }
    if (s_const(p, c)) return s_n(p, c)->k.i ? a : b;
    return s_node(p, WR__COND, t, col, c, a, b);
}

static int32_t s_field(s_parser *p, const char *name, uint32_t len, int col)
{
    char buf[WR_FIELD_NAME_MAX];
    int f = -1;
    if (len < sizeof buf) {
        memcpy(buf, name, len);
        buf[len] = 0;
        f = wr_schema_find(p->schema, buf);
    }
    if (f < 0) {
        char list[160];
        size_t at = 0;
        list[0] = 0;
        for (uint32_t i = 0; i < p->schema->n; i++) {
            int w =
                snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", p->schema->f[i].name);
            if (w < 0 || (size_t)w >= sizeof list - at - 5) {
                snprintf(list + at, sizeof list - at, ", ...");
                break;
            }
            at += (size_t)w;
        }
        return s_fail(p, col, "unknown field '%.*s' (fields: %s)", (int)(len > 40 ? 40 : len), name,
                      p->schema->n ? list : "none");
    }
    wr_expr_t *e = p->e;
    uint32_t k = 0;
    while (k < e->n_refs && e->ref_field[k] != f)
        k++;
    if (k == e->n_refs) {
        e->ref_field[k] = (uint8_t)f;
        e->ref_type[k] = (uint8_t)p->schema->f[f].type;
        e->n_refs++;
    }
    int32_t n = s_node(p, WR__FIELD, p->schema->f[f].type, col, -1, -1, -1);
    if (n >= 0) s_n(p, n)->field = f;
    return n;
}

/* A function call; the current token is its '('. */
static int32_t s_call(s_parser *p, const char *name, uint32_t len, int col);

/* ---- grammar ---- */

static int32_t s_expr(s_parser *p);

static bool s_enter(s_parser *p)
{
    if (++p->depth <= WR__EXPR_MAX_DEPTH) return true;
    s_fail(p, p->t.col, "expression nested too deeply (over %d levels)", WR__EXPR_MAX_DEPTH);
    return false;
}

static int32_t s_primary(s_parser *p)
{
    s_tok t = p->t;
    int32_t n;
    switch (t.kind) {
    case T_INT:
        s_next(p);
        return s_const_i(p, WR_T_INT, t.col, t.i);
    case T_DBL:
        s_next(p);
        n = s_node(p, WR__CONST, WR_T_DOUBLE, t.col, -1, -1, -1);
        if (n >= 0) s_n(p, n)->k.f = t.f;
        return n;
    case T_STR:
        s_next(p);
        n = s_node(p, WR__STR, WR_T_STRING, t.col, -1, -1, -1);
        if (n >= 0) {
            s_n(p, n)->str = t.str;
            s_n(p, n)->lit[1] = t.slen;
        }
        return n;
    case T_IDENT:
        s_next(p);
        if (p->t.kind == '(') return s_call(p, t.txt, t.len, t.col);
        if (t.len == 4 && memcmp(t.txt, "true", 4) == 0) return s_const_i(p, WR_T_BOOL, t.col, 1);
        if (t.len == 5 && memcmp(t.txt, "false", 5) == 0) return s_const_i(p, WR_T_BOOL, t.col, 0);
        return s_field(p, t.txt, t.len, t.col);
    case '(': /* s_expr counts the level */
        s_next(p);
        n = s_expr(p);
        if (n >= 0 && p->t.kind != ')') return s_unexpected(p, "')'");
        s_next(p);
        return n;
    case T_ERR:
        return -1;
    default:
        return s_unexpected(p, NULL);
    }
}

static int32_t s_cmp(s_parser *p);

/* not := '!' not | cmp, unary := '-' unary | primary */
static int32_t s_prefix(s_parser *p, bool is_not)
{
    if (p->t.kind != (is_not ? '!' : '-')) return is_not ? s_cmp(p) : s_primary(p);
    int col = p->t.col;
    if (!s_enter(p)) return -1;
    s_next(p);
    int32_t x = s_prefix(p, is_not);
    p->depth--;
    if (x < 0) return -1;
    int t = s_type(p, x);
    if (is_not && t != WR_T_BOOL) return s_fail(p, col, "'!' needs a bool, got %s", s_tname(t));
    if (!is_not && !s_num(t)) return s_fail(p, col, "'-' needs a number, got %s", s_tname(t));
    int op = is_not ? WR__NOT : t == WR_T_INT ? WR__NEG_I : WR__NEG_F;
    return s_op(p, op, t, col, x, -1, -1);
}

/* sum := product (('+'|'-') product)*, product := unary (('*'|'/'|'%') unary)* */
static int32_t s_arith_level(s_parser *p, bool sum)
{
    const char *ops = sum ? "+-" : "*/%";
    int32_t l = sum ? s_arith_level(p, false) : s_prefix(p, false);
    while (l >= 0 && p->t.kind < 128 && p->t.kind > 0 && strchr(ops, p->t.kind)) {
        s_tok op = p->t;
        s_next(p);
        l = s_arith(p, op.kind, op.col, l, sum ? s_arith_level(p, false) : s_prefix(p, false));
    }
    return l;
}

static bool s_is_cmp(int k)
{
    return k == T_EQ || k == T_NE || k == '<' || k == T_LE || k == '>' || k == T_GE;
}

static int32_t s_cmp(s_parser *p)
{
    int32_t l = s_arith_level(p, true);
    if (l < 0 || !s_is_cmp(p->t.kind)) return l;
    s_tok op = p->t;
    s_next(p);
    l = s_compare(p, op.kind, op.col, l, s_arith_level(p, true));
    if (l >= 0 && s_is_cmp(p->t.kind))
        return s_fail(p, p->t.col, "comparisons do not chain; join them with '&&'");
    return l;
}

/* or := and ('||' and)*, and := not ('&&' not)* */
static int32_t s_logic_level(s_parser *p, bool is_or)
{
    int tok = is_or ? T_OR : T_AND;
    int32_t l = is_or ? s_logic_level(p, false) : s_prefix(p, true);
    while (l >= 0 && p->t.kind == tok) {
        int col = p->t.col;
        s_next(p);
        int32_t r = is_or ? s_logic_level(p, false) : s_prefix(p, true);
        l = s_logic(p, is_or ? WR__OR : WR__AND, col, l, r);
    }
    return l;
}

static int32_t s_expr(s_parser *p)
{
    if (!s_enter(p)) return -1;
    int32_t c = s_logic_level(p, true);
    if (c >= 0 && p->t.kind == '?') {
        int col = p->t.col;
        s_next(p);
        int32_t a = s_expr(p);
        if (a >= 0 && p->t.kind != ':') return s_unexpected(p, "':' of '?:'");
        s_next(p);
        int32_t b = s_expr(p);
        c = s_cond(p, col, c, a, b);
    }
    p->depth--;
    return p->failed ? -1 : c;
}

/* ---- functions ---- */

static int32_t s_func(s_parser *p, int f, int col, const int32_t *a, const int *acol)
{
    const char *name = s_funcs[f].name;
    int t0 = s_type(p, a[0]), t1 = f == F_MIN || f == F_MAX || f == F_POW ? s_type(p, a[1]) : 0;
    switch (f) {
    case F_ABS:
        if (!s_num(t0)) break;
        return s_op(p, t0 == WR_T_INT ? WR__ABS_I : WR__ABS_F, t0, col, a[0], -1, -1);
    case F_MIN:
    case F_MAX:
        if (t0 == t1 && (t0 == WR_T_INT || t0 == WR_T_TIME))
            return s_op(p, f == F_MIN ? WR__MIN_I : WR__MAX_I, t0, col, a[0], a[1], -1);
        if (!s_num(t0) || !s_num(t1))
            return s_fail(p, col, "%s needs two numbers or two times, got %s and %s", name,
                          s_tname(t0), s_tname(t1));
        return s_op(p, f == F_MIN ? WR__MIN_F : WR__MAX_F, WR_T_DOUBLE, col, s_to_double(p, a[0]),
                    s_to_double(p, a[1]), -1);
    case F_FLOOR:
    case F_CEIL:
    case F_ROUND:
        if (!s_num(t0)) break;
        if (t0 == WR_T_INT) return a[0];
        return s_op(p, WR__FLOOR + (f - F_FLOOR), WR_T_DOUBLE, col, a[0], -1, -1);
    case F_SQRT:
    case F_LOG:
    case F_EXP:
        if (!s_num(t0)) break;
        return s_op(p,
                    f == F_SQRT  ? WR__SQRT
                    : f == F_LOG ? WR__LOG
                                 : WR__EXP,
                    WR_T_DOUBLE, col, s_to_double(p, a[0]), -1, -1);
    case F_POW:
        if (!s_num(t0) || !s_num(t1))
            return s_fail(p, col, "pow needs numbers, got %s and %s", s_tname(t0), s_tname(t1));
        return s_op(p, WR__POW, WR_T_DOUBLE, col, s_to_double(p, a[0]), s_to_double(p, a[1]), -1);
    case F_IF:
        return s_cond(p, acol[0], a[0], a[1], a[2]);
    case F_LEN:
        if (t0 != WR_T_STRING) return s_fail(p, acol[0], "len needs a string, got %s", s_tname(t0));
        return s_op(p, WR__LEN, WR_T_INT, col, a[0], -1, -1);
    case F_HASH: {
        int op = t0 == WR_T_STRING ? WR__HASH_S : t0 == WR_T_DOUBLE ? WR__HASH_F : WR__HASH_I;
        return s_op(p, op, WR_T_INT, col, a[0], -1, -1);
    }
    case F_INT:
        if (t0 == WR_T_STRING) return s_fail(p, acol[0], "int() cannot convert a string");
        if (t0 == WR_T_DOUBLE) return s_op(p, WR__F2I, WR_T_INT, col, a[0], -1, -1);
        s_n(p, a[0])->type = WR_T_INT; /* bool and time are int64 already: only the type changes */
        return a[0];
    case F_DOUBLE:
        if (t0 == WR_T_STRING) return s_fail(p, acol[0], "double() cannot convert a string");
        return s_to_double(p, a[0]);
    case F_STARTS:
    case F_CONTAINS:
        for (int k = 0; k < 2; k++)
            if (s_type(p, a[k]) != WR_T_STRING)
                return s_fail(p, acol[k], "%s needs strings, got %s",
                              f == F_STARTS ? "starts_with" : "contains", s_tname(s_type(p, a[k])));
        return s_op(p, f == F_STARTS ? WR__STARTS : WR__CONTAINS, WR_T_BOOL, col, a[0], a[1], -1);
    }
    return s_fail(p, acol[0], "%s needs a number, got %s", name, s_tname(t0));
}

static int32_t s_call(s_parser *p, const char *name, uint32_t len, int col)
{
    int f = 0;
    while (f < F_N && !(strlen(s_funcs[f].name) == len && memcmp(s_funcs[f].name, name, len) == 0))
        f++;
    if (f == F_N) {
        char list[256];
        size_t at = 0;
        for (int k = 0; k < F_N; k++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "",
                                   s_funcs[k].name);
        return s_fail(p, col, "unknown function '%.*s' (functions: %s)", (int)(len > 40 ? 40 : len),
                      name, list);
    }
    if (!s_enter(p)) return -1;
    s_next(p); /* the '(' */
    int32_t a[S_MAX_ARGS];
    int acol[S_MAX_ARGS], n = 0;
    if (p->t.kind != ')') {
        for (;;) {
            if (n == S_MAX_ARGS) return s_fail(p, p->t.col, "too many arguments");
            acol[n] = p->t.col;
            if ((a[n++] = s_expr(p)) < 0) return -1;
            if (p->t.kind == ')') break;
            if (p->t.kind != ',') return s_unexpected(p, "',' or ')'");
            s_next(p);
        }
    }
    p->depth--;
    s_next(p); /* the ')' */
    if (n != s_funcs[f].nargs)
        return s_fail(p, col, "%s takes %d argument%s, got %d", s_funcs[f].name, s_funcs[f].nargs,
                      s_funcs[f].nargs == 1 ? "" : "s", n);
    return s_func(p, f, col, a, acol);
}

int wr__expr_parse(wr_expr_t *e, const char *src, const wr_schema_t *schema, wr_strbuf_t *err)
{
    s_parser p = {.e = e, .schema = schema, .err = err, .src = src};
    s_next(&p);
    int32_t root = s_expr(&p);
    if (root >= 0 && p.t.kind != T_END) {
        char b[40];
        s_fail(&p, p.t.col, "unexpected %s after the expression", s_tok_desc(&p.t, b, sizeof b));
    }
    if (!p.failed && e->nodes[root].type == WR_T_STRING && e->nodes[root].op != WR__FIELD)
        s_fail(&p, e->nodes[root].col,
               "a string result must be a bare field (strings can be compared, not computed)");
    if (p.failed) return -1;
    e->root = root;
    return 0;
}
