/* actors/connectors/mqtt/mqtt_drain.h against a real broker (mosquitto): draining the session of
 * a gone subtask, without a job around it.
 *   - a session that holds messages (a shared subscription's member that went away) is read out
 *     into the queue, and the broker no longer has it afterwards
 *   - an error that trying again cannot mend (a TLS CA file that holds no certificate: libmosquitto
 *     fails loading it at every connection) ends the drain with that error instead of trying
 *     every second for ever
 * (The drain inside a job restored at a lower parallelism: test_mqtt.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/mqtt/mqtt_drain.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/strbuf.h"
#include "tests/support/mqtt.h"

#define S_WAIT_MS 15000
#define S_FILTER  "$share/g/t"
#define S_CLIENT  "weir-drained-1"

/* ---- a client of the test's own, to leave a session behind ---- */

typedef struct {
    bool connacked, subacked;
    int session_present;
} s_client_t;

static void s_on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                         const mosquitto_property *p)
{
    (void)m, (void)rc, (void)p;
    s_client_t *c = obj;
    c->connacked = true;
    c->session_present = flags & 1;
}

static void s_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *qos,
                           const mosquitto_property *p)
{
    (void)m, (void)mid, (void)n, (void)qos, (void)p;
    ((s_client_t *)obj)->subacked = true;
}

/* Loops m until *flag or the deadline. */
static bool s_loop_until(struct mosquitto *m, const bool *flag)
{
    int64_t until = wr_now_ns() + (int64_t)S_WAIT_MS * 1000000;
    while (!*flag && wr_now_ns() < until)
        if (mosquitto_loop(m, 50, 1) != MOSQ_ERR_SUCCESS) return false;
    return *flag;
}

/* Connects as S_CLIENT with clean start off and a session expiry of 300 s; with subscribe, joins
 * S_FILTER (QoS 1). Disconnects without ending the session. Returns whether the broker said it
 * still had the session. */
static int s_session(const tm_broker_t *b, bool subscribe)
{
    s_client_t c = {0};
    struct mosquitto *m = mosquitto_new(S_CLIENT, false, &c);
    assert_non_null(m);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_v5_callback_set(m, s_on_connect);
    mosquitto_subscribe_v5_callback_set(m, s_on_subscribe);
    mosquitto_property *props = NULL;
    assert_int_equal(mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 300),
                     0);
    assert_int_equal(mosquitto_connect_bind_v5(m, "127.0.0.1", b->port, 30, NULL, props), 0);
    mosquitto_property_free_all(&props);
    assert_true(s_loop_until(m, &c.connacked));
    if (subscribe) {
        assert_int_equal(mosquitto_subscribe_v5(m, NULL, S_FILTER, 1, 0, NULL), 0);
        assert_true(s_loop_until(m, &c.subacked));
    }
    mosquitto_disconnect_v5(m, 0, NULL);
    mosquitto_destroy(m);
    return c.session_present;
}

static wr_mqtt_source_config_t s_config(char *tls)
{
    return (wr_mqtt_source_config_t){
        .qos = 1, .session_expiry_ms = 300000, .tls = tls, .queue_bytes = 1 << 20};
}

/* Starts draining S_CLIENT's session on b into q; fails the test when it cannot start. */
static wr__mqtt_drain_t *s_drain(const tm_broker_t *b, const wr_mqtt_source_config_t *c,
                                 wr__mqtt_queue_t *q)
{
    static char *filters[] = {S_FILTER};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr__mqtt_drain_t *d = wr__mqtt_drain_start(&(wr__mqtt_drain_opts_t){.config = c,
                                                                        .host = "127.0.0.1",
                                                                        .port = b->port,
                                                                        .client_id = S_CLIENT,
                                                                        .filters = filters,
                                                                        .nfilters = 1,
                                                                        .q = q},
                                               &err);
    if (!d) fail_msg("the drain did not start: %s", err.buf ? err.buf : "");
    wr_strbuf_release(&err);
    return d;
}

