/* `weir bench sink ...` (argv[0] = "weir bench sink"): the sinks' formatting against the printf
 * one. */
#ifndef WR_BENCH_SINK_H
#define WR_BENCH_SINK_H

int wr_bench_sink(int argc, char **argv);

#endif
