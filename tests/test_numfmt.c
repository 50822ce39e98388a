/* bus/numfmt: every formatter against printf (and the JSON doubles against the sink's old
 * shortest-round-trip loop), over millions of random and adversarial values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/base/numfmt.h"
#include "bus/base/splitmix.h"

#ifdef __SANITIZE_ADDRESS__
#define S_SCALE 4 /* sanitizers make printf slow: fewer random values, same kinds */
#else
#define S_SCALE 1
#endif

static double s_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* ---- oracles ---- */

/* The sink's JSON double before numfmt, verbatim. */
static void s_old_json_double(char *out, size_t cap, double v)
{
    if (!isfinite(v)) {
        snprintf(out, cap, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    snprintf(out, cap, "%s%s", tmp, strpbrk(tmp, ".eE") ? "" : ".0");
}

/* The text sink's time before numfmt (floor division written so that it cannot overflow). */
static void s_old_time(char *out, size_t cap, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0));
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
}

/* ---- checks: print the value on a mismatch, so that it can be replayed ---- */

/* want (the oracle's text) against what fmt wrote for v, of at most max bytes. */
static void s_same(const char *what, double v, const char *want, size_t (*fmt)(char *, double),
                   size_t max)
{
    char got[64];
    size_t n = fmt(got, v);
    assert_true(n <= max);
    got[n] = '\0';
    if (strcmp(want, got)) print_error("%s of %a: printf '%s', numfmt '%s'\n", what, v, want, got);
    assert_string_equal(got, want);
}

static void s_g6(double v)
{
    char want[64], probe[WR_NUMFMT_G6_MAX + 8];
    snprintf(want, sizeof want, "%.6g", v);
    s_same("%.6g", v, want, wr_numfmt_g6, WR_NUMFMT_G6_MAX);
    /* nothing written past WR_NUMFMT_G6_MAX bytes (the fast path stores whole words) */
    memset(probe, 0x55, sizeof probe);
    wr_numfmt_g6(probe, v);
    for (size_t i = WR_NUMFMT_G6_MAX; i < sizeof probe; i++)
        assert_int_equal(probe[i], 0x55);
}

static void s_json(double v)
{
    char want[64];
    s_old_json_double(want, sizeof want, v);
    s_same("json", v, want, wr_numfmt_json_double, WR_NUMFMT_JSON_MAX);
}

static void s_both(double v)
{
    s_g6(v);
    s_json(v);
}

static void s_i64(int64_t v)
{
    char want[32], got[WR_NUMFMT_I64_MAX + 1];
    snprintf(want, sizeof want, "%lld", (long long)v);
    got[wr_numfmt_i64(got, v)] = '\0';
    assert_string_equal(got, want);
}

static void s_time(wr_numfmt_time_t *c, int64_t ms)
{
    char want[64], got[WR_NUMFMT_TIME_MAX + 1];
    s_old_time(want, sizeof want, ms);
    size_t n = wr_numfmt_time(c, ms, got);
    assert_true(n <= WR_NUMFMT_TIME_MAX);
    got[n] = '\0';
    if (strcmp(want, got))
        print_error("time %lld: old '%s', numfmt '%s'\n", (long long)ms, want, got);
    assert_string_equal(got, want);
}

/* ---- tests ---- */

static void test_plain_values(void **state)
{
    (void)state;
    char out[WR_NUMFMT_JSON_MAX + 1];
    out[wr_numfmt_g6(out, 21.5)] = '\0';
    assert_string_equal(out, "21.5");
    out[wr_numfmt_g6(out, 1234567.0)] = '\0';
    assert_string_equal(out, "1.23457e+06");
    out[wr_numfmt_json_double(out, 42.0)] = '\0';
    assert_string_equal(out, "42.0");
    out[wr_numfmt_json_double(out, 0.1)] = '\0';
    assert_string_equal(out, "0.1");
    out[wr_numfmt_json_double(out, NAN)] = '\0';
    assert_string_equal(out, "null");
    out[wr_numfmt_i64(out, -1234)] = '\0';
    assert_string_equal(out, "-1234");
    wr_numfmt_time_t c = {0};
    out[wr_numfmt_time(&c, 1700000000123LL, out)] = '\0';
    assert_string_equal(out, "2023-11-14T22:13:20.123Z");
}

