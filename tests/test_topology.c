/* actors/dataflow/topology: the examples parse into what they say; every error names the file,
 * the line and the key; defaults and derived schemas; the msgpack form round-trips to an equal
 * topology and its reader rejects truncations, corruptions and invalid topologies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/collect/collect_sink.h"
#include "actors/connectors/file/file.h"
#include "actors/connectors/generator/generator.h"
#include "actors/connectors/registry/registry.h"
#include "actors/connectors/stdout/stdout_sink.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/error.h"
#include "bus/base/strbuf.h"

static const char *const s_examples[] = {"examples/iot.yaml", "examples/tumbling.yaml",
                                         "examples/iot-exactly-once.yaml", "examples/session.yaml"};

/* A path in the source tree (WEIR_SRC when the tests run from elsewhere). */
static void src_path(char *out, size_t cap, const char *rel)
{
    const char *root = getenv("WEIR_SRC");
    snprintf(out, cap, "%s/%s", root ? root : ".", rel);
}

/* The configs of sources and sinks of a known connector. */
static const wr_generator_config_t *gen_of(const wr_topo_source_t *s)
{
    assert_ptr_equal(s->cls, wr_generator_connector.source);
    return s->config;
}

static const wr_file_source_config_t *file_of(const wr_topo_source_t *s)
{
    assert_ptr_equal(s->cls, wr_file_connector.source);
    return s->config;
}

static const wr_file_sink_config_t *file_sink_of(const wr_topo_sink_t *s)
{
    assert_ptr_equal(s->cls, wr_file_connector.sink);
    return s->config;
}

static wr_topology_t *load_example(const char *rel)
{
    char path[512];
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    src_path(path, sizeof path, rel);
    wr_topology_t *t = NULL;
    int rc = wr_topology_load_file(path, &t, &err);
    if (rc) fail_msg("%s: rc %d: %s", rel, rc, err.buf);
    wr_strbuf_release(&err);
    return t;
}

static wr_topology_t *parse_ok(const char *text)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    int rc = wr_topology_parse(text, strlen(text), "t.yaml", &t, &err);
    if (rc) fail_msg("rc %d: %s\n--- in:\n%s", rc, err.buf, text);
    wr_strbuf_release(&err);
    return t;
}

static void assert_fields(const wr_schema_t *s, const char *const *names, const enum wr_type *types,
                          uint32_t n)
{
    assert_int_equal(s->n, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_string_equal(s->f[i].name, names[i]);
        assert_int_equal(s->f[i].type, types[i]);
    }
}

