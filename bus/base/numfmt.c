/* How the doubles stay exact without printf: "%.Pg" needs the P-digit decimal rounding of |v| and
 * its decimal exponent X. We scale |v| by 10^k (k = P-1-X) so that the result t lies in
 * [10^(P-1), 10^P), and round t to an integer. 10^k is exact in a double for |k| <= 22, and with
 * fma the scaled value is known as a pair hi + lo: exactly (hi + lo == |v| * 10^k) when we
 * multiply, and with lo's error far below 2^-50 when we divide (the remainder |v| - hi * 10^-k is
 * exact). So t's integer part is exact and its fraction is known to ~1e-15; only a fraction within
 * 1e-9 of one half (a possible tie, where glibc rounds half to even on the exact binary value) or
 * an exponent out of the exact range goes to snprintf. For JSON, see s_json_scaled. The "%.6g"
 * of what sensors and window aggregates mostly give (below 10^6, printed without an exponent)
 * needs only a plain product, its text put together in registers: s_g6_fast. */
#include "bus/base/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char s_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

static const double s_p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t s_u10[19] = {1ull,
                                   10ull,
                                   100ull,
                                   1000ull,
                                   10000ull,
                                   100000ull,
                                   1000000ull,
                                   10000000ull,
                                   100000000ull,
                                   1000000000ull,
                                   10000000000ull,
                                   100000000000ull,
                                   1000000000000ull,
                                   10000000000000ull,
                                   100000000000000ull,
                                   1000000000000000ull,
                                   10000000000000000ull,
                                   100000000000000000ull,
                                   1000000000000000000ull};

/* 10^-22 .. 10^22 (rounded below 10^0: only a first guess of the exponent uses them). */
static const double s_p10_all[45] = {1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14,
                                     1e-13, 1e-12, 1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,
                                     1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,   1e2,   1e3,   1e4,
                                     1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,
                                     1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22};

