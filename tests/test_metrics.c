/* Prometheus metrics (actors/rest/metrics.h, prom.h).
 *
 * - The text format: label values escaped, integers exact, NaN and infinities as Prometheus
 *   spells them.
 * - A real cluster (a `weir jobmanager`, two `weir taskmanager`s) running a paced job, scraped
 *   every second by a real `prometheus` (Debian's package) that the test starts on free loopback
 *   ports in its folder: every node's page is scraped without error (Prometheus parses it), and
 *   PromQL over the scraped series gives the job's record rate as `weir job` measures it over the
 *   same seconds, its completed checkpoints, and each TaskManager's actors. The pages answer 404
 *   elsewhere and 405 to other methods.
 * - deploy/prometheus/prometheus.yml passes `promtool check config`, and every query of
 *   deploy/grafana/weir-dashboard.json gives series from that cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/rest/prom.h"
#include "bus/base/strbuf.h"
#include "tests/support/http.h"
#include "tests/support/jobs.h"
#include "tests/support/json.h"
#include "tests/support/proc_cluster.h"
#include "tests/support/process.h"

#define S_PROMETHEUS "/usr/bin/prometheus"
#define S_PROMTOOL   "/usr/bin/promtool"
#define S_RATE       4000  /* the job's readings per second */
#define S_WAIT_MS    30000 /* for Prometheus to be ready, and for its targets to be up */

/* ---- the text format ---- */

static void test_text_format(void **state)
{
    (void)state;
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    wr_prom_family(&out, "weir_x_total", "counter", "Lines\nand a \\ in help.");
    wr_prom_label_t l[] = {WR_PROM_LABEL("job_name", "a \"b\" c\\d\ne"),
                           {"node", "tm-1 and more", 4}};
    wr_prom_sample(&out, "weir_x_total", l, 2, 9007199254740991.0);
    wr_prom_sample(&out, "weir_x_total", NULL, 0, 0.25);
    wr_prom_sample(&out, "weir_x_total", NULL, 0, -3);
    wr_prom_sample(&out, "weir_x_total", NULL, 0, NAN);
    wr_prom_sample(&out, "weir_x_total", NULL, 0, INFINITY);
    wr_prom_sample(&out, "weir_x_total", NULL, 0, -INFINITY);
    wr_prom_sample(&out, "weir_x_total", NULL, 0, 1e300);
    assert_string_equal(out.buf, "# HELP weir_x_total Lines\\nand a \\\\ in help.\n"
                                 "# TYPE weir_x_total counter\n"
                                 "weir_x_total{job_name=\"a \\\"b\\\" c\\\\d\\ne\",node=\"tm-1\"} "
                                 "9007199254740991\n"
                                 "weir_x_total 0.25\n"
                                 "weir_x_total -3\n"
                                 "weir_x_total NaN\n"
                                 "weir_x_total +Inf\n"
                                 "weir_x_total -Inf\n"
                                 "weir_x_total 1.0000000000000001e+300\n");
    wr_strbuf_release(&out);
}

/* ---- a cluster scraped by Prometheus ---- */

static const char *s_topology(void)
{
    const char *path = ps_path("job.yaml");
    ps_write_file(path, ps_fmt("name: metrics-job\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: 200, total: 100000000, rate: %d, "
                               "seed: 3}\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                               "window: {type: tumbling, size: 1min}\naggregates:\n  n: count()\n"
                               "sinks:\n  - {type: file, path: %s}\n",
                               S_RATE, ps_path("out")));
    return path;
}

/* The port in "metrics on http://127.0.0.1:PORT/metrics" of a daemon's first line. */
static int s_metrics_port(ps_proc_t *p)
{
    const char *out = ps_read_file(p->out), *at = strstr(out, "metrics on http://127.0.0.1:");
    int port = 0;
    if (!at || sscanf(at, "metrics on http://127.0.0.1:%d/metrics", &port) != 1 || port <= 0)
        PS_FAIL("no 'metrics on http://127.0.0.1:PORT/metrics' in %s:\n%s", p->name, out);
    return port;
}

/* The window vertex's records in, as `weir job --json` gives them. */
static double s_window_in(const pc_cluster_t *c, const char *id)
{
    const tj_value_t *ops = tj_get(tj_parse(pj_job(c, id)), "operators");
    if (!ops || ops->type != TJ_ARR || ops->n < 2) PS_FAIL("job %s has no operators", id);
    return tj_num(ops->items[1], "records_in");
}

