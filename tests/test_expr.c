/* wr_expr: filter and map expressions compiled once and evaluated a batch at a time. First the
 * plain use (a filter selecting records, a map computing a column, a field passed through), then
 * the language piece by piece (precedence, functions, time, strings, division by zero, names), maps
 * in place, evaluation without allocation, and a throughput report. Compile errors:
 * test_expr_errors.c; random expressions against a reference interpreter: test_expr_reference.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/dataflow/expr/expr.h"
#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/record/keygroup.h"
#include "bus/base/error.h"
#include "tests/support/expr_fixture.h"

static double s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_filter_and_map(void **state)
{
    (void)state;
    xf_rng_t rng = XF_RNG_INIT;
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, 4, &rng);
    const char *dev[] = {"dev-1", "dev-2", "dev-1", "other"};
    double temp[] = {31.0, 35.5, 20.0, 40.0};
    wr_batch_clear(b);
    for (int i = 0; i < 4; i++) {
        wr_batch_push_str(b, XF_DEVICE, dev[i], (uint32_t)strlen(dev[i]));
        wr_batch_push_str(b, XF_NOTE, "", 0);
        wr_batch_f64(b, XF_TEMP)[i] = temp[i];
        b->count++;
    }
    wr_expr_t *filter = xf_compile_ok("temp > 30.5 && starts_with(device, 'dev-')", &s);
    assert_int_equal(wr_expr_type(filter), WR_T_BOOL);
    assert_int_equal(wr_expr_field(filter), -1);
    uint32_t sel[4], n = 99;
    assert_int_equal(wr_expr_select(filter, b, sel, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sel[0], 0);
    assert_int_equal(sel[1], 1);

    wr_expr_t *map = xf_compile_ok("temp * 1.8 + 32", &s);
    double f[4];
    assert_int_equal(wr_expr_eval(map, b, f), 0);
    for (int i = 0; i < 4; i++)
        assert_true(f[i] == temp[i] * 1.8 + 32);

    wr_expr_t *pass = xf_compile_ok("device", &s);
    assert_int_equal(wr_expr_type(pass), WR_T_STRING);
    assert_int_equal(wr_expr_field(pass), XF_DEVICE);
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
    assert_int_equal(xf_const_i("1 + 2 * 3"), 7);
    assert_int_equal(xf_const_i("(1 + 2) * 3"), 9);
    assert_int_equal(xf_const_i("10 - 4 - 3"), 3);
    assert_int_equal(xf_const_i("100 / 10 / 5"), 2);
    assert_int_equal(xf_const_i("2 * 7 % 4"), 2);
    assert_int_equal(xf_const_i("-2 * 3"), -6);
    assert_int_equal(xf_const_i("- -2"), 2);
    assert_int_equal(xf_const_i("-(2 + 3) * 2"), -10);
    assert_int_equal(xf_const_i("1 + 2 < 4"), 1);
    assert_int_equal(xf_const_i("!true == false"), 1); /* ! binds looser than == */
    assert_int_equal(xf_const_i("!(true == false)"), 1);
    assert_int_equal(xf_const_i("true || false && false"), 1);
    assert_int_equal(xf_const_i("(true || false) && false"), 0);
    assert_int_equal(xf_const_i("!false && false"), 0);
    assert_int_equal(xf_const_i("false ? 1 : true ? 2 : 3"), 2); /* right-associative */
    assert_int_equal(xf_const_i("true ? false ? 1 : 2 : 3"), 2);
    assert_int_equal(xf_const_i("1 < 2 ? 10 : 20"), 10);
    assert_int_equal(xf_const_i(" \t1\n+\r1 "), 2);
    assert_int_equal(xf_const_i("1+2*3-4/2"), 5);
    assert_true(xf_const_f("1 + 2 * 0.5") == 2.0);
    assert_true(xf_const_f(".5 + 1.") == 1.5);
    assert_true(xf_const_f("1e3 + 2.5E-1") == 1000.25);
    assert_true(xf_const_f("-1e-3") == -0.001);
    assert_true(xf_const_f("7 / 2.0") == 3.5);
    assert_int_equal(xf_const_i("7 / 2"), 3);
    assert_int_equal(xf_const_i("-7 / 2"), -3);
    assert_int_equal(xf_const_i("-7 % 3"), -1);
    assert_int_equal(xf_const_i("9223372036854775807 + 1"), INT64_MIN); /* wraps */
    assert_int_equal(xf_const_i("-9223372036854775807 - 1"), INT64_MIN);
    assert_int_equal(xf_const_i("(-9223372036854775807 - 1) / -1"), INT64_MIN);
    assert_int_equal(xf_const_i("(-9223372036854775807 - 1) % -1"), 0);
}

