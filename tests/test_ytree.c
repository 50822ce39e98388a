/* bus/base/yaml/ytree.h: a YAML file as a tree with lines, aliases marked, syntax and shape
 * errors in the one format, and typed values with their messages. The configuration
 * (tests/test_config.c) and topologies (tests/test_topology.c) check the messages they build on
 * it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/yaml/ytree.h"

static const wr_yaml_opts_t s_opts = {
    .what = "the test file", .max_bytes = 4096, .one_document = "one per file"};

static wr_yaml_t *s_load(const char *text, wr_strbuf_t *err)
{
    wr_yaml_t *y = NULL;
    int rc = wr_yaml_load(text, strlen(text), "t.yaml", &s_opts, &y, err);
    if (rc) fail_msg("rc %d: %s", rc, err->buf);
    return y;
}

static void s_load_fails(const char *text, const char *want)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_yaml_t *y = (wr_yaml_t *)&err;
    assert_int_equal(wr_yaml_load(text, strlen(text), "t.yaml", &s_opts, &y, &err), WR_ECONFIG);
    assert_null(y);
    if (strncmp(err.buf, want, strlen(want))) fail_msg("'%s' is not '%s...'", err.buf, want);
    wr_strbuf_release(&err);
}

static void test_tree_and_lines(void **state)
{
    (void)state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_yaml_t *y = s_load("# a comment\n"
                          "a: 1\n"
                          "b:\n"
                          "  - x\n"
                          "  - {c: \"q\\tz\", d: ''}\n"
                          "e:\n",
                          &err);
    const wr_yaml_node_t *root = wr_yaml_root(y);
    assert_int_equal(root->kind, WR_YAML_MAP);
    assert_int_equal(root->n, 3);
    assert_string_equal(root->pairs[0].key->text, "a");
    assert_int_equal(root->pairs[0].key->line, 2);
    assert_string_equal(root->pairs[0].value->text, "1");
    const wr_yaml_node_t *b = root->pairs[1].value;
    assert_int_equal(b->kind, WR_YAML_LIST);
    assert_int_equal(b->n, 2);
    assert_int_equal(b->items[0]->line, 4);
    assert_int_equal(b->items[1]->kind, WR_YAML_MAP);
    assert_int_equal(b->items[1]->line, 5);
    assert_string_equal(b->items[1]->pairs[0].value->text, "q\tz");
    assert_false(b->items[1]->pairs[1].value->plain);
    assert_int_equal(b->items[1]->pairs[1].value->len, 0);
    const wr_yaml_node_t *e = root->pairs[2].value; /* an empty value */
    assert_true(e->plain && e->len == 0 && e->kind == WR_YAML_SCALAR);
    assert_string_equal(wr_yaml_origin(y), "t.yaml");
    wr_yaml_destroy(&y);
    assert_null(y);
    wr_yaml_destroy(&y);

    y = s_load("# only a comment\n", &err);
    assert_null(wr_yaml_root(y));
    wr_yaml_destroy(&y);
    wr_strbuf_release(&err);
}

static void test_aliases(void **state)
{
    (void)state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_yaml_t *y = s_load("a: &fast 1s\nb: *fast\nc: &m {x: 1}\nd: *m\n", &err);
    const wr_yaml_node_t *root = wr_yaml_root(y);
    assert_null(root->pairs[0].value->alias);
    const wr_yaml_node_t *b = root->pairs[1].value, *d = root->pairs[3].value;
    assert_string_equal(b->alias, "fast");
    assert_string_equal(b->text, "1s");
    assert_int_equal(b->line, 2);
    assert_string_equal(d->alias, "m");
    assert_int_equal(d->kind, WR_YAML_MAP);
    assert_string_equal(d->pairs[0].key->text, "x");
    wr_yaml_destroy(&y);
    wr_strbuf_release(&err);
    s_load_fails("a: *nowhere\n", "t.yaml:1: invalid YAML: found undefined alias *nowhere");
}

