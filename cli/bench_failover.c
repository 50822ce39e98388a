/* weir bench failover: the time a job stops when its JobManager leader is killed, against the time
 * it stops when a TaskManager is (the baseline, measured in the same run).
 *
 *   cluster   a one-member etcd (/usr/bin/etcd), --jms JobManagers (jm-a, jm-b, jm-c) and two
 *             TaskManagers (tm-1, tm-2), each a child process of this binary on free 127.0.0.1
 *             ports, with the default HA settings (--set adds to every daemon's configuration),
 *             in a temp folder removed at the end. The children run in their own process group
 *             (a Ctrl-C reaches only this command, which kills them) and die with it
 *             (PR_SET_PDEATHSIG) should it be killed itself.
 *   job       generator (2 subtasks, --rate records/s, unbounded) -> key by device -> sliding
 *             window 2 min / 30 s -> exactly-once file sink, checkpoints every second: 2 slots
 *             (slot sharing), so it may run on one TaskManager alone.
 *   leader    --kills times: SIGKILL to the JobManager that answers for the job, then the clock
 *             runs until a JobManager answers JOB_REQ with the job RUNNING in a later attempt and
 *             every subtask "running" (asked every 50 ms; a standby answers NOT_LEADER at once).
 *             The killed JobManager is started again after that (a standby for the next kill).
 *   baseline  --tm-kills times: SIGKILL to a TaskManager that runs subtasks of the job (tm-1 and
 *             tm-2 in turn when both do), started again at once under its id (as an orchestrator
 *             would; the cluster keeps two), and the same clock.
 * Between kills: a checkpoint completed after the recovery, then --steady of steady state (plus
 * up to 1 s more, so that kills do not fall in step with the lease renewals).
 *
 * Where the time goes comes from the daemons' logs (WEIR_LOG=info, wall-clock timestamps to the
 * millisecond): for a leader kill, the new leader's "leading the cluster", its first TaskManager
 * registration and its "deploying"; for a TaskManager kill, the leader's "failed over", the
 * TaskManager's registration and "deploying". */
#include "cli/bench_failover.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/jobmanager/jobmanager.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/messages.h"
#include "bus/proto.h"
#include "cli/bench_machine.h"
#include "cli/bench_procs.h"
#include "cli/cli.h"

#define S_CMD         "bench failover"
#define S_MAX_JMS     3
#define S_TMS         2
#define S_MAX_SETS    16
#define S_POLL_MS     50
#define S_ASK_MS      3000  /* one JOB_REQ to a live JobManager (a busy one may be slow) */
#define S_START_MS    30000 /* a daemon says it started; the job first runs */
#define S_RECOVER_MS  60000 /* the job runs again after a kill */
#define S_CKPT_MS     30000 /* a checkpoint completes after a recovery */
#define S_GOAL_P50_MS 5000
#define S_GOAL_MAX_MS 8000
#define S_GOAL_TM_MS  2000
#define S_MAX_ARGV    (26 + 2 * S_MAX_SETS)

typedef struct {
    uint32_t jms, kills, tm_kills, rate;
    int64_t steady_ms;
    char sets[S_MAX_SETS][512]; /* KEY=VALUE of --set, in order */
    int nsets;
    bool json, keep;
} s_opts_t;

/* Where the time of one recovery went, in ms after the kill (-1: not in the logs). */
typedef struct {
    int64_t total;
    int64_t granted;    /* leader: the new leader leads; TaskManager: the leader fails the job */
    int64_t registered; /* the first (leader kill) or the killed TaskManager registered */
    int64_t deploying;
    char from[WR_NODE_MAX], to[WR_NODE_MAX]; /* the killed daemon and the leader after */
} s_sample_t;

/* What a JobManager says of the job. */
typedef struct {
    char state[16];
    uint32_t attempt, subtasks, running;
    int64_t ckpt;   /* latest completed checkpoint */
    unsigned hosts; /* bit t: TaskManager t runs a subtask of the job */
} s_view_t;

