/* The verifiable job of `weir chaos` and its checker (cli/chaos_check.h): the real job run by
 * `weir local` (tests/support/process.h) is valid, each kind of damage to a copy of its output is
 * reported with exactly the right counts and a first example naming the key, the test fault
 * test_skip_commit shows lost results, the oracle equals a brute-force computation written here,
 * and the line parser takes the sink's lines and nothing else. Every file lives in the harness's
 * directory, removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/dataflow/job/topology.h"
#include "bus/base/error.h"
#include "cli/chaos_check.h"
#include "cli/chaos_check_int.h"
#include "cli/chaos_output.h"
#include "tests/support/process.h"

#define S_RUN_MS 120000

/* The small job: 500 devices, 200,000 readings (400 rounds of 10 s: 67 min of event time), the
 * default window (10 min every 1 min): about 38,000 results; under ASan half as many readings
 * (the oracle runs at every check). */
static wr_chaos_job_t s_job(void)
{
    wr_chaos_job_t j;
    wr_chaos_job_default(&j);
    j.gen.devices = 500;
    j.gen.total = ps_h.asan ? 100000 : 200000;
    j.gen.seed = 7;
    j.parallelism = 2;
    return j;
}

/* The committed output of the job run once by `weir local` (checkpoints every second), into
 * the harness's root: shared by the tests, which damage copies. */
static char s_outputs[3][300];

/* Runs the job into out (in the root); rate 0: unpaced. */
static void s_run(const char *name, const wr_chaos_job_t *j, const char *out, bool exactly_once,
                  uint64_t skip)
{
    wr_strbuf_t yaml, err;
    wr_strbuf_init(&yaml);
    wr_strbuf_init(&err);
    assert_int_equal(wr_chaos_job_yaml(j, out, exactly_once, skip, &yaml, &err), 0);
    const char *topology = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(topology, yaml.buf);
    wr_strbuf_release(&yaml);
    wr_strbuf_release(&err);
    ps_result_t r =
        ps_run(name,
               PS_ARGV("local", topology, "--set", "execution.checkpointing.interval=1s", "--set",
                       ps_fmt("state.checkpoints.dir=%s", ps_path("ck"))),
               S_RUN_MS);
    if (r.code != 0) PS_FAIL("weir local exited %d:\n%s", r.code, r.err);
}

/* The real output: 0 exactly once (a folder), 1 at least once (a file). */
static const char *s_output(int which)
{
    if (!s_outputs[which][0]) {
        wr_chaos_job_t j = s_job();
        snprintf(s_outputs[which], sizeof s_outputs[which], "%s/%s", ps_h.root,
                 which ? "alo.jsonl" : "eo");
        s_run(which ? "alo" : "eo", &j, s_outputs[which], which == 0, 0);
    }
    return s_outputs[which];
}

/* A copy of the exactly-once output in the test's directory. */
static const char *s_copy(void)
{
    const char *dst = ps_path("copy");
    assert_int_equal(system(ps_fmt("cp -r '%s' '%s'", s_output(0), dst)), 0);
    return dst;
}

/* What the passes of a check said as they ended. */
typedef struct {
    wr_chaos_progress_t seen[64];
    int n;
} s_progress_t;

static void s_record_progress(void *ctx, const wr_chaos_progress_t *p)
{
    s_progress_t *pr = ctx;
    if (p->done && pr->n < 64) pr->seen[pr->n++] = *p;
}

/* The verdict on path within mem_max bytes (0: the default), the passes' ends into pr (if pr). */
static wr_chaos_verdict_t s_check_in(const wr_chaos_job_t *j, const char *path, uint64_t mem_max,
                                     s_progress_t *pr)
{
    wr_chaos_check_opts_t o = {
        .mem_max = mem_max, .progress = pr ? s_record_progress : NULL, .ctx = pr};
    wr_chaos_verdict_t v;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_chaos_check(j, path, &o, &v, &err);
    if (rc) fail_msg("wr_chaos_check: %s: %s", wr_strerror(rc), err.buf ? err.buf : "");
    wr_strbuf_release(&err);
    return v;
}

static wr_chaos_verdict_t s_check(const wr_chaos_job_t *j, const char *path)
{
    return s_check_in(j, path, 0, NULL);
}