static void test_special_doubles(void **state)
{
    (void)state;
    const double v[] = {0.0,
                        -0.0,
                        INFINITY,
                        -INFINITY,
                        NAN,
                        -NAN,
                        DBL_MAX,
                        -DBL_MAX,
                        DBL_MIN,
                        -DBL_MIN,
                        DBL_TRUE_MIN,
                        1.0,
                        -1.0,
                        0.5,
                        1e15,
                        -1e15,
                        9007199254740992.0,
                        9007199254740993.0,
                        1e16,
                        1e17,
                        1e22,
                        1e23,
                        5e-324,
                        2.5e-308};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        s_both(v[i]);
}

/* Powers of ten and their neighbours: where the exponent changes and digits roll over. */
static void test_powers_of_ten_and_neighbours(void **state)
{
    (void)state;
    for (int e = -330; e <= 310; e++) {
        char s[16];
        snprintf(s, sizeof s, "1e%d", e);
        double p = strtod(s, NULL);
        double up = p, down = p;
        for (int k = 0; k < 40; k++) {
            s_both(up);
            s_both(-down);
            up = nextafter(up, INFINITY);
            down = nextafter(down, 0);
        }
        /* just under the 6-, 15-, 16- and 17-digit roll-overs: 9.99999(5)e and the like */
        const char *const nines[] = {"9.999995e%d",           "9.999994999999e%d",
                                     "9.99999500001e%d",      "9.99999999999999e%d",
                                     "9.999999999999999e%d",  "9.9999999999999995e%d",
                                     "9.99999999999999999e%d"};
        for (size_t j = 0; j < sizeof nines / sizeof nines[0]; j++) {
            snprintf(s, sizeof s, nines[j], e);
            double x = strtod(s, NULL);
            for (int k = -3; k <= 3; k++, x = nextafter(x, INFINITY))
                s_both(x);
        }
    }
}

/* Halfway at the 6th significant digit: exact binary ties (printf rounds half to even) and the
 * decimal ties that are not exact in binary. */
static void test_ties(void **state)
{
    (void)state;
    uint64_t r = 7;
    for (int i = 0; i < 100000 / S_SCALE; i++) {
        int e = (int)(wr_splitmix64(&r) % 60) - 30;
        double m = (double)(100000 + wr_splitmix64(&r) % 900000) + 0.5; /* 6 digits and a half */
        double v = e >= 0 ? m * pow(10, e) : m / pow(10, -e);
        s_g6(v / 100000);
        s_g6(v);
        s_g6(nextafter(v, 0));
        s_g6(nextafter(v, INFINITY));
        s_json(v);
        /* 16 and 17 digits and a half, for the JSON precisions */
        double w = (double)(wr_splitmix64(&r) % 9000000000000000ull + 1000000000000000ull) + 0.5;
        s_json(w);
        s_json(w / 1e9);
    }
    for (int64_t k = 1000005; k < 100000000; k += 1000010) /* integers with a tie at digit 7 */
        s_g6((double)k);
}

/* Values of few bits (m / 2^j, m of 8 to 40 bits; and the generator's temperatures, sums of
 * 21-bit fractions): their exact decimal expansions end early, so many lie exactly halfway at the
 * 15th, 16th or 17th digit (about one in nine of the generator's), where the fast path decides
 * ties itself. */
static void test_values_with_few_bits(void **state)
{
    (void)state;
    uint64_t r = 11;
    for (int i = 0; i < 400000 / S_SCALE; i++) {
        int bits = 8 + (int)(wr_splitmix64(&r) % 33), j = (int)(wr_splitmix64(&r) % 64);
        double m = (double)((wr_splitmix64(&r) >> (64 - bits)) | 1);
        s_json(ldexp(m, -j));
        s_json(-ldexp(m, -j + 20));
        double u = (double)(wr_splitmix64(&r) >> 43) / (double)(1 << 21),
               w = (double)(wr_splitmix64(&r) >> 43) / (double)(1 << 21);
        s_json(10.0 + 20.0 * u + 4.0 * (w - 0.5));
        s_json(30.0 + 40.0 * u + 10.0 * (w - 0.5));
    }
}

