/* The REST API's answers as JSON (rest_json.h). */
#include "actors/rest/rest_json.h"

#include <string.h>
#include <time.h>

static void s_key(wr_strbuf_t *out, bool *first, const char *key)
{
    wr_strbuf_adds(out, *first ? "\"" : ",\"");
    wr_strbuf_adds(out, key);
    wr_strbuf_adds(out, "\":");
    *first = false;
}

static void s_str(wr_strbuf_t *out, bool *first, const char *key, wr_strv_t v)
{
    s_key(out, first, key);
    wr_strbuf_add_json_str(out, v.s ? v.s : "", v.s ? v.len : 0);
}

static void s_int(wr_strbuf_t *out, bool *first, const char *key, long long v)
{
    s_key(out, first, key);
    wr_strbuf_addf(out, "%lld", v);
}

/* v in upper case, as Flink names task states ("running" -> "RUNNING"). */
static void s_upper(wr_strbuf_t *out, bool *first, const char *key, wr_strv_t v)
{
    char up[32];
    size_t n = v.len < sizeof up - 1 ? v.len : sizeof up - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = v.s[i] >= 'a' && v.s[i] <= 'z' ? (char)(v.s[i] - 'a' + 'A') : v.s[i];
    s_str(out, first, key, (wr_strv_t){up, n});
}

static bool s_is(wr_strv_t v, const char *word)
{
    return v.len == strlen(word) && !memcmp(v.s, word, v.len);
}

static bool s_ended(wr_strv_t state)
{
    return s_is(state, "FINISHED") || s_is(state, "CANCELED") || s_is(state, "FAILED");
}

/* Flink's start-time, end-time and duration of a job summary. */
static void s_times(wr_strbuf_t *out, bool *first, int64_t submitted_ms, int64_t duration_ms,
                    wr_strv_t state)
{
    s_int(out, first, "start-time", submitted_ms);
    s_int(out, first, "end-time", s_ended(state) ? submitted_ms + duration_ms : -1);
    s_int(out, first, "duration", duration_ms);
}

void wr_rest_json_overview(const wr_msg_jobs_reply_t *jobs, const wr_msg_actors_reply_t *actors,
                           const char *version, wr_strbuf_t *out)
{
    long long tms = 0, slots = 0, free_slots = 0, running = 0, finished = 0, canceled = 0,
              failed = 0;
    for (uint32_t i = 0; i < actors->nodes.n; i++) {
        const wr_msg_node_row_t *r = &actors->nodes.v[i];
        if (!r->slots) continue; /* not a TaskManager */
        tms++;
        slots += r->slots;
        free_slots += r->slots_free;
    }
    for (uint32_t i = 0; i < jobs->jobs.n; i++) {
        wr_strv_t s = jobs->jobs.v[i].state;
        running += !s_ended(s);
        finished += s_is(s, "FINISHED");
        canceled += s_is(s, "CANCELED");
        failed += s_is(s, "FAILED");
    }
    bool first = true;
    wr_strbuf_addc(out, '{');
    s_int(out, &first, "taskmanagers", tms);
    s_int(out, &first, "slots-total", slots);
    s_int(out, &first, "slots-available", free_slots);
    s_int(out, &first, "jobs-running", running);
    s_int(out, &first, "jobs-finished", finished);
    s_int(out, &first, "jobs-cancelled", canceled);
    s_int(out, &first, "jobs-failed", failed);
    s_str(out, &first, "flink-version", (wr_strv_t){version, strlen(version)});
    s_str(out, &first, "weir-version", (wr_strv_t){version, strlen(version)});
    s_str(out, &first, "leader", jobs->leader);
    s_str(out, &first, "ha", jobs->ha);
    wr_strbuf_addc(out, '}');
}

