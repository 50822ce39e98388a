#include "cli/chaos_proxy.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_BUF       (64 * 1024) /* bytes held per direction of a connection */
#define S_MARKS     256         /* delayed chunks per direction (consecutive reads coalesce) */
#define S_DELAY_MAX (3600 * 1000)
#define S_BACKOFF   (50 * 1000000LL) /* a listener that failed to accept rests this long */

enum { S_TO, S_FROM }; /* a connection's directions: towards the destination, back from it */

typedef struct {
    char name[WR_CHAOS_NAME_MAX];
    uint32_t ip; /* network order */
} s_node_t;

typedef struct {
    char from[WR_CHAOS_NAME_MAX], to[WR_CHAOS_NAME_MAX];
    bool cut;
    int64_t delay_ms;
} s_pair_t;

typedef struct {
    char to[WR_CHAOS_NAME_MAX];
    struct sockaddr_in dest;
    int lfd;
    int64_t rest_until; /* monotonic ns: accept paused after a failure (EMFILE would spin) */
    wr_chaos_route_stats_t st;
} s_route_t;

typedef struct {
    uint64_t end, due; /* bytes before stream offset end may go at monotonic ns due */
} s_mark_t;

/* One direction: a ring of S_BUF bytes between stream offsets tail (written) and head (read);
 * [tail, ready) may be written now, [ready, head) waits for its marks. */
typedef struct {
    uint64_t head, ready, tail;
    s_mark_t mark[S_MARKS];
    uint32_t mfirst, mcount;
    bool cut, eof, shut, blocked;
    int64_t delay_ns;
    unsigned char buf[S_BUF];
} s_dir_t;

typedef struct {
    int fd[2]; /* [S_TO] the accepted (client) side, [S_FROM] the destination's side */
    bool connecting;
    uint32_t peer_ip;
    s_route_t *route;
    s_dir_t dir[2]; /* dir[S_TO] reads fd[S_TO] and writes fd[S_FROM]; dir[S_FROM] the reverse */
} s_conn_t;

struct wr_chaos_proxy {
    pthread_mutex_t mu; /* everything below; the I/O thread holds it except while in poll */
    pthread_t thread;
    int wake; /* eventfd: the API's changes for the thread */
    bool stop;
    s_node_t *nodes;
    size_t nnodes;
    s_pair_t *pairs;
    size_t npairs;
    s_route_t **routes;
    size_t nroutes;
    s_conn_t **conns;
    size_t nconns;
    struct pollfd *pfd; /* the thread's poll set: wake, listeners, then two per connection */
    size_t pfd_cap;
    wr_logrl_t rl;
};

static int s_grow(void **arr, size_t n, size_t size)
{
    /* room for one more element at arr[n]; arrays grow by doubling from 8 */
    if (n && (n & (n - 1))) return 0;
    if (n && n < 8) return 0;
    void *a = realloc(*arr, (n < 8 ? 8 : 2 * n) * size);
    if (!a) return WR_ENOMEM;
    *arr = a;
    return 0;
}

static bool s_name_ok(const char *name)
{
    return name && name[0] && strlen(name) < WR_CHAOS_NAME_MAX;
}

static const char *s_node_name(const wr_chaos_proxy_t *p, uint32_t ip)
{
    for (size_t i = 0; i < p->nnodes; i++)
        if (p->nodes[i].ip == ip) return p->nodes[i].name;
    return NULL;
}

static const s_pair_t *s_pair_find(const wr_chaos_proxy_t *p, const char *from, const char *to)
{
    for (size_t i = 0; i < p->npairs; i++)
        if (!strcmp(p->pairs[i].from, from) && !strcmp(p->pairs[i].to, to)) return &p->pairs[i];
    return NULL;
}

/* The rules of one connection from the pairs: a client of no known node is never cut. */
static void s_conn_rules(const wr_chaos_proxy_t *p, s_conn_t *c)
{
    const char *client = s_node_name(p, c->peer_ip), *dest = c->route->to;
    for (int d = 0; d < 2; d++) {
        const s_pair_t *r = NULL;
        if (client) r = d == S_TO ? s_pair_find(p, client, dest) : s_pair_find(p, dest, client);
        c->dir[d].cut = r && r->cut;
        c->dir[d].delay_ns = r ? r->delay_ms * 1000000 : 0;
    }
}

