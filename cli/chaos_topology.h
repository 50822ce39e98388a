/* The user's job of `weir chaos --topology FILE`: read and checked before anything starts, its
 * sinks pointed into one run's folder for each of its two runs (the uninterrupted reference and
 * the run under faults), and the committed output of the two compared (cli/chaos_reference.h).
 *
 * What such a job must be: every sink a file sink (`type: file`: exactly once, a folder of part
 * files, or at least once, one file), whose output is what is compared; no late_sink (which
 * records come late depends on timing, so no reference run can say what it must hold); and a job
 * that ends by itself: every source bounded (a file source; a generator with a total), or the
 * reference run would never finish. Its results must not depend on timing either (a generator's
 * late_fraction, windows closed by processing time): the comparison cannot tell that from a
 * fault's doing, and says the run is invalid. */
#ifndef WR_CHAOS_TOPOLOGY_H
#define WR_CHAOS_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/job/topology.h"
#include "bus/base/strbuf.h"
#include "cli/chaos_check.h"

/* Loads the topology file at path (wr_topology_load_file) and checks it is a job as the top of
 * this file says. 0 with *out (the caller destroys it); else *out NULL and WR_ECONFIG (an
 * invalid topology or one --topology cannot run), WR_ENOTFOUND, WR_EIO or WR_ENOMEM, with one
 * line saying why appended to err. */
int wr_chaos_topo_load(const char *path, wr_topology_t **out, wr_strbuf_t *err);

/* The path sink i of t writes under folder dir: DIR/NAME (a folder) when exactly once, else
 * DIR/NAME.jsonl, NAME the sink's name (sink-N by default), into out (cap bytes with the NUL).
 * false when it does not fit. */
bool wr_chaos_topo_sink_path(const wr_topology_t *t, uint32_t i, const char *dir, char *out,
                             size_t cap);

/* Points every sink of t (loaded by wr_chaos_topo_load) to its path under dir. 0, WR_ENOMEM or
 * WR_EINVAL (a path too long), said in err. */
int wr_chaos_topo_place(wr_topology_t *t, const char *dir, wr_strbuf_t *err);

/* Compares the committed output of every sink of t under folder run with the same sink's under
 * folder ref (each placed there by wr_chaos_topo_place): *v filled (valid or not; files: the
 * run's files read). 0, or WR_ENOTFOUND (an output missing), WR_EIO, WR_ENOMEM, WR_ETOOBIG (the
 * reference has more distinct lines than the table holds), WR_EPROTO (the reference's output
 * holds a torn line or one longer than 1 MiB: it cannot be compared), with the reason in err. */
int wr_chaos_topo_compare(const wr_topology_t *t, const char *ref, const char *run,
                          wr_chaos_verdict_t *v, wr_strbuf_t *err);

#endif
