#include "cli/chaos_nemesis.h"

#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"

#define S_JM0 WR_CHAOS_ETCDS                  /* the first JobManager's member index */
#define S_TM0 (WR_CHAOS_ETCDS + WR_CHAOS_JMS) /* the first TaskManager's */

/* ---- the stream ---- */

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, every seed a good stream. */
static uint64_t s_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A value in [lo, hi] from draw r. */
static int64_t s_range(uint64_t r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

/* ---- what is allowed ---- */

/* The target kinds a variant hits (bits of WR_CHAOS_TARGET). */
static unsigned s_hits(wr_chaos_variant_t v)
{
    const unsigned jm = WR_CHAOS_TARGET(WR_CHAOS_NODE_JM), tm = WR_CHAOS_TARGET(WR_CHAOS_NODE_TM),
                   etcd = WR_CHAOS_TARGET(WR_CHAOS_NODE_ETCD);
    switch (v) {
    case WR_CHAOS_V_NODE:
        return WR_CHAOS_TARGETS_ALL;
    case WR_CHAOS_V_LEADER_TMS_BOTH:
    case WR_CHAOS_V_LEADER_TO_TMS:
    case WR_CHAOS_V_TMS_TO_LEADER:
        return jm | tm;
    case WR_CHAOS_V_TM_TMS_BOTH:
        return tm;
    case WR_CHAOS_V_LEADER_ETCD_BOTH:
        return jm | etcd;
    default:
        return etcd;
    }
}

/* The variants of kind allowed by targets, into out; how many. */
static size_t s_variants(int kind, unsigned targets, wr_chaos_variant_t out[WR_CHAOS_NVARIANTS])
{
    size_t n = 0;
    switch (kind) {
    case WR_CHAOS_KILL:
    case WR_CHAOS_PAUSE:
        out[n++] = WR_CHAOS_V_NODE;
        break;
    case WR_CHAOS_PARTITION:
        for (int v = WR_CHAOS_V_LEADER_TMS_BOTH; v <= WR_CHAOS_V_LEADER_ETCD_BOTH; v++)
            if (s_hits((wr_chaos_variant_t)v) & targets) out[n++] = (wr_chaos_variant_t)v;
        break;
    default:
        if (targets & WR_CHAOS_TARGET(WR_CHAOS_NODE_ETCD))
            for (int v = WR_CHAOS_V_ETCD_KILL; v <= WR_CHAOS_V_ETCD_QUORUM; v++)
                out[n++] = (wr_chaos_variant_t)v;
    }
    return n;
}

/* The target kinds kill and pause choose from: JobManagers and TaskManagers (etcd has its own
 * nemesis), etcd members only when neither is allowed. Into out; how many. */
static size_t s_node_kinds(unsigned targets, int out[3])
{
    size_t n = 0;
    for (int k = WR_CHAOS_NODE_JM; k <= WR_CHAOS_NODE_TM; k++)
        if (targets & WR_CHAOS_TARGET(k)) out[n++] = k;
    if (!n && (targets & WR_CHAOS_TARGET(WR_CHAOS_NODE_ETCD))) out[n++] = WR_CHAOS_NODE_ETCD;
    return n;
}

/* A member of kind, by draw r (members are numbered as chaos_cluster.h says). */
static int s_member(int kind, uint64_t r)
{
    if (kind == WR_CHAOS_NODE_ETCD) return (int)(r % WR_CHAOS_ETCDS);
    if (kind == WR_CHAOS_NODE_JM) return S_JM0 + (int)(r % WR_CHAOS_JMS);
    return S_TM0 + (int)(r % WR_CHAOS_TMS);
}

/* The kinds allowed by both masks, into kinds; how many. */
static size_t s_kinds(unsigned faults, unsigned targets, int kinds[WR_CHAOS_NKINDS])
{
    int node_kinds[3];
    size_t nk = 0, nn = s_node_kinds(targets, node_kinds);
    wr_chaos_variant_t vs[WR_CHAOS_NVARIANTS];
    for (int k = 0; k < WR_CHAOS_NKINDS; k++)
        if ((faults & 1u << k) && s_variants(k, targets, vs) && (k >= WR_CHAOS_PARTITION || nn))
            kinds[nk++] = k;
    return nk;
}

bool wr_chaos_nemesis_allowed(unsigned faults, unsigned targets)
{
    int kinds[WR_CHAOS_NKINDS];
    return s_kinds(faults, targets, kinds) > 0;
}

size_t wr_chaos_nemesis_schedule(uint64_t seed, unsigned faults, unsigned targets,
                                 int64_t interval_ms, wr_chaos_plan_t *out, size_t max)
{
    int kinds[WR_CHAOS_NKINDS], node_kinds[3];
    size_t nk = s_kinds(faults, targets, kinds), nn = s_node_kinds(targets, node_kinds);
    wr_chaos_variant_t vs[WR_CHAOS_NVARIANTS];
    if (!nk) return 0;
    uint64_t s = seed;
    unsigned hits[WR_CHAOS_NKINDS] = {0}; /* faults of each kind so far: their targets alternate */
    unsigned jm_hits[WR_CHAOS_NKINDS] = {0}; /* JobManager faults of each kind: leader, standby */
    /* where each kind's turn of variants and of target kinds starts */
    uint64_t var_off = s_next(&s), kind_off = s_next(&s);
    int deck[WR_CHAOS_NKINDS];
    for (size_t i = 0; i < max; i++) {
        /* The kinds come in rounds, each allowed kind once a round in a seeded order, so that a
         * short run covers them all; a round shuffles with nk draws. */
        if (i % nk == 0) {
            memcpy(deck, kinds, sizeof deck);
            for (size_t j = nk; j > 0; j--) { /* Fisher-Yates */
                size_t x = (size_t)(s_next(&s) % j);
                int t = deck[j - 1];
                deck[j - 1] = deck[x];
                deck[x] = t;
            }
        }
        /* four draws per fault, whatever it becomes */
        uint64_t r_node = s_next(&s), r_node2 = s_next(&s), r_hold = s_next(&s), r_gap = s_next(&s);
        wr_chaos_plan_t *p = &out[i];
        *p = (wr_chaos_plan_t){.kind = deck[i % nk], .node = -1, .node2 = -1, .leader = -1};
        size_t nv = s_variants(p->kind, targets, vs);
        /* the variants and the target kinds of a kind in turn, from a seeded start */
        p->variant = vs[(hits[p->kind] + var_off) % nv];
        int node_kind = node_kinds[(hits[p->kind] + kind_off) % nn];
        hits[p->kind]++;
        p->gap_ms = interval_ms * 7 / 10 + s_range(r_gap, 0, interval_ms * 6 / 10);
        switch (p->variant) {
        case WR_CHAOS_V_NODE:
            if (node_kind == WR_CHAOS_NODE_JM)
                p->standby = jm_hits[p->kind]++ % 2 == 1; /* node: resolved when applied */
            else
                p->node = s_member(node_kind, r_node);
            p->hold_ms =
                p->kind == WR_CHAOS_KILL ? s_range(r_hold, 0, 3000) : s_range(r_hold, 500, 6000);
            break;
        case WR_CHAOS_V_TM_TMS_BOTH:
            p->node = S_TM0 + (int)(r_node % WR_CHAOS_TMS);
            p->hold_ms = s_range(r_hold, 1000, 6000);
            break;
        case WR_CHAOS_V_ETCD_KILL:
        case WR_CHAOS_V_ETCD_PAUSE:
            p->node = (int)(r_node % WR_CHAOS_ETCDS);
            p->hold_ms = s_range(r_hold, 1000, 4000);
            break;
        case WR_CHAOS_V_ETCD_QUORUM:
            p->node = (int)(r_node % WR_CHAOS_ETCDS);
            p->node2 = (p->node + 1 + (int)(r_node2 % (WR_CHAOS_ETCDS - 1))) % WR_CHAOS_ETCDS;
            p->hold_ms = s_range(r_hold, 2000, 6000);
            break;
        default: /* the leader's partitions */
            p->hold_ms = s_range(r_hold, 1000, 6000);
        }
    }
    return max;
}

/* ---- in words ---- */

void wr_chaos_nemesis_describe(const wr_chaos_plan_t *p, const wr_chaos_cluster_t *c,
                               const char *leader, char *out, size_t n)
{
    char lbuf[64];
    snprintf(lbuf, sizeof lbuf, "%s%s", leader, strcmp(leader, "the leader") ? " (leader)" : "");
    const char *node = p->node < 0 ? (p->standby ? "the standby JobManager" : lbuf)
                       : strcmp(wr_chaos_cluster_name(c, (size_t)p->node), leader)
                           ? wr_chaos_cluster_name(c, (size_t)p->node)
                           : lbuf; /* "jm-a (leader)" */
    leader = lbuf;
    double s = (double)p->hold_ms / 1000;
    switch (p->variant) {
    case WR_CHAOS_V_NODE:
        if (p->kind == WR_CHAOS_KILL)
            snprintf(out, n, "kill -9 %s, restarted after %.1f s", node, s);
        else
            snprintf(out, n, "pause (SIGSTOP) %s for %.1f s", node, s);
        break;
    case WR_CHAOS_V_LEADER_TMS_BOTH:
        snprintf(out, n, "partition %s | tm-1,tm-2,tm-3 both ways for %.1f s", leader, s);
        break;
    case WR_CHAOS_V_LEADER_TO_TMS:
        snprintf(out, n, "partition %s -> tm-1,tm-2,tm-3 one way for %.1f s", leader, s);
        break;
    case WR_CHAOS_V_TMS_TO_LEADER:
        snprintf(out, n, "partition tm-1,tm-2,tm-3 -> %s one way for %.1f s", leader, s);
        break;
    case WR_CHAOS_V_TM_TMS_BOTH:
        snprintf(out, n, "partition %s | the other TaskManagers both ways for %.1f s", node, s);
        break;
    case WR_CHAOS_V_LEADER_ETCD_BOTH:
        snprintf(out, n, "partition %s | etcd-1,etcd-2,etcd-3 both ways for %.1f s", leader, s);
        break;
    case WR_CHAOS_V_ETCD_KILL:
        snprintf(out, n, "etcd: kill -9 %s, restarted after %.1f s", node, s);
        break;
    case WR_CHAOS_V_ETCD_PAUSE:
        snprintf(out, n, "etcd: pause (SIGSTOP) %s for %.1f s", node, s);
        break;
    default:
        snprintf(out, n, "etcd: quorum lost, kill -9 %s and %s, restarted after %.1f s", node,
                 wr_chaos_cluster_name(c, (size_t)p->node2), s);
    }
}

/* ---- applying and healing ---- */

/* Cuts (or heals) the links between member a and the members [from, to) that are not a: a -> b
 * when fwd, b -> a when back. */
static int s_cut(wr_chaos_cluster_t *c, size_t a, size_t from, size_t to, bool fwd, bool back,
                 bool cut)
{
    wr_chaos_proxy_t *px = wr_chaos_cluster_proxy(c);
    const char *an = wr_chaos_cluster_name(c, a);
    int rc = 0;
    for (size_t b = from; b < to && !rc; b++) {
        const char *bn = wr_chaos_cluster_name(c, b);
        if (b == a) continue;
        if (fwd) rc = wr_chaos_proxy_cut(px, an, bn, cut);
        if (back && !rc) rc = wr_chaos_proxy_cut(px, bn, an, cut);
    }
    return rc;
}

/* The partition's links cut (cut) or healed. */
static int s_partition(wr_chaos_cluster_t *c, const wr_chaos_plan_t *p, bool cut)
{
    size_t l = (size_t)p->leader, tms_end = S_TM0 + WR_CHAOS_TMS;
    switch (p->variant) {
    case WR_CHAOS_V_LEADER_TMS_BOTH:
        return s_cut(c, l, S_TM0, tms_end, true, true, cut);
    case WR_CHAOS_V_LEADER_TO_TMS:
        return s_cut(c, l, S_TM0, tms_end, true, false, cut);
    case WR_CHAOS_V_TMS_TO_LEADER:
        return s_cut(c, l, S_TM0, tms_end, false, true, cut);
    case WR_CHAOS_V_TM_TMS_BOTH:
        return s_cut(c, (size_t)p->node, S_TM0, tms_end, true, true, cut);
    default:
        return s_cut(c, l, 0, WR_CHAOS_ETCDS, true, true, cut);
    }
}

int wr_chaos_nemesis_apply(wr_chaos_cluster_t *c, wr_chaos_plan_t *p, int leader,
                           wr_chaos_fault_t *f)
{
    p->leader = leader >= 0 ? leader : S_JM0;
    const char *lname = wr_chaos_cluster_name(c, (size_t)p->leader);
    *f = (wr_chaos_fault_t){.kind = p->kind, .detect_ms = -1, .recover_ms = -1};
    if (p->variant == WR_CHAOS_V_NODE && p->node < 0) /* a JobManager: the leader or not */
        p->node = p->standby ? S_JM0 + (p->leader - S_JM0 + 1) % WR_CHAOS_JMS : p->leader;
    wr_chaos_nemesis_describe(p, c, lname, f->what, sizeof f->what);
    /* the fault's target: the member hit, or the leader for every partition of the leader's
     * links (TaskManagers -> leader too: what it cuts is what the leader hears) */
    int target = p->node >= 0 ? p->node : p->leader;
    snprintf(f->target, sizeof f->target, "%s", wr_chaos_cluster_name(c, (size_t)target));
    snprintf(f->target_kind, sizeof f->target_kind, "%s",
             wr_chaos_node_kind_name[wr_chaos_cluster_kind(c, (size_t)target)]);
    switch (p->variant) {
    case WR_CHAOS_V_NODE:
    case WR_CHAOS_V_ETCD_KILL:
    case WR_CHAOS_V_ETCD_PAUSE:
        if (p->kind == WR_CHAOS_PAUSE || p->variant == WR_CHAOS_V_ETCD_PAUSE)
            wr_chaos_cluster_pause(c, (size_t)p->node, true);
        else
            wr_chaos_cluster_kill(c, (size_t)p->node);
        return 0;
    case WR_CHAOS_V_ETCD_QUORUM:
        wr_chaos_cluster_kill(c, (size_t)p->node);
        wr_chaos_cluster_kill(c, (size_t)p->node2);
        return 0;
    default:
        return s_partition(c, p, true);
    }
}

int wr_chaos_nemesis_heal(wr_chaos_cluster_t *c, const wr_chaos_plan_t *p)
{
    switch (p->variant) {
    case WR_CHAOS_V_NODE:
    case WR_CHAOS_V_ETCD_KILL:
    case WR_CHAOS_V_ETCD_PAUSE:
        if (p->kind == WR_CHAOS_PAUSE || p->variant == WR_CHAOS_V_ETCD_PAUSE) {
            wr_chaos_cluster_pause(c, (size_t)p->node, false);
            return 0;
        }
        return wr_chaos_cluster_start(c, (size_t)p->node);
    case WR_CHAOS_V_ETCD_QUORUM: {
        int rc = wr_chaos_cluster_start(c, (size_t)p->node);
        int rc2 = wr_chaos_cluster_start(c, (size_t)p->node2);
        return rc ? rc : rc2;
    }
    default:
        return s_partition(c, p, false);
    }
}

int wr_chaos_parse_list(const char *arg, const char *const names[], unsigned n, unsigned *mask,
                        char *bad, size_t badn)
{
    *mask = 0;
    for (const char *at = arg;;) {
        size_t len = strcspn(at, ",");
        unsigned k = 0;
        while (k < n && (strlen(names[k]) != len || strncmp(names[k], at, len)))
            k++;
        if (k == n) {
            snprintf(bad, badn, "%.*s", (int)len, at);
            return WR_EINVAL;
        }
        *mask |= 1u << k;
        if (!at[len]) return 0;
        at += len + 1;
    }
}
