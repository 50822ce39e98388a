/* weir chaos: fault injection with a verdict (issue 13).
 *
 *   cluster   three etcd members, two JobManagers with HA through etcd (jm-a, jm-b) and three
 *             TaskManagers with 2 slots each (tm-1..3), each a child process on this machine,
 *             every link between them through the chaos proxy (cli/chaos_cluster.h), CURVE on,
 *             in a temp folder removed at the end (unless --keep). Settings a user would run:
 *             heartbeat.timeout 2 s, restart-strategy fixed-delay 500 ms, the default lease
 *             (high-availability.etcd.lease-ttl 3 s); --set changes any of them.
 *   job       the verifiable job (cli/chaos_check.h): generator of --devices devices at --rate
 *             records/s, --rate x --duration records in all -> key by -> sliding window ->
 *             exactly-once file sink (--sink at-least-once: the one-file sink), parallelism 3,
 *             checkpoints every --checkpoint-interval. Or --topology FILE: the user's job
 *             (cli/chaos_topology.h), first run to its end without faults (the reference: its
 *             sinks in ref/), then run again (sinks in run/) with faults until it finishes
 *             (--duration: the most each run may take); --sink, --devices, --rate and
 *             --test-skip-commit are refused with it (they shape the built-in job only).
 *   faults    a seeded schedule (cli/chaos_nemesis.h, printed first): one fault at a time, the
 *             first once the job completed a checkpoint, each next one --interval (+-30%) after
 *             the previous one started, but not before it healed (and 1 s passed) and, when the
 *             job was disrupted, ran again (waited for up to one more interval), until --duration
 *             since the job first ran.
 *   measures  cli/chaos_watch.h, every 100 ms: per fault the time until the cluster noticed and
 *             until the job ran again; throughput once a second; checkpoints, restarts; the peak
 *             RSS of every process (before each kill and at the end).
 *   the end   everything healed and restarted, the job must FINISH (else the run is invalid, the
 *             reason said: 2 min without progress, or 2 min plus twice --duration after the last
 *             fault: a restart loop), then the checker reads the
 *             committed output and the report is printed: the table (or --json: one object, and
 *             nothing else on stdout), --report FILE.html. --topology: the run's committed lines
 *             against the reference's (cli/chaos_reference.h).
 * Exit: 0 valid, 1 invalid (or the run could not be made), 2 usage, 128 + the signal after
 * SIGINT/SIGTERM (every process stopped, the folder removed). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/cluster/cluster.h"
#include "bus/base/error.h"
#include "cli/bench_machine.h"
#include "cli/bench_procs.h"
#include "cli/chaos_check.h"
#include "cli/chaos_cluster.h"
#include "cli/chaos_nemesis.h"
#include "cli/chaos_opts.h"
#include "cli/chaos_report.h"
#include "cli/chaos_topology.h"
#include "cli/chaos_watch.h"
#include "cli/cli.h"
#include "cli/status_line.h"
#include "cli/status_tty.h"

#define S_CMD          "chaos"
#define S_POLL_MS      100
#define S_LIVE_MS      250
#define S_START_MS     60000 /* the job first runs */
#define S_HEARTBEAT_MS 2000
#define S_RESTART_MS   500
#define S_MAX_FAULTS   4096
#define S_SETTLE_MS    1000   /* at least, from a heal to the next fault */
#define S_STALL_MS     120000 /* after the faults, the longest the job may make no progress */

typedef struct {
    const wr_chaos_opts_t *o;
    wr_bench_procs_t ps;
    wr_chaos_cluster_t *c;
    wr_chaos_watch_t *w;
    wr_chaos_job_t job;
    char sink[PATH_MAX];  /* the built-in job's output; --topology: the run's folder */
    wr_topology_t *topo;  /* --topology: the job, NULL: the built-in one */
    char ref[PATH_MAX];   /* --topology: the reference run's folder */
    bool ended;           /* --topology: the job watched ended (FINISHED, FAILED, CANCELED) */
    int64_t reference_ms; /* --topology: the reference run's wall time, -1 before it ends */
    char id[WR_JOB_ID_MAX];
    int64_t t0; /* wr_bench_ms of the start */
    wr_chaos_plan_t *plan;
    size_t nplan;
    wr_chaos_fault_t *faults;
    size_t nfaults;
    wr_status_tty_t *tty;
    int64_t live_at;
    const char *fault_now; /* the fault in force, "" */
    char reason[256];      /* why the run is invalid besides the checker, "" */
} s_run_t;

