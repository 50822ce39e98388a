#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/runtime/request.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/path.h"
#include "bus/messages.h"
#include "state/etcd/ha.h"

void wr_cli_error(const char *cmd, const char *hint, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "weir %s: %s\n", cmd, text);
    if (hint) fprintf(stderr, "  %s\n", hint);
}

bool wr_cli_count(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*arg) return false;
    for (const char *c = arg; *c; c++) { /* digits only: no sign, no spaces */
        if (*c < '0' || *c > '9' || v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10) return false;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

int wr_cli_cfg_override(wr_cli_cfg_t *c, const char *cmd, const char *key, const char *value)
{
    if (c->n == (int)(sizeof c->keys / sizeof c->keys[0])) {
        wr_cli_error(cmd, NULL, "too many configuration overrides");
        return WR_EXIT_USAGE;
    }
    c->keys[c->n] = key;
    c->by_set[c->n] = false;
    c->values[c->n++] = value;
    return WR_EXIT_OK;
}

int wr_cli_cfg_set_arg(wr_cli_cfg_t *c, const char *cmd, char *kv)
{
    char *eq = strchr(kv, '=');
    if (!eq) {
        wr_cli_error(cmd, "example: --set heartbeat.timeout=5s", "--set needs KEY=VALUE, got '%s'",
                     kv);
        return WR_EXIT_USAGE;
    }
    *eq = '\0';
    int rc = wr_cli_cfg_override(c, cmd, kv, eq + 1);
    if (!rc) c->by_set[c->n - 1] = true;
    return rc;
}

int wr_cli_cfg_etcd(wr_cli_cfg_t *c, const char *cmd, const char *urls)
{
    int rc = wr_cli_cfg_override(c, cmd, "high-availability", "etcd");
    return rc ? rc : wr_cli_cfg_override(c, cmd, "high-availability.etcd.endpoints", urls);
}

static const char *s_or_null(const char *s)
{
    return s[0] ? s : NULL;
}

int wr_cli_ha_opts(const wr_config_t *cfg, const char *cmd, bool *on, wr_ha_opts_t *out)
{
    const char *mode = wr_config_str(cfg, "high-availability");
    *on = !strcmp(mode, "etcd");
    if (!*on && strcmp(mode, "none")) {
        wr_cli_error(cmd, "high-availability: none or etcd", "unknown high-availability '%s'",
                     mode);
        return WR_EXIT_USAGE;
    }
    *out = (wr_ha_opts_t){
        .endpoints = wr_config_str(cfg, "high-availability.etcd.endpoints"),
        .cluster_id = wr_config_str(cfg, "high-availability.cluster-id"),
        .lease_ttl_ms = wr_config_int(cfg, "high-availability.etcd.lease-ttl"),
        .renew_ms = wr_config_int(cfg, "high-availability.etcd.renew-interval"),
        .etcd = {.user = s_or_null(wr_config_str(cfg, "high-availability.etcd.user")),
                 .password = wr_config_str(cfg, "high-availability.etcd.password"),
                 .ca_file = s_or_null(wr_config_str(cfg, "high-availability.etcd.ca-file")),
                 .cert_file = s_or_null(wr_config_str(cfg, "high-availability.etcd.cert-file")),
                 .key_file = s_or_null(wr_config_str(cfg, "high-availability.etcd.key-file")),
                 .source_address = s_or_null(wr_config_str(cfg, "bus.source-address"))}};
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    int bad = *on || !wr_ha_cluster_id_valid(out->cluster_id) ? wr_ha_opts_check(out, &why) : 0;
    if (bad)
        wr_cli_error(cmd, "see the high-availability keys in deploy/weir.yaml", "%s",
                     why.failed ? "out of memory" : why.buf);
    wr_strbuf_release(&why);
    return bad ? WR_EXIT_USAGE : WR_EXIT_OK;
}

/* Which process command cmd is, as the key table tells the processes that read a key
 * (config.h): the daemons, weir local and the benchmarks (which run every process), or a
 * client command. */
static unsigned s_cfg_process(const char *cmd)
{
    if (!strcmp(cmd, "jobmanager")) return WR_CFG_JM;
    if (!strcmp(cmd, "taskmanager")) return WR_CFG_TM;
    if (!strcmp(cmd, "local") || !strncmp(cmd, "bench", 5)) return WR_CFG_LOCAL;
    return WR_CFG_CLIENT;
}

wr_config_t *wr_cli_cfg_build(const wr_cli_cfg_t *c, const char *cmd, int *exit_code)
{
    wr_config_t *cfg = wr_config_new();
    wr_strbuf_t err, origin;
    wr_strbuf_init(&err);
    wr_strbuf_init(&origin);
    *exit_code = WR_EXIT_FAIL;
    int rc = cfg ? 0 : WR_ENOMEM;
    if (!rc && c->file) rc = wr_config_load_file(cfg, c->file, &err);
    for (int i = 0; i < c->n && !rc; i++) {
        wr_strbuf_reset(&origin);
        if (c->by_set[i]) wr_strbuf_addf(&origin, "--set %s", c->keys[i]);
        rc = origin.failed ? WR_ENOMEM
                           : wr_config_set(cfg, c->by_set[i] ? origin.buf : NULL, c->keys[i],
                                           c->values[i], &err);
    }
    if (!rc) rc = wr_config_check(cfg, &err);
    if (rc == WR_ECONFIG) *exit_code = WR_EXIT_USAGE; /* the file is there: its text is wrong */
    if (rc == WR_ENOMEM && !err.len) wr_strbuf_adds(&err, "out of memory");
    if (rc)
        wr_cli_error(cmd, "every key and its default is documented in deploy/weir.yaml", "%s",
                     err.failed ? "out of memory" : err.buf);
    if (!rc && wr_config_unused(cfg, s_cfg_process(cmd), &err)) /* one warning per key */
        for (char *line = err.failed ? NULL : err.buf, *end; line; line = end ? end + 1 : NULL) {
            if ((end = strchr(line, '\n'))) *end = '\0';
            wr_warn("weir %s: %s", cmd, line);
        }
    wr_strbuf_release(&err);
    wr_strbuf_release(&origin);
    if (!rc) {
        *exit_code = WR_EXIT_OK;
        return cfg;
    }
    wr_config_destroy(&cfg);
    return NULL;
}

const char *wr_cli_abs_path(const char *path, char *out, size_t cap)
{
    wr_strbuf_t abs;
    wr_strbuf_init(&abs);
    if (wr_path_canonical(path, &abs) || abs.len >= cap)
        snprintf(out, cap, "%s", path);
    else
        memcpy(out, abs.buf, abs.len + 1);
    wr_strbuf_release(&abs);
    return out;
}

int wr_cli_jm_opts(const wr_config_t *cfg, const char *cmd, wr_jobmanager_opts_t *out)
{
    static const char *const kinds[] = {"", "none", "fixed-delay", "exponential-delay",
                                        "failure-rate"};
    const char *backend = wr_config_str(cfg, "state.backend");
    if (strcmp(backend, "memory") && strcmp(backend, "rocksdb")) {
        wr_cli_error(cmd, "state.backend: memory or rocksdb", "unknown state.backend '%s'",
                     backend);
        return WR_ECONFIG;
    }
    const char *rs = wr_config_str(cfg, "restart-strategy");
    int kind = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(rs, kinds[k])) kind = k;
    if (kind < 0) {
        wr_cli_error(cmd, "restart-strategy: none, fixed-delay, exponential-delay or failure-rate",
                     "unknown restart-strategy '%s'", rs);
        return WR_ECONFIG;
    }
    *out = (wr_jobmanager_opts_t){
        .cluster_id = wr_config_str(cfg, "high-availability.cluster-id"),
        .checkpoints_dir = wr_config_str(cfg, "state.checkpoints.dir"),
        .savepoints_dir = wr_config_str(cfg, "state.savepoints.dir"),
        .savepoints_roots = wr_config_str(cfg, "security.paths.savepoints"),
        .sources_roots = wr_config_str(cfg, "security.paths.sources"),
        .sinks_roots = wr_config_str(cfg, "security.paths.sinks"),
        .max_slots_per_tm = (uint32_t)wr_config_int(cfg, "slotmanager.max-slots-per-taskmanager"),
        .max_subtasks_per_job = (uint32_t)wr_config_int(cfg, "jobmanager.max-subtasks-per-job"),
        .channel_credits = (uint32_t)wr_config_int(cfg, "bus.channel-credits"),
        .interval_ms = wr_config_int(cfg, "execution.checkpointing.interval"),
        .timeout_ms = wr_config_int(cfg, "execution.checkpointing.timeout"),
        .min_pause_ms = wr_config_int(cfg, "execution.checkpointing.min-pause"),
        .tolerable_failures =
            (uint32_t)wr_config_int(cfg, "execution.checkpointing.tolerable-failed-checkpoints"),
        .num_retained = (uint32_t)wr_config_int(cfg, "state.checkpoints.num-retained"),
        .rocksdb = !strcmp(backend, "rocksdb"),
        .rocksdb_dir = wr_config_str(cfg, "state.backend.rocksdb.localdir"),
        .rocksdb_cache = (uint64_t)wr_config_int(cfg, "state.backend.rocksdb.block-cache-size"),
        .restart =
            {
                .kind = (wr_restart_kind_t)kind,
                .attempts = (uint32_t)wr_config_int(cfg, "restart-strategy.fixed-delay.attempts"),
                .delay_ms = kind == WR_RESTART_FAILURE_RATE
                                ? wr_config_int(cfg, "restart-strategy.failure-rate.delay")
                                : wr_config_int(cfg, "restart-strategy.fixed-delay.delay"),
                .initial_backoff_ms =
                    wr_config_int(cfg, "restart-strategy.exponential-delay.initial-backoff"),
                .max_backoff_ms =
                    wr_config_int(cfg, "restart-strategy.exponential-delay.max-backoff"),
                .reset_threshold_ms = wr_config_int(
                    cfg, "restart-strategy.exponential-delay.reset-backoff-threshold"),
                .multiplier = (uint32_t)wr_config_int(
                    cfg, "restart-strategy.exponential-delay.backoff-multiplier"),
                .max_failures = (uint32_t)wr_config_int(
                    cfg, "restart-strategy.failure-rate.max-failures-per-interval"),
                .failure_interval_ms =
                    wr_config_int(cfg, "restart-strategy.failure-rate.failure-rate-interval"),
            },
    };
    return 0;
}

