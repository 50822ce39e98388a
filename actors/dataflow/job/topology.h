/* Topologies: a job as a YAML file, read into a validated, plain in-memory description
 * (wr_topology_t), and its msgpack form for the bus (CLI -> JobManager -> TaskManagers).
 *
 * The file (every key but `sources` and `sinks` is optional; durations as 500ms, 30s, 10min, 2h):
 *
 *   name: iot-sliding            # job name: [A-Za-z0-9_.-], up to 63; default: the file's name
 *   parallelism: 2               # default parallelism of every operator (default 1)
 *   max_parallelism: 128         # key groups: the most a keyed operator may be rescaled to
 *   schema:                      # the records the sources produce, in column order; types
 *     device: int                #   int, double, bool, time, string. Required for file sources;
 *     ts: time                   #   a generator's is fixed (connectors/generator/generator.h) and,
 *     temperature: double        #   if given, must be exactly that one
 *   sources:                     # 1 to 8, all producing `schema`; each a connector (below)
 *     - type: generator          # the IoT simulator (connectors/generator/generator.h: devices,
 *       devices: 5000000         #   total, rate, speedup, start, interval, jitter,
 *       interval: 10s            #   late_fraction, late_by, seed)
 *       jitter: 2s
 *     - type: file               # JSON lines or CSV (connectors/file/file.h: path, relative to
 *       path: data/readings.jsonl  #   the topology file's folder, format, header, on_error,
 *       format: jsonl            #   max_line; parallelism 1)
 *     - type: kafka              # a topic's partitions as splits (connectors/kafka/kafka.h:
 *       bootstrap.servers: 127.0.0.1:9092  # topic (one or a list), format, on_error, start,
 *       topic: readings          #   start_time, end, group, idle_timeout, discovery_interval,
 *                                #   properties: librdkafka's, passed through; any parallelism)
 *       name: readings           # every source: name (default source-N) and parallelism
 *   operators:                   # a chain, in order; each with optional name and parallelism
 *     - filter: temperature > -40 && temperature < 125     # a bool expression (expr.h)
 *     - map:                     # the new record: output field -> expression; a bare field
 *         device: device         #   name passes a field through (strings only that way)
 *         ts: ts
 *         temp_f: temperature * 1.8 + 32
 *       parallelism: 4
 *   key_by: device               # a field of the records reaching the window
 *   event_time:                  # required with a window
 *     field: ts                  # a time field, in the sources' schema and at the window
 *     max_out_of_orderness: 5s   # watermark = max event time seen - this (default 0)
 *     idle_timeout: 30s          # an input silent this long stops holding the watermark back
 *                                #   (default 0 = never)
 *     watermark_interval: 200ms  # how often sources emit watermarks (default 200ms)
 *   window:
 *     type: sliding              # sliding (size, slide), tumbling (size), session (gap)
 *     size: 10min
 *     slide: 1min
 *     allowed_lateness: 1min     # late records re-fire their window until then (default 0)
 *     quantile_accuracy: 0.01    # relative error of quantiles (default 0.01)
 *     late_sink: {type: file, path: late.jsonl}   # records later than that (default: counted);
 *                                #   an at-least-once sink: they are written as they come, every
 *                                #   field (without one, only the fields the window reads reach it)
 *   aggregates:                  # output field -> function(input field); 1 to 16
 *     readings: count()          #   count, sum, min, max, avg, stddev, stddev_samp, first,
 *     avg_temp: avg(temperature) #   last, median, pNN (p95, p99.9), quantile(field, q)
 *     p95_temp: p95(temperature) #   (inside {...} flow style, quote 'quantile(v, 0.9)': YAML
 *                                #   splits flow mappings at commas)
 *   sinks:                       # 1 to 8; each a connector (below)
 *     - type: stdout             # human-readable lines (connectors/stdout/stdout_sink.h)
 *     - type: file               # JSON lines (connectors/file/file.h: path, relative to the
 *       path: results.jsonl      #   working directory; exactly_once: a folder of part files
 *       exactly_once: true       #   committed by checkpoints, any parallelism; delay)
 *     - type: kafka              # JSON messages to a topic (connectors/kafka/kafka.h:
 *       bootstrap.servers: 127.0.0.1:9092  # topic, key, guarantee: at-least-once or
 *       topic: results           #   exactly-once (a transaction per checkpoint),
 *       guarantee: exactly-once  #   transactional_id_prefix, transaction_log, properties)
 *     - type: collect            # kept in memory for the job's report (tests, weir local)
 *                                # every sink: name (default sink-N) and parallelism
 *
 * Connectors (actors/connectors/connector.h; their table is connectors/registry/registry.c):
 * a source's or sink's `type` names one, and the other keys of its entry are the connector's own
 * parameters, declared, documented and validated by it (its header lists them). A connector
 * says which parallelism it takes (a file source reads one file: 1), whether it makes records of
 * its own schema (the generator), and what it guarantees (an exactly-once sink commits with the
 * checkpoints).
 *
 * A window needs key_by, event_time and aggregates, and they need a window. Its results are
 * records of `result`: the key field, window_start (time), window_end (time), then the aggregates
 * in order (count: int, the others: double). Without a window the sinks get the chain's output.
 *
 * Validation: unknown keys, bad values, expressions that do not compile against the schema that
 * flows into them, fields that do not exist or have the wrong type, and missing pieces are errors
 * that name the file, the line and the key:
 *   examples/iot.yaml:23: window.slide: '1x' is not a duration (use e.g. 1min, 30s)
 *   examples/iot.yaml:14: operators[0].filter: column 1: unknown field 'temprature' (...)
 */
