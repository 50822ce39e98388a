/* `weir local TOPOLOGY` and `weir submit --wait` as a user runs them: their exit codes (a job
 * that finished 0, one that failed 1, one canceled by Ctrl-C 130 and by SIGTERM 143, one stopped
 * after --duration 0 with the summary saying so), Ctrl-C on `weir submit --wait` only stops
 * following (the job runs on), and, under tmux, the live status line on the terminal: drawn in
 * place, never in the middle of a result row, and nothing after the summary line. Real processes
 * (tests/support/process.h); tmux on its own socket, killed in the teardown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/proc_cluster.h"
#include "tests/support/process.h"

#define S_RUN_MS 30000

/* A topology file in the test's folder: an endless paced source (total 0) or a bounded one, into
 * sink (a YAML flow map). */
static const char *s_topology(const char *name, uint64_t total, const char *sink)
{
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(path, ps_fmt("name: %s\nparallelism: 1\n"
                               "sources:\n  - {type: generator, devices: 20, total: %llu, rate: "
                               "%s, seed: 3}\n"
                               "sinks: [%s]\n",
                               name, (unsigned long long)total, total ? "0" : "5000", sink));
    return path;
}

/* An endless job counting readings per device in windows of a minute of event time, to stdout:
 * 5 devices every 10 s of event time at 100 readings a second, so a window fires about 3 times a
 * second, 5 rows each (few enough that a pane's history keeps them all). */
static const char *s_endless(void)
{
    const char *path = ps_path("endless.yaml");
    ps_write_file(path,
                  "name: endless\nparallelism: 2\n"
                  "sources:\n  - {type: generator, devices: 5, total: 0, rate: 100, seed: 3}\n"
                  "key_by: device\n"
                  "event_time: {field: ts, max_out_of_orderness: 2s}\n"
                  "window: {type: tumbling, size: 1min}\n"
                  "aggregates: {n: count()}\n"
                  "sinks: [{type: stdout}]\n");
    return path;
}

/* Starts `weir local` on topology and waits until its job runs and results come. A name of its
 * own: the files of an earlier process of that name would be read before the new one truncates
 * them. */
static ps_proc_t *s_local_running(const char *name, const char *topology)
{
    ps_proc_t *p = ps_start(name, PS_ARGV("local", topology), NULL);
    if (ps_wait_text(p, p->err, "submitted", 1, S_RUN_MS) < 0) PS_FAIL("the job was not submitted");
    if (ps_wait_text(p, p->out, "device=", 1, S_RUN_MS) < 0) PS_FAIL("no results came");
    return p;
}

static void test_a_finished_job_exits_0_and_a_failed_one_1(void **state)
{
    (void)state;
    const char *out = ps_path("short.jsonl");
    ps_result_t r = ps_run(
        "short", PS_ARGV("local", s_topology("short", 1000, ps_fmt("{type: file, path: %s}", out))),
        S_RUN_MS);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err, "FINISHED"));
    r = ps_run("fails",
               PS_ARGV("local", s_topology("fails", 1000,
                                           "{type: file, path: /proc/no/such/folder/out.jsonl}")),
               S_RUN_MS);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "FAILED"));
}

/* Ctrl-C cancels the job: the shell sees 130 (128 + SIGINT); SIGTERM: 143. */
static void test_ctrl_c_cancels_the_job_and_exits_130(void **state)
{
    (void)state;
    const char *topology = s_endless();
    static const int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < 2; i++) {
        ps_proc_t *p = s_local_running(sigs[i] == SIGINT ? "sigint" : "sigterm", topology);
        assert_int_equal(kill(p->pid, sigs[i]), 0);
        if (!ps_wait_exit(p, S_RUN_MS)) PS_FAIL("weir local did not exit after a signal");
        assert_int_equal(ps_exit_code(p), 128 + sigs[i]);
        char *err = ps_read_file(p->err);
        if (!strstr(err, "CANCELED"))
            PS_FAIL("no CANCELED summary after signal %d:\n%s", sigs[i], err);
        assert_false(ps_sanitizer_report(err));
        ps_release(p);
    }
}

/* --duration with a topology stops the job after that long: what the user asked for, so exit 0,
 * and the summary says why it stopped. */
