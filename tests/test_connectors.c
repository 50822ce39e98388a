/* actors/connectors: every registered connector's parameters validated through the topology
 * loader from its declarations alone (an unknown key, a value of the wrong type, a missing
 * required key: each an error naming file:line:key), its defaults packed for the bus and read
 * back equal; the split list and its checkpoint codec; the source side's event time per split.
 * New connectors are covered by the first tests as soon as they are in the registry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/registry/registry.h"
#include "actors/connectors/source.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/error.h"
#include "tests/support/connector.h"

/* ---- parameters through the topology loader ---- */

/* A value the declaration takes (its example, its default, or one of its type). */
static const char *s_good(const wr_param_t *p)
{
    if (p->example) return p->example;
    if (p->dflt) return p->dflt;
    switch (p->type) {
    case WR_PARAM_BOOL:
        return "true";
    case WR_PARAM_ENUM:
        return p->words[0][0] ? p->words[0] : p->words[1];
    case WR_PARAM_STRING:
    case WR_PARAM_PATH:
    case WR_PARAM_LIST:
        return "x";
    case WR_PARAM_PAIRS:
        return "{a.b: x}";
    default:
        return "1";
    }
}

/* A value of the wrong type for the declaration, and what the message says about it. */
static const char *s_bad(const wr_param_t *p, const char **says)
{
    switch (p->type) {
    case WR_PARAM_INT:
        return *says = "is not an integer", "many";
    case WR_PARAM_DURATION:
        return *says = "is not a duration", "soon";
    case WR_PARAM_TIME:
        return *says = "is not a time", "yesterday";
    case WR_PARAM_DOUBLE:
        return *says = "is not a number", "lots";
    case WR_PARAM_BOOL:
        return *says = "is not a boolean", "maybe";
    case WR_PARAM_ENUM:
        return *says = "is not one of", "no-such-word";
    case WR_PARAM_LIST:
        return *says = "expected a list, not a mapping", "{a: b}";
    case WR_PARAM_PAIRS:
        return *says = "expected a mapping, not a value", "x";
    default:
        return *says = "expected a single value, not a list", "[a, b]";
    }
}

/* An entry for the connector: `type: T`, every required key with a good value but `skip`, then
 * `extra` (a line of its own), one key per line. */
static void s_entry(wr_strbuf_t *out, const char *type, const wr_param_t *p, size_t n,
                    const char *skip, const char *extra)
{
    wr_strbuf_addf(out, "  - type: %s\n", type);
    for (size_t i = 0; i < n; i++)
        if (p[i].required && !(skip && !strcmp(skip, p[i].key)))
            wr_strbuf_addf(out, "    %s: %s\n", p[i].key, s_good(&p[i]));
    if (extra) wr_strbuf_addf(out, "    %s\n", extra);
}

/* A topology with a source (sink) entry of the connector; the rest is fixed. The schema is
 * given unless the source makes its own. */
static void s_topology(wr_strbuf_t *out, const wr_source_class_t *src, const wr_sink_class_t *snk,
                       const char *skip, const char *extra)
{
    wr_strbuf_reset(out);
    if (src && !src->schema) wr_strbuf_adds(out, "schema: {id: int, ts: time}\n");
    wr_strbuf_adds(out, "sources:\n");
    if (src)
        s_entry(out, src->type, src->params, src->nparams, skip, extra);
    else
        wr_strbuf_adds(out, "  - type: generator\n");
    wr_strbuf_adds(out, "sinks:\n");
    if (snk)
        s_entry(out, snk->type, snk->params, snk->nparams, skip, extra);
    else
        wr_strbuf_adds(out, "  - type: collect\n");
}

/* The line (from 1) where text first appears in all, or the line after it. */
static uint32_t s_line(const char *all, const char *text, bool next)
{
    const char *at = strstr(all, text);
    assert_non_null(at);
    uint32_t line = 1 + next;
    for (const char *c = all; c < at; c++)
        line += *c == '\n';
    return line;
}

static int s_parse(const wr_strbuf_t *text, wr_topology_t **t, wr_strbuf_t *err)
{
    wr_strbuf_reset(err);
    return wr_topology_parse(text->buf, text->len, "c.yaml", t, err);
}

