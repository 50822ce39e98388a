/* Shared by the `weir` subcommands: exit codes, configuration loading, client nodes. */
#ifndef WR_CLI_H
#define WR_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "actors/jobmanager/jobmanager.h"
#include "actors/taskmanager/taskmanager.h"
#include "actors/dataflow/job/topology.h"
#include "actors/runtime/node.h"
#include "bus/base/strbuf.h"
#include "bus/messages.h"
#include "cli/config.h"

/* weir's version: `weir --version`, the REST API's /overview and /config. */
#define WR_VERSION "0.1.0"

enum { WR_EXIT_OK = 0, WR_EXIT_FAIL = 1, WR_EXIT_USAGE = 2 };

/* A subcommand: argv[0] is its full name ("weir local", "weir bench kafka"), which getopt's
 * messages begin with. Returns an exit code. */
typedef int (*wr_cmd_fn)(int argc, char **argv);

/* A row of a table of subcommands. */
typedef struct {
    const char *name;
    wr_cmd_fn fn;
    const char *summary;
} wr_cli_cmd_t;

/* The one table of `weir` commands (cli/commands.c), and of `weir bench` benchmarks
 * (cli/cmd_bench.c): *n rows, static. main dispatches from the first, `weir --help` lists both. */
const wr_cli_cmd_t *wr_cli_commands(size_t *n);
const wr_cli_cmd_t *wr_bench_commands(size_t *n);
/* The row named name of a table, or NULL. */
const wr_cli_cmd_t *wr_cli_command(const wr_cli_cmd_t *table, size_t n, const char *name);
/* Writes the names of a table's rows, comma-separated ("bus, mailbox, window"). */
void wr_cli_join_names(const wr_cli_cmd_t *table, size_t n, FILE *out);
/* `weir --help`: every command with its summary, the benchmarks on bench's line. */
void wr_cli_usage(FILE *out);

int wr_cmd_local(int argc, char **argv);
int wr_cmd_jobmanager(int argc, char **argv);
int wr_cmd_taskmanager(int argc, char **argv);
int wr_cmd_actors(int argc, char **argv);
int wr_cmd_mailbox(int argc, char **argv);
int wr_cmd_bench(int argc, char **argv);
int wr_cmd_submit(int argc, char **argv);
int wr_cmd_jobs(int argc, char **argv);
int wr_cmd_job(int argc, char **argv);
int wr_cmd_cancel(int argc, char **argv);
int wr_cmd_keygen(int argc, char **argv);
/* `weir chaos` (cli/cmd_chaos.c): fault injection with a verdict. */
int wr_cmd_chaos(int argc, char **argv);
/* `weir kafka-mock` (cli/cmd_kafka_mock.c): a Kafka cluster for development and tests. */
int wr_cmd_kafka_mock(int argc, char **argv);

/* How a job is run: follow it until it ends, with a status line on stderr when status_line
 * (cli/status_line.h), and restore it from a savepoint or checkpoint folder (NULL: fresh) at
 * another parallelism (0: the topology's). While followed, SIGINT/SIGTERM cancel the job, or
 * with detach_on_signal only stop following it (`weir submit --wait`, as Flink's CLI detaches);
 * duration_ms > 0 cancels it after that long (`weir local --duration`). relay_stdout: this
 * process's own sinks write results to stdout, the terminal of the status line (status_tty.h
 * keeps them apart). stop, when set, is called once the job has ended, before the summary line:
 * `weir local` stops its TaskManagers there, so that no sink writes after the summary. */
typedef struct {
    bool follow, status_line, detach_on_signal, relay_stdout;
    const char *from_savepoint;
    uint32_t parallelism;
    int64_t duration_ms;
    void (*stop)(void *ctx);
    void *stop_ctx;
} wr_cli_run_opts_t;

/* Loads the topology file (usage errors for an invalid one) and submits it through node `via` to
 * the JobManager at address jm. Returns an exit code: 0 when it finished (or was stopped after
 * duration_ms, or was submitted when not followed), 128 + the signal (130 for Ctrl-C) when a
 * signal canceled it or stopped following it, 1 when it failed, was canceled by another client
 * or was refused, 2 for a bad topology. */
int wr_cli_run_job(wr_node_t *via, const char *jm, const wr_config_t *cfg, const char *cmd,
                   const char *topology_path, const wr_cli_run_opts_t *o);
/* `weir checkpoints JOB`, `weir savepoint JOB [DIR]`, `weir stop JOB --savepoint [DIR]`. */
int wr_cmd_checkpoints(int argc, char **argv);
int wr_cmd_savepoint(int argc, char **argv);
int wr_cmd_stop(int argc, char **argv);
/* `weir bench window ...` (argv[0] = "weir bench window"): the window operator benchmark. */
int wr_bench_window(int argc, char **argv);
/* `weir bench pipeline ...` (argv[0] = "weir bench pipeline"): the IoT job end to end on a local
 * cluster. */
