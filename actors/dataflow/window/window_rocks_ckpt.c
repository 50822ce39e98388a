/* The rocksdb window backend: checkpoints (the store's, plus a file of the open panes) and
 * restores. The open panes go into the store too, as delta runs (their entries changed since the
 * previous checkpoint, at pane numbers from WR__ROCKS_DELTA_BASE on): so a checkpoint only adds
 * small SST files. The open-panes file says how to read them back: a header of 8-byte
 * little-endian fields (magic, version, accumulator size, pane length, panes per window and per
 * slide, lateness, watermark, lo, closed, stored pane range, deltas), then per delta its run's
 * pane number and the open pane it belongs to (oldest first: later ones win), then an FNV-1a 64 of
 * everything before. Version 3 adds a 14th header field, an FNV-1a 64 of the aggregates (kind,
 * column, q) and the sketch accuracy: a restore into other aggregates is refused rather than
 * misread (the stored sketches' buckets depend on alpha). Version 4 stores small sketches inside
 * their accumulators (agg.h): a version 3 file of a window with quantiles is another format
 * (WR_EVERSION); versions 2 and 3 of windows without quantiles (no change there) still restore. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/dataflow/window/window_rocks.h"
#include "actors/dataflow/window/window_rocks_internal.h"
#include "bus/base/error.h"

#define S_MAGIC   0x314b434f52525757ULL /* "WWRROCK1" */
#define S_VERSION 4
#define S_NHDR    14 /* version 2: 13, no aggregates' fingerprint */

typedef struct {
    FILE *f;
    uint64_t h;
    bool bad;
} s_out_t;

static void s_hash(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ULL;
}

static void s_put(s_out_t *o, const void *p, size_t n)
{
    s_hash(&o->h, p, n);
    if (fwrite(p, 1, n, o->f) != n) o->bad = true;
}

static void s_put64(s_out_t *o, uint64_t v)
{
    s_put(o, &v, 8); /* little-endian host (panestore_int.h checks) */
}

/* Writes each open pane's entries changed since the last checkpoint as a delta run. */
static int s_put_deltas(wr_window_t *w)
{
    wr__rocks_t *r = w->rocks;
    int rc = 0;
    for (size_t i = 0; i < r->nopen && !rc; i++) {
        wr__rrun_t u;
        if ((rc = wr__rocks_sort_pane(w, &r->open[i], &u, true))) break;
        if (u.n && r->ndeltas == r->deltas_cap) {
            size_t cap = r->deltas_cap ? 2 * r->deltas_cap : 16;
            int64_t(*d)[2] = realloc(r->deltas, cap * sizeof *d);
            if (d)
                r->deltas = d, r->deltas_cap = cap;
            else
                rc = WR_ENOMEM;
        }
        int64_t id = WR__ROCKS_DELTA_BASE + r->delta_next;
        if (!rc && u.n) rc = wr__rocks_put_run(w, id, &u);
        if (!rc && u.n) {
            r->deltas[r->ndeltas][0] = id;
            r->deltas[r->ndeltas++][1] = r->open[i].pane;
            r->delta_next++;
        }
        wr__rocks_run_recycle(r, &u); /* its sketches are the open pane's */
    }
    return rc;
}

/* The fingerprint of w's aggregates and sketch accuracy. */
static uint64_t s_aggs_hash(const wr_window_t *w)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t a = 0; a < w->lay.naggs; a++) {
        const wr_agg_t *g = &w->lay.aggs[a];
        uint32_t kc[2] = {(uint32_t)g->kind, g->col};
        s_hash(&h, kc, sizeof kc);
        s_hash(&h, &g->q, sizeof g->q);
    }
    s_hash(&h, &w->spec.sketch_alpha, sizeof w->spec.sketch_alpha);
    return h;
}

