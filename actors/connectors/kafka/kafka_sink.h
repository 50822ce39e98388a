/* The Kafka sink (kafka.h's keys; the class is wr_kafka_sink_class): how it writes records at
 * least once or exactly once, and what its committer does before an attempt starts. This header
 * is the design; the files beside it are its parts:
 *   kafka_sink.c          the class: parameters, checks, resources, paths, first_attempt
 *   kafka_sink_writer.c   the writer (one per subtask)
 *   kafka_sink_recover.c  the committer's recover
 *   kafka_sink_msgs.c     a batch as messages (value, key), formatted once
 *   kafka_producer.c      one librdkafka producer: settings, sending, flushing, transactions
 *   kafka_txnlog.{h,c}, kafka_txnlog_io.c  the transaction logs, committables, spools
 *
 * Messages. Each record is one message: its value the record as one JSON object (rowfmt.h, no
 * newline), its key the `key` field's value (a string field's bytes raw, any other field as its
 * JSON text), no key without `key`; librdkafka's partitioner places it by its key. A batch is
 * formatted once into two reused buffers (values, keys) with no allocation per record, then each
 * message is produced with RD_KAFKA_MSG_F_COPY; a full producer queue is waited out (polling, then
 * producing again), never dropped: backpressure.
 *
 * At least once. One idempotent producer (acks=all, enable.idempotence=true) per writer; at each
 * checkpoint barrier and at the end everything produced is flushed: every message is acknowledged
 * by the brokers, or the checkpoint fails (a delivery failure fails it too). A restore replays
 * what came after the checkpoint: some records again.
 *
 * Exactly once: why the transactions are spooled. Flink's KafkaSink pre-commits a transaction at
 * the barrier and, should its TaskManager die before the commit, resumes that very transaction
 * from the checkpoint (its producer id and epoch) through reflection on the Java client.
 * librdkafka 2.0 cannot resume another producer's transaction: a transaction pre-committed by a
 * process that dies before its commit can never be committed by anyone else. So each writer
 * spools the messages of each open transaction to a file, and the committer re-sends a lost one
 * in a new transaction. Files, in the `transaction_log` folder that every TaskManager and the
 * JobManager share (names and formats: kafka_txnlog.h):
 *   PREFIX-sS-aA.log      the writer's log: begin ID, precommit ID CHECKPOINT RECORDS, commit ID
 *   PREFIX-recover-aR.log the committer's log: abort ID, redo ID as NEWID, commit NEWID, redone ID
 *   ID.records            the spool of transaction ID: its messages, written as produced,
 *                         fsync'd at precommit, deleted once its commit is logged
 * Every line is fsync'd before what follows it. Transactional ids are PREFIX-S-A-N (subtask S of
 * attempt A, its N-th transaction) and a redo's ID-rR (re-sent before attempt R); every message of
 * a transaction carries the header `weir.txn: ID`, so that anyone can tell which transaction it
 * was in.
 *
 * The writer. The first write after open or after a precommit begins a transaction with a new
 * producer: transactional.id the next id (`begin` is logged before init_transactions, so that
 * the committer knows which ids to fence), transaction.timeout.ms fixed at 15 min (the brokers'
 * default transaction.max.timeout.ms, above any sensible checkpoint interval: a transaction open
 * longer is aborted by the brokers, its commit fails and the restart re-sends it). precommit(N):
 * flush the producer (every message acknowledged, or the checkpoint fails), fsync the spool and the
 * folder, log `precommit ID N RECORDS`, and return the committable [1, [[ID, checkpoint, records],
 * ...]]: every transaction pre-committed and not committed yet, in order. A checkpoint with nothing
 * written since the last opens no transaction. commit(N): commit_transaction of every pre-committed
 * transaction of checkpoint <= N, in order; log `commit ID`; delete its spool; destroy its
 * producer. WR_CKPT_FINAL is a checkpoint like any other. Several transactions are open at once
 * (the pre-committed ones wait for their checkpoint while the next one fills), each with its
 * producer. Any failure is the writer's last: every later call fails with it (a torn transaction is
 * left to the committer).
 *
 * The committer: recover(r), before attempt r->attempt starts. It reads every log of PREFIX in
 * the folder, then
 *   1. for every transaction begun and not settled (committed, aborted, redone) that the
 *      committables do not list, of an attempt below r->attempt (a redo: of any recovery): fence
 *      it (a producer with its transactional.id runs init_transactions, which aborts it and
 *      bumps its epoch, so that a zombie writer's late commit fails with a fencing error), log
 *      `abort ID`, delete its spool (its records are replayed from the checkpoint);
 *   2. for every transaction the committables list that is not settled: fence it, log `redo ID
 *      as NEWID` (NEWID = ID-r<r->attempt>), send its spool in transaction NEWID, commit, log
 *      `commit NEWID`, `redone ID`, delete the spool. A listed transaction must be in a log with
 *      the same checkpoint and record count, and its spool must hold exactly those records.
 * Running it again is harmless (what it did is settled). A redo begun by an earlier recovery and
 * not committed is aborted in step 1 and redone again under the new attempt's id. first_attempt
 * is past every attempt a log name of PREFIX in the folder shows, so ids never repeat.
 *
 * The one gap. A crash in the instant between the brokers' commit of a transaction and its
 * `commit` log line makes recover re-send it: duplicates, because no librdkafka API can ask a
 * broker whether a transaction committed. The same holds for a zombie writer whose commit
 * reaches the brokers before the fence. Everything else: each record in exactly one committed
 * transaction (the oracle of tests/test_kafka_sink.c: each message's weir.txn header against
 * the committed set of the logs, wr_kafka_txnlog_committed).
 *
 * Costs and limits. Exactly once writes every message twice (the brokers, the spool) and fsyncs
 * the spool once per checkpoint: one writer on the mock cluster, 2 cores, 1M records of 4 fields
 * in batches of 1,000 took 1.0 s at least once and 1.8 s exactly once (a checkpoint every 100
 * batches; a driver outside the tree, until `weir bench kafka` measures it). Each transaction has a
 * transactional.id of its own, so the brokers keep one id per subtask and checkpoint until
 * transactional.id.expiration.ms (7 days by default), as for Flink's KafkaSink, whose ids are
 * prefix-subtask-checkpoint. The logs grow by three lines per transaction and each recovery reads
 * them all; nothing prunes them (first_attempt reads their names). When a job ends (finished or
 * cancelled), the JobManager's last recovery aborts what earlier attempts left, not its last
 * attempt's: a cancelled job's open transaction stays open on the brokers until
 * transaction.timeout.ms, or until the next job of the prefix recovers.
 *
 * What librdkafka's mock cluster (2.0.2, the tests' broker) shows and what it does not: it
 * accepts the transactional API but does not hide aborted messages from read_committed
 * consumers (so the tests tell committed ones by their header), and it does not fence: a second
 * init_transactions with a transactional.id gets a new producer id instead of bumping the old
 * one's epoch, so a zombie's commit succeeds there (the tests inject the brokers' fencing answer).
 * Its Metadata API stops at version 2, which creates any topic asked for; at version 4
 * (rd_kafka_mock_set_apiversion) it honours allow.auto.create.topics=false, which the sink sets:
 * it never creates its topic, and a missing one fails open.
 *
 * Errors. librdkafka's are translated at this folder's edge (kafka_client.h): a fatal producer
 * error (rd_kafka_fatal_error: fenced, for one) fails the writer with its text (failed_on), so
 * the subtask fails over; retriable ones are retried by librdkafka within its timeouts
 * (message.timeout.ms, 5 min by default; a broker down for a while is waited out). */
