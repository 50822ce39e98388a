/* wr_mp_to_json: msgpack payloads as JSON, for peeks and --json output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/base/mp.h"

#define S_NO_LIMIT SIZE_MAX

/* Renders the msgpack bytes and compares with want. */
static void s_json_eq(const void *mp, size_t len, const char *want)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_mp_to_json(mp, len, S_NO_LIMIT, &sb), 0);
    assert_string_equal(sb.buf, want);
    wr_strbuf_release(&sb);
}

/* The same for a byte-string literal (without its NUL). */
#define S_JSON_EQ(lit, want) s_json_eq((lit), sizeof(lit) - 1, (want))

static int s_json_rc(const void *mp, size_t len)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = wr_mp_to_json(mp, len, S_NO_LIMIT, &sb);
    wr_strbuf_release(&sb);
    return rc;
}

static void test_render_a_stats_map(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    wr_pack_str(&pk, "actor");
    wr_pack_str(&pk, "tm-1/task:map/0");
    wr_pack_str(&pk, "depth");
    msgpack_pack_uint32(&pk, 12);
    wr_pack_str(&pk, "lag");
    msgpack_pack_int32(&pk, -3);
    wr_pack_str(&pk, "recent");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_true(&pk);
    msgpack_pack_false(&pk);
    msgpack_pack_nil(&pk);
    wr_pack_str(&pk, "load");
    msgpack_pack_double(&pk, 0.75);

    wr_strbuf_t out;
    wr_strbuf_init(&out);
    assert_int_equal(wr_mp_to_json((uint8_t *)sb.data, sb.size, 4096, &out), 0);
    assert_string_equal(out.buf, "{\"actor\":\"tm-1/task:map/0\",\"depth\":12,\"lag\":-3,"
                                 "\"recent\":[true,false,null],\"load\":0.75}");
    wr_strbuf_release(&out);
    msgpack_sbuffer_destroy(&sb);
}

static void test_several_objects_and_none(void **state)
{
    (void)state;
    S_JSON_EQ("\x01", "1");
    S_JSON_EQ("\x01\xa1x\xc0", "[1,\"x\",null]");
    S_JSON_EQ("\x90\x80", "[[],{}]");
    s_json_eq("", 0, "null");
}

static void test_appends_to_existing_text(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_adds(&sb, "payload=");
    assert_int_equal(wr_mp_to_json((const uint8_t *)"\x92\x01\x02", 3, 100, &sb), 0);
    assert_string_equal(sb.buf, "payload=[1,2]");
    wr_strbuf_release(&sb);
}

static void test_numbers(void **state)
{
    (void)state;
    S_JSON_EQ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "18446744073709551615");
    S_JSON_EQ("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "-9223372036854775808");
    S_JSON_EQ("\xd0\x05", "5");
    S_JSON_EQ("\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", "0.1"); /* shortest text */
    S_JSON_EQ("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", "1.0"); /* stays a float */
    S_JSON_EQ("\xcb\x44\xb5\x2d\x02\xc7\xe1\x4a\xf6", "1e+23");
    S_JSON_EQ("\xca\x3d\xcc\xcc\xcd", "0.1");                  /* float32 0.1 */
    S_JSON_EQ("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", "null"); /* NaN */
    S_JSON_EQ("\xcb\xff\xf0\x00\x00\x00\x00\x00\x00", "null"); /* -Inf */
    S_JSON_EQ("\xca\x7f\x80\x00\x00", "null");                 /* float32 Inf */
}