void wr_rest_json_config(const char *version, int64_t refresh_ms, wr_strbuf_t *out)
{
    time_t now = time(NULL);
    struct tm local;
    char zone[64] = "UTC";
    long offset_ms = 0;
    if (localtime_r(&now, &local)) {
        strftime(zone, sizeof zone, "%Z", &local);
        offset_ms = local.tm_gmtoff * 1000L;
    }
    bool first = true;
    wr_strbuf_addc(out, '{');
    s_int(out, &first, "refresh-interval", refresh_ms);
    s_str(out, &first, "timezone-name", (wr_strv_t){zone, strlen(zone)});
    s_int(out, &first, "timezone-offset", offset_ms);
    s_str(out, &first, "flink-version", (wr_strv_t){version, strlen(version)});
    s_str(out, &first, "weir-version", (wr_strv_t){version, strlen(version)});
    wr_strbuf_addc(out, '}');
}

void wr_rest_json_jobs(const wr_msg_jobs_reply_t *jobs, wr_strbuf_t *out)
{
    wr_strbuf_adds(out, "{\"jobs\":[");
    for (uint32_t i = 0; i < jobs->jobs.n; i++) {
        bool first = true;
        wr_strbuf_adds(out, i ? ",{" : "{");
        s_str(out, &first, "id", jobs->jobs.v[i].id);
        s_str(out, &first, "status", jobs->jobs.v[i].state);
        wr_strbuf_addc(out, '}');
    }
    wr_strbuf_adds(out, "]}");
}

void wr_rest_json_jobs_overview(const wr_msg_jobs_reply_t *jobs, wr_strbuf_t *out)
{
    wr_strbuf_adds(out, "{\"jobs\":[");
    for (uint32_t i = 0; i < jobs->jobs.n; i++) {
        const wr_msg_job_summary_t *j = &jobs->jobs.v[i];
        bool first = true;
        wr_strbuf_adds(out, i ? ",{" : "{");
        s_str(out, &first, "jid", j->id);
        s_str(out, &first, "name", j->name);
        s_str(out, &first, "state", j->state);
        s_times(out, &first, j->submitted_ms, j->duration_ms, j->state);
        s_int(out, &first, "last-modification", j->submitted_ms + j->duration_ms);
        s_int(out, &first, "slots", j->slots);
        s_str(out, &first, "error", j->error);
        wr_strbuf_addc(out, '}');
    }
    wr_strbuf_adds(out, "]}");
}

/* A vertex's status: RUNNING when every subtask runs, else the first other subtask state. */
static wr_strv_t s_vertex_status(const wr_msg_operator_stats_t *o)
{
    for (uint32_t k = 0; k < o->subtasks.n; k++)
        if (!s_is(o->subtasks.v[k].state, "running")) return o->subtasks.v[k].state;
    return o->subtasks.n ? o->subtasks.v[0].state : (wr_strv_t){"created", 7};
}

static void s_vertex(const wr_msg_operator_stats_t *o, uint32_t v, wr_strbuf_t *out)
{
    bool first = true;
    char id[16];
    snprintf(id, sizeof id, "%u", v);
    wr_strbuf_addc(out, '{');
    s_str(out, &first, "id", (wr_strv_t){id, strlen(id)});
    s_str(out, &first, "name", o->name);
    s_int(out, &first, "parallelism", o->parallelism);
    s_upper(out, &first, "status", s_vertex_status(o));
    s_key(out, &first, "metrics");
    bool m = true;
    wr_strbuf_addc(out, '{');
    s_int(out, &m, "read-records", (long long)o->records_in);
    s_int(out, &m, "write-records", (long long)o->records_out);
    s_int(out, &m, "backpressure-count", (long long)o->backpressure);
    s_int(out, &m, "watermark", o->watermark);
    s_int(out, &m, "windows-fired", (long long)o->windows_fired);
    s_int(out, &m, "late-dropped", (long long)o->late_dropped);
    s_int(out, &m, "skipped", (long long)o->skipped);
    s_int(out, &m, "emit-delay-p50-ms", o->emit_delay_p50_ms);
    s_int(out, &m, "emit-delay-p99-ms", o->emit_delay_p99_ms);
    wr_strbuf_addc(out, '}');
    s_key(out, &first, "subtasks");
    wr_strbuf_addc(out, '[');
    for (uint32_t k = 0; k < o->subtasks.n; k++) {
        bool f = true;
        wr_strbuf_adds(out, k ? ",{" : "{");
        s_int(out, &f, "subtask", k);
        s_str(out, &f, "host", o->subtasks.v[k].node);
        s_upper(out, &f, "status", o->subtasks.v[k].state);
        s_key(out, &f, "metrics");
        bool sm = true;
        wr_strbuf_addc(out, '{');
        s_int(out, &sm, "read-records", (long long)o->subtasks.v[k].records_in);
        s_int(out, &sm, "write-records", (long long)o->subtasks.v[k].records_out);
        s_int(out, &sm, "backpressure-count", (long long)o->subtasks.v[k].backpressure);
        s_int(out, &sm, "backPressuredTimeMsPerSecond",
              (long long)o->subtasks.v[k].backpressure_ms_per_s);
        s_int(out, &sm, "watermark", o->subtasks.v[k].watermark);
        wr_strbuf_adds(out, "}}");
    }
    wr_strbuf_adds(out, "]}");
}

