/* wr_strbuf: a growable byte buffer that always stays NUL-terminated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bus/base/strbuf.h"

static void test_build_and_detach(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_string_equal(sb.buf, "");

    wr_strbuf_adds(&sb, "actor ");
    wr_strbuf_add(&sb, "node-1/src", 6);
    wr_strbuf_addc(&sb, ':');
    wr_strbuf_addf(&sb, " %d msgs, %s", 42, "ok");
    assert_false(sb.failed);
    assert_string_equal(sb.buf, "actor node-1: 42 msgs, ok");
    assert_int_equal(sb.len, strlen(sb.buf));

    size_t len = 0;
    char *s = wr_strbuf_detach(&sb, &len);
    assert_string_equal(s, "actor node-1: 42 msgs, ok");
    assert_int_equal(len, 25);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb.buf, "");
    free(s);
    wr_strbuf_release(&sb);
}

static void test_empty_buffer(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_add(&sb, NULL, 0);
    wr_strbuf_reset(&sb);
    wr_strbuf_truncate(&sb, 0);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb.buf, "");

    size_t len = 99;
    char *s = wr_strbuf_detach(&sb, &len); /* owned even when nothing was ever added */
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    wr_strbuf_release(&sb);
    wr_strbuf_release(&sb);
}

static void test_growth_and_long_format(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 100; i++)
        wr_strbuf_addc(&sb, (char)('a' + i % 26));
    wr_strbuf_addf(&sb, "[%s]", big); /* longer than the first vsnprintf try */
    assert_false(sb.failed);
    assert_int_equal(sb.len, 100 + 2 + 999);
    assert_int_equal(sb.buf[100], '[');
    assert_int_equal(sb.buf[sb.len - 1], ']');
    assert_int_equal(sb.buf[sb.len], '\0');
    assert_true(sb.cap > sb.len);
    wr_strbuf_release(&sb);
}

static void test_reset_and_truncate(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_adds(&sb, "hello world");
    size_t cap = sb.cap;
    wr_strbuf_truncate(&sb, 5);
    assert_string_equal(sb.buf, "hello");
    wr_strbuf_truncate(&sb, 50); /* never grows */
    assert_string_equal(sb.buf, "hello");
    wr_strbuf_reset(&sb);
    assert_string_equal(sb.buf, "");
    assert_int_equal(sb.cap, cap);
    wr_strbuf_release(&sb);
}

static void test_grow_for_writing_in_place(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_true(wr_strbuf_grow(&sb, 10));
    memcpy(sb.buf + sb.len, "0123456789", 10);
    sb.len += 10;
    sb.buf[sb.len] = '\0';
    assert_string_equal(sb.buf, "0123456789");
    assert_false(wr_strbuf_grow(&sb, SIZE_MAX - 4));
    assert_true(sb.failed);
    wr_strbuf_adds(&sb, "more"); /* after a failure nothing more is appended */
    assert_string_equal(sb.buf, "0123456789");
    wr_strbuf_release(&sb);
}

/* JSON text of s[0..len) through wr_strbuf_add_json_str. */
static void s_json_eq(const char *s, size_t len, const char *want)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_add_json_str(&sb, s, len);
    assert_string_equal(sb.buf, want);
    wr_strbuf_release(&sb);
}

static void test_json_string(void **state)
{
    (void)state;
    s_json_eq("plain", 5, "\"plain\"");
    s_json_eq("", 0, "\"\"");
    s_json_eq("q\"b\\", 4, "\"q\\\"b\\\\\"");
    s_json_eq("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    s_json_eq("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    s_json_eq("a\0b", 3, "\"a\\u0000b\"");
    s_json_eq("/\x7f", 2, "\"/\x7f\"");
}

static void test_json_string_utf8(void **state)
{
    (void)state;
    /* well-formed 2, 3 and 4 byte sequences pass through */
    s_json_eq("\xc3\xa9", 2, "\"\xc3\xa9\"");
    s_json_eq("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");
    s_json_eq("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
    s_json_eq("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    /* each byte of an ill-formed sequence becomes U+FFFD */
    s_json_eq("\x80", 1, "\"\xef\xbf\xbd\"");                 /* lone continuation */
    s_json_eq("\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""); /* overlong NUL */
    s_json_eq("\xe0\x80\xaf", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* overlong */
    s_json_eq("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* surrogate */
    s_json_eq("\xf4\x90\x80\x80", 4,
              "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* above U+10FFFF */
    s_json_eq("a\xe2\x82", 3, "\"a\xef\xbf\xbd\xef\xbf\xbd\"");        /* cut short */
    s_json_eq("\xff", 1, "\"\xef\xbf\xbd\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_detach),          cmocka_unit_test(test_empty_buffer),
        cmocka_unit_test(test_growth_and_long_format),    cmocka_unit_test(test_reset_and_truncate),
        cmocka_unit_test(test_grow_for_writing_in_place), cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_json_string_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
