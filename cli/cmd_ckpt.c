/* weir checkpoints JOB, weir savepoint JOB [DIR], weir stop JOB --savepoint [DIR]. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"
#include "cli/cli.h"

static const char s_usage[] =
    "usage: weir checkpoints JOB [--json] [--jobmanager ENDPOINT]\n"
    "       weir savepoint JOB [DIR] [--jobmanager ENDPOINT]\n"
    "       weir stop JOB --savepoint [DIR] [--drain] [--jobmanager ENDPOINT]\n"
    "\n"
    "checkpoints: the job's recent checkpoints: id, status, trigger time, duration, full and\n"
    "             incremental size, the longest barrier alignment; and the latest completed one\n"
    "savepoint:   takes a checkpoint now and copies it, self-contained, into DIR (default\n"
    "             state.savepoints.dir); prints its path (weir submit --from-savepoint PATH)\n"
    "stop:        a savepoint, then the job ends (FINISHED); --savepoint is required.\n"
    "             --drain: the sources stop and end event time first (Flink's --drain), so\n"
    "             every window fires and its results are committed before the job ends; such\n"
    "             a savepoint ends a job for good (restoring it is refused: its windows are\n"
    "             all fired, so every later record would be too late)\n";

typedef struct {
    wr_cli_cfg_t cc;
    bool json, savepoint, drain;
} s_opts_t;

static int s_parse(int argc, char **argv, const char *cmd, s_opts_t *o)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"savepoint", no_argument, NULL, 'p'},
                                         {"drain", no_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->cc.file = optarg; break;
        case 'S': if ((rc = wr_cli_cfg_set_arg(&o->cc, cmd, optarg))) return rc; break;
        case 'j': if ((rc = wr_cli_cfg_override(&o->cc, cmd, "jobmanager.address", optarg))) return rc; break;
        case 'J': o->json = true; break;
        case 'p': o->savepoint = true; break;
        case 'd': o->drain = true; break;
        case 'h': fputs(s_usage, stdout); return -1;
        default: fputs(s_usage, stderr); return WR_EXIT_USAGE;
        }
    }
    return WR_EXIT_OK;
}

static void s_time(int64_t ms, char *out, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(out, cap, "%H:%M:%S", &tm);
}

static void s_size(uint64_t b, char *out, size_t cap)
{
    if (b >= (1ull << 30)) snprintf(out, cap, "%.2f GB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(out, cap, "%.1f MB", (double)b / (1ull << 20));
    else if (b >= 1024) snprintf(out, cap, "%.1f kB", (double)b / 1024);
    else snprintf(out, cap, "%llu B", (unsigned long long)b);
}

/* {job, state, latest, interval_ms, checkpoints: [{id, status, kind, ...}]} as a table. */
static int s_render(const uint8_t *buf, size_t len)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, buf, len);
    uint32_t nk = 0;
    char job[32] = "", state[16] = "", latest[PATH_MAX] = "";
    int64_t interval = 0;
    wr_mp_read_map(&r, &nk);
    for (uint32_t k = 0; k < nk && !r.err; k++) {
        char key[32];
        wr_mp_read_str_copy(&r, key, sizeof key);
        if (!strcmp(key, "job")) wr_mp_read_str_copy(&r, job, sizeof job);
        else if (!strcmp(key, "state")) wr_mp_read_str_copy(&r, state, sizeof state);
        else if (!strcmp(key, "latest")) wr_mp_read_str_copy(&r, latest, sizeof latest);
        else if (!strcmp(key, "interval_ms")) wr_mp_read_int(&r, &interval);
        else if (!strcmp(key, "checkpoints")) {
            uint32_t n = 0;
            wr_mp_read_array(&r, &n);
            printf("job %s %s, checkpoints every %lld ms%s\n", job, state, (long long)interval,
                   interval ? "" : " (periodic checkpoints off)");
            printf("%6s  %-11s  %-10s  %8s  %9s  %10s  %10s  %9s  %s\n", "id", "status", "kind",
                   "trigger", "duration", "full", "incremental", "alignment", "");
            for (uint32_t i = 0; i < n && !r.err; i++) {
                uint32_t m = 0;
                uint64_t id = 0, full = 0, incr = 0;
                int64_t trig = 0, dur = 0, align = 0;
                char status[16] = "", kind[16] = "", reason[128] = "", field[32];
                wr_mp_read_map(&r, &m);
                for (uint32_t f = 0; f < m && !r.err; f++) {
                    wr_mp_read_str_copy(&r, field, sizeof field);
                    if (!strcmp(field, "id")) wr_mp_read_uint(&r, &id);
                    else if (!strcmp(field, "status")) wr_mp_read_str_copy(&r, status, sizeof status);
                    else if (!strcmp(field, "kind")) wr_mp_read_str_copy(&r, kind, sizeof kind);
                    else if (!strcmp(field, "trigger_ms")) wr_mp_read_int(&r, &trig);
                    else if (!strcmp(field, "duration_ms")) wr_mp_read_int(&r, &dur);
                    else if (!strcmp(field, "full_size")) wr_mp_read_uint(&r, &full);
                    else if (!strcmp(field, "incremental_size")) wr_mp_read_uint(&r, &incr);
                    else if (!strcmp(field, "alignment_ms")) wr_mp_read_int(&r, &align);
                    else if (!strcmp(field, "reason")) wr_mp_read_str_copy(&r, reason, sizeof reason);
                    else wr_mp_skip(&r);
                }
                char t[16], fs[24], is[24];
                s_time(trig, t, sizeof t);
                s_size(full, fs, sizeof fs);
                s_size(incr, is, sizeof is);
                printf("%6llu  %-11s  %-10s  %8s  %7lld ms  %10s  %10s  %6lld ms  %s\n",
                       (unsigned long long)id, status, kind, t, (long long)dur, fs, is, (long long)align,
                       strcmp(status, "FAILED") ? "" : reason);
            }
        } else {
            wr_mp_skip(&r);
        }
    }
    printf("latest completed: %s\n", latest[0] ? latest : "none");
    return r.err ? WR_EPROTO : 0;
}

