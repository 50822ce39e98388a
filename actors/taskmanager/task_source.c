/* A subtask's source (see task_source.h). */
#include "actors/taskmanager/task_source.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"

#define S_READ_CHUNK (1 << 16)
#define S_BATCH_CAP  4096

enum { S_KIND_GENERATOR = 1, S_KIND_FILE = 2 };

static int s_streams_reserve(wr__source_t *s, uint32_t n)
{
    wr__stream_t *p = realloc(s->streams, (size_t)(n ? n : 1) * sizeof *p);
    if (!p) return WR_ENOMEM;
    s->streams = p;
    return 0;
}

int wr__source_init(wr__source_t *s, const wr_topology_t *topo, int index, uint32_t subtask,
                    uint32_t parallelism, wr_strbuf_t *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->max_ts = INT64_MIN;
    s->src = &topo->sources[index];
    s->parallelism = parallelism;
    s->ts_field = topo->event_time.field[0] ? wr_schema_find(&topo->schema, topo->event_time.field) : -1;
    if (!(s->batch = wr_batch_new(&topo->schema, S_BATCH_CAP))) return WR_ENOMEM;
    if (s->src->kind == WR_TOPO_SOURCE_GENERATOR) {
        if (!(s->gen = wr_generator_new(&s->src->generator))) {
            wr_strbuf_adds(err, "generator: invalid configuration");
            return WR_EINVAL;
        }
        s->total = wr_generator_total(s->gen);
        if (s_streams_reserve(s, 1)) return WR_ENOMEM;
        s->streams[0] = (wr__stream_t){.next = subtask, .stride = parallelism};
        s->nstreams = subtask < s->total ? 1 : 0;
        return 0;
    }
    wr_textin_options_t to = {.format = s->src->format, .header = s->src->header,
                              .on_error = s->src->on_error, .name = s->src->path};
    s->text = wr_textin_new(&topo->schema, &to);
    s->buf = malloc(S_READ_CHUNK * 2);
    if (!s->text || !s->buf) return WR_ENOMEM;
    s->fd = open(s->src->path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        wr_strbuf_addf(err, "file source: cannot open %s: %s", s->src->path, strerror(errno));
        return WR_EIO;
    }
    return 0;
}