/* The result of a PromQL query: its series (a JSON array), with the answer's text in *body. Fails
 * the test on an error. */
static const tj_value_t *s_result(int port, const char *promql, const char **body)
{
    char *q = curl_easy_escape(NULL, promql, 0);
    th_http_t r = th_http(port, "GET", ps_fmt("/api/v1/query?query=%s", q), NULL, 0);
    curl_free(q);
    const tj_value_t *res = tj_get(tj_get(tj_parse(r.body), "data"), "result");
    if (r.status != 200 || !res || res->type != TJ_ARR)
        PS_FAIL("query %s: %ld\n%s", promql, r.status, r.body);
    *body = r.body;
    return res;
}

/* The value of a PromQL query that gives one sample, or NAN when it gives none. */
static double s_query(int port, const char *promql)
{
    const char *body;
    const tj_value_t *res = s_result(port, promql, &body);
    if (res->n == 0) return NAN;
    const tj_value_t *v = tj_get(res->items[0], "value");
    if (res->n != 1 || !v || v->type != TJ_ARR || v->n != 2 || v->items[1]->type != TJ_STR)
        PS_FAIL("query %s: not one sample:\n%s", promql, body);
    return strtod(v->items[1]->str, NULL);
}

/* How many series a PromQL query gives; fails the test on an error. */
static size_t s_series(int port, const char *promql)
{
    const char *body;
    return s_result(port, promql, &body)->n;
}

/* deploy/prometheus/prometheus.yml passes promtool; every query of deploy/grafana's dashboard
 * gives at least one series from the running cluster (its metric names are weir's). */
static void s_deploy_files(int prom_port)
{
    ps_result_t r = ps_run_program(
        "promtool", S_PROMTOOL,
        PS_ARGV("check", "config", ps_fmt("%s/deploy/prometheus/prometheus.yml", ps_h.src)),
        S_WAIT_MS);
    if (r.code != 0) PS_FAIL("promtool check config: exit %d\n%s%s", r.code, r.out, r.err);
    const char *path = ps_fmt("%s/deploy/grafana/weir-dashboard.json", ps_h.src);
    const tj_value_t *panels = tj_get(tj_parse(ps_read_file(path)), "panels");
    if (!panels || panels->type != TJ_ARR || panels->n < 8) PS_FAIL("%s: no panels", path);
    size_t queries = 0;
    for (size_t i = 0; i < panels->n; i++) {
        const tj_value_t *targets = tj_get(panels->items[i], "targets");
        for (size_t k = 0; targets && targets->type == TJ_ARR && k < targets->n; k++) {
            const char *expr = tj_str(targets->items[k], "expr");
            if (!expr || !s_series(prom_port, expr))
                PS_FAIL("%s: panel '%s': '%s' gives no series", path,
                        tj_str(panels->items[i], "title"), expr ? expr : "(no expr)");
            queries++;
        }
    }
    print_message("  the dashboard's %zu queries over %zu panels each give series\n", queries,
                  panels->n);
}

/* Waits until Prometheus has scraped each of its n targets without an error. */
static void s_wait_targets_up(int port, size_t n)
{
    int64_t until = ps_now_ms() + S_WAIT_MS;
    for (;;) {
        th_http_t r = th_http(port, "GET", "/api/v1/targets", NULL, 0);
        const tj_value_t *t = tj_get(tj_get(tj_parse(r.body), "data"), "activeTargets");
        size_t up = 0;
        const char *why = "";
        for (size_t i = 0; t && t->type == TJ_ARR && i < t->n; i++) {
            const char *health = tj_str(t->items[i], "health"),
                       *err = tj_str(t->items[i], "lastError");
            if (health && !strcmp(health, "up") && err && !err[0])
                up++;
            else if (err && err[0])
                why = err;
        }
        if (up == n) return;
        if (ps_now_ms() > until)
            PS_FAIL("%zu of %zu targets scraped without error (%s):\n%s", up, n, why, r.body);
        ps_sleep_ms(200);
    }
}

