/* cli/config: defaults, loading a YAML file (dotted and nested keys), value parsing, errors that
 * name file, line and key while leaving the configuration unchanged, command-line overrides, and
 * deploy/weir.yaml staying in step with WR_CONFIG_KEYS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/jobmanager/jobmanager.h"
#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "cli/config.h"

typedef struct {
    wr_config_t *cfg;
    wr_config_t *expect; /* what cfg must still hold after a failed load */
    wr_strbuf_t err;
    char path[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->cfg = wr_config_new();
    fx->expect = wr_config_new();
    assert_non_null(fx->cfg);
    assert_non_null(fx->expect);
    wr_strbuf_init(&fx->err);
    strcpy(fx->path, "/tmp/weir-test-config-XXXXXX");
    int fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    close(fd);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    unlink(fx->path);
    wr_config_destroy(&fx->cfg);
    wr_config_destroy(&fx->expect);
    assert_null(fx->cfg);
    wr_strbuf_release(&fx->err);
    free(fx);
    return 0;
}

static void write_file(const fixture_t *fx, const char *text, size_t len)
{
    FILE *f = fopen(fx->path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Writes text to the fixture's file and loads it into cfg. */
static int load(fixture_t *fx, const char *text)
{
    write_file(fx, text, strlen(text));
    return wr_config_load_file(fx->cfg, fx->path, &fx->err);
}

static void assert_same_config(const wr_config_t *a, const wr_config_t *b)
{
    for (size_t i = 0; i < wr_config_key_count(); i++) {
        const wr_config_key_t *k = wr_config_key_at(i);
        if (k->type == WR_CFG_STRING)
            assert_string_equal(wr_config_str(a, k->key), wr_config_str(b, k->key));
        else if (k->type == WR_CFG_BOOL)
            assert_int_equal(wr_config_bool(a, k->key), wr_config_bool(b, k->key));
        else
            assert_int_equal(wr_config_int(a, k->key), wr_config_int(b, k->key));
    }
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* A file that must fail to load: the error names the file and line, and holds each needle. */
typedef struct {
    const char *text;
    int line;
    const char *needle[3];
} error_case_t;

/* Loads each case, which must fail with WR_ECONFIG and one line "FILE:LINE: ..." holding its
 * needles, and leave cfg as fx->expect. */
static void expect_load_errors(fixture_t *fx, const error_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wr_strbuf_reset(&fx->err);
        assert_int_equal(load(fx, cases[i].text), WR_ECONFIG);
        char where[128];
        snprintf(where, sizeof where, "%s:%d: ", fx->path, cases[i].line);
        if (strncmp(fx->err.buf, where, strlen(where)))
            fail_msg("'%s' does not start with '%s'", fx->err.buf, where);
        assert_null(strchr(fx->err.buf, '\n'));
        for (size_t k = 0; k < 3 && cases[i].needle[k]; k++)
            assert_contains(fx->err.buf, cases[i].needle[k]);
        assert_same_config(fx->cfg, fx->expect);
    }
}

#define EXPECT_LOAD_ERRORS(fx, ...)                                                                \
    do {                                                                                           \
        static const error_case_t cases_[] = {__VA_ARGS__};                                        \
        expect_load_errors(fx, cases_, sizeof cases_ / sizeof *cases_);                            \
    } while (0)

/* Sets key on both cfg and expect, so that a failed load must keep this value. */
static void set_both(fixture_t *fx, const char *key, const char *value)
{
    assert_int_equal(wr_config_set(fx->cfg, NULL, key, value, &fx->err), 0);
    assert_int_equal(wr_config_set(fx->expect, NULL, key, value, &fx->err), 0);
}

/* ---- happy paths ---- */

static void test_defaults(void **state)
{
    fixture_t *fx = *state;
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.address"), "tcp://127.0.0.1:6123");
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.bind"), "");
    assert_string_equal(wr_config_str(fx->cfg, "taskmanager.bind"), "tcp://127.0.0.1:*");
    assert_int_equal(wr_config_int(fx->cfg, "taskmanager.numberOfTaskSlots"), 2);
    assert_int_equal(wr_config_int(fx->cfg, "runtime.mailbox-capacity"), 1024);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.interval"), 500);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.timeout"), 3000);
    assert_int_equal(wr_config_int(fx->cfg, "bus.max-message-size"), 64 << 20);
    assert_int_equal(wr_config_int(fx->cfg, "client.timeout"), 5000);
    assert_int_equal(wr_config_int(fx->cfg, "execution.checkpointing.interval"), 0);
    /* (the JobManager's own default, for callers that give it no timeout: the same) */
    assert_int_equal(wr_config_int(fx->cfg, "execution.checkpointing.timeout"),
                     WR_JM_CKPT_TIMEOUT_MS);
    assert_int_equal(WR_JM_CKPT_TIMEOUT_MS, 600000);
    assert_int_equal(wr_config_int(fx->cfg, "restart-strategy.fixed-delay.delay"), 1000);
    assert_string_equal(wr_config_str(fx->cfg, "restart-strategy"), "");

    assert_string_equal(wr_config_str(fx->cfg, "security.paths.savepoints"), "");
    assert_string_equal(wr_config_str(fx->cfg, "security.paths.sources"), "/tmp/weir/data");
    assert_string_equal(wr_config_str(fx->cfg, "security.paths.sinks"), "/tmp/weir/data");
    assert_int_equal(wr_config_int(fx->cfg, "slotmanager.max-slots-per-taskmanager"), 1024);
    assert_int_equal(wr_config_int(fx->cfg, "jobmanager.max-subtasks-per-job"), 4096);

    assert_true(wr_config_bool(fx->cfg, "security.curve"));
    assert_string_equal(wr_config_str(fx->cfg, "security.keys-dir"), "");
    assert_string_equal(wr_config_str(fx->cfg, "security.client"), "admin");

    assert_string_equal(wr_config_str(fx->cfg, "bus.source-address"), "");
    assert_string_equal(wr_config_str(fx->cfg, "bus.advertised-endpoint"), "");

    assert_int_equal(wr_config_int(fx->cfg, "rest.port"), 8081);
    assert_string_equal(wr_config_str(fx->cfg, "rest.address"), "127.0.0.1");

    assert_int_equal(wr_config_key_count(), 59);
    assert_null(wr_config_key_at(wr_config_key_count()));
    for (size_t i = 0; i < wr_config_key_count(); i++) {
        const wr_config_key_t *k = wr_config_key_at(i);
        assert_true(strlen(k->doc) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(k->key, wr_config_key_at(j)->key);
    }
}

static void test_load_dotted(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "# a cluster\n"
                              "jobmanager.address: tcp://10.0.0.5:6123\n"
                              "taskmanager.numberOfTaskSlots: 8\n"
                              "heartbeat.timeout: 10s   # generous\n"
                              "bus.max-message-size: 16mb\n"
                              "jobmanager.node-id: 'jm-a'\n"),
                     0);
    assert_int_equal(fx->err.len, 0);
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.address"), "tcp://10.0.0.5:6123");
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.node-id"), "jm-a");
    assert_int_equal(wr_config_int(fx->cfg, "taskmanager.numberOfTaskSlots"), 8);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.timeout"), 10000);
    assert_int_equal(wr_config_int(fx->cfg, "bus.max-message-size"), 16 << 20);
    /* keys the file does not name keep their values */
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.interval"), 500);
    assert_string_equal(wr_config_str(fx->cfg, "taskmanager.bind"), "tcp://127.0.0.1:*");
}

