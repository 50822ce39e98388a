#include "tests/support/proc_cluster.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "bus/envelope.h"
#include "cli/chaos_proxy.h"

const char *const pc_tm_ids[PC_MAX_TMS] = {"tm-a", "tm-b"};

static int s_ntms(const pc_cluster_t *c)
{
    return c->ntms > 0 && c->ntms < PC_MAX_TMS ? c->ntms : PC_MAX_TMS;
}

/* A daemon's metrics, and a JobManager's REST API, on ports the kernel picks, not the defaults
 * 9249 and 8081: the daemons of one test, and of the tests beside it, would all want those, and
 * every one but the first would warn it cannot have them. A test's own --set (later) wins. */
#define S_ANY_METRICS_PORT "--set", "metrics.prometheus.port=0"
#define S_ANY_PORTS        "--set", "rest.port=0", S_ANY_METRICS_PORT

/* argv: args, then each list of more (NULL lists passed over); kept until the test ends. */
static const char *const *s_argv(const char *const args[], const char *const *more1,
                                 const char *const *more2)
{
    const char **argv = ps_alloc((PS_MAX_ARGS + 1) * sizeof *argv);
    size_t n = ps_append(argv, 0, args);
    if (more1) n = ps_append(argv, n, more1);
    if (more2) ps_append(argv, n, more2);
    return argv;
}

ps_proc_t *pc_jm_start_at(const char *name, char *endpoint, int *port, int *starts,
                          const char *const *more1, const char *const *more2)
{
    for (int attempt = 0;; attempt++) {
        bool fresh = !endpoint[0];
        if (fresh) {
            *port = ps_free_port();
            snprintf(endpoint, 64, "tcp://127.0.0.1:%d", *port);
        }
        /* files of the tests live under the run's folder (and sources in the repository's
         * examples): the JobManager confines paths to them (security.paths.*; more1 and more2
         * may narrow them); REST and metrics on ports the kernel picks (S_ANY_PORTS) */
        const char *const *argv = s_argv(
            PS_ARGV("jobmanager", "--bind", endpoint, S_ANY_PORTS, "--set",
                    ps_fmt("security.paths.sources=%s,%s", ps_h.root, ps_h.src ? ps_h.src : ""),
                    "--set", ps_fmt("security.paths.sinks=%s", ps_h.root), "--set",
                    ps_fmt("security.paths.savepoints=%s", ps_h.root)),
            more1, more2);
        ps_proc_t *jm = ps_start(ps_fmt("%s.%d", name, ++*starts), argv, ps_h.daemon_env);
        if (ps_wait_text(jm, jm->out, "listening on", 1, PC_START_MS) >= 0) return jm;
        if (fresh && attempt < 3 && !ps_running(jm)) { /* the port was taken in between */
            ps_release(jm);
            endpoint[0] = '\0';
            continue;
        }
        PS_FAIL("the JobManager %s did not start on %s", name, endpoint);
    }
}

void pc_jm_start(pc_cluster_t *c)
{
    c->jm = pc_jm_start_at("jm", c->endpoint, &c->port, &c->jm_starts, c->settings, c->jm_settings);
}

/* How TaskManagers and the CLI reach c's JobManager. */
static const char *const *s_target(const pc_cluster_t *c)
{
    return c->jm_target ? c->jm_target : s_argv(PS_ARGV("--jobmanager", c->endpoint), NULL, NULL);
}

/* TaskManager i's flags behind c's proxy: its source address, named in the proxy (once), and a
 * route to its port as its advertised endpoint. */
static const char *const *s_proxied(pc_cluster_t *c, int i)
{
    const char *source = ps_fmt("127.0.0.%d", 20 + i);
    int port = 0, rc = wr_chaos_proxy_node(c->proxy, pc_tm_ids[i], source);
    if (rc == WR_EEXIST) rc = 0; /* named at its first start */
    if (!rc)
        rc = wr_chaos_proxy_route(c->proxy, pc_tm_ids[i], "127.0.0.1", c->tm_port[i], 0, &port);
    if (rc) PS_FAIL("no proxy route to %s: %s", pc_tm_ids[i], wr_strerror(rc));
    return s_argv(PS_ARGV("--set", ps_fmt("bus.source-address=%s", source), "--set",
                          ps_fmt("bus.advertised-endpoint=tcp://127.0.0.1:%d", port)),
                  NULL, NULL);
}

