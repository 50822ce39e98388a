/* The store's history: recovery on open, retention, shared-file garbage collection, loading. */
#include "state/ckpt_store.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "state/ckpt_store_int.h"

void wr__ckpt_dir_name(char out[32], uint64_t id)
{
    snprintf(out, 32, "chk-%llu", (unsigned long long)id);
}

/* "chk-N" followed by *rest: N decimal without leading zeros, fitting in u64. */
static bool s_parse_chk(const char *name, uint64_t *id, const char **rest)
{
    if (strncmp(name, "chk-", 4) != 0) return false;
    const char *p = name + 4;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return false;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *id = v;
    *rest = p;
    return true;
}

/* Fills blob->path of every file reference: exclusive files in dir, shared ones in shared. */
static int s_resolve(wr_ckpt_meta_t *m, const char *dir, const char *shared)
{
    for (uint32_t i = 0; i < m->ntasks; i++)
        for (uint32_t j = 0; j < m->tasks[i].nblobs; j++) {
            wr_ckpt_blob_t *b = &m->tasks[i].blobs[j];
            if (b->kind == WR_CKPT_BLOB_INLINE) continue;
            free(b->path);
            b->path = wr_fs_join(b->kind == WR_CKPT_BLOB_SHARED ? shared : dir, b->file);
            if (!b->path) return WR_ENOMEM;
        }
    return 0;
}

static char *s_shared_dir_of(const char *abs, wr_ckpt_kind_t kind)
{
    if (kind == WR_CKPT_SAVEPOINT) return wr_fs_join(abs, WR_CKPT_SHARED_DIR);
    char *parent = strdup(abs);
    if (!parent) return NULL;
    char *slash = strrchr(parent, '/');
    if (slash) *slash = '\0'; /* realpath is absolute: "/x/chk-1" -> "/x", "/chk-1" -> "" */
    char *shared = wr_fs_join(parent, WR_CKPT_SHARED_DIR);
    free(parent);
    return shared;
}

int wr__ckpt_resolve(wr_ckpt_meta_t *m, const char *abs)
{
    char *shared = s_shared_dir_of(abs, m->kind);
    int rc = shared ? s_resolve(m, abs, shared) : WR_ENOMEM;
    free(shared);
    return rc;
}

wr_ckpt_meta_t *wr_ckpt_load(const char *dir, int *err)
{
    wr_ckpt_meta_t *m = NULL;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    char *mpath = NULL, *abs = realpath(dir, NULL);
    int rc = abs ? 0 : wr_fs_errno(errno);
    if (!rc && !(mpath = wr_fs_join(abs, WR_CKPT_METADATA_FILE))) rc = WR_ENOMEM;
    if (!rc) rc = wr_fs_read(mpath, WR_CKPT_META_MAX, &sb);
    if (!rc) rc = wr_ckpt_meta_decode(sb.buf, sb.len, &m);
    if (!rc) rc = wr__ckpt_resolve(m, abs);
    if (rc) wr_ckpt_meta_destroy(&m);
    *err = rc;
    free(mpath);
    free(abs);
    wr_strbuf_release(&sb);
    return m;
}

const char *wr_ckpt_store_dir(const wr_ckpt_store_t *s)
{
    return s->dir;
}

uint32_t wr_ckpt_store_count(const wr_ckpt_store_t *s)
{
    return s->count;
}

const wr_ckpt_meta_t *wr_ckpt_store_at(const wr_ckpt_store_t *s, uint32_t i)
{
    return i < s->count ? s->history[i] : NULL;
}

const wr_ckpt_meta_t *wr_ckpt_latest(const wr_ckpt_store_t *s)
{
    return s->count ? s->history[s->count - 1] : NULL;
}