/* The first committed part file of dir by name that has at least 2 lines. */
static const char *s_part(const char *dir)
{
    for (int k = 0; k < 64; k++) { /* part-<subtask>-<attempt>-<seq>.jsonl of attempt 0 */
        for (int sub = 0; sub < 2; sub++) {
            const char *p = ps_fmt("%s/part-%d-0-%d.jsonl", dir, sub, k);
            char *text = ps_read_file(p);
            if (ps_count(text, "\n") >= 2) return p;
        }
    }
    fail_msg("no part file with 2 lines in %s", dir);
    return NULL;
}

/* "device":D,"window_start":S of a line: the key as the examples name it. */
static const char *s_key_of(const char *line)
{
    const char *end = strstr(line, ",\"window_end\"");
    assert_non_null(end);
    return ps_fmt("%.*s", (int)(end - line - 1), line + 1);
}

static void s_expect(const wr_chaos_verdict_t *v, uint64_t lost, uint64_t dup, uint64_t unexp)
{
    if (v->lost != lost || v->duplicated != dup || v->unexpected != unexp)
        fail_msg("lost %llu duplicated %llu unexpected %llu; want %llu %llu %llu\n"
                 "first lost: %s\nfirst duplicated: %s\nfirst unexpected: %s",
                 (unsigned long long)v->lost, (unsigned long long)v->duplicated,
                 (unsigned long long)v->unexpected, (unsigned long long)lost,
                 (unsigned long long)dup, (unsigned long long)unexp, v->first_lost,
                 v->first_duplicated, v->first_unexpected);
    assert_int_equal(v->ok + v->lost + v->duplicated, v->expected);
    assert_int_equal(v->valid, !lost && !dup && !unexp);
    assert_int_equal(v->first_lost[0] != 0, lost != 0);
    assert_int_equal(v->first_duplicated[0] != 0, dup != 0);
    assert_int_equal(v->first_unexpected[0] != 0, unexp != 0);
}

/* ---- the real output ---- */

static void test_the_real_output_is_valid(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    wr_chaos_verdict_t v = s_check(&j, s_output(0));
    s_expect(&v, 0, 0, 0);
    assert_true(v.valid);
    assert_true(v.expected > (ps_h.asan ? 15000 : 30000));
    assert_int_equal(v.ok, v.expected);
    assert_int_equal(v.lines, v.expected);
    assert_true(v.files >= 1);
    /* hidden files and others are not output */
    ps_write_file(ps_fmt("%s/.part-9-0-0.inprogress", s_copy()), "garbage\n");
    ps_write_file(ps_path("copy/notes.txt"), "garbage\n");
    v = s_check(&j, ps_path("copy"));
    s_expect(&v, 0, 0, 0);
    /* at least once: one file */
    v = s_check(&j, s_output(1));
    s_expect(&v, 0, 0, 0);
    assert_int_equal(v.files, 1);
    assert_int_equal(v.lines, v.expected);
}

/* ---- damage ---- */

static void test_a_dropped_line_is_lost(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    const char *part = s_part(s_copy());
    char *text = ps_read_file(part);
    char *second = strchr(text, '\n') + 1;
    const char *key = s_key_of(text);
    ps_write_file(part, second);
    wr_chaos_verdict_t v = s_check(&j, ps_path("copy"));
    s_expect(&v, 1, 0, 0);
    assert_non_null(strstr(v.first_lost, key));
}

static void test_a_duplicated_line_is_duplicated(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    const char *part = s_part(s_copy());
    char *text = ps_read_file(part);
    const char *first = ps_fmt("%.*s", (int)(strchr(text, '\n') - text + 1), text);
    ps_write_file(part, ps_fmt("%s%s", text, first));
    wr_chaos_verdict_t v = s_check(&j, ps_path("copy"));
    s_expect(&v, 0, 1, 0);
    assert_non_null(strstr(v.first_duplicated, s_key_of(first)));
    assert_non_null(strstr(v.first_duplicated, "(2 times)"));
}