/* Flink's level of a back-pressured share of time (its thresholds). */
static const char *s_bp_level(double ratio)
{
    return ratio <= 0.10 ? "ok" : ratio <= 0.5 ? "low" : "high";
}

bool wr_rest_json_backpressure(const wr_msg_job_reply_t *job, uint32_t v, int64_t now_ms,
                               wr_strbuf_t *out)
{
    if (v >= job->operators.n) return false;
    const wr_msg_operator_stats_t *o = &job->operators.v[v];
    double worst = 0;
    for (uint32_t k = 0; k < o->subtasks.n; k++) {
        double ratio = (double)o->subtasks.v[k].backpressure_ms_per_s / 1000.0;
        if (ratio > worst) worst = ratio;
    }
    wr_strbuf_addf(out,
                   "{\"status\":\"ok\",\"backpressureLevel\":\"%s\",\"end-timestamp\":%lld,"
                   "\"subtasks\":[",
                   s_bp_level(worst), (long long)now_ms);
    for (uint32_t k = 0; k < o->subtasks.n; k++) {
        double ratio = (double)o->subtasks.v[k].backpressure_ms_per_s / 1000.0;
        wr_strbuf_addf(out,
                       "%s{\"subtask\":%u,\"attempt-number\":%u,\"backpressureLevel\":\"%s\","
                       "\"ratio\":%.3f}",
                       k ? "," : "", k, job->attempt, s_bp_level(ratio), ratio);
    }
    wr_strbuf_adds(out, "]}");
    return true;
}

bool wr_rest_json_watermarks(const wr_msg_job_reply_t *job, uint32_t v, wr_strbuf_t *out)
{
    if (v >= job->operators.n) return false;
    const wr_msg_operator_stats_t *o = &job->operators.v[v];
    wr_strbuf_addc(out, '[');
    for (uint32_t k = 0; k < o->subtasks.n; k++) {
        int64_t wm = o->subtasks.v[k].watermark; /* (0: none yet, left out of the reply) */
        wr_strbuf_addf(out, "%s{\"id\":\"%u.currentInputWatermark\",\"value\":\"%lld\"}",
                       k ? "," : "", k, (long long)(wm ? wm : INT64_MIN));
    }
    wr_strbuf_addc(out, ']');
    return true;
}

/* Flink's "plan" of a job: its vertices as nodes, each with the vertices feeding it as inputs
 * (their id and how records ship). */
static void s_plan(const wr_msg_job_reply_t *job, wr_strbuf_t *out)
{
    wr_strbuf_adds(out, ",\"plan\":{\"jid\":");
    wr_strbuf_add_json_str(out, job->id.s, job->id.len);
    wr_strbuf_adds(out, ",\"name\":");
    wr_strbuf_add_json_str(out, job->name.s, job->name.len);
    wr_strbuf_adds(out, ",\"nodes\":[");
    for (uint32_t v = 0; v < job->operators.n; v++) {
        const wr_msg_operator_stats_t *o = &job->operators.v[v];
        wr_strbuf_addf(out, "%s{\"id\":\"%u\",\"parallelism\":%u,\"description\":", v ? "," : "", v,
                       o->parallelism);
        wr_strbuf_add_json_str(out, o->name.s, o->name.len);
        wr_strbuf_adds(out, ",\"inputs\":[");
        uint32_t num = 0;
        for (uint32_t u = 0; u < job->operators.n; u++) {
            const wr_msg_operator_stats_t *in = &job->operators.v[u];
            if (in->output != (int64_t)v) continue;
            wr_strbuf_addf(out, "%s{\"num\":%u,\"id\":\"%u\",\"ship_strategy\":", num ? "," : "",
                           num, u);
            wr_strbuf_add_json_str(out, in->ship.s, in->ship.len);
            wr_strbuf_addc(out, '}');
            num++;
        }
        wr_strbuf_adds(out, "]}");
    }
    wr_strbuf_adds(out, "]}");
}

