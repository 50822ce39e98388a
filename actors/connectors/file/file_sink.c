/* The file sink (file.h): JSON lines appended to one file, or written exactly once into part
 * files (sink_2pc.h), and the exactly-once sink's committer. One write per batch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/connectors/file/file.h"
#include "actors/connectors/file/file_internal.h"
#include "actors/connectors/file/sink_2pc.h"
#include "actors/connectors/lines.h"
#include "bus/base/error.h"
#include "bus/base/path.h"

typedef struct {
    wr_lines_t lines;    /* one batch's */
    int fd;              /* a plain file sink's file; -1 for exactly once */
    wr__sink_2pc_t *tpc; /* exactly once: the part files */
    int write_err;       /* exactly once: the in-progress file may hold a torn batch since */
    int64_t delay_ms;
    char *path;                                      /* the config's, for failed_on */
    char failed_on[PATH_MAX + WR_SINK_2PC_NAME_MAX]; /* "" until a write fails */
} s_writer_t;

static const wr_param_t s_params[] = {
    {.key = "path",
     .type = WR_PARAM_PATH,
     .from_cwd = true,
     WR_PARAM_AT(wr_file_sink_config_t, path),
     .required = true,
     .example = "results.jsonl",
     .why = "is not a path",
     .doc = "the file (or, exactly once, the folder), relative to the working directory"},
    {.key = "delay",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_file_sink_config_t, delay_ms),
     .lo = 0,
     .hi = 60000,
     .dflt = "0",
     .doc = "pause after every batch written (a slow consumer on purpose)"},
    {.key = "exactly_once",
     .type = WR_PARAM_BOOL,
     WR_PARAM_AT(wr_file_sink_config_t, exactly_once),
     .dflt = "false",
     .doc = "part files in a folder, visible once their checkpoint completes"},
    {.key = "test_skip_commit",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_file_sink_config_t, test_skip_commit),
     .lo = 0,
     .hi = INT64_MAX,
     .dflt = "0",
     .doc = "TEST ONLY: the part files of checkpoint N are committed empty (records lost)"},
};

static int s_check(void *config, const wr_param_check_t *ck)
{
    const wr_file_sink_config_t *c = config;
    if (c->test_skip_commit && !c->exactly_once)
        return wr_param_fail(ck, "test_skip_commit",
                             "test_skip_commit is only for exactly_once: true (a test fault on "
                             "a checkpoint's commit)");
    return 0;
}

static void s_parallelism(const void *config, uint32_t *dflt, uint32_t *max, const char **why)
{
    const wr_file_sink_config_t *c = config;
    *dflt = 1;
    *max = c->exactly_once ? 0 : 1;
    *why = "a file sink writes one file: parallelism 1 (or exactly_once: true, part files in a "
           "folder)";
}

static wr_sink_guarantee_t s_guarantee(const void *config)
{
    const wr_file_sink_config_t *c = config;
    return c->exactly_once ? WR_SINK_EXACTLY_ONCE : WR_SINK_AT_LEAST_ONCE;
}

/* ---- the writer ---- */

static void s_close(void **wp)
{
    s_writer_t *w = *wp;
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    wr__sink_2pc_destroy(&w->tpc);
    wr_lines_release(&w->lines);
    free(w->path);
    free(w);
    *wp = NULL;
}

