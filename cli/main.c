/* weir: the command-line entry point. One binary, one subcommand per job. */
#include <czmq.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

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
        wr_cli_usage(stderr);
        return WR_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        wr_cli_usage(stdout);
        return WR_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("weir %s\n", WR_VERSION);
        return WR_EXIT_OK;
    }
    size_t n;
    const wr_cli_cmd_t *cmds = wr_cli_commands(&n);
    const wr_cli_cmd_t *c = wr_cli_command(cmds, n, cmd);
    if (c) {
        /* the subcommand's argv[0] is its full name: getopt's messages begin with it */
        char name[64];
        snprintf(name, sizeof name, "weir %s", cmd);
        argv[1] = name;
        int rc = c->fn(argc - 1, argv + 1);
        zsys_shutdown();
        return rc;
    }
    fprintf(stderr, "weir: unknown command '%s'\n  `weir --help` lists the commands.\n", cmd);
    return WR_EXIT_USAGE;
}
