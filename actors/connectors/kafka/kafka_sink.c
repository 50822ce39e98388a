/* The Kafka sink's class (kafka.h, kafka_sink.h): its keys, their checks, what it writes, and its
 * committer's entry points. The writer is kafka_sink_writer.c, the recovery kafka_sink_recover.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/connectors/kafka/kafka.h"
#include "actors/connectors/kafka/kafka_sink.h"
#include "actors/connectors/kafka/kafka_txnlog.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/path.h"

static const char *const s_formats[] = {"json", NULL};
static const char *const s_guarantees[] = {"at-least-once", "exactly-once", NULL};

static bool s_field_ok(const char *s, size_t len)
{
    char name[WR_KAFKA_FIELD_MAX];
    if (len >= sizeof name) return false;
    memcpy(name, s, len);
    name[len] = '\0';
    return wr_field_name_valid(name);
}

static const wr_param_t s_params[] = {
    {.key = "bootstrap.servers",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_kafka_sink_config_t, bootstrap),
     .required = true,
     .example = "127.0.0.1:9092",
     .doc = "the brokers to start from"},
    {.key = "topic",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_kafka_sink_config_t, topic),
     .required = true,
     .example = "results",
     .doc = "the topic (it must exist: the sink does not create it)"},
    {.key = "key",
     .type = WR_PARAM_CHARS,
     WR_PARAM_AT(wr_kafka_sink_config_t, key),
     .valid = s_field_ok,
     .empty_ok = true,
     .why = "is not a field name",
     .doc = "the field whose value is each message's key (a string raw, others as JSON); none "
            "by default"},
    {.key = "format",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(wr_kafka_sink_config_t, format),
     .words = s_formats,
     .dflt = "json",
     .doc = "each message one JSON object"},
    {.key = "guarantee",
     .type = WR_PARAM_ENUM,
     WR_PARAM_AT(wr_kafka_sink_config_t, guarantee),
     .words = s_guarantees,
     .dflt = "at-least-once",
     .doc = "at-least-once (flushed at each barrier) or exactly-once (a transaction per "
            "checkpoint)"},
    {.key = "transactional_id_prefix",
     .type = WR_PARAM_STRING,
     WR_PARAM_AT(wr_kafka_sink_config_t, txn_prefix),
     .dflt = "weir",
     .doc = "exactly-once: transactional ids are PREFIX-SUBTASK-ATTEMPT-N"},
    {.key = "transaction_log",
     .type = WR_PARAM_PATH,
     .from_cwd = true,
     WR_PARAM_AT(wr_kafka_sink_config_t, txn_log),
     .dflt = "kafka-transactions",
     .doc = "exactly-once: the folder of the transactions' logs and spools, shared by every "
            "TaskManager and the JobManager; relative to the working directory"},
    {.key = "properties",
     .type = WR_PARAM_PAIRS,
     WR_PARAM_AT(wr_kafka_sink_config_t, properties),
     .doc = "librdkafka producer properties, passed through (weir's own settings win)"},
};

static int s_check(void *config, const wr_param_check_t *ck)
{
    wr_kafka_sink_config_t *c = config;
    if (!wr_kafka_prefix_valid(c->txn_prefix))
        return wr_param_fail(ck, "transactional_id_prefix",
                             "transactional_id_prefix: '%s' is not a prefix (1 to %d letters, "
                             "digits and . _ -, not starting with . or -)",
                             c->txn_prefix, WR_KAFKA_PREFIX_MAX - 1);
    if (c->guarantee != WR_KAFKA_EXACTLY_ONCE || c->txn_log[0] == '/' || !ck->doc) return 0;
    /* the default folder, read from a file: from the working directory, as a topology file's
     * reader takes a path given (params.h: from_cwd), so that every subtask gets the same one */
    char cwd[PATH_MAX];
    char *abs = getcwd(cwd, sizeof cwd) ? wr_fs_join(cwd, c->txn_log) : NULL;
    if (!abs) return wr_param_fail(ck, "transaction_log", "cannot make %s absolute", c->txn_log);
    free(c->txn_log);
    c->txn_log = abs;
    return 0;
}

static void s_parallelism(const void *config, uint32_t *dflt, uint32_t *max, const char **why)
{
    (void)config;
    *dflt = 0; /* the job's */
    *max = 0;  /* any: a producer (and its transactions) per subtask */
    *why = NULL;
}

static wr_sink_guarantee_t s_guarantee(const void *config)
{
    const wr_kafka_sink_config_t *c = config;
    return c->guarantee == WR_KAFKA_EXACTLY_ONCE ? WR_SINK_EXACTLY_ONCE : WR_SINK_AT_LEAST_ONCE;
}

/* The transaction log folder, canonical (as given when it cannot be made so), ending in '/'. */
static void s_folder(const wr_kafka_sink_config_t *c, wr_strbuf_t *out)
{
    if (c->txn_log[0] != '/' || wr_path_canonical(c->txn_log, out) == WR_EIO)
        wr_strbuf_adds(out, c->txn_log);
    if (out->len && out->buf[out->len - 1] != '/') wr_strbuf_addc(out, '/');
}

/* Exactly once: "kafka-txn:/abs/folder/PREFIX": two jobs never share a prefix in one folder. */
static void s_resources(const void *config, wr_strbuf_t *out)
{
    const wr_kafka_sink_config_t *c = config;
    if (c->guarantee != WR_KAFKA_EXACTLY_ONCE) return;
    wr_strbuf_adds(out, "kafka-txn:");
    if (wr_path_canonical(c->txn_log, out) == WR_EIO) wr_strbuf_adds(out, c->txn_log);
    wr_strbuf_addf(out, "/%s\n", c->txn_prefix);
}

/* Exactly once: the folder (canonical when absolute; a relative one as given). */
static void s_paths(const void *config, wr_strbuf_t *out)
{
    const wr_kafka_sink_config_t *c = config;
    if (c->guarantee != WR_KAFKA_EXACTLY_ONCE) return;
    s_folder(c, out);
    wr_strbuf_addc(out, '\n');
}

/* Past every attempt the folder's logs of the prefix show: transactional ids never repeat. */
static uint32_t s_first_attempt(const void *config)
{
    const wr_kafka_sink_config_t *c = config;
    if (c->guarantee != WR_KAFKA_EXACTLY_ONCE) return 0;
    return wr_kafka_txnlog_first_attempt(c->txn_log, c->txn_prefix);
}

const wr_sink_class_t wr_kafka_sink_class = {
    .type = "kafka",
    .noun = "a Kafka sink",
    .params = s_params,
    .nparams = sizeof s_params / sizeof *s_params,
    .config_size = sizeof(wr_kafka_sink_config_t),
    .check = s_check,
    .parallelism = s_parallelism,
    .guarantee = s_guarantee,
    .open = wr__kafka_sink_open,
    .close = wr__kafka_sink_close,
    .write = wr__kafka_sink_write,
    .flush = wr__kafka_sink_flush,
    .barrier = wr__kafka_sink_barrier,
    .precommit = wr__kafka_sink_precommit,
    .commit = wr__kafka_sink_commit,
    .failed_on = wr__kafka_sink_failed_on,
    .resources = s_resources,
    .paths = s_paths,
    .first_attempt = s_first_attempt,
    .recover = wr__kafka_sink_recover,
};