char *wr_ckpt_store_path(const wr_ckpt_store_t *s, uint64_t id)
{
    char name[32];
    wr__ckpt_dir_name(name, id);
    return wr_fs_join(s->dir, name);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every shared file name a retained or pending checkpoint references, sorted (borrowed). */
static const char **s_shared_refs(const wr_ckpt_store_t *s, size_t *n)
{
    size_t cap = 1;
    for (uint32_t h = 0; h < s->count; h++)
        for (uint32_t i = 0; i < s->history[h]->ntasks; i++)
            cap += s->history[h]->tasks[i].nblobs;
    for (const wr_ckpt_pending_t *p = s->pending; p; p = p->next)
        cap += p->nshared;
    const char **refs = malloc(cap * sizeof *refs);
    if (!refs) return NULL;
    *n = 0;
    for (uint32_t h = 0; h < s->count; h++)
        for (uint32_t i = 0; i < s->history[h]->ntasks; i++) {
            const wr_ckpt_task_t *t = &s->history[h]->tasks[i];
            for (uint32_t j = 0; j < t->nblobs; j++)
                if (t->blobs[j].kind == WR_CKPT_BLOB_SHARED) refs[(*n)++] = t->blobs[j].file;
        }
    for (const wr_ckpt_pending_t *p = s->pending; p; p = p->next)
        for (uint32_t i = 0; i < p->nshared; i++)
            refs[(*n)++] = p->shared[i].file;
    qsort(refs, *n, sizeof *refs, s_cmp_str);
    return refs;
}

bool wr__ckpt_store_refers(const wr_ckpt_store_t *s, const char *file)
{
    for (uint32_t h = 0; h < s->count; h++)
        for (uint32_t i = 0; i < s->history[h]->ntasks; i++) {
            const wr_ckpt_task_t *t = &s->history[h]->tasks[i];
            for (uint32_t j = 0; j < t->nblobs; j++)
                if (t->blobs[j].kind == WR_CKPT_BLOB_SHARED && !strcmp(t->blobs[j].file, file))
                    return true;
        }
    for (const wr_ckpt_pending_t *p = s->pending; p; p = p->next)
        for (uint32_t i = 0; i < p->nshared; i++)
            if (!strcmp(p->shared[i].file, file)) return true;
    return false;
}

int wr__ckpt_store_gc(wr_ckpt_store_t *s)
{
    size_t n = 0;
    const char **refs = s_shared_refs(s, &n);
    DIR *d = refs ? opendir(s->shared) : NULL;
    int rc = !refs ? WR_ENOMEM : !d ? wr_fs_errno(errno) : 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        if (bsearch(&name, refs, n, sizeof *refs, s_cmp_str)) continue;
        char *path = wr_fs_join(s->shared, name);
        int one = path ? wr_fs_rmtree(path) : WR_ENOMEM; /* a stray folder goes too */
        if (one) rc = one;
        free(path);
    }
    if (d) closedir(d);
    free(refs);
    return rc;
}

/* Deletes the oldest checkpoints beyond num_retained: _metadata first, so a crash mid-delete
 * leaves a folder that the next open recognises as incomplete. */
static int s_retain(wr_ckpt_store_t *s)
{
    int rc = 0;
    while (s->count > s->num_retained && !rc) {
        char *path = wr_ckpt_store_path(s, s->history[0]->id);
        char *meta = path ? wr_fs_join(path, WR_CKPT_METADATA_FILE) : NULL;
        if (!meta)
            rc = WR_ENOMEM;
        else if (unlink(meta) != 0 && errno != ENOENT)
            rc = wr_fs_errno(errno);
        if (!rc) rc = wr_fs_fsync(path);
        if (!rc) {
            wr_ckpt_meta_destroy(&s->history[0]);
            memmove(s->history, s->history + 1, --s->count * sizeof *s->history);
            rc = wr_fs_rmtree(path);
        }
        free(meta);
        free(path);
    }
    return rc;
}

int wr__ckpt_store_reserve(wr_ckpt_store_t *s)
{
    if (s->count < s->cap) return 0;
    uint32_t cap = s->cap ? 2 * s->cap : 4;
    wr_ckpt_meta_t **h = realloc(s->history, cap * sizeof *h);
    if (!h) return WR_ENOMEM;
    s->history = h;
    s->cap = cap;
    return 0;
}

int wr__ckpt_store_commit(wr_ckpt_store_t *s, wr_ckpt_meta_t *m)
{
    assert(s->count < s->cap && "wr__ckpt_store_reserve first");
    s->history[s->count++] = m;
    int rc = s_retain(s);
    int gc = wr__ckpt_store_gc(s);
    return rc ? rc : gc;
}

static int s_cmp_meta(const void *a, const void *b)
{
    uint64_t x = (*(wr_ckpt_meta_t *const *)a)->id, y = (*(wr_ckpt_meta_t *const *)b)->id;
    return (x > y) - (x < y);
}

