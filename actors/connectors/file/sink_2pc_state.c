/* The 2PC file sink's part names and checkpoint state codec: pure functions, no I/O (the fuzz
 * target links this file alone). */
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/file/sink_2pc.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"

/* Smallest encoding of one part: fixarray, fixstr ".part-0-0-0.pending" (20 bytes), fixstr
 * "part-0-0-0.jsonl" (17), fixint. Bounds a count read from untrusted input before allocating. */
#define S_MIN_PART_BYTES 39

/* hidden names' suffixes, by enum wr_sink_2pc_name */
static const char *const s_suffix[] = {".inprogress", ".pending"};

void wr_sink_2pc_name(const wr_sink_2pc_part_t *p, enum wr_sink_2pc_name kind, char *out)
{
    if (kind == WR_SINK_2PC_FINAL)
        snprintf(out, WR_SINK_2PC_NAME_MAX, "part-%" PRIu32 "-%" PRIu32 "-%" PRIu64 ".jsonl",
                 p->subtask, p->attempt, p->seq);
    else
        snprintf(out, WR_SINK_2PC_NAME_MAX, ".part-%" PRIu32 "-%" PRIu32 "-%" PRIu64 "%s",
                 p->attempt, p->subtask, p->seq, s_suffix[kind]);
}

/* Reads the decimal digits at *pp (before end) as a number up to max, moving *pp past them. false
 * if there are none or the value is over max. Leading zeros are caught by the caller's round
 * trip. */
static bool s_num(const char **pp, const char *end, uint64_t max, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (x > (max - d) / 10) return false;
        x = x * 10 + d;
    }
    if (p == *pp) return false;
    *pp = p;
    *v = x;
    return true;
}

static bool s_dash(const char **pp, const char *end)
{
    if (*pp >= end || **pp != '-') return false;
    (*pp)++;
    return true;
}

/* Reads "<prefix><a>-<b>-<seq>" at the start of name (a and b u32, seq u64); *rest gets what
 * follows. The caller checks the spelling is the one we write (no leading zeros) by making the
 * name again. */
static bool s_numbers(const char *name, size_t len, const char *prefix, uint64_t *a, uint64_t *b,
                      uint64_t *seq, const char **rest)
{
    size_t plen = strlen(prefix);
    if (len >= WR_SINK_2PC_NAME_MAX || len <= plen || memcmp(name, prefix, plen) != 0) return false;
    const char *q = name + plen, *end = name + len;
    if (!s_num(&q, end, UINT32_MAX, a) || !s_dash(&q, end) || !s_num(&q, end, UINT32_MAX, b) ||
        !s_dash(&q, end) || !s_num(&q, end, UINT64_MAX, seq))
        return false;
    *rest = q;
    return true;
}

/* Is name[0, len) exactly part p's name of this kind? */
static bool s_canonical(const wr_sink_2pc_part_t *p, enum wr_sink_2pc_name kind, const char *name,
                        size_t len)
{
    char canon[WR_SINK_2PC_NAME_MAX];
    wr_sink_2pc_name(p, kind, canon);
    return strlen(canon) == len && memcmp(canon, name, len) == 0;
}

int wr_sink_2pc_parse_hidden(const char *name, size_t len, enum wr_sink_2pc_name *kind,
                             wr_sink_2pc_part_t *p)
{
    uint64_t a = 0, s = 0, seq = 0;
    const char *rest;
    if (!s_numbers(name, len, ".part-", &a, &s, &seq, &rest)) return WR_EPROTO;
    size_t n = (size_t)(name + len - rest);
    enum wr_sink_2pc_name k = WR_SINK_2PC_INPROGRESS;
    if (n == strlen(s_suffix[WR_SINK_2PC_PENDING]) &&
        memcmp(rest, s_suffix[WR_SINK_2PC_PENDING], n) == 0)
        k = WR_SINK_2PC_PENDING;
    wr_sink_2pc_part_t got = {.attempt = (uint32_t)a, .subtask = (uint32_t)s, .seq = seq};
    if (!s_canonical(&got, k, name, len)) return WR_EPROTO;
    *kind = k;
    p->attempt = got.attempt;
    p->subtask = got.subtask;
    p->seq = got.seq;
    return 0;
}