static void test_load_nested(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "heartbeat: {timeout: 4s, interval: 250ms}\n"
                              "taskmanager:\n"
                              "  numberOfTaskSlots: 4\n"
                              "  node-id: tm-a\n"
                              "runtime:\n"
                              "  threads: 3\n"
                              "bus.channel-credits: 7\n"),
                     0);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.timeout"), 4000);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.interval"), 250);
    assert_int_equal(wr_config_int(fx->cfg, "taskmanager.numberOfTaskSlots"), 4);
    assert_string_equal(wr_config_str(fx->cfg, "taskmanager.node-id"), "tm-a");
    assert_int_equal(wr_config_int(fx->cfg, "runtime.threads"), 3);
    assert_int_equal(wr_config_int(fx->cfg, "bus.channel-credits"), 7);

    /* nested and dotted spellings of one key are the same key */
    wr_config_t *dotted = wr_config_new();
    assert_non_null(dotted);
    const char *flat = "heartbeat.timeout: 4s\nheartbeat.interval: 250ms\n"
                       "taskmanager.numberOfTaskSlots: 4\ntaskmanager.node-id: tm-a\n"
                       "runtime.threads: 3\nbus.channel-credits: 7\n";
    write_file(fx, flat, strlen(flat));
    assert_int_equal(wr_config_load_file(dotted, fx->path, &fx->err), 0);
    assert_same_config(fx->cfg, dotted);
    wr_config_destroy(&dotted);
    assert_null(dotted);
}

