/* The window operator of a job as its subtasks build it: the engine spec (window.h) made from the
 * topology, in one place, so that the JobManager checks at submit (wr_window_check) exactly
 * what every window subtask then creates. */
#ifndef WR_JOB_WINDOW_H
#define WR_JOB_WINDOW_H

#include <stdbool.h>

#include "actors/dataflow/job/topology.h"
#include "actors/dataflow/window/window.h"

/* The spec of t's window (t->window.kind is not NONE) for each of its subtasks: kind and sizes,
 * lateness, the aggregates over spec->ncols double columns (col_field[c]: the field of the
 * window's input schema that column c reads), the quantile accuracy, and the keys each subtask
 * expects from what the sources tell of theirs. rocksdb: the rocksdb backend with t's key groups
 * (the store's directory and key group function are the subtask's to set: state_dir NULL); else
 * memory. Cannot fail: what it makes is for wr_window_check or wr_window_new to judge. */
void wr_job_window_spec(const wr_topology_t *t, bool rocksdb, wr_window_spec_t *spec,
                        int col_field[WR_AGG_MAX_AGGS]);

#endif
