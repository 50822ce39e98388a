/* Declared parameters: a table of keys, each with its type, range, default and documentation, and
 * its place in a plain C struct. From the table alone the keys are read out of a YAML mapping
 * (every problem named FILE:LINE: KEY), packed into msgpack for the bus and read back strictly,
 * compared and freed. A connector declares its keys this way (connector.h), so the topology loader
 * validates them without knowing the connector; the topology's own keys use the same tables.
 *
 *   typedef struct { uint64_t devices; int64_t interval_ms; char *path; } my_config_t;
 *   static const wr_param_t s_params[] = {
 *       {.key = "devices", .type = WR_PARAM_INT, WR_PARAM_AT(my_config_t, devices), .lo = 1,
 *        .hi = 1000000, .dflt = "1000", .doc = "devices simulated"},
 *       {.key = "interval", .type = WR_PARAM_DURATION, WR_PARAM_AT(my_config_t, interval_ms),
 *        .lo = 1, .hi = 3600000, .dflt = "10s", .doc = "between two readings of a device"},
 *       {.key = "path", .type = WR_PARAM_PATH, WR_PARAM_AT(my_config_t, path), .required = true,
 *        .example = "data.jsonl", .doc = "the file, relative to the topology's folder"},
 *   };
 *
 * Values in files are written as people write them (bus/base/yaml/ytree.h: 5_000_000, 10min,
 * 2024-01-01T00:00:00Z, true). On the bus every parameter travels, defaults resolved, as one
 * key/value pair of a map, in table order: the reader wants each exactly once, within its range,
 * and nothing else (WR_EPROTO).
 *
 * Strings (STRING, PATH, LIST, PAIRS) are owned by the struct: wr_params_release frees them;
 * CHARS are arrays inside it. Enums are stored as int. A STRING or PATH parameter is required or
 * has a default (the bus form has no "none" for it; tests/test_connectors.c checks every
 * connector's); a LIST or PAIRS one may be none (NULL, "" on the bus), and its text, newlines
 * included, is at most WR_PARAM_STRING_MAX - 1 bytes. */
#ifndef WR_PARAMS_H
#define WR_PARAMS_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/mp.h"
#include "bus/base/strbuf.h"
#include "bus/base/yaml/ytree.h"

#define WR_PARAM_MAX        32   /* parameters of one table (a connector's) */
#define WR_PARAM_STRING_MAX 4096 /* STRING and PATH values, NUL included */

typedef enum {
    WR_PARAM_INT,      /* uint32_t, uint64_t or int64_t (by size) within [lo, hi] */
    WR_PARAM_DURATION, /* int64_t milliseconds within [lo, hi]: 500ms, 30s, 10min */
    WR_PARAM_TIME,     /* int64_t epoch ms within [lo, hi]: ISO-8601 or an integer */
    WR_PARAM_DOUBLE,   /* double within [dlo, dhi] */
    WR_PARAM_BOOL,     /* bool */
    WR_PARAM_ENUM,     /* int: the index of the value's word in words[] ("" words exist but
                          cannot be written in a file) */
    WR_PARAM_STRING,   /* char *, owned: 1 to WR_PARAM_STRING_MAX - 1 bytes */
    WR_PARAM_PATH,     /* as STRING; read from a file, a relative path is taken relative to the
                          file's folder */
    WR_PARAM_CHARS,    /* char[size]: 1 to size - 1 bytes that valid() accepts; "" only from the
                          bus, and only with empty_ok */
    WR_PARAM_LIST,     /* char *, owned: a list of values in a file ([a, b]; one value is a list of
                          one), kept as lines: "a\nb". Each value is 1 or more bytes, no newline;
                          NULL: none given (an empty list is none) */
    WR_PARAM_PAIRS     /* char *, owned: a mapping of names to single values in a file, kept as
                          "name=value" lines in the file's order (librdkafka's properties). No
                          newline in either, no '=' in a name; NULL: none given */
} wr_param_type_t;

typedef struct {
    const char *key;
    wr_param_type_t type;
    size_t off, size;         /* the value's place in the struct (WR_PARAM_AT) */
    const char *dflt;         /* the default as a file writes it; NULL: zero (or none) */
    bool from_cwd;            /* PATH: a relative path read from a file is taken from the working
                                 directory of the reader (the CLI, `weir local`), not the file's
                                 folder */
    bool required;            /* a file must give it: "no KEY (KEY: EXAMPLE)" */
    bool bus_only;            /* never in a file (the bus form carries it) */
    int64_t lo, hi;           /* INT, DURATION, TIME */
    double dlo, dhi;          /* DOUBLE */
    const char *const *words; /* ENUM: NULL-terminated */
    bool (*valid)(const char *s, size_t len); /* CHARS (NULL: any) */
    bool empty_ok;                            /* CHARS: "" is a value (bus only) */
    const char *why;     /* CHARS, and the hint of a value that does not parse: "is not a
                            duration (use e.g. 1min, 30s)"; NULL: the type's own */
    const char *example; /* a value for messages ("results.jsonl"); NULL: the default */
    const char *doc;     /* what it means, for documentation */
} wr_param_t;

