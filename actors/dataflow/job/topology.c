/* Topologies: YAML file -> wr_topology_t -> msgpack and back.
 *
 * Scalar keys are described once, in parameter tables (key, kind, place in a struct, range);
 * the YAML reader, the msgpack packer and the msgpack reader all walk the same tables. After
 * reading, one semantic check (s_check) validates the whole topology and derives its schemas,
 * for a file (errors with lines) and for the bus (any defect is WR_EPROTO) alike. */
#include "actors/dataflow/job/topology.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "actors/dataflow/expr/expr.h"
#include "bus/base/error.h"
#include "bus/base/units.h"

enum { S_MAX_FILE = 1 << 20, S_ECHO_MAX = 60, S_MAX_PATH = 4096, S_FORMAT_VERSION = 1 };

#define S_DAY  INT64_C(86400000)
#define S_YEAR (365 * S_DAY)
#define S_MAXP WR_TOPO_MAX_PARALLELISM

_Static_assert(sizeof(enum wr_topo_sink_kind) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum wr_textin_format) == sizeof(int), "enums are stored as int");

/* ---- parameter tables ---- */

enum s_kind {
    K_INT,     /* uint32_t or int64_t/uint64_t (by size), within [lo, hi] */
    K_DUR,     /* int64_t ms within [lo, hi]: 10min, 30s, 500ms */
    K_TIME,    /* int64_t epoch ms: ISO-8601 or an integer */
    K_F64,     /* double within [dlo, dhi] */
    K_BOOL,    /* bool */
    K_ENUM,    /* int: index of the word in words[] */
    K_NAME,    /* char[WR_TOPO_NAME_MAX]: an operator name */
    K_JOBNAME, /* char[WR_TOPO_JOB_NAME_MAX] */
    K_FIELD,   /* char[WR_FIELD_NAME_MAX]: a field name, or "" (only on the bus) */
    K_PATH     /* char *, owned */
};

typedef struct {
    const char *key;
    enum s_kind kind;
    size_t off;
    size_t size;
    int64_t lo, hi;
    double dlo, dhi;
    const char *const *words;
} s_param_t;

#define S_AT(st, m) .off = offsetof(st, m), .size = sizeof(((st *)0)->m)
#define P_INT(k, st, m, l, h)                                                                      \
    {                                                                                              \
        .key = k, .kind = K_INT, S_AT(st, m), .lo = l, .hi = h                                     \
    }
#define P_DUR(k, st, m, l, h)                                                                      \
    {                                                                                              \
        .key = k, .kind = K_DUR, S_AT(st, m), .lo = l, .hi = h                                     \
    }
#define P_F64(k, st, m, l, h)                                                                      \
    {                                                                                              \
        .key = k, .kind = K_F64, S_AT(st, m), .dlo = l, .dhi = h                                   \
    }
#define P_ENUM(k, st, m, w)                                                                        \
    {                                                                                              \
        .key = k, .kind = K_ENUM, S_AT(st, m), .words = w                                          \
    }
#define P_OF(k, kd, st, m)                                                                         \
    {                                                                                              \
        .key = k, .kind = kd, S_AT(st, m)                                                          \
    }

static const char *const s_source_words[] = {"generator", "file", NULL};
static const char *const s_format_words[] = {"jsonl", "csv", NULL};
static const char *const s_on_error_words[] = {"fail", "skip", NULL};
static const char *const s_window_words[] = {"", "sliding", "tumbling", "session", NULL};
static const char *const s_sink_words[] = {"stdout", "file", "collect", NULL};
static const char *const s_op_words[] = {"filter", "map", NULL};
static const char *const s_agg_words[] = {"count", "sum",      "min",         "max",
                                          "avg",   "stddev",   "stddev_samp", "first",
                                          "last",  "quantile", NULL};

enum { T_NAME, T_PAR, T_MAXPAR, T_KEY };
static const s_param_t s_top[] = {
    P_OF("name", K_JOBNAME, wr_topology_t, name),
    P_INT("parallelism", wr_topology_t, parallelism, 1, S_MAXP),
    P_INT("max_parallelism", wr_topology_t, max_parallelism, 1, S_MAXP),
    P_OF("key_by", K_FIELD, wr_topology_t, key_by),
};
static const char *const s_top_specials[] = {"schema", "sources",    "operators", "event_time",
                                             "window", "aggregates", "sinks",     NULL};
enum { X_SCHEMA, X_SOURCES, X_OPERATORS, X_EVENT_TIME, X_WINDOW, X_AGGREGATES, X_SINKS, X_N };

enum { E_FIELD };
static const s_param_t s_event_time[] = {
    P_OF("field", K_FIELD, wr_topo_event_time_t, field),
    P_DUR("max_out_of_orderness", wr_topo_event_time_t, max_out_of_orderness_ms, 0, 7 * S_DAY),
    P_DUR("idle_timeout", wr_topo_event_time_t, idle_timeout_ms, 0, 7 * S_DAY),
    P_DUR("watermark_interval", wr_topo_event_time_t, watermark_interval_ms, 1, 3600000),
};

enum { W_TYPE, W_NAME, W_PAR, W_SIZE, W_SLIDE, W_GAP, W_LATENESS };
static const s_param_t s_window[] = {
    P_ENUM("type", wr_topo_window_t, kind, s_window_words),
    P_OF("name", K_NAME, wr_topo_window_t, name),
    P_INT("parallelism", wr_topo_window_t, parallelism, 1, S_MAXP),
    P_DUR("size", wr_topo_window_t, size_ms, 0, 10 * S_YEAR),
    P_DUR("slide", wr_topo_window_t, slide_ms, 0, 10 * S_YEAR),
    P_DUR("gap", wr_topo_window_t, gap_ms, 0, 10 * S_YEAR),
    P_DUR("allowed_lateness", wr_topo_window_t, allowed_lateness_ms, 0, 10 * S_YEAR),
    P_F64("quantile_accuracy", wr_topo_window_t, quantile_accuracy, 0.0001, 0.5),
};
static const char *const s_window_specials[] = {"late_sink", NULL};

/* Sources: the common keys, then the generator's, then the file's (one index space). */
enum { C_TYPE, C_NAME, C_PAR, C_N };
static const s_param_t s_source[] = {
    P_ENUM("type", wr_topo_source_t, kind, s_source_words),
    P_OF("name", K_NAME, wr_topo_source_t, name),
    P_INT("parallelism", wr_topo_source_t, parallelism, 1, S_MAXP),
};
static const s_param_t s_generator[] = {
    P_INT("devices", wr_generator_config_t, devices, 1, (int64_t)WR_GEN_MAX_DEVICES),
    P_INT("total", wr_generator_config_t, total, 0, INT64_MAX),
    P_INT("rate", wr_generator_config_t, rate, 0, (int64_t)WR_GEN_MAX_RATE),
    P_F64("speedup", wr_generator_config_t, speedup, 0, WR_GEN_MAX_SPEEDUP),
    {.key = "start",
     .kind = K_TIME,
     S_AT(wr_generator_config_t, start_ms),
     .lo = INT64_C(-62167219200000),
     .hi = INT64_C(253402300799999)},
    P_DUR("interval", wr_generator_config_t, interval_ms, 1, WR_GEN_MAX_INTERVAL),
    P_DUR("jitter", wr_generator_config_t, jitter_ms, 0, WR_GEN_MAX_JITTER),
    P_F64("late_fraction", wr_generator_config_t, late_fraction, 0, 1),
    P_DUR("late_by", wr_generator_config_t, late_ms, 1, WR_GEN_MAX_LATE),
    P_INT("seed", wr_generator_config_t, seed, 0, INT64_MAX),
};
enum { G_RATE = C_N + 2, G_SPEEDUP, G_N = C_N + 10 };
static const s_param_t s_file[] = {
    P_OF("path", K_PATH, wr_topo_source_t, path),
    P_ENUM("format", wr_topo_source_t, format, s_format_words),
    {.key = "header", .kind = K_BOOL, S_AT(wr_topo_source_t, header)},
    P_ENUM("on_error", wr_topo_source_t, on_error, s_on_error_words),
};
enum { F_PATH = G_N, F_FORMAT, F_HEADER, F_ON_ERROR, F_END };

enum { O_TYPE, O_NAME, O_PAR };
static const s_param_t s_op[] = {
    /* "type" only on the bus: a file says filter: or map: */
    P_ENUM("type", wr_topo_op_t, kind, s_op_words),
    P_OF("name", K_NAME, wr_topo_op_t, name),
    P_INT("parallelism", wr_topo_op_t, parallelism, 1, S_MAXP),
};
static const char *const s_op_specials[] = {"filter", "map", NULL};

enum { K_TYPE, K_NAME_, K_PAR, K_PATH_, K_DELAY, K_EXACTLY };
static const s_param_t s_sink[] = {
    P_ENUM("type", wr_topo_sink_t, kind, s_sink_words),
    P_OF("name", K_NAME, wr_topo_sink_t, name),
    P_INT("parallelism", wr_topo_sink_t, parallelism, 1, S_MAXP),
};
static const s_param_t s_sink_file[] = {
    P_OF("path", K_PATH, wr_topo_sink_t, path),
    P_DUR("delay", wr_topo_sink_t, delay_ms, 0, 60000),
    {.key = "exactly_once", .kind = K_BOOL, S_AT(wr_topo_sink_t, exactly_once)},
};