/* The checks of one connector's entry: valid as declared, then each kind of mistake. */
static int s_check_connector(const wr_source_class_t *src, const wr_sink_class_t *snk)
{
    const char *type = src ? src->type : snk->type, *kind = src ? "sources" : "sinks";
    const wr_param_t *p = src ? src->params : snk->params;
    size_t n = src ? src->nparams : snk->nparams;
    wr_strbuf_t text, err, want;
    wr_strbuf_init(&text);
    wr_strbuf_init(&err);
    wr_strbuf_init(&want);
    wr_topology_t *t = NULL;
    int failures = 0;

    /* valid with only its required keys: the defaults are its declared ones, and the bus form
     * reads back equal */
    s_topology(&text, src, snk, NULL, NULL);
    if (s_parse(&text, &t, &err)) {
        print_error("%s %s: %s\n--- in:\n%s", kind, type, err.buf, text.buf);
        failures++;
    } else {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        wr_topology_t *back = NULL;
        wr_mp_reader_t r;
        assert_int_equal(wr_topology_pack(t, &pk), 0);
        wr_mp_reader_init(&r, sb.data, sb.size);
        if (wr_topology_unpack(&r, &back) || !wr_topology_equal(t, back)) {
            print_error("%s %s: the bus form does not read back equal\n", kind, type);
            failures++;
        }
        wr_topology_destroy(&back);
        msgpack_sbuffer_destroy(&sb);
    }
    wr_topology_destroy(&t);

    /* an unknown key */
    s_topology(&text, src, snk, NULL, "no_such_key: 1");
    wr_strbuf_reset(&want);
    wr_strbuf_addf(&want,
                   "c.yaml:%u: %s[0].no_such_key: unknown key (%s[0] takes: type, name, "
                   "parallelism",
                   s_line(text.buf, "no_such_key", false), kind, kind);
    if (s_parse(&text, &t, &err) != WR_ECONFIG || strncmp(err.buf, want.buf, want.len)) {
        print_error("%s %s, unknown key:\n  got:  %s\n  want: %s...\n--- in:\n%s", kind, type,
                    err.buf, want.buf, text.buf);
        failures++;
    }
    /* each key with a value of the wrong type */
    for (size_t i = 0; i < n; i++) {
        const char *says, *bad = s_bad(&p[i], &says);
        char extra[128];
        snprintf(extra, sizeof extra, "%s: %s", p[i].key, bad);
        s_topology(&text, src, snk, p[i].key, extra);
        wr_strbuf_reset(&want);
        wr_strbuf_addf(&want, "c.yaml:%u: %s[0].%s: ", s_line(text.buf, extra, false), kind,
                       p[i].key);
        if (s_parse(&text, &t, &err) != WR_ECONFIG || strncmp(err.buf, want.buf, want.len) ||
            !strstr(err.buf, says)) {
            print_error("%s %s, %s:\n  got:  %s\n  want: %s... %s\n--- in:\n%s", kind, type, extra,
                        err.buf, want.buf, says, text.buf);
            failures++;
        }
        wr_topology_destroy(&t);
    }
    /* each required key left out */
    for (size_t i = 0; i < n; i++) {
        if (!p[i].required) continue;
        s_topology(&text, src, snk, p[i].key, NULL);
        wr_strbuf_reset(&want);
        wr_strbuf_addf(&want, "c.yaml:%u: %s[0]: no %s (%s: ",
                       s_line(text.buf, src ? "sources:" : "sinks:", true), kind, p[i].key,
                       p[i].key);
        if (s_parse(&text, &t, &err) != WR_ECONFIG || strncmp(err.buf, want.buf, want.len)) {
            print_error("%s %s without %s:\n  got:  %s\n  want: %s...\n--- in:\n%s", kind, type,
                        p[i].key, err.buf, want.buf, text.buf);
            failures++;
        }
        wr_topology_destroy(&t);
    }
    wr_strbuf_release(&text);
    wr_strbuf_release(&err);
    wr_strbuf_release(&want);
    return failures;
}

static void test_every_connector_validates_its_keys(void **state)
{
    (void)state;
    int failures = 0, classes = 0;
    for (size_t i = 0; wr_connectors_source_at(i); i++, classes++)
        failures += s_check_connector(wr_connectors_source_at(i), NULL);
    for (size_t i = 0; wr_connectors_sink_at(i); i++, classes++)
        failures += s_check_connector(NULL, wr_connectors_sink_at(i));
    assert_int_equal(failures, 0);
    assert_true(classes >= 5); /* generator, file; stdout, file, collect */
}

/* Declarations are well formed: keys unique, defaults within their own ranges (a default that
 * is not asserts), documented, and a required key has no default. */