static void test_functions(void **state)
{
    (void)state;
    xf_rng_t rng = XF_RNG_INIT;
    assert_int_equal(xf_const_i("abs(-5)"), 5);
    assert_true(xf_const_f("abs(-2.5)") == 2.5);
    assert_int_equal(xf_const_i("min(3, -4)"), -4);
    assert_int_equal(xf_const_i("max(3, -4)"), 3);
    assert_true(xf_const_f("max(3, 4.5)") == 4.5);
    assert_true(xf_const_f("min(3, 4.5)") == 3.0);
    assert_true(xf_const_f("floor(-1.5)") == -2.0);
    assert_true(xf_const_f("ceil(1.2)") == 2.0);
    assert_true(xf_const_f("round(2.5)") == 3.0);
    assert_true(xf_const_f("round(-2.5)") == -3.0);
    assert_int_equal(xf_const_i("floor(7)"), 7); /* ints stay ints */
    assert_true(xf_const_f("sqrt(16)") == 4.0);
    assert_true(xf_const_f("pow(2, 10)") == 1024.0);
    assert_true(xf_const_f("log(1)") == 0.0);
    assert_true(xf_const_f("exp(0)") == 1.0);
    assert_true(isnan(xf_const_f("sqrt(-1)")));
    assert_true(isinf(xf_const_f("log(0)")));
    assert_int_equal(xf_const_i("if(1 > 2, 10, 20)"), 20);
    assert_true(xf_const_f("if(true, 1, 2.5)") == 1.0);
    assert_int_equal(xf_const_i("len('')"), 0);
    assert_int_equal(xf_const_i("len('abc')"), 3);
    assert_int_equal(xf_const_i("len(\"a\\\"b\\n\")"), 4);
    assert_int_equal(xf_const_i("len('\\0x')"), 2);
    assert_int_equal(xf_const_i("starts_with('device-1', 'dev')"), 1);
    assert_int_equal(xf_const_i("starts_with('de', 'dev')"), 0);
    assert_int_equal(xf_const_i("starts_with('x', '')"), 1);
    assert_int_equal(xf_const_i("contains('hello world', 'o w')"), 1);
    assert_int_equal(xf_const_i("contains('hello', 'world')"), 0);
    assert_int_equal(xf_const_i("contains('', '')"), 1);
    assert_int_equal(xf_const_i("hash(42)"), (int64_t)wr_hash_u64(42));
    assert_int_equal(xf_const_i("hash('dev-1')"), (int64_t)wr_hash_bytes("dev-1", 5));
    assert_int_equal(xf_const_i("hash(0.0) == hash(-0.0)"), 1);
    assert_int_equal(xf_const_i("hash(true)"), (int64_t)wr_hash_u64(1));
    assert_int_equal(xf_const_i("int(2.9)"), 2);
    assert_int_equal(xf_const_i("int(-2.9)"), -2);
    assert_int_equal(xf_const_i("int(1e300)"), INT64_MAX);
    assert_int_equal(xf_const_i("int(-1e300)"), INT64_MIN);
    assert_int_equal(xf_const_i("int(sqrt(-1))"), 0);
    assert_int_equal(xf_const_i("int(true) + int(false)"), 1);
    assert_true(xf_const_f("double(3) / 2") == 1.5);
    assert_true(xf_const_f("double(true)") == 1.0);

    /* Over fields too, including time. */
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, 600, &rng);
    wr_expr_t *e = xf_compile_ok("int(ts) - int(ts - 90s) + len(device) * 0", &s);
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
    xf_rng_t rng = XF_RNG_INIT;
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, 1000, &rng);
    const int64_t *ts = wr_batch_i64(b, XF_TS);
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
        wr_expr_t *e = xf_compile_ok(cases[k].src, &s);
        assert_int_equal(wr_expr_type(e), cases[k].type);
        assert_int_equal(wr_expr_eval(e, b, out), 0);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(out[i], (cases[k].type == WR_T_TIME ? ts[i] : 0) + cases[k].add);
        wr_expr_destroy(&e);
    }
    /* Comparisons of times with times and with epoch milliseconds. */
    wr_expr_t *e = xf_compile_ok("ts >= 1700000000000 && ts - 30min < ts", &s);
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
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    const char *dev[] = {"dev-1", "dev-10", "dev-2", "", "DEV-1", "dev-1\xff", "dev-"};
    for (int i = 0; i < 7; i++) {
        wr_batch_push_str(b, XF_DEVICE, dev[i], (uint32_t)strlen(dev[i]));
        wr_batch_push_str(b, XF_NOTE, dev[(i + 1) % 7], (uint32_t)strlen(dev[(i + 1) % 7]));
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
        wr_expr_t *e = xf_compile_ok(cases[k].src, &s);
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
    xf_rng_t rng = XF_RNG_INIT;
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, 2000, &rng);
    int64_t *seq = wr_batch_i64(b, XF_SEQ), *nn = wr_batch_i64(b, XF_NN);
    uint64_t zeros = 0;
    for (int i = 0; i < 2000; i++) {
        nn[i] = i % 7 == 0 ? 0 : i % 13 - 6;
        zeros += nn[i] == 0;
    }
    int64_t out[2000];
    wr_expr_t *e = xf_compile_ok("seq / n", &s);
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
        e = xf_compile_ok(guarded[k], &s);
        uint32_t sel[2000], n;
        assert_int_equal(wr_expr_select(e, b, sel, &n), 0);
        assert_int_equal(wr_expr_div_zero(e), 0);
        wr_expr_destroy(&e);
    }
    /* Doubles follow IEEE and count nothing. */
    e = xf_compile_ok("temp / 0.0", &s);
    double f[2000];
    assert_int_equal(wr_expr_eval(e, b, f), 0);
    assert_int_equal(wr_expr_div_zero(e), 0);
    wr_expr_destroy(&e);
    (void)seq;
    wr_batch_destroy(&b);
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
    wr_expr_t *e = xf_compile_ok("min(min, 2) + len", &s);
    double out[5];
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    for (int i = 0; i < 5; i++)
        assert_true(out[i] == (i < 2 ? i : 2) + i * 0.5);
    wr_expr_destroy(&e);
    wr_batch_destroy(&b);
}

