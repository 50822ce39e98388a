/* The Kafka sink's transaction ids, log lines, transaction table, committables and spools
 * (kafka_txnlog.h): pure functions, no I/O (the fuzz target links this file alone). */
#include "actors/connectors/kafka/kafka_txnlog.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

/* The smallest encoding of a committable's entry: fixarray, fixstr "p-0-0-0", two fixints. */
#define S_MIN_ENTRY_BYTES 11

static const char *const s_ops[] = {"begin", "precommit", "commit", "abort", "redo", "redone"};

/* ---- names ---- */

static bool s_prefix_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool wr_kafka_prefix_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= WR_KAFKA_PREFIX_MAX || s[0] == '.' || s[0] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!s_prefix_char(s[i])) return false;
    return true;
}

void wr_kafka_txn_id(const char *prefix, const wr_kafka_txn_t *t, char *out)
{
    int n = snprintf(out, WR_KAFKA_TXN_ID_MAX, "%s-%" PRIu32 "-%" PRIu32 "-%" PRIu64, prefix,
                     t->subtask, t->attempt, t->n);
    if (t->redo && n > 0 && n < WR_KAFKA_TXN_ID_MAX)
        snprintf(out + n, WR_KAFKA_TXN_ID_MAX - (size_t)n, "-r%" PRIu32, t->redo_attempt);
}

/* A cursor over untrusted text. */
typedef struct {
    const char *p, *end;
} s_cur_t;

static bool s_lit(s_cur_t *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) return false;
    c->p += n;
    return true;
}

/* Decimal digits up to max, without leading zeros. */
static bool s_num(s_cur_t *c, uint64_t max, uint64_t *v)
{
    const char *p = c->p;
    uint64_t x = 0;
    for (; p < c->end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (x > (max - d) / 10) return false;
        x = x * 10 + d;
    }
    if (p == c->p || (*c->p == '0' && p - c->p > 1)) return false;
    c->p = p;
    *v = x;
    return true;
}

static bool s_u32(s_cur_t *c, uint32_t *v)
{
    uint64_t x;
    if (!s_num(c, UINT32_MAX, &x)) return false;
    *v = (uint32_t)x;
    return true;
}

/* The prefix and the '-' after it. */
static bool s_prefix(s_cur_t *c, const char *prefix)
{
    return s_lit(c, prefix) && s_lit(c, "-");
}

/* A transaction id at c (after which c points). */
static bool s_txn(s_cur_t *c, const char *prefix, wr_kafka_txn_t *t)
{
    *t = (wr_kafka_txn_t){0};
    if (!s_prefix(c, prefix) || !s_u32(c, &t->subtask) || !s_lit(c, "-") ||
        !s_u32(c, &t->attempt) || !s_lit(c, "-") || !s_num(c, UINT64_MAX, &t->n))
        return false;
    if (c->p < c->end && *c->p == '-') {
        if (!s_lit(c, "-r") || !s_u32(c, &t->redo_attempt)) return false;
        t->redo = true;
    }
    return true;
}

int wr_kafka_txn_parse(const char *prefix, const char *id, size_t len, wr_kafka_txn_t *t)
{
    s_cur_t c = {id, id + len};
    wr_kafka_txn_t got;
    if (len >= WR_KAFKA_TXN_ID_MAX || !s_txn(&c, prefix, &got) || c.p != c.end) return WR_EPROTO;
    *t = got;
    return 0;
}

bool wr_kafka_txn_equal(const wr_kafka_txn_t *a, const wr_kafka_txn_t *b)
{
    return wr_kafka_txn_cmp(a, b) == 0;
}

#define S_CMP(x, y)                                                                                \
    do {                                                                                           \
        if ((x) != (y)) return (x) < (y) ? -1 : 1;                                                 \
    } while (0)

int wr_kafka_txn_cmp(const wr_kafka_txn_t *a, const wr_kafka_txn_t *b)
{
    S_CMP(a->subtask, b->subtask);
    S_CMP(a->attempt, b->attempt);
    S_CMP(a->n, b->n);
    S_CMP(a->redo, b->redo);
    if (a->redo) S_CMP(a->redo_attempt, b->redo_attempt);
    return 0;
}

void wr_kafka_logname(const char *prefix, const wr_kafka_logname_t *l, char *out)
{
    if (l->recover)
        snprintf(out, WR_KAFKA_TXN_NAME_MAX, "%s-recover-a%" PRIu32 ".log", prefix, l->attempt);
    else
        snprintf(out, WR_KAFKA_TXN_NAME_MAX, "%s-s%" PRIu32 "-a%" PRIu32 ".log", prefix, l->subtask,
                 l->attempt);
}