static void test_file_errors(void **state)
{
    (void)state;
    s_load_fails("a: 1\nb: [\n", "t.yaml:3: invalid YAML: ");
    s_load_fails("a: 1\n---\nb: 2\n", "t.yaml:2: a second YAML document (one per file)");
    s_load_fails("a: \"x\n", "t.yaml:2: invalid YAML: found unexpected end of stream (while "
                             "scanning a quoted scalar at line 1)");
    char *big = malloc(5000);
    memset(big, '#', 4999);
    big[4999] = '\0';
    s_load_fails(big, "t.yaml:1: larger than 4096 bytes (is this the test file?)");
    free(big);

    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_yaml_t *y = NULL;
    assert_int_equal(wr_yaml_load_file("/nonexistent/t.yaml", &s_opts, &y, &err), WR_ENOTFOUND);
    assert_null(y);
    assert_non_null(strstr(err.buf, "/nonexistent/t.yaml: cannot read the test file: "));
    wr_strbuf_reset(&err);
    assert_int_equal(wr_yaml_load_file("/tmp", &s_opts, &y, &err), WR_EIO);
    char path[] = "/tmp/test_ytree.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "k: v\n", 5), 5);
    close(fd);
    assert_int_equal(wr_yaml_load_file(path, &s_opts, &y, &err), 0);
    assert_string_equal(wr_yaml_root(y)->pairs[0].value->text, "v");
    assert_string_equal(wr_yaml_origin(y), path);
    wr_yaml_destroy(&y);
    unlink(path);
    wr_strbuf_release(&err);
}

/* wr_yaml_parse_value: 0 with the value, or WR_ECONFIG with this message. */
static void s_value(const wr_yaml_spec_t *spec, const char *text, int64_t want, const char *msg)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_yaml_value_t v = {.i = -12345};
    int rc = wr_yaml_parse_value(spec, text, strlen(text), &v, &sb);
    if (!msg) {
        if (rc) fail_msg("'%s': %s", text, sb.buf);
        if (spec->type == WR_YAML_DOUBLE)
            assert_true(v.d == (double)want);
        else
            assert_int_equal(v.i, want);
    } else {
        assert_int_equal(rc, WR_ECONFIG);
        assert_int_equal(v.i, -12345);
        if (strcmp(sb.buf, msg)) fail_msg("'%s': '%s' is not '%s'", text, sb.buf, msg);
    }
    wr_strbuf_release(&sb);
}

static void test_values(void **state)
{
    (void)state;
    wr_yaml_spec_t i = {.type = WR_YAML_INT, .lo = 1, .hi = 10000000};
    s_value(&i, "5_000_000", 5000000, NULL);
    s_value(&i, "007", 7, NULL);
    s_value(&i, "many", 0, "'many' is not an integer");
    s_value(&i, "0", 0, "'0' is out of range (1 to 10000000)");
    s_value(&i, "", 0, "no value");
    i.dflt = "42";
    i.allowed = true;
    s_value(&i, "", 0, "no value (the default is 42)");
    s_value(&i, "99999999999", 0, "'99999999999' is out of range (allowed 1 to 10000000)");

    wr_yaml_spec_t d = {.type = WR_YAML_DURATION, .lo = 50, .hi = 3600000};
    s_value(&d, "2min", 120000, NULL);
    s_value(&d, "3x", 0, "'3x' is not a duration (use e.g. 500ms, 3s, 2min)");
    s_value(&d, "10ms", 0, "'10ms' is out of range (50ms to 1h)");
    d.hint = "is not a duration (use e.g. 1min, 30s)";
    s_value(&d, "soon", 0, "'soon' is not a duration (use e.g. 1min, 30s)");

    wr_yaml_spec_t z = {.type = WR_YAML_SIZE, .lo = 1024, .hi = 1 << 30, .allowed = true};
    s_value(&z, "64mb", 64 << 20, NULL);
    s_value(&z, "2gb", 0, "'2gb' is out of range (allowed 1kb to 1gb)");
    wr_yaml_spec_t b = {.type = WR_YAML_BOOL};
    s_value(&b, "on", 1, NULL);
    s_value(&b, "maybe", 0, "'maybe' is not a boolean (use true or false)");
    wr_yaml_spec_t f = {.type = WR_YAML_DOUBLE, .dlo = 0, .dhi = 1};
    s_value(&f, "1", 1, NULL);
    s_value(&f, "1.5", 0, "'1.5' is out of range (0 to 1)");
    s_value(&f, "lots", 0, "'lots' is not a number");
    wr_yaml_spec_t t = {.type = WR_YAML_TIME, .lo = 0, .hi = INT64_MAX};
    s_value(&t, "2024-01-01T00:00:00Z", 1704067200000, NULL);
    s_value(&t, "-1", 0, "'-1' is out of range (0 to 9223372036854775807)");
    static const char *const words[] = {"", "sliding", "tumbling", NULL};
    wr_yaml_spec_t w = {.type = WR_YAML_WORD, .words = words};
    s_value(&w, "tumbling", 2, NULL);
    s_value(&w, "hopping", 0, "'hopping' is not one of sliding, tumbling");
    char long_word[80], echo[128];
    snprintf(long_word, sizeof long_word, "x\x01%070d", 0); /* shown shortened, '?' for \x01 */
    snprintf(echo, sizeof echo, "'x?%058d...' is not one of sliding, tumbling", 0);
    s_value(&w, long_word, 0, echo);
}

