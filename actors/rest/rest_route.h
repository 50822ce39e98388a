/* The REST API's routes: an HTTP method and a request path to what is asked (Flink's paths, so
 * that its users' habits and scripts carry over, and weir's own under /actors). A pure function
 * over untrusted input (fuzzed: tests/fuzz/fuzz_rest_route.c): it never allocates, and what it
 * copies out is bounded.
 *
 *   GET /overview                      the cluster: TaskManagers, slots, jobs by state
 *   GET /config                        the server's version and refresh interval
 *   GET /jobs                          every job's id and state
 *   GET /jobs/overview                 every job: name, state, times
 *   GET /jobs/:id                      one job: its vertices, their parallelism and figures
 *   GET /jobs/:id/exceptions           its failure, if any
 *   GET /jobs/:id/checkpoints          its recent checkpoints and savepoints, counted
 *   GET /jobs/:id/vertices/:vid        one vertex (:vid its index in /jobs/:id, 0 the first)
 *   GET /jobs/:id/vertices/:vid/watermarks   each of its subtasks' watermark
 *   GET /jobs/:id/vertices/:vid/backpressure each of its subtasks' back-pressure level
 *   GET /taskmanagers                  every TaskManager: slots, free slots, heartbeat
 *   GET /taskmanagers/:id              one of them
 *   GET /actors                        every actor of every node, as `weir actors --json`
 *   GET /actors/:addr/mailbox          one actor's mailbox, as `weir mailbox --json`; :addr is
 *                                      the actor's address, its '/'s included
 *                                      (/actors/tm-a/taskmanager/mailbox)
 *
 * and those that act:
 *
 *   POST  /jobs                        submit the topology in the body
 *   PATCH /jobs/:id                    ?mode=cancel: cancel the job
 *   POST  /jobs/:id/savepoints         take a savepoint
 *   POST  /jobs/:id/stop               stop the job with a savepoint
 *
 * HEAD is GET without a body. A path may end with one '/'; a query string is ignored. An id, and
 * each segment of an address, is 1 or more characters of [A-Za-z0-9._-] (an id under
 * WR_REST_ID_MAX, an address under WR_REST_ADDR_MAX); a vertex index is decimal digits under
 * 2^31. Anything else is WR_REST_NOT_FOUND; a known path with another method is
 * WR_REST_METHOD_NOT_ALLOWED, with the methods the path allows in allow. */
#ifndef WR_REST_ROUTE_H
#define WR_REST_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#define WR_REST_ID_MAX   64 /* a job's or TaskManager's id in a path, NUL included */
#define WR_REST_ADDR_MAX 96 /* an actor's address, NUL included (the bus's WR_ADDR_MAX) */

typedef enum {
    WR_REST_NOT_FOUND,
    WR_REST_METHOD_NOT_ALLOWED,
    WR_REST_OVERVIEW,
    WR_REST_CONFIG,
    WR_REST_JOBS,
    WR_REST_JOBS_OVERVIEW,
    WR_REST_JOB,
    WR_REST_JOB_EXCEPTIONS,
    WR_REST_JOB_CHECKPOINTS,
    WR_REST_VERTEX,
    WR_REST_VERTEX_WATERMARKS,
    WR_REST_VERTEX_BACKPRESSURE,
    WR_REST_TASKMANAGERS,
    WR_REST_TASKMANAGER,
    WR_REST_ACTORS,
    WR_REST_MAILBOX,
    /* those that act */
    WR_REST_JOB_SUBMIT,
    WR_REST_JOB_PATCH,
    WR_REST_JOB_SAVEPOINT,
    WR_REST_JOB_STOP,
} wr_rest_route_t;

/* What a route names: id (a job's or a TaskManager's), vertex, addr. Those of other routes are
 * "" and 0. allow: the methods the path allows, for an Allow header ("GET, HEAD", "POST", ...;
 * static; NULL for WR_REST_NOT_FOUND). */
typedef struct {
    char id[WR_REST_ID_MAX];
    uint32_t vertex;
    char addr[WR_REST_ADDR_MAX];
    const char *allow;
} wr_rest_params_t;

/* The route of method (NUL-terminated, e.g. "GET") and url (the request target: a path, perhaps
 * with a query), its parameters into *p (zeroed first). */
wr_rest_route_t wr_rest_route(const char *method, const char *url, wr_rest_params_t *p);
/* Whether route changes the cluster (needs the admin role). */
bool wr_rest_route_acts(wr_rest_route_t route);

#endif
