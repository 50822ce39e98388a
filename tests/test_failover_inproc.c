/* Failover in one process (tests/support/cluster.h): a TaskManager is lost while a job runs, and
 * the job fails over to the restart strategy and finishes with the output of a run that nothing
 * interrupted, line for line (sums bit for bit: each device's readings reach its window through one
 * channel, in offset order). From the start without checkpoints, or from the latest completed
 * checkpoint into an exactly-once file sink; on the TaskManager left when it has the slots, or
 * once the lost one is back; and without a restart strategy the job fails and says why. The same
 * with real processes and kill -9: test_recovery.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/strbuf.h"
#include "bus/messages.h"
#include "tests/support/cluster.h"
#include "tests/support/wait.h"

#define S_TOTAL 60000 /* readings of a job */
#define S_RATE  20000 /* per second when paced: a job of 3 s, long enough to lose a TaskManager */

/* The job: readings of 100 devices summed per device in 1-minute tumbling windows, at
 * parallelism 2, into a collect sink, or an exactly-once file sink writing into folder out.
 * sliding: 5-minute windows every minute with 2 minutes of allowed lateness and p90 (sketches):
 * the memory backend's checkpoints are incremental, closed panes in shared segments. (No late
 * readings: with 1% of them 90 s late the restored run's output differed from the unpaced one
 * with full snapshots as well, so that comparison is not one this test can make; late records
 * into closed panes across incremental checkpoints are test_window_snap's.) */
static const char *s_job(char *buf, size_t cap, const char *name, uint64_t rate, const char *out,
                         bool sliding)
{
    char sink[256] = "{type: collect}";
    if (out) snprintf(sink, sizeof sink, "{type: file, path: %s, exactly_once: true}", out);
    snprintf(buf, cap,
             "name: %s\nparallelism: 2\n"
             "sources:\n  - {type: generator, devices: 100, total: %d, rate: %llu, jitter: 1s,"
             " late_fraction: 0, seed: 11}\n"
             "key_by: device\n"
             "event_time: {field: ts, max_out_of_orderness: 2s}\n"
             "window: %s\n"
             "aggregates: {n: count(), t: sum(temperature), hot: max(temperature)%s}\n"
             "sinks: [%s]\n",
             name, S_TOTAL, (unsigned long long)rate,
             sliding ? "{type: sliding, size: 5min, slide: 1min, allowed_lateness: 2min}"
                     : "{type: tumbling, size: 1min}",
             sliding ? ", p: p90(temperature)" : "", sink);
    return buf;
}

/* The committed output of an exactly-once file sink: the lines of out/part-*.jsonl, sorted. */
static char *s_committed(const char *out)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    DIR *d = opendir(out);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "part-", 5)) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", out, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char buf[1 << 14];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            wr_strbuf_add(&sb, buf, n);
        fclose(f);
    }
    closedir(d);
    char *text = wr_strbuf_detach(&sb, NULL), *sorted = tc_sort_lines(text);
    free(text);
    return sorted;
}

