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
#include "actors/connectors/generator/generator.h"
#include "actors/connectors/source.h"
#include "bus/base/error.h"
#include "tests/support/connector.h"

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

/* ---- the generator as a source connector (generator_source.c) ---- */

enum { S_DEVICES = 101, S_TOTAL = 20000 };

/* A bounded run without jitter or late records: a record's (event-time round, device) names its
 * offset. */
static void s_config(wr_generator_config_t *cfg, uint64_t rate)
{
    wr_generator_config_default(cfg);
    cfg->devices = S_DEVICES;
    cfg->total = S_TOTAL;
    cfg->jitter_ms = 0;
    cfg->rate = rate;
}

typedef struct {
    wr_generator_config_t cfg;
    uint32_t *offset_of; /* round * devices + device -> offset */
    uint8_t *seen;       /* per offset: how many times a source made it */
} s_run_t;

static void s_run_init(s_run_t *r, uint64_t rate)
{
    s_config(&r->cfg, rate);
    r->offset_of = calloc(S_TOTAL + S_DEVICES, sizeof *r->offset_of);
    r->seen = calloc(S_TOTAL, 1);
    assert_non_null(r->offset_of);
    assert_non_null(r->seen);
    wr_generator_t *g = wr_generator_new(&r->cfg);
    for (uint32_t o = 0; o < S_TOTAL; o++) {
        wr_generator_record_t rec;
        wr_generator_record(g, o, &rec);
        uint64_t round = (uint64_t)(rec.ts - r->cfg.start_ms) / (uint64_t)r->cfg.interval_ms;
        r->offset_of[round * S_DEVICES + (uint64_t)rec.device] = o;
    }
    wr_generator_destroy(&g);
}

static void s_run_release(s_run_t *r)
{
    free(r->offset_of);
    free(r->seen);
}

static wr_source_t *s_source(s_run_t *r, uint32_t subtask, uint32_t p, wr_splits_t *restored)
{
    wr_schema_t schema;
    wr_generator_schema(&schema);
    wr_source_opts_t o = {.schema = &schema,
                          .ts_field = WR_GEN_TS,
                          .subtask = subtask,
                          .parallelism = p,
                          .batch_records = 512};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = 0;
    wr_source_t *src = wr_source_new(wr_generator_connector.source, &r->cfg, &o, &rc, &err);
    assert_non_null(src);
    assert_int_equal(wr_source_start(src, restored, &err), 0);
    wr_strbuf_release(&err);
    return src;
}

/* Reads up to n records (all when n is 0) at elapsed_ns, counting the offsets made. */
static wr_source_status_t s_take(s_run_t *r, wr_source_t *src, uint32_t n, uint64_t elapsed_ns,
                                 uint32_t *got)
{
    wr_source_status_t st = WR_SOURCE_MORE;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    *got = 0;
    while ((n == 0 || *got < n) && st == WR_SOURCE_MORE) {
        uint32_t max = n && n - *got < 512 ? n - *got : 512;
        assert_int_equal(wr_source_next(src, max, elapsed_ns, &st, &err), 0);
        const wr_batch_t *b = wr_source_batch(src);
        for (uint32_t i = 0; i < b->count; i++) {
            int64_t ts = wr_batch_i64((wr_batch_t *)b, WR_GEN_TS)[i];
            uint64_t round = (uint64_t)(ts - r->cfg.start_ms) / (uint64_t)r->cfg.interval_ms;
            int64_t dev = wr_batch_i64((wr_batch_t *)b, WR_GEN_DEVICE)[i];
            r->seen[r->offset_of[round * S_DEVICES + (uint64_t)dev]]++;
        }
        *got += b->count;
    }
    wr_strbuf_release(&err);
    return st;
}

/* Snapshots each source into one list of the old subtasks' splits, and destroys them. */
static void s_snapshot_all(wr_source_t **srcs, uint32_t n, wr_splits_t *all)
{
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(cs_snapshot(srcs[i], all), 0);
        wr_source_destroy(&srcs[i]);
    }
}

static void s_expect_each_once(const s_run_t *r)
{
    for (uint32_t o = 0; o < S_TOTAL; o++)
        if (r->seen[o] != 1) fail_msg("offset %u made %u times", o, r->seen[o]);
}

/* Fresh at parallelism 2: subtask i reads offsets i, i+2, ...; stopped unevenly and restored at
 * 3 (the streams split) and, again, at 1 (they join up): every offset made exactly once. */
