/* base64 (RFC 4648 section 4: the standard alphabet, '=' padding), as etcd's JSON gateway writes
 * keys and values. The decoder is strict for untrusted input: length a multiple of 4, padding
 * only at the end, no whitespace, and the unused bits of the last group zero (so that every
 * byte string has exactly one accepted encoding). */
#ifndef WR_BASE64_H
#define WR_BASE64_H

#include <stddef.h>

#include "bus/base/strbuf.h"

/* Bytes a decoded s of len characters takes at most. */
#define WR_BASE64_DECODED_MAX(len) ((len) / 4 * 3)

/* Appends the encoding of p[0, len) to sb (p may be NULL when len is 0); on allocation failure
 * appends nothing and sets sb->failed. */
void wr_base64_encode(wr_strbuf_t *sb, const void *p, size_t len);
/* Decodes s[0, len) and appends the bytes to out. WR_EINVAL when s is not strict base64,
 * WR_ENOMEM when out cannot grow; on failure out keeps what it had before the call. */
int wr_base64_decode(const char *s, size_t len, wr_strbuf_t *out);

#endif