static void test_strings(void **state)
{
    (void)state;
    S_JSON_EQ("\xa5"
              "a\"b\\c",
              "\"a\\\"b\\\\c\"");
    S_JSON_EQ("\xa3"
              "\n\x01\x7f",
              "\"\\n\\u0001\x7f\"");
    S_JSON_EQ("\xa2"
              "\xc3\xa9",
              "\"\xc3\xa9\"");
    S_JSON_EQ("\xa2"
              "\xff\xfe",
              "\"\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_bin_is_base64(void **state)
{
    (void)state;
    S_JSON_EQ("\xc4\x00", "\"base64:\"");
    S_JSON_EQ("\xc4\x01"
              "f",
              "\"base64:Zg==\"");
    S_JSON_EQ("\xc4\x02"
              "fo",
              "\"base64:Zm8=\"");
    S_JSON_EQ("\xc4\x03"
              "foo",
              "\"base64:Zm9v\"");
    S_JSON_EQ("\xc5\x00\x06"
              "foobar",
              "\"base64:Zm9vYmFy\"");
    S_JSON_EQ("\xc4\x03\xff\xef\xbe", "\"base64:/+++\"");
}

static void test_ext(void **state)
{
    (void)state;
    S_JSON_EQ("\xd4\x07"
              "f",
              "{\"ext\":7,\"base64\":\"Zg==\"}");
    S_JSON_EQ("\xc7\x00\xff", "{\"ext\":-1,\"base64\":\"\"}");
}

static void test_non_string_keys(void **state)
{
    (void)state;
    S_JSON_EQ("\x83\x01\xa1"
              "a"
              "\xc0\x02\xc3\x03",
              "{\"1\":\"a\",\"null\":2,\"true\":3}");
    S_JSON_EQ("\x81\x92\x01\xa1"
              "b"
              "\x00",
              "{\"[1,\\\"b\\\"]\":0}");
    S_JSON_EQ("\x81\x81\x01\x02\x03", "{\"{\\\"1\\\":2}\":3}");
}

static void test_malformed_input(void **state)
{
    (void)state;
    assert_int_equal(s_json_rc("\xc1", 1), WR_EPROTO);
    assert_int_equal(s_json_rc("\x92\x01", 2), WR_EPROTO);
    assert_int_equal(s_json_rc("\xa5"
                               "ab",
                               3),
                     WR_EPROTO);
    assert_int_equal(s_json_rc("\x01\xc1", 2), WR_EPROTO);
    assert_int_equal(s_json_rc("\x81\x92\x01", 3), WR_EPROTO); /* key cut short */
    assert_int_equal(s_json_rc("\xdd\xff\xff\xff\xff", 5), WR_EPROTO);
}

static void test_depth_limit(void **state)
{
    (void)state;
    uint8_t buf[WR_MP_MAX_DEPTH + 1];
    memset(buf, 0x91, sizeof buf);
    buf[WR_MP_MAX_DEPTH - 1] = 0x90; /* WR_MP_MAX_DEPTH arrays: fine */
    assert_int_equal(s_json_rc(buf, WR_MP_MAX_DEPTH), 0);
    buf[WR_MP_MAX_DEPTH - 1] = 0x91;
    buf[WR_MP_MAX_DEPTH] = 0x90;
    assert_int_equal(s_json_rc(buf, sizeof buf), WR_EPROTO);
}

/* {[long string, [[...[]...]]]: 0} with `inner` arrays nested in the key array, in mp. */
static size_t s_deep_key(uint8_t *mp, size_t str_len, size_t inner)
{
    size_t n = 0;
    mp[n++] = 0x81;
    mp[n++] = 0x92;
    mp[n++] = 0xda;
    mp[n++] = (uint8_t)(str_len >> 8);
    mp[n++] = (uint8_t)str_len;
    memset(mp + n, 'a', str_len);
    n += str_len;
    memset(mp + n, 0x91, inner - 1);
    n += inner - 1;
    mp[n++] = 0x90;
    mp[n++] = 0x00;
    return n;
}

static void test_depth_limit_inside_a_shortened_key(void **state)
{
    (void)state;
    /* the key's text is shortened (it is over 1 KiB), but its depth is still checked */
    uint8_t mp[5 + 1100 + WR_MP_MAX_DEPTH + 1];
    size_t n = s_deep_key(mp, 1100, WR_MP_MAX_DEPTH - 2); /* map + key + inner = the limit */
    assert_int_equal(s_json_rc(mp, n), 0);
    n = s_deep_key(mp, 1100, WR_MP_MAX_DEPTH - 1);
    assert_int_equal(s_json_rc(mp, n), WR_EPROTO);
}

static void test_output_cap(void **state)
{
    (void)state;
    uint8_t mp[3 + 300];
    mp[0] = 0xda; /* str16 of 300 bytes */
    mp[1] = 0x01;
    mp[2] = 0x2c;
    memset(mp + 3, 'a', 300);

    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_mp_to_json(mp, sizeof mp, 10, &sb), 0);
    assert_string_equal(sb.buf, "\"aaaaaaaaa...");
    wr_strbuf_reset(&sb);

    /* never inside a UTF-8 sequence: "é" is 2 bytes, so 10 bytes end mid-character */
    uint8_t accents[] = {0xa8, 0xc3, 0xa9, 0xc3, 0xa9, 0xc3, 0xa9, 0xc3, 0xa9};
    wr_strbuf_adds(&sb, ">");
    assert_int_equal(wr_mp_to_json(accents, sizeof accents, 4, &sb), 0);
    assert_string_equal(sb.buf, ">\"\xc3\xa9...");
    wr_strbuf_reset(&sb);

    /* a big array stops early, mid-way */
    uint8_t arr[3 + 1000];
    arr[0] = 0xdc;
    arr[1] = 0x03;
    arr[2] = 0xe8;
    memset(arr + 3, 0x07, 1000);
    assert_int_equal(wr_mp_to_json(arr, sizeof arr, 8, &sb), 0);
    assert_string_equal(sb.buf, "[7,7,7,7...");
    wr_strbuf_reset(&sb);

    /* the cap holds even when the input turns out to be malformed after it */
    assert_int_equal(wr_mp_to_json((const uint8_t *)"\x91\x91\x91\x91\x91\x91\x91", 7, 4, &sb), 0);
    assert_string_equal(sb.buf, "[[[[...");
    wr_strbuf_reset(&sb);

    /* exactly at the limit is not cut */
    assert_int_equal(wr_mp_to_json((const uint8_t *)"\x92\x01\x02", 3, 5, &sb), 0);
    assert_string_equal(sb.buf, "[1,2]");
    wr_strbuf_release(&sb);
}

static void test_large_bin_is_cut_cheaply(void **state)
{
    (void)state;
    static uint8_t mp[5 + (1 << 20)];
    mp[0] = 0xc6;
    mp[1] = 0x00;
    mp[2] = 0x10;
    mp[3] = 0x00;
    mp[4] = 0x00;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_mp_to_json(mp, sizeof mp, 64, &sb), 0);
    assert_int_equal(sb.len, 64 + 3);
    assert_true(sb.cap < 1024); /* only what was shown was encoded */
    wr_strbuf_release(&sb);
}

static void test_keys_within_keys_stay_bounded(void **state)
{
    (void)state;
    /* {{{... {"\"": 0} ...: 0}: 0}: 0}: each level escapes the key text of the one inside */
    enum { levels = 40 };
    uint8_t mp[levels + 3 + levels];
    memset(mp, 0x81, levels);
    memcpy(mp + levels, "\xa1\"", 2);
    memset(mp + levels + 2, 0x00, levels + 1);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_mp_to_json(mp, sizeof mp - 1, S_NO_LIMIT, &sb), 0);
    assert_true(sb.len < 64 * 1024);
    assert_memory_equal(sb.buf, "{\"{\\\"{\\\\\\\"", 10);
    wr_strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_a_stats_map),
        cmocka_unit_test(test_several_objects_and_none),
        cmocka_unit_test(test_appends_to_existing_text),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_bin_is_base64),
        cmocka_unit_test(test_ext),
        cmocka_unit_test(test_non_string_keys),
        cmocka_unit_test(test_malformed_input),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_limit_inside_a_shortened_key),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_large_bin_is_cut_cheaply),
        cmocka_unit_test(test_keys_within_keys_stay_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
