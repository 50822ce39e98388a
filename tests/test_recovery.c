/* Fault tolerance through the real weir binary: a JobManager and two TaskManagers as processes on
 * loopback, a windowed job into an exactly-once file sink (a folder of part files committed by
 * checkpoints), and failures:
 *
 *   - TaskManagers killed -9 at seeded random moments and restarted under the same id: the job
 *     restarts from its latest checkpoint each time, finishes, and its committed output is, record
 *     for record, that of an uninterrupted `weir local` run (prints each recovery time); with the
 *     memory backend, the restored window subtasks go on with the segments of the checkpoint they
 *     restored (their TaskManagers' logs say so) instead of writing every closed pane again
 *   - `weir stop --savepoint --drain`: every window fires and is committed, exactly as a run cut to
 *     the records the source made until then; such a savepoint is refused as a starting point
 *   - `weir stop --savepoint`, then the savepoint restored at parallelism 1 and, moved elsewhere,
 *     at parallelism 4: each time the output before the savepoint and after it together are the
 *     uninterrupted run's
 *   - without checkpoints (restart strategy none) a killed TaskManager fails the job, and says so
 *   - the two TaskManagers partitioned from each other while both reach the JobManager: the job
 *     restarts within seconds, and once healed finishes with the uninterrupted run's output
 *   - a savepoint path that does not exist is refused and starts nothing
 *
 * The job's results do not depend on timing: the generator's jitter is within the watermark's
 * max_out_of_orderness and nothing is late, so every window fires once with all its records.
 * Its `rate` paces the generator so that the job lasts long enough to be killed in the middle.
 * WEIR_TEST_SEED=N changes the kill schedule (printed); an ASan build runs smaller jobs.
 * tests/support/jobs.h runs the cluster and reads what the CLI says; tests/support/process.h is
 * the harness under it (cleanup, logs on failure). WEIR_TEST_FILTER=PATTERN runs only the matching
 * tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/connectors/generator/generator.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "cli/chaos_proxy.h"
#include "state/ckpt_store.h"
#include "tests/support/jobs.h"

#define S_JOB_MS  120000 /* a job runs to its end, failures included */
#define S_FAIL_MS 10000  /* a job fails once a TaskManager is gone (heartbeat.timeout 2s) */

/* The job of every test: sizes for release and ASan builds (the rate keeps it ~8 s long). */
typedef struct {
    unsigned devices, total, rate;
} s_size_t;

static const s_size_t S_RELEASE = {500, 1200000, 150000}, S_ASAN = {200, 300000, 40000};

static s_size_t s_size(void)
{
    return ps_h.asan ? S_ASAN : S_RELEASE;
}

/* The topology of total records (a source of source_par subtasks, the rest at 2), its
 * exactly-once file sink into the folder out; rate 0: unpaced. Returns its path. */
static const char *s_topology_of(const char *name, const char *out, unsigned rate, uint64_t total,
                                 unsigned source_par)
{
    pj_size_t z = {
        .devices = s_size().devices, .rate = rate, .source_par = source_par, .total = total};
    return pj_topology(name, out, &z);
}

/* The job of every test but the drain's. */
static const char *s_topology(const char *name, const char *out, unsigned rate)
{
    return s_topology_of(name, out, rate, s_size().total, 2);
}

/* ---- committed output ---- */

/* The committed output of `weir local` running topology (writing into out). */
static pj_output_t s_local(const char *name, const char *topology, const char *out)
{
    return pj_local(name, topology, out, S_JOB_MS);
}

/* The uninterrupted run's output: `weir local` with checkpoints on, unpaced (the rate changes
 * only the pacing), once per test that needs it. */
static pj_output_t s_reference(void)
{
    const char *out = ps_path("reference");
    return s_local("local", s_topology("reference", out, 0), out);
}

/* ---- the cluster (tests/support/jobs.h) ---- */