/* ---- the live view ---- */

static int64_t s_now(const s_run_t *r)
{
    return wr_bench_ms() - r->t0;
}

static void s_live(s_run_t *r, const wr_chaos_view_t *v, bool force)
{
    if (!r->tty || (!force && s_now(r) - r->live_at < S_LIVE_MS)) return;
    r->live_at = s_now(r);
    const char *leader = v->leader >= 0 ? wr_chaos_cluster_name(r->c, (size_t)v->leader) : "";
    int64_t t = v->first_running >= 0 ? s_now(r) - v->first_running : 0;
    wr_chaos_live_t l = {.t_ms = t,
                         .duration_ms = r->o->duration_ms,
                         .fault = r->fault_now,
                         .job_state = v->answered ? v->state : "?",
                         .leader = v->answered ? leader : "",
                         .rate = v->rate,
                         .records = v->records,
                         .total = r->job.gen.total,
                         .faults_done = r->nfaults,
                         .restarts = v->restarts};
    char line[512];
    wr_chaos_live_line(&l, wr_status_tty_cols(), line, sizeof line);
    wr_status_tty_draw(r->tty, line);
}

/* A plain line on stderr (without a terminal): a fault injected, the job running again. */
static void s_say(s_run_t *r, const char *fmt, const char *what, int64_t ms)
{
    if (r->tty) return;
    fprintf(stderr, "weir chaos: %6.1f s  ", (double)s_now(r) / 1000);
    fprintf(stderr, fmt, what, (double)ms / 1000);
    fputc('\n', stderr);
}

/* One poll (its requests no longer than until the next action at `at`, ms after t0; -1: none),
 * the live line, the "running again" line, then a nap: false on a signal. */
static bool s_tick(s_run_t *r, const wr_chaos_view_t **vp, int64_t at)
{
    bool open = wr_chaos_watch_fault_open(r->w);
    const wr_chaos_view_t *v = wr_chaos_watch_poll(r->w, at < 0 ? INT64_MAX : at - s_now(r));
    if (r->topo && v->answered &&
        (!strcmp(v->state, "FINISHED") || !strcmp(v->state, "FAILED") ||
         !strcmp(v->state, "CANCELED")))
        r->ended = true; /* its own length decides: no more faults */
    /* (a silence that ended as it began closes a fault that disrupted nothing: no line) */
    if (open && !wr_chaos_watch_fault_open(r->w) && r->nfaults &&
        r->faults[r->nfaults - 1].recover_ms >= 0)
        s_say(r, "the job runs again after %s (%.1f s)", r->faults[r->nfaults - 1].target,
              r->faults[r->nfaults - 1].recover_ms);
    s_live(r, v, false);
    if (vp) *vp = v;
    int64_t nap = at < 0 ? S_POLL_MS : at - s_now(r); /* not past the next action */
    return wr_bench_nap(&r->ps, nap < 0 ? 0 : nap > S_POLL_MS ? S_POLL_MS : nap);
}

/* ---- the run ---- */

/* --topology: the job with its sinks under folder dir. */
static int s_submit_topology(s_run_t *r, const char *dir)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_chaos_topo_place(r->topo, dir, &err);
    if (rc) {
        wr_cli_error(S_CMD, NULL, "%s", err.buf);
    } else {
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "jm-a/%s", WR_JOBMANAGER_PATH);
        rc = wr_bench_submit_topology(&r->ps, wr_chaos_watch_client(r->w), to, r->topo, r->id);
    }
    wr_strbuf_release(&err);
    return rc;
}

