/* Fault tolerance through the real weir binary: a JobManager and two TaskManagers as processes on
 * loopback, a windowed job into an exactly-once file sink (a folder of part files committed by
 * checkpoints), and failures:
 *
 *   - TaskManagers killed -9 at seeded random moments and restarted under the same id: the job
 *     restarts from its latest checkpoint each time, finishes, and its committed output is, record
 *     for record, that of an uninterrupted `weir local` run (prints each recovery time)
 *   - `weir stop --savepoint --drain`: every window fires and is committed, exactly as a run cut to
 *     the records the source made until then; such a savepoint is refused as a starting point
 *   - `weir stop --savepoint`, then the savepoint restored at parallelism 1 and, moved elsewhere,
 *     at parallelism 4: each time the output before the savepoint and after it together are the
 *     uninterrupted run's
 *   - without checkpoints (restart strategy none) a killed TaskManager fails the job, and says so
 *   - a savepoint path that does not exist is refused and starts nothing
 *
 * The job's results do not depend on timing: the generator's jitter is within the watermark's
 * max_out_of_orderness and nothing is late, so every window fires once with all its records.
 * Its `rate` paces the generator so that the job lasts long enough to be killed in the middle.
 * WEIR_TEST_SEED=N changes the kill schedule (printed); an ASan build runs smaller jobs.
 * tests/support/process.h is the harness (cleanup, logs on failure). WEIR_TEST_FILTER=PATTERN
 * runs only the matching tests. */
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

#include "actors/connectors/generator/generator.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "state/ckpt_store.h"
#include "tests/support/process.h"

#define S_START_MS 15000  /* a daemon prints its first line; a TaskManager joins */
#define S_CLI_MS   20000  /* a short CLI command (ASan builds start slowly) */
#define S_JOB_MS   120000 /* a job runs to its end, failures included */
#define S_FAIL_MS  10000  /* a job fails once a TaskManager is gone (heartbeat.timeout 2s) */
#define S_CKPT_DIR "ck"

/* The job of every test: sizes for release and ASan builds (the rate keeps it ~8 s long). */
typedef struct {
    unsigned devices, total, rate;
} s_size_t;

static const s_size_t S_RELEASE = {500, 1200000, 150000}, S_ASAN = {200, 300000, 40000};

static s_size_t s_size(void)
{
    return ps_h.asan ? S_ASAN : S_RELEASE;
}

/* Writes the topology of total records (a source of source_par subtasks, the rest at 2), its
 * exactly-once file sink into the folder out; rate 0: unpaced. Returns its path. */
static const char *s_topology_of(const char *name, const char *out, unsigned rate, uint64_t total,
                                 unsigned source_par)
{
    s_size_t z = s_size();
    char rate_field[32] = "";
    if (rate) snprintf(rate_field, sizeof rate_field, ", rate: %u", rate);
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(path,
                  ps_fmt("name: %s\nparallelism: 2\nsources:\n"
                         "  - {type: generator, parallelism: %u, devices: %u, total: %llu, "
                         "jitter: 1s, late_fraction: 0, seed: 7%s}\n"
                         "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                         "window: {type: sliding, size: 2min, slide: 30s}\n"
                         "aggregates:\n  n: count()\n  s: sum(temperature)\n"
                         "sinks:\n  - {type: file, path: %s, exactly_once: true}\n",
                         name, source_par, z.devices, (unsigned long long)total, rate_field, out));
    return path;
}

/* The job of every test but the drain's. */
static const char *s_topology(const char *name, const char *out, unsigned rate)
{
    return s_topology_of(name, out, rate, s_size().total, 2);
}

/* ---- committed output ---- */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct {
    char **lines; /* sorted */
    size_t n;
    size_t parts;       /* committed part files */
    const char *hidden; /* names of the other files (".part-*.inprogress", ".pending"), or "" */
} s_output_t;

