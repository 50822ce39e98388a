/* Connectors: where records come into a job and where they leave it, behind one interface, in
 * Flink's model (FLIP-27 sources, Sink V2). One folder per connector under actors/connectors/
 * (generator/, file/, stdout/, collect/; Kafka, MQTT, Redis and InfluxDB next), each its own layer
 * with only the packages it needs; one table of them (registry/registry.c). Nothing outside
 * actors/connectors/ knows a connector by name: the topology, the plan, the subtasks and the
 * JobManager see a wr_source_class_t or a wr_sink_class_t.
 *
 * A connector is a type name (the topology's `type: file`) with a source, a sink, or both.
 *
 * Parameters. Each class declares its keys (params.h: name, type, range, default or required,
 * documentation) and the plain struct they fill, its "config". The topology loader reads them
 * from the file, the bus form packs them, and both check them from that table alone; the
 * connector only adds the rules across keys (check: "give rate or speedup, not both"). A
 * connector's header documents its keys for users.
 *
 * Sources (FLIP-27). A source is cut into splits (split.h): files, the generator's offset
 * streams, Kafka partitions. Two roles:
 *   - the enumerator makes the splits and assigns them to the source's subtasks: from the
 *     config on a fresh start, from the splits of a checkpoint on a restore (at any
 *     parallelism: it may cut a split in two or join two, as the generator does with its
 *     streams). It is a pure function of (config, parallelism, restored splits), so every
 *     source subtask runs it and keeps the splits assigned to it: the same answer everywhere,
 *     as the plan is (plan.h). Where it runs is the only thing that changes when the JobManager
 *     takes it over (enumerating at submit and shipping each subtask its splits in the
 *     deployment); the interface already has the shape that needs.
 *   - a reader per subtask reads its splits: it appends records to a batch and says which split
 *     each run of rows came from; the framework (source.h) keeps each split's latest event
 *     time, so watermarks are per split (the subtask's is the least of its splits' that are not
 *     idle, and never goes back) and resume from a checkpoint where they were. A reader marks a
 *     split idle when it has nothing to read for now (a quiet Kafka partition) and done when it
 *     ends (a bounded split); it may join two of its splits (merged) or take up a split it found
 *     itself (discovery: a Kafka partition created since). On a checkpoint it lists every split
 *     it holds with its position.
 *   Pacing (records due by wall-clock time) and bounded runs are the reader's business: read
 *   says WAIT when nothing is due yet and END when nothing will ever come.
 *
 * Sinks (Sink V2). A writer per subtask writes whole batches (format once, write once per
 * batch) and declares its guarantee. An exactly-once sink's writer pre-commits at a checkpoint
 * barrier: it makes what it wrote since durable but invisible and returns a committable (bytes
 * in its own encoding), which goes into the checkpoint; once the checkpoint completes it
 * commits. Its committer is the other half: before a job restarts from a checkpoint the
 * JobManager hands the committables of that checkpoint to recover(), which commits them
 * (idempotently: some may be committed already) and aborts whatever attempts after that
 * checkpoint left behind (their records are replayed). The JobManager only calls these entry
 * points (actors/dataflow/job/job_connectors.h); it never knows a sink's files, offsets or
 * transactions. Run attempts are numbered (a restart is the next attempt): names a sink makes
 * from (attempt, subtask) never collide between runs, and first_attempt lets a new job start
 * past whatever an earlier job left in the same place.
 *
 * How Kafka will fit: its source's enumerator lists the topic's partitions (a split each, the
 * position an offset) and assigns them by a hash of the id; its reader consumes, marks empty
 * partitions idle, and discovers new partitions as time goes by (taking those the same hash
 * gives it). Its sink writes in a transaction per checkpoint: precommit flushes and returns the
 * transaction's id and producer epoch, commit commits it, recover resumes and commits the
 * listed ones and aborts the transactional ids of later attempts. MQTT, Redis and InfluxDB
 * sinks are at-least-once writers (idempotent upserts for the last two).
 *
 * Threading: a reader or writer belongs to its subtask (one thread at a time); classes are
 * constant tables; nothing here has global state. */
