/* weir submit | jobs | job | cancel, and running a topology on a cluster (also for `weir local`).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/job/topology.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/messages.h"
#include "cli/cli.h"
#include "cli/render.h"
#include "cli/status_line.h"
#include "cli/status_tty.h"

/* ---- following a job ---- */

typedef struct {
    char state[16];
    char error[256];
    uint64_t in, out, fired, late, backpressure, skipped;
    int64_t watermark;
} s_job_status_t;

static void s_copy(char *dst, size_t cap, wr_strv_t v)
{
    snprintf(dst, cap, "%.*s", (int)v.len, v.s);
}

/* Sums a JOB_REPLY into a status: state, and records in at the sources, out of the last
 * vertex, windows fired, late records, bad input skipped, backpressure, the lowest watermark. */
static void s_job_status(const wr_msg_job_reply_t *j, s_job_status_t *st)
{
    memset(st, 0, sizeof *st);
    st->watermark = INT64_MAX;
    s_copy(st->state, sizeof st->state, j->state);
    s_copy(st->error, sizeof st->error, j->error);
    for (uint32_t v = 0; v < j->operators.n; v++) {
        const wr_msg_operator_stats_t *o = &j->operators.v[v];
        st->fired += o->windows_fired;
        st->late += o->late_dropped;
        st->skipped += o->skipped;
        st->backpressure += o->backpressure;
        if (o->watermark < st->watermark) st->watermark = o->watermark;
        if (v == 0) st->in = o->records_in;
        st->out = o->records_out;
    }
}

/* The end-of-job line on stderr: its state and note (e.g. " (stopped after --duration 3 s)", or
 * ""), counters and error. */
static void s_print_summary(const char *id, const s_job_status_t *st, const char *note, double secs)
{
    char skipped[64] = "";
    if (st->skipped)
        snprintf(skipped, sizeof skipped, ", %llu bad input lines skipped (see the log)",
                 (unsigned long long)st->skipped);
    fprintf(stderr,
            "weir: job %s %s%s after %.1f s: %llu records in, %llu out, %llu windows fired, %llu "
            "too late%s%s%s\n",
            id, st->state, note, secs, (unsigned long long)st->in, (unsigned long long)st->out,
            (unsigned long long)st->fired, (unsigned long long)st->late, skipped,
            st->error[0] ? ": " : "", st->error);
}

/* Asks the JobManager to cancel job id; says so on stderr. */
static void s_cancel(wr_node_t *via, const char *jm, int64_t timeout, const char *id,
                     const char *why)
{
    fprintf(stderr, "weir: %s: canceling job %s\n", why, id);
    wr_msg_job_ref_t req, ack;
    memcpy(req.job, id, sizeof req.job);
    wr_msg_t *answer = NULL;
    wr_cli_request(via, jm, timeout, WR_MSG_JOB_CANCEL, &req, WR_MSG_JOB_CANCELED, &ack, &answer);
    wr_msg_destroy(&answer);
}

/* Waits up to ms for SIGINT or SIGTERM (its number, or 0), relaying results meanwhile. */
static int s_wait(wr_status_tty_t *tty, int64_t ms)
{
    int64_t end = wr_now_ns() + ms * 1000000;
    for (;;) {
        int sig = wr_cli_wait_signal(tty ? 50 : ms);
        if (tty) wr_status_tty_pump(tty);
        if (sig || wr_now_ns() >= end) return sig;
    }
}

