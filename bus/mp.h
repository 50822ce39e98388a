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
    WR_MP_NIL, WR_MP_BOOL, WR_MP_UINT, WR_MP_INT, WR_MP_FLOAT, WR_MP_STR, WR_MP_BIN,
    WR_MP_ARRAY, WR_MP_MAP, WR_MP_EXT, WR_MP_INVALID
};

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    int err; /* 0, or the first WR_E* code hit */
} wr_mp_reader_t;

/* Nesting depth beyond which wr_mp_skip and wr_mp_to_json reject input (WR_EPROTO). */
#define WR_MP_MAX_DEPTH 64

void wr_mp_reader_init(wr_mp_reader_t *r, const void *buf, size_t len);
/* Kind of the next object without consuming it; WR_MP_INVALID at end of input or bad tag. */
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
int wr_mp_read_array(wr_mp_reader_t *r, uint32_t *n);
int wr_mp_read_map(wr_mp_reader_t *r, uint32_t *n);
/* Borrowed view into the buffer; not NUL-terminated. */
int wr_mp_read_str(wr_mp_reader_t *r, const char **s, uint32_t *len);
/* Copies into dst with a NUL; WR_ETOOBIG if len >= cap, WR_EPROTO if it contains a NUL byte. */
int wr_mp_read_str_copy(wr_mp_reader_t *r, char *dst, size_t cap);
int wr_mp_read_bin(wr_mp_reader_t *r, const uint8_t **p, uint32_t *len);
/* Skips one complete object (of any kind, nested up to WR_MP_MAX_DEPTH). */
int wr_mp_skip(wr_mp_reader_t *r);

/* Writer helpers over msgpack-c. They return msgpack-c's int (0 on success). */
int wr_pack_str(msgpack_packer *pk, const char *s);
int wr_pack_bin(msgpack_packer *pk, const void *p, size_t len);

#endif
