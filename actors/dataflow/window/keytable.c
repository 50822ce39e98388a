/* The key index of a window engine (see keytable.h). */
#include "actors/dataflow/window/keytable.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bus/base/error.h"

#define S_HUGE     WR__HUGE
#define S_TRIM_MIN ((size_t)64 << 20) /* unused entry memory worth giving back */

static size_t s_round(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

void *wr__huge_map(size_t bytes)
{
    uint8_t *raw = mmap(NULL, bytes + S_HUGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uint8_t *p = (uint8_t *)s_round((uintptr_t)raw, S_HUGE);
    if (p > raw) munmap(raw, (size_t)(p - raw));
    if (p + bytes < raw + bytes + S_HUGE)
        munmap(p + bytes, (size_t)(raw + bytes + S_HUGE - (p + bytes)));
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: fine if THP is off */
    return p;
}

void *wr__remap(void *old, size_t old_bytes, size_t bytes, void *dst)
{
#ifdef __SANITIZE_THREAD__
    void *m =
        dst ? dst : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return MAP_FAILED;
    memcpy(m, old, old_bytes < bytes ? old_bytes : bytes);
    munmap(old, old_bytes);
    return m;
#else
    return dst ? mremap(old, old_bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, dst)
               : mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
#endif
}

int wr__huge_grow(void **p, size_t old, size_t bytes)
{
    uint8_t *dst = wr__huge_map(bytes); /* the pages move (no copy) to a fresh aligned range */
    if (!dst) return WR_ENOMEM;
    if (wr__remap(*p, old, bytes, dst) == MAP_FAILED) {
        munmap(dst, bytes);
        return WR_ENOMEM;
    }
    madvise(dst, bytes, MADV_HUGEPAGE);
    *p = dst;
    return 0;
}

static int s_index(wr__keytable_t *t, uint32_t nslots)
{
    size_t bytes = s_round((size_t)nslots * 4, S_HUGE);
    uint32_t *s = wr__huge_map(bytes);
    if (!s) return WR_ENOMEM;
    if (t->slots) munmap(t->slots, t->slots_bytes);
    t->slots = s;
    t->slots_bytes = bytes;
    t->nslots = nslots;
    for (uint32_t e = 0; e < t->count; e++) {
        uint64_t h = wr__kt_hash(wr__kt_key(t, e));
        uint32_t i = wr__kt_home(t, h);
        while (t->slots[i])
            if (++i == t->nslots) i = 0;
        t->slots[i] = wr__kt_tag(h) | (e + 1);
    }
    return 0;
}

static uint32_t s_slots_for(uint64_t keys)
{
    uint64_t n = keys + keys / 3 + 4096; /* load 0.75 at `keys`; growth past 0.8 */
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

wr__keytable_t *wr__kt_new(uint64_t expected_keys, size_t payload, bool prefault)
{
    if (expected_keys > WR__KT_MAX_KEYS) return NULL;
    wr__keytable_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->stride = 8 + payload;
    uint64_t cap = expected_keys < 1024 ? 1024 : expected_keys;
    t->map_bytes = s_round(cap * t->stride, S_HUGE);
    t->cap = (uint32_t)(t->map_bytes / t->stride > WR__KT_MAX_KEYS ? WR__KT_MAX_KEYS
                                                                   : t->map_bytes / t->stride);
    if (!(t->base = wr__huge_map(t->map_bytes)) || s_index(t, s_slots_for(cap))) {
        wr__kt_destroy(&t);
        return NULL;
    }
    if (prefault && expected_keys) {
        /* Fresh memory costs a page fault and a zeroing on first touch (~16 us per 4 KiB here,
         * ~1 ms per 2 MiB page): pay it now. A kernel without MADV_POPULATE_WRITE (< 5.14)
         * just leaves it to the data path. */
        size_t bytes = s_round((size_t)expected_keys * t->stride, S_HUGE);
        if (!madvise(t->base, bytes, MADV_POPULATE_WRITE))
            t->touched = t->keep = (uint32_t)(bytes / t->stride);
        madvise(t->slots, t->slots_bytes, MADV_POPULATE_WRITE);
    }
    return t;
}

void wr__kt_destroy(wr__keytable_t **tp)
{
    if (!tp || !*tp) return;
    wr__keytable_t *t = *tp;
    if (t->slots) munmap(t->slots, t->slots_bytes);
    if (t->base) munmap(t->base, t->map_bytes);
    free(t);
    *tp = NULL;
}

int wr__kt_reserve(wr__keytable_t *t, size_t more)
{
    uint64_t need = (uint64_t)t->count + more;
    if (need > WR__KT_MAX_KEYS) return WR_ETOOBIG;
    if (need > t->cap) {
        uint64_t cap = (uint64_t)t->cap * 2;
        if (cap < need) cap = need;
        size_t bytes = s_round(cap * t->stride, S_HUGE);
        void *base = t->base;
        if (wr__huge_grow(&base, t->map_bytes, bytes)) return WR_ENOMEM;
        t->base = base;
        t->map_bytes = bytes;
        t->cap =
            (uint32_t)(bytes / t->stride > WR__KT_MAX_KEYS ? WR__KT_MAX_KEYS : bytes / t->stride);
    }
    if (need * 5 > (uint64_t)t->nslots * 4) {
        uint64_t slots = (uint64_t)t->nslots * 2;
        if (slots < s_slots_for(need)) slots = s_slots_for(need);
        return s_index(t, slots > UINT32_MAX ? UINT32_MAX : (uint32_t)slots);
    }
    return 0;
}

uint32_t wr__kt_insert(wr__keytable_t *t, uint64_t key, uint64_t h, const void *init)
{
    uint32_t e = t->count++;
    uint8_t *p = wr__kt_entry(t, e);
    memcpy(p, &key, 8);
    memcpy(p + 8, init, t->stride - 8);
    if (t->count > t->touched) t->touched = t->count;
    uint32_t i = wr__kt_home(t, h);
    while (t->slots[i])
        if (++i == t->nslots) i = 0;
    t->slots[i] = wr__kt_tag(h) | (e + 1);
    return e;
}

/* The slot holding entry e (its key hashes to h). */
static uint32_t s_slot_of(const wr__keytable_t *t, uint32_t e, uint64_t h)
{
    uint32_t i = wr__kt_home(t, h), want = wr__kt_tag(h) | (e + 1);
    while (t->slots[i] != want)
        if (++i == t->nslots) i = 0;
    return i;
}

uint32_t wr__kt_remove(wr__keytable_t *t, uint32_t e)
{
    uint32_t hole = s_slot_of(t, e, wr__kt_hash(wr__kt_key(t, e)));
    /* Backward-shift: pull later members of the probe run into the hole when their home allows. */
    uint32_t j = hole;
    for (;;) {
        if (++j == t->nslots) j = 0;
        uint32_t v = t->slots[j];
        if (!v) break;
        uint32_t home = wr__kt_home(t, wr__kt_hash(wr__kt_key(t, (v & 0x03ffffffu) - 1)));
        /* v may move to hole iff home is not cyclically within (hole, j]. */
        int in = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in) {
            t->slots[hole] = v;
            hole = j;
        }
    }
    t->slots[hole] = 0;
    uint32_t last = --t->count;
    if (e == last) return WR__KT_NONE;
    uint64_t h = wr__kt_hash(wr__kt_key(t, last));
    t->slots[s_slot_of(t, last, h)] = wr__kt_tag(h) | (e + 1);
    memcpy(wr__kt_entry(t, e), wr__kt_entry(t, last), t->stride);
    return last;
}

void wr__kt_clear(wr__keytable_t *t)
{
    memset(t->slots, 0, (size_t)t->nslots * sizeof *t->slots);
    t->count = 0;
}

void wr__kt_trim(wr__keytable_t *t)
{
    size_t used = s_round((size_t)(t->count > t->keep ? t->count : t->keep) * t->stride, S_HUGE);
    size_t touched = s_round((size_t)t->touched * t->stride, S_HUGE);
    if (touched > used + S_TRIM_MIN && t->count < t->touched / 2) {
        madvise(t->base + used, touched - used, MADV_DONTNEED);
        t->touched = (uint32_t)(used / t->stride);
    }
}

size_t wr__kt_bytes(const wr__keytable_t *t)
{
    return t->slots_bytes + s_round((size_t)t->touched * t->stride, 4096);
}
