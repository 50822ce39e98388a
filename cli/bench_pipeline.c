/* weir bench pipeline: the IoT job end to end on a local cluster, against the source alone.
 *
 *   pipeline  generator -> key by device -> sliding window (10 min / 1 min, count/sum/min/max
 *             of temperature, --p95 adds a quantile) -> sink, parallelism 2, on a JobManager and
 *             two TaskManagers in this process (inproc transport, one worker thread per node:
 *             what `weir local` runs). A bounded generator: the job ends by itself, and the
 *             clock runs from the submission to the JobManager's FINISHED.
 *   baseline  the source stage alone on one core: the same generator filling the same records
 *             into batches of the same size, and nothing else.
 *
 * The figures come from the JobManager (JOB_REQ, as `weir job` asks): records in at the source,
 * windows fired (results: one per key and window), and the emission delay of the window vertex,
 * the delay from a source making a watermark to the results it fired being out (per result; and
 * per firing until its last result), p50 and p99 of
 * the worst subtask (upper bounds of 50 ms buckets up to 2 s, doubling above). Subtasks report
 * every second, so the phase times below are good to about a second; the end is exact (a
 * subtask reports "finished" at once).
 *
 * Two phases: while the source runs, windows fire every slide of event time as the watermark
 * passes their end (the steady state of an unbounded job); when it ends, the final watermark
 * fires every window still open: size/slide windows of every key at once, a burst no unbounded
 * job ever sees. Both are in the end-to-end figure; the source phase is printed on its own.
 *
 * SIGINT or SIGTERM (weir blocks both and waits for them) stops it: the source-alone run between
 * two thousand batches, a run on the cluster at its next poll of the job (canceled, the cluster
 * and any checkpoint folder gone); it exits 128 + the signal. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/generator/generator.h"
#include "actors/dataflow/job/plan.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/messages.h"
#include "cli/bench_local.h"
#include "cli/bench_machine.h"
#include "cli/bench_serve.h"
#include "cli/cli.h"
#include "bus/base/fs.h"

#define S_TMS          2
#define S_INTERVAL_MS  10000 /* a device reports every 10 s of event time */
#define S_OOO_MS       5000
#define S_SOURCE_BATCH 4096 /* records per source batch, as the source subtask fills them */
#define S_POLL_MS      50
#define S_TIMEOUT_S    3600

typedef struct {
    uint64_t devices, events;
    uint32_t parallelism;
    const char *sink; /* stdout (to /dev/null) or file (/dev/null) */
    bool p95, json;
    int64_t ckpt_ms;  /* also run with checkpoints this often (0: no) */
    int64_t serve_ms; /* also run serving REST and metrics, scraped this often (0: no) */
    uint32_t pairs;   /* with serve_ms: pairs of runs with and without serving */
} s_opts_t;

#define S_MAX_PAIRS 20

/* What a run measured. */
typedef struct {
    double wall_s;   /* submission -> FINISHED */
    double source_s; /* submission -> every source subtask finished */
    double cpu_s;    /* this process's CPU time, submission -> FINISHED, less the scraper's */
    uint64_t rounds; /* serving: the scraper's rounds, submission -> FINISHED */
    uint64_t events; /* records in at the source */
    uint64_t fired;  /* window results */
    uint64_t late;
    int64_t p50, p99, last_p99;
    long hwm_kb;
    /* with checkpoints: how many completed, the longest, the largest */
    uint32_t ckpts;
    int64_t ckpt_max_ms;
    uint64_t ckpt_max_bytes;
    /* serving: the scraper's requests */
    wr_bench_serve_stats_t served;
    int signal; /* SIGINT or SIGTERM that stopped the run (its job canceled), else 0 */
} s_result_t;

/* ---- the topology ---- */

