/* The verifiable job of `weir chaos` and its checker (chaos_check.h): the job's topology, and the
 * verdict on its committed output against the oracle (chaos_check_expect.c), line by line
 * (chaos_check_line.c). */
#include "cli/chaos_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus/base/error.h"
#include "cli/chaos_check_int.h"
#include "cli/chaos_output.h"

#define S_MAX_WINDOWS  4096               /* windows a record is in (size / slide) */
#define S_MAX_READINGS (INT64_C(1) << 26) /* of a device in a window (size / interval) */

void wr_chaos_job_default(wr_chaos_job_t *j)
{
    memset(j, 0, sizeof *j);
    wr_generator_config_default(&j->gen);
    j->gen.devices = 10000;
    j->gen.interval_ms = 10000;
    j->gen.jitter_ms = 1000;
    j->gen.late_fraction = 0;
    j->gen.total = 0;
    j->gen.rate = 0;
    j->parallelism = 3;
    j->size_ms = 600000;
    j->slide_ms = 60000;
    j->ooo_ms = 2000;
}

const char *wr__chaos_job_check(const wr_chaos_job_t *j)
{
    if (j->gen.total == 0) return "total is 0: the job must end (a bounded generator)";
    if (j->parallelism == 0) return "parallelism is 0";
    if (j->slide_ms <= 0 || j->size_ms < j->slide_ms) return "the window needs 0 < slide <= size";
    if (j->size_ms % j->slide_ms) return "the window's size is not a multiple of its slide";
    if (j->size_ms / j->slide_ms > S_MAX_WINDOWS)
        return "the window's size is more than 4096 slides (every record would be in more "
               "than 4096 windows)";
    if (j->ooo_ms < j->gen.jitter_ms)
        return "max_out_of_orderness is below the generator's jitter: records would be late";
    if (j->gen.interval_ms > 0 && j->size_ms / j->gen.interval_ms >= S_MAX_READINGS)
        return "a window holds 2^26 readings of a device or more (its sum would no longer be "
               "exact)";
    if (j->gen.late_fraction != 0)
        return "late_fraction is not 0: late records would be dropped, not checked";
    wr_generator_t *g = wr_generator_new(&j->gen);
    if (!g) return "the generator's configuration is out of range (generator.h)";
    wr_generator_destroy(&g);
    if (!wr__chaos_windows_fit(j))
        return "the job's event time spans 2^32 slides of its window or more";
    return NULL;
}

int wr_chaos_job_yaml(const wr_chaos_job_t *j, const char *sink, bool exactly_once,
                      uint64_t skip_commit, wr_strbuf_t *out, wr_strbuf_t *err)
{
    const char *why = wr__chaos_job_check(j);
    if (!why && skip_commit && !exactly_once)
        why = "test_skip_commit needs the exactly-once sink (its commits are what it skips)";
    if (!why && !sink[0]) why = "no sink path";
    if (why) {
        wr_strbuf_addf(err, "chaos job: %s", why);
        return WR_EINVAL;
    }
    const wr_generator_config_t *g = &j->gen;
    size_t len = out->len;
    wr_strbuf_addf(out,
                   "name: chaos\nparallelism: %u\nsources:\n  - type: generator\n"
                   "    devices: %llu\n    total: %llu\n",
                   j->parallelism, (unsigned long long)g->devices, (unsigned long long)g->total);
    if (g->rate) wr_strbuf_addf(out, "    rate: %llu\n", (unsigned long long)g->rate);
    if (g->speedup > 0) wr_strbuf_addf(out, "    speedup: %.17g\n", g->speedup);
    wr_strbuf_addf(out,
                   "    start: %lld\n    interval: %lldms\n    jitter: %lldms\n"
                   "    late_fraction: 0\n    seed: %llu\n"
                   "key_by: device\nevent_time:\n  field: ts\n  max_out_of_orderness: %lldms\n"
                   "window:\n  type: sliding\n  size: %lldms\n  slide: %lldms\n"
                   "aggregates:\n  n: count()\n  lo: min(temperature)\n  hi: max(temperature)\n"
                   "  sum: sum(temperature)\n"
                   "sinks:\n  - type: file\n    path: ",
                   (long long)g->start_ms, (long long)g->interval_ms, (long long)g->jitter_ms,
                   (unsigned long long)g->seed, (long long)j->ooo_ms, (long long)j->size_ms,
                   (long long)j->slide_ms);
    wr_strbuf_add_json_str(out, sink, strlen(sink)); /* a YAML double-quoted scalar too */
    if (exactly_once)
        wr_strbuf_addf(out, "\n    exactly_once: true\n    parallelism: %u\n", j->parallelism);
    else
        wr_strbuf_adds(out, "\n    exactly_once: false\n    parallelism: 1\n");
    if (skip_commit)
        wr_strbuf_addf(out, "    test_skip_commit: %llu\n", (unsigned long long)skip_commit);
    if (out->failed) {
        out->len = len;
        return WR_ENOMEM;
    }
    return 0;
}

