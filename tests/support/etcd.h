/* A real etcd (Debian's etcd-server, /usr/bin/etcd) for the tests of the etcd client, started
 * through the process harness (process.h): on free loopback ports (client and peer URLs on
 * 127.0.0.1), with its data in the test's directory, killed by pid in ps_teardown with every other
 * tracked process, also when the test fails. Use inside ps_setup / ps_teardown:
 *
 *     te_etcd_t *etcd = te_start("etcd");
 *     wr_etcd_t *c = wr_etcd_new(etcd->endpoint, NULL, NULL);
 *
 * te_ is for "test etcd". */
#ifndef WR_TEST_ETCD_H
#define WR_TEST_ETCD_H

#include "tests/support/process.h"

#define TE_ETCD_BIN "/usr/bin/etcd"

typedef struct {
    ps_proc_t *proc;
    int client_port;
    char endpoint[64]; /* http://127.0.0.1:<client_port> */
} te_etcd_t;

/* True when TE_ETCD_BIN can run here. */
bool te_available(void);
/* Starts a one-member etcd named name and waits until it serves clients (up to 30 s); fails the
 * test (with its logs) when it does not. The result is kept until the test ends. */
te_etcd_t *te_start(const char *name);

#endif
