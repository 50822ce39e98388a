/* The chaos proxy (cli/chaos_proxy.h) over real sockets on loopback: two nodes, a (127.0.0.2) and
 * b (127.0.0.3), whose clients bind their source address before they connect; a server socket the
 * test drives itself stands for the destination. Bytes flow both ways and in bulk, cuts stop one
 * direction and lose nothing, delays hold chunks, closes pass through, and nothing leaks. Every
 * wait is bounded; the teardown closes what a failed test left open. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "cli/chaos_proxy.h"
#include "tests/support/fds.h"

#define A_IP     "127.0.0.2"
#define B_IP     "127.0.0.3"
#define QUIET_MS 300  /* how long "nothing arrives" is watched */
#define WAIT_MS  5000 /* the bound of every wait for something that must happen */
#define S_FDS    32

/* What a test holds: the proxy, and sockets the teardown closes (after a failed assertion too). */
typedef struct {
    wr_chaos_proxy_t *proxy;
    int fds[S_FDS];
    int nfds;
    struct rlimit nofile; /* restored by the teardown (a test lowers it) */
} fx_t;

static int64_t s_ms(void)
{
    return wr_now_ns() / 1000000;
}

static int s_keep(fx_t *fx, int fd)
{
    assert_true(fd >= 0);
    assert_true(fx->nfds < S_FDS);
    fx->fds[fx->nfds++] = fd;
    return fd;
}

/* Closes fd now and forgets it. */
static void s_close(fx_t *fx, int fd)
{
    for (int i = 0; i < fx->nfds; i++)
        if (fx->fds[i] == fd) fx->fds[i] = fx->fds[--fx->nfds];
    close(fd);
}

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx || getrlimit(RLIMIT_NOFILE, &fx->nofile) || wr_chaos_proxy_new(&fx->proxy)) return -1;
    if (wr_chaos_proxy_node(fx->proxy, "a", A_IP) || wr_chaos_proxy_node(fx->proxy, "b", B_IP))
        return -1;
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    setrlimit(RLIMIT_NOFILE, &fx->nofile);
    wr_chaos_proxy_destroy(&fx->proxy);
    while (fx->nfds)
        close(fx->fds[--fx->nfds]);
    free(fx);
    return 0;
}

/* A listening socket on 127.0.0.1 (a free port, said in *port). */
static int s_listen(fx_t *fx, int *port)
{
    int fd = s_keep(fx, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A socket bound to source_ip, to connect with s_connect. */
static int s_socket_from(fx_t *fx, const char *source_ip)
{
    int fd = s_keep(fx, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in src = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, source_ip, &src.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
    return fd;
}

/* Connects fd to 127.0.0.1:port (non-blocking once connected). */
static int s_connect(int fd, int port)
{
    struct sockaddr_in dst = {.sin_family = AF_INET};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dst.sin_port = htons((uint16_t)port);
    assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof dst), 0);
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    return fd;
}

/* A connection to 127.0.0.1:port from source_ip (non-blocking once connected). */
static int s_dial(fx_t *fx, const char *source_ip, int port)
{
    return s_connect(s_socket_from(fx, source_ip), port);
}

/* The next connection on lfd (non-blocking), within WAIT_MS. */
static int s_accept(fx_t *fx, int lfd)
{
    struct pollfd pf = {lfd, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, WAIT_MS), 1);
    int fd = s_keep(fx, accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK));
    return fd;
}

/* A route to the node `to` whose destination is a server the test listens with; *srv is the
 * listening socket; returns the proxy's port. */
static int s_route(fx_t *fx, const char *to, int *srv)
{
    int port = 0, bound = 0;
    *srv = s_listen(fx, &port);
    assert_int_equal(wr_chaos_proxy_route(fx->proxy, to, "127.0.0.1", port, 0, &bound), 0);
    assert_true(bound > 0);
    return bound;
}

/* The byte at offset i of the test streams (a pattern whose period is no power of two, so that a
 * lost, doubled or reordered block shows). */
static unsigned char s_byte(uint64_t i, unsigned seed)
{
    return (unsigned char)((i * 131 + i / 251 + seed) & 0xff);
}

