/* No zombie subtasks: a subtask whose attempt the current JobManager does not own is stopped,
 * checked with real `weir` processes on loopback (a JobManager, TaskManagers tm-a and tm-b with
 * two slots each):
 *
 *   - the JobManager of a running job is killed -9 and restarted: within 5 s of the TaskManagers
 *     registering with the new one, `weir actors` lists no subtask of the old job and every
 *     TaskManager reports all its slots free
 *   - a TaskManager paused (SIGSTOP) past heartbeat.timeout is declared dead and the job restarts
 *     on the other one; once it resumes (SIGCONT), within 5 s none of its old subtasks remain, and
 *     the job still finishes exactly once: every record counted in exactly one window, once, and
 *     no hidden part file of any attempt left in the sink's folder
 *   - `weir job --json` shows the subtasks of a canceled job as canceled, of a job stopped with a
 *     savepoint as finished, and of a job that failed when a TaskManager died as failed (on it)
 *     and canceled (elsewhere)
 *   - the RocksDB store of a subtask whose TaskManager was killed -9 is gone once the job ended
 *     (the restarted TaskManager removes what its earlier process left)
 *
 * The job: a paced generator keyed by device into a tumbling window counting records, into an
 * exactly-once file sink. With jitter within max_out_of_orderness nothing is late, so the sum of
 * the counts over the committed output is the number of records, and each (device, window) is
 * there once: the oracle of exactly-once. tests/support/process.h is the harness (cleanup, logs
 * on failure); an ASan build runs smaller jobs. WEIR_TEST_FILTER=PATTERN runs only the matching
 * tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/strbuf.h"
#include "tests/support/process.h"

#define S_START_MS 15000  /* a daemon starts; a TaskManager registers */
#define S_CLI_MS   20000  /* one CLI command (ASan builds start slowly) */
#define S_JOB_MS   120000 /* a job runs to its end, failures included */
#define S_GONE_MS  5000   /* what the issue allows for a zombie to go */

static const char *const S_TM[] = {"tm-a", "tm-b"};

/* The job: its records, and a rate that keeps it running ~15 s (ASan: smaller, as long). */
typedef struct {
    unsigned devices, total, rate;
} s_size_t;

static s_size_t s_size(void)
{
    return ps_h.asan ? (s_size_t){200, 300000, 20000} : (s_size_t){500, 1500000, 100000};
}

/* Writes the job's topology (sink into the folder out) and returns its path. */
static const char *s_topology(const char *name, const char *out)
{
    s_size_t z = s_size();
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(path, ps_fmt("name: %s\nparallelism: 2\nsources:\n"
                               "  - {type: generator, devices: %u, total: %u, rate: %u, "
                               "jitter: 1s, late_fraction: 0, seed: 11}\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                               "window: {type: tumbling, size: 1min}\naggregates:\n  n: count()\n"
                               "sinks:\n  - {type: file, path: %s, exactly_once: true}\n",
                               name, z.devices, z.total, z.rate, out));
    return path;
}

/* ---- the cluster ---- */

typedef struct {
    char endpoint[64];
    const char *const *jm_settings; /* more flags for the JobManager */
    ps_proc_t *jm, *tm[2];
    int jm_starts, tm_starts[2];
} s_cluster_t;

/* Starts the JobManager (again on the same endpoint once it has one). */
static void s_jm_start(s_cluster_t *c)
{
    for (int tries = 0;; tries++) {
        bool fresh = !c->endpoint[0];
        if (fresh) snprintf(c->endpoint, sizeof c->endpoint, "tcp://127.0.0.1:%d", ps_free_port());
        const char *argv[PS_MAX_ARGS + 1];
        size_t n =
            ps_append(argv, 0,
                      PS_ARGV("jobmanager", "--bind", c->endpoint, "--set", "heartbeat.timeout=2s",
                              "--set", ps_fmt("state.checkpoints.dir=%s", ps_path("ck"))));
        ps_append(argv, n, c->jm_settings);
        c->jm = ps_start(ps_fmt("jm.%d", ++c->jm_starts), argv, ps_h.daemon_env);
        if (ps_wait_text(c->jm, c->jm->out, "listening on", 1, S_START_MS) >= 0) return;
        if (fresh && tries < 3 && !ps_running(c->jm)) { /* the port was taken in between */
            ps_release(c->jm);
            c->endpoint[0] = '\0';
            continue;
        }
        PS_FAIL("the JobManager did not start on %s", c->endpoint);
    }
}

