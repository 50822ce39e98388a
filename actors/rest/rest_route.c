/* The REST API's routes (rest_route.h). */
#include "actors/rest/rest_route.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The path's segments, at most S_MAX_SEGMENTS of them (an actor's address has a few). */
#define S_MAX_SEGMENTS 8

typedef struct {
    const char *s;
    size_t len;
} s_seg_t;

static bool s_is(const s_seg_t *g, const char *word)
{
    return g->len == strlen(word) && !memcmp(g->s, word, g->len);
}

static bool s_id_chars(const s_seg_t *g)
{
    for (size_t i = 0; i < g->len; i++) {
        char c = g->s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return g->len > 0;
}

/* Copies g into id when it is a valid id. */
static bool s_id(const s_seg_t *g, char id[WR_REST_ID_MAX])
{
    if (g->len >= WR_REST_ID_MAX || !s_id_chars(g)) return false;
    memcpy(id, g->s, g->len);
    id[g->len] = '\0';
    return true;
}

/* Decimal digits under 2^31. */
static bool s_index(const s_seg_t *g, uint32_t *v)
{
    if (g->len == 0 || g->len > 10) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < g->len; i++) {
        if (g->s[i] < '0' || g->s[i] > '9') return false;
        x = x * 10 + (uint64_t)(g->s[i] - '0');
    }
    if (x >= (UINT64_C(1) << 31)) return false;
    *v = (uint32_t)x;
    return true;
}

/* Joins segments g[0, n) with '/' into addr when each is made of id characters and it fits. */
static bool s_addr(const s_seg_t *g, size_t n, char addr[WR_REST_ADDR_MAX])
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s_id_chars(&g[i]) || at + (i > 0) + g[i].len >= WR_REST_ADDR_MAX) return false;
        if (i) addr[at++] = '/';
        memcpy(addr + at, g[i].s, g[i].len);
        at += g[i].len;
    }
    addr[at] = '\0';
    return n > 0;
}

/* Splits the path of url (up to '?' or '#') into segments: false when it does not start with
 * '/', has an empty segment (but for one trailing '/'), or too many. */
static bool s_split(const char *url, s_seg_t seg[S_MAX_SEGMENTS], size_t *n)
{
    size_t end = strcspn(url, "?#");
    if (end == 0 || url[0] != '/') return false;
    if (end > 1 && url[end - 1] == '/') end--; /* one trailing '/' */
    if (end > 1 && url[end - 1] == '/') return false;
    *n = 0;
    for (size_t at = 1; at < end;) {
        size_t len = strcspn(url + at, "/?#");
        if (at + len > end) len = end - at;
        if (len == 0 || *n == S_MAX_SEGMENTS) return false;
        seg[(*n)++] = (s_seg_t){url + at, len};
        at += len + 1;
    }
    return true;
}

static wr_rest_route_t s_jobs(const s_seg_t *g, size_t n, wr_rest_params_t *p)
{
    if (n == 1) return WR_REST_JOBS;
    if (n == 2 && s_is(&g[1], "overview")) return WR_REST_JOBS_OVERVIEW;
    if (!s_id(&g[1], p->id)) return WR_REST_NOT_FOUND;
    if (n == 2) return WR_REST_JOB;
    if (n == 3 && s_is(&g[2], "exceptions")) return WR_REST_JOB_EXCEPTIONS;
    if (n == 3 && s_is(&g[2], "checkpoints")) return WR_REST_JOB_CHECKPOINTS;
    if (n == 3 && s_is(&g[2], "savepoints")) return WR_REST_JOB_SAVEPOINT;
    if (n == 3 && s_is(&g[2], "stop")) return WR_REST_JOB_STOP;
    if (n < 4 || !s_is(&g[2], "vertices") || !s_index(&g[3], &p->vertex)) return WR_REST_NOT_FOUND;
    if (n == 4) return WR_REST_VERTEX;
    if (n == 5 && s_is(&g[4], "watermarks")) return WR_REST_VERTEX_WATERMARKS;
    if (n == 5 && s_is(&g[4], "backpressure")) return WR_REST_VERTEX_BACKPRESSURE;
    return WR_REST_NOT_FOUND;
}

/* The route of the path alone: what GET of it is, or what the one method that acts on it is. */
static wr_rest_route_t s_path(const s_seg_t *g, size_t n, wr_rest_params_t *p)
{
    if (n == 0) return WR_REST_NOT_FOUND;
    if (n == 1 && s_is(&g[0], "overview")) return WR_REST_OVERVIEW;
    if (n == 1 && s_is(&g[0], "config")) return WR_REST_CONFIG;
    if (s_is(&g[0], "jobs")) return s_jobs(g, n, p);
    if (s_is(&g[0], "taskmanagers")) {
        if (n == 1) return WR_REST_TASKMANAGERS;
        if (n == 2 && s_id(&g[1], p->id)) return WR_REST_TASKMANAGER;
    }
    if (s_is(&g[0], "actors")) {
        if (n == 1) return WR_REST_ACTORS;
        if (n >= 4 && s_is(&g[n - 1], "mailbox") && s_addr(g + 1, n - 2, p->addr))
            return WR_REST_MAILBOX;
    }
    return WR_REST_NOT_FOUND;
}

wr_rest_route_t wr_rest_route(const char *method, const char *url, wr_rest_params_t *p)
{
    s_seg_t seg[S_MAX_SEGMENTS];
    size_t n = 0;
    memset(p, 0, sizeof *p);
    wr_rest_route_t r = s_split(url, seg, &n) ? s_path(seg, n, p) : WR_REST_NOT_FOUND;
    if (r == WR_REST_NOT_FOUND) {
        memset(p, 0, sizeof *p); /* (what a path matched in part named) */
        return r;
    }
    /* the method that acts on a path, if one does; GET and HEAD read the others */
    const char *act = r == WR_REST_JOBS                                     ? "POST"
                      : r == WR_REST_JOB                                    ? "PATCH"
                      : r == WR_REST_JOB_SAVEPOINT || r == WR_REST_JOB_STOP ? "POST"
                                                                            : NULL;
    bool act_only = r == WR_REST_JOB_SAVEPOINT || r == WR_REST_JOB_STOP;
    p->allow = act_only            ? act
               : r == WR_REST_JOBS ? "GET, HEAD, POST"
               : r == WR_REST_JOB  ? "GET, HEAD, PATCH"
                                   : "GET, HEAD";
    bool read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (act && !strcmp(method, act)) {
        if (r == WR_REST_JOBS) r = WR_REST_JOB_SUBMIT;
        if (r == WR_REST_JOB) r = WR_REST_JOB_PATCH;
    } else if (act_only || !read) {
        const char *allow = p->allow;
        memset(p, 0, sizeof *p);
        p->allow = allow;
        r = WR_REST_METHOD_NOT_ALLOWED;
    }
    return r;
}

bool wr_rest_route_acts(wr_rest_route_t r)
{
    return r == WR_REST_JOB_SUBMIT || r == WR_REST_JOB_PATCH || r == WR_REST_JOB_SAVEPOINT ||
           r == WR_REST_JOB_STOP;
}