typedef struct {
    const s_opts_t *o;
    wr_bench_procs_t ps;
    char etcd_url[64];
    char ck_set[PATH_MAX + 32], rocks_set[PATH_MAX + 48];
    char sinks_set[PATH_MAX + 32]; /* the job's sink writes into the run's folder */
    wr_bench_proc_t etcd, jm[S_MAX_JMS], tm[S_TMS];
    bool curve; /* security.curve of the daemons' configuration */
    wr_node_t *client;
    char job[WR_JOB_ID_MAX];
    int leader;            /* the JobManager that last answered for the job */
    int ask_rc[S_MAX_JMS]; /* s_ask's last result for each JobManager (WR_EAGAIN: a standby) */
    s_sample_t *leader_samples, *tm_samples;
    uint32_t n_leader, n_tm;
} s_bench_t;

/* ---- time ---- */

/* Wall-clock milliseconds of the day (UTC), as the daemons' log lines start. */
static int64_t s_wall_ms_of_day(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)(ts.tv_sec % 86400) * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the daemons ---- */

static int s_start_jm(s_bench_t *b, int i)
{
    wr_bench_proc_t *p = &b->jm[i];
    char bind[64];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", p->port);
    char *argv[S_MAX_ARGV] = {
        b->ps.exe, "jobmanager", "--id",   p->name,
        "--bind",  bind,         "--etcd", b->etcd_url,
        "--set",   b->ck_set,    "--set",  "execution.checkpointing.interval=1s",
        "--set",   b->sinks_set, "--set",  b->rocks_set};
    return wr_bench_spawn_weir(&b->ps, p, argv, 16, b->o->sets, b->o->nsets);
}

static int s_start_tm(s_bench_t *b, int i)
{
    wr_bench_proc_t *p = &b->tm[i];
    char *argv[S_MAX_ARGV] = {b->ps.exe, "taskmanager", "--id", p->name, "--etcd", b->etcd_url};
    return wr_bench_spawn_weir(&b->ps, p, argv, 6, b->o->sets, b->o->nsets);
}

/* Starts a daemon and waits for its line: 0, or the failure (said on stderr). */
static int s_start_wait(s_bench_t *b, wr_bench_proc_t *p, int (*start)(s_bench_t *, int), int i,
                        const char *needle)
{
    int rc = start(b, i);
    if (!rc) rc = wr_bench_wait_log(&b->ps, p, needle, S_START_MS);
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(S_CMD, NULL, "%s did not start (\"%s\" not in %s): %s", p->name, needle,
                     p->log, wr_strerror(rc));
    return rc;
}

/* ---- asking a JobManager about the job ---- */

/* JOB_REQ straight to JobManager i (a standby's NOT_LEADER is not followed: it may name the dead
 * leader while its lease lasts). 0 with *v filled when it answered JOB_REPLY. */
static int s_ask(s_bench_t *b, int i, s_view_t *v)
{
    wr_msg_job_ref_t req;
    snprintf(req.job, sizeof req.job, "%s", b->job);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/%s", b->jm[i].name, WR_JOBMANAGER_PATH);
    wr_msg_t *answer = NULL;
    int rc = wr_proto_pack(&wr_msg_job_ref_decl, &req, &sb);
    if (!rc)
        rc = wr_node_request(b->client, to, WR_MSG_JOB_REQ, sb.data, sb.size, S_ASK_MS, &answer);
    msgpack_sbuffer_destroy(&sb);
    if (!rc && answer->type != WR_MSG_JOB_REPLY) rc = WR_EAGAIN; /* NOT_LEADER, or an error */
    wr_msg_job_reply_t r;
    if (!rc && !(rc = wr_proto_decode(&wr_msg_job_reply_decl, answer->data, answer->len, &r))) {
        *v = (s_view_t){.attempt = r.attempt, .ckpt = r.latest_checkpoint};
        snprintf(v->state, sizeof v->state, "%.*s", (int)r.state.len, r.state.s);
        for (uint32_t o = 0; o < r.operators.n; o++)
            for (uint32_t s = 0; s < r.operators.v[o].subtasks.n; s++) {
                v->subtasks++;
                const wr_msg_subtask_place_t *sp = &r.operators.v[o].subtasks.v[s];
                v->running += wr_strv_eq(sp->state, "running");
                for (int t = 0; t < S_TMS; t++)
                    if (wr_strv_eq(sp->node, b->tm[t].name)) v->hosts |= 1u << t;
            }
        wr_msg_job_reply_release(&r);
    }
    wr_msg_destroy(&answer);
    return rc;
}

