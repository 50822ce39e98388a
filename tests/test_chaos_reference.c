/* The comparison of `weir chaos --topology` (cli/chaos_reference.h, cli/chaos_topology.h): lines
 * of a run against a reference's, as multisets. Equal outputs (in any order) are valid; a line
 * missing, repeated or foreign is lost, duplicated or unexpected with exactly the right counts
 * and the first example; JSON objects compare field by field (non-integer numbers within a
 * relative 1e-9, everything else exactly), other lines byte for byte; lines of two outputs never
 * match; both layouts of a file sink (a folder of part files, one file) are read, a torn line of
 * the run is unexpected and one of the reference an error; the topology checks refuse what
 * --topology cannot run. Files live in the harness's directory, removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus/base/error.h"
#include "cli/chaos_reference.h"
#include "cli/chaos_topology.h"
#include "tests/support/process.h"

/* The verdict of run's lines against ref's (each a NULL-terminated list; one output). */
static wr_chaos_verdict_t s_compare(const char *const *ref, const char *const *run)
{
    wr_chaos_ref_t *t = wr_chaos_ref_new();
    assert_non_null(t);
    for (; *ref; ref++)
        assert_int_equal(wr_chaos_ref_add(t, 0, *ref, strlen(*ref)), 0);
    for (int i = 0; run[i]; i++)
        assert_int_equal(wr_chaos_ref_see(t, 0, run[i], strlen(run[i]), ps_fmt("line %d", i + 1)),
                         0);
    wr_chaos_verdict_t v;
    wr_chaos_ref_verdict(t, &v);
    wr_chaos_ref_destroy(&t);
    assert_null(t);
    return v;
}

#define S_LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void s_counts(const wr_chaos_verdict_t *v, uint64_t expected, uint64_t ok, uint64_t lost,
                     uint64_t dup, uint64_t unexp)
{
    if (v->expected != expected || v->ok != ok || v->lost != lost || v->duplicated != dup ||
        v->unexpected != unexp)
        fail_msg("expected %llu ok %llu lost %llu duplicated %llu unexpected %llu; want %llu %llu "
                 "%llu %llu %llu (first lost '%s', duplicated '%s', unexpected '%s')",
                 (unsigned long long)v->expected, (unsigned long long)v->ok,
                 (unsigned long long)v->lost, (unsigned long long)v->duplicated,
                 (unsigned long long)v->unexpected, (unsigned long long)expected,
                 (unsigned long long)ok, (unsigned long long)lost, (unsigned long long)dup,
                 (unsigned long long)unexp, v->first_lost, v->first_duplicated,
                 v->first_unexpected);
    assert_int_equal(v->valid, !lost && !dup && !unexp);
}

#define A "{\"device\":1,\"window_start\":0,\"n\":10,\"avg\":20.5,\"region\":\"north\"}"
#define B "{\"device\":2,\"window_start\":0,\"n\":7,\"avg\":19.25,\"region\":\"south\"}"
#define C "{\"device\":3,\"window_start\":0,\"n\":3,\"avg\":-4.125,\"region\":\"east\"}"

static void test_equal_outputs_in_any_order_are_valid(void **state)
{
    (void)state;
    wr_chaos_verdict_t v = s_compare(S_LINES(A, B, C), S_LINES(C, A, B));
    s_counts(&v, 3, 3, 0, 0, 0);
    assert_int_equal(v.lines, 3);
    assert_string_equal(v.first_lost, "");
    v = s_compare(S_LINES(A, A, B), S_LINES(A, B, A)); /* a line written twice: one result */
    s_counts(&v, 2, 2, 0, 0, 0);
}

static void test_a_missing_line_is_lost(void **state)
{
    (void)state;
    wr_chaos_verdict_t v = s_compare(S_LINES(A, B, C), S_LINES(A, C));
    s_counts(&v, 3, 2, 1, 0, 0);
    assert_non_null(strstr(v.first_lost, "\"device\":2"));
    assert_non_null(strstr(v.first_lost, "found 0 times, the reference has it 1"));
    /* fewer times than the reference has it */
    v = s_compare(S_LINES(A, A, B), S_LINES(A, B));
    s_counts(&v, 2, 1, 1, 0, 0);
    assert_non_null(strstr(v.first_lost, "found 1 times, the reference has it 2"));
}

static void test_a_repeated_line_is_duplicated(void **state)
{
    (void)state;
    wr_chaos_verdict_t v = s_compare(S_LINES(A, B, C), S_LINES(A, B, B, C, B));
    s_counts(&v, 3, 2, 0, 1, 0);
    assert_non_null(strstr(v.first_duplicated, "\"device\":2"));
    assert_non_null(strstr(v.first_duplicated, "found 3 times, the reference has it 1"));
    assert_int_equal(v.lines, 5);
}

