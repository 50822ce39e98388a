/* weir bench influxdb: the InfluxDB sink's writer against raw line-protocol POSTs of the same
 * points, both into a real influxd this benchmark starts (cli/bench_influxdb.c says what it runs
 * and measures). */
#ifndef WR_BENCH_INFLUXDB_H
#define WR_BENCH_INFLUXDB_H

/* `weir bench influxdb ...` (argv[0] = "weir bench influxdb"). Returns an exit code: 0 when both
 * runs were measured and InfluxDB holds every point of each, 1 when one failed (saying why), 2 for
 * bad options, 128 + the signal when SIGINT or SIGTERM stopped it. */
int wr_bench_influxdb(int argc, char **argv);

#endif
