/* Sinks: records through wr_sink_write, the text (stdout) and JSON (collect, file) lines compared
 * byte for byte with the printf-based formatting the sinks used before bus/numfmt
 * (actors/dataflow/record/rowfmt_ref.h, the oracle). */
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

#include "actors/dataflow/record/rowfmt.h"
#include "actors/dataflow/record/rowfmt_ref.h"
#include "actors/connectors/collect/collect_sink.h"
#include "actors/connectors/file/file.h"
#include "actors/connectors/file/sink_2pc.h"
#include "actors/connectors/stdout/stdout_sink.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/splitmix.h"
#include "tests/support/connector.h"

/* Lines of the records of b picked by sel (all when NULL), the old way. */
static void s_old_lines(const wr_batch_t *b, const uint32_t *sel, uint32_t nsel, bool json,
                        wr_strbuf_t *out)
{
    uint32_t n = sel ? nsel : b->count;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = sel ? sel[k] : k;
        wr__rowfmt_ref_row(b, i, json, out);
    }
}

/* ---- batches ---- */

static double s_rand_double(uint64_t *r)
{
    static const double special[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 1e300, 5e-324, 0.5, 1e15};
    uint64_t k = wr_splitmix64(r);
    switch (k % 5) {
    case 0: {
        double d;
        uint64_t b = wr_splitmix64(r);
        memcpy(&d, &b, sizeof d);
        return d;
    }
    case 1:
        return special[(k >> 8) % (sizeof special / sizeof special[0])];
    case 2:
        return (double)(int64_t)(wr_splitmix64(r) >> (k >> 8) % 64);
    default:
        return 15 + (double)(wr_splitmix64(r) % 20000) / 1000 / (double)(1 + (k >> 8) % 7);
    }
}

static const char *const s_strings[] = {
    "",         "plain",       "quote\" back\\slash", "tab\tnl\n",
    "\x01\x1f", "caf\xc3\xa9", "bad \xff utf8",       "d-0042"};

/* A batch of n records of schema with random values; times in runs of equal values, as the
 * window bounds of one firing. */
static wr_batch_t *s_batch(const wr_schema_t *schema, uint32_t n, uint64_t seed)
{
    wr_batch_t *b = wr_batch_new(schema, n);
    assert_non_null(b);
    uint64_t r = seed;
    int64_t t = 1700000000000LL;
    for (uint32_t i = 0; i < n; i++) {
        if (wr_splitmix64(&r) % 8 == 0) t += (int64_t)(wr_splitmix64(&r) % 100000000) - 20000000;
        if (wr_splitmix64(&r) % 50 == 0)
            t = (int64_t)(wr_splitmix64(&r) >> 20) - (1LL << 43); /* anywhen */
        for (uint32_t f = 0; f < schema->n; f++) {
            uint64_t k = wr_splitmix64(&r);
            switch (schema->f[f].type) {
            case WR_T_INT:
                wr_batch_i64(b, (int)f)[i] = k % 3 ? (int64_t)k % 100000 : (int64_t)k;
                break;
            case WR_T_TIME:
                wr_batch_i64(b, (int)f)[i] = t + (int64_t)(f % 2) * 60000;
                break;
            case WR_T_BOOL:
                wr_batch_i64(b, (int)f)[i] = (int64_t)(k & 1);
                break;
            case WR_T_DOUBLE:
                wr_batch_f64(b, (int)f)[i] = s_rand_double(&r);
                break;
            case WR_T_STRING: {
                const char *s = s_strings[k % (sizeof s_strings / sizeof s_strings[0])];
                assert_int_equal(wr_batch_push_str(b, (int)f, s, (uint32_t)strlen(s)), 0);
                break;
            }
            }
        }
        b->count++;
    }
    return b;
}

static void s_schema(wr_schema_t *s, const char *types)
{
    wr_schema_init(s);
    for (int i = 0; types[i]; i++) {
        char name[WR_FIELD_NAME_MAX];
        snprintf(name, sizeof name, "f%02d_%.*s", i % 100, i % 3 ? 24 : 2,
                 "abcdefghijklmnopqrstuvwxyz");
        enum wr_type t = types[i] == 'n'   ? WR_T_INT
                         : types[i] == 'd' ? WR_T_DOUBLE
                         : types[i] == 't' ? WR_T_TIME
                         : types[i] == 'b' ? WR_T_BOOL
                                           : WR_T_STRING;
        assert_int_equal(wr_schema_add(s, name, t), 0);
    }
}

