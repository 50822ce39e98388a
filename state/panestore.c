/* The pane store: open and close, writing runs, dropping panes. The merge cursor is in
 * panestore_cursor.c, late updates in panestore_update.c, checkpoints in panestore_checkpoint.c. */
#include "state/panestore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "state/panestore_int.h"

int wr__panestore_known_add(wr_panestore_t *s, uint64_t num); /* panestore_checkpoint.c */

int wr__panestore_fail(wr_panestore_t *s, char *rocks_err)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", rocks_err ? rocks_err : "rocksdb error");
    rocksdb_free(rocks_err);
    return WR_EIO;
}

const char *wr_panestore_last_error(const wr_panestore_t *s)
{
    return s ? s->errmsg : "";
}

void wr_panestore_close(wr_panestore_t **p)
{
    wr_panestore_t *s = p ? *p : NULL;
    if (!s) return;
    if (s->db) rocksdb_close(s->db);
    if (s->iopts) rocksdb_ingestexternalfileoptions_destroy(s->iopts);
    if (s->envopts) rocksdb_envoptions_destroy(s->envopts);
    if (s->ropts) rocksdb_readoptions_destroy(s->ropts);
    if (s->wopts) rocksdb_writeoptions_destroy(s->wopts);
    if (s->opts) rocksdb_options_destroy(s->opts);
    if (s->topts) rocksdb_block_based_options_destroy(s->topts);
    if (s->cache) rocksdb_cache_destroy(s->cache);
    free(s->known);
    free(s->dir);
    free(s);
    *p = NULL;
}

/* Options for runs written once in key order and dropped by range. */
static int s_options(wr_panestore_t *s, const wr_panestore_config_t *cfg)
{
    uint64_t cache = cfg->cache_bytes ? cfg->cache_bytes : 64ULL << 20;
    uint64_t wbuf = cfg->write_buffer_bytes ? cfg->write_buffer_bytes : 16ULL << 20;
    s->cache = rocksdb_cache_create_lru(cache);
    s->topts = rocksdb_block_based_options_create();
    s->opts = rocksdb_options_create();
    s->wopts = rocksdb_writeoptions_create();
    s->ropts = rocksdb_readoptions_create();
    s->envopts = rocksdb_envoptions_create();
    s->iopts = rocksdb_ingestexternalfileoptions_create();
    if (!s->cache || !s->topts || !s->opts || !s->wopts || !s->ropts || !s->envopts || !s->iopts)
        return WR_ENOMEM;
    rocksdb_block_based_options_set_block_cache(s->topts, s->cache);
    /* A block of ours (1024 entries: 36 KiB) is one RocksDB data block; small ones (late
     * inserts) share. Index blocks go through the cache so memory stays bounded. */
    rocksdb_block_based_options_set_block_size(s->topts, 32 << 10);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->topts, 1);
    rocksdb_options_set_block_based_table_factory(s->opts, s->topts);
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_compression(s->opts,
                                    cfg->lz4 ? rocksdb_lz4_compression : rocksdb_no_compression);
    rocksdb_options_set_write_buffer_size(s->opts, (size_t)wbuf);
    rocksdb_options_set_max_write_buffer_number(s->opts, 2);
    rocksdb_options_set_disable_auto_compactions(s->opts, 1);
    rocksdb_options_set_allow_mmap_reads(s->opts, cfg->mmap_reads);
    rocksdb_options_set_max_background_jobs(s->opts, 2);
    rocksdb_options_set_info_log_level(s->opts, 2); /* WARN: no chatter in LOG */
    rocksdb_options_set_keep_log_file_num(s->opts, 2);
    rocksdb_writeoptions_disable_WAL(s->wopts, 1);
    rocksdb_ingestexternalfileoptions_set_move_files(s->iopts, 1);
    return 0;
}

/* The SST files already in the DB (a restored checkpoint's) were uploaded with it. */
static int s_known_from_live(wr_panestore_t *s)
{
    const rocksdb_livefiles_t *lf = rocksdb_livefiles(s->db);
    int err = 0;
    if (!lf) return WR_ENOMEM;
    for (int i = 0, n = rocksdb_livefiles_count(lf); i < n && !err; i++) {
        const char *name = rocksdb_livefiles_name(lf, i);
        if (name && *name == '/') name++;
        if (name) err = wr__panestore_known_add(s, strtoull(name, NULL, 10));
    }
    rocksdb_livefiles_destroy(lf);
    return err;
}

