/* Key templates and values of the Redis sink (redis_template.h). */
#include "actors/connectors/redis/redis_template.h"

#include <string.h>

#include "bus/base/error.h"
#include "bus/base/numfmt.h"

#define S_LITERAL (-2)

/* Appends byte c to the literal being built (the last part, opened when it is not one). */
static int s_literal(wr_redis_template_t *t, uint32_t *used, char c)
{
    wr_redis_part_t *last = t->nparts ? &t->part[t->nparts - 1] : NULL;
    if (!last || last->field != S_LITERAL) {
        if (t->nparts == WR_REDIS_TEMPLATE_PARTS) return WR_ETOOBIG;
        last = &t->part[t->nparts++];
        *last = (wr_redis_part_t){.off = *used, .len = 0, .field = S_LITERAL};
    }
    t->text[(*used)++] = c;
    last->len++;
    return 0;
}

/* The placeholder whose name starts at s[at] (after its '{'): *end gets the index of its '}'. */
static int s_placeholder(wr_redis_template_t *t, uint32_t *used, const char *s, size_t len,
                         size_t at, size_t *end, wr_strbuf_t *err)
{
    size_t k = at;
    while (k < len && s[k] != '}' && s[k] != '{')
        k++;
    if (k == len || s[k] != '}') {
        wr_strbuf_addf(err, "position %zu: '{' without its '}' (write '{{' for a literal '{')",
                       at - 1);
        return WR_EINVAL;
    }
    char name[WR_FIELD_NAME_MAX];
    size_t n = k - at;
    if (n < sizeof name) {
        memcpy(name, s + at, n);
        name[n] = '\0';
    }
    if (n >= sizeof name || strlen(name) != n || !wr_field_name_valid(name)) {
        wr_strbuf_addf(err, "position %zu: '%.*s' is not a field name", at, (int)(n > 40 ? 40 : n),
                       s + at);
        return WR_EINVAL;
    }
    if (t->nparts == WR_REDIS_TEMPLATE_PARTS) return WR_ETOOBIG;
    t->part[t->nparts++] = (wr_redis_part_t){.off = *used, .len = (uint32_t)n, .field = -1};
    memcpy(t->text + *used, name, n);
    *used += (uint32_t)n;
    *end = k;
    return 0;
}

int wr_redis_template_parse(const char *s, size_t len, wr_redis_template_t *t, wr_strbuf_t *err)
{
    memset(t, 0, sizeof *t);
    if (len == 0) {
        wr_strbuf_adds(err, "empty");
        return WR_EINVAL;
    }
    if (len >= WR_REDIS_TEMPLATE_MAX) {
        wr_strbuf_addf(err, "longer than %d bytes", WR_REDIS_TEMPLATE_MAX - 1);
        return WR_ETOOBIG;
    }
    uint32_t used = 0; /* never more than len: escapes shrink, names keep their size */
    int rc = 0;
    for (size_t i = 0; !rc && i < len; i++) {
        char c = s[i];
        if (c == '{' && i + 1 < len && s[i + 1] == '{') {
            rc = s_literal(t, &used, '{');
            i++;
        } else if (c == '{') {
            rc = s_placeholder(t, &used, s, len, i + 1, &i, err);
        } else if (c == '}' && i + 1 < len && s[i + 1] == '}') {
            rc = s_literal(t, &used, '}');
            i++;
        } else if (c == '}') {
            wr_strbuf_addf(err, "position %zu: '}' without its '{' (write '}}' for a literal '}')",
                           i);
            rc = WR_EINVAL;
        } else {
            rc = s_literal(t, &used, c);
        }
    }
    if (rc == WR_ETOOBIG && !err->len)
        wr_strbuf_addf(err, "more than %d parts", WR_REDIS_TEMPLATE_PARTS);
    return rc;
}

int wr_redis_template_bind(wr_redis_template_t *t, const wr_schema_t *schema, wr_strbuf_t *err)
{
    for (uint32_t i = 0; i < t->nparts; i++) {
        wr_redis_part_t *p = &t->part[i];
        if (p->field == S_LITERAL) continue;
        char name[WR_FIELD_NAME_MAX];
        memcpy(name, t->text + p->off, p->len);
        name[p->len] = '\0';
        p->field = wr_schema_find(schema, name);
        if (p->field >= 0) continue;
        wr_strbuf_addf(err, "the results have no field '%s' (they have:", name);
        for (uint32_t f = 0; f < schema->n; f++)
            wr_strbuf_addf(err, "%s %s", f ? "," : "", schema->f[f].name);
        wr_strbuf_addc(err, ')');
        return WR_EINVAL;
    }
    return 0;
}

void wr_redis_template_render(const wr_redis_template_t *t, const wr_batch_t *b, uint32_t i,
                              wr_strbuf_t *out)
{
    for (uint32_t k = 0; k < t->nparts; k++) {
        const wr_redis_part_t *p = &t->part[k];
        if (p->field == S_LITERAL)
            wr_strbuf_add(out, t->text + p->off, p->len);
        else
            wr_redis_value_add(b, p->field, i, out);
    }
}

void wr_redis_value_add(const wr_batch_t *b, int f, uint32_t i, wr_strbuf_t *out)
{
    enum wr_type type = b->schema.f[f].type;
    if (type == WR_T_STRING) {
        uint32_t len;
        const char *s = wr_batch_str(b, f, i, &len);
        wr_strbuf_add(out, s, len);
        return;
    }
    if (!wr_strbuf_grow(out, WR_NUMFMT_JSON_MAX)) return;
    char *p = out->buf + out->len;
    int64_t v = ((const int64_t *)b->col[f])[i];
    size_t n;
    if (type == WR_T_DOUBLE) {
        n = wr_numfmt_json_double(p, ((const double *)b->col[f])[i]);
    } else if (type == WR_T_BOOL) {
        n = v ? 4 : 5;
        memcpy(p, v ? "true" : "false", n);
    } else { /* int, time (epoch ms, as the JSON value has it) */
        n = wr_numfmt_i64(p, v);
    }
    out->len += n;
    out->buf[out->len] = '\0';
}
