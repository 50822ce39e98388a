/* weir bench: benchmarks that print their figures and the ratio against a baseline measured in
 * the same run (this machine is shared and noisy: only same-run ratios mean much). */
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "actors/runtime/mailbox.h"
#include "actors/runtime/synthetic.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/keys.h"
#include "bus/msgtypes.h"
#include "cli/bench_failover.h"
#include "cli/bench_iot.h"
#include "cli/bench_snapshot.h"
#include "cli/bench_influxdb.h"
#include "cli/bench_kafka.h"
#include "cli/bench_machine.h"
#include "cli/bench_mqtt.h"
#include "cli/bench_panestore.h"
#include "cli/bench_redis.h"
#include "cli/bench_sink.h"
#include "cli/cli.h"

typedef struct {
    uint64_t batches;
    uint32_t batch_records;
    uint32_t record_size;
    uint32_t credits;
    int rounds;
    bool json;
    bool curve;           /* also through the bus with CURVE (security.curve) */
    const char *keys_dir; /* for a run with CURVE: the keys of bench-rx and bench-tx; NULL: none */
} s_bus_opts_t;

/* What one run through the bus measured. */
typedef struct {
    double rate;         /* records/s, from the source's start to the sink's end */
    double tx_cpu_s;     /* CPU seconds (user + system) of the sending process during the run */
    double rx_cpu_s;     /* the same of the receiving process */
    double secs;         /* the run's wall time */
    uint64_t wire_bytes; /* TCP payload the receiver took in: ZMTP framing, CURVE boxes and
                            handshake, envelopes, records, credits and heartbeats */
    uint64_t frames; /* bus frames the receiver took in (batches, channel messages, heartbeats) */
} s_run_t;

/* Bytes this process has received on its TCP connections (the kernel's count, TCP_INFO): the
 * receiver of a run has none but the sender's. Each socket once: with CURVE the transport holds a
 * second descriptor of every accepted connection (bus/curve.h), so descriptors are told apart by
 * their socket's inode. */
static uint64_t s_tcp_bytes_received(void)
{
    enum { MAX_SOCKETS = 64 };
    ino_t seen[MAX_SOCKETS];
    size_t nseen = 0;
    uint64_t total = 0;
    for (int fd = 0; fd < 1024; fd++) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        memset(&ti, 0, sizeof ti);
        struct stat st;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
            len < offsetof(struct tcp_info, tcpi_segs_out) || fstat(fd, &st))
            continue;
        bool again = false;
        for (size_t i = 0; i < nseen && !again; i++)
            again = seen[i] == st.st_ino;
        if (again) continue;
        if (nseen < MAX_SOCKETS) seen[nseen++] = st.st_ino;
        total += ti.tcpi_bytes_received;
    }
    return total;
}

/* ---- child-process plumbing: the receiver of each run is a forked process ---- */

typedef struct {
    pid_t pid;
    FILE *from_child; /* lines: the endpoint, then "done <end_ns> <records> <bad>" */
} s_child_t;

