/* A batch as Kafka messages (kafka_sink.h): each record's JSON object and its key, formatted into
 * two reused buffers, one pass over the batch. */
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_sink.h"
#include "bus/base/error.h"

int wr__kafka_msgs_init(wr__kafka_msgs_t *m, const wr_schema_t *schema, const char *key,
                        wr_strbuf_t *err)
{
    memset(m, 0, sizeof *m);
    wr_strbuf_init(&m->values);
    wr_strbuf_init(&m->keys);
    m->key = key[0] ? wr_schema_find(schema, key) : -1;
    if (key[0] && m->key < 0) {
        wr_strbuf_addf(err, "key: the records have no field '%s'", key);
        return WR_EINVAL;
    }
    return wr_rowfmt_init(&m->fmt, schema, true);
}

void wr__kafka_msgs_release(wr__kafka_msgs_t *m)
{
    wr_rowfmt_release(&m->fmt);
    wr_strbuf_release(&m->values);
    wr_strbuf_release(&m->keys);
    free(m->voff);
    free(m->koff);
    memset(m, 0, sizeof *m);
}

/* Record i's key: a string's bytes, anything else its JSON text. */
static void s_key(wr__kafka_msgs_t *m, const wr_batch_t *b, uint32_t i)
{
    int f = m->key;
    uint32_t len;
    if (b->schema.f[f].type == WR_T_STRING) {
        const char *s = wr_batch_str(b, f, i, &len);
        wr_strbuf_add(&m->keys, s, len);
        return;
    }
    if (!wr_strbuf_grow(&m->keys, WR_NUMFMT_JSON_MAX)) return;
    char *p = m->keys.buf + m->keys.len;
    int64_t v = ((const int64_t *)b->col[f])[i];
    size_t n;
    switch (b->schema.f[f].type) {
    case WR_T_DOUBLE:
        n = wr_numfmt_json_double(p, ((const double *)b->col[f])[i]);
        break;
    case WR_T_BOOL:
        n = v ? 4 : 5;
        memcpy(p, v ? "true" : "false", n);
        break;
    default: /* int, time (epoch ms, as the JSON value has it) */
        n = wr_numfmt_i64(p, v);
        break;
    }
    m->keys.len += n;
    m->keys.buf[m->keys.len] = '\0';
}

int wr__kafka_msgs_format(wr__kafka_msgs_t *m, const wr_batch_t *b, const uint32_t *sel,
                          uint32_t nsel)
{
    uint32_t n = sel ? nsel : b->count;
    if (n + 1 > m->cap) {
        uint32_t cap = n + 1 > 2 * m->cap ? n + 1 : 2 * m->cap;
        size_t *voff = realloc(m->voff, cap * sizeof *voff);
        if (voff) m->voff = voff;
        size_t *koff = voff ? realloc(m->koff, cap * sizeof *koff) : NULL;
        if (koff) m->koff = koff;
        if (!koff) return WR_ENOMEM;
        m->cap = cap;
    }
    wr_strbuf_reset(&m->values);
    wr_strbuf_reset(&m->keys);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = sel ? sel[k] : k;
        m->voff[k] = m->values.len;
        m->koff[k] = m->keys.len;
        wr_rowfmt_row(&m->fmt, b, i, &m->values);
        if (m->key >= 0) s_key(m, b, i);
    }
    m->voff[n] = m->values.len;
    m->koff[n] = m->keys.len;
    m->n = n;
    if (m->values.failed || m->keys.failed) {
        m->n = 0;
        return WR_ENOMEM;
    }
    return 0;
}
