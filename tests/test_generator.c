/* actors/dataflow/generator: the IoT device simulator. Records are a pure function of the
 * configuration and the offset; every device reports once per round; event time only moves
 * forward apart from a bounded jitter and the documented lateness; subtasks split the offsets
 * exactly; pacing. Prints the fill throughput (informational, not a timed assertion). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/io/generator.h"
#include "bus/base/error.h"

static wr_batch_t *new_batch(uint32_t cap)
{
    wr_schema_t s;
    wr_generator_schema(&s);
    wr_batch_t *b = wr_batch_new(&s, cap);
    assert_non_null(b);
    return b;
}

static void assert_record_at(const wr_generator_t *g, wr_batch_t *b, uint32_t i, uint64_t offset)
{
    wr_generator_record_t r;
    wr_generator_record(g, offset, &r);
    assert_int_equal(wr_batch_i64(b, WR_GEN_DEVICE)[i], r.device);
    assert_int_equal(wr_batch_i64(b, WR_GEN_TS)[i], r.ts);
    assert_true(wr_batch_f64(b, WR_GEN_TEMPERATURE)[i] == r.temperature);
    assert_true(wr_batch_f64(b, WR_GEN_HUMIDITY)[i] == r.humidity);
    uint32_t len;
    const char *s = wr_batch_str(b, WR_GEN_REGION, i, &len);
    const char *want = wr_generator_region_name(r.region);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(s, want, len);
}

static void test_defaults_and_schema(void **state)
{
    (void)state;
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    assert_int_equal(cfg.devices, 5000000);
    assert_int_equal(cfg.total, 0);
    assert_int_equal(cfg.rate, 0);
    assert_int_equal(cfg.start_ms, WR_GEN_DEFAULT_START);
    wr_schema_t s;
    wr_generator_schema(&s);
    assert_int_equal(s.n, WR_GEN_NFIELDS);
    assert_string_equal(s.f[WR_GEN_DEVICE].name, "device");
    assert_int_equal(s.f[WR_GEN_TS].type, WR_T_TIME);
    assert_int_equal(s.f[WR_GEN_TEMPERATURE].type, WR_T_DOUBLE);
    assert_int_equal(s.f[WR_GEN_HUMIDITY].type, WR_T_DOUBLE);
    assert_int_equal(s.f[WR_GEN_REGION].type, WR_T_STRING);

    wr_generator_t *g = wr_generator_new(&cfg);
    assert_non_null(g);
    wr_batch_t *b = new_batch(1024);
    assert_int_equal(wr_generator_fill(g, 0, 1024, b), 0);
    assert_int_equal(b->count, 1024);
    for (uint32_t i = 0; i < b->count; i++) {
        int64_t dev = wr_batch_i64(b, WR_GEN_DEVICE)[i];
        assert_true(dev >= 0 && dev < 5000000);
        int64_t ts = wr_batch_i64(b, WR_GEN_TS)[i];
        assert_true(ts <= WR_GEN_DEFAULT_START + 10 && ts >= WR_GEN_DEFAULT_START - 2000);
    }
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
    assert_null(g);
    wr_generator_destroy(&g);
}

/* Two generators with one configuration agree; fill at any offset equals the same records from
 * a longer fill and from wr_generator_record; another seed gives other records. */
