/* The collect sink: JSON lines kept in memory and handed back at the end of the job (in the
 * subtask's final report), for tests and for `weir local` to show the results.
 *
 *   sinks:
 *     - type: collect         # no keys of its own
 *
 * Lines as the file sink writes them (actors/dataflow/record/rowfmt.h). Everything a subtask
 * collects stays in its memory until the job ends: for small jobs only. */
#ifndef WR_COLLECT_SINK_H
#define WR_COLLECT_SINK_H

#include "actors/connectors/connector.h"

/* Its config: no parameters. */
typedef struct {
    char unused;
} wr_collect_sink_config_t;

extern const wr_connector_t wr_collect_connector;

#endif
