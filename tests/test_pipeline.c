/* Jobs end to end, through the real weir binary: their results checked record by record against a
 * brute-force oracle (tests/support/pipeline_oracle.h says how it copes with what timing decides).
 *
 *   - tumbling, sliding (10 min every 1 min; 5 min every 2 min) and session windows over the
 *     generator's out-of-order input with late records, some within the allowed lateness (they
 *     re-fire their windows) and some too late (the late sink), at parallelism 1 and 4, keyed by
 *     device; and keyed by a string (region, through a map)
 *   - a file source (JSON lines, megabytes of them) through a filter and a map into a tumbling
 *     window
 *   - a job through `weir submit` on a JobManager and two TaskManagers (three processes on
 *     loopback, tests/support/proc_cluster.h) gives the same results as through `weir local`,
 *     README's IoT example too
 *   - README's IoT example (p95 included) on the rocksdb state backend, the same as on memory
 *
 * Backpressure (a slow sink) is test_pipeline_backpressure.c. Needs WEIR_BIN (the weir binary of
 * the same build mode) and WEIR_SRC (the repository, for examples/); `scons test` sets both. An
 * ASan build runs smaller jobs. Every process a test starts is killed in its teardown, at exit and
 * with this binary (PR_SET_PDEATHSIG); every file lives in one mkdtemp directory, removed at the
 * end; a failing test prints its processes' logs first. WEIR_TEST_FILTER=PATTERN runs only the
 * matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/generator/generator.h"
#include "actors/dataflow/record/keygroup.h"
#include "bus/base/clock.h"
#include "tests/support/pipeline_oracle.h"
#include "tests/support/proc_cluster.h"

#define S_JOB_MS     120000                 /* one job runs to completion (ASan builds are slow) */
#define S_START_TIME INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */
#define S_SEC        INT64_C(1000)
#define S_MIN        (60 * S_SEC)

/* ---- running weir ---- */

/* Runs `weir ARGS` to completion; it must succeed. */
static ps_proc_t *s_weir(const char *name, const char *const args[], int timeout_ms)
{
    ps_proc_t *p = ps_start(name, args, NULL);
    ps_expect_success(p, timeout_ms);
    return p;
}

/* ---- JSON lines: one flat object per line ---- */

#define S_JFIELDS 16

typedef struct {
    int n;
    const char *key[S_JFIELDS];
    const char *str[S_JFIELDS]; /* a string value, or NULL */
    double num[S_JFIELDS];      /* a number (NaN for null) */
} s_jobj_t;

/* A string at *p (after its quote), unescaped in place; NULL if malformed. */
static const char *s_jstring(char **p)
{
    char *start = *p, *w = *p;
    for (;;) {
        char c = *(*p)++;
        if (c == '"') {
            *w = '\0';
            return start;
        }
        if (c == '\0') return NULL;
        if (c == '\\') {
            c = *(*p)++;
            const char *esc = strchr("\"\\/bfnrt", c);
            if (!c || !esc) return NULL; /* \u: never written for what these tests read */
            c = "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
        }
        *w++ = c;
    }
}

/* Parses the flat JSON object on line (modified in place). */
static bool s_jparse(char *p, s_jobj_t *o)
{
    o->n = 0;
    while (*p == ' ')
        p++;
    if (*p++ != '{') return false;
    if (*p == '}') return p[1] == '\0';
    for (;;) {
        if (o->n == S_JFIELDS || *p++ != '"' || !(o->key[o->n] = s_jstring(&p)) || *p++ != ':')
            return false;
        o->str[o->n] = NULL;
        if (*p == '"') {
            p++;
            if (!(o->str[o->n] = s_jstring(&p))) return false;
        } else if (!strncmp(p, "null", 4)) {
            o->num[o->n] = NAN;
            p += 4;
        } else {
            char *end;
            o->num[o->n] = strtod(p, &end);
            if (end == p) return false;
            p = end;
        }
        o->n++;
        char c = *p++;
        if (c == '}') return *p == '\0';
        if (c != ',') return false;
    }
}

static int s_jfind(const s_jobj_t *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->key[i], key)) return i;
    return -1;
}

/* A key value of a result or late line: an int, or a region name as its index. */
static bool s_jkey(const s_jobj_t *o, const char *field, int64_t *key)
{
    int i = s_jfind(o, field);
    if (i < 0) return false;
    if (!o->str[i]) {
        *key = (int64_t)o->num[i];
        return true;
    }
    for (int r = 0; r < WR_GEN_REGIONS; r++)
        if (!strcmp(o->str[i], wr_generator_region_name(r))) {
            *key = r;
            return true;
        }
    return false;
}

