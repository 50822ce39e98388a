/* weir bench kafka (bench_kafka.h): on librdkafka's mock cluster, in this process (3 brokers,
 * actors/connectors/kafka/kafka_mock.h):
 *
 *   load  the generator's IoT readings (device, ts, temperature, humidity, region; a device
 *         every 10 s of event time, up to 2 s out of order) as JSON objects, one per line, into
 *         topic `readings`, partitioned by device: one reading per message (default), or
 *         --per-message K lines per message, as a gateway batches the readings of its devices.
 *         Compressed (lz4 by default): the mock keeps at most 5 MiB per partition and drops the
 *         oldest, so the bench checks afterwards that every partition holds all it was sent.
 *   raw   a librdkafka consumer alone reads the whole topic (kafka_plain.h's drain: it assigns
 *         itself every partition and takes messages in batches, counting their lines), with the
 *         Kafka source's consumer defaults (WR_KAFKA_SOURCE_DEFAULTS): events/s from its start to
 *         its last message.
 *   weir  the Kafka source (end: latest, so the job ends once it has read the topic) -> key by
 *         device -> sliding window 10 min / 1 min (count, sum, min, max of temperature) -> the
 *         Kafka sink (at least once, lz4) into topic `results-N` of round N, parallelism 2, on a
 *         JobManager and 2 TaskManagers in this process (bench_local.h, as `weir bench
 *         pipeline`): events/s from the submission to FINISHED (every reading read, every window
 *         fired, every result delivered). The job's first record cannot be seen from outside
 *         it; the submission, a few ms before, stands in for it, as the raw consume's clock also
 *         starts before its consumer exists.
 *   ratio weir / raw of the best round of each (--rounds, 3 by default: the machine is shared,
 *         and a neighbour can only slow a round down); the goal: at least 0.7.
 *
 * Checked in every round, or the bench fails: the source read every reading, the window fired
 * exactly the results the readings make (per device, every 1-minute-aligned window from its
 * first reading's to its last's, computed here from the readings), none too late, and the
 * round's results topic holds exactly that many messages. Peak RSS is this process's: the mock's
 * copy of every topic included. */
#include "cli/bench_kafka.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/generator/generator.h"
#include "actors/connectors/kafka/kafka.h"
#include "actors/connectors/kafka/kafka_mock.h"
#include "actors/connectors/kafka/kafka_plain.h"
#include "actors/dataflow/job/topology.h"
#include "actors/dataflow/record/rowfmt.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "cli/bench_local.h"
#include "cli/bench_machine.h"
#include "cli/cli.h"

#define S_CMD        "bench kafka"
#define S_BROKERS    3
#define S_TMS        2
#define S_BATCH      4096
#define S_SLIDE_MS   60000
#define S_SIZE_MS    600000
#define S_TIMEOUT_MS (3600 * INT64_C(1000)) /* a job's run */
#define S_QUIET_MS   10000                  /* the raw consume: no message this long fails it */
#define S_STOPPED    WR_ECLOSED             /* SIGINT or SIGTERM came: shut down */
#define S_MAX_PARTS  256
#define S_MAX_ROUNDS 20
#define S_LOAD_PROPS "linger.ms=20\nbatch.num.messages=10000\nqueue.buffering.max.kbytes=1048576\n"
#define S_SINK_PROPS "      linger.ms: 5\n"

typedef struct {
    uint64_t records, devices;
    uint32_t per_message, partitions, parallelism, rounds;
    const char *compression;
    bool json;
} s_opts_t;

/* The run: what was loaded, and each round's two timings. */
typedef struct {
    int signal;                        /* the signal that stopped it (0: none) */
    uint64_t messages, bytes, results; /* sent; the window results the readings make */
    double load_s;
    double raw_s[S_MAX_ROUNDS], raw_first_s[S_MAX_ROUNDS]; /* start to last, to first message */
    double weir_s[S_MAX_ROUNDS];                           /* submission to FINISHED */
    long hwm_kb;
} s_run_t;