static void test_iot_example(void **state)
{
    (void)state;
    wr_topology_t *t = load_example("examples/iot.yaml");
    assert_string_equal(t->name, "iot-sliding");
    assert_int_equal(t->parallelism, 2);
    assert_int_equal(t->max_parallelism, 128);
    assert_int_equal(t->n_sources, 1);
    const wr_topo_source_t *s = &t->sources[0];
    assert_ptr_equal(s->cls, wr_generator_connector.source);
    assert_string_equal(s->name, "source-1");
    assert_int_equal(s->parallelism, 2);
    assert_int_equal(gen_of(s)->devices, 5000000);
    assert_int_equal(gen_of(s)->interval_ms, 10000);
    assert_int_equal(gen_of(s)->start_ms, WR_GEN_DEFAULT_START);
    assert_int_equal(gen_of(s)->late_ms, 180000);
    assert_true(gen_of(s)->late_fraction == 0.0001);
    assert_int_equal(t->n_ops, 1);
    assert_int_equal(t->ops[0].kind, WR_TOPO_OP_FILTER);
    assert_string_equal(t->ops[0].name, "filter-1");
    assert_string_equal(t->key_by, "device");
    assert_int_equal(t->key_index, 0);
    assert_string_equal(t->event_time.field, "ts");
    assert_int_equal(t->event_time.max_out_of_orderness_ms, 5000);
    assert_int_equal(t->event_time.idle_timeout_ms, 30000);
    assert_int_equal(t->event_time.watermark_interval_ms, 200);
    assert_int_equal(t->window.kind, WR_TOPO_WINDOW_SLIDING);
    assert_int_equal(t->window.size_ms, 600000);
    assert_int_equal(t->window.slide_ms, 60000);
    assert_int_equal(t->window.allowed_lateness_ms, 60000);
    assert_int_equal(t->window.parallelism, 2);
    assert_false(t->window.has_late_sink);
    assert_int_equal(t->n_aggs, 5);
    assert_int_equal(t->aggs[0].fn, WR_TOPO_AGG_COUNT);
    assert_int_equal(t->aggs[0].input, -1);
    assert_int_equal(t->aggs[1].fn, WR_TOPO_AGG_AVG);
    assert_int_equal(t->aggs[1].input, 2);
    assert_int_equal(t->aggs[4].fn, WR_TOPO_AGG_QUANTILE);
    assert_true(t->aggs[4].q == 0.95);
    static const char *const names[] = {"device",   "window_start", "window_end", "readings",
                                        "avg_temp", "min_temp",     "max_temp",   "p95_temp"};
    static const enum wr_type types[] = {WR_T_INT,    WR_T_TIME,   WR_T_TIME,   WR_T_INT,
                                         WR_T_DOUBLE, WR_T_DOUBLE, WR_T_DOUBLE, WR_T_DOUBLE};
    assert_fields(&t->result, names, types, 8);
    wr_schema_t gen;
    wr_generator_schema(&gen);
    assert_true(wr_schema_equal(&t->schema, &gen));
    assert_true(wr_schema_equal(&t->chain_out, &gen));
    /* the window reads the key, the event time and the temperature: humidity and region do
     * not cross the key-by exchange */
    static const char *const read[] = {"device", "ts", "temperature"};
    static const enum wr_type rtypes[] = {WR_T_INT, WR_T_TIME, WR_T_DOUBLE};
    assert_fields(&t->input, read, rtypes, 3);
    assert_int_equal(t->n_sinks, 1);
    assert_ptr_equal(t->sinks[0].cls, wr_stdout_connector.sink);
    assert_string_equal(t->sinks[0].name, "sink-1");
    wr_topology_destroy(&t);
    assert_null(t);
    wr_topology_destroy(&t);
}

