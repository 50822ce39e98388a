#include "bus/curve.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_LOG_EVERY_NS 1000000000    /* at most one line a second per reason */
#define S_RELOAD_NS    1000000000    /* public/ is looked at once a second */
#define S_MAX_NODES    256           /* node certificates a probe may try */
#define S_CONN_PROP    "X-Weir-Conn" /* the ZAP handler's number for a connection it admitted */
#define S_SILENT_NS    2000000000    /* an admitted connection silent this long is parked */
#define S_PENDING      64            /* admitted connections not yet heard, at most */
#define S_ACCEPTED     256           /* accepted connections watched for a cut, at most */
#define S_CLOSING      32            /* connections looked at again after ZeroMQ closed them */
#define S_CUT_NS       1000000000    /* for this long (the I/O thread wakes twice a second) */
#define S_SERVE_NS     1000000       /* a busy I/O thread looks at the ZAP requests this often */

/* Why something was refused: one log line a second each. */
enum { S_WHY_HANDSHAKE, S_WHY_UNKNOWN_KEY, S_WHY_NO_CERT, S_WHY_IMPOSTOR, S_WHY_CUT, S_WHY_N };

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
    _Atomic uint64_t refused, unknown_key, impostors, cut_while_sending;
    /* connections made to this node: ZeroMQ's fd and our duplicate of it (s_watch_cut), in the
     * order accepted (seq), and the number the ZAP handler gave it (s_match: 0 none or refused) */
    struct {
        int fd, dup;
        uint64_t seq, conn;
        bool matched;
    } accepted[S_ACCEPTED];
    size_t naccepted;
    uint64_t accept_seq;
    struct {
        int dup;
        int64_t until_ns;
        char ep[64];
    } closing[S_CLOSING]; /* closed by ZeroMQ, still held by the peer, nothing unread yet */
    size_t nclosing;
    /* connections admitted and not yet heard from (s_sweep): their number and key */
    uint64_t next_conn;
    struct {
        uint64_t conn;
        int64_t admitted_ns;
        char name[WR_KEYS_NAME_MAX];
    } pending[S_PENDING];
    size_t npending;
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
    for (size_t i = 0; i < c->naccepted; i++)
        close(c->accepted[i].dup);
    for (size_t i = 0; i < c->nclosing; i++)
        close(c->closing[i].dup);
    zsock_destroy(&c->monitor);
    /* unbound first: libzmq frees an inproc endpoint at once on unbind, but on close only once
     * its reaper thread gets to the socket, and a CURVE server made meanwhile in this process
     * would find the endpoint taken (seen: test_transport under ASan beside another test) */
    if (c->zap) zsock_unbind(c->zap, S_ZAP_ENDPOINT);
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
    return 0;
}

int wr__curve_watch(wr__curve_t *c, zsock_t *sock)
{
    /* unique in the process's ZeroMQ context, whose inproc names outlive a closed socket for a
     * while: a new watch at the freed address of a destroyed one (a process that makes client
     * nodes one after the other) must not take its name, so the clock is in it too */
    char ep[96];
    snprintf(ep, sizeof ep, "inproc://weir-curve-monitor-%p-%llx", (void *)c,
             (unsigned long long)wr_now_ns());
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                 ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED;
    if (zmq_socket_monitor(zsock_resolve(sock), ep, events)) return WR_EIO;
    c->monitor = zsock_new(ZMQ_PAIR);
    if (!c->monitor || zsock_connect(c->monitor, "%s", ep)) return WR_EIO;
    return 0;
}