static void test_a_changed_value_is_unexpected_and_its_result_lost(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    const char *part = s_part(s_copy());
    char *text = ps_read_file(part);
    char *n = strstr(text, "\"n\":");
    assert_non_null(n);
    long long count = strtoll(n + 4, NULL, 10);
    char *rest = strchr(n, ',');
    ps_write_file(part, ps_fmt("%.*s\"n\":%lld%s", (int)(n - text), text, count + 1, rest));
    wr_chaos_verdict_t v = s_check(&j, ps_path("copy"));
    s_expect(&v, 1, 0, 1);
    assert_non_null(strstr(v.first_unexpected, ps_fmt("n: expected %lld", count)));
    assert_non_null(strstr(v.first_unexpected, s_key_of(text)));
    assert_non_null(strstr(v.first_lost, s_key_of(text)));
    /* a sum one ulp off, on the second line: sums are compared exactly */
    text = ps_read_file(part);
    char *sum = strstr(strchr(text, '\n'), "\"sum\":") + 6;
    double x = strtod(sum, &rest);
    ps_write_file(part, ps_fmt("%.*s%.17g%s", (int)(sum - text), text, nextafter(x, 1e9), rest));
    v = s_check(&j, ps_path("copy"));
    s_expect(&v, 2, 0, 2);
    const char *lines = ps_fmt("%s", ps_read_file(part));
    assert_non_null(strstr(lines, ps_fmt("%.17g", nextafter(x, 1e9))));
}

static void test_a_garbage_line_is_unexpected(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    const char *part = s_part(s_copy());
    ps_write_file(part, ps_fmt("%sgarbage\x01\n", ps_read_file(part)));
    wr_chaos_verdict_t v = s_check(&j, ps_path("copy"));
    s_expect(&v, 0, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "garbage? (not a JSON object"));
    /* a line of the right form with a key the job has no result for */
    ps_write_file(part, ps_fmt("%s{\"device\":99999,\"window_start\":0,\"window_end\":600000,"
                               "\"n\":1,\"lo\":1.0,\"hi\":1.0,\"sum\":1.0}\n",
                               ps_read_file(part)));
    v = s_check(&j, ps_path("copy"));
    s_expect(&v, 0, 0, 2);
    /* lines longer than the reader's buffer (cli/chaos_output.h), one of them a right line after
     * 1 MiB of spaces */
    char *lines = ps_read_file(part);
    size_t big = 2 * WR_CHAOS_OUTPUT_LINE_MAX;
    char *pad = ps_alloc(big + 1);
    memset(pad, ' ', big);
    pad[big] = '\0';
    const char *first = ps_fmt("%.*s", (int)(strchr(lines, '\n') - lines + 1), lines);
    ps_write_file(part, ps_fmt("%s%s\n%.*s%s", lines + strlen(first), pad,
                               (int)WR_CHAOS_OUTPUT_LINE_MAX, pad, first));
    v = s_check(&j, ps_path("copy"));
    s_expect(&v, 1, 0, 4);
    assert_non_null(strstr(v.first_unexpected, "garbage"));
}

static void test_a_torn_last_line_is_unexpected_and_its_result_lost(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    const char *part = s_part(s_copy());
    char *text = ps_read_file(part);
    size_t len = strlen(text);
    char *last = text + len - 1;
    while (last > text && last[-1] != '\n')
        last--;
    const char *key = s_key_of(last);
    text[len - 10] = '\0';
    ps_write_file(part, text);
    wr_chaos_verdict_t v = s_check(&j, ps_path("copy"));
    s_expect(&v, 1, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "torn"));
    const char *base = strrchr(part, '/') + 1; /* the file and its line */
    assert_non_null(strstr(v.first_unexpected, ps_fmt("%s:%zu)", base, ps_count(text, "\n") + 1)));
    assert_non_null(strstr(v.first_lost, key));
}

static void test_an_empty_folder_is_all_lost_and_a_missing_path_not_found(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    assert_int_equal(mkdir(ps_path("empty"), 0755), 0);
    wr_chaos_verdict_t v = s_check(&j, ps_path("empty"));
    assert_true(v.expected > (ps_h.asan ? 15000 : 30000));
    s_expect(&v, v.expected, 0, 0);
    assert_int_equal(v.files, 0);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_chaos_check(&j, ps_path("nothing"), NULL, &v, &err), WR_ENOTFOUND);
    assert_non_null(strstr(err.buf, "nothing"));
    wr_strbuf_reset(&err);
    /* a committed name that cannot be read: an error naming it, not a verdict */
    assert_int_equal(mkdir(ps_path("empty/part-0-9-0.jsonl"), 0755), 0);
    assert_int_equal(wr_chaos_check(&j, ps_path("empty"), NULL, &v, &err), WR_EIO);
    assert_non_null(strstr(err.buf, "part-0-9-0.jsonl"));
    wr_strbuf_reset(&err);
    j.gen.total = 0;
    assert_int_equal(wr_chaos_check(&j, ps_path("empty"), NULL, &v, &err), WR_EINVAL);
    assert_non_null(strstr(err.buf, "total"));
    wr_strbuf_release(&err);
}