/* SIGINT or SIGTERM came (blocked in every thread: main does it first): r's signal set. */
static bool s_stop_cb(void *r)
{
    return wr_cli_stop_asked(&((s_run_t *)r)->signal, 0);
}

/* ---- load ---- */

/* Per partition, the lines of the message being made. */
typedef struct {
    wr_strbuf_t buf[S_MAX_PARTS];
    uint32_t lines[S_MAX_PARTS];
} s_pending_t;

static int s_send(wr_kafka_writer_t *w, s_pending_t *pd, uint32_t p, s_run_t *r, wr_strbuf_t *err)
{
    wr_strbuf_t *b = &pd->buf[p];
    if (b->failed) return WR_ENOMEM;
    size_t len = b->len && b->buf[b->len - 1] == '\n' ? b->len - 1 : b->len; /* no last '\n' */
    int rc = wr_kafka_writer_send(w, "readings", (int32_t)p, b->buf, len, err);
    r->messages++;
    r->bytes += len;
    wr_strbuf_reset(b);
    pd->lines[p] = 0;
    return rc;
}

/* Generates o->records readings into `readings`, keeping each device's first and last event
 * time in first[] and last[] (devices entries), and checks the brokers kept every message. */
static int s_load(const s_opts_t *o, const char *bootstrap, int64_t *first, int64_t *last,
                  s_run_t *r, wr_strbuf_t *err)
{
    wr_generator_config_t gc;
    wr_generator_config_default(&gc);
    gc.devices = o->devices;
    gc.total = o->records;
    wr_schema_t schema;
    wr_generator_schema(&schema);
    char props[256];
    snprintf(props, sizeof props, "%scompression.type=%s\n", S_LOAD_PROPS, o->compression);
    wr_generator_t *g = wr_generator_new(&gc);
    wr_batch_t *b = wr_batch_new(&schema, S_BATCH);
    wr_kafka_writer_t *w = wr_kafka_writer_new(bootstrap, props, err);
    s_pending_t *pd = calloc(1, sizeof *pd);
    wr_rowfmt_t fmt;
    bool fmt_ok = false;
    uint64_t *sent = calloc(o->partitions, sizeof *sent);
    int rc = WR_ENOMEM;
    if (!g || !b || !w || !pd || !sent || wr_rowfmt_init(&fmt, &schema, true)) goto out;
    fmt_ok = true;
    for (uint32_t p = 0; p < o->partitions; p++)
        wr_strbuf_init(&pd->buf[p]);
    int64_t t0 = wr_now_ns();
    rc = 0;
    for (uint64_t off = 0; !rc && off < o->records; off += S_BATCH) {
        uint32_t n = (uint32_t)(o->records - off < S_BATCH ? o->records - off : S_BATCH);
        wr_batch_clear(b);
        if ((rc = wr_generator_fill(g, off, n, b)) ||
            (rc = wr_cli_stop_asked(&r->signal, 0) ? S_STOPPED : 0))
            break;
        const int64_t *dev = wr_batch_i64(b, WR_GEN_DEVICE), *ts = wr_batch_i64(b, WR_GEN_TS);
        for (uint32_t i = 0; !rc && i < n; i++) {
            uint64_t d = (uint64_t)dev[i];
            if (!first[d] || ts[i] < first[d]) first[d] = ts[i];
            if (ts[i] > last[d]) last[d] = ts[i];
            uint32_t p = (uint32_t)(d % o->partitions);
            wr_rowfmt_row(&fmt, b, i, &pd->buf[p]);
            if (++pd->lines[p] == o->per_message) {
                sent[p]++;
                rc = s_send(w, pd, p, r, err);
            }
        }
    }
    for (uint32_t p = 0; !rc && p < o->partitions; p++)
        if (pd->lines[p]) {
            sent[p]++;
            rc = s_send(w, pd, p, r, err);
        }
    if (!rc) rc = wr_kafka_writer_flush(w, 300000, err);
    r->load_s = (double)(wr_now_ns() - t0) / 1e9;
    for (uint32_t p = 0; !rc && p < o->partitions; p++) {
        int64_t low, high;
        if ((rc = wr_kafka_writer_offsets(w, "readings", (int32_t)p, &low, &high, err))) break;
        if (low != 0 || high != (int64_t)sent[p]) {
            wr_strbuf_addf(err,
                           "partition %u of readings holds messages %lld..%lld of the %llu sent: "
                           "the mock keeps at most 5 MiB (or 100,000 message sets) per "
                           "partition and drops the oldest; give more --partitions, fewer "
                           "--records, or --compression zstd",
                           p, (long long)low, (long long)high - 1, (unsigned long long)sent[p]);
            rc = WR_ETOOBIG;
        }
    }
out:
    if (rc == WR_ENOMEM && !err->len) wr_strbuf_adds(err, "out of memory");
    for (uint32_t p = 0; pd && p < o->partitions; p++)
        wr_strbuf_release(&pd->buf[p]);
    if (fmt_ok) wr_rowfmt_release(&fmt);
    free(sent);
    free(pd);
    wr_kafka_writer_destroy(&w);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
    return rc;
}

