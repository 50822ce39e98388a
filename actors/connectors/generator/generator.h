/* The IoT device simulator source: a deterministic, random-access function from a record offset
 * to a device reading. The same configuration and the same offset always give the same record,
 * so a source subtask restarted from a checkpoint simply resumes at its offset.
 *
 * Keys (wr_generator_config_t; every one optional):
 *   sources:
 *     - type: generator
 *       devices: 5000000          # device ids 0 .. devices-1 (1 to 2^32)
 *       total: 0                  # records in all; 0: unbounded
 *       rate: 0                   # records per second over all subtasks; 0: not paced by rate
 *       speedup: 0                # event time runs this many times faster than the wall clock;
 *                                 #   0: not paced by speedup (give rate or speedup, not both;
 *                                 #   neither: as fast as possible)
 *       start: 2024-01-01T00:00:00Z   # event time of offset 0 (ISO-8601 or epoch ms)
 *       interval: 10s             # event time between two readings of one device
 *       jitter: 2s                # how far a reading's time falls behind its nominal time
 *       late_fraction: 0          # the fraction of readings made late (0 to 1)
 *       late_by: 1min             # how late those are
 *       seed: 42
 * Its records are its own schema (below): a topology's `schema`, if given, must be exactly that.
 * Any parallelism.
 *
 * Splits (the connector's, see actors/connectors/connector.h): offset streams. A stream is the
 * offsets next, next + stride, next + 2 stride, ... (its id "r/s": the offsets r mod s); at the
 * start subtask i of p reads the one stream (i, p). Restored at another parallelism, the streams
 * of every old subtask are dealt out again, split in two (even and odd steps) while there are
 * fewer than subtasks; a subtask reads its streams in offset order (a run of the stream furthest
 * behind up to the next one's offset), and two of its streams that interleave exactly, (x, 2d)
 * and (x + d, 2d), join into (x, d). A restored run is paced on from the offset every stream had
 * reached. A stream's position: msgpack [next, stride, pace base].
 *
 * Records (wr_generator_schema):
 *   device       int     device id in [0, devices)
 *   ts           time    event time, epoch milliseconds
 *   temperature  double  degrees Celsius: a per-device baseline in [10, 30) plus noise in [-2, 2)
 *   humidity     double  percent: a per-device baseline in [30, 70) plus noise in [-5, 5)
 *   region       string  one of 8 region names, fixed per device ("eu-west", "us-east", ...)
 *
 * Which device, and when (offset o, N devices, interval I ms, start S):
 *   round r = o / N, position p = o % N. Every device reports exactly once per round, in an order
 *   fixed by the seed (an affine permutation of p). The nominal event time is
 *     base(o) = S + r * I + floor(p * I / N)      (to within 2^-32 ms: a 32.32 fixed-point step)
 *   which never decreases with o: event time advances by I every N records, so the event-time
 *   rate is N / I records per event-time second.
 *   ts(o) = base(o) - jitter(o) - (late(o) ? late_by : 0), jitter(o) uniform in [0, jitter].
 * So for o1 < o2: ts(o2) >= ts(o1) - jitter for on-time records, and a watermark with
 * max_out_of_orderness >= jitter never makes an on-time record late. A late record is exactly
 * late_by (plus its jitter) behind its nominal time: late for such a watermark whenever
 * late_by > max_out_of_orderness. late(o) is true for a fraction late_fraction of offsets.
 *
 * Parallel sources: subtask i of p emits the offsets i, i+p, i+2p, ... (strided, not ranges), so
 * every subtask moves through event time at the same pace and watermarks stay aligned; the k-th
 * record of subtask i is offset i + k*p. wr_generator_share says how many of the first n
 * offsets a subtask owns; the subtasks together cover every offset exactly once.
 *
 * Pacing is the caller's job: wr_generator_due says how many records are due after a wall-clock
 * time, from `rate` (records/s) or `speedup` (event time runs that many times faster than the
 * wall clock); with neither, everything is due at once (as fast as possible). */
#ifndef WR_GENERATOR_H
#define WR_GENERATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"
#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/record/schema.h"

/* Column indices of wr_generator_schema. */
enum {
    WR_GEN_DEVICE,
    WR_GEN_TS,
    WR_GEN_TEMPERATURE,
    WR_GEN_HUMIDITY,
    WR_GEN_REGION,
    WR_GEN_NFIELDS
};

#define WR_GEN_REGIONS 8

