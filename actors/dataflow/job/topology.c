/* Topologies: the tables of their keys (declared once, params.h: the YAML reader, the check and
 * the bus form all walk them), their sources and sinks as connectors with configs, names,
 * rescaling, and freeing. Reading, checking, packing and comparing are in topology_*.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/topology_internal.h"
#include "bus/base/error.h"

#define S_DAY  INT64_C(86400000)
#define S_YEAR (365 * S_DAY)
#define S_MAXP WR_TOPO_MAX_PARALLELISM

bool wr__topo_name_ok(const char *s, size_t len, size_t max, bool job)
{
    if (len == 0 || len >= max) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
                  (job && ((ch >= 'A' && ch <= 'Z') || ch == '.'));
        if (!ok) return false;
    }
    return true;
}

static bool s_op_name(const char *s, size_t len)
{
    return wr__topo_name_ok(s, len, WR_TOPO_NAME_MAX, false);
}

static bool s_job_name(const char *s, size_t len)
{
    return wr__topo_name_ok(s, len, WR_TOPO_JOB_NAME_MAX, true);
}

bool wr__topo_field_ok(const char *s, size_t len)
{
    char name[WR_FIELD_NAME_MAX];
    if (len >= sizeof name) return false;
    memcpy(name, s, len);
    name[len] = '\0';
    return wr_field_name_valid(name);
}

/* ---- the tables ---- */

#define S_NAME_WHY  "is not a valid name (a-z, 0-9, _ and -; up to 31)"
#define S_FIELD_WHY "is not a field name (a letter or _, then letters, digits, _; up to 31)"
#define P_NAME(st, m)                                                                              \
    {                                                                                              \
        .key = "name", .type = WR_PARAM_CHARS, WR_PARAM_AT(st, m), .valid = s_op_name,             \
        .why = S_NAME_WHY                                                                          \
    }
#define P_FIELD(k, st, m)                                                                          \
    {                                                                                              \
        .key = k, .type = WR_PARAM_CHARS, WR_PARAM_AT(st, m), .valid = wr__topo_field_ok,          \
        .empty_ok = true, .why = S_FIELD_WHY                                                       \
    }
#define P_PAR(st, m)                                                                               \
    {                                                                                              \
        .key = "parallelism", .type = WR_PARAM_INT, WR_PARAM_AT(st, m), .lo = 1, .hi = S_MAXP      \
    }
#define P_DUR(k, st, m, l, h, d)                                                                   \
    {                                                                                              \
        .key = k, .type = WR_PARAM_DURATION, WR_PARAM_AT(st, m), .lo = l, .hi = h, .dflt = d       \
    }

const char *const wr__topo_window_words[] = {"", "sliding", "tumbling", "session", NULL};
const char *const wr__topo_op_words[] = {"filter", "map", NULL};
const char *const wr__topo_agg_words[] = {"count", "sum",      "min",         "max",
                                          "avg",   "stddev",   "stddev_samp", "first",
                                          "last",  "quantile", NULL};

const wr_param_t wr__topo_top[WR__TOP_N] = {
    [WR__TOP_NAME] = {.key = "name",
                      .type = WR_PARAM_CHARS,
                      WR_PARAM_AT(wr_topology_t, name),
                      .valid = s_job_name,
                      .why = "is not a valid name (letters, digits, _ . -; up to 63)"},
    [WR__TOP_PAR] = {.key = "parallelism",
                     .type = WR_PARAM_INT,
                     WR_PARAM_AT(wr_topology_t, parallelism),
                     .lo = 1,
                     .hi = S_MAXP,
                     .dflt = "1"},
    [WR__TOP_MAXPAR] = {.key = "max_parallelism",
                        .type = WR_PARAM_INT,
                        WR_PARAM_AT(wr_topology_t, max_parallelism),
                        .lo = 1,
                        .hi = S_MAXP,
                        .dflt = "128"},
    [WR__TOP_KEY] = P_FIELD("key_by", wr_topology_t, key_by),
};

