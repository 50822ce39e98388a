/* weir's configuration: the key table, a libyaml event-driven loader, overrides, getters.
 * A load parses into a pending set of values and commits only when the whole file is valid,
 * so a failed load leaves the configuration as it was. */
#include "cli/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "bus/base/error.h"
#include "bus/base/units.h"

#define S_ROW(k, t, d, lo, hi, doc) {k, t, d, lo, hi, doc},
#define S_ONE(k, t, d, lo, hi, doc) +1

static const wr_config_key_t s_keys[] = {WR_CONFIG_KEYS(S_ROW)};
enum { S_NKEYS = 0 WR_CONFIG_KEYS(S_ONE) };

enum { S_MAX_FILE = 1 << 20, S_ECHO_MAX = 60 };

/* A string owns s; every other type (bools as 0/1) lives in i. */
typedef union {
    char *s;
    int64_t i;
} s_value_t;

struct wr_config {
    s_value_t v[S_NKEYS];
};

/* Where a value came from: a file line, or a command-line flag when file is NULL. */
typedef struct {
    const char *file;
    size_t line;
} s_origin_t;

typedef struct {
    const char *name; /* lower case; matched case-insensitively */
    int64_t mul;
} s_unit_t;

#define S_KIB (INT64_C(1) << 10)
#define S_MIB (INT64_C(1) << 20)
#define S_GIB (INT64_C(1) << 30)


static int s_find(const char *key)
{
    for (int i = 0; i < S_NKEYS; i++)
        if (!strcmp(s_keys[i].key, key)) return i;
    return -1;
}

/* Parses a value of a key's type (not strings): 0, WR_EINVAL (malformed) or WR_ETOOBIG. */
static int s_parse(enum wr_config_type type, const char *text, int64_t *out)
{
    switch (type) {
    case WR_CFG_INT: return wr_parse_value(WR_UNIT_INT, text, out);
    case WR_CFG_DURATION: return wr_parse_value(WR_UNIT_DURATION, text, out);
    case WR_CFG_SIZE: return wr_parse_value(WR_UNIT_SIZE, text, out);
    case WR_CFG_BOOL: return wr_parse_value(WR_UNIT_BOOL, text, out);
    case WR_CFG_STRING: break;
    }
    assert(!"strings are not parsed");
    return WR_EINVAL;
}

int wr_config_parse_value(enum wr_config_type type, const char *text, int64_t *out)
{
    int64_t v;
    if (s_parse(type, text, &v)) return WR_ECONFIG;
    *out = v;
    return 0;
}

/* A value in the unit a user would write: the largest unit that divides it exactly. */
static void s_add_value(wr_strbuf_t *sb, enum wr_config_type type, int64_t v)
{
    static const s_unit_t duration_out[] = {
        {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}, {NULL, 0}};
    static const s_unit_t size_out[] = {
        {"gb", S_GIB}, {"mb", S_MIB}, {"kb", S_KIB}, {"", 1}, {NULL, 0}};
    const s_unit_t *u = type == WR_CFG_DURATION ? duration_out
                        : type == WR_CFG_SIZE   ? size_out
                                                : NULL;
    if (!u) {
        wr_strbuf_addf(sb, "%lld", (long long)v);
        return;
    }
    while (v != 0 && u[1].name && v % u->mul)
        u++;
    if (v == 0)
        while (u[1].name)
            u++;
    wr_strbuf_addf(sb, "%lld%s", (long long)(v / u->mul), u->name);
}

/* User text in quotes, shortened and with control bytes shown as '?', so a message stays one
 * readable line whatever the file held. */
static void s_add_echo(wr_strbuf_t *sb, const char *text, size_t len)
{
    wr_strbuf_addc(sb, '\'');
    for (size_t i = 0; i < len && i < S_ECHO_MAX; i++)
        wr_strbuf_addc(sb, (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i]);
    wr_strbuf_adds(sb, len > S_ECHO_MAX ? "...'" : "'");
}

/* Each error is one line; a newline separates it from what err already holds. */
static void s_new_line(wr_strbuf_t *err)
{
    if (err->len > 0 && err->buf[err->len - 1] != '\n') wr_strbuf_addc(err, '\n');
}

/* Starts one error line in err: "FILE:LINE: " or "--KEY: "; subject is the key that a value
 * error is about (NULL for errors about the file's shape). */
