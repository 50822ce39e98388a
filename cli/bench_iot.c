/* weir bench iot: the seed's job at the seed's scale, as its users run it (issue 17).
 *
 *   cluster  for every run afresh: a JobManager (jm) and two TaskManagers (tm-1, tm-2) of one
 *            slot each, child processes of this binary on free 127.0.0.1 ports (bench_procs.h),
 *            in a folder of the run's own under the temp folder, removed at the end; the
 *            TaskManagers' stdout (the job's stdout sink) goes to /dev/null.
 *   job      examples/iot.yaml with a bounded generator: --devices devices (5,000,000) reporting
 *            every 10 s of event time for --minutes minutes (10: 300M readings), a filter, key by
 *            device, a 10-minute window sliding by 1 minute, count/avg/min/max with and without
 *            p95, parallelism 2, to stdout.
 *   runs     every combination of --backends (memory,rocksdb), --p95 (with,without) and
 *            --checkpoints (off,10s); with --kill, each combination with checkpoints runs once
 *            more, killing tm-1 with SIGKILL once its second checkpoint completed and starting it
 *            again at once under its id (as an orchestrator would).
 *   figures  events/s end to end (readings / the job's duration from its submit to FINISHED, as
 *            the JobManager reports it); checkpoints (count, duration p50 and max, each one's
 *            duration in order, the longest barrier alignment of any subtask in any of them, full
 *            size max, incremental size p50 after the first two and its ratio to the full size,
 *            and the same in the steady state: the checkpoints taken once the window was full,
 *            its watermark 11 minutes of event time past the generator's start, as the
 *            JobManager reported it when the checkpoint was first seen (polled every 500 ms; a
 *            run of 10 minutes has none: JSON steady_checkpoints 0); recovery after the kill
 *            (from the kill until the job is RUNNING again in a later attempt with every subtask
 *            running, polled every 100 ms); the peak RSS of each process (VmHWM; a killed
 *            TaskManager's is the larger of its two processes'). Ratios: checkpoints on
 *            against off, and p95 against none, in the same run of the command; the issue's
 *            goals are printed met or not. */
#include "cli/bench_iot.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jobmanager.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/messages.h"
#include "bus/proto.h"
#include "cli/bench_machine.h"
#include "cli/bench_procs.h"
#include "cli/cli.h"

#define S_CMD        "bench iot"
#define S_TMS        2
#define S_MAX_SETS   16
#define S_MAX_ARGV   (26 + 2 * S_MAX_SETS)
#define S_MAX_RUNS   12
#define S_MAX_CKPTS  4096
#define S_LIST_CKPTS 64 /* durations listed one by one */
#define S_POLL_MS    100
#define S_ASK_MS     5000
#define S_START_MS   30000
#define S_RECOVER_MS 60000
/* The generator's start (s_topology) and the event time after which a window of 10 minutes
 * sliding by 1 holds all its panes, a slide to spare: the steady state's checkpoints. */
#define S_ORIGIN_MS 1704067200000LL
#define S_STEADY_MS (11 * 60 * 1000LL)

typedef struct {
    uint64_t devices;
    uint32_t minutes, parallelism;
    uint64_t rate;   /* readings per second of wall clock, all generator subtasks: 0 = unpaced */
    bool backend[2]; /* memory, rocksdb */
    bool p95[2];     /* without, with */
    bool ckpt_off, ckpt_on; /* checkpoints off; every ckpt_ms */
    int64_t ckpt_ms, timeout_ms;
    bool kill, json, keep;
    char sets[S_MAX_SETS][512];
    int nsets;
} s_opts_t;

static const char *const s_backends[] = {"memory", "rocksdb"};

typedef struct {
    int backend; /* index into s_backends */
    bool p95;
    int64_t ckpt_ms; /* 0: off */
    bool kill;
} s_config_t;

typedef struct {
    uint64_t id;
    int64_t duration_ms, alignment_ms;
    uint64_t full, incremental;
    int64_t watermark; /* the job's when the checkpoint was first seen (INT64_MIN: not known) */
    bool completed;
} s_ckpt_t;

typedef struct {
    s_config_t c;
    bool done;
    char state[16];
    int64_t duration_ms;
    double events_s;
    uint32_t restarts;
    int64_t recovery_ms; /* -1: no kill */
    uint32_t nckpt;      /* completed */
    int64_t ck_p50_ms, ck_max_ms;
    int64_t ck_ms[S_LIST_CKPTS];    /* the first completed ones' durations, in order */
    uint64_t ck_incr[S_LIST_CKPTS]; /* and their incremental sizes (bytes) */
    uint32_t nck_ms;
    int64_t align_max_ms; /* the longest barrier alignment of any subtask in any checkpoint */
    uint64_t full_max, incr_p50;
    double incr_ratio; /* incremental / full after the first two checkpoints, p50 */
    uint32_t nsteady;  /* checkpoints completed in the steady state (S_STEADY_MS) */
    uint64_t steady_incr_p50;
    double steady_ratio; /* incremental / full in the steady state, p50 */
    uint64_t rss_jm, rss_tm[S_TMS];
} s_result_t;

