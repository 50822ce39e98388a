/* weir kafka-mock: a Kafka cluster for development and tests (librdkafka's mock cluster,
 * actors/connectors/kafka/kafka_mock.h) until a signal, with control lines on stdin. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "actors/connectors/kafka/kafka_mock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "cli/chaos_proxy.h"
#include "cli/cli.h"

#define S_MAX_TOPICS 64
#define S_LINE_MAX   1024 /* a control line, newline included */

static const char s_usage[] =
    "usage: weir kafka-mock [--brokers N] [--partitions N] [--topic T]... [--port P]\n"
    "\n"
    "Runs a Kafka cluster for development and tests: librdkafka's mock cluster, in this process,\n"
    "on 127.0.0.1, until SIGINT (Ctrl-C) or SIGTERM: its brokers go down at once, and it exits\n"
    "0 within about a second (librdkafka's mock takes that long). The first line it prints is\n"
    "the bootstrap address, every broker's HOST:PORT comma-separated, for bootstrap.servers or\n"
    "kcat -b:\n"
    "    127.0.0.1:40731,127.0.0.1:35913,127.0.0.1:44259\n"
    "Then it reads control lines on stdin and answers each on stdout with `ok` or `error: WHY`:\n"
    "    down B       broker B (1..N, or all) goes down: its connections close, new ones are\n"
    "                 refused\n"
    "    up B         broker B (or all) is back, on the same port, with its data\n"
    "    topic T N    creates topic T with N partitions\n"
    "Blank lines get no answer. The end of stdin does not stop it (run it in the background or\n"
    "with < /dev/null): only a signal does.\n"
    "\n"
    "  --brokers N     brokers, ids 1..N (default 3, at most 16)\n"
    "  --partitions N  partitions of each --topic (default 4, as a topic a producer creates by\n"
    "                  naming it gets)\n"
    "  --topic T       a topic made at the start (repeat for more)\n"
    "  --port P        a fixed bootstrap address, 127.0.0.1:P, printed instead of the brokers'\n"
    "                  (which listen on ports the kernel picks: librdkafka 2.0.2's mock takes\n"
    "                  no port): a forwarder to broker 1 that clients bootstrap through; the\n"
    "                  cluster's metadata then sends them to the brokers themselves. While\n"
    "                  broker 1 is down, bootstrapping through P fails\n"
    "\n"
    "What it can and cannot show: docs/kafka.md. In short, each partition keeps at most 5 MiB or\n"
    "100,000 message sets and drops the oldest; transactions are accepted, but aborted ones are\n"
    "not hidden from read_committed consumers, and offsets sent to a transaction are not stored.\n";

/* The broker of a control line: a number (the mock says whether it has that broker), or "all". */
static bool s_broker_arg(const char *s, int *out)
{
    uint64_t v;
    if (!strcmp(s, "all")) {
        *out = WR_KAFKA_MOCK_ALL;
        return true;
    }
    if (!wr_cli_count(s, 0, INT32_MAX, &v)) return false;
    *out = (int)v;
    return true;
}

/* Carries out one control line (NUL-terminated, no newline) and prints its answer. */
static void s_control(wr_kafka_mock_t *m, char *line)
{
    char *save = NULL, *arg[4] = {0};
    int n = 0;
    for (char *t = strtok_r(line, " \t\r", &save); t && n < 4; t = strtok_r(NULL, " \t\r", &save))
        arg[n++] = t;
    if (!n) return;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int broker;
    uint64_t parts;
    bool down = !strcmp(arg[0], "down");
    if (down || !strcmp(arg[0], "up")) {
        if (n != 2 || !s_broker_arg(arg[1], &broker))
            wr_strbuf_addf(&err, "usage: %s B (a broker, 1 to %d, or all)", arg[0],
                           wr_kafka_mock_brokers(m));
        else if (down)
            wr_kafka_mock_broker_down(m, broker, &err);
        else
            wr_kafka_mock_broker_up(m, broker, &err);
    } else if (!strcmp(arg[0], "topic")) {
        if (n != 3 || !wr_cli_count(arg[2], 1, WR_KAFKA_MOCK_MAX_PARTITIONS, &parts))
            wr_strbuf_addf(&err, "usage: topic T N (N partitions, 1 to %d)",
                           WR_KAFKA_MOCK_MAX_PARTITIONS);
        else
            wr_kafka_mock_topic_create(m, arg[1], (int)parts, &err);
    } else {
        wr_strbuf_addf(&err, "unknown command '%.64s' (down B, up B, topic T N)", arg[0]);
    }
    if (err.failed)
        puts("error: out of memory");
    else if (err.len)
        printf("error: %s\n", err.buf);
    else
        puts("ok");
    fflush(stdout);
    wr_strbuf_release(&err);
}

/* Reads what stdin has (it is readable) and carries out each whole line. A line longer than
 * S_LINE_MAX is answered with an error and dropped. Returns false at the end of stdin. */