static void s_begin(wr_strbuf_t *err, s_origin_t at, const char *subject)
{
    s_new_line(err);
    if (!at.file) {
        wr_strbuf_addf(err, "--%s: ", subject ? subject : "");
        return;
    }
    wr_strbuf_addf(err, "%s:%zu: ", at.file, at.line);
    if (subject) wr_strbuf_addf(err, "%s: ", subject);
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

static void s_unknown_key(wr_strbuf_t *err, s_origin_t at, const char *key)
{
    s_begin(err, at, at.file ? NULL : key);
    wr_strbuf_adds(err, "unknown key ");
    s_add_echo(err, key, strlen(key));
    const char *near = NULL;
    size_t best = 3; /* suggest only keys within two edits, case aside */
    for (int i = 0; i < S_NKEYS; i++) {
        size_t d = s_edit_distance(key, s_keys[i].key);
        if (d < best) best = d, near = s_keys[i].key;
    }
    if (near)
        wr_strbuf_addf(err, " (did you mean '%s'? keys are documented in deploy/weir.yaml)", near);
    else
        wr_strbuf_adds(err, " (keys are documented in deploy/weir.yaml)");
}

/* Validates text (len bytes, possibly with NULs from a YAML escape) as key i's value. On
 * success fills *out (a string is a new copy) and returns 0. */
static int s_convert(int i, const char *text, size_t len, s_origin_t at, s_value_t *out,
                     wr_strbuf_t *err)
{
    const wr_config_key_t *k = &s_keys[i];
    if (memchr(text, '\0', len)) {
        s_begin(err, at, k->key);
        wr_strbuf_adds(err, "the value contains a NUL byte (remove the \\0 escape)");
        return WR_ECONFIG;
    }
    if (k->type == WR_CFG_STRING) {
        out->s = strndup(text, len);
        return out->s ? 0 : WR_ENOMEM;
    }
    static const char *const hints[] = {
        [WR_CFG_INT] = "is not an integer",
        [WR_CFG_DURATION] = "is not a duration (use e.g. 500ms, 3s, 2min)",
        [WR_CFG_SIZE] = "is not a size (use e.g. 512, 64kb, 64mb, 1gb)",
        [WR_CFG_BOOL] = "is not a boolean (use true or false)",
    };
    int64_t v = 0;
    int r = s_parse(k->type, text, &v);
    if (r == 0 && (k->type == WR_CFG_BOOL || (v >= k->min && v <= k->max))) {
        out->i = v;
        return 0;
    }
    s_begin(err, at, k->key);
    if (len == 0) {
        wr_strbuf_addf(err, "no value (the default is %s)", k->default_text);
        return WR_ECONFIG;
    }
    s_add_echo(err, text, len);
    if (r == WR_EINVAL) {
        wr_strbuf_addf(err, " %s", hints[k->type]);
        return WR_ECONFIG;
    }
    wr_strbuf_adds(err, " is out of range (allowed ");
    s_add_value(err, k->type, k->min);
    wr_strbuf_adds(err, " to ");
    s_add_value(err, k->type, k->max);
    wr_strbuf_adds(err, ")");
    return WR_ECONFIG;
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
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = 0;
    for (int i = 0; i < S_NKEYS && rc == 0; i++) {
        const char *text = s_keys[i].default_text;
        rc = s_convert(i, text, strlen(text), (s_origin_t){"WR_CONFIG_KEYS", 0}, &cfg->v[i], &err);
    }
    assert(rc != WR_ECONFIG && "a WR_CONFIG_KEYS default fails its own type or range");
    wr_strbuf_release(&err);
    if (rc) wr_config_destroy(&cfg);
    return cfg;
}

void wr_config_destroy(wr_config_t **cfg)
{
    if (!cfg || !*cfg) return;
    for (int i = 0; i < S_NKEYS; i++)
        s_value_release(i, &(*cfg)->v[i]);
    free(*cfg);
    *cfg = NULL;
}

/* ---- loading a file ---- */

typedef struct {
    const char *path;
    const char *text; /* the whole file, for reader-error line numbers */
    size_t text_len;
    yaml_parser_t parser;
    wr_strbuf_t key; /* dotted path of the mapping being read, then of the key */
    s_value_t pending[S_NKEYS];
    size_t set_line[S_NKEYS]; /* 0: this file does not set the key */
    wr_strbuf_t *err;
} s_load_t;

static s_origin_t s_at(const s_load_t *ld, const yaml_event_t *ev)
{
    return (s_origin_t){ld->path, ev->start_mark.line + 1};
}

static int s_syntax_error(s_load_t *ld)
{
    const yaml_parser_t *p = &ld->parser;
    if (p->error == YAML_MEMORY_ERROR) return WR_ENOMEM;
    size_t line = p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR) {
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < ld->text_len; i++)
            line += ld->text[i] == '\n';
    }
    s_begin(ld->err, (s_origin_t){ld->path, line}, NULL);
    wr_strbuf_addf(ld->err, "invalid YAML: %s", p->problem ? p->problem : "syntax error");
    if (p->context)
        wr_strbuf_addf(ld->err, " (%s at line %zu)", p->context, p->context_mark.line + 1);
    return WR_ECONFIG;
}

