/* A node's Prometheus metrics (metrics.h). */
#include "actors/rest/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/rest/http.h"
#include "actors/rest/prom.h"
#include "actors/runtime/request.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/messages.h"

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define S_KEY_MAX      (WR_MSG_JOB_ID_MAX + 16)

/* A subtask's counters at the previous scrape, for its rates. */
typedef struct {
    char key[S_KEY_MAX]; /* "job/vertex/subtask/attempt" */
    uint64_t in, out;
    int64_t at_ns;
} s_prev_t;

struct wr_metrics {
    wr_node_t *node;
    wr_http_t *http;
    char jm_addr[WR_ADDR_MAX];
    int64_t timeout_ms;
    pthread_mutex_t lock; /* prev */
    s_prev_t *prev;
    size_t nprev;
};

/* ---- labels ---- */

static wr_prom_label_t s_label(const char *name, const char *value, size_t len)
{
    return (wr_prom_label_t){name, value, len};
}

static wr_prom_label_t s_label_s(const char *name, const char *value)
{
    return s_label(name, value, strlen(value));
}

static wr_prom_label_t s_label_v(const char *name, wr_strv_t v)
{
    return s_label(name, v.s ? v.s : "", v.len);
}

/* ---- every node: actors and bus ---- */

typedef struct {
    const char *name, *type, *help;
    double (*value)(const wr_actor_info_t *a);
} s_actor_metric_t;

static double s_depth(const wr_actor_info_t *a)
{
    return a->depth;
}
static double s_capacity(const wr_actor_info_t *a)
{
    return a->capacity;
}
static double s_high_water(const wr_actor_info_t *a)
{
    return a->high_water;
}
static double s_age(const wr_actor_info_t *a)
{
    return (double)a->oldest_age_ns / 1e9;
}
static double s_rate(const wr_actor_info_t *a)
{
    return a->rate;
}
static double s_enqueued(const wr_actor_info_t *a)
{
    return (double)a->enqueued;
}
static double s_dequeued(const wr_actor_info_t *a)
{
    return (double)a->dequeued;
}
static double s_rejected(const wr_actor_info_t *a)
{
    return (double)a->rejected;
}
static double s_restarts(const wr_actor_info_t *a)
{
    return (double)a->restarts;
}

static const s_actor_metric_t s_actor_metrics[] = {
    {"weir_actor_mailbox_depth", "gauge", "Messages waiting in the actor's mailbox.", s_depth},
    {"weir_actor_mailbox_capacity", "gauge", "The most messages its mailbox holds.", s_capacity},
    {"weir_actor_mailbox_high_water", "gauge", "The deepest its mailbox has been.", s_high_water},
    {"weir_actor_mailbox_oldest_age_seconds", "gauge",
     "How long the oldest message waiting has waited.", s_age},
    {"weir_actor_rate", "gauge", "Messages handled per second, over the last few seconds.", s_rate},
    {"weir_actor_messages_enqueued_total", "counter", "Messages put into its mailbox.", s_enqueued},
    {"weir_actor_messages_dequeued_total", "counter", "Messages taken from its mailbox.",
     s_dequeued},
    {"weir_actor_messages_rejected_total", "counter",
     "Messages its full or closed mailbox refused.", s_rejected},
    {"weir_actor_restarts_total", "counter", "Times its supervisor restarted it.", s_restarts},
};

static void s_actors(wr_metrics_t *m, wr_strbuf_t *out)
{
    size_t cap = wr_node_actor_count(m->node) + 16;
    wr_actor_info_t *info = malloc(cap * sizeof *info);
    if (!info) {
        out->failed = true;
        return;
    }
    size_t n = wr_node_actors(m->node, info, cap);
    if (n > cap) n = cap;
    const char *node = wr_node_id(m->node);
    size_t skip = strlen(node) + 1; /* an actor's address is "node/path" */
    for (size_t k = 0; k < sizeof s_actor_metrics / sizeof s_actor_metrics[0]; k++) {
        const s_actor_metric_t *am = &s_actor_metrics[k];
        wr_prom_family(out, am->name, am->type, am->help);
        for (size_t i = 0; i < n; i++) {
            const char *path = strlen(info[i].addr) > skip ? info[i].addr + skip : info[i].addr;
            wr_prom_label_t l[] = {s_label_s("node", node), s_label_s("actor", path)};
            wr_prom_sample(out, am->name, l, 2, am->value(&info[i]));
        }
    }
    free(info);
}

