/* The payload of every message type, declared once (bus/proto.h says how to read a declaration,
 * what each kind means, who owns what and how each failure is reported). bus/msgtypes.h names the
 * declaration of each type; both ends of every message pack and unpack it through these:
 *
 *   wr_msg_<decl>_t        the payload as a C struct
 *   wr_msg_<decl>_pack     appends its encoding to an sbuffer (wr_proto_pack)
 *   wr_msg_<decl>_new      a new message of a type with that payload, as wr_msg_new (from/to
 *                          may be NULL); NULL when out of memory, an address does not fit,
 *                          the struct breaks its declaration or the type has another one
 *   wr_msg_<decl>_unpack   decodes a message's payload (WR_ETYPE when the message's type has
 *                          another declaration; else as wr_proto_decode)
 *   wr_msg_<decl>_decode   decodes payload bytes (wr_proto_decode)
 *   wr_msg_<decl>_release  frees what a decode allocated (wr_proto_release)
 *
 * The bus knows the schema of the job messages (the table names them) but none of their
 * behaviour: the limits below are the wire's, shared with actors/cluster/cluster.h. Wire order is
 * the order of the fields; renaming a MAP field changes what `--json` prints. */
#ifndef WR_MESSAGES_H
#define WR_MESSAGES_H

#include "bus/envelope.h"
#include "bus/msg.h"
#include "bus/msgtypes.h"
#include "bus/proto.h"

/* ---- limits of the wire ---- */
#define WR_MSG_JOB_ID_MAX      24   /* a job id, NUL included (8 hex digits today) */
#define WR_MSG_PATH_MAX        512  /* a checkpoint, savepoint or state folder path, NUL included */
#define WR_MSG_ENDPOINT_MAX    128  /* a bus endpoint "tcp://host:port", NUL included */
#define WR_MSG_CLUSTER_MAX     64   /* a cluster id (high-availability.cluster-id), NUL included */
#define WR_MSG_REASON_MAX      64   /* why a peer is down, NUL included */
#define WR_MSG_STATE_MAX       16   /* a subtask's state name, NUL included */
#define WR_MSG_ERROR_MAX       1024 /* a subtask's error, NUL included */
#define WR_MSG_BLOB_NAME_MAX   64   /* a checkpoint blob's name, NUL included */
#define WR_MSG_PLACES_MAX      (1u << 17) /* subtasks of a job */
#define WR_MSG_BLOBS_MAX       256        /* state blobs of one subtask's checkpoint */
#define WR_MSG_NODES_MAX       4096       /* nodes in `weir actors` */
#define WR_MSG_ACTORS_MAX      (1u << 20) /* actors of one node */
#define WR_MSG_JOBS_MAX        (1u << 16) /* jobs a JobManager lists */
#define WR_MSG_JMS_MAX         16         /* JobManagers a cluster lists (leader and standbys) */
#define WR_MSG_OPERATORS_MAX   4096       /* vertices of a job */
#define WR_MSG_SUBTASKS_MAX    (1u << 16) /* subtasks of one vertex */
#define WR_MSG_CKPTS_MAX       1024       /* checkpoints a job lists */
#define WR_MSG_TYPE_COUNTS_MAX 64         /* message types a mailbox counts */
#define WR_MSG_BUCKETS_MAX     64         /* buckets of a processing-time histogram */
#define WR_MSG_RECENT_MAX      64         /* recent messages of a mailbox */

/* ---- field groups several payloads share ---- */

/* A subtask of an attempt of a job. */
#define WR_MSG_SUBTASK(F)                                                                          \
    F(STR, job, WR_MSG_JOB_ID_MAX, )                                                               \
    F(U32, attempt, , )                                                                            \
    F(U32, vertex, , )                                                                             \
    F(U32, subtask, , )

/* A checkpoint of an attempt of a job. */
#define WR_MSG_CKPT_REF(F)                                                                         \
    F(STR, job, WR_MSG_JOB_ID_MAX, )                                                               \
    F(U32, attempt, , )                                                                            \
    F(U64, checkpoint, , )

