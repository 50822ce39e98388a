/* weir jobmanager | taskmanager | local: the processes of a cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/jobmanager/jobmanager.h"
#include "actors/rest/metrics.h"
#include "actors/rest/rest.h"
#include "actors/taskmanager/taskmanager.h"
#include "actors/dataflow/job/plan.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"
#include "cli/cli.h"
#include "cli/render.h"
#include "cli/status_tty.h"

static int s_run_until_signal(int64_t duration_ms)
{
    int sig = wr_cli_wait_signal(duration_ms > 0 ? duration_ms : -1);
    if (sig)
        fprintf(stderr, "weir: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return WR_EXIT_OK;
}

/* ---- weir jobmanager ---- */

/* Where a daemon listens, for its start line: "BOUND", or "BOUND (advertised as ADVERTISED)" with
 * bus.advertised-endpoint (a proxy in front of it forwards to BOUND). Returns buf. */
static const char *s_where(const wr_node_t *node, char *buf, size_t cap)
{
    const char *bound = wr_node_bound_endpoint(node), *told = wr_node_endpoint(node);
    if (strcmp(bound, told))
        snprintf(buf, cap, "%s (advertised as %s)", bound, told);
    else
        snprintf(buf, cap, "%s", bound);
    return buf;
}

/* The JobManager's REST API on rest.address:rest.port (actors/rest/rest.h; jm: the JobManager
 * actor's address), or NULL: rest.port -1, or it could not listen (a warning says why; the
 * JobManager runs on without it). */
static wr_rest_t *s_rest_start(wr_node_t *node, const wr_config_t *cfg, const char *jm)
{
    int port = (int)wr_config_int(cfg, "rest.port");
    if (port < 0) return NULL;
    char why[256], keys_dir[512];
    bool curve = wr_config_bool(cfg, "security.curve");
    if (curve && wr_cli_keys_dir(cfg, keys_dir, sizeof keys_dir)) {
        wr_warn("jobmanager: no REST API: no folder for the REST tokens (set security.keys-dir)");
        return NULL;
    }
    wr_rest_opts_t o = {.address = wr_config_str(cfg, "rest.address"),
                        .port = port,
                        .jm_addr = jm,
                        .version = WR_VERSION,
                        .keys_dir = curve ? keys_dir : NULL,
                        .savepoint_timeout_ms =
                            wr_config_int(cfg, "execution.checkpointing.timeout")};
    int err = 0;
    wr_rest_t *r = wr_rest_start(node, &o, &err, why, sizeof why);
    if (!r)
        wr_warn("jobmanager: no REST API: %s (%s); set rest.port (-1: none)", why,
                wr_strerror(err));
    return r;
}

/* The node's Prometheus metrics on metrics.prometheus.address:metrics.prometheus.port
 * (actors/rest/metrics.h; jm: the JobManager actor's address, NULL on a TaskManager), or NULL:
 * the port is -1, or it could not listen (a warning says why; the node runs on without them).
 * Appends ", metrics on http://ADDRESS:PORT/metrics" to where when they serve. */
static wr_metrics_t *s_metrics_start(wr_node_t *node, const wr_config_t *cfg, const char *jm,
                                     char *where, size_t cap)
{
    int port = (int)wr_config_int(cfg, "metrics.prometheus.port");
    if (port < 0) return NULL;
    const char *address = wr_config_str(cfg, "metrics.prometheus.address");
    wr_metrics_opts_t o = {.address = address, .port = port, .jm_addr = jm};
    char why[256];
    int err = 0;
    wr_metrics_t *m = wr_metrics_start(node, &o, &err, why, sizeof why);
    if (!m)
        wr_warn("%s: no Prometheus metrics: %s (%s); set metrics.prometheus.port (-1: none)",
                wr_node_id(node), why, wr_strerror(err));
    else
        snprintf(where + strlen(where), cap - strlen(where), ", metrics on http://%s:%d/metrics",
                 address, wr_metrics_port(m));
    return m;
}