/* Decimal digits of v < 2^32, written right-aligned to end at `end`; returns where they start. */
static char *s_u32_back(char *end, uint32_t v)
{
    char *p = end;
    while (v >= 100) {
        uint32_t r = v % 100;
        v /= 100;
        p -= 2;
        memcpy(p, s_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, s_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

/* Exactly 8 digits of v < 10^8 (leading zeros kept), ending at end. */
static void s_8digits(char *end, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        end -= 2;
        memcpy(end, s_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
}

/* Decimal digits of v, right-aligned to end at `end`; returns where they start. 32-bit
 * arithmetic: 64-bit divisions are what made the obvious loop slow. */
static char *s_u64_back(char *end, uint64_t v)
{
    if (v >> 32 == 0) return s_u32_back(end, (uint32_t)v);
    uint64_t hi = v / 100000000;
    s_8digits(end, (uint32_t)(v % 100000000));
    end -= 8;
    if (hi >> 32 == 0) return s_u32_back(end, (uint32_t)hi);
    s_8digits(end, (uint32_t)(hi % 100000000));
    return s_u32_back(end - 8, (uint32_t)(hi / 100000000));
}

size_t wr_numfmt_i64(char *out, int64_t v)
{
    char tmp[WR_NUMFMT_I64_MAX];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = s_u64_back(tmp + sizeof tmp, u);
    if (v < 0) *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    return n;
}

/* ---- doubles ---- */

/* Dekker's exact product: a * b == *hi + *lo (no fma instruction needed; no overflow here). */
static void s_two_product(double a, double b, double *hi, double *lo)
{
    const double split = 134217729.0; /* 2^27 + 1 */
    double ca = split * a, cb = split * b;
    double ah = ca - (ca - a), al = a - ah;
    double bh = cb - (cb - b), bl = b - bh;
    *hi = a * b;
    *lo = ((ah * bh - *hi) + ah * bl + al * bh) + al * bl;
}

/* a * 10^k (a > 0, |k| <= 22) as its integer part *ip and its fraction *frac in [0, 1). */
static void s_scale(double a, int k, uint64_t *ip, double *frac)
{
    double hi, lo;
    if (k >= 0) {
        s_two_product(a, s_p10[k], &hi, &lo);
    } else {
        double p = s_p10[-k], ph, pl;
        hi = a / p;
        s_two_product(hi, p, &ph, &pl);
        lo = ((a - ph) - pl) / p; /* a - hi * p, exact, over p */
    }
    uint64_t fh = (uint64_t)hi; /* hi is positive and below 2^63: truncation is floor */
    double rem = (hi - (double)fh) + lo;
    int64_t fr = (int64_t)rem; /* |rem| < 2^4 + 1 (lo is at most half an ulp of hi < 2^60) */
    fr -= (int64_t)((double)fr > rem); /* floor; no branch: rem's sign is a coin toss */
    *ip = fh + (uint64_t)fr;
    *frac = rem - (double)fr;
}

/* The binary exponent of a normal a: a in [2^e2, 2^(e2+1)). */
static int s_exp2(double a)
{
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    return (int)((bits >> 52) & 0x7ff) - 1023;
}

/* floor(log10 a) for a normal a > 0, mostly right: floor(e2 log10 2) is it or one less, and one
 * comparison with a power of ten (rounded below 10^0) settles most of the rest. Callers check
 * the scaled value and step the exponent if it was off. */
static int s_e10_guess(double a)
{
    int e = (s_exp2(a) * 78913) >> 18;
    if (e >= -22 && e < 22 && a >= s_p10_all[e + 23]) e++;
    return e;
}

/* a > 0 scaled into [10^(P-1), 10^P) (P in 1..17), unrounded: integer part *ip, fraction *frac,
 * a's decimal exponent *e10 (floor(log10 a)). false when |v| is out of the exact range. */
static bool s_find(double a, int P, uint64_t *ip, double *frac, int *e10)
{
    int e = s_e10_guess(a); /* one scaling, mostly */
    for (int tries = 0; tries < 3; tries++) {
        int k = P - 1 - e;
        if (k > 22 || k < -22) return false;
        s_scale(a, k, ip, frac);
        if (*ip < s_u10[P - 1]) {
            e--;
        } else if (*ip >= s_u10[P]) {
            e++;
        } else {
            *e10 = e;
            return true;
        }
    }
    return false;
}

/* |v| = a > 0 rounded to P (1..17) significant digits: m in [10^(P-1), 10^P) and the decimal
 * exponent *x of its first digit. false when the fast arithmetic cannot be sure. */
static bool s_digits(double a, int P, uint64_t *m, int *x)
{
    double frac;
    if (!s_find(a, P, m, &frac, x) || fabs(frac - 0.5) < 1e-9) return false;
    if (frac > 0.5 && ++*m == s_u10[P]) {
        *m = s_u10[P - 1];
        ++*x;
    }
    return true;
}

/* "%.Pg" of the value (neg ? -1 : 1) * m * 10^(x-P+1), m having exactly P digits; with dot0,
 * ".0" after a text that has neither a '.' nor an exponent. */
static size_t s_emit_g(char *out, bool neg, uint64_t m, int x, int P, bool dot0)
{
    char buf[20];
    char *d = s_u64_back(buf + sizeof buf, m); /* P digits */
    int nd = P;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    char *p = out;
    if (neg) *p++ = '-';
    if (x < -4 || x >= P) {
        *p++ = d[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)nd - 1);
            p += nd - 1;
        }
        *p++ = 'e';
        *p++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)abs(x);
        if (ax >= 100) {
            *p++ = (char)('0' + ax / 100);
            ax %= 100;
        }
        memcpy(p, s_pairs + 2 * ax, 2);
        p += 2;
    } else if (x >= 0) {
        memcpy(p, d, (size_t)x + 1);
        p += x + 1;
        if (nd > x + 1) {
            *p++ = '.';
            memcpy(p, d + x + 1, (size_t)(nd - x - 1));
            p += nd - x - 1;
        } else if (dot0) {
            memcpy(p, ".0", 2);
            p += 2;
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -x - 1; i++)
            *p++ = '0';
        memcpy(p, d, (size_t)nd);
        p += nd;
    }
    return (size_t)(p - out);
}

static size_t s_copy(char *out, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    memcpy(out, s, n);
    return n;
}

/* The text of m (6 digits) times 10^(x-5) as "%.6g" writes it in fixed notation (-4 <= x <= 5),
 * put together in 64-bit words, a byte a character (little-endian: the first character in the
 * low byte), and stored whole: at most 13 bytes of out. Built in registers: a text assembled in a
 * buffer by small stores and read back as a word waits for the stores to drain (measured: most of
 * the time of the first version). */
static size_t s_fixed6(char *out, bool neg, uint32_t m, int x)
{
    uint16_t d01, d23, d45;
    uint32_t r = m % 10000;
    memcpy(&d01, s_pairs + 2 * (m / 10000), 2);
    memcpy(&d23, s_pairs + 2 * (r / 100), 2);
    memcpy(&d45, s_pairs + 2 * (r % 100), 2);
    /* the six digits in bytes 0..5, '0' in bytes 6 and 7 */
    uint64_t v = d01 | (uint64_t)d23 << 16 | (uint64_t)d45 << 32 | (uint64_t)0x3030 << 48;
    /* nd: the digits up to the last that is not '0' (the first never is) */
    int nd = 8 - __builtin_clzll(v ^ 0x3030303030303030ull) / 8;
    out[0] = '-';
    out += neg;
    if (x >= 0) { /* x + 1 digits, then the point and the rest, if any: at most 7 bytes */
        unsigned ib = 8 * (unsigned)(x + 1);
        uint64_t w = (v & ((1ull << ib) - 1)) | (uint64_t)'.' << ib | (v >> ib) << (ib + 8);
        memcpy(out, &w, 8);
        return (size_t)(nd > x + 1 ? nd + 1 : x + 1) + neg;
    }
    /* "0.", -x - 1 zeros (lb bytes in all), then the digits: at most 11 bytes */
    unsigned lb = 8 * (unsigned)(1 - x);
    uint64_t w0 = (0x303030302e30ull & ((1ull << lb) - 1)) | v << lb;
    uint32_t w1 = (uint32_t)(v >> (64 - lb));
    memcpy(out, &w0, 8);
    memcpy(out + 8, &w1, 4);
    return (size_t)(1 - x + nd) + neg;
}

/* The common case of wr_numfmt_g6: a (> 0) below 10^6 and rounding to an exponent in -4..5. One
 * product a * 10^k (exact 10^k, k in 0..10) is within 2^-33 of the exact one, as it is below
 * 2^20; so away from a tie (1e-9) it rounds the same. false: not decided here. */
static bool s_g6_fast(char *out, bool neg, double a, size_t *len)
{
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) return false; /* s_fixed6's words */
    int e = s_e10_guess(a);
    if (e < -5 || e > 5) return false;
    double t = a * s_p10[5 - e];
    if (!(t >= 100000.0 && t < 1000000.0)) return false; /* e was off: the general path */
    uint32_t m = (uint32_t)t;
    double frac = t - (double)m; /* exact */
    if (fabs(frac - 0.5) < 1e-9) return false;
    m += frac > 0.5; /* no branch: for readings with all their digits it is a coin toss */
    if (m == 1000000) {
        m = 100000;
        e++;
    }
    if (e < -4 || e > 5) return false;
    *len = s_fixed6(out, neg, m, e);
    return true;
}