static void test_tumbling_and_session_examples(void **state)
{
    (void)state;
    wr_topology_t *t = load_example("examples/tumbling.yaml");
    assert_int_equal(t->window.kind, WR_TOPO_WINDOW_TUMBLING);
    assert_int_equal(t->window.size_ms, 60000);
    assert_int_equal(t->window.slide_ms, 60000);
    assert_int_equal(t->n_ops, 2);
    assert_string_equal(t->ops[0].name, "map-1");
    assert_string_equal(t->ops[1].name, "filter-1");
    static const char *const mapped[] = {"region", "ts", "temp_f", "humid"};
    static const enum wr_type mtypes[] = {WR_T_STRING, WR_T_TIME, WR_T_DOUBLE, WR_T_BOOL};
    assert_fields(&t->ops[0].output, mapped, mtypes, 4);
    assert_true(wr_schema_equal(&t->chain_out, &t->ops[1].output));
    static const char *const read[] = {"region", "ts", "temp_f"}; /* not humid */
    static const enum wr_type rtypes[] = {WR_T_STRING, WR_T_TIME, WR_T_DOUBLE};
    assert_fields(&t->input, read, rtypes, 3);
    assert_int_equal(t->result.f[0].type, WR_T_STRING);
    assert_int_equal(gen_of(&t->sources[0])->total, 360000);
    assert_ptr_equal(t->sinks[1].cls, wr_file_connector.sink);
    assert_int_equal(t->sinks[1].parallelism, 1);
    /* a relative sink path is the reader's working directory's (the JobManager gets it absolute) */
    char cwd[4096], want[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/tumbling-results.jsonl", cwd);
    assert_string_equal(file_sink_of(&t->sinks[1])->path, want);
    wr_topology_destroy(&t);

    t = load_example("examples/session.yaml");
    assert_string_equal(t->name, "device-sessions");
    assert_int_equal(t->parallelism, 1);
    assert_int_equal(t->window.kind, WR_TOPO_WINDOW_SESSION);
    assert_int_equal(t->window.gap_ms, 300000);
    assert_true(t->window.has_late_sink);
    assert_true(wr_schema_equal(&t->input, &t->chain_out)); /* late records go out whole */
    assert_ptr_equal(t->window.late_sink.cls, wr_file_connector.sink);
    assert_string_equal(t->window.late_sink.name, "late-1");
    const wr_topo_source_t *s = &t->sources[0];
    assert_ptr_equal(s->cls, wr_file_connector.source);
    assert_int_equal(file_of(s)->format, WR_TEXTIN_JSONL);
    assert_int_equal(file_of(s)->on_error, WR_TEXTIN_SKIP);
    assert_false(file_of(s)->header);
    assert_int_equal(s->parallelism, 1);
    /* relative to the topology file's folder, made absolute */
    const char *path = file_of(s)->path;
    assert_true(path[0] == '/');
    const char *tail = "examples/data/readings.jsonl";
    assert_string_equal(path + strlen(path) - strlen(tail), tail);
    assert_int_equal(access(path, R_OK), 0);
    assert_int_equal(t->aggs[4].fn, WR_TOPO_AGG_QUANTILE);
    assert_true(t->aggs[4].q == 0.5);
    wr_topology_destroy(&t);
}

static void test_defaults_and_derived(void **state)
{
    (void)state;
    wr_topology_t *t = parse_ok("sources: [{type: generator}]\n"
                                "sinks: [{type: collect}]\n");
    assert_string_equal(t->name, "t"); /* from the origin's name */
    assert_int_equal(t->parallelism, 1);
    assert_int_equal(t->max_parallelism, 128);
    assert_int_equal(t->window.kind, WR_TOPO_WINDOW_NONE);
    assert_int_equal(t->key_index, -1);
    assert_true(wr_schema_equal(&t->result, &t->schema));
    wr_generator_config_t d;
    wr_generator_config_default(&d);
    assert_int_equal(gen_of(&t->sources[0])->devices, d.devices);
    assert_int_equal(gen_of(&t->sources[0])->jitter_ms, d.jitter_ms);
    assert_int_equal(gen_of(&t->sources[0])->seed, d.seed);
    assert_string_equal(t->event_time.field, "");
    wr_topology_destroy(&t);

    t = parse_ok(
        "name: j\n"
        "parallelism: 3\n"
        "schema: {id: long, at: timestamp, v: float, tag: str, ok: bool}\n"
        "sources:\n"
        "  - {type: file, path: in.csv, format: csv, name: reader}\n"
        "operators:\n"
        "  - {map: {id: id, at: at, v2: v * v, tag: tag}, parallelism: 5, name: sq}\n"
        "  - filter: v2 > 1 && tag != \"x\"\n"
        "key_by: tag\n"
        "event_time: {field: at}\n"
        "window: {type: sliding, size: 90s, slide: 20s, parallelism: 4,"
        " quantile_accuracy: 0.005}\n"
        "aggregates: {n: count(), s: sum(id), sd: stddev_samp(v2), q: 'quantile(v2, 0.25)',"
        " hi: p99.9(v2)}\n"
        "sinks: [{type: stdout, parallelism: 2}, {type: file, path: /tmp/x.jsonl, delay: 5ms}]\n");
    assert_int_equal(t->sources[0].parallelism, 1);               /* a file: one reader */
    assert_true(file_of(&t->sources[0])->header);                 /* csv: a header by default */
    assert_string_equal(file_of(&t->sources[0])->path, "in.csv"); /* parsed text: kept as it is */
    assert_string_equal(t->sources[0].name, "reader");
    assert_int_equal(t->ops[0].parallelism, 5);
    assert_int_equal(t->ops[1].parallelism, 3);
    assert_string_equal(t->ops[1].name, "filter-1");
    assert_int_equal(t->window.parallelism, 4);
    assert_string_equal(t->window.name, "window-1");
    assert_true(t->window.quantile_accuracy == 0.005);
    assert_int_equal(t->sinks[0].parallelism, 2);
    assert_int_equal(t->sinks[1].parallelism, 1);
    assert_int_equal(file_sink_of(&t->sinks[1])->delay_ms, 5); /* a slow consumer on purpose */
    assert_int_equal(t->schema.f[0].type, WR_T_INT);
    assert_int_equal(t->key_index, 3);
    assert_int_equal(t->aggs[1].input, 0);
    assert_int_equal(t->aggs[2].fn, WR_TOPO_AGG_STDDEV_SAMP);
    assert_true(t->aggs[3].q == 0.25);
    assert_true(t->aggs[4].q > 0.9989 && t->aggs[4].q < 0.9991);
    static const char *const names[] = {"tag", "window_start", "window_end", "n",
                                        "s",   "sd",           "q",          "hi"};
    static const enum wr_type types[] = {WR_T_STRING, WR_T_TIME,   WR_T_TIME,   WR_T_INT,
                                         WR_T_DOUBLE, WR_T_DOUBLE, WR_T_DOUBLE, WR_T_DOUBLE};
    assert_fields(&t->result, names, types, 8);
    wr_topology_destroy(&t);

    /* a generator's own schema may be written out, exactly */
    t = parse_ok("schema: {device: int, ts: time, temperature: double, humidity: double,"
                 " region: string}\n"
                 "sources: [{type: generator, rate: 1_000_000, start: 0}]\n"
                 "sinks: [{type: stdout}]\n");
    assert_int_equal(gen_of(&t->sources[0])->rate, 1000000);
    assert_int_equal(gen_of(&t->sources[0])->start_ms, 0);
    wr_topology_destroy(&t);
}

/* Each bad topology and the exact start of its message: file, line, key. */
static void test_errors_name_file_line_and_key(void **state)
{
    (void)state;
    static const char base_head[] = "name: j\n"                        /* 1 */
                                    "sources:\n"                       /* 2 */
                                    "  - type: generator\n";           /* 3 */
    static const char win[] = "key_by: device\n"                       /* +1 */
                              "event_time: {field: ts}\n"              /* +2 */
                              "window: {type: tumbling, size: 1min}\n" /* +3 */
                              "aggregates: {n: count()}\n";            /* +4 */
    enum { NO_WIN, WIN, WIN_NO_AGGS }; /* append win, or win without its last line */
    static const struct {
        const char *middle; /* after line 3 */
        int window;         /* NO_WIN, WIN or WIN_NO_AGGS; then the sinks */
        const char *msg;
    } cases[] = {
        {"    devices: 0\n", NO_WIN, "t.yaml:4: sources[0].devices: '0' is out of range (1 to "},
        {"    devices: many\n", NO_WIN, "t.yaml:4: sources[0].devices: 'many' is not an integer"},
        {"    interval: 1x\n", NO_WIN,
         "t.yaml:4: sources[0].interval: '1x' is not a duration (use e.g. 1min, 30s)"},
        {"    start: yesterday\n", NO_WIN, "t.yaml:4: sources[0].start: 'yesterday' is not a time"},
        {"    late_fraction: 2\n", NO_WIN,
         "t.yaml:4: sources[0].late_fraction: '2' is out of range"},
        {"    devics: 10\n", NO_WIN,
         "t.yaml:4: sources[0].devics: unknown key (sources[0] takes: "
         "type, name, parallelism, devices,"},
        {"    path: x.jsonl\n", NO_WIN, "t.yaml:4: sources[0].path: only for type: file"},
        {"    rate: 10\n    speedup: 2\n", NO_WIN, "t.yaml:5: sources[0]: give rate or speedup"},
        {"    name: Big\n", NO_WIN, "t.yaml:4: sources[0].name: 'Big' is not a valid name"},
        {"    devices: [1]\n", NO_WIN,
         "t.yaml:4: sources[0].devices: expected a single value, not a list"},
        {"    devices: 1\n    devices: 2\n", NO_WIN,
         "t.yaml:5: sources[0].devices: given twice (first on line 4)"},
        {"    devices:\n", NO_WIN, "t.yaml:4: sources[0].devices: no value"},
        {"  - type: pipe\n", NO_WIN,
         "t.yaml:4: sources[1].type: 'pipe' is not one of generator, file, kafka"},
        {"  - devices: 1\n", NO_WIN,
         "t.yaml:4: sources[1]: no type (type: generator, type: file, type: kafka, or type: mqtt)"},
        {"parallelism: 0\n", NO_WIN, "t.yaml:4: parallelism: '0' is out of range (1 to 32768)"},
        {"paralelism: 2\n", NO_WIN,
         "t.yaml:4: paralelism: unknown key (a topology takes: name, "
         "parallelism,"},
        {"schema: {a: int, a: double}\n", NO_WIN, "t.yaml:4: schema.a: given twice"},
        {"schema: {a: integer}\n", NO_WIN, "t.yaml:4: schema.a: 'integer' is not a type"},
        {"schema: {device: int}\n", NO_WIN,
         "t.yaml:3: sources[0]: a generator makes records of "
         "its own schema (device, ts, temperature, humidity, "
         "region)"},
        {"operators:\n  - filter: temprature > 3\n", NO_WIN,
         "t.yaml:5: operators[0].filter: column 1: unknown field 'temprature'"},
        {"operators:\n  - filter: temperature * 2\n", NO_WIN,
         "t.yaml:5: operators[0].filter: this is double expression; a filter needs a condition"},
        {"operators:\n  - {filter: device > 1, map: {a: device}}\n", NO_WIN,
         "t.yaml:5: operators[0]: both filter and map"},
        {"operators:\n  - parallelism: 2\n", NO_WIN,
         "t.yaml:5: operators[0]: neither filter nor "
         "map"},
        {"operators:\n  - map:\n      d: device\n      f: temperature +\n", NO_WIN,
         "t.yaml:7: operators[0].map.f: column"},
        {"operators:\n  - map: {d: device, d: ts}\n", NO_WIN,
         "t.yaml:5: operators[0].map.d: given twice"},
        {"operators:\n  - {filter: device > 1, type: map}\n", NO_WIN,
         "t.yaml:5: operators[0]: "
         "unknown key 'type'"},
        {"operators:\n  - map: {ts: ts}\n", WIN,
         "t.yaml:6: key_by: 'device' is not a field of the records reaching the window (fields: "
         "ts)"},
        {"operators:\n  - map: {device: device}\n", WIN,
         "t.yaml:7: event_time.field: 'ts' is not a field of the records reaching the window"},
        {"key_by: device\n", NO_WIN, "t.yaml:4: key_by: needs a window"},
        {"aggregates: {n: count()}\n", NO_WIN, "t.yaml:4: aggregates: need a window"},
        {"window: {type: tumbling, size: 1min}\n", NO_WIN, "t.yaml:4: window: needs key_by"},
        {"window: {type: hopping, size: 1min}\n", NO_WIN,
         "t.yaml:4: window.type: 'hopping' is not one of sliding, tumbling, session"},
        {"window: {type: sliding, size: 10min, slide: 1x}\n", NO_WIN,
         "t.yaml:4: window.slide: '1x' is not a duration (use e.g. 1min, 30s)"},
        {"window: {type: tumbling, size: 1min, slide: 1min}\n", NO_WIN,
         "t.yaml:4: window.slide: not for a tumbling window"},
        {"window: {type: sliding, size: 1min, slide: 2min}\nkey_by: device\nevent_time: "
         "{field: ts}\naggregates: {n: count()}\n",
         NO_WIN, "t.yaml:4: window.slide: longer than window.size"},
        {"window: {type: sliding, size: 10min, slide: 7ms}\nkey_by: device\nevent_time: "
         "{field: ts}\naggregates: {n: count()}\n",
         NO_WIN, "t.yaml:4: window.slide: size / gcd(size, slide) = 600000 panes per window"},
        {"window: {type: session, size: 1min}\nkey_by: device\nevent_time: {field: ts}\n"
         "aggregates: {n: count()}\n",
         NO_WIN, "t.yaml:4: window.size: not for a session window"},
        {"window: {type: session}\nkey_by: device\nevent_time: {field: ts}\n"
         "aggregates: {n: count()}\n",
         NO_WIN,
         "t.yaml:4: window.gap: missing (a session window "
         "needs it)"},
        {"window: {type: tumbling, size: 1s, allowed_lateness: 2h}\nkey_by: device\n"
         "event_time: {field: ts}\naggregates: {n: count()}\n",
         NO_WIN, "t.yaml:4: window.allowed_lateness: with it a key keeps 7201 panes"},
        {"window: {type: tumbling, size: 1min, parallelism: 200}\nkey_by: device\nevent_time: "
         "{field: ts}\naggregates: {n: count()}\n",
         NO_WIN, "t.yaml:4: window.parallelism: 200 is more than max_parallelism (128)"},
        {"window: {type: tumbling, size: 1min, late_sink: {type: file}}\n", NO_WIN,
         "t.yaml:4: window.late_sink: no path"},
        {"event_time: {field: humidity}\nwindow: {type: tumbling, size: 1min}\nkey_by: device\n"
         "aggregates: {n: count()}\n",
         NO_WIN,
         "t.yaml:4: event_time.field: 'humidity' is a double; the event-time field must be a "
         "time"},
        {"event_time: {max_out_of_orderness: 1s}\n", NO_WIN, "t.yaml:4: event_time: no field"},
        {"event_time: {field: ts, max_out_of_orderness: -1s}\n", NO_WIN,
         "t.yaml:4: event_time.max_out_of_orderness: '-1s' is not a duration"},
        {"key_by: temperature\nevent_time: {field: ts}\nwindow: {type: tumbling, size: 1min}\n"
         "aggregates: {n: count()}\n",
         NO_WIN,
         "t.yaml:4: key_by: 'temperature' is a double; key by an int, string, bool or time"},
        {"", WIN, NULL}, /* the control: valid */
        {"aggregates: {avg_temp: avg(temprature)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.avg_temp: 'temprature' is not a field"},
        {"aggregates: {r: avg(region)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.r: 'region' is a string; aggregate a number"},
        {"aggregates: {n: count(device)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.n: 'count(device)' takes "
         "no field: count()"},
        {"aggregates: {q: 'quantile(temperature, 2)'}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.q: 'quantile(temperature, 2)' needs q between 0 and 1"},
        {"aggregates: {q: p101(temperature)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.q: "
         "'p101(temperature)' is not an aggregate"},
        {"aggregates: {q: mode(temperature)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.q: 'mode(temperature)' is not an aggregate (e.g. count(), "
         "avg(temperature), p95(temperature))"},
        {"aggregates: {device: max(temperature)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.device: the result already has a field 'device'"},
        {"aggregates: {window_end: max(temperature)}\n", WIN_NO_AGGS,
         "t.yaml:4: aggregates.window_end: the result already has a field 'window_end'"},
        {"operators:\n  - {filter: device > 1, name: window-1}\n", WIN,
         "t.yaml:8: name: 'window-1' names two operators"},
        {"sinks:\n  - {type: file}\n", NO_WIN, "t.yaml:5: sinks[0]: no path (path: results.jsonl)"},
        {"sinks:\n  - {type: stdout, path: x}\n", NO_WIN,
         "t.yaml:5: sinks[0].path: only for type: "
         "file"},
        {"sinks:\n  - {type: stdout, delay: 1ms}\n", NO_WIN,
         "t.yaml:5: sinks[0].delay: only for type: file"},
        {"sinks:\n  - {type: file, path: x, delay: 2min}\n", NO_WIN,
         "t.yaml:5: sinks[0].delay: '2min' is out of range"},
        {"sinks:\n  - {type: file, path: x, parallelism: 2}\n", NO_WIN,
         "t.yaml:5: sinks[0]: a file sink writes one file: parallelism 1"},
        {"sinks: []\n", NO_WIN, "t.yaml:4: sinks: none (1 to 8)"},
        {"sinks: {type: stdout}\n", NO_WIN, "t.yaml:4: sinks: expected a list, not a mapping"},
        {"name: k\n", NO_WIN, "t.yaml:4: name: given twice (first on line 1)"},
        {"  - {type: file, path: x.csv, header: true, format: jsonl}\nschema: {device: int, "
         "ts: time, temperature: double, humidity: double, region: string}\n",
         NO_WIN, "t.yaml:4: sources[1]: header is only for format: csv"},
        {"  - {type: file, path: x.csv, parallelism: 2}\nschema: {device: int, ts: time, "
         "temperature: double, humidity: double, region: string}\n",
         NO_WIN, "t.yaml:4: sources[1]: a file source reads one file: parallelism 1"},
        {"  bad: [\n", NO_WIN, "t.yaml:4: invalid YAML"},
        {"---\nx: 1\n", NO_WIN, "t.yaml:4: a second YAML document"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[2048];
        const char *sinks = strstr(cases[i].middle, "sinks") ? "" : "sinks: [{type: stdout}]\n";
        int win_len = cases[i].window == WIN           ? (int)strlen(win)
                      : cases[i].window == WIN_NO_AGGS ? (int)(strstr(win, "aggregates") - win)
                                                       : 0;
        snprintf(text, sizeof text, "%s%s%.*s%s", base_head, cases[i].middle, win_len, win, sinks);
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        wr_topology_t *t = (wr_topology_t *)&err; /* must come back NULL */
        int rc = wr_topology_parse(text, strlen(text), "t.yaml", &t, &err);
        if (!cases[i].msg) {
            if (rc) fail_msg("case %zu: %s", i, err.buf);
            wr_topology_destroy(&t);
        } else if (rc != WR_ECONFIG || strncmp(err.buf, cases[i].msg, strlen(cases[i].msg)) ||
                   strchr(err.buf, '\n') || t) {
            print_error("case %zu: rc %d\n  got:  %s\n  want: %s...\n--- in:\n%s", i, rc, err.buf,
                        cases[i].msg, text);
            failures++;
        }
        wr_strbuf_release(&err);
    }
    assert_int_equal(failures, 0);
}

static void test_file_errors(void **state)
{
    (void)state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    assert_int_equal(wr_topology_load_file("/nonexistent/x.yaml", &t, &err), WR_ENOTFOUND);
    assert_non_null(strstr(err.buf, "/nonexistent/x.yaml: cannot read the topology"));
    assert_null(t);
    /* the example's name in messages is the path as given */
    char path[] = "/tmp/weir-topo-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "sources: [{type: generator}]\nsinks: [{type: file}]\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    wr_strbuf_reset(&err);
    wr_strbuf_adds(&err, "earlier");
    assert_int_equal(wr_topology_load_file(path, &t, &err), WR_ECONFIG);
    char want[128];
    snprintf(want, sizeof want, "earlier\n%s:2: sinks[0]: no path", path);
    assert_true(!strncmp(err.buf, want, strlen(want)));
    unlink(path);
    wr_strbuf_reset(&err);
    const char *no_schema = "sources: [{type: file, path: a.jsonl}]\nsinks: [{type: stdout}]\n";
    assert_int_equal(wr_topology_parse(no_schema, strlen(no_schema), "f.yaml", &t, &err),
                     WR_ECONFIG);
    assert_string_equal(err.buf, "f.yaml:1: sources[0]: a file source needs the schema of its "
                                 "records (schema: {device: int, ts: time, ...})");
    wr_strbuf_reset(&err);
    assert_int_equal(wr_topology_parse("", 0, "e.yaml", &t, &err), WR_ECONFIG);
    assert_string_equal(err.buf, "e.yaml:1: empty (a topology names its sources, operators and "
                                 "sinks)");
    wr_strbuf_release(&err);
}

/* Packs t into sb. */
static void pack(const wr_topology_t *t, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    assert_int_equal(wr_topology_pack(t, &pk), 0);
}

static int unpack(const void *buf, size_t len, wr_topology_t **out)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf, len);
    int rc = wr_topology_unpack(&r, out);
    if (rc == 0 && wr_mp_remaining(&r) != 0) fail_msg("unpack left %zu bytes", wr_mp_remaining(&r));
    return rc;
}

