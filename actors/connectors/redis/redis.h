/* The Redis connector, through hiredis: a sink that writes each result as a hash (the latest
 * result per key) or as an entry of a stream.
 *
 * Sink keys:
 *   sinks:
 *     - type: redis
 *       address: 127.0.0.1:6379    # host:port of the server (default 127.0.0.1:6379)
 *       password: secret           # AUTH before anything else (default: none)
 *       db: 0                      # SELECT this database (0 to 15, default 0)
 *       mode: hash                 # hash or stream; by default hash when key is given, stream
 *                                  #   otherwise
 *       key: device:{device}:latest  # hash mode (required there): each result's key, made of
 *                                  #   text and {field} of the result's fields ("{{" and "}}"
 *                                  #   are literal braces); a field the results do not have
 *                                  #   fails the job when its writers open, naming it
 *       ttl: 0s                    # hash mode: PEXPIRE each key this long after its last
 *                                  #   write (0: keys never expire)
 *       stream: results            # stream mode: the stream's name (default results), a
 *                                  #   template as key is (results:{region})
 *       maxlen: 0                  # stream mode: XADD MAXLEN ~ maxlen (0: no trimming)
 *       batch: 1000                # commands pipelined in one round trip (1 to 100000)
 *       timeout: 5s                # connecting, and waiting for each round's replies
 *
 * What is written. Hash mode: `HSET key field value ...` with every field of the result (its
 * name, its value), then `PEXPIRE key ttl` when ttl is given. Stream mode: `XADD stream [MAXLEN ~
 * maxlen] * field value ...`. Values are the text the file sink's JSON shows (rowfmt.h): ints
 * and times (window_start, window_end: epoch milliseconds) as integers, doubles in the shortest
 * form that reads back exactly ("21.0" when integral; NaN and infinities as null), bools as
 * true/false, strings as their bytes (unquoted, unescaped). A template puts a field's value in
 * the same way.
 *
 * Guarantees. Each write pipelines its results, `batch` commands at a time: appended, sent, then
 * every reply read and checked; a write returns once Redis acknowledged everything, so at a
 * checkpoint barrier everything written before it is in Redis (the barrier hook checks that
 * nothing is left). After a failure the job restarts from its last checkpoint and the results
 * since are written again. Hash mode is an idempotent upsert of the latest result per key: a
 * replay writes the same fields with the same values, so the state it leaves equals an
 * uninterrupted run's ("exactly-once in effect", provided a key's results come in order, as a
 * keyed window's do, and the key template names the key). Stream mode is at-least-once: entries
 * written after the last checkpoint are appended again after a failover (duplicates with new
 * entry ids).
 *
 * Errors. A reply that is an error (WRONGTYPE, READONLY, NOAUTH, OOM, ...) fails the subtask,
 * naming the command, its key and Redis's message ("redis 127.0.0.1:6379: HSET device:7:latest:
 * WRONGTYPE Operation against a key holding the wrong kind of value"); the job's restart
 * strategy applies. A connection that is lost or times out is opened again, up to 5 times with a
 * backoff of 100 ms doubling each time, and the commands not acknowledged yet are sent again;
 * then the subtask fails. A server that cannot be reached when a writer opens fails it naming the
 * address. hiredis's blocking API with timeouts (redisSetTimeout): no socket read or write waits
 * longer than `timeout` (a round of many replies may take several; resolving a host name is not
 * bounded by it). Any parallelism: a connection per writer. Two jobs of a cluster may not write
 * hashes under the same address (as written), db and key template at once (resource
 * "redis:ADDRESS/DB/KEY"); streams may be shared. */
#ifndef WR_REDIS_H
#define WR_REDIS_H

#include <stdint.h>

#include "actors/connectors/connector.h"

/* mode */
enum wr_redis_mode { WR_REDIS_HASH, WR_REDIS_STREAM };

#define WR_REDIS_TEXT_MAX 256 /* key and stream templates, the password: NUL included */

typedef struct {
    char *address;                    /* host:port */
    char password[WR_REDIS_TEXT_MAX]; /* "": none */
    uint32_t db;                      /* SELECT */
    int mode;                         /* enum wr_redis_mode */
    char key[WR_REDIS_TEXT_MAX];      /* hash mode: the key template ("": stream mode) */
    int64_t ttl_ms;                   /* hash mode: 0: none */
    char stream[WR_REDIS_TEXT_MAX];   /* stream mode: the stream's name template */
    uint64_t maxlen;                  /* stream mode: 0: no trimming */
    uint32_t batch;                   /* commands per round trip */
    int64_t timeout_ms;               /* connect and reply timeout */
} wr_redis_sink_config_t;

extern const wr_connector_t wr_redis_connector;

/* The sink's class (redis_sink.c). */
extern const wr_sink_class_t wr_redis_sink_class;

#endif