static void test_load_empty_file_changes_nothing(void **state)
{
    fixture_t *fx = *state;
    set_both(fx, "heartbeat.timeout", "9s");
    const char *nothing[] = {"", "# only a comment\n\n   # and another\n", "---\n", "\n\n"};
    for (size_t i = 0; i < sizeof nothing / sizeof *nothing; i++) {
        assert_int_equal(load(fx, nothing[i]), 0);
        assert_int_equal(fx->err.len, 0);
        assert_same_config(fx->cfg, fx->expect);
    }
}

static void test_later_load_overrides_earlier(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "heartbeat.timeout: 4s\nruntime.threads: 2\n"), 0);
    assert_int_equal(load(fx, "heartbeat.timeout: 6s\n"), 0);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.timeout"), 6000);
    assert_int_equal(wr_config_int(fx->cfg, "runtime.threads"), 2);
}

/* ---- value parsing, through the keys and through wr_config_parse_value ---- */

typedef struct {
    const char *text;
    int64_t value; /* -1: must be rejected */
} case_t;

/* Sets key to each case's text; accepted ones must read back as value, rejected ones must
 * name the key and leave it as it was. */
static void check_cases(fixture_t *fx, const char *key, const case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t before = wr_config_int(fx->cfg, key);
        wr_strbuf_reset(&fx->err);
        int rc = wr_config_set(fx->cfg, NULL, key, cases[i].text, &fx->err);
        if (cases[i].value >= 0) {
            if (rc) fail_msg("%s: '%s' rejected: %s", key, cases[i].text, fx->err.buf);
            assert_int_equal(wr_config_int(fx->cfg, key), cases[i].value);
        } else {
            if (rc != WR_ECONFIG) fail_msg("%s: '%s' accepted", key, cases[i].text);
            char origin[64];
            snprintf(origin, sizeof origin, "%s: ", key);
            assert_true(!strncmp(fx->err.buf, origin, strlen(origin)));
            assert_int_equal(wr_config_int(fx->cfg, key), before);
        }
    }
}