static int s_topology(const s_opts_t *o, wr_topology_t **out)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "name: bench-pipeline\n"
                     "parallelism: %u\n"
                     "max_parallelism: 128\n"
                     "sources:\n"
                     "  - type: generator\n"
                     "    devices: %llu\n"
                     "    interval: %dms\n"
                     "    total: %llu\n"
                     "    jitter: 2s\n"
                     "    seed: 42\n"
                     "key_by: device\n"
                     "event_time: {field: ts, max_out_of_orderness: %dms}\n"
                     "window: {type: sliding, size: 10min, slide: 1min}\n"
                     "aggregates:\n"
                     "  readings: count()\n"
                     "  sum_temp: sum(temperature)\n"
                     "  min_temp: min(temperature)\n"
                     "  max_temp: max(temperature)\n"
                     "%s"
                     "sinks:\n"
                     "  - type: %s\n"
                     "%s",
                     o->parallelism, (unsigned long long)o->devices, S_INTERVAL_MS,
                     (unsigned long long)o->events, S_OOO_MS,
                     o->p95 ? "  p95_temp: p95(temperature)\n" : "", o->sink,
                     strcmp(o->sink, "file") ? "" : "    path: /dev/null\n");
    if (n < 0 || (size_t)n >= sizeof text) return WR_ETOOBIG;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_topology_parse(text, (size_t)n, "bench-pipeline", out, &err);
    if (rc) wr_cli_error("bench pipeline", NULL, "%s", err.buf);
    wr_strbuf_release(&err);
    return rc;
}

/* ---- the baseline: the source stage alone ---- */

/* Records/s of one core filling the job's records into source batches; negative on error. A
 * SIGINT or SIGTERM meanwhile stops it: *sig set, 0 returned. */
static double s_source_alone(const wr_topology_t *t, uint64_t events, int *sig)
{
    *sig = 0;
    wr_generator_t *g = wr_generator_new(t->sources[0].config); /* the job's one generator */
    wr_batch_t *b = wr_batch_new(&t->schema, S_SOURCE_BATCH);
    double rate = WR_ENOMEM;
    if (!g || !b) goto out;
    int64_t start = wr_now_ns();
    for (uint64_t off = 0; off < events; off += S_SOURCE_BATCH) {
        uint64_t n = events - off < S_SOURCE_BATCH ? events - off : S_SOURCE_BATCH;
        wr_batch_clear(b);
        int rc = wr_generator_fill(g, off, (uint32_t)n, b);
        if (rc) {
            rate = rc;
            goto out;
        }
        if (off % (S_SOURCE_BATCH * 1024) == 0 && (*sig = wr_cli_wait_signal(0))) {
            rate = 0;
            goto out;
        }
    }
    rate = (double)events / ((double)(wr_now_ns() - start) / 1e9);
out:
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
    return rate;
}

/* ---- talking to the JobManager ---- */

/* The job's checkpoint history (CKPT_LIST_REPLY) into res: completed periodic checkpoints. */
static void s_ckpt_read(wr_bench_local_t *l, const char *id, s_result_t *res)
{
    char to[WR_ADDR_MAX];
    wr_bench_local_jm_addr(l, to);
    wr_msg_job_ref_t req;
    snprintf(req.job, sizeof req.job, "%s", id);
    wr_msg_ckpt_list_reply_t list;
    wr_msg_t *reply = NULL;
    if (wr_cli_request(wr_bench_local_jm(l), to, 10000, WR_MSG_CKPT_LIST_REQ, &req,
                       WR_MSG_CKPT_LIST_REPLY, &list, &reply)) {
        wr_msg_destroy(&reply);
        return;
    }
    for (uint32_t i = 0; i < list.checkpoints.n; i++) {
        const wr_msg_ckpt_stat_t *c = &list.checkpoints.v[i];
        if (!wr_strv_eq(c->status, "COMPLETED") || !wr_strv_eq(c->kind, "checkpoint")) continue;
        res->ckpts++;
        if (c->duration_ms > res->ckpt_max_ms) res->ckpt_max_ms = c->duration_ms;
        if (c->full_size > res->ckpt_max_bytes) res->ckpt_max_bytes = c->full_size;
    }
    wr_msg_ckpt_list_reply_release(&list);
    wr_msg_destroy(&reply);
}

