/* Text input for the file and Kafka sources: JSON lines or CSV into record batches of a schema.
 *
 * The caller reads the file in chunks and hands them over in order; the parser takes whole
 * lines, one record per line, and tells how many bytes it used. Every record comes with the
 * byte offset where its line starts, so a source can be rewound to any record (wr_textin_seek).
 * There is no allocation per record: values go straight into the batch's columns.
 *
 * JSON lines: one object per line. Keys name schema fields (unknown keys are skipped, whatever
 * their value); every schema field must appear exactly once; null is not a value.
 *   int     an integer: -12, 0, 9223372036854775807 (no fraction or exponent)
 *   double  any JSON number (integers too)
 *   bool    true or false
 *   time    an integer (epoch milliseconds) or an ISO-8601 string, see wr_parse_time
 * (bus/base/numparse.h) string  a JSON string; every escape (\" \\ \/ \b \f \n \r \t \uXXXX,
 * surrogate pairs) is decoded to UTF-8; other bytes are taken as they are CSV (RFC 4180): fields
 * separated by commas; a field in double quotes may hold commas, newlines and "" for a quote. With
 * `header`, the first line names the columns (matched to schema fields by name, unknown columns
 * skipped, every field required); without, the columns are the schema's fields in order. Values are
 * written as in JSON without quotes: 42, -1.5e3, true/false (or 1/0), 1717000000000 or
 * 2024-05-29T16:26:40Z, any text. Both: blank lines are skipped; "\r\n" ends a line too; a UTF-8
 * byte order mark at offset 0 is skipped.
 *
 * Bad lines are never lost silently: under WR_TEXTIN_FAIL parsing stops at the first one with
 * WR_EPROTO; under WR_TEXTIN_SKIP it is counted (wr_textin_stats), told to on_bad and skipped.
 * Either way wr_textin_error describes the last one as "NAME:LINE: FIELD: what is wrong", and what
 * was found instead of what was expected is named as a JSON kind ("a string", "null") when it is
 * one, else quoted ("found 'this is not json...'"). A line longer than max_line is a bad line too
 * ("line longer than N bytes"), whatever it holds. A bad CSV header always fails. */
#ifndef WR_TEXTIN_H
#define WR_TEXTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/record/schema.h"

enum wr_textin_format { WR_TEXTIN_JSONL, WR_TEXTIN_CSV };
enum wr_textin_on_error { WR_TEXTIN_FAIL, WR_TEXTIN_SKIP };

#define WR_TEXTIN_DEFAULT_MAX_LINE (1u << 20)

typedef struct {
    enum wr_textin_format format;
    bool header;                      /* CSV: the first line names the columns */
    enum wr_textin_on_error on_error; /* what a bad line does */
    uint32_t max_line; /* longest line accepted, bytes; 0 = WR_TEXTIN_DEFAULT_MAX_LINE */
    const char *name;  /* for messages (the file's path); copied; NULL = "input" */
    /* Optional: called with each bad line's message (as wr_textin_error) as it is skipped under
     * WR_TEXTIN_SKIP, from inside wr_textin_parse; msg is borrowed for the call. */
    void (*on_bad)(void *ctx, const char *msg);
    void *ctx;
} wr_textin_options_t;

typedef struct {
    uint64_t offset;  /* byte offset of the next unconsumed byte */
    uint64_t lines;   /* lines consumed (header, blank and bad lines included) */
    uint64_t records; /* records produced */
    uint64_t bad;     /* bad lines skipped */
} wr_textin_stats_t;

typedef struct wr_textin wr_textin_t;

/* A parser for records of schema (copied). NULL when out of memory, or when opt is invalid. */
wr_textin_t *wr_textin_new(const wr_schema_t *schema, const wr_textin_options_t *opt);
void wr_textin_destroy(wr_textin_t **t);

/* Parses whole lines from buf[0, len), the input from the current position (stats.offset) on,
 * appending one record per good line to b (of the parser's schema) until b is full or no
 * complete line is left. A last line without a newline is parsed only when eof is set.
 * *consumed gets the bytes used up (whole lines): the caller keeps the rest and passes it again,
 * followed by more input. If offsets is not NULL (room for b->cap values), offsets[k] gets the
 * byte offset where record k's line starts, for every record k appended.
 * Returns 0 (also when nothing was complete: read more); WR_EPROTO for a bad line under
 * WR_TEXTIN_FAIL or a bad CSV header (records before it are in b; *consumed and the position
 * stop at its start, so the same call fails again); WR_ETOOBIG for a line longer than max_line
 * under WR_TEXTIN_FAIL (under WR_TEXTIN_SKIP it is skipped and counted); WR_EINVAL if b's schema
 * is not the parser's; WR_ENOMEM (b's last record may then be incomplete: clear b). */
int wr_textin_parse(wr_textin_t *t, const char *buf, size_t len, bool eof, wr_batch_t *b,
                    uint64_t *offsets, size_t *consumed);

/* The last bad line's message, "NAME:LINE: FIELD: what is wrong", or "" if none yet. Borrowed,
 * valid until the next call on t. */
const char *wr_textin_error(const wr_textin_t *t);
const wr_textin_stats_t *wr_textin_stats(const wr_textin_t *t);

/* A CSV file with a header, resumed mid-file: reads the header out of buf, the file's bytes from
 * offset 0 on (a byte order mark, blank lines, the header line), and nothing after it. *done
 * tells whether the header is read (then wr_textin_seek to where the records resume); if not,
 * pass the unconsumed rest again with more bytes. A parser of another format or without a
 * header is done at once. 0, or WR_EPROTO for a bad header or none (wr_textin_error says why),
 * WR_ETOOBIG for an overlong line. */
int wr_textin_read_header(wr_textin_t *t, const char *buf, size_t len, bool eof, size_t *consumed,
                          bool *done);

/* Where a reader resumes so that every line is read once (a checkpoint's position, for
 * wr_textin_seek): stats' offset and lines, but inside an overlong line being skipped (its start
 * is consumed, its end not yet) the start of that line and the lines before it: it is skipped
 * again, rather than its tail read as a line of its own. */
void wr_textin_resume_point(const wr_textin_t *t, uint64_t *offset, uint64_t *lines);

/* Continues at byte offset `offset`, the start of line number line + 1 (a record's offset from
 * wr_textin_parse, and the lines before it). A CSV header already read is kept; rewinding to
 * offset 0 reads it again. A new parser resuming a CSV file with a header mid-file reads the
 * header first (wr_textin_read_header), then seeks. The counters other than offset and lines are
 * kept. */
void wr_textin_seek(wr_textin_t *t, uint64_t offset, uint64_t lines);

#endif