static void s_bus_one(wr_strbuf_t *out, const char *node, const char *name, const char *help,
                      uint64_t v)
{
    wr_prom_family(out, name, "counter", help);
    wr_prom_label_t l[] = {s_label_s("node", node)};
    wr_prom_sample(out, name, l, 1, (double)v);
}

static void s_bus(wr_metrics_t *m, wr_strbuf_t *out)
{
    wr_transport_stats_t s;
    wr_node_transport_stats(m->node, &s);
    const char *node = wr_node_id(m->node);
    s_bus_one(out, node, "weir_bus_frames_in_total", "Frames the bus received.", s.frames_in);
    s_bus_one(out, node, "weir_bus_frames_out_total", "Frames the bus sent.", s.frames_out);
    s_bus_one(out, node, "weir_bus_bytes_in_total", "Bytes the bus received.", s.bytes_in);
    s_bus_one(out, node, "weir_bus_bytes_out_total", "Bytes the bus sent.", s.bytes_out);
    s_bus_one(out, node, "weir_bus_malformed_frames_total",
              "Inbound frames the bus refused: wrong frame count, envelope, version, type, "
              "oversized or spoofed.",
              s.malformed);
    s_bus_one(out, node, "weir_bus_spoofed_total",
              "Inbound frames whose envelope names another node than their connection's.",
              s.spoofed);
    wr_prom_family(out, "weir_bus_undeliverable_total", "counter",
                   "Messages dropped: in, for no local actor; out, for an unreachable peer.");
    wr_prom_label_t in[] = {s_label_s("node", node), s_label_s("direction", "in")};
    wr_prom_label_t outl[] = {s_label_s("node", node), s_label_s("direction", "out")};
    wr_prom_sample(out, "weir_bus_undeliverable_total", in, 2, (double)s.undeliverable_in);
    wr_prom_sample(out, "weir_bus_undeliverable_total", outl, 2, (double)s.undeliverable_out);
    s_bus_one(out, node, "weir_bus_overflowed_total",
              "Peers cut off for not reading what was sent to them.", s.overflowed);
    s_bus_one(out, node, "weir_bus_refused_total",
              "CURVE handshakes that failed on the bound socket.", s.refused);
    s_bus_one(out, node, "weir_bus_impostors_total",
              "Frames whose routing id is not their key's certificate's.", s.impostors);
}

/* ---- a JobManager: jobs, checkpoints, subtasks ---- */

static bool s_ended(wr_strv_t state)
{
    return wr_strv_eq(state, "FINISHED") || wr_strv_eq(state, "FAILED") ||
           wr_strv_eq(state, "CANCELED");
}

/* One job's answers (JOB_REPLY and CKPT_LIST_REPLY), each NULL when not there. */
typedef struct {
    wr_msg_t *job_m, *ckpt_m;
    wr_msg_job_reply_t job;
    wr_msg_ckpt_list_reply_t ckpts;
} s_job_t;

/* A gauge of every job from f(job). */
static void s_job_gauge(wr_strbuf_t *out, const s_job_t *js, size_t n, const char *name,
                        const char *help, bool ckpts, double (*f)(const s_job_t *j, bool *has))
{
    wr_prom_family(out, name, "gauge", help);
    for (size_t i = 0; i < n; i++) {
        const s_job_t *j = &js[i];
        bool has = true;
        if (!j->job_m || (ckpts && !j->ckpt_m)) continue;
        double v = f(j, &has);
        if (!has) continue;
        wr_prom_label_t l[] = {s_label_v("job_id", j->job.id), s_label_v("job_name", j->job.name)};
        wr_prom_sample(out, name, l, 2, v);
    }
}

static double s_uptime(const s_job_t *j, bool *has)
{
    (void)has;
    return (double)j->job.duration_ms;
}
static double s_num_restarts(const s_job_t *j, bool *has)
{
    (void)has;
    return j->job.restarts;
}

/* Checkpoints (not savepoints) with status `status`. */
static double s_count(const s_job_t *j, const char *status)
{
    double n = 0;
    for (uint32_t i = 0; i < j->ckpts.checkpoints.n; i++)
        n += wr_strv_eq(j->ckpts.checkpoints.v[i].status, status);
    return n;
}
static double s_completed(const s_job_t *j, bool *has)
{
    (void)has;
    return s_count(j, "COMPLETED");
}
static double s_failed(const s_job_t *j, bool *has)
{
    (void)has;
    return s_count(j, "FAILED");
}
static double s_in_progress(const s_job_t *j, bool *has)
{
    (void)has;
    return s_count(j, "IN_PROGRESS");
}

