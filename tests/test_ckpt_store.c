/* Checkpoint storage: metadata format, atomic completion, recovery of crash leftovers, retention
 * with shared files, incremental sizes, savepoints, corrupt metadata. Every test works in its own
 * mkdtemp folder, removed by the teardown (which cmocka runs after a failure too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "state/ckpt_meta.h"
#include "state/ckpt_store.h"
#include "state/savepoint.h"

/* ---- fixture and file helpers ---- */

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int s_setup(void **state)
{
    char *root = strdup("/tmp/weir-ckpt-XXXXXX");
    if (!root || !mkdtemp(root)) return -1;
    *state = root;
    return 0;
}

static int s_teardown(void **state)
{
    char *root = *state;
    nftw(root, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(root);
    return 0;
}

static char *s_path(const char *a, const char *b)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", a, b) > 0);
    return p;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* The whole content of a (small) file, or "" if it cannot be read. Caller frees. */
static char *s_read(const char *path)
{
    char *buf = calloc(1, 4096);
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t n = fread(buf, 1, 4095, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (without . and ..), sorted, joined by spaces. Caller frees. */
static char *s_listing(const char *dir)
{
    char *names[256];
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < 256)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, s_cmp_str);
    char *out = calloc(1, 4096);
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, " ");
        strncat(out, names[i], 4000 - strlen(out));
        free(names[i]);
    }
    return out;
}

static void s_assert_listing(const char *dir, const char *want)
{
    char *got = s_listing(dir);
    assert_string_equal(got, want);
    free(got);
}