static const char s_jm_usage[] =
    "usage: weir jobmanager [--config FILE] [--bind ENDPOINT] [--id NODE] [--etcd URLS]\n"
    "                       [--set KEY=VALUE]...\n"
    "\n"
    "Runs the JobManager: TaskManagers register with it, `weir actors` and `weir mailbox` ask it.\n"
    "  --config FILE     configuration file (see deploy/weir.yaml)\n"
    "  --bind ENDPOINT   endpoint to bind (jobmanager.bind; default jobmanager.address)\n"
    "  --id NODE         node id (jobmanager.node-id, default jm-1)\n"
    "  --etcd URLS       high availability: campaign for the leadership through etcd, and stand\n"
    "                    by until won (high-availability: etcd, high-availability.etcd.endpoints)\n"
    "  --set KEY=VALUE   override any configuration key\n"
    "Runs until SIGINT or SIGTERM.\n";

int wr_cmd_jobmanager(int argc, char **argv)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"bind", required_argument, NULL, 'b'},
                                         {"id", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&cc, "jobmanager", optarg))) return rc;
            break;
        case 'E':
            if ((rc = wr_cli_cfg_etcd(&cc, "jobmanager", optarg))) return rc;
            break;
        case 'b':
            if ((rc = wr_cli_cfg_override(&cc, "jobmanager", "jobmanager.bind", optarg))) return rc;
            break;
        case 'i':
            if ((rc = wr_cli_cfg_override(&cc, "jobmanager", "jobmanager.node-id", optarg)))
                return rc;
            break;
        case 'h':
            fputs(s_jm_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_jm_usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        wr_cli_error("jobmanager", "see weir jobmanager --help", "unexpected argument '%s'",
                     argv[optind]);
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&cc, "jobmanager", &rc);
    if (!cfg) return rc;
    const char *bind = wr_config_str(cfg, "jobmanager.bind");
    if (!bind[0]) bind = wr_config_str(cfg, "jobmanager.address");
    wr_node_opts_t no = wr_cli_node_opts(cfg, wr_config_str(cfg, "jobmanager.node-id"), bind);
    no.advertised_endpoint = wr_config_str(cfg, "bus.advertised-endpoint");
    char keys[512];
    if ((rc = wr_cli_secure(cfg, "jobmanager", no.id, &no, keys, sizeof keys))) {
        wr_config_destroy(&cfg);
        return rc;
    }
    int err = 0;
    wr_node_t *node = wr_node_new(&no, &err);
    if (!node) {
        wr_cli_error("jobmanager",
                     "is another JobManager using that port? try --bind tcp://127.0.0.1:PORT",
                     "cannot start node %s on %s: %s", no.id, bind, wr_strerror(err));
        wr_config_destroy(&cfg);
        return WR_EXIT_FAIL;
    }
    wr_jobmanager_opts_t jo;
    wr_ha_opts_t ha;
    bool ha_on = false;
    err = wr_cli_jm_opts(cfg, "jobmanager", &jo);
    if (!err && wr_cli_ha_opts(cfg, "jobmanager", &ha_on, &ha)) err = WR_ECONFIG;
    if (ha_on) jo.ha = &ha;
    if (!err) err = wr_jobmanager_spawn(node, &jo);
    char where[300];
    wr_rest_t *rest = NULL;
    wr_metrics_t *metrics = NULL;
    if (err) {
        wr_cli_error("jobmanager", NULL, "cannot start the JobManager actor: %s", wr_strerror(err));
        rc = WR_EXIT_FAIL;
    } else {
        char api[192] = "", jm[WR_ADDR_MAX];
        snprintf(jm, sizeof jm, "%s/%s", wr_node_id(node), WR_JOBMANAGER_PATH);
        rest = s_rest_start(node, cfg, jm);
        if (rest)
            snprintf(api, sizeof api, ", REST API on http://%s:%d/",
                     wr_config_str(cfg, "rest.address"), wr_rest_port(rest));
        metrics = s_metrics_start(node, cfg, jm, api, sizeof api);
        printf("weir jobmanager %s listening on %s%s%s%s\n", wr_node_id(node),
               s_where(node, where, sizeof where), ha_on ? ", campaigning through etcd at " : "",
               ha_on ? ha.endpoints : "", api);
        fflush(stdout);
        rc = s_run_until_signal(-1);
    }
    wr_rest_stop(&rest); /* (before the node their requests go through) */
    wr_metrics_stop(&metrics);
    wr_node_destroy(&node);
    wr_config_destroy(&cfg);
    return rc;
}

