#include "cli/render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "bus/json.h"

/* v as a C string in buf (cap bytes), cut to fit. */
static const char *s_cstr(char *buf, size_t cap, wr_strv_t v)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    if (n) memcpy(buf, v.s, n);
    buf[n] = '\0';
    return buf;
}

static void s_age(char *buf, size_t cap, double ms)
{
    if (ms < 1000)
        snprintf(buf, cap, "%.0fms", ms);
    else if (ms < 120000)
        snprintf(buf, cap, "%.1fs", ms / 1000);
    else
        snprintf(buf, cap, "%.0fmin", ms / 60000);
}

/* ---- actors ---- */

static void s_print_actor(FILE *out, const char *status, const wr_msg_actor_row_t *a)
{
    char addr[96], mbox[32], oldest[16];
    snprintf(mbox, sizeof mbox, "%.0f/%.0f", (double)a->depth, (double)a->capacity);
    s_age(oldest, sizeof oldest, (double)a->oldest_age_ms);
    fprintf(out, "%-36s %-7s %-11s %6.0f %9.1f %7s %10.0f %8.0f %8.0f\n",
            s_cstr(addr, sizeof addr, a->addr), status, mbox, (double)a->high_water, a->rate,
            a->depth ? oldest : "-", (double)a->dequeued, (double)a->rejected, (double)a->restarts);
}

void wr_render_actors(const wr_msg_actors_reply_t *r, FILE *out)
{
    fprintf(out, "%-36s %-7s %-11s %6s %9s %7s %10s %8s %8s\n", "ACTOR", "STATUS", "MAILBOX",
            "HIGH", "RATE/s", "OLDEST", "HANDLED", "REJECTED", "RESTARTS");
    wr_strbuf_t notes;
    wr_strbuf_init(&notes);
    for (uint32_t i = 0; i < r->nodes.n; i++) {
        const wr_msg_node_row_t *row = &r->nodes.v[i];
        char node[64], status[32], endpoint[128];
        s_cstr(node, sizeof node, row->node);
        s_cstr(status, sizeof status, row->status);
        s_cstr(endpoint, sizeof endpoint, row->endpoint);
        for (uint32_t a = 0; a < row->actors.n; a++)
            s_print_actor(out, status, &row->actors.v[a]);
        if (strcmp(status, "up") && strcmp(status, "leader")) { /* dead, unresponsive, standby */
            char ago[16] = "";
            bool heard = row->last_heard_ms >= 0;
            if (heard) s_age(ago, sizeof ago, (double)row->last_heard_ms);
            fprintf(out, "%-36s %-7s %s%s%s%s\n", node, status, endpoint, heard ? " (since " : "",
                    ago, heard ? " ago)" : "");
        }
        wr_strbuf_addf(&notes,
                       "node %-12s %-12s %-28s malformed frames dropped: %.0f; refused "
                       "connections: %.0f, unknown keys: %.0f, impostors: %.0f; peers cut off for "
                       "not reading: %.0f, cut by ZeroMQ while sending: %.0f\n",
                       node, status, endpoint, (double)row->malformed, (double)row->refused,
                       (double)row->unknown_key, (double)row->impostors, (double)row->overflowed,
                       (double)row->cut_while_sending);
    }
    fprintf(out, "\n%s", notes.buf);
    wr_strbuf_release(&notes);
}

/* ---- mailbox ---- */

