#include "bus/msg.h"

#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/messages.h"

wr_msg_t *wr_msg_alloc(uint16_t type, size_t len)
{
    if (len > SIZE_MAX - sizeof(wr_msg_t)) return NULL;
    wr_msg_t *m = malloc(sizeof *m + len);
    if (!m) return NULL;
    m->type = type;
    m->role = WR_ROLE_LOCAL;
    m->cert[0] = '\0';
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
    wr_msg_t *m = wr_msg_error_new(WR_MSG_ERROR, from, to, &(wr_msg_error_t){code, wr_strv(text)});
    if (m) m->corr = corr;
    return m;
}

void wr_msg_destroy(wr_msg_t **m)
{
    if (m && *m) {
        if ((*m)->release) (*m)->release((*m)->owner);
        free(*m);
        *m = NULL;
    }
}
