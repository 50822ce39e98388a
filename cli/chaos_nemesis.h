/* The faults of `weir chaos`: a schedule drawn from a seed, and applying and healing one fault on
 * the cluster (cli/chaos_cluster.h).
 *
 * The schedule is a pure function of the seed, the allowed nemeses (--faults), the allowed
 * target kinds (--targets) and the interval: the same arguments give the same kinds, targets,
 * hold times and gaps, drawn from a splitmix64 stream of the seed. The kinds come in rounds (each
 * allowed kind once a round, in a seeded order), and each kind's variants and target kinds in
 * turn from a seeded start, so that a short run covers them all; each fault then draws four values
 * (members, hold, gap) whatever it becomes. A fault that names "the leader" is resolved when it is
 * applied (the JobManager that answers for the job then).
 *
 *   kill       SIGKILL a JobManager or TaskManager (an etcd member when --targets has neither),
 *              restarted after hold (0-3 s). A JobManager fault (kill or pause) is aimed at the
 *              leader or at the standby in turn, the leader first: a kill of the standby proves
 *              little, and a seed must not decide whether the leader is ever hit.
 *   pause      SIGSTOP one the same way for hold (0.5-6 s: both shorter and longer than
 *              heartbeat.timeout and the lease), then SIGCONT
 *   partition  for hold (1-6 s), one of: the leader | every TaskManager both ways, the leader ->
 *              every TaskManager only, every TaskManager -> the leader only, one TaskManager | the
 *              other TaskManagers both ways, the leader | every etcd member both ways. Allowed
 *              when any kind it separates is allowed (leader | etcd counts as jm and etcd).
 *   etcd       (etcd targets only) kill one member and restart it after hold (1-4 s), pause one
 *              for hold (1-4 s), or kill two of the three (quorum lost) for hold (2-6 s)
 * The gap of a fault is the interval +-30%: the time from the previous fault's start to its
 * own (the command starts none before the previous one healed). */
#ifndef WR_CHAOS_NEMESIS_H
#define WR_CHAOS_NEMESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"
#include "cli/chaos_cluster.h"
#include "cli/chaos_report.h"

/* A bit per target kind (1u << wr_chaos_node_kind_t). */
#define WR_CHAOS_TARGET(kind) (1u << (kind))
#define WR_CHAOS_TARGETS_ALL  7u

/* The ways a fault of a kind can go. */
typedef enum {
    WR_CHAOS_V_NODE,             /* kill, pause: one member */
    WR_CHAOS_V_LEADER_TMS_BOTH,  /* partition */
    WR_CHAOS_V_LEADER_TO_TMS,    /* partition, one way */
    WR_CHAOS_V_TMS_TO_LEADER,    /* partition, one way */
    WR_CHAOS_V_TM_TMS_BOTH,      /* partition */
    WR_CHAOS_V_LEADER_ETCD_BOTH, /* partition */
    WR_CHAOS_V_ETCD_KILL,        /* etcd: kill one member */
    WR_CHAOS_V_ETCD_PAUSE,       /* etcd: pause one member */
    WR_CHAOS_V_ETCD_QUORUM,      /* etcd: kill two members */
    WR_CHAOS_NVARIANTS
} wr_chaos_variant_t;

/* One fault of the schedule. */
typedef struct {
    int kind; /* WR_CHAOS_KILL ... */
    wr_chaos_variant_t variant;
    int node, node2; /* members drawn (node2: the second of a quorum loss); -1 none, or a
                      * JobManager fault's target until applied (see standby) */
    bool standby;    /* a JobManager kill or pause: aimed at the JobManager that does not lead
                      * (else at the leader); resolved, into node, when applied */
    int64_t hold_ms; /* restart delay, pause or partition time */
    int64_t gap_ms;  /* from the previous fault's start to its own */
    /* set by wr_chaos_nemesis_apply, for heal */
    int leader; /* the JobManager it was aimed at (-1: none) */
} wr_chaos_plan_t;

/* Whether some fault is allowed by both masks (below); false is a usage error. */
bool wr_chaos_nemesis_allowed(unsigned faults, unsigned targets);

/* The schedule: up to max faults (enough for the duration: at least duration / (0.7 interval)),
 * drawn from seed. faults and targets: bit masks (1u << WR_CHAOS_KILL ..., WR_CHAOS_TARGET(..)).
 * Returns how many were drawn, 0 when no fault is allowed by both masks (a usage error). */
size_t wr_chaos_nemesis_schedule(uint64_t seed, unsigned faults, unsigned targets,
                                 int64_t interval_ms, wr_chaos_plan_t *out, size_t max);

/* One fault in words, before it is applied ("kill -9 tm-2, restart after 1.4 s"), into out. */
void wr_chaos_nemesis_describe(const wr_chaos_plan_t *p, const wr_chaos_cluster_t *c,
                               const char *leader, char *out, size_t n);

/* Applies p (leader: the member index of the JobManager that leads now, -1 unknown: jm-a then)
 * and fills f (kind, target, target_kind, what; the caller sets the times). The target of a
 * partition of the leader's links, either way, is the leader (a JobManager fault); of a
 * TaskManager's from the others, that TaskManager. 0, or a failure to
 * act on the proxy (WR_EINVAL: a bug). */
int wr_chaos_nemesis_apply(wr_chaos_cluster_t *c, wr_chaos_plan_t *p, int leader,
                           wr_chaos_fault_t *f);
/* Heals what apply did: restarts the killed, continues the paused, heals the links. 0 or the
 * restart's failure (WR_EIO). */
int wr_chaos_nemesis_heal(wr_chaos_cluster_t *c, const wr_chaos_plan_t *p);

/* Parses a comma-separated list of names (names[0..n-1]) into a bit mask: 0 with *mask, or
 * WR_EINVAL with the unknown name in bad (n bytes). */
int wr_chaos_parse_list(const char *arg, const char *const names[], unsigned n, unsigned *mask,
                        char *bad, size_t badn);

#endif
