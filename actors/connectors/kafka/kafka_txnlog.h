/* The exactly-once Kafka sink's records of its transactions (kafka_sink.h says why they exist):
 * transaction ids, the logs' names and lines, the committables that go into checkpoints, and the
 * spools that keep a transaction's messages until it is committed. Everything here that reads
 * bytes reads them from files or checkpoints, so it trusts nothing (as bus/base/mp.h): every
 * reader is strict (one spelling of each name, line and number: decimal without leading zeros),
 * and it is fuzzed (tests/fuzz/fuzz_kafka_txnlog.c).
 *
 * Names, for a prefix P (transactional_id_prefix: 1 to 64 of [A-Za-z0-9._-], not starting with
 * '.' or '-'):
 *   P-S-A-N                 the N-th transaction (from 0) of subtask S in attempt A (a writer's)
 *   P-S-A-N-rR              that transaction re-sent by the recovery before attempt R (a redo)
 *   P-sS-aA.log             the writer log of subtask S in attempt A
 *   P-recover-aR.log        the log of the recoveries before attempt R
 *   P-S-A-N.records         the spool of transaction P-S-A-N (writers' transactions only)
 *
 * Log lines (each one write, then fsync; a last line without its '\n' is a torn write: the
 * process died before the action it announces, so readers ignore it):
 *   writer logs             begin ID | precommit ID CHECKPOINT RECORDS | commit ID
 *   recover logs            abort ID | redo ID as NEWID | commit NEWID | redone ID
 * Within one file: a writer log names only its own subtask's and attempt's transactions, each
 * begun once, pre-committed once after its begin, committed once after its precommit. A recover
 * log of attempt R aborts transactions of attempts below R or redo transactions of recoveries up
 * to R; it redoes a writer transaction of an attempt below R as its redo of R, commits a redo of
 * R only after its redo line, and says redone ID only after the commit of ID's redo. Across files
 * nothing is enforced (a zombie's late line may come in any order): the table merges them.
 *
 * A committable is msgpack [1, [[ID, checkpoint, records], ...]] (writer ids). A spool is a
 * msgpack stream of [key, value] arrays, key a bin or nil (no key), value a bin. */
#ifndef WR_KAFKA_TXNLOG_H
#define WR_KAFKA_TXNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/mp.h"
#include "bus/base/strbuf.h"

#define WR_KAFKA_PREFIX_MAX 65  /* a prefix, NUL included */
#define WR_KAFKA_TXN_ID_MAX 128 /* a transaction id, NUL included */
#define WR_KAFKA_TXN_NAME_MAX                                                                      \
    (WR_KAFKA_TXN_ID_MAX + 16)               /* a log's or a spool's file name, NUL included */
#define WR_KAFKA_TXNLOG_VERSION 1            /* of committables */
#define WR_KAFKA_TXNLOG_MAX     (256u << 20) /* the longest log file read, bytes */

/* A transaction, by the numbers its id spells. */
typedef struct {
    uint32_t subtask, attempt; /* the writer's */
    uint64_t n;                /* its count of transactions, from 0 */
    bool redo;                 /* a re-send of the writer's transaction ... */
    uint32_t redo_attempt;     /* ... by the recovery before this attempt */
} wr_kafka_txn_t;

/* ---- names (no I/O) ---- */

/* Whether s is a valid prefix (see above). */
bool wr_kafka_prefix_valid(const char *s);
/* t's id under prefix into out (WR_KAFKA_TXN_ID_MAX bytes). */
void wr_kafka_txn_id(const char *prefix, const wr_kafka_txn_t *t, char *out);
/* Parses id[0, len) as a transaction of prefix: 0 with *t, or WR_EPROTO. */
int wr_kafka_txn_parse(const char *prefix, const char *id, size_t len, wr_kafka_txn_t *t);
/* The same transaction (redo of the same recovery included). */
bool wr_kafka_txn_equal(const wr_kafka_txn_t *a, const wr_kafka_txn_t *b);
/* Orders transactions: by subtask, attempt, n, then the writer's before its redos by attempt. */
int wr_kafka_txn_cmp(const wr_kafka_txn_t *a, const wr_kafka_txn_t *b);