size_t wr_numfmt_g6(char *out, double v)
{
    bool neg = signbit(v);
    if (v == 0) return s_copy(out, neg ? "-0" : "0", 2);
    if (isfinite(v)) {
        uint64_t m;
        int x;
        size_t len;
        if (s_g6_fast(out, neg, fabs(v), &len)) return len;
        if (s_digits(fabs(v), 6, &m, &x)) return s_emit_g(out, neg, m, x, 6, false);
    }
    char tmp[WR_NUMFMT_G6_MAX + 1];
    snprintf(tmp, sizeof tmp, "%.6g", v);
    return s_copy(out, tmp, WR_NUMFMT_G6_MAX);
}

/* The old loop, for what the fast path cannot decide. */
static size_t s_json_slow(char *out, double v)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    size_t n = s_copy(out, tmp, WR_NUMFMT_JSON_MAX - 2);
    if (!strpbrk(tmp, ".eE")) {
        memcpy(out + n, ".0", 2);
        n += 2;
    }
    return n;
}

/* The JSON text of a double the integer path did not take: a = |v| scaled once to 17 digits,
 * t = I + f; the 15- and 16-digit roundings come from the same t. Such a rounding D reads back
 * to v when it lies strictly within half a gap of v's neighbours: |D - t| < h in t's units, h being
 * half an ulp of a (half of that below a power of two, where the gap under a is half as wide).
 * Near a tie or near that bound, snprintf and strtod decide. */
