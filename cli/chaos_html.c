/* The HTML page of a `weir chaos` run (cli/chaos_report.h: wr_chaos_report_html): one
 * self-contained file (inline CSS and SVG, no script, nothing fetched) that a browser shows from
 * disk or an attachment: the verdict, the run's parameters, the throughput timeline with the
 * faults drawn on it, then the tables. Every string that comes from the run is HTML-escaped. */
#include "cli/chaos_report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "cli/status_line.h"

/* The chart's geometry in SVG user units (the page scales it to its width). */
#define S_W     960
#define S_H     380
#define S_LEFT  80
#define S_RIGHT 20
#define S_TOP   56 /* room for the fault labels, three rows */
#define S_BOT   44

/* A colour per fault kind (WR_CHAOS_KILL ...), and one for a kind out of range. */
static const char *const s_colour[WR_CHAOS_NKINDS] = {"#d62728", "#1f77b4", "#9467bd", "#ff7f0e"};
static const char s_other[] = "#7f7f7f";

static const char *s_kind_colour(int kind)
{
    return kind >= 0 && kind < WR_CHAOS_NKINDS ? s_colour[kind] : s_other;
}

/* s (at most cap bytes; a NUL ends it earlier) as HTML text, also safe inside a quoted
 * attribute. */
static void s_html(wr_strbuf_t *b, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap), run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        wr_strbuf_add(b, s + run, i - run);
        wr_strbuf_adds(b, rep);
        run = i + 1;
    }
    wr_strbuf_add(b, s + run, n - run);
}

/* The smallest of 1, 2, 5 times a power of ten that cuts range into at most ticks steps. */
static double s_nice_step(double range, int ticks)
{
    double raw = range / ticks, p = pow(10, floor(log10(raw)));
    for (int i = 0; i < 4; i++) {
        static const double m[] = {1, 2, 5, 10};
        if (m[i] * p >= raw) return m[i] * p;
    }
    return 10 * p;
}

typedef struct {
    double t_max, r_max; /* the axes' ends: ms, records/s */
} s_scale_t;

static double s_x(const s_scale_t *s, double t_ms)
{
    return S_LEFT + (S_W - S_LEFT - S_RIGHT) * (t_ms < 0 ? 0 : t_ms) / s->t_max;
}

static double s_y(const s_scale_t *s, double rate)
{
    return S_H - S_BOT - (S_H - S_TOP - S_BOT) * (rate < 0 ? 0 : rate) / s->r_max;
}

static void s_axes(wr_strbuf_t *b, s_scale_t *sc, double r_top)
{
    double xstep = s_nice_step(sc->t_max / 1000, 10) * 1000;
    if (xstep < 1000) xstep = 1000;
    double ystep = s_nice_step(r_top, 5);
    sc->r_max = ceil(r_top / ystep) * ystep;
    wr_strbuf_addf(b, "<g class=\"axes\">");
    for (double v = 0; v <= sc->r_max + ystep / 2; v += ystep) {
        char label[WR_STATUS_COUNT_MAX + 8];
        if (ystep >= 1)
            wr_status_count((uint64_t)(v + 0.5), label);
        else
            snprintf(label, sizeof label, "%.2g", v);
        wr_strbuf_addf(b,
                       "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                       "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                       S_LEFT, s_y(sc, v), S_W - S_RIGHT, s_y(sc, v), S_LEFT - 6, s_y(sc, v) + 4,
                       label);
    }
    for (double t = 0; t <= sc->t_max + 1; t += xstep) {
        char label[32];
        wr_strbuf_addf(b,
                       "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                       "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                       s_x(sc, t), S_H - S_BOT, s_x(sc, t), S_H - S_BOT + 5, s_x(sc, t),
                       S_H - S_BOT + 18, wr__chaos_clock((int64_t)t, false, label, sizeof label));
    }
    wr_strbuf_addf(b,
                   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the start (m:ss)"
                   "</text><text x=\"14\" y=\"%d\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 14 %d)\">records/s</text></g>",
                   S_LEFT, S_H - S_BOT, S_W - S_RIGHT, S_H - S_BOT, S_LEFT, S_TOP, S_LEFT,
                   S_H - S_BOT, (S_LEFT + S_W - S_RIGHT) / 2, S_H - 6, (S_TOP + S_H - S_BOT) / 2,
                   (S_TOP + S_H - S_BOT) / 2);
}

/* The chart: axes, a band per fault (labelled with its target, its `what` as the tooltip), the
 * throughput line over them, a triangle where the job ran again after each disruption. */
