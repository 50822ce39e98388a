/* Leadership through etcd (jm_leader.h, state/etcd/ha.h): every JobManager of a cluster is a
 * candidate; the one whose candidacy key is oldest leads, under that key's create revision as
 * its epoch; the job records live under the cluster's prefix.
 *
 * Two threads, two etcd clients (a client belongs to one thread, etcd.h):
 *
 *   the elector   (its own thread) grants a lease of lease-ttl, puts the candidacy key with it,
 *                 and then every renew interval: renews the lease (one POST), reads the
 *                 candidates, and when its key is the oldest confirms it with a txn on the key's
 *                 create revision (a campaign's success can outlive its lease, etcd-io/etcd#11051)
 *                 before it tells the actor "granted". It tells the actor "revoked" when the lease
 *                 is gone, when its key is gone (deleted under a live lease: the lease is then
 *                 revoked), when another candidate is older, or when it could not renew for
 *                 lease-ttl minus one renew interval; it then campaigns again under a new lease.
 *                 It reaches the actor through local messages (S_GRANTED, S_REVOKED), retried
 *                 while the mailbox is full: an event is never lost.
 *   the actor     writes the job records, each a txn that compares its candidacy key's create
 *                 revision with its epoch, so that a deposed leader's write fails (WR_ESTALE)
 *                 even before it has heard that it is deposed.
 *
 * Stepping down by itself. The elector publishes the monotonic time until which the leadership
 * holds (the last successful renewal's send time, plus the lease, minus one renew interval);
 * `holds` reads it without a lock, and the JobManager asks it before every act of a leader. etcd
 * ends the lease no sooner than a full lease after it received that renewal, so this leader
 * stops acting at least one renew interval before a standby can win. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/cluster/cluster.h"
#include "actors/jobmanager/jm_leader.h"
#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/stopper.h"
#include "state/etcd/ha.h"

#define S_GRANTED WR__LEADER_MSG_FIRST
#define S_REVOKED (WR__LEADER_MSG_FIRST + 1)

/* S_GRANTED's payload (a local message: never encoded) */
typedef struct {
    int64_t epoch;
    char key[WR_HA_KEY_MAX];
} s_grant_t;

typedef struct {
    /* the options, copied */
    char *endpoints, *cluster, *user, *password, *ca, *cert, *keyf, *source;
    int64_t ttl_ms, renew_ms;
    wr_ha_addr_t me;
    /* the actor's side */
    wr_etcd_t *etcd;
    int64_t epoch;           /* of the leadership granted last (0: none) */
    char key[WR_HA_KEY_MAX]; /* its candidacy key */
    wr_ha_addr_t shown;      /* what address() returned last */
    /* the elector */
    wr_node_t *node;
    char actor[WR_ADDR_MAX];
    pthread_t thread;
    bool running;
    wr_stopper_t stopper;
    pthread_mutex_t mu; /* guards cands, ncand */
    wr_ha_candidate_t cands[WR_HA_CANDIDATES];
    size_t ncand;
    _Atomic int64_t holds_until_ns; /* 0: not leading */
} s_etcd_t;

static wr_etcd_opts_t s_client_opts(const s_etcd_t *s, int64_t timeout_ms)
{
    wr_etcd_opts_t base = {.user = s->user,
                           .password = s->password,
                           .ca_file = s->ca,
                           .cert_file = s->cert,
                           .key_file = s->keyf,
                           .source_address = s->source};
    return wr_ha_client_opts(&base, timeout_ms);
}

/* ---- the elector ---- */

/* Hands the actor an event, retrying while its mailbox is full (or until stopped). */
static void s_post(s_etcd_t *s, uint16_t type, const void *payload, size_t len)
{
    for (;;) {
        wr_msg_t *m = wr_msg_new(type, NULL, s->actor, payload, len);
        int rc = m ? wr_node_send(s->node, &m) : WR_ENOMEM;
        wr_msg_destroy(&m);
        if (rc != WR_EAGAIN && rc != WR_ENOMEM) {
            if (rc) wr_warn("jobmanager: leadership event lost: %s", wr_strerror(rc));
            return;
        }
        if (wr_stopper_wait(&s->stopper, 10)) return;
    }
}

