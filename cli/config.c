/* weir's configuration: the key table, loading a file (its YAML tree, bus/base/yaml/ytree.h),
 * overrides, getters. A load reads into a pending set of values and commits only when the whole
 * file is valid, so a failed load leaves the configuration as it was. */
#include "cli/config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/units.h"
#include "bus/base/yaml/ytree.h"
#include "cli/cli.h"

#define S_ROW(k, p, t, d, lo, hi, doc) {k, p, t, d, lo, hi, doc},
#define S_ONE(k, p, t, d, lo, hi, doc) +1

static const wr_config_key_t s_keys[] = {WR_CONFIG_KEYS(S_ROW)};
enum { S_NKEYS = 0 WR_CONFIG_KEYS(S_ONE) };

enum { S_MAX_FILE = 1 << 20 };

static const wr_yaml_opts_t s_yaml_opts = {
    .what = "the configuration file",
    .max_bytes = S_MAX_FILE,
    .one_document = "keep all keys in one mapping; remove the '---'",
};

/* A string owns s; every other type (bools as 0/1) lives in i. */
typedef union {
    char *s;
    int64_t i;
} s_value_t;

struct wr_config {
    s_value_t v[S_NKEYS];
    char *origin[S_NKEYS]; /* where the value was set ("FILE:LINE", "--set KEY"); NULL: default */
    bool on_cli[S_NKEYS];  /* the value was set on the command line (wr_config_set) */
};

/* Records where key i was set (text, or "the command line" for NULL). False when out of memory
 * (the old origin stays). */
static bool s_set_origin(wr_config_t *cfg, int i, const char *text)
{
    char *o = strdup(text ? text : "the command line");
    if (!o) return false;
    free(cfg->origin[i]);
    cfg->origin[i] = o;
    return true;
}

static int s_find(const char *key)
{
    for (int i = 0; i < S_NKEYS; i++)
        if (!strcmp(s_keys[i].key, key)) return i;
    return -1;
}

/* How the YAML layer reads a key's values (not strings), with the messages the tests know. */
static wr_yaml_spec_t s_spec(const wr_config_key_t *k)
{
    static const wr_yaml_type_t types[] = {[WR_CFG_INT] = WR_YAML_INT,
                                           [WR_CFG_DURATION] = WR_YAML_DURATION,
                                           [WR_CFG_SIZE] = WR_YAML_SIZE,
                                           [WR_CFG_BOOL] = WR_YAML_BOOL};
    assert(k->type != WR_CFG_STRING && "strings are not parsed");
    return (wr_yaml_spec_t){.type = types[k->type],
                            .lo = k->min,
                            .hi = k->max,
                            .dflt = k->default_text,
                            .allowed = true};
}

int wr_config_parse_value(enum wr_config_type type, const char *text, int64_t *out)
{
    static const enum wr_unit_kind units[] = {[WR_CFG_INT] = WR_UNIT_INT,
                                              [WR_CFG_DURATION] = WR_UNIT_DURATION,
                                              [WR_CFG_SIZE] = WR_UNIT_SIZE,
                                              [WR_CFG_BOOL] = WR_UNIT_BOOL};
    assert(type != WR_CFG_STRING && "strings are not parsed");
    int64_t v;
    if (wr_parse_value(units[type], text, &v)) return WR_ECONFIG;
    *out = v;
    return 0;
}

/* Levenshtein distance ignoring case; SIZE_MAX when the lengths alone differ by more than 2. */
static size_t s_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[128];
    if (lb >= sizeof row / sizeof *row || la > lb + 2 || lb > la + 2) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "unknown key 'KEY' (did you mean ...? keys are documented in deploy/weir.yaml)". */
static void s_add_unknown(wr_strbuf_t *sb, const char *key)
{
    wr_strbuf_adds(sb, "unknown key ");
    wr_yaml_echo(sb, key, strlen(key));
    const char *near = NULL;
    size_t best = 3; /* suggest only keys within two edits, case aside */
    for (int i = 0; i < S_NKEYS; i++) {
        size_t d = s_edit_distance(key, s_keys[i].key);
        if (d < best) best = d, near = s_keys[i].key;
    }
    if (near)
        wr_strbuf_addf(sb, " (did you mean '%s'? keys are documented in deploy/weir.yaml)", near);
    else
        wr_strbuf_adds(sb, " (keys are documented in deploy/weir.yaml)");
}