void wr__curve_unwatch(zsock_t *sock)
{
    /* (a NULL endpoint stops the monitor under the lock its event sends hold: none comes after) */
    if (sock) zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
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

/* Numbers a connection the ZAP handler admits with the key of certificate name, remembers it
 * until it is heard from (the oldest is forgotten when S_PENDING wait), and writes the number as
 * ZMTP metadata (RFC 23: name length, name, 4-byte value length, value) into meta; returns its
 * length. */
static size_t s_admitted(wr__curve_t *c, const char *name, uint8_t *meta)
{
    if (c->npending == S_PENDING)
        memmove(&c->pending[0], &c->pending[1], --c->npending * sizeof c->pending[0]);
    uint64_t conn = ++c->next_conn;
    c->pending[c->npending].conn = conn;
    c->pending[c->npending].admitted_ns = wr_now_ns();
    snprintf(c->pending[c->npending].name, sizeof c->pending[0].name, "%s", name);
    c->npending++;
    char value[24];
    uint32_t vlen = (uint32_t)snprintf(value, sizeof value, "%llu", (unsigned long long)conn);
    size_t n = 0, plen = strlen(S_CONN_PROP);
    meta[n++] = (uint8_t)plen;
    memcpy(meta + n, S_CONN_PROP, plen);
    n += plen;
    meta[n++] = (uint8_t)(vlen >> 24);
    meta[n++] = (uint8_t)(vlen >> 16);
    meta[n++] = (uint8_t)(vlen >> 8);
    meta[n++] = (uint8_t)vlen;
    memcpy(meta + n, value, vlen);
    return n + vlen;
}

/* A frame of an admitted connection arrived: that connection is not parked. */
static void s_heard(wr__curve_t *c, zmq_msg_t *body)
{
    const char *v = zmq_msg_gets(body, S_CONN_PROP);
    if (!v) return;
    uint64_t conn = strtoull(v, NULL, 10);
    for (size_t i = 0; i < c->npending; i++)
        if (c->pending[i].conn == conn) {
            c->pending[i] = c->pending[--c->npending];
            return;
        }
}

/* Admitted connection conn (0: none) closed: it is not parked. */
static void s_forget(wr__curve_t *c, uint64_t conn)
{
    for (size_t i = 0; conn && i < c->npending; i++)
        if (c->pending[i].conn == conn) {
            c->pending[i] = c->pending[--c->npending];
            return;
        }
}

/* The ZAP handler answered for a connection (conn: its number; 0: refused): it is the one
 * accepted first of those not yet answered for. libzmq accepts a connection (the monitor event,
 * read before ZAP requests) before its handshake asks ZAP, so the order holds but for
 * handshakes that overtake each other; a connection whose handshake fails before ZAP leaves the
 * order when it closes, which it does at once. */
static void s_match(wr__curve_t *c, uint64_t conn)
{
    size_t first = c->naccepted;
    for (size_t i = 0; i < c->naccepted; i++)
        if (!c->accepted[i].matched &&
            (first == c->naccepted || c->accepted[i].seq < c->accepted[first].seq))
            first = i;
    if (first == c->naccepted) return;
    c->accepted[first].matched = true;
    c->accepted[first].conn = conn;
}

/* A connection made to this node, ZeroMQ's fd: a duplicate of the fd keeps its socket open after
 * ZeroMQ closes it, so that s_check_cut can see how it ended. Not watched when S_ACCEPTED are. */
static void s_watch_cut(wr__curve_t *c, int fd)
{
    if (c->naccepted == S_ACCEPTED) return;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return; /* closed already */
    c->accepted[c->naccepted].fd = fd;
    c->accepted[c->naccepted].dup = dup;
    c->accepted[c->naccepted].seq = ++c->accept_seq;
    c->accepted[c->naccepted].conn = 0;
    c->accepted[c->naccepted++].matched = false;
}

/* How a connection whose fd ZeroMQ closed stands, by our duplicate of it: 1 its peer still holds
 * it (TCP established: it sent no FIN, and this node did not shut it down) and bytes of it wait
 * unread, 0 it holds it and nothing waits (yet), -1 it is over. */
static int s_cut_state(int dup, int *unread)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    *unread = 0;
    if (getsockopt(dup, IPPROTO_TCP, TCP_INFO, &ti, &len) || ti.tcpi_state != TCP_ESTABLISHED)
        return -1;
    return !ioctl(dup, FIONREAD, unread) && *unread > 0 ? 1 : 0;
}

