/* A growable NUL-terminated byte buffer (after git's strbuf).
 * Invariant: buf is never NULL after init; buf[len] == '\0'. On allocation failure the buffer
 * keeps its old contents and sets `failed`, so callers may append freely and check once. */
#ifndef WR_STRBUF_H
#define WR_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
    bool failed; /* an append ran out of memory; contents are truncated */
} wr_strbuf_t;

void wr_strbuf_init(wr_strbuf_t *sb);
/* Frees the storage and re-initialises the buffer to empty. */
void wr_strbuf_release(wr_strbuf_t *sb);
/* Takes the storage: the caller now owns (and frees) the returned string; sb is empty again.
 * *len (if len is not NULL) gets its length. NULL only when out of memory. */
char *wr_strbuf_detach(wr_strbuf_t *sb, size_t *len);
/* Empties the buffer (keeping its storage) and clears `failed`. */
void wr_strbuf_reset(wr_strbuf_t *sb);
/* Shortens the contents to len bytes; no-op if len >= sb->len. */
void wr_strbuf_truncate(wr_strbuf_t *sb, size_t len);
/* Ensures room for extra more bytes (plus the NUL) after buf + len, for writing in place.
 * Returns false (and sets `failed`) when out of memory, or if `failed` was already set. */
bool wr_strbuf_grow(wr_strbuf_t *sb, size_t extra);
/* Appenders: on allocation failure they append nothing and set `failed`. */
void wr_strbuf_add(wr_strbuf_t *sb, const void *data, size_t len);
void wr_strbuf_adds(wr_strbuf_t *sb, const char *s);
void wr_strbuf_addc(wr_strbuf_t *sb, char c);
void wr_strbuf_addf(wr_strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included; invalid UTF-8 bytes become U+FFFD. */
void wr_strbuf_add_json_str(wr_strbuf_t *sb, const char *s, size_t len);

/* Internal (shared with jsonr.c): length of the well-formed UTF-8 sequence at s, avail > 0 bytes
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or 0 if the bytes there are
 * not one. */
size_t wr__utf8_len(const unsigned char *s, size_t avail);

#endif