static void test_a_foreign_line_is_unexpected(void **state)
{
    (void)state;
    const char *d = "{\"device\":4,\"window_start\":0,\"n\":1,\"avg\":1.5,\"region\":\"west\"}";
    wr_chaos_verdict_t v = s_compare(S_LINES(A, B), S_LINES(A, d, B));
    s_counts(&v, 2, 2, 0, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "\"device\":4"));
    assert_non_null(strstr(v.first_unexpected, "no line of the reference has these values"));
    assert_non_null(strstr(v.first_unexpected, "line 2"));
}

static void test_non_integer_numbers_within_a_relative_1e9(void **state)
{
    (void)state;
    /* the same sum added in another order; a relative 5e-10 apart; the same value written
     * otherwise */
    wr_chaos_verdict_t v = s_compare(
        S_LINES("{\"k\":1,\"s\":0.30000000000000004}", "{\"k\":2,\"s\":1000.0}",
                "{\"k\":3,\"s\":2.5e2}"),
        S_LINES("{\"k\":1,\"s\":0.3}", "{\"k\":2,\"s\":1000.0000005}", "{\"k\":3,\"s\":250.0}"));
    s_counts(&v, 3, 3, 0, 0, 0);
    /* a relative 2e-9 apart: another value; the reference's result lost */
    v = s_compare(S_LINES("{\"k\":2,\"s\":1000.0}"), S_LINES("{\"k\":2,\"s\":1000.000002}"));
    s_counts(&v, 1, 0, 1, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "number 1 of the line is 1000.000002"));
    /* negative numbers, and 0 against a tiny value (relative: no slack at 0) */
    v = s_compare(S_LINES("{\"s\":-7.25}", "{\"z\":0.0}"),
                  S_LINES("{\"s\":-7.2500000001}", "{\"z\":1e-300}"));
    s_counts(&v, 2, 1, 1, 0, 1);
    /* two results a relative 1.5e-9 apart, and lines within 1e-9 of both: each line counts for
     * the first result not found yet */
    v = s_compare(S_LINES("{\"s\":1.0}", "{\"s\":1.0000000015}"),
                  S_LINES("{\"s\":1.00000000075}", "{\"s\":1.00000000075}"));
    s_counts(&v, 2, 2, 0, 0, 0);
}

static void test_integers_strings_booleans_exactly(void **state)
{
    (void)state;
    wr_chaos_verdict_t v =
        s_compare(S_LINES("{\"n\":10}", "{\"r\":\"north\"}", "{\"b\":true}", "{\"x\":null}",
                          "{\"big\":123456789012345678901234567890}", "{\"i\":1}"),
                  S_LINES("{\"n\":11}", "{\"r\":\"North\"}", "{\"b\":false}", "{\"x\":0}",
                          "{\"big\":123456789012345678901234567891}", "{\"i\":1.0}"));
    s_counts(&v, 6, 0, 6, 0, 6);
    /* whitespace between tokens and a string's escapes do not matter; keys and their order do */
    v = s_compare(S_LINES("{\"r\":\"x\",\"n\":[1,2,{\"a\":0.5}]}", "{\"a\":1,\"b\":2}"),
                  S_LINES("{ \"r\" : \"\\u0078\" , \"n\" : [ 1 , 2 , {\"a\":0.5000000000001} ] }",
                          "{\"b\":2,\"a\":1}"));
    s_counts(&v, 2, 1, 1, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "{\"b\":2,\"a\":1}"));
    v = s_compare(S_LINES("{\"a\":1}"), S_LINES("{\"b\":1}"));
    s_counts(&v, 1, 0, 1, 0, 1);
}

static void test_other_lines_byte_for_byte(void **state)
{
    (void)state;
    wr_chaos_verdict_t v = s_compare(S_LINES("hello", "[1, 2]", "{\"a\":1", "", "3.0"),
                                     S_LINES("hello", "[1, 2]", "{\"a\":1", "", "3.0"));
    s_counts(&v, 5, 5, 0, 0, 0);
    v = s_compare(S_LINES("hello", "[1, 2]", "{\"a\":1", "3.0"),
                  S_LINES("hello ", "[1,2]", "{\"a\": 1", "3.00"));
    s_counts(&v, 4, 0, 4, 0, 4);
    assert_non_null(strstr(v.first_unexpected, "no line of the reference is this one"));
    /* a key too long to read whole is compared as written: these differ past its 64th byte */
    char k1[200], k2[200];
    snprintf(k1, sizeof k1, "{\"%080d1\":1.0}", 0);
    snprintf(k2, sizeof k2, "{\"%080d2\":1.0}", 0);
    v = s_compare(S_LINES(k1), S_LINES(k2));
    s_counts(&v, 1, 0, 1, 0, 1);
}

