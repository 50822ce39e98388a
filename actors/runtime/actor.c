#include "actors/runtime/node_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"

static bool s_path_valid(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n >= WR_PATH_MAX || p[0] == '/') return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '/' || c == '-'))
            return false;
    }
    return true;
}

static void s_free(wr_actor_t *a)
{
    if (a->behaviour && a->behaviour->free_state && a->state) a->behaviour->free_state(a->state);
    wr_mailbox_destroy(&a->mailbox);
    wr_actor_unref(&a->supervisor);
    for (size_t i = 0; i < a->nchildren; i++)
        wr_actor_unref(&a->children[i]);
    free(a->children);
    free(a->asks);
    free(a->restart_times_ns);
    pthread_mutex_destroy(&a->children_lock);
    free(a);
}

wr_actor_t *wr_actor_ref(wr_actor_t *a)
{
    if (a) atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    return a;
}

void wr_actor_unref(wr_actor_t **ap)
{
    if (!ap || !*ap) return;
    wr_actor_t *a = *ap;
    *ap = NULL;
    if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1) s_free(a);
}

static int s_children_add(wr_actor_t *parent, wr_actor_t *child)
{
    int rc = 0;
    pthread_mutex_lock(&parent->children_lock);
    if (parent->nchildren == parent->children_cap) {
        size_t ncap = parent->children_cap ? parent->children_cap * 2 : 4;
        wr_actor_t **c = realloc(parent->children, ncap * sizeof *c);
        if (!c)
            rc = WR_ENOMEM;
        else {
            parent->children = c;
            parent->children_cap = ncap;
        }
    }
    if (!rc) parent->children[parent->nchildren++] = wr_actor_ref(child);
    pthread_mutex_unlock(&parent->children_lock);
    return rc;
}

static size_t s_children_remove(wr_actor_t *parent, const char *addr)
{
    wr_actor_t *gone = NULL;
    pthread_mutex_lock(&parent->children_lock);
    for (size_t i = 0; i < parent->nchildren; i++) {
        if (!strcmp(parent->children[i]->addr, addr)) {
            gone = parent->children[i];
            parent->children[i] = parent->children[--parent->nchildren];
            break;
        }
    }
    size_t left = parent->nchildren;
    pthread_mutex_unlock(&parent->children_lock);
    wr_actor_unref(&gone);
    return left;
}

int wr_actor_spawn(wr_node_t *node, const wr_spawn_opts_t *o, wr_actor_t **ref)
{
    int rc = WR_EINVAL;
    if (ref) *ref = NULL;
    wr_actor_t *a = calloc(1, sizeof *a);
    if (!a) {
        if (o->behaviour && o->behaviour->free_state && o->state)
            o->behaviour->free_state(o->state);
        return WR_ENOMEM;
    }
    pthread_mutex_init(&a->children_lock, NULL);
    atomic_init(&a->refs, 1);
    a->node = node;
    a->behaviour = o->behaviour;
    a->state = o->state;
    if (!o->behaviour || !o->behaviour->on_message || !s_path_valid(o->path)) goto fail;
    snprintf(a->path, sizeof a->path, "%s", o->path);
    if (snprintf(a->addr, sizeof a->addr, "%s/%s", wr_node_id(node), o->path) >= WR_ADDR_MAX)
        goto fail;
    a->restart = o->restart;
    a->max_restarts = o->max_restarts ? o->max_restarts : 3;
    a->restart_window_ms = o->restart_window_ms ? o->restart_window_ms : 60000;
    rc = WR_ENOMEM;
    a->mailbox =
        wr_mailbox_new(o->mailbox_capacity ? o->mailbox_capacity : node->o.mailbox_capacity);
    a->restart_times_ns = calloc(a->max_restarts, sizeof *a->restart_times_ns);
    if (!a->mailbox || !a->restart_times_ns) goto fail;
    a->supervisor = wr_actor_ref(o->supervisor);
    a->status = WR__STARTING;
    if ((rc = wr__node_register(node, a))) goto fail;
    if (a->supervisor && (rc = s_children_add(a->supervisor, a))) {
        wr__node_unregister(node, a);
        goto fail;
    }
    if (ref) *ref = wr_actor_ref(a);
    wr__actor_schedule(a); /* its first turn runs on_start */
    wr_actor_unref(&a);
    return 0;
fail:
    wr_actor_unref(&a);
    return rc;
}