#define WR_PARAM_AT(st, m) .off = offsetof(st, m), .size = sizeof(((st *)0)->m)

/* Tables read together from one mapping (a source's common keys and its connector's), each with
 * the struct it fills. Parameters are numbered across the groups in order ("global index"). */
typedef struct {
    const wr_param_t *p;
    size_t n;
    void *base;
} wr_param_group_t;

/* Sets every parameter of the table in base to its default (zero without one). 0, or WR_ENOMEM
 * (a string); a default that fails its own declaration is our bug and asserts. */
int wr_params_defaults(const wr_param_t *p, size_t n, void *base);
/* Frees the strings of base that the table owns and nulls them; base stays otherwise. */
void wr_params_release(const wr_param_t *p, size_t n, void *base);
/* Every value equal (strings by content, doubles by ==). */
bool wr_params_equal(const wr_param_t *p, size_t n, const void *a, const void *b);
/* The index of key in the table, or -1. */
int wr_params_find(const wr_param_t *p, size_t n, const char *key, size_t len);
/* Parameters of the groups in all. */
size_t wr_params_count(const wr_param_group_t *g, size_t ng);
/* The next line of a LIST or PAIRS value: *at (a position in it, 0 at first) moves past it, and
 * [*line, *line + *len) is its text. false when there are no more (also for NULL). */
bool wr_params_next_line(const char *value, size_t *at, const char **line, size_t *len);

/* ---- a YAML mapping ---- */

/* What to read out of one mapping, and where the lines go. */
typedef struct {
    const wr_param_group_t *groups;
    size_t ngroups;
    const char *dir; /* PATH values relative to this folder (NULL: kept as written) */
    /* keys the caller reads itself: their value nodes into special[i], their lines into
     * special_line[i] (both by index in specials) */
    const char *const *specials;
    const wr_yaml_node_t **special;
    uint32_t *special_line;
    uint32_t *lines; /* per parameter (global index): the line it was given on, 0 if not */
    /* an unknown key (its full path in key): returns the error it makes. NULL: "KEY: unknown
     * key (PATH takes: ...)" */
    int (*unknown)(void *arg, wr_yaml_t *y, uint32_t line, const char *key, const char *name);
    void *arg;
} wr_params_map_t;

/* Reads the pairs of mapping `map` (whose path is `path`: "sources[0]", "" for the top) into the
 * groups' structs: each declared key once ("KEY: given twice (first on line N)"), its value as
 * its type wants it. Keys missing keep what the structs held (wr_params_defaults first);
 * required ones are the caller's to check with lines[] (wr_params_missing). 0, WR_ECONFIG,
 * WR_ENOMEM. */
int wr_params_read_yaml(wr_yaml_t *y, const wr_yaml_node_t *map, const char *path,
                        const wr_params_map_t *m);
/* The first required parameter of the groups that lines[] says was not given ("no path (path:
 * results.jsonl)" at line, under path), or 0. */
int wr_params_missing(wr_yaml_t *y, uint32_t line, const char *path, const wr_param_group_t *g,
                      size_t ng, const uint32_t *lines);
/* Appends "k1, k2, ..." of the groups (file keys only) after sep-separated text already in sb. */
void wr_params_add_keys(wr_strbuf_t *sb, const wr_param_group_t *g, size_t ng);

/* ---- the bus ---- */

/* Packs every parameter of the groups as key/value pairs (the caller packs the map header:
 * wr_params_count pairs, plus its own). 0 or -1 (msgpack-c's failure). */
int wr_params_pack(msgpack_packer *pk, const wr_param_group_t *g, size_t ng);
/* Reads the value of parameter i (global index) of the groups, its key already read. */
int wr_params_unpack_value(wr_mp_reader_t *r, const wr_param_group_t *g, size_t ng, size_t i);
/* Reads a map holding every parameter of the groups exactly once, and keys `special` takes
 * (returning 0, an error, or 1 for a key it does not know). WR_EPROTO for anything else: an
 * unknown key, a value of the wrong type or out of range, a parameter missing or twice. */
int wr_params_unpack_map(wr_mp_reader_t *r, const wr_param_group_t *g, size_t ng,
                         int (*special)(wr_mp_reader_t *r, const char *key, uint32_t len,
                                        void *arg),
                         void *arg);

/* ---- checks across parameters ---- */

/* What a connector's check (connector.h) sees: its table and values, which of them the file
 * gave, and how to report. From the bus every parameter counts as given and a failure is
 * WR_EPROTO without a message. */
typedef struct {
    const wr_param_t *p;
    size_t n;
    const uint32_t *lines; /* per parameter of p: its line in the file, 0 if not given; NULL
                              from the bus */
    uint32_t line;         /* the item's own line */
    const char *path;      /* the item: "sources[0]" */
    wr_yaml_t *doc;        /* NULL from the bus */
} wr_param_check_t;

/* Was parameter key given (always true from the bus)? */
bool wr_param_given(const wr_param_check_t *ck, const char *key);
/* "FILE:LINE: PATH: TEXT" at key's line (the item's when key is NULL or not given) and
 * WR_ECONFIG; WR_EPROTO from the bus. */
int wr_param_fail(const wr_param_check_t *ck, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
