/* A real InfluxDB 1.x (Debian's influxdb, /usr/bin/influxd) for the tests of the InfluxDB sink,
 * started through the process harness (process.h): its config file, its meta, data and WAL
 * folders in the test's directory; its HTTP API and its RPC service (the top-level bind-address,
 * 8088 by default) on free loopback ports; no other listener (graphite, collectd, opentsdb and udp
 * off), no usage reporting; killed by pid in ps_teardown with every other tracked process, also
 * when the test fails. Use inside ps_setup / ps_teardown:
 *
 *     ti_influx_t *db = ti_start("influxd");
 *     ti_query(db, NULL, "CREATE DATABASE weir");
 *     ti_series_t s = ti_select(db, "weir", "SELECT * FROM readings");
 *
 * ti_ is for "test InfluxDB". */
#ifndef WR_TEST_INFLUXDB_H
#define WR_TEST_INFLUXDB_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/support/process.h"

#define TI_INFLUXD_BIN "/usr/bin/influxd"

typedef struct {
    ps_proc_t *proc; /* NULL once stopped */
    int port, rpc_port;
    char url[64]; /* http://127.0.0.1:<port> */
} ti_influx_t;

/* The group setup of a test binary called name that needs influxd: th_group_setup (http.h), and
 * -1 (saying why) when TI_INFLUXD_BIN cannot run here. */
int ti_group_setup(const char *name);

/* Starts influxd (logs in NAME.out/.err) and waits until GET /ping answers 204 (up to 30 s);
 * fails the test when it does not. Kept until the test ends. */
ti_influx_t *ti_start(const char *name);
/* kill -9, by pid (nothing when it is stopped). */
void ti_stop(ti_influx_t *db);

/* POST /query?q=Q (db NULL: no database): the JSON answer; fails the test unless it is 200 and
 * names no error. */
const char *ti_query(const ti_influx_t *db, const char *database, const char *q);

/* A query's first series, read from InfluxDB's JSON (epoch=ms): its columns and rows, each value
 * as text ("" for null; strings as they are, numbers as InfluxDB wrote them). */
typedef struct {
    size_t ncols, nrows;
    const char **cols;
    const char ***rows; /* rows[r][c] */
} ti_series_t;

/* GET /query?db=database&epoch=ms&q=Q, its first series (nrows 0 when it has none); fails the
 * test when the answer is not such JSON. */
ti_series_t ti_select(const ti_influx_t *db, const char *database, const char *q);
/* v as the shortest text that reads back to it ("%.15g" to "%.17g"), kept: how ti_select
 * writes numbers, for comparing them with other sources'. */
const char *ti_number(double v);
/* The column called name in s, or -1. */
int ti_col(const ti_series_t *s, const char *name);

#endif