/* Sends n pattern bytes from offset *off, waiting for room up to WAIT_MS. */
static void s_send(int fd, uint64_t *off, size_t n, unsigned seed)
{
    unsigned char buf[4096];
    int64_t end = s_ms() + WAIT_MS;
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = s_byte(*off + i, seed);
        ssize_t w = send(fd, buf, k, MSG_NOSIGNAL);
        if (w < 0) {
            assert_true(errno == EAGAIN);
            assert_true(s_ms() < end);
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, 50);
            continue;
        }
        *off += (uint64_t)w;
        n -= (size_t)w;
    }
}

/* Receives until n pattern bytes from *off arrived (checked one by one), EOF or within_ms (0: what
 * is there now); returns how many arrived. */
static size_t s_recv(int fd, uint64_t *off, size_t n, unsigned seed, int within_ms)
{
    unsigned char buf[4096];
    size_t got = 0;
    int64_t end = s_ms() + within_ms;
    while (got < n) {
        int64_t left = end - s_ms();
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, left > 0 ? (int)left : 0) != 1) break;
        size_t k = n - got < sizeof buf ? n - got : sizeof buf;
        ssize_t r = recv(fd, buf, k, 0);
        if (r == 0) break;
        if (r < 0) {
            assert_true(errno == EAGAIN);
            continue;
        }
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != s_byte(*off + (uint64_t)i, seed))
                fail_msg("byte %llu is %u, not %u", (unsigned long long)(*off + (uint64_t)i),
                         buf[i], s_byte(*off + (uint64_t)i, seed));
        *off += (uint64_t)r;
        got += (size_t)r;
    }
    return got;
}

/* Whether fd reads EOF within WAIT_MS (bytes before it are skipped; a reset counts as EOF). */
static bool s_eof(int fd)
{
    char buf[256];
    int64_t end = s_ms() + WAIT_MS;
    for (;;) {
        int64_t left = end - s_ms();
        struct pollfd pf = {fd, POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, (int)left) != 1) return false;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN)) return true;
    }
}

static wr_chaos_route_stats_t s_stats(fx_t *fx, const char *to)
{
    wr_chaos_route_stats_t st;
    assert_int_equal(wr_chaos_proxy_stats(fx->proxy, to, &st), 0);
    return st;
}

/* Waits up to WAIT_MS for the route to `to` to have `open` connections open. */
static void s_wait_open(fx_t *fx, const char *to, uint64_t open)
{
    int64_t end = s_ms() + WAIT_MS;
    while (s_stats(fx, to).open != open && s_ms() < end)
        usleep(5000);
    assert_int_equal(s_stats(fx, to).open, open);
}

/* A connection from source_ip through the route to `to`: *c the client's end, *s the server's. */
static void s_pair(fx_t *fx, const char *to, const char *source_ip, int *c, int *s)
{
    int srv;
    int port = s_route(fx, to, &srv);
    *c = s_dial(fx, source_ip, port);
    *s = s_accept(fx, srv);
}

/* ---- the happy path ---- */

static void test_bytes_flow_both_ways_and_are_counted(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s);
    uint64_t cs = 0, cr = 0, ss = 0, sr = 0;
    s_send(c, &cs, 5, 1);
    assert_int_equal(s_recv(s, &sr, 5, 1, WAIT_MS), 5);
    s_send(s, &ss, 7, 2);
    assert_int_equal(s_recv(c, &cr, 7, 2, WAIT_MS), 7);

    wr_chaos_route_stats_t st = s_stats(fx, "a");
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.bytes_to, 5);
    assert_int_equal(st.bytes_from, 7);
    assert_int_equal(st.refused, 0);
    assert_int_equal(st.stalled_now, 0);
}

