/* The job records' contract of the leadership implementations (leader.h). */
#include "tests/support/leader.h"

#include <string.h>

#include "actors/cluster/cluster.h"
#include "bus/base/error.h"

static int s_collect(void *ctx, const wr__leader_job_t *job)
{
    wr_strbuf_addf(ctx, "%s %u %s %.*s;", job->job_id, job->attempt, job->checkpoint,
                   (int)job->graph_len, (const char *)job->graph);
    return 0;
}

int tl_records(wr__leader_t *l, wr_strbuf_t *out)
{
    return wr__leader_jobs(l, s_collect, out);
}

/* Whether the call's code was want; else why says which call gave what. */
static bool s_rc(const char *call, int rc, int want, wr_strbuf_t *why)
{
    if (rc == want) return true;
    wr_strbuf_addf(why, "%s: %s, expected %s", call, rc ? wr_strerror(rc) : "0",
                   want ? wr_strerror(want) : "0");
    return false;
}

/* Whether the records read back are want. */
static bool s_read(wr__leader_t *l, const char *want, wr_strbuf_t *why)
{
    wr_strbuf_t got;
    wr_strbuf_init(&got);
    bool ok = s_rc("wr__leader_jobs", tl_records(l, &got), 0, why);
    if (ok && strcmp(got.buf, want)) {
        wr_strbuf_addf(why, "the records read back are \"%s\", expected \"%s\"", got.buf, want);
        ok = false;
    }
    wr_strbuf_release(&got);
    return ok;
}

#define S_CALL(call, want) s_rc(#call, (call), (want), why)

int tl_check_records(wr__leader_t *l, wr_actor_t *self, wr_strbuf_t *why)
{
    char long_path[WR_TASK_RESTORE_MAX + 1]; /* one byte too long for a restore path */
    memset(long_path, 'p', WR_TASK_RESTORE_MAX);
    long_path[WR_TASK_RESTORE_MAX] = '\0';
    bool ok =
        s_read(l, "", why) &&
        S_CALL(wr__leader_put_pointer(l, self, "0000000a", 1, ""), WR_ENOTFOUND) &&
        S_CALL(wr__leader_put_job(l, self, "0000000a", "graph-a", 7), 0) &&
        S_CALL(wr__leader_put_job(l, self, "0000000b", "graph-b", 7), 0) &&
        s_read(l, "0000000a 0  graph-a;0000000b 0  graph-b;", why) &&
        S_CALL(wr__leader_put_pointer(l, self, "0000000a", 3, "/ck/0000000a/chk-5"), 0) &&
        S_CALL(wr__leader_put_job(l, self, "0000000b", "graph-B", 7), 0) && /* replaced */
        s_read(l, "0000000a 3 /ck/0000000a/chk-5 graph-a;0000000b 0  graph-B;", why) &&
        S_CALL(wr__leader_remove_job(l, self, "0000000a"), 0) &&
        S_CALL(wr__leader_remove_job(l, self, "0000000a"), 0) && /* gone already: fine */
        s_read(l, "0000000b 0  graph-B;", why) &&
        S_CALL(wr__leader_put_job(l, self, "an-id-far-too-long-for-a-job", "g", 1), WR_EINVAL) &&
        S_CALL(wr__leader_put_pointer(l, self, "0000000b", 1, long_path), WR_EINVAL) &&
        s_read(l, "0000000b 0  graph-B;", why);
    return ok ? 0 : -1;
}
