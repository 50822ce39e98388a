/* actors/dataflow/textin: JSON lines and CSV into batches. Every type, escapes, ISO-8601 times,
 * numbers parsed exactly, byte offsets per record, input in arbitrary chunks, full batches, bad
 * lines skipped and counted or failing with their line number, rewinding. Prints the parse
 * throughput (informational). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/dataflow/record/batch.h"
#include "actors/connectors/generator/generator.h"
#include "actors/connectors/textin.h"
#include "bus/base/error.h"
#include "bus/base/numparse.h"
#include "bus/base/strbuf.h"

enum { F_ID, F_TEMP, F_OK, F_TS, F_NAME };

/* id int, temp double, ok bool, ts time, name string */
static void every_type(wr_schema_t *s)
{
    wr_schema_init(s);
    assert_int_equal(wr_schema_add(s, "id", WR_T_INT), 0);
    assert_int_equal(wr_schema_add(s, "temp", WR_T_DOUBLE), 0);
    assert_int_equal(wr_schema_add(s, "ok", WR_T_BOOL), 0);
    assert_int_equal(wr_schema_add(s, "ts", WR_T_TIME), 0);
    assert_int_equal(wr_schema_add(s, "name", WR_T_STRING), 0);
}

typedef struct {
    wr_schema_t schema;
    wr_textin_t *t;
    wr_batch_t *b;
    uint64_t *offsets; /* room for b->cap */
} fx_t;

static fx_t *fx_new(enum wr_textin_format format, bool header, enum wr_textin_on_error on_error)
{
    fx_t *fx = calloc(1, sizeof *fx);
    every_type(&fx->schema);
    wr_textin_options_t opt = {
        .format = format, .header = header, .on_error = on_error, .name = "in.txt"};
    fx->t = wr_textin_new(&fx->schema, &opt);
    fx->b = wr_batch_new(&fx->schema, 256);
    assert_non_null(fx->t);
    assert_non_null(fx->b);
    fx->offsets = calloc(fx->b->cap, sizeof *fx->offsets);
    return fx;
}

static void fx_destroy(fx_t **fx)
{
    wr_textin_destroy(&(*fx)->t);
    assert_null((*fx)->t);
    wr_batch_destroy(&(*fx)->b);
    free((*fx)->offsets);
    free(*fx);
    *fx = NULL;
}

/* Parses all of text (eof) into fx->b; returns the rc, *consumed bytes. */
static int parse_all(fx_t *fx, const char *text, size_t *consumed)
{
    return wr_textin_parse(fx->t, text, strlen(text), true, fx->b, fx->offsets, consumed);
}