/* Several MB each way at once, checked byte for byte. */
static void test_big_transfers_both_ways_at_once(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s);
    const uint64_t total = 8u << 20;
    uint64_t cs = 0, cr = 0, ss = 0, sr = 0;
    int64_t end = s_ms() + 30000;
    while ((cr < total || sr < total) && s_ms() < end) {
        struct pollfd pf[2] = {{c, POLLIN | (cs < total ? POLLOUT : 0), 0},
                               {s, POLLIN | (ss < total ? POLLOUT : 0), 0}};
        poll(pf, 2, 100);
        if (pf[0].revents & POLLOUT) s_send(c, &cs, total - cs < 65536 ? total - cs : 65536, 3);
        if (pf[1].revents & POLLOUT) s_send(s, &ss, total - ss < 65536 ? total - ss : 65536, 4);
        if (pf[0].revents & POLLIN) s_recv(c, &cr, total - cr, 4, 0);
        if (pf[1].revents & POLLIN) s_recv(s, &sr, total - sr, 3, 0);
    }
    assert_int_equal(sr, total);
    assert_int_equal(cr, total);
    wr_chaos_route_stats_t st = s_stats(fx, "a");
    assert_int_equal(st.bytes_to, total);
    assert_int_equal(st.bytes_from, total);
}

/* ---- cuts ---- */

/* cut a -> b: a's bytes stop (a cut holds when the call returns), b's still flow; after the heal
 * everything a sent meanwhile arrives, complete and in order. */
static void test_cut_stops_one_direction_and_heal_delivers_everything(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "b", A_IP, &c, &s); /* a dials b */
    uint64_t cs = 0, cr = 0, ss = 0, sr = 0;
    s_send(c, &cs, 1000, 5);
    assert_int_equal(s_recv(s, &sr, 1000, 5, WAIT_MS), 1000);

    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", true), 0);
    s_send(c, &cs, 200000, 5);
    assert_int_equal(s_recv(s, &sr, 1, 5, QUIET_MS), 0);
    s_send(s, &ss, 3000, 6); /* b -> a flows */
    assert_int_equal(s_recv(c, &cr, 3000, 6, WAIT_MS), 3000);
    assert_true(s_stats(fx, "b").stalled_now > 0);

    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", false), 0);
    assert_int_equal(s_recv(s, &sr, 200000, 5, WAIT_MS), 200000);
    s_send(c, &cs, 10, 5);
    assert_int_equal(s_recv(s, &sr, 10, 5, WAIT_MS), 10);
    assert_int_equal(s_stats(fx, "b").stalled_now, 0);
}

static void test_cut_both_ways(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "b", A_IP, &c, &s);
    uint64_t cs = 0, cr = 0, ss = 0, sr = 0;
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", true), 0);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "b", "a", true), 0);
    s_send(c, &cs, 50000, 7);
    s_send(s, &ss, 60000, 8);
    assert_int_equal(s_recv(s, &sr, 1, 7, QUIET_MS), 0);
    assert_int_equal(s_recv(c, &cr, 1, 8, QUIET_MS), 0);

    wr_chaos_proxy_heal_all(fx->proxy);
    assert_int_equal(s_recv(s, &sr, 50000, 7, WAIT_MS), 50000);
    assert_int_equal(s_recv(c, &cr, 60000, 8, WAIT_MS), 60000);
}

/* A connection opened while the pair is cut is accepted (the server's side too) and stalls. */
static void test_connection_opened_while_cut_stalls_then_flows(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", true), 0);
    int c, s;
    s_pair(fx, "b", A_IP, &c, &s);
    uint64_t cs = 0, sr = 0;
    s_send(c, &cs, 4000, 9);
    assert_int_equal(s_recv(s, &sr, 1, 9, QUIET_MS), 0);
    assert_int_equal(s_stats(fx, "b").open, 1);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", false), 0);
    assert_int_equal(s_recv(s, &sr, 4000, 9, WAIT_MS), 4000);
}

/* A client from an address no node has (the chaos command's own, a CLI) is never cut. */
static void test_unknown_client_is_never_cut(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", "127.0.0.1", &c, &s);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", true), 0);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "b", "a", true), 0);
    uint64_t cs = 0, cr = 0, ss = 0, sr = 0;
    s_send(c, &cs, 100, 10);
    assert_int_equal(s_recv(s, &sr, 100, 10, WAIT_MS), 100);
    s_send(s, &ss, 100, 11);
    assert_int_equal(s_recv(c, &cr, 100, 11, WAIT_MS), 100);
}

