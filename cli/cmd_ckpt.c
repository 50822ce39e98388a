/* weir checkpoints JOB, weir savepoint JOB [DIR], weir stop JOB --savepoint [DIR]. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/base/error.h"
#include "bus/messages.h"
#include "cli/cli.h"
#include "cli/render.h"

static const char s_usage[] =
    "usage: weir checkpoints JOB [--json] [--jobmanager ENDPOINT]\n"
    "       weir savepoint JOB [DIR] [--jobmanager ENDPOINT]\n"
    "       weir stop JOB --savepoint [DIR] [--drain] [--jobmanager ENDPOINT]\n"
    "\n"
    "checkpoints: the job's recent checkpoints: id, status, trigger time, duration, full and\n"
    "             incremental size, the longest barrier alignment; and the latest completed one\n"
    "savepoint:   takes a checkpoint now and copies it, self-contained, into DIR (default\n"
    "             state.savepoints.dir); prints its path (weir submit --from-savepoint PATH)\n"
    "stop:        a savepoint, then the job ends (FINISHED); --savepoint is required.\n"
    "             --drain: the sources stop and end event time first (Flink's --drain), so\n"
    "             every window fires and its results are committed before the job ends; such\n"
    "             a savepoint ends a job for good (restoring it is refused: its windows are\n"
    "             all fired, so every later record would be too late)\n";

typedef struct {
    wr_cli_cfg_t cc;
    bool json, savepoint, drain;
} s_opts_t;

static int s_parse(int argc, char **argv, const char *cmd, s_opts_t *o)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"savepoint", no_argument, NULL, 'p'},
                                         {"drain", no_argument, NULL, 'd'},
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
        case 'p':
            o->savepoint = true;
            break;
        case 'd':
            o->drain = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return -1;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    return WR_EXIT_OK;
}

/* Sends CKPT_LIST_REQ or SAVEPOINT_REQ and shows the answer. */
static int s_run(int argc, char **argv, const char *cmd, uint16_t type)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, cmd, &o);
    if (rc) return rc < 0 ? WR_EXIT_OK : rc;
    int nargs = argc - optind;
    bool stop = !strcmp(cmd, "stop");
    if (nargs < 1 || nargs > (type == WR_MSG_SAVEPOINT_REQ ? 2 : 1) || (stop && !o.savepoint) ||
        (o.drain && !stop) || (o.savepoint && !stop)) {
        wr_cli_error(cmd, "see weir checkpoints --help",
                     stop && !o.savepoint   ? "stop needs --savepoint"
                     : o.drain && !stop     ? "--drain is for weir stop"
                     : o.savepoint && !stop ? "--savepoint is for weir stop"
                                            : "expected a job id%s",
                     type == WR_MSG_SAVEPOINT_REQ ? " (and a folder)" : "");
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&o.cc, cmd, &rc);
    if (!cfg) return rc;
    /* the folder as this command's working directory names it: the JobManager takes only
     * absolute ones (it never resolves a path against its own working directory) */
    char dir[PATH_MAX] = "";
    if (nargs == 2) wr_cli_abs_path(argv[optind + 1], dir, sizeof dir);
    wr_msg_savepoint_req_t sp = {.stop = stop, .drain = o.drain};
    wr_msg_job_ref_t ref;
    if ((size_t)snprintf(ref.job, sizeof ref.job, "%s", argv[optind]) >= sizeof ref.job) {
        wr_cli_error(cmd, "see `weir jobs`", "no such job: '%s' is not a job id", argv[optind]);
        wr_config_destroy(&cfg);
        return WR_EXIT_FAIL;
    }
    memcpy(sp.job, ref.job, sizeof sp.job);
    if ((size_t)snprintf(sp.dir, sizeof sp.dir, "%s", dir) >= sizeof sp.dir) {
        wr_cli_error(cmd, NULL, "the folder's path is longer than %d bytes", WR_MSG_PATH_MAX - 1);
        wr_config_destroy(&cfg);
        return WR_EXIT_FAIL;
    }
    bool savepoint = type == WR_MSG_SAVEPOINT_REQ;
    union {
        wr_msg_savepoint_done_t done;
        wr_msg_ckpt_list_reply_t list;
    } reply;
    uint16_t reply_type = savepoint ? WR_MSG_SAVEPOINT_DONE : WR_MSG_CKPT_LIST_REPLY;
    rc = WR_EXIT_FAIL;
    wr_node_t *client = wr_cli_client(cfg, cmd, &rc);
    wr_msg_t *answer =
        client ? wr_cli_ask_jm(client, cfg, cmd, type, savepoint ? (const void *)&sp : &ref,
                               reply_type, &reply, savepoint ? sp.job : NULL)
               : NULL;
    if (answer) {
        rc = WR_EXIT_OK;
        if (savepoint)
            printf("%.*s\n", (int)reply.done.path.len, reply.done.path.s);
        else if (o.json)
            rc = wr_render_json(answer, stdout) ? WR_EXIT_FAIL : WR_EXIT_OK;
        else
            wr_render_checkpoints(&reply.list, stdout);
        wr_proto_release(wr_msg_decl(reply_type), &reply);
    }
    wr_msg_destroy(&answer);
    wr_node_destroy(&client);
    wr_config_destroy(&cfg);
    return rc;
}

int wr_cmd_checkpoints(int argc, char **argv)
{
    return s_run(argc, argv, "checkpoints", WR_MSG_CKPT_LIST_REQ);
}

int wr_cmd_savepoint(int argc, char **argv)
{
    return s_run(argc, argv, "savepoint", WR_MSG_SAVEPOINT_REQ);
}

int wr_cmd_stop(int argc, char **argv)
{
    return s_run(argc, argv, "stop", WR_MSG_SAVEPOINT_REQ);
}
