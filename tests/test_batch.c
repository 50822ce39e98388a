/* wr_schema and wr_batch: typed schemas, columnar record batches and their wire form. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/record/schema.h"
#include "bus/base/error.h"

/* device:string ts:time temp:double ok:bool seq:int note:string */
static wr_schema_t s_schema(void)
{
    wr_schema_t s;
    wr_schema_init(&s);
    assert_int_equal(wr_schema_add(&s, "device", WR_T_STRING), 0);
    assert_int_equal(wr_schema_add(&s, "ts", WR_T_TIME), 0);
    assert_int_equal(wr_schema_add(&s, "temp", WR_T_DOUBLE), 0);
    assert_int_equal(wr_schema_add(&s, "ok", WR_T_BOOL), 0);
    assert_int_equal(wr_schema_add(&s, "seq", WR_T_INT), 0);
    assert_int_equal(wr_schema_add(&s, "note", WR_T_STRING), 0);
    return s;
}

/* Appends one record the way a source does: fixed-width columns, then every string field. */
static void s_push(wr_batch_t *b, const char *device, int64_t ts, double temp, int ok, int64_t seq,
                   const char *note)
{
    assert_int_equal(wr_batch_reserve(b, b->count + 1), 0);
    uint32_t i = b->count;
    wr_batch_i64(b, 1)[i] = ts;
    wr_batch_f64(b, 2)[i] = temp;
    wr_batch_i64(b, 3)[i] = ok;
    wr_batch_i64(b, 4)[i] = seq;
    assert_int_equal(wr_batch_push_str(b, 0, device, (uint32_t)strlen(device)), 0);
    assert_int_equal(wr_batch_push_str(b, 5, note, (uint32_t)strlen(note)), 0);
    b->count++;
}

static void s_push_n(wr_batch_t *b, uint32_t n, uint32_t seed)
{
    char dev[32], note[64];
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = (k + seed) * 2654435761u;
        snprintf(dev, sizeof dev, "dev-%u", v % 1000);
        int nl = (int)(v % 7) * 5; /* every fifth-ish note is empty */
        memset(note, 'a' + (int)(v % 26), (size_t)nl);
        note[nl] = 0;
        s_push(b, dev, 1700000000000 + k + seed, (double)v / 7.0 - 1e5, (int)(v & 1), -(int64_t)v,
               note);
    }
}

static void s_assert_same(const wr_batch_t *a, const wr_batch_t *b)
{
    assert_true(wr_schema_equal(&a->schema, &b->schema));
    assert_int_equal(a->count, b->count);
    for (uint32_t f = 0; f < a->schema.n; f++) {
        for (uint32_t i = 0; i < a->count; i++) {
            if (a->schema.f[f].type == WR_T_STRING) {
                uint32_t la, lb;
                const char *sa = wr_batch_str(a, (int)f, i, &la);
                const char *sb = wr_batch_str(b, (int)f, i, &lb);
                assert_int_equal(la, lb);
                assert_memory_equal(sa, sb, la);
            } else {
                assert_memory_equal(&((int64_t *)a->col[f])[i], &((int64_t *)b->col[f])[i], 8);
            }
        }
        if (a->schema.f[f].type == WR_T_STRING) {
            assert_int_equal(a->heap_len[f], ((uint32_t *)a->col[f])[a->count]);
            assert_int_equal(b->heap_len[f], ((uint32_t *)b->col[f])[b->count]);
        }
    }
}

static uint8_t *s_encode(const wr_batch_t *b, size_t *len)
{
    *len = wr_batch_encoded_size(b);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(wr_batch_encode(b, buf), *len);
    return buf;
}

