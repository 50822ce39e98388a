#include "tests/support/cluster.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/job/topology.h"
#include "actors/taskmanager/taskmanager.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/strbuf.h"
#include "bus/msgtypes.h"
#include "tests/support/wait.h"

#define S_POLL_MS 10 /* how often a wait asks again */

struct tc_cluster {
    tc_opts_t o;
    char tag[64]; /* makes this cluster's inproc endpoints unique in the process */
    char jm_addr[WR_ADDR_MAX];
    wr_node_t *jm, *client;
    wr_node_t *tm[TC_MAX_TMS];
    char tm_id[TC_MAX_TMS][WR_NODE_MAX];
    unsigned tm_starts[TC_MAX_TMS]; /* incarnations so far: each binds a new endpoint */
};

/* ---- nodes ---- */

static wr_node_t *s_node(const tc_cluster_t *c, const char *id, const char *bind)
{
    wr_node_opts_t no = {
        .id = id,
        .bind = bind,
        .threads = c->o.threads,
        .heartbeat_interval_ms = bind ? c->o.heartbeat_interval_ms : 0, /* the client: none */
        .heartbeat_timeout_ms = c->o.heartbeat_timeout_ms,
    };
    int err = 0;
    wr_node_t *n = wr_node_new(&no, &err);
    if (!n) fail_msg("cannot start node %s on %s: %s", id, bind ? bind : "-", wr_strerror(err));
    return n;
}

void tc_tm_start(tc_cluster_t *c, uint32_t i)
{
    assert_true(i < c->o.taskmanagers && !c->tm[i]);
    char ep[160];
    snprintf(ep, sizeof ep, "inproc://%s-%s-%u", c->tag, c->tm_id[i], c->tm_starts[i]++);
    c->tm[i] = s_node(c, c->tm_id[i], ep);
    wr_taskmanager_opts_t to = {
        .jm_node_id = c->o.tm_jm_id ? c->o.tm_jm_id : wr_node_id(c->jm),
        .jm_endpoint = wr_node_endpoint(c->jm),
        .slots = c->o.slots,
        .register_retry_ms = 100,
    };
    int rc = wr_taskmanager_spawn(c->tm[i], &to);
    if (rc) fail_msg("cannot start the TaskManager %s: %s", c->tm_id[i], wr_strerror(rc));
}

void tc_tm_stop(tc_cluster_t *c, uint32_t i)
{
    assert_true(i < c->o.taskmanagers);
    wr_node_destroy(&c->tm[i]);
}

bool tc_tm_ready(tc_cluster_t *c, uint32_t i)
{
    assert_true(i < c->o.taskmanagers);
    char status[16];
    if (!c->tm[i] || strcmp(tc_node_status(c, c->tm_id[i], status, sizeof status), "up"))
        return false;
    wr_peer_info_t peers[TC_MAX_TMS + 2];
    size_t n = wr_node_peers(c->jm, peers, TC_MAX_TMS + 2);
    for (size_t p = 0; p < n && p < TC_MAX_TMS + 2; p++)
        if (!strcmp(peers[p].id, c->tm_id[i]))
            return peers[p].state == WR_PEER_UP &&
                   peers[p].incarnation == wr_node_incarnation(c->tm[i]);
    return false;
}

typedef struct {
    tc_cluster_t *c;
    uint32_t i;
} s_tm_wait_t;

static bool s_tm_ready(void *ctx)
{
    s_tm_wait_t *w = ctx;
    return tc_tm_ready(w->c, w->i);
}

bool tc_wait_tm_ready(tc_cluster_t *c, uint32_t i, int timeout_ms)
{
    s_tm_wait_t w = {c, i};
    return wr_test_wait_until(s_tm_ready, &w, timeout_ms, S_POLL_MS);
}

