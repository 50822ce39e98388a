/* Jobs on a cluster of `weir` processes (tests/support/proc_cluster.h), as the CLI shows them: a
 * cluster set up for jobs, submitting one, reading `weir job ID --json` for a few fields, waiting
 * for a state, and the committed output of an exactly-once file sink. For the tests of failures
 * and recovery (test_recovery, test_zombies, the test_ha_* of ha_cluster.h). pj_ is for "process
 * jobs".
 *
 *     pc_cluster_t c = {0};
 *     pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
 *     const char *id = pj_submit(&c, topology);
 *     const char *job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
 *     ps_kill9(c.tm[pj_hosts(job, "tm-a") ? 0 : 1]);
 *     ...
 *     pj_output_t out = pj_committed(folder);         // its lines, sorted
 *
 * Whatever these return lives until the test ends (the harness's arena: ps_keep). What a test does
 * not check but needs (a submission, an answer) fails the test, saying why, when it goes wrong. */
#ifndef WR_TEST_JOBS_H
#define WR_TEST_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/support/proc_cluster.h"

/* Starts c (pc_cluster_start) for jobs: heartbeat.timeout 2s on every daemon, so that a lost
 * TaskManager is noticed soon; the JobManager's checkpoints in the test's directory ("ck"), then
 * jm_settings (NULL: none), which a restarted JobManager gets again. */
void pj_cluster_start(pc_cluster_t *c, const char *const jm_settings[]);

/* `weir submit TOPOLOGY` (without --wait); the job's id. Fails the test when it is refused. */
const char *pj_submit(const pc_cluster_t *c, const char *topology);

/* ---- the compact JSON the CLI prints, read for a few fields ---- */

/* The string value of the first "field" at or after json ("" when there is none). The job's own
 * fields come before its operators' and subtasks', so "state" and "error" of a `weir job` answer
 * are the job's. */
const char *pj_jstr(const char *json, const char *field);
/* The integer value of the first "field" at or after json (-1 when there is none). */
long long pj_jnum(const char *json, const char *field);

/* `weir job ID --json` (run in this process: pc_call); "" when the JobManager did not answer. */
const char *pj_job(const pc_cluster_t *c, const char *id);
/* How many subtasks of a `weir job --json` answer are in state ("running"; NULL: in any). */
size_t pj_subtasks(const char *job, const char *state);
/* The job is RUNNING with every one of its subtasks running. */
bool pj_all_running(const char *job);
/* A subtask of the job runs on node. */
bool pj_hosts(const char *job, const char *node);
/* Asks `weir job` every 50 ms until the job is in state, or with state "ALL-RUNNING" until
 * pj_all_running holds in attempt min_attempt or a later one; returns that answer. Fails at the
 * deadline, when the job ends in another state (FINISHED, FAILED, CANCELED), or when the
 * JobManager c->jm dies (when c has one: with etcd it is the cluster that answers). */
const char *pj_wait_job(pc_cluster_t *c, const char *id, const char *state, long long min_attempt,
                        int timeout_ms);

/* Asks `weir job` every 100 ms until the job's latest completed checkpoint is n or a later one.
 * Fails at the deadline. */
void pj_wait_checkpoint(const pc_cluster_t *c, const char *id, long long n, int timeout_ms);

/* ---- an exactly-once file sink's folder ---- */

typedef struct {
    char **lines;       /* of the committed part files, sorted */
    size_t n;           /* lines */
    size_t parts;       /* committed part files (part-*.jsonl) */
    const char *hidden; /* the names of the other files (" .part-1.inprogress ..."), or "" */
} pj_output_t;

/* What the sink committed into folder. Fails the test when the folder cannot be read or a part
 * file's last line has no newline (a torn write). */
pj_output_t pj_committed(const char *folder);

/* Fails (PS_FAIL) unless got holds exactly want's lines and no uncommitted file, naming what is
 * missing and what is extra; what says which run got is. */
void pj_expect_same(const char *what, const pj_output_t *got, const pj_output_t *want);

/* ---- the windowed job of the failure tests ---- */

/* Its size: devices, records in all (total), records per second (rate; 0: unpaced) and source
 * subtasks (the rest run at parallelism 2). */
typedef struct {
    unsigned devices, rate, source_par;
    unsigned long long total;
} pj_size_t;

/* Writes the topology NAME.yaml into the test's directory and returns its path: a generator of
 * z's size whose jitter stays within the watermark's max_out_of_orderness (nothing is late: the
 * results do not depend on timing), keyed sliding windows of 2 min every 30 s, and an
 * exactly-once file sink into the folder out. */
const char *pj_topology(const char *name, const char *out, const pj_size_t *z);

/* The committed output of `weir local TOPOLOGY` (checkpoints every second, its own checkpoint
 * folder NAME-ck) writing into out: the uninterrupted run. Fails the test when it does not exit 0
 * within timeout_ms or commits fewer than 1000 results. */
pj_output_t pj_local(const char *name, const char *topology, const char *out, int timeout_ms);

#endif