static int s_follow(wr_bench_local_t *l, const char *id, int64_t t0, uint32_t window_vertex,
                    s_result_t *res)
{
    wr_bench_job_t j;
    int64_t deadline = t0 + (int64_t)S_TIMEOUT_S * 1000000000;
    for (;;) {
        if ((res->signal = wr_cli_wait_signal(S_POLL_MS))) { /* weir blocks both: cli/main.c */
            wr_bench_local_cancel(l, id);
            return WR_ECLOSED;
        }
        if (wr_bench_local_job(l, id, &j)) continue;
        int64_t now = wr_now_ns();
        if (!res->source_s && (uint64_t)j.v[0].records_in >= res->events)
            res->source_s = (double)(now - t0) / 1e9;
        if (strcmp(j.state, "RUNNING") && strcmp(j.state, "CREATED")) {
            res->wall_s = (double)(now - t0) / 1e9;
            s_ckpt_read(l, id, res);
            break;
        }
        if (now > deadline) {
            wr_bench_local_cancel(l, id);
            wr_cli_error("bench pipeline", "try fewer --events", "no end after %d s: canceled",
                         S_TIMEOUT_S);
            return WR_ETIMEDOUT;
        }
    }
    if (strcmp(j.state, "FINISHED") || j.n <= window_vertex) {
        wr_cli_error("bench pipeline", NULL, "the job ended %s%s%s", j.state,
                     j.error[0] ? ": " : "", j.error);
        return WR_EIO;
    }
    const wr_bench_vertex_t *w = &j.v[window_vertex];
    res->fired = (uint64_t)w->windows_fired;
    res->late = (uint64_t)w->late_dropped;
    res->p50 = w->p50;
    res->p99 = w->p99;
    res->last_p99 = w->last_p99;
    if (!res->source_s) res->source_s = res->wall_s;
    if ((uint64_t)j.v[0].records_in != res->events || (uint64_t)w->records_in != res->events) {
        wr_cli_error("bench pipeline", NULL,
                     "%llu events, but the source made %lld and the window "
                     "took %lld",
                     (unsigned long long)res->events, (long long)j.v[0].records_in,
                     (long long)w->records_in);
        return WR_EIO;
    }
    return 0;
}

/* ---- the local cluster ---- */

/* One run on a fresh local cluster (a JobManager and S_TMS TaskManagers); with ckpt_ms,
 * checkpoints go to a temp folder (removed); with serve_ms, the cluster serves its REST API and
 * metrics, scraped that often (bench_serve.h). */
static int s_pipeline(const s_opts_t *o, const wr_topology_t *t, int64_t ckpt_ms, int64_t serve_ms,
                      s_result_t *res)
{
    wr_plan_t plan;
    wr_strbuf_t perr;
    wr_strbuf_init(&perr);
    int rc = wr_plan_build(t, &plan, &perr);
    wr_strbuf_release(&perr);
    if (rc) return rc;
    uint32_t window_vertex = 0;
    while (window_vertex < plan.n && !plan.v[window_vertex].window)
        window_vertex++;
    char ckpt_dir[64] = "";
    if (ckpt_ms) {
        snprintf(ckpt_dir, sizeof ckpt_dir, "/tmp/weir-bench-ckpt-XXXXXX");
        if (!mkdtemp(ckpt_dir)) return WR_EIO;
    }
    wr_bench_local_opts_t lo = {.tms = S_TMS,
                                .slots = (plan.slots + S_TMS - 1) / S_TMS,
                                .ckpt_ms = ckpt_ms,
                                .ckpt_dir = ckpt_dir};
    wr_bench_local_t *l = wr_bench_local_start("bench pipeline", &lo);
    wr_bench_serve_t *serve = NULL;
    if (!l || (serve_ms && !(serve = wr_bench_serve_start(l, serve_ms, "bench pipeline")))) {
        rc = WR_EIO;
        goto out;
    }
    /* the stdout sink writes to this process's stdout: to /dev/null while the job runs */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
        rc = WR_EIO;
        goto restore;
    }
    char id[WR_JOB_ID_MAX];
    int64_t t0;
    res->events = o->events;
    double cpu0 = wr_bench_cpu_s() - wr_bench_serve_client_cpu_s(serve);
    uint64_t rounds0 = wr_bench_serve_rounds(serve);
    if (!(rc = wr_bench_local_submit(l, t, id, &t0))) rc = s_follow(l, id, t0, window_vertex, res);
    res->cpu_s = wr_bench_cpu_s() - wr_bench_serve_client_cpu_s(serve) - cpu0;
    res->rounds = wr_bench_serve_rounds(serve) - rounds0;
    res->hwm_kb = wr_bench_peak_rss_kb();
