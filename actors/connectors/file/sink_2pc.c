/* The 2PC file sink's part files on disk: one sink's in-progress and pending files, commit by
 * rename, and the recovery of a restored job (see sink_2pc.h). Every rename is made durable with
 * an fsync of the directory, which is kept open as a descriptor. */
#include "actors/connectors/file/sink_2pc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/log.h"

struct wr__sink_2pc {
    int dfd;                /* the directory */
    int fd;                 /* the in-progress file; -1 until the next write */
    wr_sink_2pc_part_t cur; /* the in-progress file's (or the next one's) attempt, subtask, seq */
    wr_sink_2pc_part_t *pending; /* precommitted, not yet committed; by checkpoint id */
    uint32_t npending, cap;
    uint64_t last_checkpoint; /* of the last precommit, when any */
    uint64_t skip_commit;     /* the test fault (file.h): 0, or the checkpoint whose parts drop */
    bool precommitted;
};

static int s_fsync(int fd)
{
    int rc;
    do
        rc = fsync(fd);
    while (rc && errno == EINTR);
    return rc ? WR_EIO : 0;
}

static int s_open_dir(const char *dir, int *dfd)
{
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return *dfd < 0 ? wr_fs_errno(errno) : 0;
}

wr__sink_2pc_t *wr__sink_2pc_new(const char *dir, uint32_t attempt, uint32_t subtask, int *err)
{
    wr__sink_2pc_t *t = calloc(1, sizeof *t);
    int rc = t ? wr_fs_mkdirs(dir) : WR_ENOMEM;
    if (rc == WR_EEXIST) rc = WR_EIO; /* a file where a folder should be */
    if (t) {
        t->fd = t->dfd = -1;
        t->cur = (wr_sink_2pc_part_t){.attempt = attempt, .subtask = subtask};
    }
    if (!rc) rc = s_open_dir(dir, &t->dfd);
    if (rc) {
        if (err) *err = rc;
        wr__sink_2pc_destroy(&t);
    }
    return t;
}

void wr__sink_2pc_destroy(wr__sink_2pc_t **tp)
{
    if (!tp || !*tp) return;
    wr__sink_2pc_t *t = *tp;
    if (t->fd >= 0) close(t->fd);
    if (t->dfd >= 0) close(t->dfd);
    free(t->pending);
    free(t);
    *tp = NULL;
}

void wr__sink_2pc_inprogress_name(const wr__sink_2pc_t *t, char out[WR_SINK_2PC_NAME_MAX])
{
    wr_sink_2pc_name(&t->cur, WR_SINK_2PC_INPROGRESS, out);
}

