/* libFuzzer target: the 2PC file sink's state decoder (actors/connectors/file/sink_2pc.h), whose
 * bytes come from a checkpoint and name the files recovery renames. Checks that failures use the
 * documented codes and leave no result; that whatever decodes names only well-formed part files
 * (pending and final names that parse back to the same part, no '/'); and that it re-encodes to a
 * canonical image that decodes again to the same parts. The input is also tried as a file name
 * (the names a new job's first attempt reads from the sink's folder). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/connectors/file/sink_2pc.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check_part(const wr_sink_2pc_part_t *p)
{
    char pending[WR_SINK_2PC_NAME_MAX], final[WR_SINK_2PC_NAME_MAX];
    wr_sink_2pc_name(p, WR_SINK_2PC_PENDING, pending);
    wr_sink_2pc_name(p, WR_SINK_2PC_FINAL, final);
    if (strchr(pending, '/') || strchr(final, '/') || pending[0] != '.' || final[0] == '.') abort();
    enum wr_sink_2pc_name kind;
    wr_sink_2pc_part_t q = {0};
    if (wr_sink_2pc_parse_hidden(pending, strlen(pending), &kind, &q) ||
        kind != WR_SINK_2PC_PENDING || q.attempt != p->attempt || q.subtask != p->subtask ||
        q.seq != p->seq)
        abort();
    if (wr_sink_2pc_parse_hidden(final, strlen(final), &kind, &q) != WR_EPROTO) abort();
}

static void s_check_state(const uint8_t *data, size_t size)
{
    wr_sink_2pc_part_t *parts = NULL, *again = NULL;
    uint32_t n = 7, m = 0;
    int rc = wr_sink_2pc_state_decode(data, size, &parts, &n);
    if (rc) {
        if (parts || n || (rc != WR_EPROTO && rc != WR_EVERSION && rc != WR_ENOMEM)) abort();
        return;
    }
    if ((n == 0) != (parts == NULL)) abort();
    for (uint32_t i = 0; i < n; i++)
        s_check_part(&parts[i]);
    wr_strbuf_t a, b;
    wr_strbuf_init(&a);
    wr_strbuf_init(&b);
    if (wr_sink_2pc_state_encode(parts, n, &a)) abort();
    if (wr_sink_2pc_state_decode((const uint8_t *)a.buf, a.len, &again, &m) || m != n) abort();
    if (n && memcmp(parts, again, n * sizeof *parts)) abort();
    if (wr_sink_2pc_state_encode(again, m, &b) || a.len != b.len || memcmp(a.buf, b.buf, a.len))
        abort();
    free(parts);
    free(again);
    wr_strbuf_release(&a);
    wr_strbuf_release(&b);
}

static void s_check_name(const uint8_t *data, size_t size)
{
    enum wr_sink_2pc_name kind;
    wr_sink_2pc_part_t p = {0};
    char name[WR_SINK_2PC_NAME_MAX];
    /* any of the three names (what a new job's first attempt reads from the folder) */
    if (wr_sink_2pc_parse_name((const char *)data, size, &kind, &p) == 0) {
        wr_sink_2pc_name(&p, kind, name);
        if (strlen(name) != size || memcmp(name, data, size)) abort(); /* one spelling only */
    }
    if (wr_sink_2pc_parse_hidden((const char *)data, size, &kind, &p)) return;
    if (kind == WR_SINK_2PC_FINAL) abort();
    wr_sink_2pc_name(&p, kind, name);
    if (strlen(name) != size || memcmp(name, data, size)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_check_state(data, size);
    s_check_name(data, size);
    return 0;
}