static void s_count_cut(wr__curve_t *c, const char *ep, int unread)
{
    atomic_fetch_add(&c->cut_while_sending, 1);
    s_log(c, S_WHY_CUT,
          "ZeroMQ closed a connection on %s while its peer was sending (%d bytes unread): a frame "
          "over bus.max-message-size + 1 MiB, or another protocol error",
          ep, unread);
}

/* ZeroMQ closed its fd of a watched connection: when the peer still holds the connection and
 * bytes of it wait unread, ZeroMQ cut it while the peer was sending: libzmq 4.3.4 closes a
 * connection on a frame over ZMQ_MAXMSGSIZE (and on other ZMTP or CURVE errors after the
 * handshake) with nothing but this disconnect to show for it. A peer that left sent a FIN; one
 * this node cut for not reading (bus/outq.h) was shut down here first. The rest of a frame may
 * still be on its way: a connection held with nothing unread is looked at again for S_CUT_NS. */
static void s_check_cut(wr__curve_t *c, int fd, const char *ep)
{
    for (size_t i = 0; i < c->naccepted; i++) {
        if (c->accepted[i].fd != fd) continue;
        int dup = c->accepted[i].dup, unread;
        s_forget(c, c->accepted[i].conn); /* closed: not parked */
        c->accepted[i] = c->accepted[--c->naccepted];
        int st = s_cut_state(dup, &unread);
        if (st == 1) s_count_cut(c, ep ? ep : "?", unread);
        if (st == 0 && c->nclosing < S_CLOSING) {
            c->closing[c->nclosing].dup = dup;
            c->closing[c->nclosing].until_ns = wr_now_ns() + S_CUT_NS;
            snprintf(c->closing[c->nclosing++].ep, sizeof c->closing[0].ep, "%s", ep ? ep : "?");
        } else {
            close(dup);
        }
        return;
    }
}

/* The connections s_check_cut looks at again: counted once bytes wait, let go once over. */
static void s_recheck_cuts(wr__curve_t *c, int64_t now_ns)
{
    for (size_t i = 0; i < c->nclosing;) {
        int unread, st = s_cut_state(c->closing[i].dup, &unread);
        if (st == 1) s_count_cut(c, c->closing[i].ep, unread);
        if (st == 0 && now_ns < c->closing[i].until_ns) {
            i++;
            continue;
        }
        close(c->closing[i].dup);
        c->closing[i] = c->closing[--c->nclosing];
    }
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
    /* an admitted connection gets a number, as ZMTP metadata every frame of it carries */
    uint8_t meta[1 + sizeof S_CONN_PROP + 4 + 24];
    size_t mlen = k ? s_admitted(c, k->name, meta) : 0;
    s_match(c, k ? c->next_conn : 0);
    zmsg_t *rep = zmsg_new();
    if (rep) {
        zmsg_addstr(rep, "1.0");
        zmsg_addstr(rep, seq ? seq : "");
        zmsg_addstr(rep, k ? "200" : "400");
        zmsg_addstr(rep, k ? "OK" : "no key of this cluster");
        zmsg_addstr(rep, k ? k->name : "");
        zmsg_addmem(rep, meta, mlen);
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

/* A handshake ended (event): one of a connection this node made is reported to links; a failed
 * one of a connection made to this node is counted (refused) and logged. libzmq names a
 * connection made to this node after its own bound endpoint, one this node made after the
 * endpoint it dialed. */
static void s_handshake_ended(wr__curve_t *c, const wr__curve_links_t *links, uint16_t event,
                              uint32_t value, const char *ep)
{
    int why = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED     ? 0
              : event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? WR_EPERM
                                                         : WR_EPROTO;
    if ((ep && links->handshake(links->ctx, ep, why)) || !why) return;
    atomic_fetch_add(&c->refused, 1);
    /* AUTH: the ZAP handler refused (logged there) */
    if (why != WR_EPERM)
        s_log(c, S_WHY_HANDSHAKE,
              "refused a connection on %s: %s (a peer without this cluster's CURVE keys?)",
              ep ? ep : "?",
              event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
                      value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                  ? "it does not speak CURVE"
                  : "the CURVE handshake failed");
}

/* One monitor event: a connection made to this node (watched for a cut), its end, or how a
 * handshake ended. */
static void s_monitor_one(wr__curve_t *c, const wr__curve_links_t *links)
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
        if (event == ZMQ_EVENT_ACCEPTED)
            s_watch_cut(c, (int)value);
        else if (event == ZMQ_EVENT_DISCONNECTED)
            s_check_cut(c, (int)value, ep);
        else
            s_handshake_ended(c, links, event, value, ep);
    }
    free(ep);
    zmsg_destroy(&ev);
}