static void test_deterministic_by_offset(void **state)
{
    (void)state;
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = 777;
    cfg.late_fraction = 0.05;
    wr_generator_t *g1 = wr_generator_new(&cfg), *g2 = wr_generator_new(&cfg);
    wr_batch_t *all = new_batch(5000), *part = new_batch(100);
    assert_int_equal(wr_generator_fill(g1, 0, 5000, all), 0);
    for (uint32_t i = 0; i < all->count; i += 7)
        assert_record_at(g2, all, i, i);
    const uint64_t starts[] = {0, 1, 776, 777, 1553, 4900};
    for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
        wr_batch_clear(part);
        assert_int_equal(wr_generator_fill(g2, starts[k], 100, part), 0);
        for (uint32_t i = 0; i < 100; i++) {
            uint32_t j = (uint32_t)starts[k] + i;
            assert_int_equal(wr_batch_i64(part, WR_GEN_DEVICE)[i],
                             wr_batch_i64(all, WR_GEN_DEVICE)[j]);
            assert_int_equal(wr_batch_i64(part, WR_GEN_TS)[i], wr_batch_i64(all, WR_GEN_TS)[j]);
            assert_true(wr_batch_f64(part, WR_GEN_TEMPERATURE)[i] ==
                        wr_batch_f64(all, WR_GEN_TEMPERATURE)[j]);
        }
    }
    /* far offsets, random access */
    wr_batch_clear(part);
    assert_int_equal(wr_generator_fill(g1, UINT64_C(123456789012), 50, part), 0);
    for (uint32_t i = 0; i < 50; i++)
        assert_record_at(g1, part, i, UINT64_C(123456789012) + i);

    cfg.seed = 43;
    wr_generator_t *g3 = wr_generator_new(&cfg);
    wr_batch_clear(part);
    assert_int_equal(wr_generator_fill(g3, 0, 100, part), 0);
    int same = 0;
    for (uint32_t i = 0; i < 100; i++)
        same +=
            wr_batch_f64(part, WR_GEN_TEMPERATURE)[i] == wr_batch_f64(all, WR_GEN_TEMPERATURE)[i];
    assert_true(same < 5);
    wr_generator_destroy(&g3);
    wr_batch_destroy(&all);
    wr_batch_destroy(&part);
    wr_generator_destroy(&g1);
    wr_generator_destroy(&g2);
}

/* Every device reports exactly once per round; readings stay in their documented ranges, a
 * device keeps its region, and the values look like a distribution, not a constant. */
static void test_rounds_and_distribution(void **state)
{
    (void)state;
    enum { N = 10007, ROUNDS = 3 };
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = N;
    wr_generator_t *g = wr_generator_new(&cfg);
    wr_batch_t *b = new_batch(N);
    uint8_t *seen = calloc(N, ROUNDS);
    int8_t *region = malloc(N);
    memset(region, -1, N);
    double sum_t = 0, sum_t2 = 0, sum_h = 0, min_t = 1e9, max_t = -1e9;
    int region_count[WR_GEN_REGIONS] = {0};
    for (int r = 0; r < ROUNDS; r++) {
        wr_batch_clear(b);
        assert_int_equal(wr_generator_fill(g, (uint64_t)r * N, N, b), 0);
        for (uint32_t i = 0; i < N; i++) {
            int64_t dev = wr_batch_i64(b, WR_GEN_DEVICE)[i];
            assert_true(dev >= 0 && dev < N);
            assert_int_equal(seen[dev * ROUNDS + r]++, 0);
            double t = wr_batch_f64(b, WR_GEN_TEMPERATURE)[i];
            double h = wr_batch_f64(b, WR_GEN_HUMIDITY)[i];
            assert_true(t >= 8.0 && t < 32.0);
            assert_true(h >= 25.0 && h < 75.0);
            sum_t += t, sum_t2 += t * t, sum_h += h;
            if (t < min_t) min_t = t;
            if (t > max_t) max_t = t;
            uint32_t len;
            const char *s = wr_batch_str(b, WR_GEN_REGION, i, &len);
            int k = 0;
            while (k < WR_GEN_REGIONS && (strlen(wr_generator_region_name(k)) != len ||
                                          memcmp(s, wr_generator_region_name(k), len)))
                k++;
            assert_true(k < WR_GEN_REGIONS);
            if (region[dev] < 0) region[dev] = (int8_t)k;
            assert_int_equal(region[dev], k);
            if (r == 0) region_count[k]++;
        }
    }
    double n = (double)N * ROUNDS, mean = sum_t / n, sd = sqrt(sum_t2 / n - mean * mean);
    assert_true(fabs(mean - 20.0) < 0.5);
    assert_true(sd > 4.0 && sd < 8.0); /* uniform 20-wide baseline: sd ~ 5.8 */
    assert_true(fabs(sum_h / n - 50.0) < 1.0);
    assert_true(min_t < 9.0 && max_t > 31.0);
    for (int k = 0; k < WR_GEN_REGIONS; k++) /* about N/8 each */
        assert_true(region_count[k] > N / 8 - N / 32 && region_count[k] < N / 8 + N / 32);
    /* consecutive records are not consecutive devices */
    wr_batch_clear(b);
    wr_generator_fill(g, 0, 100, b);
    int adjacent = 0;
    for (uint32_t i = 1; i < 100; i++)
        adjacent +=
            llabs(wr_batch_i64(b, WR_GEN_DEVICE)[i] - wr_batch_i64(b, WR_GEN_DEVICE)[i - 1]) == 1;
    assert_true(adjacent < 10);
    free(seen);
    free(region);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
}

