/* The command line of `weir chaos` (chaos_opts.h). */
#include "cli/chaos_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/connectors/generator/generator.h"
#include "cli/chaos_nemesis.h"
#include "cli/chaos_report.h"
#include "cli/cli.h"
#include "cli/config.h"

#define S_CMD "chaos"

static const char s_usage[] =
    "usage: weir chaos [--duration 5min] [--seed N] [--faults kill,pause,partition,etcd]\n"
    "                  [--targets jm,tm,etcd] [--interval 10s] [--backend memory|rocksdb]\n"
    "                  [--sink exactly-once|at-least-once] [--devices N] [--rate N]\n"
    "                  [--checkpoint-interval 2s] [--json] [--report FILE.html] [--keep]\n"
    "                  [--set KEY=VALUE]... [--test-skip-commit N]\n"
    "       weir chaos --topology FILE [the options above but --sink, --devices, --rate and\n"
    "                  --test-skip-commit]\n"
    "\n"
    "Starts a cluster on this machine (3 etcd members, JobManagers jm-a and jm-b with HA, 3\n"
    "TaskManagers with 2 slots each; every link through a proxy that can cut it), runs a job "
    "whose\n"
    "output can be checked (generator -> key by -> sliding window -> file sink, parallelism 3),\n"
    "injects faults from a seeded schedule for --duration, heals everything, waits for the job to\n"
    "finish and checks its committed output against the generator: lost, duplicated and\n"
    "unexpected results, and the verdict. Prints the faults with the time until the cluster\n"
    "noticed each and the job ran again, availability, throughput, checkpoints, restarts, the\n"
    "peak memory of every process. Exit 0 when valid, 1 when not, 2 on usage errors.\n"
    "Settings: heartbeat.timeout 2s, restart-strategy fixed-delay 500ms, the lease of\n"
    "deploy/weir.yaml (high-availability.etcd.lease-ttl 3s); --set changes them.\n"
    "With --topology, the job is the file's (as weir submit takes it): run once without faults\n"
    "(the reference), then again with faults until it finishes, its committed lines compared\n"
    "with the reference's (JSON objects field by field, numbers with a fraction within a\n"
    "relative 1e-9). It must end by itself (a file source, a generator with a total) and write\n"
    "to file sinks only, whose paths the command sets (each run in its own folder).\n"
    "\n"
    "  --duration D            how long faults are injected, from the job's first RUNNING (5min);\n"
    "                          --topology: the most each run may take\n"
    "  --seed N                the schedule's seed (default: from the clock; printed)\n"
    "  --faults LIST           nemeses, of kill,pause,partition,etcd (default: all)\n"
    "  --targets LIST          node kinds hit, of jm,tm,etcd (default: all); a partition counts\n"
    "                          for every kind it separates\n"
    "  --interval D            from a fault's start to the next one's, +-30% (10s); never\n"
    "                          before the previous one healed and the job runs again\n"
    "  --backend B             state.backend: memory or rocksdb (memory)\n"
    "  --sink S                exactly-once (part files) or at-least-once (one file)\n"
    "  --devices N             devices of the generator (10000)\n"
    "  --rate N                records/s of the generator (20000, or --devices / 5 when more:\n"
    "                          a reading of every device every 5 s); --rate x --duration records\n"
    "  --checkpoint-interval D execution.checkpointing.interval (2s)\n"
    "  --json                  one JSON object on stdout (the schedule goes to stderr)\n"
    "  --report FILE.html      an HTML page: throughput over time with the faults on it\n"
    "  --keep                  keep the run's folder (logs, output) and say where\n"
    "  --set KEY=VALUE         configuration of every daemon (at most 16)\n"
    "  --test-skip-commit N    test only: the sink drops checkpoint N's commit (lost results)\n"
    "  --topology FILE         the user's job, checked against a run of it without faults\n";

static const char *const s_target_names[3] = {"etcd", "jm", "tm"}; /* wr_chaos_node_kind_t */