/* Accessors report at the node's line under the key they are given. */
static void test_accessors(void **state)
{
    (void)state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_yaml_t *y = s_load("a: [1]\nb: \"x\\0y\"\nc:\n  n: 3x\n", &err);
    const wr_yaml_node_t *root = wr_yaml_root(y);
    const char *text;
    size_t len;
    assert_int_equal(wr_yaml_scalar(y, root->pairs[0].value, "a", "a: 1", &text, &len), WR_ECONFIG);
    assert_string_equal(err.buf, "t.yaml:1: a: expected a single value, not a list (e.g. a: 1)");
    assert_int_equal(wr_yaml_scalar(y, root->pairs[1].value, "b", NULL, &text, &len), WR_ECONFIG);
    assert_non_null(strstr(err.buf, "\nt.yaml:2: b: the value contains a NUL byte"));
    wr_strbuf_reset(&err);
    wr_yaml_spec_t d = {.type = WR_YAML_DURATION, .lo = 0, .hi = 1000};
    wr_yaml_value_t v;
    const wr_yaml_node_t *c = root->pairs[2].value;
    assert_int_equal(wr_yaml_get(y, c->pairs[0].value, "c.n", &d, &v), WR_ECONFIG);
    assert_string_equal(err.buf,
                        "t.yaml:4: c.n: '3x' is not a duration (use e.g. 500ms, 3s, 2min)");
    wr_strbuf_reset(&err);
    assert_int_equal(wr_yaml_expect(y, c, WR_YAML_LIST, "c", "c: [1]"), WR_ECONFIG);
    /* a block mapping starts at its first key */
    assert_string_equal(err.buf, "t.yaml:4: c: expected a list, not a mapping (e.g. c: [1])");
    assert_int_equal(wr_yaml_expect(y, c, WR_YAML_MAP, "c", "-"), 0);
    wr_yaml_destroy(&y);
    wr_strbuf_release(&err);
}

/* An error stays one line even when the key it names holds a line break (a plain scalar that
 * spans lines in a flow mapping; found by fuzz_yaml). */
static void test_errors_are_one_line(void **state)
{
    (void)state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_yaml_t *y = s_load("s: [{p: 1, q:x\n\n  r}]\n", &err);
    const wr_yaml_node_t *m = wr_yaml_root(y)->pairs[0].value->items[0];
    const char *key = m->pairs[1].key->text;
    assert_non_null(strchr(key, '\n')); /* the key itself spans lines */
    assert_int_equal(wr_yaml_fail(y, 1, key, "unknown key"), WR_ECONFIG);
    assert_null(strchr(err.buf, '\n'));
    assert_string_equal(err.buf, "t.yaml:1: q:x?r: unknown key");
    wr_yaml_destroy(&y);
    wr_strbuf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_lines), cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_file_errors),    cmocka_unit_test(test_values),
        cmocka_unit_test(test_accessors),      cmocka_unit_test(test_errors_are_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
