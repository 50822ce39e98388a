/* The etcd v3 client over the JSON gateway (etcd.h): requests, transport and failover. */
#include "state/etcd/etcd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/base64.h"
#include "bus/base/error.h"
#include "bus/base/jsonr.h"
#include "bus/http/http.h"

struct wr_etcd {
    CURL *curl;
    char **endpoints;
    size_t n_endpoints;
    size_t cur; /* where the next call starts */
    long request_timeout_ms, connect_timeout_ms;
    char *user, *password, *ca_file, *cert_file, *key_file;
    char *token;        /* from auth/authenticate, when user is set */
    char interface[32]; /* CURLOPT_INTERFACE: "host!" and the source address; "": none */
    wr_strbuf_t reply;
};

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool s_dup_ok(const char *src, const char *copy)
{
    return !src || copy;
}

wr_etcd_t *wr_etcd_new(const char *endpoints, const wr_etcd_opts_t *opts, wr_strbuf_t *err)
{
    wr_etcd_opts_t none = {0};
    if (!opts) opts = &none;
    wr_etcd_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    wr_strbuf_init(&e->reply);
    e->request_timeout_ms = opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 5000;
    e->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 1000;
    e->user = s_dup(opts->user);
    e->password = s_dup(opts->password ? opts->password : "");
    e->ca_file = s_dup(opts->ca_file);
    e->cert_file = s_dup(opts->cert_file);
    e->key_file = s_dup(opts->key_file);
    bool ok = s_dup_ok(opts->user, e->user) && e->password && s_dup_ok(opts->ca_file, e->ca_file) &&
              s_dup_ok(opts->cert_file, e->cert_file) && s_dup_ok(opts->key_file, e->key_file);
    const char *src = opts->source_address;
    struct in_addr ip;
    if (ok && src && src[0]) {
        /* "host!" makes libcurl take it as an address, never an interface's name; a literal
         * needs no name lookup */
        if (inet_pton(AF_INET, src, &ip) == 1) {
            snprintf(e->interface, sizeof e->interface, "host!%s", src);
        } else {
            if (err) wr_strbuf_addf(err, "etcd source address '%s' is not an IPv4 address", src);
            ok = false;
        }
    }
    const char *p = endpoints ? endpoints : "";
    while (ok && *p) {
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == '/')
            n--; /* "http://h:2379/" and "http://h:2379" are the same */
        char **eps = realloc(e->endpoints, (e->n_endpoints + 1) * sizeof *eps);
        char *ep = eps ? strndup(p, n) : NULL;
        if (eps) e->endpoints = eps;
        if (!ep) {
            ok = false;
            break;
        }
        e->endpoints[e->n_endpoints++] = ep;
        if ((strncmp(ep, "http://", 7) != 0 || n == 7) &&
            (strncmp(ep, "https://", 8) != 0 || n == 8)) {
            if (err)
                wr_strbuf_addf(err, "etcd endpoint '%s' is not an http:// or https:// URL", ep);
            ok = false;
        }
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    if (ok && e->n_endpoints == 0) {
        if (err) wr_strbuf_adds(err, "no etcd endpoints given");
        ok = false;
    }
    if (ok) e->curl = curl_easy_init();
    if (!ok || !e->curl) wr_etcd_destroy(&e);
    return e;
}

void wr_etcd_destroy(wr_etcd_t **ep)
{
    wr_etcd_t *e = *ep;
    if (!e) return;
    if (e->curl) curl_easy_cleanup(e->curl);
    for (size_t i = 0; i < e->n_endpoints; i++)
        free(e->endpoints[i]);
    free(e->endpoints);
    free(e->user);
    free(e->password);
    free(e->ca_file);
    free(e->cert_file);
    free(e->key_file);
    free(e->token);
    wr_strbuf_release(&e->reply);
    free(e);
    *ep = NULL;
}

const char *wr_etcd_endpoint(const wr_etcd_t *e)
{
    return e->endpoints[e->cur];
}