/* A mailbox's counters (after its depth and capacity). */
#define WR_MSG_MAILBOX_COUNTS(F)                                                                   \
    F(U64, high_water, , )                                                                         \
    F(U64, enqueued, , )                                                                           \
    F(U64, dequeued, , )                                                                           \
    F(U64, rejected, , )                                                                           \
    F(U64, restarts, , )                                                                           \
    F(F64, rate, , )                                                                               \
    F(I64, oldest_age_ms, , )

/* ---- parts of payloads (elements of lists, nested structs) ---- */

/* Where a subtask runs (TASK_DEPLOY). ARRAY. */
#define WR_MSG_FIELDS_place(F)                                                                     \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(STR, endpoint, WR_MSG_ENDPOINT_MAX, )

/* One piece of a subtask's checkpointed state (CKPT_ACK; state/ckpt_meta.h): kind 0 is inline
 * (data: bin, the bytes), 1 an exclusive file and 2 a shared file (data: str, the file's name).
 * ARRAY. */
#define WR_MSG_FIELDS_ckpt_blob(F)                                                                 \
    F(STR, name, WR_MSG_BLOB_NAME_MAX, )                                                           \
    F(U32, kind, , )                                                                               \
    F(BINSTR, data, , )

/* A subtask's counters (TASK_STATE), each of this attempt (a restarted subtask counts from 0, as
 * Flink's numRecordsIn); skipped: bad input its source skipped (a file source's lines under
 * on_error: skip); collected: the results of a `collect` sink, in its final report;
 * backpressure: the times its output found itself blocked, backpressure_ms the time it waited
 * on it, backpressure_ms_per_s that time per second over the interval since its previous report
 * (Flink's backPressuredTimeMsPerSecond, 0..1000); stale_dropped: checkpoint messages it dropped
 * because they came from another leader's epoch (a deposed JobManager's). MAP. */
#define WR_MSG_FIELDS_task_stats(F)                                                                \
    F(I64, emit_delay_p50_ms, , )                                                                  \
    F(I64, emit_delay_p99_ms, , )                                                                  \
    F(I64, emit_delay_last_p99_ms, , )                                                             \
    F(U32, attempt, , )                                                                            \
    F(U64, records_in, , )                                                                         \
    F(U64, records_out, , )                                                                        \
    F(I64, watermark, , )                                                                          \
    F(U64, backpressure, , )                                                                       \
    F(U64, windows_fired, , )                                                                      \
    F(U64, late_dropped, , )                                                                       \
    F(U64, skipped, , )                                                                            \
    F(OPT_STRV, collected, , )                                                                     \
    F(OPT_U64, backpressure_ms, , )                                                                \
    F(OPT_U64, backpressure_ms_per_s, , )                                                          \
    F(OPT_U64, stale_dropped, , )

/* One actor in `weir actors` (actors/runtime/inspect.h). MAP. */
#define WR_MSG_FIELDS_actor_row(F)                                                                 \
    F(STRV, addr, , )                                                                              \
    F(STRV, supervisor, , )                                                                        \
    F(U64, depth, , )                                                                              \
    F(U64, capacity, , )                                                                           \
    WR_MSG_MAILBOX_COUNTS(F)

/* One node in `weir actors`: status "up", "dead" or "unresponsive"; the transport's counters of
 * rejected frames, refused connections and peers cut off for not reading (bus/transport.h); its
 * actors; a TaskManager's row in the JobManager's answer also the slots it offers and, of those,
 * how many its subtasks do not hold as it last reported (slots_free: there whenever slots is, 0
 * included). MAP. */
#define WR_MSG_FIELDS_node_row(F)                                                                  \
    F(STRV, node, , )                                                                              \
    F(STRV, status, , )                                                                            \
    F(STRV, endpoint, , )                                                                          \
    F(U64, incarnation, , )                                                                        \
    F(I64, last_heard_ms, , )                                                                      \
    F(U64, frames_in, , )                                                                          \
    F(U64, malformed, , )                                                                          \
    F(U64, bad_frames, , )                                                                         \
    F(U64, bad_envelope, , )                                                                       \
    F(U64, bad_version, , )                                                                        \
    F(U64, bad_type, , )                                                                           \
    F(U64, oversized, , )                                                                          \
    F(U64, spoofed, , )                                                                            \
    F(U64, refused, , )                                                                            \
    F(U64, unknown_key, , )                                                                        \
    F(U64, impostors, , )                                                                          \
    F(U64, overflowed, , )                                                                         \
    F(U64, cut_while_sending, , )                                                                  \
    F(LIST, actors, actor_row, WR_MSG_ACTORS_MAX)                                                  \
    F(OPT_U32, slots, , )                                                                          \
    F(WITH_U32, slots_free, , )

