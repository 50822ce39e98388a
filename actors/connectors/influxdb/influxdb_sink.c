/* The InfluxDB sink's class (influxdb.h): its keys and their checks. The writer is
 * influxdb_writer.c. */
#include <curl/curl.h>
#include <string.h>

#include "actors/connectors/influxdb/influx_line.h"
#include "actors/connectors/influxdb/influxdb.h"
#include "actors/connectors/influxdb/influxdb_writer.h"
#include "bus/base/error.h"

static const char *const s_apis[] = {"v1", "v2", NULL};

/* A name InfluxDB takes in a query string or a header: printable, no newline. */
static bool s_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

#define S_NAME(k, m, d)                                                                            \
    {                                                                                              \
        .key = k, .type = WR_PARAM_CHARS, WR_PARAM_AT(wr_influxdb_sink_config_t, m),               \
        .valid = s_printable, .empty_ok = true, .why = "holds a control character", .doc = d       \
    }

static const wr_param_t s_params[] = {
    {.key = "url",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_influxdb_sink_config_t, url),
     .dflt = "http://127.0.0.1:8086",
     .doc = "the InfluxDB server, http:// or https://"},
    {.key = "api",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(wr_influxdb_sink_config_t, api),
     .words = s_apis,
     .dflt = "v1",
     .doc = "v1: /write?db= (InfluxDB 1.x); v2: /api/v2/write with a token (1.8+, 2.x)"},
    {.key = "database",
     .type = WR_PARAM_CHARS,
     WR_PARAM_AT(wr_influxdb_sink_config_t, database),
     .valid = s_printable,
     .why = "holds a control character",
     .dflt = "weir",
     .doc = "v1: the database (it must exist)"},
    S_NAME("rp", rp, "v1: the retention policy (default: the database's)"),
    S_NAME("username", username, "v1: HTTP basic authentication's user"),
    S_NAME("password", password, "v1: HTTP basic authentication's password"),
    S_NAME("org", org, "v2: the organization"),
    S_NAME("bucket", bucket, "v2: the bucket"),
    S_NAME("token", token, "v2: the API token"),
    {.key = "measurement",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_influxdb_sink_config_t, measurement),
     .required = true,
     .example = "readings",
     .doc = "the measurement of every point"},
    {.key = "tags",
     .type = WR_PARAM_LIST,
     WR_PARAM_AT(wr_influxdb_sink_config_t, tags),
     .doc = "result columns written as tags (default: the key column)"},
    {.key = "fields",
     .type = WR_PARAM_LIST,
     WR_PARAM_AT(wr_influxdb_sink_config_t, fields),
     .doc = "result columns written as fields (default: the aggregates)"},
    {.key = "time",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_influxdb_sink_config_t, time),
     .dflt = "window_end",
     .doc = "the timestamp's column, an int or time in epoch ms"},
    {.key = "batch",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_influxdb_sink_config_t, batch),
     .lo = 1,
     .hi = 1000000,
     .dflt = "5000",
     .doc = "the most points in one POST"},
    {.key = "timeout",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_influxdb_sink_config_t, timeout_ms),
     .lo = 100,
     .hi = 600000,
     .dflt = "10s",
     .doc = "a POST's whole time"},
    {.key = "connect_timeout",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_influxdb_sink_config_t, connect_timeout_ms),
     .lo = 10,
     .hi = 60000,
     .dflt = "2s",
     .doc = "to connect"},
    {.key = "retries",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_influxdb_sink_config_t, retries),
     .lo = 0,
     .hi = 100,
     .dflt = "5",
     .doc = "tries after the first on 5xx, a timeout or no connection"},
    {.key = "retry_backoff",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_influxdb_sink_config_t, retry_backoff_ms),
     .lo = 1,
     .hi = 5000,
     .dflt = "200ms",
     .doc = "before the first retry, doubling each time (at most 5s)"},
};

static int s_check(void *config, const wr_param_check_t *ck)
{
    wr_influxdb_sink_config_t *c = config;
    const char *u = c->url;
    if ((strncmp(u, "http://", 7) || !u[7]) && (strncmp(u, "https://", 8) || !u[8]))
        return wr_param_fail(ck, "url", "url: '%s' is not an http:// or https:// URL", u);
    if (strpbrk(u, "?# \t\r\n"))
        return wr_param_fail(ck, "url", "url: '%s': give the server only (no query)", u);
    /* what curl would refuse at each write (a port over 65535, a bad host...): refused here */
    CURLU *cu = curl_url();
    CURLUcode uc = cu ? curl_url_set(cu, CURLUPART_URL, u, 0) : CURLUE_OUT_OF_MEMORY;
    curl_url_cleanup(cu);
    if (uc == CURLUE_OUT_OF_MEMORY) return WR_ENOMEM;
    if (uc) return wr_param_fail(ck, "url", "url: '%s': %s", u, curl_url_strerror(uc));
    if (!wr_influx_tag_ok(c->measurement, strlen(c->measurement)))
        return wr_param_fail(ck, "measurement",
                             "measurement: '%s' cannot be written in line protocol (a newline, "
                             "or a backslash at the end or before a comma or a space)",
                             c->measurement);
    if (c->measurement[0] == '#') /* a comment line to InfluxDB: 204, and every point dropped */
        return wr_param_fail(ck, "measurement",
                             "measurement: '%s' starts with '#': InfluxDB would read each point "
                             "as a comment and drop it",
                             c->measurement);
    if (c->api == WR_INFLUXDB_V2 && (!c->org[0] || !c->bucket[0] || !c->token[0]))
        return wr_param_fail(ck, NULL, "api v2 needs org, bucket and token");
    return 0;
}

static const wr_sink_class_t s_sink = {
    .type = "influxdb",
    .noun = "an InfluxDB sink",
    .params = s_params,
    .nparams = sizeof s_params / sizeof *s_params,
    .config_size = sizeof(wr_influxdb_sink_config_t),
    .check = s_check,
    .open = wr__influxdb_open,
    .close = wr__influxdb_close,
    .write = wr__influxdb_write,
    .flush = wr__influxdb_flush,
    .barrier = wr__influxdb_barrier,
    .failed_on = wr__influxdb_failed_on,
};

const wr_connector_t wr_influxdb_connector = {.sink = &s_sink};
