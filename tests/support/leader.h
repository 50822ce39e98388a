/* What every implementation of the JobManager's leadership service (actors/jobmanager/jm_leader.h)
 * must do with job records, as one check that test_jm_leader runs on the standalone service and
 * test_jm_leader_etcd on the etcd one, so that both keep the same contract. tl_ is for "test
 * leadership". */
#ifndef WR_TEST_LEADER_H
#define WR_TEST_LEADER_H

#include "actors/jobmanager/jm_leader.h"
#include "bus/base/strbuf.h"

/* The records of l, "<id> <attempt> <checkpoint> <graph bytes>;" each, in the order
 * wr__leader_jobs gives them, appended to out; wr__leader_jobs's code. */
int tl_records(wr__leader_t *l, wr_strbuf_t *out);

/* Puts, replaces, reads back and removes records on l, which leads and holds none yet, on behalf
 * of self (the JobManager actor: call it on that actor's thread; NULL where the implementation
 * needs no actor). 0 when every call did what jm_leader.h says, else -1 with the first that did
 * not in why; it does not fail the test itself, so it may run on an actor's thread. l keeps the
 * one record "0000000b 0  graph-B;". */
int tl_check_records(wr__leader_t *l, wr_actor_t *self, wr_strbuf_t *why);

#endif