/* An attempt of a job (TM_REGISTERED: the attempts the leader owns on a TaskManager). ARRAY. */
#define WR_MSG_FIELDS_job_attempt(F)                                                               \
    F(STR, job, WR_MSG_JOB_ID_MAX, )                                                               \
    F(U32, attempt, , )

/* Messages of one type a mailbox handled (an entry of MAILBOX_REPLY's `types` DICT). */
#define WR_MSG_FIELDS_type_count(F)                                                                \
    F(STRV, type, , )                                                                              \
    F(U64, count, , )

/* A histogram bucket: how many took up to upper_us. ARRAY. */
#define WR_MSG_FIELDS_hist_bucket(F)                                                               \
    F(U64, upper_us, , )                                                                           \
    F(U64, count, , )

/* A recently handled message: its payload as itself (when sampled whole), its first bytes
 * (payload_truncated) or payload_not_sampled; exactly one of the three. MAP. */
#define WR_MSG_FIELDS_recent_msg(F)                                                                \
    F(STRV, type, , )                                                                              \
    F(STRV, from, , )                                                                              \
    F(U64, size, , )                                                                               \
    F(I64, age_ms, , )                                                                             \
    F(I64, waited_ms, , )                                                                          \
    F(OPT_BOOL, payload_not_sampled, , )                                                           \
    F(OPT_RAW, payload, , )                                                                        \
    F(OPT_BIN, payload_truncated, , )

/* A job in `weir jobs`: the first fields of `weir job` too. MAP. */
#define WR_MSG_JOB_SUMMARY(F)                                                                      \
    F(STRV, id, , )                                                                                \
    F(STRV, name, , )                                                                              \
    F(STRV, state, , )                                                                             \
    F(I64, submitted_ms, , )                                                                       \
    F(I64, duration_ms, , )                                                                        \
    F(U32, slots, , )                                                                              \
    F(STRV, error, , )
#define WR_MSG_FIELDS_job_summary(F) WR_MSG_JOB_SUMMARY(F)

/* Where a subtask of an operator runs, its state and its counters (as task_stats; left out
 * while 0). MAP. */
#define WR_MSG_FIELDS_subtask_place(F)                                                             \
    F(STRV, node, , )                                                                              \
    F(STRV, state, , )                                                                             \
    F(OPT_U64, records_in, , )                                                                     \
    F(OPT_U64, records_out, , )                                                                    \
    F(OPT_U64, backpressure, , )                                                                   \
    F(OPT_I64, watermark, , )                                                                      \
    F(OPT_U64, backpressure_ms, , )                                                                \
    F(OPT_U64, backpressure_ms_per_s, , )                                                          \
    F(OPT_U64, stale_dropped, , )

/* An operator of a job, summed over its subtasks (delays: the worst subtask's; watermark: the
 * lowest); output: the operator its records go to (its index, -1: none), ship: how ("FORWARD",
 * "REBALANCE", "HASH"; "" for none). MAP. */
#define WR_MSG_FIELDS_operator_stats(F)                                                            \
    F(I64, emit_delay_p50_ms, , )                                                                  \
    F(I64, emit_delay_p99_ms, , )                                                                  \
    F(I64, emit_delay_last_p99_ms, , )                                                             \
    F(STRV, name, , )                                                                              \
    F(U32, parallelism, , )                                                                        \
    F(U64, records_in, , )                                                                         \
    F(U64, records_out, , )                                                                        \
    F(U64, backpressure, , )                                                                       \
    F(I64, watermark, , )                                                                          \
    F(U64, windows_fired, , )                                                                      \
    F(U64, late_dropped, , )                                                                       \
    F(U64, skipped, , )                                                                            \
    F(LIST, subtasks, subtask_place, WR_MSG_SUBTASKS_MAX)                                          \
    F(I64, output, , )                                                                             \
    F(STRV, ship, , )