static int s_fork(s_child_t *c, void (*body)(FILE *to_parent, const s_bus_opts_t *o),
                  const s_bus_opts_t *o)
{
    int fds[2];
    if (pipe(fds)) return WR_EIO;
    fflush(NULL);
    pid_t parent = getpid();
    c->pid = fork();
    if (c->pid < 0) return WR_EIO;
    if (c->pid == 0) {
        /* dies with the benchmark (killed, it would leave this one waiting out its deadline) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent) _exit(1);
        close(fds[0]);
        FILE *to_parent = fdopen(fds[1], "w");
        body(to_parent, o);
        fclose(to_parent);
        _exit(0);
    }
    close(fds[1]);
    c->from_child = fdopen(fds[0], "r");
    return c->from_child ? 0 : WR_EIO;
}

static int s_reap(s_child_t *c, bool failed)
{
    /* a run that failed on this side: the receiver would wait for records until its deadline */
    if (failed) kill(c->pid, SIGKILL);
    if (c->from_child) fclose(c->from_child);
    int status = 0;
    waitpid(c->pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : WR_EIO;
}
/* ---- raw ZeroMQ PUSH/PULL baseline ---- */

static void s_raw_rx(FILE *out, const s_bus_opts_t *o)
{
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    char ep[128];
    size_t eplen = sizeof ep;
    if (zmq_bind(pull, "tcp://127.0.0.1:*") ||
        zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &eplen)) {
        fprintf(out, "error\n");
        return;
    }
    fprintf(out, "%s\n", ep);
    fflush(out);
    uint64_t records = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (uint64_t i = 0; i < o->batches; i++) {
        if (zmq_msg_recv(&m, pull, 0) < 0) break;
        records += zmq_msg_size(&m) / o->record_size;
    }
    zmq_msg_close(&m);
    fprintf(out, "done %lld %llu 0\n", (long long)wr_now_ns(), (unsigned long long)records);
    fflush(out);
    zmq_close(pull);
    zmq_ctx_term(ctx);
}

/* Returns records per second, or a negative error. */
static double s_raw_run(const s_bus_opts_t *o)
{
    s_child_t c;
    if (s_fork(&c, s_raw_rx, o)) return WR_EIO;
    char ep[128];
    double result = WR_EIO;
    if (!fgets(ep, sizeof ep, c.from_child) || strncmp(ep, "tcp://", 6)) goto out;
    ep[strcspn(ep, "\n")] = '\0';
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    zmq_connect(push, ep);
    size_t len = (size_t)o->batch_records * o->record_size;
    uint8_t *batch = calloc(1, len);
    int64_t start = wr_now_ns();
    for (uint64_t i = 0; batch && i < o->batches; i++)
        zmq_send(push, batch, len, 0);
    long long end = 0;
    unsigned long long records = 0, bad = 0;
    if (fscanf(c.from_child, "done %lld %llu %llu", &end, &records, &bad) == 3 &&
        records == o->batches * o->batch_records)
        result = (double)records / ((double)(end - start) / 1e9);
    free(batch);
    zmq_close(push);
    zmq_ctx_term(ctx);
out:
    s_reap(&c, result < 0);
    return result;
}

/* ---- the weir bus: envelope, msgpack, credits, actors on both ends ---- */

static wr_node_t *s_bench_node(const char *id, const char *bind, const char *keys_dir)
{
    wr_node_opts_t no = {
        .id = id, .bind = bind, .threads = 1, .heartbeat_timeout_ms = 5000, .keys_dir = keys_dir};
    return wr_node_new(&no, NULL);
}

static void s_weir_rx(FILE *out, const s_bus_opts_t *o)
{
    wr_node_t *n = s_bench_node("bench-rx", "tcp://127.0.0.1:*", o->keys_dir);
    wr_synth_sink_result_t res = {0};
    wr_synth_sink_opts_t so = {.path = "sink",
                               .channel = 1,
                               .window = o->credits,
                               .record_size = o->record_size,
                               .result = &res};
    if (!n || wr_synth_sink_spawn(n, &so)) {
        fprintf(out, "error\n");
        wr_node_destroy(&n);
        return;
    }
    double cpu = wr_bench_cpu_s();
    fprintf(out, "%s\n", wr_node_endpoint(n));
    fflush(out);
    /* the sink stamps its own end: this loop only has to notice it, and should not take the
     * CPU the run needs (the machine may have two cores for both processes) */
    int64_t deadline = wr_now_ns() + 600 * 1000000000ll;
    while (!atomic_load(&res.done) && !atomic_load(&res.error) && wr_now_ns() < deadline)
        usleep(2000);
    cpu = wr_bench_cpu_s() - cpu;
    wr_transport_stats_t ts;
    wr_node_transport_stats(n, &ts);
    fprintf(out, "done %lld %llu %llu %.6f %llu %llu\n", (long long)atomic_load(&res.end_ns),
            (unsigned long long)atomic_load(&res.records),
            (unsigned long long)atomic_load(&res.bad_records) + (atomic_load(&res.error) != 0), cpu,
            (unsigned long long)s_tcp_bytes_received(), (unsigned long long)ts.frames_in);
    fflush(out);
    wr_node_destroy(&n);
}

/* One run through the bus (with CURVE when o->keys_dir is set). 0, or WR_EIO when the run
 * failed or lost or damaged a record. */
static int s_weir_run(const s_bus_opts_t *o, s_run_t *run)
{
    s_child_t c;
    if (s_fork(&c, s_weir_rx, o)) return WR_EIO;
    char ep[128];
    int rc = WR_EIO;
    wr_node_t *n = NULL;
    memset(run, 0, sizeof *run);
    if (!fgets(ep, sizeof ep, c.from_child) || strncmp(ep, "tcp://", 6)) goto out;
    ep[strcspn(ep, "\n")] = '\0';
    double cpu = wr_bench_cpu_s();
    n = s_bench_node("bench-tx", NULL, o->keys_dir);
    wr_synth_source_result_t res = {0};
    wr_synth_source_opts_t so = {.path = "source",
                                 .sink = "bench-rx/sink",
                                 .channel = 1,
                                 .batches = o->batches,
                                 .batch_records = o->batch_records,
                                 .record_size = o->record_size,
                                 .result = &res};
    int why = !n ? WR_ENOMEM : wr_node_connect(n, "bench-rx", ep);
    if (!why) why = wr_synth_source_spawn(n, &so);
    if (why) {
        wr_cli_error("bench", NULL, "the sender %s: %s",
                     !n ? "node could not start" : "could not reach the receiver",
                     wr_strerror(why));
        goto out;
    }
    long long end = 0;
    unsigned long long records = 0, bad = 0, wire = 0, frames = 0;
    double rx_cpu = 0;
    if (fscanf(c.from_child, "done %lld %llu %llu %lf %llu %llu", &end, &records, &bad, &rx_cpu,
               &wire, &frames) == 6 &&
        bad == 0 && records == o->batches * o->batch_records) {
        run->tx_cpu_s = wr_bench_cpu_s() - cpu;
        run->secs = (double)(end - atomic_load(&res.start_ns)) / 1e9;
        run->rate = (double)records / run->secs;
        run->rx_cpu_s = rx_cpu;
        run->wire_bytes = wire;
        run->frames = frames;
        rc = 0;
    }
out:
    wr_node_destroy(&n);
    s_reap(&c, rc != 0);
    return rc;
}

/* ---- mailbox push+pop on one thread ---- */

static double s_mailbox_run(void)
{
    enum { N = 1024 };
    wr_mailbox_t *mb = wr_mailbox_new(N);
    wr_msg_t **msgs = calloc(N, sizeof *msgs);
    double rate = WR_ENOMEM;
    if (!mb || !msgs) goto out;
    for (int i = 0; i < N; i++)
        if (!(msgs[i] = wr_msg_alloc(WR_MSG_PING, 16))) goto out;
    uint64_t ops = 0;
    int64_t start = wr_now_ns(), end;
    do {
        for (int r = 0; r < 64; r++) {
            for (int i = 0; i < N; i++) {
                wr_msg_t *m = msgs[i];
                if (wr_mailbox_push(mb, &m)) goto out;
            }
            for (int i = 0; i < N; i++)
                msgs[i] = wr_mailbox_pop(mb);
            ops += N;
        }
        end = wr_now_ns();
    } while (end - start < 1000000000);
    rate = (double)ops / ((double)(end - start) / 1e9);
out:
    for (int i = 0; msgs && i < N; i++)
        wr_msg_destroy(&msgs[i]);
    free(msgs);
    wr_mailbox_destroy(&mb);
    return rate;
}

/* The baseline: the obvious bounded queue, a ring under a mutex, same loop, same messages. */
typedef struct {
    pthread_mutex_t lock;
    wr_msg_t **ring;
    size_t head, len, cap;
} s_locked_ring_t;

static double s_locked_ring_run(void)
{
    enum { N = 1024 };
    s_locked_ring_t q = {.ring = calloc(N, sizeof(wr_msg_t *)), .cap = N};
    wr_msg_t **msgs = calloc(N, sizeof *msgs);
    double rate = WR_ENOMEM;
    pthread_mutex_init(&q.lock, NULL);
    if (!q.ring || !msgs) goto out;
    for (int i = 0; i < N; i++)
        if (!(msgs[i] = wr_msg_alloc(WR_MSG_PING, 16))) goto out;
    uint64_t ops = 0;
    int64_t start = wr_now_ns(), end;
    do {
        for (int r = 0; r < 64; r++) {
            for (int i = 0; i < N; i++) {
                pthread_mutex_lock(&q.lock);
                q.ring[(q.head + q.len++) % q.cap] = msgs[i];
                pthread_mutex_unlock(&q.lock);
            }
            for (int i = 0; i < N; i++) {
                pthread_mutex_lock(&q.lock);
                msgs[i] = q.ring[q.head];
                q.head = (q.head + 1) % q.cap;
                q.len--;
                pthread_mutex_unlock(&q.lock);
            }
            ops += N;
        }
        end = wr_now_ns();
    } while (end - start < 1000000000);
    rate = (double)ops / ((double)(end - start) / 1e9);
out:
    for (int i = 0; msgs && i < N; i++)
        wr_msg_destroy(&msgs[i]);
    free(msgs);
    free(q.ring);
    pthread_mutex_destroy(&q.lock);
    return rate;
}

/* The keys of bench-rx and bench-tx in a new folder from template (mkdtemp). 0, or
 * WR_EXIT_FAIL after saying why. */
static int s_bench_keys(char *template)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    bool made;
    int rc = mkdtemp(template) ? 0 : WR_EIO;
    if (!rc) rc = wr_keys_generate(template, "bench-rx", WR_ROLE_TASKMANAGER, &made, &err);
    if (!rc) rc = wr_keys_generate(template, "bench-tx", WR_ROLE_TASKMANAGER, &made, &err);
    if (rc) {
        wr_cli_error("bench", NULL, "cannot make the keys in %s: %s", template,
                     err.len ? err.buf : wr_strerror(rc));
        wr_fs_rmtree(template);
    }
    wr_strbuf_release(&err);
    return rc ? WR_EXIT_FAIL : 0;
}

