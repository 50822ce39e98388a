/* The file connector: a source that reads records from a file of JSON lines or CSV, and a sink
 * that writes JSON lines to a file, or, exactly once, to a folder of part files committed by
 * checkpoints.
 *
 * Source keys:
 *   sources:
 *     - type: file
 *       path: data/readings.jsonl  # required; relative to the topology file's folder
 *       format: jsonl              # jsonl (default) or csv (textin.h says how each is read)
 *       header: true               # csv: the first line names the columns (default: true for
 *                                  #   csv; only for csv)
 *       on_error: fail             # a bad line: fail (default: the job fails, naming the line)
 *                                  #   or skip (counted in `weir job`'s SKIPPED, the first ones
 *                                  #   logged with file:line and why, and skipped)
 *       max_line: 1048576          # the longest line, bytes (default 1 MiB, 1 KiB to 16 MiB): a
 *                                  #   longer one is a bad line (on_error). Any line up to it
 *                                  #   reaches the next operator: batches are cut by bytes too
 *                                  #   (gate.h), so one record travels well below
 *                                  #   bus.max-message-size (64 MiB by default)
 * The records are the topology's `schema`, which a file source requires. One file is one split
 * (position: the byte offset of the first line not read yet, and the line number there), read by
 * one subtask: parallelism 1.
 *
 * Sink keys:
 *   sinks:
 *     - type: file
 *       path: results.jsonl        # required; relative to the working directory (of the CLI
 *                                  #   or `weir local` that reads the topology file: made
 *                                  #   absolute there)
 *       exactly_once: false        # false (default): one file, appended at once; at-least-once
 *                                  #   under recovery (like stdout), parallelism 1.
 *                                  # true: path is a folder of part files written in two phases
 *                                  #   (sink_2pc.h): each becomes visible once the checkpoint
 *                                  #   after it completes (or at the end without checkpoints);
 *                                  #   any parallelism (default 1)
 *       delay: 0ms                 # pause this long after every batch written: a consumer slow
 *                                  #   on purpose, for backpressure tests (0 to 1min; default 0)
 *       test_skip_commit: 0        # TEST ONLY, a fault on purpose (exactly_once only; 0, the
 *                                  #   default: off): the part files closed at checkpoint N's
 *                                  #   barrier are committed empty, their records dropped (each
 *                                  #   logged as a warning); the job goes on normally, restores
 *                                  #   included. The negative control of `weir chaos`: its
 *                                  #   checker must report lost results (cli/chaos_check.h)
 * Lines are JSON objects, one per record (actors/dataflow/record/rowfmt.h). The exactly-once
 * sink's committer (recover) renames the part files a restored checkpoint lists and deletes what
 * later attempts left; a new job in a folder starts past every attempt number it finds there.
 * Two jobs of a cluster never write at once into one file or folder: the sink declares its path
 * (resources: "file:/abs/results.jsonl", "file:/abs/out/" for a folder, canonical) and the
 * JobManager refuses a job that would share it with one not ended yet. */
#ifndef WR_FILE_H
#define WR_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"
#include "actors/connectors/textin.h"

typedef struct {
    char *path;
    int format; /* enum wr_textin_format */
    bool header;
    int on_error;      /* enum wr_textin_on_error */
    uint32_t max_line; /* bytes */
} wr_file_source_config_t;

typedef struct {
    char *path;
    int64_t delay_ms;
    uint64_t test_skip_commit; /* a test fault (see above): 0 = off */
    bool exactly_once;
} wr_file_sink_config_t;

extern const wr_connector_t wr_file_connector;

#endif
