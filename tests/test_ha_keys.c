/* weir's HA records in etcd (state/etcd/ha.h): the key layout, the strict value codecs, the
 * options' check, and the candidates and leader lookups against a real etcd started on free
 * loopback ports. The codecs read what came over the network, so every malformed shape is
 * refused with WR_EPROTO and leaves the outputs untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "state/etcd/ha.h"
#include "tests/support/etcd.h"
#include "tests/support/process.h"

/* ---- the codecs ---- */

/* A wr_ha_addr_t filled with a sentinel, to see that a refused value leaves it untouched. */
static wr_ha_addr_t s_sentinel_addr(void)
{
    wr_ha_addr_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.node, sizeof a.node, "untouched");
    snprintf(a.endpoint, sizeof a.endpoint, "untouched");
    return a;
}

/* Decodes the len bytes of v (NULs included) and expects WR_EPROTO with *a untouched. */
static void s_addr_refused(const char *v, size_t len)
{
    wr_ha_addr_t a = s_sentinel_addr();
    int rc = wr_ha_addr_decode(v, len, &a);
    if (rc != WR_EPROTO)
        fail_msg("address value \"%.*s\" (%zu bytes): %s, not WR_EPROTO", (int)len, v, len,
                 rc ? wr_strerror(rc) : "accepted");
    assert_string_equal(a.node, "untouched");
    assert_string_equal(a.endpoint, "untouched");
}

#define ADDR_REFUSED(lit) s_addr_refused(lit, sizeof lit - 1)

static void test_address_round_trips(void **state)
{
    (void)state;
    wr_ha_addr_t in = {.node = "jm-a", .endpoint = "tcp://127.0.0.1:6123"}, out;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_ha_addr_encode(&in, &sb), 0);
    assert_string_equal(sb.buf, "jm-a\ntcp://127.0.0.1:6123\n");
    assert_int_equal(wr_ha_addr_decode(sb.buf, sb.len, &out), 0);
    assert_string_equal(out.node, "jm-a");
    assert_string_equal(out.endpoint, "tcp://127.0.0.1:6123");

    /* the limits: a node id of 31 bytes of every allowed kind, an endpoint of 127 bytes with
     * UTF-8 in it */
    wr_ha_addr_t big;
    memset(&big, 0, sizeof big);
    memset(big.node, 'x', WR_HA_NODE_MAX - 1);
    memcpy(big.node, "Az09_.-", 7);
    memset(big.endpoint, 'e', WR_HA_ENDPOINT_MAX - 1);
    memcpy(big.endpoint, "inproc://\xc3\xa9", 11);
    wr_strbuf_reset(&sb);
    assert_int_equal(wr_ha_addr_encode(&big, &sb), 0);
    out = s_sentinel_addr();
    assert_int_equal(wr_ha_addr_decode(sb.buf, sb.len, &out), 0);
    assert_memory_equal(&out, &big, sizeof out);

    /* what would not decode back is not encoded */
    const wr_ha_addr_t bad[] = {
        {.node = "", .endpoint = "tcp://x:1"},       {.node = "jm a", .endpoint = "tcp://x:1"},
        {.node = "jm/a", .endpoint = "tcp://x:1"},   {.node = "jm-a", .endpoint = ""},
        {.node = "jm-a", .endpoint = "tcp://x:1\n"}, {.node = "jm-a", .endpoint = "tcp://x:1\t"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wr_strbuf_reset(&sb);
        assert_int_equal(wr_ha_addr_encode(&bad[i], &sb), WR_EINVAL);
        assert_int_equal(sb.len, 0);
    }
    wr_strbuf_release(&sb);
}

