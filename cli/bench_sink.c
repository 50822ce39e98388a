/* weir bench sink: how fast the sinks format results, against the printf formatting they used
 * before (actors/dataflow/record/rowfmt_ref.h), in the same run.
 *
 * Rows shaped like the IoT job's window results: device int, window_start and window_end times,
 * count int, sum/min/max/avg doubles. As in a firing, runs of rows (one per device) share their
 * window bounds, and the next firing's bounds are a minute later. Temperatures have three decimals
 * (min, max); sums and averages carry the noise of float arithmetic (they need 16-17 digits).
 * Batches of 1024 rows, made before the clock starts, are written to /dev/null: by a stdout
 * (text) sink and a file (JSON lines) sink, and by the baseline formatting the same rows into a
 * buffer with the same one write per batch. Timed in CPU time of the thread (the write
 * system calls included), best of --rounds. SIGINT or SIGTERM stops it within S_ASK_EVERY batches
 * (0.1-0.2 s), exiting 128 + the signal. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/dataflow/record/rowfmt_ref.h"
#include "actors/connectors/collect/collect_sink.h"
#include "actors/connectors/file/file.h"
#include "actors/connectors/sink.h"
#include "actors/connectors/stdout/stdout_sink.h"
#include "bus/base/error.h"
#include "bus/base/splitmix.h"
#include "cli/bench_sink.h"
#include "cli/bench_machine.h"
#include "cli/cli.h"

enum { S_BATCH = 1024, S_POOL = 256, S_DEVICES = 10000, S_ASK_EVERY = 64 };

typedef struct {
    uint64_t rows;
    uint32_t rounds;
    bool json;
} s_opts_t;

static double s_temp(uint64_t *r)
{
    return 15 + (double)(wr_splitmix64(r) % 20000) / 1000;
}

static int s_schema(wr_schema_t *s)
{
    static const char *const names[] = {"device", "window_start", "window_end", "count",
                                        "sum",    "min",          "max",        "avg"};
    static const enum wr_type types[] = {WR_T_INT,    WR_T_TIME,   WR_T_TIME,   WR_T_INT,
                                         WR_T_DOUBLE, WR_T_DOUBLE, WR_T_DOUBLE, WR_T_DOUBLE};
    wr_schema_init(s);
    for (int f = 0; f < 8; f++) {
        int rc = wr_schema_add(s, names[f], types[f]);
        if (rc) return rc;
    }
    return 0;
}

/* S_POOL batches of S_BATCH results; NULL when out of memory. */
static wr_batch_t **s_pool_new(const wr_schema_t *schema)
{
    wr_batch_t **pool = calloc(S_POOL, sizeof *pool);
    uint64_t r = 42, row = 0;
    for (int p = 0; pool && p < S_POOL; p++) {
        wr_batch_t *b = pool[p] = wr_batch_new(schema, S_BATCH);
        if (!b) return pool; /* the caller sees the NULL */
        for (uint32_t i = 0; i < S_BATCH; i++, row++) {
            int64_t start = 1704067200000LL + (int64_t)(row / S_DEVICES) * 60000;
            int64_t count = 1 + (int64_t)(wr_splitmix64(&r) % 600);
            double lo = s_temp(&r), hi = s_temp(&r), sum = 0;
            for (int k = 0; k < 8; k++)
                sum += s_temp(&r);
            sum *= (double)count / 8;
            wr_batch_i64(b, 0)[i] = (int64_t)(row % S_DEVICES);
            wr_batch_i64(b, 1)[i] = start;
            wr_batch_i64(b, 2)[i] = start + 600000;
            wr_batch_i64(b, 3)[i] = count;
            wr_batch_f64(b, 4)[i] = sum;
            wr_batch_f64(b, 5)[i] = lo < hi ? lo : hi;
            wr_batch_f64(b, 6)[i] = lo < hi ? hi : lo;
            wr_batch_f64(b, 7)[i] = sum / (double)count;
        }
        b->count = S_BATCH;
    }
    return pool;
}

static void s_pool_free(wr_batch_t **pool)
{
    for (int p = 0; pool && p < S_POOL; p++)
        wr_batch_destroy(&pool[p]);
    free(pool);
}

/* ---- one timed run: seconds, or a negative error ---- */

/* CPU time of this thread: the machine is shared, and wall time would count the others' turns. */
static int64_t s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A sink of one of the connectors for records like the pool's (err's text is dropped). */
static wr_sink_t *s_open(const wr_connector_t *conn, const void *config, wr_batch_t **pool, int *rc)
{
    wr_sink_open_t o = {.schema = &pool[0]->schema, .parallelism = 1};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_sink_t *s = wr_sink_open(conn->sink, config, &o, rc, &err);
    wr_strbuf_release(&err);
    return s;
}

