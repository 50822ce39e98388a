/* Topologies on the bus: the msgpack form (topology.h) and its strict decoder. Scalar keys are
 * packed and read from the tables (topology_internal.h) and, for sources and sinks, from their
 * connectors' declarations; what decodes is then checked as a file is (topology_check.c). */
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/registry/registry.h"
#include "actors/dataflow/job/topology_internal.h"
#include "bus/base/error.h"

static int s_pack_group(msgpack_packer *pk, const wr_param_t *p, size_t n, const void *base)
{
    wr_param_group_t g[] = {{p, n, (void *)base}};
    return msgpack_pack_map(pk, n) | wr_params_pack(pk, g, 1);
}

/* A source or sink: its type, its own keys, its connector's. */
static int s_pack_io(msgpack_packer *pk, const char *type, const wr_param_group_t g[2])
{
    return msgpack_pack_map(pk, 1 + wr_params_count(g, 2)) | wr_pack_str(pk, "type") |
           wr_pack_str(pk, type) | wr_params_pack(pk, g, 2);
}

static int s_pack_sink(msgpack_packer *pk, const wr_topo_sink_t *s)
{
    wr_param_group_t g[2];
    wr__topo_sink_groups((wr_topo_sink_t *)s, g);
    return s_pack_io(pk, s->cls->type, g);
}

int wr_topology_pack(const wr_topology_t *t, msgpack_packer *pk)
{
    bool win = t->window.kind != WR_TOPO_WINDOW_NONE;
    wr_param_group_t top[] = {WR__GROUP(wr__topo_top, (void *)t)};
    int rc = msgpack_pack_map(pk, 1 + WR__TOP_N + 5 + 2 * win);
    rc |= wr_pack_str(pk, "version") | msgpack_pack_int(pk, WR__TOPO_FORMAT_VERSION);
    rc |= wr_params_pack(pk, top, 1);
    rc |= wr_pack_str(pk, "schema") | wr_schema_pack(&t->schema, pk);
    rc |= wr_pack_str(pk, "sources") | msgpack_pack_array(pk, t->n_sources);
    for (uint32_t i = 0; i < t->n_sources; i++) {
        wr_param_group_t g[2];
        wr__topo_source_groups((wr_topo_source_t *)&t->sources[i], g);
        rc |= s_pack_io(pk, t->sources[i].cls->type, g);
    }
    rc |= wr_pack_str(pk, "operators") | msgpack_pack_array(pk, t->n_ops);
    for (uint32_t i = 0; i < t->n_ops; i++) {
        const wr_topo_op_t *op = &t->ops[i];
        wr_param_group_t g[] = {WR__GROUP(wr__topo_op, (void *)op)};
        rc |= msgpack_pack_map(pk, WR__OP_N + 1) | wr_params_pack(pk, g, 1);
        if (op->kind == WR_TOPO_OP_FILTER) {
            rc |= wr_pack_str(pk, "filter") | wr_pack_str(pk, op->filter);
            continue;
        }
        rc |= wr_pack_str(pk, "outputs") | msgpack_pack_array(pk, op->n_outputs);
        for (uint32_t k = 0; k < op->n_outputs; k++)
            rc |= msgpack_pack_array(pk, 2) | wr_pack_str(pk, op->outputs[k].name) |
                  wr_pack_str(pk, op->outputs[k].expr);
    }
    rc |= wr_pack_str(pk, "aggregates") | msgpack_pack_array(pk, t->n_aggs);
    for (uint32_t i = 0; i < t->n_aggs; i++)
        rc |= s_pack_group(pk, wr__topo_agg, WR__AGG_N, &t->aggs[i]);
    rc |= wr_pack_str(pk, "sinks") | msgpack_pack_array(pk, t->n_sinks);
    for (uint32_t i = 0; i < t->n_sinks; i++)
        rc |= s_pack_sink(pk, &t->sinks[i]);
    if (win) {
        wr_param_group_t gw[] = {WR__GROUP(wr__topo_window, (void *)&t->window)};
        rc |= wr_pack_str(pk, "event_time") |
              s_pack_group(pk, wr__topo_event_time, WR__ET_N, &t->event_time);
        rc |= wr_pack_str(pk, "window") |
              msgpack_pack_map(pk, WR__WIN_N + t->window.has_late_sink) | wr_params_pack(pk, gw, 1);
        if (t->window.has_late_sink)
            rc |= wr_pack_str(pk, "late_sink") | s_pack_sink(pk, &t->window.late_sink);
    }
    return rc ? -1 : 0;
}

/* ---- the decoder ---- */

static bool s_is(const char *key, uint32_t len, const char *want)
{
    return strlen(want) == len && !memcmp(key, want, len);
}

