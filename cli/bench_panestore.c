/* weir bench panestore: the RocksDB pane store at the scale of the window goals (5M keys, 10
 * panes of count/sum/min/max per window).
 *
 * In one process, in a fresh directory under --dir (removed at the end): writes 11 closed panes
 * of every key as sorted runs; merges a 10-pane window with the merge cursor (count/sum/min/max
 * per key, as the window operator will); checkpoints; writes one small pane (1% of the keys) and
 * checkpoints again (the incremental ratio: new bytes / total). The baseline is the same k-way
 * merge over the same runs held in plain memory arrays, so merge / baseline is RocksDB's cost.
 * Peak RSS is taken before the baseline allocates its arrays. SIGINT or SIGTERM stops it between
 * two steps (a pane's put, a merge, a checkpoint): the store is removed, the exit code 128 + the
 * signal. */
#include "cli/bench_panestore.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "cli/bench_machine.h"
#include "cli/cli.h"
#include "bus/base/fs.h"
#include "state/panestore.h"

#define S_ACC   28 /* count u32, sum, min, max doubles */
#define S_KGS   128
#define S_PANES 11 /* written; a window merges the last 10 */

typedef struct {
    uint64_t keys, block, cache_mb, wbuf_mb;
    const char *dir;
    bool json, write_batch, lz4, mmap;
} s_opts_t;

/* One pane's run, as the operator would hand it over: columns sorted by (kg, key). */
typedef struct {
    uint16_t *kg;
    uint64_t *key;
    uint8_t *acc;
    size_t n;
} s_run_t;

typedef struct {
    double secs;
    uint64_t keys, entries, count; /* count: sum of the merged counts, to check */
    double sum;
} s_merge_t;

static uint64_t s_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void s_run_free(s_run_t *r)
{
    free(r->kg);
    free(r->key);
    free(r->acc);
    memset(r, 0, sizeof *r);
}

/* Keys 0..n-1 spread over the key groups by hash, in (kg, key) order by a counting sort. */
static int s_run_keys(s_run_t *r, uint64_t n)
{
    r->kg = malloc(n * sizeof *r->kg);
    r->key = malloc(n * sizeof *r->key);
    r->acc = malloc(n * S_ACC);
    size_t start[S_KGS + 1] = {0};
    if (!r->kg || !r->key || !r->acc) return WR_ENOMEM;
    for (uint64_t k = 0; k < n; k++)
        start[s_mix(k) % S_KGS + 1]++;
    for (int g = 0; g < S_KGS; g++)
        start[g + 1] += start[g];
    for (uint64_t k = 0; k < n; k++) {
        size_t g = s_mix(k) % S_KGS, i = start[g]++;
        r->kg[i] = (uint16_t)g;
        r->key[i] = k;
    }
    r->n = n;
    return 0;
}

/* Pane p's accumulators: count p + 1, and values that depend on key and pane. */
static void s_fill_acc(s_run_t *r, int64_t p)
{
    for (size_t i = 0; i < r->n; i++) {
        uint32_t count = (uint32_t)p + 1;
        double v = (double)(r->key[i] % 1000) + (double)p, sum = v * count;
        uint8_t *a = r->acc + i * S_ACC;
        memcpy(a, &count, 4);
        memcpy(a + 4, &sum, 8);
        memcpy(a + 12, &v, 8);
        memcpy(a + 20, &v, 8);
    }
}

/* What the window operator does per key at a fire: merge the panes' accumulators. */
static inline void s_merge_accs(s_merge_t *m, const uint8_t *const *acc, size_t n)
{
    uint32_t count = 0;
    double sum = 0, min = 1e300, max = -1e300;
    for (size_t j = 0; j < n; j++) {
        uint32_t c;
        double s, lo, hi;
        memcpy(&c, acc[j], 4);
        memcpy(&s, acc[j] + 4, 8);
        memcpy(&lo, acc[j] + 12, 8);
        memcpy(&hi, acc[j] + 20, 8);
        count += c;
        sum += s;
        min = lo < min ? lo : min;
        max = hi > max ? hi : max;
    }
    m->keys++;
    m->entries += n;
    m->count += count;
    m->sum += sum + (max - min) * 0; /* keep min/max computed */
}

