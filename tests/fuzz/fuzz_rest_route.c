/* libFuzzer target: the REST API's router (actors/rest/rest_route.h) on arbitrary request
 * targets. The first byte picks the method (GET, HEAD, POST, PATCH, DELETE; GET beyond), the rest
 * is the URL. Checks: no crash or read past the input; id and addr are NUL-terminated within their
 * buffers, made only of id characters (and '/' between an address's segments), and set exactly
 * for the routes that have them; a vertex index only on its route; every route but NOT_FOUND
 * names the methods its path allows; a route found for GET is found the same for HEAD and refused
 * (405, nothing but allow set) for DELETE, and for POST and PATCH unless it is the path they act
 * on (POST /jobs, PATCH /jobs/:id, with the same id); a path GET refuses takes POST (a savepoint,
 * a stop); the same input routes the same way twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/rest/rest_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_has_id(wr_rest_route_t r)
{
    return r == WR_REST_JOB || r == WR_REST_JOB_EXCEPTIONS || r == WR_REST_JOB_CHECKPOINTS ||
           r == WR_REST_VERTEX || r == WR_REST_VERTEX_WATERMARKS ||
           r == WR_REST_VERTEX_BACKPRESSURE || r == WR_REST_TASKMANAGER || r == WR_REST_JOB_PATCH ||
           r == WR_REST_JOB_SAVEPOINT || r == WR_REST_JOB_STOP;
}

static void s_check_chars(const char *s, size_t cap, int has, int slashes)
{
    size_t len = strnlen(s, cap);
    if (len == cap) abort(); /* not terminated */
    if (has != (len > 0)) abort();
    for (size_t i = 0; i < len; i++) {
        if (slashes && s[i] == '/' && i > 0 && i + 1 < len && s[i + 1] != '/') continue;
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
            abort();
    }
}

static void s_check(wr_rest_route_t r, const wr_rest_params_t *p)
{
    s_check_chars(p->id, sizeof p->id, s_has_id(r), 0);
    s_check_chars(p->addr, sizeof p->addr, r == WR_REST_MAILBOX, 1);
    if (r == WR_REST_MAILBOX && !strchr(p->addr, '/')) abort(); /* node/path */
    if (r != WR_REST_VERTEX && r != WR_REST_VERTEX_WATERMARKS && r != WR_REST_VERTEX_BACKPRESSURE &&
        p->vertex)
        abort();
    if (p->vertex >= (UINT32_C(1) << 31)) abort();
    if ((r == WR_REST_NOT_FOUND) != (p->allow == NULL)) abort();
    if (wr_rest_route_acts(r) != (r == WR_REST_JOB_SUBMIT || r == WR_REST_JOB_PATCH ||
                                  r == WR_REST_JOB_SAVEPOINT || r == WR_REST_JOB_STOP))
        abort();
}

static int s_same(const wr_rest_params_t *a, const wr_rest_params_t *b)
{
    return !strcmp(a->id, b->id) && !strcmp(a->addr, b->addr) && a->vertex == b->vertex;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    static const char *const methods[] = {"GET", "HEAD", "POST", "PATCH", "DELETE"};
    char *url = malloc(size); /* the rest, NUL-terminated (MHD hands over a C string) */
    if (!url) return 0;
    memcpy(url, data + 1, size - 1);
    url[size - 1] = '\0';
    const char *method = data[0] < 5 ? methods[data[0]] : "GET";
    wr_rest_params_t p, again;
    wr_rest_route_t r = wr_rest_route(method, url, &p);
    s_check(r, &p);
    if (wr_rest_route(method, url, &again) != r || !s_same(&p, &again)) abort();
    wr_rest_route_t get = wr_rest_route("GET", url, &p);
    s_check(get, &p);
    if (get != WR_REST_NOT_FOUND && get != WR_REST_METHOD_NOT_ALLOWED) {
        if (wr_rest_route("HEAD", url, &again) != get || !s_same(&p, &again)) abort();
        if (wr_rest_route("DELETE", url, &again) != WR_REST_METHOD_NOT_ALLOWED) abort();
        s_check(WR_REST_METHOD_NOT_ALLOWED, &again);
        wr_rest_route_t post = wr_rest_route("POST", url, &again);
        if (post != (get == WR_REST_JOBS ? WR_REST_JOB_SUBMIT : WR_REST_METHOD_NOT_ALLOWED))
            abort();
        s_check(post, &again);
        wr_rest_route_t patch = wr_rest_route("PATCH", url, &again);
        if (patch != (get == WR_REST_JOB ? WR_REST_JOB_PATCH : WR_REST_METHOD_NOT_ALLOWED)) abort();
        s_check(patch, &again);
        if (patch == WR_REST_JOB_PATCH && !s_same(&p, &again)) abort();
    } else if (get == WR_REST_METHOD_NOT_ALLOWED) { /* a path only POST acts on */
        wr_rest_route_t post = wr_rest_route("POST", url, &again);
        if (post != WR_REST_JOB_SAVEPOINT && post != WR_REST_JOB_STOP) abort();
        s_check(post, &again);
    }
    free(url);
    return 0;
}