static void test_two_outputs_never_match(void **state)
{
    (void)state;
    wr_chaos_ref_t *t = wr_chaos_ref_new();
    assert_int_equal(wr_chaos_ref_add(t, 0, A, strlen(A)), 0);
    assert_int_equal(wr_chaos_ref_add(t, 1, B, strlen(B)), 0);
    assert_int_equal(wr_chaos_ref_see(t, 1, A, strlen(A), ""), 0);
    assert_int_equal(wr_chaos_ref_see(t, 0, B, strlen(B), ""), 0);
    wr_chaos_verdict_t v;
    wr_chaos_ref_verdict(t, &v);
    s_counts(&v, 2, 0, 2, 0, 2);
    wr_chaos_ref_destroy(&t);
}

static void test_many_lines_grow_the_table(void **state)
{
    (void)state;
    wr_chaos_ref_t *t = wr_chaos_ref_new();
    enum { N = 50000 };
    char line[96];
    for (int i = 0; i < N; i++) {
        int n = snprintf(line, sizeof line, "{\"k\":%d,\"v\":%.3f}", i, i * 0.001);
        assert_int_equal(wr_chaos_ref_add(t, 0, line, (size_t)n), 0);
    }
    for (int i = N - 1; i >= 1; i--) { /* all but k 0, in another order, k 7 twice */
        int n = snprintf(line, sizeof line, "{\"k\":%d,\"v\":%.3f}", i, i * 0.001);
        assert_int_equal(wr_chaos_ref_see(t, 0, line, (size_t)n, ""), 0);
        if (i == 7) assert_int_equal(wr_chaos_ref_see(t, 0, line, (size_t)n, ""), 0);
    }
    wr_chaos_verdict_t v;
    wr_chaos_ref_verdict(t, &v);
    s_counts(&v, N, N - 2, 1, 1, 0);
    assert_non_null(strstr(v.first_lost, "{\"k\":0,"));
    assert_non_null(strstr(v.first_duplicated, "{\"k\":7,"));
    wr_chaos_ref_destroy(&t);
}

/* ---- the sinks' files (cli/chaos_topology.h) ---- */

static const char s_topo[] = "name: t\n"
                             "sources:\n"
                             "  - type: generator\n"
                             "    devices: 10\n"
                             "    total: 100\n"
                             "%s"
                             "sinks:\n"
                             "  - type: file\n"
                             "    path: out\n"
                             "    exactly_once: true\n"
                             "    name: parts\n"
                             "  - type: file\n"
                             "    path: one.jsonl\n"
                             "%s";

/* A topology file with the two file sinks (extra keys in the source and a last sink) loaded. */
static int s_load(const char *source_extra, const char *sink_extra, wr_topology_t **t,
                  wr_strbuf_t *err)
{
    const char *path = ps_path("job.yaml");
    ps_write_file(path, ps_fmt(s_topo, source_extra, sink_extra));
    return wr_chaos_topo_load(path, t, err);
}

static void s_mkdir(const char *path)
{
    if (mkdir(path, 0755)) fail_msg("mkdir %s", path);
}

