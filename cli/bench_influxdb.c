/* weir bench influxdb (bench_influxdb.h).
 *
 * It starts /usr/bin/influxd (InfluxDB 1.x) in a temporary folder, on free loopback ports, with
 * no other listener, creates a database, and then, for each of --rounds rounds:
 *   - sink: the InfluxDB sink's writer (open, write of every result batch of --batch rows, flush:
 *     formatting into its buffer and a POST per write) of --points results (device int, window
 *     bounds, n int, avg double: what a window makes), measurement sink_R;
 *   - raw: the same points, formatted beforehand (not timed) into bodies of --batch points, each
 *     POSTed through the same HTTP client (influx_client.h: one kept-alive curl handle),
 *     measurement raw_R: the cost of InfluxDB's ingest and of HTTP alone.
 * Each is timed from its first write to its last 204; rows/s of the best round of each, and their
 * ratio (sink / raw: goal >= 0.7), are printed with the machine's CPU, and the CPU seconds this
 * process spent in each run (its least round): influxd's ingest, on the same cores, dominates
 * both runs' wall time and varies from round to round, so the CPU figures show what the sink
 * itself adds (formatting) where the ratio is noisy. A query afterwards checks
 * that each measurement holds every point. influxd is killed at the end (and with this process:
 * PR_SET_PDEATHSIG), and its folder removed. SIGINT or SIGTERM (blocked by main, asked for
 * between batches and POSTs) stops it the same way, exiting 128 + the signal. */
#include "cli/bench_influxdb.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/connectors/influxdb/influx_client.h"
#include "actors/connectors/influxdb/influx_line.h"
#include "actors/connectors/registry/registry.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "cli/bench_machine.h"
#include "cli/cli.h"

#define S_CMD        "bench influxdb"
#define S_INFLUXD    "/usr/bin/influxd"
#define S_DB         "bench"
#define S_DEVICES    10000
#define S_MAX_ROUNDS 10

static const char s_usage[] =
    "usage: weir bench influxdb [--points N] [--batch N] [--rounds N] [--json]\n"
    "\n"
    "The InfluxDB sink's writer against raw line-protocol POSTs of the same points (the same\n"
    "batch size, the same HTTP client), into an influxd (" S_INFLUXD ") it starts on loopback.\n"
    "  --points N   results written by each run (default 200000)\n"
    "  --batch N    points per POST (default 5000)\n"
    "  --rounds N   rounds of both runs; the best of each counts (default 5)\n"
    "  --json       one JSON object\n";

typedef struct {
    uint64_t points;
    uint32_t batch, rounds;
    bool json;
} s_opts_t;

typedef struct {
    char dir[64];
    pid_t pid;
    int port, rpc_port;
    char url[64];
    int signal; /* SIGINT or SIGTERM came (0: not yet) */
} s_server_t;

/* A port free a moment ago on 127.0.0.1 (0 when none). */
static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
        !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* One HTTP/1.0 request to 127.0.0.1:port; the status (0: no answer), the body into body (may
 * be NULL). */
static int s_http(int port, const char *method, const char *path, wr_strbuf_t *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0) return 0;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int status = 0;
    if (!connect(fd, (struct sockaddr *)&a, sizeof a)) {
        wr_strbuf_addf(&sb, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                       method, path);
        if (!sb.failed && write(fd, sb.buf, sb.len) == (ssize_t)sb.len) {
            wr_strbuf_reset(&sb);
            char buf[4096];
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0 && sb.len < (1u << 20))
                wr_strbuf_add(&sb, buf, (size_t)n);
            if (sscanf(sb.buf, "HTTP/1.%*d %d", &status) != 1) status = 0;
            const char *at = strstr(sb.buf, "\r\n\r\n");
            if (body && at) wr_strbuf_adds(body, at + 4);
        }
    }
    close(fd);
    wr_strbuf_release(&sb);
    return status;
}

static void s_server_stop(s_server_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->dir[0]) wr_fs_rmtree(s->dir);
    s->dir[0] = '\0';
}

/* Makes the temporary folder. 0 or -1 (said why). */
static int s_server_dir(s_server_t *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/weir-bench-influxdb-XXXXXX");
    if (mkdtemp(s->dir)) return 0;
    s->dir[0] = '\0';
    wr_cli_error(S_CMD, NULL, "cannot make a temporary folder");
    return -1;
}

/* Starts influxd in the temporary folder and waits for its /ping (30 s). 0 or -1 (said why, or
 * stopped by a signal). */
