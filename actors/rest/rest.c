/* The REST API of a JobManager (rest.h). */
#include "actors/rest/rest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/rest/rest_json.h"
#include "actors/rest/rest_route.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/messages.h"

#define S_REFRESH_MS 3000 /* /config's refresh-interval: how often a UI should poll */
#define S_PEEK       5    /* a mailbox's recent messages without ?peek=N, as `weir mailbox` */
#define S_PEEK_MAX   16   /* and at most, as `weir mailbox --peek` */

struct wr_rest {
    wr_node_t *node;
    struct MHD_Daemon *d;
    int fd; /* the listening socket, handed to the daemon (closed by wr_rest_stop) */
    int port;
    char jm_addr[WR_ADDR_MAX];
    int64_t timeout_ms;
    char version[32];
};

/* A request being read: the body bytes seen so far. */
typedef struct {
    size_t body;
} s_request_t;

/* ---- asking the JobManager ---- */

/* An answer, or why there is none: an HTTP status and a message. */
typedef struct {
    unsigned status;
    char message[512];
} s_fail_t;

/* Asks the JobManager (type with payload) and returns its answer of reply_type decoded into
 * reply (*answer keeps the bytes the decoded views point into; reply NULL: not decoded, only its
 * type checked), or fills f. */
static bool s_ask(wr_rest_t *r, uint16_t type, const void *req, uint16_t reply_type, void *reply,
                  wr_msg_t **answer, s_fail_t *f)
{
    const wr_proto_struct_t *d = wr_msg_decl(type), *rd = wr_msg_decl(reply_type);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_msg_none_t none;
    int rc = wr_proto_pack(d, req ? req : &none, &sb);
    if (!rc)
        rc = wr_node_request(r->node, r->jm_addr, type, sb.data, sb.size, r->timeout_ms, answer);
    msgpack_sbuffer_destroy(&sb);
    if (rc) {
        *f = (s_fail_t){rc == WR_ETIMEDOUT ? 504 : 503, ""};
        snprintf(f->message, sizeof f->message, "the JobManager did not answer: %s",
                 wr_strerror(rc));
        return false;
    }
    const wr_msg_t *m = *answer;
    if (m->type == WR_MSG_NOT_LEADER) {
        wr_msg_jm_addr_t a;
        *f = (s_fail_t){503, ""};
        if (!wr_msg_jm_addr_unpack(m, &a) && a.node[0])
            snprintf(f->message, sizeof f->message,
                     "this JobManager is a standby: the leader is %s at %s", a.node, a.endpoint);
        else
            snprintf(f->message, sizeof f->message, "no JobManager leads the cluster yet");
    } else if (m->type == WR_MSG_ERROR) {
        wr_msg_error_t e;
        bool ok = !wr_msg_error_unpack(m, &e);
        *f = (s_fail_t){ok && (e.code == WR_ENOTFOUND || e.code == WR_ENOACTOR) ? 404 : 500, ""};
        snprintf(f->message, sizeof f->message, "%.*s", ok ? (int)e.text.len : 0,
                 ok ? e.text.s : "");
        if (!ok) snprintf(f->message, sizeof f->message, "a malformed error from the JobManager");
    } else if (m->type != reply_type || (reply && wr_proto_decode(rd, m->data, m->len, reply))) {
        *f = (s_fail_t){500, ""};
        snprintf(f->message, sizeof f->message, "the JobManager's answer is malformed");
    } else {
        return true;
    }
    wr_msg_destroy(answer);
    return false;
}

/* ---- the routes ---- */

/* Appends the JSON of a reply as it came (its declaration's field names: what --json prints),
 * inside {"key": ...} when key is not NULL. */
static bool s_raw_json(const wr_msg_t *m, const char *key, wr_strbuf_t *out, s_fail_t *f)
{
    if (key) wr_strbuf_addf(out, "{\"%s\":", key);
    if (wr_mp_to_json(m->data, m->len, SIZE_MAX, out)) {
        *f = (s_fail_t){500, "the JobManager's answer is malformed"};
        return false;
    }
    if (key) wr_strbuf_addc(out, '}');
    return true;
}

/* Fills ref with the job id, or f (404) when it is longer than any job id. */
static bool s_job_ref(const char *id, wr_msg_job_ref_t *ref, s_fail_t *f)
{
    size_t len = strlen(id);
    if (len >= sizeof ref->job) {
        *f = (s_fail_t){404, "no such job (see /jobs)"};
        return false;
    }
    memcpy(ref->job, id, len + 1);
    return true;
}

