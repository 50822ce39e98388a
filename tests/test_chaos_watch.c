/* How `weir chaos` credits a fault with the job's stop and its return (cli/chaos_watch.h,
 * wr_chaos_follow_*), from made-up answers of the JobManagers, poll by poll:
 *
 *   - a TaskManager kill: RESTARTING, then RUNNING in a later attempt: detected and recovered
 *   - a leader lost: another JobManager answers RUNNING: both at once
 *   - an etcd quorum lost: no JobManager answers for the job (the leader stepped down), then the
 *     same leader answers in a later attempt: detected from the start of the silence, and the
 *     fault stays open (the next one waits) while the silence lasts
 *   - a leader that steps down and leads again in the same attempt: no disruption
 *   - a paused or killed leader (not asked; the standby says it does not lead): no silence, the
 *     fault detected only when another JobManager answers
 *   - a fault that came while the job was down is followed from the job's next run */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli/chaos_watch.h"

/* An answer: state, attempt, leader, subtasks running of 6. */
static wr_chaos_view_t s_view(const char *state, uint32_t attempt, int leader, uint32_t running)
{
    wr_chaos_view_t v = {
        .answered = true, .attempt = attempt, .leader = leader, .subtasks = 6, .running = running};
    snprintf(v.state, sizeof v.state, "%s", state);
    return v;
}

/* No JobManager answered for the job; refused: the last leader said it does not lead it. */
static wr_chaos_view_t s_no_answer(bool refused)
{
    wr_chaos_view_t v = {.answered = false, .refused = refused, .leader = 0};
    snprintf(v.state, sizeof v.state, "?");
    return v;
}

/* The leader stepped down: it answers, but not for the job. */
static wr_chaos_view_t s_silence(void)
{
    return s_no_answer(true);
}

static void s_see(wr_chaos_follow_t *fl, wr_chaos_view_t v, int64_t now)
{
    wr_chaos_follow_see(fl, &v, now);
}

/* Follows a fault that starts at 1000 ms with the job running in attempt 1 under leader 0. */
static void s_begin(wr_chaos_follow_t *fl, wr_chaos_fault_t *f)
{
    *f = (wr_chaos_fault_t){.start_ms = 1000, .detect_ms = -1, .recover_ms = -1};
    wr_chaos_view_t v = s_view("RUNNING", 1, 0, 6);
    wr_chaos_follow_begin(fl, f, &v);
}

static void test_a_restart_is_detected_and_recovered(void **state)
{
    (void)state;
    wr_chaos_follow_t fl;
    wr_chaos_fault_t f;
    s_begin(&fl, &f);
    s_see(&fl, s_view("RUNNING", 1, 0, 6), 1100);
    assert_false(f.disrupted);
    s_see(&fl, s_view("RESTARTING", 1, 0, 0), 1500);
    assert_true(f.disrupted);
    assert_int_equal(f.detect_ms, 500);
    assert_true(wr_chaos_follow_open(&fl));
    s_see(&fl, s_view("RUNNING", 2, 0, 3), 2200); /* not every subtask yet */
    assert_int_equal(f.recover_ms, -1);
    s_see(&fl, s_view("RUNNING", 2, 0, 6), 2400);
    assert_int_equal(f.recover_ms, 1400);
    assert_false(wr_chaos_follow_open(&fl));
}

static void test_another_leader_is_a_disruption(void **state)
{
    (void)state;
    wr_chaos_follow_t fl;
    wr_chaos_fault_t f;
    s_begin(&fl, &f);
    s_see(&fl, s_view("RUNNING", 1, 1, 6), 4500);
    assert_true(f.disrupted);
    assert_int_equal(f.detect_ms, 3500);
    assert_int_equal(f.recover_ms, 3500);
}

