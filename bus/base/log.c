#include "bus/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/base/clock.h"

static enum wr_log_level s_threshold(void)
{
    const char *v = getenv("WEIR_LOG");
    if (!v) return WR_LOG_WARN;
    if (!strcmp(v, "error")) return WR_LOG_ERROR;
    if (!strcmp(v, "info")) return WR_LOG_INFO;
    if (!strcmp(v, "debug")) return WR_LOG_DEBUG;
    return WR_LOG_WARN;
}

static void s_vlog(enum wr_log_level level, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld weir %s: ", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    fprintf(stderr, "%s\n", line); /* one write per line keeps lines of several threads whole */
}

static void s_log(enum wr_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, fmt, ap);
    va_end(ap);
}

void wr_log(enum wr_log_level level, const char *fmt, ...)
{
    if (level > s_threshold()) return;
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, fmt, ap);
    va_end(ap);
}

void wr_logrl_init(wr_logrl_t *rl, uint32_t per_second)
{
    *rl = (wr_logrl_t){.per_second = per_second ? per_second : WR_LOGRL_PER_SECOND};
}

/* The slot of call site fmt: its own, a free one, or (all taken) the next in turn. */
static wr_logrl_site_t *s_site(wr_logrl_t *rl, const char *fmt)
{
    for (unsigned i = 0; i < WR_LOGRL_SITES; i++)
        if (rl->site[i].site == fmt || !rl->site[i].site) {
            rl->site[i].site = fmt;
            return &rl->site[i];
        }
    wr_logrl_site_t *s = &rl->site[rl->next++ % WR_LOGRL_SITES];
    *s = (wr_logrl_site_t){.site = fmt};
    return s;
}

bool wr_log_limited(wr_logrl_t *rl, enum wr_log_level level, const char *fmt, ...)
{
    if (level > s_threshold()) return false;
    wr_logrl_site_t *s = s_site(rl, fmt);
    int64_t second = wr_now_ns() / 1000000000;
    if (s->second != second) {
        s->second = second;
        s->lines = 0;
    }
    if (s->lines >= rl->per_second) {
        s->suppressed++;
        return false;
    }
    s->lines++;
    if (s->suppressed) {
        s_log(level, "suppressed %llu similar lines (like: %.200s)",
              (unsigned long long)s->suppressed, fmt);
        s->suppressed = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, fmt, ap);
    va_end(ap);
    return true;
}
