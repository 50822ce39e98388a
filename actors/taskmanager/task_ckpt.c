/* A subtask's checkpoints: its snapshot (the source's position, the window's state, the
 * exactly-once sinks' pending files), the barrier it passes on, its ack to the JobManager, the
 * commit when the checkpoint completes; and its restore (task.h, task_internal.h).
 *
 * State blobs (state/ckpt_meta.h) of one subtask:
 *   "source"  inline: the source's splits and their positions (actors/connectors/split.h)
 *   "window"  an exclusive file v<V>-s<S>-window: the window engine's snapshot (window_snap.h):
 *             full, or (tumbling and sliding windows) the main part of an incremental one
 *   "wseg/P"  the segment of closed pane P that main references, shared:
 *             DIR/JOB/shared/<job>-<attempt>-v<V>-s<S>-p<P>-<id>.wseg (its id names its bytes),
 *             written by the first checkpoint after the pane closed (or after its file was lost)
 *             and referenced by every later one until the pane expires; after a restart at the
 *             same parallelism too (the restored engine goes on with them: their names keep the
 *             attempt that wrote them)
 *   "keys"    an exclusive file v<V>-s<S>-keys, string keys only: the key strings in id order,
 *             each a u32 length (little-endian) and its bytes; the snapshot holds their ids
 *   "rocks/F" the rocksdb backend's store checkpoint (window_rocks.h), file F of it: its SST
 *             files shared (DIR/JOB/shared/<job>-<attempt>-v<V>-s<S>-<sst>: immutable, so a
 *             checkpoint adds only the ones that are new: incremental), the others exclusive
 *   "sink-I"  inline: exactly-once sink I's committable (its precommit, connector.h); its
 *             committer commits it from the JobManager before a restore
 *             (actors/dataflow/job/job_connectors.h), so a restore never reads it here
 *   "drained" inline, empty: a source's mark in the checkpoint of `weir stop --drain`, after
 *             which every window has fired (the JobManager refuses to restore it)
 * The final checkpoint (WR_CKPT_FINAL, at the end of input) has inline blobs only: the window is
 * empty by then. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/dataflow/job/job_connectors.h"
#include "actors/dataflow/record/keygroup.h"
#include "actors/dataflow/window/window_snap.h"
#include "actors/taskmanager/task_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"
#include "actors/dataflow/window/window_rocks.h"
#include "bus/base/fs.h"
#include "state/ckpt_store.h"

/* ---- snapshot ---- */

/* Creates dir/name for writing. */
static int s_create(const char *dir, const char *name, int *fd)
{
    char path[WR_TASK_RESTORE_MAX + 64];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return WR_ETOOBIG;
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return *fd < 0 ? WR_EIO : 0;
}

static int s_write_keys(const wr__keys_t *ids, int fd)
{
    wr_strbuf_t b;
    wr_strbuf_init(&b);
    int rc = 0;
    for (uint64_t i = 0; i < ids->n && !rc; i++) {
        uint8_t len[4] = {(uint8_t)ids->len[i], (uint8_t)(ids->len[i] >> 8),
                          (uint8_t)(ids->len[i] >> 16), (uint8_t)(ids->len[i] >> 24)};
        wr_strbuf_add(&b, (const char *)len, 4);
        wr_strbuf_add(&b, ids->str[i], ids->len[i]);
        if (b.len >= (1 << 20) || i + 1 == ids->n) {
            if (b.failed)
                rc = WR_ENOMEM;
            else if (write(fd, b.buf, b.len) != (ssize_t)b.len)
                rc = WR_EIO;
            wr_strbuf_reset(&b);
        }
    }
    wr_strbuf_release(&b);
    return rc;
}

/* The memory backend's full window snapshot into dir/v<V>-s<S>-window. */
static int s_snapshot_window(wr__task_t *t, const char *dir, char *file)
{
    wr__chain_t *c = &t->chain;
    snprintf(file, 64, "v%u-s%u-window", t->o.vertex, t->o.subtask);
    int fd = -1, rc = s_create(dir, file, &fd);
    if (rc) return rc;
    wr_snap_writer_t *w = wr_snap_writer_new_fd(fd);
    rc = w ? wr_window_snapshot(c->win->engine, t->topo->max_parallelism, wr__chain_key_group, c, w)
           : WR_ENOMEM;
    wr_snap_writer_destroy(&w);
    if (close(fd) && !rc) rc = WR_EIO;
    return rc;
}