/* bus.source-address: empty, or an IPv4 literal (never a name: nothing is looked up). */
static int s_check_ipv4(const char *v, wr_strbuf_t *msg)
{
    struct in_addr ip;
    if (!v[0] || inet_pton(AF_INET, v, &ip) == 1) return 0;
    wr_strbuf_addf(msg, "'%s' is not an IPv4 address (e.g. 127.0.0.2; empty: any)", v);
    return WR_ECONFIG;
}

/* bus.advertised-endpoint: empty, or an endpoint others can dial (wr_cli_endpoint_check). */
static int s_check_endpoint(const char *v, wr_strbuf_t *msg)
{
    if (!v[0] || !wr_cli_endpoint_check(v, msg)) return 0;
    wr_strbuf_adds(msg, " (empty: the bound endpoint)");
    return WR_ECONFIG;
}

/* String keys whose text has a form to check. */
static const struct {
    const char *key;
    int (*check)(const char *value, wr_strbuf_t *msg);
} s_string_checks[] = {
    {"bus.source-address", s_check_ipv4},
    {"bus.advertised-endpoint", s_check_endpoint},
};

/* Validates text (len bytes, no NUL inside) as key i's value. On success fills *out (a string is
 * a new copy) and returns 0; otherwise appends what is wrong to msg and returns WR_ECONFIG. */
static int s_convert(int i, const char *text, size_t len, s_value_t *out, wr_strbuf_t *msg)
{
    const wr_config_key_t *k = &s_keys[i];
    if (k->type == WR_CFG_STRING) {
        out->s = strndup(text, len);
        if (!out->s) return WR_ENOMEM;
        int rc = 0;
        for (size_t c = 0; c < sizeof s_string_checks / sizeof s_string_checks[0] && !rc; c++)
            if (!strcmp(k->key, s_string_checks[c].key)) rc = s_string_checks[c].check(out->s, msg);
        if (rc) free(out->s), out->s = NULL;
        return rc;
    }
    wr_yaml_spec_t spec = s_spec(k);
    wr_yaml_value_t v;
    int rc = wr_yaml_parse_value(&spec, text, len, &v, msg);
    if (!rc) out->i = v.i;
    return rc;
}

static void s_value_release(int i, s_value_t *v)
{
    if (s_keys[i].type == WR_CFG_STRING) {
        free(v->s);
        v->s = NULL;
    }
}

wr_config_t *wr_config_new(void)
{
    wr_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    int rc = 0;
    for (int i = 0; i < S_NKEYS && rc == 0; i++) {
        const char *text = s_keys[i].default_text;
        rc = s_convert(i, text, strlen(text), &cfg->v[i], &msg);
    }
    assert(rc != WR_ECONFIG && "a WR_CONFIG_KEYS default fails its own type or range");
    wr_strbuf_release(&msg);
    if (rc) wr_config_destroy(&cfg);
    return cfg;
}

void wr_config_destroy(wr_config_t **cfg)
{
    if (!cfg || !*cfg) return;
    for (int i = 0; i < S_NKEYS; i++)
        s_value_release(i, &(*cfg)->v[i]);
    for (int i = 0; i < S_NKEYS; i++)
        free((*cfg)->origin[i]);
    free(*cfg);
    *cfg = NULL;
}

/* ---- loading a file ---- */

typedef struct {
    wr_yaml_t *doc;
    wr_strbuf_t key; /* dotted path of the mapping being read, then of the key */
    s_value_t pending[S_NKEYS];
    uint32_t set_line[S_NKEYS]; /* 0: this file does not set the key */
} s_load_t;

static bool s_is_group(const char *prefix, size_t len)
{
    for (int i = 0; i < S_NKEYS; i++)
        if (!strncmp(s_keys[i].key, prefix, len) && s_keys[i].key[len] == '.') return true;
    return false;
}

/* The scalar value of the key in ld->key, from its pair at line. */
static int s_assign(s_load_t *ld, uint32_t line, const wr_yaml_node_t *value)
{
    const char *key = ld->key.buf, *text;
    size_t len;
    int i = s_find(key);
    if (i < 0) {
        wr_strbuf_t msg;
        wr_strbuf_init(&msg);
        s_add_unknown(&msg, key);
        int rc = msg.failed ? WR_ENOMEM : wr_yaml_fail(ld->doc, line, NULL, "%s", msg.buf);
        wr_strbuf_release(&msg);
        return rc;
    }
    if (ld->set_line[i])
        return wr_yaml_fail(ld->doc, line, NULL,
                            "duplicate key '%s' (first set on line %u; keep one)", key,
                            ld->set_line[i]);
    int rc = wr_yaml_scalar(ld->doc, value, key, NULL, &text, &len);
    if (rc) return rc;
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    rc = s_convert(i, text, len, &ld->pending[i], &msg);
    if (rc == WR_ECONFIG)
        rc = msg.failed ? WR_ENOMEM : wr_yaml_fail(ld->doc, line, key, "%s", msg.buf);
    wr_strbuf_release(&msg);
    if (rc == 0) ld->set_line[i] = line;
    return rc;
}