static void test_source_rescales_its_streams(void **state)
{
    (void)state;
    s_run_t r;
    s_run_init(&r, 0);
    wr_source_t *two[2] = {s_source(&r, 0, 2, NULL), s_source(&r, 1, 2, NULL)};
    uint32_t got;
    assert_int_equal(s_take(&r, two[0], 3000, 0, &got), WR_SOURCE_MORE);
    assert_int_equal(got, 3000);
    assert_int_equal(s_take(&r, two[1], 1000, 0, &got), WR_SOURCE_MORE);
    for (uint32_t o = 0; o < 6000; o += 2)
        assert_int_equal(r.seen[o], 1); /* strided */
    wr_splits_t splits = {0};
    s_snapshot_all(two, 2, &splits);
    assert_int_equal(splits.n, 2);
    assert_string_equal(splits.v[0].id, "0/2");
    uint64_t next, stride;
    assert_int_equal(wr_generator_split_position(&splits.v[1], &next, &stride), 0);
    assert_int_equal(next, 2001);
    assert_int_equal(stride, 2);

    /* at 3: a third stream is cut out of the one with the most left */
    wr_splits_t copy = {0};
    for (uint32_t i = 0; i < splits.n; i++)
        wr_splits_add(&copy, splits.v[i].id, splits.v[i].pos, splits.v[i].pos_len,
                      splits.v[i].event_time);
    wr_source_t *three[3];
    for (uint32_t i = 0; i < 3; i++) {
        wr_splits_t mine = {0};
        for (uint32_t k = 0; k < copy.n; k++)
            wr_splits_add(&mine, copy.v[k].id, copy.v[k].pos, copy.v[k].pos_len,
                          copy.v[k].event_time);
        three[i] = s_source(&r, i, 3, &mine);
        wr_splits_release(&mine);
    }
    uint8_t *before = malloc(S_TOTAL);
    memcpy(before, r.seen, S_TOTAL);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(s_take(&r, three[i], 0, 0, &got), WR_SOURCE_END);
        assert_true(got > 0); /* each has a stream */
        wr_source_destroy(&three[i]);
    }
    s_expect_each_once(&r);

    /* at 1, from the same checkpoint: the two streams join into one once they meet */
    memcpy(r.seen, before, S_TOTAL);
    wr_source_t *one = s_source(&r, 0, 1, &copy);
    assert_int_equal(s_take(&r, one, 2000, 0, &got), WR_SOURCE_MORE);
    wr_splits_t joined = {0};
    assert_int_equal(cs_snapshot(one, &joined), 0);
    assert_int_equal(joined.n, 1);
    assert_int_equal(wr_generator_split_position(&joined.v[0], &next, &stride), 0);
    assert_int_equal(stride, 1);
    assert_int_equal(s_take(&r, one, 0, 0, &got), WR_SOURCE_END);
    s_expect_each_once(&r);
    wr_source_destroy(&one);
    wr_splits_release(&joined);
    wr_splits_release(&copy);
    wr_splits_release(&splits);
    free(before);
    s_run_release(&r);
}

/* A paced run restored from a checkpoint goes on at its pace from where it was, not from the
 * start (which would wait as long again), and its event time resumes at once. */
static void test_source_restored_pace_and_event_time(void **state)
{
    (void)state;
    s_run_t r;
    s_run_init(&r, 1000); /* records per second */
    wr_source_t *src = s_source(&r, 0, 1, NULL);
    uint32_t got;
    assert_int_equal(s_take(&r, src, 0, 2000000000, &got), WR_SOURCE_WAIT); /* 2 s */
    assert_int_equal(got, 2000);
    int64_t et_before, et;
    assert_true(wr_source_event_time(src, &et_before));
    wr_splits_t splits = {0};
    s_snapshot_all(&src, 1, &splits);
    src = s_source(&r, 0, 1, &splits);
    assert_true(wr_source_event_time(src, &et));
    assert_int_equal(et, et_before);
    assert_int_equal(s_take(&r, src, 0, 0, &got), WR_SOURCE_WAIT); /* nothing due at once */
    assert_int_equal(got, 0);
    assert_int_equal(s_take(&r, src, 0, 10000000, &got), WR_SOURCE_WAIT); /* 10 ms later */
    assert_int_equal(got, 10);
    for (uint32_t o = 0; o < 2010; o++)
        assert_int_equal(r.seen[o], 1);
    wr_source_destroy(&src);
    wr_splits_release(&splits);
    s_run_release(&r);
}

/* The connector's declared defaults are the documented ones. */
static void test_source_defaults(void **state)
{
    (void)state;
    wr_generator_config_t d;
    wr_generator_config_default(&d);
    assert_int_equal(d.devices, 5000000);
    assert_int_equal(d.start_ms, WR_GEN_DEFAULT_START);
    assert_int_equal(d.interval_ms, 10000);
    assert_int_equal(d.jitter_ms, 2000);
    assert_int_equal(d.late_ms, 60000);
    assert_int_equal(d.seed, 42);
    assert_int_equal(d.total, 0);
    assert_int_equal(d.rate, 0);
    assert_true(d.speedup == 0 && d.late_fraction == 0);
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
        cmocka_unit_test(test_source_rescales_its_streams),
        cmocka_unit_test(test_source_restored_pace_and_event_time),
        cmocka_unit_test(test_source_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