typedef struct {
    wr_topology_t *t;
    wr_topo_op_t *op;
    const char *type; /* a source's or sink's, as its connector names it */
    uint32_t seen;    /* bits: the special keys read (an operator: 1 filter, 2 outputs) */
} s_unpack_t;

static int s_str_dup(wr_mp_reader_t *r, char **out)
{
    const char *s;
    uint32_t len;
    if (wr_mp_read_str(r, &s, &len) || memchr(s, '\0', len) || len == 0 ||
        len >= WR_PARAM_STRING_MAX)
        return WR_EPROTO;
    free(*out);
    *out = strndup(s, len);
    return *out ? 0 : WR_ENOMEM;
}

static int s_op_special(wr_mp_reader_t *r, const char *key, uint32_t len, void *arg)
{
    s_unpack_t *u = arg;
    wr_topo_op_t *op = u->op;
    if (u->seen) return WR_EPROTO;
    if (s_is(key, len, "filter")) {
        u->seen = 1;
        return s_str_dup(r, &op->filter);
    }
    u->seen = 2;
    uint32_t n;
    if (!s_is(key, len, "outputs") || wr_mp_read_array(r, &n) || n == 0 || n > WR_SCHEMA_MAX_FIELDS)
        return WR_EPROTO;
    if (!(op->outputs = calloc(n, sizeof *op->outputs))) return WR_ENOMEM;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t two;
        wr_topo_output_t *o = &op->outputs[k];
        if (wr_mp_read_array(r, &two) || two != 2 ||
            wr_mp_read_str_copy(r, o->name, sizeof o->name) || !wr_field_name_valid(o->name))
            return WR_EPROTO;
        op->n_outputs++;
        int rc = s_str_dup(r, &o->expr);
        if (rc) return rc;
    }
    return 0;
}

/* The type of the map r stands on (without moving r): WR_EPROTO when it has none. */
static int s_peek_type(const wr_mp_reader_t *r, const char **type, uint32_t *len)
{
    wr_mp_reader_t peek = *r;
    uint32_t n;
    if (wr_mp_read_map(&peek, &n)) return WR_EPROTO;
    for (uint32_t k = 0; k < n; k++) {
        const char *key;
        uint32_t klen;
        if (wr_mp_read_str(&peek, &key, &klen)) return WR_EPROTO;
        if (s_is(key, klen, "type")) return wr_mp_read_str(&peek, type, len) ? WR_EPROTO : 0;
        if (wr_mp_skip(&peek)) return WR_EPROTO;
    }
    return WR_EPROTO;
}

/* "type", once, naming the connector the entry was made for. */
static int s_type_special(wr_mp_reader_t *r, const char *key, uint32_t len, void *arg)
{
    s_unpack_t *u = arg;
    const char *type;
    uint32_t tlen;
    if (!s_is(key, len, "type") || u->seen || wr_mp_read_str(r, &type, &tlen) ||
        !s_is(type, tlen, u->type))
        return WR_EPROTO;
    u->seen = 1;
    return 0;
}

/* The rest of a source's or sink's map, its type already known (type: the connector's name). */
static int s_unpack_io(wr_mp_reader_t *r, const char *type, const wr_param_group_t g[2])
{
    s_unpack_t u = {.type = type};
    int rc = wr_params_unpack_map(r, g, 2, s_type_special, &u);
    return rc ? rc : u.seen ? 0 : WR_EPROTO;
}

static int s_unpack_source(wr_mp_reader_t *r, wr_topo_source_t *s)
{
    const char *type;
    uint32_t len;
    wr_param_group_t g[2];
    const wr_source_class_t *cls =
        s_peek_type(r, &type, &len) ? NULL : wr_connectors_source(type, len);
    int rc = cls ? wr__topo_source_set(s, cls) : WR_EPROTO;
    if (!rc) wr__topo_source_groups(s, g);
    return rc ? rc : s_unpack_io(r, cls->type, g);
}

static int s_unpack_sink(wr_mp_reader_t *r, wr_topo_sink_t *s)
{
    const char *type;
    uint32_t len;
    wr_param_group_t g[2];
    const wr_sink_class_t *cls = s_peek_type(r, &type, &len) ? NULL : wr_connectors_sink(type, len);
    int rc = cls ? wr__topo_sink_set(s, cls) : WR_EPROTO;
    if (!rc) wr__topo_sink_groups(s, g);
    return rc ? rc : s_unpack_io(r, cls->type, g);
}

static int s_window_special(wr_mp_reader_t *r, const char *key, uint32_t len, void *arg)
{
    s_unpack_t *u = arg;
    if (!s_is(key, len, "late_sink") || u->t->window.has_late_sink) return WR_EPROTO;
    u->t->window.has_late_sink = true;
    return s_unpack_sink(r, &u->t->window.late_sink);
}

