/* The REST API (actors/rest/rest.h) on the JobManager node of an in-process cluster (cluster.h),
 * for what the process tests (test_rest.c) cannot see: its threads under ThreadSanitizer.
 *
 *   - four clients at once, each on its own connection thread of the server, read (/overview,
 *     /jobs, /actors, a mailbox) and act (cancel a job that does not exist: the token is checked,
 *     then the JobManager answers 404), while a fifth thread takes the admin's token off the list
 *     and puts it back: every answer is one of those the request can have (200; 404 with the
 *     token listed, 401 without), and both acting answers occur
 *   - a job submitted through POST /jobs runs to its end on the cluster
 *
 * HTTP through libcurl, to 127.0.0.1 on a port the kernel picks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/rest/rest.h"
#include "bus/base/fs.h"
#include "bus/base/strbuf.h"
#include "tests/support/cluster.h"

#define S_ROUNDS  20
#define S_CLIENTS 4
#define S_TOKEN   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define S_LINE    "ops admin " S_TOKEN "\n"

static size_t s_collect(char *p, size_t size, size_t n, void *sb)
{
    wr_strbuf_add(sb, p, size * n);
    return size * n;
}

/* method path on 127.0.0.1:port with the admin's token (and body, if not NULL): the status, the
 * answer into out (if not NULL); 0 when there was no answer. */
static long s_http(int port, const char *method, const char *path, const char *body,
                   wr_strbuf_t *out)
{
    CURL *h = curl_easy_init();
    if (!h) return 0;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Authorization: Bearer " S_TOKEN);
    wr_strbuf_t sink;
    wr_strbuf_init(&sink);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out ? out : &sink);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    wr_strbuf_release(&sink);
    return status;
}

typedef struct {
    int port;
    atomic_bool stop;
    atomic_int unexpected, acted, refused; /* acting answers: 404 (allowed), 401 */
    char keys[256], list[300];
} s_ctx_t;

static void *s_client(void *arg)
{
    s_ctx_t *x = arg;
    static const char *const reads[] = {"/overview", "/jobs", "/actors",
                                        "/actors/jm-1/jobmanager/mailbox?peek=2"};
    for (int i = 0; i < S_ROUNDS; i++) {
        long got = s_http(x->port, "GET", reads[i % 4], NULL, NULL);
        if (got != 200) atomic_fetch_add(&x->unexpected, 1);
        got = s_http(x->port, "PATCH", "/jobs/nosuchjob?mode=cancel", NULL, NULL);
        if (got == 404)
            atomic_fetch_add(&x->acted, 1);
        else if (got == 401)
            atomic_fetch_add(&x->refused, 1);
        else
            atomic_fetch_add(&x->unexpected, 1);
    }
    return NULL;
}

/* Takes the admin's line off the list and puts it back, over and over (each file whole: written
 * aside, renamed over). */
static void *s_revoker(void *arg)
{
    s_ctx_t *x = arg;
    for (unsigned i = 0; !atomic_load(&x->stop); i++) {
        const char *text = i % 2 ? S_LINE : "# none\n";
        assert_int_equal(wr_fs_write_atomic(x->keys, "rest-tokens", text, strlen(text)), 0);
        usleep(3000);
    }
    return NULL;
}

static void test_threads_read_and_act_while_the_tokens_change(void **state)
{
    tc_cluster_t *c = *state;
    s_ctx_t x = {0};
    snprintf(x.keys, sizeof x.keys, "/tmp/weir-test-rest-inproc-%ld", (long)getpid());
    assert_int_equal(wr_fs_mkdirs(x.keys), 0);
    assert_int_equal(wr_fs_write_atomic(x.keys, "rest-tokens", S_LINE, strlen(S_LINE)), 0);
    int err = 0;
    wr_rest_opts_t o = {.address = "127.0.0.1",
                        .port = 0,
                        .jm_addr = "jm-1/jobmanager",
                        .timeout_ms = 20000,
                        .version = "test",
                        .keys_dir = x.keys};
    wr_rest_t *r = wr_rest_start(tc_jm_node(c), &o, &err, NULL, 0);
    assert_non_null(r);
    x.port = wr_rest_port(r);

    pthread_t clients[S_CLIENTS], revoker;
    for (int i = 0; i < S_CLIENTS; i++)
        assert_int_equal(pthread_create(&clients[i], NULL, s_client, &x), 0);
    assert_int_equal(pthread_create(&revoker, NULL, s_revoker, &x), 0);
    for (int i = 0; i < S_CLIENTS; i++)
        pthread_join(clients[i], NULL);
    atomic_store(&x.stop, true);
    pthread_join(revoker, NULL);
    print_message("  %d acting requests let through, %d refused while the token was off the list\n",
                  atomic_load(&x.acted), atomic_load(&x.refused));
    assert_int_equal(atomic_load(&x.unexpected), 0);
    assert_int_equal(atomic_load(&x.acted) + atomic_load(&x.refused), S_CLIENTS * S_ROUNDS);

    /* a job through the API, to its end */
    assert_int_equal(wr_fs_write_atomic(x.keys, "rest-tokens", S_LINE, strlen(S_LINE)), 0);
    wr_strbuf_t answer;
    wr_strbuf_init(&answer);
    long status = s_http(x.port, "POST", "/jobs",
                         "name: rest-inproc\nsources:\n  - {type: generator, devices: 10, total: "
                         "2000, seed: 3}\nsinks: [{type: collect}]\n",
                         &answer);
    if (status != 200) fail_msg("POST /jobs: %ld %s", status, answer.buf);
    const char *at = strstr(answer.buf, "\"jobid\":\"");
    assert_non_null(at);
    char id[TC_JOB_ID_MAX] = "";
    size_t len = strcspn(at + 9, "\"");
    assert_true(len > 0 && len < sizeof id);
    memcpy(id, at + 9, len);
    assert_true(tc_wait_state(c, id, "FINISHED", TC_WAIT_MS));
    char *lines = tc_collected(c, id);
    size_t n = 0;
    for (const char *p = lines; (p = strchr(p, '\n')); p++)
        n++;
    assert_int_equal(n, 2000); /* every reading once */
    free(lines);
    wr_strbuf_release(&answer);

    wr_rest_stop(&r);
    assert_null(r);
    assert_int_equal(wr_fs_rmtree(x.keys), 0);
}

static int s_setup(void **state)
{
    tc_cluster_t *c = NULL;
    tc_start(&c, &(tc_opts_t){.taskmanagers = 1, .slots = 2});
    *state = c;
    return 0;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_threads_read_and_act_while_the_tokens_change, s_setup,
                                        tc_teardown),
    };
    int rc = cmocka_run_group_tests_name("weir REST API in one process", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
