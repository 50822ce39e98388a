/* The status line's text (status_line.h). */
#include "cli/status_line.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus/base/numfmt.h"

void wr_status_add(wr_status_t *s, const wr_status_sample_t *sample)
{
    if (!s->n) s->started_ms = sample->at_ms;
    if (s->n == WR_STATUS_SAMPLES) {
        memmove(s->v, s->v + 1, (WR_STATUS_SAMPLES - 1) * sizeof *s->v);
        s->n--;
    }
    s->v[s->n++] = *sample;
}

/* The rate of the counter at offset `field` of the samples. */
static double s_rate(const wr_status_t *s, size_t field)
{
    if (s->n < 2) return -1;
    const wr_status_sample_t *now = &s->v[s->n - 1], *then = &s->v[0];
    for (uint32_t i = s->n - 1; i-- > 0;) {
        if (now->at_ms - s->v[i].at_ms >= WR_STATUS_RATE_MS) {
            then = &s->v[i];
            break;
        }
    }
    uint64_t a, b;
    memcpy(&a, (const char *)then + field, sizeof a);
    memcpy(&b, (const char *)now + field, sizeof b);
    int64_t ms = now->at_ms - then->at_ms;
    if (ms <= 0 || b < a) return -1;
    return (double)(b - a) * 1000.0 / (double)ms;
}

double wr_status_rate_in(const wr_status_t *s)
{
    return s_rate(s, offsetof(wr_status_sample_t, in));
}

double wr_status_rate_out(const wr_status_t *s)
{
    return s_rate(s, offsetof(wr_status_sample_t, out));
}

size_t wr_status_count(uint64_t v, char out[WR_STATUS_COUNT_MAX])
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) out[len++] = ',';
        out[len++] = digits[i];
    }
    out[len] = '\0';
    return len;
}

const char *wr_status_duration(int64_t ms, char *out, size_t cap)
{
    const char *sign = ms < 0 ? "-" : "";
    uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms, sec = a / 1000;
    if (a < 1000)
        snprintf(out, cap, "%s%" PRIu64 " ms", sign, a);
    else if (a < 10000)
        snprintf(out, cap, "%s%" PRIu64 ".%" PRIu64 " s", sign, sec, a % 1000 / 100);
    else if (sec < 60)
        snprintf(out, cap, "%s%" PRIu64 " s", sign, sec);
    else if (sec < 3600)
        snprintf(out, cap, "%s%" PRIu64 " min %02" PRIu64 " s", sign, sec / 60, sec % 60);
    else if (sec < 86400)
        snprintf(out, cap, "%s%" PRIu64 " h %02" PRIu64 " min", sign, sec / 3600, sec % 3600 / 60);
    else
        snprintf(out, cap, "%s%" PRIu64 " d %02" PRIu64 " h", sign, sec / 86400,
                 sec % 86400 / 3600);
    return out;
}

/* " (12,345/s)", or "" without a rate. */
static void s_rate_text(double rate, char *out, size_t cap)
{
    char n[WR_STATUS_COUNT_MAX];
    out[0] = '\0';
    if (rate < 0) return;
    wr_status_count((uint64_t)(rate + 0.5), n);
    snprintf(out, cap, " (%s/s)", n);
}

size_t wr_status_format(const wr_status_t *s, int64_t now_ms, unsigned cols, char *out, size_t cap)
{
    if (!cap) return 0;
    out[0] = '\0';
    if (!s->n) return 0;
    const wr_status_sample_t *x = &s->v[s->n - 1];
    char in[WR_STATUS_COUNT_MAX], o[WR_STATUS_COUNT_MAX], fired[WR_STATUS_COUNT_MAX];
    char late[WR_STATUS_COUNT_MAX], bp[WR_STATUS_COUNT_MAX], rin[40], rout[40], up[32];
    char wm[WR_NUMFMT_TIME_MAX + 48] = "-";
    wr_status_count(x->in, in);
    wr_status_count(x->out, o);
    wr_status_count(x->fired, fired);
    wr_status_count(x->late, late);
    wr_status_count(x->backpressure, bp);
    s_rate_text(wr_status_rate_in(s), rin, sizeof rin);
    s_rate_text(wr_status_rate_out(s), rout, sizeof rout);
    int64_t up_s =
        (x->at_ms - s->started_ms) / 1000; /* whole seconds: "0 s", "9 s", "3 min 04 s" */
    if (up_s < 60)
        snprintf(up, sizeof up, "%lld s", (long long)up_s);
    else
        wr_status_duration(up_s * 1000, up, sizeof up);
    if (x->watermark != INT64_MIN && x->watermark != INT64_MAX) {
        wr_numfmt_time_t cache = {0};
        char iso[WR_NUMFMT_TIME_MAX + 1], lag[32];
        size_t n = wr_numfmt_time(&cache, x->watermark, iso);
        if (n > 5) n -= 5; /* "...:03.000Z" -> "...:03" */
        iso[n] = '\0';
        int64_t behind = now_ms - x->watermark, abs_behind = behind < 0 ? -behind : behind;
        if (abs_behind > WR_STATUS_LIVE_MS) { /* history replayed: no lag to speak of */
            snprintf(wm, sizeof wm, "%sZ", iso);
        } else {
            wr_status_duration(abs_behind, lag, sizeof lag);
            snprintf(wm, sizeof wm, "%sZ (%s %s)", iso, behind < 0 ? "ahead" : "lag", lag);
        }
    }
    int n = snprintf(out, cap,
                     "%s %s  in %s%s  out %s%s  windows %s  late %s  watermark %s  backpressure %s",
                     x->state, up, in, rin, o, rout, fired, late, wm, bp);
    size_t len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    if (cols && len > cols - 1) len = cols - 1;
    out[len] = '\0';
    return len;
}