/* Called with the lock held after a rule changed: every connection takes the new rules now, so a
 * cut holds when the API call returns (the thread reads only under the lock, after checking the
 * rule); the thread wakes to poll the sockets a heal or a delay of 0 lets it read again. */
static void s_apply(wr_chaos_proxy_t *p)
{
    for (size_t i = 0; i < p->nconns; i++)
        s_conn_rules(p, p->conns[i]);
    uint64_t one = 1;
    ssize_t n = write(p->wake, &one, sizeof one);
    (void)n; /* an eventfd already at its maximum wakes the thread anyway */
}

/* ---- the I/O thread ---- */

static void s_conn_close(wr_chaos_proxy_t *p, size_t i)
{
    s_conn_t *c = p->conns[i];
    close(c->fd[S_TO]);
    close(c->fd[S_FROM]);
    c->route->st.open--;
    p->conns[i] = p->conns[--p->nconns];
    free(c);
}

static void s_accept(wr_chaos_proxy_t *p, s_route_t *r, int64_t now)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int cfd = accept4(r->lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            if (errno == ECONNABORTED) continue;
            r->st.accept_failed++;
            r->rest_until = now + S_BACKOFF;
            wr_warn_limited(&p->rl, "chaos proxy: accept on the route to %s: %s", r->to,
                            strerror(errno));
            return;
        }
        r->st.accepted++;
        s_conn_t *c = calloc(1, sizeof *c);
        int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (!c || sfd < 0 || s_grow((void **)&p->conns, p->nconns, sizeof *p->conns)) {
            r->st.accept_failed++;
            wr_warn_limited(&p->rl, "chaos proxy: no room for a connection to %s", r->to);
            free(c);
            if (sfd >= 0) close(sfd);
            close(cfd);
            continue;
        }
        int rc = connect(sfd, (struct sockaddr *)&r->dest, sizeof r->dest);
        if (rc < 0 && errno != EINPROGRESS) {
            r->st.refused++;
            free(c);
            close(sfd);
            close(cfd);
            continue;
        }
        c->fd[S_TO] = cfd;
        c->fd[S_FROM] = sfd;
        c->connecting = rc < 0;
        c->peer_ip = peer.sin_addr.s_addr;
        c->route = r;
        s_conn_rules(p, c);
        r->st.open++;
        p->conns[p->nconns++] = c;
    }
}

static uint64_t s_room(const s_dir_t *d)
{
    return S_BUF - (d->head - d->tail);
}

static bool s_can_read(const s_conn_t *c, const s_dir_t *d)
{
    return !c->connecting && !d->cut && !d->eof && s_room(d) && d->mcount < S_MARKS;
}

/* Reads what src has into the ring (up to its room): 1 read, 0 nothing now, -1 the connection
 * failed. EOF marks the direction. */
static int s_read(s_dir_t *d, int src, int64_t now)
{
    uint64_t room = s_room(d), at = d->head % S_BUF, first = S_BUF - at;
    struct iovec iov[2] = {{d->buf + at, first < room ? first : room},
                           {d->buf, first < room ? room - first : 0}};
    ssize_t n = readv(src, iov, iov[1].iov_len ? 2 : 1);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (n == 0) {
        d->eof = true;
        return 0;
    }
    d->head += (uint64_t)n;
    uint64_t due = (uint64_t)(now + d->delay_ns);
    if (!d->delay_ns && !d->mcount) {
        d->ready = d->head;
    } else if (d->mcount && d->mark[(d->mfirst + d->mcount - 1) % S_MARKS].due + 1000000 > due) {
        /* within 1 ms of the last chunk: one chunk, due when its last bytes are */
        d->mark[(d->mfirst + d->mcount - 1) % S_MARKS] = (s_mark_t){d->head, due};
    } else {
        d->mark[(d->mfirst + d->mcount++) % S_MARKS] = (s_mark_t){d->head, due};
    }
    return 1;
}

/* Moves ready past the marks that are due; returns the next due time still waiting, or -1. */
static int64_t s_release(s_dir_t *d, int64_t now)
{
    while (d->mcount && (int64_t)d->mark[d->mfirst].due <= now) {
        d->ready = d->mark[d->mfirst].end;
        d->mfirst = (d->mfirst + 1) % S_MARKS;
        d->mcount--;
    }
    return d->mcount ? (int64_t)d->mark[d->mfirst].due : -1;
}