static void test_durations(void **state)
{
    static const case_t cases[] = {
        {"250ms", 250},
        {"3s", 3000},
        {"2min", 120000},
        {"1h", 3600000},
        {"750", 750},
        {"3 s", 3000},
        {"3S", 3000},
        {"1H", 3600000},
        {"0060s", 60000},
        {"50", 50},
        /* rejected: malformed, negative, fractional, trailing junk, no number, overflow */
        {"3x", -1},
        {"-5s", -1},
        {"1.5s", -1},
        {"3s ", -1},
        {" 3s", -1},
        {"3ms5", -1},
        {"+3s", -1},
        {"s", -1},
        {"", -1},
        {"3m", -1},
        {"99999999999999999999ms", -1},
        {"9223372036854775807h", -1},
        /* rejected: out of the key's range (50ms to 1h) */
        {"49ms", -1},
        {"2h", -1},
        {"0", -1}};
    check_cases(*state, "heartbeat.timeout", cases, sizeof cases / sizeof *cases);

    int64_t ms = 0;
    assert_int_equal(wr_config_parse_value(WR_CFG_DURATION, "10min", &ms), 0);
    assert_int_equal(ms, 600000);
    assert_int_equal(wr_config_parse_value(WR_CFG_DURATION, "0", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(wr_config_parse_value(WR_CFG_DURATION, "9223372036854775807ms", &ms), 0);
    assert_int_equal(ms, INT64_MAX);
    assert_int_equal(wr_config_parse_value(WR_CFG_DURATION, "9223372036854775808", &ms),
                     WR_ECONFIG);
    assert_int_equal(ms, INT64_MAX);
}

static void test_sizes(void **state)
{
    static const case_t cases[] = {{"1024", 1024},
                                   {"64kb", 64 << 10},
                                   {"64MB", 64 << 20},
                                   {"1gb", 1 << 30},
                                   {"1 GiB", 1 << 30},
                                   {"2048 bytes", 2048},
                                   {"4096b", 4096},
                                   {"3Mb", 3 << 20},
                                   {"1tb", -1},
                                   {"64 mb x", -1},
                                   {"-1kb", -1},
                                   {"1.5mb", -1},
                                   {"kb", -1},
                                   {"64k", -1},
                                   {"99999999999gb", -1},
                                   /* out of range (1kb to 1gb) */
                                   {"1023", -1},
                                   {"2gb", -1},
                                   {"1025mb", -1}};
    check_cases(*state, "bus.max-message-size", cases, sizeof cases / sizeof *cases);
}

static void test_ints(void **state)
{
    static const case_t cases[] = {{"1", 1},
                                   {"1024", 1024},
                                   {"007", 7},
                                   {"0", -1},
                                   {"-3", -1},
                                   {"1025", -1},
                                   {"abc", -1},
                                   {"12abc", -1},
                                   {"0x10", -1},
                                   {"", -1},
                                   {"1 000", -1},
                                   {"4.0", -1},
                                   {"99999999999999999999", -1},
                                   {"2s", -1}};
    check_cases(*state, "taskmanager.numberOfTaskSlots", cases, sizeof cases / sizeof *cases);

    int64_t v = 0;
    assert_int_equal(wr_config_parse_value(WR_CFG_INT, "-42", &v), 0);
    assert_int_equal(v, -42);
}

static void test_bools(void **state)
{
    (void)state;
    /* No key in the table is a bool yet: the parser is tested directly. */
    static const case_t cases[] = {{"true", 1},   {"false", 0}, {"yes", 1},    {"no", 0},
                                   {"on", 1},     {"off", 0},   {"TRUE", 1},   {"Off", 0},
                                   {"1", -1},     {"0", -1},    {"maybe", -1}, {"", -1},
                                   {"truex", -1}, {" yes", -1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t v = 7;
        int rc = wr_config_parse_value(WR_CFG_BOOL, cases[i].text, &v);
        if (cases[i].value < 0) {
            assert_int_equal(rc, WR_ECONFIG);
            assert_int_equal(v, 7);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(v, cases[i].value);
        }
    }
}

static void test_strings(void **state)
{
    fixture_t *fx = *state;
    char text[] = "tcp://10.0.0.1:7000";
    assert_int_equal(wr_config_set(fx->cfg, NULL, "jobmanager.address", text, &fx->err), 0);
    text[0] = 'X'; /* cfg holds its own copy */
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.address"), "tcp://10.0.0.1:7000");
    assert_int_equal(wr_config_set(fx->cfg, NULL, "jobmanager.address", "", &fx->err), 0);
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.address"), "");

    assert_int_equal(load(fx, "jobmanager.node-id: \"jm\\t1\"\n"
                              "taskmanager.node-id:\n"
                              "jobmanager.bind: 'tcp://*:6123'\n"
                              "taskmanager.bind: >-\n"
                              "  tcp://0.0.0.0:*\n"),
                     0);
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.node-id"), "jm\t1");
    assert_string_equal(wr_config_str(fx->cfg, "taskmanager.node-id"), "");
    assert_string_equal(wr_config_str(fx->cfg, "jobmanager.bind"), "tcp://*:6123");
    assert_string_equal(wr_config_str(fx->cfg, "taskmanager.bind"), "tcp://0.0.0.0:*");
}

/* ---- errors: file, line and key named; cfg unchanged ---- */

static void test_error_unknown_key(void **state)
{
    fixture_t *fx = *state;
    set_both(fx, "heartbeat.timeout", "9s");
    EXPECT_LOAD_ERRORS(
        fx,
        {"heartbeat.timeout: 4s\njobmanager.adress: tcp://x:1\n",
         2,
         {"unknown key 'jobmanager.adress'", "did you mean 'jobmanager.address'?",
          "keys are documented in deploy/weir.yaml"}},
        {"heartbeat:\n  timeout: 4s\n  timeoutt: 5s\n", 3, {"unknown key 'heartbeat.timeoutt'"}},
        {"runtime.threads: 1\nflux:\n  capacitor: 1\n",
         2,
         {"unknown key 'flux' (keys are documented in deploy/weir.yaml)"}},
        /* a group name alone is not a key */
        {"heartbeat: 3s\n", 1, {"unknown key 'heartbeat'"}});
}

static void test_error_bad_values(void **state)
{
    fixture_t *fx = *state;
    set_both(fx, "runtime.threads", "5");
    EXPECT_LOAD_ERRORS(
        fx,
        {"runtime.threads: 1\nheartbeat.timeout: 3x\n",
         2,
         {"heartbeat.timeout: '3x' is not a duration (use e.g. 500ms, 3s, 2min)"}},
        {"runtime.threads: 1\nheartbeat:\n  interval: soon\n",
         3,
         {"heartbeat.interval: 'soon' is not a duration"}},
        {"bus.max-message-size: 12 parsecs\n",
         1,
         {"bus.max-message-size: '12 parsecs' is not a size (use e.g. 512, 64kb"}},
        {"runtime.threads: many\n", 1, {"runtime.threads: 'many' is not an integer"}},
        {"runtime.threads: 1\n\ntaskmanager.numberOfTaskSlots: 5000\n",
         3,
         {"taskmanager.numberOfTaskSlots: '5000' is out of range (allowed 1 to 1024)"}},
        {"heartbeat.timeout: 10ms\n",
         1,
         {"heartbeat.timeout: '10ms' is out of range (allowed 50ms to 1h)"}},
        {"bus.max-message-size: 2gb\n",
         1,
         {"bus.max-message-size: '2gb' is out of range (allowed 1kb to 1gb)"}},
        {"runtime.threads:\n", 1, {"runtime.threads: no value (the default is 0)"}},
        {"jobmanager.node-id: \"jm\\0x\"\n",
         1,
         {"jobmanager.node-id: the value contains a NUL byte"}});
}

/* bus.source-address is an IPv4 literal and bus.advertised-endpoint an endpoint others can dial:
 * anything else is refused naming the key (from a file: its line), and the value stays. */
static void test_bus_addresses(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "bus.source-address: 127.0.0.7\n"
                              "bus.advertised-endpoint: tcp://127.0.0.1:7001\n"),
                     0);
    assert_string_equal(wr_config_str(fx->cfg, "bus.source-address"), "127.0.0.7");
    assert_string_equal(wr_config_str(fx->cfg, "bus.advertised-endpoint"), "tcp://127.0.0.1:7001");
    assert_int_equal(wr_config_set(fx->cfg, NULL, "bus.source-address", "", &fx->err), 0);
    assert_int_equal(wr_config_set(fx->cfg, NULL, "bus.advertised-endpoint", "", &fx->err), 0);
    assert_int_equal(fx->err.len, 0);

    set_both(fx, "bus.source-address", "10.1.2.3");
    set_both(fx, "bus.advertised-endpoint", "tcp://10.1.2.3:6000");
    EXPECT_LOAD_ERRORS(
        fx,
        {"runtime.threads: 1\nbus.source-address: 127.0.0.300\n",
         2,
         {"bus.source-address: '127.0.0.300' is not an IPv4 address (e.g. 127.0.0.2; empty: any)"}},
        /* a name is not looked up: it is refused */
        {"bus:\n  source-address: localhost\n", 2, {"bus.source-address: 'localhost' is not"}},
        {"bus.source-address: \"::1\"\n", 1, {"bus.source-address: '::1' is not an IPv4"}},
        {"bus.source-address: 127.0.0.2:0\n", 1, {"'127.0.0.2:0' is not an IPv4 address"}},
        {"bus.advertised-endpoint: tcp://127.0.0.1:*\n",
         1,
         {"bus.advertised-endpoint: 'tcp://127.0.0.1:*': the port must be a number",
          "(empty: the bound endpoint)"}},
        {"bus.advertised-endpoint: 127.0.0.1:6123\n",
         1,
         {"bus.advertised-endpoint: unknown scheme in '127.0.0.1:6123'"}});

    wr_strbuf_reset(&fx->err);
    assert_int_equal(
        wr_config_set(fx->cfg, "--set bus.source-address", "bus.source-address", "127.1", &fx->err),
        WR_ECONFIG);
    assert_string_equal(fx->err.buf, "--set bus.source-address: '127.1' is not an IPv4 address "
                                     "(e.g. 127.0.0.2; empty: any)");
    assert_string_equal(wr_config_str(fx->cfg, "bus.source-address"), "10.1.2.3");
}

static void test_error_shape(void **state)
{
    fixture_t *fx = *state;
    set_both(fx, "jobmanager.node-id", "kept");
    EXPECT_LOAD_ERRORS(
        fx,
        {"jobmanager.node-id: x\nheartbeat.timeout: [1s, 2s]\n",
         2,
         {"heartbeat.timeout: expected a single value, not a list"}},
        {"jobmanager.node-id: x\nheartbeat.timeout:\n  a: 1\n",
         2,
         {"heartbeat.timeout: expected a single value, not a mapping"}},
        {"heartbeat:\n  interval: &fast 1s\n  timeout: *fast\n",
         3,
         {"heartbeat.timeout: aliases (*fast) are not supported"}},
        {"- jobmanager.node-id: x\n", 1, {"expected a mapping of keys to values"}},
        {"just words\n", 1, {"expected a mapping"}},
        {"jobmanager.node-id: x\n? [a, b]\n: 1\n", 2, {"a key must be a name"}},
        {"jobmanager.node-id: x\n---\nruntime.threads: 1\n", 2, {"a second YAML document"}});
}

static void test_error_duplicate_key(void **state)
{
    fixture_t *fx = *state;
    EXPECT_LOAD_ERRORS(fx,
                       {"heartbeat.timeout: 3s\nruntime.threads: 1\nheartbeat.timeout: 4s\n",
                        3,
                        {"duplicate key 'heartbeat.timeout' (first set on line 1"}},
                       /* the nested spelling is the same key */
                       {"heartbeat.timeout: 3s\nheartbeat:\n  timeout: 4s\n",
                        3,
                        {"duplicate key 'heartbeat.timeout'"}});
}

static void test_error_yaml_syntax(void **state)
{
    fixture_t *fx = *state;
    set_both(fx, "runtime.threads", "5");
    EXPECT_LOAD_ERRORS(
        fx,
        {"runtime.threads: 1\nheartbeat.timeout: \"3s\n",
         3,
         {"invalid YAML: found unexpected end of stream (while scanning a quoted scalar at "
          "line 2)"}},
        {"runtime.threads: 1\nheartbeat.timeout: 3s: 4s\n",
         2,
         {"invalid YAML: mapping values are not allowed in this context"}},
        {"runtime.threads: 1\n\theartbeat.timeout: 3s\n",
         2,
         {"invalid YAML: found a tab character"}},
        {"runtime.threads: 1\n# caf\xff\n", 2, {"invalid YAML: invalid leading UTF-8 octet"}},
        /* an unclosed flow list under an unknown key: the syntax is what is wrong */
        {"a: [\n", 2, {"invalid YAML: did not find expected node content"}},
        {"a: [1, 2\nb: 1\n", 2, {"invalid YAML: did not find expected ',' or ']'"}});
}

static void test_error_files(void **state)
{
    fixture_t *fx = *state;
    set_both(fx, "runtime.threads", "5");
    unlink(fx->path);
    assert_int_equal(wr_config_load_file(fx->cfg, fx->path, &fx->err), WR_ENOTFOUND);
    assert_contains(fx->err.buf, fx->path);
    assert_contains(fx->err.buf, strerror(ENOENT));
    assert_same_config(fx->cfg, fx->expect);

    wr_strbuf_reset(&fx->err);
    assert_int_equal(wr_config_load_file(fx->cfg, "/tmp", &fx->err), WR_EIO);
    assert_contains(fx->err.buf, "/tmp: cannot read the configuration file: ");
    assert_contains(fx->err.buf, strerror(EISDIR));
    assert_same_config(fx->cfg, fx->expect);

    /* a second error goes on a line of its own */
    assert_int_equal(load(fx, "nope: 1\n"), WR_ECONFIG);
    assert_non_null(strchr(fx->err.buf, '\n'));
    assert_contains(strchr(fx->err.buf, '\n') + 1, "unknown key 'nope'");
}

/* ---- command-line overrides ---- */

static void test_set_overrides(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "heartbeat.timeout: 4s\n"), 0);
    assert_int_equal(wr_config_set(fx->cfg, NULL, "heartbeat.timeout", "7s", &fx->err), 0);
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.timeout"), 7000);
    assert_int_equal(wr_config_set(fx->cfg, NULL, "taskmanager.node-id", "tm-7", &fx->err), 0);
    assert_string_equal(wr_config_str(fx->cfg, "taskmanager.node-id"), "tm-7");
    assert_int_equal(fx->err.len, 0);

    /* errors name what the user typed: the origin given, else the key */
    assert_int_equal(
        wr_config_set(fx->cfg, "--set heartbeat.timeout", "heartbeat.timeout", "3x", &fx->err),
        WR_ECONFIG);
    assert_string_equal(fx->err.buf, "--set heartbeat.timeout: '3x' is not a duration "
                                     "(use e.g. 500ms, 3s, 2min)");
    assert_int_equal(wr_config_int(fx->cfg, "heartbeat.timeout"), 7000);

    wr_strbuf_reset(&fx->err);
    assert_int_equal(wr_config_set(fx->cfg, "--set foo.bar", "foo.bar", "1", &fx->err), WR_ECONFIG);
    assert_string_equal(fx->err.buf, "--set foo.bar: unknown key 'foo.bar' (keys are documented "
                                     "in deploy/weir.yaml)");

    wr_strbuf_reset(&fx->err);
    assert_int_equal(wr_config_set(fx->cfg, NULL, "heartbeat.timout", "3s", &fx->err), WR_ECONFIG);
    assert_string_equal(fx->err.buf, "heartbeat.timout: unknown key 'heartbeat.timout' (did "
                                     "you mean 'heartbeat.timeout'? keys are documented in "
                                     "deploy/weir.yaml)");

    wr_strbuf_reset(&fx->err);
    assert_int_equal(wr_config_set(fx->cfg, NULL, "local.taskmanagers", "65", &fx->err),
                     WR_ECONFIG);
    assert_string_equal(fx->err.buf, "local.taskmanagers: '65' is out of range (allowed 1 to 64)");
    assert_int_equal(wr_config_int(fx->cfg, "local.taskmanagers"), 2);
}