/* Writes an exclusive state file into a pending checkpoint. */
static void s_exclusive(wr_ckpt_pending_t *p, const char *file, const char *text)
{
    int fd = -1;
    assert_int_equal(wr_ckpt_create_file(p, file, &fd), 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
}

/* A local file (as a RocksDB instance would have) put into shared/ under the same name. */
static void s_shared(wr_ckpt_pending_t *p, const char *root, const char *file, const char *text)
{
    char *local_dir = s_path(root, "local");
    mkdir(local_dir, 0755);
    char *local = s_path(local_dir, file);
    unlink(local); /* a new file, as RocksDB writes: shared/ may hold a hard link to the old one */
    s_write(local, text);
    assert_int_equal(wr_ckpt_add_shared(p, local, file), 0);
    free(local);
    free(local_dir);
}

static wr_ckpt_blob_t s_inline(const char *name, const char *bytes)
{
    return (wr_ckpt_blob_t){.name = (char *)name,
                            .kind = WR_CKPT_BLOB_INLINE,
                            .data = (uint8_t *)bytes,
                            .len = strlen(bytes)};
}

static wr_ckpt_blob_t s_file(const char *name, wr_ckpt_blob_kind_t kind, const char *file)
{
    return (wr_ckpt_blob_t){.name = (char *)name, .kind = kind, .file = (char *)file};
}

static wr_ckpt_task_t s_task(uint32_t vertex, uint32_t subtask, wr_ckpt_blob_t *blobs, uint32_t n)
{
    return (wr_ckpt_task_t){.vertex = vertex,
                            .subtask = subtask,
                            .parallelism = 2,
                            .kg_lo = subtask * 64,
                            .kg_hi = subtask * 64 + 64,
                            .blobs = blobs,
                            .nblobs = n};
}

/* Records one task state (vertex, subtask) of the blobs and completes the checkpoint. */
static void s_finish(wr_ckpt_pending_t **p, uint32_t vertex, uint32_t subtask,
                     wr_ckpt_blob_t *blobs, uint32_t n, int64_t complete_ms)
{
    wr_ckpt_task_t t = s_task(vertex, subtask, blobs, n);
    assert_int_equal(wr_ckpt_add_task_state(*p, &t), 0);
    assert_int_equal(wr_ckpt_complete(p, complete_ms), 0);
    assert_null(*p);
}

/* ---- metadata format ---- */

static wr_ckpt_meta_t *s_sample_meta(void)
{
    wr_ckpt_meta_t *m = wr_ckpt_meta_new("iot-job", 42, WR_CKPT_CHECKPOINT);
    m->trigger_ms = 1700000000000;
    m->complete_ms = 1700000000250;
    m->incremental_size = 77;
    wr_ckpt_blob_t b0[] = {s_inline("offsets", "p0=17,p1=99"), s_inline("empty", "")};
    wr_ckpt_blob_t b1[] = {s_file("rocksdb/000012.sst", WR_CKPT_BLOB_SHARED, "7-1-000012.sst"),
                           s_file("window", WR_CKPT_BLOB_EXCLUSIVE, "window-7-1")};
    b1[0].size = 4096;
    b1[1].size = 5;
    wr_ckpt_task_t t0 = s_task(3, 0, b0, 2), t1 = s_task(7, 1, b1, 2), t2 = s_task(9, 0, NULL, 0);
    assert_int_equal(wr_ckpt_meta_add_task(m, &t0), 0);
    assert_int_equal(wr_ckpt_meta_add_task(m, &t1), 0);
    assert_int_equal(wr_ckpt_meta_add_task(m, &t2), 0);
    return m;
}

static void test_meta_round_trip(void **state)
{
    (void)state;
    wr_ckpt_meta_t *m = s_sample_meta();
    wr_strbuf_t a, b;
    wr_strbuf_init(&a);
    wr_strbuf_init(&b);
    assert_int_equal(wr_ckpt_meta_encode(m, &a), 0);
    assert_memory_equal(a.buf, "WRCK", 4);

    wr_ckpt_meta_t *d = NULL;
    assert_int_equal(wr_ckpt_meta_decode(a.buf, a.len, &d), 0);
    assert_string_equal(d->job, "iot-job");
    assert_int_equal(d->id, 42);
    assert_int_equal(d->kind, WR_CKPT_CHECKPOINT);
    assert_int_equal(d->trigger_ms, 1700000000000);
    assert_int_equal(d->complete_ms, 1700000000250);
    assert_int_equal(d->incremental_size, 77);
    assert_int_equal(d->ntasks, 3);
    const wr_ckpt_task_t *t = wr_ckpt_meta_task(d, 7, 1);
    assert_non_null(t);
    assert_int_equal(t->parallelism, 2);
    assert_int_equal(t->kg_lo, 64);
    assert_int_equal(t->kg_hi, 128);
    assert_int_equal(t->nblobs, 2);
    assert_string_equal(t->blobs[0].name, "rocksdb/000012.sst");
    assert_int_equal(t->blobs[0].kind, WR_CKPT_BLOB_SHARED);
    assert_string_equal(t->blobs[0].file, "7-1-000012.sst");
    assert_int_equal(t->blobs[0].size, 4096);
    assert_null(t->blobs[0].path);
    assert_int_equal(t->blobs[1].kind, WR_CKPT_BLOB_EXCLUSIVE);
    t = wr_ckpt_meta_task(d, 3, 0);
    assert_memory_equal(t->blobs[0].data, "p0=17,p1=99", 11);
    assert_int_equal(t->blobs[0].len, 11);
    assert_int_equal(t->blobs[1].len, 0);
    assert_int_equal(wr_ckpt_meta_task(d, 9, 0)->nblobs, 0);
    assert_null(wr_ckpt_meta_task(d, 9, 1));
    assert_int_equal(wr_ckpt_meta_full_size(d), 11 + 4096 + 5);

    /* the encoding is canonical: the decoded copy encodes to the same bytes */
    assert_int_equal(wr_ckpt_meta_encode(d, &b), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);

    wr_ckpt_meta_destroy(&d);
    wr_ckpt_meta_destroy(&m);
    assert_null(m);
    wr_ckpt_meta_destroy(&m);
    wr_strbuf_release(&a);
    wr_strbuf_release(&b);
    assert_int_equal(wr_ckpt_crc32("123456789", 9), 0xCBF43926u);
}

static void test_meta_rules(void **state)
{
    (void)state;
    wr_ckpt_meta_t *m = s_sample_meta();
    wr_ckpt_blob_t bad_file = s_file("x", WR_CKPT_BLOB_EXCLUSIVE, "../escape");
    wr_ckpt_blob_t meta_file = s_file("x", WR_CKPT_BLOB_EXCLUSIVE, "_metadata");
    wr_ckpt_blob_t hidden = s_file("x", WR_CKPT_BLOB_SHARED, ".tmp");
    wr_ckpt_blob_t no_name = s_inline("", "1");
    wr_ckpt_task_t t = s_task(1, 0, NULL, 0);
    t.subtask = 2; /* parallelism is 2 */
    assert_int_equal(wr_ckpt_meta_add_task(m, &t), WR_EINVAL);
    t = s_task(1, 0, NULL, 0);
    t.kg_lo = 10, t.kg_hi = 9;
    assert_int_equal(wr_ckpt_meta_add_task(m, &t), WR_EINVAL);
    wr_ckpt_blob_t *bad[] = {&bad_file, &meta_file, &hidden, &no_name};
    for (size_t i = 0; i < 4; i++) {
        t = s_task(1, 0, bad[i], 1);
        assert_int_equal(wr_ckpt_meta_add_task(m, &t), WR_EINVAL);
    }
    t = s_task(7, 1, NULL, 0);
    assert_int_equal(wr_ckpt_meta_add_task(m, &t), WR_EEXIST);
    assert_int_equal(m->ntasks, 3);

    free(m->job); /* a job id is a folder name */
    m->job = strdup("a/b");
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_ckpt_meta_encode(m, &sb), WR_EINVAL);
    assert_int_equal(sb.len, 0);
    wr_strbuf_release(&sb);
    wr_ckpt_meta_destroy(&m);
}