/* ---- weir taskmanager ---- */

static const char s_tm_usage[] =
    "usage: weir taskmanager [--jobmanager ENDPOINT] [--slots N] [--id NODE] [--bind ENDPOINT]\n"
    "                        [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Runs a TaskManager that registers its slots with the JobManager and re-registers whenever\n"
    "the JobManager is lost or restarts.\n"
    "  --jobmanager EP   the JobManager's endpoint (jobmanager.address)\n"
    "  --etcd URLS       instead: register with the leader etcd names, following it as it\n"
    "                    changes (high-availability: etcd, high-availability.etcd.endpoints)\n"
    "  --slots N         slots offered (taskmanager.numberOfTaskSlots)\n"
    "  --id NODE         node id (taskmanager.node-id; default tm-<pid>)\n"
    "  --bind ENDPOINT   endpoint to bind (taskmanager.bind; port * picks a free one)\n"
    "Runs until SIGINT or SIGTERM.\n";

int wr_cmd_taskmanager(int argc, char **argv)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"slots", required_argument, NULL, 's'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"bind", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (c) {
        case 'c':
            cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&cc, "taskmanager", optarg))) return rc;
            break;
        case 'E':
            if ((rc = wr_cli_cfg_etcd(&cc, "taskmanager", optarg))) return rc;
            break;
        case 'j':
            key = "jobmanager.address";
            break;
        case 's':
            key = "taskmanager.numberOfTaskSlots";
            break;
        case 'i':
            key = "taskmanager.node-id";
            break;
        case 'b':
            key = "taskmanager.bind";
            break;
        case 'h':
            fputs(s_tm_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_tm_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (key && (rc = wr_cli_cfg_override(&cc, "taskmanager", key, optarg))) return rc;
    }
    if (optind < argc) {
        wr_cli_error("taskmanager", "see weir taskmanager --help", "unexpected argument '%s'",
                     argv[optind]);
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&cc, "taskmanager", &rc);
    if (!cfg) return rc;
    wr_ha_opts_t ha;
    bool ha_on = false;
    if ((rc = wr_cli_ha_opts(cfg, "taskmanager", &ha_on, &ha)) ||
        (!ha_on && (rc = wr_cli_jm_endpoint_check(cfg, "taskmanager")))) {
        wr_config_destroy(&cfg);
        return rc;
    }
    char id[WR_NODE_MAX];
    snprintf(id, sizeof id, "%s", wr_config_str(cfg, "taskmanager.node-id"));
    if (!id[0]) snprintf(id, sizeof id, "tm-%ld", (long)getpid());
    wr_node_opts_t no = wr_cli_node_opts(cfg, id, wr_config_str(cfg, "taskmanager.bind"));
    no.advertised_endpoint = wr_config_str(cfg, "bus.advertised-endpoint");
    char keys[512];
    if ((rc = wr_cli_secure(cfg, "taskmanager", id, &no, keys, sizeof keys))) {
        wr_config_destroy(&cfg);
        return rc;
    }
    int err = 0;
    wr_node_t *node = wr_node_new(&no, &err);
    if (!node) {
        wr_cli_error("taskmanager", "check --id (letters, digits, . _ -) and --bind",
                     "cannot start node %s on %s: %s", id, no.bind, wr_strerror(err));
        wr_config_destroy(&cfg);
        return WR_EXIT_FAIL;
    }
    wr_taskmanager_opts_t to = {
        .cluster_id = wr_config_str(cfg, "high-availability.cluster-id"),
        .ha = ha_on ? &ha : NULL,
        .jm_node_id = wr_config_str(cfg, "jobmanager.node-id"),
        .jm_endpoint = wr_config_str(cfg, "jobmanager.address"),
        .slots = (uint32_t)wr_config_int(cfg, "taskmanager.numberOfTaskSlots"),
    };
    err = wr_taskmanager_spawn(node, &to);
    char where[300], metrics_at[128] = "";
    wr_metrics_t *metrics = NULL;
    if (err) {
        wr_cli_error("taskmanager", "check --jobmanager", "cannot start the TaskManager actor: %s",
                     wr_strerror(err));
        rc = WR_EXIT_FAIL;
    } else {
        metrics = s_metrics_start(node, cfg, NULL, metrics_at, sizeof metrics_at);
        if (ha_on)
            printf("weir taskmanager %s on %s, %u slots, the leader of cluster %s as etcd at "
                   "%s names it%s\n",
                   id, s_where(node, where, sizeof where), to.slots, ha.cluster_id, ha.endpoints,
                   metrics_at);
        else
            printf("weir taskmanager %s on %s, %u slots, JobManager %s at %s%s\n", id,
                   s_where(node, where, sizeof where), to.slots, to.jm_node_id, to.jm_endpoint,
                   metrics_at);
        fflush(stdout);
        rc = s_run_until_signal(-1);
    }
    wr_metrics_stop(&metrics); /* (before the node it reads) */
    wr_node_destroy(&node);
    wr_config_destroy(&cfg);
    return rc;
}