int wr__sink_2pc_fd(wr__sink_2pc_t *t, int *fd)
{
    if (t->fd < 0) {
        char name[WR_SINK_2PC_NAME_MAX];
        wr__sink_2pc_inprogress_name(t, name);
        t->fd = openat(t->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (t->fd < 0) return wr_fs_errno(errno);
    }
    *fd = t->fd;
    return 0;
}

int wr__sink_2pc_flush(wr__sink_2pc_t *t)
{
    return t->fd >= 0 ? s_fsync(t->fd) : 0;
}

/* Closes the in-progress file, durably renamed to its pending name, into t->pending. On a failed
 * fsync or rename it stays in progress (a later precommit retries); once renamed it is pending
 * even if the directory's fsync fails (a later checkpoint then covers it). */
static int s_close_part(wr__sink_2pc_t *t, uint64_t checkpoint_id)
{
    if (t->npending == t->cap) {
        uint32_t cap = t->cap ? 2 * t->cap : 8;
        wr_sink_2pc_part_t *p = realloc(t->pending, cap * sizeof *p);
        if (!p) return WR_ENOMEM;
        t->pending = p;
        t->cap = cap;
    }
    char from[WR_SINK_2PC_NAME_MAX], to[WR_SINK_2PC_NAME_MAX];
    wr_sink_2pc_name(&t->cur, WR_SINK_2PC_INPROGRESS, from);
    wr_sink_2pc_name(&t->cur, WR_SINK_2PC_PENDING, to);
    int rc = s_fsync(t->fd);
    if (!rc && renameat(t->dfd, from, t->dfd, to)) rc = wr_fs_errno(errno);
    if (rc) return rc;
    close(t->fd); /* after fsync: nothing is left for close to report */
    t->fd = -1;
    t->pending[t->npending] = t->cur;
    t->pending[t->npending++].checkpoint_id = checkpoint_id;
    t->cur.seq++;
    return s_fsync(t->dfd);
}

int wr__sink_2pc_precommit(wr__sink_2pc_t *t, uint64_t checkpoint_id, wr_strbuf_t *state)
{
    if (t->precommitted && checkpoint_id < t->last_checkpoint) return WR_EINVAL;
    int rc = t->fd >= 0 ? s_close_part(t, checkpoint_id) : 0;
    if (rc) return rc;
    t->precommitted = true;
    t->last_checkpoint = checkpoint_id;
    return wr_sink_2pc_state_encode(t->pending, t->npending, state);
}

/* The test fault test_skip_commit (file.h): part p, of checkpoint skip, is emptied before it is
 * committed, so that its records are gone from the output while the job and a restore go on as
 * usual (the empty file is under its final name: a recovery finds it committed). 0 when p is not
 * the fault's or it is done; WR_EIO. */
static int s_skip(int dfd, const wr_sink_2pc_part_t *p, uint64_t skip, const char *from)
{
    if (!skip || p->checkpoint_id != skip) return 0;
    int fd = openat(dfd, from, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : WR_EIO; /* committed already, or not there */
    int rc = s_fsync(fd);
    close(fd);
    if (!rc)
        wr_warn("file sink: test fault test_skip_commit: %s of checkpoint %llu is committed empty, "
                "its records dropped",
                from, (unsigned long long)skip);
    return rc;
}

/* Renames part p's pending file in dfd to its final name (emptied first when it is the test
 * fault's: skip); a part found under its final name already is done. WR_ENOTFOUND when it is
 * under neither. */
static int s_commit_part(int dfd, const wr_sink_2pc_part_t *p, uint64_t skip)
{
    char from[WR_SINK_2PC_NAME_MAX], to[WR_SINK_2PC_NAME_MAX];
    wr_sink_2pc_name(p, WR_SINK_2PC_PENDING, from);
    wr_sink_2pc_name(p, WR_SINK_2PC_FINAL, to);
    int rc = s_skip(dfd, p, skip, from);
    if (rc) return rc;
    if (renameat(dfd, from, dfd, to) == 0) return 0;
    if (errno != ENOENT) return WR_EIO;
    struct stat st;
    return fstatat(dfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : WR_ENOTFOUND;
}

void wr__sink_2pc_skip_commit(wr__sink_2pc_t *t, uint64_t checkpoint_id)
{
    t->skip_commit = checkpoint_id;
}

int wr__sink_2pc_commit(wr__sink_2pc_t *t, uint64_t checkpoint_id)
{
    int rc = 0;
    uint32_t kept = 0, done = 0;
    for (uint32_t i = 0; i < t->npending; i++) {
        wr_sink_2pc_part_t *p = &t->pending[i];
        if (p->checkpoint_id > checkpoint_id) {
            t->pending[kept++] = *p;
            continue;
        }
        int one = s_commit_part(t->dfd, p, t->skip_commit);
        if (one) t->pending[kept++] = *p; /* the next commit tries again */
        if (one && !rc) rc = one;
        done += !one;
    }
    t->npending = kept;
    int synced = done ? s_fsync(t->dfd) : 0;
    return rc ? rc : synced;
}

/* ---- recovery ---- */

/* Decodes every state into one array (*all, *n; the caller frees *all). */
static int s_decode_all(const uint8_t *const *states, const size_t *lens, uint32_t nstates,
                        uint32_t attempt_now, wr_sink_2pc_part_t **all, uint32_t *n,
                        wr_strbuf_t *err)
{
    *all = NULL;
    *n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < nstates && !rc; i++) {
        wr_sink_2pc_part_t *ps = NULL, *grown = NULL;
        uint32_t np = 0;
        rc = wr_sink_2pc_state_decode(states[i], lens[i], &ps, &np);
        for (uint32_t k = 0; k < np && !rc; k++)
            if (ps[k].attempt >= attempt_now) rc = WR_EINVAL;
        if (!rc && np > UINT32_MAX - *n) rc = WR_ETOOBIG;
        if (!rc && np && !(grown = realloc(*all, ((size_t)*n + np) * sizeof **all))) rc = WR_ENOMEM;
        if (grown) {
            memcpy(grown + *n, ps, np * sizeof *ps);
            *all = grown;
            *n += np;
        }
        free(ps);
        if (rc && err)
            wr_strbuf_addf(err, "sink state %u of %u: %s%s", i, nstates, wr_strerror(rc),
                           rc == WR_EINVAL ? " (a part of the attempt being started, or later)"
                                           : "");
    }
    return rc;
}

int wr_sink_2pc_recover(const char *dir, const uint8_t *const *states, const size_t *lens,
                        uint32_t n, uint32_t attempt_now, uint64_t skip_commit, wr_strbuf_t *err)
{
    wr_sink_2pc_part_t *all = NULL;
    uint32_t nall = 0;
    int dfd = -1, rc = s_decode_all(states, lens, n, attempt_now, &all, &nall, err);
    if (!rc && nall) {
        rc = s_open_dir(dir, &dfd);
        if (rc && err) wr_strbuf_addf(err, "sink directory %s: %s", dir, wr_strerror(rc));
    }
    int first = 0;
    for (uint32_t i = 0; dfd >= 0 && i < nall; i++) {
        int one = s_commit_part(dfd, &all[i], skip_commit);
        if (one && !first && err) {
            char name[WR_SINK_2PC_NAME_MAX];
            wr_sink_2pc_name(&all[i], WR_SINK_2PC_PENDING, name);
            wr_strbuf_addf(err, "%s/%s (of checkpoint %llu): %s", dir, name,
                           (unsigned long long)all[i].checkpoint_id,
                           one == WR_ENOTFOUND ? "neither pending nor committed"
                                               : wr_strerror(one));
        }
        if (!first) first = one;
    }
    if (dfd >= 0) {
        int synced = s_fsync(dfd);
        rc = first ? first : synced;
        close(dfd);
    }
    free(all);
    return rc;
}

int wr_sink_2pc_abort_stale(const char *dir, uint32_t attempt_now)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : WR_EIO;
    int rc = 0;
    struct dirent *e;
    while ((errno = 0, e = readdir(d))) {
        enum wr_sink_2pc_name kind;
        wr_sink_2pc_part_t p;
        if (wr_sink_2pc_parse_hidden(e->d_name, strlen(e->d_name), &kind, &p) == 0 &&
            p.attempt < attempt_now && unlinkat(dirfd(d), e->d_name, 0) && errno != ENOENT)
            rc = WR_EIO;
    }
    if (errno) rc = WR_EIO;
    int synced = s_fsync(dirfd(d));
    closedir(d);
    return rc ? rc : synced;
}
