/* A sleep the owner can cut short (stopper.h). */
#include "bus/base/stopper.h"

#include <time.h>

void wr_stopper_init(wr_stopper_t *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* a wall-clock step does not stretch it */
    pthread_cond_init(&s->cv, &a);
    pthread_condattr_destroy(&a);
    s->stop = false;
}

void wr_stopper_destroy(wr_stopper_t *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

void wr_stopper_stop(wr_stopper_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

bool wr_stopper_wait(wr_stopper_t *s, int64_t ms)
{
    /* (a timed wait with a deadline already past is no cheap check: it cost the MQTT source's
     * network thread, which asked once a message, 5/6 of its throughput) */
    if (ms <= 0) return wr_stopper_stopped(s);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
    }
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

bool wr_stopper_stopped(wr_stopper_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}