static int s_read_mapping(s_load_t *ld, const wr_yaml_node_t *map);

/* One key and its value: a scalar to assign, or a nested mapping of a group of keys
 * (`heartbeat:` holding `timeout: 3s`), read with the key as prefix. Errors are at the key's
 * line. */
static int s_read_pair(s_load_t *ld, const wr_yaml_pair_t *pair)
{
    const wr_yaml_node_t *k = pair->key, *v = pair->value;
    if (k->kind != WR_YAML_SCALAR || k->alias)
        return wr_yaml_fail(ld->doc, k->line, NULL,
                            "a key must be a name such as heartbeat.timeout, not a list, "
                            "mapping or alias");
    size_t outer = ld->key.len;
    if (outer) wr_strbuf_addc(&ld->key, '.');
    wr_strbuf_add(&ld->key, k->text, k->len);
    if (ld->key.failed) return WR_ENOMEM;
    const char *key = ld->key.buf;
    int rc, i = s_find(key);
    if (v->alias)
        rc = wr_yaml_fail(ld->doc, k->line, key,
                          "aliases (*%s) are not supported (write the value itself)", v->alias);
    else if (v->kind == WR_YAML_SCALAR)
        rc = s_assign(ld, k->line, v);
    else if (v->kind == WR_YAML_MAP && s_is_group(key, ld->key.len))
        rc = s_read_mapping(ld, v);
    else if (i < 0)
        rc = s_assign(ld, k->line, v); /* says it is unknown */
    else
        rc = wr_yaml_fail(ld->doc, k->line, key, "expected a single value, not %s (e.g. %s: %s)",
                          wr_yaml_kind_name(v), key, s_keys[i].default_text);
    wr_strbuf_truncate(&ld->key, outer);
    return rc;
}

static int s_read_mapping(s_load_t *ld, const wr_yaml_node_t *map)
{
    int rc = 0;
    for (uint32_t i = 0; i < map->n && !rc; i++)
        rc = s_read_pair(ld, &map->pairs[i]);
    return rc;
}

/* The document: nothing (empty or comments only), an empty value (`---` alone), or one mapping
 * of keys. */
static int s_read_root(s_load_t *ld)
{
    const wr_yaml_node_t *root = wr_yaml_root(ld->doc);
    if (!root || (root->kind == WR_YAML_SCALAR && root->len == 0 && root->plain)) return 0;
    if (root->kind != WR_YAML_MAP || root->alias)
        return wr_yaml_fail(ld->doc, root->line, NULL,
                            "expected a mapping of keys to values (e.g. heartbeat.timeout: 3s)");
    return s_read_mapping(ld, root);
}

int wr_config_load_file(wr_config_t *cfg, const char *path, wr_strbuf_t *err)
{
    s_load_t ld = {0};
    wr_strbuf_init(&ld.key);
    int rc = wr_yaml_load_file(path, &s_yaml_opts, &ld.doc, err);
    if (!rc) rc = s_read_root(&ld);
    char *origins[S_NKEYS] = {0}; /* made before anything is committed: all or nothing */
    for (int i = 0; i < S_NKEYS && !rc; i++) {
        if (!ld.set_line[i]) continue;
        size_t size = strlen(path) + 16;
        origins[i] = malloc(size);
        if (origins[i])
            snprintf(origins[i], size, "%s:%u", path, ld.set_line[i]);
        else
            rc = WR_ENOMEM;
    }
    for (int i = 0; i < S_NKEYS; i++) {
        if (!ld.set_line[i]) continue;
        s_value_release(i, rc ? &ld.pending[i] : &cfg->v[i]);
        if (!rc) cfg->v[i] = ld.pending[i], cfg->on_cli[i] = false;
        if (!rc)
            free(cfg->origin[i]), cfg->origin[i] = origins[i];
        else
            free(origins[i]);
    }
    wr_yaml_destroy(&ld.doc);
    wr_strbuf_release(&ld.key);
    if (rc == WR_ENOMEM && err->len == 0) wr_strbuf_addf(err, "%s: out of memory", path);
    return rc;
}

