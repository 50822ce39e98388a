/* Window snapshots' byte plumbing: XXH64, the buffered writer, read-only mappings. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/dataflow/window/window_snap_internal.h"
#include "bus/base/error.h"

#define S_FD_BUF  ((size_t)1 << 20)
#define S_MEM_BUF ((size_t)64 << 10)

/* ---- XXH64 ---- */

static const uint64_t S_P1 = 11400714785074694791ull, S_P2 = 14029467366897019727ull,
                      S_P3 = 1609587929392035997ull, S_P4 = 9650029242287828579ull,
                      S_P5 = 2870177450012600261ull;

static inline uint64_t s_rotl(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static inline uint64_t s_ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t s_round(uint64_t acc, uint64_t in)
{
    return s_rotl(acc + in * S_P2, 31) * S_P1;
}

static inline uint64_t s_merge(uint64_t h, uint64_t v)
{
    return (h ^ s_round(0, v)) * S_P1 + S_P4;
}

void wr__sum_init(wr__sum_t *s)
{
    *s = (wr__sum_t){.v = {S_P1 + S_P2, S_P2, 0, -S_P1}};
}

/* The four lanes over whole 32-byte stripes of p[0..n); returns the bytes consumed. */
static size_t s_stripes(uint64_t *v, const uint8_t *p, size_t n)
{
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = s_round(a, s_ld64(p + i));
        b = s_round(b, s_ld64(p + i + 8));
        c = s_round(c, s_ld64(p + i + 16));
        d = s_round(d, s_ld64(p + i + 24));
    }
    v[0] = a, v[1] = b, v[2] = c, v[3] = d;
    return i;
}

void wr__sum_update(wr__sum_t *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->len += n;
    if (s->nt) {
        size_t take = 32 - s->nt < n ? 32 - s->nt : n;
        memcpy(s->tail + s->nt, p, take);
        s->nt += take;
        p += take;
        n -= take;
        if (s->nt < 32) return;
        s_stripes(s->v, s->tail, 32);
        s->nt = 0;
    }
    size_t done = s_stripes(s->v, p, n);
    memcpy(s->tail, p + done, n - done);
    s->nt = n - done;
}

uint64_t wr__sum_final(const wr__sum_t *s)
{
    uint64_t h;
    if (s->len >= 32) {
        h = s_rotl(s->v[0], 1) + s_rotl(s->v[1], 7) + s_rotl(s->v[2], 12) + s_rotl(s->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = s_merge(h, s->v[i]);
    } else {
        h = S_P5;
    }
    h += s->len;
    const uint8_t *p = s->tail, *end = s->tail + s->nt;
    for (; p + 8 <= end; p += 8)
        h = s_rotl(h ^ s_round(0, s_ld64(p)), 27) * S_P1 + S_P4;
    if (p + 4 <= end) {
        uint32_t x;
        memcpy(&x, p, 4);
        h = s_rotl(h ^ (uint64_t)x * S_P1, 23) * S_P2 + S_P3;
        p += 4;
    }
    for (; p < end; p++)
        h = s_rotl(h ^ *p * S_P5, 11) * S_P1;
    h ^= h >> 33;
    h *= S_P2;
    h ^= h >> 29;
    h *= S_P3;
    return h ^ h >> 32;
}

uint64_t wr__sum(const void *p, size_t n)
{
    wr__sum_t s;
    wr__sum_init(&s);
    wr__sum_update(&s, p, n);
    return wr__sum_final(&s);
}

/* ---- the writer ---- */

static wr_snap_writer_t *s_writer(int fd, size_t cap)
{
    wr_snap_writer_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->fd = fd;
    w->fd_base = fd < 0 ? -1 : lseek(fd, 0, SEEK_CUR);
    w->cap = cap;
    if (!(w->buf = malloc(cap))) {
        free(w);
        return NULL;
    }
    return w;
}

wr_snap_writer_t *wr_snap_writer_new_fd(int fd)
{
    return fd < 0 ? NULL : s_writer(fd, S_FD_BUF);
}

wr_snap_writer_t *wr_snap_writer_new_mem(void)
{
    return s_writer(-1, S_MEM_BUF);
}

void wr_snap_writer_destroy(wr_snap_writer_t **wp)
{
    if (!wp || !*wp) return;
    free((*wp)->buf);
    free(*wp);
    *wp = NULL;
}

uint64_t wr_snap_writer_bytes(const wr_snap_writer_t *w)
{
    return wr__snapw_off(w);
}

const uint8_t *wr_snap_writer_mem(const wr_snap_writer_t *w, size_t *len)
{
    *len = w->fd == -1 ? w->pos : 0;
    return w->fd == -1 ? w->buf : NULL;
}

static int s_write_all(int fd, const uint8_t *p, size_t n)
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

int wr_snap_writer_flush(wr_snap_writer_t *w)
{
    if (w->err || w->fd < 0 || !w->pos) return w->err;
    if (w->summing) wr__sum_update(&w->sum, w->buf + w->hashed, w->pos - w->hashed);
    w->err = s_write_all(w->fd, w->buf, w->pos);
    w->base += w->pos;
    w->pos = w->hashed = 0;
    return w->err;
}

int wr__snapw_make_room(wr_snap_writer_t *w, size_t n)
{
    if (w->err) return w->err;
    if (w->fd >= 0) return wr_snap_writer_flush(w); /* n <= 64 KiB: the empty buffer holds it */
    if (w->fd == WR__SNAPW_CHUNKS) return w->err = w->next_chunk(w, n);
    size_t cap = w->cap;
    while (cap - w->pos < n)
        cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) return w->err = WR_ENOMEM;
    w->buf = b;
    w->cap = cap;
    return 0;
}

