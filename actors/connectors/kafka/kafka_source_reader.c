/* The Kafka source's reader (kafka_source_internal.h): one consumer per subtask, which assigns
 * itself its partitions at their offsets (no group membership: the splits say who reads what),
 * takes messages without waiting and parses each one's lines with textin straight into the
 * batch. A message is read to its end before the next of its partition; when the batch fills
 * inside one, the split remembers the bytes read (its position says so). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/kafka/kafka_client.h"
#include "actors/connectors/kafka/kafka_source_internal.h"
#include "actors/connectors/textin.h"
#include "actors/connectors/textsrc.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_POLL           256  /* messages taken from librdkafka's queue at a time */
#define S_SNAPS          4    /* snapshots kept until their checkpoint completes */
#define S_DISCOVERY_WAIT 1000 /* ms: the longest a discovery request holds the subtask */
#define S_WARM_WAIT      1000 /* ms: for the leaders of the partitions, at open */
#define S_CLOSE_WAIT     2000 /* ms: for the commits in flight, at close */
#define S_MS             INT64_C(1000000)

/* A partition the reader holds. */
typedef struct {
    char id[WR_SPLIT_ID_MAX];
    const char *topic; /* the reader's copy */
    int32_t partition;
    uint32_t slot;
    int64_t next;    /* the offset of the first message not read to its end */
    uint64_t bytes;  /* of which this many bytes are read */
    int64_t end;     /* bounded: done at this offset (-1: never) */
    int64_t last_ns; /* its last message, or when it was taken */
    bool idle, done;
    const rd_kafka_topic_t *rkt; /* its messages' topic handle, once one came */
} s_split_t;

/* The offsets a snapshot listed, committed once its checkpoint completes. */
typedef struct {
    uint64_t checkpoint; /* 0: a free entry */
    rd_kafka_topic_partition_list_t *offsets;
} s_snap_t;

typedef struct {
    const wr_kafka_source_config_t *c;
    wr__ksrc_topics_t topics;
    wr_schema_t schema;
    uint32_t subtask, parallelism;
    wr_textin_t *text;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    s_split_t *v;
    uint32_t n, cap, last; /* last: the split of the last message (a guess for the next) */
    rd_kafka_message_t *msgs[S_POLL]; /* taken, not read to their end: [head, nmsgs) */
    uint32_t head, nmsgs;
    s_snap_t snaps[S_SNAPS];
    int64_t next_discovery_ns;
    uint32_t empty; /* reads in a row that found nothing (the retry's back-off), at most 7 */
    wr_logrl_t rl;
    int fatal; /* a fatal consumer error (WR_E*), why in fatal_why: the subtask fails */
    char fatal_why[512];
    const s_split_t *cur; /* the message being parsed, for on_bad */
    int64_t cur_offset;
    wr_textsrc_log_t log; /* skipped lines */
} s_reader_t;

/* ---- librdkafka's callbacks (served by the reader's own polls, on its thread) ---- */

static void s_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    s_reader_t *r = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk, r->fatal_why, sizeof r->fatal_why);
        r->fatal = wr_kafka_code(e) ? wr_kafka_code(e) : WR_EIO;
        return;
    }
    /* the rest librdkafka retries itself (a broker down, a connection lost) */
    wr_warn_limited(&r->rl, "kafka source %u/%u: %s (retrying)", r->subtask, r->parallelism,
                    reason);
}

static void s_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    s_reader_t *r = opaque;
    for (int i = 0; !err && offsets && i < offsets->cnt; i++)
        err = offsets->elems[i].err;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        wr_warn_limited(&r->rl, "kafka source %u/%u: committing offsets to group '%s': %s",
                        r->subtask, r->parallelism, r->c->group, rd_kafka_err2str(err));
}

/* ---- skipped lines ---- */

/* textin's on_bad: msg is ":LINE: what is wrong" (the parser has no name: the message's place
 * comes first). */
static void s_on_bad(void *ctx, const char *msg)
{
    s_reader_t *r = ctx;
    wr_textsrc_log_one(&r->log, wr_textin_stats(r->text)->bad,
                       "kafka source %u/%u: skipped %s@%lld%s", r->subtask, r->parallelism,
                       r->cur->id, (long long)r->cur_offset, msg);
}

/* ---- lifecycle ---- */