static void s_revoke(s_etcd_t *s, bool *leading, const char *why)
{
    atomic_store(&s->holds_until_ns, 0);
    if (!*leading) return;
    *leading = false;
    s_post(s, S_REVOKED, why, strlen(why) + 1);
}

/* One candidacy: a lease, and the key under it. */
typedef struct {
    int64_t lease;
    int64_t rev; /* the key's create revision: the epoch if it leads */
    char key[WR_HA_KEY_MAX];
    int64_t renewed_ns; /* the send time of the last successful grant or renewal */
    int64_t stale;      /* a lease given up while etcd did not answer: revoked once it does */
} s_candidacy_t;

static int s_campaign(s_etcd_t *s, wr_etcd_t *e, s_candidacy_t *c, wr_strbuf_t *err)
{
    int64_t sent = wr_now_ns(), lease = 0;
    int rc = wr_etcd_lease_grant(e, s->ttl_ms / 1000, &lease, NULL, err);
    if (rc) return rc;
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)lease);
    wr_strbuf_t value;
    wr_strbuf_init(&value);
    rc = wr_ha_key(s->cluster, "leader", hex, c->key);
    if (!rc) rc = wr_ha_addr_encode(&s->me, &value);
    int64_t rev = 0;
    if (!rc) rc = wr_etcd_put(e, c->key, strlen(c->key), value.buf, value.len, lease, &rev, err);
    wr_strbuf_release(&value);
    if (rc) {
        wr_etcd_lease_revoke(e, lease, NULL);
        return rc;
    }
    c->lease = lease;
    c->rev = rev;
    c->renewed_ns = sent;
    if (c->stale) wr_etcd_lease_revoke(e, c->stale, NULL); /* its key would lead, unrenewed */
    c->stale = 0;
    return 0;
}

/* Whether the key is still the one put at rev (the txn etcd-io/etcd#11051 asks for). */
static int s_confirm(wr_etcd_t *e, const char *key, int64_t rev, wr_strbuf_t *err)
{
    wr_etcd_cmp_t cmp = {.key = key,
                         .key_len = strlen(key),
                         .target = WR_ETCD_CREATE,
                         .op = WR_ETCD_EQUAL,
                         .number = rev};
    wr_etcd_txn_result_t r = {0};
    int rc = wr_etcd_txn(e, &cmp, 1, NULL, 0, NULL, 0, &r, err);
    if (!rc && !r.succeeded) rc = WR_ESTALE;
    wr_etcd_txn_release(&r);
    return rc;
}

