/* The Kafka sink's writer (kafka_sink.h): at least once, one producer flushed at each barrier;
 * exactly once, a transaction per checkpoint, spooled and logged in the transaction_log folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/kafka/kafka_sink.h"
#include "actors/connectors/kafka/kafka_txnlog.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/log.h"

#define S_OPEN_MS  10000 /* the brokers' answer about the topic when the writer opens */
#define S_BEGIN_MS 60000 /* a transaction's producer: its topic and init_transactions */

typedef struct {
    const wr_kafka_sink_config_t *c; /* borrowed */
    wr__kafka_msgs_t msgs;
    bool exactly_once;
    uint32_t subtask, attempt;
    /* at least once: the producer; exactly once: the open transaction's (NULL: none open) */
    wr__kafka_producer_t *prod;
    /* exactly once */
    int dfd, log, spool;         /* the folder, this writer's log, the open transaction's spool */
    wr_kafka_pending_t cur;      /* the open transaction: its id and records so far */
    wr_kafka_pending_t *pending; /* pre-committed, not committed: in order */
    wr__kafka_producer_t **pending_prod;
    uint32_t npending, cap;
    uint64_t next_n; /* the next transaction's number */
    uint64_t last_checkpoint;
    bool precommitted;
    wr_strbuf_t spoolbuf; /* one batch's spool bytes */
    /* failures */
    int err;             /* the first: every later call returns it */
    wr_strbuf_t scratch; /* what the call failing says */
    wr_strbuf_t failed_on;
} s_writer_t;

void wr__kafka_sink_close(void **wp)
{
    s_writer_t *w = *wp;
    if (!w) return;
    wr__kafka_producer_destroy(&w->prod);
    for (uint32_t i = 0; i < w->npending; i++)
        wr__kafka_producer_destroy(&w->pending_prod[i]);
    free(w->pending);
    free(w->pending_prod);
    if (w->spool >= 0) close(w->spool);
    if (w->log >= 0) close(w->log);
    if (w->dfd >= 0) close(w->dfd);
    wr__kafka_msgs_release(&w->msgs);
    wr_strbuf_release(&w->spoolbuf);
    wr_strbuf_release(&w->scratch);
    wr_strbuf_release(&w->failed_on);
    free(w);
    *wp = NULL;
}

/* Records the writer's failure rc (0: none) with what w->scratch says, about transaction t (NULL:
 * none). Returns rc. */
static int s_fail(s_writer_t *w, int rc, const wr_kafka_txn_t *t)
{
    if (!rc || w->err) return rc;
    w->err = rc;
    char id[WR_KAFKA_TXN_ID_MAX] = "";
    if (t) wr_kafka_txn_id(w->c->txn_prefix, t, id);
    wr_strbuf_reset(&w->failed_on);
    wr_strbuf_addf(&w->failed_on, "kafka topic %s%s%s%s%s", w->c->topic, t ? ", transaction " : "",
                   id, w->scratch.len ? ": " : "", w->scratch.buf);
    return rc;
}

const char *wr__kafka_sink_failed_on(void *wp)
{
    s_writer_t *w = wp;
    return w->failed_on.len ? w->failed_on.buf : NULL;
}

/* Opens the folder and this writer's log (a new file: another writer of this attempt and
 * subtask is WR_EEXIST). */
