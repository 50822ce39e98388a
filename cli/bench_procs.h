/* The child processes of a benchmark that runs a cluster of real processes (weir bench failover,
 * weir bench iot): daemons started from this binary (or etcd) in a temp folder of the run, their
 * output in files there, killed on every exit path.
 *
 * - A child runs in its own process group (a Ctrl-C at the terminal reaches only the benchmark,
 *   which then kills it) and dies with the benchmark (PR_SET_PDEATHSIG) should that be killed.
 * - Waits sleep through wr_cli_wait_signal: SIGINT/SIGTERM (blocked by the caller before any
 *   thread, wr_cli_block_signals) end them early with WR_BENCH_STOPPED, the signal kept in
 *   wr_bench_procs_t.signal.
 * - Not thread-safe: one benchmark thread drives its children. */
#ifndef WR_BENCH_PROCS_H
#define WR_BENCH_PROCS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "actors/cluster/cluster.h"
#include "actors/dataflow/job/topology.h"
#include "actors/runtime/node.h"
#include "bus/msg.h"

/* What a wait returns once SIGINT/SIGTERM came: the run is to be shut down. */
#define WR_BENCH_STOPPED WR_ECLOSED

/* A child, started again under the same name after a kill. */
typedef struct {
    char name[WR_NODE_MAX];
    pid_t pid; /* 0: not running */
    int starts;
    int port;           /* the port it binds (kept across restarts), 0 when none */
    bool quiet;         /* its stdout goes to /dev/null (a job's stdout sink), not to a file */
    char log[PATH_MAX]; /* stderr of the current process: <dir>/<name>.<start>.log */
} wr_bench_proc_t;

typedef struct {
    const char *cmd;              /* "bench failover": errors say it */
    char dir[64];                 /* the temp folder; "" until made */
    char exe[PATH_MAX];           /* this binary */
    char **envp;                  /* the children's environment: this one's with WEIR_LOG=info */
    char keys[PATH_MAX];          /* the cluster's keys (wr_bench_keys): <dir>/keys; "" before */
    char keys_set[PATH_MAX + 32]; /* security.keys-dir=<keys>, given to every daemon */
    bool curve;                   /* security.curve (wr_bench_keys): the keys are used */
    int signal;                   /* SIGINT/SIGTERM received: stop */
} wr_bench_procs_t;

/* Makes /tmp/weir-bench-<name>-XXXXXX, finds this binary and the children's environment. 0, or
 * the failure said on stderr (what was made is released by wr_bench_procs_release). */
int wr_bench_procs_init(wr_bench_procs_t *ps, const char *cmd, const char *name);
/* Frees the environment and removes the folder unless keep. Kill the children first. */
void wr_bench_procs_release(wr_bench_procs_t *ps, bool keep);

/* A TCP port on 127.0.0.1 that was free a moment ago (bound and released: another process may
 * take it meanwhile), -1 when none. Drawn at random outside the kernel's ephemeral range
 * (net.ipv4.ip_local_port_range), where connect takes its local ports: a cluster that makes and
 * breaks many connections (weir chaos) would otherwise find a daemon's port, kept across its
 * restarts, taken by one of its own connections. Outside the range it competes only with other
 * picks like it (tests/support/process.h's ps_free_port is this function), and never gives 8081,
 * rest.port's default, or 9249, metrics.prometheus.port's, which any daemon started meanwhile may
 * take. With WEIR_PORTS=LO-HI in the environment (1024 <= LO, LO + 100 <= HI <= 65536; anything
 * else is passed over) it draws from [LO, HI) instead: `scons test` gives each test binary running
 * beside others a range of its own, so that two never pick the same port. */
int wr_bench_free_port(void);
/* Milliseconds of a monotonic clock. */
int64_t wr_bench_ms(void);
/* Sleeps ms unless SIGINT/SIGTERM comes first (then false, ps->signal set). */
bool wr_bench_nap(wr_bench_procs_t *ps, int64_t ms);

/* Starts path with argv (argv[0] included, NULL-terminated) as p's next process: stdout in
 * <dir>/<name>.<start>.out (or /dev/null when p->quiet), stderr in p->log, stdin /dev/null.
 * 0 or WR_EIO. */
