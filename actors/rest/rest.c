/* The REST API of a JobManager (rest.h). */
#include "actors/rest/rest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/topology.h"
#include "actors/rest/assets.h"
#include "actors/rest/http.h"
#include "actors/rest/rest_json.h"
#include "actors/rest/rest_route.h"
#include "actors/rest/tokens.h"
#include "actors/runtime/request.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/jsonr.h"
#include "bus/json.h"
#include "bus/messages.h"

#define S_REFRESH_MS 3000 /* /config's refresh-interval: how often a UI should poll */
#define S_PEEK       5    /* a mailbox's recent messages without ?peek=N, as `weir mailbox` */
#define S_PEEK_MAX   16   /* and at most, as `weir mailbox --peek` */

struct wr_rest {
    wr_node_t *node;
    wr_http_t *http;
    wr_rest_tokens_t *tokens; /* NULL: the bus does not authenticate, nor does this */
    char jm_addr[WR_ADDR_MAX];
    int64_t timeout_ms, savepoint_timeout_ms;
    char version[32];
};

/* ---- asking the JobManager ---- */

/* An answer, or why there is none: an HTTP status and a message. */
typedef struct {
    unsigned status;
    char message[512];
} s_fail_t;

/* The HTTP status of an ERROR's code from the JobManager. */
static unsigned s_error_status(int code)
{
    switch (code) {
    case WR_ENOTFOUND:
    case WR_ENOACTOR:
        return 404;
    case WR_EINVAL:
    case WR_ECONFIG:
    case WR_EPROTO:
    case WR_ETOOBIG:
        return 400;
    case WR_EPERM:
        return 403;
    case WR_EEXIST:
    case WR_EAGAIN:
        return 409;
    default:
        return 500;
    }
}

/* How long a savepoint may take: until the deadline (wall ns) in ctx. */
static bool s_until(void *ctx)
{
    return wr_now_ns() < *(const int64_t *)ctx;
}

/* Asks the JobManager (type with payload) and returns its answer of reply_type decoded into
 * reply (*answer keeps the bytes the decoded views point into; reply NULL: not decoded, only its
 * type checked), or fills f. patient: the answer may take up to the savepoint timeout. */