static void assert_str(wr_batch_t *b, int field, uint32_t i, const char *want, size_t want_len)
{
    uint32_t len;
    const char *s = wr_batch_str(b, field, i, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(s, want, want_len);
}

static const char s_jsonl[] =
    "{\"id\": 1, \"temp\": 21.5, \"ok\": true, \"ts\": 1717000000000, \"name\": \"a\"}\n"
    "{\"name\":\"b\",\"ts\":\"2024-05-29T16:26:40.123Z\",\"ok\":false,\"temp\":-3,\"id\":-2}\n"
    "\n"
    "  {\"id\":9223372036854775807,\"temp\":1e-3,\"ok\":true,\"ts\":-5,\"name\":\"\"}  \r\n";

static void test_jsonl_every_type(void **state)
{
    (void)state;
    fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
    size_t used;
    assert_int_equal(parse_all(fx, s_jsonl, &used), 0);
    assert_int_equal(used, strlen(s_jsonl));
    wr_batch_t *b = fx->b;
    assert_int_equal(b->count, 3);
    assert_int_equal(wr_batch_i64(b, F_ID)[0], 1);
    assert_int_equal(wr_batch_i64(b, F_ID)[1], -2);
    assert_int_equal(wr_batch_i64(b, F_ID)[2], INT64_MAX);
    assert_true(wr_batch_f64(b, F_TEMP)[0] == 21.5);
    assert_true(wr_batch_f64(b, F_TEMP)[1] == -3.0);
    assert_true(wr_batch_f64(b, F_TEMP)[2] == 1e-3);
    assert_int_equal(wr_batch_i64(b, F_OK)[0], 1);
    assert_int_equal(wr_batch_i64(b, F_OK)[1], 0);
    assert_int_equal(wr_batch_i64(b, F_TS)[0], 1717000000000);
    assert_int_equal(wr_batch_i64(b, F_TS)[1], 1717000000123);
    assert_int_equal(wr_batch_i64(b, F_TS)[2], -5);
    assert_str(b, F_NAME, 0, "a", 1);
    assert_str(b, F_NAME, 1, "b", 1);
    assert_str(b, F_NAME, 2, "", 0);
    /* offsets: where each record's line starts */
    const char *second = strchr(s_jsonl, '\n') + 1;
    const char *fourth = strstr(s_jsonl, "\n\n") + 2;
    assert_int_equal(fx->offsets[0], 0);
    assert_int_equal(fx->offsets[1], second - s_jsonl);
    assert_int_equal(fx->offsets[2], fourth - s_jsonl);
    const wr_textin_stats_t *st = wr_textin_stats(fx->t);
    assert_int_equal(st->records, 3);
    assert_int_equal(st->lines, 4);
    assert_int_equal(st->bad, 0);
    assert_int_equal(st->offset, strlen(s_jsonl));
    assert_string_equal(wr_textin_error(fx->t), "");
    fx_destroy(&fx);
}

static void test_jsonl_escapes_and_unknown_keys(void **state)
{
    (void)state;
    fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
    const char *text =
        "{\"extra\": {\"a\": [1, 2.5, \"x\\\"}\", null, true, {}], \"b\": []}, \"id\": 1, "
        "\"temp\": 0, \"ok\": true, \"ts\": 0, "
        "\"name\": \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20AC \\ud83d\\ude00 \\u0041\", "
        "\"more\": -1.5e+10}\n"
        "{\"n\\u0061me\": \"key with an escape\", \"id\": 2, \"temp\": 0, \"ok\": false, \"ts\": "
        "0}\n";
    size_t used;
    assert_int_equal(parse_all(fx, text, &used), 0);
    assert_int_equal(fx->b->count, 2);
    const char want[] = "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 A";
    assert_str(fx->b, F_NAME, 0, want, sizeof want - 1);
    assert_str(fx->b, F_NAME, 1, "key with an escape", 18);
    fx_destroy(&fx);
}

/* Each bad line, the message it gets (a substring), under WR_TEXTIN_FAIL. */
static void test_jsonl_bad_lines_fail(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *msg;
    } cases[] = {
        {"[1, 2]", "in.txt:2: column 1: expected a JSON object"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0}", "in.txt:2: name: missing"},
        {"{\"id\": 1.5, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "in.txt:2: id: '1.5' is not an integer"},
        {"{\"id\": 99999999999999999999, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "id: '99999999999999999999' is out of range"},
        {"{\"id\": \"1\", \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "id: column 8: expected an integer, found a string"},
        {"{\"id\": 1, \"temp\": null, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "temp: column 19: expected a number, found null"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": 1, \"ts\": 0, \"name\": \"\"}",
         "ok: column 28: expected true or false, found a number"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": \"yesterday\", \"name\": \"\"}",
         "ts: 'yesterday' is not a time"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": 5}",
         "name: column 51: expected a string, found a number"},
        {"{\"id\": 1, \"id\": 2, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "id: column 11: appears twice"},
        {"{\"id\": 1 \"temp\": 1}", "column 10: expected ',' or '}'"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"} x",
         "text after the object"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"a\\qb\"}",
         "name: column 53: unknown escape '\\q'"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\\ud800\"}",
         "without its low half"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"a\tb\"}",
         "control character 0x09"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"abc",
         "unterminated string"},
        {"{\"id\": 1, \"x\": [1, , 2], \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "malformed JSON value of the key 'x'"},
        {"{\"id\": 1, \"x\": tru, \"temp\": 1}", "malformed JSON value"},
        {"{\"id\" 1}", "expected ':' after a key"},
        {"{id: 1}", "expected a key in double quotes"},
        {"{\"id\": 1, \"temp\": 1e999, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "temp: '1e999' is out of range"},
        {"{\"id\": 1, \"temp\": 1.2.3, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "temp: '1.2.3' is not a number"},
        /* "found X" says what was found: a JSON kind only when it is one, else the text */
        {"this is not json at all",
         "column 1: expected a JSON object ('{'), found 'this is not json at all'"},
        {"true", "column 1: expected a JSON object ('{'), found a boolean"},
        {"nothing here, really, nothing at all, nothing, nothing but words",
         "found 'nothing here, really, nothing at all, no...'"},
        {"{\"id\": nope, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"\"}",
         "id: column 8: expected an integer, found 'nope'"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": truth, \"ts\": 0, \"name\": \"\"}",
         "ok: column 28: expected true or false, found 'truth'"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": null, \"ts\": 0, \"name\": \"\"}",
         "ok: column 28: expected true or false, found null"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": fancy}",
         "name: column 51: expected a string, found 'fancy'"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": -}",
         "name: column 51: expected a string, found '-'"},
        {"{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": [1]}",
         "name: column 51: expected a string, found an array"},
    };
    const char *good = "{\"id\": 7, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"g\"}\n";
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
        char text[512];
        snprintf(text, sizeof text, "%s%s\n%s", good, cases[i].line, good);
        assert_true(strlen(text) < sizeof text - 1);
        size_t used;
        int rc = parse_all(fx, text, &used);
        if (rc != WR_EPROTO || !strstr(wr_textin_error(fx->t), cases[i].msg))
            fail_msg("case %zu: rc %d, message '%s', expected '%s'", i, rc, wr_textin_error(fx->t),
                     cases[i].msg);
        /* the good line before is in the batch; the position is at the bad line */
        assert_int_equal(fx->b->count, 1);
        assert_int_equal(used, strlen(good));
        assert_int_equal(wr_textin_stats(fx->t)->offset, strlen(good));
        assert_int_equal(wr_textin_stats(fx->t)->lines, 1);
        /* again: the same error, nothing more */
        rc = wr_textin_parse(fx->t, text + used, strlen(text) - used, true, fx->b, NULL, &used);
        assert_int_equal(rc, WR_EPROTO);
        assert_int_equal(used, 0);
        assert_int_equal(fx->b->count, 1);
        fx_destroy(&fx);
    }
}

static void test_bad_lines_skipped_and_counted(void **state)
{
    (void)state;
    fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_SKIP);
    const char *text = "{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"a\"}\n"
                       "not json\n"
                       "{\"id\": 2, \"temp\": 2, \"ok\": true, \"ts\": 0, \"name\": \"b\"}\n"
                       "{\"id\": \"x\"}\n"
                       "{\"id\": 3, \"temp\": 3, \"ok\": true, \"ts\": 0, \"name\": \"c\"}";
    size_t used;
    assert_int_equal(parse_all(fx, text, &used), 0);
    assert_int_equal(used, strlen(text));
    assert_int_equal(fx->b->count, 3);
    assert_int_equal(wr_batch_i64(fx->b, F_ID)[2], 3);
    assert_str(fx->b, F_NAME, 1, "b", 1); /* strings of the bad lines left no trace */
    const wr_textin_stats_t *st = wr_textin_stats(fx->t);
    assert_int_equal(st->bad, 2);
    assert_int_equal(st->records, 3);
    assert_int_equal(st->lines, 5);
    assert_true(strstr(wr_textin_error(fx->t), "in.txt:4: id: "));
    fx_destroy(&fx);
}

static void s_collect_bad(void *ctx, const char *msg)
{
    wr_strbuf_addf(ctx, "%s\n", msg);
}

/* on_bad hears of every skipped line as it is skipped, with its message: the file source logs
 * them. */
static void test_skipped_lines_are_told(void **state)
{
    (void)state;
    wr_schema_t schema;
    every_type(&schema);
    wr_strbuf_t told;
    wr_strbuf_init(&told);
    wr_textin_options_t opt = {.format = WR_TEXTIN_JSONL,
                               .on_error = WR_TEXTIN_SKIP,
                               .max_line = 1024,
                               .name = "in.txt",
                               .on_bad = s_collect_bad,
                               .ctx = &told};
    wr_textin_t *t = wr_textin_new(&schema, &opt);
    wr_batch_t *b = wr_batch_new(&schema, 16);
    assert_non_null(t);
    assert_non_null(b);
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    wr_strbuf_adds(&text, "{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"a\"}\n"
                          "this is not json at all\n");
    for (int i = 0; i < 2000; i++)
        wr_strbuf_addc(&text, 'x');
    wr_strbuf_adds(&text, "\n{\"id\": 2, \"temp\": 2, \"ok\": true, \"ts\": 0, \"name\": \"b\"}\n");
    size_t used;
    assert_int_equal(wr_textin_parse(t, text.buf, text.len, true, b, NULL, &used), 0);
    assert_int_equal(b->count, 2);
    assert_int_equal(wr_textin_stats(t)->bad, 2);
    assert_string_equal(told.buf,
                        "in.txt:2: column 1: expected a JSON object ('{'), found 'this is not "
                        "json at all'\n"
                        "in.txt:3: line longer than 1024 bytes\n");
    wr_strbuf_release(&text);
    wr_strbuf_release(&told);
    wr_batch_destroy(&b);
    wr_textin_destroy(&t);
}

/* The same input in chunks of every size from 1 byte up parses to the same records, offsets
 * and counters; a last line without a newline waits for eof. */
static void test_chunked_input(void **state)
{
    (void)state;
    fx_t *whole = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
    size_t used;
    assert_int_equal(parse_all(whole, s_jsonl, &used), 0);
    size_t len = strlen(s_jsonl);
    for (size_t chunk = 1; chunk <= len; chunk += chunk < 20 ? 1 : 13) {
        fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
        char pending[1024];
        size_t have = 0, fed = 0;
        while (fed < len || have > 0) {
            size_t n = len - fed < chunk ? len - fed : chunk;
            memcpy(pending + have, s_jsonl + fed, n);
            have += n, fed += n;
            int rc = wr_textin_parse(fx->t, pending, have, fed == len, fx->b, fx->offsets, &used);
            assert_int_equal(rc, 0);
            memmove(pending, pending + used, have - used);
            have -= used;
            if (fed == len) assert_int_equal(have, 0);
        }
        assert_int_equal(fx->b->count, whole->b->count);
        for (uint32_t i = 0; i < fx->b->count; i++) {
            assert_int_equal(fx->offsets[i], whole->offsets[i]);
            assert_int_equal(wr_batch_i64(fx->b, F_TS)[i], wr_batch_i64(whole->b, F_TS)[i]);
        }
        assert_int_equal(wr_textin_stats(fx->t)->lines, 4);
        fx_destroy(&fx);
    }
    /* without eof, the unterminated last line is left for later */
    fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
    const char *text = "{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"a\"}";
    assert_int_equal(wr_textin_parse(fx->t, text, strlen(text), false, fx->b, NULL, &used), 0);
    assert_int_equal(used, 0);
    assert_int_equal(fx->b->count, 0);
    assert_int_equal(wr_textin_parse(fx->t, text, strlen(text), true, fx->b, NULL, &used), 0);
    assert_int_equal(used, strlen(text));
    assert_int_equal(fx->b->count, 1);
    fx_destroy(&fx);
    fx_destroy(&whole);
}

/* A full batch stops the parse; the rest goes into the next batch; rewinding to a record's
 * offset reproduces it. */
static void test_full_batch_and_seek(void **state)
{
    (void)state;
    fx_t *fx = fx_new(WR_TEXTIN_JSONL, false, WR_TEXTIN_FAIL);
    wr_strbuf_t in;
    wr_strbuf_init(&in);
    for (int i = 0; i < 600; i++)
        wr_strbuf_addf(&in,
                       "{\"id\": %d, \"temp\": %d.25, \"ok\": %s, \"ts\": %d, \"name\": \"n%d\"}\n",
                       i, i, i % 2 ? "true" : "false", i * 1000, i);
    size_t pos = 0, used;
    uint64_t off_of_300 = 0;
    int next = 0;
    while (pos < in.len) {
        wr_batch_clear(fx->b);
        assert_int_equal(
            wr_textin_parse(fx->t, in.buf + pos, in.len - pos, true, fx->b, fx->offsets, &used), 0);
        assert_true(fx->b->count == fx->b->cap || pos + used == in.len);
        for (uint32_t i = 0; i < fx->b->count; i++, next++) {
            assert_int_equal(wr_batch_i64(fx->b, F_ID)[i], next);
            assert_true(wr_batch_f64(fx->b, F_TEMP)[i] == next + 0.25);
            if (next == 300) off_of_300 = fx->offsets[i];
        }
        pos += used;
    }
    assert_int_equal(next, 600);
    wr_textin_seek(fx->t, off_of_300, 300);
    wr_batch_clear(fx->b);
    assert_int_equal(wr_textin_parse(fx->t, in.buf + off_of_300, in.len - off_of_300, true, fx->b,
                                     fx->offsets, &used),
                     0);
    assert_int_equal(wr_batch_i64(fx->b, F_ID)[0], 300);
    assert_int_equal(fx->offsets[0], off_of_300);
    char name[8];
    snprintf(name, sizeof name, "n%d", 300);
    assert_str(fx->b, F_NAME, 0, name, strlen(name));
    wr_strbuf_release(&in);
    fx_destroy(&fx);
}

static void test_csv(void **state)
{
    (void)state;
    fx_t *fx = fx_new(WR_TEXTIN_CSV, false, WR_TEXTIN_FAIL);
    const char *text = "1,21.5,true,1717000000000,plain\r\n"
                       "-2,-3,0,2024-05-29T16:26:40.123Z,\"with, comma\"\n"
                       "3,1e2,TRUE,2024-05-29 16:26:40+02:00,\"two\nlines \"\"quoted\"\"\"\n"
                       "4,0.5,1,0,\n"
                       "\n";
    size_t used;
    assert_int_equal(parse_all(fx, text, &used), 0);
    assert_int_equal(used, strlen(text));
    wr_batch_t *b = fx->b;
    assert_int_equal(b->count, 4);
    assert_int_equal(wr_batch_i64(b, F_ID)[1], -2);
    assert_true(wr_batch_f64(b, F_TEMP)[2] == 100.0);
    assert_int_equal(wr_batch_i64(b, F_OK)[1], 0);
    assert_int_equal(wr_batch_i64(b, F_OK)[2], 1);
    assert_int_equal(wr_batch_i64(b, F_OK)[3], 1);
    assert_int_equal(wr_batch_i64(b, F_TS)[1], 1717000000123);
    assert_int_equal(wr_batch_i64(b, F_TS)[2], 1717000000000 - 2 * 3600000);
    assert_str(b, F_NAME, 0, "plain", 5);
    assert_str(b, F_NAME, 1, "with, comma", 11);
    assert_str(b, F_NAME, 2, "two\nlines \"quoted\"", 18);
    assert_str(b, F_NAME, 3, "", 0);
    const char *third = strstr(text, "3,1e2");
    assert_int_equal(fx->offsets[2], third - text);
    assert_int_equal(fx->offsets[3], strstr(text, "4,0.5") - text);
    assert_int_equal(wr_textin_stats(fx->t)->lines, 6); /* the quoted newline is a line too */
    fx_destroy(&fx);
}

static void test_csv_header(void **state)
{
    (void)state;
    fx_t *fx = fx_new(WR_TEXTIN_CSV, true, WR_TEXTIN_SKIP);
    const char *text = "\xef\xbb\xbfts,name,unused,\"id\",ok,temp\n"
                       "5,x,whatever,1,false,2.5\n"
                       "6,y,,2,true,notanumber\n"
                       "7,z,,3,true,3.5,extra\n"
                       "8,w,,4,true\n"
                       "9,\"v\",\"\",5,true,4.5\n";
    size_t used;
    assert_int_equal(parse_all(fx, text, &used), 0);
    assert_int_equal(fx->b->count, 2);
    assert_int_equal(wr_batch_i64(fx->b, F_TS)[0], 5);
    assert_int_equal(wr_batch_i64(fx->b, F_ID)[1], 5);
    assert_str(fx->b, F_NAME, 1, "v", 1);
    assert_int_equal(fx->offsets[0], strstr(text, "5,x") - text);
    const wr_textin_stats_t *st = wr_textin_stats(fx->t);
    assert_int_equal(st->bad, 3);
    assert_int_equal(st->lines, 6);
    assert_true(strstr(wr_textin_error(fx->t), "in.txt:5: 5 columns, expected 6"));
    uint64_t last = fx->offsets[1];
    fx_destroy(&fx);

    /* a new parser resumes mid-file: the header first, then a seek to the record */
    fx = fx_new(WR_TEXTIN_CSV, true, WR_TEXTIN_SKIP);
    size_t header_len = (size_t)(strstr(text, "5,x") - text);
    assert_int_equal(wr_textin_parse(fx->t, text, header_len, false, fx->b, fx->offsets, &used), 0);
    assert_int_equal(used, header_len);
    assert_int_equal(fx->b->count, 0);
    wr_textin_seek(fx->t, last, 5);
    assert_int_equal(parse_all(fx, text + last, &used), 0);
    assert_int_equal(fx->b->count, 1);
    assert_int_equal(wr_batch_i64(fx->b, F_ID)[0], 5);
    assert_int_equal(fx->offsets[0], last);
    fx_destroy(&fx);

    /* a header without a field's column fails, even when bad lines are skipped */
    fx = fx_new(WR_TEXTIN_CSV, true, WR_TEXTIN_SKIP);
    assert_int_equal(parse_all(fx, "id,temp,ok,name\n1,2,true,x\n", &used), WR_EPROTO);
    assert_string_equal(wr_textin_error(fx->t),
                        "in.txt:1: ts: no column of the header has this name");
    assert_int_equal(used, 0);
    fx_destroy(&fx);
    fx = fx_new(WR_TEXTIN_CSV, true, WR_TEXTIN_FAIL);
    assert_int_equal(parse_all(fx, "id,temp,ok,ts,name,id\n", &used), WR_EPROTO);
    assert_true(strstr(wr_textin_error(fx->t), "id: column 20: two columns"));
    fx_destroy(&fx);
}

static void test_csv_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *msg;
    } cases[] = {
        {"1,2,true,0", "in.txt:1: 4 columns, expected 5"},
        {"1,2,true,0,a,b", "in.txt:1: column 14: more than 5 columns"},
        {"x,2,true,0,a", "in.txt:1: id: 'x' is not an integer"},
        {",2,true,0,a", "in.txt:1: id: empty"},
        {"1,2,yes,0,a", "ok: 'yes' is not a boolean"},
        {"1,2,true,2024-13-01,a", "ts: '2024-13-01' is not a time"},
        {"1,2,true,0,\"abc", "unterminated quoted field"},
        {"1,2,true,0,\"ab\"c", "column 16: text after a closing quote"},
        {"1,2,true,0,a\"b", "column 13: a quote inside an unquoted field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fx_t *fx = fx_new(WR_TEXTIN_CSV, false, WR_TEXTIN_FAIL);
        size_t used;
        int rc = parse_all(fx, cases[i].line, &used);
        if (rc != WR_EPROTO || !strstr(wr_textin_error(fx->t), cases[i].msg))
            fail_msg("case %zu: rc %d, message '%s', expected '%s'", i, rc, wr_textin_error(fx->t),
                     cases[i].msg);
        assert_int_equal(fx->b->count, 0);
        fx_destroy(&fx);
    }
}

static void test_overlong_lines(void **state)
{
    (void)state;
    wr_schema_t s;
    every_type(&s);
    wr_textin_options_t opt = {
        .format = WR_TEXTIN_JSONL, .max_line = 80, .on_error = WR_TEXTIN_SKIP};
    wr_textin_t *t = wr_textin_new(&s, &opt);
    wr_batch_t *b = wr_batch_new(&s, 16);
    char text[1024];
    const char *good = "{\"id\": 1, \"temp\": 1, \"ok\": true, \"ts\": 0, \"name\": \"a\"}\n";
    int n = snprintf(text, sizeof text, "%s{\"id\": 1, \"name\": \"%0200d\"}\n%s", good, 0, good);
    size_t used, pos = 0;
    /* in small pieces, as a reader with a short buffer would see it */
    while (pos < (size_t)n) {
        size_t piece = (size_t)n - pos < 100 ? (size_t)n - pos : 100;
        assert_int_equal(
            wr_textin_parse(t, text + pos, piece, pos + piece == (size_t)n, b, NULL, &used), 0);
        assert_true(used > 0);
        pos += used;
    }
    assert_int_equal(b->count, 2);
    assert_int_equal(wr_textin_stats(t)->bad, 1);
    assert_int_equal(wr_textin_stats(t)->lines, 3);
    assert_true(strstr(wr_textin_error(t), "input:2: line longer than 80 bytes"));
    wr_textin_destroy(&t);

    opt.on_error = WR_TEXTIN_FAIL;
    t = wr_textin_new(&s, &opt);
    wr_batch_clear(b);
    assert_int_equal(wr_textin_parse(t, text, (size_t)n, true, b, NULL, &used), WR_ETOOBIG);
    assert_int_equal(used, strlen(good));
    assert_int_equal(b->count, 1);
    wr_textin_destroy(&t);
    wr_batch_destroy(&b);
}

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"0", 0},
        {"-1", -1},
        {"1717000000123", 1717000000123},
        {"1970-01-01", 0},
        {"1970-01-01T00:00:00Z", 0},
        {"2024-05-29T16:26:40Z", 1717000000000},
        {"2024-05-29t16:26:40z", 1717000000000},
        {"2024-05-29T16:26:40.1Z", 1717000000100},
        {"2024-05-29T16:26:40.123456789Z", 1717000000123},
        {"2024-05-29T16:26:40,5", 1717000000500},
        {"2024-05-29T16:26Z", 1717000000000 - 40000},
        {"2024-05-29T18:26:40+02:00", 1717000000000},
        {"2024-05-29T14:56:40-0130", 1717000000000},
        {"2024-02-29T00:00:00Z", 1709164800000},
        {"2000-02-29", 951782400000},
        {"1969-12-31T23:59:59.999Z", -1},
        {"0000-01-01", -62167219200000},
        {"9999-12-31T23:59:59.999Z", 253402300799999},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int64_t ms = 42;
        int rc = wr_parse_time(good[i].text, strlen(good[i].text), &ms);
        if (rc || ms != good[i].ms)
            fail_msg("'%s': rc %d, %lld, expected %lld", good[i].text, rc, (long long)ms,
                     (long long)good[i].ms);
    }
    static const char *const bad[] = {
        "",
        "-",
        "2024",
        "2024-5-29",
        "2024-13-01",
        "2024-00-10",
        "2023-02-29",
        "2024-04-31",
        "2024-05-29T",
        "2024-05-29T24:00:00Z",
        "2024-05-29T16:60:00Z",
        "2024-05-29T16:26:61Z",
        "2024-05-29T16:26:40.Z",
        "2024-05-29T16:26:40.1234567891Z",
        "2024-05-29T16:26:40+2",
        "2024-05-29T16:26:40+24:00",
        "2024-05-29T16:26:40ZZ",
        "2024-05-29X16:26:40Z",
        "1900-02-29",
        "2024-05-29T16:26:40 UTC",
        "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t ms = 42;
        int rc = wr_parse_time(bad[i], strlen(bad[i]), &ms);
        /* "2024" alone is epoch ms 2024: the integer form wins */
        if (!strcmp(bad[i], "2024")) {
            assert_int_equal(rc, 0);
            continue;
        }
        if (rc == 0) fail_msg("'%s' parsed as %lld", bad[i], (long long)ms);
        assert_int_equal(ms, 42);
    }
}