static void s_chart(wr_strbuf_t *b, const wr_chaos_result_t *r)
{
    s_scale_t sc = {.t_max = (double)r->wall_ms};
    double r_top = 0;
    for (size_t i = 0; i < r->nsamples; i++) {
        if (r->samples[i].t_ms > sc.t_max) sc.t_max = (double)r->samples[i].t_ms;
        if (isfinite(r->samples[i].rate) && r->samples[i].rate > r_top) r_top = r->samples[i].rate;
    }
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        double end = (double)(f->recover_ms > 0 ? f->start_ms + f->recover_ms : f->start_ms);
        if ((double)f->end_ms > end) end = (double)f->end_ms;
        if (end > sc.t_max) sc.t_max = end;
    }
    if (sc.t_max < 1000) sc.t_max = 1000;
    if (r_top <= 0) r_top = 1;
    wr_strbuf_addf(b,
                   "<svg viewBox=\"0 0 %d %d\" role=\"img\" "
                   "aria-label=\"throughput over time with the faults\">",
                   S_W, S_H);
    s_axes(b, &sc, r_top);
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        double x0 = s_x(&sc, (double)f->start_ms), x1 = s_x(&sc, (double)f->end_ms);
        if (x1 < x0 + 2) x1 = x0 + 2; /* a fault healed at once still shows */
        wr_strbuf_addf(b,
                       "<rect class=\"band\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                       "fill=\"%s\"><title>",
                       x0, S_TOP, x1 - x0, S_H - S_TOP - S_BOT, s_kind_colour(f->kind));
        s_html(b, f->what, sizeof f->what);
        wr_strbuf_addf(b, "</title></rect><text class=\"target\" x=\"%.1f\" y=\"%zu\" fill=\"%s\">",
                       x0, (size_t)S_TOP - 6 - 15 * (i % 3), s_kind_colour(f->kind));
        s_html(b, f->target, sizeof f->target);
        wr_strbuf_adds(b, "</text>");
    }
    if (r->nsamples) {
        wr_strbuf_adds(b, "<polyline class=\"rate\" points=\"");
        for (size_t i = 0; i < r->nsamples; i++) {
            double rate = isfinite(r->samples[i].rate) ? r->samples[i].rate : 0;
            wr_strbuf_addf(b, "%s%.1f,%.1f", i ? " " : "", s_x(&sc, (double)r->samples[i].t_ms),
                           s_y(&sc, rate));
        }
        wr_strbuf_adds(b, "\"/>");
    } else {
        wr_strbuf_addf(b,
                       "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no throughput samples"
                       "</text>",
                       (S_LEFT + S_W - S_RIGHT) / 2, (S_TOP + S_H - S_BOT) / 2);
    }
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        if (!f->disrupted || f->recover_ms < 0) continue;
        double x = s_x(&sc, (double)(f->start_ms + f->recover_ms));
        wr_strbuf_addf(b, "<path class=\"mark\" d=\"M%.1f %d l-5 -9 h10 z\" fill=\"%s\"><title>", x,
                       S_H - S_BOT, s_kind_colour(f->kind));
        s_html(b, f->target, sizeof f->target);
        wr_strbuf_addf(b, ": running again %lld ms after the fault</title></path>",
                       (long long)f->recover_ms);
    }
    wr_strbuf_adds(b, "</svg>\n<p class=\"legend\">");
    for (int k = 0; k < WR_CHAOS_NKINDS; k++)
        wr_strbuf_addf(b, "<span><i style=\"background:%s\"></i>%s</span>", s_colour[k],
                       wr_chaos_kind_name[k]);
    wr_strbuf_adds(b, "<span><svg class=\"key\" viewBox=\"0 0 12 10\" width=\"12\" height=\"10\">"
                      "<path d=\"M6 10 l-5 -9 h10 z\" fill=\"#444\"/></svg>job running again"
                      "</span><span>line: records/s the sources made</span></p>\n");
}