wr_node_opts_t wr_cli_node_opts(const wr_config_t *cfg, const char *id, const char *bind)
{
    return (wr_node_opts_t){
        .id = id,
        .bind = bind,
        .threads = (unsigned)wr_config_int(cfg, "runtime.threads"),
        .mailbox_capacity = (uint32_t)wr_config_int(cfg, "runtime.mailbox-capacity"),
        .turn_budget = (uint32_t)wr_config_int(cfg, "runtime.turn-budget"),
        .heartbeat_interval_ms = wr_config_int(cfg, "heartbeat.interval"),
        .heartbeat_timeout_ms = wr_config_int(cfg, "heartbeat.timeout"),
        .max_message_size = (size_t)wr_config_int(cfg, "bus.max-message-size"),
        .source_address = wr_config_str(cfg, "bus.source-address"),
    };
}

int wr_cli_endpoint_check(const char *ep, wr_strbuf_t *why)
{
    if (!strncmp(ep, "ipc://", 6)) {
        if (ep[6]) return 0;
        wr_strbuf_adds(why, "an ipc:// endpoint needs a path");
        return WR_EINVAL;
    }
    if (strncmp(ep, "tcp://", 6)) {
        wr_strbuf_addf(why, "unknown scheme in '%s' (use tcp://HOST:PORT or ipc://PATH)", ep);
        return WR_EINVAL;
    }
    const char *host = ep + 6, *colon = strrchr(host, ':');
    uint64_t port;
    if (!colon) {
        wr_strbuf_addf(why, "'%s' has no port (use tcp://HOST:PORT)", ep);
    } else if (colon == host || (colon - host == 1 && *host == '*')) {
        wr_strbuf_addf(why, "'%s' names no host to connect to (use tcp://HOST:PORT)", ep);
    } else if (!wr_cli_count(colon + 1, 1, 65535, &port)) {
        wr_strbuf_addf(why, "'%s': the port must be a number from 1 to 65535, not '%s'", ep,
                       colon + 1);
    } else {
        return 0;
    }
    return WR_EINVAL;
}

