/* A subtask's source (task_source.h). */
#include "actors/taskmanager/task_source.h"

#include <string.h>

#include "bus/base/error.h"

#define S_BATCH_CAP 4096

int wr__source_init(wr__source_t *s, const wr_topology_t *topo, int index, uint32_t subtask,
                    uint32_t parallelism, wr_strbuf_t *err)
{
    memset(s, 0, sizeof *s);
    const wr_topo_source_t *src = &topo->sources[index];
    const char *ts = topo->event_time.field;
    wr_source_opts_t o = {.schema = &topo->schema,
                          .ts_field = ts[0] ? wr_schema_find(&topo->schema, ts) : -1,
                          .subtask = subtask,
                          .parallelism = parallelism,
                          .batch_records = S_BATCH_CAP,
                          .job = topo->name,
                          .name = src->name};
    int rc = 0;
    s->src = wr_source_new(src->cls, src->config, &o, &rc, err);
    return rc;
}

void wr__source_release(wr__source_t *s)
{
    wr_source_destroy(&s->src);
    wr_splits_release(&s->restored);
    memset(s, 0, sizeof *s);
}

int wr__source_restore(wr__source_t *s, const uint8_t *const *states, const size_t *lens,
                       uint32_t n, wr_strbuf_t *err)
{
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++)
        rc = wr_splits_decode(states[i], lens[i], &s->restored);
    if (rc) {
        wr_strbuf_addf(err, "source position in the checkpoint: %s", wr_strerror(rc));
        return rc;
    }
    s->from_checkpoint = true;
    return 0;
}

int wr__source_start(wr__source_t *s, wr_strbuf_t *err)
{
    int rc = wr_source_start(s->src, s->from_checkpoint ? &s->restored : NULL, err);
    wr_splits_release(&s->restored);
    return rc;
}

int wr__source_next(wr__source_t *s, uint32_t max, uint64_t elapsed_ns, bool *done, bool *wait,
                    wr_strbuf_t *err)
{
    wr_source_status_t st;
    int rc = wr_source_next(s->src, max, elapsed_ns, &st, err);
    *done = !rc && st == WR_SOURCE_END && !wr_source_batch(s->src)->count;
    *wait = !rc && st == WR_SOURCE_WAIT && !wr_source_batch(s->src)->count;
    return rc;
}

const wr_batch_t *wr__source_batch(const wr__source_t *s)
{
    return wr_source_batch(s->src);
}

uint32_t wr__source_retry_ms(const wr__source_t *s)
{
    return wr_source_retry_ms(s->src);
}

uint64_t wr__source_skipped(const wr__source_t *s)
{
    return s->src ? wr_source_skipped(s->src) : 0;
}

bool wr__source_event_time(wr__source_t *s, int64_t *t)
{
    return s->src && wr_source_event_time(s->src, t);
}

void wr__source_checkpoint_done(wr__source_t *s, uint64_t checkpoint_id)
{
    if (s->src) wr_source_checkpoint_done(s->src, checkpoint_id);
}

int wr__source_snapshot(wr__source_t *s, uint64_t checkpoint_id, wr_strbuf_t *out)
{
    return wr_source_snapshot(s->src, checkpoint_id, out);
}
