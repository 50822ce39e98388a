/* The REST API's bearer tokens (tokens.h). */
#include "actors/rest/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/log.h"

#define S_FILE      "rest-tokens"
#define S_MAX_LINES 1024
#define S_MAX_FILE  (S_MAX_LINES * 128)

typedef struct {
    char name[WR_KEYS_NAME_MAX];
    wr_role_t role;
    char token[WR_REST_TOKEN_LEN + 1];
} s_line_t;

struct wr_rest_tokens {
    pthread_mutex_t lock;
    char *path;
    struct stat seen; /* the file as last read (st_ino 0: never read) */
    s_line_t *lines;
    size_t n;
};

static bool s_token_valid(const char *s, size_t len)
{
    if (len != WR_REST_TOKEN_LEN) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* One line "NAME ROLE TOKEN" into *l. */
static bool s_parse_line(char *text, s_line_t *l)
{
    char *save = NULL, *name = strtok_r(text, " \t", &save), *role = strtok_r(NULL, " \t", &save),
         *token = strtok_r(NULL, " \t", &save);
    if (!token || strtok_r(NULL, " \t", &save) || !wr_keys_name_valid(name) ||
        !wr_role_parse(role, &l->role) || (l->role != WR_ROLE_ADMIN && l->role != WR_ROLE_VIEWER) ||
        !s_token_valid(token, strlen(token)))
        return false;
    snprintf(l->name, sizeof l->name, "%s", name);
    memcpy(l->token, token, WR_REST_TOKEN_LEN + 1);
    return true;
}

/* Reads the file again if it changed since (lock held). A file that cannot be read leaves an
 * empty list. */
static void s_reload(wr_rest_tokens_t *t)
{
    struct stat st;
    if (stat(t->path, &st)) memset(&st, 0, sizeof st);
    if (st.st_ino == t->seen.st_ino && st.st_size == t->seen.st_size &&
        st.st_mtim.tv_sec == t->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == t->seen.st_mtim.tv_nsec)
        return;
    t->seen = st;
    t->n = 0;
    if (!st.st_ino) return;
    if (st.st_mode & 077)
        wr_warn("rest: %s can be read by others than its owner (chmod 600 it)", t->path);
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    int rc = wr_fs_read(t->path, S_MAX_FILE, &text);
    if (rc)
        wr_warn("rest: cannot read %s: %s; no REST token is accepted", t->path, wr_strerror(rc));
    size_t line_no = 0;
    for (char *save = NULL, *line = rc ? NULL : strtok_r(text.buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0') continue;
        if (t->n == S_MAX_LINES || !s_parse_line(line, &t->lines[t->n])) {
            wr_warn("rest: %s:%zu: not NAME ROLE TOKEN (role admin or viewer, a token of %d hex "
                    "digits), or more than %d lines: skipped",
                    t->path, line_no, WR_REST_TOKEN_LEN, S_MAX_LINES);
            continue;
        }
        t->n++;
    }
    wr_strbuf_release(&text);
}

/* The list in the file at path (taken: freed here on failure). */
static wr_rest_tokens_t *s_new(char *path)
{
    wr_rest_tokens_t *t = path ? calloc(1, sizeof *t) : NULL;
    if (!t || !(t->lines = calloc(S_MAX_LINES, sizeof *t->lines))) {
        free(t);
        free(path);
        return NULL;
    }
    t->path = path;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

wr_rest_tokens_t *wr_rest_tokens_open(const char *keys_dir)
{
    return s_new(wr_fs_join(keys_dir, S_FILE));
}

void wr_rest_tokens_destroy(wr_rest_tokens_t **tp)
{
    wr_rest_tokens_t *t = *tp;
    if (!t) return;
    pthread_mutex_destroy(&t->lock);
    free(t->lines);
    free(t->path);
    free(t);
    *tp = NULL;
}

/* a == b for WR_REST_TOKEN_LEN bytes, in a time that does not depend on where they differ */
static bool s_same(const char *a, const char *b)
{
    unsigned char d = 0;
    for (size_t i = 0; i < WR_REST_TOKEN_LEN; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

bool wr_rest_tokens_check(wr_rest_tokens_t *t, const char *authorization, wr_role_t *role,
                          char name[WR_KEYS_NAME_MAX])
{
    static const char bearer[] = "Bearer ";
    if (!authorization || strncmp(authorization, bearer, sizeof bearer - 1)) return false;
    const char *token = authorization + sizeof bearer - 1;
    if (!s_token_valid(token, strlen(token))) return false;
    bool found = false;
    pthread_mutex_lock(&t->lock);
    s_reload(t);
    for (size_t i = 0; i < t->n; i++) {
        if (s_same(t->lines[i].token, token) && !found) {
            found = true;
            *role = t->lines[i].role;
            memcpy(name, t->lines[i].name, WR_KEYS_NAME_MAX);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

/* Whether the list at path has a line for name. */
static bool s_listed(const char *path, const char *name)
{
    wr_rest_tokens_t *t = s_new(strdup(path));
    if (!t) return false;
    bool found = false;
    s_reload(t);
    for (size_t i = 0; i < t->n && !found; i++)
        found = !strcmp(t->lines[i].name, name);
    wr_rest_tokens_destroy(&t);
    return found;
}

/* Writes text to path (made with mode 0600 if missing) after its contents (flag O_APPEND) or
 * instead (O_TRUNC). */
static int s_write(const char *path, const char *text, int flag)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flag, 0600);
    if (fd < 0) return wr_fs_errno(errno);
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int rc = w == (ssize_t)len ? 0 : WR_EIO;
    if (close(fd) && !rc) rc = WR_EIO;
    return rc;
}

int wr_rest_tokens_add(const char *keys_dir, const char *name, wr_role_t role, bool *made,
                       char *path, wr_strbuf_t *err)
{
    *made = false;
    char list[512], own[512];
    if ((size_t)snprintf(list, sizeof list, "%s/%s", keys_dir, S_FILE) >= sizeof list ||
        (size_t)snprintf(own, sizeof own, "%s/secret/%s.rest-token", keys_dir, name) >=
            sizeof own) {
        wr_strbuf_addf(err, "%s: the path of its REST token is too long", keys_dir);
        return WR_ETOOBIG;
    }
    if (path) snprintf(path, 512, "%s", own);
    if (s_listed(list, name)) return 0;
    unsigned char raw[WR_REST_TOKEN_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        wr_strbuf_addf(err, "no random bytes for a REST token: %s", strerror(errno));
        return WR_EIO;
    }
    char token[WR_REST_TOKEN_LEN + 2];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    token[WR_REST_TOKEN_LEN] = '\n';
    token[WR_REST_TOKEN_LEN + 1] = '\0';
    char line[WR_KEYS_NAME_MAX + 32 + sizeof token];
    snprintf(line, sizeof line, "%s %s %s", name, wr_role_name(role), token);
    int rc = s_write(own, token, O_TRUNC);
    if (!rc) rc = s_write(list, line, O_APPEND);
    if (rc) {
        wr_strbuf_addf(err, "cannot write %s's REST token into %s: %s", name, keys_dir,
                       wr_strerror(rc));
        return rc;
    }
    *made = true;
    return 0;
}
