/* Topologies: the check of a whole topology, read from a file or off the bus, and its derived
 * fields: the schemas that flow from the sources through the operators to the window and the
 * sinks, field indices, the connectors' own rules (their parameters across keys, their
 * parallelism, their schema). A file's problems come with their lines; the bus's are WR_EPROTO. */
#include <stdio.h>
#include <string.h>

#include "actors/dataflow/expr/expr.h"
#include "actors/dataflow/job/topology_internal.h"
#include "bus/base/error.h"

#define S_LINE(c, member) ((c)->L ? (c)->L->member : 0u)

static void s_field_list(const wr_schema_t *s, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < s->n && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", s->f[i].name);
}

/* ---- values ---- */

static bool s_set_in(const uint32_t *lines, int i)
{
    return lines && lines[i];
}

/* Compiles src against in; on success *type gets its type and *field its bare field (or -1). */
static int s_compile(wr__topo_ctx_t *c, uint32_t line, const char *key, const char *src,
                     const wr_schema_t *in, enum wr_type *type, int *field)
{
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    wr_expr_t *e = wr_expr_compile(src, in, &msg);
    int rc = 0;
    if (!e)
        rc = msg.failed ? WR_ENOMEM
                        : wr__topo_fail(c, line, key, "%s", msg.len ? msg.buf : "invalid");
    else
        *type = wr_expr_type(e), *field = wr_expr_field(e);
    wr_expr_destroy(&e);
    wr_strbuf_release(&msg);
    return rc;
}

static int s_check_chain(wr__topo_ctx_t *c, wr_topology_t *t)
{
    wr_schema_t in = t->schema;
    char key[160];
    for (uint32_t i = 0; i < t->n_ops; i++) {
        wr_topo_op_t *op = &t->ops[i];
        enum wr_type type;
        int field, rc;
        if (op->kind == WR_TOPO_OP_FILTER) {
            snprintf(key, sizeof key, "operators[%u].filter", i);
            if ((rc = s_compile(c, S_LINE(c, out[i][0]), key, op->filter, &in, &type, &field)))
                return rc;
            if (type != WR_T_BOOL)
                return wr__topo_fail(c, S_LINE(c, out[i][0]), key,
                                     "this is %s expression; a filter "
                                     "needs a condition (e.g. temperature > 30)",
                                     wr_type_name(type));
            op->output = in;
        } else {
            wr_schema_init(&op->output);
            for (uint32_t k = 0; k < op->n_outputs; k++) {
                wr_topo_output_t *o = &op->outputs[k];
                snprintf(key, sizeof key, "operators[%u].map.%s", i, o->name);
                if ((rc = s_compile(c, S_LINE(c, out[i][k]), key, o->expr, &in, &type, &field)))
                    return rc;
                rc = wr_schema_add(&op->output, o->name, type);
                if (rc)
                    return wr__topo_fail(c, S_LINE(c, out[i][k]), key, "%s",
                                         rc == WR_EEXIST ? "given twice" : "is not a field name");
            }
        }
        in = op->output;
    }
    t->chain_out = t->input = in;
    return 0;
}

/* t->input becomes the fields of chain_out the window reads (see topology.h), the indices into
 * it with it. The window's fields were checked against the whole of chain_out. */
static void s_project_input(wr_topology_t *t)
{
    if (t->window.has_late_sink) return; /* late records go out whole */
    wr_schema_t in;
    wr_schema_init(&in);
    for (uint32_t f = 0; f < t->chain_out.n; f++) {
        const wr_field_t *x = &t->chain_out.f[f];
        bool read = !strcmp(x->name, t->key_by) || !strcmp(x->name, t->event_time.field);
        for (uint32_t i = 0; i < t->n_aggs && !read; i++)
            read = !strcmp(x->name, t->aggs[i].field);
        if (read) wr_schema_add(&in, x->name, x->type); /* a subset: no error */
    }
    t->input = in;
    t->key_index = wr_schema_find(&in, t->key_by);
    for (uint32_t i = 0; i < t->n_aggs; i++)
        if (t->aggs[i].field[0]) t->aggs[i].input = wr_schema_find(&in, t->aggs[i].field);
}

