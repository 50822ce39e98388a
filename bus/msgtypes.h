/* The one table of message types. Every message on the bus (and in every mailbox) carries one of
 * these. Payloads are msgpack; the payload column is the schema (arrays, positional).
 * Numbers are part of the wire protocol: never reuse or renumber one, only append.
 * Types 1000 and above are private to one process (timers, tests) and never cross the bus. */
#ifndef WR_MSGTYPES_H
#define WR_MSGTYPES_H

#include <stdbool.h>

/*  X(number, NAME, "wire name", "payload schema") */
#define WR_MSG_TYPES(X)                                                                          \
    X(1, STOP, "stop", "nil: stop the receiving actor ($TERM)")                                 \
    X(2, CHILD_FAILED, "child-failed", "[child addr, error code, reason str, restarted bool]")  \
    X(3, CHILD_STOPPED, "child-stopped", "[child addr]")                                        \
    X(4, TIMEOUT, "timeout", "nil: an ask timed out; corr = the ask's correlation id")          \
    X(5, ERROR, "error", "[error code, message str]: negative reply to an ask")                 \
    X(6, PING, "ping", "any")                                                                   \
    X(7, PONG, "pong", "any: the ping's payload echoed")                                        \
    X(10, HEARTBEAT, "heartbeat", "[node id, incarnation u64, seq u64, endpoint str]")           \
    X(11, PEER_DOWN, "peer-down", "[node id, reason, incarnation]: to its watchers")         \
    X(12, PEER_UP, "peer-up", "[node id, incarnation]: heard from again, to its watchers")     \
    X(20, TM_REGISTER, "tm-register", "[node id, endpoint, slots u32, incarnation u64, slots in use u32]") \
    X(21, TM_REGISTERED, "tm-registered", "[jm incarnation u64, heartbeat timeout ms, epoch u64, [[job id, attempt u32]...] owned there, rocksdb localdir]; envelope epoch = epoch") \
    X(30, ACTORS_REQ, "actors-req", "nil: list actors (to a node's `node` actor, or the JM)")    \
    X(31, ACTORS_REPLY, "actors-reply", "[[node, status, [actor stats map...]]...]")            \
    X(32, MAILBOX_REQ, "mailbox-req", "[actor addr, peek n u32]")                                \
    X(33, MAILBOX_REPLY, "mailbox-reply", "map: one actor's mailbox statistics and peek")        \
    X(40, DATA_BATCH, "data-batch", "[channel u64, seq u64, count u32, records bin]")            \
    X(41, CREDIT, "credit", "[channel u64, credits u32]")                                        \
    X(42, CHANNEL_END, "channel-end", "[channel u64, last seq u64]: no more batches")         \
    X(43, CHANNEL_OPEN, "channel-open", "[channel u64]: a sender asks for its first credit")   \
    X(44, WATERMARK, "watermark", "[channel u64, watermark i64 ms]: in band, after batches")  \
    X(45, BARRIER, "barrier", "[channel u64, checkpoint id u64]: in band: state before it")    \
    X(50, JOB_SUBMIT, "job-submit", "[topology]: run a job (CLI -> JobManager)")              \
    X(51, JOB_SUBMITTED, "job-submitted", "[job id str]")                                       \
    X(52, JOBS_REQ, "jobs-req", "nil: list jobs")                                               \
    X(53, JOBS_REPLY, "jobs-reply", "[{id, name, state, ...}...]")                              \
    X(54, JOB_REQ, "job-req", "[job id str]: one job's details")                                \
    X(55, JOB_REPLY, "job-reply", "{id, name, state, operators: [...]}")                        \
    X(56, JOB_CANCEL, "job-cancel", "[job id str]")                                             \
    X(57, JOB_CANCELED, "job-canceled", "[job id str]")                                         \
    X(60, TASK_DEPLOY, "task-deploy", "[job id, attempt, vertex, subtask, plan]; envelope epoch = the leader's") \
    X(61, TASK_DEPLOYED, "task-deployed", "[job id, vertex, subtask]")                          \
    X(62, TASK_CANCEL, "task-cancel", "[job id]: stop every subtask of the job on this node; envelope epoch = the leader's") \
    X(63, TASK_STATE, "task-state", "[job id, vertex, subtask, state, error, stats]")            \
    X(64, CKPT_TRIGGER, "ckpt-trigger", "[job id, attempt, id, dir, drain]: to sources")   \
    X(65, CKPT_ACK, "ckpt-ack", "[job, attempt, vertex, subtask, id, [blob...], align ms]")     \
    X(66, CKPT_DECLINE, "ckpt-decline", "[job id, attempt, vertex, subtask, id, reason]")       \
    X(67, CKPT_COMPLETE, "ckpt-complete", "[job id, attempt, checkpoint id]: commit")           \
    X(68, CKPT_LIST_REQ, "ckpt-list-req", "[job id]: a job's checkpoints (weir checkpoints)")   \
    X(69, CKPT_LIST_REPLY, "ckpt-list-reply", "{job, state, latest, checkpoints: [...]}")      \
    X(70, SAVEPOINT_REQ, "savepoint-req", "[job id, dir, stop, drain]: weir savepoint / stop")\
    X(71, SAVEPOINT_DONE, "savepoint-done", "[path]: where the savepoint is")

enum wr_msg_type {
#define WR__MSG_ENUM(num, name, wire, schema) WR_MSG_##name = num,
    WR_MSG_TYPES(WR__MSG_ENUM)
#undef WR__MSG_ENUM
    WR_MSG_LOCAL_FIRST = 1000, /* process-private types start here (timers, tests) */
    WR_MSG_LOCAL_LAST = 65535
};

/* Wire name of a known type, or NULL. Process-private types (>= 1000) are all named "local". */
const char *wr_msg_type_name(int type);
/* wr_msg_type_name, or "unknown": for log lines. */
static inline const char *wr_msg_type_label(int type)
{
    const char *name = wr_msg_type_name(type);
    return name ? name : "unknown";
}
/* The type whose wire name is name ("ping" -> WR_MSG_PING), or WR_ETYPE. */
int wr_msg_type_from_name(const char *name);
/* True for types in the table (the only ones the bus accepts from the network). */
bool wr_msg_type_is_wire(int type);
bool wr_msg_type_is_local(int type);

#endif
