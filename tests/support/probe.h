/* The node tests' helpers (test_node, test_node_scheduling, test_node_supervision): a node made
 * for a test, messages sent from outside the actor system, and the probe, a scriptable actor that
 * records what happens to it. tp_ is for "test probe".
 *
 *     wr_node_t *n = tp_node("n1", 2, 0);
 *     tp_probe_t p;
 *     tp_probe_init(&p);
 *     p.target = "n1/echo";                         // the script: set before spawning
 *     wr_actor_t *ref = tp_spawn_probe(n, "client", &p, NULL);
 *     tp_tell(n, "n1/client", TP_ASK, NULL, 0);    // the probe asks its target
 *     assert_true(wr_test_wait_count(&p.replies, 1, WR_TEST_WAIT_MS));
 *     wr_actor_unref(&ref);
 *     wr_node_destroy(&n);
 *     tp_probe_release(&p);                         // after the node: its messages
 *
 * What a test sets up (a node, a spawn, a send) fails the test when it does not work; what it
 * checks, these return. */
#ifndef WR_TEST_PROBE_H
#define WR_TEST_PROBE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/runtime/node.h"
#include "bus/msgtypes.h"
#include "tests/support/actor.h"

/* Process-private message types: the first six script the probe, the rest are the tests' own. */
enum {
    TP_DATA = WR_MSG_LOCAL_FIRST + 1, /* just recorded */
    TP_FAIL,                          /* the handler returns WR_EIO */
    TP_ASK,                           /* ask probe->target with TP_QUESTION (or ask_type) */
    TP_QUESTION,                      /* an echo replies to it; the answer to TP_ASK */
    TP_KEEP,                          /* kept unanswered until TP_RELEASE */
    TP_RELEASE,                       /* reply to the kept request now */
    TP_TICK,
    TP_ONCE,
    TP_NEVER,
};

/* A new node with that id, worker threads and turn budget (0: the default); fails the test when
 * it cannot be made. */
wr_node_t *tp_node(const char *id, unsigned threads, uint32_t turn_budget);
/* Sends a message from outside the actor system, from "n1/test"; it must be accepted. */
void tp_tell(wr_node_t *n, const char *to, uint16_t type, const void *payload, size_t len);
/* Spawns an unsupervised actor at path; it must be accepted. */
void tp_spawn(wr_node_t *n, const char *path, const wr_behaviour_t *b, void *state);

/* ---- the probe ---- */

#define TP_LOG_MAX 64

/* Where probes append their paths as they stop (shared by several probes: it has its lock). */
typedef struct tp_order {
    pthread_mutex_t lock;
    char paths[16][WR_PATH_MAX];
    int n;
} tp_order_t;

typedef struct tp_probe {
    /* the script, set before spawning */
    const char *target;     /* TP_ASK asks it */
    uint16_t ask_type;      /* what TP_ASK sends (0: TP_QUESTION) */
    int64_t ask_ms;         /* TP_ASK's timeout */
    bool block_first;       /* the first message blocks the handler until `gate` is set */
    bool fail_start;        /* on_start returns WR_EIO */
    struct tp_probe *watch; /* the first message records watch->handled in seen */
    tp_order_t *order;      /* on_stop appends the actor's path here */
    /* what happened */
    atomic_int starts, stops, handled, entered, gate, seen, timeouts, replies, late_replied;
    atomic_int done; /* free_state ran */
    int ask_rc;
    uint64_t ask_corr;
    pthread_mutex_t lock;
    wr_msg_t *log[TP_LOG_MAX]; /* the messages handled, in order, the first TP_LOG_MAX (owned) */
    int nlog;
    wr_msg_t *kept; /* a TP_KEEP request waiting for TP_RELEASE */
} tp_probe_t;

/* The probe's behaviour; its state is a tp_probe_t, which the caller owns (free_state only sets
 * done). */
extern const wr_behaviour_t tp_probe;

/* Zeroes p, the script included, and makes its lock. */
void tp_probe_init(tp_probe_t *p);
/* Frees what p holds (its log, a kept request); once its actor is gone. */
void tp_probe_release(tp_probe_t *p);
/* Spawns a probe with state p at path, supervised by sup (NULL: none), never restarted; it must
 * be accepted. The caller unrefs the reference. */
wr_actor_t *tp_spawn_probe(wr_node_t *n, const char *path, tp_probe_t *p, wr_actor_t *sup);
/* How many messages of type p has handled. */
int tp_probe_count(tp_probe_t *p, uint16_t type);
/* The k-th message of type p handled (borrowed: p owns it), or NULL. */
const wr_msg_t *tp_probe_nth(tp_probe_t *p, uint16_t type, int k);

#endif
