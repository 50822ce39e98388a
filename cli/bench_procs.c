#include "cli/bench_procs.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/dataflow/job/topology.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/strbuf.h"
#include "bus/keys.h"
#include "cli/cli.h"

#define S_POLL_MS  50
#define S_START_MS 30000

extern char **environ;

int64_t wr_bench_ms(void)
{
    return wr_now_ns() / 1000000;
}

bool wr_bench_nap(wr_bench_procs_t *ps, int64_t ms)
{
    int sig = wr_cli_wait_signal(ms);
    if (sig) ps->signal = sig;
    return !sig;
}

/* Whether port is free on 127.0.0.1 now (bound and released), or, for port 0, the one the kernel
 * picks; -1 when it is taken. */
static int s_try_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), got = -1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
        !getsockname(fd, (struct sockaddr *)&a, &len))
        got = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return got;
}

/* The ports wr_bench_free_port draws from, [*lo, *hi): below the kernel's ephemeral range (or
 * above it when there is no room below). False when neither side has room. */
static bool s_port_range(int *lo, int *hi)
{
    int eph_lo = 32768, eph_hi = 60999; /* Linux's default */
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &eph_lo, &eph_hi) != 2) eph_lo = 32768, eph_hi = 60999;
        fclose(f);
    }
    *lo = 10000, *hi = eph_lo;
    if (*hi - *lo >= 5000) return true;
    *lo = eph_hi + 1, *hi = 65536;
    return *hi - *lo >= 2000;
}

/* WEIR_PORTS=LO-HI in the environment, when it is such a range ([LO, HI): 1024 <= LO,
 * LO + 100 <= HI <= 65536; anything else is passed over). */
static bool s_env_range(int *lo, int *hi)
{
    const char *v = getenv("WEIR_PORTS");
    int a, b, n = 0;
    if (!v || sscanf(v, "%d-%d%n", &a, &b, &n) != 2 || v[n] || a < 1024 || b > 65536 || b - a < 100)
        return false;
    *lo = a, *hi = b;
    return true;
}

int wr_bench_free_port(void)
{
    int lo, hi;
    if (s_env_range(&lo, &hi) || s_port_range(&lo, &hi))
        for (int i = 0; i < 200; i++) {
            uint32_t r;
            if (getrandom(&r, sizeof r, 0) != sizeof r) break;
            int port = lo + (int)(r % (uint32_t)(hi - lo));
            /* rest.port's and metrics.prometheus.port's defaults: any node may take them */
            if (port == 8081 || port == 9249) continue;
            if ((port = s_try_port(port)) > 0) return port;
        }
    return s_try_port(0);
}

/* The environment of the children: this one's, with WEIR_LOG=info (benchmarks read the logs). */
static char **s_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "WEIR_LOG=", 9)) env[k++] = environ[i];
    env[k] = "WEIR_LOG=info";
    return env;
}

int wr_bench_procs_init(wr_bench_procs_t *ps, const char *cmd, const char *name)
{
    *ps = (wr_bench_procs_t){.cmd = cmd};
    ssize_t len = readlink("/proc/self/exe", ps->exe, sizeof ps->exe - 1);
    if (len <= 0) {
        wr_cli_error(cmd, NULL, "cannot read /proc/self/exe: %s", strerror(errno));
        return WR_EIO;
    }
    ps->exe[len] = '\0';
    if (!(ps->envp = s_env())) {
        wr_cli_error(cmd, NULL, "out of memory");
        return WR_ENOMEM;
    }
    snprintf(ps->dir, sizeof ps->dir, "/tmp/weir-bench-%s-XXXXXX", name);
    if (!mkdtemp(ps->dir)) {
        ps->dir[0] = '\0';
        wr_cli_error(cmd, NULL, "cannot make a temp folder in /tmp: %s", strerror(errno));
        return WR_EIO;
    }
    return 0;
}

void wr_bench_procs_release(wr_bench_procs_t *ps, bool keep)
{
    if (ps->dir[0] && !keep) wr_fs_rmtree(ps->dir);
    free(ps->envp);
    ps->envp = NULL;
}

