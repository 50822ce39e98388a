/* The REST API of a JobManager: an HTTP server (libmicrohttpd) on rest.address:rest.port, beside
 * the JobManager's node, that answers Flink's paths (rest_route.h) with JSON in Flink's shapes
 * (rest_json.h).
 *
 * - Each request asks the JobManager actor on this node through the bus, as the CLI does
 *   (wr_node_request: JOBS_REQ, JOB_REQ, ACTORS_REQ), and renders its answer: the REST API reads
 *   the same state as `weir jobs`, `weir job` and `weir actors`, owned by the JobManager actor,
 *   and shares nothing with it.
 * - It serves on http.h's server: a thread per connection, so a slow answer holds up only its
 *   own request; a request body beyond WR_HTTP_MAX_BODY is refused (413). An
 *   answer of the JobManager's that does not come within the request timeout is 504.
 * - Acting (POST /jobs, PATCH /jobs/:id?mode=cancel, POST /jobs/:id/savepoints and /stop) asks
 *   the JobManager as `weir submit`, `cancel`, `savepoint` and `stop` do. A savepoint's answer
 *   waits for the savepoint (up to savepoint_timeout_ms). Who may act: with the bus's keys
 *   (keys_dir), a request carrying an admin's REST token (tokens.h; 401 without a known token,
 *   403 with a viewer's); without them anyone, as on the bus. Reads need no token. rest.address
 *   defaults to 127.0.0.1; HTTP is plain text, so a token crosses the network readable.
 * - Errors are JSON, {"errors": ["..."]}: 404 for an unknown path, job or TaskManager; 400 for a
 *   malformed request or one the JobManager refuses (a bad topology), 409 when it conflicts (a
 *   savepoint under way, a resource another job holds); 405 with Allow for a method a path does
 *   not take; 503 when this JobManager is a standby (with the leader's node and endpoint) or none
 *   leads; 504 when the JobManager does not answer in time; 500 when an answer cannot be decoded
 *   or rendered.
 * - Threads: wr_rest_start and wr_rest_stop from one thread; the server's threads only call
 *   wr_node_request on the node, which must outlive the server (stop it first). */
#ifndef WR_REST_H
#define WR_REST_H

#include <stdint.h>

#include "actors/runtime/node.h"

typedef struct wr_rest wr_rest_t;

typedef struct {
    const char *address; /* an IPv4 literal: 127.0.0.1 (rest.address), 0.0.0.0 for every one */
    int port;            /* 1-65535, or 0 for one the kernel picks (wr_rest_port tells it) */
    const char *jm_addr; /* the JobManager actor's address on node, "jm-1/jobmanager" */
    int64_t timeout_ms;  /* for the JobManager's answer */
    const char *version; /* weir's, in /overview and /config */
    /* the bus's keys (security.curve on): acting needs an admin's token (tokens.h); NULL: the
     * bus does not authenticate, nor does acting here */
    const char *keys_dir;
    int64_t savepoint_timeout_ms; /* how long a savepoint may take (checkpointing.timeout) */
} wr_rest_opts_t;

/* Starts serving. NULL with *err: WR_EINVAL (a bad address or port), WR_EADDRINUSE-like errors
 * of the bind as WR_EIO (*why, if not NULL, then says what: "127.0.0.1:8081: Address already in
 * use"), WR_ENOMEM. node is borrowed. */
wr_rest_t *wr_rest_start(wr_node_t *node, const wr_rest_opts_t *o, int *err, char *why,
                         size_t why_cap);
/* The port it listens on. */
int wr_rest_port(const wr_rest_t *r);
/* Stops accepting, waits for the requests being answered, frees; *r becomes NULL. */
void wr_rest_stop(wr_rest_t **r);

#endif
