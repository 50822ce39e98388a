#include "bus/keys.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/log.h"

#define S_MAX_CERTS 4096 /* public certificates read from one folder */

struct wr_keys {
    char dir[512];
    wr_key_t self;
    char self_secret[WR_KEY_TXT];
    wr_key_t *certs;
    size_t ncerts;
    struct timespec mtime; /* of public/ when it was read */
    ino_t ino;
};

static const char *const s_roles[] = {
    [WR_ROLE_LOCAL] = "local",           [WR_ROLE_OPEN] = "open",
    [WR_ROLE_JOBMANAGER] = "jobmanager", [WR_ROLE_TASKMANAGER] = "taskmanager",
    [WR_ROLE_ADMIN] = "admin",           [WR_ROLE_VIEWER] = "viewer",
};

const char *wr_role_name(wr_role_t role)
{
    return (size_t)role < sizeof s_roles / sizeof s_roles[0] ? s_roles[role] : "?";
}

bool wr_role_parse(const char *text, wr_role_t *out)
{
    for (wr_role_t r = WR_ROLE_JOBMANAGER; r <= WR_ROLE_VIEWER; r++)
        if (text && !strcmp(text, s_roles[r])) {
            *out = r;
            return true;
        }
    return false;
}

bool wr_keys_name_valid(const char *name)
{
    return name && strlen(name) < WR_KEYS_NAME_MAX && wr_node_id_valid(name) && !strchr(name, '.');
}

static bool s_is_node(wr_role_t r)
{
    return r == WR_ROLE_JOBMANAGER || r == WR_ROLE_TASKMANAGER;
}

/* Reads the certificate in file path (with its secret when path_secret exists) into *k and, when
 * secret is not NULL, its secret key. False when it is no valid weir certificate. */
static bool s_load(const char *path, wr_key_t *k, char *secret)
{
    zcert_t *c = zcert_load(path);
    if (!c) return false;
    const char *name = zcert_meta(c, "name"), *role = zcert_meta(c, "role");
    bool ok = wr_keys_name_valid(name) && wr_role_parse(role, &k->role);
    if (ok) {
        snprintf(k->name, sizeof k->name, "%s", name);
        snprintf(k->public_txt, sizeof k->public_txt, "%s", zcert_public_txt(c));
    }
    if (ok && secret) {
        const char *s = zcert_secret_txt(c);
        /* a public-only file loads with an all-zero secret key */
        ok = s && strlen(s) == WR_KEY_TXT - 1 &&
             strcmp(s, "0000000000000000000000000000000000000000");
        if (ok) snprintf(secret, WR_KEY_TXT, "%s", s);
    }
    zcert_destroy(&c);
    return ok;
}

/* Makes path and any missing parent, each mode 0700. */
static int s_mkdir(const char *path, wr_strbuf_t *err)
{
    char p[600];
    snprintf(p, sizeof p, "%s", path);
    for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(p, 0700) && errno != EEXIST) break;
        *slash = '/';
    }
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    wr_strbuf_addf(err, "cannot make %s: %s", path, strerror(errno));
    return WR_EIO;
}

int wr_keys_generate(const char *dir, const char *name, wr_role_t role, bool *made,
                     wr_strbuf_t *err)
{
    *made = false;
    if (!wr_keys_name_valid(name)) {
        wr_strbuf_addf(err,
                       "'%s' cannot name a key: 1 to %d characters of A-Z a-z 0-9 _ - (no '.')",
                       name ? name : "", WR_KEYS_NAME_MAX - 1);
        return WR_EINVAL;
    }
    if (!s_is_node(role) && role != WR_ROLE_ADMIN && role != WR_ROLE_VIEWER) return WR_EINVAL;
    char pub[600], sec[620];
    int rc;
    if ((rc = s_mkdir(dir, err))) return rc;
    snprintf(pub, sizeof pub, "%s/public", dir);
    if ((rc = s_mkdir(pub, err))) return rc;
    snprintf(sec, sizeof sec, "%s/secret", dir);
    if ((rc = s_mkdir(sec, err))) return rc;
    snprintf(pub, sizeof pub, "%s/public/%s", dir, name);
    snprintf(sec, sizeof sec, "%s/secret/%s_secret", dir, name);
    wr_key_t old;
    if (access(sec, F_OK) == 0 || access(pub, F_OK) == 0) {
        if (!s_load(pub, &old, NULL)) {
            wr_strbuf_addf(err, "%s exists but is no weir certificate: remove it first", pub);
            return WR_EEXIST;
        }
        if (old.role != role) {
            wr_strbuf_addf(err, "'%s' already has a key with role %s (remove %s and %s first)",
                           name, wr_role_name(old.role), pub, sec);
            return WR_EEXIST;
        }
        return 0;
    }
    zcert_t *c = zcert_new();
    if (!c) return WR_ENOMEM;
    zcert_set_meta(c, "name", "%s", name);
    zcert_set_meta(c, "role", "%s", wr_role_name(role));
    rc = WR_EIO;
    /* the secret file is made unreadable to others before the key is in it */
    int fd = open(sec, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0 || close(fd) || zcert_save_secret(c, sec) || chmod(sec, 0600) ||
        zcert_save_public(c, pub)) {
        wr_strbuf_addf(err, "cannot write the key of '%s' in %s: %s", name, dir, strerror(errno));
        remove(sec);
        remove(pub);
    } else {
        *made = true;
        rc = 0;
    }
    zcert_destroy(&c);
    return rc;
}

