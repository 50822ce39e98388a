#include "tests/support/wait.h"

#include <errno.h>
#include <time.h>

#include "bus/base/clock.h"

int64_t wr_test_now_ms(void)
{
    return wr_now_ns() / 1000000;
}

void wr_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

bool wr_test_wait_until(bool (*done)(void *ctx), void *ctx, int timeout_ms, int poll_ms)
{
    int64_t deadline = wr_test_now_ms() + timeout_ms;
    while (!done(ctx)) {
        if (wr_test_now_ms() > deadline) return done(ctx);
        wr_test_sleep_ms(poll_ms);
    }
    return true;
}