/* The figures of a run, as JSON members (with a leading comma) named PREFIX_... */
static void s_run_json(wr_strbuf_t *sb, const char *prefix, const s_run_t *r, uint64_t records)
{
    wr_strbuf_addf(sb,
                   ",\"%s_tx_cpu_s\":%.3f,\"%s_rx_cpu_s\":%.3f,\"%s_cpu_ns_per_record\":%.1f,"
                   "\"%s_wire_bytes\":%llu,\"%s_wire_bytes_per_record\":%.3f,"
                   "\"%s_frames\":%llu,\"%s_frames_per_s\":%.0f",
                   prefix, r->tx_cpu_s, prefix, r->rx_cpu_s, prefix,
                   (r->tx_cpu_s + r->rx_cpu_s) * 1e9 / (double)records, prefix,
                   (unsigned long long)r->wire_bytes, prefix,
                   (double)r->wire_bytes / (double)records, prefix, (unsigned long long)r->frames,
                   prefix, (double)r->frames / r->secs);
}

/* The same as a line of text. */
static void s_run_text(const char *what, const s_run_t *r, uint64_t records)
{
    printf("%s: %.2f bytes per record on the wire, %.0f frames/s; CPU %.2f s sending + %.2f s "
           "receiving in %.2f s (%.1f ns per record)\n",
           what, (double)r->wire_bytes / (double)records, (double)r->frames / r->secs, r->tx_cpu_s,
           r->rx_cpu_s, r->secs, (r->tx_cpu_s + r->rx_cpu_s) * 1e9 / (double)records);
}