/* The results the readings make: per device, every window (S_SIZE_MS long, starting at a
 * multiple of S_SLIDE_MS) that holds one of its readings. A device reports every 10 s, much more
 * often than a slide, so those are the windows from the first that holds its first reading to
 * the last that holds its last. */
static uint64_t s_results(const int64_t *first, const int64_t *last, uint64_t devices)
{
    uint64_t n = 0;
    for (uint64_t d = 0; d < devices; d++)
        if (last[d])
            n += (uint64_t)(last[d] / S_SLIDE_MS - first[d] / S_SLIDE_MS) + S_SIZE_MS / S_SLIDE_MS;
    return n;
}

/* ---- weir ---- */

/* The job, writing its results into topic `results`. */
static int s_topology(const s_opts_t *o, const char *bootstrap, const char *results,
                      wr_topology_t **out)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "name: bench-kafka\n"
                     "parallelism: %u\n"
                     "max_parallelism: 128\n"
                     "schema: {device: int, ts: time, temperature: double, humidity: double, "
                     "region: string}\n"
                     "sources:\n"
                     "  - type: kafka\n"
                     "    bootstrap.servers: \"%s\"\n"
                     "    topic: readings\n"
                     "    format: jsonl\n"
                     "    start: earliest\n"
                     "    end: latest\n"
                     "key_by: device\n"
                     "event_time: {field: ts, max_out_of_orderness: 5s}\n"
                     "window: {type: sliding, size: 10min, slide: 1min}\n"
                     "aggregates:\n"
                     "  readings: count()\n"
                     "  sum_temp: sum(temperature)\n"
                     "  min_temp: min(temperature)\n"
                     "  max_temp: max(temperature)\n"
                     "sinks:\n"
                     "  - type: kafka\n"
                     "    bootstrap.servers: \"%s\"\n"
                     "    topic: %s\n"
                     "    key: device\n"
                     "    properties:\n"
                     "      compression.type: %s\n" S_SINK_PROPS,
                     o->parallelism, bootstrap, bootstrap, results, o->compression);
    if (n < 0 || (size_t)n >= sizeof text) return WR_ETOOBIG;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_topology_parse(text, (size_t)n, "bench-kafka", out, &err);
    if (rc) wr_cli_error(S_CMD, NULL, "the job's topology: %s", err.buf);
    wr_strbuf_release(&err);
    return rc;
}

/* Runs t on a fresh local cluster until it ends: *secs from the submission to FINISHED, *j the
 * JobManager's last figures, *wv the window's vertex. */