/* The negative control: the sink's test fault loses the results of one checkpoint's files. */
static void test_the_skip_commit_fault_shows_lost_results(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    j.gen.total = 200000;
    j.gen.rate = 50000; /* 4 s: checkpoint 2 (at about 2 s) comes mid-run */
    s_run("skip", &j, ps_path("skip"), true, 2);
    wr_chaos_verdict_t v = s_check(&j, ps_path("skip"));
    assert_false(v.valid);
    assert_true(v.lost > 0);
    assert_int_equal(v.duplicated, 0);
    assert_int_equal(v.unexpected, 0);
    assert_true(v.first_lost[0]);
}

/* ---- passes over the output ---- */

/* A verdict in a line and its examples. */
static const char *s_show(const wr_chaos_verdict_t *v)
{
    return ps_fmt("expected %llu ok %llu lost %llu duplicated %llu unexpected %llu lines %llu "
                  "files %llu\n  %s\n  %s\n  %s",
                  (unsigned long long)v->expected, (unsigned long long)v->ok,
                  (unsigned long long)v->lost, (unsigned long long)v->duplicated,
                  (unsigned long long)v->unexpected, (unsigned long long)v->lines,
                  (unsigned long long)v->files, v->first_lost, v->first_duplicated,
                  v->first_unexpected);
}

/* The line of text (lines) with the greatest device, and that device. */
static const char *s_last_device_line(const char *text, long long *device)
{
    const char *best = NULL;
    *device = -1;
    for (const char *at = text; *at; at = strchr(at, '\n') + 1) {
        long long d = strtoll(at + strlen("{\"device\":"), NULL, 10);
        if (d > *device) *device = d, best = at;
    }
    return ps_fmt("%.*s", (int)(strchr(best, '\n') - best + 1), best);
}

/* The passes see every line and count each once: the verdict, first examples included, is the
 * one of a single pass, on an output with every kind of damage; the passes cover the devices
 * once, in order. */
static void test_passes_give_the_verdict_of_one(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    const char *part = s_part(s_copy());
    char *text = ps_read_file(part);
    long long dev;
    const char *last = s_last_device_line(text, &dev);
    assert_true(dev >= 250); /* in neither of the first two passes of at least 3 */
    char *n = strstr(last, "\"n\":");
    const char *wrong = ps_fmt("%.*s\"n\":%lld%s", (int)(n - last), last,
                               strtoll(n + 4, NULL, 10) + 1, strchr(n, ','));
    char *second = strchr(text, '\n') + 1, *third = strchr(second, '\n') + 1;
    const char *first = ps_fmt("%.*s", (int)(second - text), text);
    const char *line3 = ps_fmt("%.*s", (int)(strchr(third, '\n') - third + 1), third);
    /* first in file order: the wrong line of a device of a late pass; then the second line
     * dropped (lost), the third twice (duplicated), the first again in another form (duplicated:
     * only a parse finds its device), garbage, a device out of range, a torn line */
    ps_write_file(part, ps_fmt("%s%s%s%s{ %sgarbage\n{\"device\":500,\"window_start\":0,"
                               "\"window_end\":600000,\"n\":1,\"lo\":1.0,\"hi\":1.0,"
                               "\"sum\":1.0}\n{\"device\":3,\"wi",
                               wrong, first, line3, third, first + 1));
    wr_chaos_verdict_t one = s_check(&j, ps_path("copy"));
    s_expect(&one, 1, 2, 4);
    assert_int_equal(one.passes, 1);
    assert_non_null(strstr(one.first_unexpected, "n: expected"));
    assert_non_null(strstr(one.first_unexpected, ps_fmt("\"device\":%lld,", dev)));

    s_progress_t pr = {0};
    wr_chaos_verdict_t many = s_check_in(&j, ps_path("copy"), wr__chaos_expect_bytes(&j, 60), &pr);
    assert_true(many.passes >= 3);
    assert_int_equal(pr.n, many.passes);
    uint64_t expected = 0;
    for (int k = 0; k < pr.n; k++) {
        assert_int_equal(pr.seen[k].pass, k + 1);
        assert_int_equal(pr.seen[k].passes, many.passes);
        assert_int_equal(pr.seen[k].devices_lo, k ? pr.seen[k - 1].devices_hi : 0);
        assert_int_equal(pr.seen[k].lines, one.lines);
        expected += pr.seen[k].expected;
    }
    assert_int_equal(pr.seen[pr.n - 1].devices_hi, j.gen.devices);
    assert_int_equal(expected, one.expected);
    many.passes = 1;
    if (memcmp(&one, &many, sizeof one))
        fail_msg("one pass: %s\nmany: %s", s_show(&one), s_show(&many));
}