/* The committed output of an exactly-once file sink: the lines of folder/part-*.jsonl, sorted. */
static s_output_t s_committed(const char *folder)
{
    s_output_t o = {.hidden = ""};
    DIR *d = opendir(folder);
    if (!d) PS_FAIL("%s: %s", folder, strerror(errno));
    size_t cap = 0;
    wr_strbuf_t others;
    wr_strbuf_init(&others);
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "part-", 5) || len < 6 || strcmp(e->d_name + len - 6, ".jsonl")) {
            wr_strbuf_addf(&others, " %s", e->d_name);
            continue;
        }
        o.parts++;
        char *text = ps_read_file(ps_fmt("%s/%s", folder, e->d_name));
        for (char *q = text; *q;) {
            char *nl = strchr(q, '\n');
            if (!nl) {
                closedir(d);
                PS_FAIL("%s/%s: the last line has no newline (a torn write?)", folder, e->d_name);
            }
            *nl = '\0';
            if (o.n == cap) {
                cap = cap ? cap * 2 : 4096;
                char **grown = ps_alloc(cap * sizeof *grown);
                if (o.n) memcpy(grown, o.lines, o.n * sizeof *grown);
                o.lines = grown;
            }
            o.lines[o.n++] = q;
            q = nl + 1;
        }
    }
    closedir(d);
    o.hidden = ps_keep(wr_strbuf_detach(&others, NULL));
    if (o.n) qsort(o.lines, o.n, sizeof *o.lines, s_cmp_str);
    return o;
}

/* The uninterrupted run's output: `weir local` with checkpoints on, unpaced (the rate changes
 * only the pacing), once per test that needs it. */
/* The committed output of `weir local` running topology (writing into out). */
static s_output_t s_local(const char *name, const char *topology, const char *out)
{
    ps_result_t r =
        ps_run(name,
               PS_ARGV("local", topology, "--set", "execution.checkpointing.interval=1s", "--set",
                       ps_fmt("state.checkpoints.dir=%s", ps_path(ps_fmt("%s-ck", name)))),
               S_JOB_MS);
    if (r.code != 0) PS_FAIL("weir local exited %d:\n%s", r.code, r.err);
    s_output_t o = s_committed(out);
    if (o.n < 1000) PS_FAIL("the uninterrupted run wrote %zu results", o.n);
    return o;
}

static s_output_t s_reference(void)
{
    const char *out = ps_path("reference");
    return s_local("local", s_topology("reference", out, 0), out);
}