restore:
    fflush(stdout);
    if (saved >= 0) dup2(saved, STDOUT_FILENO);
    if (saved >= 0) close(saved);
    if (null >= 0) close(null);
out:
    wr_bench_serve_stop(&serve, &res->served);
    wr_bench_local_stop(&l);
    if (ckpt_dir[0]) wr_fs_rmtree(ckpt_dir);
    return rc;
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench pipeline [--devices N] [--events N] [--parallelism N] [--sink stdout|file]\n"
    "                           [--p95] [--checkpoints T] [--serve T [--pairs N]] [--json]\n"
    "\n"
    "The IoT job end to end on a local cluster (a JobManager and 2 TaskManagers in this process):\n"
    "generator -> key by device -> sliding window 10 min / 1 min (count, sum, min, max of\n"
    "temperature) -> sink. Prints events/s from submission to FINISHED, the same against the\n"
    "source stage alone on one core (the generator filling the same records into batches), the\n"
    "ratio, the emission delay p50/p99 (source watermark -> the results it fired are out), "
    "windows\n"
    "fired, peak RSS, and the goals (>= 1,000,000 events/s, p99 < 1000 ms).\n"
    "SIGINT or SIGTERM stops it at once (the job canceled) with exit 128 + the signal.\n"
    "\n"
    "  --devices N      devices (keys; default 5000000); each reports every 10 s of event time\n"
    "  --events N       records in all (default 450000000: 15 min of event time with 5M devices;\n"
    "                   windows fire every minute of it, then the end of input fires the last 10)\n"
    "  --parallelism N  of the source and the window (default 2)\n"
    "  --sink KIND      stdout: the human-readable sink, chained into the window, this process's\n"
    "                   stdout sent to /dev/null during the run (default); file: the JSON-lines\n"
    "                   sink into /dev/null (parallelism 1: a vertex of its own)\n"
    "  --p95            add p95(temperature): a quantile sketch per pane\n"
    "  --checkpoints T  then the same run with a checkpoint every T (10s), into a temp folder:\n"
    "                   events/s against the run without, checkpoints completed, the longest\n"
    "  --serve T        then pairs of runs, one with the REST API and every node's metrics\n"
    "                   served, a thread asking each /metrics and three REST paths every T\n"
    "                   (1s; 5ms amplifies the cost above the machine's noise), one without,\n"
    "                   in turns (with first, then without first, ...): events/s with against\n"
    "                   without, and events per CPU second of this process (the scraper's own\n"
    "                   left out), the medians of the pairs' ratios, and the cost at one round\n"
    "                   a second: each pair's cost divided by its rounds a second (goal < 2%)\n"
    "  --pairs N        how many pairs (default 5, at most 20)\n"
    "  --json           one JSON object\n";

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (n >= 1); sorted gets them in order. */
static double s_median(const double v[], double sorted[], uint32_t n)
{
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, s_cmp_double);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* With --serve: each pair's events/s serving against not serving, and events per CPU second of
 * this process (the scraper's own left out) the same way; their medians; and what that cost comes
 * to at one scrape round a second. Cost grows with the rounds (each asks the same pages), so a
 * short period amplifies it above this machine's run-to-run noise (10% here) and the cost at
 * one round a second is the measured cost divided by the rounds a second measured. */
static void s_print_serve(const s_opts_t *o, const s_result_t with[], const s_result_t without[],
                          uint32_t n)
{
    double ratio[S_MAX_PAIRS], cpu_ratio[S_MAX_PAIRS], per_s[S_MAX_PAIRS], cost[S_MAX_PAIRS],
        cpu_cost[S_MAX_PAIRS], sorted[S_MAX_PAIRS], cpu_sorted[S_MAX_PAIRS], tmp[S_MAX_PAIRS];
    uint64_t requests = 0, failed = 0, bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        ratio[i] = ((double)with[i].events / with[i].wall_s) /
                   ((double)without[i].events / without[i].wall_s);
        cpu_ratio[i] = ((double)with[i].events / with[i].cpu_s) /
                       ((double)without[i].events / without[i].cpu_s);
        per_s[i] = (double)with[i].rounds / with[i].wall_s;
        cost[i] = per_s[i] > 0 ? (1 - ratio[i]) / per_s[i] : 1;
        cpu_cost[i] = per_s[i] > 0 ? (1 - cpu_ratio[i]) / per_s[i] : 1;
        requests += with[i].served.requests;
        failed += with[i].served.failed;
        bytes += with[i].served.bytes;
    }
    double median = s_median(ratio, sorted, n), cpu_median = s_median(cpu_ratio, cpu_sorted, n);
    double rate = s_median(per_s, tmp, n), at1 = s_median(cost, tmp, n),
           cpu_at1 = s_median(cpu_cost, tmp, n);
    bool ok = at1 < 0.02 && cpu_at1 < 0.02 && !failed;
    if (o->json) {
        wr_strbuf_t mj, list;
        wr_strbuf_init(&mj);
        wr_strbuf_init(&list);
        for (uint32_t i = 0; i < n; i++)
            wr_strbuf_addf(&list,
                           "%s{\"serving_events_per_s\":%.0f,\"not_serving_events_per_s\":"
                           "%.0f,\"ratio\":%.4f,\"serving_events_per_cpu_s\":%.0f,"
                           "\"not_serving_events_per_cpu_s\":%.0f,\"cpu_ratio\":%.4f,"
                           "\"rounds_per_s\":%.6f}",
                           i ? "," : "", (double)with[i].events / with[i].wall_s,
                           (double)without[i].events / without[i].wall_s, ratio[i],
                           (double)with[i].events / with[i].cpu_s,
                           (double)without[i].events / without[i].cpu_s, cpu_ratio[i], per_s[i]);
        printf("{\"bench\":\"pipeline-serve\",%s\"scrape_period_ms\":%lld,\"pairs\":[%s],"
               "\"median_ratio\":%.4f,\"min_ratio\":%.4f,\"max_ratio\":%.4f,"
               "\"cpu_median_ratio\":%.4f,\"cpu_min_ratio\":%.4f,\"cpu_max_ratio\":%.4f,"
               "\"rounds_per_s\":%.2f,\"cost_at_1_round_per_s\":%.5f,"
               "\"cpu_cost_at_1_round_per_s\":%.5f,\"requests\":%llu,\"failed_requests\":%llu,"
               "\"bytes_served\":%llu,\"goal_cost\":0.02,\"goal_met\":%s}\n",
               wr_bench_machine_member(&mj), (long long)o->serve_ms, list.buf, median, sorted[0],
               sorted[n - 1], cpu_median, cpu_sorted[0], cpu_sorted[n - 1], rate, at1, cpu_at1,
               (unsigned long long)requests, (unsigned long long)failed, (unsigned long long)bytes,
               ok ? "true" : "false");
        wr_strbuf_release(&list);
        wr_strbuf_release(&mj);
        return;
    }
    printf("serving REST and metrics (each /metrics and 3 REST paths every %lld ms), %u pairs of "
           "runs in turns:\n",
           (long long)o->serve_ms, n);
    for (uint32_t i = 0; i < n; i++)
        printf("  pair %u (%s first): %6.3f M events/s serving, %6.3f M not: ratio %.3f; per CPU "
               "second %.3f M and %.3f M: ratio %.3f; %.1f rounds/s\n",
               i + 1, i % 2 ? "not serving" : "serving",
               (double)with[i].events / with[i].wall_s / 1e6,
               (double)without[i].events / without[i].wall_s / 1e6, ratio[i],
               (double)with[i].events / with[i].cpu_s / 1e6,
               (double)without[i].events / without[i].cpu_s / 1e6, cpu_ratio[i], per_s[i]);
    printf("  events/s:          median ratio %.3f (from %.3f to %.3f)\n", median, sorted[0],
           sorted[n - 1]);
    printf("  events/CPU second: median ratio %.3f (from %.3f to %.3f), the scraper's own CPU "
           "time left out\n",
           cpu_median, cpu_sorted[0], cpu_sorted[n - 1]);
    printf("  scrape rounds:     %.1f a second (median)\n", rate);
    printf("  at one round a second: serving costs %.2f%% of events/s, %.2f%% of events per CPU "
           "second (medians of each pair's cost / its rounds a second)\n",
           100 * at1, 100 * cpu_at1);
    printf("  requests:          %llu answered (%.1f MB), %llu failed\n",
           (unsigned long long)requests, (double)bytes / 1e6, (unsigned long long)failed);
    printf("  goal: serving once a second costs < 2%% (both measures): %s\n",
           ok ? "met" : "NOT met");
}