void pc_tm_start(pc_cluster_t *c, int i)
{
    const char *id = pc_tm_ids[i];
    for (int attempt = 0;; attempt++) {
        /* A port of its own (ps_free_port), not czmq's first free one from 49152 that `*` binds:
         * that is the port of the TaskManager killed last, in this test's cluster or in the one
         * of the test running beside it, whose JobManager and TaskManagers still reconnect to it
         * and would find a stranger under the same id. A restart binds the same port again, as
         * a TaskManager with a fixed taskmanager.bind does (another when it was taken). */
        if (!c->tm_port[i] || attempt > 0) c->tm_port[i] = ps_free_port();
        const char *bind = ps_fmt("tcp://127.0.0.1:%d", c->tm_port[i]);
        const char *const *argv =
            s_argv(PS_ARGV("taskmanager", "--id", id, "--bind", bind, S_ANY_METRICS_PORT),
                   s_target(c), c->tm_settings ? c->tm_settings : c->settings);
        if (c->proxy) argv = s_argv(argv, s_proxied(c, i), NULL);
        c->tm[i] = ps_start(ps_fmt("%s.%d", id, ++c->tm_starts[i]), argv, ps_h.daemon_env);
        if (ps_wait_text(c->tm[i], c->tm[i]->out, "weir taskmanager", 1, PC_START_MS) >= 0) return;
        if (attempt < 3 && !ps_running(c->tm[i]) &&
            strstr(ps_read_file(c->tm[i]->err), "Address already in use")) {
            ps_release(c->tm[i]); /* the port was taken in between: the start does not count */
            c->tm_starts[i]--;
            continue;
        }
        PS_FAIL("TaskManager %s did not start", id);
    }
}

void pc_wait_joined(pc_cluster_t *c, int i, size_t nth)
{
    const char *id = pc_tm_ids[i];
    if (ps_wait_text(c->jm, c->jm->err, ps_fmt("taskmanager %s registered", id), nth, PC_START_MS) <
        0)
        PS_FAIL("TaskManager %s did not register with the JobManager", id);
    if (ps_wait_text(c->jm, c->jm->err, ps_fmt("peer %s up", id), 1, PC_START_MS) < 0)
        PS_FAIL("the JobManager heard no heartbeat from %s", id);
}

void pc_curve_client(void *sock, const char *dir, const char *me, const char *server)
{
    if (!dir) dir = ps_h.keys;
    zcert_t *mine = zcert_load(ps_fmt("%s/secret/%s", dir, me));
    zcert_t *theirs = zcert_load(ps_fmt("%s/public/%s", dir, server));
    if (!mine || !theirs) {
        zcert_destroy(&mine);
        zcert_destroy(&theirs);
        PS_FAIL("no key of '%s' or '%s' in %s", me, server, dir);
    }
    zsock_set_curve_serverkey(sock, zcert_public_txt(theirs));
    zcert_apply(mine, sock);
    zcert_destroy(&mine);
    zcert_destroy(&theirs);
}

void pc_cluster_start(pc_cluster_t *c)
{
    pc_jm_start(c);
    for (int i = 0; i < s_ntms(c); i++)
        pc_tm_start(c, i);
    for (int i = 0; i < s_ntms(c); i++)
        pc_wait_joined(c, i, 1);
}

void pc_cluster_stop(pc_cluster_t *c)
{
    ps_proc_t *all[PC_MAX_TMS + 1];
    size_t n = 0;
    for (int i = 0; i < PC_MAX_TMS; i++)
        all[n++] = c->tm[i];
    all[n++] = c->jm;
    pc_stop_daemons(all, n);
}