static void s_assert_empty(const wr_batch_t *b)
{
    assert_int_equal(b->count, 0);
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (b->schema.f[f].type != WR_T_STRING) continue;
        assert_int_equal(b->heap_len[f], 0);
        assert_int_equal(((uint32_t *)b->col[f])[0], 0);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 4);
    assert_non_null(b);
    s_push(b, "sensor-1", 1700000000123, 21.5, 1, 7, "hello");
    s_push(b, "", -5, -0.0, 0, INT64_MIN, "");
    s_push(b, "sensor-\xff\x00x", INT64_MAX, 1e300, 1, INT64_MAX, "");

    uint32_t len;
    const char *d = wr_batch_str(b, 0, 2, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(d, "sensor-\xff", 8);

    size_t n;
    uint8_t *buf = s_encode(b, &n);
    /* 4 fixed columns x 3 x 8, two string fields x 4 offsets x 4, 8 + 0 + 8 device bytes, 5 note.
     */
    assert_int_equal(n, 4 * 3 * 8 + 2 * 4 * 4 + 16 + 5);
    /* The wire form is little-endian: the first device offsets are 0, 8, 8, 16. */
    assert_memory_equal(buf, "\0\0\0\0\x08\0\0\0\x08\0\0\0\x10\0\0\0", 16);

    wr_batch_t *c = wr_batch_new(&s, 0);
    assert_non_null(c);
    assert_int_equal(wr_batch_decode(c, buf, n, 3), 0);
    s_assert_same(b, c);
    assert_true(wr_batch_f64(c, 2)[1] == 0.0);

    free(buf);
    wr_batch_destroy(&b);
    wr_batch_destroy(&c);
    assert_null(b);
    wr_batch_destroy(&c); /* NULL-safe */
    wr_batch_destroy(NULL);
}

static void test_zero_records(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    assert_non_null(b);
    assert_true(b->cap > 0);
    size_t n;
    uint8_t *buf = s_encode(b, &n);
    assert_int_equal(n, 8); /* one zero offset per string field */
    wr_batch_t *c = wr_batch_new(&s, 8);
    s_push_n(c, 3, 1);
    assert_int_equal(wr_batch_decode(c, buf, n, 0), 0);
    s_assert_empty(c);
    assert_int_equal(wr_batch_decode(c, buf, 0, 0), WR_EPROTO);
    free(buf);

    /* A schema without fields: only the count travels. */
    wr_schema_t none;
    wr_schema_init(&none);
    wr_batch_t *z = wr_batch_new(&none, 0);
    assert_non_null(z);
    assert_int_equal(wr_batch_encoded_size(z), 0);
    assert_int_equal(wr_batch_decode(z, (const uint8_t *)"", 0, 1000), 0);
    assert_int_equal(z->count, 1000);
    assert_int_equal(wr_batch_decode(z, (const uint8_t *)"x", 1, 1), WR_EPROTO);
    assert_int_equal(z->count, 0);
    assert_int_equal(wr_batch_decode(z, (const uint8_t *)"", 0, WR_BATCH_MAX + 1), WR_EPROTO);
    wr_batch_destroy(&z);
    wr_batch_destroy(&b);
    wr_batch_destroy(&c);
}

static void test_every_type_round_trips_through_many_sizes(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 1);
    wr_batch_t *c = wr_batch_new(&s, 1);
    for (uint32_t n = 0; n < 70; n += 3) {
        wr_batch_clear(b);
        s_push_n(b, n, n);
        size_t len;
        uint8_t *buf = s_encode(b, &len);
        assert_int_equal(wr_batch_decode(c, buf, len, n), 0);
        s_assert_same(b, c);
        free(buf);
    }
    wr_batch_destroy(&b);
    wr_batch_destroy(&c);
}

static void test_reuse_after_clear(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 16);
    s_push_n(b, 500, 3);
    uint32_t cap = b->cap;
    void *col = b->col[2];
    char *heap = b->heap[0];
    wr_batch_clear(b);
    s_assert_empty(b);
    s_push_n(b, 500, 4); /* the same amount again: no buffer moves */
    assert_int_equal(b->cap, cap);
    assert_ptr_equal(b->col[2], col);
    assert_ptr_equal(b->heap[0], heap);

    wr_batch_t *ref = wr_batch_new(&s, 0);
    s_push_n(ref, 500, 4);
    s_assert_same(ref, b);

    /* Decoding into a used batch replaces its contents, and pushing continues after them. */
    size_t len;
    uint8_t *buf = s_encode(ref, &len);
    wr_batch_clear(ref);
    s_push_n(ref, 7, 99);
    assert_int_equal(wr_batch_decode(ref, buf, len, 500), 0);
    s_assert_same(ref, b);
    s_push(ref, "x", 1, 2, 1, 3, "y");
    s_push(b, "x", 1, 2, 1, 3, "y");
    s_assert_same(ref, b);
    free(buf);
    wr_batch_destroy(&b);
    wr_batch_destroy(&ref);
}

