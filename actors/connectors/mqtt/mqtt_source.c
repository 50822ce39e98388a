/* The MQTT source (mqtt.h): its keys, the rules across them, and its enumerator, which makes one
 * split per subtask (MQTT cannot replay: a split is a subscription, with no position). The
 * reader is mqtt_source_reader.c. */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/mqtt/mqtt_source_internal.h"
#include "actors/connectors/textsrc.h"
#include "bus/base/error.h"

#define S_DURATION_MOST INT64_C(86400000)        /* a day */
#define S_EXPIRY_MOST   (30 * INT64_C(86400000)) /* 30 days */
#define S_QUEUE_MOST    (UINT64_C(1) << 30)      /* 1 GiB */

static const char *const s_unavailable[] = {"fail", "wait", NULL};

typedef wr_mqtt_source_config_t s_config_t;

static const wr_param_t s_params[] = {
    {.key = "broker",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(s_config_t, broker),
     .required = true,
     .example = "127.0.0.1:1883",
     .doc = "HOST:PORT of the broker"},
    {.key = "topics",
     .type = WR_PARAM_LIST,
     WR_PARAM_AT(s_config_t, topics),
     .required = true,
     .example = "sensors/+/temp",
     .doc = "a topic filter or a list of them (+ and # allowed)"},
    {.key = "qos",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(s_config_t, qos),
     .lo = 0,
     .hi = 1,
     .dflt = "1",
     .doc = "0 (at most once) or 1 (at least once, with a persistent session)"},
    {.key = "client_id",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(s_config_t, client_id),
     .dflt = "auto",
     .doc = "auto: weir-JOB-SOURCE-SUBTASK; given: ID-SUBTASK"},
    {.key = "share_group",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(s_config_t, share_group),
     .dflt = "auto",
     .doc = "the shared subscription's group: auto (weir-JOB-SOURCE), a name, or none"},
    {.key = "clean_start",
     .type = WR_PARAM_BOOL,
     WR_PARAM_AT(s_config_t, clean_start),
     .doc = "false: a persistent session the broker keeps for session_expiry"},
    {.key = "session_expiry",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(s_config_t, session_expiry_ms),
     .lo = 1000,
     .hi = S_EXPIRY_MOST,
     .dflt = "1h",
     .doc = "how long the broker keeps a disconnected subtask's session"},
    {.key = "username",
     .type = WR_PARAM_LIST,
     WR_PARAM_AT(s_config_t, username),
     .doc = "optional user name"},
    {.key = "password",
     .type = WR_PARAM_LIST,
     WR_PARAM_AT(s_config_t, password),
     .doc = "optional password (with username)"},
    {.key = "tls",
     .type = WR_PARAM_PAIRS,
     WR_PARAM_AT(s_config_t, tls),
     .doc = "cafile or capath, and optionally certfile and keyfile"},
    WR_TEXTSRC_FORMAT(s_config_t, format, "jsonl or csv: each payload holds one or more lines"),
    WR_TEXTSRC_HEADER(s_config_t, header, "csv: must be false (a payload has no header line)"),
    WR_TEXTSRC_ON_ERROR(s_config_t, on_error,
                        "a bad line: fail (the job fails, naming the topic) or skip (counted)"),
    WR_TEXTSRC_MAX_LINE(s_config_t, max_line),
    {.key = "on_unavailable",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(s_config_t, on_unavailable),
     .words = s_unavailable,
     .dflt = "fail",
     .doc = "the broker unreachable at start: fail, or wait (keep trying, idle)"},
    {.key = "idle_timeout",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(s_config_t, idle_timeout_ms),
     .lo = 0,
     .hi = S_DURATION_MOST,
     .dflt = "10s",
     .doc = "a subtask without messages this long stops holding the watermark back (0: never)"},
    {.key = "end_after_idle",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(s_config_t, end_after_idle_ms),
     .lo = 0,
     .hi = S_DURATION_MOST,
     .dflt = "0s",
     .doc = "0: a stream; else a subtask ends once subscribed this long without a message"},
    {.key = "queue_bytes",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(s_config_t, queue_bytes),
     .lo = 64 * 1024,
     .hi = (int64_t)S_QUEUE_MOST,
     .dflt = "16777216",
     .doc = "messages received and not yet read, bytes (the reader's memory bound)"},
};

