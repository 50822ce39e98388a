/* HTTP for the tests (http.h). */
#include "tests/support/http.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "bus/base/strbuf.h"
#include "tests/support/process.h"

int th_group_setup(const char *name, bool need_src)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) return -1;
    return ps_group_setup(name, need_src);
}

int th_group_teardown(void **state)
{
    int rc = ps_group_teardown(state);
    curl_global_cleanup();
    return rc;
}

static size_t s_collect(char *p, size_t size, size_t n, void *sb)
{
    wr_strbuf_add(sb, p, size * n);
    return size * n;
}

static size_t s_header(char *p, size_t size, size_t n, void *allow)
{
    if (size * n > 6 && !strncasecmp(p, "Allow:", 6))
        wr_strbuf_add(allow, p + 6, strcspn(p + 6, "\r\n"));
    return size * n;
}

const char *th_rest_token(const char *name)
{
    const char *token = ps_read_file(ps_fmt("%s/secret/%s.rest-token", ps_h.keys, name));
    return ps_fmt("%.*s", (int)strcspn(token, "\n"), token);
}

th_http_t th_http(int port, const char *method, const char *path, const char *body, size_t len)
{
    return th_http_with(port, NULL, method, path, body, len);
}

th_http_t th_http_with(int port, const char *header, const char *method, const char *path,
                       const char *body, size_t len)
{
    CURL *h = curl_easy_init();
    if (!h) PS_FAIL("curl_easy_init");
    struct curl_slist *headers = header ? curl_slist_append(NULL, header) : NULL;
    if (header && !headers) PS_FAIL("curl_slist_append");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    wr_strbuf_t out, allow;
    wr_strbuf_init(&out);
    wr_strbuf_init(&allow);
    curl_easy_setopt(h, CURLOPT_URL, ps_fmt("http://127.0.0.1:%d%s", port, path));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &allow);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    CURLcode rc = curl_easy_perform(h);
    th_http_t r = {0, ps_keep(wr_strbuf_detach(&out, NULL)),
                   ps_keep(wr_strbuf_detach(&allow, NULL))};
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    /* (a body cut off by the server's 413 is a send error, with the answer read) */
    if (rc != CURLE_OK && !(rc == CURLE_SEND_ERROR && r.status))
        PS_FAIL("%s %s: %s", method, path, curl_easy_strerror(rc));
    return r;
}

long th_http_quiet(int port, const char *path)
{
    CURL *h = curl_easy_init();
    if (!h) PS_FAIL("curl_easy_init");
    curl_easy_setopt(h, CURLOPT_URL, ps_fmt("http://127.0.0.1:%d%s", port, path));
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    return status;
}