/* A job's results: key field, window_start, window_end, then the aggregates of po_agg_name. */
static po_result_t *s_read_results(const char *path, const char *key_field, size_t *n)
{
    char **lines = ps_lines(path, n);
    po_result_t *res = ps_alloc(*n * sizeof *res);
    for (size_t l = 0; l < *n; l++) {
        s_jobj_t o;
        int s = 0, e = 0;
        if (!s_jparse(lines[l], &o) || o.n != 3 + PO_NAGG || !s_jkey(&o, key_field, &res[l].key) ||
            (s = s_jfind(&o, "window_start")) < 0 || (e = s_jfind(&o, "window_end")) < 0)
            PS_FAIL("%s:%zu: not a result line of this job", path, l + 1);
        res[l].start = (int64_t)o.num[s];
        res[l].end = (int64_t)o.num[e];
        for (int a = 0; a < PO_NAGG; a++) {
            int i = s_jfind(&o, po_agg_name[a]);
            if (i < 0 || o.str[i]) PS_FAIL("%s:%zu: no number %s", path, l + 1, po_agg_name[a]);
            res[l].v[a] = o.num[i];
        }
    }
    return res;
}

/* A window's late sink: the records as they reached the window. */
static po_late_t *s_read_late(const char *path, const char *key_field, const char *val_field,
                              const char *tie_field, size_t *n)
{
    char **lines = ps_lines(path, n);
    po_late_t *late = ps_alloc(*n * sizeof *late);
    for (size_t l = 0; l < *n; l++) {
        s_jobj_t o;
        int t = 0, v = 0, w = 0;
        if (!s_jparse(lines[l], &o) || !s_jkey(&o, key_field, &late[l].key) ||
            (t = s_jfind(&o, "ts")) < 0 || (v = s_jfind(&o, val_field)) < 0 ||
            (w = s_jfind(&o, tie_field)) < 0)
            PS_FAIL("%s:%zu: not a record of this job", path, l + 1);
        late[l].ts = (int64_t)o.num[t];
        late[l].val = o.num[v];
        late[l].tie = o.num[w];
    }
    return late;
}

/* ---- jobs ---- */

/* A windowed job over the generator: the topology the test writes, and what the oracle needs. */
typedef struct {
    const char *name;
    po_window_t win;
    uint32_t par;   /* of the source and the window */
    bool by_region; /* keyed by region (a string, passed through a map) instead of device */
    int64_t ooo;    /* max_out_of_orderness */
    wr_generator_config_t gen;
} s_job_t;

/* The files of one run of a job. */
typedef struct {
    const char *topology, *results, *late;
} s_files_t;

static s_files_t s_files(const char *tag)
{
    char name[64];
    s_files_t f;
    snprintf(name, sizeof name, "%s.yaml", tag);
    f.topology = ps_path(name);
    snprintf(name, sizeof name, "%s-results.jsonl", tag);
    f.results = ps_path(name);
    snprintf(name, sizeof name, "%s-late.jsonl", tag);
    f.late = ps_path(name);
    return f;
}

/* The window and aggregates part of a topology (the aggregates of po_agg_name). */
static void s_window_yaml(wr_strbuf_t *sb, const po_window_t *w, uint32_t par, int64_t ooo,
                          const char *val, const char *tie, const char *late_path)
{
    static const char *const kinds[] = {"sliding", "tumbling", "session"};
    wr_strbuf_addf(sb,
                   "event_time:\n  field: ts\n  max_out_of_orderness: %lldms\n"
                   "  watermark_interval: 1ms\n",
                   (long long)ooo);
    wr_strbuf_addf(sb, "window:\n  type: %s\n", kinds[w->kind]);
    if (w->kind == PO_SESSION)
        wr_strbuf_addf(sb, "  gap: %lldms\n", (long long)w->gap);
    else
        wr_strbuf_addf(sb, "  size: %lldms\n", (long long)w->size);
    if (w->kind == PO_SLIDING) wr_strbuf_addf(sb, "  slide: %lldms\n", (long long)w->slide);
    if (par) wr_strbuf_addf(sb, "  parallelism: %u\n", par);
    wr_strbuf_addf(sb, "  allowed_lateness: %lldms\n  quantile_accuracy: %.17g\n",
                   (long long)w->lateness, w->alpha);
    if (late_path) wr_strbuf_addf(sb, "  late_sink: {type: file, path: %s}\n", late_path);
    wr_strbuf_addf(
        sb,
        "aggregates:\n  n: count()\n  sum_v: sum(%s)\n  min_v: min(%s)\n  max_v: max(%s)\n"
        "  avg_v: avg(%s)\n  sd_v: stddev(%s)\n  first_t: first(%s)\n  last_t: last(%s)\n"
        "  q_v: quantile(%s, %.17g)\n",
        val, val, val, val, val, tie, tie, val, w->q);
}

