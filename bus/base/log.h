/* Logging to stderr. The threshold comes from the WEIR_LOG environment variable
 * (error, warn, info, debug; default warn), read on each call: logging is never on a hot path.
 *
 * Lines that input from the network can cause (a malformed frame, a refused registration or
 * request) go through a rate limit (wr_logrl_t) owned by whoever reads that input: at most
 * per_second lines a second per call site (its format string), the rest counted and summed up in
 * one "suppressed K similar lines" line when the call site logs again in a later second. So a
 * flood of bad messages costs the log a few lines a second, never one line per message. */
#ifndef WR_LOG_H
#define WR_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum wr_log_level { WR_LOG_ERROR, WR_LOG_WARN, WR_LOG_INFO, WR_LOG_DEBUG };

void wr_log(enum wr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wr_error(...) wr_log(WR_LOG_ERROR, __VA_ARGS__)
#define wr_warn(...)  wr_log(WR_LOG_WARN, __VA_ARGS__)
#define wr_info(...)  wr_log(WR_LOG_INFO, __VA_ARGS__)
#define wr_debug(...) wr_log(WR_LOG_DEBUG, __VA_ARGS__)

#define WR_LOGRL_SITES      16 /* call sites one limiter tells apart; more share the oldest slot */
#define WR_LOGRL_PER_SECOND 5  /* the default of wr_logrl_init(rl, 0) */

typedef struct {
    const char *site;    /* the call's format string (NULL: a free slot) */
    int64_t second;      /* the monotonic second the count below is of */
    uint32_t lines;      /* lines written in that second */
    uint64_t suppressed; /* lines dropped since the last line written */
} wr_logrl_site_t;

/* A rate limit: a plain value, embedded in its owner and used by one thread at a time (the
 * owner's: an actor, the transport's I/O thread). */
typedef struct {
    uint32_t per_second;
    uint32_t next; /* the slot a new call site takes when all are used */
    wr_logrl_site_t site[WR_LOGRL_SITES];
} wr_logrl_t;

/* Starts rl empty, at per_second lines a second per call site (0: WR_LOGRL_PER_SECOND). */
void wr_logrl_init(wr_logrl_t *rl, uint32_t per_second);
/* wr_log through rl: the line is written when its call site has written fewer than per_second
 * lines this second, else counted. The first line written after some were dropped is preceded by
 * "suppressed K similar lines (like: FORMAT)". Returns whether the line was written (false too
 * when below the WEIR_LOG threshold). */
bool wr_log_limited(wr_logrl_t *rl, enum wr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define wr_warn_limited(rl, ...) wr_log_limited((rl), WR_LOG_WARN, __VA_ARGS__)
#define wr_info_limited(rl, ...) wr_log_limited((rl), WR_LOG_INFO, __VA_ARGS__)

#endif
