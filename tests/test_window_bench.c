/* weir bench window, run small: the figures it prints are the ones docs/performance.md quotes, so
 * they must add up. The phase split (ingest, firing sweeps, end-of-input firing) must cover the
 * timed work and the end-of-input firing must emit exactly the windows the stream left open: with
 * no out-of-orderness every key has data in every minute pane of the span, so every key fires
 * span/slide + size/slide - 1 windows in all, the ones during the stream counted by weir and by
 * the Flink-style yardstick alike. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_KEYS   50
#define S_EVENTS 20000 /* 30 ms apart over 10 min: ~40 records per key and pane */
#define S_SPAN   10    /* min */
#define S_SIZE   10    /* min */

static const char *const s_args[] = {"bench",  "window", "--keys",     "50",    "--events",
                                     "20000",  "--span", "10min",      "--ooo", "0",
                                     "--size", "10min",  "--slide",    "1min",  "--rounds",
                                     "1",      "--only", "weir,flink", NULL};

static ps_result_t s_bench(bool json)
{
    const char *argv[PS_MAX_ARGS];
    size_t n = ps_append(argv, 0, s_args);
    if (json) n = ps_append(argv, n, PS_ARGV("--json"));
    return ps_run(json ? "bench-json" : "bench", argv, 120000);
}