static const char *s_key_field(const s_job_t *j)
{
    return j->by_region ? "region" : "device";
}

/* v of the map, as the expression evaluates it (one rounding per operation, none fused). */
static double s_v(double temperature, double humidity)
{
    volatile double a = temperature / 3, b = humidity * 0.7;
    return a + b;
}

static void s_write_topology(const s_job_t *j, const s_files_t *f)
{
    const wr_generator_config_t *g = &j->gen;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_addf(&sb, "name: %s\nparallelism: %u\n", j->name, j->par);
    wr_strbuf_addf(
        &sb,
        "sources:\n  - type: generator\n    devices: %llu\n    interval: %lldms\n"
        "    total: %llu\n    start: %lld\n    jitter: %lldms\n    late_fraction: %.17g\n"
        "    late_by: %lldms\n    seed: %llu\n",
        (unsigned long long)g->devices, (long long)g->interval_ms, (unsigned long long)g->total,
        (long long)g->start_ms, (long long)g->jitter_ms, g->late_fraction, (long long)g->late_ms,
        (unsigned long long)g->seed);
    /* v has a full mantissa, unlike the generator's readings (21 random bits: their sums are exact
     * in any order), so that results show the order of summation; a string key passes through.
     * The window never reads `unused`: without a late sink it stays behind at the key-by
     * exchange, and the fields that cross are not the first ones of the map's records. */
    wr_strbuf_addf(&sb,
                   "operators:\n  - map:\n      %s: %s\n      unused: temperature * 2\n"
                   "      ts: ts\n      v: temperature / 3 + humidity * 0.7\n"
                   "      humidity: humidity\n",
                   s_key_field(j), s_key_field(j));
    wr_strbuf_addf(&sb, "key_by: %s\n", s_key_field(j));
    s_window_yaml(&sb, &j->win, 0, j->ooo, "v", "humidity", f->late);
    wr_strbuf_addf(&sb, "sinks:\n  - type: file\n    path: %s\n", f->results);
    ps_write_file(f->topology, sb.buf);
    wr_strbuf_release(&sb);
}

/* The window subtask (of par) that owns a key, by its hash: the hash edge's partitioning, for the
 * default max_parallelism. */
static uint32_t s_window_subtask(uint64_t key_hash, uint32_t par)
{
    return wr_key_group_owner(wr_key_group(key_hash, 128), 128, par);
}

/* The job's input as the oracle sees it: every generated record, by offset. */
static po_input_t s_generated(const s_job_t *j)
{
    wr_generator_t *g = wr_generator_new(&j->gen);
    assert_non_null(g);
    po_input_t in = {.n = j->gen.total, .nsrc = j->par, .nchan = j->par * j->par};
    in.r = ps_alloc(in.n * sizeof *in.r);
    /* arrival order per key is known when one channel carries all of a key's records */
    in.ordered = j->par == 1 || (!j->by_region && j->gen.devices % j->par == 0);
    for (uint64_t o = 0; o < in.n; o++) {
        wr_generator_record_t rec;
        wr_generator_record(g, o, &rec);
        in.r[o] = (po_rec_t){.key = j->by_region ? rec.region : rec.device,
                             .ts = rec.ts,
                             .val = s_v(rec.temperature, rec.humidity),
                             .tie = rec.humidity,
                             .src = (uint32_t)(o % j->par), /* strided subtasks */
                             .late = rec.late,
                             .kept = true};
    }
    wr_generator_destroy(&g);
    for (size_t i = 0; i < in.n; i++) {
        const char *region = wr_generator_region_name((int)in.r[i].key);
        in.r[i].chan = in.r[i].src * j->par +
                       s_window_subtask(j->by_region ? wr_hash_bytes(region, strlen(region))
                                                     : wr_hash_u64((uint64_t)in.r[i].key),
                                        j->par);
    }
    po_input_bounds(&in, j->ooo);
    return in;
}

