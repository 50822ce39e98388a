/* weir bench iot: the seed's job (examples/iot.yaml: devices into 10-minute windows sliding by 1
 * minute, count/avg/min/max and p95) at the seed's scale on a cluster of real processes (a
 * JobManager and two TaskManagers this command starts and always stops), with and without p95,
 * on the memory and rocksdb backends, with checkpoints off and on, optionally through a
 * TaskManager's kill -9 (issue 17). */
#ifndef WR_BENCH_IOT_H
#define WR_BENCH_IOT_H

/* `weir bench iot ...` (argv[0] = "weir bench iot"). Returns an exit code: 0 when every run
 * finished and was measured (whether or not the goals were met), 1 when a cluster did not start or
 * a job did not finish (the processes' last log lines on stderr), 2 for bad options, 128 + the
 * signal when SIGINT or SIGTERM stopped it. Every process it started is killed and its temp folder
 * removed before it returns, on every path. */
int wr_bench_iot(int argc, char **argv);

#endif
