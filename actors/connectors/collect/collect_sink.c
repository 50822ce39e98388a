/* The collect sink (collect_sink.h). */
#include "actors/connectors/collect/collect_sink.h"

#include "actors/connectors/lines.h"
#include "bus/base/error.h"

/* The writer is the lines themselves: its buffer holds everything written. */

static void s_close(void **wp)
{
    wr_lines_t *l = *wp;
    wr_lines_destroy(&l);
    *wp = NULL;
}

static int s_open(const void *config, const wr_sink_open_t *o, void **wp, wr_strbuf_t *err)
{
    (void)config;
    (void)err;
    return (*wp = wr_lines_new(o->schema, true)) ? 0 : WR_ENOMEM;
}

static int s_write(void *wp, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    return wr_lines_format(wp, b, sel, nsel, true);
}

static int s_flush(void *wp)
{
    (void)wp;
    return 0;
}

static const wr_strbuf_t *s_collected(void *wp)
{
    return &((wr_lines_t *)wp)->buf;
}

static const wr_sink_class_t s_sink = {
    .type = "collect",
    .noun = "a collect sink",
    .config_size = sizeof(wr_collect_sink_config_t),
    .open = s_open,
    .close = s_close,
    .write = s_write,
    .flush = s_flush,
    .collected = s_collected,
};

const wr_connector_t wr_collect_connector = {.sink = &s_sink};