static void test_address_decoder_refuses_every_other_shape(void **state)
{
    (void)state;
    s_addr_refused("", 0);
    ADDR_REFUSED("\n");
    ADDR_REFUSED("jm-a\n");                   /* one line */
    ADDR_REFUSED("jm-a\ntcp://x:1");          /* the last line not ended */
    ADDR_REFUSED("jm-a");                     /* no line at all */
    ADDR_REFUSED("jm-a\ntcp://x:1\n\n");      /* three lines */
    ADDR_REFUSED("jm-a\ntcp://x:1\nmore\n");  /* three lines */
    ADDR_REFUSED("\ntcp://x:1\n");            /* empty node */
    ADDR_REFUSED("jm-a\n\n");                 /* empty endpoint */
    ADDR_REFUSED("\n\n");                     /* both empty */
    ADDR_REFUSED("jm a\ntcp://x:1\n");        /* a space in the node id */
    ADDR_REFUSED("jm/a\ntcp://x:1\n");        /* a slash */
    ADDR_REFUSED("jm-\xc3\xa9\ntcp://x:1\n"); /* UTF-8 in a node id */
    ADDR_REFUSED("jm-a\r\ntcp://x:1\n");      /* CRLF */
    ADDR_REFUSED("jm-a\ntcp://x:1\r\n");      /* a CR in the endpoint */
    ADDR_REFUSED("jm\0a\ntcp://x:1\n");       /* a NUL in the node id */
    ADDR_REFUSED("jm-a\ntcp://\0x:1\n");      /* a NUL in the endpoint */
    ADDR_REFUSED("jm-a\ntcp://\x01x:1\n");    /* a control byte */
    ADDR_REFUSED("jm-a\ntcp://\x1bx:1\n");    /* ESC */
    ADDR_REFUSED("jm-a\ntcp://\x7fx:1\n");    /* DEL */

    /* too long: a node id of 32 bytes, an endpoint of 128 */
    char v[300];
    int n = snprintf(v, sizeof v, "%0*d\ntcp://x:1\n", WR_HA_NODE_MAX, 7);
    s_addr_refused(v, (size_t)n);
    n = snprintf(v, sizeof v, "%0*d\ntcp://x:1\n", WR_HA_NODE_MAX - 1, 7); /* fits */
    wr_ha_addr_t a;
    assert_int_equal(wr_ha_addr_decode(v, (size_t)n, &a), 0);
    n = snprintf(v, sizeof v, "jm-a\n%0*d\n", WR_HA_ENDPOINT_MAX, 7);
    s_addr_refused(v, (size_t)n);
    n = snprintf(v, sizeof v, "jm-a\n%0*d\n", WR_HA_ENDPOINT_MAX - 1, 7); /* fits */
    assert_int_equal(wr_ha_addr_decode(v, (size_t)n, &a), 0);
    assert_int_equal(strlen(a.endpoint), WR_HA_ENDPOINT_MAX - 1);
}

/* Decodes the len bytes of v into path[cap] and expects WR_EPROTO with the outputs untouched. */
static void s_pointer_refused(const char *v, size_t len, size_t cap)
{
    uint32_t attempt = 77;
    char path[64] = "untouched";
    assert_true(cap <= sizeof path);
    int rc = wr_ha_pointer_decode(v, len, &attempt, path, cap);
    if (rc != WR_EPROTO)
        fail_msg("pointer value \"%.*s\" (%zu bytes): %s, not WR_EPROTO", (int)len, v, len,
                 rc ? wr_strerror(rc) : "accepted");
    assert_int_equal(attempt, 77);
    assert_string_equal(path, "untouched");
}

#define POINTER_REFUSED(lit) s_pointer_refused(lit, sizeof lit - 1, 64)

/* Decodes v (a C string) and expects attempt and path. */
static void s_pointer_decodes(const char *v, uint32_t want_attempt, const char *want_path)
{
    uint32_t attempt = 77;
    char path[64] = "untouched";
    int rc = wr_ha_pointer_decode(v, strlen(v), &attempt, path, sizeof path);
    if (rc) fail_msg("pointer value \"%s\": %s", v, wr_strerror(rc));
    assert_int_equal(attempt, want_attempt);
    assert_string_equal(path, want_path);
}

