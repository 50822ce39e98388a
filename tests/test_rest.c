/* The JobManager's REST API (actors/rest/rest.h) against a real cluster: a `weir jobmanager` and
 * two `weir taskmanager` processes, asked over HTTP with libcurl. Every figure an endpoint gives
 * is checked against what the CLI says of the same cluster (`weir actors --json`, `weir job
 * --json`) or against the job's own input (a bounded generator: every reading read once), and
 * every bad request against its status and a JSON error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bus/base/strbuf.h"
#include "tests/support/http.h"
#include "tests/support/jobs.h"
#include "tests/support/json.h"
#include "tests/support/proc_cluster.h"
#include "tests/support/process.h"

#define S_TOTAL 40000 /* the job's readings: 2 s at 20,000 a second, checkpoints every 300 ms */

/* GET path: 200 and one JSON object, returned. */
static const tj_value_t *s_get(int port, const char *path)
{
    th_http_t r = th_http(port, "GET", path, NULL, 0);
    const tj_value_t *doc = tj_parse(r.body);
    if (r.status != 200 || !doc || doc->type != TJ_OBJ)
        PS_FAIL("GET %s: %ld, not one JSON object:\n%s", path, r.status, r.body);
    return doc;
}

/* method path answers status with {"errors": [one message]}; the message. */
static const char *s_expect_error(int port, const char *method, const char *path, long status)
{
    th_http_t r = th_http(port, method, path, NULL, 0);
    const tj_value_t *doc = tj_parse(r.body), *errors = tj_get(doc, "errors");
    if (r.status != status || !errors || errors->type != TJ_ARR || errors->n != 1 ||
        errors->items[0]->type != TJ_STR)
        PS_FAIL("%s %s: %ld (not %ld) or no {\"errors\": [message]}:\n%s", method, path, r.status,
                status, r.body);
    return errors->items[0]->str;
}

static int s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) PS_FAIL("connect to %d", port);
    return fd;
}

static const char *s_topology(void)
{
    const char *path = ps_path("job.yaml");
    ps_write_file(path, ps_fmt("name: rest-job\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: 100, total: %d, rate: 20000, "
                               "jitter: 1s, late_fraction: 0, seed: 5}\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                               "window: {type: tumbling, size: 1min}\naggregates:\n  n: count()\n"
                               "sinks:\n  - {type: file, path: %s}\n",
                               S_TOTAL, ps_path("out")));
    return path;
}

/* The TaskManager rows of `weir actors --json`: their slots and free slots summed. */
static void s_cli_slots(const pc_cluster_t *c, double *slots, double *free_slots, size_t *tms)
{
    const tj_value_t *rows = pc_actors(c);
    *slots = *free_slots = 0;
    *tms = 0;
    for (size_t i = 0; i < rows->n; i++) {
        double s = tj_num(rows->items[i], "slots");
        if (isnan(s) || s == 0) continue;
        *slots += s;
        *free_slots += tj_num(rows->items[i], "slots_free");
        (*tms)++;
    }
}