/* A budget below one device's table is refused, saying so; at exactly one device's table, a
 * pass per device (a small job, no output: every result lost, as in one pass). */
static void test_a_budget_below_one_device_is_refused(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    j.gen.devices = 5;
    j.gen.total = 300;
    assert_int_equal(mkdir(ps_path("empty"), 0755), 0);
    wr_chaos_check_opts_t o = {.mem_max = wr__chaos_expect_bytes(&j, 1) - 1};
    wr_chaos_verdict_t v;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_chaos_check(&j, ps_path("empty"), &o, &v, &err), WR_EINVAL);
    if (!strstr(err.buf, "memory budget")) fail_msg("%s", err.buf);
    wr_strbuf_reset(&err);
    o.mem_max = 1;
    assert_int_equal(wr_chaos_check(&j, ps_path("empty"), &o, &v, &err), WR_EINVAL);
    wr_strbuf_release(&err);
    wr_chaos_verdict_t one = s_check(&j, ps_path("empty"));
    s_progress_t pr = {0};
    v = s_check_in(&j, ps_path("empty"), wr__chaos_expect_bytes(&j, 1), &pr);
    assert_int_equal(v.passes, 5);
    assert_int_equal(pr.n, 5);
    v.passes = 1;
    assert_memory_equal(&one, &v, sizeof v);
    s_expect(&v, v.expected, 0, 0);
    assert_true(v.expected >= 5 * 19); /* every device's 60 readings span 590 s */
}

/* ---- the job's topology ---- */

static int s_parse(const char *yaml, wr_strbuf_t *err)
{
    wr_topology_t *t = NULL;
    int rc = wr_topology_parse(yaml, strlen(yaml), "chaos.yaml", &t, err);
    wr_topology_destroy(&t);
    return rc;
}

static void s_refused(wr_chaos_job_t j, const char *why)
{
    wr_strbuf_t yaml, err;
    wr_strbuf_init(&yaml);
    wr_strbuf_init(&err);
    assert_int_equal(wr_chaos_job_yaml(&j, "out", true, 0, &yaml, &err), WR_EINVAL);
    assert_int_equal(yaml.len, 0);
    if (!err.buf || !strstr(err.buf, why)) fail_msg("'%s' does not say %s", err.buf, why);
    wr_strbuf_release(&yaml);
    wr_strbuf_release(&err);
}

static void test_the_job_yaml(void **state)
{
    (void)state;
    wr_chaos_job_t j = s_job();
    wr_strbuf_t yaml, err;
    wr_strbuf_init(&yaml);
    wr_strbuf_init(&err);
    for (int k = 0; k < 3; k++) { /* exactly once, at least once, exactly once with the fault */
        wr_strbuf_reset(&yaml);
        assert_int_equal(wr_chaos_job_yaml(&j, "/tmp/a \"b\"", k != 1, k == 2 ? 3 : 0, &yaml, &err),
                         0);
        if (s_parse(yaml.buf, &err)) fail_msg("%s\n%s", err.buf, yaml.buf);
        assert_int_equal(strstr(yaml.buf, "test_skip_commit: 3") != NULL, k == 2);
    }
    /* the fault needs the exactly-once sink: the sink refuses it, and so does the job */
    char *at = strstr(yaml.buf, "exactly_once: true");
    const char *plain = ps_fmt("%.*sexactly_once: false%s", (int)(at - yaml.buf), yaml.buf,
                               at + strlen("exactly_once: true"));
    assert_int_equal(s_parse(plain, &err), WR_ECONFIG);
    if (!strstr(err.buf, "test_skip_commit is only for exactly_once: true"))
        fail_msg("%s\n%s", err.buf, plain);
    wr_strbuf_reset(&yaml);
    assert_int_equal(wr_chaos_job_yaml(&j, "out", false, 3, &yaml, &err), WR_EINVAL);
    wr_strbuf_release(&yaml);
    wr_strbuf_release(&err);

    wr_chaos_job_t bad = j;
    bad.gen.total = 0;
    s_refused(bad, "total is 0");
    bad = j;
    bad.ooo_ms = bad.gen.jitter_ms - 1;
    s_refused(bad, "max_out_of_orderness is below the generator's jitter");
    bad = j;
    bad.size_ms = 90000;
    s_refused(bad, "not a multiple of its slide");
    bad = j;
    bad.gen.late_fraction = 0.1;
    s_refused(bad, "late_fraction");
    bad = j;
    bad.gen.interval_ms = 1;
    bad.size_ms = INT64_C(1) << 27;
    bad.slide_ms = INT64_C(1) << 15;
    s_refused(bad, "2^26 readings");
    bad.slide_ms = INT64_C(1) << 14;
    s_refused(bad, "more than 4096 slides");
    bad = j;
    bad.gen.interval_ms = INT64_C(1) << 31; /* 400 rounds of it, in slides of 1 ms */
    bad.size_ms = 1000;
    bad.slide_ms = 1;
    s_refused(bad, "2^32 slides");
    bad = j;
    bad.slide_ms = 0;
    s_refused(bad, "0 < slide <= size");
    bad = j;
    bad.parallelism = 0;
    s_refused(bad, "parallelism is 0");
    bad = j;
    bad.gen.devices = 0;
    s_refused(bad, "generator's configuration");
}