int wr_bench_pipeline(int argc, char **argv);

/* Options every subcommand that reads configuration accepts (--etcd URLS: an HA cluster,
 * wr_cli_cfg_etcd). */
#define WR_CLI_CONFIG_OPTIONS                                                                      \
    {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 'S'},               \
        {"etcd", required_argument, NULL, 'E'},                                                    \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }

/* Holds the configuration being assembled from --config FILE and flag overrides. Flags may come
 * before or after --config: the file is loaded first, then the overrides, in order. */
typedef struct {
    const char *file;
    const char *keys[64];
    const char *values[64];
    bool by_set[64]; /* given as --set KEY=VALUE (errors name "--set KEY"; else the key) */
    int n;
} wr_cli_cfg_t;

/* Records an override (key=value for --set, or a flag's key and value). Returns WR_EXIT_USAGE
 * (after printing why) when there are too many or --set lacks '='. */
int wr_cli_cfg_override(wr_cli_cfg_t *c, const char *cmd, const char *key, const char *value);
int wr_cli_cfg_set_arg(wr_cli_cfg_t *c, const char *cmd, char *key_eq_value);
/* --etcd URLS: high-availability=etcd with those endpoints. Errors as wr_cli_cfg_override. */
int wr_cli_cfg_etcd(wr_cli_cfg_t *c, const char *cmd, const char *urls);
/* Builds the configuration: the file, the overrides, then the keys that bound each other
 * (wr_config_check). Warns (log.h) about each override that command cmd's process does not read
 * (wr_config_unused: jobmanager, taskmanager, or a client command; local and bench read every
 * key). On failure prints the error and returns NULL with *exit_code set:
 * WR_EXIT_USAGE for a mistake in the file's contents or an override (an unknown key, a bad value,
 * invalid YAML, a pair of keys out of order), WR_EXIT_FAIL for a file that cannot be read. */
wr_config_t *wr_cli_cfg_build(const wr_cli_cfg_t *c, const char *cmd, int *exit_code);

/* A command-line count: decimal digits only, a value in [min, max]. False otherwise. */
bool wr_cli_count(const char *arg, uint64_t min, uint64_t max, uint64_t *out);

/* Prints "weir CMD: message" plus an optional hint line to stderr. */
void wr_cli_error(const char *cmd, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The JobManager's checkpoint and restart settings from configuration (strings borrowed from
 * cfg). WR_ECONFIG (after printing why) for an unknown restart-strategy. */
int wr_cli_jm_opts(const wr_config_t *cfg, const char *cmd, wr_jobmanager_opts_t *out);
/* path made absolute against this process's working directory, canonical (bus/base/path.h: it
 * need not exist yet), into out (cap bytes); path as given when that fails or does not fit.
 * Returns out. What the CLI sends the JobManager, which resolves no relative path. */
const char *wr_cli_abs_path(const char *path, char *out, size_t cap);

/* The high-availability settings: WR_EXIT_OK with *on false (high-availability: none), or true
 * and *out filled (strings borrowed from cfg); WR_EXIT_USAGE after printing why for an unknown
 * mode or settings that cannot work (wr_ha_opts_check). */
int wr_cli_ha_opts(const wr_config_t *cfg, const char *cmd, bool *on, wr_ha_opts_t *out);

/* Node options from configuration (threads, mailbox, heartbeats, message size, the source address
 * of its connections). Not bus.advertised-endpoint: one process's alone (weir local runs several
 * nodes), set by the jobmanager and taskmanager commands. */
wr_node_opts_t wr_cli_node_opts(const wr_config_t *cfg, const char *id, const char *bind);

/* The folder of the cluster's keys (security.keys-dir, or its default under $XDG_STATE_HOME or
 * ~/.local/state) into out. 0, WR_ENOTFOUND (no $HOME), WR_ETOOBIG (n too small). */
int wr_cli_keys_dir(const wr_config_t *cfg, char *out, size_t n);
/* Security for a node of command cmd that is certificate `cert`: with security.curve on, checks
 * that its keys are there and points no's keys_dir (held in keys_dir[n]) and cert at them; off,
 * leaves them NULL and warns that nothing is authenticated. WR_EXIT_OK, or an exit code after
 * printing why (missing keys: run `weir keygen`). cert is borrowed until the node starts. */
int wr_cli_secure(const wr_config_t *cfg, const char *cmd, const char *cert, wr_node_opts_t *no,
                  char *keys_dir, size_t n);

/* Checks a JobManager endpoint a client connects to: tcp://HOST:PORT (HOST not empty nor '*',
 * PORT 1..65535) or ipc://PATH. Returns 0, or WR_EINVAL with what is wrong appended to why. */