static bool s_ask_for(wr_rest_t *r, bool patient, uint16_t type, const void *req,
                      uint16_t reply_type, void *reply, wr_msg_t **answer, s_fail_t *f)
{
    int64_t until = wr_now_ns() + r->savepoint_timeout_ms * 1000000;
    int rc = wr_node_request_typed(r->node, r->jm_addr, r->timeout_ms, patient ? s_until : NULL,
                                   &until, type, req, reply_type, reply, answer);
    if (!rc) return true;
    if (!*answer) {
        *f = (s_fail_t){rc == WR_EPROTO ? 500 : rc == WR_ETIMEDOUT ? 504 : 503, ""};
        snprintf(f->message, sizeof f->message, "%s: %s",
                 rc == WR_EPROTO ? "the JobManager's answer is malformed"
                                 : "the JobManager did not answer",
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
        *f = (s_fail_t){ok ? s_error_status(e.code) : 500, ""};
        snprintf(f->message, sizeof f->message, "%.*s", ok ? (int)e.text.len : 0,
                 ok ? e.text.s : "");
        if (!ok) snprintf(f->message, sizeof f->message, "a malformed error from the JobManager");
    } else {
        *f = (s_fail_t){500, ""};
        snprintf(f->message, sizeof f->message, "the JobManager's answer is malformed");
    }
    wr_msg_destroy(answer);
    return false;
}

static bool s_ask(wr_rest_t *r, uint16_t type, const void *req, uint16_t reply_type, void *reply,
                  wr_msg_t **answer, s_fail_t *f)
{
    return s_ask_for(r, false, type, req, reply_type, reply, answer, f);
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
    case WR_REST_VERTEX_WATERMARKS:
    case WR_REST_VERTEX_BACKPRESSURE:
        ok = has_job = s_job_ref(id, &ref, f) &&
                       s_ask(r, WR_MSG_JOB_REQ, &ref, WR_MSG_JOB_REPLY, &job, &job_m, f);
        if (ok && route == WR_REST_JOB) wr_rest_json_job(&job, wr_wall_ms(), out);
        if (ok && route == WR_REST_JOB_EXCEPTIONS) wr_rest_json_exceptions(&job, out);
        if (ok && ((route == WR_REST_VERTEX && !wr_rest_json_vertex(&job, p->vertex, out)) ||
                   (route == WR_REST_VERTEX_WATERMARKS &&
                    !wr_rest_json_watermarks(&job, p->vertex, out)) ||
                   (route == WR_REST_VERTEX_BACKPRESSURE &&
                    !wr_rest_json_backpressure(&job, p->vertex, wr_wall_ms(), out)))) {
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

/* ---- the routes that act ---- */

/* POST /jobs: the topology in the body; ?savepointPath=P restores P, ?parallelism=N runs every
 * operator at N (Flink's names for the same). */
static bool s_submit(wr_rest_t *r, const wr_http_request_t *q, wr_strbuf_t *out, s_fail_t *f)
{
    size_t len = 0;
    const char *body = wr_http_body(q, &len);
    const char *restore = wr_http_arg(q, "savepointPath"), *par = wr_http_arg(q, "parallelism");
    wr_msg_job_submit_t req = {0};
    char *end = NULL;
    unsigned long n = par ? strtoul(par, &end, 10) : 0;
    if (par && (!par[0] || *end || n < 1 || n > 65535)) {
        *f = (s_fail_t){400, "parallelism: expected a number from 1 to 65535"};
        return false;
    }
    req.parallelism = (uint32_t)n;
    if (restore &&
        (size_t)snprintf(req.restore, sizeof req.restore, "%s", restore) >= sizeof req.restore) {
        *f = (s_fail_t){400, "savepointPath: too long"};
        return false;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *topo = NULL;
    int rc = len ? wr_topology_parse(body, len, "the request's body", &topo, &err) : WR_ECONFIG;
    if (rc) {
        *f = (s_fail_t){rc == WR_ENOMEM ? 500 : 400, ""};
        snprintf(f->message, sizeof f->message, "%s",
                 len ? err.buf : "the request's body holds no topology (a topology YAML file)");
        wr_strbuf_release(&err);
        return false;
    }
    wr_strbuf_release(&err);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    rc = wr_topology_pack(topo, &pk);
    wr_topology_destroy(&topo);
    req.topology = (wr_bytes_t){(const uint8_t *)sb.data, sb.size};
    wr_msg_job_ref_t ref;
    wr_msg_t *answer = NULL;
    bool ok = !rc && s_ask(r, WR_MSG_JOB_SUBMIT, &req, WR_MSG_JOB_SUBMITTED, &ref, &answer, f);
    if (rc) *f = (s_fail_t){500, "out of memory"};
    if (ok) {
        wr_strbuf_adds(out, "{\"jobid\":");
        wr_strbuf_add_json_str(out, ref.job, strlen(ref.job));
        wr_strbuf_addc(out, '}');
    }
    wr_msg_destroy(&answer);
    msgpack_sbuffer_destroy(&sb);
    return ok;
}

/* Reads a savepoint request's JSON body into req: dir_key (a string or null) is its folder,
 * flag_key (a bool) its stop (Flink's "cancel-job") or drain. An empty body: the defaults. */
static bool s_savepoint_body(const wr_http_request_t *q, const char *dir_key, const char *flag_key,
                             wr_msg_savepoint_req_t *req, bool *flag, s_fail_t *f)
{
    size_t len = 0;
    const char *body = wr_http_body(q, &len);
    if (!len) return true;
    wr_jsonr_t j;
    wr_jsonr_init(&j, body, len);
    wr_jsonr_obj_begin(&j);
    while (wr_jsonr_obj_next(&j)) {
        if (!strcmp(j.key, dir_key) && wr_jsonr_peek(&j) == WR_JSONR_NULL)
            wr_jsonr_read_null(&j);
        else if (!strcmp(j.key, dir_key))
            wr_jsonr_read_str_copy(&j, req->dir, sizeof req->dir);
        else if (!strcmp(j.key, flag_key))
            wr_jsonr_read_bool(&j, flag);
        else {
            *f = (s_fail_t){400, ""};
            snprintf(f->message, sizeof f->message, "unknown field '%s' (known: %s, %s)", j.key,
                     dir_key, flag_key);
            return false;
        }
    }
    if (wr_jsonr_end(&j)) {
        *f = (s_fail_t){400, ""};
        snprintf(f->message, sizeof f->message,
                 "the body is not {\"%s\": \"/folder\" or null, \"%s\": true or false}: %s",
                 dir_key, flag_key, wr_strerror(j.err));
        return false;
    }
    return true;
}

/* POST /jobs/:id/savepoints ({"target-directory", "cancel-job"}) and POST /jobs/:id/stop
 * ({"targetDirectory", "drain"}): answered when the savepoint is done, Flink's finished
 * operation: {"status": {"id": "COMPLETED"}, "operation": {"location": folder}}. */
static bool s_savepoint(wr_rest_t *r, wr_rest_route_t route, const wr_rest_params_t *p,
                        const wr_http_request_t *q, wr_strbuf_t *out, s_fail_t *f)
{
    bool stop = route == WR_REST_JOB_STOP, flag = false;
    wr_msg_savepoint_req_t req = {.stop = stop};
    if ((size_t)snprintf(req.job, sizeof req.job, "%s", p->id) >= sizeof req.job) {
        *f = (s_fail_t){404, "no such job (see /jobs)"};
        return false;
    }
    if (!s_savepoint_body(q, stop ? "targetDirectory" : "target-directory",
                          stop ? "drain" : "cancel-job", &req, &flag, f))
        return false;
    if (stop)
        req.drain = flag;
    else
        req.stop = flag;
    wr_msg_savepoint_done_t done;
    wr_msg_t *answer = NULL;
    bool ok =
        s_ask_for(r, true, WR_MSG_SAVEPOINT_REQ, &req, WR_MSG_SAVEPOINT_DONE, &done, &answer, f);
    if (ok) {
        wr_strbuf_adds(out, "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":");
        wr_strbuf_add_json_str(out, done.path.s, done.path.len);
        wr_strbuf_adds(out, "}}");
    }
    wr_msg_destroy(&answer);
    return ok;
}

/* PATCH /jobs/:id?mode=cancel */
static bool s_cancel(wr_rest_t *r, const wr_rest_params_t *p, const wr_http_request_t *q,
                     wr_strbuf_t *out, s_fail_t *f)
{
    const char *mode = wr_http_arg(q, "mode");
    wr_msg_job_ref_t ref, ack;
    if (!mode || strcmp(mode, "cancel")) {
        *f = (s_fail_t){400, "PATCH /jobs/:id takes ?mode=cancel (stop a job with POST "
                             "/jobs/:id/stop)"};
        return false;
    }
    wr_msg_t *answer = NULL;
    bool ok = s_job_ref(p->id, &ref, f) &&
              s_ask(r, WR_MSG_JOB_CANCEL, &ref, WR_MSG_JOB_CANCELED, &ack, &answer, f);
    if (ok) wr_strbuf_adds(out, "{}");
    wr_msg_destroy(&answer);
    return ok;
}

/* Whether the request may act: true when the bus does not authenticate; else its bearer token's
 * role must be admin (401 without a known token, 403 with a viewer's). */
static bool s_may_act(wr_rest_t *r, const wr_http_request_t *q, s_fail_t *f)
{
    if (!r->tokens) return true;
    wr_role_t role;
    char name[WR_KEYS_NAME_MAX];
    if (!wr_rest_tokens_check(r->tokens, wr_http_header(q, "Authorization"), &role, name)) {
        *f = (s_fail_t){401, "this needs an admin's REST token: Authorization: Bearer TOKEN "
                             "(weir keygen --admin NAME writes it into "
                             "KEYS_DIR/secret/NAME.rest-token)"};
        return false;
    }
    if (role != WR_ROLE_ADMIN) {
        *f = (s_fail_t){403, ""};
        snprintf(f->message, sizeof f->message,
                 "%s is a viewer: only an admin may submit, cancel, savepoint or stop", name);
        return false;
    }
    return true;
}

static bool s_act(wr_rest_t *r, wr_rest_route_t route, const wr_rest_params_t *p,
                  const wr_http_request_t *q, wr_strbuf_t *out, s_fail_t *f)
{
    if (!s_may_act(r, q, f)) return false;
    switch (route) {
    case WR_REST_JOB_SUBMIT:
        return s_submit(r, q, out, f);
    case WR_REST_JOB_PATCH:
        return s_cancel(r, p, q, out, f);
    default:
        return s_savepoint(r, route, p, q, out, f);
    }
}

/* ---- HTTP ---- */

static void s_error(wr_http_reply_t *reply, unsigned status, const char *message)
{
    reply->status = status;
    wr_strbuf_reset(&reply->body);
    wr_rest_json_error(message, &reply->body);
}

static void s_handle(void *ctx, const char *method, const char *path, const wr_http_request_t *q,
                     wr_http_reply_t *reply)
{
    wr_rest_t *r = ctx;
    if (wr_rest_asset(method, path, reply)) return;
    wr_rest_params_t p;
    wr_rest_route_t route = wr_rest_route(method, path, &p);
    if (route == WR_REST_NOT_FOUND) {
        char message[160];
        snprintf(message, sizeof message, "not found: %.100s", path);
        s_error(reply, 404, message);
        return;
    }
    if (route == WR_REST_METHOD_NOT_ALLOWED) {
        char message[96];
        snprintf(message, sizeof message, "this path takes %s", p.allow);
        s_error(reply, 405, message);
        reply->allow = p.allow;
        return;
    }
    s_fail_t f;
    if (wr_rest_route_acts(route)) {
        if (!s_act(r, route, &p, q, &reply->body, &f)) {
            s_error(reply, f.status, f.message);
            if (f.status == 401) reply->authenticate = "Bearer";
        } else if (route == WR_REST_JOB_PATCH) {
            reply->status = 202;
        }
        return;
    }
    /* ?peek=N: how many recent messages a mailbox shows (default S_PEEK) */
    const char *peek_arg = wr_http_arg(q, "peek");
    unsigned long peek = peek_arg ? strtoul(peek_arg, NULL, 10) : S_PEEK;
    if (peek > S_PEEK_MAX) peek = S_PEEK_MAX;
    if (!s_answer(r, route, &p, (uint32_t)peek, &reply->body, &f))
        s_error(reply, f.status, f.message);
}

/* ---- the server ---- */

wr_rest_t *wr_rest_start(wr_node_t *node, const wr_rest_opts_t *o, int *err, char *why,
                         size_t why_cap)
{
    wr_rest_t *r = calloc(1, sizeof *r);
    if (!r) {
        *err = WR_ENOMEM;
        return NULL;
    }
    r->node = node;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
    r->savepoint_timeout_ms = o->savepoint_timeout_ms > 0 ? o->savepoint_timeout_ms : 600000;
    if (o->keys_dir && !(r->tokens = wr_rest_tokens_open(o->keys_dir))) {
        free(r);
        *err = WR_ENOMEM;
        return NULL;
    }
    snprintf(r->jm_addr, sizeof r->jm_addr, "%s", o->jm_addr);
    snprintf(r->version, sizeof r->version, "%s", o->version ? o->version : "");
    if (!(r->http = wr_http_start(o->address, o->port, s_handle, r, err, why, why_cap))) {
        wr_rest_tokens_destroy(&r->tokens);
        free(r);
        return NULL;
    }
    return r;
}

int wr_rest_port(const wr_rest_t *r)
{
    return wr_http_port(r->http);
}

void wr_rest_stop(wr_rest_t **rp)
{
    wr_rest_t *r = *rp;
    if (!r) return;
    wr_http_stop(&r->http); /* (waits for the requests being answered) */
    wr_rest_tokens_destroy(&r->tokens);
    free(r);
    *rp = NULL;
}