/* Sends type with payload [job] or [job, dir, stop, drain] and handles the answer. */
static int s_run(int argc, char **argv, const char *cmd, uint16_t type)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, cmd, &o);
    if (rc) return rc < 0 ? WR_EXIT_OK : rc;
    int nargs = argc - optind;
    bool stop = !strcmp(cmd, "stop");
    if (nargs < 1 || nargs > (type == WR_MSG_SAVEPOINT_REQ ? 2 : 1) || (stop && !o.savepoint) ||
        (o.drain && !stop) || (o.savepoint && !stop)) {
        wr_cli_error(cmd, "see weir checkpoints --help",
                     stop && !o.savepoint ? "stop needs --savepoint"
                     : o.drain && !stop   ? "--drain is for weir stop"
                     : o.savepoint && !stop ? "--savepoint is for weir stop"
                                            : "expected a job id%s",
                     type == WR_MSG_SAVEPOINT_REQ ? " (and a folder)" : "");
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&o.cc, cmd, &rc);
    if (!cfg) return rc;
    char dir[PATH_MAX] = "";
    if (nargs == 2 && !realpath(argv[optind + 1], dir)) snprintf(dir, sizeof dir, "%s", argv[optind + 1]);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, type == WR_MSG_SAVEPOINT_REQ ? 4 : 1);
    wr_pack_str(&pk, argv[optind]);
    if (type == WR_MSG_SAVEPOINT_REQ) {
        wr_pack_str(&pk, dir);
        if (stop) msgpack_pack_true(&pk);
        else msgpack_pack_false(&pk);
        if (o.drain) msgpack_pack_true(&pk);
        else msgpack_pack_false(&pk);
    }
    rc = WR_EXIT_FAIL;
    wr_node_t *client = wr_cli_client(cfg, cmd, wr_config_str(cfg, "jobmanager.address"));
    wr_msg_t *reply = client ? wr_cli_ask_jm(client, cfg, cmd, type, sb.data, sb.size) : NULL;
    if (reply && type == WR_MSG_SAVEPOINT_REQ) {
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, reply->data, reply->len);
        uint32_t n = 0;
        char path[PATH_MAX];
        wr_mp_read_array(&r, &n);
        wr_mp_read_str_copy(&r, path, sizeof path);
        if (!r.err && n == 1) {
            printf("%s\n", path);
            rc = WR_EXIT_OK;
        }
    } else if (reply && o.json) {
        wr_strbuf_t out;
        wr_strbuf_init(&out);
        if (!wr_mp_to_json(reply->data, reply->len, SIZE_MAX, &out)) {
            printf("%s\n", out.buf);
            rc = WR_EXIT_OK;
        }
        wr_strbuf_release(&out);
    } else if (reply) {
        rc = s_render(reply->data, reply->len) ? WR_EXIT_FAIL : WR_EXIT_OK;
    }
    wr_msg_destroy(&reply);
    msgpack_sbuffer_destroy(&sb);
    wr_node_destroy(&client);
    wr_config_destroy(&cfg);
    return rc;
}

int wr_cmd_checkpoints(int argc, char **argv)
{
    return s_run(argc, argv, "checkpoints", WR_MSG_CKPT_LIST_REQ);
}

int wr_cmd_savepoint(int argc, char **argv)
{
    return s_run(argc, argv, "savepoint", WR_MSG_SAVEPOINT_REQ);
}

int wr_cmd_stop(int argc, char **argv)
{
    return s_run(argc, argv, "stop", WR_MSG_SAVEPOINT_REQ);
}