/* Frames a hand-made payload as a metadata file with a correct header and CRC. */
static void s_frame(wr_strbuf_t *out, const msgpack_sbuffer *payload)
{
    uint8_t h[16] = {'W', 'R', 'C', 'K', 0, 0, 0, 1};
    uint32_t len = (uint32_t)payload->size, crc = wr_ckpt_crc32(payload->data, payload->size);
    for (int i = 0; i < 4; i++) {
        h[8 + i] = (uint8_t)(len >> (24 - 8 * i));
        h[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
    }
    wr_strbuf_reset(out);
    wr_strbuf_add(out, h, 16);
    wr_strbuf_add(out, payload->data, payload->size);
}

/* A payload [job, 1, kind, 0, 0, 0, [[vertex, subtask, par, lo, hi, [blob]]]] with a blob
 * [name, blob_kind, file, 5], then `trailing` extra nil bytes. */
static int s_decode_crafted(const char *job, uint32_t kind, uint32_t subtask, const char *file,
                            int trailing)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 7);
    wr_pack_str(&pk, job);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint32(&pk, kind);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 6);
    uint32_t v[5] = {1, subtask, 2, 0, 64};
    for (int i = 0; i < 5; i++)
        msgpack_pack_uint32(&pk, v[i]);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 4);
    wr_pack_str(&pk, "state");
    msgpack_pack_uint32(&pk, WR_CKPT_BLOB_EXCLUSIVE);
    wr_pack_str(&pk, file);
    msgpack_pack_uint64(&pk, 5);
    for (int i = 0; i < trailing; i++)
        msgpack_pack_nil(&pk);
    wr_strbuf_t file_image;
    wr_strbuf_init(&file_image);
    s_frame(&file_image, &sb);
    wr_ckpt_meta_t *m = NULL;
    int rc = wr_ckpt_meta_decode(file_image.buf, file_image.len, &m);
    assert_true(rc == 0 ? m != NULL : m == NULL);
    wr_ckpt_meta_destroy(&m);
    wr_strbuf_release(&file_image);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void test_meta_rejects_corruption(void **state)
{
    (void)state;
    wr_ckpt_meta_t *m = s_sample_meta(), *d = NULL;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_ckpt_meta_encode(m, &sb), 0);
    for (size_t len = 0; len < sb.len; len++) {
        assert_int_equal(wr_ckpt_meta_decode(sb.buf, len, &d), WR_EPROTO);
        assert_null(d);
    }
    for (size_t i = 0; i < sb.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            sb.buf[i] ^= (char)(1 << bit);
            int rc = wr_ckpt_meta_decode(sb.buf, sb.len, &d);
            assert_int_equal(rc, i >= 4 && i < 8 ? WR_EVERSION : WR_EPROTO);
            assert_null(d);
            sb.buf[i] ^= (char)(1 << bit);
        }
    wr_strbuf_addc(&sb, 0);
    assert_int_equal(wr_ckpt_meta_decode(sb.buf, sb.len, &d), WR_EPROTO);

    /* well framed, CRC right, but the content breaks a rule */
    assert_int_equal(s_decode_crafted("job", 0, 1, "f", 0), 0);
    assert_int_equal(s_decode_crafted("job", 0, 1, "f", 1), WR_EPROTO); /* trailing bytes */
    assert_int_equal(s_decode_crafted("job", 0, 2, "f", 0), WR_EPROTO); /* subtask >= par */
    assert_int_equal(s_decode_crafted("job", 2, 1, "f", 0), WR_EPROTO); /* kind */
    assert_int_equal(s_decode_crafted("../x", 0, 1, "f", 0), WR_EPROTO);
    assert_int_equal(s_decode_crafted("job", 0, 1, "../../etc/passwd", 0), WR_EPROTO);
    assert_int_equal(s_decode_crafted("job", 0, 1, "_metadata", 0), WR_EPROTO);
    wr_strbuf_release(&sb);
    wr_ckpt_meta_destroy(&m);
}

