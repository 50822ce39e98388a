/* `weir kafka-mock`, the Kafka of the tests, driven as the tests will drive it
 * (tests/support/kafka.h): a child process whose first line is its bootstrap address, with
 * Debian's kcat as the client.
 *
 *   - it prints a bootstrap address of three brokers on 127.0.0.1; kcat produces lines with a
 *     header into 4 partitions and consumes exactly those back, per partition in order
 *   - a consumer group's offsets: what one consumer of group g committed, the next one of g
 *     starts from (it gets only what came since); another group starts from the beginning; a
 *     balanced consumer (kcat -G) joins a group and gets every message
 *   - control lines: with every broker down a consume fails and gets nothing; after up it gets
 *     the data; bad control lines are answered with an error and change nothing
 *   - the end of its stdin does not stop it; SIGTERM does: within a second its brokers refuse
 *     connections, then it exits 0 (librdkafka 2.0.2 often takes 1 s to destroy its mock
 *     cluster, kafka_mock.h), and the process is gone
 *   - --port P: clients bootstrap through 127.0.0.1:P
 *   - bad options are refused (exit 2), saying why
 * WEIR_TEST_FILTER=PATTERN runs only the matching tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/kafka.h"
#include "tests/support/process.h"

#define S_PARTITIONS 4

/* Lines "<tag>-<partition>-<i>" for i in [from, to), kept until the test ends. */
static const char *const *s_lines(const char *tag, int partition, size_t from, size_t to)
{
    const char **v = ps_alloc((to - from + 1) * sizeof *v);
    for (size_t i = from; i < to; i++)
        v[i - from] = ps_fmt("%s-%d-%zu", tag, partition, i);
    return v;
}

/* Fails unless partition p of got holds exactly the lines tag-p-from .. tag-p-(to-1), at offsets
 * from .. to-1, in that order, each with the headers given ("" for none). */
static void s_expect_partition(const tk_msgs_t *got, const char *tag, int p, size_t from, size_t to,
                               const char *headers)
{
    size_t n;
    const tk_msg_t **m = tk_partition(got, p, &n);
    if (n != to - from) PS_FAIL("partition %d: %zu messages, expected %zu", p, n, to - from);
    for (size_t i = 0; i < n; i++) {
        const char *want = ps_fmt("%s-%d-%zu", tag, p, from + i);
        if (!m[i]->payload || strcmp(m[i]->payload, want) || m[i]->offset != (int64_t)(from + i))
            PS_FAIL("partition %d, message %zu: '%s' at offset %lld, expected '%s' at %zu", p, i,
                    m[i]->payload ? m[i]->payload : "(null)", (long long)m[i]->offset, want,
                    from + i);
        if (m[i]->key || strcmp(m[i]->headers, headers))
            PS_FAIL("partition %d, offset %lld: key %s, headers '%s' (expected none, '%s')", p,
                    (long long)m[i]->offset, m[i]->key ? m[i]->key : "none", m[i]->headers,
                    headers);
    }
}

static void test_produce_and_consume_four_partitions(void **state)
{
    (void)state;
    tk_mock_t *k = tk_mock_start(
        "kafka", PS_ARGV("--topic", "readings", "--partitions", ps_fmt("%d", S_PARTITIONS)));
    /* three brokers (the default), each HOST:PORT on loopback */
    assert_int_equal(ps_count(k->bootstrap, "127.0.0.1:"), 3);
    assert_int_equal(ps_count(k->bootstrap, ","), 2);
    static const size_t count[S_PARTITIONS] = {50, 1, 120, 29}; /* 200 lines */
    for (int p = 0; p < S_PARTITIONS; p++)
        tk_produce(k->bootstrap, "readings", p, s_lines("r", p, 0, count[p]), count[p],
                   PS_ARGV("source=test", "batch=1"));
    tk_msgs_t got = tk_consume(k->bootstrap, "readings", NULL);
    assert_int_equal(got.n, 200);
    for (int p = 0; p < S_PARTITIONS; p++)
        s_expect_partition(&got, "r", p, 0, count[p], "source=test,batch=1");
    tk_mock_stop(k);
}

/* --port P: the bootstrap address printed is 127.0.0.1:P, and clients bootstrapped there reach
 * the brokers (the forwarder leads to broker 1, the metadata to the rest). */
