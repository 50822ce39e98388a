/* The web UI's files, built into the binary: what the REST API's port serves beside its JSON.
 *
 *   GET /               web/index.html
 *   GET /web/NAME       web/NAME, any file of actors/rest/web/
 *
 * The build turns every file of actors/rest/web/ into a table (web_assets.c in the build folder,
 * made by SConstruct's embed(): each file's bytes, length and content type, sorted by name), so a
 * node needs no file at run time and the UI's version is always the binary's. HEAD is GET
 * without a body. Anything else (another path, another method) is not an asset: the REST API
 * answers it. */
#ifndef WR_REST_ASSETS_H
#define WR_REST_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "actors/rest/http.h"

/* Fills reply (status 200, the file's content type, its bytes appended to the body) and returns
 * true when method and path (a request target; a query string is ignored) name an asset; returns
 * false and leaves reply alone otherwise. */
bool wr_rest_asset(const char *method, const char *path, wr_http_reply_t *reply);

/* ---- the table the build generates (internal: only assets.c reads it) ---- */

typedef struct {
    const char *name; /* "app.js": its path below actors/rest/web/ */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} wr__rest_asset_t;

extern const wr__rest_asset_t wr__rest_assets[]; /* sorted by name (strcmp) */
extern const size_t wr__rest_nassets;

#endif
