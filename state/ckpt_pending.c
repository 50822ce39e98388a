/* Writing one checkpoint: a temp folder, its files, its task states, then the atomic completion. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "state/ckpt_store.h"
#include "state/ckpt_store_int.h"

static void s_pending_free(wr_ckpt_pending_t *p)
{
    for (uint32_t i = 0; i < p->nfiles; i++)
        free(p->files[i]);
    free(p->files);
    for (uint32_t i = 0; i < p->nshared; i++)
        free(p->shared[i].file);
    free(p->shared);
    wr_ckpt_meta_destroy(&p->meta);
    free(p->tmpdir);
    free(p);
}

/* Takes p off its store's list: from now on retention no longer protects its shared files. */
static void s_detach(wr_ckpt_pending_t *p)
{
    wr_ckpt_pending_t **link = &p->store->pending;
    while (*link != p)
        link = &(*link)->next;
    *link = p->next;
}

wr_ckpt_pending_t *wr_ckpt_begin(wr_ckpt_store_t *s, uint64_t id, int64_t trigger_ms, int *err)
{
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(s);
    if (latest && id <= latest->id) {
        *err = WR_EINVAL;
        return NULL;
    }
    wr_ckpt_pending_t *p = calloc(1, sizeof *p);
    int rc = p ? 0 : WR_ENOMEM;
    if (!rc) {
        p->store = s;
        p->meta = wr_ckpt_meta_new(s->job, id, WR_CKPT_CHECKPOINT);
        if (!p->meta ||
            asprintf(&p->tmpdir, "%s/chk-%llu.tmp-XXXXXX", s->dir, (unsigned long long)id) < 0) {
            p->tmpdir = NULL;
            rc = WR_ENOMEM;
        }
    }
    if (!rc && !mkdtemp(p->tmpdir)) rc = wr_fs_errno(errno);
    if (rc) {
        if (p) s_pending_free(p);
        *err = rc;
        return NULL;
    }
    p->meta->trigger_ms = trigger_ms;
    p->next = s->pending;
    s->pending = p;
    *err = 0;
    return p;
}

const char *wr_ckpt_pending_dir(const wr_ckpt_pending_t *p)
{
    return p->tmpdir;
}

static bool s_exclusive_name_ok(const char *file)
{
    return file && wr_ckpt_name_valid(file, strlen(file)) &&
           strcmp(file, WR_CKPT_METADATA_FILE) != 0;
}

int wr_ckpt_create_file(wr_ckpt_pending_t *p, const char *file, int *fd)
{
    *fd = -1;
    if (!s_exclusive_name_ok(file)) return WR_EINVAL;
    char **files = realloc(p->files, (p->nfiles + 1) * sizeof *files);
    if (!files) return WR_ENOMEM;
    p->files = files;
    char *path = wr_fs_join(p->tmpdir, file);
    char *name = strdup(file);
    int rc = path && name ? 0 : WR_ENOMEM;
    if (!rc && (*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
        rc = wr_fs_errno(errno);
    if (!rc)
        p->files[p->nfiles++] = name;
    else
        free(name);
    free(path);
    return rc;
}

static wr__ckpt_shared_ref_t *s_shared_ref(const wr_ckpt_pending_t *p, const char *file)
{
    for (uint32_t i = 0; i < p->nshared; i++)
        if (!strcmp(p->shared[i].file, file)) return &p->shared[i];
    return NULL;
}

int wr_ckpt_add_shared(wr_ckpt_pending_t *p, const char *local_path, const char *file)
{
    if (!local_path || !file || !wr_ckpt_name_valid(file, strlen(file))) return WR_EINVAL;
    if (s_shared_ref(p, file)) return 0;
    wr__ckpt_shared_ref_t *refs = realloc(p->shared, (p->nshared + 1) * sizeof *refs);
    if (!refs) return WR_ENOMEM;
    p->shared = refs;
    wr__ckpt_shared_ref_t *ref = &p->shared[p->nshared];
    *ref = (wr__ckpt_shared_ref_t){.file = strdup(file)};
    char *dst = wr_fs_join(p->store->shared, file);
    int rc = ref->file && dst ? 0 : WR_ENOMEM;
    struct stat st;
    if (!rc && lstat(dst, &st) != 0) { /* new: link or copy it in */
        rc = wr_fs_link_or_copy(local_path, dst);
        ref->fresh = rc == 0;
        if (rc == WR_EEXIST) rc = 0;
    } else if (!rc) { /* its writer put it there (a subtask's SST file or window segment) */
        ref->fresh = !wr__ckpt_store_refers(p->store, file);
    }
    if (!rc) rc = wr_fs_size(dst, &ref->size);
    if (!rc) {
        p->nshared++;
    } else {
        if (ref->fresh) unlink(dst);
        free(ref->file);
    }
    free(dst);
    return rc;
}

int wr_ckpt_add_task_state(wr_ckpt_pending_t *p, const wr_ckpt_task_t *t)
{
    if (t->nblobs > 0 && !t->blobs) return WR_EINVAL;
    wr_ckpt_task_t copy = *t;
    copy.blobs = t->nblobs ? calloc(t->nblobs, sizeof *copy.blobs) : NULL;
    int rc = t->nblobs && !copy.blobs ? WR_ENOMEM : 0;
    for (uint32_t i = 0; i < t->nblobs && !rc; i++) {
        wr_ckpt_blob_t *b = &copy.blobs[i];
        *b = t->blobs[i];
        b->path = NULL;
        b->size = 0;
        if (b->kind == WR_CKPT_BLOB_SHARED) {
            const wr__ckpt_shared_ref_t *ref = b->file ? s_shared_ref(p, b->file) : NULL;
            if (ref) b->size = ref->size;
            rc = ref ? 0 : WR_EINVAL;
        } else if (b->kind == WR_CKPT_BLOB_EXCLUSIVE) {
            char *path = s_exclusive_name_ok(b->file) ? wr_fs_join(p->tmpdir, b->file) : NULL;
            rc = !s_exclusive_name_ok(b->file) ? WR_EINVAL : !path ? WR_ENOMEM : 0;
            if (!rc && wr_fs_size(path, &b->size)) rc = WR_EINVAL;
            free(path);
        }
    }
    if (!rc) rc = wr_ckpt_meta_add_task(p->meta, &copy);
    free(copy.blobs); /* shallow: the strings and bytes are the caller's */
    return rc;
}

/* Inline bytes, exclusive files, and the shared files this checkpoint put into shared/. */
static uint64_t s_incremental_size(const wr_ckpt_pending_t *p)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < p->meta->ntasks; i++)
        for (uint32_t j = 0; j < p->meta->tasks[i].nblobs; j++) {
            const wr_ckpt_blob_t *b = &p->meta->tasks[i].blobs[j];
            if (b->kind == WR_CKPT_BLOB_INLINE)
                sum += b->len;
            else if (b->kind == WR_CKPT_BLOB_EXCLUSIVE || s_shared_ref(p, b->file)->fresh)
                sum += b->size;
        }
    return sum;
}