static const s_param_t s_agg[] = {
    /* the bus form of an aggregate */
    P_OF("name", K_FIELD, wr_topo_agg_t, name),
    P_ENUM("fn", wr_topo_agg_t, fn, s_agg_words),
    P_OF("field", K_FIELD, wr_topo_agg_t, field),
    P_F64("q", wr_topo_agg_t, q, 0, 1),
};

typedef struct {
    const s_param_t *p;
    size_t n;
    void *base;
} s_group_t;

#define S_GROUP(table, b)                                                                          \
    {                                                                                              \
        table, sizeof table / sizeof *table, b                                                     \
    }

/* ---- context and errors ---- */

enum { S_MAX_KEYS = 24 };

/* Lines of what was read from a file (0 for anything from the bus), for messages. */
typedef struct {
    uint32_t top[4], top_x[X_N];
    uint32_t et[4], win[8], win_late, late[6];
    uint32_t src_item[WR_TOPO_MAX_SOURCES], src[WR_TOPO_MAX_SOURCES][S_MAX_KEYS];
    uint32_t op_item[WR_TOPO_MAX_OPS], op[WR_TOPO_MAX_OPS][4];
    uint32_t out[WR_TOPO_MAX_OPS][WR_SCHEMA_MAX_FIELDS];
    uint32_t agg[WR_TOPO_MAX_AGGS];
    uint32_t sink_item[WR_TOPO_MAX_SINKS], sink[WR_TOPO_MAX_SINKS][6];
    bool schema_given;
} s_lines_t;

typedef struct {
    const char *file; /* origin for messages; NULL when reading from the bus */
    wr_strbuf_t *err; /* NULL when reading from the bus */
    const char *dir;  /* folder for relative source paths, or NULL */
    yaml_document_t *doc;
    s_lines_t *L; /* NULL when reading from the bus */
} s_ctx_t;

#define S_LINE(c, member) ((c)->L ? (c)->L->member : 0u)

