/* The etcd v3 client (state/etcd/etcd.h) against a real etcd started on free loopback ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "state/etcd/etcd.h"
#include "tests/support/etcd.h"
#include "tests/support/process.h"

static void test_put_get_prefix_delete(void **state)
{
    (void)state;
    wr_etcd_t *c = te_client(NULL);
    wr_strbuf_t *err = &te_fx.err;
    int64_t rev1 = 0, rev2 = 0, deleted = 0;
    TE_CHECK(wr_etcd_put(c, "/weir/a", 7, "one", 3, 0, &rev1, err));
    TE_CHECK(wr_etcd_put(c, "/weir/b", 7, "t\0o", 3, 0, &rev2, err)); /* bytes, NUL included */
    TE_CHECK(wr_etcd_put(c, "/weis", 5, "other", 5, 0, NULL, err));
    assert_true(rev2 > rev1 && rev1 > 0);

    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(c, "/weir/a", 7, false, &r, err));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.kvs[0].key, "/weir/a");
    assert_string_equal(r.kvs[0].value, "one");
    assert_true(r.kvs[0].create_revision == rev1 && r.kvs[0].mod_revision == rev1);
    assert_int_equal(r.kvs[0].version, 1);
    wr_etcd_range_release(&r);

    TE_CHECK(wr_etcd_get(c, "/weir/", 6, true, &r, err));
    assert_int_equal(r.n, 2); /* not /weis */
    assert_int_equal(r.count, 2);
    assert_string_equal(r.kvs[1].key, "/weir/b");
    assert_int_equal(r.kvs[1].value_len, 3);
    assert_memory_equal(r.kvs[1].value, "t\0o", 3);
    wr_etcd_range_release(&r);

    TE_CHECK(wr_etcd_get(c, "/none", 5, false, &r, err)); /* missing: no kvs, no error */
    assert_int_equal(r.n, 0);
    assert_true(r.revision >= rev2);
    wr_etcd_range_release(&r);

    TE_CHECK(wr_etcd_delete(c, "/weir/", 6, true, &deleted, err));
    assert_int_equal(deleted, 2);
    TE_CHECK(wr_etcd_get(c, "/wei", 4, true, &r, err));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.kvs[0].key, "/weis");
    wr_etcd_range_release(&r);
    TE_CHECK(wr_etcd_delete(c, "/weir/a", 7, false, &deleted, err));
    assert_int_equal(deleted, 0);
    wr_etcd_destroy(&te_fx.c);
    assert_null(te_fx.c);
}

/* The leader's fencing: a txn that writes only while the leader key has the create_revision the
 * leader saw; once the key is re-created, the same txn fails and writes nothing. */
static void test_txn_fenced_on_create_revision(void **state)
{
    (void)state;
    wr_etcd_t *c = te_client(NULL);
    wr_strbuf_t *err = &te_fx.err;
    int64_t created = 0;
    TE_CHECK(wr_etcd_put(c, "leader", 6, "jm-1", 4, 0, &created, err));
    wr_etcd_cmp_t fence = {.key = "leader",
                           .key_len = 6,
                           .target = WR_ETCD_CREATE,
                           .op = WR_ETCD_EQUAL,
                           .number = created};
    wr_etcd_op_t commit = {
        .kind = WR_ETCD_OP_PUT, .key = "ckpt", .key_len = 4, .value = "7", .value_len = 1};
    wr_etcd_op_t read = {.kind = WR_ETCD_OP_RANGE, .key = "leader", .key_len = 6};
    wr_etcd_txn_result_t t;
    TE_CHECK(wr_etcd_txn(c, &fence, 1, &commit, 1, &read, 1, &t, err));
    assert_true(t.succeeded);
    assert_int_equal(t.n, 1);
    assert_true(t.revision > created);
    wr_etcd_txn_release(&t);

    /* another leader: the key deleted and made again */
    int64_t deleted = 0;
    TE_CHECK(wr_etcd_delete(c, "leader", 6, false, &deleted, err));
    TE_CHECK(wr_etcd_put(c, "leader", 6, "jm-2", 4, 0, NULL, err));
    commit.value = "8";
    TE_CHECK(wr_etcd_txn(c, &fence, 1, &commit, 1, &read, 1, &t, err));
    assert_false(t.succeeded);
    assert_int_equal(t.n, 1); /* the failure branch's range: who leads now */
    assert_int_equal(t.responses[0].n, 1);
    assert_string_equal(t.responses[0].kvs[0].value, "jm-2");
    assert_true(t.responses[0].kvs[0].create_revision > created);
    wr_etcd_txn_release(&t);
    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(c, "ckpt", 4, false, &r, err));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.kvs[0].value, "7"); /* the fenced write did not happen */
    wr_etcd_range_release(&r);

    /* value and version compares, and a delete in the success branch */
    wr_etcd_cmp_t both[] = {
        {.key = "ckpt",
         .key_len = 4,
         .target = WR_ETCD_VALUE,
         .op = WR_ETCD_EQUAL,
         .value = "7",
         .value_len = 1},
        {.key = "ckpt", .key_len = 4, .target = WR_ETCD_VERSION, .op = WR_ETCD_EQUAL, .number = 1},
    };
    wr_etcd_op_t del = {.kind = WR_ETCD_OP_DELETE, .key = "ckpt", .key_len = 4};
    TE_CHECK(wr_etcd_txn(c, both, 2, &del, 1, NULL, 0, &t, err));
    assert_true(t.succeeded);
    assert_int_equal(t.responses[0].count, 1);
    wr_etcd_txn_release(&t);
}

