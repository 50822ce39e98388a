/* The InfluxDB sink's HTTP side: POSTs of line protocol to the write endpoint its config names
 * (influxdb.h), with bounded retries. One curl handle, whose connection is kept from POST to
 * POST. Owned by one thread at a time (a writer's subtask). */
#ifndef WR_INFLUX_CLIENT_H
#define WR_INFLUX_CLIENT_H

#include <stddef.h>

#include "actors/connectors/influxdb/influxdb.h"
#include "bus/base/strbuf.h"

typedef struct wr_influx_client wr_influx_client_t;

/* A client of c's server (c is borrowed: it must outlive the client). Connects to nothing yet.
 * NULL when out of memory or curl cannot start (err says so). */
wr_influx_client_t *wr_influx_client_new(const wr_influxdb_sink_config_t *c, wr_strbuf_t *err);
/* NULL-safe; nulls *cl. */
void wr_influx_client_destroy(wr_influx_client_t **cl);
/* The write endpoint's URL (borrowed), credentials left out. */
const char *wr_influx_client_url(const wr_influx_client_t *cl);

/* POSTs body[0, len) (line protocol) and waits for a 2xx answer, trying again after a 5xx
 * answer, a timeout or no connection, up to c->retries times with a doubling backoff from
 * c->retry_backoff_ms (at most 5 s). 0; or WR_EUNREACH, WR_ETIMEDOUT, WR_EIO (5xx or transport)
 * after the last try; at once, for another answer: WR_ENOTFOUND (404), WR_EPERM (401, 403),
 * WR_ETOOBIG (413), WR_EINVAL (other 4xx: bad points), WR_EIO (anything else); WR_ENOMEM. err
 * gets why (appended): the URL, the HTTP status and InfluxDB's message, or the transport's
 * failure and how many tries were made. */
int wr_influx_client_write(wr_influx_client_t *cl, const char *body, size_t len, wr_strbuf_t *err);

#endif