/* Writes what is ready to dst: 0, or -1 when the connection failed. */
static int s_write(s_dir_t *d, int dst, uint64_t *counter)
{
    while (d->ready > d->tail) {
        uint64_t len = d->ready - d->tail, at = d->tail % S_BUF, first = S_BUF - at;
        struct iovec iov[2] = {{d->buf + at, first < len ? first : len},
                               {d->buf, first < len ? len - first : 0}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1};
        ssize_t n = sendmsg(dst, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
            d->blocked = true;
            return 0;
        }
        d->tail += (uint64_t)n;
        *counter += (uint64_t)n;
    }
    d->blocked = false;
    return 0;
}

/* Serves one connection after poll: connect outcome, reads, due marks, writes, half-closes.
 * Returns false when it is done (both directions shut, or a failure): the caller closes it. */
static bool s_conn_serve(s_conn_t *c, const struct pollfd *pf, int64_t now, int64_t *next_due)
{
    if (c->connecting) {
        if (!pf[S_FROM].revents) return true;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd[S_FROM], SOL_SOCKET, SO_ERROR, &err, &len) || err) {
            c->route->st.refused++;
            return false;
        }
        c->connecting = false;
    }
    for (int i = 0; i < 2; i++) {
        s_dir_t *d = &c->dir[i];
        int src = c->fd[i], dst = c->fd[!i];
        uint64_t *counter = i == S_TO ? &c->route->st.bytes_to : &c->route->st.bytes_from;
        if (pf[i].revents && s_can_read(c, d) && s_read(d, src, now) < 0) return false;
        int64_t due = s_release(d, now);
        if (due >= 0 && (*next_due < 0 || due < *next_due)) *next_due = due;
        if (pf[!i].revents & (POLLOUT | POLLERR | POLLHUP)) d->blocked = false;
        if (!d->blocked && s_write(d, dst, counter) < 0) return false;
        if (d->eof && !d->shut && d->tail == d->head) {
            shutdown(dst, SHUT_WR);
            d->shut = true;
        }
    }
    return !(c->dir[S_TO].shut && c->dir[S_FROM].shut);
}

/* The events one connection's fd i waits for; 0 leaves it out of the poll set (fd -1), so a
 * socket whose peer is gone cannot make poll spin while its direction is cut. */
static short s_events(const s_conn_t *c, int i)
{
    if (c->connecting) return i == S_FROM ? POLLOUT : 0;
    short ev = 0;
    if (s_can_read(c, &c->dir[i])) ev |= POLLIN;
    if (c->dir[!i].blocked) ev |= POLLOUT;
    return ev;
}

