/* weir's configuration: one YAML file of dotted keys in the style of flink-conf.yaml, then
 * command-line overrides. Every key that exists is in WR_CONFIG_KEYS below, with its type,
 * default and documentation; deploy/weir.yaml documents the same keys (a test keeps them in
 * sync). Unknown keys and bad values are errors that name the key, the file and the line. */
#ifndef WR_CONFIG_H
#define WR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

enum wr_config_type {
    WR_CFG_STRING,
    WR_CFG_INT,      /* integer within [min, max] */
    WR_CFG_DURATION, /* milliseconds; "250ms", "3s", "2min", "1h"; a bare integer is ms */
    WR_CFG_SIZE,     /* bytes; "512", "64kb", "64mb", "1gb" (binary multiples) */
    WR_CFG_BOOL      /* true/false/yes/no/on/off */
};

/* The processes that read a key (wr_config_key_t's procs): a key given on the command line to
 * another process has no effect there, and is warned about at its start (wr_config_unused). */
enum wr_config_proc {
    WR_CFG_JM = 1,     /* weir jobmanager */
    WR_CFG_TM = 2,     /* weir taskmanager */
    WR_CFG_CLIENT = 4, /* the client commands: submit, jobs, job, cancel, savepoint, actors, ... */
    WR_CFG_LOCAL = 8,  /* weir local (it runs the other three in one process: it reads every key) */
    WR_CFG_NODES = WR_CFG_JM | WR_CFG_TM,
    WR_CFG_ALL = WR_CFG_JM | WR_CFG_TM | WR_CFG_CLIENT
};

