/* The harness of the tests that run real `weir` processes on loopback: starting them with their
 * stdout and stderr in files of the test's directory, waiting for what they print, killing them,
 * and cleaning up. ps_ is for "process support".
 *
 * Use it as cmocka fixtures: ps_group_setup(name, need_src) in main before the group (it reads
 * WEIR_BIN, the weir binary of the same build mode, and WEIR_SRC; `scons test` sets both), the
 * group teardown ps_group_teardown, and ps_setup / ps_teardown around every test:
 *
 *     ps_proc_t *jm = ps_start("jm", PS_ARGV("jobmanager", "--bind", ep), ps_h.daemon_env);
 *     if (ps_wait_text(jm, jm->err, "listening", 1, 10000) < 0) PS_FAIL("no JobManager");
 *     ps_result_t r = ps_run("cli", PS_ARGV("jobs", "--jobmanager", ep), 15000);
 *
 * The state is the test binary's (ps_h), so that an atexit handler, a teardown after a failed
 * assertion and the log dump reach every process a test started: every process is killed in the
 * teardown, at exit, and by the kernel should the test binary die (PR_SET_PDEATHSIG); every file
 * lives in one mkdtemp directory, removed at the end (kept with WEIR_TEST_KEEP set, to read a
 * passing run's logs; processes are killed all the same), also when SIGTERM or SIGINT ends the
 * test binary (scons stopping the tests: ps_on_signal); PS_FAIL prints the logs of the processes
 * still tracked before it fails the test. Daemons run with WEIR_LOG=info unless WEIR_LOG is set,
 * and under ASan with a small quarantine of freed memory (ASan keeps 256 MB by default). Memory a
 * test gets from ps_keep, ps_alloc, ps_fmt, ps_path, ps_read_file and ps_lines is freed in the
 * teardown, so nothing leaks when an assertion jumps out of the test. Every process runs with
 * XDG_STATE_HOME in root, where ps_group_setup made the keys of every node id and client the tests
 * use (`weir keygen`: PS_KEYGEN_ARGS), so that the bus is secured as by default. Built on it:
 * proc_cluster.h (a cluster of weir processes) and jobs.h (jobs on it). */
#ifndef WR_TEST_PROCESS_H
#define WR_TEST_PROCESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

/* The keys ps_group_setup makes: the nodes and clients of the process tests. */
#define PS_KEYGEN_ARGS                                                                             \
    "keygen", "--jobmanager", "jm-1", "--jobmanager", "jm-x", "--jobmanager", "jm-a",              \
        "--jobmanager", "jm-b", "--jobmanager", "jm-c", "--taskmanager", "tm-a", "--taskmanager",  \
        "tm-b", "--taskmanager", "tm-c", "--taskmanager", "garbage-1", "--taskmanager", "lazy-1",  \
        "--taskmanager", "tm-flood", "--admin", "admin", "--viewer", "viewer"

#define PS_MAX_PROCS 16
#define PS_MAX_ARGS  32

/* A NULL-terminated argument list in place: PS_ARGV("jobs", "--json"). */
#define PS_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Prints every tracked process's logs, then fails the test with the message. */
#define PS_FAIL(...)                                                                               \
    do {                                                                                           \
        ps_dump_logs();                                                                            \
        fail_msg(__VA_ARGS__);                                                                     \
    } while (0)

typedef struct {
    char name[32];
    pid_t pid;
    bool used; /* the slot is taken (until ps_release) */
    bool exited;
    int status; /* wait status once exited */
    char out[320], err[320];
    int in; /* a socket that is its stdin (ps_start_piped; ps_send writes it), else -1; closed
               when the slot is freed */
} ps_proc_t;

/* What a command that ran to completion left. */
typedef struct {
    int code; /* exit code; 128 + signal when killed */
    const char *out, *err;
    int64_t ms;
} ps_result_t;

typedef struct {
    const char *weir, *src; /* WEIR_BIN, WEIR_SRC */
    bool asan;              /* WEIR_BIN is an ASan build (slower: tests run smaller jobs) */
    bool keep;              /* WEIR_TEST_KEEP is set: root stays */
    char root[200];         /* mkdtemp: the whole run */
    char dir[240];          /* the running test's directory inside root */
    char keys[240];         /* the cluster's CURVE keys (root/state/weir/keys: XDG_STATE_HOME is
                               root/state for every process, so every weir finds them) */
    int ntests;
    char **daemon_env; /* environ, WEIR_LOG=info unless set, a small ASan quarantine */
    char *asan_options;
    char **rerun_env; /* environ, a small ASan quarantine and no leak check: see ps_run */
    char *rerun_options;
    char ran[32][24]; /* the weir commands ps_run ran so far (their first word) */
    int nran;
    ps_proc_t procs[PS_MAX_PROCS];
    void **arena; /* freed in teardown: nothing leaks when an assertion jumps out */
    size_t narena, arena_cap;
} ps_harness_t;

