/* A subtask's checkpoints: its snapshot (the source's position, the window's state, the
 * exactly-once sinks' pending files), the barrier it passes on, its ack to the JobManager, the
 * commit when the checkpoint completes; and its restore (task.h, task_internal.h).
 *
 * State blobs (state/ckpt_meta.h) of one subtask:
 *   "source"  inline: the source's position (task_source.h)
 *   "window"  an exclusive file v<V>-s<S>-window: the window engine's snapshot (window_snap.h)
 *   "keys"    an exclusive file v<V>-s<S>-keys, string keys only: the key strings in id order,
 *             each a u32 length (little-endian) and its bytes; the snapshot holds their ids
 *   "sink-I"  inline: exactly-once sink I's pending files (sink.h); committed by the
 *             JobManager before a restore, so a restore never reads them here
 * The final checkpoint (WR_CKPT_FINAL, at the end of input) has inline blobs only: the window is
 * empty by then. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/keygroup.h"
#include "actors/dataflow/window_snap.h"
#include "actors/task_internal.h"
#include "bus/error.h"
#include "bus/log.h"
#include "bus/mp.h"
#include "bus/msgtypes.h"
#include "state/ckpt_store.h"

/* ---- snapshot ---- */

static uint32_t s_key_group(void *ctx, uint64_t key)
{
    const wr__chain_t *c = ctx;
    const wr__keys_t *ids = &c->win->ids;
    uint64_t h = ids->strings ? wr_hash_bytes(ids->str[key], ids->len[key]) : wr_hash_u64(key);
    return wr_key_group(h, c->topo->max_parallelism);
}

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
    wr_snap_writer_t *w = wr_snap_writer_new_fd(fd);
    if (!w) return WR_ENOMEM;
    wr_strbuf_t b;
    wr_strbuf_init(&b);
    int rc = 0;
    for (uint64_t i = 0; i < ids->n && !rc; i++) {
        uint8_t len[4] = {(uint8_t)ids->len[i], (uint8_t)(ids->len[i] >> 8), (uint8_t)(ids->len[i] >> 16),
                          (uint8_t)(ids->len[i] >> 24)};
        wr_strbuf_add(&b, (const char *)len, 4);
        wr_strbuf_add(&b, ids->str[i], ids->len[i]);
        if (b.len >= (1 << 20) || i + 1 == ids->n) {
            if (b.failed) rc = WR_ENOMEM;
            else if (write(fd, b.buf, b.len) != (ssize_t)b.len) rc = WR_EIO;
            wr_strbuf_reset(&b);
        }
    }
    wr_strbuf_release(&b);
    wr_snap_writer_destroy(&w);
    return rc;
}

/* The window's files into dir: v<V>-s<S>-window (and -keys). */
static int s_snapshot_window(wr__task_t *t, const char *dir, char *window_file, char *keys_file)
{
    wr__chain_t *c = &t->chain;
    snprintf(window_file, 64, "v%u-s%u-window", t->o.vertex, t->o.subtask);
    int fd = -1, rc = s_create(dir, window_file, &fd);
    if (rc) return rc;
    wr_snap_writer_t *w = wr_snap_writer_new_fd(fd);
    rc = w ? wr_window_snapshot(c->win->engine, t->topo->max_parallelism, s_key_group, c, w) : WR_ENOMEM;
    wr_snap_writer_destroy(&w);
    if (close(fd) && !rc) rc = WR_EIO;
    if (rc || !c->win->ids.strings) return rc;
    snprintf(keys_file, 64, "v%u-s%u-keys", t->o.vertex, t->o.subtask);
    if ((rc = s_create(dir, keys_file, &fd))) return rc;
    rc = s_write_keys(&c->win->ids, fd);
    if (close(fd) && !rc) rc = WR_EIO;
    return rc;
}

static void s_blob_inline(msgpack_packer *pk, const char *name, const void *data, size_t len)
{
    msgpack_pack_array(pk, 3);
    wr_pack_str(pk, name);
    msgpack_pack_uint8(pk, 0);
    msgpack_pack_bin(pk, len);
    msgpack_pack_bin_body(pk, data, len);
}

static void s_blob_file(msgpack_packer *pk, const char *name, const char *file)
{
    msgpack_pack_array(pk, 3);
    wr_pack_str(pk, name);
    msgpack_pack_uint8(pk, 1);
    wr_pack_str(pk, file);
}