/* A lease not kept alive expires: its key goes, and a keepalive then reports it gone. */
static void test_lease_expires(void **state)
{
    (void)state;
    wr_etcd_t *c = te_client(NULL);
    wr_strbuf_t *err = &te_fx.err;
    int64_t lease = 0, ttl = 0;
    TE_CHECK(wr_etcd_lease_grant(c, 2, &lease, &ttl, err));
    assert_true(lease != 0);
    assert_int_equal(ttl, 2);
    TE_CHECK(wr_etcd_put(c, "alive", 5, "x", 1, lease, NULL, err));
    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(c, "alive", 5, false, &r, err));
    assert_int_equal(r.n, 1);
    assert_true(r.kvs[0].lease == lease);
    wr_etcd_range_release(&r);

    int64_t deadline = ps_now_ms() + 10000;
    size_t n = 1;
    while (n > 0 && ps_now_ms() < deadline) {
        ps_sleep_ms(200);
        TE_CHECK(wr_etcd_get(c, "alive", 5, false, &r, err));
        n = r.n;
        wr_etcd_range_release(&r);
    }
    assert_int_equal(n, 0);
    wr_strbuf_reset(err);
    assert_int_equal(wr_etcd_lease_keepalive(c, lease, &ttl, err), WR_ENOTFOUND);
    assert_non_null(strstr(err->buf, "gone"));
    wr_strbuf_reset(err);
    assert_int_equal(wr_etcd_lease_revoke(c, lease, err), WR_ENOTFOUND);
}

/* Keepalives, one POST each on the client's connection, hold a lease past its TTL; revoke ends
 * it and deletes its key at once. */
static void test_lease_kept_alive(void **state)
{
    (void)state;
    wr_etcd_t *c = te_client(NULL);
    wr_strbuf_t *err = &te_fx.err;
    int64_t lease = 0, ttl = 0;
    TE_CHECK(wr_etcd_lease_grant(c, 2, &lease, NULL, err));
    TE_CHECK(wr_etcd_put(c, "kept", 4, "x", 1, lease, NULL, err));
    int64_t until = ps_now_ms() + 5000; /* 2.5 TTLs */
    while (ps_now_ms() < until) {
        TE_CHECK(wr_etcd_lease_keepalive(c, lease, &ttl, err));
        assert_int_equal(ttl, 2);
        ps_sleep_ms(500);
    }
    wr_etcd_range_t r;
    TE_CHECK(wr_etcd_get(c, "kept", 4, false, &r, err));
    assert_int_equal(r.n, 1);
    wr_etcd_range_release(&r);
    TE_CHECK(wr_etcd_lease_revoke(c, lease, err));
    TE_CHECK(wr_etcd_get(c, "kept", 4, false, &r, err));
    assert_int_equal(r.n, 0);
    wr_etcd_range_release(&r);
}

/* The first endpoint refuses connections: the call goes to the second. */
static void test_fails_over_to_next_endpoint(void **state)
{
    (void)state;
    te_etcd_t *etcd = te_start("etcd");
    int dead = ps_free_port();
    const char *eps = ps_fmt("http://127.0.0.1:%d,%s", dead, etcd->endpoint);
    wr_etcd_t *c = te_client(eps);
    wr_strbuf_t *err = &te_fx.err;
    TE_CHECK(wr_etcd_put(c, "k", 1, "v", 1, 0, NULL, err));
    assert_string_equal(wr_etcd_endpoint(c), etcd->endpoint);
}