int wr_render_mailbox(const wr_msg_mailbox_reply_t *r, FILE *out)
{
    char addr[WR_ADDR_MAX];
    fprintf(out, "%-16s %s\n", "addr", s_cstr(addr, sizeof addr, r->addr));
    const struct {
        const char *name;
        double v;
    } nums[] = {{"capacity", (double)r->capacity},           {"depth", (double)r->depth},
                {"high_water", (double)r->high_water},       {"enqueued", (double)r->enqueued},
                {"dequeued", (double)r->dequeued},           {"rejected", (double)r->rejected},
                {"restarts", (double)r->restarts},           {"rate", r->rate},
                {"oldest_age_ms", (double)r->oldest_age_ms}, {"processing_ms", r->processing_ms}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        fprintf(out, "%-16s %g\n", nums[i].name, nums[i].v);
    wr_strbuf_t json;
    wr_strbuf_init(&json);
    wr_strbuf_addc(&json, '{');
    for (uint32_t i = 0; i < r->types.n; i++) {
        if (i) wr_strbuf_addc(&json, ',');
        wr_strbuf_add_json_str(&json, r->types.v[i].type.s, r->types.v[i].type.len);
        wr_strbuf_addf(&json, ":%" PRIu64, r->types.v[i].count);
    }
    wr_strbuf_addc(&json, '}');
    fprintf(out, "%-16s %s\n", "types", json.buf);
    wr_strbuf_reset(&json);
    wr_strbuf_addc(&json, '[');
    for (uint32_t i = 0; i < r->processing_us.n; i++)
        wr_strbuf_addf(&json, "%s[%" PRIu64 ",%" PRIu64 "]", i ? "," : "",
                       r->processing_us.v[i].upper_us, r->processing_us.v[i].count);
    wr_strbuf_addc(&json, ']');
    fprintf(out, "%-16s %s\n", "processing (us)", json.buf);
    fprintf(out, "recent messages (newest first): %u\n", r->recent.n);
    for (uint32_t i = 0; i < r->recent.n; i++) {
        const wr_msg_recent_msg_t *m = &r->recent.v[i];
        char type[32], from[96], ago[16];
        s_cstr(type, sizeof type, m->type);
        wr_strbuf_reset(&json);
        if (m->payload.p) { /* decoded, its fields named by its declaration */
            wr_msg_payload_json(wr_msg_type_from_name(type), m->payload.p, m->payload.len, 400,
                                &json);
        } else if (m->payload_truncated
                       .p) { /* the first bytes of a longer one: as much as decodes */
            wr_mp_to_json(m->payload_truncated.p, m->payload_truncated.len, 400, &json);
            wr_strbuf_adds(&json, " ... (truncated)");
        } else {
            wr_strbuf_adds(&json, "(payload not sampled: a busy mailbox keeps 1 in 8)");
        }
        s_age(ago, sizeof ago, (double)m->age_ms);
        fprintf(out, "  %-14s from %-32s %6.0f B  %s ago, waited %.0fms\n    %s\n", type,
                s_cstr(from, sizeof from, m->from), (double)m->size, ago, (double)m->waited_ms,
                json.buf);
    }
    int rc = json.failed ? WR_ENOMEM : 0;
    wr_strbuf_release(&json);
    return rc;
}

/* ---- jobs ---- */

void wr_render_jobs(const wr_msg_jobs_reply_t *r, FILE *out)
{
    char mode[16];
    if (strcmp(s_cstr(mode, sizeof mode, r->ha), "standalone")) { /* who answers, in HA */
        char leader[32];
        fprintf(out,
                "leader %s (%s, epoch %llu); standbys:", s_cstr(leader, sizeof leader, r->leader),
                mode, (unsigned long long)r->epoch);
        for (uint32_t i = 0; i < r->standbys.n; i++)
            fprintf(out, " %s (%s)", r->standbys.v[i].node, r->standbys.v[i].endpoint);
        fprintf(out, "%s\n\n", r->standbys.n ? "" : " none");
    }
    fprintf(out, "%-10s %-24s %-9s %5s %9s  %s\n", "JOB", "NAME", "STATE", "SLOTS", "DURATION",
            "ERROR");
    for (uint32_t i = 0; i < r->jobs.n; i++) {
        const wr_msg_job_summary_t *j = &r->jobs.v[i];
        char id[32], name[64], state[16], error[256], dur[16];
        s_age(dur, sizeof dur, (double)j->duration_ms);
        fprintf(out, "%-10s %-24s %-9s %5.0f %9s  %s\n", s_cstr(id, sizeof id, j->id),
                s_cstr(name, sizeof name, j->name), s_cstr(state, sizeof state, j->state),
                (double)j->slots, dur, s_cstr(error, sizeof error, j->error));
    }
}

/* A job's operators, as a table. */
static void s_job_operators(const wr_msg_job_reply_t *r, FILE *out)
{
    fprintf(out, "%-40s %4s %12s %12s %10s %10s %8s %6s %12s  %s\n", "OPERATOR", "PAR",
            "RECORDS IN", "RECORDS OUT", "WINDOWS", "LATE", "SKIPPED", "BACKPR", "WATERMARK",
            "SUBTASKS");
    for (uint32_t vi = 0; vi < r->operators.n; vi++) {
        const wr_msg_operator_stats_t *v = &r->operators.v[vi];
        char name[96], places[256] = "";
        for (uint32_t s = 0; s < v->subtasks.n; s++) {
            char node[32], state[16];
            size_t used = strlen(places);
            snprintf(places + used, sizeof places - used, "%s%s:%s", s ? " " : "",
                     s_cstr(node, sizeof node, v->subtasks.v[s].node),
                     s_cstr(state, sizeof state, v->subtasks.v[s].state));
        }
        char wmtext[32] = "-";
        int64_t wm = v->watermark;
        if (wm > INT64_MIN && wm < INT64_MAX) {
            time_t secs = (time_t)(wm / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(wmtext, sizeof wmtext, "%H:%M:%S", &tm);
        } else if (wm == INT64_MAX) {
            snprintf(wmtext, sizeof wmtext, "end");
        }
        fprintf(out, "%-40s %4.0f %12.0f %12.0f %10.0f %10.0f %8.0f %6.0f %12s  %s\n",
                s_cstr(name, sizeof name, v->name), (double)v->parallelism, (double)v->records_in,
                (double)v->records_out, (double)v->windows_fired, (double)v->late_dropped,
                (double)v->skipped, (double)v->backpressure, wmtext, places);
    }
}

void wr_render_job(const wr_msg_job_reply_t *r, FILE *out)
{
    s_job_operators(r, out);
    char id[32], name[64], state[16], error[256], dur[16];
    s_cstr(id, sizeof id, r->id);
    s_age(dur, sizeof dur, (double)r->duration_ms);
    fprintf(out, "\njob %s (%s): %s after %s, %.0f slots%s%s\n", id,
            s_cstr(name, sizeof name, r->name), s_cstr(state, sizeof state, r->state), dur,
            (double)r->slots, r->error.len ? ": " : "", s_cstr(error, sizeof error, r->error));
    double checkpoint = (double)r->latest_checkpoint, restarts = (double)r->restarts;
    if (checkpoint || restarts)
        fprintf(out, "latest checkpoint %.0f (weir checkpoints %s); %.0f restarts%s", checkpoint,
                id, restarts, r->recovery_ms > 0 ? "" : "\n");
    if ((checkpoint || restarts) && r->recovery_ms > 0)
        fprintf(out, ", the last recovery took %.0f ms\n", (double)r->recovery_ms);
}

/* ---- checkpoints ---- */

static void s_time(int64_t ms, char *out, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(out, cap, "%H:%M:%S", &tm);
}

static void s_size(uint64_t b, char *out, size_t cap)
{
    if (b >= (1ull << 30))
        snprintf(out, cap, "%.2f GB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(out, cap, "%.1f MB", (double)b / (1ull << 20));
    else if (b >= 1024)
        snprintf(out, cap, "%.1f kB", (double)b / 1024);
    else
        snprintf(out, cap, "%llu B", (unsigned long long)b);
}

void wr_render_checkpoints(const wr_msg_ckpt_list_reply_t *r, FILE *out)
{
    char job[32], state[16], latest[WR_MSG_PATH_MAX];
    fprintf(out, "job %s %s, checkpoints every %lld ms%s\n", s_cstr(job, sizeof job, r->job),
            s_cstr(state, sizeof state, r->state), (long long)r->interval_ms,
            r->interval_ms ? "" : " (periodic checkpoints off)");
    fprintf(out, "%6s  %-11s  %-10s  %8s  %9s  %10s  %10s  %9s  %s\n", "id", "status", "kind",
            "trigger", "duration", "full", "incremental", "alignment", "");
    for (uint32_t i = 0; i < r->checkpoints.n; i++) {
        const wr_msg_ckpt_stat_t *c = &r->checkpoints.v[i];
        char status[16], kind[16], reason[128], t[16], fs[24], is[24];
        s_cstr(status, sizeof status, c->status);
        s_time(c->trigger_ms, t, sizeof t);
        s_size(c->full_size, fs, sizeof fs);
        s_size(c->incremental_size, is, sizeof is);
        fprintf(out, "%6llu  %-11s  %-10s  %8s  %7lld ms  %10s  %10s  %6lld ms  %s\n",
                (unsigned long long)c->id, status, s_cstr(kind, sizeof kind, c->kind), t,
                (long long)c->duration_ms, fs, is, (long long)c->alignment_ms,
                strcmp(status, "FAILED") ? "" : s_cstr(reason, sizeof reason, c->reason));
    }
    fprintf(out, "latest completed: %s\n",
            r->latest.len ? s_cstr(latest, sizeof latest, r->latest) : "none");
}

int wr_render_json(const wr_msg_t *reply, FILE *out)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = wr_mp_to_json(reply->data, reply->len, SIZE_MAX, &sb);
    if (!rc) fprintf(out, "%s\n", sb.buf);
    wr_strbuf_release(&sb);
    return rc;
}
