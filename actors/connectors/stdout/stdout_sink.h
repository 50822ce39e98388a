/* The stdout sink: lines, one per record, on the process's standard output.
 *
 *   sinks:
 *     - type: stdout
 *       format: text          # text (default) or json
 *
 * text lines are "field=value field=value", for people (actors/dataflow/record/rowfmt.h: times as
 * UTC ISO-8601, doubles as %.6g); json lines are one JSON object each, as the file sink writes
 * them, for a pipe into another program (`weir local devices.yaml | mosquitto_pub -l ...`).
 * Written and flushed once per batch, so results show up as their windows fire. At-least-once:
 * after a failure, records since the last checkpoint are printed again. */
#ifndef WR_STDOUT_SINK_H
#define WR_STDOUT_SINK_H

#include <stdio.h>

#include "actors/connectors/connector.h"

enum wr_stdout_format { WR_STDOUT_TEXT, WR_STDOUT_JSON };

/* Its config: format (enum wr_stdout_format); `out` is where lines go (NULL, as a topology leaves
 * it: stdout), for tests and benchmarks that want them elsewhere (borrowed). */
typedef struct {
    FILE *out;
    int format;
} wr_stdout_sink_config_t;

extern const wr_connector_t wr_stdout_connector;

#endif
