/* Internal to actors/: the node and actor records shared by node.c, actor.c and system.c. */
#ifndef WR__NODE_INTERNAL_H
#define WR__NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "actors/runtime/node.h"
#include "actors/runtime/timer.h"

enum wr__actor_status { WR__STARTING, WR__RUNNING, WR__STOPPING, WR__STOPPED };

typedef struct {
    uint64_t corr;
    uint64_t timer_id;
} wr__pending_ask_t;

#define WR__TIMED_OUT_RING 32
#define WR__CANCELLED_RING 16 /* timers cancelled lately, whose queued ticks are dropped */

struct wr_actor {
    wr_node_t *node;
    char path[WR_PATH_MAX];
    char addr[WR_ADDR_MAX];
    wr_mailbox_t *mailbox;
    const wr_behaviour_t *behaviour;
    void *state;
    wr_actor_t *supervisor; /* counted reference, or NULL */
    enum wr_restart_policy restart;
    uint32_t max_restarts;
    int64_t restart_window_ms;
    int64_t *restart_times_ns; /* max_restarts entries: when recent restarts happened */
    _Atomic uint64_t restarts;

    _Atomic int refs;
    _Atomic bool scheduled; /* in the run queue or being run */
    wr_actor_t *rq_next;    /* run-queue link, under the node's rq lock */
    uint64_t seq;           /* spawn order */

    /* owned by the actor's turn (one worker at a time) */
    enum wr__actor_status status;
    bool started; /* on_start succeeded: on_stop is owed */
    wr__pending_ask_t *asks;
    size_t nasks, asks_cap;
    uint64_t timed_out[WR__TIMED_OUT_RING];
    size_t timed_out_next;
    uint64_t cancelled[WR__CANCELLED_RING]; /* timer ids */
    size_t cancelled_next;

    pthread_mutex_t children_lock;
    wr_actor_t **children; /* counted references */
    size_t nchildren, children_cap;

    /* rate estimate, updated by the system actor */
    _Atomic uint64_t rate_milli; /* messages per 1000 s */
    uint64_t rate_deq;
    int64_t rate_ns;
};

typedef struct wr__waiter {
    uint64_t corr;
    wr_msg_t *reply;
    struct wr__waiter *next;
} wr__waiter_t;

typedef struct {
    char peer[WR_NODE_MAX];
    wr_actor_t *actor; /* counted */
} wr__watch_t;

struct wr_node {
    wr_node_opts_t o;
    char id[WR_NODE_MAX];
    uint64_t incarnation;
    _Atomic uint64_t next_corr;
    _Atomic bool stopping;

    wr_transport_t *transport;
    wr__timers_t *timers;

    pthread_rwlock_t reg_lock; /* registry: path -> actor */
    wr_actor_t **reg;          /* open addressing, power-of-two size */
    size_t reg_cap, reg_count;
    uint64_t spawn_seq;

    pthread_mutex_t rq_lock; /* run queue of scheduled actors */
    pthread_cond_t rq_cond;
    wr_actor_t *rq_head, *rq_tail;
    size_t rq_len;
    unsigned idle_workers;
    bool rq_stop;
    pthread_t *workers;
    unsigned nworkers;

    pthread_mutex_t wait_lock; /* wr_node_request waiters */
    pthread_cond_t wait_cond;
    wr__waiter_t *waiters;

    pthread_mutex_t watch_lock;
    wr__watch_t *watches;
    size_t nwatches, watches_cap;

    wr_actor_t *system; /* "<id>/node" */
};

/* Puts actor on the run queue if it is not there already. */
void wr__actor_schedule(wr_actor_t *a);
/* Runs one turn of actor a on the calling worker. */
void wr__actor_run_turn(wr_actor_t *a);
/* On one of node's workers: runs one turn of the next queued actor and returns true; false when
 * the caller is not such a worker or nothing is queued. A worker that must wait for room in a
 * mailbox helps drain it this way rather than deadlock when it is the only one that could. */
bool wr__node_help(wr_node_t *node);
/* Local delivery of a fully addressed message; takes *msg on success. */
int wr__node_deliver_local(wr_node_t *node, wr_msg_t **msg);
/* Registry insertion at spawn: WR_EEXIST, WR_ECLOSED (node stopping) or WR_ENOMEM. */
int wr__node_register(wr_node_t *node, wr_actor_t *a);
/* A fresh correlation id, unique on this node and unlikely to collide with other nodes'. */
uint64_t wr__node_next_corr(wr_node_t *node);
/* Registry removal when an actor stops. */
void wr__node_unregister(wr_node_t *node, wr_actor_t *a);
/* Drops every peer watch held by a. */
void wr__node_unwatch_all(wr_node_t *node, wr_actor_t *a);
/* Spawns the node's system actor. */
int wr__system_spawn(wr_node_t *node);
/* Sends an ERROR reply [code, text] for request m (when m came from an actor and has a corr). */
void wr__reply_error(wr_node_t *node, const wr_msg_t *m, int code, const char *text);

#endif