static void test_a_silence_that_ends_anew_counts_from_its_start(void **state)
{
    (void)state;
    wr_chaos_follow_t fl;
    wr_chaos_fault_t f;
    s_begin(&fl, &f);
    s_see(&fl, s_view("RUNNING", 1, 0, 6), 1100);
    s_see(&fl, s_silence(), 3600); /* the leader stepped down */
    s_see(&fl, s_silence(), 5000);
    assert_false(f.disrupted); /* not yet known */
    assert_true(wr_chaos_follow_open(&fl));
    s_see(&fl, s_silence(), 9000);
    s_see(&fl, s_view("RESTARTING", 2, 0, 0), 11000); /* the same one leads again */
    assert_true(f.disrupted);
    assert_int_equal(f.detect_ms, 2600);
    assert_true(wr_chaos_follow_open(&fl));
    s_see(&fl, s_view("RUNNING", 2, 0, 6), 12000);
    assert_int_equal(f.recover_ms, 11000);
    assert_false(wr_chaos_follow_open(&fl));
}

static void test_a_silence_that_ends_as_before_is_no_disruption(void **state)
{
    (void)state;
    wr_chaos_follow_t fl;
    wr_chaos_fault_t f;
    s_begin(&fl, &f);
    s_see(&fl, s_silence(), 1200);
    assert_true(wr_chaos_follow_open(&fl));
    s_see(&fl, s_view("RUNNING", 1, 0, 6), 2600);
    assert_false(f.disrupted);
    assert_int_equal(f.detect_ms, -1);
    assert_false(wr_chaos_follow_open(&fl));
    /* a later stop is still this fault's, detected when it is seen */
    s_see(&fl, s_view("RESTARTING", 1, 0, 0), 3000);
    assert_int_equal(f.detect_ms, 2000);
}

static void test_a_leader_that_cannot_be_asked_is_no_silence(void **state)
{
    (void)state;
    wr_chaos_follow_t fl;
    wr_chaos_fault_t f;
    s_begin(&fl, &f);
    s_see(&fl, s_no_answer(false), 1002); /* paused: not asked; the standby: NOT_LEADER */
    s_see(&fl, s_no_answer(false), 3000);
    assert_false(wr_chaos_follow_open(&fl));
    s_see(&fl, s_view("RUNNING", 1, 1, 0), 4200); /* the standby leads: noticed now */
    assert_int_equal(f.detect_ms, 3200);
    s_see(&fl, s_view("RUNNING", 2, 1, 6), 5000);
    assert_int_equal(f.recover_ms, 4000);
}

static void test_a_fault_on_a_stopped_job_starts_at_its_next_run(void **state)
{
    (void)state;
    wr_chaos_follow_t fl;
    wr_chaos_fault_t f = {.start_ms = 1000, .detect_ms = -1, .recover_ms = -1};
    wr_chaos_view_t down = s_view("RESTARTING", 3, 0, 0);
    wr_chaos_follow_begin(&fl, &f, &down);
    s_see(&fl, s_silence(), 1500); /* a silence before it ran is not this fault's */
    assert_false(wr_chaos_follow_open(&fl));
    s_see(&fl, s_view("RUNNING", 4, 1, 6), 2000); /* the earlier fault's recovery */
    assert_false(f.disrupted);
    s_see(&fl, s_view("RESTARTING", 4, 1, 0), 2500);
    assert_true(f.disrupted);
    assert_int_equal(f.detect_ms, 1500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_restart_is_detected_and_recovered),
        cmocka_unit_test(test_another_leader_is_a_disruption),
        cmocka_unit_test(test_a_silence_that_ends_anew_counts_from_its_start),
        cmocka_unit_test(test_a_silence_that_ends_as_before_is_no_disruption),
        cmocka_unit_test(test_a_leader_that_cannot_be_asked_is_no_silence),
        cmocka_unit_test(test_a_fault_on_a_stopped_job_starts_at_its_next_run),
    };
    return cmocka_run_group_tests_name("weir chaos: following a fault", tests, NULL, NULL);
}