static void test_port(void **state)
{
    (void)state;
    int port = ps_free_port();
    tk_mock_t *k =
        tk_mock_start("kafka", PS_ARGV("--topic", "readings", "--port", ps_fmt("%d", port)));
    assert_string_equal(k->bootstrap, ps_fmt("127.0.0.1:%d", port));
    tk_produce(k->bootstrap, "readings", 2, s_lines("p", 2, 0, 30), 30, NULL);
    tk_msgs_t got = tk_consume(k->bootstrap, "readings", NULL);
    assert_int_equal(got.n, 30);
    s_expect_partition(&got, "p", 2, 0, 30, "");
    tk_mock_stop(k);
}

static void test_group_offsets(void **state)
{
    (void)state;
    tk_mock_t *k = tk_mock_start("kafka", PS_ARGV("--topic", "t", "--brokers", "2"));
    const char *const *group_g =
        PS_ARGV("-X", "group.id=g", "-X", "auto.offset.reset=earliest", "-o", "stored");
    /* every partition gets messages each round: kcat -e commits offset 1 for a partition it found
     * empty (its end-of-partition offset 0, plus one), which would skip a message later */
    for (int p = 0; p < S_PARTITIONS; p++)
        tk_produce(k->bootstrap, "t", p, s_lines("a", p, 0, 5), 5, NULL);
    tk_msgs_t first = tk_consume(k->bootstrap, "t", group_g);
    assert_int_equal(first.n, 20);
    for (int p = 0; p < S_PARTITIONS; p++)
        tk_produce(k->bootstrap, "t", p, s_lines("a", p, 5, 8), 3, NULL);
    /* the group's committed offsets (OffsetCommit, then OffsetFetch): only what came since */
    tk_msgs_t second = tk_consume(k->bootstrap, "t", group_g);
    assert_int_equal(second.n, 12);
    for (int p = 0; p < S_PARTITIONS; p++)
        s_expect_partition(&second, "a", p, 5, 8, "");
    /* another group has committed nothing: everything */
    tk_msgs_t other =
        tk_consume(k->bootstrap, "t",
                   PS_ARGV("-X", "group.id=h", "-X", "auto.offset.reset=earliest", "-o", "stored"));
    assert_int_equal(other.n, 32);
    /* a balanced consumer joins group j (the mock waits 3 s for more members) and is assigned
     * every partition */
    ps_result_t r =
        tk_kcat(PS_ARGV("-b", k->bootstrap, "-G", "j", "-X", "auto.offset.reset=earliest", "-X",
                        "fetch.wait.max.ms=20", "-e", "-q", "-J", "t"),
                TK_KCAT_MS);
    if (r.code != 0) PS_FAIL("kcat -G exited %d:\n%s", r.code, r.err);
    assert_int_equal(ps_count(r.out, "\"payload\":\"a-"), 32);
    tk_mock_stop(k);
}