/* For the unordered check: no late record can be left out of any of its windows, whatever the
 * timing (its ub is below every cleanup time). */
static void s_assert_never_too_late(const po_input_t *in, const po_window_t *w)
{
    int64_t slide = w->kind == PO_TUMBLING ? w->size : w->slide;
    for (size_t i = 0; i < in->n; i++) {
        const po_rec_t *r = &in->r[i];
        int64_t first_end = po_floor_div(r->ts - w->size, slide) * slide + slide + w->size;
        if (r->late && r->ub >= first_end - 1 + w->lateness)
            fail_msg("test design: late record %zu could be too late for a window; with records of "
                     "a key "
                     "in several channels the oracle cannot tell which windows took it",
                     i);
    }
}

/* Checks a finished job's output files against the oracle and returns its figures. */
static po_stats_t s_check(const po_input_t *in, const po_window_t *w, const s_files_t *f,
                          const char *key_field, const char *val_field, const char *tie_field)
{
    size_t nres, nlate;
    po_result_t *res = s_read_results(f->results, key_field, &nres);
    nlate = 0; /* no late sink: nothing may be too late */
    po_late_t *late =
        f->late ? s_read_late(f->late, key_field, val_field, tie_field, &nlate) : NULL;
    bool *in_sink = ps_alloc(in->n * sizeof *in_sink);
    po_stats_t st = {0};
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    bool ok = po_match_late(in, late, nlate, in_sink, &why) &&
              (w->kind == PO_SESSION ? po_check_sessions(in, w, res, nres, in_sink, &st, &why)
                                     : po_check_sliced(in, w, res, nres, in_sink, &st, &why));
    char *msg = ps_keep(wr_strbuf_detach(&why, NULL));
    if (!ok) PS_FAIL("%s: %s", f->results, msg);
    assert_int_equal(st.results, nres);
    print_message("  %s: %" PRIu64 " windows, %" PRIu64 " results (%" PRIu64 " late re-fires), "
                  "late records: %" PRIu64 " too late, %" PRIu64 " taken by every window, %" PRIu64
                  " by some%s",
                  strrchr(f->results, '/') + 1, st.windows, st.results, st.refires, st.too_late,
                  st.late_taken, st.late_partial, in->ordered ? "" : " (unordered)");
    if (w->kind == PO_SESSION)
        print_message("; %" PRIu64 " records the watermark bounds left open", st.branch_points);
    print_message("\n");
    return st;
}

/* Writes j's topology, runs it with `weir local` and checks its output. */
static po_stats_t s_run_local(s_job_t job)
{
    const s_job_t *j = &job;
    s_files_t f = s_files(j->name);
    s_write_topology(j, &f);
    s_weir(j->name, PS_ARGV("local", f.topology), S_JOB_MS);
    po_input_t in = s_generated(j);
    if (!in.ordered) s_assert_never_too_late(&in, &j->win);
    return s_check(&in, &j->win, &f, s_key_field(j), "v", "humidity");
}

/* The generator of the window tests: `devices` devices every `interval` ms, 2 s of jitter, 3% of
 * the records late_by late. An ASan build runs half the records. A source makes records
 * much faster than a window takes them, so watermarks come every few tens of thousands of records
 * (every millisecond or so): how much event time that is decides how many windows a watermark
 * fires at once and how late the watermark runs behind the records (the devices per interval). */
static wr_generator_config_t s_gen(uint64_t devices, int64_t interval, uint64_t total,
                                   int64_t late_by, uint64_t seed)
{
    wr_generator_config_t g;
    wr_generator_config_default(&g);
    g.devices = devices;
    g.interval_ms = interval;
    g.total = ps_h.asan ? total / 2 : total;
    g.start_ms = S_START_TIME;
    g.jitter_ms = 2000;
    g.late_fraction = 0.03;
    g.late_ms = late_by;
    g.seed = seed;
    return g;
}

/* ---- windows against the oracle ---- */

/* 1-minute windows, 1 minute of allowed lateness, records 2 min late: those from the first
 * seconds of a window can never be too late (they must re-fire it if it fired), the others are
 * when the watermark was close enough to the newest record. */
static s_job_t s_tumbling(uint32_t par)
{
    return (s_job_t){
        .name = par == 1 ? "tumbling-1m-p1" : "tumbling-1m-p4",
        .win = {.kind = PO_TUMBLING, .size = S_MIN, .lateness = S_MIN, .q = 0.9, .alpha = 0.01},
        .par = par,
        .ooo = 2 * S_SEC,
        .gen = s_gen(400, 2 * S_SEC, 100000, 2 * S_MIN, 31 + par)};
}

