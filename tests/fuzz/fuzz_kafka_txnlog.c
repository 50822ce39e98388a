/* libFuzzer target: the Kafka sink's records of its transactions (actors/connectors/kafka/
 * kafka_txnlog.h), which come back from the transaction_log folder and from checkpoints, and
 * which decide what the committer aborts, re-sends and deletes. The input is tried as each of
 * them, with the prefix "p":
 *   - a committable: a failure uses a documented code and leaves nothing; what decodes lists
 *     writer transactions only and re-encodes to a canonical image that decodes to the same list;
 *   - a writer log (subtask 3 of attempt 2) and a recover log (before attempt 5): what parses
 *     formats back to lines that parse to the same operations; its table holds each transaction
 *     once, in order, every transaction a line names, and answers committed for exactly those a
 *     commit line names;
 *   - a spool: what reads re-encodes to a spool that reads to the same messages;
 *   - a transaction id and a log name: what parses is spelled exactly as it is made again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_txnlog.h"
#include "bus/base/error.h"

#define P "p"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_committable(const uint8_t *data, size_t size)
{
    wr_kafka_pending_t *p = NULL, *q = NULL;
    uint32_t n = 7, m = 0;
    int rc = wr_kafka_committable_decode(P, data, size, &p, &n);
    if (rc) {
        if (p || n || (rc != WR_EPROTO && rc != WR_EVERSION && rc != WR_ENOMEM)) abort();
        return;
    }
    if ((n == 0) != (p == NULL)) abort();
    for (uint32_t i = 0; i < n; i++)
        if (p[i].txn.redo) abort();
    wr_strbuf_t a, b;
    wr_strbuf_init(&a);
    wr_strbuf_init(&b);
    if (wr_kafka_committable_encode(P, p, n, &a)) abort();
    if (wr_kafka_committable_decode(P, (const uint8_t *)a.buf, a.len, &q, &m) || m != n) abort();
    for (uint32_t i = 0; i < n; i++)
        if (!wr_kafka_txn_equal(&p[i].txn, &q[i].txn) || p[i].checkpoint != q[i].checkpoint ||
            p[i].records != q[i].records)
            abort();
    if (wr_kafka_committable_encode(P, q, m, &b) || a.len != b.len || memcmp(a.buf, b.buf, a.len))
        abort();
    free(p);
    free(q);
    wr_strbuf_release(&a);
    wr_strbuf_release(&b);
}

static bool s_same_line(const wr_kafka_line_t *a, const wr_kafka_line_t *b)
{
    return a->op == b->op && wr_kafka_txn_equal(&a->txn, &b->txn) &&
           (a->op != WR_KAFKA_REDO || wr_kafka_txn_equal(&a->as, &b->as)) &&
           (a->op != WR_KAFKA_PRECOMMIT ||
            (a->checkpoint == b->checkpoint && a->records == b->records));
}

/* The table of lines[0, n): sorted, each transaction once, each line's there. */
static void s_table(const wr_kafka_line_t *lines, size_t n)
{
    wr_kafka_txnlog_t log;
    if (wr_kafka_txnlog_index(lines, n, &log)) return; /* out of memory */
    for (size_t i = 1; i < log.n; i++)
        if (wr_kafka_txn_cmp(&log.v[i - 1].txn, &log.v[i].txn) >= 0) abort();
    for (size_t i = 0; i < n; i++) {
        const wr_kafka_txn_state_t *s = wr_kafka_txnlog_find(&log, &lines[i].txn);
        if (!s) abort();
        char id[WR_KAFKA_TXN_ID_MAX];
        wr_kafka_txn_id(P, &lines[i].txn, id);
        bool committed = wr_kafka_txnlog_committed(&log, P, id, strlen(id));
        if (committed != ((s->flags & WR_KAFKA_TXN_COMMITTED) != 0)) abort();
        if (lines[i].op == WR_KAFKA_COMMIT && !committed) abort();
        if (lines[i].op == WR_KAFKA_REDO && !wr_kafka_txnlog_find(&log, &lines[i].as)) abort();
        (void)wr_kafka_txnlog_settled(&log, s);
    }
    wr_kafka_txnlog_release(&log);
}

static void s_log(const uint8_t *data, size_t size, const wr_kafka_logname_t *name)
{
    wr_kafka_line_t *lines = NULL, *again = NULL;
    size_t n = 7, m = 0, bad = 0;
    int rc = wr_kafka_log_parse(P, name, (const char *)data, size, &lines, &n, &bad);
    if (rc) {
        if (lines || n || (rc == WR_EPROTO && bad == 0) || (rc != WR_EPROTO && rc != WR_ENOMEM))
            abort();
        return;
    }
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    for (size_t i = 0; i < n; i++)
        wr_kafka_line_format(P, &lines[i], &text);
    if (text.failed || wr_kafka_log_parse(P, name, text.buf, text.len, &again, &m, &bad) || m != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!s_same_line(&lines[i], &again[i])) abort();
    s_table(lines, n);
    free(lines);
    free(again);
    wr_strbuf_release(&text);
}

/* Reads every message of a spool into out (re-encoded); the count, or -1 when it is not one. */
static long s_spool(const uint8_t *data, size_t size, wr_strbuf_t *out)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, data, size);
    const uint8_t *key, *value;
    uint32_t klen, vlen;
    long n = 0;
    int got;
    while ((got = wr_kafka_spool_next(&r, &key, &klen, &value, &vlen)) == 1) {
        wr_kafka_spool_add(out, key, klen, value, vlen);
        n++;
    }
    if (got < 0 && got != WR_EPROTO) abort();
    return got < 0 ? -1 : n;
}

static void s_spools(const uint8_t *data, size_t size)
{
    wr_strbuf_t a, b;
    wr_strbuf_init(&a);
    wr_strbuf_init(&b);
    long n = s_spool(data, size, &a);
    if (n >= 0 && !a.failed &&
        (s_spool((const uint8_t *)a.buf, a.len, &b) != n || a.len != b.len ||
         memcmp(a.buf, b.buf, a.len)))
        abort();
    wr_strbuf_release(&a);
    wr_strbuf_release(&b);
}

static void s_names(const uint8_t *data, size_t size)
{
    wr_kafka_txn_t t;
    char out[WR_KAFKA_TXN_NAME_MAX];
    if (wr_kafka_txn_parse(P, (const char *)data, size, &t) == 0) {
        wr_kafka_txn_id(P, &t, out);
        if (strlen(out) != size || memcmp(out, data, size)) abort();
    }
    wr_kafka_logname_t l;
    if (wr_kafka_logname_parse(P, (const char *)data, size, &l) == 0) {
        wr_kafka_logname(P, &l, out);
        if (strlen(out) != size || memcmp(out, data, size)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const wr_kafka_logname_t writer = {.subtask = 3, .attempt = 2};
    const wr_kafka_logname_t recover = {.recover = true, .attempt = 5};
    s_committable(data, size);
    s_log(data, size, &writer);
    s_log(data, size, &recover);
    s_spools(data, size);
    s_names(data, size);
    return 0;
}