/* A checkpoint in `weir checkpoints`: status IN_PROGRESS, COMPLETED or FAILED; kind checkpoint,
 * savepoint or final. MAP. */
#define WR_MSG_FIELDS_ckpt_stat(F)                                                                 \
    F(U64, id, , )                                                                                 \
    F(STRV, status, , )                                                                            \
    F(STRV, kind, , )                                                                              \
    F(I64, trigger_ms, , )                                                                         \
    F(I64, duration_ms, , )                                                                        \
    F(U64, full_size, , )                                                                          \
    F(U64, incremental_size, , )                                                                   \
    F(I64, alignment_ms, , )                                                                       \
    F(STRV, reason, , )

/* ---- payloads (each named by rows of bus/msgtypes.h) ---- */

/* STOP, TIMEOUT, ACTORS_REQ, JOBS_REQ: empty. BARE with no field (a hand-made declaration: C has
 * no empty struct). */
typedef struct {
    char unused_;
} wr_msg_none_t;
extern const wr_proto_struct_t wr_msg_none_decl;

/* PING, PONG: any bytes. BARE. */
#define WR_MSG_FIELDS_opaque(F) F(OPAQUE, bytes, , )

/* CHILD_FAILED: code is the handler's WR_E* error. ARRAY. */
#define WR_MSG_FIELDS_child_failed(F)                                                              \
    F(STR, child, WR_ADDR_MAX, )                                                                   \
    F(I32, code, , )                                                                               \
    F(STRV, reason, , )                                                                            \
    F(BOOL, restarted, , )

/* CHILD_STOPPED. ARRAY. */
#define WR_MSG_FIELDS_child_stopped(F) F(STR, child, WR_ADDR_MAX, )

/* ERROR: a WR_E* code and what went wrong, for a human. ARRAY. */
#define WR_MSG_FIELDS_error(F)                                                                     \
    F(I32, code, , )                                                                               \
    F(STRV, text, , )

/* HEARTBEAT: node is the sender's own id (the transport checks it against the connection). ARRAY.
 */
#define WR_MSG_FIELDS_heartbeat(F)                                                                 \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(U64, incarnation, , )                                                                        \
    F(U64, seq, , )                                                                                \
    F(STR, endpoint, WR_MSG_ENDPOINT_MAX, )

/* PEER_DOWN: the incarnation that went down (0: never heard). ARRAY. */
#define WR_MSG_FIELDS_peer_down(F)                                                                 \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(STR, reason, WR_MSG_REASON_MAX, )                                                            \
    F(U64, incarnation, , )

/* WRONG_NODE: a node's answer to a message that came over a connection to it but was addressed to
 * another node id (the sender knows this node under a wrong id). node: the answering node's own
 * id; to: the address the message was sent to. The envelope goes to the message's sender with its
 * correlation id. Rate-limited per sender; the transport handles it (bus/transport.h). ARRAY. */
#define WR_MSG_FIELDS_wrong_node(F)                                                                \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(STR, to, WR_ADDR_MAX, )

/* PEER_UP: the incarnation heard. ARRAY. */
#define WR_MSG_FIELDS_peer_up(F)                                                                   \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(U64, incarnation, , )

/* TM_REGISTER: a registration, and once registered the TaskManager's slot report (sent again
 * every few seconds); cluster, its cluster id (high-availability.cluster-id: a JobManager refuses
 * another cluster's TaskManager); node must be the sender's node; slots_in_use: the slots its
 * subtasks hold.
 * ARRAY. */
#define WR_MSG_FIELDS_tm_register(F)                                                               \
    F(STR, cluster, WR_MSG_CLUSTER_MAX, )                                                          \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(STR, endpoint, WR_MSG_ENDPOINT_MAX, )                                                        \
    F(U32, slots, , )                                                                              \
    F(U64, incarnation, , )                                                                        \
    F(U32, slots_in_use, , )

/* TM_REGISTERED: the leader's answer to every TM_REGISTER (and sent unasked to a TaskManager
 * back from the dead): epoch, the leader's (also in the envelope); owned, the attempts it owns on
 * that TaskManager (every other subtask there stops); rocksdb_dir, the RocksDB localdir ("" with
 * the memory backend). ARRAY. */