static int s_merge_store(wr_panestore_t *s, int64_t p0, int64_t p1, s_merge_t *m)
{
    int err = 0;
    int64_t t0 = wr_now_ns();
    wr_panestore_cursor_t *c = wr_panestore_cursor_new(s, p0, p1, 0, WR_PANESTORE_KG_END, &err);
    if (!c) return err;
    wr_panestore_row_t row;
    int rc;
    while ((rc = wr_panestore_cursor_next(c, &row)) == 1)
        s_merge_accs(m, row.acc, row.n);
    wr_panestore_cursor_destroy(&c);
    m->secs = (double)(wr_now_ns() - t0) / 1e9;
    return rc;
}

/* The baseline: the same k-way merge (linear minimum over the heads) over in-memory runs. */
static void s_merge_memory(const s_run_t *runs, size_t k, s_merge_t *m)
{
    size_t pos[S_PANES] = {0};
    const uint8_t *acc[S_PANES];
    int64_t t0 = wr_now_ns();
    for (;;) {
        const s_run_t *min = NULL;
        size_t mi = 0;
        for (size_t i = 0; i < k; i++) {
            const s_run_t *r = &runs[i];
            if (pos[i] == r->n) continue;
            if (!min || r->kg[pos[i]] < min->kg[pos[mi]] ||
                (r->kg[pos[i]] == min->kg[pos[mi]] && r->key[pos[i]] < min->key[pos[mi]]))
                min = r, mi = i;
        }
        if (!min) break;
        uint16_t kg = min->kg[pos[mi]];
        uint64_t key = min->key[pos[mi]];
        size_t n = 0;
        for (size_t i = 0; i < k; i++)
            if (pos[i] < runs[i].n && runs[i].kg[pos[i]] == kg && runs[i].key[pos[i]] == key)
                acc[n++] = runs[i].acc + pos[i]++ * S_ACC;
        s_merge_accs(m, acc, n);
    }
    m->secs = (double)(wr_now_ns() - t0) / 1e9;
}

/* ---- the run ---- */

typedef struct {
    double put_secs;
    uint64_t put_entries;
    s_merge_t merge, again, base;
    double chk1_secs, chk2_secs, small_put_secs, drop_secs;
    uint64_t chk1_bytes, chk2_total, chk2_new, small_entries;
    size_t chk1_files, chk2_new_files;
    long rss_kb;
} s_res_t;

static int s_checkpoint(wr_panestore_t *s, const char *dir, const char *name, double *secs,
                        wr_panestore_files_t *files)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int64_t t0 = wr_now_ns();
    int e = wr_panestore_checkpoint(s, path, files);
    *secs = (double)(wr_now_ns() - t0) / 1e9;
    return e;
}

/* Every 100th entry of run, as pane p: the small pane of the incremental checkpoint. */
static int s_small_run(const s_run_t *run, s_run_t *small, int64_t p)
{
    size_t n = (run->n + 99) / 100;
    small->kg = malloc(n * sizeof *small->kg);
    small->key = malloc(n * sizeof *small->key);
    small->acc = malloc(n * S_ACC);
    if (!small->kg || !small->key || !small->acc) return WR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        small->kg[i] = run->kg[i * 100];
        small->key[i] = run->key[i * 100];
    }
    small->n = n;
    s_fill_acc(small, p);
    return 0;
}

/* Whether SIGINT or SIGTERM arrived (weir blocks both and waits for them: cli/main.c): *sig
 * set, WR_ECLOSED returned, else 0. Asked between steps, so a stop waits for the step under way. */
static int s_stop_asked(int *sig)
{
    return (*sig = wr_cli_wait_signal(0)) ? WR_ECLOSED : 0;
}