#ifndef WR_CONNECTOR_H
#define WR_CONNECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/connectors/params.h"
#include "actors/connectors/split.h"
#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/record/schema.h"
#include "bus/base/strbuf.h"

#define WR_CONNECTOR_TYPE_MAX 32 /* type names, NUL included */

/* ---- sources ---- */

/* What a reader is opened for. */
typedef struct {
    const wr_schema_t *schema; /* the records to make (the topology's) */
    uint32_t subtask, parallelism;
    /* the job's and the source's names (borrowed, for the open call; NULL in tests that open a
     * reader alone): names a reader gives itself outside (an MQTT client id) stay the same
     * across restarts */
    const char *job, *name;
} wr_source_open_t;

typedef enum {
    WR_SOURCE_MORE, /* read again soon: rows were appended, or more are ready */
    WR_SOURCE_WAIT, /* nothing to read for now (paced, or waiting for data): try later */
    WR_SOURCE_END   /* nothing will come any more: every split is done */
} wr_source_status_t;

/* One read call (source.h owns it): the batch to append to and how to tell what came from
 * where. */
typedef struct wr_source_read wr_source_read_t;
/* The batch to append records to (of the open schema), and how many more it may take. */
wr_batch_t *wr_source_read_batch(wr_source_read_t *rd);
uint32_t wr_source_read_room(const wr_source_read_t *rd);
/* Nanoseconds since the source started, for pacing. */
uint64_t wr_source_read_elapsed_ns(const wr_source_read_t *rd);
/* The rows appended since the previous call came from split `slot`. */
void wr_source_read_rows(wr_source_read_t *rd, uint32_t slot);
/* Split `slot` has nothing for now (it stops holding the watermark back until it has rows
 * again) / has ended for good / was joined into split `into` (which reads on from there). */
void wr_source_read_idle(wr_source_read_t *rd, uint32_t slot);
void wr_source_read_done(wr_source_read_t *rd, uint32_t slot);
void wr_source_read_merged(wr_source_read_t *rd, uint32_t slot, uint32_t into);
/* The reader has skipped `total` bad pieces of input (lines, messages) since it was opened, all
 * splits together (wr_source_skipped; `weir job` shows them). */
void wr_source_read_skipped(wr_source_read_t *rd, uint64_t total);
/* A split the reader found itself (discovery): *slot gets its number. WR_ENOMEM. */
int wr_source_read_found(wr_source_read_t *rd, uint32_t *slot);
/* With WAIT: read again after ms milliseconds (1 to WR_SOURCE_RETRY_MAX_MS), not only at the
 * subtask's next tick (100 ms): for a reader whose input is on its way (a Kafka consumer with
 * fetches in flight). A reader that has nothing coming backs off (it asks for longer). */
void wr_source_read_retry(wr_source_read_t *rd, uint32_t ms);
#define WR_SOURCE_RETRY_MAX_MS 100

/* One snapshot call: the reader lists each split it still holds. */
typedef struct wr_source_snap wr_source_snap_t;
/* The checkpoint the snapshot is for (0: none, a test's). */
uint64_t wr_source_snap_checkpoint(const wr_source_snap_t *snap);
/* Split `slot` is `id`, to resume at pos[0, len). WR_EINVAL (bad id, position too long),
 * WR_ENOMEM. */
int wr_source_snap_split(wr_source_snap_t *snap, uint32_t slot, const char *id, const void *pos,
                         size_t len);

