/* The exactly-once (two-phase commit) file sink: records numbered 0, 1, 2, ... go through 2PC
 * sinks; after every step the visible part files must hold exactly the records of the completed
 * checkpoints (the oracle: a range of ids per writer), each once. Crashes are a destroy without
 * commit; recovery runs wr_sink_2pc_recover and wr_sink_2pc_abort_stale as a restore would.
 * Every test works in its own mkdtemp directory, removed by the teardown whatever happened. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/connectors/collect/collect_sink.h"
#include "actors/connectors/file/file.h"
#include "actors/connectors/file/sink_2pc.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "tests/support/connector.h"

#define MAX_ID 4096

typedef struct {
    char dir[64];
    char out[96]; /* the sink's directory, below dir (created by the sink) */
    wr_schema_t schema;
    wr_file_sink_config_t cfg; /* an exactly-once file sink into out */
} fx_t;

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    strcpy(fx->dir, "/tmp/test_sink_2pc.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->out, sizeof fx->out, "%s/out/a", fx->dir);
    fx->cfg = (wr_file_sink_config_t){.path = fx->out, .exactly_once = true};
    wr_schema_init(&fx->schema);
    wr_schema_add(&fx->schema, "id", WR_T_INT);
    *state = fx;
    return 0;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    int rc = nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return rc;
}

/* ---- writing ---- */

static wr_sink_t *s_sink_of(const fx_t *fx, const wr_file_sink_config_t *cfg, uint32_t attempt,
                            uint32_t subtask)
{
    int err = 0;
    wr_sink_t *s = cs_sink_open(&wr_file_connector, cfg, &fx->schema, attempt, subtask, &err);
    assert_non_null(s);
    return s;
}

static wr_sink_t *s_sink(const fx_t *fx, uint32_t attempt, uint32_t subtask)
{
    return s_sink_of(fx, &fx->cfg, attempt, subtask);
}

/* Writes records lo..hi-1 as one batch; returns wr_sink_write's result. */
static int s_write_rc(wr_sink_t *s, int64_t lo, int64_t hi)
{
    wr_schema_t schema;
    wr_schema_init(&schema);
    assert_int_equal(wr_schema_add(&schema, "id", WR_T_INT), 0);
    wr_batch_t *b = wr_batch_new(&schema, (uint32_t)(hi - lo));
    assert_non_null(b);
    for (int64_t i = lo; i < hi; i++)
        wr_batch_i64(b, 0)[b->count++] = i;
    int rc = wr_sink_write(s, b, NULL, 0);
    wr_batch_destroy(&b);
    return rc;
}

static void s_write(wr_sink_t *s, int64_t lo, int64_t hi)
{
    assert_int_equal(s_write_rc(s, lo, hi), 0);
}

/* Precommits checkpoint id into a fresh *state (the caller releases it); returns its part count. */
static uint32_t s_precommit(wr_sink_t *s, uint64_t id, wr_strbuf_t *state)
{
    wr_strbuf_init(state);
    assert_int_equal(wr_sink_precommit(s, id, state), 0);
    wr_sink_2pc_part_t *parts = NULL;
    uint32_t n = 0;
    assert_int_equal(wr_sink_2pc_state_decode((const uint8_t *)state->buf, state->len, &parts, &n),
                     0);
    for (uint32_t i = 0; i < n; i++)
        assert_true(parts[i].checkpoint_id <= id);
    free(parts);
    return n;
}

static int s_recover(const fx_t *fx, const wr_strbuf_t *const *states, uint32_t n, uint32_t now)
{
    const uint8_t *p[8];
    size_t len[8];
    assert_true(n <= 8);
    for (uint32_t i = 0; i < n; i++) {
        p[i] = (const uint8_t *)states[i]->buf;
        len[i] = states[i]->len;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_sink_2pc_recover(fx->out, p, len, n, now, 0, &err);
    assert_true(rc == 0 ? err.len == 0 : err.len > 0); /* a failure says why */
    wr_strbuf_release(&err);
    return rc;
}

/* ---- the oracle ---- */

/* Counts the records of every visible part file into seen[0..MAX_ID); every line must be one. */
static void s_visible(const fx_t *fx, int *seen)
{
    memset(seen, 0, MAX_ID * sizeof *seen);
    DIR *d = opendir(fx->out);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "part-", 5) != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fx->out, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[64];
        while (fgets(line, sizeof line, f)) {
            long long id = -1;
            char end = 0;
            assert_int_equal(sscanf(line, "{\"id\":%lld}%c", &id, &end), 2);
            assert_int_equal(end, '\n');
            assert_true(id >= 0 && id < MAX_ID);
            seen[id]++;
        }
        fclose(f);
    }
    closedir(d);
}