typedef struct {
    const s_opts_t *o;
    wr_bench_procs_t ps;
    wr_bench_proc_t jm, tm[S_TMS];
    char run_dir[PATH_MAX], jm_ep[64];
    wr_node_t *client;
    char job[WR_JOB_ID_MAX];
    s_ckpt_t *ckpts;
    uint32_t nckpts;
    s_result_t runs[S_MAX_RUNS];
    uint32_t nruns;
} s_bench_t;

static uint64_t s_events(const s_opts_t *o)
{
    return o->devices * o->minutes * 6; /* a reading every 10 s of event time */
}

/* ---- one run's cluster ---- */

static int s_start_tm(s_bench_t *b, int i)
{
    char *argv[S_MAX_ARGV] = {
        b->ps.exe,      "taskmanager", "--id",  b->tm[i].name,
        "--jobmanager", b->jm_ep,      "--set", "taskmanager.numberOfTaskSlots=1"};
    int rc = wr_bench_spawn_weir(&b->ps, &b->tm[i], argv, 8, b->o->sets, b->o->nsets);
    if (!rc) rc = wr_bench_wait_log(&b->ps, &b->tm[i], "registered with", S_START_MS);
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(S_CMD, NULL, "%s did not register (%s): %s", b->tm[i].name, b->tm[i].log,
                     wr_strerror(rc));
    return rc;
}

static int s_start_cluster(s_bench_t *b, const s_config_t *c)
{
    snprintf(b->run_dir, sizeof b->run_dir, "%s/run-%u", b->ps.dir, b->nruns + 1);
    int rc = wr_fs_mkdirs(b->run_dir);
    if (rc) {
        wr_cli_error(S_CMD, NULL, "cannot make %s: %s", b->run_dir, wr_strerror(rc));
        return rc;
    }
    if ((b->jm.port = wr_bench_free_port()) < 0) {
        wr_cli_error(S_CMD, NULL, "no free port on 127.0.0.1");
        return WR_EIO;
    }
    char bind[64], backend[64], interval[64], ck[PATH_MAX + 32], rocks[PATH_MAX + 48];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", b->jm.port);
    snprintf(b->jm_ep, sizeof b->jm_ep, "%s", bind);
    snprintf(backend, sizeof backend, "state.backend=%s", s_backends[c->backend]);
    snprintf(interval, sizeof interval, "execution.checkpointing.interval=%lldms",
             (long long)c->ckpt_ms);
    snprintf(ck, sizeof ck, "state.checkpoints.dir=%s/ck", b->run_dir);
    /* (the JobManager's key: it tells each subtask where its store goes) */
    snprintf(rocks, sizeof rocks, "state.backend.rocksdb.localdir=%s/rocksdb", b->run_dir);
    char *argv[S_MAX_ARGV] = {b->ps.exe, "jobmanager", "--id",  "jm-1",  "--bind",
                              bind,      "--set",      backend, "--set", interval,
                              "--set",   ck,           "--set", rocks};
    rc = wr_bench_spawn_weir(&b->ps, &b->jm, argv, 14, b->o->sets, b->o->nsets);
    if (!rc) rc = wr_bench_wait_log(&b->ps, &b->jm, "leading the cluster", S_START_MS);
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(S_CMD, NULL, "the JobManager did not start (%s): %s", b->jm.log,
                     wr_strerror(rc));
    for (int i = 0; i < S_TMS && !rc; i++)
        rc = s_start_tm(b, i);
    if (rc) return rc;
    /* as the CLI's client node: not tracked by the cluster */
    wr_node_opts_t no = {.id = "bench.iot",
                         .threads = 1,
                         .heartbeat_timeout_ms = 5000,
                         .keys_dir = b->ps.curve ? b->ps.keys : NULL,
                         .cert = "bench"};
    if (!(b->client = wr_node_new(&no, &rc)) && !rc) rc = WR_ENOMEM;
    if (!rc) rc = wr_node_connect(b->client, "jm-1", b->jm_ep);
    if (rc) wr_cli_error(S_CMD, NULL, "cannot start a client node: %s", wr_strerror(rc));
    return rc;
}

static void s_stop_cluster(s_bench_t *b)
{
    for (int i = 0; i < S_TMS; i++)
        wr_bench_kill(&b->tm[i]);
    wr_bench_kill(&b->jm);
    wr_node_destroy(&b->client);
}

/* ---- the job ---- */

static const char s_topology[] =
    "name: iot-bench\nparallelism: %u\nmax_parallelism: 128\n"
    "sources:\n  - {type: generator, devices: %llu, interval: 10s, rate: %llu, total: %llu, "
    "start: 2024-01-01T00:00:00Z, jitter: 2s, late_fraction: 0.0001, late_by: 3min, seed: 42}\n"
    "operators:\n  - filter: temperature > -40 && temperature < 125\n"
    "key_by: device\n"
    "event_time: {field: ts, max_out_of_orderness: 5s, idle_timeout: 30s}\n"
    "window: {type: sliding, size: 10min, slide: 1min, allowed_lateness: 1min}\n"
    "aggregates:\n  readings: count()\n  avg_temp: avg(temperature)\n"
    "  min_temp: min(temperature)\n  max_temp: max(temperature)\n%s"
    "sinks:\n  - type: stdout\n";

