/* What the sources that parse text lines with textin.h (file, Kafka, MQTT) share: the
 * declarations of their text keys (format, header, on_error, max_line), and the log of the lines
 * they skip under on_error: skip (the first WR_TEXTSRC_LOG_FIRST one by one, then a summary of
 * those since at most every WR_TEXTSRC_LOG_EVERY_NS, and one at the end).
 *
 *   static const wr_param_t s_params[] = {
 *       WR_TEXTSRC_FORMAT(my_config_t, format, "jsonl or csv"),
 *       WR_TEXTSRC_ON_ERROR(my_config_t, on_error, "a bad line: fail or skip (counted)"),
 *       WR_TEXTSRC_MAX_LINE(my_config_t, max_line),
 *   };
 *   ... at open:             wr_textsrc_log_init(&r->log, "my source %u/%u", subtask, p);
 *   ... in textin's on_bad:  wr_textsrc_log_one(&r->log, bad, "my source: skipped %s", msg);
 *   ... after each read:     wr_textsrc_log_sum(&r->log, bad, false);
 *   ... at close:            wr_textsrc_log_sum(&r->log, bad, true); */
#ifndef WR_TEXTSRC_H
#define WR_TEXTSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/params.h"

#define WR_TEXTSRC_MAX_LINE_MOST (16 << 20) /* far below bus.max-message-size */
#define WR_TEXTSRC_LOG_FIRST     10
#define WR_TEXTSRC_LOG_EVERY_NS  (10 * INT64_C(1000000000))

/* the words of format (enum wr_textin_format) and on_error (enum wr_textin_on_error) */
extern const char *const wr_textsrc_formats[];
extern const char *const wr_textsrc_on_error[];

/* The keys, each in struct st's member m (int, bool, int, uint32_t), with its documentation. */
#define WR_TEXTSRC_FORMAT(st, m, doc_)                                                             \
    {                                                                                              \
        .key = "format", .type = WR_PARAM_ENUM, WR_PARAM_AT(st, m), .words = wr_textsrc_formats,   \
        .dflt = "jsonl", .doc = doc_                                                               \
    }
#define WR_TEXTSRC_HEADER(st, m, doc_)                                                             \
    {                                                                                              \
        .key = "header", .type = WR_PARAM_BOOL, WR_PARAM_AT(st, m), .doc = doc_                    \
    }
#define WR_TEXTSRC_ON_ERROR(st, m, doc_)                                                           \
    {                                                                                              \
        .key = "on_error", .type = WR_PARAM_ENUM, WR_PARAM_AT(st, m),                              \
        .words = wr_textsrc_on_error, .dflt = "fail", .doc = doc_                                  \
    }
#define WR_TEXTSRC_MAX_LINE(st, m)                                                                 \
    {                                                                                              \
        .key = "max_line", .type = WR_PARAM_INT, WR_PARAM_AT(st, m), .lo = 1024,                   \
        .hi = WR_TEXTSRC_MAX_LINE_MOST, .dflt = "1048576",                                         \
        .doc = "the longest line, bytes: a longer one is a bad line (on_error)"                    \
    }

/* The log of one reader's skipped lines. */
typedef struct {
    char who[512];       /* the reader, in summaries: "kafka source 0/2" */
    uint64_t logged;     /* lines logged so far, one by one or summed up */
    int64_t next_sum_ns; /* a summary not before this */
} wr_textsrc_log_t;

/* An empty log of the reader the format names (truncated to fit who). */
void wr_textsrc_log_init(wr_textsrc_log_t *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Skipped line number `bad` (all of the reader's, this one included): logged as the text fmt
 * makes while bad is at most WR_TEXTSRC_LOG_FIRST, the last of those saying that more are
 * counted; the rest are left to wr_textsrc_log_sum. */
void wr_textsrc_log_one(wr_textsrc_log_t *l, uint64_t bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "WHO: N more bad lines skipped (M in all)" for the bad lines not logged yet, if there are
 * any, and if force or the last log line is WR_TEXTSRC_LOG_EVERY_NS old. */
void wr_textsrc_log_sum(wr_textsrc_log_t *l, uint64_t bad, bool force);

#endif
