#include "actors/runtime/node_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"

#define S_STOP_WAIT_MS 5000   /* node destroy waits this long for actors to stop */
#define S_REQ_PREFIX   "req/" /* wr_node_request's temporary reply addresses */

/* ---- registry: open addressing on the path, tombstone-free (backward-shift delete) ---- */

static size_t s_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static size_t s_reg_slot(const wr_node_t *n, const char *path)
{
    size_t i = s_hash(path) & (n->reg_cap - 1);
    while (n->reg[i] && strcmp(n->reg[i]->path, path))
        i = (i + 1) & (n->reg_cap - 1);
    return i;
}

static int s_reg_grow(wr_node_t *n)
{
    size_t ncap = n->reg_cap * 2;
    wr_actor_t **old = n->reg, **nr = calloc(ncap, sizeof *nr);
    if (!nr) return WR_ENOMEM;
    size_t ocap = n->reg_cap;
    n->reg = nr;
    n->reg_cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i]) n->reg[s_reg_slot(n, old[i]->path)] = old[i];
    free(old);
    return 0;
}

int wr__node_register(wr_node_t *n, wr_actor_t *a)
{
    int rc = 0;
    pthread_rwlock_wrlock(&n->reg_lock);
    if (atomic_load(&n->stopping) && strcmp(a->path, "node")) {
        rc = WR_ECLOSED;
    } else if ((n->reg_count + 1) * 2 > n->reg_cap && (rc = s_reg_grow(n))) {
        /* rc set */
    } else {
        size_t i = s_reg_slot(n, a->path);
        if (n->reg[i]) {
            rc = WR_EEXIST;
        } else {
            n->reg[i] = wr_actor_ref(a);
            n->reg_count++;
            a->seq = ++n->spawn_seq;
        }
    }
    pthread_rwlock_unlock(&n->reg_lock);
    return rc;
}

void wr__node_unregister(wr_node_t *n, wr_actor_t *a)
{
    wr_actor_t *gone = NULL;
    pthread_rwlock_wrlock(&n->reg_lock);
    size_t i = s_reg_slot(n, a->path);
    if (n->reg[i] == a) {
        gone = a;
        n->reg[i] = NULL;
        n->reg_count--;
        /* backward-shift the cluster that follows so lookups never stop early */
        for (size_t j = (i + 1) & (n->reg_cap - 1); n->reg[j]; j = (j + 1) & (n->reg_cap - 1)) {
            wr_actor_t *moved = n->reg[j];
            n->reg[j] = NULL;
            n->reg[s_reg_slot(n, moved->path)] = moved;
        }
    }
    pthread_rwlock_unlock(&n->reg_lock);
    wr_actor_unref(&gone);
}

wr_actor_t *wr_node_lookup(wr_node_t *n, const char *path)
{
    pthread_rwlock_rdlock(&n->reg_lock);
    wr_actor_t *a = n->reg[s_reg_slot(n, path)];
    if (a) wr_actor_ref(a);
    pthread_rwlock_unlock(&n->reg_lock);
    return a;
}

size_t wr_node_actor_count(wr_node_t *n)
{
    pthread_rwlock_rdlock(&n->reg_lock);
    size_t c = n->reg_count;
    pthread_rwlock_unlock(&n->reg_lock);
    return c;
}

/* Counted references to every actor, in spawn order. The caller unrefs each and frees the array. */
static size_t s_snapshot(wr_node_t *n, wr_actor_t ***out)
{
    pthread_rwlock_rdlock(&n->reg_lock);
    wr_actor_t **arr = malloc((n->reg_count + 1) * sizeof *arr);
    size_t k = 0;
    for (size_t i = 0; arr && i < n->reg_cap; i++)
        if (n->reg[i]) arr[k++] = wr_actor_ref(n->reg[i]);
    pthread_rwlock_unlock(&n->reg_lock);
    for (size_t i = 1; i < k; i++) /* insertion sort by spawn order: actor counts are small */
        for (size_t j = i; j > 0 && arr[j - 1]->seq > arr[j]->seq; j--) {
            wr_actor_t *t = arr[j];
            arr[j] = arr[j - 1];
            arr[j - 1] = t;
        }
    *out = arr;
    return k;
}

