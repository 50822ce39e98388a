/* The descriptor of every payload declaration of bus/messages.h, and the messages' typed API. */
#include "bus/messages.h"

#include <stdlib.h>

#include "bus/base/error.h"
#include "bus/json.h"

/* The codec reads every list member as {void *v; uint32_t n;}. */
_Static_assert(offsetof(wr_msg_place_list_t, n) == sizeof(void *), "list layout");

const wr_proto_struct_t wr_msg_none_decl = {"none", WR_PROTO_BARE, 0, sizeof(wr_msg_none_t), NULL};

/* Each descriptor is made where WR_PROTO_T names its struct (bus/proto.h). */
#define WR_PROTO_T wr_msg_place_t
WR_PROTO_DESCRIBE(place, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_blob_t
WR_PROTO_DESCRIBE(ckpt_blob, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_task_stats_t
WR_PROTO_DESCRIBE(task_stats, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_actor_row_t
WR_PROTO_DESCRIBE(actor_row, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_node_row_t
WR_PROTO_DESCRIBE(node_row, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_job_attempt_t
WR_PROTO_DESCRIBE(job_attempt, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_type_count_t
WR_PROTO_DESCRIBE(type_count, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_hist_bucket_t
WR_PROTO_DESCRIBE(hist_bucket, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_recent_msg_t
WR_PROTO_DESCRIBE(recent_msg, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_job_summary_t
WR_PROTO_DESCRIBE(job_summary, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_jm_addr_t
WR_PROTO_DESCRIBE(jm_addr, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_subtask_place_t
WR_PROTO_DESCRIBE(subtask_place, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_operator_stats_t
WR_PROTO_DESCRIBE(operator_stats, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_stat_t
WR_PROTO_DESCRIBE(ckpt_stat, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_opaque_t
WR_PROTO_DESCRIBE(opaque, BARE)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_child_failed_t
WR_PROTO_DESCRIBE(child_failed, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_child_stopped_t
WR_PROTO_DESCRIBE(child_stopped, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_error_t
WR_PROTO_DESCRIBE(error, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_heartbeat_t
WR_PROTO_DESCRIBE(heartbeat, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_peer_down_t
WR_PROTO_DESCRIBE(peer_down, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_peer_up_t
WR_PROTO_DESCRIBE(peer_up, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_wrong_node_t
WR_PROTO_DESCRIBE(wrong_node, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_tm_register_t
WR_PROTO_DESCRIBE(tm_register, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_tm_registered_t
WR_PROTO_DESCRIBE(tm_registered, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_actors_reply_t
WR_PROTO_DESCRIBE(actors_reply, BARE)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_mailbox_req_t
WR_PROTO_DESCRIBE(mailbox_req, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_mailbox_reply_t
WR_PROTO_DESCRIBE(mailbox_reply, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_data_batch_t
WR_PROTO_DESCRIBE(data_batch, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_credit_t
WR_PROTO_DESCRIBE(credit, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_channel_end_t
WR_PROTO_DESCRIBE(channel_end, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_channel_open_t
WR_PROTO_DESCRIBE(channel_open, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_watermark_t
WR_PROTO_DESCRIBE(watermark, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_barrier_t
WR_PROTO_DESCRIBE(barrier, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_job_submit_t
WR_PROTO_DESCRIBE(job_submit, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_job_ref_t
WR_PROTO_DESCRIBE(job_ref, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_jobs_reply_t
WR_PROTO_DESCRIBE(jobs_reply, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_job_reply_t
WR_PROTO_DESCRIBE(job_reply, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_task_deploy_t
WR_PROTO_DESCRIBE(task_deploy, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_task_deployed_t
WR_PROTO_DESCRIBE(task_deployed, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_task_state_t
WR_PROTO_DESCRIBE(task_state, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_trigger_t
WR_PROTO_DESCRIBE(ckpt_trigger, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_ack_t
WR_PROTO_DESCRIBE(ckpt_ack, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_decline_t
WR_PROTO_DESCRIBE(ckpt_decline, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_complete_t
WR_PROTO_DESCRIBE(ckpt_complete, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_ckpt_list_reply_t
WR_PROTO_DESCRIBE(ckpt_list_reply, MAP)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_savepoint_req_t
WR_PROTO_DESCRIBE(savepoint_req, ARRAY)
#undef WR_PROTO_T

#define WR_PROTO_T wr_msg_savepoint_done_t
WR_PROTO_DESCRIBE(savepoint_done, ARRAY)
#undef WR_PROTO_T

const wr_proto_struct_t *wr_msg_decl(int type)
{
    switch (type) {
#define S_CASE(num, name, wire, decl, doc)                                                         \
    case num:                                                                                      \
        return &wr_msg_##decl##_decl;
        WR_MSG_TYPES(S_CASE)
#undef S_CASE
    default:
        return NULL;
    }
}

int wr__msg_unpack(const wr_msg_t *m, const wr_proto_struct_t *d, void *p)
{
    if (wr_msg_decl(m->type) != d) {
        memset(p, 0, d->size);
        return WR_ETYPE;
    }
    return wr_proto_decode(d, m->data, m->len, p);
}

wr_msg_t *wr__msg_new(uint16_t type, const char *from, const char *to, const wr_proto_struct_t *d,
                      const void *p)
{
    if (wr_msg_decl(type) != d) return NULL; /* our bug: a payload of another type */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_msg_t *m = NULL;
    if (wr_proto_pack(d, p, &sb) == 0) m = wr_msg_new(type, from, to, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return m;
}

int wr_msg_payload_json(int type, const uint8_t *buf, size_t len, size_t max_out, wr_strbuf_t *out)
{
    const wr_proto_struct_t *d = wr_msg_decl(type);
    void *p = d ? malloc(d->size) : NULL;
    msgpack_sbuffer named;
    msgpack_sbuffer_init(&named);
    int rc = WR_EPROTO;
    if (p && wr_proto_decode(d, buf, len, p) == 0) {
        if (wr_proto_pack_named(d, p, &named) == 0) rc = 0;
        wr_proto_release(d, p);
    }
    if (rc == 0)
        rc = wr_mp_to_json(named.size ? (const uint8_t *)named.data : (const uint8_t *)"",
                           named.size, max_out, out);
    else
        rc = wr_mp_to_json(buf, len, max_out, out);
    msgpack_sbuffer_destroy(&named);
    free(p);
    return rc;
}
