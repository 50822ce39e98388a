/* libFuzzer target: the comparison of `weir chaos --topology` (cli/chaos_reference.h) on
 * arbitrary bytes, cut into lines at '\n' as a sink's file is read, each line of output
 * (its index % 2). Checks: no crash, leak or read out of a line; the lines compared with
 * themselves are valid (every result ok, each line found once); seen twice, every result is
 * duplicated and none ok; the examples are NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chaos_reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Calls fn for each line (a copy of exactly its bytes: ASan sees any read past it); false when
 * fn fails. */
static bool s_lines(const uint8_t *data, size_t size, wr_chaos_ref_t *t, bool add)
{
    const char *p = (const char *)data, *end = p + size;
    for (uint32_t i = 0; p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *copy = malloc(len ? len : 1);
        if (!copy) return false;
        memcpy(copy, p, len);
        int rc = add ? wr_chaos_ref_add(t, i % 2, copy, len)
                     : wr_chaos_ref_see(t, i % 2, copy, len, "fuzz:1");
        free(copy);
        if (rc) return false;
        p += len + 1;
    }
    return true;
}

static void s_check_strings(const wr_chaos_verdict_t *v)
{
    if (!memchr(v->first_lost, '\0', sizeof v->first_lost) ||
        !memchr(v->first_duplicated, '\0', sizeof v->first_duplicated) ||
        !memchr(v->first_unexpected, '\0', sizeof v->first_unexpected))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_chaos_ref_t *t = wr_chaos_ref_new();
    if (!t) return 0;
    uint64_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    lines += size && data[size - 1] != '\n';
    wr_chaos_verdict_t v;
    if (s_lines(data, size, t, true) && s_lines(data, size, t, false)) {
        wr_chaos_ref_verdict(t, &v);
        s_check_strings(&v);
        if (!v.valid || v.ok != v.expected || v.lines != lines || v.expected > lines) abort();
        if (s_lines(data, size, t, false)) {
            wr_chaos_ref_verdict(t, &v);
            s_check_strings(&v);
            if (v.ok || v.duplicated != v.expected || v.lost || v.unexpected) abort();
        }
    }
    wr_chaos_ref_destroy(&t);
    return 0;
}