/* DIR/JOB/shared of a checkpoint's folder DIR/JOB/chk-N.tmp-X into out. */
static int s_shared_dir(const char *dir, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s", dir) >= cap) return WR_ETOOBIG;
    char *slash = strrchr(out, '/');
    if (!slash || (size_t)snprintf(slash, cap - (size_t)(slash - out), "/%s", WR_CKPT_SHARED_DIR) >=
                      cap - (size_t)(slash - out))
        return slash ? WR_ETOOBIG : WR_EINVAL;
    return 0;
}

/* The shared file of a window segment: names its bytes (window_snap.h: the id is a checksum). */
void wr__task_seg_name(const wr__task_t *t, const wr_window_seg_t *seg, char out[160])
{
    for (uint32_t i = 0; i < t->nadopted; i++)
        if (t->adopted[i].pane == seg->pane && t->adopted[i].id == seg->id) {
            memcpy(out, t->adopted[i].file, 160);
            return;
        }
    snprintf(out, 160, "%s-%u-v%u-s%u-p%lld-%016llx.wseg", t->o.job_id, t->o.attempt, t->o.vertex,
             t->o.subtask, (long long)seg->pane, (unsigned long long)seg->id);
}

/* String keys: the window's key strings in id order into dir/v<V>-s<S>-keys. */
static int s_snapshot_keys(wr__task_t *t, const char *dir, char *file)
{
    snprintf(file, 64, "v%u-s%u-keys", t->o.vertex, t->o.subtask);
    int fd = -1, rc = s_create(dir, file, &fd);
    if (rc) return rc;
    rc = s_write_keys(&t->chain.win->ids, fd);
    if (close(fd) && !rc) rc = WR_EIO;
    return rc;
}

/* The state blobs of a snapshot, for the ack (CKPT_ACK's wr_msg_ckpt_blob_t): inline data and file
 * names are copied into data, and the views point into it once it stops growing (s_blobs_seal). */
typedef struct {
    wr_msg_ckpt_blob_t *v;
    size_t *off; /* where each blob's bytes start in data */
    uint32_t n, cap;
    wr_strbuf_t data;
    int err;
} s_blobs_t;

static void s_blobs_release(s_blobs_t *b)
{
    free(b->v);
    free(b->off);
    wr_strbuf_release(&b->data);
}

static void s_blob_add(s_blobs_t *b, const char *name, wr_ckpt_blob_kind_t kind, const void *data,
                       size_t len)
{
    if (!b->err && b->n == b->cap) {
        uint32_t ncap = b->cap ? b->cap * 2 : 8;
        wr_msg_ckpt_blob_t *v = realloc(b->v, ncap * sizeof *v);
        if (v) b->v = v;
        size_t *off = v ? realloc(b->off, ncap * sizeof *off) : NULL;
        if (off) b->off = off;
        if (off)
            b->cap = ncap;
        else
            b->err = WR_ENOMEM;
    }
    if (b->err) return;
    wr_msg_ckpt_blob_t *x = &b->v[b->n];
    *x = (wr_msg_ckpt_blob_t){.kind = kind,
                              .data = {.len = len, .str = kind != WR_CKPT_BLOB_INLINE}};
    if ((size_t)snprintf(x->name, sizeof x->name, "%s", name) >= sizeof x->name) {
        b->err = WR_ETOOBIG; /* longer than the ack allows */
        return;
    }
    b->off[b->n++] = b->data.len;
    wr_strbuf_add(&b->data, data, len);
}

static void s_blob_inline(s_blobs_t *b, const char *name, const void *data, size_t len)
{
    s_blob_add(b, name, WR_CKPT_BLOB_INLINE, data, len);
}

static void s_blob_file(s_blobs_t *b, const char *name, wr_ckpt_blob_kind_t kind, const char *file)
{
    s_blob_add(b, name, kind, file, strlen(file));
}