static int s_write_open(wr_window_t *w, const char *path)
{
    wr__rocks_t *r = w->rocks;
    s_out_t o = {.f = fopen(path, "wb"), .h = 1469598103934665603ULL};
    if (!o.f) return WR_EIO;
    uint64_t hdr[S_NHDR] = {S_MAGIC,
                            S_VERSION,
                            w->lay.size,
                            (uint64_t)w->P,
                            (uint64_t)w->K,
                            (uint64_t)w->g,
                            (uint64_t)w->spec.lateness_ms,
                            (uint64_t)w->wm,
                            (uint64_t)w->lo,
                            (uint64_t)r->closed,
                            (uint64_t)r->st_lo,
                            (uint64_t)r->st_hi,
                            r->ndeltas,
                            s_aggs_hash(w)};
    for (int i = 0; i < S_NHDR; i++)
        s_put64(&o, hdr[i]);
    for (size_t i = 0; i < r->ndeltas; i++) {
        s_put64(&o, (uint64_t)r->deltas[i][0]);
        s_put64(&o, (uint64_t)r->deltas[i][1]);
    }
    uint64_t h = o.h;
    s_put64(&o, h);
    if (fflush(o.f) || fsync(fileno(o.f))) o.bad = true;
    if (fclose(o.f)) o.bad = true;
    return o.bad ? WR_EIO : 0;
}

int wr_window_rocks_checkpoint(wr_window_t *w, const char *dir, wr_panestore_files_t *out)
{
    if (!out) return WR_EINVAL;
    memset(out, 0, sizeof *out);
    if (!w || !w->rocks || w->paused || !dir) return WR_EINVAL;
    if (mkdir(dir, 0755)) return errno == EEXIST ? WR_EEXIST : WR_EIO;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/db", dir) >= sizeof path) return WR_ETOOBIG;
    int rc = s_put_deltas(w);
    if (!rc) rc = wr_panestore_checkpoint(w->rocks->ps, path, out);
    if (rc) return rc;
    wr_panestore_file_t *v = realloc(out->v, (out->n + 1) * sizeof *v);
    if (!v) {
        rc = WR_ENOMEM;
        goto fail;
    }
    out->v = v;
    for (size_t i = 0; i < out->n; i++) {
        char name[sizeof v->name];
        if ((size_t)snprintf(name, sizeof name, "db/%s", v[i].name) >= sizeof name) {
            rc = WR_ETOOBIG;
            goto fail;
        }
        memcpy(v[i].name, name, sizeof name);
    }
    snprintf(path, sizeof path, "%s/%s", dir, WR_WINDOW_ROCKS_OPEN_FILE);
    if ((rc = s_write_open(w, path))) goto fail;
    struct stat st;
    if (stat(path, &st)) {
        rc = WR_EIO;
        goto fail;
    }
    v[out->n] = (wr_panestore_file_t){.bytes = (uint64_t)st.st_size, .is_new = true};
    snprintf(v[out->n].name, sizeof v->name, "%s", WR_WINDOW_ROCKS_OPEN_FILE);
    out->n++;
    out->total_bytes += (uint64_t)st.st_size;
    out->new_bytes += (uint64_t)st.st_size;
    return 0;
fail:
    wr_panestore_files_release(out);
    return rc;
}

/* ---- restore ---- */

/* Hard links (or copies) every regular file of src into dst (created; must not exist). */
static int s_link_dir(const char *src, const char *dst)
{
    if (mkdir(dst, 0755)) return errno == EEXIST ? WR_EEXIST : WR_EIO;
    DIR *d = opendir(src);
    if (!d) return errno == ENOENT ? WR_EPROTO : WR_EIO;
    int rc = 0;
    struct dirent *de;
    char a[4096], b[4096], buf[1 << 16];
    while (!rc && (de = readdir(d))) {
        struct stat st;
        snprintf(a, sizeof a, "%s/%s", src, de->d_name);
        snprintf(b, sizeof b, "%s/%s", dst, de->d_name);
        if (stat(a, &st) || !S_ISREG(st.st_mode)) continue;
        if (!link(a, b)) continue;
        int in = open(a, O_RDONLY | O_CLOEXEC), fd = open(b, O_WRONLY | O_CREAT | O_EXCL, 0644);
        ssize_t got = 0;
        while (in >= 0 && fd >= 0 && (got = read(in, buf, sizeof buf)) > 0)
            if (write(fd, buf, (size_t)got) != got) got = -1;
        if (in < 0 || fd < 0 || got < 0 || fsync(fd)) rc = WR_EIO;
        if (in >= 0) close(in);
        if (fd >= 0) close(fd);
    }
    closedir(d);
    return rc;
}

typedef struct {
    const uint8_t *p;
    size_t n, off;
} s_in_t;

static bool s_get(s_in_t *in, void *dst, size_t n)
{
    if (in->n - in->off < n) return false;
    memcpy(dst, in->p + in->off, n);
    in->off += n;
    return true;
}