static void test_brokers_down_and_up(void **state)
{
    (void)state;
    tk_mock_t *k = tk_mock_start("kafka", PS_ARGV("--topic", "t"));
    tk_produce(k->bootstrap, "t", 1, s_lines("d", 1, 0, 10), 10, NULL);
    tk_control(k, "down all");
    tk_msgs_t none;
    int code = tk_consume_try(k->bootstrap, "t", NULL, 1, &none);
    if (code == 0 || none.n != 0)
        PS_FAIL("a consume with every broker down exited %d with %zu messages", code, none.n);
    tk_control(k, "up all");
    tk_msgs_t got = tk_consume(k->bootstrap, "t", NULL);
    s_expect_partition(&got, "d", 1, 0, 10, "");
    assert_int_equal(got.n, 10);
    /* one broker at a time, and back */
    tk_control(k, "down 2");
    tk_control(k, "down 2"); /* twice: harmless */
    tk_control(k, "up 2");
    /* bad lines are answered, and change nothing */
    static const char *const bad[][2] = {
        {"down 4", "error: no broker 4: the brokers are 1 to 3"},
        {"down", "error: usage: down B (a broker, 1 to 3, or all)"},
        {"up x", "error: usage: up B (a broker, 1 to 3, or all)"},
        {"topic t 2", "error: topic t exists already"},
        {"topic u 0", "error: usage: topic T N (N partitions, 1 to 1024)"},
        {"topic b/ad 1", "error: 'b/ad' is no topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_', "
                         "'-')"},
        {"stop", "error: unknown command 'stop' (down B, up B, topic T N)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *answer = tk_mock_send(k, bad[i][0]);
        if (strcmp(answer, bad[i][1]))
            PS_FAIL("'%s' was answered '%s', expected '%s'", bad[i][0], answer, bad[i][1]);
    }
    /* a topic made by a control line has its partitions */
    tk_control(k, "topic made 2");
    tk_produce(k->bootstrap, "made", 1, s_lines("m", 1, 0, 3), 3, NULL);
    ps_result_t r = tk_kcat(PS_ARGV("-L", "-b", k->bootstrap, "-t", "made"), TK_KCAT_MS);
    if (r.code != 0 || !strstr(r.out, "topic \"made\" with 2 partitions"))
        PS_FAIL("kcat -L exited %d:\n%s%s", r.code, r.out, r.err);
    got = tk_consume(k->bootstrap, "t", NULL);
    assert_int_equal(got.n, 10);
    tk_mock_stop(k);
}

static void test_stdin_end_then_sigterm(void **state)
{
    (void)state;
    tk_mock_t *k = tk_mock_start("kafka", NULL);
    pid_t pid = k->proc->pid;
    close(k->proc->in); /* the end of its stdin: it runs on */
    k->proc->in = -1;
    ps_sleep_ms(300);
    if (!ps_running(k->proc) || !tk_mock_serving(k))
        PS_FAIL("weir kafka-mock stopped at the end of its stdin");
    tk_produce(k->bootstrap, "auto", 0, s_lines("s", 0, 0, 2), 2, NULL);
    int64_t t0 = ps_now_ms();
    int64_t gone = tk_mock_stop(k); /* brokers refuse within TK_GONE_MS, exit 0 */
    print_message("  SIGTERM: brokers gone after %lld ms, the process after %lld ms\n",
                  (long long)gone, (long long)(ps_now_ms() - t0));
    /* reaped, and gone: no process of that pid is left */
    if (kill(pid, 0) == 0 || errno != ESRCH) PS_FAIL("process %d is still there", (int)pid);
}

static void test_bad_options(void **state)
{
    (void)state;
    const struct {
        const char *const *args;
        const char *says;
    } cases[] = {
        {PS_ARGV("kafka-mock", "--port", "0"), "--port: '0' is not 1 to 65535"},
        {PS_ARGV("kafka-mock", "--brokers", "0"), "--brokers: '0' is not 1 to 16"},
        {PS_ARGV("kafka-mock", "--partitions", "x"), "--partitions: 'x' is not 1 to 1024"},
        {PS_ARGV("kafka-mock", "--topic", "a", "--topic", "a"), "topic a exists already"},
        {PS_ARGV("kafka-mock", "--topic", "a b"), "'a b' is no topic name"},
        {PS_ARGV("kafka-mock", "extra"), "unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_result_t r = ps_run("bad", cases[i].args, 10000);
        if (r.code != 2 || !strstr(r.err, "weir kafka-mock: ") || !strstr(r.err, cases[i].says) ||
            *r.out)
            PS_FAIL("case %zu exited %d:\n%s%s", i, r.code, r.out, r.err);
    }
    ps_result_t r = ps_run("help", PS_ARGV("kafka-mock", "--help"), 10000);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: weir kafka-mock"));
}

static int s_group_setup(void **state)
{
    (void)state;
    return tk_group_setup("test_kafka_mock");
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, ps_setup, ps_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_produce_and_consume_four_partitions),
        S_TEST(test_port),
        S_TEST(test_group_offsets),
        S_TEST(test_brokers_down_and_up),
        S_TEST(test_stdin_end_then_sigterm),
        S_TEST(test_bad_options),
    };
#undef S_TEST
    if (getenv("WEIR_TEST_FILTER")) cmocka_set_test_filter(getenv("WEIR_TEST_FILTER"));
    return cmocka_run_group_tests_name("weir kafka-mock", tests, s_group_setup, ps_group_teardown);
}
