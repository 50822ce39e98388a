/* Typed values of weir's YAML files (ytree.h): parsing, ranges, and their messages. */
#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/numparse.h"
#include "bus/base/units.h"
#include "bus/base/yaml/ytree.h"

static const char *const s_hints[] = {
    [WR_YAML_INT] = "is not an integer",
    [WR_YAML_DURATION] = "is not a duration (use e.g. 500ms, 3s, 2min)",
    [WR_YAML_SIZE] = "is not a size (use e.g. 512, 64kb, 64mb, 1gb)",
    [WR_YAML_BOOL] = "is not a boolean (use true or false)",
    [WR_YAML_DOUBLE] = "is not a number",
    [WR_YAML_TIME] = "is not a time (use ISO-8601 such as 2024-01-01T00:00:00Z, or epoch ms)",
    [WR_YAML_WORD] = "is not one of",
};

typedef struct {
    const char *name;
    int64_t mul;
} s_unit_t;

void wr_yaml_add_value(wr_strbuf_t *sb, wr_yaml_type_t type, int64_t v)
{
    static const s_unit_t durations[] = {
        {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}, {NULL, 0}};
    static const s_unit_t sizes[] = {
        {"gb", INT64_C(1) << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"", 1}, {NULL, 0}};
    const s_unit_t *u = type == WR_YAML_DURATION ? durations : type == WR_YAML_SIZE ? sizes : NULL;
    if (!u) {
        wr_strbuf_addf(sb, "%lld", (long long)v);
        return;
    }
    while (v != 0 && u[1].name && v % u->mul) /* the largest unit that divides it */
        u++;
    if (v == 0)
        while (u[1].name)
            u++;
    wr_strbuf_addf(sb, "%lld%s", (long long)(v / u->mul), u->name);
}

void wr_yaml_add_range(wr_strbuf_t *sb, const wr_yaml_spec_t *spec)
{
    if (spec->type == WR_YAML_DOUBLE) {
        wr_strbuf_addf(sb, "%g to %g", spec->dlo, spec->dhi);
        return;
    }
    wr_yaml_add_value(sb, spec->type, spec->lo);
    wr_strbuf_adds(sb, " to ");
    wr_yaml_add_value(sb, spec->type, spec->hi);
}

/* Integers, durations and sizes: 5_000_000 is 5000000 (underscores between characters). */
static int s_units(const wr_yaml_spec_t *spec, const char *text, size_t len, int64_t *v)
{
    static const enum wr_unit_kind unit[] = {[WR_YAML_INT] = WR_UNIT_INT,
                                             [WR_YAML_DURATION] = WR_UNIT_DURATION,
                                             [WR_YAML_SIZE] = WR_UNIT_SIZE,
                                             [WR_YAML_BOOL] = WR_UNIT_BOOL};
    char num[64];
    size_t n = 0;
    if (len >= sizeof num) return WR_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '_' || i == 0 || i + 1 == len || spec->type == WR_YAML_BOOL)
            num[n++] = text[i];
    num[n] = '\0';
    return wr_parse_value(unit[spec->type], num, v);
}

static int s_word(const wr_yaml_spec_t *spec, const char *text, size_t len, int64_t *v)
{
    for (int i = 0; spec->words[i]; i++) {
        if (*spec->words[i] && strlen(spec->words[i]) == len &&
            !memcmp(spec->words[i], text, len)) {
            *v = i;
            return 0;
        }
    }
    return WR_EINVAL;
}

int wr_yaml_parse_value(const wr_yaml_spec_t *spec, const char *text, size_t len,
                        wr_yaml_value_t *out, wr_strbuf_t *msg)
{
    if (len == 0) {
        wr_strbuf_adds(msg, "no value");
        if (spec->dflt) wr_strbuf_addf(msg, " (the default is %s)", spec->dflt);
        return WR_ECONFIG;
    }
    wr_yaml_value_t v = {0};
    int rc;
    bool ranged = true;
    switch (spec->type) {
    case WR_YAML_DOUBLE:
        rc = wr_parse_double(text, len, &v.d);
        if (rc == WR_ENOMEM) return rc;
        if (!rc && !(v.d >= spec->dlo && v.d <= spec->dhi)) rc = WR_ETOOBIG;
        ranged = false;
        break;
    case WR_YAML_TIME:
        rc = wr_parse_time(text, len, &v.i);
        break;
    case WR_YAML_WORD:
        rc = s_word(spec, text, len, &v.i), ranged = false;
        break;
    case WR_YAML_BOOL:
        rc = s_units(spec, text, len, &v.i), ranged = false;
        break;
    default:
        rc = s_units(spec, text, len, &v.i);
        break;
    }
    if (!rc && ranged && (v.i < spec->lo || v.i > spec->hi)) rc = WR_ETOOBIG;
    if (!rc) {
        *out = v;
        return 0;
    }
    wr_yaml_echo(msg, text, len);
    if (rc == WR_EINVAL && spec->type == WR_YAML_WORD) {
        wr_strbuf_addf(msg, " %s ", spec->hint ? spec->hint : s_hints[WR_YAML_WORD]);
        const char *sep = "";
        for (int i = 0; spec->words[i]; i++) {
            if (!*spec->words[i]) continue;
            wr_strbuf_addf(msg, "%s%s", sep, spec->words[i]);
            sep = ", ";
        }
    } else if (rc == WR_EINVAL) {
        wr_strbuf_addf(msg, " %s", spec->hint ? spec->hint : s_hints[spec->type]);
    } else {
        wr_strbuf_addf(msg, " is out of range (%s", spec->allowed ? "allowed " : "");
        wr_yaml_add_range(msg, spec);
        wr_strbuf_addc(msg, ')');
    }
    return WR_ECONFIG;
}

int wr_yaml_get(wr_yaml_t *y, const wr_yaml_node_t *n, const char *key, const wr_yaml_spec_t *spec,
                wr_yaml_value_t *out)
{
    const char *text;
    size_t len;
    int rc = wr_yaml_scalar(y, n, key, NULL, &text, &len);
    if (rc) return rc;
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    rc = wr_yaml_parse_value(spec, text, len, out, &msg);
    if (rc == WR_ECONFIG)
        rc = msg.failed ? WR_ENOMEM : wr_yaml_fail(y, n->line, key, "%s", msg.buf);
    wr_strbuf_release(&msg);
    return rc;
}
