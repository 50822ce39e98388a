/* Kafka jobs end to end, with real processes: `weir kafka-mock` (librdkafka's mock cluster) as the
 * brokers, Debian's kcat as the outside client that produces the input and reads the output, and
 * `weir local` or a cluster of `weir` processes running the job (tests/support/kafka.h, jobs.h).
 *
 * The input: D devices, one reading a second each over 10 min of event time, as JSON lines; device
 * d's readings go to partition d mod 3 of a 4-partition topic (partition 3 stays empty), in event
 * time order. The oracle: the same lines in one file, read by a file source in the same job (keyed
 * sliding windows of 2 min every 10 s, count and sum, into an exactly-once file sink). Nothing is
 * late (the jitter is within max_out_of_orderness), so the results do not depend on timing.
 *
 *   - a Kafka source (bounded: end: latest) gives the file's results at parallelism 1, 2 and 4
 *   - malformed messages: on_error skip gives the same results and counts them; on_error fail
 *     fails the job naming the partition and offset; a topic that does not exist fails at start
 *   - every broker down for 3 s while a job reads, then up: the same results
 *   - exactly once through failures, on a JobManager and two TaskManagers: the job reads a
 *     stream that the test writes while it runs (a larger input, in 24 pieces of event time), a
 *     TaskManager is killed -9 twice at random moments, and once the source's group offsets say
 *     it read everything, `weir stop --drain` ends it. Into an exactly-once file sink: its
 *     committed output is the file run's, line for line. Into an exactly-once Kafka sink: the
 *     messages in committed transactions (each message's weir.txn header, against the sink's
 *     transaction log: the 2.0.2 mock does not hide aborted transactions from read_committed
 *     consumers, so the log is what tells them apart) are the file run's results, each once,
 *     none missing, none extra. The mock does not fence an older producer of a transactional
 *     id either, so what this shows is the protocol: what the recovery aborted and re-sent, not
 *     a broker refusing a zombie (tests/test_kafka_sink.c injects that refusal).
 * WEIR_TEST_FILTER=PATTERN runs only the matching tests; WEIR_TEST_SEED=N changes the kills. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/strbuf.h"
#include "tests/support/jobs.h"
#include "tests/support/kafka.h"
#include "actors/connectors/kafka/kafka_txnlog.h"

#define S_JOB_MS    120000
#define S_TOPIC     "readings"
#define S_RESULTS   "results"
#define S_EVENT_S   600           /* event time the input covers */
#define S_T0_MS     1700000000000 /* its first reading */
#define S_BAD_LINES 3             /* malformed messages of the on_error tests */
/* The jobs that a slow sink stretches (its `delay` after each batch) also run with 2 credits per
 * channel, not 32: the window's few result batches then hold it back, and it the source, so that
 * the source is still reading while the brokers are down or a TaskManager is killed. */
#define S_FEW_CREDITS "bus.channel-credits=2"
#define S_SLOW_SINK   "delay: 200ms"

/* The input's size: devices (the kill tests' is larger, so that the job runs a while). */
static unsigned s_devices(bool long_job)
{
    return long_job ? (ps_h.asan ? 120 : 300) : 60;
}

/* Device d's i-th reading: within 1.5 s of its second (max_out_of_orderness is 2 s). */
static const char *s_reading(unsigned d, unsigned i)
{
    long long ts = S_T0_MS + (long long)i * 1000 + (long long)((d * 7919u + i * 104729u) % 1500);
    return ps_fmt("{\"device\": %u, \"ts\": %lld, \"temperature\": %u.%u}", d, ts,
                  15 + (d + i) % 20, (d * 3 + i) % 10);
}

/* Produces the input into the mock (partition d mod 3) and writes the same lines into one file,
 * in event-time order; returns the file's path. bad adds S_BAD_LINES malformed messages to
 * partition 1 (not to the file). */
