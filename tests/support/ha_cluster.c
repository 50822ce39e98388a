/* A highly available cluster of weir processes (ha_cluster.h). */
#include "tests/support/ha_cluster.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *const hc_jm_ids[HC_MAX_JMS] = {"jm-a", "jm-b", "jm-c"};

static int s_njms(const hc_cluster_t *c)
{
    return c->njms > 0 && c->njms <= HC_MAX_JMS ? c->njms : 2;
}

void hc_jm_start(hc_cluster_t *c, int i)
{
    const char *const *mine = PS_ARGV("--id", hc_jm_ids[i], "--etcd", c->etcd);
    const char **more = ps_alloc((PS_MAX_ARGS + 1) * sizeof *more);
    size_t n = ps_append(more, 0, mine);
    if (c->jm_settings) ps_append(more, n, c->jm_settings);
    c->jm[i] = pc_jm_start_at(hc_jm_ids[i], c->endpoint[i], &c->port[i], &c->jm_starts[i],
                              c->settings, more);
}

void hc_start(hc_cluster_t *c)
{
    const char **target = ps_alloc(3 * sizeof *target);
    target[0] = "--etcd";
    target[1] = c->etcd;
    c->pc.jm_target = target;
    c->pc.settings = c->settings;
    c->pc.ntms = c->ntms;
    for (int i = 0; i < s_njms(c); i++)
        hc_jm_start(c, i);
    int leader = hc_wait_leader(c, -1, HC_TAKEOVER_MS);
    if (c->ntms < 0) return;
    int ntms = c->ntms > 0 && c->ntms < PC_MAX_TMS ? c->ntms : PC_MAX_TMS;
    for (int t = 0; t < ntms; t++)
        pc_tm_start(&c->pc, t);
    for (int t = 0; t < ntms; t++)
        hc_wait_joined(c, leader, t, 1);
}

void hc_stop(hc_cluster_t *c)
{
    ps_proc_t *all[PC_MAX_TMS + HC_MAX_JMS];
    size_t n = 0;
    for (int t = 0; t < PC_MAX_TMS; t++)
        all[n++] = c->pc.tm[t];
    for (int i = 0; i < HC_MAX_JMS; i++)
        all[n++] = c->jm[i];
    pc_stop_daemons(all, n);
}

/* ---- faults ---- */

void hc_kill9(hc_cluster_t *c, int i)
{
    ps_kill9(c->jm[i]);
    ps_release(c->jm[i]);
    c->jm[i] = NULL;
}

void hc_pause(hc_cluster_t *c, int i)
{
    kill(c->jm[i]->pid, SIGSTOP);
}

void hc_resume(hc_cluster_t *c, int i)
{
    kill(c->jm[i]->pid, SIGCONT);
}

/* ---- who leads ---- */

/* The JobManager r (of `weir jobs --json`) names the leader, as hc_leader_doc. */
static int s_leader_of(const hc_cluster_t *c, ps_result_t r, const tj_value_t **doc)
{
    const tj_value_t *d = r.code == 0 ? tj_parse(r.out) : NULL;
    if (doc) *doc = d;
    const char *leader = d ? tj_str(d, "leader") : NULL;
    for (int i = 0; leader && i < s_njms(c); i++)
        if (!strcmp(leader, hc_jm_ids[i])) return i;
    return -1;
}

int hc_leader_doc(hc_cluster_t *c, const tj_value_t **doc)
{
    return s_leader_of(c, hc_cli(c, PS_ARGV("jobs", "--json")), doc);
}

int hc_leader(hc_cluster_t *c)
{
    return hc_leader_doc(c, NULL);
}

bool hc_log_leads(const hc_cluster_t *c, int i)
{
    if (!c->jm[i]) return false;
    const char *log = ps_read_file(c->jm[i]->err);
    return ps_count(log, "leading the cluster (etcd)") > ps_count(log, "no longer leading");
}

int hc_wait_leader(hc_cluster_t *c, int other, int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    for (;;) {
        ps_result_t r = hc_cli(c, PS_ARGV("jobs", "--json"));
        int leader = s_leader_of(c, r, NULL);
        if (leader >= 0 && leader != other && hc_log_leads(c, leader)) return leader;
        if (ps_now_ms() - t0 > timeout_ms)
            PS_FAIL("after %d ms no JobManager but %s leads (etcd names %s); `weir jobs --json "
                    "--etcd` exited %d:\n%s%s",
                    timeout_ms, other >= 0 ? hc_jm_ids[other] : "none",
                    leader >= 0 ? hc_jm_ids[leader] : "none", r.code, r.out, r.err);
        ps_poll_pause(100);
    }
}

int64_t hc_log_time(const hc_cluster_t *c, int i, const char *text)
{
    if (!c->jm[i]) return -1;
    const char *log = ps_read_file(c->jm[i]->err), *last = NULL;
    for (const char *p = log; (p = ps_find(p, text)); p++)
        last = p;
    while (last && last > log && last[-1] != '\n')
        last--;
    int h, m, s, ms;
    if (!last || sscanf(last, "%2d:%2d:%2d.%3d", &h, &m, &s, &ms) != 4) return -1;
    return ((h * 60LL + m) * 60 + s) * 1000 + ms;
}

int64_t hc_day_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)(ts.tv_sec % 86400) * 1000 + ts.tv_nsec / 1000000;
}

void hc_wait_joined(hc_cluster_t *c, int leader, int tm, size_t nth)
{
    c->pc.jm = c->jm[leader];
    pc_wait_joined(&c->pc, tm, nth);
    c->pc.jm = NULL;
}

/* ---- the CLI ---- */

ps_result_t hc_cli(hc_cluster_t *c, const char *const args[])
{
    return pc_cli(&c->pc, args);
}

ps_result_t hc_cli_via(hc_cluster_t *c, int i, const char *const args[])
{
    const char **target = ps_alloc(5 * sizeof *target);
    target[0] = "--jobmanager";
    target[1] = c->endpoint[i];
    target[2] = "--set";
    target[3] = ps_fmt("jobmanager.node-id=%s", hc_jm_ids[i]);
    pc_cluster_t via = {.jm_target = target};
    return pc_cli(&via, args);
}