static int s_submit(s_run_t *r)
{
    if (r->topo) return s_submit_topology(r, r->sink);
    wr_strbuf_t yaml, err;
    wr_strbuf_init(&yaml);
    wr_strbuf_init(&err);
    int rc =
        wr_chaos_job_yaml(&r->job, r->sink, r->o->exactly_once, r->o->skip_commit, &yaml, &err);
    if (rc)
        wr_cli_error(S_CMD, NULL, "the job is out of range: %s", err.buf);
    else {
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "jm-a/%s", WR_JOBMANAGER_PATH);
        rc = wr_bench_submit(&r->ps, wr_chaos_watch_client(r->w), to, yaml.buf, r->id);
    }
    wr_strbuf_release(&yaml);
    wr_strbuf_release(&err);
    return rc;
}

/* Polls until the job is RUNNING with every subtask running. */
static int s_wait_running(s_run_t *r)
{
    const wr_chaos_view_t *v = NULL;
    for (int64_t t0 = wr_bench_ms();;) {
        if (!s_tick(r, &v, -1)) return WR_BENCH_STOPPED;
        if (v->answered && !strcmp(v->state, "RUNNING") && v->subtasks && v->running == v->subtasks)
            return 0;
        if (r->ended) return 0; /* --topology: a job that ended first (s_finish says how) */
        if (wr_bench_ms() - t0 > S_START_MS) {
            wr_cli_error(S_CMD, NULL, "job %s does not run within %d s (%s)", r->id,
                         S_START_MS / 1000, v->state);
            return WR_ETIMEDOUT;
        }
    }
}

/* Naps while polling until at (ms after t0): false on a signal. */
static bool s_until(s_run_t *r, int64_t at)
{
    while (s_now(r) < at && !r->ended)
        if (!s_tick(r, NULL, at)) return false;
    return true;
}

/* The faults, one at a time, until --duration after the job first ran. */
static int s_faults(s_run_t *r, int64_t end)
{
    /* the first fault once a checkpoint completed (a restore has something to start from),
     * or after a gap */
    int64_t next = s_now(r) + r->plan[0].gap_ms;
    for (const wr_chaos_view_t *v = NULL;
         s_now(r) < next && (!v || v->checkpoint <= 0) && !r->ended;)
        if (!s_tick(r, &v, next)) return WR_BENCH_STOPPED;
    next = s_now(r);
    for (size_t k = 0; k < r->nplan && r->nfaults < S_MAX_FAULTS; k++) {
        if (!s_until(r, next < end ? next : end)) return WR_BENCH_STOPPED;
        /* a disrupted job runs again first (one fault at a time), waited for one interval more
         * at most: a cluster that does not recover gets the next faults all the same */
        for (int64_t t = s_now(r); wr_chaos_watch_fault_open(r->w) && !r->ended &&
                                   s_now(r) - t < r->o->interval_ms && s_now(r) < end;)
            if (!s_tick(r, NULL, -1)) return WR_BENCH_STOPPED;
        if (s_now(r) >= end || r->ended) break;
        wr_chaos_plan_t *p = &r->plan[k];
        wr_chaos_fault_t *f = &r->faults[r->nfaults];
        int rc = wr_chaos_nemesis_apply(r->c, p, wr_chaos_watch_poll(r->w, INT64_MAX)->leader, f);
        if (rc) {
            wr_cli_error(S_CMD, NULL, "cannot apply %s: %s", f->what, wr_strerror(rc));
            return rc;
        }
        f->start_ms = s_now(r);
        r->nfaults++;
        wr_chaos_watch_fault_begin(r->w, f);
        r->fault_now = f->what;
        s_say(r, "%s", f->what, 0);
        if (!s_until(r, f->start_ms + p->hold_ms)) return WR_BENCH_STOPPED;
        if ((rc = wr_chaos_nemesis_heal(r->c, p))) {
            wr_cli_error(S_CMD, NULL, "cannot heal %s: %s", f->what, wr_strerror(rc));
            return rc;
        }
        f->end_ms = s_now(r);
        r->fault_now = "";
        /* the next one a gap after this one started, not sooner than a moment after the heal */
        next = f->start_ms + (k + 1 < r->nplan ? r->plan[k + 1].gap_ms : 0);
        if (next < f->end_ms + S_SETTLE_MS) next = f->end_ms + S_SETTLE_MS;
    }
    return 0;
}

