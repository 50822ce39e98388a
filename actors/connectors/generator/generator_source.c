/* The generator as a source connector (generator.h): its keys, its offset streams as splits
 * (enumerated fresh, or dealt out again from a checkpoint), and the reader that fills batches
 * from them in offset order, paced. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/generator/generator.h"
#include "bus/base/error.h"

#define S_DAY INT64_C(86400000)

static const wr_param_t s_params[] = {
    {.key = "devices",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_generator_config_t, devices),
     .lo = 1,
     .hi = (int64_t)WR_GEN_MAX_DEVICES,
     .dflt = "5000000",
     .doc = "device ids 0 .. devices-1"},
    {.key = "total",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_generator_config_t, total),
     .lo = 0,
     .hi = INT64_MAX,
     .dflt = "0",
     .doc = "records in all; 0: unbounded"},
    {.key = "rate",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_generator_config_t, rate),
     .lo = 0,
     .hi = (int64_t)WR_GEN_MAX_RATE,
     .dflt = "0",
     .doc = "records per second over all subtasks; 0: not paced by rate"},
    {.key = "speedup",
     .type = WR_PARAM_DOUBLE,
     WR_PARAM_AT(wr_generator_config_t, speedup),
     .dlo = 0,
     .dhi = WR_GEN_MAX_SPEEDUP,
     .dflt = "0",
     .doc = "event time this many times faster than the wall clock; 0: not paced by speedup"},
    {.key = "start",
     .type = WR_PARAM_TIME,
     WR_PARAM_AT(wr_generator_config_t, start_ms),
     .lo = INT64_C(-62167219200000), /* 0000-01-01 .. 9999-12-31 */
     .hi = INT64_C(253402300799999),
     .dflt = "2024-01-01T00:00:00Z",
     .doc = "event time of the first record"},
    {.key = "interval",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_generator_config_t, interval_ms),
     .lo = 1,
     .hi = WR_GEN_MAX_INTERVAL,
     .dflt = "10s",
     .doc = "event time between two readings of one device"},
    {.key = "jitter",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_generator_config_t, jitter_ms),
     .lo = 0,
     .hi = WR_GEN_MAX_JITTER,
     .dflt = "2s",
     .doc = "how far a reading falls behind its nominal time, at most"},
    {.key = "late_fraction",
     .type = WR_PARAM_DOUBLE,
     WR_PARAM_AT(wr_generator_config_t, late_fraction),
     .dlo = 0,
     .dhi = 1,
     .dflt = "0",
     .doc = "the fraction of readings made late"},
    {.key = "late_by",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_generator_config_t, late_ms),
     .lo = 1,
     .hi = WR_GEN_MAX_LATE,
     .dflt = "1min",
     .doc = "how late a late reading is"},
    {.key = "seed",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_generator_config_t, seed),
     .lo = 0,
     .hi = INT64_MAX,
     .dflt = "42",
     .doc = "the random function's seed"},
};

enum { S_NPARAMS = sizeof s_params / sizeof *s_params };

void wr_generator_config_default(wr_generator_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    wr_params_defaults(s_params, S_NPARAMS, cfg); /* no strings: it cannot fail */
}

static int s_check(void *config, const wr_param_check_t *ck)
{
    const wr_generator_config_t *g = config;
    if (g->rate && g->speedup > 0)
        return wr_param_fail(ck, "speedup", "give rate or speedup, not both");
    return 0;
}

static void s_schema(const void *config, wr_schema_t *out)
{
    (void)config;
    wr_generator_schema(out);
}

static bool s_key_hint(const void *config, const char *key_field, uint64_t *keys,
                       int64_t *interval_ms)
{
    const wr_generator_config_t *g = config;
    if (strcmp(key_field, "device")) return false;
    *keys = g->devices; /* each reports once every interval */
    *interval_ms = g->interval_ms;
    return true;
}

/* ---- streams as splits ---- */

typedef struct {
    uint64_t next, stride;
    uint32_t slot; /* the reader's split number */
} s_stream_t;

/* Offsets of stream st below limit. */
static uint64_t s_left(const s_stream_t *st, uint64_t limit)
{
    return st->next >= limit ? 0 : (limit - st->next - 1) / st->stride + 1;
}

static void s_id(const s_stream_t *st, char id[WR_SPLIT_ID_MAX])
{
    snprintf(id, WR_SPLIT_ID_MAX, "%" PRIu64 "/%" PRIu64, st->next % st->stride, st->stride);
}

/* Stream st (pace base `base`) as a split's id and position [next, stride, base]. */
static int s_split_of(const s_stream_t *st, uint64_t base, char id[WR_SPLIT_ID_MAX],
                      wr_strbuf_t *pos)
{
    s_id(st, id);
    return wr_split_position_pack((const uint64_t[]){st->next, st->stride, base}, 3, pos);
}

