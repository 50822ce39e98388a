/* Declared parameters (params.h): defaults, YAML, the bus form, equality, checks. */
#include "actors/connectors/params.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"

/* How the YAML layer reads each numeric type; DURATION's hint is the one topologies print. */
static const wr_yaml_type_t s_yaml_type[] = {
    [WR_PARAM_INT] = WR_YAML_INT,   [WR_PARAM_DURATION] = WR_YAML_DURATION,
    [WR_PARAM_TIME] = WR_YAML_TIME, [WR_PARAM_DOUBLE] = WR_YAML_DOUBLE,
    [WR_PARAM_BOOL] = WR_YAML_BOOL, [WR_PARAM_ENUM] = WR_YAML_WORD,
};

static wr_yaml_spec_t s_spec(const wr_param_t *p)
{
    return (wr_yaml_spec_t){
        .type = s_yaml_type[p->type],
        .lo = p->lo,
        .hi = p->hi,
        .dlo = p->dlo,
        .dhi = p->dhi,
        .words = p->words,
        .hint = p->why                         ? p->why
                : p->type == WR_PARAM_DURATION ? "is not a duration (use e.g. 1min, 30s)"
                                               : NULL,
        .dflt = p->dflt,
    };
}

static bool s_text(const wr_param_t *p)
{
    return p->type == WR_PARAM_STRING || p->type == WR_PARAM_PATH || p->type == WR_PARAM_CHARS;
}

/* A char * the struct owns. */
static bool s_owned(const wr_param_t *p)
{
    return p->type == WR_PARAM_STRING || p->type == WR_PARAM_PATH || p->type == WR_PARAM_LIST ||
           p->type == WR_PARAM_PAIRS;
}

static bool s_lines_type(const wr_param_t *p)
{
    return p->type == WR_PARAM_LIST || p->type == WR_PARAM_PAIRS;
}

/* Is text[0, len) a value of a LIST or PAIRS parameter: lines of 1 or more bytes, no NUL, and
 * for PAIRS a '=' after a name of 1 or more bytes on each? */
static bool s_lines_valid(const wr_param_t *p, const char *text, size_t len)
{
    if (len == 0 || len >= WR_PARAM_STRING_MAX || memchr(text, '\0', len)) return false;
    size_t at = 0;
    while (at <= len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (end == at) return false; /* an empty line */
        if (p->type == WR_PARAM_PAIRS) {
            const char *eq = memchr(text + at, '=', end - at);
            if (!eq || eq == text + at) return false;
        }
        at = end + 1;
    }
    return true;
}

/* Stores a LIST or PAIRS value (len 0: none). WR_EINVAL, WR_ENOMEM. */
static int s_store_lines(const wr_param_t *p, void *base, const char *text, size_t len)
{
    char **at = (char **)((char *)base + p->off);
    char *s = NULL;
    if (len) {
        if (!s_lines_valid(p, text, len)) return WR_EINVAL;
        if (!(s = strndup(text, len))) return WR_ENOMEM;
    }
    free(*at);
    *at = s;
    return 0;
}