/* ---- the sinks against the oracle ---- */

/* What a stdout sink (format: text or json) writes for b (sel as wr_sink_write takes it). */
static void s_stdout_sink(const wr_batch_t *b, const uint32_t *sel, uint32_t nsel, int format,
                          wr_strbuf_t *got)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    assert_non_null(f);
    wr_stdout_sink_config_t cfg = {.out = f, .format = format};
    int rc = 0;
    wr_sink_t *s = cs_sink_open(&wr_stdout_connector, &cfg, &b->schema, 0, 0, &rc);
    assert_non_null(s);
    assert_int_equal(wr_sink_write(s, b, sel, nsel), 0);
    assert_int_equal(wr_sink_write(s, b, sel, nsel), 0); /* again: the time caches are warm */
    assert_int_equal(wr_sink_records(s), 2 * (sel ? nsel : b->count));
    wr_sink_destroy(&s);
    assert_null(s);
    fclose(f);
    wr_strbuf_add(got, mem, len);
    free(mem);
}

static void s_check(const char *types, uint32_t n, uint64_t seed)
{
    wr_schema_t schema;
    s_schema(&schema, types);
    wr_batch_t *b = s_batch(&schema, n, seed);
    uint32_t sel[] = {n - 1, 0, n / 2, n / 2};
    for (int pick = 0; pick < 2; pick++) {
        const uint32_t *sp = pick ? sel : NULL;
        uint32_t ns = pick ? 4 : 0;
        wr_strbuf_t want, got;
        wr_strbuf_init(&want);
        wr_strbuf_init(&got);

        s_old_lines(b, sp, ns, false, &want);
        s_old_lines(b, sp, ns, false, &want);
        s_stdout_sink(b, sp, ns, WR_STDOUT_TEXT, &got);
        assert_string_equal(got.buf, want.buf);

        wr_strbuf_reset(&want);
        wr_strbuf_reset(&got);
        s_old_lines(b, sp, ns, true, &want);
        s_old_lines(b, sp, ns, true, &want);
        s_stdout_sink(b, sp, ns, WR_STDOUT_JSON, &got);
        assert_string_equal(got.buf, want.buf);

        wr_strbuf_reset(&want);
        s_old_lines(b, sp, ns, true, &want);
        wr_collect_sink_config_t cc = {0};
        int rc = 0;
        wr_sink_t *c = cs_sink_open(&wr_collect_connector, &cc, &schema, 0, 0, &rc);
        assert_non_null(c);
        assert_int_equal(wr_sink_write(c, b, sp, ns), 0);
        assert_string_equal(wr_sink_collected(c)->buf, want.buf);
        wr_sink_destroy(&c);

        wr_strbuf_reset(&got);
        uint32_t one = sp ? sp[0] : 0;
        wr_rowfmt_json_object(b, one, &got);
        wr_strbuf_reset(&want);
        wr__rowfmt_ref_json(b, one, &want);
        assert_string_equal(got.buf, want.buf);

        wr_strbuf_release(&want);
        wr_strbuf_release(&got);
    }
    wr_batch_destroy(&b);
}

static void test_iot_results(void **state)
{
    (void)state;
    s_check("nttndddd", 2000, 1); /* device, window start/end, count, sum/min/max/avg */
}

static void test_every_type(void **state)
{
    (void)state;
    for (uint64_t seed = 10; seed < 20; seed++)
        s_check("sntdbsdt", 500, seed);
    s_check("s", 50, 2);
    s_check("b", 50, 3);
}

/* 64 fields with long names: the row's reservation must cover the widest values. */
static void test_wide_rows(void **state)
{
    (void)state;
    char types[WR_SCHEMA_MAX_FIELDS + 1];
    for (int i = 0; i < WR_SCHEMA_MAX_FIELDS; i++)
        types[i] = "dtnbds"[i % 6];
    types[WR_SCHEMA_MAX_FIELDS] = '\0';
    s_check(types, 200, 4);
    memset(types, 'd', WR_SCHEMA_MAX_FIELDS);
    s_check(types, 200, 5);
}