static int s_open(const void *config, const wr_sink_open_t *o, void **wp, wr_strbuf_t *err)
{
    const wr_file_sink_config_t *c = config;
    s_writer_t *w = calloc(1, sizeof *w);
    if (!w) return WR_ENOMEM;
    w->fd = -1;
    w->delay_ms = c->delay_ms;
    *wp = w;
    int rc = (w->path = strdup(c->path)) ? wr_lines_init(&w->lines, o->schema, true) : WR_ENOMEM;
    if (rc) {
        s_close(wp);
        return rc;
    }
    if (c->exactly_once) {
        w->tpc = wr__sink_2pc_new(c->path, o->attempt, o->subtask, &rc);
        if (w->tpc) wr__sink_2pc_skip_commit(w->tpc, c->test_skip_commit);
    } else if ((w->fd = open(c->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        rc = WR_EIO;
    }
    if (rc) {
        wr_strbuf_addf(err, "cannot open %s: %s", c->path,
                       rc == WR_EIO ? strerror(errno) : wr_strerror(rc));
        s_close(wp);
    }
    return rc;
}

/* The file a failed call was about: the in-progress part file, or the plain sink's file. */
static void s_failed_on(s_writer_t *w)
{
    char name[WR_SINK_2PC_NAME_MAX];
    if (!w->tpc) {
        snprintf(w->failed_on, sizeof w->failed_on, "%s", w->path);
        return;
    }
    wr__sink_2pc_inprogress_name(w->tpc, name);
    snprintf(w->failed_on, sizeof w->failed_on, "%s/%s", w->path, name);
}

static const char *s_failed_on_text(void *wp)
{
    s_writer_t *w = wp;
    return w->failed_on[0] ? w->failed_on : NULL;
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

static int s_write(void *wp, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    s_writer_t *w = wp;
    int rc = wr_lines_format(&w->lines, b, sel, nsel, false), fd = w->fd;
    if (rc) return rc;
    const wr_strbuf_t *buf = &w->lines.buf;
    if (w->tpc && buf->len) rc = wr__sink_2pc_fd(w->tpc, &fd);
    if (!rc && buf->len) rc = s_write_all(fd, buf->buf, buf->len);
    if (rc) s_failed_on(w);
    if (rc && w->tpc && !w->write_err) w->write_err = rc;
    if (w->delay_ms) {
        struct timespec ts = {w->delay_ms / 1000, w->delay_ms % 1000 * 1000000};
        int slept;
        do
            slept = nanosleep(&ts, &ts); /* the rest of it, when a signal interrupts */
        while (slept && errno == EINTR);
    }
    return rc;
}

static int s_flush(void *wp)
{
    s_writer_t *w = wp;
    if (w->tpc) return wr__sink_2pc_flush(w->tpc);
    return fsync(w->fd) && errno != EINVAL ? WR_EIO : 0;
}

/* After a failed write every precommit fails with its error: the in-progress file may end in a
 * torn batch, so only a restart (recovery and abort) may follow. */
static int s_precommit(void *wp, uint64_t checkpoint_id, wr_strbuf_t *out)
{
    s_writer_t *w = wp;
    return w->write_err ? w->write_err : wr__sink_2pc_precommit(w->tpc, checkpoint_id, out);
}

static int s_commit(void *wp, uint64_t checkpoint_id)
{
    return wr__sink_2pc_commit(((s_writer_t *)wp)->tpc, checkpoint_id);
}

/* ---- the committer ---- */

/* Part files are named by attempt: a new job in a folder that holds another job's files starts
 * past every attempt number there, so that it never writes over them. */
static uint32_t s_first_attempt(const void *config)
{
    const wr_file_sink_config_t *c = config;
    uint32_t first = 0;
    DIR *d = c->exactly_once ? opendir(c->path) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        wr_sink_2pc_part_t p;
        if (wr_sink_2pc_parse_name(e->d_name, strlen(e->d_name), NULL, &p)) continue;
        if (p.attempt >= first && p.attempt < UINT32_MAX / 2) first = p.attempt + 1;
    }
    if (d) closedir(d);
    return first;
}

static int s_recover(const void *config, const wr_sink_recover_t *r, wr_strbuf_t *err)
{
    const wr_file_sink_config_t *c = config;
    if (!c->exactly_once) return 0;
    int rc = wr_sink_2pc_recover(c->path, r->states, r->lens, r->n, r->attempt, c->test_skip_commit,
                                 err);
    if (!rc) rc = wr_sink_2pc_abort_stale(c->path, r->attempt);
    if (rc && !err->len) wr_strbuf_addf(err, "%s: %s", c->path, wr_strerror(rc));
    return rc;
}

/* ---- what it writes (the JobManager, at submit) ---- */

/* The file, or the exactly-once sink's folder (ending in '/'), canonical (bus/base/path.h): the
 * same name whichever way a topology spells it. A path that cannot be made canonical (no working
 * directory) is written as given, which no root holds. */
static void s_canonical(const wr_file_sink_config_t *c, wr_strbuf_t *out)
{
    if (wr_path_canonical(c->path, out) == WR_EIO) wr_strbuf_adds(out, c->path);
    if (c->exactly_once && out->len && out->buf[out->len - 1] != '/') wr_strbuf_addc(out, '/');
}

/* "file:" and the path: "file:/abs/results.jsonl", "file:/abs/out/". */
static void s_resources(const void *config, wr_strbuf_t *out)
{
    wr_strbuf_adds(out, "file:");
    s_canonical(config, out);
    wr_strbuf_addc(out, '\n');
}

/* The path canonical; a relative one as given: each writer would take it from its own working
 * directory, which the JobManager does not know (a topology read from a file has none: the CLI
 * made it absolute). */
static void s_paths(const void *config, wr_strbuf_t *out)
{
    const wr_file_sink_config_t *c = config;
    if (c->path[0] == '/')
        s_canonical(c, out);
    else
        wr_strbuf_adds(out, c->path);
    wr_strbuf_addc(out, '\n');
}

const wr_sink_class_t wr__file_sink = {
    .type = "file",
    .noun = "a file sink",
    .params = s_params,
    .nparams = sizeof s_params / sizeof *s_params,
    .config_size = sizeof(wr_file_sink_config_t),
    .check = s_check,
    .parallelism = s_parallelism,
    .guarantee = s_guarantee,
    .open = s_open,
    .close = s_close,
    .write = s_write,
    .flush = s_flush,
    .precommit = s_precommit,
    .commit = s_commit,
    .failed_on = s_failed_on_text,
    .resources = s_resources,
    .paths = s_paths,
    .first_attempt = s_first_attempt,
    .recover = s_recover,
};