bool wr_params_next_line(const char *value, size_t *at, const char **line, size_t *len)
{
    if (!value || !value[*at]) return false;
    const char *s = value + *at, *nl = strchr(s, '\n');
    *line = s;
    *len = nl ? (size_t)(nl - s) : strlen(s);
    *at += *len + (nl ? 1 : 0);
    return true;
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

/* Stores a parsed value of a numeric, boolean or enum parameter. */
static void s_store(const wr_param_t *p, void *base, wr_yaml_value_t v)
{
    char *at = (char *)base + p->off;
    switch (p->type) {
    case WR_PARAM_DOUBLE:
        memcpy(at, &v.d, sizeof v.d);
        break;
    case WR_PARAM_BOOL:
        *(bool *)at = v.i != 0;
        break;
    case WR_PARAM_ENUM: {
        int i = (int)v.i;
        memcpy(at, &i, sizeof i);
        break;
    }
    default:
        s_store_int(at, p->size, v.i);
        break;
    }
}

/* Stores text (len bytes, no NUL) into a text parameter: WR_EINVAL when it is not a value of it
 * (empty, too long, refused by valid), WR_ENOMEM. */
static int s_store_text(const wr_param_t *p, void *base, const char *text, size_t len)
{
    char *at = (char *)base + p->off;
    if (p->type == WR_PARAM_CHARS) {
        if (len >= p->size || (len == 0 && !p->empty_ok) ||
            (len && p->valid && !p->valid(text, len)))
            return WR_EINVAL;
        memcpy(at, text, len);
        at[len] = '\0';
        return 0;
    }
    if (len == 0 || len >= WR_PARAM_STRING_MAX) return WR_EINVAL;
    char *s = strndup(text, len);
    if (!s) return WR_ENOMEM;
    free(*(char **)at);
    *(char **)at = s;
    return 0;
}

int wr_params_defaults(const wr_param_t *p, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        char *at = (char *)base + p[i].off;
        if (s_owned(&p[i])) {
            free(*(char **)at);
            *(char **)at = NULL;
        } else {
            memset(at, 0, p[i].size);
        }
        if (!p[i].dflt) continue;
        if (s_lines_type(&p[i])) {
            int rc = s_store_lines(&p[i], base, p[i].dflt, strlen(p[i].dflt));
            assert(rc != WR_EINVAL && "a parameter's default fails its declaration");
            if (rc) return rc;
            continue;
        }
        if (s_text(&p[i])) {
            int rc = s_store_text(&p[i], base, p[i].dflt, strlen(p[i].dflt));
            assert(rc != WR_EINVAL && "a parameter's default fails its declaration");
            if (rc) return rc;
            continue;
        }
        wr_yaml_spec_t spec = s_spec(&p[i]);
        wr_yaml_value_t v;
        wr_strbuf_t msg;
        wr_strbuf_init(&msg);
        int rc = wr_yaml_parse_value(&spec, p[i].dflt, strlen(p[i].dflt), &v, &msg);
        wr_strbuf_release(&msg);
        assert(rc == 0 && "a parameter's default fails its declaration");
        if (rc) return rc;
        s_store(&p[i], base, v);
    }
    return 0;
}

void wr_params_release(const wr_param_t *p, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        if (!s_owned(&p[i])) continue;
        char **s = (char **)((char *)base + p[i].off);
        free(*s);
        *s = NULL;
    }
}

bool wr_params_equal(const wr_param_t *p, size_t n, const void *a, const void *b)
{
    for (size_t i = 0; i < n; i++) {
        const char *x = (const char *)a + p[i].off, *y = (const char *)b + p[i].off;
        switch (p[i].type) {
        case WR_PARAM_STRING:
        case WR_PARAM_PATH:
        case WR_PARAM_LIST:
        case WR_PARAM_PAIRS: {
            const char *s = *(char *const *)x, *t = *(char *const *)y;
            if (!((!s && !t) || (s && t && !strcmp(s, t)))) return false;
            break;
        }
        case WR_PARAM_CHARS:
            if (strcmp(x, y)) return false;
            break;
        case WR_PARAM_DOUBLE: {
            double d, e;
            memcpy(&d, x, sizeof d);
            memcpy(&e, y, sizeof e);
            if (d != e) return false;
            break;
        }
        case WR_PARAM_BOOL:
            if (*(const bool *)x != *(const bool *)y) return false;
            break;
        default:
            if (memcmp(x, y, p[i].size)) return false;
            break;
        }
    }
    return true;
}

int wr_params_find(const wr_param_t *p, size_t n, const char *key, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(p[i].key) == len && !memcmp(p[i].key, key, len)) return (int)i;
    return -1;
}

size_t wr_params_count(const wr_param_group_t *g, size_t ng)
{
    size_t n = 0;
    for (size_t i = 0; i < ng; i++)
        n += g[i].n;
    return n;
}

/* The group and parameter of global index i. */
static const wr_param_t *s_at(const wr_param_group_t *g, size_t ng, size_t i, void **base)
{
    for (size_t k = 0; k < ng; i -= g[k].n, k++) {
        if (i < g[k].n) {
            *base = g[k].base;
            return &g[k].p[i];
        }
    }
    return NULL;
}

/* The global index of key among the groups, or -1. */
static int s_find_all(const wr_param_group_t *g, size_t ng, const char *key, size_t len)
{
    size_t at = 0;
    for (size_t k = 0; k < ng; at += g[k].n, k++) {
        int i = wr_params_find(g[k].p, g[k].n, key, len);
        if (i >= 0) return (int)(at + (size_t)i);
    }
    return -1;
}

/* ---- YAML ---- */

void wr_params_add_keys(wr_strbuf_t *sb, const wr_param_group_t *g, size_t ng)
{
    for (size_t k = 0; k < ng; k++)
        for (size_t i = 0; i < g[k].n; i++)
            if (!g[k].p[i].bus_only) wr_strbuf_addf(sb, "%s%s", sb->len ? ", " : "", g[k].p[i].key);
}