const wr_param_t wr__topo_event_time[WR__ET_N] = {
    [WR__ET_FIELD] = P_FIELD("field", wr_topo_event_time_t, field),
    P_DUR("max_out_of_orderness", wr_topo_event_time_t, max_out_of_orderness_ms, 0, 7 * S_DAY, "0"),
    P_DUR("idle_timeout", wr_topo_event_time_t, idle_timeout_ms, 0, 7 * S_DAY, "0"),
    P_DUR("watermark_interval", wr_topo_event_time_t, watermark_interval_ms, 1, 3600000, "200ms"),
};

const wr_param_t wr__topo_window[WR__WIN_N] = {
    [WR__WIN_TYPE] = {.key = "type",
                      .type = WR_PARAM_ENUM,
                      WR_PARAM_AT(wr_topo_window_t, kind),
                      .words = wr__topo_window_words},
    [WR__WIN_NAME] = P_NAME(wr_topo_window_t, name),
    [WR__WIN_PAR] = P_PAR(wr_topo_window_t, parallelism),
    [WR__WIN_SIZE] = P_DUR("size", wr_topo_window_t, size_ms, 0, 10 * S_YEAR, NULL),
    [WR__WIN_SLIDE] = P_DUR("slide", wr_topo_window_t, slide_ms, 0, 10 * S_YEAR, NULL),
    [WR__WIN_GAP] = P_DUR("gap", wr_topo_window_t, gap_ms, 0, 10 * S_YEAR, NULL),
    [WR__WIN_LATENESS] =
        P_DUR("allowed_lateness", wr_topo_window_t, allowed_lateness_ms, 0, 10 * S_YEAR, "0"),
    {.key = "quantile_accuracy",
     .type = WR_PARAM_DOUBLE,
     WR_PARAM_AT(wr_topo_window_t, quantile_accuracy),
     .dlo = 0.0001,
     .dhi = 0.5,
     .dflt = "0.01"},
};

const wr_param_t wr__topo_op[WR__OP_N] = {
    /* a file says filter: or map:, the bus says which */
    [WR__OP_TYPE] = {.key = "type",
                     .type = WR_PARAM_ENUM,
                     WR_PARAM_AT(wr_topo_op_t, kind),
                     .words = wr__topo_op_words,
                     .bus_only = true},
    [WR__OP_NAME] = P_NAME(wr_topo_op_t, name),
    [WR__OP_PAR] = P_PAR(wr_topo_op_t, parallelism),
};

/* the bus form of an aggregate (a file writes `name: fn(field)`) */
const wr_param_t wr__topo_agg[WR__AGG_N] = {
    P_FIELD("name", wr_topo_agg_t, name),
    {.key = "fn",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(wr_topo_agg_t, fn),
     .words = wr__topo_agg_words},
    P_FIELD("field", wr_topo_agg_t, field),
    {.key = "q", .type = WR_PARAM_DOUBLE, WR_PARAM_AT(wr_topo_agg_t, q), .dlo = 0, .dhi = 1},
};

const wr_param_t wr__topo_source[WR__IO_N] = {
    [WR__IO_NAME] = P_NAME(wr_topo_source_t, name),
    [WR__IO_PAR] = P_PAR(wr_topo_source_t, parallelism),
};

const wr_param_t wr__topo_sink[WR__IO_N] = {
    [WR__IO_NAME] = P_NAME(wr_topo_sink_t, name),
    [WR__IO_PAR] = P_PAR(wr_topo_sink_t, parallelism),
};

/* ---- sources and sinks ---- */

void wr__topo_source_groups(wr_topo_source_t *s, wr_param_group_t g[2])
{
    g[0] = (wr_param_group_t)WR__GROUP(wr__topo_source, s);
    g[1] = (wr_param_group_t){s->cls->params, s->cls->nparams, s->config};
}

void wr__topo_sink_groups(wr_topo_sink_t *s, wr_param_group_t g[2])
{
    g[0] = (wr_param_group_t)WR__GROUP(wr__topo_sink, s);
    g[1] = (wr_param_group_t){s->cls->params, s->cls->nparams, s->config};
}

