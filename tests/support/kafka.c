#include "tests/support/kafka.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/base/strbuf.h"
#include "tests/support/json.h"

static int s_kcat_runs; /* names each run's files; the test binary's only */

int tk_group_setup(const char *name)
{
    if (access(TK_KCAT_BIN, X_OK)) {
        fprintf(stderr, "%s: %s is missing: run deploy/install-deps.sh (Debian's kcat)\n", name,
                TK_KCAT_BIN);
        return -1;
    }
    return ps_group_setup(name, false);
}

/* ---- the mock cluster ---- */

/* Line i (0-based) of p's stdout, without its newline, or NULL while it has fewer whole lines. */
static const char *s_out_line(const ps_proc_t *p, size_t i)
{
    char *text = ps_read_file(p->out), *line = text;
    for (; i > 0 && line; i--) {
        line = strchr(line, '\n');
        if (line) line++;
    }
    char *nl = line ? strchr(line, '\n') : NULL;
    if (!nl) return NULL;
    *nl = '\0';
    return line;
}

tk_mock_t *tk_mock_start(const char *name, const char *const args[])
{
    const char *argv[PS_MAX_ARGS + 1] = {"kafka-mock", NULL};
    size_t n = 1;
    if (args) n = ps_append(argv, n, args);
    tk_mock_t *m = ps_alloc(sizeof *m);
    m->proc = ps_start_piped(name, argv, ps_h.daemon_env);
    if (ps_wait_text(m->proc, m->proc->out, "\n", 1, TK_START_MS) < 0)
        PS_FAIL("weir kafka-mock printed no bootstrap address within %d ms", TK_START_MS);
    m->bootstrap = s_out_line(m->proc, 0);
    if (strncmp(m->bootstrap, "127.0.0.1:", 10))
        PS_FAIL("weir kafka-mock's first line is no address on 127.0.0.1: '%s'", m->bootstrap);
    return m;
}

const char *tk_mock_send(tk_mock_t *m, const char *line)
{
    if (!ps_send(m->proc, ps_fmt("%s\n", line)))
        PS_FAIL("cannot send '%s' to weir kafka-mock (has it exited?)", line);
    m->answered++;
    /* the bootstrap line, then one answer per control line */
    if (ps_wait_text(m->proc, m->proc->out, "\n", m->answered + 1, TK_ANSWER_MS) < 0)
        PS_FAIL("weir kafka-mock did not answer '%s' within %d ms", line, TK_ANSWER_MS);
    return s_out_line(m->proc, m->answered);
}

void tk_control(tk_mock_t *m, const char *line)
{
    const char *answer = tk_mock_send(m, line);
    if (strcmp(answer, "ok")) PS_FAIL("weir kafka-mock answered '%s' to '%s'", answer, line);
}

/* True when a TCP connection to 127.0.0.1:port is refused. */
static bool s_refused(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool refused = connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno == ECONNREFUSED;
    close(fd);
    return refused;
}

bool tk_mock_serving(const tk_mock_t *m)
{
    for (const char *at = m->bootstrap; (at = strchr(at, ':')); at++)
        if (s_refused(atoi(at + 1))) return false;
    return true;
}

int64_t tk_mock_stop(tk_mock_t *m)
{
    int64_t t0 = ps_now_ms();
    kill(m->proc->pid, SIGTERM);
    for (const char *at = m->bootstrap; (at = strchr(at, ':')); at++)
        while (!s_refused(atoi(at + 1))) {
            if (ps_now_ms() - t0 > TK_GONE_MS)
                PS_FAIL("weir kafka-mock's broker at port %d still accepts connections %d ms "
                        "after SIGTERM",
                        atoi(at + 1), TK_GONE_MS);
            ps_sleep_ms(5);
        }
    int64_t gone = ps_now_ms() - t0;
    if (!ps_wait_exit(m->proc, TK_STOP_MS))
        PS_FAIL("weir kafka-mock still runs %d ms after SIGTERM", TK_STOP_MS);
    if (ps_exit_code(m->proc) != 0 || ps_sanitizer_report(ps_read_file(m->proc->err)))
        PS_FAIL("weir kafka-mock exited %d after SIGTERM", ps_exit_code(m->proc));
    return gone;
}

/* ---- kcat ---- */