#define WR_MSG_FIELDS_tm_registered(F)                                                             \
    F(U64, jm_incarnation, , )                                                                     \
    F(I64, heartbeat_timeout_ms, , )                                                               \
    F(U64, epoch, , )                                                                              \
    F(LIST, owned, job_attempt, WR_MSG_JOBS_MAX)                                                   \
    F(STR, rocksdb_dir, WR_MSG_PATH_MAX, )

/* ACTORS_REPLY: a node's own row, or the JobManager's answer with a row per node. BARE. */
#define WR_MSG_FIELDS_actors_reply(F) F(LIST, nodes, node_row, WR_MSG_NODES_MAX)

/* MAILBOX_REQ: the actor "node/path" and how many recent messages to show. ARRAY. */
#define WR_MSG_FIELDS_mailbox_req(F)                                                               \
    F(STR, addr, WR_ADDR_MAX, )                                                                    \
    F(U32, peek, , )

/* MAILBOX_REPLY (actors/runtime/inspect.h). MAP. */
#define WR_MSG_FIELDS_mailbox_reply(F)                                                             \
    F(STRV, addr, , )                                                                              \
    F(U64, capacity, , )                                                                           \
    F(U64, depth, , )                                                                              \
    WR_MSG_MAILBOX_COUNTS(F)                                                                       \
    F(F64, processing_ms, , )                                                                      \
    F(DICT, types, type_count, WR_MSG_TYPE_COUNTS_MAX)                                             \
    F(LIST, processing_us, hist_bucket, WR_MSG_BUCKETS_MAX)                                        \
    F(LIST, recent, recent_msg, WR_MSG_RECENT_MAX)

/* DATA_BATCH: count records, encoded by the sender's convention. Fixed width, so that a sender
 * writes its records into the message first and the header last (bus/channel.h). ARRAY. */
#define WR_MSG_FIELDS_data_batch(F)                                                                \
    F(FIX_U64, channel, , )                                                                        \
    F(FIX_U64, seq, , )                                                                            \
    F(FIX_U32, count, , )                                                                          \
    F(FIX_BIN, records, , )

/* CREDIT: the receiver has granted `granted` batches in all since the channel opened: the sender
 * may have sent that many. A running total, not an increment, so a repeated CREDIT changes
 * nothing and a lost one is made good by the next (bus/channel.h). ARRAY. */
#define WR_MSG_FIELDS_credit(F)                                                                    \
    F(U64, channel, , )                                                                            \
    F(U64, granted, , )

/* CHANNEL_END: last_seq is the sequence number after the last batch. ARRAY. */
#define WR_MSG_FIELDS_channel_end(F)                                                               \
    F(U64, channel, , )                                                                            \
    F(U64, last_seq, , )

/* CHANNEL_OPEN. ARRAY. */
#define WR_MSG_FIELDS_channel_open(F) F(U64, channel, , )

/* WATERMARK: origin_ms, when the source made the watermark that let this one pass (wall
 * clock). ARRAY. */
#define WR_MSG_FIELDS_watermark(F)                                                                 \
    F(U64, channel, , )                                                                            \
    F(I64, watermark, , )                                                                          \
    F(I64, origin_ms, , )

/* BARRIER: checkpoint (not 0) and the folder its state files go to; next_seq, the sequence
 * number after the last batch the channel sent before it, so that the receiver takes no
 * checkpoint with a batch lost before its barrier (bus/channel.h). ARRAY. */
#define WR_MSG_FIELDS_barrier(F)                                                                   \
    F(U64, channel, , )                                                                            \
    F(U64, checkpoint, , )                                                                         \
    F(U64, next_seq, , )                                                                           \
    F(STR, dir, WR_MSG_PATH_MAX, )

/* JOB_SUBMIT: the topology (actors/dataflow/job/topology.h's msgpack form), and optionally a
 * checkpoint or savepoint to restore and a parallelism for every operator (0: the topology's).
 * ARRAY with an optional tail. */
#define WR_MSG_FIELDS_job_submit(F)                                                                \
    F(RAW, topology, , )                                                                           \
    F(OPT_STR, restore, WR_MSG_PATH_MAX, )                                                         \
    F(OPT_U32, parallelism, , )

