/* A real etcd for the tests (etcd.h). */
#include "tests/support/etcd.h"

#include <stdio.h>
#include <unistd.h>

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

te_etcd_t *te_start(const char *name)
{
    te_etcd_t *e = ps_alloc(sizeof *e);
    e->client_port = ps_free_port();
    int peer = ps_free_port();
    while (peer == e->client_port)
        peer = ps_free_port();
    snprintf(e->endpoint, sizeof e->endpoint, "http://127.0.0.1:%d", e->client_port);
    const char *peer_url = ps_fmt("http://127.0.0.1:%d", peer);
    e->proc = ps_start_program(
        name, TE_ETCD_BIN,
        PS_ARGV("--name", name, "--data-dir", ps_path(ps_fmt("%s.data", name)),
                "--listen-client-urls", e->endpoint, "--advertise-client-urls", e->endpoint,
                "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                "--initial-cluster", ps_fmt("%s=%s", name, peer_url), "--logger", "zap",
                "--log-outputs", "stderr"),
        NULL);
    if (ps_wait_text(e->proc, e->proc->err, "serving client traffic", 1, 30000) < 0)
        PS_FAIL("etcd %s did not start on %s", name, e->endpoint);
    return e;
}
