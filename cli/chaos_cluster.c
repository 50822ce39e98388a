#include "cli/chaos_cluster.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "bus/base/error.h"
#include "bus/keys.h"
#include "cli/cli.h"

#define S_N        (WR_CHAOS_ETCDS + WR_CHAOS_JMS + WR_CHAOS_TMS)
#define S_START_MS 30000
#define S_MAX_SETS 32
#define S_MAX_ARGV (24 + 2 * (S_MAX_SETS + 16))

const char *const wr_chaos_node_kind_name[3] = {"etcd", "jm", "tm"};

typedef struct {
    wr_bench_proc_t p;
    wr_chaos_node_kind_t kind;
    bool paused;
    int peer_port;     /* etcd: its peer port */
    int route_port;    /* the proxy's port to it */
    char source[16];   /* bus.source-address (daemons) */
    char endpoint[64]; /* its real endpoint (daemons) or client URL (etcd) */
    uint64_t peak;     /* the highest VmHWM sampled */
} s_member_t;

struct wr_chaos_cluster {
    wr_bench_procs_t *ps;
    wr_chaos_cluster_opts_t o;
    wr_chaos_proxy_t *proxy;
    s_member_t m[S_N];
    char etcd_urls[256];          /* the proxy's routes to the members, for --etcd */
    char initial_cluster[256];    /* etcd's --initial-cluster */
    char sets[16][PATH_MAX + 64]; /* our settings of every daemon */
    int nsets, nsets_all;         /* every daemon's first, then only the JobManagers' */
};

static void s_set(wr_chaos_cluster_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void s_set(wr_chaos_cluster_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->sets[c->nsets++], sizeof c->sets[0], fmt, ap);
    va_end(ap);
}

static int s_start_daemon(wr_chaos_cluster_t *c, s_member_t *m)
{
    char bind[64], src[48], adv[96];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", m->p.port);
    snprintf(src, sizeof src, "bus.source-address=%s", m->source);
    snprintf(adv, sizeof adv, "bus.advertised-endpoint=tcp://127.0.0.1:%d", m->route_port);
    bool jm = m->kind == WR_CHAOS_NODE_JM;
    char *argv[S_MAX_ARGV] = {c->ps->exe, jm ? "jobmanager" : "taskmanager",
                              "--id",     m->p.name,
                              "--bind",   bind,
                              "--etcd",   c->etcd_urls,
                              "--set",    src,
                              "--set",    adv};
    int n = 12;
    if (!jm) {
        argv[n++] = "--slots";
        argv[n++] = "2";
    }
    for (int k = 0; k < (jm ? c->nsets : c->nsets_all); k++) {
        argv[n++] = "--set";
        argv[n++] = c->sets[k];
    }
    return wr_bench_spawn_weir(c->ps, &m->p, argv, n, c->o.sets, c->o.nsets);
}

int wr_chaos_cluster_start(wr_chaos_cluster_t *c, size_t i)
{
    s_member_t *m = &c->m[i];
    if (wr_bench_alive(&m->p)) return 0;
    m->paused = false;
    if (m->kind == WR_CHAOS_NODE_ETCD)
        return wr_bench_spawn_etcd(c->ps, &m->p, m->p.port, m->peer_port, c->initial_cluster);
    return s_start_daemon(c, m);
}