/* ---- the oracle against brute force ---- */

typedef struct {
    int64_t device, start;
    int64_t n;
    double lo, hi, sum;
} s_brute_t;

/* Every record, every window it is in (checked as start <= ts < start + size over every
 * multiple of slide near ts), in offset order; a linear table. */
static void s_brute_force(const wr_chaos_job_t *j)
{
    wr_generator_t *g = wr_generator_new(&j->gen);
    assert_non_null(g);
    size_t cap = 4096, n = 0;
    s_brute_t *res = ps_alloc(cap * sizeof *res);
    for (uint64_t o = 0; o < j->gen.total; o++) {
        wr_generator_record_t r;
        wr_generator_record(g, o, &r);
        int64_t k0 = (r.ts - j->size_ms) / j->slide_ms - 2;
        for (int64_t k = k0; k * j->slide_ms <= r.ts + j->slide_ms; k++) {
            int64_t s = k * j->slide_ms;
            if (!(s <= r.ts && r.ts < s + j->size_ms)) continue;
            size_t i = 0;
            while (i < n && !(res[i].device == r.device && res[i].start == s))
                i++;
            if (i == n) {
                assert_true(n < cap);
                res[n++] = (s_brute_t){r.device, s, 0, r.temperature, r.temperature, 0};
            }
            res[i].n++;
            res[i].sum += r.temperature;
            if (r.temperature < res[i].lo) res[i].lo = r.temperature;
            if (r.temperature > res[i].hi) res[i].hi = r.temperature;
        }
    }
    wr_generator_destroy(&g);
    int err = 0;
    wr__chaos_expect_t *e = wr__chaos_expect_new(j, 0, (int64_t)j->gen.devices, &err);
    assert_non_null(e);
    assert_int_equal(wr__chaos_expect_count(e), n);
    bool negative = false;
    for (size_t i = 0; i < n; i++) {
        wr__chaos_row_t row;
        assert_true(wr__chaos_expect_get(e, res[i].device, res[i].start, &row));
        assert_int_equal(row.end, res[i].start + j->size_ms);
        assert_int_equal(row.n, res[i].n);
        assert_true(row.lo == res[i].lo && row.hi == res[i].hi);
        assert_true(row.sum == res[i].sum); /* both add in offset order */
        negative |= res[i].start < 0;
    }
    assert_true(negative); /* windows before the epoch were in it */
    wr__chaos_expect_destroy(&e);
    assert_null(e);
    /* the devices [2, 5) alone: theirs and no other */
    assert_non_null(e = wr__chaos_expect_new(j, 2, 5, &err));
    size_t in_range = 0;
    for (size_t i = 0; i < n; i++) {
        wr__chaos_row_t row;
        bool mine = res[i].device >= 2 && res[i].device < 5;
        in_range += mine;
        assert_int_equal(wr__chaos_expect_get(e, res[i].device, res[i].start, &row), mine);
        if (mine) assert_true(row.n == res[i].n && row.sum == res[i].sum);
    }
    assert_int_equal(wr__chaos_expect_count(e), in_range);
    wr__chaos_expect_destroy(&e);
}