static int s_job(const wr_topology_t *t, s_run_t *r, double *secs, wr_bench_job_t *j, uint32_t *wv)
{
    wr_plan_t plan;
    wr_strbuf_t perr;
    wr_strbuf_init(&perr);
    int rc = wr_plan_build(t, &plan, &perr);
    if (rc) wr_cli_error(S_CMD, NULL, "the job's plan: %s", perr.buf);
    wr_strbuf_release(&perr);
    if (rc) return rc;
    for (*wv = 0; *wv < plan.n && !plan.v[*wv].window;)
        (*wv)++;
    wr_bench_local_opts_t lo = {.tms = S_TMS, .slots = (plan.slots + S_TMS - 1) / S_TMS};
    wr_bench_local_t *l = wr_bench_local_start(S_CMD, &lo);
    if (!l) return WR_EIO;
    char id[WR_JOB_ID_MAX];
    int64_t t0;
    memset(j, 0, sizeof *j);
    rc = wr_bench_local_submit(l, t, id, &t0);
    while (!rc) {
        if ((r->signal = wr_cli_wait_signal(50))) {
            rc = S_STOPPED;
        } else if (wr_bench_local_job(l, id, j)) {
            continue; /* no answer this time */
        } else if (strcmp(j->state, "RUNNING") && strcmp(j->state, "CREATED")) {
            *secs = (double)(wr_now_ns() - t0) / 1e9;
            break;
        } else if (wr_now_ns() - t0 > S_TIMEOUT_MS * 1000000) {
            wr_cli_error(S_CMD, "try fewer --records", "no end after %lld s: canceled",
                         (long long)(S_TIMEOUT_MS / 1000));
            rc = WR_ETIMEDOUT;
        }
    }
    if (rc == S_STOPPED || rc == WR_ETIMEDOUT) wr_bench_local_cancel(l, id);
    if (!rc && (strcmp(j->state, "FINISHED") || j->n <= *wv)) {
        wr_cli_error(S_CMD, NULL, "the job ended %s%s%s", j->state, j->error[0] ? ": " : "",
                     j->error);
        rc = WR_EIO;
    }
    r->hwm_kb = wr_bench_peak_rss_kb();
    wr_bench_local_stop(&l);
    return rc;
}

/* Messages in topic `results`, all still held (none dropped by the mock's retention). */
static int s_results_held(const s_opts_t *o, const char *bootstrap, const char *results,
                          uint64_t *n, wr_strbuf_t *err)
{
    wr_kafka_writer_t *w = wr_kafka_writer_new(bootstrap, NULL, err);
    int rc = w ? 0 : WR_EIO;
    *n = 0;
    for (uint32_t p = 0; !rc && p < o->partitions; p++) {
        int64_t low, high;
        if ((rc = wr_kafka_writer_offsets(w, results, (int32_t)p, &low, &high, err))) break;
        *n += (uint64_t)high;
        if (low) {
            wr_strbuf_addf(err,
                           "the mock dropped %lld results of partition %u (it keeps 5 MiB per "
                           "partition): give more --partitions or fewer --devices",
                           (long long)low, p);
            rc = WR_ETOOBIG;
        }
    }
    wr_kafka_writer_destroy(&w);
    return rc;
}

/* Round i of the job, into its own results topic; checks what it read, fired and wrote. */
static int s_weir(const s_opts_t *o, wr_kafka_mock_t *m, uint32_t i, s_run_t *r)
{
    const char *bootstrap = wr_kafka_mock_bootstraps(m);
    char results[32];
    snprintf(results, sizeof results, "results-%u", i + 1);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    wr_bench_job_t j;
    uint32_t wv = 0;
    uint64_t held = 0;
    int rc = wr_kafka_mock_topic_create(m, results, (int)o->partitions, &err);
    if (rc) wr_cli_error(S_CMD, NULL, "%s", err.buf);
    if (!rc) rc = s_topology(o, bootstrap, results, &t);
    if (!rc) rc = s_job(t, r, &r->weir_s[i], &j, &wv);
    const wr_bench_vertex_t *w = rc ? NULL : &j.v[wv];
    if (w && (uint64_t)j.v[0].records_in != o->records) {
        wr_cli_error(S_CMD, NULL, "the job read %lld readings of %llu",
                     (long long)j.v[0].records_in, (unsigned long long)o->records);
        rc = WR_EIO;
    } else if (w && ((uint64_t)w->windows_fired != r->results || w->late_dropped)) {
        wr_cli_error(S_CMD, NULL,
                     "the window fired %lld results (%lld readings too late), the readings make "
                     "%llu",
                     (long long)w->windows_fired, (long long)w->late_dropped,
                     (unsigned long long)r->results);
        rc = WR_EIO;
    } else if (w && (rc = s_results_held(o, bootstrap, results, &held, &err))) {
        wr_cli_error(S_CMD, NULL, "%s: %s", results, err.buf);
    } else if (w && held != r->results) {
        wr_cli_error(S_CMD, NULL, "%llu messages in topic %s, %llu results fired",
                     (unsigned long long)held, results, (unsigned long long)r->results);
        rc = WR_EIO;
    }
    wr_topology_destroy(&t);
    wr_strbuf_release(&err);
    return rc;
}

