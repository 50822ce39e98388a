/* The build enforces the layers (SConstruct): a copy of the source tree with one forbidden
 * include added must fail to build, before anything compiles, with a message that names the file,
 * the line, the header and the rule; the same copy without it passes the check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/base/fs.h"
#include "bus/base/strbuf.h"

typedef struct {
    char dir[128]; /* the copy of the tree */
} s_tree_t;

/* Runs a shell command; its exit code, and its stdout and stderr together in out. */
static int s_run(const char *cmd, wr_strbuf_t *out)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        wr_strbuf_add(out, buf, n);
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int s_setup(void **state)
{
    const char *src = getenv("WEIR_SRC");
    if (!src) {
        fprintf(stderr, "WEIR_SRC is not set (run the tests through `scons test`)\n");
        return -1;
    }
    s_tree_t *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/weir-layers-XXXXXX");
    if (!mkdtemp(t->dir)) return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && cp -r SConstruct bus state actors cli '%s'/", src,
             t->dir);
    if (system(cmd) != 0) return -1;
    *state = t;
    return 0;
}

static int s_teardown(void **state)
{
    s_tree_t *t = *state;
    wr_fs_rmtree(t->dir);
    free(t);
    return 0;
}

/* Writes text into the copy's file rel. */
static void s_write(const s_tree_t *t, const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", t->dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_remove(const s_tree_t *t, const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", t->dir, rel);
    assert_int_equal(unlink(path), 0);
}

/* `scons` (a plain build) in the copy: its exit code and output. */
static int s_build(const s_tree_t *t, const char *args, wr_strbuf_t *out)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && scons -Q %s 2>&1", t->dir, args);
    return s_run(cmd, out);
}

static void test_the_tree_passes(void **state)
{
    s_tree_t *t = *state;
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    int rc = s_build(t, "--check-layers", &out);
    if (rc != 0) fprintf(stderr, "%s", out.buf);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out.buf, "layers ok"));
    wr_strbuf_release(&out);
}

static void test_zeromq_from_state_fails(void **state)
{
    s_tree_t *t = *state;
    s_write(t, "state/layer_probe.c", "#include <stddef.h>\n#include <zmq.h>\n");
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    int rc = s_build(t, "", &out); /* a plain build, not only the check */
    s_remove(t, "state/layer_probe.c");
    fprintf(stderr, "%s", out.buf);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out.buf,
                           "state/layer_probe.c:2: includes <zmq.h> of package czmq, which "
                           "layer state does not use"));
    assert_null(strstr(out.buf, "gcc ")); /* nothing was compiled */
    wr_strbuf_release(&out);
}

static void test_jobmanager_from_bus_fails(void **state)
{
    s_tree_t *t = *state;
    s_write(t, "bus/layer_probe.h", "#include \"actors/jobmanager/jobmanager.h\"\n");
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    int rc = s_build(t, "--check-layers", &out);
    s_remove(t, "bus/layer_probe.h");
    fprintf(stderr, "%s", out.buf);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out.buf,
                           "bus/layer_probe.h:1: includes \"actors/jobmanager/jobmanager.h\" of "
                           "layer jobmanager, but layer bus may use only base, bus"));
    wr_strbuf_release(&out);
}

static void test_private_header_of_another_folder_fails(void **state)
{
    s_tree_t *t = *state;
    /* cli may use the JobManager, but not the JobManager's insides */
    s_write(t, "cli/layer_probe.c", "#include \"actors/jobmanager/jobmanager_internal.h\"\n");
    wr_strbuf_t out;
    wr_strbuf_init(&out);
    int rc = s_build(t, "--check-layers", &out);
    s_remove(t, "cli/layer_probe.c");
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out.buf,
                           "cli/layer_probe.c:1: includes "
                           "\"actors/jobmanager/jobmanager_internal.h\", a header private to "
                           "actors/jobmanager/"));
    wr_strbuf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_tree_passes),
        cmocka_unit_test(test_zeromq_from_state_fails),
        cmocka_unit_test(test_jobmanager_from_bus_fails),
        cmocka_unit_test(test_private_header_of_another_folder_fails),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
