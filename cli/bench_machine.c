#include "cli/bench_machine.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The value of the first line of path that starts with key (after ':' and blanks), trimmed. */
static void s_field(const char *path, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen)) continue;
        const char *v = strchr(line + klen, ':');
        if (!v) continue;
        for (v++; *v == ' ' || *v == '\t'; v++) {
        }
        size_t n = strcspn(v, "\n");
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n) snprintf(out, cap, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

void wr_bench_machine(wr_bench_machine_t *m)
{
    s_field("/proc/cpuinfo", "model name", m->cpu, sizeof m->cpu);
    cpu_set_t set;
    m->cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    snprintf(m->thp, sizeof m->thp, "unknown");
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char line[128];
    if (f && fgets(line, sizeof line, f)) { /* "always [madvise] never": the one in brackets */
        const char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
        if (a && b && b - a - 1 < (long)sizeof m->thp)
            snprintf(m->thp, sizeof m->thp, "%.*s", (int)(b - a - 1), a + 1);
    }
    if (f) fclose(f);
}

void wr_bench_machine_text(const wr_bench_machine_t *m, wr_strbuf_t *out)
{
    wr_strbuf_addf(out, "machine: %s, %d cores, transparent huge pages: %s\n", m->cpu, m->cores,
                   m->thp);
}

void wr_bench_machine_json(const wr_bench_machine_t *m, wr_strbuf_t *out)
{
    wr_strbuf_adds(out, "\"machine\":{\"cpu\":");
    wr_strbuf_add_json_str(out, m->cpu, strlen(m->cpu));
    wr_strbuf_addf(out, ",\"cores\":%d,\"thp\":", m->cores);
    wr_strbuf_add_json_str(out, m->thp, strlen(m->thp));
    wr_strbuf_adds(out, "},");
}

void wr_bench_machine_print(FILE *out)
{
    wr_bench_machine_t m;
    wr_bench_machine(&m);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    wr_bench_machine_text(&m, &sb);
    fputs(sb.buf, out);
    wr_strbuf_release(&sb);
}

const char *wr_bench_machine_member(wr_strbuf_t *sb)
{
    wr_bench_machine_t m;
    wr_bench_machine(&m);
    wr_strbuf_reset(sb);
    wr_bench_machine_json(&m, sb);
    return sb->buf;
}

long wr_bench_peak_rss_kb(void)
{
    long kb = 0;
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

double wr_bench_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}
