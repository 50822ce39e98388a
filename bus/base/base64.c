/* base64 encode and strict decode (base64.h). */
#include "bus/base/base64.h"

#include <stdint.h>

#include "bus/base/error.h"

static const char s_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void wr_base64_encode(wr_strbuf_t *sb, const void *p, size_t len)
{
    size_t out_len = (len + 2) / 3 * 4;
    if (len == 0) return;
    if (len > (SIZE_MAX - 3) / 4 * 3 || !wr_strbuf_grow(sb, out_len)) {
        sb->failed = true;
        return;
    }
    const uint8_t *in = p;
    char *o = sb->buf + sb->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = s_alphabet[v >> 18];
        *o++ = s_alphabet[(v >> 12) & 63];
        *o++ = s_alphabet[(v >> 6) & 63];
        *o++ = s_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = s_alphabet[v >> 18];
        *o++ = s_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? s_alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    sb->len += out_len;
    sb->buf[sb->len] = '\0';
}

/* The 6-bit value of c, or -1. */
static int s_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int wr_base64_decode(const char *s, size_t len, wr_strbuf_t *out)
{
    if (len % 4 != 0) return WR_EINVAL;
    if (len == 0) return 0;
    size_t pad = (s[len - 1] == '=') + (s[len - 2] == '=' && s[len - 1] == '=');
    size_t n = len / 4 * 3 - pad;
    if (!wr_strbuf_grow(out, n)) return WR_ENOMEM;
    uint8_t *o = (uint8_t *)out->buf + out->len;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int a = s_value(s[i]), b = s_value(s[i + 1]);
        int c = last && pad == 2 ? 0 : s_value(s[i + 2]);
        int d = last && pad >= 1 ? 0 : s_value(s[i + 3]);
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        /* the bits no byte uses must be zero: one encoding per byte string */
        if (a < 0 || b < 0 || c < 0 || d < 0 ||
            (last && ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))))) {
            out->buf[out->len] = '\0'; /* drop what this call wrote */
            return WR_EINVAL;
        }
        *o++ = (uint8_t)(v >> 16);
        if (!last || pad < 2) *o++ = (uint8_t)(v >> 8);
        if (!last || pad < 1) *o++ = (uint8_t)v;
    }
    out->len += n;
    out->buf[out->len] = '\0';
    return 0;
}