static void test_random_bit_patterns(void **state)
{
    (void)state;
    uint64_t r = 1;
    for (int i = 0; i < 2000000 / S_SCALE; i++)
        s_g6(s_bits(wr_splitmix64(&r)));
    for (int i = 0; i < 400000 / S_SCALE; i++)
        s_json(s_bits(wr_splitmix64(&r)));
}

/* What sensors and window aggregates produce: few decimals, running sums, averages. */
static void test_typical_values(void **state)
{
    (void)state;
    uint64_t r = 2;
    double sum = 0;
    for (int i = 0; i < 250000 / S_SCALE; i++) {
        double t = 15 + (double)(wr_splitmix64(&r) % 20000) / 1000; /* 15.000 .. 34.999 */
        sum += t;
        double u = (double)(wr_splitmix64(&r) % 100000000) / 1e6; /* 0 .. 100 with 6 decimals */
        double x =
            (double)(wr_splitmix64(&r) >> 11) / 9007199254740992.0 * 100; /* 0 .. 100, full */
        s_both(t);
        s_both(u);
        s_both(x);
        s_both(sum);
        s_both(sum / (i + 1));
        s_both(-t * 1e-3);
    }
}

static void test_integral_doubles(void **state)
{
    (void)state;
    uint64_t r = 3;
    for (int i = 0; i < 200000 / S_SCALE; i++) {
        int bits = 1 + (int)(wr_splitmix64(&r) % 70);
        int64_t v = (int64_t)(wr_splitmix64(&r) >> (64 - (bits > 63 ? 63 : bits)));
        double d = bits > 63 ? (double)v * 1e3 : (double)v;
        s_both(d);
        s_both(-d);
    }
}

static void test_int64(void **state)
{
    (void)state;
    const int64_t edge[] = {0, 1, -1, 9, 10, 99, 100, -100, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        s_i64(edge[i]);
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
        s_i64(p);
        s_i64(p - 1);
        s_i64(-p);
        s_i64(-p + 1);
    }
    uint64_t r = 4;
    for (int i = 0; i < 1000000 / S_SCALE; i++) {
        uint64_t b = wr_splitmix64(&r);
        s_i64((int64_t)(b >> (b & 63)));
        s_i64(-(int64_t)(b >> 1));
    }
}

static void test_times(void **state)
{
    (void)state;
    wr_numfmt_time_t c = {0};
    /* window bounds repeat, times of one day differ only in the clock */
    int64_t base = 1700000000000LL;
    for (int i = 0; i < 1000; i++) {
        s_time(&c, base);
        s_time(&c, base);
        s_time(&c, base + i * 977);
    }
    const int64_t edge[] = {0,
                            -1,
                            -999,
                            -1000,
                            -1001,
                            999,
                            1000,
                            86399999,
                            86400000,
                            -86400000,
                            -86400001,
                            951782400000LL /* 2000-02-29 */,
                            -62167219200000LL /* 0000 */,
                            -62167219200001LL,
                            253402300799999LL /* 9999-12-31 */,
                            253402300800000LL,
                            -4611686018427387904LL,
                            4611686018427387904LL};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        s_time(&c, edge[i]);
    uint64_t r = 5;
    for (int i = 0; i < 300000 / S_SCALE; i++) {
        uint64_t b = wr_splitmix64(&r);
        int64_t ms;
        switch (b % 3) {
        case 0:
            ms = (int64_t)(wr_splitmix64(&r) % 400000000000000ull) - 200000000000000LL;
            break;
        case 1:
            ms = (int64_t)(wr_splitmix64(&r) >> 2) - (1LL << 61);
            break; /* years far out */
        default:
            ms = base + (int64_t)(wr_splitmix64(&r) % 100000000);
            break; /* near each other */
        }
        s_time(&c, ms);
        if (b & 4) s_time(&c, ms); /* a cache hit */
        wr_numfmt_time_t fresh = {0};
        s_time(&fresh, ms);
    }
}