/* Follows job id until it ends (see wr_cli_run_opts_t); the exit code. */
static int s_follow(wr_node_t *via, const char *jm, int64_t timeout, const char *cmd,
                    const char *id, const wr_cli_run_opts_t *o)
{
    wr_status_tty_t *tty = o->status_line ? wr_status_tty_new(o->relay_stdout) : NULL;
    wr_status_t samples = {0};
    s_job_status_t st = {0};
    int64_t t0 = wr_now_ns();
    int sig = 0, silent = 0, rc = WR_EXIT_FAIL;
    bool by_duration = false, canceling = false;
    for (;;) {
        int got = s_wait(tty, 500);
        if (got && !sig) sig = got;
        if (sig && o->detach_on_signal) break;
        if (!canceling &&
            (sig || (o->duration_ms > 0 && wr_now_ns() - t0 >= o->duration_ms * 1000000))) {
            canceling = true;
            by_duration = !sig;
            if (tty) wr_status_tty_draw(tty, "");
            s_cancel(via, jm, timeout, id,
                     sig ? (sig == SIGINT ? "SIGINT" : "SIGTERM") : "--duration is over");
        }
        wr_msg_job_reply_t j;
        wr_msg_t *reply = wr_cli_job(via, jm, timeout, id, &j);
        if (!reply && ++silent >= 3) { /* three client.timeouts without an answer */
            wr_status_tty_destroy(&tty);
            wr_cli_error(cmd, "is the JobManager still running?",
                         "lost the JobManager: no answer about job %s", id);
            return WR_EXIT_FAIL;
        }
        if (!reply) continue;
        silent = 0;
        s_job_status(&j, &st);
        wr_msg_job_reply_release(&j);
        wr_msg_destroy(&reply);
        if (tty) {
            wr_status_sample_t x = {.at_ms = wr_wall_ms(),
                                    .in = st.in,
                                    .out = st.out,
                                    .fired = st.fired,
                                    .late = st.late,
                                    .backpressure = st.backpressure,
                                    .watermark = st.watermark};
            snprintf(x.state, sizeof x.state, "%s", st.state);
            wr_status_add(&samples, &x);
            char line[1024];
            wr_status_format(&samples, x.at_ms, wr_status_tty_cols(), line, sizeof line);
            wr_status_tty_draw(tty, line);
        }
        if (strcmp(st.state, "RUNNING") && strcmp(st.state, "CREATED") &&
            strcmp(st.state, "RESTARTING"))
            break;
    }
    /* the terminal first (a sink blocked on a full relay pipe could not stop), then the sinks:
     * nothing of theirs comes after the summary */
    wr_status_tty_destroy(&tty);
    if (o->stop) o->stop(o->stop_ctx);
    double secs = (double)(wr_now_ns() - t0) / 1e9;
    if (sig && o->detach_on_signal) {
        fprintf(stderr,
                "weir: %s: stopped following job %s after %.1f s; it runs on (weir job %s; "
                "weir cancel %s stops it)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", id, secs, id, id);
        return 128 + sig;
    }
    char stopped[64] = "";
    if (by_duration && !strcmp(st.state, "CANCELED"))
        snprintf(stopped, sizeof stopped, " (stopped after --duration %.3g s)",
                 (double)o->duration_ms / 1000);
    s_print_summary(id, &st, stopped, secs);
    if (!strcmp(st.state, "FINISHED") || stopped[0])
        rc = WR_EXIT_OK;
    else if (sig && !strcmp(st.state, "CANCELED"))
        rc = 128 + sig;
    return rc;
}

int wr_cli_run_job(wr_node_t *via, const char *jm, const wr_config_t *cfg, const char *cmd,
                   const char *topology_path, const wr_cli_run_opts_t *o)
{
    bool follow = o->follow;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *topo = NULL;
    int rc = wr_topology_load_file(topology_path, &topo, &err);
    if (rc) {
        wr_cli_error(
            cmd, "the topology format is described in actors/dataflow/job/topology.h and examples/",
            "%s", err.buf);
        wr_strbuf_release(&err);
        return rc == WR_ENOMEM ? WR_EXIT_FAIL : WR_EXIT_USAGE;
    }
    wr_strbuf_reset(&err);
    int64_t timeout = wr_config_int(cfg, "client.timeout");
    char id[WR_JOB_ID_MAX] = "";
    rc = wr_cli_submit(via, jm, timeout, topo, o->from_savepoint, o->parallelism, id, &err);
    wr_topology_destroy(&topo);
    if (rc) wr_cli_error(cmd, NULL, "%s", err.buf);
    wr_strbuf_release(&err);
    if (rc) return WR_EXIT_FAIL;
    fprintf(stderr, "weir: job %s submitted\n", id);
    if (!follow) {
        printf("%s\n", id);
        return WR_EXIT_OK;
    }
    return s_follow(via, jm, timeout, cmd, id, o);
}

/* ---- the commands ---- */

static const char s_submit_usage[] =
    "usage: weir submit TOPOLOGY [--wait] [--from-savepoint PATH [--parallelism N]]\n"
    "                   [--jobmanager ENDPOINT] [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Validates the topology file, submits it to the JobManager and prints the job id.\n"
    "  --wait                 follow the job until it ends, with a live status line on a\n"
    "                         terminal; exit 0 if it finished, 1 if it failed or was canceled.\n"
    "                         Ctrl-C only stops following (exit 130): the job runs on, and\n"
    "                         `weir cancel ID` stops it\n"
    "  --from-savepoint PATH  start from a savepoint (or a checkpoint folder chk-N): the sources\n"
    "                         where it left them, the windows' state, its sinks' pending output\n"
    "  --parallelism N        run every operator at N (key groups are dealt out again)\n";

static const char s_jobs_usage[] =
    "usage: weir jobs [--json] [--jobmanager ENDPOINT]\n"
    "       weir job ID [--json] [--jobmanager ENDPOINT]\n"
    "       weir cancel ID [--jobmanager ENDPOINT]\n"
    "\n"
    "jobs:   every job the JobManager knows, with its state\n"
    "job:    one job: state and, per operator, parallelism, records in and out, backpressure,\n"
    "        watermark, windows fired, late records, bad input lines skipped, and where its\n"
    "        subtasks run\n"
    "cancel: stops every subtask of a running job and frees its slots\n";

/* Options shared by the job commands. */
typedef struct {
    wr_cli_cfg_t cc;
    bool json, wait;
    const char *from_savepoint;
    uint64_t parallelism;
} s_opts_t;