static void test_pointer_round_trips(void **state)
{
    (void)state;
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_ha_pointer_encode(3, "/ck/0000000a/chk-5", &sb), 0);
    assert_string_equal(sb.buf, "3\n/ck/0000000a/chk-5\n");
    s_pointer_decodes(sb.buf, 3, "/ck/0000000a/chk-5");
    wr_strbuf_reset(&sb);
    assert_int_equal(wr_ha_pointer_encode(UINT32_MAX, "", &sb), 0); /* no checkpoint yet */
    assert_string_equal(sb.buf, "4294967295\n\n");
    s_pointer_decodes(sb.buf, UINT32_MAX, "");
    s_pointer_decodes("0\n\n", 0, "");
    s_pointer_decodes("10\n/a b/\xc3\xa9\n", 10, "/a b/\xc3\xa9"); /* spaces and UTF-8 */
    wr_strbuf_reset(&sb);
    assert_int_equal(wr_ha_pointer_encode(1, "/ck/a\nb", &sb), WR_EINVAL); /* would not decode */
    assert_int_equal(sb.len, 0);

    /* the path must fit path[cap] with its NUL */
    uint32_t attempt = 0;
    char path[8];
    assert_int_equal(wr_ha_pointer_decode("1\n1234567\n", 10, &attempt, path, sizeof path), 0);
    assert_string_equal(path, "1234567");
    s_pointer_refused("1\n12345678\n", 11, 8);
    s_pointer_refused("1\n\n", 3, 0); /* not even the NUL fits */
    wr_strbuf_release(&sb);
}

static void test_pointer_decoder_refuses_every_other_shape(void **state)
{
    (void)state;
    s_pointer_refused("", 0, 64);
    POINTER_REFUSED("\n");
    POINTER_REFUSED("3\n");                         /* one line */
    POINTER_REFUSED("3\n/ck");                      /* the last line not ended */
    POINTER_REFUSED("3\n/ck\n/ck\n");               /* three lines */
    POINTER_REFUSED("3\n\n\n");                     /* three lines */
    POINTER_REFUSED("\n/ck\n");                     /* no attempt */
    POINTER_REFUSED("03\n/ck\n");                   /* a leading zero */
    POINTER_REFUSED("00\n/ck\n");                   /* a leading zero */
    POINTER_REFUSED("4294967296\n/ck\n");           /* UINT32_MAX + 1 */
    POINTER_REFUSED("9999999999\n/ck\n");           /* ten digits over */
    POINTER_REFUSED("10000000000\n/ck\n");          /* eleven digits */
    POINTER_REFUSED("18446744073709551619\n/ck\n"); /* wraps a uint64 */
    POINTER_REFUSED("-1\n/ck\n");
    POINTER_REFUSED("+1\n/ck\n");
    POINTER_REFUSED(" 1\n/ck\n");
    POINTER_REFUSED("1 \n/ck\n");
    POINTER_REFUSED("1a\n/ck\n");
    POINTER_REFUSED("0x1\n/ck\n");
    POINTER_REFUSED("1\r\n/ck\n");
    POINTER_REFUSED("1\0\n/ck\n");   /* a NUL in the attempt */
    POINTER_REFUSED("1\n/c\0k\n");   /* a NUL in the path */
    POINTER_REFUSED("1\n/c\x01k\n"); /* a control byte */
    POINTER_REFUSED("1\n/c\tk\n");   /* a tab */
    POINTER_REFUSED("1\n/ck\r\n");   /* a CR */
    POINTER_REFUSED("1\n/c\x7fk\n"); /* DEL */
}

/* ---- the options and the keys ---- */

/* wr_ha_opts_check's verdict on o: WR_EINVAL with each of the needles in the reason, or 0 with
 * no reason (needles NULL). */