static void test_duration_stops_the_job_and_exits_0(void **state)
{
    (void)state;
    ps_result_t r = ps_run("duration", PS_ARGV("local", s_endless(), "--duration", "1"), S_RUN_MS);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err, "CANCELED (stopped after --duration 1 s)"));
    assert_true(r.ms >= 1000);
    assert_true(r.ms < 1000 + S_RUN_MS / 2);
}

/* Ctrl-C on `weir submit --wait` stops following, as Flink's CLI detaches: 130, and the job
 * runs on until `weir cancel`. */
static void test_ctrl_c_on_submit_wait_only_stops_following(void **state)
{
    (void)state;
    pc_cluster_t c = {.ntms = 1};
    pc_cluster_start(&c);
    const char *topology = s_topology("followed", 0, "{type: collect}");
    ps_proc_t *p =
        ps_start("submit", PS_ARGV("submit", topology, "--wait", "--jobmanager", c.endpoint), NULL);
    if (ps_wait_text(p, p->err, "submitted", 1, S_RUN_MS) < 0) PS_FAIL("the job was not submitted");
    char *err = ps_read_file(p->err);
    const char *at = strstr(err, "job ");
    assert_non_null(at);
    char id[32] = "";
    assert_int_equal(sscanf(at, "job %31s", id), 1);
    assert_int_equal(kill(p->pid, SIGINT), 0);
    if (!ps_wait_exit(p, S_RUN_MS)) PS_FAIL("weir submit --wait did not exit after SIGINT");
    assert_int_equal(ps_exit_code(p), 130);
    assert_non_null(strstr(ps_read_file(p->err), "stopped following"));
    ps_release(p);
    /* the job runs on: RUNNING (it may still be CREATED, waiting for its deploy, on a busy
     * machine; it must not end) */
    ps_result_t r;
    int64_t deadline = ps_now_ms() + S_RUN_MS;
    do {
        r = pc_cli(&c, PS_ARGV("job", id));
        assert_int_equal(r.code, 0);
        if (!strstr(r.out, "CREATED")) break;
        ps_poll_pause(100);
    } while (ps_now_ms() < deadline);
    if (!strstr(r.out, "RUNNING")) PS_FAIL("the job does not run on:\n%s", r.out);
    r = pc_cli(&c, PS_ARGV("cancel", id));
    assert_int_equal(r.code, 0);
    pc_cluster_stop(&c);
}

/* ---- under tmux: the terminal a user sees ---- */

static char s_tmux[64]; /* the tmux socket of the running test ("" when none) */

static int s_tmux_teardown(void **state)
{
    if (s_tmux[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "tmux -L %s kill-server >/dev/null 2>&1", s_tmux);
        if (system(cmd) == -1) perror("tmux kill-server");
        s_tmux[0] = '\0';
    }
    return ps_teardown(state);
}

static int s_tmux_run(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tmux -L %s %s", s_tmux, args);
    return system(cmd);
}

/* The pane's text, kept until the test ends. */
static const char *s_pane(void)
{
    const char *file = ps_path("pane.txt");
    if (s_tmux_run(ps_fmt("capture-pane -p -J -S -5000 > %s", file))) return "";
    return ps_read_file(file);
}

/* The last line of text that is not empty, kept until the test ends ("" when none). */
static const char *s_last_line(const char *text)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    return ps_fmt("%.*s", (int)(end - start), start);
}

/* A status line with rates and a watermark as a time. */
static bool s_is_status(const char *line)
{
    return !strncmp(line, "RUNNING ", 8) && strstr(line, "/s)  out ") &&
           strstr(line, "watermark 20");
}

/* `weir local TOPOLOGY` in a terminal: the status line shows counts with separators and rates,
 * results are whole rows (never a status line inside one), Ctrl-C exits 130, and the summary is the
 * last thing weir prints. */