static void test_growth(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    /* Strings alone grow the batch when count reaches cap. */
    for (uint32_t i = 0; i < 100000; i++) {
        char dev[16];
        int n = snprintf(dev, sizeof dev, "d%u", i);
        assert_int_equal(wr_batch_push_str(b, 0, dev, (uint32_t)n), 0);
        assert_int_equal(wr_batch_push_str(b, 5, "", 0), 0);
        assert_true(b->cap > b->count);
        wr_batch_i64(b, 1)[i] = i;
        wr_batch_f64(b, 2)[i] = i * 0.5;
        wr_batch_i64(b, 3)[i] = 1;
        wr_batch_i64(b, 4)[i] = -(int64_t)i;
        b->count++;
    }
    for (uint32_t i = 0; i < 100000; i += 997) {
        char dev[16];
        int n = snprintf(dev, sizeof dev, "d%u", i);
        uint32_t len;
        const char *d = wr_batch_str(b, 0, i, &len);
        assert_int_equal(len, n);
        assert_memory_equal(d, dev, len);
        assert_true(wr_batch_f64(b, 2)[i] == i * 0.5);
        assert_int_equal(wr_batch_i64(b, 4)[i], -(int64_t)i);
    }
    /* Pushing twice before the bump replaces the value. */
    assert_int_equal(wr_batch_push_str(b, 0, "first", 5), 0);
    assert_int_equal(wr_batch_push_str(b, 0, "2nd", 3), 0);
    assert_int_equal(wr_batch_push_str(b, 5, "", 0), 0);
    b->count++;
    uint32_t len;
    assert_memory_equal(wr_batch_str(b, 0, 100000, &len), "2nd", 3);
    assert_int_equal(len, 3);
    assert_int_equal(b->heap_len[0], ((uint32_t *)b->col[0])[b->count]);

    assert_int_equal(wr_batch_reserve(b, WR_BATCH_MAX + 1), WR_ETOOBIG);
    assert_int_equal(b->count, 100001);
    assert_null(wr_batch_new(&s, WR_BATCH_MAX + 1));
    wr_batch_destroy(&b);
}

/* Every prefix, every wrong count and every wrong length is malformed, and leaves b empty. */
static void test_truncation_rejected(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_push_n(b, 9, 5);
    size_t len;
    uint8_t *buf = s_encode(b, &len);
    buf[len] = 0;
    wr_batch_t *c = wr_batch_new(&s, 0);
    for (size_t cut = 0; cut < len; cut++) {
        s_push_n(c, 2, 0);
        assert_int_equal(wr_batch_decode(c, buf, cut, 9), WR_EPROTO);
        s_assert_empty(c);
    }
    assert_int_equal(wr_batch_decode(c, buf, len + 1, 9), WR_EPROTO);
    s_assert_empty(c);
    for (uint32_t count = 0; count < 20; count++) {
        if (count == 9) continue;
        s_push_n(c, 2, 0);
        assert_int_equal(wr_batch_decode(c, buf, len, count), WR_EPROTO);
        s_assert_empty(c);
    }
    assert_int_equal(wr_batch_decode(c, buf, len, UINT32_MAX), WR_EPROTO);
    assert_int_equal(wr_batch_decode(c, buf, len, 9), 0);
    s_assert_same(b, c);
    free(buf);
    wr_batch_destroy(&b);
    wr_batch_destroy(&c);
}

static void s_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