static void test_parse_numbers(void **state)
{
    (void)state;
    int64_t i;
    assert_int_equal(wr_parse_int("9223372036854775807", 19, &i), 0);
    assert_int_equal(i, INT64_MAX);
    assert_int_equal(wr_parse_int("-9223372036854775808", 20, &i), 0);
    assert_int_equal(i, INT64_MIN);
    assert_int_equal(wr_parse_int("9223372036854775808", 19, &i), WR_ETOOBIG);
    assert_int_equal(wr_parse_int("-9223372036854775809", 20, &i), WR_ETOOBIG);
    assert_int_equal(wr_parse_int("18446744073709551616", 20, &i), WR_ETOOBIG);
    assert_int_equal(wr_parse_int("-", 1, &i), WR_EINVAL);
    assert_int_equal(wr_parse_int("", 0, &i), WR_EINVAL);
    assert_int_equal(wr_parse_int("+1", 2, &i), WR_EINVAL);
    assert_int_equal(wr_parse_int("12a", 3, &i), WR_EINVAL);

    static const char *const exact[] = {"0",
                                        "-0",
                                        "1",
                                        "0.1",
                                        "0.3",
                                        "1.7976931348623157e308",
                                        "4.9e-324",
                                        "2.2250738585072014e-308",
                                        "123456789012345678901234567890",
                                        "0.000000000000000000000000000001234567",
                                        "9007199254740993",
                                        "1e22",
                                        "1e23",
                                        "-1.5E-10",
                                        "3.14159265358979323846264338327950288",
                                        "00012.50",
                                        "1e-400",
                                        "0.1e1",
                                        "123.456e-5",
                                        "9999999999999999999",
                                        "10000000000000000000000"};
    for (size_t k = 0; k < sizeof exact / sizeof *exact; k++) {
        double d = -42;
        assert_int_equal(wr_parse_double(exact[k], strlen(exact[k]), &d), 0);
        double want = strtod(exact[k], NULL);
        if (memcmp(&d, &want, sizeof d)) fail_msg("'%s': %.17g, expected %.17g", exact[k], d, want);
    }
    /* random decimals of many shapes round exactly as strtod does */
    uint64_t x = 12345;
    char buf[64];
    for (int k = 0; k < 200000; k++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int digits = 1 + (int)(x >> 60), point = (int)((x >> 50) % 20),
            e = (int)((x >> 40) % 50) - 25;
        uint64_t m = x >> 5;
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)(m % 10000000000000000000u));
        if (n > digits) n = digits;
        buf[n] = '\0';
        if (point < n && point > 0) {
            memmove(buf + point + 1, buf + point, (size_t)(n - point + 1));
            buf[point] = '.';
            n++;
        }
        if (k % 3) n += snprintf(buf + n, sizeof buf - (size_t)n, "e%d", e);
        double d, want = strtod(buf, NULL);
        assert_int_equal(wr_parse_double(buf, (size_t)n, &d), 0);
        if (memcmp(&d, &want, sizeof d)) fail_msg("'%s': %.17g, expected %.17g", buf, d, want);
    }
    /* doubles printed with every digit they need (15 to 17: the second fast path's numbers), and
     * 16- to 19-digit integers at, next to and around the midpoint of two doubles, alone and
     * times 10^-27..10^27 (a midpoint is where rounding twice, through extended precision, could
     * go wrong: these must round as strtod does) */
    for (int k = 0; k < 300000; k++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int n;
        if (k % 2) {
            double v = ldexp((double)(x >> 11) / 9007199254740992.0 + 0.5, (int)(x % 140) - 70);
            n = snprintf(buf, sizeof buf, "%.*g", 15 + (int)((x >> 8) % 3), v);
        } else {
            double v = ldexp(1.0 + (double)(x >> 12) / 4503599627370496.0, 53 + (int)(x % 10));
            double mid = v + (nextafter(v, INFINITY) - v) / 2; /* an integer: ulp >= 2 */
            uint64_t m = (uint64_t)mid + (uint64_t)((x >> 4) % 3) - 1;
            int e = (int)((x >> 20) % 55) - 27;
            n = snprintf(buf, sizeof buf, k % 4 ? "%llue%d" : "%llu", (unsigned long long)m, e);
        }
        double d, want = strtod(buf, NULL);
        assert_int_equal(wr_parse_double(buf, (size_t)n, &d), 0);
        if (memcmp(&d, &want, sizeof d)) fail_msg("'%s': %.17g, expected %.17g", buf, d, want);
    }
    static const char *const bad[] = {"",   "-",   ".5",  "5.",   "1e",    "1e+", "--1", "+1",
                                      "1x", "inf", "nan", "0x10", "1.2.3", " 1",  "1 "};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        double d = 42;
        if (wr_parse_double(bad[k], strlen(bad[k]), &d) != WR_EINVAL)
            fail_msg("'%s' parsed", bad[k]);
        assert_true(d == 42);
    }
    double d;
    assert_int_equal(wr_parse_double("1e400", 5, &d), WR_ETOOBIG);
    assert_int_equal(wr_parse_double("-1e400", 6, &d), WR_ETOOBIG);
    assert_int_equal(wr_parse_double("-0", 2, &d), 0);
    assert_true(d == 0 && signbit(d));
}

