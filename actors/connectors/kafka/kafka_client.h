/* What the Kafka source and sink share about librdkafka: a client configuration built from the
 * topology's keys, librdkafka's logs routed to weir's, and its errors translated to WR_E* codes.
 * This is the module's edge: nothing outside actors/connectors/kafka/ sees an rd_kafka type.
 *
 * Properties pass through as given (`properties:` in the topology); the settings weir needs for
 * its guarantees are applied after them and win (the caller lists them in `fixed`). A property
 * librdkafka does not know, or a value it refuses, is an error naming it. */
#ifndef WR_KAFKA_CLIENT_H
#define WR_KAFKA_CLIENT_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

/* A property weir sets itself. */
typedef struct {
    const char *name, *value;
} wr_kafka_prop_t;

/* A new configuration: bootstrap.servers, then each "name=value" line of properties (NULL:
 * none), then fixed[0, nfixed). Routes librdkafka's log lines to weir's log, tagged with who
 * ("kafka source readings/3"). NULL with err saying why ("properties: sasl.mechanism: ..."). */
rd_kafka_conf_t *wr_kafka_conf_new(const char *bootstrap, const char *properties,
                                   const wr_kafka_prop_t *fixed, uint32_t nfixed, wr_strbuf_t *err);

/* A client handle of type made from conf, which it takes: the handle owns it, or it is destroyed
 * here. NULL with "what: librdkafka's reason" appended to err (what NULL: the reason alone). */
rd_kafka_t *wr_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                         wr_strbuf_t *err);

/* Closes and destroys the consumer *rkp (NULL: nothing; set to NULL here), waiting at most
 * wait_ms. librdkafka's own close has no bound: it waits for the answers to the offset commits in
 * flight, which with the brokers down come when its requests time out (socket.timeout.ms, 60 s).
 * Past wait_ms the close goes on in a detached thread of its own, which ends when librdkafka's
 * does (logged); the caller goes on at once. A process that exits first cuts it short, and those
 * commits may be lost: the source's offsets are in its checkpoints; the group's copy is for
 * watching its progress. */
void wr_kafka_consumer_destroy(rd_kafka_t **rk, int wait_ms);

/* A librdkafka response code as a WR_E* code: timeouts WR_ETIMEDOUT, unknown topics and
 * partitions WR_ENOTFOUND, authorisation WR_EPERM, fencing WR_ESTALE, a full producer queue
 * WR_EAGAIN, bad arguments WR_EINVAL, the rest WR_EIO. */
int wr_kafka_code(rd_kafka_resp_err_t e);
/* The same for an rd_kafka_error_t (destroyed here), appending "what: librdkafka's text" to err
 * when err is not NULL. */
int wr_kafka_error(rd_kafka_error_t *e, const char *what, wr_strbuf_t *err);

#endif
