/* wr_jsonr: the strict JSON pull reader for untrusted replies (etcd's gateway). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/jsonr.h"

/* A reply as etcd 3.4's gateway writes kv/range: int64 as strings, bytes as base64. */
static void test_etcd_range_reply(void **state)
{
    (void)state;
    const char *doc =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"revision\":\"42\","
        "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"40\","
        "\"mod_revision\":\"41\",\"version\":\"2\",\"value\":\"YmFy\"}],\"count\":\"1\"}";
    wr_jsonr_t r;
    wr_jsonr_init(&r, doc, strlen(doc));
    int64_t rev = 0, create = 0, count = 0;
    wr_strbuf_t key, value;
    wr_strbuf_init(&key);
    wr_strbuf_init(&value);
    wr_jsonr_obj_begin(&r);
    while (wr_jsonr_obj_next(&r)) {
        if (strcmp(r.key, "header") == 0) {
            wr_jsonr_obj_begin(&r);
            while (wr_jsonr_obj_next(&r))
                if (strcmp(r.key, "revision") == 0)
                    wr_jsonr_read_int(&r, &rev);
                else
                    wr_jsonr_skip(&r); /* cluster_id does not fit an int64: skipped, not read */
        } else if (strcmp(r.key, "kvs") == 0) {
            wr_jsonr_arr_begin(&r);
            while (wr_jsonr_arr_next(&r)) {
                wr_jsonr_obj_begin(&r);
                while (wr_jsonr_obj_next(&r)) {
                    if (strcmp(r.key, "key") == 0)
                        wr_jsonr_read_base64(&r, &key);
                    else if (strcmp(r.key, "value") == 0)
                        wr_jsonr_read_base64(&r, &value);
                    else if (strcmp(r.key, "create_revision") == 0)
                        wr_jsonr_read_int(&r, &create);
                    else
                        wr_jsonr_skip(&r);
                }
            }
        } else if (strcmp(r.key, "count") == 0) {
            wr_jsonr_read_int(&r, &count);
        } else {
            wr_jsonr_skip(&r);
        }
    }
    assert_int_equal(wr_jsonr_end(&r), 0);
    assert_int_equal(rev, 42);
    assert_int_equal(create, 40);
    assert_int_equal(count, 1);
    assert_string_equal(key.buf, "foo");
    assert_string_equal(value.buf, "bar");
    wr_strbuf_release(&key);
    wr_strbuf_release(&value);
}

static int s_read_int(const char *doc, int64_t *v)
{
    wr_jsonr_t r;
    wr_jsonr_init(&r, doc, strlen(doc));
    wr_jsonr_read_int(&r, v);
    return wr_jsonr_end(&r);
}

