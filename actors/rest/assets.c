/* The web UI's files (assets.h). */
#include "actors/rest/assets.h"

#include <stdlib.h>
#include <string.h>

#define S_PREFIX "/web/"

static int s_cmp(const void *key, const void *elem)
{
    const char *name = key;
    const wr__rest_asset_t *a = elem;
    size_t n = strcspn(name, "?"); /* the name ends at the query, if any */
    int c = strncmp(name, a->name, n);
    return c ? c : a->name[n] ? -1 : 0;
}

bool wr_rest_asset(const char *method, const char *path, wr_http_reply_t *reply)
{
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) return false;
    const char *name = NULL;
    if (path[0] == '/' && (!path[1] || path[1] == '?'))
        name = "index.html";
    else if (!strncmp(path, S_PREFIX, strlen(S_PREFIX)))
        name = path + strlen(S_PREFIX);
    const wr__rest_asset_t *a =
        name ? bsearch(name, wr__rest_assets, wr__rest_nassets, sizeof *a, s_cmp) : NULL;
    if (!a) return false;
    reply->content_type = a->content_type;
    wr_strbuf_add(&reply->body, a->data, a->len);
    reply->status = reply->body.failed ? 500 : 200; /* (out of memory: an empty body) */
    return true;
}
