/* weir keygen: a cluster's CURVE keys (bus/keys.h); and how the other commands find theirs
 * (security.curve, security.keys-dir, security.client). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/rest/tokens.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/keys.h"
#include "cli/cli.h"

#define S_MAX_KEYS 64

int wr_cli_keys_dir(const wr_config_t *cfg, char *out, size_t n)
{
    const char *dir = wr_config_str(cfg, "security.keys-dir");
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int len;
    if (dir[0])
        len = snprintf(out, n, "%s", dir);
    else if (state && state[0] == '/')
        len = snprintf(out, n, "%s/weir/keys", state);
    else if (home && home[0])
        len = snprintf(out, n, "%s/.local/state/weir/keys", home);
    else
        return WR_ENOTFOUND;
    return len > 0 && (size_t)len < n ? 0 : WR_ETOOBIG;
}

int wr_cli_secure(const wr_config_t *cfg, const char *cmd, const char *cert, wr_node_opts_t *no,
                  char *keys_dir, size_t n)
{
    no->keys_dir = NULL;
    no->cert = NULL;
    if (!wr_config_bool(cfg, "security.curve")) {
        wr_warn("weir %s: security.curve is off: the bus is NOT authenticated nor encrypted; "
                "anyone who reaches its ports controls the cluster",
                cmd);
        return WR_EXIT_OK;
    }
    if (wr_cli_keys_dir(cfg, keys_dir, n)) {
        wr_cli_error(cmd, "set security.keys-dir", "no folder for the cluster's keys (no $HOME)");
        return WR_EXIT_USAGE;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_keys_t *k = wr_keys_open(keys_dir, cert, &err);
    if (!k)
        wr_cli_error(cmd,
                     "make the keys with `weir keygen` (see --help), or set security.keys-dir; "
                     "security.curve=off runs without any authentication",
                     "%s", err.failed ? "out of memory" : err.buf);
    wr_strbuf_release(&err);
    if (!k) return WR_EXIT_FAIL;
    wr_keys_destroy(&k);
    no->keys_dir = keys_dir;
    no->cert = cert;
    return WR_EXIT_OK;
}

static const char s_usage[] =
    "usage: weir keygen [--keys-dir DIR] [--jobmanager ID]... [--taskmanager ID]...\n"
    "                   [--admin NAME]... [--viewer NAME]... [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Makes a cluster's CURVE keys: a certificate per node and per client, each naming itself and\n"
    "its role. Without a role flag: the JobManager jobmanager.node-id (jm-1), TaskManagers tm-a\n"
    "and tm-b, and the admin client security.client (admin): README's cluster on one machine.\n"
    "Keys that exist are kept, so run it again to add a node. Copy DIR/public and a node's own\n"
    "DIR/secret/ID_secret to each machine; remove DIR/public/NAME to revoke a key (nodes read\n"
    "the folder again within a second). A client (admin or viewer) also gets a token for the\n"
    "REST API (DIR/secret/NAME.rest-token; the JobManager reads DIR/rest-tokens, where removing\n"
    "its line revokes it).\n"
    "  --keys-dir DIR      where (security.keys-dir; default $XDG_STATE_HOME/weir/keys or\n"
    "                      ~/.local/state/weir/keys)\n"
    "  --jobmanager ID     a JobManager's key (role jobmanager)\n"
    "  --taskmanager ID    a TaskManager's key (role taskmanager)\n"
    "  --admin NAME        a client that may do everything (submit, cancel, stop, savepoint)\n"
    "  --viewer NAME       a client that may only look (jobs, job, actors, mailbox, checkpoints)\n";

int wr_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {WR_CLI_CONFIG_OPTIONS,
                                         {"keys-dir", required_argument, NULL, 'k'},
                                         {"jobmanager", required_argument, NULL, 'j'},
                                         {"taskmanager", required_argument, NULL, 't'},
                                         {"admin", required_argument, NULL, 'a'},
                                         {"viewer", required_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    wr_cli_cfg_t cc = {0};
    const char *names[S_MAX_KEYS];
    wr_role_t roles[S_MAX_KEYS];
    size_t n = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        wr_role_t role = WR_ROLE_LOCAL;
        switch (c) {
        case 'c':
            cc.file = optarg;
            break;
        case 'S':
            if ((rc = wr_cli_cfg_set_arg(&cc, "keygen", optarg))) return rc;
            break;
        case 'k':
            if ((rc = wr_cli_cfg_override(&cc, "keygen", "security.keys-dir", optarg))) return rc;
            break;
        case 'j':
            role = WR_ROLE_JOBMANAGER;
            break;
        case 't':
            role = WR_ROLE_TASKMANAGER;
            break;
        case 'a':
            role = WR_ROLE_ADMIN;
            break;
        case 'v':
            role = WR_ROLE_VIEWER;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return WR_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return WR_EXIT_USAGE;
        }
        if (role == WR_ROLE_LOCAL) continue;
        if (n == S_MAX_KEYS) {
            wr_cli_error("keygen", "run it more than once", "at most %d keys at a time",
                         S_MAX_KEYS);
            return WR_EXIT_USAGE;
        }
        names[n] = optarg;
        roles[n++] = role;
    }
    if (optind < argc) {
        wr_cli_error("keygen", "see weir keygen --help", "unexpected argument '%s'", argv[optind]);
        return WR_EXIT_USAGE;
    }
    wr_config_t *cfg = wr_cli_cfg_build(&cc, "keygen", &rc);
    if (!cfg) return rc;
    if (!n) {
        static const char *const tms[] = {"tm-a", "tm-b"};
        names[n] = wr_config_str(cfg, "jobmanager.node-id");
        roles[n++] = WR_ROLE_JOBMANAGER;
        for (size_t i = 0; i < 2; i++) {
            names[n] = tms[i];
            roles[n++] = WR_ROLE_TASKMANAGER;
        }
        names[n] = wr_config_str(cfg, "security.client");
        roles[n++] = WR_ROLE_ADMIN;
    }
    char dir[512];
    rc = WR_EXIT_OK;
    if (wr_cli_keys_dir(cfg, dir, sizeof dir)) {
        wr_cli_error("keygen", "use --keys-dir DIR", "no folder for the keys (no $HOME)");
        rc = WR_EXIT_USAGE;
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    for (size_t i = 0; i < n && rc == WR_EXIT_OK; i++) {
        bool made = false;
        wr_strbuf_reset(&err);
        int krc = wr_keys_generate(dir, names[i], roles[i], &made, &err);
        if (krc) {
            wr_cli_error("keygen", NULL, "%s", err.failed ? wr_strerror(krc) : err.buf);
            rc = krc == WR_EINVAL ? WR_EXIT_USAGE : WR_EXIT_FAIL;
            continue;
        }
        printf("%s %s/secret/%s_secret (%s)\n", made ? "made" : "kept", dir, names[i],
               wr_role_name(roles[i]));
        if (roles[i] != WR_ROLE_ADMIN && roles[i] != WR_ROLE_VIEWER) continue;
        char token[512];
        if ((krc = wr_rest_tokens_add(dir, names[i], roles[i], &made, token, &err))) {
            wr_cli_error("keygen", NULL, "%s", err.failed ? wr_strerror(krc) : err.buf);
            rc = WR_EXIT_FAIL;
        } else {
            printf("%s %s (its REST API token)\n", made ? "made" : "kept", token);
        }
    }
    if (rc == WR_EXIT_OK) printf("public certificates: %s/public\n", dir);
    wr_strbuf_release(&err);
    wr_config_destroy(&cfg);
    return rc;
}
