#include "cli/render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/base/mp.h"
#include "bus/base/strbuf.h"

/* A map entry's value as text or number, for the fields we show. */
typedef struct {
    char text[128];
    double num;
    bool is_num;
} s_val_t;

/* Copies src into dst, truncating to fit. */
static void s_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Reads the next key of a map into key (truncated); 0 or error. */
static int s_key(wr_mp_reader_t *r, char *key, size_t cap)
{
    const char *s;
    uint32_t n;
    int rc = wr_mp_read_str(r, &s, &n);
    if (rc) return rc;
    snprintf(key, cap, "%.*s", (int)n, s);
    return 0;
}

/* Reads a scalar value (number or string); skips anything else. */
static int s_scalar(wr_mp_reader_t *r, s_val_t *v)
{
    memset(v, 0, sizeof *v);
    switch (wr_mp_peek(r)) {
    case WR_MP_STR: {
        const char *s;
        uint32_t n;
        int rc = wr_mp_read_str(r, &s, &n);
        snprintf(v->text, sizeof v->text, "%.*s", (int)n, s);
        return rc;
    }
    case WR_MP_UINT:
    case WR_MP_INT:
    case WR_MP_FLOAT: {
        int rc = wr_mp_read_double(r, &v->num);
        v->is_num = true;
        snprintf(v->text, sizeof v->text, "%g", v->num);
        return rc;
    }
    default: return wr_mp_skip(r);
    }
}

static void s_age(char *buf, size_t cap, double ms)
{
    if (ms < 1000) snprintf(buf, cap, "%.0fms", ms);
    else if (ms < 120000) snprintf(buf, cap, "%.1fs", ms / 1000);
    else snprintf(buf, cap, "%.0fmin", ms / 60000);
}

typedef struct {
    char addr[96];
    double depth, capacity, high_water, dequeued, rejected, restarts, rate, oldest;
} s_actor_row_t;

static int s_actor_row(wr_mp_reader_t *r, s_actor_row_t *row)
{
    uint32_t n;
    memset(row, 0, sizeof *row);
    int rc = wr_mp_read_map(r, &n);
    for (uint32_t i = 0; !rc && i < n; i++) {
        char key[32];
        s_val_t v;
        if ((rc = s_key(r, key, sizeof key)) || (rc = s_scalar(r, &v))) break;
        if (!strcmp(key, "addr")) s_copy(row->addr, sizeof row->addr, v.text);
        else if (!strcmp(key, "depth")) row->depth = v.num;
        else if (!strcmp(key, "capacity")) row->capacity = v.num;
        else if (!strcmp(key, "high_water")) row->high_water = v.num;
        else if (!strcmp(key, "dequeued")) row->dequeued = v.num;
        else if (!strcmp(key, "rejected")) row->rejected = v.num;
        else if (!strcmp(key, "restarts")) row->restarts = v.num;
        else if (!strcmp(key, "rate")) row->rate = v.num;
        else if (!strcmp(key, "oldest_age_ms")) row->oldest = v.num;
    }
    return rc;
}

static void s_print_actor(FILE *out, const char *status, const s_actor_row_t *a)
{
    char mbox[32], oldest[16];
    snprintf(mbox, sizeof mbox, "%.0f/%.0f", a->depth, a->capacity);
    s_age(oldest, sizeof oldest, a->oldest);
    fprintf(out, "%-36s %-7s %-11s %6.0f %9.1f %7s %10.0f %8.0f %8.0f\n", a->addr, status, mbox,
            a->high_water, a->rate, a->depth ? oldest : "-", a->dequeued, a->rejected, a->restarts);
}