static void test_tumbling_window_at_parallelism_1(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_tumbling(1));
    assert_true(st.too_late > 0);
    assert_true(st.refires > 0);
}

static void test_tumbling_window_at_parallelism_4(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_tumbling(4));
    assert_true(st.refires > 0);
}

/* 10-minute windows every minute. Late records 10 min late: the windows that end soonest after
 * them are cleaned up unless the watermark lagged, the last ones always take them, so most go to
 * some windows and not to others. */
static s_job_t s_sliding_10_1(uint32_t par)
{
    return (s_job_t){.name = par == 1 ? "sliding-10m-1m-p1" : "sliding-10m-1m-p4",
                     .win = {.kind = PO_SLIDING,
                             .size = 10 * S_MIN,
                             .slide = S_MIN,
                             .lateness = S_MIN,
                             .q = 0.9,
                             .alpha = 0.01},
                     .par = par,
                     .ooo = 2 * S_SEC,
                     .gen = s_gen(2000, 5 * S_SEC, 400000, 10 * S_MIN, 11 + par)};
}

static void test_sliding_window_10min_every_1min_at_parallelism_1(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_sliding_10_1(1));
    assert_true(st.refires > 0);      /* late records re-fired windows ... */
    assert_true(st.late_partial > 0); /* ... after older windows of theirs were gone */
}

static void test_sliding_window_10min_every_1min_at_parallelism_4(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_sliding_10_1(4));
    assert_true(st.refires > 0);
}

/* 5-minute windows every 2 minutes: panes of 1 minute, 2 or 3 windows per record. Records 8 min
 * late are too late for all of them unless the watermark lagged by minutes. */
static s_job_t s_sliding_5_2(uint32_t par)
{
    return (s_job_t){.name = par == 1 ? "sliding-5m-2m-p1" : "sliding-5m-2m-p4",
                     .win = {.kind = PO_SLIDING,
                             .size = 5 * S_MIN,
                             .slide = 2 * S_MIN,
                             .lateness = 30 * S_SEC,
                             .q = 0.9,
                             .alpha = 0.01},
                     .par = par,
                     .ooo = 2 * S_SEC,
                     .gen = s_gen(100, 1 * S_SEC, 100000, 8 * S_MIN, 21 + par)};
}

static void test_sliding_window_5min_every_2min_at_parallelism_1(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_sliding_5_2(1));
    assert_true(st.too_late > 0);
}

static void test_sliding_window_5min_every_2min_at_parallelism_4(void **state)
{
    (void)state;
    s_run_local(s_sliding_5_2(4));
}

/* Sessions with a gap of 10 s over readings `interval` apart with 4 s of jitter. */
static s_job_t s_session(const char *name, uint32_t par, uint64_t devices, int64_t interval,
                         uint64_t total, int64_t late_by, int64_t lateness)
{
    s_job_t j = {.name = name,
                 .win = {.kind = PO_SESSION,
                         .gap = 10 * S_SEC,
                         .lateness = lateness,
                         .q = 0.9,
                         .alpha = 0.01},
                 .par = par,
                 .ooo = 4 * S_SEC,
                 .gen = s_gen(devices, interval, total, late_by, 41 + par)};
    j.gen.jitter_ms = 4000;
    return j;
}

/* Readings 10 s apart: a device's readings chain into sessions of random length. Records 3 min
 * late land in sessions long fired, often cleaned up (1 min of lateness): they merge, open
 * sessions of their own, or are too late. */
static void test_session_window_at_parallelism_1(void **state)
{
    (void)state;
    po_stats_t st =
        s_run_local(s_session("session-p1", 1, 400, 10 * S_SEC, 60000, 3 * S_MIN, S_MIN));
    assert_true(st.too_late > 0);
    assert_true(st.refires > 0);
}

static void test_session_window_at_parallelism_4(void **state)
{
    (void)state;
    s_run_local(s_session("session-p4", 4, 400, 10 * S_SEC, 60000, 3 * S_MIN, S_MIN));
}

/* Records 5 min late with 5 min of allowed lateness: never too late, and every session they touch
 * is still there whatever the watermark did, so each must merge into them (re-firing them if
 * they had fired). */