static void test_corrupt_offsets_rejected(void **state)
{
    (void)state;
    wr_schema_t s;
    wr_schema_init(&s);
    assert_int_equal(wr_schema_add(&s, "n", WR_T_INT), 0);
    assert_int_equal(wr_schema_add(&s, "s", WR_T_STRING), 0);
    wr_batch_t *b = wr_batch_new(&s, 0);
    const char *strs[] = {"ab", "", "cde"};
    for (int i = 0; i < 3; i++) {
        wr_batch_i64(b, 0)[i] = i;
        assert_int_equal(wr_batch_push_str(b, 1, strs[i], (uint32_t)strlen(strs[i])), 0);
        b->count++;
    }
    size_t len;
    uint8_t *good = s_encode(b, &len);
    assert_int_equal(len, 24 + 16 + 5);
    uint8_t *buf = malloc(len);
    wr_batch_t *c = wr_batch_new(&s, 0);
    uint8_t *offs = buf + 24; /* 0, 2, 2, 5 */
    struct {
        int at;
        uint32_t v;
    } cases[] = {
        {0, 1},          /* the first offset is not 0 */
        {1, 3},          /* out of order: 3 then 2 */
        {2, 1},          /* out of order: 2 then 1 */
        {3, 4},          /* the last offset says 4 bytes follow, 5 do */
        {3, 6},          /* ... or 6 */
        {3, UINT32_MAX}, /* ... or 4 GiB */
        {1, UINT32_MAX}, /* in range of nothing */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(buf, good, len);
        s_put32(offs + 4 * cases[k].at, cases[k].v);
        s_push_n(c, 0, 0);
        assert_int_equal(wr_batch_decode(c, buf, len, 3), WR_EPROTO);
        s_assert_empty(c);
    }
    /* Any single-byte change either decodes to a consistent batch or is refused. */
    for (size_t at = 0; at < len; at++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, good, len);
            buf[at] ^= (uint8_t)(1 << bit);
            int rc = wr_batch_decode(c, buf, len, 3);
            if (rc == 0) {
                uint32_t *off = c->col[1];
                assert_int_equal(off[0], 0);
                for (int i = 0; i < 3; i++)
                    assert_true(off[i] <= off[i + 1]);
                assert_int_equal(off[3], c->heap_len[1]);
            } else {
                assert_int_equal(rc, WR_EPROTO);
                s_assert_empty(c);
            }
        }
    }
    free(good);
    free(buf);
    wr_batch_destroy(&b);
    wr_batch_destroy(&c);
}

/* Bools travel as 8-byte 0 or 1; anything else is malformed (expression kernels rely on it). */
static void test_bool_values_checked(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *b = wr_batch_new(&s, 0);
    s_push_n(b, 5, 1);
    size_t len;
    uint8_t *buf = s_encode(b, &len);
    wr_batch_t *c = wr_batch_new(&s, 0);
    assert_int_equal(wr_batch_decode(c, buf, len, 5), 0);
    /* ok is field 3: after device (6 x 4 bytes of offsets + its bytes), ts and temp. */
    size_t at = 6 * 4 + ((uint32_t *)b->col[0])[5] + 5 * 8 * 2;
    for (int i = 0; i < 5; i++)
        assert_int_equal(buf[at + 8 * i], wr_batch_i64(b, 3)[i]);
    buf[at + 8 * 2] = 2;
    assert_int_equal(wr_batch_decode(c, buf, len, 5), WR_EPROTO);
    s_assert_empty(c);
    buf[at + 8 * 2] = 1;
    buf[at + 8 * 2 + 7] = 0x80; /* negative */
    assert_int_equal(wr_batch_decode(c, buf, len, 5), WR_EPROTO);
    free(buf);
    wr_batch_destroy(&b);
    wr_batch_destroy(&c);
}

static void test_append_row(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *src = wr_batch_new(&s, 0);
    s_push_n(src, 301, 11);
    wr_batch_t *dst = wr_batch_new(&s, 0);
    wr_batch_t *ref = wr_batch_new(&s, 0);
    for (uint32_t i = 0; i < src->count; i += 2)
        assert_int_equal(wr_batch_append_row(dst, src, i), 0);
    for (uint32_t i = 0; i < 301; i += 2)
        s_push_n(ref, 1, 11 + i);
    s_assert_same(ref, dst);
    assert_int_equal(dst->count, 151);
    wr_batch_destroy(&src);
    wr_batch_destroy(&dst);
    wr_batch_destroy(&ref);
}

/* wr_batch_append_rows gives what as many wr_batch_append_row calls give: after records already
 * there, with a selection (repeats, any order, empty strings), without one, and nothing at all;
 * the encoded bytes match too (offsets and heaps). */
