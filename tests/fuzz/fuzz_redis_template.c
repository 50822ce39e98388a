/* libFuzzer target: the Redis sink's key templates (actors/connectors/redis/redis_template.h),
 * which come from topology files. The input is a template. Checks: no crash or leak; a failure
 * is WR_EINVAL or WR_ETOOBIG with a message; what parses is spelled back exactly as written
 * (literals escaped, placeholders in braces), its parts lie inside its text; it binds to a schema
 * exactly when every placeholder names one of its fields, and then renders a record into the
 * literals and values in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/redis/redis_template.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The template spelled as a file would write it. */
static void s_spell(const wr_redis_template_t *t, wr_strbuf_t *out)
{
    for (uint32_t i = 0; i < t->nparts; i++) {
        const wr_redis_part_t *p = &t->part[i];
        if (p->off + p->len > sizeof t->text || (p->len == 0 && p->field != -2)) abort();
        if (p->field != -2) {
            wr_strbuf_addc(out, '{');
            wr_strbuf_add(out, t->text + p->off, p->len);
            wr_strbuf_addc(out, '}');
            continue;
        }
        for (uint32_t k = 0; k < p->len; k++) {
            char c = t->text[p->off + k];
            wr_strbuf_addc(out, c);
            if (c == '{' || c == '}') wr_strbuf_addc(out, c);
        }
    }
}

/* A batch of one record of every type. */
static wr_batch_t *s_batch(void)
{
    wr_schema_t s;
    wr_schema_init(&s);
    wr_schema_add(&s, "device", WR_T_INT);
    wr_schema_add(&s, "temp", WR_T_DOUBLE);
    wr_schema_add(&s, "ok", WR_T_BOOL);
    wr_schema_add(&s, "ts", WR_T_TIME);
    wr_schema_add(&s, "name", WR_T_STRING);
    wr_batch_t *b = wr_batch_new(&s, 1);
    if (!b) abort();
    wr_batch_i64(b, 0)[0] = -42;
    wr_batch_f64(b, 1)[0] = 21.5;
    wr_batch_i64(b, 2)[0] = 1;
    wr_batch_i64(b, 3)[0] = 1700000000000;
    if (wr_batch_push_str(b, 4, "eu-west", 7)) abort();
    b->count = 1;
    return b;
}

/* The value of every field of the record, as the sink writes it. */
static const char *const s_values[] = {"-42", "21.5", "true", "1700000000000", "eu-west"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_redis_template_t t;
    wr_strbuf_t err, spelled, got, want;
    wr_strbuf_init(&err);
    wr_strbuf_init(&spelled);
    wr_strbuf_init(&got);
    wr_strbuf_init(&want);
    int rc = wr_redis_template_parse((const char *)data, size, &t, &err);
    if (rc) {
        if ((rc != WR_EINVAL && rc != WR_ETOOBIG) || !err.len) abort();
        goto out;
    }
    s_spell(&t, &spelled);
    if (spelled.len != size || memcmp(spelled.buf, data, size)) abort();

    wr_batch_t *b = s_batch();
    bool known = true;
    for (uint32_t i = 0; i < t.nparts; i++) {
        const wr_redis_part_t *p = &t.part[i];
        if (p->field == -2) {
            wr_strbuf_add(&want, t.text + p->off, p->len);
            continue;
        }
        int f = -1;
        for (uint32_t k = 0; k < b->schema.n; k++)
            if (strlen(b->schema.f[k].name) == p->len &&
                !memcmp(b->schema.f[k].name, t.text + p->off, p->len))
                f = (int)k;
        if (f < 0) known = false;
        if (f >= 0) wr_strbuf_adds(&want, s_values[f]);
    }
    rc = wr_redis_template_bind(&t, &b->schema, &err);
    if (known != (rc == 0) || (rc && (rc != WR_EINVAL || !err.len))) abort();
    if (!rc) {
        wr_redis_template_render(&t, b, 0, &got);
        if (got.len != want.len || memcmp(got.buf, want.buf, got.len)) abort();
    }
    wr_batch_destroy(&b);
out:
    wr_strbuf_release(&err);
    wr_strbuf_release(&spelled);
    wr_strbuf_release(&got);
    wr_strbuf_release(&want);
    return 0;
}
