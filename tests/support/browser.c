/* Headless Chromium over the DevTools protocol's pipes (browser.h). */
#include "tests/support/browser.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/json.h"
#include "tests/support/process.h"

#define S_START_MS 60000      /* Chromium's start, a cold one under a loaded machine included */
#define S_IN_MAX   (1u << 20) /* the longest message taken from it */

struct tb_browser {
    ps_proc_t *proc;
    int to, from; /* our ends: commands to its 3, answers from its 4 */
    int next_id;
    char *in; /* what came from it and is not a whole message yet: S_IN_MAX bytes, the arena's */
    size_t len;
    const char *watch; /* an event to note when it comes (NULL: none) */
    bool seen;         /* it came */
};

/* Sends one command (params: a JSON object's text, NULL for none; session: NULL for the browser)
 * and returns its id. */
static int s_send(tb_browser_t *b, const char *session, const char *method, const char *params)
{
    int id = ++b->next_id;
    const char *msg = ps_fmt("{\"id\":%d,%s%s%s\"method\":\"%s\",\"params\":%s}", id,
                             session ? "\"sessionId\":\"" : "", session ? session : "",
                             session ? "\"," : "", method, params ? params : "{}");
    size_t len = strlen(msg) + 1; /* its NUL ends it */
    for (size_t at = 0; at < len;) {
        ssize_t n = write(b->to, msg + at, len - at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) PS_FAIL("the browser is gone: cannot send %s (%s)", method, strerror(errno));
        at += (size_t)n;
    }
    return id;
}

/* The answer to command id (id 0: none, only until the watched event has come): its "result";
 * events and other answers in between are skipped, the watched event noted. Fails the test on an
 * error answer, a browser that is gone or after timeout_ms. */
static const tj_value_t *s_answer(tb_browser_t *b, int id, const char *method, int timeout_ms)
{
    int64_t deadline = ps_now_ms() + timeout_ms;
    for (;;) {
        if (!id && b->seen) return NULL;
        char *nul;
        while ((nul = memchr(b->in, '\0', b->len))) {
            size_t n = (size_t)(nul - b->in);
            const tj_value_t *msg = tj_parse(ps_fmt("%.*s", (int)n, b->in));
            memmove(b->in, nul + 1, b->len - n - 1);
            b->len -= n + 1;
            if (!msg) PS_FAIL("the browser sent what is not JSON in answer to %s", method);
            const char *event = tj_str(msg, "method");
            if (event && b->watch && !strcmp(event, b->watch)) b->seen = true;
            if (!id && b->seen) return NULL;
            if (!id || tj_num(msg, "id") != id) continue;
            const tj_value_t *err = tj_get(msg, "error");
            if (err) PS_FAIL("the browser refused %s: %s", method, tj_str(err, "message"));
            return tj_get(msg, "result");
        }
        int64_t left = deadline - ps_now_ms();
        if (left <= 0) PS_FAIL("no answer from the browser to %s within %d ms", method, timeout_ms);
        struct pollfd pfd = {.fd = b->from, .events = POLLIN};
        if (poll(&pfd, 1, (int)(left < 200 ? left : 200)) <= 0) continue;
        if (b->len == S_IN_MAX) PS_FAIL("a message from the browser over %u bytes", S_IN_MAX);
        ssize_t got = read(b->from, b->in + b->len, S_IN_MAX - b->len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) PS_FAIL("the browser is gone while answering %s", method);
        b->len += (size_t)got;
    }
}

tb_browser_t *tb_start(const char *name, char **envp)
{
    if (access(TB_CHROMIUM, X_OK)) PS_FAIL("no %s: run deploy/install-deps.sh", TB_CHROMIUM);
    tb_browser_t *b = ps_alloc(sizeof *b);
    b->in = ps_alloc(S_IN_MAX);
    int cmd[2], ans[2];
    assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
    assert_int_equal(pipe2(ans, O_CLOEXEC), 0);
    const int fds[2] = {cmd[0], ans[1]};
    b->proc = ps_start_program_fds(
        name, TB_CHROMIUM,
        PS_ARGV("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--remote-debugging-pipe", ps_fmt("--user-data-dir=%s", ps_path("browser-pipe")),
                "--enable-logging=stderr", "--v=0", "--window-size=1400,900", "about:blank"),
        envp, fds, 2);
    close(cmd[0]);
    close(ans[1]);
    b->to = cmd[1];
    b->from = ans[0];
    s_answer(b, s_send(b, NULL, "Browser.getVersion", NULL), "Browser.getVersion", S_START_MS);
    return b;
}

/* A command's sole parameter, a string: {"key":"value"}. */
static const char *s_param(const char *key, const char *value)
{
    return ps_fmt("{\"%s\":%s}", key, tj_quote(value));
}

/* A new tab on about:blank, then navigated to url once attached: its load event is seen by the
 * session that waits for it (a page opened at url could load before anyone listens). */
const char *tb_open(tb_browser_t *b, const char *url)
{
    const tj_value_t *r =
        s_answer(b, s_send(b, NULL, "Target.createTarget", s_param("url", "about:blank")),
                 "Target.createTarget", S_START_MS);
    const char *target = tj_str(r, "targetId");
    if (!target) PS_FAIL("no target for %s", url);
    r = s_answer(b,
                 s_send(b, NULL, "Target.attachToTarget",
                        ps_fmt("{\"targetId\":\"%s\",\"flatten\":true}", target)),
                 "Target.attachToTarget", S_START_MS);
    const char *session = tj_str(r, "sessionId");
    if (!session) PS_FAIL("no session for the tab of %s", url);
    s_answer(b, s_send(b, session, "Page.enable", NULL), "Page.enable", S_START_MS);
    b->watch = "Page.loadEventFired";
    b->seen = false;
    r = s_answer(b, s_send(b, session, "Page.navigate", s_param("url", url)), "Page.navigate",
                 S_START_MS);
    if (tj_str(r, "errorText")) PS_FAIL("cannot load %s: %s", url, tj_str(r, "errorText"));
    s_answer(b, 0, "Page.loadEventFired", S_START_MS);
    b->watch = NULL;
    return session;
}

const char *tb_eval(tb_browser_t *b, const char *session, const char *expr, int timeout_ms)
{
    const char *params =
        ps_fmt("{\"expression\":%s,\"awaitPromise\":true,\"returnByValue\":true,\"timeout\":%d}",
               tj_quote(expr), timeout_ms);
    const tj_value_t *r = s_answer(b, s_send(b, session, "Runtime.evaluate", params),
                                   "Runtime.evaluate", timeout_ms + 5000);
    const tj_value_t *ex = tj_get(r, "exceptionDetails");
    if (ex) {
        const char *text = tj_str(tj_get(ex, "exception"), "description");
        PS_FAIL("the page threw: %s", text ? text : tj_str(ex, "text"));
    }
    const tj_value_t *v = tj_get(tj_get(r, "result"), "value");
    if (!v) PS_FAIL("the expression gave no value");
    if (v->type == TJ_STR) return v->str;
    if (v->type == TJ_NUM) return ps_fmt("%g", v->num);
    if (v->type == TJ_BOOL) return v->num ? "true" : "false";
    return "null";
}

void tb_stop(tb_browser_t *b)
{
    if (!b || !b->proc) return;
    if (ps_running(b->proc)) {
        s_send(b, NULL, "Browser.close", NULL);
        if (!ps_wait_exit(b->proc, 10000)) ps_kill9(b->proc);
    }
    close(b->to);
    close(b->from);
    ps_release(b->proc);
    b->proc = NULL;
}
