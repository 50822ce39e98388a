/* What an InfluxDB says when it refuses a write: a JSON object with the reason, {"error":"..."}
 * from 1.x ("database not found: \"x\"", "partial write: field type conflict: ..."), {"code":
 * "...","message":"..."} from 2.x. The body is untrusted input (it is fuzzed). */
#ifndef WR_INFLUX_REPLY_H
#define WR_INFLUX_REPLY_H

#include <stddef.h>

#include "bus/base/strbuf.h"

#define WR_INFLUX_REPLY_MAX   (64u << 10) /* the most of a reply body the sink reads */
#define WR_INFLUX_MESSAGE_MAX 300         /* the most of a message it keeps (bytes) */

/* Appends the reason in body[0, len) to msg: the "error" string (1.x) or the "message" string
 * (2.x; when both, "error"), at most WR_INFLUX_MESSAGE_MAX bytes of it, control characters
 * replaced by spaces. 0; WR_EPROTO when the body is not one strict JSON object with such a
 * string (msg unchanged then); WR_ENOMEM. */
int wr_influx_reply_error(const char *body, size_t len, wr_strbuf_t *msg);

#endif