/* One round: renew (or campaign), read the candidates, act on who leads. */
static void s_round(s_etcd_t *s, wr_etcd_t *e, s_candidacy_t *c, bool *leading, int *last_rc)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int64_t now = wr_now_ns(), margin = (s->ttl_ms - s->renew_ms) * 1000000;
    int rc = 0;
    if (!c->lease) {
        rc = s_campaign(s, e, c, &err);
        if (!rc)
            wr_info("jobmanager: candidate for the leadership of cluster %s (%s)", s->cluster,
                    c->key);
    } else {
        rc = wr_etcd_lease_keepalive(e, c->lease, NULL, &err);
        if (!rc) {
            c->renewed_ns = now;
            if (*leading) atomic_store(&s->holds_until_ns, now + margin);
        } else if (rc == WR_ENOTFOUND) {
            s_revoke(s, leading, "its etcd lease expired");
            c->lease = 0;
        } else if (now - c->renewed_ns >= margin) {
            char why[300];
            snprintf(why, sizeof why, "cannot renew its etcd lease for %lld ms: %s",
                     (long long)((now - c->renewed_ns) / 1000000), err.len ? err.buf : "");
            s_revoke(s, leading, why);
            c->stale = c->lease; /* a new candidacy once etcd answers */
            c->lease = 0;
        }
    }
    wr_ha_candidate_t cands[WR_HA_CANDIDATES];
    size_t n = 0;
    if (!rc) rc = wr_ha_candidates(e, s->cluster, cands, WR_HA_CANDIDATES, &n, NULL, &err);
    if (!rc) {
        pthread_mutex_lock(&s->mu);
        memcpy(s->cands, cands, n * sizeof *cands);
        s->ncand = n;
        pthread_mutex_unlock(&s->mu);
        bool first = c->lease && n && cands[0].lease == c->lease && cands[0].epoch == c->rev;
        bool listed = false;
        for (size_t i = 0; i < n; i++)
            listed = listed || (cands[i].lease == c->lease && cands[i].epoch == c->rev);
        if (c->lease && !listed && n < WR_HA_CANDIDATES) {
            /* its key was deleted under a live lease: never again a candidate unless it makes
             * a new one (next round) */
            s_revoke(s, leading, "its candidacy key is gone from etcd");
            wr_etcd_lease_revoke(e, c->lease, NULL);
            c->lease = 0;
        } else if (first && !*leading) {
            rc = s_confirm(e, c->key, c->rev, &err);
            if (!rc) {
                *leading = true;
                atomic_store(&s->holds_until_ns, c->renewed_ns + margin);
                s_grant_t g = {.epoch = c->rev};
                snprintf(g.key, sizeof g.key, "%s", c->key);
                s_post(s, S_GRANTED, &g, sizeof g);
            }
        } else if (!first && *leading) {
            s_revoke(s, leading, "another JobManager's candidacy is older");
        }
    }
    if (rc && rc != *last_rc)
        wr_warn("jobmanager: %s", err.len ? err.buf : wr_strerror(rc)); /* (names etcd) */
    else if (!rc && *last_rc)
        wr_info("jobmanager: etcd answers again (%s)", wr_etcd_endpoint(e));
    *last_rc = rc;
    wr_strbuf_release(&err);
}

static void *s_elector(void *arg)
{
    s_etcd_t *s = arg;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    /* a failed round costs at most this plus a renew interval: two fit before the deadline */
    int64_t timeout = (s->ttl_ms - s->renew_ms) / 2;
    wr_etcd_opts_t eo = s_client_opts(s, timeout < 1000 ? 1000 : timeout);
    wr_etcd_t *e = wr_etcd_new(s->endpoints, &eo, &err);
    wr_strbuf_release(&err);
    s_candidacy_t c = {0};
    bool leading = false;
    int last_rc = 0;
    while (e && !wr_stopper_wait(&s->stopper, 0)) {
        s_round(s, e, &c, &leading, &last_rc);
        if (wr_stopper_wait(&s->stopper, s->renew_ms)) break;
    }
    atomic_store(&s->holds_until_ns, 0);
    if (e && c.lease) wr_etcd_lease_revoke(e, c.lease, NULL); /* a standby need not wait */
    wr_etcd_destroy(&e);
    return NULL;
}

/* ---- the actor's side ---- */

static int s_start(void *impl, wr_actor_t *self, const char *node_id, const char *endpoint,
                   const wr__leader_events_t *ev)
{
    (void)ev;
    s_etcd_t *s = impl;
    snprintf(s->me.node, sizeof s->me.node, "%s", node_id);
    snprintf(s->me.endpoint, sizeof s->me.endpoint, "%s", endpoint);
    s->node = wr_actor_node(self);
    snprintf(s->actor, sizeof s->actor, "%s", wr_actor_addr(self));
    if (pthread_create(&s->thread, NULL, s_elector, s)) return WR_EIO;
    s->running = true;
    return 0;
}

