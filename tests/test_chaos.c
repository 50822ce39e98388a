/* `weir chaos` through the real weir binary: the short run of CI and the two negative controls
 * that show the checker catches what it must.
 *
 *   - a short run (60 s of faults every 4 s: kill, pause and partition of TaskManagers and
 *     JobManagers) on the default cluster (3 etcd members, 2 JobManagers with HA, 3 TaskManagers,
 *     every link through the chaos proxy) is valid: every expected window result committed
 *     exactly once with its values, nothing lost, duplicated or unexpected; at least 8 faults,
 *     every one of the three nemeses and both kinds of target among them; each fault that
 *     disrupted the job was detected before the job ran again; restarts and completed
 *     checkpoints counted; throughput sampled; the HTML report drawn
 *   - with the at-least-once sink under TaskManager kills, the run is invalid because of
 *     duplicates (and only duplicates): exit 1, the first duplicated result shown
 *   - with the sink's test-only fault that drops the commit of checkpoint 3, the run is invalid
 *     because of lost results (and only lost ones)
 *   - bad options are usage errors (exit 2) that start nothing
 * After every run, nothing of it is left: no process naming its temp folder (every child of the
 * run names it on its command line), no folder.
 *
 * Under ASan (8 daemons of an ASan build share the 2 cores) the short run lasts 20 s with at
 * least 3 faults, and the at-least-once control is left to the release build: the ASan run is
 * there for the memory of the command's every part (cluster, proxy, nemeses, watcher, checker,
 * report), which the short run and the lost-commit control go through.
 * WEIR_TEST_SEED=N changes the fault schedule of the short run (default 1; printed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/etcd.h"
#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_PREFIX "/tmp/weir-bench-chaos-" /* the run's temp folder */

/* A run's deadline: its duration plus the cluster's start, the job's end and the check. */
static int s_deadline_ms(int duration_s)
{
    return (duration_s + (ps_h.asan ? 180 : 90)) * 1000;
}

/* Runs `weir chaos ARGS --json` (the duration in seconds given here) and returns its JSON,
 * checking that the exit code is want and that the run left nothing behind. */
static const tj_value_t *s_chaos(int duration_s, const char *const args[], int want)
{
    const char *argv[PS_MAX_ARGS + 1];
    size_t n = ps_append(argv, 0, PS_ARGV("chaos", "--json", "--duration"));
    n = ps_append(argv, n, PS_ARGV(ps_fmt("%ds", duration_s)));
    ps_append(argv, n, args);
    ps_result_t r = ps_run("chaos", argv, s_deadline_ms(duration_s));
    print_message("  weir chaos exited %d after %lld ms\n", r.code, (long long)r.ms);
    const tj_value_t *doc = tj_parse(r.out);
    if (!doc || doc->type != TJ_OBJ) {
        print_message("%s\n%s\n", r.out, r.err); /* whole: fail_msg cuts its message short */
        PS_FAIL("weir chaos exited %d without one JSON object (its output above)", r.code);
    }
    /* nothing of the run is left: no process naming its folder, no folder (its first line,
     * on stderr with --json, names the folder) */
    const char *at = strstr(r.err, "; folder ");
    if (!at) PS_FAIL("no folder named on stderr:\n%s", r.err);
    at += strlen("; folder ");
    ps_expect_bench_gone(ps_fmt("%.*s", (int)strcspn(at, "\n"), at), S_PREFIX);
    if (r.code != want) {
        print_message("%s\n%s\n", r.out, r.err);
        PS_FAIL("weir chaos exited %d, not %d (its output above)", r.code, want);
    }
    /* valid or not, for the checker's counts only: the job finished and its output was read */
    const char *reason = tj_str(doc, "reason");
    if (!reason || *reason)
        PS_FAIL("the run is invalid besides the counts: %s", reason ? reason : "?");
    return doc;
}

/* The verdict's count of kind. */
static double s_count(const tj_value_t *doc, const char *kind)
{
    return tj_num(tj_get(doc, "verdict"), kind);
}

