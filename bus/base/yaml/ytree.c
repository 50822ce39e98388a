/* A YAML document as a tree (ytree.h): libyaml's events composed into nodes kept in one arena,
 * the errors of reading it, and the shape accessors. Typed values are in yvalue.c. */
#include "bus/base/yaml/ytree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bus/base/error.h"

enum { S_ECHO_MAX = 60, S_BLOCK = 16384, S_MAX_DEPTH = 256 };

/* The arena: blocks of memory freed together with the document. */
typedef struct s_block {
    struct s_block *next;
    size_t used, cap;
    max_align_t data[];
} s_block_t;

typedef struct {
    const char *name;
    const wr_yaml_node_t *node;
} s_anchor_t;

struct wr_yaml {
    char *origin;
    wr_strbuf_t *err;
    s_block_t *blocks;
    const wr_yaml_node_t *root;
    s_anchor_t *anchors;
    size_t nanchors, anchors_cap;
};

/* A collection being composed: its node and the children read so far. */
typedef struct {
    wr_yaml_node_t *node;
    const char *anchor;
    const wr_yaml_node_t **kids;
    size_t n, cap;
} s_open_t;

static void *s_alloc(wr_yaml_t *y, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    s_block_t *b = y->blocks;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > S_BLOCK ? size : S_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = y->blocks;
        b->used = 0;
        b->cap = cap;
        y->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

static char *s_strdup(wr_yaml_t *y, const char *s, size_t len)
{
    char *p = s_alloc(y, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* ---- errors ---- */

void wr_yaml_new_line(wr_strbuf_t *err)
{
    if (err->len > 0 && err->buf[err->len - 1] != '\n') wr_strbuf_addc(err, '\n');
}

int wr_yaml_vfail(wr_yaml_t *y, uint32_t line, const char *key, const char *fmt, va_list ap)
{
    wr_strbuf_t *err = y->err;
    wr_yaml_new_line(err);
    wr_strbuf_addf(err, "%s:%u: ", y->origin, line);
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%s%s", key && *key ? key : "", key && *key ? ": " : "");
    if (n >= 0 && (size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    /* one line whatever the file holds: a key or value quoted from it may hold a line break */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    wr_strbuf_adds(err, msg);
    return WR_ECONFIG;
}

int wr_yaml_fail(wr_yaml_t *y, uint32_t line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = wr_yaml_vfail(y, line, key, fmt, ap);
    va_end(ap);
    return rc;
}

void wr_yaml_echo(wr_strbuf_t *sb, const char *text, size_t len)
{
    wr_strbuf_addc(sb, '\'');
    for (size_t i = 0; i < len && i < S_ECHO_MAX; i++)
        wr_strbuf_addc(sb, (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i]);
    wr_strbuf_adds(sb, len > S_ECHO_MAX ? "...'" : "'");
}

/* libyaml's syntax error, at its line. */
static int s_syntax_error(wr_yaml_t *y, const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) return WR_ENOMEM;
    uint32_t line = (uint32_t)p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR) { /* its marks are not set: count the lines */
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++)
            line += text[i] == '\n';
    }
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->context)
        return wr_yaml_fail(y, line, NULL, "invalid YAML: %s (%s at line %zu)", problem, p->context,
                            p->context_mark.line + 1);
    return wr_yaml_fail(y, line, NULL, "invalid YAML: %s", problem);
}

/* ---- composing ---- */

static wr_yaml_node_t *s_node(wr_yaml_t *y, wr_yaml_kind_t kind, const yaml_event_t *ev)
{
    wr_yaml_node_t *n = s_alloc(y, sizeof *n);
    if (n) *n = (wr_yaml_node_t){.kind = kind, .line = (uint32_t)ev->start_mark.line + 1};
    return n;
}

static int s_anchor(wr_yaml_t *y, const char *name, const wr_yaml_node_t *node)
{
    if (!name) return 0;
    if (y->nanchors == y->anchors_cap) {
        size_t cap = y->anchors_cap ? 2 * y->anchors_cap : 8;
        s_anchor_t *a = realloc(y->anchors, cap * sizeof *a);
        if (!a) return WR_ENOMEM;
        y->anchors = a;
        y->anchors_cap = cap;
    }
    y->anchors[y->nanchors++] = (s_anchor_t){name, node}; /* a later one of a name wins */
    return 0;
}

static const wr_yaml_node_t *s_anchored(const wr_yaml_t *y, const char *name)
{
    for (size_t i = y->nanchors; i-- > 0;)
        if (!strcmp(y->anchors[i].name, name)) return y->anchors[i].node;
    return NULL;
}

static const char *s_anchor_name(wr_yaml_t *y, const yaml_char_t *a, int *rc)
{
    if (!a) return NULL;
    const char *s = s_strdup(y, (const char *)a, strlen((const char *)a));
    if (!s) *rc = WR_ENOMEM;
    return s;
}

/* The node an event makes, or the end of the collection on top of the stack (*node NULL). */
static int s_event_node(wr_yaml_t *y, const yaml_event_t *ev, s_open_t *stack, size_t *depth,
                        const wr_yaml_node_t **node)
{
    int rc = 0;
    *node = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        wr_yaml_node_t *n = s_node(y, WR_YAML_SCALAR, ev);
        if (!n ||
            !(n->text = s_strdup(y, (const char *)ev->data.scalar.value, ev->data.scalar.length)))
            return WR_ENOMEM;
        n->len = ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        const char *a = s_anchor_name(y, ev->data.scalar.anchor, &rc);
        if (!rc) rc = s_anchor(y, a, n);
        *node = n;
        return rc;
    }
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        const wr_yaml_node_t *to = s_anchored(y, name);
        if (!to)
            return wr_yaml_fail(y, (uint32_t)ev->start_mark.line + 1, NULL,
                                "invalid YAML: found undefined alias *%s", name);
        wr_yaml_node_t *n = s_node(y, to->kind, ev);
        if (!n) return WR_ENOMEM;
        uint32_t line = n->line;
        *n = *to;
        n->line = line;
        if (!(n->alias = s_strdup(y, name, strlen(name)))) return WR_ENOMEM;
        *node = n;
        return 0;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool list = ev->type == YAML_SEQUENCE_START_EVENT;
        if (*depth == S_MAX_DEPTH)
            return wr_yaml_fail(y, (uint32_t)ev->start_mark.line + 1, NULL,
                                "invalid YAML: nested more than %d deep", S_MAX_DEPTH);
        s_open_t *o = &stack[(*depth)++];
        *o = (s_open_t){.node = s_node(y, list ? WR_YAML_LIST : WR_YAML_MAP, ev)};
        o->anchor = s_anchor_name(
            y, list ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor, &rc);
        return o->node ? rc : WR_ENOMEM;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        s_open_t *o = &stack[--*depth];
        wr_yaml_node_t *n = o->node;
        if (n->kind == WR_YAML_LIST) {
            const wr_yaml_node_t **items = s_alloc(y, (o->n ? o->n : 1) * sizeof *items);
            if (!items)
                rc = WR_ENOMEM;
            else if (o->n)
                memcpy(items, o->kids, o->n * sizeof *items);
            n->items = items;
            n->n = (uint32_t)o->n;
        } else {
            wr_yaml_pair_t *pairs = s_alloc(y, (o->n / 2 ? o->n / 2 : 1) * sizeof *pairs);
            if (!pairs) rc = WR_ENOMEM;
            for (size_t i = 0; pairs && i + 1 < o->n; i += 2)
                pairs[i / 2] = (wr_yaml_pair_t){o->kids[i], o->kids[i + 1]};
            n->pairs = pairs;
            n->n = (uint32_t)(o->n / 2);
        }
        free(o->kids);
        o->kids = NULL;
        if (!rc) rc = s_anchor(y, o->anchor, n);
        *node = n;
        return rc;
    }
    default:
        return 0;
    }
}