bool wr__mqtt_broker(const char *broker, char *host, size_t hmax, int *port)
{
    const char *colon = strrchr(broker, ':');
    if (!colon || colon == broker || (size_t)(colon - broker) >= hmax) return false;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 1 || p > 65535) return false;
    memcpy(host, broker, (size_t)(colon - broker));
    host[colon - broker] = '\0';
    *port = (int)p;
    return true;
}

int wr__mqtt_tls_read(const char *lines, wr__mqtt_tls_t *out, wr_strbuf_t *err)
{
    memset(out, 0, sizeof *out);
    size_t at = 0, used = 0, len;
    const char *line;
    while (wr_params_next_line(lines, &at, &line, &len)) {
        const char *eq = memchr(line, '=', len);
        size_t nlen = eq ? (size_t)(eq - line) : len;
        const char **slot = NULL;
        if (nlen == 6 && !memcmp(line, "cafile", 6)) slot = &out->cafile;
        if (nlen == 6 && !memcmp(line, "capath", 6)) slot = &out->capath;
        if (nlen == 8 && !memcmp(line, "certfile", 8)) slot = &out->certfile;
        if (nlen == 7 && !memcmp(line, "keyfile", 7)) slot = &out->keyfile;
        if (!slot || !eq) {
            wr_strbuf_addf(err, "tls: '%.*s' is not one of cafile, capath, certfile, keyfile",
                           (int)nlen, line);
            return WR_ECONFIG;
        }
        size_t vlen = len - nlen - 1;
        if (used + vlen + 1 > sizeof out->buf) {
            wr_strbuf_adds(err, "tls: the paths are too long");
            return WR_ECONFIG;
        }
        memcpy(out->buf + used, eq + 1, vlen);
        out->buf[used + vlen] = '\0';
        *slot = out->buf + used;
        used += vlen + 1;
    }
    if (!lines) return 0;
    if (!out->cafile && !out->capath) {
        wr_strbuf_adds(err, "tls: needs cafile or capath (the certificates to trust the broker)");
        return WR_ECONFIG;
    }
    if (!out->certfile != !out->keyfile) {
        wr_strbuf_adds(err, "tls: certfile and keyfile go together");
        return WR_ECONFIG;
    }
    return 0;
}

/* A share group or client id given: no '/', '+', '#' (a share group), printable. */
static const char *s_name_invalid(const char *s, bool group)
{
    if (strlen(s) >= WR__MQTT_NAME_MAX - 16) return "is too long";
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) return "holds a space or a control character";
        if (group && (*p == '/' || *p == '+' || *p == '#')) return "holds '/', '+' or '#'";
    }
    return NULL;
}

static int s_check_topics(const s_config_t *c, const wr_param_check_t *ck)
{
    if (!c->topics) return wr_param_fail(ck, "topics", "no topic");
    size_t at = 0, len;
    const char *line;
    char filter[WR_PARAM_STRING_MAX];
    while (wr_params_next_line(c->topics, &at, &line, &len)) {
        memcpy(filter, line, len);
        filter[len] = '\0';
        if (mosquitto_sub_topic_check(filter) != MOSQ_ERR_SUCCESS ||
            mosquitto_validate_utf8(filter, (int)len) != MOSQ_ERR_SUCCESS)
            return wr_param_fail(ck, "topics",
                                 "'%s' is not an MQTT topic filter (+ and # stand for whole "
                                 "levels: a/+/c, a/#)",
                                 filter);
        if (!strncmp(filter, "$share/", 7))
            return wr_param_fail(ck, "topics",
                                 "'%s': give the filter alone; share_group makes the shared "
                                 "subscription",
                                 filter);
    }
    return 0;
}

static int s_check_one(const char *value, const char *key, const wr_param_check_t *ck)
{
    if (value && strchr(value, '\n')) return wr_param_fail(ck, key, "%s takes one value", key);
    return 0;
}

