/* Helpers shared by the actor-runtime tests (test_mailbox, test_node, test_transport): waiting for
 * what other threads do, and an echo actor. Header-only: every test binary is one .c file. */
#ifndef WR_TEST_ACTOR_SUPPORT_H
#define WR_TEST_ACTOR_SUPPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "actors/runtime/actor.h"
#include "bus/base/clock.h"
#include "bus/messages.h"

#define WR_TEST_WAIT_MS 3000 /* generous upper bound for anything that should happen "soon" */

static inline void wr_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits up to ms for *v to reach at least want; true if it did. */
static inline bool wr_test_wait_count(atomic_int *v, int want, int ms)
{
    int64_t deadline = wr_now_ns() + (int64_t)ms * 1000000;
    while (atomic_load(v) < want) {
        if (wr_now_ns() > deadline) return false;
        wr_test_sleep_ms(1);
    }
    return true;
}

/* Waits until the coarse clock (the mailbox's: 4 ms ticks here, later under load) has moved on by
 * more than 1 ms, so that the next message dequeued finds its mailbox quiet and is sampled. */
static inline void wr_test_quiet_pause(void)
{
    int64_t t0 = wr_coarse_ns();
    while (wr_coarse_ns() - t0 < 2000000)
        wr_test_sleep_ms(1);
}

/* The echo actor: replies to every request with its payload; PING gets PONG. */
static inline int wr_test_echo_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    (void)state;
    const wr_msg_t *m = *msg;
    wr_reply(self, m, m->type == WR_MSG_PING ? WR_MSG_PONG : m->type, m->data, m->len);
    return 0;
}

static const wr_behaviour_t wr_test_echo = {.on_message = wr_test_echo_message};

/* The code of an ERROR reply, its text copied (cut to fit) into text when that is not NULL; 1,
 * which no WR_E* code is, when m is not a well-formed ERROR message. */
static inline int wr_test_error_code(const wr_msg_t *m, char *text, size_t cap)
{
    wr_msg_error_t e;
    if (wr_msg_error_unpack(m, &e)) return 1;
    if (text && cap) {
        size_t n = e.text.len < cap ? e.text.len : cap - 1;
        memcpy(text, e.text.s, n);
        text[n] = '\0';
    }
    return e.code;
}

#endif
