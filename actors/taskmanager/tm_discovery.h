/* How a TaskManager of an HA cluster finds the leader: a thread that asks etcd who leads
 * (state/etcd/ha.h: the oldest candidacy) every renew interval and tells the TaskManager actor
 * whenever the answer changes, with a local message whose payload is a wr_ha_candidate_t. While
 * etcd does not answer, nothing is said: the TaskManager keeps the leader it has (whose own lease
 * decides whether it still leads). Like Flink's leader retrieval service. */
#ifndef WR__TM_DISCOVERY_H
#define WR__TM_DISCOVERY_H

#include <stdint.h>

#include "actors/runtime/node.h"
#include "bus/base/strbuf.h"
#include "state/etcd/ha.h"

typedef struct wr__discovery wr__discovery_t;

/* Starts asking (o is copied); the messages of type `type` go to the actor at address `to` on
 * node. NULL when o does not check (the reason in err), the thread cannot start, or out of
 * memory. */
wr__discovery_t *wr__discovery_start(const wr_ha_opts_t *o, wr_node_t *node, const char *to,
                                     uint16_t type, wr_strbuf_t *err);
/* Stops the thread (waits for it) and frees d. NULL-safe; nulls *d. */
void wr__discovery_stop(wr__discovery_t **d);

#endif