int wr_render_actors(const uint8_t *buf, size_t len, FILE *out)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf, len);
    uint32_t nodes = 0;
    int rc = wr_mp_read_array(&r, &nodes);
    fprintf(out, "%-36s %-7s %-11s %6s %9s %7s %10s %8s %8s\n", "ACTOR", "STATUS", "MAILBOX", "HIGH",
            "RATE/s", "OLDEST", "HANDLED", "REJECTED", "RESTARTS");
    wr_strbuf_t notes;
    wr_strbuf_init(&notes);
    for (uint32_t ni = 0; !rc && ni < nodes; ni++) {
        uint32_t nkeys = 0;
        char node[64] = "?", status[32] = "?", endpoint[128] = "";
        double last_heard = -1, malformed = 0;
        if ((rc = wr_mp_read_map(&r, &nkeys))) break;
        for (uint32_t k = 0; !rc && k < nkeys; k++) {
            char key[32];
            if ((rc = s_key(&r, key, sizeof key))) break;
            if (!strcmp(key, "actors")) {
                uint32_t na = 0;
                if ((rc = wr_mp_read_array(&r, &na))) break;
                for (uint32_t a = 0; !rc && a < na; a++) {
                    s_actor_row_t row;
                    if (!(rc = s_actor_row(&r, &row))) s_print_actor(out, status, &row);
                }
                continue;
            }
            s_val_t v;
            if ((rc = s_scalar(&r, &v))) break;
            if (!strcmp(key, "node")) s_copy(node, sizeof node, v.text);
            else if (!strcmp(key, "status")) s_copy(status, sizeof status, v.text);
            else if (!strcmp(key, "endpoint")) s_copy(endpoint, sizeof endpoint, v.text);
            else if (!strcmp(key, "last_heard_ms")) last_heard = v.num;
            else if (!strcmp(key, "malformed")) malformed = v.num;
        }
        if (rc) break;
        if (strcmp(status, "up")) {
            char ago[16] = "";
            if (last_heard >= 0) s_age(ago, sizeof ago, last_heard);
            fprintf(out, "%-36s %-7s %s%s%s%s\n", node, status, endpoint,
                    last_heard >= 0 ? " (since " : "", ago, last_heard >= 0 ? " ago)" : "");
        }
        wr_strbuf_addf(&notes, "node %-12s %-12s %-28s malformed frames dropped: %.0f\n", node,
                       status, endpoint, malformed);
    }
    if (!rc) fprintf(out, "\n%s", notes.buf);
    wr_strbuf_release(&notes);
    return rc ? WR_EPROTO : 0;
}

int wr_render_mailbox(const uint8_t *buf, size_t len, FILE *out)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf, len);
    uint32_t nkeys = 0;
    int rc = wr_mp_read_map(&r, &nkeys);
    wr_strbuf_t json;
    wr_strbuf_init(&json);
    for (uint32_t k = 0; !rc && k < nkeys; k++) {
        char key[32];
        if ((rc = s_key(&r, key, sizeof key))) break;
        if (!strcmp(key, "types") || !strcmp(key, "processing_us")) {
            const uint8_t *start = r.p;
            if ((rc = wr_mp_skip(&r))) break;
            wr_strbuf_reset(&json);
            wr_mp_to_json(start, (size_t)(r.p - start), 4096, &json);
            fprintf(out, "%-16s %s\n", !strcmp(key, "types") ? "types" : "processing (us)", json.buf);
            continue;
        }
        if (!strcmp(key, "recent")) {
            uint32_t n = 0;
            if ((rc = wr_mp_read_array(&r, &n))) break;
            fprintf(out, "recent messages (newest first): %u\n", n);
            for (uint32_t i = 0; !rc && i < n; i++) {
                uint32_t m = 0;
                char type[32] = "", from[96] = "";
                double size = 0, age = 0, waited = 0;
                if ((rc = wr_mp_read_map(&r, &m))) break;
                wr_strbuf_reset(&json);
                for (uint32_t j = 0; !rc && j < m; j++) {
                    char f[32];
                    if ((rc = s_key(&r, f, sizeof f))) break;
                    if (!strcmp(f, "payload")) {
                        const uint8_t *start = r.p;
                        if ((rc = wr_mp_skip(&r))) break;
                        wr_mp_to_json(start, (size_t)(r.p - start), 400, &json);
                        continue;
                    }
                    if (!strcmp(f, "payload_not_sampled")) {
                        if ((rc = wr_mp_skip(&r))) break;
                        wr_strbuf_adds(&json, "(payload not sampled: a busy mailbox keeps 1 in 8)");
                        continue;
                    }
                    if (!strcmp(f, "payload_truncated")) {
                        /* the first bytes of a longer payload: show as much as decodes */
                        const uint8_t *p;
                        uint32_t plen;
                        if ((rc = wr_mp_read_bin(&r, &p, &plen))) break;
                        wr_mp_to_json(p, plen, 400, &json);
                        wr_strbuf_adds(&json, " ... (truncated)");
                        continue;
                    }
                    s_val_t v;
                    if ((rc = s_scalar(&r, &v))) break;
                    if (!strcmp(f, "type")) s_copy(type, sizeof type, v.text);
                    else if (!strcmp(f, "from")) s_copy(from, sizeof from, v.text);
                    else if (!strcmp(f, "size")) size = v.num;
                    else if (!strcmp(f, "age_ms")) age = v.num;
                    else if (!strcmp(f, "waited_ms")) waited = v.num;
                }
                char ago[16];
                s_age(ago, sizeof ago, age);
                fprintf(out, "  %-14s from %-32s %6.0f B  %s ago, waited %.0fms\n    %s\n", type,
                        from, size, ago, waited, json.buf);
            }
            continue;
        }
        s_val_t v;
        if ((rc = s_scalar(&r, &v))) break;
        fprintf(out, "%-16s %s\n", key, v.text);
    }
    wr_strbuf_release(&json);
    return rc ? WR_EPROTO : 0;
}