static int s_next(s_load_t *ld, yaml_event_t *ev)
{
    return yaml_parser_parse(&ld->parser, ev) ? 0 : s_syntax_error(ld);
}

static bool s_is_group(const char *prefix, size_t len)
{
    for (int i = 0; i < S_NKEYS; i++)
        if (!strncmp(s_keys[i].key, prefix, len) && s_keys[i].key[len] == '.') return true;
    return false;
}

/* A value event that is not a scalar: a list, a nested mapping that names no group of keys,
 * or an alias. Returns the error for it, reported at the key's line (at). */
static int s_not_a_value(s_load_t *ld, s_origin_t at, const yaml_event_t *ev)
{
    const char *key = ld->key.buf;
    int i = s_find(key);
    if (ev->type == YAML_ALIAS_EVENT) {
        s_begin(ld->err, at, key);
        wr_strbuf_addf(ld->err, "aliases (*%s) are not supported (write the value itself)",
                       (const char *)ev->data.alias.anchor);
    } else if (i < 0) {
        s_unknown_key(ld->err, at, key);
    } else {
        s_begin(ld->err, at, key);
        wr_strbuf_addf(ld->err, "expected a single value, not a %s (e.g. %s: %s)",
                       ev->type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping", key,
                       s_keys[i].default_text);
    }
    return WR_ECONFIG;
}

static int s_assign(s_load_t *ld, s_origin_t at, const yaml_event_t *ev)
{
    const char *key = ld->key.buf;
    int i = s_find(key);
    if (i < 0) {
        s_unknown_key(ld->err, at, key);
        return WR_ECONFIG;
    }
    if (ld->set_line[i]) {
        s_begin(ld->err, at, NULL);
        wr_strbuf_addf(ld->err, "duplicate key '%s' (first set on line %zu; keep one)", key,
                       ld->set_line[i]);
        return WR_ECONFIG;
    }
    int rc = s_convert(i, (const char *)ev->data.scalar.value, ev->data.scalar.length, at,
                       &ld->pending[i], ld->err);
    if (rc == 0) ld->set_line[i] = at.line;
    return rc;
}

static int s_read_mapping(s_load_t *ld);

/* One key (its event given) and its value: a scalar to assign, or a nested mapping of a
 * group of keys (`heartbeat:` holding `timeout: 3s`), read with the key as prefix. */
static int s_read_pair(s_load_t *ld, const yaml_event_t *key)
{
    s_origin_t at = s_at(ld, key);
    if (key->type != YAML_SCALAR_EVENT) {
        s_begin(ld->err, at, NULL);
        wr_strbuf_adds(ld->err, "a key must be a name such as heartbeat.timeout, not a list, "
                                "mapping or alias");
        return WR_ECONFIG;
    }
    size_t outer = ld->key.len;
    if (outer) wr_strbuf_addc(&ld->key, '.');
    wr_strbuf_add(&ld->key, key->data.scalar.value, key->data.scalar.length);
    if (ld->key.failed) return WR_ENOMEM;
    yaml_event_t value;
    int rc = s_next(ld, &value);
    if (rc) return rc;
    if (value.type == YAML_SCALAR_EVENT)
        rc = s_assign(ld, at, &value);
    else if (value.type == YAML_MAPPING_START_EVENT && s_is_group(ld->key.buf, ld->key.len))
        rc = s_read_mapping(ld);
    else
        rc = s_not_a_value(ld, at, &value);
    yaml_event_delete(&value);
    wr_strbuf_truncate(&ld->key, outer);
    return rc;
}

/* Reads the pairs of a mapping whose MAPPING-START was consumed, up to its MAPPING-END. */
static int s_read_mapping(s_load_t *ld)
{
    int rc;
    for (;;) {
        yaml_event_t key;
        if ((rc = s_next(ld, &key))) break;
        bool end = key.type == YAML_MAPPING_END_EVENT;
        if (!end) rc = s_read_pair(ld, &key);
        yaml_event_delete(&key);
        if (end || rc) break;
    }
    return rc;
}

/* The document: nothing (empty or comments only), an empty value (`---` alone), or one
 * mapping of keys. */
