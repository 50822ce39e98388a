/* weir bench snapshot: the synchronous part of a memory-backend window checkpoint, alone.
 *
 * One engine as a window subtask of the seed's job holds it (examples/iot.yaml: 10-minute
 * windows sliding by 1 minute, count/sum/min/max and, with --p95, p95; by default 2.5M keys, a
 * subtask's share of 5M devices at parallelism 2): every key reports every 10 s of event time
 * for --minutes, the watermark 12 s behind, allowed lateness 1 minute. Then, as the subtask
 * would, a first incremental checkpoint (every closed pane a segment, and the main part), --late
 * late records (one for each of that many keys, into the last closed pane: each marks its pane
 * dirty, and every later main part carries it again, as late records of the seed's job do), and
 * --rounds checkpoints of the main part alone (nothing closed in between), each into files of a
 * temp folder, key groups of max_parallelism 128. The main parts alternate between the walk as
 * built (the key table in memory order, 32 MiB batches of key groups) and the baseline, one key
 * group a batch (the walk in key-group order, as before 2026-12-06); their bytes must be the same
 * (the bench fails if not). Then the first checkpoint is restored into a fresh engine as a
 * restarted subtask restores it (wr_window_restore_going_on), against reading its files alone;
 * the restored engine must hold the keys and panes the engine held. Prints the times (best and
 * median), the ratio baseline / built, the restore's time and ratio, the bytes, the machine. Not
 * timed: filling the engine. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/dataflow/window/window_snap.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/strbuf.h"
#include "cli/bench_machine.h"
#include "cli/bench_snapshot.h"
#include "cli/cli.h"

#define S_CMD      "bench snapshot"
#define S_HINT     "see weir bench snapshot --help"
#define S_MAXP     128
#define S_MAX_SEGS (WR_WINDOW_MAX_RING + 1)
#define S_ROUNDS   16

typedef struct {
    uint64_t keys, minutes, rounds, late;
    bool p95, json;
} s_opts_t;

static uint32_t s_key_group(void *ctx, uint64_t key)
{
    (void)ctx;
    return wr_key_group(wr_hash_u64(key), S_MAXP);
}

/* Every key every 10 s of event time for o->minutes, 4096 records a call; *sig: SIGINT or
 * SIGTERM came meanwhile (it stops early, returning 0). */
static int s_fill(wr_window_t *w, const s_opts_t *o, int *sig)
{
    enum { B = 4096 };
    uint64_t *k = malloc(B * sizeof *k), seed = 1;
    int64_t *ts = malloc(B * sizeof *ts);
    double *v = malloc(B * sizeof *v);
    const double *cols[1] = {v};
    wr_window_sink_t sink = {0}; /* results are dropped */
    const int64_t t0 = 1700000000000;
    const uint64_t total = o->keys * 6 * o->minutes;
    int rc = k && ts && v ? 0 : WR_ENOMEM;
    for (uint64_t n = 0, calls = 0; n < total && !rc; calls++) {
        if (calls % 1024 == 0 && (*sig = wr_cli_wait_signal(0))) break;
        size_t m = 0;
        for (; m < B && n < total; m++, n++) {
            uint64_t i = n % o->keys, round = n / o->keys;
            k[m] = i;
            ts[m] = t0 + (int64_t)round * 10000 + (int64_t)(i % 10000);
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            v[m] = 20.0 + (double)(seed >> 40) / (double)(1 << 24);
        }
        rc = wr_window_add(w, k, ts, cols, m, &sink);
        if (!rc) rc = wr_window_advance(w, ts[m - 1] - 12000, &sink);
    }
    free(k);
    free(ts);
    free(v);
    return rc;
}

/* One late record for each of o->late keys (spread over the keys), into the last closed pane:
 * behind the watermark, within the allowed lateness. */
static int s_late(wr_window_t *w, const s_opts_t *o)
{
    const int64_t at = 1700000000000 + (int64_t)(o->minutes - 2) * 60000 + 55000;
    wr_window_sink_t sink = {0};
    int rc = 0;
    for (uint64_t i = 0; i < o->late && !rc; i++) {
        uint64_t key = i * (o->keys / o->late);
        double v = 21.5;
        const double *cols[1] = {&v};
        rc = wr_window_add(w, &key, &at, cols, 1, &sink);
    }
    wr_window_stats_t st;
    wr_window_stats(w, &st);
    return rc ? rc : st.dropped_late ? WR_EINVAL : 0; /* (none may be too late) */
}

