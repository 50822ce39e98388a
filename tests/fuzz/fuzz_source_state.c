/* libFuzzer target: a source subtask's checkpoint state (actors/connectors/split.h), which comes
 * back from checkpoint files, and what the source connectors make of it on a restore. Input: the
 * state's bytes. Checks that a failure uses a documented code and leaves the list as it was; that
 * what decodes encodes again to a canonical image that decodes to the same splits; that every
 * registered source's enumerator, restoring those splits at parallelism 1 to 3, refuses them with
 * WR_EPROTO (or WR_ETOOBIG) or assigns every split it makes to one of the subtasks (Kafka's
 * aside: it needs a cluster); and that the
 * generator, restored from them, reads, and snapshots splits that decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/generator/generator.h"
#include "actors/connectors/registry/registry.h"
#include "actors/connectors/source.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_copy(const wr_splits_t *from, wr_splits_t *to)
{
    for (uint32_t i = 0; i < from->n; i++)
        if (wr_splits_add(to, from->v[i].id, from->v[i].pos, from->v[i].pos_len,
                          from->v[i].event_time))
            abort();
}

/* The state encodes again to the same bytes once canonical, and decodes to the same splits. */
static void s_round_trip(const wr_splits_t *s)
{
    wr_strbuf_t a, b;
    wr_strbuf_init(&a);
    wr_strbuf_init(&b);
    wr_splits_t again = {0};
    if (wr_splits_encode(s, &a) || wr_splits_decode((const uint8_t *)a.buf, a.len, &again) ||
        again.n != s->n || wr_splits_encode(&again, &b) || a.len != b.len ||
        memcmp(a.buf, b.buf, a.len))
        abort();
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].id, again.v[i].id) || s->v[i].event_time != again.v[i].event_time ||
            s->v[i].pos_len != again.v[i].pos_len ||
            (s->v[i].pos_len && memcmp(s->v[i].pos, again.v[i].pos, s->v[i].pos_len)))
            abort();
    wr_splits_release(&again);
    wr_strbuf_release(&a);
    wr_strbuf_release(&b);
}

/* Every source connector's enumerator over the restored splits, but Kafka's: it asks a cluster
 * for the topics' partitions (its checks of restored splits come before, and
 * tests/test_kafka_source.c's test_foreign_positions feeds them foreign ones). */
static void s_enumerate(const wr_splits_t *restored)
{
    for (size_t c = 0; wr_connectors_source_at(c); c++) {
        const wr_source_class_t *cls = wr_connectors_source_at(c);
        if (!strcmp(cls->type, "kafka")) continue;
        void *config = calloc(1, cls->config_size);
        if (!config || wr_params_defaults(cls->params, cls->nparams, config)) abort();
        for (uint32_t p = 1; p <= 3; p++) {
            wr_splits_t s = {0};
            wr_strbuf_t err;
            wr_strbuf_init(&err);
            s_copy(restored, &s);
            int rc = cls->enumerate(config, p, true, &s, &err);
            if (rc && rc != WR_EPROTO && rc != WR_ETOOBIG) abort();
            for (uint32_t i = 0; !rc && i < s.n; i++)
                if (s.v[i].subtask >= p) abort();
            wr_splits_release(&s);
            wr_strbuf_release(&err);
        }
        wr_params_release(cls->params, cls->nparams, config);
        free(config);
    }
}

/* A generator subtask restored from the splits reads a little and snapshots what decodes. */
static void s_generator(const wr_splits_t *restored)
{
    wr_generator_config_t g;
    wr_generator_config_default(&g);
    g.devices = 7;
    g.total = 100000;
    wr_schema_t schema;
    wr_generator_schema(&schema);
    wr_source_opts_t o = {
        .schema = &schema, .ts_field = 1, .subtask = 1, .parallelism = 2, .batch_records = 64};
    int rc = 0;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_source_t *src = wr_source_new(wr_generator_connector.source, &g, &o, &rc, &err);
    if (!src) abort();
    wr_splits_t s = {0};
    s_copy(restored, &s);
    rc = wr_source_start(src, &s, &err);
    if (rc && rc != WR_EPROTO && rc != WR_ETOOBIG) abort();
    for (int k = 0; !rc && k < 3; k++) {
        wr_source_status_t st;
        if (wr_source_next(src, 64, UINT64_MAX / 2, &st, &err)) abort();
        int64_t t;
        wr_source_event_time(src, &t);
    }
    wr_strbuf_t state;
    wr_strbuf_init(&state);
    wr_splits_t back = {0};
    if (!rc && (wr_source_snapshot(src, 0, &state) ||
                wr_splits_decode((const uint8_t *)state.buf, state.len, &back)))
        abort();
    wr_splits_release(&back);
    wr_strbuf_release(&state);
    wr_splits_release(&s);
    wr_source_destroy(&src);
    wr_strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_splits_t kept = {0}, s = {0};
    if (wr_splits_add(&kept, "kept", "x", 1, 7)) abort(); /* what a failure must leave alone */
    int rc = wr_splits_decode(data, size, &kept);
    if (rc) {
        if (rc != WR_EPROTO && rc != WR_EVERSION && rc != WR_ENOMEM && rc != WR_ETOOBIG) abort();
        if (kept.n != 1 || strcmp(kept.v[0].id, "kept")) abort();
    } else {
        if (wr_splits_decode(data, size, &s) || s.n + 1 != kept.n) abort();
        s_round_trip(&s);
        s_enumerate(&s);
        s_generator(&s);
    }
    wr_splits_release(&kept);
    wr_splits_release(&s);
    return 0;
}