/* JOB_SUBMITTED, JOB_REQ, JOB_CANCEL, JOB_CANCELED, TASK_CANCEL, CKPT_LIST_REQ: a job. ARRAY. */
#define WR_MSG_FIELDS_job_ref(F) F(STR, job, WR_MSG_JOB_ID_MAX, )

/* A JobManager of the cluster (JOBS_REPLY's standbys, NOT_LEADER's leader): its node id, bus
 * endpoint and, for a leader, its epoch (a standby's candidacy revision otherwise). MAP. */
#define WR_MSG_FIELDS_jm_addr(F)                                                                   \
    F(STR, node, WR_NODE_MAX, )                                                                    \
    F(STR, endpoint, WR_MSG_ENDPOINT_MAX, )                                                        \
    F(U64, epoch, , )

/* JOBS_REPLY: a summary per job, and who answers: ha, the leadership ("standalone", "etcd"); the
 * leader's node and epoch; the standby JobManagers (etcd). MAP. */
#define WR_MSG_FIELDS_jobs_reply(F)                                                                \
    F(LIST, jobs, job_summary, WR_MSG_JOBS_MAX)                                                    \
    F(STRV, ha, , )                                                                                \
    F(STRV, leader, , )                                                                            \
    F(U64, epoch, , )                                                                              \
    F(LIST, standbys, jm_addr, WR_MSG_JMS_MAX)

/* JOB_REPLY: collected, every `collect` sink's results (JSON lines). MAP. */
#define WR_MSG_FIELDS_job_reply(F)                                                                 \
    WR_MSG_JOB_SUMMARY(F)                                                                          \
    F(U32, attempt, , )                                                                            \
    F(U32, restarts, , )                                                                           \
    F(I64, latest_checkpoint, , )                                                                  \
    F(I64, recovery_ms, , )                                                                        \
    F(LIST, operators, operator_stats, WR_MSG_OPERATORS_MAX)                                       \
    F(STRV, collected, , )

/* TASK_DEPLOY: subtask `subtask` of vertex `vertex` of the job's plan, made from the topology;
 * places, where every subtask of the job runs (plan order); channel credits and records per batch;
 * what to restore ("": nothing); the rocksdb backend's local folder and block cache bytes; the
 * folder for window segments written ahead of checkpoints (DIR/JOB/ahead, state/ckpt_store.h;
 * "": none). ARRAY; ahead_dir an optional tail.
 */
#define WR_MSG_FIELDS_task_deploy(F)                                                               \
    WR_MSG_SUBTASK(F)                                                                              \
    F(RAW, topology, , )                                                                           \
    F(LIST, places, place, WR_MSG_PLACES_MAX)                                                      \
    F(U32, credits, , )                                                                            \
    F(U32, batch_records, , )                                                                      \
    F(BOOL, checkpointing, , )                                                                     \
    F(STR, restore, WR_MSG_PATH_MAX, )                                                             \
    F(BOOL, rocksdb, , )                                                                           \
    F(STR, rocksdb_dir, WR_MSG_PATH_MAX, )                                                         \
    F(U64, rocksdb_cache, , )                                                                      \
    F(OPT_STR, ahead_dir, WR_MSG_PATH_MAX, )

/* TASK_DEPLOYED. ARRAY. */
#define WR_MSG_FIELDS_task_deployed(F)                                                             \
    F(STR, job, WR_MSG_JOB_ID_MAX, )                                                               \
    F(U32, vertex, , )                                                                             \
    F(U32, subtask, , )

/* TASK_STATE: state "running" (every second), "finished" or "failed" (with error).
 * deterministic (failed only): the subtask failed at its start with an error that every restart
 * would meet again (a configuration or validation error: an operator its backend cannot build,
 * a state that does not fit the job), as opposed to a lost TaskManager or an I/O error; the
 * JobManager then fails the job instead of restarting it (Flink's SuppressRestartsException).
 * ARRAY; deterministic an optional tail. */