static void test_declarations(void **state)
{
    (void)state;
    for (int sink = 0; sink < 2; sink++) {
        for (size_t c = 0;; c++) {
            const wr_source_class_t *src = sink ? NULL : wr_connectors_source_at(c);
            const wr_sink_class_t *snk = sink ? wr_connectors_sink_at(c) : NULL;
            if (!src && !snk) break;
            const wr_param_t *p = src ? src->params : snk->params;
            size_t n = src ? src->nparams : snk->nparams;
            assert_true(n <= WR_PARAM_MAX);
            assert_non_null(src ? src->noun : snk->noun);
            for (size_t i = 0; i < n; i++) {
                assert_non_null(p[i].doc);
                assert_false(p[i].required && p[i].dflt);
                assert_int_equal(wr_params_find(p, n, p[i].key, strlen(p[i].key)), (int)i);
                if ((p[i].type == WR_PARAM_STRING || p[i].type == WR_PARAM_PATH) && !p[i].dflt)
                    assert_true(p[i].required); /* an empty string does not cross the bus */
            }
            void *config = calloc(1, src ? src->config_size : snk->config_size);
            assert_int_equal(wr_params_defaults(p, n, config), 0);
            wr_params_release(p, n, config);
            free(config);
        }
    }
}

/* LIST and PAIRS values: from a file (a list or one value; a mapping), as lines, across the bus,
 * and what a file may not say. */
typedef struct {
    char *topics, *props;
} lines_config_t;

static const wr_param_t s_lines_params[] = {
    {.key = "topic", .type = WR_PARAM_LIST, WR_PARAM_AT(lines_config_t, topics), .doc = "t"},
    {.key = "properties", .type = WR_PARAM_PAIRS, WR_PARAM_AT(lines_config_t, props), .doc = "p"},
};

/* Reads text's top mapping into c: 0 or the error, err saying why. */
static int s_read_lines(const char *text, lines_config_t *c, wr_strbuf_t *err)
{
    wr_yaml_t *y = NULL;
    wr_strbuf_reset(err);
    wr_yaml_opts_t o = {.what = "the test", .max_bytes = 1 << 16, .one_document = "one"};
    assert_int_equal(wr_yaml_load(text, strlen(text), "l.yaml", &o, &y, err), 0);
    uint32_t lines[2] = {0};
    wr_param_group_t g = {s_lines_params, 2, c};
    wr_params_map_t m = {.groups = &g, .ngroups = 1, .lines = lines};
    assert_int_equal(wr_params_defaults(s_lines_params, 2, c), 0);
    int rc = wr_params_read_yaml(y, wr_yaml_root(y), "", &m);
    wr_yaml_destroy(&y);
    return rc;
}

static void test_list_and_pairs(void **state)
{
    (void)state;
    lines_config_t c = {0}, back = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(s_read_lines("topic: [a, b.c]\nproperties: {security.protocol: ssl, "
                                  "sasl.username: \"x=y\"}\n",
                                  &c, &err),
                     0);
    assert_string_equal(c.topics, "a\nb.c");
    assert_string_equal(c.props, "security.protocol=ssl\nsasl.username=x=y");
    size_t at = 0, len;
    const char *line;
    assert_true(wr_params_next_line(c.props, &at, &line, &len));
    assert_int_equal(len, strlen("security.protocol=ssl"));
    assert_true(wr_params_next_line(c.props, &at, &line, &len));
    assert_memory_equal(line, "sasl.username=x=y", len);
    assert_false(wr_params_next_line(c.props, &at, &line, &len));

    /* across the bus, and none as none */
    for (int none = 0; none < 2; none++) {
        if (none) wr_params_release(s_lines_params, 2, &c);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        wr_param_group_t g = {s_lines_params, 2, &c}, gb = {s_lines_params, 2, &back};
        msgpack_pack_map(&pk, 2);
        assert_int_equal(wr_params_pack(&pk, &g, 1), 0);
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, sb.data, sb.size);
        assert_int_equal(wr_params_unpack_map(&r, &gb, 1, NULL, NULL), 0);
        assert_true(wr_params_equal(s_lines_params, 2, &c, &back));
        assert_true(none ? back.topics == NULL : back.topics != NULL);
        wr_params_release(s_lines_params, 2, &back);
        msgpack_sbuffer_destroy(&sb);
    }

    /* one value is a list of one */
    assert_int_equal(s_read_lines("topic: readings\n", &c, &err), 0);
    assert_string_equal(c.topics, "readings");
    assert_null(c.props);

    /* what a file may not say */
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"topic: {a: b}\n", "topic: expected a list, not a mapping"},
        {"topic: [a, [b]]\n", "topic: expected a single value, not a list"},
        {"topic: [a, \"\"]\n", "topic: no value"},
        {"properties: x\n", "properties: expected a mapping, not a value"},
        {"properties: {\"a=b\": c}\n", "a name must be a single value without '='"},
        {"properties: {a: \"x\\ny\"}\n", "a value holds a newline"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_read_lines(bad[i].text, &c, &err), WR_ECONFIG);
        if (!strstr(err.buf, bad[i].says)) fail_msg("%s: got %s", bad[i].text, err.buf);
    }
    wr_params_release(s_lines_params, 2, &c);
    wr_strbuf_release(&err);
}