/* An fd for DIR/NAME, created empty (-1 on failure). */
static int s_open(const char *dir, const char *name)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* One checkpoint of w into dir: its due segments into seg-I, the main into main_name (*main_bytes
 * its size), all bytes written into *bytes, *segs the segments it references; *secs the time of
 * wr_window_snapshot_incremental (the files opened before, closed after). */
static int s_checkpoint(wr_window_t *w, const char *dir, const char *main_name, double *secs,
                        uint64_t *bytes, uint64_t *main_bytes, int *nsegs)
{
    wr_window_seg_t *segs = malloc(S_MAX_SEGS * sizeof *segs);
    wr_snap_writer_t **sw = calloc(S_MAX_SEGS, sizeof *sw);
    int *fds = malloc(S_MAX_SEGS * sizeof *fds), mfd = -1;
    int n = segs && sw && fds ? wr_window_segments(w, segs, S_MAX_SEGS) : WR_ENOMEM, rc = 0;
    if (n < 0) rc = n;
    for (int i = 0; i < n; i++) {
        fds[i] = -1;
        if (rc || !segs[i].due) continue;
        char name[32];
        snprintf(name, sizeof name, "seg-%d", i);
        if ((fds[i] = s_open(dir, name)) < 0)
            rc = WR_EIO;
        else if (!(sw[i] = wr_snap_writer_new_fd(fds[i])))
            rc = WR_ENOMEM;
    }
    wr_snap_writer_t *mw = NULL;
    if (!rc && (mfd = s_open(dir, main_name)) < 0) rc = WR_EIO;
    if (!rc && !(mw = wr_snap_writer_new_fd(mfd))) rc = WR_ENOMEM;
    int64_t t0 = wr_now_ns();
    if (!rc)
        rc = wr_window_snapshot_incremental(w, segs, (size_t)n, S_MAXP, s_key_group, NULL, sw, mw);
    *secs = (double)(wr_now_ns() - t0) / 1e9;
    *bytes = *main_bytes = mw ? wr_snap_writer_bytes(mw) : 0;
    *nsegs = n;
    for (int i = 0; i < n; i++) {
        if (sw[i]) *bytes += wr_snap_writer_bytes(sw[i]);
        wr_snap_writer_destroy(&sw[i]);
        if (fds[i] >= 0) close(fds[i]);
    }
    wr_snap_writer_destroy(&mw);
    if (mfd >= 0) close(mfd);
    free(segs);
    free(sw);
    free(fds);
    return rc;
}

/* The first checkpoint's files (main-first and seg-0 .. seg-(nsegs-1) in dir) mapped: p[0] the
 * main, its segments after; *n of them. Unmap with s_unmap_all. */
static int s_map_all(const char *dir, int nsegs, wr_snap_part_t *p, size_t *n)
{
    int rc = 0;
    *n = 0;
    for (int i = -1; i < nsegs && !rc; i++) {
        char path[1100];
        if (i < 0)
            snprintf(path, sizeof path, "%s/main-first", dir);
        else
            snprintf(path, sizeof path, "%s/seg-%d", dir, i);
        rc = wr_snap_map_path(path, &p[*n].data, &p[*n].len);
        if (i >= 0 && rc == WR_ENOTFOUND)
            rc = 0; /* (an empty pane: no file) */
        else if (!rc)
            (*n)++;
    }
    return rc;
}

static void s_unmap_all(wr_snap_part_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wr_snap_unmap(p[i].data, p[i].len);
}

/* The floor of a restore: every byte of the files read once (a sum of their 8-byte words). */
static uint64_t s_read_all(const wr_snap_part_t *p, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        size_t words = p[i].len / 8;
        for (size_t k = 0; k < words; k++) {
            uint64_t v;
            memcpy(&v, p[i].data + k * 8, 8);
            sum += v;
        }
    }
    return sum;
}

