/* The reference of wr_expr (test_expr_reference.c): random well-typed expressions as an AST, their
 * text in the expression language, and a per-record interpreter written for clarity, not speed,
 * from the semantics expr.h promises (wrapping int arithmetic, an int division by zero giving 0
 * and counted, int(x) saturating, comparisons with NaN false but !=, lazy && || ? and if()).
 * xr_ is for "expression reference". Expressions are over the fields of
 * tests/support/expr_fixture.h:
 *
 *     xf_rng_t rng = XF_RNG_INIT;
 *     xr_gen_t *g = xr_gen_new(&rng);
 *     const xr_node_t *root = xr_random(g, WR_T_BOOL, 4);
 *     char src[8192];
 *     xr_print(root, src, sizeof src);               // compile src, evaluate it over a batch
 *     xr_val_t want = xr_eval(root, batch, row, &div_zero);
 *     xr_gen_destroy(&g);
 *
 * Failures (a pool overflow, an unknown operator) fail the test (cmocka). */
#ifndef WR_TEST_EXPR_REFERENCE_H
#define WR_TEST_EXPR_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "tests/support/expr_fixture.h"

typedef struct xr_node xr_node_t; /* one node of an expression */
typedef struct xr_gen xr_gen_t;   /* makes expressions; owns their nodes */

/* One value: i for int, bool and time; f for double; s and len for strings (borrowed). */
typedef struct {
    int64_t i;
    double f;
    const char *s;
    uint32_t len;
} xr_val_t;

/* A generator drawing from rng (borrowed: it must outlive the generator). */
xr_gen_t *xr_gen_new(xf_rng_t *rng);
/* NULL-safe; nulls *g. */
void xr_gen_destroy(xr_gen_t **g);

/* A random expression of type (enum wr_type) nested up to depth; the one made before is gone
 * (its nodes are reused). */
const xr_node_t *xr_random(xr_gen_t *g, int type, int depth);
/* Its text, fully parenthesised, into buf (cut at cap); returns the length it needed. */
size_t xr_print(const xr_node_t *n, char *buf, size_t cap);
/* Its value at record row of b (a batch of xf_schema()); *div_zero counts the int divisions by
 * zero it met. */
xr_val_t xr_eval(const xr_node_t *n, const wr_batch_t *b, uint32_t row, uint64_t *div_zero);

#endif