/* ---- splits ---- */

static void test_split_state_round_trip(void **state)
{
    (void)state;
    wr_splits_t s = {0}, back = {0};
    assert_int_equal(wr_splits_add(&s, "0/2", "\x92\x01\x02", 3, 1704067200000), 0);
    assert_int_equal(wr_splits_add(&s, "1/2", NULL, 0, INT64_MIN), 0);
    assert_int_equal(wr_splits_add(&s, "", NULL, 0, 0), WR_EINVAL);
    char long_id[WR_SPLIT_ID_MAX + 1];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[WR_SPLIT_ID_MAX] = '\0';
    assert_int_equal(wr_splits_add(&s, long_id, NULL, 0, 0), WR_EINVAL);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_splits_encode(&s, &sb), 0);
    assert_int_equal(wr_splits_decode((const uint8_t *)sb.buf, sb.len, &back), 0);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.v[0].id, "0/2");
    assert_int_equal(back.v[0].event_time, 1704067200000);
    assert_int_equal(back.v[0].pos_len, 3);
    assert_memory_equal(back.v[0].pos, "\x92\x01\x02", 3);
    assert_int_equal(back.v[1].event_time, INT64_MIN);
    assert_int_equal(back.v[1].pos_len, 0);
    /* every proper prefix is refused and leaves the list as it was */
    for (size_t len = 0; len < sb.len; len++) {
        int rc = wr_splits_decode((const uint8_t *)sb.buf, len, &back);
        assert_true(rc == WR_EPROTO);
        assert_int_equal(back.n, 2);
    }
    /* trailing bytes, another version */
    wr_strbuf_addc(&sb, 0);
    assert_int_equal(wr_splits_decode((const uint8_t *)sb.buf, sb.len, &back), WR_EPROTO);
    sb.buf[1] = 2;
    assert_int_equal(wr_splits_decode((const uint8_t *)sb.buf, sb.len - 1, &back), WR_EVERSION);
    wr_splits_assign(&s, 3);
    assert_int_equal(s.v[0].subtask, 0);
    assert_int_equal(s.v[1].subtask, 1);
    wr_strbuf_release(&sb);
    wr_splits_release(&s);
    wr_splits_release(&back);
}

/* ---- the source side: event time per split ---- */

/* A source of two splits whose rows are the event times the test gives. */
typedef struct {
    int64_t next[2]; /* event time of the next row of each split; -1: the split is done */
    bool idle[2];
    bool discover; /* find a third split at the next read */
    uint32_t found;
} s_fake_t;

static s_fake_t *s_fake_of(void *r)
{
    return r;
}

static int s_fake_open(const void *config, const wr_source_open_t *o, void **r, wr_strbuf_t *err)
{
    (void)o, (void)err;
    *r = (void *)config;
    return 0;
}

static void s_fake_close(void **r)
{
    *r = NULL;
}

static int s_fake_add(void *r, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err)
{
    (void)r, (void)slot, (void)s, (void)err;
    return 0;
}

/* One row of each live split, then the split's event time goes up by 10. */
static int s_fake_read(void *rp, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err)
{
    (void)err;
    s_fake_t *f = s_fake_of(rp);
    wr_batch_t *b = wr_source_read_batch(rd);
    if (f->discover) {
        f->discover = false;
        int rc = wr_source_read_found(rd, &f->found);
        if (rc) return rc;
    }
    if (f->found && f->idle[0] && f->idle[1]) wr_source_read_idle(rd, f->found);
    for (uint32_t k = 0; k < 2; k++) {
        if (f->next[k] < 0) continue;
        if (f->idle[k]) {
            wr_source_read_idle(rd, k);
            continue;
        }
        wr_batch_i64(b, 0)[b->count++] = f->next[k];
        f->next[k] += 10;
        wr_source_read_rows(rd, k);
    }
    *st = WR_SOURCE_MORE;
    return 0;
}

