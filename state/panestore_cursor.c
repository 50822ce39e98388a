/* The pane store's merge cursor: a k-way merge in (kg, key) order over one iterator per pane,
 * reading whole blocks and handing out pointers into them (no copies). */
#include <stdlib.h>

#include "bus/base/error.h"
#include "state/panestore_int.h"

/* One pane's position: its iterator and the entry it is at in the current block. */
typedef struct {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ro; /* holds the upper bound: lives as long as the iterator */
    uint8_t upper[WR__PS_KEYLEN];
    wr__ps_block_t b; /* the current block (the iterator's memory) */
    size_t n, pos;
    uint64_t key; /* keys[pos] */
    uint16_t kg;
    bool live;     /* has an entry */
    bool consumed; /* its entry went out in the last row: step before the next */
} s_head_t;

struct wr_panestore_cursor {
    wr_panestore_t *s;
    const rocksdb_snapshot_t *snap;
    int64_t p0;
    size_t npanes;
    s_head_t h[WR_PANESTORE_MAX_PANES];
};

void wr_panestore_cursor_destroy(wr_panestore_cursor_t **p)
{
    wr_panestore_cursor_t *c = p ? *p : NULL;
    if (!c) return;
    for (size_t i = 0; i < c->npanes; i++) {
        if (c->h[i].it) rocksdb_iter_destroy(c->h[i].it);
        if (c->h[i].ro) rocksdb_readoptions_destroy(c->h[i].ro);
    }
    if (c->snap) rocksdb_release_snapshot(c->s->db, c->snap);
    free(c);
    *p = NULL;
}

/* Loads the block the iterator is at (or marks the head done). */
static int s_load(wr_panestore_cursor_t *c, s_head_t *h)
{
    if (!rocksdb_iter_valid(h->it)) {
        char *rerr = NULL;
        rocksdb_iter_get_error(h->it, &rerr);
        h->live = false;
        return rerr ? wr__panestore_fail(c->s, rerr) : 0;
    }
    size_t klen, vlen;
    const uint8_t *k = (const uint8_t *)rocksdb_iter_key(h->it, &klen);
    const uint8_t *v = (const uint8_t *)rocksdb_iter_value(h->it, &vlen);
    if (klen != WR__PS_KEYLEN || wr__ps_block_parse(c->s, v, vlen, &h->b)) return WR_EPROTO;
    h->kg = wr__ps_key_kg(k);
    h->n = h->b.n;
    h->pos = 0;
    h->key = wr__ps_le64(h->b.keys);
    h->live = true;
    return 0;
}

wr_panestore_cursor_t *wr_panestore_cursor_new(wr_panestore_t *s, int64_t p0, int64_t p1,
                                               uint32_t kg_lo, uint32_t kg_hi, int *err)
{
    int e = WR_EINVAL;
    wr_panestore_cursor_t *c = NULL;
    if (!s || p1 <= p0 || (uint64_t)p1 - (uint64_t)p0 > WR_PANESTORE_MAX_PANES || p1 == INT64_MAX ||
        kg_lo >= kg_hi || kg_hi > WR_PANESTORE_KG_END)
        goto fail;
    e = WR_ENOMEM;
    if (!(c = calloc(1, sizeof *c))) goto fail;
    c->s = s;
    c->p0 = p0;
    c->snap = rocksdb_create_snapshot(s->db);
    for (int64_t p = p0; p < p1; p++) {
        s_head_t *h = &c->h[c->npanes++];
        if (!(h->ro = rocksdb_readoptions_create())) goto fail;
        uint8_t lo[WR__PS_KEYLEN];
        wr__ps_key(lo, p, (uint16_t)kg_lo, 0);
        if (kg_hi < WR_PANESTORE_KG_END)
            wr__ps_key(h->upper, p, (uint16_t)kg_hi, 0);
        else
            wr__ps_key(h->upper, p + 1, 0, 0);
        rocksdb_readoptions_set_iterate_upper_bound(h->ro, (const char *)h->upper, sizeof h->upper);
        rocksdb_readoptions_set_snapshot(h->ro, c->snap);
        rocksdb_readoptions_set_fill_cache(h->ro, 0); /* one pass: keep the cache for others */
        rocksdb_readoptions_set_readahead_size(h->ro, 2 << 20);
        if (!(h->it = rocksdb_create_iterator(s->db, h->ro))) goto fail;
        rocksdb_iter_seek(h->it, (const char *)lo, sizeof lo);
        if ((e = s_load(c, h))) goto fail;
    }
    return c;
fail:
    wr_panestore_cursor_destroy(&c);
    if (err) *err = e;
    return NULL;
}

static int s_step(wr_panestore_cursor_t *c, s_head_t *h)
{
    h->consumed = false;
    if (++h->pos < h->n) {
        h->key = wr__ps_le64(h->b.keys + h->pos * 8);
        return 0;
    }
    rocksdb_iter_next(h->it);
    return s_load(c, h);
}

int wr_panestore_cursor_next(wr_panestore_cursor_t *c, wr_panestore_row_t *row)
{
    if (!c || !row) return WR_EINVAL;
    s_head_t *min = NULL;
    for (size_t i = 0; i < c->npanes; i++) {
        s_head_t *h = &c->h[i];
        if (h->consumed) {
            int e = s_step(c, h);
            if (e) return e;
        }
        if (h->live && (!min || h->kg < min->kg || (h->kg == min->kg && h->key < min->key)))
            min = h;
    }
    if (!min) return 0;
    row->kg = min->kg;
    row->key = min->key;
    row->n = 0;
    for (size_t i = 0; i < c->npanes; i++) {
        s_head_t *h = &c->h[i];
        if (!h->live || h->key != min->key || h->kg != min->kg) continue;
        row->acc[row->n] = h->b.accs + h->pos * c->s->acc_size;
        row->tail[row->n] = wr__ps_block_tail(&h->b, h->pos, &row->tail_len[row->n]);
        row->pane[row->n++] = c->p0 + (int64_t)i;
        h->consumed = true;
    }
    return 1;
}
