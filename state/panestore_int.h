/* Internal to state/panestore*.c: the store's struct and the key and block codecs. */
#ifndef WR_PANESTORE_INT_H
#define WR_PANESTORE_INT_H

#include <rocksdb/c.h>
#include <string.h>

#include "state/panestore.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "panestore blocks store keys little-endian by memcpy: a big-endian host needs a byte swap"
#endif

#define WR__PS_KEYLEN 18 /* pane (8) + key group (2) + first key of the block (8) */

struct wr_panestore {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *topts;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *wopts;
    rocksdb_readoptions_t *ropts;
    rocksdb_envoptions_t *envopts;
    rocksdb_ingestexternalfileoptions_t *iopts;
    char *dir;
    uint32_t acc_size, block_entries;
    bool write_batch, tails;
    uint64_t ingest_seq; /* names the SST files being written for ingestion */
    uint64_t *known;     /* sorted numbers of the SST files already reported */
    size_t nknown, cap_known;
    char errmsg[256];
};

/* Keeps RocksDB's message (and frees it); returns WR_EIO. */
int wr__panestore_fail(wr_panestore_t *s, char *rocks_err);

static inline void wr__ps_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t wr__ps_rd_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Panes sort as signed numbers: flip the sign bit, then big-endian. */
static inline void wr__ps_key(uint8_t k[WR__PS_KEYLEN], int64_t pane, uint16_t kg, uint64_t first)
{
    wr__ps_be64(k, (uint64_t)pane ^ (1ULL << 63));
    k[8] = (uint8_t)(kg >> 8);
    k[9] = (uint8_t)kg;
    wr__ps_be64(k + 10, first);
}

static inline int64_t wr__ps_key_pane(const uint8_t *k)
{
    return (int64_t)(wr__ps_rd_be64(k) ^ (1ULL << 63));
}

static inline uint16_t wr__ps_key_kg(const uint8_t *k)
{
    return (uint16_t)(k[8] << 8 | k[9]);
}

static inline uint64_t wr__ps_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#define WR__PS_TAILS_CUT (1u << 20) /* a block with tails ends once they pass this */

static inline uint32_t wr__ps_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A block value, parsed: pointers into it. */
typedef struct {
    size_t n;
    const uint8_t *keys, *accs;
    const uint8_t *ends, *tails; /* stores with tails: n u32 end offsets, the tails; else NULL */
} wr__ps_block_t;

/* Parses the block value v[0..len) of store s: 0, or WR_EPROTO when it is not a whole, non-empty
 * block (see panestore.h: the columns, and with tails the offsets ascending to the end). */
int wr__ps_block_parse(const wr_panestore_t *s, const uint8_t *v, size_t len, wr__ps_block_t *b);

/* Entry i's tail in parsed block b: a pointer, *len bytes (NULL, 0 without tails). */
static inline const uint8_t *wr__ps_block_tail(const wr__ps_block_t *b, size_t i, uint32_t *len)
{
    if (!b->tails) {
        *len = 0;
        return NULL;
    }
    uint32_t lo = i ? wr__ps_le32(b->ends + (i - 1) * 4) : 0;
    *len = wr__ps_le32(b->ends + i * 4) - lo;
    return b->tails + lo;
}

#endif
