/* Two jobs of one cluster never write into one sink path: the JobManager refuses, at submit, a job
 * whose file sink's file or exactly-once folder a job that has not ended writes (naming that job
 * and the path), and accepts it once that job has ended. Paths compare canonically: relative,
 * "./", ".." and symlinked spellings of one folder are one folder, and a file inside another
 * job's folder is in it. In one process (tests/support/cluster.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "tests/support/cluster.h"

/* An endless, paced job writing into sink (a YAML flow map). */
static const char *s_job(char *buf, size_t cap, const char *name, const char *sink)
{
    snprintf(buf, cap,
             "name: %s\nparallelism: 1\n"
             "sources:\n  - {type: generator, devices: 10, total: 0, rate: 2000, seed: 3}\n"
             "sinks: [%s]\n",
             name, sink);
    return buf;
}

static int s_submit(tc_fx_t *f, const char *name, const char *sink, char id[TC_JOB_ID_MAX],
                    char *why, size_t cap)
{
    char yaml[1024];
    return tc_submit(f->c, s_job(yaml, sizeof yaml, name, sink), id, why, cap);
}

/* A job writing exactly once into a folder holds it while it runs: a second job into that folder
 * (however spelled) or into a file inside it is refused, naming the first job and the folder;
 * another folder is accepted; once the first job is canceled, the folder is free again. */
static void test_a_folder_in_use_is_refused_until_its_job_ends(void **state)
{
    tc_fx_t *f = *state;
    f->c = tc_start(&f->c, NULL);
    char sink[400], why[640], first[TC_JOB_ID_MAX], id[TC_JOB_ID_MAX], s[32];
    char out[128], link[128], other[128];
    snprintf(out, sizeof out, "%s/out", f->dir);
    snprintf(link, sizeof link, "%s/link", f->dir);
    snprintf(other, sizeof other, "%s/other", f->dir);
    assert_int_equal(symlink(f->dir, link), 0);

    snprintf(sink, sizeof sink, "{type: file, path: %s, exactly_once: true}", out);
    assert_int_equal(s_submit(f, "first", sink, first, NULL, 0), 0);
    assert_true(tc_wait_state(f->c, first, "RUNNING", TC_WAIT_MS));

    /* the same folder through a symlink, "." and a trailing slash */
    snprintf(sink, sizeof sink, "{type: file, path: %s/./out/, exactly_once: true}", link);
    assert_int_equal(s_submit(f, "second", sink, id, why, sizeof why), WR_EEXIST);
    char expect[160];
    snprintf(expect, sizeof expect, "file:%s/", out);
    assert_non_null(strstr(why, first));   /* the job that holds it */
    assert_non_null(strstr(why, "first")); /* and its name */
    assert_non_null(strstr(why, expect));  /* the folder, canonical */
    /* a plain file sink writing inside that folder */
    snprintf(sink, sizeof sink, "{type: file, path: %s/out/stray.jsonl}", f->dir);
    assert_int_equal(s_submit(f, "third", sink, id, why, sizeof why), WR_EEXIST);
    assert_non_null(strstr(why, first));

    /* another folder is another job's */
    snprintf(sink, sizeof sink, "{type: file, path: %s, exactly_once: true}", other);
    assert_int_equal(s_submit(f, "elsewhere", sink, id, NULL, 0), 0);
    assert_true(tc_wait_state(f->c, id, "RUNNING", TC_WAIT_MS));
    assert_int_equal(tc_cancel(f->c, id), 0);

    /* the first job ended: its folder takes a new job */
    assert_int_equal(tc_cancel(f->c, first), 0);
    assert_string_equal(tc_job_state(f->c, first, s, sizeof s), "CANCELED");
    snprintf(sink, sizeof sink, "{type: file, path: %s/./out/, exactly_once: true}", link);
    assert_int_equal(s_submit(f, "second", sink, id, why, sizeof why), 0);
    assert_true(tc_wait_state(f->c, id, "RUNNING", TC_WAIT_MS));
    assert_int_equal(tc_cancel(f->c, id), 0);
}

/* Plain file sinks: one file is one job's, however spelled ("sub/../"); a file next to it is
 * another's. */
static void test_a_file_in_use_is_refused(void **state)
{
    tc_fx_t *f = *state;
    f->c = tc_start(&f->c, NULL);
    char sink[400], why[640], first[TC_JOB_ID_MAX], id[TC_JOB_ID_MAX];
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    assert_int_equal(wr_fs_mkdirs(sub), 0);

    snprintf(sink, sizeof sink, "{type: file, path: %s/r.jsonl}", f->dir);
    assert_int_equal(s_submit(f, "first", sink, first, NULL, 0), 0);
    assert_true(tc_wait_state(f->c, first, "RUNNING", TC_WAIT_MS));
    snprintf(sink, sizeof sink, "{type: file, path: %s/sub/../r.jsonl}", f->dir);
    assert_int_equal(s_submit(f, "second", sink, id, why, sizeof why), WR_EEXIST);
    assert_non_null(strstr(why, first));
    snprintf(sink, sizeof sink, "{type: file, path: %s/s.jsonl}", f->dir);
    assert_int_equal(s_submit(f, "next-to-it", sink, id, NULL, 0), 0);
    assert_int_equal(tc_cancel(f->c, id), 0);
    assert_int_equal(tc_cancel(f->c, first), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_folder_in_use_is_refused_until_its_job_ends,
                                        tc_dir_setup, tc_dir_teardown),
        cmocka_unit_test_setup_teardown(test_a_file_in_use_is_refused, tc_dir_setup,
                                        tc_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
