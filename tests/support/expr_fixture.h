/* The expression tests' fixture (test_expr*.c): a schema of eight fields of every type, batches
 * of random records over it (edge values included: NaN, infinities, -0.0, INT64_MIN, odd bytes in
 * strings), and compiling with the checks every test wants. xf_ is for "expression fixture".
 *
 *     wr_schema_t s = xf_schema();
 *     xf_rng_t rng = XF_RNG_INIT;
 *     wr_batch_t *b = wr_batch_new(&s, 0);
 *     xf_fill(b, 512, &rng);
 *     wr_expr_t *e = xf_compile_ok("temp > 30.5 && starts_with(device, 'dev-')", &s);
 *
 * Every function fails the test (cmocka) when what it checks does not hold. */
#ifndef WR_TEST_EXPR_FIXTURE_H
#define WR_TEST_EXPR_FIXTURE_H

#include <stdint.h>

#include "actors/dataflow/expr/expr.h"
#include "actors/dataflow/record/batch.h"

/* The fields, in schema order: device string, ts time, temp double, ok bool, seq int, note
 * string, hum double, n int. */
enum { XF_DEVICE, XF_TS, XF_TEMP, XF_OK, XF_SEQ, XF_NOTE, XF_HUM, XF_NN, XF_COUNT };
extern const char *const xf_field_names[XF_COUNT];

/* The schema of those fields. */
wr_schema_t xf_schema(void);

/* A xorshift64 sequence: the random data of one test, the same at every run. */
typedef struct {
    uint64_t s; /* never 0 */
} xf_rng_t;
#define XF_RNG_INIT                                                                                \
    {                                                                                              \
        88172645463325252ull                                                                       \
    }

uint64_t xf_rand(xf_rng_t *r);
/* Uniform in [0, n). */
uint32_t xf_below(xf_rng_t *r, uint32_t n);
/* Small ints mostly, sometimes an edge (0, -1, INT64_MAX, INT64_MIN, ...). */
int64_t xf_rand_int(xf_rng_t *r);
/* Ordinary doubles mostly, sometimes an edge (-0.0, 1e300, infinities, rarely NaN). */
double xf_rand_double(xf_rng_t *r);
/* One of a few strings ("", "dev-1", "x\"y", a 0xff byte, ...). */
const char *xf_rand_word(xf_rng_t *r);

/* Clears b and fills it with n random records. */
void xf_fill(wr_batch_t *b, uint32_t n, xf_rng_t *r);

/* src compiled against schema; fails the test (with the compiler's message) when it does not
 * compile or reports an error anyway. The caller destroys it. */
wr_expr_t *xf_compile_ok(const char *src, const wr_schema_t *schema);
/* src must not compile against xf_schema(), with a one-line error that starts with want. */
void xf_compile_err(const char *src, const char *want);
/* A constant expression's value (int, bool or time; double), checked to be the same for every
 * record and of the right type. */
int64_t xf_const_i(const char *src);
double xf_const_f(const char *src);

#endif
