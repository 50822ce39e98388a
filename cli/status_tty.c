/* The status line on the terminal (status_tty.h). */
#include "cli/status_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/base/clock.h"

#define S_LINE_MAX 1024
#define S_BUF      (64 * 1024)
#define S_PUMP_NS  (40 * 1000000LL) /* one pump relays for about this long at most */

struct wr_status_tty {
    char line[S_LINE_MAX]; /* what is drawn ("" when nothing) */
    bool drawn;
    int pipe_rd;   /* the relay's read end, -1 without one */
    int saved_out; /* the terminal fd 1 was, -1 without a relay */
    char buf[S_BUF];
    size_t len; /* bytes of buf waiting for their newline */
};

bool wr_status_tty_shared(void)
{
    struct stat o, e;
    if (!isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO)) return false;
    if (fstat(STDOUT_FILENO, &o) || fstat(STDERR_FILENO, &e)) return false;
    return o.st_rdev == e.st_rdev;
}

unsigned wr_status_tty_cols(void)
{
    struct winsize ws;
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

static void s_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; /* a terminal that went away: nothing to tell it */
        p += w;
        n -= (size_t)w;
    }
}

static void s_erase(wr_status_tty_t *t)
{
    if (t->drawn) s_write_all(STDERR_FILENO, "\r\033[K", 4);
    t->drawn = false;
}

static void s_draw(wr_status_tty_t *t)
{
    char text[S_LINE_MAX + 8];
    int n = snprintf(text, sizeof text, "\r%s\033[K", t->line);
    if (n > 0)
        s_write_all(STDERR_FILENO, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    t->drawn = true;
}

wr_status_tty_t *wr_status_tty_new(bool relay_stdout)
{
    wr_status_tty_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->pipe_rd = t->saved_out = -1;
    if (!relay_stdout) return t;
    int p[2] = {-1, -1};
    fflush(stdout);
    if (pipe2(p, O_CLOEXEC) || (t->saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) < 0 ||
        dup2(p[1], STDOUT_FILENO) < 0) {
        if (p[0] >= 0) close(p[0]);
        if (p[1] >= 0) close(p[1]);
        if (t->saved_out >= 0) close(t->saved_out);
        free(t);
        return NULL;
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    t->pipe_rd = p[0];
    return t;
}

void wr_status_tty_draw(wr_status_tty_t *t, const char *line)
{
    snprintf(t->line, sizeof t->line, "%s", line);
    s_draw(t);
}

/* Reads what the pipe holds; writes the complete lines (everything when all) to the terminal.
 * Without all, it returns after about S_PUMP_NS even while results keep coming: a sink that
 * fills the pipe as fast as the terminal takes it would otherwise keep the caller here for good
 * (its status polls and its Ctrl-C with it). */
static void s_relay(wr_status_tty_t *t, bool all)
{
    const int64_t until = wr_now_ns() + S_PUMP_NS;
    for (;;) {
        ssize_t n = read(t->pipe_rd, t->buf + t->len, sizeof t->buf - t->len);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) t->len += (size_t)n;
        size_t upto = t->len;
        if (!all && t->len < sizeof t->buf) /* up to the last newline: no half row */
            while (upto && t->buf[upto - 1] != '\n')
                upto--;
        if (upto) {
            /* under stderr's stdio lock, which wr_log holds while it writes a line: a log line of
             * another thread (a TaskManager lost as `weir local` stops) comes between rows, never
             * inside one that the terminal takes in more than one write */
            flockfile(stderr);
            bool was = t->drawn;
            s_erase(t);
            s_write_all(t->saved_out, t->buf, upto);
            memmove(t->buf, t->buf + upto, t->len - upto);
            t->len -= upto;
            if (was && !all) s_draw(t);
            funlockfile(stderr);
        }
        if (n <= 0) return; /* empty for now (EAGAIN), or closed */
        if (!all && wr_now_ns() >= until) return;
    }
}

void wr_status_tty_pump(wr_status_tty_t *t)
{
    if (t->pipe_rd >= 0) s_relay(t, false);
}

void wr_status_tty_destroy(wr_status_tty_t **tp)
{
    wr_status_tty_t *t = *tp;
    if (!t) return;
    s_erase(t);
    if (t->pipe_rd >= 0) {
        /* no fflush(stdout) here: a sink blocked on the full pipe holds stdout's lock */
        dup2(t->saved_out, STDOUT_FILENO); /* fd 1's write end of the pipe closes */
        /* blocking: a write in flight still holds the pipe; EOF once it is done */
        fcntl(t->pipe_rd, F_SETFL, fcntl(t->pipe_rd, F_GETFL) & ~O_NONBLOCK);
        s_relay(t, true);
        close(t->pipe_rd);
        close(t->saved_out);
    }
    free(t);
    *tp = NULL;
}