#ifndef WR_KAFKA_SINK_H
#define WR_KAFKA_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/connectors/connector.h"
#include "actors/connectors/kafka/kafka.h"
#include "actors/dataflow/record/rowfmt.h"

#define WR_KAFKA_TXN_HEADER     "weir.txn" /* each transactional message's: its transaction's id */
#define WR_KAFKA_TXN_TIMEOUT_MS 900000     /* transaction.timeout.ms: 15 min */

/* ---- internal to the sink: the writer (kafka_sink_writer.c) and the committer ---- */

int wr__kafka_sink_open(const void *config, const wr_sink_open_t *o, void **writer,
                        wr_strbuf_t *err);
void wr__kafka_sink_close(void **writer);
int wr__kafka_sink_write(void *writer, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel);
int wr__kafka_sink_flush(void *writer);
int wr__kafka_sink_barrier(void *writer, uint64_t checkpoint_id);
int wr__kafka_sink_precommit(void *writer, uint64_t checkpoint_id, wr_strbuf_t *out);
int wr__kafka_sink_commit(void *writer, uint64_t checkpoint_id);
const char *wr__kafka_sink_failed_on(void *writer);
int wr__kafka_sink_recover(const void *config, const wr_sink_recover_t *r, wr_strbuf_t *err);

/* ---- a batch as messages (kafka_sink_msgs.c) ---- */

