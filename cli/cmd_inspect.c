/* weir actors | mailbox: look inside a running cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/messages.h"
#include "cli/cli.h"
#include "cli/render.h"

/* Prints a reply as JSON (one line) or through render; an exit code. */
static int s_print(const wr_msg_t *reply, bool json, int rendered, const char *cmd)
{
    int rc = json ? wr_render_json(reply, stdout) : rendered;
    fflush(stdout);
    if (rc) wr_cli_error(cmd, NULL, "cannot show the JobManager's answer: %s", wr_strerror(rc));
    return rc ? WR_EXIT_FAIL : WR_EXIT_OK;
}

/* ---- weir actors ---- */

static const char s_actors_usage[] =
    "usage: weir actors [--jobmanager ENDPOINT] [--json] [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Lists every actor of every node in the cluster: mailbox depth and capacity, high-water mark,\n"
    "messages per second, age of the oldest queued message, messages handled, rejected pushes and\n"
    "restarts; dead TaskManagers are listed with the time since they were declared dead.\n"
    "  --jobmanager EP   the JobManager's endpoint (jobmanager.address)\n"
    "  --json            one JSON document instead of the table\n";

int wr_cmd_actors(int argc, char **argv)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"json", no_argument, NULL, 'J'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    bool json = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&cc, "actors", optarg))) return rc;
            break;
        case 'E':
            if ((rc = wr_cli_cfg_etcd(&cc, "actors", optarg))) return rc;
            break;
        case 'j':
            if ((rc = wr_cli_cfg_override(&cc, "actors", "jobmanager.address", optarg))) return rc;
            break;
        case 'J':
            json = true;
            break;
        case 'h':
            fputs(s_actors_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_actors_usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        wr_cli_error("actors", "see weir actors --help", "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&cc, "actors", &rc);
    if (!cfg) return rc;
    rc = WR_EXIT_FAIL;
    wr_node_t *client = wr_cli_client(cfg, "actors", &rc);
    wr_msg_actors_reply_t actors;
    wr_msg_t *reply = client ? wr_cli_ask_jm(client, cfg, "actors", WR_MSG_ACTORS_REQ, NULL,
                                             WR_MSG_ACTORS_REPLY, &actors, NULL)
                             : NULL;
    if (reply) {
        if (!json) wr_render_actors(&actors, stdout);
        rc = s_print(reply, json, 0, "actors");
        wr_msg_actors_reply_release(&actors);
    }
    wr_msg_destroy(&reply);
    wr_node_destroy(&client);
    wr_config_destroy(&cfg);
    return rc;
}

/* ---- weir mailbox ---- */

static const char s_mailbox_usage[] =
    "usage: weir mailbox NODE/PATH [--peek N] [--watch] [--json] [--jobmanager ENDPOINT]\n"
    "\n"
    "One actor's mailbox: depth, capacity, high-water mark, enqueued/dequeued/rejected counts,\n"
    "rate, oldest message age, counts per message type, processing-time histogram, and its most\n"
    "recent messages with their payloads decoded to JSON, fields named by their declarations\n"
    "(bus/messages.h).\n"
    "  NODE/PATH         actor address as `weir actors` shows it, e.g. jm-1/jobmanager\n"
    "  --peek N          how many recent messages to show (default 5, at most 16)\n"
    "  --watch           refresh every second until Ctrl-C\n"
    "  --json            JSON instead of text (one document per refresh)\n";

int wr_cmd_mailbox(int argc, char **argv)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"peek", required_argument, NULL, 'p'},
                                         {"watch", no_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    bool json = false, watch = false;
    long peek = 5;
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&cc, "mailbox", optarg))) return rc;
            break;
        case 'E':
            if ((rc = wr_cli_cfg_etcd(&cc, "mailbox", optarg))) return rc;
            break;
        case 'j':
            if ((rc = wr_cli_cfg_override(&cc, "mailbox", "jobmanager.address", optarg))) return rc;
            break;
        case 'J':
            json = true;
            break;
        case 'w':
            watch = true;
            break;
        case 'p': {
            char *end;
            peek = strtol(optarg, &end, 10);
            if (*end || peek < 0 || peek > 16) {
                wr_cli_error("mailbox", "example: --peek 5", "--peek takes 0 to 16, got '%s'",
                             optarg);
                return WR_EXIT_USAGE;
            }
            break;
        }
        case 'h':
            fputs(s_mailbox_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_mailbox_usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        wr_cli_error("mailbox", "example: weir mailbox jm-1/jobmanager",
                     "expected one actor address");
        return WR_EXIT_USAGE;
    }
    const char *addr = argv[optind];
    if (!wr_addr_valid(addr)) {
        wr_cli_error("mailbox",
                     "addresses look like NODE/PATH, e.g. tm-1/taskmanager (see weir actors)",
                     "'%s' is not an actor address", addr);
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&cc, "mailbox", &rc);
    if (!cfg) return rc;
    if (watch) wr_cli_block_signals();
    rc = WR_EXIT_FAIL;
    wr_node_t *client = wr_cli_client(cfg, "mailbox", &rc);
    wr_msg_mailbox_req_t req = {.peek = (uint32_t)peek};
    snprintf(req.addr, sizeof req.addr, "%s", addr); /* a valid address fits */
    bool tty = isatty(STDOUT_FILENO);
    while (client) {
        wr_msg_mailbox_reply_t mb;
        wr_msg_t *reply = wr_cli_ask_jm(client, cfg, "mailbox", WR_MSG_MAILBOX_REQ, &req,
                                        WR_MSG_MAILBOX_REPLY, &mb, NULL);
        if (!reply) break;
        if (watch && tty && !json) printf("\033[H\033[2J");
        rc = s_print(reply, json, json ? 0 : wr_render_mailbox(&mb, stdout), "mailbox");
        wr_msg_mailbox_reply_release(&mb);
        wr_msg_destroy(&reply);
        if (!watch || rc || wr_cli_wait_signal(1000)) break;
    }
    wr_node_destroy(&client);
    wr_config_destroy(&cfg);
    return rc;
}