/* One error: "FILE:LINE: KEY: message". Returns the code for it. */
static int s_fail(s_ctx_t *c, uint32_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_fail(s_ctx_t *c, uint32_t line, const char *key, const char *fmt, ...)
{
    if (!c->err) return WR_EPROTO;
    if (c->err->len > 0 && c->err->buf[c->err->len - 1] != '\n') wr_strbuf_addc(c->err, '\n');
    wr_strbuf_addf(c->err, "%s:%u: ", c->file, line);
    if (key && *key) wr_strbuf_addf(c->err, "%s: ", key);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wr_strbuf_adds(c->err, msg);
    return WR_ECONFIG;
}

/* User text for a message: quoted, shortened, control bytes as '?'. */
static const char *s_echo(const char *s, size_t len, char *buf, size_t cap)
{
    size_t n = 0;
    buf[n++] = '\'';
    for (size_t i = 0; i < len && i < S_ECHO_MAX && n + 5 < cap; i++)
        buf[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (len > S_ECHO_MAX) buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

static void s_field_list(const wr_schema_t *s, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < s->n && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", s->f[i].name);
}

/* ---- values ---- */

static bool s_name_ok(const char *s, size_t len, size_t max, bool job)
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

static bool s_field_ok(const char *s, size_t len)
{
    char name[WR_FIELD_NAME_MAX];
    if (len >= sizeof name) return false;
    memcpy(name, s, len);
    name[len] = '\0';
    return wr_field_name_valid(name);
}

static void s_store_int(void *at, size_t size, int64_t v)
{
    if (size == 4) {
        uint32_t u = (uint32_t)v;
        memcpy(at, &u, 4);
    } else {
        memcpy(at, &v, 8);
    }
}

static int64_t s_load_int(const void *at, size_t size)
{
    if (size == 4) {
        uint32_t u;
        memcpy(&u, at, 4);
        return u;
    }
    int64_t v;
    memcpy(&v, at, 8);
    return v;
}

/* A range for messages, in the unit the kind is written in. */
static void s_range(const s_param_t *p, char *buf, size_t cap)
{
    if (p->kind == K_F64)
        snprintf(buf, cap, "%g to %g", p->dlo, p->dhi);
    else if (p->kind == K_DUR)
        snprintf(buf, cap, "%lldms to %lldms", (long long)p->lo, (long long)p->hi);
    else
        snprintf(buf, cap, "%lld to %lld", (long long)p->lo, (long long)p->hi);
}

/* Sets p in base from text (len bytes, no NUL inside). Returns 0, or WR_EINVAL with *why set
 * to what the value should look like, or WR_ETOOBIG (out of range), WR_ENOMEM. */
static int s_set(const s_param_t *p, void *base, const char *text, size_t len, const char **why)
{
    char *at = (char *)base + p->off;
    char num[64];
    int64_t v = 0;
    double d = 0;
    switch (p->kind) {
    case K_INT:
    case K_DUR: {
        size_t n = 0; /* 5_000_000: underscores between digits are dropped */
        for (size_t i = 0; i < len && n + 1 < sizeof num; i++)
            if (text[i] != '_' || i == 0 || i + 1 == len) num[n++] = text[i];
        num[n] = '\0';
        *why = p->kind == K_INT ? "is not an integer" : "is not a duration (use e.g. 1min, 30s)";
        if (len >= sizeof num) return WR_EINVAL;
        if (wr_parse_value(p->kind == K_INT ? WR_UNIT_INT : WR_UNIT_DURATION, num, &v))
            return WR_EINVAL;
        if (v < p->lo || v > p->hi) return WR_ETOOBIG;
        s_store_int(at, p->size, v);
        return 0;
    }
    case K_TIME:
        *why = "is not a time (use ISO-8601 such as 2024-01-01T00:00:00Z, or epoch ms)";
        if (wr_textin_parse_time(text, len, &v)) return WR_EINVAL;
        if (v < p->lo || v > p->hi) return WR_ETOOBIG;
        memcpy(at, &v, 8);
        return 0;
    case K_F64:
        *why = "is not a number";
        if (wr_textin_parse_double(text, len, &d)) return WR_EINVAL;
        if (!(d >= p->dlo && d <= p->dhi)) return WR_ETOOBIG;
        memcpy(at, &d, 8);
        return 0;
    case K_BOOL:
        *why = "is not a boolean (use true or false)";
        if (len >= sizeof num) return WR_EINVAL;
        memcpy(num, text, len);
        num[len] = '\0';
        if (wr_parse_value(WR_UNIT_BOOL, num, &v)) return WR_EINVAL;
        *(bool *)at = v != 0;
        return 0;
    case K_ENUM:
        *why = "is not a valid choice";
        for (int i = 0; p->words[i]; i++) {
            if (*p->words[i] && strlen(p->words[i]) == len && !memcmp(p->words[i], text, len)) {
                memcpy(at, &i, sizeof i);
                return 0;
            }
        }
        return WR_EINVAL;
    case K_NAME:
    case K_JOBNAME:
        *why = p->kind == K_NAME ? "is not a valid name (a-z, 0-9, _ and -; up to 31)"
                                 : "is not a valid name (letters, digits, _ . -; up to 63)";
        if (!s_name_ok(text, len, p->size, p->kind == K_JOBNAME)) return WR_EINVAL;
        memcpy(at, text, len);
        at[len] = '\0';
        return 0;
    case K_FIELD:
        *why = "is not a field name (a letter or _, then letters, digits, _; up to 31)";
        if (len > 0 && !s_field_ok(text, len)) return WR_EINVAL;
        memcpy(at, text, len);
        at[len] = '\0';
        return 0;
    case K_PATH: {
        *why = "is not a path";
        if (len == 0 || len >= S_MAX_PATH) return WR_EINVAL;
        char *s = strndup(text, len);
        if (!s) return WR_ENOMEM;
        free(*(char **)at);
        *(char **)at = s;
        return 0;
    }
    }
    return WR_EINVAL;
}

static void s_enum_choices(const s_param_t *p, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; p->words[i] && n < cap; i++)
        if (*p->words[i])
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", p->words[i]);
}

/* ---- YAML ---- */

static yaml_node_t *s_node(s_ctx_t *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static uint32_t s_line_of(const yaml_node_t *n)
{
    return (uint32_t)n->start_mark.line + 1;
}

static const char *s_kind_of(const yaml_node_t *n)
{
    return n->type == YAML_SEQUENCE_NODE  ? "a list"
           : n->type == YAML_MAPPING_NODE ? "a mapping"
                                          : "a value";
}

/* A scalar value: its text, or an error naming key. */
static int s_scalar(s_ctx_t *c, yaml_node_t *n, const char *key, const char **text, size_t *len)
{
    if (n->type != YAML_SCALAR_NODE)
        return s_fail(c, s_line_of(n), key, "expected a single value, not %s", s_kind_of(n));
    *text = (const char *)n->data.scalar.value;
    *len = n->data.scalar.length;
    if (*len == 0) return s_fail(c, s_line_of(n), key, "no value");
    if (memchr(*text, '\0', *len))
        return s_fail(c, s_line_of(n), key, "the value contains a NUL byte");
    return 0;
}

static int s_expect(s_ctx_t *c, yaml_node_t *n, yaml_node_type_t type, const char *key,
                    const char *example)
{
    if (n->type == type) return 0;
    return s_fail(c, s_line_of(n), key, "expected %s, not %s (e.g. %s)",
                  type == YAML_SEQUENCE_NODE ? "a list" : "a mapping", s_kind_of(n), example);
}

static void s_join(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%s%s%s", path, *path ? "." : "", key);
}

/* Reads the pairs of mapping m: keys of the groups' parameters into their bases (lines[i] gets
 * the line of global parameter i), keys in specials into special[] (value nodes) and
 * special_line[]. Any other key is an error that lists the keys m takes. */
static int s_yaml_map(s_ctx_t *c, yaml_node_t *m, const char *path, const s_group_t *g, int ng,
                      const char *const *specials, yaml_node_t **special, uint32_t *special_line,
                      uint32_t *lines)
{
    char key[160], buf[S_ECHO_MAX + 8];
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = s_node(c, pr->key), *v = s_node(c, pr->value);
        uint32_t line = s_line_of(k);
        if (k->type != YAML_SCALAR_NODE)
            return s_fail(c, line, path, "a key must be a name, not %s", s_kind_of(k));
        const char *name = (const char *)k->data.scalar.value;
        s_join(key, sizeof key, path, name);
        int gi = 0, found = -1;
        const s_param_t *p = NULL;
        for (int i = 0; i < ng && !p; i++) {
            for (size_t j = 0; j < g[i].n; j++, gi++) {
                if (!strcmp(g[i].p[j].key, name)) {
                    p = &g[i].p[j], found = gi;
                    break;
                }
            }
            if (p) {
                const char *text, *why = "";
                size_t len;
                if (lines[found])
                    return s_fail(c, line, key, "given twice (first on line %u)", lines[found]);
                int rc = s_scalar(c, v, key, &text, &len);
                if (rc) return rc;
                rc = s_set(p, g[i].base, text, len, &why);
                if (rc == WR_ENOMEM) return rc;
                if (rc == WR_EINVAL && p->kind == K_ENUM) {
                    char choices[160];
                    s_enum_choices(p, choices, sizeof choices);
                    return s_fail(c, line, key, "%s is not one of %s",
                                  s_echo(text, len, buf, sizeof buf), choices);
                }
                if (rc == WR_EINVAL)
                    return s_fail(c, line, key, "%s %s", s_echo(text, len, buf, sizeof buf), why);
                if (rc) {
                    char range[96];
                    s_range(p, range, sizeof range);
                    return s_fail(c, line, key, "%s is out of range (%s)",
                                  s_echo(text, len, buf, sizeof buf), range);
                }
                lines[found] = line;
            }
        }
        if (p) continue;
        for (int i = 0; specials && specials[i]; i++) {
            if (!strcmp(specials[i], name)) {
                if (special[i])
                    return s_fail(c, line, key, "given twice (first on line %u)", special_line[i]);
                special[i] = v;
                special_line[i] = line;
                found = i;
                break;
            }
        }
        if (found >= 0) continue;
        wr_strbuf_t keys;
        wr_strbuf_init(&keys);
        for (int i = 0; i < ng; i++)
            for (size_t j = 0; j < g[i].n; j++)
                if (!(g[i].p == s_op && j == O_TYPE)) /* a file names no operator type */
                    wr_strbuf_addf(&keys, "%s%s", keys.len ? ", " : "", g[i].p[j].key);
        for (int i = 0; specials && specials[i]; i++)
            wr_strbuf_addf(&keys, "%s%s", keys.len ? ", " : "", specials[i]);
        int rc = s_fail(c, line, key, "unknown key (%s takes: %s)", *path ? path : "a topology",
                        keys.buf);
        wr_strbuf_release(&keys);
        return rc;
    }
    return 0;
}

/* schema: a mapping of field name -> type, in column order. */
static int s_yaml_schema(s_ctx_t *c, yaml_node_t *m, wr_schema_t *s)
{
    char key[64], buf[S_ECHO_MAX + 8];
    int rc = s_expect(c, m, YAML_MAPPING_NODE, "schema", "schema: {device: int, ts: time}");
    if (rc) return rc;
    wr_schema_init(s);
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = s_node(c, pr->key), *v = s_node(c, pr->value);
        const char *name, *type;
        size_t nlen, tlen;
        if ((rc = s_scalar(c, k, "schema", &name, &nlen))) return rc;
        snprintf(key, sizeof key, "schema.%.40s", name);
        if ((rc = s_scalar(c, v, key, &type, &tlen))) return rc;
        enum wr_type t;
        if (!s_field_ok(name, nlen))
            return s_fail(c, s_line_of(k), key,
                          "%s is not a field name (a letter or _, then "
                          "letters, digits, _; up to 31)",
                          s_echo(name, nlen, buf, sizeof buf));
        if (wr_type_parse(type, &t))
            return s_fail(c, s_line_of(v), key,
                          "%s is not a type (int, double, bool, time, "
                          "string)",
                          s_echo(type, tlen, buf, sizeof buf));
        rc = wr_schema_add(s, name, t);
        if (rc == WR_EEXIST) return s_fail(c, s_line_of(k), key, "given twice");
        if (rc) return s_fail(c, s_line_of(k), key, "more than %d fields", WR_SCHEMA_MAX_FIELDS);
    }
    if (s->n == 0) return s_fail(c, s_line_of(m), "schema", "no fields");
    return 0;
}

/* Makes a relative source path relative to the topology file's folder. */
static int s_resolve(s_ctx_t *c, char **path)
{
    if (!c->dir || (*path)[0] == '/') return 0;
    size_t n = strlen(c->dir) + strlen(*path) + 2;
    char *p = malloc(n);
    if (!p) return WR_ENOMEM;
    snprintf(p, n, "%s/%s", c->dir, *path);
    free(*path);
    *path = p;
    return 0;
}

static int s_yaml_source(s_ctx_t *c, yaml_node_t *n, uint32_t i, wr_topology_t *t)
{
    char path[32];
    snprintf(path, sizeof path, "sources[%u]", i);
    wr_topo_source_t *s = &t->sources[i];
    uint32_t *lines = c->L->src[i];
    int rc = s_expect(c, n, YAML_MAPPING_NODE, path, "- {type: generator, devices: 1000}");
    if (rc) return rc;
    c->L->src_item[i] = s_line_of(n);
    wr_generator_config_default(&s->generator);
    s->parallelism = t->parallelism;
    s_group_t g[] = {S_GROUP(s_source, s), S_GROUP(s_generator, &s->generator), S_GROUP(s_file, s)};
    if ((rc = s_yaml_map(c, n, path, g, 3, NULL, NULL, NULL, lines))) return rc;
    if (!lines[C_TYPE])
        return s_fail(c, s_line_of(n), path, "no type (type: generator, or type: file)");
    bool gen = s->kind == WR_TOPO_SOURCE_GENERATOR;
    for (int k = C_N; k < F_END; k++) {
        if (lines[k] && gen != (k < G_N)) {
            char key[64];
            s_join(key, sizeof key, path, k < G_N ? s_generator[k - C_N].key : s_file[k - G_N].key);
            return s_fail(c, lines[k], key, "only for type: %s", gen ? "file" : "generator");
        }
    }
    if (gen) {
        wr_generator_config_t *gc = &s->generator;
        if (gc->rate && gc->speedup > 0)
            return s_fail(c, lines[G_SPEEDUP], path, "give rate or speedup, not both");
    } else {
        memset(&s->generator, 0, sizeof s->generator);
        if (!lines[F_PATH]) return s_fail(c, s_line_of(n), path, "no path (path: data.jsonl)");
        if (!lines[F_HEADER]) s->header = s->format == WR_TEXTIN_CSV;
        if (!lines[C_PAR]) s->parallelism = 1;
        if ((rc = s_resolve(c, &s->path))) return rc;
    }
    if (!lines[C_NAME]) snprintf(s->name, sizeof s->name, "source-%u", i + 1);
    return 0;
}

static int s_yaml_sink(s_ctx_t *c, yaml_node_t *n, const char *path, const char *dflt,
                       uint32_t parallelism, wr_topo_sink_t *s, uint32_t *lines, uint32_t *item)
{
    int rc = s_expect(c, n, YAML_MAPPING_NODE, path, "{type: stdout}");
    if (rc) return rc;
    *item = s_line_of(n);
    s->parallelism = parallelism;
    s_group_t g[] = {S_GROUP(s_sink, s), S_GROUP(s_sink_file, s)};
    if ((rc = s_yaml_map(c, n, path, g, 2, NULL, NULL, NULL, lines))) return rc;
    if (!lines[K_TYPE]) return s_fail(c, *item, path, "no type (stdout, file or collect)");
    if (s->kind == WR_TOPO_SINK_FILE && !lines[K_PATH_])
        return s_fail(c, *item, path, "no path (path: results.jsonl)");
    for (int k = K_PATH_; k <= K_EXACTLY; k++) {
        if (s->kind != WR_TOPO_SINK_FILE && lines[k]) {
            char key[64];
            s_join(key, sizeof key, path, s_sink_file[k - K_PATH_].key);
            return s_fail(c, lines[k], key, "only for type: file");
        }
    }
    if (s->kind == WR_TOPO_SINK_FILE && !lines[K_PAR]) s->parallelism = 1;
    if (!lines[K_NAME_]) snprintf(s->name, sizeof s->name, "%s", dflt);
    return 0;
}

static int s_yaml_op(s_ctx_t *c, yaml_node_t *n, uint32_t i, wr_topology_t *t, uint32_t *count)
{
    char path[32], key[96];
    snprintf(path, sizeof path, "operators[%u]", i);
    wr_topo_op_t *op = &t->ops[i];
    int rc = s_expect(c, n, YAML_MAPPING_NODE, path, "- filter: temperature > 30");
    if (rc) return rc;
    c->L->op_item[i] = s_line_of(n);
    op->parallelism = t->parallelism;
    yaml_node_t *x[2] = {NULL, NULL};
    uint32_t xl[2] = {0, 0};
    s_group_t g[] = {S_GROUP(s_op, op)};
    if ((rc = s_yaml_map(c, n, path, g, 1, s_op_specials, x, xl, c->L->op[i]))) return rc;
    if (c->L->op[i][O_TYPE]) return s_fail(c, c->L->op[i][O_TYPE], path, "unknown key 'type'");
    if (!x[0] == !x[1])
        return s_fail(c, s_line_of(n), path, "%s (an operator is filter: EXPR or map: {...})",
                      x[0] ? "both filter and map" : "neither filter nor map");
    op->kind = x[0] ? WR_TOPO_OP_FILTER : WR_TOPO_OP_MAP;
    count[op->kind]++;
    if (!c->L->op[i][O_NAME])
        snprintf(op->name, sizeof op->name, "%s-%u", s_op_words[op->kind], count[op->kind]);
    const char *text;
    size_t len;
    if (x[0]) {
        s_join(key, sizeof key, path, "filter");
        if ((rc = s_scalar(c, x[0], key, &text, &len))) return rc;
        c->L->out[i][0] = s_line_of(x[0]);
        op->filter = strndup(text, len);
        return op->filter ? 0 : WR_ENOMEM;
    }
    s_join(key, sizeof key, path, "map");
    if ((rc = s_expect(c, x[1], YAML_MAPPING_NODE, key, "map: {device: device, f: temp * 1.8}")))
        return rc;
    size_t n_out = (size_t)(x[1]->data.mapping.pairs.top - x[1]->data.mapping.pairs.start);
    if (n_out == 0 || n_out > WR_SCHEMA_MAX_FIELDS)
        return s_fail(c, s_line_of(x[1]), key, "%s output fields (1 to %d)",
                      n_out ? "too many" : "no", WR_SCHEMA_MAX_FIELDS);
    op->outputs = calloc(n_out, sizeof *op->outputs);
    if (!op->outputs) return WR_ENOMEM;
    for (yaml_node_pair_t *pr = x[1]->data.mapping.pairs.start; pr < x[1]->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = s_node(c, pr->key), *v = s_node(c, pr->value);
        wr_topo_output_t *o = &op->outputs[op->n_outputs];
        char okey[160], buf[S_ECHO_MAX + 8];
        if ((rc = s_scalar(c, k, key, &text, &len))) return rc;
        snprintf(okey, sizeof okey, "%s.%.40s", key, text);
        if (!s_field_ok(text, len))
            return s_fail(c, s_line_of(k), okey, "%s is not a field name",
                          s_echo(text, len, buf, sizeof buf));
        memcpy(o->name, text, len);
        if ((rc = s_scalar(c, v, okey, &text, &len))) return rc;
        c->L->out[i][op->n_outputs] = s_line_of(v);
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
    for (int k = 0; s_agg_words[k]; k++)
        if (!strcmp(fn, s_agg_words[k])) fi = k;
    size_t want = fi == WR_TOPO_AGG_COUNT ? 0 : fi == WR_TOPO_AGG_QUANTILE ? 2 : 1;
    if (fi < 0 && (!strcmp(fn, "median") || (fn[0] == 'p' && fn[1] >= '0' && fn[1] <= '9'))) {
        double pct = 50;
        if (fn[0] == 'p' && (wr_textin_parse_double(fn + 1, strlen(fn + 1), &pct) || pct > 100))
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
    if (want == 2 &&
        (wr_textin_parse_double(args[1], strlen(args[1]), &a->q) || a->q < 0 || a->q > 1)) {
        *why = "needs q between 0 and 1: quantile(temperature, 0.95)";
        return WR_EINVAL;
    }
    a->fn = (enum wr_topo_agg_fn)fi;
    a->field[0] = '\0';
    if (want) {
        if (!s_field_ok(args[0], strlen(args[0]))) {
            *why = "needs a field name as its argument";
            return WR_EINVAL;
        }
        strcpy(a->field, args[0]);
    }
    return 0;
}

static int s_yaml_aggs(s_ctx_t *c, yaml_node_t *m, wr_topology_t *t)
{
    char key[64], buf[S_ECHO_MAX + 8];
    int rc = s_expect(c, m, YAML_MAPPING_NODE, "aggregates", "aggregates: {n: count()}");
    if (rc) return rc;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = s_node(c, pr->key), *v = s_node(c, pr->value);
        const char *name, *call, *why;
        size_t nlen, clen;
        if ((rc = s_scalar(c, k, "aggregates", &name, &nlen))) return rc;
        snprintf(key, sizeof key, "aggregates.%.40s", name);
        if (t->n_aggs == WR_TOPO_MAX_AGGS)
            return s_fail(c, s_line_of(k), key, "more than %d aggregates", WR_TOPO_MAX_AGGS);
        wr_topo_agg_t *a = &t->aggs[t->n_aggs];
        if (!s_field_ok(name, nlen))
            return s_fail(c, s_line_of(k), key, "%s is not a field name",
                          s_echo(name, nlen, buf, sizeof buf));
        memcpy(a->name, name, nlen);
        if ((rc = s_scalar(c, v, key, &call, &clen))) return rc;
        if (s_parse_call(call, clen, a, &why))
            return s_fail(c, s_line_of(v), key, "%s %s", s_echo(call, clen, buf, sizeof buf), why);
        c->L->agg[t->n_aggs++] = s_line_of(v);
    }
    return 0;
}

/* ---- the semantic check (files and the bus) ---- */

static bool s_set_in(const uint32_t *lines, int i)
{
    return lines && lines[i];
}

/* Compiles src against in; on success *type gets its type and *field its bare field (or -1). */
static int s_compile(s_ctx_t *c, uint32_t line, const char *key, const char *src,
                     const wr_schema_t *in, enum wr_type *type, int *field)
{
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    wr_expr_t *e = wr_expr_compile(src, in, &msg);
    int rc = 0;
    if (!e)
        rc = msg.failed ? WR_ENOMEM : s_fail(c, line, key, "%s", msg.len ? msg.buf : "invalid");
    else
        *type = wr_expr_type(e), *field = wr_expr_field(e);
    wr_expr_destroy(&e);
    wr_strbuf_release(&msg);
    return rc;
}

static int s_check_chain(s_ctx_t *c, wr_topology_t *t)
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
                return s_fail(c, S_LINE(c, out[i][0]), key,
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
                    return s_fail(c, S_LINE(c, out[i][k]), key, "%s",
                                  rc == WR_EEXIST ? "given twice" : "is not a field name");
            }
        }
        in = op->output;
    }
    t->input = in;
    return 0;
}