/*  X(key, processes that read it, type, default text, min, max, documentation) */
#define WR_CONFIG_KEYS(X)                                                                          \
    X("jobmanager.address", WR_CFG_ALL, WR_CFG_STRING, "tcp://127.0.0.1:6123", 0, 0,               \
      "Bus endpoint where TaskManagers and the CLI reach the JobManager.")                         \
    X("jobmanager.bind", WR_CFG_JM, WR_CFG_STRING, "", 0, 0,                                       \
      "Endpoint the JobManager binds; empty means jobmanager.address.")                            \
    X("jobmanager.node-id", WR_CFG_ALL, WR_CFG_STRING, "jm-1", 0, 0,                               \
      "Node id of the JobManager process (the first part of its actors' addresses). A "            \
      "TaskManager that finds another id at jobmanager.address registers with that one; a CLI "    \
      "command stops and names both.")                                                             \
    X("high-availability", WR_CFG_ALL, WR_CFG_STRING, "none", 0, 0,                                \
      "none: one JobManager leads from its start, and its jobs end with it; etcd: every "          \
      "JobManager campaigns through etcd, one leads, the others stand by and take the jobs over "  \
      "from their latest checkpoints when it is lost; TaskManagers and the CLI find the leader "   \
      "there (--etcd URLS sets this and the endpoints).")                                          \
    X("high-availability.cluster-id", WR_CFG_ALL, WR_CFG_STRING, "default", 0, 0,                  \
      "The cluster's name: its records in etcd live under /weir/<cluster-id>/, and a JobManager "  \
      "refuses TaskManagers of another cluster id.")                                               \
    X("high-availability.etcd.endpoints", WR_CFG_ALL, WR_CFG_STRING, "http://127.0.0.1:2379", 0,   \
      0,                                                                                           \
      "etcd's client URLs, comma-separated (http:// or https://); a call fails over to the next "  \
      "when one cannot be reached.")                                                               \
    X("high-availability.etcd.lease-ttl", WR_CFG_ALL, WR_CFG_DURATION, "3s", 2000, 3600000,        \
      "A JobManager's lease in etcd, whole seconds: a lost leader is replaced this long after "    \
      "its last renewal (Flink: 15s Kubernetes lease, 60s ZooKeeper session).")                    \
    X("high-availability.etcd.renew-interval", WR_CFG_ALL, WR_CFG_DURATION, "500ms", 10, 1200000,  \
      "How often a JobManager renews its lease and every node asks etcd who leads; at most a "     \
      "third of the lease. A leader that could not renew for lease-ttl minus this steps down: "    \
      "keep that longer than etcd takes to elect a new leader of its own (1-2 s with etcd's "      \
      "default 1 s election timeout, and more under load), or the loss of etcd's leader member "   \
      "deposes the JobManager.")                                                                   \
    X("high-availability.etcd.user", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                          \
      "etcd user (with etcd authentication on); empty: none.")                                     \
    X("high-availability.etcd.password", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                      \
      "That user's password.")                                                                     \
    X("high-availability.etcd.ca-file", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                       \
      "CA certificate that signs etcd's (https:// endpoints); empty: the system's.")               \
    X("high-availability.etcd.cert-file", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                     \
      "Client certificate for etcd's TLS client authentication; empty: none.")                     \
    X("high-availability.etcd.key-file", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                      \
      "The client certificate's private key.")                                                     \
    X("taskmanager.node-id", WR_CFG_TM, WR_CFG_STRING, "", 0, 0,                                   \
      "Node id of a TaskManager; empty means tm-<pid>. Keep it fixed to rejoin under one id.")     \
    X("taskmanager.bind", WR_CFG_TM, WR_CFG_STRING, "tcp://127.0.0.1:*", 0, 0,                     \
      "Endpoint a TaskManager binds; port * picks a free port.")                                   \
    X("taskmanager.numberOfTaskSlots", WR_CFG_TM, WR_CFG_INT, "2", 1, 1024,                        \
      "Slots one TaskManager offers (one subtask pipeline each).")                                 \
    X("runtime.threads", WR_CFG_ALL, WR_CFG_INT, "0", 0, 256,                                      \
      "Worker threads per node; 0 means one per core.")                                            \
    X("runtime.mailbox-capacity", WR_CFG_ALL, WR_CFG_INT, "1024", 2, 1048576,                      \
      "Messages an actor's mailbox holds before senders are pushed back.")                         \
    X("runtime.turn-budget", WR_CFG_ALL, WR_CFG_INT, "64", 1, 65536,                               \
      "Messages an actor handles per turn before its worker moves on to another actor.")           \
    X("heartbeat.interval", WR_CFG_NODES, WR_CFG_DURATION, "500ms", 10, 3600000,                   \
      "How often a node sends a heartbeat to each peer it is connected to; less than "             \
      "heartbeat.timeout.")                                                                        \
    X("heartbeat.timeout", WR_CFG_NODES, WR_CFG_DURATION, "3s", 50, 3600000,                       \
      "A peer silent for this long is declared dead and its watchers are told; ZeroMQ closes "     \
      "its connection too (ZMTP heartbeats), so that a peer cut off without a reset frees its "    \
      "node id for its next process.")                                                             \
    X("bus.max-message-size", WR_CFG_ALL, WR_CFG_SIZE, "64mb", 1024, 1073741824,                   \
      "Largest envelope payload a node accepts; larger frames are counted and dropped (one "       \
      "more than 1mb over it makes ZeroMQ close that connection instead).")                        \
    X("bus.source-address", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                                   \
      "The local IPv4 address (a literal, e.g. 127.0.0.2) every connection this process opens "    \
      "comes from: its bus connections and its calls to etcd. `weir chaos` gives each of its "     \
      "processes its own, so that its proxy knows who dialed. Empty: any (the kernel's choice).")  \
    X("bus.advertised-endpoint", WR_CFG_NODES, WR_CFG_STRING, "", 0, 0,                            \
      "The endpoint other processes are told to reach this one at, in place of the one it binds "  \
      "(a proxy's or a NAT's in front of it, tcp://HOST:PORT): what a TaskManager registers "      \
      "with, what a JobManager publishes in etcd as the leader's address, what heartbeats carry. " \
      "Empty: the bound endpoint with its real port.")                                             \
    X("security.curve", WR_CFG_ALL, WR_CFG_BOOL, "on", 0, 1,                                       \
      "on: every bus connection is CURVE-encrypted and authenticated, and only keys of the "       \
      "cluster's certificates (security.keys-dir) are admitted, as what their certificates "       \
      "name (a node id, or a client with role admin or viewer); a process without its key does "   \
      "not start. off: no encryption and no authentication at all: anyone who reaches a port is "  \
      "trusted with everything (for benchmarks; a warning at every start says so). `weir local` "  \
      "runs in one process and never uses keys.")                                                  \
    X("security.keys-dir", WR_CFG_ALL, WR_CFG_STRING, "", 0, 0,                                    \
      "The cluster's keys, made by `weir keygen`: public/ (every node's and client's public "      \
      "certificate; remove one to revoke it, read again within a second) and secret/ (each "       \
      "process needs only its own). Empty: $XDG_STATE_HOME/weir/keys, or "                         \
      "~/.local/state/weir/keys.")                                                                 \
    X("security.client", WR_CFG_CLIENT, WR_CFG_STRING, "admin", 0, 0,                              \
      "The client certificate CLI commands use (its role, admin or viewer, decides what they may " \
      "do).")                                                                                      \
    X("bus.channel-credits", WR_CFG_JM, WR_CFG_INT, "32", 1, 65536,                                \
      "Batches a data-channel receiver lets a sender have in flight (credit-based flow control); " \
      "the JobManager sends it to every subtask with the job's deployment.")                       \
    X("rest.port", WR_CFG_JM, WR_CFG_INT, "8081", -1, 65535,                                       \
      "Port of the JobManager's REST API: Flink's paths in Flink's JSON shapes, read-only for "    \
      "now (GET /overview, /config, /jobs, /jobs/overview, /jobs/ID, /jobs/ID/vertices/N and "     \
      "its /watermarks, /jobs/ID/checkpoints, /jobs/ID/exceptions, /taskmanagers, "                \
      "/taskmanagers/ID; weir's own "                                                              \
      "/actors and /actors/ADDRESS/mailbox). 0: one the kernel picks (printed at start); -1: "     \
      "none. A port already taken is logged as a warning and the JobManager runs without it.")     \
    X("rest.address", WR_CFG_JM, WR_CFG_STRING, "127.0.0.1", 0, 0,                                 \
      "IPv4 address the REST API listens on; 0.0.0.0 for every interface. It is not "              \
      "authenticated: anyone who reaches it reads the cluster's jobs and nodes.")                  \
    X("metrics.prometheus.port", WR_CFG_NODES, WR_CFG_INT, "9249", -1, 65535,                      \
      "Port of the node's Prometheus metrics (GET /metrics; Flink's reporter port): the "          \
      "JobManager's jobs, checkpoints and subtasks, every node's actors and bus. -1: none; 0: a "  \
      "port the kernel picks (logged). Taken: a warning, and the node runs on without it.")        \
    X("metrics.prometheus.address", WR_CFG_NODES, WR_CFG_STRING, "127.0.0.1", 0, 0,                \
      "IPv4 address the metrics listen on; 0.0.0.0 for every interface (not authenticated).")      \
    X("local.taskmanagers", WR_CFG_LOCAL, WR_CFG_INT, "2", 1, 64,                                  \
      "TaskManagers that `weir local` starts inside its one process.")                             \
    X("client.timeout", WR_CFG_CLIENT, WR_CFG_DURATION, "5s", 10, 3600000,                         \
      "How long CLI commands wait for the JobManager to answer (for a savepoint: while it "        \
      "answers about the job).")                                                                   \
    X("state.checkpoints.dir", WR_CFG_JM, WR_CFG_STRING, "/tmp/weir/checkpoints", 0, 0,            \
      "Where checkpoints go: DIR/JOB/chk-N and DIR/JOB/shared (in a cluster: a path every "        \
      "process sees, on a shared filesystem).")                                                    \
    X("state.savepoints.dir", WR_CFG_JM, WR_CFG_STRING, "/tmp/weir/savepoints", 0, 0,              \
      "Default folder of `weir savepoint` and `weir stop --savepoint`.")                           \
    X("security.paths.savepoints", WR_CFG_JM, WR_CFG_STRING, "", 0, 0,                             \
      "Folders (comma-separated) savepoints may be written to and restored from besides "          \
      "state.savepoints.dir and state.checkpoints.dir, which always may; the JobManager refuses "  \
      "any other folder (\"..\" and symlinks resolved) at the trigger or submit, naming it. "      \
      "`weir local` confines no path.")                                                            \
    X("security.paths.sources", WR_CFG_JM, WR_CFG_STRING, "/tmp/weir/data", 0, 0,                  \
      "Folders (comma-separated) file sources may read; a job reading a file elsewhere (\"..\" "   \
      "and symlinks resolved) is refused at submit, naming it. `weir local` confines no path.")    \
    X("security.paths.sinks", WR_CFG_JM, WR_CFG_STRING, "/tmp/weir/data", 0, 0,                    \
      "Folders (comma-separated) file sinks may write; a job writing elsewhere is refused at "     \
      "submit, naming the path. Relative sink paths are taken from the JobManager's working "      \
      "directory, as the TaskManagers' writers take them from theirs: start both in one.")         \
    X("slotmanager.max-slots-per-taskmanager", WR_CFG_JM, WR_CFG_INT, "1024", 1, 65536,            \
      "The most slots the JobManager accepts from one TaskManager; a registration offering more "  \
      "is refused, naming both numbers.")                                                          \
    X("jobmanager.max-subtasks-per-job", WR_CFG_JM, WR_CFG_INT, "4096", 1, 1048576,                \
      "The most subtasks (operators' parallelism summed over chains) one job may have; a larger "  \
      "one is refused at submit, before anything is deployed.")                                    \
    X("state.backend", WR_CFG_JM, WR_CFG_STRING, "memory", 0, 0,                                   \
      "Where windows keep their state: memory (hash tables) or rocksdb (closed panes in a "        \
      "RocksDB store per subtask; tumbling and sliding windows, every aggregate).")                \
    X("state.backend.rocksdb.localdir", WR_CFG_JM, WR_CFG_STRING, "/tmp/weir/rocksdb", 0, 0,       \
      "Where subtasks keep their RocksDB stores (on the same filesystem as the checkpoints, "      \
      "so checkpoints hard-link their files).")                                                    \
    X("state.backend.rocksdb.block-cache-size", WR_CFG_JM, WR_CFG_SIZE, "64mb", 1048576,           \
      1099511627776, "Block cache of each subtask's RocksDB store.")                               \
    X("state.checkpoints.num-retained", WR_CFG_JM, WR_CFG_INT, "1", 1, 1000,                       \
      "Completed checkpoints kept per job; older ones are deleted.")                               \
    X("execution.checkpointing.interval", WR_CFG_JM, WR_CFG_DURATION, "0", 0, 86400000,            \
      "Time between checkpoints; 0 turns checkpoints off (no recovery beyond a restart from "      \
      "the start, like Flink's default).")                                                         \
    X("execution.checkpointing.timeout", WR_CFG_JM, WR_CFG_DURATION, "10min", 10, 86400000,        \
      "A checkpoint not complete by then fails.")                                                  \
    X("execution.checkpointing.min-pause", WR_CFG_JM, WR_CFG_DURATION, "0", 0, 86400000,           \
      "Least time from the end of one checkpoint to the start of the next.")                       \
    X("execution.checkpointing.tolerable-failed-checkpoints", WR_CFG_JM, WR_CFG_INT, "0", 0,       \
      1000000, "Checkpoint failures in a row a job survives; one more fails it over.")             \
    X("restart-strategy", WR_CFG_JM, WR_CFG_STRING, "", 0, 0,                                      \
      "none, fixed-delay, exponential-delay or failure-rate; empty: fixed-delay when "             \
      "checkpoints are on, else none.")                                                            \
    X("restart-strategy.fixed-delay.attempts", WR_CFG_JM, WR_CFG_INT, "2147483647", 0, 2147483647, \
      "fixed-delay: restarts before the job fails for good.")                                      \
    X("restart-strategy.fixed-delay.delay", WR_CFG_JM, WR_CFG_DURATION, "1s", 0, 86400000,         \
      "fixed-delay: wait between a failure and the restart.")                                      \
    X("restart-strategy.exponential-delay.initial-backoff", WR_CFG_JM, WR_CFG_DURATION, "1s", 0,   \
      86400000, "exponential-delay: the first delay; at most max-backoff.")                        \
    X("restart-strategy.exponential-delay.max-backoff", WR_CFG_JM, WR_CFG_DURATION, "1min", 0,     \
      86400000, "exponential-delay: the longest delay.")                                           \
    X("restart-strategy.exponential-delay.backoff-multiplier", WR_CFG_JM, WR_CFG_INT, "2", 1,      \
      1000, "exponential-delay: each delay is the previous one times this.")                       \
    X("restart-strategy.exponential-delay.reset-backoff-threshold", WR_CFG_JM, WR_CFG_DURATION,    \
      "1h", 0, 86400000,                                                                           \
      "exponential-delay: this long without a failure starts over at the first delay.")            \
    X("restart-strategy.failure-rate.max-failures-per-interval", WR_CFG_JM, WR_CFG_INT, "1", 1,    \
      1000000, "failure-rate: more failures than this within the interval fail the job for good.") \
    X("restart-strategy.failure-rate.failure-rate-interval", WR_CFG_JM, WR_CFG_DURATION, "1min",   \
      1, 86400000, "failure-rate: the window failures are counted in.")                            \
    X("restart-strategy.failure-rate.delay", WR_CFG_JM, WR_CFG_DURATION, "1s", 0, 86400000,        \
      "failure-rate: wait between a failure and the restart.")