#define WR_MSG_FIELDS_task_state(F)                                                                \
    F(STR, job, WR_MSG_JOB_ID_MAX, )                                                               \
    F(U32, vertex, , )                                                                             \
    F(U32, subtask, , )                                                                            \
    F(STR, state, WR_MSG_STATE_MAX, )                                                              \
    F(STR, error, WR_MSG_ERROR_MAX, )                                                              \
    F(STRUCT, stats, task_stats, )                                                                 \
    F(OPT_BOOL, deterministic, , )

/* CKPT_TRIGGER: take checkpoint `checkpoint` into dir; drain: end event time first (weir stop
 * --drain). ARRAY. */
#define WR_MSG_FIELDS_ckpt_trigger(F)                                                              \
    WR_MSG_CKPT_REF(F)                                                                             \
    F(STR, dir, WR_MSG_PATH_MAX, )                                                                 \
    F(BOOL, drain, , )

/* CKPT_ACK: the subtask's state blobs and how long its barrier alignment took. ARRAY. */
#define WR_MSG_FIELDS_ckpt_ack(F)                                                                  \
    WR_MSG_SUBTASK(F)                                                                              \
    F(U64, checkpoint, , )                                                                         \
    F(LIST, blobs, ckpt_blob, WR_MSG_BLOBS_MAX)                                                    \
    F(I64, alignment_ms, , )

/* CKPT_DECLINE. ARRAY. */
#define WR_MSG_FIELDS_ckpt_decline(F)                                                              \
    WR_MSG_SUBTASK(F)                                                                              \
    F(U64, checkpoint, , )                                                                         \
    F(STRV, reason, , )

/* CKPT_COMPLETE: sinks commit what checkpoint `checkpoint` covers. ARRAY. */
#define WR_MSG_FIELDS_ckpt_complete(F) WR_MSG_CKPT_REF(F)

/* CKPT_LIST_REPLY: latest, the newest completed checkpoint's folder ("": none); interval_ms 0
 * when periodic checkpoints are off; checkpoints, oldest first. MAP. */
#define WR_MSG_FIELDS_ckpt_list_reply(F)                                                           \
    F(STRV, job, , )                                                                               \
    F(STRV, state, , )                                                                             \
    F(STRV, latest, , )                                                                            \
    F(I64, interval_ms, , )                                                                        \
    F(LIST, checkpoints, ckpt_stat, WR_MSG_CKPTS_MAX)

/* SAVEPOINT_REQ: dir "" for state.savepoints.dir; stop: the job ends after it; drain (with stop
 * only): event time ends first. ARRAY. */
#define WR_MSG_FIELDS_savepoint_req(F)                                                             \
    F(STR, job, WR_MSG_JOB_ID_MAX, )                                                               \
    F(STR, dir, WR_MSG_PATH_MAX, )                                                                 \
    F(BOOL, stop, , )                                                                              \
    F(BOOL, drain, , )

/* SAVEPOINT_DONE: the savepoint's folder. ARRAY. */
#define WR_MSG_FIELDS_savepoint_done(F) F(STRV, path, , )

/* Every declaration with its encoding, parts before the payloads that hold them (none is
 * hand-made above). */
