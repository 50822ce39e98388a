/* The file source (file.h): one file of JSON lines or CSV, one split, read by textin.h. Its
 * position is the byte offset of the first line not turned into records yet and the number of
 * lines before it. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/file/file.h"
#include "actors/connectors/file/file_internal.h"
#include "actors/connectors/textsrc.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/path.h"

#define S_READ_CHUNK (1 << 16)
#define S_SPLIT_ID   "0" /* the source's one file */

static const wr_param_t s_params[] = {
    {.key = "path",
     .type = WR_PARAM_PATH,
     WR_PARAM_AT(wr_file_source_config_t, path),
     .required = true,
     .example = "data.jsonl",
     .why = "is not a path",
     .doc = "the file, relative to the topology file's folder"},
    WR_TEXTSRC_FORMAT(wr_file_source_config_t, format, "jsonl or csv"),
    WR_TEXTSRC_HEADER(wr_file_source_config_t, header,
                      "csv: the first line names the columns (default true for csv)"),
    WR_TEXTSRC_ON_ERROR(wr_file_source_config_t, on_error,
                        "a bad line: fail (the job fails) or skip (counted)"),
    WR_TEXTSRC_MAX_LINE(wr_file_source_config_t, max_line),
};

static int s_check(void *config, const wr_param_check_t *ck)
{
    wr_file_source_config_t *c = config;
    if (!wr_param_given(ck, "header")) c->header = c->format == WR_TEXTIN_CSV;
    if (c->format == WR_TEXTIN_JSONL && c->header)
        return wr_param_fail(ck, "header", "header is only for format: csv");
    return 0;
}

static void s_parallelism(const void *config, uint32_t *dflt, uint32_t *max, const char **why)
{
    (void)config;
    *dflt = *max = 1;
    *why = "a file source reads one file: parallelism 1";
}

/* ---- positions: [offset, lines] ---- */

static int s_position(uint64_t offset, uint64_t lines, wr_strbuf_t *out)
{
    return wr_split_position_pack((const uint64_t[]){offset, lines}, 2, out);
}

static int s_position_decode(const wr_split_t *s, uint64_t *offset, uint64_t *lines)
{
    uint64_t v[2];
    if (wr_split_position_read(s, v, 2) || v[1] > v[0]) return WR_EPROTO; /* a line is a byte */
    *offset = v[0];
    *lines = v[1];
    return 0;
}

/* One split, the file from its start; or the restored one, if the file was not done. */
static int s_enumerate(const void *config, uint32_t parallelism, bool restored, wr_splits_t *splits,
                       wr_strbuf_t *err)
{
    (void)config;
    uint64_t offset, lines;
    int rc = 0;
    if (!restored) {
        wr_strbuf_t pos;
        wr_strbuf_init(&pos);
        rc = s_position(0, 0, &pos);
        if (!rc) rc = wr_splits_add(splits, S_SPLIT_ID, pos.buf, pos.len, INT64_MIN);
        wr_strbuf_release(&pos);
    } else if (splits->n > 1 ||
               (splits->n && (strcmp(splits->v[0].id, S_SPLIT_ID) ||
                              s_position_decode(&splits->v[0], &offset, &lines)))) {
        wr_strbuf_addf(err, "file source: the checkpoint's position is not one of a single file");
        rc = WR_EPROTO;
    }
    if (!rc) wr_splits_assign(splits, parallelism);
    return rc;
}

/* ---- the reader ---- */

typedef struct {
    const wr_file_source_config_t *c;
    wr_schema_t schema;
    wr_textin_t *text;
    int fd; /* -1 until a split comes */
    uint32_t slot;
    bool done;
    char *buf; /* read but not parsed yet: buf[0, len) */
    size_t len, cap;
    size_t most; /* cap grows up to this: a little over the longest line */
    bool eof;
    wr_textsrc_log_t log; /* skipped lines (on_error: skip; textin counts them) */
} s_reader_t;

/* textin's on_bad: one skipped line, msg "NAME:LINE: what is wrong". */
static void s_on_bad(void *ctx, const char *msg)
{
    s_reader_t *r = ctx;
    wr_textsrc_log_one(&r->log, wr_textin_stats(r->text)->bad, "file source: skipped %s", msg);
}

static void s_close(void **rp)
{
    s_reader_t *r = *rp;
    if (!r) return;
    if (r->text)
        wr_textsrc_log_sum(&r->log, wr_textin_stats(r->text)->bad,
                           true); /* none when opening failed */
    wr_textin_destroy(&r->text);
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    free(r);
    *rp = NULL;
}

static int s_open(const void *config, const wr_source_open_t *o, void **rp, wr_strbuf_t *err)
{
    (void)err;
    const wr_file_source_config_t *c = config;
    s_reader_t *r = calloc(1, sizeof *r);
    if (!r) return WR_ENOMEM;
    *rp = r;
    r->c = c;
    wr_textsrc_log_init(&r->log, "file source %s", c->path);
    r->fd = -1;
    r->schema = *o->schema;
    uint32_t max_line = c->max_line ? c->max_line : WR_TEXTIN_DEFAULT_MAX_LINE;
    wr_textin_options_t to = {.format = c->format,
                              .header = c->header,
                              .on_error = c->on_error,
                              .max_line = max_line,
                              .name = c->path,
                              .on_bad = s_on_bad,
                              .ctx = r};
    r->text = wr_textin_new(&r->schema, &to);
    r->cap = S_READ_CHUNK * 2;
    r->most = (size_t)max_line + S_READ_CHUNK;
    r->buf = malloc(r->cap);
    if (!r->text || !r->buf) {
        s_close(rp);
        return WR_ENOMEM;
    }
    return 0;
}