static int s_open_log(s_writer_t *w, wr_strbuf_t *err)
{
    const char *dir = w->c->txn_log;
    int rc = wr_fs_mkdirs(dir);
    if (!rc && (w->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) rc = WR_EIO;
    char name[WR_KAFKA_TXN_NAME_MAX];
    wr_kafka_logname_t l = {.subtask = w->subtask, .attempt = w->attempt};
    wr_kafka_logname(w->c->txn_prefix, &l, name);
    if (!rc) rc = wr_kafka_log_open(w->dfd, name, true, &w->log);
    if (rc == WR_EEXIST)
        wr_strbuf_addf(err, "%s/%s exists: another writer of attempt %u subtask %u", dir, name,
                       w->attempt, w->subtask);
    else if (rc)
        wr_strbuf_addf(err, "transaction log %s: %s", dir,
                       rc == WR_EIO ? strerror(errno) : wr_strerror(rc));
    return rc;
}

int wr__kafka_sink_open(const void *config, const wr_sink_open_t *o, void **wp, wr_strbuf_t *err)
{
    const wr_kafka_sink_config_t *c = config;
    s_writer_t *w = calloc(1, sizeof *w);
    if (!w) return WR_ENOMEM;
    *w = (s_writer_t){.c = c,
                      .exactly_once = c->guarantee == WR_KAFKA_EXACTLY_ONCE,
                      .subtask = o->subtask,
                      .attempt = o->attempt,
                      .dfd = -1,
                      .log = -1,
                      .spool = -1};
    wr_strbuf_init(&w->spoolbuf);
    wr_strbuf_init(&w->scratch);
    wr_strbuf_init(&w->failed_on);
    *wp = w;
    int rc = wr__kafka_msgs_init(&w->msgs, o->schema, c->key, err);
    /* at least once, the writer's producer; exactly once, a look at the topic and the settings
     * before any transaction */
    if (!rc) w->prod = wr__kafka_producer_new(c, NULL, S_OPEN_MS, &rc, err);
    if (!rc && w->exactly_once) {
        wr__kafka_producer_destroy(&w->prod);
        rc = s_open_log(w, err);
    }
    if (rc) wr__kafka_sink_close(wp);
    return rc;
}

/* Appends line to this writer's log; w->scratch says why not. */
static int s_log(s_writer_t *w, const wr_kafka_line_t *line)
{
    int rc = wr_kafka_log_add(w->log, w->c->txn_prefix, line);
    if (rc)
        wr_strbuf_addf(&w->scratch, "transaction log %s: %s", w->c->txn_log,
                       rc == WR_EIO ? strerror(errno) : wr_strerror(rc));
    return rc;
}

/* Begins the next transaction: logged, its spool created, its producer's init_transactions. */
static int s_begin(s_writer_t *w)
{
    const char *prefix = w->c->txn_prefix;
    wr_kafka_line_t line = {.op = WR_KAFKA_BEGIN,
                            .txn = {.subtask = w->subtask, .attempt = w->attempt, .n = w->next_n}};
    w->cur = (wr_kafka_pending_t){.txn = line.txn};
    char id[WR_KAFKA_TXN_ID_MAX], spool[WR_KAFKA_TXN_NAME_MAX];
    wr_kafka_txn_id(prefix, &line.txn, id);
    wr_kafka_spool_name(prefix, &line.txn, spool);
    w->next_n++;
    int rc = s_log(w, &line);
    if (!rc &&
        (w->spool = openat(w->dfd, spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
        wr_strbuf_addf(&w->scratch, "%s/%s: %s", w->c->txn_log, spool, strerror(errno));
        rc = WR_EIO;
    }
    if (!rc) w->prod = wr__kafka_producer_new(w->c, id, S_BEGIN_MS, &rc, &w->scratch);
    if (!rc) rc = wr__kafka_producer_begin(w->prod, &w->scratch);
    return rc;
}

int wr__kafka_sink_write(void *wp, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    s_writer_t *w = wp;
    if (w->err) return w->err;
    if ((sel ? nsel : b->count) == 0) return 0;
    wr_strbuf_reset(&w->scratch);
    int rc = wr__kafka_msgs_format(&w->msgs, b, sel, nsel);
    if (!rc && w->exactly_once && !w->prod) rc = s_begin(w);
    wr_strbuf_reset(&w->spoolbuf);
    for (uint32_t i = 0; !rc && i < w->msgs.n; i++) {
        const char *key, *value;
        size_t klen, vlen;
        wr__kafka_msgs_at(&w->msgs, i, &key, &klen, &value, &vlen);
        if (w->exactly_once) wr_kafka_spool_add(&w->spoolbuf, key, klen, value, vlen);
        rc = wr__kafka_producer_send(w->prod, key, klen, value, vlen, &w->scratch);
    }
    if (!rc && w->exactly_once) {
        rc = wr_kafka_spool_append(w->spool, &w->spoolbuf);
        if (rc == WR_EIO) wr_strbuf_addf(&w->scratch, "spool: %s", strerror(errno));
        w->cur.records += w->msgs.n;
    }
    if (!rc) rc = wr__kafka_producer_poll(w->prod, &w->scratch);
    return s_fail(w, rc, w->exactly_once ? &w->cur.txn : NULL);
}

/* Everything produced is acknowledged (the open transaction's, exactly once). */
static int s_flush(s_writer_t *w)
{
    if (w->err) return w->err;
    wr_strbuf_reset(&w->scratch);
    int rc = w->prod ? wr__kafka_producer_flush(w->prod, &w->scratch) : 0;
    return s_fail(w, rc, w->exactly_once ? &w->cur.txn : NULL);
}

int wr__kafka_sink_flush(void *wp)
{
    return s_flush(wp);
}

int wr__kafka_sink_barrier(void *wp, uint64_t checkpoint_id)
{
    (void)checkpoint_id;
    return s_flush(wp);
}

/* Moves the open transaction, flushed, to the pre-committed ones: its spool and the folder
 * fsync'd, then its precommit line logged. */
static int s_close_txn(s_writer_t *w, uint64_t checkpoint_id)
{
    if (w->npending == w->cap) {
        uint32_t cap = w->cap ? 2 * w->cap : 4;
        wr_kafka_pending_t *p = realloc(w->pending, cap * sizeof *p);
        if (p) w->pending = p;
        wr__kafka_producer_t **pp = p ? realloc(w->pending_prod, cap * sizeof *pp) : NULL;
        if (pp) w->pending_prod = pp;
        if (!pp) return WR_ENOMEM;
        w->cap = cap;
    }
    int rc = wr__kafka_producer_flush(w->prod, &w->scratch);
    if (!rc && wr_kafka_spool_sync(w->spool, w->dfd)) {
        wr_strbuf_addf(&w->scratch, "spool: fsync: %s", strerror(errno));
        rc = WR_EIO;
    }
    w->cur.checkpoint = checkpoint_id;
    wr_kafka_line_t line = {.op = WR_KAFKA_PRECOMMIT,
                            .txn = w->cur.txn,
                            .checkpoint = checkpoint_id,
                            .records = w->cur.records};
    if (!rc) rc = s_log(w, &line);
    if (rc) return rc;
    close(w->spool); /* after fsync: nothing is left for close to report */
    w->spool = -1;
    w->pending[w->npending] = w->cur;
    w->pending_prod[w->npending++] = w->prod;
    w->prod = NULL;
    return 0;
}

int wr__kafka_sink_precommit(void *wp, uint64_t checkpoint_id, wr_strbuf_t *out)
{
    s_writer_t *w = wp;
    if (w->err) return w->err;
    if (w->precommitted && checkpoint_id < w->last_checkpoint) return WR_EINVAL;
    wr_strbuf_reset(&w->scratch);
    int rc = w->prod ? s_close_txn(w, checkpoint_id) : 0;
    if (rc) return s_fail(w, rc, &w->cur.txn);
    w->precommitted = true;
    w->last_checkpoint = checkpoint_id;
    return wr_kafka_committable_encode(w->c->txn_prefix, w->pending, w->npending, out);
}

/* Commits pre-committed transaction i: the brokers, its log line, its spool gone. */
static int s_commit_one(s_writer_t *w, uint32_t i)
{
    const char *prefix = w->c->txn_prefix;
    wr_kafka_line_t line = {.op = WR_KAFKA_COMMIT, .txn = w->pending[i].txn};
    int rc = wr__kafka_producer_commit(w->pending_prod[i], &w->scratch);
    if (!rc) rc = s_log(w, &line);
    if (rc) return rc;
    char spool[WR_KAFKA_TXN_NAME_MAX];
    wr_kafka_spool_name(prefix, &line.txn, spool);
    if (unlinkat(w->dfd, spool, 0) && errno != ENOENT) /* the next recovery deletes it */
        wr_warn("kafka sink: cannot delete %s/%s: %s", w->c->txn_log, spool, strerror(errno));
    wr__kafka_producer_destroy(&w->pending_prod[i]);
    return 0;
}

int wr__kafka_sink_commit(void *wp, uint64_t checkpoint_id)
{
    s_writer_t *w = wp;
    if (w->err) return w->err;
    wr_strbuf_reset(&w->scratch);
    uint32_t done = 0;
    int rc = 0;
    while (!rc && done < w->npending && w->pending[done].checkpoint <= checkpoint_id)
        if (!(rc = s_commit_one(w, done))) done++;
    if (done && done < w->npending) { /* (none pending: pending may be NULL) */
        memmove(w->pending, w->pending + done, (w->npending - done) * sizeof *w->pending);
        memmove(w->pending_prod, w->pending_prod + done,
                (w->npending - done) * sizeof *w->pending_prod);
    }
    w->npending -= done;
    return s_fail(w, rc, rc ? &w->pending[0].txn : NULL);
}
