#include "bus/base/path.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"

/* Appends the components of rest (no leading '/') to out (an absolute path without a trailing
 * '/', "/" itself aside), taking "." and ".." by their text. */
static void s_append_normalised(wr_strbuf_t *out, size_t base, const char *rest)
{
    while (*rest && !out->failed) {
        const char *end = strchr(rest, '/');
        size_t n = end ? (size_t)(end - rest) : strlen(rest);
        if (n == 2 && !memcmp(rest, "..", 2)) {
            size_t last = out->len; /* just past the last '/' */
            while (last > base + 1 && out->buf[last - 1] != '/')
                last--;
            wr_strbuf_truncate(out, last - 1 > base ? last - 1 : base + 1);
        } else if (n && !(n == 1 && rest[0] == '.')) {
            if (out->buf[out->len - 1] != '/') wr_strbuf_addc(out, '/');
            wr_strbuf_add(out, rest, n);
        }
        rest += n;
        while (*rest == '/')
            rest++;
    }
}

int wr_path_canonical(const char *path, wr_strbuf_t *out)
{
    if (!path || !path[0]) return WR_EINVAL;
    char *p = strdup(path), real[PATH_MAX];
    if (!p) {
        out->failed = true;
        return WR_ENOMEM;
    }
    /* the longest prefix that resolves: p[0, cut) */
    size_t n = strlen(p), cut = n;
    int rc = 0;
    for (;;) {
        char keep = p[cut];
        p[cut] = '\0';
        bool ok = realpath(cut ? p : p[0] == '/' ? "/" : ".", real) != NULL;
        p[cut] = keep;
        if (ok) break;
        if (!cut) {
            rc = WR_EIO; /* not even the working directory (or "/") resolves */
            goto out;
        }
        const char *slash = memrchr(p, '/', cut);
        cut = slash ? (size_t)(slash - p) : 0;
    }
    size_t base = out->len;
    wr_strbuf_adds(out, real);
    const char *rest = p + cut;
    while (*rest == '/')
        rest++;
    if (!out->failed) s_append_normalised(out, base, rest);
    if (out->failed) rc = WR_ENOMEM;
out:
    free(p);
    return rc;
}

bool wr_path_under(const char *p, const char *roots)
{
    size_t plen = strlen(p);
    bool under = false;
    wr_strbuf_t root;
    wr_strbuf_init(&root);
    for (const char *r = roots; r && *r && !under;) {
        const char *end = strchr(r, ',');
        size_t n = end ? (size_t)(end - r) : strlen(r);
        const char *next = end ? end + 1 : r + n;
        while (n && (*r == ' ' || *r == '\t'))
            r++, n--;
        while (n && (r[n - 1] == ' ' || r[n - 1] == '\t'))
            n--;
        char *one = n ? strndup(r, n) : NULL;
        root.len = 0;
        if (one && !wr_path_canonical(one, &root)) {
            size_t rl = root.len;
            bool slash_root = rl == 1; /* "/" holds everything */
            under = plen >= rl && !memcmp(p, root.buf, rl) &&
                    (plen == rl || slash_root || p[rl] == '/');
        }
        free(one);
        r = next;
    }
    wr_strbuf_release(&root);
    return under;
}
