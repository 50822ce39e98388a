/* The stdout sink (stdout_sink.h). */
#include "actors/connectors/stdout/stdout_sink.h"

#include <stdlib.h>

#include "actors/connectors/lines.h"
#include "bus/base/error.h"

typedef struct {
    FILE *out; /* borrowed */
    wr_lines_t lines;
} s_writer_t;

static void s_close(void **wp)
{
    s_writer_t *w = *wp;
    if (!w) return;
    wr_lines_release(&w->lines);
    free(w);
    *wp = NULL;
}

static int s_open(const void *config, const wr_sink_open_t *o, void **wp, wr_strbuf_t *err)
{
    (void)err;
    const wr_stdout_sink_config_t *c = config;
    s_writer_t *w = calloc(1, sizeof *w);
    if (!w) return WR_ENOMEM;
    w->out = c->out ? c->out : stdout;
    *wp = w;
    int rc = wr_lines_init(&w->lines, o->schema, c->format == WR_STDOUT_JSON);
    if (rc) s_close(wp);
    return rc;
}

static int s_write(void *wp, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    s_writer_t *w = wp;
    int rc = wr_lines_format(&w->lines, b, sel, nsel, false);
    const wr_strbuf_t *buf = &w->lines.buf;
    /* one write per batch, and flushed: results show up as their windows fire */
    if (!rc && buf->len && (fwrite(buf->buf, 1, buf->len, w->out) != buf->len || fflush(w->out)))
        rc = WR_EIO;
    return rc;
}

static int s_flush(void *wp)
{
    s_writer_t *w = wp;
    return fflush(w->out) ? WR_EIO : 0;
}

static const char *const s_formats[] = {"text", "json", NULL};

static const wr_param_t s_params[] = {
    {.key = "format",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(wr_stdout_sink_config_t, format),
     .words = s_formats,
     .dflt = "text",
     .doc = "text (field=value, for people) or json (one object a line, for programs)"},
};

static const wr_sink_class_t s_sink = {
    .type = "stdout",
    .noun = "a stdout sink",
    .params = s_params,
    .nparams = sizeof s_params / sizeof s_params[0],
    .config_size = sizeof(wr_stdout_sink_config_t),
    .open = s_open,
    .close = s_close,
    .write = s_write,
    .flush = s_flush,
};

const wr_connector_t wr_stdout_connector = {.sink = &s_sink};
