/* The IoT device simulator: a counter-based random function of (seed, offset), so any offset is
 * generated directly and a batch is a tight loop with no allocation and no division. */
#include "actors/connectors/generator/generator.h"

#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"

#define S_GAMMA UINT64_C(0x9e3779b97f4a7c15) /* splitmix64's increment */

struct wr_generator {
    wr_generator_config_t cfg;
    uint64_t key;     /* mixed seed: the counter-based RNG is mix(key + offset * GAMMA) */
    uint64_t dev_key; /* per-device baselines: mix(device ^ dev_key) */
    uint64_t perm_a;  /* device = (perm_a * position + perm_c) mod devices, gcd(perm_a, N) = 1 */
    uint64_t perm_c;
    uint64_t step_fp;        /* interval / devices in 32.32 fixed point */
    uint64_t late_threshold; /* a record is late when its second hash is below this */
    bool all_late;
    uint64_t total; /* UINT64_MAX when unbounded */
    double pace;    /* records per second of wall clock; 0 when not paced */
    wr_schema_t schema;
};

static const char *const s_regions[WR_GEN_REGIONS] = {
    "eu-west", "eu-north", "us-east", "us-west", "ap-south", "ap-east", "sa-east", "af-south"};

static inline uint64_t s_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

/* 21 random bits as a double in [0, 1). */
static inline double s_unit21(uint64_t bits)
{
    return (double)(bits & 0x1fffff) * 0x1p-21;
}

static uint64_t s_gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void wr_generator_schema(wr_schema_t *schema)
{
    static const struct {
        const char *name;
        enum wr_type type;
    } fields[WR_GEN_NFIELDS] = {
        [WR_GEN_DEVICE] = {"device", WR_T_INT},
        [WR_GEN_TS] = {"ts", WR_T_TIME},
        [WR_GEN_TEMPERATURE] = {"temperature", WR_T_DOUBLE},
        [WR_GEN_HUMIDITY] = {"humidity", WR_T_DOUBLE},
        [WR_GEN_REGION] = {"region", WR_T_STRING},
    };
    wr_schema_init(schema);
    for (int i = 0; i < WR_GEN_NFIELDS; i++)
        wr_schema_add(schema, fields[i].name, fields[i].type);
}

const char *wr_generator_region_name(int i)
{
    return i >= 0 && i < WR_GEN_REGIONS ? s_regions[i] : "";
}

static bool s_config_ok(const wr_generator_config_t *c)
{
    return c->devices >= 1 && c->devices <= WR_GEN_MAX_DEVICES && c->interval_ms >= 1 &&
           c->interval_ms <= WR_GEN_MAX_INTERVAL && c->jitter_ms >= 0 &&
           c->jitter_ms <= WR_GEN_MAX_JITTER && c->late_ms >= 1 && c->late_ms <= WR_GEN_MAX_LATE &&
           c->late_fraction >= 0 && c->late_fraction <= 1 && c->rate <= WR_GEN_MAX_RATE &&
           c->speedup >= 0 && c->speedup <= WR_GEN_MAX_SPEEDUP && !(c->rate && c->speedup > 0);
}

wr_generator_t *wr_generator_new(const wr_generator_config_t *cfg)
{
    if (!s_config_ok(cfg)) return NULL;
    wr_generator_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->cfg = *cfg;
    uint64_t n = cfg->devices;
    g->key = s_mix(cfg->seed);
    g->dev_key = s_mix(cfg->seed ^ UINT64_C(0x5851f42d4c957f2d));
    g->perm_c = s_mix(g->key ^ 1) % n;
    uint64_t a = n > 2 ? s_mix(g->key ^ 2) % n : 1;
    /* stay away from the trivial strides (1 and -1 visit devices in order) */
    if (n > 8 && (a < n / 16 || a > n - n / 16)) a = n / 3 + 1;
    while (a == 0 || s_gcd(a, n) != 1)
        a++;
    g->perm_a = a % n;
    if (n == 1) g->perm_a = 0;
    g->step_fp = (uint64_t)(((unsigned __int128)cfg->interval_ms << 32) / n);
    if (cfg->late_fraction >= 1.0)
        g->all_late = true;
    else
        g->late_threshold = (uint64_t)(cfg->late_fraction * 0x1p64);
    g->total = cfg->total ? cfg->total : UINT64_MAX;
    if (cfg->rate)
        g->pace = (double)cfg->rate;
    else if (cfg->speedup > 0)
        g->pace = cfg->speedup * (double)n * 1000.0 / (double)cfg->interval_ms;
    wr_generator_schema(&g->schema);
    return g;
}

void wr_generator_destroy(wr_generator_t **g)
{
    if (!g || !*g) return;
    free(*g);
    *g = NULL;
}

const wr_generator_config_t *wr_generator_config(const wr_generator_t *g)
{
    return &g->cfg;
}

/* The random parts of a record: h (jitter and noise) and the late decision from a second mix. */
static inline uint64_t s_hash(const wr_generator_t *g, uint64_t offset)
{
    return s_mix(g->key + offset * S_GAMMA);
}

static inline bool s_late(const wr_generator_t *g, uint64_t h)
{
    return g->all_late || (g->late_threshold && s_mix(h ^ S_GAMMA) < g->late_threshold);
}

/* The event time of a record from its nominal time and its hash h; then its readings from h and
 * its device's hash hd. */
