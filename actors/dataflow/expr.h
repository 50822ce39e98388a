/* Expressions for filter and map operators, compiled once against a schema and evaluated a batch
 * at a time, column by column, with no allocation per record.
 *
 * Grammar (C-like precedence, lowest first):
 *   expr    := or ( '?' expr ':' expr )?
 *   or      := and ( '||' and )*          and := not ( '&&' not )*     not := '!' not | cmp
 *   cmp     := sum ( ('=='|'!='|'<'|'<='|'>'|'>=') sum )?
 *   sum     := product ( ('+'|'-') product )*     product := unary ( ('*'|'/'|'%') unary )*
 *   unary   := '-' unary | primary
 *   primary := number | "string" | true | false | field | func '(' args ')' | '(' expr ')'
 * Numbers: 42, -7, 3.5, 1e-3, and durations 500ms 10s 5min 2h (ints, in ms) for time arithmetic.
 * Functions: abs, min, max, floor, ceil, round, sqrt, pow, log, exp, if(c, a, b), len(s),
 *   starts_with(s, prefix), contains(s, needle), hash(x) (u64 as int), int(x), double(x).
 * Types: int op int -> int (division by zero yields 0 and is counted), any double -> double,
 * time +/- int -> time, time - time -> int; comparisons and logic -> bool; strings compare with ==,
 * !=, <, ... (bytewise). Strings can be read and compared but not built (no allocation).
 * Errors name the column: "column 14: unknown field 'temprature' (fields: device, ts, ...)". */
#ifndef WR_EXPR_H
#define WR_EXPR_H

#include <stdint.h>

#include "actors/dataflow/batch.h"
#include "bus/strbuf.h"

typedef struct wr_expr wr_expr_t;

/* Compiles src against schema. NULL on error, with one line appended to err. */
wr_expr_t *wr_expr_compile(const char *src, const wr_schema_t *schema, wr_strbuf_t *err);
void wr_expr_destroy(wr_expr_t **e);

/* The result type. A string-typed expression is only allowed when it is a bare field reference
 * (a map may pass a string field through); wr_expr_field tells which one (-1 otherwise). */
enum wr_type wr_expr_type(const wr_expr_t *e);
int wr_expr_field(const wr_expr_t *e);

/* Evaluates over every record of b into out: b->count values, int64_t for int/bool/time, double
 * for double. Not for string results. Returns 0, or WR_ENOMEM. */
int wr_expr_eval(wr_expr_t *e, const wr_batch_t *b, void *out);
/* For a bool expression: writes the indices of the records where it is true into sel (room for
 * b->count) and their number into *n. */
int wr_expr_select(wr_expr_t *e, const wr_batch_t *b, uint32_t *sel, uint32_t *n);

#endif