static int s_parse(int argc, char **argv, const char *cmd, const char *usage, s_opts_t *o,
                   int nargs)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"wait", no_argument, NULL, 'w'},
                                         {"from-savepoint", required_argument, NULL, 'F'},
                                         {"parallelism", required_argument, NULL, 'P'},
                                         {NULL, 0, NULL, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&o->cc, cmd, optarg))) return rc;
            break;
        case 'E':
            if ((rc = wr_cli_cfg_etcd(&o->cc, cmd, optarg))) return rc;
            break;
        case 'j':
            if ((rc = wr_cli_cfg_override(&o->cc, cmd, "jobmanager.address", optarg))) return rc;
            break;
        case 'J':
            o->json = true;
            break;
        case 'w':
            o->wait = true;
            break;
        case 'F':
            o->from_savepoint = optarg;
            break;
        case 'P':
            if (!wr_cli_count(optarg, 1, WR_TOPO_MAX_PARALLELISM, &o->parallelism)) {
                wr_cli_error(cmd, "--parallelism N: 1 to 32768", "bad --parallelism '%s'", optarg);
                return WR_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            fputs(usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    if (argc - optind != nargs) {
        char hint[64];
        snprintf(hint, sizeof hint, "see weir %s --help", cmd);
        if (nargs)
            wr_cli_error(cmd, hint, "expected %d argument%s", nargs, nargs > 1 ? "s" : "");
        else
            wr_cli_error(cmd, hint, "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    return WR_EXIT_OK;
}

int wr_cmd_submit(int argc, char **argv)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, "submit", s_submit_usage, &o, 1);
    if (rc) return rc < 0 ? WR_EXIT_OK : rc;
    wr_config_t *cfg = wr_cli_cfg_build(&o.cc, "submit", &rc);
    if (!cfg) return rc;
    rc = WR_EXIT_FAIL;
    wr_node_t *client = wr_cli_client(cfg, "submit", &rc);
    if (client) {
        char jm[WR_ADDR_MAX];
        snprintf(jm, sizeof jm, "%s/jobmanager", wr_config_str(cfg, "jobmanager.node-id"));
        char abs[PATH_MAX];
        const char *from =
            o.from_savepoint ? wr_cli_abs_path(o.from_savepoint, abs, sizeof abs) : NULL;
        wr_cli_run_opts_t ro = {.follow = o.wait,
                                .status_line = o.wait && isatty(STDERR_FILENO),
                                .detach_on_signal = true,
                                .from_savepoint = from,
                                .parallelism = (uint32_t)o.parallelism};
        rc = wr_cli_run_job(client, jm, cfg, "submit", argv[optind], &ro);
    }
    wr_node_destroy(&client);
    wr_config_destroy(&cfg);
    return rc;
}

static int s_simple(int argc, char **argv, const char *cmd, uint16_t type, int nargs)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, cmd, s_jobs_usage, &o, nargs);
    if (rc) return rc < 0 ? WR_EXIT_OK : rc;
    wr_msg_job_ref_t req = {""};
    if (nargs && (size_t)snprintf(req.job, sizeof req.job, "%s", argv[optind]) >= sizeof req.job) {
        wr_cli_error(cmd, "see `weir jobs`", "no such job: '%s' is not a job id", argv[optind]);
        return WR_EXIT_FAIL;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&o.cc, cmd, &rc);
    if (!cfg) return rc;
    rc = WR_EXIT_FAIL;
    uint16_t reply_type = type == WR_MSG_JOBS_REQ  ? WR_MSG_JOBS_REPLY
                          : type == WR_MSG_JOB_REQ ? WR_MSG_JOB_REPLY
                                                   : WR_MSG_JOB_CANCELED;
    union {
        wr_msg_jobs_reply_t jobs;
        wr_msg_job_reply_t job;
        wr_msg_job_ref_t canceled;
    } reply;
    wr_node_t *client = wr_cli_client(cfg, cmd, &rc);
    wr_msg_t *answer = client ? wr_cli_ask_jm(client, cfg, cmd, type, nargs ? &req : NULL,
                                              reply_type, &reply, NULL)
                              : NULL;
    if (answer) {
        rc = WR_EXIT_OK;
        if (type == WR_MSG_JOB_CANCEL)
            printf("job %s canceled\n", reply.canceled.job);
        else if (o.json)
            rc = wr_render_json(answer, stdout) ? WR_EXIT_FAIL : WR_EXIT_OK;
        else if (type == WR_MSG_JOBS_REQ)
            wr_render_jobs(&reply.jobs, stdout);
        else
            wr_render_job(&reply.job, stdout);
        wr_proto_release(wr_msg_decl(reply_type), &reply);
    }
    wr_msg_destroy(&answer);
    wr_node_destroy(&client);
    wr_config_destroy(&cfg);
    return rc;
}

int wr_cmd_jobs(int argc, char **argv)
{
    return s_simple(argc, argv, "jobs", WR_MSG_JOBS_REQ, 0);
}

int wr_cmd_job(int argc, char **argv)
{
    return s_simple(argc, argv, "job", WR_MSG_JOB_REQ, 1);
}

int wr_cmd_cancel(int argc, char **argv)
{
    return s_simple(argc, argv, "cancel", WR_MSG_JOB_CANCEL, 1);
}
