/* The Kafka sink's committer (kafka_sink.h): before an attempt starts, abort what earlier
 * attempts left open and re-send the transactions a restored checkpoint lists. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/connectors/kafka/kafka_sink.h"
#include "actors/connectors/kafka/kafka_txnlog.h"
#include "bus/base/error.h"

#define S_TXN_MS 60000 /* a redo's producer: its topic and init_transactions */

typedef struct {
    const wr_kafka_sink_config_t *c;
    uint32_t attempt; /* the one about to start */
    wr_kafka_txnlog_t log;
    wr_kafka_pending_t *listed; /* the committables', sorted */
    uint32_t nlisted;
    int dfd;
    int fd; /* the recover log; -1 until a line is written */
    wr_strbuf_t *err;
} s_rec_t;

static int s_cmp_pending(const void *a, const void *b)
{
    return wr_kafka_txn_cmp(&((const wr_kafka_pending_t *)a)->txn,
                            &((const wr_kafka_pending_t *)b)->txn);
}

/* Decodes every committable into r->listed, sorted: writer transactions of earlier attempts. */
static int s_decode(s_rec_t *r, const wr_sink_recover_t *rr)
{
    int rc = 0;
    for (uint32_t i = 0; i < rr->n && !rc; i++) {
        wr_kafka_pending_t *p = NULL, *grown = NULL;
        uint32_t n = 0;
        rc = wr_kafka_committable_decode(r->c->txn_prefix, rr->states[i], rr->lens[i], &p, &n);
        for (uint32_t k = 0; k < n && !rc; k++)
            if (p[k].txn.attempt >= r->attempt) rc = WR_EINVAL;
        if (!rc && n > UINT32_MAX - r->nlisted) rc = WR_ETOOBIG;
        if (!rc && n && !(grown = realloc(r->listed, ((size_t)r->nlisted + n) * sizeof *grown)))
            rc = WR_ENOMEM;
        if (grown) {
            memcpy(grown + r->nlisted, p, n * sizeof *p);
            r->listed = grown;
            r->nlisted += n;
        }
        free(p);
        if (rc)
            wr_strbuf_addf(
                r->err, "kafka sink state %u of %u: %s%s", i, rr->n, wr_strerror(rc),
                rc == WR_EINVAL ? " (a transaction of the attempt being started, or later)" : "");
    }
    if (rc || !r->nlisted) return rc;
    qsort(r->listed, r->nlisted, sizeof *r->listed, s_cmp_pending);
    uint32_t u = 1; /* a transaction two committables list is re-sent once */
    for (uint32_t i = 1; i < r->nlisted && !rc; i++) {
        const wr_kafka_pending_t *a = &r->listed[u - 1], *b = &r->listed[i];
        if (!wr_kafka_txn_equal(&a->txn, &b->txn))
            r->listed[u++] = *b;
        else if (a->checkpoint != b->checkpoint || a->records != b->records)
            rc = WR_EPROTO;
    }
    r->nlisted = u;
    if (rc) wr_strbuf_adds(r->err, "kafka sink states: one transaction listed twice, differently");
    return rc;
}

static bool s_listed(const s_rec_t *r, const wr_kafka_txn_t *t)
{
    wr_kafka_pending_t key = {.txn = *t};
    return r->nlisted &&
           bsearch(&key, r->listed, r->nlisted, sizeof *r->listed, s_cmp_pending) != NULL;
}

/* Appends a line to the recover log of r->attempt, opened on first use. */
static int s_log(s_rec_t *r, const wr_kafka_line_t *line)
{
    int rc = 0;
    if (r->fd < 0) {
        char name[WR_KAFKA_TXN_NAME_MAX];
        wr_kafka_logname_t l = {.recover = true, .attempt = r->attempt};
        wr_kafka_logname(r->c->txn_prefix, &l, name);
        rc = wr_kafka_log_open(r->dfd, name, false, &r->fd);
    }
    if (!rc) rc = wr_kafka_log_add(r->fd, r->c->txn_prefix, line);
    if (rc)
        wr_strbuf_addf(r->err, "transaction log %s: %s", r->c->txn_log,
                       rc == WR_EIO ? strerror(errno) : wr_strerror(rc));
    return rc;
}

/* Deletes writer transaction t's spool, if it is there. */
static int s_unlink_spool(s_rec_t *r, const wr_kafka_txn_t *t)
{
    char name[WR_KAFKA_TXN_NAME_MAX];
    wr_kafka_spool_name(r->c->txn_prefix, t, name);
    if (unlinkat(r->dfd, name, 0) == 0 || errno == ENOENT) return 0;
    wr_strbuf_addf(r->err, "%s/%s: %s", r->c->txn_log, name, strerror(errno));
    return WR_EIO;
}