size_t wr_node_actors(wr_node_t *n, wr_actor_info_t *out, size_t cap)
{
    wr_actor_t **all;
    size_t k = s_snapshot(n, &all);
    for (size_t i = 0; i < k; i++) {
        wr_actor_t *a = all[i];
        if (i < cap) {
            wr_actor_info_t *r = &out[i];
            memset(r, 0, sizeof *r);
            wr_mailbox_stats_t st;
            wr_mailbox_stats(a->mailbox, &st);
            snprintf(r->addr, sizeof r->addr, "%s", a->addr);
            if (a->supervisor)
                snprintf(r->supervisor, sizeof r->supervisor, "%s", a->supervisor->addr);
            r->depth = st.depth;
            r->capacity = st.capacity;
            r->high_water = st.high_water;
            r->enqueued = st.enqueued;
            r->dequeued = st.dequeued;
            r->rejected = st.rejected;
            r->restarts = atomic_load(&a->restarts);
            r->oldest_age_ns = st.oldest_age_ns;
            r->rate = (double)atomic_load(&a->rate_milli) / 1000.0;
        }
        wr_actor_unref(&all[i]);
    }
    free(all);
    return k;
}

/* ---- run queue and workers ---- */

static __thread wr_node_t *s_current_worker_node; /* which node's worker this thread is, if any */

void wr__actor_schedule(wr_actor_t *a)
{
    if (atomic_exchange(&a->scheduled, true)) return;
    wr_node_t *n = a->node;
    wr_actor_ref(a); /* the run queue holds a reference */
    pthread_mutex_lock(&n->rq_lock);
    a->rq_next = NULL;
    if (n->rq_tail)
        n->rq_tail->rq_next = a;
    else
        n->rq_head = a;
    n->rq_tail = a;
    n->rq_len++;
    /* A worker enqueuing onto an empty queue picks the actor up itself after its turn: waking a
     * parked thread costs ~100 us here, so only wake one when work is piling up or the sender is
     * not one of this node's workers. */
    bool wake = n->idle_workers > 0 && (s_current_worker_node != n || n->rq_len > 1);
    pthread_mutex_unlock(&n->rq_lock);
    if (wake) pthread_cond_signal(&n->rq_cond);
}

static wr_actor_t *s_rq_pop_locked(wr_node_t *n)
{
    wr_actor_t *a = n->rq_head;
    if (a) {
        n->rq_head = a->rq_next;
        if (!n->rq_head) n->rq_tail = NULL;
        n->rq_len--;
    }
    return a;
}

bool wr__node_help(wr_node_t *n)
{
    if (s_current_worker_node != n) return false;
    pthread_mutex_lock(&n->rq_lock);
    wr_actor_t *a = s_rq_pop_locked(n);
    pthread_mutex_unlock(&n->rq_lock);
    if (!a) return false;
    wr__actor_run_turn(a); /* a was queued, so it is not mid-turn anywhere (not even below us) */
    wr_actor_unref(&a);
    return true;
}

static void *s_worker_main(void *arg)
{
    wr_node_t *n = arg;
    s_current_worker_node = n;
    pthread_mutex_lock(&n->rq_lock);
    for (;;) {
        /* a node being destroyed: what is still queued is released there, not run */
        if (n->rq_stop) break;
        wr_actor_t *a = s_rq_pop_locked(n);
        if (!a) {
            /* No spinning before parking: on two cores a spinning worker steals the CPU from the
             * I/O threads that would bring it work (measured: 0.79 vs 0.72 of raw ZeroMQ). */
            n->idle_workers++;
            pthread_cond_wait(&n->rq_cond, &n->rq_lock);
            n->idle_workers--;
            continue;
        }
        pthread_mutex_unlock(&n->rq_lock);
        wr__actor_run_turn(a);
        wr_actor_unref(&a);
        pthread_mutex_lock(&n->rq_lock);
    }
    pthread_mutex_unlock(&n->rq_lock);
    return NULL;
}

/* ---- routing ---- */

void wr__reply_error(wr_node_t *n, const wr_msg_t *m, int code, const char *text)
{
    if (!m->corr || !m->from[0] || m->type == WR_MSG_ERROR || m->type == WR_MSG_TIMEOUT) return;
    wr_msg_t *e = wr_msg_error(m->to, m->from, m->corr, code, text);
    if (e && wr_node_send(n, &e)) wr_msg_destroy(&e);
}

