/* One HTTP POST over a caller's curl handle, the way weir's HTTP clients make them (the etcd
 * client, the InfluxDB sink): the connection reused from call to call (the handle's cache), a
 * connect timeout and a total timeout, so that no call hangs, no signals (threads), http and
 * https only, and the reply body read into a wr_strbuf_t up to a bound (more aborts the
 * transfer: a server cannot make the client buffer without end).
 *
 *     wr_http_reply_t reply = {.body = &buf, .max = 64 << 10};
 *     wr_http_post_t p = {.url = url, .body = text, .len = n, .headers = h,
 *                         .timeout_ms = 5000, .connect_timeout_ms = 1000};
 *     wr_http_prepare(curl, &p, &reply);
 *     // more options of the caller's own (TLS files, a source address)
 *     CURLcode cc = curl_easy_perform(curl);
 *     int rc = wr_http_result(curl, cc, &reply, &status);
 *
 * Threads: a curl handle belongs to one thread at a time; nothing here has state of its own. */
#ifndef WR_HTTP_H
#define WR_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "bus/base/strbuf.h"

/* Where the reply body goes: appended to *body (reset by wr_http_prepare), at most max bytes. */
typedef struct {
    wr_strbuf_t *body;
    size_t max;
} wr_http_reply_t;

/* A POST: body[0, len) to url (borrowed, they must live until the transfer ends), with headers
 * (NULL: none), within timeout_ms in all and connect_timeout_ms to connect (both > 0). */
typedef struct {
    const char *url;
    const char *body;
    size_t len;
    const struct curl_slist *headers;
    long timeout_ms, connect_timeout_ms;
} wr_http_post_t;

/* Resets c's options (curl_easy_reset keeps its connections) and sets those of the POST p, the
 * reply going to reply (which must live until the transfer ends). */
void wr_http_prepare(CURL *c, const wr_http_post_t *p, wr_http_reply_t *reply);

/* Whether a transfer that ended with cc never reached the server (no connection: the request was
 * not sent, so another try or another server cannot make it happen twice). */
bool wr_http_not_sent(CURLcode cc);

/* The outcome of the transfer that ended with cc on c, as a weir code: 0 (an answer came: its
 * status in *status), WR_EUNREACH (no connection), WR_ETIMEDOUT (no answer in time: the request
 * may have been applied), WR_ETOOBIG (a reply over reply->max), WR_ENOMEM (the reply's buffer),
 * WR_ECONFIG (a failure that trying again cannot mend: a malformed URL, a certificate the server's
 * does not match or that cannot be read...), WR_EIO (another failure). curl_easy_strerror(cc)
 * says which. *status is 0 unless 0 is
 * returned. */
int wr_http_result(CURL *c, CURLcode cc, const wr_http_reply_t *reply, long *status);

#endif
