/* The harness of the tests that run real `weir` processes on loopback: starting them with their
 * stdout and stderr in files of the test's directory, waiting for what they print, killing them,
 * and cleaning up. Header-only (every test binary is one .c file); ps_ is for "process support".
 *
 * The state is file-level (ps_h) so that an atexit handler, a teardown after a failed assertion
 * and the log dump reach every process a test started: every process is killed in the teardown,
 * at exit, and by the kernel should the test binary die (PR_SET_PDEATHSIG); every file lives in
 * one mkdtemp directory, removed at the end; PS_FAIL prints the logs of the processes still
 * tracked before it fails the test. Daemons run with WEIR_LOG=info unless WEIR_LOG is set, and
 * under ASan with a small quarantine of freed memory (ASan keeps 256 MB by default). Needs
 * WEIR_BIN (the weir binary of the same build mode; `scons test` sets it). */
#ifndef WR_TEST_PROCESS_SUPPORT_H
#define WR_TEST_PROCESS_SUPPORT_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/strbuf.h"

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
} ps_proc_t;

/* What a command that ran to completion left. */
typedef struct {
    int code; /* exit code; 128 + signal when killed */
    const char *out, *err;
    int64_t ms;
} ps_result_t;

static struct {
    const char *weir, *src;
    bool asan;
    char root[200]; /* mkdtemp: the whole run */
    char dir[240];  /* the running test's directory inside root */
    int ntests;
    char **daemon_env; /* environ, WEIR_LOG=info unless set, a small ASan quarantine */
    char *asan_options;
    ps_proc_t procs[PS_MAX_PROCS];
    void **arena; /* freed in teardown: nothing leaks when an assertion jumps out */
    size_t narena, arena_cap;
} ps_h;

static inline void ps_dump_logs(void);

static inline void ps_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static inline int64_t ps_now_ms(void)
{
    return wr_now_ns() / 1000000;
}

/* Takes ownership of malloc'd p until the test ends. */
static inline void *ps_keep(void *p)
{
    if (!p) fail_msg("out of memory");
    if (ps_h.narena == ps_h.arena_cap) {
        size_t ncap = ps_h.arena_cap ? ps_h.arena_cap * 2 : 64;
        void **a = realloc(ps_h.arena, ncap * sizeof *a);
        if (!a) {
            free(p);
            fail_msg("out of memory");
        }
        ps_h.arena = a;
        ps_h.arena_cap = ncap;
    }
    ps_h.arena[ps_h.narena++] = p;
    return p;
}

static inline void *ps_alloc(size_t n)
{
    return ps_keep(calloc(n ? n : 1, 1));
}

static inline void ps_arena_release(void)
{
    for (size_t i = 0; i < ps_h.narena; i++)
        free(ps_h.arena[i]);
    free(ps_h.arena);
    ps_h.arena = NULL;
    ps_h.narena = ps_h.arena_cap = 0;
}

/* printf into a string kept until the test ends. */
__attribute__((format(printf, 1, 2))) static inline const char *ps_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return ps_keep(n < 0 ? NULL : s);
}

/* A path in the test's directory (kept until the test ends). */
static inline const char *ps_path(const char *name)
{
    return ps_fmt("%s/%s", ps_h.dir, name);
}

/* The file's contents ("" when it does not exist); the caller frees them. */
static inline char *ps_slurp(const char *path)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    FILE *f = fopen(path, "r");
    if (f) {
        char buf[1 << 16];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            wr_strbuf_add(&sb, buf, n);
        fclose(f);
    }
    return wr_strbuf_detach(&sb, NULL);
}

/* The file's contents, kept until the test ends. */
static inline char *ps_read_file(const char *path)
{
    return ps_keep(ps_slurp(path));
}

static inline void ps_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static inline size_t ps_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A loopback TCP port that was free a moment ago. */
static inline int ps_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    if (!rc) rc = getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    assert_int_equal(rc, 0);
    return ntohs(a.sin_port);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static inline void ps_child(const ps_proc_t *p, char *const argv[], char *const envp[],
                            pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with this test binary, whatever kills it */
    if (getppid() != parent) _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, envp);
    _exit(127);
}

/* Starts `weir ARGS` in a free slot, stdout and stderr in NAME.out and NAME.err of the test's
 * directory; envp NULL: this process's environment. */