/* The p99 goal against a bucket's upper bound: 50 ms buckets up to 2 s, so 1000 means <= 1000. */
static const char *s_delay_verdict(int64_t p99, bool json)
{
    if (p99 < 0) return json ? "null" : "not measured (no window fired before the end of input)";
    if (p99 <= 1000) return json ? "true" : "met";
    return json ? "false" : "NOT met";
}

/* With --checkpoints: the run with checkpoints against the one without. */
static void s_print_ckpt(const s_opts_t *o, const s_result_t *with, const s_result_t *without)
{
    double a = (double)with->events / with->wall_s, b = (double)without->events / without->wall_s;
    bool ratio_ok = a >= 0.7 * b, time_ok = with->ckpts && with->ckpt_max_ms <= 10000;
    if (o->json) {
        wr_strbuf_t mj;
        wr_strbuf_init(&mj);
        printf("{\"bench\":\"pipeline-checkpoints\",%s\"interval_ms\":%lld,\"events_per_s\":%.0f,"
               "\"baseline_no_checkpoints_events_per_s\":%.0f,\"ratio\":%.4f,\"checkpoints\":%u,"
               "\"checkpoint_max_ms\":%lld,\"checkpoint_max_bytes\":%llu,\"peak_rss_bytes\":%lld,"
               "\"emit_delay_p50_ms\":%lld,\"emit_delay_p99_ms\":%lld,"
               "\"goal_ratio\":0.7,\"goal_ratio_met\":%s,\"goal_checkpoint_ms\":10000,"
               "\"goal_checkpoint_met\":%s}\n",
               wr_bench_machine_member(&mj), (long long)o->ckpt_ms, a, b, a / b, with->ckpts,
               (long long)with->ckpt_max_ms, (unsigned long long)with->ckpt_max_bytes,
               (long long)with->hwm_kb * 1024, (long long)with->p50, (long long)with->p99,
               ratio_ok ? "true" : "false", time_ok ? "true" : "false");
        wr_strbuf_release(&mj);
        return;
    }
    printf("  with checkpoints every %lld ms: %.3f M events/s, %u completed, the longest %lld ms, "
           "the largest %.2f GB\n",
           (long long)o->ckpt_ms, a / 1e6, with->ckpts, (long long)with->ckpt_max_ms,
           (double)with->ckpt_max_bytes / 1e9);
    printf("    emission delay while checkpointing: p50 <= %lld ms, p99 <= %lld ms per result\n",
           (long long)with->p50, (long long)with->p99);
    printf("  ratio:             %6.3f of the run without checkpoints (goal >= 0.70: %s)\n", a / b,
           ratio_ok ? "met" : "NOT met");
    printf("  goal checkpoint of the window state within 10 s: %s\n", time_ok ? "met" : "NOT met");
}