/* Only async-signal-safe calls after fork: this process has threads. */
int wr_bench_spawn(wr_bench_procs_t *ps, wr_bench_proc_t *p, const char *path, char *const argv[])
{
    char out[PATH_MAX];
    p->starts++;
    snprintf(out, sizeof out, "%s/%s.%d.out", ps->dir, p->name, p->starts);
    snprintf(p->log, sizeof p->log, "%s/%s.%d.log", ps->dir, p->name, p->starts);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int fo = p->quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                      : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fe = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = WR_EIO;
    pid_t parent = getpid();
    if (in < 0 || fo < 0 || fe < 0) goto out;
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        setpgid(0, 0); /* a Ctrl-C at the terminal reaches the benchmark only */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent) _exit(127);
        sigprocmask(SIG_SETMASK, &none, NULL); /* the blocked SIGINT/SIGTERM would carry over */
        if (dup2(in, 0) < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(127);
        execve(path, argv, ps->envp);
        _exit(127);
    }
    if (pid > 0) {
        p->pid = pid;
        rc = 0;
    }
out:
    if (in >= 0) close(in);
    if (fo >= 0) close(fo);
    if (fe >= 0) close(fe);
    return rc;
}

int wr_bench_keys(wr_bench_procs_t *ps, const char *const names[], const wr_role_t roles[],
                  size_t n, const char *client, bool curve)
{
    ps->curve = curve;
    snprintf(ps->keys, sizeof ps->keys, "%s/keys", ps->dir);
    snprintf(ps->keys_set, sizeof ps->keys_set, "security.keys-dir=%s", ps->keys);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    bool made;
    int rc = wr_keys_generate(ps->keys, client, WR_ROLE_ADMIN, &made, &err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = wr_keys_generate(ps->keys, names[i], roles[i], &made, &err);
    if (rc) wr_cli_error(ps->cmd, NULL, "cannot make the cluster's keys: %s", err.buf);
    wr_strbuf_release(&err);
    return rc;
}

int wr_bench_spawn_weir(wr_bench_procs_t *ps, wr_bench_proc_t *p, char *argv[], int n,
                        const char (*sets)[512], int nsets)
{
    /* the REST API's and the metrics' ports where the kernel finds one free: their defaults
     * (8081, 9249) would be taken by the first daemon, the others warning (a --set overrides) */
    bool jm = n > 1 && !strcmp(argv[1], "jobmanager");
    if (jm) {
        argv[n++] = "--set";
        argv[n++] = "rest.port=0";
    }
    if (jm || (n > 1 && !strcmp(argv[1], "taskmanager"))) {
        argv[n++] = "--set";
        argv[n++] = "metrics.prometheus.port=0";
    }
    if (ps->keys_set[0]) {
        argv[n++] = "--set";
        argv[n++] = ps->keys_set;
    }
    for (int k = 0; k < nsets; k++) {
        argv[n++] = "--set";
        argv[n++] = (char *)sets[k]; /* execve does not write to it */
    }
    argv[n] = NULL;
    return wr_bench_spawn(ps, p, ps->exe, argv);
}

void wr_bench_kill(wr_bench_proc_t *p)
{
    if (p->pid <= 0) return;
    kill(p->pid, SIGKILL);
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    p->pid = 0;
}

bool wr_bench_alive(wr_bench_proc_t *p)
{
    if (p->pid <= 0) return false;
    if (waitpid(p->pid, NULL, WNOHANG) == 0) return true;
    p->pid = 0;
    return false;
}

char *wr_bench_slurp(const char *path)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    if (!wr_fs_read(path, (size_t)1 << 30, &sb)) return wr_strbuf_detach(&sb, NULL);
    wr_strbuf_release(&sb);
    return NULL;
}

int wr_bench_wait_log(wr_bench_procs_t *ps, wr_bench_proc_t *p, const char *needle,
                      int64_t timeout_ms)
{
    for (int64_t t0 = wr_bench_ms();;) {
        char *text = wr_bench_slurp(p->log);
        bool found = text && strstr(text, needle);
        free(text);
        if (found) return 0;
        if (!wr_bench_alive(p)) return WR_EIO;
        if (wr_bench_ms() - t0 > timeout_ms) return WR_ETIMEDOUT;
        if (!wr_bench_nap(ps, S_POLL_MS)) return WR_BENCH_STOPPED;
    }
}