/* field must be in s with a type allowed by the mask (bits of enum wr_type). */
static int s_check_field(s_ctx_t *c, uint32_t line, const char *key, const char *field,
                         const wr_schema_t *s, unsigned types, const char *where, const char *want)
{
    char list[WR_SCHEMA_MAX_FIELDS * WR_FIELD_NAME_MAX];
    int i = wr_schema_find(s, field);
    if (i < 0) {
        s_field_list(s, list, sizeof list);
        return s_fail(c, line, key, "'%s' is not a field of %s (fields: %s)", field, where, list);
    }
    if (!(types & (1u << s->f[i].type)))
        return s_fail(c, line, key, "'%s' is %s %s; %s", field,
                      s->f[i].type == WR_T_INT ? "an" : "a", wr_type_name(s->f[i].type), want);
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

static int s_check_window(s_ctx_t *c, wr_topology_t *t)
{
    wr_topo_window_t *w = &t->window;
    const uint32_t *wl = c->L ? c->L->win : NULL;
    uint32_t wline = S_LINE(c, top_x[X_WINDOW]);
    bool has = w->kind != WR_TOPO_WINDOW_NONE;
    if (!has) {
        if (t->key_by[0])
            return s_fail(c, S_LINE(c, top[T_KEY]), "key_by",
                          "needs a window "
                          "(window: {type: tumbling, size: 1min})");
        if (t->n_aggs)
            return s_fail(c, S_LINE(c, top_x[X_AGGREGATES]), "aggregates",
                          "need a window (window: {type: tumbling, size: 1min})");
        if (t->event_time.field[0])
            return s_fail(c, S_LINE(c, top_x[X_EVENT_TIME]), "event_time", "needs a window");
        t->key_index = -1;
        return 0;
    }
    if (!t->key_by[0]) return s_fail(c, wline, "window", "needs key_by (key_by: device)");
    if (!t->n_aggs)
        return s_fail(c, wline, "window", "needs aggregates (aggregates: {n: count()})");
    if (!t->event_time.field[0])
        return s_fail(c, wline, "window", "needs event_time.field (event_time: {field: ts})");
    /* each kind takes its own lengths (a file that gives another one failed when read; from
     * the bus, a tumbling window's slide is its size) */
    if (w->kind == WR_TOPO_WINDOW_TUMBLING && w->slide_ms == 0) w->slide_ms = w->size_ms;
    static const char *const len_keys[] = {"size", "slide", "gap"};
    static const bool takes[4][3] = {{0, 0, 0}, {1, 1, 0}, {1, 1, 0}, {0, 0, 1}};
    int64_t *lens[] = {&w->size_ms, &w->slide_ms, &w->gap_ms};
    for (int k = 0; k < 3; k++) {
        char key[32];
        snprintf(key, sizeof key, "window.%s", len_keys[k]);
        uint32_t line = s_set_in(wl, W_SIZE + k) ? wl[W_SIZE + k] : wline;
        if (!takes[w->kind][k] && *lens[k])
            return s_fail(c, line, key, "not for a %s window", s_window_words[w->kind]);
        if (takes[w->kind][k] && *lens[k] <= 0)
            return s_fail(c, line, key, "%s (a %s window needs it)",
                          *lens[k] ? "too small" : "missing", s_window_words[w->kind]);
    }
    if (w->kind == WR_TOPO_WINDOW_TUMBLING && w->slide_ms != w->size_ms)
        return s_fail(c, wline, "window.slide", "not for a tumbling window");
    if (w->kind == WR_TOPO_WINDOW_SLIDING) {
        uint32_t line = s_set_in(wl, W_SLIDE) ? wl[W_SLIDE] : wline;
        if (w->slide_ms > w->size_ms)
            return s_fail(c, line, "window.slide",
                          "longer than window.size (a slide of at most "
                          "the size; use a tumbling window for slide = size)");
        int64_t a = s_gcd(w->size_ms, w->slide_ms);
        if (w->size_ms / a > WR_TOPO_MAX_PANES)
            return s_fail(c, line, "window.slide",
                          "size / gcd(size, slide) = %lld panes per "
                          "window, more than %d (make size a multiple of slide)",
                          (long long)(w->size_ms / a), WR_TOPO_MAX_PANES);
    }
    if (w->kind != WR_TOPO_WINDOW_SESSION) {
        /* the panes a key keeps live: a window's, and those of windows still open to late data */
        int64_t pane = s_gcd(w->size_ms, w->slide_ms);
        int64_t live = w->size_ms / pane + (w->allowed_lateness_ms + pane - 1) / pane;
        if (live > WR_TOPO_MAX_PANES)
            return s_fail(c, S_LINE(c, win[W_LATENESS]) ? S_LINE(c, win[W_LATENESS]) : wline,
                          "window.allowed_lateness",
                          "with it a key keeps %lld panes of %lld ms "
                          "live, more than %d (allow less lateness)",
                          (long long)live, (long long)pane, WR_TOPO_MAX_PANES);
    }
    if (w->parallelism > t->max_parallelism)
        return s_fail(c, s_set_in(wl, W_PAR) ? wl[W_PAR] : S_LINE(c, top[T_PAR]),
                      "window.parallelism",
                      "%u is more than max_parallelism (%u): a keyed "
                      "operator has at most one subtask per key group",
                      w->parallelism, t->max_parallelism);
    /* event time: a time field from the sources to the window */
    uint32_t eline = S_LINE(c, et[E_FIELD]);
    const char *ef = t->event_time.field;
    int rc = s_check_field(c, eline, "event_time.field", ef, &t->schema, S_T(WR_T_TIME),
                           "the sources' records", "the event-time field must be a time");
    if (rc < 0) return rc;
    rc = s_check_field(c, eline, "event_time.field", ef, &t->input, S_T(WR_T_TIME),
                       "the records reaching the window (pass it through the map)",
                       "the operators must keep it a time");
    if (rc < 0) return rc;
    t->key_index = s_check_field(c, S_LINE(c, top[T_KEY]), "key_by", t->key_by, &t->input,
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
            return s_fail(c, line, key, "%s", a->field[0] ? "count takes no field" : "no field");
        if (a->fn == WR_TOPO_AGG_QUANTILE ? !(a->q >= 0 && a->q <= 1) : a->q != 0)
            return s_fail(c, line, key, "bad q");
        if (a->field[0]) {
            a->input =
                s_check_field(c, line, key, a->field, &t->input, S_T(WR_T_INT) | S_T(WR_T_DOUBLE),
                              "the records reaching the window", "aggregate a number");
            if (a->input < 0) return a->input;
        }
        rc = wr_schema_add(r, a->name, a->fn == WR_TOPO_AGG_COUNT ? WR_T_INT : WR_T_DOUBLE);
        if (rc == WR_EEXIST)
            return s_fail(c, line, key,
                          "the result already has a field '%s' (the key, "
                          "window_start, window_end and the aggregates share one record)",
                          a->name);
        if (rc) return s_fail(c, line, key, "is not a field name");
    }
    return 0;
}

/* Every operator name is unique (they name subtask actors). */
static int s_check_names(s_ctx_t *c, const wr_topology_t *t)
{
    const char *names[WR_TOPO_MAX_SOURCES + WR_TOPO_MAX_OPS + WR_TOPO_MAX_SINKS + 2];
    uint32_t lines[sizeof names / sizeof *names];
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_sources; i++)
        lines[n] = S_LINE(c, src_item[i]), names[n++] = t->sources[i].name;
    for (uint32_t i = 0; i < t->n_ops; i++)
        lines[n] = S_LINE(c, op_item[i]), names[n++] = t->ops[i].name;
    if (t->window.kind != WR_TOPO_WINDOW_NONE) {
        lines[n] = S_LINE(c, top_x[X_WINDOW]), names[n++] = t->window.name;
        if (t->window.has_late_sink)
            lines[n] = S_LINE(c, win_late), names[n++] = t->window.late_sink.name;
    }
    for (uint32_t i = 0; i < t->n_sinks; i++)
        lines[n] = S_LINE(c, sink_item[i]), names[n++] = t->sinks[i].name;
    for (size_t i = 0; i < n; i++) {
        if (!s_name_ok(names[i], strlen(names[i]), WR_TOPO_NAME_MAX, false))
            return s_fail(c, lines[i], "name", "'%s' is not a valid name", names[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                return s_fail(c, lines[i], "name",
                              "'%s' names two operators (names must be "
                              "unique)",
                              names[i]);
    }
    return 0;
}

static int s_check(s_ctx_t *c, wr_topology_t *t)
{
    char key[64];
    if (!t->name[0]) return s_fail(c, 1, "name", "missing");
    if (t->n_sources == 0)
        return s_fail(c, S_LINE(c, top_x[X_SOURCES]) + !c->L, "sources",
                      "no source (sources: "
                      "[{type: generator}])");
    if (t->n_sinks == 0)
        return s_fail(c, S_LINE(c, top_x[X_SINKS]) + !c->L, "sinks",
                      "no sink (sinks: [{type: "
                      "stdout}])");
    wr_schema_t gen;
    wr_generator_schema(&gen);
    bool given = c->L ? c->L->schema_given : true;
    for (uint32_t i = 0; i < t->n_sources && !given; i++) /* a generator's schema is known */
        if (t->sources[i].kind == WR_TOPO_SOURCE_GENERATOR) t->schema = gen, given = true;
    for (uint32_t i = 0; i < t->n_sources; i++) {
        const wr_topo_source_t *s = &t->sources[i];
        uint32_t line = S_LINE(c, src_item[i]);
        snprintf(key, sizeof key, "sources[%u]", i);
        if (s->kind == WR_TOPO_SOURCE_GENERATOR) {
            if (!wr_schema_equal(&t->schema, &gen)) {
                char list[256];
                s_field_list(&gen, list, sizeof list);
                return s_fail(c, line, key,
                              "a generator makes records of its own schema (%s): "
                              "leave schema out or make it exactly that",
                              list);
            }
            if (s->generator.rate && s->generator.speedup > 0)
                return s_fail(c, line, key, "give rate or speedup, not both");
        } else {
            if (!given)
                return s_fail(c, line, key,
                              "a file source needs the schema of its "
                              "records (schema: {device: int, ts: time, ...})");
            if (s->parallelism != 1)
                return s_fail(c, S_LINE(c, src[i][C_PAR]) ? S_LINE(c, src[i][C_PAR]) : line, key,
                              "a file source reads one file: parallelism 1");
            if (s->format == WR_TEXTIN_JSONL && s->header)
                return s_fail(c, S_LINE(c, src[i][F_HEADER]) ? S_LINE(c, src[i][F_HEADER]) : line,
                              key, "header is only for format: csv");
        }
    }
    for (uint32_t i = 0; i < t->n_sinks; i++) {
        const wr_topo_sink_t *s = &t->sinks[i];
        uint32_t line = S_LINE(c, sink_item[i]);
        snprintf(key, sizeof key, "sinks[%u]", i);
        if ((s->kind == WR_TOPO_SINK_FILE) != (s->path != NULL))
            return s_fail(c, line, key, "a path is for file sinks only, and they need one");
        if (s->kind == WR_TOPO_SINK_FILE && !s->exactly_once && s->parallelism != 1)
            return s_fail(c, S_LINE(c, sink[i][K_PAR]) ? S_LINE(c, sink[i][K_PAR]) : line, key,
                          "a file sink writes one file: parallelism 1 (or exactly_once: true, "
                          "part files in a folder)");
    }
    const wr_topo_sink_t *late = &t->window.late_sink;
    if (t->window.has_late_sink && ((late->kind == WR_TOPO_SINK_FILE) != (late->path != NULL) ||
                                    (late->kind == WR_TOPO_SINK_FILE && late->parallelism != 1)))
        return s_fail(c, S_LINE(c, win_late), "window.late_sink",
                      "a file sink needs a path and "
                      "parallelism 1");
    int rc = s_check_chain(c, t);
    if (rc == 0) rc = s_check_window(c, t);
    if (rc == 0 && t->window.kind == WR_TOPO_WINDOW_NONE) {
        t->result = t->input;
        memset(&t->event_time, 0, sizeof t->event_time); /* only a window has event time */
    }
    if (rc == 0) rc = s_check_names(c, t);
    return rc;
}

/* ---- reading a file ---- */

static int s_yaml_list(s_ctx_t *c, yaml_node_t *n, const char *key, uint32_t max,
                       const char *example, uint32_t *count)
{
    int rc = s_expect(c, n, YAML_SEQUENCE_NODE, key, example);
    if (rc) return rc;
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len == 0 || len > max)
        return s_fail(c, s_line_of(n), key, "%s (1 to %u)", len ? "too many" : "none", max);
    *count = (uint32_t)len;
    return 0;
}

static int s_yaml_window(s_ctx_t *c, yaml_node_t *n, wr_topology_t *t)
{
    wr_topo_window_t *w = &t->window;
    int rc = s_expect(c, n, YAML_MAPPING_NODE, "window", "window: {type: tumbling, size: 1min}");
    if (rc) return rc;
    w->parallelism = t->parallelism;
    w->quantile_accuracy = 0.01;
    yaml_node_t *late = NULL;
    s_group_t g[] = {S_GROUP(s_window, w)};
    if ((rc = s_yaml_map(c, n, "window", g, 1, s_window_specials, &late, &c->L->win_late,
                         c->L->win)))
        return rc;
    if (!c->L->win[W_TYPE])
        return s_fail(c, s_line_of(n), "window", "no type (sliding, tumbling or session)");
    if (w->kind == WR_TOPO_WINDOW_TUMBLING && c->L->win[W_SLIDE])
        return s_fail(c, c->L->win[W_SLIDE], "window.slide",
                      "not for a tumbling window (it "
                      "slides by its size; use type: sliding)");
    if (!c->L->win[W_NAME]) strcpy(w->name, "window-1");
    if (late) {
        w->has_late_sink = true;
        rc = s_yaml_sink(c, late, "window.late_sink", "late-1", 1, &w->late_sink, c->L->late,
                         &c->L->win_late);
    }
    return rc;
}

static int s_yaml_topology(s_ctx_t *c, yaml_node_t *root, wr_topology_t *t)
{
    yaml_node_t *x[X_N] = {NULL};
    s_lines_t *L = c->L;
    int rc = s_expect(c, root, YAML_MAPPING_NODE, "", "name: my-job");
    if (rc) return rc;
    t->parallelism = 1;
    t->max_parallelism = 128;
    t->event_time.watermark_interval_ms = 200;
    s_group_t g[] = {S_GROUP(s_top, t)};
    if ((rc = s_yaml_map(c, root, "", g, 1, s_top_specials, x, L->top_x, L->top))) return rc;
    if (x[X_SCHEMA]) {
        if ((rc = s_yaml_schema(c, x[X_SCHEMA], &t->schema))) return rc;
        L->schema_given = true;
    }
    if (!x[X_SOURCES])
        return s_fail(c, s_line_of(root), "sources",
                      "missing (sources: "
                      "[{type: generator}])");
    if ((rc = s_yaml_list(c, x[X_SOURCES], "sources", WR_TOPO_MAX_SOURCES,
                          "sources: [{type: generator}]", &t->n_sources)))
        return rc;
    for (uint32_t i = 0; i < t->n_sources && !rc; i++)
        rc = s_yaml_source(c, s_node(c, x[X_SOURCES]->data.sequence.items.start[i]), i, t);
    if (!rc && x[X_OPERATORS]) {
        uint32_t per_kind[2] = {0, 0};
        rc = s_yaml_list(c, x[X_OPERATORS], "operators", WR_TOPO_MAX_OPS,
                         "operators: [{filter: temperature > 30}]", &t->n_ops);
        for (uint32_t i = 0; i < t->n_ops && !rc; i++)
            rc = s_yaml_op(c, s_node(c, x[X_OPERATORS]->data.sequence.items.start[i]), i, t,
                           per_kind);
    }
    if (!rc && x[X_EVENT_TIME]) {
        s_group_t ge[] = {S_GROUP(s_event_time, &t->event_time)};
        rc = s_expect(c, x[X_EVENT_TIME], YAML_MAPPING_NODE, "event_time",
                      "event_time: "
                      "{field: ts}");
        if (!rc) rc = s_yaml_map(c, x[X_EVENT_TIME], "event_time", ge, 1, NULL, NULL, NULL, L->et);
        if (!rc && !L->et[E_FIELD])
            rc = s_fail(c, s_line_of(x[X_EVENT_TIME]), "event_time", "no field (field: ts)");
    }
    if (!rc && x[X_WINDOW]) rc = s_yaml_window(c, x[X_WINDOW], t);
    if (!rc && x[X_AGGREGATES]) rc = s_yaml_aggs(c, x[X_AGGREGATES], t);
    if (!rc && !t->n_aggs && x[X_AGGREGATES])
        rc = s_fail(c, s_line_of(x[X_AGGREGATES]), "aggregates",
                    "none (aggregates: "
                    "{n: count()})");
    if (!rc && !x[X_SINKS])
        rc = s_fail(c, s_line_of(root), "sinks", "missing (sinks: [{type: stdout}])");
    if (!rc)
        rc = s_yaml_list(c, x[X_SINKS], "sinks", WR_TOPO_MAX_SINKS, "sinks: [{type: stdout}]",
                         &t->n_sinks);
    for (uint32_t i = 0; i < t->n_sinks && !rc; i++) {
        char path[32], dflt[16];
        snprintf(path, sizeof path, "sinks[%u]", i);
        snprintf(dflt, sizeof dflt, "sink-%u", i + 1);
        rc = s_yaml_sink(c, s_node(c, x[X_SINKS]->data.sequence.items.start[i]), path, dflt,
                         t->parallelism, &t->sinks[i], L->sink[i], &L->sink_item[i]);
    }
    return rc;
}

static int s_yaml_error(s_ctx_t *c, const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) return WR_ENOMEM;
    uint32_t line = (uint32_t)p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR) {
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++)
            line += text[i] == '\n';
    }
    if (p->context)
        return s_fail(c, line, NULL, "invalid YAML: %s (%s at line %zu)",
                      p->problem ? p->problem : "syntax error", p->context,
                      p->context_mark.line + 1);
    return s_fail(c, line, NULL, "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

static int s_parse(const char *text, size_t len, const char *origin, const char *dir,
                   wr_topology_t **out, wr_strbuf_t *err)
{
    s_ctx_t c = {.file = origin, .err = err, .dir = dir};
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_parser = false, have_doc = false;
    int rc = 0;
    *out = NULL;
    wr_topology_t *t = calloc(1, sizeof *t);
    c.L = calloc(1, sizeof *c.L);
    if (!t || !c.L || !yaml_parser_initialize(&parser)) {
        rc = WR_ENOMEM;
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = s_yaml_error(&c, &parser, text, len);
        goto out;
    }
    have_doc = true;
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = s_fail(&c, 1, NULL, "empty (a topology names its sources, operators and sinks)");
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        rc = s_yaml_error(&c, &parser, text, len);
        goto out;
    }
    bool second = yaml_document_get_root_node(&extra) != NULL;
    uint32_t second_line = (uint32_t)extra.start_mark.line + 1;
    yaml_document_delete(&extra);
    if (second) {
        rc = s_fail(&c, second_line, NULL, "a second YAML document (one topology per file)");
        goto out;
    }
    rc = s_yaml_topology(&c, root, t);
    if (rc == 0 && !t->name[0]) {
        const char *base = strrchr(origin, '/') ? strrchr(origin, '/') + 1 : origin;
        size_t n = strcspn(base, ".");
        if (!s_name_ok(base, n, sizeof t->name, true)) base = "job", n = 3;
        memcpy(t->name, base, n);
    }
    if (rc == 0) rc = s_check(&c, t);
out:
    if (have_doc) yaml_document_delete(&doc);
    if (have_parser) yaml_parser_delete(&parser);
    free(c.L);
    if (rc == WR_ENOMEM && err->len == 0) wr_strbuf_addf(err, "%s: out of memory", origin);
    if (rc)
        wr_topology_destroy(&t);
    else
        *out = t;
    return rc;
}