static int s_deliver_waiter(wr_node_t *n, wr_msg_t **msg)
{
    int rc = WR_ENOACTOR;
    pthread_mutex_lock(&n->wait_lock);
    for (wr__waiter_t *w = n->waiters; w; w = w->next) {
        if (w->corr == (*msg)->corr && !w->reply) {
            w->reply = *msg;
            *msg = NULL;
            rc = 0;
            pthread_cond_broadcast(&n->wait_cond);
            break;
        }
    }
    pthread_mutex_unlock(&n->wait_lock);
    return rc;
}

int wr__node_deliver_local(wr_node_t *n, wr_msg_t **msg)
{
    const char *path = strchr((*msg)->to, '/');
    path = path ? path + 1 : (*msg)->to;
    if (!strncmp(path, S_REQ_PREFIX, strlen(S_REQ_PREFIX))) return s_deliver_waiter(n, msg);
    wr_actor_t *a = wr_node_lookup(n, path);
    if (!a) return WR_ENOACTOR;
    int rc = wr_mailbox_push(a->mailbox, msg);
    if (rc == 0) wr__actor_schedule(a);
    wr_actor_unref(&a);
    return rc;
}

int wr_node_send(wr_node_t *n, wr_msg_t **msg)
{
    char node[WR_NODE_MAX];
    wr_msg_t *m = *msg;
    if (!strchr(m->to, '/')) { /* a bare path: this node */
        char full[WR_ADDR_MAX];
        if (snprintf(full, sizeof full, "%s/%s", n->id, m->to) >= (int)sizeof full)
            return WR_EINVAL;
        memcpy(m->to, full, sizeof full);
    }
    if (!wr_addr_split(m->to, node)) return WR_EINVAL;
    if (!strcmp(node, n->id)) return wr__node_deliver_local(n, msg);
    return wr_transport_send(n->transport, msg);
}

/* transport callbacks (I/O thread) */

static int s_on_deliver(void *ctx, wr_msg_t **msg)
{
    wr_node_t *n = ctx;
    int rc = wr__node_deliver_local(n, msg);
    if (rc == WR_ENOACTOR) wr__reply_error(n, *msg, WR_ENOACTOR, "no such actor");
    return rc;
}

static void s_on_undeliverable(void *ctx, wr_msg_t **msg, int err)
{
    wr_node_t *n = ctx;
    wr_msg_t *m = *msg;
    char from_node[WR_NODE_MAX];
    wr_debug("%s: undeliverable %s to %s: %s", n->id, wr_msg_type_label(m->type), m->to,
             wr_strerror(err));
    if (!wr_addr_split(m->from, from_node) || strcmp(from_node, n->id)) return;
    if (!m->corr || m->type == WR_MSG_ERROR || m->type == WR_MSG_TIMEOUT) return;
    /* A request from one of ours: answer it with the error instead of letting it time out. The
     * answer comes from this node's system actor, not from the peer: the asker can tell that its
     * own node could not reach the peer from the peer answering with an error. */
    char self[WR_ADDR_MAX], text[WR_ADDR_MAX + 32];
    snprintf(self, sizeof self, "%s/node", n->id);
    snprintf(text, sizeof text, "cannot reach %s: %s", m->to,
             err == WR_EUNREACH ? "peer unreachable" : wr_strerror(err));
    wr_msg_t *e = wr_msg_error(self, m->from, m->corr, err, text);
    if (e && wr_node_send(n, &e)) wr_msg_destroy(&e);
}