static int s_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? WR_EPROTO : WR_EIO;
    int rc = WR_EIO;
    long n = -1;
    if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
        rc = WR_ENOMEM;
        if ((*data = malloc(n ? (size_t)n : 1))) {
            rc = fread(*data, 1, (size_t)n, f) == (size_t)n ? 0 : WR_EIO;
            *len = (size_t)n;
        }
    }
    fclose(f);
    return rc;
}

/* A delta run's rows are applied S_AHEAD rows behind the cursor, whose rows are copied into a
 * ring meanwhile (its pointers last only until the next row), so that each row's index slot is
 * asked for ahead: the slots of millions of keys lie at random in an index of tens of MB, and a
 * restarted subtask waits for its restore. */
#define S_AHEAD 16

typedef struct {
    uint64_t key, hash;
    uint8_t *acc;  /* acc_size bytes in the ring's block */
    uint8_t *tail; /* tail_len bytes (own buffer, grown as needed) */
    size_t tail_len, tail_cap;
} s_staged_t;

/* Copies the cursor's row into st. 0 or WR_ENOMEM. */
static int s_stage(const wr_window_t *w, s_staged_t *st, const wr_panestore_row_t *row)
{
    st->key = row->key;
    st->hash = wr__kt_hash(row->key);
    memcpy(st->acc, row->acc[0], w->lay.size);
    st->tail_len = row->tail_len[0];
    if (st->tail_len > st->tail_cap) {
        uint8_t *t = realloc(st->tail, st->tail_len);
        if (!t) return WR_ENOMEM;
        st->tail = t;
        st->tail_cap = st->tail_len;
    }
    if (st->tail_len) memcpy(st->tail, row->tail[0], st->tail_len);
    return 0;
}

/* Applies a staged row to open pane table kt: a later delta replaces an earlier one. */
static int s_apply(wr_window_t *w, wr__keytable_t *kt, const s_staged_t *st)
{
    uint32_t e = wr__kt_find(kt, st->key, st->hash);
    if (e == WR__KT_NONE) {
        int rc = wr__kt_reserve(kt, 1);
        if (rc) return rc;
        e = wr__kt_insert(kt, st->key, st->hash, w->rocks->init);
    }
    uint8_t *acc = wr__kt_entry(kt, e) + 8;
    wr__acc_free_sketches(&w->lay, acc, w->sk);
    if (!w->lay.nsketch) {
        memcpy(acc, st->acc, w->lay.size);
        return 0;
    }
    return wr__rocks_load(w, acc, st->acc, st->tail, st->tail_len);
}

/* Loads delta run id (key groups [kg_lo, kg_hi)) into open pane table kt. */
static int s_load_delta(wr_window_t *w, wr__keytable_t *kt, int64_t id, uint32_t kg_lo,
                        uint32_t kg_hi)
{
    s_staged_t ring[S_AHEAD] = {0};
    uint8_t *accs = malloc((size_t)S_AHEAD * w->lay.size);
    int rc = accs ? 0 : WR_ENOMEM;
    for (int i = 0; i < S_AHEAD && accs; i++)
        ring[i].acc = accs + (size_t)i * w->lay.size;
    wr_panestore_cursor_t *c =
        rc ? NULL : wr_panestore_cursor_new(w->rocks->ps, id, id + 1, kg_lo, kg_hi, &rc);
    size_t head = 0, staged = 0; /* ring[head] is the oldest of `staged` rows */
    bool more = c != NULL;
    while (!rc && (more || staged)) {
        if (more && staged < S_AHEAD) {
            wr_panestore_row_t row;
            int got = wr_panestore_cursor_next(c, &row);
            if (got < 0) {
                rc = got;
                break;
            }
            more = got == 1;
            if (more) {
                s_staged_t *st = &ring[(head + staged) % S_AHEAD];
                if ((rc = s_stage(w, st, &row))) break;
                wr__kt_prefetch_slot(kt, st->hash);
                staged++;
            }
            continue;
        }
        rc = s_apply(w, kt, &ring[head]);
        head = (head + 1) % S_AHEAD;
        staged--;
    }
    wr_panestore_cursor_destroy(&c);
    for (int i = 0; i < S_AHEAD; i++)
        free(ring[i].tail);
    free(accs);
    return rc;
}

