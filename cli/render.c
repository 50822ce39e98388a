#include "cli/render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "bus/error.h"
#include "bus/json.h"
#include "bus/mp.h"
#include "bus/strbuf.h"

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
