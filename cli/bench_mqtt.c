/* weir bench mqtt (bench_mqtt.h), against Debian's mosquitto (/usr/sbin/mosquitto) started here
 * on a free loopback port, in a temporary folder removed at the end:
 *
 *   load  two persistent sessions are made first: the raw reader's (a plain subscription to
 *         `readings`) and the weir job's subtask's (its client id and shared subscription, as
 *         the job will connect), then both go away and --records JSON readings are published
 *         with QoS 1, --per-message lines a message. The broker queues every message for both
 *         sessions (max_queued_messages 0: no limit), so the two readers read the same messages
 *         under the same conditions, one after the other.
 *   raw   mosquitto_sub -C MESSAGES resumes its session and reads them all, its output into
 *         /dev/null: records/s from its start to its exit.
 *   weir  the MQTT source (parallelism 1, end_after_idle 1s) -> key by device -> tumbling
 *         window 1 min (count) -> a file sink, on a JobManager and a TaskManager in this process
 *         (bench_local.h): records/s from the submission to FINISHED, less the end_after_idle
 *         second the source waits before it ends (it ends a little later than that: its read
 *         back-off, up to 64 ms, and the job's end count against weir). Checked: the source
 *         read every record.
 *   ratio weir / raw; the goal: at least 0.7.
 * SIGINT or SIGTERM (blocked by main, asked for between messages and while waiting) stops it:
 * the job canceled, mosquitto and mosquitto_sub killed, the folder removed, exit 128 + the
 * signal. They run in process groups of their own, so that a terminal's Ctrl-C reaches the
 * benchmark only, which stops them. */
#include "cli/bench_mqtt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "cli/bench_local.h"
#include "cli/bench_machine.h"
#include "cli/cli.h"

#define S_CMD      "bench mqtt"
#define S_BROKER   "/usr/sbin/mosquitto"
#define S_SUB      "/usr/bin/mosquitto_sub"
#define S_JOB      "bench-mqtt"
#define S_WEIR_ID  "weir-" S_JOB "-source-1-0" /* the job's subtask (client_id: auto) */
#define S_WEIR_SUB "$share/weir-" S_JOB "-source-1/readings"
#define S_RAW_ID   "bench-raw"
#define S_WAIT_MS  60000 /* for anything: the broker up, the acknowledgements, a run */
#define S_END_IDLE 1.0   /* s: the source's end_after_idle */
#define S_DEVICES  1000
#define S_MS       INT64_C(1000000)
#define S_STOPPED  WR_ECLOSED /* SIGINT or SIGTERM came: b->signal says which */

typedef struct {
    uint64_t records;
    uint32_t per_message;
    bool json;
} s_opts_t;

typedef struct {
    char dir[64];
    int port;
    pid_t broker;
    uint64_t acked; /* publications acknowledged (the publisher's network thread) */
    int signal;     /* SIGINT or SIGTERM came (0: not yet) */
} s_bench_t;

/* ---- processes ---- */

/* Starts path with argv, its output into out (a file of the folder, or /dev/null); dies with
 * this process. -1 after printing why. */
static pid_t s_spawn(const char *path, char *const argv[], const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0); /* (a terminal's Ctrl-C is the benchmark's to handle) */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* (the CLI blocks SIGINT and SIGTERM) */
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(path, argv);
        _exit(127);
    }
    if (pid < 0) wr_cli_error(S_CMD, NULL, "fork: %s", strerror(errno));
    return pid;
}

/* Waits up to ms for pid to exit: its exit code, or -1 (killed then: the time was up, or
 * SIGINT or SIGTERM came, which b->signal says; b NULL: not asked). */
