/* A job's connectors as the JobManager and the subtasks see them (job_connectors.h). */
#include "actors/dataflow/job/job_connectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "state/ckpt_store.h"

void wr_job_sink_state_name(uint32_t i, char out[16])
{
    snprintf(out, 16, "sink-%u", i);
}

static bool s_exactly_once(const wr_topo_sink_t *s)
{
    return s->cls->guarantee && s->cls->guarantee(s->config) == WR_SINK_EXACTLY_ONCE;
}

uint32_t wr_job_first_attempt(const wr_topology_t *t)
{
    uint32_t first = 0;
    for (uint32_t i = 0; i < t->n_sinks; i++) {
        const wr_topo_sink_t *s = &t->sinks[i];
        if (!s_exactly_once(s) || !s->cls->first_attempt) continue;
        uint32_t a = s->cls->first_attempt(s->config);
        if (a > first) first = a;
    }
    return first;
}

/* Sink i's committables in meta: its state in every subtask of the vertex that holds the sinks. */
static int s_recover(const wr_topo_sink_t *s, uint32_t i, const wr_plan_t *plan,
                     const wr_ckpt_meta_t *meta, uint32_t attempt, wr_strbuf_t *err)
{
    char name[16];
    wr_job_sink_state_name(i, name);
    uint32_t cap = meta ? meta->ntasks : 0, n = 0;
    const uint8_t **states = calloc(cap + 1, sizeof *states);
    size_t *lens = calloc(cap + 1, sizeof *lens);
    int rc = states && lens ? 0 : WR_ENOMEM;
    for (uint32_t k = 0; !rc && k < cap; k++) {
        const wr_ckpt_task_t *ts = &meta->tasks[k];
        if (ts->vertex >= plan->n || !plan->v[ts->vertex].sinks) continue;
        for (uint32_t b = 0; b < ts->nblobs; b++) {
            if (strcmp(ts->blobs[b].name, name) || ts->blobs[b].kind != WR_CKPT_BLOB_INLINE)
                continue;
            states[n] = ts->blobs[b].data;
            lens[n++] = ts->blobs[b].len;
        }
    }
    wr_sink_recover_t r = {.states = states, .lens = lens, .n = n, .attempt = attempt};
    if (!rc) rc = s->cls->recover(s->config, &r, err);
    if (rc && !err->len) wr_strbuf_addf(err, "sink %s: %s", s->name, wr_strerror(rc));
    free(states);
    free(lens);
    return rc;
}

int wr_job_recover_sinks(const wr_topology_t *t, const wr_plan_t *plan, const char *restore,
                         uint32_t attempt, wr_strbuf_t *err)
{
    wr_ckpt_meta_t *meta = NULL;
    int rc = 0;
    for (uint32_t i = 0; i < t->n_sinks && !rc; i++) {
        const wr_topo_sink_t *s = &t->sinks[i];
        if (!s_exactly_once(s) || !s->cls->recover) continue;
        if (restore[0] && !meta && !(meta = wr_ckpt_load(restore, &rc))) {
            wr_strbuf_addf(err, "cannot read checkpoint %s: %s", restore, wr_strerror(rc));
            break;
        }
        rc = s_recover(s, i, plan, meta, attempt, err);
    }
    wr_ckpt_meta_destroy(&meta);
    return rc;
}

static void s_resources(const wr_topo_sink_t *s, wr_strbuf_t *out)
{
    if (s->cls->resources) s->cls->resources(s->config, out);
}

void wr_job_resources(const wr_topology_t *t, wr_strbuf_t *out)
{
    for (uint32_t i = 0; i < t->n_sinks; i++)
        s_resources(&t->sinks[i], out);
    if (t->window.has_late_sink) s_resources(&t->window.late_sink, out);
}

static void s_sink_paths(const wr_topo_sink_t *s, wr_strbuf_t *out)
{
    if (s->cls->paths) s->cls->paths(s->config, out);
}

void wr_job_paths(const wr_topology_t *t, wr_strbuf_t *sources, wr_strbuf_t *sinks)
{
    for (uint32_t i = 0; i < t->n_sources; i++)
        if (t->sources[i].cls->paths) t->sources[i].cls->paths(t->sources[i].config, sources);
    for (uint32_t i = 0; i < t->n_sinks; i++)
        s_sink_paths(&t->sinks[i], sinks);
    if (t->window.has_late_sink) s_sink_paths(&t->window.late_sink, sinks);
}

/* Whether resource x (xn bytes) is resource y or holds it: a folder ("...x/") holds what starts
 * with it. */
static bool s_holds(const char *x, size_t xn, const char *y, size_t yn)
{
    if (xn == yn) return !memcmp(x, y, xn);
    return xn < yn && xn && x[xn - 1] == '/' && !memcmp(x, y, xn);
}

const char *wr_job_resources_shared(const char *a, const char *b, size_t *len)
{
    for (const char *x = a, *xe; (xe = strchr(x, '\n')); x = xe + 1) {
        size_t xn = (size_t)(xe - x);
        for (const char *y = b, *ye; (ye = strchr(y, '\n')); y = ye + 1) {
            size_t yn = (size_t)(ye - y);
            if (s_holds(x, xn, y, yn) || s_holds(y, yn, x, xn)) {
                *len = xn;
                return x;
            }
        }
    }
    return NULL;
}
