/* deploy/ansible: the playbooks that install and stop a cluster, checked by ansible itself and by
 * a real run.
 *
 * - `ansible-playbook --syntax-check` passes for site.yml and stop.yml with the example inventory.
 * - site.yml run against this machine (one inventory host, "a", in the groups etcd, jobmanagers
 *   and taskmanagers, reached with ansible_connection=local) leaves a working cluster: `weir jobs`
 *   with the admin key the playbook made finds the leader through etcd, and a small job submitted
 *   to it runs to FINISHED; then stop.yml stops every process site.yml started. Every path the
 *   playbooks write (binary, configuration, state, keys, pid files, logs) and every port is the
 *   test's: the variables are given with -e, which overrides everything, so that no run can reach
 *   /etc, /usr/local/bin or ~/.local. The apt task runs (the packages are present; it installs
 *   nothing and needs no network; about 5 s), the weir under test is the binary copied, and the
 *   processes run through the playbook's fallback for hosts without systemd (start-stop-daemon,
 *   pid files), as on this machine and CI. They run in sessions of their own, out of the harness's
 *   reach: the teardown stops them by their pid files when the test fails before stop.yml did, and
 *   a SIGTERM or SIGINT handler does when the test is stopped.
 *
 * Ansible (python) runs without the sanitizer settings of an ASan build (ASAN_OPTIONS, LD_PRELOAD
 * and the like); the weir processes it starts get the harness's ASan settings back through the
 * playbook's weir_environment. Its home and temporary folders are the test's. Not run here: the
 * playbooks' systemd branch (no systemd as PID 1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/process.h"

#define S_ANSIBLE_PLAYBOOK "/usr/bin/ansible-playbook"
#define S_PLAYBOOK_MS      (ps_h.asan ? 300000 : 180000)
#define S_WAIT_MS          (ps_h.asan ? 60000 : 20000)
#define S_HOST             "a"

/* The units the playbook starts on host a, by their pid files' names. */
static const char *const s_units[] = {"weir-taskmanager", "weir-jobmanager", "weir-etcd"};

/* A small bounded job: 600 readings of 10 devices, 10 s tumbling windows, printed by the
 * TaskManager. */
static const char s_job[] = "name: deploy-check\n"
                            "parallelism: 1\n"
                            "sources:\n"
                            "  - type: generator\n"
                            "    devices: 10\n"
                            "    interval: 1s\n"
                            "    total: 600\n"
                            "operators:\n"
                            "  - map:\n"
                            "      region: region\n"
                            "      ts: ts\n"
                            "key_by: region\n"
                            "event_time:\n"
                            "  field: ts\n"
                            "  max_out_of_orderness: 1s\n"
                            "window:\n"
                            "  type: tumbling\n"
                            "  size: 10s\n"
                            "aggregates:\n"
                            "  readings: count()\n"
                            "sinks:\n"
                            "  - type: stdout\n";

/* This process's environment without sanitizer settings, with ansible's home and temporary
 * folders in the test's directory and its output plain. Kept until the test ends. */
static char **s_ansible_env(void)
{
    return ps_env(PS_ARGV(PS_ENV_SANITIZERS, "ANSIBLE_"),
                  PS_ARGV(ps_fmt("HOME=%s", ps_path("home")),
                          ps_fmt("ANSIBLE_LOCAL_TEMP=%s", ps_path("ansible-tmp")),
                          ps_fmt("ANSIBLE_REMOTE_TEMP=%s", ps_path("ansible-tmp")),
                          "ANSIBLE_PIPELINING=1", "ANSIBLE_NOCOLOR=1",
                          "ANSIBLE_RETRY_FILES_ENABLED=0"));
}

/* Runs ansible-playbook with args (after the program's name) to its end; fails the test, with its
 * output's end, unless it exits 0. */
static void s_ansible(const char *name, const char *const args[], int timeout_ms)
{
    ps_proc_t *p = ps_start_program(name, S_ANSIBLE_PLAYBOOK, args, s_ansible_env());
    int64_t t0 = ps_now_ms();
    if (!ps_wait_exit(p, timeout_ms)) PS_FAIL("%s: no end after %d ms", name, timeout_ms);
    if (ps_exit_code(p)) PS_FAIL("%s: exit %d", name, ps_exit_code(p));
    print_message("  %s: %.1f s\n", name, (double)(ps_now_ms() - t0) / 1000);
    ps_release(p);
}

static void test_syntax_check(void **state)
{
    (void)state;
    const char *dir = ps_fmt("%s/deploy/ansible", ps_h.src);
    s_ansible("syntax-check",
              PS_ARGV("--syntax-check", "-i", ps_fmt("%s/inventory.example.ini", dir),
                      ps_fmt("%s/site.yml", dir), ps_fmt("%s/stop.yml", dir)),
              S_WAIT_MS * 3);
}

