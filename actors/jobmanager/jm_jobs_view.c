/* The job registry's answers to `weir jobs` (JOBS_REPLY: a summary per job) and `weir job`
 * (JOB_REPLY: the summary, its attempts, its operators with their counters, each subtask's node
 * and state, and what collect sinks gathered). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_jobs_int.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

static void s_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    wr_pack_str(pk, k);
    wr_pack_str(pk, v);
}

static void s_kv_i64(msgpack_packer *pk, const char *k, int64_t v)
{
    wr_pack_str(pk, k);
    msgpack_pack_int64(pk, v);
}

static int64_t s_duration(const wr__job_t *j)
{
    return (j->ended_ms ? j->ended_ms : wr_wall_ms()) - j->submitted_ms;
}

static void s_pack_summary(msgpack_packer *pk, const wr__job_t *j, uint32_t extra)
{
    msgpack_pack_map(pk, 7 + extra);
    s_kv_str(pk, "id", j->id);
    s_kv_str(pk, "name", j->topo->name);
    s_kv_str(pk, "state", wr__job_state_name(j->state));
    s_kv_i64(pk, "submitted_ms", j->submitted_ms);
    s_kv_i64(pk, "duration_ms", s_duration(j));
    s_kv_i64(pk, "slots", j->plan.slots);
    s_kv_str(pk, "error", j->error);
}

int wr__jobs_on_list(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (uint32_t)js->n);
    for (size_t i = 0; i < js->n; i++)
        s_pack_summary(&pk, js->v[i], 0);
    wr_reply(self, m, WR_MSG_JOBS_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

/* One operator (vertex v) of j: its counters summed over its subtasks, then each subtask. */
static void s_pack_vertex(msgpack_packer *pk, const wr__job_t *j, uint32_t v)
{
    const wr_plan_vertex_t *pv = &j->plan.v[v];
    uint64_t in = 0, out = 0, bp = 0, fired = 0, late = 0;
    int64_t wm = INT64_MAX, p50 = -1, p99 = -1, last = -1; /* delays: the worst subtask's */
    for (uint32_t i = 0; i < pv->parallelism; i++) {
        const wr__subtask_t *s = &j->sub[wr_plan_index(&j->plan, v, i)];
        in += s->records_in;
        out += s->records_out;
        bp += s->backpressure;
        fired += s->windows_fired;
        late += s->late_dropped;
        if (s->watermark < wm) wm = s->watermark;
        if (s->delay_p50_ms > p50) p50 = s->delay_p50_ms;
        if (s->delay_p99_ms > p99) p99 = s->delay_p99_ms;
        if (s->delay_last_p99_ms > last) last = s->delay_last_p99_ms;
    }
    msgpack_pack_map(pk, 12);
    s_kv_i64(pk, "emit_delay_p50_ms", p50);
    s_kv_i64(pk, "emit_delay_p99_ms", p99);
    s_kv_i64(pk, "emit_delay_last_p99_ms", last);
    s_kv_str(pk, "name", pv->name);
    s_kv_i64(pk, "parallelism", pv->parallelism);
    s_kv_i64(pk, "records_in", (int64_t)in);
    s_kv_i64(pk, "records_out", (int64_t)out);
    s_kv_i64(pk, "backpressure", (int64_t)bp);
    s_kv_i64(pk, "watermark", wm);
    s_kv_i64(pk, "windows_fired", (int64_t)fired);
    s_kv_i64(pk, "late_dropped", (int64_t)late);
    wr_pack_str(pk, "subtasks");
    msgpack_pack_array(pk, pv->parallelism);
    for (uint32_t i = 0; i < pv->parallelism; i++) {
        uint32_t flat = wr_plan_index(&j->plan, v, i);
        msgpack_pack_map(pk, 2);
        s_kv_str(pk, "node", j->node[flat]);
        s_kv_str(pk, "state", j->sub[flat].state);
    }
}

int wr__jobs_on_describe(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr__job_t *j = wr__jobs_arg(js, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_pack_summary(&pk, j, 6);
    s_kv_i64(&pk, "attempt", j->attempt);
    s_kv_i64(&pk, "restarts", wr__restart_count(j->restart));
    s_kv_i64(&pk, "latest_checkpoint", (int64_t)wr__coord_latest_id(j->coord));
    s_kv_i64(&pk, "recovery_ms", wr__restart_recovery_ms(j->restart));
    wr_pack_str(&pk, "operators");
    msgpack_pack_array(&pk, j->plan.n);
    for (uint32_t v = 0; v < j->plan.n; v++)
        s_pack_vertex(&pk, j, v);
    wr_pack_str(&pk, "collected");
    msgpack_pack_str(&pk, (uint32_t)j->collected_len);
    msgpack_pack_str_body(&pk, j->collected, j->collected_len);
    wr_reply(self, m, WR_MSG_JOB_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}
