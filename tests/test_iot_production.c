/* The seed's production stack as README runs it (issue 16): deploy/iot-stack.sh starts
 * mosquitto, redis-server and influxd on free loopback ports in the test's folder;
 * examples/iot-production.yaml (its ports changed to those, and `end_after_idle: 5s` so that it
 * ends) reads the devices of examples/iot-mqtt-devices.yaml (smaller: 100 devices, 30 minutes of
 * event time) published with mosquitto_pub -l, and writes every result to Redis and InfluxDB.
 *
 * The oracle: the same job's window and aggregates over the same lines from a file, into a file
 * sink. Redis must hold each device's last result, field for field; InfluxDB every result as a
 * point (tag device, the aggregates as fields, time = window end), nothing more. The stack is
 * stopped by SIGTERM (it stops its servers by pid), also when the test fails. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/http.h"
#include "tests/support/influxdb.h"
#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_RUN_MS   (ps_h.asan ? 120000 : 60000)
#define S_DEVICES  100
#define S_READINGS 18000 /* 30 minutes of event time: a reading per device every 10 s */

static const char *const s_aggs[] = {"readings", "avg_temp", "min_temp", "max_temp", "p95_temp"};
enum { S_NAGGS = sizeof s_aggs / sizeof s_aggs[0] };

static ps_proc_t *s_stack; /* the running test's deploy/iot-stack.sh, NULL when none */

/* The stack stopped as a user stops it (it then stops its servers by pid), before the harness
 * kills what is left: a SIGKILL would leave its servers behind. */
static int s_teardown(void **state)
{
    if (s_stack && ps_running(s_stack)) {
        kill(s_stack->pid, SIGTERM);
        if (!ps_wait_exit(s_stack, 15000)) print_error("iot-stack.sh did not stop in 15 s\n");
    }
    s_stack = NULL;
    return ps_teardown(state);
}

/* text with every `from` replaced by `to`, kept. */
static const char *s_replace(const char *text, const char *from, const char *to)
{
    size_t n = ps_count(text, from), lf = strlen(from), lt = strlen(to);
    char *out = ps_alloc(strlen(text) + n * lt + 1), *o = out;
    for (const char *at; (at = strstr(text, from)); text = at + lf) {
        memcpy(o, text, (size_t)(at - text));
        o += at - text;
        memcpy(o, to, lt);
        o += lt;
    }
    strcpy(o, text);
    return out;
}

/* text from its first `from` up to (not including) its first `to` after it replaced by with. */
static const char *s_splice(const char *text, const char *from, const char *to, const char *with)
{
    const char *a = strstr(text, from), *b = a ? strstr(a, to ? to : "") : NULL;
    if (!a || !b) PS_FAIL("no '%s' ... '%s' in the example", from, to ? to : "");
    return ps_fmt("%.*s%s%s", (int)(a - text), text, with, to ? b : "");
}

/* A result line of the file sink. */
typedef struct {
    long long device, window_end;
    double agg[S_NAGGS];
} s_result_t;

static s_result_t *s_results(const char *path, size_t *n)
{
    char **lines = ps_lines(path, n);
    s_result_t *r = ps_alloc((*n + 1) * sizeof *r);
    for (size_t i = 0; i < *n; i++) {
        const tj_value_t *v = tj_parse(lines[i]);
        if (!v) PS_FAIL("%s: not JSON: %s", path, lines[i]);
        r[i].device = (long long)tj_num(v, "device");
        r[i].window_end = (long long)tj_num(v, "window_end");
        for (size_t k = 0; k < S_NAGGS; k++)
            r[i].agg[k] = tj_num(v, s_aggs[k]);
    }
    return r;
}

/* The test's environment for the stack: its ports and folder. */
static char **s_stack_env(int mqtt, int redis, int influx, int rpc, const char *dir)
{
    return ps_env(NULL, PS_ARGV(ps_fmt("MQTT_PORT=%d", mqtt), ps_fmt("REDIS_PORT=%d", redis),
                                ps_fmt("INFLUX_PORT=%d", influx), ps_fmt("INFLUX_RPC_PORT=%d", rpc),
                                ps_fmt("IOT_DIR=%s", ps_path(dir))));
}

/* Starts deploy/iot-stack.sh on free ports (into *mqtt, *redis, *influx) and waits until it
 * runs; returns its folder. A free port can be taken between ps_free_port and the server's bind:
 * when a server of the stack exits at its start (the script says so and stops), once more on other
 * ports. */
