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
 * Numbers: 42, -7, 3.5, 1e-3, and durations 500ms 10s 5min 2h 1d (ints, in ms) for time
 * arithmetic. Strings: "..." or '...', with \\ \" \' \n \t \r \0 escapes. A field named like
 * true, false or a function is still read as a field when not followed by '('.
 * Functions: abs, min, max, floor, ceil, round, sqrt, pow, log, exp, if(c, a, b), len(s),
 *   starts_with(s, prefix), contains(s, needle), hash(x) (u64 as int), int(x), double(x).
 * Types: int op int -> int (division by zero yields 0 and is counted; overflow wraps), any
 * double -> double (IEEE: x / 0.0 is inf or nan), time +/- int -> time, time - time -> int;
 * comparisons -> bool: numbers with numbers, time with time or int, bool with bool (== and !=
 * only), strings with strings (bytewise); && || ! and the ?: condition take bools only.
 * && || and ?: evaluate their right side only for the records that need it. Functions:
 * abs/min/max keep int (and min/max time), floor/ceil/round keep int and give double for double;
 * sqrt/pow/log/exp give double; int(x) truncates a double (nan -> 0, saturating); hash(x) is
 * keygroup.h's hash (wr_hash_u64 of the 8 bytes, wr_hash_bytes of a string), so
 * hash(key) % 128 is key-by's key group. Strings can be read and compared but not built (no
 * allocation), so a string result, or a ?: between strings, is refused.
 * Errors name the column: "column 14: unknown field 'temprature' (fields: device, ts, ...)". */
#ifndef WR_EXPR_H
#define WR_EXPR_H

#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/strbuf.h"

typedef struct wr_expr wr_expr_t;

/* Compiles src against schema. NULL on error, with one line appended to err (if not NULL).
 * Every scratch buffer evaluation needs is allocated here (a few KiB per nesting level), so
 * evaluation never allocates. A compiled expression is used by one thread at a time (its scratch
 * is mutable): one per subtask. */
wr_expr_t *wr_expr_compile(const char *src, const wr_schema_t *schema, wr_strbuf_t *err);
/* Frees the expression and sets *e to NULL; NULL-safe. */
void wr_expr_destroy(wr_expr_t **e);

/* The result type. A string-typed expression is only allowed when it is a bare field reference
 * (a map may pass a string field through); wr_expr_field tells which one (-1 otherwise). */
enum wr_type wr_expr_type(const wr_expr_t *e);
int wr_expr_field(const wr_expr_t *e);

/* Evaluates over every record of b into out: b->count values, int64_t for int/bool/time, double
 * for double. out may be one of b's own columns (an in-place map). b's fields that the
 * expression reads must have the types they had at compile time. Returns 0, or WR_EINVAL for a
 * string result or a batch of the wrong shape. */
int wr_expr_eval(wr_expr_t *e, const wr_batch_t *b, void *out);
/* For a bool expression: writes the indices of the records where it is true into sel (room for
 * b->count), ascending, and their number into *n. 0, or WR_EINVAL (not bool, wrong batch). */
int wr_expr_select(wr_expr_t *e, const wr_batch_t *b, uint32_t *sel, uint32_t *n);
/* Integer divisions and remainders by zero met so far (each yielded 0). Only records an
 * evaluation needed count: in `b != 0 && a / b > 1` a zero b is never divided by. */
uint64_t wr_expr_div_zero(const wr_expr_t *e);

#endif