/* ---- sending ---- */

static int s_send(wr_actor_t *self, const char *to, uint16_t type, uint64_t corr,
                  const void *payload, size_t len)
{
    wr_msg_t *m = wr_msg_new(type, self->addr, to, payload, len);
    if (!m) return to && strlen(to) >= WR_ADDR_MAX ? WR_EINVAL : WR_ENOMEM;
    m->corr = corr;
    int rc = wr_node_send(self->node, &m);
    wr_msg_destroy(&m);
    return rc;
}

int wr_send_msg(wr_actor_t *self, const char *to, wr_msg_t **msg)
{
    size_t tlen = to ? strlen(to) : 0;
    if (!tlen || tlen >= WR_ADDR_MAX) return WR_EINVAL;
    wr_msg_t *m = *msg;
    memcpy(m->from, self->addr, sizeof m->from);
    memcpy(m->to, to, tlen + 1);
    return wr_node_send(self->node, msg);
}

int wr_send(wr_actor_t *self, const char *to, uint16_t type, const void *payload, size_t len)
{
    return s_send(self, to, type, 0, payload, len);
}

int wr_send_corr(wr_actor_t *self, const char *to, uint16_t type, uint64_t corr,
                 const void *payload, size_t len)
{
    return s_send(self, to, type, corr, payload, len);
}

int wr_reply(wr_actor_t *self, const wr_msg_t *req, uint16_t type, const void *payload, size_t len)
{
    return s_send(self, req->from, type, req->corr, payload, len);
}

int wr_reply_error(wr_actor_t *self, const wr_msg_t *req, int code, const char *text)
{
    wr__reply_error(self->node, req, code, text);
    return 0;
}

int wr_ask(wr_actor_t *self, const char *to, uint16_t type, const void *payload, size_t len,
           int64_t timeout_ms, uint64_t *corr)
{
    if (self->nasks == self->asks_cap) {
        size_t ncap = self->asks_cap ? self->asks_cap * 2 : 8;
        wr__pending_ask_t *p = realloc(self->asks, ncap * sizeof *p);
        if (!p) return WR_ENOMEM;
        self->asks = p;
        self->asks_cap = ncap;
    }
    uint64_t c = wr__node_next_corr(self->node);
    int rc = s_send(self, to, type, c, payload, len);
    if (rc) return rc;
    uint64_t tid = wr__timers_add(self->node->timers, self, timeout_ms, 0, WR_MSG_TIMEOUT, c);
    self->asks[self->nasks++] = (wr__pending_ask_t){.corr = c, .timer_id = tid};
    if (corr) *corr = c;
    return 0;
}

int wr_timer_after(wr_actor_t *self, int64_t ms, uint16_t type, uint64_t *id)
{
    uint64_t t = wr__timers_add(self->node->timers, self, ms, 0, type, 0);
    if (id) *id = t;
    return t ? 0 : WR_ENOMEM;
}

int wr_timer_every(wr_actor_t *self, int64_t ms, uint16_t type, uint64_t *id)
{
    if (ms <= 0) return WR_EINVAL;
    uint64_t t = wr__timers_add(self->node->timers, self, ms, ms, type, 0);
    if (id) *id = t;
    return t ? 0 : WR_ENOMEM;
}

void wr_timer_cancel(wr_actor_t *self, uint64_t id)
{
    wr__timers_cancel(self->node->timers, id);
    /* a tick the timer thread queued before the cancel is dropped when it comes up */
    if (id) self->cancelled[self->cancelled_next++ % WR__CANCELLED_RING] = id;
}

int wr_actor_stop(wr_actor_t *a)
{
    wr_msg_t *m = wr_msg_new(WR_MSG_STOP, a->addr, a->addr, NULL, 0);
    if (!m) return WR_ENOMEM;
    int rc;
    /* a stop must get through: wait for room rather than fail */
    for (int tries = 0; (rc = wr_mailbox_push(a->mailbox, &m)) == WR_EAGAIN && tries < 5000;
         tries++) {
        struct timespec ts = {0, 1000000};
        if (!wr__node_help(a->node)) nanosleep(&ts, NULL);
    }
    if (rc == 0) wr__actor_schedule(a);
    wr_msg_destroy(&m);
    return rc == WR_ECLOSED ? 0 : rc;
}

