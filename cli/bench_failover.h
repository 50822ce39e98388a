/* weir bench failover: how long a job stops when its JobManager leader is killed, on a cluster of
 * real processes (etcd, JobManagers, TaskManagers) this command starts and always stops. */
#ifndef WR_BENCH_FAILOVER_H
#define WR_BENCH_FAILOVER_H

/* `weir bench failover ...` (argv[0] = "weir bench failover"). Returns an exit code: 0 when every
 * kill was measured (whether or not the goals were met), 1 when the cluster did not start or the
 * job did not run again within a minute of a kill (the processes' last log lines on stderr), 2 for
 * bad options, 128 + the signal when SIGINT or SIGTERM stopped it. Every process it started is
 * killed and its temp folder removed before it returns, on every path. */
int wr_bench_failover(int argc, char **argv);

#endif
