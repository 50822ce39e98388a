/* The verifiable job of `weir chaos` and its checker: the generator's determinism is the oracle.
 *
 * The job: generator (bounded: `total` records, paced by `rate`) -> key by device -> sliding
 * event-time window (size, slide) -> file sink, with the aggregates
 *     n: count()   lo: min(temperature)   hi: max(temperature)   sum: sum(temperature)
 * The generator's jitter stays within the watermark's max_out_of_orderness and nothing is made
 * late, so every (device, window) fires exactly once with every one of its records, whatever the
 * timing, the failures and the restarts (the property test_recovery relies on). The job ends by
 * itself (FINISHED) once the source made `total` records; its last results are committed by the
 * final checkpoint.
 *
 * The checker recomputes, from the generator itself (actors/connectors/generator/generator.h:
 * wr_generator_record of every offset below total), the result of every (device, window start)
 * that has records, and reads the committed output: an exactly-once sink's folder (its committed
 * part files part-*.jsonl only; hidden in-progress files are not output) or an at-least-once
 * sink's one file. In Jepsen's vocabulary, per expected result:
 *     ok          its line is there exactly once, with the expected values
 *     lost        no line for it
 *     duplicated  its line is there more than once (counted once per expected result)
 * and per line: unexpected when it is no expected result (an unknown key, wrong values, a line
 * that does not parse or is longer than 64 KiB, a last line without its newline: torn). A line with
 * an expected result's key but other values is unexpected, and that result lost unless a right line
 * comes too. valid = lost, duplicated and unexpected all 0. Values: n, lo, hi and sum all exactly.
 * The sum is exact whatever the order of additions (the checker adds in offset order, the job pane
 * by pane in arrival order): every temperature is a multiple of 2^-21 below 32 (generator.c), so
 * every partial sum of fewer than 2^27 of them is a double exactly; a job whose window could hold
 * 2^26 readings of a device is refused.
 * The committed files are external input: any byte sequence gives a verdict or an error, never a
 * crash (tests/fuzz/fuzz_chaos_lines.c). Lines are parsed by cli/chaos_check_int.h.
 *
 * Cost: one pass over the generator and, per record, one hash-table update per window holding it
 * (size / slide: 10 for the default job), in a table of the expected results (48 bytes each, the
 * table at most 70% full): 10,000 devices over 20 minutes of event time in 10-minute windows
 * sliding by 1 minute is 1.2M records and 290,000 results, 2^19 slots, 25 MB, about 0.5 s here;
 * 100,000 devices over 10 minutes (6M records, 1.9M results) about 4 s: the updates' cache
 * misses (prefetched a batch of records at a time), not the generator, bound it. The seed's scale
 * (millions of devices) needs gigabytes this way. */
#ifndef WR_CHAOS_CHECK_H
#define WR_CHAOS_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/generator/generator.h"
#include "bus/base/strbuf.h"

typedef struct {
    wr_generator_config_t gen; /* gen.total > 0: the job ends */
    uint32_t parallelism;      /* of every operator (the sink's too when exactly once) */
    int64_t size_ms, slide_ms; /* the sliding window */
    int64_t ooo_ms;            /* the watermark's max_out_of_orderness (>= gen.jitter_ms) */
} wr_chaos_job_t;

/* The job `weir chaos` runs by default: 10,000 devices, readings every 10 s, jitter 1 s (ooo
 * 2 s), window 10 min sliding by 1 min (the IoT pipeline's), parallelism 3, total and rate left 0
 * (the command sets them from --duration). */
void wr_chaos_job_default(wr_chaos_job_t *j);

/* The job's topology (YAML) writing into sink: a folder of part files when exactly_once, else one
 * file (the sink then at parallelism 1, as the file sink requires). skip_commit > 0 adds the
 * file sink's test-only fault `test_skip_commit: N` (the records of checkpoint N's commit are
 * dropped instead of committed: the negative control that must show lost results; only with
 * exactly_once). 0 with the text appended to out, WR_ENOMEM (out as it was), or WR_EINVAL when
 * the job is out of range, said in err: total 0, parallelism 0, not 0 < slide <= size, size not
 * a multiple of slide, more than 4096 windows per record, 2^26 readings of a device per window
 * or more, ooo < jitter, late_fraction not 0, a generator configuration wr_generator_new
 * refuses; or skip_commit without exactly_once, or an empty sink. */
int wr_chaos_job_yaml(const wr_chaos_job_t *j, const char *sink, bool exactly_once,
                      uint64_t skip_commit, wr_strbuf_t *out, wr_strbuf_t *err);

#define WR_CHAOS_EXAMPLE_MAX 320

typedef struct {
    uint64_t expected; /* (device, window) results the generator says there must be */
    uint64_t ok, lost, duplicated, unexpected;
    uint64_t lines; /* lines read */
    uint64_t files; /* files read */
    bool valid;
    /* The first of each kind (in key order for lost and duplicated, file order for unexpected),
     * "" when none: the expected line for lost ones, the line and how many times for duplicated
     * ones, the line and what differs (or why it does not parse) for unexpected ones. */
    char first_lost[WR_CHAOS_EXAMPLE_MAX];
    char first_duplicated[WR_CHAOS_EXAMPLE_MAX];
    char first_unexpected[WR_CHAOS_EXAMPLE_MAX];
} wr_chaos_verdict_t;

/* Checks the committed output at path (a folder: exactly once; a file: at least once) against
 * job j. 0 with *v filled (valid or not); WR_ENOMEM, WR_EIO when the output cannot be read (path
 * missing: WR_ENOTFOUND), WR_EINVAL for a job out of range; the reason in err. */
int wr_chaos_check(const wr_chaos_job_t *j, const char *path, wr_chaos_verdict_t *v,
                   wr_strbuf_t *err);

#endif