int wr_kafka_logname_parse(const char *prefix, const char *name, size_t len, wr_kafka_logname_t *l)
{
    s_cur_t c = {name, name + len};
    wr_kafka_logname_t got = {0};
    if (!s_prefix(&c, prefix)) return WR_EPROTO;
    if (s_lit(&c, "recover-a"))
        got.recover = true;
    else if (!s_lit(&c, "s") || !s_u32(&c, &got.subtask) || !s_lit(&c, "-a"))
        return WR_EPROTO;
    if (!s_u32(&c, &got.attempt) || !s_lit(&c, ".log") || c.p != c.end) return WR_EPROTO;
    *l = got;
    return 0;
}

void wr_kafka_spool_name(const char *prefix, const wr_kafka_txn_t *t, char *out)
{
    char id[WR_KAFKA_TXN_ID_MAX];
    wr_kafka_txn_id(prefix, t, id);
    snprintf(out, WR_KAFKA_TXN_NAME_MAX, "%s.records", id);
}

/* ---- log lines ---- */

void wr_kafka_line_format(const char *prefix, const wr_kafka_line_t *line, wr_strbuf_t *out)
{
    char id[WR_KAFKA_TXN_ID_MAX], as[WR_KAFKA_TXN_ID_MAX];
    wr_kafka_txn_id(prefix, &line->txn, id);
    if (line->op == WR_KAFKA_PRECOMMIT) {
        wr_strbuf_addf(out, "precommit %s %" PRIu64 " %" PRIu64 "\n", id, line->checkpoint,
                       line->records);
    } else if (line->op == WR_KAFKA_REDO) {
        wr_kafka_txn_id(prefix, &line->as, as);
        wr_strbuf_addf(out, "redo %s as %s\n", id, as);
    } else {
        wr_strbuf_addf(out, "%s %s\n", s_ops[line->op], id);
    }
}

/* Reads the text of one line (no '\n') as an operation. */
static bool s_line(s_cur_t *c, const char *prefix, wr_kafka_line_t *l)
{
    *l = (wr_kafka_line_t){0};
    int op = -1;
    for (int i = 0; i < (int)(sizeof s_ops / sizeof *s_ops) && op < 0; i++) {
        s_cur_t at = *c;
        if (s_lit(&at, s_ops[i]) && s_lit(&at, " ")) {
            op = i;
            *c = at;
        }
    }
    if (op < 0 || !s_txn(c, prefix, &l->txn)) return false;
    l->op = (enum wr_kafka_op)op;
    if (l->op == WR_KAFKA_PRECOMMIT && (!s_lit(c, " ") || !s_num(c, UINT64_MAX, &l->checkpoint) ||
                                        !s_lit(c, " ") || !s_num(c, UINT64_MAX, &l->records)))
        return false;
    if (l->op == WR_KAFKA_REDO && (!s_lit(c, " as ") || !s_txn(c, prefix, &l->as))) return false;
    return c->p == c->end;
}

/* Where a writer log is in its sequence: transactions begun, pre-committed and committed (in
 * order of their numbers), and the last checkpoint. */
typedef struct {
    uint64_t begun, precommitted, committed, checkpoint;
} s_writer_seq_t;

/* Is l a line that may come next in writer log `name`? */
static bool s_writer_ok(const wr_kafka_logname_t *name, s_writer_seq_t *s, const wr_kafka_line_t *l)
{
    const wr_kafka_txn_t *t = &l->txn;
    if (t->redo || t->subtask != name->subtask || t->attempt != name->attempt) return false;
    switch (l->op) {
    case WR_KAFKA_BEGIN:
        if (t->n != s->begun || s->precommitted != s->begun || s->begun == UINT64_MAX) return false;
        s->begun++;
        return true;
    case WR_KAFKA_PRECOMMIT:
        if (t->n != s->precommitted || s->precommitted == s->begun || l->records == 0 ||
            (s->precommitted && l->checkpoint < s->checkpoint))
            return false;
        s->precommitted++;
        s->checkpoint = l->checkpoint;
        return true;
    case WR_KAFKA_COMMIT:
        if (t->n != s->committed || s->committed == s->precommitted) return false;
        s->committed++;
        return true;
    default:
        return false;
    }
}

/* Is l a line that may come after prev (NULL: none) in recover log `name`? */
static bool s_recover_ok(const wr_kafka_logname_t *name, const wr_kafka_line_t *prev,
                         const wr_kafka_line_t *l)
{
    const wr_kafka_txn_t *t = &l->txn;
    uint32_t r = name->attempt;
    wr_kafka_txn_t redo = *t;
    redo.redo = true;
    redo.redo_attempt = r;
    switch (l->op) {
    case WR_KAFKA_ABORT:
        return t->redo ? t->redo_attempt <= r : t->attempt < r;
    case WR_KAFKA_REDO:
        return !t->redo && t->attempt < r && wr_kafka_txn_equal(&l->as, &redo);
    case WR_KAFKA_COMMIT: /* right after its redo line */
        return t->redo && t->redo_attempt == r && prev && prev->op == WR_KAFKA_REDO &&
               wr_kafka_txn_equal(&prev->as, t);
    case WR_KAFKA_REDONE: /* right after its redo's commit */
        return !t->redo && t->attempt < r && prev && prev->op == WR_KAFKA_COMMIT &&
               wr_kafka_txn_equal(&prev->txn, &redo);
    default:
        return false;
    }
}

