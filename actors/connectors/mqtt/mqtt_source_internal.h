/* Internal to the MQTT source (mqtt.h): what its keys' file (mqtt_source.c) and its reader
 * (mqtt_source_reader.c) share. */
#ifndef WR__MQTT_SOURCE_INTERNAL_H
#define WR__MQTT_SOURCE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/mqtt/mqtt.h"
#include "bus/base/strbuf.h"

#define WR__MQTT_NAME_MAX 256 /* a client id or a share group, NUL included */

/* The broker's host (into host, hmax bytes) and port of "HOST:PORT". false when it is not one. */
bool wr__mqtt_broker(const char *broker, char *host, size_t hmax, int *port);

/* The TLS files of the `tls` lines: NULL for each not given. Borrowed from out's storage. */
typedef struct {
    char buf[4 * 1024 + 64];
    const char *cafile, *capath, *certfile, *keyfile;
} wr__mqtt_tls_t;
/* Reads the `tls` lines (NULL: none, all NULL): 0, or WR_ECONFIG with err saying why (an unknown
 * name, no cafile nor capath, certfile without keyfile or the reverse). */
int wr__mqtt_tls_read(const char *lines, wr__mqtt_tls_t *out, wr_strbuf_t *err);

/* Whether libmosquitto's error rc is one that trying again cannot mend (TLS, authentication,
 * protocol, out of memory...): the connection is given up. */
bool wr__mqtt_fatal(int rc);
/* libmosquitto's error for messages: errno's text for MOSQ_ERR_ERRNO. */
const char *wr__mqtt_error(int rc);
/* A client of the source's broker (*out, NULL when out of memory): MQTT 5, the receive maximum,
 * username and password, TLS; obj goes to its callbacks, which the caller sets. WR_ECONFIG (a
 * TLS file that cannot be read...) or WR_ENOMEM with err saying why; a client made is the
 * caller's to destroy either way. */
struct mosquitto;
int wr__mqtt_client_new(const wr_mqtt_source_config_t *c, const char *client_id, bool clean_start,
                        void *obj, struct mosquitto **out, wr_strbuf_t *err);

/* A split's id is its subtask's number ("0", "1", ...): the number, into *k; false for any other
 * id (mqtt_source.c). */
bool wr__mqtt_split_number(const char *id, unsigned long *k);

/* The reader (mqtt_source_reader.c), as wr_source_class_t's hooks. */
int wr__msrc_open(const void *config, const wr_source_open_t *o, void **reader, wr_strbuf_t *err);
void wr__msrc_close(void **reader);
int wr__msrc_add_split(void *reader, uint32_t slot, const wr_split_t *s, wr_strbuf_t *err);
int wr__msrc_read(void *reader, wr_source_read_t *rd, wr_source_status_t *st, wr_strbuf_t *err);
int wr__msrc_snapshot(void *reader, wr_source_snap_t *snap);

#endif
