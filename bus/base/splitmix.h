/* splitmix64 (Steele, Lea, Flood 2014): a tiny, fast, well-mixed pseudo-random sequence for tests
 * and benchmarks. Not for anything that must be unpredictable. */
#ifndef WR_SPLITMIX_H
#define WR_SPLITMIX_H

#include <stdint.h>

/* The next value of the sequence whose state is *s (any start value). */
static inline uint64_t wr_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
