/* The REST API's answers as JSON, in Flink's shapes and key names where Flink has the thing (so
 * that scripts written against Flink's REST API read them), with weir's own figures beside them
 * under keys Flink does not use. Each appends one JSON object to out, made from the decoded
 * reply of the JobManager (bus/messages.h) that the route asks for; out->failed tells of a lack
 * of memory. Times are epoch milliseconds, -1 when there is none (Flink's convention), durations
 * milliseconds.
 *
 *   /overview        {"taskmanagers", "slots-total", "slots-available", "jobs-running",
 *                     "jobs-finished", "jobs-cancelled", "jobs-failed", "flink-version" (weir's),
 *                     "weir-version", "leader", "ha"}
 *   /config          {"refresh-interval", "timezone-name", "timezone-offset", "flink-version",
 *                     "weir-version"}
 *   /jobs            {"jobs": [{"id", "status"}]}
 *   /jobs/overview   {"jobs": [{"jid", "name", "state", "start-time", "end-time", "duration",
 *                     "last-modification", "slots", "error"}]}
 *   /jobs/:id        {"jid", "name", "state", "start-time", "end-time", "duration", "now",
 *                     "attempt", "restarts", "latest-checkpoint", "recovery-ms", "error",
 *                     "vertices": [{"id", "name", "parallelism", "status", "metrics": {
 *                       "read-records", "write-records", "backpressure-count", "watermark",
 *                       "windows-fired", "late-dropped", "skipped", "emit-delay-p50-ms",
 *                       "emit-delay-p99-ms"}, "subtasks": [{"subtask", "host", "status",
 *                       "metrics": {"read-records", "write-records", "backpressure-count",
 *                       "backPressuredTimeMsPerSecond", "watermark"}}]}],
 *                     "plan": {"jid", "name", "nodes": [{"id", "parallelism", "description",
 *                       "inputs": [{"num", "id", "ship_strategy"}]}]}}
 *   /jobs/:id/exceptions  {"root-exception" (null when none), "timestamp", "all-exceptions": [],
 *                     "truncated": false}
 *   /jobs/:id/checkpoints  {"counts": {"restored", "total", "in_progress", "completed",
 *                     "failed"}, "latest": {"completed", "savepoint", "failed", "restored"} (each
 *                     a history entry or null), "history": [{"id", "status", "is_savepoint",
 *                     "checkpoint_type" (CHECKPOINT, SAVEPOINT, FINAL), "trigger_timestamp",
 *                     "latest_ack_timestamp", "end_to_end_duration", "state_size",
 *                     "checkpointed_size" (what this one wrote: incremental), "alignment_ms",
 *                     "failure_message"}] (as the JobManager keeps them, newest last),
 *                     "interval", "latest_path"}
 *   /jobs/:id/vertices/:vid  one element of /jobs/:id's vertices
 *   /jobs/:id/vertices/:vid/watermarks, /backpressure  see below
 *   /taskmanagers    {"taskmanagers": [{"id", "path", "status", "slotsNumber", "freeSlots",
 *                     "timeSinceLastHeartbeat", "malformedFrames"}]}
 *   /taskmanagers/:id  one element of that list
 *   errors           {"errors": ["message"]} (Flink's shape), with the HTTP status beside it
 *
 * A job's state is its JobManager's name for it (CREATED, RUNNING, RESTARTING, FINISHED,
 * CANCELED, FAILED: Flink's). A vertex's status is RUNNING when every subtask runs, else the
 * state its first subtask that does not run is in. */
#ifndef WR_REST_JSON_H
#define WR_REST_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/base/strbuf.h"
#include "bus/messages.h"

void wr_rest_json_overview(const wr_msg_jobs_reply_t *jobs, const wr_msg_actors_reply_t *actors,
                           const char *version, wr_strbuf_t *out);
void wr_rest_json_config(const char *version, int64_t refresh_ms, wr_strbuf_t *out);
void wr_rest_json_jobs(const wr_msg_jobs_reply_t *jobs, wr_strbuf_t *out);
void wr_rest_json_jobs_overview(const wr_msg_jobs_reply_t *jobs, wr_strbuf_t *out);
void wr_rest_json_job(const wr_msg_job_reply_t *job, int64_t now_ms, wr_strbuf_t *out);
void wr_rest_json_exceptions(const wr_msg_job_reply_t *job, wr_strbuf_t *out);
void wr_rest_json_checkpoints(const wr_msg_ckpt_list_reply_t *c, wr_strbuf_t *out);
/* Vertex v of the job; false when it has none (nothing appended). */
bool wr_rest_json_vertex(const wr_msg_job_reply_t *job, uint32_t v, wr_strbuf_t *out);
/* Flink's back-pressure of vertex v: {"status": "ok", "backpressureLevel": "ok|low|high",
 * "end-timestamp": now_ms, "subtasks": [{"subtask", "attempt-number", "backpressureLevel",
 * "ratio"}]}: ratio is the share of time each subtask's output was blocked over its last report's
 * second (backPressuredTimeMsPerSecond / 1000), the level Flink's (ok up to 0.10, low up to 0.5,
 * high above), the vertex's its worst subtask's. Flink's busyRatio and idleRatio are not measured.
 * false: no vertex v. */
bool wr_rest_json_backpressure(const wr_msg_job_reply_t *job, uint32_t v, int64_t now_ms,
                               wr_strbuf_t *out);
/* Flink's watermarks of vertex v: [{"id": "K.currentInputWatermark", "value": "MS"}] for each
 * subtask K, the value a string of ms since the epoch (Flink's Long.MIN_VALUE while a subtask has
 * none); false when the job has no vertex v (nothing appended). */
bool wr_rest_json_watermarks(const wr_msg_job_reply_t *job, uint32_t v, wr_strbuf_t *out);
/* Every TaskManager's row of actors (the rows with slots), or only the one named id (NULL: all);
 * false when id names none (nothing appended). */
bool wr_rest_json_taskmanagers(const wr_msg_actors_reply_t *actors, const char *id,
                               wr_strbuf_t *out);
void wr_rest_json_error(const char *message, wr_strbuf_t *out);

#endif
