#include "tests/support/connector.h"

#include "bus/base/strbuf.h"

wr_sink_t *cs_sink_open(const wr_connector_t *conn, const void *config, const wr_schema_t *schema,
                        uint32_t attempt, uint32_t subtask, int *rc)
{
    wr_sink_open_t o = {
        .schema = schema, .attempt = attempt, .subtask = subtask, .parallelism = subtask + 1};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_sink_t *s = wr_sink_open(conn->sink, config, &o, rc, &err);
    wr_strbuf_release(&err);
    return s;
}

int cs_snapshot(wr_source_t *src, wr_splits_t *out)
{
    wr_strbuf_t st;
    wr_strbuf_init(&st);
    int rc = wr_source_snapshot(src, 0, &st);
    if (!rc) rc = wr_splits_decode((const uint8_t *)st.buf, st.len, out);
    wr_strbuf_release(&st);
    return rc;
}
