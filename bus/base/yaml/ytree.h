/* weir's YAML files (the configuration, topologies, connector parameters) read into a tree of
 * nodes that know their line, and typed accessors that report every problem in one format:
 *
 *     FILE:LINE: KEY: what is wrong (what to do)
 *
 * e.g. "examples/iot.yaml:23: window.slide: '1x' is not a duration (use e.g. 1min, 30s)". KEY
 * is the dotted path of the value ("heartbeat.timeout", "sources[0].devices"), left out for
 * problems of the file as a whole ("invalid YAML: ...").
 *
 * A document is read whole (libyaml's event parser) before anything looks at it, so syntax
 * errors come first, each with its line. Scalars keep their text exactly as written (YAML's
 * escapes decoded; types are the accessors' business, not YAML's: `on` is a string until a
 * boolean is asked for). An alias (*name) becomes a node of its own at its line, marked with the
 * anchor's name and sharing the anchored node's contents: a reader that refuses aliases can say
 * so, one that does not sees the value. Every node and string belongs to the document.
 *
 * The accessors append messages to the err buffer given when the document was loaded (borrowed:
 * it must outlive the document); each message is one line, a newline first if err already holds
 * text. They return 0, WR_ECONFIG for a value the file got wrong, or WR_ENOMEM.
 *
 * Values (wr_yaml_spec_t) as people write them (bus/base/units.h, numparse.h): integers (with _
 * between digits: 5_000_000), durations (500ms, 3s, 2min, 1h; a bare number is ms), sizes (512,
 * 64kb, 1gb), booleans (true/false, yes/no, on/off), doubles, times (ISO-8601 or epoch ms) and
 * one word of a list. wr_yaml_parse_value reads the same values from text that did not come from
 * a file (a command-line override), with the same messages. */
#ifndef WR_YTREE_H
#define WR_YTREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

typedef enum { WR_YAML_SCALAR, WR_YAML_LIST, WR_YAML_MAP } wr_yaml_kind_t;

typedef struct wr_yaml_node wr_yaml_node_t;

typedef struct {
    const wr_yaml_node_t *key, *value;
} wr_yaml_pair_t;

/* A plain value, owned by its document. */
struct wr_yaml_node {
    wr_yaml_kind_t kind;
    uint32_t line;     /* where it starts, from 1 */
    const char *alias; /* an alias: the anchor it names ("fast" for *fast); else NULL */
    /* SCALAR: len bytes, NUL-terminated (it may hold NULs of its own, from a \0 escape) */
    const char *text;
    size_t len;
    bool plain; /* written without quotes (an empty plain scalar is "no value") */
    /* LIST: n items; MAP: n pairs in the file's order (a key given twice is there twice) */
    uint32_t n;
    const wr_yaml_node_t *const *items;
    const wr_yaml_pair_t *pairs;
};

typedef struct wr_yaml wr_yaml_t;

typedef struct {
    const char *what;         /* the file, for messages: "the topology" ("cannot read the
                                 topology: ...", "is this the topology?") */
    size_t max_bytes;         /* a larger file is refused */
    const char *one_document; /* what to do about a second document: "one topology per file" */
} wr_yaml_opts_t;

/* Parses text (len bytes) that came from origin (a name for messages; copied). On success *out
 * is the document (NULL root when it is empty or only comments). On failure *out is NULL, the
 * error (invalid YAML, a second document, too large) is in err, and the result is WR_ECONFIG or
 * WR_ENOMEM ("ORIGIN: out of memory" then). err is kept for the accessors below. */
int wr_yaml_load(const char *text, size_t len, const char *origin, const wr_yaml_opts_t *o,
                 wr_yaml_t **out, wr_strbuf_t *err);
/* The same for the file at path (the origin). A file that cannot be read is WR_ENOTFOUND (it
 * does not exist) or WR_EIO, with "PATH: cannot read WHAT: REASON" in err. */
int wr_yaml_load_file(const char *path, const wr_yaml_opts_t *o, wr_yaml_t **out, wr_strbuf_t *err);
/* Frees the document and every node and string of it; NULL-safe, nulls *y. */
void wr_yaml_destroy(wr_yaml_t **y);

/* The document's one top node, or NULL when it holds none. */
const wr_yaml_node_t *wr_yaml_root(const wr_yaml_t *y);
/* The origin given at load (borrowed). */
const char *wr_yaml_origin(const wr_yaml_t *y);