/* ---- the store ---- */

static void test_complete_and_load(void **state)
{
    const char *root = *state;
    int err = -1;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job-a", 2, &err);
    assert_non_null(s);
    assert_int_equal(err, 0);
    assert_null(wr_ckpt_latest(s));

    wr_ckpt_pending_t *p = wr_ckpt_begin(s, 1, 1000, &err);
    assert_non_null(p);
    s_exclusive(p, "win-0", "window state");
    s_shared(p, root, "000001.sst", "sst one");
    wr_ckpt_blob_t blobs[] = {s_inline("offsets", "17"),
                              s_file("window", WR_CKPT_BLOB_EXCLUSIVE, "win-0"),
                              s_file("sst", WR_CKPT_BLOB_SHARED, "000001.sst")};
    wr_ckpt_task_t t = s_task(4, 1, blobs, 3);
    assert_int_equal(wr_ckpt_add_task_state(p, &t), 0);
    assert_int_equal(wr_ckpt_add_task_state(p, &t), WR_EEXIST);
    /* a shared file not added to this checkpoint, an exclusive file that is not there */
    wr_ckpt_blob_t stray = s_file("x", WR_CKPT_BLOB_SHARED, "000002.sst");
    wr_ckpt_blob_t missing = s_file("x", WR_CKPT_BLOB_EXCLUSIVE, "nothing");
    t = s_task(5, 0, &stray, 1);
    assert_int_equal(wr_ckpt_add_task_state(p, &t), WR_EINVAL);
    t = s_task(5, 0, &missing, 1);
    assert_int_equal(wr_ckpt_add_task_state(p, &t), WR_EINVAL);
    assert_int_equal(wr_ckpt_complete(&p, 1250), 0);
    assert_null(p);

    char *job_dir = s_path(root, "job-a");
    s_assert_listing(job_dir, "chk-1 shared");
    const wr_ckpt_meta_t *l = wr_ckpt_latest(s);
    assert_non_null(l);
    assert_int_equal(l->id, 1);
    assert_int_equal(l->trigger_ms, 1000);
    assert_int_equal(l->complete_ms, 1250);
    /* a checkpoint id must grow */
    assert_null(wr_ckpt_begin(s, 1, 2000, &err));
    assert_int_equal(err, WR_EINVAL);

    /* load from the folder: absolute paths that open */
    char *chk = wr_ckpt_store_path(s, 1);
    wr_ckpt_meta_t *m = wr_ckpt_load(chk, &err);
    assert_non_null(m);
    const wr_ckpt_task_t *lt = wr_ckpt_meta_task(m, 4, 1);
    assert_int_equal(lt->blobs[1].size, strlen("window state"));
    assert_int_equal(lt->blobs[1].path[0], '/');
    char *text = s_read(lt->blobs[1].path);
    assert_string_equal(text, "window state");
    free(text);
    text = s_read(lt->blobs[2].path);
    assert_string_equal(text, "sst one");
    free(text);
    assert_non_null(strstr(lt->blobs[2].path, "/job-a/shared/000001.sst"));
    wr_ckpt_meta_destroy(&m);

    /* reopening finds the same history */
    wr_ckpt_store_destroy(&s);
    s = wr_ckpt_store_open(root, "job-a", 2, &err);
    assert_non_null(s);
    assert_int_equal(wr_ckpt_store_count(s), 1);
    assert_int_equal(wr_ckpt_latest(s)->id, 1);
    text = s_read(wr_ckpt_meta_task(wr_ckpt_latest(s), 4, 1)->blobs[2].path);
    assert_string_equal(text, "sst one");
    free(text);
    assert_null(wr_ckpt_store_open(root, "a/b", 2, &err));
    assert_int_equal(err, WR_EINVAL);
    assert_null(wr_ckpt_store_open(root, "job-a", 0, &err));
    assert_int_equal(err, WR_EINVAL);
    wr_ckpt_store_destroy(&s);
    free(chk);
    free(job_dir);
}

