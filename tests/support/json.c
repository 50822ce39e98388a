#include "tests/support/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/strbuf.h"
#include "tests/support/process.h"

static void s_space(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

/* A string literal at *p (after its quote); NULL if malformed. */
static const char *s_string(const char **p)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (;;) {
        char c = *(*p)++;
        if (c == '"') return ps_keep(wr_strbuf_detach(&sb, NULL));
        if (c == '\0' || (unsigned char)c < 0x20) break;
        if (c != '\\') {
            wr_strbuf_addc(&sb, c);
            continue;
        }
        c = *(*p)++;
        const char *esc = strchr("\"\\/bfnrt", c);
        if (c && esc) {
            wr_strbuf_addc(&sb, "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"]);
        } else if (c == 'u' && strspn(*p, "0123456789abcdefABCDEF") >= 4) {
            char hex[5] = {(*p)[0], (*p)[1], (*p)[2], (*p)[3], '\0'};
            unsigned long cp = strtoul(hex, NULL, 16);
            wr_strbuf_addc(&sb, cp < 0x80 ? (char)cp : '?'); /* ASCII is all the tests read */
            *p += 4;
        } else {
            break;
        }
    }
    wr_strbuf_release(&sb);
    return NULL;
}

static tj_value_t *s_value(const char **p, int depth);

/* An array or object at *p (after its bracket); NULL if malformed. */
static tj_value_t *s_container(const char **p, int depth, bool object)
{
    tj_value_t *v = ps_keep(calloc(1, sizeof *v));
    v->type = object ? TJ_OBJ : TJ_ARR;
    char end = object ? '}' : ']';
    size_t cap = 0;
    s_space(p);
    if (**p == end) {
        (*p)++;
        return v;
    }
    for (;;) {
        if (v->n == cap) { /* grow; the old arrays stay in the arena until the test ends */
            cap = cap ? cap * 2 : 8;
            tj_value_t **items = ps_keep(calloc(cap, sizeof *items));
            const char **keys = ps_keep(calloc(cap, sizeof *keys));
            if (v->n) {
                memcpy(items, v->items, v->n * sizeof *items);
                memcpy(keys, v->keys, v->n * sizeof *keys);
            }
            v->items = items;
            v->keys = keys;
        }
        s_space(p);
        if (object) {
            if (*(*p)++ != '"' || !(v->keys[v->n] = s_string(p))) return NULL;
            s_space(p);
            if (*(*p)++ != ':') return NULL;
        }
        if (!(v->items[v->n++] = s_value(p, depth + 1))) return NULL;
        s_space(p);
        char c = *(*p)++;
        if (c == end) return v;
        if (c != ',') return NULL;
    }
}

static tj_value_t *s_value(const char **p, int depth)
{
    if (depth > 64) return NULL;
    s_space(p);
    tj_value_t *v;
    char c = **p;
    if (c == '{' || c == '[') {
        (*p)++;
        return s_container(p, depth, c == '{');
    }
    v = ps_keep(calloc(1, sizeof *v));
    if (c == '"') {
        (*p)++;
        v->type = TJ_STR;
        return (v->str = s_string(p)) ? v : NULL;
    }
    static const struct {
        const char *word;
        tj_type_t type;
        double num;
    } words[] = {{"null", TJ_NULL, 0}, {"true", TJ_BOOL, 1}, {"false", TJ_BOOL, 0}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!strncmp(*p, words[i].word, strlen(words[i].word))) {
            *p += strlen(words[i].word);
            v->type = words[i].type;
            v->num = words[i].num;
            return v;
        }
    }
    char *end;
    v->num = strtod(*p, &end);
    if (end == *p) return NULL;
    *p = end;
    v->type = TJ_NUM;
    return v;
}

const tj_value_t *tj_parse(const char *text)
{
    const char *p = text;
    tj_value_t *v = s_value(&p, 0);
    s_space(&p);
    return v && *p == '\0' ? v : NULL;
}

const tj_value_t *tj_get(const tj_value_t *obj, const char *key)
{
    for (size_t i = 0; obj && obj->type == TJ_OBJ && i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

const char *tj_str(const tj_value_t *obj, const char *key)
{
    const tj_value_t *v = tj_get(obj, key);
    return v && v->type == TJ_STR ? v->str : NULL;
}

double tj_num(const tj_value_t *obj, const char *key)
{
    const tj_value_t *v = tj_get(obj, key);
    return v && v->type == TJ_NUM ? v->num : NAN;
}

const char *tj_quote(const char *text)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_add_json_str(&sb, text, strlen(text));
    assert_false(sb.failed);
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}
