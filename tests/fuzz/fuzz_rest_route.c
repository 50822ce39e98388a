/* libFuzzer target: the REST API's router (actors/rest/rest_route.h) on arbitrary request
 * targets. The first byte picks the method (GET, HEAD, POST, DELETE, or the rest of the input up
 * to a NUL as a method of its own), the rest is the URL. Checks: no crash or read past the input;
 * id is NUL-terminated, under WR_REST_ID_MAX, made only of the id characters, and set exactly for
 * the routes that have one; a route found for GET is found the same for HEAD and refused (405) for
 * POST; the same input routes the same way twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/rest/rest_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_has_id(wr_rest_route_t r)
{
    return r == WR_REST_JOB || r == WR_REST_JOB_EXCEPTIONS || r == WR_REST_TASKMANAGER;
}

static void s_check_id(wr_rest_route_t r, const char id[WR_REST_ID_MAX])
{
    size_t len = strnlen(id, WR_REST_ID_MAX);
    if (len == WR_REST_ID_MAX) abort(); /* not terminated */
    if (s_has_id(r) != (len > 0)) abort();
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", id[i]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE"};
    char *url = malloc(size); /* the rest, NUL-terminated (MHD hands over a C string) */
    if (!url) return 0;
    memcpy(url, data + 1, size - 1);
    url[size - 1] = '\0';
    const char *method = data[0] < 4 ? methods[data[0]] : "GET";
    char id[WR_REST_ID_MAX], again[WR_REST_ID_MAX];
    wr_rest_route_t r = wr_rest_route(method, url, id);
    s_check_id(r, id);
    if (wr_rest_route(method, url, again) != r || strcmp(id, again)) abort();
    wr_rest_route_t get = wr_rest_route("GET", url, id);
    s_check_id(get, id);
    if (get != WR_REST_NOT_FOUND) {
        if (wr_rest_route("HEAD", url, again) != get || strcmp(id, again)) abort();
        if (wr_rest_route("POST", url, again) != WR_REST_METHOD_NOT_ALLOWED) abort();
    }
    free(url);
    return 0;
}
