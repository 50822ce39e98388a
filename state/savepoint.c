#include "state/savepoint.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "state/ckpt_store.h"

/* Copies blob b's file into the savepoint folder tmp (shared files under tmp/shared). A file
 * referenced twice is copied once. */
static int s_copy_blob(const wr_ckpt_blob_t *b, const char *tmp, const char *shared)
{
    if (b->kind == WR_CKPT_BLOB_INLINE) return 0;
    if (!b->path) return WR_EINVAL;
    char *dst = wr_fs_join(b->kind == WR_CKPT_BLOB_SHARED ? shared : tmp, b->file);
    int rc = dst ? wr_fs_copy(b->path, dst) : WR_ENOMEM;
    free(dst);
    return rc == WR_EEXIST ? 0 : rc;
}

static int s_fill(const wr_ckpt_meta_t *m, const char *tmp, int64_t complete_ms)
{
    char *shared = wr_fs_join(tmp, WR_CKPT_SHARED_DIR);
    wr_ckpt_meta_t *sp = wr_ckpt_meta_dup(m);
    int rc = shared && sp ? 0 : WR_ENOMEM;
    if (!rc && mkdir(shared, 0755) != 0) rc = wr_fs_errno(errno);
    for (uint32_t i = 0; i < m->ntasks && !rc; i++)
        for (uint32_t j = 0; j < m->tasks[i].nblobs && !rc; j++)
            rc = s_copy_blob(&m->tasks[i].blobs[j], tmp, shared);
    if (!rc) rc = wr_fs_fsync(shared);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    if (!rc) {
        sp->kind = WR_CKPT_SAVEPOINT;
        sp->complete_ms = complete_ms;
        sp->incremental_size = wr_ckpt_meta_full_size(sp); /* everything was written anew */
        rc = wr_ckpt_meta_encode(sp, &sb);
    }
    if (!rc) rc = wr_fs_write_atomic(tmp, WR_CKPT_METADATA_FILE, sb.buf, sb.len);
    wr_strbuf_release(&sb);
    wr_ckpt_meta_destroy(&sp);
    free(shared);
    return rc;
}

/* The folder holding path ("." for a bare name), as a new string. */
static char *s_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

int wr_savepoint_write(const wr_ckpt_meta_t *m, const char *target, int64_t complete_ms)
{
    struct stat st;
    if (!target || !*target) return WR_EINVAL;
    if (lstat(target, &st) == 0) return WR_EEXIST;
    char *tmp = NULL, *parent = s_parent(target);
    int rc = parent ? 0 : WR_ENOMEM;
    if (!rc) rc = wr_fs_mkdirs(parent);
    if (!rc && asprintf(&tmp, "%s.tmp-XXXXXX", target) < 0) {
        tmp = NULL;
        rc = WR_ENOMEM;
    }
    if (!rc && !mkdtemp(tmp)) rc = wr_fs_errno(errno);
    bool made = !rc;
    if (!rc) rc = s_fill(m, tmp, complete_ms);
    if (!rc && lstat(target, &st) == 0) rc = WR_EEXIST; /* rename would replace an empty dir */
    if (!rc && rename(tmp, target) != 0) rc = wr_fs_errno(errno);
    if (!rc) rc = wr_fs_fsync(parent);
    if (rc && made) wr_fs_rmtree(tmp);
    free(tmp);
    free(parent);
    return rc;
}
