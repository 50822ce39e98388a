/* The helpers every JobManager service shares (jm_job_ref.h). */
#include <stdio.h>

#include "actors/jobmanager/jm_job_ref.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

void wr__verdict_set(wr__verdict_t *v, enum wr__verdict_kind kind, const char *why)
{
    v->kind = kind;
    snprintf(v->why, sizeof v->why, "%s", why ? why : "");
}

int wr__jm_send(wr_actor_t *self, const char *to, uint16_t type, uint64_t corr, uint64_t epoch,
                const wr_proto_struct_t *d, const void *p)
{
    wr_msg_t *m = wr__msg_new(type, NULL, NULL, d, p);
    if (!m) return WR_ENOMEM;
    m->corr = corr;
    m->epoch = epoch;
    int rc = wr_send_msg(self, to, &m);
    wr_msg_destroy(&m);
    return rc;
}

void wr__jm_reply(wr_actor_t *self, const wr_msg_t *m, uint16_t type, const wr_proto_struct_t *d,
                  const void *p)
{
    int rc = wr__jm_send(self, m->from, type, m->corr, 0, d, p);
    if (rc)
        wr_warn("jobmanager: cannot answer %s with %s: %s", m->from, wr_msg_type_label(type),
                wr_strerror(rc));
}
