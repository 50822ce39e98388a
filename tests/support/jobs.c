#include "tests/support/jobs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/strbuf.h"

void pj_cluster_start(pc_cluster_t *c, const char *const jm_settings[])
{
    static const char *const heartbeat[] = {"--set", "heartbeat.timeout=2s", NULL};
    const char **jm = ps_alloc((PS_MAX_ARGS + 1) * sizeof *jm);
    size_t n =
        ps_append(jm, 0, PS_ARGV("--set", ps_fmt("state.checkpoints.dir=%s", ps_path("ck"))));
    if (jm_settings) ps_append(jm, n, jm_settings);
    c->settings = heartbeat;
    c->jm_settings = jm;
    pc_cluster_start(c);
}

const char *pj_submit(const pc_cluster_t *c, const char *topology)
{
    ps_result_t r = pc_cli(c, PS_ARGV("submit", topology));
    char id[32];
    if (r.code != 0 || sscanf(r.out, "%31s", id) != 1)
        PS_FAIL("weir submit exited %d:\n%s%s", r.code, r.out, r.err);
    return ps_fmt("%s", id);
}

/* ---- the compact JSON the CLI prints ---- */

const char *pj_jstr(const char *json, const char *field)
{
    const char *key = ps_fmt("\"%s\":\"", field), *at = strstr(json, key);
    if (!at) return "";
    at += strlen(key);
    return ps_fmt("%.*s", (int)strcspn(at, "\""), at);
}

long long pj_jnum(const char *json, const char *field)
{
    const char *key = ps_fmt("\"%s\":", field), *at = strstr(json, key);
    return at ? strtoll(at + strlen(key), NULL, 10) : -1;
}

const char *pj_job(const pc_cluster_t *c, const char *id)
{
    ps_result_t r = pc_call(c, PS_ARGV("job", id, "--json"));
    return r.code == 0 ? r.out : "";
}

size_t pj_subtasks(const char *job, const char *state)
{
    if (!state) return ps_count(job, "{\"node\":");
    size_t n = 0;
    for (const char *p = job; (p = ps_find(p, "{\"node\":")); p++)
        n += !strcmp(pj_jstr(p, "state"), state);
    return n;
}

bool pj_all_running(const char *job)
{
    size_t subtasks = pj_subtasks(job, NULL);
    return !strcmp(pj_jstr(job, "state"), "RUNNING") && subtasks > 0 &&
           pj_subtasks(job, "running") == subtasks;
}

bool pj_hosts(const char *job, const char *node)
{
    return strstr(job, ps_fmt("{\"node\":\"%s\"", node)) != NULL;
}

const char *pj_wait_job(pc_cluster_t *c, const char *id, const char *state, long long min_attempt,
                        int timeout_ms)
{
    int64_t t0 = ps_now_ms();
    bool all = !strcmp(state, "ALL-RUNNING");
    for (;;) {
        if (c->jm && !ps_running(c->jm))
            PS_FAIL("the JobManager died (exit %d)", ps_exit_code(c->jm));
        const char *job = pj_job(c, id), *now = pj_jstr(job, "state");
        if (all ? pj_all_running(job) && pj_jnum(job, "attempt") >= min_attempt
                : !strcmp(now, state))
            return job;
        bool ended = !strcmp(now, "FINISHED") || !strcmp(now, "FAILED") || !strcmp(now, "CANCELED");
        if (ended || ps_now_ms() - t0 > timeout_ms)
            PS_FAIL("job %s is %s (%s), not %s, after %lld ms: %s", id, now[0] ? now : "unknown",
                    pj_jstr(job, "error"), state, (long long)(ps_now_ms() - t0), job);
        ps_poll_pause(50);
    }
}

void pj_wait_checkpoint(const pc_cluster_t *c, const char *id, long long n, int timeout_ms)
{
    for (int64_t t0 = ps_now_ms(); pj_jnum(pj_job(c, id), "latest_checkpoint") < n;) {
        if (ps_now_ms() - t0 > timeout_ms)
            PS_FAIL("no checkpoint %lld of job %s after %d ms", n, id, timeout_ms);
        ps_poll_pause(100);
    }
}

/* ---- an exactly-once file sink's folder ---- */

