/* A real mosquitto for the tests (mqtt.h). */
#include "tests/support/mqtt.h"

#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tm_group_setup(const char *name)
{
    if (ps_group_setup(name, false)) return -1;
    if (access(TM_MOSQUITTO_BIN, X_OK) == 0 && access(TM_PUB_BIN, X_OK) == 0) return 0;
    fprintf(stderr,
            "%s: %s or %s is missing (Debian's mosquitto and mosquitto-clients; "
            "deploy/install-deps.sh)\n",
            name, TM_MOSQUITTO_BIN, TM_PUB_BIN);
    return -1;
}

/* Starts the broker (its configuration written) and waits until it runs. */
static void s_run(tm_broker_t *b)
{
    b->proc = ps_start_program(ps_fmt("%s.%d", b->name, ++b->starts), TM_MOSQUITTO_BIN,
                               PS_ARGV("-c", b->conf), NULL);
    if (ps_wait_text(b->proc, b->proc->err, " running", 1, TM_START_MS) < 0)
        PS_FAIL("mosquitto %s did not start on %s", b->name, b->broker);
}

tm_broker_t *tm_start(const char *name)
{
    return tm_start_conf(name, "allow_anonymous true\n");
}

tm_broker_t *tm_start_conf(const char *name, const char *auth)
{
    tm_broker_t *b = ps_alloc(sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->port = ps_free_port();
    snprintf(b->broker, sizeof b->broker, "127.0.0.1:%d", b->port);
    const char *data = ps_path(ps_fmt("%s.data", name));
    if (mkdir(data, 0700)) PS_FAIL("mkdir %s", data);
    /* run as the user the test runs as: as root, mosquitto would switch to user mosquitto,
     * which cannot write the test's directory */
    const struct passwd *pw = getpwuid(geteuid());
    b->conf = ps_path(ps_fmt("%s.conf", name));
    ps_write_file(b->conf, ps_fmt("listener %d 127.0.0.1\n"
                                  "%s"
                                  "persistence true\n"
                                  "persistence_location %s/\n"
                                  "user %s\n"
                                  "log_dest stderr\n"
                                  "log_type error\nlog_type warning\nlog_type notice\n"
                                  "log_type information\nlog_type subscribe\n"
                                  "log_timestamp false\n",
                                  b->port, auth, data, pw ? pw->pw_name : "root"));
    s_run(b);
    return b;
}

void tm_stop(tm_broker_t *b)
{
    if (!b->proc) return;
    if (ps_running(b->proc)) kill(b->proc->pid, SIGTERM);
    /* once more if it runs on: a SIGTERM right after its start went unheeded once in CI (the
     * broker logged "running", then ran for 10 s more) */
    if (!ps_wait_exit(b->proc, TM_START_MS / 2)) {
        kill(b->proc->pid, SIGTERM);
        if (!ps_wait_exit(b->proc, TM_START_MS)) PS_FAIL("mosquitto %s did not stop", b->name);
    }
    ps_release(b->proc);
    b->proc = NULL;
}

void tm_restart(tm_broker_t *b)
{
    if (!b->proc) s_run(b);
}

void tm_wait_subscribed(tm_broker_t *b, const char *filter, size_t n, int timeout_ms)
{
    if (!b->proc || ps_wait_text(b->proc, b->proc->err, ps_fmt(" %s\n", filter), n, timeout_ms) < 0)
        PS_FAIL("mosquitto %s did not see %zu subscriptions to %s", b->name, n, filter);
}

void tm_wait_acked(tm_broker_t *b, size_t n, int timeout_ms)
{
    if (!b->proc || ps_wait_text(b->proc, b->proc->err, "Received PUBACK from ", n, timeout_ms) < 0)
        PS_FAIL("mosquitto %s did not see %zu acknowledgements", b->name, n);
}

static bool s_pub(const tm_broker_t *b, const char *topic, const char *flag, const char *arg)
{
    const char *argv[PS_MAX_ARGS] = {
        "-h", "127.0.0.1", "-p", ps_fmt("%d", b->port), "-q", "1", "-t", topic, flag, arg, NULL};
    if (b->user) ps_append(argv, 10, PS_ARGV("-u", b->user, "-P", b->password));
    ps_result_t r = ps_run_program("mosquitto_pub", TM_PUB_BIN, argv, TM_PUB_MS);
    return r.code == 0;
}

bool tm_publish_file(const tm_broker_t *b, const char *topic, const char *path)
{
    return s_pub(b, topic, "-f", path);
}

bool tm_publish(const tm_broker_t *b, const char *topic, const char *text)
{
    return s_pub(b, topic, "-m", text);
}
