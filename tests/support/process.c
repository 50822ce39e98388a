#include "tests/support/process.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/base/strbuf.h"
#include "cli/bench_procs.h"
#include "cli/cli.h"
#include "tests/support/wait.h"

ps_harness_t ps_h;

void ps_sleep_ms(int ms)
{
    wr_test_sleep_ms(ms);
}

void ps_poll_pause(int ms)
{
    wr_test_sleep_ms(ps_h.asan && ms < PS_POLL_SANITIZER_MS ? PS_POLL_SANITIZER_MS : ms);
}

int64_t ps_now_ms(void)
{
    return wr_test_now_ms();
}

/* ---- memory and files ---- */

void *ps_keep(void *p)
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

void *ps_alloc(size_t n)
{
    return ps_keep(calloc(n ? n : 1, 1));
}

static void s_arena_release(void)
{
    for (size_t i = 0; i < ps_h.narena; i++)
        free(ps_h.arena[i]);
    free(ps_h.arena);
    ps_h.arena = NULL;
    ps_h.narena = ps_h.arena_cap = 0;
}

const char *ps_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return ps_keep(n < 0 ? NULL : s);
}

const char *ps_path(const char *name)
{
    return ps_fmt("%s/%s", ps_h.dir, name);
}

char *ps_slurp(const char *path)
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

char *ps_read_file(const char *path)
{
    return ps_keep(ps_slurp(path));
}

void ps_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

const char *ps_find(const char *text, const char *needle)
{
    size_t len = strlen(needle);
    if (!len) return text;
    for (const char *p = text; (p = strchr(p, needle[0])); p++) /* (both read up to p only) */
        if (!strncmp(p, needle, len)) return p;
    return NULL;
}

size_t ps_count(const char *text, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = text; len && p && (p = ps_find(p, needle)); p += len)
        n++;
    return n;
}

char **ps_lines(const char *path, size_t *n)
{
    char *text = ps_read_file(path);
    size_t cap = 1;
    for (const char *q = text; *q; q++)
        cap += *q == '\n';
    char **lines = ps_alloc(cap * sizeof *lines);
    *n = 0;
    for (char *q = text; *q;) {
        char *nl = strchr(q, '\n');
        if (!nl) PS_FAIL("%s: the last line has no newline (a torn write?)", path);
        *nl = '\0';
        lines[(*n)++] = q;
        q = nl + 1;
    }
    return lines;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ps_sort_strings(char **v, size_t n)
{
    if (n) qsort(v, n, sizeof *v, s_cmp_str);
}

int ps_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)*port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Returns port (0: one the kernel picks) if a socket could listen on it a moment ago, else -1. */
int ps_free_port(void)
{
    int port = wr_bench_free_port();
    assert_true(port > 0);
    return port;
}

/* ---- processes ---- */

/* What a child inherits besides stdout and stderr: its stdin (in_fd, or /dev/null when -1) and
 * fds[i] as descriptor 3 + i. */
typedef struct {
    int in_fd;
    const int *fds;
    size_t nfds;
} s_inherit_t;

#define S_MAX_FDS 4

/* In the child, between fork and exec: async-signal-safe calls only. */
static void s_child(const ps_proc_t *p, char *const argv[], char *const envp[], pid_t parent,
                    const s_inherit_t *inh)
{
    int in_fd = inh->in_fd;
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with this test binary, whatever kills it */
    if (getppid() != parent) _exit(127);
    int in = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
    int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    /* out of the way first (a descriptor to pass may be 3 + another's index), then in place */
    int high[S_MAX_FDS];
    for (size_t i = 0; i < inh->nfds; i++)
        if ((high[i] = fcntl(inh->fds[i], F_DUPFD, 512)) < 0) _exit(127);
    for (size_t i = 0; i < inh->nfds; i++)
        if (dup2(high[i], 3 + (int)i) < 0) _exit(127);
    for (int fd = 3 + (int)inh->nfds; fd < 1024; fd++)
        close(fd);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, envp);
    _exit(127);
}

ps_proc_t *ps_start(const char *name, const char *const args[], char **envp)
{
    return ps_start_program(name, ps_h.weir, args, envp);
}

