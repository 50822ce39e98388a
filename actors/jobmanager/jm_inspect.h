/* The JobManager's answers to the CLI's inspection requests, gathered from the nodes:
 *
 *   ACTORS_REQ   every node's row (node_row, bus/messages.h): the JobManager's own, each live
 *                TaskManager's as its system actor answers within S_INSPECT_TIMEOUT_MS (with its
 *                "slots", offered, and "slots_free", of those what its subtasks do not hold as it
 *                last reported), "unresponsive" for one that did not answer, "dead" for each dead
 *                one; in an HA cluster the JobManager's own row says "leader" and each standby
 *                JobManager has a row "standby" (its endpoint, no actors)
 *   MAILBOX_REQ  one actor's mailbox: asked of the node that hosts it (the JobManager's too) and
 *                relayed, or an error naming what is wrong
 *
 * Requests are answered asynchronously: the gatherer keeps each until its asks are answered or
 * timed out. */
#ifndef WR__JM_INSPECT_H
#define WR__JM_INSPECT_H

#include <stdbool.h>

#include "actors/jobmanager/jm_tms.h"
#include "actors/runtime/actor.h"
#include "state/etcd/ha.h"

typedef struct wr__inspect wr__inspect_t;

wr__inspect_t *wr__inspect_new(void);
void wr__inspect_destroy(wr__inspect_t **in);

/* The requests; 0 or WR_ENOMEM (a bad request is answered with an error). */
/* ACTORS_REQ; standbys (n of them, copied; NULL: standalone, where the JobManager's row says
 * "up"): the other JobManagers that campaign, shown beside the leader. */
int wr__inspect_on_actors(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                          const wr_msg_t *m, const wr_ha_addr_t *standbys, size_t n);
int wr__inspect_on_mailbox(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                           const wr_msg_t *m);
/* A reply or TIMEOUT (ACTORS_REPLY, MAILBOX_REPLY, ERROR, TIMEOUT): true when it answered one of
 * the gatherer's asks (then it is handled). */
bool wr__inspect_on_answer(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                           const wr_msg_t *m);

#endif
