/* The Kafka sink's transaction logs on disk (kafka_txnlog.h): a folder's logs of one prefix read
 * into a table, the first free attempt, and appending fsync'd lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/connectors/kafka/kafka_txnlog.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"

/* A log of the folder, by name. */
typedef struct {
    wr_kafka_logname_t name;
    char file[WR_KAFKA_TXN_NAME_MAX];
} s_log_t;

/* Writer logs first, then recover logs by attempt: a recovery's lines follow what it read. */
static int s_cmp_log(const void *a, const void *b)
{
    const wr_kafka_logname_t *x = &((const s_log_t *)a)->name, *y = &((const s_log_t *)b)->name;
    if (x->recover != y->recover) return x->recover ? 1 : -1;
    if (x->attempt != y->attempt) return x->attempt < y->attempt ? -1 : 1;
    return x->subtask < y->subtask ? -1 : x->subtask > y->subtask;
}

/* The logs of prefix in dir, sorted (*logs: the caller frees it). A missing dir has none. */
static int s_list(const char *dir, const char *prefix, s_log_t **logs, size_t *n)
{
    *logs = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : WR_EIO;
    int rc = 0;
    size_t cap = 0;
    struct dirent *e;
    while (!rc && (errno = 0, e = readdir(d))) {
        wr_kafka_logname_t l;
        size_t len = strlen(e->d_name);
        if (len >= WR_KAFKA_TXN_NAME_MAX || wr_kafka_logname_parse(prefix, e->d_name, len, &l))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            s_log_t *v = realloc(*logs, cap * sizeof *v);
            if (!v) {
                rc = WR_ENOMEM;
                break;
            }
            *logs = v;
        }
        (*logs)[*n].name = l;
        memcpy((*logs)[(*n)++].file, e->d_name, len + 1);
    }
    if (!rc && errno) rc = WR_EIO;
    closedir(d);
    if (!rc && *n) qsort(*logs, *n, sizeof **logs, s_cmp_log);
    return rc;
}

/* Appends the lines of log l (dir/l->file) to *all (of *n, room for *cap). */
static int s_read_log(const char *dir, const char *prefix, const s_log_t *l, wr_kafka_line_t **all,
                      size_t *n, size_t *cap, wr_strbuf_t *err)
{
    char *path = wr_fs_join(dir, l->file);
    wr_strbuf_t text;
    wr_strbuf_init(&text);
    int rc = path ? wr_fs_read(path, WR_KAFKA_TXNLOG_MAX, &text) : WR_ENOMEM;
    if (!rc && text.failed) rc = WR_ENOMEM;
    wr_kafka_line_t *lines = NULL;
    size_t k = 0, bad = 0;
    if (!rc) rc = wr_kafka_log_parse(prefix, &l->name, text.buf, text.len, &lines, &k, &bad);
    if (!rc && *n + k > *cap) {
        size_t grown = 2 * (*n + k);
        wr_kafka_line_t *v = realloc(*all, grown * sizeof *v);
        if (v) {
            *all = v;
            *cap = grown;
        }
        rc = v ? 0 : WR_ENOMEM;
    }
    if (!rc && k) memcpy(*all + *n, lines, k * sizeof *lines);
    if (!rc) *n += k;
    if (rc && err && rc == WR_EPROTO)
        wr_strbuf_addf(err, "%s:%zu: not a line of this transaction log", path, bad);
    else if (rc && err)
        wr_strbuf_addf(err, "%s: %s", path ? path : l->file, wr_strerror(rc));
    free(lines);
    free(path);
    wr_strbuf_release(&text);
    return rc;
}

int wr_kafka_txnlog_load(const char *dir, const char *prefix, wr_kafka_txnlog_t *log,
                         wr_strbuf_t *err)
{
    *log = (wr_kafka_txnlog_t){0};
    s_log_t *logs = NULL;
    size_t nlogs = 0, n = 0, cap = 0;
    wr_kafka_line_t *all = NULL;
    int rc = s_list(dir, prefix, &logs, &nlogs);
    if (rc && err) wr_strbuf_addf(err, "%s: %s", dir, wr_strerror(rc));
    for (size_t i = 0; !rc && i < nlogs; i++)
        rc = s_read_log(dir, prefix, &logs[i], &all, &n, &cap, err);
    if (!rc) rc = wr_kafka_txnlog_index(all, n, log);
    free(all);
    free(logs);
    return rc;
}

uint32_t wr_kafka_txnlog_first_attempt(const char *dir, const char *prefix)
{
    s_log_t *logs = NULL;
    size_t n = 0;
    uint32_t first = 0;
    if (s_list(dir, prefix, &logs, &n) == 0)
        for (size_t i = 0; i < n; i++)
            if (logs[i].name.attempt >= first && logs[i].name.attempt < UINT32_MAX / 2)
                first = logs[i].name.attempt + 1;
    free(logs);
    return first;
}

static int s_fsync(int fd)
{
    int rc;
    do
        rc = fsync(fd);
    while (rc && errno == EINTR);
    return rc ? WR_EIO : 0;
}

/* Cuts a torn last line (one without its '\n') off the file at fd. */
static int s_cut_torn(int fd)
{
    struct stat st;
    if (fstat(fd, &st)) return WR_EIO;
    off_t end = st.st_size;
    char buf[512];
    while (end > 0) {
        size_t want = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        ssize_t got = pread(fd, buf, want, end - (off_t)want);
        if (got < 0 && errno == EINTR) continue;
        if (got != (ssize_t)want) return WR_EIO;
        size_t i = want;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        if (i > 0) {
            end -= (off_t)(want - i);
            break;
        }
        end -= (off_t)want;
    }
    if (end == st.st_size) return 0;
    return ftruncate(fd, end) ? WR_EIO : s_fsync(fd);
}

int wr_kafka_log_open(int dfd, const char *name, bool exclusive, int *fd)
{
    *fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool created = *fd >= 0;
    if (*fd < 0 && errno == EEXIST && !exclusive) /* read too: s_cut_torn looks at its end */
        *fd = openat(dfd, name, O_RDWR | O_APPEND | O_CLOEXEC);
    if (*fd < 0) return errno == EEXIST ? WR_EEXIST : WR_EIO;
    int rc = created ? s_fsync(dfd) : s_cut_torn(*fd);
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Writes p[0, n) at fd (retrying short writes). */
static int s_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return WR_EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int wr_kafka_log_add(int fd, const char *prefix, const wr_kafka_line_t *line)
{
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_kafka_line_format(prefix, line, &sb);
    int rc = sb.failed ? WR_ENOMEM : s_write_all(fd, sb.buf, sb.len);
    wr_strbuf_release(&sb);
    return rc ? rc : s_fsync(fd);
}

int wr_kafka_spool_append(int fd, const wr_strbuf_t *bytes)
{
    return bytes->failed ? WR_ENOMEM : s_write_all(fd, bytes->buf, bytes->len);
}

int wr_kafka_spool_sync(int fd, int dfd)
{
    int rc = s_fsync(fd);
    return rc ? rc : s_fsync(dfd);
}
