/* deploy/: the files an operator installs, checked by the tools that read them.
 *
 * - the units in deploy/systemd pass `systemd-analyze verify` without a word (with their weir path
 *   pointed at the weir under test: verify checks that ExecStart's program exists).
 * - The units' command lines run: the JobManager's and the TaskManager's ExecStart, as written,
 *   with deploy/weir.yaml as their --config (only ports and keys set on top, as /etc/weir/weir.yaml
 *   would), make a cluster in which the TaskManager registers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/process.h"

#define S_SYSTEMD_ANALYZE "/usr/bin/systemd-analyze"
#define S_UNIT_WEIR       "/usr/local/bin/weir"
#define S_UNIT_CONFIG     "/etc/weir/weir.yaml"
#define S_MAX_UNITS       8
#define S_WAIT_MS         (ps_h.asan ? 60000 : 20000)

/* The names of deploy/systemd's units, sorted; their count. */
static size_t s_units(const char *names[S_MAX_UNITS])
{
    const char *dir = ps_fmt("%s/deploy/systemd", ps_h.src);
    DIR *d = opendir(dir);
    if (!d) PS_FAIL("cannot open %s", dir);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 8, ".service")) continue;
        if (n == S_MAX_UNITS) PS_FAIL("more than %d units in %s", S_MAX_UNITS, dir);
        names[n++] = ps_fmt("%s", e->d_name);
    }
    closedir(d);
    ps_sort_strings((char **)names, n);
    return n;
}

/* The text of unit name with S_UNIT_WEIR replaced by the weir under test. */
static const char *s_unit_text(const char *name)
{
    const char *text = ps_read_file(ps_fmt("%s/deploy/systemd/%s", ps_h.src, name));
    const char *at;
    while ((at = strstr(text, S_UNIT_WEIR)))
        text = ps_fmt("%.*s%s%s", (int)(at - text), text, ps_h.weir, at + strlen(S_UNIT_WEIR));
    return text;
}

static void test_units_verify(void **state)
{
    (void)state;
    const char *names[S_MAX_UNITS];
    size_t n = s_units(names);
    if (n < 3)
        PS_FAIL("%zu units in deploy/systemd: the JobManager's, the TaskManager's, etcd's", n);
    const char *argv[PS_MAX_ARGS + 1] = {"verify", NULL};
    size_t k = 1;
    for (size_t i = 0; i < n; i++) {
        const char *copy = ps_path(names[i]);
        ps_write_file(copy, s_unit_text(names[i]));
        argv[k++] = copy;
    }
    argv[k] = NULL;
    ps_result_t r = ps_run_program("verify", S_SYSTEMD_ANALYZE, argv, S_WAIT_MS);
    if (r.code != 0 || r.out[0] || r.err[0])
        PS_FAIL("systemd-analyze verify: exit %d\n%s%s", r.code, r.out, r.err);
    print_message("  %zu units verified\n", n);
}

/* ExecStart's arguments after the program, with --config's file replaced by config. */
static size_t s_exec_args(const char *name, const char *config, const char *args[])
{
    const char *text = s_unit_text(name), *line = strstr(text, "\nExecStart=");
    if (!line) PS_FAIL("%s has no ExecStart", name);
    line += strlen("\nExecStart=");
    char *copy = (char *)ps_fmt("%.*s", (int)strcspn(line, "\n"), line);
    size_t n = 0;
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        if (!n++) {
            if (strcmp(tok, ps_h.weir)) PS_FAIL("%s runs %s, not weir", name, tok);
            continue;
        }
        args[n - 2] = strcmp(tok, S_UNIT_CONFIG) ? tok : config;
        if (n > 16) PS_FAIL("%s: too many arguments", name);
    }
    return n - 1;
}

static void test_units_command_lines_make_a_cluster(void **state)
{
    (void)state;
    const char *config = ps_fmt("%s/deploy/weir.yaml", ps_h.src);
    const char *endpoint = ps_fmt("tcp://127.0.0.1:%d", ps_free_port());
    const char *jm[PS_MAX_ARGS + 1], *tm[PS_MAX_ARGS + 1];
    size_t j = s_exec_args("weir-jobmanager.service", config, jm);
    size_t t = s_exec_args("weir-taskmanager.service", config, tm);
    if (j < 3 || strcmp(jm[0], "jobmanager") || t < 3 || strcmp(tm[0], "taskmanager"))
        PS_FAIL("the units do not run `weir jobmanager --config ...` and `weir taskmanager ...`");
    /* what /etc/weir/weir.yaml would set: where, the keys (ps_group_setup made them) */
    const char *keys = ps_fmt("security.keys-dir=%s", ps_h.keys);
    j = ps_append(jm, j,
                  PS_ARGV("--set", ps_fmt("jobmanager.bind=%s", endpoint), "--set", keys, "--set",
                          "rest.port=0", "--set", "metrics.prometheus.port=0", "--set",
                          ps_fmt("state.checkpoints.dir=%s", ps_path("ck"))));
    jm[j] = NULL;
    t = ps_append(tm, t,
                  PS_ARGV("--set", ps_fmt("jobmanager.address=%s", endpoint), "--set", keys,
                          "--set", "taskmanager.node-id=tm-a", "--set",
                          "metrics.prometheus.port=0"));
    tm[t] = NULL;
    ps_proc_t *jp = ps_start("jm", jm, ps_h.daemon_env);
    if (ps_wait_text(jp, jp->out, "listening", 1, S_WAIT_MS) < 0)
        PS_FAIL("the JobManager's unit command did not start:\n%s", ps_read_file(jp->err));
    ps_proc_t *tp = ps_start("tm", tm, ps_h.daemon_env);
    if (ps_wait_text(jp, jp->err, "taskmanager tm-a registered", 1, S_WAIT_MS) < 0)
        PS_FAIL("the TaskManager's unit command did not register:\n%s\n%s", ps_read_file(tp->err),
                ps_read_file(jp->err));
    print_message("  %s", ps_read_file(jp->out));
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_deploy", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_units_verify, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_units_command_lines_make_a_cluster, ps_setup,
                                        ps_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