/* The first checkpoint restored into a fresh engine of spec as a restarted subtask restores it
 * (wr_window_restore_going_on), timed (*secs; the files mapped before), and the same files read
 * once (*read_secs); *st the restored engine's stats. */
static int s_restore_first(const wr_window_spec_t *spec, const char *dir, int nsegs, double *secs,
                           double *read_secs, wr_window_stats_t *st)
{
    wr_snap_part_t *p = calloc((size_t)nsegs + 1, sizeof *p);
    size_t n = 0;
    int err = 0, rc = p ? s_map_all(dir, nsegs, p, &n) : WR_ENOMEM;
    int64_t t0 = wr_now_ns();
    volatile uint64_t sink = rc ? 0 : s_read_all(p, n);
    (void)sink;
    *read_secs = (double)(wr_now_ns() - t0) / 1e9;
    wr_window_t *w = rc ? NULL : wr_window_new(spec, &err);
    if (!rc && !w) rc = err ? err : WR_ENOMEM;
    bool adopted = false;
    t0 = wr_now_ns();
    if (!rc)
        rc = wr_window_restore_going_on(w, p[0].data, p[0].len, p + 1, n - 1, 0, S_MAXP, &adopted);
    *secs = (double)(wr_now_ns() - t0) / 1e9;
    if (!rc && !adopted) rc = WR_EPROTO; /* (a fresh engine, every key group: it must) */
    if (!rc) wr_window_stats(w, st);
    wr_window_destroy(&w);
    if (p) s_unmap_all(p, n);
    free(p);
    return rc;
}

