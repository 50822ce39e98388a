/* What a benchmark ran on, printed with its figures (a ratio measured on one machine says little
 * about another): the CPU model, how many cores this process may use, and the transparent huge
 * page setting (the window state is madvise'd into huge pages, so `never` changes its figures). */
#ifndef WR_BENCH_MACHINE_H
#define WR_BENCH_MACHINE_H

#include <stdio.h>

#include "bus/base/strbuf.h"

typedef struct {
    char cpu[128]; /* /proc/cpuinfo's first "model name", or "unknown" */
    int cores;     /* CPUs this process may run on (sched_getaffinity) */
    char thp[16];  /* the selected mode of /sys/kernel/mm/transparent_hugepage/enabled:
                      always, madvise, never; "unknown" without it */
} wr_bench_machine_t;

/* Reads them; fields it cannot read say "unknown" (cores: 0). */
void wr_bench_machine(wr_bench_machine_t *m);
/* The text line: "machine: CPU, N cores, transparent huge pages: MODE\n". */
void wr_bench_machine_text(const wr_bench_machine_t *m, wr_strbuf_t *out);
/* The JSON member, with its trailing comma, to open a benchmark's object with:
 * "machine":{"cpu":"...","cores":N,"thp":"..."}, */
void wr_bench_machine_json(const wr_bench_machine_t *m, wr_strbuf_t *out);

/* This process's peak resident set so far, KiB (VmHWM of /proc/self/status); 0 when unknown. */
long wr_bench_peak_rss_kb(void);
/* CPU seconds (user + system) this process has used so far, all its threads. */
double wr_bench_cpu_s(void);

/* Reads the machine and prints its text line to out (a benchmark's first line). */
void wr_bench_machine_print(FILE *out);
/* Reads the machine and puts its JSON member into sb (reset first); returns sb->buf. */
const char *wr_bench_machine_member(wr_strbuf_t *sb);

#endif