/* ---- weir local ---- */

static const char s_local_usage[] =
    "usage: weir local [TOPOLOGY] [--taskmanagers N] [--slots N] [--duration SECONDS]\n"
    "                  [--bind ENDPOINT] [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Runs a JobManager and N TaskManagers in this one process (inproc transport). With a topology\n"
    "file, runs that job on them until it ends (bounded sources), --duration is over or Ctrl-C\n"
    "cancels it, with a live status line on a terminal (stderr); exit 0 when it finished or was\n"
    "stopped after --duration, 130 when Ctrl-C canceled it (143: SIGTERM), 1 when it failed.\n"
    "Without one, shows the cluster's actors and runs until Ctrl-C or --duration.\n"
    "  --taskmanagers N  TaskManagers to start (local.taskmanagers, default 2)\n"
    "  --slots N         slots per TaskManager (taskmanager.numberOfTaskSlots)\n"
    "  --duration S      stop after S seconds (a job: cancel it) instead of waiting for Ctrl-C\n"
    "  --bind ENDPOINT   also reachable from other processes (e.g. `weir actors`) on a tcp "
    "endpoint\n"
    "                    WITHOUT authentication (weir local never uses keys): ask it with\n"
    "                    --set security.curve=off\n";

/* Asks the JobManager for the actor table until every TaskManager is up: the answer is the
 * caller's (*table, decoded into *actors: release both), or an error. */
static int s_local_table(wr_node_t *jm, const wr_config_t *cfg, long tms, wr_msg_t **table,
                         wr_msg_actors_reply_t *actors)
{
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/jobmanager", wr_node_id(jm));
    for (int attempt = 0; attempt < 100; attempt++) {
        int rc = wr_cli_request(jm, to, wr_config_int(cfg, "client.timeout"), WR_MSG_ACTORS_REQ,
                                NULL, WR_MSG_ACTORS_REPLY, actors, table);
        if (rc == 0 && actors->nodes.n == (uint32_t)tms + 1) return 0;
        if (rc == 0) wr_msg_actors_reply_release(actors);
        wr_msg_destroy(table);
        usleep(100000);
    }
    return WR_ETIMEDOUT;
}

/* Waits until every TaskManager is up; shows the actor table then when show. */
static int s_local_wait(wr_node_t *jm, const wr_config_t *cfg, long tms, bool show)
{
    wr_msg_t *table = NULL;
    wr_msg_actors_reply_t actors;
    int rc = s_local_table(jm, cfg, tms, &table, &actors);
    if (!rc && show) wr_render_actors(&actors, stdout);
    if (!rc) wr_msg_actors_reply_release(&actors);
    wr_msg_destroy(&table);
    return rc;
}