typedef struct wr_config wr_config_t;

/* A configuration holding every key at its default. NULL when out of memory. */
wr_config_t *wr_config_new(void);
void wr_config_destroy(wr_config_t **cfg);

/* Loads a YAML file: a mapping of dotted keys (`heartbeat.timeout: 3s`), or nested mappings
 * that flatten to them (`heartbeat: {timeout: 3s}`). Values are validated against the key's
 * type and range. On error returns WR_ECONFIG (WR_ENOTFOUND for a missing file, WR_EIO for
 * one that cannot be read, WR_ENOMEM), appends one line "FILE:LINE: what is wrong (what to
 * do)" to err (no trailing newline; a newline first if err already holds text), and leaves
 * cfg unchanged. */
int wr_config_load_file(wr_config_t *cfg, const char *path, wr_strbuf_t *err);
/* Sets one key from text (a command-line override). Errors as above, with origin (what the
 * user typed, e.g. "--set heartbeat.timeout"; NULL: the key) in place of "FILE:LINE". */
int wr_config_set(wr_config_t *cfg, const char *origin, const char *key, const char *value,
                  wr_strbuf_t *err);
/* Checks the keys that bound each other, once every source is applied: heartbeat.interval
 * must be less than heartbeat.timeout, restart-strategy.exponential-delay.initial-backoff at
 * most its max-backoff, high-availability.etcd.renew-interval at most a third of its
 * lease-ttl. Returns 0, or WR_ECONFIG with one line per violated pair appended to err (as
 * wr_config_load_file), naming both keys, their values and where each was set ("FILE:LINE",
 * the origin given to wr_config_set, or "the default"). */