/* The store's steps; a signal between two of them stops the phase (*sig set). */
static int s_store_phase(const s_opts_t *o, const char *dir, s_run_t *run, s_res_t *r, int *sig)
{
    char db[4096];
    snprintf(db, sizeof db, "%s/db", dir);
    wr_panestore_config_t cfg = {.acc_size = S_ACC,
                                 .block_entries = (uint32_t)o->block,
                                 .cache_bytes = o->cache_mb << 20,
                                 .write_buffer_bytes = o->wbuf_mb << 20,
                                 .lz4 = o->lz4,
                                 .write_batch = o->write_batch,
                                 .mmap_reads = o->mmap};
    int e = 0;
    wr_panestore_t *s = wr_panestore_open(db, &cfg, &e);
    wr_panestore_files_t f1 = {0}, f2 = {0};
    s_run_t small = {0};
    if (!s) return e;
    for (int64_t p = 0; p < S_PANES && !e && !(e = s_stop_asked(sig)); p++) {
        s_fill_acc(run, p); /* the operator's work, not the store's: not timed */
        int64_t t0 = wr_now_ns();
        e = wr_panestore_put_run(s, p, run->kg, run->key, run->acc, run->n);
        r->put_secs += (double)(wr_now_ns() - t0) / 1e9;
        r->put_entries += run->n;
    }
    if (!e && !(e = s_stop_asked(sig))) e = s_merge_store(s, 1, S_PANES, &r->merge);
    if (!e && !(e = s_stop_asked(sig))) /* the next window re-reads 9 panes */
        e = s_merge_store(s, 1, S_PANES, &r->again);
    if (!e && !(e = s_stop_asked(sig))) e = s_checkpoint(s, dir, "chk-1", &r->chk1_secs, &f1);
    r->chk1_bytes = f1.total_bytes;
    r->chk1_files = f1.n;
    if (!e && !(e = s_stop_asked(sig))) e = s_small_run(run, &small, S_PANES);
    if (!e) {
        int64_t t0 = wr_now_ns();
        e = wr_panestore_put_run(s, S_PANES, small.kg, small.key, small.acc, small.n);
        r->small_put_secs = (double)(wr_now_ns() - t0) / 1e9;
        r->small_entries = small.n;
    }
    if (!e) e = s_checkpoint(s, dir, "chk-2", &r->chk2_secs, &f2);
    r->chk2_total = f2.total_bytes;
    r->chk2_new = f2.new_bytes;
    for (size_t i = 0; i < f2.n; i++)
        r->chk2_new_files += f2.v[i].is_new;
    if (!e) {
        int64_t t0 = wr_now_ns();
        e = wr_panestore_drop_panes_below(s, 1);
        r->drop_secs = (double)(wr_now_ns() - t0) / 1e9;
    }
    if (e == WR_EIO)
        wr_cli_error("bench panestore", NULL, "rocksdb: %s", wr_panestore_last_error(s));
    r->rss_kb = wr_bench_peak_rss_kb();
    wr_panestore_files_release(&f1);
    wr_panestore_files_release(&f2);
    s_run_free(&small);
    wr_panestore_close(&s);
    return e;
}

/* The same 10 panes as plain arrays: every pane holds every key here, so they share the key
 * columns; each has its own accumulators. */
static int s_memory_phase(s_run_t *run, s_res_t *r)
{
    s_run_t runs[S_PANES - 1];
    int e = 0;
    memset(runs, 0, sizeof runs);
    for (int p = 1; p < S_PANES && !e; p++) {
        s_run_t *x = &runs[p - 1];
        x->kg = run->kg;
        x->key = run->key;
        x->n = run->n;
        if (!(x->acc = malloc(run->n * S_ACC)))
            e = WR_ENOMEM;
        else
            s_fill_acc(x, p);
    }
    if (!e) s_merge_memory(runs, S_PANES - 1, &r->base);
    for (int i = 0; i < S_PANES - 1; i++)
        free(runs[i].acc);
    return e;
}

static double s_per_s(uint64_t n, double secs)
{
    return secs > 0 ? (double)n / secs : 0;
}