static void s_print(const s_opts_t *o, const s_result_t *r, double base)
{
    double rate = (double)r->events / r->wall_s, steady = (double)r->events / r->source_s;
    double span_s = (double)o->events / (double)o->devices * S_INTERVAL_MS / 1000;
    bool rate_ok = rate >= 1e6;
    const char *aggs = o->p95 ? "count,sum,min,max,p95" : "count,sum,min,max";
    if (o->json) {
        char p50[24] = "null", p99[24] = "null"; /* none measured */
        if (r->p50 >= 0) snprintf(p50, sizeof p50, "%lld", (long long)r->p50);
        if (r->p99 >= 0) snprintf(p99, sizeof p99, "%lld", (long long)r->p99);
        wr_strbuf_t mj;
        wr_strbuf_init(&mj);
        printf("{\"bench\":\"pipeline\",%s\"devices\":%llu,\"events\":%llu,\"parallelism\":%u,"
               "\"taskmanagers\":%d,\"sink\":\"%s\",\"aggregates\":\"%s\",\"event_time_s\":%.1f,"
               "\"wall_s\":%.3f,\"events_per_s\":%.0f,\"source_phase_s\":%.3f,"
               "\"source_phase_events_per_s\":%.0f,\"final_firing_s\":%.3f,"
               "\"baseline_source_alone_events_per_s\":%.0f,\"ratio\":%.4f,"
               "\"emit_delay_p50_ms\":%s,\"emit_delay_p99_ms\":%s,\"emit_delay_last_result_p99_"
               "ms\":%lld,"
               "\"windows_fired\":%llu,"
               "\"late_dropped\":%llu,\"peak_rss_bytes\":%lld,"
               "\"goal_events_per_s\":1000000,\"goal_events_met\":%s,\"goal_p99_ms\":1000,"
               "\"goal_p99_met\":%s}\n",
               wr_bench_machine_member(&mj), (unsigned long long)o->devices,
               (unsigned long long)o->events, o->parallelism, S_TMS, o->sink, aggs, span_s,
               r->wall_s, rate, r->source_s, steady, r->wall_s - r->source_s, base, rate / base,
               p50, p99, (long long)r->last_p99, (unsigned long long)r->fired,
               (unsigned long long)r->late, (long long)r->hwm_kb * 1024, rate_ok ? "true" : "false",
               s_delay_verdict(r->p99, true));
        wr_strbuf_release(&mj);
        return;
    }
    printf("  end to end:        %6.3f M events/s (%.1f s from submission to FINISHED)\n",
           rate / 1e6, r->wall_s);
    printf("    source phase:    %6.3f M events/s (%.1f s until the source ended; then %.1f s "
           "firing the windows still open)\n",
           steady / 1e6, r->source_s, r->wall_s - r->source_s);
    printf("  source alone:      %6.3f M events/s (the generator on one core)\n", base / 1e6);
    printf("  ratio:             %6.3f (end to end / source alone)\n", rate / base);
    if (r->p99 < 0)
        printf("  emission delay:    none measured (no window fired before the end of input)\n");
    else
        printf("  emission delay:    p50 <= %lld ms, p99 <= %lld ms per result; p99 <= %lld ms "
               "until a "
               "firing's last result (upper bounds of 50 ms buckets)\n",
               (long long)r->p50, (long long)r->p99, (long long)r->last_p99);
    printf("  windows fired:     %llu results (key x window), %llu records too late\n",
           (unsigned long long)r->fired, (unsigned long long)r->late);
    printf("  peak RSS:          %.2f GB\n", (double)r->hwm_kb * 1024 / 1e9);
    printf("  goal >= 1,000,000 events/s end to end: %s (%.2fx)\n", rate_ok ? "met" : "NOT met",
           rate / 1e6);
    printf("  goal p99 emission delay < 1000 ms:     %s\n", s_delay_verdict(r->p99, false));
}

