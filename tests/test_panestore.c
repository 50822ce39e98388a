/* wr_panestore: sorted pane runs in RocksDB, judged against a dense in-memory oracle.
 *
 * The oracle holds, for every pane and every key of a fixed universe, whether the key is in the
 * pane and its accumulator bytes. Runs are written from it, late updates change both, and every
 * read (merge cursors over window ranges and key-group ranges, single gets, a restored checkpoint)
 * must equal it exactly. Each test works in its own mkdtemp directory, removed by the teardown
 * (which cmocka runs after a failed test too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "state/panestore.h"

#define NK  4000 /* the key universe */
#define NP  12   /* panes 0..NP-1 */
#define ACC 28
#define WIN 10 /* panes per window */

typedef struct {
    uint16_t kg;
    uint64_t key;
} ukey_t;

typedef struct {
    char dir[64]; /* the test's temporary directory */
    char db[128]; /* the store's directory in it */
    wr_panestore_t *s, *restored;
    wr_panestore_cursor_t *cur; /* the open cursor: closed first by the teardown, even on failure */
    wr_panestore_config_t cfg;
    ukey_t u[NK]; /* sorted by (kg, key) */
    bool has[NP][NK];
    uint8_t acc[NP][NK][ACC];
    int64_t dropped_below; /* panes below are gone */
} fx_t;