int wr_topology_parse(const char *text, size_t len, const char *origin, wr_topology_t **out,
                      wr_strbuf_t *err)
{
    return s_parse(text, len, origin, NULL, out, err);
}

int wr_topology_load_file(const char *path, wr_topology_t **out, wr_strbuf_t *err)
{
    wr_strbuf_t text, dir;
    wr_strbuf_init(&text);
    wr_strbuf_init(&dir);
    *out = NULL;
    int rc = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (err->len > 0) wr_strbuf_addc(err, '\n');
        wr_strbuf_addf(err, "%s: cannot read the topology: %s", path, strerror(e));
        return e == ENOENT ? WR_ENOTFOUND : WR_EIO;
    }
    for (;;) {
        if (!wr_strbuf_grow(&text, 65536)) {
            rc = WR_ENOMEM;
            break;
        }
        size_t n = fread(text.buf + text.len, 1, 65536, f);
        text.len += n;
        text.buf[text.len] = '\0';
        if (text.len > S_MAX_FILE) {
            s_ctx_t c = {.file = path, .err = err};
            rc = s_fail(&c, 1, NULL, "larger than %d bytes (is this a topology?)", S_MAX_FILE);
            break;
        }
        if (n == 0) {
            if (ferror(f)) {
                if (err->len > 0) wr_strbuf_addc(err, '\n');
                wr_strbuf_addf(err, "%s: cannot read the topology: %s", path, strerror(errno));
                rc = WR_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0) {
        const char *slash = strrchr(path, '/');
        if (path[0] != '/') {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) {
                if (err->len > 0) wr_strbuf_addc(err, '\n');
                wr_strbuf_addf(err, "%s: cannot resolve relative paths: %s", path, strerror(errno));
                rc = WR_EIO;
            }
            wr_strbuf_adds(&dir, cwd);
            if (slash) wr_strbuf_addc(&dir, '/');
        }
        if (slash) wr_strbuf_add(&dir, path, (size_t)(slash - path) + (slash == path));
        if (dir.failed) rc = WR_ENOMEM;
    }
    if (rc == 0) rc = s_parse(text.buf, text.len, path, dir.buf, out, err);
    wr_strbuf_release(&text);
    wr_strbuf_release(&dir);
    return rc;
}