static void s_params(wr_strbuf_t *b, const wr_chaos_result_t *r)
{
    char dur[32], wall[32], dev[WR_STATUS_COUNT_MAX], rec[WR_STATUS_COUNT_MAX];
    char tput[WR_STATUS_COUNT_MAX];
    wr_status_count(r->devices, dev);
    wr_status_count(r->records, rec);
    wr_status_count(r->throughput > 0 ? (uint64_t)(r->throughput + 0.5) : 0, tput);
    wr_strbuf_addf(b,
                   "<table class=\"params\"><tr><th>seed</th><td>%" PRIu64 "</td></tr>"
                   "<tr><th>faults for</th><td>%s</td></tr><tr><th>wall time</th><td>%s</td></tr>"
                   "<tr><th>backend</th><td>",
                   r->seed, wr__chaos_dur(r->duration_ms, dur, sizeof dur),
                   wr__chaos_dur(r->wall_ms, wall, sizeof wall));
    s_html(b, r->backend, sizeof r->backend);
    if (r->topology[0]) {
        char ref[32];
        wr_strbuf_adds(b, "</td></tr><tr><th>topology</th><td>");
        s_html(b, r->topology, sizeof r->topology);
        wr_strbuf_addf(
            b, "</td></tr><tr><th>reference run</th><td>%s</td></tr><tr><th>CPU</th><td>",
            r->reference_ms >= 0 ? wr__chaos_dur(r->reference_ms, ref, sizeof ref) : "-");
    } else {
        wr_strbuf_adds(b, "</td></tr><tr><th>sink</th><td>");
        s_html(b, r->sink, sizeof r->sink);
        wr_strbuf_addf(
            b,
            "</td></tr><tr><th>devices</th><td>%s</td></tr><tr><th>records</th><td>%s</td>"
            "</tr><tr><th>CPU</th><td>",
            dev, rec);
    }
    s_html(b, r->cpu, sizeof r->cpu);
    wr_strbuf_addf(b,
                   "</td></tr><tr><th>availability</th><td>%.1f %%</td></tr>"
                   "<tr><th>throughput</th><td>%s records/s</td></tr>"
                   "<tr><th>checkpoints</th><td>%" PRIu64 " completed, %" PRIu64 " failed</td></tr>"
                   "<tr><th>restarts</th><td>%" PRIu64 "</td></tr></table>\n",
                   r->availability * 100, tput, r->ckpt_completed, r->ckpt_failed, r->restarts);
    static const char *const tks[] = {"tm", "jm", "etcd"};
    static const char *const names[] = {"TaskManager", "JobManager", "etcd"};
    wr_strbuf_adds(b, "<table><tr><th>recovery</th><th>disruptions</th><th>p50</th><th>max</th>"
                      "<th>goal (p50)</th></tr>");
    for (size_t i = 0; i < 3; i++) {
        wr__chaos_recovery_t x = wr__chaos_recovery(r, tks[i], -1);
        const char *met = wr__chaos_goal_text(&x, tks[i]);
        char p50[32], max[32], g[64] = "none";
        if (met)
            snprintf(g, sizeof g, "&lt;= %lld s: %s", (long long)(wr__chaos_goal_ms(tks[i]) / 1000),
                     met);
        wr_strbuf_addf(b, "<tr><td>%s</td><td>%zu", names[i], x.n);
        if (x.unrecovered) wr_strbuf_addf(b, " (%zu never ran again)", x.unrecovered);
        wr_strbuf_addf(b, "</td><td>%s</td><td>%s</td><td>%s</td></tr>",
                       wr__chaos_dur(x.p50, p50, sizeof p50), wr__chaos_dur(x.max, max, sizeof max),
                       g);
    }
    wr_strbuf_adds(b, "</table>\n");
}

static void s_tables(wr_strbuf_t *b, const wr_chaos_result_t *r)
{
    wr_strbuf_adds(b, "<h2>Faults</h2>\n<table><tr><th>#</th><th>kind</th><th>target</th>"
                      "<th>start</th><th>end</th><th>detected</th><th>running again</th>"
                      "<th>what</th></tr>\n");
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        char start[32], end[32], det[32], rec[32] = "not disrupted";
        if (f->disrupted) wr__chaos_dur(f->recover_ms, rec, sizeof rec);
        if (f->disrupted && f->recover_ms < 0) snprintf(rec, sizeof rec, "never");
        wr_strbuf_addf(b, "<tr><td>%zu</td><td><i style=\"background:%s\"></i>%s</td><td>", i + 1,
                       s_kind_colour(f->kind), wr__chaos_kind(f->kind));
        s_html(b, f->target, sizeof f->target);
        wr_strbuf_adds(b, " (");
        s_html(b, f->target_kind, sizeof f->target_kind);
        wr_strbuf_addf(b, ")</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
                       wr__chaos_clock(f->start_ms, true, start, sizeof start),
                       wr__chaos_clock(f->end_ms, true, end, sizeof end),
                       wr__chaos_dur(f->disrupted ? f->detect_ms : -1, det, sizeof det), rec);
        s_html(b, f->what, sizeof f->what);
        wr_strbuf_adds(b, "</td></tr>\n");
    }
    wr_strbuf_adds(b, "</table>\n<h2>Processes</h2>\n<table><tr><th>name</th><th>peak memory</th>"
                      "<th>started</th></tr>\n");
    size_t np = r->nprocs < WR_CHAOS_MAX_PROCS ? r->nprocs : WR_CHAOS_MAX_PROCS;
    for (size_t i = 0; i < np; i++) {
        wr_strbuf_adds(b, "<tr><td>");
        s_html(b, r->procs[i].name, sizeof r->procs[i].name);
        wr_strbuf_addf(b, "</td><td>%.1f MiB</td><td>%d</td></tr>\n",
                       (double)r->procs[i].peak_rss / (1024.0 * 1024.0), r->procs[i].starts);
    }
    wr_strbuf_adds(b, "</table>\n");
}