int wr_config_check(const wr_config_t *cfg, wr_strbuf_t *err);

/* Typed getters. The key must be in WR_CONFIG_KEYS with that type: anything else is our bug
 * and asserts. Durations are milliseconds, sizes bytes. The string is borrowed from cfg. */
const char *wr_config_str(const wr_config_t *cfg, const char *key);
int64_t wr_config_int(const wr_config_t *cfg, const char *key);
bool wr_config_bool(const wr_config_t *cfg, const char *key);

/* Parses text as the file and flags do, without a key's range check: a duration to
 * milliseconds, a size to bytes, a bool to 0 or 1, an integer as is (for other YAML files,
 * such as topologies, that take "10min"). Returns 0, or WR_ECONFIG if text is not such a
 * value or overflows (*out untouched). WR_CFG_STRING is not parsed: asserts. */
int wr_config_parse_value(enum wr_config_type type, const char *text, int64_t *out);

/* The keys set on the command line (wr_config_set) that process proc (one wr_config_proc
 * flag) does not read: one line each appended to out, "KEY (ORIGIN) has no effect on PROC: it
 * is read by WHO", newline-separated. Keys from a file are left out: one file serves every
 * process of a cluster (as Flink's flink-conf.yaml). WR_CFG_LOCAL reads every key. Returns
 * how many keys; allocation failure shows as out->failed. */
size_t wr_config_unused(const wr_config_t *cfg, unsigned proc, wr_strbuf_t *out);

/* Appends the documented defaults as YAML, generated from WR_CONFIG_KEYS: for each key its
 * doc and range as comments, then `key: default`. deploy/weir.yaml is a header comment
 * followed by exactly this text (a test checks). Allocation failure shows as out->failed. */
void wr_config_write_defaults(wr_strbuf_t *out);

/* The key table, for documentation and tests. */
typedef struct {
    const char *key;
    unsigned procs; /* enum wr_config_proc flags */
    enum wr_config_type type;
    const char *default_text;
    int64_t min, max;
    const char *doc;
} wr_config_key_t;
size_t wr_config_key_count(void);
const wr_config_key_t *wr_config_key_at(size_t i);

#endif
