/* Record lines for sinks (lines.h). */
#include "actors/connectors/lines.h"

#include <stdlib.h>

#include "bus/base/error.h"

int wr_lines_init(wr_lines_t *l, const wr_schema_t *schema, bool json)
{
    wr_strbuf_init(&l->buf);
    return wr_rowfmt_init(&l->fmt, schema, json) ? WR_ENOMEM : 0;
}

void wr_lines_release(wr_lines_t *l)
{
    wr_rowfmt_release(&l->fmt);
    wr_strbuf_release(&l->buf);
}

wr_lines_t *wr_lines_new(const wr_schema_t *schema, bool json)
{
    wr_lines_t *l = malloc(sizeof *l);
    if (l && wr_lines_init(l, schema, json)) {
        free(l);
        l = NULL;
    }
    return l;
}

void wr_lines_destroy(wr_lines_t **l)
{
    if (!l || !*l) return;
    wr_lines_release(*l);
    free(*l);
    *l = NULL;
}

int wr_lines_format(wr_lines_t *l, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel,
                    bool append)
{
    if (!append) wr_strbuf_reset(&l->buf);
    uint32_t n = sel ? nsel : b->count;
    for (uint32_t k = 0; k < n; k++)
        wr_rowfmt_row(&l->fmt, b, sel ? sel[k] : k, &l->buf);
    return l->buf.failed ? WR_ENOMEM : 0;
}