static int s_wait(s_bench_t *b, pid_t pid, int64_t ms)
{
    int64_t until = wr_now_ns() + ms * S_MS;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (wr_now_ns() > until || (b && wr_cli_stop_asked(&b->signal, 2))) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        if (!b) usleep(2000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A loopback port that was free a moment ago. */
static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
        !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* The broker, in the folder, once it accepts connections. */
static int s_broker_start(s_bench_t *b)
{
    char conf[128], log[128];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    snprintf(log, sizeof log, "%s/mosquitto.log", b->dir);
    FILE *f = fopen(conf, "w");
    if (!f) return WR_EIO;
    /* (as root mosquitto would switch to user mosquitto: stay who we are) */
    const struct passwd *pw = getpwuid(geteuid());
    fprintf(f,
            "listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
            "max_inflight_messages 0\nuser %s\n",
            b->port, pw ? pw->pw_name : "root");
    if (fclose(f)) return WR_EIO;
    b->broker = s_spawn(S_BROKER, (char *[]){S_BROKER, "-c", conf, NULL}, log);
    if (b->broker < 0) return WR_EIO;
    int64_t until = wr_now_ns() + S_WAIT_MS * S_MS;
    while (wr_now_ns() < until) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)b->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool up = fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a);
        if (fd >= 0) close(fd);
        if (up) return 0;
        if (waitpid(b->broker, NULL, WNOHANG) == b->broker) break;
        usleep(10000);
    }
    wr_cli_error(S_CMD, "see its log in the folder", "mosquitto did not start on port %d", b->port);
    return WR_EIO;
}

/* ---- load ---- */

static void s_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)mid;
    __atomic_add_fetch(&((s_bench_t *)obj)->acked, 1, __ATOMIC_SEQ_CST);
}

/* A client connected (MQTT 5, a persistent session when id is given), its loop running. */
static struct mosquitto *s_client(s_bench_t *b, const char *id)
{
    struct mosquitto *m = mosquitto_new(id, id == NULL, b);
    if (!m) return NULL;
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_max_inflight_messages_set(m, 0);
    mosquitto_publish_callback_set(m, s_on_publish);
    mosquitto_property *props = NULL;
    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, id ? 3600 : 0);
    int rc = mosquitto_connect_bind_v5(m, "127.0.0.1", b->port, 60, NULL, props);
    mosquitto_property_free_all(&props);
    if (!rc) rc = mosquitto_loop_start(m);
    if (rc) {
        wr_cli_error(S_CMD, NULL, "connecting to mosquitto: %s", mosquitto_strerror(rc));
        mosquitto_destroy(m);
        return NULL;
    }
    return m;
}

static void s_client_end(struct mosquitto *m)
{
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
}

/* Makes a session subscribed to filter, then leaves it (the broker keeps it and queues). */
static int s_session(s_bench_t *b, const char *id, const char *filter)
{
    struct mosquitto *m = s_client(b, id);
    if (!m) return WR_EIO;
    int rc = mosquitto_subscribe(m, NULL, filter, 1);
    usleep(200 * 1000); /* (its SUBACK: a subscription not made yet would lose the load) */
    s_client_end(m);
    return rc ? WR_EIO : 0;
}

/* Publishes the readings, QoS 1, and waits for every acknowledgement: the messages' count. */
static int s_load(s_bench_t *b, const s_opts_t *o, uint64_t *msgs)
{
    struct mosquitto *m = s_client(b, NULL);
    if (!m) return WR_EIO;
    wr_strbuf_t p;
    wr_strbuf_init(&p);
    int rc = 0;
    *msgs = 0;
    for (uint64_t i = 0; i < o->records && !rc;) {
        if (*msgs % 1024 == 0 && wr_cli_stop_asked(&b->signal, 0)) rc = S_STOPPED;
        wr_strbuf_reset(&p);
        for (uint32_t k = 0; k < o->per_message && i < o->records; k++, i++)
            wr_strbuf_addf(&p, "{\"device\": %llu, \"ts\": %llu, \"temperature\": %u.5}\n",
                           (unsigned long long)(i % S_DEVICES),
                           (unsigned long long)(1700000000000 + i / S_DEVICES * 1000),
                           (unsigned)(i % 30));
        if (!rc)
            rc = p.failed ? WR_ENOMEM
                          : mosquitto_publish(m, NULL, "readings", (int)p.len, p.buf, 1, false);
        (*msgs)++;
    }
    int64_t until = wr_now_ns() + S_WAIT_MS * S_MS;
    while (!rc && __atomic_load_n(&b->acked, __ATOMIC_SEQ_CST) < *msgs && wr_now_ns() < until)
        if (wr_cli_stop_asked(&b->signal, 1)) rc = S_STOPPED;
    if (!rc && b->acked < *msgs) rc = WR_ETIMEDOUT;
    if (rc && rc != S_STOPPED)
        wr_cli_error(S_CMD, NULL, "publishing: %s",
                     rc > 0 ? mosquitto_strerror(rc) : wr_strerror(rc));
    wr_strbuf_release(&p);
    s_client_end(m);
    return rc == S_STOPPED ? rc : rc ? WR_EIO : 0;
}