/* int64 as a number or as a string, exactly; everything else is WR_EPROTO. */
static void test_int64_both_forms(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(s_read_int("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(s_read_int("\"-9223372036854775808\"", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(s_read_int(" \"0\" ", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(s_read_int("-17", &v), 0);
    assert_int_equal(v, -17);
    static const char *bad[] = {"9223372036854775808",
                                "\"9223372036854775808\"",
                                "1.0",
                                "1e3",
                                "\"1e3\"",
                                "01",
                                "\"01\"",
                                "\" 1\"",
                                "\"1 \"",
                                "\"+1\"",
                                "\"\"",
                                "-",
                                "\"12\\u0030\"",
                                "true",
                                "null",
                                "[1]",
                                "\"1",
                                "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 99;
        if (s_read_int(bad[i], &v) != WR_EPROTO) fail_msg("%s read as an int64", bad[i]);
        assert_int_equal(v, 99);
    }
}

static void test_scalars_and_strings(void **state)
{
    (void)state;
    const char *doc =
        "[null, true, false, -0.5e2, \"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
        " \"\xc3\xa9\", {}, []]";
    wr_jsonr_t r;
    wr_jsonr_init(&r, doc, strlen(doc));
    bool t = false, f = true;
    double d = 0;
    wr_strbuf_t s1, s2;
    wr_strbuf_init(&s1);
    wr_strbuf_init(&s2);
    wr_jsonr_arr_begin(&r);
    assert_true(wr_jsonr_arr_next(&r));
    assert_int_equal(wr_jsonr_peek(&r), WR_JSONR_NULL);
    wr_jsonr_read_null(&r);
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_read_bool(&r, &t);
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_read_bool(&r, &f);
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_read_double(&r, &d);
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_read_str(&r, &s1);
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_read_str(&r, &s2);
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_obj_begin(&r);
    assert_false(wr_jsonr_obj_next(&r));
    assert_true(wr_jsonr_arr_next(&r));
    wr_jsonr_arr_begin(&r);
    assert_false(wr_jsonr_arr_next(&r));
    assert_false(wr_jsonr_arr_next(&r));
    assert_int_equal(wr_jsonr_end(&r), 0);
    assert_true(t);
    assert_false(f);
    assert_true(d == -50.0);
    assert_string_equal(s1.buf, "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(s2.buf, "\xc3\xa9");
    wr_strbuf_release(&s1);
    wr_strbuf_release(&s2);
}

/* Keys: escapes are decoded; a key too long for r.key reads as "". */
static void test_keys(void **state)
{
    (void)state;
    char doc[256];
    snprintf(doc, sizeof doc, "{\"k\\u0065y\":1,\"%070d\":2,\"key\":3}", 0);
    wr_jsonr_t r;
    wr_jsonr_init(&r, doc, strlen(doc));
    int64_t v[3] = {0};
    char keys[3][WR_JSONR_KEY_MAX];
    int n = 0;
    wr_jsonr_obj_begin(&r);
    while (wr_jsonr_obj_next(&r) && n < 3) {
        snprintf(keys[n], sizeof keys[n], "%s", r.key);
        wr_jsonr_read_int(&r, &v[n++]);
    }
    assert_int_equal(wr_jsonr_end(&r), 0);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0], "key");
    assert_string_equal(keys[1], "");
    assert_string_equal(keys[2], "key");
    assert_int_equal(v[1], 2);
}

static int s_skip_all(const char *doc, size_t len)
{
    wr_jsonr_t r;
    wr_jsonr_init(&r, doc, len);
    wr_jsonr_skip(&r);
    return wr_jsonr_end(&r);
}

static void test_skip_accepts_valid(void **state)
{
    (void)state;
    static const char *good[] = {"0",
                                 "-0",
                                 "1.5E+3",
                                 "\"\"",
                                 "[]",
                                 "{}",
                                 " [ 1 , [ ] , {} ] ",
                                 "{\"a\":{\"b\":[null,true]}}",
                                 "\"\\u0000\"",
                                 "[[[[]]]]"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (s_skip_all(good[i], strlen(good[i])) != 0) fail_msg("%s rejected", good[i]);
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        " ",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":}",
        "{a:1}",
        "{'a':1}",
        "[01]",
        "[1.]",
        "[.5]",
        "[1e]",
        "[-]",
        "[NaN]",
        "[Infinity]",
        "[tru]",
        "nul",
        "\"a",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\x01\"",
        "\"\t\"",
        "\"\xc3\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "[1]]",
        "{}{}",
        "[1] x",
        "[1}",
        "{\"a\":1]",
        "/* c */ 1",
        "[1,,2]",
        "{,}",
        "[,1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = s_skip_all(bad[i], strlen(bad[i]));
        if (rc != WR_EPROTO) fail_msg("%s: rc %d, not WR_EPROTO", bad[i], rc);
    }
    /* a NUL byte in the buffer is not whitespace */
    assert_int_equal(s_skip_all("1\0", 2), WR_EPROTO);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char doc[2 * (WR_JSONR_MAX_DEPTH + 1) + 1];
    for (int depth = WR_JSONR_MAX_DEPTH; depth <= WR_JSONR_MAX_DEPTH + 1; depth++) {
        memset(doc, '[', (size_t)depth);
        memset(doc + depth, ']', (size_t)depth);
        int rc = s_skip_all(doc, 2 * (size_t)depth);
        assert_int_equal(rc, depth <= WR_JSONR_MAX_DEPTH ? 0 : WR_EPROTO);
    }
}

static void test_size_limit(void **state)
{
    (void)state;
    wr_jsonr_t r;
    wr_jsonr_init(&r, "1", (size_t)WR_JSONR_MAX_SIZE + 1); /* never read: the length alone fails */
    assert_int_equal(r.err, WR_ETOOBIG);
    assert_int_equal(wr_jsonr_peek(&r), WR_JSONR_INVALID);
    int64_t v = 5;
    assert_int_equal(wr_jsonr_read_int(&r, &v), WR_ETOOBIG);
    assert_int_equal(v, 5);
}

/* The first error sticks: later reads fail with it and the iterators stop. */
static void test_sticky_error_and_types(void **state)
{
    (void)state;
    const char *doc = "{\"a\":\"text\",\"b\":2}";
    wr_jsonr_t r;
    wr_jsonr_init(&r, doc, strlen(doc));
    int64_t v = 0;
    wr_jsonr_obj_begin(&r);
    assert_true(wr_jsonr_obj_next(&r));
    assert_int_equal(wr_jsonr_read_int(&r, &v), WR_EPROTO); /* a string that is no integer */
    assert_false(wr_jsonr_obj_next(&r));
    assert_int_equal(wr_jsonr_obj_begin(&r), WR_EPROTO);
    assert_int_equal(wr_jsonr_end(&r), WR_EPROTO);

    wr_jsonr_init(&r, doc, strlen(doc));
    assert_int_equal(wr_jsonr_arr_begin(&r), WR_EPROTO); /* an object, not an array */

    char small[4];
    const char *str = "\"hello\"";
    wr_jsonr_init(&r, str, strlen(str));
    assert_int_equal(wr_jsonr_read_str_copy(&r, small, sizeof small), WR_ETOOBIG);
    char big[8];
    wr_jsonr_init(&r, str, strlen(str));
    assert_int_equal(wr_jsonr_read_str_copy(&r, big, sizeof big), 0);
    assert_string_equal(big, "hello");
    const char *nul = "\"a\\u0000b\"";
    wr_jsonr_init(&r, nul, strlen(nul));
    assert_int_equal(wr_jsonr_read_str_copy(&r, big, sizeof big), WR_EPROTO);

    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_adds(&sb, "kept");
    const char *b64 = "\"Zm9v!\"";
    wr_jsonr_init(&r, b64, strlen(b64));
    assert_int_equal(wr_jsonr_read_base64(&r, &sb), WR_EPROTO);
    assert_string_equal(sb.buf, "kept");
    wr_strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etcd_range_reply),
        cmocka_unit_test(test_int64_both_forms),
        cmocka_unit_test(test_scalars_and_strings),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_skip_accepts_valid),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_sticky_error_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
