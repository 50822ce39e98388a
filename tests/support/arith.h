/* Integer helpers of the oracles (window_oracle.c, pipeline_oracle*.c): event-time arithmetic on
 * windows, which may start before 0. */
#ifndef WR_TEST_ARITH_H
#define WR_TEST_ARITH_H

#include <stdint.h>

/* floor(a / b) for b > 0, also for negative a (C's / truncates towards 0). */
static inline int64_t wr_test_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The greatest common divisor of a and b (> 0): a sliced window's pane length. */
static inline int64_t wr_test_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

#endif