typedef struct {
    wr_rowfmt_t fmt;
    int key;                  /* the key field, -1: none */
    wr_strbuf_t values, keys; /* the last batch's, back to back */
    size_t *voff, *koff;      /* message i: values[voff[i], voff[i+1] - 1), keys[koff[i], ...) */
    uint32_t n, cap;          /* messages formatted, room in voff and koff */
} wr__kafka_msgs_t;

/* Messages of records of schema, keyed by field `key` ("": no key). WR_EINVAL (err: the field is
 * not in the schema), WR_ENOMEM; m is released on failure. */
int wr__kafka_msgs_init(wr__kafka_msgs_t *m, const wr_schema_t *schema, const char *key,
                        wr_strbuf_t *err);
void wr__kafka_msgs_release(wr__kafka_msgs_t *m);
/* Formats the records of b picked by sel[0, nsel) (all when sel is NULL). 0 or WR_ENOMEM. */
int wr__kafka_msgs_format(wr__kafka_msgs_t *m, const wr_batch_t *b, const uint32_t *sel,
                          uint32_t nsel);
/* Message i (< m->n) of the last batch: its key (NULL without a key field) and value, borrowed. */
static inline void wr__kafka_msgs_at(const wr__kafka_msgs_t *m, uint32_t i, const char **key,
                                     size_t *klen, const char **value, size_t *vlen)
{
    *key = m->key >= 0 ? m->keys.buf + m->koff[i] : NULL;
    *klen = m->key >= 0 ? m->koff[i + 1] - m->koff[i] : 0;
    *value = m->values.buf + m->voff[i];
    *vlen = m->voff[i + 1] - m->voff[i] - 1; /* its '\n' left out */
}

/* ---- one producer (kafka_producer.c) ---- */

typedef struct wr__kafka_producer wr__kafka_producer_t;

/* A producer of c's topic: transactional with transactional.id txn_id (NULL: idempotent), its
 * settings kafka.h's properties and then weir's (above). It asks the brokers for the topic's
 * partitions within timeout_ms: a topic they do not have is WR_ENOTFOUND. A transactional one
 * has run init_transactions. NULL with *rc and err saying why (a property librdkafka refuses,
 * the topic, the brokers not answering). */
wr__kafka_producer_t *wr__kafka_producer_new(const wr_kafka_sink_config_t *c, const char *txn_id,
                                             int timeout_ms, int *rc, wr_strbuf_t *err);
/* Destroys it without flushing or committing (an open transaction is left to the brokers, or to
 * a fence); NULL-safe, nulls *p. */
void wr__kafka_producer_destroy(wr__kafka_producer_t **p);
/* Transactional: begins the transaction. */
int wr__kafka_producer_begin(wr__kafka_producer_t *p, wr_strbuf_t *err);
/* Produces one message (a copy of key and value; key NULL: none), waiting while the queue is full;
 * in a transaction with the weir.txn header. */
int wr__kafka_producer_send(wr__kafka_producer_t *p, const void *key, size_t klen,
                            const void *value, size_t vlen, wr_strbuf_t *err);
/* Serves delivery reports and errors without waiting. A fatal error since: WR_EIO, err its text. */
int wr__kafka_producer_poll(wr__kafka_producer_t *p, wr_strbuf_t *err);
/* Waits until every message produced is acknowledged: 0; a delivery failure or a fatal error
 * WR_EIO, messages still queued after message.timeout.ms WR_ETIMEDOUT; err says which. */
int wr__kafka_producer_flush(wr__kafka_producer_t *p, wr_strbuf_t *err);
/* Transactional: commits the transaction (retrying what librdkafka says is retriable). Fenced
 * WR_ESTALE; err says why. */
int wr__kafka_producer_commit(wr__kafka_producer_t *p, wr_strbuf_t *err);
/* Fences transactional id txn_id: init_transactions of a new producer with it, which aborts its
 * open transaction and bumps its epoch. err says why not. */
int wr__kafka_fence(const wr_kafka_sink_config_t *c, const char *txn_id, wr_strbuf_t *err);

#endif
