/* Admission of a submitted job (jm_admit.h). */
#include "actors/jobmanager/jm_admit.h"

#include <stdio.h>

#include "actors/dataflow/job/job_window.h"
#include "bus/base/error.h"
#include "bus/base/units.h"

/* "window NAME (sliding 65min every 1min)" of t, into out (cap bytes). */
static void s_window_name(const wr_topology_t *t, char *out, size_t cap)
{
    const wr_topo_window_t *w = &t->window;
    char a[WR_DURATION_TEXT_MAX], b[WR_DURATION_TEXT_MAX];
    const char *kind = wr_topo_window_kind_name(w->kind);
    if (w->kind == WR_TOPO_WINDOW_SLIDING)
        snprintf(out, cap, "window %s (%s %s every %s)", w->name, kind,
                 wr_duration_text(w->size_ms, a), wr_duration_text(w->slide_ms, b));
    else if (w->kind == WR_TOPO_WINDOW_TUMBLING)
        snprintf(out, cap, "window %s (%s %s)", w->name, kind, wr_duration_text(w->size_ms, a));
    else
        snprintf(out, cap, "window %s (%s, gap %s)", w->name, kind, wr_duration_text(w->gap_ms, a));
}

/* The window operator against the backend the subtasks get: its engine spec as each of them
 * makes it (job_window.h), judged by the check the engine itself runs. */
static int s_admit_window(const wr_topology_t *t, const wr_jobmanager_opts_t *o, char *text,
                          size_t cap)
{
    if (t->window.kind == WR_TOPO_WINDOW_NONE) return 0;
    wr_window_spec_t spec;
    int col_field[WR_AGG_MAX_AGGS];
    wr_job_window_spec(t, o->rocksdb, &spec, col_field);
    if (o->rocksdb) spec.state_dir = o->rocksdb_dir ? o->rocksdb_dir : "";
    wr_window_refusal_t no;
    if (!wr_window_check(&spec, &no)) return 0;
    char op[160], agg[160] = "";
    s_window_name(t, op, sizeof op);
    if (no.agg >= 0 && (uint32_t)no.agg < t->n_aggs) {
        const wr_topo_agg_t *a = &t->aggs[no.agg];
        snprintf(agg, sizeof agg, ", aggregate %s (%s of %s)", a->name, wr_topo_agg_fn_name(a->fn),
                 a->field[0] ? a->field : "records");
    }
    /* would the other backend run it? */
    bool other = false;
    if (o->rocksdb) {
        wr_job_window_spec(t, false, &spec, col_field);
        other = wr_window_check(&spec, NULL) == 0;
    }
    snprintf(text, cap, "the job cannot run: %s%s, state backend %s: %s%s", op, agg,
             o->rocksdb ? "rocksdb" : "memory", no.why,
             other ? " (a JobManager with state.backend: memory runs it)" : "");
    return WR_EINVAL;
}

int wr__jm_admit(const wr_topology_t *t, const wr_jobmanager_opts_t *o, char *text, size_t cap)
{
    return s_admit_window(t, o, text, cap);
}
