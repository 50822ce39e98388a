/* What serving a cluster costs its jobs (bench_serve.h). */
#include "cli/bench_serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "actors/rest/metrics.h"
#include "actors/rest/rest.h"
#include "bus/base/error.h"
#include "cli/cli.h"

#define S_IO_TIMEOUT_S 5

struct wr_bench_serve {
    wr_rest_t *rest;
    wr_metrics_t *metrics[WR_BENCH_LOCAL_MAX_TMS + 1];
    uint32_t n; /* metrics servers */
    int64_t period_ms;
    pthread_t scraper;
    bool started;
    atomic_bool stop;
    atomic_uint_fast64_t rounds;  /* scrapes done (every path asked once) */
    wr_bench_serve_stats_t stats; /* the scraper's, read after it ended */
};

/* GET path on 127.0.0.1:port over HTTP/1.0 (the server closes after its answer): true when it
 * answered 200; the answer's bytes added to *bytes. */
static bool s_get(int port, const char *path, uint64_t *bytes)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct timeval tv = {.tv_sec = S_IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char buf[16384];
    int len = snprintf(buf, sizeof buf, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    bool ok = !connect(fd, (struct sockaddr *)&a, sizeof a) && write(fd, buf, (size_t)len) == len;
    bool first = true;
    ssize_t got;
    while (ok && (got = read(fd, buf, sizeof buf)) > 0) {
        if (first && (got < 12 || memcmp(buf, "HTTP/1.", 7) || memcmp(buf + 9, "200", 3)))
            ok = false;
        first = false;
        *bytes += (uint64_t)got;
    }
    close(fd);
    return ok && !first;
}

static void *s_scrape(void *arg)
{
    wr_bench_serve_t *s = arg;
    static const char *const rest_paths[] = {"/overview", "/jobs/overview", "/taskmanagers"};
    while (!atomic_load(&s->stop)) {
        for (uint32_t i = 0; i < s->n; i++) {
            bool ok = s_get(wr_metrics_port(s->metrics[i]), "/metrics", &s->stats.bytes);
            *(ok ? &s->stats.requests : &s->stats.failed) += 1;
        }
        for (size_t i = 0; i < sizeof rest_paths / sizeof rest_paths[0]; i++) {
            bool ok = s_get(wr_rest_port(s->rest), rest_paths[i], &s->stats.bytes);
            *(ok ? &s->stats.requests : &s->stats.failed) += 1;
        }
        atomic_fetch_add(&s->rounds, 1);
        /* the period, in steps short enough to stop soon after asked */
        for (int64_t left = s->period_ms; left > 0 && !atomic_load(&s->stop); left -= 50)
            nanosleep(&(struct timespec){.tv_nsec = (left < 50 ? left : 50) * 1000000}, NULL);
    }
    return NULL;
}

wr_bench_serve_t *wr_bench_serve_start(wr_bench_local_t *l, int64_t period_ms, const char *cmd)
{
    wr_bench_serve_t *s = calloc(1, sizeof *s);
    if (!s) {
        wr_cli_error(cmd, NULL, "out of memory");
        return NULL;
    }
    s->period_ms = period_ms;
    char jm[WR_ADDR_MAX], why[256] = "";
    wr_bench_local_jm_addr(l, jm);
    int err = 0;
    wr_rest_opts_t ro = {.address = "127.0.0.1", .port = 0, .jm_addr = jm, .version = WR_VERSION};
    s->rest = wr_rest_start(wr_bench_local_jm(l), &ro, &err, why, sizeof why);
    for (uint32_t i = 0; s->rest && i < wr_bench_local_nodes(l); i++) {
        wr_metrics_opts_t mo = {.address = "127.0.0.1", .port = 0, .jm_addr = i ? NULL : jm};
        if (!(s->metrics[i] =
                  wr_metrics_start(wr_bench_local_node(l, i), &mo, &err, why, sizeof why)))
            break;
        s->n = i + 1;
    }
    if (!s->rest || s->n < wr_bench_local_nodes(l) ||
        (err = pthread_create(&s->scraper, NULL, s_scrape, s) ? WR_EIO : 0)) {
        wr_cli_error(cmd, NULL, "cannot serve the REST API and the metrics: %s (%s)", why,
                     wr_strerror(err));
        wr_bench_serve_stop(&s, NULL);
        return NULL;
    }
    s->started = true;
    return s;
}

double wr_bench_serve_client_cpu_s(const wr_bench_serve_t *s)
{
    clockid_t clock;
    struct timespec ts;
    if (!s || !s->started || pthread_getcpuclockid(s->scraper, &clock) || clock_gettime(clock, &ts))
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t wr_bench_serve_rounds(const wr_bench_serve_t *s)
{
    return s ? atomic_load(&s->rounds) : 0;
}

void wr_bench_serve_stop(wr_bench_serve_t **sp, wr_bench_serve_stats_t *stats)
{
    wr_bench_serve_t *s = *sp;
    if (!s) return;
    atomic_store(&s->stop, true);
    if (s->started) pthread_join(s->scraper, NULL);
    if (stats) *stats = s->stats;
    for (uint32_t i = 0; i < s->n; i++)
        wr_metrics_stop(&s->metrics[i]);
    wr_rest_stop(&s->rest);
    free(s);
    *sp = NULL;
}
