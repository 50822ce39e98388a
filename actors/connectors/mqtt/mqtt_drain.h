/* Draining the session of an MQTT source's subtask that is gone (mqtt.h, "Splits").
 *
 * Each subtask of an MQTT source is a client with a persistent session that is a member of the
 * shared subscription. A restore at a lower parallelism leaves the sessions of the subtasks that
 * are gone (client ids ...-K, K >= the new parallelism) behind: mosquitto keeps dealing them
 * their share of the messages, which would wait for no one until session_expiry. So the
 * enumerator gives each such split to a subtask that remains (K mod the new parallelism), and
 * that subtask drains it: it connects under the old client id, resuming the session (clean start
 * off); unsubscribes at once, so that no new message is dealt to it; takes every message the
 * session held or still receives into a queue of its own, which the subtask reads as that
 * split's (each split's records in the order its session got them); and once the
 * unsubscription is acknowledged and nothing has come for a quiet second, disconnects with a
 * session expiry of 0, so that the broker deletes the session. A session that did not exist any
 * more (a first drain finished it, or it expired) is deleted at once.
 *
 * Guarantee: what the session held is read (at least once: a message the broker sent again comes
 * twice). A drain stopped before it is done (the subtask closes, the job fails) leaves the
 * session with its expiry, and the split in the checkpoint: the restored job drains it again. A
 * broker that cannot be reached is tried again every second until it can, or until the drain is
 * stopped; an error that trying again cannot mend (TLS, authentication, protocol) ends the drain
 * with that error (wr__mqtt_drain_error), as it ends the subtask's own connection.
 *
 * Threading: each drain has a thread of its own; wr__mqtt_drain_done and wr__mqtt_drain_stop are
 * called from the subtask's thread. */
#ifndef WR__MQTT_DRAIN_H
#define WR__MQTT_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/mqtt/mqtt_queue.h"
#include "actors/connectors/mqtt/mqtt_source_internal.h"

typedef struct wr__mqtt_drain wr__mqtt_drain_t;

typedef struct {
    const wr_mqtt_source_config_t *config; /* broker, credentials, TLS, qos */
    const char *host;
    int port;
    const char *client_id; /* the gone subtask's */
    char *const *filters;  /* what that subtask subscribed to ($share/GROUP/FILTER) */
    int nfilters;
    wr__mqtt_queue_t *q; /* where the messages go: the subtask's own queue */
} wr__mqtt_drain_opts_t;

/* Starts draining (the options are borrowed until wr__mqtt_drain_stop): makes the first
 * connection here, blocking as the subtask's own first one does (up to the kernel's connect
 * timeout for a host that does not answer; a broker that refuses it is tried again by the drain's
 * thread, asynchronously). NULL with err saying why (a TLS file that cannot be read, out of
 * memory, no thread). */
wr__mqtt_drain_t *wr__mqtt_drain_start(const wr__mqtt_drain_opts_t *o, wr_strbuf_t *err);
/* True once the session is read out and gone. *messages: those taken so far; *had_session:
 * whether the broker still held the session. */
bool wr__mqtt_drain_done(wr__mqtt_drain_t *d, uint64_t *messages, bool *had_session);
/* A failure that ends the drain (the broker refused the connection, or an error that trying again
 * cannot mend): 0, or WR_EIO with why. */
int wr__mqtt_drain_error(wr__mqtt_drain_t *d, char *why, size_t len);
/* Asks the drain to stop at its next turn (within about 200 ms), without waiting: from then on it
 * does not end the session. NULL-safe. */
void wr__mqtt_drain_signal(wr__mqtt_drain_t *d);
/* Stops the drain where it is (the session stays for the next restore to drain) and frees it.
 * NULL-safe, nulls *d. Returns within about 200 ms (once its queue is closed, when a push may be
 * waiting for room). No push into the queue runs after it. */
void wr__mqtt_drain_stop(wr__mqtt_drain_t **d);

#endif