int wr_cli_jm_endpoint_check(const wr_config_t *cfg, const char *cmd)
{
    wr_strbuf_t why;
    wr_strbuf_init(&why);
    int bad = wr_cli_endpoint_check(wr_config_str(cfg, "jobmanager.address"), &why);
    if (bad)
        wr_cli_error(cmd, "set it with --jobmanager or jobmanager.address",
                     "bad JobManager endpoint: %s", why.failed ? "out of memory" : why.buf);
    wr_strbuf_release(&why);
    return bad ? WR_EXIT_USAGE : WR_EXIT_OK;
}

/* With high-availability: etcd, the leader etcd names becomes jobmanager.node-id and
 * jobmanager.address in cfg. WR_EXIT_OK, or an exit code after printing why. */
static int s_find_leader(wr_config_t *cfg, const char *cmd)
{
    bool on = false;
    wr_ha_opts_t ha;
    int rc = wr_cli_ha_opts(cfg, cmd, &on, &ha);
    if (rc || !on) return rc;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    ha.etcd.request_timeout_ms = (int)wr_config_int(cfg, "client.timeout");
    wr_etcd_t *e = wr_etcd_new(ha.endpoints, &ha.etcd, &err);
    wr_ha_candidate_t leader;
    rc = e ? wr_ha_leader(e, ha.cluster_id, &leader, &err) : WR_EINVAL;
    wr_etcd_destroy(&e);
    if (rc == WR_ENOTFOUND)
        wr_cli_error(cmd, "is a `weir jobmanager` of that cluster id running with --etcd?",
                     "etcd (%s) names no JobManager of cluster '%s'", ha.endpoints, ha.cluster_id);
    else if (rc)
        wr_cli_error(cmd, "check --etcd (high-availability.etcd.endpoints)",
                     "cannot ask etcd who leads: %s", err.len ? err.buf : wr_strerror(rc));
    if (!rc &&
        ((rc = wr_config_set(cfg, "etcd", "jobmanager.node-id", leader.addr.node, &err)) ||
         (rc = wr_config_set(cfg, "etcd", "jobmanager.address", leader.addr.endpoint, &err))))
        wr_cli_error(cmd, NULL, "etcd names a leader that cannot be one: %s", err.buf);
    wr_strbuf_release(&err);
    return rc ? WR_EXIT_FAIL : WR_EXIT_OK;
}

