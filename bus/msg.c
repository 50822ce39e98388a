#include "bus/msg.h"

#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

wr_msg_t *wr_msg_alloc(uint16_t type, size_t len)
{
    if (len > SIZE_MAX - sizeof(wr_msg_t)) return NULL;
    wr_msg_t *m = malloc(sizeof *m + len);
    if (!m) return NULL;
    m->type = type;
    m->corr = 0;
    m->epoch = 0;
    m->enq_ns = 0;
    m->from[0] = '\0';
    m->to[0] = '\0';
    m->len = len;
    m->data = m->storage;
    m->release = NULL;
    m->owner = NULL;
    return m;
}

/* Copies src (NULL: empty) into dst; false if it does not fit. */
static bool s_addr_copy(char dst[WR_ADDR_MAX], const char *src)
{
    size_t n = src ? strnlen(src, WR_ADDR_MAX) : 0;
    if (n == WR_ADDR_MAX) return false;
    if (n > 0) memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

wr_msg_t *wr_msg_new(uint16_t type, const char *from, const char *to, const void *payload,
                     size_t len)
{
    if (len > 0 && !payload) return NULL;
    wr_msg_t *m = wr_msg_alloc(type, len);
    if (!m) return NULL;
    if (!s_addr_copy(m->from, from) || !s_addr_copy(m->to, to)) {
        free(m);
        return NULL;
    }
    if (len > 0) memcpy(m->data, payload, len);
    return m;
}

wr_msg_t *wr_msg_from_envelope(const wr_envelope_t *env)
{
    wr_msg_t *m = wr_msg_new(env->type, env->from, env->to, env->payload, env->payload_len);
    if (m) {
        m->corr = env->corr;
        m->epoch = env->epoch;
    }
    return m;
}

wr_msg_t *wr_msg_wrap_envelope(const wr_envelope_t *env, void (*release)(void *owner), void *owner)
{
    wr_msg_t *m = wr_msg_new(env->type, env->from, env->to, NULL, 0);
    if (!m) {
        release(owner);
        return NULL;
    }
    m->corr = env->corr;
    m->epoch = env->epoch;
    m->data = (uint8_t *)env->payload; /* the owner's bytes: the message only reads them */
    m->len = env->payload_len;
    m->release = release;
    m->owner = owner;
    return m;
}

void wr_msg_envelope(const wr_msg_t *m, wr_envelope_t *env)
{
    env->type = m->type;
    env->corr = m->corr;
    env->epoch = m->epoch;
    memcpy(env->from, m->from, strlen(m->from) + 1);
    memcpy(env->to, m->to, strlen(m->to) + 1);
    env->payload = m->data;
    env->payload_len = m->len;
}

wr_msg_t *wr_msg_error(const char *from, const char *to, uint64_t corr, int code, const char *text)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    wr_msg_t *m = NULL;
    if (!msgpack_pack_array(&pk, 2) && !msgpack_pack_int64(&pk, code) && !wr_pack_str(&pk, text))
        m = wr_msg_new(WR_MSG_ERROR, from, to, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (m) m->corr = corr;
    return m;
}

int wr_msg_error_decode(const wr_msg_t *m, int *code, const char **text, uint32_t *len)
{
    if (m->type != WR_MSG_ERROR) return WR_EPROTO;
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    int64_t c = 0;
    wr_mp_read_array(&r, &n);
    wr_mp_read_int(&r, &c);
    wr_mp_read_str(&r, text, len);
    if (r.err || n != 2 || c < INT32_MIN || c > INT32_MAX || wr_mp_remaining(&r)) return WR_EPROTO;
    *code = (int)c;
    return 0;
}

void wr_msg_destroy(wr_msg_t **m)
{
    if (m && *m) {
        if ((*m)->release) (*m)->release((*m)->owner);
        free(*m);
        *m = NULL;
    }
}