static const char *s_input(const tk_mock_t *k, unsigned devices, bool bad)
{
    size_t per = (size_t)S_EVENT_S * devices, np[3] = {0};
    const char **part[3];
    for (int p = 0; p < 3; p++)
        part[p] = ps_alloc((per / 3 + devices + S_BAD_LINES) * sizeof(char *));
    wr_strbuf_t file;
    wr_strbuf_init(&file);
    for (unsigned i = 0; i < S_EVENT_S; i++) {
        for (unsigned d = 0; d < devices; d++) {
            const char *line = s_reading(d, i);
            part[d % 3][np[d % 3]++] = line;
            wr_strbuf_addf(&file, "%s\n", line);
        }
        if (bad && i % (S_EVENT_S / S_BAD_LINES) == 7)
            part[1][np[1]++] = i % 2 ? "{\"device\": \"seven\", \"ts\": 1, \"temperature\": 1}"
                                     : "this is not json";
    }
    for (int p = 0; p < 3; p++)
        tk_produce(k->bootstrap, S_TOPIC, p, part[p], np[p], NULL);
    const char *path = ps_path(bad ? "input-bad.jsonl" : "input.jsonl");
    ps_write_file(path, file.buf);
    wr_strbuf_release(&file);
    return path;
}

/* The job's topology NAME.yaml at parallelism p from `source` (a flow mapping) into `sink`. */
static const char *s_topology(const char *name, unsigned p, const char *source, const char *sink)
{
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(path, ps_fmt("name: %s\nparallelism: %u\n"
                               "schema: {device: int, ts: time, temperature: double}\n"
                               "sources:\n  - %s\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                               "window: {type: sliding, size: 2min, slide: 10s}\n"
                               "aggregates:\n  n: count()\n  s: sum(temperature)\n"
                               "sinks:\n  - %s\n",
                               name, p, source, sink));
    return path;
}

/* A Kafka source of the input at parallelism p (bounded: it ends where the topic ends when the
 * job starts; the empty partition is done at once), with more keys (", on_error: skip"). No
 * partition ever counts as idle (idle_timeout 0): one that is only slow (its broker down, a
 * loaded machine) would let the watermark pass its records, which then come late. */
static const char *s_kafka_source(const tk_mock_t *k, unsigned p, const char *more)
{
    return ps_fmt("{type: kafka, parallelism: %u, bootstrap.servers: '%s', topic: %s, end: latest, "
                  "idle_timeout: 0s%s}",
                  p, k->bootstrap, S_TOPIC, more);
}

/* The mock of the longer jobs: its topic has 3 partitions, all with input (the kill tests read it
 * as a stream, in which an empty partition would hold the watermark back for good: no partition
 * counts as idle), and a topic for the Kafka sink's results. */
static tk_mock_t *s_stretched_mock(void)
{
    return tk_mock_start("kafka",
                         PS_ARGV("--topic", S_TOPIC, "--topic", S_RESULTS, "--partitions", "3"));
}

static const char *s_file_sink(const char *out, const char *more)
{
    return ps_fmt("{type: file, path: %s, exactly_once: true%s}", out, more);
}

/* The oracle: the input file through the same job, `weir local`. */
static pj_output_t s_reference(const char *input)
{
    const char *out = ps_path("reference");
    const char *topo =
        s_topology("reference", 2, ps_fmt("{type: file, path: %s}", input), s_file_sink(out, ""));
    return pj_local("local-reference", topo, out, S_JOB_MS);
}

/* ---- the Kafka source ---- */

static void test_same_results_as_the_file(void **state)
{
    (void)state;
    tk_mock_t *k = tk_mock_start("kafka", PS_ARGV("--topic", S_TOPIC, "--partitions", "4"));
    pj_output_t want = s_reference(s_input(k, s_devices(false), false));
    static const unsigned pars[] = {1, 2, 4};
    for (size_t i = 0; i < sizeof pars / sizeof pars[0]; i++) {
        const char *name = ps_fmt("kafka-p%u", pars[i]), *out = ps_path(name);
        const char *topo =
            s_topology(name, 2, s_kafka_source(k, pars[i], ""), s_file_sink(out, ""));
        pj_output_t got = pj_local(name, topo, out, S_JOB_MS);
        pj_expect_same(ps_fmt("the Kafka source at parallelism %u", pars[i]), &got, &want);
        print_message("  parallelism %u: %zu results, the file's\n", pars[i], got.n);
    }
    tk_mock_stop(k);
}

