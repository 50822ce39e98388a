#include "bus/outq.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bus/base/error.h"
#include "bus/frame_tsan.h"

struct wr__outq_acct {
    _Atomic uint64_t bytes; /* in frames ZeroMQ holds */
    _Atomic uint32_t refs;  /* the table's, and one per such frame */
    char id[WR_NODE_MAX];
    /* the connection last heard on (I/O thread) */
    int fd; /* -1: none */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int64_t heard_ns;
};

struct wr__outq {
    wr__outq_acct_t **v;
    size_t n, cap;
};

/* A frame's storage: its account and size, then the bytes ZeroMQ sends. */
typedef struct {
    wr__outq_acct_t *acct;
    size_t len;
    _Alignas(max_align_t) unsigned char data[];
} s_frame_t;

static void s_unref(wr__outq_acct_t *a)
{
    if (atomic_fetch_sub(&a->refs, 1) == 1) free(a);
}

wr__outq_t *wr__outq_new(void)
{
    return calloc(1, sizeof(wr__outq_t));
}

void wr__outq_destroy(wr__outq_t **qp)
{
    if (!qp || !*qp) return;
    wr__outq_t *q = *qp;
    for (size_t i = 0; i < q->n; i++)
        s_unref(q->v[i]);
    free(q->v);
    free(q);
    *qp = NULL;
}

wr__outq_acct_t *wr__outq_get(wr__outq_t *q, const char *id)
{
    for (size_t i = 0; i < q->n; i++)
        if (!strcmp(q->v[i]->id, id)) return q->v[i];
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        wr__outq_acct_t **grown = realloc(q->v, ncap * sizeof *grown);
        if (!grown) return NULL;
        q->v = grown;
        q->cap = ncap;
    }
    wr__outq_acct_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    atomic_init(&a->refs, 1);
    atomic_init(&a->bytes, 0);
    snprintf(a->id, sizeof a->id, "%s", id);
    a->fd = -1;
    q->v[q->n++] = a;
    return a;
}

void wr__outq_sweep(wr__outq_t *q, int64_t now_ns, int64_t idle_ns)
{
    size_t k = 0;
    for (size_t i = 0; i < q->n; i++) {
        wr__outq_acct_t *a = q->v[i];
        if (!atomic_load(&a->bytes) && now_ns - a->heard_ns > idle_ns)
            s_unref(a);
        else
            q->v[k++] = a;
    }
    q->n = k;
}

/* ZeroMQ is done with a frame (any thread). */
static void s_frame_free(void *data, void *hint)
{
    s_frame_t *f = hint;
    (void)data;
    WR_FRAME_RECEIVED(f);
    atomic_fetch_sub(&f->acct->bytes, f->len);
    s_unref(f->acct);
    free(f);
}

int wr__outq_frame(wr__outq_acct_t *a, zmq_msg_t *frame, const void *head, size_t hlen,
                   const void *body, size_t blen)
{
    size_t len = hlen + blen;
    s_frame_t *f = malloc(sizeof *f + len);
    if (!f) return WR_ENOMEM;
    memcpy(f->data, head, hlen);
    if (blen) memcpy(f->data + hlen, body, blen);
    f->acct = a;
    f->len = len;
    atomic_fetch_add(&a->refs, 1);
    atomic_fetch_add(&a->bytes, len);
    WR_FRAME_SENT(f);
    if (zmq_msg_init_data(frame, f->data, len, s_frame_free, f)) {
        s_frame_free(f->data, f);
        return WR_ENOMEM;
    }
    return 0;
}

uint64_t wr__outq_bytes(const wr__outq_acct_t *a)
{
    return atomic_load(&a->bytes);
}

void wr__outq_heard(wr__outq_acct_t *a, zmq_msg_t *body, int64_t now_ns)
{
    a->heard_ns = now_ns;
    int fd = zmq_msg_get(body, ZMQ_SRCFD);
    if (fd < 0 || fd == a->fd) return;
    a->addrlen = sizeof a->addr;
    if (getpeername(fd, (struct sockaddr *)&a->addr, &a->addrlen)) {
        a->fd = -1; /* not a socket with a peer (inproc): nothing to cut */
        return;
    }
    a->fd = fd;
}

int wr__outq_cut(wr__outq_acct_t *a)
{
    if (a->fd < 0) return WR_ENOTFOUND;
    struct sockaddr_storage now;
    socklen_t len = sizeof now;
    /* the descriptor may have been closed and reused for another connection since */
    bool same = !getpeername(a->fd, (struct sockaddr *)&now, &len) && len == a->addrlen &&
                !memcmp(&now, &a->addr, len);
    int fd = a->fd;
    a->fd = -1;
    if (!same || shutdown(fd, SHUT_RDWR)) return WR_ENOTFOUND;
    return 0;
}