/* Appends the answer to route (with its parameters p, peek for a mailbox) into out, or fills f. */
static bool s_answer(wr_rest_t *r, wr_rest_route_t route, const wr_rest_params_t *p, uint32_t peek,
                     wr_strbuf_t *out, s_fail_t *f)
{
    const char *id = p->id;
    wr_msg_t *jobs_m = NULL, *actors_m = NULL, *job_m = NULL, *raw_m = NULL;
    wr_msg_jobs_reply_t jobs;
    wr_msg_actors_reply_t actors;
    wr_msg_job_reply_t job;
    wr_msg_ckpt_list_reply_t ckpts;
    wr_msg_job_ref_t ref;
    bool ok = false, has_jobs = false, has_actors = false, has_job = false, has_ckpts = false;
    switch (route) {
    case WR_REST_OVERVIEW:
        ok = (has_jobs = s_ask(r, WR_MSG_JOBS_REQ, NULL, WR_MSG_JOBS_REPLY, &jobs, &jobs_m, f)) &&
             (has_actors =
                  s_ask(r, WR_MSG_ACTORS_REQ, NULL, WR_MSG_ACTORS_REPLY, &actors, &actors_m, f));
        if (ok) wr_rest_json_overview(&jobs, &actors, r->version, out);
        break;
    case WR_REST_CONFIG:
        wr_rest_json_config(r->version, S_REFRESH_MS, out);
        ok = true;
        break;
    case WR_REST_JOBS:
    case WR_REST_JOBS_OVERVIEW:
        ok = has_jobs = s_ask(r, WR_MSG_JOBS_REQ, NULL, WR_MSG_JOBS_REPLY, &jobs, &jobs_m, f);
        if (ok && route == WR_REST_JOBS) wr_rest_json_jobs(&jobs, out);
        if (ok && route == WR_REST_JOBS_OVERVIEW) wr_rest_json_jobs_overview(&jobs, out);
        break;
    case WR_REST_JOB:
    case WR_REST_JOB_EXCEPTIONS:
    case WR_REST_VERTEX:
        ok = has_job = s_job_ref(id, &ref, f) &&
                       s_ask(r, WR_MSG_JOB_REQ, &ref, WR_MSG_JOB_REPLY, &job, &job_m, f);
        if (ok && route == WR_REST_JOB) wr_rest_json_job(&job, wr_wall_ms(), out);
        if (ok && route == WR_REST_JOB_EXCEPTIONS) wr_rest_json_exceptions(&job, out);
        if (ok && route == WR_REST_VERTEX && !wr_rest_json_vertex(&job, p->vertex, out)) {
            *f = (s_fail_t){404, ""};
            snprintf(f->message, sizeof f->message, "job %s has no vertex %u (see /jobs/%s)", id,
                     p->vertex, id);
            ok = false;
        }
        break;
    case WR_REST_JOB_CHECKPOINTS:
        ok = has_ckpts = s_job_ref(id, &ref, f) && s_ask(r, WR_MSG_CKPT_LIST_REQ, &ref,
                                                         WR_MSG_CKPT_LIST_REPLY, &ckpts, &job_m, f);
        if (ok) wr_rest_json_checkpoints(&ckpts, out);
        break;
    case WR_REST_ACTORS:
        ok = s_ask(r, WR_MSG_ACTORS_REQ, NULL, WR_MSG_ACTORS_REPLY, NULL, &raw_m, f) &&
             s_raw_json(raw_m, "nodes", out, f);
        break;
    case WR_REST_MAILBOX: {
        wr_msg_mailbox_req_t req = {.peek = peek};
        snprintf(req.addr, sizeof req.addr, "%s", p->addr);
        ok = s_ask(r, WR_MSG_MAILBOX_REQ, &req, WR_MSG_MAILBOX_REPLY, NULL, &raw_m, f) &&
             s_raw_json(raw_m, NULL, out, f);
        break;
    }
    case WR_REST_TASKMANAGERS:
    case WR_REST_TASKMANAGER:
        ok = has_actors =
            s_ask(r, WR_MSG_ACTORS_REQ, NULL, WR_MSG_ACTORS_REPLY, &actors, &actors_m, f);
        if (ok &&
            !wr_rest_json_taskmanagers(&actors, route == WR_REST_TASKMANAGER ? id : NULL, out)) {
            *f = (s_fail_t){404, ""};
            snprintf(f->message, sizeof f->message, "no TaskManager '%s' (see /taskmanagers)", id);
            ok = false;
        }
        break;
    default:
        *f = (s_fail_t){404, "not found"};
        break;
    }
    if (has_jobs) wr_msg_jobs_reply_release(&jobs);
    if (has_actors) wr_msg_actors_reply_release(&actors);
    if (has_job) wr_msg_job_reply_release(&job);
    if (has_ckpts) wr_msg_ckpt_list_reply_release(&ckpts);
    wr_msg_destroy(&raw_m);
    wr_msg_destroy(&jobs_m);
    wr_msg_destroy(&actors_m);
    wr_msg_destroy(&job_m);
    if (ok && out->failed) {
        *f = (s_fail_t){500, "out of memory"};
        ok = false;
    }
    return ok;
}

/* ---- HTTP ---- */

