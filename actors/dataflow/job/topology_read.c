/* Topologies: a YAML file (its tree, bus/base/yaml/ytree.h) into the structure. Scalar keys come
 * from the tables (topology_internal.h) and, for sources and sinks, from their connectors'
 * declarations; every problem names the file, the line and the key. The check of the whole
 * (topology_check.c) runs after. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/registry/registry.h"
#include "actors/dataflow/job/topology_internal.h"
#include "bus/base/error.h"
#include "bus/base/numparse.h"

enum { S_MAX_FILE = 1 << 20 };

static const wr_yaml_opts_t s_opts = {
    .what = "the topology", .max_bytes = S_MAX_FILE, .one_document = "one topology per file"};

static const char *const s_top_specials[] = {"schema", "sources",    "operators", "event_time",
                                             "window", "aggregates", "sinks",     NULL};
static const char *const s_window_specials[] = {"late_sink", NULL};
static const char *const s_op_specials[] = {"filter", "map", NULL};
static const char *const s_io_specials[] = {"type", NULL};

typedef struct {
    wr_yaml_t *doc;
    wr__topo_lines_t *L;
    const char *dir; /* for relative paths (params.h: PATH), or NULL */
} s_read_t;

/* A scalar with a value: its text, or an error naming key. */
static int s_text(s_read_t *r, const wr_yaml_node_t *n, const char *key, const char **text,
                  size_t *len)
{
    int rc = wr_yaml_scalar(r->doc, n, key, NULL, text, len);
    if (!rc && *len == 0) rc = wr_yaml_fail(r->doc, n->line, key, "no value");
    return rc;
}

static int s_fail_echo(s_read_t *r, uint32_t line, const char *key, const char *text, size_t len,
                       const char *why)
{
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    wr_yaml_echo(&msg, text, len);
    int rc = msg.failed ? WR_ENOMEM : wr_yaml_fail(r->doc, line, key, "%s %s", msg.buf, why);
    wr_strbuf_release(&msg);
    return rc;
}

/* schema: a mapping of field name -> type, in column order. */
static int s_schema(s_read_t *r, const wr_yaml_node_t *m, wr_schema_t *s)
{
    char key[64];
    int rc = wr_yaml_expect(r->doc, m, WR_YAML_MAP, "schema", "schema: {device: int, ts: time}");
    if (rc) return rc;
    wr_schema_init(s);
    for (uint32_t i = 0; i < m->n; i++) {
        const wr_yaml_node_t *k = m->pairs[i].key, *v = m->pairs[i].value;
        const char *name, *type;
        size_t nlen, tlen;
        if ((rc = s_text(r, k, "schema", &name, &nlen))) return rc;
        snprintf(key, sizeof key, "schema.%.40s", name);
        if ((rc = s_text(r, v, key, &type, &tlen))) return rc;
        enum wr_type t;
        if (!wr__topo_field_ok(name, nlen))
            return s_fail_echo(r, k->line, key, name, nlen,
                               "is not a field name (a letter or _, then letters, digits, _; up "
                               "to 31)");
        if (wr_type_parse(type, &t))
            return s_fail_echo(r, v->line, key, type, tlen,
                               "is not a type (int, double, bool, time, string)");
        rc = wr_schema_add(s, name, t);
        if (rc == WR_EEXIST) return wr_yaml_fail(r->doc, k->line, key, "given twice");
        if (rc)
            return wr_yaml_fail(r->doc, k->line, key, "more than %d fields", WR_SCHEMA_MAX_FIELDS);
    }
    if (s->n == 0) return wr_yaml_fail(r->doc, m->line, "schema", "no fields");
    return 0;
}

/* ---- sources and sinks: a connector each ---- */

typedef struct {
    bool sink;
    wr_param_group_t g[2];
} s_io_t;

