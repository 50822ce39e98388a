/* The committed output of a file sink, line by line (chaos_output.h). */
#include "cli/chaos_output.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/connectors/file/sink_2pc.h"
#include "bus/base/error.h"

typedef struct {
    int (*fn)(void *ctx, const char *line, size_t len, enum wr_chaos_output_flag flag,
              const wr_chaos_output_at_t *at);
    void *ctx;
    char *buf; /* WR_CHAOS_OUTPUT_LINE_MAX bytes */
    uint64_t files;
} s_reader_t;

/* One file through the buffer: whole lines as they come, a longer one cut (its rest skipped). */
static int s_read_file(s_reader_t *rd, const char *path, wr_strbuf_t *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        wr_strbuf_addf(err, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
    }
    wr_chaos_output_at_t at = {.file = path, .file_no = ++rd->files};
    char *buf = rd->buf;
    size_t have = 0, got;
    bool skipping = false; /* the rest of a line too long */
    int rc = 0;
    do {
        got = fread(buf + have, 1, WR_CHAOS_OUTPUT_LINE_MAX - have, f);
        have += got;
        size_t from = 0;
        for (char *nl; !rc && (nl = memchr(buf + from, '\n', have - from));
             from = (size_t)(nl - buf) + 1) {
            if (skipping) {
                skipping = false;
                continue;
            }
            at.line++;
            rc = rd->fn(rd->ctx, buf + from, (size_t)(nl - buf) - from, WR_CHAOS_LINE_OK, &at);
        }
        memmove(buf, buf + from, have - from);
        have -= from;
        if (!rc && have == WR_CHAOS_OUTPUT_LINE_MAX) {
            if (!skipping) {
                at.line++;
                rc = rd->fn(rd->ctx, buf, have, WR_CHAOS_LINE_TOO_LONG, &at);
            }
            skipping = true;
            have = 0;
        }
    } while (got && !rc);
    if (!rc && ferror(f)) {
        rc = WR_EIO;
        wr_strbuf_addf(err, "%s: %s", path, strerror(errno ? errno : EIO));
    } else if (!rc && have && !skipping) {
        at.line++;
        rc = rd->fn(rd->ctx, buf, have, WR_CHAOS_LINE_TORN, &at);
    }
    fclose(f);
    return rc;
}

/* The committed part files of an exactly-once sink (final names only). */
static int s_committed(const struct dirent *d)
{
    enum wr_sink_2pc_name kind;
    wr_sink_2pc_part_t p;
    return wr_sink_2pc_parse_name(d->d_name, strlen(d->d_name), &kind, &p) == 0 &&
           kind == WR_SINK_2PC_FINAL;
}

static int s_read_folder(s_reader_t *rd, const char *dir, wr_strbuf_t *err)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, s_committed, alphasort), rc = 0;
    if (n < 0) {
        wr_strbuf_addf(err, "%s: %s", dir, strerror(errno));
        return errno == ENOMEM ? WR_ENOMEM : WR_EIO;
    }
    wr_strbuf_t path;
    wr_strbuf_init(&path);
    for (int i = 0; i < n; i++) {
        wr_strbuf_reset(&path);
        wr_strbuf_addf(&path, "%s/%s", dir, names[i]->d_name);
        if (!rc && path.failed) wr_strbuf_addf(err, "%s: out of memory", dir);
        if (!rc) rc = path.failed ? WR_ENOMEM : s_read_file(rd, path.buf, err);
        free(names[i]);
    }
    free(names);
    wr_strbuf_release(&path);
    return rc;
}

int wr_chaos_output_read(const char *path,
                         int (*fn)(void *ctx, const char *line, size_t len,
                                   enum wr_chaos_output_flag flag, const wr_chaos_output_at_t *at),
                         void *ctx, uint64_t *files, wr_strbuf_t *err)
{
    struct stat st;
    if (stat(path, &st)) {
        int rc = errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
        wr_strbuf_addf(err, "%s: %s", path, strerror(errno));
        return rc;
    }
    s_reader_t rd = {.fn = fn, .ctx = ctx, .buf = malloc(WR_CHAOS_OUTPUT_LINE_MAX)};
    if (!rd.buf) {
        wr_strbuf_addf(err, "%s: out of memory", path);
        return WR_ENOMEM;
    }
    int rc = S_ISDIR(st.st_mode) ? s_read_folder(&rd, path, err) : s_read_file(&rd, path, err);
    free(rd.buf);
    if (files) *files = rd.files;
    return rc;
}