int wr_config_set(wr_config_t *cfg, const char *origin, const char *key, const char *value,
                  wr_strbuf_t *err)
{
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    int i = s_find(key), rc = WR_ECONFIG;
    s_value_t v;
    if (i < 0)
        s_add_unknown(&msg, key);
    else
        rc = s_convert(i, value, strlen(value), &v, &msg);
    if (rc == WR_ECONFIG) {
        wr_yaml_new_line(err);
        wr_strbuf_addf(err, "%s: %s", origin ? origin : key, msg.buf);
        if (msg.failed) rc = WR_ENOMEM;
    }
    wr_strbuf_release(&msg);
    if (!rc && !s_set_origin(cfg, i, origin)) {
        s_value_t copy = v;
        s_value_release(i, &copy);
        rc = WR_ENOMEM;
    }
    if (rc) return rc;
    s_value_release(i, &cfg->v[i]);
    cfg->v[i] = v;
    cfg->on_cli[i] = true;
    return 0;
}

/* ---- keys with no effect ---- */

/* "the JobManager (weir jobmanager) and the client commands" for processes procs, into out
 * ("every process" for all of them). */
static void s_add_readers(wr_strbuf_t *out, unsigned procs)
{
    if ((procs & WR_CFG_ALL) == WR_CFG_ALL) {
        wr_strbuf_adds(out, "every process");
        return;
    }
    static const struct {
        unsigned proc;
        const char *name;
    } names[] = {{WR_CFG_JM, "the JobManager (weir jobmanager)"},
                 {WR_CFG_TM, "the TaskManagers (weir taskmanager)"},
                 {WR_CFG_CLIENT, "the client commands (weir submit, jobs, ...)"},
                 {WR_CFG_LOCAL, "weir local"}};
    size_t n = sizeof names / sizeof names[0], said = 0, total = 0;
    for (size_t k = 0; k < n; k++)
        total += (procs & names[k].proc) != 0;
    for (size_t k = 0; k < n; k++) {
        if (!(procs & names[k].proc)) continue;
        if (said) wr_strbuf_adds(out, said + 1 == total ? " and " : ", ");
        wr_strbuf_adds(out, names[k].name);
        said++;
    }
}

size_t wr_config_unused(const wr_config_t *cfg, unsigned proc, wr_strbuf_t *out)
{
    static const char *const process[] = {[WR_CFG_JM] = "the JobManager",
                                          [WR_CFG_TM] = "a TaskManager",
                                          [WR_CFG_CLIENT] = "a client command"};
    if (proc & WR_CFG_LOCAL) return 0; /* it runs every process */
    size_t n = 0;
    for (int i = 0; i < S_NKEYS; i++) {
        if (!cfg->on_cli[i] || (s_keys[i].procs & proc)) continue;
        wr_yaml_new_line(out);
        wr_strbuf_addf(out, "%s (%s) has no effect on %s: it is read by ", s_keys[i].key,
                       cfg->origin[i] ? cfg->origin[i] : "the command line",
                       proc < sizeof process / sizeof process[0] && process[proc] ? process[proc]
                                                                                  : "this process");
        s_add_readers(out, s_keys[i].procs);
        n++;
    }
    return n;
}

/* ---- keys that bound each other ---- */

/* A duration as the shortest exact text the files take: "500ms", "3s", "2min", "1h". */
static void s_add_duration(wr_strbuf_t *sb, int64_t ms)
{
    char text[WR_DURATION_TEXT_MAX];
    wr_strbuf_adds(sb, wr_duration_text(ms, text));
}

static const char *s_origin(const wr_config_t *cfg, int i)
{
    return cfg->origin[i] ? cfg->origin[i] : "the default";
}

/* Pairs of durations where the first (times `times`, when not 0) must stay below the second
 * (strict) or not above it. */
static const struct {
    const char *lower, *upper;
    bool strict;
    const char *why;
    int times;
} s_bounds[] = {
    {"heartbeat.interval", "heartbeat.timeout", true,
     "a peer would be declared dead between two of its heartbeats", 0},
    {"restart-strategy.exponential-delay.initial-backoff",
     "restart-strategy.exponential-delay.max-backoff", false,
     "the first delay would already exceed the longest", 0},
    {"high-availability.etcd.renew-interval", "high-availability.etcd.lease-ttl", false,
     "a leader steps down one renew interval before its lease ends, and must have renewed it "
     "twice before",
     3},
};