/* Appends one message "ORIGIN:LINE: KEY: TEXT" (no "KEY: " when key is NULL or empty) to the
 * document's err and returns WR_ECONFIG. */
int wr_yaml_fail(wr_yaml_t *y, uint32_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int wr_yaml_vfail(wr_yaml_t *y, uint32_t line, const char *key, const char *fmt, va_list ap);
/* Starts a message line in err: a newline first if err already holds text that does not end in
 * one. For messages built piece by piece (and those with another origin, such as "--KEY: "). */
void wr_yaml_new_line(wr_strbuf_t *err);
/* Appends user text as messages quote it: 'text', shortened to 60 bytes ("..."), control bytes as
 * '?', so a message stays one readable line whatever the file held. */
void wr_yaml_echo(wr_strbuf_t *sb, const char *text, size_t len);

/* "a list", "a mapping" or "a value". */
const char *wr_yaml_kind_name(const wr_yaml_node_t *n);
/* n must be a mapping (MAP) or a list (LIST); otherwise "KEY: expected a mapping, not a list
 * (e.g. EXAMPLE)" at n's line. */
int wr_yaml_expect(wr_yaml_t *y, const wr_yaml_node_t *n, wr_yaml_kind_t kind, const char *key,
                   const char *example);
/* The text of scalar n (borrowed): "KEY: expected a single value, not a list (e.g. EXAMPLE)" for
 * a list or a mapping (no example when it is NULL), "KEY: the value contains a NUL byte" for one
 * that does. An empty value is returned as it is. */
int wr_yaml_scalar(wr_yaml_t *y, const wr_yaml_node_t *n, const char *key, const char *example,
                   const char **text, size_t *len);

/* ---- typed values ---- */

typedef enum {
    WR_YAML_INT,      /* int64 within [lo, hi] */
    WR_YAML_DURATION, /* ms within [lo, hi] */
    WR_YAML_SIZE,     /* bytes within [lo, hi] */
    WR_YAML_BOOL,     /* 0 or 1 */
    WR_YAML_DOUBLE,   /* within [dlo, dhi] */
    WR_YAML_TIME,     /* epoch ms within [lo, hi] */
    WR_YAML_WORD      /* the index of one of words[] (a NULL-terminated list; "" entries are
                         skipped: values that exist but cannot be written) */
} wr_yaml_type_t;

typedef struct {
    wr_yaml_type_t type;
    int64_t lo, hi;
    double dlo, dhi;
    const char *const *words;
    const char *hint; /* after "'TEXT' " when TEXT is not such a value; NULL: the type's own
                         ("is not a duration (use e.g. 500ms, 3s, 2min)") */
    const char *dflt; /* the default as written: "no value (the default is 3s)"; NULL: "no value" */
    bool allowed;     /* "is out of range (allowed 1 to 64)" rather than "(1 to 64)" */
} wr_yaml_spec_t;

typedef union {
    int64_t i; /* INT, DURATION, SIZE, BOOL, TIME, WORD */
    double d;  /* DOUBLE */
} wr_yaml_value_t;

/* Reads text[0, len) as spec says into *out. On failure appends what is wrong to msg ("'3x' is
 * not a duration (use e.g. 500ms, 3s, 2min)", "'0' is out of range (1 to 64)", "no value", "'x'
 * is not one of a, b") and returns WR_ECONFIG; *out is untouched then. */
int wr_yaml_parse_value(const wr_yaml_spec_t *spec, const char *text, size_t len,
                        wr_yaml_value_t *out, wr_strbuf_t *msg);
/* wr_yaml_scalar, then wr_yaml_parse_value, its message at n's line under key. */
int wr_yaml_get(wr_yaml_t *y, const wr_yaml_node_t *n, const char *key, const wr_yaml_spec_t *spec,
                wr_yaml_value_t *out);
/* The range of spec as messages write it, in the type's own unit: "1 to 64", "50ms to 1h",
 * "1kb to 1gb", "0 to 1". */
void wr_yaml_add_range(wr_strbuf_t *sb, const wr_yaml_spec_t *spec);
/* One value as a user would write it: durations and sizes in the largest unit that divides them
 * exactly ("2min", "64mb"), other numbers as they are. */
void wr_yaml_add_value(wr_strbuf_t *sb, wr_yaml_type_t type, int64_t v);

#endif
