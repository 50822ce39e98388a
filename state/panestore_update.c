/* Pane store late updates: one block read-modify-write per record (rare records only). */
#include <stdlib.h>

#include "bus/base/error.h"
#include "state/panestore_int.h"

/* A block of one (pane, kg), decoded for editing; room for one more entry. With tails, entry i's
 * tail is tails[toff[i], toff[i] + tlen[i]), except entry `rep`'s, which is rep_tail. */
typedef struct {
    uint8_t rkey[WR__PS_KEYLEN]; /* its RocksDB key, when it exists */
    bool exists;
    size_t n;
    uint64_t *keys;
    uint8_t *accs;
    uint8_t *tails;
    uint32_t *toff, *tlen;
    size_t rep;
    const void *rep_tail;
    size_t rep_len;
} s_block_t;

static void s_block_free(s_block_t *b)
{
    free(b->keys);
    free(b->accs);
    free(b->tails);
    free(b->toff);
    free(b->tlen);
}

/* Room for n entries (and a copy of ntail tail bytes). */
static int s_block_alloc(wr_panestore_t *s, s_block_t *b, size_t n, size_t ntail)
{
    b->rep = SIZE_MAX;
    b->keys = malloc(n * 8);
    b->accs = malloc(n * s->acc_size);
    if (!b->keys || !b->accs) return WR_ENOMEM;
    if (!s->tails) return 0;
    b->toff = malloc(n * 4);
    b->tlen = malloc(n * 4);
    b->tails = malloc(ntail ? ntail : 1);
    return b->toff && b->tlen && b->tails ? 0 : WR_ENOMEM;
}

static int s_block_decode(wr_panestore_t *s, s_block_t *b, const uint8_t *v, size_t len)
{
    wr__ps_block_t pb;
    if (wr__ps_block_parse(s, v, len, &pb)) return WR_EPROTO;
    size_t n = pb.n, ntail = pb.tails ? (size_t)(v + len - pb.tails) : 0;
    if (s_block_alloc(s, b, n + 1, ntail)) return WR_ENOMEM;
    memcpy(b->keys, pb.keys, n * 8);
    memcpy(b->accs, pb.accs, n * s->acc_size);
    if (pb.tails) {
        memcpy(b->tails, pb.tails, ntail);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *t = wr__ps_block_tail(&pb, i, &b->tlen[i]);
            b->toff[i] = (uint32_t)(t - pb.tails);
        }
    }
    b->n = n;
    return 0;
}

/* The block that holds or would hold (pane, kg, key): the last one whose first key <= key, else
 * the first one after it in the same (pane, kg); else an empty block (exists false). */
static int s_locate(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key, s_block_t *b)
{
    uint8_t target[WR__PS_KEYLEN];
    wr__ps_key(target, pane, kg, key);
    memset(b, 0, sizeof *b);
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
    if (!it) return WR_ENOMEM;
    int e = 0;
    for (int pass = 0; pass < 2 && !b->exists; pass++) {
        if (pass == 0)
            rocksdb_iter_seek_for_prev(it, (const char *)target, sizeof target);
        else
            rocksdb_iter_seek(it, (const char *)target, sizeof target);
        size_t klen, vlen;
        if (!rocksdb_iter_valid(it)) continue;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen != WR__PS_KEYLEN || memcmp(k, target, 10)) continue;
        memcpy(b->rkey, k, WR__PS_KEYLEN);
        b->exists = true;
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);
        e = s_block_decode(s, b, v, vlen);
    }
    char *rerr = NULL;
    rocksdb_iter_get_error(it, &rerr);
    rocksdb_iter_destroy(it);
    if (rerr) return wr__panestore_fail(s, rerr);
    if (!e && !b->exists) e = s_block_alloc(s, b, 1, 0);
    return e;
}

