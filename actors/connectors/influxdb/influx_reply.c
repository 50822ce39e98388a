/* InfluxDB's error replies (influx_reply.h). */
#include "actors/connectors/influxdb/influx_reply.h"

#include <string.h>

#include "bus/base/error.h"
#include "bus/base/jsonr.h"

int wr_influx_reply_error(const char *body, size_t len, wr_strbuf_t *msg)
{
    wr_strbuf_t error, message;
    wr_strbuf_init(&error);
    wr_strbuf_init(&message);
    bool has_error = false, has_message = false;
    wr_jsonr_t r;
    wr_jsonr_init(&r, body, len);
    wr_jsonr_obj_begin(&r);
    while (wr_jsonr_obj_next(&r)) {
        if (!strcmp(r.key, "error") && wr_jsonr_peek(&r) == WR_JSONR_STR) {
            wr_strbuf_reset(&error);
            has_error = wr_jsonr_read_str(&r, &error) == 0;
        } else if (!strcmp(r.key, "message") && wr_jsonr_peek(&r) == WR_JSONR_STR) {
            wr_strbuf_reset(&message);
            has_message = wr_jsonr_read_str(&r, &message) == 0;
        } else {
            wr_jsonr_skip(&r);
        }
    }
    int rc = wr_jsonr_end(&r);
    if (!rc && (error.failed || message.failed)) rc = WR_ENOMEM;
    if (!rc && !has_error && !has_message) rc = WR_EPROTO;
    if (!rc) {
        const wr_strbuf_t *m = has_error ? &error : &message;
        size_t n = m->len < WR_INFLUX_MESSAGE_MAX ? m->len : WR_INFLUX_MESSAGE_MAX;
        while (n > 0 && n < m->len && ((unsigned char)m->buf[n] & 0xC0) == 0x80)
            n--; /* not inside a UTF-8 sequence */
        size_t at = msg->len;
        wr_strbuf_add(msg, m->buf, n);
        for (size_t i = at; i < msg->len; i++)
            if ((unsigned char)msg->buf[i] < 0x20 || msg->buf[i] == 0x7f) msg->buf[i] = ' ';
        if (msg->failed) rc = WR_ENOMEM;
    }
    wr_strbuf_release(&error);
    wr_strbuf_release(&message);
    return rc;
}
