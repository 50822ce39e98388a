/* A real etcd (Debian's etcd-server, /usr/bin/etcd) for the tests of the etcd client and of high
 * availability, started through the process harness (process.h): on free loopback ports (client
 * and peer URLs on 127.0.0.1), with its data in the test's directory, killed by pid in ps_teardown
 * with every other tracked process, also when the test fails. One member, or a cluster of three
 * for the faults etcd survives (one member lost) and those it does not (all of them). Use inside
 * ps_setup / ps_teardown:
 *
 *     te_etcd_t *etcd = te_start("etcd");
 *     wr_etcd_t *c = wr_etcd_new(etcd->endpoint, NULL, NULL);
 *
 *     te_cluster_t *three = te_cluster_start("etcd");   // members etcd1..etcd3
 *     ... --etcd three->endpoints ...
 *     te_member_kill9(three, te_cluster_leader(three));  // a quorum is left, electing anew
 *     te_cluster_kill9(three);                           // etcd is gone
 *     te_cluster_restart(three);                         // on the same ports, with the same data
 *
 * te_ is for "test etcd". */
#ifndef WR_TEST_ETCD_H
#define WR_TEST_ETCD_H

#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "state/etcd/etcd.h"
#include "tests/support/process.h"

#define TE_ETCD_BIN "/usr/bin/etcd"
#define TE_MEMBERS  3 /* of a te_cluster_t */

typedef struct {
    ps_proc_t *proc; /* NULL while it is down */
    char name[32];   /* its log files: NAME.<starts>.err */
    int client_port, peer_port, starts;
    char endpoint[64]; /* http://127.0.0.1:<client_port> */
    char peer_url[64];
} te_etcd_t;

typedef struct {
    te_etcd_t member[TE_MEMBERS];
    const char *endpoints;       /* every member's client URL, comma-separated (for --etcd) */
    const char *initial, *token; /* --initial-cluster and --initial-cluster-token */
} te_cluster_t;

/* True when TE_ETCD_BIN can run here. */
bool te_available(void);
/* Starts a one-member etcd named name and waits until it serves clients (up to 30 s); fails the
 * test (with its logs) when it does not. The result is kept until the test ends. */
te_etcd_t *te_start(const char *name);

/* Starts TE_MEMBERS members NAME1.. as one cluster and waits until each serves clients (up to 30
 * s); fails the test when one does not. The result is kept until the test ends. */
te_cluster_t *te_cluster_start(const char *name);
/* The index of the member that leads the etcd cluster (raft): the last of those running whose
 * log says it "became leader"; -1 when none does. */
int te_cluster_leader(const te_cluster_t *c);
/* kill -9 of member i (0-based; nothing when it is down). */
void te_member_kill9(te_cluster_t *c, int i);
/* kill -9 of every member. */
void te_cluster_kill9(te_cluster_t *c);
/* Starts every member that is down again, on its ports with its data, and waits until each
 * serves clients; fails the test when one does not. */
void te_cluster_restart(te_cluster_t *c);

/* The running test's etcd client and error text (the test sets c), released by te_teardown also
 * when the test fails. */
typedef struct {
    wr_etcd_t *c;
    wr_strbuf_t err;
} te_fixture_t;
extern te_fixture_t te_fx;

/* The test's client of endpoints (NULL: a new etcd's, te_start("etcd")) with a 5 s request
 * timeout, kept in te_fx.c; fails the test when it cannot be made. */
wr_etcd_t *te_client(const char *endpoints);

/* Runs an etcd call that reports into te_fx.err, failing the test (with the processes' logs) when
 * it does not return 0. */
#define TE_CHECK(call)                                                                             \
    do {                                                                                           \
        wr_strbuf_reset(&te_fx.err);                                                               \
        int rc_ = (call);                                                                          \
        if (rc_ != 0) PS_FAIL("%s: %s: %s", #call, wr_strerror(rc_), te_fx.err.buf);               \
    } while (0)

/* The group setup of a test binary called name that needs etcd: ps_group_setup, and -1 (saying
 * why) when TE_ETCD_BIN cannot run here. */
int te_group_setup(const char *name);

/* cmocka fixtures around ps_setup / ps_teardown: te_fx empty at the start, released at the end. */
int te_setup(void **state);
int te_teardown(void **state);

#endif
