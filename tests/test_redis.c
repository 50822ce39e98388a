/* The Redis sink end to end, with a real redis-server (tests/support/redis.h) and real `weir`
 * processes: `weir local`, and a JobManager with two TaskManagers (tests/support/jobs.h).
 *
 * The job: the generator's readings (deterministic, nothing late) into keyed tumbling windows of
 * 10 min, count and sum; each device has several windows. The oracle: the same job into a file
 * sink (JSON lines).
 *   - hash mode: every device's hash holds the fields and values of its last result in the file
 *     (the latest per key), and there is no other key
 *   - stream mode: the stream holds every result of the file once, field for field
 *   - a TaskManager killed -9 while the job runs on a cluster (checkpoints every 500 ms): the
 *     hashes equal those of an uninterrupted `weir local` run
 *   - key templates: placeholders, escapes, and what a malformed one says
 *   - connections killed (CLIENT KILL) again and again while the job runs: the writers connect
 *     again and the hashes hold the same results
 *   - `weir bench redis` (small): both runs measured, the same hashes, its JSON
 *   - refusals: a key of the wrong type (WRONGTYPE), a password required (NOAUTH), a read-only
 *     replica (READONLY) fail the job with Redis's message and the key; a server that is not there
 *     fails it naming the address
 * WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/redis/redis_template.h"
#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "tests/support/jobs.h"
#include "tests/support/redis.h"

#define S_JOB_MS  60000
#define S_DEVICES 40
#define S_TOTAL   12000 /* 300 readings a device, 10 s apart: 50 min of event time */
#define S_NO_RESTART                                                                               \
    "--set", "restart-strategy.fixed-delay.attempts=0", "--set",                                   \
        "restart-strategy.fixed-delay.delay=100ms"

/* The job NAME.yaml into `sink` (a flow mapping); rate 0: unpaced. */
static const char *s_topology(const char *name, const char *sink, unsigned total, unsigned rate)
{
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(path,
                  ps_fmt("name: %s\nparallelism: 2\nsources:\n"
                         "  - {type: generator, devices: %u, total: %u, jitter: 1s, "
                         "late_fraction: 0, seed: 7%s}\n"
                         "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                         "window: {type: tumbling, size: 10min}\n"
                         "aggregates:\n  n: count()\n  s: sum(temperature)\n"
                         "sinks:\n  - %s\n",
                         name, S_DEVICES, total, rate ? ps_fmt(", rate: %u", rate) : "", sink));
    return path;
}

/* `weir local TOPOLOGY` with checkpoints every 500 ms, and more arguments (NULL: none). */
static ps_result_t s_local(const char *name, const char *topology, const char *const more[])
{
    const char *argv[PS_MAX_ARGS + 1];
    size_t n =
        ps_append(argv, 0,
                  PS_ARGV("local", topology, "--set", "execution.checkpointing.interval=500ms",
                          "--set", ps_fmt("state.checkpoints.dir=%s", ps_path("ck"))));
    if (more) ps_append(argv, n, more);
    return ps_run(name, argv, S_JOB_MS);
}

static void s_local_ok(const char *name, const char *topology)
{
    ps_result_t r = s_local(name, topology, NULL);
    if (r.code != 0) PS_FAIL("weir local %s exited %d:\n%s", name, r.code, r.err);
}

/* ---- the file sink's results ---- */

/* One result: its fields' names and values (the JSON text of numbers). */
typedef struct {
    char *line;
    size_t n;
    const char *name[8], *value[8];
} s_result_t;

/* Splits a JSON line of numbers only ({"device":3,"s":2.5}) into its fields, in place. */
static s_result_t s_split(char *line)
{
    s_result_t r = {.line = ps_keep(strdup(line))};
    size_t len = strlen(line);
    if (len < 2 || line[0] != '{' || line[len - 1] != '}') PS_FAIL("not a JSON object: %s", line);
    line[len - 1] = '\0';
    for (char *p = line + 1, *next; p && *p; p = next) {
        next = strchr(p, ',');
        if (next) *next++ = '\0';
        char *colon = strstr(p, "\":");
        if (p[0] != '"' || !colon || r.n == 8) PS_FAIL("unexpected field in %s", r.line);
        *colon = '\0';
        r.name[r.n] = p + 1;
        r.value[r.n++] = colon + 2;
    }
    return r;
}

static const char *s_field(const s_result_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) return r->value[i];
    PS_FAIL("no field %s in %s", name, r->line);
    return NULL;
}