static int s_on_message(void *impl, wr_actor_t *self, const wr_msg_t *m,
                        const wr__leader_events_t *ev)
{
    s_etcd_t *s = impl;
    if (m->type == S_GRANTED && m->len == sizeof(s_grant_t)) {
        s_grant_t g;
        memcpy(&g, m->data, sizeof g);
        s->epoch = g.epoch;
        snprintf(s->key, sizeof s->key, "%s", g.key);
        ev->granted(ev->ctx, self, (uint64_t)g.epoch);
    } else if (m->type == S_REVOKED && m->len && m->data[m->len - 1] == '\0') {
        s->epoch = 0;
        ev->revoked(ev->ctx, self, (const char *)m->data);
    }
    return 0;
}

static bool s_holds(void *impl)
{
    s_etcd_t *s = impl;
    return wr_now_ns() < atomic_load(&s->holds_until_ns);
}

/* A failure of the request, not an answer: another try may get through. */
static bool s_transient(int rc)
{
    return rc == WR_ETIMEDOUT || rc == WR_EUNREACH || rc == WR_EIO;
}

/* A txn of ops fenced on the candidacy key: WR_ESTALE when it is no longer this leader's. With
 * graph (a job's graph key), also on that graph being there: WR_ENOTFOUND when it is not (and the
 * fence held), as a pointer without its graph would never be read back. */
static int s_fenced(s_etcd_t *s, const char *graph, const wr_etcd_op_t *ops, size_t n)
{
    if (!s->epoch) return WR_ESTALE;
    wr_etcd_cmp_t cmp[2] = {{.key = s->key,
                             .key_len = strlen(s->key),
                             .target = WR_ETCD_CREATE,
                             .op = WR_ETCD_EQUAL,
                             .number = s->epoch},
                            {.key = graph,
                             .key_len = graph ? strlen(graph) : 0,
                             .target = WR_ETCD_VERSION,
                             .op = WR_ETCD_GREATER,
                             .number = 0}};
    /* when a compare fails: whether the fence held */
    wr_etcd_op_t fence = {.kind = WR_ETCD_OP_RANGE, .key = s->key, .key_len = strlen(s->key)};
    wr_etcd_txn_result_t r = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc;
    /* etcd without a leader of its own (a member lost, an election under way) answers late or
     * with an error: retried while this leadership holds (a put or delete applied twice is the
     * same) */
    while (
        (rc = wr_etcd_txn(s->etcd, cmp, graph ? 2 : 1, ops, n, &fence, graph ? 1 : 0, &r, &err)) &&
        s_transient(rc) && s_holds(s)) {
        wr_strbuf_reset(&err);
        struct timespec pause = {0, 100 * 1000000};
        nanosleep(&pause, NULL);
    }
    if (!rc && !r.succeeded)
        rc = graph && r.n == 1 && r.responses[0].n == 1 &&
                     r.responses[0].kvs[0].create_revision == s->epoch
                 ? WR_ENOTFOUND
                 : WR_ESTALE;
    if (rc && rc != WR_ESTALE && rc != WR_ENOTFOUND)
        wr_warn("jobmanager: cannot write to etcd: %s", err.len ? err.buf : wr_strerror(rc));
    wr_etcd_txn_release(&r);
    wr_strbuf_release(&err);
    return rc;
}

static int s_fence(void *impl)
{
    return s_fenced(impl, NULL, NULL, 0);
}

static int s_put_job(void *impl, const char *job_id, const void *graph, size_t len)
{
    s_etcd_t *s = impl;
    char key[WR_HA_KEY_MAX];
    if (strlen(job_id) >= WR_JOB_ID_MAX) return WR_EINVAL; /* s_jobs would not read it back */
    int rc = wr_ha_key(s->cluster, "jobs", job_id, key);
    if (rc) return rc;
    wr_etcd_op_t op = {.kind = WR_ETCD_OP_PUT,
                       .key = key,
                       .key_len = strlen(key),
                       .value = graph,
                       .value_len = len};
    return s_fenced(s, NULL, &op, 1);
}