static void test_the_oracle_equals_brute_force(void **state)
{
    (void)state;
    wr_chaos_job_t j;
    wr_chaos_job_default(&j);
    j.gen.devices = 7;
    j.gen.total = 400;
    j.gen.start_ms = 1333; /* not aligned; the first readings fall before the epoch */
    j.gen.interval_ms = 10000;
    j.gen.jitter_ms = 3000;
    j.ooo_ms = 3000;
    j.size_ms = 60000;
    j.slide_ms = 20000;
    s_brute_force(&j);
    j.slide_ms = j.size_ms = 30000; /* tumbling */
    s_brute_force(&j);
    j.size_ms = 70000, j.slide_ms = 7000;
    j.gen.seed = 99;
    s_brute_force(&j);
}

/* ---- the line parser ---- */

static int s_line(const char *line, char *why)
{
    wr__chaos_row_t row;
    return wr__chaos_parse_line(line, strlen(line), &row, why, 160);
}

static void test_the_line_parser(void **state)
{
    (void)state;
    wr__chaos_row_t row = {.device = 12,
                           .start = -60000,
                           .end = 540000,
                           .n = 3,
                           .lo = 20.0,
                           .hi = 21.25,
                           .sum = 62.125},
                    back;
    char text[WR_CHAOS_EXAMPLE_MAX], why[160];
    wr__chaos_format_row(&row, text, sizeof text);
    assert_string_equal(text, "{\"device\":12,\"window_start\":-60000,\"window_end\":540000,"
                              "\"n\":3,\"lo\":20.0,\"hi\":21.25,\"sum\":62.125}");
    assert_int_equal(wr__chaos_parse_line(text, strlen(text), &back, why, sizeof why), 0);
    assert_memory_equal(&row, &back, sizeof row);
    /* any order, whitespace, an integral double without ".0" */
    assert_int_equal(s_line(" {\"sum\":1,\"n\":1,\"hi\":1,\"lo\":1e0,\"window_end\":2,"
                            "\"window_start\":1,\"device\":0} ",
                            why),
                     0);
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"", "empty line"},
        {"[1]", "not a JSON object"},
        {"{\"device\":1", "malformed JSON"},
        {"{\"device\":1,\"window_start\":1,\"window_end\":2,\"n\":1,\"lo\":1,\"hi\":1,"
         "\"sum\":1} x",
         "malformed JSON"},
        {"{\"device\":\"1\"}", "'device' is not an integer"},
        {"{\"n\":1.0}", "'n' is not an integer"},
        {"{\"n\":99999999999999999999}", "'n' is not an integer"},
        {"{\"sum\":null}", "'sum' is null"},
        {"{\"lo\":true}", "'lo' is not a number"},
        {"{\"device\":1,\"device\":1}", "'device' given twice"},
        {"{\"p95\":1}", "unknown key 'p95'"},
        {"{\"device\":1,\"window_start\":1,\"window_end\":2,\"n\":1,\"lo\":1,\"hi\":1}",
         "no 'sum'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(s_line(bad[i].line, why), WR_EPROTO);
        if (!strstr(why, bad[i].why)) fail_msg("%s: '%s', not '%s'", bad[i].line, why, bad[i].why);
    }
    /* a NUL inside and a short reason buffer */
    assert_int_equal(wr__chaos_parse_line("{\"n\0\":1}", 8, &back, why, 4), WR_EPROTO);
    assert_int_equal(strlen(why), 3);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_chaos_check", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_line_parser),
        cmocka_unit_test(test_the_oracle_equals_brute_force),
        S_TEST(test_the_job_yaml),
        S_TEST(test_the_real_output_is_valid),
        S_TEST(test_a_dropped_line_is_lost),
        S_TEST(test_a_duplicated_line_is_duplicated),
        S_TEST(test_a_changed_value_is_unexpected_and_its_result_lost),
        S_TEST(test_a_garbage_line_is_unexpected),
        S_TEST(test_a_torn_last_line_is_unexpected_and_its_result_lost),
        S_TEST(test_an_empty_folder_is_all_lost_and_a_missing_path_not_found),
        S_TEST(test_the_skip_commit_fault_shows_lost_results),
        S_TEST(test_passes_give_the_verdict_of_one),
        S_TEST(test_a_budget_below_one_device_is_refused),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir chaos: the job and its checker", tests, s_group_setup,
                                       ps_group_teardown);
}