static int s_submit(s_bench_t *b, const s_config_t *c)
{
    const s_opts_t *o = b->o;
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    wr_strbuf_addf(&text, s_topology, o->parallelism, (unsigned long long)o->devices,
                   (unsigned long long)o->rate, (unsigned long long)s_events(o),
                   c->p95 ? "  p95_temp: p95(temperature)\n" : "");
    int rc = wr_bench_submit(&b->ps, b->client, "jm-1/" WR_JOBMANAGER_PATH, text.buf, b->job);
    wr_strbuf_release(&text);
    return rc;
}

typedef struct {
    char state[16];
    uint32_t attempt, restarts, subtasks, running;
    int64_t duration_ms, latest_ckpt;
    int64_t watermark; /* the least of its operators' (INT64_MIN: one has none yet) */
} s_view_t;

static int s_ask_job(s_bench_t *b, s_view_t *v)
{
    wr_msg_job_reply_t r;
    wr_msg_t *answer = wr_cli_job(b->client, "jm-1/" WR_JOBMANAGER_PATH, S_ASK_MS, b->job, &r);
    if (!answer) return WR_ETIMEDOUT;
    *v = (s_view_t){.attempt = r.attempt,
                    .restarts = r.restarts,
                    .duration_ms = r.duration_ms,
                    .latest_ckpt = r.latest_checkpoint,
                    .watermark = r.operators.n ? INT64_MAX : INT64_MIN};
    snprintf(v->state, sizeof v->state, "%.*s", (int)r.state.len, r.state.s);
    for (uint32_t o = 0; o < r.operators.n; o++) {
        if (r.operators.v[o].watermark < v->watermark) v->watermark = r.operators.v[o].watermark;
        for (uint32_t s = 0; s < r.operators.v[o].subtasks.n; s++) {
            v->subtasks++;
            v->running += wr_strv_eq(r.operators.v[o].subtasks.v[s].state, "running");
        }
    }
    wr_msg_job_reply_release(&r);
    wr_msg_destroy(&answer);
    return 0;
}

/* Merges the JobManager's recent checkpoints (it keeps the newest few) into b->ckpts by id; one
 * not seen before gets watermark, the job's as last asked (INT64_MIN: not known). */
static int s_ask_ckpts(s_bench_t *b, int64_t watermark)
{
    wr_msg_job_ref_t req;
    snprintf(req.job, sizeof req.job, "%s", b->job);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_msg_t *answer = NULL;
    int rc = wr_proto_pack(&wr_msg_job_ref_decl, &req, &sb);
    if (!rc)
        rc = wr_node_request(b->client, "jm-1/" WR_JOBMANAGER_PATH, WR_MSG_CKPT_LIST_REQ, sb.data,
                             sb.size, S_ASK_MS, &answer);
    msgpack_sbuffer_destroy(&sb);
    if (!rc && answer->type != WR_MSG_CKPT_LIST_REPLY) rc = WR_EPROTO;
    wr_msg_ckpt_list_reply_t r;
    if (!rc &&
        !(rc = wr_proto_decode(&wr_msg_ckpt_list_reply_decl, answer->data, answer->len, &r))) {
        for (uint32_t i = 0; i < r.checkpoints.n; i++) {
            const wr_msg_ckpt_stat_t *st = &r.checkpoints.v[i];
            if (!wr_strv_eq(st->kind, "checkpoint")) continue;
            uint32_t k = 0;
            while (k < b->nckpts && b->ckpts[k].id != st->id)
                k++;
            if (k == b->nckpts && b->nckpts == S_MAX_CKPTS) continue;
            int64_t wm = k < b->nckpts ? b->ckpts[k].watermark : watermark;
            if (k == b->nckpts) b->nckpts++;
            b->ckpts[k] = (s_ckpt_t){.id = st->id,
                                     .watermark = wm,
                                     .duration_ms = st->duration_ms,
                                     .alignment_ms = st->alignment_ms,
                                     .full = st->full_size,
                                     .incremental = st->incremental_size,
                                     .completed = wr_strv_eq(st->status, "COMPLETED")};
        }
        wr_msg_ckpt_list_reply_release(&r);
    }
    wr_msg_destroy(&answer);
    return rc;
}

static void s_peaks(s_bench_t *b, s_result_t *r)
{
    uint64_t v = wr_bench_peak_rss(&b->jm);
    if (v > r->rss_jm) r->rss_jm = v;
    for (int i = 0; i < S_TMS; i++)
        if ((v = wr_bench_peak_rss(&b->tm[i])) > r->rss_tm[i]) r->rss_tm[i] = v;
}

static uint32_t s_completed(const s_bench_t *b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nckpts; i++)
        n += b->ckpts[i].completed;
    return n;
}