/* The latest completed checkpoint, or NULL. */
static const wr_msg_ckpt_stat_t *s_last(const s_job_t *j)
{
    const wr_msg_ckpt_stat_t *last = NULL;
    for (uint32_t i = 0; i < j->ckpts.checkpoints.n; i++) {
        const wr_msg_ckpt_stat_t *c = &j->ckpts.checkpoints.v[i];
        if (wr_strv_eq(c->status, "COMPLETED") && (!last || c->id > last->id)) last = c;
    }
    return last;
}
static double s_last_duration(const s_job_t *j, bool *has)
{
    const wr_msg_ckpt_stat_t *c = s_last(j);
    *has = c != NULL;
    return c ? (double)c->duration_ms : 0;
}
static double s_last_size(const s_job_t *j, bool *has)
{
    const wr_msg_ckpt_stat_t *c = s_last(j);
    *has = c != NULL;
    return c ? (double)c->full_size : 0;
}

/* The subtask's counters at the previous scrape (from prev), and this scrape's into next. */
static const s_prev_t *s_prev_find(const s_prev_t *prev, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(prev[i].key, key)) return &prev[i];
    return NULL;
}

typedef enum {
    S_IN,
    S_OUT,
    S_IN_RATE,
    S_OUT_RATE,
    S_BLOCKED,
    S_BLOCKED_MS,
    S_BLOCKED_RATE,
    S_STALE,
    S_WATERMARK,
    S_NTASK
} s_task_m_t;

static const struct {
    const char *name, *type, *help;
} s_task_metrics[S_NTASK] = {
    {"weir_taskmanager_job_task_numRecordsIn", "counter",
     "Records the subtask took in, in its current attempt."},
    {"weir_taskmanager_job_task_numRecordsOut", "counter",
     "Records the subtask sent on, in its current attempt."},
    {"weir_taskmanager_job_task_numRecordsInPerSecond", "gauge",
     "Records in per second, between the last two scrapes."},
    {"weir_taskmanager_job_task_numRecordsOutPerSecond", "gauge",
     "Records out per second, between the last two scrapes."},
    {"weir_taskmanager_job_task_numBackPressured", "counter",
     "Times the subtask's output was blocked by its receivers (a count, not a time)."},
    {"weir_taskmanager_job_task_backPressuredTimeMs", "counter",
     "The time the subtask's output waited on its receivers, in ms, in its current attempt."},
    {"weir_taskmanager_job_task_backPressuredTimeMsPerSecond", "gauge",
     "The time per second the subtask's output waited on its receivers (0 to 1000), over its "
     "last report's second."},
    {"weir_taskmanager_job_task_numStaleEpochDropped", "counter",
     "Checkpoint messages the subtask dropped: from another leader's epoch (a deposed "
     "JobManager's)."},
    {"weir_taskmanager_job_task_currentInputWatermark", "gauge",
     "The subtask's watermark, in ms since the epoch."},
};

/* A subtask's row of this scrape: what its samples are made of. */
typedef struct {
    const s_job_t *job;
    const wr_msg_operator_stats_t *op;
    const wr_msg_subtask_place_t *sp;
    uint32_t index;
    double v[S_NTASK];
    bool has_watermark;
} s_row_t;