static void s_on_peer_event(void *ctx, const char *peer, bool up, const char *reason,
                            uint64_t incarnation)
{
    wr_node_t *n = ctx;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_msg_peer_up_t u = {.incarnation = incarnation};
    wr_msg_peer_down_t d = {.incarnation = incarnation};
    snprintf(u.node, sizeof u.node, "%s", peer);
    snprintf(d.node, sizeof d.node, "%s", peer);
    snprintf(d.reason, sizeof d.reason, "%s", reason ? reason : "");
    int packed = up ? wr_msg_peer_up_pack(&u, &sb) : wr_msg_peer_down_pack(&d, &sb);
    pthread_mutex_lock(&n->watch_lock);
    for (size_t i = 0; i < n->nwatches; i++) {
        if (strcmp(n->watches[i].peer, peer)) continue;
        wr_msg_t *m = packed ? NULL
                             : wr_msg_new(up ? WR_MSG_PEER_UP : WR_MSG_PEER_DOWN, "",
                                          n->watches[i].actor->addr, sb.data, sb.size);
        if (!m) continue;
        snprintf(m->from, sizeof m->from, "%s/node", n->id);
        /* control messages must not be lost to a full mailbox: retry briefly */
        int rc;
        for (int tries = 0;
             (rc = wr_mailbox_push(n->watches[i].actor->mailbox, &m)) == WR_EAGAIN && tries < 1000;
             tries++)
            usleep(1000);
        if (rc == 0)
            wr__actor_schedule(n->watches[i].actor);
        else {
            wr_warn("%s: could not tell %s that %s is %s", n->id, n->watches[i].actor->addr, peer,
                    up ? "up" : "down");
            wr_msg_destroy(&m);
        }
    }
    pthread_mutex_unlock(&n->watch_lock);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- watches ---- */

int wr_watch_peer(wr_actor_t *self, const char *node_id)
{
    wr_node_t *n = self->node;
    if (!wr_node_id_valid(node_id)) return WR_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&n->watch_lock);
    for (size_t i = 0; i < n->nwatches; i++)
        if (n->watches[i].actor == self && !strcmp(n->watches[i].peer, node_id)) goto out;
    if (n->nwatches == n->watches_cap) {
        size_t ncap = n->watches_cap ? n->watches_cap * 2 : 8;
        wr__watch_t *w = realloc(n->watches, ncap * sizeof *w);
        if (!w) {
            rc = WR_ENOMEM;
            goto out;
        }
        n->watches = w;
        n->watches_cap = ncap;
    }
    snprintf(n->watches[n->nwatches].peer, WR_NODE_MAX, "%s", node_id);
    n->watches[n->nwatches++].actor = wr_actor_ref(self);
out:
    pthread_mutex_unlock(&n->watch_lock);
    /* a watched peer is tracked from now on, even before its first heartbeat */
    return rc ? rc : wr_transport_track(n->transport, node_id);
}

static void s_unwatch(wr_node_t *n, wr_actor_t *a, const char *peer)
{
    pthread_mutex_lock(&n->watch_lock);
    size_t k = 0;
    wr_actor_t **drop = malloc((n->nwatches + 1) * sizeof *drop);
    size_t ndrop = 0;
    for (size_t i = 0; i < n->nwatches; i++) {
        bool match = n->watches[i].actor == a && (!peer || !strcmp(n->watches[i].peer, peer));
        if (match && drop)
            drop[ndrop++] = n->watches[i].actor;
        else if (!match || !drop)
            n->watches[k++] = n->watches[i];
    }
    n->nwatches = k;
    pthread_mutex_unlock(&n->watch_lock);
    for (size_t i = 0; i < ndrop; i++)
        wr_actor_unref(&drop[i]);
    free(drop);
}

void wr_unwatch_peer(wr_actor_t *self, const char *node_id)
{
    s_unwatch(self->node, self, node_id);
}

void wr__node_unwatch_all(wr_node_t *n, wr_actor_t *a)
{
    s_unwatch(n, a, NULL);
}

/* ---- timers ---- */

static int s_fire_timer(void *ctx, wr_actor_t *a, uint16_t type, uint64_t corr)
{
    (void)ctx;
    wr_msg_t *m = wr_msg_alloc(type, 0);
    if (!m) return WR_ENOMEM;
    m->corr = corr;
    memcpy(m->from, a->addr, sizeof m->from);
    memcpy(m->to, a->addr, sizeof m->to);
    int rc = wr_mailbox_push(a->mailbox, &m);
    if (rc == 0)
        wr__actor_schedule(a);
    else
        wr_msg_destroy(&m);
    return rc;
}

/* ---- lifecycle ---- */