static void s_sink_free(wr_topo_sink_t *s)
{
    free(s->path);
    s->path = NULL;
}

void wr_topology_destroy(wr_topology_t **tp)
{
    if (!tp || !*tp) return;
    wr_topology_t *t = *tp;
    for (uint32_t i = 0; i < WR_TOPO_MAX_SOURCES; i++)
        free(t->sources[i].path);
    for (uint32_t i = 0; i < WR_TOPO_MAX_OPS; i++) {
        free(t->ops[i].filter);
        for (uint32_t k = 0; k < t->ops[i].n_outputs; k++)
            free(t->ops[i].outputs[k].expr);
        free(t->ops[i].outputs);
    }
    for (uint32_t i = 0; i < WR_TOPO_MAX_SINKS; i++)
        s_sink_free(&t->sinks[i]);
    s_sink_free(&t->window.late_sink);
    free(t);
    *tp = NULL;
}

/* ---- the bus form ---- */

static int s_pack_params(msgpack_packer *pk, const s_group_t *g, int ng)
{
    int rc = 0;
    for (int i = 0; i < ng; i++) {
        for (size_t j = 0; j < g[i].n; j++) {
            const s_param_t *p = &g[i].p[j];
            const char *at = (const char *)g[i].base + p->off;
            rc |= wr_pack_str(pk, p->key);
            switch (p->kind) {
            case K_INT:
            case K_DUR:
            case K_TIME:
                rc |= msgpack_pack_int64(pk, s_load_int(at, p->size));
                break;
            case K_F64: {
                double d;
                memcpy(&d, at, 8);
                rc |= msgpack_pack_double(pk, d);
                break;
            }
            case K_BOOL:
                rc |= *(const bool *)at ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
                break;
            case K_ENUM: {
                int v;
                memcpy(&v, at, sizeof v);
                rc |= wr_pack_str(pk, p->words[v]);
                break;
            }
            case K_PATH:
                rc |= wr_pack_str(pk, *(char *const *)at);
                break;
            default:
                rc |= wr_pack_str(pk, at);
                break;
            }
        }
    }
    return rc;
}

