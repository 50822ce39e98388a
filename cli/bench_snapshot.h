/* weir bench snapshot: the synchronous part of a memory-backend window checkpoint alone, at a
 * window subtask's share of the seed's job, the snapshot walk as built against the walk in
 * key-group order (issue 17). */
#ifndef WR_BENCH_SNAPSHOT_H
#define WR_BENCH_SNAPSHOT_H

/* `weir bench snapshot ...` (argv[0] = "weir bench snapshot"). Returns an exit code: 0 when every
 * checkpoint was written and the two walks' main parts held the same bytes, 1 otherwise (said on
 * stderr), 2 for bad options. Its temp folder is removed on every path. */
int wr_bench_snapshot(int argc, char **argv);

#endif
