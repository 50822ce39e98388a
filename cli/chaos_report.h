/* What a `weir chaos` run found, and the three ways it is shown: the table at the end, one JSON
 * object (--json), a self-contained HTML page (--report FILE.html); and the live line drawn on
 * the terminal while it runs. Pure rendering: nothing here starts, asks or measures anything.
 *
 * The JSON object (compact, one line; every field always present, -1 where a time is unknown):
 *   {"valid":true,"reason":"","seed":1,"duration_ms":...,"wall_ms":...,"cpu":"...","backend":"memory",
 *    "sink":"exactly-once","devices":...,"records":...,"topology":"","reference_ms":-1,
 *    "verdict":{"expected":..,"ok":..,"lost":..,"duplicated":..,"unexpected":..,"lines":..,
 *               "first_lost":"..","first_duplicated":"..","first_unexpected":".."},
 *    "faults":[{"kind":"kill","target":"tm-2","target_kind":"tm","what":"...","start_ms":..,
 *               "end_ms":..,"detect_ms":..,"recover_ms":..,"disrupted":true},...],
 *    "recovery":{"tm":{"n":..,"p50_ms":..,"max_ms":..,"by_fault":{"kill":{"n":..,"p50_ms":..,
 *                "max_ms":..},"pause":{...},"partition":{...},"etcd":{...}}},"jm":{...},
 *                "etcd":{...}},
 *    "availability":0.93,"throughput":{"avg":..,"samples":[[t_ms,rate],...]},
 *    "checkpoints":{"completed":..,"failed":..},"restarts":..,
 *    "processes":[{"name":"tm-1","peak_rss":..,"starts":..},...]}
 * Times of a fault are ms after the run's start (start_ms, end_ms) or after the fault's start
 * (detect_ms, recover_ms); recovery p50/max are over the faults of that target kind that
 * disrupted the job and after which it ran again (recover_ms >= 0; one that never ran again is
 * in no figure): n of them, p50 the lower median (the ((n - 1) / 2)-th smallest recover_ms: of 4,
 * the 2nd), max the largest, both -1 when n is 0. */
#ifndef WR_CHAOS_REPORT_H
#define WR_CHAOS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bus/base/strbuf.h"
#include "cli/chaos_check.h"

/* The nemeses (--faults). */
enum { WR_CHAOS_KILL, WR_CHAOS_PAUSE, WR_CHAOS_PARTITION, WR_CHAOS_ETCD, WR_CHAOS_NKINDS };
/* Their names as --faults and the JSON spell them: "kill", "pause", "partition", "etcd". */
extern const char *const wr_chaos_kind_name[WR_CHAOS_NKINDS];

typedef struct {
    int kind;            /* WR_CHAOS_KILL ... */
    char target[32];     /* the node it hit ("tm-2"; a partition: the first of its side) */
    char target_kind[8]; /* "tm", "jm" or "etcd" */
    char what[160];      /* in words: "kill -9 tm-2, restarted after 1.4 s", "partition
                            jm-a (leader) | etcd-1,etcd-2,etcd-3 both ways for 4.0 s", ... */
    int64_t start_ms;    /* injected, ms after the run's start */
    int64_t end_ms;      /* healed (restarted, SIGCONT, link healed), ms after the run's start */
    int64_t detect_ms;   /* after start_ms: the cluster noticed (the job left RUNNING or a new
                            leader answered); -1: it never did (the fault did not disrupt) */
    int64_t recover_ms;  /* after start_ms: the job RUNNING again, every subtask running, in a
                            later attempt or under a new leader; -1: not disrupted, or never */
    bool disrupted;      /* the job stopped running because of it */
} wr_chaos_fault_t;

typedef struct {
    int64_t t_ms; /* ms after the run's start */
    double rate;  /* records/s the sources made since the previous sample */
} wr_chaos_sample_t;

#define WR_CHAOS_MAX_PROCS 16

typedef struct {
    /* the run */
    uint64_t seed;
    int64_t duration_ms;       /* --duration: the time faults were injected */
    int64_t wall_ms;           /* start to verdict */
    char cpu[128];             /* the CPU model (cli/bench_machine.h) */
    char backend[16];          /* "memory" or "rocksdb" */
    char sink[16];             /* "exactly-once" or "at-least-once" ("topology" with one) */
    uint64_t devices, records; /* the built-in job's; 0 with a topology */
    char topology[256];        /* --topology FILE, "" for the built-in job */
    int64_t reference_ms;      /* with a topology: its reference run's wall time, -1 none */
    /* the verdict */
    wr_chaos_verdict_t verdict;
    char reason[256]; /* why the run is invalid besides the checker's counts (the job did not
                         finish, its output could not be read): "" when there is none */
    /* the measurements (arrays owned by the caller) */
    const wr_chaos_fault_t *faults;
    size_t nfaults;
    const wr_chaos_sample_t *samples; /* about one a second, in time order */
    size_t nsamples;
    double availability; /* share of the wall time from the job's first RUNNING to its end in
                            which its sources made records */
    double throughput;   /* records/s over the same time */
    uint64_t ckpt_completed, ckpt_failed, restarts;
    struct {
        char name[32];
        uint64_t peak_rss; /* bytes, the highest of every process that ran under the name */
        int starts;
    } procs[WR_CHAOS_MAX_PROCS];
    size_t nprocs;
} wr_chaos_result_t;