#ifndef WR_TOPOLOGY_H
#define WR_TOPOLOGY_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"
#include "actors/dataflow/record/schema.h"
#include "bus/base/mp.h"
#include "bus/base/strbuf.h"

#define WR_TOPO_JOB_NAME_MAX    64 /* NUL included */
#define WR_TOPO_NAME_MAX        32 /* operator names: [a-z0-9_-], NUL included */
#define WR_TOPO_MAX_SOURCES     8
#define WR_TOPO_MAX_OPS         32
#define WR_TOPO_MAX_AGGS        16
#define WR_TOPO_MAX_SINKS       8
#define WR_TOPO_MAX_PARALLELISM 32768
#define WR_TOPO_MAX_PANES       4096 /* sliding windows: size / gcd(size, slide) */

enum wr_topo_op_kind { WR_TOPO_OP_FILTER, WR_TOPO_OP_MAP };
enum wr_topo_window_kind {
    WR_TOPO_WINDOW_NONE,
    WR_TOPO_WINDOW_SLIDING,
    WR_TOPO_WINDOW_TUMBLING,
    WR_TOPO_WINDOW_SESSION
};
enum wr_topo_agg_fn {
    WR_TOPO_AGG_COUNT,
    WR_TOPO_AGG_SUM,
    WR_TOPO_AGG_MIN,
    WR_TOPO_AGG_MAX,
    WR_TOPO_AGG_AVG,
    WR_TOPO_AGG_STDDEV, /* population */
    WR_TOPO_AGG_STDDEV_SAMP,
    WR_TOPO_AGG_FIRST,
    WR_TOPO_AGG_LAST,
    WR_TOPO_AGG_QUANTILE
};
typedef struct {
    char name[WR_TOPO_NAME_MAX];
    uint32_t parallelism;
    const wr_source_class_t *cls; /* the connector (the registry's) */
    void *config;                 /* its parameters: a cls->config_size struct, owned */
} wr_topo_source_t;

typedef struct {
    char name[WR_FIELD_NAME_MAX];
    char *expr; /* owned */
} wr_topo_output_t;

typedef struct {
    char name[WR_TOPO_NAME_MAX];
    enum wr_topo_op_kind kind;
    uint32_t parallelism;
    char *filter;              /* FILTER: a bool expression; owned */
    uint32_t n_outputs;        /* MAP */
    wr_topo_output_t *outputs; /* MAP: owned array */
    wr_schema_t output;        /* derived: the records after this operator */
} wr_topo_op_t;

typedef struct {
    char name[WR_TOPO_NAME_MAX];
    uint32_t parallelism;
    const wr_sink_class_t *cls; /* the connector (the registry's) */
    void *config;               /* its parameters: a cls->config_size struct, owned */
} wr_topo_sink_t;

typedef struct {
    char name[WR_FIELD_NAME_MAX]; /* the result field */
    enum wr_topo_agg_fn fn;
    char field[WR_FIELD_NAME_MAX]; /* input field ("" for count) */
    int input;                     /* derived: its index in the window's input schema, -1 */
    double q;                      /* QUANTILE: in [0, 1] */
} wr_topo_agg_t;