/* Fails unless got holds exactly want's lines, naming what is missing and what is extra. */
static void s_expect_same(const char *what, const s_output_t *got, const s_output_t *want)
{
    if (*got->hidden) PS_FAIL("%s: uncommitted files left at the end:%s", what, got->hidden);
    size_t missing = 0, extra = 0, i = 0, j = 0;
    const char *first_missing = NULL, *first_extra = NULL;
    while (i < got->n || j < want->n) {
        int c = i == got->n ? 1 : j == want->n ? -1 : strcmp(got->lines[i], want->lines[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            if (!extra++) first_extra = got->lines[i];
            i++;
        } else {
            if (!missing++) first_missing = want->lines[j];
            j++;
        }
    }
    if (missing || extra)
        PS_FAIL("%s: %zu results in %zu part files, the uninterrupted run %zu: %zu missing "
                "(first: %s), %zu extra or duplicated (first: %s)",
                what, got->n, got->parts, want->n, missing, first_missing ? first_missing : "-",
                extra, first_extra ? first_extra : "-");
}

/* ---- a cluster of weir processes ---- */

typedef struct {
    char endpoint[64];
    ps_proc_t *jm, *tm[2]; /* tm-a, tm-b */
    int starts[2];         /* how often each TaskManager was started */
    int slots;             /* per TaskManager */
} s_cluster_t;

static const char *const S_TM_IDS[] = {"tm-a", "tm-b"};

/* Starts TaskManager i (again) and waits until the JobManager registered it. */
static void s_tm_start(s_cluster_t *c, int i)
{
    const char *id = S_TM_IDS[i];
    c->tm[i] = ps_start(ps_fmt("%s.%d", id, ++c->starts[i]),
                        PS_ARGV("taskmanager", "--jobmanager", c->endpoint, "--id", id, "--slots",
                                ps_fmt("%d", c->slots), "--set", "heartbeat.timeout=2s"),
                        ps_h.daemon_env);
    if (ps_wait_text(c->jm, c->jm->err, ps_fmt("taskmanager %s registered", id),
                     (size_t)c->starts[i], S_START_MS) < 0)
        PS_FAIL("TaskManager %s did not register", id);
}

/* A JobManager with settings (extra flags) on a free port, and tm-a and tm-b registered. */
static void s_cluster_start(s_cluster_t *c, const char *const settings[])
{
    if (!c->slots) c->slots = 2;
    for (int attempt = 0;; attempt++) {
        snprintf(c->endpoint, sizeof c->endpoint, "tcp://127.0.0.1:%d", ps_free_port());
        const char *argv[PS_MAX_ARGS + 1];
        size_t n =
            ps_append(argv, 0,
                      PS_ARGV("jobmanager", "--bind", c->endpoint, "--set", "heartbeat.timeout=2s",
                              "--set", ps_fmt("state.checkpoints.dir=%s", ps_path(S_CKPT_DIR))));
        ps_append(argv, n, settings);
        c->jm = ps_start("jm", argv, ps_h.daemon_env);
        if (ps_wait_text(c->jm, c->jm->out, "listening on", 1, S_START_MS) >= 0) break;
        if (attempt < 3 && !ps_running(c->jm)) { /* the port was taken in between */
            ps_release(c->jm);
            continue;
        }
        PS_FAIL("the JobManager did not start on %s", c->endpoint);
    }
    for (int i = 0; i < 2; i++)
        s_tm_start(c, i);
    for (int i = 0; i < 2; i++) /* its heartbeats, which the JobManager watches from then on */
        if (ps_wait_text(c->jm, c->jm->err, ps_fmt("peer %s up", S_TM_IDS[i]), 1, S_START_MS) < 0)
            PS_FAIL("no heartbeat from %s", S_TM_IDS[i]);
}

/* SIGTERM to every daemon (NULL: killed on purpose): each must exit 0 (under ASan: no leak, no
 * report). */
static void s_cluster_stop(s_cluster_t *c)
{
    ps_proc_t *all[] = {c->tm[0], c->tm[1], c->jm};
    for (size_t i = 0; i < 3; i++)
        if (ps_running(all[i])) kill(all[i]->pid, SIGTERM);
    for (size_t i = 0; i < 3; i++) {
        if (!all[i]) continue;
        if (!ps_wait_exit(all[i], S_CLI_MS)) PS_FAIL("%s did not exit after SIGTERM", all[i]->name);
        if (ps_exit_code(all[i]) != 0 || ps_sanitizer_report(ps_read_file(all[i]->err)))
            PS_FAIL("%s exited %d after SIGTERM", all[i]->name, ps_exit_code(all[i]));
    }
}

/* Runs `weir ARGS --jobmanager <c's endpoint> --set client.timeout=2s` to completion. */
static ps_result_t s_cli(const s_cluster_t *c, const char *const args[])
{
    const char *argv[PS_MAX_ARGS + 1];
    size_t n = ps_append(argv, 0, args);
    ps_append(argv, n, PS_ARGV("--jobmanager", c->endpoint, "--set", "client.timeout=2s"));
    return ps_run("cli", argv, S_CLI_MS);
}

/* Starts `weir ARGS --jobmanager ...` and waits for it, failing at once should the JobManager
 * die meanwhile (a CLI that follows a job would wait for it forever). */
static ps_result_t s_cli_long(s_cluster_t *c, const char *name, const char *const args[])
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

/* Submits a topology (no --wait); returns the job id. */
static const char *s_submit(const s_cluster_t *c, const char *topology)
{
    ps_result_t r = s_cli(c, PS_ARGV("submit", topology));
    char id[32];
    if (r.code != 0 || sscanf(r.out, "%31s", id) != 1)
        PS_FAIL("weir submit exited %d:\n%s%s", r.code, r.out, r.err);
    return ps_fmt("%s", id);
}

/* ---- `weir job ID --json`, read for a few fields ---- */

/* The text of a string field's first occurrence ("" when absent); kept until the test ends. The
 * job's own fields come before its operators', so "state" and "error" are the job's. */
static const char *s_jstr(const char *json, const char *field)
{
    const char *key = ps_fmt("\"%s\":\"", field), *at = strstr(json, key);
    if (!at) return "";
    at += strlen(key);
    const char *end = strchr(at, '"');
    return ps_fmt("%.*s", end ? (int)(end - at) : 0, at);
}

static int64_t s_jnum(const char *json, const char *field)
{
    const char *key = ps_fmt("\"%s\":", field), *at = strstr(json, key);
    return at ? strtoll(at + strlen(key), NULL, 10) : -1;
}

/* `weir job ID --json`; "" when the JobManager did not answer. */
static const char *s_job(const s_cluster_t *c, const char *id)
{
    ps_result_t r = s_cli(c, PS_ARGV("job", id, "--json"));
    return r.code == 0 ? r.out : "";
}

/* RUNNING, with every subtask running. */
static bool s_all_running(const char *job)
{
    size_t subtasks = ps_count(job, "{\"node\":");
    return !strcmp(s_jstr(job, "state"), "RUNNING") && subtasks > 0 &&
           ps_count(job, "\"state\":\"running\"") == subtasks;
}

static bool s_hosts(const char *job, int tm)
{
    return strstr(job, ps_fmt("{\"node\":\"%s\"", S_TM_IDS[tm])) != NULL;
}

/* Asks `weir job` until the job reaches state (or, with state "ALL-RUNNING", every subtask runs
 * in an attempt after min_attempt); returns that answer. Fails at the deadline, when the job ends
 * in another state, or when the JobManager dies. */
static const char *s_wait_job(s_cluster_t *c, const char *id, const char *state,
                              int64_t min_attempt, int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    bool all = !strcmp(state, "ALL-RUNNING");
    for (;;) {
        if (!ps_running(c->jm)) PS_FAIL("the JobManager died (exit %d)", ps_exit_code(c->jm));
        const char *job = s_job(c, id), *now = s_jstr(job, "state");
        if (all ? s_all_running(job) && s_jnum(job, "attempt") >= min_attempt : !strcmp(now, state))
            return job;
        bool ended = !strcmp(now, "FINISHED") || !strcmp(now, "FAILED") || !strcmp(now, "CANCELED");
        if (ended || ps_now_ms() - t0 > timeout_ms)
            PS_FAIL("job %s is %s (%s), not %s, after %lld ms: %s", id, now[0] ? now : "unknown",
                    s_jstr(job, "error"), state, (long long)(ps_now_ms() - t0), job);
        ps_sleep_ms(50);
    }
}

/* The number of COMPLETED checkpoints (periodic ones, not the final one) `weir checkpoints`
 * lists. */
static size_t s_completed_checkpoints(const s_cluster_t *c, const char *id)
{
    ps_result_t r = s_cli(c, PS_ARGV("checkpoints", id, "--json"));
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

/* ---- the tests ---- */

/* TaskManagers killed at random moments while the job runs with state backend `backend`. */
static void s_kills(const char *backend)
{
    s_output_t want = s_reference();
    s_cluster_t c = {0};
    s_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s", "--set",
                                ps_fmt("state.backend=%s", backend), "--set",
                                ps_fmt("state.backend.rocksdb.localdir=%s", ps_path("rocksdb"))));
    const char *out = ps_path("out");
    const char *id = s_submit(&c, s_topology("ft", out, s_size().rate));

    const char *seed_env = getenv("WEIR_TEST_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20240101, x = seed | 1;
    int want_kills = ps_h.asan ? 2 : 3, kills = 0;
    int64_t attempt = 0;
    print_message("  seed %llu (WEIR_TEST_SEED)\n", (unsigned long long)seed);
    const char *job = s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    while (kills < want_kills) {
        ps_sleep_ms(800 + (int)(s_rand(&x) % 1700)); /* the job runs a while */
        job = s_job(&c, id);
        if (!s_all_running(job)) break; /* finished, most likely: the assertions below say */
        /* a TaskManager with subtasks (after a restart they may all be on one) */
        int tm = kills % 2; /* alternating, unless it has none */
        if (!s_hosts(job, tm)) tm = 1 - tm;
        int64_t killed = ps_now_ms();
        ps_kill9(c.tm[tm]);
        ps_release(c.tm[tm]);
        kills++;
        ps_sleep_ms(200 + (int)(s_rand(&x) % 1000));
        s_tm_start(&c, tm);
        job = s_wait_job(&c, id, "ALL-RUNNING", attempt + 1, S_JOB_MS);
        attempt = s_jnum(job, "attempt");
        print_message("  kill %d of %s: running again %lld ms after kill -9 (attempt %lld, "
                      "recovery_ms %lld, from checkpoint %lld)\n",
                      kills, S_TM_IDS[tm], (long long)(ps_now_ms() - killed), (long long)attempt,
                      (long long)s_jnum(job, "recovery_ms"),
                      (long long)s_jnum(job, "latest_checkpoint"));
    }
    job = s_wait_job(&c, id, "FINISHED", 0, S_JOB_MS);
    if (kills < 2) PS_FAIL("the job finished after %d kills: make it longer", kills);
    if (s_jnum(job, "restarts") < kills)
        PS_FAIL("%d kills, yet `weir job` reports %lld restarts", kills,
                (long long)s_jnum(job, "restarts"));
    size_t completed = s_completed_checkpoints(&c, id);
    assert_true(completed >= 1);
    s_output_t got = s_committed(out);
    print_message("  %zu results in %zu part files, %zu checkpoints completed\n", got.n, got.parts,
                  completed);
    s_expect_same("after the kills", &got, &want);
    s_cluster_stop(&c);
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

/* Restores the savepoint at parallelism into the folder of topology and waits for the end; then
 * its output, the one before the savepoint included, must be the uninterrupted run's. */
static void s_restore(s_cluster_t *c, const char *topology, const char *out, const char *savepoint,
                      int parallelism, const s_output_t *want)
{
    ps_result_t r = s_cli_long(c, ps_fmt("restore-p%d", parallelism),
                               PS_ARGV("submit", topology, "--from-savepoint", savepoint,
                                       "--parallelism", ps_fmt("%d", parallelism), "--wait"));
    print_message("  restored at parallelism %d: finished in %lld ms\n", parallelism,
                  (long long)r.ms);
    s_output_t got = s_committed(out);
    s_expect_same(ps_fmt("restored at parallelism %d", parallelism), &got, want);
}

static void test_savepoint_restores_at_parallelism_1_and_4(void **state)
{
    (void)state;
    s_output_t want = s_reference();
    s_cluster_t c = {0};
    s_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *out = ps_path("out"), *out4 = ps_path("out-p4");
    const char *topology = s_topology("sp", out, s_size().rate);
    const char *topology4 = s_topology("sp4", out4, s_size().rate);
    const char *id = s_submit(&c, topology);

    /* some checkpoints completed, some output committed */
    int64_t t0 = ps_now_ms();
    while (s_jnum(s_job(&c, id), "latest_checkpoint") < 2 || s_committed(out).n == 0) {
        if (ps_now_ms() - t0 > S_JOB_MS)
            PS_FAIL("no checkpoint and no output after %d ms", S_JOB_MS);
        ps_sleep_ms(100);
    }
    s_output_t before = s_committed(out);
    ps_result_t r = s_cli_long(&c, "stop", PS_ARGV("stop", id, "--savepoint", ps_path("sp")));
    char savepoint[512];
    if (sscanf(r.out, "%511s", savepoint) != 1) PS_FAIL("weir stop printed no path:\n%s", r.out);
    const char *job = s_wait_job(&c, id, "FINISHED", 0, S_CLI_MS);
    print_message("  stopped with %zu results committed, savepoint %s (%s)\n", before.n,
                  strrchr(savepoint, '/') + 1, s_jstr(job, "error"));
    assert_true(s_committed(out).n < want.n); /* stopped in the middle */
    s_copy_folder(out, out4); /* the output so far, and what the savepoint has pending */

    s_restore(&c, topology4, out4, savepoint, 4, &want);

    /* relocatable: the same savepoint, moved elsewhere, restores again */
    const char *moved = ps_path("moved");
    assert_int_equal(mkdir(moved, 0755), 0);
    const char *moved_sp = ps_fmt("%s/%s", moved, strrchr(savepoint, '/') + 1);
    assert_int_equal(rename(savepoint, moved_sp), 0);
    s_restore(&c, topology, out, moved_sp, 1, &want);
    s_cluster_stop(&c);
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
    s_cluster_t c = {0};
    s_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *out = ps_path("out");
    const char *topology = s_topology_of("drain", out, s_size().rate, s_size().total, 1);
    const char *id = s_submit(&c, topology);
    int64_t t0 = ps_now_ms();
    while (s_jnum(s_job(&c, id), "latest_checkpoint") < 2 || s_committed(out).n == 0) {
        if (ps_now_ms() - t0 > S_JOB_MS)
            PS_FAIL("no checkpoint and no output after %d ms", S_JOB_MS);
        ps_sleep_ms(100);
    }
    ps_result_t r =
        s_cli_long(&c, "stop", PS_ARGV("stop", id, "--savepoint", ps_path("sp"), "--drain"));
    char savepoint[512];
    if (sscanf(r.out, "%511s", savepoint) != 1) PS_FAIL("weir stop printed no path:\n%s", r.out);
    const char *job = s_wait_job(&c, id, "FINISHED", 0, S_CLI_MS);
    uint64_t made = s_source_made(savepoint);
    s_output_t got = s_committed(out);
    print_message("  drained after %llu of %u records: %zu results committed (%s)\n",
                  (unsigned long long)made, s_size().total, got.n, s_jstr(job, "error"));
    if (made == 0 || made >= s_size().total)
        PS_FAIL("not stopped in the middle: %llu records", (unsigned long long)made);
    const char *ref = ps_path("ref-drain");
    s_output_t want = s_local("local-cut", s_topology_of("cut", ref, 0, made, 1), ref);
    s_expect_same("drained", &got, &want);

    r = s_cli(&c, PS_ARGV("submit", topology, "--from-savepoint", savepoint, "--wait"));
    if (r.code == 0 || !strstr(r.err, "--drain"))
        PS_FAIL("restoring a drained savepoint: exit %d, saying:\n%s", r.code, r.err);
    s_cluster_stop(&c);
}

static void test_no_checkpoints_fails_fast(void **state)
{
    (void)state;
    s_cluster_t c = {0};
    s_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=0"));
    const char *id = s_submit(&c, s_topology("nock", ps_path("out"), s_size().rate));
    const char *job = s_wait_job(&c, id, "ALL-RUNNING", 0, S_START_MS);
    int tm = s_hosts(job, 0) ? 0 : 1;
    int64_t killed = ps_now_ms();
    ps_kill9(c.tm[tm]);
    job = s_wait_job(&c, id, "FAILED", 0, S_FAIL_MS);
    const char *error = s_jstr(job, "error");
    print_message("  FAILED %lld ms after kill -9 of %s: %s\n", (long long)(ps_now_ms() - killed),
                  S_TM_IDS[tm], error);
    if (!strstr(error, S_TM_IDS[tm]))
        PS_FAIL("the job failed, but its error does not name %s: %s", S_TM_IDS[tm], error);
    assert_int_equal(s_jnum(job, "restarts"), 0);
    ps_result_t r = s_cli(&c, PS_ARGV("jobs", "--json"));
    assert_int_equal(r.code, 0);
    s_expect_no_live_job(r.out);
    c.tm[tm] = NULL; /* killed on purpose */
    s_cluster_stop(&c);
}

static void test_bad_savepoint_path(void **state)
{
    (void)state;
    s_cluster_t c = {0};
    s_cluster_start(&c, PS_ARGV("--set", "execution.checkpointing.interval=1s"));
    const char *topology = s_topology("bad", ps_path("out"), 0);
    const char *bad = "/nonexistent/savepoint-0-1";
    ps_result_t r = s_cli(&c, PS_ARGV("submit", topology, "--from-savepoint", bad, "--wait"));
    if (r.code == 0 || !strstr(r.err, bad))
        PS_FAIL("`weir submit --from-savepoint %s` exited %d saying:\n%s", bad, r.code, r.err);
    print_message("  %s", r.err);
    ps_sleep_ms(500); /* a job it started anyway would be listed by now */
    r = s_cli(&c, PS_ARGV("jobs", "--json"));
    assert_int_equal(r.code, 0);
    s_expect_no_live_job(r.out);
    s_cluster_stop(&c);
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
        S_TEST(test_bad_savepoint_path),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir recovery: failures on loopback", tests, s_group_setup,
                                       ps_group_teardown);
}
