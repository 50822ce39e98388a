/* The MQTT connector, through libmosquitto: a source that subscribes to topics on one broker
 * (MQTT 5) and reads each message's payload as one or more lines of JSON or CSV.
 *
 * Source keys:
 *   sources:
 *     - type: mqtt
 *       broker: 127.0.0.1:1883     # required: HOST:PORT of the broker (one broker)
 *       topics: [sensors/+/temp]   # required: a topic filter or a list of them (+ and # allowed)
 *       qos: 1                     # 0 or 1 (default 1): see the guarantee below
 *       client_id: auto            # auto (default): weir-JOB-SOURCE-SUBTASK, the same after a
 *                                  #   restart, so a subtask finds its session again; given, the
 *                                  #   subtask's number is appended (ID-SUBTASK)
 *       share_group: auto          # the MQTT 5 shared subscription the subtasks split the
 *                                  #   messages through ($share/GROUP/FILTER): auto (default)
 *                                  #   is weir-JOB-SOURCE; none subscribes plainly (then every
 *                                  #   subtask would get every message: parallelism 1 only)
 *       clean_start: false         # false (default): a persistent session (below); true: the
 *                                  #   broker forgets the subtask when it disconnects
 *       session_expiry: 1h         # how long the broker keeps a disconnected subtask's session
 *                                  #   and queues its messages (1s to 30 days)
 *       username: reader           # optional, with password (sent as given; use TLS)
 *       password: secret
 *       tls:                       # optional: TLS to the broker (mosquitto_tls_set); cafile or
 *         cafile: ca.crt           #   capath is required, certfile and keyfile go together;
 *         certfile: client.crt     #   paths are taken from the working directory of the
 *         keyfile: client.key      #   process that runs the subtask; a file that cannot be
 *                                  #   read fails the subtask at start, naming it
 *       format: jsonl              # jsonl (default) or csv: each payload holds one or more
 *                                  #   lines, read as a file's are (textin.h); its last line
 *                                  #   needs no newline
 *       header: false              # csv only: must be false (a payload has no header line)
 *       on_error: fail             # a bad line: fail (the job fails, naming the topic and the
 *                                  #   line in the payload) or skip (counted in `weir job`'s
 *                                  #   SKIPPED, the first ones logged)
 *       max_line: 1048576          # the longest line, bytes (1 KiB to 16 MiB)
 *       on_unavailable: fail       # the broker cannot be reached when a subtask starts: fail
 *                                  #   (the subtask fails, naming the broker) or wait (it keeps
 *                                  #   trying, its split idle meanwhile). A broker that
 *                                  #   refuses the connection (credentials) or a
 *                                  #   subscription fails the subtask either way
 *       idle_timeout: 10s          # a subtask without messages this long stops holding the
 *                                  #   watermark back until messages come again (0: never)
 *       end_after_idle: 0s         # 0 (default): a stream, it never ends. Otherwise the source
 *                                  #   is bounded: a subtask ends once it has been subscribed
 *                                  #   this long without a message (for tests and backfills of
 *                                  #   a publisher that stops; a message that comes
 *                                  #   after is not read, and counted in the log)
 *       queue_bytes: 16777216      # messages received and not yet read, bytes (64 KiB to
 *                                  #   1 GiB): the bound of the reader's memory (below)
 * The records are the topology's `schema`, which an MQTT source requires; its key and event-time
 * fields are the topology's, as for files and Kafka.
 *
 * Splits. MQTT cannot replay from a position, so a split is a subtask's subscription ("0", "1",
 * ...: one per subtask), with an empty position; a checkpoint lists it (with its event time, from
 * which the watermark resumes). Any parallelism; a restore at another parallelism makes one split
 * per new subtask, and at a LOWER parallelism one more per gone subtask, which a remaining
 * subtask drains (mqtt_drain.h): the gone subtask's session would otherwise stay a member of the
 * shared subscription until session_expiry, dealt its share of the messages for no one.
 *
 * Guarantee, for users. With qos: 1 and a persistent session (clean_start: false, the defaults)
 * delivery is AT LEAST ONCE across broker restarts and lost connections: the broker keeps
 * what arrives while a subtask is away (up to its own max_queued_messages, 1000 by default in
 * mosquitto: raise it for long outages) and resends what it sent without an acknowledgement,
 * so a message may come twice. libmosquitto acknowledges a message as soon as it receives it
 * (it has no manual acknowledgement), and weir's checkpoints cannot rewind a broker: when the
 * job itself fails and restores from a checkpoint, the messages received since that checkpoint
 * are lost, and a stop with a savepoint loses those received between the savepoint and the
 * subtasks' disconnection (counted in their log). One more hole, the broker's: mosquitto 2.0 does
 * not restore shared subscriptions from its persistence file, so messages published after a broker
 * restart and before the subtasks have subscribed again (their back-off: 1 s, 4 s, ...) reach no
 * one; a plain subscription (share_group: none, parallelism 1) is restored and keeps them. With
 * qos: 0, or clean_start: true, delivery is AT MOST ONCE. For exactly-once results, bridge the
 * messages into Kafka and read them with the Kafka source (kafka.h), which rewinds to the
 * checkpoint's offsets.
 *
 * Threading: each subtask has one libmosquitto client and one network thread of weir's own
 * around mosquitto_loop, which connects, reconnects with libmosquitto's exponential back-off (1,
 * 4, 9, 16, 25, then 30 s between attempts) and receives. It copies each message into a bounded
 * queue (mqtt_queue.h) that the subtask's read call takes whole under the lock and parses without
 * it, with no allocation per message or record. When the queue is full the network thread waits, so
 * it stops reading from the socket and acknowledging later messages (libmosquitto has already
 * acknowledged the one it holds): the broker holds the rest (within the receive maximum, 100
 * messages in flight, then its queue). Nothing is dropped silently: messages received while the
 * subtask closes are counted and logged. Closing takes at most 200 ms whatever the broker's
 * state, reconnections being asynchronous (libmosquitto 2.0.11's own thread, mosquitto_loop_start,
 * could wait for a broker that was down: a reconnection under way overwrote the disconnection
 * that closing asked for); only the first connection, made by the subtask's start, and a drain's
 * first (mqtt_drain.h) block, up to the kernel's connect timeout for a host that does not
 * answer. The broker's
 * keep-alive is 30 s; a subtask held back longer by the job may be disconnected and reconnects with
 * its session. */
