/* The command line of `weir chaos` (cli/cmd_chaos.c): its options, their defaults, parsed and
 * checked before anything starts. */
#ifndef WR_CHAOS_OPTS_H
#define WR_CHAOS_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#define WR_CHAOS_MAX_SETS 16 /* --set KEY=VALUE */

typedef struct {
    int64_t duration_ms, interval_ms, checkpoint_ms;
    uint64_t seed, devices, rate, skip_commit;
    bool seeded, json, keep, exactly_once;
    unsigned faults, targets;
    const char *backend, *report;
    const char *topology; /* --topology FILE, NULL: the built-in job */
    const char *builtin;  /* the first option given that only the built-in job takes, NULL */
    char sets[WR_CHAOS_MAX_SETS][512];
    int nsets;
} wr_chaos_opts_t;

/* Parses argv into *o, from the defaults (5 min of every fault on every target every 10 s, 10,000
 * devices at 20,000 records/s or a reading of each every 5 s when that is more, checkpoints every
 * 2 s, the memory backend, the exactly-once sink; the seed from the clock unless --seed). o's
 * strings point into argv. 0; -1 after --help printed the usage on stdout; or WR_EXIT_USAGE
 * after saying why on stderr (a bad value, an argument, a built-in job's option with
 * --topology, no fault of --faults for --targets, a --set the daemons' configuration refuses). */
int wr_chaos_opts_parse(int argc, char **argv, wr_chaos_opts_t *o);

#endif