int wr__snapw_put(wr_snap_writer_t *w, const void *data, size_t n)
{
    const uint8_t *p = data;
    while (n) {
        if (w->pos == w->cap && wr__snapw_make_room(w, n < S_MEM_BUF ? n : S_MEM_BUF))
            return w->err;
        size_t take = w->cap - w->pos < n ? w->cap - w->pos : n;
        memcpy(w->buf + w->pos, p, take);
        w->pos += take;
        p += take;
        n -= take;
    }
    return w->err;
}

int wr__snapw_patch(wr_snap_writer_t *w, uint64_t off, const void *p, size_t n)
{
    if (w->err) return w->err;
    if (off > wr__snapw_off(w) || n > wr__snapw_off(w) - off) return WR_EINVAL;
    if (w->fd < 0) { /* memory: everything is in buf (base 0) */
        memcpy(w->buf + off, p, n);
        return 0;
    }
    if (w->fd_base < 0) return WR_EINVAL;
    int rc = wr_snap_writer_flush(w);
    for (const uint8_t *q = p; !rc && n;) {
        ssize_t k = pwrite(w->fd, q, n, (off_t)(w->fd_base + (int64_t)off));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return w->err = WR_EIO;
        q += k;
        off += (uint64_t)k;
        n -= (size_t)k;
    }
    return rc;
}

void wr__snapw_sum_begin(wr_snap_writer_t *w)
{
    wr__sum_init(&w->sum);
    w->hashed = w->pos;
    w->summing = true;
}

uint64_t wr__snapw_sum_end(wr_snap_writer_t *w)
{
    wr__sum_update(&w->sum, w->buf + w->hashed, w->pos - w->hashed);
    w->summing = false;
    return wr__sum_final(&w->sum);
}

/* ---- mappings ---- */

int wr_snap_map(int fd, const uint8_t **data, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st)) return WR_EIO;
    if (st.st_size <= 0) return WR_EPROTO;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return WR_EIO;
    madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    *data = p;
    *len = (size_t)st.st_size;
    return 0;
}

int wr_snap_map_path(const char *path, const uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
    int rc = wr_snap_map(fd, data, len);
    close(fd);
    return rc;
}

void wr_snap_unmap(const uint8_t *data, size_t len)
{
    if (data) munmap((void *)data, len);
}
