/* The InfluxDB sink: each result a point, written in line protocol (influx_line.h) over HTTP to
 * InfluxDB's write endpoint: what each write brings (a window firing's results) is POSTed before
 * the write returns, in POSTs of at most `batch` points, so results show up as their windows fire,
 * checkpoints or not.
 *
 *   sinks:
 *     - type: influxdb
 *       url: http://127.0.0.1:8086   # the server (http:// or https://), no path
 *       api: v1                      # v1 (default): POST /write?db=DATABASE&precision=ms, for
 *                                    #   InfluxDB 1.x (and 2.x's compatibility endpoint);
 *                                    #   v2: POST /api/v2/write?org=ORG&bucket=BUCKET&precision=ms
 *                                    #   with "Authorization: Token TOKEN" (InfluxDB 1.8+, 2.x)
 *       database: weir               # v1 (default weir): the database, which must exist (the
 *                                    #   sink never creates it: a missing one fails the job,
 *                                    #   with InfluxDB's "database not found")
 *       rp: autogen                  # v1: a retention policy (default: the database's)
 *       username: weir               # v1: HTTP basic authentication (default: none)
 *       password: secret
 *       org: acme                    # v2: required
 *       bucket: weir                 # v2: required
 *       token: TOKEN                 # v2: required
 *       measurement: readings        # required
 *       tags: [device]               # result columns written as tags (default: the key column,
 *                                    #   the result's first)
 *       fields: [n, avg]             # columns written as fields (default: every column that is
 *                                    #   no tag, window_start, window_end or the time column:
 *                                    #   the aggregates)
 *       time: window_end             # the timestamp's column, an int or time in epoch ms
 *                                    #   (default window_end: the window's end)
 *       batch: 5000                  # the most points in one POST (1 to 1,000,000)
 *       timeout: 10s                 # a POST's whole time
 *       connect_timeout: 2s          # to connect
 *       retries: 5                   # tries after the first on a 5xx, 408 or 429 answer, a
 *                                    #   timeout or no connection (0 to 100), then the subtask
 *                                    #   fails
 *       retry_backoff: 200ms         # before the first retry, doubling each time (at most 5s)
 *
 * Values: ints and times as integer fields (1234i), doubles as floats (their shortest exact
 * text), bools as booleans, strings as string fields; a tag's value is the same text. No column
 * called "time" may be a tag or a field (InfluxDB refuses the name). What line protocol cannot
 * carry (influx_line.h): a NaN or infinite field is left out of its point, and a point with no
 * field left, or with a tag value InfluxDB 1.x cannot read back exactly (a newline, a backslash
 * at the end or before , = or a space), is skipped; both are counted, and logged (the first
 * time, then at the end of the input with the totals).
 *
 * Errors: a 2xx answer is success; 5xx, 408 (request timeout), 429 (too many requests), a
 * timeout or no connection are retried with backoff
 * (`retries` times), then fail the subtask naming the URL and the last reason ("no connection:
 * Couldn't connect to server"); any other answer (4xx: a missing database, a field type
 * conflict, bad credentials) fails the subtask at once with InfluxDB's own message ("HTTP 404:
 * database not found: \"x\""), as does a request curl cannot make (a server certificate that does
 * not verify, a malformed URL). A failed subtask fails the job or restarts it from its last
 * checkpoint, as the job's restart strategy says.
 *
 * Guarantee: at-least-once. At each checkpoint barrier every point written before it is POSTed
 * and acknowledged (204) before the barrier passes, so a completed checkpoint covers nothing
 * still in the writer's buffer; at the end of the input the rest is POSTed. After a restore the
 * results since the checkpoint are written again, as the same points (same measurement, tag set
 * and timestamp), which InfluxDB stores once: the new field values overwrite the old, equal,
 * ones. So it is exactly-once in effect, as long as the job's results are deterministic (event
 * time windows over a replayable source are) and nothing else writes those points.
 *
 * Versions: tested against InfluxDB 1.6.7 (Debian 12's influxdb) with api: v1; api: v2 follows
 * InfluxDB 2.x's documented write API (1.8's compatibility endpoint takes it too) but is not
 * tested here. Any parallelism: each subtask POSTs its own points. */
#ifndef WR_INFLUXDB_H
#define WR_INFLUXDB_H

#include <stdint.h>

#include "actors/connectors/connector.h"

enum wr_influxdb_api { WR_INFLUXDB_V1, WR_INFLUXDB_V2 };

#define WR_INFLUXDB_NAME_MAX  256 /* database, rp, username, password, org, bucket (NUL incl.) */
#define WR_INFLUXDB_TOKEN_MAX 512

typedef struct {
    char *url;
    int api; /* enum wr_influxdb_api */
    char database[WR_INFLUXDB_NAME_MAX];
    char rp[WR_INFLUXDB_NAME_MAX];
    char username[WR_INFLUXDB_NAME_MAX];
    char password[WR_INFLUXDB_NAME_MAX];
    char org[WR_INFLUXDB_NAME_MAX];
    char bucket[WR_INFLUXDB_NAME_MAX];
    char token[WR_INFLUXDB_TOKEN_MAX];
    char *measurement;
    char *tags;   /* column names, one per line (WR_PARAM_LIST); NULL: the key column */
    char *fields; /* NULL: the aggregates */
    char *time;
    uint32_t batch;
    int64_t timeout_ms, connect_timeout_ms;
    uint32_t retries;
    int64_t retry_backoff_ms;
} wr_influxdb_sink_config_t;

extern const wr_connector_t wr_influxdb_connector;

#endif