tc_cluster_t *tc_start(tc_cluster_t **slot, const tc_opts_t *o)
{
    tc_cluster_t *c = *slot = calloc(1, sizeof *c);
    assert_non_null(c);
    if (o) c->o = *o;
    if (!c->o.taskmanagers) c->o.taskmanagers = 2;
    if (!c->o.slots) c->o.slots = 2;
    if (!c->o.threads) c->o.threads = 1;
    if (!c->o.heartbeat_interval_ms) c->o.heartbeat_interval_ms = 100;
    if (!c->o.heartbeat_timeout_ms) c->o.heartbeat_timeout_ms = 2000;
    assert_true(c->o.taskmanagers <= TC_MAX_TMS);
    snprintf(c->tag, sizeof c->tag, "tc-%ld-%llx", (long)getpid(), (unsigned long long)wr_now_ns());
    char ep[160];
    snprintf(ep, sizeof ep, "inproc://%s-jm-1", c->tag);
    c->jm = s_node(c, "jm-1", ep);
    int rc = wr_jobmanager_spawn(c->jm, &c->o.jm);
    if (rc) fail_msg("cannot start the JobManager: %s", wr_strerror(rc));
    snprintf(c->jm_addr, sizeof c->jm_addr, "jm-1/%s", WR_JOBMANAGER_PATH);
    for (uint32_t i = 0; i < c->o.taskmanagers; i++) {
        snprintf(c->tm_id[i], sizeof c->tm_id[i], "tm-%u", i + 1);
        tc_tm_start(c, i);
    }
    c->client = s_node(c, "client", NULL);
    rc = wr_node_connect(c->client, "jm-1", wr_node_endpoint(c->jm));
    if (rc) fail_msg("the client cannot connect to the JobManager: %s", wr_strerror(rc));
    for (uint32_t i = 0; i < c->o.taskmanagers; i++)
        if (!tc_wait_tm_ready(c, i, TC_WAIT_MS))
            fail_msg("the TaskManager %s was not ready within %d ms", c->tm_id[i], TC_WAIT_MS);
    return c;
}

void tc_stop(tc_cluster_t **cp)
{
    if (!cp || !*cp) return;
    tc_cluster_t *c = *cp;
    wr_node_destroy(&c->client);
    for (uint32_t i = 0; i < c->o.taskmanagers; i++)
        wr_node_destroy(&c->tm[i]);
    wr_node_destroy(&c->jm);
    free(c);
    *cp = NULL;
}

int tc_teardown(void **state)
{
    tc_stop((tc_cluster_t **)state);
    return 0;
}

int tc_dir_setup(void **state)
{
    tc_fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/weir-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int tc_dir_teardown(void **state)
{
    tc_fx_t *f = *state;
    tc_stop(&f->c);
    wr_fs_rmtree(f->dir);
    free(f);
    return 0;
}

const char *tc_jm_id(const tc_cluster_t *c)
{
    return wr_node_id(c->jm);
}

const char *tc_tm_id(const tc_cluster_t *c, uint32_t i)
{
    assert_true(i < c->o.taskmanagers);
    return c->tm_id[i];
}

wr_node_t *tc_jm_node(tc_cluster_t *c)
{
    return c->jm;
}

wr_node_t *tc_tm_node(tc_cluster_t *c, uint32_t i)
{
    assert_true(i < c->o.taskmanagers);
    return c->tm[i];
}

/* ---- asking ---- */

wr_msg_t *tc_ask(tc_cluster_t *c, uint16_t type, const void *payload, size_t len)
{
    wr_msg_t *reply = NULL;
    if (wr_node_request(c->client, c->jm_addr, type, payload, len, TC_WAIT_MS, &reply))
        wr_msg_destroy(&reply);
    return reply;
}

/* Asks and insists on a reply of type want. */
static wr_msg_t *s_ask_for(tc_cluster_t *c, uint16_t type, const void *payload, size_t len,
                           uint16_t want)
{
    wr_msg_t *reply = tc_ask(c, type, payload, len);
    if (!reply) fail_msg("no answer to %s from the JobManager", wr_msg_type_label(type));
    if (reply->type != want) {
        char text[256] = "";
        wr_msg_error_t e;
        if (!wr_msg_error_unpack(reply, &e))
            snprintf(text, sizeof text, ": %s (%.*s)", wr_strerror(e.code), (int)e.text.len,
                     e.text.s);
        uint16_t got = reply->type;
        wr_msg_destroy(&reply);
        fail_msg("%s answered with %s%s", wr_msg_type_label(type), wr_msg_type_label(got), text);
    }
    return reply;
}

/* msgpack of [strings..., u32 n] (n < 0: none) into sb, for requests. */
static void s_pack_args(msgpack_sbuffer *sb, const char *a, const char *b, int64_t n)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (a != NULL) + (b != NULL) + (n >= 0));
    if (a) wr_pack_str(&pk, a);
    if (b) wr_pack_str(&pk, b);
    if (n >= 0) msgpack_pack_uint32(&pk, (uint32_t)n);
}