static void test_malformed_messages(void **state)
{
    (void)state;
    tk_mock_t *k = tk_mock_start("kafka", PS_ARGV("--topic", S_TOPIC, "--partitions", "4"));
    pj_output_t want = s_reference(s_input(k, s_devices(false), true));

    /* skip: the good records' results, and the count */
    const char *out = ps_path("skip");
    ps_result_t r = ps_run("local-skip",
                           PS_ARGV("local",
                                   s_topology("skip", 2, s_kafka_source(k, 2, ", on_error: skip"),
                                              s_file_sink(out, "")),
                                   "--set", "execution.checkpointing.interval=1s", "--set",
                                   ps_fmt("state.checkpoints.dir=%s", ps_path("skip-ck"))),
                           S_JOB_MS);
    if (r.code != 0) PS_FAIL("weir local (skip) exited %d:\n%s", r.code, r.err);
    const char *says = ps_fmt("%d bad input lines skipped", S_BAD_LINES);
    if (!strstr(r.out, says) && !strstr(r.err, says))
        PS_FAIL("weir local does not say '%s':\n%s\n%s", says, r.out, r.err);
    pj_output_t got = pj_committed(out);
    pj_expect_same("on_error: skip", &got, &want);

    /* fail: the job fails, naming where */
    out = ps_path("fail");
    r = ps_run(
        "local-fail",
        PS_ARGV("local", s_topology("fail", 2, s_kafka_source(k, 2, ""), s_file_sink(out, ""))),
        S_JOB_MS);
    if (r.code == 0 || !strstr(r.err, S_TOPIC "/1@"))
        PS_FAIL("on_error: fail: weir local exited %d without naming " S_TOPIC "/1@OFFSET:\n%s",
                r.code, r.err);

    /* a topic that does not exist */
    r = ps_run("local-nope",
               PS_ARGV("local", s_topology("nope", 1,
                                           ps_fmt("{type: kafka, bootstrap.servers: '%s', topic: "
                                                  "nope, end: latest}",
                                                  k->bootstrap),
                                           s_file_sink(ps_path("nope"), ""))),
               S_JOB_MS);
    if (r.code == 0 || !strstr(r.err, "'nope' does not exist"))
        PS_FAIL("a missing topic: weir local exited %d:\n%s", r.code, r.err);
    tk_mock_stop(k);
}

static void test_brokers_down_and_up(void **state)
{
    (void)state;
    tk_mock_t *k = s_stretched_mock();
    pj_output_t want = s_reference(s_input(k, s_devices(true), false));
    const char *out = ps_path("down");
    /* a slow sink keeps the job reading for a while */
    const char *topo =
        s_topology("down", 2, s_kafka_source(k, 2, ""), s_file_sink(out, ", " S_SLOW_SINK));
    ps_proc_t *p = ps_start("local-down",
                            PS_ARGV("local", topo, "--set", "execution.checkpointing.interval=1s",
                                    "--set", S_FEW_CREDITS, "--set",
                                    ps_fmt("state.checkpoints.dir=%s", ps_path("down-ck"))),
                            NULL);
    ps_sleep_ms(1500);
    if (!ps_running(p)) PS_FAIL("the job ended before the brokers went down: make it longer");
    tk_control(k, "down all");
    ps_sleep_ms(3000);
    tk_control(k, "up all");
    if (!ps_wait_exit(p, S_JOB_MS) || ps_exit_code(p) != 0)
        PS_FAIL("weir local exited %d:\n%s", ps_exit_code(p), ps_read_file(p->err));
    pj_output_t got = pj_committed(out);
    pj_expect_same("brokers down for 3 s", &got, &want);
    tk_mock_stop(k);
}

/* ---- exactly once through TaskManager kills ---- */

/* xorshift64: the kill schedule, the same for the same seed. */
static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