/* ---- keys that bound each other ---- */

static void test_check_defaults_pass(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(wr_config_check(fx->cfg, &fx->err), 0);
    assert_int_equal(fx->err.len, 0);
    /* just inside each bound */
    set_both(fx, "heartbeat.interval", "2999ms");
    set_both(fx, "restart-strategy.exponential-delay.initial-backoff", "1min");
    assert_int_equal(wr_config_check(fx->cfg, &fx->err), 0);
}

static void test_check_heartbeat_interval_below_timeout(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "heartbeat:\n  interval: 5s\n  timeout: 3s\n"), 0);
    assert_int_equal(wr_config_check(fx->cfg, &fx->err), WR_ECONFIG);
    char want[512];
    snprintf(want, sizeof want,
             "heartbeat.interval (5s, %s:2) must be less than heartbeat.timeout (3s, %s:3): a peer "
             "would be declared dead between two of its heartbeats",
             fx->path, fx->path);
    assert_string_equal(fx->err.buf, want);
    /* equal is refused too */
    wr_strbuf_reset(&fx->err);
    assert_int_equal(
        wr_config_set(fx->cfg, "--set heartbeat.interval", "heartbeat.interval", "3000", &fx->err),
        0);
    assert_int_equal(wr_config_check(fx->cfg, &fx->err), WR_ECONFIG);
    snprintf(want, sizeof want,
             "heartbeat.interval (3s, --set heartbeat.interval) must be less than "
             "heartbeat.timeout (3s, %s:3)",
             fx->path);
    assert_contains(fx->err.buf, want);
}