typedef struct {
    enum wr_topo_window_kind kind; /* NONE: no window (no key_by, aggregates, event_time) */
    char name[WR_TOPO_NAME_MAX];
    uint32_t parallelism;
    int64_t size_ms, slide_ms; /* SLIDING: both; TUMBLING: size (slide = size) */
    int64_t gap_ms;            /* SESSION */
    int64_t allowed_lateness_ms;
    double quantile_accuracy;
    bool has_late_sink;
    wr_topo_sink_t late_sink; /* records later than allowed; input schema of the window */
} wr_topo_window_t;

typedef struct {
    char field[WR_FIELD_NAME_MAX]; /* "" without a window */
    int64_t max_out_of_orderness_ms;
    int64_t idle_timeout_ms; /* 0 = never */
    int64_t watermark_interval_ms;
} wr_topo_event_time_t;

typedef struct {
    char name[WR_TOPO_JOB_NAME_MAX];
    uint32_t parallelism;     /* the default, already applied to every operator below */
    uint32_t max_parallelism; /* key groups */
    wr_schema_t schema;       /* what the sources produce */
    uint32_t n_sources;
    wr_topo_source_t sources[WR_TOPO_MAX_SOURCES];
    uint32_t n_ops;
    wr_topo_op_t ops[WR_TOPO_MAX_OPS];
    char key_by[WR_FIELD_NAME_MAX];
    int key_index; /* derived: in `input` below, -1 without a window */
    wr_topo_event_time_t event_time;
    wr_topo_window_t window;
    uint32_t n_aggs;
    wr_topo_agg_t aggs[WR_TOPO_MAX_AGGS];
    wr_schema_t chain_out; /* derived: the operators' output (the sources' records without any) */
    /* derived: what reaches the window: the fields of chain_out it reads (key_by,
     * event_time.field, the aggregates' fields; in chain_out's order), so that the key-by
     * exchange carries no column the window drops; all of chain_out when a late sink takes the
     * records whole, and without a window */
    wr_schema_t input;
    wr_schema_t result; /* derived: what the sinks get */
    uint32_t n_sinks;
    wr_topo_sink_t sinks[WR_TOPO_MAX_SINKS];
} wr_topology_t;

/* Reads and validates a topology file. Relative source paths are made relative to the file's
 * folder (absolute when path is), relative sink paths to the working directory (params.h:
 * from_cwd), so that the JobManager gets absolute ones. On success *out is a new topology (the
 * caller destroys it). On error: WR_ECONFIG (invalid topology), WR_ENOTFOUND (no such file),
 * WR_EIO, WR_ENOMEM, with one line "FILE:LINE: KEY: what is wrong (what to do)" appended to err (no
 * trailing newline; a newline first if err already holds text); *out is NULL. */
int wr_topology_load_file(const char *path, wr_topology_t **out, wr_strbuf_t *err);
/* The same for text (len bytes) that came from `origin` (a name for messages); relative paths
 * are kept as they are. */
int wr_topology_parse(const char *text, size_t len, const char *origin, wr_topology_t **out,
                      wr_strbuf_t *err);
/* Frees the topology and its strings, sets *t to NULL; NULL-safe. */
void wr_topology_destroy(wr_topology_t **t);

/* Runs every operator at parallelism n (a restore with --parallelism): sources and sinks as far
 * as their connectors take it (a file source stays at 1). */
void wr_topology_set_parallelism(wr_topology_t *t, uint32_t n);

/* msgpack form: a map of the keys above (operators, sources, ... as arrays of maps; a source or
 * sink as its type, name, parallelism and its connector's parameters), resolved values only
 * (defaults applied, derived fields left out), under a format version. Returns 0 or -1
 * (msgpack-c's out of memory). */
int wr_topology_pack(const wr_topology_t *t, msgpack_packer *pk);
/* Reads one packed topology and validates all of it as the file parser does (expressions
 * compiled, fields and types checked, derived fields rebuilt): it comes off the bus. WR_EPROTO on
 * any defect (truncation, wrong type, unknown or missing key, a value out of range, an invalid
 * topology), WR_ENOMEM; *out is NULL then. */
int wr_topology_unpack(wr_mp_reader_t *r, wr_topology_t **out);

/* Deep equality of two topologies (every field, strings by content). */
bool wr_topology_equal(const wr_topology_t *a, const wr_topology_t *b);

/* Names as the file writes them ("sliding", "quantile", ...). */
const char *wr_topo_window_kind_name(enum wr_topo_window_kind k);
const char *wr_topo_agg_fn_name(enum wr_topo_agg_fn fn);

#endif
