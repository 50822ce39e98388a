/* The job registry's answers to `weir jobs` (JOBS_REPLY: a summary per job) and `weir job`
 * (JOB_REPLY: the summary, its attempts, its operators with their counters, each subtask's node
 * and state, and what collect sinks gathered). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_jobs_int.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"

static int64_t s_duration(const wr__job_t *j)
{
    return (j->ended_ms ? j->ended_ms : wr_wall_ms()) - j->submitted_ms;
}

/* A job's summary (WR_MSG_JOB_SUMMARY, bus/messages.h) as the designated initializers of the
 * payloads that begin with it: JOBS_REPLY's rows and JOB_REPLY. */
#define S_SUMMARY(j)                                                                               \
    .id = wr_strv((j)->id), .name = wr_strv((j)->topo->name),                                      \
    .state = wr_strv(wr__job_state_name((j)->state)), .submitted_ms = (j)->submitted_ms,           \
    .duration_ms = s_duration(j), .slots = (j)->plan.slots, .error = wr_strv((j)->error)

int wr__jobs_on_list(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr_msg_jobs_reply_t reply = {.jobs = {js->n ? calloc(js->n, sizeof *reply.jobs.v) : NULL, 0}};
    if (js->n && !reply.jobs.v) return WR_ENOMEM;
    for (size_t i = 0; i < js->n; i++)
        reply.jobs.v[reply.jobs.n++] = (wr_msg_job_summary_t){S_SUMMARY(js->v[i])};
    /* who answers: this leader, and the standbys as the leadership last read them */
    wr_ha_candidate_t c[WR_MSG_JMS_MAX];
    wr_msg_jm_addr_t standbys[WR_MSG_JMS_MAX];
    size_t n = wr__leader_standbys(js->leader, wr_node_id(wr_actor_node(self)), c, WR_MSG_JMS_MAX);
    reply.ha = wr_strv(wr__leader_kind(js->leader));
    reply.leader = wr_strv(wr_node_id(wr_actor_node(self)));
    reply.epoch = wr__leader_epoch(js->leader);
    reply.standbys.v = standbys;
    for (size_t i = 0; i < n; i++) {
        wr_msg_jm_addr_t *a = &standbys[reply.standbys.n++];
        _Static_assert(sizeof a->node == sizeof c[i].addr.node, "node ids agree");
        _Static_assert(sizeof a->endpoint == sizeof c[i].addr.endpoint, "endpoints agree");
        memcpy(a->node, c[i].addr.node, sizeof a->node);
        memcpy(a->endpoint, c[i].addr.endpoint, sizeof a->endpoint);
        a->epoch = (uint64_t)c[i].epoch;
    }
    wr__jm_reply(self, m, WR_MSG_JOBS_REPLY, &wr_msg_jobs_reply_decl, &reply);
    free(reply.jobs.v);
    return 0;
}

/* How records go to the next operator, by wr_plan_edge, as Flink names its ship strategies. */
static const char *const s_ship_names[] = {"", "FORWARD", "REBALANCE", "HASH"};

/* One operator (vertex v) of j: its counters summed over its subtasks, then each subtask's place
 * (into places: pv->parallelism of them), and where its records go. */
static wr_msg_operator_stats_t s_vertex(const wr__job_t *j, uint32_t v,
                                        wr_msg_subtask_place_t *places)
{
    const wr_plan_vertex_t *pv = &j->plan.v[v];
    wr_msg_operator_stats_t o = {.emit_delay_p50_ms = -1, /* delays: the worst subtask's */
                                 .emit_delay_p99_ms = -1,
                                 .emit_delay_last_p99_ms = -1,
                                 .name = wr_strv(pv->name),
                                 .parallelism = pv->parallelism,
                                 .watermark = INT64_MAX,
                                 .subtasks = {places, pv->parallelism},
                                 .output = pv->output,
                                 .ship = wr_strv(s_ship_names[pv->edge])};
    for (uint32_t i = 0; i < pv->parallelism; i++) {
        uint32_t flat = wr_plan_index(&j->plan, v, i);
        const wr_msg_task_stats_t *s = &j->sub[flat].stats;
        o.records_in += s->records_in;
        o.records_out += s->records_out;
        o.backpressure += s->backpressure;
        o.windows_fired += s->windows_fired;
        o.late_dropped += s->late_dropped;
        o.skipped += s->skipped;
        if (s->watermark < o.watermark) o.watermark = s->watermark;
        if (s->emit_delay_p50_ms > o.emit_delay_p50_ms) o.emit_delay_p50_ms = s->emit_delay_p50_ms;
        if (s->emit_delay_p99_ms > o.emit_delay_p99_ms) o.emit_delay_p99_ms = s->emit_delay_p99_ms;
        if (s->emit_delay_last_p99_ms > o.emit_delay_last_p99_ms)
            o.emit_delay_last_p99_ms = s->emit_delay_last_p99_ms;
        places[i] =
            (wr_msg_subtask_place_t){.node = wr_strv(j->node[flat]),
                                     .state = wr_strv(j->sub[flat].state),
                                     .records_in = s->records_in,
                                     .records_out = s->records_out,
                                     .backpressure = s->backpressure,
                                     .backpressure_ms = s->backpressure_ms,
                                     .backpressure_ms_per_s = s->backpressure_ms_per_s,
                                     .stale_dropped = s->stale_dropped,
                                     /* none yet: left out */
                                     .watermark = s->watermark == INT64_MIN ? 0 : s->watermark};
    }
    return o;
}

int wr__jobs_on_describe(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr__job_t *j = wr__jobs_arg(js, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    wr_msg_job_reply_t reply = {S_SUMMARY(j),
                                .attempt = j->attempt,
                                .restarts = wr__restart_count(j->restart),
                                .latest_checkpoint = (int64_t)wr__coord_latest_id(j->coord),
                                .recovery_ms = wr__restart_recovery_ms(j->restart),
                                .operators = {calloc(j->plan.n, sizeof *reply.operators.v), 0},
                                .collected = {j->collected ? j->collected : "", j->collected_len}};
    wr_msg_subtask_place_t *places = calloc(j->nsub, sizeof *places);
    int rc = reply.operators.v && places ? 0 : WR_ENOMEM;
    for (uint32_t v = 0, at = 0; !rc && v < j->plan.n; at += j->plan.v[v++].parallelism)
        reply.operators.v[reply.operators.n++] = s_vertex(j, v, places + at);
    if (!rc) wr__jm_reply(self, m, WR_MSG_JOB_REPLY, &wr_msg_job_reply_decl, &reply);
    free(reply.operators.v);
    free(places);
    return rc;
}