/* The connectors that can be one: "generator, file", "type: generator, or type: file". */
static void s_add_types(wr_strbuf_t *sb, bool sink, const char *prefix, const char *sep,
                        const char *last)
{
    size_t n = 0;
    while (sink ? wr_connectors_sink_at(n) != NULL : wr_connectors_source_at(n) != NULL)
        n++;
    for (size_t i = 0; i < n; i++) {
        const char *type = sink ? wr_connectors_sink_at(i)->type : wr_connectors_source_at(i)->type;
        wr_strbuf_addf(sb, "%s%s%s", i == 0 ? "" : i + 1 == n ? last : sep, prefix, type);
    }
}

/* Does another connector of the kind declare key? Its types, "file" or "file, kafka", into sb. */
static bool s_other_types(wr_strbuf_t *sb, bool sink, const char *key)
{
    for (size_t i = 0;; i++) {
        const wr_source_class_t *src = sink ? NULL : wr_connectors_source_at(i);
        const wr_sink_class_t *snk = sink ? wr_connectors_sink_at(i) : NULL;
        if (!src && !snk) break;
        const wr_param_t *p = src ? src->params : snk->params;
        size_t n = src ? src->nparams : snk->nparams;
        if (wr_params_find(p, n, key, strlen(key)) >= 0)
            wr_strbuf_addf(sb, "%s%s", sb->len ? ", " : "", src ? src->type : snk->type);
    }
    return sb->len > 0;
}

/* An unknown key of a source or sink: one of another connector's, or none at all. */
static int s_io_unknown(void *arg, wr_yaml_t *y, uint32_t line, const char *key, const char *name)
{
    const s_io_t *io = arg;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc;
    if (s_other_types(&sb, io->sink, name)) {
        rc = wr_yaml_fail(y, line, key, "only for type: %s", sb.buf);
    } else {
        char path[64];
        snprintf(path, sizeof path, "%.*s", (int)(strrchr(key, '.') - key), key);
        wr_strbuf_reset(&sb);
        wr_strbuf_adds(&sb, "type");
        wr_params_add_keys(&sb, io->g, 2);
        rc = wr_yaml_fail(y, line, key, "unknown key (%s takes: %s)", path, sb.buf);
    }
    if (sb.failed) rc = WR_ENOMEM;
    wr_strbuf_release(&sb);
    return rc;
}

/* The `type` of mapping n: its value node, or an error naming the connectors there are. */
static int s_io_type(s_read_t *r, const wr_yaml_node_t *n, const char *path, bool sink,
                     const char **type, size_t *len)
{
    const wr_yaml_node_t *v = NULL;
    for (uint32_t i = 0; i < n->n && !v; i++)
        if (n->pairs[i].key->kind == WR_YAML_SCALAR && !strcmp(n->pairs[i].key->text, "type"))
            v = n->pairs[i].value;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = 0;
    char key[64];
    snprintf(key, sizeof key, "%s.type", path);
    if (!v) {
        if (sink)
            s_add_types(&sb, sink, "", ", ", " or ");
        else
            s_add_types(&sb, sink, "type: ", ", ", ", or ");
        rc = wr_yaml_fail(r->doc, n->line, path, "no type (%s)", sb.buf);
    } else if (!(rc = s_text(r, v, key, type, len)) &&
               !(sink ? wr_connectors_sink(*type, *len) != NULL
                      : wr_connectors_source(*type, *len) != NULL)) {
        wr_yaml_echo(&sb, *type, *len);
        wr_strbuf_adds(&sb, " is not one of ");
        s_add_types(&sb, sink, "", ", ", ", ");
        rc = wr_yaml_fail(r->doc, v->line, key, "%s", sb.buf);
    }
    if (sb.failed) rc = WR_ENOMEM;
    wr_strbuf_release(&sb);
    return rc;
}

/* The parallelism a connector takes when the file gives none. */
static uint32_t s_default_par(void (*par)(const void *, uint32_t *, uint32_t *, const char **),
                              const void *config, uint32_t job)
{
    uint32_t dflt = 0, max = 0;
    const char *why;
    if (par) par(config, &dflt, &max, &why);
    return dflt ? dflt : job;
}