/* No etcd at all: a fast WR_EUNREACH that names every endpoint. */
static void test_no_etcd_answers(void **state)
{
    (void)state;
    int a = ps_free_port(), b = ps_free_port();
    const char *eps = ps_fmt("http://127.0.0.1:%d,http://127.0.0.1:%d", a, b);
    wr_etcd_t *c = te_client(eps);
    wr_strbuf_t *err = &te_fx.err;
    int64_t t0 = ps_now_ms();
    wr_etcd_range_t r;
    assert_int_equal(wr_etcd_get(c, "k", 1, false, &r, err), WR_EUNREACH);
    assert_true(ps_now_ms() - t0 < 2000);
    assert_non_null(strstr(err->buf, ps_fmt("127.0.0.1:%d", a)));
    assert_non_null(strstr(err->buf, ps_fmt("127.0.0.1:%d", b)));

    /* endpoints that are no URLs */
    wr_strbuf_reset(err);
    assert_null(wr_etcd_new("127.0.0.1:2379", NULL, err));
    assert_non_null(strstr(err->buf, "127.0.0.1:2379"));
    wr_strbuf_reset(err);
    assert_null(wr_etcd_new("", NULL, err));
    assert_non_null(strstr(err->buf, "no etcd endpoints"));
}

/* One call of a client with source address `source` (NULL: none) to a listener on 127.0.0.1
 * that never answers (the kernel accepts the connection into its backlog; the call times out):
 * the address the connection came from, as the listener's accept sees it, into from. */
static void s_call_from(const char *source, char from[INET_ADDRSTRLEN])
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_true(fd >= 0);
    int ok = !bind(fd, (struct sockaddr *)&sa, sizeof sa) && !listen(fd, 4) &&
             !getsockname(fd, (struct sockaddr *)&sa, &len);
    wr_etcd_opts_t o = {.request_timeout_ms = 300, .source_address = source};
    wr_etcd_t *c =
        ok ? wr_etcd_new(ps_fmt("http://127.0.0.1:%d", ntohs(sa.sin_port)), &o, &te_fx.err) : NULL;
    wr_etcd_range_t r;
    int rc = c ? wr_etcd_get(c, "k", 1, false, &r, &te_fx.err) : WR_EINVAL;
    wr_etcd_destroy(&c);
    /* the connection waits in the backlog (closed by now: accept still hands it over) */
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct sockaddr_in peer;
    len = sizeof peer;
    int conn = accept(fd, (struct sockaddr *)&peer, &len);
    from[0] = '\0';
    if (conn >= 0) inet_ntop(AF_INET, &peer.sin_addr, from, INET_ADDRSTRLEN);
    if (conn >= 0) close(conn);
    close(fd);
    assert_true(ok);
    assert_int_equal(rc, WR_ETIMEDOUT); /* it was sent: nobody answered */
    wr_strbuf_reset(&te_fx.err);
}

/* bus.source-address: every call's connection comes from it. */
static void test_calls_come_from_the_source_address(void **state)
{
    (void)state;
    char from[INET_ADDRSTRLEN];
    s_call_from("127.0.0.9", from);
    assert_string_equal(from, "127.0.0.9");
    s_call_from(NULL, from);
    assert_string_equal(from, "127.0.0.1");
    s_call_from("", from);
    assert_string_equal(from, "127.0.0.1");

    /* and a real etcd serves such a client */
    wr_etcd_opts_t o = {.request_timeout_ms = 5000, .source_address = "127.0.0.9"};
    te_fx.c = wr_etcd_new(te_start("etcd")->endpoint, &o, &te_fx.err);
    assert_non_null(te_fx.c);
    TE_CHECK(wr_etcd_put(te_fx.c, "k", 1, "v", 1, 0, NULL, &te_fx.err));

    /* an address, never a name or an interface */
    const char *bad[] = {"localhost", "eth0", "127.0.0.256", "::1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wr_strbuf_reset(&te_fx.err);
        o.source_address = bad[i];
        assert_null(wr_etcd_new("http://127.0.0.1:2379", &o, &te_fx.err));
        assert_non_null(strstr(te_fx.err.buf, bad[i]));
        assert_non_null(strstr(te_fx.err.buf, "is not an IPv4 address"));
    }
}

int main(void)
{
    if (te_group_setup("test_etcd")) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_prefix_delete, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_txn_fenced_on_create_revision, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_lease_expires, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_lease_kept_alive, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_fails_over_to_next_endpoint, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_no_etcd_answers, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_calls_come_from_the_source_address, te_setup,
                                        te_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, ps_group_teardown);
    return rc;
}
