/* The JobManager's restart strategies and each job's failover record (jm_restart.h). */
#include <stdlib.h>

#include "actors/jobmanager/jm_restart.h"

struct wr__restart {
    uint32_t restarts;
    int64_t restart_at_ms;  /* the next attempt is due from then on (once slots allow) */
    int64_t failed_at_ms;   /* the last failure (for the recovery time) */
    int64_t *failure_times; /* failure-rate strategy: recent failures, ms */
    uint32_t nfailure_times;
    int64_t backoff_ms;   /* exponential-delay: the next delay */
    int64_t recovered_ms; /* how long the last recovery took: failure -> running again */
};

wr__restart_t *wr__restart_new(void)
{
    return calloc(1, sizeof(wr__restart_t));
}

void wr__restart_destroy(wr__restart_t **rp)
{
    wr__restart_t *r = *rp;
    if (!r) return;
    free(r->failure_times);
    free(r);
    *rp = NULL;
}

/* May the job restart now, and after how long? */
static bool s_allowed(const wr_restart_opts_t *o, bool checkpointing, wr__restart_t *r, int64_t now,
                      int64_t *delay)
{
    wr_restart_kind_t kind = o->kind;
    if (kind == WR_RESTART_AUTO) kind = checkpointing ? WR_RESTART_FIXED_DELAY : WR_RESTART_NONE;
    switch (kind) {
    case WR_RESTART_FIXED_DELAY:
        *delay = o->delay_ms;
        return r->restarts < o->attempts;
    case WR_RESTART_EXPONENTIAL:
        if (!r->backoff_ms || (r->failed_at_ms && now - r->failed_at_ms > o->reset_threshold_ms))
            r->backoff_ms = o->initial_backoff_ms;
        *delay = r->backoff_ms;
        r->backoff_ms = r->backoff_ms > o->max_backoff_ms / (o->multiplier ? o->multiplier : 1)
                            ? o->max_backoff_ms
                            : r->backoff_ms * o->multiplier;
        return true;
    case WR_RESTART_FAILURE_RATE: {
        uint32_t kept = 0;
        for (uint32_t i = 0; i < r->nfailure_times; i++)
            if (now - r->failure_times[i] < o->failure_interval_ms)
                r->failure_times[kept++] = r->failure_times[i];
        int64_t *grown = realloc(r->failure_times, (kept + 1) * sizeof *grown);
        if (!grown) return false;
        r->failure_times = grown;
        r->failure_times[kept++] = now;
        r->nfailure_times = kept;
        *delay = o->delay_ms;
        return kept <= o->max_failures;
    }
    case WR_RESTART_AUTO:
    case WR_RESTART_NONE:
        break;
    }
    return false;
}

bool wr__restart_on_failure(wr__restart_t *r, const wr_restart_opts_t *o, bool checkpointing,
                            int64_t now, int64_t *delay)
{
    *delay = 0;
    if (!s_allowed(o, checkpointing, r, now, delay)) return false;
    r->restart_at_ms = now + *delay;
    r->failed_at_ms = now;
    r->recovered_ms = 0;
    r->restarts++;
    return true;
}

void wr__restart_schedule(wr__restart_t *r, int64_t at)
{
    r->restart_at_ms = at;
}

bool wr__restart_due(const wr__restart_t *r, int64_t now)
{
    return now >= r->restart_at_ms;
}

bool wr__restart_recovering(const wr__restart_t *r)
{
    return r->failed_at_ms && !r->recovered_ms;
}

void wr__restart_recovered(wr__restart_t *r, int64_t now)
{
    if (wr__restart_recovering(r)) r->recovered_ms = now - r->failed_at_ms;
}

uint32_t wr__restart_count(const wr__restart_t *r)
{
    return r->restarts;
}

int64_t wr__restart_recovery_ms(const wr__restart_t *r)
{
    return r->recovered_ms;
}