/* ---- the check ---- */

#define S_PROGRESS_LINES (UINT64_C(1) << 22)

/* One pass checks the lines of the devices [lo, hi) against their table; every line is someone's
 * in exactly one pass (s_line), so that counts and examples come out the same in any number. */
typedef struct {
    wr__chaos_expect_t *e;
    wr_chaos_verdict_t *v;
    const wr_chaos_check_opts_t *opts;
    wr_chaos_progress_t at;
    int64_t devices;                 /* of the job: ids [0, devices) */
    const char *file;                /* the one being read, and its line, for examples */
    uint64_t file_no, line;          /* in reading order (files by name) */
    uint64_t first_file, first_line; /* where the first unexpected line found so far is */
    wr__chaos_row_t first_lost, first_dup;
    uint32_t first_dup_seen;
} s_check_t;

/* line[0, len) with bytes a terminal should not see replaced by '?', cut to at most max bytes
 * ("..." at the end when cut), into out (NUL-terminated; max + 4 bytes). */
static void s_printable(const char *line, size_t len, size_t max, char *out)
{
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    strcpy(out + n, len > max ? "..." : "");
}

/* Counts an unexpected line; the example is the one first in file order over every pass. */
static void s_unexpected(s_check_t *c, const char *line, size_t len, const char *why)
{
    wr_chaos_verdict_t *v = c->v;
    bool earlier =
        c->file_no < c->first_file || (c->file_no == c->first_file && c->line < c->first_line);
    if (v->unexpected++ && !earlier) return;
    c->first_file = c->file_no;
    c->first_line = c->line;
    char shown[164];
    s_printable(line, len, 160, shown);
    const char *base = strrchr(c->file, '/');
    snprintf(v->first_unexpected, sizeof v->first_unexpected, "%s (%s; %s:%llu)", shown, why,
             base ? base + 1 : c->file, (unsigned long long)c->line);
}

/* A line no device owns (one that does not parse, too long, torn) is the first pass's. */
static void s_unowned(s_check_t *c, const char *line, size_t len, const char *why)
{
    if (c->at.pass == 1) s_unexpected(c, line, len, why);
}

/* What differs between a line's row and the expected one, into why; false when nothing does. */
static bool s_differs(const wr__chaos_row_t *got, const wr__chaos_row_t *exp, char *why, size_t cap)
{
    if (got->end != exp->end)
        snprintf(why, cap, "window_end: expected %lld", (long long)exp->end);
    else if (got->n != exp->n)
        snprintf(why, cap, "n: expected %lld", (long long)exp->n);
    else if (got->lo != exp->lo)
        snprintf(why, cap, "lo: expected %.17g", exp->lo);
    else if (got->hi != exp->hi)
        snprintf(why, cap, "hi: expected %.17g", exp->hi);
    else if (got->sum != exp->sum) /* exact in any order: see chaos_check.h */
        snprintf(why, cap, "sum: expected %.17g", exp->sum);
    else
        return false;
    return true;
}

/* The pass that owns a line is its device's (any device outside [0, devices): the first). A
 * line of the sink's form is parsed only in that pass: the others read its device alone. */
static void s_line(s_check_t *c, const char *line, size_t len)
{
    char why[160];
    wr__chaos_row_t got, exp;
    bool parsed = false;
    if (!wr__chaos_line_device(line, len, &got.device)) {
        if (wr__chaos_parse_line(line, len, &got, why, sizeof why)) {
            s_unowned(c, line, len, why);
            return;
        }
        parsed = true;
    }
    bool known = got.device >= 0 && got.device < c->devices;
    if (known ? got.device < c->at.devices_lo || got.device >= c->at.devices_hi : c->at.pass != 1)
        return; /* another pass's */
    if (!parsed && wr__chaos_parse_line(line, len, &got, why, sizeof why)) {
        s_unexpected(c, line, len, why);
        return;
    }
    if (!wr__chaos_expect_get(c->e, got.device, got.start, &exp)) {
        s_unexpected(c, line, len, "no result expected for this device and window_start");
        return;
    }
    if (s_differs(&got, &exp, why, sizeof why)) {
        s_unexpected(c, line, len, why);
        return;
    }
    wr__chaos_expect_see(c->e, got.device, got.start);
}

/* One line of the output (cli/chaos_output.h): counted (in the first pass), its progress said,
 * then checked; a line too long or torn is the first pass's unexpected one. */