/* Visible must be exactly the ids of ranges r[0..2n) (half-open pairs), each once. */
static void s_expect(const fx_t *fx, const int64_t *r, int n)
{
    int *seen = calloc(MAX_ID, sizeof *seen);
    assert_non_null(seen);
    s_visible(fx, seen);
    for (int64_t id = 0; id < MAX_ID; id++) {
        int want = 0;
        for (int k = 0; k < n; k++)
            want += id >= r[2 * k] && id < r[2 * k + 1];
        if (seen[id] != want)
            fprintf(stderr, "record %lld: seen %d, want %d\n", (long long)id, seen[id], want);
        assert_int_equal(seen[id], want);
    }
    free(seen);
}

/* How many files of dir start with a dot-part ("hidden") or "part-" ("visible"). */
static int s_count(const fx_t *fx, const char *prefix)
{
    DIR *d = opendir(fx->out);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static bool s_exists(const fx_t *fx, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fx->out, name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- tests ---- */

static void test_names(void **state)
{
    (void)state;
    wr_sink_2pc_part_t p = {.attempt = 7, .subtask = 3, .seq = 12}, q;
    char name[WR_SINK_2PC_NAME_MAX];
    wr_sink_2pc_name(&p, WR_SINK_2PC_INPROGRESS, name);
    assert_string_equal(name, ".part-7-3-12.inprogress");
    wr_sink_2pc_name(&p, WR_SINK_2PC_FINAL, name);
    assert_string_equal(name, "part-3-7-12.jsonl");
    wr_sink_2pc_part_t big = {.attempt = UINT32_MAX, .subtask = UINT32_MAX, .seq = UINT64_MAX};
    wr_sink_2pc_name(&big, WR_SINK_2PC_PENDING, name);
    assert_string_equal(name, ".part-4294967295-4294967295-18446744073709551615.pending");
    enum wr_sink_2pc_name kind;
    assert_int_equal(wr_sink_2pc_parse_hidden(name, strlen(name), &kind, &q), 0);
    assert_int_equal(kind, WR_SINK_2PC_PENDING);
    assert_true(q.attempt == UINT32_MAX && q.subtask == UINT32_MAX && q.seq == UINT64_MAX);
    static const char *const bad[] = {"part-3-7-12.jsonl",
                                      ".part-07-3-12.pending",
                                      ".part-7-3-12.pending.x",
                                      ".part-7-3.pending",
                                      ".part-4294967296-0-0.pending",
                                      ".part--7-3-12.pending",
                                      ".part-7-3-12.pendin",
                                      "x/.part-7-3-12.pending",
                                      ".part-7-3-12",
                                      ".part-7-3-18446744073709551616.inprogress"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(wr_sink_2pc_parse_hidden(bad[i], strlen(bad[i]), &kind, &q), WR_EPROTO);
}

/* The whole story: checkpoints 1 and 2, commit of 1, a crash, recovery from 2 (twice), the
 * leftovers aborted, and the next attempt carrying on. */
static void test_commit_crash_recover(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_sink(fx, 0, 0);
    wr_strbuf_t st1, st2;
    s_write(s, 0, 60);
    s_write(s, 60, 100);
    assert_int_equal(s_precommit(s, 1, &st1), 1);
    s_write(s, 100, 200);
    assert_int_equal(s_precommit(s, 2, &st2), 2); /* 1 is not committed yet */
    assert_int_equal(s_count(fx, "part-"), 0);    /* nothing visible before a commit */
    assert_int_equal(wr_sink_commit(s, 1), 0);
    assert_true(s_exists(fx, "part-0-0-0.jsonl"));
    s_expect(fx, (int64_t[]){0, 100}, 1);
    assert_int_equal(wr_sink_commit(s, 1), 0); /* again: nothing to do */
    s_write(s, 200, 250);                      /* after checkpoint 2, never precommitted */
    assert_int_equal(wr_sink_flush(s), 0);
    assert_int_equal(wr_sink_records(s), 250);
    wr_sink_destroy(&s); /* the crash: checkpoint 2 completed, its commit never arrived */
    assert_null(s);
    assert_true(s_exists(fx, ".part-0-0-1.pending"));
    assert_true(s_exists(fx, ".part-0-0-2.inprogress"));
    s_expect(fx, (int64_t[]){0, 100}, 1);

    const wr_strbuf_t *states[] = {&st2};
    assert_int_equal(s_recover(fx, states, 1, 1), 0);
    s_expect(fx, (int64_t[]){0, 200}, 1);
    assert_int_equal(s_recover(fx, states, 1, 1), 0); /* idempotent */
    s_expect(fx, (int64_t[]){0, 200}, 1);
    assert_int_equal(s_count(fx, ".part-"), 1); /* the in-progress leftover */
    assert_int_equal(wr_sink_2pc_abort_stale(fx->out, 1), 0);
    assert_int_equal(s_count(fx, ".part-"), 0);
    s_expect(fx, (int64_t[]){0, 200}, 1); /* 200..249 are gone: the source replays them */

    s = s_sink(fx, 1, 0); /* attempt 1 replays from checkpoint 2 */
    s_write(s, 200, 300);
    wr_strbuf_t st3;
    assert_int_equal(s_precommit(s, 3, &st3), 1);
    assert_int_equal(wr_sink_commit(s, 3), 0);
    assert_true(s_exists(fx, "part-0-1-0.jsonl"));
    s_expect(fx, (int64_t[]){0, 300}, 1);
    wr_sink_destroy(&s);
    wr_strbuf_release(&st1);
    wr_strbuf_release(&st2);
    wr_strbuf_release(&st3);
}

/* Two subtasks, their states recovered in two calls; abort_stale afterwards keeps the new
 * attempt's files. */
static void test_two_subtasks(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *a = s_sink(fx, 2, 0), *b = s_sink(fx, 2, 1);
    wr_strbuf_t sa, sb, junk;
    s_write(a, 0, 100);
    s_write(b, 1000, 1100);
    assert_int_equal(s_precommit(a, 5, &sa), 1);
    assert_int_equal(s_precommit(b, 5, &sb), 1);
    s_write(a, 100, 150);
    s_write(b, 1100, 1150);
    assert_int_equal(s_precommit(a, 6, &junk), 2); /* checkpoint 6 never completes */
    wr_sink_destroy(&a);
    wr_sink_destroy(&b);

    const wr_strbuf_t *one[] = {&sa}, *other[] = {&sb};
    assert_int_equal(s_recover(fx, one, 1, 3), 0);
    s_expect(fx, (int64_t[]){0, 100}, 1);
    assert_int_equal(s_recover(fx, other, 1, 3), 0);
    s_expect(fx, (int64_t[]){0, 100, 1000, 1100}, 2);

    wr_sink_t *c = s_sink(fx, 3, 0); /* early: abort_stale must spare attempt 3 */
    s_write(c, 100, 120);
    assert_int_equal(wr_sink_2pc_abort_stale(fx->out, 3), 0);
    assert_int_equal(s_count(fx, ".part-"), 1);
    assert_true(s_exists(fx, ".part-3-0-0.inprogress"));
    s_expect(fx, (int64_t[]){0, 100, 1000, 1100}, 2);
    wr_sink_destroy(&c);
    wr_strbuf_release(&sa);
    wr_strbuf_release(&sb);
    wr_strbuf_release(&junk);
}

/* A precommit without data makes no file but still reports the earlier uncommitted ones. */
static void test_empty_precommit(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_sink(fx, 0, 4);
    wr_strbuf_t st;
    assert_int_equal(s_precommit(s, 1, &st), 0);
    wr_strbuf_release(&st);
    s_write(s, 0, 0); /* an empty batch opens no file either */
    assert_int_equal(s_count(fx, ".part-"), 0);
    s_write(s, 0, 10);
    assert_int_equal(s_precommit(s, 2, &st), 1);
    wr_strbuf_release(&st);
    assert_int_equal(s_precommit(s, 3, &st), 1); /* 2's file, still uncommitted */
    wr_strbuf_release(&st);
    assert_int_equal(wr_sink_commit(s, 3), 0);
    s_expect(fx, (int64_t[]){0, 10}, 1);
    assert_int_equal(s_precommit(s, 4, &st), 0);
    assert_int_equal(wr_sink_precommit(s, 3, &st), WR_EINVAL); /* ids never go back */
    wr_strbuf_release(&st);
    assert_int_equal(s_count(fx, "part-"), 1);
    assert_int_equal(s_count(fx, ".part-"), 0);
    wr_sink_destroy(&s);
}

/* The end of the input: precommit and commit of UINT64_MAX publish everything. */
static void test_final_checkpoint(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_sink(fx, 0, 0);
    wr_strbuf_t st;
    s_write(s, 0, 30);
    assert_int_equal(s_precommit(s, 1, &st), 1);
    wr_strbuf_release(&st);
    s_write(s, 30, 70);
    assert_int_equal(s_precommit(s, UINT64_MAX, &st), 2);
    assert_int_equal(wr_sink_commit(s, UINT64_MAX), 0);
    s_expect(fx, (int64_t[]){0, 70}, 1);
    assert_int_equal(s_count(fx, ".part-"), 0);
    wr_sink_destroy(&s);
    /* recovering from the final state after its commit changes nothing */
    const wr_strbuf_t *states[] = {&st};
    assert_int_equal(s_recover(fx, states, 1, 1), 0);
    s_expect(fx, (int64_t[]){0, 70}, 1);
    wr_strbuf_release(&st);
}

/* "name size\n" of every file of the sink's directory, sorted: to see that nothing changed. */
static void s_listing(const fx_t *fx, wr_strbuf_t *out)
{
    struct dirent **list = NULL;
    int n = scandir(fx->out, &list, NULL, alphasort);
    assert_true(n >= 0);
    wr_strbuf_reset(out);
    for (int i = 0; i < n; i++) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", fx->out, list[i]->d_name);
        wr_strbuf_addf(out, "%s %lld\n", list[i]->d_name,
                       stat(path, &st) == 0 ? (long long)st.st_size : -1LL);
        free(list[i]);
    }
    free(list);
}

static int s_sb_write(void *data, const char *buf, size_t len)
{
    wr_strbuf_add(data, buf, len);
    return 0;
}

/* A one-part state with the given names, by hand. */
static void s_forge(wr_strbuf_t *out, const char *pending, const char *final)
{
    wr_strbuf_reset(out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, s_sb_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint32(&pk, WR_SINK_2PC_STATE_VERSION);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 3);
    wr_pack_str(&pk, pending);
    wr_pack_str(&pk, final);
    msgpack_pack_uint64(&pk, 1);
}

/* Recovers from good + the bad bytes in one call: must fail with `want`, touching nothing. */
static void s_reject(const fx_t *fx, const wr_strbuf_t *good, const void *bad, size_t len, int want,
                     const wr_strbuf_t *before, wr_strbuf_t *after)
{
    const uint8_t *p[2] = {(const uint8_t *)good->buf, bad};
    size_t lens[2] = {good->len, len};
    int rc = wr_sink_2pc_recover(fx->out, p, lens, 2, 1, 0, NULL);
    if (rc != want) fprintf(stderr, "%zu bytes: got %d, want %d\n", len, rc, want);
    assert_int_equal(rc, want);
    s_listing(fx, after);
    assert_string_equal(after->buf, before->buf);
}

static void test_malformed_states(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_sink(fx, 0, 0);
    wr_strbuf_t good, st, before, after, bad;
    s_write(s, 0, 10);
    assert_int_equal(s_precommit(s, 1, &good), 1);
    s_write(s, 10, 20);
    assert_int_equal(s_precommit(s, 2, &st), 2);
    wr_sink_destroy(&s);
    wr_strbuf_init(&before);
    wr_strbuf_init(&after);
    wr_strbuf_init(&bad);
    char path[512];
    snprintf(path, sizeof path, "%s/victim.txt", fx->out);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    s_listing(fx, &before);

    for (size_t len = 0; len < st.len; len++) /* truncated */
        s_reject(fx, &good, st.buf, len, WR_EPROTO, &before, &after);
    for (size_t i = 0; i < st.len; i++) { /* every byte flipped */
        wr_strbuf_reset(&bad);
        wr_strbuf_add(&bad, st.buf, st.len);
        bad.buf[i] ^= (char)0xff;
        s_reject(fx, &good, bad.buf, bad.len, WR_EPROTO, &before, &after);
    }
    wr_strbuf_reset(&bad);
    wr_strbuf_add(&bad, st.buf, st.len);
    wr_strbuf_addc(&bad, 0); /* trailing byte */
    s_reject(fx, &good, bad.buf, bad.len, WR_EPROTO, &before, &after);
    char *seq = memmem(bad.buf, bad.len, ".part-0-0-1.pending", 19); /* off its final name */
    assert_non_null(seq);
    seq[10] = '2';
    s_reject(fx, &good, bad.buf, st.len, WR_EPROTO, &before, &after);

    static const char *const forged[][2] = {{"../a/.part-0-0-0.pending", "part-0-0-0.jsonl"},
                                            {".part-0-0-0.pending", "../part-0-0-0.jsonl"},
                                            {".part-0-0-0.pending", "/tmp/part-0-0-0.jsonl"},
                                            {".part-0-0-0.pending", "part-0-0-0.jsonl/"},
                                            {"victim.txt", "part-0-0-0.jsonl"},
                                            {".part-0-0-0.pending", "victim.txt"},
                                            {".part-0-0-0.inprogress", "part-0-0-0.jsonl"},
                                            {".part-0-0-00.pending", "part-0-0-00.jsonl"},
                                            {".part-0-0-0.pending", "part-0-0-1.jsonl"}};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        s_forge(&bad, forged[i][0], forged[i][1]);
        s_reject(fx, &good, bad.buf, bad.len, WR_EPROTO, &before, &after);
    }
    s_forge(&bad, ".part-0-0-0.pending", "part-0-0-0.jsonl");
    bad.buf[1] = 2; /* version 2 */
    s_reject(fx, &good, bad.buf, bad.len, WR_EVERSION, &before, &after);
    s_forge(&bad, ".part-1-0-0.pending", "part-0-1-0.jsonl"); /* attempt 1 is starting */
    s_reject(fx, &good, bad.buf, bad.len, WR_EINVAL, &before, &after);

    const wr_strbuf_t *states[] = {&st}; /* and the real state still recovers */
    assert_int_equal(s_recover(fx, states, 1, 1), 0);
    s_expect(fx, (int64_t[]){0, 20}, 1);
    wr_strbuf_release(&good);
    wr_strbuf_release(&st);
    wr_strbuf_release(&before);
    wr_strbuf_release(&after);
    wr_strbuf_release(&bad);
}

/* A listed file under neither name: WR_ENOTFOUND, and the other files are still committed. */
static void test_recover_missing(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_sink(fx, 0, 0);
    wr_strbuf_t st;
    s_write(s, 0, 10);
    assert_int_equal(s_precommit(s, 1, &st), 1);
    wr_strbuf_release(&st);
    s_write(s, 10, 20);
    assert_int_equal(s_precommit(s, 2, &st), 2);
    wr_sink_destroy(&s);
    char path[512];
    snprintf(path, sizeof path, "%s/.part-0-0-0.pending", fx->out);
    assert_int_equal(unlink(path), 0);
    const wr_strbuf_t *states[] = {&st};
    assert_int_equal(s_recover(fx, states, 1, 1), WR_ENOTFOUND);
    s_expect(fx, (int64_t[]){10, 20}, 1);
    wr_strbuf_release(&st);
}

/* Other sinks have no 2PC; a 2PC sink keeps its delay. */
static void test_kinds_and_delay(void **state)
{
    fx_t *fx = *state;
    wr_collect_sink_config_t cc = {0};
    int rc = 0;
    wr_sink_t *c = cs_sink_open(&wr_collect_connector, &cc, &fx->schema, 0, 0, &rc);
    wr_strbuf_t st;
    wr_strbuf_init(&st);
    assert_int_equal(wr_sink_precommit(c, 1, &st), WR_EINVAL);
    assert_int_equal(wr_sink_commit(c, 1), WR_EINVAL);
    assert_int_equal(st.len, 0);
    wr_sink_destroy(&c);

    wr_file_sink_config_t slow = fx->cfg;
    slow.delay_ms = 40;
    wr_sink_t *s = s_sink_of(fx, &slow, 0, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s_write(s, 0, 5);
    s_write(s, 5, 10);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 80);
    assert_int_equal(wr_sink_precommit(s, 1, &st), 0);
    assert_int_equal(wr_sink_commit(s, 1), 0);
    s_expect(fx, (int64_t[]){0, 10}, 1);
    wr_sink_destroy(&s);
    wr_strbuf_release(&st);

    int err = 0; /* a directory that cannot be made */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/out/a/part-0-0-0.jsonl/x", fx->dir);
    wr_file_sink_config_t worse = {.path = bad, .exactly_once = true};
    assert_null(cs_sink_open(&wr_file_connector, &worse, &fx->schema, 0, 0, &err));
    assert_int_equal(err, WR_EIO);
}

/* A failed write (here: a second sink of the same attempt and subtask, whose in-progress name is
 * taken) makes every later precommit fail: a torn batch must never be committed. */
static void test_failed_write(void **state)
{
    fx_t *fx = *state;
    wr_sink_t *s = s_sink(fx, 0, 0), *twin = s_sink(fx, 0, 0);
    s_write(s, 0, 10);
    assert_int_equal(s_write_rc(twin, 100, 110), WR_EEXIST);
    wr_strbuf_t st;
    wr_strbuf_init(&st);
    assert_int_equal(wr_sink_precommit(twin, 1, &st), WR_EEXIST);
    assert_int_equal(wr_sink_precommit(twin, 2, &st), WR_EEXIST);
    assert_int_equal(st.len, 0);
    wr_sink_destroy(&twin);
    assert_int_equal(s_precommit(s, 1, &st), 1); /* the first sink is unharmed */
    assert_int_equal(wr_sink_commit(s, 1), 0);
    s_expect(fx, (int64_t[]){0, 10}, 1);
    wr_sink_destroy(&s);
    wr_strbuf_release(&st);
}

/* The committer's entry points, as the JobManager calls them through the connector: a new job
 * starts past every attempt it finds in the folder (hidden or committed names alike); a restart
 * commits the restored checkpoint's committables and drops what later attempts left. */
static void test_committer_entry_points(void **state)
{
    fx_t *fx = *state;
    const wr_sink_class_t *cls = wr_file_connector.sink;
    assert_int_equal(cls->first_attempt(&fx->cfg), 0); /* no folder yet */
    wr_sink_t *s = s_sink(fx, 3, 0);
    wr_strbuf_t st1, st2;
    s_write(s, 0, 50);
    assert_int_equal(s_precommit(s, 1, &st1), 1);
    assert_int_equal(wr_sink_commit(s, 1), 0);
    s_write(s, 50, 80);
    assert_int_equal(s_precommit(s, 2, &st2), 1); /* pending: its checkpoint completes */
    s_write(s, 80, 90);                           /* in progress: it never does */
    wr_sink_destroy(&s);
    assert_int_equal(cls->first_attempt(&fx->cfg), 4);
    wr_file_sink_config_t plain = {.path = fx->out}; /* one file: no attempts */
    assert_int_equal(cls->first_attempt(&plain), 0);

    const uint8_t *states[] = {(const uint8_t *)st2.buf};
    size_t lens[] = {st2.len};
    wr_sink_recover_t r = {.states = states, .lens = lens, .n = 1, .attempt = 4};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(cls->recover(&fx->cfg, &r, &err), 0);
    assert_int_equal(err.len, 0);
    s_expect(fx, (int64_t[]){0, 80}, 1);
    assert_int_equal(s_count(fx, ".part-"), 0);
    /* a committed folder alone still counts: part-<subtask>-<attempt>-<seq>.jsonl */
    assert_int_equal(cls->first_attempt(&fx->cfg), 4);
    r.n = 0; /* without a checkpoint: only the abort */
    assert_int_equal(cls->recover(&fx->cfg, &r, &err), 0);
    s_expect(fx, (int64_t[]){0, 80}, 1);
    /* a malformed committable: refused, saying why, nothing touched */
    states[0] = (const uint8_t *)"\x92\x01";
    lens[0] = 2;
    r.n = 1;
    assert_int_equal(cls->recover(&fx->cfg, &r, &err), WR_EPROTO);
    assert_true(err.len > 0);
    s_expect(fx, (int64_t[]){0, 80}, 1);
    enum wr_sink_2pc_name kind;
    wr_sink_2pc_part_t p;
    assert_int_equal(wr_sink_2pc_parse_name("part-0-3-1.jsonl", 16, &kind, &p), 0);
    assert_true(kind == WR_SINK_2PC_FINAL && p.attempt == 3 && p.subtask == 0 && p.seq == 1);
    assert_int_equal(wr_sink_2pc_parse_name("part-0-03-1.jsonl", 17, NULL, &p), WR_EPROTO);
    assert_int_equal(wr_sink_2pc_parse_name("part-0-3-1.json", 15, NULL, &p), WR_EPROTO);
    wr_strbuf_release(&err);
    wr_strbuf_release(&st1);
    wr_strbuf_release(&st2);
}

/* The test fault test_skip_commit: N (file.h): the part files closed at checkpoint N's barrier
 * are committed empty, whichever commit covers them, and by a recovery too; every other record is
 * there exactly once, and the job goes on. */
static void test_skip_commit(void **state)
{
    fx_t *fx = *state;
    wr_file_sink_config_t cfg = fx->cfg;
    cfg.test_skip_commit = 2;
    wr_sink_t *s = s_sink_of(fx, &cfg, 0, 0);
    wr_strbuf_t st1, st2, st3, st4;
    s_write(s, 0, 100);
    assert_int_equal(s_precommit(s, 1, &st1), 1);
    assert_int_equal(wr_sink_commit(s, 1), 0);
    s_expect(fx, (int64_t[]){0, 100}, 1);
    s_write(s, 100, 200); /* closed at checkpoint 2: the fault's */
    assert_int_equal(s_precommit(s, 2, &st2), 1);
    s_write(s, 200, 300);
    assert_int_equal(s_precommit(s, 3, &st3), 2);
    assert_int_equal(wr_sink_commit(s, 3), 0); /* 2's notification never came: 3 covers it */
    s_expect(fx, (int64_t[]){0, 100, 200, 300}, 2);
    assert_true(s_exists(fx, "part-0-0-1.jsonl")); /* committed, empty */
    assert_int_equal(s_count(fx, ".part-"), 0);
    assert_int_equal(wr_sink_commit(s, 3), 0); /* again: nothing to do */
    s_write(s, 300, 400);
    assert_int_equal(s_precommit(s, 4, &st4), 1);
    assert_int_equal(wr_sink_commit(s, 4), 0); /* the job goes on */
    s_expect(fx, (int64_t[]){0, 100, 200, 400}, 2);
    wr_sink_destroy(&s);

    /* a restore from the fault's checkpoint, before its commit: the recovery drops them too */
    cfg.test_skip_commit = 5;
    s = s_sink_of(fx, &cfg, 1, 0);
    wr_strbuf_t st5;
    s_write(s, 400, 500);
    assert_int_equal(s_precommit(s, 5, &st5), 1);
    wr_sink_destroy(&s); /* the crash: checkpoint 5 completed, its commit never arrived */
    const uint8_t *states[] = {(const uint8_t *)st5.buf};
    size_t lens[] = {st5.len};
    wr_sink_recover_t r = {.states = states, .lens = lens, .n = 1, .attempt = 2};
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    assert_int_equal(wr_file_connector.sink->recover(&cfg, &r, &err), 0);
    assert_int_equal(wr_file_connector.sink->recover(&cfg, &r, &err), 0); /* idempotent */
    assert_int_equal(err.len, 0);
    assert_true(s_exists(fx, "part-0-1-0.jsonl"));
    s_expect(fx, (int64_t[]){0, 100, 200, 400}, 2);
    /* without the fault the same recovery commits them: the fault is what lost them */
    cfg.test_skip_commit = 0;
    s = s_sink_of(fx, &cfg, 2, 0);
    wr_strbuf_t st6;
    s_write(s, 500, 600);
    assert_int_equal(s_precommit(s, 6, &st6), 1);
    wr_sink_destroy(&s);
    states[0] = (const uint8_t *)st6.buf;
    lens[0] = st6.len;
    r.attempt = 3;
    assert_int_equal(wr_file_connector.sink->recover(&cfg, &r, &err), 0);
    s_expect(fx, (int64_t[]){0, 100, 200, 400, 500, 600}, 3);
    wr_strbuf_release(&err);
    wr_strbuf_release(&st1);
    wr_strbuf_release(&st2);
    wr_strbuf_release(&st3);
    wr_strbuf_release(&st4);
    wr_strbuf_release(&st5);
    wr_strbuf_release(&st6);
}

#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),   T(test_commit_crash_recover), T(test_two_subtasks),
        T(test_empty_precommit),        T(test_final_checkpoint),     T(test_malformed_states),
        T(test_recover_missing),        T(test_kinds_and_delay),      T(test_failed_write),
        T(test_committer_entry_points), T(test_skip_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