static void test_every_endpoint_against_a_cluster(void **state)
{
    (void)state;
    int port = ps_free_port();
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", ps_fmt("rest.port=%d", port), "--set",
                                 "execution.checkpointing.interval=300ms"));
    if (!strstr(ps_read_file(c.jm->out), ps_fmt("REST API on http://127.0.0.1:%d/", port)))
        PS_FAIL("the JobManager does not say where its REST API is:\n%s", ps_read_file(c.jm->out));

    /* the cluster before any job, as `weir actors` sees it */
    double slots, free_slots;
    size_t tms;
    s_cli_slots(&c, &slots, &free_slots, &tms);
    const tj_value_t *o = s_get(port, "/overview");
    assert_int_equal(tms, 2);
    assert_true(tj_num(o, "taskmanagers") == 2);
    assert_true(tj_num(o, "slots-total") == slots && slots >= 2);
    assert_true(tj_num(o, "slots-available") == free_slots);
    assert_true(tj_num(o, "jobs-running") == 0 && tj_num(o, "jobs-finished") == 0);
    assert_string_equal(tj_str(o, "leader"), "jm-1");
    assert_non_null(tj_str(o, "weir-version"));
    assert_true(tj_get(s_get(port, "/jobs"), "jobs")->n == 0);

    const tj_value_t *tmlist = tj_get(s_get(port, "/taskmanagers"), "taskmanagers");
    assert_true(tmlist && tmlist->type == TJ_ARR && tmlist->n == 2);
    for (size_t i = 0; i < tmlist->n; i++) {
        const char *id = tj_str(tmlist->items[i], "id");
        assert_true(id && (!strcmp(id, "tm-a") || !strcmp(id, "tm-b")));
        assert_string_equal(tj_str(tmlist->items[i], "status"), "UP");
        const tj_value_t *one = s_get(port, ps_fmt("/taskmanagers/%s", id));
        assert_string_equal(tj_str(one, "id"), id);
        assert_true(tj_num(one, "slotsNumber") == tj_num(tmlist->items[i], "slotsNumber"));
    }

    /* a job, to its end */
    const char *id = pj_submit(&c, s_topology());
    const char *cli = pj_wait_job(&c, id, "FINISHED", 0, 60000);
    const tj_value_t *jobs = tj_get(s_get(port, "/jobs"), "jobs");
    assert_true(jobs && jobs->n == 1);
    assert_string_equal(tj_str(jobs->items[0], "id"), id);
    assert_string_equal(tj_str(jobs->items[0], "status"), "FINISHED");
    const tj_value_t *ov = tj_get(s_get(port, "/jobs/overview"), "jobs")->items[0];
    assert_string_equal(tj_str(ov, "jid"), id);
    assert_string_equal(tj_str(ov, "name"), "rest-job");
    assert_string_equal(tj_str(ov, "state"), "FINISHED");
    double start = tj_num(ov, "start-time"), end = tj_num(ov, "end-time");
    assert_true(start > 1.7e12 && end == start + tj_num(ov, "duration") && end >= start);
    o = s_get(port, "/overview");
    assert_true(tj_num(o, "jobs-finished") == 1 && tj_num(o, "jobs-running") == 0);

    const tj_value_t *job = s_get(port, ps_fmt("/jobs/%s", id));
    assert_string_equal(tj_str(job, "jid"), id);
    assert_string_equal(tj_str(job, "state"), "FINISHED");
    assert_true(tj_num(job, "start-time") == start && tj_num(job, "end-time") == end);
    /* the vertices as `weir job --json` gives its operators, the source's and the window's
     * reading every reading once */
    const tj_value_t *v = tj_get(job, "vertices"), *ops = tj_get(tj_parse(cli), "operators");
    if (!v || v->type != TJ_ARR || !ops || ops->type != TJ_ARR || v->n != ops->n || v->n < 3)
        PS_FAIL("not the job's vertices:\n%s\n`weir job --json`: %s",
                th_http(port, "GET", ps_fmt("/jobs/%s", id), NULL, 0).body, cli);
    for (size_t i = 0; i < v->n; i++) {
        const tj_value_t *m = tj_get(v->items[i], "metrics"), *op = ops->items[i];
        assert_string_equal(tj_str(v->items[i], "name"), tj_str(op, "name"));
        assert_true(tj_num(v->items[i], "parallelism") == tj_num(op, "parallelism"));
        assert_true(tj_num(m, "read-records") == tj_num(op, "records_in"));
        assert_true(tj_num(m, "write-records") == tj_num(op, "records_out"));
        assert_true(tj_num(m, "windows-fired") == tj_num(op, "windows_fired"));
        assert_string_equal(tj_str(v->items[i], "status"), "FINISHED");
        const tj_value_t *subs = tj_get(v->items[i], "subtasks");
        assert_true(subs && subs->n == tj_num(op, "parallelism"));
        double in = 0, out = 0; /* each subtask's counters, which add up to the vertex's */
        for (size_t k = 0; k < subs->n; k++) {
            const char *host = tj_str(subs->items[k], "host");
            assert_true(host && (!strcmp(host, "tm-a") || !strcmp(host, "tm-b")));
            in += tj_num(tj_get(subs->items[k], "metrics"), "read-records");
            out += tj_num(tj_get(subs->items[k], "metrics"), "write-records");
        }
        assert_true(in == tj_num(m, "read-records") && out == tj_num(m, "write-records"));
    }
    assert_string_equal(tj_str(v->items[0], "name"), "generator");
    assert_true(tj_num(tj_get(v->items[0], "metrics"), "read-records") == S_TOTAL);
    assert_string_equal(tj_str(v->items[1], "name"), "window-1");
    assert_true(tj_num(tj_get(v->items[1], "metrics"), "read-records") == S_TOTAL);
    assert_true(tj_num(tj_get(v->items[1], "metrics"), "windows-fired") > 0);
    /* Flink's plan: each vertex with the one feeding it, by key into the window */
    const tj_value_t *plan_nodes = tj_get(tj_get(job, "plan"), "nodes");
    assert_true(plan_nodes && plan_nodes->n == v->n);
    assert_true(tj_get(plan_nodes->items[0], "inputs")->n == 0);
    for (size_t i = 1; i < v->n; i++) {
        const tj_value_t *in = tj_get(plan_nodes->items[i], "inputs");
        assert_true(in && in->n == 1);
        assert_string_equal(tj_str(in->items[0], "id"), ps_fmt("%zu", i - 1));
    }
    assert_string_equal(tj_str(tj_get(plan_nodes->items[1], "inputs")->items[0], "ship_strategy"),
                        "HASH");
    /* one vertex alone, as in the job's list */
    const tj_value_t *one = s_get(port, ps_fmt("/jobs/%s/vertices/1", id));
    assert_string_equal(tj_str(one, "name"), "window-1");
    assert_true(tj_num(tj_get(one, "metrics"), "read-records") == S_TOTAL);
    s_expect_error(port, "GET", ps_fmt("/jobs/%s/vertices/%zu", id, v->n), 404);
    /* its subtasks' watermarks, as Flink gives them: the vertex's subtasks' */
    th_http_t wr = th_http(port, "GET", ps_fmt("/jobs/%s/vertices/1/watermarks", id), NULL, 0);
    const tj_value_t *wms = tj_parse(wr.body), *subs1 = tj_get(one, "subtasks");
    if (wr.status != 200 || !wms || wms->type != TJ_ARR || !subs1 || wms->n != subs1->n)
        PS_FAIL("/jobs/%s/vertices/1/watermarks: %ld\n%s", id, wr.status, wr.body);
    for (size_t k = 0; k < wms->n; k++) {
        double want = tj_num(tj_get(subs1->items[k], "metrics"), "watermark");
        const char *value = tj_str(wms->items[k], "value");
        assert_string_equal(tj_str(wms->items[k], "id"), ps_fmt("%zu.currentInputWatermark", k));
        assert_true(value && (strtod(value, NULL) == want || (want == 0 && value[0] == '-')));
        assert_true(strtod(value, NULL) > 1.6e12); /* the job's event time: 2023 on */
    }
    s_expect_error(port, "GET", ps_fmt("/jobs/%s/vertices/%zu/watermarks", id, v->n), 404);

    /* its checkpoints, as `weir checkpoints --json` lists them */
    const tj_value_t *ck = s_get(port, ps_fmt("/jobs/%s/checkpoints", id));
    ps_result_t cr = pc_cli(&c, PS_ARGV("checkpoints", id, "--json"));
    const tj_value_t *cli_ck = tj_get(tj_parse(cr.out), "checkpoints"),
                     *hist = tj_get(ck, "history");
    if (cr.code || !cli_ck || !hist || hist->n != cli_ck->n || hist->n == 0)
        PS_FAIL("/jobs/%s/checkpoints against `weir checkpoints --json`:\n%s\n%s", id,
                th_http(port, "GET", ps_fmt("/jobs/%s/checkpoints", id), NULL, 0).body, cr.out);
    double completed = 0;
    for (size_t i = 0; i < hist->n; i++) {
        assert_true(tj_num(hist->items[i], "id") == tj_num(cli_ck->items[i], "id"));
        assert_string_equal(tj_str(hist->items[i], "status"), tj_str(cli_ck->items[i], "status"));
        assert_true(tj_num(hist->items[i], "state_size") == tj_num(cli_ck->items[i], "full_size"));
        completed += !strcmp(tj_str(hist->items[i], "status"), "COMPLETED");
    }
    assert_true(completed >= 1);
    assert_true(tj_num(tj_get(ck, "counts"), "completed") == completed);
    assert_true(tj_num(tj_get(ck, "counts"), "total") == hist->n);
    const tj_value_t *latest = tj_get(tj_get(ck, "latest"), "completed");
    assert_true(latest && latest->type == TJ_OBJ);
    assert_string_equal(tj_str(latest, "status"), "COMPLETED");

    /* weir's own: every actor, and a mailbox */
    const tj_value_t *nodes = tj_get(s_get(port, "/actors"), "nodes");
    assert_true(nodes && nodes->type == TJ_ARR && nodes->n == pc_actors(&c)->n);
    const tj_value_t *mb = s_get(port, "/actors/tm-a/taskmanager/mailbox?peek=3");
    assert_string_equal(tj_str(mb, "addr"), "tm-a/taskmanager");
    assert_true(tj_num(mb, "capacity") > 0 && tj_get(mb, "recent")->n <= 3);
    s_expect_error(port, "GET", "/actors/tm-a/nosuchactor/mailbox", 404);
    s_expect_error(port, "GET", "/actors/tm-a/mailbox", 404);

    const tj_value_t *ex = s_get(port, ps_fmt("/jobs/%s/exceptions", id));
    assert_true(tj_get(ex, "root-exception") && tj_get(ex, "root-exception")->type == TJ_NULL);

    /* what is not there, and what is not allowed */
    s_expect_error(port, "GET", "/nope", 404);
    assert_int_equal(th_http(port, "GET", "/", NULL, 0).status, 200); /* the web UI */
    s_expect_error(port, "GET", "/jobs//x", 404);
    assert_non_null(strstr(s_expect_error(port, "GET", "/jobs/nosuchjob", 404), "no such job"));
    s_expect_error(port, "GET", ps_fmt("/jobs/%0100d", 7), 404);
    s_expect_error(port, "GET", "/jobs/a%20b", 404);
    assert_non_null(strstr(s_expect_error(port, "GET", "/taskmanagers/tm-z", 404), "tm-z"));
    for (int i = 0; i < 2; i++) {
        const char *method = i ? "DELETE" : "PUT";
        th_http_t r = th_http(port, method, "/jobs", NULL, 0);
        if (r.status != 405 || !strstr(r.allow, "GET, HEAD, POST"))
            PS_FAIL("%s /jobs: %ld, Allow '%s':\n%s", method, r.status, r.allow, r.body);
    }
    th_http_t head = th_http(port, "HEAD", "/overview", NULL, 0);
    assert_int_equal(head.status, 200);
    assert_string_equal(head.body, "");
    assert_true(tj_get(s_get(port, "/jobs?refresh=1"), "jobs")->n == 1); /* a query: ignored */
    /* a body is bounded (and read, not kept, below the bound) */
    size_t big = (2u << 20);
    char *body = ps_alloc(big);
    memset(body, 'x', big);
    th_http_t r = th_http(port, "GET", "/overview", body, big);
    if (r.status != 413) PS_FAIL("a 2 MiB body: %ld:\n%s", r.status, r.body);
    assert_int_equal(th_http(port, "GET", "/overview", body, 1000).status, 200);
    /* garbage on the port: an HTTP error, and the server answers on */
    int fd = s_connect(port);
    static const char junk[] = "\x01\x02 not http at all\r\n\r\n";
    assert_true(write(fd, junk, sizeof junk - 1) == (ssize_t)(sizeof junk - 1));
    char answer[64] = "";
    ssize_t got = read(fd, answer, sizeof answer - 1);
    close(fd);
    if (got <= 0 || strncmp(answer, "HTTP/1.1 400", 12))
        PS_FAIL("garbage: '%s' (not 400)", got > 0 ? answer : "");
    assert_string_equal(tj_str(s_get(port, "/config"), "weir-version"),
                        tj_str(s_get(port, "/overview"), "weir-version"));
    pc_cluster_stop(&c);
}