/* ---- jobs ---- */

typedef struct {
    char id[32], name[64], state[16], error[256];
    double duration_ms, slots;
    double restarts, checkpoint, recovery_ms; /* `weir job` only */
} s_job_row_t;

/* Reads the summary fields of a job map; other keys are handed to `other` (or skipped). */
static int s_job_row(wr_mp_reader_t *r, s_job_row_t *j, int (*other)(wr_mp_reader_t *, const char *, FILE *),
                     FILE *out)
{
    uint32_t n;
    memset(j, 0, sizeof *j);
    int rc = wr_mp_read_map(r, &n);
    for (uint32_t i = 0; !rc && i < n; i++) {
        char key[32];
        if ((rc = s_key(r, key, sizeof key))) break;
        if (other && (!strcmp(key, "operators") || !strcmp(key, "collected"))) {
            rc = other(r, key, out);
            continue;
        }
        s_val_t v;
        if ((rc = s_scalar(r, &v))) break;
        if (!strcmp(key, "id")) s_copy(j->id, sizeof j->id, v.text);
        else if (!strcmp(key, "name")) s_copy(j->name, sizeof j->name, v.text);
        else if (!strcmp(key, "state")) s_copy(j->state, sizeof j->state, v.text);
        else if (!strcmp(key, "error")) s_copy(j->error, sizeof j->error, v.text);
        else if (!strcmp(key, "duration_ms")) j->duration_ms = v.num;
        else if (!strcmp(key, "slots")) j->slots = v.num;
        else if (!strcmp(key, "restarts")) j->restarts = v.num;
        else if (!strcmp(key, "latest_checkpoint")) j->checkpoint = v.num;
        else if (!strcmp(key, "recovery_ms")) j->recovery_ms = v.num;
    }
    return rc;
}

int wr_render_jobs(const uint8_t *buf, size_t len, FILE *out)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf, len);
    uint32_t n = 0;
    int rc = wr_mp_read_array(&r, &n);
    fprintf(out, "%-10s %-24s %-9s %5s %9s  %s\n", "JOB", "NAME", "STATE", "SLOTS", "DURATION", "ERROR");
    for (uint32_t i = 0; !rc && i < n; i++) {
        s_job_row_t j;
        if ((rc = s_job_row(&r, &j, NULL, out))) break;
        char dur[16];
        s_age(dur, sizeof dur, j.duration_ms);
        fprintf(out, "%-10s %-24s %-9s %5.0f %9s  %s\n", j.id, j.name, j.state, j.slots, dur, j.error);
    }
    return rc ? WR_EPROTO : 0;
}

