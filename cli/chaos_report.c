/* What a `weir chaos` run found, as the table at the end, the JSON object and the live line
 * (cli/chaos_report.h; the HTML page is chaos_html.c). Pure rendering of the caller's result. */
#include "cli/chaos_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/numfmt.h"
#include "cli/status_line.h"

#define S_COLS 100 /* the table fits a terminal this wide */

const char *const wr_chaos_kind_name[WR_CHAOS_NKINDS] = {"kill", "pause", "partition", "etcd"};

const char *wr__chaos_kind(int kind)
{
    return kind >= 0 && kind < WR_CHAOS_NKINDS ? wr_chaos_kind_name[kind] : "?";
}

int64_t wr__chaos_goal_ms(const char *tk)
{
    if (strcmp(tk, "tm") == 0) return WR__CHAOS_GOAL_TM_MS;
    if (strcmp(tk, "jm") == 0) return WR__CHAOS_GOAL_JM_MS;
    return 0;
}

/* Whether fault f counts for target kind tk (its target_kind may lack a NUL: caller's input). */
static bool s_of_kind(const wr_chaos_fault_t *f, const char *tk, int kind)
{
    size_t n = strlen(tk);
    return n < sizeof f->target_kind && strncmp(f->target_kind, tk, sizeof f->target_kind) == 0 &&
           (kind < 0 || f->kind == kind);
}

/* The lower median and the max without sorting (no allocation, nothing to fail): the k-th
 * smallest is the value with at most k smaller ones and more than k smaller or equal. */
wr__chaos_recovery_t wr__chaos_recovery(const wr_chaos_result_t *r, const char *tk, int kind)
{
    wr__chaos_recovery_t x = {.p50 = -1, .max = -1};
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        if (!f->disrupted || !s_of_kind(f, tk, kind)) continue;
        if (f->recover_ms < 0) {
            x.unrecovered++;
            continue;
        }
        x.n++;
        if (f->recover_ms > x.max) x.max = f->recover_ms;
    }
    size_t k = x.n ? (x.n - 1) / 2 : 0;
    for (size_t i = 0; i < r->nfaults && x.n && x.p50 < 0; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        if (!f->disrupted || !s_of_kind(f, tk, kind) || f->recover_ms < 0) continue;
        size_t less = 0, le = 0;
        for (size_t j = 0; j < r->nfaults; j++) {
            const wr_chaos_fault_t *g = &r->faults[j];
            if (!g->disrupted || !s_of_kind(g, tk, kind) || g->recover_ms < 0) continue;
            less += g->recover_ms < f->recover_ms;
            le += g->recover_ms <= f->recover_ms;
        }
        if (less <= k && k < le) x.p50 = f->recover_ms;
    }
    return x;
}

/* ---- the table ---- */

static const char *const s_target_kinds[] = {"tm", "jm", "etcd"};
static const char *const s_target_names[] = {"TaskManager", "JobManager", "etcd"};

/* s (at most cap bytes, maybe without a NUL) into out (cap + 1 bytes) with control bytes as
 * spaces: a newline in a name from the run must not break the table or the live line. */
