/* The cluster of `weir chaos`: real processes on this machine, every link between them through
 * the chaos proxy (cli/chaos_proxy.h).
 *
 *   etcd-1..3  one etcd cluster (/usr/bin/etcd, --initial-cluster on free 127.0.0.1 ports); the
 *              members talk to each other directly, clients reach each through a proxy route
 *   jm-a, jm-b JobManagers with HA through etcd (bus.source-address 127.0.0.11, .12)
 *   tm-1..3    TaskManagers with 2 slots each (bus.source-address 127.0.0.21 .. .23)
 *
 * Each daemon binds a free 127.0.0.1 port of its own and is told to advertise the proxy's route
 * to it instead (bus.advertised-endpoint), and is given the proxy's etcd routes (--etcd): every
 * JobManager<->TaskManager, TaskManager<->TaskManager and daemon->etcd connection goes through
 * the proxy, which knows who dialed by the source address. A restarted process keeps its ports,
 * its address and its id. The chaos command's own client node dials the JobManagers' real ports
 * (wr_chaos_cluster_endpoint), so no fault ever cuts it.
 *
 * The processes (wr_bench_procs_t's): CURVE keys on, logs in the run's folder, killed with the
 * command (PR_SET_PDEATHSIG). Members are numbered 0 .. wr_chaos_cluster_size()-1: the etcd
 * members (0 .. WR_CHAOS_ETCDS-1), then the JobManagers, then the TaskManagers. Not thread-safe:
 * one thread drives it. */
#ifndef WR_CHAOS_CLUSTER_H
#define WR_CHAOS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/bench_procs.h"
#include "cli/chaos_proxy.h"
#include "cli/chaos_report.h"

#define WR_CHAOS_ETCDS 3
#define WR_CHAOS_JMS   2
#define WR_CHAOS_TMS   3
#define WR_CHAOS_SLOTS 2 /* per TaskManager */

/* What a member is (--targets spells them "etcd", "jm", "tm"). */
typedef enum { WR_CHAOS_NODE_ETCD, WR_CHAOS_NODE_JM, WR_CHAOS_NODE_TM } wr_chaos_node_kind_t;
extern const char *const wr_chaos_node_kind_name[3];

/* What a member does now. */
typedef enum { WR_CHAOS_UP, WR_CHAOS_PAUSED, WR_CHAOS_DOWN } wr_chaos_node_state_t;

typedef struct wr_chaos_cluster wr_chaos_cluster_t;

typedef struct {
    const char *backend;     /* state.backend: "memory" or "rocksdb" */
    int64_t checkpoint_ms;   /* execution.checkpointing.interval */
    int64_t heartbeat_ms;    /* heartbeat.timeout */
    int64_t restart_ms;      /* restart-strategy.fixed-delay.delay */
    const char (*sets)[512]; /* more KEY=VALUE for every daemon (--set), after ours */
    int nsets;
} wr_chaos_cluster_opts_t;

/* Starts the proxy, the etcd members, jm-a (which then leads), jm-b and the TaskManagers in ps's
 * folder (keys made there, client certificate "chaos" with role admin), waiting for each to say
 * it started (30 s each). 0 with *out; otherwise the failure is said on stderr, the daemons'
 * last log lines too, everything started is stopped again and *out is NULL (WR_BENCH_STOPPED
 * when SIGINT/SIGTERM came). */
int wr_chaos_cluster_new(wr_bench_procs_t *ps, const wr_chaos_cluster_opts_t *o,
                         wr_chaos_cluster_t **out);
/* Kills every process and stops the proxy; nulls *p. NULL-safe. The folder stays (ps's). */
void wr_chaos_cluster_destroy(wr_chaos_cluster_t **p);

size_t wr_chaos_cluster_size(const wr_chaos_cluster_t *c);
const char *wr_chaos_cluster_name(const wr_chaos_cluster_t *c, size_t i);
wr_chaos_node_kind_t wr_chaos_cluster_kind(const wr_chaos_cluster_t *c, size_t i);
/* UP, PAUSED (SIGSTOP'd by us) or DOWN (killed by us, or it exited: reaped then). */
wr_chaos_node_state_t wr_chaos_cluster_state(wr_chaos_cluster_t *c, size_t i);
/* The member named name, or -1. */
int wr_chaos_cluster_find(const wr_chaos_cluster_t *c, const char *name);
/* The real endpoint of a JobManager or TaskManager (tcp://127.0.0.1:PORT): for the client only. */
const char *wr_chaos_cluster_endpoint(const wr_chaos_cluster_t *c, size_t i);
/* The proxy (borrowed): cut and heal links by the members' names. */
wr_chaos_proxy_t *wr_chaos_cluster_proxy(wr_chaos_cluster_t *c);

/* SIGKILL (a paused member too) and reap, its peak RSS sampled first; nothing when down. */
void wr_chaos_cluster_kill(wr_chaos_cluster_t *c, size_t i);
/* Starts a down member again under its name, ports and address, without waiting for it. 0
 * (nothing when it runs), or WR_EIO. */
int wr_chaos_cluster_start(wr_chaos_cluster_t *c, size_t i);
/* SIGSTOP (pause true) or SIGCONT a running member; nothing when down. */
void wr_chaos_cluster_pause(wr_chaos_cluster_t *c, size_t i, bool pause);
/* Every link healed, every paused member continued, every down member started again. 0 or the
 * first start's failure. */
int wr_chaos_cluster_heal(wr_chaos_cluster_t *c);

/* The peak RSS of every member (VmHWM; the highest over all its processes, sampled before each
 * kill and now) and how many times it started, into r->procs. */
void wr_chaos_cluster_peaks(wr_chaos_cluster_t *c, wr_chaos_result_t *r);
/* Prints the last lines of every member's log to stderr (after a failure). */
void wr_chaos_cluster_dump_logs(const wr_chaos_cluster_t *c);

#endif
