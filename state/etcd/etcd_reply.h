/* Decoding the replies of etcd 3.4's JSON gateway: pure functions from bytes to structs, so that
 * they can be tested and fuzzed without an etcd (tests/fuzz/fuzz_etcd.c). The facts they respect:
 * int64 fields come as strings (either form is read), keys and values as base64, and fields at
 * their zero value (0, false, "", empty lists) are omitted, so a missing field reads as zero.
 * Unknown fields are skipped. Every decoder fails with WR_EPROTO on a body that is not the reply
 * it expects (WR_ENOMEM when out of memory) and then leaves its outputs empty or untouched. */
#ifndef WR_ETCD_REPLY_H
#define WR_ETCD_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

/* One key-value pair. key and value are NUL-terminated (they may hold NUL bytes too: use the
 * lengths) and borrowed from the wr_etcd_range_t that holds them. */
typedef struct {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    int64_t create_revision; /* the revision that created the key: what a leader fences on */
    int64_t mod_revision;
    int64_t version; /* writes since creation */
    int64_t lease;   /* 0: none */
} wr_etcd_kv_t;

/* What a range (get) or a delete returned. Release with wr_etcd_range_release. */
typedef struct {
    int64_t revision; /* the store's revision when the request ran (the header's) */
    int64_t count;    /* range: keys in the range; delete: keys deleted */
    bool more;        /* range: a limit cut the list */
    wr_etcd_kv_t *kvs;
    size_t n;
    char *data; /* owns every key's and value's bytes */
} wr_etcd_range_t;

/* Frees what r owns and zeroes it; safe on a zeroed or released r. */
void wr_etcd_range_release(wr_etcd_range_t *r);

/* Which reply wr_etcd_decode_range reads: kv/range, kv/deleterange, or kv/put (only the
 * header's revision: out->n and out->count stay 0). */
enum wr_etcd_reply { WR_ETCD_REPLY_RANGE, WR_ETCD_REPLY_DELETE, WR_ETCD_REPLY_PUT };
int wr_etcd_decode_range(const void *body, size_t len, enum wr_etcd_reply kind,
                         wr_etcd_range_t *out);

/* kv/txn: whether the compares held, the revision, and one wr_etcd_range_t per operation of the
 * branch that ran, in order (a put's has only the revision). Release with wr_etcd_txn_release. */
typedef struct {
    bool succeeded;
    int64_t revision;
    wr_etcd_range_t *responses;
    size_t n;
} wr_etcd_txn_result_t;
void wr_etcd_txn_release(wr_etcd_txn_result_t *t);
int wr_etcd_decode_txn(const void *body, size_t len, wr_etcd_txn_result_t *out);

/* lease/grant ({"ID","TTL"}) and lease/keepalive ({"result":{"ID","TTL"}}): *id and *ttl (in
 * seconds). A TTL absent or 0 means the lease is gone (etcd omits it for an expired lease):
 * *ttl is then 0; the caller decides what that means. */
int wr_etcd_decode_lease(const void *body, size_t len, bool keepalive, int64_t *id, int64_t *ttl);

/* etcd's error body {"error": ..., "message": ..., "code": N} (N a gRPC status code): *code and
 * the message appended to msg. WR_EPROTO when the body is no such object. */
int wr_etcd_decode_error(const void *body, size_t len, int *code, wr_strbuf_t *msg);
/* The WR_E* code for a gRPC status code: NOT_FOUND (5) is WR_ENOTFOUND, INVALID_ARGUMENT (3) and
 * FAILED_PRECONDITION (9) WR_EINVAL, DEADLINE_EXCEEDED (4) WR_ETIMEDOUT, UNAVAILABLE (14)
 * WR_EUNREACH, RESOURCE_EXHAUSTED (8) WR_ETOOBIG, UNAUTHENTICATED (16) and PERMISSION_DENIED (7)
 * WR_ECONFIG (wrong credentials are a configuration error), anything else WR_EIO. */
int wr_etcd_grpc_error(int code);

#endif