wr_node_t *wr_node_new(const wr_node_opts_t *opts, int *err)
{
    int rc = WR_EINVAL;
    wr_node_t *n = NULL;
    if (!opts->id || !wr_node_id_valid(opts->id)) goto fail;
    rc = WR_ENOMEM;
    n = calloc(1, sizeof *n);
    if (!n) goto fail;
    n->o = *opts;
    snprintf(n->id, sizeof n->id, "%s", opts->id);
    n->o.id = n->id;
    n->o.bind = NULL;
    n->o.keys_dir = n->o.cert = NULL;
    n->o.source_address = n->o.advertised_endpoint = NULL; /* the transport keeps its copies */
    if (!n->o.threads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n->o.threads = c > 0 ? (unsigned)c : 1;
    }
    if (!n->o.mailbox_capacity) n->o.mailbox_capacity = 1024;
    if (!n->o.turn_budget) n->o.turn_budget = 64;
    if (!n->o.heartbeat_timeout_ms) n->o.heartbeat_timeout_ms = 3000;
    if (!n->o.max_message_size) n->o.max_message_size = WR_PAYLOAD_DEFAULT_MAX;
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = (uint64_t)wr_now_ns() ^ (uint64_t)getpid();
    n->incarnation = rnd | 1;
    atomic_init(&n->next_corr, (rnd >> 16) | 1);
    pthread_rwlock_init(&n->reg_lock, NULL);
    pthread_mutex_init(&n->rq_lock, NULL);
    pthread_cond_init(&n->rq_cond, NULL);
    pthread_mutex_init(&n->wait_lock, NULL);
    pthread_mutex_init(&n->watch_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->wait_cond, &ca);
    pthread_condattr_destroy(&ca);
    n->reg_cap = 64;
    n->reg = calloc(n->reg_cap, sizeof *n->reg);
    n->workers = calloc(n->o.threads, sizeof *n->workers);
    if (!n->reg || !n->workers) goto fail;
    n->timers = wr__timers_new(s_fire_timer, n);
    if (!n->timers) goto fail;
    for (; n->nworkers < n->o.threads; n->nworkers++)
        if (pthread_create(&n->workers[n->nworkers], NULL, s_worker_main, n)) goto fail;
    wr_transport_opts_t to = {
        .node_id = n->id,
        .bind = opts->bind,
        .incarnation = n->incarnation,
        .max_payload = n->o.max_message_size,
        .heartbeat_interval_ms = n->o.heartbeat_interval_ms,
        .heartbeat_timeout_ms = n->o.heartbeat_timeout_ms,
        .keys_dir = opts->keys_dir,
        .cert = opts->cert,
        .source_address = opts->source_address,
        .advertised_endpoint = opts->advertised_endpoint,
        .handler = {.deliver = s_on_deliver,
                    .undeliverable = s_on_undeliverable,
                    .peer_event = s_on_peer_event,
                    .ctx = n},
    };
    n->transport = wr_transport_new(&to, &rc);
    if (!n->transport) goto fail;
    rc = wr__system_spawn(n);
    if (rc) goto fail;
    return n;
fail:
    if (err) *err = rc;
    wr_node_destroy(&n);
    return NULL;
}

void wr_node_destroy(wr_node_t **np)
{
    if (!np || !*np) return;
    wr_node_t *n = *np;
    atomic_store(&n->stopping, true);
    /* stop the top of every supervision tree; children stop before their supervisors */
    wr_actor_t **all = NULL;
    size_t k = n->reg ? s_snapshot(n, &all) : 0;
    for (size_t i = 0; i < k; i++) {
        if (!all[i]->supervisor) wr_actor_stop(all[i]);
        wr_actor_unref(&all[i]);
    }
    free(all); /* allocated even when there are no actors (a node that failed to start) */
    int64_t deadline = wr_now_ns() + (int64_t)S_STOP_WAIT_MS * 1000000;
    while (n->reg && n->nworkers && wr_node_actor_count(n) > 0 && wr_now_ns() < deadline)
        usleep(1000);
    if (n->reg && wr_node_actor_count(n) > 0)
        wr_warn("%s: %zu actors did not stop in time", n->id, wr_node_actor_count(n));
    wr_actor_unref(&n->system);
    /* The workers first: an actor that did not stop in time may be mid-turn, and finishing it
     * sends through the transport and cancels its timers. Their threads may still queue actors
     * afterwards; the queue is released below. */
    pthread_mutex_lock(&n->rq_lock);
    n->rq_stop = true;
    pthread_cond_broadcast(&n->rq_cond);
    pthread_mutex_unlock(&n->rq_lock);
    for (unsigned i = 0; i < n->nworkers; i++)
        pthread_join(n->workers[i], NULL);
    wr_transport_destroy(&n->transport, 200);
    wr__timers_destroy(&n->timers);
    wr_actor_t *a;
    while ((a = s_rq_pop_locked(n)))
        wr_actor_unref(&a);
    /* whatever did not stop in time is released here */
    for (size_t i = 0; n->reg && i < n->reg_cap; i++) {
        if (!n->reg[i]) continue;
        wr_actor_t *left = n->reg[i];
        n->reg[i] = NULL;
        wr_actor_unref(&left);
    }
    for (size_t i = 0; i < n->nwatches; i++)
        wr_actor_unref(&n->watches[i].actor);
    free(n->watches);
    free(n->reg);
    free(n->workers);
    pthread_rwlock_destroy(&n->reg_lock);
    pthread_mutex_destroy(&n->rq_lock);
    pthread_cond_destroy(&n->rq_cond);
    pthread_mutex_destroy(&n->wait_lock);
    pthread_cond_destroy(&n->wait_cond);
    pthread_mutex_destroy(&n->watch_lock);
    free(n);
    *np = NULL;
}