/* The results of the file sink's file, in the file's order. */
static s_result_t *s_file_results(const char *path, size_t *n)
{
    char **lines = ps_lines(path, n);
    if (*n < S_DEVICES) PS_FAIL("the file sink wrote %zu results", *n);
    s_result_t *v = ps_alloc(*n * sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = s_split(lines[i]);
    return v;
}

/* The last result of each device (by window_end), indexed by device. */
static const s_result_t **s_latest(const s_result_t *v, size_t n)
{
    const s_result_t **last = ps_alloc(S_DEVICES * sizeof *last);
    for (size_t i = 0; i < n; i++) {
        long d = atol(s_field(&v[i], "device"));
        if (d < 0 || d >= S_DEVICES) PS_FAIL("device %ld out of range", d);
        if (!last[d] || atoll(s_field(&v[i], "window_end")) > atoll(s_field(last[d], "window_end")))
            last[d] = &v[i];
    }
    for (int d = 0; d < S_DEVICES; d++)
        if (!last[d]) PS_FAIL("no result of device %d in the file", d);
    return last;
}

/* ---- what Redis holds ---- */

/* Fails unless the hash at key holds exactly the fields and values of want. */
static void s_expect_hash(tr_redis_t *r, const char *key, const s_result_t *want)
{
    redisReply *h = tr_cmd(r, "HGETALL %s", key);
    if (h->type != REDIS_REPLY_ARRAY || h->elements != 2 * want->n)
        PS_FAIL("%s holds %zu fields, the result %zu: %s", key, h->elements / 2, want->n,
                want->line);
    for (size_t i = 0; i < h->elements; i += 2) {
        const char *name = h->element[i]->str, *value = h->element[i + 1]->str;
        if (strcmp(s_field(want, name), value))
            PS_FAIL("%s: %s is %s, the file says %s (%s)", key, name, value, s_field(want, name),
                    want->line);
    }
}

/* The number of keys matching pattern. */
static size_t s_keys(tr_redis_t *r, const char *pattern)
{
    redisReply *k = tr_cmd(r, "KEYS %s", pattern);
    if (k->type != REDIS_REPLY_ARRAY) PS_FAIL("KEYS %s: %s", pattern, k->str);
    return k->elements;
}

/* ---- the tests ---- */

static void test_hashes_hold_the_latest_results(void **state)
{
    (void)state;
    tr_redis_t *r = tr_start("redis");
    const char *out = ps_path("results.jsonl");
    s_local_ok("local-file", s_topology("file", ps_fmt("{type: file, path: %s}", out), S_TOTAL, 0));
    s_local_ok("local-redis", s_topology("redis",
                                         ps_fmt("{type: redis, address: '%s', key: "
                                                "'device:{device}:latest', batch: 7}",
                                                r->address),
                                         S_TOTAL, 0));
    size_t n;
    const s_result_t *v = s_file_results(out, &n);
    const s_result_t **last = s_latest(v, n);
    for (int d = 0; d < S_DEVICES; d++)
        s_expect_hash(r, ps_fmt("device:%d:latest", d), last[d]);
    if (s_keys(r, "*") != S_DEVICES)
        PS_FAIL("%zu keys in Redis, %d devices", s_keys(r, "*"), S_DEVICES);
    print_message("  %d hashes: each device's last of the file's %zu results\n", S_DEVICES, n);
}

/* Parses text as a template: 0 and its rendering of a record (device 7, region "eu-west"), or the
 * error, in *out. */
static int s_template(const char *text, const char **out)
{
    wr_schema_t s;
    wr_schema_init(&s);
    wr_schema_add(&s, "device", WR_T_INT);
    wr_schema_add(&s, "region", WR_T_STRING);
    wr_batch_t *b = wr_batch_new(&s, 1);
    if (!b || wr_batch_push_str(b, 1, "eu-west", 7)) fail_msg("out of memory");
    wr_batch_i64(b, 0)[0] = 7;
    b->count = 1;
    wr_redis_template_t t;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = wr_redis_template_parse(text, strlen(text), &t, &sb);
    if (!rc) rc = wr_redis_template_bind(&t, &s, &sb);
    if (!rc) wr_redis_template_render(&t, b, 0, &sb);
    wr_batch_destroy(&b);
    *out = ps_keep(wr_strbuf_detach(&sb, NULL));
    return rc;
}

static void test_key_templates(void **state)
{
    (void)state;
    const char *out;
    assert_int_equal(s_template("device:{device}:latest", &out), 0);
    assert_string_equal(out, "device:7:latest");
    assert_int_equal(s_template("{region}/{device}{{x}}", &out), 0);
    assert_string_equal(out, "eu-west/7{x}");
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"d:{sensor}", "the results have no field 'sensor' (they have: device, region)"},
        {"a{device", "position 1: '{' without its '}'"},
        {"a}b", "position 1: '}' without its '{'"},
        {"{9x}", "position 1: '9x' is not a field name"},
        {"{}", "position 1: '' is not a field name"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_template(bad[i].text, &out), WR_EINVAL);
        if (!strstr(out, bad[i].says)) fail_msg("'%s' says '%s'", bad[i].text, out);
    }
}