static void test_a_held_session_is_read_out_and_ended(void **state)
{
    (void)state;
    tm_broker_t *b = tm_start("mosquitto");
    s_session(b, true);
    /* the member is away: the broker keeps what it deals to it */
    for (int i = 0; i < 5; i++)
        assert_true(tm_publish(b, "t", ps_fmt("m%d", i)));

    wr__mqtt_queue_t *q = wr__mqtt_queue_new(1 << 20);
    assert_non_null(q);
    wr_mqtt_source_config_t c = s_config(NULL);
    wr__mqtt_drain_t *d = s_drain(b, &c, q);
    uint64_t messages = 0;
    bool had = false, done = false;
    int64_t until = wr_now_ns() + (int64_t)S_WAIT_MS * 1000000;
    char why[256] = "";
    while (!(done = wr__mqtt_drain_done(d, &messages, &had)) && wr_now_ns() < until &&
           !wr__mqtt_drain_error(d, why, sizeof why))
        ps_sleep_ms(50);
    wr__mqtt_drain_stop(&d); /* (before a failure: its thread uses q and c) */
    if (why[0]) fail_msg("the drain failed: %s", why);
    assert_true(done);
    assert_true(had);
    assert_int_equal(messages, 5);

    /* every message in the queue, in the order published */
    wr_strbuf_t got;
    wr_strbuf_init(&got);
    size_t at = 0, n = 0;
    assert_true(wr__mqtt_queue_take(q, &got));
    const char *topic;
    const char *payload;
    size_t len;
    while (wr__mqtt_queue_next(&got, &at, &topic, &payload, &len)) {
        char want[8];
        snprintf(want, sizeof want, "m%zu", n++);
        assert_string_equal(topic, "t");
        assert_int_equal(len, strlen(want));
        assert_memory_equal(payload, want, len);
    }
    assert_int_equal(n, 5);
    wr_strbuf_release(&got);
    wr__mqtt_queue_destroy(&q);

    /* and the session is gone: a client under its id starts afresh */
    assert_int_equal(s_session(b, false), 0);
}

static void test_an_error_that_cannot_be_mended_ends_the_drain(void **state)
{
    (void)state;
    tm_broker_t *b = tm_start("mosquitto");
    const char *ca = ps_path("ca.pem"); /* readable, so accepted at start; no certificate in it */
    ps_write_file(ca, "not a certificate\n");
    wr__mqtt_queue_t *q = wr__mqtt_queue_new(1 << 20);
    assert_non_null(q);
    wr_mqtt_source_config_t c = s_config((char *)ps_fmt("cafile=%s", ca));
    wr__mqtt_drain_t *d = s_drain(b, &c, q);
    char why[256] = "";
    int64_t t0 = wr_now_ns(), until = t0 + (int64_t)S_WAIT_MS * 1000000;
    int rc;
    while (!(rc = wr__mqtt_drain_error(d, why, sizeof why)) && wr_now_ns() < until)
        ps_sleep_ms(50);
    print_message("  ended after %lld ms: %s\n", (long long)((wr_now_ns() - t0) / 1000000), why);
    uint64_t messages;
    bool had;
    bool done = wr__mqtt_drain_done(d, &messages, &had);
    wr__mqtt_drain_stop(&d);
    wr__mqtt_queue_destroy(&q);
    assert_int_equal(rc, WR_EIO);
    assert_non_null(strstr(why, "TLS"));
    assert_false(done);
}

int main(void)
{
    if (tm_group_setup("test_mqtt_drain")) return 1;
    mosquitto_lib_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_held_session_is_read_out_and_ended, ps_setup,
                                        ps_teardown),
        cmocka_unit_test_setup_teardown(test_an_error_that_cannot_be_mended_ends_the_drain,
                                        ps_setup, ps_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, ps_group_teardown);
    mosquitto_lib_cleanup();
    return rc;
}