ps_result_t tk_kcat(const char *const args[], int timeout_ms)
{
    const char *argv[PS_MAX_ARGS + 1] = {"-F", "/dev/null", NULL};
    ps_append(argv, 2, args);
    return ps_run_program(ps_fmt("kcat-%d", ++s_kcat_runs), TK_KCAT_BIN, argv, timeout_ms);
}

void tk_produce(const char *bootstrap, const char *topic, int partition, const char *const lines[],
                size_t n, const char *const headers[])
{
    for (size_t i = 0; i < n; i++)
        assert_null(strchr(lines[i], '\n'));
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    for (size_t i = 0; i < n; i++)
        wr_strbuf_addf(&text, "%s\n", lines[i]);
    const char *path = ps_path(ps_fmt("produce-%d.txt", s_kcat_runs + 1));
    ps_write_file(path, ps_keep(wr_strbuf_detach(&text, NULL)));
    const char *argv[PS_MAX_ARGS + 1];
    size_t k = ps_append(
        argv, 0,
        PS_ARGV("-P", "-b", bootstrap, "-t", topic, "-p", ps_fmt("%d", partition), "-l", path));
    for (size_t i = 0; headers && headers[i]; i++)
        k = ps_append(argv, k, PS_ARGV("-H", headers[i]));
    ps_result_t r = tk_kcat(argv, TK_KCAT_MS);
    if (r.code != 0)
        PS_FAIL("kcat -P of %zu lines to %s [%d] exited %d:\n%s", n, topic, partition, r.code,
                r.err);
}

/* One line of kcat -J into *m; false when it is not such a message. */
static bool s_msg(const char *line, tk_msg_t *m)
{
    const tj_value_t *v = tj_parse(line), *h;
    if (!v || v->type != TJ_OBJ) return false;
    m->partition = (int)tj_num(v, "partition");
    m->offset = (int64_t)tj_num(v, "offset");
    if (!tj_get(v, "partition") || !tj_get(v, "offset")) return false;
    m->key = tj_str(v, "key");
    m->payload = tj_str(v, "payload");
    wr_strbuf_t hs;
    wr_strbuf_init(&hs);
    if ((h = tj_get(v, "headers")) && h->type == TJ_ARR) /* ["name", "value", ...] */
        for (size_t i = 0; i + 1 < h->n; i += 2)
            wr_strbuf_addf(&hs, "%s%s=%s", i ? "," : "", h->items[i]->str ? h->items[i]->str : "",
                           h->items[i + 1]->str ? h->items[i + 1]->str : "");
    m->headers = hs.len ? ps_keep(wr_strbuf_detach(&hs, NULL)) : "";
    wr_strbuf_release(&hs);
    return true;
}

int tk_consume_try(const char *bootstrap, const char *topic, const char *const extra[],
                   int metadata_s, tk_msgs_t *out)
{
    const char *argv[PS_MAX_ARGS + 1];
    size_t k = ps_append(argv, 0,
                         PS_ARGV("-C", "-b", bootstrap, "-t", topic, "-e", "-J", "-q", "-m",
                                 ps_fmt("%d", metadata_s), "-X", "fetch.wait.max.ms=20"));
    if (extra) ps_append(argv, k, extra);
    ps_result_t r = tk_kcat(argv, TK_KCAT_MS);
    size_t lines = ps_count(r.out, "\n"), n = 0;
    tk_msg_t *v = ps_alloc((lines + 1) * sizeof *v);
    char *text = (char *)r.out;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) break; /* a torn last line: not a message */
        *nl = '\0';
        if (s_msg(line, &v[n])) n++;
    }
    *out = (tk_msgs_t){v, n, lines};
    return r.code;
}

tk_msgs_t tk_consume(const char *bootstrap, const char *topic, const char *const extra[])
{
    tk_msgs_t m;
    int code = tk_consume_try(bootstrap, topic, extra, 5, &m);
    if (code != 0) PS_FAIL("kcat -C of %s exited %d", topic, code);
    if (m.lines != m.n)
        PS_FAIL("kcat -C of %s printed %zu lines that are no messages", topic, m.lines - m.n);
    return m;
}

const tk_msg_t **tk_partition(const tk_msgs_t *m, int partition, size_t *n)
{
    const tk_msg_t **v = ps_alloc((m->n + 1) * sizeof *v);
    *n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].partition == partition) v[(*n)++] = &m->v[i];
    return v;
}
