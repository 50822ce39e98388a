/* A highly available cluster of real `weir` processes on loopback: 2 or 3 JobManagers (jm-a, jm-b,
 * jm-c, each on its own free port) campaigning through an etcd the test started (etcd.h), and
 * TaskManagers tm-a and tm-b that, like the CLI, find the leader through etcd. A JobManager is
 * killed -9, paused (SIGSTOP), resumed and started again on its port by index; which one leads is
 * what `weir jobs --json --etcd` says, confirmed by that JobManager's log. hc_ is for "HA
 * cluster"; the TaskManagers and the CLI are a proc_cluster.h cluster (c.pc) reaching the leader
 * through etcd, so that jobs.h runs jobs on it:
 *
 *     te_etcd_t *etcd = te_start("etcd");
 *     hc_cluster_t c = {.njms = 3, .etcd = etcd->endpoint};
 *     hc_start(&c);                              // one leads, every TaskManager registered there
 *     int leader = hc_leader(&c);
 *     const char *id = pj_submit(&c.pc, topology);
 *     hc_kill9(&c, leader);
 *     int next = hc_wait_leader(&c, leader, HC_TAKEOVER_MS);
 *     hc_jm_start(&c, leader);                  // a standby again, on its port
 *     hc_stop(&c);                               // SIGTERM: every daemon must exit 0
 *
 * Every process is the harness's (process.h): killed and its logs printed when the test fails. */
#ifndef WR_TEST_HA_CLUSTER_H
#define WR_TEST_HA_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/proc_cluster.h"

#define HC_MAX_JMS     3
#define HC_TAKEOVER_MS 30000 /* a standby leads once the leader is gone (lease, ASan, load) */

typedef struct {
    /* set before hc_start */
    int njms;                       /* JobManagers (2 or 3; 0: 2) */
    const char *etcd;               /* etcd's client URLs, comma-separated */
    const char *const *settings;    /* flags for every daemon ("--set", "KEY=VALUE", ...) */
    const char *const *jm_settings; /* more flags for the JobManagers (a restarted one too) */
    int ntms;                       /* TaskManagers (0: PC_MAX_TMS; -1: none) */
    /* the cluster */
    ps_proc_t *jm[HC_MAX_JMS]; /* NULL while killed */
    char endpoint[HC_MAX_JMS][64];
    int port[HC_MAX_JMS], jm_starts[HC_MAX_JMS];
    pc_cluster_t pc; /* the TaskManagers pc.tm[] and the CLI through etcd; pc.jm stays NULL */
} hc_cluster_t;

/* The JobManagers' node ids: "jm-a", "jm-b", "jm-c". */
extern const char *const hc_jm_ids[HC_MAX_JMS];

/* ---- lifecycle ---- */

/* Starts the JobManagers, waits until one leads, then starts the TaskManagers and waits until
 * each registered with the leader (and it heard its heartbeat). */
void hc_start(hc_cluster_t *c);
/* SIGCONT and SIGTERM to every daemon (TaskManagers first); each must exit 0 within PC_STOP_MS
 * with no sanitizer report (pc_stop_daemons). A killed one (NULL) is passed over. */
void hc_stop(hc_cluster_t *c);
/* Starts JobManager i (again: on its port, logging into jm-X.<n>) and waits until it listens. */
void hc_jm_start(hc_cluster_t *c, int i);

/* ---- faults ---- */

/* kill -9 of JobManager i; c->jm[i] becomes NULL. */
void hc_kill9(hc_cluster_t *c, int i);
/* SIGSTOP, SIGCONT to JobManager i. */
void hc_pause(hc_cluster_t *c, int i);
void hc_resume(hc_cluster_t *c, int i);

/* ---- who leads ---- */

/* The index of the JobManager `weir jobs --json --etcd` names the leader; -1 when the command
 * fails (a CLI call can time out while etcd still names a dead leader) or names none of c's.
 * *doc (when not NULL) gets its answer (NULL when it failed). */
int hc_leader_doc(hc_cluster_t *c, const tj_value_t **doc);
int hc_leader(hc_cluster_t *c);
/* True when JobManager i's current log says it leads: more "leading the cluster (etcd)" than "no
 * longer leading". */
bool hc_log_leads(const hc_cluster_t *c, int i);
/* Waits until etcd names a leader other than JobManager `other` (-1: any) whose log says it
 * leads; returns its index. Fails the test at the deadline, saying what the CLI said last. */
int hc_wait_leader(hc_cluster_t *c, int other, int timeout_ms);
/* The time of day (UTC, ms) the last line of JobManager i's current log that contains text was
 * logged at (its "HH:MM:SS.mmm" stamp); -1 when there is none. */
int64_t hc_log_time(const hc_cluster_t *c, int i, const char *text);
/* The time of day now (UTC, ms), as the logs stamp it. */
int64_t hc_day_ms(void);
/* Waits until JobManager leader's current log says TaskManager tm registered nth times and that it
 * heard its heartbeat (pc_wait_joined). */
void hc_wait_joined(hc_cluster_t *c, int leader, int tm, size_t nth);

/* ---- the CLI ---- */

/* `weir ARGS --etcd URLS --set client.timeout=2s` (pc_cli of c->pc). */
ps_result_t hc_cli(hc_cluster_t *c, const char *const args[]);
/* `weir ARGS --jobmanager <JobManager i> --set jobmanager.node-id=jm-X --set client.timeout=2s`. */
ps_result_t hc_cli_via(hc_cluster_t *c, int i, const char *const args[]);

#endif