/* Asks every running JobManager, the last leader first, until one answers for the job: its index
 * (b->leader) with *v, or -1. */
static int s_poll(s_bench_t *b, s_view_t *v)
{
    for (uint32_t k = 0; k < b->o->jms; k++) {
        int i = (b->leader + (int)k) % (int)b->o->jms;
        if (b->jm[i].pid > 0 && !(b->ask_rc[i] = s_ask(b, i, v))) return b->leader = i;
    }
    return -1;
}

/* Polls every S_POLL_MS until the job is RUNNING in attempt min_attempt or later with every
 * subtask running: 0 with *v and *at (ms, wr_now_ns's clock, when that answer came). WR_EIO when
 * the job ended, WR_ETIMEDOUT, WR_BENCH_STOPPED on a signal. */
static int s_wait_running(s_bench_t *b, uint32_t min_attempt, int64_t timeout_ms, s_view_t *v,
                          int64_t *at)
{
    for (int64_t t0 = wr_bench_ms();;) {
        if (s_poll(b, v) >= 0) {
            *at = wr_bench_ms();
            if (!strcmp(v->state, "RUNNING") && v->attempt >= min_attempt && v->subtasks &&
                v->running == v->subtasks)
                return 0;
            if (!strcmp(v->state, "FAILED") || !strcmp(v->state, "CANCELED") ||
                !strcmp(v->state, "FINISHED"))
                return WR_EIO;
        }
        if (wr_bench_ms() - t0 > timeout_ms) return WR_ETIMEDOUT;
        if (!wr_bench_nap(&b->ps, S_POLL_MS)) return WR_BENCH_STOPPED;
    }
}

/* Waits for a checkpoint after `after`, then for the steady state (plus a jitter under 1 s). */
static int s_steady(s_bench_t *b, int64_t after)
{
    s_view_t v = {0};
    for (int64_t t0 = wr_bench_ms(); s_poll(b, &v) < 0 || v.ckpt <= after;) {
        if (wr_bench_ms() - t0 > S_CKPT_MS) {
            wr_cli_error(S_CMD, NULL, "no checkpoint of job %s completed within %d s", b->job,
                         S_CKPT_MS / 1000);
            return WR_ETIMEDOUT;
        }
        if (!wr_bench_nap(&b->ps, 100)) return WR_BENCH_STOPPED;
    }
    return wr_bench_nap(&b->ps, b->o->steady_ms + wr_now_ns() % 1000000000 / 1000000)
               ? 0
               : WR_BENCH_STOPPED;
}

/* ---- the logs ---- */

/* The ms after kill_ms (of the day) of the nth line of the log at path, at or after the kill,
 * that holds needle and, when given, needle2; -1 when there is none. */
static int64_t s_log_at(const char *path, int64_t kill_ms, const char *needle, const char *needle2,
                        int nth)
{
    char *text = wr_bench_slurp(path);
    int64_t found = -1;
    int seen = 0;
    for (char *line = text, *next; line && *line && found < 0; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        int h, m, s, ms, used = 0;
        if (sscanf(line, "%2d:%2d:%2d.%3d weir %n", &h, &m, &s, &ms, &used) != 4 || !used) continue;
        int64_t d = ((int64_t)h * 3600 + m * 60 + s) * 1000 + ms - kill_ms;
        if (d < -43200000) d += 86400000; /* past midnight */
        if (d >= 0 && strstr(line, needle) && (!needle2 || strstr(line, needle2)) && ++seen == nth)
            found = d;
        if (!next) break;
    }
    free(text);
    return found;
}

/* ---- one kill ---- */

/* Kills the leader (or, with tm >= 0, TaskManager tm or, when that one runs none of the job, the
 * other) and measures until the job runs again. */