static int s_add_kid(s_open_t *o, const wr_yaml_node_t *kid)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 8;
        const wr_yaml_node_t **k = realloc(o->kids, cap * sizeof *k);
        if (!k) return WR_ENOMEM;
        o->kids = k;
        o->cap = cap;
    }
    o->kids[o->n++] = kid;
    return 0;
}

/* Reads every event: one document at most, composed into y->root. */
static int s_compose(wr_yaml_t *y, yaml_parser_t *p, const char *text, size_t len,
                     const wr_yaml_opts_t *o)
{
    s_open_t *stack = calloc(S_MAX_DEPTH, sizeof *stack);
    if (!stack) return WR_ENOMEM;
    size_t depth = 0;
    int rc = 0, documents = 0;
    for (bool done = false; !done && !rc;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev)) {
            rc = s_syntax_error(y, p, text, len);
            break;
        }
        if (ev.type == YAML_STREAM_END_EVENT) done = true;
        if (ev.type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
            rc = wr_yaml_fail(y, (uint32_t)ev.start_mark.line + 1, NULL,
                              "a second YAML document (%s)", o->one_document);
        const wr_yaml_node_t *node = NULL;
        if (!rc) rc = s_event_node(y, &ev, stack, &depth, &node);
        if (!rc && node) {
            if (depth == 0)
                y->root = node;
            else
                rc = s_add_kid(&stack[depth - 1], node);
        }
        yaml_event_delete(&ev);
    }
    for (size_t i = 0; i < S_MAX_DEPTH; i++)
        free(stack[i].kids);
    free(stack);
    return rc;
}