static int s_put_pointer(void *impl, const char *job_id, uint32_t attempt, const char *checkpoint)
{
    s_etcd_t *s = impl;
    char key[WR_HA_KEY_MAX], graph[WR_HA_KEY_MAX];
    /* what s_jobs would not read back (its path[WR_TASK_RESTORE_MAX]) */
    if (strlen(checkpoint) >= WR_TASK_RESTORE_MAX) return WR_EINVAL;
    wr_strbuf_t v;
    wr_strbuf_init(&v);
    int rc = wr_ha_key(s->cluster, "pointers", job_id, key);
    if (!rc) rc = wr_ha_key(s->cluster, "jobs", job_id, graph);
    if (!rc) rc = wr_ha_pointer_encode(attempt, checkpoint, &v);
    wr_etcd_op_t op = {.kind = WR_ETCD_OP_PUT,
                       .key = key,
                       .key_len = strlen(key),
                       .value = v.buf,
                       .value_len = v.len};
    if (!rc) rc = s_fenced(s, graph, &op, 1);
    wr_strbuf_release(&v);
    return rc;
}

static int s_remove_job(void *impl, const char *job_id)
{
    s_etcd_t *s = impl;
    char job[WR_HA_KEY_MAX], ptr[WR_HA_KEY_MAX];
    int rc = wr_ha_key(s->cluster, "jobs", job_id, job);
    if (!rc) rc = wr_ha_key(s->cluster, "pointers", job_id, ptr);
    if (rc) return rc;
    wr_etcd_op_t ops[2] = {{.kind = WR_ETCD_OP_DELETE, .key = job, .key_len = strlen(job)},
                           {.kind = WR_ETCD_OP_DELETE, .key = ptr, .key_len = strlen(ptr)}};
    return s_fenced(s, NULL, ops, 2);
}

/* The record of the job whose graph is kv, with its pointer from ptrs (none: attempt 0, from its
 * start). */
static int s_each_job(const wr_etcd_kv_t *kv, size_t prefix_len, const wr_etcd_range_t *ptrs,
                      size_t ptr_prefix_len, int (*each)(void *, const wr__leader_job_t *),
                      void *ctx)
{
    char id[WR_JOB_ID_MAX];
    size_t idlen = kv->key_len - prefix_len;
    if (kv->key_len <= prefix_len || idlen >= sizeof id) return 0;
    memcpy(id, kv->key + prefix_len, idlen);
    id[idlen] = '\0';
    if (memchr(id, '\0', idlen)) return 0;
    wr__leader_job_t job = {.job_id = id,
                            .graph = (const uint8_t *)kv->value,
                            .graph_len = kv->value_len,
                            .checkpoint = ""};
    char path[WR_TASK_RESTORE_MAX];
    for (size_t i = 0; i < ptrs->n; i++) {
        const wr_etcd_kv_t *p = &ptrs->kvs[i];
        if (p->key_len != ptr_prefix_len + idlen || memcmp(p->key + ptr_prefix_len, id, idlen))
            continue;
        if (wr_ha_pointer_decode(p->value, p->value_len, &job.attempt, path, sizeof path)) {
            wr_warn("jobmanager: job %s: its pointer in etcd is malformed; restarting it from "
                    "its start",
                    id);
            break;
        }
        job.checkpoint = path;
    }
    return each(ctx, &job);
}

