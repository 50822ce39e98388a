/* The gates (actors/taskmanager/gate.h). The input gate's combined watermark: the minimum over its
 * inputs, and the origin it reports with it, which the emission-delay figures count from: the
 * making of the watermark whose arrival let it pass, not the older one of the input that was
 * ahead. The gate runs inside an actor (it answers channel opens with credit), which plays a
 * script of input messages in on_start and records what the gate made of each. And the output
 * gate's batches, sent to an input gate in the same actor: cut by records and by bytes, and
 * partitioned by key over several channels. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <msgpack.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/taskmanager/gate.h"
#include "actors/runtime/node.h"
#include "bus/base/error.h"
#include "bus/messages.h"
#include "tests/support/actor.h"

/* One input message: a watermark (wm, origin) on channel ch, or its end (end). */
typedef struct {
    uint64_t ch;
    int64_t wm, origin;
    bool end;
} s_step_t;

/* What the gate made of it. */
typedef struct {
    int rc;
    wr_in_event_t ev;
    int64_t wm, origin;
} s_seen_t;

#define S_STEPS 8

typedef struct {
    const s_step_t *steps;
    size_t n;
    s_seen_t seen[S_STEPS];
    atomic_int done;
} s_script_t;

static wr_msg_t *s_msg(uint16_t type, const char *from, uint64_t ch, const int64_t *wm_origin)
{
    if (type == WR_MSG_CHANNEL_END) /* the sequence number after the last batch: none came */
        return wr_msg_channel_end_new(type, from, NULL, &(wr_msg_channel_end_t){ch, 0});
    if (type == WR_MSG_WATERMARK)
        return wr_msg_watermark_new(type, from, NULL,
                                    &(wr_msg_watermark_t){ch, wm_origin[0], wm_origin[1]});
    return wr_msg_channel_open_new(type, from, NULL, &(wr_msg_channel_open_t){ch});
}

/* Plays the script against a gate of two inputs (channels 1 and 2, opened by this actor itself, so
 * their credit comes back here and is ignored). */
static int s_play(wr_actor_t *self, void *state)
{
    s_script_t *s = state;
    wr_schema_t schema;
    wr_schema_init(&schema);
    wr_schema_add(&schema, "v", WR_T_INT);
    wr_gate_in_opts_t o = {.schema = &schema, .nchannels = 2, .window = 4};
    wr_gate_in_t *g = wr_gate_in_new(&o);
    int rc = g ? 0 : WR_ENOMEM;
    for (uint64_t ch = 1; ch <= 2 && !rc; ch++) {
        wr_msg_t *m = s_msg(WR_MSG_CHANNEL_OPEN, wr_actor_addr(self), ch, NULL);
        wr_in_event_t ev;
        int64_t wm = 0;
        rc = m ? wr_gate_in_handle(g, self, m, &ev, &wm) : WR_ENOMEM;
        wr_msg_destroy(&m);
    }
    for (size_t i = 0; i < s->n && !rc; i++) {
        const s_step_t *st = &s->steps[i];
        int64_t wo[2] = {st->wm, st->origin};
        wr_msg_t *m = s_msg(st->end ? WR_MSG_CHANNEL_END : WR_MSG_WATERMARK, wr_actor_addr(self),
                            st->ch, st->end ? NULL : wo);
        s_seen_t *seen = &s->seen[i];
        seen->rc = m ? wr_gate_in_handle(g, self, m, &seen->ev, &seen->wm) : WR_ENOMEM;
        seen->origin = wr_gate_in_watermark_origin(g);
        wr_msg_destroy(&m);
    }
    wr_gate_in_destroy(&g);
    atomic_store(&s->done, 1);
    return rc;
}

static int s_ignore(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    (void)self, (void)state, (void)msgp;
    return 0; /* the credit the gate sent */
}

static void s_run(s_script_t *s)
{
    wr_node_opts_t no = {.id = "n1", .threads = 1};
    int err = 0;
    wr_node_t *n = wr_node_new(&no, &err);
    assert_non_null(n);
    const wr_behaviour_t b = {.on_start = s_play, .on_message = s_ignore};
    wr_spawn_opts_t so = {.path = "gate", .behaviour = &b, .state = s};
    assert_int_equal(wr_actor_spawn(n, &so, NULL), 0);
    assert_true(wr_test_wait_count(&s->done, 1, WR_TEST_WAIT_MS));
    wr_node_destroy(&n);
}

