/* A whole cluster in the test process: a JobManager and N TaskManagers, each its own node (its own
 * workers, timers and bus endpoint) connected over inproc://, and a client node that asks the
 * JobManager what `weir jobs`, `weir job`, `weir actors` and `weir mailbox` ask. What `weir local`
 * runs, without a process boundary: protocol tests run in milliseconds instead of seconds, and the
 * ThreadSanitizer sees every thread of every node. tc_ is for "test cluster".
 *
 *     tc_cluster_t *c = NULL;
 *     tc_start(&c, &(tc_opts_t){.taskmanagers = 2, .slots = 2});
 *     char id[TC_JOB_ID_MAX];
 *     assert_int_equal(tc_submit(c, yaml, id, NULL, 0), 0);
 *     assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
 *     char *lines = tc_collected(c, id);             // what its collect sinks got
 *     tc_tm_stop(c, 1);                              // tm-2 gone, as if its process crashed
 *     tc_tm_start(c, 1);                             // and back, a new incarnation
 *     tc_stop(&c);                                   // or tc_teardown as a cmocka fixture
 *
 * The harness uses only the JobManager's and TaskManager's spawn functions and the bus messages
 * (msgtypes.h), as a CLI would, and the JobManager node's peer table (node.h) to know it heard a
 * TaskManager. Everything waits by polling a condition, never by a fixed sleep.
 * Setting things up is not what a test checks: a cluster that cannot start, or a reply that does
 * not come, fails the test (cmocka) with what went wrong; what a test checks is returned. */
#ifndef WR_TEST_CLUSTER_H
#define WR_TEST_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/jobmanager/jobmanager.h"
#include "actors/runtime/node.h"
#include "bus/base/mp.h"

#define TC_MAX_TMS    8
#define TC_JOB_ID_MAX WR_JOB_ID_MAX
/* Room for a job's error as `job` answers it (a subtask's WR_MSG_ERROR_MAX and the JobManager's
 * words around it). */
#define TC_JOB_ERROR_MAX 2048
/* Upper bound of a wait for something that should happen (a job finishing, a TaskManager
 * registering). Generous: sanitizer builds are slow, and a wait ends as soon as it holds. */
#define TC_WAIT_MS 60000

typedef struct {
    uint32_t taskmanagers;         /* 0: 2 (at most TC_MAX_TMS) */
    uint32_t slots;                /* per TaskManager; 0: 2 */
    unsigned threads;              /* workers per node; 0: 1, as `weir local` */
    int64_t heartbeat_interval_ms; /* 0: 100 */
    int64_t heartbeat_timeout_ms;  /* 0: 2000 */
    wr_jobmanager_opts_t jm;       /* checkpoints and restarts (zero: none); its strings must
                                      outlive the cluster */
    const char *tm_jm_id; /* the JobManager's id as the TaskManagers are told it (NULL: its own,
                             "jm-1"): another makes a misconfigured cluster */
} tc_opts_t;

typedef struct tc_cluster tc_cluster_t;

/* ---- lifecycle ---- */

/* Starts the JobManager ("jm-1"), the TaskManagers ("tm-1", "tm-2", ...) and the client, and
 * waits until every TaskManager is ready (tc_tm_ready). NULL o: the defaults. The cluster goes
 * into *slot as soon as it exists, so that a teardown stops it whatever fails afterwards, its own
 * start included; returns it too. */
tc_cluster_t *tc_start(tc_cluster_t **slot, const tc_opts_t *o);
/* Stops every node (TaskManagers first), also of a cluster whose start failed midway; NULL-safe,
 * nulls *c. */
void tc_stop(tc_cluster_t **c);
/* A cmocka teardown: tc_stop of the cluster in *state, so that a test that fails midway leaves
 * no cluster running behind it (such a test starts with `tc_start((tc_cluster_t **)state, o)`). */
int tc_teardown(void **state);

/* A cluster and a scratch folder for what it writes (checkpoints, sinks' output), as cmocka
 * fixtures: tc_dir_setup puts a tc_fx_t with a new folder /tmp/weir-test-XXXXXX into *state (the
 * test starts the cluster with tc_start(&f->c, o)); tc_dir_teardown stops the cluster, removes the
 * folder and frees the fixture, after a failed test too. */
typedef struct {
    tc_cluster_t *c;
    char dir[64];
} tc_fx_t;
int tc_dir_setup(void **state);
int tc_dir_teardown(void **state);
/* Node ids; i counts TaskManagers from 0 ("tm-1" is 0). */
const char *tc_jm_id(const tc_cluster_t *c);
const char *tc_tm_id(const tc_cluster_t *c, uint32_t i);
/* The nodes (NULL for a stopped TaskManager): for what only a node can tell (its peers). */
wr_node_t *tc_jm_node(tc_cluster_t *c);
wr_node_t *tc_tm_node(tc_cluster_t *c, uint32_t i);

/* Destroys TaskManager i's node without a word to the JobManager: what a crash leaves. */
void tc_tm_stop(tc_cluster_t *c, uint32_t i);
/* Starts TaskManager i again: a new node (a new incarnation) with the same id, on a new endpoint.
 * Does not wait for it to register. */