static void *s_run(void *arg)
{
    wr_chaos_proxy_t *p = arg;
    int64_t next_due = -1;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        size_t want = 1 + p->nroutes + 2 * p->nconns;
        if (want > p->pfd_cap) {
            struct pollfd *a = realloc(p->pfd, 2 * want * sizeof *a);
            if (a) p->pfd = a, p->pfd_cap = 2 * want;
        }
        int64_t now = wr_now_ns(), timeout_ns = next_due < 0 ? -1 : next_due - now;
        size_t n = 0;
        p->pfd[n++] = (struct pollfd){p->wake, POLLIN, 0};
        for (size_t i = 0; i < p->nroutes && n < p->pfd_cap; i++) {
            s_route_t *r = p->routes[i];
            bool rest = r->rest_until > now;
            p->pfd[n++] = (struct pollfd){rest ? -1 : r->lfd, POLLIN, 0};
            if (rest && (timeout_ns < 0 || r->rest_until - now < timeout_ns))
                timeout_ns = r->rest_until - now;
        }
        size_t nroutes = n - 1, nconns = 0;
        for (; nconns < p->nconns && n + 2 <= p->pfd_cap; nconns++) {
            for (int i = 0; i < 2; i++) {
                short ev = s_events(p->conns[nconns], i);
                p->pfd[n++] = (struct pollfd){ev ? p->conns[nconns]->fd[i] : -1, ev, 0};
            }
        }
        if (nconns < p->nconns) timeout_ns = 10000000; /* no memory for all: poll the rest soon */
        int timeout = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
        pthread_mutex_unlock(&p->mu);
        int rc = poll(p->pfd, n, timeout);
        pthread_mutex_lock(&p->mu);
        if (rc < 0 && errno != EINTR) {
            /* EINVAL when the poll set outgrows RLIMIT_NOFILE, ENOMEM: rest, then try again */
            wr_warn_limited(&p->rl, "chaos proxy: poll: %s", strerror(errno));
            pthread_mutex_unlock(&p->mu);
            usleep(10000);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        if (p->pfd[0].revents) {
            uint64_t v;
            ssize_t got = read(p->wake, &v, sizeof v);
            (void)got;
        }
        now = wr_now_ns();
        next_due = -1;
        /* Connections first, by their slots (accepting appends, closing swaps from the end: walk
         * down so that the connections polled keep their slots). */
        for (size_t i = nconns; i-- > 0;) {
            if (!s_conn_serve(p->conns[i], &p->pfd[1 + nroutes + 2 * i], now, &next_due))
                s_conn_close(p, i);
        }
        for (size_t i = 0; i < nroutes; i++)
            if (p->pfd[1 + i].revents) s_accept(p, p->routes[i], now);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the API ---- */

int wr_chaos_proxy_new(wr_chaos_proxy_t **out)
{
    *out = NULL;
    wr_chaos_proxy_t *p = calloc(1, sizeof *p);
    if (!p) return WR_ENOMEM;
    wr_logrl_init(&p->rl, 0);
    p->pfd_cap = 64;
    p->pfd = malloc(p->pfd_cap * sizeof *p->pfd);
    p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int err = !p->pfd ? WR_ENOMEM : p->wake < 0 ? WR_EIO : 0;
    if (!err && pthread_mutex_init(&p->mu, NULL)) err = WR_EIO;
    if (!err && pthread_create(&p->thread, NULL, s_run, p)) {
        pthread_mutex_destroy(&p->mu);
        err = WR_EIO;
    }
    if (err) {
        if (p->wake >= 0) close(p->wake);
        free(p->pfd);
        free(p);
        return err;
    }
    *out = p;
    return 0;
}

void wr_chaos_proxy_destroy(wr_chaos_proxy_t **pp)
{
    wr_chaos_proxy_t *p = pp ? *pp : NULL;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    s_apply(p);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    while (p->nconns)
        s_conn_close(p, p->nconns - 1);
    for (size_t i = 0; i < p->nroutes; i++) {
        close(p->routes[i]->lfd);
        free(p->routes[i]);
    }
    close(p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->routes);
    free(p->conns);
    free(p->nodes);
    free(p->pairs);
    free(p->pfd);
    free(p);
    *pp = NULL;
}

int wr_chaos_proxy_node(wr_chaos_proxy_t *p, const char *name, const char *source_ip)
{
    struct in_addr a;
    if (!p || !s_name_ok(name) || !source_ip || inet_pton(AF_INET, source_ip, &a) != 1 ||
        (ntohl(a.s_addr) >> 24) != 127)
        return WR_EINVAL;
    pthread_mutex_lock(&p->mu);
    int err = 0;
    for (size_t i = 0; i < p->nnodes && !err; i++)
        if (p->nodes[i].ip == a.s_addr || !strcmp(p->nodes[i].name, name)) err = WR_EEXIST;
    if (!err) err = s_grow((void **)&p->nodes, p->nnodes, sizeof *p->nodes);
    if (!err) {
        s_node_t *n = &p->nodes[p->nnodes++];
        snprintf(n->name, sizeof n->name, "%s", name);
        n->ip = a.s_addr;
        s_apply(p);
    }
    pthread_mutex_unlock(&p->mu);
    return err;
}

int wr_chaos_proxy_route(wr_chaos_proxy_t *p, const char *to, const char *host, int port,
                         int listen_port, int *bound_port)
{
    if (!p || !s_name_ok(to) || !host || port < 1 || port > 65535 || listen_port < 0 ||
        listen_port > 65535)
        return WR_EINVAL;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) || !ai) return WR_EINVAL;
    s_route_t *r = calloc(1, sizeof *r);
    if (!r) {
        freeaddrinfo(ai);
        return WR_ENOMEM;
    }
    memcpy(&r->dest, ai->ai_addr, sizeof r->dest);
    freeaddrinfo(ai);
    r->dest.sin_port = htons((uint16_t)port);
    snprintf(r->to, sizeof r->to, "%s", to);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)listen_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int one = 1, err = 0;
    r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->lfd < 0 || setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(r->lfd, (struct sockaddr *)&a, sizeof a) || listen(r->lfd, 128) ||
        getsockname(r->lfd, (struct sockaddr *)&a, &len))
        err = WR_EIO;
    if (!err) {
        pthread_mutex_lock(&p->mu);
        err = s_grow((void **)&p->routes, p->nroutes, sizeof *p->routes);
        if (!err) {
            p->routes[p->nroutes++] = r;
            s_apply(p);
        }
        pthread_mutex_unlock(&p->mu);
    }
    if (err) {
        if (r->lfd >= 0) close(r->lfd);
        free(r);
        return err;
    }
    if (bound_port) *bound_port = ntohs(a.sin_port);
    return 0;
}