static void s_check(const wr_ha_opts_t *o, const char *const *needles)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_ha_opts_check(o, &err);
    if (!needles) {
        if (rc) fail_msg("refused: %s", err.buf);
        assert_int_equal(err.len, 0);
    } else {
        assert_int_equal(rc, WR_EINVAL);
        for (size_t i = 0; needles[i]; i++)
            if (!strstr(err.buf, needles[i]))
                fail_msg("the reason \"%s\" does not say \"%s\"", err.buf, needles[i]);
    }
    wr_strbuf_release(&err);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_opts_check_says_what_is_wrong(void **state)
{
    (void)state;
    const wr_ha_opts_t good = {.endpoints = "http://127.0.0.1:2379",
                               .cluster_id = "prod-1.eu_west",
                               .lease_ttl_ms = 3000,
                               .renew_ms = 500};
    s_check(&good, NULL);
    wr_ha_opts_t o = good;
    o.lease_ttl_ms = 2000;
    o.renew_ms = 666; /* at most a third */
    s_check(&o, NULL);
    o.renew_ms = 10;
    s_check(&o, NULL);

    o = good;
    o.endpoints = NULL;
    s_check(&o, NEEDLES("no etcd endpoints", "high-availability.etcd.endpoints"));
    o.endpoints = "";
    s_check(&o, NEEDLES("no etcd endpoints", "high-availability.etcd.endpoints"));

    o = good;
    o.cluster_id = NULL;
    s_check(&o, NEEDLES("the cluster id ''", "1 to 63", "high-availability.cluster-id"));
    o.cluster_id = "";
    s_check(&o, NEEDLES("the cluster id ''", "high-availability.cluster-id"));
    o.cluster_id = "a/b";
    s_check(&o, NEEDLES("the cluster id 'a/b'", "high-availability.cluster-id"));
    o.cluster_id = "a b";
    s_check(&o, NEEDLES("the cluster id 'a b'"));
    char id[80];
    memset(id, 'c', sizeof id);
    id[WR_HA_CLUSTER_MAX] = '\0'; /* 64: one too many */
    o.cluster_id = id;
    s_check(&o, NEEDLES("must be 1 to 63", "high-availability.cluster-id"));
    id[WR_HA_CLUSTER_MAX - 1] = '\0';
    s_check(&o, NULL);
    assert_true(wr_ha_cluster_id_valid(id));
    assert_false(wr_ha_cluster_id_valid(NULL));

    o = good;
    o.lease_ttl_ms = 1000;
    o.renew_ms = 300;
    s_check(&o, NEEDLES("at least 2s", "not 1000 ms", "high-availability.etcd.lease-ttl"));
    o.lease_ttl_ms = 2500;
    o.renew_ms = 500;
    s_check(&o, NEEDLES("whole seconds", "not 2500 ms", "high-availability.etcd.lease-ttl"));
    o.lease_ttl_ms = 0;
    s_check(&o, NEEDLES("not 0 ms", "high-availability.etcd.lease-ttl"));

    o = good;
    o.renew_ms = 1001; /* over a third of 3 s */
    s_check(&o, NEEDLES("the renew interval (1001 ms)", "the lease (3000 ms)",
                        "high-availability.etcd.renew-interval"));
    o.renew_ms = 9;
    s_check(&o, NEEDLES("(9 ms)", "at least 10 ms", "high-availability.etcd.renew-interval"));
    o.renew_ms = 0;
    s_check(&o, NEEDLES("(0 ms)", "high-availability.etcd.renew-interval"));
}

static void test_keys(void **state)
{
    (void)state;
    char key[WR_HA_KEY_MAX];
    assert_int_equal(wr_ha_key("prod", "leader", "00000000075bcd15", key), 0);
    assert_string_equal(key, "/weir/prod/leader/00000000075bcd15");
    assert_int_equal(wr_ha_key("prod", "jobs", "", key), 0); /* a prefix */
    assert_string_equal(key, "/weir/prod/jobs/");
    assert_int_equal(wr_ha_key("prod", "pointers", "0000beef", key), 0);
    assert_string_equal(key, "/weir/prod/pointers/0000beef");

    /* the longest that fits: "/weir/" + cluster + "/jobs/" + name = 255 bytes */
    char name[WR_HA_KEY_MAX];
    size_t fits = WR_HA_KEY_MAX - 1 - strlen("/weir/c/jobs/");
    memset(name, 'n', fits);
    name[fits] = '\0';
    assert_int_equal(wr_ha_key("c", "jobs", name, key), 0);
    assert_int_equal(strlen(key), WR_HA_KEY_MAX - 1);
    name[fits] = 'n';
    name[fits + 1] = '\0';
    assert_int_equal(wr_ha_key("c", "jobs", name, key), WR_ETOOBIG);
}