static int s_jobs(void *impl, int (*each)(void *ctx, const wr__leader_job_t *job), void *ctx)
{
    s_etcd_t *s = impl;
    char jp[WR_HA_KEY_MAX], pp[WR_HA_KEY_MAX];
    wr_etcd_range_t jobs = {0}, ptrs = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_ha_key(s->cluster, "jobs", "", jp);
    if (!rc) rc = wr_ha_key(s->cluster, "pointers", "", pp);
    if (!rc) rc = wr_etcd_get(s->etcd, pp, strlen(pp), true, &ptrs, &err);
    if (!rc) rc = wr_etcd_get(s->etcd, jp, strlen(jp), true, &jobs, &err);
    if (rc) wr_warn("jobmanager: cannot read the jobs from etcd: %s", err.len ? err.buf : "");
    for (size_t i = 0; !rc && i < jobs.n; i++)
        rc = s_each_job(&jobs.kvs[i], strlen(jp), &ptrs, strlen(pp), each, ctx);
    wr_etcd_range_release(&jobs);
    wr_etcd_range_release(&ptrs);
    wr_strbuf_release(&err);
    return rc;
}

static void s_address(void *impl, const char **node_id, const char **endpoint)
{
    s_etcd_t *s = impl;
    pthread_mutex_lock(&s->mu);
    if (s->ncand)
        s->shown = s->cands[0].addr;
    else
        memset(&s->shown, 0, sizeof s->shown);
    pthread_mutex_unlock(&s->mu);
    *node_id = s->shown.node;
    *endpoint = s->shown.endpoint;
}

static size_t s_candidates(void *impl, wr_ha_candidate_t *out, size_t cap)
{
    s_etcd_t *s = impl;
    pthread_mutex_lock(&s->mu);
    size_t n = s->ncand < cap ? s->ncand : cap;
    memcpy(out, s->cands, n * sizeof *out);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void s_destroy(void *impl)
{
    s_etcd_t *s = impl;
    if (!s) return;
    if (s->running) {
        wr_stopper_stop(&s->stopper);
        pthread_join(s->thread, NULL);
    }
    wr_stopper_destroy(&s->stopper);
    pthread_mutex_destroy(&s->mu);
    wr_etcd_destroy(&s->etcd);
    free(s->endpoints);
    free(s->cluster);
    free(s->user);
    free(s->password);
    free(s->ca);
    free(s->cert);
    free(s->keyf);
    free(s->source);
    free(s);
}

static const wr__leader_ops_t s_ops = {
    .name = "etcd",
    .start = s_start,
    .on_message = s_on_message,
    .holds = s_holds,
    .fence = s_fence,
    .put_job = s_put_job,
    .put_pointer = s_put_pointer,
    .remove_job = s_remove_job,
    .jobs = s_jobs,
    .address = s_address,
    .candidates = s_candidates,
    .destroy = s_destroy,
};

static bool s_copy(char **to, const char *from)
{
    *to = from ? strdup(from) : NULL;
    return !from || *to;
}

wr__leader_t *wr__leader_etcd_new(const wr_ha_opts_t *o, wr_strbuf_t *err)
{
    if (wr_ha_opts_check(o, err)) return NULL;
    s_etcd_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->mu, NULL);
    wr_stopper_init(&s->stopper);
    s->ttl_ms = o->lease_ttl_ms;
    s->renew_ms = o->renew_ms;
    bool ok = s_copy(&s->endpoints, o->endpoints) && s_copy(&s->cluster, o->cluster_id) &&
              s_copy(&s->user, o->etcd.user) && s_copy(&s->password, o->etcd.password) &&
              s_copy(&s->ca, o->etcd.ca_file) && s_copy(&s->cert, o->etcd.cert_file) &&
              s_copy(&s->keyf, o->etcd.key_file) && s_copy(&s->source, o->etcd.source_address);
    if (ok) {
        /* the actor's writes wait up to the leadership's own deadline (lease-ttl - renew-interval):
         * an etcd that elects a new leader among its members (a second or two) delays a
         * checkpoint's record rather than failing it; past that this leader steps down anyway */
        wr_etcd_opts_t eo = s_client_opts(s, s->ttl_ms - s->renew_ms);
        s->etcd = wr_etcd_new(s->endpoints, &eo, err);
    }
    if (!ok || !s->etcd) {
        s_destroy(s);
        return NULL;
    }
    return wr__leader_new(&s_ops, s);
}