const char *wr_node_id(const wr_node_t *n)
{
    return n->id;
}

const char *wr_node_endpoint(const wr_node_t *n)
{
    return wr_transport_advertised(n->transport);
}

const char *wr_node_bound_endpoint(const wr_node_t *n)
{
    return wr_transport_endpoint(n->transport);
}

uint64_t wr_node_incarnation(const wr_node_t *n)
{
    return n->incarnation;
}

int64_t wr_node_heartbeat_timeout_ms(const wr_node_t *n)
{
    return n->o.heartbeat_timeout_ms;
}

int wr_node_connect(wr_node_t *n, const char *peer_id, const char *endpoint)
{
    return wr_transport_connect(n->transport, peer_id, endpoint);
}

int wr_node_link(wr_node_t *n, const char *peer_id, const char *endpoint)
{
    return wr_transport_link(n->transport, peer_id, endpoint);
}

uint64_t wr__node_next_corr(wr_node_t *n)
{
    return atomic_fetch_add(&n->next_corr, 1);
}

int wr_node_request_patient(wr_node_t *n, const char *to, uint16_t type, const void *payload,
                            size_t len, int64_t step_ms, bool (*keep_waiting)(void *ctx), void *ctx,
                            wr_msg_t **reply)
{
    *reply = NULL;
    wr__waiter_t w = {.corr = wr__node_next_corr(n)};
    char from[WR_ADDR_MAX];
    snprintf(from, sizeof from, "%s/" S_REQ_PREFIX "%llu", n->id, (unsigned long long)w.corr);
    wr_msg_t *m = wr_msg_new(type, from, to, payload, len);
    if (!m) return WR_ENOMEM;
    m->corr = w.corr;
    pthread_mutex_lock(&n->wait_lock);
    w.next = n->waiters;
    n->waiters = &w;
    pthread_mutex_unlock(&n->wait_lock);
    int rc = wr_node_send(n, &m);
    wr_msg_destroy(&m);
    pthread_mutex_lock(&n->wait_lock);
    while (rc == 0 && !w.reply) {
        int64_t deadline = wr_now_ns() + step_ms * 1000000;
        struct timespec ts = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};
        int waited = 0; /* (0: woken, maybe for another waiter's reply) */
        while (!w.reply && !waited)
            waited = pthread_cond_timedwait(&n->wait_cond, &n->wait_lock, &ts);
        if (w.reply) break;
        pthread_mutex_unlock(&n->wait_lock);
        bool more = keep_waiting && keep_waiting(ctx);
        pthread_mutex_lock(&n->wait_lock);
        if (!more && !w.reply) rc = WR_ETIMEDOUT;
    }
    for (wr__waiter_t **p = &n->waiters; *p; p = &(*p)->next)
        if (*p == &w) {
            *p = w.next;
            break;
        }
    pthread_mutex_unlock(&n->wait_lock);
    if (w.reply) {
        *reply = w.reply;
        rc = 0;
    }
    return rc;
}

int wr_node_request(wr_node_t *n, const char *to, uint16_t type, const void *payload, size_t len,
                    int64_t timeout_ms, wr_msg_t **reply)
{
    return wr_node_request_patient(n, to, type, payload, len, timeout_ms, NULL, NULL, reply);
}

void wr_node_transport_stats(wr_node_t *n, wr_transport_stats_t *out)
{
    wr_transport_stats(n->transport, out);
}

size_t wr_node_peers(wr_node_t *n, wr_peer_info_t *out, size_t cap)
{
    return wr_transport_peers(n->transport, out, cap);
}

bool wr_node_peer(wr_node_t *n, const char *id, wr_peer_info_t *out)
{
    return wr_transport_peer(n->transport, id, out);
}
