/* The one table of `weir` subcommands, and the overview `weir --help` prints from it. */
#include <string.h>

#include "cli/cli.h"

static const wr_cli_cmd_t s_cmds[] = {
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
    {"keygen", wr_cmd_keygen, "make a cluster's CURVE keys (security.curve)"},
    {"chaos", wr_cmd_chaos, "fault injection on a cluster of this machine, with a verdict"},
    {"kafka-mock", wr_cmd_kafka_mock,
     "a Kafka cluster for development and tests (librdkafka's mock)"},
    {"bench", wr_cmd_bench, "run a benchmark:"}, /* the overview appends the benchmarks' names */
};

const wr_cli_cmd_t *wr_cli_commands(size_t *n)
{
    *n = sizeof s_cmds / sizeof s_cmds[0];
    return s_cmds;
}

const wr_cli_cmd_t *wr_cli_command(const wr_cli_cmd_t *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

void wr_cli_join_names(const wr_cli_cmd_t *table, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", table[i].name);
}

void wr_cli_usage(FILE *out)
{
    size_t n, nb;
    const wr_cli_cmd_t *cmds = wr_cli_commands(&n), *benches = wr_bench_commands(&nb);
    fprintf(out, "usage: weir COMMAND [OPTIONS]\n\n"
                 "weir is a stream-processing runtime: actors over a ZeroMQ/msgpack bus.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-12s %s", cmds[i].name, cmds[i].summary);
        if (cmds[i].fn == wr_cmd_bench) {
            fputc(' ', out);
            wr_cli_join_names(benches, nb, out);
        }
        fputc('\n', out);
    }
    fprintf(
        out,
        "\n`weir COMMAND --help` (and `weir bench NAME --help`) describes a command's options.\n"
        "Configuration keys and their defaults are documented in deploy/weir.yaml.\n");
}