/* Waits until the current JobManager registered TaskManager i and heard its heartbeat. */
static void s_registered(s_cluster_t *c, int i)
{
    if (ps_wait_text(c->jm, c->jm->err, ps_fmt("taskmanager %s registered", S_TM[i]), 1,
                     S_START_MS) < 0 ||
        ps_wait_text(c->jm, c->jm->err, ps_fmt("peer %s up", S_TM[i]), 1, S_START_MS) < 0)
        PS_FAIL("TaskManager %s did not register", S_TM[i]);
}

static void s_tm_start(s_cluster_t *c, int i)
{
    c->tm[i] = ps_start(ps_fmt("%s.%d", S_TM[i], ++c->tm_starts[i]),
                        PS_ARGV("taskmanager", "--jobmanager", c->endpoint, "--id", S_TM[i],
                                "--slots", "2", "--set", "heartbeat.timeout=2s"),
                        ps_h.daemon_env);
}

static void s_cluster_start(s_cluster_t *c)
{
    s_jm_start(c);
    for (int i = 0; i < 2; i++)
        s_tm_start(c, i);
    for (int i = 0; i < 2; i++)
        s_registered(c, i);
}

/* SIGTERM to every daemon still running: each must exit 0 (under ASan: no leak, no report). */
static void s_cluster_stop(s_cluster_t *c)
{
    ps_proc_t *all[] = {c->tm[0], c->tm[1], c->jm};
    for (size_t i = 0; i < 3; i++)
        if (ps_running(all[i])) kill(all[i]->pid, SIGTERM);
    for (size_t i = 0; i < 3; i++) {
        if (!all[i] || !all[i]->used) continue;
        if (!ps_wait_exit(all[i], S_CLI_MS)) PS_FAIL("%s did not exit after SIGTERM", all[i]->name);
        if (ps_exit_code(all[i]) != 0 || ps_sanitizer_report(ps_read_file(all[i]->err)))
            PS_FAIL("%s exited %d after SIGTERM", all[i]->name, ps_exit_code(all[i]));
    }
}

/* `weir ARGS --jobmanager <endpoint>`, to completion. */
static ps_result_t s_cli(const s_cluster_t *c, const char *const args[])
{
    const char *argv[PS_MAX_ARGS + 1];
    size_t n = ps_append(argv, 0, args);
    ps_append(argv, n, PS_ARGV("--jobmanager", c->endpoint, "--set", "client.timeout=2s"));
    return ps_run("cli", argv, S_CLI_MS);
}

static const char *s_submit(const s_cluster_t *c, const char *topology)
{
    ps_result_t r = s_cli(c, PS_ARGV("submit", topology));
    char id[32];
    if (r.code != 0 || sscanf(r.out, "%31s", id) != 1)
        PS_FAIL("weir submit exited %d:\n%s%s", r.code, r.out, r.err);
    return ps_fmt("%s", id);
}

/* ---- reading the compact JSON the CLI prints ---- */

/* The string value of the first "field" at or after text ("" when there is none). */
static const char *s_jstr(const char *text, const char *field)
{
    const char *key = ps_fmt("\"%s\":\"", field), *at = strstr(text, key);
    if (!at) return "";
    at += strlen(key);
    return ps_fmt("%.*s", (int)strcspn(at, "\""), at);
}

/* The number value of the first "field" at or after text (-1 when there is none). */
static long long s_jnum(const char *text, const char *field)
{
    const char *key = ps_fmt("\"%s\":", field), *at = strstr(text, key);
    return at ? strtoll(at + strlen(key), NULL, 10) : -1;
}

/* `weir job ID --json` ("" when it failed). The job's own state comes before its subtasks'. */
static const char *s_job(const s_cluster_t *c, const char *id)
{
    ps_result_t r = s_cli(c, PS_ARGV("job", id, "--json"));
    return r.code == 0 ? r.out : "";
}

/* How many subtasks of a `weir job --json` answer are in state (NULL: any state). */
static size_t s_subtasks(const char *job, const char *state)
{
    if (!state) return ps_count(job, "{\"node\":");
    size_t n = 0;
    for (const char *p = job; (p = strstr(p, "{\"node\":")); p++)
        n += !strcmp(s_jstr(p, "state"), state);
    return n;
}

/* Asks `weir job` until the job is in state (or "ALL-RUNNING": RUNNING with every subtask
 * running, in attempt min_attempt or later); returns that answer. Fails at the deadline or when
 * the job ends otherwise. */