/* The operators array of a JOB_REPLY, as a table. */
static int s_job_operators(wr_mp_reader_t *r, const char *key, FILE *out)
{
    if (strcmp(key, "operators")) return wr_mp_skip(r); /* collected results: `--json` shows them */
    uint32_t n = 0;
    int rc = wr_mp_read_array(r, &n);
    fprintf(out, "%-40s %4s %12s %12s %10s %10s %6s %12s  %s\n", "OPERATOR", "PAR", "RECORDS IN",
            "RECORDS OUT", "WINDOWS", "LATE", "BACKPR", "WATERMARK", "SUBTASKS");
    for (uint32_t vi = 0; !rc && vi < n; vi++) {
        uint32_t nk = 0;
        char name[96] = "", places[256] = "";
        double par = 0, in = 0, outn = 0, fired = 0, late = 0, bp = 0;
        int64_t wm = INT64_MIN;
        if ((rc = wr_mp_read_map(r, &nk))) break;
        for (uint32_t k = 0; !rc && k < nk; k++) {
            char f[32];
            if ((rc = s_key(r, f, sizeof f))) break;
            if (!strcmp(f, "subtasks")) {
                uint32_t ns = 0;
                if ((rc = wr_mp_read_array(r, &ns))) break;
                for (uint32_t s = 0; !rc && s < ns; s++) {
                    uint32_t m = 0;
                    char node[32] = "", state[16] = "";
                    if ((rc = wr_mp_read_map(r, &m))) break;
                    for (uint32_t q = 0; !rc && q < m; q++) {
                        char g[16];
                        s_val_t v;
                        if ((rc = s_key(r, g, sizeof g)) || (rc = s_scalar(r, &v))) break;
                        if (!strcmp(g, "node")) s_copy(node, sizeof node, v.text);
                        else if (!strcmp(g, "state")) s_copy(state, sizeof state, v.text);
                    }
                    size_t used = strlen(places);
                    snprintf(places + used, sizeof places - used, "%s%s:%s", s ? " " : "", node, state);
                }
                continue;
            }
            if (!strcmp(f, "watermark")) {
                if ((rc = wr_mp_read_int(r, &wm))) break;
                continue;
            }
            s_val_t v;
            if ((rc = s_scalar(r, &v))) break;
            if (!strcmp(f, "name")) s_copy(name, sizeof name, v.text);
            else if (!strcmp(f, "parallelism")) par = v.num;
            else if (!strcmp(f, "records_in")) in = v.num;
            else if (!strcmp(f, "records_out")) outn = v.num;
            else if (!strcmp(f, "windows_fired")) fired = v.num;
            else if (!strcmp(f, "late_dropped")) late = v.num;
            else if (!strcmp(f, "backpressure")) bp = v.num;
        }
        char wmtext[32] = "-";
        if (wm > INT64_MIN && wm < INT64_MAX) {
            time_t secs = (time_t)(wm / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(wmtext, sizeof wmtext, "%H:%M:%S", &tm);
        } else if (wm == INT64_MAX) {
            snprintf(wmtext, sizeof wmtext, "end");
        }
        fprintf(out, "%-40s %4.0f %12.0f %12.0f %10.0f %10.0f %6.0f %12s  %s\n", name, par, in, outn,
                fired, late, bp, wmtext, places);
    }
    return rc;
}

int wr_render_job(const uint8_t *buf, size_t len, FILE *out)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf, len);
    s_job_row_t j;
    /* operators come after the summary fields: print the summary when the table starts */
    int rc = s_job_row(&r, &j, s_job_operators, out);
    if (!rc) {
        char dur[16];
        s_age(dur, sizeof dur, j.duration_ms);
        fprintf(out, "\njob %s (%s): %s after %s, %.0f slots%s%s\n", j.id, j.name, j.state, dur, j.slots,
                j.error[0] ? ": " : "", j.error);
        if (j.checkpoint || j.restarts)
            fprintf(out, "latest checkpoint %.0f (weir checkpoints %s); %.0f restarts%s", j.checkpoint, j.id,
                    j.restarts, j.recovery_ms > 0 ? "" : "\n");
        if ((j.checkpoint || j.restarts) && j.recovery_ms > 0)
            fprintf(out, ", the last recovery took %.0f ms\n", j.recovery_ms);
    }
    return rc ? WR_EPROTO : 0;
}
