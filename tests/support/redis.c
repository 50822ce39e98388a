/* A real Redis for the tests (redis.h). */
#include "tests/support/redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define S_START_MS 10000 /* the server answers PING */
#define S_MAX      64    /* clients and replies of one test */

/* What the running test must free: its clients and replies. */
static struct {
    redisContext *clients[S_MAX];
    redisReply *replies[4096];
    size_t nclients, nreplies;
} s_fx;

int tr_setup(void **state)
{
    memset(&s_fx, 0, sizeof s_fx);
    return ps_setup(state);
}

int tr_teardown(void **state)
{
    for (size_t i = 0; i < s_fx.nreplies; i++)
        freeReplyObject(s_fx.replies[i]);
    for (size_t i = 0; i < s_fx.nclients; i++)
        redisFree(s_fx.clients[i]);
    memset(&s_fx, 0, sizeof s_fx);
    return ps_teardown(state);
}

bool tr_available(void)
{
    return access(TR_REDIS_BIN, X_OK) == 0;
}

int tr_group_setup(const char *name)
{
    if (ps_group_setup(name, false)) return -1;
    if (tr_available()) return 0;
    fprintf(stderr, "%s: %s is missing (Debian's redis-server; deploy/install-deps.sh)\n", name,
            TR_REDIS_BIN);
    return -1;
}

/* A client of r, or NULL when it does not connect (within 1 s). */
static redisContext *s_connect(const tr_redis_t *r)
{
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    if (c && !c->err && redisSetTimeout(c, (struct timeval){.tv_sec = 10}) == REDIS_OK) return c;
    if (c) redisFree(c);
    return NULL;
}

/* True when r answers PING on a new connection. */
static bool s_pong(const tr_redis_t *r)
{
    redisContext *c = s_connect(r);
    redisReply *reply = c ? redisCommand(c, "PING") : NULL;
    bool ok = reply && reply->type == REDIS_REPLY_STATUS && !strcmp(reply->str, "PONG");
    if (reply) freeReplyObject(reply);
    if (c) redisFree(c);
    return ok;
}

tr_redis_t *tr_start(const char *name)
{
    tr_redis_t *r = ps_alloc(sizeof *r);
    r->port = ps_free_port();
    snprintf(r->address, sizeof r->address, "127.0.0.1:%d", r->port);
    const char *dir = ps_path(ps_fmt("%s.data", name));
    if (mkdir(dir, 0700)) PS_FAIL("cannot make %s", dir);
    r->proc = ps_start_program(name, TR_REDIS_BIN,
                               PS_ARGV("--bind", "127.0.0.1", "--port", ps_fmt("%d", r->port),
                                       "--dir", dir, "--save", "", "--appendonly", "no"),
                               NULL);
    for (int64_t until = ps_now_ms() + S_START_MS; !s_pong(r); ps_sleep_ms(50))
        if (ps_now_ms() > until || !ps_running(r->proc))
            PS_FAIL("redis-server %s did not answer PING on %s", name, r->address);
    return r;
}

void tr_stop(tr_redis_t *r)
{
    if (!r->proc) return;
    ps_kill9(r->proc);
    ps_release(r->proc);
    r->proc = NULL;
}

redisReply *tr_cmd(tr_redis_t *r, const char *fmt, ...)
{
    if (!r->c) {
        if (s_fx.nclients == S_MAX) fail_msg("tr_cmd: too many clients in one test");
        if (!(r->c = s_connect(r))) PS_FAIL("cannot connect to redis on %s", r->address);
        s_fx.clients[s_fx.nclients++] = r->c;
    }
    if (s_fx.nreplies == sizeof s_fx.replies / sizeof s_fx.replies[0])
        fail_msg("tr_cmd: too many replies in one test");
    va_list ap;
    va_start(ap, fmt);
    redisReply *reply = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    if (!reply) PS_FAIL("redis %s: %s: %s", r->address, fmt, r->c->errstr);
    s_fx.replies[s_fx.nreplies++] = reply;
    return reply;
}
