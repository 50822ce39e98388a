/* Backpressure end to end, through the real weir binary: with a sink slowed on purpose (`delay`),
 *
 *   - the source waits for credit (its backpressure counter, as `weir job` shows it), the job takes
 *     as long as the sink needs, memory stays bounded whatever the input's size, and every record
 *     arrives exactly once
 *   - a window firing of millions of results into that slow sink pauses its sweep instead of
 *     queueing them: memory stays bounded by what the sink takes, not by what the window fired
 *
 * Each compares the peak resident set of a small run and a large one of `weir local`. Results
 * against the oracle are test_pipeline.c. Needs WEIR_BIN (the weir binary of the same build mode);
 * `scons test` sets it. An ASan build runs smaller jobs. tests/support/process.h is the harness
 * (cleanup, logs on failure). WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/generator/generator.h"
#include "bus/base/strbuf.h"
#include "tests/support/pipeline_oracle.h"
#include "tests/support/process.h"

#define S_JOB_MS   120000 /* one job runs to completion (ASan builds are slow) */
#define S_START_MS 15000  /* `weir local` submits its job */
#define S_CLI_MS   20000  /* a short CLI command; `weir local` exits after its job */

/* ---- watching a run of `weir local` ---- */

/* The generator's backpressure in the `weir job ID --json` that p printed (-1 if it did not). */
static int64_t s_source_backpressure(ps_proc_t *p)
{
    const char *out = ps_read_file(p->out), *gen = strstr(out, "\"name\":\"generator\"");
    const char *bp = gen ? strstr(gen, "\"backpressure\":") : NULL;
    return ps_exit_code(p) == 0 && bp ? strtoll(bp + strlen("\"backpressure\":"), NULL, 10) : -1;
}

/* The highest back-pressured time per second (backpressure_ms_per_s) of the generator's subtasks
 * in the `weir job ID --json` that p printed (-1 if it did not). */
static int64_t s_source_blocked_per_s(ps_proc_t *p)
{
    const char *out = ps_read_file(p->out), *gen = strstr(out, "\"name\":\"generator\"");
    const char *next = gen ? strstr(gen + 1, "\"name\":") : NULL; /* the next operator */
    int64_t most = -1;
    static const char key[] = "\"backpressure_ms_per_s\":";
    for (const char *at = gen;
         ps_exit_code(p) == 0 && at && (at = strstr(at, key)) && (!next || at < next);
         at += sizeof key - 1) {
        int64_t v = strtoll(at + sizeof key - 1, NULL, 10);
        if (v > most) most = v;
    }
    return most;
}