/* The output of the job run on c with nothing in its way (unpaced). */
static char *s_uninterrupted(tc_cluster_t *c, const char *out, bool sliding)
{
    char yaml[1024], id[TC_JOB_ID_MAX];
    assert_int_equal(tc_submit(c, s_job(yaml, sizeof yaml, "calm", 0, out, sliding), id, NULL, 0),
                     0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    return out ? s_committed(out) : tc_collected(c, id);
}

typedef struct {
    tc_cluster_t *c;
    const char *id;
    int64_t records, checkpoint; /* at least this many records in, and this checkpoint done */
} s_progress_t;

static bool s_progressed(void *ctx)
{
    s_progress_t *p = ctx;
    wr_msg_t *job = tc_job(p->c, p->id);
    bool done = tc_mp_int(job, "operators.0.records_in") >= p->records &&
                tc_mp_int(job, "latest_checkpoint") >= p->checkpoint;
    wr_msg_destroy(&job);
    return done;
}

/* Submits the job paced, waits until it is well under way, and loses TaskManager tm then. */
static void s_run_and_lose(tc_cluster_t *c, uint32_t tm, const char *out, int64_t checkpoint,
                           bool sliding, char id[TC_JOB_ID_MAX])
{
    char yaml[1024];
    assert_int_equal(
        tc_submit(c, s_job(yaml, sizeof yaml, "bumpy", S_RATE, out, sliding), id, NULL, 0), 0);
    s_progress_t p = {c, id, S_RATE / 2, checkpoint};
    assert_true(wr_test_wait_until(s_progressed, &p, TC_WAIT_MS, 10));
    tc_tm_stop(c, tm);
}

static int64_t s_job_int(tc_cluster_t *c, const char *id, const char *key)
{
    wr_msg_t *job = tc_job(c, id);
    int64_t v = tc_mp_int(job, "%s", key);
    wr_msg_destroy(&job);
    return v;
}

/* ---- the tests ---- */

/* Two TaskManagers of two slots: the one left can take the whole job. No checkpoints: the new
 * attempt starts over, and its collect sinks get everything again. */
static void test_lost_taskmanager_fails_over_to_the_one_left(void **state)
{
    tc_fx_t *f = *state;
    tc_opts_t o = {.jm.restart = {.kind = WR_RESTART_FIXED_DELAY, .attempts = 3, .delay_ms = 100}};
    tc_cluster_t *c = tc_start(&f->c, &o);
    char *want = s_uninterrupted(c, NULL, false), id[TC_JOB_ID_MAX];
    s_run_and_lose(c, 1, NULL, 0, false, id);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    assert_int_equal(s_job_int(c, id, "restarts"), 1);
    assert_int_equal(s_job_int(c, id, "attempt"), 1);
    char *got = tc_collected(c, id);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* One slot each: the job cannot run on the TaskManager left, so it waits for slots, and runs
 * again once the lost one is back. */
static void test_job_waits_for_slots_until_the_taskmanager_is_back(void **state)
{
    tc_fx_t *f = *state;
    tc_opts_t o = {.slots = 1,
                   .jm.restart = {.kind = WR_RESTART_FIXED_DELAY, .attempts = 3, .delay_ms = 100}};
    tc_cluster_t *c = tc_start(&f->c, &o);
    char *want = s_uninterrupted(c, NULL, false), id[TC_JOB_ID_MAX], s[32];
    s_run_and_lose(c, 1, NULL, 0, false, id);
    assert_true(tc_wait_state(c, id, "RESTARTING", TC_WAIT_MS));
    assert_true(tc_wait_node_status(c, "tm-2", "dead", TC_WAIT_MS));
    assert_string_equal(tc_job_state(c, id, s, sizeof s), "RESTARTING"); /* still: no slots */
    tc_tm_start(c, 1);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    char *got = tc_collected(c, id);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* Checkpoints every 200 ms: the new attempt restores the latest completed one and rewinds the
 * sources to it; the exactly-once sink commits what that checkpoint covered and drops what the
 * lost attempt wrote after it, so the committed output is the uninterrupted run's. */
/* The window segments (*.wseg) in folder dir. */
static int s_segments(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int segments = 0;
    for (struct dirent *e; (e = readdir(d));)
        segments += strstr(e->d_name, ".wseg") != NULL;
    closedir(d);
    return segments;
}

static void s_restore_exactly_once(void **state, bool sliding)
{
    tc_fx_t *f = *state;
    char ckpt[128], calm[128], bumpy[128];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints", f->dir);
    snprintf(calm, sizeof calm, "%s/calm", f->dir);
    snprintf(bumpy, sizeof bumpy, "%s/bumpy", f->dir);
    tc_opts_t o = {
        .jm = {.checkpoints_dir = ckpt,
               .interval_ms = 200,
               .timeout_ms = 60000,
               .num_retained = 2,
               .restart = {.kind = WR_RESTART_FIXED_DELAY, .attempts = 3, .delay_ms = 100}}};
    tc_cluster_t *c = tc_start(&f->c, &o);
    char *want = s_uninterrupted(c, calm, sliding), id[TC_JOB_ID_MAX];
    s_run_and_lose(c, 1, bumpy, 2, sliding, id);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    assert_int_equal(s_job_int(c, id, "restarts"), 1);
    char *got = s_committed(bumpy);
    assert_string_equal(got, want);
    free(got);
    free(want);
    if (!sliding) return;
    /* the checkpoints were incremental: closed panes' segments in the job's shared folder */
    char shared[256];
    snprintf(shared, sizeof shared, "%s/%s/shared", ckpt, id);
    assert_true(s_segments(shared) > 0);
}

static void test_restore_from_a_checkpoint_into_an_exactly_once_sink(void **state)
{
    s_restore_exactly_once(state, false);
}

/* The same with sliding windows, allowed lateness and late readings: the memory backend's
 * incremental checkpoints (a main and the closed panes' shared segments) restore exactly. */
static void test_restore_incremental_window_state_into_an_exactly_once_sink(void **state)
{
    s_restore_exactly_once(state, true);
}

/* Without checkpoints the default strategy is none (as in Flink): the job fails, and says why. */
static void test_without_restarts_a_lost_taskmanager_fails_the_job(void **state)
{
    tc_fx_t *f = *state;
    tc_cluster_t *c = tc_start(&f->c, NULL);
    char id[TC_JOB_ID_MAX], error[TC_JOB_ERROR_MAX];
    s_run_and_lose(c, 0, NULL, 0, false, id);
    assert_true(tc_wait_state(c, id, "FAILED", TC_WAIT_MS));
    wr_msg_t *job = tc_job(c, id);
    tc_mp_str(job, error, sizeof error, "error");
    wr_msg_destroy(&job);
    if (!strstr(error, "tm-1")) fail_msg("the error does not name the lost TaskManager: %s", error);
    assert_int_equal(s_job_int(c, id, "restarts"), 0);
}

/* A savepoint of a job whose window state is incremental (sliding windows, memory backend) holds
 * the segments its checkpoint referenced: with the job's checkpoint folder gone it still
 * restores, and the job stopped with it and resumed from it commits what the uninterrupted run
 * does. */
static void test_savepoint_of_incremental_window_state_is_self_contained(void **state)
{
    tc_fx_t *f = *state;
    char ckpt[128], calm[128], bumpy[128], sp[128], path[512], yaml[1024], job[256];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints", f->dir);
    snprintf(calm, sizeof calm, "%s/calm", f->dir);
    snprintf(bumpy, sizeof bumpy, "%s/bumpy", f->dir);
    snprintf(sp, sizeof sp, "%s/savepoints", f->dir);
    tc_opts_t o = {.jm = {.checkpoints_dir = ckpt,
                          .savepoints_dir = sp,
                          .interval_ms = 200,
                          .timeout_ms = 60000,
                          .num_retained = 2}};
    tc_cluster_t *c = tc_start(&f->c, &o);
    char *want = s_uninterrupted(c, calm, true), id[TC_JOB_ID_MAX], id2[TC_JOB_ID_MAX];
    assert_int_equal(
        tc_submit(c, s_job(yaml, sizeof yaml, "bumpy", S_RATE, bumpy, true), id, NULL, 0), 0);
    s_progress_t p = {c, id, S_RATE / 2, 3};
    assert_true(wr_test_wait_until(s_progressed, &p, TC_WAIT_MS, 10));
    assert_int_equal(tc_savepoint(c, id, sp, true, path, sizeof path), 0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    char shared[600];
    snprintf(shared, sizeof shared, "%s/shared", path);
    assert_true(s_segments(shared) > 0);
    snprintf(job, sizeof job, "%s/%s", ckpt, id);
    assert_int_equal(wr_fs_rmtree(job), 0);
    assert_int_equal(
        tc_submit_restore(c, s_job(yaml, sizeof yaml, "bumpy", 0, bumpy, true), path, id2, NULL, 0),
        0);
    assert_true(tc_wait_state(c, id2, "FINISHED", TC_WAIT_MS));
    char *got = s_committed(bumpy);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* A failure at the start of a subtask that no restart can mend ends the job FAILED at once, with
 * its reason, whatever the restart strategy allows (Flink's SuppressRestartsException): here a
 * savepoint of 1-minute windows restored into a job of 2-minute windows, which the JobManager
 * cannot tell at submit (the checkpoint's window state is the subtasks' to read) and each window
 * subtask refuses when it restores. Without it the job would restart from the same savepoint,
 * and fail again, until its strategy gave up (forever with the default one). A lost TaskManager
 * still restarts the job (test_lost_taskmanager_fails_over_to_the_one_left). */
static void test_deterministic_start_failure_fails_the_job_without_restarts(void **state)
{
    tc_fx_t *f = *state;
    char ckpt[128], sp_dir[128], savepoint[512];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints", f->dir);
    snprintf(sp_dir, sizeof sp_dir, "%s/savepoints", f->dir);
    tc_opts_t o = {
        .jm = {.checkpoints_dir = ckpt,
               .interval_ms = 60000, /* none before the savepoint */
               .timeout_ms = 60000,
               .num_retained = 1,
               .restart = {.kind = WR_RESTART_FIXED_DELAY, .attempts = 5, .delay_ms = 50}}};
    tc_cluster_t *c = tc_start(&f->c, &o);
    char yaml[1024], id[TC_JOB_ID_MAX], error[TC_JOB_ERROR_MAX];
    assert_int_equal(
        tc_submit(c, s_job(yaml, sizeof yaml, "before", S_RATE, NULL, false), id, NULL, 0), 0);
    s_progress_t p = {c, id, S_RATE / 2, 0};
    assert_true(wr_test_wait_until(s_progressed, &p, TC_WAIT_MS, 10));
    /* not drained: its windows are still open in the savepoint */
    assert_int_equal(tc_savepoint(c, id, sp_dir, true, savepoint, sizeof savepoint), 0);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));

    char *size = strstr(s_job(yaml, sizeof yaml, "after", S_RATE, NULL, false), "size: 1min");
    assert_non_null(size);
    size[6] = '2'; /* 2-minute windows */
    assert_int_equal(tc_submit_restore(c, yaml, savepoint, id, NULL, 0), 0);
    assert_true(tc_wait_state(c, id, "FAILED", TC_WAIT_MS));
    wr_msg_t *job = tc_job(c, id);
    tc_mp_str(job, error, sizeof error, "error");
    wr_msg_destroy(&job);
    if (!strstr(error, "cannot start, and no restart would") || !strstr(error, "window state"))
        fail_msg("the job's error does not say why it was not restarted: %s", error);
    assert_int_equal(s_job_int(c, id, "restarts"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lost_taskmanager_fails_over_to_the_one_left,
                                        tc_dir_setup, tc_dir_teardown),
        cmocka_unit_test_setup_teardown(test_job_waits_for_slots_until_the_taskmanager_is_back,
                                        tc_dir_setup, tc_dir_teardown),
        cmocka_unit_test_setup_teardown(test_restore_from_a_checkpoint_into_an_exactly_once_sink,
                                        tc_dir_setup, tc_dir_teardown),
        cmocka_unit_test_setup_teardown(
            test_restore_incremental_window_state_into_an_exactly_once_sink, tc_dir_setup,
            tc_dir_teardown),
        cmocka_unit_test_setup_teardown(
            test_savepoint_of_incremental_window_state_is_self_contained, tc_dir_setup,
            tc_dir_teardown),
        cmocka_unit_test_setup_teardown(test_without_restarts_a_lost_taskmanager_fails_the_job,
                                        tc_dir_setup, tc_dir_teardown),
        cmocka_unit_test_setup_teardown(
            test_deterministic_start_failure_fails_the_job_without_restarts, tc_dir_setup,
            tc_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