static void test_prometheus_scrapes_a_cluster(void **state)
{
    (void)state;
    int jm_port = ps_free_port(), prom_port = ps_free_port();
    pc_cluster_t c = {.tm_settings = PS_ARGV("--set", "heartbeat.timeout=2s", "--set",
                                             "metrics.prometheus.port=0")};
    pj_cluster_start(&c, PS_ARGV("--set", ps_fmt("metrics.prometheus.port=%d", jm_port), "--set",
                                 "execution.checkpointing.interval=500ms"));
    int ports[3] = {s_metrics_port(c.jm), s_metrics_port(c.tm[0]), s_metrics_port(c.tm[1])};
    assert_int_equal(ports[0], jm_port);

    /* the pages themselves */
    th_http_t r = th_http(jm_port, "GET", "/metrics", NULL, 0);
    if (r.status != 200 || !strstr(r.body, "weir_jobmanager_leader{node=\"jm-1\"} 1\n") ||
        !strstr(r.body, "weir_actor_mailbox_depth{node=\"jm-1\",actor=\"jobmanager\"} "))
        PS_FAIL("the JobManager's page: %ld\n%s", r.status, r.body);
    r = th_http(ports[1], "GET", "/metrics", NULL, 0);
    if (r.status != 200 || !strstr(r.body, "weir_bus_bytes_in_total{node=\"tm-a\"} ") ||
        strstr(r.body, "weir_jobmanager"))
        PS_FAIL("tm-a's page: %ld\n%s", r.status, r.body);
    assert_int_equal(th_http(jm_port, "GET", "/nope", NULL, 0).status, 404);
    r = th_http(jm_port, "POST", "/metrics", "x", 1);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, " GET, HEAD");

    const char *id = pj_submit(&c, s_topology());
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);

    /* Prometheus, scraping the three pages every second */
    const char *config = ps_path("prometheus.yml");
    ps_write_file(config, ps_fmt("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                                 "scrape_configs:\n  - job_name: weir\n    static_configs:\n"
                                 "      - targets: ['127.0.0.1:%d', '127.0.0.1:%d', "
                                 "'127.0.0.1:%d']\n",
                                 ports[0], ports[1], ports[2]));
    ps_start_program("prometheus", S_PROMETHEUS,
                     PS_ARGV(ps_fmt("--config.file=%s", config),
                             ps_fmt("--storage.tsdb.path=%s", ps_path("tsdb")),
                             ps_fmt("--web.listen-address=127.0.0.1:%d", prom_port)),
                     NULL);
    int64_t until = ps_now_ms() + S_WAIT_MS;
    while (th_http_quiet(prom_port, "/-/ready") != 200) {
        if (ps_now_ms() > until) PS_FAIL("prometheus not ready within %d ms", S_WAIT_MS);
        ps_sleep_ms(200);
    }
    s_wait_targets_up(prom_port, 3);

    /* the job's record rate over the same seconds: `weir job`'s, and PromQL's */
    double in0 = s_window_in(&c, id);
    int64_t t0 = ps_now_ms();
    ps_sleep_ms(6000);
    double in1 = s_window_in(&c, id);
    double want = (in1 - in0) * 1000.0 / (double)(ps_now_ms() - t0);
    const char *sel = ps_fmt("{job_id=\"%s\",task_name=\"window-1\"}", id);
    double got =
        s_query(prom_port, ps_fmt("sum(rate(weir_taskmanager_job_task_numRecordsIn%s[5s]))", sel));
    double per_s = s_query(
        prom_port,
        ps_fmt("sum(avg_over_time(weir_taskmanager_job_task_numRecordsInPerSecond%s[5s]))", sel));
    print_message("  window-1 reads %.0f records/s (weir job); PromQL: rate() %.0f, "
                  "numRecordsInPerSecond %.0f\n",
                  want, got, per_s);
    if (!(want > S_RATE / 4) || !(got > 0.6 * want && got < 1.4 * want))
        PS_FAIL("PromQL's rate %.1f is not weir job's %.1f records/s", got, want);
    if (!(per_s > 0.5 * want && per_s < 1.5 * want))
        PS_FAIL("numRecordsInPerSecond %.1f is not weir job's %.1f records/s", per_s, want);
    double done = s_query(
        prom_port, ps_fmt("weir_jobmanager_job_numberOfCompletedCheckpoints{job_id=\"%s\"}", id));
    assert_true(done >= 1);
    assert_true(s_query(prom_port, "count(weir_actor_mailbox_depth{node=\"tm-b\"})") >= 2);
    assert_true(s_query(prom_port,
                        ps_fmt("sum(weir_taskmanager_job_task_numRecordsIn{job_id=\"%s\"})", id)) >
                0);
    s_deploy_files(prom_port);
    pc_cluster_stop(&c);
}

static int s_group_setup(void **state)
{
    (void)state;
    return th_group_setup("test_metrics", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_format),
        cmocka_unit_test_setup_teardown(test_prometheus_scrapes_a_cluster, ps_setup, ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, th_group_teardown);
}