static void test_session_window_late_records_merge_within_the_allowed_lateness(void **state)
{
    (void)state;
    s_job_t j = s_session("session-merge-p1", 1, 2000, 10 * S_SEC, 120000, 5 * S_MIN, 5 * S_MIN);
    j.gen.total = 120000; /* under ASan too: 10 minutes of event time, twice the records' delay */
    po_stats_t st = s_run_local(j);
    assert_int_equal(st.too_late, 0);
    assert_true(st.refires > 0);
}

/* Readings 30 s apart are sessions of one; records 4 min 15 s late fall between two readings and
 * touch neither: late sessions of their own, which 10 min of allowed lateness must keep. */
static void test_session_window_late_records_open_sessions_within_the_allowed_lateness(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_session("session-alone-p1", 1, 2000, 30 * S_SEC, 80000,
                                          4 * S_MIN + 15 * S_SEC, 10 * S_MIN));
    assert_int_equal(st.too_late, 0);
    assert_true(st.late_taken > 0);
}

/* Windows of 2 minutes every minute keyed by a string: 8 regions (passed through the map), each
 * with records in every source subtask. */
static s_job_t s_region(const char *name, uint32_t par, int64_t late_by, int64_t lateness)
{
    return (s_job_t){.name = name,
                     .win = {.kind = PO_SLIDING,
                             .size = 2 * S_MIN,
                             .slide = S_MIN,
                             .lateness = lateness,
                             .q = 0.5,
                             .alpha = 0.02},
                     .par = par,
                     .by_region = true,
                     .ooo = 2 * S_SEC,
                     .gen = s_gen(400, 10 * S_SEC, 100000, late_by, 50 + par)};
}

static void test_string_key_through_a_map_at_parallelism_1(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_region("region-sliding-p1", 1, 2 * S_MIN, 30 * S_SEC));
    assert_true(st.refires > 0);
}

/* At parallelism 4 a region's records interleave in an order timing decides: late records within
 * the allowed lateness whatever the watermark did, sums compared within 1e-9 relative. */
static void test_string_key_through_a_map_at_parallelism_4(void **state)
{
    (void)state;
    po_stats_t st = s_run_local(s_region("region-sliding-p4", 4, 90 * S_SEC, 2 * S_MIN));
    assert_int_equal(st.too_late, 0);
}

/* ---- a file source through a filter and a map ---- */

/* Readings written as JSON lines (the generator's, out of order and 5% of them 150 s late, some
 * twice), read by a file source, filtered, mapped to Fahrenheit, into 1-minute windows at
 * parallelism 2. Megabytes of them: more than the source's read buffer (128 KiB), which such a
 * file once overflowed ("message too large"). */
static void test_file_source_through_filter_and_map_into_a_tumbling_window(void **state)
{
    (void)state;
    wr_generator_config_t g;
    wr_generator_config_default(&g);
    g.devices = 200;
    g.total = ps_h.asan ? 20000 : 40000;
    g.start_ms = S_START_TIME;
    g.jitter_ms = 3000;
    g.late_fraction = 0.05;
    g.late_ms = 150 * S_SEC;
    g.seed = 61;
    wr_generator_t *gen = wr_generator_new(&g);
    assert_non_null(gen);
    po_input_t in = {.nsrc = 1, .nchan = 2, .ordered = true};
    in.r = ps_alloc((g.total + g.total / 5 + 1) * sizeof *in.r);
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    for (uint64_t o = 0; o < g.total; o++) {
        wr_generator_record_t rec;
        wr_generator_record(gen, o, &rec);
        /* every fifth reading comes twice, the second a little different: first() and last()
         * meet ties in time, which go to the earliest and the latest line */
        for (int copy = 0; copy < 1 + (o % 5 == 2); copy++) {
            double temp = rec.temperature + copy * 0.25, hum = rec.humidity - copy;
            wr_strbuf_addf(
                &text, "{\"device\":%lld,\"ts\":%lld,\"temperature\":%.17g,\"humidity\":%.17g}\n",
                (long long)rec.device, (long long)rec.ts, temp, hum);
            volatile double f = temp * 1.8; /* as the expression evaluates it: no fused op */
            in.r[in.n++] =
                (po_rec_t){.key = rec.device,
                           .ts = rec.ts,
                           .val = f + 32,
                           .tie = hum,
                           .chan = s_window_subtask(wr_hash_u64((uint64_t)rec.device), 2),
                           .late = rec.late,
                           .kept = hum < 60 && temp > 12};
        }
    }
    wr_generator_destroy(&gen);
    po_input_bounds(&in, 3 * S_SEC);
    ps_write_file(ps_path("readings.jsonl"), text.buf);
    wr_strbuf_release(&text);

    po_window_t w = {
        .kind = PO_TUMBLING, .size = S_MIN, .lateness = 90 * S_SEC, .q = 0.9, .alpha = 0.01};
    s_files_t f = s_files("file-source");
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_adds(&sb,
                   "name: file-source\n"
                   "schema: {device: int, ts: time, temperature: double, humidity: double}\n"
                   "sources:\n  - type: file\n    path: readings.jsonl\n" /* next to the topology */
                   "operators:\n  - filter: humidity < 60 && temperature > 12\n"
                   "  - map:\n      device: device\n      ts: ts\n"
                   "      temp_f: temperature * 1.8 + 32\n      humidity: humidity\n"
                   "key_by: device\n");
    s_window_yaml(&sb, &w, 2, 3 * S_SEC, "temp_f", "humidity", f.late);
    wr_strbuf_addf(&sb, "sinks:\n  - type: file\n    path: %s\n", f.results);
    ps_write_file(f.topology, sb.buf);
    wr_strbuf_release(&sb);
    s_weir("file-source", PS_ARGV("local", f.topology), S_JOB_MS);
    po_stats_t st = s_check(&in, &w, &f, "device", "temp_f", "humidity");
    assert_true(st.windows > 0);
    assert_true(st.refires > 0);
}

