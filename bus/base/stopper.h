/* A background thread's sleep that its owner can cut short: the thread waits between rounds of
 * work with wr_stopper_wait, and the owner's wr_stopper_stop wakes it for good (the thread then
 * returns, and the owner joins it). Thread-safe; init before the thread starts, destroy after it
 * is joined. */
#ifndef WR_STOPPER_H
#define WR_STOPPER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
} wr_stopper_t;

void wr_stopper_init(wr_stopper_t *s);
void wr_stopper_destroy(wr_stopper_t *s);
/* From now on every wait returns true at once. */
void wr_stopper_stop(wr_stopper_t *s);
/* Waits ms (0: not at all) or until stopped; true when stopped. */
bool wr_stopper_wait(wr_stopper_t *s, int64_t ms);
/* Whether it is stopped, without waiting (no clock read, no futex: for a loop's every turn). */
bool wr_stopper_stopped(wr_stopper_t *s);

#endif