/* ---- the command ---- */

/* bus and mailbox run here (no function of their own); the others are their own files */
static const wr_cli_cmd_t s_benches[] = {
    {"bus", NULL, "records/s between two processes through the bus against raw ZeroMQ"},
    {"mailbox", NULL, "mailbox push+pop against a ring under a mutex"},
    {"window", wr_bench_window, "the sliding-window operator against Flink-style and bare"},
    {"pipeline", wr_bench_pipeline, "the IoT job end to end on a local cluster"},
    {"sink", wr_bench_sink, "sink formatting against printf"},
    {"panestore", wr_bench_panestore, "the RocksDB pane store"},
    {"failover", wr_bench_failover, "JobManager leader loss against TaskManager loss, with etcd"},
    {"iot", wr_bench_iot, "the seed's job at its scale on a JobManager and two TaskManagers"},
    {"snapshot", wr_bench_snapshot, "a window checkpoint's walk, as built against key-group order"},
    {"kafka", wr_bench_kafka, "Kafka source -> window -> Kafka sink against a raw consume"},
    {"mqtt", wr_bench_mqtt, "MQTT source -> window against mosquitto_sub alone"},
    {"redis", wr_bench_redis, "the Redis sink's writer against a raw hiredis pipeline"},
    {"influxdb", wr_bench_influxdb, "the InfluxDB sink's writer against raw line-protocol POSTs"},
};