/* The keys of a source or sink entry n, its connector's included. */
static int s_io(s_read_t *r, const wr_yaml_node_t *n, const char *path, s_io_t *io, uint32_t *lines,
                uint32_t *item)
{
    const wr_yaml_node_t *special[1] = {NULL};
    uint32_t special_line[1] = {0};
    wr_params_map_t m = {.groups = io->g,
                         .ngroups = 2,
                         .dir = r->dir, /* (a sink's path params say from_cwd) */
                         .specials = s_io_specials,
                         .special = special,
                         .special_line = special_line,
                         .lines = lines,
                         .unknown = s_io_unknown,
                         .arg = io};
    *item = n->line;
    int rc = wr_params_read_yaml(r->doc, n, path, &m);
    if (!rc) rc = wr_params_missing(r->doc, n->line, path, io->g, 2, lines);
    return rc;
}

static int s_source(s_read_t *r, const wr_yaml_node_t *n, uint32_t i, wr_topology_t *t)
{
    char path[32];
    snprintf(path, sizeof path, "sources[%u]", i);
    wr_topo_source_t *s = &t->sources[i];
    const char *type;
    size_t len;
    int rc = wr_yaml_expect(r->doc, n, WR_YAML_MAP, path, "- {type: generator, devices: 1000}");
    if (!rc) rc = s_io_type(r, n, path, false, &type, &len);
    if (!rc) rc = wr__topo_source_set(s, wr_connectors_source(type, len));
    if (rc) return rc;
    s->parallelism = s_default_par(s->cls->parallelism, s->config, t->parallelism);
    s_io_t io = {.sink = false};
    wr__topo_source_groups(s, io.g);
    rc = s_io(r, n, path, &io, r->L->src[i], &r->L->src_item[i]);
    if (!rc && !s->name[0]) snprintf(s->name, sizeof s->name, "source-%u", i + 1);
    return rc;
}

static int s_sink(s_read_t *r, const wr_yaml_node_t *n, const char *path, const char *dflt,
                  uint32_t parallelism, wr_topo_sink_t *s, uint32_t *lines, uint32_t *item)
{
    const char *type;
    size_t len;
    int rc = wr_yaml_expect(r->doc, n, WR_YAML_MAP, path, "{type: stdout}");
    if (!rc) rc = s_io_type(r, n, path, true, &type, &len);
    if (!rc) rc = wr__topo_sink_set(s, wr_connectors_sink(type, len));
    if (rc) return rc;
    s_io_t io = {.sink = true};
    wr__topo_sink_groups(s, io.g);
    rc = s_io(r, n, path, &io, lines, item);
    /* the connector's default parallelism depends on its keys (an exactly-once file sink) */
    if (!rc && !lines[WR__IO_PAR])
        s->parallelism = s_default_par(s->cls->parallelism, s->config, parallelism);
    if (!rc && !s->name[0]) snprintf(s->name, sizeof s->name, "%s", dflt);
    return rc;
}

/* ---- operators and aggregates ---- */

