/* A small HTTP server for a node's REST API and metrics (http.h). */
#include "actors/rest/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/base/error.h"

struct wr_http {
    struct MHD_Daemon *d;
    int fd; /* the listening socket, handed to the daemon (closed by wr_http_stop) */
    int port;
    wr_http_handler_t handler;
    void *ctx;
};

struct wr_http_request {
    struct MHD_Connection *c;
    const wr_strbuf_t *body;
};

/* A request being read: its body so far (at most WR_HTTP_MAX_BODY bytes kept), and how many bytes
 * came in all. */
typedef struct {
    size_t seen;
    wr_strbuf_t body;
} s_request_t;

const char *wr_http_arg(const wr_http_request_t *q, const char *name)
{
    return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *wr_http_header(const wr_http_request_t *q, const char *name)
{
    return MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, name);
}

const char *wr_http_body(const wr_http_request_t *q, size_t *len)
{
    *len = q->body->len;
    return q->body->buf;
}

static enum MHD_Result s_send(struct MHD_Connection *c, wr_http_reply_t *reply)
{
    size_t len = 0;
    char *text = wr_strbuf_detach(&reply->body, &len);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (reply->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
    if (reply->authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, reply->authenticate);
    enum MHD_Result rc = MHD_queue_response(c, reply->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result s_too_large(struct MHD_Connection *c)
{
    wr_http_reply_t reply = {.status = MHD_HTTP_CONTENT_TOO_LARGE,
                             .content_type = "application/json"};
    wr_strbuf_init(&reply.body);
    wr_strbuf_adds(&reply.body, "{\"errors\":[\"the request's body is too large\"]}");
    return s_send(c, &reply);
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    wr_http_t *h = cls;
    s_request_t *q = *con_cls;
    if (!q) { /* the headers: come back for the body, if any */
        if (!(q = calloc(1, sizeof *q))) return MHD_NO;
        wr_strbuf_init(&q->body);
        *con_cls = q;
        /* a body announced too large is refused before it is sent (no 100 Continue) */
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > WR_HTTP_MAX_BODY) {
            q->seen = (size_t)WR_HTTP_MAX_BODY + 1;
            return s_too_large(c);
        }
        return MHD_YES;
    }
    if (*upload_size) { /* a piece of the body: kept while it is within the bound */
        bool answered = q->seen > WR_HTTP_MAX_BODY;
        q->seen += *upload_size;
        if (!answered && q->seen <= WR_HTTP_MAX_BODY) wr_strbuf_add(&q->body, upload, *upload_size);
        *upload_size = 0;
        if (answered || q->seen <= WR_HTTP_MAX_BODY) return MHD_YES;
        wr_strbuf_release(&q->body);
        return s_too_large(c);
    }
    if (q->seen > WR_HTTP_MAX_BODY) return MHD_YES; /* answered already */
    wr_http_reply_t reply = {.status = MHD_HTTP_OK, .content_type = "application/json"};
    wr_strbuf_init(&reply.body);
    if (q->body.failed) {
        reply.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        wr_strbuf_adds(&reply.body, "{\"errors\":[\"out of memory for the request's body\"]}");
        return s_send(c, &reply);
    }
    wr_http_request_t req = {c, &q->body};
    h->handler(h->ctx, method, url, &req, &reply);
    return s_send(c, &reply);
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    s_request_t *q = *con_cls;
    if (q) wr_strbuf_release(&q->body);
    free(q);
    *con_cls = NULL;
}

static int s_listen(const char *address, int port, int *bound, char *why, size_t why_cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port < 0 || port > 65535 || !address || inet_pton(AF_INET, address, &a.sin_addr) != 1) {
        snprintf(why, why_cap, "'%s' port %d: not an IPv4 address and port", address ? address : "",
                 port);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    socklen_t len = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        snprintf(why, why_cap, "%s:%d: %s", address, port, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

wr_http_t *wr_http_start(const char *address, int port, wr_http_handler_t handler, void *ctx,
                         int *err, char *why, size_t why_cap)
{
    char none[1];
    if (!why) why = none, why_cap = sizeof none;
    why[0] = '\0';
    wr_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        *err = WR_ENOMEM;
        return NULL;
    }
    h->handler = handler;
    h->ctx = ctx;
    if ((h->fd = s_listen(address, port, &h->port, why, why_cap)) < 0) {
        *err = port < 0 || port > 65535 ? WR_EINVAL : WR_EIO;
        free(h);
        return NULL;
    }
    h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_ITC, /* (for MHD_quiesce_daemon) */
                            0, NULL, NULL, s_handle, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)WR_HTTP_MAX_CONNECTIONS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WR_HTTP_IDLE_S,
                            MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(why, why_cap, "cannot start the HTTP server on %s:%d", address, h->port);
        close(h->fd);
        free(h);
        *err = WR_EIO;
        return NULL;
    }
    *err = 0;
    return h;
}

int wr_http_port(const wr_http_t *h)
{
    return h->port;
}

void wr_http_stop(wr_http_t **hp)
{
    wr_http_t *h = *hp;
    if (!h) return;
    /* quiesced first, the listening socket stays this module's to close, once */
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    MHD_stop_daemon(h->d); /* (waits for the connections' threads) */
    if (fd != MHD_INVALID_SOCKET) close(fd);
    free(h);
    *hp = NULL;
}
