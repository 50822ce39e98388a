/* A source subtask's side of a source (source.h) and the reader's calls (connector.h). */
#include "actors/connectors/source.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

/* What the source keeps of each split the reader holds, by slot. */
typedef struct {
    int64_t event_time; /* INT64_MIN: none yet */
    bool live;          /* not done, not merged away */
    bool idle;
} s_slot_t;

struct wr_source {
    const wr_source_class_t *cls;
    const void *config;
    void *reader;
    wr_schema_t schema;
    int ts_field;
    uint32_t subtask, parallelism;
    wr_batch_t *batch;
    s_slot_t *slots;
    uint32_t nslots, cap;
    int64_t floor;     /* the event time reported last: it never goes back (INT64_MIN: none) */
    uint64_t skipped;  /* wr_source_read_skipped */
    uint32_t retry_ms; /* the last read's wr_source_read_retry (0: none) */
};

struct wr_source_read {
    wr_source_t *src;
    uint32_t max;       /* records the batch may hold after this read */
    uint32_t run_start; /* rows before it are accounted for */
    uint64_t elapsed_ns;
};

struct wr_source_snap {
    wr_source_t *src;
    uint64_t checkpoint;
    wr_splits_t splits;
};

static int s_slot_new(wr_source_t *s, int64_t event_time, uint32_t *slot)
{
    if (s->nslots == s->cap) {
        uint32_t cap = s->cap ? 2 * s->cap : 4;
        s_slot_t *v = realloc(s->slots, cap * sizeof *v);
        if (!v) return WR_ENOMEM;
        s->slots = v;
        s->cap = cap;
    }
    s->slots[s->nslots] = (s_slot_t){.event_time = event_time, .live = true};
    *slot = s->nslots++;
    return 0;
}

wr_source_t *wr_source_new(const wr_source_class_t *cls, const void *config,
                           const wr_source_opts_t *o, int *rc, wr_strbuf_t *err)
{
    wr_source_t *s = calloc(1, sizeof *s);
    *rc = s ? 0 : WR_ENOMEM;
    if (!s) return NULL;
    s->cls = cls;
    s->config = config;
    s->schema = *o->schema;
    s->ts_field = o->ts_field;
    s->subtask = o->subtask;
    s->parallelism = o->parallelism;
    s->floor = INT64_MIN;
    if (!(s->batch = wr_batch_new(&s->schema, o->batch_records))) *rc = WR_ENOMEM;
    wr_source_open_t op = {.schema = &s->schema,
                           .subtask = o->subtask,
                           .parallelism = o->parallelism,
                           .job = o->job,
                           .name = o->name};
    if (!*rc) *rc = cls->open(config, &op, &s->reader, err);
    if (*rc) wr_source_destroy(&s);
    return s;
}

void wr_source_destroy(wr_source_t **sp)
{
    if (!sp || !*sp) return;
    wr_source_t *s = *sp;
    if (s->reader) s->cls->close(&s->reader);
    wr_batch_destroy(&s->batch);
    free(s->slots);
    free(s);
    *sp = NULL;
}

int wr_source_start(wr_source_t *s, wr_splits_t *restored, wr_strbuf_t *err)
{
    wr_splits_t all = {0};
    if (restored) {
        all = *restored;
        *restored = (wr_splits_t){0};
    }
    int rc = s->cls->enumerate(s->config, s->parallelism, restored != NULL, &all, err);
    for (uint32_t i = 0; i < all.n && !rc; i++) {
        if (all.v[i].subtask != s->subtask) continue;
        uint32_t slot;
        rc = s_slot_new(s, all.v[i].event_time, &slot);
        if (!rc) rc = s->cls->add_split(s->reader, slot, &all.v[i], err);
    }
    wr_splits_release(&all);
    return rc;
}

/* ---- reading ---- */

wr_batch_t *wr_source_read_batch(wr_source_read_t *rd)
{
    return rd->src->batch;
}

uint32_t wr_source_read_room(const wr_source_read_t *rd)
{
    uint32_t count = rd->src->batch->count;
    return count < rd->max ? rd->max - count : 0;
}

uint64_t wr_source_read_elapsed_ns(const wr_source_read_t *rd)
{
    return rd->elapsed_ns;
}

void wr_source_read_skipped(wr_source_read_t *rd, uint64_t total)
{
    rd->src->skipped = total;
}