static void s_tasks(wr_metrics_t *m, const s_job_t *js, size_t n, wr_strbuf_t *out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t o = 0; js[i].job_m && o < js[i].job.operators.n; o++)
            total += js[i].job.operators.v[o].subtasks.n;
    s_prev_t *next = total ? calloc(total, sizeof *next) : NULL;
    s_row_t *rows = total ? calloc(total, sizeof *rows) : NULL;
    if (total && (!next || !rows)) {
        free(next);
        free(rows);
        out->failed = true;
        return;
    }
    int64_t now = wr_now_ns();
    pthread_mutex_lock(&m->lock);
    size_t at = 0; /* each subtask's row, its rates against the previous scrape's counters */
    for (size_t i = 0; i < n; i++) {
        const s_job_t *j = &js[i];
        for (uint32_t o = 0; j->job_m && o < j->job.operators.n; o++) {
            const wr_msg_operator_stats_t *op = &j->job.operators.v[o];
            for (uint32_t s = 0; s < op->subtasks.n; s++, at++) {
                const wr_msg_subtask_place_t *sp = &op->subtasks.v[s];
                s_prev_t *cur = &next[at];
                *cur = (s_prev_t){.in = sp->records_in, .out = sp->records_out, .at_ns = now};
                snprintf(cur->key, sizeof cur->key, "%.*s/%u/%u/%u", (int)j->job.id.len,
                         j->job.id.s, o, s, j->job.attempt);
                const s_prev_t *was = s_prev_find(m->prev, m->nprev, cur->key);
                double secs = was ? (double)(now - was->at_ns) / 1e9 : 0;
                s_row_t *r = &rows[at];
                *r = (s_row_t){.job = j,
                               .op = op,
                               .sp = sp,
                               .index = s,
                               .has_watermark = sp->watermark != INT64_MIN && sp->watermark};
                r->v[S_IN] = (double)sp->records_in;
                r->v[S_OUT] = (double)sp->records_out;
                if (secs > 0 && sp->records_in >= was->in)
                    r->v[S_IN_RATE] = (double)(sp->records_in - was->in) / secs;
                if (secs > 0 && sp->records_out >= was->out)
                    r->v[S_OUT_RATE] = (double)(sp->records_out - was->out) / secs;
                r->v[S_BLOCKED] = (double)sp->backpressure;
                r->v[S_BLOCKED_MS] = (double)sp->backpressure_ms;
                r->v[S_BLOCKED_RATE] = (double)sp->backpressure_ms_per_s;
                r->v[S_STALE] = (double)sp->stale_dropped;
                r->v[S_WATERMARK] = (double)sp->watermark;
            }
        }
    }
    free(m->prev); /* this scrape's counters are the next one's previous */
    m->prev = next;
    m->nprev = total;
    pthread_mutex_unlock(&m->lock);
    for (int k = 0; k < S_NTASK; k++) {
        wr_prom_family(out, s_task_metrics[k].name, s_task_metrics[k].type, s_task_metrics[k].help);
        for (size_t i = 0; i < total; i++) {
            const s_row_t *r = &rows[i];
            if (k == S_WATERMARK && !r->has_watermark) continue;
            char index[16];
            snprintf(index, sizeof index, "%u", r->index);
            wr_prom_label_t l[] = {
                s_label_v("job_id", r->job->job.id), s_label_v("job_name", r->job->job.name),
                s_label_v("task_name", r->op->name), s_label_s("subtask_index", index),
                s_label_v("tm_id", r->sp->node)};
            wr_prom_sample(out, s_task_metrics[k].name, l, 5, r->v[k]);
        }
    }
    free(rows);
}