wr_node_t *wr_cli_client(wr_config_t *cfg, const char *cmd, int *exit_code)
{
    if ((*exit_code = s_find_leader(cfg, cmd))) return NULL;
    const char *jm_endpoint = wr_config_str(cfg, "jobmanager.address");
    *exit_code = wr_cli_jm_endpoint_check(cfg, cmd);
    if (*exit_code) return NULL;
    *exit_code = WR_EXIT_FAIL;
    char id[WR_NODE_MAX + 16], keys[512];
    /* with keys, a client's id starts with its certificate's name (bus/keys.h) */
    const char *cert = wr_config_str(cfg, "security.client");
    bool curve = wr_config_bool(cfg, "security.curve");
    /* then its own part, unique to this client: its process id mixed with the clock, in base 36
     * (7 characters at most: the id fits WR_NODE_MAX). A process may run several clients one
     * after another (the tests' in-process commands), and processes of other PID namespaces
     * share pids: the JobManager must not take a new client for an old one still connected. */
    uint64_t mix = ((uint64_t)getpid() * 1000003u + (uint64_t)wr_now_ns() / 1000) % 78364164096u;
    char own[8];
    int k = (int)sizeof own - 1;
    own[k] = '\0';
    do {
        own[--k] = "0123456789abcdefghijklmnopqrstuvwxyz"[mix % 36];
        mix /= 36;
    } while (mix && k > 0);
    snprintf(id, sizeof id, "%.23s%s%s", curve ? cert : "cli", curve ? "." : "-", own + k);
    wr_node_opts_t o = wr_cli_node_opts(cfg, id, NULL);
    if ((*exit_code = wr_cli_secure(cfg, cmd, cert, &o, keys, sizeof keys))) return NULL;
    *exit_code = WR_EXIT_FAIL;
    o.threads = 1;
    o.heartbeat_interval_ms = 0; /* a transient client: the cluster does not track it */
    /* an unreachable JobManager is reported after this grace period */
    o.heartbeat_timeout_ms = wr_config_int(cfg, "client.timeout");
    int err = 0;
    wr_node_t *n = wr_node_new(&o, &err);
    if (!n) {
        wr_cli_error(cmd, NULL, "cannot start a client node: %s", wr_strerror(err));
        return NULL;
    }
    const char *jm_id = wr_config_str(cfg, "jobmanager.node-id");
    err = wr_node_connect(n, jm_id, jm_endpoint);
    if (err) {
        wr_cli_error(cmd, "use --jobmanager tcp://HOST:PORT", "bad JobManager endpoint '%s': %s",
                     jm_endpoint, wr_strerror(err));
        wr_node_destroy(&n);
    }
    return n;
}