static int s_output_line(void *ctx, const char *line, size_t len, enum wr_chaos_output_flag flag,
                         const wr_chaos_output_at_t *at)
{
    s_check_t *c = ctx;
    c->file = at->file;
    c->file_no = at->file_no;
    c->line = at->line;
    if (c->at.pass == 1) c->v->lines++;
    if (++c->at.lines % S_PROGRESS_LINES == 0 && c->opts->progress)
        c->opts->progress(c->opts->ctx, &c->at);
    if (flag == WR_CHAOS_LINE_TOO_LONG)
        s_unowned(c, line, len, "a line longer than 1 MiB");
    else if (flag == WR_CHAOS_LINE_TORN)
        s_unowned(c, line, len, "no newline at the end: a torn line");
    else
        s_line(c, line, len);
    return 0;
}

static bool s_key_before(const wr__chaos_row_t *a, const wr__chaos_row_t *b)
{
    return a->device != b->device ? a->device < b->device : a->start < b->start;
}

static void s_tally(void *ctx, const wr__chaos_row_t *row, uint32_t seen)
{
    s_check_t *c = ctx;
    wr_chaos_verdict_t *v = c->v;
    if (seen == 1) {
        v->ok++;
    } else if (seen == 0) {
        if (!v->lost++ || s_key_before(row, &c->first_lost)) c->first_lost = *row;
    } else if (!v->duplicated++ || s_key_before(row, &c->first_dup)) {
        c->first_dup = *row;
        c->first_dup_seen = seen;
    }
}

/* One pass: the table of c->at's devices, the output read, their results tallied. */
static int s_pass(s_check_t *c, const wr_chaos_job_t *j, const char *path, wr_strbuf_t *err)
{
    int rc = 0;
    if (!(c->e = wr__chaos_expect_new(j, c->at.devices_lo, c->at.devices_hi, &rc))) {
        wr_strbuf_addf(err, "the expected results: %s", wr_strerror(rc));
        return rc;
    }
    c->at.expected = wr__chaos_expect_count(c->e);
    c->at.lines = 0;
    c->at.done = false;
    c->v->expected += c->at.expected;
    if (c->opts->progress) c->opts->progress(c->opts->ctx, &c->at);
    uint64_t files = 0;
    rc = wr_chaos_output_read(path, s_output_line, c, &files, err);
    if (c->at.pass == 1) c->v->files = files;
    if (!rc) {
        wr__chaos_expect_each(c->e, s_tally, c);
        c->at.done = true;
        if (c->opts->progress) c->opts->progress(c->opts->ctx, &c->at);
    }
    wr__chaos_expect_destroy(&c->e);
    return rc;
}

int wr_chaos_check(const wr_chaos_job_t *j, const char *path, const wr_chaos_check_opts_t *opts,
                   wr_chaos_verdict_t *v, wr_strbuf_t *err)
{
    memset(v, 0, sizeof *v);
    const char *why = wr__chaos_job_check(j);
    if (why) {
        wr_strbuf_addf(err, "chaos job: %s", why);
        return WR_EINVAL;
    }
    wr_chaos_check_opts_t o = opts ? *opts : (wr_chaos_check_opts_t){0};
    if (!o.mem_max) o.mem_max = WR_CHAOS_MEM_DEFAULT;
    uint64_t most = wr__chaos_expect_devices_max(j, o.mem_max);
    if (!most) {
        wr_strbuf_addf(err,
                       "a memory budget of %llu bytes holds no device's expected results (one "
                       "device's table takes %llu)",
                       (unsigned long long)o.mem_max,
                       (unsigned long long)wr__chaos_expect_bytes(j, 1));
        return WR_EINVAL;
    }
    struct stat st; /* the reader says so too, but only after the first pass's oracle is built */
    if (stat(path, &st)) {
        int rc = errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
        wr_strbuf_addf(err, "%s: %s", path, strerror(errno));
        return rc;
    }
    uint64_t devices = j->gen.devices, passes = (devices + most - 1) / most;
    uint64_t each = (devices + passes - 1) / passes; /* as even as can be, at most `most` */
    s_check_t c = {.v = v, .opts = &o, .devices = (int64_t)devices};
    v->passes = (uint32_t)passes;
    int rc = 0;
    for (uint64_t k = 0; !rc && k * each < devices; k++) {
        c.at = (wr_chaos_progress_t){.pass = (uint32_t)k + 1,
                                     .passes = (uint32_t)passes,
                                     .devices_lo = (int64_t)(k * each),
                                     .devices_hi =
                                         (int64_t)(k + 1 < passes ? (k + 1) * each : devices)};
        rc = s_pass(&c, j, path, err);
    }
    if (!rc) {
        char shown[WR_CHAOS_EXAMPLE_MAX];
        if (v->lost) wr__chaos_format_row(&c.first_lost, v->first_lost, sizeof v->first_lost);
        if (v->duplicated) {
            wr__chaos_format_row(&c.first_dup, shown, sizeof shown);
            snprintf(v->first_duplicated, sizeof v->first_duplicated, "%.290s (%u times)", shown,
                     c.first_dup_seen);
        }
        v->valid = !v->lost && !v->duplicated && !v->unexpected;
    }
    return rc;
}