/* The TaskManagers of `weir local` (nodes[1..n]), for s_local_stop_tms. */
typedef struct {
    wr_node_t **nodes;
    long n;
} s_local_tms_t;

/* The job ended: its sinks stop here, before the summary line, so that nothing comes after it. */
static void s_local_stop_tms(void *ctx)
{
    s_local_tms_t *tms = ctx;
    for (long i = tms->n; i >= 1; i--)
        wr_node_destroy(&tms->nodes[i]);
}

int wr_cmd_local(int argc, char **argv)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"taskmanagers", required_argument, NULL, 't'},
                                         {"slots", required_argument, NULL, 's'},
                                         {"duration", required_argument, NULL, 'd'},
                                         {"bind", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    int c, rc;
    double duration = 0;
    const char *bind = NULL;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (c) {
        case 'c':
            cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&cc, "local", optarg))) return rc;
            break;
        case 'E':
            wr_cli_error("local", "run `weir jobmanager --etcd` and `weir taskmanager --etcd`",
                         "weir local runs one JobManager: --etcd does not apply");
            return WR_EXIT_USAGE;
        case 't':
            key = "local.taskmanagers";
            break;
        case 's':
            key = "taskmanager.numberOfTaskSlots";
            break;
        case 'b':
            bind = optarg;
            break;
        case 'd': {
            char *end;
            duration = strtod(optarg, &end);
            if (*end || duration <= 0) {
                wr_cli_error("local", "example: --duration 10",
                             "--duration needs a positive number of seconds, got '%s'", optarg);
                return WR_EXIT_USAGE;
            }
            break;
        }
        case 'h':
            fputs(s_local_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_local_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (key && (rc = wr_cli_cfg_override(&cc, "local", key, optarg))) return rc;
    }
    if (optind + 1 < argc) {
        wr_cli_error("local", "see weir local --help", "unexpected argument '%s'",
                     argv[optind + 1]);
        return WR_EXIT_USAGE;
    }
    const char *topology = optind < argc ? argv[optind] : NULL;
    wr_config_t *cfg = wr_cli_cfg_build(&cc, "local", &rc);
    if (!cfg) return rc;
    long ntm = (long)wr_config_int(cfg, "local.taskmanagers");
    long slots = (long)wr_config_int(cfg, "taskmanager.numberOfTaskSlots");
    if (topology) { /* enough slots for the job: its largest parallelism over the TaskManagers */
        wr_topology_t *t = NULL;
        wr_plan_t plan;
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        rc = wr_topology_load_file(topology, &t, &err);
        if (!rc) rc = wr_plan_build(t, &plan, &err);
        wr_topology_destroy(&t);
        if (rc) {
            wr_cli_error(
                "local",
                "the topology format is described in actors/dataflow/job/topology.h and examples/",
                "%s", err.buf);
            wr_strbuf_release(&err);
            wr_config_destroy(&cfg);
            return rc == WR_ENOMEM ? WR_EXIT_FAIL : WR_EXIT_USAGE;
        }
        wr_strbuf_release(&err);
        if (slots * ntm < (long)plan.slots) slots = ((long)plan.slots + ntm - 1) / ntm;
    }
    const char *jm_id = wr_config_str(cfg, "jobmanager.node-id");
    char jm_ep[128];
    snprintf(jm_ep, sizeof jm_ep, "%s", bind ? bind : "");
    if (!bind) snprintf(jm_ep, sizeof jm_ep, "inproc://weir-%ld-%s", (long)getpid(), jm_id);
    wr_node_t **nodes = calloc((size_t)ntm + 1, sizeof *nodes);
    rc = WR_EXIT_FAIL;
    if (!nodes) goto out;
    int err = 0;
    wr_node_opts_t no = wr_cli_node_opts(cfg, jm_id, jm_ep);
    if (bind)
        wr_warn("weir local: %s is NOT authenticated nor encrypted (weir local never uses keys): "
                "anyone who reaches it controls this cluster; ask it with --set "
                "security.curve=off",
                bind);
    /* one process, one core budget: share it between the nodes */
    if (!no.threads) no.threads = 1;
    nodes[0] = wr_node_new(&no, &err);
    wr_jobmanager_opts_t jo;
    if ((err = wr_cli_jm_opts(cfg, "local", &jo))) goto out;
    /* the user's own files, read and written as the user: security.paths.* confine a cluster */
    jo.savepoints_roots = jo.sources_roots = jo.sinks_roots = NULL;
    if (!nodes[0] || (err = wr_jobmanager_spawn(nodes[0], &jo))) {
        wr_cli_error("local", bind ? "try another --bind port" : NULL,
                     "cannot start the JobManager: %s", wr_strerror(err));
        goto out;
    }
    snprintf(jm_ep, sizeof jm_ep, "%s", wr_node_endpoint(nodes[0]));
    for (long i = 1; i <= ntm; i++) {
        char id[WR_NODE_MAX], tm_bind[128];
        snprintf(id, sizeof id, "tm-%ld", i);
        if (bind)
            snprintf(tm_bind, sizeof tm_bind, "tcp://127.0.0.1:*");
        else
            snprintf(tm_bind, sizeof tm_bind, "inproc://weir-%ld-%s", (long)getpid(), id);
        wr_node_opts_t to_opts = wr_cli_node_opts(cfg, id, tm_bind);
        if (!to_opts.threads) to_opts.threads = 1;
        nodes[i] = wr_node_new(&to_opts, &err);
        wr_taskmanager_opts_t tmo = {
            .cluster_id = jo.cluster_id,
            .jm_node_id = jm_id,
            .jm_endpoint = jm_ep,
            .slots = (uint32_t)slots,
        };
        if (!nodes[i] || (err = wr_taskmanager_spawn(nodes[i], &tmo))) {
            wr_cli_error("local", NULL, "cannot start TaskManager %s: %s", id, wr_strerror(err));
            goto out;
        }
    }
    fprintf(
        topology ? stderr : stdout,
        "weir local: JobManager %s and %ld TaskManagers (%ld slots each) in one process%s%s\n%s",
        jm_id, ntm, slots, bind ? ", reachable on " : "", bind ? jm_ep : "", topology ? "" : "\n");
    if (topology) {
        if (s_local_wait(nodes[0], cfg, ntm, false)) {
            wr_cli_error("local", "run with WEIR_LOG=info to see the registrations",
                         "the TaskManagers did not all register in time");
            goto out;
        }
        char jm[WR_ADDR_MAX];
        snprintf(jm, sizeof jm, "%s/jobmanager", jm_id);
        s_local_tms_t tms = {nodes, ntm};
        bool status_line = isatty(STDERR_FILENO);
        wr_cli_run_opts_t ro = {.follow = true,
                                .status_line = status_line,
                                .relay_stdout = status_line && wr_status_tty_shared(),
                                .duration_ms = (int64_t)(duration * 1000),
                                .stop = s_local_stop_tms,
                                .stop_ctx = &tms};
        rc = wr_cli_run_job(nodes[0], jm, cfg, "local", topology, &ro);
        goto out;
    }
    if (s_local_wait(nodes[0], cfg, ntm, true)) {
        wr_cli_error("local", "run with WEIR_LOG=info to see the registrations",
                     "the TaskManagers did not all register in time");
        goto out;
    }
    printf("\nweir local: running; %s\n",
           duration > 0 ? "stopping after --duration" : "Ctrl-C stops it");
    fflush(stdout);
    rc = s_run_until_signal(duration > 0 ? (int64_t)(duration * 1000) : -1);
out:
    for (long i = ntm; nodes && i >= 0; i--)
        wr_node_destroy(&nodes[i]);
    free(nodes);
    wr_config_destroy(&cfg);
    return rc;
}
