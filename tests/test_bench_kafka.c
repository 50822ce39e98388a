/* `weir bench kafka` through the real weir binary, at a small scale, so that the benchmark
 * cannot rot:
 *
 *   - one round, one reading per message, --json: it exits 0 with one JSON object whose figures
 *     add up (events/s = readings / seconds of the best round, the ratio their quotient) and whose
 *     window results are what the readings make, counted here from the generator's readings
 *     themselves (every (device, 1-minute-aligned 10-minute window) that holds a reading: a
 *     set, not the bench's formula)
 *   - --per-message 7: as many messages as each partition's readings make in sevens
 *   - readings that do not fit the mock's 5 MiB a partition: it fails saying so
 *   - SIGTERM while it loads: it exits 128 + 15 saying "SIGTERM received"
 *   - bad options are usage errors
 * WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/generator/generator.h"
#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_RUN_MS   (ps_h.asan ? 240000 : 120000)
#define S_RECORDS  20000
#define S_DEVICES  500
#define S_PARTS    4
#define S_SLIDE_MS 60000
#define S_WINDOWS  10 /* a 10-minute window slides by a minute: each reading is in 10 */

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The generator's first `records` readings (the bench's: its defaults, `devices` devices), as
 * the bench loads them: the distinct (device, window) pairs they fall in, and per partition
 * (device % S_PARTS) how many readings. */
static uint64_t s_expected_results(uint64_t records, uint64_t devices, uint64_t per_part[S_PARTS])
{
    wr_generator_config_t gc;
    wr_generator_config_default(&gc);
    gc.devices = devices;
    gc.total = records;
    wr_generator_t *g = wr_generator_new(&gc);
    assert_non_null(g);
    uint64_t *pairs = ps_alloc(records * S_WINDOWS * sizeof *pairs), n = 0;
    memset(per_part, 0, S_PARTS * sizeof *per_part);
    for (uint64_t o = 0; o < records; o++) {
        wr_generator_record_t rec;
        wr_generator_record(g, o, &rec);
        per_part[rec.device % S_PARTS]++;
        uint64_t minute = (uint64_t)rec.ts / S_SLIDE_MS;
        for (uint64_t k = 0; k < S_WINDOWS; k++) /* the windows starting at minute - k */
            pairs[n++] = (uint64_t)rec.device << 32 | (minute - k);
    }
    wr_generator_destroy(&g);
    qsort(pairs, n, sizeof *pairs, s_cmp_u64);
    uint64_t distinct = 0;
    for (uint64_t i = 0; i < n; i++)
        distinct += !i || pairs[i] != pairs[i - 1];
    return distinct;
}

