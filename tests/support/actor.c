#include "tests/support/actor.h"

#include <string.h>

#include "bus/base/clock.h"
#include "bus/messages.h"

bool wr_test_wait_count(atomic_int *v, int want, int ms)
{
    int64_t deadline = wr_test_now_ms() + ms;
    while (atomic_load(v) < want) {
        if (wr_test_now_ms() > deadline) return false;
        wr_test_sleep_ms(1);
    }
    return true;
}

void wr_test_quiet_pause(void)
{
    int64_t t0 = wr_coarse_ns();
    while (wr_coarse_ns() - t0 < 2000000)
        wr_test_sleep_ms(1);
}

int wr_test_echo_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    (void)state;
    const wr_msg_t *m = *msg;
    wr_reply(self, m, m->type == WR_MSG_PING ? WR_MSG_PONG : m->type, m->data, m->len);
    return 0;
}

const wr_behaviour_t wr_test_echo = {.on_message = wr_test_echo_message};

int wr_test_error_code(const wr_msg_t *m, char *text, size_t cap)
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