/* One POST of body to path at the endpoints, failing over while none connects; the reply in
 * e->reply. HTTP errors become WR_E* codes with etcd's message. */
static int s_post_raw(wr_etcd_t *e, const char *path, const wr_strbuf_t *body, wr_strbuf_t *err)
{
    if (body->failed) return WR_ENOMEM;
    CURL *c = e->curl;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    wr_strbuf_t auth;
    wr_strbuf_init(&auth);
    if (e->token) {
        wr_strbuf_addf(&auth, "Authorization: %s", e->token);
        struct curl_slist *h = headers ? curl_slist_append(headers, auth.buf) : NULL;
        if (h) headers = h;
    }
    int rc = 0;
    CURLcode cc = CURLE_OK;
    wr_strbuf_t url, refused;
    wr_http_reply_t reply = {.body = &e->reply, .max = WR_JSONR_MAX_SIZE};
    wr_strbuf_init(&url);
    wr_strbuf_init(&refused);
    for (size_t tries = 0; tries < e->n_endpoints; tries++) {
        const char *ep = e->endpoints[e->cur];
        wr_strbuf_reset(&url);
        wr_strbuf_addf(&url, "%s%s", ep, path);
        rc = 0;
        if (!headers || url.failed || auth.failed) {
            rc = WR_ENOMEM;
            break;
        }
        wr_http_post_t post = {.url = url.buf,
                               .body = body->buf,
                               .len = body->len,
                               .headers = headers,
                               .timeout_ms = e->request_timeout_ms,
                               .connect_timeout_ms = e->connect_timeout_ms};
        wr_http_prepare(c, &post, &reply);
        if (e->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
        if (e->cert_file) curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert_file);
        if (e->key_file) curl_easy_setopt(c, CURLOPT_SSLKEY, e->key_file);
        if (e->interface[0]) curl_easy_setopt(c, CURLOPT_INTERFACE, e->interface);
        cc = curl_easy_perform(c);
        if (!wr_http_not_sent(cc)) break;
        wr_strbuf_addf(&refused, "%s%s", refused.len ? ", " : "", ep);
        e->cur = (e->cur + 1) % e->n_endpoints;
        rc = WR_EUNREACH;
    }
    const char *ep = e->endpoints[e->cur];
    long status = 0;
    if (rc == WR_EUNREACH && wr_http_not_sent(cc)) {
        if (err)
            wr_strbuf_addf(err, "no etcd endpoint accepts connections (tried %s)", refused.buf);
    } else if (rc == 0 && cc == CURLE_OPERATION_TIMEDOUT) {
        if (err) wr_strbuf_addf(err, "etcd at %s: no reply in %ld ms", ep, e->request_timeout_ms);
        e->cur = (e->cur + 1) % e->n_endpoints;
        rc = WR_ETIMEDOUT;
    } else if (rc == 0 && cc == CURLE_WRITE_ERROR) {
        if (err) wr_strbuf_addf(err, "etcd at %s: reply over %u bytes", ep, WR_JSONR_MAX_SIZE);
        rc = e->reply.failed ? WR_ENOMEM : WR_ETOOBIG;
    } else if (rc == 0 && cc != CURLE_OK) {
        if (err) wr_strbuf_addf(err, "etcd at %s: %s", ep, curl_easy_strerror(cc));
        rc = WR_EIO;
    } else if (rc == 0 && (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200)) {
        int code = -1;
        wr_strbuf_t msg;
        wr_strbuf_init(&msg);
        if (wr_etcd_decode_error(e->reply.buf, e->reply.len, &code, &msg) == 0) {
            rc = wr_etcd_grpc_error(code);
            if (err) wr_strbuf_addf(err, "etcd at %s: %s (code %d)", ep, msg.buf, code);
        } else {
            rc = WR_EIO;
            if (err) wr_strbuf_addf(err, "etcd at %s: HTTP %ld on %s", ep, status, path);
        }
        wr_strbuf_release(&msg);
    }
    curl_slist_free_all(headers);
    wr_strbuf_release(&auth);
    wr_strbuf_release(&url);
    wr_strbuf_release(&refused);
    return rc;
}