/* Starts path with args in a free slot, inheriting what inh says (the caller still closes its own
 * copies). */
static ps_proc_t *s_start(const char *name, const char *path, const char *const args[], char **envp,
                          const s_inherit_t *inh)
{
    assert_true(inh->nfds <= S_MAX_FDS);
    extern char **environ;
    ps_proc_t *p = NULL;
    for (size_t i = 0; !p && i < PS_MAX_PROCS; i++)
        if (!ps_h.procs[i].used) p = &ps_h.procs[i];
    if (!p) PS_FAIL("more than %d processes at once", PS_MAX_PROCS);
    char *argv[PS_MAX_ARGS + 2] = {(char *)path};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < PS_MAX_ARGS);
        argv[n++] = (char *)args[i];
    }
    memset(p, 0, sizeof *p);
    p->used = true;
    p->in = -1;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->out, sizeof p->out, "%s/%s.out", ps_h.dir, name);
    snprintf(p->err, sizeof p->err, "%s/%s.err", ps_h.dir, name);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) s_child(p, argv, envp ? envp : environ, parent, inh);
    p->pid = pid;
    return p;
}

ps_proc_t *ps_start_program(const char *name, const char *path, const char *const args[],
                            char **envp)
{
    return s_start(name, path, args, envp, &(s_inherit_t){.in_fd = -1});
}

/* True when entry ("NAME=VALUE") is named as one of add's entries. */
static bool s_env_named(const char *entry, const char *const add[])
{
    size_t len = strcspn(entry, "=");
    for (size_t i = 0; add && add[i]; i++)
        if (strcspn(add[i], "=") == len && !strncmp(entry, add[i], len)) return true;
    return false;
}

char **ps_env(const char *const drop[], const char *const add[])
{
    extern char **environ;
    size_t n = 0, nadd = 0, m = 0;
    while (environ[n])
        n++;
    while (add && add[nadd])
        nadd++;
    char **env = ps_alloc((n + nadd + 1) * sizeof *env);
    for (size_t i = 0; i < n; i++) {
        bool keep = !s_env_named(environ[i], add);
        for (size_t k = 0; keep && drop && drop[k]; k++)
            keep = strncmp(environ[i], drop[k], strlen(drop[k])) != 0;
        if (keep) env[m++] = environ[i];
    }
    for (size_t i = 0; i < nadd; i++)
        env[m++] = (char *)add[i];
    return env;
}

ps_proc_t *ps_start_program_fds(const char *name, const char *path, const char *const args[],
                                char **envp, const int fds[], size_t nfds)
{
    return s_start(name, path, args, envp, &(s_inherit_t){.in_fd = -1, .fds = fds, .nfds = nfds});
}

ps_proc_t *ps_start_piped(const char *name, const char *const args[], char **envp)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ps_proc_t *p = s_start(name, ps_h.weir, args, envp, &(s_inherit_t){.in_fd = sv[1]});
    close(sv[1]);
    shutdown(sv[0], SHUT_RD); /* its stdin only: nothing comes back this way */
    p->in = sv[0];
    return p;
}

bool ps_send(ps_proc_t *p, const char *text)
{
    for (size_t at = 0, len = strlen(text); p->in >= 0 && at < len;) {
        ssize_t n = send(p->in, text + at, len - at, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR) return false;
        if (n > 0) at += (size_t)n;
    }
    return p->in >= 0;
}

/* Closes p's stdin socket, if it has one. */
static void s_close_in(ps_proc_t *p)
{
    if (p->in >= 0) close(p->in);
    p->in = -1;
}

bool ps_running(ps_proc_t *p)
{
    if (!p || !p->pid || p->exited) return false;
    if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) p->exited = true;
    return !p->exited;
}

int ps_exit_code(const ps_proc_t *p)
{
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
}

bool ps_wait_exit(ps_proc_t *p, int timeout_ms)
{
    int64_t deadline = ps_now_ms() + timeout_ms;
    while (ps_running(p)) {
        if (ps_now_ms() > deadline) return false;
        ps_sleep_ms(2);
    }
    return true;
}

