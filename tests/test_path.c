/* bus/base/path.h: the canonical form of a path that may not exist yet, and whether it lies under
 * one of a list of roots; bus/base/log.h's rate limit for lines the network can cause. In a folder
 * of its own under /tmp, removed after each test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/log.h"
#include "bus/base/path.h"

static int s_setup(void **state)
{
    char *dir = strdup("/tmp/weir-test-path-XXXXXX");
    if (!dir || !mkdtemp(dir)) return -1;
    /* a real folder a/, and b, a symlink to a/ */
    char *a = wr_fs_join(dir, "a"), *b = wr_fs_join(dir, "b");
    int rc = a && b && !wr_fs_mkdirs(a) && !symlink(a, b) ? 0 : -1;
    free(a);
    free(b);
    *state = dir;
    return rc;
}

static int s_teardown(void **state)
{
    char *dir = *state;
    if (dir) wr_fs_rmtree(dir);
    free(dir);
    return 0;
}

/* wr_path_canonical of fmt (one %s: the test's folder), against the test's folder. */
static void s_expect(const char *dir, const char *fmt, const char *want_fmt)
{
    char in[256], want[256];
    snprintf(in, sizeof in, fmt, dir);
    snprintf(want, sizeof want, want_fmt, dir);
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    assert_int_equal(wr_path_canonical(in, &out), 0);
    if (strcmp(out.buf, want)) fail_msg("canonical(%s) = %s, want %s", in, out.buf, want);
    wr_strbuf_release(&out);
}

static void test_canonical_resolves_dots_and_symlinks_of_paths_not_there_yet(void **state)
{
    /* the test's folder itself may sit behind a symlink (/tmp): compare with its real path */
    char *real = realpath(*state, NULL);
    assert_non_null(real);
    s_expect(real, "%s/a/x.jsonl", "%s/a/x.jsonl");
    s_expect(real, "%s/b/x.jsonl", "%s/a/x.jsonl");              /* a symlink */
    s_expect(real, "%s/a/./y/../x.jsonl", "%s/a/x.jsonl");       /* "." and ".." */
    s_expect(real, "%s/a/no/such/../../../x", "%s/x");           /* ".." of folders not there */
    s_expect(real, "%s/a//out/", "%s/a/out");                    /* "//", a trailing '/' */
    s_expect(real, "%s/b/../x", "%s/x");                         /* ".." of the symlink's target */
    s_expect(real, "%s/../../../../../../../../../etc", "/etc"); /* never above "/" */
    s_expect(real, "/", "/");
    /* relative: from the working directory */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(real), 0);
    s_expect(real, "b/../a/z", "%s/a/z");
    assert_int_equal(chdir(cwd), 0);
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    assert_int_equal(wr_path_canonical("", &out), WR_EINVAL);
    wr_strbuf_release(&out);
    free(real);
}

static void test_under_holds_a_root_and_what_lies_below_it_only(void **state)
{
    char *real = realpath(*state, NULL);
    assert_non_null(real);
    char p[256], roots[600];
    snprintf(roots, sizeof roots, " /nowhere , %s/b ,", real); /* a symlinked root, blanks */
    snprintf(p, sizeof p, "%s/a/x", real);
    assert_true(wr_path_under(p, roots));
    snprintf(p, sizeof p, "%s/a", real);
    assert_true(wr_path_under(p, roots)); /* the root itself */
    snprintf(p, sizeof p, "%s/ab/x", real);
    assert_false(wr_path_under(p, roots)); /* a name that only starts like it */
    snprintf(p, sizeof p, "%s/x", real);
    assert_false(wr_path_under(p, roots));
    assert_false(wr_path_under("/etc/passwd", roots));
    assert_false(wr_path_under("/etc/passwd", ""));
    assert_true(wr_path_under("/etc/passwd", "/"));
    free(real);
}

/* ---- the log's rate limit ---- */

/* Runs n limited warnings of one call site and m of another with stderr going to a file; returns
 * the lines written. */
static size_t s_logged(size_t n, size_t m, char **text)
{
    char path[] = "/tmp/weir-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0 && dup2(fd, 2) == 2);
    wr_logrl_t rl;
    wr_logrl_init(&rl, 3);
    for (size_t i = 0; i < n; i++)
        wr_warn_limited(&rl, "bad registration %zu", i);
    for (size_t i = 0; i < m; i++)
        wr_warn_limited(&rl, "another kind %zu", i);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    assert_int_equal(wr_fs_read(path, 64 << 20, &sb), 0);
    unlink(path);
    size_t lines = 0;
    for (size_t i = 0; i < sb.len; i++)
        lines += sb.buf[i] == '\n';
    *text = wr_strbuf_detach(&sb, NULL);
    return lines;
}

static void test_a_flood_of_warnings_writes_a_few_lines_a_second(void **state)
{
    (void)state;
    unsetenv("WEIR_LOG");
    char *text;
    int64_t start = wr_now_ns();
    size_t lines = s_logged(100000, 2, &text);
    int64_t seconds = (wr_now_ns() - start) / 1000000000 + 1;
    /* 3 a second per call site, and a "suppressed" line per second that follows a drop */
    if (lines > (size_t)(seconds * 2 * 3 + seconds + 2))
        fail_msg("%zu lines in %lld s for 100002 warnings:\n%.2000s", lines, (long long)seconds,
                 text);
    assert_non_null(strstr(text, "bad registration 0"));
    assert_non_null(strstr(text, "another kind 0")); /* one site's flood hides no other */
    assert_null(strstr(text, "bad registration 99999"));
    free(text);

    /* the next second, what was dropped is said once */
    wr_logrl_t rl;
    wr_logrl_init(&rl, 1);
    assert_true(wr_warn_limited(&rl, "x %d", 1));
    assert_false(wr_warn_limited(&rl, "x %d", 2));
    assert_false(wr_warn_limited(&rl, "x %d", 3));
    usleep(1100000);
    fflush(stderr);
    assert_true(wr_warn_limited(&rl, "x %d", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_canonical_resolves_dots_and_symlinks_of_paths_not_there_yet, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_under_holds_a_root_and_what_lies_below_it_only,
                                        s_setup, s_teardown),
        cmocka_unit_test(test_a_flood_of_warnings_writes_a_few_lines_a_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