static const char *s_stack_start(int *mqtt, int *redis, int *influx)
{
    for (int attempt = 1;; attempt++) {
        *mqtt = ps_free_port(), *redis = ps_free_port(), *influx = ps_free_port();
        int rpc = ps_free_port();
        const char *name = ps_fmt("stack-%d", attempt); /* its log's and its folder's */
        s_stack =
            ps_start_program(name, "/bin/bash", PS_ARGV(ps_fmt("%s/deploy/iot-stack.sh", ps_h.src)),
                             s_stack_env(*mqtt, *redis, *influx, rpc, name));
        if (ps_wait_text(s_stack, s_stack->out, "running until Ctrl-C", 1, S_RUN_MS) >= 0)
            return ps_path(name);
        bool exited = !ps_running(s_stack) && strstr(ps_read_file(s_stack->err), ") exited;");
        if (attempt > 1 || !exited) PS_FAIL("deploy/iot-stack.sh did not start");
        print_message("  %s", ps_read_file(s_stack->err));
        print_message("  a server of the stack exited at its start: once more on other ports\n");
        ps_release(s_stack);
        s_stack = NULL;
    }
}

static void test_the_example_end_to_end(void **state)
{
    (void)state;
    int mqtt, redis, influx;
    const char *stack = s_stack_start(&mqtt, &redis, &influx);

    /* the devices: the example, smaller and unpaced; its lines are the oracle's input too */
    const char *dev = ps_read_file(ps_fmt("%s/examples/iot-mqtt-devices.yaml", ps_h.src));
    dev = s_replace(dev, "devices: 1_000", ps_fmt("devices: %d", S_DEVICES));
    dev = s_replace(dev, "total: 240_000", ps_fmt("total: %d", S_READINGS));
    dev = s_replace(dev, "rate: 2_000", "rate: 0");
    ps_write_file(ps_path("devices.yaml"), dev);
    ps_result_t r = ps_run("devices", PS_ARGV("local", ps_path("devices.yaml")), S_RUN_MS);
    if (r.code != 0 || ps_count(r.out, "\n") != S_READINGS)
        PS_FAIL("the devices: exit %d, %zu lines", r.code, ps_count(r.out, "\n"));
    const char *readings = ps_path("readings.jsonl");
    ps_write_file(readings, r.out);

    /* the job as README has it, on the stack's ports, ending 5 s after the last reading */
    const char *example = ps_read_file(ps_fmt("%s/examples/iot-production.yaml", ps_h.src));
    const char *job = s_replace(example, "127.0.0.1:1883", ps_fmt("127.0.0.1:%d", mqtt));
    job = s_replace(job, "127.0.0.1:6379", ps_fmt("127.0.0.1:%d", redis));
    job = s_replace(job, "127.0.0.1:8086", ps_fmt("127.0.0.1:%d", influx));
    job = s_replace(job, "    idle_timeout: 30s\n",
                    "    idle_timeout: 30s\n    end_after_idle: 5s\n");
    if (!strcmp(job, example) || !strstr(job, "end_after_idle"))
        PS_FAIL("the example's addresses are not the ones README's stack uses:\n%s", example);
    ps_write_file(ps_path("production.yaml"), job);
    ps_proc_t *prod = ps_start("production", PS_ARGV("local", ps_path("production.yaml")), NULL);
    /* both subtasks subscribed (the stack's mosquitto logs subscriptions) before anything is
     * published: a shared subscription gets only what comes after it */
    const char *log = ps_fmt("%s/mosquitto/mosquitto.log", stack);
    for (int64_t t0 = ps_now_ms(); ps_count(ps_read_file(log), "/devices/readings") < 2;
         ps_poll_pause(100))
        if (ps_now_ms() - t0 > S_RUN_MS || !ps_running(prod))
            PS_FAIL("the job's two subtasks did not subscribe:\n%s", ps_read_file(log));
    r = ps_run_program("publish", "/bin/sh",
                       PS_ARGV("-c", ps_fmt("/usr/bin/mosquitto_pub -h 127.0.0.1 -p %d -t "
                                            "devices/readings -q 1 -l < %s",
                                            mqtt, readings)),
                       S_RUN_MS);
    assert_int_equal(r.code, 0);
    if (!ps_wait_exit(prod, S_RUN_MS)) PS_FAIL("the job did not end after its input");
    const char *err = ps_read_file(prod->err);
    if (ps_exit_code(prod) != 0 || !strstr(err, "FINISHED"))
        PS_FAIL("the job ended %d:\n%s", ps_exit_code(prod), err);
    if (!strstr(err, ps_fmt("%d records in", S_READINGS)))
        PS_FAIL("not every reading came in:\n%s", err);

    /* the oracle: the same window and aggregates over the lines from a file */
    const char *oracle = s_splice(
        job, "sources:", "key_by:", ps_fmt("sources:\n  - {type: file, path: %s}\n\n", readings));
    oracle = s_splice(oracle, "sinks:", NULL,
                      ps_fmt("sinks:\n  - {type: file, path: %s}\n", ps_path("results.jsonl")));
    ps_write_file(ps_path("oracle.yaml"), oracle);
    r = ps_run("oracle", PS_ARGV("local", ps_path("oracle.yaml")), S_RUN_MS);
    if (r.code != 0) PS_FAIL("the oracle's run failed:\n%s", r.err);
    size_t n;
    s_result_t *want = s_results(ps_path("results.jsonl"), &n);
    assert_true(n > (size_t)S_DEVICES * 30);

    /* Redis: each device's last result */
    size_t devices = 0;
    for (long long d = 0; d < S_DEVICES; d++) {
        const s_result_t *last = NULL;
        for (size_t i = 0; i < n; i++)
            if (want[i].device == d && (!last || want[i].window_end > last->window_end))
                last = &want[i];
        if (!last) continue;
        devices++;
        r = ps_run_program(
            "redis-cli", "/usr/bin/redis-cli",
            PS_ARGV("-p", ps_fmt("%d", redis), "--raw", "HGETALL", ps_fmt("device:%lld:latest", d)),
            S_RUN_MS);
        const char *h = ps_fmt("\n%s", r.out);
        for (size_t k = 0; k < S_NAGGS; k++) {
            const char *at = strstr(h, ps_fmt("\n%s\n", s_aggs[k]));
            if (!at || strtod(at + strlen(s_aggs[k]) + 2, NULL) != last->agg[k])
                PS_FAIL("device:%lld:latest %s is not %.17g:\n%s", d, s_aggs[k], last->agg[k],
                        r.out);
        }
        const char *end = strstr(h, "\nwindow_end\n");
        if (!end || atoll(end + 12) != last->window_end)
            PS_FAIL("device:%lld:latest is not its last window:\n%s", d, r.out);
    }
    assert_int_equal(devices, S_DEVICES);

    /* InfluxDB: every result a point, nothing more */
    ti_influx_t db = {.port = influx};
    snprintf(db.url, sizeof db.url, "http://127.0.0.1:%d", influx);
    ti_series_t s = ti_select(&db, "iot", "SELECT * FROM device_window");
    if (s.nrows != n) PS_FAIL("%zu points in InfluxDB, %zu results", s.nrows, n);
    int time = ti_col(&s, "time"), device = ti_col(&s, "device"), col[S_NAGGS];
    assert_true(time >= 0 && device >= 0);
    for (size_t k = 0; k < S_NAGGS; k++)
        assert_true((col[k] = ti_col(&s, s_aggs[k])) >= 0);
    for (size_t i = 0; i < s.nrows; i++) {
        const char **row = s.rows[i];
        size_t j = 0;
        while (j < n &&
               !(want[j].device == atoll(row[device]) && want[j].window_end == atoll(row[time])))
            j++;
        if (j == n) PS_FAIL("a point no result makes: device %s at %s", row[device], row[time]);
        for (size_t k = 0; k < S_NAGGS; k++)
            if (strtod(row[col[k]], NULL) != want[j].agg[k])
                PS_FAIL("device %s at %s: %s %s, not %.17g", row[device], row[time], s_aggs[k],
                        row[col[k]], want[j].agg[k]);
    }
    print_message("  %d readings through MQTT: %zu results in InfluxDB, %zu devices' latest in "
                  "Redis, as from the file\n",
                  S_READINGS, n, devices);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_example_end_to_end, ps_setup, s_teardown),
    };
    if (ti_group_setup("test_iot_production")) return 1;
    return cmocka_run_group_tests_name("the IoT production example", tests, NULL,
                                       th_group_teardown);
}
