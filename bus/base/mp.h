/* A strict, schema-aware msgpack reader over a borrowed buffer: no allocation, no copies.
 * Writing uses msgpack-c's msgpack_packer (see wr_pack_* helpers below).
 *
 * Every read checks the type tag and the remaining length. The first failure sets r->err
 * (sticky) and every later read fails with the same code, so a decoder may read a whole
 * structure and check r->err once at the end. Nothing here asserts on input. */
#ifndef WR_MP_H
#define WR_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wr_mp_kind {
    WR_MP_NIL,
    WR_MP_BOOL,
    WR_MP_UINT,
    WR_MP_INT,
    WR_MP_FLOAT,
    WR_MP_STR,
    WR_MP_BIN,
    WR_MP_ARRAY,
    WR_MP_MAP,
    WR_MP_EXT,
    WR_MP_INVALID
};

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    int err; /* 0, or the first WR_E* code hit */
} wr_mp_reader_t;

/* Nesting depth beyond which wr_mp_skip and wr_mp_to_json reject input (WR_EPROTO). */
#define WR_MP_MAX_DEPTH 64

/* One object as wr_mp_read_obj sees it. UINT is the unsigned encodings (fixint, uint8..64) and
 * INT the signed ones (negative fixint, int8..64: the value may still be non-negative). */
typedef struct {
    enum wr_mp_kind kind;
    uint32_t n;          /* STR, BIN, EXT: byte length; ARRAY: elements; MAP: key/value pairs */
    int8_t ext_type;     /* EXT */
    bool f32;            /* FLOAT: encoded as float32 */
    const uint8_t *data; /* STR, BIN, EXT: the bytes, borrowed from the buffer */
    union {
        bool b;     /* BOOL */
        uint64_t u; /* UINT */
        int64_t i;  /* INT */
        double f;   /* FLOAT */
    } v;
} wr_mp_obj_t;

void wr_mp_reader_init(wr_mp_reader_t *r, const void *buf, size_t len);
/* Kind of the next object without consuming it; WR_MP_INVALID at end of input, on a bad tag, or
 * once r->err is set. */
enum wr_mp_kind wr_mp_peek(const wr_mp_reader_t *r);
size_t wr_mp_remaining(const wr_mp_reader_t *r);

int wr_mp_read_nil(wr_mp_reader_t *r);
int wr_mp_read_bool(wr_mp_reader_t *r, bool *v);
/* Accepts positive fixint and uint8..64, and non-negative signed ints. */
int wr_mp_read_uint(wr_mp_reader_t *r, uint64_t *v);
/* Accepts any integer encoding that fits int64_t. */
int wr_mp_read_int(wr_mp_reader_t *r, int64_t *v);
/* Accepts float32, float64 and integers. */
int wr_mp_read_double(wr_mp_reader_t *r, double *v);
/* Array and map headers: *n elements (pairs for a map) follow. A count that cannot fit in the
 * remaining bytes (every object takes at least one) is WR_EPROTO, so *n is a safe size hint. */
int wr_mp_read_array(wr_mp_reader_t *r, uint32_t *n);
int wr_mp_read_map(wr_mp_reader_t *r, uint32_t *n);
/* The head of a versioned list, the shape of the states that come back from checkpoints and files
 * (split.h, sink_2pc.h, kafka_txnlog.h): [version, [entry, ...]]. Reads the outer array, the
 * version and the list's header; *n entries follow. WR_EPROTO for an outer array of other than 2
 * elements, or more entries than the remaining bytes hold at min_entry_bytes (>= 1) each;
 * WR_EVERSION for another version; the reader's error. */
int wr_mp_read_versioned_list(wr_mp_reader_t *r, uint64_t version, size_t min_entry_bytes,
                              uint32_t *n);
/* Borrowed view into the buffer; not NUL-terminated. */
int wr_mp_read_str(wr_mp_reader_t *r, const char **s, uint32_t *len);
/* Copies into dst with a NUL; WR_ETOOBIG if len >= cap, WR_EPROTO if it contains a NUL byte. */
int wr_mp_read_str_copy(wr_mp_reader_t *r, char *dst, size_t cap);
int wr_mp_read_bin(wr_mp_reader_t *r, const uint8_t **p, uint32_t *len);
/* Skips one complete object (of any kind, nested up to WR_MP_MAX_DEPTH). */
int wr_mp_skip(wr_mp_reader_t *r);
/* Internal (for wr_mp_to_json): wr_mp_skip for an object already inside `outer` containers, so
 * that the depth limit counts from the top of the buffer. */
int wr__mp_skip_nested(wr_mp_reader_t *r, int outer);
/* Reads the next object of any kind: scalars, str, bin and ext whole; for an array or a map only
 * the header (its elements are the next objects). For walkers such as wr_mp_to_json. */
int wr_mp_read_obj(wr_mp_reader_t *r, wr_mp_obj_t *o);

/* Failures: WR_EPROTO for truncated input, a wrong type, a bad tag (0xc1) or an integer out of
 * the requested range; wr_mp_read_str_copy adds WR_ETOOBIG. */

/* Writer helpers over msgpack-c. They return msgpack-c's int (0 on success, -1 on failure,
 * which includes a length over 2^32-1). A NULL s packs the empty string. p may be NULL when
 * len is 0. */
int wr_pack_str(msgpack_packer *pk, const char *s);
int wr_pack_bin(msgpack_packer *pk, const void *p, size_t len);
/* A msgpack-c writer that appends to the wr_strbuf_t at data: msgpack_packer_init(&pk, &sb,
 * wr_pack_strbuf_write). It fails (-1) once the buffer has (sb.failed). */
int wr_pack_strbuf_write(void *data, const char *buf, size_t len);

#endif
