/* The process harness's ports (tests/support/process.h): ps_free_port hands out loopback ports
 * that are free and lie outside the kernel's ephemeral range, so that the sockets every process
 * opens (bind to port 0, connect) cannot take a port a test picked before its daemon binds it;
 * only the picks of the test binaries running beside it could, and `scons test` gives each of them
 * a range of its own (WEIR_PORTS). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/process.h"

#define S_PICKS 64

/* The sockets a test holds open, closed in the teardown (after a failed assertion too). */
static struct {
    int fds[S_PICKS];
    int n;
} s_held;

static int s_close_held(void **state)
{
    (void)state;
    while (s_held.n > 0)
        close(s_held.fds[--s_held.n]);
    return 0;
}

/* The kernel's ephemeral port range, [*lo, *hi] (net.ipv4.ip_local_port_range). */
static void s_ephemeral_range(int *lo, int *hi)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d %d", lo, hi), 2);
    fclose(f);
}

/* Each pick is free (a daemon can listen on it), outside the ephemeral range, and never one that
 * is in use: the ports held open meanwhile are not handed out again. */
static void test_free_ports_lie_outside_the_ephemeral_range(void **state)
{
    (void)state;
    int lo = 0, hi = 0;
    s_ephemeral_range(&lo, &hi);
    if (lo - 10000 < 5000 && 65535 - hi < 2000)
        skip(); /* no room outside the ephemeral range: ps_free_port falls back to it */

    int ports[S_PICKS];
    for (int i = 0; i < S_PICKS; i++) {
        ports[i] = ps_free_port();
        assert_true(ports[i] > 0 && ports[i] < 65536);
        if (ports[i] >= lo && ports[i] <= hi)
            fail_msg("port %d lies in the ephemeral range %d-%d", ports[i], lo, hi);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ports[i], ports[j]);
        int port = ports[i];
        int fd = ps_listen(&port);
        if (fd < 0) fail_msg("port %d is not free", ports[i]);
        s_held.fds[s_held.n++] = fd;
        assert_int_equal(port, ports[i]);
    }
}

/* The WEIR_PORTS the test runner gave this binary (NULL: none), put back by the teardown. */
static char *s_runner_ports;

static int s_restore_ports(void **state)
{
    if (s_runner_ports)
        setenv("WEIR_PORTS", s_runner_ports, 1);
    else
        unsetenv("WEIR_PORTS");
    free(s_runner_ports);
    s_runner_ports = NULL;
    return s_close_held(state);
}

/* With WEIR_PORTS=LO-HI (what `scons test` gives each test binary beside others, so that two never
 * pick the same port) every pick lies in [LO, HI), distinct while held; a value that is no such
 * range is passed over. */
static void test_weir_ports_is_the_range_picks_come_from(void **state)
{
    (void)state;
    const char *was = getenv("WEIR_PORTS");
    if (was) assert_non_null(s_runner_ports = strdup(was));
    int lo = 0, hi = 0;
    s_ephemeral_range(&lo, &hi);
    /* a range of 200 ports of those below the ephemeral range */
    int a = 10000 + (int)(getpid() % 40) * 200, b = a + 200;
    if (b > lo) skip();
    char range[32];
    snprintf(range, sizeof range, "%d-%d", a, b);
    assert_int_equal(setenv("WEIR_PORTS", range, 1), 0);
    for (int i = 0; i < S_PICKS; i++) {
        int port = ps_free_port();
        if (port < a || port >= b) fail_msg("port %d is not in WEIR_PORTS=%s", port, range);
        int got = port;
        int fd = ps_listen(&got);
        if (fd < 0) fail_msg("port %d is not free", port);
        s_held.fds[s_held.n++] = fd;
    }
    /* not ranges: the picks come from anywhere outside the ephemeral range again */
    static const char *const bad[] = {"",        "x",           "20000",        "20000-20050",
                                      "80-1000", "20000-70000", "20000-30000x", "30000-20000"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        assert_int_equal(setenv("WEIR_PORTS", bad[k], 1), 0);
        bool outside = false;
        for (int i = 0; i < 50 && !outside; i++) {
            int port = ps_free_port();
            assert_true(port > 0 && (port < lo || port > hi));
            outside = port < a || port >= b;
        }
        if (!outside) fail_msg("WEIR_PORTS=%s still confines the picks", bad[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_free_ports_lie_outside_the_ephemeral_range, s_close_held),
        cmocka_unit_test_teardown(test_weir_ports_is_the_range_picks_come_from, s_restore_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