static inline ps_proc_t *ps_start(const char *name, const char *const args[], char **envp)
{
    extern char **environ;
    ps_proc_t *p = NULL;
    for (size_t i = 0; !p && i < PS_MAX_PROCS; i++)
        if (!ps_h.procs[i].used) p = &ps_h.procs[i];
    if (!p) PS_FAIL("more than %d processes at once", PS_MAX_PROCS);
    char *argv[PS_MAX_ARGS + 2] = {(char *)ps_h.weir};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < PS_MAX_ARGS);
        argv[n++] = (char *)args[i];
    }
    memset(p, 0, sizeof *p);
    p->used = true;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->out, sizeof p->out, "%s/%s.out", ps_h.dir, name);
    snprintf(p->err, sizeof p->err, "%s/%s.err", ps_h.dir, name);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) ps_child(p, argv, envp ? envp : environ, parent);
    p->pid = pid;
    return p;
}

/* True while p runs; reaps it once it has exited. */
static inline bool ps_running(ps_proc_t *p)
{
    if (!p || !p->pid || p->exited) return false;
    if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) p->exited = true;
    return !p->exited;
}

static inline int ps_exit_code(const ps_proc_t *p)
{
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
}

static inline bool ps_wait_exit(ps_proc_t *p, int timeout_ms)
{
    int64_t deadline = ps_now_ms() + timeout_ms;
    while (ps_running(p)) {
        if (ps_now_ms() > deadline) return false;
        ps_sleep_ms(2);
    }
    return true;
}

static inline void ps_kill9(ps_proc_t *p)
{
    if (ps_running(p)) kill(p->pid, SIGKILL);
    if (p->pid) ps_wait_exit(p, 10000);
}

/* Frees p's slot; p has exited. Its log files stay, but PS_FAIL no longer prints them. */
static inline void ps_release(ps_proc_t *p)
{
    assert_false(ps_running(p));
    p->used = false;
}

static inline void ps_kill_all(void)
{
    for (size_t i = 0; i < PS_MAX_PROCS; i++) {
        if (ps_h.procs[i].used) ps_kill9(&ps_h.procs[i]);
        ps_h.procs[i].used = false;
    }
}

/* True when text holds an ASan/UBSan/LSan report (an ASan build exits 1 on one, like a failure). */
static inline bool ps_sanitizer_report(const char *text)
{
    return strstr(text, "Sanitizer") || strstr(text, "runtime error:");
}

/* Prints the last lines of a log, indented. */
static inline void ps_print_tail(const char *label, const char *path)
{
    const char *text = ps_read_file(path);
    const char *start = text + strlen(text);
    for (int lines = 0; start > text && lines <= 25; start--)
        if (start[-1] == '\n') lines++;
    print_message("  --- %s (%s)\n%s%s", label, path, start, *text ? "\n" : "");
}

static inline void ps_dump_logs(void)
{
    for (size_t i = 0; i < PS_MAX_PROCS; i++) {
        ps_proc_t *p = &ps_h.procs[i];
        if (!p->used) continue;
        bool running = ps_running(p);
        print_message("  %s (pid %d): %s, exit %d\n", p->name, (int)p->pid,
                      running ? "running" : "exited", running ? -1 : ps_exit_code(p));
        ps_print_tail("stdout", p->out);
        ps_print_tail("stderr", p->err);
    }
}

/* Waits until needle occurs nth times in the file (p's stdout or stderr). Returns the ms it took,
 * or -1 at the deadline or when p exits first. */
static inline int64_t ps_wait_text(ps_proc_t *p, const char *path, const char *needle, size_t nth,
                                   int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    for (;;) {
        char *text = ps_slurp(path);
        size_t n = ps_count(text, needle);
        free(text);
        if (n >= nth) return ps_now_ms() - t0;
        if (!ps_running(p) || ps_now_ms() - t0 > timeout_ms) return -1;
        ps_sleep_ms(10);
    }
}

/* Appends more to argv, which holds n arguments, and NULL-terminates it; returns the new count. */
static inline size_t ps_append(const char **argv, size_t n, const char *const more[])
{
    for (size_t i = 0; more[i]; i++) {
        assert_true(n < PS_MAX_ARGS);
        argv[n++] = more[i];
    }
    argv[n] = NULL;
    return n;
}