static void s_print(const s_opts_t *o, const s_res_t *r, bool agree)
{
    double mb = (double)r->put_entries * (8 + S_ACC) / 1e6;
    double ratio = r->merge.secs > 0 ? r->base.secs / r->merge.secs : 0;
    double incr = r->chk2_total ? (double)r->chk2_new / (double)r->chk2_total : 0;
    if (o->json) {
        wr_strbuf_t mj;
        wr_strbuf_init(&mj);
        printf(
            "{\"bench\":\"panestore\",%s\"keys\":%llu,\"acc_bytes\":%d,\"block_entries\":%llu,"
            "\"write_batch\":%s,\"lz4\":%s,\"mmap\":%s,"
            "\"put\":{\"panes\":%d,\"entries\":%llu,\"seconds\":%.3f,\"entries_per_s\":%.0f,"
            "\"mb_per_s\":%.1f},"
            "\"merge\":{\"panes\":%d,\"keys\":%llu,\"entries\":%llu,\"seconds\":%.3f,"
            "\"entries_per_s\":%.0f,\"keys_per_s\":%.0f},"
            "\"merge_again\":{\"seconds\":%.3f,\"entries_per_s\":%.0f},"
            "\"merge_memory_baseline\":{\"seconds\":%.3f,\"entries_per_s\":%.0f},"
            "\"ratio_merge_store_memory\":%.3f,"
            "\"checkpoint\":{\"seconds\":%.3f,\"bytes\":%llu,\"files\":%zu},"
            "\"incremental\":{\"small_pane_entries\":%llu,\"put_seconds\":%.4f,"
            "\"seconds\":%.3f,\"new_bytes\":%llu,\"total_bytes\":%llu,\"new_files\":%zu,"
            "\"ratio\":%.4f,\"goal_ratio\":0.1},"
            "\"drop_below_seconds\":%.4f,\"peak_rss_bytes\":%ld,\"cache_bytes\":%llu,"
            "\"write_buffer_bytes\":%llu,\"results_agree\":%s}\n",
            wr_bench_machine_member(&mj), (unsigned long long)o->keys, S_ACC,
            (unsigned long long)o->block, o->write_batch ? "true" : "false",
            o->lz4 ? "true" : "false", o->mmap ? "true" : "false", S_PANES,
            (unsigned long long)r->put_entries, r->put_secs, s_per_s(r->put_entries, r->put_secs),
            r->put_secs > 0 ? mb / r->put_secs : 0, S_PANES - 1, (unsigned long long)r->merge.keys,
            (unsigned long long)r->merge.entries, r->merge.secs,
            s_per_s(r->merge.entries, r->merge.secs), s_per_s(r->merge.keys, r->merge.secs),
            r->again.secs, s_per_s(r->again.entries, r->again.secs), r->base.secs,
            s_per_s(r->base.entries, r->base.secs), ratio, r->chk1_secs,
            (unsigned long long)r->chk1_bytes, r->chk1_files, (unsigned long long)r->small_entries,
            r->small_put_secs, r->chk2_secs, (unsigned long long)r->chk2_new,
            (unsigned long long)r->chk2_total, r->chk2_new_files, incr, r->drop_secs,
            r->rss_kb * 1024, (unsigned long long)o->cache_mb << 20,
            (unsigned long long)o->wbuf_mb << 20, agree ? "true" : "false");
        wr_strbuf_release(&mj);
        return;
    }
    printf("panestore bench: %llu keys, %d-byte accumulators, blocks of %llu, %s%s\n",
           (unsigned long long)o->keys, S_ACC, (unsigned long long)o->block,
           o->write_batch ? "write batches" : "SST ingestion", o->lz4 ? ", lz4" : "");
    printf("  put      %d panes: %.2f M entries/s, %.0f MB/s (%.2f s)\n", S_PANES,
           s_per_s(r->put_entries, r->put_secs) / 1e6, r->put_secs > 0 ? mb / r->put_secs : 0,
           r->put_secs);
    printf("  merge    %d panes: %.2f M entries/s, %.2f M keys/s (%.2f s for %llu keys)\n",
           S_PANES - 1, s_per_s(r->merge.entries, r->merge.secs) / 1e6,
           s_per_s(r->merge.keys, r->merge.secs) / 1e6, r->merge.secs,
           (unsigned long long)r->merge.keys);
    printf("  merge again (the data read before): %.2f M entries/s (%.2f s)\n",
           s_per_s(r->again.entries, r->again.secs) / 1e6, r->again.secs);
    printf("  baseline merge over memory arrays: %.2f M entries/s (%.2f s); store / memory %.2f\n",
           s_per_s(r->base.entries, r->base.secs) / 1e6, r->base.secs, ratio);
    printf("  checkpoint: %.3f s, %.1f MB in %zu files\n", r->chk1_secs,
           (double)r->chk1_bytes / 1e6, r->chk1_files);
    printf("  incremental: a pane of %llu keys (put %.3f s), checkpoint %.3f s, new %.2f MB of "
           "%.1f MB (%zu files): ratio %.4f (goal < 0.1)\n",
           (unsigned long long)r->small_entries, r->small_put_secs, r->chk2_secs,
           (double)r->chk2_new / 1e6, (double)r->chk2_total / 1e6, r->chk2_new_files, incr);
    printf("  drop pane 0: %.4f s; peak RSS %.0f MB (cache %llu MB, write buffers 2 x %llu MB)\n",
           r->drop_secs, (double)r->rss_kb / 1024, (unsigned long long)o->cache_mb,
           (unsigned long long)o->wbuf_mb);
    printf("  results %s\n", agree ? "agree" : "DIFFER");
}