/* The pair applies whichever side dialed: b dials a, and cut(a, b) stops what the server a sends
 * back while b's requests still reach a. */
static void test_cut_applies_whichever_side_dialed(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s); /* b dials a */
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", true), 0);
    uint64_t cs = 0, cr = 0, ss = 0, sr = 0;
    s_send(s, &ss, 2000, 12);
    assert_int_equal(s_recv(c, &cr, 1, 12, QUIET_MS), 0);
    s_send(c, &cs, 2000, 13);
    assert_int_equal(s_recv(s, &sr, 2000, 13, WAIT_MS), 2000);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", false), 0);
    assert_int_equal(s_recv(c, &cr, 2000, 12, WAIT_MS), 2000);
}

/* ---- delay ---- */

/* Chunks from b to a arrive no sooner than the delay after they were sent, in order; a's answers
 * are not held; a delay of 0 ends it. */
static void test_delay_holds_chunks_in_order(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s);
    assert_int_equal(wr_chaos_proxy_delay(fx->proxy, "b", "a", 200), 0);
    uint64_t cs = 0, sr = 0, ss = 0, cr = 0;
    int64_t sent[5];
    for (int i = 0; i < 5; i++) {
        sent[i] = wr_now_ns();
        s_send(c, &cs, 1000, 14);
        if (i == 0) {
            assert_int_equal(s_recv(s, &sr, 1, 14, 100), 0);
            assert_int_equal(s_stats(fx, "a").stalled_now, 1000);
        } else {
            usleep(20000);
        }
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s_recv(s, &sr, 1000, 14, WAIT_MS), 1000);
        if (wr_now_ns() < sent[i] + 200 * 1000000LL)
            fail_msg("chunk %d arrived %lld ms after it was sent", i,
                     (long long)(wr_now_ns() - sent[i]) / 1000000);
    }

    int64_t t1 = s_ms();
    s_send(s, &ss, 1000, 15);
    assert_int_equal(s_recv(c, &cr, 1000, 15, WAIT_MS), 1000);
    assert_true(s_ms() - t1 < 200);

    assert_int_equal(wr_chaos_proxy_delay(fx->proxy, "b", "a", 0), 0);
    int64_t t2 = s_ms();
    s_send(c, &cs, 1000, 14);
    assert_int_equal(s_recv(s, &sr, 1000, 14, WAIT_MS), 1000);
    assert_true(s_ms() - t2 < 200);
}

/* A cut and a delay of one pair are two rules: healing the cut leaves the delay. */
static void test_cut_and_delay_are_separate_rules(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s);
    assert_int_equal(wr_chaos_proxy_delay(fx->proxy, "b", "a", 300), 0);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "b", "a", true), 0);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "b", "a", false), 0);
    uint64_t cs = 0, sr = 0;
    int64_t t0 = wr_now_ns();
    s_send(c, &cs, 100, 22);
    assert_int_equal(s_recv(s, &sr, 100, 22, WAIT_MS), 100);
    assert_true(wr_now_ns() - t0 >= 300 * 1000000LL);
}

/* A node named after its connection was opened: the connection is its from then on. */
static void test_node_named_late_is_cut(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", "127.0.0.4", &c, &s);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "c", "a", true), 0);
    uint64_t cs = 0, sr = 0;
    s_send(c, &cs, 100, 23);
    assert_int_equal(s_recv(s, &sr, 100, 23, WAIT_MS), 100);
    assert_int_equal(wr_chaos_proxy_node(fx->proxy, "c", "127.0.0.4"), 0);
    s_send(c, &cs, 100, 23);
    assert_int_equal(s_recv(s, &sr, 1, 23, QUIET_MS), 0);
    wr_chaos_proxy_heal_all(fx->proxy);
    assert_int_equal(s_recv(s, &sr, 100, 23, WAIT_MS), 100);
}

/* A failed accept (no descriptor left) is counted and the route goes on: the connection waiting
 * in the backlog is accepted once descriptors are free again. */