/* Limits wr_generator_new enforces (the topology file reports them per key). */
#define WR_GEN_MAX_DEVICES   (UINT64_C(1) << 32)
#define WR_GEN_MAX_INTERVAL  (INT64_C(1) << 31) /* ms: about 24 days */
#define WR_GEN_MAX_JITTER    (INT64_C(1) << 31) /* ms */
#define WR_GEN_MAX_LATE      (INT64_C(1) << 40) /* ms: about 35 years */
#define WR_GEN_MAX_RATE      UINT64_C(1000000000)
#define WR_GEN_MAX_SPEEDUP   1e9
#define WR_GEN_DEFAULT_START INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */

typedef struct {
    uint64_t devices;     /* 1..WR_GEN_MAX_DEVICES; default 5,000,000 */
    uint64_t total;       /* records in all; 0 = unbounded (default) */
    uint64_t rate;        /* paced records/s over all subtasks; 0 = not paced by rate (default) */
    double speedup;       /* paced so that event time runs this many times faster than the wall
                             clock; 0 = not paced by speedup (default). At most one of rate and
                             speedup is set. */
    int64_t start_ms;     /* event time of offset 0; default WR_GEN_DEFAULT_START */
    int64_t interval_ms;  /* event time between two readings of one device; 1..MAX; default 10 s */
    int64_t jitter_ms;    /* out-of-order bound: 0..MAX; default 2 s */
    double late_fraction; /* 0..1; default 0 */
    int64_t late_ms;      /* how late a late record is: 1..MAX; default 1 min */
    uint64_t seed;        /* default 42 */
} wr_generator_config_t;

/* One record, for tests and oracles (wr_generator_fill writes the same values). */
typedef struct {
    int64_t device;
    int64_t ts;
    double temperature;
    double humidity;
    int region;      /* index into wr_generator_region_name */
    bool late;       /* made late by late_by */
    int64_t nominal; /* base(o): ts without jitter or lateness */
} wr_generator_record_t;

typedef struct wr_generator wr_generator_t;

/* The connector (its source). */
extern const wr_connector_t wr_generator_connector;

/* The defaults listed above (the connector's declared ones). */
void wr_generator_config_default(wr_generator_config_t *cfg);
/* A generator split's position: its next offset and stride. WR_EPROTO when it is not one. */
int wr_generator_split_position(const wr_split_t *s, uint64_t *next, uint64_t *stride);
/* The schema of the generated records (see the top of this file). */
void wr_generator_schema(wr_schema_t *schema);
/* The name of region i (0 <= i < WR_GEN_REGIONS); a static string. */
const char *wr_generator_region_name(int i);

/* A generator for cfg (copied). NULL when cfg is out of range (see the limits) or both rate and
 * speedup are set, or out of memory. */
wr_generator_t *wr_generator_new(const wr_generator_config_t *cfg);
void wr_generator_destroy(wr_generator_t **g);
const wr_generator_config_t *wr_generator_config(const wr_generator_t *g);

/* Appends records offset, offset+stride, ..., offset+(n-1)*stride to b (whose schema must be
 * wr_generator_schema). No allocation besides the batch's string heap growing. Returns 0;
 * WR_EINVAL if b's schema differs, b has no room for n more records, stride is 0, or a record
 * would lie past a bounded total; WR_ENOMEM if the string heap cannot grow (b then holds the
 * records before the failing one). */
int wr_generator_fill_strided(const wr_generator_t *g, uint64_t offset, uint64_t stride, uint32_t n,
                              wr_batch_t *b);
/* wr_generator_fill_strided with stride 1: records [offset, offset+n). */
int wr_generator_fill(const wr_generator_t *g, uint64_t offset, uint32_t n, wr_batch_t *b);
/* The record at offset (any offset, even past a bounded total). */
void wr_generator_record(const wr_generator_t *g, uint64_t offset, wr_generator_record_t *rec);

/* Records due (over all subtasks) elapsed_ns after the source started: rate * t, or the
 * event-time rate (devices / interval) * speedup * t, or all of them when not paced. Capped at
 * the total; UINT64_MAX when unbounded and not paced. Never decreases as elapsed_ns grows. */
uint64_t wr_generator_due(const wr_generator_t *g, uint64_t elapsed_ns);
/* Records in all: the total, or UINT64_MAX when unbounded. */
uint64_t wr_generator_total(const wr_generator_t *g);
/* How many of the offsets [0, n) belong to subtask i of p (those congruent to i modulo p).
 * n = wr_generator_total gives a subtask's share of a bounded run; n = wr_generator_due its
 * share of what is due. */
uint64_t wr_generator_share(uint64_t n, uint32_t i, uint32_t p);

#endif