const char *wr_actor_addr(const wr_actor_t *a)
{
    return a->addr;
}

const char *wr_actor_path(const wr_actor_t *a)
{
    return a->path;
}

wr_node_t *wr_actor_node(const wr_actor_t *a)
{
    return a->node;
}

const wr_mailbox_t *wr_actor_mailbox(const wr_actor_t *a)
{
    return a->mailbox;
}

/* ---- supervision ---- */

static void s_tell_supervisor(wr_actor_t *a, uint16_t type, int err, const char *reason,
                              bool restarted)
{
    if (!a->supervisor) {
        if (type == WR_MSG_CHILD_FAILED)
            wr_error("actor %s failed: %s (%s)%s", a->addr, reason, wr_strerror(err),
                     restarted ? "; restarted" : "; stopped");
        return;
    }
    wr_msg_t *m;
    if (type == WR_MSG_CHILD_FAILED) {
        wr_msg_child_failed_t f = {.code = err, .reason = wr_strv(reason), .restarted = restarted};
        memcpy(f.child, a->addr, sizeof f.child);
        m = wr_msg_child_failed_new(type, a->addr, a->supervisor->addr, &f);
    } else {
        wr_msg_child_stopped_t f;
        memcpy(f.child, a->addr, sizeof f.child);
        m = wr_msg_child_stopped_new(type, a->addr, a->supervisor->addr, &f);
    }
    if (!m) return;
    int rc;
    /* supervision messages must arrive; a supervisor's full mailbox only delays them (and on a
     * worker, the wait runs queued turns: the supervisor's may need this very thread) */
    while ((rc = wr_mailbox_push(a->supervisor->mailbox, &m)) == WR_EAGAIN) {
        struct timespec ts = {0, 1000000};
        if (!wr__node_help(a->node)) nanosleep(&ts, NULL);
    }
    if (rc == 0) wr__actor_schedule(a->supervisor);
    wr_msg_destroy(&m);
}

static void s_call_on_stop(wr_actor_t *a)
{
    if (a->started && a->behaviour->on_stop) a->behaviour->on_stop(a, a->state);
    a->started = false;
}

/* Final step of stopping: no children left. */
static void s_finish_stop(wr_actor_t *a)
{
    s_call_on_stop(a);
    a->status = WR__STOPPED;
    wr_mailbox_close(a->mailbox);
    wr__timers_cancel_actor(a->node->timers, a);
    wr__node_unwatch_all(a->node, a);
    wr__node_unregister(a->node, a);
    wr_msg_t *m;
    while ((m = wr_mailbox_pop(a->mailbox)))
        wr_msg_destroy(&m);
    s_tell_supervisor(a, WR_MSG_CHILD_STOPPED, 0, "", false);
    /* gone for good: its state goes now, with the references it holds (a state holding its
     * children's, which hold their supervisor, would otherwise keep them all alive) */
    if (a->behaviour->free_state && a->state) a->behaviour->free_state(a->state);
    a->state = NULL;
}

/* Stops the children first; the actor finishes stopping when the last one reports. */
static void s_begin_stop(wr_actor_t *a)
{
    if (a->status == WR__STOPPING || a->status == WR__STOPPED) return;
    pthread_mutex_lock(&a->children_lock);
    size_t n = a->nchildren;
    wr_actor_t **kids = n ? malloc(n * sizeof *kids) : NULL;
    for (size_t i = 0; kids && i < n; i++)
        kids[i] = wr_actor_ref(a->children[i]);
    pthread_mutex_unlock(&a->children_lock);
    if (n == 0) {
        s_finish_stop(a);
        return;
    }
    a->status = WR__STOPPING;
    for (size_t i = 0; kids && i < n; i++) {
        wr_actor_stop(kids[i]);
        wr_actor_unref(&kids[i]);
    }
    free(kids);
}