/* Kills tm-1, starts it again, and measures until the job runs again in a later attempt. */
static int s_kill_and_recover(s_bench_t *b, const s_view_t *before, s_result_t *r)
{
    s_peaks(b, r);
    int64_t killed = wr_bench_ms();
    wr_bench_kill(&b->tm[0]);
    int rc = s_start_tm(b, 0);
    for (s_view_t v; !rc;) {
        if (!s_ask_job(b, &v) && v.attempt > before->attempt && !strcmp(v.state, "RUNNING") &&
            v.subtasks && v.running == v.subtasks) {
            r->recovery_ms = wr_bench_ms() - killed;
            return 0;
        }
        if (wr_bench_ms() - killed > S_RECOVER_MS) {
            wr_cli_error(S_CMD, NULL, "job %s did not run again within %d s of the kill", b->job,
                         S_RECOVER_MS / 1000);
            return WR_ETIMEDOUT;
        }
        if (!wr_bench_nap(&b->ps, S_POLL_MS)) return WR_BENCH_STOPPED;
    }
    return rc;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The checkpoint figures of a finished run from b->ckpts. */
static void s_ckpt_figures(const s_bench_t *b, s_result_t *r)
{
    int64_t d[S_MAX_CKPTS], incr[S_MAX_CKPTS], ratio[S_MAX_CKPTS]; /* ratio in 1/10000 */
    int64_t sincr[S_MAX_CKPTS], sratio[S_MAX_CKPTS];               /* the steady state's */
    uint32_t n = 0, m = 0, ns = 0;
    for (uint32_t i = 0; i < b->nckpts; i++) {
        const s_ckpt_t *c = &b->ckpts[i];
        if (!c->completed) continue;
        d[n++] = c->duration_ms;
        if (r->nck_ms < S_LIST_CKPTS) {
            r->ck_incr[r->nck_ms] = c->incremental;
            r->ck_ms[r->nck_ms++] = c->duration_ms;
        }
        if (c->alignment_ms > r->align_max_ms) r->align_max_ms = c->alignment_ms;
        if (c->full > r->full_max) r->full_max = c->full;
        if (n > 2 && c->full) { /* the steady state: after the first two */
            incr[m] = (int64_t)c->incremental;
            ratio[m++] = (int64_t)(c->incremental * 10000 / c->full);
        }
        if (c->full && c->watermark != INT64_MIN && c->watermark - S_ORIGIN_MS >= S_STEADY_MS) {
            sincr[ns] = (int64_t)c->incremental;
            sratio[ns++] = (int64_t)(c->incremental * 10000 / c->full);
        }
    }
    r->nckpt = n;
    if (n) {
        qsort(d, n, sizeof *d, s_cmp_i64);
        r->ck_p50_ms = d[(n - 1) / 2];
        r->ck_max_ms = d[n - 1];
    }
    if (m) {
        qsort(incr, m, sizeof *incr, s_cmp_i64);
        qsort(ratio, m, sizeof *ratio, s_cmp_i64);
        r->incr_p50 = (uint64_t)incr[(m - 1) / 2];
        r->incr_ratio = (double)ratio[(m - 1) / 2] / 10000.0;
    }
    if ((r->nsteady = ns)) {
        qsort(sincr, ns, sizeof *sincr, s_cmp_i64);
        qsort(sratio, ns, sizeof *sratio, s_cmp_i64);
        r->steady_incr_p50 = (uint64_t)sincr[(ns - 1) / 2];
        r->steady_ratio = (double)sratio[(ns - 1) / 2] / 10000.0;
    }
}

/* One run: a fresh cluster, the job to its end, the figures into r. */
static int s_run_one(s_bench_t *b, const s_config_t *c, s_result_t *r)
{
    *r = (s_result_t){.c = *c, .recovery_ms = -1};
    b->nckpts = 0;
    int rc = s_start_cluster(b, c);
    if (!rc) rc = s_submit(b, c);
    bool killed = false;
    s_view_t v = {.watermark = INT64_MIN};
    for (int64_t t0 = wr_bench_ms(); !rc;) {
        if (!wr_bench_nap(&b->ps, S_POLL_MS * 5)) {
            rc = WR_BENCH_STOPPED;
            break;
        }
        s_peaks(b, r);
        if (s_ask_job(b, &v)) continue; /* busy: ask again */
        if (c->ckpt_ms) s_ask_ckpts(b, v.watermark);
        if (strcmp(v.state, "RUNNING") && strcmp(v.state, "CREATED") &&
            strcmp(v.state, "RESTARTING"))
            break;
        if (c->kill && !killed && s_completed(b) >= 2) {
            killed = true;
            rc = s_kill_and_recover(b, &v, r);
        }
        if (!rc && wr_bench_ms() - t0 > b->o->timeout_ms) {
            wr_cli_error(S_CMD, "a smaller --devices or --minutes, or a longer --timeout",
                         "job %s did not finish within %lld s", b->job,
                         (long long)(b->o->timeout_ms / 1000));
            rc = WR_ETIMEDOUT;
        }
    }
    if (!rc && strcmp(v.state, "FINISHED")) {
        wr_cli_error(S_CMD, NULL, "job %s ended %s", b->job, v.state);
        rc = WR_EIO;
    }
    if (!rc && c->kill && !killed) {
        wr_cli_error(S_CMD, "a larger --devices or --minutes, or a shorter checkpoint interval",
                     "job %s finished before its second checkpoint completed: nothing was killed",
                     b->job);
        rc = WR_EINVAL;
    }
    if (!rc) {
        if (c->ckpt_ms) s_ask_ckpts(b, v.watermark);
        s_peaks(b, r);
        r->done = true;
        snprintf(r->state, sizeof r->state, "%s", v.state);
        r->duration_ms = v.duration_ms;
        r->restarts = v.restarts;
        r->events_s =
            v.duration_ms > 0 ? (double)s_events(b->o) * 1000.0 / (double)v.duration_ms : 0;
        s_ckpt_figures(b, r);
    }
    if (rc && rc != WR_BENCH_STOPPED) {
        const wr_bench_proc_t *all[] = {&b->jm, &b->tm[0], &b->tm[1]};
        wr_bench_dump_logs(all, 3);
    }
    s_stop_cluster(b);
    return rc;
}

/* ---- the figures ---- */

/* The run of b with backend, p95 and checkpoints as given, without a kill unless kill; NULL. */
static const s_result_t *s_find(const s_bench_t *b, int backend, bool p95, bool ckpt, bool kill)
{
    for (uint32_t i = 0; i < b->nruns; i++) {
        const s_result_t *r = &b->runs[i];
        if (r->done && r->c.backend == backend && r->c.p95 == p95 && (r->c.ckpt_ms > 0) == ckpt &&
            r->c.kill == kill)
            return r;
    }
    return NULL;
}

static double s_ratio(const s_result_t *x, const s_result_t *base)
{
    return x && base && base->events_s > 0 ? x->events_s / base->events_s : 0;
}

/* "10s", or "500ms" when not whole seconds; into buf. */
static const char *s_interval(int64_t ms, char buf[32])
{
    if (ms % 1000)
        snprintf(buf, 32, "%lldms", (long long)ms);
    else
        snprintf(buf, 32, "%llds", (long long)ms / 1000);
    return buf;
}

static void s_print_text(const s_bench_t *b)
{
    char every[32];
    printf("%-8s %-4s %-6s %-4s %12s %8s %5s %15s %6s %10s %10s %6s %9s %26s\n", "backend", "p95",
           "ckpts", "kill", "events/s", "seconds", "ckpts", "ckpt p50/max ms", "align", "full max",
           "incr p50", "incr/f", "recovery", "peak RSS MB jm/tm-1/tm-2");
    for (uint32_t i = 0; i < b->nruns; i++) {
        const s_result_t *r = &b->runs[i];
        char rec[32] = "-";
        snprintf(every, sizeof every, "off");
        if (r->c.ckpt_ms) s_interval(r->c.ckpt_ms, every);
        if (r->recovery_ms >= 0) snprintf(rec, sizeof rec, "%lld ms", (long long)r->recovery_ms);
        printf("%-8s %-4s %-6s %-4s %12.0f %8.1f %5u %7lld/%-7lld %6lld %10llu %10llu %6.3f %9s "
               "%8llu/%llu/%llu\n",
               s_backends[r->c.backend], r->c.p95 ? "yes" : "no", every, r->c.kill ? "yes" : "no",
               r->events_s, (double)r->duration_ms / 1000.0, r->nckpt, (long long)r->ck_p50_ms,
               (long long)r->ck_max_ms, (long long)r->align_max_ms, (unsigned long long)r->full_max,
               (unsigned long long)r->incr_p50, r->incr_ratio, rec,
               (unsigned long long)(r->rss_jm >> 20), (unsigned long long)(r->rss_tm[0] >> 20),
               (unsigned long long)(r->rss_tm[1] >> 20));
    }
    for (uint32_t i = 0; i < b->nruns; i++) {
        const s_result_t *r = &b->runs[i];
        if (!r->nck_ms) continue;
        printf("run %u's checkpoints, ms in order:", i + 1);
        for (uint32_t k = 0; k < r->nck_ms; k++)
            printf(" %lld", (long long)r->ck_ms[k]);
        printf("%s\n", r->nckpt > r->nck_ms ? " ..." : "");
        printf("run %u's checkpoints, MB written (incremental) in order:", i + 1);
        for (uint32_t k = 0; k < r->nck_ms; k++)
            printf(" %.0f", (double)r->ck_incr[k] / 1e6);
        printf("%s\n", r->nckpt > r->nck_ms ? " ..." : "");
        char goal[32] = ""; /* (issue 17 sets it for the memory backend) */
        if (!r->c.backend)
            snprintf(goal, sizeof goal, " (goal <= 0.2: %s)",
                     r->steady_ratio <= 0.2 ? "met" : "NOT met");
        if (!r->nsteady)
            printf("run %u's steady state: none (no checkpoint after 11 minutes of event time, "
                   "when the window is full: --minutes 15 or more)\n",
                   i + 1);
        else
            printf("run %u's steady state (the window full): %u checkpoints, incremental p50 "
                   "%.0f MB, %.3f of full%s\n",
                   i + 1, r->nsteady, (double)r->steady_incr_p50 / 1e6, r->steady_ratio, goal);
    }
    for (int k = 0; k < 2; k++) {
        for (int p = 0; p < 2; p++) {
            const s_result_t *off = s_find(b, k, p, false, false),
                             *on = s_find(b, k, p, true, false);
            if (!off || !on) continue;
            bool goals = k == 0; /* issue 17 sets these two goals for the memory backend */
            printf("%s, %s p95: checkpoints every %s / off = %.2f", s_backends[k],
                   p ? "with" : "without", s_interval(on->c.ckpt_ms, every), s_ratio(on, off));
            if (goals) printf(" (goal >= 0.8: %s)", s_ratio(on, off) >= 0.8 ? "met" : "NOT met");
            printf("; checkpoint max %lld ms", (long long)on->ck_max_ms);
            if (goals) printf(" (goal <= 2000: %s)", on->ck_max_ms <= 2000 ? "met" : "NOT met");
            printf("\n");
        }
        const s_result_t *killed = k == 1 ? s_find(b, k, true, true, true) : NULL;
        if (killed) /* and this one for rocksdb with p95 */
            printf("%s, with p95, checkpoints every %s, one kill: %.2f M events/s (goal >= 3 M: "
                   "%s), recovery %lld ms (goal <= 2000: %s)\n",
                   s_backends[k], s_interval(killed->c.ckpt_ms, every), killed->events_s / 1e6,
                   killed->events_s >= 3e6 ? "met" : "NOT met", (long long)killed->recovery_ms,
                   killed->recovery_ms >= 0 && killed->recovery_ms <= 2000 ? "met" : "NOT met");
        for (int ck = 0; ck < 2; ck++) {
            const s_result_t *with = s_find(b, k, true, ck, false),
                             *without = s_find(b, k, false, ck, false);
            if (with && without)
                printf("%s, checkpoints %s: with p95 / without = %.2f (goal >= 0.6: %s)\n",
                       s_backends[k], ck ? "on" : "off", s_ratio(with, without),
                       s_ratio(with, without) >= 0.6 ? "met" : "NOT met");
        }
    }
}

static void s_print_json(const s_bench_t *b)
{
    const s_opts_t *o = b->o;
    wr_strbuf_t j, mj;
    wr_strbuf_init(&j);
    wr_strbuf_init(&mj);
    wr_strbuf_addf(&j,
                   "{\"bench\":\"iot\",%s\"devices\":%llu,\"minutes\":%u,\"events\":%llu,"
                   "\"parallelism\":%u,\"taskmanagers\":%d,\"dir\":\"%s\",\"runs\":[",
                   wr_bench_machine_member(&mj), (unsigned long long)o->devices, o->minutes,
                   (unsigned long long)s_events(o), o->parallelism, S_TMS, b->ps.dir);
    for (uint32_t i = 0; i < b->nruns; i++) {
        const s_result_t *r = &b->runs[i];
        const s_result_t *off = s_find(b, r->c.backend, r->c.p95, false, false),
                         *nop95 = s_find(b, r->c.backend, false, r->c.ckpt_ms > 0, r->c.kill);
        wr_strbuf_addf(
            &j,
            "%s{\"backend\":\"%s\",\"p95\":%s,\"checkpoint_interval_ms\":%lld,\"kill\":%s,"
            "\"events_per_s\":%.0f,\"duration_ms\":%lld,\"restarts\":%u,\"recovery_ms\":%lld,"
            "\"checkpoints\":%u,\"checkpoint_p50_ms\":%lld,\"checkpoint_max_ms\":%lld,"
            "\"alignment_max_ms\":%lld,\"full_size_max\":%llu,\"incremental_size_p50\":%llu,"
            "\"incremental_ratio_p50\":%.4f,\"steady_checkpoints\":%u,"
            "\"steady_incremental_size_p50\":%llu,\"steady_incremental_ratio_p50\":%.4f,"
            "\"peak_rss\":{\"jm\":%llu,\"tm-1\":%llu,\"tm-2\":%llu},"
            "\"ratio_to_checkpoints_off\":%.3f,\"ratio_to_no_p95\":%.3f,"
            "\"checkpoint_durations_ms\":[",
            i ? "," : "", s_backends[r->c.backend], r->c.p95 ? "true" : "false",
            (long long)r->c.ckpt_ms, r->c.kill ? "true" : "false", r->events_s,
            (long long)r->duration_ms, r->restarts, (long long)r->recovery_ms, r->nckpt,
            (long long)r->ck_p50_ms, (long long)r->ck_max_ms, (long long)r->align_max_ms,
            (unsigned long long)r->full_max, (unsigned long long)r->incr_p50, r->incr_ratio,
            r->nsteady, (unsigned long long)r->steady_incr_p50, r->steady_ratio,
            (unsigned long long)r->rss_jm, (unsigned long long)r->rss_tm[0],
            (unsigned long long)r->rss_tm[1], r->c.ckpt_ms ? s_ratio(r, off) : 1.0,
            r->c.p95 ? s_ratio(r, nop95) : 1.0);
        for (uint32_t k = 0; k < r->nck_ms; k++)
            wr_strbuf_addf(&j, "%s%lld", k ? "," : "", (long long)r->ck_ms[k]);
        wr_strbuf_adds(&j, "],\"checkpoint_incremental_bytes\":[");
        for (uint32_t k = 0; k < r->nck_ms; k++)
            wr_strbuf_addf(&j, "%s%llu", k ? "," : "", (unsigned long long)r->ck_incr[k]);
        wr_strbuf_adds(&j, "]}");
    }
    wr_strbuf_adds(&j, "]}\n");
    fputs(j.buf, stdout);
    wr_strbuf_release(&j);
    wr_strbuf_release(&mj);
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench iot [--devices N] [--minutes N] [--backends LIST] [--p95 LIST]\n"
    "                      [--checkpoints LIST] [--kill] [--parallelism N] [--timeout DURATION]\n"
    "                      [--rate N] [--set KEY=VALUE]... [--json] [--keep]\n"
    "\n"
    "Runs the seed's job (examples/iot.yaml, bounded: --devices devices reporting every 10 s of\n"
    "event time for --minutes minutes, into 10-minute windows sliding by 1 minute, count/avg/\n"
    "min/max with and without p95, to stdout) on a JobManager and two TaskManagers of one slot\n"
    "each, processes of this binary on free 127.0.0.1 ports started afresh for every run, in a\n"
    "temp folder removed at the end. One run for each combination of the lists; prints each run's\n"
    "events/s end to end, checkpoint durations and sizes (full, and incremental in the steady\n"
    "state), the recovery after a kill, every process's peak RSS, and the ratios: checkpoints\n"
    "on / off and p95 / none, against the goals of issue 17.\n"
    "Every process it started is killed on any exit, Ctrl-C included.\n"
    "\n"
    "  --devices N         devices (default 5000000)\n"
    "  --minutes N         minutes of event time (default 10: 300M readings with 5M devices)\n"
    "  --backends LIST     memory,rocksdb (default both)\n"
    "  --p95 LIST          with,without (default both)\n"
    "  --checkpoints LIST  off and/or an interval, e.g. off,10s (default off,10s)\n"
    "  --kill              run each combination with checkpoints once more, killing tm-1 with\n"
    "                      SIGKILL after its second checkpoint and starting it again (the\n"
    "                      recovery is measured)\n"
    "  --parallelism N     of the job (default 2)\n"
    "  --timeout DURATION  a run that takes longer fails (default 30min)\n"
    "  --rate N            readings per second of wall clock, both generator subtasks together\n"
    "                      (default 0: as fast as they go; a paced job lasts at least\n"
    "                      readings / N seconds, long enough for a kill on any machine)\n"
    "  --set KEY=VALUE     configuration of every daemon\n"
    "  --json              one JSON object\n"
    "  --keep              keep the temp folder (every daemon's log) and say where\n";

/* Parses a comma-separated list whose items are each one of names: flags[i] set for names[i]. */
static bool s_list(const char *arg, const char *const names[2], bool flags[2])
{
    flags[0] = flags[1] = false;
    char buf[64];
    if ((size_t)snprintf(buf, sizeof buf, "%s", arg) >= sizeof buf) return false;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = !strcmp(t, names[0]) ? 0 : !strcmp(t, names[1]) ? 1 : -1;
        if (k < 0) return false;
        flags[k] = true;
    }
    return flags[0] || flags[1];
}

/* --checkpoints: "off" and/or one interval. */
static bool s_ckpt_list(const char *arg, s_opts_t *o)
{
    o->ckpt_off = o->ckpt_on = false;
    char buf[64];
    if ((size_t)snprintf(buf, sizeof buf, "%s", arg) >= sizeof buf) return false;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "off")) {
            o->ckpt_off = true;
        } else {
            if (o->ckpt_on || wr_config_parse_value(WR_CFG_DURATION, t, &o->ckpt_ms) ||
                o->ckpt_ms < 100)
                return false;
            o->ckpt_on = true;
        }
    }
    return o->ckpt_off || o->ckpt_on;
}