static const char *s_wait_job(const s_cluster_t *c, const char *id, const char *state,
                              long long min_attempt, int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    bool all = !strcmp(state, "ALL-RUNNING");
    for (;;) {
        const char *job = s_job(c, id), *now = s_jstr(job, "state");
        if (all ? !strcmp(now, "RUNNING") && s_subtasks(job, NULL) &&
                      s_subtasks(job, "running") == s_subtasks(job, NULL) &&
                      s_jnum(job, "attempt") >= min_attempt
                : !strcmp(now, state))
            return job;
        bool over = !strcmp(now, "FINISHED") || !strcmp(now, "FAILED") || !strcmp(now, "CANCELED");
        if (over || ps_now_ms() - t0 > timeout_ms)
            PS_FAIL("job %s is %s, not %s, after %lld ms: %s", id, now[0] ? now : "unknown", state,
                    (long long)(ps_now_ms() - t0), job);
        ps_sleep_ms(50);
    }
}

/* `weir actors --json`. */
static const char *s_actors(const s_cluster_t *c)
{
    ps_result_t r = s_cli(c, PS_ARGV("actors", "--json"));
    if (r.code != 0) PS_FAIL("weir actors --json exited %d:\n%s", r.code, r.err);
    return r.out;
}

/* The row of node in a `weir actors --json` answer, up to the next row ("" when absent). */
static const char *s_row(const char *actors, const char *node)
{
    const char *at = strstr(actors, ps_fmt("{\"node\":\"%s\"", node));
    if (!at) return "";
    const char *next = strstr(at + 1, "{\"node\":");
    return ps_fmt("%.*s", next ? (int)(next - at) : (int)strlen(at), at);
}

/* The subtask actors of job (attempt -1: any) that `weir actors` lists, space-separated. */
static const char *s_zombies(const char *actors, const char *job, int attempt)
{
    const char *prefix =
        attempt < 0 ? ps_fmt("/job-%s-", job) : ps_fmt("/job-%s-%d/", job, attempt);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (const char *p = actors; (p = strstr(p, "\"addr\":\"")); p++) {
        const char *addr = s_jstr(p, "addr");
        if (strstr(addr, prefix)) wr_strbuf_addf(&sb, " %s", addr);
    }
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

/* True when both TaskManagers are up and report every slot free. */
static bool s_all_slots_free(const char *actors)
{
    for (int i = 0; i < 2; i++) {
        const char *row = s_row(actors, S_TM[i]);
        if (strcmp(s_jstr(row, "status"), "up") || s_jnum(row, "slots") <= 0 ||
            s_jnum(row, "slots_free") != s_jnum(row, "slots"))
            return false;
    }
    return true;
}

/* ---- the sink's folder ---- */

typedef struct {
    unsigned long long records; /* the sum of the counts */
    size_t lines, duplicates;
    const char *hidden; /* names of files that are not committed part files, or "" */
} s_output_t;

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static s_output_t s_output(const char *folder)
{
    s_output_t o = {.hidden = ""};
    DIR *d = opendir(folder);
    if (!d) PS_FAIL("%s: %s", folder, strerror(errno));
    wr_strbuf_t hidden, keys;
    wr_strbuf_init(&hidden);
    wr_strbuf_init(&keys);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strncmp(e->d_name, "part-", 5) || len < 6 || strcmp(e->d_name + len - 6, ".jsonl")) {
            wr_strbuf_addf(&hidden, " %s", e->d_name);
            continue;
        }
        char *text = ps_read_file(ps_fmt("%s/%s", folder, e->d_name));
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            o.lines++;
            o.records += (unsigned long long)s_jnum(line, "n");
            wr_strbuf_addf(&keys, "%lld@%lld\n", s_jnum(line, "device"),
                           s_jnum(line, "window_start"));
        }
    }
    closedir(d);
    o.hidden = ps_keep(wr_strbuf_detach(&hidden, NULL));
    char *all = ps_keep(wr_strbuf_detach(&keys, NULL));
    char **sorted = ps_alloc((o.lines + 1) * sizeof *sorted);
    size_t n = 0;
    for (char *k = strtok(all, "\n"); k && n < o.lines; k = strtok(NULL, "\n"))
        sorted[n++] = k;
    qsort(sorted, n, sizeof *sorted, s_cmp_str);
    for (size_t i = 1; i < n; i++)
        o.duplicates += !strcmp(sorted[i - 1], sorted[i]);
    return o;
}

/* Fails unless the folder holds the job's output exactly once and nothing uncommitted. */
static void s_expect_exactly_once(const char *folder)
{
    s_output_t o = s_output(folder);
    print_message("  %zu results counting %llu records; %zu duplicated; hidden files:%s\n", o.lines,
                  o.records, o.duplicates, o.hidden[0] ? o.hidden : " none");
    if (o.records != s_size().total || o.duplicates || o.hidden[0])
        PS_FAIL("the output counts %llu records of %u, %zu results twice, and leaves%s", o.records,
                s_size().total, o.duplicates, o.hidden[0] ? o.hidden : " nothing");
}