/* The harness of this test binary (one per process: see the top of this file). */
extern ps_harness_t ps_h;

/* ---- time ---- */

void ps_sleep_ms(int ms);
int64_t ps_now_ms(void);
/* The pause between two polls of a loop that runs the weir CLI each time (`weir job`, `weir
 * actors`, ...): ms, but at least PS_POLL_SANITIZER_MS when WEIR_BIN is an ASan build. Each run of
 * an ASan weir costs about 150 ms of CPU before it does anything (its shadow memory and the
 * libraries' start), so a loop polling every 50 ms kept most of a core busy, and that in every
 * system test at once. */
void ps_poll_pause(int ms);
#define PS_POLL_SANITIZER_MS 250

/* ---- memory and files kept until the test ends ---- */

/* Takes ownership of malloc'd p until the test ends; fails the test when p is NULL. */
void *ps_keep(void *p);
/* Zeroed memory kept until the test ends. */
void *ps_alloc(size_t n);
/* printf into a string kept until the test ends. */
const char *ps_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A path in the test's directory (kept until the test ends). */
const char *ps_path(const char *name);
/* The file's contents ("" when it does not exist); the caller frees them. */
char *ps_slurp(const char *path);
/* The file's contents, kept until the test ends. */
char *ps_read_file(const char *path);
/* Writes text to path; fails the test when it cannot. */
void ps_write_file(const char *path, const char *text);
/* A loopback TCP port that was free a moment ago, drawn at random outside the kernel's ephemeral
 * range (net.ipv4.ip_local_port_range, where bind to port 0 and connect take their ports). Between
 * the pick and a daemon's bind (or while a test restarts a daemon on its port) the port is free
 * for anyone: drawn from there it competes only with the picks of the test binaries running beside
 * this one (`scons test` runs two at a time), not with every socket on the machine. Taken by
 * another test, it would put this test's TaskManagers into that test's cluster (same node ids). */
int ps_free_port(void);
/* Listens on 127.0.0.1:*port (0: a port the kernel picks, stored in *port); returns the socket,
 * which the caller closes, or -1 when the port is taken. */
int ps_listen(int *port);

/* ---- text ---- */

/* The first needle in text (NULL: none), in time linear in how far it is. Loops over a log's
 * occurrences go through it, not strstr: ASan's strstr measures the whole rest of the text on
 * every call, so that counting a log's lines took time quadratic in its length (2.8% of all the
 * CPU of the ASan test phase went to one test binary's strstr, 2026-12-07). */
const char *ps_find(const char *text, const char *needle);
/* How many times needle occurs in text, not overlapping (NULL text: 0). */
size_t ps_count(const char *text, const char *needle);
/* The lines of a text file (none when it does not exist), NUL-terminated in place and kept until
 * the test ends; *n gets their count. Fails the test when the last line has no newline (a torn
 * write). */
char **ps_lines(const char *path, size_t *n);
/* Sorts n strings in strcmp order. */
void ps_sort_strings(char **v, size_t n);

/* ---- processes ---- */

/* Starts `weir ARGS` in a free slot, stdout and stderr in NAME.out and NAME.err of the test's
 * directory; envp NULL: this process's environment. Fails the test when every slot is taken. */
ps_proc_t *ps_start(const char *name, const char *const args[], char **envp);
/* The same for another program than weir: path (absolute) with ARGS, tracked and killed alike. */
ps_proc_t *ps_start_program(const char *name, const char *path, const char *const args[],
                            char **envp);
/* This process's environment less every entry that starts with one of drop[] (NULL-ended; NULL:
 * none), plus each "NAME=VALUE" of add[] (NULL-ended; NULL: none), which takes the place of an
 * entry of that name: for ps_start_program. Kept until the test ends. */
char **ps_env(const char *const drop[], const char *const add[]);
/* What a sanitizer build of a test puts in its environment, for ps_env's drop: a program that is
 * no such build (Chromium, ansible) must not get it. */
#define PS_ENV_SANITIZERS                                                                          \
    "LD_PRELOAD=", "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "TSAN_OPTIONS="
/* ps_start_program with fds[i] as the child's descriptor 3 + i (i < nfds <= 4), for a program
 * that talks on inherited pipes (Chromium's --remote-debugging-pipe reads 3 and writes 4). The
 * caller still closes its own copies. */
ps_proc_t *ps_start_program_fds(const char *name, const char *path, const char *const args[],
                                char **envp, const int fds[], size_t nfds);
/* ps_start with its stdin a socket of this process instead of /dev/null: ps_send writes to it.
 * (A socket, not a pipe: a write after the process died fails instead of raising SIGPIPE.) */
