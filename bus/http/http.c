/* One HTTP POST over libcurl (http.h). */
#include "bus/http/http.h"

#include "bus/base/error.h"

/* curl's write callback: the reply, at most reply->max bytes (more aborts the transfer). */
static size_t s_write(char *data, size_t size, size_t n, void *arg)
{
    wr_http_reply_t *reply = arg;
    size_t len = size * n;
    if (reply->body->len + len > reply->max) return 0;
    wr_strbuf_add(reply->body, data, len);
    return reply->body->failed ? 0 : len;
}

void wr_http_prepare(CURL *c, const wr_http_post_t *p, wr_http_reply_t *reply)
{
    wr_strbuf_reset(reply->body);
    curl_easy_reset(c); /* keeps the connection cache: the same connection is reused */
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
}

bool wr_http_not_sent(CURLcode cc)
{
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
           cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* Failures that come of the request or the set-up, not of the moment: trying again cannot mend
 * them. A certificate that does not verify, or no cipher both sides have, is among them on
 * purpose (a wrong certificate is a configuration to fix, not a moment to wait out; the job's
 * restart strategy still tries again later); a handshake cut short (CURLE_SSL_CONNECT_ERROR: a
 * server starting, a connection reset) is not. */
static bool s_permanent(CURLcode cc)
{
    switch (cc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_LOGIN_DENIED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return true;
    default:
        return false;
    }
}

int wr_http_result(CURL *c, CURLcode cc, const wr_http_reply_t *reply, long *status)
{
    *status = 0;
    if (wr_http_not_sent(cc)) return WR_EUNREACH;
    if (s_permanent(cc)) return WR_ECONFIG;
    if (cc == CURLE_OPERATION_TIMEDOUT) return WR_ETIMEDOUT;
    if (cc == CURLE_WRITE_ERROR) return reply->body->failed ? WR_ENOMEM : WR_ETOOBIG;
    if (cc != CURLE_OK) return WR_EIO;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return 0;
}
