#include "actors/runtime/timer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "actors/runtime/actor.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"

#define S_RETRY_NS 2000000 /* a one-shot that met a full mailbox tries again after 2 ms */

typedef struct {
    int64_t due_ns;
    int64_t period_ns;
    uint64_t id;
    uint64_t corr;
    uint16_t type;
    wr_actor_t *actor; /* counted reference */
} s_timer_t;

struct wr__timers {
    wr__timer_fire_fn fire;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool stop;
    s_timer_t *heap;
    size_t n, cap;
    uint64_t next_id;
    /* the timer being fired (outside the lock, so out of the heap): a cancel meanwhile marks it
     * so that a periodic one is not put back */
    uint64_t firing_id;
    const wr_actor_t *firing_actor;
    bool firing_cancelled;
};

static void s_swap(s_timer_t *a, s_timer_t *b)
{
    s_timer_t t = *a;
    *a = *b;
    *b = t;
}

static void s_sift_up(s_timer_t *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].due_ns > h[i].due_ns) {
        s_swap(&h[(i - 1) / 2], &h[i]);
        i = (i - 1) / 2;
    }
}

static void s_sift_down(s_timer_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].due_ns < h[m].due_ns) m = l;
        if (r < n && h[r].due_ns < h[m].due_ns) m = r;
        if (m == i) return;
        s_swap(&h[i], &h[m]);
        i = m;
    }
}

/* Removes heap entry i and returns it (the caller owns its actor reference). */
static s_timer_t s_remove_at(wr__timers_t *t, size_t i)
{
    s_timer_t out = t->heap[i];
    t->heap[i] = t->heap[--t->n];
    if (i < t->n) {
        s_sift_down(t->heap, t->n, i);
        s_sift_up(t->heap, i);
    }
    return out;
}

static int s_push(wr__timers_t *t, s_timer_t *tm)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        s_timer_t *h = realloc(t->heap, ncap * sizeof *h);
        if (!h) return WR_ENOMEM;
        t->heap = h;
        t->cap = ncap;
    }
    t->heap[t->n] = *tm;
    s_sift_up(t->heap, t->n++);
    return 0;
}

static void *s_main(void *arg)
{
    wr__timers_t *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        int64_t now = wr_now_ns();
        if (t->n && t->heap[0].due_ns <= now) {
            s_timer_t tm = s_remove_at(t, 0);
            t->firing_id = tm.id;
            t->firing_actor = tm.actor;
            t->firing_cancelled = false;
            pthread_mutex_unlock(&t->lock); /* fire outside the lock: it may add timers */
            int rc = t->fire(t->ctx, tm.actor, tm.type, tm.corr);
            pthread_mutex_lock(&t->lock);
            bool cancelled = t->firing_cancelled;
            t->firing_id = 0;
            t->firing_actor = NULL;
            bool again = tm.period_ns > 0 && (rc == 0 || rc == WR_EAGAIN);
            if (cancelled) {
                again = false;
            } else if (rc == WR_EAGAIN && !tm.period_ns) {
                tm.due_ns = now + S_RETRY_NS;
                again = true;
            } else if (again) {
                tm.due_ns += tm.period_ns;
                if (tm.due_ns < now) tm.due_ns = now + tm.period_ns; /* skip missed ticks */
            }
            if (!again || s_push(t, &tm)) {
                pthread_mutex_unlock(&t->lock); /* the last reference may free the actor */
                wr_actor_unref(&tm.actor);
                pthread_mutex_lock(&t->lock);
            }
            continue;
        }
        if (!t->n) {
            pthread_cond_wait(&t->cond, &t->lock);
        } else {
            int64_t due = t->heap[0].due_ns;
            struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

wr__timers_t *wr__timers_new(wr__timer_fire_fn fire, void *ctx)
{
    wr__timers_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->fire = fire;
    t->ctx = ctx;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, s_main, t)) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

void wr__timers_destroy(wr__timers_t **tp)
{
    if (!tp || !*tp) return;
    wr__timers_t *t = *tp;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    for (size_t i = 0; i < t->n; i++)
        wr_actor_unref(&t->heap[i].actor);
    free(t->heap);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
    *tp = NULL;
}

uint64_t wr__timers_add(wr__timers_t *t, wr_actor_t *actor, int64_t delay_ms, int64_t period_ms,
                        uint16_t type, uint64_t corr)
{
    s_timer_t tm = {.due_ns = wr_now_ns() + delay_ms * 1000000,
                    .period_ns = period_ms * 1000000,
                    .corr = corr,
                    .type = type,
                    .actor = wr_actor_ref(actor)};
    pthread_mutex_lock(&t->lock);
    tm.id = ++t->next_id;
    if (!tm.corr) tm.corr = tm.id;
    bool first = !t->n || tm.due_ns < t->heap[0].due_ns;
    if (s_push(t, &tm)) {
        pthread_mutex_unlock(&t->lock);
        wr_actor_unref(&tm.actor);
        return 0;
    }
    if (first) pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return tm.id;
}

void wr__timers_cancel(wr__timers_t *t, uint64_t id)
{
    wr_actor_t *gone = NULL;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        if (t->heap[i].id == id) {
            gone = s_remove_at(t, i).actor;
            break;
        }
    }
    if (id && id == t->firing_id) t->firing_cancelled = true;
    pthread_mutex_unlock(&t->lock);
    wr_actor_unref(&gone);
}

void wr__timers_cancel_actor(wr__timers_t *t, const wr_actor_t *actor)
{
    for (;;) {
        wr_actor_t *gone = NULL;
        pthread_mutex_lock(&t->lock);
        if (t->firing_actor == actor) t->firing_cancelled = true;
        for (size_t i = 0; i < t->n; i++) {
            if (t->heap[i].actor == actor) {
                gone = s_remove_at(t, i).actor;
                break;
            }
        }
        pthread_mutex_unlock(&t->lock);
        if (!gone) return;
        wr_actor_unref(&gone);
    }
}