/* Sets the rule of from -> to by f (cut or delay) under the lock; a pair with neither is removed.
 */
static int s_rule(wr_chaos_proxy_t *p, const char *from, const char *to, int has_cut, bool cut,
                  int64_t delay_ms)
{
    if (!p || !s_name_ok(from) || !s_name_ok(to) || delay_ms < 0 || delay_ms > S_DELAY_MAX)
        return WR_EINVAL;
    pthread_mutex_lock(&p->mu);
    s_pair_t *r = (s_pair_t *)s_pair_find(p, from, to);
    int err = 0;
    if (!r && !(err = s_grow((void **)&p->pairs, p->npairs, sizeof *p->pairs))) {
        r = &p->pairs[p->npairs++];
        *r = (s_pair_t){0};
        snprintf(r->from, sizeof r->from, "%s", from);
        snprintf(r->to, sizeof r->to, "%s", to);
    }
    if (r) {
        if (has_cut)
            r->cut = cut;
        else
            r->delay_ms = delay_ms;
        if (!r->cut && !r->delay_ms) *r = p->pairs[--p->npairs];
        s_apply(p);
    }
    pthread_mutex_unlock(&p->mu);
    return err;
}

int wr_chaos_proxy_cut(wr_chaos_proxy_t *p, const char *from, const char *to, bool cut)
{
    return s_rule(p, from, to, 1, cut, 0);
}

int wr_chaos_proxy_delay(wr_chaos_proxy_t *p, const char *from, const char *to, int64_t ms)
{
    return s_rule(p, from, to, 0, false, ms);
}

void wr_chaos_proxy_heal_all(wr_chaos_proxy_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->npairs = 0;
    s_apply(p);
    pthread_mutex_unlock(&p->mu);
}

int wr_chaos_proxy_stats(wr_chaos_proxy_t *p, const char *to, wr_chaos_route_stats_t *out)
{
    if (!p || !to || !out) return WR_EINVAL;
    *out = (wr_chaos_route_stats_t){0};
    int err = WR_ENOTFOUND;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nroutes; i++) {
        const wr_chaos_route_stats_t *s = &p->routes[i]->st;
        if (strcmp(p->routes[i]->to, to)) continue;
        err = 0;
        out->accepted += s->accepted;
        out->open += s->open;
        out->bytes_to += s->bytes_to;
        out->bytes_from += s->bytes_from;
        out->refused += s->refused;
        out->accept_failed += s->accept_failed;
    }
    for (size_t i = 0; i < p->nconns; i++) {
        const s_conn_t *c = p->conns[i];
        if (strcmp(c->route->to, to)) continue;
        for (int d = 0; d < 2; d++) {
            /* held by a delay: read, not yet due; by a cut: all the proxy holds and what waits
             * unread in the sender's socket */
            int unread = 0;
            if (c->dir[d].cut && !c->connecting && ioctl(c->fd[d], FIONREAD, &unread)) unread = 0;
            out->stalled_now += c->dir[d].cut ? c->dir[d].head - c->dir[d].tail + (uint64_t)unread
                                              : c->dir[d].head - c->dir[d].ready;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return err;
}
