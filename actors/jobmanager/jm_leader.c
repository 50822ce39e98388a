/* The leadership service over one implementation (jm_leader.h): it keeps whether this JobManager
 * leads and under which epoch, by standing between the implementation's events and the
 * JobManager's. */
#include <stdlib.h>

#include "actors/jobmanager/jm_leader.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

struct wr__leader {
    const wr__leader_ops_t *ops;
    void *impl;
    bool leading;
    uint64_t epoch;
    wr__leader_events_t mine;   /* what the implementation calls: updates the state above */
    wr__leader_events_t theirs; /* the JobManager's */
};

static void s_granted(void *ctx, wr_actor_t *self, uint64_t epoch)
{
    wr__leader_t *l = ctx;
    if (l->leading && epoch <= l->epoch) {
        wr_warn("jobmanager: %s leadership granted again with epoch %llu (have %llu): ignored",
                l->ops->name, (unsigned long long)epoch, (unsigned long long)l->epoch);
        return;
    }
    l->leading = true;
    l->epoch = epoch;
    if (l->theirs.granted) l->theirs.granted(l->theirs.ctx, self, epoch);
}

static void s_revoked(void *ctx, wr_actor_t *self, const char *why)
{
    wr__leader_t *l = ctx;
    if (!l->leading) return;
    l->leading = false;
    l->epoch = 0;
    if (l->theirs.revoked) l->theirs.revoked(l->theirs.ctx, self, why);
}

wr__leader_t *wr__leader_new(const wr__leader_ops_t *ops, void *impl)
{
    wr__leader_t *l = calloc(1, sizeof *l);
    if (!l) {
        ops->destroy(impl);
        return NULL;
    }
    l->ops = ops;
    l->impl = impl;
    l->mine = (wr__leader_events_t){.granted = s_granted, .revoked = s_revoked, .ctx = l};
    return l;
}

void wr__leader_destroy(wr__leader_t **lp)
{
    wr__leader_t *l = *lp;
    if (!l) return;
    l->ops->destroy(l->impl);
    free(l);
    *lp = NULL;
}

int wr__leader_start(wr__leader_t *l, wr_actor_t *self, const char *node_id, const char *endpoint,
                     const wr__leader_events_t *ev)
{
    l->theirs = *ev;
    return l->ops->start(l->impl, self, node_id, endpoint, &l->mine);
}

int wr__leader_on_message(wr__leader_t *l, wr_actor_t *self, const wr_msg_t *m)
{
    return l->ops->on_message(l->impl, self, m, &l->mine);
}

bool wr__leader_is_leader(const wr__leader_t *l)
{
    return l->leading;
}

uint64_t wr__leader_epoch(const wr__leader_t *l)
{
    return l->leading ? l->epoch : 0;
}

void wr__leader_address(const wr__leader_t *l, const char **node_id, const char **endpoint)
{
    l->ops->address(l->impl, node_id, endpoint);
}

const char *wr__leader_kind(const wr__leader_t *l)
{
    return l->ops->name;
}

int wr__leader_put_job(wr__leader_t *l, const char *job_id, const void *graph, size_t len)
{
    return l->leading ? l->ops->put_job(l->impl, job_id, graph, len) : WR_EINVAL;
}

int wr__leader_put_pointer(wr__leader_t *l, const char *job_id, uint32_t attempt,
                           const char *checkpoint)
{
    return l->leading ? l->ops->put_pointer(l->impl, job_id, attempt, checkpoint) : WR_EINVAL;
}

int wr__leader_remove_job(wr__leader_t *l, const char *job_id)
{
    return l->leading ? l->ops->remove_job(l->impl, job_id) : WR_EINVAL;
}

int wr__leader_jobs(wr__leader_t *l, int (*each)(void *ctx, const wr__leader_job_t *job), void *ctx)
{
    return l->leading ? l->ops->jobs(l->impl, each, ctx) : WR_EINVAL;
}
