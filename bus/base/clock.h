/* Monotonic clocks. wr_now_ns costs ~25 ns here, wr_coarse_ns ~3 ns with a few ms of resolution:
 * use the coarse one on per-message paths where milliseconds are enough (mailbox enqueue times). */
#ifndef WR_CLOCK_H
#define WR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t wr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t wr_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t wr_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