/* Points the blobs' views into their data; 0 or the first failure of collecting them. */
static int s_blobs_seal(s_blobs_t *b)
{
    if (!b->err && b->data.failed) b->err = WR_ENOMEM;
    for (uint32_t i = 0; !b->err && i < b->n; i++)
        b->v[i].data.p = (const uint8_t *)b->data.buf + b->off[i];
    return b->err;
}

static bool s_ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* An incremental snapshot of the memory backend's window: the segments of panes closed since the
 * last one (and of any whose file is gone: the store deletes what no checkpoint references, e.g.
 * after an aborted one) and the main part, written in one pass over the keys
 * (wr_window_snapshot_incremental); the segments go to temp files in the checkpoint's folder and
 * are renamed into shared/ under their names once their ids are known. Not fsynced here: the
 * store fsyncs a shared file (and shared/) when the first checkpoint that references it
 * completes (ckpt_store.h). Blobs "window" and "wseg/<pane>". More live segments than an ack
 * can name: a full snapshot. */
static int s_snapshot_incremental(wr__task_t *t, const char *dir, s_blobs_t *bl)
{
    wr__chain_t *c = &t->chain;
    wr_window_t *e = c->win->engine;
    int64_t t0 = wr_now_ns();
    wr__task_ahead_finish(t); /* the segment being written ahead, if any */
    wr_window_seg_t *segs = malloc((WR_WINDOW_MAX_RING + 1) * sizeof *segs);
    char shared[WR_TASK_RESTORE_MAX + 16], file[64];
    int n = segs ? wr_window_segments(e, segs, WR_WINDOW_MAX_RING + 1) : WR_ENOMEM, rc = 0;
    if (n < 0 || n > WR__TASK_MAX_SEGS) {
        free(segs);
        rc = n < 0 && n != WR_ETOOBIG ? n : s_snapshot_window(t, dir, file);
        if (!rc) s_blob_file(bl, "window", WR_CKPT_BLOB_EXCLUSIVE, file);
        return rc;
    }
    wr_snap_writer_t *segw[WR__TASK_MAX_SEGS] = {0}, *mw = NULL;
    int fds[WR__TASK_MAX_SEGS], mfd = -1, written = 0;
    uint32_t ahead = 0;
    char tmp[WR__TASK_MAX_SEGS][64], name[160], path[sizeof shared + 168];
    if (!(rc = s_shared_dir(dir, shared, sizeof shared))) rc = wr_fs_mkdirs(shared);
    if (!rc) wr__task_ahead_take(t, shared, segs, (size_t)n, &ahead);
    for (int i = 0; i < n; i++) {
        fds[i] = -1;
        if (rc) continue;
        if (segs[i].id && !segs[i].due) {
            struct stat st;
            wr__task_seg_name(t, &segs[i], name);
            snprintf(path, sizeof path, "%s/%s", shared, name);
            segs[i].due = stat(path, &st) != 0; /* lost: written again */
        }
        if (!segs[i].due) continue;
        snprintf(tmp[i], sizeof tmp[i], "v%u-s%u-segment-%d.tmp", t->o.vertex, t->o.subtask, i);
        if (!(rc = s_create(dir, tmp[i], &fds[i])) && !(segw[i] = wr_snap_writer_new_fd(fds[i])))
            rc = WR_ENOMEM;
        written++;
    }
    snprintf(file, sizeof file, "v%u-s%u-window", t->o.vertex, t->o.subtask);
    if (!rc && !(rc = s_create(dir, file, &mfd)) && !(mw = wr_snap_writer_new_fd(mfd)))
        rc = WR_ENOMEM;
    if (!rc)
        rc = wr_window_snapshot_incremental(e, segs, (size_t)n, t->topo->max_parallelism,
                                            wr__chain_key_group, c, segw, mw);
    wr_snap_writer_destroy(&mw);
    if (mfd >= 0 && close(mfd) && !rc) rc = WR_EIO;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0) continue;
        wr_snap_writer_destroy(&segw[i]);
        if (close(fds[i]) && !rc) rc = WR_EIO;
        char from[WR_TASK_RESTORE_MAX + 64];
        snprintf(from, sizeof from, "%s/%.63s", dir, tmp[i]); /* tmp[i]: 63 at most */
        wr__task_seg_name(t, &segs[i], name);
        snprintf(path, sizeof path, "%s/%s", shared, name);
        if (!rc && rename(from, path)) rc = WR_EIO;
        if (rc) unlink(from);
    }
    if (!rc) s_blob_file(bl, "window", WR_CKPT_BLOB_EXCLUSIVE, file);
    for (int i = 0; i < n && !rc; i++) {
        if (!segs[i].id) continue;
        char blob[48];
        wr__task_seg_name(t, &segs[i], name);
        snprintf(blob, sizeof blob, "wseg/%lld", (long long)segs[i].pane);
        s_blob_file(bl, blob, WR_CKPT_BLOB_SHARED, name);
    }
    wr_info("subtask %u.%u: window checkpoint: %d new of %d segments (%u more written ahead) and "
            "the main in %lld ms",
            t->o.vertex, t->o.subtask, written, n, ahead, (long long)(wr_now_ns() - t0) / 1000000);
    free(segs);
    return rc;
}

