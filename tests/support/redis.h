/* A real Redis (Debian's redis-server, /usr/bin/redis-server) for the tests of the Redis sink,
 * started through the process harness (process.h): on a free loopback port, bound to 127.0.0.1,
 * its folder in the test's directory, no persistence (--save "" --appendonly no), killed by pid
 * in ps_teardown with every other tracked process, also when the test fails. The test reads
 * Redis back through hiredis clients that tr_teardown frees. Use inside tr_setup / tr_teardown:
 *
 *     tr_redis_t *r = tr_start("redis");         // PING answers
 *     ... sinks: [{type: redis, address: r->address, ...}] ...
 *     redisReply *h = tr_cmd(r, "HGETALL %s", "device:7:latest");   // freed in the teardown
 *     tr_stop(r);                                // kill -9, by pid
 *
 * tr_ is for "test redis". */
#ifndef WR_TEST_REDIS_H
#define WR_TEST_REDIS_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "tests/support/process.h"

#define TR_REDIS_BIN "/usr/bin/redis-server"

typedef struct {
    ps_proc_t *proc; /* NULL once stopped */
    int port;
    char address[32]; /* 127.0.0.1:<port>, for a sink's address */
    redisContext *c;  /* the test's client (tr_cmd), freed in tr_teardown */
} tr_redis_t;

/* True when TR_REDIS_BIN can run here. */
bool tr_available(void);
/* Starts a redis-server named name (its logs NAME.out, NAME.err) and waits until it answers PING
 * (up to 10 s); fails the test (with the logs) when it does not. Kept until the test ends. */
tr_redis_t *tr_start(const char *name);
/* kill -9 of the server (nothing when it is stopped already). */
void tr_stop(tr_redis_t *r);

/* Runs a command (hiredis's format) on the test's client of r; fails the test when there is no
 * reply. The reply is freed in tr_teardown (an error reply is a reply: the caller checks). */
redisReply *tr_cmd(tr_redis_t *r, const char *fmt, ...);

/* The group setup of a test binary called name that needs Redis: ps_group_setup, and -1 (saying
 * why) when TR_REDIS_BIN cannot run here. */
int tr_group_setup(const char *name);
/* cmocka fixtures around ps_setup / ps_teardown: each test's clients and replies freed at its
 * end, also when it fails. */
int tr_setup(void **state);
int tr_teardown(void **state);

#endif
