#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/cluster.h"
#include "bus/error.h"
#include "bus/log.h"
#include "bus/mp.h"
#include "bus/msgtypes.h"

#define S_TICK (WR_MSG_LOCAL_FIRST + 1)
#define S_REPORT_EVERY 10 /* registered: re-send the registration as a slot report every N ticks */

typedef struct {
    char jm_id[WR_NODE_MAX];
    char jm_endpoint[128];
    char jm_addr[WR_ADDR_MAX];
    uint32_t slots;
    int64_t retry_ms;
    bool registered;
    uint64_t jm_incarnation;
    uint64_t ask; /* outstanding registration ask, 0 when none */
    unsigned ticks;
} s_tm_t;

static int s_register(wr_actor_t *self, s_tm_t *tm)
{
    if (tm->ask) return 0; /* one at a time */
    wr_node_t *node = wr_actor_node(self);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    wr_pack_str(&pk, wr_node_id(node));
    wr_pack_str(&pk, wr_node_endpoint(node));
    msgpack_pack_uint32(&pk, tm->slots);
    msgpack_pack_uint64(&pk, wr_node_incarnation(node));
    int rc = wr_ask(self, tm->jm_addr, WR_MSG_TM_REGISTER, sb.data, sb.size, tm->retry_ms * 2,
                    &tm->ask);
    msgpack_sbuffer_destroy(&sb);
    if (rc) {
        tm->ask = 0;
        wr_debug("taskmanager: registration not sent: %s", wr_strerror(rc));
    }
    return 0; /* retried at the next tick */
}

static int s_on_start(wr_actor_t *self, void *state)
{
    s_tm_t *tm = state;
    wr_node_t *node = wr_actor_node(self);
    tm->registered = false;
    tm->ask = 0;
    int rc = wr_node_connect(node, tm->jm_id, tm->jm_endpoint);
    if (!rc) rc = wr_watch_peer(self, tm->jm_id);
    if (!rc) rc = wr_timer_every(self, tm->retry_ms, S_TICK, NULL);
    if (!rc) rc = s_register(self, tm);
    return rc;
}

static void s_on_registered(s_tm_t *tm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t inc = 0;
    int64_t timeout = 0;
    wr_mp_read_array(&r, &n);
    wr_mp_read_uint(&r, &inc);
    wr_mp_read_int(&r, &timeout);
    if (r.err || n != 2) {
        wr_warn("taskmanager: malformed registration answer from %s", m->from);
        return;
    }
    if (!tm->registered || tm->jm_incarnation != inc)
        wr_info("taskmanager: registered with %s (%u slots)", tm->jm_addr, tm->slots);
    tm->registered = true;
    tm->jm_incarnation = inc;
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_tm_t *tm = state;
    wr_msg_t *m = *msgp;
    if (m->corr && m->corr == tm->ask &&
        (m->type == WR_MSG_TM_REGISTERED || m->type == WR_MSG_TIMEOUT || m->type == WR_MSG_ERROR))
        tm->ask = 0;
    switch (m->type) {
    case WR_MSG_TM_REGISTERED: s_on_registered(tm, m); break;
    case WR_MSG_TIMEOUT:
    case WR_MSG_ERROR:
        if (!tm->registered) wr_debug("taskmanager: %s not answering yet", tm->jm_addr);
        break;
    case S_TICK:
        if (!tm->registered || ++tm->ticks % S_REPORT_EVERY == 0) s_register(self, tm);
        break;
    case WR_MSG_PEER_DOWN:
        if (tm->registered) wr_warn("taskmanager: lost the jobmanager %s; registering again", tm->jm_id);
        tm->registered = false;
        break;
    case WR_MSG_PEER_UP:
        if (!tm->registered) s_register(self, tm);
        break;
    case WR_MSG_PING: wr_reply(self, m, WR_MSG_PONG, m->data, m->len); break;
    default:
        wr_debug("taskmanager: ignoring %s from %s", wr_msg_type_label(m->type), m->from);
        break;
    }
    return 0;
}

static const wr_behaviour_t s_behaviour = {
    .on_start = s_on_start, .on_message = s_on_message, .free_state = free};

int wr_taskmanager_spawn(wr_node_t *node, const wr_taskmanager_opts_t *o)
{
    if (!o->jm_node_id || !wr_node_id_valid(o->jm_node_id) || !o->jm_endpoint ||
        strlen(o->jm_endpoint) >= 128 || o->slots == 0)
        return WR_EINVAL;
    s_tm_t *tm = calloc(1, sizeof *tm);
    if (!tm) return WR_ENOMEM;
    snprintf(tm->jm_id, sizeof tm->jm_id, "%s", o->jm_node_id);
    snprintf(tm->jm_endpoint, sizeof tm->jm_endpoint, "%s", o->jm_endpoint);
    snprintf(tm->jm_addr, sizeof tm->jm_addr, "%s/%s", o->jm_node_id, WR_JOBMANAGER_PATH);
    tm->slots = o->slots;
    tm->retry_ms = o->register_retry_ms ? o->register_retry_ms : 500;
    wr_spawn_opts_t so = {.path = WR_TASKMANAGER_PATH,
                          .behaviour = &s_behaviour,
                          .state = tm,
                          .restart = WR_RESTART_TRANSIENT};
    return wr_actor_spawn(node, &so, NULL);
}
