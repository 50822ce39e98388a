/* The committed output of a file sink (actors/connectors/file/file.h), read line by line: an
 * exactly-once sink's folder (its committed part files part-*.jsonl, by name; hidden in-progress
 * and pending files are not output) or an at-least-once sink's one file. The bytes are external
 * input: a line longer than WR_CHAOS_OUTPUT_LINE_MAX and a last line without its newline are
 * handed over marked as such, never refused and never a crash. One buffer of
 * WR_CHAOS_OUTPUT_LINE_MAX bytes while reading; nothing else is held. */
#ifndef WR_CHAOS_OUTPUT_H
#define WR_CHAOS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

#define WR_CHAOS_OUTPUT_LINE_MAX (1u << 20) /* bytes of a line, its newline included (1 MiB) */

enum wr_chaos_output_flag {
    WR_CHAOS_LINE_OK,       /* a whole line, without its '\n' */
    WR_CHAOS_LINE_TOO_LONG, /* its first WR_CHAOS_OUTPUT_LINE_MAX bytes; the rest is skipped */
    WR_CHAOS_LINE_TORN      /* the file's last bytes, with no newline after them */
};

/* Where a line came from, for examples: the file (borrowed while fn runs), its place in the
 * reading order and the line's number in it, both from 1. */
typedef struct {
    const char *file;
    uint64_t file_no, line;
} wr_chaos_output_at_t;

/* Calls fn(ctx, line, len, flag, at) for every line of the output at path (a folder: exactly
 * once; anything else: one file), in file-name order, then line order. *files (if files) gets
 * the files read. fn returns 0 to go on, or a WR_E* code that ends the reading and is returned.
 * 0, WR_ENOTFOUND (path missing), WR_EIO, WR_ENOMEM, with the reason in err, or fn's code. */
int wr_chaos_output_read(const char *path,
                         int (*fn)(void *ctx, const char *line, size_t len,
                                   enum wr_chaos_output_flag flag, const wr_chaos_output_at_t *at),
                         void *ctx, uint64_t *files, wr_strbuf_t *err);

#endif