/* The sink's CPU seconds for o->rows rows, a failure (< 0), or 0 when *sig came meanwhile. */
static double s_run_sink(wr_batch_t **pool, const s_opts_t *o, bool json, int *sig)
{
    int err = WR_ENOMEM;
    FILE *devnull = json ? NULL : fopen("/dev/null", "w");
    wr_file_sink_config_t file = {.path = "/dev/null"};
    wr_stdout_sink_config_t text = {.out = devnull};
    wr_sink_t *s = json      ? s_open(&wr_file_connector, &file, pool, &err)
                   : devnull ? s_open(&wr_stdout_connector, &text, pool, &err)
                             : NULL;
    double secs = err;
    if (!s) goto out;
    int64_t t0 = s_cpu_ns();
    for (uint64_t done = 0, p = 0; done < o->rows; done += S_BATCH, p = (p + 1) % S_POOL) {
        int rc = wr_sink_write(s, pool[p], NULL, 0); /* rows is a multiple of S_BATCH */
        if (rc || (done / S_BATCH % S_ASK_EVERY == 0 && wr_cli_stop_asked(sig, 0))) {
            secs = rc;
            goto out;
        }
    }
    secs = (double)(s_cpu_ns() - t0) / 1e9;
out:
    wr_sink_destroy(&s);
    if (devnull) fclose(devnull);
    return secs;
}

/* The baseline: the old printf formatting, the same one write per batch. As s_run_sink. */
static double s_run_ref(wr_batch_t **pool, const s_opts_t *o, bool json, int *sig)
{
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    wr_strbuf_t buf;
    wr_strbuf_init(&buf);
    double secs = WR_EIO;
    if (fd < 0) return secs;
    int64_t t0 = s_cpu_ns();
    for (uint64_t done = 0, p = 0; done < o->rows; done += S_BATCH, p = (p + 1) % S_POOL) {
        wr_strbuf_reset(&buf);
        for (uint32_t i = 0; i < S_BATCH; i++)
            wr__rowfmt_ref_row(pool[p], i, json, &buf);
        if (buf.failed || write(fd, buf.buf, buf.len) != (ssize_t)buf.len) goto out;
        if (done / S_BATCH % S_ASK_EVERY == 0 && wr_cli_stop_asked(sig, 0)) {
            secs = 0;
            goto out;
        }
    }
    secs = (double)(s_cpu_ns() - t0) / 1e9;
out:
    close(fd);
    wr_strbuf_release(&buf);
    return secs;
}