static int s_kill_one(s_bench_t *b, int tm, s_sample_t *out)
{
    s_view_t v = {0};
    int64_t at;
    int rc = s_wait_running(b, 0, S_START_MS, &v, &at); /* it ran a moment ago */
    if (rc) {
        if (rc != WR_BENCH_STOPPED)
            wr_cli_error(S_CMD, NULL,
                         "before a kill, job %s is not running: %s (%s; the last answers: %s, "
                         "%s%s%s)",
                         b->job, wr_strerror(rc), v.state, wr_strerror(b->ask_rc[0]),
                         wr_strerror(b->ask_rc[1]), b->o->jms > 2 ? ", " : "",
                         b->o->jms > 2 ? wr_strerror(b->ask_rc[2]) : "");
        return rc;
    }
    if (tm >= 0 && !(v.hosts & 1u << tm)) tm = (tm + 1) % S_TMS; /* slot sharing: maybe on one */
    int killed = b->leader;
    wr_bench_proc_t *victim = tm >= 0 ? &b->tm[tm] : &b->jm[killed];
    snprintf(out->from, sizeof out->from, "%s", victim->name);
    int64_t kill_wall = s_wall_ms_of_day(), t_kill = wr_bench_ms();
    wr_bench_kill(victim);
    rc = tm >= 0 ? s_start_tm(b, tm) : 0; /* back at once, as an orchestrator would do */
    int64_t t_run = 0;
    if (!rc) rc = s_wait_running(b, v.attempt + 1, S_RECOVER_MS, &v, &t_run);
    if (rc) {
        if (rc != WR_BENCH_STOPPED)
            wr_cli_error(S_CMD, NULL, "job %s did not run again within %d s of killing %s: %s",
                         b->job, S_RECOVER_MS / 1000, out->from, wr_strerror(rc));
        return rc;
    }
    out->total = t_run - t_kill;
    const char *log = b->jm[b->leader].log;
    snprintf(out->to, sizeof out->to, "%s", b->jm[b->leader].name);
    if (tm >= 0) {
        out->granted = s_log_at(log, kill_wall, "failed over", NULL, 1);
        out->registered = s_log_at(log, kill_wall, victim->name, " registered with ", 1);
    } else {
        out->granted = s_log_at(log, kill_wall, "leading the cluster", NULL, 1);
        out->registered =
            s_log_at(log, kill_wall, "jobmanager: taskmanager ", " registered with ", 1);
    }
    out->deploying = s_log_at(log, kill_wall, " deploying", NULL, 1);
    if (tm < 0)
        rc = s_start_wait(b, &b->jm[killed], s_start_jm, killed, "candidate for the leadership");
    return rc ? rc : s_steady(b, v.ckpt);
}

/* n kills of the leader (or of TaskManagers, tm-1 and tm-2 in turn) into samples; *done counts
 * those measured. Prints each (without --json). */
static int s_measure(s_bench_t *b, bool tms, uint32_t n, s_sample_t *samples, uint32_t *done)
{
    static const char leader_fmt[] =
        "leader kill %u: %lld ms (%s -> %s: leading +%lld, first TaskManager registered +%lld, ";
    static const char tm_fmt[] = "TaskManager kill %u: %lld ms (%s, leader %s: job failed over "
                                 "+%lld, TaskManager registered +%lld, ";
    int rc = 0;
    for (uint32_t k = 0; k < n && !rc; k++) {
        const s_sample_t *s = &samples[k];
        if ((rc = s_kill_one(b, tms ? (int)(k % S_TMS) : -1, &samples[k]))) break;
        (*done)++;
        if (b->o->json) continue;
        printf(tms ? tm_fmt : leader_fmt, k + 1, (long long)s->total, s->from, s->to,
               (long long)s->granted, (long long)s->registered);
        printf("deploying +%lld, running +%lld)\n", (long long)s->deploying, (long long)s->total);
        fflush(stdout);
    }
    return rc;
}

/* ---- the run ---- */

static const char s_topology[] =
    "name: failover-bench\nparallelism: 2\nsources:\n"
    "  - {type: generator, parallelism: 2, devices: 1000, total: 0, jitter: 1s, late_fraction: 0, "
    "seed: 7, rate: %u}\n"
    "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
    "window: {type: sliding, size: 2min, slide: 30s}\n"
    "aggregates:\n  n: count()\n  s: sum(temperature)\n"
    "sinks:\n  - {type: file, path: %s/out, exactly_once: true}\n";