static size_t s_count(const s_group_t *g, int ng)
{
    size_t n = 0;
    for (int i = 0; i < ng; i++)
        n += g[i].n;
    return n;
}

static int s_pack_sink(msgpack_packer *pk, const wr_topo_sink_t *s)
{
    s_group_t g[] = {S_GROUP(s_sink, (void *)s), S_GROUP(s_sink_file, (void *)s)};
    int ng = s->kind == WR_TOPO_SINK_FILE ? 2 : 1;
    return msgpack_pack_map(pk, s_count(g, ng)) | s_pack_params(pk, g, ng);
}

int wr_topology_pack(const wr_topology_t *t, msgpack_packer *pk)
{
    bool win = t->window.kind != WR_TOPO_WINDOW_NONE;
    s_group_t top[] = {S_GROUP(s_top, (void *)t)};
    int rc = msgpack_pack_map(pk, 1 + 4 + 5 + 2 * win);
    rc |= wr_pack_str(pk, "version") | msgpack_pack_int(pk, S_FORMAT_VERSION);
    rc |= s_pack_params(pk, top, 1);
    rc |= wr_pack_str(pk, "schema") | wr_schema_pack(&t->schema, pk);
    rc |= wr_pack_str(pk, "sources") | msgpack_pack_array(pk, t->n_sources);
    for (uint32_t i = 0; i < t->n_sources; i++) {
        const wr_topo_source_t *s = &t->sources[i];
        bool gen = s->kind == WR_TOPO_SOURCE_GENERATOR;
        s_group_t g[] = {S_GROUP(s_source, (void *)s),
                         gen ? (s_group_t)S_GROUP(s_generator, (void *)&s->generator)
                             : (s_group_t)S_GROUP(s_file, (void *)s)};
        rc |= msgpack_pack_map(pk, s_count(g, 2)) | s_pack_params(pk, g, 2);
    }
    rc |= wr_pack_str(pk, "operators") | msgpack_pack_array(pk, t->n_ops);
    for (uint32_t i = 0; i < t->n_ops; i++) {
        const wr_topo_op_t *op = &t->ops[i];
        s_group_t g[] = {S_GROUP(s_op, (void *)op)};
        rc |= msgpack_pack_map(pk, 4) | s_pack_params(pk, g, 1);
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
    for (uint32_t i = 0; i < t->n_aggs; i++) {
        s_group_t g[] = {S_GROUP(s_agg, (void *)&t->aggs[i])};
        rc |= msgpack_pack_map(pk, s_count(g, 1)) | s_pack_params(pk, g, 1);
    }
    rc |= wr_pack_str(pk, "sinks") | msgpack_pack_array(pk, t->n_sinks);
    for (uint32_t i = 0; i < t->n_sinks; i++)
        rc |= s_pack_sink(pk, &t->sinks[i]);
    if (win) {
        s_group_t ge[] = {S_GROUP(s_event_time, (void *)&t->event_time)};
        s_group_t gw[] = {S_GROUP(s_window, (void *)&t->window)};
        rc |= wr_pack_str(pk, "event_time") | msgpack_pack_map(pk, s_count(ge, 1)) |
              s_pack_params(pk, ge, 1);
        rc |= wr_pack_str(pk, "window") |
              msgpack_pack_map(pk, s_count(gw, 1) + t->window.has_late_sink) |
              s_pack_params(pk, gw, 1);
        if (t->window.has_late_sink)
            rc |= wr_pack_str(pk, "late_sink") | s_pack_sink(pk, &t->window.late_sink);
    }
    return rc ? -1 : 0;
}

/* Reads the value of parameter p (its key already read) into base. */
static int s_unpack_param(wr_mp_reader_t *r, const s_param_t *p, void *base)
{
    char *at = (char *)base + p->off;
    const char *s, *why;
    uint32_t len;
    int64_t v;
    double d;
    switch (p->kind) {
    case K_INT:
    case K_DUR:
    case K_TIME:
        if (wr_mp_read_int(r, &v) || v < p->lo || v > p->hi) return WR_EPROTO;
        s_store_int(at, p->size, v);
        return 0;
    case K_F64:
        if (wr_mp_read_double(r, &d) || !(d >= p->dlo && d <= p->dhi)) return WR_EPROTO;
        memcpy(at, &d, 8);
        return 0;
    case K_BOOL:
        return wr_mp_read_bool(r, (bool *)at) ? WR_EPROTO : 0;
    default:
        if (wr_mp_read_str(r, &s, &len) || memchr(s, '\0', len)) return WR_EPROTO;
        if (p->kind == K_FIELD && len == 0) {
            at[0] = '\0';
            return 0;
        }
        int rc = s_set(p, base, s, len, &why);
        return rc == WR_ENOMEM ? rc : rc ? WR_EPROTO : 0;
    }
}

/* Reads the value of a key that is not a parameter (the reader stands on it), or rejects it. */
typedef int (*s_special_fn)(wr_mp_reader_t *r, const char *key, uint32_t len, void *arg);

/* Reads a map that holds every parameter of the groups exactly once, plus keys that special
 * reads. WR_EPROTO for anything else. */
static int s_unpack_map(wr_mp_reader_t *r, const s_group_t *g, int ng, s_special_fn special,
                        void *arg)
{
    uint32_t n;
    uint64_t seen = 0;
    size_t want = s_count(g, ng);
    if (wr_mp_read_map(r, &n)) return WR_EPROTO;
    for (uint32_t k = 0; k < n; k++) {
        const char *key;
        uint32_t len;
        if (wr_mp_read_str(r, &key, &len)) return WR_EPROTO;
        int gi = 0, rc = 1;
        for (int i = 0; i < ng && rc == 1; i++) {
            for (size_t j = 0; j < g[i].n; j++, gi++) {
                if (strlen(g[i].p[j].key) != len || memcmp(g[i].p[j].key, key, len)) continue;
                if (seen & (UINT64_C(1) << gi)) return WR_EPROTO;
                seen |= UINT64_C(1) << gi;
                rc = s_unpack_param(r, &g[i].p[j], g[i].base);
                break;
            }
        }
        if (rc == 1) rc = special ? special(r, key, len, arg) : WR_EPROTO;
        if (rc) return rc;
    }
    return seen == (UINT64_C(1) << want) - 1 ? 0 : WR_EPROTO;
}

static bool s_is(const char *key, uint32_t len, const char *want)
{
    return strlen(want) == len && !memcmp(key, want, len);
}

typedef struct {
    wr_topology_t *t;
    wr_topo_op_t *op;
    uint32_t seen; /* bits: the special keys read (an operator: 1 filter, 2 outputs) */
} s_unpack_t;

static int s_str_dup(wr_mp_reader_t *r, char **out)
{
    const char *s;
    uint32_t len;
    if (wr_mp_read_str(r, &s, &len) || memchr(s, '\0', len) || len == 0 || len >= S_MAX_PATH)
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

static int s_unpack_sink(wr_mp_reader_t *r, wr_topo_sink_t *s)
{
    /* only a file sink has a path: the number of keys tells which */
    wr_mp_reader_t peek = *r;
    uint32_t n;
    if (wr_mp_read_map(&peek, &n)) return WR_EPROTO;
    s_group_t g[] = {S_GROUP(s_sink, s), S_GROUP(s_sink_file, s)};
    bool file = n == s_count(g, 2);
    int rc = s_unpack_map(r, g, file ? 2 : 1, NULL, NULL);
    if (rc == 0 && file != (s->kind == WR_TOPO_SINK_FILE)) rc = WR_EPROTO;
    return rc;
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
        return wr_mp_read_int(r, &v) || v != S_FORMAT_VERSION ? WR_EPROTO : 0;
    }
    case 1:
        return wr_schema_unpack(r, &t->schema) ? WR_EPROTO : 0;
    case 2:
        rc = s_unpack_list(r, WR_TOPO_MAX_SOURCES, &t->n_sources);
        for (uint32_t i = 0; i < t->n_sources && !rc; i++) {
            wr_topo_source_t *s = &t->sources[i];
            wr_mp_reader_t peek = *r;
            uint32_t n;
            if (wr_mp_read_map(&peek, &n)) return WR_EPROTO;
            bool gen = n == C_N + sizeof s_generator / sizeof *s_generator;
            s_group_t g[] = {S_GROUP(s_source, s),
                             gen ? (s_group_t)S_GROUP(s_generator, &s->generator)
                                 : (s_group_t)S_GROUP(s_file, s)};
            rc = s_unpack_map(r, g, 2, NULL, NULL);
            if (rc == 0 && gen != (s->kind == WR_TOPO_SOURCE_GENERATOR)) rc = WR_EPROTO;
        }
        return rc;
    case 3:
        rc = s_unpack_list(r, WR_TOPO_MAX_OPS, &t->n_ops);
        for (uint32_t i = 0; i < t->n_ops && !rc; i++) {
            s_unpack_t ou = {.t = t, .op = &t->ops[i]};
            s_group_t g[] = {S_GROUP(s_op, &t->ops[i])};
            rc = s_unpack_map(r, g, 1, s_op_special, &ou);
            if (rc == 0 && ou.seen != (t->ops[i].kind == WR_TOPO_OP_FILTER ? 1u : 2u))
                rc = WR_EPROTO;
        }
        return rc;
    case 4:
        rc = s_unpack_list(r, WR_TOPO_MAX_AGGS, &t->n_aggs);
        for (uint32_t i = 0; i < t->n_aggs && !rc; i++) {
            s_group_t g[] = {S_GROUP(s_agg, &t->aggs[i])};
            rc = s_unpack_map(r, g, 1, NULL, NULL);
            if (rc == 0 && !t->aggs[i].name[0]) rc = WR_EPROTO;
        }
        return rc;
    case 5:
        rc = s_unpack_list(r, WR_TOPO_MAX_SINKS, &t->n_sinks);
        for (uint32_t i = 0; i < t->n_sinks && !rc; i++)
            rc = s_unpack_sink(r, &t->sinks[i]);
        return rc;
    case 6: {
        s_group_t g[] = {S_GROUP(s_event_time, &t->event_time)};
        return s_unpack_map(r, g, 1, NULL, NULL);
    }
    default: {
        s_unpack_t wu = {.t = t};
        s_group_t g[] = {S_GROUP(s_window, &t->window)};
        rc = s_unpack_map(r, g, 1, s_window_special, &wu);
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
    s_group_t g[] = {S_GROUP(s_top, t)};
    int rc = s_unpack_map(r, g, 1, s_top_special, &u);
    /* version, schema, sources, operators, aggregates, sinks; event_time and window together */
    uint32_t need = 0x3f, win = u.seen & 0xc0;
    if (rc == 0 && ((u.seen & need) != need || (win != 0 && win != 0xc0))) rc = WR_EPROTO;
    if (rc == 0 && !t->name[0]) rc = WR_EPROTO;
    if (rc == 0) {
        s_ctx_t c = {0};
        rc = s_check(&c, t);
    }
    if (rc == 0 && r->err) rc = WR_EPROTO;
    if (rc) {
        wr_topology_destroy(&t);
        return rc == WR_ENOMEM ? rc : WR_EPROTO;
    }
    *out = t;
    return 0;
}

/* ---- equality and names ---- */

static bool s_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool s_sink_eq(const wr_topo_sink_t *a, const wr_topo_sink_t *b)
{
    return !strcmp(a->name, b->name) && a->kind == b->kind && a->parallelism == b->parallelism &&
           s_str_eq(a->path, b->path) && a->delay_ms == b->delay_ms &&
           a->exactly_once == b->exactly_once;
}

static bool s_source_eq(const wr_topo_source_t *a, const wr_topo_source_t *b)
{
    const wr_generator_config_t *x = &a->generator, *y = &b->generator;
    return !strcmp(a->name, b->name) && a->kind == b->kind && a->parallelism == b->parallelism &&
           s_str_eq(a->path, b->path) && a->format == b->format && a->header == b->header &&
           a->on_error == b->on_error && x->devices == y->devices && x->total == y->total &&
           x->rate == y->rate && x->speedup == y->speedup && x->start_ms == y->start_ms &&
           x->interval_ms == y->interval_ms && x->jitter_ms == y->jitter_ms &&
           x->late_fraction == y->late_fraction && x->late_ms == y->late_ms && x->seed == y->seed;
}

static bool s_op_eq(const wr_topo_op_t *a, const wr_topo_op_t *b)
{
    if (strcmp(a->name, b->name) || a->kind != b->kind || a->parallelism != b->parallelism ||
        !s_str_eq(a->filter, b->filter) || a->n_outputs != b->n_outputs ||
        !wr_schema_equal(&a->output, &b->output))
        return false;
    for (uint32_t k = 0; k < a->n_outputs; k++)
        if (strcmp(a->outputs[k].name, b->outputs[k].name) ||
            strcmp(a->outputs[k].expr, b->outputs[k].expr))
            return false;
    return true;
}

bool wr_topology_equal(const wr_topology_t *a, const wr_topology_t *b)
{
    const wr_topo_window_t *wa = &a->window, *wb = &b->window;
    const wr_topo_event_time_t *ea = &a->event_time, *eb = &b->event_time;
    if (strcmp(a->name, b->name) || a->parallelism != b->parallelism ||
        a->max_parallelism != b->max_parallelism || !wr_schema_equal(&a->schema, &b->schema) ||
        a->n_sources != b->n_sources || a->n_ops != b->n_ops || strcmp(a->key_by, b->key_by) ||
        a->key_index != b->key_index || strcmp(ea->field, eb->field) ||
        ea->max_out_of_orderness_ms != eb->max_out_of_orderness_ms ||
        ea->idle_timeout_ms != eb->idle_timeout_ms ||
        ea->watermark_interval_ms != eb->watermark_interval_ms || wa->kind != wb->kind ||
        strcmp(wa->name, wb->name) || wa->parallelism != wb->parallelism ||
        wa->size_ms != wb->size_ms || wa->slide_ms != wb->slide_ms || wa->gap_ms != wb->gap_ms ||
        wa->allowed_lateness_ms != wb->allowed_lateness_ms ||
        wa->quantile_accuracy != wb->quantile_accuracy || wa->has_late_sink != wb->has_late_sink ||
        (wa->has_late_sink && !s_sink_eq(&wa->late_sink, &wb->late_sink)) ||
        a->n_aggs != b->n_aggs || !wr_schema_equal(&a->input, &b->input) ||
        !wr_schema_equal(&a->result, &b->result) || a->n_sinks != b->n_sinks)
        return false;
    for (uint32_t i = 0; i < a->n_sources; i++)
        if (!s_source_eq(&a->sources[i], &b->sources[i])) return false;
    for (uint32_t i = 0; i < a->n_ops; i++)
        if (!s_op_eq(&a->ops[i], &b->ops[i])) return false;
    for (uint32_t i = 0; i < a->n_aggs; i++) {
        const wr_topo_agg_t *x = &a->aggs[i], *y = &b->aggs[i];
        if (strcmp(x->name, y->name) || x->fn != y->fn || strcmp(x->field, y->field) ||
            x->input != y->input || x->q != y->q)
            return false;
    }
    for (uint32_t i = 0; i < a->n_sinks; i++)
        if (!s_sink_eq(&a->sinks[i], &b->sinks[i])) return false;
    return true;
}

static const char *s_word(const char *const *words, int n, int i)
{
    return i >= 0 && i < n && *words[i] ? words[i] : "?";
}

const char *wr_topo_window_kind_name(enum wr_topo_window_kind k)
{
    return k == WR_TOPO_WINDOW_NONE ? "none" : s_word(s_window_words, 4, (int)k);
}

const char *wr_topo_agg_fn_name(enum wr_topo_agg_fn fn)
{
    return s_word(s_agg_words, 10, (int)fn);
}

const char *wr_topo_sink_kind_name(enum wr_topo_sink_kind k)
{
    return s_word(s_sink_words, 3, (int)k);
}

const char *wr_topo_source_kind_name(enum wr_topo_source_kind k)
{
    return s_word(s_source_words, 2, (int)k);
}