int wr_kafka_log_parse(const char *prefix, const wr_kafka_logname_t *name, const char *data,
                       size_t len, wr_kafka_line_t **lines, size_t *n, size_t *bad)
{
    *lines = NULL;
    *n = 0;
    *bad = 0;
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += data[i] == '\n';
    wr_kafka_line_t *v = count ? calloc(count, sizeof *v) : NULL;
    if (count && !v) return WR_ENOMEM;
    s_writer_seq_t seq = {0};
    const char *p = data, *end = data + len;
    size_t k = 0;
    for (; k < count; k++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        s_cur_t c = {p, nl};
        bool ok = s_line(&c, prefix, &v[k]);
        if (ok && name->recover)
            ok = s_recover_ok(name, k ? &v[k - 1] : NULL, &v[k]);
        else if (ok)
            ok = s_writer_ok(name, &seq, &v[k]);
        if (!ok) {
            free(v);
            *bad = k + 1;
            return WR_EPROTO;
        }
        p = nl + 1;
    }
    *lines = v;
    *n = count;
    return 0;
}

/* ---- the table ---- */

static int s_cmp_txn(const void *a, const void *b)
{
    return wr_kafka_txn_cmp(a, b);
}

static int s_cmp_state(const void *a, const void *b)
{
    return wr_kafka_txn_cmp(&((const wr_kafka_txn_state_t *)a)->txn,
                            &((const wr_kafka_txn_state_t *)b)->txn);
}

static wr_kafka_txn_state_t *s_find(const wr_kafka_txnlog_t *log, const wr_kafka_txn_t *t)
{
    wr_kafka_txn_state_t key = {.txn = *t};
    return log->n ? bsearch(&key, log->v, log->n, sizeof *log->v, s_cmp_state) : NULL;
}

int wr_kafka_txnlog_index(const wr_kafka_line_t *lines, size_t n, wr_kafka_txnlog_t *log)
{
    *log = (wr_kafka_txnlog_t){0};
    if (n > SIZE_MAX / 2 / sizeof(wr_kafka_txn_t)) return WR_ENOMEM;
    wr_kafka_txn_t *all = n ? malloc(2 * n * sizeof *all) : NULL;
    if (n && !all) return WR_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        all[m++] = lines[i].txn;
        if (lines[i].op == WR_KAFKA_REDO) all[m++] = lines[i].as;
    }
    if (m) qsort(all, m, sizeof *all, s_cmp_txn);
    wr_kafka_txn_state_t *v = m ? calloc(m, sizeof *v) : NULL;
    if (m && !v) {
        free(all);
        return WR_ENOMEM;
    }
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || !wr_kafka_txn_equal(&v[u - 1].txn, &all[i])) v[u++].txn = all[i];
    free(all);
    log->v = v;
    log->n = u;
    for (size_t i = 0; i < n; i++) {
        const wr_kafka_line_t *l = &lines[i];
        wr_kafka_txn_state_t *s = s_find(log, &l->txn);
        switch (l->op) {
        case WR_KAFKA_BEGIN:
            s->flags |= WR_KAFKA_TXN_BEGUN;
            break;
        case WR_KAFKA_PRECOMMIT:
            s->flags |= WR_KAFKA_TXN_PRECOMMITTED;
            s->checkpoint = l->checkpoint;
            s->records = l->records;
            break;
        case WR_KAFKA_COMMIT:
            s->flags |= WR_KAFKA_TXN_COMMITTED;
            break;
        case WR_KAFKA_ABORT:
            s->flags |= WR_KAFKA_TXN_ABORTED;
            break;
        case WR_KAFKA_REDO:
            s->flags |= WR_KAFKA_TXN_HAS_REDO;
            s->redo = l->as;
            s_find(log, &l->as)->flags |= WR_KAFKA_TXN_BEGUN;
            break;
        case WR_KAFKA_REDONE:
            s->flags |= WR_KAFKA_TXN_REDONE;
            break;
        }
    }
    return 0;
}

void wr_kafka_txnlog_release(wr_kafka_txnlog_t *log)
{
    free(log->v);
    *log = (wr_kafka_txnlog_t){0};
}

const wr_kafka_txn_state_t *wr_kafka_txnlog_find(const wr_kafka_txnlog_t *log,
                                                 const wr_kafka_txn_t *t)
{
    return s_find(log, t);
}