static void test_append_rows_as_rows(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *src = wr_batch_new(&s, 0);
    s_push_n(src, 1000, 3);
    uint32_t sel[1500];
    for (uint32_t k = 0; k < 1500; k++)
        sel[k] = (k * 7919u + k / 3) % 1000;
    for (uint32_t n = 0; n <= 1500; n += 499) {
        wr_batch_t *dst = wr_batch_new(&s, 0), *ref = wr_batch_new(&s, 0);
        s_push_n(dst, 5, 77);
        s_push_n(ref, 5, 77);
        for (uint32_t k = 0; k < n; k++)
            assert_int_equal(wr_batch_append_row(ref, src, sel[k]), 0);
        assert_int_equal(wr_batch_append_rows(dst, src, sel, n), 0);
        uint32_t all = n < 1000 ? n : 1000; /* no selection: the first records */
        for (uint32_t i = 0; i < all; i++)
            assert_int_equal(wr_batch_append_row(ref, src, i), 0);
        assert_int_equal(wr_batch_append_rows(dst, src, NULL, all), 0);
        assert_int_equal(dst->count, 5 + n + all);
        s_assert_same(ref, dst);
        size_t la, lb;
        uint8_t *ea = s_encode(ref, &la), *eb = s_encode(dst, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ea, eb, la);
        free(ea);
        free(eb);
        wr_batch_destroy(&dst);
        wr_batch_destroy(&ref);
    }
    wr_batch_destroy(&src);
}

/* More records than a batch may hold: refused, and the batch keeps what it had. */
static void test_append_rows_too_many(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    wr_batch_t *src = wr_batch_new(&s, 0);
    s_push_n(src, 4, 1);
    wr_batch_t *dst = wr_batch_new(&s, 0);
    s_push_n(dst, 3, 9);
    wr_batch_t *ref = wr_batch_new(&s, 0);
    s_push_n(ref, 3, 9);
    uint32_t sel[1] = {0};
    dst->count = WR_BATCH_MAX; /* as if full: only the count is read before refusing */
    assert_int_equal(wr_batch_append_rows(dst, src, sel, 1), WR_ETOOBIG);
    dst->count = 3;
    s_assert_same(ref, dst);
    wr_batch_destroy(&src);
    wr_batch_destroy(&dst);
    wr_batch_destroy(&ref);
}

static void test_schema(void **state)
{
    (void)state;
    wr_schema_t s = s_schema();
    assert_int_equal(s.n, 6);
    assert_int_equal(wr_schema_find(&s, "temp"), 2);
    assert_int_equal(wr_schema_find(&s, "tem"), -1);
    assert_int_equal(wr_schema_find(&s, "note"), 5);

    assert_int_equal(wr_schema_add(&s, "temp", WR_T_INT), WR_EEXIST);
    assert_int_equal(wr_schema_add(&s, "", WR_T_INT), WR_EINVAL);
    assert_int_equal(wr_schema_add(&s, "9lives", WR_T_INT), WR_EINVAL);
    assert_int_equal(wr_schema_add(&s, "a-b", WR_T_INT), WR_EINVAL);
    assert_int_equal(wr_schema_add(&s, NULL, WR_T_INT), WR_EINVAL);
    assert_int_equal(wr_schema_add(&s, "x", (enum wr_type)99), WR_EINVAL);
    assert_true(wr_field_name_valid("_x9"));
    assert_true(wr_field_name_valid("abcdefghijklmnopqrstuvwxyz01234")); /* 31 */
    assert_false(wr_field_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
    assert_int_equal(s.n, 6);

    wr_schema_t full;
    wr_schema_init(&full);
    for (int i = 0; i < WR_SCHEMA_MAX_FIELDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        assert_int_equal(wr_schema_add(&full, name, WR_T_DOUBLE), 0);
    }
    assert_int_equal(wr_schema_add(&full, "one_more", WR_T_DOUBLE), WR_ETOOBIG);

    wr_schema_t t = s_schema();
    assert_true(wr_schema_equal(&s, &t));
    assert_memory_equal(&s, &t, sizeof s);
    t.f[3].type = WR_T_INT;
    assert_false(wr_schema_equal(&s, &t));
    t = s_schema();
    t.n--;
    assert_false(wr_schema_equal(&s, &t));

    const char *names[] = {"int", "double", "bool", "time", "string"};
    for (int k = 0; k < 5; k++) {
        enum wr_type ty;
        assert_string_equal(wr_type_name((enum wr_type)k), names[k]);
        assert_int_equal(wr_type_parse(names[k], &ty), 0);
        assert_int_equal(ty, k);
    }
    struct {
        const char *name;
        enum wr_type t;
    } aliases[] = {{"long", WR_T_INT},       {"int64", WR_T_INT},      {"float", WR_T_DOUBLE},
                   {"float64", WR_T_DOUBLE}, {"timestamp", WR_T_TIME}, {"str", WR_T_STRING},
                   {"Double", WR_T_DOUBLE},  {"TIMESTAMP", WR_T_TIME}};
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++) {
        enum wr_type ty;
        assert_int_equal(wr_type_parse(aliases[k].name, &ty), 0);
        assert_int_equal(ty, aliases[k].t);
    }
    enum wr_type ty;
    assert_int_equal(wr_type_parse("decimal", &ty), WR_EINVAL);
    assert_int_equal(wr_type_parse("", &ty), WR_EINVAL);
}

