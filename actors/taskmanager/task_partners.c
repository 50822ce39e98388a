/* The nodes a subtask exchanges data with, and when one of them is lost (see wr__partners_t in
 * task_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/taskmanager/task_internal.h"
#include "bus/base/error.h"

#define S_CHECK_NS (500 * 1000000LL) /* how often the transport's view is read */

int wr__partners_add(wr__partners_t *p, const char *node)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].node, node)) return 0;
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 4;
        void *v = realloc(p->v, cap * sizeof *p->v);
        if (!v) return WR_ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = (wr__partner_t){.since_ns = 0};
    snprintf(p->v[p->n].node, sizeof p->v[p->n].node, "%s", node);
    p->n++;
    return 0;
}

int wr__partners_check(wr__partners_t *p, wr_node_t *node, int64_t now_ns, char *why, size_t len)
{
    if (!p->n || now_ns - p->checked_ns < S_CHECK_NS) return 0;
    p->checked_ns = now_ns;
    int64_t grace_ns = wr_node_heartbeat_timeout_ms(node) * 1000000LL;
    for (uint32_t i = 0; i < p->n; i++) {
        wr__partner_t *q = &p->v[i];
        wr_peer_info_t info;
        /* not listed: linked a moment ago, not in the transport's snapshot yet; connecting:
         * dialed, not heard from yet (without heartbeats, for good) */
        if (!wr_node_peer(node, q->node, &info) || info.state != WR_PEER_DOWN) {
            q->since_ns = 0;
            continue;
        }
        if (!q->since_ns) q->since_ns = now_ns;
        if (now_ns - q->since_ns < grace_ns) continue;
        /* (the transport's last_heard_ms_ago is as of its last change, not of now) */
        snprintf(why, len,
                 "lost the link to TaskManager %s (it runs subtasks this one exchanges data "
                 "with): %s has had it down for %.1f s, after a heartbeat.timeout of %lld ms",
                 q->node, wr_node_id(node), (double)(now_ns - q->since_ns) / 1e9,
                 (long long)wr_node_heartbeat_timeout_ms(node));
        return WR_EUNREACH;
    }
    return 0;
}

void wr__partners_release(wr__partners_t *p)
{
    free(p->v);
    *p = (wr__partners_t){0};
}
