/* Pane store late updates: one block read-modify-write per record (rare records only). */
#include <stdlib.h>

#include "bus/base/error.h"
#include "state/panestore_int.h"

/* A block of one (pane, kg), decoded for editing; room for one more entry. */
typedef struct {
    uint8_t rkey[WR__PS_KEYLEN]; /* its RocksDB key, when it exists */
    bool exists;
    size_t n;
    uint64_t *keys;
    uint8_t *accs;
} s_block_t;

static void s_block_free(s_block_t *b)
{
    free(b->keys);
    free(b->accs);
}

static int s_block_decode(wr_panestore_t *s, s_block_t *b, const uint8_t *v, size_t len)
{
    size_t n = wr__ps_block_n(s, len);
    if (!n) return WR_EPROTO;
    b->keys = malloc((n + 1) * 8);
    b->accs = malloc((n + 1) * s->acc_size);
    if (!b->keys || !b->accs) return WR_ENOMEM;
    memcpy(b->keys, v, n * 8);
    memcpy(b->accs, v + n * 8, n * s->acc_size);
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
    if (!e && !b->exists) {
        b->keys = malloc(8);
        b->accs = malloc(s->acc_size);
        if (!b->keys || !b->accs) e = WR_ENOMEM;
    }
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

/* Puts entries [i, j) of b as one block of (pane, kg) into wb. */
static int s_put_part(wr_panestore_t *s, rocksdb_writebatch_t *wb, int64_t pane, uint16_t kg,
                      const s_block_t *b, size_t i, size_t j)
{
    size_t m = j - i, as = s->acc_size;
    uint8_t *v = malloc(m * (8 + as));
    if (!v) return WR_ENOMEM;
    memcpy(v, b->keys + i, m * 8);
    memcpy(v + m * 8, b->accs + i * as, m * as);
    uint8_t rk[WR__PS_KEYLEN];
    wr__ps_key(rk, pane, kg, b->keys[i]);
    rocksdb_writebatch_put(wb, (const char *)rk, sizeof rk, (const char *)v, m * (8 + as));
    free(v);
    return 0;
}

int wr_panestore_update_one(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key,
                            const void *acc, wr_panestore_merge_fn merge, void *ctx)
{
    if (!s || !acc) return WR_EINVAL;
    s_block_t b;
    size_t as = s->acc_size;
    int e = s_locate(s, pane, kg, key, &b);
    rocksdb_writebatch_t *wb = e ? NULL : rocksdb_writebatch_create();
    if (!e && !wb) e = WR_ENOMEM;
    if (e) goto out;
    size_t pos = s_lower_bound(b.keys, b.n, key);
    if (pos < b.n && b.keys[pos] == key) {
        if (merge)
            merge(ctx, b.accs + pos * as, acc);
        else
            memcpy(b.accs + pos * as, acc, as);
    } else {
        memmove(b.keys + pos + 1, b.keys + pos, (b.n - pos) * 8);
        memmove(b.accs + (pos + 1) * as, b.accs + pos * as, (b.n - pos) * as);
        b.keys[pos] = key;
        memcpy(b.accs + pos * as, acc, as);
        b.n++;
        /* a new first key renames the block */
        if (b.exists && pos == 0)
            rocksdb_writebatch_delete(wb, (const char *)b.rkey, sizeof b.rkey);
    }
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

int wr_panestore_get_one(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key, void *acc_out)
{
    if (!s || !acc_out) return WR_EINVAL;
    s_block_t b;
    int e = s_locate(s, pane, kg, key, &b);
    if (!e) {
        size_t pos = s_lower_bound(b.keys, b.n, key);
        if (pos < b.n && b.keys[pos] == key)
            memcpy(acc_out, b.accs + pos * s->acc_size, s->acc_size);
        else
            e = WR_ENOTFOUND;
    }
    s_block_free(&b);
    return e;
}