static uint64_t s_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int s_cmp_ukey(const void *a, const void *b)
{
    const ukey_t *x = a, *y = b;
    if (x->kg != y->kg) return x->kg < y->kg ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void s_rm_rf(const char *dir)
{
    nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static fx_t *s_fixture(bool write_batch)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    snprintf(f->dir, sizeof f->dir, "/tmp/weir-panestore-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return NULL;
    }
    snprintf(f->db, sizeof f->db, "%s/db", f->dir);
    /* small blocks: many of them, and splits under late inserts */
    f->cfg = (wr_panestore_config_t){.acc_size = ACC,
                                     .block_entries = 16,
                                     .cache_bytes = 1 << 20,
                                     .write_buffer_bytes = 1 << 20,
                                     .write_batch = write_batch};
    uint64_t r = 42;
    for (size_t i = 0; i < NK; i++) {
        uint64_t h = s_rand(&r);
        f->u[i].kg = (uint16_t)(h % 9 * 7); /* key groups 0, 7, ..., 56 */
        f->u[i].key = i == 0 ? 0 : i == 1 ? UINT64_MAX : s_rand(&r);
    }
    qsort(f->u, NK, sizeof *f->u, s_cmp_ukey);
    for (int p = 0; p < NP; p++)
        for (size_t i = 0; i < NK; i++) {
            f->has[p][i] = s_rand(&r) % 10 < 6;
            for (int b = 0; b < ACC; b++)
                f->acc[p][i][b] = (uint8_t)s_rand(&r);
        }
    f->dropped_below = INT64_MIN;
    return f;
}

static int setup_ingest(void **state)
{
    *state = s_fixture(false);
    return *state ? 0 : -1;
}

static int setup_batch(void **state)
{
    *state = s_fixture(true);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    wr_panestore_cursor_destroy(&f->cur); /* a DB must not close under an iterator */
    wr_panestore_close(&f->restored);
    wr_panestore_close(&f->s);
    s_rm_rf(f->dir);
    free(f);
    return 0;
}

static void s_open(fx_t *f)
{
    int err = 0;
    f->s = wr_panestore_open(f->db, &f->cfg, &err);
    assert_non_null(f->s);
}

static void s_put_pane(fx_t *f, int p)
{
    static uint16_t kg[NK];
    static uint64_t key[NK];
    static uint8_t acc[NK][ACC];
    size_t n = 0;
    for (size_t i = 0; i < NK; i++)
        if (f->has[p][i]) {
            kg[n] = f->u[i].kg;
            key[n] = f->u[i].key;
            memcpy(acc[n++], f->acc[p][i], ACC);
        }
    assert_int_equal(wr_panestore_put_run(f->s, p, kg, key, acc, n), 0);
}

static void s_put_all(fx_t *f)
{
    s_open(f);
    for (int p = 0; p < NP; p++)
        s_put_pane(f, p);
}

/* The cursor over [p0, p1) x [lo, hi) yields exactly the oracle's keys and accumulators. */
static void s_check_merge(fx_t *f, wr_panestore_t *s, int64_t p0, int64_t p1, uint32_t lo,
                          uint32_t hi)
{
    int err = 0;
    wr_panestore_cursor_t *c = f->cur = wr_panestore_cursor_new(s, p0, p1, lo, hi, &err);
    assert_non_null(c);
    wr_panestore_row_t row;
    size_t rows = 0;
    for (size_t i = 0; i < NK; i++) {
        if (f->u[i].kg < lo || f->u[i].kg >= hi) continue;
        size_t n = 0;
        for (int64_t p = p0; p < p1; p++)
            n += p >= 0 && p < NP && p >= f->dropped_below && f->has[p][i];
        if (!n) continue;
        assert_int_equal(wr_panestore_cursor_next(c, &row), 1);
        assert_int_equal(row.kg, f->u[i].kg);
        assert_true(row.key == f->u[i].key);
        assert_int_equal(row.n, n);
        size_t j = 0;
        for (int64_t p = p0; p < p1; p++) {
            if (p < 0 || p >= NP || p < f->dropped_below || !f->has[p][i]) continue;
            assert_int_equal(row.pane[j], p);
            assert_memory_equal(row.acc[j], f->acc[p][i], ACC);
            j++;
        }
        rows++;
    }
    assert_int_equal(wr_panestore_cursor_next(c, &row), 0);
    assert_true(rows > 0);
    wr_panestore_cursor_destroy(&f->cur);
    assert_null(f->cur);
}

static void s_check_all(fx_t *f, wr_panestore_t *s)
{
    for (int64_t p0 = -2; p0 + WIN <= NP + 2; p0++)
        s_check_merge(f, s, p0, p0 + WIN, 0, WR_PANESTORE_KG_END);
    s_check_merge(f, s, 0, NP, 0, WR_PANESTORE_KG_END);
}

/* ---- tests ---- */

static void test_runs_merge_as_the_oracle(void **state)
{
    fx_t *f = *state;
    s_put_all(f);
    s_check_all(f, f->s);
    /* single panes and single keys */
    s_check_merge(f, f->s, 3, 4, 0, WR_PANESTORE_KG_END);
    uint8_t got[ACC];
    for (size_t i = 0; i < NK; i += 97) {
        int rc = wr_panestore_get_one(f->s, 5, f->u[i].kg, f->u[i].key, got, NULL, NULL);
        if (f->has[5][i]) {
            assert_int_equal(rc, 0);
            assert_memory_equal(got, f->acc[5][i], ACC);
        } else {
            assert_int_equal(rc, WR_ENOTFOUND);
        }
    }
}

static void test_key_group_ranges(void **state)
{
    fx_t *f = *state;
    s_put_all(f);
    s_check_merge(f, f->s, 1, 11, 0, 1);  /* one group */
    s_check_merge(f, f->s, 1, 11, 7, 29); /* groups 7..28 */
    s_check_merge(f, f->s, 1, 11, 8, 15); /* bounds between groups: only 14 */
    s_check_merge(f, f->s, 1, 11, 50, WR_PANESTORE_KG_END);
}

/* Bytewise addition of ctx: what a late record does to a pane's accumulator, in the oracle's
 * terms. */
static int s_merge(void *ctx, void *dst, const void **tail, size_t *tail_len)
{
    uint8_t *d = dst;
    const uint8_t *s = ctx;
    (void)tail, (void)tail_len;
    for (int i = 0; i < ACC; i++)
        d[i] = (uint8_t)(d[i] + s[i]);
    return 0;
}

/* A late update of universe key i in pane p, in the store and in the oracle. */
static void s_late(fx_t *f, int p, size_t i, const uint8_t *a, wr_panestore_merge_fn merge)
{
    assert_int_equal(
        wr_panestore_update_one(f->s, p, f->u[i].kg, f->u[i].key, a, NULL, 0, merge, (void *)a), 0);
    if (f->has[p][i] && merge)
        merge((void *)a, f->acc[p][i], NULL, NULL);
    else
        memcpy(f->acc[p][i], a, ACC);
    f->has[p][i] = true;
}

static void test_late_updates_and_inserts(void **state)
{
    fx_t *f = *state;
    s_put_all(f);
    uint64_t r = 7;
    for (int n = 0; n < 600; n++) {
        int p = (int)(s_rand(&r) % NP);
        /* half of them in one dense stretch: inserts pile into a few blocks and split them */
        size_t i = n % 2 ? s_rand(&r) % NK : 100 + s_rand(&r) % 40;
        uint8_t a[ACC];
        for (int b = 0; b < ACC; b++)
            a[b] = (uint8_t)s_rand(&r);
        s_late(f, p, i, a, n % 3 ? s_merge : NULL); /* merge, or replace */
    }
    s_check_all(f, f->s);
    /* a key group no run has (outside the oracle's universe: read back alone) */
    uint8_t a[ACC] = {1, 2, 3};
    assert_int_equal(wr_panestore_update_one(f->s, 4, 60000, 5, a, NULL, 0, s_merge, a), 0);
    int err = 0;
    wr_panestore_row_t row;
    f->cur = wr_panestore_cursor_new(f->s, 0, NP, 60000, 60001, &err);
    assert_non_null(f->cur);
    assert_int_equal(wr_panestore_cursor_next(f->cur, &row), 1);
    assert_true(row.kg == 60000 && row.key == 5 && row.n == 1 && row.pane[0] == 4);
    assert_memory_equal(row.acc[0], a, ACC);
    assert_int_equal(wr_panestore_cursor_next(f->cur, &row), 0);
    wr_panestore_cursor_destroy(&f->cur);
    uint8_t got[ACC];
    assert_int_equal(wr_panestore_get_one(f->s, 4, 60000, 5, got, NULL, NULL), 0);
    assert_memory_equal(got, a, ACC);
    assert_int_equal(wr_panestore_get_one(f->s, 4, 60000, 6, got, NULL, NULL), WR_ENOTFOUND);
}

/* Many inserts into one block: below its first key (the block is renamed) and after it (the
 * block outgrows 2 x block_entries and splits); every key must read back, in order. */
static void test_inserts_split_and_rename_blocks(void **state)
{
    fx_t *f = *state;
    s_open(f);
    uint16_t kg[2] = {3, 3};
    uint64_t key[2] = {500, 10000};
    uint8_t acc[2][ACC] = {{1}, {2}};
    assert_int_equal(wr_panestore_put_run(f->s, 7, kg, key, acc, 2), 0);
    bool want[10001] = {false};
    want[500] = want[10000] = true;
    for (uint64_t k = 499; k >= 400; k--) /* each one a new first key */
        want[k] = true;
    for (uint64_t k = 501; k < 600; k++)
        want[k] = true;
    for (uint64_t k = 0; k <= 10000; k++) {
        if (!want[k] || k == 500 || k == 10000) continue;
        uint8_t a[ACC] = {(uint8_t)k, (uint8_t)(k >> 8)};
        assert_int_equal(wr_panestore_update_one(f->s, 7, 3, k, a, NULL, 0, s_merge, a), 0);
    }
    int err = 0;
    wr_panestore_row_t row;
    f->cur = wr_panestore_cursor_new(f->s, 7, 8, 0, WR_PANESTORE_KG_END, &err);
    assert_non_null(f->cur);
    for (uint64_t k = 0; k <= 10000; k++) {
        if (!want[k]) continue;
        assert_int_equal(wr_panestore_cursor_next(f->cur, &row), 1);
        assert_true(row.kg == 3 && row.key == k && row.n == 1 && row.pane[0] == 7);
        uint8_t a[ACC] = {(uint8_t)k, (uint8_t)(k >> 8)};
        if (k == 500) a[0] = 1, a[1] = 0;
        if (k == 10000) a[0] = 2, a[1] = 0;
        assert_memory_equal(row.acc[0], a, ACC);
    }
    assert_int_equal(wr_panestore_cursor_next(f->cur, &row), 0);
    wr_panestore_cursor_destroy(&f->cur);
}

static void test_drop_panes_below(void **state)
{
    fx_t *f = *state;
    s_put_all(f);
    uint8_t a[ACC] = {9};
    s_late(f, 4, 3, a, NULL); /* in the memtable, not in a run's file */
    assert_int_equal(wr_panestore_drop_panes_below(f->s, 5), 0);
    f->dropped_below = 5;
    s_check_all(f, f->s);
    uint8_t got[ACC];
    assert_int_equal(wr_panestore_get_one(f->s, 4, f->u[3].kg, f->u[3].key, got, NULL, NULL),
                     WR_ENOTFOUND);
}

static void s_copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(in >= 0 && out >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
}

/* Copies the listed files of checkpoint dir `chk` into a fresh directory `to`, as a download
 * from checkpoint storage would. */
static void s_download(const wr_panestore_files_t *files, const char *chk, const char *to)
{
    assert_int_equal(mkdir(to, 0755), 0);
    char a[256], b[256];
    for (size_t i = 0; i < files->n; i++) {
        snprintf(a, sizeof a, "%s/%s", chk, files->v[i].name);
        snprintf(b, sizeof b, "%s/%s", to, files->v[i].name);
        s_copy_file(a, b);
    }
}

static void test_checkpoint_restores_the_same_content(void **state)
{
    fx_t *f = *state;
    s_put_all(f);
    uint8_t a[ACC] = {5};
    s_late(f, 2, 5, a, s_merge); /* in the memtable: the checkpoint must flush it */
    char chk[128], re[128];
    snprintf(chk, sizeof chk, "%s/chk-1", f->dir);
    snprintf(re, sizeof re, "%s/restored", f->dir);
    wr_panestore_files_t files;
    assert_int_equal(wr_panestore_checkpoint(f->s, chk, &files), 0);
    assert_true(files.n >= NP + 2); /* a run per pane, MANIFEST, CURRENT, ... */
    for (size_t i = 0; i < files.n; i++)
        assert_true(files.v[i].is_new);
    assert_true(files.new_bytes == files.total_bytes);
    /* writes after the checkpoint are not in it */
    assert_int_equal(wr_panestore_drop_panes_below(f->s, 6), 0);
    s_download(&files, chk, re);
    wr_panestore_files_release(&files);

    int err = 0;
    wr_panestore_t *r = f->restored = wr_panestore_open(re, &f->cfg, &err);
    assert_non_null(r);
    s_check_all(f, r);
    /* the restored files count as uploaded: an unchanged store checkpoints no new SST */
    snprintf(chk, sizeof chk, "%s/chk-2", f->dir);
    assert_int_equal(wr_panestore_checkpoint(r, chk, &files), 0);
    for (size_t i = 0; i < files.n; i++)
        if (strstr(files.v[i].name, ".sst")) assert_false(files.v[i].is_new);
    wr_panestore_files_release(&files);
    wr_panestore_close(&f->restored);
}

static void test_incremental_checkpoint(void **state)
{
    fx_t *f = *state;
    s_put_all(f);
    char chk[128];
    snprintf(chk, sizeof chk, "%s/chk-1", f->dir);
    wr_panestore_files_t one, two;
    assert_int_equal(wr_panestore_checkpoint(f->s, chk, &one), 0);
    /* one small new pane: 1% of the keys */
    uint16_t kg[NK / 100];
    uint64_t key[NK / 100];
    uint8_t acc[NK / 100][ACC] = {{0}};
    for (size_t j = 0; j < NK / 100; j++) {
        kg[j] = f->u[j * 100].kg;
        key[j] = f->u[j * 100].key;
    }
    assert_int_equal(wr_panestore_put_run(f->s, NP, kg, key, acc, NK / 100), 0);
    snprintf(chk, sizeof chk, "%s/chk-2", f->dir);
    assert_int_equal(wr_panestore_checkpoint(f->s, chk, &two), 0);
    uint64_t new_sst = 0, total_sst = 0;
    size_t nnew = 0;
    for (size_t i = 0; i < two.n; i++) {
        if (!strstr(two.v[i].name, ".sst")) continue;
        total_sst += two.v[i].bytes;
        bool in_one = false;
        for (size_t k = 0; k < one.n; k++)
            in_one |= !strcmp(one.v[k].name, two.v[i].name);
        assert_true(two.v[i].is_new == !in_one); /* new exactly when not in the first */
        if (two.v[i].is_new) new_sst += two.v[i].bytes, nnew++;
    }
    assert_int_equal(nnew, 1); /* the new run's file */
    assert_true(new_sst * 10 < total_sst);
    assert_true(two.new_bytes * 10 < two.total_bytes);
    wr_panestore_files_release(&one);
    wr_panestore_files_release(&two);
}

static void test_bad_input_is_refused(void **state)
{
    fx_t *f = *state;
    s_open(f);
    uint16_t kg[3] = {1, 1, 0};
    uint64_t key[3] = {1, 2, 3};
    uint8_t acc[3][ACC] = {{0}};
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc, 3), WR_EINVAL); /* unsorted */
    kg[2] = 1;
    key[2] = 2;
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc, 3), WR_EINVAL); /* duplicate */
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc, 0), WR_EINVAL);
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc, 2), 0);
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc, 2), WR_EEXIST);
    int err = 0;
    assert_null(wr_panestore_cursor_new(f->s, 3, 3, 0, 1, &err));
    assert_int_equal(err, WR_EINVAL);
    assert_null(wr_panestore_cursor_new(f->s, 0, 1, 5, 5, &err));
    assert_null(wr_panestore_cursor_new(f->s, 0, 1, 0, WR_PANESTORE_KG_END + 1, &err));
    assert_null(wr_panestore_cursor_new(f->s, 0, WR_PANESTORE_MAX_PANES + 1, 0, 1, &err));
    wr_panestore_config_t bad = f->cfg;
    bad.acc_size = 0;
    assert_null(wr_panestore_open(f->db, &bad, &err));
    assert_int_equal(err, WR_EINVAL);
    wr_panestore_files_t files;
    assert_int_equal(wr_panestore_checkpoint(f->s, f->dir, &files), WR_EIO); /* dir exists */
    assert_true(strlen(wr_panestore_last_error(f->s)) > 0);
    assert_int_equal(files.n, 0);
}

