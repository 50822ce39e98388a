/* The one table of message types. Every message on the bus (and in every mailbox) carries one of
 * these. Payloads are msgpack; each type names the one declaration of its payload, in
 * bus/messages.h, from which the codec (bus/proto.h) packs and unpacks it at both ends.
 * Numbers are part of the wire protocol: never reuse or renumber one, only append.
 * Types 1000 and above are private to one process (timers, tests) and never cross the bus. */
#ifndef WR_MSGTYPES_H
#define WR_MSGTYPES_H

#include <stdbool.h>

/*  X(number, NAME, "wire name", payload declaration (bus/messages.h), "what it is for") */
#define WR_MSG_TYPES(X)                                                                            \
    X(1, STOP, "stop", none, "stop the receiving actor ($TERM)")                                   \
    X(2, CHILD_FAILED, "child-failed", child_failed, "a child failed: to its supervisor")          \
    X(3, CHILD_STOPPED, "child-stopped", child_stopped, "a child stopped: to its supervisor")      \
    X(4, TIMEOUT, "timeout", none, "an ask timed out; corr = the ask's correlation id")            \
    X(5, ERROR, "error", error, "negative reply to an ask")                                        \
    X(6, PING, "ping", opaque, "any bytes")                                                        \
    X(7, PONG, "pong", opaque, "the ping's payload echoed")                                        \
    X(10, HEARTBEAT, "heartbeat", heartbeat, "node to node, every heartbeat.interval")             \
    X(11, PEER_DOWN, "peer-down", peer_down, "a watched node went down: to its watchers")          \
    X(12, PEER_UP, "peer-up", peer_up, "a watched node is heard from again: to its watchers")      \
    X(13, WRONG_NODE, "wrong-node", wrong_node, "answer to a message for another node id")         \
    X(20, TM_REGISTER, "tm-register", tm_register, "a TaskManager offers its slots")               \
    X(21, TM_REGISTERED, "tm-registered", tm_registered, "the JobManager's answer")                \
    X(30, ACTORS_REQ, "actors-req", none, "list actors (to a node's `node` actor, or the JM)")     \
    X(31, ACTORS_REPLY, "actors-reply", actors_reply, "node rows with their actors")               \
    X(32, MAILBOX_REQ, "mailbox-req", mailbox_req, "one actor's mailbox")                          \
    X(33, MAILBOX_REPLY, "mailbox-reply", mailbox_reply, "its statistics and a peek")              \
    X(40, DATA_BATCH, "data-batch", data_batch, "records of a channel (bus/channel.h)")            \
    X(41, CREDIT, "credit", credit, "a receiver grants batches")                                   \
    X(42, CHANNEL_END, "channel-end", channel_end, "no more batches")                              \
    X(43, CHANNEL_OPEN, "channel-open", channel_open, "a sender asks for its first credit")        \
    X(44, WATERMARK, "watermark", watermark, "in band, after batches")                             \
    X(45, BARRIER, "barrier", barrier, "in band: the state before it is the checkpoint's")         \
    X(50, JOB_SUBMIT, "job-submit", job_submit, "run a job (CLI -> JobManager)")                   \
    X(51, JOB_SUBMITTED, "job-submitted", job_ref, "the new job's id")                             \
    X(52, JOBS_REQ, "jobs-req", none, "list jobs")                                                 \
    X(53, JOBS_REPLY, "jobs-reply", jobs_reply, "a summary per job")                               \
    X(54, JOB_REQ, "job-req", job_ref, "one job's details")                                        \
    X(55, JOB_REPLY, "job-reply", job_reply, "the job, its operators, collected results")          \
    X(56, JOB_CANCEL, "job-cancel", job_ref, "cancel a job")                                       \
    X(57, JOB_CANCELED, "job-canceled", job_ref, "it is canceled")                                 \
    X(58, NOT_LEADER, "not-leader", jm_addr, "a standby's answer: where the leader is")            \
    X(60, TASK_DEPLOY, "task-deploy", task_deploy, "start a subtask (JM -> TaskManager)")          \
    X(61, TASK_DEPLOYED, "task-deployed", task_deployed, "it started")                             \
    X(62, TASK_CANCEL, "task-cancel", job_ref, "stop every subtask of the job on this node")       \
    X(63, TASK_STATE, "task-state", task_state, "a subtask's state and counters, to the JM")       \
    X(64, CKPT_TRIGGER, "ckpt-trigger", ckpt_trigger, "take checkpoint N: to the sources")         \
    X(65, CKPT_ACK, "ckpt-ack", ckpt_ack, "a subtask's state of checkpoint N, to the JM")          \
    X(66, CKPT_DECLINE, "ckpt-decline", ckpt_decline, "a subtask cannot take checkpoint N")        \
    X(67, CKPT_COMPLETE, "ckpt-complete", ckpt_complete, "checkpoint N is complete: commit")       \
    X(68, CKPT_LIST_REQ, "ckpt-list-req", job_ref, "a job's checkpoints (weir checkpoints)")       \
    X(69, CKPT_LIST_REPLY, "ckpt-list-reply", ckpt_list_reply, "its recent checkpoints")           \
    X(70, SAVEPOINT_REQ, "savepoint-req", savepoint_req, "weir savepoint / weir stop")             \
    X(71, SAVEPOINT_DONE, "savepoint-done", savepoint_done, "where the savepoint is")

enum wr_msg_type {
#define WR__MSG_ENUM(num, name, wire, decl, doc) WR_MSG_##name = num,
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