static size_t s_pack_schema(const wr_schema_t *s, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    assert_int_equal(wr_schema_pack(s, &pk), 0);
    return sb->size;
}

static void test_schema_pack_unpack(void **state)
{
    (void)state;
    wr_schema_t s = s_schema(), t;
    msgpack_sbuffer sb;
    size_t n = s_pack_schema(&s, &sb);
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, sb.data, n);
    assert_int_equal(wr_schema_unpack(&r, &t), 0);
    assert_int_equal(wr_mp_remaining(&r), 0);
    assert_true(wr_schema_equal(&s, &t));
    assert_memory_equal(&s, &t, sizeof s);

    /* Every truncation fails and leaves the output untouched. */
    for (size_t cut = 0; cut < n; cut++) {
        wr_schema_init(&t);
        t.n = 77;
        wr_mp_reader_init(&r, sb.data, cut);
        assert_int_equal(wr_schema_unpack(&r, &t), WR_EPROTO);
        assert_int_equal(t.n, 77);
    }
    msgpack_sbuffer_destroy(&sb);

    /* Well-formed msgpack that is not a valid schema. */
    struct {
        const char *what;
        const char *bytes;
        size_t len;
    } bad[] = {
        {"not an array", "\xa1x", 2},
        {"pair of 3", "\x91\x93\xa1x\xa3int\xa3int", 12},
        {"unknown type", "\x91\x92\xa1x\xa3\x69nx", 8},
        {"bad name", "\x91\x92\xa2\x31x\xa3int", 9},
        {"duplicate", "\x92\x92\xa1x\xa3int\x92\xa1x\xa3int", 15},
        {"name not a string", "\x91\x92\x01\xa3int", 7},
        {"name with NUL", "\x91\x92\xa2x\x00\xa3int", 9},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        wr_mp_reader_init(&r, bad[k].bytes, bad[k].len);
        if (wr_schema_unpack(&r, &t) != WR_EPROTO) fail_msg("accepted: %s", bad[k].what);
    }

    /* 65 fields, a name of 32 characters. */
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, WR_SCHEMA_MAX_FIELDS + 1);
    for (int i = 0; i <= WR_SCHEMA_MAX_FIELDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        msgpack_pack_array(&pk, 2);
        wr_pack_str(&pk, name);
        wr_pack_str(&pk, "int");
    }
    wr_mp_reader_init(&r, sb.data, sb.size);
    assert_int_equal(wr_schema_unpack(&r, &t), WR_EPROTO);
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 2);
    wr_pack_str(&pk, "abcdefghijklmnopqrstuvwxyz012345");
    wr_pack_str(&pk, "int");
    wr_mp_reader_init(&r, sb.data, sb.size);
    assert_int_equal(wr_schema_unpack(&r, &t), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);

    /* The empty schema. */
    wr_schema_init(&s);
    n = s_pack_schema(&s, &sb);
    assert_int_equal(n, 1);
    wr_mp_reader_init(&r, sb.data, n);
    assert_int_equal(wr_schema_unpack(&r, &t), 0);
    assert_int_equal(t.n, 0);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_zero_records),
        cmocka_unit_test(test_every_type_round_trips_through_many_sizes),
        cmocka_unit_test(test_reuse_after_clear),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_truncation_rejected),
        cmocka_unit_test(test_corrupt_offsets_rejected),
        cmocka_unit_test(test_bool_values_checked),
        cmocka_unit_test(test_append_row),
        cmocka_unit_test(test_append_rows_as_rows),
        cmocka_unit_test(test_append_rows_too_many),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_schema_pack_unpack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
