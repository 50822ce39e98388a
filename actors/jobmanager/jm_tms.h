/* The JobManager's TaskManager registry: who registered, with how many slots, which slots the
 * jobs hold, and who is alive.
 *
 * A TaskManager registers with TM_REGISTER (and sends it again every few seconds as its slot
 * report: how many of its slots its subtasks hold). A new process under a known id (another
 * incarnation) restarted: whatever ran on the old one is gone. The bus reports a silent or
 * disconnected TaskManager down (PEER_DOWN: it is dead from then on) and the same process heard
 * again up (PEER_UP: it is back, alive with the subtasks the JobManager thought lost). The
 * registry only records these; the JobManager acts on the changes it returns. */
#ifndef WR__JM_TMS_H
#define WR__JM_TMS_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "bus/messages.h"

typedef struct wr__tms wr__tms_t;

/* TM_REGISTER (bus/messages.h) as read. */
typedef struct {
    char id[WR_NODE_MAX];
    char endpoint[WR_MSG_ENDPOINT_MAX];
    uint32_t slots;
    uint64_t incarnation;
    uint32_t in_use;                  /* slots its subtasks hold, as the TaskManager counts them */
    char cluster[WR_MSG_CLUSTER_MAX]; /* the cluster it belongs to */
} wr__tm_reg_t;

/* What a registration or a peer event changed. */
enum wr__tm_change {
    WR__TM_SAME,      /* nothing: a slot report of a live TaskManager */
    WR__TM_NEW,       /* registered: first time, or again after it was dead */
    WR__TM_RESTARTED, /* registered by a new process under a known id: the old one is gone */
    WR__TM_DIED,      /* declared dead (reason given): its subtasks are lost */
    WR__TM_BACK       /* the process declared dead is heard again: alive */
};

/* One TaskManager as the inspection sees it (strings borrowed until the registry changes). */
typedef struct {
    const char *id, *endpoint;
    bool alive;
    int64_t since_ns; /* when it registered, or was declared dead */
    uint32_t slots;   /* offered */
    uint32_t in_use;  /* held by subtasks, as it last reported */
} wr__tm_info_t;

wr__tms_t *wr__tms_new(void);
void wr__tms_destroy(wr__tms_t **tms);
/* Forgets every TaskManager (a JobManager that stops leading, like Flink's ResourceManager): the
 * slots the jobs held and who was alive were the old epoch's; under the next one each TaskManager
 * registers again and is counted from its registration. */
void wr__tms_forget(wr__tms_t *tms);

/* Reads a TM_REGISTER sent by m->from: WR_EPROTO for a malformed one, one of no slots or more
 * than 65536, or a sender that is not the node it registers. */
int wr__tms_parse_register(const wr_msg_t *m, wr__tm_reg_t *out);
/* Records a registration; reachable: whether the bus gets messages through to it already (a
 * restarted TaskManager's first heartbeat may not have come yet: PEER_UP will say). A restarted
 * one holds no slots any more. 0 or WR_ENOMEM. */
int wr__tms_register(wr__tms_t *tms, const wr__tm_reg_t *reg, bool reachable,
                     enum wr__tm_change *change);
/* Records PEER_UP (up) or PEER_DOWN; *change says what it changed for a registered TaskManager
 * (WR__TM_SAME otherwise, a malformed one included), with its id and, when it died, the
 * reason. */
void wr__tms_on_peer(wr__tms_t *tms, const wr_msg_t *m, bool up, enum wr__tm_change *change,
                     char id[WR_NODE_MAX], char reason[WR_MSG_REASON_MAX]);

bool wr__tms_alive(const wr__tms_t *tms, const char *id);
/* Free slots of the live TaskManagers (reachable ones only when reachable_only), and how many
 * live ones there are (NULL: not wanted). */
uint32_t wr__tms_free_slots(const wr__tms_t *tms, bool reachable_only, uint32_t *alive);
/* Takes a slot on the live, reachable TaskManager with the most free ones: its id and endpoint
 * into id and endpoint. WR_EAGAIN when none is free. */
int wr__tms_take_slot(wr__tms_t *tms, char id[WR_NODE_MAX], char endpoint[128]);
/* Gives a slot taken on id back (nothing when it holds none). */
void wr__tms_give_slot(wr__tms_t *tms, const char *id);

/* The TaskManagers in registration order: i < wr__tms_count. */
size_t wr__tms_count(const wr__tms_t *tms);
void wr__tms_info(const wr__tms_t *tms, size_t i, wr__tm_info_t *out);
/* The one called id; false when unknown. */
bool wr__tms_find(const wr__tms_t *tms, const char *id, wr__tm_info_t *out);

#endif
