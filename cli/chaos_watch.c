#include "cli/chaos_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jobmanager.h"
#include "bus/base/error.h"
#include "bus/messages.h"
#include "bus/proto.h"
#include "cli/cli.h"

#define S_ASK_MS     1000 /* one request to a running JobManager */
#define S_MIN_ASK_MS 50   /* when the caller has less time */
#define S_SAMPLE_MS  1000
#define S_MAX_CKPTS  (1u << 20)

struct wr_chaos_watch {
    wr_bench_procs_t *ps;
    wr_chaos_cluster_t *c;
    wr_node_t *client;
    char job[WR_JOB_ID_MAX];
    int64_t t0;
    int jms[WR_CHAOS_JMS]; /* member indices of the JobManagers */
    wr_chaos_view_t v;
    /* throughput */
    uint64_t last_out; /* records_out of the last answer, in attempt last_attempt */
    uint32_t last_attempt;
    bool have_out;
    uint64_t since_sample; /* records made since the last sample */
    int64_t sample_at;     /* ms after t0 of the last sample */
    wr_chaos_sample_t *samples;
    size_t nsamples, cap;
    /* checkpoints: status by id (0 unknown, 1 completed, 2 failed) */
    uint8_t *ckpt;
    size_t nckpt;
    int64_t ckpt_at;
    wr_chaos_follow_t fl;
};

int wr_chaos_watch_new(wr_bench_procs_t *ps, wr_chaos_cluster_t *c, int64_t t0_ms,
                       wr_chaos_watch_t **out)
{
    *out = NULL;
    wr_chaos_watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        wr_cli_error(ps->cmd, NULL, "out of memory");
        return WR_ENOMEM;
    }
    *w = (wr_chaos_watch_t){.ps = ps, .c = c, .t0 = t0_ms, .sample_at = -1, .ckpt_at = -1};
    w->v = (wr_chaos_view_t){.leader = -1, .first_running = -1};
    snprintf(w->v.state, sizeof w->v.state, "?");
    size_t k = 0;
    for (size_t i = 0; i < wr_chaos_cluster_size(c); i++)
        if (wr_chaos_cluster_kind(c, i) == WR_CHAOS_NODE_JM && k < WR_CHAOS_JMS)
            w->jms[k++] = (int)i;
    /* as the CLI's client node: not tracked by the cluster */
    wr_node_opts_t no = {.id = "chaos.watch",
                         .threads = 1,
                         .heartbeat_timeout_ms = 5000,
                         .keys_dir = ps->curve ? ps->keys : NULL,
                         .cert = "chaos"};
    int rc = 0;
    if (!(w->client = wr_node_new(&no, &rc)) && !rc) rc = WR_ENOMEM;
    for (size_t i = 0; i < k && !rc; i++)
        rc = wr_node_connect(w->client, wr_chaos_cluster_name(c, (size_t)w->jms[i]),
                             wr_chaos_cluster_endpoint(c, (size_t)w->jms[i]));
    if (rc) {
        wr_cli_error(ps->cmd, NULL, "cannot start a client node: %s", wr_strerror(rc));
        wr_chaos_watch_destroy(&w);
        return rc;
    }
    *out = w;
    return 0;
}

void wr_chaos_watch_destroy(wr_chaos_watch_t **p)
{
    wr_chaos_watch_t *w = *p;
    if (!w) return;
    wr_node_destroy(&w->client);
    free(w->samples);
    free(w->ckpt);
    free(w);
    *p = NULL;
}

void wr_chaos_watch_job(wr_chaos_watch_t *w, const char *job)
{
    snprintf(w->job, sizeof w->job, "%s", job);
    /* nothing learnt of a job watched before counts for this one: its view, throughput,
     * samples, checkpoints (numbered from 1 again) and fault */
    int leader = w->v.leader; /* asked first: it answered last */
    w->v = (wr_chaos_view_t){.leader = leader, .first_running = -1};
    snprintf(w->v.state, sizeof w->v.state, "?");
    w->last_out = w->since_sample = 0;
    w->last_attempt = 0;
    w->have_out = false;
    w->sample_at = w->ckpt_at = -1;
    w->nsamples = 0;
    if (w->ckpt) memset(w->ckpt, 0, w->nckpt);
    w->fl = (wr_chaos_follow_t){.silent = -1};
}

wr_node_t *wr_chaos_watch_client(wr_chaos_watch_t *w)
{
    return w->client;
}

/* ---- asking ---- */

/* A request about the job to JobManager member m, its answer of reply_type decoded into reply
 * (release it, then destroy *answer). 0, WR_EAGAIN for another answer (NOT_LEADER, an error), or
 * the request's failure. */