static const char s_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}"
    "h1.valid{color:#1a7f37}h1.invalid{color:#cf222e}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}"
    "code{white-space:pre-wrap;word-break:break-all}"
    "svg{width:100%;height:auto;font:12px sans-serif}"
    ".axes line{stroke:#444}.axes line.grid{stroke:#e4e4e4}"
    ".band{fill-opacity:.22}.rate{fill:none;stroke:#222;stroke-width:1.5}"
    ".target{font-size:11px}.mark{stroke:#222;stroke-width:.5}"
    ".legend span{margin-right:16px}.legend i,td i{display:inline-block;width:12px;height:12px;"
    "margin-right:4px;vertical-align:-1px;opacity:.6}svg.key{width:12px;margin-right:4px}";

static void s_page(wr_strbuf_t *b, const wr_chaos_result_t *r)
{
    const wr_chaos_verdict_t *v = &r->verdict;
    const char *valid = v->valid ? "true" : "false";
    char lines[WR_STATUS_COUNT_MAX], counts[200];
    wr_status_count(v->lines, lines);
    wr_strbuf_addf(b,
                   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<title>weir chaos (seed %" PRIu64 "): valid: %s</title><style>%s</style>"
                   "</head><body>\n<h1 class=\"%s\">weir chaos: valid: %s</h1>\n"
                   "<p><b>%s</b> (%s lines read in %" PRIu64 " files).</p>\n",
                   r->seed, valid, s_css, v->valid ? "valid" : "invalid", valid,
                   wr__chaos_counts(v, counts, sizeof counts), lines, v->files);
    static const char *const names[] = {"first lost", "first duplicated", "first unexpected"};
    const char *first[] = {v->first_lost, v->first_duplicated, v->first_unexpected};
    for (size_t i = 0; i < 3; i++) {
        if (!first[i][0]) continue;
        wr_strbuf_addf(b, "<p>%s: <code>", names[i]);
        s_html(b, first[i], WR_CHAOS_EXAMPLE_MAX);
        wr_strbuf_adds(b, "</code></p>\n");
    }
    if (r->reason[0]) {
        wr_strbuf_adds(b, "<p>invalid run: ");
        s_html(b, r->reason, sizeof r->reason);
        wr_strbuf_adds(b, "</p>\n");
    }
    s_params(b, r);
    wr_strbuf_adds(b, "<h2>Throughput and faults</h2>\n");
    s_chart(b, r);
    s_tables(b, r);
    wr_strbuf_adds(b, "</body></html>\n");
}

int wr_chaos_report_html(const wr_chaos_result_t *r, const char *path, wr_strbuf_t *err)
{
    wr_strbuf_t page, dir;
    wr_strbuf_init(&page);
    wr_strbuf_init(&dir);
    int rc = 0;
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    if (!*name) {
        wr_strbuf_addf(err, "the report %s: not a file name", path);
        rc = WR_EIO;
        goto out;
    }
    if (!slash)
        wr_strbuf_adds(&dir, ".");
    else
        wr_strbuf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
    s_page(&page, r);
    if (page.failed || dir.failed) {
        rc = WR_ENOMEM;
        wr_strbuf_addf(err, "the report %s: out of memory", path);
        goto out;
    }
    /* a temp file in path's folder, fsynced and renamed over path */
    rc = wr_fs_write_atomic(dir.buf, name, page.buf, page.len);
    if (rc) {
        int e = errno;
        if (rc != WR_ENOMEM) rc = WR_EIO;
        wr_strbuf_addf(err, "writing the report %s: %s", path,
                       rc == WR_ENOMEM ? wr_strerror(rc) : strerror(e));
    }
out:
    wr_strbuf_release(&page);
    wr_strbuf_release(&dir);
    return rc;
}