static void s_tmux_ctrl_c(const char *topology)
{
    if (system("tmux -V >/dev/null 2>&1"))
        fail_msg("tmux is not installed: deploy/install-deps.sh installs it (Debian package tmux)");
    /* a socket of this test's own: a server the previous test's teardown killed may still be on
     * its way out on the last one ("server exited unexpectedly", once under ASan) */
    static int runs;
    snprintf(s_tmux, sizeof s_tmux, "weir-test-%ld-%d", (long)getpid(), ++runs);
    const char *code = ps_path("exit-code");
    const char *cmd = ps_fmt("%s local %s; echo $? > %s; sleep 600", ps_h.weir, topology, code);
    assert_int_equal(s_tmux_run(ps_fmt("new-session -d -x 220 -y 50 '%s'", cmd)), 0);
    /* the status line, with rates (two polls in) and a watermark, on the last line: drawn again
     * after the rows that came (without the relay, rows would follow it) */
    const char *pane = "", *last = "";
    int64_t deadline = ps_now_ms() + S_RUN_MS;
    while (!s_is_status(last) && ps_now_ms() < deadline) {
        ps_sleep_ms(200);
        pane = s_pane();
        last = s_last_line(pane);
    }
    if (!s_is_status(last)) PS_FAIL("no status line at the bottom of the pane:\n%s", pane);
    assert_null(strstr(last, "device="));
    ps_sleep_ms(1500);
    assert_int_equal(s_tmux_run("send-keys C-c"), 0);
    char *exit_code = NULL;
    deadline = ps_now_ms() + S_RUN_MS;
    while (!(exit_code = ps_read_file(code))[0] && ps_now_ms() < deadline)
        ps_sleep_ms(100);
    pane = s_pane();
    if (!exit_code[0]) PS_FAIL("weir local did not exit after Ctrl-C:\n%s", pane);
    assert_int_equal(atoi(exit_code), 130);
    /* every line is a whole result row or a line of weir's own; the summary is the last. One row
     * may end in the terminal's own echo of the keystroke, "^C": the line discipline echoes it
     * where the cursor is and, on SIGINT, discards the output still queued for the terminal
     * (POSIX, NOFLSH unset), the rest of a row weir wrote whole included */
    const char *summary = strstr(pane, "weir: job ");
    size_t rows = 0, cut_by_tty = 0;
    for (const char *l = pane; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        size_t n = strcspn(l, "\n");
        if (!n) continue;
        const char *line = ps_fmt("%.*s", (int)n, l);
        if (!strncmp(line, "device=", 7)) {
            rows++;
            size_t len = strlen(line);
            if (len > 2 && !strcmp(line + len - 2, "^C") && !strstr(line, "RUNNING") &&
                !cut_by_tty++)
                continue;
            if (!strstr(line, " n=") || strstr(line, "RUNNING"))
                PS_FAIL("a torn result row: '%s' in\n%s", line, pane);
        } else if (strstr(line, "RUNNING ") && strstr(line, "device=")) {
            PS_FAIL("a status line inside a result row: '%s'", line);
        }
    }
    assert_true(rows > 0);
    while (summary && strstr(summary + 1, "weir: job "))
        summary = strstr(summary + 1, "weir: job ");
    assert_non_null(summary);
    assert_non_null(strstr(summary, "CANCELED"));
    const char *after = strchr(summary, '\n');
    while (after && *after == '\n')
        after++;
    if (after && *after) PS_FAIL("printed after the summary: '%s'", after);
}

static void test_under_tmux_the_status_line_and_ctrl_c(void **state)
{
    (void)state;
    s_tmux_ctrl_c(s_endless());
}

/* The same with results as fast as the terminal takes them: the sinks block on the relay's full
 * pipe when Ctrl-C comes, and must still stop (no deadlock), before the summary. */
static void test_under_tmux_ctrl_c_while_results_flood_the_terminal(void **state)
{
    (void)state;
    const char *path = ps_path("flood.yaml");
    ps_write_file(path,
                  "name: flood\nparallelism: 2\n"
                  "sources:\n  - {type: generator, devices: 5000, total: 0, rate: 0, seed: 3}\n"
                  "key_by: device\n"
                  "event_time: {field: ts, max_out_of_orderness: 2s}\n"
                  "window: {type: tumbling, size: 10s}\n"
                  "aggregates: {n: count()}\n"
                  "sinks: [{type: stdout}]\n");
    s_tmux_ctrl_c(path);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_local_cli", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_a_finished_job_exits_0_and_a_failed_one_1),
        S_TEST(test_ctrl_c_cancels_the_job_and_exits_130),
        S_TEST(test_duration_stops_the_job_and_exits_0),
        S_TEST(test_ctrl_c_on_submit_wait_only_stops_following),
        cmocka_unit_test_setup_teardown(test_under_tmux_the_status_line_and_ctrl_c, ps_setup,
                                        s_tmux_teardown),
        cmocka_unit_test_setup_teardown(test_under_tmux_ctrl_c_while_results_flood_the_terminal,
                                        ps_setup, s_tmux_teardown),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir local and submit --wait on a terminal", tests,
                                       s_group_setup, ps_group_teardown);
}