/* ---- tails ---- */

/* Entry i's stored form: acc[0] marked, a tail of i % 300 bytes of value i (or 200 KiB for the
 * entries of key group 9: a block is then cut early). */
static const void *s_encode(void *ctx, size_t i, uint8_t *acc, size_t *len)
{
    uint8_t *buf = ctx;
    acc[0] = 0xAA;
    *len = acc[1] == 9 ? 200 << 10 : i % 300;
    memset(buf, (int)(i & 0xff), *len);
    return *len ? buf : NULL;
}

static int s_merge_tail(void *ctx, void *dst, const void **tail, size_t *tail_len)
{
    ((uint8_t *)dst)[2] = 7;
    assert_int_equal(*tail_len, 5 % 300); /* the stored tail comes in */
    *tail = ctx;
    *tail_len = 1000;
    return 0;
}

/* A row's tail is the one entry i was written with. */
static void s_check_tail(const uint8_t *t, size_t len, size_t i, size_t want)
{
    assert_int_equal(len, want);
    for (size_t b = 0; b < len; b++)
        if (t[b] != (uint8_t)i) fail_msg("entry %zu: tail byte %zu is %u", i, b, t[b]);
}

static void test_tails(void **state)
{
    fx_t *f = *state;
    f->cfg.tails = true;
    s_open(f);
    enum { N = 400 };
    static uint16_t kg[N];
    static uint64_t key[N];
    static uint8_t acc[N][ACC];
    static uint8_t buf[200 << 10];
    for (size_t i = 0; i < N; i++) { /* key group 3, then 9 for the last ten */
        kg[i] = i < N - 10 ? 3 : 9;
        key[i] = 10 * i;
        memset(acc[i], (int)i, ACC);
        acc[i][1] = (uint8_t)kg[i];
    }
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc, N), WR_EINVAL); /* no tails */
    assert_int_equal(wr_panestore_put_run_tails(f->s, 0, kg, key, acc, N, s_encode, buf), 0);
    int err = 0;
    assert_non_null(f->cur = wr_panestore_cursor_new(f->s, 0, 1, 0, WR_PANESTORE_KG_END, &err));
    wr_panestore_row_t row;
    size_t i = 0;
    while ((err = wr_panestore_cursor_next(f->cur, &row)) == 1) {
        assert_true(row.n == 1 && row.key == key[i] && row.acc[0][0] == 0xAA);
        assert_memory_equal(row.acc[0] + 1, acc[i] + 1, ACC - 1);
        s_check_tail(row.tail[0], row.tail_len[0], i, kg[i] == 9 ? 200 << 10 : i % 300);
        i++;
    }
    assert_int_equal(err, 0);
    assert_int_equal(i, N);
    wr_panestore_cursor_destroy(&f->cur);
    /* late: a merge that grows key 50's tail, an insert with a tail, gets */
    static uint8_t big[1000];
    memset(big, 5, sizeof big);
    uint8_t a[ACC] = {1}, got[ACC];
    assert_int_equal(wr_panestore_update_one(f->s, 0, 3, 50, a, NULL, 0, s_merge_tail, big), 0);
    assert_int_equal(wr_panestore_update_one(f->s, 0, 3, 55, a, "\x37\x37\x37", 3, NULL, NULL), 0);
    void *t = NULL;
    size_t len = 0;
    assert_int_equal(wr_panestore_get_one(f->s, 0, 3, 50, got, &t, &len), 0);
    assert_true(got[0] == 0xAA && got[2] == 7);
    s_check_tail(t, len, 5, 1000);
    free(t);
    assert_int_equal(wr_panestore_get_one(f->s, 0, 3, 55, got, &t, &len), 0);
    assert_true(got[0] == 1);
    s_check_tail(t, len, 0x37, 3);
    free(t);
    assert_int_equal(wr_panestore_get_one(f->s, 0, 3, 60, got, &t, &len), 0);
    s_check_tail(t, len, 6, 6);
    free(t);
    assert_int_equal(wr_panestore_get_one(f->s, 0, 3, 0, got, &t, &len), 0);
    assert_true(t == NULL && len == 0);
    assert_int_equal(wr_panestore_get_one(f->s, 0, 3, 51, got, &t, &len), WR_ENOTFOUND);
}

