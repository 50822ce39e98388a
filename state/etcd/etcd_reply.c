/* Decoders of etcd's JSON gateway replies (etcd_reply.h). */
#include "state/etcd/etcd_reply.h"

#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/jsonr.h"

void wr_etcd_range_release(wr_etcd_range_t *r)
{
    free(r->kvs);
    free(r->data);
    memset(r, 0, sizeof *r);
}

void wr_etcd_txn_release(wr_etcd_txn_result_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        wr_etcd_range_release(&t->responses[i]);
    free(t->responses);
    memset(t, 0, sizeof *t);
}

/* {"revision": ...} inside "header"; other fields skipped. */
static void s_header(wr_jsonr_t *r, int64_t *revision)
{
    wr_jsonr_obj_begin(r);
    while (wr_jsonr_obj_next(r))
        if (strcmp(r->key, "revision") == 0)
            wr_jsonr_read_int(r, revision);
        else
            wr_jsonr_skip(r);
}

/* While decoding, kvs hold offsets into data (key at (size_t)kv.key - 1, as pointers are not
 * stable while data grows); s_fix_pointers turns them into pointers at the end. */
typedef struct {
    wr_etcd_kv_t *kvs;
    size_t n, cap;
    wr_strbuf_t data;
    size_t *key_off, *value_off;
} s_kvs_t;

static int s_kv(wr_jsonr_t *r, s_kvs_t *k)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 4;
        wr_etcd_kv_t *kvs = realloc(k->kvs, cap * sizeof *kvs);
        if (kvs) k->kvs = kvs;
        size_t *ko = kvs ? realloc(k->key_off, cap * sizeof *ko) : NULL;
        if (ko) k->key_off = ko;
        size_t *vo = ko ? realloc(k->value_off, cap * sizeof *vo) : NULL;
        if (!vo) return r->err = r->err ? r->err : WR_ENOMEM;
        k->value_off = vo;
        k->cap = cap;
    }
    wr_etcd_kv_t *kv = &k->kvs[k->n];
    memset(kv, 0, sizeof *kv);
    size_t key_off = SIZE_MAX, value_off = SIZE_MAX;
    wr_jsonr_obj_begin(r);
    while (wr_jsonr_obj_next(r)) {
        size_t before = k->data.len;
        if (strcmp(r->key, "key") == 0 || strcmp(r->key, "value") == 0) {
            bool is_key = r->key[0] == 'k';
            if (wr_jsonr_read_base64(r, &k->data) == 0) {
                *(is_key ? &key_off : &value_off) = before;
                *(is_key ? &kv->key_len : &kv->value_len) = k->data.len - before;
                wr_strbuf_addc(&k->data, '\0');
            }
        } else if (strcmp(r->key, "create_revision") == 0) {
            wr_jsonr_read_int(r, &kv->create_revision);
        } else if (strcmp(r->key, "mod_revision") == 0) {
            wr_jsonr_read_int(r, &kv->mod_revision);
        } else if (strcmp(r->key, "version") == 0) {
            wr_jsonr_read_int(r, &kv->version);
        } else if (strcmp(r->key, "lease") == 0) {
            wr_jsonr_read_int(r, &kv->lease);
        } else {
            wr_jsonr_skip(r);
        }
    }
    if (k->data.failed && !r->err) r->err = WR_ENOMEM;
    k->key_off[k->n] = key_off;
    k->value_off[k->n] = value_off;
    k->n++;
    return r->err;
}

/* The fields of a range or delete-range response, the object's '{' not yet read. */
static void s_range_body(wr_jsonr_t *r, wr_etcd_range_t *out)
{
    s_kvs_t k = {0};
    wr_strbuf_init(&k.data);
    wr_jsonr_obj_begin(r);
    while (wr_jsonr_obj_next(r)) {
        if (strcmp(r->key, "header") == 0) {
            s_header(r, &out->revision);
        } else if (strcmp(r->key, "kvs") == 0 || strcmp(r->key, "prev_kvs") == 0) {
            wr_jsonr_arr_begin(r);
            while (wr_jsonr_arr_next(r))
                s_kv(r, &k);
        } else if (strcmp(r->key, "count") == 0 || strcmp(r->key, "deleted") == 0) {
            wr_jsonr_read_int(r, &out->count);
        } else if (strcmp(r->key, "more") == 0) {
            wr_jsonr_read_bool(r, &out->more);
        } else {
            wr_jsonr_skip(r);
        }
    }
    if (!r->err && k.n > 0) {
        out->data = wr_strbuf_detach(&k.data, NULL);
        if (!out->data) r->err = WR_ENOMEM;
    }
    if (!r->err) {
        /* the empty string for a key or value etcd omitted (as it omits every empty field) */
        static const char empty[1] = "";
        for (size_t i = 0; i < k.n; i++) {
            k.kvs[i].key = k.key_off[i] == SIZE_MAX ? empty : out->data + k.key_off[i];
            k.kvs[i].value = k.value_off[i] == SIZE_MAX ? empty : out->data + k.value_off[i];
        }
        out->kvs = k.kvs;
        out->n = k.n;
        k.kvs = NULL;
    }
    free(k.kvs);
    free(k.key_off);
    free(k.value_off);
    wr_strbuf_release(&k.data);
}