void wr__ksrc_close(void **rp)
{
    s_reader_t *r = *rp;
    if (!r) return;
    if (r->text) wr_textsrc_log_sum(&r->log, wr_textin_stats(r->text)->bad, true);
    while (r->head < r->nmsgs)
        rd_kafka_message_destroy(r->msgs[r->head++]);
    for (uint32_t i = 0; i < S_SNAPS; i++)
        if (r->snaps[i].offsets) rd_kafka_topic_partition_list_destroy(r->snaps[i].offsets);
    if (r->q) rd_kafka_queue_destroy(r->q);
    wr_kafka_consumer_destroy(&r->rk, S_CLOSE_WAIT);
    wr_textin_destroy(&r->text);
    wr__ksrc_topics_release(&r->topics);
    free(r->v);
    free(r);
    *rp = NULL;
}

int wr__ksrc_open(const void *config, const wr_source_open_t *o, void **rp, wr_strbuf_t *err)
{
    const wr_kafka_source_config_t *c = config;
    s_reader_t *r = calloc(1, sizeof *r);
    if (!r) return WR_ENOMEM;
    *rp = r;
    r->c = c;
    r->schema = *o->schema;
    r->subtask = o->subtask;
    r->parallelism = o->parallelism;
    r->next_discovery_ns = wr_coarse_ns() + c->discovery_interval_ms * S_MS;
    wr_logrl_init(&r->rl, 0);
    wr_textsrc_log_init(&r->log, "kafka source %u/%u", o->subtask, o->parallelism);
    wr_textin_options_t to = {.format = c->format,
                              .on_error = c->on_error,
                              .max_line = c->max_line,
                              .name = "",
                              .on_bad = s_on_bad,
                              .ctx = r};
    int rc = wr__ksrc_topics_init(&r->topics, c->topics);
    if (!rc && !(r->text = wr_textin_new(&r->schema, &to))) rc = WR_ENOMEM;
    rd_kafka_conf_t *conf = rc ? NULL : wr__ksrc_conf(c, err);
    if (!rc && !conf) rc = WR_ECONFIG;
    if (!rc) {
        rd_kafka_conf_set_opaque(conf, r);
        rd_kafka_conf_set_error_cb(conf, s_on_error);
        rd_kafka_conf_set_offset_commit_cb(conf, s_on_commit);
        if (!(r->rk = wr__ksrc_consumer(conf, err))) rc = WR_EIO;
    }
    /* one queue for messages, errors and commit results, served by the reader's polls */
    rd_kafka_resp_err_t e = rc ? 0 : rd_kafka_poll_set_consumer(r->rk);
    if (e) {
        wr_strbuf_addf(err, "kafka source: %s", rd_kafka_err2str(e));
        rc = wr_kafka_code(e);
    }
    if (!rc && !(r->q = rd_kafka_queue_get_consumer(r->rk))) rc = WR_EIO;
    if (rc) {
        wr__ksrc_close(rp);
        return rc;
    }
    /* The partitions' leaders known before they are assigned: else this consumer only asks at
     * librdkafka's next topic scan (every second), and reads nothing until then. An
     * optimisation: when it fails, the scan finds them. */
    const struct rd_kafka_metadata *md = NULL;
    if (!rd_kafka_metadata(r->rk, 1, NULL, &md, S_WARM_WAIT)) rd_kafka_metadata_destroy(md);
    return 0;
}

/* Takes partition `partition` of topic `topic` (an index) as split `slot`, reading on at
 * offset, of which message bytes are read, up to end (-1: no end). */
static int s_take(s_reader_t *r, uint32_t slot, uint32_t topic, int32_t partition, int64_t offset,
                  uint64_t bytes, int64_t end, wr_strbuf_t *err)
{
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? 2 * r->cap : 8;
        s_split_t *v = realloc(r->v, cap * sizeof *v);
        if (!v) return WR_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    s_split_t *sp = &r->v[r->n];
    *sp = (s_split_t){.topic = r->topics.v[topic],
                      .partition = partition,
                      .slot = slot,
                      .next = offset,
                      .bytes = bytes,
                      .end = r->c->end == WR_KAFKA_END_LATEST ? end : -1,
                      .last_ns = wr_coarse_ns()};
    wr__ksrc_split_id(sp->id, sp->topic, partition);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, sp->topic, partition)->offset = offset;
    rd_kafka_error_t *e = rd_kafka_incremental_assign(r->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        char what[WR_SPLIT_ID_MAX + 32];
        snprintf(what, sizeof what, "kafka source: cannot read %s", sp->id);
        return wr_kafka_error(e, what, err);
    }
    r->n++;
    return 0;
}