/* ---- a cluster of three processes (tests/support/proc_cluster.h) ---- */

static void s_submit(const pc_cluster_t *c, const char *name, const char *topology)
{
    s_weir(name, PS_ARGV("submit", topology, "--wait", "--jobmanager", c->endpoint), S_JOB_MS);
}

static int s_cmp_result(const void *a, const void *b)
{
    const po_result_t *x = a, *y = b;
    if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
    if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
    return memcmp(x->v, y->v, sizeof x->v);
}

/* The results as a sorted array (a multiset to compare). */
static po_result_t *s_sorted_results(const char *path, const char *key_field, size_t *n)
{
    po_result_t *r = s_read_results(path, key_field, n);
    qsort(r, *n, sizeof *r, s_cmp_result);
    return r;
}

/* A sliding window at parallelism 4 on 2 TaskManagers (4 slots): without late records every window
 * fires once and the results are a function of the input, whatever the timing: the cluster's
 * must be the very ones `weir local` gives, and both the oracle's. */
static void test_cluster_runs_a_job_to_the_same_results_as_weir_local(void **state)
{
    (void)state;
    s_job_t j = s_sliding_10_1(4);
    j.name = "cluster-sliding";
    j.gen = s_gen(400, 10 * S_SEC, 80000, S_MIN, 71);
    j.gen.late_fraction = 0;
    po_input_t in = s_generated(&j);
    s_files_t local = s_files("local"), cluster = s_files("cluster");
    local.late = cluster.late = NULL; /* none can be late: without a late sink, only the fields
                                         the window reads cross the exchange (plan.h) */
    s_write_topology(&j, &local);
    s_write_topology(&j, &cluster);
    s_weir("local", PS_ARGV("local", local.topology), S_JOB_MS);

    pc_cluster_t c = {.tm_settings = PS_ARGV("--slots", "2")};
    pc_cluster_start(&c);
    s_submit(&c, "submit", cluster.topology);
    pc_cluster_stop(&c);

    po_stats_t a = s_check(&in, &j.win, &local, "device", "v", "humidity");
    po_stats_t b = s_check(&in, &j.win, &cluster, "device", "v", "humidity");
    assert_int_equal(a.refires, 0);
    assert_int_equal(b.refires, 0);
    size_t na, nb;
    po_result_t *ra = s_sorted_results(local.results, "device", &na);
    po_result_t *rb = s_sorted_results(cluster.results, "device", &nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        if (s_cmp_result(&ra[i], &rb[i]))
            PS_FAIL("result %zu of %zu differs: device %" PRId64 " [%" PRId64
                    ", ...) n=%.0f locally, "
                    "device %" PRId64 " [%" PRId64 ", ...) n=%.0f on the cluster",
                    i, na, ra[i].key, ra[i].start, ra[i].v[PO_N], rb[i].key, rb[i].start,
                    rb[i].v[PO_N]);
}

/* The lines of the files that start with prefix, sorted, as one text; *n gets their count. */
static const char *s_sorted_lines(const char *const *paths, const char *prefix, size_t *n)
{
    size_t counts[8], total = 0;
    char **each[8];
    for (size_t p = 0; paths[p]; p++) {
        assert_true(p < 8);
        each[p] = ps_lines(paths[p], &counts[p]);
        total += counts[p];
    }
    char **lines = ps_alloc(total * sizeof *lines);
    *n = 0;
    for (size_t p = 0; paths[p]; p++)
        for (size_t i = 0; i < counts[p]; i++)
            if (!strncmp(each[p][i], prefix, strlen(prefix))) lines[(*n)++] = each[p][i];
    ps_sort_strings(lines, *n);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (size_t i = 0; i < *n; i++)
        wr_strbuf_addf(&sb, "%s\n", lines[i]);
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

/* README's quick start, examples/iot-demo.yaml as it is (results on stdout): the same lines from
 * `weir local` as from its TaskManagers when submitted to a cluster. */
static void test_readme_iot_example_gives_the_same_results_on_a_cluster(void **state)
{
    (void)state;
    char example[512];
    snprintf(example, sizeof example, "%s/examples/iot-demo.yaml", ps_h.src);
    ps_proc_t *local = s_weir("local-iot", PS_ARGV("local", example), S_JOB_MS);
    pc_cluster_t c = {.tm_settings = PS_ARGV("--slots", "2")};
    pc_cluster_start(&c);
    s_submit(&c, "submit-iot", example);
    pc_cluster_stop(&c);
    size_t nl, nc;
    const char *want = s_sorted_lines(PS_ARGV(local->out), "device=", &nl);
    const char *got = s_sorted_lines(PS_ARGV(c.tm[0]->out, c.tm[1]->out), "device=", &nc);
    assert_true(nl >= 20 * 12); /* 20 devices, 12 minutes and more of 10-minute windows */
    assert_int_equal(nc, nl);
    assert_string_equal(got, want);
}

/* The seed's job shape (examples/iot-demo.yaml: count, avg, min, max and p95 of a sliding window)
 * on `state.backend: rocksdb`: the same lines as on the memory backend (quantiles included: both
 * read the same sketches). */
static void test_iot_example_with_p95_on_rocksdb_equals_memory(void **state)
{
    (void)state;
    char example[512];
    snprintf(example, sizeof example, "%s/examples/iot-demo.yaml", ps_h.src);
    ps_proc_t *mem = s_weir("local-iot-memory", PS_ARGV("local", example), S_JOB_MS);
    const char *dir = ps_fmt("state.backend.rocksdb.localdir=%s", ps_path("rocksdb"));
    ps_proc_t *rocks =
        s_weir("local-iot-rocksdb",
               PS_ARGV("local", example, "--set", "state.backend=rocksdb", "--set", dir), S_JOB_MS);
    size_t nm, nr;
    const char *want = s_sorted_lines(PS_ARGV(mem->out), "device=", &nm);
    const char *got = s_sorted_lines(PS_ARGV(rocks->out), "device=", &nr);
    assert_true(nm >= 20 * 12);
    assert_non_null(strstr(want, "p95_temp="));
    assert_int_equal(nr, nm);
    assert_string_equal(got, want);
}

/* ---- setup and teardown ---- */

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_pipeline", true);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_tumbling_window_at_parallelism_1),
        S_TEST(test_tumbling_window_at_parallelism_4),
        S_TEST(test_sliding_window_10min_every_1min_at_parallelism_1),
        S_TEST(test_sliding_window_10min_every_1min_at_parallelism_4),
        S_TEST(test_sliding_window_5min_every_2min_at_parallelism_1),
        S_TEST(test_sliding_window_5min_every_2min_at_parallelism_4),
        S_TEST(test_session_window_at_parallelism_1),
        S_TEST(test_session_window_at_parallelism_4),
        S_TEST(test_session_window_late_records_merge_within_the_allowed_lateness),
        S_TEST(test_session_window_late_records_open_sessions_within_the_allowed_lateness),
        S_TEST(test_string_key_through_a_map_at_parallelism_1),
        S_TEST(test_string_key_through_a_map_at_parallelism_4),
        S_TEST(test_file_source_through_filter_and_map_into_a_tumbling_window),
        S_TEST(test_cluster_runs_a_job_to_the_same_results_as_weir_local),
        S_TEST(test_readme_iot_example_gives_the_same_results_on_a_cluster),
        S_TEST(test_iot_example_with_p95_on_rocksdb_equals_memory),
    };
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir pipeline: jobs against an oracle", tests,
                                       s_group_setup, ps_group_teardown);
}
