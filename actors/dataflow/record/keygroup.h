/* Key groups: the unit of keyed state and of rescaling (Flink's KeyGroupRangeAssignment).
 * A key hashes to one of max_parallelism key groups; subtask i of p owns a contiguous range of
 * them. Restoring at another parallelism only moves whole key groups between subtasks. */
#ifndef WR_KEYGROUP_H
#define WR_KEYGROUP_H

#include <stddef.h>
#include <stdint.h>

/* A strong 64-bit mix (splitmix64's finaliser): int keys hash with it directly. */
static inline uint64_t wr_hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* FNV-1a over bytes, then mixed: string keys. */
static inline uint64_t wr_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return wr_hash_u64(h);
}

static inline uint32_t wr_key_group(uint64_t key_hash, uint32_t max_parallelism)
{
    return (uint32_t)(key_hash % max_parallelism);
}

/* The subtask (of parallelism p) that owns key group kg. */
static inline uint32_t wr_key_group_owner(uint32_t kg, uint32_t max_parallelism, uint32_t p)
{
    return (uint32_t)((uint64_t)kg * p / max_parallelism);
}

/* The key groups subtask i of p owns: [*lo, *hi) (contiguous; empty when it owns none). */
static inline void wr_key_group_range(uint32_t max_parallelism, uint32_t i, uint32_t p,
                                      uint32_t *lo, uint32_t *hi)
{
    *lo = max_parallelism;
    *hi = 0;
    for (uint32_t kg = 0; kg < max_parallelism; kg++) {
        if (wr_key_group_owner(kg, max_parallelism, p) != i) continue;
        if (kg < *lo) *lo = kg;
        *hi = kg + 1;
    }
    if (*lo > *hi) *lo = *hi;
}

#endif