/* ---- the two readers ---- */

static int s_raw(s_bench_t *b, uint64_t msgs, double *secs)
{
    char port[16], count[32];
    snprintf(port, sizeof port, "%d", b->port);
    snprintf(count, sizeof count, "%llu", (unsigned long long)msgs);
    int64_t t0 = wr_now_ns();
    pid_t pid =
        s_spawn(S_SUB,
                (char *[]){S_SUB, "-V", "5", "-h", "127.0.0.1", "-p", port, "-c", "-x", "3600",
                           "-i", S_RAW_ID, "-q", "1", "-t", "readings", "-C", count, NULL},
                "/dev/null");
    int code = pid < 0 ? -1 : s_wait(b, pid, S_WAIT_MS);
    *secs = (double)(wr_now_ns() - t0) / 1e9;
    if (b->signal) return S_STOPPED;
    if (code) wr_cli_error(S_CMD, NULL, "mosquitto_sub exited %d", code);
    return code ? WR_EIO : 0;
}

static int s_weir(s_bench_t *b, uint64_t records, double *secs)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "name: " S_JOB "\n"
                     "schema: {device: int, ts: time, temperature: double}\n"
                     "sources:\n"
                     "  - {type: mqtt, broker: '127.0.0.1:%d', topics: [readings], "
                     "end_after_idle: 1s, idle_timeout: 0s}\n"
                     "key_by: device\n"
                     "event_time: {field: ts, max_out_of_orderness: 1s}\n"
                     "window: {type: tumbling, size: 1min}\n"
                     "aggregates:\n  n: count()\n"
                     "sinks:\n  - {type: file, path: %s/results.jsonl}\n",
                     b->port, b->dir);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    int rc = wr_topology_parse(text, (size_t)n, S_JOB, &t, &err);
    if (rc) wr_cli_error(S_CMD, NULL, "the job's topology: %s", err.buf);
    wr_strbuf_release(&err);
    wr_bench_local_t *l = NULL;
    if (!rc && !(l = wr_bench_local_start(S_CMD, &(wr_bench_local_opts_t){.tms = 1, .slots = 4})))
        rc = WR_EIO;
    char id[WR_JOB_ID_MAX];
    int64_t t0 = 0;
    wr_bench_job_t j = {0};
    if (!rc) rc = wr_bench_local_submit(l, t, id, &t0);
    while (!rc) {
        if (wr_cli_stop_asked(&b->signal, 20)) {
            rc = S_STOPPED;
            break;
        }
        if (wr_bench_local_job(l, id, &j)) continue;
        if (strcmp(j.state, "RUNNING") && strcmp(j.state, "CREATED")) break;
        if (wr_now_ns() - t0 > S_WAIT_MS * S_MS) rc = WR_ETIMEDOUT;
    }
    *secs = (double)(wr_now_ns() - t0) / 1e9 - S_END_IDLE;
    if (rc == WR_ETIMEDOUT || rc == S_STOPPED) wr_bench_local_cancel(l, id);
    if (!rc && strcmp(j.state, "FINISHED")) {
        wr_cli_error(S_CMD, NULL, "the job ended %s: %s", j.state, j.error);
        rc = WR_EIO;
    } else if (!rc && (j.n < 1 || (uint64_t)j.v[0].records_in != records)) {
        wr_cli_error(S_CMD, NULL, "the source read %lld records of %llu",
                     j.n ? (long long)j.v[0].records_in : -1LL, (unsigned long long)records);
        rc = WR_EIO;
    }
    wr_bench_local_stop(&l);
    wr_topology_destroy(&t);
    return rc;
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench mqtt [--records N] [--per-message K] [--json]\n"
    "\n"
    "weir's MQTT source -> key by -> tumbling window -> file sink, against mosquitto_sub alone\n"
    "reading the same messages, both from a mosquitto started here (/usr/sbin/mosquitto) that\n"
    "queued them for both; prints records/s of each and the ratio (goal >= 0.7).\n"
    "  --records N      readings published (default 500000)\n"
    "  --per-message K  lines a message (default 10)\n"
    "  --json           one JSON object\n";

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option opts[] = {{"records", required_argument, NULL, 'r'},
                                         {"per-message", required_argument, NULL, 'k'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *o = (s_opts_t){.records = 500000, .per_message = 10};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        unsigned long long v = optarg ? strtoull(optarg, &end, 10) : 0;
        bool bad = optarg && (*end || !v);
        if (c == 'r' && !bad)
            o->records = v;
        else if (c == 'k' && !bad && v <= 10000)
            o->per_message = (uint32_t)v;
        else if (c == 'J')
            o->json = true;
        else if (c == 'h') {
            fputs(s_usage, stdout);
            return -1;
        } else {
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    return 0;
}

static void s_cleanup(s_bench_t *b)
{
    if (b->broker > 0) {
        kill(b->broker, SIGTERM);
        s_wait(NULL, b->broker, 5000);
    }
    static const char *const files[] = {"mosquitto.conf", "mosquitto.log", "results.jsonl", NULL};
    char path[128];
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", b->dir, files[i]);
        unlink(path);
    }
    rmdir(b->dir);
}

int wr_bench_mqtt(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc) return prc < 0 ? WR_EXIT_OK : prc;
    if (access(S_BROKER, X_OK) || access(S_SUB, X_OK)) {
        wr_cli_error(S_CMD, "install Debian's mosquitto and mosquitto-clients",
                     "%s or %s is missing", S_BROKER, S_SUB);
        return WR_EXIT_FAIL;
    }
    mosquitto_lib_init();
    s_bench_t b = {.port = s_free_port()};
    snprintf(b.dir, sizeof b.dir, "/tmp/weir-bench-mqtt-XXXXXX");
    if (!mkdtemp(b.dir)) {
        wr_cli_error(S_CMD, NULL, "mkdtemp: %s", strerror(errno));
        return WR_EXIT_FAIL;
    }
    uint64_t msgs = 0;
    double raw_s = 0, weir_s = 0;
    int rc = b.port > 0 ? s_broker_start(&b) : WR_EIO;
    if (!rc) rc = s_session(&b, S_RAW_ID, "readings");
    if (!rc) rc = s_session(&b, S_WEIR_ID, S_WEIR_SUB);
    if (!rc) rc = s_load(&b, &o, &msgs);
    if (!rc) rc = s_raw(&b, msgs, &raw_s);
    if (!rc) rc = s_weir(&b, o.records, &weir_s);
    s_cleanup(&b);
    if (rc == S_STOPPED || (rc && wr_cli_stop_asked(&b.signal, 0)))
        return wr_cli_stopped(S_CMD, b.signal, "stopped");
    if (rc) return WR_EXIT_FAIL;
    double raw = (double)o.records / raw_s, weir = (double)o.records / weir_s;
    wr_strbuf_t m;
    wr_strbuf_init(&m);
    if (o.json) {
        printf(
            "{%s\"records\":%llu,\"messages\":%llu,\"per_message\":%u,\"raw_records_per_s\":%.0f,"
            "\"weir_records_per_s\":%.0f,\"ratio\":%.3f,\"goal\":0.7}\n",
            wr_bench_machine_member(&m), (unsigned long long)o.records, (unsigned long long)msgs,
            o.per_message, raw, weir, weir / raw);
    } else {
        wr_bench_machine_print(stdout);
        printf("%llu records in %llu messages of %u lines, queued by mosquitto for both readers\n"
               "mosquitto_sub alone: %10.0f records/s (%.2f s)\n"
               "weir (MQTT source -> window -> file): %10.0f records/s (%.2f s, less the %.0f s "
               "of end_after_idle)\n"
               "ratio: %.2f (goal >= 0.7)\n",
               (unsigned long long)o.records, (unsigned long long)msgs, o.per_message, raw, raw_s,
               weir, weir_s, S_END_IDLE, weir / raw);
    }
    wr_strbuf_release(&m);
    return WR_EXIT_OK;
}
