/* The key index of a window engine: u64 key ids -> dense fixed-size entries (internal).
 *
 * Entries are packed back to back in one big mapping (mmap + MADV_HUGEPAGE, grown by mremap):
 * entry e is `stride` bytes at base + e * stride, its first 8 bytes the key, the rest a payload the
 * caller owns. Live entries are always 0..count-1: removal moves the last entry into the hole, so a
 * sweep over the state is one sequential pass and memory is proportional to live keys.
 *
 * The index is an open-addressing table (linear probing, backward-shift deletion, load <= 0.8)
 * of u32 slots: 0 = empty, else (6-bit hash tag << 26) | (entry + 1). 4 bytes a slot keeps it
 * small (27 MB for 5M keys) and the tag avoids touching entries of other keys while probing; the
 * key itself is compared in the entry, which the caller reads anyway. At most 2^26 - 2 keys.
 *
 * Hot path: callers process a batch in stages (see window_slice.c): hash + prefetch the index
 * slot of record i + 2d, wr__kt_candidate + prefetch the entry of record i + d, then
 * wr__kt_find_or_insert for record i. Call wr__kt_reserve(n) before a batch of n records so no
 * insert reallocates (entry pointers stay valid through the batch). */
#ifndef WR_KEYTABLE_H
#define WR_KEYTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WR__KT_NONE     UINT32_MAX
#define WR__KT_MAX_KEYS ((1u << 26) - 2)

/* Memory for tables reached at random (entries, the index, sketch blocks): anonymous mappings,
 * 2 MiB aligned, with transparent huge pages asked for (THP's "madvise" mode gives them only where
 * asked; with 4 KiB pages nearly every random access also walks the page table). */
#define WR__HUGE ((size_t)2 << 20)
/* A mapping of bytes (a multiple of WR__HUGE); NULL on failure. Fresh memory reads as zeros;
 * munmap frees it. */
void *wr__huge_map(size_t bytes);
/* Moves the mapping *p of old bytes to a fresh one of bytes (> old, a multiple of WR__HUGE): its
 * pages move, nothing is copied; *p is set to it. 0, or WR_ENOMEM with *p unchanged. */
int wr__huge_grow(void **p, size_t old, size_t bytes);
/* mremap(old, old_bytes, bytes, MREMAP_MAYMOVE), or with dst (a mapping of bytes) into dst
 * (MREMAP_FIXED): the pages move. MAP_FAILED on failure (old stays). In a ThreadSanitizer build
 * the pages are copied instead (a fresh mapping, or dst, then munmap of old): TSan does not
 * intercept mremap, so the shadow of the range it vacates keeps the old owner's accesses, and a
 * later mapping of another thread at that address was reported as racing with them (a false
 * report; google/sanitizers#1099). */
void *wr__remap(void *old, size_t old_bytes, size_t bytes, void *dst);

typedef struct {
    uint32_t *slots;
    uint32_t nslots;
    size_t slots_bytes; /* mapped */
    uint8_t *base;      /* entries */
    size_t stride;
    uint32_t count;   /* live entries */
    uint32_t cap;     /* entries the mapping holds */
    size_t map_bytes; /* mapped for entries */
    uint32_t touched; /* entries ever written since the last release: memory in use */
    uint32_t keep;    /* entries prefaulted: never released */
} wr__keytable_t;

/* Mixes a key id into a well-spread 64-bit hash (keys are often small integers). */
static inline uint64_t wr__kt_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint32_t wr__kt_home(const wr__keytable_t *t, uint64_t h)
{
    return (uint32_t)(((h & 0xffffffffu) * (uint64_t)t->nslots) >> 32);
}

static inline uint32_t wr__kt_tag(uint64_t h)
{
    return (uint32_t)(h >> 58) << 26;
}

static inline uint8_t *wr__kt_entry(const wr__keytable_t *t, uint32_t e)
{
    return t->base + (size_t)e * t->stride;
}

static inline uint64_t wr__kt_key(const wr__keytable_t *t, uint32_t e)
{
    uint64_t k;
    memcpy(&k, wr__kt_entry(t, e), 8);
    return k;
}

static inline void wr__kt_prefetch_slot(const wr__keytable_t *t, uint64_t h)
{
    __builtin_prefetch(&t->slots[wr__kt_home(t, h)]);
}

/* The entry of the first slot on h's probe path whose tag matches (maybe another key), or
 * WR__KT_NONE. Reads only the index. */
static inline uint32_t wr__kt_candidate(const wr__keytable_t *t, uint64_t h)
{
    uint32_t i = wr__kt_home(t, h), tag = wr__kt_tag(h);
    for (;;) {
        uint32_t v = t->slots[i];
        if (!v) return WR__KT_NONE;
        if ((v & 0xfc000000u) == tag) return (v & 0x03ffffffu) - 1;
        if (++i == t->nslots) i = 0;
    }
}

/* The entry of key (hash h), or WR__KT_NONE. */
static inline uint32_t wr__kt_find(const wr__keytable_t *t, uint64_t key, uint64_t h)
{
    uint32_t i = wr__kt_home(t, h), tag = wr__kt_tag(h);
    for (;;) {
        uint32_t v = t->slots[i];
        if (!v) return WR__KT_NONE;
        if ((v & 0xfc000000u) == tag && wr__kt_key(t, (v & 0x03ffffffu) - 1) == key)
            return (v & 0x03ffffffu) - 1;
        if (++i == t->nslots) i = 0;
    }
}

/* Creates a table for about expected_keys keys with `payload` bytes after each key; with
 * prefault, the memory for that many keys is touched now rather than on the data path. NULL on
 * OOM or more than WR__KT_MAX_KEYS expected. */
wr__keytable_t *wr__kt_new(uint64_t expected_keys, size_t payload, bool prefault);
/* Unmaps everything. NULL-safe; nulls *t. */
void wr__kt_destroy(wr__keytable_t **t);
/* Makes room for `more` inserts without reallocation. 0, WR_ENOMEM, or WR_ETOOBIG past
 * WR__KT_MAX_KEYS keys. */
int wr__kt_reserve(wr__keytable_t *t, size_t more);
/* Inserts key (absent; hash h) as entry `count`, with its payload copied from `init` (payload
 * bytes) and returns its index. Needs a prior wr__kt_reserve. */
uint32_t wr__kt_insert(wr__keytable_t *t, uint64_t key, uint64_t h, const void *init);
/* Removes entry e: the last entry moves into e. Returns the old index of the entry that moved
 * (now at e), or WR__KT_NONE when e was the last. */
uint32_t wr__kt_remove(wr__keytable_t *t, uint32_t e);
/* Empties the table and keeps its memory: refilling it pays no page faults. */
void wr__kt_clear(wr__keytable_t *t);
/* Gives memory of entries beyond count back to the kernel when a lot of it is unused. */
void wr__kt_trim(wr__keytable_t *t);
/* Bytes in use: the index, plus the entries touched since the last trim. */
size_t wr__kt_bytes(const wr__keytable_t *t);

#endif
