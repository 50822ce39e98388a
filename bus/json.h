/* msgpack -> JSON, for `weir mailbox` peeks and `--json` output. Input is untrusted. */
#ifndef WR_JSON_H
#define WR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "bus/strbuf.h"

/* Appends the JSON text of the msgpack objects in buf (one object -> its JSON; several -> a JSON
 * array of them) to out. Map keys that are not strings are rendered as JSON strings; bin is a
 * string "base64:..."; ext is {"ext":type,"base64":...}; NaN/Inf become null. Output beyond
 * max_out bytes is cut and ends with "..." (still returns 0). Returns 0, or WR_EPROTO for
 * malformed or too deeply nested input (out then holds whatever was appended so far). */
int wr_mp_to_json(const uint8_t *buf, size_t len, size_t max_out, wr_strbuf_t *out);

#endif
