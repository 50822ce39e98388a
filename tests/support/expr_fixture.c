#include "tests/support/expr_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "bus/base/strbuf.h"

const char *const xf_field_names[XF_COUNT] = {"device", "ts",   "temp", "ok",
                                              "seq",    "note", "hum",  "n"};

wr_schema_t xf_schema(void)
{
    static const enum wr_type types[] = {WR_T_STRING, WR_T_TIME,   WR_T_DOUBLE, WR_T_BOOL,
                                         WR_T_INT,    WR_T_STRING, WR_T_DOUBLE, WR_T_INT};
    wr_schema_t s;
    wr_schema_init(&s);
    for (int f = 0; f < XF_COUNT; f++)
        assert_int_equal(wr_schema_add(&s, xf_field_names[f], types[f]), 0);
    return s;
}

/* ---- random data ---- */

uint64_t xf_rand(xf_rng_t *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

uint32_t xf_below(xf_rng_t *r, uint32_t n)
{
    return (uint32_t)(xf_rand(r) % n);
}

static const char *const s_words[] = {"",       "a",     "ab",    "abc",  "b",    "dev-1",
                                      "dev-10", "dev-2", "DEV-1", "x\"y", "\xff", "dev-1\xff"};
#define S_NWORDS (sizeof s_words / sizeof s_words[0])

const char *xf_rand_word(xf_rng_t *r)
{
    return s_words[xf_below(r, S_NWORDS)];
}

int64_t xf_rand_int(xf_rng_t *r)
{
    static const int64_t edge[] = {0, 1, -1, 2, 3, 7, -7, 100, INT64_MAX, INT64_MIN, 1 << 20};
    return xf_below(r, 3) ? (int64_t)xf_below(r, 41) - 20
                          : edge[xf_below(r, sizeof edge / sizeof edge[0])];
}

double xf_rand_double(xf_rng_t *r)
{
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 3.25, 30.5};
    switch (xf_below(r, 8)) {
    case 0:
        return edge[xf_below(r, sizeof edge / sizeof edge[0])];
    case 1:
        return xf_below(r, 50) == 0 ? NAN : INFINITY * (xf_below(r, 2) ? 1 : -1);
    case 2:
        return (double)((int)xf_below(r, 21) - 10);
    default:
        return ((double)xf_below(r, 100000) - 50000) / 128.0;
    }
}

void xf_fill(wr_batch_t *b, uint32_t n, xf_rng_t *r)
{
    wr_batch_clear(b);
    assert_int_equal(wr_batch_reserve(b, n), 0);
    for (uint32_t i = 0; i < n; i++) {
        const char *d = xf_rand_word(r), *note = xf_rand_word(r);
        assert_int_equal(wr_batch_push_str(b, XF_DEVICE, d, (uint32_t)strlen(d)), 0);
        assert_int_equal(wr_batch_push_str(b, XF_NOTE, note, (uint32_t)strlen(note)), 0);
        wr_batch_i64(b, XF_TS)[i] = 1700000000000 + (int64_t)xf_below(r, 7200000) - 3600000;
        wr_batch_f64(b, XF_TEMP)[i] = xf_rand_double(r);
        wr_batch_f64(b, XF_HUM)[i] = xf_rand_double(r);
        wr_batch_i64(b, XF_OK)[i] = xf_below(r, 2);
        wr_batch_i64(b, XF_SEQ)[i] = xf_rand_int(r);
        wr_batch_i64(b, XF_NN)[i] = xf_rand_int(r);
        b->count++;
    }
}

/* ---- compiling ---- */

wr_expr_t *xf_compile_ok(const char *src, const wr_schema_t *schema)
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
void xf_compile_err(const char *src, const char *want)
{
    wr_schema_t s = xf_schema();
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
    wr_schema_t s = xf_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    xf_rng_t rng = XF_RNG_INIT;
    xf_fill(b, 3, &rng);
    wr_expr_t *e = xf_compile_ok(src, &s);
    assert_int_equal(wr_expr_type(e) == WR_T_DOUBLE, dbl);
    int64_t out[3];
    assert_int_equal(wr_expr_eval(e, b, out), 0);
    assert_memory_equal(&out[0], &out[1], 8);
    assert_memory_equal(&out[0], &out[2], 8);
    wr_expr_destroy(&e);
    wr_batch_destroy(&b);
    return out[0];
}

int64_t xf_const_i(const char *src)
{
    return s_const(src, false);
}

double xf_const_f(const char *src)
{
    int64_t v = s_const(src, true);
    double f;
    memcpy(&f, &v, 8);
    return f;
}