static size_t s_json_scaled(char *out, double v)
{
    double a = fabs(v), f;
    uint64_t I;
    int e10;
    if (!s_find(a, 17, &I, &f, &e10)) return s_json_slow(out, v);
    int e2 = s_exp2(a), k = 16 - e10;
    uint64_t hbits = (uint64_t)(e2 - 53 + 1023) << 52, bits;
    double h;
    memcpy(&h, &hbits, sizeof h); /* 2^(e2-53): e2 - 53 stays normal in the range s_find took */
    h = k >= 0 ? h * s_p10[k] : h / s_p10[-k];
    memcpy(&bits, &a, sizeof bits);
    bool pow2 = (bits & ((1ull << 52) - 1)) == 0;
    /* k >= 0: s_scale multiplied, so I + f is exactly a * 10^k (f is the exact fraction) */
    const bool exact = k >= 0;
    for (int P = 15; P <= 17; P++) {
        uint64_t div = s_u10[17 - P], q = I / div, r = I % div;
        double half = (double)(div / 2); /* half a unit of the P-th digit (0 when P == 17) */
        double d = P == 17 ? f - 0.5 : (double)r - half + f; /* > 0: round up */
        bool up = d > 0;
        if (fabs(d) < 1e-7) { /* a tie, or too near one to tell */
            /* half a unit of the P-th digit away from v either way: none reads back when that
             * is more than half a gap (always at 15 digits: 50 units against h < 12) */
            if (P < 17 && half - 1e-6 > h) continue;
            if (P < 17 || !exact || d != 0) return s_json_slow(out, v);
            up = q & 1; /* an exact tie at 17 digits (values with few bits have many): printf
                         * rounds half to even */
        } else if (P < 17) {
            double delta = up ? (double)(div - r) - f : -((double)r + f);
            double lim = delta < 0 && pow2 ? h / 2 : h;
            if (fabs(fabs(delta) - lim) < 1e-7 * lim) return s_json_slow(out, v);
            if (fabs(delta) >= lim) continue;
        }
        int x = e10;
        if ((q += up) == s_u10[P]) {
            q = s_u10[P - 1];
            x++;
        }
        return s_emit_g(out, signbit(v), q, x, P, true);
    }
    return 0; /* not reached: P == 17 returns */
}

size_t wr_numfmt_json_double(char *out, double v)
{
    if (!isfinite(v)) return s_copy(out, "null", 4);
    if (fabs(v) < 1e15 && (double)(int64_t)v == v) { /* "%.15g" prints these as integers */
        int64_t i = (int64_t)v;
        size_t n = i == 0 && signbit(v) ? s_copy(out, "-0", 2) : wr_numfmt_i64(out, i);
        memcpy(out + n, ".0", 2);
        return n + 2;
    }
    return s_json_scaled(out, v);
}