/* Nominal event time never decreases and advances by one interval per round; jitter stays in
 * [0, jitter]; any record is at most `jitter` older than one before it (when none is late). */
static void test_event_time_and_jitter(void **state)
{
    (void)state;
    enum { N = 1000, COUNT = 20000 };
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = N;
    cfg.interval_ms = 5000;
    cfg.jitter_ms = 300;
    cfg.start_ms = 1000000;
    wr_generator_t *g = wr_generator_new(&cfg);
    wr_generator_record_t r, prev = {0};
    int64_t max_ts = 0, max_jitter = 0;
    for (uint64_t o = 0; o < COUNT; o++) {
        wr_generator_record(g, o, &r);
        assert_false(r.late);
        if (o > 0) assert_true(r.nominal >= prev.nominal);
        if (o % N == 0) assert_int_equal(r.nominal, cfg.start_ms + (int64_t)(o / N) * 5000);
        int64_t jitter = r.nominal - r.ts;
        assert_true(jitter >= 0 && jitter <= 300);
        if (jitter > max_jitter) max_jitter = jitter;
        assert_true(r.ts >= max_ts - 300); /* bounded out-of-orderness holds */
        if (r.ts > max_ts) max_ts = r.ts;
        prev = r;
    }
    assert_true(max_jitter >= 290); /* the bound is reached, not just respected */
    /* within a round, time is spread over the interval */
    wr_generator_record(g, N / 2, &r);
    assert_true(r.nominal >= 1000000 + 2490 && r.nominal <= 1000000 + 2510);
    wr_generator_record(g, N - 1, &r);
    assert_true(r.nominal < 1000000 + 5000);

    /* no jitter: event time in order exactly */
    cfg.jitter_ms = 0;
    wr_generator_t *g0 = wr_generator_new(&cfg);
    wr_batch_t *b = new_batch(COUNT);
    assert_int_equal(wr_generator_fill(g0, 0, COUNT, b), 0);
    for (uint32_t i = 1; i < COUNT; i++)
        assert_true(wr_batch_i64(b, WR_GEN_TS)[i] >= wr_batch_i64(b, WR_GEN_TS)[i - 1]);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g0);
    wr_generator_destroy(&g);
}

/* About late_fraction of the records are late, each exactly late_by (plus its jitter) behind
 * its nominal time. */
static void test_late_fraction(void **state)
{
    (void)state;
    enum { COUNT = 200000 };
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = 5000;
    cfg.late_fraction = 0.1;
    cfg.late_ms = 90000;
    cfg.jitter_ms = 0;
    wr_generator_t *g = wr_generator_new(&cfg);
    wr_batch_t *b = new_batch(COUNT);
    assert_int_equal(wr_generator_fill(g, 0, COUNT, b), 0);
    int late = 0;
    for (uint32_t i = 0; i < COUNT; i++) {
        wr_generator_record_t r;
        wr_generator_record(g, i, &r);
        int64_t ts = wr_batch_i64(b, WR_GEN_TS)[i];
        if (r.late) {
            late++;
            assert_int_equal(ts, r.nominal - 90000);
        } else {
            assert_int_equal(ts, r.nominal);
        }
    }
    assert_true(late > COUNT / 10 - COUNT / 100 && late < COUNT / 10 + COUNT / 100);

    cfg.late_fraction = 1.0;
    wr_generator_t *all = wr_generator_new(&cfg);
    cfg.late_fraction = 0.0;
    wr_generator_t *none = wr_generator_new(&cfg);
    for (uint64_t o = 0; o < 1000; o++) {
        wr_generator_record_t r;
        wr_generator_record(all, o, &r);
        assert_true(r.late);
        wr_generator_record(none, o, &r);
        assert_false(r.late);
    }
    wr_generator_destroy(&all);
    wr_generator_destroy(&none);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
}