static int s_op(s_read_t *r, const wr_yaml_node_t *n, uint32_t i, wr_topology_t *t, uint32_t *count)
{
    char path[32], key[96];
    snprintf(path, sizeof path, "operators[%u]", i);
    wr_topo_op_t *op = &t->ops[i];
    int rc = wr_yaml_expect(r->doc, n, WR_YAML_MAP, path, "- filter: temperature > 30");
    if (rc) return rc;
    r->L->op_item[i] = n->line;
    op->parallelism = t->parallelism;
    const wr_yaml_node_t *x[2] = {NULL, NULL};
    uint32_t xl[2] = {0, 0};
    wr_param_group_t g[] = {WR__GROUP(wr__topo_op, op)};
    wr_params_map_t m = {.groups = g,
                         .ngroups = 1,
                         .specials = s_op_specials,
                         .special = x,
                         .special_line = xl,
                         .lines = r->L->op[i]};
    if ((rc = wr_params_read_yaml(r->doc, n, path, &m))) return rc;
    if (!x[0] == !x[1])
        return wr_yaml_fail(r->doc, n->line, path, "%s (an operator is filter: EXPR or map: {...})",
                            x[0] ? "both filter and map" : "neither filter nor map");
    op->kind = x[0] ? WR_TOPO_OP_FILTER : WR_TOPO_OP_MAP;
    count[op->kind]++;
    if (!r->L->op[i][WR__OP_NAME])
        snprintf(op->name, sizeof op->name, "%s-%u", wr__topo_op_words[op->kind], count[op->kind]);
    const char *text;
    size_t len;
    if (x[0]) {
        snprintf(key, sizeof key, "%s.filter", path);
        if ((rc = s_text(r, x[0], key, &text, &len))) return rc;
        r->L->out[i][0] = x[0]->line;
        op->filter = strndup(text, len);
        return op->filter ? 0 : WR_ENOMEM;
    }
    snprintf(key, sizeof key, "%s.map", path);
    if ((rc = wr_yaml_expect(r->doc, x[1], WR_YAML_MAP, key,
                             "map: {device: device, f: temp * 1.8}")))
        return rc;
    size_t n_out = x[1]->n;
    if (n_out == 0 || n_out > WR_SCHEMA_MAX_FIELDS)
        return wr_yaml_fail(r->doc, x[1]->line, key, "%s output fields (1 to %d)",
                            n_out ? "too many" : "no", WR_SCHEMA_MAX_FIELDS);
    op->outputs = calloc(n_out, sizeof *op->outputs);
    if (!op->outputs) return WR_ENOMEM;
    for (uint32_t k = 0; k < x[1]->n; k++) {
        const wr_yaml_node_t *kn = x[1]->pairs[k].key, *v = x[1]->pairs[k].value;
        wr_topo_output_t *o = &op->outputs[op->n_outputs];
        char okey[160];
        if ((rc = s_text(r, kn, key, &text, &len))) return rc;
        snprintf(okey, sizeof okey, "%s.%.40s", key, text);
        if (!wr__topo_field_ok(text, len))
            return s_fail_echo(r, kn->line, okey, text, len, "is not a field name");
        memcpy(o->name, text, len);
        if ((rc = s_text(r, v, okey, &text, &len))) return rc;
        r->L->out[i][op->n_outputs] = v->line;
        if (!(o->expr = strndup(text, len))) return WR_ENOMEM;
        op->n_outputs++;
    }
    return 0;
}

/* An aggregate call: count(), avg(temperature), p95(temperature), quantile(temperature, 0.9). */
static int s_parse_call(const char *text, size_t len, wr_topo_agg_t *a, const char **why)
{
    char fn[32], args[2][64];
    size_t i = 0, n = 0, nargs = 0;
    *why = "is not an aggregate (e.g. count(), avg(temperature), p95(temperature))";
    while (i < len &&
           (text[i] == '_' || text[i] == '.' || (text[i] >= 'a' && text[i] <= 'z') ||
            (text[i] >= '0' && text[i] <= '9')) &&
           n + 1 < sizeof fn)
        fn[n++] = text[i++];
    fn[n] = '\0';
    while (i < len && text[i] == ' ')
        i++;
    if (i < len) {
        if (text[i++] != '(') return WR_EINVAL;
        for (;;) {
            while (i < len && text[i] == ' ')
                i++;
            size_t s = i;
            while (i < len && text[i] != ',' && text[i] != ')')
                i++;
            size_t e = i;
            while (e > s && text[e - 1] == ' ')
                e--;
            if (i == len || nargs == 2 || e - s >= sizeof args[0]) return WR_EINVAL;
            memcpy(args[nargs], text + s, e - s);
            args[nargs][e - s] = '\0';
            nargs += e > s || text[i] == ',' || nargs > 0;
            if (text[i++] == ')') break;
        }
        while (i < len && text[i] == ' ')
            i++;
        if (i != len) return WR_EINVAL;
    }
    a->q = 0;
    int fi = -1;
    for (int k = 0; wr__topo_agg_words[k]; k++)
        if (!strcmp(fn, wr__topo_agg_words[k])) fi = k;
    size_t want = fi == WR_TOPO_AGG_COUNT ? 0 : fi == WR_TOPO_AGG_QUANTILE ? 2 : 1;
    if (fi < 0 && (!strcmp(fn, "median") || (fn[0] == 'p' && fn[1] >= '0' && fn[1] <= '9'))) {
        double pct = 50;
        if (fn[0] == 'p' && (wr_parse_double(fn + 1, strlen(fn + 1), &pct) || pct > 100))
            return WR_EINVAL;
        fi = WR_TOPO_AGG_QUANTILE, want = 1, a->q = pct / 100;
    }
    if (fi < 0) return WR_EINVAL;
    if (nargs != want) {
        *why = want == 0   ? "takes no field: count()"
               : want == 2 ? "takes a field and q: quantile(temperature, 0.95)"
                           : "takes one field, e.g. avg(temperature)";
        return WR_EINVAL;
    }
    if (want == 2 && (wr_parse_double(args[1], strlen(args[1]), &a->q) || a->q < 0 || a->q > 1)) {
        *why = "needs q between 0 and 1: quantile(temperature, 0.95)";
        return WR_EINVAL;
    }
    a->fn = (enum wr_topo_agg_fn)fi;
    a->field[0] = '\0';
    if (want) {
        if (!wr__topo_field_ok(args[0], strlen(args[0]))) {
            *why = "needs a field name as its argument";
            return WR_EINVAL;
        }
        strcpy(a->field, args[0]);
    }
    return 0;
}