static int s_check(void *config, const wr_param_check_t *ck)
{
    s_config_t *c = config;
    char host[WR_PARAM_STRING_MAX];
    int port;
    if (c->header)
        return wr_param_fail(ck, "header",
                             "an MQTT payload has no header line: the columns are the schema's "
                             "fields in order (header: false)");
    if (!wr__mqtt_broker(c->broker, host, sizeof host, &port))
        return wr_param_fail(ck, "broker", "'%s' is not HOST:PORT (127.0.0.1:1883)", c->broker);
    int rc = s_check_topics(c, ck);
    if (!rc) rc = s_check_one(c->username, "username", ck);
    if (!rc) rc = s_check_one(c->password, "password", ck);
    if (!rc && c->password && !c->username)
        rc = wr_param_fail(ck, "password", "a password needs a username");
    const char *why = NULL;
    if (!rc && (why = s_name_invalid(c->client_id, false)))
        rc = wr_param_fail(ck, "client_id", "'%s' %s", c->client_id, why);
    if (!rc && (why = s_name_invalid(c->share_group, true)))
        rc = wr_param_fail(ck, "share_group", "'%s' %s", c->share_group, why);
    if (!rc && c->tls) {
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        wr__mqtt_tls_t tls;
        if (wr__mqtt_tls_read(c->tls, &tls, &err)) rc = wr_param_fail(ck, "tls", "%s", err.buf);
        wr_strbuf_release(&err);
    }
    return rc;
}

static void s_parallelism(const void *config, uint32_t *dflt, uint32_t *max, const char **why)
{
    const s_config_t *c = config;
    *dflt = 0;
    *max = strcmp(c->share_group, "none") ? 0 : 1;
    *why = "an MQTT source without a share group gives every subtask every message: parallelism 1";
}

/* ---- the enumerator ---- */

bool wr__mqtt_split_number(const char *id, unsigned long *k)
{
    char *end;
    *k = strtoul(id, &end, 10);
    return id[0] >= '0' && id[0] <= '9' && !*end;
}

/* One split per subtask, "0" to "P-1", with no position. Restored: the checkpoint's splits are
 * ours (a subtask number, no position); those of subtasks that still exist keep their event
 * time, and those of subtasks that are gone (K >= P: a restore at a lower parallelism) stay
 * splits, of subtask K mod P, which drains the gone one's session (mqtt_drain.h), unless
 * clean_start left no session to drain. */
static int s_enumerate(const void *config, uint32_t parallelism, bool restored, wr_splits_t *splits,
                       wr_strbuf_t *err)
{
    const s_config_t *c = config;
    int64_t *et = malloc(parallelism * sizeof *et);
    uint32_t *gone = malloc((restored ? splits->n : 1) * sizeof *gone), ngone = 0;
    if (!et || !gone) {
        free(et);
        free(gone);
        return WR_ENOMEM;
    }
    for (uint32_t k = 0; k < parallelism; k++)
        et[k] = INT64_MIN;
    int rc = 0;
    for (uint32_t i = 0; restored && i < splits->n && !rc; i++) {
        const wr_split_t *s = &splits->v[i];
        unsigned long k = 0;
        if (!wr__mqtt_split_number(s->id, &k) || s->pos_len) {
            wr_strbuf_addf(err,
                           "mqtt source: the checkpoint's split '%s' is not an MQTT source's "
                           "(a subtask number, no position)",
                           s->id);
            rc = WR_EPROTO;
        } else if (k < parallelism && s->event_time > et[k]) {
            et[k] = s->event_time;
        } else if (k >= parallelism && k <= UINT32_MAX && !c->clean_start) {
            gone[ngone++] = (uint32_t)k;
        }
    }
    if (!rc) wr_splits_clear(splits);
    for (uint32_t k = 0; k < parallelism && !rc; k++) {
        char id[16];
        snprintf(id, sizeof id, "%u", k);
        rc = wr_splits_add(splits, id, NULL, 0, et[k]);
        if (!rc) splits->v[splits->n - 1].subtask = k;
    }
    for (uint32_t i = 0; i < ngone && !rc; i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", gone[i]);
        rc = wr_splits_add(splits, id, NULL, 0, INT64_MIN);
        if (!rc) splits->v[splits->n - 1].subtask = gone[i] % parallelism;
    }
    free(et);
    free(gone);
    return rc;
}

const wr_source_class_t wr_mqtt_source_class = {
    .type = "mqtt",
    .noun = "an MQTT source",
    .params = s_params,
    .nparams = sizeof s_params / sizeof *s_params,
    .config_size = sizeof(s_config_t),
    .check = s_check,
    .parallelism = s_parallelism,
    .enumerate = s_enumerate,
    .open = wr__msrc_open,
    .close = wr__msrc_close,
    .add_split = wr__msrc_add_split,
    .read = wr__msrc_read,
    .snapshot = wr__msrc_snapshot,
};