static int s_ask(wr_chaos_watch_t *w, int m, uint16_t type, uint16_t reply_type, void *reply,
                 wr_msg_t **answer, int64_t timeout_ms)
{
    wr_msg_job_ref_t req;
    snprintf(req.job, sizeof req.job, "%s", w->job);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/%s", wr_chaos_cluster_name(w->c, (size_t)m), WR_JOBMANAGER_PATH);
    *answer = NULL;
    int rc = wr_proto_pack(&wr_msg_job_ref_decl, &req, &sb);
    if (!rc) rc = wr_node_request(w->client, to, type, sb.data, sb.size, timeout_ms, answer);
    msgpack_sbuffer_destroy(&sb);
    if (!rc && (*answer)->type != reply_type) rc = WR_EAGAIN;
    if (!rc) rc = wr_proto_decode(wr_msg_decl(reply_type), (*answer)->data, (*answer)->len, reply);
    if (rc) wr_msg_destroy(answer);
    return rc;
}

/* Whether member m can be asked without waiting for a stopped process. */
static bool s_askable(wr_chaos_watch_t *w, int m)
{
    return wr_chaos_cluster_state(w->c, (size_t)m) == WR_CHAOS_UP;
}

/* The growth of the source's records_out (this attempt's counter) since the last answer. */
static void s_records(wr_chaos_watch_t *w, const wr_msg_job_reply_t *r)
{
    if (!r->operators.n) return;
    uint64_t out = r->operators.v[0].records_out; /* the plan starts with the source */
    uint64_t made;
    if (!w->have_out || r->attempt != w->last_attempt)
        made = out; /* a new attempt counts from 0 */
    else
        made = out > w->last_out ? out - w->last_out : 0; /* another leader's sum: a new base */
    w->since_sample += made;
    w->v.records += made;
    w->last_out = out;
    w->last_attempt = r->attempt;
    w->have_out = true;
}

/* Asks the JobManagers, the last one that answered first. */
static void s_ask_job(wr_chaos_watch_t *w, int64_t timeout_ms)
{
    w->v.answered = w->v.refused = false;
    int first = 0;
    for (int k = 0; k < WR_CHAOS_JMS; k++)
        if (w->jms[k] == w->v.leader) first = k;
    for (int k = 0; k < WR_CHAOS_JMS && !w->v.answered; k++) {
        int m = w->jms[(first + k) % WR_CHAOS_JMS];
        if (!s_askable(w, m)) continue;
        wr_msg_job_reply_t r;
        wr_msg_t *answer = NULL;
        int rc = s_ask(w, m, WR_MSG_JOB_REQ, WR_MSG_JOB_REPLY, &r, &answer, timeout_ms);
        if (rc == WR_EAGAIN && m == w->v.leader) w->v.refused = true; /* NOT_LEADER, an error */
        if (rc) continue;
        wr_chaos_view_t *v = &w->v;
        v->answered = true;
        v->leader = m;
        v->attempt = r.attempt;
        v->subtasks = v->running = 0;
        snprintf(v->state, sizeof v->state, "%.*s", (int)r.state.len, r.state.s);
        for (uint32_t o = 0; o < r.operators.n; o++)
            for (uint32_t s = 0; s < r.operators.v[o].subtasks.n; s++) {
                v->subtasks++;
                v->running += wr_strv_eq(r.operators.v[o].subtasks.v[s].state, "running");
            }
        if (r.restarts > v->restarts) v->restarts = r.restarts;
        v->checkpoint = r.latest_checkpoint;
        s_records(w, &r);
        wr_msg_job_reply_release(&r);
        wr_msg_destroy(&answer);
    }
}

/* Asks the leader for the job's checkpoints and notes each one's end by id. */
static void s_ask_ckpts(wr_chaos_watch_t *w, int64_t timeout_ms)
{
    if (w->v.leader < 0 || !s_askable(w, w->v.leader)) return;
    wr_msg_ckpt_list_reply_t r;
    wr_msg_t *answer = NULL;
    if (s_ask(w, w->v.leader, WR_MSG_CKPT_LIST_REQ, WR_MSG_CKPT_LIST_REPLY, &r, &answer,
              timeout_ms))
        return;
    for (uint32_t i = 0; i < r.checkpoints.n; i++) {
        const wr_msg_ckpt_stat_t *s = &r.checkpoints.v[i];
        uint8_t st = wr_strv_eq(s->status, "COMPLETED") ? 1
                     : wr_strv_eq(s->status, "FAILED")  ? 2
                                                        : 0;
        if (!st || s->id >= S_MAX_CKPTS) continue;
        if (s->id >= w->nckpt) {
            size_t n = w->nckpt ? w->nckpt : 256;
            while (n <= s->id)
                n *= 2;
            uint8_t *grown = realloc(w->ckpt, n);
            if (!grown) continue;
            memset(grown + w->nckpt, 0, n - w->nckpt);
            w->ckpt = grown;
            w->nckpt = n;
        }
        w->ckpt[s->id] = st;
    }
    wr_msg_ckpt_list_reply_release(&r);
    wr_msg_destroy(&answer);
}

/* ---- following a fault ---- */

