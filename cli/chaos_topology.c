/* The user's job of `weir chaos --topology` (chaos_topology.h). */
#include "cli/chaos_topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/file/file.h"
#include "actors/connectors/generator/generator.h"
#include "bus/base/error.h"
#include "cli/chaos_output.h"
#include "cli/chaos_reference.h"

/* Why source s does not end by itself, NULL when it does. */
static const char *s_unbounded(const wr_topo_source_t *s)
{
    if (s->cls == wr_file_connector.source) return NULL; /* reads its file to the end */
    if (!strcmp(s->cls->type, "generator"))
        return ((const wr_generator_config_t *)s->config)->total
                   ? NULL
                   : "a generator without a total never ends (give it total: N)";
    return "weir chaos cannot tell that it ends (a file source or a generator with a total do)";
}

int wr_chaos_topo_load(const char *path, wr_topology_t **out, wr_strbuf_t *err)
{
    wr_topology_t *t = NULL;
    int rc = wr_topology_load_file(path, &t, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    wr_yaml_new_line(err);
    size_t len = err->len;
    for (uint32_t i = 0; i < t->n_sources && err->len == len; i++) {
        const char *why = s_unbounded(&t->sources[i]);
        if (why)
            wr_strbuf_addf(err,
                           "%s: sources[%u] (%s): the job must end by itself, or its reference "
                           "run would never finish: %s",
                           path, i, t->sources[i].name, why);
    }
    for (uint32_t i = 0; i < t->n_sinks && err->len == len; i++)
        if (t->sinks[i].cls != wr_file_connector.sink)
            wr_strbuf_addf(err,
                           "%s: sinks[%u] (%s): %s, not a file sink: weir chaos compares the "
                           "committed files of each sink (type: file)",
                           path, i, t->sinks[i].name, t->sinks[i].cls->noun);
    if (err->len == len && t->window.has_late_sink)
        wr_strbuf_addf(err,
                       "%s: window.late_sink: which records come late depends on timing, so no "
                       "reference run says what it must hold (remove it)",
                       path);
    rc = err->failed ? WR_ENOMEM : err->len != len ? WR_ECONFIG : 0;
    if (rc) wr_topology_destroy(&t);
    *out = t;
    return rc;
}

bool wr_chaos_topo_sink_path(const wr_topology_t *t, uint32_t i, const char *dir, char *out,
                             size_t cap)
{
    const wr_file_sink_config_t *c = t->sinks[i].config;
    int n = snprintf(out, cap, "%s/%s%s", dir, t->sinks[i].name, c->exactly_once ? "" : ".jsonl");
    return n >= 0 && (size_t)n < cap;
}

int wr_chaos_topo_place(wr_topology_t *t, const char *dir, wr_strbuf_t *err)
{
    for (uint32_t i = 0; i < t->n_sinks; i++) {
        char path[4096];
        if (!wr_chaos_topo_sink_path(t, i, dir, path, sizeof path)) {
            wr_strbuf_addf(err, "%s: the sinks' paths under it are too long", dir);
            return WR_EINVAL;
        }
        char *copy = strdup(path);
        if (!copy) {
            wr_strbuf_addf(err, "%s: out of memory", path);
            return WR_ENOMEM;
        }
        wr_file_sink_config_t *c = t->sinks[i].config;
        free(c->path);
        c->path = copy;
    }
    return 0;
}

/* ---- the comparison ---- */

typedef struct {
    wr_chaos_ref_t *ref;
    uint32_t out; /* the sink */
    wr_strbuf_t *err;
} s_cmp_t;

static int s_ref_line(void *ctx, const char *line, size_t len, enum wr_chaos_output_flag flag,
                      const wr_chaos_output_at_t *at)
{
    s_cmp_t *c = ctx;
    int rc = flag == WR_CHAOS_LINE_OK ? wr_chaos_ref_add(c->ref, c->out, line, len) : WR_EPROTO;
    if (rc)
        wr_strbuf_addf(
            c->err, "the reference's %s:%llu: %s", at->file, (unsigned long long)at->line,
            rc == WR_EPROTO ? flag == WR_CHAOS_LINE_TORN ? "a last line without its newline (torn)"
                                                         : "a line longer than 1 MiB"
            : rc == WR_ETOOBIG ? "more distinct lines than the comparison holds"
                               : "out of memory");
    return rc;
}

static int s_run_line(void *ctx, const char *line, size_t len, enum wr_chaos_output_flag flag,
                      const wr_chaos_output_at_t *at)
{
    s_cmp_t *c = ctx;
    const char *base = strrchr(at->file, '/');
    char where[256];
    snprintf(where, sizeof where, "%s:%llu", base ? base + 1 : at->file,
             (unsigned long long)at->line);
    if (flag != WR_CHAOS_LINE_OK) {
        wr_chaos_ref_unexpected(c->ref, line, len,
                                flag == WR_CHAOS_LINE_TORN ? "no newline at the end: a torn line"
                                                           : "a line longer than 1 MiB",
                                where);
        return 0;
    }
    int rc = wr_chaos_ref_see(c->ref, c->out, line, len, where);
    if (rc) wr_strbuf_addf(c->err, "%s: out of memory", where);
    return rc;
}

int wr_chaos_topo_compare(const wr_topology_t *t, const char *ref, const char *run,
                          wr_chaos_verdict_t *v, wr_strbuf_t *err)
{
    memset(v, 0, sizeof *v);
    s_cmp_t c = {.ref = wr_chaos_ref_new(), .err = err};
    if (!c.ref) {
        wr_strbuf_adds(err, "the comparison: out of memory");
        return WR_ENOMEM;
    }
    int rc = 0;
    uint64_t files = 0;
    char path[4096];
    for (uint32_t pass = 0; pass < 2 && !rc; pass++)
        for (c.out = 0; c.out < t->n_sinks && !rc; c.out++) {
            if (!wr_chaos_topo_sink_path(t, c.out, pass ? run : ref, path, sizeof path)) {
                wr_strbuf_addf(err, "%s: the sinks' paths under it are too long", pass ? run : ref);
                rc = WR_EINVAL;
            } else {
                uint64_t n = 0;
                rc = wr_chaos_output_read(path, pass ? s_run_line : s_ref_line, &c, &n, err);
                files += pass ? n : 0;
            }
        }
    if (!rc) {
        wr_chaos_ref_verdict(c.ref, v);
        v->files = files;
    }
    wr_chaos_ref_destroy(&c.ref);
    return rc;
}
