/* `weir chaos --topology FILE` through the real weir binary: a user's job, run once without
 * faults (the reference) and once under TaskManager kills until it finishes, is valid (its
 * committed lines, compared with the reference's, nothing lost, duplicated or unexpected) with at
 * least one fault; the same job with the at-least-once sink (one file) is invalid because of
 * duplicates, and only duplicates (the negative control: the comparison sees what a replay wrote
 * twice); what --topology cannot run is refused up front (exit 2, the reason said, nothing
 * started).
 *
 * The job: a generator of 200 devices, 13,000 readings paced at 2,000/s (6.5 s), key by device,
 * tumbling 5 s windows of count() and max(temperature), an exactly-once file sink: about 2,800
 * results. After the run, nothing of it is left: no process naming its temp folder, no folder.
 * Release build only for the run (8 daemons of an ASan build on the 2 cores would not let the
 * job end in time beside its faults); the refusals run in every build. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/etcd.h"
#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_PREFIX "/tmp/weir-bench-chaos-" /* the run's temp folder */

static const char s_job[] = "name: chaos-topology\n"
                            "parallelism: 2\n"
                            "sources:\n"
                            "  - type: generator\n"
                            "    devices: 200\n"
                            "    interval: 1s\n"
                            "    rate: 2000\n"
                            "%s"
                            "    jitter: 500ms\n"
                            "    late_fraction: 0\n"
                            "key_by: device\n"
                            "event_time:\n"
                            "  field: ts\n"
                            "  max_out_of_orderness: 1s\n"
                            "window:\n"
                            "  type: tumbling\n"
                            "  size: 5s\n"
                            "aggregates:\n"
                            "  n: count()\n"
                            "  hi: max(temperature)\n"
                            "sinks:\n"
                            "  - type: file\n"
                            "    path: out\n"
                            "    exactly_once: %s\n"
                            "%s";

/* The job as a file in the test's folder: total the source's line ("" none), the sink exactly
 * once or not, extra sinks. */
static const char *s_job_file(const char *name, const char *total, bool exactly_once,
                              const char *sinks)
{
    const char *path = ps_path(name);
    ps_write_file(path, ps_fmt(s_job, total, exactly_once ? "true" : "false", sinks));
    return path;
}

/* Runs `weir chaos --json --topology` of the job (13,000 readings) under TaskManager kills every
 * 2 s, checkpoints every ckpt; checks the exit code is want, that the reference run was made and
 * that nothing of the run is left, and returns the JSON. */
static const tj_value_t *s_chaos(bool exactly_once, const char *ckpt, const char *seed, int want)
{
    const char *job = s_job_file("job.yaml", "    total: 13000\n", exactly_once, "");
    ps_result_t r = ps_run("chaos",
                           PS_ARGV("chaos", "--json", "--topology", job, "--faults", "kill",
                                   "--targets", "tm", "--interval", "2s", "--duration", "60s",
                                   "--checkpoint-interval", ckpt, "--seed", seed),
                           120000);
    print_message("  weir chaos exited %d after %lld ms\n", r.code, (long long)r.ms);
    const char *at = strstr(r.err, "; folder ");
    if (!at) PS_FAIL("no folder named on stderr:\n%s", r.err);
    at += strlen("; folder ");
    ps_expect_bench_gone(ps_fmt("%.*s", (int)strcspn(at, "\n"), at), S_PREFIX);
    const tj_value_t *doc = tj_parse(r.out);
    if (r.code != want || !doc || doc->type != TJ_OBJ) {
        print_message("%s\n%s\n", r.out, r.err); /* whole: fail_msg cuts its message short */
        PS_FAIL("weir chaos exited %d, not %d (its output above)", r.code, want);
    }
    const char *ref = strstr(r.err, "reference run: job ");
    if (!ref || !strstr(ref, " FINISHED in ")) PS_FAIL("no reference run said:\n%s", r.err);
    print_message("  %.*s\n", (int)strcspn(ref, "\n"), ref);
    const tj_value_t *v = tj_get(doc, "verdict"), *faults = tj_get(doc, "faults");
    print_message("  expected %.0f: ok %.0f, lost %.0f, duplicated %.0f, unexpected %.0f; %.0f "
                  "lines; %zu faults, %.0f restarts\n",
                  tj_num(v, "expected"), tj_num(v, "ok"), tj_num(v, "lost"),
                  tj_num(v, "duplicated"), tj_num(v, "unexpected"), tj_num(v, "lines"),
                  faults ? faults->n : 0, tj_num(doc, "restarts"));
    /* valid or not, for the comparison's counts only: both runs finished and were read */
    const char *reason = tj_str(doc, "reason");
    if (!reason || *reason) PS_FAIL("a reason besides the counts: %s", reason ? reason : "?");
    if (!faults || faults->type != TJ_ARR || faults->n < 1) PS_FAIL("no fault");
    return doc;
}