static void s_jobs(wr_metrics_t *m, wr_strbuf_t *out)
{
    wr_msg_jobs_reply_t jobs;
    wr_msg_t *jobs_m = NULL;
    bool leader = !wr_node_request_typed(m->node, m->jm_addr, m->timeout_ms, NULL, NULL,
                                         WR_MSG_JOBS_REQ, NULL, WR_MSG_JOBS_REPLY, &jobs, &jobs_m);
    wr_prom_family(out, "weir_jobmanager_leader", "gauge",
                   "1 when this JobManager leads the cluster and answered, else 0.");
    wr_prom_label_t nl[] = {s_label_s("node", wr_node_id(m->node))};
    wr_prom_sample(out, "weir_jobmanager_leader", nl, 1, leader);
    if (!leader) {
        wr_msg_destroy(&jobs_m);
        return;
    }
    size_t n = 0;
    s_job_t *js = calloc(jobs.jobs.n ? jobs.jobs.n : 1, sizeof *js);
    double running = 0;
    for (uint32_t i = 0; js && i < jobs.jobs.n; i++) {
        const wr_msg_job_summary_t *s = &jobs.jobs.v[i];
        running += wr_strv_eq(s->state, "RUNNING");
        if (s_ended(s->state)) continue;
        wr_msg_job_ref_t ref;
        snprintf(ref.job, sizeof ref.job, "%.*s", (int)s->id.len, s->id.s);
        s_job_t *j = &js[n++];
        if (wr_node_request_typed(m->node, m->jm_addr, m->timeout_ms, NULL, NULL, WR_MSG_JOB_REQ,
                                  &ref, WR_MSG_JOB_REPLY, &j->job, &j->job_m))
            wr_msg_destroy(&j->job_m);
        if (wr_node_request_typed(m->node, m->jm_addr, m->timeout_ms, NULL, NULL,
                                  WR_MSG_CKPT_LIST_REQ, &ref, WR_MSG_CKPT_LIST_REPLY, &j->ckpts,
                                  &j->ckpt_m))
            wr_msg_destroy(&j->ckpt_m);
    }
    if (!js) out->failed = true;
    wr_prom_family(out, "weir_jobmanager_numRunningJobs", "gauge", "Jobs in state RUNNING.");
    wr_prom_sample(out, "weir_jobmanager_numRunningJobs", nl, 1, running);
    s_job_gauge(out, js, n, "weir_jobmanager_job_uptime", "How long the job has run, in ms.", false,
                s_uptime);
    s_job_gauge(out, js, n, "weir_jobmanager_job_numRestarts", "Times the job restarted.", false,
                s_num_restarts);
    s_job_gauge(out, js, n, "weir_jobmanager_job_numberOfCompletedCheckpoints",
                "Completed checkpoints the JobManager lists.", true, s_completed);
    s_job_gauge(out, js, n, "weir_jobmanager_job_numberOfFailedCheckpoints",
                "Failed checkpoints the JobManager lists.", true, s_failed);
    s_job_gauge(out, js, n, "weir_jobmanager_job_numberOfInProgressCheckpoints",
                "Checkpoints under way.", true, s_in_progress);
    s_job_gauge(out, js, n, "weir_jobmanager_job_lastCheckpointDuration",
                "The latest completed checkpoint's duration, in ms.", true, s_last_duration);
    s_job_gauge(out, js, n, "weir_jobmanager_job_lastCheckpointSize",
                "The latest completed checkpoint's full size, in bytes.", true, s_last_size);
    s_tasks(m, js, n, out);
    for (size_t i = 0; i < n; i++) {
        if (js[i].job_m) wr_msg_job_reply_release(&js[i].job);
        if (js[i].ckpt_m) wr_msg_ckpt_list_reply_release(&js[i].ckpts);
        wr_msg_destroy(&js[i].job_m);
        wr_msg_destroy(&js[i].ckpt_m);
    }
    free(js);
    wr_msg_jobs_reply_release(&jobs);
    wr_msg_destroy(&jobs_m);
}

/* ---- HTTP ---- */

static void s_handle(void *ctx, const char *method, const char *path, const wr_http_request_t *q,
                     wr_http_reply_t *reply)
{
    (void)q;
    wr_metrics_t *m = ctx;
    reply->content_type = S_CONTENT_TYPE;
    if (strcmp(path, "/metrics")) {
        reply->status = 404;
        wr_strbuf_adds(&reply->body, "not found: the metrics are at /metrics\n");
        return;
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        reply->status = 405;
        reply->allow = "GET, HEAD";
        wr_strbuf_adds(&reply->body, "GET /metrics\n");
        return;
    }
    if (m->jm_addr[0]) s_jobs(m, &reply->body);
    s_actors(m, &reply->body);
    s_bus(m, &reply->body);
    if (reply->body.failed) {
        wr_strbuf_reset(&reply->body);
        reply->status = 500;
        wr_strbuf_adds(&reply->body, "out of memory\n");
    }
}

/* ---- the server ---- */

wr_metrics_t *wr_metrics_start(wr_node_t *node, const wr_metrics_opts_t *o, int *err, char *why,
                               size_t why_cap)
{
    wr_metrics_t *m = calloc(1, sizeof *m);
    if (!m) {
        *err = WR_ENOMEM;
        return NULL;
    }
    m->node = node;
    m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
    snprintf(m->jm_addr, sizeof m->jm_addr, "%s", o->jm_addr ? o->jm_addr : "");
    pthread_mutex_init(&m->lock, NULL);
    if (!(m->http = wr_http_start(o->address, o->port, s_handle, m, err, why, why_cap))) {
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
    }
    return m;
}

int wr_metrics_port(const wr_metrics_t *m)
{
    return wr_http_port(m->http);
}

void wr_metrics_stop(wr_metrics_t **mp)
{
    wr_metrics_t *m = *mp;
    if (!m) return;
    wr_http_stop(&m->http); /* (waits for the scrapes being answered) */
    pthread_mutex_destroy(&m->lock);
    free(m->prev);
    free(m);
    *mp = NULL;
}