/* The admin's (or viewer's) REST token that the group's `weir keygen` made. */
static const char *s_bearer(const char *name)
{
    return ps_fmt("Authorization: Bearer %s", th_rest_token(name));
}

/* method path as admin, with a body: status, and one JSON object, returned. */
static const tj_value_t *s_act(int port, const char *method, const char *path, const char *body,
                               long status)
{
    th_http_t r =
        th_http_with(port, s_bearer("admin"), method, path, body, body ? strlen(body) : 0);
    const tj_value_t *doc = tj_parse(r.body);
    if (r.status != status || !doc || doc->type != TJ_OBJ)
        PS_FAIL("%s %s: %ld (not %ld), or not one JSON object:\n%s", method, path, r.status, status,
                r.body);
    return doc;
}

/* The job's state, as GET /jobs/:id says, once it is want (fails after timeout_ms). */
static void s_wait_state(int port, const char *id, const char *want, int timeout_ms)
{
    const char *state = "";
    for (int64_t until = ps_now_ms() + timeout_ms; ps_now_ms() < until; ps_sleep_ms(50))
        if (!strcmp(state = tj_str(s_get(port, ps_fmt("/jobs/%s", id)), "state"), want)) return;
    PS_FAIL("job %s is %s, not %s, after %d ms", id, state, want, timeout_ms);
}

