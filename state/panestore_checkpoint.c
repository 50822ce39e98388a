/* Pane store checkpoints: RocksDB's checkpoint object (hard links to the immutable SST files plus
 * a fresh MANIFEST), then which of its files are new since the previous checkpoint. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bus/base/error.h"
#include "state/panestore_int.h"

static size_t s_known_pos(const wr_panestore_t *s, uint64_t num)
{
    size_t lo = 0, hi = s->nknown;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->known[mid] < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int s_known_reserve(wr_panestore_t *s, size_t more)
{
    if (s->nknown + more <= s->cap_known) return 0;
    size_t cap = s->cap_known ? 2 * s->cap_known : 64;
    while (cap < s->nknown + more)
        cap *= 2;
    uint64_t *k = realloc(s->known, cap * sizeof *k);
    if (!k) return WR_ENOMEM;
    s->known = k;
    s->cap_known = cap;
    return 0;
}

/* Marks SST file number num as reported; returns 0 or WR_ENOMEM. */
int wr__panestore_known_add(wr_panestore_t *s, uint64_t num)
{
    size_t i = s_known_pos(s, num);
    if (i < s->nknown && s->known[i] == num) return 0;
    if (s_known_reserve(s, 1)) return WR_ENOMEM;
    memmove(s->known + i + 1, s->known + i, (s->nknown - i) * sizeof *s->known);
    s->known[i] = num;
    s->nknown++;
    return 0;
}

/* "000123.sst" -> 123; false for any other name. */
static bool s_sst_number(const char *name, uint64_t *num)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(name, &end, 10);
    if (end == name || errno || strcmp(end, ".sst")) return false;
    *num = v;
    return true;
}

void wr_panestore_files_release(wr_panestore_files_t *f)
{
    if (!f) return;
    free(f->v);
    memset(f, 0, sizeof *f);
}

static int s_list(wr_panestore_t *s, const char *dir, wr_panestore_files_t *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(s->errmsg, sizeof s->errmsg, "opendir %s: %s", dir, strerror(errno));
        return WR_EIO;
    }
    int e = 0;
    size_t cap = 0;
    char path[4096];
    struct dirent *de;
    while (!e && (de = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) || !S_ISREG(st.st_mode)) continue;
        if (strlen(de->d_name) >= sizeof out->v->name) {
            e = WR_ETOOBIG;
            break;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            wr_panestore_file_t *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                e = WR_ENOMEM;
                break;
            }
            out->v = v;
        }
        wr_panestore_file_t *f = &out->v[out->n++];
        memcpy(f->name, de->d_name, strlen(de->d_name) + 1); /* length checked above */
        f->bytes = (uint64_t)st.st_size;
        uint64_t num;
        bool sst = s_sst_number(de->d_name, &num);
        size_t i = sst ? s_known_pos(s, num) : 0;
        /* new: not an SST, or an SST never reported */
        f->is_new = !sst || i == s->nknown || s->known[i] != num;
        out->total_bytes += f->bytes;
        if (f->is_new) out->new_bytes += f->bytes;
    }
    closedir(d);
    /* only a complete listing marks its SST files as reported (room first: then it cannot fail) */
    if (!e) e = s_known_reserve(s, out->n);
    for (size_t i = 0; i < out->n && !e; i++) {
        uint64_t num;
        if (out->v[i].is_new && s_sst_number(out->v[i].name, &num))
            e = wr__panestore_known_add(s, num);
    }
    return e;
}

int wr_panestore_checkpoint(wr_panestore_t *s, const char *dir, wr_panestore_files_t *out)
{
    if (!out) return WR_EINVAL;
    memset(out, 0, sizeof *out);
    if (!s || !dir) return WR_EINVAL;
    char *rerr = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(s->db, &rerr);
    if (!cp) return wr__panestore_fail(s, rerr);
    rocksdb_checkpoint_create(cp, dir, 0, &rerr); /* 0: always flush the memtable first */
    rocksdb_checkpoint_object_destroy(cp);
    if (rerr) return wr__panestore_fail(s, rerr);
    int e = s_list(s, dir, out);
    if (e) wr_panestore_files_release(out);
    return e;
}