/* Puts "WHAT ID: " before what err got since `at`. */
static void s_name_error(wr_strbuf_t *err, size_t at, const char *what, const char *id)
{
    char why[512];
    snprintf(why, sizeof why, "%s", err->buf + at);
    wr_strbuf_truncate(err, at);
    wr_strbuf_addf(err, "%s %s: %s", what, id, why);
}

/* Fences transaction t. */
static int s_fence(s_rec_t *r, const wr_kafka_txn_t *t)
{
    char id[WR_KAFKA_TXN_ID_MAX];
    wr_kafka_txn_id(r->c->txn_prefix, t, id);
    size_t at = r->err->len;
    int rc = wr__kafka_fence(r->c, id, r->err);
    if (rc) s_name_error(r->err, at, "cannot fence transaction", id);
    return rc;
}

/* Step 1: fences and aborts transaction t (an earlier attempt's, unsettled, not listed). */
static int s_abort(s_rec_t *r, const wr_kafka_txn_t *t)
{
    wr_kafka_line_t line = {.op = WR_KAFKA_ABORT, .txn = *t};
    int rc = s_fence(r, t);
    if (!rc) rc = s_log(r, &line);
    if (!rc && !t->redo) rc = s_unlink_spool(r, t);
    return rc;
}

/* A spool mapped (data NULL when empty). */
typedef struct {
    const uint8_t *data;
    size_t len;
} s_spool_t;