int wr_bench_spawn(wr_bench_procs_t *ps, wr_bench_proc_t *p, const char *path, char *const argv[]);
/* Makes the cluster's keys in <dir>/keys (bus/keys.h, as `weir keygen`): a certificate for each
 * of the n names with its role, and client (role admin) for the benchmark's own client node, whose
 * id must then be "<client>.<anything>". curve (kept in ps->curve): security.curve of the
 * daemons' configuration, whether the client node is to use its key. 0, or the failure said on
 * stderr. */
int wr_bench_keys(wr_bench_procs_t *ps, const char *const names[], const wr_role_t roles[],
                  size_t n, const char *client, bool curve);
/* wr_bench_spawn of this binary with argv's n arguments (room for 2 * nsets + 6 more and the
 * NULL), then for a jobmanager or taskmanager (argv[1]) "--set" rest.port=0 (a jobmanager's) and
 * metrics.prometheus.port=0 (ports the kernel picks: several daemons on one host), "--set" and
 * the keys folder (once wr_bench_keys made it) and "--set" and each of sets (KEY=VALUE: the
 * benchmark's own --set, for every daemon, after the ports: they may set them). */
int wr_bench_spawn_weir(wr_bench_procs_t *ps, wr_bench_proc_t *p, char *argv[], int n,
                        const char (*sets)[512], int nsets);
/* SIGKILL and reap; nothing when p is not running. */
void wr_bench_kill(wr_bench_proc_t *p);
/* False when p has exited (reaped then). */
bool wr_bench_alive(wr_bench_proc_t *p);
/* A file's contents (NUL-terminated; the caller frees), NULL when it cannot be read. */
char *wr_bench_slurp(const char *path);
/* Waits until p's log holds needle: 0, WR_EIO when p exits first, WR_ETIMEDOUT,
 * WR_BENCH_STOPPED on a signal. */
int wr_bench_wait_log(wr_bench_procs_t *ps, wr_bench_proc_t *p, const char *needle,
                      int64_t timeout_ms);
/* Prints the last lines of the log of each of the n children that ever started to stderr (after
 * a failure). */
void wr_bench_dump_logs(const wr_bench_proc_t *const all[], size_t n);
/* The peak resident set of a running child in bytes (VmHWM of /proc/PID/status), 0 when not
 * known. */
uint64_t wr_bench_peak_rss(const wr_bench_proc_t *p);

/* Parses the topology yaml and submits it through client to the JobManager at address jm (its
 * actor), asking again while the cluster has too few slots, for up to 30 s: 0 with the job's id,
 * or the failure said on stderr (WR_BENCH_STOPPED on a signal). */
int wr_bench_submit(wr_bench_procs_t *ps, wr_node_t *client, const char *jm, const char *yaml,
                    char id[WR_JOB_ID_MAX]);
/* The same for a topology already read (borrowed). */
int wr_bench_submit_topology(wr_bench_procs_t *ps, wr_node_t *client, const char *jm,
                             const wr_topology_t *t, char id[WR_JOB_ID_MAX]);

/* Starts /usr/bin/etcd as p, member p->name, serving clients on 127.0.0.1:client_port (kept in
 * p->port) and its peers on 127.0.0.1:peer_port, data in <dir>/<name>.data, without waiting:
 * initial_cluster is etcd's --initial-cluster ("etcd-1=http://127.0.0.1:PEER,..."; NULL: p
 * alone). Started again with the same arguments, a member finds its data and rejoins (etcd then
 * ignores the initial flags). 0 or WR_EIO. */
int wr_bench_spawn_etcd(wr_bench_procs_t *ps, wr_bench_proc_t *p, int client_port, int peer_port,
                        const char *initial_cluster);
/* Starts a one-member etcd (/usr/bin/etcd) as p on two free ports, data in <dir>/<name>.data,
 * and waits until it serves: 0 with its client URL in url, or the failure said on stderr. */
int wr_bench_start_etcd(wr_bench_procs_t *ps, wr_bench_proc_t *p, char url[64]);
#define WR_BENCH_ETCD_BIN "/usr/bin/etcd"

#endif