wr_panestore_t *wr_panestore_open(const char *dir, const wr_panestore_config_t *cfg, int *err)
{
    int e = WR_EINVAL;
    wr_panestore_t *s = NULL;
    char *rerr = NULL;
    if (!dir || !*dir || !cfg || !cfg->acc_size || cfg->acc_size > WR_PANESTORE_MAX_ACC ||
        cfg->block_entries > WR_PANESTORE_MAX_BLOCK / 2)
        goto fail;
    e = WR_ENOMEM;
    s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) goto fail;
    s->acc_size = cfg->acc_size;
    s->block_entries = cfg->block_entries ? cfg->block_entries : 1024;
    s->write_batch = cfg->write_batch;
    s->tails = cfg->tails;
    if ((e = s_options(s, cfg))) goto fail;
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(s->errmsg, sizeof s->errmsg, "mkdir %s: %s", dir, strerror(errno));
        e = WR_EIO;
        goto fail;
    }
    s->db = rocksdb_open(s->opts, dir, &rerr);
    if (!s->db) {
        e = wr__panestore_fail(s, rerr);
        goto fail;
    }
    if ((e = s_known_from_live(s))) goto fail;
    return s;
fail:
    wr_panestore_close(&s);
    if (err) *err = e;
    return NULL;
}

/* ---- writing a run ---- */

/* Where the blocks of a run go: an SST file for ingestion, or write batches. */
typedef struct {
    wr_panestore_t *s;
    rocksdb_sstfilewriter_t *w;
    rocksdb_writebatch_t *wb;
    size_t wb_bytes;
    char path[4096];
} s_sink_t;

static int s_sink_put(s_sink_t *k, const uint8_t *key, const uint8_t *val, size_t len)
{
    char *rerr = NULL;
    if (k->w) {
        rocksdb_sstfilewriter_put(k->w, (const char *)key, WR__PS_KEYLEN, (const char *)val, len,
                                  &rerr);
        return rerr ? wr__panestore_fail(k->s, rerr) : 0;
    }
    rocksdb_writebatch_put(k->wb, (const char *)key, WR__PS_KEYLEN, (const char *)val, len);
    k->wb_bytes += len;
    if (k->wb_bytes < (8 << 20)) return 0;
    rocksdb_write(k->s->db, k->s->wopts, k->wb, &rerr);
    rocksdb_writebatch_clear(k->wb);
    k->wb_bytes = 0;
    return rerr ? wr__panestore_fail(k->s, rerr) : 0;
}

static int s_sink_open(s_sink_t *k, wr_panestore_t *s)
{
    char *rerr = NULL;
    memset(k, 0, sizeof *k);
    k->s = s;
    if (s->write_batch) return (k->wb = rocksdb_writebatch_create()) ? 0 : WR_ENOMEM;
    snprintf(k->path, sizeof k->path, "%s/ingest-%" PRIu64 ".sst.tmp", s->dir, s->ingest_seq++);
    if (!(k->w = rocksdb_sstfilewriter_create(s->envopts, s->opts))) return WR_ENOMEM;
    rocksdb_sstfilewriter_open(k->w, k->path, &rerr);
    return rerr ? wr__panestore_fail(s, rerr) : 0;
}

/* Commits what was put (ok) or throws it away; frees the sink. */
static int s_sink_close(s_sink_t *k, bool ok)
{
    char *rerr = NULL;
    int e = 0;
    if (k->wb) {
        if (ok && k->wb_bytes) rocksdb_write(k->s->db, k->s->wopts, k->wb, &rerr);
        rocksdb_writebatch_destroy(k->wb);
        return rerr ? wr__panestore_fail(k->s, rerr) : 0;
    }
    if (!k->w) return 0;
    if (ok) rocksdb_sstfilewriter_finish(k->w, &rerr);
    rocksdb_sstfilewriter_destroy(k->w);
    if (ok && !rerr) {
        /* NB: SstFileWriter drops the file's pages from the page cache as it writes (a C++-only
         * option), so the first cursor over a new run reads it from disk */
        const char *files[1] = {k->path};
        rocksdb_ingest_external_file(k->s->db, files, 1, k->s->iopts, &rerr);
    }
    if (rerr) e = wr__panestore_fail(k->s, rerr);
    unlink(k->path); /* gone already when ingested (moved) */
    return e;
}