void wr_rest_json_job(const wr_msg_job_reply_t *job, int64_t now_ms, wr_strbuf_t *out)
{
    bool first = true;
    wr_strbuf_addc(out, '{');
    s_str(out, &first, "jid", job->id);
    s_str(out, &first, "name", job->name);
    s_str(out, &first, "state", job->state);
    s_times(out, &first, job->submitted_ms, job->duration_ms, job->state);
    s_int(out, &first, "now", now_ms);
    s_int(out, &first, "attempt", job->attempt);
    s_int(out, &first, "restarts", job->restarts);
    s_int(out, &first, "latest-checkpoint", job->latest_checkpoint);
    s_int(out, &first, "recovery-ms", job->recovery_ms);
    s_str(out, &first, "error", job->error);
    s_key(out, &first, "vertices");
    wr_strbuf_addc(out, '[');
    for (uint32_t v = 0; v < job->operators.n; v++) {
        if (v) wr_strbuf_addc(out, ',');
        s_vertex(&job->operators.v[v], v, out);
    }
    wr_strbuf_addc(out, ']');
    s_plan(job, out);
    wr_strbuf_addc(out, '}');
}

void wr_rest_json_exceptions(const wr_msg_job_reply_t *job, wr_strbuf_t *out)
{
    bool first = true;
    wr_strbuf_addc(out, '{');
    s_key(out, &first, "root-exception");
    if (job->error.len)
        wr_strbuf_add_json_str(out, job->error.s, job->error.len);
    else
        wr_strbuf_adds(out, "null");
    s_int(out, &first, "timestamp",
          job->error.len ? job->submitted_ms + job->duration_ms : (long long)-1);
    wr_strbuf_adds(out, ",\"all-exceptions\":[],\"truncated\":false}");
}

bool wr_rest_json_vertex(const wr_msg_job_reply_t *job, uint32_t v, wr_strbuf_t *out)
{
    if (v >= job->operators.n) return false;
    s_vertex(&job->operators.v[v], v, out);
    return true;
}

static void s_checkpoint(const wr_msg_ckpt_stat_t *c, wr_strbuf_t *out)
{
    bool first = true, done = s_is(c->status, "COMPLETED");
    wr_strbuf_addc(out, '{');
    s_int(out, &first, "id", (long long)c->id);
    s_str(out, &first, "status", c->status);
    s_key(out, &first, "is_savepoint");
    wr_strbuf_adds(out, s_is(c->kind, "savepoint") ? "true" : "false");
    s_upper(out, &first, "checkpoint_type", c->kind);
    s_int(out, &first, "trigger_timestamp", c->trigger_ms);
    s_int(out, &first, "latest_ack_timestamp", done ? c->trigger_ms + c->duration_ms : -1);
    s_int(out, &first, "end_to_end_duration", c->duration_ms);
    s_int(out, &first, "state_size", (long long)c->full_size);
    s_int(out, &first, "checkpointed_size", (long long)c->incremental_size);
    s_int(out, &first, "alignment_ms", c->alignment_ms);
    s_str(out, &first, "failure_message", c->reason);
    wr_strbuf_addc(out, '}');
}

/* The newest checkpoint of c (the highest id) whose status is status and whose kind is kind (NULL:
 * any), or NULL. */
static const wr_msg_ckpt_stat_t *s_latest(const wr_msg_ckpt_list_reply_t *c, const char *status,
                                          const char *kind)
{
    const wr_msg_ckpt_stat_t *best = NULL;
    for (uint32_t i = 0; i < c->checkpoints.n; i++) {
        const wr_msg_ckpt_stat_t *k = &c->checkpoints.v[i];
        if (s_is(k->status, status) && (!kind || s_is(k->kind, kind)) &&
            (!best || k->id > best->id))
            best = k;
    }
    return best;
}

