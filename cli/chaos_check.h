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
 * that does not parse or is longer than 1 MiB, a last line without its newline: torn). A line with
 * an expected result's key but other values is unexpected, and that result lost unless a right line
 * comes too. valid = lost, duplicated and unexpected all 0. Values: n, lo, hi and sum all exactly.
 * The sum is exact whatever the order of additions (the checker adds in offset order, the job pane
 * by pane in arrival order): every temperature is a multiple of 2^-21 below 32 (generator.c), so
 * every partial sum of fewer than 2^27 of them is a double exactly; a job whose window could hold
 * 2^26 readings of a device is refused.
 * The committed files are external input: any byte sequence gives a verdict or an error, never a
 * crash (tests/fuzz/fuzz_chaos_lines.c). Lines are parsed by cli/chaos_check_int.h.
 *
 * Memory, in passes: the expected results live in one hash table (chaos_check_expect.c), 32
 * bytes each (device and window as two 32-bit numbers, n and the lines seen, lo and hi in units
 * of 2^-21 and their exact sum in 64 bits), at most 70% full, a power of two of slots, sized
 * once for an upper bound on the results (each device's readings span (rounds - 1) * interval +
 * jitter of event time). When that table for every device would take more than the budget
 * (wr_chaos_check_opts_t.mem_max, 2 GiB by default) the check runs in passes, each over a
 * contiguous range of device ids (the generator's are 0 .. devices - 1): the table holds that
 * range's results only, and the output is read once per pass. Every line is one pass's: its
 * device's, or the first pass's when it names none in [0, devices) or does not parse (or is too
 * long, or torn); a line in the sink's own form ({"device":D,...) is parsed only in its pass, the
 * others read D and move on. Lost and duplicated examples are the least key over the passes,
 * the unexpected one the first in file order, so the verdict is the same for any number of
 * passes (tests/test_chaos_check.c checks it against one pass). A budget below one device's
 * table is refused.
 *
 * Cost, per pass: one walk over the generator (cheap: 60M records in about 0.5 s) and, per record
 * of the range's devices, one table update per window holding it (size / slide: 10 for the
 * default job); then the output read and matched. The updates' cache misses bound it (prefetched
 * a batch of records at a time; the table in transparent huge pages where the system gives
 * them, which halves the time by sparing a TLB miss per update). Measured here (2 shared cores,
 * the page cache warm): 1M devices, 60 readings each (60M records, 19.0M results, 2.9 GB of
 * lines): in one pass (a table of 2^25 slots, 1 GiB; peak RSS 1.05 GB) the oracle takes 31 s
 * (2M records/s) and the reading 12 s (1.6M lines/s); within 256 MiB, 4 passes (peak RSS 264 MB)
 * take 66 s in all. The seed's scale (5M devices for 5 minutes at 1M records/s: 300M records,
 * about 95M results, 11 GB of lines) fits 2 GiB in 3 passes: about 3 x (50 s of oracle + the
 * time to read 11 GB), some 5 minutes when the output is in the page cache. */
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
 * refuses, event time spanning 2^32 slides or more (the checker's table counts windows in 32
 * bits); or skip_commit without exactly_once, or an empty sink. */
int wr_chaos_job_yaml(const wr_chaos_job_t *j, const char *sink, bool exactly_once,
                      uint64_t skip_commit, wr_strbuf_t *out, wr_strbuf_t *err);

#define WR_CHAOS_EXAMPLE_MAX 320

typedef struct {
    uint64_t expected; /* (device, window) results the generator says there must be */
    uint64_t ok, lost, duplicated, unexpected;
    uint64_t lines;  /* lines read */
    uint64_t files;  /* files read */
    uint32_t passes; /* over the output (the rest of the verdict does not depend on it) */
    bool valid;
    /* The first of each kind (in key order for lost and duplicated, file order for unexpected),
     * "" when none: the expected line for lost ones, the line and how many times for duplicated
     * ones, the line and what differs (or why it does not parse) for unexpected ones. */
    char first_lost[WR_CHAOS_EXAMPLE_MAX];
    char first_duplicated[WR_CHAOS_EXAMPLE_MAX];
    char first_unexpected[WR_CHAOS_EXAMPLE_MAX];
} wr_chaos_verdict_t;

#define WR_CHAOS_MEM_DEFAULT (UINT64_C(2) << 30) /* bytes: 2 GiB */

/* Where a check is (wr_chaos_check_opts_t.progress). */
typedef struct {
    uint32_t pass, passes;          /* this one (1-based) of how many */
    int64_t devices_lo, devices_hi; /* the devices [lo, hi) it checks */
    uint64_t expected;              /* their results */
    uint64_t lines;                 /* lines read in this pass so far */
    bool done;                      /* the pass has read the whole output */
} wr_chaos_progress_t;

typedef struct {
    uint64_t mem_max; /* bytes for the oracle's table; 0: WR_CHAOS_MEM_DEFAULT */
    /* Called as each pass begins (its expected results computed, lines 0), every 2^22 lines, and
     * as it ends (done); NULL: not called. */
    void (*progress)(void *ctx, const wr_chaos_progress_t *p);
    void *ctx;
} wr_chaos_check_opts_t;

/* Checks the committed output at path (a folder: exactly once; a file: at least once) against
 * job j, in as many passes over the output as the devices' table needs to stay within
 * opts->mem_max (opts NULL: the defaults); the verdict is the same whatever their number. 0
 * with *v filled (valid or not); WR_ENOMEM, WR_EIO when the output cannot be read (path
 * missing: WR_ENOTFOUND), WR_EINVAL for a job out of range or a mem_max that holds no device's
 * results; the reason in err. */
int wr_chaos_check(const wr_chaos_job_t *j, const char *path, const wr_chaos_check_opts_t *opts,
                   wr_chaos_verdict_t *v, wr_strbuf_t *err);

#endif