/* Starts TaskManager i again and waits until the JobManager registered it once more. */
static void s_tm_restart(pc_cluster_t *c, int i)
{
    pc_tm_start(c, i);
    pc_wait_joined(c, i, (size_t)c->tm_starts[i]);
}

/* Starts `weir ARGS --jobmanager ...` and waits for it, failing at once should the JobManager
 * die meanwhile (a CLI that follows a job would wait for it forever). */
static ps_result_t s_cli_long(pc_cluster_t *c, const char *name, const char *const args[])
{
    const char *argv[PS_MAX_ARGS + 1];
    size_t n = ps_append(argv, 0, args);
    ps_append(argv, n, PS_ARGV("--jobmanager", c->endpoint));
    int64_t t0 = ps_now_ms();
    ps_proc_t *p = ps_start(name, argv, NULL);
    while (ps_running(p)) {
        if (!ps_running(c->jm))
            PS_FAIL("the JobManager died (exit %d) during `weir %s ...`", ps_exit_code(c->jm),
                    args[0]);
        if (ps_now_ms() - t0 > S_JOB_MS)
            PS_FAIL("`weir %s ...` did not finish within %d ms", args[0], S_JOB_MS);
        ps_sleep_ms(20);
    }
    ps_result_t r = {ps_exit_code(p), ps_read_file(p->out), ps_read_file(p->err), ps_now_ms() - t0};
    if (r.code != 0 || ps_sanitizer_report(r.err))
        PS_FAIL("`weir %s ...` exited %d:\n%s", args[0], r.code, r.err);
    ps_release(p);
    return r;
}

/* The number of COMPLETED checkpoints (periodic ones, not the final one) `weir checkpoints`
 * lists. */
static size_t s_completed_checkpoints(const pc_cluster_t *c, const char *id)
{
    ps_result_t r = pc_cli(c, PS_ARGV("checkpoints", id, "--json"));
    if (r.code != 0) PS_FAIL("weir checkpoints exited %d:\n%s", r.code, r.err);
    return ps_count(r.out, "\"status\":\"COMPLETED\",\"kind\":\"checkpoint\"");
}

/* Fails if `weir jobs --json` lists a job that is not over. */
static void s_expect_no_live_job(const char *jobs)
{
    if (strstr(jobs, "\"state\":\"RUNNING\"") || strstr(jobs, "\"state\":\"CREATED\"") ||
        strstr(jobs, "\"state\":\"RESTARTING\""))
        PS_FAIL("a job is still alive: %s", jobs);
}

/* xorshift64: the kill schedule, the same for the same seed. */
static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The window subtasks restored after the kills that went on with the segments of the checkpoint
 * they restored (a restart at the same parallelism takes them over instead of writing every
 * closed pane again): the lines of every TaskManager log that say so with at least one segment. */
static size_t s_segments_taken_over(const pc_cluster_t *c)
{
    static const char needle[] = "the restored window goes on with ";
    size_t found = 0;
    for (int tm = 0; tm < PC_MAX_TMS; tm++)
        for (int start = 1; start <= c->tm_starts[tm]; start++) {
            const char *log = ps_read_file(ps_path(ps_fmt("%s.%d.err", pc_tm_ids[tm], start)));
            for (const char *p = log; p && (p = strstr(p, needle)); p += sizeof needle - 1)
                found += strtoul(p + sizeof needle - 1, NULL, 10) > 0;
        }
    return found;
}

/* ---- the tests ---- */