static void test_check_backoff_pair_and_every_violation_named(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(load(fx, "restart-strategy.exponential-delay.initial-backoff: 90s\n"
                              "restart-strategy.exponential-delay.max-backoff: 1min\n"
                              "heartbeat.interval: 1h\n"),
                     0);
    assert_int_equal(wr_config_check(fx->cfg, &fx->err), WR_ECONFIG);
    assert_contains(fx->err.buf, ":3) must be less than heartbeat.timeout (3s, the default)");
    const char *nl = strchr(fx->err.buf, '\n');
    assert_non_null(nl);
    assert_contains(nl + 1, "restart-strategy.exponential-delay.initial-backoff (90s, ");
    assert_contains(nl + 1, ":1) must be at most restart-strategy.exponential-delay.max-backoff "
                            "(1min, ");
}

/* ---- deploy/weir.yaml documents exactly the table ---- */

static char *read_weir_yaml(char *path, size_t size)
{
    const char *src = getenv("WEIR_SRC");
    snprintf(path, size, "%s/deploy/weir.yaml", src && *src ? src : ".");
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s (set WEIR_SRC to the repository root)", path);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    char chunk[4096];
    for (size_t n; (n = fread(chunk, 1, sizeof chunk, f)) > 0;)
        wr_strbuf_add(&sb, chunk, n);
    fclose(f);
    assert_false(sb.failed);
    return wr_strbuf_detach(&sb, NULL);
}

