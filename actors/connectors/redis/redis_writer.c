/* The Redis sink's writer (redis.h, redis_sink.h): each write's commands pipelined `batch` at a
 * time and acknowledged before it returns; a lost connection opened again with backoff and the
 * unacknowledged commands sent again. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/connectors/redis/redis_sink.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_RETRIES    5   /* connections opened again for one round of commands */
#define S_BACKOFF_MS 100 /* before the first; doubling */

typedef struct {
    const wr_redis_sink_config_t *c; /* borrowed */
    wr__redis_cmds_t cmds;           /* the commands not acknowledged yet */
    wr__redis_conn_t *conn;
    int err;             /* the first failure: every later call returns it */
    wr_strbuf_t scratch; /* what the failing call says */
    wr_strbuf_t failed_on;
} s_writer_t;

void wr__redis_sink_close(void **wp)
{
    s_writer_t *w = *wp;
    if (!w) return;
    wr__redis_conn_destroy(&w->conn);
    wr__redis_cmds_release(&w->cmds);
    wr_strbuf_release(&w->scratch);
    wr_strbuf_release(&w->failed_on);
    free(w);
    *wp = NULL;
}

const char *wr__redis_sink_failed_on(void *wp)
{
    s_writer_t *w = wp;
    return w->failed_on.len ? w->failed_on.buf : NULL;
}

/* Records the writer's failure rc with what w->scratch says. Returns rc. */
static int s_fail(s_writer_t *w, int rc)
{
    if (!rc || w->err) return rc;
    w->err = rc;
    wr_strbuf_reset(&w->failed_on);
    wr_strbuf_addf(&w->failed_on, "redis %s: %s", w->c->address, w->scratch.buf);
    return rc;
}

int wr__redis_sink_open(const void *config, const wr_sink_open_t *o, void **wp, wr_strbuf_t *err)
{
    const wr_redis_sink_config_t *c = config;
    s_writer_t *w = calloc(1, sizeof *w);
    if (!w) return WR_ENOMEM;
    w->c = c;
    wr_strbuf_init(&w->scratch);
    wr_strbuf_init(&w->failed_on);
    *wp = w;
    int rc = wr__redis_cmds_init(&w->cmds, c, o->schema, err);
    if (!rc) {
        wr__redis_outcome_t out;
        w->conn = wr__redis_conn_new(c, &out, &w->scratch);
        if (!w->conn) {
            rc = out == WR__REDIS_LOST ? WR_EUNREACH : WR_EIO;
            wr_strbuf_addf(err, "redis %s: %s", c->address, w->scratch.buf);
        }
    }
    if (rc) wr__redis_sink_close(wp);
    return rc;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Sends every command held and waits for their replies: 0 once Redis acknowledged them all (they
 * are dropped then). A lost connection is opened again (S_RETRIES times, with backoff) and what
 * it had not acknowledged is sent again; an error reply, or a connection lost once too often,
 * fails the writer. */
static int s_drain(s_writer_t *w)
{
    if (w->err) return w->err;
    uint32_t done = 0;
    int delay = S_BACKOFF_MS;
    wr_strbuf_reset(&w->scratch);
    for (int tries = 0;; tries++) {
        wr__redis_outcome_t out = WR__REDIS_OK;
        if (!w->conn) w->conn = wr__redis_conn_new(w->c, &out, &w->scratch);
        if (w->conn) {
            uint32_t acked;
            out = wr__redis_conn_send(w->conn, &w->cmds, done, &acked, &w->scratch);
            done += acked;
        }
        if (out == WR__REDIS_OK) break;
        if (out == WR__REDIS_REFUSED) return s_fail(w, WR_EIO);
        wr__redis_conn_destroy(&w->conn);
        if (tries == S_RETRIES) {
            wr_strbuf_addf(&w->scratch, " (connected again %d times)", S_RETRIES);
            return s_fail(w, WR_EUNREACH);
        }
        wr_warn("redis sink %s: %s; connecting again in %d ms (%u of %u commands acknowledged)",
                w->c->address, w->scratch.buf, delay, done, w->cmds.n);
        wr_strbuf_reset(&w->scratch);
        s_sleep_ms(delay);
        delay *= 2;
    }
    wr__redis_cmds_clear(&w->cmds);
    return 0;
}

int wr__redis_sink_write(void *wp, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    s_writer_t *w = wp;
    if (w->err) return w->err;
    uint32_t n = sel ? nsel : b->count;
    int rc = 0;
    for (uint32_t k = 0; !rc && k < n; k++) {
        rc = wr__redis_cmds_add(&w->cmds, b, sel ? sel[k] : k);
        if (rc) {
            wr_strbuf_reset(&w->scratch);
            wr_strbuf_adds(&w->scratch, "formatting the commands");
            rc = s_fail(w, rc);
        } else if (w->cmds.n >= w->c->batch) {
            rc = s_drain(w);
        }
    }
    return rc ? rc : s_drain(w);
}

int wr__redis_sink_flush(void *wp)
{
    return s_drain(wp);
}

int wr__redis_sink_barrier(void *wp, uint64_t checkpoint_id)
{
    (void)checkpoint_id;
    return s_drain(wp); /* a write returns acknowledged: this finds nothing left */
}