static void test_in_place_map(void **state)
{
    (void)state;
    xf_rng_t rng = XF_RNG_INIT;
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, 1300, &rng);
    int64_t *seq = wr_batch_i64(b, XF_SEQ);
    int64_t *want = malloc(1300 * sizeof *want);
    for (int i = 0; i < 1300; i++)
        want[i] = (int64_t)((uint64_t)seq[i] * 3);
    wr_expr_t *e = xf_compile_ok("seq * 3", &s);
    assert_int_equal(wr_expr_eval(e, b, seq), 0);
    wr_expr_destroy(&e);
    e = xf_compile_ok("seq", &s); /* a bare field into its own column: a no-op */
    assert_int_equal(wr_expr_eval(e, b, seq), 0);
    for (int i = 0; i < 1300; i++)
        assert_int_equal(seq[i], want[i]);
    wr_expr_destroy(&e);
    free(want);
    wr_batch_destroy(&b);
}

/* Evaluation never allocates: the second (and first) pass over a large batch leaves the heap
 * exactly as it was, and gives the same answer. */
static void test_no_allocation_in_eval(void **state)
{
    (void)state;
    xf_rng_t rng = XF_RNG_INIT;
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, 100000, &rng);
    wr_expr_t *e = xf_compile_ok(
        "(temp > 10.0 && contains(device, 'dev')) || (seq % 7 == 3 ? hum < 0 : ts > ts - 1s)", &s);
    wr_expr_t *m = xf_compile_ok("if(ok, temp * 1.8 + 32, sqrt(abs(hum))) + double(n / 3)", &s);
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

/* Throughput, printed and never asserted (timings are not tests). */
static void test_throughput_report(void **state)
{
    (void)state;
    xf_rng_t rng = XF_RNG_INIT;
    wr_schema_t s = xf_schema();
    enum { N = 1 << 20, BATCH = 4096 };
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_fill(b, N, &rng);
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
        wr_expr_t *e = xf_compile_ok(cases[k].src, &s);
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
        cmocka_unit_test(test_fields_named_like_functions),
        cmocka_unit_test(test_in_place_map),
        cmocka_unit_test(test_no_allocation_in_eval),
        cmocka_unit_test(test_throughput_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
