/* Prometheus' text exposition format (version 0.0.4), written: what a /metrics page is made of.
 * A pure library: no I/O, no state beyond the buffer it appends to.
 *
 *     wr_prom_family(out, "weir_bus_bytes_in_total", "counter", "Bytes the bus received.");
 *     wr_prom_label_t l[] = {WR_PROM_LABEL("node", "tm-1")};
 *     wr_prom_sample(out, "weir_bus_bytes_in_total", l, 1, 12345);
 *
 * Every sample of a family must follow its family's lines, before the next family (Prometheus
 * refuses a page that comes back to a family): the caller writes a family, then all its samples.
 * Label values are escaped (\\, \" and \n); names are the caller's and must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* (they are this codebase's constants). Values print exactly while they
 * are integers below 2^53, else as %.17g; NaN and the infinities as Prometheus spells them. */
#ifndef WR_PROM_H
#define WR_PROM_H

#include <stddef.h>

#include "bus/base/strbuf.h"

typedef struct {
    const char *name;
    const char *value; /* len bytes, not necessarily NUL-terminated */
    size_t len;
} wr_prom_label_t;

#define WR_PROM_LABEL(n, v)                                                                        \
    {                                                                                              \
        (n), (v), sizeof(v) - 1                                                                    \
    }

/* "# HELP name help" and "# TYPE name type" (counter, gauge). help may hold any text: its
 * backslashes and newlines are escaped. */
void wr_prom_family(wr_strbuf_t *out, const char *name, const char *type, const char *help);
/* One line: name{labels...} value (no braces without labels). */
void wr_prom_sample(wr_strbuf_t *out, const char *name, const wr_prom_label_t *labels,
                    size_t nlabels, double value);

#endif