static int s_server_start(s_server_t *s)
{
    s->port = s_free_port();
    do
        s->rpc_port = s_free_port();
    while (s->rpc_port == s->port && s->port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    char conf[128], log[128];
    snprintf(conf, sizeof conf, "%s/influxd.conf", s->dir);
    snprintf(log, sizeof log, "%s/influxd.log", s->dir);
    FILE *f = fopen(conf, "w");
    if (!f) return -1;
    fprintf(f,
            "reporting-disabled = true\nbind-address = \"127.0.0.1:%d\"\n"
            "[meta]\n  dir = \"%s/meta\"\n[data]\n  dir = \"%s/data\"\n  wal-dir = \"%s/wal\"\n"
            "  query-log-enabled = false\n"
            "[http]\n  enabled = true\n  bind-address = \"127.0.0.1:%d\"\n  log-enabled = false\n"
            "[monitor]\n  store-enabled = false\n[continuous_queries]\n  enabled = false\n"
            "[[graphite]]\n  enabled = false\n[[collectd]]\n  enabled = false\n"
            "[[opentsdb]]\n  enabled = false\n[[udp]]\n  enabled = false\n",
            s->rpc_port, s->dir, s->dir, s->dir, s->port);
    if (fclose(f)) return -1;
    pid_t parent = getpid();
    s->pid = fork();
    if (s->pid < 0) return -1;
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(S_INFLUXD, "influxd", "-config", conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && !wr_cli_stop_asked(&s->signal, 0); i++) {
        if (s_http(s->port, "GET", "/ping", NULL) == 204) return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        usleep(50000);
    }
    if (!s->signal)
        wr_cli_error(S_CMD, "is Debian's influxdb installed?", "influxd did not start (%s)", log);
    return -1;
}

/* The results: n records in batches of rows (the sink POSTs each write's, at most --batch a
 * POST: a batch of --batch rows makes the raw run's bodies), device i % S_DEVICES, window i /
 * S_DEVICES. *nb batches; NULL when out of memory. */
static wr_batch_t **s_results(uint64_t n, uint32_t rows, size_t *nb)
{
    static const wr_field_t fields[] = {{"device", WR_T_INT},
                                        {"window_start", WR_T_TIME},
                                        {"window_end", WR_T_TIME},
                                        {"n", WR_T_INT},
                                        {"avg", WR_T_DOUBLE}};
    wr_schema_t s;
    wr_schema_init(&s);
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
        wr_schema_add(&s, fields[f].name, fields[f].type);
    *nb = (size_t)((n + rows - 1) / rows);
    wr_batch_t **v = calloc(*nb ? *nb : 1, sizeof *v);
    for (size_t k = 0; v && k < *nb; k++) {
        if (!(v[k] = wr_batch_new(&s, rows))) return v; /* the caller sees the NULL */
        for (uint32_t j = 0; j < rows && k * rows + j < n; j++) {
            uint64_t i = k * rows + j;
            int64_t end = INT64_C(1704067200000) + (int64_t)(i / S_DEVICES) * 10000;
            wr_batch_i64(v[k], 0)[j] = (int64_t)(i % S_DEVICES);
            wr_batch_i64(v[k], 1)[j] = end - 60000;
            wr_batch_i64(v[k], 2)[j] = end;
            wr_batch_i64(v[k], 3)[j] = (int64_t)(i % 97) + 1;
            wr_batch_f64(v[k], 4)[j] = 20.0 + (double)(i % 1000) / 64;
            v[k]->count++;
        }
    }
    return v;
}

static void s_results_free(wr_batch_t **v, size_t nb)
{
    for (size_t k = 0; v && k < nb; k++)
        wr_batch_destroy(&v[k]);
    free(v);
}

/* The sink's config for measurement m (a STRING the params own). */
static int s_config(const wr_sink_class_t *cls, const s_server_t *srv, const s_opts_t *o,
                    const char *m, wr_influxdb_sink_config_t *c)
{
    if (wr_params_defaults(cls->params, cls->nparams, c)) return WR_ENOMEM;
    free(c->url);
    c->url = strdup(srv->url);
    c->measurement = strdup(m);
    snprintf(c->database, sizeof c->database, "%s", S_DB);
    c->batch = o->batch;
    return c->url && c->measurement ? 0 : WR_ENOMEM;
}

/* The sink's writer: seconds from the first write to the flush's last 204 (< 0: failed), and
 * the CPU seconds this process spent meanwhile in *cpu. */
static double s_run_sink(s_server_t *srv, const s_opts_t *o, wr_batch_t **res, size_t nb,
                         const char *m, double *cpu)
{
    const wr_sink_class_t *cls = wr_connectors_sink("influxdb", strlen("influxdb"));
    wr_influxdb_sink_config_t c = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    void *w = NULL;
    double s = -1;
    wr_sink_open_t op = {.schema = &res[0]->schema, .parallelism = 1};
    int rc = s_config(cls, srv, o, m, &c);
    if (!rc) rc = cls->open(&c, &op, &w, &err);
    int64_t t0 = wr_now_ns();
    double c0 = wr_bench_cpu_s();
    for (size_t k = 0; !rc && k < nb; k++)
        rc = wr_cli_stop_asked(&srv->signal, 0) ? WR_ECLOSED : cls->write(w, res[k], NULL, 0);
    if (!rc) rc = cls->flush(w);
    if (!rc) s = (double)(wr_now_ns() - t0) / 1e9;
    *cpu = wr_bench_cpu_s() - c0;
    if (rc && rc != WR_ECLOSED) {
        const char *on = w ? cls->failed_on(w) : NULL;
        wr_cli_error(S_CMD, NULL, "the sink: %s: %s", wr_strerror(rc), on ? on : err.buf);
    }
    cls->close(&w);
    wr_params_release(cls->params, cls->nparams, &c);
    wr_strbuf_release(&err);
    return s;
}

/* Raw POSTs of the points formatted beforehand: seconds (< 0: failed), CPU seconds in *cpu. */
static double s_run_raw(s_server_t *srv, const s_opts_t *o, wr_batch_t **res, size_t nb,
                        const char *m, double *cpu)
{
    const wr_sink_class_t *cls = wr_connectors_sink("influxdb", strlen("influxdb"));
    wr_influxdb_sink_config_t c = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    size_t nbodies = (size_t)((o->points + o->batch - 1) / o->batch), at = 0;
    wr_strbuf_t *bodies = calloc(nbodies ? nbodies : 1, sizeof *bodies);
    wr_influx_client_t *cl = NULL;
    wr_influx_line_t f;
    wr_influx_line_stats_t st = {0};
    static const int tags[] = {0}, fields[] = {3, 4};
    double s = -1;
    int rc = bodies ? s_config(cls, srv, o, m, &c) : WR_ENOMEM;
    if (!rc) rc = wr_influx_line_init(&f, &res[0]->schema, m, strlen(m), tags, 1, fields, 2, 2);
    uint64_t points = 0;
    for (size_t k = 0; !rc && k < nb; k++)
        for (uint32_t i = 0; i < res[k]->count; i++, points++) {
            if (points && points % o->batch == 0) at++;
            if (!bodies[at].buf) wr_strbuf_init(&bodies[at]);
            wr_influx_line_row(&f, res[k], i, &bodies[at], &st);
        }
    if (!rc) wr_influx_line_release(&f);
    if (!rc && !(cl = wr_influx_client_new(&c, &err))) rc = WR_ENOMEM;
    int64_t t0 = wr_now_ns();
    double c0 = wr_bench_cpu_s();
    for (size_t b = 0; !rc && b < nbodies; b++)
        rc = wr_cli_stop_asked(&srv->signal, 0) ? WR_ECLOSED
             : bodies[b].failed                 ? WR_ENOMEM
                                : wr_influx_client_write(cl, bodies[b].buf, bodies[b].len, &err);
    if (!rc) s = (double)(wr_now_ns() - t0) / 1e9;
    *cpu = wr_bench_cpu_s() - c0;
    if (rc && rc != WR_ECLOSED)
        wr_cli_error(S_CMD, NULL, "the raw POSTs: %s: %s", wr_strerror(rc), err.buf);
    wr_influx_client_destroy(&cl);
    for (size_t b = 0; bodies && b < nbodies; b++)
        if (bodies[b].buf) wr_strbuf_release(&bodies[b]);
    free(bodies);
    wr_params_release(cls->params, cls->nparams, &c);
    wr_strbuf_release(&err);
    return s;
}

/* How many points measurement m holds (-1: the query failed). */
static long long s_count(const s_server_t *srv, const char *m)
{
    wr_strbuf_t body;
    wr_strbuf_init(&body);
    char path[160];
    snprintf(path, sizeof path, "/query?db=%s&q=SELECT+count(n)+FROM+%s", S_DB, m);
    long long n = -1;
    const char *at;
    if (s_http(srv->port, "GET", path, &body) == 200 && (at = strstr(body.buf, "\"values\":[[")) &&
        (at = strchr(at + 11, ',')))
        n = strtoll(at + 1, NULL, 10);
    wr_strbuf_release(&body);
    return n;
}

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option opts[] = {
        {"points", required_argument, NULL, 'p'}, {"batch", required_argument, NULL, 'b'},
        {"rounds", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    uint64_t v;
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        const char *bad = NULL;
        if (c == 'p' && !wr_cli_count(optarg, 1, UINT64_C(1) << 28, &o->points)) bad = "1 to 2^28";
        if (c == 'b' && !wr_cli_count(optarg, 1, 1000000, &v)) bad = "1 to 1000000";
        if (c == 'b') o->batch = (uint32_t)v;
        if (c == 'r' && !wr_cli_count(optarg, 1, S_MAX_ROUNDS, &v)) bad = "1 to 10";
        if (c == 'r') o->rounds = (uint32_t)v;
        if (c == 'J') o->json = true;
        if (c == 'h') {
            fputs(s_usage, stdout);
            return -1;
        }
        if (c == '?') {
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (bad) {
            wr_cli_error(S_CMD, "see weir bench influxdb --help", "--%s: '%s' is not %s",
                         opts[li].name, optarg, bad);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        wr_cli_error(S_CMD, "it takes options only (see weir bench influxdb --help)",
                     "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    return 0;
}

/* Both runs, rounds times, then the checks; best seconds of each in best[0] (sink), best[1], the
 * least CPU seconds of each in cpu[0], cpu[1]. */
static int s_rounds(s_server_t *srv, const s_opts_t *o, wr_batch_t **res, size_t nb, double best[2],
                    double cpu[2])
{
    best[0] = best[1] = cpu[0] = cpu[1] = -1;
    for (uint32_t r = 0; r < o->rounds; r++) {
        char m[2][32];
        snprintf(m[0], sizeof m[0], "sink_%u", r);
        snprintf(m[1], sizeof m[1], "raw_%u", r);
        for (int k = 0; k < 2; k++) { /* raw first in odd rounds: neither always goes first */
            int which = (int)(r % 2) ^ k;
            double c = 0, s = which ? s_run_raw(srv, o, res, nb, m[1], &c)
                                    : s_run_sink(srv, o, res, nb, m[0], &c);
            if (s < 0) return WR_EXIT_FAIL;
            if (best[which] < 0 || s < best[which]) best[which] = s;
            if (cpu[which] < 0 || c < cpu[which]) cpu[which] = c;
            long long n = s_count(srv, m[which]);
            if (n != (long long)o->points) {
                wr_cli_error(S_CMD, NULL, "%s holds %lld points, not %llu", m[which], n,
                             (unsigned long long)o->points);
                return WR_EXIT_FAIL;
            }
        }
    }
    return 0;
}

int wr_bench_influxdb(int argc, char **argv)
{
    s_opts_t o = {.points = 200000, .batch = 5000, .rounds = 5};
    int rc = s_parse(argc, argv, &o);
    if (rc) return rc < 0 ? WR_EXIT_OK : rc;
    s_server_t srv = {0};
    if (s_server_dir(&srv)) return WR_EXIT_FAIL;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    if (!o.json) {
        wr_bench_machine_print(stdout);
        printf("influxdb bench: %llu points (%d devices), %u per POST, %u rounds, into influxd "
               "on loopback (%s)\n",
               (unsigned long long)o.points, S_DEVICES, o.batch, o.rounds, srv.dir);
        fflush(stdout);
    }
    size_t nb = 0;
    wr_batch_t **res = s_results(o.points, o.batch, &nb);
    bool made = res != NULL;
    for (size_t k = 0; made && k < nb; k++)
        made = res[k] != NULL;
    double best[2], cpu[2];
    if (!made) wr_cli_error(S_CMD, NULL, "out of memory");
    rc = !made || s_server_start(&srv) ? WR_EXIT_FAIL : 0;
    if (!rc && s_http(srv.port, "POST", "/query?q=CREATE+DATABASE+" S_DB, NULL) != 200) {
        wr_cli_error(S_CMD, NULL, "influxd did not create the database");
        rc = WR_EXIT_FAIL;
    }
    if (!rc) rc = s_rounds(&srv, &o, res, nb, best, cpu);
    s_server_stop(&srv);
    s_results_free(res, nb);
    if (srv.signal) {
        wr_strbuf_release(&sb);
        return wr_cli_stopped(S_CMD, srv.signal, "stopped");
    }
    if (!rc) {
        double sink = (double)o.points / best[0], raw = (double)o.points / best[1];
        if (o.json) {
            printf("{%s\"points\":%llu,\"batch\":%u,\"rounds\":%u,\"sink_rows_per_s\":%.0f,"
                   "\"raw_rows_per_s\":%.0f,\"ratio\":%.3f,\"goal\":0.7,\"sink_cpu_s\":%.3f,"
                   "\"raw_cpu_s\":%.3f}\n",
                   wr_bench_machine_member(&sb), (unsigned long long)o.points, o.batch, o.rounds,
                   sink, raw, sink / raw, cpu[0], cpu[1]);
        } else {
            printf("  sink writer:  %10.0f rows/s (best of %u)\n", sink, o.rounds);
            printf("  raw POSTs:    %10.0f rows/s\n", raw);
            printf("  ratio sink/raw: %.3f (goal >= 0.7: %s)\n", sink / raw,
                   sink / raw >= 0.7 ? "met" : "NOT met");
            printf("  this process's CPU (least of the rounds): sink %.3f s, raw %.3f s; both "
                   "runs wait on influxd's ingest, whose time varies from round to round\n",
                   cpu[0], cpu[1]);
        }
    }
    wr_strbuf_release(&sb);
    return rc;
}