/* Why the JobManager at address jm (on a peer of via) gave no answer: "no JobManager answers at
 * ENDPOINT", or, when the node at that endpoint turned out to have another id (bus/transport.h),
 * both ids and the --set that fixes it; with keys, that it refused this client's key, or that the
 * CURVE handshake failed. A second line holds the hint. */
static void s_why_no_jm(wr_node_t *via, const char *jm, wr_strbuf_t *why)
{
    char node[WR_NODE_MAX] = "";
    wr_addr_split(jm, node);
    wr_peer_info_t info, *p = wr_node_peer(via, node, &info) ? &info : NULL;
    /* with keys, a client's id is its certificate's name, a dot and its own part */
    const char *self = wr_node_id(via);
    int cert = (int)strcspn(self, ".");
    /* another node there (a probe found it) says more than the failed handshake with it */
    if (p && p->actual[0])
        wr_strbuf_addf(why,
                       "the JobManager at %s is node '%s', not '%s' (jobmanager.node-id)\n"
                       "  use --set jobmanager.node-id=%s",
                       p->endpoint, p->actual, node, p->actual);
    else if (p && p->handshake == WR_EPERM)
        wr_strbuf_addf(why,
                       "the JobManager at %s refused this client's key '%.*s': it is not among "
                       "the cluster's public certificates (revoked, or made for another cluster)\n"
                       "  use a certificate of this cluster: security.client names it, in "
                       "security.keys-dir",
                       p->endpoint, cert, self);
    else if (p && p->handshake == WR_EPROTO)
        wr_strbuf_addf(why,
                       "the CURVE handshake with the JobManager at %s failed: it runs without "
                       "security.curve, or with another key than the cluster's public certificate "
                       "'%s' in security.keys-dir",
                       p->endpoint, node);
    else if (p && p->endpoint[0])
        wr_strbuf_addf(why,
                       "no JobManager answers at %s (as node '%s')\n"
                       "  is `weir jobmanager` (or `weir local --bind ...`) running there? (see "
                       "--jobmanager)",
                       p->endpoint, node);
    else
        wr_strbuf_addf(why, "no JobManager answers as node '%s'", node);
}

/* True when the request's failure is the JobManager's silence: no answer, or an ERROR from via's
 * own node that it cannot be reached. */
static bool s_jm_silent(wr_node_t *via, int rc, const wr_msg_t *answer)
{
    char origin[WR_NODE_MAX];
    if (!answer) return rc == WR_ETIMEDOUT || rc == WR_EUNREACH || rc == WR_EWRONGNODE;
    return (rc == WR_EUNREACH || rc == WR_EWRONGNODE) && wr_addr_split(answer->from, origin) &&
           !strcmp(origin, wr_node_id(via));
}

/* A NOT_LEADER answer that names the leader: via connects to it and *to becomes its JobManager.
 * False when it names none (or not one that can be). */
static bool s_redirect(wr_node_t *via, const wr_msg_t *answer, char to[WR_ADDR_MAX])
{
    wr_msg_jm_addr_t a;
    if (wr_proto_decode(&wr_msg_jm_addr_decl, answer->data, answer->len, &a) || !a.node[0] ||
        !wr_node_id_valid(a.node) || wr_node_connect(via, a.node, a.endpoint))
        return false;
    snprintf(to, WR_ADDR_MAX, "%s/%s", a.node, WR_JOBMANAGER_PATH);
    return true;
}