int wr__task_checkpoint(wr__task_t *t, wr_actor_t *self, uint64_t id, const char *dir)
{
    wr__chain_t *c = &t->chain;
    if (id != WR_CKPT_FINAL && id <= t->last_checkpoint) return 0; /* seen already */
    if (id != WR_CKPT_FINAL) t->last_checkpoint = id;
    wr_strbuf_t src, sink[WR_TOPO_MAX_SINKS];
    wr_strbuf_init(&src);
    for (uint32_t i = 0; i < WR_TOPO_MAX_SINKS; i++) wr_strbuf_init(&sink[i]);
    char window_file[64] = "", keys_file[64] = "";
    int rc = t->source ? wr__source_snapshot(&t->src, &src) : 0;
    if (!rc && c->win && dir) rc = s_snapshot_window(t, dir, window_file, keys_file);
    for (uint32_t i = 0; !rc && i < c->nsinks; i++)
        if (c->sink_2pc[i]) rc = wr_sink_precommit(c->sinks[i], id, &sink[i]);
    /* the barrier follows everything the snapshot covers */
    if (!rc && t->out && !t->ended && id != WR_CKPT_FINAL) rc = wr_gate_out_barrier(t->out, self, id, dir);
    if (!rc) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        uint32_t nblobs = (t->source ? 1 : 0) + (window_file[0] ? 1 : 0) + (keys_file[0] ? 1 : 0);
        for (uint32_t i = 0; i < c->nsinks; i++) nblobs += c->sink_2pc[i];
        msgpack_pack_array(&pk, 7);
        wr_pack_str(&pk, t->o.job_id);
        msgpack_pack_uint32(&pk, t->o.attempt);
        msgpack_pack_uint32(&pk, t->o.vertex);
        msgpack_pack_uint32(&pk, t->o.subtask);
        msgpack_pack_uint64(&pk, id);
        msgpack_pack_array(&pk, nblobs);
        if (t->source) s_blob_inline(&pk, "source", src.buf, src.len);
        if (window_file[0]) s_blob_file(&pk, "window", window_file);
        if (keys_file[0]) s_blob_file(&pk, "keys", keys_file);
        for (uint32_t i = 0; i < c->nsinks; i++) {
            char name[16];
            snprintf(name, sizeof name, "sink-%u", i);
            if (c->sink_2pc[i]) s_blob_inline(&pk, name, sink[i].buf, sink[i].len);
        }
        msgpack_pack_int64(&pk, t->in ? wr_gate_in_alignment_ns(t->in) / 1000000 : 0);
        rc = wr_send(self, t->o.jm_addr, WR_MSG_CKPT_ACK, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    wr_strbuf_release(&src);
    for (uint32_t i = 0; i < WR_TOPO_MAX_SINKS; i++) wr_strbuf_release(&sink[i]);
    return rc;
}

int wr__task_checkpoint_complete(wr__task_t *t, wr_actor_t *self, uint64_t id)
{
    (void)self;
    wr__chain_t *c = &t->chain;
    for (uint32_t i = 0; i < c->nsinks; i++) {
        if (!c->sink_2pc[i]) continue;
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

/* The key groups subtask i of p owns: [lo, hi). */
static void s_key_groups(uint32_t maxp, uint32_t i, uint32_t p, uint32_t *lo, uint32_t *hi)
{
    *lo = maxp;
    *hi = 0;
    for (uint32_t kg = 0; kg < maxp; kg++) {
        if (wr_key_group_owner(kg, maxp, p) != i) continue;
        if (kg < *lo) *lo = kg;
        *hi = kg + 1;
    }
    if (*lo > *hi) *lo = *hi;
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
        uint32_t n = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 | (uint32_t)data[at + 2] << 16 |
                     (uint32_t)data[at + 3] << 24;
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

static int s_restore_window(wr__task_t *t, const wr_ckpt_meta_t *meta, wr_strbuf_t *err)
{
    wr__chain_t *c = &t->chain;
    uint32_t maxp = t->topo->max_parallelism, lo, hi;
    s_key_groups(maxp, t->o.subtask, t->v->parallelism, &lo, &hi);
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
        if (c->win->ids.strings != (keys != NULL)) rc = WR_EPROTO;
        else if (keys && (!keys->path || (rc = s_read_keys(&c->win->ids, keys->path, &map)))) rc = rc ? rc : WR_EPROTO;
        int fd = rc ? -1 : open(win->path, O_RDONLY | O_CLOEXEC);
        const uint8_t *data = NULL;
        size_t len = 0;
        if (!rc && fd < 0) rc = WR_EIO;
        if (!rc) rc = wr_snap_map(fd, &data, &len);
        if (fd >= 0) close(fd);
        if (!rc) rc = wr_window_restore(c->win->engine, data, len, a, b, keys ? s_map_key : NULL, &map);
        if (data) wr_snap_unmap(data, len);
        free(map.ids);
        if (rc) {
            wr_strbuf_addf(err, "checkpoint %llu: window state of subtask %u (%s): %s",
                           (unsigned long long)meta->id, ts->subtask, win->path, wr_strerror(rc));
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
        const wr_ckpt_blob_t *b = s_blob(ts, "source");
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
    if (!rc) rc = wr__source_restore(&t->src, states, lens, n, t->o.subtask, t->v->parallelism, err);
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
    if (!rc && t->chain.win) rc = s_restore_window(t, meta, err);
    if (!rc) t->last_checkpoint = meta->id;
    wr_ckpt_meta_destroy(&meta);
    return rc;
}
