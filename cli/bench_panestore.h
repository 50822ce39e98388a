/* `weir bench panestore`: the RocksDB pane store (state/panestore.h) at window scale. */
#ifndef WR_BENCH_PANESTORE_H
#define WR_BENCH_PANESTORE_H

/* `weir bench panestore ...` (argv[0] = "weir bench panestore"). Returns an exit code. */
int wr_bench_panestore(int argc, char **argv);

#endif