/* The fast path's whole range (fixed notation: a rounded exponent of -4 to 5): values of every
 * decimal exponent from -6 to 6, of both signs, uniformly within their decade; 6 to 8 digits;
 * neighbours of a tie at the 7th digit; and what rounds up into the next decade or out of the
 * range (999999.5 -> "1e+06", 9.999995e-05 -> "0.0001"). */
static void test_fixed_notation_range(void **state)
{
    (void)state;
    uint64_t r = 13;
    for (int e = -6; e <= 6; e++) {
        double lo = pow(10, e);
        for (int i = 0; i < 40000 / S_SCALE; i++) {
            double u = (double)(wr_splitmix64(&r) >> 11) * 0x1p-53;
            double v = lo + u * 9 * lo;
            s_g6(v);
            s_g6(-v);
            int digits = 6 + (int)(wr_splitmix64(&r) % 3);
            double m = (double)(wr_splitmix64(&r) % (9 * (uint64_t)pow(10, digits - 1))) +
                       pow(10, digits - 1);
            double w = m * pow(10, e - digits + 1);
            s_g6(w);
            s_g6(-w);
            double tie = (floor(u * 900000) + 100000 + 0.5) * pow(10, e - 5);
            for (int k = 0; k < 4; k++, tie = nextafter(tie, INFINITY)) {
                s_g6(tie);
                s_g6(nextafter(tie, 0) * (k & 1 ? 1 : -1));
            }
        }
        for (double x = 9.99999 * lo; x < 10 * lo; x = nextafter(x, INFINITY)) {
            s_g6(x); /* the last 6-digit values of the decade, then those rounding up */
            x = nextafter(x, INFINITY) + lo * 1e-7;
        }
    }
    const double edge[] = {999999.5,
                           999999.49999999994,
                           999999.50000000012,
                           999999.4,
                           9.999995e-05,
                           9.9999949999e-05,
                           9.99999e-05,
                           0.0001,
                           0.000100000,
                           1e-05,
                           123456.5,
                           0.1234565,
                           1.0,
                           10.0,
                           100000.0,
                           999999.0};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        s_g6(edge[i]);
        s_g6(-edge[i]);
    }
}

/* The time cache: window bounds that a firing emits key after key cycle through a few values
 * (fewer, as many as, and more than it keeps), cycles broken by other times, days and years the
 * fast form does not cover; every text against the reference. */
static void test_time_cycles(void **state)
{
    (void)state;
    uint64_t r = 17;
    const int64_t base = 1704067200000LL; /* 2024-01-01 */
    for (int len = 1; len <= WR_NUMFMT_TIME_WAYS + 5; len++) {
        wr_numfmt_time_t c = {0};
        for (int k = 0; k < 50; k++)
            for (int j = 0; j < len; j++) {
                s_time(&c, base + (int64_t)j * 60000);
                if (wr_splitmix64(&r) % 97 == 0) s_time(&c, base + (int64_t)(r % 1000) * 86400000);
                if (wr_splitmix64(&r) % 211 == 0) s_time(&c, -62167219200001LL - (int64_t)(r % 99));
            }
    }
    wr_numfmt_time_t c = {0};
    for (int i = 0; i < 200000 / S_SCALE; i++) /* a mix over 24 values, some days apart */
        s_time(&c, base + (int64_t)(wr_splitmix64(&r) % 24) * 43200000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_values),
        cmocka_unit_test(test_special_doubles),
        cmocka_unit_test(test_powers_of_ten_and_neighbours),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_values_with_few_bits),
        cmocka_unit_test(test_random_bit_patterns),
        cmocka_unit_test(test_typical_values),
        cmocka_unit_test(test_integral_doubles),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_fixed_notation_range),
        cmocka_unit_test(test_time_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