#ifndef WR_MQTT_H
#define WR_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"

enum wr_mqtt_on_unavailable { WR_MQTT_UNAVAILABLE_FAIL, WR_MQTT_UNAVAILABLE_WAIT };

typedef struct {
    char *broker;      /* HOST:PORT */
    char *topics;      /* one filter per line (WR_PARAM_LIST) */
    uint32_t qos;      /* 0 or 1 */
    char *client_id;   /* "auto": derived */
    char *share_group; /* "auto": derived; "none": a plain subscription */
    bool clean_start;
    int64_t session_expiry_ms;
    char *username; /* NULL: none (WR_PARAM_LIST of one value) */
    char *password;
    char *tls;                 /* "name=value" lines (WR_PARAM_PAIRS), or NULL */
    int format;                /* enum wr_textin_format */
    bool header;               /* csv: always false (checked) */
    int on_error;              /* enum wr_textin_on_error */
    uint32_t max_line;         /* bytes */
    int on_unavailable;        /* enum wr_mqtt_on_unavailable */
    int64_t idle_timeout_ms;   /* 0: never idle */
    int64_t end_after_idle_ms; /* 0: never ends */
    uint64_t queue_bytes;
} wr_mqtt_source_config_t;

extern const wr_connector_t wr_mqtt_connector;
extern const wr_source_class_t wr_mqtt_source_class;

#endif
