/* The web UI (actors/rest/web/, served from the binary by actors/rest/assets.h) in a real browser.
 *
 * - The assets: GET and HEAD of / and /web/NAME, with their content types; anything else is left
 *   to the REST API.
 * - A real cluster (a `weir jobmanager`, two `weir taskmanager`s) running a paced job, its pages
 *   loaded by Debian's headless Chromium: the overview, the job's page, the actors view and the
 *   JobManager actor's mailbox. Each page must draw (body[data-ready]: twice, so a refresh ran
 *   too), show no error (#weir-errors empty) and log nothing to the browser's console; the DOM
 *   must hold the cluster's figures: the job listed, its vertices (the names `weir job` gives)
 *   with a records/s figure above 0 each, every actor of `weir actors`, and the mailbox's
 *   counters. Each page's screenshot is kept in build/MODE/artefacts/ui/ (beside WEIR_BIN).
 * - The job page's buttons clicked in Chromium driven over the DevTools protocol
 *   (tests/support/browser.h), a token typed as a user types it: refused without one (401) and
 *   with a viewer's (403), the page saying why; with an admin's, Savepoint and Stop leave their
 *   savepoints in the folder typed and Cancel cancels.
 *
 * Chromium runs on virtual time (--virtual-time-budget): its timers, the UI's refreshes among
 * them, run ahead while its requests take real time, so a page's 10 s take about 3 real seconds,
 * most of them Chromium's start. Its rates are then those since the job started: two answers are
 * not a second of the server's clock apart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/rest/assets.h"
#include "bus/base/strbuf.h"
#include "tests/support/browser.h"
#include "tests/support/http.h"
#include "tests/support/jobs.h"
#include "tests/support/json.h"
#include "tests/support/proc_cluster.h"
#include "tests/support/process.h"

#define S_CHROMIUM   TB_CHROMIUM
#define S_BUDGET     "10000" /* ms of virtual time a page gets: three refreshes at 3 s */
#define S_BROWSER_MS 60000   /* real time for one page, Chromium's start included */

/* ---- the assets, without a server ---- */

static void test_assets(void **state)
{
    (void)state;
    wr_http_reply_t reply = {.status = 0};
    wr_strbuf_init(&reply.body);
    assert_true(wr_rest_asset("GET", "/", &reply));
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(reply.body.buf, "<script src=\"web/app.js\">"));
    wr_strbuf_reset(&reply.body);
    assert_true(wr_rest_asset("HEAD", "/web/app.js?v=1", &reply));
    assert_string_equal(reply.content_type, "text/javascript; charset=utf-8");
    assert_non_null(strstr(reply.body.buf, "weir-errors"));
    wr_strbuf_reset(&reply.body);
    assert_true(wr_rest_asset("GET", "/web/style.css", &reply));
    assert_string_equal(reply.content_type, "text/css; charset=utf-8");
    wr_strbuf_reset(&reply.body);
    reply.status = 0;
    const char *others[][2] = {{"POST", "/"},
                               {"GET", "/web/"},
                               {"GET", "/web/app"},
                               {"GET", "/web/app.jsx"},
                               {"GET", "/index.html"},
                               {"GET", "/overview"},
                               {"GET", "/web/../rest.c"}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (wr_rest_asset(others[i][0], others[i][1], &reply))
            fail_msg("%s %s: an asset", others[i][0], others[i][1]);
    assert_int_equal(reply.status, 0);
    assert_int_equal(reply.body.len, 0);
    wr_strbuf_release(&reply.body);
}

/* ---- pages in Chromium ---- */