/* ---- the run ---- */

/* Round i of the raw consume. */
static int s_raw(const s_opts_t *o, const char *bootstrap, uint32_t i, s_run_t *r)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_kafka_drain_t d;
    /* (with the source's consumer defaults: without them a raw consume stalls as the source
     * did, up to a second at a time, and the ratio measured those stalls) */
    wr_kafka_drain_opts_t dopts = {.quiet_ms = S_QUIET_MS,
                                   .properties = WR_KAFKA_SOURCE_DEFAULTS,
                                   .stop = s_stop_cb,
                                   .stop_ctx = r};
    int rc = wr_kafka_drain(bootstrap, "readings", (int32_t)o->partitions, r->messages, &dopts, &d,
                            &err);
    r->raw_s[i] = (double)(d.last_ns - d.start_ns) / 1e9;
    r->raw_first_s[i] = (double)(d.first_ns - d.start_ns) / 1e9;
    if (!rc && d.lines != o->records) {
        wr_strbuf_addf(&err, "%llu readings read, %llu written", (unsigned long long)d.lines,
                       (unsigned long long)o->records);
        rc = WR_EIO;
    }
    if (rc && rc != S_STOPPED)
        wr_cli_error(S_CMD, NULL, "the raw consume: %s", err.len ? err.buf : wr_strerror(rc));
    wr_strbuf_release(&err);
    return rc;
}

static void s_print_round(const s_opts_t *o, uint32_t i, const s_run_t *r)
{
    double raw = (double)o->records / r->raw_s[i], weir = (double)o->records / r->weir_s[i];
    printf("  round %u: raw consume %6.3f M events/s (%.2f s; first message after %.2f s), "
           "weir %6.3f M events/s (%.2f s), ratio %.3f\n",
           i + 1, raw / 1e6, r->raw_s[i], r->raw_first_s[i], weir / 1e6, r->weir_s[i], weir / raw);
    fflush(stdout);
}

