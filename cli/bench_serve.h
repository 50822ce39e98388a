/* What serving a cluster costs its jobs (issue 15's goal: the REST API and the metrics take less
 * than 2% of the pipeline benchmark's events/s): the REST API on the JobManager of a benchmark's
 * local cluster (bench_local.h) and the Prometheus metrics on every node, on kernel-picked
 * 127.0.0.1 ports, and a scraper thread that asks them every period as a harsh user would: each
 * node's /metrics, and REST's /overview, /jobs/overview and /taskmanagers (a web UI polls every 3
 * s, Prometheus every 15 s by default).
 *
 *     wr_bench_serve_t *s = wr_bench_serve_start(l, 1000, "bench pipeline");
 *     ... the job runs ...
 *     wr_bench_serve_stop(&s, &stats);
 *
 * Errors are printed ("weir CMD: ..."). */
#ifndef WR_BENCH_SERVE_H
#define WR_BENCH_SERVE_H

#include <stdint.h>

#include "cli/bench_local.h"

typedef struct wr_bench_serve wr_bench_serve_t;

typedef struct {
    uint64_t requests; /* answered 200 */
    uint64_t failed;   /* not answered, or not 200 */
    uint64_t bytes;    /* of the answers */
} wr_bench_serve_stats_t;

/* Starts serving and scraping every period_ms. NULL after printing why. l must outlive it. */
wr_bench_serve_t *wr_bench_serve_start(wr_bench_local_t *l, int64_t period_ms, const char *cmd);
/* CPU seconds the scraper thread (the stand-in for Prometheus and a browser, which would run
 * elsewhere) has used so far: a benchmark takes it off this process's CPU time to see what serving
 * cost the cluster. 0 for NULL. */
double wr_bench_serve_client_cpu_s(const wr_bench_serve_t *s);
/* Scrapes done so far (each path asked once: a round). 0 for NULL. */
uint64_t wr_bench_serve_rounds(const wr_bench_serve_t *s);
/* Stops the scraper, then the servers; the scraper's counts into *stats. NULL-safe, nulls *s. */
void wr_bench_serve_stop(wr_bench_serve_t **s, wr_bench_serve_stats_t *stats);

#endif
