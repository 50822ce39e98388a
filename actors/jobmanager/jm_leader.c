/* The leadership service over one implementation (jm_leader.h): it keeps whether this JobManager
 * leads and under which epoch, by standing between the implementation's events and the
 * JobManager's. */
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_leader.h"
#include "actors/runtime/node.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

/* The service's own local message: a deposed leader's revocation, delivered after the call
 * that found it (an implementation's types stay below it). */
#define S_DEPOSED WR__LEADER_MSG_LAST

struct wr__leader {
    const wr__leader_ops_t *ops;
    void *impl;
    bool leading;
    bool deposed; /* a fenced write found a newer leader: S_DEPOSED is on its way */
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
    l->deposed = false;
    l->epoch = epoch;
    if (l->theirs.granted) l->theirs.granted(l->theirs.ctx, self, epoch);
}

static void s_revoked(void *ctx, wr_actor_t *self, const char *why)
{
    wr__leader_t *l = ctx;
    if (!l->leading) return;
    l->leading = false;
    l->deposed = false;
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
    if (m->type == S_DEPOSED) {
        if (l->deposed) s_revoked(l, self, "a newer leader's epoch is in etcd (deposed)");
        return 0;
    }
    return l->ops->on_message(l->impl, self, m, &l->mine);
}

bool wr__leader_is_leader(const wr__leader_t *l)
{
    return l->leading && !l->deposed && (!l->ops->holds || l->ops->holds(l->impl));
}

/* rc of a fenced call: a WR_ESTALE deposes this leader (revoked on the next message). */
static int s_check(wr__leader_t *l, wr_actor_t *self, int rc)
{
    if (rc != WR_ESTALE || l->deposed || !l->leading) return rc;
    l->deposed = true;
    wr_warn("jobmanager: deposed: a newer leader holds the cluster (epoch %llu is stale)",
            (unsigned long long)l->epoch);
    wr_msg_t *m = wr_msg_new(S_DEPOSED, NULL, wr_actor_addr(self), NULL, 0);
    int src = m ? wr_node_send(wr_actor_node(self), &m) : WR_ENOMEM;
    wr_msg_destroy(&m);
    if (src) s_revoked(l, self, "deposed"); /* (only when the mailbox cannot take it) */
    return rc;
}

int wr__leader_fence(wr__leader_t *l, wr_actor_t *self)
{
    if (!wr__leader_is_leader(l)) return WR_ESTALE;
    return s_check(l, self, l->ops->fence ? l->ops->fence(l->impl) : 0);
}

size_t wr__leader_candidates(const wr__leader_t *l, wr_ha_candidate_t *out, size_t cap)
{
    return l->ops->candidates ? l->ops->candidates(l->impl, out, cap) : 0;
}

size_t wr__leader_standbys(const wr__leader_t *l, const char *node_id, wr_ha_candidate_t *out,
                           size_t cap)
{
    wr_ha_candidate_t c[WR_HA_CANDIDATES];
    size_t n = wr__leader_candidates(l, c, WR_HA_CANDIDATES), k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        if (strcmp(c[i].addr.node, node_id)) out[k++] = c[i];
    return k;
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

int wr__leader_put_job(wr__leader_t *l, wr_actor_t *self, const char *job_id, const void *graph,
                       size_t len)
{
    if (!wr__leader_is_leader(l)) return WR_ESTALE;
    return s_check(l, self, l->ops->put_job(l->impl, job_id, graph, len));
}

int wr__leader_put_pointer(wr__leader_t *l, wr_actor_t *self, const char *job_id, uint32_t attempt,
                           const char *checkpoint)
{
    if (!wr__leader_is_leader(l)) return WR_ESTALE;
    return s_check(l, self, l->ops->put_pointer(l->impl, job_id, attempt, checkpoint));
}

int wr__leader_remove_job(wr__leader_t *l, wr_actor_t *self, const char *job_id)
{
    if (!wr__leader_is_leader(l)) return WR_ESTALE;
    return s_check(l, self, l->ops->remove_job(l->impl, job_id));
}

int wr__leader_jobs(wr__leader_t *l, int (*each)(void *ctx, const wr__leader_job_t *job), void *ctx)
{
    return l->leading ? l->ops->jobs(l->impl, each, ctx) : WR_ESTALE;
}