static int s_run(const s_opts_t *o, s_run_t *r)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int64_t *first = calloc(o->devices, sizeof *first), *last = calloc(o->devices, sizeof *last);
    wr_kafka_mock_t *m = wr_kafka_mock_new(S_BROKERS, &err);
    int rc = m && first && last ? 0 : WR_ENOMEM;
    if (!rc) rc = wr_kafka_mock_topic_create(m, "readings", (int)o->partitions, &err);
    if (!rc) {
        rc = s_load(o, wr_kafka_mock_bootstraps(m), first, last, r, &err);
        r->results = s_results(first, last, o->devices);
    }
    if (rc && rc != S_STOPPED)
        wr_cli_error(S_CMD, NULL, "loading the readings: %s", err.len ? err.buf : wr_strerror(rc));
    if (!rc && !o->json)
        printf("  loaded:  %llu messages, %.1f MB of JSON, in %.1f s; they make %llu window "
               "results\n",
               (unsigned long long)r->messages, (double)r->bytes / 1e6, r->load_s,
               (unsigned long long)r->results);
    for (uint32_t i = 0; !rc && i < o->rounds; i++) {
        if (!(rc = s_raw(o, wr_kafka_mock_bootstraps(m), i, r))) rc = s_weir(o, m, i, r);
        if (!rc && !o->json) s_print_round(o, i, r);
    }
    wr_kafka_mock_destroy(&m);
    free(first);
    free(last);
    wr_strbuf_release(&err);
    return rc;
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench kafka [--records N] [--devices N] [--per-message K] [--partitions N]\n"
    "                        [--parallelism N] [--compression C] [--rounds N] [--json]\n"
    "\n"
    "weir's Kafka source end to end against a raw librdkafka consume of the same topic, on\n"
    "librdkafka's mock cluster in this process (3 brokers). The generator's IoT readings (JSON,\n"
    "one object per line) are produced into a topic first, partitioned by device; then, each\n"
    "round:\n"
    "  raw:  one librdkafka consumer reads the whole topic alone (events/s from its start to\n"
    "        its last message)\n"
    "  weir: Kafka source -> key by device -> sliding window 10 min / 1 min (count, sum, min,\n"
    "        max of temperature) -> Kafka sink (at least once, a topic per round), on a\n"
    "        JobManager and 2 TaskManagers in this process; the source ends at the topic's end\n"
    "        (end: latest): events/s from the submission to FINISHED\n"
    "and, of the best round of each, the ratio weir / raw (goal >= 0.7); peak RSS (the mock's\n"
    "copy of the topics included). It fails unless each job read every reading, fired exactly\n"
    "the window results the readings make, and its results topic holds them all.\n"
    "\n"
    "  --records N      readings in all (default 1000000)\n"
    "  --devices N      devices (keys; default 10000), each reporting every 10 s of event time\n"
    "  --per-message K  readings per Kafka message, K lines (default 1; a gateway batches its\n"
    "                   devices' readings)\n"
    "  --partitions N   of the readings and results topics (default 16, at most 256)\n"
    "  --parallelism N  of the job's source and window (default 2)\n"
    "  --compression C  none, gzip, snappy, lz4 or zstd (default lz4): the producers' (the mock\n"
    "                   keeps at most 5 MiB per partition, and fails the run beyond that)\n"
    "  --rounds N       rounds of each (default 3, at most 20)\n"
    "  --json           one JSON object\n";

/* The best round of each (the machine is shared: a neighbour only slows a round down). */
static double s_best(const double *secs, uint32_t n)
{
    double best = secs[0];
    for (uint32_t i = 1; i < n; i++)
        if (secs[i] < best) best = secs[i];
    return best;
}

static void s_print(const s_opts_t *o, const s_run_t *r)
{
    double raw_s = s_best(r->raw_s, o->rounds), weir_s = s_best(r->weir_s, o->rounds);
    double raw = (double)o->records / raw_s, weir = (double)o->records / weir_s;
    bool met = weir >= 0.7 * raw;
    if (!o->json) {
        printf("  raw consume: %6.3f M events/s (best of %u: %.2f s, one librdkafka consumer)\n",
               raw / 1e6, o->rounds, raw_s);
        printf("  weir:        %6.3f M events/s (best of %u: %.2f s from submission to FINISHED)\n",
               weir / 1e6, o->rounds, weir_s);
        printf("  ratio:       %6.3f (weir / raw consume)\n", weir / raw);
        printf("  peak RSS:    %.2f GB (the mock's copy of the topics included)\n",
               (double)r->hwm_kb * 1024 / 1e9);
        printf("  goal weir >= 0.7 of the raw consume: %s\n", met ? "met" : "NOT met");
        return;
    }
    wr_strbuf_t mj, rounds;
    wr_strbuf_init(&mj);
    wr_strbuf_init(&rounds);
    for (uint32_t i = 0; i < o->rounds; i++)
        wr_strbuf_addf(&rounds, "%s{\"raw_s\":%.6f,\"raw_first_message_s\":%.6f,\"weir_s\":%.6f}",
                       i ? "," : "", r->raw_s[i], r->raw_first_s[i], r->weir_s[i]);
    printf("{\"bench\":\"kafka\",%s\"records\":%llu,\"devices\":%llu,\"per_message\":%u,"
           "\"messages\":%llu,\"bytes\":%llu,\"partitions\":%u,\"brokers\":%d,"
           "\"compression\":\"%s\",\"parallelism\":%u,\"taskmanagers\":%d,\"load_s\":%.3f,"
           "\"results\":%llu,\"rounds\":[%s],\"raw_events_per_s\":%.0f,"
           "\"weir_events_per_s\":%.0f,\"ratio\":%.4f,\"peak_rss_bytes\":%lld,"
           "\"goal_ratio\":0.7,\"goal_ratio_met\":%s}\n",
           wr_bench_machine_member(&mj), (unsigned long long)o->records,
           (unsigned long long)o->devices, o->per_message, (unsigned long long)r->messages,
           (unsigned long long)r->bytes, o->partitions, S_BROKERS, o->compression, o->parallelism,
           S_TMS, r->load_s, (unsigned long long)r->results, rounds.failed ? "" : rounds.buf, raw,
           weir, weir / raw, (long long)r->hwm_kb * 1024, met ? "true" : "false");
    wr_strbuf_release(&rounds);
    wr_strbuf_release(&mj);
}