/* What the RocksDB localdir holds but the TaskManagers' own folders and their lock files: the
 * stores of subtasks, space-separated ("" none). */
static const char *s_stores(const char *localdir)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    DIR *d = opendir(localdir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strcmp(e->d_name, S_TM[0]) && strcmp(e->d_name, S_TM[1])) {
            wr_strbuf_addf(&sb, " %s", e->d_name);
            continue;
        }
        DIR *in = opendir(ps_fmt("%s/%s", localdir, e->d_name));
        for (struct dirent *f; in && (f = readdir(in));)
            if (f->d_name[0] != '.') wr_strbuf_addf(&sb, " %s/%s", e->d_name, f->d_name);
        if (in) closedir(in);
    }
    if (d) closedir(d);
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

/* ---- the tests ---- */

static void test_restarted_jobmanager_leaves_no_zombie(void **state)
{
    (void)state;
    s_cluster_t c = {.jm_settings = PS_ARGV("--set", "execution.checkpointing.interval=1s")};
    s_cluster_start(&c);
    const char *id = s_submit(&c, s_topology("jm-kill", ps_path("out")));
    s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    if (!s_zombies(s_actors(&c), id, 0)[0]) PS_FAIL("`weir actors` lists no subtask of job %s", id);

    ps_kill9(c.jm);
    ps_release(c.jm);
    s_jm_start(&c);
    for (int i = 0; i < 2; i++)
        s_registered(&c, i);
    int64_t t0 = ps_now_ms();
    for (;;) {
        const char *actors = s_actors(&c), *left = s_zombies(actors, id, -1);
        if (!left[0] && s_all_slots_free(actors)) break;
        if (ps_now_ms() - t0 > S_GONE_MS)
            PS_FAIL("%d ms after the TaskManagers registered with the restarted JobManager, "
                    "`weir actors` still lists%s%s; it said: %s",
                    S_GONE_MS, left[0] ? left : " no subtask",
                    s_all_slots_free(actors) ? "" : " and not every slot free", actors);
        ps_sleep_ms(100);
    }
    print_message("  the old job's subtasks gone, every slot free, %lld ms after re-registration\n",
                  (long long)(ps_now_ms() - t0));
    const char *jobs = s_cli(&c, PS_ARGV("jobs", "--json")).out;
    if (strstr(jobs, id)) PS_FAIL("the restarted JobManager lists the old job: %s", jobs);
    s_cluster_stop(&c);
}

static void test_resumed_taskmanager_cancels_its_lost_attempt(void **state)
{
    (void)state;
    s_cluster_t c = {.jm_settings = PS_ARGV("--set", "execution.checkpointing.interval=1s")};
    s_cluster_start(&c);
    const char *out = ps_path("out");
    const char *id = s_submit(&c, s_topology("paused", out));
    const char *job = s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    int tm = strstr(job, "{\"node\":\"tm-a\"") ? 0 : 1;
    ps_sleep_ms(1500); /* a checkpoint or so */

    assert_int_equal(kill(c.tm[tm]->pid, SIGSTOP), 0);
    if (ps_wait_text(c.jm, c.jm->err, ps_fmt("taskmanager %s is dead", S_TM[tm]), 1, 6000) < 0)
        PS_FAIL("%s not declared dead", S_TM[tm]);
    job = s_wait_job(&c, id, "ALL-RUNNING", 1, S_JOB_MS);
    if (strstr(job, ps_fmt("{\"node\":\"%s\"", S_TM[tm])))
        PS_FAIL("the new attempt is on the paused %s: %s", S_TM[tm], job);
    assert_int_equal(kill(c.tm[tm]->pid, SIGCONT), 0);
    int64_t t0 = ps_now_ms();
    for (;;) {
        const char *left = s_zombies(s_actors(&c), id, 0);
        if (!left[0]) break;
        if (ps_now_ms() - t0 > S_GONE_MS)
            PS_FAIL("%d ms after SIGCONT, `weir actors` still lists attempt 0:%s", S_GONE_MS, left);
        ps_sleep_ms(100);
    }
    print_message("  attempt 0 gone from %s %lld ms after SIGCONT\n", S_TM[tm],
                  (long long)(ps_now_ms() - t0));

    job = s_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    if (s_subtasks(job, "finished") != s_subtasks(job, NULL))
        PS_FAIL("a finished job whose subtasks did not all finish: %s", job);
    s_expect_exactly_once(out);
    s_cluster_stop(&c);
}