/* The comma before a field, unless it is the object's first. */
static const char *s_sep(const wr_strbuf_t *sb)
{
    return sb->len > 0 && sb->buf[sb->len - 1] != '{' ? "," : "";
}

static void s_str_field(wr_strbuf_t *sb, const char *name, const char *s)
{
    wr_strbuf_addf(sb, "%s\"%s\":", s_sep(sb), name);
    wr_strbuf_add_json_str(sb, s, strlen(s));
}

/* POST with a token first when the client authenticates. */
static int s_post(wr_etcd_t *e, const char *path, const wr_strbuf_t *body, wr_strbuf_t *err)
{
    if (e->user && !e->token) {
        wr_strbuf_t req, token;
        wr_strbuf_init(&req);
        wr_strbuf_init(&token);
        wr_strbuf_addc(&req, '{');
        s_str_field(&req, "name", e->user);
        s_str_field(&req, "password", e->password);
        wr_strbuf_addc(&req, '}');
        int rc = s_post_raw(e, "/v3/auth/authenticate", &req, err);
        if (rc == 0) {
            wr_jsonr_t r;
            wr_jsonr_init(&r, e->reply.buf, e->reply.len);
            wr_jsonr_obj_begin(&r);
            while (wr_jsonr_obj_next(&r))
                if (strcmp(r.key, "token") == 0)
                    wr_jsonr_read_str(&r, &token);
                else
                    wr_jsonr_skip(&r);
            rc = wr_jsonr_end(&r);
            if (rc == 0 && (token.len == 0 || memchr(token.buf, '\0', token.len) ||
                            strpbrk(token.buf, "\r\n")))
                rc = WR_EPROTO;
            if (rc == 0) e->token = wr_strbuf_detach(&token, NULL);
            if (rc == 0 && !e->token) rc = WR_ENOMEM;
            if (rc && err)
                wr_strbuf_addf(err, "etcd at %s: bad auth/authenticate reply", wr_etcd_endpoint(e));
        }
        wr_strbuf_release(&req);
        wr_strbuf_release(&token);
        if (rc) return rc;
    }
    return s_post_raw(e, path, body, err);
}

/* ,"name":"base64" (no comma first in an empty object) */
static void s_b64_field(wr_strbuf_t *sb, const char *name, const void *p, size_t len)
{
    wr_strbuf_addf(sb, "%s\"%s\":\"", s_sep(sb), name);
    wr_base64_encode(sb, p, len);
    wr_strbuf_addc(sb, '"');
}

static void s_int_field(wr_strbuf_t *sb, const char *name, int64_t v)
{
    wr_strbuf_addf(sb, "%s\"%s\":\"%lld\"", s_sep(sb), name, (long long)v);
}

/* range_end for every key starting with key: the key with its last byte below 0xff incremented
 * (and what follows dropped); "\0" (all keys from key on) when there is none. */
static void s_prefix_end(wr_strbuf_t *sb, const void *key, size_t len)
{
    const uint8_t *k = key;
    size_t n = len;
    while (n > 0 && k[n - 1] == 0xff)
        n--;
    if (n == 0) {
        s_b64_field(sb, "range_end", "", 1);
        return;
    }
    uint8_t *end = malloc(n);
    if (!end) {
        sb->failed = true;
        return;
    }
    memcpy(end, k, n);
    end[n - 1]++;
    s_b64_field(sb, "range_end", end, n);
    free(end);
}

/* The fields of a PutRequest, RangeRequest or DeleteRangeRequest, inside its braces. */
static void s_op_fields(wr_strbuf_t *sb, const wr_etcd_op_t *op)
{
    s_b64_field(sb, "key", op->key, op->key_len);
    if (op->kind == WR_ETCD_OP_PUT) {
        s_b64_field(sb, "value", op->value, op->value_len);
        if (op->lease) s_int_field(sb, "lease", op->lease);
    } else if (op->prefix) {
        s_prefix_end(sb, op->key, op->key_len);
    }
}