#define WR_MSG_DECLS(D)                                                                            \
    D(place, ARRAY)                                                                                \
    D(ckpt_blob, ARRAY)                                                                            \
    D(task_stats, MAP)                                                                             \
    D(actor_row, MAP)                                                                              \
    D(node_row, MAP)                                                                               \
    D(job_attempt, ARRAY)                                                                          \
    D(type_count, ARRAY)                                                                           \
    D(hist_bucket, ARRAY)                                                                          \
    D(recent_msg, MAP)                                                                             \
    D(job_summary, MAP)                                                                            \
    D(jm_addr, MAP)                                                                                \
    D(subtask_place, MAP)                                                                          \
    D(operator_stats, MAP)                                                                         \
    D(ckpt_stat, MAP)                                                                              \
    D(opaque, BARE)                                                                                \
    D(child_failed, ARRAY)                                                                         \
    D(child_stopped, ARRAY)                                                                        \
    D(error, ARRAY)                                                                                \
    D(heartbeat, ARRAY)                                                                            \
    D(peer_down, ARRAY)                                                                            \
    D(peer_up, ARRAY)                                                                              \
    D(wrong_node, ARRAY)                                                                           \
    D(tm_register, ARRAY)                                                                          \
    D(tm_registered, ARRAY)                                                                        \
    D(actors_reply, BARE)                                                                          \
    D(mailbox_req, ARRAY)                                                                          \
    D(mailbox_reply, MAP)                                                                          \
    D(data_batch, ARRAY)                                                                           \
    D(credit, ARRAY)                                                                               \
    D(channel_end, ARRAY)                                                                          \
    D(channel_open, ARRAY)                                                                         \
    D(watermark, ARRAY)                                                                            \
    D(barrier, ARRAY)                                                                              \
    D(job_submit, ARRAY)                                                                           \
    D(job_ref, ARRAY)                                                                              \
    D(jobs_reply, MAP)                                                                             \
    D(job_reply, MAP)                                                                              \
    D(task_deploy, ARRAY)                                                                          \
    D(task_deployed, ARRAY)                                                                        \
    D(task_state, ARRAY)                                                                           \
    D(ckpt_trigger, ARRAY)                                                                         \
    D(ckpt_ack, ARRAY)                                                                             \
    D(ckpt_decline, ARRAY)                                                                         \
    D(ckpt_complete, ARRAY)                                                                        \
    D(ckpt_list_reply, MAP)                                                                        \
    D(savepoint_req, ARRAY)                                                                        \
    D(savepoint_done, ARRAY)

/* ---- the typed API of each declaration ---- */

/* The declaration of a message type's payload; NULL for a type not in the table. */
const wr_proto_struct_t *wr_msg_decl(int type);
/* Decodes m's payload with declaration d: WR_ETYPE when m's type has another one. */
int wr__msg_unpack(const wr_msg_t *m, const wr_proto_struct_t *d, void *p);
/* wr_msg_new of a payload that encodes *p with declaration d; NULL when out of memory, an address
 * does not fit, *p breaks d or d is not type's declaration (a bug of the caller). */
wr_msg_t *wr__msg_new(uint16_t type, const char *from, const char *to, const wr_proto_struct_t *d,
                      const void *p);
/* Appends JSON of a payload of type, its fields named by its declaration (MAP and ARRAY structs
 * alike become objects), at most max_out bytes (as wr_mp_to_json). A payload that does not decode
 * is rendered as plain msgpack (wr_mp_to_json). Returns 0, WR_EPROTO (neither works) or
 * WR_ENOMEM. */
int wr_msg_payload_json(int type, const uint8_t *buf, size_t len, size_t max_out, wr_strbuf_t *out);

#define WR__MSG_API(decl, enc)                                                                     \
    static inline int wr_msg_##decl##_pack(const wr_msg_##decl##_t *p, msgpack_sbuffer *out)       \
    {                                                                                              \
        return wr_proto_pack(&wr_msg_##decl##_decl, p, out);                                       \
    }                                                                                              \
    static inline wr_msg_t *wr_msg_##decl##_new(uint16_t type, const char *from, const char *to,   \
                                                const wr_msg_##decl##_t *p)                        \
    {                                                                                              \
        return wr__msg_new(type, from, to, &wr_msg_##decl##_decl, p);                              \
    }                                                                                              \
    static inline int wr_msg_##decl##_unpack(const wr_msg_t *m, wr_msg_##decl##_t *p)              \
    {                                                                                              \
        return wr__msg_unpack(m, &wr_msg_##decl##_decl, p);                                        \
    }                                                                                              \
    static inline int wr_msg_##decl##_decode(const void *buf, size_t len, wr_msg_##decl##_t *p)    \
    {                                                                                              \
        return wr_proto_decode(&wr_msg_##decl##_decl, buf, len, p);                                \
    }                                                                                              \
    static inline void wr_msg_##decl##_release(wr_msg_##decl##_t *p)                               \
    {                                                                                              \
        wr_proto_release(&wr_msg_##decl##_decl, p);                                                \
    }

#define WR__MSG_TYPES_OF(decl, enc) WR_PROTO_TYPES(decl)
WR_MSG_DECLS(WR__MSG_TYPES_OF)
#undef WR__MSG_TYPES_OF
WR_MSG_DECLS(WR__MSG_API)
WR__MSG_API(none, BARE)

#endif
