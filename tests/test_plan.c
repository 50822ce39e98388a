/* Execution plans: how operators chain into vertices, which edges join them, how many slots. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "actors/dataflow/job/plan.h"
#include "bus/base/error.h"

static wr_topology_t *s_parse(const char *yaml)
{
    wr_topology_t *t = NULL;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_topology_parse(yaml, strlen(yaml), "test.yaml", &t, &err);
    if (rc) fail_msg("topology: %s", err.buf);
    wr_strbuf_release(&err);
    return t;
}

#define S_WINDOW                                                                                   \
    "key_by: device\n"                                                                             \
    "event_time: {field: ts}\n"                                                                    \
    "window: {type: tumbling, size: 1min}\n"                                                       \
    "aggregates: {n: count()}\n"

static void test_iot_job_is_two_vertices_joined_by_key(void **state)
{
    (void)state;
    wr_topology_t *t =
        s_parse("parallelism: 2\n"
                "sources: [{type: generator, devices: 10, total: 100}]\n"
                "operators: [{filter: temperature > 0}]\n" S_WINDOW "sinks: [{type: stdout}]\n");
    wr_plan_t p;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_plan_build(t, &p, &err), 0);
    assert_int_equal(p.n, 2);
    /* the filter chains into the source; the window and the sink share the second vertex */
    assert_int_equal(p.v[0].source, 0);
    assert_int_equal(p.v[0].op_first, 0);
    assert_int_equal(p.v[0].op_end, 1);
    assert_int_equal(p.v[0].output, 1);
    assert_int_equal(p.v[0].edge, WR_EDGE_HASH);
    assert_true(p.v[1].window);
    assert_true(p.v[1].sinks);
    assert_int_equal(p.v[1].n_inputs, 1);
    assert_int_equal(p.slots, 2);
    assert_int_equal(wr_plan_subtasks(&p), 4);
    assert_int_equal(wr_plan_index(&p, 1, 1), 3);
    assert_string_equal(p.v[0].name, "generator -> filter-1");
    /* only the key and the event time cross the exchange (count() reads no field): the source
     * vertex makes every field of the generator and sends two */
    assert_true(wr_schema_equal(&p.v[0].in_schema, &t->schema));
    assert_int_equal(p.v[0].out_schema.n, 2);
    assert_string_equal(p.v[0].out_schema.f[0].name, "device");
    assert_string_equal(p.v[0].out_schema.f[1].name, "ts");
    assert_true(wr_schema_equal(&p.v[1].in_schema, &p.v[0].out_schema));
    wr_strbuf_release(&err);
    wr_topology_destroy(&t);
}

static void test_parallelism_change_breaks_the_chain(void **state)
{
    (void)state;
    wr_topology_t *t = s_parse("parallelism: 1\n"
                               "sources: [{type: generator, devices: 10, total: 100}]\n"
                               "operators: [{filter: temperature > 0, parallelism: 3},"
                               " {filter: humidity > 0, parallelism: 3}]\n"
                               "sinks: [{type: stdout, parallelism: 3}]\n");
    wr_plan_t p;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_plan_build(t, &p, &err), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.v[0].edge, WR_EDGE_REBALANCE);
    assert_int_equal(p.v[1].parallelism, 3);
    assert_int_equal(p.v[1].op_first, 0);
    assert_int_equal(p.v[1].op_end, 2); /* both filters in one subtask */
    assert_true(p.v[1].sinks);
    assert_int_equal(p.slots, 3);
    wr_strbuf_release(&err);
    wr_topology_destroy(&t);
}

static void test_single_file_sink_gets_its_own_vertex(void **state)
{
    (void)state;
    wr_topology_t *t = s_parse("parallelism: 4\n"
                               "sources: [{type: generator, devices: 10, total: 100}]\n" S_WINDOW
                               "sinks: [{type: file, path: out.jsonl}]\n");
    wr_plan_t p;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_plan_build(t, &p, &err), 0);
    assert_int_equal(p.n, 3);
    assert_true(p.v[1].window);
    assert_false(p.v[1].sinks);
    assert_int_equal(p.v[1].edge, WR_EDGE_REBALANCE);
    assert_int_equal(p.v[2].parallelism, 1);
    assert_true(p.v[2].sinks);
    assert_true(wr_schema_equal(&p.v[2].in_schema, &t->result));
    wr_strbuf_release(&err);
    wr_topology_destroy(&t);
}

static void test_several_sources_feed_one_window(void **state)
{
    (void)state;
    wr_topology_t *t = s_parse("parallelism: 2\n"
                               "sources: [{type: generator, devices: 10, total: 100},"
                               " {type: generator, devices: 5, total: 50, seed: 7}]\n" S_WINDOW
                               "sinks: [{type: stdout}]\n");
    wr_plan_t p;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_plan_build(t, &p, &err), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.v[0].output, 2);
    assert_int_equal(p.v[1].output, 2);
    assert_int_equal(p.v[2].n_inputs, 2);
    assert_int_equal(p.v[0].edge, WR_EDGE_HASH);
    for (int v = 0; v < 2; v++) /* each source sends what the window reads */
        assert_true(wr_schema_equal(&p.v[v].out_schema, &t->input));
    assert_int_equal(t->input.n, 2);
    /* channel ids of different edges never collide */
    assert_true(wr_plan_channel(0, 1, 0) != wr_plan_channel(1, 1, 0));
    wr_strbuf_release(&err);
    wr_topology_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iot_job_is_two_vertices_joined_by_key),
        cmocka_unit_test(test_parallelism_change_breaks_the_chain),
        cmocka_unit_test(test_single_file_sink_gets_its_own_vertex),
        cmocka_unit_test(test_several_sources_feed_one_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