/* Reads public/ into keys->certs. */
static int s_read_public(wr_keys_t *keys)
{
    char path[sizeof keys->dir + 8 + 256];
    snprintf(path, sizeof path, "%s/public", keys->dir);
    DIR *d = opendir(path);
    if (!d) return WR_ENOTFOUND;
    struct stat st;
    if (fstat(dirfd(d), &st) == 0) {
        keys->mtime = st.st_mtim;
        keys->ino = st.st_ino;
    }
    wr_key_t *certs = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < S_MAX_CERTS) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 7 && !strcmp(e->d_name + len - 7, "_secret"))) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            wr_key_t *nc = realloc(certs, cap * sizeof *nc);
            if (!nc) {
                rc = WR_ENOMEM;
                break;
            }
            certs = nc;
        }
        snprintf(path, sizeof path, "%s/public/%s", keys->dir, e->d_name);
        if (s_load(path, &certs[n], NULL))
            n++;
        else
            wr_warn("%s is no weir certificate (name and role in its metadata): ignored", path);
    }
    closedir(d);
    if (rc) {
        free(certs);
        return rc;
    }
    free(keys->certs);
    keys->certs = certs;
    keys->ncerts = n;
    return 0;
}

wr_keys_t *wr_keys_open(const char *dir, const char *self, wr_strbuf_t *err)
{
    wr_keys_t *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    snprintf(k->dir, sizeof k->dir, "%s", dir);
    char path[600];
    snprintf(path, sizeof path, "%s/secret/%s", dir, self);
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        wr_strbuf_addf(err, "no keys in %s (security.keys-dir): run `weir keygen` first", dir);
        goto fail;
    }
    if (!wr_keys_name_valid(self) || !s_load(path, &k->self, k->self_secret)) {
        wr_strbuf_addf(err,
                       "no key for '%s' in %s/secret: run `weir keygen --keys-dir %s` with "
                       "--jobmanager, --taskmanager, --admin or --viewer %s",
                       self, dir, dir, self);
        goto fail;
    }
    if (strcmp(k->self.name, self)) {
        wr_strbuf_addf(err, "%s holds the key of '%s', not of '%s'", path, k->self.name, self);
        goto fail;
    }
    if (s_read_public(k)) {
        wr_strbuf_addf(err, "cannot read %s/public: run `weir keygen --keys-dir %s`", dir, dir);
        goto fail;
    }
    return k;
fail:
    free(k);
    return NULL;
}

void wr_keys_destroy(wr_keys_t **keys)
{
    if (!keys || !*keys) return;
    free((*keys)->certs);
    free(*keys);
    *keys = NULL;
}

bool wr_keys_reload(wr_keys_t *keys)
{
    char path[600];
    snprintf(path, sizeof path, "%s/public", keys->dir);
    struct stat st;
    if (stat(path, &st)) {
        if (!keys->ncerts) return false;
        free(keys->certs); /* the folder is gone: nobody is admitted any more */
        keys->certs = NULL;
        keys->ncerts = 0;
        return true;
    }
    if (st.st_ino == keys->ino && st.st_mtim.tv_sec == keys->mtime.tv_sec &&
        st.st_mtim.tv_nsec == keys->mtime.tv_nsec)
        return false;
    return s_read_public(keys) == 0;
}

const wr_key_t *wr_keys_self(const wr_keys_t *keys)
{
    return &keys->self;
}

const char *wr_keys_self_secret(const wr_keys_t *keys)
{
    return keys->self_secret;
}

const wr_key_t *wr_keys_by_name(const wr_keys_t *keys, const char *name)
{
    for (size_t i = 0; i < keys->ncerts; i++)
        if (!strcmp(keys->certs[i].name, name)) return &keys->certs[i];
    return NULL;
}

const wr_key_t *wr_keys_by_key(const wr_keys_t *keys, const char *public_txt)
{
    for (size_t i = 0; i < keys->ncerts; i++)
        if (!strcmp(keys->certs[i].public_txt, public_txt)) return &keys->certs[i];
    return NULL;
}

bool wr_keys_may_use(const wr_key_t *k, const char *peer)
{
    size_t n = strlen(k->name);
    if (strncmp(peer, k->name, n)) return false;
    if (s_is_node(k->role)) return !peer[n] || !strcmp(peer + n, ".probe");
    return peer[n] == '.' && peer[n + 1];
}

const wr_key_t *wr_keys_for_peer(const wr_keys_t *keys, const char *peer)
{
    char name[WR_KEYS_NAME_MAX];
    size_t n = strcspn(peer, ".");
    if (n >= sizeof name) return NULL;
    memcpy(name, peer, n);
    name[n] = '\0';
    const wr_key_t *k = wr_keys_by_name(keys, name);
    return k && wr_keys_may_use(k, peer) ? k : NULL;
}

size_t wr_keys_list(const wr_keys_t *keys, const wr_key_t **out, size_t n)
{
    for (size_t i = 0; i < keys->ncerts && i < n; i++)
        out[i] = &keys->certs[i];
    return keys->ncerts;
}