static size_t s_lower_bound(const uint64_t *keys, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The value of entries [i, j) of b into v (malloc'd), *len bytes. */
static int s_encode_part(wr_panestore_t *s, const s_block_t *b, size_t i, size_t j, uint8_t **v,
                         size_t *len)
{
    size_t m = j - i, as = s->acc_size, ntail = 0,
           fixed = s->tails ? 4 + m * (12 + as) : m * (8 + as);
    for (size_t k = i; s->tails && k < j; k++)
        ntail += k == b->rep ? b->rep_len : b->tlen[k];
    if (ntail > UINT32_MAX) return WR_ETOOBIG;
    uint8_t *p = *v = malloc(fixed + ntail);
    if (!p) return WR_ENOMEM;
    *len = fixed + ntail;
    if (s->tails) {
        uint32_t m32 = (uint32_t)m;
        memcpy(p, &m32, 4);
        p += 4;
    }
    memcpy(p, b->keys + i, m * 8);
    memcpy(p + m * 8, b->accs + i * as, m * as);
    if (!s->tails) return 0;
    uint8_t *ends = p + m * (8 + as), *t = ends + m * 4;
    uint32_t end = 0;
    for (size_t k = i; k < j; k++) {
        const void *src = k == b->rep ? b->rep_tail : b->tails + b->toff[k];
        uint32_t n = k == b->rep ? (uint32_t)b->rep_len : b->tlen[k];
        if (n) memcpy(t + end, src, n);
        end += n;
        memcpy(ends + (k - i) * 4, &end, 4);
    }
    return 0;
}

/* Puts entries [i, j) of b as one block of (pane, kg) into wb. */
static int s_put_part(wr_panestore_t *s, rocksdb_writebatch_t *wb, int64_t pane, uint16_t kg,
                      const s_block_t *b, size_t i, size_t j)
{
    uint8_t *v;
    size_t len;
    int e = s_encode_part(s, b, i, j, &v, &len);
    if (e) return e;
    uint8_t rk[WR__PS_KEYLEN];
    wr__ps_key(rk, pane, kg, b->keys[i]);
    rocksdb_writebatch_put(wb, (const char *)rk, sizeof rk, (const char *)v, len);
    free(v);
    return 0;
}

int wr_panestore_update_one(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key,
                            const void *acc, const void *tail, size_t tail_len,
                            wr_panestore_merge_fn merge, void *ctx)
{
    if (!s || !acc || (tail_len && !tail)) return WR_EINVAL;
    if (!s->tails) tail_len = 0;
    s_block_t b;
    size_t as = s->acc_size;
    int e = s_locate(s, pane, kg, key, &b);
    rocksdb_writebatch_t *wb = e ? NULL : rocksdb_writebatch_create();
    if (!e && !wb) e = WR_ENOMEM;
    if (e) goto out;
    size_t pos = s_lower_bound(b.keys, b.n, key);
    if (pos < b.n && b.keys[pos] == key) {
        b.rep = pos;
        b.rep_tail = tail;
        b.rep_len = tail_len;
        if (merge) {
            b.rep_tail = s->tails ? b.tails + b.toff[pos] : NULL;
            b.rep_len = s->tails ? b.tlen[pos] : 0;
            e = merge(ctx, b.accs + pos * as, &b.rep_tail, &b.rep_len);
            if (!s->tails) b.rep_len = 0;
        } else {
            memcpy(b.accs + pos * as, acc, as);
        }
    } else {
        memmove(b.keys + pos + 1, b.keys + pos, (b.n - pos) * 8);
        memmove(b.accs + (pos + 1) * as, b.accs + pos * as, (b.n - pos) * as);
        if (s->tails) {
            memmove(b.toff + pos + 1, b.toff + pos, (b.n - pos) * 4);
            memmove(b.tlen + pos + 1, b.tlen + pos, (b.n - pos) * 4);
        }
        b.keys[pos] = key;
        memcpy(b.accs + pos * as, acc, as);
        b.rep = pos;
        b.rep_tail = tail;
        b.rep_len = tail_len;
        b.n++;
        /* a new first key renames the block */
        if (b.exists && pos == 0)
            rocksdb_writebatch_delete(wb, (const char *)b.rkey, sizeof b.rkey);
    }
    if (e) goto out;
    if (b.n > 2 * (size_t)s->block_entries) {
        e = s_put_part(s, wb, pane, kg, &b, 0, b.n / 2);
        if (!e) e = s_put_part(s, wb, pane, kg, &b, b.n / 2, b.n);
    } else {
        e = s_put_part(s, wb, pane, kg, &b, 0, b.n);
    }
    if (!e) {
        char *rerr = NULL;
        rocksdb_write(s->db, s->wopts, wb, &rerr);
        if (rerr) e = wr__panestore_fail(s, rerr);
    }
out:
    if (wb) rocksdb_writebatch_destroy(wb);
    s_block_free(&b);
    return e;
}

int wr_panestore_get_one(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key, void *acc_out,
                         void **tail, size_t *tail_len)
{
    if (!s || !acc_out || (tail && !tail_len)) return WR_EINVAL;
    if (tail) {
        *tail = NULL;
        *tail_len = 0;
    }
    s_block_t b;
    int e = s_locate(s, pane, kg, key, &b);
    if (!e) {
        size_t pos = s_lower_bound(b.keys, b.n, key);
        if (pos < b.n && b.keys[pos] == key)
            memcpy(acc_out, b.accs + pos * s->acc_size, s->acc_size);
        else
            e = WR_ENOTFOUND;
        if (!e && tail && s->tails && b.tlen[pos]) {
            if ((*tail = malloc(b.tlen[pos])))
                memcpy(*tail, b.tails + b.toff[pos], *tail_len = b.tlen[pos]);
            else
                e = WR_ENOMEM;
        }
    }
    s_block_free(&b);
    return e;
}