void wr__source_release(wr__source_t *s)
{
    wr_generator_destroy(&s->gen);
    free(s->streams);
    wr_textin_destroy(&s->text);
    if (s->fd >= 0) close(s->fd);
    free(s->buf);
    wr_batch_destroy(&s->batch);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* Offsets of stream st below limit. */
static uint64_t s_left(const wr__stream_t *st, uint64_t limit)
{
    return st->next >= limit ? 0 : (limit - st->next - 1) / st->stride + 1;
}

/* Two streams that interleave exactly, (x, 2d) and (x + d, 2d), are one: (x, d). */
static void s_merge_streams(wr__source_t *s)
{
    for (bool merged = true; merged;) {
        merged = false;
        for (uint32_t i = 0; i < s->nstreams && !merged; i++) {
            for (uint32_t j = 0; j < s->nstreams && !merged; j++) {
                wr__stream_t *a = &s->streams[i], *b = &s->streams[j];
                if (i == j || a->stride != b->stride || a->stride % 2 || b->next != a->next + a->stride / 2)
                    continue;
                a->stride /= 2;
                s->streams[j] = s->streams[--s->nstreams];
                merged = true;
            }
        }
    }
}

/* Fills the batch with the streams' next records in offset order (event time then stays in
 * order as in one stream): runs of the stream furthest behind up to the next one's offset. */
static int s_generator_next(wr__source_t *s, uint32_t max, uint64_t elapsed_ns, bool *done, bool *wait)
{
    if (!s->nstreams) {
        *done = true;
        return 0;
    }
    if (s->nstreams > 1) s_merge_streams(s);
    uint64_t due = wr_generator_due(s->gen, elapsed_ns);
    if (due != UINT64_MAX) due = due > UINT64_MAX - s->pace_base ? UINT64_MAX : due + s->pace_base;
    uint64_t limit = due < s->total ? due : s->total;
    uint32_t filled = 0;
    while (filled < max && s->nstreams) {
        uint32_t k = 0; /* the stream furthest behind, and where the next one stands */
        uint64_t second = limit;
        for (uint32_t i = 1; i < s->nstreams; i++) {
            if (s->streams[i].next < s->streams[k].next) {
                if (s->streams[k].next < second) second = s->streams[k].next;
                k = i;
            } else if (s->streams[i].next < second) {
                second = s->streams[i].next;
            }
        }
        wr__stream_t *st = &s->streams[k];
        uint64_t n = s_left(st, second);
        if (!n) break; /* paced: nothing more due yet */
        if (n > max - filled) n = max - filled;
        int rc = wr_generator_fill_strided(s->gen, st->next, st->stride, (uint32_t)n, s->batch);
        if (rc) return rc;
        st->next += n * st->stride;
        filled += (uint32_t)n;
        if (st->next >= s->total) s->streams[k] = s->streams[--s->nstreams]; /* exhausted */
        if (s->nstreams > 1) s_merge_streams(s);
    }
    if (!filled) {
        if (s->nstreams) *wait = true;
        else *done = true;
    }
    return 0;
}

static int s_file_next(wr__source_t *s, bool *done)
{
    for (;;) {
        size_t used = 0;
        int rc = wr_textin_parse(s->text, s->buf, s->buf_len, s->eof, s->batch, NULL, &used);
        memmove(s->buf, s->buf + used, s->buf_len - used);
        s->buf_len -= used;
        if (rc) return rc;
        if (s->batch->count) return 0;
        if (s->eof) {
            *done = true;
            return 0;
        }
        /* a full buffer the parser took nothing from: one line longer than the buffer */
        if (s->buf_len == S_READ_CHUNK * 2) return WR_ETOOBIG;
        ssize_t got = read(s->fd, s->buf + s->buf_len, S_READ_CHUNK * 2 - s->buf_len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return WR_EIO;
        if (got == 0) s->eof = true;
        s->buf_len += (size_t)got;
    }
}

int wr__source_next(wr__source_t *s, uint32_t max, uint64_t elapsed_ns, bool *done, bool *wait)
{
    wr_batch_clear(s->batch);
    *done = *wait = false;
    if (max > s->batch->cap) max = s->batch->cap;
    int rc = s->gen ? s_generator_next(s, max, elapsed_ns, done, wait) : s_file_next(s, done);
    if (!rc && s->ts_field >= 0) {
        const int64_t *ts = s->batch->col[s->ts_field];
        for (uint32_t i = 0; i < s->batch->count; i++)
            if (ts[i] > s->max_ts) s->max_ts = ts[i];
    }
    return rc;
}

/* ---- checkpoints ---- */

static int s_sbuf_write(void *data, const char *buf, size_t len)
{
    wr_strbuf_add(data, buf, len);
    return 0;
}

/* [kind, max_ts, [[next, stride]...]] or [kind, max_ts, [offset, lines]] */
int wr__source_snapshot(const wr__source_t *s, wr_strbuf_t *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, s_sbuf_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint8(&pk, s->gen ? S_KIND_GENERATOR : S_KIND_FILE);
    msgpack_pack_int64(&pk, s->max_ts);
    if (s->gen) {
        msgpack_pack_array(&pk, s->nstreams);
        for (uint32_t i = 0; i < s->nstreams; i++) {
            msgpack_pack_array(&pk, 2);
            msgpack_pack_uint64(&pk, s->streams[i].next);
            msgpack_pack_uint64(&pk, s->streams[i].stride);
        }
    } else {
        /* the parser's position is past what is still buffered: back up to the first line not
         * turned into records yet */
        const wr_textin_stats_t *st = wr_textin_stats(s->text);
        msgpack_pack_array(&pk, 2);
        msgpack_pack_uint64(&pk, st->offset);
        msgpack_pack_uint64(&pk, st->lines);
    }
    return out->failed ? WR_ENOMEM : 0;
}

/* Splits the stream with the most offsets left (the lowest numbered on ties) into its even and
 * odd steps. */
static int s_split(wr__source_t *s)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < s->nstreams; i++)
        if (s_left(&s->streams[i], s->total) > s_left(&s->streams[best], s->total)) best = i;
    wr__stream_t *st = &s->streams[best];
    if (st->stride > UINT64_MAX / 2) return WR_ETOOBIG;
    wr__stream_t odd = {.next = st->next + st->stride, .stride = st->stride * 2};
    st->stride *= 2;
    if (odd.next < s->total && odd.next > st->next) s->streams[s->nstreams++] = odd;
    return 0;
}