void wr_bench_dump_logs(const wr_bench_proc_t *const all[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *text = all[i]->starts ? wr_bench_slurp(all[i]->log) : NULL;
        if (!text) continue;
        const char *tail = text + strlen(text);
        for (int lines = 0; tail > text && lines <= 8; tail--)
            lines += tail[-1] == '\n';
        fprintf(stderr, "--- %s (%s), its last lines:\n%s", all[i]->name, all[i]->log, tail);
        free(text);
    }
}

uint64_t wr_bench_peak_rss(const wr_bench_proc_t *p)
{
    if (p->pid <= 0) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)p->pid);
    char *text = wr_bench_slurp(path);
    const char *at = text ? strstr(text, "\nVmHWM:") : NULL;
    unsigned long long kb = 0;
    if (at && sscanf(at + 7, "%llu", &kb) != 1) kb = 0;
    free(text);
    return (uint64_t)kb * 1024;
}

int wr_bench_submit_topology(wr_bench_procs_t *ps, wr_node_t *client, const char *jm,
                             const wr_topology_t *t, char id[WR_JOB_ID_MAX])
{
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    int rc;
    for (int64_t t0 = wr_bench_ms();;) {
        wr_strbuf_reset(&why);
        rc = wr_cli_submit(client, jm, S_START_MS, t, NULL, 0, id, &why);
        if (rc != WR_EAGAIN || wr_bench_ms() - t0 > S_START_MS) break; /* not enough slots yet */
        if (!wr_bench_nap(ps, 200)) {
            rc = WR_BENCH_STOPPED;
            break;
        }
    }
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(ps->cmd, NULL, "cannot submit the job: %s", why.buf);
    wr_strbuf_release(&why);
    return rc;
}

int wr_bench_submit(wr_bench_procs_t *ps, wr_node_t *client, const char *jm, const char *yaml,
                    char id[WR_JOB_ID_MAX])
{
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    wr_topology_t *t = NULL;
    int rc = wr_topology_parse(yaml, strlen(yaml), "the bench's job", &t, &why);
    if (rc)
        wr_cli_error(ps->cmd, NULL, "cannot submit the job: %s", why.buf);
    else
        rc = wr_bench_submit_topology(ps, client, jm, t, id);
    wr_topology_destroy(&t);
    wr_strbuf_release(&why);
    return rc;
}

int wr_bench_spawn_etcd(wr_bench_procs_t *ps, wr_bench_proc_t *p, int client_port, int peer_port,
                        const char *initial_cluster)
{
    char data[PATH_MAX], url[64], peer_url[64], cluster[WR_NODE_MAX + 64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", client_port);
    snprintf(peer_url, sizeof peer_url, "http://127.0.0.1:%d", peer_port);
    snprintf(cluster, sizeof cluster, "%s=%s", p->name, peer_url);
    snprintf(data, sizeof data, "%s/%s.data", ps->dir, p->name);
    char *argv[] = {WR_BENCH_ETCD_BIN,
                    "--name",
                    p->name,
                    "--data-dir",
                    data,
                    "--listen-client-urls",
                    url,
                    "--advertise-client-urls",
                    url,
                    "--listen-peer-urls",
                    peer_url,
                    "--initial-advertise-peer-urls",
                    peer_url,
                    "--initial-cluster",
                    initial_cluster ? (char *)initial_cluster : cluster, /* execve writes none */
                    "--logger",
                    "zap",
                    "--log-outputs",
                    "stderr",
                    NULL};
    p->port = client_port;
    return wr_bench_spawn(ps, p, WR_BENCH_ETCD_BIN, argv);
}

int wr_bench_start_etcd(wr_bench_procs_t *ps, wr_bench_proc_t *p, char url[64])
{
    int client = wr_bench_free_port(), peer = wr_bench_free_port();
    while (peer == client && client > 0)
        peer = wr_bench_free_port();
    if (client < 0 || peer < 0) {
        wr_cli_error(ps->cmd, NULL, "no free port on 127.0.0.1: %s", strerror(errno));
        return WR_EIO;
    }
    snprintf(url, 64, "http://127.0.0.1:%d", client);
    int rc = wr_bench_spawn_etcd(ps, p, client, peer, NULL);
    if (!rc) rc = wr_bench_wait_log(ps, p, "serving client traffic", S_START_MS);
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(ps->cmd, NULL, "etcd did not start on %s (%s): %s", url, p->log,
                     wr_strerror(rc));
    return rc;
}