static int s_unknown(wr_yaml_t *y, uint32_t line, const char *key, const char *path,
                     const wr_params_map_t *m)
{
    wr_strbuf_t keys;
    wr_strbuf_init(&keys);
    wr_params_add_keys(&keys, m->groups, m->ngroups);
    for (int i = 0; m->specials && m->specials[i]; i++)
        wr_strbuf_addf(&keys, "%s%s", keys.len ? ", " : "", m->specials[i]);
    int rc = keys.failed ? WR_ENOMEM
                         : wr_yaml_fail(y, line, key, "unknown key (%s takes: %s)",
                                        *path ? path : "a topology", keys.buf);
    wr_strbuf_release(&keys);
    return rc;
}

/* A relative path made relative to dir. */
static int s_resolve(const char *dir, char **path)
{
    if (!dir || !*path || (*path)[0] == '/') return 0;
    size_t n = strlen(dir) + strlen(*path) + 2;
    char *p = malloc(n);
    if (!p) return WR_ENOMEM;
    snprintf(p, n, "%s/%s", dir, *path);
    free(*path);
    *path = p;
    return 0;
}

/* Appends scalar n's text to sb as one line of a LIST or PAIRS value (after name and '=' when
 * name is not NULL): "KEY: ..." when it is no single value, is empty, or holds a newline. */
static int s_add_line(wr_yaml_t *y, const wr_yaml_node_t *n, const char *key, const char *name,
                      size_t name_len, wr_strbuf_t *sb)
{
    const char *text;
    size_t len;
    int rc = wr_yaml_scalar(y, n, key, NULL, &text, &len);
    if (rc) return rc;
    if (len == 0) return wr_yaml_fail(y, n->line, key, "no value");
    if (memchr(text, '\n', len)) return wr_yaml_fail(y, n->line, key, "a value holds a newline");
    if (sb->len) wr_strbuf_add(sb, "\n", 1);
    if (name) {
        wr_strbuf_add(sb, name, name_len);
        wr_strbuf_add(sb, "=", 1);
    }
    wr_strbuf_add(sb, text, len);
    return sb->failed ? WR_ENOMEM : 0;
}

/* Reads the value node v of a LIST parameter (a list of values, or one) or a PAIRS one (a
 * mapping of names to values) into base. */
static int s_read_lines(wr_yaml_t *y, const wr_yaml_node_t *v, const char *key, const wr_param_t *p,
                        void *base)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = 0;
    if (p->type == WR_PARAM_LIST && v->kind == WR_YAML_SCALAR) {
        rc = s_add_line(y, v, key, NULL, 0, &sb);
    } else if (p->type == WR_PARAM_LIST) {
        rc = wr_yaml_expect(y, v, WR_YAML_LIST, key, p->example ? p->example : "[a, b]");
        for (uint32_t i = 0; !rc && i < v->n; i++)
            rc = s_add_line(y, v->items[i], key, NULL, 0, &sb);
    } else {
        rc = wr_yaml_expect(y, v, WR_YAML_MAP, key, p->example ? p->example : "{name: value}");
        for (uint32_t i = 0; !rc && i < v->n; i++) {
            const wr_yaml_node_t *kn = v->pairs[i].key;
            if (kn->kind != WR_YAML_SCALAR || kn->len == 0 || memchr(kn->text, '=', kn->len) ||
                memchr(kn->text, '\n', kn->len) || memchr(kn->text, '\0', kn->len))
                rc = wr_yaml_fail(y, kn->line, key, "a name must be a single value without '='");
            else
                rc = s_add_line(y, v->pairs[i].value, key, kn->text, kn->len, &sb);
        }
    }
    if (!rc && sb.len >= WR_PARAM_STRING_MAX)
        rc = wr_yaml_fail(y, v->line, key, "longer than %d bytes in all", WR_PARAM_STRING_MAX - 1);
    if (!rc) rc = s_store_lines(p, base, sb.buf, sb.len);
    wr_strbuf_release(&sb);
    return rc;
}

