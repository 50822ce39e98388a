/* Connectors in tests: a sink writer opened the way a subtask opens one (actors/connectors/sink.h)
 * from a connector and a config the test fills itself; a source's checkpoint state read back. */
#ifndef WR_TEST_CONNECTOR_H
#define WR_TEST_CONNECTOR_H

#include <stdint.h>

#include "actors/connectors/sink.h"
#include "actors/connectors/source.h"

/* conn's sink over config (borrowed) for records of schema, as subtask `subtask` of attempt
 * `attempt`. NULL with *rc on failure (its message dropped). */
wr_sink_t *cs_sink_open(const wr_connector_t *conn, const void *config, const wr_schema_t *schema,
                        uint32_t attempt, uint32_t subtask, int *rc);

/* Appends the splits of src's checkpoint state to out; 0, or the first error. */
int cs_snapshot(wr_source_t *src, wr_splits_t *out);

#endif