static void test_connections_killed(void **state)
{
    (void)state;
    tr_redis_t *r = tr_start("redis");
    const char *out = ps_path("results.jsonl");
    s_local_ok("local-file", s_topology("file", ps_fmt("{type: file, path: %s}", out), S_TOTAL, 0));
    const char *topo = s_topology(
        "redis", ps_fmt("{type: redis, address: '%s', key: 'device:{device}'}", r->address),
        S_TOTAL, ps_h.asan ? 3000 : 4000);
    ps_proc_t *p =
        ps_start("local-redis",
                 PS_ARGV("local", topo, "--set", "execution.checkpointing.interval=500ms", "--set",
                         ps_fmt("state.checkpoints.dir=%s", ps_path("ck"))),
                 NULL);
    long long killed = 0;
    while (ps_running(p)) {
        redisReply *k = tr_cmd(r, "CLIENT KILL TYPE normal SKIPME yes");
        killed += k->type == REDIS_REPLY_INTEGER ? k->integer : 0;
        ps_sleep_ms(150);
    }
    if (ps_exit_code(p) != 0)
        PS_FAIL("weir local exited %d:\n%s", ps_exit_code(p), ps_read_file(p->err));
    const char *log = ps_read_file(p->err);
    size_t again = ps_count(log, "connecting again");
    if (!again) PS_FAIL("%lld connections killed, none opened again:\n%s", killed, log);
    size_t n;
    const s_result_t *v = s_file_results(out, &n);
    const s_result_t **last = s_latest(v, n);
    for (int d = 0; d < S_DEVICES; d++)
        s_expect_hash(r, ps_fmt("device:%d", d), last[d]);
    print_message("  %lld connections killed, %zu times connected again: the file's results\n",
                  killed, again);
}