wr_msg_t *tc_jobs(tc_cluster_t *c)
{
    return s_ask_for(c, WR_MSG_JOBS_REQ, NULL, 0, WR_MSG_JOBS_REPLY);
}

wr_msg_t *tc_actors(tc_cluster_t *c)
{
    return s_ask_for(c, WR_MSG_ACTORS_REQ, NULL, 0, WR_MSG_ACTORS_REPLY);
}

wr_msg_t *tc_job(tc_cluster_t *c, const char *id)
{
    msgpack_sbuffer sb;
    s_pack_args(&sb, id, NULL, -1);
    wr_msg_t *reply = s_ask_for(c, WR_MSG_JOB_REQ, sb.data, sb.size, WR_MSG_JOB_REPLY);
    msgpack_sbuffer_destroy(&sb);
    return reply;
}

wr_msg_t *tc_mailbox(tc_cluster_t *c, const char *addr, uint32_t peek)
{
    msgpack_sbuffer sb;
    s_pack_args(&sb, addr, NULL, peek);
    wr_msg_t *reply = tc_ask(c, WR_MSG_MAILBOX_REQ, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (!reply) fail_msg("no answer to mailbox-req from the JobManager");
    return reply;
}

/* 0 for a reply of type ok; the ERROR's code (its text into why) or WR_ETIMEDOUT otherwise. */
static int s_outcome(wr_msg_t *reply, uint16_t ok, char *why, size_t cap)
{
    if (why && cap) why[0] = '\0';
    if (!reply) return WR_ETIMEDOUT;
    if (reply->type == ok) return 0;
    wr_msg_error_t e;
    if (wr_msg_error_unpack(reply, &e)) fail_msg("a malformed answer");
    if (why && cap) snprintf(why, cap, "%.*s", (int)e.text.len, e.text.s);
    return e.code;
}

void tc_submit_payload(const char *yaml, msgpack_sbuffer *out)
{
    tc_submit_restore_payload(yaml, NULL, out);
}

void tc_submit_restore_payload(const char *yaml, const char *restore, msgpack_sbuffer *out)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    if (wr_topology_parse(yaml, strlen(yaml), "test", &t, &err))
        fail_msg("the test's topology does not parse: %s", err.buf);
    wr_strbuf_release(&err);
    msgpack_sbuffer topo;
    msgpack_sbuffer_init(&topo);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &topo, msgpack_sbuffer_write);
    assert_int_equal(wr_topology_pack(t, &pk), 0);
    wr_topology_destroy(&t);
    wr_msg_job_submit_t submit = {.topology = {(const uint8_t *)topo.data, topo.size}};
    if (restore) {
        assert_true(strlen(restore) < sizeof submit.restore);
        snprintf(submit.restore, sizeof submit.restore, "%s", restore);
    }
    assert_int_equal(wr_msg_job_submit_pack(&submit, out), 0);
    msgpack_sbuffer_destroy(&topo);
}

int tc_submit(tc_cluster_t *c, const char *yaml, char id[TC_JOB_ID_MAX], char *why, size_t cap)
{
    return tc_submit_restore(c, yaml, NULL, id, why, cap);
}

int tc_submit_restore(tc_cluster_t *c, const char *yaml, const char *restore,
                      char id[TC_JOB_ID_MAX], char *why, size_t cap)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    tc_submit_restore_payload(yaml, restore, &sb);
    wr_msg_t *reply = tc_ask(c, WR_MSG_JOB_SUBMIT, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    int rc = s_outcome(reply, WR_MSG_JOB_SUBMITTED, why, cap);
    id[0] = '\0';
    if (!rc) tc_mp_str(reply, id, TC_JOB_ID_MAX, "0");
    wr_msg_destroy(&reply);
    return rc;
}

