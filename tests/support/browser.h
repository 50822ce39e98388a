/* A real browser a test drives: Debian's headless Chromium, spoken to over the DevTools protocol
 * on the two pipes of --remote-debugging-pipe (Chromium reads commands on its descriptor 3 and
 * writes answers and events on 4, each a JSON object ended by a NUL byte), as Puppeteer does with
 * `pipe: true`. No WebSocket, no port: nothing another process could reach.
 *
 *     tb_browser_t *b = tb_start("browser", env);       // tracked by the process harness
 *     const char *tab = tb_open(b, "http://127.0.0.1:8081/#/jobs/ID");
 *     const char *text = tb_eval(b, tab, "(async () => { ... return 'done'; })()", 30000);
 *     tb_stop(b);                                        // also done by ps_teardown's kill
 *
 * tb_eval awaits the expression's promise and returns its value as a string; an exception thrown
 * in the page, a timeout or a browser that is gone fail the test with what happened. Everything
 * returned lives in the harness's arena (process.h). tb_ is for "test browser". */
#ifndef WR_TEST_BROWSER_H
#define WR_TEST_BROWSER_H

#define TB_CHROMIUM "/usr/bin/chromium"

typedef struct tb_browser tb_browser_t;

/* Starts headless Chromium (its profile in the test's folder, NAME.err its log) with envp as its
 * environment (NULL: this process's); fails the test when it does not answer. */
tb_browser_t *tb_start(const char *name, char **envp);
/* Opens url in a new tab and returns the tab's session, for tb_eval. */
const char *tb_open(tb_browser_t *b, const char *url);
/* Evaluates expr in the tab's page, awaiting it when it is a promise, within timeout_ms; returns
 * the value as a string (a string as it is, anything else as JSON). */
const char *tb_eval(tb_browser_t *b, const char *session, const char *expr, int timeout_ms);
/* Closes the browser and waits for it (killed after 10 s); NULL-safe. */
void tb_stop(tb_browser_t *b);

#endif