void pc_stop_daemons(ps_proc_t *const all[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (all[i] && all[i]->used && ps_running(all[i])) {
            kill(all[i]->pid, SIGCONT);
            kill(all[i]->pid, SIGTERM);
        }
    for (size_t i = 0; i < n; i++) {
        ps_proc_t *p = all[i];
        if (!p || !p->used) continue;
        if (!ps_wait_exit(p, PC_STOP_MS)) {
            ps_kill9(p);
            PS_FAIL("%s (pid %d) did not exit within %d ms of SIGTERM", p->name, (int)p->pid,
                    PC_STOP_MS);
        }
        if (ps_exit_code(p) != 0 || ps_sanitizer_report(ps_read_file(p->err)))
            PS_FAIL("%s exited %d after SIGTERM", p->name, ps_exit_code(p));
    }
}

ps_result_t pc_cli(const pc_cluster_t *c, const char *const args[])
{
    return pc_cli_timeout(c, args, "2s");
}

ps_result_t pc_cli_timeout(const pc_cluster_t *c, const char *const args[], const char *timeout)
{
    return ps_run("cli",
                  s_argv(args, s_target(c), PS_ARGV("--set", ps_fmt("client.timeout=%s", timeout))),
                  PC_CLI_MS);
}

ps_result_t pc_call(const pc_cluster_t *c, const char *const args[])
{
    return ps_call("call", s_argv(args, s_target(c), PS_ARGV("--set", "client.timeout=2s")));
}

/* ---- `weir actors --json`, run in this process (pc_call) ---- */

const tj_value_t *pc_actors(const pc_cluster_t *c)
{
    ps_result_t r = pc_call(c, PS_ARGV("actors", "--json"));
    if (r.code != 0) PS_FAIL("weir actors --json exited %d:\n%s", r.code, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_ARR)
        PS_FAIL("weir actors --json printed no JSON array:\n%s", r.out);
    return doc;
}

const tj_value_t *pc_node_row(const tj_value_t *doc, const char *node, size_t *rows)
{
    const tj_value_t *first = NULL;
    size_t n = 0;
    for (size_t i = 0; i < doc->n; i++) {
        const char *name = tj_str(doc->items[i], "node");
        if (!name || strcmp(name, node)) continue;
        if (!first) first = doc->items[i];
        n++;
    }
    if (rows) *rows = n;
    return first;
}

const char *pc_status(const tj_value_t *doc, const char *node)
{
    return tj_str(pc_node_row(doc, node, NULL), "status");
}

const char *pc_actor_list(const tj_value_t *row)
{
    const tj_value_t *actors = tj_get(row, "actors");
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (size_t i = 0; actors && actors->type == TJ_ARR && i < actors->n; i++) {
        const char *addr = tj_str(actors->items[i], "addr");
        wr_strbuf_addf(&sb, "%s%s", i ? " " : "", addr ? addr : "?");
    }
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

/* True when every "node=status" in want holds. */
static bool s_statuses_are(const tj_value_t *doc, const char *const want[])
{
    for (size_t i = 0; want[i]; i++) {
        const char *eq = strchr(want[i], '=');
        char node[WR_NODE_MAX];
        snprintf(node, sizeof node, "%.*s", (int)(eq - want[i]), want[i]);
        const char *status = pc_status(doc, node);
        if (!status || strcmp(status, eq + 1)) return false;
    }
    return true;
}

const tj_value_t *pc_wait_statuses(pc_cluster_t *c, const char *const want[], int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    for (;;) {
        if (!ps_running(c->jm)) PS_FAIL("the JobManager exited (%d)", ps_exit_code(c->jm));
        ps_result_t r = pc_call(c, PS_ARGV("actors", "--json"));
        const tj_value_t *doc = r.code == 0 ? tj_parse(r.out) : NULL;
        if (doc && doc->type == TJ_ARR && s_statuses_are(doc, want)) return doc;
        if (ps_now_ms() - t0 > timeout_ms) {
            wr_strbuf_t sb;
            wr_strbuf_init(&sb);
            for (size_t i = 0; want[i]; i++)
                wr_strbuf_addf(&sb, " %s", want[i]);
            const char *wanted = ps_keep(wr_strbuf_detach(&sb, NULL));
            PS_FAIL("after %d ms `weir actors` does not show%s; it said (exit %d):\n%s%s",
                    timeout_ms, wanted, r.code, r.out, r.err);
        }
        ps_poll_pause(50);
    }
}