/* One checkpoint with an exclusive file "e<id>" and the given shared files, one task. */
static void s_checkpoint(wr_ckpt_store_t *s, const char *root, uint64_t id, const char **shared,
                         uint32_t nshared)
{
    int err = 0;
    wr_ckpt_pending_t *p = wr_ckpt_begin(s, id, (int64_t)id * 1000, &err);
    assert_non_null(p);
    char excl[32];
    snprintf(excl, sizeof excl, "e%llu", (unsigned long long)id);
    s_exclusive(p, excl, "exclusive");
    wr_ckpt_blob_t blobs[16] = {s_file("x", WR_CKPT_BLOB_EXCLUSIVE, excl)};
    for (uint32_t i = 0; i < nshared; i++) {
        s_shared(p, root, shared[i], shared[i]);
        blobs[1 + i] = s_file(shared[i], WR_CKPT_BLOB_SHARED, shared[i]);
    }
    s_finish(&p, 1, 0, blobs, 1 + nshared, (int64_t)id * 1000 + 10);
}

static void test_crash_leftovers_are_cleaned(void **state)
{
    const char *root = *state;
    int err = 0;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job", 3, &err);
    const char *sh[] = {"a.sst"};
    s_checkpoint(s, root, 1, sh, 1);
    wr_ckpt_store_destroy(&s);

    /* what a crash can leave, at every step of completion and deletion */
    char *job = s_path(root, "job");
    const char *dirs[] = {"chk-2.tmp-AbC123", "chk-3.tmp-xyz", "chk-4", "chk-5"};
    for (int i = 0; i < 4; i++) {
        char *d = s_path(job, dirs[i]);
        assert_int_equal(mkdir(d, 0755), 0);
        char *f = s_path(d, "state");
        s_write(f, "partial");
        free(f);
        free(d);
    }
    char *chk1_meta = s_path(job, "chk-1/_metadata");
    char *tmp_meta = s_path(job, "chk-3.tmp-xyz/_metadata"); /* metadata renamed, folder not */
    assert_int_equal(link(chk1_meta, tmp_meta), 0);
    char *half_meta = s_path(job, "chk-5/._metadata.tmp-77"); /* metadata not yet renamed */
    s_write(half_meta, "WRCK");
    char *orphan = s_path(job, "shared/b.sst"); /* shared file of the crashed checkpoint */
    s_write(orphan, "b");
    char *stray = s_path(job, "shared/stray.tmp-1"); /* a folder in shared/ goes too */
    assert_int_equal(mkdir(stray, 0755), 0);
    free(stray);
    char *foreign = s_path(job, "notes.txt"); /* not ours: left alone */
    s_write(foreign, "keep me");
    char *ahead = s_path(job, WR_CKPT_AHEAD_DIR); /* segments written ahead by a run before */
    assert_int_equal(mkdir(ahead, 0755), 0);
    char *ahead_file = s_path(ahead, "job-3-v1-s0-p7.ahead");
    s_write(ahead_file, "segment");
    free(ahead_file);
    free(ahead);

    s = wr_ckpt_store_open(root, "job", 3, &err);
    assert_non_null(s);
    s_assert_listing(job, "chk-1 notes.txt shared");
    char *shared = s_path(job, "shared");
    s_assert_listing(shared, "a.sst");
    assert_int_equal(wr_ckpt_latest(s)->id, 1);
    assert_int_equal(wr_ckpt_store_count(s), 1);

    /* an aborted checkpoint takes its own new shared files with it, not the old ones */
    wr_ckpt_pending_t *p = wr_ckpt_begin(s, 2, 0, &err);
    s_shared(p, root, "a.sst", "a");
    s_shared(p, root, "c.sst", "c");
    s_assert_listing(shared, "a.sst c.sst");
    wr_ckpt_abort(&p);
    assert_null(p);
    s_assert_listing(shared, "a.sst");
    s_assert_listing(job, "chk-1 notes.txt shared");

    /* a completed checkpoint whose metadata got corrupted stops the open; nothing is deleted */
    wr_ckpt_store_destroy(&s);
    FILE *f = fopen(chk1_meta, "r+b");
    fseek(f, 20, SEEK_SET);
    fputc('!', f);
    fclose(f);
    assert_null(wr_ckpt_store_open(root, "job", 3, &err));
    assert_int_equal(err, WR_EPROTO);
    s_assert_listing(shared, "a.sst");
    char *chk1 = s_path(job, "chk-1");
    assert_null(wr_ckpt_load(chk1, &err));
    assert_int_equal(err, WR_EPROTO);
    assert_null(wr_ckpt_load(job, &err)); /* not a checkpoint folder */
    assert_int_equal(err, WR_ENOTFOUND);

    free(chk1);
    free(shared);
    free(foreign);
    free(orphan);
    free(half_meta);
    free(tmp_meta);
    free(chk1_meta);
    free(job);
}