int wr_chaos_opts_parse(int argc, char **argv, wr_chaos_opts_t *o)
{
    *o = (wr_chaos_opts_t){.duration_ms = 300000,
                           .interval_ms = 10000,
                           .checkpoint_ms = 2000,
                           .devices = 10000,
                           .exactly_once = true,
                           .faults = (1u << WR_CHAOS_NKINDS) - 1,
                           .targets = WR_CHAOS_TARGETS_ALL,
                           .backend = "memory"};
    static const struct option opts[] = {{"duration", required_argument, NULL, 'd'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"faults", required_argument, NULL, 'f'},
                                         {"targets", required_argument, NULL, 't'},
                                         {"interval", required_argument, NULL, 'i'},
                                         {"backend", required_argument, NULL, 'b'},
                                         {"sink", required_argument, NULL, 'k'},
                                         {"devices", required_argument, NULL, 'n'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"checkpoint-interval", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"report", required_argument, NULL, 'R'},
                                         {"keep", no_argument, NULL, 'K'},
                                         {"set", required_argument, NULL, 'S'},
                                         {"test-skip-commit", required_argument, NULL, 'T'},
                                         {"topology", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    char bad_name[64];
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        const char *bad = NULL; /* what the option wanted, when its value is wrong */
        if ((c == 'k' || c == 'n' || c == 'r' || c == 'T') && !o->builtin)
            o->builtin = opts[li].name;
        switch (c) {
        case 'd':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o->duration_ms) ||
                o->duration_ms < 1000 || o->duration_ms > 86400000)
                bad = "a duration from 1s to 24h (5min)";
            break;
        case 'i':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o->interval_ms) ||
                o->interval_ms < 100 || o->interval_ms > 3600000)
                bad = "a duration from 100ms to 1h (10s)";
            break;
        case 'c':
            if (wr_config_parse_value(WR_CFG_DURATION, optarg, &o->checkpoint_ms) ||
                o->checkpoint_ms < 100 || o->checkpoint_ms > 3600000)
                bad = "a duration from 100ms to 1h (2s)";
            break;
        case 's':
            if (!wr_cli_count(optarg, 0, UINT64_MAX, &o->seed)) bad = "a number";
            o->seeded = true;
            break;
        case 'f':
            if (wr_chaos_parse_list(optarg, wr_chaos_kind_name, WR_CHAOS_NKINDS, &o->faults,
                                    bad_name, sizeof bad_name))
                optarg = bad_name, bad = "one of kill, pause, partition, etcd";
            break;
        case 't':
            if (wr_chaos_parse_list(optarg, s_target_names, 3, &o->targets, bad_name,
                                    sizeof bad_name))
                optarg = bad_name, bad = "one of jm, tm, etcd";
            break;
        case 'b':
            if (strcmp(optarg, "memory") && strcmp(optarg, "rocksdb")) bad = "memory or rocksdb";
            o->backend = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "exactly-once") && strcmp(optarg, "at-least-once"))
                bad = "exactly-once or at-least-once";
            o->exactly_once = !strcmp(optarg, "exactly-once");
            break;
        case 'n':
            if (!wr_cli_count(optarg, 1, WR_GEN_MAX_DEVICES, &o->devices))
                bad = "a count of devices (10000)";
            break;
        case 'r':
            if (!wr_cli_count(optarg, 1, 100000000, &o->rate)) bad = "1 to 100000000";
            break;
        case 'J':
            o->json = true;
            break;
        case 'R':
            o->report = optarg;
            break;
        case 'K':
            o->keep = true;
            break;
        case 'T':
            if (!wr_cli_count(optarg, 1, UINT32_MAX, &o->skip_commit)) bad = "a checkpoint id";
            break;
        case 'P':
            o->topology = optarg;
            break;
        case 'S': /* a copy for the daemons: wr_cli_cfg_set_arg cuts optarg at its '=' */
            if (o->nsets == WR_CHAOS_MAX_SETS)
                bad = "one of at most 16 --set";
            else if ((size_t)snprintf(o->sets[o->nsets], sizeof o->sets[0], "%s", optarg) >=
                     sizeof o->sets[0])
                bad = "KEY=VALUE of at most 511 bytes";
            else if (wr_cli_cfg_set_arg(&cc, S_CMD, optarg))
                return WR_EXIT_USAGE;
            else
                o->nsets++;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return -1;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (bad) {
            wr_cli_error(S_CMD, "see weir chaos --help", "--%s: '%s' is not %s", opts[li].name,
                         optarg, bad);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error(S_CMD, "it takes options only (see weir chaos --help)",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    if (o->topology && o->builtin) {
        wr_cli_error(S_CMD, "see weir chaos --help",
                     "--%s is for the built-in job: with --topology the job is the file's",
                     o->builtin);
        return WR_EXIT_USAGE;
    }
    if (!wr_chaos_nemesis_allowed(o->faults, o->targets)) {
        wr_cli_error(S_CMD, "see weir chaos --help",
                     "no fault of --faults hits a node of --targets (etcd faults hit etcd only)");
        return WR_EXIT_USAGE;
    }
    int code;
    wr_config_t *cfg = wr_cli_cfg_build(&cc, S_CMD, &code); /* the daemons' settings, checked */
    if (!cfg) return code;
    wr_config_destroy(&cfg);
    if (!o->rate) o->rate = o->devices / 5 > 20000 ? o->devices / 5 : 20000;
    if (!o->seeded) o->seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
    return 0;
}