static const char s_usage[] =
    "usage: weir bench panestore [--keys N] [--block N] [--cache-mb N] [--write-buffer-mb N]\n"
    "                            [--write-batch] [--lz4] [--mmap] [--dir DIR] [--json]\n"
    "\n"
    "The RocksDB pane store (state/panestore.h): writes 11 panes of every key as sorted runs,\n"
    "merges a 10-pane window with the merge cursor, checkpoints, adds a pane of 1% of the keys\n"
    "and checkpoints again (incremental ratio); baseline: the same merge over memory arrays.\n"
    "SIGINT or SIGTERM stops it after the step under way, its store removed (exit 128 + the\n"
    "signal).\n"
    "\n"
    "  --keys N            keys per pane (default 5000000)\n"
    "  --block N           entries per stored block (default 1024)\n"
    "  --cache-mb N        block cache (default 64); --write-buffer-mb N memtable (default 16)\n"
    "  --write-batch       write runs through write batches instead of SST ingestion\n"
    "  --lz4               LZ4-compress SST blocks\n"
    "  --mmap              read SST files through mmap\n"
    "  --dir DIR           where the DB goes, in a fresh subdirectory removed at the end\n"
    "                      (default /tmp; needs ~2.5 GB per 5M keys)\n";

int wr_bench_panestore(int argc, char **argv)
{
    static const struct option opts[] = {{"keys", required_argument, NULL, 'k'},
                                         {"block", required_argument, NULL, 'b'},
                                         {"cache-mb", required_argument, NULL, 'c'},
                                         {"write-buffer-mb", required_argument, NULL, 'w'},
                                         {"write-batch", no_argument, NULL, 'W'},
                                         {"lz4", no_argument, NULL, 'z'},
                                         {"mmap", no_argument, NULL, 'm'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    s_opts_t o = {.keys = 5000000, .block = 1024, .cache_mb = 64, .wbuf_mb = 16, .dir = "/tmp"};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'k':
            ok = wr_cli_count(optarg, 100, 100000000, &o.keys);
            break;
        case 'b':
            ok = wr_cli_count(optarg, 1, WR_PANESTORE_MAX_BLOCK / 2, &o.block);
            break;
        case 'c':
            ok = wr_cli_count(optarg, 1, 1 << 20, &o.cache_mb);
            break;
        case 'w':
            ok = wr_cli_count(optarg, 1, 1 << 16, &o.wbuf_mb);
            break;
        case 'W':
            o.write_batch = true;
            break;
        case 'z':
            o.lz4 = true;
            break;
        case 'm':
            o.mmap = true;
            break;
        case 'd':
            o.dir = optarg;
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
            wr_cli_error("bench panestore", "see weir bench panestore --help", "bad value '%s'",
                         optarg);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error("bench panestore", "see weir bench panestore --help",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    if (!o.json) wr_bench_machine_print(stdout);
    char dir[1024];
    if (strlen(o.dir) > 900 ||
        (snprintf(dir, sizeof dir, "%s/weir-bench-panestore-XXXXXX", o.dir), !mkdtemp(dir))) {
        wr_cli_error("bench panestore", "pass --dir DIR with room for the DB",
                     "cannot create a directory under %s", o.dir);
        return WR_EXIT_FAIL;
    }
    s_res_t r = {0};
    s_run_t run = {0};
    int sig = 0;
    int e = s_run_keys(&run, o.keys);
    if (!e) e = s_store_phase(&o, dir, &run, &r, &sig);
    wr_fs_rmtree(dir);
    if (!e && !(e = s_stop_asked(&sig))) e = s_memory_phase(&run, &r);
    s_run_free(&run);
    if (sig) {
        return wr_cli_stopped("bench panestore", sig, "stopped, its store removed");
    }
    if (e) {
        wr_cli_error("bench panestore", NULL, "failed: %s", wr_strerror(e));
        return WR_EXIT_FAIL;
    }
    uint64_t want = o.keys * (2 + S_PANES) * (S_PANES - 1) / 2; /* counts 2..11 per key */
    bool agree = r.merge.count == want && r.again.count == want && r.base.count == want &&
                 r.merge.keys == o.keys && r.merge.sum == r.base.sum;
    s_print(&o, &r, agree);
    return agree ? WR_EXIT_OK : WR_EXIT_FAIL;
}
