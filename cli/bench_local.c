/* The benchmarks' local cluster (bench_local.h). */
#include "cli/bench_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/jobmanager/jobmanager.h"
#include "actors/taskmanager/taskmanager.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "cli/cli.h"

#define S_TIMEOUT_MS 10000 /* a request's answer */

struct wr_bench_local {
    const char *cmd;
    wr_config_t *cfg; /* the defaults; the nodes borrow its strings */
    uint32_t n;       /* nodes: the JobManager, then the TaskManagers */
    wr_node_t *nodes[WR_BENCH_LOCAL_MAX_TMS + 1];
};

wr_bench_local_t *wr_bench_local_start(const char *cmd, const wr_bench_local_opts_t *o)
{
    if (o->tms < 1 || o->tms > WR_BENCH_LOCAL_MAX_TMS) {
        wr_cli_error(cmd, NULL, "%u TaskManagers: 1 to %d", o->tms, WR_BENCH_LOCAL_MAX_TMS);
        return NULL;
    }
    wr_bench_local_t *l = calloc(1, sizeof *l);
    int rc = WR_ENOMEM, code;
    wr_cli_cfg_t cc = {0};
    if (!l || !(l->cfg = wr_cli_cfg_build(&cc, cmd, &code))) goto fail;
    l->cmd = cmd;
    /* a name of this cluster's own: the previous cluster of this process may not have released
     * its inproc names yet (ZeroMQ frees them as it closes the sockets, in the background) */
    char jm_ep[96], run[48];
    snprintf(run, sizeof run, "%ld-%llx", (long)getpid(), (unsigned long long)wr_now_ns());
    snprintf(jm_ep, sizeof jm_ep, "inproc://weir-bench-%s-jm-1", run);
    /* as `weir local`: configuration's settings (the cluster id the TaskManagers must share
     * too), the user's own files, the caller's checkpoints */
    wr_jobmanager_opts_t jo;
    if ((rc = wr_cli_jm_opts(l->cfg, cmd, &jo))) goto fail;
    jo.savepoints_roots = jo.sources_roots = jo.sinks_roots = NULL;
    jo.interval_ms = o->ckpt_ms;
    jo.checkpoints_dir = o->ckpt_dir;
    wr_taskmanager_opts_t tmo = {
        .cluster_id = jo.cluster_id, .jm_node_id = "jm-1", .jm_endpoint = jm_ep, .slots = o->slots};
    for (uint32_t i = 0; i <= o->tms; i++) {
        char id[WR_NODE_MAX], ep[128];
        if (i)
            snprintf(id, sizeof id, "tm-%u", i);
        else
            snprintf(id, sizeof id, "jm-1");
        snprintf(ep, sizeof ep, "inproc://weir-bench-%s-%s", run, id);
        wr_node_opts_t no = wr_cli_node_opts(l->cfg, id, ep);
        if (!no.threads) no.threads = 1; /* as `weir local`: one worker per node */
        rc = 0;
        l->nodes[i] = wr_node_new(&no, &rc);
        if (!l->nodes[i]) {
            if (!rc) rc = WR_ENOMEM;
            goto fail;
        }
        l->n = i + 1;
        rc = i ? wr_taskmanager_spawn(l->nodes[i], &tmo) : wr_jobmanager_spawn(l->nodes[i], &jo);
        if (rc) goto fail;
    }
    return l;
fail:
    wr_cli_error(cmd, NULL, "cannot start the local cluster: %s", wr_strerror(rc));
    wr_bench_local_stop(&l);
    return NULL;
}

void wr_bench_local_stop(wr_bench_local_t **lp)
{
    wr_bench_local_t *l = *lp;
    if (!l) return;
    for (uint32_t i = l->n; i-- > 0;) /* the TaskManagers first */
        wr_node_destroy(&l->nodes[i]);
    wr_config_destroy(&l->cfg);
    free(l);
    *lp = NULL;
}

uint32_t wr_bench_local_nodes(const wr_bench_local_t *l)
{
    return l->n;
}

wr_node_t *wr_bench_local_node(wr_bench_local_t *l, uint32_t i)
{
    return i < l->n ? l->nodes[i] : NULL;
}

wr_node_t *wr_bench_local_jm(wr_bench_local_t *l)
{
    return l->nodes[0];
}

void wr_bench_local_jm_addr(wr_bench_local_t *l, char to[WR_ADDR_MAX])
{
    snprintf(to, WR_ADDR_MAX, "%s/%s", wr_node_id(l->nodes[0]), WR_JOBMANAGER_PATH);
}

int wr_bench_local_submit(wr_bench_local_t *l, const wr_topology_t *t, char id[WR_JOB_ID_MAX],
                          int64_t *t0)
{
    char to[WR_ADDR_MAX];
    wr_bench_local_jm_addr(l, to);
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    int rc = WR_ETIMEDOUT;
    for (int attempt = 0; attempt < 100; attempt++) {
        *t0 = wr_now_ns();
        wr_strbuf_reset(&why);
        rc = wr_cli_submit(l->nodes[0], to, S_TIMEOUT_MS, t, NULL, 0, id, &why);
        if (rc != WR_EAGAIN || !strstr(why.buf, "not enough slots")) break;
        usleep(100000);
    }
    if (rc) wr_cli_error(l->cmd, NULL, "%s", why.failed ? wr_strerror(rc) : why.buf);
    wr_strbuf_release(&why);
    return rc;
}

int wr_bench_local_job(wr_bench_local_t *l, const char *id, wr_bench_job_t *j)
{
    char to[WR_ADDR_MAX];
    wr_bench_local_jm_addr(l, to);
    wr_msg_job_reply_t r;
    wr_msg_t *reply = wr_cli_job(l->nodes[0], to, S_TIMEOUT_MS, id, &r);
    if (!reply) return WR_ETIMEDOUT;
    memset(j, 0, sizeof *j);
    snprintf(j->state, sizeof j->state, "%.*s", (int)r.state.len, r.state.s);
    snprintf(j->error, sizeof j->error, "%.*s", (int)r.error.len, r.error.s);
    for (uint32_t v = 0; v < r.operators.n && j->n < WR_PLAN_MAX_VERTICES; v++) {
        const wr_msg_operator_stats_t *o = &r.operators.v[v];
        j->v[j->n++] = (wr_bench_vertex_t){(int64_t)o->records_in,    (int64_t)o->records_out,
                                           (int64_t)o->windows_fired, (int64_t)o->late_dropped,
                                           o->emit_delay_p50_ms,      o->emit_delay_p99_ms,
                                           o->emit_delay_last_p99_ms};
    }
    wr_msg_job_reply_release(&r);
    wr_msg_destroy(&reply);
    return 0;
}

void wr_bench_local_cancel(wr_bench_local_t *l, const char *id)
{
    char to[WR_ADDR_MAX];
    wr_bench_local_jm_addr(l, to);
    wr_msg_job_ref_t req, ack;
    snprintf(req.job, sizeof req.job, "%s", id);
    wr_msg_t *reply = NULL;
    wr_cli_request(l->nodes[0], to, S_TIMEOUT_MS, WR_MSG_JOB_CANCEL, &req, WR_MSG_JOB_CANCELED,
                   &ack, &reply);
    wr_msg_destroy(&reply);
}
