/* The stdout sink: human-readable lines, one per record, on the process's standard output.
 *
 *   sinks:
 *     - type: stdout          # no keys of its own (name and parallelism as every sink)
 *
 * Lines are "field=value field=value" (actors/dataflow/record/rowfmt.h: times as UTC ISO-8601,
 * doubles as %.6g), written and flushed once per batch, so results show up as their windows fire.
 * At-least-once: after a failure, records since the last checkpoint are printed again. */
#ifndef WR_STDOUT_SINK_H
#define WR_STDOUT_SINK_H

#include <stdio.h>

#include "actors/connectors/connector.h"

/* Its config: no parameters; `out` is where lines go (NULL, as a topology leaves it: stdout),
 * for tests and benchmarks that want them elsewhere (borrowed). */
typedef struct {
    FILE *out;
} wr_stdout_sink_config_t;

extern const wr_connector_t wr_stdout_connector;

#endif