/* The pid in host a's pid file of unit, when that process runs and names the test's directory
 * (a pid file left from before, or a pid used again, is not ours); else 0. */
static pid_t s_unit_pid(const char *unit)
{
    char *text = ps_slurp(ps_fmt("%s/%s/run/%s.pid", ps_h.dir, S_HOST, unit));
    long pid = strtol(text, NULL, 10);
    free(text);
    if (pid <= 0) return 0;
    char cmdline[4096] = "";
    FILE *f = fopen(ps_fmt("/proc/%ld/cmdline", pid), "r");
    size_t len = f ? fread(cmdline, 1, sizeof cmdline - 1, f) : 0;
    if (f) fclose(f);
    for (size_t i = 0; i < len; i++)
        if (!cmdline[i]) cmdline[i] = ' '; /* its arguments, NUL-separated */
    cmdline[len] = '\0';
    char *stat = ps_slurp(ps_fmt("/proc/%ld/stat", pid));
    const char *st = strrchr(stat, ')');
    bool ours = strstr(cmdline, ps_h.dir) && st && st[1] == ' ' && st[2] != 'Z';
    free(stat);
    return ours ? (pid_t)pid : 0;
}

/* Stops what the playbook started, by its pid files: SIGTERM, SIGKILL after timeout_ms. */
static void s_stop_units(int timeout_ms)
{
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
        pid_t pid = s_unit_pid(s_units[i]);
        if (pid) kill(pid, SIGTERM);
    }
    int64_t deadline = ps_now_ms() + timeout_ms;
    int left;
    do {
        left = 0;
        for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++)
            left += s_unit_pid(s_units[i]) != 0;
        if (left) ps_sleep_ms(50);
    } while (left && ps_now_ms() < deadline);
    for (size_t i = 0; left && i < sizeof s_units / sizeof s_units[0]; i++) {
        pid_t pid = s_unit_pid(s_units[i]);
        if (pid) kill(pid, SIGKILL);
    }
}

/* The playbook's variables for host a: every path in the test's directory, free ports, the weir
 * under test, no user made, no systemd. */
static const char *s_vars(void)
{
    const char *root = ps_fmt("%s/{{ inventory_hostname }}", ps_h.dir);
    /* the harness's daemon settings: WEIR_LOG=info (the TaskManager's registration is logged),
     * under ASan a small quarantine */
    const char *env = ps_h.asan ? ps_fmt("{\"WEIR_LOG\": \"info\", \"ASAN_OPTIONS\": \"%s\"}",
                                         ps_h.asan_options + strlen("ASAN_OPTIONS="))
                                : "{\"WEIR_LOG\": \"info\"}";
    return ps_fmt(
        "{\"ansible_connection\": \"local\", \"ansible_python_interpreter\": "
        "\"/usr/bin/python3\",\n"
        " \"weir_host_address\": \"127.0.0.1\", \"weir_service_manager\": \"process\",\n"
        " \"weir_local_binary\": \"%s\", \"weir_local_keys_dir\": \"%s\",\n"
        " \"weir_bin_dir\": \"%s/bin\", \"weir_config_dir\": \"%s/etc\",\n"
        " \"weir_state_dir\": \"%s/state\", \"weir_run_dir\": \"%s/run\",\n"
        " \"weir_log_dir\": \"%s/log\", \"weir_unit_dir\": \"%s/units\",\n"
        " \"weir_checkpoints_dir\": \"%s\",\n"
        " \"weir_user\": \"root\", \"weir_create_user\": false, \"weir_etcd_user\": \"root\",\n"
        " \"weir_environment\": %s,\n"
        " \"weir_etcd_client_port\": %d, \"weir_etcd_peer_port\": %d,\n"
        " \"weir_jobmanager_port\": %d, \"weir_rest_port\": %d,\n"
        " \"weir_jobmanager_metrics_port\": %d, \"weir_taskmanager_port\": %d,\n"
        " \"weir_taskmanager_metrics_port\": %d}\n",
        ps_h.weir, ps_path("keys"), root, root, root, root, root, root, ps_path("ck"), env,
        ps_free_port(), ps_free_port(), ps_free_port(), ps_free_port(), ps_free_port(),
        ps_free_port(), ps_free_port());
}

/* The value of "key": N in the vars' JSON. */
static int s_port(const char *vars, const char *key)
{
    const char *at = strstr(vars, ps_fmt("\"%s\": ", key));
    if (!at) PS_FAIL("no %s in the variables", key);
    return atoi(at + strlen(key) + 4);
}