/* After the faults: everything healed, the job must finish. */
static int s_finish(s_run_t *r)
{
    int rc = wr_chaos_cluster_heal(r->c);
    if (rc) {
        wr_cli_error(S_CMD, NULL, "cannot restart every process: %s", wr_strerror(rc));
        return rc;
    }
    /* it may still have records to make (a source behind its rate): it fails when it makes none
     * for S_STALL_MS, or runs on past S_STALL_MS + 2 x --duration (a restart loop replays) */
    int64_t cap = S_STALL_MS + 2 * r->o->duration_ms;
    const wr_chaos_view_t *v = NULL;
    uint64_t records = 0;
    for (int64_t t0 = s_now(r), moved = t0;;) {
        if (!s_tick(r, &v, -1)) return WR_BENCH_STOPPED;
        if (v->answered && !strcmp(v->state, "FINISHED")) break;
        if (v->answered && (!strcmp(v->state, "FAILED") || !strcmp(v->state, "CANCELED"))) {
            snprintf(r->reason, sizeof r->reason, "the job ended %s instead of FINISHED", v->state);
            break;
        }
        if (v->records != records) {
            records = v->records;
            moved = s_now(r);
        }
        const char *state = v->answered ? v->state : "no JobManager answers";
        if (s_now(r) - moved > S_STALL_MS) {
            snprintf(r->reason, sizeof r->reason,
                     "the job made no progress for %lld s after the last fault (%s)",
                     (long long)S_STALL_MS / 1000, state);
            break;
        }
        if (s_now(r) - t0 > cap) {
            snprintf(r->reason, sizeof r->reason,
                     "the job did not finish within %lld s of the last fault (%s)",
                     (long long)cap / 1000, state);
            break;
        }
    }
    wr_chaos_watch_fault_end(r->w);
    return 0;
}

/* This process's peak memory (the proxy, the watcher, the checker) as one more row. */
static void s_self_peak(wr_chaos_result_t *res)
{
    struct rusage u;
    if (res->nprocs >= WR_CHAOS_MAX_PROCS || getrusage(RUSAGE_SELF, &u)) return;
    snprintf(res->procs[res->nprocs].name, sizeof res->procs[0].name, "weir chaos");
    res->procs[res->nprocs].peak_rss = (uint64_t)u.ru_maxrss * 1024; /* KiB on Linux */
    res->procs[res->nprocs].starts = 1;
    res->nprocs++;
}

/* One line on stderr as each pass of the check ends. */
static void s_check_progress(void *ctx, const wr_chaos_progress_t *p)
{
    (void)ctx;
    if (p->done)
        fprintf(stderr, "check: pass %u of %u (devices %lld to %lld): %llu results, %llu lines\n",
                p->pass, p->passes, (long long)p->devices_lo, (long long)p->devices_hi - 1,
                (unsigned long long)p->expected, (unsigned long long)p->lines);
}

/* --topology: the reference run, on the cluster before any fault: the job with its sinks in
 * the reference's folder, uninterrupted, to FINISHED within --duration. */
static int s_reference(s_run_t *r)
{
    int rc = s_submit_topology(r, r->ref);
    if (rc) return rc;
    wr_chaos_watch_job(r->w, r->id);
    const wr_chaos_view_t *v = NULL;
    for (int64_t t0 = s_now(r);;) {
        if (!s_tick(r, &v, -1)) return WR_BENCH_STOPPED;
        if (r->ended && strcmp(v->state, "FINISHED")) {
            wr_cli_error(S_CMD, NULL,
                         "the reference run (job %s, no fault) ended %s, not FINISHED: there is "
                         "nothing to compare with",
                         r->id, v->state);
            return WR_EINVAL;
        }
        if (r->ended) {
            FILE *out = r->o->json ? stderr : stdout;
            char took[32];
            r->reference_ms = s_now(r) - t0;
            fprintf(out, "reference run: job %s FINISHED in %s without faults; its output in %s\n",
                    r->id, wr_status_duration(r->reference_ms, took, sizeof took), r->ref);
            fflush(out);
            r->ended = false;
            return 0;
        }
        if (s_now(r) - t0 > r->o->duration_ms) {
            wr_cli_error(S_CMD, "--duration caps each run: give more, or make the job shorter",
                         "the reference run (job %s, no fault) did not finish within %.0f s (%s)",
                         r->id, (double)r->o->duration_ms / 1000, v->state);
            return WR_ETIMEDOUT;
        }
    }
}

