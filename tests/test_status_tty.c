/* The status line's terminal (cli/status_tty.h): the relay of results written to stdout. Here
 * stdout is /dev/null, so the relay's writes never wait, as if the terminal took rows at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "cli/status_tty.h"

typedef struct {
    atomic_int stop;
    int64_t rows;
    int term; /* the read end of the "terminal" */
} s_flood_t;

/* A sink: result rows to stdout (the relay's pipe), 4 KiB a write, until told to stop (or 3 s). */
static void *s_sink(void *arg)
{
    s_flood_t *f = arg;
    static const char row[] = "device=4051 window_start=2024-01-01T02:20:10.000Z n=1\n";
    char block[4096];
    size_t n = 0;
    while (n + sizeof row - 1 <= sizeof block) {
        memcpy(block + n, row, sizeof row - 1);
        n += sizeof row - 1;
    }
    int64_t end = wr_now_ns() + 3000 * 1000000LL; /* a pump that never returns fails, not hangs */
    while (!atomic_load(&f->stop) && wr_now_ns() < end) {
        if (write(STDOUT_FILENO, block, n) != (ssize_t)n) break;
        f->rows += (int64_t)(n / (sizeof row - 1));
    }
    return NULL;
}

/* A slow terminal: takes 4 KiB every half millisecond, until its writers are gone. */
static void *s_terminal(void *arg)
{
    s_flood_t *f = arg;
    char buf[4096];
    while (read(f->term, buf, sizeof buf) > 0)
        usleep(500);
    return NULL;
}

/* Was a bug: while a sink filled the pipe faster than the terminal took the rows, one pump went
 * on relaying for as long as results came, and `weir local` neither polled its job (the status
 * line never showed rates) nor saw Ctrl-C (CI once: no status line at the bottom of a flooded
 * tmux pane for 30 s). A pump now returns within about 40 ms. */
static void test_a_pump_returns_while_results_keep_coming(void **state)
{
    (void)state;
    int term[2], saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(pipe(term), 0);
    assert_true(dup2(term[1], STDOUT_FILENO) >= 0); /* stdout is the terminal */
    close(term[1]);
    s_flood_t f = {.term = term[0]};
    pthread_t sink, terminal;
    assert_int_equal(pthread_create(&terminal, NULL, s_terminal, &f), 0);
    wr_status_tty_t *tty = wr_status_tty_new(true); /* stdout becomes its pipe */
    assert_non_null(tty);
    assert_int_equal(pthread_create(&sink, NULL, s_sink, &f), 0);
    int64_t longest = 0;
    for (int i = 0; i < 10; i++) {
        usleep(50000); /* as `weir local` waits between pumps: the pipe fills */
        int64_t t0 = wr_now_ns();
        wr_status_tty_pump(tty);
        int64_t took = wr_now_ns() - t0;
        if (took > longest) longest = took;
    }
    atomic_store(&f.stop, 1);
    wr_status_tty_destroy(&tty); /* stdout the terminal again; the rest relayed */
    pthread_join(sink, NULL);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0); /* the terminal's last writer gone */
    close(saved);
    pthread_join(terminal, NULL);
    close(term[0]);
    assert_true(f.rows > 1000);             /* results did come */
    assert_true(longest < 400 * 1000000LL); /* about 40 ms meant; room for a loaded machine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_pump_returns_while_results_keep_coming),
    };
    return cmocka_run_group_tests_name("the status line's terminal", tests, NULL, NULL);
}
