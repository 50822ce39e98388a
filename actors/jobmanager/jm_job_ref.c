/* The helpers every JobManager service shares (jm_job_ref.h). */
#include <stdio.h>

#include "actors/jobmanager/jm_job_ref.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"

void wr__verdict_set(wr__verdict_t *v, enum wr__verdict_kind kind, const char *why)
{
    v->kind = kind;
    snprintf(v->why, sizeof v->why, "%s", why ? why : "");
}

int wr__jm_send(wr_actor_t *self, const char *to, uint16_t type, uint64_t corr, uint64_t epoch,
                const void *data, size_t len)
{
    wr_msg_t *m = wr_msg_new(type, NULL, NULL, data, len);
    if (!m) return WR_ENOMEM;
    m->corr = corr;
    m->epoch = epoch;
    int rc = wr_send_msg(self, to, &m);
    wr_msg_destroy(&m);
    return rc;
}

int wr__jm_payload_job(const wr_msg_t *m, char id[WR_JOB_ID_MAX], uint32_t *n)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    *n = 0;
    if (wr_mp_read_array(&r, n) || *n == 0 || wr_mp_read_str_copy(&r, id, WR_JOB_ID_MAX))
        return WR_EPROTO;
    return 0;
}
