/* Numbers and times as text (numparse.h). */
#include "bus/base/numparse.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

static const double s_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool s_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

int wr_parse_int(const char *s, size_t len, int64_t *out)
{
    size_t i = len > 0 && s[0] == '-';
    if (i == len) return WR_EINVAL;
    uint64_t v = 0;
    bool overflow = false;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return WR_EINVAL;
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    bool neg = s[0] == '-';
    if (overflow || v > (neg ? (UINT64_C(1) << 63) : (uint64_t)INT64_MAX)) return WR_ETOOBIG;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* m * 10^exp10 (m < 2^64, |exp10| <= 27) correctly rounded through the x87's 64-bit significand,
 * or false when that cannot be told. Both operands are exact there (10^27 = 5^27 * 2^27, and 5^27
 * < 2^64), so the one extended operation rounds the exact value x once, to r; rounding r to double
 * then gives round(x), unless r is exactly the midpoint of two doubles (its 11 bits below a
 * double's 53 are 10000000000): then x may lie on either side of it, and the caller asks strtod.
 * For the 16- to 19-digit numbers a program writes with every digit a double needs (17 for most),
 * which Clinger's path cannot take: m > 2^53. */
static bool s_extended_double(uint64_t m, int exp10, double *out)
{
#if LDBL_MANT_DIG == 64 && defined(__x86_64__)
    static const long double pow10[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,
                                        1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
                                        1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
                                        1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
    if (exp10 < -27 || exp10 > 27) return false;
    long double r = exp10 < 0 ? (long double)m / pow10[-exp10] : (long double)m * pow10[exp10];
    uint64_t significand; /* the x87 format's first 8 bytes: all 64 bits, the integer bit first */
    memcpy(&significand, &r, sizeof significand);
    if ((significand & 0x7ff) == 0x400) return false;
    *out = (double)r;
    return true;
#else
    (void)m;
    (void)exp10;
    (void)out;
    return false;
#endif
}

/* strtod on a NUL-terminated copy: only for numbers the exact fast paths cannot take. */
static int s_slow_double(const char *s, size_t len, double *out)
{
    char small[128];
    char *copy = len < sizeof small ? small : malloc(len + 1);
    if (!copy) return WR_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    errno = 0;
    double v = strtod(copy, NULL);
    if (copy != small) free(copy);
    if (isinf(v)) return WR_ETOOBIG;
    *out = v;
    return 0;
}

int wr_parse_double(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    bool neg = p < e && *p == '-';
    p += neg;
    if (p == e || !s_digit(*p)) return WR_EINVAL;
    uint64_t m = 0;
    int nd = 0, exp10 = 0;
    bool dropped = false; /* a nonzero digit beyond the 19 kept */
    for (; p < e && s_digit(*p); p++) {
        int d = *p - '0';
        if (m == 0 && d == 0) continue;
        if (nd < 19) {
            m = m * 10 + (uint64_t)d;
            nd++;
        } else {
            exp10++;
            dropped |= d != 0;
        }
    }
    if (p < e && *p == '.') {
        p++;
        if (p == e || !s_digit(*p)) return WR_EINVAL;
        for (; p < e && s_digit(*p); p++) {
            int d = *p - '0';
            if (m == 0 && d == 0) {
                exp10--;
            } else if (nd < 19) {
                m = m * 10 + (uint64_t)d;
                nd++;
                exp10--;
            } else {
                dropped |= d != 0;
            }
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = p < e && *p == '-';
        if (p < e && (*p == '-' || *p == '+')) p++;
        if (p == e || !s_digit(*p)) return WR_EINVAL;
        int x = 0;
        for (; p < e && s_digit(*p); p++)
            if (x < 100000) x = x * 10 + (*p - '0');
        exp10 += eneg ? -x : x;
    }
    if (p != e) return WR_EINVAL;
    double v;
    if (m == 0) {
        v = 0.0;
    } else if (!dropped && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* both operands exact, so one IEEE operation rounds correctly (Clinger) */
        v = exp10 < 0 ? (double)m / s_pow10[-exp10] : (double)m * s_pow10[exp10];
    } else if (dropped || !s_extended_double(m, exp10, &v)) {
        return s_slow_double(s, len, out);
    }
    *out = neg ? -v : v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at s as a number, or -1. */
static int s_digits(const char *s, const char *e, int n)
{
    if (e - s < n) return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!s_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int wr_parse_time(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *e = s + len;
    size_t i = len > 0 && s[0] == '-';
    while (i < len && s_digit(s[i]))
        i++;
    if (i == len) return wr_parse_int(s, len, out);

    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = s_digits(p, e, 4), mo = s_digits(p + 5, e, 2), d = s_digits(p + 8, e, 2);
    if (y < 0 || mo < 0 || d < 0 || p[4] != '-' || p[7] != '-') return WR_EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return WR_EINVAL;
    p += 10;
    int hh = 0, mm = 0, ss = 0, ms = 0, zone_min = 0;
    if (p < e) {
        if (*p != 'T' && *p != 't' && *p != ' ') return WR_EINVAL;
        hh = s_digits(p + 1, e, 2);
        if (hh < 0 || p + 3 >= e || p[3] != ':') return WR_EINVAL;
        mm = s_digits(p + 4, e, 2);
        if (mm < 0) return WR_EINVAL;
        p += 6;
        if (p < e && *p == ':') {
            ss = s_digits(p + 1, e, 2);
            if (ss < 0) return WR_EINVAL;
            p += 3;
            if (p < e && (*p == '.' || *p == ',')) {
                p++;
                int nf = 0;
                for (; p < e && s_digit(*p); p++, nf++)
                    if (nf < 3) ms = ms * 10 + (*p - '0');
                if (nf == 0 || nf > 9) return WR_EINVAL;
                for (; nf < 3; nf++)
                    ms *= 10;
            }
        }
        if (hh > 23 || mm > 59 || ss > 59) return WR_EINVAL;
        if (p < e && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < e && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1, zh = s_digits(p + 1, e, 2), zm;
            p += 3;
            if (p < e && *p == ':') p++;
            zm = s_digits(p, e, 2);
            p += 2;
            if (zh < 0 || zm < 0 || zh > 23 || zm > 59) return WR_EINVAL;
            zone_min = sign * (zh * 60 + zm);
        }
        if (p != e) return WR_EINVAL;
    }
    int64_t days = s_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = ((days * 24 + hh) * 60 + mm - zone_min) * 60 + ss;
    *out = secs * 1000 + ms;
    return 0;
}