/* A new config of size bytes with the table's defaults into *config (the old one freed). */
static int s_config(const wr_param_t *p, size_t n, size_t size, void **config)
{
    void *c = calloc(1, size ? size : 1);
    if (!c) return WR_ENOMEM;
    int rc = wr_params_defaults(p, n, c);
    if (rc) {
        wr_params_release(p, n, c);
        free(c);
        return rc;
    }
    *config = c;
    return 0;
}

int wr__topo_source_set(wr_topo_source_t *s, const wr_source_class_t *cls)
{
    wr__topo_source_free(s);
    s->cls = cls;
    return s_config(cls->params, cls->nparams, cls->config_size, &s->config);
}

int wr__topo_sink_set(wr_topo_sink_t *s, const wr_sink_class_t *cls)
{
    wr__topo_sink_free(s);
    s->cls = cls;
    return s_config(cls->params, cls->nparams, cls->config_size, &s->config);
}

void wr__topo_source_free(wr_topo_source_t *s)
{
    if (s->config) wr_params_release(s->cls->params, s->cls->nparams, s->config);
    free(s->config);
    s->config = NULL;
}

void wr__topo_sink_free(wr_topo_sink_t *s)
{
    if (s->config) wr_params_release(s->cls->params, s->cls->nparams, s->config);
    free(s->config);
    s->config = NULL;
}

/* A connector's parallelism: p capped by what it takes. */
static uint32_t s_capped(void (*par)(const void *, uint32_t *, uint32_t *, const char **),
                         const void *config, uint32_t p)
{
    uint32_t dflt = 0, max = 0;
    const char *why = NULL;
    if (par) par(config, &dflt, &max, &why);
    return max && p > max ? max : p;
}

void wr_topology_set_parallelism(wr_topology_t *t, uint32_t n)
{
    t->parallelism = n;
    for (uint32_t i = 0; i < t->n_sources; i++)
        t->sources[i].parallelism =
            s_capped(t->sources[i].cls->parallelism, t->sources[i].config, n);
    for (uint32_t i = 0; i < t->n_ops; i++)
        t->ops[i].parallelism = n;
    if (t->window.kind != WR_TOPO_WINDOW_NONE) t->window.parallelism = n;
    for (uint32_t i = 0; i < t->n_sinks; i++)
        t->sinks[i].parallelism = s_capped(t->sinks[i].cls->parallelism, t->sinks[i].config, n);
}

void wr_topology_destroy(wr_topology_t **tp)
{
    if (!tp || !*tp) return;
    wr_topology_t *t = *tp;
    for (uint32_t i = 0; i < WR_TOPO_MAX_SOURCES; i++)
        wr__topo_source_free(&t->sources[i]);
    for (uint32_t i = 0; i < WR_TOPO_MAX_OPS; i++) {
        free(t->ops[i].filter);
        for (uint32_t k = 0; k < t->ops[i].n_outputs; k++)
            free(t->ops[i].outputs[k].expr);
        free(t->ops[i].outputs);
    }
    for (uint32_t i = 0; i < WR_TOPO_MAX_SINKS; i++)
        wr__topo_sink_free(&t->sinks[i]);
    wr__topo_sink_free(&t->window.late_sink);
    free(t);
    *tp = NULL;
}

/* ---- errors and names ---- */

int wr__topo_fail(wr__topo_ctx_t *c, uint32_t line, const char *key, const char *fmt, ...)
{
    if (!c->doc) return WR_EPROTO;
    va_list ap;
    va_start(ap, fmt);
    int rc = wr_yaml_vfail(c->doc, line, key, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *s_word(const char *const *words, int n, int i)
{
    return i >= 0 && i < n && *words[i] ? words[i] : "?";
}

const char *wr_topo_window_kind_name(enum wr_topo_window_kind k)
{
    return k == WR_TOPO_WINDOW_NONE ? "none" : s_word(wr__topo_window_words, 4, (int)k);
}

const char *wr_topo_agg_fn_name(enum wr_topo_agg_fn fn)
{
    return s_word(wr__topo_agg_words, 10, (int)fn);
}
