/* The REST API's bearer tokens: how an HTTP client proves a role of the bus's keys (bus/keys.h)
 * to a JobManager whose bus authenticates (security.curve on).
 *
 *     KEYS_DIR/rest-tokens            mode 0600: a line per client, "NAME ROLE TOKEN" (role admin
 *                                     or viewer); the JobManager's list. Removing a line revokes
 * it. KEYS_DIR/secret/NAME.rest-token mode 0600: the client's own copy of its TOKEN
 *
 * `weir keygen --admin NAME` (or --viewer) adds both beside the client's certificate. A request
 * then carries `Authorization: Bearer TOKEN`. A TOKEN is 64 hex digits (32 bytes of getrandom);
 * it is compared in constant time with every line's.
 *
 * The list is read again when its file changed (its modification time or size), at most once per
 * check: a line added or removed counts from the next request. Thread-safe: the REST API checks
 * from each connection's thread. */
#ifndef WR_REST_TOKENS_H
#define WR_REST_TOKENS_H

#include <stdbool.h>

#include "bus/base/strbuf.h"
#include "bus/keys.h"

#define WR_REST_TOKEN_LEN 64 /* hex digits, without the NUL */

typedef struct wr_rest_tokens wr_rest_tokens_t;

/* The list in keys_dir (its file need not exist yet: then every token is refused). NULL only when
 * out of memory. */
wr_rest_tokens_t *wr_rest_tokens_open(const char *keys_dir);
void wr_rest_tokens_destroy(wr_rest_tokens_t **t);

/* The client an Authorization header's value ("Bearer TOKEN"; NULL: none) names: true with its
 * role (and name, WR_KEYS_NAME_MAX bytes) when the token is on the list. A line of the file that
 * is not "NAME ROLE TOKEN" is skipped with a warning, once per reading. */
bool wr_rest_tokens_check(wr_rest_tokens_t *t, const char *authorization, wr_role_t *role,
                          char name[WR_KEYS_NAME_MAX]);

/* For keygen: gives the client name (role admin or viewer) a token when it has none on keys_dir's
 * list: appends its line (creating the file, mode 0600) and writes its own copy. *made says
 * whether it did; path (if not NULL, 512 bytes) gets the copy's path. 0, or an error with the
 * reason in *err. */
int wr_rest_tokens_add(const char *keys_dir, const char *name, wr_role_t role, bool *made,
                       char *path, wr_strbuf_t *err);

#endif