static int s_read_stream(s_load_t *ld)
{
    yaml_event_t ev;
    int rc = 0, documents = 0;
    bool done = false;
    while (!done && (rc = s_next(ld, &ev)) == 0) {
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                s_begin(ld->err, s_at(ld, &ev), NULL);
                wr_strbuf_adds(ld->err, "a second YAML document (keep all keys in one "
                                        "mapping; remove the '---')");
                rc = WR_ECONFIG;
            }
            break;
        case YAML_MAPPING_START_EVENT:
            rc = s_read_mapping(ld);
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.length == 0 && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                break;
            /* fall through */
        case YAML_SEQUENCE_START_EVENT:
        case YAML_ALIAS_EVENT:
            s_begin(ld->err, s_at(ld, &ev), NULL);
            wr_strbuf_adds(ld->err, "expected a mapping of keys to values "
                                    "(e.g. heartbeat.timeout: 3s)");
            rc = WR_ECONFIG;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (rc) break;
    }
    return rc;
}

/* Reads the whole file into sb. */
static int s_read_file(const char *path, wr_strbuf_t *sb, wr_strbuf_t *err)
{
    enum { CHUNK = 4096 };
    FILE *f = fopen(path, "rb");
    int rc = 0, e = f ? 0 : errno;
    while (f && rc == 0) {
        if (!wr_strbuf_grow(sb, CHUNK)) {
            rc = WR_ENOMEM;
            break;
        }
        size_t n = fread(sb->buf + sb->len, 1, CHUNK, f);
        sb->len += n;
        sb->buf[sb->len] = '\0';
        if (sb->len > S_MAX_FILE) {
            s_begin(err, (s_origin_t){path, 1}, NULL);
            wr_strbuf_addf(err, "larger than %d bytes (is this the configuration file?)",
                           S_MAX_FILE);
            rc = WR_ECONFIG;
        } else if (n < CHUNK) {
            e = ferror(f) ? errno : 0;
            break;
        }
    }
    if (f) fclose(f);
    if (e) {
        s_new_line(err);
        wr_strbuf_addf(err, "%s: cannot read the configuration file: %s", path, strerror(e));
        rc = e == ENOENT ? WR_ENOTFOUND : WR_EIO;
    }
    return rc;
}

int wr_config_load_file(wr_config_t *cfg, const char *path, wr_strbuf_t *err)
{
    s_load_t ld = {.path = path, .err = err};
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    wr_strbuf_init(&ld.key);
    bool parser_ready = false;
    int rc = s_read_file(path, &text, err);
    if (rc) goto out;
    if (!yaml_parser_initialize(&ld.parser)) {
        rc = WR_ENOMEM;
        goto out;
    }
    parser_ready = true;
    ld.text = text.buf;
    ld.text_len = text.len;
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text.buf, text.len);
    rc = s_read_stream(&ld);
    if (rc) goto out;
    for (int i = 0; i < S_NKEYS; i++) {
        if (!ld.set_line[i]) continue;
        s_value_release(i, &cfg->v[i]);
        cfg->v[i] = ld.pending[i];
        ld.set_line[i] = 0;
    }
out:
    for (int i = 0; i < S_NKEYS; i++)
        if (ld.set_line[i]) s_value_release(i, &ld.pending[i]);
    if (parser_ready) yaml_parser_delete(&ld.parser);
    wr_strbuf_release(&ld.key);
    wr_strbuf_release(&text);
    if (rc == WR_ENOMEM && err->len == 0) wr_strbuf_addf(err, "%s: out of memory", path);
    return rc;
}

int wr_config_set(wr_config_t *cfg, const char *key, const char *value, wr_strbuf_t *err)
{
    s_origin_t at = {NULL, 0};
    int i = s_find(key);
    if (i < 0) {
        s_unknown_key(err, at, key);
        return WR_ECONFIG;
    }
    s_value_t v;
    int rc = s_convert(i, value, strlen(value), at, &v, err);
    if (rc) return rc;
    s_value_release(i, &cfg->v[i]);
    cfg->v[i] = v;
    return 0;
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
        bool new_group = i == 0 || strncmp(k->key, s_keys[i - 1].key, group + 1);
        if (i > 0) wr_strbuf_addc(out, '\n');
        if (new_group) wr_strbuf_addf(out, "%s# %.*s\n%s\n", rule, (int)group, k->key, rule);
        wr_strbuf_addf(out, "# %s\n", k->doc);
        if (k->type != WR_CFG_STRING && k->type != WR_CFG_BOOL) {
            wr_strbuf_adds(out, "# Range: ");
            s_add_value(out, k->type, k->min);
            wr_strbuf_adds(out, " to ");
            s_add_value(out, k->type, k->max);
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
