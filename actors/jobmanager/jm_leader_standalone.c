/* Standalone leadership (jm_leader.h): the one JobManager of a cluster without HA leads from its
 * start. Its epoch is the wall clock in milliseconds when it started, so that a restarted
 * JobManager fences the subtasks of the one before; the address and the job records live in
 * memory, so they die with the process (and its jobs with them: there is no standby to read
 * them back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/cluster/cluster.h"
#include "actors/jobmanager/jm_leader.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

typedef struct {
    char id[WR_JOB_ID_MAX];
    uint8_t *graph;
    size_t graph_len;
    uint32_t attempt;
    char checkpoint[WR_TASK_RESTORE_MAX];
} s_record_t;

typedef struct {
    char node_id[WR_NODE_MAX];
    char endpoint[128];
    s_record_t *records;
    size_t n, cap;
} s_standalone_t;

static s_record_t *s_find(s_standalone_t *s, const char *job_id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->records[i].id, job_id)) return &s->records[i];
    return NULL;
}

static int s_start(void *impl, wr_actor_t *self, const char *node_id, const char *endpoint,
                   const wr__leader_events_t *ev)
{
    s_standalone_t *s = impl;
    snprintf(s->node_id, sizeof s->node_id, "%s", node_id);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", endpoint);
    int64_t now = wr_wall_ms();
    ev->granted(ev->ctx, self, now > 0 ? (uint64_t)now : 1);
    return 0;
}

static int s_on_message(void *impl, wr_actor_t *self, const wr_msg_t *m,
                        const wr__leader_events_t *ev)
{
    (void)impl;
    (void)self;
    (void)ev;
    wr_debug("jobmanager: standalone leadership ignores local message %d", m->type);
    return 0;
}

static int s_put_job(void *impl, const char *job_id, const void *graph, size_t len)
{
    s_standalone_t *s = impl;
    if (strlen(job_id) >= WR_JOB_ID_MAX) return WR_EINVAL;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return WR_ENOMEM;
    if (len) memcpy(copy, graph, len);
    s_record_t *r = s_find(s, job_id);
    if (!r) {
        if (s->n == s->cap) {
            size_t ncap = s->cap ? s->cap * 2 : 8;
            s_record_t *grown = realloc(s->records, ncap * sizeof *grown);
            if (!grown) {
                free(copy);
                return WR_ENOMEM;
            }
            s->records = grown;
            s->cap = ncap;
        }
        r = &s->records[s->n++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", job_id);
    }
    free(r->graph);
    r->graph = copy;
    r->graph_len = len;
    return 0;
}

static int s_put_pointer(void *impl, const char *job_id, uint32_t attempt, const char *checkpoint)
{
    s_record_t *r = s_find(impl, job_id);
    if (!r) return WR_ENOTFOUND;
    if (strlen(checkpoint) >= sizeof r->checkpoint) return WR_EINVAL;
    r->attempt = attempt;
    snprintf(r->checkpoint, sizeof r->checkpoint, "%s", checkpoint);
    return 0;
}

static int s_remove_job(void *impl, const char *job_id)
{
    s_standalone_t *s = impl;
    s_record_t *r = s_find(s, job_id);
    if (!r) return 0;
    free(r->graph);
    *r = s->records[--s->n];
    return 0;
}

static int s_jobs(void *impl, int (*each)(void *ctx, const wr__leader_job_t *job), void *ctx)
{
    s_standalone_t *s = impl;
    for (size_t i = 0; i < s->n; i++) {
        const s_record_t *r = &s->records[i];
        wr__leader_job_t job = {.job_id = r->id,
                                .graph = r->graph,
                                .graph_len = r->graph_len,
                                .attempt = r->attempt,
                                .checkpoint = r->checkpoint};
        int rc = each(ctx, &job);
        if (rc) return rc;
    }
    return 0;
}

static void s_address(void *impl, const char **node_id, const char **endpoint)
{
    s_standalone_t *s = impl;
    *node_id = s->node_id;
    *endpoint = s->endpoint;
}

static void s_destroy(void *impl)
{
    s_standalone_t *s = impl;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++)
        free(s->records[i].graph);
    free(s->records);
    free(s);
}

static const wr__leader_ops_t s_ops = {
    .name = "standalone",
    .start = s_start,
    .on_message = s_on_message,
    .put_job = s_put_job,
    .put_pointer = s_put_pointer,
    .remove_job = s_remove_job,
    .jobs = s_jobs,
    .address = s_address,
    .destroy = s_destroy,
};

wr__leader_t *wr__leader_standalone_new(void)
{
    s_standalone_t *s = calloc(1, sizeof *s);
    return s ? wr__leader_new(&s_ops, s) : NULL;
}