static const char s_rich[] =
    "name: rich\n"
    "parallelism: 3\n"
    "max_parallelism: 64\n"
    "schema: {id: int, at: time, v: double, tag: string, ok: bool}\n"
    "sources:\n"
    "  - {type: file, path: /data/in.csv, format: csv, header: false, on_error: skip}\n"
    "  - {type: file, path: /data/more.jsonl}\n"
    "operators:\n"
    "  - {map: {id: id, at: at, v2: v * v, tag: tag, okv: ok}, parallelism: 5, name: sq}\n"
    "  - filter: okv && v2 > 1\n"
    "key_by: id\n"
    "event_time: {field: at, max_out_of_orderness: 3s, idle_timeout: 1min, "
    "watermark_interval: 50ms}\n"
    "window: {type: sliding, size: 1h, slide: 5min, allowed_lateness: 2min, name: w,"
    " late_sink: {type: collect, name: late}}\n"
    "aggregates:\n  n: count()\n  lo: min(v2)\n  q: quantile(v2, 0.3)\n  f: first(v2)\n"
    "sinks: [{type: collect}, {type: file, path: out.jsonl}, {type: stdout, parallelism: 2}]\n";

static void test_pack_round_trip(void **state)
{
    (void)state;
    wr_topology_t *all[5];
    for (int i = 0; i < 3; i++)
        all[i] = load_example(s_examples[i]);
    all[3] = parse_ok(s_rich);
    all[4] = parse_ok("sources: [{type: generator, speedup: 2.5, total: 10}]\n"
                      "operators: [{filter: device % 2 == 0}]\n"
                      "sinks: [{type: collect}]\n");
    for (int i = 0; i < 5; i++) {
        msgpack_sbuffer sb;
        pack(all[i], &sb);
        wr_topology_t *back = NULL;
        assert_int_equal(unpack(sb.data, sb.size, &back), 0);
        assert_true(wr_topology_equal(all[i], back));
        assert_true(wr_topology_equal(back, all[i]));
        /* and again: a stable form */
        msgpack_sbuffer sb2;
        pack(back, &sb2);
        assert_int_equal(sb2.size, sb.size);
        assert_memory_equal(sb2.data, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb2);
        wr_topology_destroy(&back);
        msgpack_sbuffer_destroy(&sb);
        if (i > 0) assert_false(wr_topology_equal(all[i], all[i - 1]));
    }
    for (int i = 0; i < 5; i++)
        wr_topology_destroy(&all[i]);
}