static void test_origin_is_the_watermark_that_let_it_pass(void **state)
{
    (void)state;
    const s_step_t steps[] = {
        {1, 1000, 111, false}, /* input 2 has said nothing: no watermark yet */
        {2, 2000, 222, false}, /* min(1000, 2000): passes to 1000 once 2's arrives, made at 222 */
        {1, 3000, 333, false}, /* min(3000, 2000) = input 2's value, passed by 1's: 333 */
        {2, 2500, 444, false}, /* 2500, by 2's */
        {1, 2800, 555, false}, /* not newer than 1's 3000: ignored, nothing moves */
        {2, 0, 0, true},       /* 2 ended: 1's 3000 alone, made at 333 */
    };
    s_script_t s = {.steps = steps, .n = sizeof steps / sizeof steps[0]};
    s_run(&s);
    const s_seen_t want[] = {
        {0, WR_IN_NOTHING, 0, 0},        {0, WR_IN_WATERMARK, 1000, 222},
        {0, WR_IN_WATERMARK, 2000, 333}, {0, WR_IN_WATERMARK, 2500, 444},
        {0, WR_IN_NOTHING, 0, 444},      {0, WR_IN_WATERMARK, 3000, 333},
    };
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.seen[i].rc, 0);
        assert_int_equal(s.seen[i].ev, want[i].ev);
        if (want[i].ev != WR_IN_WATERMARK) continue;
        assert_int_equal(s.seen[i].wm, want[i].wm);
        assert_int_equal(s.seen[i].origin, want[i].origin);
    }
    assert_int_equal(s.seen[4].origin, 444); /* unchanged while nothing moved */
}

/* ---- an output gate into an input gate, in one actor ---- */

#define S_LONG        600000 /* bytes of each record's string */
#define S_LONG_N      5
#define S_BATCHES_MAX 8
#define S_LOOP_TICK   (WR_MSG_LOCAL_FIRST + 1)

/* A loop: the actor's output gate sends to itself (channel 1), its input gate receives; the
 * records go out once the first credit came, then the end. What arrived: records per batch. */
/* An actor's two gates, first in its state. */
typedef struct {
    wr_gate_out_t *out;
    wr_gate_in_t *in;
} s_gates_t;

/* Makes the gates, sends the first CHANNEL_OPENs and starts the tick (as a task does). */
static int s_gates_start(s_gates_t *g, wr_actor_t *self, const wr_gate_out_opts_t *go,
                         const wr_gate_in_opts_t *gi)
{
    g->out = wr_gate_out_new(go);
    g->in = wr_gate_in_new(gi);
    if (!g->out || !g->in) return WR_ENOMEM;
    int rc = wr_gate_out_open(g->out, self);
    /* the task's tick: open until open, then retry (which asks again for credit long awaited) */
    return rc ? rc : wr_timer_every(self, 100, S_LOOP_TICK, NULL);
}

/* The tick's work. */
static int s_gates_tick(s_gates_t *g, wr_actor_t *self)
{
    int rc = wr_gate_out_is_open(g->out) ? 0 : wr_gate_out_open(g->out, self);
    return rc ? rc : wr_gate_out_retry(g->out, self);
}

typedef struct {
    s_gates_t g;
    wr_schema_t schema;
    uint32_t window;    /* the input gate's credits (0: 8) */
    uint32_t drop_mask; /* CREDIT messages to lose: bit i drops the i-th (from 0) */
    uint32_t credits_seen;
    bool pushed;
    uint32_t batches[S_BATCHES_MAX], nbatches;
    int rc;
    atomic_int done;
} s_loop_t;

static int s_loop_start(wr_actor_t *self, void *state)
{
    s_loop_t *l = state;
    wr_schema_init(&l->schema);
    wr_schema_add(&l->schema, "s", WR_T_STRING);
    const char *targets[] = {wr_actor_addr(self)};
    const uint64_t ids[] = {1};
    wr_gate_out_opts_t go = {.schema = &l->schema,
                             .partition = WR_PART_FORWARD,
                             .batch_records = 1024,
                             .batch_bytes = 1 << 20,
                             .nchannels = 1,
                             .targets = targets,
                             .channel_ids = ids};
    wr_gate_in_opts_t gi = {
        .schema = &l->schema, .nchannels = 1, .window = l->window ? l->window : 8};
    return s_gates_start(&l->g, self, &go, &gi);
}