int wr_cli_endpoint_check(const char *endpoint, wr_strbuf_t *why);
/* wr_cli_endpoint_check of jobmanager.address for command cmd: WR_EXIT_OK, or WR_EXIT_USAGE after
 * printing what is wrong. */
int wr_cli_jm_endpoint_check(const wr_config_t *cfg, const char *cmd);
/* A transient client node ("cli-<pid>") connected to the JobManager at jobmanager.address as
 * jobmanager.node-id; with high-availability: etcd, to the leader etcd names, which then replaces
 * those two keys in cfg. NULL after printing why, with *exit_code WR_EXIT_USAGE for an invalid
 * endpoint (wr_cli_endpoint_check: at once, without waiting for anything) or HA settings, else
 * WR_EXIT_FAIL (etcd unreachable or naming no leader, ...). */
wr_node_t *wr_cli_client(wr_config_t *cfg, const char *cmd, int *exit_code);
/* A request and its answer: sends `to` (an actor address) a request of type whose payload encodes
 * *req (the struct of the type's declaration, bus/messages.h; NULL for a type without payload)
 * and waits up to timeout_ms. Returns 0 with the answer in *answer, of reply_type and decoded into
 * *reply (the struct of its declaration, whose views point into *answer: release *reply with
 * wr_proto_release(wr_msg_decl(reply_type), reply), then destroy *answer). When the answer is an
 * ERROR, returns its code with *answer that message (wr_msg_error_unpack reads it); otherwise
 * *answer is NULL and the failure is the request's (it does not encode, WR_ETIMEDOUT, ...) or
 * WR_EPROTO for an answer of another type or malformed. A standby JobManager's NOT_LEADER that
 * names the leader is followed once: via connects to it and the request goes there (its answer
 * is returned); one that names none returns WR_EAGAIN with *answer that message. Prints
 * nothing. */
int wr_cli_request(wr_node_t *via, const char *to, int64_t timeout_ms, uint16_t type,
                   const void *req, uint16_t reply_type, void *reply, wr_msg_t **answer);
/* wr_cli_request to the JobManager (timeout: client.timeout; with job, an answer that comes
 * when job's savepoint is done: as long as the JobManager answers about the job every
 * client.timeout, up to execution.checkpointing.timeout, after which the JobManager fails the
 * savepoint and says so) that prints why it failed. Returns
 * the answer (the caller destroys it after *reply), or NULL after printing why: the request does
 * not encode, no answer ("no JobManager answers at ENDPOINT", or that the node there has another
 * id, naming both and the --set to use, or, with keys, that it refused this client's key, naming
 * security.client and security.keys-dir), an ERROR answer, or one of another type or malformed. */
wr_msg_t *wr_cli_ask_jm(wr_node_t *client, const wr_config_t *cfg, const char *cmd, uint16_t type,
                        const void *req, uint16_t reply_type, void *reply, const char *job);
/* Submits topology t, restoring restore ("" or NULL: nothing) at parallelism (0: the topology's),
 * to the JobManager at address jm. 0 with the new job's id; else as wr_cli_request (a refusal:
 * its code), with a sentence saying why appended to *why ("the job was refused: ...", or as
 * wr_cli_ask_jm when no JobManager answers, then with the hint on a second line). */
int wr_cli_submit(wr_node_t *via, const char *jm, int64_t timeout_ms, const wr_topology_t *t,
                  const char *restore, uint32_t parallelism, char id[WR_JOB_ID_MAX],
                  wr_strbuf_t *why);
/* One job's JOB_REPLY into *j (release it with wr_msg_job_reply_release): its answer, which the
 * views of *j point into, or NULL (no answer, an ERROR, malformed). Prints nothing. */
wr_msg_t *wr_cli_job(wr_node_t *via, const char *jm, int64_t timeout_ms, const char *id,
                     wr_msg_job_reply_t *j);

/* Blocks SIGINT/SIGTERM in the calling thread (call before starting any thread, so every thread
 * inherits the mask), and waits for one of them for up to ms (-1: forever). Returns the signal,
 * or 0 on timeout. */
void wr_cli_block_signals(void);
int wr_cli_wait_signal(int64_t ms);
/* Whether SIGINT or SIGTERM came: *sig once set (a signal) stays; else wr_cli_wait_signal(ms)
 * into it. For loops that ask between steps (the signals wait, blocked, to be asked). */
bool wr_cli_stop_asked(int *sig, int64_t ms);
/* What a command stopped by SIGINT or SIGTERM prints and returns: "weir CMD: SIGTERM received:
 * WHAT" on stderr, and the exit code 128 + sig. */
int wr_cli_stopped(const char *cmd, int sig, const char *what);

#endif