/* Every proper prefix of a packed topology is rejected; so is every single-byte change that
 * does not still decode to a valid topology (which then packs back to those bytes). */
static void test_unpack_rejects_damage(void **state)
{
    (void)state;
    wr_topology_t *t = parse_ok(s_rich);
    msgpack_sbuffer sb;
    pack(t, &sb);
    wr_topology_t *back = NULL;
    for (size_t len = 0; len < sb.size; len++) {
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, sb.data, len);
        assert_int_equal(wr_topology_unpack(&r, &back), WR_EPROTO);
        assert_null(back);
    }
    uint8_t *copy = malloc(sb.size);
    size_t accepted = 0;
    static const uint8_t flips[] = {0x01, 0x20, 0x80, 0xff};
    for (size_t i = 0; i < sb.size; i++) {
        for (size_t k = 0; k < sizeof flips; k++) {
            memcpy(copy, sb.data, sb.size);
            copy[i] ^= flips[k];
            wr_mp_reader_t r;
            wr_mp_reader_init(&r, copy, sb.size);
            int rc = wr_topology_unpack(&r, &back);
            if (rc == 0) {
                accepted++; /* e.g. a name changed by one letter: still a valid topology */
                wr_topology_destroy(&back);
            } else {
                assert_int_equal(rc, WR_EPROTO);
            }
        }
    }
    assert_true(accepted < sb.size); /* most damage is caught */
    free(copy);
    msgpack_sbuffer_destroy(&sb);

    /* structurally fine, semantically wrong: the reader validates like the file parser */
    wr_topology_t *bad = parse_ok(s_rich);
    free(bad->ops[1].filter);
    bad->ops[1].filter = strdup("nosuchfield > 1");
    pack(bad, &sb);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    wr_topology_destroy(&bad);

    bad = parse_ok(s_rich);
    strcpy(bad->key_by, "v2"); /* a double key */
    pack(bad, &sb);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    wr_topology_destroy(&bad);

    bad = parse_ok(s_rich);
    bad->window.size_ms = 60000; /* shorter than its 5min slide */
    pack(bad, &sb);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    wr_topology_destroy(&bad);

    bad = parse_ok(s_rich);
    bad->sources[0].parallelism = 2; /* a file source */
    pack(bad, &sb);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    wr_topology_destroy(&bad);

    bad = parse_ok(s_rich);
    strcpy(bad->sinks[0].name, "w"); /* the window's name */
    pack(bad, &sb);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    wr_topology_destroy(&bad);

    /* a map with an unknown key, and one with a missing key */
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    wr_pack_str(&pk, "version");
    msgpack_pack_int(&pk, 1);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_init(&sb);
    msgpack_pack_nil(&pk);
    assert_int_equal(unpack(sb.data, sb.size, &back), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
    wr_topology_destroy(&t);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(wr_topo_window_kind_name(WR_TOPO_WINDOW_SLIDING), "sliding");
    assert_string_equal(wr_topo_window_kind_name(WR_TOPO_WINDOW_NONE), "none");
    assert_string_equal(wr_topo_agg_fn_name(WR_TOPO_AGG_QUANTILE), "quantile");
    assert_string_equal(wr_topo_agg_fn_name(WR_TOPO_AGG_STDDEV_SAMP), "stddev_samp");
    assert_ptr_equal(wr_connectors_sink("collect", 7), wr_collect_connector.sink);
    assert_ptr_equal(wr_connectors_source("file", 4), wr_file_connector.source);
    assert_ptr_equal(wr_connectors_sink("file", 4), wr_file_connector.sink);
    assert_null(wr_connectors_source("stdout", 6)); /* a sink only */
    assert_string_equal(wr_topo_agg_fn_name((enum wr_topo_agg_fn)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iot_example),
        cmocka_unit_test(test_tumbling_and_session_examples),
        cmocka_unit_test(test_defaults_and_derived),
        cmocka_unit_test(test_errors_name_file_line_and_key),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_pack_round_trip),
        cmocka_unit_test(test_unpack_rejects_damage),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
