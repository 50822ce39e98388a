/* The REST API's routes: an HTTP method and a request path to what is asked (Flink's paths, so
 * that its users' habits and scripts carry over). A pure function over untrusted input (fuzzed:
 * tests/fuzz/fuzz_rest_route.c): it never allocates, and what it copies out is bounded.
 *
 *   GET /overview                 the cluster: TaskManagers, slots, jobs by state
 *   GET /config                   the server's version and refresh interval
 *   GET /jobs                     every job's id and state
 *   GET /jobs/overview            every job: name, state, times
 *   GET /jobs/:id                 one job: its vertices, their parallelism and figures
 *   GET /jobs/:id/exceptions      its failure, if any
 *   GET /taskmanagers             every TaskManager: slots, free slots, heartbeat
 *   GET /taskmanagers/:id         one of them
 *
 * HEAD is GET without a body. A path may end with one '/'; a query string is ignored. A job or
 * TaskManager id is 1 to WR_REST_ID_MAX - 1 characters of [A-Za-z0-9._-]. Anything else is
 * WR_REST_NOT_FOUND; a known path with another method is WR_REST_METHOD_NOT_ALLOWED. */
#ifndef WR_REST_ROUTE_H
#define WR_REST_ROUTE_H

#include <stddef.h>

#define WR_REST_ID_MAX 64 /* a job's or TaskManager's id in a path, NUL included */

typedef enum {
    WR_REST_NOT_FOUND,
    WR_REST_METHOD_NOT_ALLOWED,
    WR_REST_OVERVIEW,
    WR_REST_CONFIG,
    WR_REST_JOBS,
    WR_REST_JOBS_OVERVIEW,
    WR_REST_JOB,
    WR_REST_JOB_EXCEPTIONS,
    WR_REST_TASKMANAGERS,
    WR_REST_TASKMANAGER,
} wr_rest_route_t;

/* The route of method (NUL-terminated, e.g. "GET") and url (the request target: a path, perhaps
 * with a query). id receives the :id of the routes that have one ("" otherwise). */
wr_rest_route_t wr_rest_route(const char *method, const char *url, char id[WR_REST_ID_MAX]);

#endif
