/* What text sources share (textsrc.h). */
#include "actors/connectors/textsrc.h"

#include <stdarg.h>
#include <stdio.h>

#include "bus/base/clock.h"
#include "bus/base/log.h"

const char *const wr_textsrc_formats[] = {"jsonl", "csv", NULL};
const char *const wr_textsrc_on_error[] = {"fail", "skip", NULL};

void wr_textsrc_log_init(wr_textsrc_log_t *l, const char *fmt, ...)
{
    l->logged = 0;
    l->next_sum_ns = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->who, sizeof l->who, fmt, ap);
    va_end(ap);
}

void wr_textsrc_log_one(wr_textsrc_log_t *l, uint64_t bad, const char *fmt, ...)
{
    if (bad > WR_TEXTSRC_LOG_FIRST) return; /* summed up by wr_textsrc_log_sum */
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    wr_warn("%s%s", text,
            bad == WR_TEXTSRC_LOG_FIRST ? " (more are counted, and summed up in the log)" : "");
    l->logged = bad;
    l->next_sum_ns = wr_now_ns() + WR_TEXTSRC_LOG_EVERY_NS;
}

void wr_textsrc_log_sum(wr_textsrc_log_t *l, uint64_t bad, bool force)
{
    if (bad <= l->logged || (!force && wr_now_ns() < l->next_sum_ns)) return;
    wr_warn("%s: %llu more bad lines skipped (%llu in all)", l->who,
            (unsigned long long)(bad - l->logged), (unsigned long long)bad);
    l->logged = bad;
    l->next_sum_ns = wr_now_ns() + WR_TEXTSRC_LOG_EVERY_NS;
}
