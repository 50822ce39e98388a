/* libFuzzer target: the decoders of etcd's JSON gateway replies (state/etcd/etcd_reply.h) on raw,
 * untrusted bytes. Each must either fail with WR_EPROTO/WR_ENOMEM leaving nothing allocated, or
 * return a result whose kvs point inside their own storage with the lengths they claim. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "state/etcd/etcd_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check_rc(int rc)
{
    if (rc != 0 && rc != WR_EPROTO && rc != WR_ENOMEM) abort();
}

/* Touches every byte a range claims (ASan reports a lie) and checks the NUL after each. */
static void s_check_range(const wr_etcd_range_t *r)
{
    if (r->n > 0 && (!r->kvs || !r->data)) abort();
    for (size_t i = 0; i < r->n; i++) {
        const wr_etcd_kv_t *kv = &r->kvs[i];
        volatile char sink = 0;
        for (size_t j = 0; j < kv->key_len; j++)
            sink ^= kv->key[j];
        for (size_t j = 0; j < kv->value_len; j++)
            sink ^= kv->value[j];
        (void)sink;
        if (kv->key[kv->key_len] != '\0' || kv->value[kv->value_len] != '\0') abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int kind = WR_ETCD_REPLY_RANGE; kind <= WR_ETCD_REPLY_PUT; kind++) {
        wr_etcd_range_t r;
        int rc = wr_etcd_decode_range(data, size, (enum wr_etcd_reply)kind, &r);
        s_check_rc(rc);
        if (rc != 0 && (r.n != 0 || r.kvs || r.data)) abort();
        s_check_range(&r);
        wr_etcd_range_release(&r);
    }

    wr_etcd_txn_result_t t;
    int rc = wr_etcd_decode_txn(data, size, &t);
    s_check_rc(rc);
    if (rc != 0 && (t.n != 0 || t.responses)) abort();
    for (size_t i = 0; i < t.n; i++)
        s_check_range(&t.responses[i]);
    wr_etcd_txn_release(&t);

    for (int keepalive = 0; keepalive <= 1; keepalive++) {
        int64_t id = 7, ttl = 7;
        rc = wr_etcd_decode_lease(data, size, keepalive, &id, &ttl);
        s_check_rc(rc);
        if (rc != 0 && (id != 7 || ttl != 7)) abort();
        if (rc == 0 && ttl < 0) abort();
    }

    int code = -1;
    wr_strbuf_t msg;
    wr_strbuf_init(&msg);
    rc = wr_etcd_decode_error(data, size, &code, &msg);
    s_check_rc(rc);
    if (rc == 0 && (code < 0 || code > 255)) abort();
    for (size_t i = 0; i < msg.len; i++)
        if ((unsigned char)msg.buf[i] < 0x20) abort();
    if (rc != 0 && msg.len != 0) abort();
    wr_strbuf_release(&msg);
    return 0;
}
