/* What the JobManager and the subtasks ask of a job's connectors, whatever they are
 * (actors/connectors/connector.h): the entry points of the exactly-once sinks' committers before
 * an attempt starts, and the names of the connectors' state in a checkpoint. The JobManager
 * calls these and knows no connector's files, offsets or transactions.
 *
 * Checkpoint state of connectors (blobs of a subtask, state/ckpt_meta.h):
 *   "source"  a source subtask's splits (actors/connectors/split.h)
 *   "sink-I"  the committable of the vertex's exactly-once sink I (its writer's precommit) */
#ifndef WR_JOB_CONNECTORS_H
#define WR_JOB_CONNECTORS_H

#include <stdint.h>

#include "actors/dataflow/job/plan.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/strbuf.h"

#define WR_JOB_SOURCE_STATE "source"

/* The state name of sink i's committable: "sink-I" (out: 16 bytes). */
void wr_job_sink_state_name(uint32_t i, char out[16]);

/* A new job's first attempt number: past every attempt any of its exactly-once sinks finds
 * traces of where it writes (so it never writes over an earlier job's output). */
uint32_t wr_job_first_attempt(const wr_topology_t *t);

/* Before attempt `attempt` starts (a new job, a restart, a restore), every exactly-once sink's
 * committer commits what the checkpoint or savepoint at `restore` ("": none) holds for it, and
 * aborts what earlier attempts left uncommitted. WR_ENOMEM, a checkpoint that cannot be read,
 * or the first committer's error; err says which sink and why. */
int wr_job_recover_sinks(const wr_topology_t *t, const wr_plan_t *plan, const char *restore,
                         uint32_t attempt, wr_strbuf_t *err);

/* The resources t's sinks (the late records' sink too) write that no other running job may
 * write (connector.h's resources), each followed by a '\n'. out->failed when out of memory. */
void wr_job_resources(const wr_topology_t *t, wr_strbuf_t *out);

/* The files and folders t's sources read (into sources) and its sinks, the late records' sink
 * too, write (into sinks): canonical paths, each followed by a '\n' (connector.h's paths hooks).
 * out->failed when out of memory. */
void wr_job_paths(const wr_topology_t *t, wr_strbuf_t *sources, wr_strbuf_t *sinks);

/* The first resource of list a that is one of list b's, holds one (a folder "file:/x/" holds
 * "file:/x/y") or is held by one; lists as wr_job_resources makes them. NULL when they share
 * none; else a pointer into a and *len its length (without the '\n'). */
const char *wr_job_resources_shared(const char *a, const char *b, size_t *len);

#endif