/* More bytes after buf[0, len): *got 0 at the end of the file. A full buffer holds part of one
 * line: it grows, up to more than the longest line, so that the parser sees every line up to
 * max_line whole and tells a longer one by its first max_line + 1 bytes. */
static int s_fill(s_reader_t *r, size_t *got)
{
    *got = 0;
    if (r->len == r->cap) {
        if (r->cap >= r->most) return WR_ETOOBIG; /* the parser ended such a line before */
        size_t cap = r->cap * 2 < r->most ? r->cap * 2 : r->most;
        char *buf = realloc(r->buf, cap);
        if (!buf) return WR_ENOMEM;
        r->buf = buf;
        r->cap = cap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return WR_EIO;
        r->len += (size_t)n;
        r->eof = n == 0;
        *got = (size_t)n;
        return 0;
    }
}

static void s_consume(s_reader_t *r, size_t used)
{
    memmove(r->buf, r->buf + used, r->len - used);
    r->len -= used;
}

/* A CSV file with a header resumed mid-file: its header first. */
static int s_reread_header(s_reader_t *r, wr_strbuf_t *err)
{
    for (bool done = false; !done;) {
        size_t got, used;
        int rc = s_fill(r, &got);
        if (!rc) rc = wr_textin_read_header(r->text, r->buf, r->len, r->eof, &used, &done);
        if (!rc) s_consume(r, used);
        if (rc) {
            wr_strbuf_adds(err, wr_textin_error(r->text)[0] ? wr_textin_error(r->text)
                                                            : wr_strerror(rc));
            return rc;
        }
    }
    r->len = 0;
    r->eof = false;
    return 0;
}

static int s_add_split(void *rp, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    uint64_t offset = 0, lines = 0;
    if (r->fd >= 0 || s_position_decode(s, &offset, &lines)) {
        wr_strbuf_addf(err, "file source: split %s is not the one file it reads", s->id);
        return WR_EPROTO;
    }
    r->fd = open(r->c->path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        wr_strbuf_addf(err, "file source: cannot open %s: %s", r->c->path, strerror(errno));
        return WR_EIO;
    }
    r->slot = slot;
    if (offset == 0) return 0;
    int rc = s_reread_header(r, err);
    if (!rc && lseek(r->fd, (off_t)offset, SEEK_SET) < 0) rc = WR_EIO;
    if (!rc) wr_textin_seek(r->text, offset, lines);
    return rc;
}

static int s_read(void *rp, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    wr_batch_t *b = wr_source_read_batch(rd);
    if (r->fd < 0 || r->done) {
        *st = WR_SOURCE_END;
        return 0;
    }
    uint32_t cap = b->cap; /* the parser fills a batch up to its capacity: lend it less */
    b->cap = b->count + wr_source_read_room(rd);
    int rc = 0;
    for (;;) {
        size_t used = 0, got;
        uint32_t before = b->count;
        rc = wr_textin_parse(r->text, r->buf, r->len, r->eof, b, NULL, &used);
        s_consume(r, used);
        if (b->count > before) wr_source_read_rows(rd, r->slot);
        if (rc || b->count) break;
        if (r->eof) {
            r->done = true;
            wr_source_read_done(rd, r->slot);
            *st = WR_SOURCE_END;
            break;
        }
        if ((rc = s_fill(r, &got))) break;
    }
    b->cap = cap;
    uint64_t bad = wr_textin_stats(r->text)->bad;
    wr_textsrc_log_sum(&r->log, wr_textin_stats(r->text)->bad, false);
    wr_source_read_skipped(rd, bad);
    if (rc) wr_strbuf_adds(err, wr_textin_error(r->text)[0] ? wr_textin_error(r->text) : "");
    if (rc == WR_ETOOBIG)
        wr_strbuf_adds(err, " (the source's max_line sets the limit; on_error: skip skips it)");
    return rc;
}

static int s_snapshot(void *rp, wr_source_snap_t *snap)
{
    s_reader_t *r = rp;
    if (r->fd < 0 || r->done) return 0;
    /* the parser's position is the first line not turned into records: what is buffered after
     * it is read again */
    uint64_t offset, lines;
    wr_textin_resume_point(r->text, &offset, &lines);
    wr_strbuf_t pos;
    wr_strbuf_init(&pos);
    int rc = s_position(offset, lines, &pos);
    if (!rc) rc = wr_source_snap_split(snap, r->slot, S_SPLIT_ID, pos.buf, pos.len);
    wr_strbuf_release(&pos);
    return rc;
}

/* The file it reads, canonical (bus/base/path.h); a relative one as given (a topology read from a
 * file has none: its reader made them absolute), which no root holds. */
static void s_paths(const void *config, wr_strbuf_t *out)
{
    const wr_file_source_config_t *c = config;
    if (c->path[0] != '/' || wr_path_canonical(c->path, out) == WR_EIO)
        wr_strbuf_adds(out, c->path);
    wr_strbuf_addc(out, '\n');
}

static const wr_source_class_t s_source = {
    .type = "file",
    .noun = "a file source",
    .params = s_params,
    .nparams = sizeof s_params / sizeof *s_params,
    .config_size = sizeof(wr_file_source_config_t),
    .check = s_check,
    .parallelism = s_parallelism,
    .enumerate = s_enumerate,
    .open = s_open,
    .close = s_close,
    .add_split = s_add_split,
    .read = s_read,
    .snapshot = s_snapshot,
    .paths = s_paths,
};

const wr_connector_t wr_file_connector = {.source = &s_source, .sink = &wr__file_sink};
