/* A real MQTT broker for the tests: Debian's mosquitto (/usr/sbin/mosquitto) as a child process
 * through the process harness (process.h), so that ps_teardown kills it by pid with every other
 * tracked process, also when the test fails; and Debian's mosquitto_pub, a client that is not
 * weir's, to publish. The broker listens on a free loopback port (127.0.0.1 only), anonymous,
 * with its configuration (NAME.conf) and its persistence (NAME.data/) in the test's directory,
 * and logs to stderr (NAME.<starts>.err), subscriptions included. Use inside ps_setup /
 * ps_teardown, with tm_group_setup in main:
 *
 *     tm_broker_t *b = tm_start("mosquitto");
 *     ... a job subscribes ...
 *     tm_wait_subscribed(b, "$share/weir-job-src/readings/+", 2, 10000);
 *     tm_publish_file(b, "readings/1", path);   // the file is one message, QoS 1
 *     tm_stop(b);                               // SIGTERM: it saves its sessions and messages
 *     tm_restart(b);                            // on the same port, with them
 *
 * tm_ is for "test MQTT". */
#ifndef WR_TEST_MQTT_H
#define WR_TEST_MQTT_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/support/process.h"

#define TM_MOSQUITTO_BIN "/usr/sbin/mosquitto"
#define TM_PUB_BIN       "/usr/bin/mosquitto_pub"
#define TM_START_MS      10000 /* the broker says it runs */
#define TM_PUB_MS        10000 /* one mosquitto_pub ends */

typedef struct {
    ps_proc_t *proc; /* NULL while it is down */
    char name[32];
    int port, starts;
    char broker[32]; /* "127.0.0.1:PORT", for a source's broker key */
    const char *conf;
    const char *user, *password; /* what mosquitto_pub logs in with (NULL: anonymous) */
} tm_broker_t;

/* The group setup of a test binary called name that needs mosquitto: ps_group_setup, and -1
 * (saying why) when TM_MOSQUITTO_BIN or TM_PUB_BIN cannot run here. */
int tm_group_setup(const char *name);

/* Starts a broker named name on a free port and waits until it runs; fails the test (with its
 * log) when it does not. The result is kept until the test ends. */
tm_broker_t *tm_start(const char *name);
/* The same with these configuration lines instead of "allow_anonymous true\n" (a
 * password_file, ...). */
tm_broker_t *tm_start_conf(const char *name, const char *auth);
/* SIGTERM, and waits for it to exit (it writes its persistence file first); SIGTERM again after
 * 5 s if it still runs. */
void tm_stop(tm_broker_t *b);
/* Starts it again on its port with its persistence, and waits until it runs. */
void tm_restart(tm_broker_t *b);

/* Waits until the running broker has logged n subscriptions to filter (since it last started);
 * fails the test at the deadline. */
void tm_wait_subscribed(tm_broker_t *b, const char *filter, size_t n, int timeout_ms);

/* Waits until the running broker has logged n acknowledgements of QoS 1 messages it delivered
 * (PUBACKs from subscribers, since it last started); fails the test at the deadline. The broker
 * must log them: start it with tm_start_conf(name, "allow_anonymous true\n" TM_LOG_ACKS). A
 * message acknowledged before tm_stop is not sent again after tm_restart; one still in flight
 * is, with its dup flag (at least once). */
#define TM_LOG_ACKS "log_type debug\n"
void tm_wait_acked(tm_broker_t *b, size_t n, int timeout_ms);

/* Publishes the file at path as one message to topic with QoS 1 (mosquitto_pub -f). false when
 * mosquitto_pub fails (the broker is down). */
bool tm_publish_file(const tm_broker_t *b, const char *topic, const char *path);
/* The same for text (mosquitto_pub -m). */
bool tm_publish(const tm_broker_t *b, const char *topic, const char *text);

#endif