/* The rocksdb backend: the store's checkpoint, its SST files linked into DIR/JOB/shared (once:
 * a name there always means the same bytes), the rest copied into the checkpoint's folder; blobs
 * into bl. */
static int s_snapshot_rocks(wr__task_t *t, uint64_t id, const char *dir, s_blobs_t *bl)
{
    wr__window_t *w = t->chain.win;
    char local[sizeof w->state_dir + 32], shared[WR_TASK_RESTORE_MAX + 16];
    snprintf(local, sizeof local, "%s-ckpt-%llu", w->state_dir, (unsigned long long)id);
    int rc = s_shared_dir(dir, shared, sizeof shared);
    if (rc) return rc;
    wr_fs_rmtree(local);
    wr_panestore_files_t files = {0};
    rc = wr_window_rocks_checkpoint(w->engine, local, &files);
    if (!rc) rc = wr_fs_mkdirs(shared);
    for (size_t i = 0; !rc && i < files.n; i++) {
        const char *f = files.v[i].name, *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
        char src[sizeof local + 80], dst[sizeof shared + 192], stored[160], name[80];
        snprintf(src, sizeof src, "%s/%s", local, f);
        snprintf(name, sizeof name, "rocks/%s", f);
        bool sst = s_ends_with(f, ".sst");
        if (sst)
            snprintf(stored, sizeof stored, "%s-%u-v%u-s%u-%s", t->o.job_id, t->o.attempt,
                     t->o.vertex, t->o.subtask, base);
        else
            snprintf(stored, sizeof stored, "v%u-s%u-rocks-%s", t->o.vertex, t->o.subtask, base);
        snprintf(dst, sizeof dst, "%s/%s", sst ? shared : dir, stored);
        rc = sst ? wr_fs_link_or_copy(src, dst) : wr_fs_copy(src, dst);
        if (rc == WR_EEXIST && sst) rc = 0; /* taken by an earlier checkpoint: nothing to add */
        if (!rc) s_blob_file(bl, name, sst ? WR_CKPT_BLOB_SHARED : WR_CKPT_BLOB_EXCLUSIVE, stored);
    }
    wr_panestore_files_release(&files);
    wr_fs_rmtree(local);
    return rc;
}

/* The state's blobs into bl: source position, window, exactly-once sinks. */
static int s_snapshot(wr__task_t *t, uint64_t id, const char *dir, s_blobs_t *bl)
{
    wr__chain_t *c = &t->chain;
    wr_strbuf_t b;
    wr_strbuf_init(&b);
    int rc = t->source ? wr__source_snapshot(&t->src, id, &b) : 0;
    if (!rc && t->source) s_blob_inline(bl, WR_JOB_SOURCE_STATE, b.buf, b.len);
    if (!rc && t->drained)
        s_blob_inline(bl, "drained", "", 0); /* a mark: the JobManager refuses to restore it */
    char file[64];
    if (!rc && c->win && dir) { /* (the final checkpoint's windows are empty) */
        if (c->win->state_dir[0]) {
            rc = s_snapshot_rocks(t, id, dir, bl);
        } else if (wr_window_incremental(c->win->engine)) {
            rc = s_snapshot_incremental(t, dir, bl);
        } else if (!(rc = s_snapshot_window(t, dir, file))) {
            s_blob_file(bl, "window", WR_CKPT_BLOB_EXCLUSIVE, file);
        }
        if (!rc && c->win->ids.strings && !(rc = s_snapshot_keys(t, dir, file)))
            s_blob_file(bl, "keys", WR_CKPT_BLOB_EXCLUSIVE, file);
    }
    for (uint32_t i = 0; !rc && i < c->nsinks; i++) {
        if (!wr_sink_exactly_once(c->sinks[i])) {
            rc = wr_sink_barrier(c->sinks[i], id);
            continue;
        }
        wr_strbuf_reset(&b);
        if ((rc = wr_sink_precommit(c->sinks[i], id, &b))) break;
        char name[16];
        wr_job_sink_state_name(i, name);
        s_blob_inline(bl, name, b.buf, b.len);
    }
    if (!rc && c->late_sink) rc = wr_sink_barrier(c->late_sink, id);
    if (!rc && b.failed) rc = WR_ENOMEM;
    wr_strbuf_release(&b);
    return rc;
}