int tc_cancel(tc_cluster_t *c, const char *id)
{
    msgpack_sbuffer sb;
    s_pack_args(&sb, id, NULL, -1);
    wr_msg_t *reply = tc_ask(c, WR_MSG_JOB_CANCEL, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    int rc = s_outcome(reply, WR_MSG_JOB_CANCELED, NULL, 0);
    wr_msg_destroy(&reply);
    return rc;
}

int tc_savepoint(tc_cluster_t *c, const char *id, const char *dir, bool stop, char *path,
                 size_t cap)
{
    wr_msg_savepoint_req_t req = {.stop = stop};
    snprintf(req.job, sizeof req.job, "%s", id);
    snprintf(req.dir, sizeof req.dir, "%s", dir);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_savepoint_req_pack(&req, &sb), 0);
    wr_msg_t *reply = tc_ask(c, WR_MSG_SAVEPOINT_REQ, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    int rc = s_outcome(reply, WR_MSG_SAVEPOINT_DONE, path, cap);
    wr_msg_savepoint_done_t done;
    if (!rc && wr_msg_savepoint_done_unpack(reply, &done)) fail_msg("a malformed savepoint-done");
    if (!rc && path && cap) {
        assert_true(done.path.len < cap);
        snprintf(path, cap, "%.*s", (int)done.path.len, done.path.s);
    }
    wr_msg_destroy(&reply);
    return rc;
}

const char *tc_job_state(tc_cluster_t *c, const char *id, char *state, size_t cap)
{
    wr_msg_t *job = tc_job(c, id);
    tc_mp_str(job, state, cap, "state");
    wr_msg_destroy(&job);
    return state;
}

typedef struct {
    tc_cluster_t *c;
    const char *id, *want;
    char state[16];
    char error[TC_JOB_ERROR_MAX];
} s_state_wait_t;

static bool s_job_settled(void *ctx)
{
    s_state_wait_t *w = ctx;
    wr_msg_t *job = tc_job(w->c, w->id);
    tc_mp_str(job, w->state, sizeof w->state, "state");
    tc_mp_str(job, w->error, sizeof w->error, "error");
    wr_msg_destroy(&job);
    bool final = !strcmp(w->state, "FINISHED") || !strcmp(w->state, "CANCELED") ||
                 !strcmp(w->state, "FAILED");
    return final || !strcmp(w->state, w->want);
}

bool tc_wait_state(tc_cluster_t *c, const char *id, const char *want, int timeout_ms)
{
    s_state_wait_t w = {.c = c, .id = id, .want = want};
    wr_test_wait_until(s_job_settled, &w, timeout_ms, S_POLL_MS);
    if (!strcmp(w.state, want)) return true;
    print_message("job %s is %s%s%s, not %s\n", id, w.state, w.error[0] ? ": " : "", w.error, want);
    return false;
}

static int s_cmp_line(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *tc_sort_lines(const char *text)
{
    char *copy = strdup(text);
    assert_non_null(copy);
    size_t n = 0;
    for (char *p = copy; *p; p++)
        n += *p == '\n';
    char **lines = calloc(n + 1, sizeof *lines);
    assert_non_null(lines);
    n = 0;
    for (char *p = copy; *p;) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    qsort(lines, n, sizeof *lines, s_cmp_line);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    for (size_t i = 0; i < n; i++) {
        wr_strbuf_adds(&sb, lines[i]);
        wr_strbuf_addc(&sb, '\n');
    }
    free(lines);
    free(copy);
    return wr_strbuf_detach(&sb, NULL);
}

char *tc_collected(tc_cluster_t *c, const char *id)
{
    wr_msg_t *job = tc_job(c, id);
    wr_mp_reader_t r;
    const char *text = "";
    uint32_t len = 0;
    if (tc_mp_at(job, &r, "collected")) wr_mp_read_str(&r, &text, &len);
    char *copy = strndup(text, len);
    wr_msg_destroy(&job);
    assert_non_null(copy);
    char *sorted = tc_sort_lines(copy);
    free(copy);
    return sorted;
}

const char *tc_node_status(tc_cluster_t *c, const char *id, char *status, size_t cap)
{
    wr_msg_t *actors = tc_actors(c);
    status[0] = '\0';
    char node[WR_NODE_MAX];
    for (uint32_t i = 0, n = tc_mp_len(actors, "."); i < n; i++)
        if (!strcmp(tc_mp_str(actors, node, sizeof node, "%u.node", i), id))
            tc_mp_str(actors, status, cap, "%u.status", i);
    wr_msg_destroy(&actors);
    return status;
}

typedef struct {
    tc_cluster_t *c;
    const char *id, *want;
} s_node_wait_t;

static bool s_node_is(void *ctx)
{
    s_node_wait_t *w = ctx;
    char status[16];
    return !strcmp(tc_node_status(w->c, w->id, status, sizeof status), w->want);
}

bool tc_wait_node_status(tc_cluster_t *c, const char *id, const char *want, int timeout_ms)
{
    s_node_wait_t w = {c, id, want};
    return wr_test_wait_until(s_node_is, &w, timeout_ms, S_POLL_MS);
}

/* ---- reading replies ---- */

/* Moves r onto the value at path (dot-separated keys and indexes; "." is the whole message). */
static bool s_find(wr_mp_reader_t *r, const char *path)
{
    if (!strcmp(path, ".")) path++;
    while (*path) {
        size_t seg = strcspn(path, ".");
        enum wr_mp_kind kind = wr_mp_peek(r);
        uint32_t n = 0;
        bool found = false;
        if (kind == WR_MP_ARRAY) {
            char *end;
            unsigned long want = strtoul(path, &end, 10);
            if (end != path + seg || wr_mp_read_array(r, &n) || want >= n) return false;
            for (unsigned long i = 0; i < want; i++)
                wr_mp_skip(r);
            found = true;
        } else if (kind == WR_MP_MAP) {
            wr_mp_read_map(r, &n);
            for (uint32_t i = 0; i < n && !found && !r->err; i++) {
                const char *key = NULL;
                uint32_t klen = 0;
                if (wr_mp_peek(r) == WR_MP_STR)
                    wr_mp_read_str(r, &key, &klen);
                else
                    wr_mp_skip(r);
                found = key && klen == seg && !memcmp(key, path, seg);
                if (!found) wr_mp_skip(r); /* its value */
            }
        }
        if (!found || r->err) return false;
        path += seg + (path[seg] == '.');
    }
    return !r->err;
}

static bool s_at(const wr_msg_t *m, wr_mp_reader_t *at, const char *fmt, va_list ap)
{
    char path[256];
    vsnprintf(path, sizeof path, fmt, ap);
    wr_mp_reader_init(at, m->data, m->len);
    return s_find(at, path);
}

bool tc_mp_at(const wr_msg_t *m, wr_mp_reader_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = s_at(m, at, fmt, ap);
    va_end(ap);
    return ok;
}

/* Positions r at the path or fails the test naming it. */
static void s_must(const wr_msg_t *m, wr_mp_reader_t *r, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    bool ok = s_at(m, r, fmt, ap);
    if (!ok) {
        char path[256];
        vsnprintf(path, sizeof path, fmt, copy);
        va_end(copy);
        fail_msg("%s has no '%s'", wr_msg_type_label(m->type), path);
    }
    va_end(copy);
}

int64_t tc_mp_int(const wr_msg_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wr_mp_reader_t r;
    s_must(m, &r, fmt, ap);
    va_end(ap);
    int64_t v = 0;
    if (wr_mp_read_int(&r, &v))
        fail_msg("%s: '%s' is not an integer", wr_msg_type_label(m->type), fmt);
    return v;
}

const char *tc_mp_str(const wr_msg_t *m, char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wr_mp_reader_t r;
    s_must(m, &r, fmt, ap);
    va_end(ap);
    if (wr_mp_read_str_copy(&r, buf, cap))
        fail_msg("%s: '%s' is not a string (of less than %zu bytes)", wr_msg_type_label(m->type),
                 fmt, cap);
    return buf;
}

uint32_t tc_mp_len(const wr_msg_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wr_mp_reader_t r;
    s_must(m, &r, fmt, ap);
    va_end(ap);
    uint32_t n = 0;
    enum wr_mp_kind kind = wr_mp_peek(&r);
    if ((kind == WR_MP_ARRAY ? wr_mp_read_array(&r, &n) : wr_mp_read_map(&r, &n)))
        fail_msg("%s: '%s' is neither an array nor a map", wr_msg_type_label(m->type), fmt);
    return n;
}
