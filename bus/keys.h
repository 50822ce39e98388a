/* A cluster's CURVE keys (czmq zcert files) as the bus uses them: one certificate per node and per
 * client, each naming itself and its role in its metadata ("name", "role").
 *
 *     KEYS_DIR/            mode 0700
 *       public/NAME        the public certificate of every node and client of the cluster
 *                          (a folder zcertstore reads); removing one revokes it
 *       secret/NAME_secret its secret certificate, mode 0600 (only the process that is NAME
 *                          needs it)
 *
 * A node's certificate is named after its node id, with role jobmanager or taskmanager; a client's
 * (role admin or viewer) after the person or tool, and a client's node id is "NAME.SUFFIX" (the
 * CLI: "admin.<pid>"), so that a client can never speak as a node. Names are node ids without a
 * '.' ([A-Za-z0-9_-], 1..24 chars). */
#ifndef WR_KEYS_H
#define WR_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "bus/base/strbuf.h"
#include "bus/envelope.h"
#include "bus/msg.h"

#define WR_KEYS_NAME_MAX 25 /* a certificate's name, NUL included (room for ".probe" after it) */
#define WR_KEY_TXT       41 /* a Z85 key, NUL included */

typedef struct wr_keys wr_keys_t;

/* One certificate of the cluster (its public half). */
typedef struct {
    char name[WR_KEYS_NAME_MAX];
    wr_role_t role;
    char public_txt[WR_KEY_TXT];
} wr_key_t;

/* "jobmanager", "taskmanager", "admin", "viewer" (and "local", "open"). Never NULL. */
const char *wr_role_name(wr_role_t role);
/* The role named text (one of the four of a certificate); false if text names none. */
bool wr_role_parse(const char *text, wr_role_t *out);
/* Whether name can name a certificate (see the top of this file). */
bool wr_keys_name_valid(const char *name);

/* Makes the certificate `name` with `role` in dir (creating dir, public/ and secret/ with mode
 * 0700, the secret file with mode 0600). A certificate that exists is kept as it is (*made false;
 * its role must be `role`, else WR_EEXIST). Returns 0 or an error with the reason in *err. */
int wr_keys_generate(const char *dir, const char *name, wr_role_t role, bool *made,
                     wr_strbuf_t *err);

/* Opens dir for the certificate `self` (its secret file must be there) and reads every public
 * certificate. NULL on failure with the reason in *err (no such folder, no secret certificate for
 * self: each says to run `weir keygen`). Files in public/ that are no valid certificate are
 * skipped with a warning. */
wr_keys_t *wr_keys_open(const char *dir, const char *self, wr_strbuf_t *err);
void wr_keys_destroy(wr_keys_t **keys);

/* Reads public/ again when it changed since it was last read (its modification time: a file
 * added or removed), at most once per call. Returns whether it did. Not thread-safe: one owner. */
bool wr_keys_reload(wr_keys_t *keys);

/* This process's own certificate. Borrowed. */
const wr_key_t *wr_keys_self(const wr_keys_t *keys);
const char *wr_keys_self_secret(const wr_keys_t *keys);
/* The public certificate named name, or the one with that Z85 key; NULL if the cluster has none.
 * Borrowed until the next wr_keys_reload. */
const wr_key_t *wr_keys_by_name(const wr_keys_t *keys, const char *name);
const wr_key_t *wr_keys_by_key(const wr_keys_t *keys, const char *public_txt);
/* The certificate that may use routing id `peer`: a node's own id, the same followed by ".probe"
 * (bus/transport.h), or, for a client, "NAME.SUFFIX". NULL when there is none in keys. */
const wr_key_t *wr_keys_for_peer(const wr_keys_t *keys, const char *peer);
/* Whether key k may use routing id peer (the rule of wr_keys_for_peer). */
bool wr_keys_may_use(const wr_key_t *k, const char *peer);
/* All public certificates: fills up to n and returns how many there are. */
size_t wr_keys_list(const wr_keys_t *keys, const wr_key_t **out, size_t n);

#endif
