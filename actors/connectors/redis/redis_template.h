/* Key templates of the Redis sink (redis.h): text with {field} placeholders, "device:{device}:
 * latest", parsed once, bound to the results' schema when a writer opens, and rendered per
 * result into a reused buffer (no allocation per result once the buffer has grown).
 *
 * Syntax: any bytes but '{' and '}' are literal; "{{" and "}}" are a literal '{' and '}';
 * "{NAME}" is the value of field NAME (a field name: [A-Za-z_][A-Za-z0-9_]*, schema.h). Anything
 * else ('{' without a name and '}', a lone '}', an empty template) is refused, saying where.
 *
 * Values, in templates and as the sink's hash and stream fields (wr_redis_value_add): what the
 * file sink's JSON shows, unquoted: ints and times (epoch ms) as integers, doubles as rowfmt.h's
 * JSON doubles, bools as true/false, strings as their bytes. Plain values; no global state. */
#ifndef WR_REDIS_TEMPLATE_H
#define WR_REDIS_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/strbuf.h"

#define WR_REDIS_TEMPLATE_MAX   256 /* template bytes, NUL included (redis.h's text keys) */
#define WR_REDIS_TEMPLATE_PARTS 64  /* literal runs and placeholders of one template */

typedef struct {
    uint32_t off, len; /* its bytes in text: the literal's, or the field's name */
    int field;         /* a placeholder: the field's index once bound (-1 before); a literal: -2 */
} wr_redis_part_t;

typedef struct {
    char text[WR_REDIS_TEMPLATE_MAX]; /* literals unescaped and names, back to back */
    uint32_t nparts;
    wr_redis_part_t part[WR_REDIS_TEMPLATE_PARTS];
} wr_redis_template_t;

/* Parses s[0, len) into t. 0, or WR_EINVAL with err saying what and at which byte ("position
 * 7: '{' without its '}'"); WR_ETOOBIG when it is longer than WR_REDIS_TEMPLATE_MAX - 1 bytes
 * or has more than WR_REDIS_TEMPLATE_PARTS parts. t is unusable after a failure. */
int wr_redis_template_parse(const char *s, size_t len, wr_redis_template_t *t, wr_strbuf_t *err);

/* Resolves every placeholder against schema. 0, or WR_EINVAL with err naming the first field
 * the schema does not have ("the results have no field 'dev' (they have: device, ...)"). */
int wr_redis_template_bind(wr_redis_template_t *t, const wr_schema_t *schema, wr_strbuf_t *err);

/* Appends the template for record i of b (whose schema t is bound to) to out; out->failed when
 * out of memory. */
void wr_redis_template_render(const wr_redis_template_t *t, const wr_batch_t *b, uint32_t i,
                              wr_strbuf_t *out);

/* Appends the value of field f of record i of b, as described above; out->failed when out of
 * memory. */
void wr_redis_value_add(const wr_batch_t *b, int f, uint32_t i, wr_strbuf_t *out);

#endif