/* ---- times ---- */

#define S_DAY_MS 86400000LL

static void s_put2(char *p, unsigned v)
{
    memcpy(p, s_pairs + 2 * v, 2);
}

/* "HH:MM:SS.mmmZ" at p, from the milliseconds into the day. */
static void s_put_clock(char *p, int64_t msod)
{
    unsigned secs = (unsigned)(msod / 1000), ms = (unsigned)(msod % 1000);
    s_put2(p, secs / 3600);
    p[2] = ':';
    s_put2(p + 3, secs / 60 % 60);
    p[5] = ':';
    s_put2(p + 6, secs % 60);
    p[8] = '.';
    p[9] = (char)('0' + ms / 100);
    s_put2(p + 10, ms % 100);
    p[12] = 'Z';
}

/* The date of a day since 1970-01-01, proleptic Gregorian (H. Hinnant's civil_from_days). */
static void s_civil(int64_t z, int64_t *y, unsigned *mon, unsigned *mday)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *mday = doy - (153 * mp + 2) / 5 + 1;
    *mon = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*mon <= 2);
}

/* gmtime_r and printf, for the years the fast form does not cover. */
static size_t s_time_slow(char *out, int64_t ms)
{
    int64_t secs = ms / 1000 - (ms % 1000 < 0);
    time_t t = (time_t)secs;
    struct tm tm;
    char tmp[WR_NUMFMT_TIME_MAX + 16];
    if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - secs * 1000));
    return s_copy(out, tmp, WR_NUMFMT_TIME_MAX);
}

/* The text of ms (years 0..9999) into text[WR_NUMFMT_TIME_LEN], the day's date from c's. false:
 * a year the fast form does not cover. */
static bool s_time_fast(wr_numfmt_time_t *c, int64_t ms, char *text)
{
    int64_t day = ms / S_DAY_MS - (ms % S_DAY_MS < 0);
    if (!c->day_ok || c->day != day) {
        int64_t y;
        unsigned mon, mday;
        s_civil(day, &y, &mon, &mday);
        if (y < 0 || y > 9999) return false;
        s_put2(c->date, (unsigned)(y / 100));
        s_put2(c->date + 2, (unsigned)(y % 100));
        c->date[4] = '-';
        s_put2(c->date + 5, mon);
        c->date[7] = '-';
        s_put2(c->date + 8, mday);
        c->date[10] = 'T';
        c->day = day;
        c->day_ok = true;
    }
    memcpy(text, c->date, 11);
    s_put_clock(text + 11, ms - day * S_DAY_MS);
    return true;
}

size_t wr_numfmt_time(wr_numfmt_time_t *c, int64_t ms, char *out)
{
    unsigned w = c->last, n = c->n;
    if (n && c->ms[w] != ms) {
        w = w + 1 < n ? w + 1 : 0; /* a cycle comes round in order */
        for (unsigned i = 0; i < n && c->ms[w] != ms; i++)
            w = w + 1 < n ? w + 1 : 0;
    }
    if (!n || c->ms[w] != ms) { /* not kept: formatted into the entry replaced next */
        w = n < WR_NUMFMT_TIME_WAYS ? n : c->next;
        if (!s_time_fast(c, ms, c->text[w])) return s_time_slow(out, ms);
        c->ms[w] = ms;
        if (n < WR_NUMFMT_TIME_WAYS)
            c->n++;
        else
            c->next = (uint8_t)((c->next + 1) % WR_NUMFMT_TIME_WAYS);
    }
    c->last = (uint8_t)w;
    memcpy(out, c->text[w], WR_NUMFMT_TIME_LEN);
    return WR_NUMFMT_TIME_LEN;
}