/* Which log a file is. */
typedef struct {
    bool recover;     /* a recover log (else a writer's) */
    uint32_t subtask; /* writer logs */
    uint32_t attempt; /* the writer's attempt, or the attempt the recovery came before */
} wr_kafka_logname_t;

/* The file name of log l into out (WR_KAFKA_TXN_NAME_MAX bytes). */
void wr_kafka_logname(const char *prefix, const wr_kafka_logname_t *l, char *out);
/* Parses a file name as a log of prefix: 0 with *l, or WR_EPROTO (another prefix's log, a spool,
 * anything else). */
int wr_kafka_logname_parse(const char *prefix, const char *name, size_t len, wr_kafka_logname_t *l);
/* The spool's file name of writer transaction t into out (WR_KAFKA_TXN_NAME_MAX bytes). */
void wr_kafka_spool_name(const char *prefix, const wr_kafka_txn_t *t, char *out);

/* ---- log lines (no I/O) ---- */

enum wr_kafka_op {
    WR_KAFKA_BEGIN,     /* writer: a transaction began (before its producer's init) */
    WR_KAFKA_PRECOMMIT, /* writer: flushed, spool fsync'd; checkpoint and records set */
    WR_KAFKA_COMMIT,    /* both: the broker committed txn */
    WR_KAFKA_ABORT,     /* recover: txn fenced (aborted) and its spool deleted */
    WR_KAFKA_REDO,      /* recover: txn is being re-sent as `as` */
    WR_KAFKA_REDONE     /* recover: txn's redo committed */
};

typedef struct {
    enum wr_kafka_op op;
    wr_kafka_txn_t txn;
    wr_kafka_txn_t as;            /* REDO: the redo */
    uint64_t checkpoint, records; /* PRECOMMIT */
} wr_kafka_line_t;

/* Appends line's text, '\n' included, to out (out->failed when out of memory). */
void wr_kafka_line_format(const char *prefix, const wr_kafka_line_t *line, wr_strbuf_t *out);
/* Parses the log file of name `name` (data[0, len)): 0 with *lines (the caller frees it; NULL
 * when *n is 0) and *n, a torn last line left out. WR_EPROTO for anything else than lines of that
 * log (see above), *bad then the 1-based number of the first bad line; WR_ENOMEM. On failure
 * *lines is NULL and *n 0. */
int wr_kafka_log_parse(const char *prefix, const wr_kafka_logname_t *name, const char *data,
                       size_t len, wr_kafka_line_t **lines, size_t *n, size_t *bad);

/* ---- the table of a prefix's transactions (no I/O) ---- */

enum {
    WR_KAFKA_TXN_BEGUN = 1 << 0,        /* begin (writer) or redo ... as it (recover) */
    WR_KAFKA_TXN_PRECOMMITTED = 1 << 1, /* checkpoint and records set */
    WR_KAFKA_TXN_COMMITTED = 1 << 2,
    WR_KAFKA_TXN_ABORTED = 1 << 3,
    WR_KAFKA_TXN_REDONE = 1 << 4,   /* a redo of it committed, and said so */
    WR_KAFKA_TXN_HAS_REDO = 1 << 5, /* redo set: the last redo begun */
};

typedef struct {
    wr_kafka_txn_t txn;
    unsigned flags;
    uint64_t checkpoint, records; /* PRECOMMITTED */
    wr_kafka_txn_t redo;          /* HAS_REDO */
} wr_kafka_txn_state_t;

/* Every transaction the logs of a prefix name, sorted (wr_kafka_txn_cmp). */
typedef struct {
    wr_kafka_txn_state_t *v;
    size_t n;
} wr_kafka_txnlog_t;