/* Connections the ZAP handler admitted that have not been heard from for S_SILENT_NS: parked,
 * unless this node dialed their key's node (curve.h). */
static void s_sweep(wr__curve_t *c, int64_t now_ns, const wr__curve_links_t *links)
{
    for (size_t i = 0; i < c->npending;) {
        if (now_ns - c->pending[i].admitted_ns < S_SILENT_NS) {
            i++;
            continue;
        }
        if (!links->dialed(links->ctx, c->pending[i].name)) {
            atomic_fetch_add(&c->impostors, 1);
            s_log(c, S_WHY_IMPOSTOR,
                  "a connection with the key of '%s' sent nothing that arrived in %d ms: its "
                  "routing id is another connection's (an impostor, or '%s' connected twice)",
                  c->pending[i].name, (int)(S_SILENT_NS / 1000000), c->pending[i].name);
        }
        c->pending[i] = c->pending[--c->npending];
    }
}

void wr__curve_serve(wr__curve_t *c, int64_t now_ns, bool ready, const wr__curve_links_t *links)
{
    if (ready || now_ns - c->served_ns >= S_SERVE_NS) {
        /* until no event is left: only then do the file descriptors signal the next one; the
         * monitor first: a connection's acceptance before its ZAP request (s_match) */
        c->served_ns = now_ns;
        while (c->monitor && (zsock_events(c->monitor) & ZMQ_POLLIN))
            s_monitor_one(c, links);
        while (c->zap && (zsock_events(c->zap) & ZMQ_POLLIN))
            s_zap_one(c);
        s_sweep(c, now_ns, links);
        s_recheck_cuts(c, now_ns);
    }
    if (now_ns - c->reloaded_ns >= S_RELOAD_NS) {
        c->reloaded_ns = now_ns;
        if (wr_keys_reload(c->keys))
            wr_info("%s: read the cluster's public certificates again", c->node_id);
    }
}

int wr__curve_identify(wr__curve_t *c, const char *peer, zmq_msg_t *body, const wr_key_t **key)
{
    if (c->npending) s_heard(c, body);
    const wr_key_t *k = wr_keys_for_peer(c->keys, peer);
    /* set by this node's ZAP handler on connections it accepted; on one this node made, the
     * peer proved the key of the certificate it was dialed as, so the name is the routing id's */
    const char *name = zmq_msg_gets(body, "User-Id");
    bool other = name && (!k || strcmp(name, k->name));
    /* a key of this cluster under a routing id it may not use; a key revoked since its
     * connection was admitted is unknown (below) */
    if (other && (k || wr_keys_by_name(c->keys, name))) {
        atomic_fetch_add(&c->impostors, 1);
        s_log(c, S_WHY_IMPOSTOR,
              "dropped a frame from '%s' that came with the key of '%s' (an impostor)", peer, name);
        return WR_EPERM;
    }
    if (!k) {
        atomic_fetch_add(&c->unknown_key, 1);
        s_log(c, S_WHY_UNKNOWN_KEY,
              "dropped a frame from '%s': no certificate of this cluster may use that id "
              "(revoked?)",
              peer);
        return WR_ENOTFOUND;
    }
    *key = k;
    return 0;
}

void wr__curve_counts(wr__curve_t *c, uint64_t *refused, uint64_t *unknown_key, uint64_t *impostors,
                      uint64_t *cut_while_sending)
{
    *cut_while_sending = atomic_load(&c->cut_while_sending);
    *refused = atomic_load(&c->refused);
    *unknown_key = atomic_load(&c->unknown_key);
    *impostors = atomic_load(&c->impostors);
}
