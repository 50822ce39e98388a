/* wr_base64: standard padded base64 as etcd's gateway writes keys and values; the decoder is
 * strict (one accepted encoding per byte string). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bus/base/base64.h"
#include "bus/base/error.h"

static void s_roundtrip(const char *plain, size_t len, const char *encoded)
{
    wr_strbuf_t sb, back;
    wr_strbuf_init(&sb);
    wr_strbuf_init(&back);
    wr_base64_encode(&sb, plain, len);
    assert_false(sb.failed);
    assert_string_equal(sb.buf, encoded);
    assert_int_equal(wr_base64_decode(sb.buf, sb.len, &back), 0);
    assert_int_equal(back.len, len);
    assert_memory_equal(back.buf, plain, len);
    assert_int_equal(back.buf[back.len], '\0');
    wr_strbuf_release(&sb);
    wr_strbuf_release(&back);
}

/* RFC 4648 section 10's test vectors, then bytes that use '+', '/' and NUL. */
static void test_rfc_vectors(void **state)
{
    (void)state;
    s_roundtrip("", 0, "");
    s_roundtrip("f", 1, "Zg==");
    s_roundtrip("fo", 2, "Zm8=");
    s_roundtrip("foo", 3, "Zm9v");
    s_roundtrip("foob", 4, "Zm9vYg==");
    s_roundtrip("fooba", 5, "Zm9vYmE=");
    s_roundtrip("foobar", 6, "Zm9vYmFy");
    s_roundtrip("\xfb\xff\x00\xfe", 4, "+/8A/g==");
    s_roundtrip(NULL, 0, "");
}

static void test_all_bytes(void **state)
{
    (void)state;
    uint8_t bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    for (size_t len = 0; len <= sizeof bytes; len += 37) {
        wr_strbuf_t sb, back;
        wr_strbuf_init(&sb);
        wr_strbuf_init(&back);
        wr_base64_encode(&sb, bytes, len);
        assert_int_equal(sb.len, (len + 2) / 3 * 4);
        assert_int_equal(wr_base64_decode(sb.buf, sb.len, &back), 0);
        assert_int_equal(back.len, len);
        assert_memory_equal(back.buf, bytes, len);
        wr_strbuf_release(&sb);
        wr_strbuf_release(&back);
    }
}

static void test_decode_appends(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_strbuf_adds(&sb, "key=");
    assert_int_equal(wr_base64_decode("Zm9v", 4, &sb), 0);
    assert_string_equal(sb.buf, "key=foo");
    wr_strbuf_release(&sb);
}

/* Everything that is not exactly one canonical encoding fails, and leaves the buffer as it was. */
static void test_strict_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Zg",       /* no padding */
        "Zg=",      /* short padding */
        "Zh==",     /* unused bits set (the canonical form is Zg==) */
        "Zm9=",     /* unused bits set (Zm8=) */
        "Zm9v\n",   /* whitespace */
        "Zm 9v",    /* space */
        "Zg==Zm9v", /* padding in the middle */
        "Z===",     /* three pad characters */
        "====",     /* only padding */
        "Zm=v",     /* padding before data */
        "Zm9-",     /* the URL alphabet */
        "Zm9_",     /* the URL alphabet */
        "Zm9v=",    /* length not a multiple of 4 */
        "Zm9v====", /* a group of padding */
        "Zm\x80v",  /* a non-ASCII byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wr_strbuf_t sb;
        wr_strbuf_init(&sb);
        wr_strbuf_adds(&sb, "kept");
        int rc = wr_base64_decode(bad[i], strlen(bad[i]), &sb);
        if (rc != WR_EINVAL) fail_msg("\"%s\" decoded (rc %d)", bad[i], rc);
        assert_string_equal(sb.buf, "kept");
        assert_int_equal(sb.len, 4);
        wr_strbuf_release(&sb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_vectors),
        cmocka_unit_test(test_all_bytes),
        cmocka_unit_test(test_decode_appends),
        cmocka_unit_test(test_strict_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