/* TaskManagers killed at random moments while the job runs with state backend `backend`. */
static void s_kills(const char *backend)
{
    pj_output_t want = s_reference();
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                 ps_fmt("state.backend=%s", backend), "--set",
                                 ps_fmt("state.backend.rocksdb.localdir=%s", ps_path("rocksdb"))));
    const char *out = ps_path("out");
    const char *id = pj_submit(&c, s_topology("ft", out, s_size().rate));

    const char *seed_env = getenv("WEIR_TEST_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20240101, x = seed | 1;
    int want_kills = ps_h.asan ? 2 : 3, kills = 0;
    int64_t attempt = 0;
    print_message("  seed %llu (WEIR_TEST_SEED)\n", (unsigned long long)seed);
    const char *job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    while (kills < want_kills) {
        ps_sleep_ms(800 + (int)(s_rand(&x) % 1700)); /* the job runs a while */
        job = pj_job(&c, id);
        if (!pj_all_running(job)) break; /* finished, most likely: the assertions below say */
        /* a TaskManager with subtasks (after a restart they may all be on one) */
        int tm = kills % 2; /* alternating, unless it has none */
        if (!pj_hosts(job, pc_tm_ids[tm])) tm = 1 - tm;
        int64_t killed = ps_now_ms();
        ps_kill9(c.tm[tm]);
        ps_release(c.tm[tm]);
        kills++;
        ps_sleep_ms(200 + (int)(s_rand(&x) % 1000));
        s_tm_restart(&c, tm);
        job = pj_wait_job(&c, id, "ALL-RUNNING", attempt + 1, S_JOB_MS);
        attempt = pj_jnum(job, "attempt");
        print_message("  kill %d of %s: running again %lld ms after kill -9 (attempt %lld, "
                      "recovery_ms %lld, from checkpoint %lld)\n",
                      kills, pc_tm_ids[tm], (long long)(ps_now_ms() - killed), (long long)attempt,
                      (long long)pj_jnum(job, "recovery_ms"),
                      (long long)pj_jnum(job, "latest_checkpoint"));
    }
    job = pj_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    if (kills < 2) PS_FAIL("the job finished after %d kills: make it longer", kills);
    if (pj_jnum(job, "restarts") < kills)
        PS_FAIL("%d kills, yet `weir job` reports %lld restarts", kills,
                (long long)pj_jnum(job, "restarts"));
    size_t completed = s_completed_checkpoints(&c, id);
    assert_true(completed >= 1);
    pj_output_t got = pj_committed(out);
    print_message("  %zu results in %zu part files, %zu checkpoints completed\n", got.n, got.parts,
                  completed);
    pj_expect_same("after the kills", &got, &want);
    if (!strcmp(backend, "memory")) {
        size_t taken = s_segments_taken_over(&c);
        print_message("  %zu restored window subtasks went on with their checkpoint's segments\n",
                      taken);
        if (!taken) PS_FAIL("no restored window subtask took its checkpoint's segments over");
    }
    pc_cluster_stop(&c);
}

static void test_exactly_once_under_taskmanager_kills(void **state)
{
    (void)state;
    s_kills("memory");
}

/* The same with the windows' state in RocksDB stores (incremental checkpoints of SST files). */
static void test_exactly_once_under_taskmanager_kills_rocksdb(void **state)
{
    (void)state;
    s_kills("rocksdb");
}

/* Copies the regular files of folder from (hidden ones too) into a new folder to. */
static void s_copy_folder(const char *from, const char *to)
{
    assert_int_equal(mkdir(to, 0755), 0);
    DIR *d = opendir(from);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        const char *src = ps_fmt("%s/%s", from, e->d_name);
        struct stat st;
        if (stat(src, &st) || !S_ISREG(st.st_mode)) continue;
        char *text = ps_slurp(src);
        FILE *f = fopen(ps_fmt("%s/%s", to, e->d_name), "w");
        bool ok = f && fwrite(text, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
        if (f) ok = !fclose(f) && ok;
        free(text);
        if (!ok) {
            closedir(d);
            fail_msg("cannot copy %s", src);
        }
    }
    closedir(d);
}

/* Waits until the job completed two checkpoints and committed some output into out. */
static void s_wait_underway(pc_cluster_t *c, const char *id, const char *out)
{
    int64_t t0 = ps_now_ms();
    while (pj_jnum(pj_job(c, id), "latest_checkpoint") < 2 || pj_committed(out).n == 0) {
        if (ps_now_ms() - t0 > S_JOB_MS)
            PS_FAIL("no checkpoint and no output after %d ms", S_JOB_MS);
        ps_poll_pause(100);
    }
}

