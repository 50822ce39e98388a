/* A client of etcd v3 over its JSON gateway (etcd 3.4 serves it at /v3/): every call is one POST
 * of JSON over libcurl, blocking until the reply or the request timeout. Keys and values are
 * bytes (sent base64); int64 fields go as strings; zero fields are left out.
 *
 * Threads: a wr_etcd_t belongs to one thread at a time (it holds one curl handle, whose connection
 * it reuses from call to call: a lease keepalive is one POST on that connection, as etcd answers
 * one keepalive per POST, etcd-io/etcd#8237). Use one wr_etcd_t per thread; different ones share
 * nothing. libcurl's global initialisation happens in curl_easy_init, thread-safe since 7.84.
 *
 * Endpoints: a comma-separated list of base URLs ("http://127.0.0.1:2379,http://127.0.0.1:22379").
 * A call starts at the endpoint that answered last and fails over to the next one only when it
 * cannot connect (the request was not sent, so no write can happen twice); after a timeout the
 * next call starts at the next endpoint. When no endpoint accepts a connection the call fails
 * with WR_EUNREACH and err names every endpoint tried.
 *
 * Failures of every call: WR_EUNREACH (no endpoint connected), WR_ETIMEDOUT (no reply within the
 * request timeout: the request may have been applied), WR_EIO (another transport or HTTP failure),
 * WR_EPROTO (a reply that is not what the call expects), WR_ENOMEM, or etcd's own error translated
 * by wr_etcd_grpc_error (etcd_reply.h). The text for a human goes to err (appended; err may be
 * NULL) and names the endpoint. Outputs are written only on success. */
#ifndef WR_ETCD_H
#define WR_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"
#include "state/etcd/etcd_reply.h"

typedef struct wr_etcd wr_etcd_t;

typedef struct {
    int request_timeout_ms; /* whole request; 0: 5000 */
    int connect_timeout_ms; /* per endpoint; 0: 1000 */
    /* etcd authentication: when user is set, the client gets a token from /v3/auth/authenticate
     * before its first call and sends it with every request. */
    const char *user;
    const char *password;
    /* TLS, for https:// endpoints: files passed to libcurl (CURLOPT_CAINFO, _SSLCERT, _SSLKEY). */
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    /* The local IPv4 address (a literal: no name lookup) every call's connection comes from
     * (bus.source-address; libcurl's CURLOPT_INTERFACE). NULL or "": any. */
    const char *source_address;
} wr_etcd_opts_t;

/* A client of the endpoints (copied; opts may be NULL for the defaults). Connects to nothing yet.
 * NULL when an endpoint is not an http:// or https:// URL, the list is empty, the source address
 * is not an IPv4 literal (err says which), or out of memory. */
wr_etcd_t *wr_etcd_new(const char *endpoints, const wr_etcd_opts_t *opts, wr_strbuf_t *err);
/* NULL-safe; closes the connection and nulls *e. */
void wr_etcd_destroy(wr_etcd_t **e);
/* The endpoint the last call used (borrowed). */
const char *wr_etcd_endpoint(const wr_etcd_t *e);

/* kv/put: key = value, attached to lease (0: none). *revision (may be NULL): the new revision. */
int wr_etcd_put(wr_etcd_t *e, const void *key, size_t key_len, const void *value, size_t value_len,
                int64_t lease, int64_t *revision, wr_strbuf_t *err);
/* kv/range: the key, or with prefix every key that starts with it (key_len 0 with prefix: all).
 * *out is filled (release with wr_etcd_range_release); a missing key is out->n == 0, no error. */
int wr_etcd_get(wr_etcd_t *e, const void *key, size_t key_len, bool prefix, wr_etcd_range_t *out,
                wr_strbuf_t *err);
/* kv/deleterange: the key or the prefix; *deleted (may be NULL): how many keys went. */
int wr_etcd_delete(wr_etcd_t *e, const void *key, size_t key_len, bool prefix, int64_t *deleted,
                   wr_strbuf_t *err);

/* kv/txn: if every compare holds, run the success operations, else the failure ones. */
enum wr_etcd_target { WR_ETCD_VERSION, WR_ETCD_CREATE, WR_ETCD_MOD, WR_ETCD_VALUE };
enum wr_etcd_cmp_op { WR_ETCD_EQUAL, WR_ETCD_GREATER, WR_ETCD_LESS, WR_ETCD_NOT_EQUAL };
typedef struct {
    const void *key;
    size_t key_len;
    enum wr_etcd_target target;
    enum wr_etcd_cmp_op op;
    int64_t number;    /* VERSION, CREATE, MOD: compared with the key's (0 for a missing key) */
    const void *value; /* VALUE */
    size_t value_len;
} wr_etcd_cmp_t;
enum wr_etcd_op_kind { WR_ETCD_OP_PUT, WR_ETCD_OP_DELETE, WR_ETCD_OP_RANGE };
typedef struct {
    enum wr_etcd_op_kind kind;
    const void *key;
    size_t key_len;
    const void *value; /* PUT */
    size_t value_len;
    int64_t lease; /* PUT; 0: none */
    bool prefix;   /* DELETE, RANGE */
} wr_etcd_op_t;
/* *out gets whether the compares held and one response per operation that ran (release with
 * wr_etcd_txn_release). A compare that fails is out->succeeded == false, not an error. */
int wr_etcd_txn(wr_etcd_t *e, const wr_etcd_cmp_t *cmp, size_t n_cmp, const wr_etcd_op_t *success,
                size_t n_success, const wr_etcd_op_t *failure, size_t n_failure,
                wr_etcd_txn_result_t *out, wr_strbuf_t *err);

/* lease/grant: a lease of ttl_s seconds; *id its id, *granted_ttl (may be NULL) what etcd gave. */
int wr_etcd_lease_grant(wr_etcd_t *e, int64_t ttl_s, int64_t *id, int64_t *granted_ttl,
                        wr_strbuf_t *err);
/* lease/keepalive: one renewal; *ttl (may be NULL) the new TTL. WR_ENOTFOUND when the lease is
 * gone (expired or revoked: etcd answers without a TTL). */
int wr_etcd_lease_keepalive(wr_etcd_t *e, int64_t id, int64_t *ttl, wr_strbuf_t *err);
/* lease/revoke: ends the lease and deletes its keys; WR_ENOTFOUND when it is already gone. */
int wr_etcd_lease_revoke(wr_etcd_t *e, int64_t id, wr_strbuf_t *err);

#endif