static void test_job_shows_its_subtasks_true_states(void **state)
{
    (void)state;
    s_cluster_t c = {.jm_settings = PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                            "restart-strategy=none")};
    s_cluster_start(&c);

    const char *id = s_submit(&c, s_topology("canceled", ps_path("out-canceled")));
    s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    ps_result_t r = s_cli(&c, PS_ARGV("cancel", id));
    if (r.code != 0) PS_FAIL("weir cancel exited %d:\n%s", r.code, r.err);
    const char *job = s_wait_job(&c, id, "CANCELED", 0, S_CLI_MS);
    if (!s_subtasks(job, NULL) || s_subtasks(job, "canceled") != s_subtasks(job, NULL))
        PS_FAIL("a canceled job's subtasks are not all canceled: %s", job);

    id = s_submit(&c, s_topology("stopped", ps_path("out-stopped")));
    s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    for (int64_t t0 = ps_now_ms(); s_jnum(s_job(&c, id), "latest_checkpoint") < 1;) {
        if (ps_now_ms() - t0 > S_CLI_MS) PS_FAIL("no checkpoint of job %s", id);
        ps_sleep_ms(100);
    }
    r = s_cli(&c, PS_ARGV("stop", id, "--savepoint", ps_path("sp")));
    if (r.code != 0) PS_FAIL("weir stop exited %d:\n%s", r.code, r.err);
    job = s_wait_job(&c, id, "FINISHED", 0, S_CLI_MS);
    if (s_subtasks(job, "finished") != s_subtasks(job, NULL))
        PS_FAIL("the subtasks of a job stopped with a savepoint are not all finished: %s", job);

    /* restart-strategy none: the death of a TaskManager fails the job */
    id = s_submit(&c, s_topology("failed", ps_path("out-failed")));
    job = s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    ps_kill9(c.tm[0]);
    job = s_wait_job(&c, id, "FAILED", 0, S_CLI_MS);
    size_t on_a = ps_count(job, "{\"node\":\"tm-a\",\"state\":\"failed\"}");
    size_t on_b = ps_count(job, "{\"node\":\"tm-b\",\"state\":\"canceled\"}");
    if (!on_a || !on_b || on_a + on_b != s_subtasks(job, NULL))
        PS_FAIL("after tm-a died, not its subtasks failed and the others canceled: %s", job);
    c.tm[0] = NULL; /* killed on purpose */
    s_cluster_stop(&c);
}

static void test_killed_subtask_rocksdb_store_is_removed(void **state)
{
    (void)state;
    const char *localdir = ps_path("rocksdb");
    s_cluster_t c = {.jm_settings = PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                            "state.backend=rocksdb", "--set",
                                            ps_fmt("state.backend.rocksdb.localdir=%s", localdir))};
    s_cluster_start(&c);
    const char *out = ps_path("out");
    const char *id = s_submit(&c, s_topology("rocks", out));
    s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    for (int64_t t0 = ps_now_ms(); s_jnum(s_job(&c, id), "latest_checkpoint") < 1;) {
        if (ps_now_ms() - t0 > S_CLI_MS) PS_FAIL("no checkpoint of job %s", id);
        ps_sleep_ms(100);
    }
    if (!s_stores(localdir)[0]) PS_FAIL("no RocksDB store under %s", localdir);

    ps_kill9(c.tm[0]);
    ps_release(c.tm[0]);
    const char *left = s_stores(localdir);
    s_tm_start(&c, 0);
    s_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    int64_t t0 = ps_now_ms();
    while (s_stores(localdir)[0]) {
        if (ps_now_ms() - t0 > S_GONE_MS)
            PS_FAIL("%d ms after the job finished, %s still holds:%s (after the kill:%s)",
                    S_GONE_MS, localdir, s_stores(localdir), left);
        ps_sleep_ms(100);
    }
    print_message("  stores after the kill:%s; none %lld ms after the end\n", left,
                  (long long)(ps_now_ms() - t0));
    s_expect_exactly_once(out);
    s_cluster_stop(&c);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_zombies", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_restarted_jobmanager_leaves_no_zombie),
        S_TEST(test_resumed_taskmanager_cancels_its_lost_attempt),
        S_TEST(test_job_shows_its_subtasks_true_states),
        S_TEST(test_killed_subtask_rocksdb_store_is_removed),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir zombies: no subtask outlives its attempt", tests,
                                       s_group_setup, ps_group_teardown);
}
