/* Connectors in tests: a sink writer opened the way a subtask opens one (actors/connectors/sink.h)
 * from a connector and a config the test fills itself; a source's checkpoint state read back. */
#ifndef WR_TEST_CONNECTOR_SUPPORT_H
#define WR_TEST_CONNECTOR_SUPPORT_H

#include "actors/connectors/sink.h"
#include "actors/connectors/source.h"
#include "bus/base/strbuf.h"

/* conn's sink over config (borrowed) for records of schema, as subtask `subtask` of attempt
 * `attempt`. NULL with *rc on failure (its message dropped). */
static inline wr_sink_t *cs_sink_open(const wr_connector_t *conn, const void *config,
                                      const wr_schema_t *schema, uint32_t attempt, uint32_t subtask,
                                      int *rc)
{
    wr_sink_open_t o = {
        .schema = schema, .attempt = attempt, .subtask = subtask, .parallelism = subtask + 1};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_sink_t *s = wr_sink_open(conn->sink, config, &o, rc, &err);
    wr_strbuf_release(&err);
    return s;
}

/* Appends the splits of src's checkpoint state to out; 0, or the first error. */
static inline int cs_snapshot(wr_source_t *src, wr_splits_t *out)
{
    wr_strbuf_t st;
    wr_strbuf_init(&st);
    int rc = wr_source_snapshot(src, &st);
    if (!rc) rc = wr_splits_decode((const uint8_t *)st.buf, st.len, out);
    wr_strbuf_release(&st);
    return rc;
}

#endif