/* Whether files DIR/A and DIR/B hold the same bytes. */
static bool s_same(const char *dir, const char *a, const char *b)
{
    char pa[1100], pb[1100];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    enum { N = 1 << 16 };
    FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
    char *x = malloc(N), *y = malloc(N);
    bool same = fa && fb && x && y;
    while (same) {
        size_t na = fread(x, 1, N, fa), nb = fread(y, 1, N, fb);
        same = na == nb && !memcmp(x, y, na);
        if (na < N) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    free(x);
    free(y);
    return same;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The best and the median of v[0..n) (sorts v). */
static void s_stats(double *v, size_t n, double *best, double *median)
{
    qsort(v, n, sizeof *v, s_cmp_double);
    *best = v[0];
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char s_usage[] =
    "usage: weir bench snapshot [--keys N] [--minutes N] [--p95] [--late N] [--rounds N] [--json]\n"
    "\n"
    "The synchronous part of a memory-backend window checkpoint alone, on one engine holding a\n"
    "window subtask's state of the seed's job (10-minute windows sliding by 1 minute, count/sum/\n"
    "min/max, allowed lateness 1 min): a first incremental checkpoint (every closed pane a\n"
    "segment, and the main part), --late late records (one each for that many keys, into the last\n"
    "closed pane: every later main part carries those panes again), then --rounds main parts\n"
    "by the walk as built (the key table in memory order, in batches of key groups) and as many\n"
    "by the baseline (one key group a batch: the walk in key-group order), alternating, into\n"
    "files of a temp folder under $TMPDIR (or /tmp), removed after.\n"
    "Their bytes must be the same. Then the first checkpoint restored into a fresh engine, as a\n"
    "restarted subtask restores it, against reading its files alone (the engine must hold what\n"
    "it held). Prints the times (best, median), baseline / built, the restore, the bytes.\n"
    "\n"
    "  --keys N      keys (default 2500000: 5M devices at parallelism 2)\n"
    "  --minutes N   minutes of event time, every key every 10 s (default 12)\n"
    "  --p95         p95 of the value too (a quantile sketch per pane)\n"
    "  --late N      keys with a late record after the first checkpoint (default 0)\n"
    "  --rounds N    main parts of each walk (default 3, at most 16)\n"
    "  --json        one JSON object\n";

int wr_bench_snapshot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},   {"minutes", required_argument, NULL, 'm'},
        {"p95", no_argument, NULL, 'Q'},          {"late", required_argument, NULL, 'L'},
        {"rounds", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    s_opts_t o = {.keys = 2500000, .minutes = 12, .rounds = 3};
    int c, at = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &at)) != -1) {
        bool ok = true;
        switch (c) {
        case 'k':
            ok = wr_cli_count(optarg, 1, 60000000, &o.keys);
            break;
        case 'm':
            ok = wr_cli_count(optarg, 11, 600, &o.minutes); /* past the first window */
            break;
        case 'Q':
            o.p95 = true;
            break;
        case 'L':
            ok = wr_cli_count(optarg, 0, UINT64_MAX, &o.late);
            break;
        case 'r':
            ok = wr_cli_count(optarg, 1, S_ROUNDS, &o.rounds);
            break;
        case 'J':
            o.json = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (!ok) {
            wr_cli_error(S_CMD, S_HINT, "bad value '%s' for --%s", optarg, opts[at].name);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error(S_CMD, S_HINT, "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    if (o.late > o.keys) {
        wr_cli_error(S_CMD, S_HINT, "--late %llu: more than the %llu keys",
                     (unsigned long long)o.late, (unsigned long long)o.keys);
        return WR_EXIT_USAGE;
    }
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING,
                             .size_ms = 600000,
                             .slide_ms = 60000,
                             .lateness_ms = 60000,
                             .ncols = 1,
                             .naggs = o.p95 ? 5 : 4,
                             .expected_keys = o.keys,
                             .ahead_ms = 2000,
                             .key_interval_ms = 10000};
    spec.aggs[0] = (wr_agg_t){.kind = WR_AGG_COUNT};
    spec.aggs[1] = (wr_agg_t){.kind = WR_AGG_SUM};
    spec.aggs[2] = (wr_agg_t){.kind = WR_AGG_MIN};
    spec.aggs[3] = (wr_agg_t){.kind = WR_AGG_MAX};
    spec.aggs[4] = (wr_agg_t){.kind = WR_AGG_QUANTILE, .q = 0.95};
    wr_cli_block_signals(); /* asked for between steps: the temp folder always goes */
    int err = 0, sig = 0;
    wr_window_t *w = wr_window_new(&spec, &err);
    if (!o.json) wr_bench_machine_print(stdout);
    fflush(stdout); /* (the fill takes a while) */
    int64_t f0 = wr_now_ns();
    int rc = w ? s_fill(w, &o, &sig) : err ? err : WR_ENOMEM;
    double fill_s = (double)(wr_now_ns() - f0) / 1e9, first_s = 0;
    char dir[1024] = ""; /* (names in it: 1100 bytes) */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/weir-bench-snapshot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!rc && !sig && !mkdtemp(dir)) {
        wr_cli_error(S_CMD, NULL, "cannot make a temp folder %s: %s", dir, strerror(errno));
        wr_window_destroy(&w);
        return WR_EXIT_FAIL;
    }
    uint64_t first_bytes = 0, main_bytes = 0, mb[2] = {0, 0}, bytes;
    int nsegs = 0, ns;
    wr_window_stats_t at_first = {0}, restored = {0};
    double restore_s = 0, read_s = 0;
    if (!rc && !sig)
        rc = s_checkpoint(w, dir, "main-first", &first_s, &first_bytes, &main_bytes, &nsegs);
    if (!rc && !sig) wr_window_stats(w, &at_first);
    if (!rc && !sig && o.late) rc = s_late(w, &o);
    double t[2][S_ROUNDS];
    for (uint64_t r = 0; r < o.rounds && !rc && !sig && !(sig = wr_cli_wait_signal(0)); r++) {
        for (int way = 0; way < 2 && !rc; way++) { /* 0: as built, 1: one group a batch */
            wr_window_snapshot_batch(w, way ? 1 : 0);
            rc = s_checkpoint(w, dir, way ? "main-by-group" : "main", &t[way][r], &bytes, &mb[way],
                              &ns);
        }
        if (!rc && (mb[0] != mb[1] || !s_same(dir, "main", "main-by-group"))) {
            wr_cli_error(S_CMD, NULL,
                         "the two walks wrote different main parts (%llu and %llu bytes)",
                         (unsigned long long)mb[0], (unsigned long long)mb[1]);
            rc = WR_EPROTO;
        }
    }
    wr_window_destroy(&w); /* (before the restore: its memory back) */
    if (!rc && !sig) {
        rc = s_restore_first(&spec, dir, nsegs, &restore_s, &read_s, &restored);
        if (!rc && (restored.keys_live != at_first.keys_live ||
                    restored.panes_live != at_first.panes_live)) {
            wr_cli_error(
                S_CMD, NULL,
                "the restore holds %llu keys and %llu panes, the engine had %llu and %llu",
                (unsigned long long)restored.keys_live, (unsigned long long)restored.panes_live,
                (unsigned long long)at_first.keys_live, (unsigned long long)at_first.panes_live);
            rc = WR_EPROTO;
        }
    }
    if (!strstr(dir, "XXXXXX")) wr_fs_rmtree(dir); /* made */
    if (sig) {
        return wr_cli_stopped(S_CMD, sig, "stopped, its temp folder removed");
    }
    if (rc) {
        if (rc != WR_EPROTO)
            wr_cli_error(S_CMD, NULL, "the checkpoint failed: %s", wr_strerror(rc));
        return WR_EXIT_FAIL;
    }
    double best[2], median[2];
    for (int way = 0; way < 2; way++)
        s_stats(t[way], (size_t)o.rounds, &best[way], &median[way]);
    double ratio = median[1] / median[0];
    if (o.json) {
        wr_strbuf_t m;
        wr_strbuf_init(&m);
        printf("{\"bench\":\"snapshot\",%s\"keys\":%llu,\"minutes\":%llu,\"p95\":%s,"
               "\"fill_s\":%.3f,\"first_checkpoint_s\":%.6f,\"first_checkpoint_bytes\":%llu,"
               "\"segments\":%d,\"late\":%llu,\"main_bytes\":%llu,\"rounds\":%llu,\"dir\":\"%s\","
               "\"main_s\":{\"best\":%.6f,\"median\":%.6f},"
               "\"main_s_by_group\":{\"best\":%.6f,\"median\":%.6f},\"ratio\":%.4f,"
               "\"restore_s\":%.6f,\"read_s\":%.6f,\"restore_panes\":%llu}\n",
               wr_bench_machine_member(&m), (unsigned long long)o.keys,
               (unsigned long long)o.minutes, o.p95 ? "true" : "false", fill_s, first_s,
               (unsigned long long)first_bytes, nsegs, (unsigned long long)o.late,
               (unsigned long long)mb[0], (unsigned long long)o.rounds, dir, best[0], median[0],
               best[1], median[1], ratio, restore_s, read_s,
               (unsigned long long)restored.panes_live);
        wr_strbuf_release(&m);
    } else {
        printf("engine: %llu keys x %llu minutes of event time (every 10 s), 10 min / 1 min, "
               "count/sum/min/max%s; filled in %.1f s (not timed)\n",
               (unsigned long long)o.keys, (unsigned long long)o.minutes, o.p95 ? "/p95" : "",
               fill_s);
        printf("first checkpoint: %d segments and the main, %.1f MB in %.3f s (files in %s, "
               "removed)\n",
               nsegs, (double)first_bytes / 1e6, first_s, dir);
        if (o.late)
            printf("late records: one each for %llu keys, into the last closed pane\n",
                   (unsigned long long)o.late);
        printf("main part (%.1f MB), %llu rounds: as built %.3f s best, %.3f s median; one key "
               "group a batch (baseline) %.3f s best, %.3f s median\n",
               (double)mb[0] / 1e6, (unsigned long long)o.rounds, best[0], median[0], best[1],
               median[1]);
        printf("baseline / as built (medians): %.2f; the main parts' bytes are the same\n", ratio);
        printf("restore of the first checkpoint (%.1f MB) into a fresh engine, as a restarted "
               "subtask: %.3f s, %llu keys and %llu panes (%.0f ns a pane); reading its files "
               "alone: %.3f s (restore / read: %.1f)\n",
               (double)first_bytes / 1e6, restore_s, (unsigned long long)restored.keys_live,
               (unsigned long long)restored.panes_live,
               restored.panes_live ? restore_s * 1e9 / (double)restored.panes_live : 0.0, read_s,
               read_s > 0 ? restore_s / read_s : 0.0);
    }
    return WR_EXIT_OK;
}