static int s_aggs(s_read_t *r, const wr_yaml_node_t *m, wr_topology_t *t)
{
    char key[64];
    int rc = wr_yaml_expect(r->doc, m, WR_YAML_MAP, "aggregates", "aggregates: {n: count()}");
    if (rc) return rc;
    for (uint32_t i = 0; i < m->n; i++) {
        const wr_yaml_node_t *k = m->pairs[i].key, *v = m->pairs[i].value;
        const char *name, *call, *why;
        size_t nlen, clen;
        if ((rc = s_text(r, k, "aggregates", &name, &nlen))) return rc;
        snprintf(key, sizeof key, "aggregates.%.40s", name);
        if (t->n_aggs == WR_TOPO_MAX_AGGS)
            return wr_yaml_fail(r->doc, k->line, key, "more than %d aggregates", WR_TOPO_MAX_AGGS);
        wr_topo_agg_t *a = &t->aggs[t->n_aggs];
        if (!wr__topo_field_ok(name, nlen))
            return s_fail_echo(r, k->line, key, name, nlen, "is not a field name");
        memcpy(a->name, name, nlen);
        if ((rc = s_text(r, v, key, &call, &clen))) return rc;
        if (s_parse_call(call, clen, a, &why)) return s_fail_echo(r, v->line, key, call, clen, why);
        r->L->agg[t->n_aggs++] = v->line;
    }
    return 0;
}

/* ---- the rest ---- */

static int s_list(s_read_t *r, const wr_yaml_node_t *n, const char *key, uint32_t max,
                  const char *example, uint32_t *count)
{
    int rc = wr_yaml_expect(r->doc, n, WR_YAML_LIST, key, example);
    if (rc) return rc;
    if (n->n == 0 || n->n > max)
        return wr_yaml_fail(r->doc, n->line, key, "%s (1 to %u)", n->n ? "too many" : "none", max);
    *count = n->n;
    return 0;
}

static int s_window(s_read_t *r, const wr_yaml_node_t *n, wr_topology_t *t)
{
    wr_topo_window_t *w = &t->window;
    int rc =
        wr_yaml_expect(r->doc, n, WR_YAML_MAP, "window", "window: {type: tumbling, size: 1min}");
    if (rc) return rc;
    if ((rc = wr_params_defaults(wr__topo_window, WR__WIN_N, w))) return rc;
    w->parallelism = t->parallelism;
    const wr_yaml_node_t *late = NULL;
    wr_param_group_t g[] = {WR__GROUP(wr__topo_window, w)};
    wr_params_map_t m = {.groups = g,
                         .ngroups = 1,
                         .specials = s_window_specials,
                         .special = &late,
                         .special_line = &r->L->win_late,
                         .lines = r->L->win};
    if ((rc = wr_params_read_yaml(r->doc, n, "window", &m))) return rc;
    if (!r->L->win[WR__WIN_TYPE])
        return wr_yaml_fail(r->doc, n->line, "window", "no type (sliding, tumbling or session)");
    if (w->kind == WR_TOPO_WINDOW_TUMBLING && r->L->win[WR__WIN_SLIDE])
        return wr_yaml_fail(r->doc, r->L->win[WR__WIN_SLIDE], "window.slide",
                            "not for a tumbling window (it slides by its size; use type: sliding)");
    if (!r->L->win[WR__WIN_NAME]) strcpy(w->name, "window-1");
    if (late) {
        w->has_late_sink = true;
        rc = s_sink(r, late, "window.late_sink", "late-1", 1, &w->late_sink, r->L->late,
                    &r->L->win_late);
    }
    return rc;
}