/* Free ports and the proxy's routes for every member; the names and addresses. */
static int s_plan(wr_chaos_cluster_t *c)
{
    static const char *const names[S_N] = {"etcd-1", "etcd-2", "etcd-3", "jm-a",
                                           "jm-b",   "tm-1",   "tm-2",   "tm-3"};
    size_t used = 0, cl = 0;
    for (size_t i = 0; i < S_N; i++) {
        s_member_t *m = &c->m[i];
        snprintf(m->p.name, sizeof m->p.name, "%s", names[i]);
        m->kind = i < WR_CHAOS_ETCDS                  ? WR_CHAOS_NODE_ETCD
                  : i < WR_CHAOS_ETCDS + WR_CHAOS_JMS ? WR_CHAOS_NODE_JM
                                                      : WR_CHAOS_NODE_TM;
        int host = m->kind == WR_CHAOS_NODE_JM ? 11 + (int)(i - WR_CHAOS_ETCDS)
                                               : 21 + (int)(i - WR_CHAOS_ETCDS - WR_CHAOS_JMS);
        /* free ports, none twice (each is released before the next is asked for) */
        for (int tries = 0; tries < 100; tries++) {
            m->p.port = wr_bench_free_port();
            m->peer_port = m->kind == WR_CHAOS_NODE_ETCD ? wr_bench_free_port() : 0;
            bool dup = m->p.port < 0 || m->peer_port < 0 || m->p.port == m->peer_port;
            for (size_t k = 0; k < i && !dup; k++)
                dup = c->m[k].p.port == m->p.port || c->m[k].peer_port == m->p.port ||
                      (m->peer_port &&
                       (c->m[k].p.port == m->peer_port || c->m[k].peer_port == m->peer_port));
            if (!dup) break;
            m->p.port = -1;
        }
        if (m->p.port < 0) {
            wr_cli_error(c->ps->cmd, NULL, "no free port on 127.0.0.1: %s", strerror(errno));
            return WR_EIO;
        }
        int rc;
        if (m->kind == WR_CHAOS_NODE_ETCD) {
            snprintf(m->endpoint, sizeof m->endpoint, "http://127.0.0.1:%d", m->p.port);
            cl += (size_t)snprintf(c->initial_cluster + cl, sizeof c->initial_cluster - cl,
                                   "%s%s=http://127.0.0.1:%d", cl ? "," : "", m->p.name,
                                   m->peer_port);
        } else {
            snprintf(m->endpoint, sizeof m->endpoint, "tcp://127.0.0.1:%d", m->p.port);
            snprintf(m->source, sizeof m->source, "127.0.0.%d", host);
            if ((rc = wr_chaos_proxy_node(c->proxy, m->p.name, m->source))) {
                wr_cli_error(c->ps->cmd, NULL, "the proxy does not take %s at %s: %s", m->p.name,
                             m->source, wr_strerror(rc));
                return rc;
            }
        }
        if ((rc = wr_chaos_proxy_route(c->proxy, m->p.name, "127.0.0.1", m->p.port, 0,
                                       &m->route_port))) {
            wr_cli_error(c->ps->cmd, NULL, "the proxy cannot route to %s: %s", m->p.name,
                         wr_strerror(rc));
            return rc;
        }
        if (m->kind == WR_CHAOS_NODE_ETCD)
            used += (size_t)snprintf(c->etcd_urls + used, sizeof c->etcd_urls - used,
                                     "%shttp://127.0.0.1:%d", used ? "," : "", m->route_port);
    }
    return 0;
}

/* Waits until member i's log says needle; the failure said on stderr. */
static int s_wait(wr_chaos_cluster_t *c, size_t i, const char *needle)
{
    int rc = wr_bench_wait_log(c->ps, &c->m[i].p, needle, S_START_MS);
    if (rc && rc != WR_BENCH_STOPPED)
        wr_cli_error(c->ps->cmd, NULL, "%s did not start (\"%s\" not in %s): %s", c->m[i].p.name,
                     needle, c->m[i].p.log, wr_strerror(rc));
    return rc;
}

static int s_keys(wr_chaos_cluster_t *c)
{
    const char *names[WR_CHAOS_JMS + WR_CHAOS_TMS];
    wr_role_t roles[WR_CHAOS_JMS + WR_CHAOS_TMS];
    size_t n = 0;
    for (size_t i = WR_CHAOS_ETCDS; i < S_N; i++, n++) {
        names[n] = c->m[i].p.name;
        roles[n] = c->m[i].kind == WR_CHAOS_NODE_JM ? WR_ROLE_JOBMANAGER : WR_ROLE_TASKMANAGER;
    }
    return wr_bench_keys(c->ps, names, roles, n, "chaos", true);
}

/* The soft limit of open files raised to the hard one: the proxy holds two descriptors per
 * connection, and a cut stalls every connection dialed through it until the heal (ZeroMQ dials
 * again each time its heartbeats give one up). */
static void s_raise_nofile(void)
{
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* the default stays: a limit, not a failure */
    }
}

