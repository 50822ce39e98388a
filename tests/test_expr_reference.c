/* wr_expr against a reference: random well-typed expressions (tests/support/expr_reference.h) are
 * printed as text, compiled, evaluated over random batches of several sizes (one record, a few,
 * around the 512-record chunk, more) and compared with the reference interpreter record for
 * record: values bit for bit, the records a filter selects, the divisions by zero it counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/expr/expr.h"
#include "actors/dataflow/record/batch.h"
#include "bus/base/strbuf.h"
#include "tests/support/expr_fixture.h"
#include "tests/support/expr_reference.h"

static bool s_same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, 8) == 0;
}

/* The core check: random typed expressions against the reference, over random batches. */
static void test_random_against_reference(void **state)
{
    (void)state;
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_rng_t rng = XF_RNG_INIT;
    xr_gen_t *g = xr_gen_new(&rng);
    const uint32_t sizes[] = {1, 7, 511, 512, 513, 1500};
    int64_t *out = malloc(1500 * 8);
    uint32_t *sel = malloc(1500 * 4);
    char src[8192];
    int compiled = 0, folded_div = 0, rounds = 4000;
    for (int round = 0; round < rounds; round++) {
        if (round % 50 == 0) xf_fill(b, sizes[(round / 50) % 6], &rng);
        static const int types[] = {WR_T_INT, WR_T_DOUBLE, WR_T_BOOL, WR_T_TIME, WR_T_BOOL};
        int type = types[round % 5];
        const xr_node_t *root = xr_random(g, type, 1 + round % 6);
        assert_true(xr_print(root, src, sizeof src) < sizeof src);

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
            xr_val_t v = xr_eval(root, b, i, &dz);
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
    xr_gen_destroy(&g);
    wr_batch_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
