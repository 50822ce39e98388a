/* A node's Prometheus metrics (issue 15, third part): GET /metrics in Prometheus' text format
 * (prom.h) on metrics.prometheus.address:metrics.prometheus.port (9249 by default, the port of
 * Flink's Prometheus reporter), on every JobManager and TaskManager, served by http.h's server.
 *
 * Every node: its actors' mailboxes and its bus, read from the node itself at each scrape
 * (actors/runtime/inspect.h's row, the transport's counters), labelled node="<node id>":
 *   weir_actor_mailbox_depth, _capacity, _high_water, _oldest_age_seconds, weir_actor_rate
 *   (messages/s), weir_actor_messages_enqueued_total, _dequeued_total, _rejected_total,
 *   weir_actor_restarts_total, each with actor="<path>";
 *   weir_bus_frames_in_total, _frames_out_total, _bytes_in_total, _bytes_out_total,
 *   weir_bus_malformed_frames_total (every inbound frame the bus refused), weir_bus_spoofed_total,
 *   weir_bus_undeliverable_total{direction="in"|"out"}, weir_bus_overflowed_total (peers cut off
 *   for not reading), weir_bus_refused_total (failed CURVE handshakes), weir_bus_impostors_total.
 * A JobManager (jm_addr set): its jobs that have not ended, asked of the JobManager actor as the
 * REST API does (JOBS_REQ, JOB_REQ, CKPT_LIST_REQ), in Flink's names with weir_ for flink_:
 *   weir_jobmanager_numRunningJobs;
 *   per job {job_id, job_name}: weir_jobmanager_job_uptime (ms), _numRestarts,
 *   _numberOfCompletedCheckpoints, _numberOfFailedCheckpoints, _numberOfInProgressCheckpoints,
 *   _lastCheckpointDuration (ms), _lastCheckpointSize (bytes, the full size);
 *   per subtask {job_id, job_name, task_name, subtask_index, tm_id}:
 *   weir_taskmanager_job_task_numRecordsIn, _numRecordsOut (counters of the subtask's attempt, as
 *   Flink's), _numRecordsInPerSecond and _numRecordsOutPerSecond (between this scrape and the
 *   previous one of the same subtask; 0 at the first), _numBackPressured (times its output was
 *   blocked: a count, where Flink's backPressuredTimeMsPerSecond is a time), and
 *   _currentInputWatermark (ms; left out while the subtask has none).
 * The subtasks' metrics come from the JobManager, which TaskManagers report to: a TaskManager's
 * page has its node's metrics only, so a series is never scraped twice.
 * A standby JobManager, or one whose actor does not answer within the timeout, shows its node's
 * metrics only (weir_jobmanager_leader 0 or 1 says which it is).
 *
 * Other paths are 404, other methods than GET and HEAD 405. Threads: as http.h; the previous
 * scrape's counters (for the rates) are kept under a lock. */
#ifndef WR_METRICS_H
#define WR_METRICS_H

#include <stdint.h>

#include "actors/runtime/node.h"

typedef struct wr_metrics wr_metrics_t;

typedef struct {
    const char *address; /* an IPv4 literal (metrics.prometheus.address) */
    int port;            /* 1-65535, or 0 for one the kernel picks */
    const char *jm_addr; /* a JobManager's: its actor's address ("jm-1/jobmanager"); else NULL */
    int64_t timeout_ms;  /* for the JobManager actor's answers */
} wr_metrics_opts_t;

/* Starts serving. NULL with *err and why as wr_http_start. node is borrowed: it must outlive the
 * server. */
wr_metrics_t *wr_metrics_start(wr_node_t *node, const wr_metrics_opts_t *o, int *err, char *why,
                               size_t why_cap);
int wr_metrics_port(const wr_metrics_t *m);
/* Stops accepting, waits for the scrapes being answered, frees; *m becomes NULL. */
void wr_metrics_stop(wr_metrics_t **m);

#endif
