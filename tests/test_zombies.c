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
 * there once: the oracle of exactly-once. tests/support/jobs.h runs the cluster and reads what
 * the CLI says, on the harness of tests/support/process.h (cleanup, logs on failure); an ASan
 * build runs smaller jobs. WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/strbuf.h"
#include "tests/support/jobs.h"

#define S_JOB_MS  120000 /* a job runs to its end, failures included */
#define S_GONE_MS 5000   /* what the issue allows for a zombie to go */

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

/* ---- what `weir actors --json` says (jobs.h reads `weir job`) ---- */

/* `weir actors --json`. */
static const char *s_actors(const pc_cluster_t *c)
{
    ps_result_t r = pc_cli(c, PS_ARGV("actors", "--json"));
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
        const char *addr = pj_jstr(p, "addr");
        if (strstr(addr, prefix)) wr_strbuf_addf(&sb, " %s", addr);
    }
    return ps_keep(wr_strbuf_detach(&sb, NULL));
}

/* True when both TaskManagers are up and report every slot free. */
static bool s_all_slots_free(const char *actors)
{
    for (int i = 0; i < 2; i++) {
        const char *row = s_row(actors, pc_tm_ids[i]);
        if (strcmp(pj_jstr(row, "status"), "up") || pj_jnum(row, "slots") <= 0 ||
            pj_jnum(row, "slots_free") != pj_jnum(row, "slots"))
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

static s_output_t s_output(const char *folder)
{
    pj_output_t committed = pj_committed(folder);
    s_output_t o = {.lines = committed.n, .hidden = committed.hidden};
    char **keys = ps_alloc((committed.n + 1) * sizeof *keys);
    for (size_t i = 0; i < committed.n; i++) {
        const char *line = committed.lines[i];
        o.records += (unsigned long long)pj_jnum(line, "n");
        keys[i] =
            (char *)ps_fmt("%lld@%lld", pj_jnum(line, "device"), pj_jnum(line, "window_start"));
    }
    ps_sort_strings(keys, committed.n);
    for (size_t i = 1; i < committed.n; i++)
        o.duplicates += !strcmp(keys[i - 1], keys[i]);
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
        if (strcmp(e->d_name, pc_tm_ids[0]) && strcmp(e->d_name, pc_tm_ids[1])) {
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
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *id = pj_submit(&c, s_topology("jm-kill", ps_path("out")));
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    if (!s_zombies(s_actors(&c), id, 0)[0]) PS_FAIL("`weir actors` lists no subtask of job %s", id);

    ps_kill9(c.jm);
    ps_release(c.jm);
    pc_jm_start(&c);
    for (int i = 0; i < 2; i++)
        pc_wait_joined(&c, i, 1);
    int64_t t0 = ps_now_ms();
    for (;;) {
        const char *actors = s_actors(&c), *left = s_zombies(actors, id, -1);
        if (!left[0] && s_all_slots_free(actors)) break;
        if (ps_now_ms() - t0 > S_GONE_MS)
            PS_FAIL("%d ms after the TaskManagers registered with the restarted JobManager, "
                    "`weir actors` still lists%s%s; it said: %s",
                    S_GONE_MS, left[0] ? left : " no subtask",
                    s_all_slots_free(actors) ? "" : " and not every slot free", actors);
        ps_poll_pause(100);
    }
    print_message("  the old job's subtasks gone, every slot free, %lld ms after re-registration\n",
                  (long long)(ps_now_ms() - t0));
    const char *jobs = pc_cli(&c, PS_ARGV("jobs", "--json")).out;
    if (strstr(jobs, id)) PS_FAIL("the restarted JobManager lists the old job: %s", jobs);
    pc_cluster_stop(&c);
}

static void test_resumed_taskmanager_cancels_its_lost_attempt(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *out = ps_path("out");
    const char *id = pj_submit(&c, s_topology("paused", out));
    const char *job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    int tm = pj_hosts(job, pc_tm_ids[0]) ? 0 : 1;
    ps_sleep_ms(1500); /* a checkpoint or so */

    assert_int_equal(kill(c.tm[tm]->pid, SIGSTOP), 0);
    if (ps_wait_text(c.jm, c.jm->err, ps_fmt("taskmanager %s is dead", pc_tm_ids[tm]), 1, 6000) < 0)
        PS_FAIL("%s not declared dead", pc_tm_ids[tm]);
    job = pj_wait_job(&c, id, "ALL-RUNNING", 1, S_JOB_MS);
    if (pj_hosts(job, pc_tm_ids[tm]))
        PS_FAIL("the new attempt is on the paused %s: %s", pc_tm_ids[tm], job);
    assert_int_equal(kill(c.tm[tm]->pid, SIGCONT), 0);
    int64_t t0 = ps_now_ms();
    for (;;) {
        const char *left = s_zombies(s_actors(&c), id, 0);
        if (!left[0]) break;
        if (ps_now_ms() - t0 > S_GONE_MS)
            PS_FAIL("%d ms after SIGCONT, `weir actors` still lists attempt 0:%s", S_GONE_MS, left);
        ps_poll_pause(100);
    }
    print_message("  attempt 0 gone from %s %lld ms after SIGCONT\n", pc_tm_ids[tm],
                  (long long)(ps_now_ms() - t0));

    job = pj_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    if (pj_subtasks(job, "finished") != pj_subtasks(job, NULL))
        PS_FAIL("a finished job whose subtasks did not all finish: %s", job);
    s_expect_exactly_once(out);
    pc_cluster_stop(&c);
}

static void test_job_shows_its_subtasks_true_states(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                 "restart-strategy=none"));

    const char *id = pj_submit(&c, s_topology("canceled", ps_path("out-canceled")));
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    ps_result_t r = pc_cli(&c, PS_ARGV("cancel", id));
    if (r.code != 0) PS_FAIL("weir cancel exited %d:\n%s", r.code, r.err);
    const char *job = pj_wait_job(&c, id, "CANCELED", 0, PC_CLI_MS);
    if (!pj_subtasks(job, NULL) || pj_subtasks(job, "canceled") != pj_subtasks(job, NULL))
        PS_FAIL("a canceled job's subtasks are not all canceled: %s", job);

    id = pj_submit(&c, s_topology("stopped", ps_path("out-stopped")));
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    pj_wait_checkpoint(&c, id, 1, PC_CLI_MS);
    r = pc_cli(&c, PS_ARGV("stop", id, "--savepoint", ps_path("sp")));
    if (r.code != 0) PS_FAIL("weir stop exited %d:\n%s", r.code, r.err);
    job = pj_wait_job(&c, id, "FINISHED", 0, PC_CLI_MS);
    if (pj_subtasks(job, "finished") != pj_subtasks(job, NULL))
        PS_FAIL("the subtasks of a job stopped with a savepoint are not all finished: %s", job);

    /* restart-strategy none: the death of a TaskManager fails the job */
    id = pj_submit(&c, s_topology("failed", ps_path("out-failed")));
    job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    ps_kill9(c.tm[0]);
    job = pj_wait_job(&c, id, "FAILED", 0, PC_CLI_MS);
    /* (a subtask's counters follow its state when not 0) */
    size_t on_a = ps_count(job, "{\"node\":\"tm-a\",\"state\":\"failed\"");
    size_t on_b = ps_count(job, "{\"node\":\"tm-b\",\"state\":\"canceled\"");
    if (!on_a || !on_b || on_a + on_b != pj_subtasks(job, NULL))
        PS_FAIL("after tm-a died, not its subtasks failed and the others canceled: %s", job);
    c.tm[0] = NULL; /* killed on purpose */
    pc_cluster_stop(&c);
}

static void test_killed_subtask_rocksdb_store_is_removed(void **state)
{
    (void)state;
    const char *localdir = ps_path("rocksdb");
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                 "state.backend=rocksdb", "--set",
                                 ps_fmt("state.backend.rocksdb.localdir=%s", localdir)));
    const char *out = ps_path("out");
    const char *id = pj_submit(&c, s_topology("rocks", out));
    pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    pj_wait_checkpoint(&c, id, 1, PC_CLI_MS);
    if (!s_stores(localdir)[0]) PS_FAIL("no RocksDB store under %s", localdir);

    ps_kill9(c.tm[0]);
    ps_release(c.tm[0]);
    const char *left = s_stores(localdir);
    pc_tm_start(&c, 0);
    pj_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
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
    pc_cluster_stop(&c);
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
