/* wr_mp: the strict msgpack reader (and the wr_pack_* writer helpers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"

/* A reader over a byte-string literal (without its NUL). */
#define S_READER(r, lit) wr_mp_reader_init((r), (lit), sizeof(lit) - 1)

static void test_read_a_record(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint64(&pk, 1700000000123ull);
    msgpack_pack_int64(&pk, -42);
    wr_pack_str(&pk, "clicks");
    wr_pack_bin(&pk, "\x00\x01\x02", 3);
    msgpack_pack_true(&pk);
    msgpack_pack_nil(&pk);
    msgpack_pack_map(&pk, 1);
    wr_pack_str(&pk, "ratio");
    msgpack_pack_double(&pk, 0.25);

    wr_mp_reader_t r;
    uint32_t n, len;
    uint64_t ts;
    int64_t delta;
    const char *s;
    const uint8_t *bin;
    bool flag;
    char key[16];
    double ratio;
    wr_mp_reader_init(&r, sb.data, sb.size);
    assert_int_equal(wr_mp_peek(&r), WR_MP_ARRAY);
    wr_mp_read_array(&r, &n);
    wr_mp_read_uint(&r, &ts);
    wr_mp_read_int(&r, &delta);
    wr_mp_read_str(&r, &s, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(s, "clicks", 6);
    wr_mp_read_bin(&r, &bin, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(bin, "\x00\x01\x02", 3);
    wr_mp_read_bool(&r, &flag);
    wr_mp_read_nil(&r);
    wr_mp_read_map(&r, &n);
    assert_int_equal(n, 1);
    wr_mp_read_str_copy(&r, key, sizeof key);
    wr_mp_read_double(&r, &ratio);
    assert_int_equal(r.err, 0); /* one check at the end is enough */
    assert_int_equal(ts, 1700000000123ull);
    assert_int_equal(delta, -42);
    assert_true(flag);
    assert_string_equal(key, "ratio");
    assert_true(ratio == 0.25);
    assert_int_equal(wr_mp_remaining(&r), 0);
    assert_int_equal(wr_mp_peek(&r), WR_MP_INVALID);
    msgpack_sbuffer_destroy(&sb);
}

static void test_integer_encodings(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        enum wr_mp_kind kind;
        int64_t value; /* as int64 (UINT64_MAX is checked separately) */
    } cases[] = {
        {"\x00", 1, WR_MP_UINT, 0},
        {"\x7f", 1, WR_MP_UINT, 127},
        {"\xff", 1, WR_MP_INT, -1},
        {"\xe0", 1, WR_MP_INT, -32},
        {"\xcc\xff", 2, WR_MP_UINT, 255},
        {"\xcd\x01\x00", 3, WR_MP_UINT, 256},
        {"\xce\xff\xff\xff\xff", 5, WR_MP_UINT, 4294967295},
        {"\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9, WR_MP_UINT, INT64_MAX},
        {"\xd0\x80", 2, WR_MP_INT, -128},
        {"\xd0\x05", 2, WR_MP_INT, 5},
        {"\xd1\x80\x00", 3, WR_MP_INT, -32768},
        {"\xd2\x80\x00\x00\x00", 5, WR_MP_INT, INT32_MIN},
        {"\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, WR_MP_INT, INT64_MIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wr_mp_reader_t r;
        int64_t v;
        uint64_t u;
        wr_mp_reader_init(&r, cases[i].bytes, cases[i].len);
        assert_int_equal(wr_mp_peek(&r), cases[i].kind);
        assert_int_equal(wr_mp_read_int(&r, &v), 0);
        assert_int_equal(v, cases[i].value);
        assert_int_equal(wr_mp_remaining(&r), 0);

        wr_mp_reader_init(&r, cases[i].bytes, cases[i].len);
        if (cases[i].value >= 0) {
            assert_int_equal(wr_mp_read_uint(&r, &u), 0);
            assert_int_equal(u, (uint64_t)cases[i].value);
        } else {
            assert_int_equal(wr_mp_read_uint(&r, &u), WR_EPROTO);
        }
    }
}

static void test_integer_range(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    uint64_t u;
    int64_t i;
    S_READER(&r, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff");
    assert_int_equal(wr_mp_read_uint(&r, &u), 0);
    assert_true(u == UINT64_MAX);
    S_READER(&r, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff");
    assert_int_equal(wr_mp_read_int(&r, &i), WR_EPROTO); /* does not fit int64 */
    S_READER(&r, "\xca\x3f\x80\x00\x00");
    assert_int_equal(wr_mp_read_uint(&r, &u), WR_EPROTO); /* floats are not integers */
}

static void test_floats(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    double d;
    S_READER(&r, "\xca\x3f\xc0\x00\x00"); /* float32 1.5 */
    assert_int_equal(wr_mp_read_double(&r, &d), 0);
    assert_true(d == 1.5);
    S_READER(&r, "\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18"); /* float64 pi */
    assert_int_equal(wr_mp_read_double(&r, &d), 0);
    assert_true(d == 3.141592653589793);
    S_READER(&r, "\xd0\xfe"); /* integers read as doubles too */
    assert_int_equal(wr_mp_read_double(&r, &d), 0);
    assert_true(d == -2.0);
    S_READER(&r, "\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00");
    assert_int_equal(wr_mp_read_double(&r, &d), 0);
    assert_true(isnan(d));
    S_READER(&r, "\xa1x");
    assert_int_equal(wr_mp_read_double(&r, &d), WR_EPROTO);
}

static void test_str_and_bin_widths(void **state)
{
    (void)state;
    static uint8_t buf[70000 + 8];
    static const struct {
        uint8_t tag;
        unsigned width;
        uint32_t len;
        enum wr_mp_kind kind;
    } cases[] = {
        {0xa0, 0, 0, WR_MP_STR},    {0xbf, 0, 31, WR_MP_STR},    {0xd9, 1, 200, WR_MP_STR},
        {0xda, 2, 300, WR_MP_STR},  {0xdb, 4, 70000, WR_MP_STR}, {0xc4, 1, 0, WR_MP_BIN},
        {0xc5, 2, 1000, WR_MP_BIN}, {0xc6, 4, 70000, WR_MP_BIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t hdr = 1 + cases[i].width;
        buf[0] = cases[i].tag;
        for (unsigned b = 0; b < cases[i].width; b++)
            buf[1 + b] = (uint8_t)(cases[i].len >> (8 * (cases[i].width - 1 - b)));
        memset(buf + hdr, 'z', cases[i].len);

        wr_mp_reader_t r;
        const char *s;
        const uint8_t *p;
        uint32_t len = 0;
        wr_mp_reader_init(&r, buf, hdr + cases[i].len);
        assert_int_equal(wr_mp_peek(&r), cases[i].kind);
        if (cases[i].kind == WR_MP_STR) {
            assert_int_equal(wr_mp_read_str(&r, &s, &len), 0);
            assert_ptr_equal(s, (const char *)buf + hdr);
        } else {
            assert_int_equal(wr_mp_read_bin(&r, &p, &len), 0);
            assert_ptr_equal(p, buf + hdr);
        }
        assert_int_equal(len, cases[i].len);
        assert_int_equal(wr_mp_remaining(&r), 0);

        /* one byte short is a truncation, wherever it falls */
        wr_mp_reader_init(&r, buf, hdr + cases[i].len - 1);
        assert_int_equal(wr_mp_skip(&r), WR_EPROTO);
    }
}

static void test_str_copy(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    char dst[4];
    S_READER(&r, "\xa3"
                 "abc");
    assert_int_equal(wr_mp_read_str_copy(&r, dst, sizeof dst), 0);
    assert_string_equal(dst, "abc");
    S_READER(&r, "\xa4"
                 "abcd");
    assert_int_equal(wr_mp_read_str_copy(&r, dst, sizeof dst), WR_ETOOBIG);
    S_READER(&r, "\xa3"
                 "a\0c");
    assert_int_equal(wr_mp_read_str_copy(&r, dst, sizeof dst), WR_EPROTO);
    S_READER(&r, "\xc4\x01"
                 "a"); /* bin is not str */
    assert_int_equal(wr_mp_read_str_copy(&r, dst, sizeof dst), WR_EPROTO);
}

static void test_ext_and_read_obj(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        uint32_t n;
    } cases[] = {
        {"\xd4\x05"
         "a",
         3, 1},
        {"\xd5\x05"
         "ab",
         4, 2},
        {"\xd6\x05"
         "abcd",
         6, 4},
        {"\xd7\x05"
         "abcdefgh",
         10, 8},
        {"\xd8\x05"
         "abcdefghabcdefgh",
         18, 16},
        {"\xc7\x03\x05"
         "abc",
         6, 3},
        {"\xc8\x00\x03\x05"
         "abc",
         7, 3},
        {"\xc9\x00\x00\x00\x03\x05"
         "abc",
         9, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wr_mp_reader_t r;
        wr_mp_obj_t o;
        wr_mp_reader_init(&r, cases[i].bytes, cases[i].len);
        assert_int_equal(wr_mp_peek(&r), WR_MP_EXT);
        assert_int_equal(wr_mp_read_obj(&r, &o), 0);
        assert_int_equal(o.kind, WR_MP_EXT);
        assert_int_equal(o.ext_type, 5);
        assert_int_equal(o.n, cases[i].n);
        assert_memory_equal(o.data, "abcdefghabcdefgh", o.n);
        assert_int_equal(wr_mp_remaining(&r), 0);
        wr_mp_reader_init(&r, cases[i].bytes, cases[i].len - 1);
        assert_int_equal(wr_mp_skip(&r), WR_EPROTO);
    }

    wr_mp_reader_t r;
    wr_mp_obj_t o;
    S_READER(&r, "\xd4\xff"
                 "x"); /* negative ext types are the spec's own (-1: timestamp) */
    assert_int_equal(wr_mp_read_obj(&r, &o), 0);
    assert_int_equal(o.ext_type, -1);
    S_READER(&r, "\xde\x00\x02");
    assert_int_equal(wr_mp_read_obj(&r, &o), WR_EPROTO); /* header only: its pairs are missing */
}

static void test_reserved_tag_rejected(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    wr_mp_obj_t o;
    S_READER(&r, "\xc1");
    assert_int_equal(wr_mp_peek(&r), WR_MP_INVALID);
    assert_int_equal(wr_mp_read_obj(&r, &o), WR_EPROTO);
    S_READER(&r, "\x92\x01\xc1");
    assert_int_equal(wr_mp_skip(&r), WR_EPROTO);
}

/* [version, [entry, ...]]: the head read, each way it can be wrong. */
static void test_versioned_list(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    uint32_t n = 99;
    S_READER(&r, "\x92\x01\x92\xa1x\xa1y");
    assert_int_equal(wr_mp_read_versioned_list(&r, 1, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(wr_mp_remaining(&r), 4);
    S_READER(&r, "\x92\x02\x90");
    assert_int_equal(wr_mp_read_versioned_list(&r, 1, 1, &n), WR_EVERSION);
    S_READER(&r, "\x93\x01\x90\xc0");
    assert_int_equal(wr_mp_read_versioned_list(&r, 1, 1, &n), WR_EPROTO);
    S_READER(&r, "\x92\x01\x92\xa1x\xa1y"); /* 2 entries of at least 3 bytes: 4 remain */
    assert_int_equal(wr_mp_read_versioned_list(&r, 1, 3, &n), WR_EPROTO);
    S_READER(&r, "\x92\x01\xa1x");
    assert_int_equal(wr_mp_read_versioned_list(&r, 1, 1, &n), WR_EPROTO);
}

static void test_errors_are_sticky(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    uint64_t u = 7;
    bool b;
    S_READER(&r, "\xa1x\x01\xc3");
    assert_int_equal(wr_mp_read_uint(&r, &u), WR_EPROTO); /* a str where a uint belongs */
    assert_int_equal(u, 7);                               /* outputs untouched on failure */
    assert_int_equal(wr_mp_read_bool(&r, &b), WR_EPROTO);
    assert_int_equal(wr_mp_skip(&r), WR_EPROTO);
    assert_int_equal(wr_mp_peek(&r), WR_MP_INVALID);
    assert_int_equal(r.err, WR_EPROTO);

    char dst[2];
    S_READER(&r, "\xa2xy\x01");
    assert_int_equal(wr_mp_read_str_copy(&r, dst, sizeof dst), WR_ETOOBIG);
    assert_int_equal(wr_mp_read_uint(&r, &u), WR_ETOOBIG); /* the first code stays */
}

static void test_wrong_kinds(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    uint32_t n;
    bool b;
    const uint8_t *p;
    S_READER(&r, "\x80");
    assert_int_equal(wr_mp_read_array(&r, &n), WR_EPROTO);
    S_READER(&r, "\x90");
    assert_int_equal(wr_mp_read_map(&r, &n), WR_EPROTO);
    S_READER(&r, "\xc0");
    assert_int_equal(wr_mp_read_bool(&r, &b), WR_EPROTO);
    S_READER(&r, "\xc2");
    assert_int_equal(wr_mp_read_nil(&r), WR_EPROTO);
    S_READER(&r, "\xa1x");
    assert_int_equal(wr_mp_read_bin(&r, &p, &n), WR_EPROTO);
    S_READER(&r, "");
    assert_int_equal(wr_mp_read_nil(&r), WR_EPROTO);
}

static void test_container_counts_bounded_by_input(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    uint32_t n;
    S_READER(&r, "\xdd\xff\xff\xff\xff\x01"); /* 4 billion elements in one byte */
    assert_int_equal(wr_mp_read_array(&r, &n), WR_EPROTO);
    S_READER(&r, "\x82\x01\x02\x03"); /* 2 pairs need 4 bytes */
    assert_int_equal(wr_mp_read_map(&r, &n), WR_EPROTO);
    S_READER(&r, "\xdc\x00\x02\x01\x02");
    assert_int_equal(wr_mp_read_array(&r, &n), 0);
    assert_int_equal(n, 2);
    S_READER(&r, "\xdf\x00\x00\x00\x01\x01\x02");
    assert_int_equal(wr_mp_read_map(&r, &n), 0);
    assert_int_equal(n, 1);
}

static void test_skip(void **state)
{
    (void)state;
    wr_mp_reader_t r;
    uint64_t u;
    /* {"a": [1, {"b": nil}, bin"xy"], 2: ext} then 9 */
    S_READER(&r, "\x82\xa1"
                 "a"
                 "\x93\x01\x81\xa1"
                 "b"
                 "\xc0\xc4\x02"
                 "xy"
                 "\x02\xd4\x01\x00"
                 "\x09");
    assert_int_equal(wr_mp_skip(&r), 0);
    assert_int_equal(wr_mp_read_uint(&r, &u), 0);
    assert_int_equal(u, 9);
    assert_int_equal(wr_mp_remaining(&r), 0);

    S_READER(&r, "\x90\x80\xc0"); /* empty containers are whole objects */
    assert_int_equal(wr_mp_skip(&r), 0);
    assert_int_equal(wr_mp_skip(&r), 0);
    assert_int_equal(wr_mp_skip(&r), 0);
    assert_int_equal(wr_mp_skip(&r), WR_EPROTO); /* nothing left */
}

static void test_skip_every_truncation(void **state)
{
    (void)state;
    static const char obj[] = "\x83\xa1"
                              "a"
                              "\x93\x01\xcd\x01\x00\xcb\x3f\xf0\x00\x00\x00\x00"
                              "\x00\x00"
                              "\xa1"
                              "b"
                              "\x81\x01\xc4\x01"
                              "z"
                              "\xc3\xd6\x01"
                              "abcd";
    for (size_t len = 0; len < sizeof obj - 1; len++) {
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, obj, len);
        assert_int_equal(wr_mp_skip(&r), WR_EPROTO);
    }
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, obj, sizeof obj - 1);
    assert_int_equal(wr_mp_skip(&r), 0);
    assert_int_equal(wr_mp_remaining(&r), 0);
}

static void test_skip_depth_limit(void **state)
{
    (void)state;
    uint8_t buf[WR_MP_MAX_DEPTH + 1];
    wr_mp_reader_t r;
    memset(buf, 0x91, sizeof buf);   /* [[[...[]...]]] */
    buf[WR_MP_MAX_DEPTH - 1] = 0x90; /* WR_MP_MAX_DEPTH arrays in all: fine */
    wr_mp_reader_init(&r, buf, WR_MP_MAX_DEPTH);
    assert_int_equal(wr_mp_skip(&r), 0);
    buf[WR_MP_MAX_DEPTH - 1] = 0x91; /* one more */
    buf[WR_MP_MAX_DEPTH] = 0x90;
    wr_mp_reader_init(&r, buf, sizeof buf);
    assert_int_equal(wr_mp_skip(&r), WR_EPROTO);

    uint8_t keys[2 * WR_MP_MAX_DEPTH + 1]; /* {{{...}: 0}: 0}: maps nest through keys as well */
    memset(keys, 0x81, WR_MP_MAX_DEPTH + 1);
    memset(keys + WR_MP_MAX_DEPTH + 1, 0x00, WR_MP_MAX_DEPTH);
    keys[WR_MP_MAX_DEPTH] = 0x80;
    wr_mp_reader_init(&r, keys, sizeof keys); /* WR_MP_MAX_DEPTH + 1 maps */
    assert_int_equal(wr_mp_skip(&r), WR_EPROTO);
    wr_mp_reader_init(&r, keys + 1, sizeof keys - 2); /* WR_MP_MAX_DEPTH maps */
    assert_int_equal(wr_mp_skip(&r), 0);
    assert_int_equal(wr_mp_remaining(&r), 0);
}

static void test_pack_helpers(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(wr_pack_str(&pk, "hi"), 0);
    assert_int_equal(wr_pack_str(&pk, NULL), 0);
    assert_int_equal(wr_pack_bin(&pk, NULL, 0), 0);
    assert_int_equal(wr_pack_bin(&pk, "\x01", 1), 0);
    assert_int_equal(sb.size, 3 + 1 + 2 + 3);
    assert_memory_equal(sb.data, "\xa2hi\xa0\xc4\x00\xc4\x01\x01", sb.size);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_a_record),
        cmocka_unit_test(test_integer_encodings),
        cmocka_unit_test(test_integer_range),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_str_and_bin_widths),
        cmocka_unit_test(test_str_copy),
        cmocka_unit_test(test_ext_and_read_obj),
        cmocka_unit_test(test_reserved_tag_rejected),
        cmocka_unit_test(test_versioned_list),
        cmocka_unit_test(test_errors_are_sticky),
        cmocka_unit_test(test_wrong_kinds),
        cmocka_unit_test(test_container_counts_bounded_by_input),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_skip_every_truncation),
        cmocka_unit_test(test_skip_depth_limit),
        cmocka_unit_test(test_pack_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
