/* msgpack -> JSON, for `weir mailbox` peeks and `--json` output. Input is untrusted. */
#ifndef WR_JSON_H
#define WR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

/* Appends the JSON text of the msgpack objects in buf (one object -> its JSON; several -> a JSON
 * array of them; none -> null) to out. Map keys that are not strings are rendered as JSON
 * strings (their text shortened to 1 KiB); bin is a string "base64:..."; ext is
 * {"ext":type,"base64":...}; NaN/Inf become null; floats keep a ".0". Output beyond max_out
 * bytes (counted from out->len on entry; SIZE_MAX for no cap) is cut, never inside a UTF-8
 * sequence, and ends with "..." (still returns 0; input after the cut is not examined).
 * Returns 0, WR_EPROTO for malformed or too deeply nested input (out then holds whatever was
 * appended so far, within the cap), or WR_ENOMEM (out->failed is set). */
int wr_mp_to_json(const uint8_t *buf, size_t len, size_t max_out, wr_strbuf_t *out);

#endif