/* field must be in s with a type allowed by the mask (bits of enum wr_type). */
static int s_check_field(wr__topo_ctx_t *c, uint32_t line, const char *key, const char *field,
                         const wr_schema_t *s, unsigned types, const char *where, const char *want)
{
    char list[WR_SCHEMA_MAX_FIELDS * WR_FIELD_NAME_MAX];
    int i = wr_schema_find(s, field);
    if (i < 0) {
        s_field_list(s, list, sizeof list);
        return wr__topo_fail(c, line, key, "'%s' is not a field of %s (fields: %s)", field, where,
                             list);
    }
    if (!(types & (1u << s->f[i].type)))
        return wr__topo_fail(c, line, key, "'%s' is %s %s; %s", field,
                             s->f[i].type == WR_T_INT ? "an" : "a", wr_type_name(s->f[i].type),
                             want);
    return i;
}

#define S_T(t) (1u << (t))

static int64_t s_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

static int s_check_window(wr__topo_ctx_t *c, wr_topology_t *t)
{
    wr_topo_window_t *w = &t->window;
    const uint32_t *wl = c->L ? c->L->win : NULL;
    uint32_t wline = S_LINE(c, top_x[WR__X_WINDOW]);
    bool has = w->kind != WR_TOPO_WINDOW_NONE;
    if (!has) {
        if (t->key_by[0])
            return wr__topo_fail(c, S_LINE(c, top[WR__TOP_KEY]), "key_by",
                                 "needs a window "
                                 "(window: {type: tumbling, size: 1min})");
        if (t->n_aggs)
            return wr__topo_fail(c, S_LINE(c, top_x[WR__X_AGGREGATES]), "aggregates",
                                 "need a window (window: {type: tumbling, size: 1min})");
        if (t->event_time.field[0])
            return wr__topo_fail(c, S_LINE(c, top_x[WR__X_EVENT_TIME]), "event_time",
                                 "needs a window");
        t->key_index = -1;
        return 0;
    }
    if (!t->key_by[0]) return wr__topo_fail(c, wline, "window", "needs key_by (key_by: device)");
    if (!t->n_aggs)
        return wr__topo_fail(c, wline, "window", "needs aggregates (aggregates: {n: count()})");
    if (!t->event_time.field[0])
        return wr__topo_fail(c, wline, "window",
                             "needs event_time.field (event_time: {field: ts})");
    /* each kind takes its own lengths (a file that gives another one failed when read; from
     * the bus, a tumbling window's slide is its size) */
    if (w->kind == WR_TOPO_WINDOW_TUMBLING && w->slide_ms == 0) w->slide_ms = w->size_ms;
    static const char *const len_keys[] = {"size", "slide", "gap"};
    static const bool takes[4][3] = {{0, 0, 0}, {1, 1, 0}, {1, 1, 0}, {0, 0, 1}};
    int64_t *lens[] = {&w->size_ms, &w->slide_ms, &w->gap_ms};
    for (int k = 0; k < 3; k++) {
        char key[32];
        snprintf(key, sizeof key, "window.%s", len_keys[k]);
        uint32_t line = s_set_in(wl, WR__WIN_SIZE + k) ? wl[WR__WIN_SIZE + k] : wline;
        if (!takes[w->kind][k] && *lens[k])
            return wr__topo_fail(c, line, key, "not for a %s window",
                                 wr__topo_window_words[w->kind]);
        if (takes[w->kind][k] && *lens[k] <= 0)
            return wr__topo_fail(c, line, key, "%s (a %s window needs it)",
                                 *lens[k] ? "too small" : "missing",
                                 wr__topo_window_words[w->kind]);
    }
    if (w->kind == WR_TOPO_WINDOW_TUMBLING && w->slide_ms != w->size_ms)
        return wr__topo_fail(c, wline, "window.slide", "not for a tumbling window");
    if (w->kind == WR_TOPO_WINDOW_SLIDING) {
        uint32_t line = s_set_in(wl, WR__WIN_SLIDE) ? wl[WR__WIN_SLIDE] : wline;
        if (w->slide_ms > w->size_ms)
            return wr__topo_fail(c, line, "window.slide",
                                 "longer than window.size (a slide of at most "
                                 "the size; use a tumbling window for slide = size)");
        int64_t a = s_gcd(w->size_ms, w->slide_ms);
        if (w->size_ms / a > WR_TOPO_MAX_PANES)
            return wr__topo_fail(c, line, "window.slide",
                                 "size / gcd(size, slide) = %lld panes per "
                                 "window, more than %d (make size a multiple of slide)",
                                 (long long)(w->size_ms / a), WR_TOPO_MAX_PANES);
    }
    if (w->kind != WR_TOPO_WINDOW_SESSION) {
        /* the panes a key keeps live: a window's, and those of windows still open to late data */
        int64_t pane = s_gcd(w->size_ms, w->slide_ms);
        int64_t live = w->size_ms / pane + (w->allowed_lateness_ms + pane - 1) / pane;
        if (live > WR_TOPO_MAX_PANES)
            return wr__topo_fail(
                c, S_LINE(c, win[WR__WIN_LATENESS]) ? S_LINE(c, win[WR__WIN_LATENESS]) : wline,
                "window.allowed_lateness",
                "with it a key keeps %lld panes of %lld ms "
                "live, more than %d (allow less lateness)",
                (long long)live, (long long)pane, WR_TOPO_MAX_PANES);
    }
    if (w->parallelism > t->max_parallelism)
        return wr__topo_fail(
            c, s_set_in(wl, WR__WIN_PAR) ? wl[WR__WIN_PAR] : S_LINE(c, top[WR__TOP_PAR]),
            "window.parallelism",
            "%u is more than max_parallelism (%u): a keyed "
            "operator has at most one subtask per key group",
            w->parallelism, t->max_parallelism);
    /* event time: a time field from the sources to the window */
    uint32_t eline = S_LINE(c, et[WR__ET_FIELD]);
    const char *ef = t->event_time.field;
    int rc = s_check_field(c, eline, "event_time.field", ef, &t->schema, S_T(WR_T_TIME),
                           "the sources' records", "the event-time field must be a time");
    if (rc < 0) return rc;
    rc = s_check_field(c, eline, "event_time.field", ef, &t->input, S_T(WR_T_TIME),
                       "the records reaching the window (pass it through the map)",
                       "the operators must keep it a time");
    if (rc < 0) return rc;
    t->key_index = s_check_field(c, S_LINE(c, top[WR__TOP_KEY]), "key_by", t->key_by, &t->input,
                                 S_T(WR_T_INT) | S_T(WR_T_STRING) | S_T(WR_T_BOOL) | S_T(WR_T_TIME),
                                 "the records reaching the window",
                                 "key by an int, string, bool or time field");
    if (t->key_index < 0) return t->key_index;
    /* the result: key, window_start, window_end, aggregates */
    wr_schema_t *r = &t->result;
    wr_schema_init(r);
    wr_schema_add(r, t->key_by, t->input.f[t->key_index].type);
    wr_schema_add(r, "window_start", WR_T_TIME);
    wr_schema_add(r, "window_end", WR_T_TIME);
    for (uint32_t i = 0; i < t->n_aggs; i++) {
        wr_topo_agg_t *a = &t->aggs[i];
        char key[64];
        uint32_t line = S_LINE(c, agg[i]);
        snprintf(key, sizeof key, "aggregates.%s", a->name);
        a->input = -1;
        if ((a->fn == WR_TOPO_AGG_COUNT) != !a->field[0])
            return wr__topo_fail(c, line, key, "%s",
                                 a->field[0] ? "count takes no field" : "no field");
        if (a->fn == WR_TOPO_AGG_QUANTILE ? !(a->q >= 0 && a->q <= 1) : a->q != 0)
            return wr__topo_fail(c, line, key, "bad q");
        if (a->field[0]) {
            a->input =
                s_check_field(c, line, key, a->field, &t->input, S_T(WR_T_INT) | S_T(WR_T_DOUBLE),
                              "the records reaching the window", "aggregate a number");
            if (a->input < 0) return a->input;
        }
        rc = wr_schema_add(r, a->name, a->fn == WR_TOPO_AGG_COUNT ? WR_T_INT : WR_T_DOUBLE);
        if (rc == WR_EEXIST)
            return wr__topo_fail(c, line, key,
                                 "the result already has a field '%s' (the key, "
                                 "window_start, window_end and the aggregates share one record)",
                                 a->name);
        if (rc) return wr__topo_fail(c, line, key, "is not a field name");
    }
    return 0;
}

