/* The subtask's message queues (see wr__msgq_t in task_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "actors/taskmanager/task_internal.h"
#include "bus/base/error.h"

static int s_room(wr__msgq_t *q, size_t more)
{
    if (q->head && q->n + more > q->cap) { /* slide the waiting ones to the front first */
        memmove(q->m, q->m + q->head, (q->n - q->head) * sizeof *q->m);
        q->n -= q->head;
        q->head = 0;
    }
    if (q->n + more <= q->cap) return 0;
    size_t cap = q->cap ? q->cap : 64;
    while (cap < q->n + more)
        cap *= 2;
    wr_msg_t **p = realloc(q->m, cap * sizeof *p);
    if (!p) return WR_ENOMEM;
    q->m = p;
    q->cap = cap;
    return 0;
}

int wr__msgq_push(wr__msgq_t *q, wr_msg_t **msgp)
{
    int rc = s_room(q, 1);
    if (rc) return rc;
    q->m[q->n++] = *msgp;
    *msgp = NULL;
    return 0;
}

wr_msg_t *wr__msgq_pop(wr__msgq_t *q)
{
    if (q->head == q->n) return NULL;
    wr_msg_t *m = q->m[q->head];
    q->m[q->head++] = NULL;
    if (q->head == q->n) q->head = q->n = 0;
    return m;
}

bool wr__msgq_empty(const wr__msgq_t *q)
{
    return q->head == q->n;
}

int wr__msgq_prepend(wr__msgq_t *q, wr__msgq_t *front)
{
    size_t k = front->n - front->head;
    if (!k) return 0;
    int rc = s_room(q, k);
    if (rc) return rc;
    memmove(q->m + q->head + k, q->m + q->head, (q->n - q->head) * sizeof *q->m);
    memcpy(q->m + q->head, front->m + front->head, k * sizeof *q->m);
    q->n += k;
    front->head = front->n = 0;
    return 0;
}

void wr__msgq_release(wr__msgq_t *q)
{
    for (size_t i = q->head; i < q->n; i++)
        wr_msg_destroy(&q->m[i]);
    free(q->m);
    memset(q, 0, sizeof *q);
}
