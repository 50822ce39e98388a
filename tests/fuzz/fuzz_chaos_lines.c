/* libFuzzer target: the chaos checker's line parser (cli/chaos_check_int.h) on arbitrary bytes,
 * cut into lines at '\n' as the checker reads a part file. Checks: no crash, leak or read out of
 * the line; a refusal is WR_EPROTO with a reason, NUL-terminated within its buffer; what is
 * accepted, written out again as the sink writes it, parses back to exactly the same row; the
 * device read from a line's beginning alone (wr__chaos_line_device) is the parsed one. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "cli/chaos_check_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_one(const char *line, size_t len)
{
    /* a copy of exactly len bytes: ASan sees any read past the line */
    char *copy = malloc(len ? len : 1);
    if (!copy) return;
    memcpy(copy, line, len);
    wr__chaos_row_t row, back;
    char why[64], text[WR_CHAOS_EXAMPLE_MAX];
    memset(why, 'x', sizeof why);
    int rc = wr__chaos_parse_line(copy, len, &row, why, sizeof why);
    int64_t device;
    bool early = wr__chaos_line_device(copy, len, &device);
    if (!rc && early && device != row.device) abort();
    if (rc) {
        if (rc != WR_EPROTO || !why[0] || !memchr(why, '\0', sizeof why)) abort();
    } else {
        wr__chaos_format_row(&row, text, sizeof text);
        if (wr__chaos_parse_line(text, strlen(text), &back, why, sizeof why) ||
            memcmp(&row, &back, sizeof row))
            abort();
        bool sink_form = row.device >= 0 && row.device < INT64_C(10000000000);
        if (wr__chaos_line_device(text, strlen(text), &device) != sink_form ||
            (sink_form && device != row.device))
            abort();
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        s_one(p, len);
        p += len + 1;
    }
    return 0;
}