/* Submit, savepoint, stop, restore and cancel through the REST API, with the bus's roles: the
 * stopped and restored job's output is the uninterrupted run's. */
static void test_acting_endpoints_round_trip(void **state)
{
    (void)state;
    pj_size_t z = {.devices = 40, .rate = 4000, .source_par = 1, .total = 24000};
    const char *out = ps_path("out"), *topology = pj_topology("rt", out, &z);
    pj_output_t want =
        pj_local("ref", pj_topology("ref", ps_path("ref-out"), &z), ps_path("ref-out"), 60000);
    int port = ps_free_port();
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", ps_fmt("rest.port=%d", port), "--set",
                                 "execution.checkpointing.interval=300ms"));
    const char *yaml = ps_read_file(topology);
    size_t len = strlen(yaml);

    /* who may act: an admin's token; none is 401, a viewer's 403, a made-up one 401 */
    th_http_t r = th_http(port, "POST", "/jobs", yaml, len);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "rest-token"));
    r = th_http_with(port, s_bearer("viewer"), "POST", "/jobs", yaml, len);
    if (r.status != 403 || !strstr(r.body, "viewer"))
        PS_FAIL("as viewer: %ld %s", r.status, r.body);
    r = th_http_with(port, ps_fmt("Authorization: Bearer %064d", 7), "POST", "/jobs", yaml, len);
    assert_int_equal(r.status, 401);
    assert_true(tj_get(s_get(port, "/jobs"), "jobs")->n == 0); /* nothing was submitted */

    /* bad submissions: 400 with what is wrong */
    const char *why =
        tj_get(s_act(port, "POST", "/jobs", "name: x\nsources: [", 400), "errors")->items[0]->str;
    assert_non_null(strstr(why, "the request's body"));
    s_act(port, "POST", "/jobs", NULL, 400);
    s_act(port, "POST", "/jobs?parallelism=zero", yaml, 400);

    /* submit; a savepoint of the running job */
    const char *id = tj_str(s_act(port, "POST", "/jobs", yaml, 200), "jobid");
    assert_non_null(id);
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    pj_wait_checkpoint(&c, id, 1, 20000);
    const tj_value_t *bp = s_get(port, ps_fmt("/jobs/%s/vertices/1/backpressure", id));
    assert_string_equal(tj_str(bp, "status"), "ok");
    const char *level = tj_str(bp, "backpressureLevel");
    assert_true(level && (!strcmp(level, "ok") || !strcmp(level, "low") || !strcmp(level, "high")));
    const tj_value_t *bps = tj_get(bp, "subtasks");
    assert_true(bps && bps->type == TJ_ARR && bps->n == 2);
    for (size_t k = 0; k < bps->n; k++) {
        double ratio = tj_num(bps->items[k], "ratio");
        assert_true(tj_num(bps->items[k], "subtask") == k && ratio >= 0 && ratio <= 1);
    }
    s_expect_error(port, "GET", ps_fmt("/jobs/%s/vertices/9/backpressure", id), 404);
    const char *sp_dir = ps_path("savepoints");
    const tj_value_t *sp = s_act(port, "POST", ps_fmt("/jobs/%s/savepoints", id),
                                 ps_fmt("{\"target-directory\": \"%s\"}", sp_dir), 200);
    assert_string_equal(tj_str(tj_get(sp, "status"), "id"), "COMPLETED");
    const char *loc = tj_str(tj_get(sp, "operation"), "location");
    assert_true(loc && !strncmp(loc, sp_dir, strlen(sp_dir)) && access(loc, F_OK) == 0);
    s_act(port, "POST", ps_fmt("/jobs/%s/savepoints", id), "{\"target\": \"/x\"}", 400);
    s_act(port, "POST", ps_fmt("/jobs/%s/savepoints", id), "{\"cancel-job\": 1}", 400);
    r = th_http(port, "GET", ps_fmt("/jobs/%s/savepoints", id), NULL, 0);
    if (r.status != 405 || !strstr(r.allow, "POST") || strstr(r.allow, "GET"))
        PS_FAIL("GET savepoints: %ld '%s'", r.status, r.allow);

    /* stop it with a savepoint in the middle, restore that into a new job, to its end */
    const tj_value_t *stop =
        s_act(port, "POST", ps_fmt("/jobs/%s/stop", id),
              ps_fmt("{\"targetDirectory\": \"%s\", \"drain\": false}", sp_dir), 200);
    const char *stopped_at = tj_str(tj_get(stop, "operation"), "location");
    assert_non_null(stopped_at);
    s_wait_state(port, id, "FINISHED", PC_CLI_MS);
    assert_true(pj_committed(out).n < want.n);
    const char *id2 = tj_str(
        s_act(port, "POST", ps_fmt("/jobs?savepointPath=%s", stopped_at), yaml, 200), "jobid");
    assert_true(id2 && strcmp(id2, id));
    s_wait_state(port, id2, "FINISHED", 60000);
    pj_output_t got = pj_committed(out);
    pj_expect_same("stopped and restored through the REST API", &got, &want);

    /* cancel: a running job's, then what cannot be canceled */
    const char *id3 = tj_str(
        s_act(port, "POST", "/jobs", ps_read_file(pj_topology("c", ps_path("c-out"), &z)), 200),
        "jobid");
    s_act(port, "PATCH", ps_fmt("/jobs/%s", id3), NULL, 400); /* no ?mode=cancel */
    s_act(port, "PATCH", ps_fmt("/jobs/%s?mode=cancel", id3), NULL, 202);
    s_wait_state(port, id3, "CANCELED", PC_CLI_MS);
    s_act(port, "PATCH", ps_fmt("/jobs/%s?mode=cancel", id3), NULL, 400); /* already canceled */
    s_act(port, "PATCH", "/jobs/nosuchjob?mode=cancel", NULL, 404);
    s_act(port, "POST", "/jobs/nosuchjob/stop", NULL, 404);

    /* a token taken off the JobManager's list is refused from the next request on */
    const char *list = ps_fmt("%s/rest-tokens", ps_h.keys), *lines = ps_read_file(list);
    ps_write_file(list, "");
    r = th_http_with(port, s_bearer("admin"), "PATCH", ps_fmt("/jobs/%s?mode=cancel", id3), NULL,
                     0);
    ps_write_file(list, lines);
    assert_int_equal(r.status, 401);
    pc_cluster_stop(&c);
}