int wr_bench_pipeline(int argc, char **argv)
{
    static const struct option opts[] = {{"devices", required_argument, NULL, 'd'},
                                         {"events", required_argument, NULL, 'e'},
                                         {"parallelism", required_argument, NULL, 'p'},
                                         {"sink", required_argument, NULL, 's'},
                                         {"p95", no_argument, NULL, 'q'},
                                         {"checkpoints", required_argument, NULL, 'C'},
                                         {"serve", required_argument, NULL, 'S'},
                                         {"pairs", required_argument, NULL, 'P'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    s_opts_t o = {
        .devices = 5000000, .events = 450000000, .parallelism = 2, .sink = "stdout", .pairs = 5};
    uint64_t v;
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        const char *bad = NULL; /* what the option wanted, when its value is wrong */
        switch (c) {
        case 'd':
            if (!wr_cli_count(optarg, 1, (int64_t)WR_GEN_MAX_DEVICES, &o.devices))
                bad = "1 to 2^32";
            break;
        case 'e':
            if (!wr_cli_count(optarg, 1, (int64_t)1 << 40, &o.events)) bad = "1 to 2^40";
            break;
        case 'p':
            if (!wr_cli_count(optarg, 1, 64, &v)) bad = "1 to 64";
            o.parallelism = (uint32_t)v;
            break;
        case 's':
            if (strcmp(optarg, "stdout") && strcmp(optarg, "file")) bad = "stdout or file";
            o.sink = optarg;
            break;
        case 'q':
            o.p95 = true;
            break;
        case 'C':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o.ckpt_ms) || o.ckpt_ms <= 0)
                bad = "a duration (10s)";
            break;
        case 'S':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o.serve_ms) || o.serve_ms <= 0)
                bad = "a duration (1s)";
            break;
        case 'P':
            if (!wr_cli_count(optarg, 1, S_MAX_PAIRS, &v)) bad = "1 to 20";
            o.pairs = (uint32_t)v;
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
        if (bad) {
            wr_cli_error("bench pipeline", "see weir bench pipeline --help", "--%s: '%s' is not %s",
                         opts[li].name, optarg, bad);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error("bench pipeline", "it takes options only (see weir bench pipeline --help)",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    wr_topology_t *t = NULL;
    if (s_topology(&o, &t)) return WR_EXIT_USAGE;
    if (!o.json) wr_bench_machine_print(stdout);
    int rc = WR_EXIT_FAIL;
    if (!o.json)
        printf("pipeline bench: %llu devices, %llu events (%.0f s of event time), generator -> key "
               "by -> sliding 10/1 min (%s) -> %s sink, parallelism %u, %d TaskManagers\n",
               (unsigned long long)o.devices, (unsigned long long)o.events,
               (double)o.events / (double)o.devices * S_INTERVAL_MS / 1000,
               o.p95 ? "count, sum, min, max, p95" : "count, sum, min, max", o.sink, o.parallelism,
               S_TMS);
    fflush(stdout);
    int sig = 0;
    double base = s_source_alone(t, o.events, &sig);
    s_result_t r = {0};
    if (sig) {
        /* stopped: below */
    } else if (base < 0) {
        wr_cli_error("bench pipeline", NULL, "the source-alone run failed: %s",
                     wr_strerror((int)base));
    } else if (!s_pipeline(&o, t, 0, 0, &r)) {
        s_print(&o, &r, base);
        rc = WR_EXIT_OK;
        s_result_t with = {0};
        if (o.ckpt_ms && !(rc = s_pipeline(&o, t, o.ckpt_ms, 0, &with) ? WR_EXIT_FAIL : WR_EXIT_OK))
            s_print_ckpt(&o, &with, &r);
        sig = with.signal;
        /* serving against not, in pairs whose order alternates, after the first run (which
         * pays for the process's warm-up): what drifts over the runs (the machine's other load,
         * the page cache) weighs on both sides alike */
        s_result_t serving[S_MAX_PAIRS] = {0}, not_serving[S_MAX_PAIRS] = {0};
        for (uint32_t i = 0; o.serve_ms && !rc && i < o.pairs; i++) {
            bool first = i % 2 == 0; /* serving first */
            s_result_t *a = first ? &serving[i] : &not_serving[i],
                       *b = first ? &not_serving[i] : &serving[i];
            rc = s_pipeline(&o, t, 0, first ? o.serve_ms : 0, a) ? WR_EXIT_FAIL : WR_EXIT_OK;
            if (!rc)
                rc = s_pipeline(&o, t, 0, first ? 0 : o.serve_ms, b) ? WR_EXIT_FAIL : WR_EXIT_OK;
            sig = a->signal ? a->signal : b->signal;
        }
        if (o.serve_ms && !rc) s_print_serve(&o, serving, not_serving, o.pairs);
    } else {
        sig = r.signal;
    }
    wr_topology_destroy(&t);
    if (sig) {
        return wr_cli_stopped("bench pipeline", sig, "the run stopped, its job canceled");
    }
    return rc;
}