static int s_parse(int argc, char **argv, s_opts_t *o, wr_cli_cfg_t *cc)
{
    static const struct option opts[] = {{"devices", required_argument, NULL, 'd'},
                                         {"minutes", required_argument, NULL, 'm'},
                                         {"backends", required_argument, NULL, 'b'},
                                         {"p95", required_argument, NULL, 'p'},
                                         {"checkpoints", required_argument, NULL, 'c'},
                                         {"kill", no_argument, NULL, 'k'},
                                         {"parallelism", required_argument, NULL, 'P'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"set", required_argument, NULL, 'S'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"keep", no_argument, NULL, 'K'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char *const backends[2] = {"memory", "rocksdb"}, *const p95[2] = {"without",
                                                                                   "with"};
    uint64_t v = 0;
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        const char *bad = NULL; /* what the option wanted, when its value is wrong */
        switch (c) {
        case 'd':
            if (!wr_cli_count(optarg, 1, 100000000, &v)) bad = "1 to 100000000";
            o->devices = v;
            break;
        case 'm':
            if (!wr_cli_count(optarg, 1, 1440, &v)) bad = "1 to 1440";
            o->minutes = (uint32_t)v;
            break;
        case 'b':
            if (!s_list(optarg, backends, o->backend)) bad = "memory, rocksdb or both";
            break;
        case 'p':
            if (!s_list(optarg, p95, o->p95)) bad = "with, without or both";
            break;
        case 'c':
            if (!s_ckpt_list(optarg, o)) bad = "off and/or one interval of at least 100ms";
            break;
        case 'k':
            o->kill = true;
            break;
        case 'r':
            if (!wr_cli_count(optarg, 0, 1000000000, &v)) bad = "0 to 1000000000";
            o->rate = v;
            break;
        case 'P':
            if (!wr_cli_count(optarg, 1, 2, &v)) bad = "1 or 2 (two TaskManagers of one slot)";
            o->parallelism = (uint32_t)v;
            break;
        case 't':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o->timeout_ms) ||
                o->timeout_ms < 1000)
                bad = "a duration of at least 1s";
            break;
        case 'S': /* a copy for the daemons: wr_cli_cfg_set_arg cuts optarg at its '=' */
            if (o->nsets == S_MAX_SETS)
                bad = "one of at most 16 --set";
            else if ((size_t)snprintf(o->sets[o->nsets], sizeof o->sets[0], "%s", optarg) >=
                     sizeof o->sets[0])
                bad = "KEY=VALUE of at most 511 bytes";
            else if (wr_cli_cfg_set_arg(cc, S_CMD, optarg))
                return WR_EXIT_USAGE;
            else
                o->nsets++;
            break;
        case 'J':
            o->json = true;
            break;
        case 'K':
            o->keep = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (bad) {
            wr_cli_error(S_CMD, "see weir bench iot --help", "--%s: '%s' is not %s", opts[li].name,
                         optarg, bad);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error(S_CMD, "it takes options only (see weir bench iot --help)",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    if (o->kill && !o->ckpt_on) {
        wr_cli_error(S_CMD, "add an interval to --checkpoints",
                     "--kill needs checkpoints: a run without them fails at the kill");
        return WR_EXIT_USAGE;
    }
    return -1; /* go on */
}

int wr_bench_iot(int argc, char **argv)
{
    s_opts_t o = {.devices = 5000000,
                  .minutes = 10,
                  .parallelism = 2,
                  .backend = {true, true},
                  .p95 = {true, true},
                  .ckpt_off = true,
                  .ckpt_on = true,
                  .ckpt_ms = 10000,
                  .timeout_ms = 30 * 60 * 1000};
    wr_cli_cfg_t cc = {0};
    int code = s_parse(argc, argv, &o, &cc);
    if (code >= 0) return code;
    wr_config_t *cfg = wr_cli_cfg_build(&cc, S_CMD, &code); /* the daemons' settings, checked */
    if (!cfg) return code;
    bool curve = wr_config_bool(cfg, "security.curve");
    wr_config_destroy(&cfg);
    wr_cli_block_signals(); /* before any thread: sleeps wait for SIGINT/SIGTERM instead */
    s_bench_t b = {.o = &o};
    snprintf(b.jm.name, sizeof b.jm.name, "jm-1");
    for (int i = 0; i < S_TMS; i++) {
        snprintf(b.tm[i].name, sizeof b.tm[i].name, "tm-%d", i + 1);
        b.tm[i].quiet = true; /* the job's stdout sink */
    }
    int rc = WR_ENOMEM;
    if (!(b.ckpts = calloc(S_MAX_CKPTS, sizeof *b.ckpts)))
        wr_cli_error(S_CMD, NULL, "out of memory");
    else
        rc = wr_bench_procs_init(&b.ps, S_CMD, "iot");
    static const char *const names[] = {"jm-1", "tm-1", "tm-2"};
    static const wr_role_t roles[] = {WR_ROLE_JOBMANAGER, WR_ROLE_TASKMANAGER, WR_ROLE_TASKMANAGER};
    if (!rc) rc = wr_bench_keys(&b.ps, names, roles, 3, "bench", curve);
    if (!rc && !o.json) {
        wr_bench_machine_print(stdout);
        printf("iot bench: JobManager + %d TaskManagers of 1 slot on 127.0.0.1 (%s); job: "
               "%llu devices x %u min of event time = %llu readings -> filter -> key by -> "
               "sliding window 10 min/1 min -> stdout (/dev/null), parallelism %u\n",
               S_TMS, b.ps.dir, (unsigned long long)o.devices, o.minutes,
               (unsigned long long)s_events(&o), o.parallelism);
        fflush(stdout);
    }
    for (int k = 0; k < 2 && !rc; k++)
        for (int p = 1; p >= 0 && !rc; p--)
            for (int ck = 0; ck < 3 && !rc; ck++) { /* off, on, on with a kill */
                if (!o.backend[k] || !o.p95[p] || !(ck ? o.ckpt_on : o.ckpt_off) ||
                    (ck == 2 && !o.kill))
                    continue;
                s_config_t c = {
                    .backend = k, .p95 = p, .ckpt_ms = ck ? o.ckpt_ms : 0, .kill = ck == 2};
                rc = s_run_one(&b, &c, &b.runs[b.nruns]);
                if (!rc) b.nruns++;
                if (!rc && !o.json) {
                    const s_result_t *r = &b.runs[b.nruns - 1];
                    printf("run %u: %s, %s p95, checkpoints %s%s: %.0f events/s\n", b.nruns,
                           s_backends[k], p ? "with" : "without", ck ? "on" : "off",
                           c.kill ? ", one kill" : "", r->events_s);
                    fflush(stdout);
                }
            }
    s_stop_cluster(&b);
    wr_bench_procs_release(&b.ps, o.keep);
    free(b.ckpts);
    if (b.ps.signal) {
        return wr_cli_stopped(S_CMD, b.ps.signal, "every process stopped");
    }
    if (!rc) {
        if (o.json)
            s_print_json(&b);
        else
            s_print_text(&b);
    }
    fflush(stdout);
    if (o.keep && b.ps.dir[0])
        fprintf(stderr, "weir %s: the logs are kept in %s\n", S_CMD, b.ps.dir);
    return rc ? WR_EXIT_FAIL : WR_EXIT_OK;
}