/* Where the screenshots go: build/MODE/artefacts/ui, beside the weir binary under test. */
static const char *s_artefacts(void)
{
    char *bin = ps_keep(strdup(ps_h.weir));
    const char *dir = ps_fmt("%s/artefacts/ui", dirname(bin));
    for (char *p = (char *)dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    if (mkdir(dir, 0755) && access(dir, W_OK)) PS_FAIL("cannot make %s", dir);
    return dir;
}

/* Chromium's environment: this process's, less what a sanitizer build of this test puts there
 * (Chromium is no ASan build), with its home, configuration and cache in the test's folder. */
static char **s_browser_env(void)
{
    return ps_env(PS_ARGV(PS_ENV_SANITIZERS),
                  PS_ARGV(ps_fmt("HOME=%s", ps_path("browser-home")),
                          ps_fmt("XDG_CONFIG_HOME=%s", ps_path("browser-home/config")),
                          ps_fmt("XDG_CACHE_HOME=%s", ps_path("browser-home/cache"))));
}

/* Loads http://127.0.0.1:port/#/ROUTE in headless Chromium, its screenshot into the artefacts as
 * NAME.png, and returns the page's DOM after S_BUDGET ms of virtual time. Fails unless the page
 * drew at least twice, shows no error and logged nothing to its console. */
static const char *s_page(int port, const char *route, const char *name)
{
    const char *png = ps_fmt("%s/%s.png", s_artefacts(), name);
    unlink(png);
    ps_proc_t *p = ps_start_program(
        name, S_CHROMIUM,
        PS_ARGV("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                ps_fmt("--user-data-dir=%s", ps_path("browser-profile")), "--enable-logging=stderr",
                "--v=0", "--virtual-time-budget=" S_BUDGET, "--window-size=1400,900",
                ps_fmt("--screenshot=%s", png), "--dump-dom",
                ps_fmt("http://127.0.0.1:%d/#/%s", port, route)),
        s_browser_env());
    if (!ps_wait_exit(p, S_BROWSER_MS)) {
        ps_kill9(p);
        PS_FAIL("chromium did not finish %s within %d ms", route, S_BROWSER_MS);
    }
    const char *dom = ps_read_file(p->out), *err = ps_read_file(p->err);
    if (ps_exit_code(p) != 0 || !strstr(dom, "</html>"))
        PS_FAIL("chromium exited %d on %s:\n%s", ps_exit_code(p), route, err);
    ps_release(p);
    struct stat st;
    if (stat(png, &st) || st.st_size < 10000) PS_FAIL("no screenshot of %s in %s", route, png);
    if (strstr(err, "INFO:CONSOLE")) PS_FAIL("%s logged to the console:\n%s", route, err);
    if (!strstr(dom, "<div id=\"weir-errors\" role=\"alert\"></div>"))
        PS_FAIL("%s shows errors:\n%s", route,
                strstr(dom, "weir-errors") ? strstr(dom, "weir-errors") : dom);
    const char *ready = strstr(dom, "data-ready=\"");
    if (!ready || atoi(ready + 12) < 2) PS_FAIL("%s did not draw twice:\n%s", route, dom);
    return dom;
}

/* The number in the attribute `attr="N"` that follows marker in dom; fails when there is none. */
static double s_attr(const char *dom, const char *marker, const char *attr)
{
    const char *at = strstr(dom, marker), *a = at ? strstr(at, ps_fmt("%s=\"", attr)) : NULL;
    if (!a) PS_FAIL("no %s after %s in the page:\n%s", attr, marker, dom);
    return strtod(a + strlen(attr) + 2, NULL);
}

static const char *s_topology(void)
{
    const char *path = ps_path("job.yaml");
    ps_write_file(path, ps_fmt("name: ui-job\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: 200, total: 100000000, rate: 2000, "
                               "seed: 3}\n"
                               "  - {type: generator, devices: 100, total: 100000000, rate: 1000, "
                               "seed: 4}\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 1s}\n"
                               "window: {type: tumbling, size: 1s}\naggregates:\n  n: count()\n"
                               "sinks:\n  - {type: file, path: %s}\n",
                               ps_path("out")));
    return path;
}

/* A cluster serving REST on *port, checkpointing every 500 ms, and the job of s_topology on it,
 * running, with `checkpoints` checkpoints completed: the job's id. */
static const char *s_running_job(pc_cluster_t *c, int *port, long long checkpoints)
{
    if (access(S_CHROMIUM, X_OK)) PS_FAIL("no %s: run deploy/install-deps.sh", S_CHROMIUM);
    *port = ps_free_port();
    pj_cluster_start(c, PS_ARGV("--set", ps_fmt("rest.port=%d", *port), "--set",
                                "execution.checkpointing.interval=500ms"));
    const char *id = pj_submit(c, s_topology());
    pj_wait_job(c, id, "ALL-RUNNING", 0, 30000);
    pj_wait_checkpoint(c, id, checkpoints, 30000);
    return id;
}

static void test_pages_of_a_running_job(void **state)
{
    (void)state;
    int port;
    pc_cluster_t c = {0};
    const char *id = s_running_job(&c, &port, 2);
    /* the last vertex reads: records have gone all the way through */
    const tj_value_t *ops = NULL;
    for (int64_t t0 = ps_now_ms();; ps_poll_pause(100)) {
        ops = tj_get(tj_parse(pj_job(&c, id)), "operators");
        if (ops && ops->n >= 4 && tj_num(ops->items[ops->n - 1], "records_in") > 0) break;
        if (ps_now_ms() - t0 > 30000) PS_FAIL("job %s: no record reached its sink", id);
    }

    const char *dom = s_page(port, "overview", "overview");
    assert_non_null(strstr(dom, ps_fmt("<a href=\"#/jobs/%s\">%s</a>", id, id)));
    assert_non_null(strstr(dom, "<td>ui-job</td>"));
    assert_non_null(strstr(dom, "<dt>TaskManagers</dt><dd>2</dd>"));

    /* the job: each vertex of `weir job`, with its records/s, and the checkpoints' chart */
    dom = s_page(port, ps_fmt("jobs/%s", id), "job");
    for (size_t i = 0; i < ops->n; i++) {
        const char *vertex = ps_fmt("data-vertex=\"%s\"", tj_str(ops->items[i], "name"));
        if (!strstr(dom, vertex)) PS_FAIL("no vertex %s in the graph:\n%s", vertex, dom);
        if (!(s_attr(dom, vertex, "data-in") > 0))
            PS_FAIL("vertex %s reads 0 records/s:\n%s", vertex, dom);
    }
    assert_true(s_attr(dom, "data-vertex=\"generator\"", "data-out") > 0);
    /* the edges of the job's plan: both sources into the window, the window into the sink */
    assert_int_equal(ops->n, 4);
    static const char *const edges[] = {"0-2", "1-2", "2-3"};
    for (size_t i = 0; i < 3; i++)
        if (!strstr(dom, ps_fmt("data-edge=\"%s\"", edges[i])))
            PS_FAIL("no edge %s in the graph:\n%s", edges[i], dom);
    if (strstr(dom, "data-edge=\"0-1\"")) PS_FAIL("an edge between the two sources:\n%s", dom);
    assert_non_null(strstr(dom, "<rect class=\"bar completed\""));
    assert_non_null(strstr(dom, ">Cancel</button>"));
    assert_non_null(strstr(dom, ">Savepoint</button>"));
    assert_non_null(strstr(dom, ">Stop</button>"));

    /* every actor `weir actors` lists, in a sortable table */
    dom = s_page(port, "actors", "actors");
    const tj_value_t *nodes = pc_actors(&c);
    size_t actors = 0;
    for (size_t i = 0; i < nodes->n; i++) {
        const tj_value_t *list = tj_get(nodes->items[i], "actors");
        for (size_t k = 0; list && k < list->n; k++, actors++) {
            const char *row = ps_fmt("<tr data-addr=\"%s\">", tj_str(list->items[k], "addr"));
            if (!strstr(dom, row)) PS_FAIL("no actor row %s:\n%s", row, dom);
        }
    }
    assert_true(actors >= 6 && ps_count(dom, "<tr data-addr=") >= actors);
    assert_non_null(strstr(dom, "<th class=\"desc\" data-key=\"depth\">"));
    assert_non_null(strstr(dom, "<a href=\"#/actors/jm-1/jobmanager\">"));

    /* the JobManager actor's mailbox: its counters, histogram and recent messages */
    dom = s_page(port, "actors/jm-1/jobmanager", "mailbox");
    assert_non_null(strstr(dom, "data-mailbox=\"jm-1/jobmanager\""));
    assert_true(s_attr(dom, "data-counter=\"enqueued\"", "data-value") > 0);
    assert_true(s_attr(dom, "data-counter=\"capacity\"", "data-value") > 0);
    assert_non_null(strstr(dom, "<rect class=\"bar\""));
    /* the UI's own ask among the recent messages, decoded. A busy mailbox samples one payload in
     * eight (actors/runtime/mailbox.h; under ASan the JobManager is busy often): the page is
     * asked again, each ask one more mailbox-req, until one of them was sampled */
    assert_non_null(strstr(dom, "<td>mailbox-req</td>"));
    const char *decoded = "<code>[\"jm-1/jobmanager\",8]</code>";
    for (int i = 0; i < 20 && !strstr(dom, decoded); i++)
        dom = s_page(port, "actors/jm-1/jobmanager", "mailbox");
    if (!strstr(dom, decoded)) PS_FAIL("no decoded mailbox-req of the UI in 21 asks:\n%s", dom);
    pc_cluster_stop(&c);
}

/* ---- the buttons, clicked in Chromium ---- */

/* On the job page open in tab: the REST token field set to token (as a user types it: a change
 * event), the savepoint folder field to folder, then a click on the button label (confirm()
 * answered yes), as a user does. Returns what the page then says: its notice line, or "error: "
 * and its errors. */
static const char *s_click(tb_browser_t *b, const char *tab, const char *token, const char *folder,
                           const char *label)
{
    const char *js = ps_fmt(
        "(async () => {"
        "  const until = async (f, what) => {"
        "    for (let i = 0; i < 600; i++) {"
        "      const v = f(); if (v) return v;"
        "      await new Promise((r) => setTimeout(r, 100));"
        "    }"
        "    throw new Error('no ' + what + ' within 60 s');"
        "  };"
        "  await until(() => document.body.dataset.ready, 'the page drawn');"
        "  window.confirm = () => true;"
        "  const token = document.getElementById('weir-token');"
        "  if (token.value !== %s) {"
        "    token.value = %s; token.dispatchEvent(new Event('change'));"
        "  }"
        "  const button = await until(() => [...document.querySelectorAll('.actions button')]"
        "    .find((e) => e.textContent === %s && !e.disabled), 'button ' + %s);"
        "  const folder = document.querySelector('.actions input');"
        "  folder.value = %s; folder.dispatchEvent(new Event('input'));"
        "  const notice = document.getElementById('weir-notice');"
        "  const errors = document.getElementById('weir-errors');"
        "  notice.textContent = ''; errors.replaceChildren();"
        "  button.click();"
        "  return await until(() => notice.textContent"
        "    || (errors.textContent && 'error: ' + errors.textContent), 'answer');"
        "})()",
        tj_quote(token), tj_quote(token), tj_quote(label), tj_quote(label), tj_quote(folder));
    const char *said = tb_eval(b, tab, js, 70000);
    print_message("  %s: %s\n", label, said);
    return said;
}

/* The Savepoint, Stop and Cancel buttons of a job's page, clicked in a real browser, act as the
 * REST API does: without a token or with a viewer's they are refused with the page saying why and
 * the job running on; with an admin's, a savepoint is written into the folder typed, a stop
 * leaves a savepoint there and the job FINISHED, a cancel leaves the other job CANCELED. */
static void test_buttons_act_on_jobs(void **state)
{
    (void)state;
    int port;
    pc_cluster_t c = {0};
    const char *id = s_running_job(&c, &port, 1);
    tb_browser_t *b = tb_start("browser", s_browser_env());
    const char *tab = tb_open(b, ps_fmt("http://127.0.0.1:%d/#/jobs/%s", port, id));
    const char *folder = ps_path("savepoints");

    const char *said = s_click(b, tab, "", folder, "Savepoint");
    if (!strstr(said, "error: ") || !strstr(said, ": 401 ") || !strstr(said, "REST token"))
        PS_FAIL("a savepoint without a token: '%s'", said);
    said = s_click(b, tab, th_rest_token("viewer"), folder, "Stop");
    if (!strstr(said, "error: ") || !strstr(said, ": 403 "))
        PS_FAIL("a stop with a viewer's token: '%s'", said);
    if (!strstr(pj_job(&c, id), "RUNNING")) PS_FAIL("job %s stopped after a refusal", id);

    const char *admin = th_rest_token("admin");
    said = s_click(b, tab, admin, folder, "Savepoint");
    const char *at = strstr(said, ps_fmt("savepoint %s: COMPLETED at %s/", id, folder));
    if (!at) PS_FAIL("the savepoint button: '%s'", said);
    const char *loc = strstr(at, " at ") + 4;
    if (access(loc, F_OK)) PS_FAIL("no savepoint at %s", loc);

    said = s_click(b, tab, admin, folder, "Stop");
    at = strstr(said, ps_fmt("stop %s: COMPLETED at %s/", id, folder));
    if (!at || access(strstr(at, " at ") + 4, F_OK) || !strcmp(strstr(at, " at ") + 4, loc))
        PS_FAIL("the stop button: '%s' (the savepoint before: %s)", said, loc);
    pj_wait_job(&c, id, "FINISHED", 0, 30000);

    const char *id2 = pj_submit(&c, s_topology());
    pj_wait_job(&c, id2, "ALL-RUNNING", 0, 30000);
    tab = tb_open(b, ps_fmt("http://127.0.0.1:%d/#/jobs/%s", port, id2));
    said = s_click(b, tab, admin, "", "Cancel");
    if (strcmp(said, ps_fmt("cancel %s: accepted", id2))) PS_FAIL("the cancel button: '%s'", said);
    pj_wait_job(&c, id2, "CANCELED", 0, 30000);
    tb_stop(b);
    pc_cluster_stop(&c);
}

static int s_group_setup(void **state)
{
    (void)state;
    return th_group_setup("test_ui", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assets),
        cmocka_unit_test_setup_teardown(test_pages_of_a_running_job, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_buttons_act_on_jobs, ps_setup, ps_teardown),
    };
    return cmocka_run_group_tests_name("weir web UI", tests, s_group_setup, th_group_teardown);
}