int wr__ksrc_add_split(void *rp, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    uint32_t topic;
    int32_t partition;
    int64_t offset, end;
    uint64_t bytes;
    if (wr__ksrc_split_parse(s->id, &r->topics, &topic, &partition) ||
        wr__ksrc_position_read(s, &offset, &bytes, &end) ||
        (r->c->end == WR_KAFKA_END_LATEST && end < 0)) {
        wr_strbuf_addf(err, "kafka source: split %s is no partition of its topics at an offset",
                       s->id);
        return WR_EPROTO;
    }
    return s_take(r, slot, topic, partition, offset, bytes, end, err);
}

/* ---- discovery ---- */

static bool s_holds(const s_reader_t *r, const char *topic, int32_t partition)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->v[i].partition == partition && !strcmp(r->v[i].topic, topic)) return true;
    return false;
}

/* Partitions created since, which wr__ksrc_owner gives this subtask, taken from their first
 * offset. Failures to reach the cluster are logged and tried again at the next interval; err
 * says why the others (out of memory, librdkafka refusing the assignment) fail the subtask. */
static int s_discover(s_reader_t *r, wr_source_read_t *rd, int64_t now, wr_strbuf_t *err)
{
    r->next_discovery_ns = now + r->c->discovery_interval_ms * S_MS;
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    rd_kafka_topic_partition_list_t *all = NULL, *mine = rd_kafka_topic_partition_list_new(4);
    int rc = wr__ksrc_partitions(r->rk, r->c, &r->topics, S_DISCOVERY_WAIT, &all, &why);
    for (int i = 0; !rc && i < all->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &all->elems[i];
        if (wr__ksrc_owner(p->topic, p->partition, r->parallelism) == r->subtask &&
            !s_holds(r, p->topic, p->partition))
            rd_kafka_topic_partition_list_add(mine, p->topic, p->partition);
    }
    if (!rc && mine->cnt)
        rc = wr__ksrc_resolve(r->rk, WR_KAFKA_START_EARLIEST, 0, mine, S_DISCOVERY_WAIT, &why);
    if (rc == WR_ENOMEM) {
        wr_strbuf_adds(err, "kafka source: looking for new partitions: out of memory");
    } else if (rc) {
        wr_warn_limited(&r->rl, "kafka source %u/%u: looking for new partitions: %s", r->subtask,
                        r->parallelism, why.buf);
        rc = 0;
    } else {
        for (int i = 0; !rc && i < mine->cnt; i++) {
            const rd_kafka_topic_partition_t *p = &mine->elems[i];
            uint32_t slot;
            int topic = wr__ksrc_topics_find(&r->topics, p->topic, strlen(p->topic));
            rc = wr_source_read_found(rd, &slot);
            if (!rc) rc = s_take(r, slot, (uint32_t)topic, p->partition, p->offset, 0, -1, err);
            if (!rc)
                wr_info("kafka source %u/%u: found %s/%d, reading it from offset %lld", r->subtask,
                        r->parallelism, p->topic, (int)p->partition, (long long)p->offset);
        }
    }
    if (all) rd_kafka_topic_partition_list_destroy(all);
    rd_kafka_topic_partition_list_destroy(mine);
    wr_strbuf_release(&why);
    return rc;
}

/* ---- reading ---- */

/* The split m came from, or NULL. */
static s_split_t *s_find(s_reader_t *r, const rd_kafka_message_t *m)
{
    if (r->last < r->n && r->v[r->last].rkt == m->rkt && r->v[r->last].partition == m->partition)
        return &r->v[r->last];
    for (uint32_t i = 0; i < r->n; i++) {
        s_split_t *sp = &r->v[i];
        if (sp->partition != m->partition) continue;
        if (!sp->rkt && !strcmp(sp->topic, rd_kafka_topic_name(m->rkt))) sp->rkt = m->rkt;
        if (sp->rkt != m->rkt) continue;
        r->last = i;
        return sp;
    }
    return NULL;
}

static void s_drop(s_reader_t *r)
{
    rd_kafka_message_destroy(r->msgs[r->head++]);
}

/* Takes up to `most` messages from the queue, without waiting: false if none came. */
static bool s_poll(s_reader_t *r, uint32_t most)
{
    ssize_t got = rd_kafka_consume_batch_queue(r->q, 0, r->msgs, most < S_POLL ? most : S_POLL);
    r->head = 0;
    r->nmsgs = got > 0 ? (uint32_t)got : 0;
    return got > 0;
}