/* The peak resident set of a process so far (VmHWM), in kB; 0 once it is gone. */
static int64_t s_peak_rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    int64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtoll(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

typedef struct {
    int64_t ms, peak_rss_kb, backpressure, blocked_per_s;
} s_run_t;

/* Generator (2 subtasks) -> map (1) -> a file sink that pauses 1 ms per batch; runs it with
 * `weir local` reachable on a port, watching its memory and asking `weir job` about the source. */
static s_run_t s_slow_sink_job(const char *tag, uint64_t total)
{
    char name[64], ep[64];
    snprintf(name, sizeof name, "%s.yaml", tag);
    const char *topology = ps_path(name);
    snprintf(name, sizeof name, "%s.jsonl", tag);
    const char *out = ps_path(name);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_addf(
        &sb,
        "name: %s\nsources:\n  - {type: generator, devices: 1000, total: %llu, seed: 81, "
        "parallelism: 2}\noperators:\n  - {map: {device: device, ts: ts}, parallelism: 1}\n"
        "sinks:\n  - {type: file, path: %s, delay: 1ms}\n",
        tag, (unsigned long long)total, out);
    ps_write_file(topology, sb.buf);
    wr_strbuf_release(&sb);

    s_run_t run = {.backpressure = -1, .blocked_per_s = -1};
    ps_proc_t *p = NULL;
    for (int attempt = 0;; attempt++) {
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", ps_free_port());
        p = ps_start(tag, PS_ARGV("local", topology, "--bind", ep), ps_h.daemon_env);
        /* the CLI's own line ("weir: job ID submitted"), not the JobManager's log line before it */
        if (ps_wait_text(p, p->err, " submitted\n", 1, S_START_MS) >= 0) break;
        bool taken = strstr(ps_read_file(p->err), "cannot start the JobManager");
        if (attempt < 3 && !ps_running(p) && taken) { /* the port was taken in between */
            ps_release(p);
            continue;
        }
        PS_FAIL("weir local did not submit its job");
    }
    int64_t t0 = ps_now_ms();
    const char *sub = strstr(ps_read_file(p->err), "weir: job ");
    char id[32] = "";
    if (!sub || sscanf(sub, "weir: job %31s submitted", id) != 1)
        PS_FAIL("no job id from weir local");
    /* ask `weir job` about the source every 300 ms or so (subtasks report every second) */
    ps_proc_t *ask = NULL;
    int64_t next_ask = 0;
    while (ps_running(p)) {
        int64_t kb = s_peak_rss_kb(p->pid);
        if (kb > run.peak_rss_kb) run.peak_rss_kb = kb;
        if (ask && !ps_running(ask)) {
            int64_t bp = s_source_backpressure(ask), per_s = s_source_blocked_per_s(ask);
            if (bp > run.backpressure) run.backpressure = bp;
            if (per_s > run.blocked_per_s) run.blocked_per_s = per_s;
            ps_release(ask);
            ask = NULL;
            next_ask = ps_now_ms() + 300;
        }
        if (!ask && ps_now_ms() >= next_ask)
            ask = ps_start("job",
                           PS_ARGV("job", id, "--json", "--jobmanager", ep, "--set",
                                   "client.timeout=1s", "--set",
                                   "security.curve=off"), /* weir local --bind: no keys */
                           NULL);
        if (ps_now_ms() - t0 > S_JOB_MS) PS_FAIL("the job did not finish within %d ms", S_JOB_MS);
        ps_sleep_ms(5);
    }
    run.ms = ps_now_ms() - t0; /* from its submission to its end, give or take 5 ms */
    ps_expect_success(p, S_CLI_MS);
    if (ask && ps_wait_exit(ask, S_CLI_MS)) { /* an answer from before the end still counts */
        int64_t bp = s_source_backpressure(ask);
        if (bp > run.backpressure) run.backpressure = bp;
    }

    /* every record exactly once: the count and a sum of (device, ts) hashes */
    wr_generator_t *g;
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = 1000;
    cfg.total = total;
    cfg.seed = 81;
    assert_non_null(g = wr_generator_new(&cfg));
    uint64_t want = 0, got = 0, lines = 0;
    for (uint64_t o = 0; o < total; o++) {
        wr_generator_record_t r;
        wr_generator_record(g, o, &r);
        want += po_map_hash(r.device, r.ts, (size_t)1 << 63);
    }
    wr_generator_destroy(&g);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long long dev, ts;
        if (sscanf(line, "{\"device\":%lld,\"ts\":%lld}", &dev, &ts) != 2) {
            fclose(f);
            PS_FAIL("%s:%llu: unexpected line %s", out, (unsigned long long)lines + 1, line);
        }
        got += po_map_hash(dev, ts, (size_t)1 << 63);
        lines++;
    }
    fclose(f);
    remove(out);
    assert_int_equal(lines, total);
    assert_true(got == want);
    print_message("  %s: %llu records in %lld ms, peak RSS %lld kB, source blocked %lld times, "
                  "up to %lld ms a second\n",
                  tag, (unsigned long long)total, (long long)run.ms, (long long)run.peak_rss_kb,
                  (long long)run.backpressure, (long long)run.blocked_per_s);
    return run;
}

/* A sink that takes 1 ms per batch of 1024 records consumes at most ~1M records/s; the generator
 * makes several times that. The source must wait for credit (its backpressure counter, and its
 * back-pressured time: most of each second), the job
 * must take as long as the sink needs, memory must not grow with the input (a run 20 times
 * larger, whose records would take ~200 MB if they piled up, peaks within 32 MB of the small one),
 * and every record must arrive exactly once. */