/* Restores the savepoint at parallelism into the folder of topology and waits for the end; then
 * its output, the one before the savepoint included, must be the uninterrupted run's. */
static void s_restore(pc_cluster_t *c, const char *topology, const char *out, const char *savepoint,
                      int parallelism, const pj_output_t *want)
{
    ps_result_t r = s_cli_long(c, ps_fmt("restore-p%d", parallelism),
                               PS_ARGV("submit", topology, "--from-savepoint", savepoint,
                                       "--parallelism", ps_fmt("%d", parallelism), "--wait"));
    print_message("  restored at parallelism %d: finished in %lld ms\n", parallelism,
                  (long long)r.ms);
    pj_output_t got = pj_committed(out);
    pj_expect_same(ps_fmt("restored at parallelism %d", parallelism), &got, want);
}

static void test_savepoint_restores_at_parallelism_1_and_4(void **state)
{
    (void)state;
    pj_output_t want = s_reference();
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *out = ps_path("out"), *out4 = ps_path("out-p4");
    const char *topology = s_topology("sp", out, s_size().rate);
    const char *topology4 = s_topology("sp4", out4, s_size().rate);
    const char *id = pj_submit(&c, topology);

    s_wait_underway(&c, id, out);
    pj_output_t before = pj_committed(out);
    ps_result_t r = s_cli_long(&c, "stop", PS_ARGV("stop", id, "--savepoint", ps_path("sp")));
    char savepoint[512];
    if (sscanf(r.out, "%511s", savepoint) != 1) PS_FAIL("weir stop printed no path:\n%s", r.out);
    const char *job = pj_wait_job(&c, id, "FINISHED", 0, PC_CLI_MS);
    print_message("  stopped with %zu results committed, savepoint %s (%s)\n", before.n,
                  strrchr(savepoint, '/') + 1, pj_jstr(job, "error"));
    assert_true(pj_committed(out).n < want.n); /* stopped in the middle */
    s_copy_folder(out, out4); /* the output so far, and what the savepoint has pending */

    s_restore(&c, topology4, out4, savepoint, 4, &want);

    /* relocatable: the same savepoint, moved elsewhere, restores again */
    const char *moved = ps_path("moved");
    assert_int_equal(mkdir(moved, 0755), 0);
    const char *moved_sp = ps_fmt("%s/%s", moved, strrchr(savepoint, '/') + 1);
    assert_int_equal(rename(savepoint, moved_sp), 0);
    s_restore(&c, topology, out, moved_sp, 1, &want);
    pc_cluster_stop(&c);
}

/* The records a savepoint's one generator subtask had made: offsets 0 .. N-1. */
static uint64_t s_source_made(const char *savepoint)
{
    int rc = 0;
    wr_ckpt_meta_t *m = wr_ckpt_load(savepoint, &rc);
    if (!m) PS_FAIL("cannot read %s: %s", savepoint, wr_strerror(rc));
    uint64_t next = 0, stride = 0;
    bool drained = false;
    uint32_t sources = 0, nstreams = 0;
    for (uint32_t k = 0; k < m->ntasks; k++)
        for (uint32_t b = 0; b < m->tasks[k].nblobs; b++) {
            const wr_ckpt_blob_t *bl = &m->tasks[k].blobs[b];
            drained |= !strcmp(bl->name, "drained");
            if (strcmp(bl->name, "source")) continue;
            sources++;
            wr_splits_t splits = {0}; /* the generator's streams (connectors/split.h) */
            int bad = wr_splits_decode(bl->data, bl->len, &splits);
            nstreams = splits.n;
            if (!bad && nstreams == 1)
                bad = wr_generator_split_position(&splits.v[0], &next, &stride);
            wr_splits_release(&splits);
            if (bad || nstreams != 1 || stride != 1)
                PS_FAIL("%s: not one source stream", savepoint);
        }
    wr_ckpt_meta_destroy(&m);
    if (sources != 1 || !drained)
        PS_FAIL("%s: %u source states, drained %d", savepoint, sources, drained);
    return next;
}