static const char *s_op_path(enum wr_etcd_op_kind k)
{
    return k == WR_ETCD_OP_PUT      ? "/v3/kv/put"
           : k == WR_ETCD_OP_DELETE ? "/v3/kv/deleterange"
                                    : "/v3/kv/range";
}

/* One kv operation outside a txn; the reply decoded into *out. */
static int s_kv_call(wr_etcd_t *e, const wr_etcd_op_t *op, wr_etcd_range_t *out, wr_strbuf_t *err)
{
    wr_strbuf_t req;
    wr_strbuf_init(&req);
    wr_strbuf_addc(&req, '{');
    s_op_fields(&req, op);
    wr_strbuf_addc(&req, '}');
    int rc = s_post(e, s_op_path(op->kind), &req, err);
    wr_strbuf_release(&req);
    if (rc) return rc;
    enum wr_etcd_reply kind = op->kind == WR_ETCD_OP_PUT      ? WR_ETCD_REPLY_PUT
                              : op->kind == WR_ETCD_OP_DELETE ? WR_ETCD_REPLY_DELETE
                                                              : WR_ETCD_REPLY_RANGE;
    rc = wr_etcd_decode_range(e->reply.buf, e->reply.len, kind, out);
    if (rc && err)
        wr_strbuf_addf(err, "etcd at %s: malformed reply to %s", wr_etcd_endpoint(e),
                       s_op_path(op->kind));
    return rc;
}

int wr_etcd_put(wr_etcd_t *e, const void *key, size_t key_len, const void *value, size_t value_len,
                int64_t lease, int64_t *revision, wr_strbuf_t *err)
{
    wr_etcd_op_t op = {WR_ETCD_OP_PUT, key, key_len, value, value_len, lease, false};
    wr_etcd_range_t out;
    int rc = s_kv_call(e, &op, &out, err);
    if (rc == 0 && revision) *revision = out.revision;
    if (rc == 0) wr_etcd_range_release(&out);
    return rc;
}

int wr_etcd_get(wr_etcd_t *e, const void *key, size_t key_len, bool prefix, wr_etcd_range_t *out,
                wr_strbuf_t *err)
{
    wr_etcd_op_t op = {WR_ETCD_OP_RANGE, key, key_len, NULL, 0, 0, prefix};
    return s_kv_call(e, &op, out, err);
}

int wr_etcd_delete(wr_etcd_t *e, const void *key, size_t key_len, bool prefix, int64_t *deleted,
                   wr_strbuf_t *err)
{
    wr_etcd_op_t op = {WR_ETCD_OP_DELETE, key, key_len, NULL, 0, 0, prefix};
    wr_etcd_range_t out;
    int rc = s_kv_call(e, &op, &out, err);
    if (rc == 0 && deleted) *deleted = out.count;
    if (rc == 0) wr_etcd_range_release(&out);
    return rc;
}

static void s_ops(wr_strbuf_t *sb, const char *name, const wr_etcd_op_t *ops, size_t n)
{
    static const char *const req[] = {"request_put", "request_delete_range", "request_range"};
    wr_strbuf_addf(sb, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        wr_strbuf_addf(sb, "%s{\"%s\":{", i ? "," : "", req[ops[i].kind]);
        s_op_fields(sb, &ops[i]);
        wr_strbuf_adds(sb, "}}");
    }
    wr_strbuf_addc(sb, ']');
}