void ps_expect_success(ps_proc_t *p, int timeout_ms)
{
    if (!ps_wait_exit(p, timeout_ms))
        PS_FAIL("%s did not finish within %d ms", p->name, timeout_ms);
    const char *err = ps_read_file(p->err);
    if (ps_exit_code(p) != 0 || ps_sanitizer_report(err))
        PS_FAIL("%s exited %d", p->name, ps_exit_code(p));
}

void ps_kill9(ps_proc_t *p)
{
    if (ps_running(p)) kill(p->pid, SIGKILL);
    if (p->pid) ps_wait_exit(p, 10000);
}

void ps_release(ps_proc_t *p)
{
    assert_false(ps_running(p));
    s_close_in(p);
    p->used = false;
}

void ps_kill_all(void)
{
    for (size_t i = 0; i < PS_MAX_PROCS; i++) {
        if (!ps_h.procs[i].used) continue;
        ps_kill9(&ps_h.procs[i]);
        s_close_in(&ps_h.procs[i]);
        ps_h.procs[i].used = false;
    }
}

bool ps_sanitizer_report(const char *text)
{
    return strstr(text, "Sanitizer") || strstr(text, "runtime error:");
}

/* Prints the last lines of a log, indented. */
static void s_print_tail(const char *label, const char *path)
{
    const char *text = ps_read_file(path);
    const char *start = text + strlen(text);
    for (int lines = 0; start > text && lines <= 25; start--)
        if (start[-1] == '\n') lines++;
    print_message("  --- %s (%s)\n%s%s", label, path, start, *text ? "\n" : "");
}

void ps_dump_logs(void)
{
    for (size_t i = 0; i < PS_MAX_PROCS; i++) {
        ps_proc_t *p = &ps_h.procs[i];
        if (!p->used) continue;
        bool running = ps_running(p);
        print_message("  %s (pid %d): %s, exit %d\n", p->name, (int)p->pid,
                      running ? "running" : "exited", running ? -1 : ps_exit_code(p));
        s_print_tail("stdout", p->out);
        s_print_tail("stderr", p->err);
    }
}

int64_t ps_wait_text(ps_proc_t *p, const char *path, const char *needle, size_t nth, int timeout_ms)
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

size_t ps_append(const char **argv, size_t n, const char *const more[])
{
    for (size_t i = 0; more[i]; i++) {
        assert_true(n < PS_MAX_ARGS);
        argv[n++] = more[i];
    }
    argv[n] = NULL;
    return n;
}

/* ps_run_program with envp (NULL: this process's environment). */
static ps_result_t s_run(const char *name, const char *path, const char *const args[], char **envp,
                         int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    ps_proc_t *p = ps_start_program(name, path, args, envp);
    if (!ps_wait_exit(p, timeout_ms)) {
        ps_kill9(p);
        PS_FAIL("`%s %s ...` did not finish within %d ms", path, args[0], timeout_ms);
    }
    ps_result_t r = {ps_exit_code(p), ps_read_file(p->out), ps_read_file(p->err), ps_now_ms() - t0};
    ps_release(p);
    return r;
}

ps_result_t ps_run_program(const char *name, const char *path, const char *const args[],
                           int timeout_ms)
{
    return s_run(name, path, args, NULL, timeout_ms);
}

/* Whether this binary ran `weir CMD ...` before (and from now on, it has). */
static bool s_ran_before(const char *cmd)
{
    for (int i = 0; i < ps_h.nran; i++)
        if (!strcmp(ps_h.ran[i], cmd)) return true;
    if (ps_h.nran < (int)(sizeof ps_h.ran / sizeof ps_h.ran[0]) && strlen(cmd) < sizeof ps_h.ran[0])
        strcpy(ps_h.ran[ps_h.nran++], cmd);
    return false;
}

ps_result_t ps_run(const char *name, const char *const args[], int timeout_ms)
{
    /* Under ASan, a weir's leak check at exit costs ~40 ms of the ~150 ms of CPU a short command
     * takes, and a test binary runs hundreds of them (its wait loops poll `weir job`): the first
     * run of each command in a binary is checked for leaks, the later ones are not. */
    char **envp = ps_h.asan && ps_h.rerun_env && s_ran_before(args[0]) ? ps_h.rerun_env : NULL;
    ps_result_t r = s_run(name, ps_h.weir, args, envp, timeout_ms);
    if (ps_sanitizer_report(r.err)) PS_FAIL("`weir %s ...` (exit %d):\n%s", args[0], r.code, r.err);
    return r;
}