/* One entry of DIR/JOB: a completed checkpoint joins the history; leftovers are deleted. */
static int s_recover_entry(wr_ckpt_store_t *s, const char *name)
{
    uint64_t id = 0;
    const char *rest = NULL;
    if (!strcmp(name, WR_CKPT_AHEAD_DIR)) { /* subtasks' files of a run before this open */
        char *path = wr_fs_join(s->dir, name);
        if (path) (void)wr_fs_rmtree(path); /* (what stays, e.g. held open on NFS: only space) */
        free(path);
        return 0;
    }
    if (!s_parse_chk(name, &id, &rest)) return 0;
    bool done = *rest == '\0';
    if (!done && strncmp(rest, ".tmp-", 5) != 0) return 0; /* not ours: leave it */
    char *path = wr_fs_join(s->dir, name);
    if (!path) return WR_ENOMEM;
    int rc = 0;
    wr_ckpt_meta_t *m = done ? wr_ckpt_load(path, &rc) : NULL;
    if (!done || rc == WR_ENOTFOUND) {
        rc = wr_fs_rmtree(path);
    } else if (!rc) {
        if (m->id != id || strcmp(m->job, s->job) != 0 || m->kind != WR_CKPT_CHECKPOINT)
            rc = WR_EPROTO;
        if (!rc) rc = wr__ckpt_store_reserve(s);
        if (!rc) {
            s->history[s->count++] = m;
            m = NULL;
        }
    }
    wr_ckpt_meta_destroy(&m);
    free(path);
    return rc;
}

/* Names of the entries of dir, to act on after the scan (deleting while reading a directory
 * may skip entries). */
static int s_list_dir(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) return wr_fs_errno(errno);
    int rc = 0;
    *names = NULL;
    *n = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char **grown = realloc(*names, (*n + 1) * sizeof *grown);
        if (grown) *names = grown;
        if (!grown || !((*names)[*n] = strdup(e->d_name)))
            rc = WR_ENOMEM;
        else
            (*n)++;
    }
    closedir(d);
    return rc;
}

static int s_recover(wr_ckpt_store_t *s)
{
    char **names = NULL;
    size_t n = 0;
    int rc = s_list_dir(s->dir, &names, &n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s_recover_entry(s, names[i]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!rc && s->count > 1) qsort(s->history, s->count, sizeof *s->history, s_cmp_meta);
    if (!rc) rc = s_retain(s);
    if (!rc) rc = wr__ckpt_store_gc(s);
    if (!rc) rc = wr_fs_fsync(s->dir);
    return rc;
}

/* Replaces *path by its canonical absolute form, so that resolved paths are absolute. */
static int s_absolute(char **path)
{
    char *abs = realpath(*path, NULL);
    if (!abs) return wr_fs_errno(errno);
    free(*path);
    *path = abs;
    return 0;
}

wr_ckpt_store_t *wr_ckpt_store_open(const char *dir, const char *job, uint32_t num_retained,
                                    int *err)
{
    if (!dir || !job || !wr_ckpt_name_valid(job, strlen(job)) || num_retained == 0) {
        *err = WR_EINVAL;
        return NULL;
    }
    wr_ckpt_store_t *s = calloc(1, sizeof *s);
    int rc = s ? 0 : WR_ENOMEM;
    if (!rc) {
        s->num_retained = num_retained;
        s->job = strdup(job);
        s->dir = wr_fs_join(dir, job);
        s->shared = s->dir ? wr_fs_join(s->dir, WR_CKPT_SHARED_DIR) : NULL;
        if (!s->job || !s->shared) rc = WR_ENOMEM;
    }
    if (!rc) rc = wr_fs_mkdirs(s->shared);
    if (!rc) rc = s_absolute(&s->dir);
    if (!rc) rc = s_absolute(&s->shared);
    if (!rc) rc = s_recover(s);
    if (rc) wr_ckpt_store_destroy(&s);
    *err = rc;
    return s;
}

void wr_ckpt_store_destroy(wr_ckpt_store_t **p)
{
    if (!p || !*p) return;
    wr_ckpt_store_t *s = *p;
    assert(!s->pending && "complete or abort every pending checkpoint before destroying");
    for (uint32_t i = 0; i < s->count; i++)
        wr_ckpt_meta_destroy(&s->history[i]);
    free(s->history);
    free(s->shared);
    free(s->dir);
    free(s->job);
    free(s);
    *p = NULL;
}