/* A port already taken: the JobManager warns and runs on without a REST API. */
static void test_taken_port_leaves_the_jobmanager_running(void **state)
{
    (void)state;
    int port = 0, fd = ps_listen(&port);
    assert_true(fd >= 0);
    pc_cluster_t c = {.ntms = 1};
    pj_cluster_start(&c, PS_ARGV("--set", ps_fmt("rest.port=%d", port)));
    const char *err = ps_read_file(c.jm->err);
    if (!strstr(err, "no REST API") || !strstr(err, "Address already in use"))
        PS_FAIL("the JobManager did not say its REST port is taken:\n%s", err);
    assert_null(strstr(ps_read_file(c.jm->out), "REST API on"));
    ps_result_t r = pc_cli(&c, PS_ARGV("jobs"));
    assert_int_equal(r.code, 0);
    pc_cluster_stop(&c);
    close(fd);
}

static void test_rest_port_minus_one_is_no_rest_api(void **state)
{
    (void)state;
    pc_cluster_t d = {.ntms = 1};
    pj_cluster_start(&d, PS_ARGV("--set", "rest.port=-1"));
    assert_null(strstr(ps_read_file(d.jm->out), "REST API"));
    assert_null(strstr(ps_read_file(d.jm->err), "REST API"));
    pc_cluster_stop(&d);
}

static int s_group_setup(void **state)
{
    (void)state;
    return th_group_setup("test_rest", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_endpoint_against_a_cluster, ps_setup,
                                        ps_teardown),
        cmocka_unit_test_setup_teardown(test_acting_endpoints_round_trip, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_taken_port_leaves_the_jobmanager_running, ps_setup,
                                        ps_teardown),
        cmocka_unit_test_setup_teardown(test_rest_port_minus_one_is_no_rest_api, ps_setup,
                                        ps_teardown),
    };
    return cmocka_run_group_tests_name("weir REST API", tests, s_group_setup, th_group_teardown);
}
