/* The REST API's routes (rest_route.h). */
#include "actors/rest/rest_route.h"

#include <stdbool.h>
#include <string.h>

/* The path's segments, at most S_MAX_SEGMENTS of them. */
#define S_MAX_SEGMENTS 4

typedef struct {
    const char *s;
    size_t len;
} s_seg_t;

static bool s_is(const s_seg_t *g, const char *word)
{
    return g->len == strlen(word) && !memcmp(g->s, word, g->len);
}

static bool s_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* Copies g into id when it is a valid id. */
static bool s_id(const s_seg_t *g, char id[WR_REST_ID_MAX])
{
    if (g->len == 0 || g->len >= WR_REST_ID_MAX) return false;
    for (size_t i = 0; i < g->len; i++)
        if (!s_id_char(g->s[i])) return false;
    memcpy(id, g->s, g->len);
    id[g->len] = '\0';
    return true;
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

/* The route of the path alone (any method). */
static wr_rest_route_t s_path(const s_seg_t *g, size_t n, char id[WR_REST_ID_MAX])
{
    if (n == 1 && s_is(&g[0], "overview")) return WR_REST_OVERVIEW;
    if (n == 1 && s_is(&g[0], "config")) return WR_REST_CONFIG;
    if (n >= 1 && s_is(&g[0], "jobs")) {
        if (n == 1) return WR_REST_JOBS;
        if (n == 2 && s_is(&g[1], "overview")) return WR_REST_JOBS_OVERVIEW;
        if (!s_id(&g[1], id)) return WR_REST_NOT_FOUND;
        if (n == 2) return WR_REST_JOB;
        if (n == 3 && s_is(&g[2], "exceptions")) return WR_REST_JOB_EXCEPTIONS;
        return WR_REST_NOT_FOUND;
    }
    if (n >= 1 && s_is(&g[0], "taskmanagers")) {
        if (n == 1) return WR_REST_TASKMANAGERS;
        if (n == 2 && s_id(&g[1], id)) return WR_REST_TASKMANAGER;
    }
    return WR_REST_NOT_FOUND;
}

wr_rest_route_t wr_rest_route(const char *method, const char *url, char id[WR_REST_ID_MAX])
{
    s_seg_t seg[S_MAX_SEGMENTS];
    size_t n = 0;
    id[0] = '\0';
    if (!s_split(url, seg, &n)) return WR_REST_NOT_FOUND;
    wr_rest_route_t r = s_path(seg, n, id);
    if (r != WR_REST_NOT_FOUND && strcmp(method, "GET") && strcmp(method, "HEAD"))
        r = WR_REST_METHOD_NOT_ALLOWED;
    if (r == WR_REST_NOT_FOUND || r == WR_REST_METHOD_NOT_ALLOWED) id[0] = '\0';
    return r;
}
