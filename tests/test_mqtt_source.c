/* actors/connectors/mqtt: the MQTT source's enumerator. MQTT cannot replay, so a split is one
 * subtask's subscription with no position: one per subtask on a fresh start; on a restore, at any
 * parallelism, one per new subtask again, each keeping the event time its number had (so the
 * watermark resumes), plus one per gone subtask (a lower parallelism) whose session a remaining
 * subtask drains, and a checkpoint's split that is not an MQTT source's refused. (The source
 * against a real broker: test_mqtt.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "actors/connectors/mqtt/mqtt.h"
#include "bus/base/error.h"

static int s_enumerate_with(bool clean_start, uint32_t p, bool restored, wr_splits_t *s,
                            wr_strbuf_t *err)
{
    wr_mqtt_source_config_t c = {.clean_start = clean_start};
    return wr_mqtt_source_class.enumerate(&c, p, restored, s, err);
}

static int s_enumerate(uint32_t p, bool restored, wr_splits_t *s, wr_strbuf_t *err)
{
    return s_enumerate_with(false, p, restored, s, err);
}

static void test_one_split_per_subtask(void **state)
{
    (void)state;
    wr_splits_t s = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(s_enumerate(3, false, &s, &err), 0);
    assert_int_equal(s.n, 3);
    for (uint32_t k = 0; k < 3; k++) {
        char id[4] = {(char)('0' + k), 0};
        assert_string_equal(s.v[k].id, id);
        assert_int_equal(s.v[k].subtask, k);
        assert_int_equal(s.v[k].pos_len, 0);
        assert_true(s.v[k].event_time == INT64_MIN);
    }
    wr_splits_release(&s);
    wr_strbuf_release(&err);
}

static void test_a_restore_keeps_event_times_at_any_parallelism(void **state)
{
    (void)state;
    wr_splits_t s = {0};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_splits_add(&s, "0", NULL, 0, 1000), 0);
    assert_int_equal(wr_splits_add(&s, "1", NULL, 0, 2000), 0);
    assert_int_equal(wr_splits_add(&s, "2", NULL, 0, 3000), 0);
    wr_splits_t clean = {0};
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(wr_splits_add(&clean, s.v[i].id, NULL, 0, s.v[i].event_time), 0);
    /* three old subtasks, two new ones: subtask 2 is gone, and subtask 0 (2 mod 2) drains its
     * session (mqtt_drain.h) */
    assert_int_equal(s_enumerate(2, true, &s, &err), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.v[0].id, "0");
    assert_true(s.v[0].event_time == 1000);
    assert_string_equal(s.v[1].id, "1");
    assert_true(s.v[1].event_time == 2000);
    assert_int_equal(s.v[1].subtask, 1);
    assert_string_equal(s.v[2].id, "2");
    assert_int_equal(s.v[2].subtask, 0);
    /* with clean_start there is no session to drain */
    assert_int_equal(s_enumerate_with(true, 2, true, &clean, &err), 0);
    assert_int_equal(clean.n, 2);
    wr_splits_release(&clean);
    /* a drain not done yet is drained again, by whichever subtask its number now falls to */
    assert_int_equal(s_enumerate(1, true, &s, &err), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.v[1].id, "1");
    assert_int_equal(s.v[1].subtask, 0);
    assert_string_equal(s.v[2].id, "2");
    assert_int_equal(s.v[2].subtask, 0);
    /* and up to four: the new ones start without an event time, nothing is drained */
    wr_splits_clear(&s);
    assert_int_equal(wr_splits_add(&s, "0", NULL, 0, 1000), 0);
    assert_int_equal(wr_splits_add(&s, "1", NULL, 0, 2000), 0);
    assert_int_equal(s_enumerate(4, true, &s, &err), 0);
    assert_int_equal(s.n, 4);
    assert_true(s.v[1].event_time == 2000);
    assert_true(s.v[3].event_time == INT64_MIN);
    assert_int_equal(s.v[3].subtask, 3);
    wr_splits_release(&s);
    wr_strbuf_release(&err);
}

static void test_a_foreign_checkpoint_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        size_t pos_len;
    } bad[] = {{"readings/3", 0}, {"0", 2}, {"-1", 0}, {"1x", 0}, {"+1", 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wr_splits_t s = {0};
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        assert_int_equal(wr_splits_add(&s, bad[i].id, "\x91\x00", bad[i].pos_len, 0), 0);
        assert_int_equal(s_enumerate(2, true, &s, &err), WR_EPROTO);
        assert_non_null(strstr(err.buf, "not an MQTT source's"));
        assert_int_equal(s.n, 1); /* left as it was */
        wr_splits_release(&s);
        wr_strbuf_release(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_split_per_subtask),
        cmocka_unit_test(test_a_restore_keeps_event_times_at_any_parallelism),
        cmocka_unit_test(test_a_foreign_checkpoint_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