static void s_print_verdict(const tj_value_t *doc)
{
    print_message("  expected %.0f: ok %.0f, lost %.0f, duplicated %.0f, unexpected %.0f; %.0f "
                  "lines, %.0f restarts, %.0f checkpoints completed\n",
                  s_count(doc, "expected"), s_count(doc, "ok"), s_count(doc, "lost"),
                  s_count(doc, "duplicated"), s_count(doc, "unexpected"), s_count(doc, "lines"),
                  tj_num(doc, "restarts"), tj_num(tj_get(doc, "checkpoints"), "completed"));
}

/* Whether some fault of doc has field equal to value. */
static bool s_some_fault(const tj_value_t *faults, const char *field, const char *value)
{
    for (size_t i = 0; i < faults->n; i++)
        if (!strcmp(tj_str(faults->items[i], field) ? tj_str(faults->items[i], field) : "", value))
            return true;
    return false;
}

static void test_short_run_is_valid(void **state)
{
    (void)state;
    const char *seed = getenv("WEIR_TEST_SEED") ? getenv("WEIR_TEST_SEED") : "1";
    const char *report = ps_path("report.html");
    int duration = ps_h.asan ? 20 : 60;
    size_t min_faults = ps_h.asan ? 3 : 8;
    print_message("  seed %s\n", seed);
    const tj_value_t *doc =
        s_chaos(duration,
                PS_ARGV("--seed", seed, "--interval", "4s", "--faults", "kill,pause,partition",
                        "--targets", "jm,tm", "--report", report),
                0);
    s_print_verdict(doc);
    const tj_value_t *v = tj_get(doc, "verdict"), *faults = tj_get(doc, "faults");
    if (tj_get(doc, "valid")->type != TJ_BOOL || tj_get(doc, "valid")->num != 1)
        PS_FAIL("not valid");
    double expected = tj_num(v, "expected");
    if (!(expected > 0) || tj_num(v, "ok") != expected || tj_num(v, "lost") != 0 ||
        tj_num(v, "duplicated") != 0 || tj_num(v, "unexpected") != 0)
        PS_FAIL("a valid run whose counts do not add up");
    if (!faults || faults->type != TJ_ARR || faults->n < min_faults)
        PS_FAIL("%zu faults in %d s, not at least %zu", faults ? faults->n : 0, duration,
                min_faults);
    static const char *const kinds[] = {"kill", "pause", "partition"};
    for (size_t k = 0; k < 3; k++)
        if (!s_some_fault(faults, "kind", kinds[k])) PS_FAIL("no %s among the faults", kinds[k]);
    if (!ps_h.asan &&
        (!s_some_fault(faults, "target_kind", "tm") || !s_some_fault(faults, "target_kind", "jm")))
        PS_FAIL("the faults did not hit both TaskManagers and JobManagers");
    size_t disrupted = 0;
    for (size_t i = 0; i < faults->n; i++) {
        const tj_value_t *f = faults->items[i];
        print_message("  %-9s %-5s at %6.0f ms: detected +%.0f, running again +%.0f: %s\n",
                      tj_str(f, "kind"), tj_str(f, "target"), tj_num(f, "start_ms"),
                      tj_num(f, "detect_ms"), tj_num(f, "recover_ms"), tj_str(f, "what"));
        if (tj_num(f, "end_ms") < tj_num(f, "start_ms"))
            PS_FAIL("fault %zu ends before it starts", i);
        if (tj_get(f, "disrupted")->num != 1) continue;
        disrupted++;
        /* noticed, and not after the job ran again (-1: it never did before the next fault) */
        double detect = tj_num(f, "detect_ms"), recover = tj_num(f, "recover_ms");
        if (!(detect >= 0) || (recover >= 0 && recover < detect))
            PS_FAIL("fault %zu: detected +%.0f ms, running again +%.0f ms", i, detect, recover);
    }
    if (!disrupted || !(tj_num(doc, "restarts") >= 1))
        PS_FAIL("%zu faults disrupted the job, %.0f restarts", disrupted, tj_num(doc, "restarts"));
    if (!(tj_num(tj_get(doc, "checkpoints"), "completed") >= 1)) PS_FAIL("no checkpoint completed");
    const tj_value_t *samples = tj_get(tj_get(doc, "throughput"), "samples");
    if (!samples || samples->type != TJ_ARR || samples->n < (size_t)duration / 2)
        PS_FAIL("%zu throughput samples in a %d s run", samples ? samples->n : 0, duration);
    double availability = tj_num(doc, "availability");
    if (!(availability > 0 && availability <= 1)) PS_FAIL("availability %.3f", availability);
    char *html = ps_read_file(report);
    if (strncmp(html, "<!DOCTYPE html>", 15) || !strstr(html, "<svg"))
        PS_FAIL("no HTML report with a picture at %s", report);
}