/* Subtask i of p takes offsets i, i+p, ...: together they cover [0, total) exactly once, and
 * each one's share is what wr_generator_share says. */
static void test_split_across_subtasks(void **state)
{
    (void)state;
    enum { TOTAL = 10000, P = 3 };
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.devices = 101;
    cfg.total = TOTAL;
    cfg.late_fraction = 0.2;
    wr_generator_t *g = wr_generator_new(&cfg);
    assert_int_equal(wr_generator_total(g), TOTAL);
    wr_batch_t *whole = new_batch(TOTAL), *b = new_batch(256);
    assert_int_equal(wr_generator_fill(g, 0, TOTAL, whole), 0);
    uint8_t *covered = calloc(TOTAL, 1);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < P; i++) {
        uint64_t share = wr_generator_share(wr_generator_total(g), i, P);
        sum += share;
        for (uint64_t k = 0; k < share;) {
            uint32_t n = share - k < 256 ? (uint32_t)(share - k) : 256;
            wr_batch_clear(b);
            assert_int_equal(wr_generator_fill_strided(g, i + k * P, P, n, b), 0);
            for (uint32_t j = 0; j < n; j++) {
                uint64_t o = i + (k + j) * P;
                assert_true(o < TOTAL);
                covered[o]++;
                assert_int_equal(wr_batch_i64(b, WR_GEN_TS)[j], wr_batch_i64(whole, WR_GEN_TS)[o]);
                assert_int_equal(wr_batch_i64(b, WR_GEN_DEVICE)[j],
                                 wr_batch_i64(whole, WR_GEN_DEVICE)[o]);
                assert_true(wr_batch_f64(b, WR_GEN_HUMIDITY)[j] ==
                            wr_batch_f64(whole, WR_GEN_HUMIDITY)[o]);
            }
            k += n;
        }
        /* one past the share lies past the total */
        wr_batch_clear(b);
        assert_int_equal(wr_generator_fill_strided(g, i + share * P, P, 1, b), WR_EINVAL);
    }
    assert_int_equal(sum, TOTAL);
    for (uint32_t o = 0; o < TOTAL; o++)
        assert_int_equal(covered[o], 1);
    /* strides larger than the device count wrap rounds correctly */
    wr_batch_clear(b);
    assert_int_equal(wr_generator_fill_strided(g, 5, 250, 30, b), 0);
    for (uint32_t j = 0; j < 30; j++)
        assert_record_at(g, b, j, 5 + (uint64_t)j * 250);
    assert_int_equal(wr_generator_share(10, 0, 3), 4);
    assert_int_equal(wr_generator_share(10, 1, 3), 3);
    assert_int_equal(wr_generator_share(10, 2, 3), 3);
    assert_int_equal(wr_generator_share(2, 2, 3), 0);
    assert_int_equal(wr_generator_share(0, 0, 1), 0);
    assert_int_equal(wr_generator_share(10, 3, 3), 0);
    free(covered);
    wr_batch_destroy(&whole);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
}