static void test_phases_add_up_and_end_firing_emits_every_open_window(void **state)
{
    (void)state;
    ps_result_t r = s_bench(true);
    if (r.code != 0) PS_FAIL("bench window exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    const tj_value_t *weir = tj_get(doc, "weir"), *flink = tj_get(doc, "flink_style");
    assert_non_null(weir);
    assert_non_null(flink);
    assert_true(tj_get(doc, "results_agree")->num == 1);
    const tj_value_t *machine = tj_get(doc, "machine"); /* every benchmark names its machine */
    if (!machine || !tj_str(machine, "cpu") || isnan(tj_num(machine, "cores")))
        PS_FAIL("the machine is not named:\n%s", r.out);

    double secs = tj_num(weir, "seconds"), ingest = tj_num(weir, "ingest_seconds"),
           sweep = tj_num(weir, "sweep_seconds"), end = tj_num(weir, "end_firing_seconds");
    if (isnan(ingest) || isnan(sweep) || isnan(end)) PS_FAIL("no phase split:\n%s", r.out);
    assert_true(ingest > 0 && sweep >= 0 && end >= 0);
    assert_true(fabs(ingest + sweep - secs) <= 0.0006); /* seconds is printed to the ms */

    double fired = tj_num(weir, "windows_fired"), end_fired = tj_num(weir, "end_windows_fired");
    assert_true(fired == tj_num(flink, "windows_fired"));
    assert_true(end_fired > 0);
    assert_true(fired + end_fired == (double)S_KEYS * (S_SPAN + S_SIZE - 1));
}

static void test_text_output_names_the_phases(void **state)
{
    (void)state;
    ps_result_t r = s_bench(false);
    if (r.code != 0) PS_FAIL("bench window exited %d:\n%s%s", r.code, r.out, r.err);
    assert_int_equal(ps_count(r.out, "phases: ingest "), 1);
    assert_int_equal(ps_count(r.out, "end-of-input firing "), 1);
    /* 50 keys x 19 windows: 450 fire during the stream, 500 at its end */
    assert_int_equal(ps_count(r.out, "windows fired       450"), 2);
    assert_int_equal(ps_count(r.out, "for 500 windows"), 1);
}

static void test_bare_stride_spreads_the_table(void **state)
{
    (void)state;
    ps_result_t r = ps_run("bare",
                           PS_ARGV("bench", "window", "--keys", "50", "--events", "20000", "--only",
                                   "bare", "--rounds", "1", "--bare-stride", "220", "--json"),
                           120000);
    if (r.code != 0) PS_FAIL("bench window exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    /* 50 keys: 50 + 50/3 + 1024 slots, 220 bytes apart */
    assert_true(tj_num(tj_get(doc, "bare"), "state_bytes") == 1090.0 * 220);
    r = ps_run("bad", PS_ARGV("bench", "window", "--only", "bare", "--bare-stride", "35"), 10000);
    assert_int_equal(r.code, 2);
    assert_int_equal(ps_count(r.err, "bad value '35'"), 1);
}

/* --state fills exactly keys x size/slide panes with the memory engine. */
static void test_state_fills_every_pane(void **state)
{
    (void)state;
    ps_result_t r = ps_run(
        "state",
        PS_ARGV("bench", "window", "--state", "--keys", "1000", "--events", "1000", "--json"),
        120000);
    if (r.code != 0) PS_FAIL("bench window --state exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    assert_true(tj_num(doc, "keys_live") == 1000);
    assert_true(tj_num(doc, "panes_live") == 10000);
    assert_true(tj_num(doc, "spill_panes") == 0);
}

/* --p95 runs weir without and with p95 on both backends: the same windows, the four runs'
 * figures and the ratios with p95 / without (by wall and by CPU time) in one run. */
static void test_p95_ratios_on_both_backends(void **state)
{
    (void)state;
    const char *dir = ps_path("."); /* rocksdb's temporary store: removed by the bench */
    ps_result_t r = ps_run("p95",
                           PS_ARGV("bench", "window", "--keys", "50", "--events", "20000", "--span",
                                   "10min", "--rounds", "1", "--p95", "--backend", "rocksdb",
                                   "--state-dir", dir, "--json"),
                           120000);
    if (r.code != 0) PS_FAIL("bench window --p95 exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) PS_FAIL("no JSON object:\n%s", r.out);
    assert_true(tj_get(doc, "results_agree")->num == 1);
    assert_null(tj_get(doc, "flink_style")); /* --p95 alone: weir's runs only */
    static const char *const runs[] = {"weir", "weir_p95", "weir_rocksdb", "weir_rocksdb_p95"};
    for (int i = 0; i < 4; i++) {
        const tj_value_t *x = tj_get(doc, runs[i]);
        if (!x) PS_FAIL("no %s run:\n%s", runs[i], r.out);
        assert_true(tj_num(x, "windows_fired") == tj_num(tj_get(doc, "weir"), "windows_fired"));
        /* the thread's CPU time in the timed calls: within their wall time (printed to the ms) */
        double cpu = tj_num(x, "cpu_seconds");
        if (isnan(cpu) || cpu < 0 || cpu > tj_num(x, "seconds") + 0.0015)
            PS_FAIL("%s: cpu_seconds %f against seconds %f", runs[i], cpu, tj_num(x, "seconds"));
    }
    static const char *const ratios[] = {"ratio_p95_memory", "ratio_p95_memory_cpu",
                                         "ratio_p95_rocksdb", "ratio_p95_rocksdb_cpu"};
    for (int i = 0; i < 4; i++)
        if (!(tj_num(doc, ratios[i]) > 0)) PS_FAIL("no %s:\n%s", ratios[i], r.out);
    assert_true(tj_num(doc, "goal_ratio_p95") == 0.6);
    assert_int_equal(ps_entries_named(dir, "weir-bench-window."), 0); /* its store removed */
    ps_result_t t = ps_run(
        "p95-text",
        PS_ARGV("bench", "window", "--keys", "50", "--events", "20000", "--rounds", "1", "--p95"),
        120000);
    if (t.code != 0) PS_FAIL("bench window --p95 exited %d:\n%s%s", t.code, t.out, t.err);
    assert_int_equal(ps_count(t.out, "memory  with p95 / without: "), 1);
    assert_int_equal(ps_count(t.out, "rocksdb with p95"), 0); /* no rocksdb run asked */
}

/* SIGTERM during a run stops the bench at once: it exits 128 + 15 saying so, having killed and
 * reaped the run's process and removed the rocksdb run's temporary store. (weir blocks SIGINT and
 * SIGTERM to wait for them; a command that never waits for them would ignore both.) */
static void test_sigterm_stops_the_run_and_removes_its_store(void **state)
{
    (void)state;
    const char *dir = ps_path("stores");
    assert_int_equal(mkdir(dir, 0700), 0);
    /* the memory runs first (the yardstick), then rocksdb's: about a second each, more under
     * ASan; two rounds, so that a SIGTERM held up past one rocksdb run still finds another */
    ps_proc_t *p =
        ps_start("bench",
                 PS_ARGV("bench", "window", "--keys", "20000", "--events",
                         ps_h.asan ? "10000000" : "30000000", "--span", "10min", "--rounds", "2",
                         "--only", "weir", "--backend", "rocksdb", "--state-dir", dir),
                 NULL);
    /* the store is made before the fork: a rocksdb run is under way once both exist */
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)p->pid, (int)p->pid);
    int64_t deadline = ps_now_ms() + 120000;
    int child = 0;
    while (ps_entries_named(dir, "weir-bench-window.") < 1 ||
           (child = atoi(ps_read_file(path))) <= 0) {
        if (!ps_running(p) || ps_now_ms() > deadline)
            PS_FAIL("no rocksdb run under way (its store in %s, its process)", dir);
        ps_sleep_ms(10);
    }
    ps_expect_sigterm_stop(p, 5000);
    assert_int_equal(ps_entries_named(dir, "weir-bench-window."), 0); /* the store removed */
    errno = 0;
    assert_int_equal(kill(child, 0), -1); /* killed and reaped: no such process, not a zombie */
    assert_int_equal(errno, ESRCH);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_window_bench", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_phases_add_up_and_end_firing_emits_every_open_window),
        S_TEST(test_text_output_names_the_phases),
        S_TEST(test_bare_stride_spreads_the_table),
        S_TEST(test_state_fills_every_pane),
        S_TEST(test_p95_ratios_on_both_backends),
        S_TEST(test_sigterm_stops_the_run_and_removes_its_store),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir bench window: its figures add up", tests,
                                       s_group_setup, ps_group_teardown);
}