/* Whether the sinks write exactly the baseline's bytes for the first batches. */
static bool s_identical(wr_batch_t **pool)
{
    bool same = true;
    wr_strbuf_t want;
    wr_strbuf_init(&want);
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    int rc = 0;
    wr_stdout_sink_config_t to = {.out = f};
    wr_collect_sink_config_t co = {0};
    wr_sink_t *text = f ? s_open(&wr_stdout_connector, &to, pool, &rc) : NULL;
    wr_sink_t *json = s_open(&wr_collect_connector, &co, pool, &rc);
    for (int p = 0; p < 16 && same; p++) {
        same = text && json && !wr_sink_write(text, pool[p], NULL, 0) &&
               !wr_sink_write(json, pool[p], NULL, 0);
        for (uint32_t i = 0; i < S_BATCH; i++)
            wr__rowfmt_ref_row(pool[p], i, false, &want);
    }
    same = same && len == want.len && !memcmp(mem, want.buf, len);
    wr_strbuf_reset(&want);
    for (int p = 0; p < 16; p++)
        for (uint32_t i = 0; i < S_BATCH; i++)
            wr__rowfmt_ref_row(pool[p], i, true, &want);
    same = same && json && !strcmp(wr_sink_collected(json)->buf, want.buf);
    wr_sink_destroy(&text);
    wr_sink_destroy(&json);
    if (f) fclose(f);
    free(mem);
    wr_strbuf_release(&want);
    return same;
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench sink [--rows N] [--rounds N] [--json]\n"
    "\n"
    "Formats N IoT window results (device, window_start, window_end, count, sum, min, max, avg)\n"
    "with the stdout (text) sink and the file (JSON lines) sink into /dev/null, and the same rows\n"
    "with the printf formatting the sinks used before; prints ns/row, rows/s and the speed-ups\n"
    "(best of --rounds). Goal: <= 250 ns/row (a firing of 2.5M results in under a second).\n"
    "Defaults: 2000000 rows (rounded up to batches of 1024), 3 rounds.\n";

int wr_bench_sink(int argc, char **argv)
{
    static const struct option opts[] = {{"rows", required_argument, NULL, 'n'},
                                         {"rounds", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    s_opts_t o = {.rows = 2000000, .rounds = 3};
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'n':
            ok = wr_cli_count(optarg, 1, 1000000000, &o.rows);
            break;
        case 'r':
            ok = wr_cli_count(optarg, 1, 100, &v) && (o.rounds = (uint32_t)v);
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
            wr_cli_error("bench sink", "see weir bench sink --help",
                         "bad value '%s' (out of range or not a number)", optarg);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(s_usage, stderr);
        return WR_EXIT_USAGE;
    }
    if (!o.json) wr_bench_machine_print(stdout);
    o.rows = (o.rows + S_BATCH - 1) / S_BATCH * S_BATCH;
    wr_schema_t schema;
    wr_batch_t **pool = s_schema(&schema) ? NULL : s_pool_new(&schema);
    if (!pool || !pool[S_POOL - 1]) {
        s_pool_free(pool);
        wr_cli_error("bench sink", NULL, "out of memory");
        return WR_EXIT_FAIL;
    }
    bool same = s_identical(pool);
    double best[4] = {0}; /* text, json, text baseline, json baseline */
    int sig = 0;
    for (uint32_t r = 0; r < o.rounds && !sig; r++) {
        double t[4] = {0};
        for (int k = 0; k < 4 && !sig; k++)
            t[k] = k < 2 ? s_run_sink(pool, &o, k == 1, &sig) : s_run_ref(pool, &o, k == 3, &sig);
        for (int k = 0; k < 4 && !sig; k++) {
            if (t[k] < 0) {
                s_pool_free(pool);
                wr_cli_error("bench sink", NULL, "run failed: %s", wr_strerror((int)t[k]));
                return WR_EXIT_FAIL;
            }
            if (!best[k] || t[k] < best[k]) best[k] = t[k];
        }
    }
    s_pool_free(pool);
    if (sig) return wr_cli_stopped("bench sink", sig, "stopped");
    double ns[4], rate[4];
    for (int k = 0; k < 4; k++) {
        ns[k] = best[k] * 1e9 / (double)o.rows;
        rate[k] = (double)o.rows / best[k];
    }
    if (o.json) {
        wr_strbuf_t mj;
        wr_strbuf_init(&mj);
        printf("{\"bench\":\"sink\",%s\"rows\":%llu,\"rounds\":%u,\"identical_output\":%s,"
               "\"text_ns_per_row\":%.1f,\"text_rows_per_s\":%.0f,"
               "\"text_baseline_ns_per_row\":%.1f,\"text_baseline_rows_per_s\":%.0f,"
               "\"text_speedup\":%.2f,"
               "\"json_ns_per_row\":%.1f,\"json_rows_per_s\":%.0f,"
               "\"json_baseline_ns_per_row\":%.1f,\"json_baseline_rows_per_s\":%.0f,"
               "\"json_speedup\":%.2f,\"goal_ns_per_row\":250}\n",
               wr_bench_machine_member(&mj), (unsigned long long)o.rows, o.rounds,
               same ? "true" : "false", ns[0], rate[0], ns[2], rate[2], best[2] / best[0], ns[1],
               rate[1], ns[3], rate[3], best[3] / best[1]);
        wr_strbuf_release(&mj);
    } else {
        printf("%llu IoT result rows, best of %u; output identical to the printf formatting: %s\n",
               (unsigned long long)o.rows, o.rounds, same ? "yes" : "NO");
        printf("text sink: %6.1f ns/row (%5.2f M rows/s); printf baseline %6.1f ns/row (%5.2f M "
               "rows/s): %.2fx\n",
               ns[0], rate[0] / 1e6, ns[2], rate[2] / 1e6, best[2] / best[0]);
        printf("JSON sink: %6.1f ns/row (%5.2f M rows/s); printf baseline %6.1f ns/row (%5.2f M "
               "rows/s): %.2fx\n",
               ns[1], rate[1] / 1e6, ns[3], rate[3] / 1e6, best[3] / best[1]);
        printf("goal: <= 250 ns/row\n");
    }
    return same ? WR_EXIT_OK : WR_EXIT_FAIL;
}