/* `weir stop --savepoint --drain`: the source ends event time and stops, every window fires and
 * is committed, the job finishes. The committed output is exactly that of an uninterrupted run of
 * the records the source had made (`weir local` of the job cut to that many; one source subtask,
 * so they are offsets 0 .. N-1), and the savepoint is refused as a starting point. */
static void test_stop_with_drain(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *out = ps_path("out");
    const char *topology = s_topology_of("drain", out, s_size().rate, s_size().total, 1);
    const char *id = pj_submit(&c, topology);
    s_wait_underway(&c, id, out);
    ps_result_t r =
        s_cli_long(&c, "stop", PS_ARGV("stop", id, "--savepoint", ps_path("sp"), "--drain"));
    char savepoint[512];
    if (sscanf(r.out, "%511s", savepoint) != 1) PS_FAIL("weir stop printed no path:\n%s", r.out);
    const char *job = pj_wait_job(&c, id, "FINISHED", 0, PC_CLI_MS);
    uint64_t made = s_source_made(savepoint);
    pj_output_t got = pj_committed(out);
    print_message("  drained after %llu of %u records: %zu results committed (%s)\n",
                  (unsigned long long)made, s_size().total, got.n, pj_jstr(job, "error"));
    if (made == 0 || made >= s_size().total)
        PS_FAIL("not stopped in the middle: %llu records", (unsigned long long)made);
    const char *ref = ps_path("ref-drain");
    pj_output_t want = s_local("local-cut", s_topology_of("cut", ref, 0, made, 1), ref);
    pj_expect_same("drained", &got, &want);

    r = pc_cli(&c, PS_ARGV("submit", topology, "--from-savepoint", savepoint, "--wait"));
    if (r.code == 0 || !strstr(r.err, "--drain"))
        PS_FAIL("restoring a drained savepoint: exit %d, saying:\n%s", r.code, r.err);
    pc_cluster_stop(&c);
}

static void test_no_checkpoints_fails_fast(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=0"));
    const char *id = pj_submit(&c, s_topology("nock", ps_path("out"), s_size().rate));
    const char *job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    int tm = pj_hosts(job, pc_tm_ids[0]) ? 0 : 1;
    int64_t killed = ps_now_ms();
    ps_kill9(c.tm[tm]);
    job = pj_wait_job(&c, id, "FAILED", 0, S_FAIL_MS);
    const char *error = pj_jstr(job, "error");
    print_message("  FAILED %lld ms after kill -9 of %s: %s\n", (long long)(ps_now_ms() - killed),
                  pc_tm_ids[tm], error);
    if (!strstr(error, pc_tm_ids[tm]))
        PS_FAIL("the job failed, but its error does not name %s: %s", pc_tm_ids[tm], error);
    assert_int_equal(pj_jnum(job, "restarts"), 0);
    ps_result_t r = pc_cli(&c, PS_ARGV("jobs", "--json"));
    assert_int_equal(r.code, 0);
    s_expect_no_live_job(r.out);
    c.tm[tm] = NULL; /* killed on purpose */
    pc_cluster_stop(&c);
}

/* The proxy of the partition test, destroyed by its teardown also when the test fails. */
static struct {
    wr_chaos_proxy_t *proxy;
} s_t;

static int s_teardown_proxy(void **state)
{
    int rc = ps_teardown(state);
    wr_chaos_proxy_destroy(&s_t.proxy);
    return rc;
}

/* A partition between the two TaskManagers while both still reach the JobManager (their links
 * through a proxy that stops forwarding, as a network that drops packets): nobody dies, so only
 * the subtasks can tell. Those that exchange data across it fail once their node has had the
 * other down for a further heartbeat.timeout, naming it, and the job restarts in seconds (it used
 * to stand still until its checkpoint timed out: 10 minutes). Once healed, the job finishes with
 * the uninterrupted run's output. */