static void test_pacing(void **state)
{
    (void)state;
    const uint64_t s = 1000000000u;
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.rate = 1000;
    cfg.total = 5000;
    wr_generator_t *g = wr_generator_new(&cfg);
    assert_int_equal(wr_generator_due(g, 0), 0);
    assert_int_equal(wr_generator_due(g, s / 2), 500);
    assert_int_equal(wr_generator_due(g, s / 1000 * 1001), 1001);
    assert_int_equal(wr_generator_due(g, 10 * s), 5000);
    assert_int_equal(wr_generator_due(g, UINT64_MAX), 5000);
    uint64_t last = 0;
    for (uint64_t t = 0; t < 3 * s; t += s / 997) {
        uint64_t d = wr_generator_due(g, t);
        assert_true(d >= last);
        last = d;
    }
    wr_generator_destroy(&g);

    /* speedup 2 with 1000 devices every 10 s: 100 records per event-time second, 200/s */
    wr_generator_config_default(&cfg);
    cfg.devices = 1000;
    cfg.interval_ms = 10000;
    cfg.speedup = 2.0;
    g = wr_generator_new(&cfg);
    assert_int_equal(wr_generator_due(g, s), 200);
    assert_int_equal(wr_generator_due(g, 5 * s), 1000);
    assert_true(wr_generator_due(g, UINT64_MAX) > UINT64_C(1) << 40);
    wr_generator_destroy(&g);

    /* not paced: everything at once */
    wr_generator_config_default(&cfg);
    g = wr_generator_new(&cfg);
    assert_int_equal(wr_generator_due(g, 0), UINT64_MAX);
    assert_int_equal(wr_generator_total(g), UINT64_MAX);
    wr_generator_destroy(&g);
    cfg.total = 77;
    g = wr_generator_new(&cfg);
    assert_int_equal(wr_generator_due(g, 0), 77);
    wr_generator_destroy(&g);

    /* a very high rate over a long time saturates instead of wrapping */
    wr_generator_config_default(&cfg);
    cfg.rate = WR_GEN_MAX_RATE;
    g = wr_generator_new(&cfg);
    assert_int_equal(wr_generator_due(g, UINT64_MAX), UINT64_MAX);
    wr_generator_destroy(&g);
}

static void test_invalid(void **state)
{
    (void)state;
    wr_generator_config_t cfg, bad;
    wr_generator_config_default(&cfg);
    bad = cfg, bad.devices = 0;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.devices = WR_GEN_MAX_DEVICES + 1;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.interval_ms = 0;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.jitter_ms = -1;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.late_fraction = 1.5;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.late_fraction = NAN;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.rate = 10, bad.speedup = 1;
    assert_null(wr_generator_new(&bad));
    bad = cfg, bad.late_ms = 0;
    assert_null(wr_generator_new(&bad));

    cfg.total = 100;
    wr_generator_t *g = wr_generator_new(&cfg);
    wr_batch_t *b = new_batch(64);
    assert_int_equal(wr_generator_fill(g, 0, 65, b), WR_EINVAL);  /* no room */
    assert_int_equal(wr_generator_fill(g, 90, 11, b), WR_EINVAL); /* past the total */
    assert_int_equal(wr_generator_fill_strided(g, 0, 0, 1, b), WR_EINVAL);
    assert_int_equal(wr_generator_fill_strided(g, 1, UINT64_MAX / 2, 3, b), WR_EINVAL);
    assert_int_equal(b->count, 0);
    assert_int_equal(wr_generator_fill(g, 90, 10, b), 0);
    assert_int_equal(wr_generator_fill(g, 0, 0, b), 0);
    assert_int_equal(b->count, 10);
    wr_schema_t other;
    wr_schema_init(&other);
    wr_schema_add(&other, "device", WR_T_INT);
    wr_batch_t *wrong = wr_batch_new(&other, 64);
    assert_int_equal(wr_generator_fill(g, 0, 1, wrong), WR_EINVAL);
    wr_batch_destroy(&wrong);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Informational: records per second of wr_generator_fill into reused batches of 4096. */
static void test_throughput(void **state)
{
    (void)state;
    wr_generator_config_t cfg;
    wr_generator_config_default(&cfg);
    cfg.late_fraction = 0.01;
    wr_generator_t *g = wr_generator_new(&cfg);
    wr_batch_t *b = new_batch(4096);
    uint64_t n = 0;
    double t0 = s_now(), t;
    do {
        for (int k = 0; k < 64; k++, n += 4096) {
            wr_batch_clear(b);
            assert_int_equal(wr_generator_fill(g, n, 4096, b), 0);
        }
        t = s_now() - t0;
    } while (t < 0.5);
    printf("generator: %.1f M records/s (%llu records in %.2f s, batches of 4096)\n",
           (double)n / t / 1e6, (unsigned long long)n, t);
    wr_batch_destroy(&b);
    wr_generator_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_schema),
        cmocka_unit_test(test_deterministic_by_offset),
        cmocka_unit_test(test_rounds_and_distribution),
        cmocka_unit_test(test_event_time_and_jitter),
        cmocka_unit_test(test_late_fraction),
        cmocka_unit_test(test_split_across_subtasks),
        cmocka_unit_test(test_pacing),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