void tc_tm_start(tc_cluster_t *c, uint32_t i);
/* TaskManager i can take work: the JobManager lists it up and has heard this incarnation's
 * heartbeat (before that it places nothing on it: deployments would not get through). */
bool tc_tm_ready(tc_cluster_t *c, uint32_t i);
/* Waits until TaskManager i is ready; false at the deadline. */
bool tc_wait_tm_ready(tc_cluster_t *c, uint32_t i, int timeout_ms);

/* ---- asking the JobManager (through the client node) ---- */

/* Sends a request of type with payload to "jm-1/jobmanager" and returns its reply (the caller
 * destroys it), which may be an ERROR; NULL when none came within TC_WAIT_MS. */
wr_msg_t *tc_ask(tc_cluster_t *c, uint16_t type, const void *payload, size_t len);
/* JOBS_REQ, ACTORS_REQ, JOB_REQ [id]: the reply (the caller destroys it); fails the test when
 * the answer is not of the reply type. */
wr_msg_t *tc_jobs(tc_cluster_t *c);
wr_msg_t *tc_actors(tc_cluster_t *c);
wr_msg_t *tc_job(tc_cluster_t *c, const char *id);
/* MAILBOX_REQ [addr, peek]: the MAILBOX_REPLY or the ERROR (the caller destroys it); fails the
 * test when none came. */
wr_msg_t *tc_mailbox(tc_cluster_t *c, const char *addr, uint32_t peek);

/* Appends the JOB_SUBMIT payload of the topology (YAML text, topology.h; a text that does not
 * parse fails the test) to out: for tests that drive a JobManager's parts by hand. */
void tc_submit_payload(const char *yaml, msgpack_sbuffer *out);
/* The same, restoring the checkpoint or savepoint folder restore (NULL: none). */
void tc_submit_restore_payload(const char *yaml, const char *restore, msgpack_sbuffer *out);
/* Submits the topology (YAML text, topology.h; a text that does not parse fails the test). 0 with
 * the job's id in id; or the code of the JobManager's refusal, its text in why (cap bytes, may be
 * NULL), or WR_ETIMEDOUT. */
int tc_submit(tc_cluster_t *c, const char *yaml, char id[TC_JOB_ID_MAX], char *why, size_t cap);
/* tc_submit of a job that restores the checkpoint or savepoint folder restore (`weir submit
 * --from-savepoint`). */
int tc_submit_restore(tc_cluster_t *c, const char *yaml, const char *restore,
                      char id[TC_JOB_ID_MAX], char *why, size_t cap);
/* JOB_CANCEL: 0, or the code of the JobManager's refusal (WR_ENOTFOUND, WR_EINVAL). */
int tc_cancel(tc_cluster_t *c, const char *id);
/* SAVEPOINT_REQ: a savepoint of job id into the folder dir (`weir savepoint`; with stop, `weir
 * stop --savepoint`, which does not wait for the job to end). 0 with the savepoint's folder in
 * path (cap bytes, may be NULL); or the code of the JobManager's refusal, its text in path, or
 * WR_ETIMEDOUT. */
int tc_savepoint(tc_cluster_t *c, const char *id, const char *dir, bool stop, char *path,
                 size_t cap);

/* The job's state ("RUNNING", "FINISHED", ...) into state (cap bytes); returns state. */
const char *tc_job_state(tc_cluster_t *c, const char *id, char *state, size_t cap);
/* Waits until the job is in state want. False (after printing its state and error) at the deadline
 * or when it ended in another state (FINISHED, CANCELED, FAILED are for good). */
bool tc_wait_state(tc_cluster_t *c, const char *id, const char *want, int timeout_ms);
/* The lines its collect sinks got (every sink subtask's, once it finished), sorted, so that two
 * runs compare whatever the order the subtasks finished in. The caller frees it. */
char *tc_collected(tc_cluster_t *c, const char *id);
/* A copy of text (lines ending in newlines) with its lines sorted; the caller frees it. */
char *tc_sort_lines(const char *text);

/* The status the JobManager gives node id ("up", "dead", "unresponsive"), into status (cap
 * bytes); "" when it does not list the node. Returns status. */
const char *tc_node_status(tc_cluster_t *c, const char *id, char *status, size_t cap);
/* Waits until the JobManager gives node id that status; false at the deadline. */
bool tc_wait_node_status(tc_cluster_t *c, const char *id, const char *want, int timeout_ms);

/* ---- reading replies ---- */

/* A value inside a msgpack reply by path: map keys and array indexes separated by dots, printf
 * style ("operators.%u.subtasks.0.node"; "." is the whole reply). True with *at on it; false when
 * the path is not there. */
bool tc_mp_at(const wr_msg_t *m, wr_mp_reader_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The integer, string (into buf, cap bytes) or array/map length there; a path that is not there
 * or holds another type fails the test. */
int64_t tc_mp_int(const wr_msg_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *tc_mp_str(const wr_msg_t *m, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
uint32_t tc_mp_len(const wr_msg_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
