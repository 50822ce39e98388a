/* A real etcd for the tests (etcd.h). */
#include "tests/support/etcd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/strbuf.h"

#define S_START_MS 30000 /* a member serves clients */

te_fixture_t te_fx;

int te_setup(void **state)
{
    te_fx.c = NULL;
    wr_strbuf_init(&te_fx.err);
    return ps_setup(state);
}

wr_etcd_t *te_client(const char *endpoints)
{
    wr_etcd_opts_t o = {.request_timeout_ms = 5000};
    if (!endpoints) endpoints = te_start("etcd")->endpoint;
    te_fx.c = wr_etcd_new(endpoints, &o, &te_fx.err);
    if (!te_fx.c) fail_msg("wr_etcd_new: %s", te_fx.err.buf);
    return te_fx.c;
}

int te_teardown(void **state)
{
    wr_etcd_destroy(&te_fx.c);
    wr_strbuf_release(&te_fx.err);
    return ps_teardown(state);
}

bool te_available(void)
{
    return access(TE_ETCD_BIN, X_OK) == 0;
}

int te_group_setup(const char *name)
{
    if (ps_group_setup(name, false)) return -1;
    if (te_available()) return 0;
    fprintf(stderr, "%s: %s is missing (Debian's etcd-server; deploy/install-deps.sh)\n", name,
            TE_ETCD_BIN);
    return -1;
}

/* A client and a peer port, free a moment ago, not one of the n taken. */
static int s_port(const int *taken, size_t n)
{
    for (;;) {
        int port = ps_free_port();
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used |= taken[i] == port;
        if (!used) return port;
    }
}

static void s_urls(te_etcd_t *e)
{
    snprintf(e->endpoint, sizeof e->endpoint, "http://127.0.0.1:%d", e->client_port);
    snprintf(e->peer_url, sizeof e->peer_url, "http://127.0.0.1:%d", e->peer_port);
}

/* Starts member e (its ports and name set) of the cluster initial ("name=peer-url,..."), its
 * process logging into NAME.<starts>, its data in NAME.data (where a restarted member finds it:
 * etcd then ignores initial). Does not wait. */
static void s_member_start(te_etcd_t *e, const char *initial, const char *token)
{
    e->proc = ps_start_program(
        ps_fmt("%s.%d", e->name, ++e->starts), TE_ETCD_BIN,
        PS_ARGV("--name", e->name, "--data-dir", ps_path(ps_fmt("%s.data", e->name)),
                "--listen-client-urls", e->endpoint, "--advertise-client-urls", e->endpoint,
                "--listen-peer-urls", e->peer_url, "--initial-advertise-peer-urls", e->peer_url,
                "--initial-cluster", initial, "--initial-cluster-token", token, "--logger", "zap",
                "--log-outputs", "stderr"),
        NULL);
}

static void s_member_wait(const te_etcd_t *e)
{
    if (ps_wait_text(e->proc, e->proc->err, "serving client traffic", 1, S_START_MS) < 0)
        PS_FAIL("etcd %s did not start on %s", e->name, e->endpoint);
}

te_etcd_t *te_start(const char *name)
{
    te_etcd_t *e = ps_alloc(sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->client_port = ps_free_port();
    e->peer_port = s_port(&e->client_port, 1);
    s_urls(e);
    s_member_start(e, ps_fmt("%s=%s", name, e->peer_url), name);
    s_member_wait(e);
    return e;
}

te_cluster_t *te_cluster_start(const char *name)
{
    te_cluster_t *c = ps_alloc(sizeof *c);
    int taken[2 * TE_MEMBERS];
    size_t n = 0;
    wr_strbuf_t initial, endpoints;
    wr_strbuf_init(&initial);
    wr_strbuf_init(&endpoints);
    for (int i = 0; i < TE_MEMBERS; i++) {
        te_etcd_t *e = &c->member[i];
        snprintf(e->name, sizeof e->name, "%s%d", name, i + 1);
        e->client_port = s_port(taken, n);
        taken[n++] = e->client_port;
        e->peer_port = s_port(taken, n);
        taken[n++] = e->peer_port;
        s_urls(e);
        wr_strbuf_addf(&initial, "%s%s=%s", i ? "," : "", e->name, e->peer_url);
        wr_strbuf_addf(&endpoints, "%s%s", i ? "," : "", e->endpoint);
    }
    c->initial = ps_keep(wr_strbuf_detach(&initial, NULL));
    c->endpoints = ps_keep(wr_strbuf_detach(&endpoints, NULL));
    c->token = ps_fmt("%s-%d", name, c->member[0].client_port);
    te_cluster_restart(c);
    return c;
}

int te_cluster_leader(const te_cluster_t *c)
{
    int leader = -1;
    long long term = -1;
    for (int i = 0; i < TE_MEMBERS; i++) {
        const te_etcd_t *e = &c->member[i];
        if (!e->proc) continue;
        const char *log = ps_read_file(e->proc->err), *at = NULL;
        for (const char *p = log; (p = ps_find(p, "became leader at term ")); p++)
            at = p;
        long long t = at ? strtoll(at + strlen("became leader at term "), NULL, 10) : -1;
        if (at && t > term) {
            term = t;
            leader = i;
        }
    }
    return leader;
}

void te_member_kill9(te_cluster_t *c, int i)
{
    te_etcd_t *e = &c->member[i];
    if (!e->proc) return;
    ps_kill9(e->proc);
    ps_release(e->proc);
    e->proc = NULL;
}

void te_cluster_kill9(te_cluster_t *c)
{
    for (int i = 0; i < TE_MEMBERS; i++)
        te_member_kill9(c, i);
}

void te_cluster_restart(te_cluster_t *c)
{
    for (int i = 0; i < TE_MEMBERS; i++)
        if (!c->member[i].proc) s_member_start(&c->member[i], c->initial, c->token);
    for (int i = 0; i < TE_MEMBERS; i++)
        s_member_wait(&c->member[i]);
}
