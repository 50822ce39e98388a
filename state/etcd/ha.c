/* weir's HA records in etcd (ha.h): keys, value codecs, the leader lookup. */
#include "state/etcd/ha.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

static bool s_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* n bytes of [A-Za-z0-9_.-], 1 <= n < max */
static bool s_id_valid(const char *s, size_t n, size_t max)
{
    if (n == 0 || n >= max) return false;
    for (size_t i = 0; i < n; i++)
        if (!s_id_char(s[i])) return false;
    return true;
}

/* n printable bytes (no controls, no DEL; UTF-8 passes), 1 <= n < max when nonempty */
static bool s_text_valid(const char *s, size_t n, size_t max, bool may_be_empty)
{
    if ((n == 0 && !may_be_empty) || n >= max) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

bool wr_ha_cluster_id_valid(const char *id)
{
    return id && s_id_valid(id, strlen(id), WR_HA_CLUSTER_MAX);
}

wr_etcd_opts_t wr_ha_client_opts(const wr_etcd_opts_t *base, int64_t timeout_ms)
{
    wr_etcd_opts_t o = *base;
    o.request_timeout_ms = (int)timeout_ms;
    o.connect_timeout_ms = (int)(timeout_ms < 500 ? timeout_ms : 500);
    return o;
}

int wr_ha_opts_check(const wr_ha_opts_t *o, wr_strbuf_t *err)
{
    if (!o->endpoints || !o->endpoints[0]) {
        wr_strbuf_addf(err, "no etcd endpoints (high-availability.etcd.endpoints)");
        return WR_EINVAL;
    }
    if (!wr_ha_cluster_id_valid(o->cluster_id)) {
        wr_strbuf_addf(err,
                       "the cluster id '%s' must be 1 to %d letters, digits, '.', '_' or '-' "
                       "(high-availability.cluster-id)",
                       o->cluster_id ? o->cluster_id : "", WR_HA_CLUSTER_MAX - 1);
        return WR_EINVAL;
    }
    if (o->lease_ttl_ms < 2000 || o->lease_ttl_ms % 1000) {
        wr_strbuf_addf(err,
                       "the lease must be whole seconds, at least 2s (etcd's leases are in "
                       "seconds), not %lld ms (high-availability.etcd.lease-ttl)",
                       (long long)o->lease_ttl_ms);
        return WR_EINVAL;
    }
    if (o->renew_ms < 10 || o->renew_ms * 3 > o->lease_ttl_ms) {
        wr_strbuf_addf(err,
                       "the renew interval (%lld ms) must be at least 10 ms and at most a third of "
                       "the lease (%lld ms): a leader steps down one interval before its lease "
                       "ends (high-availability.etcd.renew-interval)",
                       (long long)o->renew_ms, (long long)o->lease_ttl_ms);
        return WR_EINVAL;
    }
    return 0;
}

int wr_ha_key(const char *cluster, const char *kind, const char *name, char out[WR_HA_KEY_MAX])
{
    int n = snprintf(out, WR_HA_KEY_MAX, "/weir/%s/%s/%s", cluster, kind, name);
    return n < 0 || n >= WR_HA_KEY_MAX ? WR_ETOOBIG : 0;
}

/* Splits data into exactly two lines, each ended by '\n': WR_EPROTO otherwise. */
static int s_two_lines(const void *data, size_t len, const char **a, size_t *alen, const char **b,
                       size_t *blen)
{
    const char *s = data;
    if (!len || s[len - 1] != '\n') return WR_EPROTO;
    const char *nl = memchr(s, '\n', len);
    if (nl == s + len - 1) return WR_EPROTO; /* one line */
    *a = s;
    *alen = (size_t)(nl - s);
    *b = nl + 1;
    *blen = len - *alen - 2;
    if (memchr(*b, '\n', *blen)) return WR_EPROTO; /* three or more */
    return 0;
}

int wr_ha_addr_encode(const wr_ha_addr_t *a, wr_strbuf_t *out)
{
    if (!s_id_valid(a->node, strlen(a->node), WR_HA_NODE_MAX) ||
        !s_text_valid(a->endpoint, strlen(a->endpoint), WR_HA_ENDPOINT_MAX, false))
        return WR_EINVAL;
    wr_strbuf_addf(out, "%s\n%s\n", a->node, a->endpoint);
    return out->failed ? WR_ENOMEM : 0;
}

int wr_ha_addr_decode(const void *data, size_t len, wr_ha_addr_t *a)
{
    const char *node, *ep;
    size_t nlen, elen;
    if (s_two_lines(data, len, &node, &nlen, &ep, &elen) ||
        !s_id_valid(node, nlen, WR_HA_NODE_MAX) ||
        !s_text_valid(ep, elen, WR_HA_ENDPOINT_MAX, false))
        return WR_EPROTO;
    memcpy(a->node, node, nlen);
    a->node[nlen] = '\0';
    memcpy(a->endpoint, ep, elen);
    a->endpoint[elen] = '\0';
    return 0;
}

int wr_ha_pointer_encode(uint32_t attempt, const char *checkpoint, wr_strbuf_t *out)
{
    if (strchr(checkpoint, '\n')) return WR_EINVAL;
    wr_strbuf_addf(out, "%u\n%s\n", attempt, checkpoint);
    return out->failed ? WR_ENOMEM : 0;
}

int wr_ha_pointer_decode(const void *data, size_t len, uint32_t *attempt, char *path, size_t cap)
{
    const char *num, *p;
    size_t nlen, plen;
    if (s_two_lines(data, len, &num, &nlen, &p, &plen) || nlen == 0 || nlen > 10 ||
        !s_text_valid(p, plen, cap, true))
        return WR_EPROTO;
    uint64_t v = 0;
    for (size_t i = 0; i < nlen; i++) {
        if (num[i] < '0' || num[i] > '9' || (i == 0 && num[i] == '0' && nlen > 1)) return WR_EPROTO;
        v = v * 10 + (uint64_t)(num[i] - '0');
    }
    if (v > UINT32_MAX) return WR_EPROTO;
    *attempt = (uint32_t)v;
    memcpy(path, p, plen);
    path[plen] = '\0';
    return 0;
}

/* Insertion by create revision, keeping the lowest cap. */
static void s_insert(wr_ha_candidate_t *out, size_t cap, size_t *n, const wr_ha_candidate_t *c)
{
    size_t at = *n;
    while (at > 0 && out[at - 1].epoch > c->epoch)
        at--;
    if (at >= cap) return;
    size_t last = *n < cap ? *n : cap - 1;
    memmove(&out[at + 1], &out[at], (last - at) * sizeof *out);
    out[at] = *c;
    if (*n < cap) (*n)++;
}

int wr_ha_candidates(wr_etcd_t *e, const char *cluster, wr_ha_candidate_t *out, size_t cap,
                     size_t *n, size_t *skipped, wr_strbuf_t *err)
{
    char prefix[WR_HA_KEY_MAX];
    int rc = wr_ha_key(cluster, "leader", "", prefix);
    if (rc) return rc;
    wr_etcd_range_t r = {0};
    if ((rc = wr_etcd_get(e, prefix, strlen(prefix), true, &r, err))) return rc;
    size_t stored = 0, bad = 0;
    for (size_t i = 0; i < r.n; i++) {
        wr_ha_candidate_t c = {.epoch = r.kvs[i].create_revision, .lease = r.kvs[i].lease};
        if (wr_ha_addr_decode(r.kvs[i].value, r.kvs[i].value_len, &c.addr) || c.epoch <= 0) {
            bad++;
            continue;
        }
        if (cap) s_insert(out, cap, &stored, &c);
    }
    wr_etcd_range_release(&r);
    *n = stored;
    if (skipped) *skipped = bad;
    return 0;
}

int wr_ha_leader(wr_etcd_t *e, const char *cluster, wr_ha_candidate_t *out, wr_strbuf_t *err)
{
    wr_ha_candidate_t c[1];
    size_t n = 0;
    int rc = wr_ha_candidates(e, cluster, c, 1, &n, NULL, err);
    if (rc) return rc;
    if (!n) return WR_ENOTFOUND;
    *out = c[0];
    return 0;
}
