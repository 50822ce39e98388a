/* Internals of wr_expr shared by its parser (expr_parse.c), evaluator (expr_eval.c) and glue
 * (expr.c). Not for other modules.
 *
 * A compiled expression is a typed tree of nodes in one array (children by index; every node has
 * one parent). Evaluation walks the tree once per chunk of WR__EXPR_CHUNK records: a leaf yields
 * a pointer to values (a batch column, or a constant pre-spread over a chunk), an inner node runs
 * one kernel over the chunk into its scratch column. Scratch is indexed by the node's level
 * (parent level + 1 + argument position), so siblings never share one and the whole working set
 * is levels x chunk, allocated at compile time: evaluation never allocates. &&, || and ?:
 * evaluate their right side only on the records that need it (a selection vector), so guarded
 * divisions are neither computed nor counted. */
#ifndef WR_EXPR_INTERNAL_H
#define WR_EXPR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/expr/expr.h"

#define WR__EXPR_CHUNK     512 /* records per evaluation step; a column of it is 4 KiB */
#define WR__EXPR_MAX_NODES 512 /* "expression too complex" beyond */
#define WR__EXPR_MAX_DEPTH 64  /* parser nesting: parentheses, calls, prefix operators */

/* The parser computes some ops by offset, so these runs keep their order: ADD SUB MUL DIV MOD,
 * EQ NE LT LE GT GE, FLOOR CEIL ROUND. */
/* clang-format off */
enum wr__op {
    /* leaves */
    WR__FIELD, WR__CONST, WR__STR,
    /* one argument */
    WR__NEG_I, WR__NEG_F, WR__NOT, WR__I2F, WR__F2I, WR__ABS_I, WR__ABS_F, WR__FLOOR, WR__CEIL,
    WR__ROUND, WR__SQRT, WR__LOG, WR__EXP, WR__HASH_I, WR__HASH_F, WR__HASH_S, WR__LEN,
    /* two arguments, 8-byte columns */
    WR__ADD_I, WR__SUB_I, WR__MUL_I, WR__DIV_I, WR__MOD_I,
    WR__ADD_F, WR__SUB_F, WR__MUL_F, WR__DIV_F, WR__MOD_F, WR__POW,
    WR__MIN_I, WR__MAX_I, WR__MIN_F, WR__MAX_F,
    WR__EQ_I, WR__NE_I, WR__LT_I, WR__LE_I, WR__GT_I, WR__GE_I,
    WR__EQ_F, WR__NE_F, WR__LT_F, WR__LE_F, WR__GT_F, WR__GE_F,
    /* two string arguments */
    WR__EQ_S, WR__NE_S, WR__LT_S, WR__LE_S, WR__GT_S, WR__GE_S, WR__STARTS, WR__CONTAINS,
    /* evaluated lazily */
    WR__AND, WR__OR, WR__COND,
    WR__N_OPS
};
/* clang-format on */

typedef struct {
    uint8_t op;     /* enum wr__op */
    uint8_t type;   /* enum wr_type of the result */
    uint16_t level; /* inner nodes: scratch column index */
    int32_t arg[3]; /* children, -1 when absent */
    int32_t col;    /* 1-based source column, for messages */
    int32_t field;  /* WR__FIELD: schema index */
    int32_t kbuf;   /* WR__CONST: index of its spread chunk */
    union {
        int64_t i;
        double f;
    } k;             /* WR__CONST */
    uint32_t lit[2]; /* WR__STR: {0, length}, an offset pair like a string column's */
    uint32_t str;    /* WR__STR: where its bytes start in e->strs */
} wr__node_t;

struct wr_expr {
    wr__node_t *nodes;
    uint32_t n_nodes, cap_nodes;
    int32_t root;
    char *strs; /* string literal bytes */
    uint32_t strs_len, strs_cap;
    /* fields read, with the type the schema gave them: checked against each batch */
    uint32_t n_refs;
    uint8_t ref_field[WR_SCHEMA_MAX_FIELDS], ref_type[WR_SCHEMA_MAX_FIELDS];
    /* evaluation memory, sized by wr__expr_prepare */
    uint32_t n_levels, n_consts;
    int64_t *scratch; /* n_levels x CHUNK values (int64_t or double) */
    uint32_t *sel;    /* n_levels x 2 x CHUNK selection vectors */
    int64_t *consts;  /* n_consts x CHUNK: each constant spread over a chunk */
    uint64_t div_zero;
};

/* Parses src into e's nodes (type-checked, constants folded) and sets e->root. 0, or -1 with one
 * "column N: ..." line appended to err (when not NULL). */
int wr__expr_parse(wr_expr_t *e, const char *src, const wr_schema_t *schema, wr_strbuf_t *err);
/* Turns inner node n, whose arguments are all constants (WR__CONST or WR__STR), into the
 * WR__CONST of its value, computed by the same kernels as at run time. Not for &&, || and ?:. */
void wr__expr_fold(wr_expr_t *e, int32_t n);

#endif