/* ---- the lookups against etcd ---- */

/* Puts a candidacy of cluster under the key's name (lease 0: none); its create revision. */
static int64_t s_candidacy(const char *cluster, const char *name, const char *value, int64_t lease)
{
    char key[WR_HA_KEY_MAX];
    assert_int_equal(wr_ha_key(cluster, "leader", name, key), 0);
    int64_t rev = 0;
    TE_CHECK(wr_etcd_put(te_fx.c, key, strlen(key), value, strlen(value), lease, &rev, &te_fx.err));
    return rev;
}

static void test_candidates_in_create_revision_order(void **state)
{
    (void)state;
    te_client(NULL);
    wr_ha_candidate_t c[WR_HA_CANDIDATES];
    size_t n = 99, skipped = 99;
    TE_CHECK(wr_ha_candidates(te_fx.c, "t", c, WR_HA_CANDIDATES, &n, &skipped, &te_fx.err));
    assert_int_equal(n, 0);
    assert_int_equal(skipped, 0);
    wr_ha_candidate_t leader = {.epoch = 77};
    wr_strbuf_reset(&te_fx.err);
    assert_int_equal(wr_ha_leader(te_fx.c, "t", &leader, &te_fx.err), WR_ENOTFOUND);
    assert_int_equal(leader.epoch, 77); /* untouched */

    /* created in an order unlike the keys' (etcd returns a range in key order) */
    int64_t lease = 0;
    TE_CHECK(wr_etcd_lease_grant(te_fx.c, 30, &lease, NULL, &te_fx.err));
    int64_t r3 = s_candidacy("t", "0000000000000003", "jm-c\ntcp://127.0.0.1:3\n", lease);
    s_candidacy("t", "0000000000000000", "not an address", 0); /* skipped */
    int64_t r1 = s_candidacy("t", "0000000000000001", "jm-a\ntcp://127.0.0.1:1\n", 0);
    s_candidacy("t", "0000000000000004", "jm-d\n", 0); /* skipped */
    int64_t r2 = s_candidacy("t", "0000000000000002", "jm-b\ntcp://127.0.0.1:2\n", 0);
    s_candidacy("t2", "0000000000000000", "jm-x\ntcp://127.0.0.1:9\n", 0); /* another cluster */
    assert_true(r3 < r1 && r1 < r2);

    TE_CHECK(wr_ha_candidates(te_fx.c, "t", c, WR_HA_CANDIDATES, &n, &skipped, &te_fx.err));
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 2);
    assert_string_equal(c[0].addr.node, "jm-c");
    assert_string_equal(c[0].addr.endpoint, "tcp://127.0.0.1:3");
    assert_true(c[0].epoch == r3 && c[0].lease == lease);
    assert_string_equal(c[1].addr.node, "jm-a");
    assert_true(c[1].epoch == r1 && c[1].lease == 0);
    assert_string_equal(c[2].addr.node, "jm-b");
    assert_true(c[2].epoch == r2);
    TE_CHECK(wr_ha_leader(te_fx.c, "t", &leader, &te_fx.err));
    assert_string_equal(leader.addr.node, "jm-c");
    assert_true(leader.epoch == r3);

    /* fewer places than candidates: the oldest, still in order; skipped may be NULL */
    TE_CHECK(wr_ha_candidates(te_fx.c, "t", c, 2, &n, NULL, &te_fx.err));
    assert_int_equal(n, 2);
    assert_string_equal(c[0].addr.node, "jm-c");
    assert_string_equal(c[1].addr.node, "jm-a");
    TE_CHECK(wr_ha_candidates(te_fx.c, "t", c, 0, &n, &skipped, &te_fx.err));
    assert_int_equal(n, 0);
    assert_int_equal(skipped, 2);

    /* a candidacy rewritten keeps its place (its create revision); a revoked lease takes its
     * key away and the next oldest leads */
    s_candidacy("t", "0000000000000003", "jm-c\ntcp://127.0.0.1:33\n", lease);
    TE_CHECK(wr_ha_leader(te_fx.c, "t", &leader, &te_fx.err));
    assert_string_equal(leader.addr.endpoint, "tcp://127.0.0.1:33");
    assert_true(leader.epoch == r3);
    TE_CHECK(wr_etcd_lease_revoke(te_fx.c, lease, &te_fx.err));
    TE_CHECK(wr_ha_leader(te_fx.c, "t", &leader, &te_fx.err));
    assert_string_equal(leader.addr.node, "jm-a");
    assert_true(leader.epoch == r1);

    /* only undecodable values: no leader */
    char prefix[WR_HA_KEY_MAX];
    assert_int_equal(wr_ha_key("t", "leader", "", prefix), 0);
    int64_t deleted = 0;
    TE_CHECK(wr_etcd_delete(te_fx.c, prefix, strlen(prefix), true, &deleted, &te_fx.err));
    assert_int_equal(deleted, 4);
    s_candidacy("t", "0000000000000009", "jm-z\ntcp://\x01\n", 0);
    wr_strbuf_reset(&te_fx.err);
    assert_int_equal(wr_ha_leader(te_fx.c, "t", &leader, &te_fx.err), WR_ENOTFOUND);
    TE_CHECK(wr_ha_candidates(te_fx.c, "t", c, WR_HA_CANDIDATES, &n, &skipped, &te_fx.err));
    assert_true(n == 0 && skipped == 1);
    TE_CHECK(wr_ha_leader(te_fx.c, "t2", &leader, &te_fx.err)); /* the other cluster's */
    assert_string_equal(leader.addr.node, "jm-x");
}