static int s_submit(s_bench_t *b)
{
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    wr_strbuf_addf(&text, s_topology, b->o->rate, b->ps.dir);
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/%s", b->jm[0].name, WR_JOBMANAGER_PATH);
    int rc = wr_bench_submit(&b->ps, b->client, to, text.buf, b->job);
    wr_strbuf_release(&text);
    return rc;
}

static int s_run(s_bench_t *b)
{
    const s_opts_t *o = b->o;
    snprintf(b->ck_set, sizeof b->ck_set, "state.checkpoints.dir=%s/ck", b->ps.dir);
    snprintf(b->sinks_set, sizeof b->sinks_set, "security.paths.sinks=%s", b->ps.dir);
    snprintf(b->rocks_set, sizeof b->rocks_set, "state.backend.rocksdb.localdir=%s/rocksdb",
             b->ps.dir);
    snprintf(b->etcd.name, sizeof b->etcd.name, "etcd");
    for (uint32_t i = 0; i < o->jms; i++) {
        snprintf(b->jm[i].name, sizeof b->jm[i].name, "jm-%c", 'a' + i);
        if ((b->jm[i].port = wr_bench_free_port()) < 0) {
            wr_cli_error(S_CMD, NULL, "no free port on 127.0.0.1: %s", strerror(errno));
            return WR_EIO;
        }
    }
    for (int i = 0; i < S_TMS; i++)
        snprintf(b->tm[i].name, sizeof b->tm[i].name, "tm-%d", i + 1);
    const char *names[S_MAX_JMS + S_TMS];
    wr_role_t roles[S_MAX_JMS + S_TMS];
    size_t n = 0;
    for (uint32_t i = 0; i < o->jms; i++, n++) {
        names[n] = b->jm[i].name;
        roles[n] = WR_ROLE_JOBMANAGER;
    }
    for (int i = 0; i < S_TMS; i++, n++) {
        names[n] = b->tm[i].name;
        roles[n] = WR_ROLE_TASKMANAGER;
    }
    int rc = wr_bench_keys(&b->ps, names, roles, n, "bench", b->curve);
    if (!rc) rc = wr_bench_start_etcd(&b->ps, &b->etcd, b->etcd_url);
    /* jm-a first, so that it leads; then the standbys */
    for (uint32_t i = 0; i < o->jms && !rc; i++)
        rc = s_start_wait(b, &b->jm[i], s_start_jm, (int)i,
                          i ? "candidate for the leadership" : "leading the cluster");
    for (int i = 0; i < S_TMS && !rc; i++)
        rc = s_start_wait(b, &b->tm[i], s_start_tm, i, "registered with");
    if (rc) return rc;
    /* as the CLI's client node: not tracked by the cluster, waits client.timeout for a peer */
    wr_node_opts_t no = {.id = "bench.failover",
                         .threads = 1,
                         .heartbeat_timeout_ms = 5000,
                         .keys_dir = b->ps.curve ? b->ps.keys : NULL,
                         .cert = "bench"};
    if (!(b->client = wr_node_new(&no, &rc)) && !rc) rc = WR_ENOMEM;
    for (uint32_t i = 0; i < o->jms && !rc; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", b->jm[i].port);
        rc = wr_node_connect(b->client, b->jm[i].name, ep);
    }
    if (rc) {
        wr_cli_error(S_CMD, NULL, "cannot start a client node: %s", wr_strerror(rc));
        return rc;
    }
    if ((rc = s_submit(b))) return rc;
    s_view_t v = {0};
    int64_t at;
    rc = s_wait_running(b, 0, S_START_MS, &v, &at);
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(S_CMD, NULL, "job %s does not run: %s (%s)", b->job, wr_strerror(rc), v.state);
    if (!rc) rc = s_steady(b, 0); /* checkpoint ids start at 1 */
    if (!rc) rc = s_measure(b, false, o->kills, b->leader_samples, &b->n_leader);
    if (!rc) rc = s_measure(b, true, o->tm_kills, b->tm_samples, &b->n_tm);
    return rc;
}

/* Kills every child, stops the client, removes the folder (unless --keep); the samples stay. */
static void s_cleanup(s_bench_t *b)
{
    for (int i = 0; i < S_TMS; i++)
        wr_bench_kill(&b->tm[i]);
    for (int i = 0; i < S_MAX_JMS; i++)
        wr_bench_kill(&b->jm[i]);
    wr_bench_kill(&b->etcd);
    wr_node_destroy(&b->client);
    wr_bench_procs_release(&b->ps, b->o->keep);
}

