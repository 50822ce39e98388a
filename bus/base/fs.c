#include "bus/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/error.h"

int wr_fs_errno(int e)
{
    switch (e) {
    case ENOENT:
        return WR_ENOTFOUND;
    case EEXIST:
    case ENOTEMPTY:
        return WR_EEXIST;
    case ENOMEM:
        return WR_ENOMEM;
    default:
        return WR_EIO;
    }
}

static int s_err(void)
{
    return wr_fs_errno(errno);
}

char *wr_fs_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p) {
        memcpy(p, a, la);
        p[la] = '/';
        memcpy(p + la + 1, b, lb + 1);
    }
    return p;
}

int wr_fs_mkdirs(const char *path)
{
    if (!*path) return WR_EINVAL;
    char *p = strdup(path);
    if (!p) return WR_ENOMEM;
    int rc = 0;
    for (char *s = p + 1; !rc; s++) {
        bool last = *s == '\0';
        if (*s != '/' && !last) continue;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0755) != 0 && (errno != EEXIST || stat(p, &st) || !S_ISDIR(st.st_mode)))
            rc = errno == EEXIST ? WR_EEXIST : s_err();
        if (last) break;
        *s = '/';
    }
    free(p);
    return rc;
}

static int s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

int wr_fs_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : s_err();
    return nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : s_err();
}

int wr_fs_fsync(const char *path)
{
    int fd;
    while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (fd < 0) return s_err();
    int rc = fsync(fd) == 0 ? 0 : s_err();
    close(fd);
    return rc;
}

int wr_fs_size(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0) return s_err();
    if (!S_ISREG(st.st_mode)) return WR_EINVAL;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int s_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return s_err();
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int s_copy_fd(int in, int out)
{
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return s_err();
        if (n == 0) return 0;
        int rc = s_write_all(out, buf, (size_t)n);
        if (rc) return rc;
    }
}

int wr_fs_copy(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return s_err();
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = out < 0 ? s_err() : s_copy_fd(in, out);
    if (!rc && fsync(out) != 0) rc = s_err();
    if (out >= 0 && close(out) != 0 && !rc) rc = s_err();
    close(in);
    if (rc && out >= 0) unlink(dst);
    return rc;
}

int wr_fs_link_or_copy(const char *src, const char *dst)
{
    if (link(src, dst) == 0) return 0;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP) return s_err();
    struct stat st;
    if (lstat(dst, &st) == 0) return WR_EEXIST;
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp-%ld", dst, (long)getpid()) < 0) return WR_ENOMEM;
    int rc = wr_fs_copy(src, tmp);
    if (!rc && rename(tmp, dst) != 0) {
        rc = s_err();
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int wr_fs_read(const char *path, size_t max, wr_strbuf_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return s_err();
    int rc = 0;
    size_t start = out->len;
    for (;;) {
        if (!wr_strbuf_grow(out, 64 * 1024)) {
            rc = WR_ENOMEM;
            break;
        }
        ssize_t n = read(fd, out->buf + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = s_err();
        if (n <= 0) break;
        out->len += (size_t)n;
        out->buf[out->len] = '\0';
        if (out->len - start > max) {
            rc = WR_ETOOBIG;
            break;
        }
    }
    close(fd);
    if (rc) wr_strbuf_truncate(out, start);
    return rc;
}

int wr_fs_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char *tmp = NULL, *dst = wr_fs_join(dir, name);
    if (!dst || asprintf(&tmp, "%s/.%s.tmp-%ld", dir, name, (long)getpid()) < 0) {
        free(dst);
        return WR_ENOMEM;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? s_err() : s_write_all(fd, data, len);
    if (!rc && fsync(fd) != 0) rc = s_err();
    if (fd >= 0 && close(fd) != 0 && !rc) rc = s_err();
    if (!rc && rename(tmp, dst) != 0) rc = s_err();
    if (rc && fd >= 0) unlink(tmp);
    if (!rc) rc = wr_fs_fsync(dir);
    free(tmp);
    free(dst);
    return rc;
}