typedef struct wr_source_class {
    const char *type; /* the connector's name: `type: generator` */
    const char *noun; /* for messages: "a generator", "a file source" */
    const wr_param_t *params;
    size_t nparams;
    size_t config_size; /* the struct the parameters fill */

    /* ---- the topology (optional hooks) ---- */
    /* Rules across parameters, and defaults that depend on other keys (wr_param_given). */
    int (*check)(void *config, const wr_param_check_t *ck);
    /* *dflt: the parallelism when the file gives none (0: the job's); *max: the most it runs at
     * (0: any), *why saying what more would break ("a file source reads one file: parallelism
     * 1"). NULL: 0 and 0. */
    void (*parallelism)(const void *config, uint32_t *dflt, uint32_t *max, const char **why);
    /* The schema of the records it makes when it has its own (the generator's); NULL: the
     * topology's `schema`. */
    void (*schema)(const void *config, wr_schema_t *out);
    /* When records keyed by key_field come from a known number of keys, each seen every
     * interval_ms: true with those (a window sizes its tables from them). NULL: unknown. */
    bool (*key_hint)(const void *config, const char *key_field, uint64_t *keys,
                     int64_t *interval_ms);

    /* ---- the enumerator ---- */
    /* The source's splits for `parallelism` subtasks, each with its subtask set: from the config
     * (restored false: splits is empty on entry), or from the restored splits in `splits` (every
     * old subtask's; their positions are untrusted: WR_EPROTO, err saying why, for one it does
     * not understand). Deterministic. WR_ENOMEM, WR_EINVAL. */
    int (*enumerate)(const void *config, uint32_t parallelism, bool restored, wr_splits_t *splits,
                     wr_strbuf_t *err);

    /* ---- the reader ---- */
    int (*open)(const void *config, const wr_source_open_t *o, void **reader, wr_strbuf_t *err);
    void (*close)(void **reader); /* NULL-safe, nulls *reader */
    /* Takes split s (one assigned to it) and calls it `slot` from then on. */
    int (*add_split)(void *reader, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err);
    /* Appends records (at most wr_source_read_room), saying where they came from, and sets *st.
     * A failure fails the subtask, with err saying why ("data.jsonl:12: ts: ..."). */
    int (*read)(void *reader, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err);
    /* Lists every split it holds (not the done ones) at its position. */
    int (*snapshot)(void *reader, wr_source_snap_t *snap);
    /* Optional: checkpoint checkpoint_id completed (non-decreasing; WR_CKPT_FINAL at the end),
     * so the positions its snapshot listed are safe to report outside: Kafka commits them to
     * the consumer group, for monitoring (Flink's notifyCheckpointComplete). Never needed for
     * correctness: a restore reads positions from the checkpoint. Failures are the reader's to
     * log; they fail nothing. */
    void (*checkpoint_done)(void *reader, uint64_t checkpoint_id);

    /* ---- the JobManager, at submit (optional) ---- */
    /* The files and folders its readers read, appended to out as canonical paths
     * (bus/base/path.h), each followed by a '\n': the JobManager refuses a job that reads outside
     * security.paths.sources. A relative path is appended as given (each subtask would resolve
     * it against its own working directory): the JobManager refuses it when it confines paths.
     * NULL: it reads no files (the generator). out->failed when out of memory. */
    void (*paths)(const void *config, wr_strbuf_t *out);
} wr_source_class_t;

/* ---- sinks ---- */

typedef enum { WR_SINK_AT_LEAST_ONCE, WR_SINK_EXACTLY_ONCE } wr_sink_guarantee_t;

/* What a writer is opened for. */
typedef struct {
    const wr_schema_t *schema; /* the records it gets */
    uint32_t attempt;          /* the run attempt (grows with every restart of the job) */
    uint32_t subtask, parallelism;
} wr_sink_open_t;

/* What the committer recovers before a restart: the committables of the checkpoint the job
 * restarts from (one per writer that had any; none without a checkpoint), and the attempt about
 * to start. */
typedef struct {
    const uint8_t *const *states;
    const size_t *lens;
    uint32_t n;
    uint32_t attempt;
} wr_sink_recover_t;

