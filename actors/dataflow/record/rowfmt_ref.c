/* The sinks' formatting before rowfmt, as it was (but for names and an overflow-safe floor). */
#include "actors/dataflow/record/rowfmt_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void s_double(wr_strbuf_t *out, double v)
{
    if (!isfinite(v)) {
        wr_strbuf_adds(out, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    wr_strbuf_adds(out, tmp);
    if (!strpbrk(tmp, ".eE")) wr_strbuf_adds(out, ".0");
}

static void s_time(wr_strbuf_t *out, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0)); /* floor, without ms - 999 overflowing */
    struct tm tm;
    gmtime_r(&secs, &tm);
    wr_strbuf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
}

void wr__rowfmt_ref_json(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    wr_strbuf_addc(out, '{');
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (f) wr_strbuf_addc(out, ',');
        wr_strbuf_add_json_str(out, b->schema.f[f].name, strlen(b->schema.f[f].name));
        wr_strbuf_addc(out, ':');
        switch (b->schema.f[f].type) {
        case WR_T_INT:
        case WR_T_TIME:
            wr_strbuf_addf(out, "%lld", (long long)((const int64_t *)b->col[f])[i]);
            break;
        case WR_T_BOOL:
            wr_strbuf_adds(out, ((const int64_t *)b->col[f])[i] ? "true" : "false");
            break;
        case WR_T_DOUBLE:
            s_double(out, ((const double *)b->col[f])[i]);
            break;
        case WR_T_STRING: {
            uint32_t len;
            const char *s = wr_batch_str(b, (int)f, i, &len);
            wr_strbuf_add_json_str(out, s, len);
            break;
        }
        }
    }
    wr_strbuf_addc(out, '}');
}

static void s_text(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (f) wr_strbuf_addc(out, ' ');
        wr_strbuf_adds(out, b->schema.f[f].name);
        wr_strbuf_addc(out, '=');
        switch (b->schema.f[f].type) {
        case WR_T_INT:
            wr_strbuf_addf(out, "%lld", (long long)((const int64_t *)b->col[f])[i]);
            break;
        case WR_T_TIME:
            s_time(out, ((const int64_t *)b->col[f])[i]);
            break;
        case WR_T_BOOL:
            wr_strbuf_adds(out, ((const int64_t *)b->col[f])[i] ? "true" : "false");
            break;
        case WR_T_DOUBLE:
            wr_strbuf_addf(out, "%.6g", ((const double *)b->col[f])[i]);
            break;
        case WR_T_STRING: {
            uint32_t len;
            const char *s = wr_batch_str(b, (int)f, i, &len);
            wr_strbuf_add(out, s, len);
            break;
        }
        }
    }
}

void wr__rowfmt_ref_row(const wr_batch_t *b, uint32_t i, bool json, wr_strbuf_t *out)
{
    if (json)
        wr__rowfmt_ref_json(b, i, out);
    else
        s_text(b, i, out);
    wr_strbuf_addc(out, '\n');
}