static bool s_sorted(const uint16_t *kg, const uint64_t *key, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (kg[i] < kg[i - 1] || (kg[i] == kg[i - 1] && key[i] <= key[i - 1])) return false;
    return true;
}

/* True when pane holds any data (*err set on a RocksDB error). */
static bool s_pane_used(wr_panestore_t *s, int64_t pane, int *err)
{
    uint8_t k[WR__PS_KEYLEN];
    wr__ps_key(k, pane, 0, 0);
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
    rocksdb_iter_seek(it, (const char *)k, sizeof k);
    bool used = false;
    if (rocksdb_iter_valid(it)) {
        size_t len;
        const char *got = rocksdb_iter_key(it, &len);
        used = len == WR__PS_KEYLEN && !memcmp(got, k, 8);
    } else {
        char *rerr = NULL;
        rocksdb_iter_get_error(it, &rerr);
        if (rerr) *err = wr__panestore_fail(s, rerr);
    }
    rocksdb_iter_destroy(it);
    return used;
}

int wr__ps_block_parse(const wr_panestore_t *s, const uint8_t *v, size_t len, wr__ps_block_t *b)
{
    size_t as = s->acc_size;
    memset(b, 0, sizeof *b);
    if (!s->tails) {
        if (!len || len % (8 + as)) return WR_EPROTO;
        b->n = len / (8 + as);
        b->keys = v;
        b->accs = v + b->n * 8;
        return 0;
    }
    if (len < 4) return WR_EPROTO;
    size_t n = wr__ps_le32(v);
    if (!n || n > WR_PANESTORE_MAX_BLOCK || (len - 4) / (12 + as) < n) return WR_EPROTO;
    size_t fixed = 4 + n * (12 + as), prev = 0;
    b->n = n;
    b->keys = v + 4;
    b->accs = b->keys + n * 8;
    b->ends = b->accs + n * as;
    b->tails = v + fixed;
    for (size_t i = 0; i < n; i++) {
        size_t e = wr__ps_le32(b->ends + i * 4);
        if (e < prev) return WR_EPROTO;
        prev = e;
    }
    return prev == len - fixed ? 0 : WR_EPROTO;
}

/* A growable byte buffer for building block values. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} s_buf_t;

static int s_buf_room(s_buf_t *b, size_t n)
{
    if (b->cap - b->len >= n) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return WR_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int s_buf_put(s_buf_t *b, const void *p, size_t n)
{
    int e = n ? s_buf_room(b, n) : 0;
    if (!e && n) memcpy(b->p + b->len, p, n);
    if (!e) b->len += n;
    return e;
}

/* The value of a block with tails: m, keys, accumulators, end offsets, tails. */
static int s_tail_block(s_buf_t *val, size_t m, const uint64_t *keys, const uint8_t *accs,
                        size_t as, const uint32_t *ends, const s_buf_t *tails)
{
    uint32_t m32 = (uint32_t)m;
    val->len = 0;
    int e = s_buf_room(val, 4 + m * (12 + as) + tails->len);
    if (!e) {
        s_buf_put(val, &m32, 4);
        s_buf_put(val, keys, m * 8);
        s_buf_put(val, accs, m * as);
        s_buf_put(val, ends, m * 4);
        s_buf_put(val, tails->p, tails->len);
    }
    return e;
}

/* Entries [i, i + *m) of a run with tails (m entries at most, one key group) as one block into
 * val: fewer when the tails pass WR__PS_TAILS_CUT. */
static int s_encode_block(wr_panestore_t *s, const uint64_t *key, const uint8_t *acc, size_t i,
                          size_t *m, wr_panestore_encode_fn encode, void *ctx, uint8_t *accs,
                          uint32_t *ends, s_buf_t *tails, s_buf_t *val)
{
    size_t as = s->acc_size, j = 0;
    tails->len = 0;
    int e = 0;
    while (j < *m && !e && tails->len <= WR__PS_TAILS_CUT) {
        size_t len = 0;
        memcpy(accs + j * as, acc + (i + j) * as, as);
        const void *t = encode ? encode(ctx, i + j, accs + j * as, &len) : NULL;
        if (tails->len + len > UINT32_MAX) return WR_ETOOBIG;
        e = s_buf_put(tails, t, len);
        ends[j++] = (uint32_t)tails->len;
    }
    *m = j;
    return e ? e : s_tail_block(val, j, key + i, accs, as, ends, tails);
}

