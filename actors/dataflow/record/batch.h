/* Record batches: columnar, owned, reused. Records move through weir in batches of hundreds to
 * thousands; every operator works a batch at a time, column by column, with no allocation per
 * record.
 *
 * In memory: one 8-byte-aligned array of `cap` values per non-string field (int64_t or double,
 * see schema.h), and for a string field a u32 offset array of cap+1 entries into the batch's
 * string heap (string i is heap[off[i] .. off[i+1])). A batch is reused: wr_batch_clear keeps
 * every buffer.
 *
 * On the wire (the `records` bytes of a DATA_BATCH, bus/channel.h), for `count` records, each
 * field in schema order:
 *   non-string: count x 8 bytes, little-endian
 *   string:     (count + 1) x u32 little-endian offsets, starting at 0 and non-decreasing, then
 *               the last offset's worth of bytes
 * No padding; the decoder reads unaligned bytes with memcpy and validates every length and offset
 * (the bytes come off the network: it is fuzzed).
 *
 * Invariants: for a string field, off[0] == 0 and heap_len == off[count]; cap <= WR_BATCH_MAX.
 * A batch is owned by one thread at a time. */
#ifndef WR_BATCH_H
#define WR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/record/schema.h"

/* Records one batch may hold (a decoder refuses a larger count as malformed). */
#define WR_BATCH_MAX (1u << 24)

typedef struct {
    wr_schema_t schema;
    uint32_t count;                   /* records held */
    uint32_t cap;                     /* records the columns have room for */
    void *col[WR_SCHEMA_MAX_FIELDS];  /* int64_t* / double* / uint32_t* (string offsets) */
    char *heap[WR_SCHEMA_MAX_FIELDS]; /* string fields: their bytes */
    size_t heap_len[WR_SCHEMA_MAX_FIELDS], heap_cap[WR_SCHEMA_MAX_FIELDS];
} wr_batch_t;

/* A batch for schema with room for at least cap records (cap may be 0). NULL when out of memory
 * or cap > WR_BATCH_MAX. The schema is copied. */
wr_batch_t *wr_batch_new(const wr_schema_t *schema, uint32_t cap);
/* Frees the batch and sets *b to NULL; NULL-safe. */
void wr_batch_destroy(wr_batch_t **b);
/* Empties the batch, keeping its buffers. */
void wr_batch_clear(wr_batch_t *b);
/* Grows every column to room for at least cap records (at least doubling, so that growing one
 * record at a time is amortised), keeping the contents. WR_ETOOBIG over WR_BATCH_MAX, WR_ENOMEM
 * (the batch is unchanged and still valid). Producers call it before writing record b->count. */
int wr_batch_reserve(wr_batch_t *b, uint32_t cap);

/* Typed column access (the field must have that representation: our bug otherwise). */
static inline int64_t *wr_batch_i64(wr_batch_t *b, int field)
{
    return (int64_t *)b->col[field];
}
static inline double *wr_batch_f64(wr_batch_t *b, int field)
{
    return (double *)b->col[field];
}
/* String i of a string field: *len bytes, not NUL-terminated, borrowed from the batch. */
static inline const char *wr_batch_str(const wr_batch_t *b, int field, uint32_t i, uint32_t *len)
{
    const uint32_t *off = (const uint32_t *)b->col[field];
    *len = off[i + 1] - off[i];
    return b->heap[field] + off[i];
}

/* Appends one string to a string field as the value of record b->count (the caller fills the
 * other columns of that record, pushes every string field, and then bumps b->count). Grows the
 * batch when b->count == cap. Pushing again before the bump replaces the value. WR_ENOMEM;
 * WR_ETOOBIG when the field's heap would pass 4 GiB (u32 offsets) or cap WR_BATCH_MAX. */
int wr_batch_push_str(wr_batch_t *b, int field, const char *s, uint32_t len);

/* Bytes wr_batch_encode writes for the records held. */
size_t wr_batch_encoded_size(const wr_batch_t *b);
/* Writes the wire form into out (at least wr_batch_encoded_size bytes). Returns bytes written. */
size_t wr_batch_encode(const wr_batch_t *b, uint8_t *out);
/* Replaces b's contents with `count` records decoded from the wire form in buf (b's schema says
 * how to read it; the batch grows as needed). WR_EPROTO when len does not match, a string
 * offset is out of order or out of range, a bool is not 0 or 1, or count > WR_BATCH_MAX;
 * WR_ENOMEM. Nothing is allocated before the whole layout is validated. b is empty after a
 * failure. */
int wr_batch_decode(wr_batch_t *b, const uint8_t *buf, size_t len, uint32_t count);

/* Copies record i (< src->count) of src to the end of dst (same field types, dst != src),
 * growing dst as needed. WR_ENOMEM or WR_ETOOBIG, dst keeping its records. For operators that
 * select. */
int wr_batch_append_row(wr_batch_t *dst, const wr_batch_t *src, uint32_t i);
/* Copies records sel[0..n) of src (each < src->count; sel NULL: records 0..n) to the end of dst,
 * in that order: what n calls of wr_batch_append_row do, a column at a time (the hot paths'
 * form: a filter's survivors, a partitioner's records for one channel). WR_ENOMEM or
 * WR_ETOOBIG with dst keeping its records (its buffers may have grown). */
int wr_batch_append_rows(wr_batch_t *dst, const wr_batch_t *src, const uint32_t *sel, uint32_t n);

#endif