static int s_topology(s_read_t *r, const wr_yaml_node_t *root, wr_topology_t *t)
{
    const wr_yaml_node_t *x[WR__X_N] = {NULL};
    wr__topo_lines_t *L = r->L;
    int rc = wr_yaml_expect(r->doc, root, WR_YAML_MAP, "", "name: my-job");
    if (!rc) rc = wr_params_defaults(wr__topo_top, WR__TOP_N, t);
    if (!rc) rc = wr_params_defaults(wr__topo_event_time, WR__ET_N, &t->event_time);
    if (rc) return rc;
    wr_param_group_t g[] = {WR__GROUP(wr__topo_top, t)};
    wr_params_map_t m = {.groups = g,
                         .ngroups = 1,
                         .specials = s_top_specials,
                         .special = x,
                         .special_line = L->top_x,
                         .lines = L->top};
    if ((rc = wr_params_read_yaml(r->doc, root, "", &m))) return rc;
    if (x[WR__X_SCHEMA]) {
        if ((rc = s_schema(r, x[WR__X_SCHEMA], &t->schema))) return rc;
        L->schema_given = true;
    }
    if (!x[WR__X_SOURCES])
        return wr_yaml_fail(r->doc, root->line, "sources",
                            "missing (sources: [{type: generator}])");
    if ((rc = s_list(r, x[WR__X_SOURCES], "sources", WR_TOPO_MAX_SOURCES,
                     "sources: [{type: generator}]", &t->n_sources)))
        return rc;
    for (uint32_t i = 0; i < t->n_sources && !rc; i++)
        rc = s_source(r, x[WR__X_SOURCES]->items[i], i, t);
    if (!rc && x[WR__X_OPERATORS]) {
        uint32_t per_kind[2] = {0, 0};
        rc = s_list(r, x[WR__X_OPERATORS], "operators", WR_TOPO_MAX_OPS,
                    "operators: [{filter: temperature > 30}]", &t->n_ops);
        for (uint32_t i = 0; i < t->n_ops && !rc; i++)
            rc = s_op(r, x[WR__X_OPERATORS]->items[i], i, t, per_kind);
    }
    if (!rc && x[WR__X_EVENT_TIME]) {
        wr_param_group_t ge[] = {WR__GROUP(wr__topo_event_time, &t->event_time)};
        wr_params_map_t me = {.groups = ge, .ngroups = 1, .lines = L->et};
        rc = wr_yaml_expect(r->doc, x[WR__X_EVENT_TIME], WR_YAML_MAP, "event_time",
                            "event_time: {field: ts}");
        if (!rc) rc = wr_params_read_yaml(r->doc, x[WR__X_EVENT_TIME], "event_time", &me);
        if (!rc && !L->et[WR__ET_FIELD])
            rc = wr_yaml_fail(r->doc, x[WR__X_EVENT_TIME]->line, "event_time",
                              "no field (field: ts)");
    }
    if (!rc && x[WR__X_WINDOW]) rc = s_window(r, x[WR__X_WINDOW], t);
    if (!rc && x[WR__X_AGGREGATES]) rc = s_aggs(r, x[WR__X_AGGREGATES], t);
    if (!rc && !t->n_aggs && x[WR__X_AGGREGATES])
        rc = wr_yaml_fail(r->doc, x[WR__X_AGGREGATES]->line, "aggregates",
                          "none (aggregates: {n: count()})");
    if (!rc && !x[WR__X_SINKS])
        rc = wr_yaml_fail(r->doc, root->line, "sinks", "missing (sinks: [{type: stdout}])");
    if (!rc)
        rc = s_list(r, x[WR__X_SINKS], "sinks", WR_TOPO_MAX_SINKS, "sinks: [{type: stdout}]",
                    &t->n_sinks);
    for (uint32_t i = 0; i < t->n_sinks && !rc; i++) {
        char path[32], dflt[16];
        snprintf(path, sizeof path, "sinks[%u]", i);
        snprintf(dflt, sizeof dflt, "sink-%u", i + 1);
        rc = s_sink(r, x[WR__X_SINKS]->items[i], path, dflt, t->parallelism, &t->sinks[i],
                    L->sink[i], &L->sink_item[i]);
    }
    return rc;
}