static void test_both_sink_layouts(void **state)
{
    (void)state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    assert_int_equal(s_load("", "", &t, &err), 0);
    const char *ref = ps_path("ref"), *run = ps_path("run");
    s_mkdir(ref);
    s_mkdir(run);
    assert_int_equal(wr_chaos_topo_place(t, run, &err), 0);
    assert_string_equal(*(char **)t->sinks[0].config, ps_fmt("%s/parts", run));
    assert_string_equal(*(char **)t->sinks[1].config, ps_fmt("%s/sink-2.jsonl", run));
    const char *dirs[] = {ref, run};
    for (int i = 0; i < 2; i++)
        s_mkdir(ps_fmt("%s/parts", dirs[i]));
    /* the reference: part files of two subtasks and one file */
    ps_write_file(ps_fmt("%s/parts/part-0-0-0.jsonl", ref), A "\n" B "\n");
    ps_write_file(ps_fmt("%s/parts/part-1-0-0.jsonl", ref), C "\n");
    ps_write_file(ps_fmt("%s/sink-2.jsonl", ref), A "\n");
    /* the run: the same lines cut otherwise, a hidden in-progress file (no output), and the
     * one file's line is the other sink's */
    ps_write_file(ps_fmt("%s/parts/part-0-1-0.jsonl", run), C "\n" A "\n");
    ps_write_file(ps_fmt("%s/parts/part-1-1-0.jsonl", run), B "\n");
    ps_write_file(ps_fmt("%s/parts/.part-2-0-0.inprogress", run), "junk\n");
    ps_write_file(ps_fmt("%s/sink-2.jsonl", run), A "\n");
    wr_chaos_verdict_t v;
    assert_int_equal(wr_chaos_topo_compare(t, ref, run, &v, &err), 0);
    s_counts(&v, 4, 4, 0, 0, 0);
    assert_int_equal(v.files, 3);
    assert_int_equal(v.lines, 4);
    /* the one file with B instead: A of sink 2 lost, B unexpected there (not sink 1's) */
    ps_write_file(ps_fmt("%s/sink-2.jsonl", run), B "\n");
    assert_int_equal(wr_chaos_topo_compare(t, ref, run, &v, &err), 0);
    s_counts(&v, 4, 3, 1, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "sink-2.jsonl:1"));
    /* a torn last line of the run is unexpected */
    ps_write_file(ps_fmt("%s/sink-2.jsonl", run), A "\n" A);
    assert_int_equal(wr_chaos_topo_compare(t, ref, run, &v, &err), 0);
    s_counts(&v, 4, 4, 0, 0, 1);
    assert_non_null(strstr(v.first_unexpected, "torn"));
    /* ... and one of the reference cannot be compared; nor can a missing output */
    ps_write_file(ps_fmt("%s/sink-2.jsonl", ref), A "\n" A);
    wr_strbuf_reset(&err);
    assert_int_equal(wr_chaos_topo_compare(t, ref, run, &v, &err), WR_EPROTO);
    assert_non_null(strstr(err.buf, "sink-2.jsonl:2: a last line without its newline (torn)"));
    ps_write_file(ps_fmt("%s/sink-2.jsonl", ref), A "\n");
    assert_int_equal(remove(ps_fmt("%s/sink-2.jsonl", run)), 0);
    wr_strbuf_reset(&err);
    assert_int_equal(wr_chaos_topo_compare(t, ref, run, &v, &err), WR_ENOTFOUND);
    assert_non_null(strstr(err.buf, "sink-2.jsonl"));
    wr_topology_destroy(&t);
    wr_strbuf_release(&err);
}

static void s_refused(const char *source_extra, const char *sink_extra, const char *why)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    assert_int_equal(s_load(source_extra, sink_extra, &t, &err), WR_ECONFIG);
    assert_null(t);
    if (!strstr(err.buf, why)) fail_msg("'%s' does not say '%s'", err.buf, why);
    wr_strbuf_release(&err);
}

static void test_what_topology_cannot_run_is_refused(void **state)
{
    (void)state;
    /* an unbounded generator: its job never ends */
    const char *path = ps_path("unbounded.yaml");
    ps_write_file(path, "sources:\n  - type: generator\n    devices: 10\n"
                        "sinks:\n  - type: file\n    path: out\n");
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    assert_int_equal(wr_chaos_topo_load(path, &t, &err), WR_ECONFIG);
    assert_null(t);
    assert_non_null(strstr(err.buf, "sources[0] (source-1): the job must end by itself"));
    assert_non_null(strstr(err.buf, "a generator without a total never ends"));
    /* a late sink: what it holds depends on timing */
    path = ps_path("late.yaml");
    ps_write_file(path, "sources:\n  - type: generator\n    devices: 10\n    total: 100\n"
                        "key_by: device\nevent_time:\n  field: ts\n"
                        "window:\n  type: tumbling\n  size: 1min\n"
                        "  late_sink: {type: file, path: late.jsonl}\n"
                        "aggregates:\n  n: count()\n"
                        "sinks:\n  - type: file\n    path: out\n");
    wr_strbuf_reset(&err);
    assert_int_equal(wr_chaos_topo_load(path, &t, &err), WR_ECONFIG);
    assert_null(t);
    assert_non_null(strstr(err.buf, "window.late_sink: which records come late depends on timing"));
    wr_strbuf_release(&err);
    /* a sink that is no file sink */
    s_refused("", "  - type: stdout\n", "sinks[2] (sink-3): a stdout sink, not a file sink");
    s_refused("", "  - type: collect\n", "not a file sink");
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_chaos_reference", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_outputs_in_any_order_are_valid),
        cmocka_unit_test(test_a_missing_line_is_lost),
        cmocka_unit_test(test_a_repeated_line_is_duplicated),
        cmocka_unit_test(test_a_foreign_line_is_unexpected),
        cmocka_unit_test(test_non_integer_numbers_within_a_relative_1e9),
        cmocka_unit_test(test_integers_strings_booleans_exactly),
        cmocka_unit_test(test_other_lines_byte_for_byte),
        cmocka_unit_test(test_two_outputs_never_match),
        cmocka_unit_test(test_many_lines_grow_the_table),
        S_TEST(test_both_sink_layouts),
        S_TEST(test_what_topology_cannot_run_is_refused),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir chaos --topology: the comparison", tests,
                                       s_group_setup, ps_group_teardown);
}