int wr_etcd_txn(wr_etcd_t *e, const wr_etcd_cmp_t *cmp, size_t n_cmp, const wr_etcd_op_t *success,
                size_t n_success, const wr_etcd_op_t *failure, size_t n_failure,
                wr_etcd_txn_result_t *out, wr_strbuf_t *err)
{
    static const char *const target[] = {"VERSION", "CREATE", "MOD", "VALUE"};
    static const char *const field[] = {"version", "create_revision", "mod_revision", "value"};
    static const char *const result[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};
    wr_strbuf_t req;
    wr_strbuf_init(&req);
    wr_strbuf_adds(&req, "{\"compare\":[");
    for (size_t i = 0; i < n_cmp; i++) {
        const wr_etcd_cmp_t *c = &cmp[i];
        wr_strbuf_addf(&req, "%s{\"result\":\"%s\",\"target\":\"%s\"", i ? "," : "", result[c->op],
                       target[c->target]);
        s_b64_field(&req, "key", c->key, c->key_len);
        if (c->target == WR_ETCD_VALUE)
            s_b64_field(&req, field[c->target], c->value, c->value_len);
        else
            s_int_field(&req, field[c->target], c->number);
        wr_strbuf_addc(&req, '}');
    }
    wr_strbuf_addc(&req, ']');
    s_ops(&req, "success", success, n_success);
    s_ops(&req, "failure", failure, n_failure);
    wr_strbuf_addc(&req, '}');
    int rc = s_post(e, "/v3/kv/txn", &req, err);
    wr_strbuf_release(&req);
    if (rc) return rc;
    rc = wr_etcd_decode_txn(e->reply.buf, e->reply.len, out);
    if (rc && err)
        wr_strbuf_addf(err, "etcd at %s: malformed reply to /v3/kv/txn", wr_etcd_endpoint(e));
    return rc;
}

/* A lease call: {"TTL": ttl} or {"ID": id}; the reply's id and TTL. */
static int s_lease_call(wr_etcd_t *e, const char *path, const char *name, int64_t v, bool keepalive,
                        int64_t *id, int64_t *ttl, wr_strbuf_t *err)
{
    wr_strbuf_t req;
    wr_strbuf_init(&req);
    wr_strbuf_addc(&req, '{');
    s_int_field(&req, name, v);
    wr_strbuf_addc(&req, '}');
    int rc = s_post(e, path, &req, err);
    wr_strbuf_release(&req);
    if (rc || !id) return rc;
    rc = wr_etcd_decode_lease(e->reply.buf, e->reply.len, keepalive, id, ttl);
    if (rc && err)
        wr_strbuf_addf(err, "etcd at %s: malformed reply to %s", wr_etcd_endpoint(e), path);
    return rc;
}

int wr_etcd_lease_grant(wr_etcd_t *e, int64_t ttl_s, int64_t *id, int64_t *granted_ttl,
                        wr_strbuf_t *err)
{
    int64_t i = 0, t = 0;
    int rc = s_lease_call(e, "/v3/lease/grant", "TTL", ttl_s, false, &i, &t, err);
    if (rc == 0 && (i == 0 || t <= 0)) {
        if (err)
            wr_strbuf_addf(err, "etcd at %s: lease/grant answered no lease", wr_etcd_endpoint(e));
        rc = WR_EPROTO;
    }
    if (rc == 0) {
        *id = i;
        if (granted_ttl) *granted_ttl = t;
    }
    return rc;
}

int wr_etcd_lease_keepalive(wr_etcd_t *e, int64_t id, int64_t *ttl, wr_strbuf_t *err)
{
    int64_t i = 0, t = 0;
    int rc = s_lease_call(e, "/v3/lease/keepalive", "ID", id, true, &i, &t, err);
    if (rc == 0 && t == 0) {
        if (err)
            wr_strbuf_addf(err, "etcd at %s: lease %lld is gone", wr_etcd_endpoint(e),
                           (long long)id);
        rc = WR_ENOTFOUND;
    }
    if (rc == 0 && ttl) *ttl = t;
    return rc;
}

int wr_etcd_lease_revoke(wr_etcd_t *e, int64_t id, wr_strbuf_t *err)
{
    return s_lease_call(e, "/v3/lease/revoke", "ID", id, false, NULL, NULL, err);
}
