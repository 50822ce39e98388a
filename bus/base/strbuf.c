#include "bus/base/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Storage of every empty, never-grown buffer (git's slopbuf): buf is never NULL, and nothing ever
 * writes to it because cap stays 0 until the first real allocation. */
static const char s_empty[1] = "";

void wr_strbuf_init(wr_strbuf_t *sb)
{
    sb->buf = (char *)s_empty;
    sb->len = 0;
    sb->cap = 0;
    sb->failed = false;
}

void wr_strbuf_release(wr_strbuf_t *sb)
{
    if (sb->cap) free(sb->buf);
    wr_strbuf_init(sb);
}

char *wr_strbuf_detach(wr_strbuf_t *sb, size_t *len)
{
    char *s = sb->cap ? sb->buf : calloc(1, 1);
    if (len) *len = s ? sb->len : 0;
    wr_strbuf_init(sb);
    return s;
}

void wr_strbuf_reset(wr_strbuf_t *sb)
{
    wr_strbuf_truncate(sb, 0);
    sb->failed = false;
}

void wr_strbuf_truncate(wr_strbuf_t *sb, size_t len)
{
    if (len >= sb->len) return;
    sb->len = len;
    sb->buf[len] = '\0'; /* len < old len, so cap > 0: never the shared empty storage */
}

bool wr_strbuf_grow(wr_strbuf_t *sb, size_t extra)
{
    if (sb->failed) return false;
    if (extra < sb->cap - sb->len || (sb->cap == 0 && extra == 0)) return true;
    if (extra > SIZE_MAX / 2 - sb->len - 1) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *buf = realloc(sb->cap ? sb->buf : NULL, cap);
    if (!buf) {
        sb->failed = true;
        return false;
    }
    if (!sb->cap) buf[0] = '\0';
    sb->buf = buf;
    sb->cap = cap;
    return true;
}

void wr_strbuf_add(wr_strbuf_t *sb, const void *data, size_t len)
{
    if (len == 0 || !wr_strbuf_grow(sb, len)) return;
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void wr_strbuf_adds(wr_strbuf_t *sb, const char *s)
{
    wr_strbuf_add(sb, s, strlen(s));
}

void wr_strbuf_addc(wr_strbuf_t *sb, char c)
{
    if (!wr_strbuf_grow(sb, 1)) return;
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

void wr_strbuf_addf(wr_strbuf_t *sb, const char *fmt, ...)
{
    va_list ap;
    if (!wr_strbuf_grow(sb, 64)) return;
    va_start(ap, fmt);
    int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->buf[sb->len] = '\0';
        sb->failed = true;
        return;
    }
    if ((size_t)n >= sb->cap - sb->len) {
        if (!wr_strbuf_grow(sb, (size_t)n)) {
            sb->buf[sb->len] = '\0'; /* drop the partial text the first try left */
            return;
        }
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
}

size_t wr__utf8_len(const unsigned char *s, size_t avail)
{
    uint8_t c = s[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80) return 1;
    if (c < 0xc2) return 0;
    if (c < 0xe0) {
        n = 2;
    } else if (c < 0xf0) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c < 0xf5) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

void wr_strbuf_add_json_str(wr_strbuf_t *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s;
    size_t run = 0; /* bytes before p[i] that go out verbatim */
    wr_strbuf_addc(sb, '"');
    for (size_t i = 0; i < len;) {
        uint8_t c = p[i];
        size_t n = 1;
        char esc[8];
        const char *rep = NULL;
        size_t rep_len = 2;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            n = wr__utf8_len(p + i, len - i);
            if (n) {
                i += n;
                continue;
            }
            n = 1;
            rep = "\xef\xbf\xbd"; /* U+FFFD */
            rep_len = 3;
        } else if (c == '"') {
            rep = "\\\"";
        } else if (c == '\\') {
            rep = "\\\\";
        } else if (c == '\n') {
            rep = "\\n";
        } else if (c == '\r') {
            rep = "\\r";
        } else if (c == '\t') {
            rep = "\\t";
        } else if (c == '\b') {
            rep = "\\b";
        } else if (c == '\f') {
            rep = "\\f";
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            rep = esc;
            rep_len = 6;
        }
        wr_strbuf_add(sb, p + run, i - run);
        wr_strbuf_add(sb, rep, rep_len);
        i += n;
        run = i;
    }
    wr_strbuf_add(sb, p + run, len - run);
    wr_strbuf_addc(sb, '"');
}
