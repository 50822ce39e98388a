/* HTTP for the tests of weir's HTTP servers (the REST API, the metrics) and of what they talk to
 * (Prometheus): one exchange with 127.0.0.1 through libcurl. th_ is for "test HTTP". */
#ifndef WR_TEST_HTTP_H
#define WR_TEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* ps_group_setup (process.h) with libcurl's global set-up first, and its teardown with
 * libcurl's cleanup after: the group set-up and teardown of a test that speaks HTTP. */
int th_group_setup(const char *name, bool need_src);
int th_group_teardown(void **state);

/* An HTTP exchange: status, body, the Allow header (kept until the test ends). */
typedef struct {
    long status;
    const char *body;
    const char *allow;
} th_http_t;

/* method path on 127.0.0.1:port, with body (NULL: none) of len bytes; fails the test when there is
 * no answer (a body cut off by the server's 413 counts as answered). */
/* The REST token the group's `weir keygen --admin/--viewer NAME` wrote (PS_KEYGEN_ARGS), kept. */
const char *th_rest_token(const char *name);
th_http_t th_http(int port, const char *method, const char *path, const char *body, size_t len);
/* The same with one more request header ("Name: value"; NULL: none). */
th_http_t th_http_with(int port, const char *header, const char *method, const char *path,
                       const char *body, size_t len);
/* The status of GET path on 127.0.0.1:port, or 0 when nothing answers (a server starting). */
long th_http_quiet(int port, const char *path);

#endif
