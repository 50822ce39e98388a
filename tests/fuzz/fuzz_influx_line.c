/* libFuzzer target: the InfluxDB sink's line protocol and InfluxDB's error replies
 * (actors/connectors/influxdb/).
 *   - the formatter: a record made of the input (a tag value and a string field cut out of it, a
 *     double, an int and a bool from its first bytes) is either skipped, as influx_line.h says it
 *     must be (a tag value that cannot be read back, or no finite field), or written as one line
 *     that the strict reader (influx_parse.h) reads back to exactly those values;
 *   - the reader and the error-reply decoder on the raw bytes: they fail cleanly or return
 *     what they promise (a message of at most WR_INFLUX_MESSAGE_MAX bytes, no control byte). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/influxdb/influx_line.h"
#include "actors/connectors/influxdb/influx_parse.h"
#include "actors/connectors/influxdb/influx_reply.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_TAG, F_END, F_D, F_I, F_B, F_S };

static void s_check_reply(const uint8_t *data, size_t size)
{
    wr_strbuf_t m;
    wr_strbuf_init(&m);
    int rc = wr_influx_reply_error((const char *)data, size, &m);
    if (rc != 0 && rc != WR_EPROTO && rc != WR_ENOMEM) abort();
    if (rc != 0 && m.len != 0) abort();
    if (m.len > WR_INFLUX_MESSAGE_MAX) abort();
    for (size_t i = 0; i < m.len; i++)
        if ((unsigned char)m.buf[i] < 0x20 || m.buf[i] == 0x7f) abort();
    wr_strbuf_release(&m);
}

static bool s_same(const wr_influx_point_t *p, const wr_influx_pair_t *v, const char *s, size_t n)
{
    return v->val_len == n && !memcmp(p->text.buf + v->val, s, n);
}

/* The record of the input: [0, 8) the double's bits, [8, 16) the int, [16] the bool and where
 * the tag value ends in the rest. */
static void s_check_format(const uint8_t *data, size_t size, wr_influx_point_t *p)
{
    if (size < 17) return;
    double d;
    int64_t i;
    memcpy(&d, data, 8);
    memcpy(&i, data + 8, 8);
    const char *rest = (const char *)data + 17;
    size_t nrest = size - 17, cut = nrest ? data[16] % (nrest + 1) : 0;
    static const wr_field_t fields[] = {{"tag", WR_T_STRING}, {"window_end", WR_T_TIME},
                                        {"d", WR_T_DOUBLE},   {"i", WR_T_INT},
                                        {"b", WR_T_BOOL},     {"s", WR_T_STRING}};
    wr_schema_t s;
    wr_schema_init(&s);
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
        wr_schema_add(&s, fields[f].name, fields[f].type);
    wr_batch_t *b = wr_batch_new(&s, 1);
    if (!b) return;
    if (wr_batch_push_str(b, F_TAG, rest, (uint32_t)cut) ||
        wr_batch_push_str(b, F_S, rest + cut, (uint32_t)(nrest - cut))) {
        wr_batch_destroy(&b);
        return;
    }
    wr_batch_i64(b, F_END)[0] = i ^ 0x5555;
    wr_batch_f64(b, F_D)[0] = d;
    wr_batch_i64(b, F_I)[0] = i;
    wr_batch_i64(b, F_B)[0] = data[16] & 1;
    b->count = 1;
    /* the fields: d alone when the bool's bit 1 says so (a NaN then skips the point) */
    static const int tags[] = {F_TAG}, all[] = {F_D, F_I, F_B, F_S}, only_d[] = {F_D};
    bool lone = data[16] & 2;
    wr_influx_line_t f;
    if (wr_influx_line_init(&f, &s, "m e,a=s", 7, tags, 1, lone ? only_d : all, lone ? 1 : 4,
                            F_END)) {
        wr_batch_destroy(&b);
        return;
    }
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    wr_influx_line_stats_t st = {0};
    bool written = wr_influx_line_row(&f, b, 0, &out, &st);
    bool tag_ok = wr_influx_tag_ok(rest, cut);
    if (written != (tag_ok && !(lone && !isfinite(d)))) abort();
    if (written && !out.failed) {
        if (out.len == 0 || out.buf[out.len - 1] != '\n') abort();
        if (wr_influx_parse_line(out.buf, out.len - 1, p) != 0) abort();
        if (p->m_len != 7 || memcmp(p->text.buf, "m e,a=s", 7) || p->ts != (i ^ 0x5555)) abort();
        if (p->ntags != (cut ? 1u : 0u) || (cut && !s_same(p, &p->tag[0], rest, cut))) abort();
        uint32_t k = 0;
        if (isfinite(d) && (p->field[k].kind != WR_INFLUX_FLOAT || p->field[k++].f != d)) abort();
        if (!lone) {
            if (p->field[k].kind != WR_INFLUX_INT || p->field[k++].i != i) abort();
            if (p->field[k].kind != WR_INFLUX_BOOL || p->field[k++].i != (data[16] & 1)) abort();
            if (p->field[k].kind != WR_INFLUX_STRING ||
                !s_same(p, &p->field[k++], rest + cut, nrest - cut))
                abort();
        }
        if (p->nfields != k) abort();
    }
    wr_strbuf_release(&out);
    wr_influx_line_release(&f);
    wr_batch_destroy(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_check_reply(data, size);
    wr_influx_point_t p;
    wr_influx_point_init(&p);
    int rc = wr_influx_parse_line((const char *)data, size, &p);
    if (rc != 0 && rc != WR_EPROTO && rc != WR_ENOMEM) abort();
    if (rc == 0 && (p.nfields == 0 || p.m_len == 0 || p.m_len > p.text.len)) abort();
    s_check_format(data, size, &p);
    wr_influx_point_release(&p);
    return 0;
}
