/* libFuzzer target: the REST API's tokens (actors/rest/tokens.h), both of their inputs from
 * outside: an Authorization header from the network, and the tokens file. The first byte picks.
 *
 *   - even: the rest is the header, checked against a list of one admin token: true exactly for
 *     "Bearer " and that token, and then with the admin's role and name
 *   - odd: the rest is the file; every token of the fuzzed file is tried in a header: whatever
 *     is accepted is a 64-hex-digit token that is in the file, with the role admin or viewer and
 *     a valid name; a token the file does not hold is refused
 *
 * Checks also: no crash, no read past the input, nothing leaked (ASan). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/rest/tokens.h"

#define S_TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A folder of this process's for the tokens file (made once, removed at exit; a fuzz target's
 * only state). */
static char s_folder[64];

static void s_remove_folder(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/rest-tokens", s_folder);
    unlink(path);
    rmdir(s_folder);
}

static const char *s_dir(void)
{
    if (!s_folder[0]) {
        setenv("WEIR_LOG", "error", 1); /* (a bad line's warning, every run) */
        snprintf(s_folder, sizeof s_folder, "/tmp/weir-fuzz-tokens-XXXXXX");
        if (!mkdtemp(s_folder)) abort();
        atexit(s_remove_folder);
    }
    return s_folder;
}

static void s_write(const char *dir, const void *bytes, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/rest-tokens", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (len && write(fd, bytes, len) != (ssize_t)len) || close(fd)) abort();
}

static void s_header(const char *dir, const uint8_t *data, size_t size)
{
    static const char line[] = "ops admin " S_TOKEN "\n";
    s_write(dir, line, sizeof line - 1);
    char *header = malloc(size + 1);
    if (!header) return;
    memcpy(header, data, size);
    header[size] = '\0';
    wr_rest_tokens_t *t = wr_rest_tokens_open(dir);
    if (!t) abort();
    wr_role_t role;
    char name[WR_KEYS_NAME_MAX];
    bool ok = wr_rest_tokens_check(t, header, &role, name);
    if (ok != !strcmp(header, "Bearer " S_TOKEN)) abort();
    if (ok && (role != WR_ROLE_ADMIN || strcmp(name, "ops"))) abort();
    wr_rest_tokens_destroy(&t);
    free(header);
}

static void s_file(const char *dir, const uint8_t *data, size_t size)
{
    s_write(dir, data, size);
    wr_rest_tokens_t *t = wr_rest_tokens_open(dir);
    if (!t) abort();
    wr_role_t role;
    char name[WR_KEYS_NAME_MAX], header[8 + WR_REST_TOKEN_LEN];
    /* every run of 64 bytes of the file, as a token */
    for (size_t at = 0; at + WR_REST_TOKEN_LEN <= size; at++) {
        snprintf(header, sizeof header, "Bearer %.*s", WR_REST_TOKEN_LEN, (const char *)data + at);
        if (strlen(header) != 7 + WR_REST_TOKEN_LEN) continue; /* a NUL inside */
        if (!wr_rest_tokens_check(t, header, &role, name)) continue;
        for (size_t i = 7; header[i]; i++)
            if (!strchr("0123456789abcdef", header[i])) abort();
        if ((role != WR_ROLE_ADMIN && role != WR_ROLE_VIEWER) || !wr_keys_name_valid(name)) abort();
    }
    /* a token the file does not hold is refused */
    bool has =
        size >= WR_REST_TOKEN_LEN &&
        memmem(data, size, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
               WR_REST_TOKEN_LEN);
    if (!has &&
        wr_rest_tokens_check(t,
                             "Bearer "
                             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                             &role, name))
        abort();
    wr_rest_tokens_destroy(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *dir = s_dir();
    if (data[0] % 2 == 0)
        s_header(dir, data + 1, size - 1);
    else
        s_file(dir, data + 1, size - 1);
    return 0;
}