int wr_bench_kafka(int argc, char **argv)
{
    static const struct option opts[] = {{"records", required_argument, NULL, 'r'},
                                         {"devices", required_argument, NULL, 'd'},
                                         {"per-message", required_argument, NULL, 'k'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"parallelism", required_argument, NULL, 'P'},
                                         {"compression", required_argument, NULL, 'c'},
                                         {"rounds", required_argument, NULL, 'R'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    s_opts_t o = {.records = 1000000,
                  .devices = 10000,
                  .per_message = 1,
                  .partitions = 16,
                  .parallelism = 2,
                  .rounds = 3,
                  .compression = "lz4"};
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    uint64_t v;
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        const char *bad = NULL; /* what the option wanted, when its value is wrong */
        switch (c) {
        case 'r':
            if (!wr_cli_count(optarg, 1, UINT64_C(1) << 32, &o.records)) bad = "1 to 2^32";
            break;
        case 'd':
            if (!wr_cli_count(optarg, 1, UINT64_C(1) << 24, &o.devices)) bad = "1 to 2^24";
            break;
        case 'k':
            if (!wr_cli_count(optarg, 1, 10000, &v)) bad = "1 to 10000";
            o.per_message = (uint32_t)v;
            break;
        case 'p':
            if (!wr_cli_count(optarg, 1, S_MAX_PARTS, &v)) bad = "1 to 256";
            o.partitions = (uint32_t)v;
            break;
        case 'P':
            if (!wr_cli_count(optarg, 1, 64, &v)) bad = "1 to 64";
            o.parallelism = (uint32_t)v;
            break;
        case 'c':
            o.compression = NULL;
            for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++)
                if (!strcmp(optarg, codecs[i])) o.compression = codecs[i];
            if (!o.compression) bad = "none, gzip, snappy, lz4 or zstd";
            break;
        case 'R':
            if (!wr_cli_count(optarg, 1, S_MAX_ROUNDS, &v)) bad = "1 to 20";
            o.rounds = (uint32_t)v;
            break;
        case 'J':
            o.json = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (bad) {
            wr_cli_error(S_CMD, "see weir bench kafka --help", "--%s: '%s' is not %s",
                         opts[li].name, optarg, bad);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error(S_CMD, "it takes options only (see weir bench kafka --help)",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    if (!o.json) {
        wr_bench_machine_print(stdout);
        printf("kafka bench: %llu readings of %llu devices, %u per message, %u partitions, %s, "
               "on librdkafka's mock cluster (%d brokers, in this process); the job at "
               "parallelism %u on %d TaskManagers; %u rounds\n",
               (unsigned long long)o.records, (unsigned long long)o.devices, o.per_message,
               o.partitions, o.compression, S_BROKERS, o.parallelism, S_TMS, o.rounds);
        fflush(stdout);
    }
    s_run_t *r = calloc(1, sizeof *r);
    if (!r) {
        wr_cli_error(S_CMD, NULL, "out of memory");
        return WR_EXIT_FAIL;
    }
    int rc = s_run(&o, r), sig = r->signal;
    if (!rc) s_print(&o, r);
    free(r);
    if (sig) return wr_cli_stopped(S_CMD, sig, "stopped");
    return rc ? WR_EXIT_FAIL : WR_EXIT_OK;
}