/* A split's stream and pace base: WR_EPROTO unless it is one, its id saying the same. */
static int s_stream_of(const wr_split_t *s, s_stream_t *st, uint64_t *base)
{
    uint64_t v[3];
    if (wr_split_position_read(s, v, 3) || !v[1]) return WR_EPROTO;
    *st = (s_stream_t){.next = v[0], .stride = v[1]};
    *base = v[2];
    char id[WR_SPLIT_ID_MAX];
    s_id(st, id);
    return strcmp(id, s->id) ? WR_EPROTO : 0;
}

int wr_generator_split_position(const wr_split_t *s, uint64_t *next, uint64_t *stride)
{
    s_stream_t st;
    uint64_t base;
    int rc = s_stream_of(s, &st, &base);
    if (!rc) *next = st.next, *stride = st.stride;
    return rc;
}

/* Splits the stream with the most offsets left below total (the first on ties; *which gets it)
 * into its even and odd steps; the odd one goes last, if it has any offset left. */
static int s_split(s_stream_t *v, uint32_t *n, uint64_t total, uint32_t *which)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < *n; i++)
        if (s_left(&v[i], total) > s_left(&v[best], total)) best = i;
    *which = best;
    s_stream_t *st = &v[best];
    if (st->stride > UINT64_MAX / 2) return WR_ETOOBIG;
    s_stream_t odd = {.next = st->next + st->stride, .stride = st->stride * 2};
    st->stride *= 2;
    if (odd.next < total && odd.next > st->next) v[(*n)++] = odd;
    return 0;
}

/* Fresh: stream (i, p) for subtask i. Restored: the streams not exhausted, in the order of the
 * old subtasks, split while fewer than p, each paced from the least offset any had reached;
 * stream k to subtask k mod p. */
static int s_enumerate(const void *config, uint32_t parallelism, bool restored, wr_splits_t *splits,
                       wr_strbuf_t *err)
{
    const wr_generator_config_t *g = config;
    uint64_t total = g->total ? g->total : UINT64_MAX, base = 0;
    uint32_t n = 0, events = restored ? splits->n : 0;
    s_stream_t *v = calloc((size_t)(restored ? splits->n : 0) + parallelism + 1, sizeof *v);
    int64_t *event_time =
        calloc((size_t)(restored ? splits->n : 0) + parallelism + 1, sizeof *event_time);
    int rc = v && event_time ? 0 : WR_ENOMEM;
    for (uint32_t i = 0; !rc && !restored && i < parallelism && i < total; i++) {
        v[n] = (s_stream_t){.next = i, .stride = parallelism};
        event_time[n++] = INT64_MIN;
    }
    for (uint32_t i = 0; !rc && i < events; i++) {
        s_stream_t st;
        uint64_t old_base;
        if ((rc = s_stream_of(&splits->v[i], &st, &old_base))) {
            wr_strbuf_addf(err, "generator: split %s of the checkpoint is not a stream of offsets",
                           splits->v[i].id);
            break;
        }
        if (st.next >= total) continue; /* exhausted */
        event_time[n] = splits->v[i].event_time;
        v[n++] = st;
    }
    /* deal the streams out: split while there are fewer than subtasks; the halves keep the
     * event time of the stream they came from */
    while (!rc && restored && n && n < parallelism) {
        uint32_t before = n, halved = 0;
        rc = s_split(v, &n, total, &halved);
        if (n == before) break; /* no stream has two offsets left */
        event_time[n - 1] = event_time[halved];
    }
    if (restored) { /* the offset every stream reached: made before the restore */
        base = n ? UINT64_MAX : 0;
        for (uint32_t i = 0; i < n; i++)
            if (v[i].next < base) base = v[i].next;
    }
    wr_splits_clear(splits);
    wr_strbuf_t pos;
    wr_strbuf_init(&pos);
    for (uint32_t i = 0; !rc && i < n; i++) {
        char id[WR_SPLIT_ID_MAX];
        wr_strbuf_reset(&pos);
        rc = s_split_of(&v[i], base, id, &pos);
        if (!rc) rc = wr_splits_add(splits, id, pos.buf, pos.len, event_time[i]);
    }
    wr_strbuf_release(&pos);
    free(v);
    free(event_time);
    if (!rc) wr_splits_assign(splits, parallelism);
    return rc;
}

/* ---- the reader ---- */

typedef struct {
    wr_generator_t *gen;
    uint64_t total;     /* UINT64_MAX: unbounded */
    uint64_t pace_base; /* a restored run: records made before it (pacing goes on from there) */
    s_stream_t *streams;
    uint32_t n, cap;
} s_reader_t;

static void s_close(void **rp)
{
    s_reader_t *r = *rp;
    if (!r) return;
    wr_generator_destroy(&r->gen);
    free(r->streams);
    free(r);
    *rp = NULL;
}

