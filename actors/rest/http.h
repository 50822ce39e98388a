/* A small HTTP server (libmicrohttpd) for what a node serves beside its bus: the JobManager's REST
 * API (rest.h) and every node's Prometheus metrics (metrics.h). It owns the listening socket and
 * the connections; the caller's handler makes each answer.
 *
 * - A connection gets its own thread (at most WR_HTTP_MAX_CONNECTIONS at once, each closed after
 *   WR_HTTP_IDLE_S idle seconds), so a slow answer holds up only its own request.
 * - A request body is kept for the handler (wr_http_body) up to WR_HTTP_MAX_BODY bytes; beyond
 *   (as announced by Content-Length, or as it comes) the answer is 413 and the handler is not
 *   called.
 * - The handler runs on the connection's thread, once per request, with the method and the path;
 *   it fills the reply (status, content type, body). It must be safe to call from several threads
 *   at once.
 * - Threads: wr_http_start and wr_http_stop from one thread; stop waits for the handlers that
 *   run, so what they use must outlive the server. */
#ifndef WR_HTTP_H
#define WR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "bus/base/strbuf.h"

#define WR_HTTP_MAX_CONNECTIONS 32
#define WR_HTTP_IDLE_S          30
#define WR_HTTP_MAX_BODY        (1u << 20)

typedef struct wr_http wr_http_t;
typedef struct wr_http_request wr_http_request_t; /* the request being answered */

/* What the handler fills: status 200 and "application/json" unless it says otherwise; body
 * (initialised, empty) is sent as it is. allow: an Allow header listing allow's methods. */
typedef struct {
    unsigned status;
    const char *content_type; /* a static string */
    const char *allow;        /* NULL: no Allow header */
    const char *authenticate; /* a WWW-Authenticate header's scheme (401); NULL: none */
    wr_strbuf_t body;
} wr_http_reply_t;

typedef void (*wr_http_handler_t)(void *ctx, const char *method, const char *path,
                                  const wr_http_request_t *q, wr_http_reply_t *reply);

/* The value of the query argument `name` (?name=value), or NULL. */
const char *wr_http_arg(const wr_http_request_t *q, const char *name);
/* The value of the request header `name` (any case), or NULL. */
const char *wr_http_header(const wr_http_request_t *q, const char *name);
/* The request's body (NUL-terminated, "" if none; *len its length, which may hold NULs):
 * borrowed for the handler's call. */
const char *wr_http_body(const wr_http_request_t *q, size_t *len);

/* Listens on address:port (an IPv4 literal; port 0: one the kernel picks) and serves handler
 * (ctx is its). NULL with *err: WR_EINVAL for a bad address or port, WR_EIO when it cannot listen
 * (why, if not NULL, then says what: "127.0.0.1:8081: Address already in use"), WR_ENOMEM. */
wr_http_t *wr_http_start(const char *address, int port, wr_http_handler_t handler, void *ctx,
                         int *err, char *why, size_t why_cap);
/* The port it listens on. */
int wr_http_port(const wr_http_t *h);
/* Stops accepting, waits for the requests being answered, frees; *h becomes NULL. */
void wr_http_stop(wr_http_t **h);

#endif
