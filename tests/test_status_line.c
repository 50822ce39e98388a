/* The live status line's text (cli/status_line.h): what a user reads while `weir local` or
 * `weir submit --wait` follows a job. Rates over the last two seconds (never 0/s between two
 * counter reports), thousands separators, the watermark as UTC time with its lag behind wall
 * clock, durations as a user reads them, and the line cut to the terminal's width. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli/status_line.h"

#define S_WM 1700000000000LL /* 2023-11-14T22:13:20Z */

static void s_add(wr_status_t *s, int64_t at_ms, uint64_t in, uint64_t out)
{
    wr_status_sample_t x = {.at_ms = at_ms, .in = in, .out = out, .watermark = S_WM};
    snprintf(x.state, sizeof x.state, "RUNNING");
    wr_status_add(s, &x);
}

/* A job running 12 s: the whole line, as a user sees it. */
static void test_the_line_of_a_running_job(void **state)
{
    (void)state;
    wr_status_t s = {0};
    s_add(&s, 1000, 0, 0);
    s_add(&s, 13000, 29437952, 1200);
    s.v[1].fired = 1200;
    s.v[1].late = 3;
    s.v[1].backpressure = 12345;
    char line[512];
    size_t n = wr_status_format(&s, S_WM + 2100, 0, line, sizeof line);
    assert_string_equal(line, "RUNNING 12 s  in 29,437,952 (2,453,163/s)  out 1,200 (100/s)  "
                              "windows 1,200  late 3  watermark 2023-11-14T22:13:20Z (lag 2.1 s)  "
                              "backpressure 12,345");
    assert_int_equal(n, strlen(line));
}

static void test_counts_have_thousands_separators(void **state)
{
    (void)state;
    char out[WR_STATUS_COUNT_MAX];
    static const struct {
        uint64_t v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {7, "7"},
        {999, "999"},
        {1000, "1,000"},
        {12345, "12,345"},
        {123456, "123,456"},
        {1234567, "1,234,567"},
        {UINT64_MAX, "18,446,744,073,709,551,615"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = wr_status_count(cases[i].v, out);
        assert_string_equal(out, cases[i].text);
        assert_int_equal(n, strlen(cases[i].text));
    }
}

/* The subtasks report every second and the CLI polls twice a second: half the polls see no
 * change. A rate between two polls would read 0/s then; over two seconds it does not. */
static void test_rates_are_over_the_last_two_seconds(void **state)
{
    (void)state;
    wr_status_t s = {0};
    s_add(&s, 0, 0, 0);
    assert_true(wr_status_rate_in(&s) < 0); /* one sample: no rate yet */
    char line[512];
    wr_status_format(&s, S_WM, 0, line, sizeof line);
    assert_non_null(strstr(line, "in 0  out 0  ")); /* and none shown */
    assert_non_null(strstr(line, "RUNNING 0 s  "));
    s_add(&s, 500, 0, 0);
    s_add(&s, 1000, 10000, 100);
    s_add(&s, 1500, 10000, 100); /* no report since the last poll */
    assert_true(wr_status_rate_in(&s) > 6666 && wr_status_rate_in(&s) < 6667); /* 10,000 / 1.5 s */
    s_add(&s, 2000, 20000, 200);
    assert_true(wr_status_rate_in(&s) == 10000); /* 20,000 over 2 s */
    assert_true(wr_status_rate_out(&s) == 100);
    s_add(&s, 2500, 20000, 200); /* against t=500: 20,000 over 2 s */
    assert_true(wr_status_rate_in(&s) == 10000);
    /* more samples than kept: the oldest go, the window stays two seconds */
    for (int64_t t = 3000; t <= 10000; t += 500)
        s_add(&s, t, (uint64_t)t * 10, 0);
    assert_int_equal(s.n, WR_STATUS_SAMPLES);
    assert_true(wr_status_rate_in(&s) == 10000);
    /* a counter that went back (the job restarted): no rate rather than a wrong one */
    s_add(&s, 10500, 5, 0);
    assert_true(wr_status_rate_in(&s) < 0);
}

static void test_durations_read_as_a_user_reads_them(void **state)
{
    (void)state;
    char out[32];
    assert_string_equal(wr_status_duration(0, out, sizeof out), "0 ms");
    assert_string_equal(wr_status_duration(850, out, sizeof out), "850 ms");
    assert_string_equal(wr_status_duration(2150, out, sizeof out), "2.1 s");
    assert_string_equal(wr_status_duration(42000, out, sizeof out), "42 s");
    assert_string_equal(wr_status_duration(184000, out, sizeof out), "3 min 04 s");
    assert_string_equal(wr_status_duration(7500000, out, sizeof out), "2 h 05 min");
    assert_string_equal(wr_status_duration(273600000, out, sizeof out), "3 d 04 h");
    assert_string_equal(wr_status_duration(-2150, out, sizeof out), "-2.1 s");
}

/* The watermark is UTC time; its lag behind wall clock shows while it is live (within a day),
 * ahead when event time runs before wall clock; none yet shows "-". */
static void test_the_watermark_is_a_time_with_its_lag(void **state)
{
    (void)state;
    wr_status_t s = {0};
    s_add(&s, 0, 0, 0);
    char line[512];
    wr_status_format(&s, S_WM + 184000, 0, line, sizeof line);
    assert_non_null(strstr(line, "watermark 2023-11-14T22:13:20Z (lag 3 min 04 s)  "));
    wr_status_format(&s, S_WM - 850, 0, line, sizeof line);
    assert_non_null(strstr(line, "watermark 2023-11-14T22:13:20Z (ahead 850 ms)  "));
    /* last year's events replayed: the time alone */
    wr_status_format(&s, S_WM + 400LL * 86400000, 0, line, sizeof line);
    assert_non_null(strstr(line, "watermark 2023-11-14T22:13:20Z  backpressure"));
    s.v[0].watermark = INT64_MAX; /* no subtask has one yet */
    wr_status_format(&s, S_WM, 0, line, sizeof line);
    assert_non_null(strstr(line, "watermark -  "));
    s.v[0].watermark = INT64_MIN;
    wr_status_format(&s, S_WM, 0, line, sizeof line);
    assert_non_null(strstr(line, "watermark -  "));
}

/* The line never wraps: cut to one column less than the terminal has (the cursor stays on it),
 * and to the buffer; nothing at all before the first sample. */
static void test_the_line_fits_the_terminal(void **state)
{
    (void)state;
    wr_status_t s = {0};
    char full[512], cut[512], small[16];
    assert_int_equal(wr_status_format(&s, S_WM, 80, full, sizeof full), 0);
    assert_string_equal(full, "");
    s_add(&s, 0, 123456789, 0);
    size_t n = wr_status_format(&s, S_WM, 0, full, sizeof full);
    assert_true(n > 80);
    assert_int_equal(wr_status_format(&s, S_WM, 80, cut, sizeof cut), 79);
    assert_int_equal(strlen(cut), 79);
    assert_memory_equal(cut, full, 79);
    assert_int_equal(wr_status_format(&s, S_WM, 80, small, sizeof small), 15);
    assert_memory_equal(small, full, 15);
    assert_int_equal(small[15], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_line_of_a_running_job),
        cmocka_unit_test(test_counts_have_thousands_separators),
        cmocka_unit_test(test_rates_are_over_the_last_two_seconds),
        cmocka_unit_test(test_durations_read_as_a_user_reads_them),
        cmocka_unit_test(test_the_watermark_is_a_time_with_its_lag),
        cmocka_unit_test(test_the_line_fits_the_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