/* A value that differs from key k's default and is valid for it. */
static void other_value(const wr_config_key_t *k, char *buf, size_t size)
{
    int64_t def = 0;
    if (!strcmp(k->key, "bus.source-address")) { /* strings with a form (test_bus_addresses) */
        snprintf(buf, size, "127.0.0.9");
    } else if (!strcmp(k->key, "bus.advertised-endpoint")) {
        snprintf(buf, size, "tcp://127.0.0.1:9");
    } else if (k->type == WR_CFG_STRING) {
        snprintf(buf, size, "not-%s", k->default_text);
    } else if (k->type == WR_CFG_BOOL) {
        assert_int_equal(wr_config_parse_value(k->type, k->default_text, &def), 0);
        snprintf(buf, size, "%s", def ? "false" : "true");
    } else {
        assert_int_equal(wr_config_parse_value(k->type, k->default_text, &def), 0);
        snprintf(buf, size, "%lld", (long long)(def == k->min ? k->max : k->min));
    }
}

static void test_weir_yaml_loads_every_default(void **state)
{
    fixture_t *fx = *state;
    char path[4096];
    free(read_weir_yaml(path, sizeof path));
    /* start from a configuration where every key differs from its default */
    for (size_t i = 0; i < wr_config_key_count(); i++) {
        const wr_config_key_t *k = wr_config_key_at(i);
        char value[128];
        other_value(k, value, sizeof value);
        assert_int_equal(wr_config_set(fx->cfg, NULL, k->key, value, &fx->err), 0);
    }
    int rc = wr_config_load_file(fx->cfg, path, &fx->err);
    if (rc) fail_msg("%s: %s", path, fx->err.buf);
    assert_int_equal(fx->err.len, 0);
    assert_same_config(fx->cfg, fx->expect); /* expect holds the defaults */
}