/* wr_cli_request, waiting as wr_node_request_patient does (keep NULL: timeout_ms at most). */
static int s_request(wr_node_t *via, const char *to, int64_t timeout_ms, bool (*keep)(void *),
                     void *ctx, uint16_t type, const void *req, uint16_t reply_type, void *reply,
                     wr_msg_t **answer)
{
    int rc =
        wr_node_request_typed(via, to, timeout_ms, keep, ctx, type, req, reply_type, reply, answer);
    char leader[WR_ADDR_MAX];
    if (*answer && (*answer)->type == WR_MSG_NOT_LEADER && s_redirect(via, *answer, leader)) {
        wr_msg_destroy(answer); /* a standby: once more, to the leader it names */
        rc = wr_node_request_typed(via, leader, timeout_ms, keep, ctx, type, req, reply_type, reply,
                                   answer);
    }
    if (!rc || !*answer) return rc;
    if ((*answer)->type == WR_MSG_NOT_LEADER) return WR_EAGAIN;
    if ((*answer)->type == WR_MSG_ERROR) {
        wr_msg_error_t e;
        return wr_msg_error_unpack(*answer, &e) || e.code >= 0 ? WR_EPROTO : e.code;
    }
    wr_msg_destroy(answer); /* an answer of another type */
    return WR_EPROTO;
}

int wr_cli_request(wr_node_t *via, const char *to, int64_t timeout_ms, uint16_t type,
                   const void *req, uint16_t reply_type, void *reply, wr_msg_t **answer)
{
    return s_request(via, to, timeout_ms, NULL, NULL, type, req, reply_type, reply, answer);
}

/* The patience of wr_cli_ask_jm for a job's long answer. */
typedef struct {
    wr_node_t *via;
    const char *to, *cmd, *job;
    int64_t step_ms, until_ns;
    int silent; /* questions in a row about the job the JobManager did not answer */
    bool told;
} s_patience_t;

/* Waits on while the JobManager still answers about the job, and until_ns. */
static bool s_keep_waiting(void *ctx)
{
    s_patience_t *p = ctx;
    if (wr_now_ns() >= p->until_ns) return false;
    wr_msg_job_reply_t j;
    wr_msg_t *reply = wr_cli_job(p->via, p->to, p->step_ms, p->job, &j);
    if (!reply) return ++p->silent < 2; /* (the wait and the question: two silent steps each) */
    wr_msg_job_reply_release(&j);
    wr_msg_destroy(&reply);
    p->silent = 0;
    if (!p->told) {
        fprintf(stderr, "weir %s: waiting for job %s's savepoint (the JobManager is at work)\n",
                p->cmd, p->job);
        p->told = true;
    }
    return true;
}

wr_msg_t *wr_cli_ask_jm(wr_node_t *client, const wr_config_t *cfg, const char *cmd, uint16_t type,
                        const void *req, uint16_t reply_type, void *reply, const char *job)
{
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/jobmanager", wr_config_str(cfg, "jobmanager.node-id"));
    /* the transport reports an unreachable peer after client.timeout; wait a little longer */
    int64_t timeout = wr_config_int(cfg, "client.timeout") + 1000;
    int64_t patience = timeout + wr_config_int(cfg, "execution.checkpointing.timeout");
    s_patience_t p = {.via = client,
                      .to = to,
                      .cmd = cmd,
                      .job = job,
                      .step_ms = timeout,
                      .until_ns = wr_now_ns() + patience * 1000000};
    wr_msg_t *answer = NULL;
    int rc = s_request(client, to, timeout, job ? s_keep_waiting : NULL, &p, type, req, reply_type,
                       reply, &answer);
    if (rc == 0) return answer;
    wr_msg_error_t e;
    if (s_jm_silent(client, rc, answer)) {
        wr_strbuf_t why;
        wr_strbuf_init(&why);
        s_why_no_jm(client, to, &why);
        wr_cli_error(cmd, NULL, "%s", why.buf);
        wr_strbuf_release(&why);
    } else if (answer && answer->type == WR_MSG_NOT_LEADER) {
        wr_cli_error(cmd, "a standby takes over within high-availability.etcd.lease-ttl",
                     "%s: no JobManager leads the cluster yet", answer->from);
    } else if (!answer && rc == WR_EPROTO) {
        wr_cli_error(cmd, NULL, "the JobManager's answer is malformed (expected a %s)",
                     wr_msg_type_label(reply_type));
    } else if (!answer) {
        wr_cli_error(cmd, NULL, "no answer from the JobManager %s: %s", to, wr_strerror(rc));
    } else if (wr_msg_error_unpack(answer, &e)) {
        wr_cli_error(cmd, NULL, "the JobManager answered with a malformed error");
    } else {
        wr_cli_error(cmd, NULL, "%.*s", (int)e.text.len, e.text.s);
    }
    wr_msg_destroy(&answer);
    return NULL;
}