int wr_config_check(const wr_config_t *cfg, wr_strbuf_t *err)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof s_bounds / sizeof s_bounds[0]; i++) {
        int64_t lo = wr_config_int(cfg, s_bounds[i].lower);
        int64_t hi = wr_config_int(cfg, s_bounds[i].upper);
        int64_t times = s_bounds[i].times ? s_bounds[i].times : 1;
        if (s_bounds[i].strict ? lo * times < hi : lo * times <= hi) continue;
        int li = s_find(s_bounds[i].lower), hi_i = s_find(s_bounds[i].upper);
        wr_yaml_new_line(err);
        wr_strbuf_addf(err, "%s (", s_bounds[i].lower);
        s_add_duration(err, lo);
        wr_strbuf_addf(err, ", %s) must be %s %s%s (", s_origin(cfg, li),
                       s_bounds[i].strict ? "less than" : "at most",
                       times == 3  ? "a third of "
                       : times > 1 ? "a fraction of "
                                   : "",
                       s_bounds[i].upper);
        s_add_duration(err, hi);
        wr_strbuf_addf(err, ", %s): %s", s_origin(cfg, hi_i), s_bounds[i].why);
        rc = err->failed ? WR_ENOMEM : WR_ECONFIG;
    }
    return rc;
}

/* ---- getters and the table ---- */

#define S_TYPE(t) (1u << (t))

/* The index of key, which must be in the table with one of the types in the mask. */
static int s_lookup(const char *key, unsigned types)
{
    int i = s_find(key);
    assert(i >= 0 && "key is not in WR_CONFIG_KEYS");
    assert((types & S_TYPE(s_keys[i].type)) && "getter does not match the key's type");
    return i;
}

const char *wr_config_str(const wr_config_t *cfg, const char *key)
{
    return cfg->v[s_lookup(key, S_TYPE(WR_CFG_STRING))].s;
}

int64_t wr_config_int(const wr_config_t *cfg, const char *key)
{
    unsigned numbers = S_TYPE(WR_CFG_INT) | S_TYPE(WR_CFG_DURATION) | S_TYPE(WR_CFG_SIZE);
    return cfg->v[s_lookup(key, numbers)].i;
}

bool wr_config_bool(const wr_config_t *cfg, const char *key)
{
    return cfg->v[s_lookup(key, S_TYPE(WR_CFG_BOOL))].i != 0;
}

size_t wr_config_key_count(void)
{
    return S_NKEYS;
}

const wr_config_key_t *wr_config_key_at(size_t i)
{
    return i < S_NKEYS ? &s_keys[i] : NULL;
}

void wr_config_write_defaults(wr_strbuf_t *out)
{
    static const char rule[] = "#================================================================"
                               "==============\n";
    for (int i = 0; i < S_NKEYS; i++) {
        const wr_config_key_t *k = &s_keys[i];
        size_t group = strcspn(k->key, ".");
        bool new_group = i == 0 || strcspn(s_keys[i - 1].key, ".") != group ||
                         strncmp(k->key, s_keys[i - 1].key, group);
        if (i > 0) wr_strbuf_addc(out, '\n');
        if (new_group) wr_strbuf_addf(out, "%s# %.*s\n%s\n", rule, (int)group, k->key, rule);
        wr_strbuf_addf(out, "# %s\n# Read by ", k->doc);
        s_add_readers(out, k->procs);
        wr_strbuf_adds(out, ".\n");
        if (k->type != WR_CFG_STRING && k->type != WR_CFG_BOOL) {
            wr_yaml_spec_t spec = s_spec(k);
            wr_strbuf_adds(out, "# Range: ");
            wr_yaml_add_range(out, &spec);
            wr_strbuf_adds(out, ".\n");
        }
        wr_strbuf_addf(out, "%s: ", k->key);
        if (k->type != WR_CFG_STRING) {
            wr_strbuf_addf(out, "%s\n", k->default_text);
            continue;
        }
        wr_strbuf_addc(out, '"');
        for (const char *c = k->default_text; *c; c++) {
            if (*c == '"' || *c == '\\') wr_strbuf_addc(out, '\\');
            wr_strbuf_addc(out, *c);
        }
        wr_strbuf_adds(out, "\"\n");
    }
}
