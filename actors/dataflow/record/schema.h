/* Record schemas: an ordered list of typed, named fields. A plain value (no pointers), so it is
 * copied freely and travels in job graphs (wr_schema_pack / wr_schema_unpack).
 *
 * Types and their in-memory column representation (see batch.h):
 *   int     int64_t
 *   double  double
 *   bool    int64_t 0 or 1 (one representation for every 8-byte column keeps kernels simple)
 *   time    int64_t milliseconds since the Unix epoch (event time)
 *   string  bytes in the batch's string heap, addressed by u32 offsets */
#ifndef WR_SCHEMA_H
#define WR_SCHEMA_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/mp.h"

#define WR_SCHEMA_MAX_FIELDS 64
#define WR_FIELD_NAME_MAX    32 /* NUL included: [A-Za-z_][A-Za-z0-9_]*, at most 31 chars */

enum wr_type { WR_T_INT, WR_T_DOUBLE, WR_T_BOOL, WR_T_TIME, WR_T_STRING };

typedef struct {
    char name[WR_FIELD_NAME_MAX];
    enum wr_type type;
} wr_field_t;

typedef struct {
    uint32_t n;
    wr_field_t f[WR_SCHEMA_MAX_FIELDS];
} wr_schema_t;

/* An empty schema (all bytes zeroed, so schemas built the same way compare equal with memcmp). */
void wr_schema_init(wr_schema_t *s);
/* Appends a field. WR_EINVAL for a bad name, WR_EEXIST for a duplicate, WR_ETOOBIG when full. */
int wr_schema_add(wr_schema_t *s, const char *name, enum wr_type type);
/* Index of the field called name, or -1. */
int wr_schema_find(const wr_schema_t *s, const char *name);
/* Same fields (names and types) in the same order. */
bool wr_schema_equal(const wr_schema_t *a, const wr_schema_t *b);

/* "int", "double", "bool", "time", "string". */
const char *wr_type_name(enum wr_type t);
/* Parses a type name (also accepts "long"/"int64" for int, "float"/"float64" for double,
 * "timestamp" for time, "str" for string), ignoring case. WR_EINVAL if unknown. */
int wr_type_parse(const char *name, enum wr_type *t);
/* [A-Za-z_][A-Za-z0-9_]*, 1 to WR_FIELD_NAME_MAX - 1 characters. */
bool wr_field_name_valid(const char *name);

/* msgpack form: [[name, type name]...]. pack returns 0, or WR_ENOMEM when the packer's writer
 * fails. unpack validates everything (it comes off the bus): WR_EPROTO on any defect (also set
 * in r->err if no earlier error was), and *s is untouched then. */
int wr_schema_pack(const wr_schema_t *s, msgpack_packer *pk);
int wr_schema_unpack(wr_mp_reader_t *r, wr_schema_t *s);

#endif
