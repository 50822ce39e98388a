/* The Redis sink's parts (redis.h is the manual): the commands a batch makes (redis_cmds.c), the
 * connection to the server (redis_conn.c) and the writer (redis_writer.c) that the class
 * (redis_sink.c) points at. Internal to actors/connectors/redis/. */
#ifndef WR_REDIS_SINK_H
#define WR_REDIS_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/connectors/redis/redis.h"
#include "actors/connectors/redis/redis_template.h"

/* ---- commands (redis_cmds.c) ---- */

/* What one command is, for the error that names it: its verb and its key's bytes in buf. */
typedef struct {
    size_t end; /* its RESP text ends at buf[end) (the next one starts there) */
    size_t key_off;
    uint32_t key_len;
    uint8_t verb; /* enum wr__redis_verb */
} wr__redis_cmd_t;

enum wr__redis_verb { WR__REDIS_HSET, WR__REDIS_PEXPIRE, WR__REDIS_XADD };

/* Commands in Redis's protocol (RESP arrays of bulk strings), formatted straight into one buffer,
 * each field's name ready once: a batch's commands are one write to the socket. */
typedef struct {
    const wr_redis_sink_config_t *c; /* borrowed */
    wr_redis_template_t key;         /* the key (hash) or stream name (stream) */
    wr_strbuf_t names;               /* every field's name as a bulk string, back to back */
    uint32_t name_off[WR_SCHEMA_MAX_FIELDS + 1];
    uint32_t nfields;
    wr_strbuf_t buf;      /* the commands */
    wr__redis_cmd_t *cmd; /* n of them */
    uint32_t n, cap;
    wr_strbuf_t scratch; /* one key or value */
} wr__redis_cmds_t;

/* Prepares m for results of schema under config c: WR_EINVAL (err names the field a template
 * wants and the results lack), WR_ENOMEM. m is released on failure. */
int wr__redis_cmds_init(wr__redis_cmds_t *m, const wr_redis_sink_config_t *c,
                        const wr_schema_t *schema, wr_strbuf_t *err);
void wr__redis_cmds_release(wr__redis_cmds_t *m);
/* Drops every command. */
void wr__redis_cmds_clear(wr__redis_cmds_t *m);
/* Appends the commands of record i of b (its HSET and PEXPIRE, or its XADD). WR_ENOMEM. */
int wr__redis_cmds_add(wr__redis_cmds_t *m, const wr_batch_t *b, uint32_t i);
/* Where command k's text starts in m->buf. */
size_t wr__redis_cmds_start(const wr__redis_cmds_t *m, uint32_t k);
/* "HSET", "PEXPIRE", "XADD". */
const char *wr__redis_verb_name(uint8_t verb);

/* ---- the connection (redis_conn.c) ---- */

typedef struct wr__redis_conn wr__redis_conn_t;

/* How a call on the connection failed: the server could not be reached or the connection broke
 * or timed out (LOST: worth connecting again), or the server refused (REFUSED: an error reply,
 * permanent). */
typedef enum { WR__REDIS_OK, WR__REDIS_LOST, WR__REDIS_REFUSED } wr__redis_outcome_t;

/* Connects to c->address within c->timeout_ms, sets the timeout on the socket, sends AUTH and
 * SELECT when c says so and PING. NULL with *out saying how it failed and err why ("cannot
 * connect: Connection refused", "AUTH: WRONGPASS ..."). */
wr__redis_conn_t *wr__redis_conn_new(const wr_redis_sink_config_t *c, wr__redis_outcome_t *out,
                                     wr_strbuf_t *err);
void wr__redis_conn_destroy(wr__redis_conn_t **cp); /* NULL-safe, nulls *cp */
/* Sends the commands of m from command `from` on and reads their replies in order, moving *acked
 * (the commands acknowledged, from `from` on) past each reply. An error reply is recorded in err
 * (the first one only, naming its command and key) and the rest are still read: REFUSED. A lost
 * connection or a timeout: LOST, err saying so, *acked where the replies stopped. */
wr__redis_outcome_t wr__redis_conn_send(wr__redis_conn_t *conn, const wr__redis_cmds_t *m,
                                        uint32_t from, uint32_t *acked, wr_strbuf_t *err);

/* ---- the writer (redis_writer.c) ---- */

int wr__redis_sink_open(const void *config, const wr_sink_open_t *o, void **writer,
                        wr_strbuf_t *err);
void wr__redis_sink_close(void **writer);
int wr__redis_sink_write(void *writer, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel);
int wr__redis_sink_flush(void *writer);
int wr__redis_sink_barrier(void *writer, uint64_t checkpoint_id);
const char *wr__redis_sink_failed_on(void *writer);

/* The host and port of "host:port" (host into char[256]); false when it is not that. */
bool wr__redis_address(const char *address, char *host, int *port);

#endif