static int s_open(const void *config, const wr_source_open_t *o, void **rp, wr_strbuf_t *err)
{
    (void)o;
    s_reader_t *r = calloc(1, sizeof *r);
    if (!r) return WR_ENOMEM;
    *rp = r;
    if (!(r->gen = wr_generator_new(config))) {
        wr_strbuf_adds(err, "generator: invalid configuration");
        s_close(rp);
        return WR_EINVAL;
    }
    r->total = wr_generator_total(r->gen);
    return 0;
}

static int s_add_split(void *rp, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    s_stream_t st;
    uint64_t base;
    if (s_stream_of(s, &st, &base)) {
        wr_strbuf_addf(err, "generator: split %s is not a stream of offsets", s->id);
        return WR_EPROTO;
    }
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? 2 * r->cap : 4;
        s_stream_t *v = realloc(r->streams, cap * sizeof *v);
        if (!v) return WR_ENOMEM;
        r->streams = v;
        r->cap = cap;
    }
    st.slot = slot;
    r->streams[r->n++] = st;
    r->pace_base = base; /* the same for every split of a restore */
    return 0;
}

/* Two streams that interleave exactly, (x, 2d) and (x + d, 2d), are one: (x, d). */
static void s_merge_streams(s_reader_t *r, wr_source_read_t *rd)
{
    for (bool merged = true; merged;) {
        merged = false;
        for (uint32_t i = 0; i < r->n && !merged; i++) {
            for (uint32_t j = 0; j < r->n && !merged; j++) {
                s_stream_t *a = &r->streams[i], *b = &r->streams[j];
                if (i == j || a->stride != b->stride || a->stride % 2 ||
                    b->next != a->next + a->stride / 2)
                    continue;
                a->stride /= 2;
                wr_source_read_merged(rd, b->slot, a->slot);
                r->streams[j] = r->streams[--r->n];
                merged = true;
            }
        }
    }
}

/* Fills the batch with the streams' next records in offset order (event time then stays in
 * order as in one stream): runs of the stream furthest behind up to the next one's offset. */
static int s_read(void *rp, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err)
{
    (void)err;
    s_reader_t *r = rp;
    wr_batch_t *b = wr_source_read_batch(rd);
    if (r->n > 1) s_merge_streams(r, rd);
    uint64_t due = wr_generator_due(r->gen, wr_source_read_elapsed_ns(rd));
    if (due != UINT64_MAX) due = due > UINT64_MAX - r->pace_base ? UINT64_MAX : due + r->pace_base;
    uint64_t limit = due < r->total ? due : r->total;
    uint32_t max = wr_source_read_room(rd), filled = 0;
    while (filled < max && r->n) {
        uint32_t k = 0; /* the stream furthest behind, and where the next one stands */
        uint64_t second = limit;
        for (uint32_t i = 1; i < r->n; i++) {
            if (r->streams[i].next < r->streams[k].next) {
                if (r->streams[k].next < second) second = r->streams[k].next;
                k = i;
            } else if (r->streams[i].next < second) {
                second = r->streams[i].next;
            }
        }
        s_stream_t *s = &r->streams[k];
        uint64_t n = s_left(s, second);
        if (!n) break; /* paced: nothing more due yet */
        if (n > max - filled) n = max - filled;
        int rc = wr_generator_fill_strided(r->gen, s->next, s->stride, (uint32_t)n, b);
        if (rc) return rc;
        wr_source_read_rows(rd, s->slot);
        s->next += n * s->stride;
        filled += (uint32_t)n;
        if (s->next >= r->total) { /* exhausted */
            wr_source_read_done(rd, s->slot);
            *s = r->streams[--r->n];
        }
        if (r->n > 1) s_merge_streams(r, rd);
    }
    *st = filled ? WR_SOURCE_MORE : r->n ? WR_SOURCE_WAIT : WR_SOURCE_END;
    return 0;
}

static int s_snapshot(void *rp, wr_source_snap_t *snap)
{
    s_reader_t *r = rp;
    wr_strbuf_t pos;
    wr_strbuf_init(&pos);
    int rc = 0;
    for (uint32_t i = 0; i < r->n && !rc; i++) {
        char id[WR_SPLIT_ID_MAX];
        wr_strbuf_reset(&pos);
        rc = s_split_of(&r->streams[i], r->pace_base, id, &pos);
        if (!rc) rc = wr_source_snap_split(snap, r->streams[i].slot, id, pos.buf, pos.len);
    }
    wr_strbuf_release(&pos);
    return rc;
}

static const wr_source_class_t s_source = {
    .type = "generator",
    .noun = "a generator",
    .params = s_params,
    .nparams = S_NPARAMS,
    .config_size = sizeof(wr_generator_config_t),
    .check = s_check,
    .schema = s_schema,
    .key_hint = s_key_hint,
    .enumerate = s_enumerate,
    .open = s_open,
    .close = s_close,
    .add_split = s_add_split,
    .read = s_read,
    .snapshot = s_snapshot,
};

const wr_connector_t wr_generator_connector = {.source = &s_source};
