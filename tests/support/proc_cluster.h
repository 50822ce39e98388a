/* A cluster of real `weir` processes on loopback (tests/support/process.h runs them and cleans up):
 * a JobManager (jm-1) on a free port and TaskManagers tm-a and tm-b, each restarted at will (the
 * JobManager on the same port, a TaskManager under the same id), the CLI pointed at it, and what
 * `weir actors --json` says about it. The in-process cluster is tests/support/cluster.h; this one
 * is for what needs the process boundary. pc_ is for "process cluster".
 *
 *     pc_cluster_t c = {.settings = PS_ARGV("--set", "heartbeat.timeout=1s")};
 *     pc_cluster_start(&c);                    // every TaskManager registered, its heartbeat heard
 *     ps_result_t r = pc_cli(&c, PS_ARGV("jobs", "--json"));
 *     ps_kill9(c.tm[0]);
 *     pc_tm_start(&c, 0);                      // a new process under the same id
 *     pc_wait_joined(&c, 0, 2);                // registered a second time
 *     pc_cluster_stop(&c);                     // SIGTERM: every daemon must exit 0
 *
 * Setting up is not what a test checks: a daemon that does not start, a TaskManager that does not
 * join, a CLI command that hangs fail the test (PS_FAIL, with the logs). A daemon a test killed on
 * purpose and did not start again, it sets to NULL (or releases): pc_cluster_stop checks the rest.
 */
#ifndef WR_TEST_PROC_CLUSTER_H
#define WR_TEST_PROC_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define PC_MAX_TMS  2
#define PC_START_MS 15000 /* a daemon prints its first line, a TaskManager joins (ASan: slow) */
#define PC_CLI_MS   20000 /* one CLI command runs to completion */
#define PC_STOP_MS  10000 /* a daemon exits after SIGTERM */

typedef struct {
    /* set before pc_cluster_start, all optional */
    int ntms;                       /* TaskManagers tm-a, tm-b (0: PC_MAX_TMS) */
    const char *const *settings;    /* flags for every daemon ("--set", "KEY=VALUE", ...) */
    const char *const *jm_settings; /* more flags for the JobManager */
    const char *const *tm_settings; /* flags for the TaskManagers instead of settings */
    const char *const *jm_target;   /* how TaskManagers and the CLI find the JobManager instead of
                                       "--jobmanager", endpoint: "--etcd", URLS (ha_cluster.h) */
    struct wr_chaos_proxy *proxy;   /* not NULL: TaskManager i dials from 127.0.0.(20 + i) and
                                       is reached through a route of this proxy (its advertised
                                       endpoint), named after its id, so that the test can cut
                                       the links between TaskManagers (cli/chaos_proxy.h); the
                                       JobManager's links never are. The test makes and destroys
                                       it */
    /* the cluster */
    int port;
    char endpoint[64]; /* the JobManager's; a restarted one binds it again */
    ps_proc_t *jm, *tm[PC_MAX_TMS];
    int jm_starts, tm_starts[PC_MAX_TMS]; /* processes started so far (their logs' names) */
    int tm_port[PC_MAX_TMS];              /* each TaskManager's port, bound again on a restart */
} pc_cluster_t;

/* The TaskManagers' ids: "tm-a", "tm-b". */
extern const char *const pc_tm_ids[PC_MAX_TMS];

/* ---- keys ---- */

/* Makes sock (a raw ZeroMQ socket of a test, not yet connected) a CURVE client with the key of
 * certificate `me` of the keys ps_group_setup made (or of the keys in dir, when not NULL) for a
 * connection to node `server` (whose public key is taken from the same folder). Fails the test
 * when a key is missing. */
void pc_curve_client(void *sock, const char *dir, const char *me, const char *server);

/* ---- lifecycle ---- */

/* Starts the JobManager and TaskManagers and waits until each joined (pc_wait_joined). */
void pc_cluster_start(pc_cluster_t *c);
/* SIGCONT and SIGTERM to every daemon of c (a paused one too), TaskManagers first; each must exit
 * 0 within PC_STOP_MS with no sanitizer report (killed -9 and failing the test otherwise). A NULL
 * or released daemon is passed over. */
void pc_cluster_stop(pc_cluster_t *c);
/* The same for the n daemons of all, in that order. */
void pc_stop_daemons(ps_proc_t *const all[], size_t n);

/* Starts the JobManager, on c's endpoint once it has one (a restart), on a free port otherwise
 * (another when that one is taken meanwhile), and waits until it listens. */
void pc_jm_start(pc_cluster_t *c);
/* The same for any JobManager: `weir jobmanager --bind ENDPOINT MORE1 MORE2` (NULL lists passed
 * over; security.paths.* set before them to the run's folder, ps_h.root, and sources also to the
 * repository, WEIR_SRC) logging into NAME.<++*starts>, on endpoint (char[64]) once it is not "", on
 * a free port otherwise (written into endpoint and *port). Returns the process; fails the test when
 * it does not listen within PC_START_MS. */
ps_proc_t *pc_jm_start_at(const char *name, char *endpoint, int *port, int *starts,
                          const char *const *more1, const char *const *more2);
/* Starts TaskManager i, a new process under its id on a port of its own (ps_free_port, another
 * each start: never the port of a TaskManager killed before, which its peers still reconnect to),
 * and waits until it prints its first line; not until it registers. */
void pc_tm_start(pc_cluster_t *c, int i);
/* Waits until the current JobManager's log says TaskManager i registered nth times (counted since
 * that JobManager started) and that it heard its heartbeat: from then on the JobManager watches it
 * and places work on it. */
void pc_wait_joined(pc_cluster_t *c, int i, size_t nth);

/* ---- the CLI ---- */

/* Runs `weir ARGS --jobmanager <c's endpoint> --set client.timeout=2s` (c's jm_target instead of
 * --jobmanager when it has one) to completion (at most PC_CLI_MS; a sanitizer report fails the
 * test). */
ps_result_t pc_cli(const pc_cluster_t *c, const char *const args[]);
/* The same with client.timeout set to `timeout` (a duration, "20s"): to tell an answer from a
 * timeout by the time taken with a margin that a loaded machine cannot eat. */
ps_result_t pc_cli_timeout(const pc_cluster_t *c, const char *const args[], const char *timeout);
/* The same inside this process (ps_call): for the short client commands a wait loop polls. */
ps_result_t pc_call(const pc_cluster_t *c, const char *const args[]);

/* ---- `weir actors --json`, run in this process (pc_call) ---- */

/* The answer, a JSON array of node rows; a failed command or another document fails the test. */
const tj_value_t *pc_actors(const pc_cluster_t *c);
/* The first row of node in an actors document, NULL when none; *rows (when not NULL) counts
 * them. */
const tj_value_t *pc_node_row(const tj_value_t *doc, const char *node, size_t *rows);
/* The status of node's first row ("up", "dead", "unresponsive"); NULL when it is not listed. */
const char *pc_status(const tj_value_t *doc, const char *node);
/* The actor addresses of a node row, space-separated ("tm-a/node tm-a/taskmanager"). */
const char *pc_actor_list(const tj_value_t *row);
/* Asks `weir actors --json` every 50 ms until every "node=status" in want (NULL-terminated)
 * holds; returns that answer. Fails at the deadline, or at once when the JobManager exits. */
const tj_value_t *pc_wait_statuses(pc_cluster_t *c, const char *const want[], int timeout_ms);

#endif