int wr_panestore_put_run_tails(wr_panestore_t *s, int64_t pane, const uint16_t *kg,
                               const uint64_t *key, const void *acc, size_t n,
                               wr_panestore_encode_fn encode, void *ctx)
{
    if (!s || !kg || !key || !acc || !n || !s_sorted(kg, key, n) || s->tails != !!encode)
        return WR_EINVAL;
    int e = 0;
    if (s_pane_used(s, pane, &e)) return WR_EEXIST;
    if (e) return e;
    size_t as = s->acc_size, cap = s->block_entries;
    s_buf_t val = {0}, tails = {0};
    uint8_t *accs = NULL;
    uint32_t *ends = NULL;
    e = s_buf_room(&val, cap * (8 + as));
    if (!e && s->tails && (!(accs = malloc(cap * as)) || !(ends = malloc(cap * 4)))) e = WR_ENOMEM;
    s_sink_t k;
    bool opened = !e;
    if (opened) e = s_sink_open(&k, s);
    const uint8_t *a = acc;
    for (size_t i = 0; i < n && !e;) {
        size_t m = 1;
        while (m < cap && i + m < n && kg[i + m] == kg[i])
            m++;
        if (s->tails) {
            e = s_encode_block(s, key, a, i, &m, encode, ctx, accs, ends, &tails, &val);
        } else { /* columns: m keys, then m accumulators */
            memcpy(val.p, key + i, m * 8);
            memcpy(val.p + m * 8, a + i * as, m * as);
            val.len = m * (8 + as);
        }
        uint8_t rk[WR__PS_KEYLEN];
        wr__ps_key(rk, pane, kg[i], key[i]);
        if (!e) e = s_sink_put(&k, rk, val.p, val.len);
        i += m;
    }
    int ce = opened ? s_sink_close(&k, !e) : 0;
    free(val.p);
    free(tails.p);
    free(accs);
    free(ends);
    return e ? e : ce;
}

int wr_panestore_put_run(wr_panestore_t *s, int64_t pane, const uint16_t *kg, const uint64_t *key,
                         const void *acc, size_t n)
{
    return wr_panestore_put_run_tails(s, pane, kg, key, acc, n, NULL, NULL);
}

/* Drops panes [p0, pane). */
static int s_drop(wr_panestore_t *s, int64_t p0, int64_t pane)
{
    uint8_t lo[WR__PS_KEYLEN], last[WR__PS_KEYLEN], hi[WR__PS_KEYLEN];
    wr__ps_key(lo, p0, 0, 0);
    wr__ps_key(last, pane - 1, UINT16_MAX, UINT64_MAX); /* DeleteFilesInRange includes its end */
    wr__ps_key(hi, pane, 0, 0);
    char *rerr = NULL;
    rocksdb_delete_file_in_range(s->db, (const char *)lo, sizeof lo, (const char *)last,
                                 sizeof last, &rerr);
    if (rerr) return wr__panestore_fail(s, rerr);
    /* what whole files did not cover: the memtable, late-update files straddling the bound */
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    if (!wb) return WR_ENOMEM;
    rocksdb_writebatch_delete_range(wb, (const char *)lo, sizeof lo, (const char *)hi, sizeof hi);
    rocksdb_write(s->db, s->wopts, wb, &rerr);
    rocksdb_writebatch_destroy(wb);
    return rerr ? wr__panestore_fail(s, rerr) : 0;
}

int wr_panestore_drop_panes_below(wr_panestore_t *s, int64_t pane)
{
    if (!s) return WR_EINVAL;
    return pane == INT64_MIN ? 0 : s_drop(s, INT64_MIN, pane);
}

int wr_panestore_drop_pane(wr_panestore_t *s, int64_t pane)
{
    if (!s || pane == INT64_MAX) return WR_EINVAL;
    return s_drop(s, pane, pane + 1);
}