ps_result_t ps_call(const char *name, const char *const args[])
{
    size_t ncmds;
    const wr_cli_cmd_t *cmds = wr_cli_commands(&ncmds);
    const wr_cli_cmd_t *cmd = wr_cli_command(cmds, ncmds, args[0]);
    if (!cmd) PS_FAIL("`weir %s`: no such command", args[0]);
    char *argv[PS_MAX_ARGS + 1]; /* copies, as main's: getopt permutes the pointers, and the
                                    commands cut "KEY=VALUE" at its '=' in place */
    int argc = 0;
    while (args[argc] && argc < PS_MAX_ARGS) {
        argv[argc] = (char *)ps_fmt("%s", args[argc]);
        argc++;
    }
    argv[argc] = NULL;
    const char *out = ps_path(ps_fmt("%s.out", name)), *err = ps_path(ps_fmt("%s.err", name));
    fflush(stdout);
    fflush(stderr);
    int saved[2] = {dup(STDOUT_FILENO), dup(STDERR_FILENO)};
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (saved[0] < 0 || saved[1] < 0 || fo < 0 || fe < 0 || dup2(fo, STDOUT_FILENO) < 0 ||
        dup2(fe, STDERR_FILENO) < 0)
        PS_FAIL("cannot send `weir %s`'s output to %s", args[0], out);
    close(fo);
    close(fe);
    zsys_handler_set(NULL); /* as weir's main: no czmq handler for SIGINT/SIGTERM */
    optind = 0;             /* (glibc: getopt starts afresh) */
    int64_t t0 = ps_now_ms();
    int code = cmd->fn(argc, argv);
    int64_t ms = ps_now_ms() - t0;
    fflush(stdout);
    fflush(stderr);
    dup2(saved[0], STDOUT_FILENO);
    dup2(saved[1], STDERR_FILENO);
    close(saved[0]);
    close(saved[1]);
    return (ps_result_t){code, ps_read_file(out), ps_read_file(err), ms};
}

/* ---- setup and teardown ---- */

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void s_rm_tree(char *dir)
{
    if (dir[0]) nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* Whatever ends the binary: no process and no directory outlives it. */
static void s_at_exit(void)
{
    ps_kill_all();
    if (!ps_h.keep) s_rm_tree(ps_h.root);
}

void ps_on_signal(int sig)
{
    for (size_t i = 0; i < PS_MAX_PROCS; i++)
        if (ps_h.procs[i].used && ps_h.procs[i].pid > 0) kill(ps_h.procs[i].pid, SIGKILL);
    if (ps_h.root[0] && !ps_h.keep) {
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/rm", "rm", "-rf", ps_h.root, (char *)NULL);
            _exit(127);
        }
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Runs `weir PS_KEYGEN_ARGS` to completion (its output in root/keygen.log). */
static int s_keygen(const char *name)
{
    const char *const args[] = {ps_h.weir, PS_KEYGEN_ARGS, NULL};
    char log[sizeof ps_h.root + 16];
    snprintf(log, sizeof log, "%s/keygen.log", ps_h.root);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execve(ps_h.weir, (char *const *)args, ps_h.daemon_env);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "%s: `weir keygen` failed (see %s)\n", name, log);
        return -1;
    }
    return 0;
}