/* S_LONG_N records of S_LONG bytes each, through the output gate, then its end. */
static int s_loop_push(wr_actor_t *self, s_loop_t *l)
{
    wr_batch_t *b = wr_batch_new(&l->schema, S_LONG_N);
    char *text = malloc(S_LONG);
    int rc = b && text ? 0 : WR_ENOMEM;
    if (text) memset(text, 'x', S_LONG);
    for (uint32_t i = 0; i < S_LONG_N && !rc; i++)
        if (!(rc = wr_batch_push_str(b, 0, text, S_LONG))) b->count++;
    if (!rc) rc = wr_gate_out_push(l->g.out, self, b, NULL, 0);
    if (!rc) rc = wr_gate_out_end(l->g.out, self);
    wr_batch_destroy(&b);
    free(text);
    return rc;
}

static int s_loop_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_loop_t *l = state;
    int rc = 0;
    if ((*msgp)->type == S_LOOP_TICK) {
        rc = s_gates_tick(&l->g, self);
    } else if ((*msgp)->type == WR_MSG_CREDIT && l->credits_seen < 32 &&
               (l->drop_mask >> l->credits_seen++ & 1)) {
        return 0; /* lost on the way */
    } else if ((*msgp)->type == WR_MSG_CREDIT) {
        rc = wr_gate_out_credit(l->g.out, self, *msgp);
        if (!rc && !l->pushed) {
            l->pushed = true;
            rc = s_loop_push(self, l);
        }
    } else {
        wr_in_event_t ev;
        int64_t wm;
        rc = wr_gate_in_handle(l->g.in, self, *msgp, &ev, &wm);
        if (!rc && ev == WR_IN_BATCH && l->nbatches < S_BATCHES_MAX)
            l->batches[l->nbatches++] = wr_gate_in_batch(l->g.in)->count;
        if (!rc && ev == WR_IN_BATCH) rc = wr_gate_in_done(l->g.in, self, false);
        if (!rc && ev == WR_IN_END) atomic_store(&l->done, 1);
    }
    if (rc) {
        l->rc = rc;
        atomic_store(&l->done, 1);
    }
    return 0;
}

/* on_stop of an actor whose state starts with its gates (s_gates_t). */
static void s_gates_stop(wr_actor_t *self, void *state)
{
    (void)self;
    s_gates_t *g = state;
    wr_gate_out_destroy(&g->out);
    wr_gate_in_destroy(&g->in);
}

/* Runs an actor of behaviour b on a node of its own until *done. */
static void s_run_actor(const wr_behaviour_t *b, void *state, atomic_int *done)
{
    wr_node_opts_t no = {.id = "n1", .threads = 1};
    int err = 0;
    wr_node_t *n = wr_node_new(&no, &err);
    assert_non_null(n);
    wr_spawn_opts_t so = {.path = "loop", .behaviour = b, .state = state};
    assert_int_equal(wr_actor_spawn(n, &so, NULL), 0);
    bool ok = wr_test_wait_count(done, 1, WR_TEST_WAIT_MS);
    wr_node_destroy(&n);
    assert_true(ok);
}

static void s_loop_run(s_loop_t *l)
{
    const wr_behaviour_t b = {
        .on_start = s_loop_start, .on_message = s_loop_message, .on_stop = s_gates_stop};
    s_run_actor(&b, l, &l->done);
}

/* Was a bug: a batch was sealed only at batch_records records, so 1024 long lines made one message
 * far over bus.max-message-size. Records of 600 KB with batch_bytes 1 MiB: sealed every second
 * record (at 1.2 MB), the last one alone at the end. */
static void test_output_batches_are_cut_by_bytes(void **state)
{
    (void)state;
    s_loop_t l = {0};
    s_loop_run(&l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.nbatches, 3);
    assert_int_equal(l.batches[0], 2);
    assert_int_equal(l.batches[1], 2);
    assert_int_equal(l.batches[2], 1);
}

/* Was a hang (test_zombies, once): a CREDIT lost with a peer's connection left its sender waiting
 * for good, since the receiver answered only the first CHANNEL_OPEN and, having consumed
 * everything, had no other CREDIT to send. Lost here: the answer to the open (the sender asks
 * again on its tick) and both credits returned for the first two batches (window 2), which leave
 * the third waiting until the sender asks, a second later. Every batch arrives, none twice. */
