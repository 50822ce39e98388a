/* Helpers of the actor-runtime tests (test_mailbox, the test_node family, test_transport,
 * test_gate, the in-process cluster tests): waiting for what other threads do, an echo actor, and
 * reading an ERROR reply. The node tests' probe actor is tests/support/probe.h. */
#ifndef WR_TEST_ACTOR_H
#define WR_TEST_ACTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "actors/runtime/actor.h"
#include "tests/support/wait.h"

/* Waits up to ms for *v to reach at least want; true if it did. */
bool wr_test_wait_count(atomic_int *v, int want, int ms);

/* Waits until the coarse clock (the mailbox's: 4 ms ticks here, later under load) has moved on by
 * more than 1 ms, so that the next message dequeued finds its mailbox quiet and is sampled. */
void wr_test_quiet_pause(void);

/* The echo actor: replies to every request with its payload; PING gets PONG. No state. Its
 * on_message serves behaviours built around it too. */
extern const wr_behaviour_t wr_test_echo;
int wr_test_echo_message(wr_actor_t *self, void *state, wr_msg_t **msg);

/* The code of an ERROR reply, its text copied (cut to fit) into text when that is not NULL; 1,
 * which no WR_E* code is, when m is not a well-formed ERROR message. */
int wr_test_error_code(const wr_msg_t *m, char *text, size_t cap);

#endif