const wr_cli_cmd_t *wr_bench_commands(size_t *n)
{
    *n = sizeof s_benches / sizeof s_benches[0];
    return s_benches;
}

static const char s_usage[] =
    "usage: weir bench bus [--batches N] [--batch-records N] [--record-size BYTES] [--credits N]\n"
    "                      [--rounds N] [--curve] [--json]\n"
    "       weir bench mailbox [--json]\n"
    "       weir bench window [OPTIONS]  (see weir bench window --help)\n"
    "       weir bench pipeline [OPTIONS]  (see weir bench pipeline --help)\n"
    "       weir bench sink [--rows N] [--rounds N] [--json]  (sink formatting vs printf)\n"
    "       weir bench panestore [OPTIONS]  (see weir bench panestore --help)\n"
    "       weir bench failover [OPTIONS]  (see weir bench failover --help)\n"
    "       weir bench iot [OPTIONS]  (see weir bench iot --help)\n"
    "       weir bench kafka [OPTIONS]  (see weir bench kafka --help)\n"
    "       weir bench mqtt [--records N] [--per-message K] [--json]\n"
    "       weir bench redis [OPTIONS]  (see weir bench redis --help)\n"
    "       weir bench influxdb [OPTIONS]  (see weir bench influxdb --help)\n"
    "\n"
    "bus:     records/s between two processes over tcp loopback, through the weir bus (envelope,\n"
    "         msgpack, credit-based flow control, actors on both ends) and through raw ZeroMQ\n"
    "         PUSH/PULL with the same batches; prints both and the ratio (best of --rounds). With\n"
    "         --curve, also through the bus with CURVE on (keys in a temporary folder), and its\n"
    "         ratio to the bus without (goal >= 0.7). For the best round of each bus run: bytes\n"
    "         per record on the wire (the receiver's TCP count), frames/s, CPU seconds of each\n"
    "         process, with --curve what CURVE adds per record and per byte; the load average.\n"
    "mailbox: mailbox push+pop messages/s on one thread, against a ring under a mutex.\n"
    "window:  the sliding-window operator alone against a Flink-style one and a bare hash table.\n"
    "pipeline: the IoT job end to end on a local cluster against the source stage alone.\n"
    "failover: kill -9 of the leading JobManager (etcd HA) until the job runs again, against the\n"
    "         same for a TaskManager.\n"
    "iot:     the seed's job (examples/iot.yaml) at 5M devices on three processes: memory and\n"
    "         rocksdb, with and without p95, checkpoints off and on, optionally a kill.\n"
    "kafka:   Kafka source -> key by -> sliding window -> Kafka sink on librdkafka's mock\n"
    "         cluster, against a raw librdkafka consume of the same topic.\n"
    "mqtt:    MQTT source -> key by -> window on a local mosquitto, against mosquitto_sub\n"
    "         alone reading the same messages.\n"
    "redis:   the Redis sink's writer (HSETs pipelined) against a raw hiredis pipeline of the\n"
    "         same commands, on a redis-server it starts.\n"
    "influxdb: the InfluxDB sink's writer against raw line-protocol POSTs of the same points,\n"
    "         into an influxd it starts on loopback.\n"
    "Defaults: 20000 batches of 1000 records of 40 bytes, 32 credits, 3 rounds.\n";