int wr_chaos_cluster_new(wr_bench_procs_t *ps, const wr_chaos_cluster_opts_t *o,
                         wr_chaos_cluster_t **out)
{
    *out = NULL;
    wr_chaos_cluster_t *c = calloc(1, sizeof *c);
    if (!c) {
        wr_cli_error(ps->cmd, NULL, "out of memory");
        return WR_ENOMEM;
    }
    c->ps = ps;
    c->o = *o;
    s_raise_nofile();
    int rc = wr_chaos_proxy_new(&c->proxy);
    if (rc) wr_cli_error(ps->cmd, NULL, "cannot start the proxy: %s", wr_strerror(rc));
    if (!rc) rc = s_plan(c);
    if (!rc) rc = s_keys(c);
    s_set(c, "heartbeat.timeout=%lldms", (long long)o->heartbeat_ms);
    c->nsets_all = c->nsets; /* the rest only a JobManager reads */
    s_set(c, "state.checkpoints.dir=%s/ck", ps->dir);
    s_set(c, "security.paths.sinks=%s", ps->dir);
    s_set(c, "state.backend=%s", o->backend);
    s_set(c, "state.backend.rocksdb.localdir=%s/rocksdb", ps->dir);
    s_set(c, "execution.checkpointing.interval=%lldms", (long long)o->checkpoint_ms);
    s_set(c, "restart-strategy=fixed-delay");
    s_set(c, "restart-strategy.fixed-delay.delay=%lldms", (long long)o->restart_ms);
    /* etcd's members must all start before any of them serves */
    for (size_t i = 0; i < WR_CHAOS_ETCDS && !rc; i++)
        if ((rc = wr_chaos_cluster_start(c, i)))
            wr_cli_error(ps->cmd, NULL, "cannot start %s: %s", WR_BENCH_ETCD_BIN, wr_strerror(rc));
    for (size_t i = 0; i < WR_CHAOS_ETCDS && !rc; i++)
        rc = s_wait(c, i, "serving client traffic");
    /* jm-a first, so that it leads; then the standby and the TaskManagers */
    size_t failed = 0;
    for (size_t i = WR_CHAOS_ETCDS; i < S_N && !rc; i++) {
        bool jm = c->m[i].kind == WR_CHAOS_NODE_JM;
        failed = i;
        if (!(rc = wr_chaos_cluster_start(c, i)))
            rc = s_wait(c, i,
                        !jm                   ? "registered with"
                        : i == WR_CHAOS_ETCDS ? "leading the cluster"
                                              : "candidate for the leadership");
    }
    if (rc) {
        if (rc != WR_BENCH_STOPPED && failed) { /* the one that did not start first */
            const wr_bench_proc_t *one[] = {&c->m[failed].p};
            wr_bench_dump_logs(one, 1);
        }
        if (rc != WR_BENCH_STOPPED) wr_chaos_cluster_dump_logs(c);
        wr_chaos_cluster_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

void wr_chaos_cluster_destroy(wr_chaos_cluster_t **p)
{
    wr_chaos_cluster_t *c = *p;
    if (!c) return;
    for (size_t i = S_N; i-- > 0;)
        wr_bench_kill(&c->m[i].p);
    wr_chaos_proxy_destroy(&c->proxy);
    free(c);
    *p = NULL;
}

size_t wr_chaos_cluster_size(const wr_chaos_cluster_t *c)
{
    (void)c;
    return S_N;
}

const char *wr_chaos_cluster_name(const wr_chaos_cluster_t *c, size_t i)
{
    return c->m[i].p.name;
}

wr_chaos_node_kind_t wr_chaos_cluster_kind(const wr_chaos_cluster_t *c, size_t i)
{
    return c->m[i].kind;
}

wr_chaos_node_state_t wr_chaos_cluster_state(wr_chaos_cluster_t *c, size_t i)
{
    if (!wr_bench_alive(&c->m[i].p)) return WR_CHAOS_DOWN;
    return c->m[i].paused ? WR_CHAOS_PAUSED : WR_CHAOS_UP;
}

int wr_chaos_cluster_find(const wr_chaos_cluster_t *c, const char *name)
{
    for (size_t i = 0; i < S_N; i++)
        if (!strcmp(c->m[i].p.name, name)) return (int)i;
    return -1;
}

const char *wr_chaos_cluster_endpoint(const wr_chaos_cluster_t *c, size_t i)
{
    return c->m[i].endpoint;
}

wr_chaos_proxy_t *wr_chaos_cluster_proxy(wr_chaos_cluster_t *c)
{
    return c->proxy;
}

static void s_sample(s_member_t *m)
{
    uint64_t peak = wr_bench_peak_rss(&m->p);
    if (peak > m->peak) m->peak = peak;
}

void wr_chaos_cluster_kill(wr_chaos_cluster_t *c, size_t i)
{
    s_member_t *m = &c->m[i];
    s_sample(m);
    wr_bench_kill(&m->p); /* SIGKILL ends a stopped process too */
    m->paused = false;
}

void wr_chaos_cluster_pause(wr_chaos_cluster_t *c, size_t i, bool pause)
{
    s_member_t *m = &c->m[i];
    if (!wr_bench_alive(&m->p)) return;
    kill(m->p.pid, pause ? SIGSTOP : SIGCONT);
    m->paused = pause;
}

int wr_chaos_cluster_heal(wr_chaos_cluster_t *c)
{
    wr_chaos_proxy_heal_all(c->proxy);
    int rc = 0;
    for (size_t i = 0; i < S_N; i++) {
        if (c->m[i].paused) wr_chaos_cluster_pause(c, i, false);
        int r = wr_chaos_cluster_start(c, i);
        if (r && !rc) rc = r;
    }
    return rc;
}

void wr_chaos_cluster_peaks(wr_chaos_cluster_t *c, wr_chaos_result_t *r)
{
    r->nprocs = 0;
    for (size_t i = 0; i < S_N && r->nprocs < WR_CHAOS_MAX_PROCS; i++) {
        s_sample(&c->m[i]);
        snprintf(r->procs[r->nprocs].name, sizeof r->procs[0].name, "%s", c->m[i].p.name);
        r->procs[r->nprocs].peak_rss = c->m[i].peak;
        r->procs[r->nprocs].starts = c->m[i].p.starts;
        r->nprocs++;
    }
}

void wr_chaos_cluster_dump_logs(const wr_chaos_cluster_t *c)
{
    const wr_bench_proc_t *all[S_N];
    for (size_t i = 0; i < S_N; i++)
        all[i] = &c->m[i].p;
    wr_bench_dump_logs(all, S_N);
}
