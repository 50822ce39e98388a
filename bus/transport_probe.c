/* A peer's probes (bus/transport_probe.h): moved out of bus/transport.c as they were. */
#include "bus/transport_probe.h"

#include <stdio.h>
#include <string.h>

#include "bus/messages.h"

#define S_PING_EVERY_NS   1000000000 /* at most one PING a second per probe; a new group after */
#define S_PROBE_OTHERS_NS 300000000  /* with CURVE, the other nodes' keys are tried after this */

const char *wr__dial_endpoint(char *out, size_t cap, const char *endpoint, const char *source)
{
    if (source && source[0] && !strncmp(endpoint, "tcp://", 6))
        snprintf(out, cap, "tcp://%s:0;%s", source, endpoint + 6);
    else
        snprintf(out, cap, "%s", endpoint);
    return out;
}

/* Opens probe slot i (see wr__probes_run); with CURVE, for the key of the i-th node of the
 * current group of candidates. False when there is nothing to open in that slot. */
static bool s_probe_open(wr__probes_t *ps, const wr__probe_env_t *e, const char *peer,
                         const char *endpoint, unsigned i)
{
    char id[WR_NODE_MAX], dial[WR__DIAL_MAX];
    snprintf(id, sizeof id, "%.24s.probe", e->node_id);
    if (e->curve) {
        unsigned k = wr__curve_candidate(e->curve, peer, ps->group * WR__PROBES + i, ps->cert[i]);
        if (i >= k) return false; /* fewer candidates than slots */
    }
    ps->sock[i] = zsock_new(ZMQ_DEALER);
    if (!ps->sock[i]) return false;
    zsock_set_identity(ps->sock[i], id);
    zsock_set_immediate(ps->sock[i], 1);
    zsock_set_linger(ps->sock[i], 0);
    zsock_set_maxmsgsize(ps->sock[i], 65536);
    if ((e->curve && wr__curve_client(e->curve, ps->sock[i], ps->cert[i])) ||
        zsock_connect(ps->sock[i], "%s",
                      wr__dial_endpoint(dial, sizeof dial, endpoint, e->source))) {
        zsock_destroy(&ps->sock[i]);
        return false;
    }
    ps->ping_ns[i] = 0;
    return true;
}

/* Reads probe slot i's answers, and sends it a PING once a second. Returns true when an answer
 * settled the peer (e->answer). */
static bool s_probe_one(wr__probes_t *ps, const wr__probe_env_t *e, void *ctx, const char *peer,
                        unsigned i, int64_t now)
{
    zsock_t *probe = ps->sock[i];
    while (zsock_events(probe) & ZMQ_POLLIN) {
        zframe_t *f = zframe_recv(probe);
        wr_envelope_t env;
        char said[WR_NODE_MAX];
        bool settled = false;
        /* with CURVE, an answer names the node whose key the probe used, or is ignored */
        if (f && !zframe_more(f) &&
            !wr_envelope_decode(zframe_data(f), zframe_size(f), e->max_payload, &env) &&
            (!e->curve || (wr_addr_split(env.from, said) && !strcmp(said, ps->cert[i]))))
            settled = e->answer(ctx, &env);
        zframe_destroy(&f);
        if (settled) return true;
    }
    if (now - ps->ping_ns[i] < S_PING_EVERY_NS) return false;
    char from[WR_ADDR_MAX], to[WR_ADDR_MAX];
    snprintf(from, sizeof from, "%.24s.probe/node", e->node_id);
    snprintf(to, sizeof to, "%s/node", peer);
    wr_msg_t *m = wr_msg_new(WR_MSG_PING, from, to, "\xc0", 1);
    wr_envelope_t env;
    e->sbuf->size = 0;
    if (m) wr_msg_envelope(m, &env);
    if (m && !wr_envelope_encode(&env, e->sbuf) &&
        zmq_send(zsock_resolve(probe), e->sbuf->data, e->sbuf->size, ZMQ_DONTWAIT) >= 0)
        ps->ping_ns[i] = now;
    wr_msg_destroy(&m);
    return false;
}

void wr__probes_close(wr__probes_t *ps)
{
    for (unsigned i = 0; i < WR__PROBES; i++)
        zsock_destroy(&ps->sock[i]);
    ps->made_ns = 0;
}

bool wr__probes_run(wr__probes_t *ps, const wr__probe_env_t *e, void *ctx, const char *peer,
                    const char *endpoint, int64_t now)
{
    char name[WR_KEYS_NAME_MAX];
    if (ps->made_ns && e->curve && now - ps->made_ns >= S_PING_EVERY_NS &&
        wr__curve_candidate(e->curve, peer, 0, name) > WR__PROBES) {
        wr__probes_close(ps);
        ps->group++;
    }
    unsigned n = e->curve ? WR__PROBES : 1;
    if (!ps->made_ns) {
        ps->made_ns = now;
        s_probe_open(ps, e, peer, endpoint, 0);
    }
    /* the other nodes' keys only when the dialed one's is slow: every wrong one is a refused
     * handshake the node there counts and logs */
    if (now - ps->made_ns >= S_PROBE_OTHERS_NS)
        for (unsigned k = 1; k < n; k++)
            if (!ps->sock[k]) s_probe_open(ps, e, peer, endpoint, k);
    bool open = false;
    for (unsigned k = 0; k < n; k++)
        if (ps->sock[k]) {
            open = true;
            if (s_probe_one(ps, e, ctx, peer, k, now)) break;
        }
    return open;
}
