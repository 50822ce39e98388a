/* Logging to stderr. The threshold comes from the WEIR_LOG environment variable
 * (error, warn, info, debug; default warn), read on each call: logging is never on a hot path. */
#ifndef WR_LOG_H
#define WR_LOG_H

enum wr_log_level { WR_LOG_ERROR, WR_LOG_WARN, WR_LOG_INFO, WR_LOG_DEBUG };

void wr_log(enum wr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wr_error(...) wr_log(WR_LOG_ERROR, __VA_ARGS__)
#define wr_warn(...)  wr_log(WR_LOG_WARN, __VA_ARGS__)
#define wr_info(...)  wr_log(WR_LOG_INFO, __VA_ARGS__)
#define wr_debug(...) wr_log(WR_LOG_DEBUG, __VA_ARGS__)

#endif
