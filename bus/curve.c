#include "bus/curve.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_LOG_EVERY_NS 1000000000 /* at most one line a second per reason */
#define S_RELOAD_NS    1000000000 /* public/ is looked at once a second */
#define S_MAX_NODES    256        /* node certificates a probe may try */
#define S_SERVE_NS     1000000    /* a busy I/O thread looks at the ZAP requests this often */

/* Why something was refused: one log line a second each. */
enum { S_WHY_HANDSHAKE, S_WHY_UNKNOWN_KEY, S_WHY_NO_CERT, S_WHY_IMPOSTOR, S_WHY_N };

struct wr__curve {
    char node_id[WR_NODE_MAX];
    wr_keys_t *keys;
    zsock_t *zap;     /* ZAP handler (server only) */
    zsock_t *monitor; /* the server socket's handshake failures */
    int64_t reloaded_ns;
    int64_t served_ns; /* when wr__curve_serve last looked at the sockets */
    struct {
        int64_t last_ns;
        uint64_t suppressed;
    } log[S_WHY_N];
    _Atomic uint64_t refused, unknown_key, impostors;
};

static void s_log(wr__curve_t *c, int why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_log(wr__curve_t *c, int why, const char *fmt, ...)
{
    int64_t now = wr_now_ns();
    if (c->log[why].last_ns && now - c->log[why].last_ns < S_LOG_EVERY_NS) {
        c->log[why].suppressed++;
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->log[why].suppressed)
        wr_warn("%s: %s (and %llu more like it in the last second)", c->node_id, line,
                (unsigned long long)c->log[why].suppressed);
    else
        wr_warn("%s: %s", c->node_id, line);
    c->log[why].last_ns = now;
    c->log[why].suppressed = 0;
}

wr__curve_t *wr__curve_new(const char *node_id, const char *keys_dir, const char *cert, bool server,
                           wr_strbuf_t *err, int *rc)
{
    *rc = WR_ENOMEM;
    wr__curve_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snprintf(c->node_id, sizeof c->node_id, "%s", node_id);
    c->keys = wr_keys_open(keys_dir, cert, err);
    if (!c->keys) {
        *rc = WR_ENOTFOUND;
        goto fail;
    }
    c->reloaded_ns = wr_now_ns();
    if (server) {
        c->zap = zsock_new(ZMQ_REP);
        if (!c->zap) goto fail;
        zsock_set_linger(c->zap, 0);
        if (zsock_bind(c->zap, S_ZAP_ENDPOINT)) {
            wr_strbuf_addf(err,
                           "another node of this process authenticates CURVE (%s taken): "
                           "one secured node per process",
                           S_ZAP_ENDPOINT);
            *rc = WR_EEXIST;
            goto fail;
        }
    }
    *rc = 0;
    return c;
fail:
    wr__curve_destroy(&c);
    return NULL;
}

void wr__curve_destroy(wr__curve_t **cp)
{
    if (!cp || !*cp) return;
    wr__curve_t *c = *cp;
    zsock_destroy(&c->monitor);
    zsock_destroy(&c->zap);
    wr_keys_destroy(&c->keys);
    free(c);
    *cp = NULL;
}

int wr__curve_server(wr__curve_t *c, zsock_t *sock)
{
    const wr_key_t *self = wr_keys_self(c->keys);
    zsock_set_curve_server(sock, 1);
    zsock_set_curve_publickey(sock, self->public_txt);
    zsock_set_curve_secretkey(sock, wr_keys_self_secret(c->keys));
    zsock_set_zap_domain(sock, "weir");
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://weir-curve-monitor-%p", (void *)c);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(zsock_resolve(sock), ep, events)) return WR_EIO;
    c->monitor = zsock_new(ZMQ_PAIR);
    if (!c->monitor || zsock_connect(c->monitor, "%s", ep)) return WR_EIO;
    return 0;
}

int wr__curve_client(wr__curve_t *c, zsock_t *sock, const char *peer)
{
    const wr_key_t *k = wr_keys_by_name(c->keys, peer);
    if (!k) {
        s_log(c, S_WHY_NO_CERT,
              "cannot connect to '%s': the cluster's public certificates have no key of that "
              "name (run `weir keygen` for it)",
              peer);
        return WR_ENOTFOUND;
    }
    /* a client for the connects to come (the server key makes it one, as_server off first) */
    zsock_set_curve_server(sock, 0);
    zsock_set_curve_serverkey(sock, k->public_txt);
    zsock_set_curve_publickey(sock, wr_keys_self(c->keys)->public_txt);
    zsock_set_curve_secretkey(sock, wr_keys_self_secret(c->keys));
    return 0;
}

static bool s_is_node(wr_role_t r)
{
    return r == WR_ROLE_JOBMANAGER || r == WR_ROLE_TASKMANAGER;
}

unsigned wr__curve_candidate(wr__curve_t *c, const char *first, unsigned i, char *name)
{
    const wr_key_t *all[S_MAX_NODES], *cand[S_MAX_NODES];
    size_t n = wr_keys_list(c->keys, all, S_MAX_NODES), k = 0;
    if (n > S_MAX_NODES) n = S_MAX_NODES;
    const wr_key_t *f = wr_keys_by_name(c->keys, first);
    if (f && s_is_node(f->role)) cand[k++] = f;
    for (size_t j = 0; j < n; j++)
        if (s_is_node(all[j]->role) && all[j] != f &&
            strcmp(all[j]->name, wr_keys_self(c->keys)->name))
            cand[k++] = all[j];
    if (k) snprintf(name, WR_KEYS_NAME_MAX, "%s", cand[i % k]->name);
    return (unsigned)k;
}

int wr__curve_pollfds(wr__curve_t *c, struct pollfd *fds)
{
    int n = 0;
    if (c->zap) fds[n++] = (struct pollfd){.fd = zsock_fd(c->zap), .events = POLLIN};
    if (c->monitor) fds[n++] = (struct pollfd){.fd = zsock_fd(c->monitor), .events = POLLIN};
    return n;
}

/* Answers one ZAP request (RFC 27): a CURVE key among the cluster's public certificates is
 * admitted with its certificate's name as User-Id; anything else is refused. */
static void s_zap_one(wr__curve_t *c)
{
    zmsg_t *req = zmsg_recv(c->zap);
    if (!req) return;
    char *version = zmsg_popstr(req), *seq = zmsg_popstr(req), *domain = zmsg_popstr(req),
         *address = zmsg_popstr(req), *identity = zmsg_popstr(req), *mechanism = zmsg_popstr(req);
    zframe_t *cred = zmsg_pop(req);
    const wr_key_t *k = NULL;
    char key[WR_KEY_TXT] = "";
    if (mechanism && !strcmp(mechanism, "CURVE") && cred && zframe_size(cred) == 32) {
        zmq_z85_encode(key, zframe_data(cred), 32);
        wr_keys_reload(c->keys); /* a certificate added or revoked since counts at once */
        k = wr_keys_by_key(c->keys, key);
    }
    if (!k) {
        atomic_fetch_add(&c->unknown_key, 1);
        s_log(c, S_WHY_UNKNOWN_KEY,
              "refused a connection from %s: its key %s is no key of this cluster's "
              "certificates",
              address ? address : "?", key[0] ? key : "(none)");
    }
    zmsg_t *rep = zmsg_new();
    if (rep) {
        zmsg_addstr(rep, "1.0");
        zmsg_addstr(rep, seq ? seq : "");
        zmsg_addstr(rep, k ? "200" : "400");
        zmsg_addstr(rep, k ? "OK" : "no key of this cluster");
        zmsg_addstr(rep, k ? k->name : "");
        zmsg_addmem(rep, "", 0);
        zmsg_send(&rep, c->zap);
    }
    free(version);
    free(seq);
    free(domain);
    free(address);
    free(identity);
    free(mechanism);
    zframe_destroy(&cred);
    zmsg_destroy(&req);
}

/* Counts one monitor event (a failed handshake on the server socket). */
static void s_monitor_one(wr__curve_t *c)
{
    zmsg_t *ev = zmsg_recv(c->monitor);
    if (!ev) return;
    zframe_t *head = zmsg_first(ev);
    char *ep = NULL;
    zframe_t *epf = zmsg_next(ev);
    if (epf) ep = zframe_strdup(epf);
    if (head && zframe_size(head) == 6) {
        uint16_t event;
        uint32_t value;
        memcpy(&event, zframe_data(head), 2);
        memcpy(&value, zframe_data(head) + 2, 4);
        atomic_fetch_add(&c->refused, 1);
        /* AUTH: the ZAP handler refused (logged there) */
        if (event != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            s_log(c, S_WHY_HANDSHAKE,
                  "refused a connection on %s: %s (a peer without this cluster's CURVE keys?)",
                  ep ? ep : "?",
                  event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
                          value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                      ? "it does not speak CURVE"
                      : "the CURVE handshake failed");
    }
    free(ep);
    zmsg_destroy(&ev);
}

void wr__curve_serve(wr__curve_t *c, int64_t now_ns, bool ready)
{
    if (ready || now_ns - c->served_ns >= S_SERVE_NS) {
        /* until no event is left: only then do the file descriptors signal the next one */
        c->served_ns = now_ns;
        while (c->zap && (zsock_events(c->zap) & ZMQ_POLLIN))
            s_zap_one(c);
        while (c->monitor && (zsock_events(c->monitor) & ZMQ_POLLIN))
            s_monitor_one(c);
    }
    if (now_ns - c->reloaded_ns >= S_RELOAD_NS) {
        c->reloaded_ns = now_ns;
        if (wr_keys_reload(c->keys))
            wr_info("%s: read the cluster's public certificates again", c->node_id);
    }
}

int wr__curve_identify(wr__curve_t *c, const char *peer, zmq_msg_t *body, const wr_key_t **key)
{
    const wr_key_t *k = wr_keys_for_peer(c->keys, peer);
    if (!k) {
        atomic_fetch_add(&c->unknown_key, 1);
        s_log(c, S_WHY_UNKNOWN_KEY,
              "dropped a frame from '%s': no certificate of this cluster may use that id "
              "(revoked?)",
              peer);
        return WR_ENOTFOUND;
    }
    /* set by this node's ZAP handler on connections it accepted; on one this node made, the
     * peer proved the key of the certificate it was dialed as, so the name is the routing id's */
    const char *name = zmq_msg_gets(body, "User-Id");
    if (name && strcmp(name, k->name)) {
        atomic_fetch_add(&c->impostors, 1);
        s_log(c, S_WHY_IMPOSTOR,
              "dropped a frame from '%s' that came with the key of '%s' (an impostor)", peer, name);
        return WR_EPERM;
    }
    *key = k;
    return 0;
}

void wr__curve_counts(wr__curve_t *c, uint64_t *refused, uint64_t *unknown_key, uint64_t *impostors)
{
    *refused = atomic_load(&c->refused);
    *unknown_key = atomic_load(&c->unknown_key);
    *impostors = atomic_load(&c->impostors);
}