/* Blocks with tails are read strictly: a value whose parts do not fit, or whose end offsets do
 * not reach its end, is WR_EPROTO, never a read past it. The bad values are written by a store
 * without tails over the same DB (acc_size 12: 20-byte values; read as acc_size 4 with tails). */
static void test_damaged_tails_are_refused(void **state)
{
    fx_t *f = *state;
    f->cfg.acc_size = 12;
    s_open(f);
    uint16_t kg[1] = {0};
    uint64_t key[1] = {1}; /* read as n = 1 */
    uint8_t acc[3][12] = {{0}};
    acc[1][8] = 5; /* the end offset: 5 bytes of tail, but there are none */
    acc[2][8] = 0; /* 0: a valid block */
    assert_int_equal(wr_panestore_put_run(f->s, 0, kg, key, acc[1], 1), 0);
    assert_int_equal(wr_panestore_put_run(f->s, 1, kg, key, acc[2], 1), 0);
    key[0] = (uint64_t)1 << 32 | 7; /* n = 7: the parts do not fit */
    assert_int_equal(wr_panestore_put_run(f->s, 2, kg, key, acc[0], 1), 0);
    wr_panestore_close(&f->s);
    f->cfg.acc_size = 4;
    f->cfg.tails = true;
    s_open(f);
    wr_panestore_row_t row;
    int err = 0, want[3] = {WR_EPROTO, 1, WR_EPROTO};
    for (int64_t p = 0; p < 3; p++) {
        f->cur = wr_panestore_cursor_new(f->s, p, p + 1, 0, WR_PANESTORE_KG_END, &err);
        if (f->cur) err = wr_panestore_cursor_next(f->cur, &row);
        assert_int_equal(err, want[p]);
        wr_panestore_cursor_destroy(&f->cur);
    }
    uint8_t got[4];
    void *t = NULL;
    size_t len;
    assert_int_equal(wr_panestore_get_one(f->s, 0, 0, 1 << 0, got, &t, &len), WR_EPROTO);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runs_merge_as_the_oracle, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_runs_merge_as_the_oracle, setup_batch, teardown),
        cmocka_unit_test_setup_teardown(test_key_group_ranges, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_late_updates_and_inserts, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_late_updates_and_inserts, setup_batch, teardown),
        cmocka_unit_test_setup_teardown(test_inserts_split_and_rename_blocks, setup_ingest,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drop_panes_below, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_drop_panes_below, setup_batch, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_restores_the_same_content, setup_ingest,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incremental_checkpoint, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_is_refused, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_tails, setup_ingest, teardown),
        cmocka_unit_test_setup_teardown(test_tails, setup_batch, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_tails_are_refused, setup_ingest, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
