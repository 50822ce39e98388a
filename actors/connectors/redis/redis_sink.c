/* The Redis sink's class (redis.h): its keys, their checks across keys, and the writer's entry
 * points (redis_writer.c). */
#include <string.h>

#include "actors/connectors/redis/redis.h"
#include "actors/connectors/redis/redis_sink.h"
#include "bus/base/error.h"

static const char *const s_modes[] = {"hash", "stream", NULL};

static const wr_param_t s_params[] = {
    {.key = "address",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_redis_sink_config_t, address),
     .dflt = "127.0.0.1:6379",
     .doc = "host:port of the Redis server"},
    {.key = "password",
     .type = WR_PARAM_CHARS,
     WR_PARAM_AT(wr_redis_sink_config_t, password),
     .empty_ok = true,
     .doc = "AUTH with this password (default: none)"},
    {.key = "db",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_redis_sink_config_t, db),
     .lo = 0,
     .hi = 15,
     .dflt = "0",
     .doc = "SELECT this database"},
    {.key = "mode",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(wr_redis_sink_config_t, mode),
     .words = s_modes,
     .dflt = "stream",
     .doc = "hash (HSET the latest result per key) or stream (XADD every result); by default "
            "hash when key is given, stream otherwise"},
    {.key = "key",
     .type = WR_PARAM_CHARS,
     WR_PARAM_AT(wr_redis_sink_config_t, key),
     .empty_ok = true,
     .example = "device:{device}:latest",
     .doc = "hash mode: each result's key, text and {field} placeholders"},
    {.key = "ttl",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_redis_sink_config_t, ttl_ms),
     .lo = 0,
     .hi = (int64_t)365 * 24 * 3600 * 1000,
     .dflt = "0s",
     .doc = "hash mode: PEXPIRE each key this long after its last write (0: never)"},
    {.key = "stream",
     .type = WR_PARAM_CHARS,
     WR_PARAM_AT(wr_redis_sink_config_t, stream),
     .empty_ok = true,
     .doc = "stream mode: the stream's name, a template as key is (default: results)"},
    {.key = "maxlen",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_redis_sink_config_t, maxlen),
     .lo = 0,
     .hi = INT64_MAX,
     .dflt = "0",
     .doc = "stream mode: XADD MAXLEN ~ maxlen (0: no trimming)"},
    {.key = "batch",
     .type = WR_PARAM_INT,
     WR_PARAM_AT(wr_redis_sink_config_t, batch),
     .lo = 1,
     .hi = 100000,
     .dflt = "1000",
     .doc = "commands pipelined in one round trip"},
    {.key = "timeout",
     .type = WR_PARAM_DURATION,
     WR_PARAM_AT(wr_redis_sink_config_t, timeout_ms),
     .lo = 1,
     .hi = 600000,
     .dflt = "5s",
     .doc = "connecting, and waiting for each round's replies"},
};

/* A template key: given in its mode only, and well formed. */
static int s_check_template(const wr_param_check_t *ck, const char *key, const char *text,
                            bool wanted, const char *mode)
{
    if (!wanted && text[0])
        return wr_param_fail(ck, key, "%s: only in mode %s", key,
                             strcmp(mode, "hash") ? "hash" : "stream");
    if (!wanted) return 0;
    if (!text[0])
        return wr_param_fail(ck, NULL, "mode %s needs %s (%s: device:{device}:latest)", mode, key,
                             key);
    wr_redis_template_t t;
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    int rc = wr_redis_template_parse(text, strlen(text), &t, &why);
    if (rc) rc = wr_param_fail(ck, key, "%s: '%s': %s", key, text, why.buf);
    wr_strbuf_release(&why);
    return rc;
}

static int s_check(void *config, const wr_param_check_t *ck)
{
    wr_redis_sink_config_t *c = config;
    char host[256];
    int port;
    if (!wr__redis_address(c->address, host, &port))
        return wr_param_fail(ck, "address", "address: '%s' is not host:port", c->address);
    /* defaults that depend on other keys (from the bus every key is given, resolved) */
    if (!wr_param_given(ck, "mode") && c->key[0]) c->mode = WR_REDIS_HASH;
    if (c->mode == WR_REDIS_STREAM && !c->stream[0]) strcpy(c->stream, "results");
    bool hash = c->mode == WR_REDIS_HASH;
    const char *mode = s_modes[c->mode];
    int rc = s_check_template(ck, "key", c->key, hash, mode);
    if (!rc) rc = s_check_template(ck, "stream", c->stream, !hash, mode);
    if (!rc && !hash && c->ttl_ms)
        rc = wr_param_fail(ck, "ttl", "ttl: only in mode hash (a stream's entries stay)");
    if (!rc && hash && c->maxlen) rc = wr_param_fail(ck, "maxlen", "maxlen: only in mode stream");
    return rc;
}

static void s_parallelism(const void *config, uint32_t *dflt, uint32_t *max, const char **why)
{
    (void)config;
    *dflt = 0; /* the job's */
    *max = 0;  /* any: a connection per writer */
    *why = NULL;
}

/* Hash mode: "redis:ADDRESS/DB/KEY-TEMPLATE" (the address as written): two jobs of a cluster
 * writing the same keys would overwrite each other's latest results. Streams are not exclusive:
 * several jobs may append to one. */
static void s_resources(const void *config, wr_strbuf_t *out)
{
    const wr_redis_sink_config_t *c = config;
    if (c->mode == WR_REDIS_HASH)
        wr_strbuf_addf(out, "redis:%s/%u/%s\n", c->address, c->db, c->key);
}

const wr_sink_class_t wr_redis_sink_class = {
    .type = "redis",
    .noun = "a Redis sink",
    .params = s_params,
    .nparams = sizeof s_params / sizeof s_params[0],
    .config_size = sizeof(wr_redis_sink_config_t),
    .check = s_check,
    .parallelism = s_parallelism,
    .open = wr__redis_sink_open,
    .close = wr__redis_sink_close,
    .write = wr__redis_sink_write,
    .flush = wr__redis_sink_flush,
    .barrier = wr__redis_sink_barrier,
    .failed_on = wr__redis_sink_failed_on,
    .resources = s_resources,
};

const wr_connector_t wr_redis_connector = {.sink = &wr_redis_sink_class};