static size_t s_newlines(const char *p, size_t len)
{
    size_t n = 0;
    for (const char *e = p + len; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        n++;
    return n;
}

/* Reads the first message taken into b, as far as b has room. */
static int s_message(s_reader_t *r, wr_source_read_t *rd, wr_batch_t *b, int64_t now,
                     wr_strbuf_t *err)
{
    rd_kafka_message_t *m = r->msgs[r->head];
    s_split_t *sp = m->err ? NULL : s_find(r, m);
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) s_on_error(r->rk, m->err, "", r);
        wr_warn_limited(&r->rl, "kafka source %u/%u: %s/%d: %s", r->subtask, r->parallelism,
                        m->rkt ? rd_kafka_topic_name(m->rkt) : "-", (int)m->partition,
                        rd_kafka_message_errstr(m));
    }
    if (!sp || m->offset < sp->next || sp->done || (sp->end >= 0 && m->offset >= sp->end)) {
        /* an error, not ours, read before, or past a bounded split's end */
        s_drop(r);
        return 0;
    }
    const char *text = m->payload ? m->payload : ""; /* (no value: no lines) */
    size_t start = 0; /* bytes read before, of the message the split stopped in */
    if (m->offset == sp->next) start = sp->bytes < m->len ? (size_t)sp->bytes : m->len;
    wr_textin_seek(r->text, start, start ? s_newlines(text, start) : 0);
    r->cur = sp;
    r->cur_offset = m->offset;
    uint32_t before = b->count;
    size_t used = 0;
    int rc = wr_textin_parse(r->text, text + start, m->len - start, true, b, NULL, &used);
    if (b->count > before) {
        wr_source_read_rows(rd, sp->slot);
        sp->idle = false;
    }
    sp->last_ns = now;
    if (rc) {
        const char *why = wr_textin_error(r->text);
        wr_strbuf_addf(err, "%s@%lld%s", sp->id, (long long)m->offset,
                       why[0] ? why : wr_strerror(rc));
        if (rc == WR_ETOOBIG)
            wr_strbuf_adds(err, " (the source's max_line sets the limit; on_error: skip skips it)");
        return rc;
    }
    if (start + used < m->len) { /* the batch is full: read on from here next time */
        assert(b->count == b->cap && "textin stopped inside a message with room left");
        sp->next = m->offset;
        sp->bytes = start + used;
        return 0;
    }
    sp->next = m->offset + 1;
    sp->bytes = 0;
    s_drop(r);
    return 0;
}

/* Whether the consumer's position in sp's partition is at its end: past the messages it returned
 * and the control records (transaction markers) after them, which take offsets and are never
 * returned, so that a partition written in transactions ends too. */
static bool s_position_at_end(s_reader_t *r, const s_split_t *sp)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, sp->topic, sp->partition);
    bool at = !rd_kafka_position(r->rk, l) && !l->elems[0].err && l->elems[0].offset >= sp->end;
    rd_kafka_topic_partition_list_destroy(l);
    return at;
}

/* Bounded splits at their end are done: their partitions are no longer fetched. drained: the
 * consumer's queue is empty (every message returned is read). true when every split is done. */
static bool s_ends(s_reader_t *r, wr_source_read_t *rd, bool drained)
{
    uint32_t done = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        s_split_t *sp = &r->v[i];
        if (!sp->done && sp->end >= 0 && !sp->bytes &&
            (sp->next >= sp->end || (drained && s_position_at_end(r, sp)))) {
            sp->done = true;
            wr_source_read_done(rd, sp->slot);
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(l, sp->topic, sp->partition);
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(r->rk, l);
            if (e) rd_kafka_error_destroy(e); /* (its messages are dropped anyway) */
            rd_kafka_topic_partition_list_destroy(l);
        }
        done += sp->done;
    }
    return done == r->n;
}

/* Splits without a message for idle_timeout stop holding the watermark back. */
static void s_idle(s_reader_t *r, wr_source_read_t *rd, int64_t now)
{
    int64_t timeout = r->c->idle_timeout_ms * S_MS;
    for (uint32_t i = 0; timeout && i < r->n; i++) {
        s_split_t *sp = &r->v[i];
        if (sp->idle || sp->done || now - sp->last_ns < timeout) continue;
        sp->idle = true;
        wr_source_read_idle(rd, sp->slot);
    }
}