uint64_t wr_source_skipped(const wr_source_t *s)
{
    return s->skipped;
}

void wr_source_read_rows(wr_source_read_t *rd, uint32_t slot)
{
    wr_source_t *s = rd->src;
    const wr_batch_t *b = s->batch;
    assert(slot < s->nslots && "rows of a split the reader was not given");
    s_slot_t *sl = &s->slots[slot];
    if (b->count > rd->run_start) sl->idle = false;
    if (s->ts_field >= 0) {
        const int64_t *ts = b->col[s->ts_field];
        int64_t m = sl->event_time;
        for (uint32_t i = rd->run_start; i < b->count; i++)
            if (ts[i] > m) m = ts[i];
        sl->event_time = m;
    }
    rd->run_start = b->count;
}

void wr_source_read_idle(wr_source_read_t *rd, uint32_t slot)
{
    assert(slot < rd->src->nslots);
    rd->src->slots[slot].idle = true;
}

void wr_source_read_done(wr_source_read_t *rd, uint32_t slot)
{
    assert(slot < rd->src->nslots);
    rd->src->slots[slot].live = false;
}

void wr_source_read_merged(wr_source_read_t *rd, uint32_t slot, uint32_t into)
{
    s_slot_t *v = rd->src->slots;
    assert(slot < rd->src->nslots && into < rd->src->nslots && slot != into);
    /* the joined split has produced what both did */
    if (v[slot].event_time > v[into].event_time) v[into].event_time = v[slot].event_time;
    v[slot].live = false;
}

void wr_source_read_retry(wr_source_read_t *rd, uint32_t ms)
{
    rd->src->retry_ms = ms < 1 ? 1 : ms > WR_SOURCE_RETRY_MAX_MS ? WR_SOURCE_RETRY_MAX_MS : ms;
}

uint32_t wr_source_retry_ms(const wr_source_t *s)
{
    return s->retry_ms;
}

int wr_source_read_found(wr_source_read_t *rd, uint32_t *slot)
{
    return s_slot_new(rd->src, INT64_MIN, slot);
}

int wr_source_next(wr_source_t *s, uint32_t max, uint64_t elapsed_ns, wr_source_status_t *st,
                   wr_strbuf_t *err)
{
    wr_batch_clear(s->batch);
    wr_source_read_t rd = {
        .src = s, .max = max < s->batch->cap ? max : s->batch->cap, .elapsed_ns = elapsed_ns};
    *st = WR_SOURCE_MORE;
    s->retry_ms = 0;
    int rc = s->cls->read(s->reader, &rd, st, err);
    assert((rc || rd.run_start == s->batch->count) && "rows read from no split");
    return rc;
}

const wr_batch_t *wr_source_batch(const wr_source_t *s)
{
    return s->batch;
}

bool wr_source_event_time(wr_source_t *s, int64_t *t)
{
    int64_t least = INT64_MAX;
    bool any = false;
    for (uint32_t i = 0; i < s->nslots; i++) {
        const s_slot_t *sl = &s->slots[i];
        if (!sl->live || sl->idle) continue;
        any = true;
        if (sl->event_time < least) least = sl->event_time;
    }
    if (!any) return false;
    if (least > s->floor) s->floor = least;
    *t = s->floor;
    return s->floor != INT64_MIN;
}

/* ---- checkpoints ---- */

int wr_source_snap_split(wr_source_snap_t *snap, uint32_t slot, const char *id, const void *pos,
                         size_t len)
{
    assert(slot < snap->src->nslots && "a split the reader was not given");
    return wr_splits_add(&snap->splits, id, pos, len, snap->src->slots[slot].event_time);
}

uint64_t wr_source_snap_checkpoint(const wr_source_snap_t *snap)
{
    return snap->checkpoint;
}

void wr_source_checkpoint_done(wr_source_t *s, uint64_t checkpoint_id)
{
    if (s->cls->checkpoint_done) s->cls->checkpoint_done(s->reader, checkpoint_id);
}

int wr_source_snapshot(wr_source_t *s, uint64_t checkpoint_id, wr_strbuf_t *out)
{
    wr_source_snap_t snap = {.src = s, .checkpoint = checkpoint_id};
    int rc = s->cls->snapshot(s->reader, &snap);
    if (!rc) rc = wr_splits_encode(&snap.splits, out);
    wr_splits_release(&snap.splits);
    return rc;
}