static int s_map(s_rec_t *r, const wr_kafka_txn_t *t, s_spool_t *s)
{
    char name[WR_KAFKA_TXN_NAME_MAX];
    wr_kafka_spool_name(r->c->txn_prefix, t, name);
    *s = (s_spool_t){0};
    int fd = openat(r->dfd, name, O_RDONLY | O_CLOEXEC), rc = 0;
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        rc = errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
    } else if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) rc = WR_EIO;
        if (!rc) *s = (s_spool_t){m, (size_t)st.st_size};
    }
    if (rc) wr_strbuf_addf(r->err, "%s/%s: %s", r->c->txn_log, name, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

static void s_unmap(s_spool_t *s)
{
    if (s->data) munmap((void *)s->data, s->len);
    *s = (s_spool_t){0};
}

/* Sends the spool's messages with p (or only counts them when p is NULL) into *n. */
static int s_send(const s_spool_t *s, wr__kafka_producer_t *p, uint64_t *n, wr_strbuf_t *err)
{
    wr_mp_reader_t rd;
    wr_mp_reader_init(&rd, s->data, s->len);
    const uint8_t *key, *value;
    uint32_t klen, vlen;
    int rc = 0, got;
    *n = 0;
    while (!rc && (got = wr_kafka_spool_next(&rd, &key, &klen, &value, &vlen)) == 1) {
        ++*n;
        if (p) rc = wr__kafka_producer_send(p, key, klen, value, vlen, err);
        if (!rc && p && *n % 4096 == 0) rc = wr__kafka_producer_poll(p, err); /* deliveries */
    }
    return rc ? rc : got < 0 ? got : 0;
}

/* Sends the spool as transaction `as` and commits it. */
static int s_resend(s_rec_t *r, const s_spool_t *spool, const wr_kafka_txn_t *as)
{
    char id[WR_KAFKA_TXN_ID_MAX];
    wr_kafka_txn_id(r->c->txn_prefix, as, id);
    size_t at = r->err->len;
    uint64_t n;
    int rc;
    wr__kafka_producer_t *p = wr__kafka_producer_new(r->c, id, S_TXN_MS, &rc, r->err);
    if (!rc) rc = wr__kafka_producer_begin(p, r->err);
    if (!rc) rc = s_send(spool, p, &n, r->err);
    if (!rc) rc = wr__kafka_producer_flush(p, r->err);
    if (!rc) rc = wr__kafka_producer_commit(p, r->err);
    wr__kafka_producer_destroy(&p);
    if (rc) s_name_error(r->err, at, "redo transaction", id);
    return rc;
}

/* Step 2: re-sends listed transaction p, after checking it against the logs and its spool. */
static int s_redo(s_rec_t *r, const wr_kafka_pending_t *p)
{
    char id[WR_KAFKA_TXN_ID_MAX];
    wr_kafka_txn_id(r->c->txn_prefix, &p->txn, id);
    const wr_kafka_txn_state_t *s = wr_kafka_txnlog_find(&r->log, &p->txn);
    if (!s || !(s->flags & WR_KAFKA_TXN_PRECOMMITTED) || s->checkpoint != p->checkpoint ||
        s->records != p->records) {
        wr_strbuf_addf(r->err,
                       "transaction %s (checkpoint %llu, %llu records): no log of %s "
                       "pre-committed it so",
                       id, (unsigned long long)p->checkpoint, (unsigned long long)p->records,
                       r->c->txn_log);
        return WR_EPROTO;
    }
    if (s->flags & WR_KAFKA_TXN_ABORTED) {
        wr_strbuf_addf(r->err,
                       "transaction %s of checkpoint %llu was aborted by an earlier recovery "
                       "(its job ended): its records are gone",
                       id, (unsigned long long)p->checkpoint);
        return WR_ENOTFOUND;
    }
    if (wr_kafka_txnlog_settled(&r->log, s)) return s_unlink_spool(r, &p->txn);
    wr_kafka_line_t redo = {.op = WR_KAFKA_REDO, .txn = p->txn, .as = p->txn};
    redo.as.redo = true;
    redo.as.redo_attempt = r->attempt;
    if (wr_kafka_txnlog_find(&r->log, &redo.as)) {
        wr_strbuf_addf(r->err,
                       "transaction %s: a recovery before attempt %u re-sent it already and did "
                       "not finish: recover before a later attempt",
                       id, r->attempt);
        return WR_EEXIST;
    }
    s_spool_t spool;
    uint64_t n = 0;
    int rc = s_map(r, &p->txn, &spool);
    if (!rc && (rc = s_send(&spool, NULL, &n, r->err)) == 0 && n != p->records) rc = WR_EPROTO;
    if (rc == WR_EPROTO)
        wr_strbuf_addf(r->err, "transaction %s: its spool does not hold its %llu records", id,
                       (unsigned long long)p->records);
    if (!rc) rc = s_fence(r, &p->txn);
    if (!rc) rc = s_log(r, &redo);
    if (!rc) rc = s_resend(r, &spool, &redo.as);
    s_unmap(&spool);
    wr_kafka_line_t commit = {.op = WR_KAFKA_COMMIT, .txn = redo.as};
    wr_kafka_line_t redone = {.op = WR_KAFKA_REDONE, .txn = p->txn};
    if (!rc) rc = s_log(r, &commit);
    if (!rc) rc = s_log(r, &redone);
    if (!rc) rc = s_unlink_spool(r, &p->txn);
    return rc;
}

/* Whether step 1 aborts s: begun, unsettled, of an earlier attempt, not listed. */
static bool s_stale(const s_rec_t *r, const wr_kafka_txn_state_t *s)
{
    if (!(s->flags & WR_KAFKA_TXN_BEGUN) || wr_kafka_txnlog_settled(&r->log, s)) return false;
    if (s->txn.redo) return s->txn.redo_attempt <= r->attempt;
    return s->txn.attempt < r->attempt && !s_listed(r, &s->txn);
}

static int s_run(s_rec_t *r)
{
    const char *dir = r->c->txn_log;
    int rc = wr_kafka_txnlog_load(dir, r->c->txn_prefix, &r->log, r->err);
    if (rc || (!r->log.n && !r->nlisted)) return rc; /* nothing ever written */
    if ((r->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        wr_strbuf_addf(r->err, "transaction log %s: %s", dir, strerror(errno));
        return WR_EIO;
    }
    for (size_t i = 0; !rc && i < r->log.n; i++)
        if (s_stale(r, &r->log.v[i])) rc = s_abort(r, &r->log.v[i].txn);
    for (uint32_t i = 0; !rc && i < r->nlisted; i++)
        rc = s_redo(r, &r->listed[i]);
    /* spools a crash left after their transaction's commit line */
    for (size_t i = 0; !rc && i < r->log.n; i++) {
        const wr_kafka_txn_state_t *s = &r->log.v[i];
        if (!s->txn.redo && s->txn.attempt < r->attempt && wr_kafka_txnlog_settled(&r->log, s))
            rc = s_unlink_spool(r, &s->txn);
    }
    return rc;
}

int wr__kafka_sink_recover(const void *config, const wr_sink_recover_t *rr, wr_strbuf_t *err)
{
    const wr_kafka_sink_config_t *c = config;
    if (c->guarantee != WR_KAFKA_EXACTLY_ONCE) return 0;
    s_rec_t r = {.c = c, .attempt = rr->attempt, .dfd = -1, .fd = -1, .err = err};
    int rc = s_decode(&r, rr);
    if (!rc) rc = s_run(&r);
    if (rc && !err->len) wr_strbuf_addf(err, "kafka sink %s: %s", c->txn_log, wr_strerror(rc));
    if (r.fd >= 0) close(r.fd);
    if (r.dfd >= 0) close(r.dfd);
    wr_kafka_txnlog_release(&r.log);
    free(r.listed);
    return rc;
}