/* Every file of the checkpoint on disk: exclusive files, new shared files and shared/. */
static int s_sync_files(const wr_ckpt_pending_t *p)
{
    int rc = 0;
    bool any_fresh = false;
    for (uint32_t i = 0; i < p->nfiles + p->nshared && !rc; i++) {
        bool excl = i < p->nfiles;
        if (!excl && !p->shared[i - p->nfiles].fresh) continue;
        any_fresh |= !excl;
        char *path = excl ? wr_fs_join(p->tmpdir, p->files[i])
                          : wr_fs_join(p->store->shared, p->shared[i - p->nfiles].file);
        rc = path ? wr_fs_fsync(path) : WR_ENOMEM;
        free(path);
    }
    if (!rc && any_fresh) rc = wr_fs_fsync(p->store->shared);
    return rc;
}

/* Steps up to the rename that makes checkpoint p complete; *chk gets its folder. */
static int s_publish(wr_ckpt_pending_t *p, int64_t complete_ms, char **chk)
{
    wr_ckpt_store_t *s = p->store;
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(s);
    if (latest && p->meta->id <= latest->id) return WR_EEXIST;
    p->meta->complete_ms = complete_ms;
    p->meta->incremental_size = s_incremental_size(p);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = s_sync_files(p);
    if (!rc) rc = wr_ckpt_meta_encode(p->meta, &sb);
    if (!rc) rc = wr_fs_write_atomic(p->tmpdir, WR_CKPT_METADATA_FILE, sb.buf, sb.len);
    wr_strbuf_release(&sb);
    if (!rc && !(*chk = wr_ckpt_store_path(s, p->meta->id))) rc = WR_ENOMEM;
    /* everything that can fail for want of memory, before the point of no return */
    if (!rc) rc = wr__ckpt_resolve(p->meta, *chk);
    if (!rc) rc = wr__ckpt_store_reserve(s);
    if (!rc && rename(p->tmpdir, *chk) != 0) rc = wr_fs_errno(errno);
    return rc;
}

int wr_ckpt_complete(wr_ckpt_pending_t **pp, int64_t complete_ms)
{
    wr_ckpt_pending_t *p = *pp;
    *pp = NULL;
    wr_ckpt_store_t *s = p->store;
    char *chk = NULL;
    int rc = s_publish(p, complete_ms, &chk);
    s_detach(p);
    if (rc) {
        wr_fs_rmtree(p->tmpdir);
        wr__ckpt_store_gc(s); /* the shared files only this checkpoint added */
    } else {
        /* Complete from here on: a failure below only delays the cleanup. */
        wr_fs_fsync(s->dir);
        wr__ckpt_store_commit(s, p->meta);
        p->meta = NULL;
    }
    free(chk);
    s_pending_free(p);
    return rc;
}

void wr_ckpt_abort(wr_ckpt_pending_t **pp)
{
    if (!pp || !*pp) return;
    wr_ckpt_pending_t *p = *pp;
    *pp = NULL;
    s_detach(p);
    wr_fs_rmtree(p->tmpdir);
    wr__ckpt_store_gc(p->store);
    s_pending_free(p);
}