/* Files a correct store keeps, computed by brute force from the retained metadata. */
static char *s_oracle_shared(const wr_ckpt_store_t *s)
{
    char *names[64];
    size_t n = 0;
    for (uint32_t h = 0; h < wr_ckpt_store_count(s); h++) {
        const wr_ckpt_meta_t *m = wr_ckpt_store_at(s, h);
        for (uint32_t i = 0; i < m->ntasks; i++)
            for (uint32_t j = 0; j < m->tasks[i].nblobs; j++) {
                const wr_ckpt_blob_t *b = &m->tasks[i].blobs[j];
                bool seen = b->kind != WR_CKPT_BLOB_SHARED;
                for (size_t k = 0; k < n && !seen; k++)
                    seen = !strcmp(names[k], b->file);
                if (!seen) names[n++] = b->file;
            }
    }
    qsort(names, n, sizeof *names, s_cmp_str);
    char *out = calloc(1, 4096);
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, " ");
        strcat(out, names[i]);
    }
    return out;
}

static void s_check_retention(const char *root, const wr_ckpt_store_t *s, uint64_t newest,
                              uint32_t retained)
{
    char *job = s_path(root, "job"), *shared = s_path(job, "shared");
    char want[256] = "";
    uint64_t first = newest >= retained ? newest - retained + 1 : 1;
    assert_int_equal(wr_ckpt_store_count(s), newest - first + 1);
    for (uint64_t id = first; id <= newest; id++) {
        assert_int_equal(wr_ckpt_store_at(s, (uint32_t)(id - first))->id, id);
        char one[32];
        snprintf(one, sizeof one, "chk-%llu ", (unsigned long long)id);
        strcat(want, one);
    }
    strcat(want, "shared");
    s_assert_listing(job, want);
    char *oracle = s_oracle_shared(s);
    s_assert_listing(shared, oracle);
    free(oracle);
    free(shared);
    free(job);
}