bool wr_kafka_txnlog_settled(const wr_kafka_txnlog_t *log, const wr_kafka_txn_state_t *s)
{
    if (s->flags & (WR_KAFKA_TXN_COMMITTED | WR_KAFKA_TXN_ABORTED)) return true;
    if (s->txn.redo) return false;
    if (s->flags & WR_KAFKA_TXN_REDONE) return true;
    if (!(s->flags & WR_KAFKA_TXN_HAS_REDO)) return false;
    const wr_kafka_txn_state_t *r = s_find(log, &s->redo);
    return r && (r->flags & WR_KAFKA_TXN_COMMITTED);
}

bool wr_kafka_txnlog_committed(const wr_kafka_txnlog_t *log, const char *prefix, const char *id,
                               size_t len)
{
    wr_kafka_txn_t t;
    if (wr_kafka_txn_parse(prefix, id, len, &t)) return false;
    const wr_kafka_txn_state_t *s = s_find(log, &t);
    return s && (s->flags & WR_KAFKA_TXN_COMMITTED);
}

/* ---- committables ---- */

int wr_kafka_committable_encode(const char *prefix, const wr_kafka_pending_t *p, uint32_t n,
                                wr_strbuf_t *out)
{
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, wr_pack_strbuf_write);
    int rc = msgpack_pack_array(&pk, 2) || msgpack_pack_uint32(&pk, WR_KAFKA_TXNLOG_VERSION) ||
             msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; i < n && !rc; i++) {
        char id[WR_KAFKA_TXN_ID_MAX];
        wr_kafka_txn_id(prefix, &p[i].txn, id);
        rc = msgpack_pack_array(&pk, 3) || wr_pack_str(&pk, id) ||
             msgpack_pack_uint64(&pk, p[i].checkpoint) || msgpack_pack_uint64(&pk, p[i].records);
    }
    if (!rc && !out->failed) return 0;
    wr_strbuf_truncate(out, start);
    out->failed = false;
    return WR_ENOMEM;
}

static int s_read_pending(wr_mp_reader_t *r, const char *prefix, wr_kafka_pending_t *p)
{
    uint32_t n = 0, len = 0;
    const char *id = NULL;
    wr_mp_read_array(r, &n);
    if (!r->err && n != 3) return r->err = WR_EPROTO;
    wr_mp_read_str(r, &id, &len);
    wr_mp_read_uint(r, &p->checkpoint);
    wr_mp_read_uint(r, &p->records);
    if (r->err) return r->err;
    if (wr_kafka_txn_parse(prefix, id, len, &p->txn) || p->txn.redo) return r->err = WR_EPROTO;
    return 0;
}

int wr_kafka_committable_decode(const char *prefix, const uint8_t *data, size_t len,
                                wr_kafka_pending_t **p, uint32_t *n)
{
    *p = NULL;
    *n = 0;
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, data, len);
    uint32_t count = 0;
    int rc = wr_mp_read_versioned_list(&r, WR_KAFKA_TXNLOG_VERSION, S_MIN_ENTRY_BYTES, &count);
    if (rc) return rc;
    wr_kafka_pending_t *v = count ? calloc(count, sizeof *v) : NULL;
    if (count && !v) return WR_ENOMEM;
    for (uint32_t i = 0; i < count && !r.err; i++)
        s_read_pending(&r, prefix, &v[i]);
    if (!r.err && wr_mp_remaining(&r) > 0) r.err = WR_EPROTO;
    if (r.err) {
        free(v);
        return r.err;
    }
    *p = v;
    *n = count;
    return 0;
}

/* ---- spools ---- */

void wr_kafka_spool_add(wr_strbuf_t *out, const void *key, size_t klen, const void *value,
                        size_t vlen)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, wr_pack_strbuf_write);
    msgpack_pack_array(&pk, 2);
    if (key)
        wr_pack_bin(&pk, key, klen);
    else
        msgpack_pack_nil(&pk);
    wr_pack_bin(&pk, value, vlen); /* a failure sets out->failed */
}

int wr_kafka_spool_next(wr_mp_reader_t *r, const uint8_t **key, uint32_t *klen,
                        const uint8_t **value, uint32_t *vlen)
{
    if (!r->err && wr_mp_remaining(r) == 0) return 0;
    uint32_t n = 0;
    *key = NULL;
    *klen = 0;
    wr_mp_read_array(r, &n);
    if (!r->err && n != 2) r->err = WR_EPROTO;
    if (!r->err && wr_mp_peek(r) == WR_MP_NIL)
        wr_mp_read_nil(r);
    else
        wr_mp_read_bin(r, key, klen);
    wr_mp_read_bin(r, value, vlen);
    return r->err ? r->err : 1;
}