/* Reads and checks a loaded document (origin names it for messages). */
static int s_read(wr_yaml_t *doc, const char *origin, const char *dir, wr_topology_t **out)
{
    s_read_t r = {.doc = doc, .dir = dir};
    wr_topology_t *t = calloc(1, sizeof *t);
    r.L = calloc(1, sizeof *r.L);
    const wr_yaml_node_t *root = wr_yaml_root(doc);
    int rc = t && r.L ? 0 : WR_ENOMEM;
    if (!rc && !root)
        rc =
            wr_yaml_fail(doc, 1, NULL, "empty (a topology names its sources, operators and sinks)");
    if (!rc) rc = s_topology(&r, root, t);
    if (rc == 0 && !t->name[0]) { /* the file's name */
        const char *base = strrchr(origin, '/') ? strrchr(origin, '/') + 1 : origin;
        size_t n = strcspn(base, ".");
        if (!wr__topo_name_ok(base, n, sizeof t->name, true)) base = "job", n = 3;
        memcpy(t->name, base, n);
    }
    if (rc == 0) {
        wr__topo_ctx_t c = {.doc = doc, .L = r.L};
        rc = wr__topo_check(&c, t);
    }
    free(r.L);
    if (rc) wr_topology_destroy(&t);
    *out = t;
    return rc;
}

static int s_parse(const char *text, size_t len, const char *origin, const char *dir,
                   wr_topology_t **out, wr_strbuf_t *err)
{
    wr_yaml_t *doc = NULL;
    *out = NULL;
    int rc = wr_yaml_load(text, len, origin, &s_opts, &doc, err);
    if (!rc) rc = s_read(doc, origin, dir, out);
    wr_yaml_destroy(&doc);
    if (rc == WR_ENOMEM && err->len == 0) wr_strbuf_addf(err, "%s: out of memory", origin);
    return rc;
}

int wr_topology_parse(const char *text, size_t len, const char *origin, wr_topology_t **out,
                      wr_strbuf_t *err)
{
    return s_parse(text, len, origin, NULL, out, err);
}

int wr_topology_load_file(const char *path, wr_topology_t **out, wr_strbuf_t *err)
{
    wr_strbuf_t dir;
    wr_strbuf_init(&dir);
    wr_yaml_t *doc = NULL;
    *out = NULL;
    int rc = wr_yaml_load_file(path, &s_opts, &doc, err);
    if (rc == 0) { /* the folder relative source paths start from */
        const char *slash = strrchr(path, '/');
        if (path[0] != '/') {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) {
                wr_yaml_new_line(err);
                wr_strbuf_addf(err, "%s: cannot resolve relative paths: %s", path, strerror(errno));
                rc = WR_EIO;
            } else {
                wr_strbuf_adds(&dir, cwd);
                if (slash) wr_strbuf_addc(&dir, '/');
            }
        }
        if (slash) wr_strbuf_add(&dir, path, (size_t)(slash - path) + (slash == path));
        if (dir.failed) rc = WR_ENOMEM;
    }
    if (rc == 0) rc = s_read(doc, path, dir.buf, out);
    wr_yaml_destroy(&doc);
    wr_strbuf_release(&dir);
    if (rc == WR_ENOMEM && err->len == 0) wr_strbuf_addf(err, "%s: out of memory", path);
    return rc;
}