static bool s_is_part(const char *name)
{
    size_t len = strlen(name);
    return !strncmp(name, "part-", 5) && len >= 6 && !strcmp(name + len - 6, ".jsonl");
}

pj_output_t pj_committed(const char *folder)
{
    pj_output_t o = {.hidden = ""};
    /* the names first, so that a failure reading a file leaves no directory open */
    DIR *d = opendir(folder);
    if (!d) PS_FAIL("%s: %s", folder, strerror(errno));
    wr_strbuf_t parts, others;
    wr_strbuf_init(&parts);
    wr_strbuf_init(&others);
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        wr_strbuf_addf(s_is_part(e->d_name) ? &parts : &others, " %s", e->d_name);
    }
    closedir(d);
    o.hidden = ps_keep(wr_strbuf_detach(&others, NULL));
    char *names = ps_keep(wr_strbuf_detach(&parts, NULL));

    size_t cap = 0;
    for (char *save = NULL, *name = strtok_r(names, " ", &save); name;
         name = strtok_r(NULL, " ", &save)) {
        o.parts++;
        size_t n;
        char **lines = ps_lines(ps_fmt("%s/%s", folder, name), &n);
        if (o.n + n > cap) {
            cap = (o.n + n) * 2;
            char **grown = ps_alloc(cap * sizeof *grown);
            if (o.n) memcpy(grown, o.lines, o.n * sizeof *grown);
            o.lines = grown;
        }
        if (n) memcpy(o.lines + o.n, lines, n * sizeof *lines);
        o.n += n;
    }
    ps_sort_strings(o.lines, o.n);
    return o;
}

void pj_expect_same(const char *what, const pj_output_t *got, const pj_output_t *want)
{
    if (*got->hidden) PS_FAIL("%s: uncommitted files left at the end:%s", what, got->hidden);
    size_t missing = 0, extra = 0, i = 0, j = 0;
    const char *first_missing = NULL, *first_extra = NULL;
    while (i < got->n || j < want->n) {
        int c = i == got->n ? 1 : j == want->n ? -1 : strcmp(got->lines[i], want->lines[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            if (!extra++) first_extra = got->lines[i];
            i++;
        } else {
            if (!missing++) first_missing = want->lines[j];
            j++;
        }
    }
    if (missing || extra)
        PS_FAIL("%s: %zu results in %zu part files, the uninterrupted run %zu: %zu missing "
                "(first: %s), %zu extra or duplicated (first: %s)",
                what, got->n, got->parts, want->n, missing, first_missing ? first_missing : "-",
                extra, first_extra ? first_extra : "-");
}

/* ---- the windowed job of the failure tests ---- */

const char *pj_topology(const char *name, const char *out, const pj_size_t *z)
{
    char rate_field[32] = "";
    if (z->rate) snprintf(rate_field, sizeof rate_field, ", rate: %u", z->rate);
    const char *path = ps_path(ps_fmt("%s.yaml", name));
    ps_write_file(path, ps_fmt("name: %s\nparallelism: 2\nsources:\n"
                               "  - {type: generator, parallelism: %u, devices: %u, total: %llu, "
                               "jitter: 1s, late_fraction: 0, seed: 7%s}\n"
                               "key_by: device\nevent_time: {field: ts, max_out_of_orderness: 2s}\n"
                               "window: {type: sliding, size: 2min, slide: 30s}\n"
                               "aggregates:\n  n: count()\n  s: sum(temperature)\n"
                               "sinks:\n  - {type: file, path: %s, exactly_once: true}\n",
                               name, z->source_par, z->devices, z->total, rate_field, out));
    return path;
}

pj_output_t pj_local(const char *name, const char *topology, const char *out, int timeout_ms)
{
    ps_result_t r =
        ps_run(name,
               PS_ARGV("local", topology, "--set", "execution.checkpointing.interval=1s", "--set",
                       ps_fmt("state.checkpoints.dir=%s", ps_path(ps_fmt("%s-ck", name)))),
               timeout_ms);
    if (r.code != 0) PS_FAIL("weir local exited %d:\n%s", r.code, r.err);
    pj_output_t o = pj_committed(out);
    if (o.n < 1000) PS_FAIL("the uninterrupted run wrote %zu results", o.n);
    return o;
}