int ps_group_setup(const char *name, bool need_src)
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
    /* before environ is copied: every process, daemon or CLI, finds the keys made below */
    char state[sizeof ps_h.root + 8];
    snprintf(state, sizeof state, "%s/state", ps_h.root);
    snprintf(ps_h.keys, sizeof ps_h.keys, "%s/weir/keys", state);
    if (setenv("XDG_STATE_HOME", state, 1)) return -1;
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
    ps_h.rerun_env = calloc(n + 2, sizeof *ps_h.rerun_env);
    if (!ps_h.rerun_env ||
        asprintf(&ps_h.rerun_options,
                 "ASAN_OPTIONS=%s%squarantine_size_mb=8:thread_local_quarantine_size_kb=256:"
                 "detect_leaks=0",
                 opts ? opts : "", opts && *opts ? ":" : "") < 0)
        return -1;
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "ASAN_OPTIONS=", 13)) ps_h.rerun_env[m++] = environ[i];
    ps_h.rerun_env[m++] = ps_h.rerun_options;
    ps_h.keep = getenv("WEIR_TEST_KEEP") != NULL;
    atexit(s_at_exit);
    signal(SIGTERM, ps_on_signal);
    signal(SIGINT, ps_on_signal);
    return s_keygen(name);
}

int ps_group_teardown(void **state)
{
    (void)state;
    s_at_exit();
    free(ps_h.daemon_env);
    free(ps_h.asan_options);
    free(ps_h.rerun_env);
    free(ps_h.rerun_options);
    ps_h.daemon_env = ps_h.rerun_env = NULL;
    ps_h.asan_options = ps_h.rerun_options = NULL;
    return 0;
}

int ps_setup(void **state)
{
    (void)state;
    snprintf(ps_h.dir, sizeof ps_h.dir, "%s/test-%02d", ps_h.root, ++ps_h.ntests);
    return mkdir(ps_h.dir, 0755);
}

int ps_teardown(void **state)
{
    (void)state;
    ps_kill_all();
    s_arena_release();
    if (!ps_h.keep) s_rm_tree(ps_h.dir);
    return 0;
}

int ps_processes_naming(const char *text)
{
    DIR *d = opendir("/proc");
    if (!d) PS_FAIL("cannot list /proc");
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid()) continue;
        FILE *f = fopen(ps_fmt("/proc/%ld/cmdline", pid), "r");
        if (!f) continue; /* gone meanwhile */
        char buf[8192];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < len; i++)
            if (!buf[i]) buf[i] = ' ';
        buf[len] = '\0';
        n += strstr(buf, text) != NULL;
    }
    closedir(d);
    return n;
}

int ps_entries_named(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

void ps_expect_sigterm_stop(ps_proc_t *p, int timeout_ms)
{
    if (kill(p->pid, SIGTERM)) PS_FAIL("%s: kill: %s", p->name, strerror(errno));
    if (!ps_wait_exit(p, timeout_ms))
        PS_FAIL("%s still runs %d ms after SIGTERM", p->name, timeout_ms);
    const char *err = ps_read_file(p->err);
    if (ps_exit_code(p) != 128 + SIGTERM || !err || !strstr(err, "SIGTERM received"))
        PS_FAIL("%s exited %d after SIGTERM:\n%s", p->name, ps_exit_code(p), err ? err : "");
}

void ps_expect_bench_gone(const char *dir, const char *prefix)
{
    if (strncmp(dir, prefix, strlen(prefix))) PS_FAIL("not the bench's folder: '%s'", dir);
    int left = ps_processes_naming(dir);
    if (left)
        PS_FAIL("%d processes of the bench are left (their command lines name %s)", left, dir);
    if (access(dir, F_OK) == 0) PS_FAIL("the bench left its folder %s", dir);
}

void ps_expect_bench_sigterm(const char *const args[], const char *header, const char *prefix,
                             int daemons)
{
    ps_proc_t *b = ps_start("bench", args, NULL);
    if (ps_wait_text(b, b->out, header, 1, 10000) < 0) PS_FAIL("the bench printed no header");
    const char *out = ps_read_file(b->out), *at = strstr(out, ps_fmt("(%s", prefix));
    if (!at) PS_FAIL("no temp folder in the header:\n%s", out);
    const char *dir = ps_fmt("%.*s", (int)strcspn(at + 1, ")"), at + 1);
    /* in the middle: the daemons started */
    for (int64_t t0 = ps_now_ms(); ps_processes_naming(dir) < daemons; ps_sleep_ms(50))
        if (ps_now_ms() - t0 > 20000) PS_FAIL("the bench started no daemons in %s", dir);
    ps_expect_sigterm_stop(b, 15000);
    ps_expect_bench_gone(dir, prefix);
}