static enum MHD_Result s_send(struct MHD_Connection *c, unsigned status, wr_strbuf_t *body,
                              bool allow)
{
    size_t len = 0;
    char *text = wr_strbuf_detach(body, &len);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result s_error(struct MHD_Connection *c, unsigned status, const char *message,
                               bool allow)
{
    wr_strbuf_t body;
    wr_strbuf_init(&body);
    wr_rest_json_error(message, &body);
    return s_send(c, status, &body, allow);
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    wr_rest_t *r = cls;
    s_request_t *q = *con_cls;
    if (!q) { /* the headers: come back for the body, if any */
        if (!(q = calloc(1, sizeof *q))) return MHD_NO;
        *con_cls = q;
        /* a body announced too large is refused before it is sent (no 100 Continue) */
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > WR_REST_MAX_BODY) {
            q->body = (size_t)WR_REST_MAX_BODY + 1;
            return s_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the request's body is too large", false);
        }
        return MHD_YES;
    }
    if (*upload_size) { /* a body: not kept, only bounded */
        bool answered = q->body > WR_REST_MAX_BODY;
        q->body += *upload_size;
        *upload_size = 0;
        if (answered || q->body <= WR_REST_MAX_BODY) return MHD_YES;
        return s_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the request's body is too large", false);
    }
    if (q->body > WR_REST_MAX_BODY) return MHD_YES; /* answered already */
    wr_rest_params_t p;
    wr_rest_route_t route = wr_rest_route(method, url, &p);
    if (route == WR_REST_NOT_FOUND) {
        char message[160];
        snprintf(message, sizeof message, "not found: %.100s", url);
        return s_error(c, MHD_HTTP_NOT_FOUND, message, false);
    }
    if (route == WR_REST_METHOD_NOT_ALLOWED)
        return s_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "this REST API only reads for now: GET or HEAD", true);
    wr_strbuf_t body;
    wr_strbuf_init(&body);
    s_fail_t f;
    /* ?peek=N: how many recent messages a mailbox shows (default S_PEEK) */
    const char *peek_arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "peek");
    unsigned long peek = peek_arg ? strtoul(peek_arg, NULL, 10) : S_PEEK;
    if (peek > S_PEEK_MAX) peek = S_PEEK_MAX;
    if (s_answer(r, route, &p, (uint32_t)peek, &body, &f))
        return s_send(c, MHD_HTTP_OK, &body, false);
    wr_strbuf_release(&body);
    return s_error(c, f.status, f.message, false);
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    free(*con_cls);
    *con_cls = NULL;
}

/* ---- the server ---- */

static int s_listen(const wr_rest_opts_t *o, int *port, char *why, size_t why_cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (o->port < 0 || o->port > 65535 || !o->address ||
        inet_pton(AF_INET, o->address, &a.sin_addr) != 1) {
        snprintf(why, why_cap, "'%s' port %d: not an IPv4 address and port",
                 o->address ? o->address : "", o->port);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    socklen_t len = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        snprintf(why, why_cap, "%s:%d: %s", o->address, o->port, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

wr_rest_t *wr_rest_start(wr_node_t *node, const wr_rest_opts_t *o, int *err, char *why,
                         size_t why_cap)
{
    char none[1];
    if (!why) why = none, why_cap = sizeof none;
    why[0] = '\0';
    wr_rest_t *r = calloc(1, sizeof *r);
    if (!r) {
        *err = WR_ENOMEM;
        return NULL;
    }
    r->node = node;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
    snprintf(r->jm_addr, sizeof r->jm_addr, "%s", o->jm_addr);
    snprintf(r->version, sizeof r->version, "%s", o->version ? o->version : "");
    if ((r->fd = s_listen(o, &r->port, why, why_cap)) < 0) {
        *err = o->port < 0 || o->port > 65535 ? WR_EINVAL : WR_EIO;
        free(r);
        return NULL;
    }
    r->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_ITC, /* (for MHD_quiesce_daemon) */
                            0, NULL, NULL, s_handle, r, MHD_OPTION_LISTEN_SOCKET, r->fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)WR_REST_MAX_CONNECTIONS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WR_REST_IDLE_S,
                            MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    if (!r->d) {
        snprintf(why, why_cap, "cannot start the HTTP server on %s:%d", o->address, r->port);
        close(r->fd);
        free(r);
        *err = WR_EIO;
        return NULL;
    }
    *err = 0;
    return r;
}

int wr_rest_port(const wr_rest_t *r)
{
    return r->port;
}

void wr_rest_stop(wr_rest_t **rp)
{
    wr_rest_t *r = *rp;
    if (!r) return;
    /* quiesced first, the listening socket stays this module's to close, once */
    MHD_socket fd = MHD_quiesce_daemon(r->d);
    MHD_stop_daemon(r->d); /* (waits for the connections' threads) */
    if (fd != MHD_INVALID_SOCKET) close(fd);
    free(r);
    *rp = NULL;
}
