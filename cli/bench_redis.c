/* weir bench redis: rows per second of the Redis sink's writer (actors/connectors/redis/) against
 * a raw hiredis pipeline of the same commands, in the same run.
 *
 * The benchmark starts /usr/bin/redis-server on a free loopback port (no persistence, its folder
 * a temp folder of the run; killed at the end), or uses --address. Rows are window results
 * (device, window_start, window_end, n, s), made before the clock starts in batches of 1024, one
 * row per device per window, 10,000 devices. The sink writes them in hash mode, key
 * "bench:{device}", pipelining 1000 commands a round trip; the baseline sends the same HSETs
 * with redisAppendCommandArgv (values formatted with snprintf, as a hand-written client would),
 * 1000 then reading the 1000 replies. Wall-clock time (the server's work is part of it), best of
 * --rounds, the two runs alternating; afterwards one key of each is compared. Goal: the sink at
 * >= 0.7 of the baseline. SIGINT or SIGTERM stops it within S_ASK_EVERY batches (hundredths of a
 * second): the server killed, the folder removed, exit 128 + the signal. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "actors/connectors/redis/redis.h"
#include "actors/connectors/sink.h"
#include "bus/base/error.h"
#include "cli/bench_machine.h"
#include "cli/bench_procs.h"
#include "cli/bench_redis.h"
#include "cli/cli.h"

enum { S_BATCH = 1024, S_DEVICES = 10000, S_PIPELINE = 1000, S_ASK_EVERY = 16 };

#define S_REDIS_BIN "/usr/bin/redis-server"
#define S_CMD       "bench redis"

typedef struct {
    uint64_t rows;
    uint32_t rounds;
    bool json;
    const char *address; /* NULL: a server of its own */
} s_opts_t;

/* The rows: nb batches, row k is device k % S_DEVICES of window k / S_DEVICES. */
static wr_batch_t **s_pool_new(uint64_t rows, size_t *nb)
{
    wr_schema_t s;
    wr_schema_init(&s);
    wr_schema_add(&s, "device", WR_T_INT);
    wr_schema_add(&s, "window_start", WR_T_TIME);
    wr_schema_add(&s, "window_end", WR_T_TIME);
    wr_schema_add(&s, "n", WR_T_INT);
    wr_schema_add(&s, "s", WR_T_DOUBLE);
    *nb = (size_t)((rows + S_BATCH - 1) / S_BATCH);
    wr_batch_t **pool = calloc(*nb, sizeof *pool);
    for (size_t p = 0; pool && p < *nb; p++) {
        if (!(pool[p] = wr_batch_new(&s, S_BATCH))) return pool; /* the caller sees the NULL */
        for (uint32_t i = 0; i < S_BATCH; i++) {
            uint64_t k = p * S_BATCH + i;
            int64_t start = 1704067200000LL + (int64_t)(k / S_DEVICES) * 600000;
            wr_batch_i64(pool[p], 0)[i] = (int64_t)(k % S_DEVICES);
            wr_batch_i64(pool[p], 1)[i] = start;
            wr_batch_i64(pool[p], 2)[i] = start + 600000;
            wr_batch_i64(pool[p], 3)[i] = 1 + (int64_t)(k * 7919 % 600);
            wr_batch_f64(pool[p], 4)[i] = (double)(k * 104729 % 1000003) / 997.0;
        }
        pool[p]->count = S_BATCH;
    }
    return pool;
}