static void test_partition_between_taskmanagers_restarts_the_job(void **state)
{
    (void)state;
    pj_output_t want = s_reference();
    assert_int_equal(wr_chaos_proxy_new(&s_t.proxy), 0);
    pc_cluster_t c = {.proxy = s_t.proxy, /* one slot each: the job spans both */
                      .tm_settings = PS_ARGV("--set", "heartbeat.timeout=2s", "--set",
                                             "taskmanager.numberOfTaskSlots=1")};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *out = ps_path("out");
    const char *id = pj_submit(&c, s_topology("cut", out, s_size().rate));
    const char *job = pj_wait_job(&c, id, "ALL-RUNNING", 0, PC_START_MS);
    if (!pj_hosts(job, pc_tm_ids[0]) || !pj_hosts(job, pc_tm_ids[1]))
        PS_FAIL("the job does not span both TaskManagers: %s", job);
    pj_wait_checkpoint(&c, id, 1, S_JOB_MS);

    int64_t cut = ps_now_ms();
    assert_int_equal(wr_chaos_proxy_cut(s_t.proxy, pc_tm_ids[0], pc_tm_ids[1], true), 0);
    assert_int_equal(wr_chaos_proxy_cut(s_t.proxy, pc_tm_ids[1], pc_tm_ids[0], true), 0);
    /* heartbeat.timeout (2 s) until a node has the other down, as much again until its subtasks
     * give up, the restart's delay (1 s), a deployment: ~6 s; 30 s is far from both that and the
     * checkpoint timeout */
    job = pj_wait_job(&c, id, "ALL-RUNNING", 1, 30000);
    int64_t restarted = ps_now_ms() - cut;
    if (ps_wait_text(c.jm, c.jm->err, "lost the link to TaskManager tm-", 1, PC_START_MS) < 0)
        PS_FAIL("the JobManager's log gives no subtask's reason for the restart");
    wr_chaos_proxy_heal_all(s_t.proxy);
    print_message("  partitioned tm-a | tm-b: running again in attempt %lld %lld ms after the "
                  "cut\n",
                  (long long)pj_jnum(job, "attempt"), (long long)restarted);

    job = pj_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    pj_output_t got = pj_committed(out);
    pj_expect_same("after the partition", &got, &want);
    pc_cluster_stop(&c);
}

static void test_bad_savepoint_path(void **state)
{
    (void)state;
    pc_cluster_t c = {0};
    pj_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *topology = s_topology("bad", ps_path("out"), 0);
    const char *bad = "/nonexistent/savepoint-0-1";
    ps_result_t r = pc_cli(&c, PS_ARGV("submit", topology, "--from-savepoint", bad, "--wait"));
    if (r.code == 0 || !strstr(r.err, bad))
        PS_FAIL("`weir submit --from-savepoint %s` exited %d saying:\n%s", bad, r.code, r.err);
    print_message("  %s", r.err);
    ps_sleep_ms(500); /* a job it started anyway would be listed by now */
    r = pc_cli(&c, PS_ARGV("jobs", "--json"));
    assert_int_equal(r.code, 0);
    s_expect_no_live_job(r.out);
    pc_cluster_stop(&c);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_recovery", false);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_exactly_once_under_taskmanager_kills),
        S_TEST(test_exactly_once_under_taskmanager_kills_rocksdb),
        S_TEST(test_savepoint_restores_at_parallelism_1_and_4),
        S_TEST(test_stop_with_drain),
        S_TEST(test_no_checkpoints_fails_fast),
        cmocka_unit_test_setup_teardown(test_partition_between_taskmanagers_restarts_the_job,
                                        ps_setup, s_teardown_proxy),
        S_TEST(test_bad_savepoint_path),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir recovery: failures on loopback", tests, s_group_setup,
                                       ps_group_teardown);
}