static void test_backpressure_a_slow_sink_slows_the_source_and_memory_stays_bounded(void **state)
{
    (void)state;
    uint64_t big = ps_h.asan ? 1000000 : 4000000;
    s_run_t small = s_slow_sink_job("slow-small", big / 20);
    s_run_t large = s_slow_sink_job("slow-large", big);
    assert_true(large.backpressure > 0);
    /* and waits most of its time: Flink's "high" back-pressure (over half of each second) */
    if (large.blocked_per_s <= 500)
        PS_FAIL("the source waited %lld ms a second at most, not most of it",
                (long long)large.blocked_per_s);
    assert_true(large.ms >= (int64_t)(big / 1024) * 9 / 10); /* the sink's pauses, at least */
    assert_true(large.peak_rss_kb < small.peak_rss_kb + 32 * 1024);
    assert_true(large.peak_rss_kb < 200 * 1024);
}

/* Generator (2 subtasks, one reading per device, in order) -> key by -> sliding 60 min / 1 min
 * (2) -> a file sink (1) into /dev/null that pauses 1 ms per batch: at the end of input every
 * device's 60 windows fire at once. Returns the peak RSS of `weir local` in kB, after checking
 * that every result arrived: 60 per device. */
static int64_t s_big_firing_job(const char *tag, uint64_t devices)
{
    char name[64];
    snprintf(name, sizeof name, "%s.yaml", tag);
    const char *topology = ps_path(name);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_addf(
        &sb,
        "name: %s\nparallelism: 2\nsources:\n  - {type: generator, devices: %llu, "
        "total: %llu, jitter: 0s, late_fraction: 0, seed: 5}\nkey_by: device\n"
        "event_time: {field: ts}\nwindow: {type: sliding, size: 60min, slide: 1min}\n"
        "aggregates:\n  n: count()\nsinks:\n  - {type: file, path: /dev/null, delay: 1ms, "
        "parallelism: 1}\n",
        tag, (unsigned long long)devices, (unsigned long long)devices);
    ps_write_file(topology, sb.buf);
    wr_strbuf_release(&sb);
    ps_proc_t *p = ps_start(tag, PS_ARGV("local", topology), ps_h.daemon_env);
    int64_t t0 = ps_now_ms(), peak = 0;
    while (ps_running(p)) {
        int64_t kb = s_peak_rss_kb(p->pid);
        if (kb > peak) peak = kb;
        if (ps_now_ms() - t0 > S_JOB_MS) PS_FAIL("the job did not finish within %d ms", S_JOB_MS);
        ps_sleep_ms(5);
    }
    ps_expect_success(p, S_CLI_MS);
    const char *fin = strstr(ps_read_file(p->err), "FINISHED after ");
    unsigned long long in = 0, out = 0, fired = 0;
    if (!fin || sscanf(fin, "FINISHED after %*f s: %llu records in, %llu out, %llu windows fired",
                       &in, &out, &fired) != 3)
        PS_FAIL("%s: no summary from weir local: %s", tag, ps_read_file(p->err));
    assert_int_equal(in, devices);
    assert_int_equal(fired, devices * 60);
    assert_int_equal(out, devices * 60);
    print_message("  %s: %llu results, peak RSS %lld kB\n", tag, fired, (long long)peak);
    return peak;
}

/* One firing of 3M results (96 MB of records) into a sink vertex that takes ~3 s for them: the
 * window must hand them over as credit allows, pausing its sweep, not queue them all. Its memory
 * stays within 40 MB of a run 25 times smaller (queued, the results would add ~90 MB). */
static void test_backpressure_a_large_firing_waits_for_a_slow_sink(void **state)
{
    (void)state;
    int64_t small = s_big_firing_job("fire-small", 2000);
    int64_t large = s_big_firing_job("fire-large", 50000);
    assert_true(large < small + 40 * 1024);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_pipeline_backpressure", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_backpressure_a_slow_sink_slows_the_source_and_memory_stays_bounded),
        S_TEST(test_backpressure_a_large_firing_waits_for_a_slow_sink),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir pipeline: backpressure", tests, s_group_setup,
                                       ps_group_teardown);
}