static void test_the_job_is_valid_under_taskmanager_kills(void **state)
{
    (void)state;
    if (ps_h.asan) {
        print_message("  (release build only: see the top of this file)\n");
        return;
    }
    const tj_value_t *doc = s_chaos(true, "1s", "1", 0);
    const tj_value_t *v = tj_get(doc, "verdict");
    double expected = tj_num(v, "expected");
    if (tj_get(doc, "valid")->type != TJ_BOOL || tj_get(doc, "valid")->num != 1)
        PS_FAIL("not valid");
    /* 200 devices x 14 windows of 5 s (65 s of event time, jitter 0.5 s on either side) */
    if (!(expected >= 2400 && expected <= 3000) || tj_num(v, "ok") != expected ||
        tj_num(v, "lines") != expected)
        PS_FAIL("a valid run whose counts are not the job's");
    if (strcmp(tj_str(doc, "sink") ? tj_str(doc, "sink") : "", "topology"))
        PS_FAIL("the report's sink is not 'topology'");
}

static void test_an_at_least_once_sink_shows_duplicates(void **state)
{
    (void)state;
    if (ps_h.asan) {
        print_message("  (release build only: see the top of this file)\n");
        return;
    }
    /* checkpoints every 4 s, windows firing every 5 s: a kill replays what fired since the last
     * checkpoint, which the one file has already */
    const tj_value_t *doc = s_chaos(false, "4s", "2", 1);
    const tj_value_t *v = tj_get(doc, "verdict");
    if (tj_get(doc, "valid")->num != 0) PS_FAIL("valid");
    if (!(tj_num(v, "duplicated") > 0)) PS_FAIL("no duplicates from an at-least-once sink");
    if (tj_num(v, "lost") != 0 || tj_num(v, "unexpected") != 0)
        PS_FAIL("an at-least-once sink lost or changed results");
    const char *first = tj_str(v, "first_duplicated");
    if (!first || !strstr(first, "(found 2 times, the reference has it 1)"))
        PS_FAIL("the first duplicated result is not shown: %s", first ? first : "?");
    print_message("  first duplicated: %s\n", first);
}

static void test_what_it_cannot_run_is_refused(void **state)
{
    (void)state;
    const char *bounded = s_job_file("bounded.yaml", "    total: 13000\n", true, "");
    struct {
        const char *const *argv;
        const char *why;
    } cases[] = {
        {PS_ARGV("chaos", "--topology", s_job_file("unbounded.yaml", "", true, "")),
         "sources[0] (source-1): the job must end by itself, or its reference run would never "
         "finish: a generator without a total never ends"},
        {PS_ARGV("chaos", "--topology",
                 s_job_file("stdout.yaml", "    total: 13000\n", true, "  - type: stdout\n")),
         "sinks[1] (sink-2): a stdout sink, not a file sink"},
        {PS_ARGV("chaos", "--topology", bounded, "--rate", "10"),
         "--rate is for the built-in job: with --topology the job is the file's"},
        {PS_ARGV("chaos", "--sink", "at-least-once", "--topology", bounded), "--sink is for"},
        {PS_ARGV("chaos", "--topology", ps_path("missing.yaml")), "missing.yaml"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_result_t r = ps_run("refused", cases[i].argv, 10000);
        if (r.code != 2 || !strstr(r.err, cases[i].why) || strstr(r.err, S_PREFIX))
            PS_FAIL("case %zu exited %d without '%s' (or started a run):\n%s", i, r.code,
                    cases[i].why, r.err);
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    if (ps_group_setup("test_chaos_topology", false)) return -1;
    if (!te_available()) {
        fprintf(stderr, "test_chaos_topology: %s is missing (Debian's etcd-server)\n", TE_ETCD_BIN);
        return -1;
    }
    return 0;
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_what_it_cannot_run_is_refused),
        S_TEST(test_the_job_is_valid_under_taskmanager_kills),
        S_TEST(test_an_at_least_once_sink_shows_duplicates),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir chaos --topology", tests, s_group_setup,
                                       ps_group_teardown);
}