/* Handles a failure (negative rc from on_start or on_message). */
static void s_fail(wr_actor_t *a, int err, const char *reason)
{
    int64_t now = wr_now_ns();
    bool restart = false;
    if (a->restart == WR_RESTART_TRANSIENT) {
        uint32_t recent = 0, oldest = 0;
        for (uint32_t i = 0; i < a->max_restarts; i++) {
            if (a->restart_times_ns[i] &&
                now - a->restart_times_ns[i] < a->restart_window_ms * 1000000)
                recent++;
            if (a->restart_times_ns[i] < a->restart_times_ns[oldest]) oldest = i;
        }
        if (recent < a->max_restarts) {
            restart = true;
            a->restart_times_ns[oldest] = now;
        }
    }
    if (restart) {
        s_call_on_stop(a);
        atomic_fetch_add(&a->restarts, 1);
        a->status = WR__STARTING; /* on_start runs again at the next turn */
        s_tell_supervisor(a, WR_MSG_CHILD_FAILED, err, reason, true);
        return;
    }
    s_tell_supervisor(a, WR_MSG_CHILD_FAILED, err, reason, false);
    s_begin_stop(a);
}

/* Ask and timer bookkeeping: returns false when the message must be dropped (a late reply, a
 * timeout for an ask already answered, or a tick of a timer cancelled since it was queued). */
static bool s_filter_ask(wr_actor_t *a, const wr_msg_t *m)
{
    if (!m->corr) return true;
    if (m->type != WR_MSG_TIMEOUT && !strcmp(m->from, a->addr))
        for (size_t i = 0; i < WR__CANCELLED_RING; i++)
            if (a->cancelled[i] == m->corr) return false;
    for (size_t i = 0; i < a->nasks; i++) {
        if (a->asks[i].corr != m->corr) continue;
        if (m->type == WR_MSG_TIMEOUT)
            a->timed_out[a->timed_out_next++ % WR__TIMED_OUT_RING] = m->corr;
        else
            wr__timers_cancel(a->node->timers, a->asks[i].timer_id);
        a->asks[i] = a->asks[--a->nasks];
        return true;
    }
    if (m->type == WR_MSG_TIMEOUT) return false; /* answered already */
    for (size_t i = 0; i < WR__TIMED_OUT_RING; i++)
        if (a->timed_out[i] == m->corr) return false; /* the reply came after its timeout */
    return true;
}

void wr__actor_run_turn(wr_actor_t *a)
{
    if (a->status == WR__STARTING) {
        a->status = WR__RUNNING;
        int rc = a->behaviour->on_start ? a->behaviour->on_start(a, a->state) : 0;
        if (rc < 0)
            s_fail(a, rc, "on_start failed"); /* on_stop is not owed: it never started */
        else
            a->started = true;
    }
    uint32_t budget = a->node->o.turn_budget;
    for (uint32_t i = 0; i < budget && (a->status == WR__RUNNING || a->status == WR__STOPPING);
         i++) {
        wr_msg_t *m = wr_mailbox_pop(a->mailbox);
        if (!m) break;
        int64_t t0 = wr_now_ns();
        uint16_t type = m->type;
        if (type == WR_MSG_STOP && !strcmp(m->from, a->addr)) {
            s_begin_stop(a);
        } else if (type == WR_MSG_CHILD_STOPPED && a->status == WR__STOPPING) {
            if (s_children_remove(a, m->from) == 0) s_finish_stop(a);
        } else if (a->status == WR__STOPPING) {
            /* a stopping actor handles nothing else */
        } else {
            if (type == WR_MSG_CHILD_STOPPED) s_children_remove(a, m->from);
            if (s_filter_ask(a, m)) {
                int rc = a->behaviour->on_message(a, a->state, &m);
                if (rc < 0) s_fail(a, rc, wr_msg_type_label(type));
            }
        }
        wr_msg_destroy(&m);
        wr_mailbox_account(a->mailbox, type, wr_now_ns() - t0);
    }
    /* the status is read before the actor is released: once `scheduled` is false another worker
     * may start its next turn and change it */
    enum wr__actor_status status = a->status;
    atomic_store(&a->scheduled, false);
    if (status == WR__STOPPED) return;
    if (status == WR__STARTING || wr_mailbox_depth(a->mailbox) > 0) wr__actor_schedule(a);
}