/* Reads the value node v of parameter p into base. */
static int s_read_value(wr_yaml_t *y, const wr_yaml_node_t *v, const char *key, const wr_param_t *p,
                        void *base, const char *dir)
{
    if (s_lines_type(p)) return s_read_lines(y, v, key, p, base);
    if (!s_text(p)) {
        wr_yaml_spec_t spec = s_spec(p);
        wr_yaml_value_t val;
        int rc = wr_yaml_get(y, v, key, &spec, &val);
        if (!rc) s_store(p, base, val);
        return rc;
    }
    const char *text;
    size_t len;
    int rc = wr_yaml_scalar(y, v, key, NULL, &text, &len);
    if (rc) return rc;
    if (len == 0) return wr_yaml_fail(y, v->line, key, "no value");
    rc = s_store_text(p, base, text, len);
    if (rc == WR_EINVAL) {
        wr_strbuf_t msg;
        wr_strbuf_init(&msg);
        wr_yaml_echo(&msg, text, len);
        wr_strbuf_addf(&msg, " %s", p->why ? p->why : "is not a valid value");
        rc = msg.failed ? WR_ENOMEM : wr_yaml_fail(y, v->line, key, "%s", msg.buf);
        wr_strbuf_release(&msg);
    }
    if (!rc && p->type == WR_PARAM_PATH) {
        char cwd[PATH_MAX];
        const char *from = dir;
        if (dir && p->from_cwd) from = getcwd(cwd, sizeof cwd); /* NULL: left relative */
        rc = s_resolve(from, (char **)((char *)base + p->off));
    }
    return rc;
}

int wr_params_read_yaml(wr_yaml_t *y, const wr_yaml_node_t *map, const char *path,
                        const wr_params_map_t *m)
{
    char key[192];
    for (uint32_t k = 0; k < map->n; k++) {
        const wr_yaml_node_t *kn = map->pairs[k].key, *v = map->pairs[k].value;
        if (kn->kind != WR_YAML_SCALAR)
            return wr_yaml_fail(y, kn->line, path, "a key must be a name, not %s",
                                wr_yaml_kind_name(kn));
        const char *name = kn->text;
        snprintf(key, sizeof key, "%s%s%.*s", path, *path ? "." : "", 96, name);
        int i = s_find_all(m->groups, m->ngroups, name, kn->len);
        void *base = NULL;
        const wr_param_t *p = i >= 0 ? s_at(m->groups, m->ngroups, (size_t)i, &base) : NULL;
        if (p && !p->bus_only) {
            if (m->lines[i])
                return wr_yaml_fail(y, kn->line, key, "given twice (first on line %u)",
                                    m->lines[i]);
            int rc = s_read_value(y, v, key, p, base, m->dir);
            if (rc) return rc;
            m->lines[i] = kn->line;
            continue;
        }
        if (p) /* the bus carries it, a file does not say it */
            return wr_yaml_fail(y, kn->line, path, "unknown key '%s'", p->key);
        int s = -1;
        for (int j = 0; m->specials && m->specials[j]; j++)
            if (!strcmp(m->specials[j], name)) s = j;
        if (s >= 0) {
            if (m->special[s])
                return wr_yaml_fail(y, kn->line, key, "given twice (first on line %u)",
                                    m->special_line[s]);
            m->special[s] = v;
            m->special_line[s] = kn->line;
            continue;
        }
        return m->unknown ? m->unknown(m->arg, y, kn->line, key, name)
                          : s_unknown(y, kn->line, key, path, m);
    }
    return 0;
}

int wr_params_missing(wr_yaml_t *y, uint32_t line, const char *path, const wr_param_group_t *g,
                      size_t ng, const uint32_t *lines)
{
    size_t at = 0;
    for (size_t k = 0; k < ng; k++) {
        for (size_t i = 0; i < g[k].n; i++, at++) {
            const wr_param_t *p = &g[k].p[i];
            if (p->required && !lines[at])
                return wr_yaml_fail(y, line, path, "no %s (%s: %s)", p->key, p->key,
                                    p->example ? p->example
                                    : p->dflt  ? p->dflt
                                               : "...");
        }
    }
    return 0;
}

/* ---- the bus ---- */

int wr_params_pack(msgpack_packer *pk, const wr_param_group_t *g, size_t ng)
{
    int rc = 0;
    for (size_t k = 0; k < ng; k++) {
        for (size_t i = 0; i < g[k].n; i++) {
            const wr_param_t *p = &g[k].p[i];
            const char *at = (const char *)g[k].base + p->off;
            rc |= wr_pack_str(pk, p->key);
            switch (p->type) {
            case WR_PARAM_INT:
            case WR_PARAM_DURATION:
            case WR_PARAM_TIME:
                rc |= msgpack_pack_int64(pk, s_load_int(at, p->size));
                break;
            case WR_PARAM_DOUBLE: {
                double d;
                memcpy(&d, at, sizeof d);
                rc |= msgpack_pack_double(pk, d);
                break;
            }
            case WR_PARAM_BOOL:
                rc |= *(const bool *)at ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
                break;
            case WR_PARAM_ENUM: {
                int v;
                memcpy(&v, at, sizeof v);
                rc |= wr_pack_str(pk, p->words[v]);
                break;
            }
            case WR_PARAM_STRING:
            case WR_PARAM_PATH:
                rc |= wr_pack_str(pk, *(char *const *)at);
                break;
            case WR_PARAM_CHARS:
                rc |= wr_pack_str(pk, at);
                break;
            case WR_PARAM_LIST:
            case WR_PARAM_PAIRS: {
                const char *v = *(char *const *)at;
                rc |= wr_pack_str(pk, v ? v : "");
                break;
            }
            }
        }
    }
    return rc ? -1 : 0;
}

