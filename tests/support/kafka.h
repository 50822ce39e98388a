/* A Kafka for the tests: `weir kafka-mock` (librdkafka's mock cluster, kafka_mock.h) as a child
 * process through the process harness (process.h), so that ps_teardown kills it by pid with
 * every other tracked process, also when the test fails; and Debian's kcat (/usr/bin/kcat), a
 * real client that is not weir's, to produce and consume. Use inside ps_setup / ps_teardown,
 * with tk_group_setup in main:
 *
 *     tk_mock_t *k = tk_mock_start("kafka", PS_ARGV("--topic", "readings", "--partitions", "4"));
 *     tk_produce(k->bootstrap, "readings", 2, lines, n, PS_ARGV("source=test"));
 *     tk_msgs_t got = tk_consume(k->bootstrap, "readings", NULL);
 *     size_t n2;
 *     const tk_msg_t **p2 = tk_partition(&got, 2, &n2);   // partition 2, in kcat's order
 *     tk_control(k, "down all");                          // answered "ok", or the test fails
 *     tk_mock_stop(k);                                    // SIGTERM: gone within 1 s
 *
 * kcat runs with -F /dev/null (no user configuration) and writes into files of the test's
 * directory (kcat-N.out, kcat-N.err); every message it reports is kept until the test ends (the
 * harness's arena). tk_ is for "test kafka". */
#ifndef WR_TEST_KAFKA_H
#define WR_TEST_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/process.h"

#define TK_KCAT_BIN  "/usr/bin/kcat"
#define TK_START_MS  10000 /* the mock prints its bootstrap address (ASan: slow) */
#define TK_ANSWER_MS 5000  /* it answers a control line */
#define TK_GONE_MS   1000  /* after SIGTERM, its brokers refuse connections */
#define TK_STOP_MS   3000  /* ... and it exits (librdkafka's mock may take 1 s to destroy) */
#define TK_KCAT_MS   20000 /* one kcat run ends */

typedef struct {
    ps_proc_t *proc;
    const char *bootstrap; /* its first line: "127.0.0.1:P1,127.0.0.1:P2,..." */
    size_t answered;       /* control lines answered so far */
} tk_mock_t;

/* A message as kcat -J reports it. */
typedef struct {
    int partition;
    int64_t offset;
    const char *key;     /* NULL: none */
    const char *payload; /* NULL: none */
    const char *headers; /* "name=value" pairs joined by ',', in their order; "" for none */
} tk_msg_t;

typedef struct {
    const tk_msg_t *v;
    size_t n;
    size_t lines; /* what kcat printed: n, and lines that were not messages */
} tk_msgs_t;

/* The group setup of a test binary called name that needs kcat: ps_group_setup, and -1 (saying
 * why) when TK_KCAT_BIN cannot run here (deploy/install-deps.sh installs it). */
int tk_group_setup(const char *name);

/* ---- the mock cluster ---- */

/* Starts `weir kafka-mock ARGS` (NULL: none) with its stdin a socket of this test, as `name`, and
 * waits for its bootstrap address; fails the test (with its logs) when none comes within
 * TK_START_MS or it is not on 127.0.0.1. Kept until the test ends. */
tk_mock_t *tk_mock_start(const char *name, const char *const args[]);
/* Sends one control line (no newline) and returns its answer ("ok", "error: ..."); fails the test
 * when none comes within TK_ANSWER_MS. */
const char *tk_mock_send(tk_mock_t *m, const char *line);
/* tk_mock_send that fails the test unless the answer is "ok". */
void tk_control(tk_mock_t *m, const char *line);
/* True when every broker accepts TCP connections (it is up and listening). */
bool tk_mock_serving(const tk_mock_t *m);
/* SIGTERM; fails the test unless every broker refuses connections within TK_GONE_MS and the
 * process exits 0 within TK_STOP_MS with no sanitizer report. Returns the ms until the brokers
 * refused. */
int64_t tk_mock_stop(tk_mock_t *m);

/* ---- kcat ---- */

/* Runs kcat ARGS (after -F /dev/null) to completion: its exit code (128 + signal), and stdout and
 * stderr (kept). Killed and failing the test after timeout_ms. */
ps_result_t tk_kcat(const char *const args[], int timeout_ms);
/* Produces lines[0, n) (no newlines in them) as n messages to `partition` of topic, in that order,
 * each with the headers ("name=value"; NULL: none): kcat -P -l from a file of the test's directory.
 * Fails the test unless kcat exits 0. */
void tk_produce(const char *bootstrap, const char *topic, int partition, const char *const lines[],
                size_t n, const char *const headers[]);
/* Consumes every partition of topic from the start (or as the extra kcat arguments say: "-X",
 * "group.id=g", "-o", "stored") up to its end (kcat -C -e -J), with a metadata timeout of 5 s and
 * fetch.wait.max.ms=20 (a partition at its end answers a fetch in 20 ms, not librdkafka's 500:
 * a consume of a group's offsets took 2 s, now 0.2 s). Fails the test unless kcat exits 0 and
 * prints only messages. */
tk_msgs_t tk_consume(const char *bootstrap, const char *topic, const char *const extra[]);
/* The same that does not fail on kcat's failure: its exit code, and what it printed into *out. */
int tk_consume_try(const char *bootstrap, const char *topic, const char *const extra[],
                   int metadata_s, tk_msgs_t *out);
/* The messages of one partition, in the order kcat printed them (kept until the test ends). */
const tk_msg_t **tk_partition(const tk_msgs_t *m, int partition, size_t *n);

#endif
