/* wr_expr: compilation (parse in expr_parse.c, then memory planning here) and accessors. The
 * evaluator is expr_eval.c. */
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/expr/expr_internal.h"
#include "bus/base/error.h"

/* Gives every inner node below ni its scratch level; returns the deepest level used + 1. */
static uint32_t s_levels(wr_expr_t *e, int32_t ni, uint32_t level)
{
    wr__node_t *n = &e->nodes[ni];
    if (n->op == WR__FIELD || n->op == WR__CONST || n->op == WR__STR) return 0;
    n->level = (uint16_t)level;
    uint32_t deepest = level + 1;
    for (uint32_t k = 0; k < 3; k++) {
        if (n->arg[k] < 0) continue;
        uint32_t d = s_levels(e, n->arg[k], level + 1 + k);
        if (d > deepest) deepest = d;
    }
    return deepest;
}

/* Gives every constant below ni a spread chunk, one per distinct value and representation;
 * list[0..*n) collects the constants that own one. */
static void s_consts(wr_expr_t *e, int32_t ni, int32_t *list, uint32_t *n)
{
    wr__node_t *c = &e->nodes[ni];
    for (uint32_t k = 0; k < 3; k++)
        if (c->arg[k] >= 0) s_consts(e, c->arg[k], list, n);
    if (c->op != WR__CONST) return;
    for (uint32_t j = 0; j < *n; j++) {
        const wr__node_t *o = &e->nodes[list[j]];
        if ((o->type == WR_T_DOUBLE) == (c->type == WR_T_DOUBLE) && o->k.i == c->k.i) {
            c->kbuf = o->kbuf;
            return;
        }
    }
    c->kbuf = (int32_t)*n;
    list[(*n)++] = ni;
}

static int s_prepare(wr_expr_t *e)
{
    int32_t list[WR__EXPR_MAX_NODES];
    e->n_levels = s_levels(e, e->root, 0);
    s_consts(e, e->root, list, &e->n_consts);
    if (e->n_levels) {
        e->scratch = calloc((size_t)e->n_levels * WR__EXPR_CHUNK, sizeof *e->scratch);
        e->sel = calloc((size_t)e->n_levels * 2 * WR__EXPR_CHUNK, sizeof *e->sel);
        if (!e->scratch || !e->sel) return WR_ENOMEM;
    }
    if (e->n_consts) {
        e->consts = malloc((size_t)e->n_consts * WR__EXPR_CHUNK * sizeof *e->consts);
        if (!e->consts) return WR_ENOMEM;
    }
    for (uint32_t j = 0; j < e->n_consts; j++) {
        const wr__node_t *c = &e->nodes[list[j]];
        int64_t *buf = e->consts + (size_t)j * WR__EXPR_CHUNK;
        if (c->type == WR_T_DOUBLE)
            for (uint32_t i = 0; i < WR__EXPR_CHUNK; i++)
                ((double *)buf)[i] = c->k.f;
        else
            for (uint32_t i = 0; i < WR__EXPR_CHUNK; i++)
                buf[i] = c->k.i;
    }
    return 0;
}

wr_expr_t *wr_expr_compile(const char *src, const wr_schema_t *schema, wr_strbuf_t *err)
{
    if (!src || !schema) {
        if (err) wr_strbuf_adds(err, "no expression or no schema");
        return NULL;
    }
    wr_expr_t *e = calloc(1, sizeof *e);
    if (!e) goto nomem;
    if (wr__expr_parse(e, src, schema, err) != 0) goto fail;
    if (s_prepare(e) != 0) goto nomem;
    return e;
nomem:
    if (err) wr_strbuf_adds(err, "out of memory");
fail:
    wr_expr_destroy(&e);
    return NULL;
}

void wr_expr_destroy(wr_expr_t **ep)
{
    if (!ep || !*ep) return;
    wr_expr_t *e = *ep;
    free(e->nodes);
    free(e->strs);
    free(e->scratch);
    free(e->sel);
    free(e->consts);
    free(e);
    *ep = NULL;
}

enum wr_type wr_expr_type(const wr_expr_t *e)
{
    return (enum wr_type)e->nodes[e->root].type;
}

int wr_expr_field(const wr_expr_t *e)
{
    const wr__node_t *n = &e->nodes[e->root];
    return n->op == WR__FIELD ? n->field : -1;
}

uint64_t wr_expr_div_zero(const wr_expr_t *e)
{
    return e->div_zero;
}
