/* The network of a `weir chaos` cluster: a TCP proxy (in the manner of Toxiproxy, which Debian does
 * not package) that every link between the cluster's processes goes through, so that links can be
 * cut, healed and slowed without root and without touching the kernel's firewall.
 *
 * Routes. Each destination (a node's bus endpoint, an etcd member's client URL) gets a listening
 * port on 127.0.0.1; every connection accepted there is forwarded to the destination's real
 * address. Daemons are told the proxy's port as the destination's address (bus.advertised-endpoint,
 * high-availability.etcd.endpoints), so they never learn the real one.
 *
 * Who dialed. Every node of the chaos cluster dials from its own loopback address
 * (bus.source-address: 127.0.0.N), which wr_chaos_proxy_node maps to the node's name; the proxy
 * reads it from the accepted connection (getpeername). A connection from an address it does not
 * know (the chaos command's own client, a `weir` CLI) belongs to no pair: it is never cut.
 *
 * Faults are per directed pair of names (from, to):
 *   cut    the bytes from sends to are no longer forwarded, on every connection between the two
 *          whichever side dialed it, like a network that drops packets: connections stay open,
 *          the proxy stops reading from the sender's side (so the kernel's buffers fill and the
 *          sender's writes block, as under packet loss), and nothing is lost, reordered or
 *          corrupted: once healed the stream goes on where it stopped, as TCP's retransmission
 *          makes it after a real partition heals. Connections accepted while a pair is cut are
 *          accepted and stall the same way. A cut both ways is two cuts.
 *   delay  every chunk from sends to is held ms before it is forwarded (order kept).
 *   heal   undoes a cut (wr_chaos_proxy_cut false) or a delay (wr_chaos_proxy_delay 0) of the
 *          pair; wr_chaos_proxy_heal_all undoes every cut and delay.
 * Closes pass through as TCP's do: an EOF from one side (read when its direction is not cut, as a
 * FIN is a packet a cut drops) shuts the other side's writing down once what the proxy holds for
 * it was written; once both directions are shut down, or on a failed read or write (a reset, a
 * write to a closed socket), both sockets are closed (held bytes of a cut direction are dropped
 * then: the connection is gone anyway).
 *
 * Threads: one I/O thread (poll(2)) started by wr_chaos_proxy_new; every function is thread-safe
 * and returns once the change holds for every connection (the I/O thread reads and writes only
 * under the lock the change is made under, and is woken to poll what it may read now): a cut holds
 * from the moment it returns.
 *
 * Limits: 64 KiB held per direction of a connection (a delayed direction's throughput is at most
 * 64 KiB per delay, as TCP's window bounds it); a connection costs two descriptors and ~135 KiB
 * while it lives, and a connection stalled by a cut lives until the heal lets its EOF through. The
 * destination sees every connection come from 127.0.0.1. */
#ifndef WR_CHAOS_PROXY_H
#define WR_CHAOS_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#define WR_CHAOS_NAME_MAX 32 /* a node's name, NUL included */

typedef struct wr_chaos_proxy wr_chaos_proxy_t;

/* Per route, what went through it. */
typedef struct {
    uint64_t accepted;      /* connections accepted */
    uint64_t open;          /* connections open now */
    uint64_t bytes_to;      /* bytes forwarded towards the destination */
    uint64_t bytes_from;    /* bytes forwarded back from it */
    uint64_t refused;       /* connections closed at once: the destination refused them */
    uint64_t stalled_now;   /* bytes held now by cuts and delays, both directions: for a cut
                             * direction, what the proxy read and has not written plus what waits
                             * unread in the sender's socket; for a delay, what is not due yet */
    uint64_t accept_failed; /* connections lost to a failed accept, or to no memory or file
                             * descriptor for the destination's side (logged; the listener rests
                             * 50 ms after a failed accept) */
} wr_chaos_route_stats_t;

/* Starts the proxy's thread. 0 with *out, WR_ENOMEM or WR_EIO (nothing left behind). */
int wr_chaos_proxy_new(wr_chaos_proxy_t **out);
/* Closes every connection and listening socket, joins the thread, frees; nulls *p. NULL-safe. */
void wr_chaos_proxy_destroy(wr_chaos_proxy_t **p);

/* Names the node that dials from source_ip (an IPv4 address in 127.0.0.0/8). WR_EINVAL for a bad
 * address or name, WR_EEXIST when the address or the name is taken. */
int wr_chaos_proxy_node(wr_chaos_proxy_t *p, const char *name, const char *source_ip);

/* A route to node `to` (named or not by wr_chaos_proxy_node: an etcd member never dials) whose
 * real address is host:port (host: an IPv4 address or a name that resolves to one): listens on
 * 127.0.0.1:listen_port (0: a free port) and says the port in *bound_port (NULL: not said). A node
 * may have several routes (several ports); its stats sum them. WR_EIO when the port cannot be
 * bound, WR_EINVAL for bad arguments, WR_ENOMEM. */
int wr_chaos_proxy_route(wr_chaos_proxy_t *p, const char *to, const char *host, int port,
                         int listen_port, int *bound_port);

/* Cuts (cut true) or heals (false) the direction from -> to; a delay of the pair stays as it is.
 * Names need not be known yet. 0, WR_EINVAL or WR_ENOMEM. */
int wr_chaos_proxy_cut(wr_chaos_proxy_t *p, const char *from, const char *to, bool cut);
/* Holds the chunks from -> to for ms (0: none; at most an hour) before forwarding them; a cut of
 * the pair stays as it is. Bytes read before the change keep their time. 0, WR_EINVAL or
 * WR_ENOMEM. */
int wr_chaos_proxy_delay(wr_chaos_proxy_t *p, const char *from, const char *to, int64_t ms);
/* Heals every pair: no cut, no delay. */
void wr_chaos_proxy_heal_all(wr_chaos_proxy_t *p);

/* The figures of the route to `to`: 0, or WR_ENOTFOUND when there is none. */
int wr_chaos_proxy_stats(wr_chaos_proxy_t *p, const char *to, wr_chaos_route_stats_t *out);

#endif