int wr_etcd_decode_range(const void *body, size_t len, enum wr_etcd_reply kind,
                         wr_etcd_range_t *out)
{
    memset(out, 0, sizeof *out);
    wr_jsonr_t r;
    wr_jsonr_init(&r, body, len);
    s_range_body(&r, out);
    if (kind == WR_ETCD_REPLY_PUT && out->n > 0) r.err = WR_EPROTO; /* prev_kv was not asked */
    if (wr_jsonr_end(&r)) wr_etcd_range_release(out);
    return r.err;
}

int wr_etcd_decode_txn(const void *body, size_t len, wr_etcd_txn_result_t *out)
{
    memset(out, 0, sizeof *out);
    wr_jsonr_t r;
    wr_jsonr_init(&r, body, len);
    size_t cap = 0;
    wr_jsonr_obj_begin(&r);
    while (wr_jsonr_obj_next(&r)) {
        if (strcmp(r.key, "header") == 0) {
            s_header(&r, &out->revision);
        } else if (strcmp(r.key, "succeeded") == 0) {
            wr_jsonr_read_bool(&r, &out->succeeded);
        } else if (strcmp(r.key, "responses") == 0) {
            wr_jsonr_arr_begin(&r);
            while (wr_jsonr_arr_next(&r)) {
                if (out->n == cap) {
                    cap = cap ? 2 * cap : 4;
                    wr_etcd_range_t *g = realloc(out->responses, cap * sizeof *g);
                    if (!g) {
                        r.err = WR_ENOMEM;
                        break;
                    }
                    out->responses = g;
                }
                wr_etcd_range_t *one = &out->responses[out->n];
                memset(one, 0, sizeof *one);
                out->n++;
                /* {"response_range": {...}} or response_put or response_delete_range */
                wr_jsonr_obj_begin(&r);
                int fields = 0;
                while (wr_jsonr_obj_next(&r)) {
                    if (fields++ == 0 && (strcmp(r.key, "response_range") == 0 ||
                                          strcmp(r.key, "response_put") == 0 ||
                                          strcmp(r.key, "response_delete_range") == 0))
                        s_range_body(&r, one);
                    else
                        r.err = r.err ? r.err : WR_EPROTO;
                }
            }
        } else {
            wr_jsonr_skip(&r);
        }
    }
    if (wr_jsonr_end(&r)) wr_etcd_txn_release(out);
    return r.err;
}

int wr_etcd_decode_lease(const void *body, size_t len, bool keepalive, int64_t *id, int64_t *ttl)
{
    wr_jsonr_t r;
    wr_jsonr_init(&r, body, len);
    int64_t i = 0, t = 0, rev = 0;
    int depth = keepalive ? 2 : 1;
    wr_jsonr_obj_begin(&r);
    bool found = !keepalive;
    while (wr_jsonr_obj_next(&r)) {
        if (keepalive && r.depth == 1 && strcmp(r.key, "result") == 0 && !found) {
            found = true;
            wr_jsonr_obj_begin(&r);
            continue;
        }
        if (r.depth != depth) {
            wr_jsonr_skip(&r);
        } else if (strcmp(r.key, "ID") == 0) {
            wr_jsonr_read_int(&r, &i);
        } else if (strcmp(r.key, "TTL") == 0) {
            wr_jsonr_read_int(&r, &t);
        } else if (strcmp(r.key, "header") == 0) {
            s_header(&r, &rev);
        } else if (strcmp(r.key, "error") == 0) {
            r.err = WR_EPROTO; /* an error where a result was expected */
        } else {
            wr_jsonr_skip(&r);
        }
    }
    /* obj_next returned false at the inner '}' of result: the outer object goes on */
    while (keepalive && found && r.depth == 1 && wr_jsonr_obj_next(&r))
        wr_jsonr_skip(&r);
    if (!found && !r.err) r.err = WR_EPROTO;
    if (wr_jsonr_end(&r) == 0) {
        *id = i;
        *ttl = t < 0 ? 0 : t;
    }
    return r.err;
}

int wr_etcd_decode_error(const void *body, size_t len, int *code, wr_strbuf_t *msg)
{
    wr_jsonr_t r;
    wr_jsonr_init(&r, body, len);
    int64_t c = -1;
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    bool have_text = false;
    wr_jsonr_obj_begin(&r);
    while (wr_jsonr_obj_next(&r)) {
        if (strcmp(r.key, "code") == 0) {
            wr_jsonr_read_int(&r, &c);
        } else if ((strcmp(r.key, "message") == 0 || strcmp(r.key, "error") == 0) && !have_text) {
            have_text = true;
            wr_jsonr_read_str(&r, &text);
        } else {
            wr_jsonr_skip(&r);
        }
    }
    if (wr_jsonr_end(&r) == 0 && (c < 0 || c > 255)) r.err = WR_EPROTO;
    if (!r.err) {
        *code = (int)c;
        /* the message is etcd's text: keep it printable in one line */
        for (size_t i = 0; i < text.len; i++)
            wr_strbuf_addc(msg, (unsigned char)text.buf[i] < 0x20 ? ' ' : text.buf[i]);
    }
    wr_strbuf_release(&text);
    return r.err;
}

int wr_etcd_grpc_error(int code)
{
    switch (code) {
    case 3:
    case 9:
        return WR_EINVAL;
    case 4:
        return WR_ETIMEDOUT;
    case 5:
        return WR_ENOTFOUND;
    case 7:
    case 16:
        return WR_ECONFIG;
    case 8:
        return WR_ETOOBIG;
    case 14:
        return WR_EUNREACH;
    default:
        return WR_EIO;
    }
}