static bool s_read_stdin(wr_kafka_mock_t *m, char *buf, size_t *len, bool *skipping)
{
    ssize_t got = read(STDIN_FILENO, buf + *len, S_LINE_MAX - *len);
    if (got < 0) return errno == EINTR || errno == EAGAIN;
    if (got == 0) return false;
    *len += (size_t)got;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', *len - (size_t)(start - buf)))) {
        *nl = '\0';
        if (*skipping)
            *skipping = false; /* the end of the long line */
        else
            s_control(m, start);
        start = nl + 1;
    }
    *len -= (size_t)(start - buf);
    memmove(buf, start, *len);
    if (*len == S_LINE_MAX) { /* no newline in a whole buffer */
        if (!*skipping) {
            printf("error: a control line longer than %d bytes\n", S_LINE_MAX - 1);
            fflush(stdout);
        }
        *skipping = true;
        *len = 0;
    }
    return true;
}

/* Serves control lines until SIGINT or SIGTERM (blocked in every thread since main started). */
static int s_serve(wr_kafka_mock_t *m)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        wr_cli_error("kafka-mock", NULL, "signalfd: %s", strerror(errno));
        return WR_EXIT_FAIL;
    }
    char buf[S_LINE_MAX];
    size_t len = 0;
    bool skipping = false;
    struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            wr_cli_error("kafka-mock", NULL, "poll: %s", strerror(errno));
            break;
        }
        if (fds[0].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                wr_info("weir kafka-mock: %s received: stopping", strsignal((int)si.ssi_signo));
            close(sfd);
            return WR_EXIT_OK;
        }
        if (fds[1].revents && !s_read_stdin(m, buf, &len, &skipping))
            fds[1].fd = -1; /* the end of stdin: poll no more, run on */
    }
    close(sfd);
    return WR_EXIT_FAIL;
}

/* --port: a forwarder on 127.0.0.1:port to broker 1 (the chaos proxy's route, never cut). */
static void s_forward(const wr_kafka_mock_t *m, int port, wr_chaos_proxy_t **fwd, wr_strbuf_t *err)
{
    const char *first = wr_kafka_mock_bootstraps(m); /* "127.0.0.1:P1,..." */
    const char *colon = strchr(first, ':');
    int broker_port = colon ? atoi(colon + 1) : 0;
    int rc = broker_port > 0 ? wr_chaos_proxy_new(fwd) : WR_EINVAL;
    if (!rc) rc = wr_chaos_proxy_route(*fwd, "broker-1", "127.0.0.1", broker_port, port, NULL);
    if (rc)
        wr_strbuf_addf(err, "--port %d: cannot listen there (%s)", port,
                       rc == WR_EIO ? "taken, or not allowed" : wr_strerror(rc));
}

int wr_cmd_kafka_mock(int argc, char **argv)
{
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'}, {"partitions", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},   {"port", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    uint64_t brokers = 3, partitions = 4, port = 0;
    const char *topics[S_MAX_TOPICS];
    size_t ntopics = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (wr_cli_count(optarg, 1, WR_KAFKA_MOCK_MAX_BROKERS, &brokers)) break;
            wr_cli_error("kafka-mock", NULL, "--brokers: '%s' is not 1 to %d", optarg,
                         WR_KAFKA_MOCK_MAX_BROKERS);
            return WR_EXIT_USAGE;
        case 'p':
            if (wr_cli_count(optarg, 1, WR_KAFKA_MOCK_MAX_PARTITIONS, &partitions)) break;
            wr_cli_error("kafka-mock", NULL, "--partitions: '%s' is not 1 to %d", optarg,
                         WR_KAFKA_MOCK_MAX_PARTITIONS);
            return WR_EXIT_USAGE;
        case 't':
            if (ntopics < S_MAX_TOPICS) {
                topics[ntopics++] = optarg;
                break;
            }
            wr_cli_error("kafka-mock", "make more with `topic T N` on stdin",
                         "at most %d --topic at the start", S_MAX_TOPICS);
            return WR_EXIT_USAGE;
        case 'P':
            if (wr_cli_count(optarg, 1, 65535, &port)) break;
            wr_cli_error("kafka-mock", NULL, "--port: '%s' is not 1 to 65535", optarg);
            return WR_EXIT_USAGE;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        wr_cli_error("kafka-mock", "see weir kafka-mock --help", "unexpected argument '%s'",
                     argv[optind]);
        return WR_EXIT_USAGE;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = WR_EXIT_FAIL;
    wr_kafka_mock_t *m = wr_kafka_mock_new((int)brokers, &err);
    for (size_t i = 0; m && i < ntopics; i++) {
        int trc = wr_kafka_mock_topic_create(m, topics[i], (int)partitions, &err);
        if (!trc) continue;
        rc = trc == WR_EIO ? WR_EXIT_FAIL : WR_EXIT_USAGE; /* a bad name, one given twice */
        break;
    }
    wr_chaos_proxy_t *fwd = NULL;
    if (m && !err.len && port) s_forward(m, (int)port, &fwd, &err);
    if (err.len || err.failed) {
        wr_cli_error("kafka-mock", NULL, "%s", err.failed ? "out of memory" : err.buf);
    } else if (m) {
        if (port)
            printf("127.0.0.1:%d\n", (int)port);
        else
            printf("%s\n", wr_kafka_mock_bootstraps(m));
        fflush(stdout);
        rc = s_serve(m);
    }
    wr_chaos_proxy_destroy(&fwd);
    wr_kafka_mock_destroy(&m);
    wr_strbuf_release(&err);
    return rc;
}