static const tj_value_t *s_run_json(const char *const args[])
{
    ps_result_t r = ps_run("bench", args, S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir bench kafka exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("not one JSON object:\n%s", r.out);
    return doc;
}

static void test_one_round_json(void **state)
{
    (void)state;
    const tj_value_t *doc =
        s_run_json(PS_ARGV("bench", "kafka", "--records", "20000", "--devices", "500",
                           "--partitions", "4", "--rounds", "1", "--json"));
    uint64_t per_part[S_PARTS];
    uint64_t results = s_expected_results(S_RECORDS, S_DEVICES, per_part);
    assert_string_equal(tj_str(doc, "bench"), "kafka");
    assert_non_null(tj_str(tj_get(doc, "machine"), "cpu"));
    assert_true(tj_num(doc, "records") == S_RECORDS && tj_num(doc, "messages") == S_RECORDS);
    assert_true(tj_num(doc, "partitions") == S_PARTS);
    if (tj_num(doc, "results") != (double)results)
        PS_FAIL("%.0f results, the readings make %llu", tj_num(doc, "results"),
                (unsigned long long)results);
    const tj_value_t *rounds = tj_get(doc, "rounds");
    assert_true(rounds && rounds->type == TJ_ARR && rounds->n == 1);
    double raw_s = tj_num(rounds->items[0], "raw_s"), weir_s = tj_num(rounds->items[0], "weir_s");
    assert_true(raw_s > 0 && weir_s > 0);
    double raw = tj_num(doc, "raw_events_per_s"), weir = tj_num(doc, "weir_events_per_s");
    if (fabs(raw * raw_s / S_RECORDS - 1) > 1e-3 || fabs(weir * weir_s / S_RECORDS - 1) > 1e-3)
        PS_FAIL("%.0f and %.0f events/s, but %d readings in %.3f and %.3f s", raw, weir, S_RECORDS,
                raw_s, weir_s);
    assert_true(fabs(tj_num(doc, "ratio") - weir / raw) < 0.001);
    assert_true(tj_get(doc, "goal_ratio_met")->type == TJ_BOOL);
    assert_true(tj_num(doc, "peak_rss_bytes") > 1e6);
}

static void test_per_message(void **state)
{
    (void)state;
    const tj_value_t *doc =
        s_run_json(PS_ARGV("bench", "kafka", "--records", "20000", "--devices", "500",
                           "--partitions", "4", "--per-message", "7", "--rounds", "1", "--json"));
    uint64_t per_part[S_PARTS], messages = 0;
    uint64_t results = s_expected_results(S_RECORDS, S_DEVICES, per_part);
    for (int p = 0; p < S_PARTS; p++)
        messages += (per_part[p] + 6) / 7;
    if (tj_num(doc, "messages") != (double)messages || tj_num(doc, "results") != (double)results)
        PS_FAIL("%.0f messages and %.0f results, expected %llu and %llu", tj_num(doc, "messages"),
                tj_num(doc, "results"), (unsigned long long)messages, (unsigned long long)results);
}

static void test_retention_exceeded(void **state)
{
    (void)state;
    /* 100,000 readings of ~115 bytes, uncompressed, into one partition: 11 MB, over 5 MiB */
    ps_result_t r = ps_run("bench",
                           PS_ARGV("bench", "kafka", "--records", "100000", "--partitions", "1",
                                   "--compression", "none", "--rounds", "1"),
                           S_RUN_MS);
    if (r.code != 1 || !strstr(r.err, "partition 0 of readings holds messages") ||
        !strstr(r.err, "5 MiB"))
        PS_FAIL("it exited %d:\n%s", r.code, r.err);
}

static void test_sigterm(void **state)
{
    (void)state;
    ps_proc_t *b = ps_start("bench", PS_ARGV("bench", "kafka", "--records", "100000000"), NULL);
    if (ps_wait_text(b, b->out, "kafka bench:", 1, 10000) < 0)
        PS_FAIL("the bench printed no header");
    ps_sleep_ms(200); /* loading */
    kill(b->pid, SIGTERM);
    if (!ps_wait_exit(b, 15000)) PS_FAIL("the bench did not exit after SIGTERM");
    if (ps_exit_code(b) != 128 + SIGTERM) PS_FAIL("it exited %d after SIGTERM", ps_exit_code(b));
    if (!strstr(ps_read_file(b->err), "SIGTERM received")) PS_FAIL("it did not say why it ended");
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *const *cases[] = {
        PS_ARGV("bench", "kafka", "--records", "0"),
        PS_ARGV("bench", "kafka", "--per-message", "x"),
        PS_ARGV("bench", "kafka", "--partitions", "257"),
        PS_ARGV("bench", "kafka", "--compression", "brotli"),
        PS_ARGV("bench", "kafka", "--rounds", "21"),
        PS_ARGV("bench", "kafka", "extra"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_result_t r = ps_run("bad", cases[i], 10000);
        if (r.code != 2 || !strstr(r.err, "weir bench kafka:"))
            PS_FAIL("case %zu exited %d:\n%s", i, r.code, r.err);
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_bench_kafka", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_one_round_json), S_TEST(test_per_message), S_TEST(test_retention_exceeded),
        S_TEST(test_sigterm),        S_TEST(test_bad_options),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir bench kafka", tests, s_group_setup, ps_group_teardown);
}
