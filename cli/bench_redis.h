/* weir bench redis: the Redis sink's writer against a raw hiredis pipeline of the same HSETs, in
 * the same run, on a redis-server the benchmark starts (cli/bench_redis.c says what it runs and
 * measures). */
#ifndef WR_BENCH_REDIS_H
#define WR_BENCH_REDIS_H

/* `weir bench redis ...` (argv[0] = "weir bench redis"). Returns an exit code: 0 when both runs
 * were measured and Redis holds what they wrote (whether or not the goal was met), 1 when one
 * failed (saying why), 2 for bad options. */
int wr_bench_redis(int argc, char **argv);

#endif
