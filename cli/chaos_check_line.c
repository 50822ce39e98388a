/* One line of the chaos job's output, read strictly (chaos_check_int.h): the sink's own format
 * (actors/dataflow/record/rowfmt.h, json), nothing more and nothing less. */
#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/jsonr.h"
#include "bus/base/numfmt.h"
#include "cli/chaos_check_int.h"

enum { S_DEVICE, S_START, S_END, S_N, S_LO, S_HI, S_SUM, S_NKEYS };

static const char *const s_keys[S_NKEYS] = {"device", "window_start", "window_end", "n",
                                            "lo",     "hi",           "sum"};

static int s_refuse(char *why, size_t cap, const char *fmt, const char *arg)
{
    if (cap) snprintf(why, cap, fmt, arg);
    return WR_EPROTO;
}

/* The value of key k into row: integers for the first four, numbers for the rest. */
static int s_value(wr_jsonr_t *r, int k, wr__chaos_row_t *row, char *why, size_t cap)
{
    enum wr_jsonr_kind kind = wr_jsonr_peek(r);
    if (kind == WR_JSONR_NULL && k >= S_LO)
        return s_refuse(why, cap, "'%s' is null (not a finite number)", s_keys[k]);
    if (kind != WR_JSONR_NUM)
        return s_refuse(why, cap, k < S_LO ? "'%s' is not an integer" : "'%s' is not a number",
                        s_keys[k]);
    int64_t *ints[] = {&row->device, &row->start, &row->end, &row->n};
    double *dbls[] = {&row->lo, &row->hi, &row->sum};
    int rc = k < S_LO ? wr_jsonr_read_int(r, ints[k]) : wr_jsonr_read_double(r, dbls[k - S_LO]);
    if (rc)
        return s_refuse(why, cap,
                        k < S_LO ? "'%s' is not an integer (or out of range)"
                                 : "'%s' is not a valid number",
                        s_keys[k]);
    return 0;
}

int wr__chaos_parse_line(const char *line, size_t len, wr__chaos_row_t *row, char *why, size_t cap)
{
    memset(row, 0, sizeof *row);
    if (cap) why[0] = '\0';
    if (len == 0) return s_refuse(why, cap, "%sempty line", "");
    wr_jsonr_t r;
    wr_jsonr_init(&r, line, len);
    if (wr_jsonr_peek(&r) != WR_JSONR_OBJ || wr_jsonr_obj_begin(&r))
        return s_refuse(why, cap, "%snot a JSON object", "");
    bool seen[S_NKEYS] = {false};
    while (wr_jsonr_obj_next(&r)) {
        int k = 0;
        while (k < S_NKEYS && strcmp(r.key, s_keys[k]))
            k++;
        if (k == S_NKEYS) return s_refuse(why, cap, "unknown key '%.40s'", r.key);
        if (seen[k]) return s_refuse(why, cap, "'%s' given twice", s_keys[k]);
        seen[k] = true;
        int rc = s_value(&r, k, row, why, cap);
        if (rc) return rc;
    }
    if (r.err || wr_jsonr_end(&r))
        return s_refuse(why, cap, "%smalformed JSON (or bytes after the object)", "");
    for (int k = 0; k < S_NKEYS; k++)
        if (!seen[k]) return s_refuse(why, cap, "no '%s'", s_keys[k]);
    return 0;
}

void wr__chaos_format_row(const wr__chaos_row_t *row, char *out, size_t cap)
{
    char d[4][WR_NUMFMT_I64_MAX + 1], f[3][WR_NUMFMT_JSON_MAX + 1];
    int64_t ints[] = {row->device, row->start, row->end, row->n};
    double dbls[] = {row->lo, row->hi, row->sum};
    for (int i = 0; i < 4; i++)
        d[i][wr_numfmt_i64(d[i], ints[i])] = '\0';
    for (int i = 0; i < 3; i++)
        f[i][wr_numfmt_json_double(f[i], dbls[i])] = '\0';
    snprintf(out, cap,
             "{\"device\":%s,\"window_start\":%s,\"window_end\":%s,\"n\":%s,\"lo\":%s,\"hi\":%s,"
             "\"sum\":%s}",
             d[0], d[1], d[2], d[3], f[0], f[1], f[2]);
}

bool wr__chaos_line_device(const char *line, size_t len, int64_t *device)
{
    static const char prefix[] = "{\"device\":";
    size_t at = sizeof prefix - 1, end = at;
    if (len < at || memcmp(line, prefix, at)) return false;
    int64_t d = 0;
    for (; end < len && end - at < 10 && line[end] >= '0' && line[end] <= '9'; end++)
        d = d * 10 + (line[end] - '0');
    if (end == at || end == len || line[end] != ',') return false;
    *device = d;
    return true;
}