int wr_params_unpack_value(wr_mp_reader_t *r, const wr_param_group_t *g, size_t ng, size_t i)
{
    void *base = NULL;
    const wr_param_t *p = s_at(g, ng, i, &base);
    char *at = (char *)base + p->off;
    int64_t v;
    double d;
    switch (p->type) {
    case WR_PARAM_INT:
    case WR_PARAM_DURATION:
    case WR_PARAM_TIME:
        if (wr_mp_read_int(r, &v) || v < p->lo || v > p->hi) return WR_EPROTO;
        s_store_int(at, p->size, v);
        return 0;
    case WR_PARAM_DOUBLE:
        if (wr_mp_read_double(r, &d) || !(d >= p->dlo && d <= p->dhi)) return WR_EPROTO;
        memcpy(at, &d, sizeof d);
        return 0;
    case WR_PARAM_BOOL:
        return wr_mp_read_bool(r, (bool *)at) ? WR_EPROTO : 0;
    default:
        break;
    }
    const char *s;
    uint32_t len;
    if (wr_mp_read_str(r, &s, &len) || memchr(s, '\0', len)) return WR_EPROTO;
    if (s_lines_type(p)) {
        int rc = s_store_lines(p, base, s, len);
        return rc == WR_EINVAL ? WR_EPROTO : rc;
    }
    if (p->type == WR_PARAM_ENUM) {
        for (int w = 0; p->words[w]; w++) {
            if (*p->words[w] && strlen(p->words[w]) == len && !memcmp(p->words[w], s, len)) {
                memcpy(at, &w, sizeof w);
                return 0;
            }
        }
        return WR_EPROTO;
    }
    int rc = s_store_text(p, base, s, len);
    return rc == WR_EINVAL ? WR_EPROTO : rc;
}

int wr_params_unpack_map(wr_mp_reader_t *r, const wr_param_group_t *g, size_t ng,
                         int (*special)(wr_mp_reader_t *r, const char *key, uint32_t len,
                                        void *arg),
                         void *arg)
{
    uint32_t n;
    uint64_t seen = 0;
    size_t want = wr_params_count(g, ng);
    assert(want <= 64 && "one map holds at most 64 parameters");
    if (wr_mp_read_map(r, &n)) return WR_EPROTO;
    for (uint32_t k = 0; k < n; k++) {
        const char *key;
        uint32_t len;
        if (wr_mp_read_str(r, &key, &len)) return WR_EPROTO;
        int i = s_find_all(g, ng, key, len), rc;
        if (i >= 0) {
            if (seen & (UINT64_C(1) << i)) return WR_EPROTO;
            seen |= UINT64_C(1) << i;
            rc = wr_params_unpack_value(r, g, ng, (size_t)i);
        } else {
            rc = special ? special(r, key, len, arg) : 1;
        }
        if (rc) return rc == 1 ? WR_EPROTO : rc;
    }
    uint64_t all = want == 64 ? UINT64_MAX : (UINT64_C(1) << want) - 1;
    return seen == all ? 0 : WR_EPROTO;
}

/* ---- checks across parameters ---- */

bool wr_param_given(const wr_param_check_t *ck, const char *key)
{
    if (!ck->lines) return true;
    int i = wr_params_find(ck->p, ck->n, key, strlen(key));
    return i >= 0 && ck->lines[i];
}

int wr_param_fail(const wr_param_check_t *ck, const char *key, const char *fmt, ...)
{
    if (!ck->doc) return WR_EPROTO;
    int i = key ? wr_params_find(ck->p, ck->n, key, strlen(key)) : -1;
    uint32_t line = i >= 0 && ck->lines && ck->lines[i] ? ck->lines[i] : ck->line;
    va_list ap;
    va_start(ap, fmt);
    int rc = wr_yaml_vfail(ck->doc, line, ck->path, fmt, ap);
    va_end(ap);
    return rc;
}