typedef struct wr_sink_class {
    const char *type;
    const char *noun; /* "a file sink" */
    const wr_param_t *params;
    size_t nparams;
    size_t config_size;

    /* ---- the topology (optional hooks, as for sources) ---- */
    int (*check)(void *config, const wr_param_check_t *ck);
    void (*parallelism)(const void *config, uint32_t *dflt, uint32_t *max, const char **why);
    /* NULL: at-least-once (everything is written, some of it again after a failure). */
    wr_sink_guarantee_t (*guarantee)(const void *config);

    /* ---- the writer ---- */
    int (*open)(const void *config, const wr_sink_open_t *o, void **writer, wr_strbuf_t *err);
    /* Closes without committing, as a crash would; NULL-safe, nulls *writer. */
    void (*close)(void **writer);
    /* Writes every record of b (those in sel[0, nsel) when sel is not NULL). */
    int (*write)(void *writer, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel);
    /* The end of the input: everything written is out (fsync, flush). */
    int (*flush)(void *writer);
    /* Optional, at-least-once sinks: at checkpoint checkpoint_id's barrier, everything written
     * before it is out (a Kafka producer's queue delivered), so a completed checkpoint covers no
     * record still in the writer's memory. A failure fails the checkpoint. NULL: write is enough
     * (it writes through). */
    int (*barrier)(void *writer, uint64_t checkpoint_id);
    /* Exactly-once: at checkpoint checkpoint_id's barrier (non-decreasing; WR_CKPT_FINAL at the
     * end), makes what was written since durable but not visible, and appends the committable
     * that covers everything not committed yet to out. Nothing is appended on failure (the
     * checkpoint fails). */
    int (*precommit)(void *writer, uint64_t checkpoint_id, wr_strbuf_t *out);
    /* Exactly-once: checkpoint checkpoint_id completed: make visible what it covers. Calling
     * it again is harmless. */
    int (*commit)(void *writer, uint64_t checkpoint_id);
    /* What the last failed write, flush, precommit or commit failed on, for the subtask's error
     * ("out/part-0-1-0.inprogress"), borrowed; NULL (hook or result): its code says it all. */
    const char *(*failed_on)(void *writer);
    /* What the writer hands to whoever runs the job at its end (collect sinks: `weir local`
     * prints it); NULL (hook or result): nothing. Borrowed. */
    const wr_strbuf_t *(*collected)(void *writer);

    /* ---- the JobManager, at submit (optional) ---- */
    /* The resources its writers write that no two running jobs of a cluster may share, appended
     * to out as canonical strings, each followed by a '\n': the kind, a colon and a canonical
     * name ("file:/abs/results.jsonl"; a name ending in '/' is a folder and holds every name
     * under it: "file:/abs/out/"). Relative paths resolve against the working directory, as the
     * writers' do. NULL: it writes nothing exclusive (stdout, collect). Appends nothing it cannot
     * name; out->failed when out of memory. */
    void (*resources)(const void *config, wr_strbuf_t *out);
    /* The files and folders its writers write, as the source's paths hook: the JobManager
     * refuses a job that writes outside security.paths.sinks. NULL: it writes no files (stdout,
     * collect). */
    void (*paths)(const void *config, wr_strbuf_t *out);

    /* ---- the committer (the JobManager, before an attempt starts) ---- */
    /* The lowest attempt number a new job may use here, past every attempt an earlier job
     * left traces of (0 when none). */
    uint32_t (*first_attempt)(const void *config);
    /* Commits the committables of r and aborts what attempts below r->attempt left uncommitted.
     * err says why not. */
    int (*recover)(const void *config, const wr_sink_recover_t *r, wr_strbuf_t *err);
} wr_sink_class_t;

/* ---- the connector ---- */

typedef struct {
    const wr_source_class_t *source; /* NULL: it is no source */
    const wr_sink_class_t *sink;     /* NULL: it is no sink */
} wr_connector_t;

#endif