int wr_cli_submit(wr_node_t *via, const char *jm, int64_t timeout_ms, const wr_topology_t *t,
                  const char *restore, uint32_t parallelism, char id[WR_JOB_ID_MAX],
                  wr_strbuf_t *why)
{
    msgpack_sbuffer topo;
    msgpack_sbuffer_init(&topo);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &topo, msgpack_sbuffer_write);
    wr_msg_job_submit_t req = {.parallelism = parallelism};
    int rc = wr_topology_pack(t, &pk) ? WR_ENOMEM : 0;
    req.topology = (wr_bytes_t){(const uint8_t *)topo.data, topo.size};
    if (!rc && (size_t)snprintf(req.restore, sizeof req.restore, "%s", restore ? restore : "") >=
                   sizeof req.restore)
        rc = WR_ETOOBIG;
    wr_msg_job_ref_t reply;
    wr_msg_t *answer = NULL;
    if (!rc)
        rc = wr_cli_request(via, jm, timeout_ms, WR_MSG_JOB_SUBMIT, &req, WR_MSG_JOB_SUBMITTED,
                            &reply, &answer);
    wr_msg_error_t e;
    if (!rc)
        memcpy(id, reply.job, WR_JOB_ID_MAX);
    else if (s_jm_silent(via, rc, answer))
        s_why_no_jm(via, jm, why);
    else if (answer && answer->type == WR_MSG_NOT_LEADER)
        wr_strbuf_addf(why, "%s: no JobManager leads the cluster yet", answer->from);
    else if (answer && !wr_msg_error_unpack(answer, &e))
        wr_strbuf_addf(why, "the job was refused: %.*s", (int)e.text.len, e.text.s);
    else if (answer || rc == WR_EPROTO)
        wr_strbuf_adds(why, "the JobManager's answer is malformed");
    else if (rc == WR_ETOOBIG)
        wr_strbuf_addf(why, "the restore path is longer than %d bytes", WR_MSG_PATH_MAX - 1);
    else
        wr_strbuf_addf(why, "no answer from the JobManager: %s", wr_strerror(rc));
    wr_msg_destroy(&answer);
    msgpack_sbuffer_destroy(&topo);
    return rc;
}

wr_msg_t *wr_cli_job(wr_node_t *via, const char *jm, int64_t timeout_ms, const char *id,
                     wr_msg_job_reply_t *j)
{
    wr_msg_job_ref_t req = {""};
    wr_msg_t *answer = NULL;
    if ((size_t)snprintf(req.job, sizeof req.job, "%s", id) >= sizeof req.job ||
        wr_cli_request(via, jm, timeout_ms, WR_MSG_JOB_REQ, &req, WR_MSG_JOB_REPLY, j, &answer))
        wr_msg_destroy(&answer);
    return answer;
}

void wr_cli_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int wr_cli_wait_signal(int64_t ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (ms < 0) {
        int sig = 0;
        while (sigwait(&set, &sig) != 0) {
        }
        return sig;
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig > 0) return sig;
        if (errno == EAGAIN) return 0;
        /* EINTR: wait again (the remaining time is approximate, which is fine here) */
    }
}

bool wr_cli_stop_asked(int *sig, int64_t ms)
{
    if (!*sig) *sig = wr_cli_wait_signal(ms);
    return *sig != 0;
}

int wr_cli_stopped(const char *cmd, int sig, const char *what)
{
    fprintf(stderr, "weir %s: %s received: %s\n", cmd, sig == SIGINT ? "SIGINT" : "SIGTERM", what);
    return 128 + sig;
}