static void test_lost_credits_are_asked_for_again(void **state)
{
    (void)state;
    s_loop_t l = {.window = 2, .drop_mask = 1u << 0 | 1u << 2 | 1u << 3};
    s_loop_run(&l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.nbatches, 3);
    assert_int_equal(l.batches[0] + l.batches[1] + l.batches[2], S_LONG_N);
    assert_true(l.credits_seen >= 5); /* three lost, then the ones that came through */
}

/* ---- hash partitioning over three channels, in one actor ---- */

#define S_MP_CH      3
#define S_MP_PUSHES  4
#define S_MP_N       50 /* records a push */
#define S_MP_RECORDS 7
#define S_MP_BYTES   300
#define S_MP_MAXP    128
#define S_MP_CUTS    64

/* What arrived on each channel (by the channel its records route to): batch sizes in order,
 * and the records' seq values in order. */
typedef struct {
    s_gates_t g;
    wr_schema_t schema;
    bool pushed, mixed;
    uint32_t cuts[S_MP_CH][S_MP_CUTS], ncuts[S_MP_CH];
    int64_t last_seq[S_MP_CH];
    uint32_t records, out_of_order;
    int rc;
    atomic_int done;
} s_multi_t;

static int64_t s_mp_key(uint32_t seq)
{
    return (int64_t)((seq * 2654435761u) % 1000);
}

static uint32_t s_mp_len(uint32_t seq)
{
    return (seq * 37u) % 97u; /* 0..96 bytes: several cuts by bytes before 7 records */
}

static uint32_t s_mp_channel(int64_t key)
{
    return wr_key_group_owner(wr_key_group(wr_hash_u64((uint64_t)key), S_MP_MAXP), S_MP_MAXP,
                              S_MP_CH);
}

static int s_multi_start(wr_actor_t *self, void *state)
{
    s_multi_t *m = state;
    wr_schema_init(&m->schema);
    wr_schema_add(&m->schema, "key", WR_T_INT);
    wr_schema_add(&m->schema, "seq", WR_T_INT);
    wr_schema_add(&m->schema, "s", WR_T_STRING);
    const char *me = wr_actor_addr(self);
    const char *targets[S_MP_CH] = {me, me, me};
    const uint64_t ids[S_MP_CH] = {11, 12, 13};
    wr_gate_out_opts_t go = {.schema = &m->schema,
                             .partition = WR_PART_HASH,
                             .key_field = 0,
                             .max_parallelism = S_MP_MAXP,
                             .batch_records = S_MP_RECORDS,
                             .batch_bytes = S_MP_BYTES,
                             .nchannels = S_MP_CH,
                             .targets = targets,
                             .channel_ids = ids};
    wr_gate_in_opts_t gi = {.schema = &m->schema, .nchannels = S_MP_CH, .window = 4};
    for (int c = 0; c < S_MP_CH; c++)
        m->last_seq[c] = -1;
    return s_gates_start(&m->g, self, &go, &gi);
}

/* S_MP_PUSHES batches of S_MP_N records, then the end. */
static int s_multi_push(wr_actor_t *self, s_multi_t *m)
{
    wr_batch_t *b = wr_batch_new(&m->schema, S_MP_N);
    char text[128];
    memset(text, 'x', sizeof text);
    int rc = b ? 0 : WR_ENOMEM;
    for (uint32_t p = 0; p < S_MP_PUSHES && !rc; p++) {
        wr_batch_clear(b);
        for (uint32_t i = 0; i < S_MP_N && !rc; i++) {
            uint32_t seq = p * S_MP_N + i;
            wr_batch_i64(b, 0)[i] = s_mp_key(seq);
            wr_batch_i64(b, 1)[i] = seq;
            if (!(rc = wr_batch_push_str(b, 2, text, s_mp_len(seq)))) b->count++;
        }
        if (!rc) rc = wr_gate_out_push(m->g.out, self, b, NULL, 0);
    }
    if (!rc) rc = wr_gate_out_end(m->g.out, self);
    wr_batch_destroy(&b);
    return rc;
}

