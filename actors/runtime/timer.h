/* Internal: a node's timer thread. Fires messages into mailboxes at their due time.
 * One thread per node and a binary heap of deadlines; any thread may add or cancel. */
#ifndef WR__TIMER_H
#define WR__TIMER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct wr__timers wr__timers_t;
typedef struct wr_actor wr_actor_t;

/* fire(ctx, actor, type, corr) delivers a tick; it returns 0 when delivered, WR_EAGAIN when the
 * mailbox was full (a one-shot is then retried shortly), or another error (timer dropped). */
typedef int (*wr__timer_fire_fn)(void *ctx, wr_actor_t *actor, uint16_t type, uint64_t corr);

wr__timers_t *wr__timers_new(wr__timer_fire_fn fire, void *ctx);
/* Stops the thread and releases every pending timer. NULL-safe; nulls *tp. */
void wr__timers_destroy(wr__timers_t **tp);
/* Adds a timer for actor (a reference is taken). period_ms 0 = one-shot. Its messages carry corr
 * (an ask's correlation id, for its TIMEOUT), or with corr 0 the timer's id, so that a tick
 * already queued when the timer is cancelled can be told apart. Returns its id (> 0) or 0 when
 * out of memory. */
uint64_t wr__timers_add(wr__timers_t *t, wr_actor_t *actor, int64_t delay_ms, int64_t period_ms,
                        uint16_t type, uint64_t corr);
/* Cancels a timer; harmless when it already fired or never existed. */
void wr__timers_cancel(wr__timers_t *t, uint64_t id);
/* Cancels every timer of actor (when it stops). */
void wr__timers_cancel_actor(wr__timers_t *t, const wr_actor_t *actor);

#endif