void wr_chaos_follow_see(wr_chaos_follow_t *fl, const wr_chaos_view_t *v, int64_t now)
{
    if (!fl->f) return;
    if (!v->answered) {
        if (fl->ran && fl->silent < 0 && v->refused) fl->silent = now;
        return;
    }
    bool running = !strcmp(v->state, "RUNNING") || !strcmp(v->state, "FINISHED");
    bool anew = v->attempt > fl->attempt || v->leader != fl->leader;
    /* answers again: a silence that ends in the same attempt under the same leader was no
     * disruption (a paused leader, its data flowing); one that ends anew was, from its start */
    int64_t since = fl->silent >= 0 ? fl->silent : now;
    if (running && !anew) fl->silent = -1;
    if (!fl->ran && running && v->running == v->subtasks) { /* down at the start: from here */
        fl->ran = true;
        fl->attempt = v->attempt;
        fl->leader = v->leader;
        return;
    }
    if (fl->ran && fl->f->detect_ms < 0 && (!running || anew)) {
        fl->f->detect_ms = since - fl->f->start_ms;
        fl->f->disrupted = true;
        fl->left = true;
    }
    if (fl->left && fl->f->recover_ms < 0 && running && anew &&
        (v->running == v->subtasks || !strcmp(v->state, "FINISHED"))) {
        fl->f->recover_ms = now - fl->f->start_ms;
        fl->silent = -1;
    }
}

void wr_chaos_follow_begin(wr_chaos_follow_t *fl, wr_chaos_fault_t *f, const wr_chaos_view_t *v)
{
    bool ran = v->answered && !strcmp(v->state, "RUNNING") && v->running == v->subtasks;
    *fl = (wr_chaos_follow_t){
        .f = f, .attempt = v->attempt, .leader = v->leader, .ran = ran, .silent = -1};
}

bool wr_chaos_follow_open(const wr_chaos_follow_t *fl)
{
    return fl->f && ((fl->left && fl->f->recover_ms < 0) || fl->silent >= 0);
}

void wr_chaos_watch_fault_begin(wr_chaos_watch_t *w, wr_chaos_fault_t *f)
{
    wr_chaos_follow_begin(&w->fl, f, &w->v);
}

bool wr_chaos_watch_fault_open(const wr_chaos_watch_t *w)
{
    return wr_chaos_follow_open(&w->fl);
}

void wr_chaos_watch_fault_end(wr_chaos_watch_t *w)
{
    w->fl.f = NULL;
}

/* ---- the poll ---- */

static void s_sample(wr_chaos_watch_t *w, int64_t now)
{
    if (w->sample_at < 0) { /* the first: the clock starts */
        w->sample_at = now;
        w->since_sample = 0;
        return;
    }
    if (now - w->sample_at < S_SAMPLE_MS) return;
    if (w->nsamples == w->cap) {
        size_t n = w->cap ? 2 * w->cap : 512;
        wr_chaos_sample_t *grown = realloc(w->samples, n * sizeof *grown);
        if (!grown) return; /* out of memory: this sample is lost, the next one tries again */
        w->samples = grown;
        w->cap = n;
    }
    double rate = (double)w->since_sample * 1000 / (double)(now - w->sample_at);
    w->samples[w->nsamples++] = (wr_chaos_sample_t){.t_ms = now, .rate = rate};
    w->v.rate = rate;
    w->since_sample = 0;
    w->sample_at = now;
}

const wr_chaos_view_t *wr_chaos_watch_poll(wr_chaos_watch_t *w, int64_t timeout_ms)
{
    if (timeout_ms < S_MIN_ASK_MS) timeout_ms = S_MIN_ASK_MS;
    if (timeout_ms > S_ASK_MS) timeout_ms = S_ASK_MS;
    s_ask_job(w, timeout_ms);
    int64_t now = wr_bench_ms() - w->t0;
    if (w->v.answered && w->v.first_running < 0 && !strcmp(w->v.state, "RUNNING"))
        w->v.first_running = now;
    if (w->v.first_running >= 0) s_sample(w, now);
    wr_chaos_follow_see(&w->fl, &w->v, now);
    if (w->v.first_running >= 0 && now - w->ckpt_at >= S_SAMPLE_MS) {
        s_ask_ckpts(w, timeout_ms);
        w->ckpt_at = now;
    }
    return &w->v;
}

void wr_chaos_watch_result(wr_chaos_watch_t *w, wr_chaos_result_t *r)
{
    s_ask_ckpts(w, S_ASK_MS);
    r->samples = w->samples;
    r->nsamples = w->nsamples;
    size_t moving = 0;
    for (size_t i = 0; i < w->nsamples; i++)
        moving += w->samples[i].rate > 0;
    r->availability = w->nsamples ? (double)moving / (double)w->nsamples : 0;
    int64_t span = w->nsamples ? w->samples[w->nsamples - 1].t_ms - w->v.first_running : 0;
    r->throughput = span > 0 ? (double)w->v.records * 1000 / (double)span : 0;
    r->ckpt_completed = r->ckpt_failed = 0;
    for (size_t i = 0; i < w->nckpt; i++) {
        r->ckpt_completed += w->ckpt[i] == 1;
        r->ckpt_failed += w->ckpt[i] == 2;
    }
    r->restarts = w->v.restarts;
}