static void test_playbook_makes_a_cluster(void **state)
{
    (void)state;
    const char *vars = s_vars(), *vars_file = ps_path("vars.json");
    ps_write_file(vars_file, vars);
    ps_write_file(ps_path("inventory.ini"),
                  "[etcd]\n" S_HOST "\n[jobmanagers]\n" S_HOST "\n[taskmanagers]\n" S_HOST "\n");
    s_ansible("site",
              PS_ARGV("-i", ps_path("inventory.ini"), "-e", ps_fmt("@%s", vars_file),
                      ps_fmt("%s/deploy/ansible/site.yml", ps_h.src)),
              S_PLAYBOOK_MS);
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++)
        if (!s_unit_pid(s_units[i])) PS_FAIL("%s does not run after the playbook", s_units[i]);

    /* the CLI with the admin key the playbook made, finding the leader through etcd */
    const char *etcd = ps_fmt("http://127.0.0.1:%d", s_port(vars, "weir_etcd_client_port"));
    const char *keys = ps_fmt("security.keys-dir=%s", ps_path("keys"));
    const char *log = ps_fmt("%s/%s/log/weir-jobmanager.log", ps_h.dir, S_HOST);
    int64_t deadline = ps_now_ms() + S_WAIT_MS;
    while (!strstr(ps_read_file(log), "taskmanager tm-" S_HOST " registered")) {
        if (ps_now_ms() > deadline)
            PS_FAIL("tm-" S_HOST " did not register:\n%s\n%s", ps_read_file(log),
                    ps_read_file(ps_fmt("%s/%s/log/weir-taskmanager.log", ps_h.dir, S_HOST)));
        ps_sleep_ms(100);
    }
    ps_result_t r = ps_run("jobs", PS_ARGV("jobs", "--etcd", etcd, "--set", keys), S_WAIT_MS);
    if (r.code || !strstr(r.out, "leader jm-" S_HOST))
        PS_FAIL("weir jobs: exit %d\n%s%s", r.code, r.out, r.err);
    print_message("  %.*s\n", (int)strcspn(r.out, "\n"), r.out);

    const char *job = ps_path("job.yaml");
    ps_write_file(job, s_job);
    r = ps_run("submit", PS_ARGV("submit", "--wait", job, "--etcd", etcd, "--set", keys),
               S_WAIT_MS * 3);
    if (r.code || !strstr(r.err, "FINISHED"))
        PS_FAIL("weir submit --wait: exit %d\n%s%s", r.code, r.out, r.err);
    print_message("  %s", strstr(r.err, "weir: job") ? strstr(r.err, "weir: job") : r.err);

    /* stop.yml stops them (by their pid files), without a sanitizer report */
    s_ansible("stop",
              PS_ARGV("-i", ps_path("inventory.ini"), "-e", ps_fmt("@%s", vars_file),
                      ps_fmt("%s/deploy/ansible/stop.yml", ps_h.src)),
              S_PLAYBOOK_MS);
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
        if (s_unit_pid(s_units[i])) PS_FAIL("%s runs after stop.yml", s_units[i]);
        const char *text = ps_read_file(ps_fmt("%s/%s/log/%s.log", ps_h.dir, S_HOST, s_units[i]));
        if (ps_sanitizer_report(text)) PS_FAIL("%s:\n%s", s_units[i], text);
    }
    if (ps_processes_naming(ps_h.dir)) PS_FAIL("processes naming %s are left", ps_h.dir);
}

/* The pid files' paths, for s_on_signal (made before the playbook runs). */
static char s_pidfiles[sizeof s_units / sizeof s_units[0]][400];

/* SIGTERM or SIGINT (scons stopping the tests): the units run in sessions of their own, out of
 * the test's process group and its harness's reach, so they are killed here by their pid files
 * (async-signal-safe calls only), then the harness's handler cleans up and ends the test. */
static void s_on_signal(int sig)
{
    for (size_t i = 0; i < sizeof s_pidfiles / sizeof s_pidfiles[0]; i++) {
        char buf[24] = "";
        int fd = s_pidfiles[i][0] ? open(s_pidfiles[i], O_RDONLY) : -1;
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0) close(fd);
        long pid = 0;
        for (ssize_t k = 0; k < n && buf[k] >= '0' && buf[k] <= '9'; k++)
            pid = pid * 10 + (buf[k] - '0');
        if (pid > 0) kill((pid_t)pid, SIGKILL);
    }
    ps_on_signal(sig);
}

static int s_setup(void **state)
{
    int rc = ps_setup(state);
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++)
        snprintf(s_pidfiles[i], sizeof s_pidfiles[i], "%s/%s/run/%s.pid", ps_h.dir, S_HOST,
                 s_units[i]);
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    return rc;
}

/* ps_teardown, after stopping whatever the playbook started (a failed test leaves it running). */
static int s_teardown(void **state)
{
    if (ps_h.dir[0]) s_stop_units(5000);
    signal(SIGTERM, ps_on_signal);
    signal(SIGINT, ps_on_signal);
    memset(s_pidfiles, 0, sizeof s_pidfiles);
    return ps_teardown(state);
}

static int s_group_setup(void **state)
{
    (void)state;
    return ps_group_setup("test_deploy_ansible", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_syntax_check, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_playbook_makes_a_cluster, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, ps_group_teardown);
}