int wr__ksrc_read(void *rp, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err)
{
    s_reader_t *r = rp;
    wr_batch_t *b = wr_source_read_batch(rd);
    int64_t now = wr_coarse_ns();
    int rc = 0;
    if (r->c->discovery_interval_ms && r->c->end == WR_KAFKA_END_NONE &&
        now >= r->next_discovery_ns)
        rc = s_discover(r, rd, now, err);
    uint32_t cap = b->cap, before = b->count;
    bool drained = false;                        /* everything librdkafka had is read */
    b->cap = b->count + wr_source_read_room(rd); /* textin fills a batch to its capacity */
    while (!rc && !r->fatal && b->count < b->cap) {
        if (r->head == r->nmsgs && !s_poll(r, b->cap - b->count)) {
            drained = true;
            break;
        }
        rc = s_message(r, rd, b, now, err);
    }
    b->cap = cap;
    if (!rc && r->fatal) {
        wr_strbuf_addf(err, "kafka source: the consumer failed: %s", r->fatal_why);
        rc = r->fatal;
    }
    /* (a split whose messages wait in the queue behind a full batch is not idle) */
    if (drained) s_idle(r, rd, now);
    uint64_t bad = wr_textin_stats(r->text)->bad;
    wr_textsrc_log_sum(&r->log, wr_textin_stats(r->text)->bad, false);
    wr_source_read_skipped(rd, bad);
    bool ended = r->c->end == WR_KAFKA_END_LATEST && s_ends(r, rd, drained);
    *st = b->count > before ? WR_SOURCE_MORE : ended ? WR_SOURCE_END : WR_SOURCE_WAIT;
    /* Nothing now: librdkafka's fetches are in flight, ask to be read again soon, backing off
     * (1, 2, 4, ... ms) while nothing comes, so that a quiet topic costs ~10 reads a second. */
    r->empty = *st == WR_SOURCE_WAIT ? r->empty + (r->empty < 7) : 0;
    if (*st == WR_SOURCE_WAIT) wr_source_read_retry(rd, 1u << r->empty >> 1);
    return rc;
}

/* ---- checkpoints ---- */

/* Lists the done splits of a bounded source too (at their end): a restore must know them, or it
 * would take their partitions for new ones and read them again. */
int wr__ksrc_snapshot(void *rp, wr_source_snap_t *snap)
{
    s_reader_t *r = rp;
    uint64_t checkpoint = wr_source_snap_checkpoint(snap);
    rd_kafka_topic_partition_list_t *l =
        checkpoint ? rd_kafka_topic_partition_list_new(r->n ? (int)r->n : 1) : NULL;
    wr_strbuf_t pos;
    wr_strbuf_init(&pos);
    int rc = 0;
    for (uint32_t i = 0; i < r->n && !rc; i++) {
        const s_split_t *sp = &r->v[i];
        wr_strbuf_reset(&pos);
        rc = wr__ksrc_position_pack(sp->next, sp->bytes, sp->end, &pos);
        if (!rc) rc = wr_source_snap_split(snap, sp->slot, sp->id, pos.buf, pos.len);
        if (l) rd_kafka_topic_partition_list_add(l, sp->topic, sp->partition)->offset = sp->next;
    }
    wr_strbuf_release(&pos);
    if (rc || !l) {
        if (l) rd_kafka_topic_partition_list_destroy(l);
        return rc;
    }
    s_snap_t *keep = &r->snaps[0]; /* a free entry, else the oldest */
    for (uint32_t i = 1; i < S_SNAPS && keep->checkpoint; i++)
        if (r->snaps[i].checkpoint < keep->checkpoint) keep = &r->snaps[i];
    if (keep->offsets) rd_kafka_topic_partition_list_destroy(keep->offsets);
    *keep = (s_snap_t){.checkpoint = checkpoint, .offsets = l};
    return 0;
}

void wr__ksrc_checkpoint_done(void *rp, uint64_t checkpoint_id)
{
    s_reader_t *r = rp;
    s_snap_t *done = NULL; /* the latest snapshot the checkpoint covers */
    for (uint32_t i = 0; i < S_SNAPS; i++) {
        s_snap_t *s = &r->snaps[i];
        if (s->checkpoint && s->checkpoint <= checkpoint_id &&
            (!done || s->checkpoint > done->checkpoint))
            done = s;
    }
    if (!done) return;
    if (done->offsets->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(r->rk, done->offsets, 1);
        if (e) s_on_commit(r->rk, e, NULL, r);
    }
    for (uint32_t i = 0; i < S_SNAPS; i++) {
        s_snap_t *s = &r->snaps[i];
        if (!s->checkpoint || s->checkpoint > checkpoint_id) continue;
        rd_kafka_topic_partition_list_destroy(s->offsets);
        *s = (s_snap_t){0};
    }
}