static inline int64_t s_ts(const wr_generator_t *g, int64_t nominal, uint64_t h, bool late)
{
    uint64_t jitter = ((h >> 43) * (uint64_t)(g->cfg.jitter_ms + 1)) >> 21;
    return nominal - (int64_t)jitter - (late ? g->cfg.late_ms : 0);
}

static inline double s_temperature(uint64_t hd, uint64_t h)
{
    return 10.0 + 20.0 * s_unit21(hd) + 4.0 * (s_unit21(h) - 0.5);
}

static inline double s_humidity(uint64_t hd, uint64_t h)
{
    return 30.0 + 40.0 * s_unit21(hd >> 21) + 10.0 * (s_unit21(h >> 21) - 0.5);
}

static inline int s_region(uint64_t hd)
{
    return (int)(hd >> 61);
}

void wr_generator_record(const wr_generator_t *g, uint64_t offset, wr_generator_record_t *rec)
{
    uint64_t n = g->cfg.devices;
    uint64_t round = offset / n, pos = offset % n;
    uint64_t dev = (uint64_t)(((unsigned __int128)g->perm_a * pos + g->perm_c) % n);
    int64_t nominal = g->cfg.start_ms + (int64_t)(round * (uint64_t)g->cfg.interval_ms) +
                      (int64_t)((pos * g->step_fp) >> 32);
    uint64_t h = s_hash(g, offset), hd = s_mix(dev ^ g->dev_key);
    rec->device = (int64_t)dev;
    rec->late = s_late(g, h);
    rec->nominal = nominal;
    rec->ts = s_ts(g, nominal, h, rec->late);
    rec->temperature = s_temperature(hd, h);
    rec->humidity = s_humidity(hd, h);
    rec->region = s_region(hd);
}

int wr_generator_fill_strided(const wr_generator_t *g, uint64_t offset, uint64_t stride, uint32_t n,
                              wr_batch_t *b)
{
    if (stride == 0 || n > b->cap - b->count || !wr_schema_equal(&b->schema, &g->schema))
        return WR_EINVAL;
    if (n == 0) return 0;
    uint64_t last_gap = (uint64_t)(n - 1);
    if (last_gap && stride > (UINT64_MAX - offset) / last_gap) return WR_EINVAL;
    if (offset + last_gap * stride >= g->total) return WR_EINVAL;

    const uint64_t nd = g->cfg.devices;
    const int64_t interval = g->cfg.interval_ms;
    uint64_t round = offset / nd, pos = offset % nd;
    uint64_t dev = (uint64_t)(((unsigned __int128)g->perm_a * pos + g->perm_c) % nd);
    const uint64_t round_step = stride / nd, pos_step = stride % nd;
    const uint64_t dev_step = (uint64_t)(((unsigned __int128)g->perm_a * pos_step) % nd);
    int64_t round_base = g->cfg.start_ms + (int64_t)(round * (uint64_t)interval);
    uint64_t x = g->key + offset * S_GAMMA;
    const uint64_t x_step = stride * S_GAMMA;

    uint32_t at = b->count;
    int64_t *device = wr_batch_i64(b, WR_GEN_DEVICE) + at;
    int64_t *ts = wr_batch_i64(b, WR_GEN_TS) + at;
    double *temp = wr_batch_f64(b, WR_GEN_TEMPERATURE) + at;
    double *hum = wr_batch_f64(b, WR_GEN_HUMIDITY) + at;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t h = s_mix(x), hd = s_mix(dev ^ g->dev_key);
        int64_t nominal = round_base + (int64_t)((pos * g->step_fp) >> 32);
        device[i] = (int64_t)dev;
        ts[i] = s_ts(g, nominal, h, s_late(g, h));
        temp[i] = s_temperature(hd, h);
        hum[i] = s_humidity(hd, h);
        const char *region = s_regions[s_region(hd)];
        int rc = wr_batch_push_str(b, WR_GEN_REGION, region, (uint32_t)strlen(region));
        if (rc) return rc;
        b->count++;
        x += x_step;
        pos += pos_step;
        round_base += (int64_t)round_step * interval;
        if (pos >= nd) {
            pos -= nd;
            round_base += interval;
        }
        dev += dev_step;
        if (dev >= nd) dev -= nd;
    }
    return 0;
}

int wr_generator_fill(const wr_generator_t *g, uint64_t offset, uint32_t n, wr_batch_t *b)
{
    return wr_generator_fill_strided(g, offset, 1, n, b);
}

uint64_t wr_generator_due(const wr_generator_t *g, uint64_t elapsed_ns)
{
    uint64_t due;
    if (g->cfg.rate) {
        uint64_t r = g->cfg.rate, s = elapsed_ns / 1000000000u, ns = elapsed_ns % 1000000000u;
        uint64_t part = r * ns / 1000000000u; /* r <= 1e9, so r * ns < 1e18 */
        due = s > (UINT64_MAX - part) / r ? UINT64_MAX : s * r + part;
    } else if (g->pace > 0) {
        double d = g->pace * ((double)elapsed_ns * 1e-9);
        due = d >= 0x1p64 ? UINT64_MAX : (uint64_t)d;
    } else {
        due = UINT64_MAX;
    }
    return due < g->total ? due : g->total;
}

uint64_t wr_generator_total(const wr_generator_t *g)
{
    return g->total;
}

uint64_t wr_generator_share(uint64_t n, uint32_t i, uint32_t p)
{
    if (p == 0 || i >= p || n <= i) return 0;
    return (n - i - 1) / p + 1;
}