int wr_yaml_load(const char *text, size_t len, const char *origin, const wr_yaml_opts_t *o,
                 wr_yaml_t **out, wr_strbuf_t *err)
{
    *out = NULL;
    wr_yaml_t *y = calloc(1, sizeof *y);
    yaml_parser_t parser;
    bool have_parser = false;
    int rc = y && (y->origin = strdup(origin)) ? 0 : WR_ENOMEM;
    if (y) y->err = err;
    if (!rc && !(have_parser = yaml_parser_initialize(&parser))) rc = WR_ENOMEM;
    if (!rc && len > o->max_bytes)
        rc = wr_yaml_fail(y, 1, NULL, "larger than %zu bytes (is this %s?)", o->max_bytes, o->what);
    if (!rc) {
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        rc = s_compose(y, &parser, text, len, o);
    }
    if (have_parser) yaml_parser_delete(&parser);
    if (rc == WR_ENOMEM && err->len == 0) wr_strbuf_addf(err, "%s: out of memory", origin);
    if (rc) wr_yaml_destroy(&y);
    *out = y;
    return rc;
}

int wr_yaml_load_file(const char *path, const wr_yaml_opts_t *o, wr_yaml_t **out, wr_strbuf_t *err)
{
    enum { CHUNK = 65536 };
    *out = NULL;
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    FILE *f = fopen(path, "rb");
    int rc = 0, e = f ? 0 : errno;
    while (f) { /* one byte more than allowed is enough to refuse the file */
        if (!wr_strbuf_grow(&text, CHUNK)) {
            rc = WR_ENOMEM;
            break;
        }
        size_t n = fread(text.buf + text.len, 1, CHUNK, f);
        text.len += n;
        text.buf[text.len] = '\0';
        if (n < CHUNK || text.len > o->max_bytes) {
            e = ferror(f) ? errno : 0;
            break;
        }
    }
    if (f) fclose(f);
    if (e) {
        wr_yaml_new_line(err);
        wr_strbuf_addf(err, "%s: cannot read %s: %s", path, o->what, strerror(e));
        rc = e == ENOENT ? WR_ENOTFOUND : WR_EIO;
    }
    if (!rc) rc = wr_yaml_load(text.buf, text.len, path, o, out, err);
    wr_strbuf_release(&text);
    return rc;
}

void wr_yaml_destroy(wr_yaml_t **yp)
{
    if (!yp || !*yp) return;
    wr_yaml_t *y = *yp;
    for (s_block_t *b = y->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(y->anchors);
    free(y->origin);
    free(y);
    *yp = NULL;
}

const wr_yaml_node_t *wr_yaml_root(const wr_yaml_t *y)
{
    return y->root;
}

const char *wr_yaml_origin(const wr_yaml_t *y)
{
    return y->origin;
}

/* ---- shapes ---- */

const char *wr_yaml_kind_name(const wr_yaml_node_t *n)
{
    return n->kind == WR_YAML_LIST ? "a list" : n->kind == WR_YAML_MAP ? "a mapping" : "a value";
}

int wr_yaml_expect(wr_yaml_t *y, const wr_yaml_node_t *n, wr_yaml_kind_t kind, const char *key,
                   const char *example)
{
    if (n->kind == kind) return 0;
    return wr_yaml_fail(y, n->line, key, "expected %s, not %s (e.g. %s)",
                        kind == WR_YAML_LIST ? "a list" : "a mapping", wr_yaml_kind_name(n),
                        example);
}

int wr_yaml_scalar(wr_yaml_t *y, const wr_yaml_node_t *n, const char *key, const char *example,
                   const char **text, size_t *len)
{
    if (n->kind != WR_YAML_SCALAR) {
        if (example)
            return wr_yaml_fail(y, n->line, key, "expected a single value, not %s (e.g. %s)",
                                wr_yaml_kind_name(n), example);
        return wr_yaml_fail(y, n->line, key, "expected a single value, not %s",
                            wr_yaml_kind_name(n));
    }
    if (memchr(n->text, '\0', n->len))
        return wr_yaml_fail(y, n->line, key,
                            "the value contains a NUL byte (remove the \\0 escape)");
    *text = n->text;
    *len = n->len;
    return 0;
}
