/* A strict pull reader for JSON (RFC 8259) from untrusted peers (etcd's gateway), over a borrowed
 * buffer, in the style of mp.h: the caller walks the document it expects and skips the rest.
 *
 *     wr_jsonr_t r;
 *     wr_jsonr_init(&r, body, len);
 *     wr_jsonr_obj_begin(&r);
 *     while (wr_jsonr_obj_next(&r)) {
 *         if (strcmp(r.key, "revision") == 0) wr_jsonr_read_int(&r, &rev);
 *         else wr_jsonr_skip(&r);
 *     }
 *     wr_jsonr_end(&r);
 *     if (r.err) ...                              // one check for the whole document
 *
 * The first failure sets r->err (sticky) and every later call fails with the same code (the
 * iterators return false), so a decoder may read a whole structure and check r->err once at
 * the end. Nothing here asserts on input or allocates, except the wr_strbuf_t a caller passes.
 *
 * Strict means: exactly one value plus whitespace (wr_jsonr_end checks the tail); no trailing
 * commas, comments, single quotes, NaN or leading zeros; strings are well-formed UTF-8 without raw
 * control bytes, with only the escapes of RFC 8259 and \u surrogates in pairs; nesting at most
 * WR_JSONR_MAX_DEPTH; a document at most WR_JSONR_MAX_SIZE bytes. Duplicate keys are not detected
 * (the caller sees each; the last read wins, as in Go's encoding/json that writes etcd's replies).
 *
 * Failures: WR_EPROTO for malformed JSON, a value of another kind than the call reads, too deep
 * nesting or an integer out of range; WR_ETOOBIG for a document over the size limit or a string
 * over the caller's buffer; WR_ENOMEM when a wr_strbuf_t append fails. */
#ifndef WR_JSONR_H
#define WR_JSONR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

#define WR_JSONR_MAX_DEPTH 64
#define WR_JSONR_MAX_SIZE  (64u << 20) /* 64 MiB */
#define WR_JSONR_KEY_MAX   64          /* object keys kept in r->key, NUL included */

enum wr_jsonr_kind {
    WR_JSONR_NULL,
    WR_JSONR_BOOL,
    WR_JSONR_NUM,
    WR_JSONR_STR,
    WR_JSONR_ARR,
    WR_JSONR_OBJ,
    WR_JSONR_INVALID
};

typedef struct {
    const char *p;
    const char *end;
    int err;       /* 0, or the first WR_E* code hit */
    int depth;     /* containers open */
    uint64_t objs; /* bit i: the container at depth i is an object (else an array) */
    /* Inside a container: true before its first element (no comma expected). */
    bool first;
    /* The key wr_jsonr_obj_next read, unescaped and NUL-terminated. A key of WR_JSONR_KEY_MAX
     * bytes or more, or one holding a NUL, reads as "" (a name no decoder looks for). */
    char key[WR_JSONR_KEY_MAX];
} wr_jsonr_t;

/* A buffer of more than WR_JSONR_MAX_SIZE bytes sets r->err to WR_ETOOBIG at once. */
void wr_jsonr_init(wr_jsonr_t *r, const void *buf, size_t len);
/* Kind of the next value (after whitespace) without consuming it; WR_JSONR_INVALID at end of
 * input, on a byte that starts no value, or once r->err is set. Never sets r->err. */
enum wr_jsonr_kind wr_jsonr_peek(wr_jsonr_t *r);

/* Objects: obj_begin reads '{'; each obj_next reads the separator, the key (into r->key) and the
 * ':' and returns true, leaving the reader at the key's value, which the caller must read or skip;
 * obj_next returns false after reading the closing '}' or on failure (check r->err). Arrays
 * alike: arr_next returns true at each element and false after ']'. */
int wr_jsonr_obj_begin(wr_jsonr_t *r);
bool wr_jsonr_obj_next(wr_jsonr_t *r);
int wr_jsonr_arr_begin(wr_jsonr_t *r);
bool wr_jsonr_arr_next(wr_jsonr_t *r);

int wr_jsonr_read_null(wr_jsonr_t *r);
int wr_jsonr_read_bool(wr_jsonr_t *r, bool *v);
/* An int64 written as a JSON integer (123, -5; no fraction or exponent) or as a string holding
 * exactly such an integer ("123", as protobuf's JSON mapping writes int64 and uint64). */
int wr_jsonr_read_int(wr_jsonr_t *r, int64_t *v);
/* Any JSON number, correctly rounded; not a string. */
int wr_jsonr_read_double(wr_jsonr_t *r, double *v);
/* A string, unescaped, appended to out (which then may hold NUL bytes from \u0000; out->len
 * counts them). On failure out keeps what it had before the call. */
int wr_jsonr_read_str(wr_jsonr_t *r, wr_strbuf_t *out);
/* A string copied into dst with a NUL; WR_ETOOBIG if it needs more than cap bytes with the NUL,
 * WR_EPROTO if it holds a NUL. */
int wr_jsonr_read_str_copy(wr_jsonr_t *r, char *dst, size_t cap);
/* A string of standard, padded base64 (base64.h), decoded and appended to out; WR_EPROTO when
 * it is not strict base64. On failure out keeps what it had before the call. */
int wr_jsonr_read_base64(wr_jsonr_t *r, wr_strbuf_t *out);
/* Skips one complete value of any kind (validating it). */
int wr_jsonr_skip(wr_jsonr_t *r);
/* Checks that only whitespace follows the value read (WR_EPROTO otherwise, or if a container is
 * still open); returns r->err. */
int wr_jsonr_end(wr_jsonr_t *r);

#endif