/* The table printed at the end: the faults one per row (kind, target, start, detected,
 * running again), recovery p50/max per target kind against the goals (TaskManager 2 s,
 * JobManager 5 s), availability, throughput, checkpoints, restarts, peak memory per process, and
 * the verdict with the counts and, when invalid, the first lost, duplicated and unexpected
 * result. */
void wr_chaos_report_table(const wr_chaos_result_t *r, FILE *out);

/* The JSON object described at the top of this file, appended to out (no newline). WR_ENOMEM. */
int wr_chaos_report_json(const wr_chaos_result_t *r, wr_strbuf_t *out);

/* Writes the HTML page to path (through a temp file renamed over it): self-contained (inline
 * CSS and SVG, no script, nothing fetched): the verdict, the throughput timeline as an SVG line
 * chart with every fault drawn on it as a shaded band from start to end (coloured by kind,
 * labelled with its target) and a mark where the job ran again, then the tables. Text from the
 * run is HTML-escaped. 0, or WR_EIO/WR_ENOMEM with the reason in err. */
int wr_chaos_report_html(const wr_chaos_result_t *r, const char *path, wr_strbuf_t *err);

/* Internal, shared by the table, the JSON and the HTML page (chaos_report.c, chaos_html.c). */
#define WR__CHAOS_GOAL_TM_MS 2000 /* TaskManager recovery p50 goal */
#define WR__CHAOS_GOAL_JM_MS 5000 /* JobManager recovery p50 goal */
typedef struct {
    size_t n;           /* disrupted faults of the kind that ran again */
    size_t unrecovered; /* disrupted faults of the kind after which the job never ran again */
    int64_t p50, max;   /* ms; -1 when n is 0 */
} wr__chaos_recovery_t;
/* Recovery of the faults whose target_kind is tk ("tm", "jm", "etcd") and whose kind is kind
 * (WR_CHAOS_KILL ..., -1: every kind), as the JSON's. */
wr__chaos_recovery_t wr__chaos_recovery(const wr_chaos_result_t *r, const char *tk, int kind);
/* The goal of target kind tk in ms, 0 when it has none (etcd). */
int64_t wr__chaos_goal_ms(const char *tk);
/* The name of a fault's kind, "?" when out of range (the result is the caller's input). */
const char *wr__chaos_kind(int kind);
/* Whether x meets the goal of tk: "met", "NOT met" (p50 over it, or a disruption the job never
 * came back from), "not measured" (nothing disrupted), NULL when tk has no goal. */
const char *wr__chaos_goal_text(const wr__chaos_recovery_t *x, const char *tk);
/* The verdict's counts: "299,997 ok of 300,000 expected; 2 lost, 1 duplicated, 0 unexpected"
 * (HTML-safe: digits and words); returns out. */
const char *wr__chaos_counts(const wr_chaos_verdict_t *v, char *out, size_t cap);
/* ms after the run's start as "m:ss" ("m:ss.t" with tenths; "h:mm:ss" past an hour), "-" when
 * negative (unknown); returns out. */
const char *wr__chaos_clock(int64_t ms, bool tenths, char *out, size_t cap);
/* A duration as wr_status_duration says it ("850 ms", "1.4 s"), "-" when negative (unknown). */
const char *wr__chaos_dur(int64_t ms, char *out, size_t cap);

/* What the live line shows. */
typedef struct {
    int64_t t_ms, duration_ms; /* elapsed, of --duration */
    const char *fault;         /* the fault in force ("" none): its `what` */
    const char *job_state;     /* "RUNNING", "RESTARTING", ... ("?" when no JobManager answers) */
    const char *leader;        /* the JobManager that answers ("" none) */
    double rate;               /* records/s now */
    uint64_t records;          /* made so far, of total */
    uint64_t total;
    size_t faults_done;
    uint64_t restarts;
} wr_chaos_live_t;

/* The live line (one terminal line, at most cols - 1 columns when cols > 0: a line that fills the
 * last column wraps on some terminals; never cut inside a UTF-8 sequence; control bytes in the
 * strings shown as spaces) into buf (n bytes, NUL included; n 0: nothing written). */
void wr_chaos_live_line(const wr_chaos_live_t *l, unsigned cols, char *buf, size_t n);

#endif
