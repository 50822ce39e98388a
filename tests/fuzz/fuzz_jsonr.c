/* libFuzzer target: the strict JSON reader on raw, untrusted bytes. A generic walk (every string
 * unescaped, every number read) and wr_jsonr_skip must agree on what is well-formed; what the walk
 * accepts, written out again as canonical JSON, must read back to the same canonical text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/jsonr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads one value and writes it to out canonically (no whitespace, strings re-escaped, numbers
 * as %.17g). */
static void s_walk(wr_jsonr_t *r, wr_strbuf_t *out)
{
    bool b;
    double d;
    wr_strbuf_t s;
    switch (wr_jsonr_peek(r)) {
    case WR_JSONR_NULL:
        if (wr_jsonr_read_null(r) == 0) wr_strbuf_adds(out, "null");
        break;
    case WR_JSONR_BOOL:
        if (wr_jsonr_read_bool(r, &b) == 0) wr_strbuf_adds(out, b ? "true" : "false");
        break;
    case WR_JSONR_NUM:
        if (wr_jsonr_read_double(r, &d) == 0) wr_strbuf_addf(out, "%.17g", d);
        break;
    case WR_JSONR_STR:
        wr_strbuf_init(&s);
        if (wr_jsonr_read_str(r, &s) == 0) wr_strbuf_add_json_str(out, s.buf, s.len);
        wr_strbuf_release(&s);
        break;
    case WR_JSONR_ARR:
        wr_jsonr_arr_begin(r);
        wr_strbuf_addc(out, '[');
        for (int i = 0; wr_jsonr_arr_next(r); i++) {
            if (i) wr_strbuf_addc(out, ',');
            s_walk(r, out);
        }
        wr_strbuf_addc(out, ']');
        break;
    case WR_JSONR_OBJ:
        wr_jsonr_obj_begin(r);
        wr_strbuf_addc(out, '{');
        for (int i = 0; wr_jsonr_obj_next(r); i++) {
            if (i) wr_strbuf_addc(out, ',');
            wr_strbuf_add_json_str(out, r->key, strlen(r->key));
            wr_strbuf_addc(out, ':');
            s_walk(r, out);
        }
        wr_strbuf_addc(out, '}');
        break;
    default:
        r->err = r->err ? r->err : WR_EPROTO;
        break;
    }
}

static int s_canonical(const void *data, size_t size, wr_strbuf_t *out)
{
    wr_jsonr_t r;
    wr_jsonr_init(&r, data, size);
    s_walk(&r, out);
    return wr_jsonr_end(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_jsonr_t r;
    wr_jsonr_init(&r, data, size);
    wr_jsonr_skip(&r);
    int skipped = wr_jsonr_end(&r);
    if (skipped != 0 && skipped != WR_EPROTO) abort();

    wr_strbuf_t once, twice;
    wr_strbuf_init(&once);
    wr_strbuf_init(&twice);
    int walked = s_canonical(data, size, &once);
    /* the walk fails where skip fails, and also where a number is out of double's range */
    if ((walked == 0 && skipped != 0) || (walked != 0 && walked != WR_EPROTO)) abort();
    if (walked == 0) {
        if (s_canonical(once.buf, once.len, &twice) != 0) abort();
        if (twice.len != once.len || memcmp(twice.buf, once.buf, once.len) != 0) abort();
    }
    wr_strbuf_release(&once);
    wr_strbuf_release(&twice);

    /* the integer reader on the same bytes: a number or a string, never a crash */
    int64_t v;
    wr_jsonr_init(&r, data, size);
    int rc = wr_jsonr_read_int(&r, &v);
    if (rc != 0 && rc != WR_EPROTO) abort();
    return 0;
}