/* An entry of a stream as the file's JSON line of it. */
static char *s_entry_line(const redisReply *entry)
{
    const redisReply *fields = entry->element[1];
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        wr_strbuf_addf(&sb, "%s\"%s\":%s", i ? "," : "{", fields->element[i]->str,
                       fields->element[i + 1]->str);
    wr_strbuf_addc(&sb, '}');
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

static void test_stream_holds_every_result_once(void **state)
{
    (void)state;
    tr_redis_t *r = tr_start("redis");
    const char *out = ps_path("results.jsonl");
    s_local_ok("local-file", s_topology("file", ps_fmt("{type: file, path: %s}", out), S_TOTAL, 0));
    s_local_ok("local-redis",
               s_topology("redis",
                          ps_fmt("{type: redis, address: '%s', mode: stream, stream: results}",
                                 r->address),
                          S_TOTAL, 0));
    size_t n;
    char **want = ps_lines(out, &n);
    redisReply *all = tr_cmd(r, "XRANGE results - +");
    if (all->type != REDIS_REPLY_ARRAY || all->elements != n)
        PS_FAIL("the stream holds %zu entries, the file %zu results", all->elements, n);
    char **got = ps_alloc(n * sizeof *got);
    for (size_t i = 0; i < n; i++)
        got[i] = s_entry_line(all->element[i]);
    ps_sort_strings(want, n);
    ps_sort_strings(got, n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(got[i], want[i]))
            PS_FAIL("entry %zu of the sorted stream is %s, the file's result %s", i, got[i],
                    want[i]);
    print_message("  %zu entries: the file's results, each once\n", n);

    /* trimmed: MAXLEN ~ drops whole nodes of entries (100 each by default) */
    s_local_ok("local-trimmed", s_topology("trimmed",
                                           ps_fmt("{type: redis, address: '%s', mode: stream, "
                                                  "stream: trimmed, maxlen: 50}",
                                                  r->address),
                                           S_TOTAL, 0));
    redisReply *len = tr_cmd(r, "XLEN trimmed");
    if (len->integer < 50 || (size_t)len->integer >= n)
        PS_FAIL("maxlen 50 left %lld entries of %zu", len->integer, n);
    print_message("  maxlen 50: %lld entries left\n", len->integer);
}

static void test_taskmanager_killed(void **state)
{
    (void)state;
    tr_redis_t *r = tr_start("redis");
    unsigned total = ps_h.asan ? 24000 : 48000, rate = ps_h.asan ? 4000 : 8000;
    const char *sink = "{type: redis, address: '%s', key: '%s:{device}'}";
    s_local_ok("local-ref", s_topology("ref", ps_fmt(sink, r->address, "ref"), total, 0));

    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=500ms"));
    const char *id =
        pj_submit(&c, s_topology("kill", ps_fmt(sink, r->address, "kill"), total, rate));
    const char *job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    pj_wait_checkpoint(&c, id, 2, PC_START_MS);
    if (s_keys(r, "kill:*") == 0)
        PS_FAIL("no result in Redis before the kill: make the job longer");
    job = pj_job(&c, id);
    int tm = pj_hosts(job, pc_tm_ids[0]) ? 0 : 1;
    ps_kill9(c.tm[tm]);
    ps_release(c.tm[tm]);
    pc_tm_start(&c, tm);
    pc_wait_joined(&c, tm, (size_t)c.tm_starts[tm]);
    job = pj_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    if (pj_jnum(job, "restarts") < 1) PS_FAIL("the job did not restart: %s", job);
    print_message("  killed %s; the job restarted %lld times from checkpoint %lld\n", pc_tm_ids[tm],
                  pj_jnum(job, "restarts"), pj_jnum(job, "latest_checkpoint"));
    pc_cluster_stop(&c);

    for (int d = 0; d < S_DEVICES; d++) {
        redisReply *want = tr_cmd(r, "HGETALL ref:%d", d), *got = tr_cmd(r, "HGETALL kill:%d", d);
        if (want->elements == 0 || want->elements != got->elements)
            PS_FAIL("device %d: %zu fields after the kill, %zu uninterrupted", d, got->elements / 2,
                    want->elements / 2);
        for (size_t i = 0; i < want->elements; i++)
            if (strcmp(want->element[i]->str, got->element[i]->str))
                PS_FAIL("device %d: %s after the kill, %s uninterrupted", d, got->element[i]->str,
                        want->element[i]->str);
    }
    if (s_keys(r, "kill:*") != S_DEVICES) PS_FAIL("%zu keys kill:*", s_keys(r, "kill:*"));
    print_message("  %d hashes: those of the uninterrupted run\n", S_DEVICES);
}

/* Runs the job into sink once, without restarts: it must fail saying each of says. */
static void s_expect_failure(const char *name, const char *sink, const char *const says[])
{
    ps_result_t r =
        s_local(ps_fmt("local-%s", name), s_topology(name, sink, 2000, 0), PS_ARGV(S_NO_RESTART));
    if (r.code == 0) PS_FAIL("%s: weir local exited 0:\n%s", name, r.out);
    for (size_t i = 0; says[i]; i++)
        if (!strstr(r.err, says[i]) && !strstr(r.out, says[i]))
            PS_FAIL("%s: weir local exited %d without saying '%s':\n%s", name, r.code, says[i],
                    r.err);
    const char *at = strstr(r.err, "FAILED");
    if (!at) at = r.err; /* refused before it ran: the first line says why */
    print_message("  %s: %.*s\n", name, at ? (int)strcspn(at, "\n") : 0, at ? at : "");
}

static void test_refusals(void **state)
{
    (void)state;
    tr_redis_t *r = tr_start("redis");
    const char *hash = ps_fmt("{type: redis, address: '%s', key: 'device:{device}'}", r->address);
    /* a key of another type */
    tr_cmd(r, "SET device:3 not-a-hash");
    s_expect_failure("wrongtype", hash,
                     PS_ARGV("FAILED", r->address, "HSET device:3", "WRONGTYPE"));
    tr_cmd(r, "DEL device:3");
    /* a password required */
    tr_cmd(r, "CONFIG SET requirepass s3cret");
    s_expect_failure("noauth", hash, PS_ARGV("FAILED", r->address, "NOAUTH"));
    /* with the password, into db 3, keys expiring */
    s_local_ok("local-auth", s_topology("auth",
                                        ps_fmt("{type: redis, address: '%s', key: "
                                               "'device:{device}', password: s3cret, db: 3, "
                                               "ttl: 1h}",
                                               r->address),
                                        2000, 0));
    tr_cmd(r, "SELECT 3");
    redisReply *ttl = tr_cmd(r, "PTTL device:0"), *keys = tr_cmd(r, "DBSIZE");
    tr_cmd(r, "SELECT 0");
    if (ttl->type != REDIS_REPLY_INTEGER || ttl->integer <= 0 || ttl->integer > 3600000 ||
        keys->integer != S_DEVICES)
        PS_FAIL("db 3 holds %lld keys, device:0 expiring in %lld ms", keys->integer, ttl->integer);
    tr_cmd(r, "CONFIG SET requirepass %s", "");
    /* a read-only replica (of a master that is not there) */
    tr_cmd(r, "REPLICAOF 127.0.0.1 %d", ps_free_port());
    s_expect_failure("readonly", hash, PS_ARGV("FAILED", r->address, "READONLY"));
    tr_cmd(r, "REPLICAOF NO ONE");
    /* no server */
    const char *nobody = ps_fmt("127.0.0.1:%d", ps_free_port());
    s_expect_failure("absent", ps_fmt("{type: redis, address: '%s', key: 'd:{device}'}", nobody),
                     PS_ARGV("FAILED", nobody, "cannot connect"));
    /* keys that do not go together, refused when the topology is read */
    s_expect_failure("config", ps_fmt("{type: redis, address: '%s', mode: hash}", r->address),
                     PS_ARGV("mode hash needs key (key: device:{device}:latest)"));
    s_expect_failure(
        "config-ttl",
        ps_fmt("{type: redis, address: '%s', mode: stream, stream: s, ttl: 1s}", r->address),
        PS_ARGV("ttl: only in mode hash"));
    s_expect_failure("config-template",
                     ps_fmt("{type: redis, address: '%s', key: 'a{device'}", r->address),
                     PS_ARGV("key: 'a{device': position 1: '{' without its '}'"));
    /* a template naming a field the results do not have */
    s_expect_failure("template",
                     ps_fmt("{type: redis, address: '%s', key: 'd:{sensor}'}", r->address),
                     PS_ARGV("FAILED", "no field 'sensor'"));
}

static void test_bench(void **state)
{
    (void)state;
    ps_result_t r = ps_run(
        "bench", PS_ARGV("bench", "redis", "--rows", "5000", "--rounds", "1", "--json"), S_JOB_MS);
    if (r.code != 0) PS_FAIL("weir bench redis exited %d:\n%s%s", r.code, r.out, r.err);
    const tj_value_t *doc = tj_parse(r.out);
    const char *bench = tj_str(doc, "bench");
    if (!bench || strcmp(bench, "redis") || tj_num(doc, "rows") != 5120 ||
        !(tj_num(doc, "ratio") > 0) || !strstr(r.out, "\"same_hashes\":true") ||
        !strstr(r.out, "\"machine\":{\"cpu\":"))
        PS_FAIL("weir bench redis --json printed:\n%s", r.out);
    print_message("  %s", r.out);
}

/* SIGTERM stops `weir bench redis` mid-run: exit 128 + 15 saying so, its redis-server killed
 * and its folder removed (weir blocks SIGINT and SIGTERM to wait for them: a benchmark that
 * never asks ran on to its end, 40 s here). */
static void test_bench_stops_on_sigterm(void **state)
{
    (void)state;
    int before = ps_entries_named("/tmp", "weir-bench-redis-");
    ps_proc_t *p = ps_start("bench", PS_ARGV("bench", "redis", "--rows", "3000000"), NULL);
    /* its server: a child of the bench, once the bench's folder is there */
    long server = 0;
    int64_t deadline = ps_now_ms() + 20000;
    while (!server) {
        if (!ps_running(p) || ps_now_ms() > deadline) PS_FAIL("bench redis started no server");
        char *kids = ps_slurp(ps_fmt("/proc/%d/task/%d/children", (int)p->pid, (int)p->pid));
        server = ps_entries_named("/tmp", "weir-bench-redis-") > before ? atol(kids) : 0;
        free(kids);
        ps_sleep_ms(10);
    }
    ps_sleep_ms(1000); /* past the server's start, into the rows */
    ps_expect_sigterm_stop(p, ps_h.asan ? 5000 : 2000);
    char *stat = ps_slurp(ps_fmt("/proc/%ld/stat", server));
    bool left = stat[0] != '\0';
    free(stat);
    if (left) PS_FAIL("its redis-server (pid %ld) is left", server);
    assert_int_equal(ps_entries_named("/tmp", "weir-bench-redis-"), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hashes_hold_the_latest_results, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_key_templates, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_stream_holds_every_result_once, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_connections_killed, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_taskmanager_killed, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_bench, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_bench_stops_on_sigterm, tr_setup, tr_teardown),
    };
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    if (tr_group_setup("test_redis")) return 1;
    return cmocka_run_group_tests(tests, NULL, ps_group_teardown);
}