int wr__task_checkpoint(wr__task_t *t, wr_actor_t *self, uint64_t id, const char *dir)
{
    if (id != WR_CKPT_FINAL && id <= t->last_checkpoint) return 0; /* seen already */
    if (id != WR_CKPT_FINAL) t->last_checkpoint = id;
    s_blobs_t bl = {0};
    wr_strbuf_init(&bl.data);
    int rc = s_snapshot(t, id, dir, &bl);
    /* the barrier follows everything the snapshot covers */
    if (!rc && t->out && !t->ended && id != WR_CKPT_FINAL)
        rc = wr_gate_out_barrier(t->out, self, id, dir);
    if (!rc) rc = s_blobs_seal(&bl);
    if (!rc) {
        wr_msg_ckpt_ack_t ack = {.attempt = t->o.attempt,
                                 .vertex = t->o.vertex,
                                 .subtask = t->o.subtask,
                                 .checkpoint = id,
                                 .blobs = {bl.v, bl.n},
                                 .alignment_ms =
                                     t->in ? wr_gate_in_alignment_ns(t->in) / 1000000 : 0};
        memcpy(ack.job, t->o.job_id, sizeof ack.job);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        rc = wr_msg_ckpt_ack_pack(&ack, &sb);
        if (!rc) rc = wr_send(self, t->o.jm_addr, WR_MSG_CKPT_ACK, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    s_blobs_release(&bl);
    return rc;
}

int wr__task_checkpoint_complete(wr__task_t *t, wr_actor_t *self, uint64_t id)
{
    (void)self;
    wr__chain_t *c = &t->chain;
    if (t->source) wr__source_checkpoint_done(&t->src, id);
    for (uint32_t i = 0; i < c->nsinks; i++) {
        if (!wr_sink_exactly_once(c->sinks[i])) continue;
        if (id == WR_CKPT_FINAL && !t->o.checkpointing) { /* no checkpoints: the end commits */
            wr_strbuf_t st;
            wr_strbuf_init(&st);
            int rc = wr_sink_precommit(c->sinks[i], id, &st);
            wr_strbuf_release(&st);
            if (rc) return rc;
        }
        int rc = wr_sink_commit(c->sinks[i], id);
        if (rc) return rc;
    }
    return 0;
}

/* ---- restore ---- */

static const wr_ckpt_blob_t *s_blob(const wr_ckpt_task_t *ts, const char *name)
{
    for (uint32_t b = 0; b < ts->nblobs; b++)
        if (!strcmp(ts->blobs[b].name, name)) return &ts->blobs[b];
    return NULL;
}

typedef struct {
    uint64_t *ids; /* old id -> new id */
    uint64_t n;
} s_keymap_t;

static uint64_t s_map_key(void *ctx, uint64_t key)
{
    const s_keymap_t *m = ctx;
    return key < m->n ? m->ids[key] : UINT64_MAX; /* out of range: the restore rejects it */
}

/* Interns the strings of a keys file; m maps its ids to ours. */
static int s_read_keys(wr__keys_t *ids, const char *path, s_keymap_t *m)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return WR_EIO;
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc = wr_snap_map(fd, &data, &len);
    close(fd);
    if (rc == WR_EPROTO) return 0; /* empty: no keys */
    if (rc) return rc;
    for (size_t at = 0; !rc && at < len;) {
        if (len - at < 4) {
            rc = WR_EPROTO;
            break;
        }
        uint32_t n = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 |
                     (uint32_t)data[at + 2] << 16 | (uint32_t)data[at + 3] << 24;
        at += 4;
        if (n > len - at) {
            rc = WR_EPROTO;
            break;
        }
        if ((m->n & (m->n + 1)) == 0 || !m->ids) { /* grow at powers of two */
            uint64_t *g = realloc(m->ids, (m->n + 1) * 2 * sizeof *g);
            if (!g) {
                rc = WR_ENOMEM;
                break;
            }
            m->ids = g;
        }
        rc = wr__keys_id(ids, (const char *)data + at, n, &m->ids[m->n]);
        m->n++;
        at += n;
    }
    wr_snap_unmap(data, len);
    return rc;
}

/* The rocksdb backend: the one old subtask's store checkpoint that holds our key groups, laid
 * out again as window_rocks.h wants it (links), restored into a new engine. */
static int s_restore_rocks(wr__task_t *t, const wr_ckpt_task_t *ts, uint32_t lo, uint32_t hi,
                           wr_strbuf_t *err)
{
    wr__window_t *w = t->chain.win;
    char tmp[sizeof w->state_dir + 16];
    snprintf(tmp, sizeof tmp, "%s-restore", w->state_dir);
    wr_fs_rmtree(tmp);
    int rc = 0;
    for (uint32_t b = 0; !rc && b < ts->nblobs; b++) {
        const wr_ckpt_blob_t *blob = &ts->blobs[b];
        if (strncmp(blob->name, "rocks/", 6)) continue;
        char dst[sizeof tmp + 256];
        if (!blob->path || strstr(blob->name, "..") ||
            (size_t)snprintf(dst, sizeof dst, "%s/%s", tmp, blob->name + 6) >= sizeof dst) {
            rc = WR_EPROTO;
            break;
        }
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        rc = wr_fs_mkdirs(dst);
        *slash = '/';
        if (!rc) rc = wr_fs_link_or_copy(blob->path, dst);
    }
    if (!rc) { /* the fresh engine made at start gives way to the restored one */
        wr_window_destroy(&w->engine);
        wr_fs_rmtree(w->state_dir);
        w->engine = wr_window_rocks_restore(&w->spec, tmp, lo, hi, &rc);
    }
    wr_fs_rmtree(tmp);
    if (rc) wr_strbuf_addf(err, "rocksdb state of subtask %u: %s", ts->subtask, wr_strerror(rc));
    return rc;
}

/* Whether keys keep their ids through m (a fresh table interned the old ids in order). */
static bool s_same_ids(const s_keymap_t *m)
{
    for (uint64_t i = 0; i < m->n; i++)
        if (m->ids[i] != i) return false;
    return true;
}

/* Whether ts is the only state of t's window vertex in meta that t's key groups [lo, hi) read,
 * and holds exactly those: a restart at the same parallelism, whose engine can take over the
 * segments of ts's main. */
static bool s_going_on(const wr__task_t *t, const wr_ckpt_meta_t *meta, const wr_ckpt_task_t *ts,
                       uint32_t lo, uint32_t hi)
{
    if (ts->kg_lo != lo || ts->kg_hi != hi) return false;
    for (uint32_t k = 0; k < meta->ntasks; k++) {
        const wr_ckpt_task_t *o = &meta->tasks[k];
        if (o != ts && o->vertex == t->o.vertex && o->kg_lo < hi && o->kg_hi > lo &&
            s_blob(o, "window"))
            return false;
    }
    return true;
}

/* After an engine took over the segments of ts's main: their files' names, for the next
 * checkpoints (wr__task_seg_name). */
static void s_adopt_names(wr__task_t *t, const wr_ckpt_task_t *ts)
{
    wr_window_seg_t *segs = t->ahead.segs; /* scratch */
    int n = wr_window_segments(t->chain.win->engine, segs, WR__TASK_MAX_SEGS);
    t->nadopted = 0;
    for (int i = 0; i < n; i++) {
        char blob[48];
        snprintf(blob, sizeof blob, "wseg/%lld", (long long)segs[i].pane);
        const wr_ckpt_blob_t *b = segs[i].id ? s_blob(ts, blob) : NULL;
        if (!b || !b->file || strlen(b->file) >= sizeof t->adopted[0].file) continue;
        wr__task_adopted_t *a = &t->adopted[t->nadopted++]; /* (not named: written again) */
        a->pane = segs[i].pane;
        a->id = segs[i].id;
        snprintf(a->file, sizeof a->file, "%s", b->file);
    }
    wr_info("subtask %u.%u: the restored window goes on with %u segments of checkpoint %s",
            t->o.vertex, t->o.subtask, t->nadopted, t->o.restore);
}

static int s_restore_window(wr__task_t *t, const wr_ckpt_meta_t *meta, wr_strbuf_t *err)
{
    wr__chain_t *c = &t->chain;
    uint32_t maxp = t->topo->max_parallelism, lo, hi;
    wr_key_group_range(maxp, t->o.subtask, t->v->parallelism, &lo, &hi);
    bool rocks = c->win->state_dir[0] != '\0';
    for (uint32_t k = 0; k < meta->ntasks; k++) {
        const wr_ckpt_task_t *ts = &meta->tasks[k];
        if (ts->vertex != t->o.vertex || ts->kg_lo >= hi || ts->kg_hi <= lo) continue;
        bool mem = s_blob(ts, "window") != NULL, has_rocks = false;
        for (uint32_t b = 0; b < ts->nblobs; b++)
            has_rocks |= !strncmp(ts->blobs[b].name, "rocks/", 6);
        if ((rocks && mem) || (!rocks && has_rocks)) {
            wr_strbuf_addf(
                err,
                "checkpoint %llu holds %s window state; restore it with state.backend: %s "
                "(the two do not convert)",
                (unsigned long long)meta->id, mem ? "memory-backend" : "rocksdb",
                mem ? "memory" : "rocksdb");
            return WR_EINVAL;
        }
        if (!rocks || !has_rocks) continue;
        if (ts->kg_lo > lo || ts->kg_hi < hi) {
            wr_strbuf_addf(
                err,
                "checkpoint %llu: rocksdb window state cannot merge several subtasks' "
                "stores (scaling in from %u subtasks): restore at %u subtasks or more, or use "
                "state.backend: memory",
                (unsigned long long)meta->id, ts->parallelism, ts->parallelism);
            return WR_EINVAL;
        }
        int rc = 0;
        const wr_ckpt_blob_t *keys = s_blob(ts, "keys");
        s_keymap_t map = {0};
        if (c->win->ids.strings &&
            (!keys || !keys->path || (rc = s_read_keys(&c->win->ids, keys->path, &map))))
            rc = rc ? rc : WR_EPROTO; /* a fresh table interns them under their old ids */
        free(map.ids);
        if (!rc) rc = s_restore_rocks(t, ts, lo, hi, err);
        return rc;
    }
    if (rocks) return 0;
    for (uint32_t k = 0; k < meta->ntasks; k++) {
        const wr_ckpt_task_t *ts = &meta->tasks[k];
        const wr_ckpt_blob_t *win = ts->vertex == t->o.vertex ? s_blob(ts, "window") : NULL;
        uint32_t a = ts->kg_lo > lo ? ts->kg_lo : lo, b = ts->kg_hi < hi ? ts->kg_hi : hi;
        if (!win || a >= b) continue;
        if (!win->path) {
            wr_strbuf_addf(err, "checkpoint %llu: window state of subtask %u is not a file",
                           (unsigned long long)meta->id, ts->subtask);
            return WR_EPROTO;
        }
        s_keymap_t map = {0};
        const wr_ckpt_blob_t *keys = s_blob(ts, "keys");
        int rc = 0;
        if (c->win->ids.strings != (keys != NULL))
            rc = WR_EPROTO;
        else if (keys && (!keys->path || (rc = s_read_keys(&c->win->ids, keys->path, &map))))
            rc = rc ? rc : WR_EPROTO;
        const uint8_t *data = NULL;
        size_t len = 0;
        wr_snap_part_t segs[WR__TASK_MAX_SEGS];
        size_t nsegs = 0;
        if (!rc) rc = wr_snap_map_path(win->path, &data, &len);
        for (uint32_t i = 0; !rc && i < ts->nblobs; i++) { /* an incremental one's segments */
            const wr_ckpt_blob_t *sb = &ts->blobs[i];
            if (strncmp(sb->name, "wseg/", 5)) continue;
            if (nsegs == WR__TASK_MAX_SEGS || sb->kind != WR_CKPT_BLOB_SHARED || !sb->path)
                rc = WR_EPROTO;
            else if (!(rc = wr_snap_map_path(sb->path, &segs[nsegs].data, &segs[nsegs].len)))
                nsegs++;
        }
        bool going_on = !rc && s_going_on(t, meta, ts, lo, hi) && (!keys || s_same_ids(&map)),
             adopted = false;
        if (!rc && going_on)
            rc = wr_window_restore_going_on(c->win->engine, data, len, segs, nsegs, a, b, &adopted);
        else if (!rc)
            rc = wr_window_restore_parts(c->win->engine, data, len, segs, nsegs, a, b,
                                         keys ? s_map_key : NULL, &map);
        if (!rc && adopted) s_adopt_names(t, ts);
        if (data) wr_snap_unmap(data, len);
        for (size_t i = 0; i < nsegs; i++)
            wr_snap_unmap(segs[i].data, segs[i].len);
        free(map.ids);
        if (rc) {
            wr_strbuf_addf(err, "checkpoint %llu: window state of subtask %u (%s): %s",
                           (unsigned long long)meta->id, ts->subtask, win->path,
                           rc == WR_EINVAL ? "not this job's window (its kind, size, slide, "
                                             "lateness, aggregates or max parallelism differ)"
                                           : wr_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int s_restore_source(wr__task_t *t, const wr_ckpt_meta_t *meta, wr_strbuf_t *err)
{
    const uint8_t **states = calloc(meta->ntasks + 1, sizeof *states);
    size_t *lens = calloc(meta->ntasks + 1, sizeof *lens);
    uint32_t n = 0;
    int rc = states && lens ? 0 : WR_ENOMEM;
    /* old subtasks in order (the metadata may list them in any order) */
    for (uint32_t sub = 0; !rc && n < meta->ntasks; sub++) {
        const wr_ckpt_task_t *ts = wr_ckpt_meta_task(meta, t->o.vertex, sub);
        if (!ts) break;
        const wr_ckpt_blob_t *b = s_blob(ts, WR_JOB_SOURCE_STATE);
        if (!b || b->kind != WR_CKPT_BLOB_INLINE) {
            wr_strbuf_addf(err, "checkpoint %llu: no source position for subtask %u of vertex %u",
                           (unsigned long long)meta->id, sub, t->o.vertex);
            rc = WR_EPROTO;
            break;
        }
        states[n] = b->data;
        lens[n++] = b->len;
    }
    if (!rc && !n) {
        wr_strbuf_addf(err, "checkpoint %llu holds no state of vertex %u (a source): another job?",
                       (unsigned long long)meta->id, t->o.vertex);
        rc = WR_EPROTO;
    }
    if (!rc) rc = wr__source_restore(&t->src, states, lens, n, err);
    free(states);
    free(lens);
    return rc;
}

int wr__task_restore(wr__task_t *t, wr_strbuf_t *err)
{
    int rc = 0;
    wr_ckpt_meta_t *meta = wr_ckpt_load(t->o.restore, &rc);
    if (!meta) {
        wr_strbuf_addf(err, "cannot read checkpoint %s: %s", t->o.restore, wr_strerror(rc));
        return rc;
    }
    if (t->source) rc = s_restore_source(t, meta, err);
    if (!rc && t->chain.win) {
        int64_t t0 = wr_now_ns();
        wr_window_stats_t st;
        if (!(rc = s_restore_window(t, meta, err))) {
            wr_window_stats(t->chain.win->engine, &st);
            wr_info("subtask %u.%u: window state of checkpoint %llu restored in %lld ms: %llu "
                    "keys, %llu panes in memory (rocksdb: the open panes)",
                    t->o.vertex, t->o.subtask, (unsigned long long)meta->id,
                    (long long)(wr_now_ns() - t0) / 1000000, (unsigned long long)st.keys_live,
                    (unsigned long long)st.panes_live);
        }
    }
    wr_ckpt_meta_destroy(&meta);
    return rc;
}
