#include "bus/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum wr_log_level s_threshold(void)
{
    const char *v = getenv("WEIR_LOG");
    if (!v) return WR_LOG_WARN;
    if (!strcmp(v, "error")) return WR_LOG_ERROR;
    if (!strcmp(v, "info")) return WR_LOG_INFO;
    if (!strcmp(v, "debug")) return WR_LOG_DEBUG;
    return WR_LOG_WARN;
}

void wr_log(enum wr_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > s_threshold()) return;
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld weir %s: ", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line); /* one write per line keeps lines of several threads whole */
}
