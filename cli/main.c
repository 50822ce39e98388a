/* weir: the command-line entry point. One binary, one subcommand per job. */
#include <czmq.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define WR_VERSION "0.1.0"

static const struct {
    const char *name;
    wr_cmd_fn fn;
    const char *summary;
} s_cmds[] = {
    {"local", wr_cmd_local, "run a topology (or just a cluster) in this one process"},
    {"jobmanager", wr_cmd_jobmanager, "run a JobManager process"},
    {"taskmanager", wr_cmd_taskmanager, "run a TaskManager process"},
    {"actors", wr_cmd_actors, "list every actor of the cluster with its mailbox figures"},
    {"mailbox", wr_cmd_mailbox, "inspect one actor's mailbox and its recent messages"},
    {"submit", wr_cmd_submit, "submit a topology file to the cluster"},
    {"jobs", wr_cmd_jobs, "list the cluster's jobs"},
    {"job", wr_cmd_job, "one job: state and per-operator figures"},
    {"cancel", wr_cmd_cancel, "cancel a running job"},
    {"checkpoints", wr_cmd_checkpoints, "a job's checkpoints: status, duration, sizes"},
    {"savepoint", wr_cmd_savepoint, "take a savepoint of a running job"},
    {"stop", wr_cmd_stop, "stop a job with a savepoint"},
    {"bench", wr_cmd_bench, "run a benchmark (bus, mailbox, window)"},
};

static void s_usage(FILE *out)
{
    fprintf(out, "usage: weir COMMAND [OPTIONS]\n\n"
                 "weir is a stream-processing runtime: actors over a ZeroMQ/msgpack bus.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        fprintf(out, "  %-12s %s\n", s_cmds[i].name, s_cmds[i].summary);
    fprintf(out,
            "\n`weir COMMAND --help` describes a command's options. Configuration keys and their\n"
            "defaults are documented in deploy/weir.yaml.\n");
}

int main(int argc, char **argv)
{
    /* weir handles SIGINT/SIGTERM itself (sigwait in the main thread): keep czmq's handler out,
     * and block both before any thread starts so that every thread inherits the mask */
    zsys_handler_set(NULL);
    /* Batches are tens of KiB, allocated on one thread and freed on another. Keep freed memory in
     * the process instead of returning it to the kernel: first touch of a fresh page costs ~16 us
     * here, which at one batch per ~20 us would dominate the data path. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    wr_cli_block_signals();
    if (argc < 2) {
        s_usage(stderr);
        return WR_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        s_usage(stdout);
        return WR_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("weir %s\n", WR_VERSION);
        return WR_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++) {
        if (strcmp(cmd, s_cmds[i].name)) continue;
        int rc = s_cmds[i].fn(argc - 1, argv + 1);
        zsys_shutdown();
        return rc;
    }
    fprintf(stderr, "weir: unknown command '%s'\n  `weir --help` lists the commands.\n", cmd);
    return WR_EXIT_USAGE;
}
