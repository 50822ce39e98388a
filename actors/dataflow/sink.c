#include "actors/dataflow/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/error.h"

enum s_kind { S_STDOUT, S_FILE, S_COLLECT };

struct wr_sink {
    enum s_kind kind;
    wr_schema_t schema;
    FILE *out; /* S_STDOUT: borrowed */
    int fd;    /* S_FILE */
    wr_strbuf_t buf;
    uint64_t records;
    int64_t delay_ms; /* S_FILE: sleep after each batch */
};

static wr_sink_t *s_new(enum s_kind kind, const wr_schema_t *schema)
{
    wr_sink_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->kind = kind;
    s->schema = *schema;
    s->fd = -1;
    wr_strbuf_init(&s->buf);
    return s;
}

wr_sink_t *wr_sink_stdout_new(const wr_schema_t *schema, FILE *out)
{
    wr_sink_t *s = s_new(S_STDOUT, schema);
    if (s) s->out = out;
    return s;
}

wr_sink_t *wr_sink_file_new(const wr_schema_t *schema, const char *path, int *err)
{
    wr_sink_t *s = s_new(S_FILE, schema);
    if (!s) {
        if (err) *err = WR_ENOMEM;
        return NULL;
    }
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        if (err) *err = WR_EIO;
        wr_sink_destroy(&s);
    }
    return s;
}

void wr_sink_set_delay(wr_sink_t *s, int64_t ms)
{
    if (s->kind == S_FILE) s->delay_ms = ms > 0 ? ms : 0;
}

wr_sink_t *wr_sink_collect_new(const wr_schema_t *schema)
{
    return s_new(S_COLLECT, schema);
}

void wr_sink_destroy(wr_sink_t **sp)
{
    if (!sp || !*sp) return;
    wr_sink_t *s = *sp;
    if (s->fd >= 0) close(s->fd);
    wr_strbuf_release(&s->buf);
    free(s);
    *sp = NULL;
}

/* Shortest %g form that reads back to the same double. */
static void s_add_double(wr_strbuf_t *out, double v)
{
    if (!isfinite(v)) {
        wr_strbuf_adds(out, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    wr_strbuf_adds(out, tmp);
    if (!strpbrk(tmp, ".eE")) wr_strbuf_adds(out, ".0"); /* keep it a JSON double */
}

static void s_add_time(wr_strbuf_t *out, int64_t ms)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    wr_strbuf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
}

void wr_record_json(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    wr_strbuf_addc(out, '{');
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (f) wr_strbuf_addc(out, ',');
        wr_strbuf_add_json_str(out, b->schema.f[f].name, strlen(b->schema.f[f].name));
        wr_strbuf_addc(out, ':');
        switch (b->schema.f[f].type) {
        case WR_T_INT:
        case WR_T_TIME: wr_strbuf_addf(out, "%lld", (long long)((const int64_t *)b->col[f])[i]); break;
        case WR_T_BOOL: wr_strbuf_adds(out, ((const int64_t *)b->col[f])[i] ? "true" : "false"); break;
        case WR_T_DOUBLE: s_add_double(out, ((const double *)b->col[f])[i]); break;
        case WR_T_STRING: {
            uint32_t len;
            const char *s = wr_batch_str(b, (int)f, i, &len);
            wr_strbuf_add_json_str(out, s, len);
            break;
        }
        }
    }
    wr_strbuf_addc(out, '}');
}

static void s_record_text(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out)
{
    for (uint32_t f = 0; f < b->schema.n; f++) {
        if (f) wr_strbuf_addc(out, ' ');
        wr_strbuf_adds(out, b->schema.f[f].name);
        wr_strbuf_addc(out, '=');
        switch (b->schema.f[f].type) {
        case WR_T_INT: wr_strbuf_addf(out, "%lld", (long long)((const int64_t *)b->col[f])[i]); break;
        case WR_T_TIME: s_add_time(out, ((const int64_t *)b->col[f])[i]); break;
        case WR_T_BOOL: wr_strbuf_adds(out, ((const int64_t *)b->col[f])[i] ? "true" : "false"); break;
        case WR_T_DOUBLE: wr_strbuf_addf(out, "%.6g", ((const double *)b->col[f])[i]); break;
        case WR_T_STRING: {
            uint32_t len;
            const char *s = wr_batch_str(b, (int)f, i, &len);
            wr_strbuf_add(out, s, len);
            break;
        }
        }
    }
}

static int s_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return WR_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int wr_sink_write(wr_sink_t *s, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel)
{
    uint32_t n = sel ? nsel : b->count;
    if (s->kind != S_COLLECT) wr_strbuf_reset(&s->buf);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = sel ? sel[k] : k;
        if (s->kind == S_STDOUT) s_record_text(b, i, &s->buf);
        else wr_record_json(b, i, &s->buf);
        wr_strbuf_addc(&s->buf, '\n');
    }
    if (s->buf.failed) return WR_ENOMEM;
    s->records += n;
    int rc = 0;
    if (s->kind == S_STDOUT) {
        /* one write per batch, and flushed: results show up as their windows fire */
        if (s->buf.len && (fwrite(s->buf.buf, 1, s->buf.len, s->out) != s->buf.len || fflush(s->out)))
            rc = WR_EIO;
    } else if (s->kind == S_FILE) {
        rc = s_write_all(s->fd, s->buf.buf, s->buf.len);
        if (s->delay_ms) {
            struct timespec ts = {s->delay_ms / 1000, s->delay_ms % 1000 * 1000000};
            int slept;
            do
                slept = nanosleep(&ts, &ts); /* the rest of it, when a signal interrupts */
            while (slept && errno == EINTR);
        }
    }
    return rc;
}

int wr_sink_flush(wr_sink_t *s)
{
    if (s->kind == S_STDOUT) return fflush(s->out) ? WR_EIO : 0;
    if (s->kind == S_FILE) return fsync(s->fd) && errno != EINVAL ? WR_EIO : 0;
    return 0;
}

uint64_t wr_sink_records(const wr_sink_t *s)
{
    return s->records;
}

const wr_strbuf_t *wr_sink_collected(const wr_sink_t *s)
{
    return s->kind == S_COLLECT ? &s->buf : NULL;
}
