/* wr_expr's errors: an expression that does not compile gets one line that names the column and
 * says what is wrong; a batch that does not have the schema an expression was compiled for is
 * refused at evaluation (WR_EINVAL), an empty one is fine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "actors/dataflow/expr/expr.h"
#include "actors/dataflow/record/batch.h"
#include "bus/base/error.h"
#include "tests/support/expr_fixture.h"

static void test_errors_name_the_column(void **state)
{
    (void)state;
    xf_compile_err("temprature > 3",
                   "column 1: unknown field 'temprature' (fields: device, ts, temp, ok, seq, note, "
                   "hum, n)");
    xf_compile_err("temp + device", "column 6: cannot apply '+' to double and string");
    xf_compile_err("ts + ts", "column 4: cannot apply '+' to time and time (time takes");
    xf_compile_err("1 - ts", "column 3: cannot apply '-' to int and time");
    xf_compile_err("ts * 2", "column 4: cannot apply '*' to time and int");
    xf_compile_err("ok + 1", "column 4: cannot apply '+' to bool and int");
    xf_compile_err("seq && ok", "column 5: '&&' needs bool operands, got int and bool");
    xf_compile_err("ok || 1", "column 4: '||' needs bool operands, got bool and int");
    xf_compile_err("!seq", "column 1: '!' needs a bool, got int");
    xf_compile_err("-ok", "column 1: '-' needs a number, got bool");
    xf_compile_err("-device", "column 1: '-' needs a number, got string");
    xf_compile_err("seq ? 1 : 2", "column 5: the condition must be bool, got int");
    xf_compile_err("ok ? device : note", "column 4: cannot choose between strings");
    xf_compile_err("ok ? ts : 1", "column 4: the two branches have different types: time and int");
    xf_compile_err("if(seq, 1, 2)", "column 4: the condition must be bool, got int");
    xf_compile_err("1 < 2 < 3", "column 7: comparisons do not chain; join them with '&&'");
    xf_compile_err("ok < ok", "column 4: cannot compare bool with bool using '<'");
    xf_compile_err("ts == 1.5", "column 4: cannot compare time with double using '=='");
    xf_compile_err("device == 1", "column 8: cannot compare string with int using '=='");
    xf_compile_err("ok == 1", "column 4: cannot compare bool with int using '=='");
    xf_compile_err("sqrt(device)", "column 6: sqrt needs a number, got string");
    xf_compile_err("abs(ts)", "column 5: abs needs a number, got time");
    xf_compile_err("pow(2, ok)", "column 1: pow needs numbers, got int and bool");
    xf_compile_err("max(ts, 1)", "column 1: max needs two numbers or two times, got time and int");
    xf_compile_err("len(seq)", "column 5: len needs a string, got int");
    xf_compile_err("int(device)", "column 5: int() cannot convert a string");
    xf_compile_err("double(note)", "column 8: double() cannot convert a string");
    xf_compile_err("contains(device, 1)", "column 18: contains needs strings, got int");
    xf_compile_err("foo(1)", "column 1: unknown function 'foo' (functions: abs, min, max,");
    xf_compile_err("max(1)", "column 1: max takes 2 arguments, got 1");
    xf_compile_err("len()", "column 1: len takes 1 argument, got 0");
    xf_compile_err("min(1,2,3,4,5,6,7,8,9)", "column 21: too many arguments");
    xf_compile_err("abs(1, 2", "column 9: expected ',' or ')', found the end of the expression");
    xf_compile_err("1 / 0", "column 3: integer division by zero");
    xf_compile_err("seq % (2 - 2)", "column 5: integer division by zero");
    xf_compile_err("'abc'", "column 1: a string result must be a bare field");
    xf_compile_err("", "column 1: unexpected end of the expression");
    xf_compile_err("   ", "column 4: unexpected end of the expression");
    xf_compile_err("temp >", "column 7: unexpected end of the expression");
    xf_compile_err("(temp > 3", "column 10: expected ')', found the end of the expression");
    xf_compile_err("temp > 3)", "column 9: unexpected ')' after the expression");
    xf_compile_err("temp > 3 4", "column 10: unexpected '4' after the expression");
    xf_compile_err("ok ? 1 2", "column 8: expected ':' of '?:', found '2'");
    xf_compile_err("temp = 3", "column 6: '=' is not an operator; did you mean '=='?");
    xf_compile_err("ok & ok", "column 4: '&' is not an operator; did you mean '&&'?");
    xf_compile_err("ok | ok", "column 4: '|' is not an operator; did you mean '||'?");
    xf_compile_err("'abc", "column 1: unterminated string");
    xf_compile_err("device == 'a\\qb'", "column 13: unknown escape '\\q'");
    xf_compile_err("5parsecs", "column 1: unknown unit 'parsecs' after a number");
    xf_compile_err("ts + 1.5s", "column 6: a duration must be a whole number");
    xf_compile_err("99999999999999999999", "column 1: integer out of range");
    xf_compile_err("9223372036854775808", "column 1: integer out of range");
    xf_compile_err("106751991168d", "column 1: duration out of range");
    xf_compile_err("1e999", "column 1: number out of range");
    xf_compile_err("temp # 2", "column 6: unexpected character '#'");
    xf_compile_err("temp \x01", "column 6: unexpected byte 0x01");
    xf_compile_err("ok ? : 1", "column 6: unexpected ':'");
    xf_compile_err("seq +* 2", "column 6: unexpected '*'");
    /* Messages stay on one line whatever the source holds. */
    xf_compile_err("temp 'a\nb'", "column 6: unexpected ''a?b'' after the expression");
    xf_compile_err("'a\\\n'", "column 3: unknown escape '\\?'");

    char deep[400];
    memset(deep, '(', 100);
    strcpy(deep + 100, "1");
    memset(deep + 101, ')', 100);
    deep[201] = 0;
    xf_compile_err(deep, "column 65: expression nested too deeply (over 64 levels)");
    memset(deep, '-', 100);
    strcpy(deep + 100, "1");
    xf_compile_err(deep, "column 64: expression nested too deeply");

    char *big = malloc(600 * 6 + 1);
    size_t at = 0;
    for (int i = 0; i < 600; i++)
        at += (size_t)sprintf(big + at, "%sseq", i ? " + " : "");
    xf_compile_err(big, "column ");
    wr_schema_t sc = xf_schema();
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

static void test_batch_shape_checked(void **state)
{
    (void)state;
    wr_schema_t s = xf_schema(), other;
    wr_expr_t *e = xf_compile_ok("seq > 1", &s);
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
    t.f[XF_SEQ].type = WR_T_DOUBLE;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_name_the_column),
        cmocka_unit_test(test_batch_shape_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