/* Builds the table of lines[0, n) (the lines of every log, in file order): 0 or WR_ENOMEM. */
int wr_kafka_txnlog_index(const wr_kafka_line_t *lines, size_t n, wr_kafka_txnlog_t *log);
void wr_kafka_txnlog_release(wr_kafka_txnlog_t *log);
/* t's state, or NULL when no log names it. Borrowed from log. */
const wr_kafka_txn_state_t *wr_kafka_txnlog_find(const wr_kafka_txnlog_t *log,
                                                 const wr_kafka_txn_t *t);
/* Whether a transaction is settled: committed or aborted, or (a writer's) redone, or re-sent by a
 * redo that committed. Its records are where they will stay. */
bool wr_kafka_txnlog_settled(const wr_kafka_txnlog_t *log, const wr_kafka_txn_state_t *s);
/* Whether id[0, len) names a transaction of prefix that a `commit` line of log says committed:
 * what a reader of the topic checks a message's `weir.txn` header against. */
bool wr_kafka_txnlog_committed(const wr_kafka_txnlog_t *log, const char *prefix, const char *id,
                               size_t len);

/* ---- the folder (I/O) ---- */

/* Reads every log of prefix in dir into *log (empty when dir is missing). WR_EPROTO (err names
 * the file and line), WR_ETOOBIG (a log over WR_KAFKA_TXNLOG_MAX), WR_EIO, WR_ENOMEM; err may be
 * NULL. On failure *log is empty. */
int wr_kafka_txnlog_load(const char *dir, const char *prefix, wr_kafka_txnlog_t *log,
                         wr_strbuf_t *err);
/* One past the highest attempt a log name of prefix in dir shows; 0 when none (or no dir). */
uint32_t wr_kafka_txnlog_first_attempt(const char *dir, const char *prefix);

/* Opens log `name` in folder dfd for appending: created (exclusive: WR_EEXIST if it exists) or,
 * not exclusive, reopened with a torn last line cut off; the folder is fsync'd when the file is
 * new. 0 with *fd; WR_EIO. */
int wr_kafka_log_open(int dfd, const char *name, bool exclusive, int *fd);
/* Appends one line to the log at fd and fsyncs it. WR_EIO, WR_ENOMEM. */
int wr_kafka_log_add(int fd, const char *prefix, const wr_kafka_line_t *line);
/* Appends a spool's bytes (wr_kafka_spool_add's) to the spool at fd. WR_EIO (errno says more),
 * WR_ENOMEM (bytes->failed). */
int wr_kafka_spool_append(int fd, const wr_strbuf_t *bytes);
/* Makes the spool at fd durable: fsyncs it, then its folder dfd (its name). WR_EIO. */
int wr_kafka_spool_sync(int fd, int dfd);

/* ---- committables (no I/O) ---- */

typedef struct {
    wr_kafka_txn_t txn; /* a writer's */
    uint64_t checkpoint, records;
} wr_kafka_pending_t;

/* Appends the committable listing p[0, n) to out. 0, or WR_ENOMEM (out is then as it was). */
int wr_kafka_committable_encode(const char *prefix, const wr_kafka_pending_t *p, uint32_t n,
                                wr_strbuf_t *out);
/* Decodes an untrusted committable: 0 with *p (the caller frees it; NULL when *n is 0) and *n.
 * WR_EVERSION for another version; WR_EPROTO for anything malformed (truncated, wrong types,
 * trailing bytes, an id that is not a writer transaction of prefix); WR_ENOMEM. On failure *p is
 * NULL and *n 0. */
int wr_kafka_committable_decode(const char *prefix, const uint8_t *data, size_t len,
                                wr_kafka_pending_t **p, uint32_t *n);

/* ---- spools (no I/O) ---- */

/* Appends one message to a spool's bytes in out (key NULL: no key). */
void wr_kafka_spool_add(wr_strbuf_t *out, const void *key, size_t klen, const void *value,
                        size_t vlen);
/* Reads the next message of a spool: 1 with *key (NULL: none), *klen, *value and *vlen borrowed
 * from r's buffer; 0 at its end; WR_EPROTO (r->err) for anything else. */
int wr_kafka_spool_next(wr_mp_reader_t *r, const uint8_t **key, uint32_t *klen,
                        const uint8_t **value, uint32_t *vlen);

#endif