static void s_pool_free(wr_batch_t **pool, size_t nb)
{
    for (size_t p = 0; pool && p < nb; p++)
        wr_batch_destroy(&pool[p]);
    free(pool);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The sink's writer: seconds, a negative error (err saying why), or 0 when *sig came. */
static double s_run_sink(const char *address, wr_batch_t **pool, size_t nb, int *sig,
                         wr_strbuf_t *err)
{
    wr_redis_sink_config_t c = {.address = (char *)address,
                                .mode = WR_REDIS_HASH,
                                .key = "bench:{device}",
                                .batch = S_PIPELINE,
                                .timeout_ms = 10000};
    wr_sink_open_t o = {.schema = &pool[0]->schema, .parallelism = 1};
    int rc;
    wr_sink_t *s = wr_sink_open(&wr_redis_sink_class, &c, &o, &rc, err);
    if (!s) return rc;
    double t0 = s_now();
    for (size_t p = 0; !rc && p < nb && !(p % S_ASK_EVERY == 0 && wr_cli_stop_asked(sig, 0)); p++)
        rc = wr_sink_write(s, pool[p], NULL, 0);
    if (!rc && !*sig) rc = wr_sink_flush(s);
    double secs = s_now() - t0;
    if (rc && wr_sink_failed_on(s)) wr_strbuf_adds(err, wr_sink_failed_on(s));
    wr_sink_destroy(&s);
    return rc ? rc : *sig ? 0 : secs;
}

/* Reads n replies; WR_EIO (err saying why) for a lost connection or an error reply. */
static int s_replies(redisContext *ctx, uint32_t n, wr_strbuf_t *err)
{
    for (uint32_t k = 0; k < n; k++) {
        redisReply *r = NULL;
        if (redisGetReply(ctx, (void **)&r) != REDIS_OK) {
            wr_strbuf_adds(err, ctx->errstr);
            return WR_EIO;
        }
        bool bad = r->type == REDIS_REPLY_ERROR;
        if (bad) wr_strbuf_add(err, r->str, r->len);
        freeReplyObject(r);
        if (bad) return WR_EIO;
    }
    return 0;
}

/* The baseline: the same HSETs through redisAppendCommandArgv. As s_run_sink. */
static double s_run_raw(const char *host, int port, wr_batch_t **pool, size_t nb, int *sig,
                        wr_strbuf_t *err)
{
    redisContext *ctx = redisConnectWithTimeout(host, port, (struct timeval){.tv_sec = 10});
    if (!ctx || ctx->err || redisSetTimeout(ctx, (struct timeval){.tv_sec = 10}) != REDIS_OK) {
        wr_strbuf_adds(err, ctx ? ctx->errstr : "out of memory");
        if (ctx) redisFree(ctx);
        return WR_EIO;
    }
    const wr_schema_t *s = &pool[0]->schema;
    char key[64], val[5][40];
    const char *argv[12] = {"HSET", key};
    size_t len[12] = {4};
    for (uint32_t f = 0; f < 5; f++) {
        argv[2 + 2 * f] = s->f[f].name;
        len[2 + 2 * f] = strlen(s->f[f].name);
        argv[3 + 2 * f] = val[f];
    }
    int rc = 0;
    uint32_t queued = 0;
    double t0 = s_now();
    for (size_t p = 0; !rc && p < nb && !(p % S_ASK_EVERY == 0 && wr_cli_stop_asked(sig, 0)); p++) {
        const wr_batch_t *b = pool[p];
        for (uint32_t i = 0; !rc && i < b->count; i++) {
            len[1] = (size_t)snprintf(key, sizeof key, "raw:%lld",
                                      (long long)wr_batch_i64((wr_batch_t *)b, 0)[i]);
            for (uint32_t f = 0; f < 4; f++)
                len[3 + 2 * f] = (size_t)snprintf(val[f], sizeof val[f], "%lld",
                                                  (long long)((const int64_t *)b->col[f])[i]);
            len[11] =
                (size_t)snprintf(val[4], sizeof val[4], "%.17g", ((const double *)b->col[4])[i]);
            if (redisAppendCommandArgv(ctx, 12, argv, len) != REDIS_OK) rc = WR_ENOMEM;
            if (!rc && ++queued == S_PIPELINE) {
                rc = s_replies(ctx, queued, err);
                queued = 0;
            }
        }
    }
    if (!rc && !*sig) rc = s_replies(ctx, queued, err);
    double secs = s_now() - t0;
    redisFree(ctx);
    return rc ? rc : *sig ? 0 : secs;
}

/* ---- the server ---- */

/* Starts redis-server on a free port in the run's folder and waits until it answers PING. */
static int s_start_server(wr_bench_procs_t *ps, wr_bench_proc_t *p, char address[32])
{
    p->port = wr_bench_free_port();
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    char *const argv[] = {S_REDIS_BIN, "--bind", "127.0.0.1", "--port",       port, "--dir",
                          ps->dir,     "--save", "",          "--appendonly", "no", NULL};
    snprintf(p->name, sizeof p->name, "redis");
    snprintf(address, 32, "127.0.0.1:%d", p->port);
    if (p->port < 0 || wr_bench_spawn(ps, p, S_REDIS_BIN, argv)) return WR_EIO;
    for (int64_t until = wr_bench_ms() + 10000; wr_bench_ms() < until;) {
        redisContext *ctx =
            redisConnectWithTimeout("127.0.0.1", p->port, (struct timeval){.tv_usec = 200000});
        redisReply *r = ctx && !ctx->err ? redisCommand(ctx, "PING") : NULL;
        bool up = r && r->type == REDIS_REPLY_STATUS;
        if (r) freeReplyObject(r);
        if (ctx) redisFree(ctx);
        if (up) return 0;
        if (!wr_bench_alive(p) || !wr_bench_nap(ps, 50)) break;
    }
    return WR_ETIMEDOUT;
}

/* Whether the sink's hash and the baseline's of device d hold the same values. */
static bool s_same(const char *host, int port, int d)
{
    redisContext *ctx = redisConnectWithTimeout(host, port, (struct timeval){.tv_sec = 5});
    redisReply *a = ctx && !ctx->err ? redisCommand(ctx, "HGETALL bench:%d", d) : NULL;
    redisReply *b = a ? redisCommand(ctx, "HGETALL raw:%d", d) : NULL;
    bool same = a && b && a->type == REDIS_REPLY_ARRAY && b->type == REDIS_REPLY_ARRAY &&
                a->elements == 10 && a->elements == b->elements;
    for (size_t i = 0; same && i < a->elements; i++) /* the sink's doubles are the shortest */
        same = i % 2 ? strtod(a->element[i]->str, NULL) == strtod(b->element[i]->str, NULL)
                     : !strcmp(a->element[i]->str, b->element[i]->str);
    if (a) freeReplyObject(a);
    if (b) freeReplyObject(b);
    if (ctx) redisFree(ctx);
    return same;
}

/* ---- the command ---- */

static const char s_usage[] =
    "usage: weir bench redis [--rows N] [--rounds N] [--address HOST:PORT] [--json]\n"
    "\n"
    "Writes N window results (device, window_start, window_end, n, s; 10,000 devices) with the\n"
    "Redis sink (hash mode, 1000 commands pipelined a round trip) and the same HSETs with a raw\n"
    "hiredis pipeline (redisAppendCommandArgv), into a redis-server it starts on a free loopback\n"
    "port (or the one at --address); prints rows/s of each (wall clock, best of --rounds) and\n"
    "the ratio. Goal: the sink at >= 0.7 of the raw pipeline.\n"
    "Defaults: 200000 rows (rounded up to batches of 1024), 3 rounds.\n";

/* Parses the options into o: 0, or an exit code. */
static int s_options(int argc, char **argv, s_opts_t *o)
{
    static const struct option opts[] = {
        {"rows", required_argument, NULL, 'n'},    {"rounds", required_argument, NULL, 'r'},
        {"address", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        if (c == 'n')
            ok = wr_cli_count(optarg, 1, 100000000, &o->rows);
        else if (c == 'r')
            ok = wr_cli_count(optarg, 1, 100, &v) && (o->rounds = (uint32_t)v);
        else if (c == 'a')
            o->address = optarg;
        else if (c == 'J')
            o->json = true;
        else if (c == 'h')
            return fputs(s_usage, stdout), WR_EXIT_OK;
        else
            return fputs(s_usage, stderr), WR_EXIT_USAGE;
        if (!ok) {
            wr_cli_error(S_CMD, "see weir bench redis --help",
                         "bad value '%s' (out of range or not a number)", optarg);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc) return fputs(s_usage, stderr), WR_EXIT_USAGE;
    return -1;
}

/* Both runs, best of o->rounds each: 0, or an exit code after saying why; *sig: SIGINT or SIGTERM
 * came meanwhile (it stops, returning 0). */
static int s_measure(const s_opts_t *o, const char *address, double best[2], bool *same, int *sig)
{
    char host[256];
    int port;
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= sizeof host) {
        wr_cli_error(S_CMD, NULL, "--address: '%s' is not host:port", address);
        return WR_EXIT_USAGE;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - address), address);
    port = atoi(colon + 1);
    size_t nb;
    wr_batch_t **pool = s_pool_new(o->rows, &nb);
    int code = WR_EXIT_OK;
    if (!pool || !pool[nb - 1]) {
        wr_cli_error(S_CMD, NULL, "out of memory");
        code = WR_EXIT_FAIL;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    for (uint32_t r = 0; code == WR_EXIT_OK && r < o->rounds && !*sig; r++) {
        double t[2] = {s_run_sink(address, pool, nb, sig, &err), 0};
        if (t[0] > 0) t[1] = s_run_raw(host, port, pool, nb, sig, &err);
        for (int k = 0; k < 2 && code == WR_EXIT_OK && !*sig; k++) {
            if (t[k] <= 0) {
                wr_cli_error(S_CMD, NULL, "the %s run failed: %s: %s", k ? "raw" : "sink",
                             wr_strerror((int)t[k]), err.buf);
                code = WR_EXIT_FAIL;
            } else if (!best[k] || t[k] < best[k]) {
                best[k] = t[k];
            }
        }
    }
    int last = o->rows < S_DEVICES ? (int)o->rows - 1 : S_DEVICES - 1; /* a device written */
    *same = code == WR_EXIT_OK && !*sig && s_same(host, port, 0) && s_same(host, port, last);
    wr_strbuf_release(&err);
    s_pool_free(pool, nb);
    return code;
}

int wr_bench_redis(int argc, char **argv)
{
    s_opts_t o = {.rows = 200000, .rounds = 3};
    int code = s_options(argc, argv, &o);
    if (code >= 0) return code;
    o.rows = (o.rows + S_BATCH - 1) / S_BATCH * S_BATCH;
    wr_bench_procs_t ps = {0};
    wr_bench_proc_t server = {0};
    char address[32];
    if (!o.address) {
        if (wr_bench_procs_init(&ps, S_CMD, "redis")) return WR_EXIT_FAIL;
        if (s_start_server(&ps, &server, address)) {
            wr_cli_error(S_CMD, NULL, "%s did not answer PING on %s", S_REDIS_BIN, address);
            wr_bench_kill(&server);
            wr_bench_procs_release(&ps, false);
            return WR_EXIT_FAIL;
        }
    }
    if (!o.json) wr_bench_machine_print(stdout);
    double best[2] = {0};
    bool same = false;
    int sig = 0;
    code = s_measure(&o, o.address ? o.address : address, best, &same, &sig);
    if (!o.address) {
        wr_bench_kill(&server);
        wr_bench_procs_release(&ps, false);
    }
    if (code) return code;
    if (sig) return wr_cli_stopped(S_CMD, sig, "stopped");
    double sink = (double)o.rows / best[0], raw = (double)o.rows / best[1];
    if (o.json) {
        wr_strbuf_t mj;
        wr_strbuf_init(&mj);
        printf("{\"bench\":\"redis\",%s\"rows\":%llu,\"rounds\":%u,\"same_hashes\":%s,"
               "\"sink_rows_per_s\":%.0f,\"raw_rows_per_s\":%.0f,\"ratio\":%.3f,\"goal\":0.7}\n",
               wr_bench_machine_member(&mj), (unsigned long long)o.rows, o.rounds,
               same ? "true" : "false", sink, raw, sink / raw);
        wr_strbuf_release(&mj);
    } else {
        printf("%llu window results as HSETs, best of %u; the same hashes: %s\n",
               (unsigned long long)o.rows, o.rounds, same ? "yes" : "NO");
        printf("redis sink:          %9.0f rows/s\n", sink);
        printf("raw hiredis pipeline: %8.0f rows/s\n", raw);
        printf("ratio: %.2f (goal >= 0.7)\n", sink / raw);
    }
    return same ? WR_EXIT_OK : WR_EXIT_FAIL;
}