static const char *s_clean(const char *s, size_t cap, char *out)
{
    size_t n = strnlen(s, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[n] = '\0';
    return out;
}

/* The longest prefix of s[0..len) that ends on a whole UTF-8 sequence. */
static size_t s_utf8_cut(const char *s, size_t len)
{
    size_t i = len;
    while (i && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (!i || (unsigned char)s[i - 1] < 0xc0) return len; /* ASCII, or stray continuations */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return len - (i - 1) < need ? i - 1 : len;
}

/* Prints s from column col on, wrapped at spaces (or cut where a word is longer than the room)
 * so that no line passes S_COLS - 1 columns; continuation lines start at col (at 6 on a line of
 * their own when col leaves less than 20 columns). */
static void s_wrap(FILE *out, const char *s, size_t col)
{
    if (col + 20 >= S_COLS) { /* long names before it: the text goes on the next line */
        col = 6;
        fprintf(out, "\n%*s", (int)col, "");
    }
    size_t w = S_COLS - 1 - col, len = strlen(s);
    bool first = true;
    while (len || first) {
        size_t take = len;
        if (take > w) {
            take = w;
            size_t sp = take;
            while (sp > w / 2 && s[sp] != ' ')
                sp--;
            if (s[sp] == ' ') take = sp;
            if (s_utf8_cut(s, take)) take = s_utf8_cut(s, take);
        }
        if (!first) fprintf(out, "%*s", (int)col, "");
        fprintf(out, "%.*s\n", (int)take, s);
        s += take;
        len -= take;
        while (len && *s == ' ')
            s++, len--;
        first = false;
    }
}

const char *wr__chaos_clock(int64_t ms, bool tenths, char *out, size_t cap)
{
    long long s = (long long)(ms / 1000);
    if (ms < 0)
        snprintf(out, cap, "-");
    else if (s >= 3600)
        snprintf(out, cap, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else if (tenths)
        snprintf(out, cap, "%lld:%02lld.%lld", s / 60, s % 60, (long long)(ms / 100 % 10));
    else
        snprintf(out, cap, "%lld:%02lld", s / 60, s % 60);
    return out;
}

const char *wr__chaos_dur(int64_t ms, char *out, size_t cap)
{
    if (ms < 0) return snprintf(out, cap, "-"), out;
    return wr_status_duration(ms, out, cap);
}

const char *wr__chaos_goal_text(const wr__chaos_recovery_t *x, const char *tk)
{
    int64_t goal = wr__chaos_goal_ms(tk);
    if (!goal) return NULL;
    if (!x->n && !x->unrecovered) return "not measured";
    return x->n && x->p50 <= goal && !x->unrecovered ? "met" : "NOT met";
}

static void s_table_faults(const wr_chaos_result_t *r, FILE *out)
{
    if (!r->nfaults) {
        fprintf(out, "faults: none injected\n");
        return;
    }
    fprintf(out, "faults\n  %3s  %-9s  %-8s  %7s  %8s  %13s  %s\n", "#", "kind", "target", "start",
            "detected", "running again", "what");
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        char target[sizeof f->target + 1], what[sizeof f->what + 1], start[32], det[32], rec[32];
        wr__chaos_clock(f->start_ms, true, start, sizeof start);
        wr__chaos_dur(f->disrupted ? f->detect_ms : -1, det, sizeof det);
        if (!f->disrupted)
            snprintf(rec, sizeof rec, "not disrupted");
        else if (f->recover_ms < 0)
            snprintf(rec, sizeof rec, "never");
        else
            wr__chaos_dur(f->recover_ms, rec, sizeof rec);
        int col =
            fprintf(out, "  %3zu  %-9s  %-8s  %7s  %8s  %13s  ", i + 1, wr__chaos_kind(f->kind),
                    s_clean(f->target, sizeof f->target, target), start, det, rec);
        s_wrap(out, s_clean(f->what, sizeof f->what, what), col > 0 ? (size_t)col : 0);
    }
}

static void s_table_recovery(const wr_chaos_result_t *r, FILE *out)
{
    for (size_t i = 0; i < sizeof s_target_kinds / sizeof *s_target_kinds; i++) {
        wr__chaos_recovery_t x = wr__chaos_recovery(r, s_target_kinds[i], -1);
        const char *met = wr__chaos_goal_text(&x, s_target_kinds[i]);
        char p50[32], max[32], g[48] = "";
        if (met)
            snprintf(g, sizeof g, " (goal <= %lld s: %s)",
                     (long long)(wr__chaos_goal_ms(s_target_kinds[i]) / 1000), met);
        if (!x.n && !x.unrecovered) {
            fprintf(out, "%s recovery: no fault disrupted the job%s\n", s_target_names[i], g);
            continue;
        }
        fprintf(out, "%s recovery p50 %s%s, max %s over %zu disruption%s", s_target_names[i],
                x.n ? wr__chaos_dur(x.p50, p50, sizeof p50) : "-", g,
                x.n ? wr__chaos_dur(x.max, max, sizeof max) : "-", x.n, x.n == 1 ? "" : "s");
        if (x.unrecovered) fprintf(out, "; %zu after which it never ran again", x.unrecovered);
        fputc('\n', out);
        /* by kind of fault: a kill is recovered from, a pause or a partition is also waited out */
        const char *sep = "  by fault:";
        for (int k = 0; k < WR_CHAOS_NKINDS; k++) {
            wr__chaos_recovery_t y = wr__chaos_recovery(r, s_target_kinds[i], k);
            if (!y.n) continue;
            fprintf(out, "%s %s p50 %s, max %s (%zu)", sep, wr__chaos_kind(k),
                    wr__chaos_dur(y.p50, p50, sizeof p50), wr__chaos_dur(y.max, max, sizeof max),
                    y.n);
            sep = ";";
        }
        if (*sep == ';') fputc('\n', out);
    }
}

const char *wr__chaos_counts(const wr_chaos_verdict_t *v, char *out, size_t cap)
{
    char exp[WR_STATUS_COUNT_MAX], ok[WR_STATUS_COUNT_MAX], lost[WR_STATUS_COUNT_MAX];
    char dup[WR_STATUS_COUNT_MAX], unexp[WR_STATUS_COUNT_MAX];
    wr_status_count(v->expected, exp);
    wr_status_count(v->ok, ok);
    wr_status_count(v->lost, lost);
    wr_status_count(v->duplicated, dup);
    wr_status_count(v->unexpected, unexp);
    snprintf(out, cap, "%s ok of %s expected; %s lost, %s duplicated, %s unexpected", ok, exp, lost,
             dup, unexp);
    return out;
}

static void s_table_verdict(const wr_chaos_verdict_t *v, FILE *out)
{
    char lines[WR_STATUS_COUNT_MAX], exp[WR_STATUS_COUNT_MAX], counts[200];
    wr_status_count(v->lines, lines);
    wr_status_count(v->expected, exp);
    fprintf(out, "\nchecked %s line%s in %" PRIu64 " file%s against %s expected results\n", lines,
            v->lines == 1 ? "" : "s", v->files, v->files == 1 ? "" : "s", exp);
    fprintf(out, "valid: %s  (%s)\n", v->valid ? "true" : "false",
            wr__chaos_counts(v, counts, sizeof counts));
    if (v->valid) return;
    static const char *const names[] = {
        "first lost:       ", "first duplicated: ", "first unexpected: "};
    const char *first[] = {v->first_lost, v->first_duplicated, v->first_unexpected};
    for (size_t i = 0; i < 3; i++) {
        char text[WR_CHAOS_EXAMPLE_MAX + 1];
        s_clean(first[i], WR_CHAOS_EXAMPLE_MAX, text);
        if (!text[0]) continue;
        int col = fprintf(out, "  %s", names[i]);
        s_wrap(out, text, col > 0 ? (size_t)col : 0);
    }
}

void wr_chaos_report_table(const wr_chaos_result_t *r, FILE *out)
{
    char dur[32], wall[32], dev[WR_STATUS_COUNT_MAX], rec[WR_STATUS_COUNT_MAX];
    char tput[WR_STATUS_COUNT_MAX], cpu[sizeof r->cpu + 1], backend[sizeof r->backend + 1];
    char sink[sizeof r->sink + 1];
    wr_status_count(r->devices, dev);
    wr_status_count(r->records, rec);
    wr_status_count(r->throughput > 0 ? (uint64_t)(r->throughput + 0.5) : 0, tput);
    fprintf(out, "weir chaos  seed %" PRIu64 "  faults for %s  wall %s\n", r->seed,
            wr_status_duration(r->duration_ms, dur, sizeof dur),
            wr_status_duration(r->wall_ms, wall, sizeof wall));
    if (r->topology[0]) {
        char topo[sizeof r->topology + 1], ref[32];
        fprintf(out, "backend %s  topology %s  reference run %s\n",
                s_clean(r->backend, sizeof r->backend, backend),
                s_clean(r->topology, sizeof r->topology, topo),
                r->reference_ms >= 0 ? wr_status_duration(r->reference_ms, ref, sizeof ref) : "-");
    } else {
        fprintf(out, "backend %s  sink %s  %s devices  %s records\n",
                s_clean(r->backend, sizeof r->backend, backend),
                s_clean(r->sink, sizeof r->sink, sink), dev, rec);
    }
    fprintf(out, "CPU ");
    s_wrap(out, s_clean(r->cpu, sizeof r->cpu, cpu), 4);
    fputc('\n', out);
    s_table_faults(r, out);
    fputc('\n', out);
    s_table_recovery(r, out);
    fprintf(out, "availability %.1f %%  throughput %s records/s\n", r->availability * 100, tput);
    fprintf(out, "checkpoints %" PRIu64 " completed, %" PRIu64 " failed  restarts %" PRIu64 "\n",
            r->ckpt_completed, r->ckpt_failed, r->restarts);
    size_t np = r->nprocs < WR_CHAOS_MAX_PROCS ? r->nprocs : WR_CHAOS_MAX_PROCS;
    if (np) fprintf(out, "peak memory\n");
    for (size_t i = 0; i < np; i++) {
        char name[sizeof r->procs[i].name + 1];
        fprintf(out, "  %-10s %9.1f MiB  started %d time%s\n",
                s_clean(r->procs[i].name, sizeof r->procs[i].name, name),
                (double)r->procs[i].peak_rss / (1024.0 * 1024.0), r->procs[i].starts,
                r->procs[i].starts == 1 ? "" : "s");
    }
    s_table_verdict(&r->verdict, out);
    char reason[sizeof r->reason + 1];
    if (s_clean(r->reason, sizeof r->reason, reason)[0]) fprintf(out, "invalid run: %s\n", reason);
}

/* ---- JSON ---- */

/* sep_key is the separator and the key: ",\"cpu\":". */
static void s_json_str(wr_strbuf_t *j, const char *sep_key, const char *s, size_t cap)
{
    wr_strbuf_adds(j, sep_key);
    wr_strbuf_add_json_str(j, s, strnlen(s, cap));
}

static void s_json_double(wr_strbuf_t *j, double v)
{
    char num[WR_NUMFMT_JSON_MAX];
    wr_strbuf_add(j, num, wr_numfmt_json_double(num, v));
}

int wr_chaos_report_json(const wr_chaos_result_t *r, wr_strbuf_t *out)
{
    const wr_chaos_verdict_t *v = &r->verdict;
    wr_strbuf_addf(out, "{\"valid\":%s", v->valid ? "true" : "false");
    s_json_str(out, ",\"reason\":", r->reason, sizeof r->reason);
    wr_strbuf_addf(out, ",\"seed\":%" PRIu64 ",\"duration_ms\":%lld,\"wall_ms\":%lld,", r->seed,
                   (long long)r->duration_ms, (long long)r->wall_ms);
    s_json_str(out, "\"cpu\":", r->cpu, sizeof r->cpu);
    s_json_str(out, ",\"backend\":", r->backend, sizeof r->backend);
    s_json_str(out, ",\"sink\":", r->sink, sizeof r->sink);
    wr_strbuf_addf(out, ",\"devices\":%" PRIu64 ",\"records\":%" PRIu64, r->devices, r->records);
    s_json_str(out, ",\"topology\":", r->topology, sizeof r->topology);
    wr_strbuf_addf(out,
                   ",\"reference_ms\":%lld"
                   ",\"verdict\":{\"expected\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"lost\":%" PRIu64
                   ",\"duplicated\":%" PRIu64 ",\"unexpected\":%" PRIu64 ",\"lines\":%" PRIu64 ",",
                   (long long)r->reference_ms, v->expected, v->ok, v->lost, v->duplicated,
                   v->unexpected, v->lines);
    s_json_str(out, "\"first_lost\":", v->first_lost, sizeof v->first_lost);
    s_json_str(out, ",\"first_duplicated\":", v->first_duplicated, sizeof v->first_duplicated);
    s_json_str(out, ",\"first_unexpected\":", v->first_unexpected, sizeof v->first_unexpected);
    wr_strbuf_adds(out, "},\"faults\":[");
    for (size_t i = 0; i < r->nfaults; i++) {
        const wr_chaos_fault_t *f = &r->faults[i];
        wr_strbuf_addf(out, "%s{\"kind\":\"%s\"", i ? "," : "", wr__chaos_kind(f->kind));
        s_json_str(out, ",\"target\":", f->target, sizeof f->target);
        s_json_str(out, ",\"target_kind\":", f->target_kind, sizeof f->target_kind);
        s_json_str(out, ",\"what\":", f->what, sizeof f->what);
        wr_strbuf_addf(out,
                       ",\"start_ms\":%lld,\"end_ms\":%lld,\"detect_ms\":%lld,\"recover_ms\":%lld,"
                       "\"disrupted\":%s}",
                       (long long)f->start_ms, (long long)f->end_ms, (long long)f->detect_ms,
                       (long long)f->recover_ms, f->disrupted ? "true" : "false");
    }
    wr_strbuf_adds(out, "],\"recovery\":{");
    for (size_t i = 0; i < sizeof s_target_kinds / sizeof *s_target_kinds; i++) {
        wr__chaos_recovery_t x = wr__chaos_recovery(r, s_target_kinds[i], -1);
        wr_strbuf_addf(out, "%s\"%s\":{\"n\":%zu,\"p50_ms\":%lld,\"max_ms\":%lld,\"by_fault\":{",
                       i ? "," : "", s_target_kinds[i], x.n, (long long)x.p50, (long long)x.max);
        for (int k = 0; k < WR_CHAOS_NKINDS; k++) {
            wr__chaos_recovery_t y = wr__chaos_recovery(r, s_target_kinds[i], k);
            wr_strbuf_addf(out, "%s\"%s\":{\"n\":%zu,\"p50_ms\":%lld,\"max_ms\":%lld}",
                           k ? "," : "", wr_chaos_kind_name[k], y.n, (long long)y.p50,
                           (long long)y.max);
        }
        wr_strbuf_adds(out, "}}");
    }
    wr_strbuf_adds(out, "},\"availability\":");
    s_json_double(out, r->availability);
    wr_strbuf_adds(out, ",\"throughput\":{\"avg\":");
    s_json_double(out, r->throughput);
    wr_strbuf_adds(out, ",\"samples\":[");
    for (size_t i = 0; i < r->nsamples; i++) {
        wr_strbuf_addf(out, "%s[%lld,", i ? "," : "", (long long)r->samples[i].t_ms);
        s_json_double(out, r->samples[i].rate);
        wr_strbuf_addc(out, ']');
    }
    wr_strbuf_addf(out,
                   "]},\"checkpoints\":{\"completed\":%" PRIu64 ",\"failed\":%" PRIu64
                   "},\"restarts\":%" PRIu64 ",\"processes\":[",
                   r->ckpt_completed, r->ckpt_failed, r->restarts);
    size_t np = r->nprocs < WR_CHAOS_MAX_PROCS ? r->nprocs : WR_CHAOS_MAX_PROCS;
    for (size_t i = 0; i < np; i++) {
        s_json_str(out, i ? ",{\"name\":" : "{\"name\":", r->procs[i].name,
                   sizeof r->procs[i].name);
        wr_strbuf_addf(out, ",\"peak_rss\":%" PRIu64 ",\"starts\":%d}", r->procs[i].peak_rss,
                       r->procs[i].starts);
    }
    wr_strbuf_adds(out, "]}");
    return out->failed ? WR_ENOMEM : 0;
}

/* ---- the live line ---- */

/* done/total in the larger's unit: "0.41M/0.60M", "41.2k/60.0k", "412/600". */
static void s_progress(uint64_t done, uint64_t total, char *out, size_t cap)
{
    double big = (double)(total > done ? total : done), d = 1;
    const char *unit = "", *fmt = "%.0f%s/%.0f%s";
    if (big >= 1e9)
        d = 1e9, unit = "G", fmt = "%.2f%s/%.2f%s";
    else if (big >= 1e5)
        d = 1e6, unit = "M", fmt = "%.2f%s/%.2f%s";
    else if (big >= 1e4)
        d = 1e3, unit = "k", fmt = "%.1f%s/%.1f%s";
    snprintf(out, cap, fmt, (double)done / d, unit, (double)total / d, unit);
}

void wr_chaos_live_line(const wr_chaos_live_t *l, unsigned cols, char *buf, size_t n)
{
    if (!n) return;
    char t[32], d[32], rate[WR_STATUS_COUNT_MAX], prog[64], leader[64] = "", now[200] = "";
    char fault[160], who[40];
    wr__chaos_clock(l->t_ms, false, t, sizeof t);
    wr__chaos_clock(l->duration_ms, false, d, sizeof d);
    wr_status_count(l->rate > 0 ? (uint64_t)(l->rate + 0.5) : 0, rate);
    s_progress(l->records, l->total, prog, sizeof prog);
    if (l->leader && l->leader[0])
        snprintf(leader, sizeof leader, " (%s)", s_clean(l->leader, sizeof who - 1, who));
    if (l->fault && l->fault[0])
        snprintf(now, sizeof now, "  now: %s", s_clean(l->fault, sizeof fault - 1, fault));
    char state[24];
    s_clean(l->job_state && l->job_state[0] ? l->job_state : "?", sizeof state - 1, state);
    int w = snprintf(buf, n, "chaos %s/%s  %s%s  %s rec/s  %s  faults %zu  restarts %" PRIu64 "%s",
                     t, d, state, leader, rate, prog, l->faults_done, l->restarts, now);
    size_t len = w < 0 ? 0 : (size_t)w < n ? (size_t)w : n - 1;
    /* cols - 1: a line that fills the last column wraps on some terminals */
    if (cols && len > cols - 1) len = cols - 1;
    len = s_utf8_cut(buf, len);
    buf[len] = '\0';
}
