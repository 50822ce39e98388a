#include "bus/base/units.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>

#include "bus/base/error.h"

typedef struct {
    const char *name; /* lower case; matched case-insensitively */
    int64_t mul;
} s_unit_t;

#define S_KIB (INT64_C(1) << 10)
#define S_MIB (INT64_C(1) << 20)
#define S_GIB (INT64_C(1) << 30)
static const s_unit_t s_no_unit[] = {{"", 1}, {NULL, 0}};
static const s_unit_t s_duration_units[] = {{"", 1},        {"ms", 1},      {"s", 1000},
                                            {"min", 60000}, {"h", 3600000}, {NULL, 0}};
static const s_unit_t s_size_units[] = {
    {"", 1},       {"b", 1},       {"bytes", 1},  {"kb", S_KIB},  {"kib", S_KIB},
    {"mb", S_MIB}, {"mib", S_MIB}, {"gb", S_GIB}, {"gib", S_GIB}, {NULL, 0}};

/* Digits (an optional '-' when signed), optional spaces, then one of units. */
static int s_number(const char *t, const s_unit_t *units, bool is_signed, int64_t *out)
{
    bool neg = is_signed && *t == '-';
    if (neg) t++;
    if (*t < '0' || *t > '9') return WR_EINVAL;
    bool overflow = false;
    int64_t v = 0;
    for (; *t >= '0' && *t <= '9'; t++) {
        int d = *t - '0';
        if (v > (INT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    const char *digits_end = t;
    while (*t == ' ')
        t++;
    if (!*t) t = digits_end; /* spaces only between a number and its unit */
    const s_unit_t *u = units;
    while (u->name && strcasecmp(u->name, t))
        u++;
    if (!u->name) return WR_EINVAL;
    if (overflow || v > INT64_MAX / u->mul) return WR_ETOOBIG;
    *out = neg ? -v * u->mul : v * u->mul;
    return 0;
}

static int s_bool(const char *t, int64_t *out)
{
    static const char *const words[] = {"false", "true", "no", "yes", "off", "on"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        if (!strcasecmp(t, words[i])) {
            *out = (int64_t)(i % 2);
            return 0;
        }
    }
    return WR_EINVAL;
}

int wr_parse_value(enum wr_unit_kind kind, const char *text, int64_t *out)
{
    switch (kind) {
    case WR_UNIT_INT:
        return s_number(text, s_no_unit, true, out);
    case WR_UNIT_DURATION:
        return s_number(text, s_duration_units, false, out);
    case WR_UNIT_SIZE:
        return s_number(text, s_size_units, false, out);
    case WR_UNIT_BOOL:
        return s_bool(text, out);
    }
    return WR_EINVAL;
}

char *wr_duration_text(int64_t ms, char out[WR_DURATION_TEXT_MAX])
{
    static const s_unit_t units[] = {{"h", 3600000}, {"min", 60000}, {"s", 1000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms && ms % units[i].mul == 0) {
            snprintf(out, WR_DURATION_TEXT_MAX, "%lld%s", (long long)(ms / units[i].mul),
                     units[i].name);
            return out;
        }
    }
    snprintf(out, WR_DURATION_TEXT_MAX, "%lldms", (long long)ms);
    return out;
}