/* More candidates than a lookup keeps: the oldest WR_HA_CANDIDATES, in order. */
static void test_candidates_keep_the_oldest(void **state)
{
    (void)state;
    te_client(NULL);
    enum { N = WR_HA_CANDIDATES + 4 };
    int64_t rev[N];
    for (int i = 0; i < N; i++) { /* key names descending: the reverse of creation */
        char name[20], value[64];
        snprintf(name, sizeof name, "%016x", N - i);
        snprintf(value, sizeof value, "jm-%d\ntcp://127.0.0.1:%d\n", i, 1000 + i);
        rev[i] = s_candidacy("t", name, value, 0);
    }
    wr_ha_candidate_t c[WR_HA_CANDIDATES];
    size_t n = 0, skipped = 9;
    TE_CHECK(wr_ha_candidates(te_fx.c, "t", c, WR_HA_CANDIDATES, &n, &skipped, &te_fx.err));
    assert_int_equal(n, WR_HA_CANDIDATES);
    assert_int_equal(skipped, 0);
    for (int i = 0; i < WR_HA_CANDIDATES; i++) {
        char node[16];
        snprintf(node, sizeof node, "jm-%d", i);
        assert_string_equal(c[i].addr.node, node);
        assert_true(c[i].epoch == rev[i]);
    }
}

/* etcd gone: the client's error, not "no leader". */
static void test_lookup_without_etcd(void **state)
{
    (void)state;
    const char *ep = ps_fmt("http://127.0.0.1:%d", ps_free_port());
    te_client(ep);
    wr_ha_candidate_t leader;
    wr_strbuf_reset(&te_fx.err);
    assert_int_equal(wr_ha_leader(te_fx.c, "t", &leader, &te_fx.err), WR_EUNREACH);
    assert_non_null(strstr(te_fx.err.buf, ep + strlen("http://")));
}

int main(void)
{
    if (te_group_setup("test_ha_keys")) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_round_trips),
        cmocka_unit_test(test_address_decoder_refuses_every_other_shape),
        cmocka_unit_test(test_pointer_round_trips),
        cmocka_unit_test(test_pointer_decoder_refuses_every_other_shape),
        cmocka_unit_test(test_opts_check_says_what_is_wrong),
        cmocka_unit_test(test_keys),
        cmocka_unit_test_setup_teardown(test_candidates_in_create_revision_order, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_candidates_keep_the_oldest, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_lookup_without_etcd, te_setup, te_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, ps_group_teardown);
}