static int s_restore_generator(wr__source_t *s, wr_mp_reader_t *r, uint32_t old, uint32_t subtask,
                               wr__stream_t **all, uint32_t *nall)
{
    (void)old;
    (void)subtask;
    uint32_t n = 0;
    if (wr_mp_read_array(r, &n) || n > (1u << 20)) return WR_EPROTO;
    wr__stream_t *grown = realloc(*all, ((size_t)*nall + n + 1) * sizeof *grown);
    if (!grown) return WR_ENOMEM;
    *all = grown;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t two = 0;
        uint64_t next = 0, stride = 0;
        wr_mp_read_array(r, &two);
        wr_mp_read_uint(r, &next);
        wr_mp_read_uint(r, &stride);
        if (r->err || two != 2 || !stride) return WR_EPROTO;
        if (next < s->total) (*all)[(*nall)++] = (wr__stream_t){.next = next, .stride = stride};
    }
    return 0;
}

int wr__source_restore(wr__source_t *s, const uint8_t *const *states, const size_t *lens,
                       uint32_t n, uint32_t subtask, uint32_t parallelism, wr_strbuf_t *err)
{
    wr__stream_t *all = NULL;
    uint32_t nall = 0;
    int64_t max_ts = INT64_MAX;
    bool any = false;
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, states[i], lens[i]);
        uint32_t three = 0;
        uint64_t kind = 0;
        int64_t ts = 0;
        wr_mp_read_array(&r, &three);
        wr_mp_read_uint(&r, &kind);
        wr_mp_read_int(&r, &ts);
        if (r.err || three != 3 || kind != (uint64_t)(s->gen ? S_KIND_GENERATOR : S_KIND_FILE)) {
            rc = WR_EPROTO;
            break;
        }
        if (s->gen) {
            rc = s_restore_generator(s, &r, i, subtask, &all, &nall);
        } else if (i == 0 && subtask == 0) {
            uint32_t two = 0;
            uint64_t offset = 0, lines = 0;
            wr_mp_read_array(&r, &two);
            wr_mp_read_uint(&r, &offset);
            wr_mp_read_uint(&r, &lines);
            if (r.err || two != 2) rc = WR_EPROTO;
            else if (lseek(s->fd, (off_t)offset, SEEK_SET) < 0) rc = WR_EIO;
            else wr_textin_seek(s->text, offset, lines);
        } else {
            wr_mp_skip(&r);
        }
        if (!rc && (r.err || wr_mp_remaining(&r))) rc = WR_EPROTO;
        if (!rc && ts < max_ts) max_ts = ts;
        any = true;
    }
    if (!rc && s->gen) {
        /* deal the streams out: split while there are fewer than subtasks, then every
         * parallelism-th one from `subtask` on is ours */
        free(s->streams);
        s->streams = all;
        s->nstreams = nall;
        all = NULL;
        while (!rc && s->nstreams && s->nstreams < parallelism) {
            if (!(rc = s_streams_reserve(s, s->nstreams + 1))) rc = s_split(s);
        }
        s->pace_base = UINT64_MAX; /* the offset every stream reached: made before the restore */
        for (uint32_t i = 0; i < s->nstreams; i++)
            if (s->streams[i].next < s->pace_base) s->pace_base = s->streams[i].next;
        if (!s->nstreams) s->pace_base = 0;
        uint32_t mine = 0;
        for (uint32_t i = subtask; !rc && i < s->nstreams; i += parallelism)
            s->streams[mine++] = s->streams[i];
        if (!rc) s->nstreams = mine;
    }
    free(all);
    if (rc) {
        wr_strbuf_addf(err, "source position in the checkpoint: %s", wr_strerror(rc));
        return rc;
    }
    if (any) s->max_ts = max_ts;
    return 0;
}