int wr_sink_2pc_parse_name(const char *name, size_t len, enum wr_sink_2pc_name *kind,
                           wr_sink_2pc_part_t *p)
{
    enum wr_sink_2pc_name k = WR_SINK_2PC_FINAL;
    uint64_t a = 0, s = 0, seq = 0;
    const char *rest;
    if (wr_sink_2pc_parse_hidden(name, len, &k, p) == 0) {
        if (kind) *kind = k;
        return 0;
    }
    if (!s_numbers(name, len, "part-", &s, &a, &seq, &rest)) return WR_EPROTO;
    wr_sink_2pc_part_t got = {.attempt = (uint32_t)a, .subtask = (uint32_t)s, .seq = seq};
    if (!s_canonical(&got, WR_SINK_2PC_FINAL, name, len)) return WR_EPROTO;
    if (kind) *kind = k;
    p->attempt = got.attempt;
    p->subtask = got.subtask;
    p->seq = got.seq;
    return 0;
}

int wr_sink_2pc_state_encode(const wr_sink_2pc_part_t *parts, uint32_t n, wr_strbuf_t *out)
{
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, wr_pack_strbuf_write);
    int rc = msgpack_pack_array(&pk, 2) || msgpack_pack_uint32(&pk, WR_SINK_2PC_STATE_VERSION) ||
             msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; i < n && !rc; i++) {
        char pending[WR_SINK_2PC_NAME_MAX], final[WR_SINK_2PC_NAME_MAX];
        wr_sink_2pc_name(&parts[i], WR_SINK_2PC_PENDING, pending);
        wr_sink_2pc_name(&parts[i], WR_SINK_2PC_FINAL, final);
        rc = msgpack_pack_array(&pk, 3) || wr_pack_str(&pk, pending) || wr_pack_str(&pk, final) ||
             msgpack_pack_uint64(&pk, parts[i].checkpoint_id);
    }
    if (!rc && !out->failed) return 0;
    wr_strbuf_truncate(out, start);
    out->failed = false;
    return WR_ENOMEM; /* names are short: only the buffer can fail */
}

static int s_read_part(wr_mp_reader_t *r, wr_sink_2pc_part_t *p)
{
    uint32_t n = 0, plen = 0, flen = 0;
    const char *pending = NULL, *final = NULL;
    wr_mp_read_array(r, &n);
    if (!r->err && n != 3) return r->err = WR_EPROTO;
    wr_mp_read_str(r, &pending, &plen);
    wr_mp_read_str(r, &final, &flen);
    wr_mp_read_uint(r, &p->checkpoint_id);
    if (r->err) return r->err;
    enum wr_sink_2pc_name kind;
    if (wr_sink_2pc_parse_hidden(pending, plen, &kind, p) || kind != WR_SINK_2PC_PENDING)
        return r->err = WR_EPROTO;
    char want[WR_SINK_2PC_NAME_MAX];
    wr_sink_2pc_name(p, WR_SINK_2PC_FINAL, want);
    if (flen != strlen(want) || memcmp(final, want, flen) != 0) return r->err = WR_EPROTO;
    return 0;
}

int wr_sink_2pc_state_decode(const uint8_t *data, size_t len, wr_sink_2pc_part_t **parts,
                             uint32_t *n)
{
    *parts = NULL;
    *n = 0;
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, data, len);
    uint32_t count = 0;
    int rc = wr_mp_read_versioned_list(&r, WR_SINK_2PC_STATE_VERSION, S_MIN_PART_BYTES, &count);
    if (rc) return rc;
    wr_sink_2pc_part_t *ps = count ? calloc(count, sizeof *ps) : NULL;
    if (count && !ps) return WR_ENOMEM;
    for (uint32_t i = 0; i < count && !r.err; i++)
        s_read_part(&r, &ps[i]);
    if (!r.err && wr_mp_remaining(&r) > 0) r.err = WR_EPROTO;
    if (r.err) {
        free(ps);
        return r.err;
    }
    *parts = ps;
    *n = count;
    return 0;
}