int wr_cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"batches", required_argument, NULL, 'n'},
                                         {"batch-records", required_argument, NULL, 'b'},
                                         {"record-size", required_argument, NULL, 's'},
                                         {"credits", required_argument, NULL, 'k'},
                                         {"rounds", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"curve", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    size_t nb;
    const wr_cli_cmd_t *benches = wr_bench_commands(&nb);
    const wr_cli_cmd_t *b = argc > 1 ? wr_cli_command(benches, nb, argv[1]) : NULL;
    char name[64]; /* "weir bench kafka", the name getopt's messages begin with (main.c) */
    if (b) snprintf(name, sizeof name, "%s %s", argv[0], b->name);
    if (b && b->fn) {
        argv[1] = name;
        return b->fn(argc - 1, argv + 1);
    }
    if (b) argv[0] = name; /* bus, mailbox: run here, their name an argument */
    s_bus_opts_t o = {
        .batches = 20000, .batch_records = 1000, .record_size = 40, .credits = 32, .rounds = 3};
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'n':
            ok = wr_cli_count(optarg, 1, 100000000, &o.batches);
            break;
        case 'b':
            ok = wr_cli_count(optarg, 1, 1000000, &v) && (o.batch_records = (uint32_t)v);
            break;
        case 's':
            ok = wr_cli_count(optarg, 8, 65536, &v) && (o.record_size = (uint32_t)v);
            break;
        case 'k':
            ok = wr_cli_count(optarg, 1, 65536, &v) && (o.credits = (uint32_t)v);
            break;
        case 'r':
            ok = wr_cli_count(optarg, 1, 100, &v) && (o.rounds = (int)v);
            break;
        case 'J':
            o.json = true;
            break;
        case 'C':
            o.curve = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (!ok) {
            wr_cli_error("bench", "see weir bench --help",
                         "bad value '%s' (out of range or not a number)", optarg);
            return WR_EXIT_USAGE;
        }
    }
    const char *which = optind < argc ? argv[optind] : NULL;
    if (!which || optind + 1 != argc || (strcmp(which, "bus") && strcmp(which, "mailbox"))) {
        wr_cli_error("bench", NULL, which ? "unknown benchmark '%s'" : "which benchmark?%s",
                     which ? which : "");
        fputs("  benchmarks: ", stderr);
        wr_cli_join_names(benches, nb, stderr);
        fputs(" (see weir bench --help)\n", stderr);
        return WR_EXIT_USAGE;
    }
    if (!o.json) wr_bench_machine_print(stdout);
    if (!strcmp(which, "mailbox")) {
        double rate = s_mailbox_run();
        double base = s_locked_ring_run();
        if (rate < 0 || base < 0) {
            wr_cli_error("bench", NULL, "mailbox benchmark failed: %s",
                         wr_strerror((int)(rate < 0 ? rate : base)));
            return WR_EXIT_FAIL;
        }
        wr_strbuf_t mj;
        wr_strbuf_init(&mj);
        if (o.json)
            printf("{\"bench\":\"mailbox\",%s\"push_pop_per_s\":%.0f,"
                   "\"locked_ring_push_pop_per_s\":%.0f,\"ratio\":%.3f,\"goal_per_s\":10000000,"
                   "\"ratio_to_goal\":%.3f}\n",
                   wr_bench_machine_member(&mj), rate, base, rate / base, rate / 1e7);
        else
            printf(
                "mailbox push+pop, one thread: %.1f M messages/s; a ring under a mutex: %.1f M/s "
                "(ratio %.2f); goal >= 10 M/s (%.2fx)\n",
                rate / 1e6, base / 1e6, rate / base, rate / 1e7);
        wr_strbuf_release(&mj);
        return WR_EXIT_OK;
    }
    char keys[] = "/tmp/weir-bench-bus-XXXXXX";
    if (o.curve && s_bench_keys(keys)) return WR_EXIT_FAIL;
    double load[2][3] = {{0}};
    getloadavg(load[0], 3);
    double best_raw = 0;
    s_run_t best_weir = {0}, best_curve = {0};
    int rc = WR_EXIT_OK, sig = 0;
    /* SIGINT or SIGTERM (blocked by main, and so in the forked receivers) is asked for between
     * two rounds (about 2 s each) */
    for (int r = 0; r < o.rounds && rc == WR_EXIT_OK && !(sig = wr_cli_wait_signal(0)); r++) {
        double raw = s_raw_run(&o);
        s_run_t weir, curve = {0};
        int wrc = s_weir_run(&o, &weir);
        s_bus_opts_t oc = o;
        oc.keys_dir = keys;
        int crc = o.curve ? s_weir_run(&oc, &curve) : 0;
        if (raw < 0 || wrc || crc) {
            wr_cli_error("bench", NULL, "bus benchmark round %d failed (%s)", r + 1,
                         raw < 0 ? "raw ZeroMQ run"
                         : wrc   ? "weir run"
                                 : "CURVE run");
            rc = WR_EXIT_FAIL;
            break;
        }
        if (!o.json)
            printf("round %d: weir bus %.2f M records/s, raw ZeroMQ %.2f M records/s (%.2f)", r + 1,
                   weir.rate / 1e6, raw / 1e6, weir.rate / raw);
        if (!o.json && o.curve)
            printf("; with CURVE %.2f M records/s (%.2f of the bus)", curve.rate / 1e6,
                   curve.rate / weir.rate);
        if (!o.json) printf("\n");
        if (weir.rate > best_weir.rate) best_weir = weir;
        if (raw > best_raw) best_raw = raw;
        if (curve.rate > best_curve.rate) best_curve = curve;
    }
    if (o.curve) wr_fs_rmtree(keys);
    if (rc) return rc;
    if (sig) return wr_cli_stopped("bench bus", sig, "stopped between two rounds");
    getloadavg(load[1], 3);
    uint64_t records = o.batches * o.batch_records;
    double ratio = best_weir.rate / best_raw;
    wr_strbuf_t mj, extra;
    wr_strbuf_init(&mj);
    wr_strbuf_init(&extra);
    s_run_json(&extra, "weir", &best_weir, records);
    if (o.curve) {
        wr_strbuf_addf(&extra,
                       ",\"keys_dir\":\"%s\",\"curve_records_per_s\":%.0f,\"curve_ratio\":%.3f,"
                       "\"curve_goal_ratio\":0.7",
                       keys, best_curve.rate, best_curve.rate / best_weir.rate);
        s_run_json(&extra, "curve", &best_curve, records);
    }
    if (o.json)
        printf("{\"bench\":\"bus\",%s\"batches\":%llu,\"batch_records\":%u,\"record_size\":%u,"
               "\"credits\":%u,\"rounds\":%d,\"load_average\":[%.2f,%.2f],"
               "\"weir_records_per_s\":%.0f,\"raw_zmq_records_per_s\":%.0f,\"ratio\":%.3f,"
               "\"goal_ratio\":0.7%s}\n",
               wr_bench_machine_member(&mj), (unsigned long long)o.batches, o.batch_records,
               o.record_size, o.credits, o.rounds, load[0][0], load[1][0], best_weir.rate, best_raw,
               ratio, extra.buf ? extra.buf : "");
    else
        printf("best: weir bus %.2f M records/s, raw ZeroMQ PUSH/PULL %.2f M records/s, "
               "ratio %.2f (goal >= 0.70)\n",
               best_weir.rate / 1e6, best_raw / 1e6, ratio);
    if (!o.json && o.curve)
        printf("best with CURVE: %.2f M records/s, %.2f of the bus without (goal >= 0.70)\n",
               best_curve.rate / 1e6, best_curve.rate / best_weir.rate);
    if (!o.json) {
        s_run_text("bus", &best_weir, records);
        if (o.curve) {
            s_run_text("with CURVE", &best_curve, records);
            /* what CURVE adds, per byte it encrypts and decrypts */
            double cpu =
                best_curve.tx_cpu_s + best_curve.rx_cpu_s - best_weir.tx_cpu_s - best_weir.rx_cpu_s;
            printf("CURVE adds %.1f ns of CPU per record, %.2f ns per byte on the wire (both "
                   "processes)\n",
                   cpu * 1e9 / (double)records, cpu * 1e9 / (double)best_curve.wire_bytes);
        }
        printf("load average %.2f at the start, %.2f at the end (1 min)\n", load[0][0], load[1][0]);
    }
    wr_strbuf_release(&extra);
    wr_strbuf_release(&mj);
    return WR_EXIT_OK;
}
