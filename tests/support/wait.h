/* Waiting in tests without fixed sleeps: a clock, a short sleep, and polling a condition until a
 * deadline. Every harness of tests/support/ waits through these. */
#ifndef WR_TEST_WAIT_H
#define WR_TEST_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* A generous upper bound for anything that should happen "soon" (a reply, a thread's work);
 * ThreadSanitizer makes everything 5-15 times slower. */
#if defined(__SANITIZE_THREAD__)
#define WR_TEST_WAIT_MS 30000
#else
#define WR_TEST_WAIT_MS 3000
#endif

/* Monotonic milliseconds. */
int64_t wr_test_now_ms(void);
/* Sleeps ms milliseconds (restarted after a signal). */
void wr_test_sleep_ms(int ms);

/* Polls done(ctx) every poll_ms until it returns true (then true) or timeout_ms passed (false,
 * after one last try). */
bool wr_test_wait_until(bool (*done)(void *ctx), void *ctx, int timeout_ms, int poll_ms);

#endif