#define S_CHUNKS     24 /* the input comes in this many pieces while the job runs */
#define S_CHUNK_MS   350
#define S_KILL_AT_1  6 /* after these pieces (ASan: the same) */
#define S_KILL_AT_2  15
#define S_KILL_GROUP "eo-kills"

/* The kill tests' job reads a stream (end: none) that the test writes while the job runs, in
 * S_CHUNKS pieces of event time, each device's readings in order in its partition; a TaskManager
 * is killed -9 twice on the way. Once the source's group holds offsets at the end of every
 * partition (it commits those of each completed checkpoint), `weir stop --savepoint --drain`
 * ends event time, so every window fires and commits, and the job ends. The same lines make the
 * file the reference run reads. Returns the file. */
static const char *s_run_with_kills(const tk_mock_t *k, const char *sink)
{
    unsigned devices = s_devices(true);
    size_t per = (size_t)S_EVENT_S * devices / S_CHUNKS + devices;
    const char *path = ps_path("input.jsonl");
    ps_write_file(path, "");

    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=500ms"));
    const char *topo = s_topology(
        "eo", 2,
        ps_fmt("{type: kafka, parallelism: 2, bootstrap.servers: '%s', topic: %s, group: %s, "
               "idle_timeout: 0s}",
               k->bootstrap, S_TOPIC, S_KILL_GROUP),
        sink);
    const char *id = pj_submit(&c, topo);
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    const char *seed_env = getenv("WEIR_TEST_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20261205, x = seed | 1;
    print_message("  seed %llu (WEIR_TEST_SEED)\n", (unsigned long long)seed);
    int kills = 0;
    long long attempt = 0;
    for (unsigned chunk = 0; chunk < S_CHUNKS; chunk++) {
        const char **part[3];
        size_t np[3] = {0};
        for (int p = 0; p < 3; p++)
            part[p] = ps_alloc(per * sizeof(char *));
        wr_strbuf_t text; /* (released before anything can fail the test) */
        wr_strbuf_init(&text);
        for (unsigned i = chunk * S_EVENT_S / S_CHUNKS; i < (chunk + 1) * S_EVENT_S / S_CHUNKS;
             i++) {
            for (unsigned d = 0; d < devices; d++) {
                const char *line = s_reading(d, i);
                part[d % 3][np[d % 3]++] = line;
                wr_strbuf_addf(&text, "%s\n", line);
            }
        }
        FILE *f = fopen(path, "a");
        bool wrote = f && fwrite(text.buf, 1, text.len, f) == text.len;
        if (f && fclose(f)) wrote = false;
        wr_strbuf_release(&text);
        if (!wrote) PS_FAIL("cannot append to %s", path);
        for (int p = 0; p < 3; p++)
            tk_produce(k->bootstrap, S_TOPIC, p, part[p], np[p], NULL);
        ps_sleep_ms(S_CHUNK_MS);
        if (chunk + 1 != S_KILL_AT_1 && chunk + 1 != S_KILL_AT_2) continue;
        /* a TaskManager with subtasks, at a random moment of the next piece */
        ps_sleep_ms((int)(s_rand(&x) % S_CHUNK_MS));
        const char *job = pj_job(&c, id);
        int tm = kills % 2;
        if (!pj_hosts(job, pc_tm_ids[tm])) tm = 1 - tm;
        ps_kill9(c.tm[tm]);
        ps_release(c.tm[tm]);
        kills++;
        ps_sleep_ms(200 + (int)(s_rand(&x) % 500));
        pc_tm_start(&c, tm);
        pc_wait_joined(&c, tm, (size_t)c.tm_starts[tm]);
        job = pj_wait_job(&c, id, "ALL-RUNNING", attempt + 1, S_JOB_MS);
        attempt = pj_jnum(job, "attempt");
        print_message("  kill %d of %s after piece %u: running again (attempt %lld, from "
                      "checkpoint %lld)\n",
                      kills, pc_tm_ids[tm], chunk + 1, attempt, pj_jnum(job, "latest_checkpoint"));
    }
    /* everything read, as the group's offsets of a completed checkpoint say */
    int64_t until = ps_now_ms() + S_JOB_MS;
    for (;;) {
        tk_msgs_t left = tk_consume(k->bootstrap, S_TOPIC,
                                    PS_ARGV("-X", "group.id=" S_KILL_GROUP, "-o", "stored"));
        if (!left.n) break;
        if (ps_now_ms() > until) PS_FAIL("the job's group is still %zu messages behind", left.n);
        ps_sleep_ms(300);
    }
    ps_result_t r = pc_cli(&c, PS_ARGV("stop", id, "--savepoint", ps_path("sp"), "--drain"));
    if (r.code != 0) PS_FAIL("weir stop --drain exited %d:\n%s", r.code, r.err);
    const char *job = pj_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    if (pj_jnum(job, "restarts") < kills)
        PS_FAIL("%d kills, yet `weir job` reports %lld restarts", kills,
                (long long)pj_jnum(job, "restarts"));
    pc_cluster_stop(&c);
    return path;
}

static void test_exactly_once_into_files(void **state)
{
    (void)state;
    tk_mock_t *k = s_stretched_mock();
    const char *out = ps_path("out");
    const char *input = s_run_with_kills(k, s_file_sink(out, ""));
    pj_output_t want = s_reference(input);
    pj_output_t got = pj_committed(out);
    pj_expect_same("after the kills", &got, &want);
    print_message("  %zu results, the uninterrupted run's\n", got.n);
    tk_mock_stop(k);
}

/* The results of the exactly-once Kafka sink: each message whose weir.txn header names a
 * transaction the sink's log says committed (the mock does not hide aborted ones), sorted. */
static pj_output_t s_committed_messages(const tk_mock_t *k, const char *txn_log, size_t *dropped)
{
    wr_kafka_txnlog_t log = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    if (wr_kafka_txnlog_load(txn_log, "weir", &log, &err))
        PS_FAIL("the sink's transaction log: %s", err.buf);
    tk_msgs_t all = tk_consume(k->bootstrap, S_RESULTS, NULL);
    pj_output_t o = {.lines = ps_alloc((all.n ? all.n : 1) * sizeof(char *)), .hidden = ""};
    *dropped = 0;
    for (size_t i = 0; i < all.n; i++) {
        const char *h = strstr(all.v[i].headers, "weir.txn=");
        if (!h) PS_FAIL("a result without its weir.txn header: %s", all.v[i].payload);
        h += strlen("weir.txn=");
        size_t len = strcspn(h, ",");
        if (!wr_kafka_txnlog_committed(&log, "weir", h, len)) {
            ++*dropped;
            continue;
        }
        o.lines[o.n++] = (char *)all.v[i].payload;
    }
    ps_sort_strings(o.lines, o.n);
    wr_kafka_txnlog_release(&log);
    wr_strbuf_release(&err);
    return o;
}

static void test_exactly_once_into_kafka(void **state)
{
    (void)state;
    tk_mock_t *k = s_stretched_mock();
    const char *txn_log = ps_path("txn");
    const char *input = s_run_with_kills(
        k, ps_fmt("{type: kafka, bootstrap.servers: '%s', topic: %s, key: device, guarantee: "
                  "exactly-once, transaction_log: %s}",
                  k->bootstrap, S_RESULTS, txn_log));
    pj_output_t want = s_reference(input);
    size_t dropped;
    pj_output_t got = s_committed_messages(k, txn_log, &dropped);
    print_message("  %zu results in committed transactions, %zu messages of others left out\n",
                  got.n, dropped);
    pj_expect_same("in committed transactions, after the kills", &got, &want);
    tk_mock_stop(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_results_as_the_file, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_messages, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_brokers_down_and_up, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_exactly_once_into_files, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_exactly_once_into_kafka, ps_setup, ps_teardown),
    };
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    if (tk_group_setup("test_kafka_job")) return 1;
    return cmocka_run_group_tests(tests, NULL, ps_group_teardown);
}