static int s_unpack_list(wr_mp_reader_t *r, uint32_t max, uint32_t *n)
{
    return wr_mp_read_array(r, n) || *n > max ? WR_EPROTO : 0;
}

static int s_unpack_group(wr_mp_reader_t *r, const wr_param_t *p, size_t n, void *base)
{
    wr_param_group_t g[] = {{p, n, base}};
    return wr_params_unpack_map(r, g, 1, NULL, NULL);
}

static int s_top_special(wr_mp_reader_t *r, const char *key, uint32_t len, void *arg)
{
    s_unpack_t *u = arg;
    wr_topology_t *t = u->t;
    static const char *const keys[] = {"version",    "schema", "sources",    "operators",
                                       "aggregates", "sinks",  "event_time", "window"};
    int which = -1, rc = 0;
    for (int i = 0; i < 8; i++)
        if (s_is(key, len, keys[i])) which = i;
    if (which < 0 || (u->seen & (1u << which))) return WR_EPROTO;
    u->seen |= 1u << which;
    switch (which) {
    case 0: {
        int64_t v;
        return wr_mp_read_int(r, &v) || v != WR__TOPO_FORMAT_VERSION ? WR_EPROTO : 0;
    }
    case 1:
        return wr_schema_unpack(r, &t->schema) ? WR_EPROTO : 0;
    case 2:
        rc = s_unpack_list(r, WR_TOPO_MAX_SOURCES, &t->n_sources);
        for (uint32_t i = 0; i < t->n_sources && !rc; i++)
            rc = s_unpack_source(r, &t->sources[i]);
        return rc;
    case 3:
        rc = s_unpack_list(r, WR_TOPO_MAX_OPS, &t->n_ops);
        for (uint32_t i = 0; i < t->n_ops && !rc; i++) {
            s_unpack_t ou = {.t = t, .op = &t->ops[i]};
            wr_param_group_t g[] = {WR__GROUP(wr__topo_op, &t->ops[i])};
            rc = wr_params_unpack_map(r, g, 1, s_op_special, &ou);
            if (rc == 0 && ou.seen != (t->ops[i].kind == WR_TOPO_OP_FILTER ? 1u : 2u))
                rc = WR_EPROTO;
        }
        return rc;
    case 4:
        rc = s_unpack_list(r, WR_TOPO_MAX_AGGS, &t->n_aggs);
        for (uint32_t i = 0; i < t->n_aggs && !rc; i++) {
            rc = s_unpack_group(r, wr__topo_agg, WR__AGG_N, &t->aggs[i]);
            if (rc == 0 && !t->aggs[i].name[0]) rc = WR_EPROTO;
        }
        return rc;
    case 5:
        rc = s_unpack_list(r, WR_TOPO_MAX_SINKS, &t->n_sinks);
        for (uint32_t i = 0; i < t->n_sinks && !rc; i++)
            rc = s_unpack_sink(r, &t->sinks[i]);
        return rc;
    case 6:
        return s_unpack_group(r, wr__topo_event_time, WR__ET_N, &t->event_time);
    default: {
        s_unpack_t wu = {.t = t};
        wr_param_group_t g[] = {WR__GROUP(wr__topo_window, &t->window)};
        rc = wr_params_unpack_map(r, g, 1, s_window_special, &wu);
        return rc == 0 && t->window.kind == WR_TOPO_WINDOW_NONE ? WR_EPROTO : rc;
    }
    }
}

int wr_topology_unpack(wr_mp_reader_t *r, wr_topology_t **out)
{
    *out = NULL;
    wr_topology_t *t = calloc(1, sizeof *t);
    if (!t) return WR_ENOMEM;
    s_unpack_t u = {.t = t};
    wr_param_group_t g[] = {WR__GROUP(wr__topo_top, t)};
    int rc = wr_params_unpack_map(r, g, 1, s_top_special, &u);
    /* version, schema, sources, operators, aggregates, sinks; event_time and window together */
    uint32_t need = 0x3f, win = u.seen & 0xc0;
    if (rc == 0 && ((u.seen & need) != need || (win != 0 && win != 0xc0))) rc = WR_EPROTO;
    if (rc == 0 && !t->name[0]) rc = WR_EPROTO;
    if (rc == 0) {
        wr__topo_ctx_t c = {0};
        rc = wr__topo_check(&c, t);
    }
    if (rc == 0 && r->err) rc = WR_EPROTO;
    if (rc) {
        wr_topology_destroy(&t);
        return rc == WR_ENOMEM ? rc : WR_EPROTO;
    }
    *out = t;
    return 0;
}