static void test_invalid_use(void **state)
{
    (void)state;
    wr_schema_t s, other;
    every_type(&s);
    wr_schema_init(&other);
    wr_schema_add(&other, "id", WR_T_INT);
    wr_textin_options_t opt = {.format = 7};
    assert_null(wr_textin_new(&s, &opt));
    opt.format = WR_TEXTIN_CSV;
    opt.on_error = 9;
    assert_null(wr_textin_new(&s, &opt));
    opt.on_error = WR_TEXTIN_FAIL;
    wr_schema_t empty;
    wr_schema_init(&empty);
    assert_null(wr_textin_new(&empty, &opt));
    wr_textin_t *t = wr_textin_new(&s, &opt);
    wr_batch_t *b = wr_batch_new(&other, 4);
    size_t used = 99;
    assert_int_equal(wr_textin_parse(t, "1\n", 2, true, b, NULL, &used), WR_EINVAL);
    assert_int_equal(used, 0);
    wr_batch_destroy(&b);
    wr_textin_destroy(&t);
    wr_textin_destroy(&t);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Informational: lines per second for the IoT schema, JSON lines and CSV. */
static void test_throughput(void **state)
{
    (void)state;
    wr_schema_t s;
    wr_generator_schema(&s); /* device, ts, temperature, humidity, region */
    for (int format = 0; format < 2; format++) {
        wr_strbuf_t in;
        wr_strbuf_init(&in);
        enum { LINES = 100000 };
        for (int i = 0; i < LINES; i++) {
            if (format == WR_TEXTIN_JSONL)
                wr_strbuf_addf(&in,
                               "{\"device\":%d,\"ts\":%lld,\"temperature\":%.2f,"
                               "\"humidity\":%.1f,\"region\":\"eu-west\"}\n",
                               i * 37 % 5000000, 1717000000000LL + i * 7, 15 + (i % 1000) * 0.01,
                               40 + (i % 300) * 0.1);
            else
                wr_strbuf_addf(&in, "%d,%lld,%.2f,%.1f,eu-west\n", i * 37 % 5000000,
                               1717000000000LL + i * 7, 15 + (i % 1000) * 0.01,
                               40 + (i % 300) * 0.1);
        }
        wr_textin_options_t opt = {.format = (enum wr_textin_format)format};
        wr_textin_t *t = wr_textin_new(&s, &opt);
        wr_batch_t *b = wr_batch_new(&s, 4096);
        uint64_t *offs = malloc(b->cap * sizeof *offs);
        uint64_t lines = 0;
        double t0 = s_now(), dt;
        do {
            wr_textin_seek(t, 0, 0);
            size_t pos = 0, used;
            while (pos < in.len) {
                wr_batch_clear(b);
                assert_int_equal(
                    wr_textin_parse(t, in.buf + pos, in.len - pos, true, b, offs, &used), 0);
                pos += used;
                lines += b->count;
            }
            dt = s_now() - t0;
        } while (dt < 0.5);
        printf("textin %s: %.2f M lines/s, %.0f MB/s (%llu lines, %zu-byte lines)\n",
               format == WR_TEXTIN_JSONL ? "jsonl" : "csv", (double)lines / dt / 1e6,
               (double)lines * ((double)in.len / LINES) / dt / 1e6, (unsigned long long)lines,
               in.len / LINES);
        free(offs);
        wr_batch_destroy(&b);
        wr_textin_destroy(&t);
        wr_strbuf_release(&in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_every_type),
        cmocka_unit_test(test_jsonl_escapes_and_unknown_keys),
        cmocka_unit_test(test_jsonl_bad_lines_fail),
        cmocka_unit_test(test_bad_lines_skipped_and_counted),
        cmocka_unit_test(test_skipped_lines_are_told),
        cmocka_unit_test(test_chunked_input),
        cmocka_unit_test(test_full_batch_and_seek),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_csv_bad_lines),
        cmocka_unit_test(test_overlong_lines),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_numbers),
        cmocka_unit_test(test_invalid_use),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
