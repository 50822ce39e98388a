/* POSTs of line protocol to InfluxDB (influx_client.h). */
#include "actors/connectors/influxdb/influx_client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/connectors/influxdb/influx_reply.h"
#include "bus/base/error.h"
#include "bus/http/http.h"

#define S_BACKOFF_MAX_MS 5000

struct wr_influx_client {
    const wr_influxdb_sink_config_t *c;
    CURL *curl;
    struct curl_slist *headers;
    wr_strbuf_t url, reply;
};

void wr_influx_client_destroy(wr_influx_client_t **clp)
{
    wr_influx_client_t *cl = *clp;
    if (!cl) return;
    if (cl->curl) curl_easy_cleanup(cl->curl);
    curl_slist_free_all(cl->headers);
    wr_strbuf_release(&cl->url);
    wr_strbuf_release(&cl->reply);
    free(cl);
    *clp = NULL;
}

/* "&name=" and value URL-encoded, when value is not empty. */
static void s_query(wr_influx_client_t *cl, const char *name, const char *value)
{
    if (!value[0]) return;
    char *enc = curl_easy_escape(cl->curl, value, 0);
    if (!enc) {
        cl->url.failed = true;
        return;
    }
    wr_strbuf_addf(&cl->url, "&%s=%s", name, enc);
    curl_free(enc);
}

static struct curl_slist *s_header(struct curl_slist *list, const char *h, bool *ok)
{
    struct curl_slist *l = *ok ? curl_slist_append(list, h) : NULL;
    if (!l) *ok = false;
    return l ? l : list;
}

wr_influx_client_t *wr_influx_client_new(const wr_influxdb_sink_config_t *c, wr_strbuf_t *err)
{
    wr_influx_client_t *cl = calloc(1, sizeof *cl);
    if (!cl) return NULL;
    cl->c = c;
    wr_strbuf_init(&cl->url);
    wr_strbuf_init(&cl->reply);
    cl->curl = curl_easy_init();
    bool ok = cl->curl != NULL;
    size_t n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        n--;
    wr_strbuf_add(&cl->url, c->url, n);
    if (ok && c->api == WR_INFLUXDB_V1) {
        wr_strbuf_adds(&cl->url, "/write?precision=ms");
        s_query(cl, "db", c->database);
        s_query(cl, "rp", c->rp);
    } else if (ok) {
        wr_strbuf_adds(&cl->url, "/api/v2/write?precision=ms");
        s_query(cl, "org", c->org);
        s_query(cl, "bucket", c->bucket);
    }
    cl->headers = s_header(NULL, "Content-Type: text/plain; charset=utf-8", &ok);
    if (c->api == WR_INFLUXDB_V2) {
        wr_strbuf_t auth;
        wr_strbuf_init(&auth);
        wr_strbuf_addf(&auth, "Authorization: Token %s", c->token);
        ok = ok && !auth.failed;
        cl->headers = s_header(cl->headers, auth.buf, &ok);
        wr_strbuf_release(&auth);
    }
    if (!ok || cl->url.failed) {
        if (err) wr_strbuf_adds(err, cl->curl ? "out of memory" : "curl_easy_init failed");
        wr_influx_client_destroy(&cl);
    }
    return cl;
}

const char *wr_influx_client_url(const wr_influx_client_t *cl)
{
    return cl->url.buf;
}

/* The weir code of a final HTTP answer that is not 2xx. */
static int s_status_error(long status)
{
    if (status == 404) return WR_ENOTFOUND;
    if (status == 401 || status == 403) return WR_EPERM;
    if (status == 413) return WR_ETOOBIG;
    if (status >= 400 && status < 500) return WR_EINVAL;
    return WR_EIO;
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* One POST: 0 with *status set, or the transport's failure (reason appended to why). */
static int s_post_once(wr_influx_client_t *cl, const char *body, size_t len, long *status,
                       wr_strbuf_t *why)
{
    const wr_influxdb_sink_config_t *c = cl->c;
    wr_http_reply_t reply = {.body = &cl->reply, .max = WR_INFLUX_REPLY_MAX};
    wr_http_post_t post = {.url = cl->url.buf,
                           .body = body,
                           .len = len,
                           .headers = cl->headers,
                           .timeout_ms = (long)c->timeout_ms,
                           .connect_timeout_ms = (long)c->connect_timeout_ms};
    wr_http_prepare(cl->curl, &post, &reply);
    if (c->api == WR_INFLUXDB_V1 && c->username[0]) {
        curl_easy_setopt(cl->curl, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(cl->curl, CURLOPT_PASSWORD, c->password);
    }
    CURLcode cc = curl_easy_perform(cl->curl);
    int rc = wr_http_result(cl->curl, cc, &reply, status);
    if (rc == WR_EUNREACH)
        wr_strbuf_addf(why, "no connection: %s", curl_easy_strerror(cc));
    else if (rc == WR_ETIMEDOUT)
        wr_strbuf_addf(why, "no answer within %lld ms", (long long)c->timeout_ms);
    else if (rc == WR_ETOOBIG)
        wr_strbuf_addf(why, "an answer over %u bytes", WR_INFLUX_REPLY_MAX);
    else if (rc)
        wr_strbuf_addf(why, "%s", curl_easy_strerror(cc));
    return rc;
}

int wr_influx_client_write(wr_influx_client_t *cl, const char *body, size_t len, wr_strbuf_t *err)
{
    const wr_influxdb_sink_config_t *c = cl->c;
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    long backoff = (long)c->retry_backoff_ms, status = 0;
    uint32_t tries = 0;
    int rc;
    for (;;) {
        wr_strbuf_reset(&why);
        tries++;
        rc = s_post_once(cl, body, len, &status, &why);
        if (!rc && status >= 200 && status < 300) break;
        if (!rc) {
            wr_strbuf_addf(&why, "HTTP %ld", status);
            size_t at = why.len;
            wr_strbuf_adds(&why, ": ");
            if (wr_influx_reply_error(cl->reply.buf, cl->reply.len, &why) != 0)
                wr_strbuf_truncate(&why, at);
            rc = s_status_error(status);
            /* InfluxDB refuses the points: trying again cannot help, but for a request timeout
             * and a rate limit (InfluxDB 2 and Cloud answer 429 when writes come too fast) */
            if (status < 500 && status != 408 && status != 429) break;
        } else if (rc != WR_EUNREACH && rc != WR_ETIMEDOUT && rc != WR_EIO) {
            break; /* out of memory, an oversized answer, a certificate that does not match */
        }
        if (tries > c->retries) break;
        s_sleep_ms(backoff);
        backoff = backoff * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff * 2;
    }
    if (rc && err) {
        wr_strbuf_addf(err, "%s: %s", cl->url.buf, why.buf);
        if (tries > 1) wr_strbuf_addf(err, " (%u tries)", tries);
    }
    wr_strbuf_release(&why);
    return rc;
}
