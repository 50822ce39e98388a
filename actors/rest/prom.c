/* Prometheus' text exposition format (prom.h). */
#include "actors/rest/prom.h"

#include <math.h>
#include <stdio.h>

static void s_escaped(wr_strbuf_t *out, const char *s, size_t len, bool quotes)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\')
            wr_strbuf_adds(out, "\\\\");
        else if (c == '\n')
            wr_strbuf_adds(out, "\\n");
        else if (c == '"' && quotes)
            wr_strbuf_adds(out, "\\\"");
        else
            wr_strbuf_addc(out, c);
    }
}

void wr_prom_family(wr_strbuf_t *out, const char *name, const char *type, const char *help)
{
    wr_strbuf_addf(out, "# HELP %s ", name);
    for (const char *p = help; *p; p++)
        s_escaped(out, p, 1, false);
    wr_strbuf_addf(out, "\n# TYPE %s %s\n", name, type);
}

void wr_prom_sample(wr_strbuf_t *out, const char *name, const wr_prom_label_t *labels,
                    size_t nlabels, double value)
{
    wr_strbuf_adds(out, name);
    for (size_t i = 0; i < nlabels; i++) {
        wr_strbuf_addf(out, "%s%s=\"", i ? "," : "{", labels[i].name);
        s_escaped(out, labels[i].value, labels[i].len, true);
        wr_strbuf_addc(out, '"');
    }
    if (nlabels) wr_strbuf_addc(out, '}');
    if (isnan(value))
        wr_strbuf_adds(out, " NaN\n");
    else if (isinf(value))
        wr_strbuf_adds(out, value > 0 ? " +Inf\n" : " -Inf\n");
    else if (value == floor(value) && fabs(value) < 9007199254740992.0)
        wr_strbuf_addf(out, " %.0f\n", value);
    else
        wr_strbuf_addf(out, " %.17g\n", value);
}