static void test_at_least_once_sink_shows_duplicates(void **state)
{
    (void)state;
    if (ps_h.asan) {
        print_message("  (release build only: see the top of this file)\n");
        return;
    }
    /* checkpoints every 6 s, windows firing every 3 s: a kill replays firings since the last
     * checkpoint, which the at-least-once sink wrote already */
    const tj_value_t *doc =
        s_chaos(12,
                PS_ARGV("--seed", "5", "--sink", "at-least-once", "--faults", "kill", "--targets",
                        "tm", "--interval", "3s", "--checkpoint-interval", "6s"),
                1);
    s_print_verdict(doc);
    if (tj_get(doc, "valid")->num != 0) PS_FAIL("valid");
    if (!(s_count(doc, "duplicated") > 0)) PS_FAIL("no duplicates from an at-least-once sink");
    if (s_count(doc, "lost") != 0 || s_count(doc, "unexpected") != 0)
        PS_FAIL("an at-least-once sink lost or changed results");
    const char *first = tj_str(tj_get(doc, "verdict"), "first_duplicated");
    if (!first || !*first) PS_FAIL("the first duplicated result is not shown");
    print_message("  first duplicated: %s\n", first);
}

static void test_skipped_commit_shows_lost_results(void **state)
{
    (void)state;
    const tj_value_t *doc = s_chaos(12,
                                    PS_ARGV("--seed", "3", "--test-skip-commit", "3", "--faults",
                                            "kill", "--targets", "tm", "--interval", "6s"),
                                    1);
    s_print_verdict(doc);
    if (tj_get(doc, "valid")->num != 0) PS_FAIL("valid");
    if (!(s_count(doc, "lost") > 0)) PS_FAIL("no lost results after a skipped commit");
    if (s_count(doc, "duplicated") != 0 || s_count(doc, "unexpected") != 0)
        PS_FAIL("a skipped commit duplicated or changed results");
    const char *first = tj_str(tj_get(doc, "verdict"), "first_lost");
    if (!first || !*first) PS_FAIL("the first lost result is not shown");
    print_message("  first lost: %s\n", first);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *const *cases[] = {
        PS_ARGV("chaos", "--faults", "kill,flood"),
        PS_ARGV("chaos", "--targets", "jm,router"),
        PS_ARGV("chaos", "--duration", "soon"),
        PS_ARGV("chaos", "--sink", "twice"),
        PS_ARGV("chaos", "--backend", "paper"),
        PS_ARGV("chaos", "--seed", "-1x"),
        PS_ARGV("chaos", "extra"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_result_t r = ps_run("bad", cases[i], 10000);
        if (r.code != 2 || !strstr(r.err, "weir chaos"))
            PS_FAIL("case %zu (%s) exited %d:\n%s", i, cases[i][1], r.code, r.err);
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    if (ps_group_setup("test_chaos", false)) return -1;
    if (!te_available()) {
        fprintf(stderr, "test_chaos: %s is missing (Debian's etcd-server)\n", TE_ETCD_BIN);
        return -1;
    }
    return 0;
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_bad_options),
        S_TEST(test_short_run_is_valid),
        S_TEST(test_at_least_once_sink_shows_duplicates),
        S_TEST(test_skipped_commit_shows_lost_results),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir chaos", tests, s_group_setup, ps_group_teardown);
}