/* A batch that arrived: all its records route to one channel, in seq order there. */
static void s_multi_batch(s_multi_t *m, const wr_batch_t *b)
{
    uint32_t c = s_mp_channel(wr_batch_i64((wr_batch_t *)b, 0)[0]);
    for (uint32_t i = 0; i < b->count; i++) {
        int64_t seq = ((const int64_t *)b->col[1])[i];
        if (s_mp_channel(((const int64_t *)b->col[0])[i]) != c) m->mixed = true;
        if (seq <= m->last_seq[c]) m->out_of_order++;
        m->last_seq[c] = seq;
    }
    if (m->ncuts[c] < S_MP_CUTS) m->cuts[c][m->ncuts[c]++] = b->count;
    m->records += b->count;
}

static int s_multi_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_multi_t *m = state;
    int rc = 0;
    if ((*msgp)->type == S_LOOP_TICK) {
        rc = s_gates_tick(&m->g, self);
    } else if ((*msgp)->type == WR_MSG_CREDIT) {
        rc = wr_gate_out_credit(m->g.out, self, *msgp);
        if (!rc && !m->pushed && wr_gate_out_is_open(m->g.out)) {
            m->pushed = true;
            rc = s_multi_push(self, m);
        }
    } else {
        wr_in_event_t ev;
        int64_t wm;
        rc = wr_gate_in_handle(m->g.in, self, *msgp, &ev, &wm);
        if (!rc && ev == WR_IN_BATCH) {
            s_multi_batch(m, wr_gate_in_batch(m->g.in));
            rc = wr_gate_in_done(m->g.in, self, false);
        }
        if (!rc && ev == WR_IN_END) atomic_store(&m->done, 1);
    }
    if (rc) {
        m->rc = rc;
        atomic_store(&m->done, 1);
    }
    return 0;
}

/* The output gate cuts each channel's records where a gate fed one record at a time would: at
 * S_MP_RECORDS records, or once S_MP_BYTES of strings are in, whichever first; the end cuts the
 * rest. Computed here from the records alone. */
static void s_mp_expected(uint32_t cuts[S_MP_CH][S_MP_CUTS], uint32_t ncuts[S_MP_CH])
{
    uint32_t count[S_MP_CH] = {0}, bytes[S_MP_CH] = {0};
    for (uint32_t seq = 0; seq < S_MP_PUSHES * S_MP_N; seq++) {
        uint32_t c = s_mp_channel(s_mp_key(seq));
        count[c]++;
        bytes[c] += s_mp_len(seq);
        if (count[c] == S_MP_RECORDS || bytes[c] >= S_MP_BYTES) {
            assert_true(ncuts[c] < S_MP_CUTS);
            cuts[c][ncuts[c]++] = count[c];
            count[c] = bytes[c] = 0;
        }
    }
    for (uint32_t c = 0; c < S_MP_CH; c++)
        if (count[c]) cuts[c][ncuts[c]++] = count[c];
}

/* Records routed by key over three channels, batch after batch: each channel gets exactly its
 * records, in order, cut into batches as one record at a time would have cut them (the gate
 * routes a whole batch first and appends each channel's records in one go). */
static void test_hash_partitioned_batches_cut_as_record_by_record(void **state)
{
    (void)state;
    s_multi_t m = {0};
    const wr_behaviour_t b = {
        .on_start = s_multi_start, .on_message = s_multi_message, .on_stop = s_gates_stop};
    s_run_actor(&b, &m, &m.done);
    assert_int_equal(m.rc, 0);
    assert_int_equal(m.records, S_MP_PUSHES * S_MP_N);
    assert_false(m.mixed);
    assert_int_equal(m.out_of_order, 0);
    uint32_t want[S_MP_CH][S_MP_CUTS] = {{0}}, nwant[S_MP_CH] = {0};
    s_mp_expected(want, nwant);
    for (uint32_t c = 0; c < S_MP_CH; c++) {
        assert_true(nwant[c] > 3); /* every channel got several batches */
        assert_int_equal(m.ncuts[c], nwant[c]);
        assert_memory_equal(m.cuts[c], want[c], nwant[c] * sizeof want[c][0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_is_the_watermark_that_let_it_pass),
        cmocka_unit_test(test_output_batches_are_cut_by_bytes),
        cmocka_unit_test(test_lost_credits_are_asked_for_again),
        cmocka_unit_test(test_hash_partitioned_batches_cut_as_record_by_record),
    };
    return cmocka_run_group_tests_name("gates: watermarks, batches, lost credits, partitions",
                                       tests, NULL, NULL);
}