static void test_no_fields(void **state)
{
    (void)state;
    wr_schema_t schema;
    wr_schema_init(&schema);
    wr_batch_t *b = wr_batch_new(&schema, 2);
    b->count = 2;
    wr_strbuf_t got;
    wr_strbuf_init(&got);
    s_stdout_sink(b, NULL, 0, WR_STDOUT_TEXT, &got);
    assert_string_equal(got.buf, "\n\n\n\n");
    wr_collect_sink_config_t cc = {0};
    int rc = 0;
    wr_sink_t *c = cs_sink_open(&wr_collect_connector, &cc, &schema, 0, 0, &rc);
    assert_int_equal(wr_sink_write(c, b, NULL, 0), 0);
    assert_string_equal(wr_sink_collected(c)->buf, "{}\n{}\n");
    wr_sink_destroy(&c);
    wr_strbuf_release(&got);
    wr_batch_destroy(&b);
}

/* The file sink appends the same JSON lines to its file. */
static void test_file_sink(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_sink.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    wr_schema_t schema;
    s_schema(&schema, "nttndddd");
    wr_batch_t *b = s_batch(&schema, 300, 6);
    wr_strbuf_t want;
    wr_strbuf_init(&want);
    s_old_lines(b, NULL, 0, true, &want);
    s_old_lines(b, NULL, 0, true, &want);
    int err = 0;
    wr_file_sink_config_t cfg = {.path = path};
    wr_sink_t *s = cs_sink_open(&wr_file_connector, &cfg, &schema, 0, 0, &err);
    bool ok = s && wr_sink_write(s, b, NULL, 0) == 0 && wr_sink_write(s, b, NULL, 0) == 0 &&
              wr_sink_flush(s) == 0;
    wr_sink_destroy(&s);
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        text = calloc(1, want.len + 2);
        len = text ? fread(text, 1, want.len + 1, f) : 0;
        fclose(f);
    }
    unlink(path);
    rmdir(dir);
    assert_true(ok);
    assert_non_null(text);
    assert_int_equal(len, want.len);
    assert_memory_equal(text, want.buf, want.len);
    free(text);
    wr_strbuf_release(&want);
    wr_batch_destroy(&b);
}

/* Two exactly-once writers of one attempt and subtask in one folder (two jobs there at once):
 * the second cannot create its in-progress part file, and says which file. */
static void test_a_taken_part_file_is_named(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_sink.XXXXXX";
    assert_non_null(mkdtemp(dir));
    wr_schema_t schema;
    s_schema(&schema, "nttndddd");
    wr_batch_t *b = s_batch(&schema, 10, 6);
    int err = 0, rc1 = -1, rc2 = -1;
    wr_file_sink_config_t cfg = {.path = dir, .exactly_once = true};
    wr_sink_t *one = cs_sink_open(&wr_file_connector, &cfg, &schema, 3, 1, &err);
    wr_sink_t *two = cs_sink_open(&wr_file_connector, &cfg, &schema, 3, 1, &err);
    if (one && two) {
        rc1 = wr_sink_write(one, b, NULL, 0);
        rc2 = wr_sink_write(two, b, NULL, 0);
    }
    char on[256] = "";
    const char *failed_on = two ? wr_sink_failed_on(two) : NULL;
    snprintf(on, sizeof on, "%s", failed_on ? failed_on : "");
    bool one_clean = one && !wr_sink_failed_on(one);
    wr_sink_destroy(&one);
    wr_sink_destroy(&two);
    wr_batch_destroy(&b);
    wr_fs_rmtree(dir);
    assert_int_equal(rc1, 0);
    assert_true(one_clean);
    assert_int_equal(rc2, WR_EEXIST);
    char name[WR_SINK_2PC_NAME_MAX], want[128];
    wr_sink_2pc_name(&(wr_sink_2pc_part_t){.attempt = 3, .subtask = 1}, WR_SINK_2PC_INPROGRESS,
                     name);
    snprintf(want, sizeof want, "%s/%s", dir, name);
    assert_string_equal(on, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iot_results), cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_wide_rows),   cmocka_unit_test(test_no_fields),
        cmocka_unit_test(test_file_sink),   cmocka_unit_test(test_a_taken_part_file_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