/* Loads the open panes file into w (fresh), keeping the keys of groups [kg_lo, kg_hi). */
static int s_load_open(wr_window_t *w, const uint8_t *p, size_t len, uint32_t kg_lo, uint32_t kg_hi)
{
    wr__rocks_t *r = w->rocks;
    uint64_t h = 1469598103934665603ULL, sum, hdr[S_NHDR];
    if (len < 8 * S_NHDR) return WR_EPROTO;
    s_hash(&h, p, len - 8);
    memcpy(&sum, p + len - 8, 8);
    s_in_t in = {.p = p, .n = len - 8};
    for (int i = 0; i < S_NHDR - 1; i++)
        s_get(&in, &hdr[i], 8);
    if (hdr[0] != S_MAGIC || sum != h) return WR_EPROTO;
    if (hdr[1] != S_VERSION && hdr[1] != 3 && hdr[1] != 2) return WR_EVERSION;
    if (hdr[1] >= 3) {
        if (!s_get(&in, &hdr[S_NHDR - 1], 8)) return WR_EPROTO;
        if (hdr[S_NHDR - 1] != s_aggs_hash(w)) return WR_EINVAL;
        if (hdr[1] == 3 && w->lay.nsketch) return WR_EVERSION;
    } else if (w->lay.nsketch) {
        return WR_EINVAL;
    }
    if (hdr[2] != w->lay.size || (int64_t)hdr[3] != w->P || (int64_t)hdr[4] != w->K ||
        (int64_t)hdr[5] != w->g || (int64_t)hdr[6] != w->spec.lateness_ms)
        return WR_EINVAL;
    int64_t wm = (int64_t)hdr[7], closed = (int64_t)hdr[9];
    if (wr__floor_div(wm + 1, w->P) != closed || wr__slice_lo(w, wm) != (int64_t)hdr[8])
        return WR_EPROTO;
    w->wm = wm;
    w->lo = (int64_t)hdr[8];
    r->closed = closed;
    r->st_lo = (int64_t)hdr[10];
    r->st_hi = (int64_t)hdr[11];
    r->kg_lo = kg_lo;
    r->kg_hi = kg_hi;
    uint64_t nd = hdr[12];
    if (nd > (in.n - in.off) / 16) return WR_EPROTO;
    if (nd && !(r->deltas = malloc(nd * sizeof *r->deltas))) return WR_ENOMEM;
    r->deltas_cap = nd;
    for (uint64_t i = 0; i < nd; i++) {
        int64_t id = 0, pane = 0;
        s_get(&in, &id, 8);
        s_get(&in, &pane, 8);
        if (id < WR__ROCKS_DELTA_BASE || id == INT64_MAX || pane < closed ||
            pane >= WR__ROCKS_DELTA_BASE || (i && id <= r->deltas[i - 1][0]))
            return WR_EPROTO;
        r->deltas[i][0] = id;
        r->deltas[i][1] = pane;
        r->ndeltas++;
        r->delta_next = id - WR__ROCKS_DELTA_BASE + 1;
        long oi = wr__rocks_open_get(w, pane);
        if (oi < 0) return WR_ENOMEM;
        int rc = s_load_delta(w, r->open[oi].kt, id, kg_lo, kg_hi);
        if (rc) return rc;
    }
    return in.off == in.n ? 0 : WR_EPROTO;
}

wr_window_t *wr_window_rocks_restore(const wr_window_spec_t *spec, const char *ckpt_dir,
                                     uint32_t kg_lo, uint32_t kg_hi, int *err)
{
    int rc = WR_EINVAL;
    wr_window_t *w = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    char a[4096];
    uint32_t maxp = spec && spec->max_parallelism ? spec->max_parallelism : 128;
    if (!spec || spec->backend != WR_WINDOW_BACKEND_ROCKSDB || !spec->state_dir || !ckpt_dir ||
        kg_lo >= kg_hi || kg_hi > maxp)
        goto fail;
    snprintf(a, sizeof a, "%s/db", ckpt_dir);
    if ((rc = s_link_dir(a, spec->state_dir))) goto fail;
    if (!(w = wr_window_new(spec, &rc))) goto fail;
    snprintf(a, sizeof a, "%s/%s", ckpt_dir, WR_WINDOW_ROCKS_OPEN_FILE);
    if ((rc = s_read_file(a, &data, &len)) || (rc = s_load_open(w, data, len, kg_lo, kg_hi)))
        goto fail;
    free(data);
    return w;
fail:
    free(data);
    wr_window_destroy(&w);
    if (err) *err = rc;
    return NULL;
}