static void s_retention_run(const char *root, uint32_t retained)
{
    int err = 0;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job", retained, &err);
    /* checkpoint i references a sliding window of shared files: s<i/2> .. s<i/2 + 2>, as a
     * compacting RocksDB would (each file is in several consecutive checkpoints) */
    const char *names[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
    for (uint64_t id = 1; id <= 9; id++) {
        s_checkpoint(s, root, id, &names[(id - 1) / 2], 3);
        s_check_retention(root, s, id, retained);
    }
    /* shared files named in the oracle are exactly those of the window of the retained ones */
    char *shared = s_path(root, "job/shared");
    s_assert_listing(shared, retained == 1 ? "s4 s5 s6" : "s3 s4 s5 s6");
    free(shared);
    wr_ckpt_store_destroy(&s);
    s = wr_ckpt_store_open(root, "job", retained, &err); /* nothing changes on reopen */
    s_check_retention(root, s, 9, retained);
    wr_ckpt_store_destroy(&s);
    /* reopening with a smaller retention applies it */
    s = wr_ckpt_store_open(root, "job", 1, &err);
    s_check_retention(root, s, 9, 1);
    wr_ckpt_store_destroy(&s);
}

static void test_retention_one(void **state)
{
    s_retention_run(*state, 1);
}

static void test_retention_three(void **state)
{
    s_retention_run(*state, 3);
}

static void test_pending_shared_files_survive_retention(void **state)
{
    const char *root = *state;
    int err = 0;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job", 1, &err);
    const char *old[] = {"old.sst"}, *newer[] = {"n.sst"};
    s_checkpoint(s, root, 1, old, 1);
    wr_ckpt_pending_t *slow = wr_ckpt_begin(s, 10, 0, &err);
    s_shared(slow, root, "slow.sst", "slow");
    s_shared(slow, root, "old.sst", "old");
    s_checkpoint(s, root, 11, newer, 1); /* retention runs while 10 is pending */
    char *shared = s_path(root, "job/shared");
    s_assert_listing(shared, "n.sst old.sst slow.sst");
    /* 11 completed first: 10 is subsumed and fails, its files go */
    assert_int_equal(wr_ckpt_complete(&slow, 0), WR_EEXIST);
    assert_null(slow);
    s_assert_listing(shared, "n.sst");
    char *job = s_path(root, "job");
    s_assert_listing(job, "chk-11 shared");
    free(job);
    free(shared);
    wr_ckpt_store_destroy(&s);
}

static void test_incremental_size(void **state)
{
    const char *root = *state;
    int err = 0;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job", 3, &err);
    char k1[1001], k2[2001], k3[501];
    memset(k1, 'a', 1000), k1[1000] = 0;
    memset(k2, 'b', 2000), k2[2000] = 0;
    memset(k3, 'c', 500), k3[500] = 0;

    wr_ckpt_pending_t *p = wr_ckpt_begin(s, 1, 0, &err);
    s_exclusive(p, "ex", "0123456789012345678901234567890123456789"); /* 40 */
    s_shared(p, root, "k1", k1);
    s_shared(p, root, "k2", k2);
    wr_ckpt_blob_t b1[] = {s_inline("off", "0123456789"), s_file("e", WR_CKPT_BLOB_EXCLUSIVE, "ex"),
                           s_file("a", WR_CKPT_BLOB_SHARED, "k1"),
                           s_file("b", WR_CKPT_BLOB_SHARED, "k2")};
    s_finish(&p, 1, 0, b1, 4, 0);
    assert_int_equal(wr_ckpt_latest(s)->incremental_size, 10 + 40 + 1000 + 2000);
    assert_int_equal(wr_ckpt_meta_full_size(wr_ckpt_latest(s)), 10 + 40 + 1000 + 2000);

    /* the next one keeps k2, drops k1, adds k3: only k3 and its own files are new */
    p = wr_ckpt_begin(s, 2, 0, &err);
    s_exclusive(p, "ex", "01234");
    s_shared(p, root, "k2", "ignored: k2 is already in shared/");
    s_shared(p, root, "k3", k3);
    wr_ckpt_blob_t b2[] = {s_inline("off", "0123456789"), s_file("e", WR_CKPT_BLOB_EXCLUSIVE, "ex"),
                           s_file("b", WR_CKPT_BLOB_SHARED, "k2"),
                           s_file("c", WR_CKPT_BLOB_SHARED, "k3")};
    s_finish(&p, 1, 0, b2, 4, 0);
    const wr_ckpt_meta_t *l = wr_ckpt_latest(s);
    assert_int_equal(l->incremental_size, 10 + 5 + 500);
    assert_int_equal(wr_ckpt_meta_full_size(l), 10 + 5 + 2000 + 500);
    char *k2_text = s_read(wr_ckpt_meta_task(l, 1, 0)->blobs[2].path);
    assert_string_equal(k2_text, k2); /* the existing file was not replaced */
    free(k2_text);

    wr_ckpt_store_destroy(&s); /* the sizes are in the metadata */
    s = wr_ckpt_store_open(root, "job", 3, &err);
    assert_int_equal(wr_ckpt_store_at(s, 0)->incremental_size, 3050);
    assert_int_equal(wr_ckpt_store_at(s, 1)->incremental_size, 515);

    /* a file its writer put into shared/ itself (a window segment, a subtask's SST link) is new
     * in the first checkpoint that references it, and only there */
    char *seg = s_path(root, "job/shared/seg-1");
    s_write(seg, k3);
    for (uint64_t id = 3; id <= 4; id++) {
        p = wr_ckpt_begin(s, id, 0, &err);
        assert_int_equal(wr_ckpt_add_shared(p, seg, "seg-1"), 0);
        wr_ckpt_blob_t b3[] = {s_inline("off", "0123456789"),
                               s_file("s", WR_CKPT_BLOB_SHARED, "seg-1")};
        s_finish(&p, 1, 0, b3, 2, 0);
        assert_int_equal(wr_ckpt_latest(s)->incremental_size, id == 3 ? 10 + 500 : 10);
    }
    free(seg);
    wr_ckpt_store_destroy(&s);
}

static nlink_t s_links(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_nlink;
}

static void test_shared_link_or_copy(void **state)
{
    const char *root = *state;
    int err = 0;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job", 1, &err);
    wr_ckpt_pending_t *p = wr_ckpt_begin(s, 1, 0, &err);
    s_shared(p, root, "same-fs.sst", "linked");
    char *local = s_path(root, "local/same-fs.sst"), *shared = s_path(root, "job/shared");
    assert_int_equal(s_links(local), 2); /* a hard link: nothing copied */

    /* another filesystem (tmpfs): a copy, complete before it gets its name */
    char other[] = "/dev/shm/weir-ckpt-XXXXXX";
    int fd = mkstemp(other);
    if (fd >= 0) {
        bool ok = write(fd, "copied", 6) == 6;
        close(fd);
        int rc = wr_ckpt_add_shared(p, other, "other-fs.sst");
        unlink(other); /* before any assert, so a failure leaves nothing in /dev/shm */
        assert_true(ok);
        assert_int_equal(rc, 0);
        char *copy = s_path(shared, "other-fs.sst");
        assert_int_equal(s_links(copy), 1);
        char *text = s_read(copy);
        assert_string_equal(text, "copied");
        free(text);
        free(copy);
        s_assert_listing(shared, "other-fs.sst same-fs.sst");
    }
    assert_int_equal(wr_ckpt_add_shared(p, "/nonexistent/x.sst", "x.sst"), WR_ENOTFOUND);
    assert_int_equal(wr_ckpt_add_shared(p, local, "../x.sst"), WR_EINVAL);
    wr_ckpt_abort(&p);
    s_assert_listing(shared, "");
    assert_int_equal(s_links(local), 1);
    wr_ckpt_store_destroy(&s);
    free(shared);
    free(local);
}

static void test_savepoint_is_relocatable(void **state)
{
    const char *root = *state;
    int err = 0;
    wr_ckpt_store_t *s = wr_ckpt_store_open(root, "job", 2, &err);
    wr_ckpt_pending_t *p = wr_ckpt_begin(s, 5, 500, &err);
    s_exclusive(p, "win", "windows");
    s_shared(p, root, "1.sst", "first sst");
    wr_ckpt_blob_t b[] = {s_inline("off", "42"), s_file("w", WR_CKPT_BLOB_EXCLUSIVE, "win"),
                          s_file("r", WR_CKPT_BLOB_SHARED, "1.sst"),
                          s_file("r2", WR_CKPT_BLOB_SHARED, "1.sst")};
    s_finish(&p, 2, 1, b, 4, 600);

    char *target = s_path(root, "savepoints/sp-1");
    assert_int_equal(wr_savepoint_write(wr_ckpt_latest(s), target, 700), 0);
    assert_int_equal(wr_savepoint_write(wr_ckpt_latest(s), target, 700), WR_EEXIST);
    s_assert_listing(target, "_metadata shared win");
    wr_ckpt_meta_t *unresolved = wr_ckpt_meta_dup(wr_ckpt_latest(s));
    free(unresolved->tasks[0].blobs[1].path);
    unresolved->tasks[0].blobs[1].path = NULL;
    char *target2 = s_path(root, "savepoints/sp-2");
    assert_int_equal(wr_savepoint_write(unresolved, target2, 0), WR_EINVAL);
    char *sp_dir = s_path(root, "savepoints");
    s_assert_listing(sp_dir, "sp-1");
    wr_ckpt_meta_destroy(&unresolved);
    wr_ckpt_store_destroy(&s);

    /* move it elsewhere and delete the job's checkpoints: it still loads, every file opens */
    char *job = s_path(root, "job"), *moved = s_path(root, "elsewhere");
    assert_int_equal(nftw(job, s_rm, 16, FTW_DEPTH | FTW_PHYS), 0);
    assert_int_equal(rename(target, moved), 0);
    wr_ckpt_meta_t *m = wr_ckpt_load(moved, &err);
    assert_non_null(m);
    assert_int_equal(m->kind, WR_CKPT_SAVEPOINT);
    assert_int_equal(m->id, 5);
    assert_int_equal(m->trigger_ms, 500);
    assert_int_equal(m->complete_ms, 700);
    assert_int_equal(m->incremental_size, wr_ckpt_meta_full_size(m));
    const wr_ckpt_task_t *mt = wr_ckpt_meta_task(m, 2, 1);
    assert_memory_equal(mt->blobs[0].data, "42", 2);
    const char *want[] = {NULL, "windows", "first sst", "first sst"};
    for (int i = 1; i < 4; i++) {
        assert_non_null(strstr(mt->blobs[i].path, "/elsewhere/"));
        char *text = s_read(mt->blobs[i].path);
        assert_string_equal(text, want[i]);
        free(text);
    }
    wr_ckpt_meta_destroy(&m);
    free(moved);
    free(job);
    free(sp_dir);
    free(target2);
    free(target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_round_trip),
        cmocka_unit_test(test_meta_rules),
        cmocka_unit_test(test_meta_rejects_corruption),
        cmocka_unit_test_setup_teardown(test_complete_and_load, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_leftovers_are_cleaned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retention_one, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retention_three, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pending_shared_files_survive_retention, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_incremental_size, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_shared_link_or_copy, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_savepoint_is_relocatable, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