static int s_run(s_run_t *r, wr_chaos_result_t *res)
{
    const wr_chaos_opts_t *o = r->o;
    wr_chaos_cluster_opts_t co = {.backend = o->backend,
                                  .checkpoint_ms = o->checkpoint_ms,
                                  .heartbeat_ms = S_HEARTBEAT_MS,
                                  .restart_ms = S_RESTART_MS,
                                  .sets = o->sets,
                                  .nsets = o->nsets};
    int rc = wr_chaos_cluster_new(&r->ps, &co, &r->c);
    if (rc) return rc;
    size_t max = (size_t)(o->duration_ms / (o->interval_ms * 7 / 10)) + 2;
    if (max > S_MAX_FAULTS) max = S_MAX_FAULTS;
    r->plan = calloc(max, sizeof *r->plan);
    r->faults = calloc(max, sizeof *r->faults);
    if (!r->plan || !r->faults) {
        wr_cli_error(S_CMD, NULL, "out of memory");
        return WR_ENOMEM;
    }
    r->nplan =
        wr_chaos_nemesis_schedule(o->seed, o->faults, o->targets, o->interval_ms, r->plan, max);
    FILE *out = o->json ? stderr : stdout;
    fprintf(out,
            "schedule (seed %llu; +gap from the previous fault's start, or once the previous one "
            "healed and the job runs again; the first once a checkpoint completed; \"the leader\" "
            "is the JobManager leading then):\n",
            (unsigned long long)o->seed);
    for (size_t k = 0; k < r->nplan; k++) {
        char what[160];
        wr_chaos_nemesis_describe(&r->plan[k], r->c, "the leader", what, sizeof what);
        if (k)
            fprintf(out, "  %2zu  +%4.1f s: %s\n", k + 1, (double)r->plan[k].gap_ms / 1000, what);
        else
            fprintf(out, "  %2zu  first: %s\n", k + 1, what);
    }
    fflush(out);
    if ((rc = wr_chaos_watch_new(&r->ps, r->c, r->t0, &r->w))) return rc;
    if (r->topo && (rc = s_reference(r))) return rc;
    res->reference_ms = r->reference_ms;
    if ((rc = s_submit(r))) return rc;
    wr_chaos_watch_job(r->w, r->id);
    if ((rc = s_wait_running(r))) return rc;
    const wr_chaos_view_t *v = wr_chaos_watch_poll(r->w, INT64_MAX);
    if (!(rc = s_faults(r, v->first_running + o->duration_ms)) && r->topo)
        res->duration_ms = s_now(r) - v->first_running; /* the job's own length decided */
    if (!rc) rc = s_finish(r);
    if (rc) return rc;
    wr_chaos_cluster_peaks(r->c, res);
    wr_chaos_watch_result(r->w, res);
    /* every process stopped before the check: at the seed's scale their memory is the checker's
     * (and the checker's own peak is this process's, the proxy's too) */
    wr_chaos_cluster_destroy(&r->c);
    res->faults = r->faults;
    res->nfaults = r->nfaults;
    if (r->reason[0]) {
        wr_cli_error(S_CMD, NULL, "invalid run: %s", r->reason);
        res->verdict.valid = false;
        s_self_peak(res);
        return 0;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    if (r->topo)
        rc = wr_chaos_topo_compare(r->topo, r->ref, r->sink, &res->verdict, &err);
    else {
        wr_chaos_check_opts_t copts = {.progress = o->json ? NULL : s_check_progress};
        rc = wr_chaos_check(&r->job, r->sink, &copts, &res->verdict, &err);
    }
    if (rc) {
        snprintf(r->reason, sizeof r->reason, "the output cannot be checked: %s", err.buf);
        wr_cli_error(S_CMD, NULL, "invalid run: %s", r->reason);
        res->verdict.valid = false;
        rc = 0;
    }
    wr_strbuf_release(&err);
    s_self_peak(res);
    return rc;
}

/* --topology: the reference run's folder and the fault run's, in the run's. */
static int s_run_folders(s_run_t *r)
{
    snprintf(r->ref, sizeof r->ref, "%s/ref", r->ps.dir);
    snprintf(r->sink, sizeof r->sink, "%s/run", r->ps.dir);
    const char *dirs[] = {r->ref, r->sink};
    for (int i = 0; i < 2; i++)
        if (mkdir(dirs[i], 0755)) {
            wr_cli_error(S_CMD, NULL, "cannot make %s: %s", dirs[i], strerror(errno));
            return WR_EIO;
        }
    return 0;
}

/* The run's first lines: the schedule's seed, the job, the settings and the folder. */
static void s_header(const s_run_t *r, const wr_chaos_result_t *res)
{
    const wr_chaos_opts_t *o = r->o;
    FILE *out = o->json ? stderr : stdout;
    const char *faults = o->faults == (1u << WR_CHAOS_NKINDS) - 1 ? "all" : "some";
    if (r->topo)
        fprintf(out,
                "weir chaos: seed %llu, faults (%s) every %.1f s +-30%% until the job finishes "
                "(for %lld s at most); job: %s (its output compared with that of a run without "
                "faults first), %s backend, checkpoints every %lld ms; ",
                (unsigned long long)o->seed, faults, (double)o->interval_ms / 1000,
                (long long)o->duration_ms / 1000, o->topology, o->backend,
                (long long)o->checkpoint_ms);
    else
        fprintf(out,
                "weir chaos: seed %llu, %lld s of faults (%s) every %.1f s +-30%%; job: %llu "
                "devices, %llu records/s, %llu records, %s backend, %s sink, checkpoints every "
                "%lld ms; ",
                (unsigned long long)o->seed, (long long)o->duration_ms / 1000, faults,
                (double)o->interval_ms / 1000, (unsigned long long)o->devices,
                (unsigned long long)o->rate, (unsigned long long)r->job.gen.total, o->backend,
                res->sink, (long long)o->checkpoint_ms);
    fprintf(out,
            "heartbeat.timeout %d ms, restart fixed-delay %d ms; folder %s\n"
            "throughput: the growth of the sources' records_out within each attempt "
            "(a new attempt counts from 0; replayed records count)\n",
            S_HEARTBEAT_MS, S_RESTART_MS, r->ps.dir);
    fflush(out);
}

/* ---- the command ---- */

/* The report: the table (or JSON) on stdout, the HTML page (each says res->reason, why the run is
 * invalid besides the checker's counts, when there is one). 0, or WR_EIO for the page. */
static int s_report(const wr_chaos_opts_t *o, const wr_chaos_result_t *res)
{
    int rc = 0;
    if (o->json) {
        wr_strbuf_t j;
        wr_strbuf_init(&j);
        if (!(rc = wr_chaos_report_json(res, &j))) printf("%s\n", j.buf);
        wr_strbuf_release(&j);
    } else {
        wr_chaos_report_table(res, stdout);
    }
    fflush(stdout);
    if (!rc && o->report) {
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        if ((rc = wr_chaos_report_html(res, o->report, &err)))
            wr_cli_error(S_CMD, NULL, "cannot write %s: %s", o->report, err.buf);
        wr_strbuf_release(&err);
    }
    return rc;
}

int wr_cmd_chaos(int argc, char **argv)
{
    wr_chaos_opts_t o;
    int code = wr_chaos_opts_parse(argc, argv, &o);
    if (code) return code < 0 ? WR_EXIT_OK : code;
    s_run_t r = {.o = &o, .fault_now = "", .reference_ms = -1};
    wr_chaos_job_default(&r.job);
    r.job.gen.devices = o.devices;
    r.job.gen.rate = o.rate;
    r.job.gen.total = o.rate * (uint64_t)o.duration_ms / 1000;
    if (o.topology) { /* the user's job, checked before anything starts */
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        int rc = wr_chaos_topo_load(o.topology, &r.topo, &err);
        if (rc) wr_cli_error(S_CMD, "see weir chaos --help", "--topology: %s", err.buf);
        wr_strbuf_release(&err);
        if (rc) return rc == WR_ENOMEM ? WR_EXIT_FAIL : WR_EXIT_USAGE;
    } else { /* the job's range and the faults' choice are usage errors: before anything starts */
        wr_strbuf_t yaml, err;
        wr_strbuf_init(&yaml);
        wr_strbuf_init(&err);
        int rc = wr_chaos_job_yaml(&r.job, "/tmp/x", o.exactly_once, o.skip_commit, &yaml, &err);
        if (rc) wr_cli_error(S_CMD, "see weir chaos --help", "the job: %s", err.buf);
        wr_strbuf_release(&yaml);
        wr_strbuf_release(&err);
        if (rc) return WR_EXIT_USAGE;
    }
    if (access(WR_BENCH_ETCD_BIN, X_OK)) {
        wr_cli_error(S_CMD, "install etcd (Debian: etcd-server)", "%s: %s", WR_BENCH_ETCD_BIN,
                     strerror(errno));
        wr_topology_destroy(&r.topo);
        return WR_EXIT_FAIL;
    }
    wr_cli_block_signals(); /* before any thread: sleeps wait for SIGINT/SIGTERM instead */
    wr_chaos_result_t res = {.seed = o.seed,
                             .duration_ms = o.duration_ms,
                             .devices = r.topo ? 0 : o.devices,
                             .records = r.topo ? 0 : r.job.gen.total,
                             .reference_ms = -1};
    if (o.topology) snprintf(res.topology, sizeof res.topology, "%s", o.topology);
    snprintf(res.backend, sizeof res.backend, "%s", o.backend);
    snprintf(res.sink, sizeof res.sink, "%s",
             r.topo           ? "topology"
             : o.exactly_once ? "exactly-once"
                              : "at-least-once");
    wr_bench_machine_t m;
    wr_bench_machine(&m);
    snprintf(res.cpu, sizeof res.cpu, "%s", m.cpu);
    r.t0 = wr_bench_ms();
    int rc = wr_bench_procs_init(&r.ps, S_CMD, "chaos");
    if (!rc && r.topo)
        rc = s_run_folders(&r);
    else if (!rc)
        snprintf(r.sink, sizeof r.sink, "%s/%s", r.ps.dir, o.exactly_once ? "out" : "out.jsonl");
    if (!rc) {
        s_header(&r, &res);
        if (isatty(STDERR_FILENO)) r.tty = wr_status_tty_new(false);
        rc = s_run(&r, &res);
        wr_status_tty_destroy(&r.tty);
        if (rc && rc != WR_BENCH_STOPPED && r.c) wr_chaos_cluster_dump_logs(r.c);
    }
    wr_chaos_cluster_destroy(&r.c);
    res.wall_ms = wr_bench_ms() - r.t0;
    snprintf(res.reason, sizeof res.reason, "%s", r.reason);
    if (!rc && !r.ps.signal) rc = s_report(&o, &res) ? WR_EIO : 0; /* samples: r.w's */
    wr_chaos_watch_destroy(&r.w);
    wr_bench_procs_release(&r.ps, o.keep);
    free(r.plan);
    free(r.faults);
    wr_topology_destroy(&r.topo);
    if (o.keep && r.ps.dir[0])
        fprintf(stderr, "weir %s: the run's folder is kept: %s\n", S_CMD, r.ps.dir);
    if (r.ps.signal) {
        return wr_cli_stopped(S_CMD, r.ps.signal, "every process stopped");
    }
    if (rc) return WR_EXIT_FAIL;
    return res.verdict.valid ? WR_EXIT_OK : WR_EXIT_FAIL;
}
