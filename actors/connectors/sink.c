/* One sink subtask's writer, whatever its connector (sink.h). */
#include "actors/connectors/sink.h"

#include <stdlib.h>

#include "bus/base/error.h"

struct wr_sink {
    const wr_sink_class_t *cls;
    void *writer;
    bool exactly_once;
    uint64_t records;
};

wr_sink_t *wr_sink_open(const wr_sink_class_t *cls, const void *config, const wr_sink_open_t *o,
                        int *rc, wr_strbuf_t *err)
{
    wr_sink_t *s = calloc(1, sizeof *s);
    *rc = s ? cls->open(config, o, &s->writer, err) : WR_ENOMEM;
    if (*rc) {
        free(s);
        return NULL;
    }
    s->cls = cls;
    s->exactly_once = cls->guarantee && cls->guarantee(config) == WR_SINK_EXACTLY_ONCE;
    return s;
}

void wr_sink_destroy(wr_sink_t **sp)
{
    if (!sp || !*sp) return;
    (*sp)->cls->close(&(*sp)->writer);
    free(*sp);
    *sp = NULL;
}

int wr_sink_write(wr_sink_t *s, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    s->records += sel ? nsel : b->count;
    return s->cls->write(s->writer, b, sel, nsel);
}

int wr_sink_flush(wr_sink_t *s)
{
    return s->cls->flush(s->writer);
}

bool wr_sink_exactly_once(const wr_sink_t *s)
{
    return s->exactly_once;
}

int wr_sink_barrier(wr_sink_t *s, uint64_t checkpoint_id)
{
    return !s->exactly_once && s->cls->barrier ? s->cls->barrier(s->writer, checkpoint_id) : 0;
}

int wr_sink_precommit(wr_sink_t *s, uint64_t checkpoint_id, wr_strbuf_t *committable)
{
    return s->exactly_once ? s->cls->precommit(s->writer, checkpoint_id, committable) : WR_EINVAL;
}

int wr_sink_commit(wr_sink_t *s, uint64_t checkpoint_id)
{
    return s->exactly_once ? s->cls->commit(s->writer, checkpoint_id) : WR_EINVAL;
}

const wr_strbuf_t *wr_sink_collected(const wr_sink_t *s)
{
    return s->cls->collected ? s->cls->collected(s->writer) : NULL;
}

const char *wr_sink_failed_on(const wr_sink_t *s)
{
    return s->cls->failed_on ? s->cls->failed_on(s->writer) : NULL;
}

uint64_t wr_sink_records(const wr_sink_t *s)
{
    return s->records;
}