/* ---- the figures ---- */

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int64_t p50, max;
} s_stats_t;

/* p50 (the lower median) and max of the samples' totals; zeros for none. */
static s_stats_t s_stats(const s_sample_t *s, uint32_t n)
{
    s_stats_t st = {0};
    int64_t *v = n ? calloc(n, sizeof *v) : NULL;
    if (!v) return st;
    for (uint32_t i = 0; i < n; i++)
        v[i] = s[i].total;
    qsort(v, n, sizeof *v, s_cmp);
    st.p50 = v[(n - 1) / 2];
    st.max = v[n - 1];
    free(v);
    return st;
}

static void s_json_samples(wr_strbuf_t *j, const char *name, const s_sample_t *s, uint32_t n,
                           s_stats_t st)
{
    wr_strbuf_addf(j, "\"%s\":{\"count\":%u,\"p50_ms\":%lld,\"max_ms\":%lld,\"samples\":[", name, n,
                   (long long)st.p50, (long long)st.max);
    for (uint32_t i = 0; i < n; i++)
        wr_strbuf_addf(j,
                       "%s{\"ms\":%lld,\"killed\":\"%s\",\"leader_after\":\"%s\","
                       "\"first_step_ms\":%lld,\"registered_ms\":%lld,\"deploying_ms\":%lld}",
                       i ? "," : "", (long long)s[i].total, s[i].from, s[i].to,
                       (long long)s[i].granted, (long long)s[i].registered,
                       (long long)s[i].deploying);
    wr_strbuf_adds(j, "]},");
}

