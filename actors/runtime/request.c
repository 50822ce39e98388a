/* A typed request from outside the actor system (request.h). */
#include "actors/runtime/request.h"

#include "bus/base/error.h"
#include "bus/messages.h"

int wr_node_request_typed(wr_node_t *node, const char *to, int64_t step_ms,
                          bool (*keep_waiting)(void *ctx), void *ctx, uint16_t type,
                          const void *req, uint16_t reply_type, void *reply, wr_msg_t **answer)
{
    *answer = NULL;
    const wr_proto_struct_t *d = wr_msg_decl(type), *rd = wr_msg_decl(reply_type);
    if (!d || !rd) return WR_ETYPE;
    if (!req && d != &wr_msg_none_decl) return WR_EINVAL; /* the type has a payload */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_msg_none_t none;
    int rc = wr_proto_pack(d, req ? req : &none, &sb);
    if (!rc)
        rc = wr_node_request_patient(node, to, type, sb.data, sb.size, step_ms, keep_waiting, ctx,
                                     answer);
    msgpack_sbuffer_destroy(&sb);
    if (rc) return rc;
    if ((*answer)->type != reply_type) return WR_EPROTO;
    if (reply && wr_proto_decode(rd, (*answer)->data, (*answer)->len, reply)) {
        wr_msg_destroy(answer);
        return WR_EPROTO;
    }
    return 0;
}