static void test_failed_accept_is_counted_and_survived(void **state)
{
    fx_t *fx = *state;
    int srv;
    int port = s_route(fx, "a", &srv);
    int c = s_socket_from(fx, B_IP);
    struct rlimit none = fx->nofile;
    none.rlim_cur = 3; /* every new descriptor fails: EMFILE */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    s_connect(c, port); /* the kernel completes it from the backlog */
    int64_t end = s_ms() + WAIT_MS;
    while (s_stats(fx, "a").accept_failed == 0 && s_ms() < end)
        usleep(5000);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &fx->nofile), 0);
    wr_chaos_route_stats_t st = s_stats(fx, "a");
    assert_true(st.accept_failed >= 1);
    assert_int_equal(st.open, 0);

    int s = s_accept(fx, srv);
    uint64_t cs = 0, sr = 0;
    s_send(c, &cs, 100, 24);
    assert_int_equal(s_recv(s, &sr, 100, 24, WAIT_MS), 100);
    assert_int_equal(s_stats(fx, "a").accepted, 1);
}

/* ---- closes ---- */

static void test_closes_pass_through(void **state)
{
    fx_t *fx = *state;
    int c, s, srv;
    int port = s_route(fx, "a", &srv);

    c = s_dial(fx, B_IP, port); /* the client closes: the server reads EOF */
    s = s_accept(fx, srv);
    uint64_t cs = 0, sr = 0;
    s_send(c, &cs, 3000, 16);
    s_close(fx, c);
    assert_int_equal(s_recv(s, &sr, 3000, 16, WAIT_MS), 3000);
    assert_true(s_eof(s));
    s_close(fx, s);
    s_wait_open(fx, "a", 0);

    c = s_dial(fx, B_IP, port); /* the server closes: the client reads EOF */
    s = s_accept(fx, srv);
    s_close(fx, s);
    assert_true(s_eof(c));
    s_close(fx, c);
    s_wait_open(fx, "a", 0);
    assert_int_equal(s_stats(fx, "a").accepted, 2);
}

/* The client goes away while the server still sends: the proxy's writes to it fail (a reset, with
 * no SIGPIPE to kill this process) and it closes the server's side too. */
static void test_client_gone_while_server_sends(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s);
    s_close(fx, c);
    static char chunk[65536];
    bool gone = false;
    int64_t end = s_ms() + WAIT_MS;
    while (!gone && s_ms() < end) {
        if (send(s, chunk, sizeof chunk, MSG_NOSIGNAL) < 0) {
            assert_true(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
            gone = errno != EAGAIN;
            if (!gone) usleep(1000);
        }
    }
    assert_true(gone);
    s_wait_open(fx, "a", 0);
}

/* A half-close passes as one: the client shuts its writing down, the server still answers. */
static void test_half_close_keeps_the_other_direction(void **state)
{
    fx_t *fx = *state;
    int c, s;
    s_pair(fx, "a", B_IP, &c, &s);
    uint64_t cs = 0, sr = 0, ss = 0, cr = 0;
    s_send(c, &cs, 100, 17);
    assert_int_equal(shutdown(c, SHUT_WR), 0);
    assert_int_equal(s_recv(s, &sr, 100, 17, WAIT_MS), 100);
    assert_true(s_eof(s));
    s_send(s, &ss, 5000, 18);
    assert_int_equal(s_recv(c, &cr, 5000, 18, WAIT_MS), 5000);
    s_close(fx, s);
    assert_true(s_eof(c));
    s_wait_open(fx, "a", 0);
}

static void test_refused_destination_closes_the_client(void **state)
{
    fx_t *fx = *state;
    int port = 0, bound = 0;
    int l = s_listen(fx, &port);
    s_close(fx, l); /* nothing listens on port now */
    assert_int_equal(wr_chaos_proxy_route(fx->proxy, "a", "127.0.0.1", port, 0, &bound), 0);
    int c = s_dial(fx, B_IP, bound);
    assert_true(s_eof(c));
    s_wait_open(fx, "a", 0);
    wr_chaos_route_stats_t st = s_stats(fx, "a");
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.refused, 1);
}

/* ---- lifecycle and bad input ---- */

