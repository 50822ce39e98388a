/* The status line on the terminal (its text: status_line.h): drawn in place on stderr, and kept
 * apart from results that go to the same terminal.
 *
 * Results: when this process's own threads write results to stdout (`weir local`'s stdout
 * sinks) and stdout is the terminal stderr is, a status line drawn between their writes would
 * end up in the middle of a row. So fd 1 becomes a pipe: wr_status_tty_pump copies the complete
 * lines in it to the terminal, erasing the status line before them and drawing it again after;
 * wr_status_tty_destroy gives fd 1 back. Log lines (bus/base/log.h: stderr, any thread) stay out
 * of the rows too: the rows are written under stderr's stdio lock, which a log line holds while it
 * is written. Not thread-safe: one thread (the CLI's) calls these. */
#ifndef WR_STATUS_TTY_H
#define WR_STATUS_TTY_H

#include <stdbool.h>

typedef struct wr_status_tty wr_status_tty_t;

/* Whether stdout and stderr are one terminal (results would mix with the status line). */
bool wr_status_tty_shared(void);
/* The terminal's width in columns (stderr's), 0 when unknown. */
unsigned wr_status_tty_cols(void);

/* A status line on stderr; relay_stdout: fd 1 becomes the pipe described above. NULL when out of
 * memory or when the pipe cannot be made (nothing changed then). */
wr_status_tty_t *wr_status_tty_new(bool relay_stdout);
/* Draws line over the previous one (cleared to the end of the line). */
void wr_status_tty_draw(wr_status_tty_t *t, const char *line);
/* Copies the complete result lines waiting in the pipe to the terminal (nothing without a relay):
 * the status line is erased before them and drawn again after. Returns after about 40 ms while
 * results keep coming (a sink then waits on the full pipe until the next call). */
void wr_status_tty_pump(wr_status_tty_t *t);
/* Erases the status line, gives fd 1 back and copies what is left in the
 * pipe, a last line without its newline included, waiting for a write in flight to end; later
 * writes go to the terminal directly. NULL-safe; nulls *t. */
void wr_status_tty_destroy(wr_status_tty_t **t);

#endif
