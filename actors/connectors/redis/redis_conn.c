/* The Redis sink's connection (redis_sink.h): hiredis's blocking API with a timeout on every call;
 * hiredis's results are translated here, at the module's edge. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "actors/connectors/redis/redis_sink.h"
#include "bus/base/error.h"

struct wr__redis_conn {
    redisContext *ctx;
};

bool wr__redis_address(const char *address, char *host, int *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= 256) return false;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || errno || p < 1 || p > 65535) return false;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    *port = (int)p;
    return true;
}

void wr__redis_conn_destroy(wr__redis_conn_t **cp)
{
    wr__redis_conn_t *conn = *cp;
    if (!conn) return;
    if (conn->ctx) redisFree(conn->ctx);
    free(conn);
    *cp = NULL;
}

/* hiredis writes to its socket with write(): on a connection the server closed, that raises
 * SIGPIPE, whose default action ends the process (a TaskManager), and weir leaves signal
 * dispositions alone. So SIGPIPE is blocked in this thread while hiredis runs, and one it raised
 * meanwhile is taken off the thread before it is unblocked (as libcurl does); write then fails
 * with EPIPE, a lost connection. No process-wide state changes. */
typedef struct {
    sigset_t old;
    bool pending; /* a SIGPIPE was pending before: not ours to take */
} s_nosigpipe_t;

static void s_nosigpipe_begin(s_nosigpipe_t *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
    g->pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

static void s_nosigpipe_end(s_nosigpipe_t *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (!g->pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* What the context's error says ("connection lost", the system's words). */
static void s_io_error(const redisContext *ctx, wr_strbuf_t *err)
{
    if (ctx->err == REDIS_ERR_EOF)
        wr_strbuf_adds(err, "the server closed the connection");
    else if (ctx->err == REDIS_ERR_IO && strstr(ctx->errstr, "temporarily unavailable"))
        wr_strbuf_adds(err, "no reply within the timeout");
    else
        wr_strbuf_adds(err, ctx->errstr[0] ? ctx->errstr : "connection failed");
}

/* Runs one command of the handshake: LOST (no reply), REFUSED (an error reply), OK. */
static wr__redis_outcome_t s_call(redisContext *ctx, wr_strbuf_t *err, int argc, const char **argv)
{
    s_nosigpipe_t g;
    s_nosigpipe_begin(&g);
    redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
    s_nosigpipe_end(&g);
    if (!r) {
        wr_strbuf_addf(err, "%s: ", argv[0]);
        s_io_error(ctx, err);
        return WR__REDIS_LOST;
    }
    wr__redis_outcome_t out = WR__REDIS_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        wr_strbuf_addf(err, "%s: %.*s", argv[0], (int)r->len, r->str);
        out = WR__REDIS_REFUSED;
    }
    freeReplyObject(r);
    return out;
}

wr__redis_conn_t *wr__redis_conn_new(const wr_redis_sink_config_t *c, wr__redis_outcome_t *out,
                                     wr_strbuf_t *err)
{
    char host[256];
    int port;
    *out = WR__REDIS_REFUSED;
    if (!wr__redis_address(c->address, host, &port)) {
        wr_strbuf_adds(err, "address: not host:port");
        return NULL;
    }
    wr__redis_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn) {
        wr_strbuf_adds(err, wr_strerror(WR_ENOMEM));
        return NULL;
    }
    struct timeval tv = {.tv_sec = c->timeout_ms / 1000, .tv_usec = c->timeout_ms % 1000 * 1000};
    conn->ctx = redisConnectWithTimeout(host, port, tv);
    *out = WR__REDIS_LOST;
    if (!conn->ctx || conn->ctx->err) {
        wr_strbuf_adds(err, "cannot connect: ");
        if (conn->ctx)
            s_io_error(conn->ctx, err);
        else
            wr_strbuf_adds(err, wr_strerror(WR_ENOMEM));
    } else if (redisSetTimeout(conn->ctx, tv) != REDIS_OK) {
        wr_strbuf_adds(err, "cannot set the timeout: ");
        s_io_error(conn->ctx, err);
    } else {
        char db[16];
        snprintf(db, sizeof db, "%u", c->db);
        *out = c->password[0] ? s_call(conn->ctx, err, 2, (const char *[]){"AUTH", c->password})
                              : WR__REDIS_OK;
        if (*out == WR__REDIS_OK && c->db)
            *out = s_call(conn->ctx, err, 2, (const char *[]){"SELECT", db});
        if (*out == WR__REDIS_OK) *out = s_call(conn->ctx, err, 1, (const char *[]){"PING"});
    }
    if (*out != WR__REDIS_OK) wr__redis_conn_destroy(&conn);
    return conn;
}

/* The first error reply: the command, its key and what Redis said. */
static void s_refused(const wr__redis_cmds_t *m, uint32_t k, const redisReply *r, wr_strbuf_t *err)
{
    const wr__redis_cmd_t *cmd = &m->cmd[k];
    wr_strbuf_addf(err, "%s %.*s: %.*s", wr__redis_verb_name(cmd->verb), (int)cmd->key_len,
                   m->buf.buf + cmd->key_off, (int)r->len, r->str);
}

/* wr__redis_conn_send without the SIGPIPE guard. */
static wr__redis_outcome_t s_send(wr__redis_conn_t *conn, const wr__redis_cmds_t *m, uint32_t from,
                                  uint32_t *acked, wr_strbuf_t *err)
{
    redisContext *ctx = conn->ctx;
    *acked = 0;
    if (from == m->n) return WR__REDIS_OK;
    size_t start = wr__redis_cmds_start(m, from);
    if (redisAppendFormattedCommand(ctx, m->buf.buf + start, m->cmd[m->n - 1].end - start) !=
        REDIS_OK) {
        s_io_error(ctx, err);
        return WR__REDIS_LOST;
    }
    wr__redis_outcome_t out = WR__REDIS_OK;
    for (uint32_t k = from; k < m->n; k++) {
        void *reply = NULL;
        if (redisGetReply(ctx, &reply) != REDIS_OK) {
            if (out == WR__REDIS_REFUSED) wr_strbuf_adds(err, "; then ");
            s_io_error(ctx, err);
            return out == WR__REDIS_REFUSED ? out : WR__REDIS_LOST; /* a refusal stays one */
        }
        redisReply *r = reply;
        if (r->type == REDIS_REPLY_ERROR && out == WR__REDIS_OK) {
            s_refused(m, k, r, err);
            out = WR__REDIS_REFUSED;
        }
        freeReplyObject(r);
        ++*acked;
    }
    return out;
}

wr__redis_outcome_t wr__redis_conn_send(wr__redis_conn_t *conn, const wr__redis_cmds_t *m,
                                        uint32_t from, uint32_t *acked, wr_strbuf_t *err)
{
    s_nosigpipe_t g;
    s_nosigpipe_begin(&g);
    wr__redis_outcome_t out = s_send(conn, m, from, acked, err);
    s_nosigpipe_end(&g);
    return out;
}