static int s_fake_snapshot(void *r, wr_source_snap_t *snap)
{
    (void)r;
    return wr_source_snap_split(snap, 0, "a", NULL, 0) ||
           wr_source_snap_split(snap, 1, "b", NULL, 0);
}

static int s_fake_enumerate(const void *config, uint32_t p, bool restored, wr_splits_t *s,
                            wr_strbuf_t *err)
{
    (void)config, (void)err;
    if (!restored) {
        assert_int_equal(wr_splits_add(s, "a", NULL, 0, INT64_MIN), 0);
        assert_int_equal(wr_splits_add(s, "b", NULL, 0, INT64_MIN), 0);
    }
    for (uint32_t i = 0; i < s->n; i++)
        s->v[i].subtask = 0; /* both to subtask 0, whatever p is */
    (void)p;
    return 0;
}

static const wr_source_class_t s_fake = {
    .type = "fake",
    .noun = "a fake",
    .enumerate = s_fake_enumerate,
    .open = s_fake_open,
    .close = s_fake_close,
    .add_split = s_fake_add,
    .read = s_fake_read,
    .snapshot = s_fake_snapshot,
};

static void s_read(wr_source_t *src)
{
    wr_source_status_t st;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_source_next(src, 16, 0, &st, &err), 0);
    wr_strbuf_release(&err);
}

static void test_event_time_is_the_least_of_the_splits(void **state)
{
    (void)state;
    s_fake_t f = {.next = {100, 50}};
    wr_schema_t schema;
    wr_schema_init(&schema);
    wr_schema_add(&schema, "ts", WR_T_TIME);
    wr_source_opts_t o = {.schema = &schema, .ts_field = 0, .parallelism = 2, .batch_records = 16};
    int rc = 0;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_source_t *src = wr_source_new(&s_fake, &f, &o, &rc, &err);
    assert_non_null(src);
    assert_int_equal(wr_source_start(src, NULL, &err), 0);
    int64_t t = 0;
    assert_false(wr_source_event_time(src, &t)); /* nothing read yet */
    s_read(src);
    assert_true(wr_source_event_time(src, &t));
    assert_int_equal(t, 50); /* the split behind holds it */
    f.idle[1] = true;        /* it goes quiet: no longer holds it back */
    s_read(src);
    assert_true(wr_source_event_time(src, &t));
    assert_int_equal(t, 110);
    f.idle[1] = false; /* it comes back behind: the event time does not go back */
    s_read(src);
    assert_true(wr_source_event_time(src, &t));
    assert_int_equal(t, 110);
    f.discover = true; /* a split found since, nothing read from it: the event time stays put */
    s_read(src);
    assert_int_equal(f.found, 2);
    assert_true(wr_source_event_time(src, &t));
    assert_int_equal(t, 110);
    f.idle[0] = f.idle[1] = true; /* all idle: none */
    s_read(src);
    assert_false(wr_source_event_time(src, &t));

    /* a snapshot keeps each split's event time; a restore resumes from them */
    wr_splits_t back = {0};
    assert_int_equal(cs_snapshot(src, &back), 0);
    assert_int_equal(back.n, 2);
    assert_int_equal(back.v[0].event_time, 130);
    assert_int_equal(back.v[1].event_time, 70);
    wr_source_destroy(&src);
    f = (s_fake_t){.next = {500, 500}};
    assert_non_null(src = wr_source_new(&s_fake, &f, &o, &rc, &err));
    assert_int_equal(wr_source_start(src, &back, &err), 0);
    assert_int_equal(back.n, 0); /* taken */
    assert_true(wr_source_event_time(src, &t));
    assert_int_equal(t, 70); /* before reading anything */
    wr_source_destroy(&src);
    wr_splits_release(&back);
    wr_strbuf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_connector_validates_its_keys),
        cmocka_unit_test(test_declarations),
        cmocka_unit_test(test_list_and_pairs),
        cmocka_unit_test(test_split_state_round_trip),
        cmocka_unit_test(test_event_time_is_the_least_of_the_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