/* Every operator name is unique (they name subtask actors). */
static int s_check_names(wr__topo_ctx_t *c, const wr_topology_t *t)
{
    const char *names[WR_TOPO_MAX_SOURCES + WR_TOPO_MAX_OPS + WR_TOPO_MAX_SINKS + 2];
    uint32_t lines[sizeof names / sizeof *names];
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_sources; i++)
        lines[n] = S_LINE(c, src_item[i]), names[n++] = t->sources[i].name;
    for (uint32_t i = 0; i < t->n_ops; i++)
        lines[n] = S_LINE(c, op_item[i]), names[n++] = t->ops[i].name;
    if (t->window.kind != WR_TOPO_WINDOW_NONE) {
        lines[n] = S_LINE(c, top_x[WR__X_WINDOW]), names[n++] = t->window.name;
        if (t->window.has_late_sink)
            lines[n] = S_LINE(c, win_late), names[n++] = t->window.late_sink.name;
    }
    for (uint32_t i = 0; i < t->n_sinks; i++)
        lines[n] = S_LINE(c, sink_item[i]), names[n++] = t->sinks[i].name;
    for (size_t i = 0; i < n; i++) {
        if (!wr__topo_name_ok(names[i], strlen(names[i]), WR_TOPO_NAME_MAX, false))
            return wr__topo_fail(c, lines[i], "name", "'%s' is not a valid name", names[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                return wr__topo_fail(c, lines[i], "name",
                                     "'%s' names two operators (names must be "
                                     "unique)",
                                     names[i]);
    }
    return 0;
}

/* ---- sources and sinks: their connectors' rules ---- */

typedef void (*s_par_fn)(const void *config, uint32_t *dflt, uint32_t *max, const char **why);

/* An entry's connector: its own check across its keys, then the parallelism it takes. lines: the
 * entry's (its own keys, then its connector's) from a file, NULL from the bus. */
static int s_check_io(wr__topo_ctx_t *c, const char *path, uint32_t item, const uint32_t *lines,
                      const wr_param_t *params, size_t nparams, void *config,
                      int (*check)(void *, const wr_param_check_t *), s_par_fn par_fn,
                      uint32_t parallelism)
{
    wr_param_check_t ck = {.p = params,
                           .n = nparams,
                           .lines = lines ? lines + WR__IO_N : NULL,
                           .line = item,
                           .path = path,
                           .doc = c->doc};
    int rc = check ? check(config, &ck) : 0;
    if (rc) return rc;
    uint32_t dflt = 0, max = 0;
    const char *why = "";
    if (par_fn) par_fn(config, &dflt, &max, &why);
    if (max && parallelism > max)
        return wr__topo_fail(c, lines && lines[WR__IO_PAR] ? lines[WR__IO_PAR] : item, path, "%s",
                             why);
    return 0;
}

static int s_check_source(wr__topo_ctx_t *c, wr_topology_t *t, uint32_t i, bool given)
{
    wr_topo_source_t *s = &t->sources[i];
    const wr_source_class_t *cls = s->cls;
    char key[32], list[256];
    uint32_t item = S_LINE(c, src_item[i]);
    snprintf(key, sizeof key, "sources[%u]", i);
    if (cls->schema) {
        wr_schema_t own;
        cls->schema(s->config, &own);
        if (!wr_schema_equal(&t->schema, &own)) {
            s_field_list(&own, list, sizeof list);
            return wr__topo_fail(c, item, key,
                                 "%s makes records of its own schema (%s): leave schema out or "
                                 "make it exactly that",
                                 cls->noun, list);
        }
    } else if (!given) {
        return wr__topo_fail(c, item, key,
                             "%s needs the schema of its records (schema: {device: int, ts: time, "
                             "...})",
                             cls->noun);
    }
    return s_check_io(c, key, item, c->L ? c->L->src[i] : NULL, cls->params, cls->nparams,
                      s->config, cls->check, cls->parallelism, s->parallelism);
}

static int s_check_sink(wr__topo_ctx_t *c, wr_topo_sink_t *s, const char *key, uint32_t item,
                        const uint32_t *lines)
{
    const wr_sink_class_t *cls = s->cls;
    return s_check_io(c, key, item, lines, cls->params, cls->nparams, s->config, cls->check,
                      cls->parallelism, s->parallelism);
}

int wr__topo_check(wr__topo_ctx_t *c, wr_topology_t *t)
{
    char key[64];
    int rc = 0;
    if (!t->name[0]) return wr__topo_fail(c, 1, "name", "missing");
    if (t->n_sources == 0)
        return wr__topo_fail(c, S_LINE(c, top_x[WR__X_SOURCES]) + !c->L, "sources",
                             "no source (sources: [{type: generator}])");
    if (t->n_sinks == 0)
        return wr__topo_fail(c, S_LINE(c, top_x[WR__X_SINKS]) + !c->L, "sinks",
                             "no sink (sinks: [{type: stdout}])");
    /* the sources' records: the file's schema, or the first one a source makes of its own */
    bool given = c->L ? c->L->schema_given : true;
    for (uint32_t i = 0; i < t->n_sources && !given; i++) {
        if (!t->sources[i].cls->schema) continue;
        t->sources[i].cls->schema(t->sources[i].config, &t->schema);
        given = true;
    }
    for (uint32_t i = 0; i < t->n_sources && !rc; i++)
        rc = s_check_source(c, t, i, given);
    for (uint32_t i = 0; i < t->n_sinks && !rc; i++) {
        snprintf(key, sizeof key, "sinks[%u]", i);
        rc = s_check_sink(c, &t->sinks[i], key, S_LINE(c, sink_item[i]),
                          c->L ? c->L->sink[i] : NULL);
    }
    if (!rc && t->window.has_late_sink) {
        wr_topo_sink_t *late = &t->window.late_sink;
        uint32_t line = S_LINE(c, win_late);
        rc = s_check_sink(c, late, "window.late_sink", line, c->L ? c->L->late : NULL);
        /* it is written outside the checkpoints' two phases */
        if (!rc && late->cls->guarantee &&
            late->cls->guarantee(late->config) == WR_SINK_EXACTLY_ONCE)
            rc = wr__topo_fail(c, line, "window.late_sink",
                               "an exactly-once sink cannot take late records (they are written "
                               "at once; use an at-least-once sink)");
    }
    if (!rc) rc = s_check_chain(c, t);
    if (!rc) rc = s_check_window(c, t);
    if (rc == 0 && t->window.kind != WR_TOPO_WINDOW_NONE) s_project_input(t);
    if (rc == 0 && t->window.kind == WR_TOPO_WINDOW_NONE) {
        t->result = t->input;
        memset(&t->event_time, 0, sizeof t->event_time); /* only a window has event time */
    }
    if (rc == 0) rc = s_check_names(c, t);
    return rc;
}