ps_proc_t *ps_start_piped(const char *name, const char *const args[], char **envp);
/* Writes text to p's stdin (ps_start_piped). False when it cannot: p has exited, or no pipe. */
bool ps_send(ps_proc_t *p, const char *text);
/* True while p runs; reaps it once it has exited. */
bool ps_running(ps_proc_t *p);
/* p's exit code, 128 + signal when a signal ended it. */
int ps_exit_code(const ps_proc_t *p);
/* Waits up to timeout_ms for p to exit; true if it did. */
bool ps_wait_exit(ps_proc_t *p, int timeout_ms);
/* Waits up to timeout_ms for p to exit; fails the test (PS_FAIL) unless it exited 0 without a
 * sanitizer report. */
void ps_expect_success(ps_proc_t *p, int timeout_ms);
/* SIGKILL, then waits for it. */
void ps_kill9(ps_proc_t *p);
/* Frees p's slot; p has exited. Its log files stay, but PS_FAIL no longer prints them. */
void ps_release(ps_proc_t *p);
/* Kills every tracked process and frees their slots. */
void ps_kill_all(void);
/* True when text holds an ASan/UBSan/LSan/TSan report (a sanitizer build exits non-zero on one,
 * like a failure). */
bool ps_sanitizer_report(const char *text);
/* Prints the last lines of every tracked process's stdout and stderr. */
void ps_dump_logs(void);
/* How many processes (this one aside) have text on their command line (a benchmark's children
 * all name its temp folder). */
int ps_processes_naming(const char *text);
/* Entries of folder dir whose names start with prefix; -1 when dir cannot be read. */
int ps_entries_named(const char *dir, const char *prefix);
/* Sends p SIGTERM; fails unless p exits within timeout_ms with 128 + 15, its stderr saying
 * "SIGTERM received". */
void ps_expect_sigterm_stop(ps_proc_t *p, int timeout_ms);
/* Fails unless nothing of a benchmark's run in dir is left: no process naming dir, no folder (dir
 * must start with prefix, the benchmark's temp folder prefix). */
void ps_expect_bench_gone(const char *dir, const char *prefix);
/* Starts `weir ARGS`, a benchmark whose header line says header and its temp folder as
 * "(<prefix>...)", waits until daemons of its children name that folder, and sends it SIGTERM:
 * fails unless it exits 128 + 15 saying "SIGTERM received" and leaves nothing behind. */
void ps_expect_bench_sigterm(const char *const args[], const char *header, const char *prefix,
                             int daemons);
/* Waits until needle occurs nth times in the file (p's stdout or stderr). Returns the ms it took,
 * or -1 at the deadline or when p exits first. */
int64_t ps_wait_text(ps_proc_t *p, const char *path, const char *needle, size_t nth,
                     int timeout_ms);
/* Appends more to argv, which holds n arguments, and NULL-terminates it; returns the new count. */
size_t ps_append(const char **argv, size_t n, const char *const more[]);
/* Runs `weir ARGS` to completion (killed and failing the test after timeout_ms) and frees its
 * slot. A sanitizer report fails the test. */
ps_result_t ps_run(const char *name, const char *const args[], int timeout_ms);
/* `weir ARGS` run inside this process: the command's function, as weir's main calls it, with
 * stdout and stderr sent to NAME.out and NAME.err of the test's directory while it runs; what
 * ps_run gives, without a process (an ASan weir costs ~150 ms of CPU before it does anything,
 * and the tests' wait loops poll `weir job` hundreds of times). For client commands that end by
 * themselves (their timeouts are client.timeout's); this process's threads must not write to
 * stdout or stderr meanwhile. A sanitizer report fails this test binary, as it would the
 * command. */
ps_result_t ps_call(const char *name, const char *const args[]);
/* The same for another program than weir (path absolute), without the sanitizer check. */
ps_result_t ps_run_program(const char *name, const char *path, const char *const args[],
                           int timeout_ms);

/* ---- fixtures ---- */

/* The group setup of a test binary called name: reads WEIR_BIN (and WEIR_SRC when need_src),
 * makes the run's directory and the daemons' environment. Returns -1 (saying why) if it cannot. */
int ps_group_setup(const char *name, bool need_src);
/* cmocka fixtures (state unused): the group's end (every process killed, the run's directory
 * removed), each test's start (a fresh directory) and end (its processes killed, its memory
 * freed, its directory removed; after a failed test too). */
int ps_group_teardown(void **state);
/* ps_group_setup's handler of SIGTERM and SIGINT, with async-signal-safe calls only: every
 * tracked process killed, root removed (a forked rm), then the signal raised again with its
 * default action. A test with a handler of its own ends it with this. */
void ps_on_signal(int sig);
int ps_setup(void **state);
int ps_teardown(void **state);

#endif
