/* A batch as Redis commands (redis_sink.h): RESP text in one reused buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/redis/redis_sink.h"
#include "bus/base/error.h"
#include "bus/base/numfmt.h"

const char *wr__redis_verb_name(uint8_t verb)
{
    static const char *const names[] = {"HSET", "PEXPIRE", "XADD"};
    return verb < 3 ? names[verb] : "?";
}

/* "*n\r\n": an array of n bulk strings follows. */
static void s_array(wr_strbuf_t *sb, uint64_t n)
{
    char num[WR_NUMFMT_I64_MAX + 1];
    size_t len = wr_numfmt_i64(num, (int64_t)n);
    wr_strbuf_addc(sb, '*');
    wr_strbuf_add(sb, num, len);
    wr_strbuf_add(sb, "\r\n", 2);
}

/* "$len\r\nbytes\r\n" */
static void s_bulk(wr_strbuf_t *sb, const char *s, size_t len)
{
    char num[WR_NUMFMT_I64_MAX + 1];
    size_t n = wr_numfmt_i64(num, (int64_t)len);
    wr_strbuf_addc(sb, '$');
    wr_strbuf_add(sb, num, n);
    wr_strbuf_add(sb, "\r\n", 2);
    wr_strbuf_add(sb, s, len);
    wr_strbuf_add(sb, "\r\n", 2);
}

static void s_bulk_int(wr_strbuf_t *sb, int64_t v)
{
    char num[WR_NUMFMT_I64_MAX + 1];
    s_bulk(sb, num, wr_numfmt_i64(num, v));
}

int wr__redis_cmds_init(wr__redis_cmds_t *m, const wr_redis_sink_config_t *c,
                        const wr_schema_t *schema, wr_strbuf_t *err)
{
    memset(m, 0, sizeof *m);
    m->c = c;
    wr_strbuf_init(&m->names);
    wr_strbuf_init(&m->buf);
    wr_strbuf_init(&m->scratch);
    const char *text = c->mode == WR_REDIS_HASH ? c->key : c->stream;
    const char *what = c->mode == WR_REDIS_HASH ? "key" : "stream";
    size_t at = err->len;
    int rc = wr_redis_template_parse(text, strlen(text), &m->key, err);
    if (!rc) rc = wr_redis_template_bind(&m->key, schema, err);
    if (rc) {
        char why[512];
        snprintf(why, sizeof why, "%s", err->buf + at);
        wr_strbuf_truncate(err, at);
        wr_strbuf_addf(err, "%s '%s': %s", what, text, why);
    }
    for (uint32_t f = 0; f < schema->n; f++) {
        m->name_off[f] = (uint32_t)m->names.len;
        s_bulk(&m->names, schema->f[f].name, strlen(schema->f[f].name));
    }
    m->nfields = schema->n;
    m->name_off[schema->n] = (uint32_t)m->names.len;
    if (!rc && m->names.failed) rc = WR_ENOMEM;
    if (rc) wr__redis_cmds_release(m);
    return rc;
}

void wr__redis_cmds_release(wr__redis_cmds_t *m)
{
    wr_strbuf_release(&m->names);
    wr_strbuf_release(&m->buf);
    wr_strbuf_release(&m->scratch);
    free(m->cmd);
    memset(m, 0, sizeof *m);
}

void wr__redis_cmds_clear(wr__redis_cmds_t *m)
{
    wr_strbuf_reset(&m->buf);
    m->n = 0;
}

size_t wr__redis_cmds_start(const wr__redis_cmds_t *m, uint32_t k)
{
    return k ? m->cmd[k - 1].end : 0;
}

/* Opens command `verb` of nargs arguments whose first is the key rendered into m->scratch, and
 * records where the key is. */
static int s_begin(wr__redis_cmds_t *m, uint8_t verb, uint64_t nargs)
{
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? 2 * m->cap : 64;
        wr__redis_cmd_t *cmd = realloc(m->cmd, cap * sizeof *cmd);
        if (!cmd) return WR_ENOMEM;
        m->cmd = cmd;
        m->cap = cap;
    }
    const char *name = wr__redis_verb_name(verb);
    s_array(&m->buf, nargs);
    s_bulk(&m->buf, name, strlen(name));
    size_t len = m->scratch.len;
    s_bulk(&m->buf, m->scratch.buf, len);
    m->cmd[m->n] =
        (wr__redis_cmd_t){.key_off = m->buf.len - 2 - len, .key_len = (uint32_t)len, .verb = verb};
    return 0;
}

static void s_end(wr__redis_cmds_t *m)
{
    m->cmd[m->n++].end = m->buf.len;
}

/* Every field of record i as name, value pairs. */
static void s_fields(wr__redis_cmds_t *m, const wr_batch_t *b, uint32_t i)
{
    for (uint32_t f = 0; f < m->nfields; f++) {
        wr_strbuf_add(&m->buf, m->names.buf + m->name_off[f], m->name_off[f + 1] - m->name_off[f]);
        wr_strbuf_reset(&m->scratch);
        wr_redis_value_add(b, (int)f, i, &m->scratch);
        s_bulk(&m->buf, m->scratch.buf, m->scratch.len);
    }
}

int wr__redis_cmds_add(wr__redis_cmds_t *m, const wr_batch_t *b, uint32_t i)
{
    const wr_redis_sink_config_t *c = m->c;
    wr_strbuf_reset(&m->scratch); /* the key; then each value */
    wr_redis_template_render(&m->key, b, i, &m->scratch);
    int rc;
    if (c->mode == WR_REDIS_HASH) {
        rc = s_begin(m, WR__REDIS_HSET, 2 + 2 * (uint64_t)m->nfields);
        if (!rc) {
            s_fields(m, b, i);
            s_end(m);
        }
        if (!rc && c->ttl_ms > 0) {
            wr_strbuf_reset(&m->scratch);
            wr_redis_template_render(&m->key, b, i, &m->scratch);
            rc = s_begin(m, WR__REDIS_PEXPIRE, 3);
            if (!rc) {
                s_bulk_int(&m->buf, c->ttl_ms);
                s_end(m);
            }
        }
    } else {
        rc = s_begin(m, WR__REDIS_XADD, 3 + (c->maxlen ? 3 : 0) + 2 * (uint64_t)m->nfields);
        if (!rc) {
            if (c->maxlen) {
                s_bulk(&m->buf, "MAXLEN", 6);
                s_bulk(&m->buf, "~", 1);
                s_bulk_int(&m->buf, (int64_t)c->maxlen);
            }
            s_bulk(&m->buf, "*", 1);
            s_fields(m, b, i);
            s_end(m);
        }
    }
    if (!rc && (m->buf.failed || m->scratch.failed)) rc = WR_ENOMEM;
    return rc;
}