static void s_print(const s_bench_t *b, const wr_config_t *cfg)
{
    const s_opts_t *o = b->o;
    s_stats_t l = s_stats(b->leader_samples, b->n_leader), t = s_stats(b->tm_samples, b->n_tm);
    bool leader_ok = b->n_leader && l.p50 <= S_GOAL_P50_MS && l.max <= S_GOAL_MAX_MS;
    bool tm_ok = b->n_tm && t.max <= S_GOAL_TM_MS;
    double ratio = b->n_leader && b->n_tm && t.p50 > 0 ? (double)l.p50 / (double)t.p50 : 0;
    long long ttl = (long long)wr_config_int(cfg, "high-availability.etcd.lease-ttl"),
              renew = (long long)wr_config_int(cfg, "high-availability.etcd.renew-interval"),
              hb = (long long)wr_config_int(cfg, "heartbeat.timeout"),
              delay = (long long)wr_config_int(cfg, "restart-strategy.fixed-delay.delay");
    if (o->json) {
        wr_strbuf_t j, mj;
        wr_strbuf_init(&j);
        wr_strbuf_init(&mj);
        wr_strbuf_addf(&j,
                       "{\"bench\":\"failover\",%s\"jobmanagers\":%u,\"taskmanagers\":%d,"
                       "\"rate\":%u,\"checkpoint_interval_ms\":1000,\"steady_ms\":%lld,"
                       "\"lease_ttl_ms\":%lld,\"renew_interval_ms\":%lld,"
                       "\"heartbeat_timeout_ms\":%lld,\"restart_delay_ms\":%lld,\"dir\":\"%s\",",
                       wr_bench_machine_member(&mj), o->jms, S_TMS, o->rate,
                       (long long)o->steady_ms, ttl, renew, hb, delay, b->ps.dir);
        s_json_samples(&j, "leader_loss", b->leader_samples, b->n_leader, l);
        s_json_samples(&j, "taskmanager_loss", b->tm_samples, b->n_tm, t);
        wr_strbuf_addf(&j,
                       "\"ratio_p50\":%.3f,\"goal_leader_p50_ms\":%d,\"goal_leader_max_ms\":%d,"
                       "\"goal_leader_met\":%s,\"goal_taskmanager_ms\":%d,"
                       "\"goal_taskmanager_met\":%s}\n",
                       ratio, S_GOAL_P50_MS, S_GOAL_MAX_MS, leader_ok ? "true" : "false",
                       S_GOAL_TM_MS, tm_ok ? "true" : "false");
        fputs(j.buf, stdout);
        wr_strbuf_release(&j);
        wr_strbuf_release(&mj);
        return;
    }
    if (b->n_leader)
        printf("leader loss:      p50 %lld ms, max %lld ms over %u kills (goal p50 <= %d ms and "
               "max <= %d ms: %s)\n",
               (long long)l.p50, (long long)l.max, b->n_leader, S_GOAL_P50_MS, S_GOAL_MAX_MS,
               leader_ok ? "met" : "NOT met");
    if (b->n_tm)
        printf("TaskManager loss: p50 %lld ms, max %lld ms over %u kills (goal <= %d ms: %s)\n",
               (long long)t.p50, (long long)t.max, b->n_tm, S_GOAL_TM_MS,
               tm_ok ? "met" : "NOT met");
    if (ratio > 0) printf("ratio leader loss / TaskManager loss (p50): %.2f\n", ratio);
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench failover [--jms N] [--kills N] [--tm-kills N] [--steady DURATION]\n"
    "                           [--rate N] [--set KEY=VALUE]... [--json] [--keep]\n"
    "\n"
    "Starts a one-member etcd (" WR_BENCH_ETCD_BIN
    "), N JobManagers and 2 TaskManagers as processes of\n"
    "this binary on free 127.0.0.1 ports, in a temp folder removed at the end, and runs a job\n"
    "(generator -> key by -> sliding window -> exactly-once file sink, checkpoints every second).\n"
    "Then kills the leading JobManager with SIGKILL --kills times (starting it again once the job\n"
    "runs, as a standby) and a TaskManager --tm-kills times (started again at once): each time,\n"
    "the time from the kill until the job is RUNNING again with every subtask running. Prints\n"
    "every sample with where its time went (from the daemons' logs), p50 and max of both, and\n"
    "the ratio; goals: leader loss p50 <= 5 s and max <= 8 s, TaskManager loss <= 2 s.\n"
    "Every process it started is killed on any exit, Ctrl-C included.\n"
    "\n"
    "  --jms N            JobManagers, 2 or 3 (default 2)\n"
    "  --kills N          leader kills (default 10)\n"
    "  --tm-kills N       TaskManager kills, the baseline (default 3)\n"
    "  --steady DURATION  after a recovery and its first checkpoint, before the next kill (5s)\n"
    "  --rate N           records/s of the generator, both subtasks together (default 20000)\n"
    "  --set KEY=VALUE    configuration of every daemon (high-availability.etcd.lease-ttl=5s)\n"
    "  --json             one JSON object\n"
    "  --keep             keep the temp folder (every daemon's log) and say where\n";

int wr_bench_failover(int argc, char **argv)
{
    static const struct option opts[] = {
        {"jms", required_argument, NULL, 'j'},      {"kills", required_argument, NULL, 'k'},
        {"tm-kills", required_argument, NULL, 't'}, {"steady", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},     {"set", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'J'},           {"keep", no_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    s_opts_t o = {.jms = 2, .kills = 10, .tm_kills = 3, .rate = 20000, .steady_ms = 5000};
    wr_cli_cfg_t cc = {0};
    uint64_t v = 0;
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        const char *bad = NULL; /* what the option wanted, when its value is wrong */
        switch (c) {
        case 'j':
            if (!wr_cli_count(optarg, 2, S_MAX_JMS, &v)) bad = "2 or 3";
            o.jms = (uint32_t)v;
            break;
        case 'k':
            if (!wr_cli_count(optarg, 0, 1000, &v)) bad = "0 to 1000";
            o.kills = (uint32_t)v;
            break;
        case 't':
            if (!wr_cli_count(optarg, 0, 1000, &v)) bad = "0 to 1000";
            o.tm_kills = (uint32_t)v;
            break;
        case 's':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o.steady_ms) || o.steady_ms < 0)
                bad = "a duration (5s)";
            break;
        case 'r':
            if (!wr_cli_count(optarg, 1, 10000000, &v)) bad = "1 to 10000000";
            o.rate = (uint32_t)v;
            break;
        case 'S': /* a copy for the daemons: wr_cli_cfg_set_arg cuts optarg at its '=' */
            if (o.nsets == S_MAX_SETS)
                bad = "one of at most 16 --set";
            else if ((size_t)snprintf(o.sets[o.nsets], sizeof o.sets[0], "%s", optarg) >=
                     sizeof o.sets[0])
                bad = "KEY=VALUE of at most 511 bytes";
            else if (wr_cli_cfg_set_arg(&cc, S_CMD, optarg))
                return WR_EXIT_USAGE;
            else
                o.nsets++;
            break;
        case 'J':
            o.json = true;
            break;
        case 'K':
            o.keep = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (bad) {
            wr_cli_error(S_CMD, "see weir bench failover --help", "--%s: '%s' is not %s",
                         opts[li].name, optarg, bad);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error(S_CMD, "it takes options only (see weir bench failover --help)",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    if (!o.kills && !o.tm_kills) {
        wr_cli_error(S_CMD, NULL, "nothing to measure: --kills and --tm-kills are both 0");
        return WR_EXIT_USAGE;
    }
    if (access(WR_BENCH_ETCD_BIN, X_OK)) {
        wr_cli_error(S_CMD, "install etcd (Debian: etcd-server)", "%s: %s", WR_BENCH_ETCD_BIN,
                     strerror(errno));
        return WR_EXIT_FAIL;
    }
    int code;
    wr_config_t *cfg = wr_cli_cfg_build(&cc, S_CMD, &code); /* the daemons' settings, checked */
    if (!cfg) return code;
    wr_cli_block_signals(); /* before any thread: sleeps wait for SIGINT/SIGTERM instead */
    s_bench_t b = {.o = &o, .leader = 0, .curve = wr_config_bool(cfg, "security.curve")};
    b.leader_samples = calloc(o.kills + 1, sizeof *b.leader_samples);
    b.tm_samples = calloc(o.tm_kills + 1, sizeof *b.tm_samples);
    int rc = WR_ENOMEM;
    if (!b.leader_samples || !b.tm_samples)
        wr_cli_error(S_CMD, NULL, "out of memory");
    else if (!(rc = wr_bench_procs_init(&b.ps, S_CMD, "failover"))) {
        if (!o.json) {
            wr_bench_machine_print(stdout);
            printf("failover bench: etcd + %u JobManagers + %d TaskManagers on 127.0.0.1 (%s); "
                   "job: generator %u records/s -> key by -> sliding window 2 min/30 s -> "
                   "exactly-once file sink, checkpoints every 1 s; lease-ttl %lld ms, "
                   "renew-interval %lld ms, heartbeat.timeout %lld ms, restart delay %lld ms; "
                   "%u leader kills, %u TaskManager kills, %lld ms of steady state between\n",
                   o.jms, S_TMS, b.ps.dir, o.rate,
                   (long long)wr_config_int(cfg, "high-availability.etcd.lease-ttl"),
                   (long long)wr_config_int(cfg, "high-availability.etcd.renew-interval"),
                   (long long)wr_config_int(cfg, "heartbeat.timeout"),
                   (long long)wr_config_int(cfg, "restart-strategy.fixed-delay.delay"), o.kills,
                   o.tm_kills, (long long)o.steady_ms);
            fflush(stdout);
        }
        rc = s_run(&b);
        if (rc && !b.ps.signal) {
            const wr_bench_proc_t *all[1 + S_MAX_JMS + S_TMS] = {&b.etcd};
            size_t n = 1;
            for (uint32_t i = 0; i < o.jms; i++)
                all[n++] = &b.jm[i];
            for (int i = 0; i < S_TMS; i++)
                all[n++] = &b.tm[i];
            wr_bench_dump_logs(all, n);
        }
    }
    s_cleanup(&b);
    if (b.ps.signal) {
        free(b.leader_samples);
        free(b.tm_samples);
        wr_config_destroy(&cfg);
        return wr_cli_stopped(S_CMD, b.ps.signal, "every process stopped");
    }
    if (!rc) s_print(&b, cfg);
    fflush(stdout);
    if (o.keep) fprintf(stderr, "weir %s: the logs are kept in %s\n", S_CMD, b.ps.dir);
    free(b.leader_samples);
    free(b.tm_samples);
    wr_config_destroy(&cfg);
    return rc ? WR_EXIT_FAIL : WR_EXIT_OK;
}