static void test_weir_yaml_names_each_key_once(void **state)
{
    (void)state;
    char path[4096];
    char *text = read_weir_yaml(path, sizeof path);
    size_t n = wr_config_key_count();
    int *seen = calloc(n, sizeof *seen);
    assert_non_null(seen);
    int lineno = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        if (line[0] == '#' || line[0] == ' ' || line[0] == '\0') continue;
        char *colon = strstr(line, ": ");
        if (!colon) fail_msg("%s: '%s' is not `key: value`", path, line);
        *colon = '\0';
        char *value = colon + 2;
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') value[vlen - 1] = '\0', value++;
        size_t i = 0;
        while (i < n && strcmp(wr_config_key_at(i)->key, line))
            i++;
        if (i == n) fail_msg("%s: '%s' is not in WR_CONFIG_KEYS", path, line);
        seen[i]++;
        assert_string_equal(value, wr_config_key_at(i)->default_text);
    }
    for (size_t i = 0; i < n; i++)
        if (seen[i] != 1) fail_msg("%s names %s %d times", path, wr_config_key_at(i)->key, seen[i]);
    free(seen);
    free(text);
}

static void test_weir_yaml_is_generated_from_the_table(void **state)
{
    (void)state;
    char path[4096];
    char *text = read_weir_yaml(path, sizeof path);
    wr_strbuf_t body;
    wr_strbuf_init(&body);
    wr_config_write_defaults(&body);
    assert_false(body.failed);
    size_t len = strlen(text);
    if (len < body.len || strcmp(text + len - body.len, body.buf))
        fail_msg("%s does not end with the text wr_config_write_defaults() makes from "
                 "WR_CONFIG_KEYS; regenerate the part below its header",
                 path);
    /* what comes before is the header comment */
    text[len - body.len] = '\0';
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (line[0] != '#') fail_msg("%s: header line '%s' is not a comment", path, line);
    wr_strbuf_release(&body);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_dotted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_empty_file_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_load_overrides_earlier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_yaml_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_defaults_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_heartbeat_interval_below_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_backoff_pair_and_every_violation_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_weir_yaml_loads_every_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weir_yaml_names_each_key_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weir_yaml_is_generated_from_the_table, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