/* Runs `weir ARGS` to completion (killed and failing the test after timeout_ms) and frees its
 * slot. A sanitizer report fails the test. */
static inline ps_result_t ps_run(const char *name, const char *const args[], int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    ps_proc_t *p = ps_start(name, args, NULL);
    if (!ps_wait_exit(p, timeout_ms)) {
        ps_kill9(p);
        PS_FAIL("`weir %s ...` did not finish within %d ms", args[0], timeout_ms);
    }
    ps_result_t r = {ps_exit_code(p), ps_read_file(p->out), ps_read_file(p->err), ps_now_ms() - t0};
    ps_release(p);
    if (ps_sanitizer_report(r.err)) PS_FAIL("`weir %s ...` (exit %d):\n%s", args[0], r.code, r.err);
    return r;
}

/* ---- setup and teardown ---- */

static inline int ps_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void ps_rm_tree(char *dir)
{
    if (dir[0]) nftw(dir, ps_rm, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* Whatever ends the binary: no process and no directory outlives it. */
static inline void ps_at_exit(void)
{
    ps_kill_all();
    ps_rm_tree(ps_h.root);
}

/* The group setup of a test binary called name: reads WEIR_BIN (and WEIR_SRC when need_src),
 * makes the run's directory and the daemons' environment. Returns -1 (saying why) if it cannot. */
static inline int ps_group_setup(const char *name, bool need_src)
{
    extern char **environ;
    ps_h.weir = getenv("WEIR_BIN");
    ps_h.src = getenv("WEIR_SRC");
    if (!ps_h.weir || access(ps_h.weir, X_OK) || (need_src && !ps_h.src)) {
        fprintf(stderr,
                "%s: set WEIR_BIN to the weir binary to test%s (`scons test --tests=%s` does)\n",
                name, need_src ? " and WEIR_SRC to the repository" : "", name);
        return -1;
    }
    ps_h.asan = strstr(ps_h.weir, "asan") != NULL;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (snprintf(ps_h.root, sizeof ps_h.root, "%s/weir-%s-XXXXXX", tmp, name) >=
            (int)sizeof ps_h.root ||
        !mkdtemp(ps_h.root)) {
        fprintf(stderr, "%s: cannot make a directory in %s\n", name, tmp);
        ps_h.root[0] = '\0';
        return -1;
    }
    size_t n = 0;
    while (environ[n])
        n++;
    ps_h.daemon_env = calloc(n + 3, sizeof *ps_h.daemon_env);
    const char *opts = getenv("ASAN_OPTIONS");
    if (!ps_h.daemon_env ||
        asprintf(&ps_h.asan_options,
                 "ASAN_OPTIONS=%s%squarantine_size_mb=8:thread_local_quarantine_size_kb=256",
                 opts ? opts : "", opts && *opts ? ":" : "") < 0)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "ASAN_OPTIONS=", 13)) ps_h.daemon_env[m++] = environ[i];
    ps_h.daemon_env[m++] = ps_h.asan_options;
    if (!getenv("WEIR_LOG")) ps_h.daemon_env[m++] = "WEIR_LOG=info"; /* WEIR_LOG=debug: more */
    atexit(ps_at_exit);
    return 0;
}

/* cmocka fixtures (state unused): the group's end, each test's start and end. */
static inline int ps_group_teardown(void **state)
{
    (void)state;
    ps_at_exit();
    free(ps_h.daemon_env);
    free(ps_h.asan_options);
    ps_h.daemon_env = NULL;
    ps_h.asan_options = NULL;
    return 0;
}

/* A fresh directory for the next test. */
static inline int ps_setup(void **state)
{
    (void)state;
    snprintf(ps_h.dir, sizeof ps_h.dir, "%s/test-%02d", ps_h.root, ++ps_h.ntests);
    return mkdir(ps_h.dir, 0755);
}

/* After a test, passed or failed: its processes killed, its memory and directory gone. */
static inline int ps_teardown(void **state)
{
    (void)state;
    ps_kill_all();
    ps_arena_release();
    ps_rm_tree(ps_h.dir);
    return 0;
}

#endif
