/* The JobManager's TaskManager registry (jm_tms.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_tms.h"
#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"

typedef struct {
    char id[WR_NODE_MAX];
    char endpoint[128];
    uint32_t slots;
    uint32_t used;   /* slots held by running jobs */
    uint32_t in_use; /* slots its subtasks hold, as it reported */
    uint64_t incarnation;
    bool alive;
    bool reachable;   /* the bus has heard this incarnation's heartbeat: deployments get through */
    int64_t since_ns; /* when it registered, or when it was declared dead */
    char reason[WR_MSG_REASON_MAX]; /* why it is dead */
} s_tm_t;

struct wr__tms {
    s_tm_t *v;
    size_t n, cap;
};

wr__tms_t *wr__tms_new(void)
{
    return calloc(1, sizeof(wr__tms_t));
}

void wr__tms_destroy(wr__tms_t **tp)
{
    wr__tms_t *t = *tp;
    if (!t) return;
    free(t->v);
    free(t);
    *tp = NULL;
}

void wr__tms_forget(wr__tms_t *t)
{
    t->n = 0;
}

static s_tm_t *s_find(const wr__tms_t *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].id, id)) return &t->v[i];
    return NULL;
}

int wr__tms_parse_register(const wr_msg_t *m, wr__tm_reg_t *out)
{
    wr_msg_tm_register_t r;
    char from_node[WR_NODE_MAX];
    memset(out, 0, sizeof *out);
    if (wr_msg_tm_register_unpack(m, &r) || r.slots == 0 || r.slots > 65536 ||
        !wr_addr_split(m->from, from_node) || strcmp(from_node, r.node))
        return WR_EPROTO;
    memcpy(out->id, r.node, sizeof out->id);
    memcpy(out->cluster, r.cluster, sizeof out->cluster);
    memcpy(out->endpoint, r.endpoint, sizeof out->endpoint);
    out->slots = r.slots;
    out->incarnation = r.incarnation;
    out->in_use = r.slots_in_use;
    return 0;
}

int wr__tms_register(wr__tms_t *t, const wr__tm_reg_t *reg, bool reachable,
                     enum wr__tm_change *change)
{
    s_tm_t *tm = s_find(t, reg->id);
    if (!tm) {
        if (t->n == t->cap) {
            size_t ncap = t->cap ? t->cap * 2 : 8;
            s_tm_t *grown = realloc(t->v, ncap * sizeof *grown);
            if (!grown) return WR_ENOMEM;
            t->v = grown;
            t->cap = ncap;
        }
        tm = &t->v[t->n++];
        memset(tm, 0, sizeof *tm);
        snprintf(tm->id, sizeof tm->id, "%s", reg->id);
    }
    bool fresh = !tm->alive || tm->incarnation != reg->incarnation;
    bool restarted = tm->incarnation && tm->incarnation != reg->incarnation;
    if (restarted) tm->used = 0; /* whatever ran on the old process is gone */
    snprintf(tm->endpoint, sizeof tm->endpoint, "%s", reg->endpoint);
    tm->slots = reg->slots;
    tm->in_use = reg->in_use;
    tm->incarnation = reg->incarnation;
    tm->alive = true;
    if (fresh) tm->reachable = reachable; /* else PEER_UP will say */
    tm->since_ns = wr_now_ns();
    tm->reason[0] = '\0';
    *change = restarted ? WR__TM_RESTARTED : fresh ? WR__TM_NEW : WR__TM_SAME;
    if (fresh)
        wr_info("jobmanager: taskmanager %s registered with %u slots (%s)", tm->id, tm->slots,
                tm->endpoint);
    return 0;
}

void wr__tms_on_peer(wr__tms_t *t, const wr_msg_t *m, bool up, enum wr__tm_change *change,
                     char id[WR_NODE_MAX], char reason[WR_MSG_REASON_MAX])
{
    wr_msg_peer_up_t pu;
    wr_msg_peer_down_t pd;
    *change = WR__TM_SAME;
    id[0] = reason[0] = '\0';
    if (up ? wr_msg_peer_up_unpack(m, &pu) : wr_msg_peer_down_unpack(m, &pd)) return;
    memcpy(id, up ? pu.node : pd.node, WR_NODE_MAX);
    if (!up) memcpy(reason, pd.reason, WR_MSG_REASON_MAX);
    uint64_t inc = up ? pu.incarnation : pd.incarnation;
    s_tm_t *tm = s_find(t, id);
    if (!tm) return;
    /* the process that went down or came up; 0 when the transport had not heard it yet */
    bool same = !inc || inc == tm->incarnation;
    if (same) tm->reachable = up;
    if (!up && tm->alive && same) {
        tm->alive = false;
        tm->since_ns = wr_now_ns();
        snprintf(tm->reason, sizeof tm->reason, "%s", reason);
        wr_warn("jobmanager: taskmanager %s is dead: %s", tm->id, reason);
        *change = WR__TM_DIED;
    } else if (up && !tm->alive && inc == tm->incarnation) {
        /* the very process we registered (it was paused, or its link was cut): alive again */
        tm->alive = true;
        tm->since_ns = wr_now_ns();
        wr_info("jobmanager: taskmanager %s is back", tm->id);
        *change = WR__TM_BACK;
    }
    /* a down for an older incarnation is stale: that TaskManager restarted and registered anew;
     * a new process that comes up registers itself */
}

bool wr__tms_alive(const wr__tms_t *t, const char *id)
{
    const s_tm_t *tm = s_find(t, id);
    return tm && tm->alive;
}

uint32_t wr__tms_free_slots(const wr__tms_t *t, bool reachable_only, uint32_t *alive)
{
    uint32_t free_slots = 0, live = 0;
    for (size_t i = 0; i < t->n; i++) {
        const s_tm_t *tm = &t->v[i];
        if (!tm->alive) continue;
        live++;
        if (!reachable_only || tm->reachable) free_slots += tm->slots - tm->used;
    }
    if (alive) *alive = live;
    return free_slots;
}

int wr__tms_take_slot(wr__tms_t *t, char id[WR_NODE_MAX], char endpoint[128])
{
    s_tm_t *best = NULL;
    for (size_t i = 0; i < t->n; i++) {
        s_tm_t *tm = &t->v[i];
        if (!tm->alive || !tm->reachable || tm->used >= tm->slots) continue;
        if (!best || tm->slots - tm->used > best->slots - best->used) best = tm;
    }
    if (!best) return WR_EAGAIN;
    best->used++;
    snprintf(id, WR_NODE_MAX, "%s", best->id);
    snprintf(endpoint, 128, "%s", best->endpoint);
    return 0;
}

void wr__tms_give_slot(wr__tms_t *t, const char *id)
{
    s_tm_t *tm = s_find(t, id);
    if (tm && tm->used) tm->used--;
}

size_t wr__tms_count(const wr__tms_t *t)
{
    return t->n;
}

static void s_info(const s_tm_t *tm, wr__tm_info_t *out)
{
    *out = (wr__tm_info_t){.id = tm->id,
                           .endpoint = tm->endpoint,
                           .alive = tm->alive,
                           .since_ns = tm->since_ns,
                           .slots = tm->slots,
                           .in_use = tm->in_use};
}

void wr__tms_info(const wr__tms_t *t, size_t i, wr__tm_info_t *out)
{
    s_info(&t->v[i], out);
}

bool wr__tms_find(const wr__tms_t *t, const char *id, wr__tm_info_t *out)
{
    const s_tm_t *tm = s_find(t, id);
    if (tm) s_info(tm, out);
    return tm != NULL;
}