static void s_latest_entry(wr_strbuf_t *out, bool *first, const char *key,
                           const wr_msg_ckpt_stat_t *k)
{
    s_key(out, first, key);
    if (k)
        s_checkpoint(k, out);
    else
        wr_strbuf_adds(out, "null");
}

void wr_rest_json_checkpoints(const wr_msg_ckpt_list_reply_t *c, wr_strbuf_t *out)
{
    long long in_progress = 0, completed = 0, failed = 0;
    for (uint32_t i = 0; i < c->checkpoints.n; i++) {
        wr_strv_t st = c->checkpoints.v[i].status;
        in_progress += s_is(st, "IN_PROGRESS");
        completed += s_is(st, "COMPLETED");
        failed += s_is(st, "FAILED");
    }
    bool first = true, f = true, l = true;
    wr_strbuf_addc(out, '{');
    s_key(out, &first, "counts");
    wr_strbuf_addc(out, '{');
    s_int(out, &f, "restored", 0);
    s_int(out, &f, "total", c->checkpoints.n);
    s_int(out, &f, "in_progress", in_progress);
    s_int(out, &f, "completed", completed);
    s_int(out, &f, "failed", failed);
    wr_strbuf_addc(out, '}');
    s_key(out, &first, "latest");
    wr_strbuf_addc(out, '{');
    s_latest_entry(out, &l, "completed", s_latest(c, "COMPLETED", NULL));
    s_latest_entry(out, &l, "savepoint", s_latest(c, "COMPLETED", "savepoint"));
    s_latest_entry(out, &l, "failed", s_latest(c, "FAILED", NULL));
    s_latest_entry(out, &l, "restored", NULL);
    wr_strbuf_addc(out, '}');
    s_key(out, &first, "history");
    wr_strbuf_addc(out, '[');
    for (uint32_t i = 0; i < c->checkpoints.n; i++) {
        if (i) wr_strbuf_addc(out, ',');
        s_checkpoint(&c->checkpoints.v[i], out);
    }
    wr_strbuf_addc(out, ']');
    s_int(out, &first, "interval", c->interval_ms);
    s_str(out, &first, "latest_path", c->latest);
    wr_strbuf_addc(out, '}');
}

static void s_taskmanager(const wr_msg_node_row_t *r, wr_strbuf_t *out)
{
    bool first = true;
    wr_strbuf_addc(out, '{');
    s_str(out, &first, "id", r->node);
    s_str(out, &first, "path", r->endpoint);
    s_upper(out, &first, "status", r->status);
    s_int(out, &first, "slotsNumber", r->slots);
    s_int(out, &first, "freeSlots", r->slots_free);
    s_int(out, &first, "timeSinceLastHeartbeat", r->last_heard_ms);
    s_int(out, &first, "malformedFrames", (long long)r->malformed);
    wr_strbuf_addc(out, '}');
}

bool wr_rest_json_taskmanagers(const wr_msg_actors_reply_t *actors, const char *id,
                               wr_strbuf_t *out)
{
    if (id) {
        for (uint32_t i = 0; i < actors->nodes.n; i++) {
            const wr_msg_node_row_t *r = &actors->nodes.v[i];
            if (r->slots && s_is(r->node, id)) {
                s_taskmanager(r, out);
                return true;
            }
        }
        return false;
    }
    wr_strbuf_adds(out, "{\"taskmanagers\":[");
    bool any = false;
    for (uint32_t i = 0; i < actors->nodes.n; i++) {
        if (!actors->nodes.v[i].slots) continue;
        if (any) wr_strbuf_addc(out, ',');
        s_taskmanager(&actors->nodes.v[i], out);
        any = true;
    }
    wr_strbuf_adds(out, "]}");
    return true;
}

void wr_rest_json_error(const char *message, wr_strbuf_t *out)
{
    wr_strbuf_adds(out, "{\"errors\":[");
    wr_strbuf_add_json_str(out, message, strlen(message));
    wr_strbuf_adds(out, "]}");
}
