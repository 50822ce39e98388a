/* The process harness's ports (tests/support/process.h): ps_free_port hands out loopback ports
 * that are free and lie outside the kernel's ephemeral range, so that the sockets every process
 * opens (bind to port 0, connect) cannot take a port a test picked before its daemon binds it;
 * only the picks of the test binary running beside it (`scons test` runs two at a time) can. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
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

/* Each pick is free (a daemon can listen on it), outside the ephemeral range, and never one that
 * is in use: the ports held open meanwhile are not handed out again. */
static void test_free_ports_lie_outside_the_ephemeral_range(void **state)
{
    (void)state;
    int lo = 0, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d %d", &lo, &hi), 2);
    fclose(f);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_free_ports_lie_outside_the_ephemeral_range, s_close_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
