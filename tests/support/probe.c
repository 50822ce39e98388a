#include "tests/support/probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"

wr_node_t *tp_node(const char *id, unsigned threads, uint32_t turn_budget)
{
    wr_node_opts_t o = {.id = id, .threads = threads, .turn_budget = turn_budget};
    int err = 0;
    wr_node_t *n = wr_node_new(&o, &err);
    assert_non_null(n);
    assert_int_equal(err, 0);
    return n;
}

void tp_tell(wr_node_t *n, const char *to, uint16_t type, const void *payload, size_t len)
{
    wr_msg_t *m = wr_msg_new(type, "n1/test", to, payload, len);
    assert_non_null(m);
    assert_int_equal(wr_node_send(n, &m), 0);
    assert_null(m);
}

void tp_spawn(wr_node_t *n, const char *path, const wr_behaviour_t *b, void *state)
{
    wr_spawn_opts_t o = {.path = path, .behaviour = b, .state = state};
    assert_int_equal(wr_actor_spawn(n, &o, NULL), 0);
}

/* ---- the probe ---- */

void tp_probe_init(tp_probe_t *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
}

void tp_probe_release(tp_probe_t *p)
{
    for (int i = 0; i < p->nlog; i++)
        wr_msg_destroy(&p->log[i]);
    wr_msg_destroy(&p->kept);
    pthread_mutex_destroy(&p->lock);
}

int tp_probe_count(tp_probe_t *p, uint16_t type)
{
    int c = 0;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nlog; i++)
        c += p->log[i]->type == type;
    pthread_mutex_unlock(&p->lock);
    return c;
}

const wr_msg_t *tp_probe_nth(tp_probe_t *p, uint16_t type, int k)
{
    const wr_msg_t *found = NULL;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nlog && !found; i++)
        if (p->log[i]->type == type && k-- == 0) found = p->log[i];
    pthread_mutex_unlock(&p->lock);
    return found;
}

static int s_probe_start(wr_actor_t *self, void *state)
{
    (void)self;
    tp_probe_t *p = state;
    atomic_fetch_add(&p->starts, 1);
    return p->fail_start ? WR_EIO : 0;
}

static int s_probe_message(wr_actor_t *self, void *state, wr_msg_t **msg)
{
    tp_probe_t *p = state;
    wr_msg_t *m = *msg;
    int rc = 0;
    if (p->watch && atomic_load(&p->handled) == 0)
        atomic_store(&p->seen, atomic_load(&p->watch->handled));
    if (p->block_first && !atomic_exchange(&p->entered, 1))
        while (!atomic_load(&p->gate))
            wr_test_sleep_ms(1);
    switch (m->type) {
    case TP_FAIL:
        rc = WR_EIO;
        break;
    case TP_ASK:
        p->ask_rc = wr_ask(self, p->target, p->ask_type ? p->ask_type : TP_QUESTION, "q?", 2,
                           p->ask_ms, &p->ask_corr);
        break;
    case WR_MSG_TIMEOUT:
        atomic_fetch_add(&p->timeouts, 1);
        break;
    case TP_QUESTION: /* the answer to TP_ASK */
        atomic_fetch_add(&p->replies, 1);
        break;
    case TP_RELEASE:
        if (p->kept && wr_reply(self, p->kept, TP_QUESTION, "late", 4) == 0)
            atomic_fetch_add(&p->late_replied, 1);
        wr_msg_destroy(&p->kept);
        break;
    default:
        break;
    }
    pthread_mutex_lock(&p->lock);
    if (m->type == TP_KEEP) {
        wr_msg_destroy(&p->kept);
        p->kept = wr_msg_new(m->type, m->from, m->to, m->data, m->len);
        p->kept->corr = m->corr;
    }
    if (p->nlog < TP_LOG_MAX) {
        p->log[p->nlog++] = m;
        *msg = NULL; /* the probe keeps it */
    }
    pthread_mutex_unlock(&p->lock);
    atomic_fetch_add(&p->handled, 1);
    return rc;
}

static void s_probe_stop(wr_actor_t *self, void *state)
{
    tp_probe_t *p = state;
    if (p->order) {
        pthread_mutex_lock(&p->order->lock);
        snprintf(p->order->paths[p->order->n++], WR_PATH_MAX, "%s", wr_actor_path(self));
        pthread_mutex_unlock(&p->order->lock);
    }
    atomic_fetch_add(&p->stops, 1);
}

static void s_probe_done(void *state)
{
    tp_probe_t *p = state;
    atomic_store(&p->done, 1);
}

const wr_behaviour_t tp_probe = {.on_start = s_probe_start,
                                 .on_message = s_probe_message,
                                 .on_stop = s_probe_stop,
                                 .free_state = s_probe_done};

wr_actor_t *tp_spawn_probe(wr_node_t *n, const char *path, tp_probe_t *p, wr_actor_t *sup)
{
    wr_spawn_opts_t o = {.path = path, .behaviour = &tp_probe, .state = p, .supervisor = sup};
    wr_actor_t *ref = NULL;
    assert_int_equal(wr_actor_spawn(n, &o, &ref), 0);
    assert_non_null(ref);
    return ref;
}