/* Destroyed with connections open and cut (and bytes held): no descriptor is left. */
static void test_destroy_with_open_and_cut_connections_leaves_no_fd(void **state)
{
    fx_t *fx = *state;
    wr_chaos_proxy_destroy(&fx->proxy);
    assert_null(fx->proxy);
    int before = wr_test_open_fds();
    assert_true(before > 0);

    assert_int_equal(wr_chaos_proxy_new(&fx->proxy), 0);
    assert_int_equal(wr_chaos_proxy_node(fx->proxy, "a", A_IP), 0);
    assert_int_equal(wr_chaos_proxy_node(fx->proxy, "b", B_IP), 0);
    int c1, s1, c2, s2;
    s_pair(fx, "a", B_IP, &c1, &s1);
    s_pair(fx, "b", A_IP, &c2, &s2);
    assert_int_equal(wr_chaos_proxy_cut(fx->proxy, "a", "b", true), 0);
    assert_int_equal(wr_chaos_proxy_delay(fx->proxy, "b", "a", 1000), 0);
    uint64_t o1 = 0, o2 = 0, o3 = 0;
    s_send(c1, &o1, 100000, 19);
    s_send(c2, &o2, 100000, 20);
    s_send(s1, &o3, 100000, 21);
    s_wait_open(fx, "a", 1);
    wr_chaos_proxy_destroy(&fx->proxy);
    assert_null(fx->proxy);
    wr_chaos_proxy_destroy(&fx->proxy); /* NULL-safe */
    assert_true(s_eof(c1));
    while (fx->nfds)
        close(fx->fds[--fx->nfds]);
    assert_int_equal(wr_test_open_fds(), before);
}

static void test_bad_arguments_are_refused(void **state)
{
    fx_t *fx = *state;
    wr_chaos_proxy_t *p = fx->proxy;
    assert_int_equal(wr_chaos_proxy_node(p, "c", "10.0.0.1"), WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_node(p, "c", "127.0.0"), WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_node(p, "", "127.0.0.9"), WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_node(p, "0123456789012345678901234567890123", "127.0.0.9"),
                     WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_node(p, "c", A_IP), WR_EEXIST);
    assert_int_equal(wr_chaos_proxy_node(p, "a", "127.0.0.9"), WR_EEXIST);
    assert_int_equal(wr_chaos_proxy_node(p, "c", "127.0.0.9"), 0);

    int bound = 0, port = 0;
    assert_int_equal(wr_chaos_proxy_route(p, "a", "127.0.0.1", 0, 0, &bound), WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_route(p, "a", "127.0.0.1", 70000, 0, &bound), WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_route(p, "a", "no.such.host.invalid", 80, 0, &bound),
                     WR_EINVAL);
    s_listen(fx, &port); /* taken: the proxy cannot listen there */
    assert_int_equal(wr_chaos_proxy_route(p, "a", "127.0.0.1", 80, port, &bound), WR_EIO);

    assert_int_equal(wr_chaos_proxy_cut(p, "", "b", true), WR_EINVAL);
    assert_int_equal(wr_chaos_proxy_cut(p, "x", "y", true), 0); /* names need not be known */
    assert_int_equal(wr_chaos_proxy_delay(p, "a", "b", -1), WR_EINVAL);

    wr_chaos_route_stats_t st;
    assert_int_equal(wr_chaos_proxy_stats(p, "a", &st), WR_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
        T(test_bytes_flow_both_ways_and_are_counted),
        T(test_big_transfers_both_ways_at_once),
        T(test_cut_stops_one_direction_and_heal_delivers_everything),
        T(test_cut_both_ways),
        T(test_connection_opened_while_cut_stalls_then_flows),
        T(test_unknown_client_is_never_cut),
        T(test_cut_applies_whichever_side_dialed),
        T(test_delay_holds_chunks_in_order),
        T(test_cut_and_delay_are_separate_rules),
        T(test_node_named_late_is_cut),
        T(test_failed_accept_is_counted_and_survived),
        T(test_closes_pass_through),
        T(test_client_gone_while_server_sends),
        T(test_half_close_keeps_the_other_direction),
        T(test_refused_destination_closes_the_client),
        T(test_destroy_with_open_and_cut_connections_leaves_no_fd),
        T(test_bad_arguments_are_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
