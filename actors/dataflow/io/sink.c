#include "actors/dataflow/io/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "actors/dataflow/record/rowfmt.h"
#include "actors/dataflow/io/sink_2pc.h"
#include "bus/base/error.h"

enum s_kind { S_STDOUT, S_FILE, S_FILE_2PC, S_COLLECT };

struct wr_sink {
    enum s_kind kind;
    wr_rowfmt_t fmt; /* text for S_STDOUT, JSON lines otherwise */
    FILE *out;       /* S_STDOUT: borrowed */
    int fd;          /* S_FILE */
    wr_strbuf_t buf;
    uint64_t records;
    int64_t delay_ms;    /* S_FILE, S_FILE_2PC: sleep after each batch */
    wr__sink_2pc_t *tpc; /* S_FILE_2PC: the part files */
    int write_err;       /* S_FILE_2PC: the in-progress file may hold a torn batch since */
};

static wr_sink_t *s_new(enum s_kind kind, const wr_schema_t *schema)
{
    wr_sink_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->kind = kind;
    s->fd = -1;
    wr_strbuf_init(&s->buf);
    if (wr_rowfmt_init(&s->fmt, schema, kind != S_STDOUT)) {
        free(s);
        return NULL;
    }
    return s;
}

wr_sink_t *wr_sink_stdout_new(const wr_schema_t *schema, FILE *out)
{
    wr_sink_t *s = s_new(S_STDOUT, schema);
    if (s) s->out = out;
    return s;
}

wr_sink_t *wr_sink_file_new(const wr_schema_t *schema, const char *path, int *err)
{
    wr_sink_t *s = s_new(S_FILE, schema);
    if (!s) {
        if (err) *err = WR_ENOMEM;
        return NULL;
    }
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        if (err) *err = WR_EIO;
        wr_sink_destroy(&s);
    }
    return s;
}

wr_sink_t *wr_sink_file_2pc_new(const wr_schema_t *schema, const char *dir, uint32_t attempt,
                                uint32_t subtask, int *err)
{
    wr_sink_t *s = s_new(S_FILE_2PC, schema);
    if (!s) {
        if (err) *err = WR_ENOMEM;
        return NULL;
    }
    if (!(s->tpc = wr__sink_2pc_new(dir, attempt, subtask, err))) wr_sink_destroy(&s);
    return s;
}

int wr_sink_precommit(wr_sink_t *s, uint64_t checkpoint_id, wr_strbuf_t *state)
{
    if (s->kind != S_FILE_2PC) return WR_EINVAL;
    return s->write_err ? s->write_err : wr__sink_2pc_precommit(s->tpc, checkpoint_id, state);
}

int wr_sink_commit(wr_sink_t *s, uint64_t checkpoint_id)
{
    return s->kind == S_FILE_2PC ? wr__sink_2pc_commit(s->tpc, checkpoint_id) : WR_EINVAL;
}

void wr_sink_set_delay(wr_sink_t *s, int64_t ms)
{
    if (s->kind == S_FILE || s->kind == S_FILE_2PC) s->delay_ms = ms > 0 ? ms : 0;
}

wr_sink_t *wr_sink_collect_new(const wr_schema_t *schema)
{
    return s_new(S_COLLECT, schema);
}

void wr_sink_destroy(wr_sink_t **sp)
{
    if (!sp || !*sp) return;
    wr_sink_t *s = *sp;
    if (s->fd >= 0) close(s->fd);
    wr__sink_2pc_destroy(&s->tpc);
    wr_strbuf_release(&s->buf);
    wr_rowfmt_release(&s->fmt);
    free(s);
    *sp = NULL;
}

void wr_record_json(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    wr_rowfmt_json_object(b, i, out);
}

static int s_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return WR_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int wr_sink_write(wr_sink_t *s, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    uint32_t n = sel ? nsel : b->count;
    if (s->kind != S_COLLECT) wr_strbuf_reset(&s->buf);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = sel ? sel[k] : k;
        wr_rowfmt_row(&s->fmt, b, i, &s->buf);
    }
    if (s->buf.failed) return WR_ENOMEM;
    s->records += n;
    int rc = 0;
    if (s->kind == S_STDOUT) {
        /* one write per batch, and flushed: results show up as their windows fire */
        if (s->buf.len &&
            (fwrite(s->buf.buf, 1, s->buf.len, s->out) != s->buf.len || fflush(s->out)))
            rc = WR_EIO;
    } else if (s->kind == S_FILE || s->kind == S_FILE_2PC) {
        int fd = s->fd;
        if (s->kind == S_FILE_2PC && s->buf.len) rc = wr__sink_2pc_fd(s->tpc, &fd);
        if (!rc) rc = s_write_all(fd, s->buf.buf, s->buf.len);
        if (rc && s->kind == S_FILE_2PC && !s->write_err) s->write_err = rc;
        if (s->delay_ms) {
            struct timespec ts = {s->delay_ms / 1000, s->delay_ms % 1000 * 1000000};
            int slept;
            do
                slept = nanosleep(&ts, &ts); /* the rest of it, when a signal interrupts */
            while (slept && errno == EINTR);
        }
    }
    return rc;
}

int wr_sink_flush(wr_sink_t *s)
{
    if (s->kind == S_STDOUT) return fflush(s->out) ? WR_EIO : 0;
    if (s->kind == S_FILE) return fsync(s->fd) && errno != EINVAL ? WR_EIO : 0;
    if (s->kind == S_FILE_2PC) return wr__sink_2pc_flush(s->tpc);
    return 0;
}

uint64_t wr_sink_records(const wr_sink_t *s)
{
    return s->records;
}

const wr_strbuf_t *wr_sink_collected(const wr_sink_t *s)
{
    return s->kind == S_COLLECT ? &s->buf : NULL;
}
