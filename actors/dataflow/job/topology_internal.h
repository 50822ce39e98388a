/* Internal to the topology's files: the tables of its keys (one declaration each, shared by the
 * YAML reader and the bus form), the lines a file gave them, and the check both run.
 *
 *   topology.c        the tables, sources and sinks (their connectors' configs), names, destroy
 *   topology_read.c   a YAML file into the structure
 *   topology_check.c  validation and derived fields (schemas, indices), for files and the bus
 *   topology_pack.c   the msgpack form for the bus and its strict decoder
 *   topology_equal.c  deep equality */
#ifndef WR__TOPOLOGY_INTERNAL_H
#define WR__TOPOLOGY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/params.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/yaml/ytree.h"

#define WR__TOPO_FORMAT_VERSION 1

/* ---- the tables (topology.c); the enums index them ---- */

enum { WR__TOP_NAME, WR__TOP_PAR, WR__TOP_MAXPAR, WR__TOP_KEY, WR__TOP_N };
extern const wr_param_t wr__topo_top[WR__TOP_N];
enum { WR__ET_FIELD, WR__ET_N = 4 };
extern const wr_param_t wr__topo_event_time[WR__ET_N];
enum {
    WR__WIN_TYPE,
    WR__WIN_NAME,
    WR__WIN_PAR,
    WR__WIN_SIZE,
    WR__WIN_SLIDE,
    WR__WIN_GAP,
    WR__WIN_LATENESS,
    WR__WIN_N = 8
};
extern const wr_param_t wr__topo_window[WR__WIN_N];
enum { WR__OP_TYPE, WR__OP_NAME, WR__OP_PAR, WR__OP_N };
extern const wr_param_t wr__topo_op[WR__OP_N];
enum { WR__AGG_N = 4 };
extern const wr_param_t wr__topo_agg[WR__AGG_N];
/* a source's or sink's own keys, before its connector's (its type is read apart) */
enum { WR__IO_NAME, WR__IO_PAR, WR__IO_N };
extern const wr_param_t wr__topo_source[WR__IO_N];
extern const wr_param_t wr__topo_sink[WR__IO_N];

extern const char *const wr__topo_window_words[];
extern const char *const wr__topo_op_words[];
extern const char *const wr__topo_agg_words[];

#define WR__GROUP(table, base)                                                                     \
    {                                                                                              \
        (table), sizeof(table) / sizeof *(table), (base)                                           \
    }

/* The tables of a source (sink): its own keys, then its connector's. */
void wr__topo_source_groups(wr_topo_source_t *s, wr_param_group_t g[2]);
void wr__topo_sink_groups(wr_topo_sink_t *s, wr_param_group_t g[2]);
/* Gives s the connector cls with its parameters at their defaults (a config of its own). 0 or
 * WR_ENOMEM. */
int wr__topo_source_set(wr_topo_source_t *s, const wr_source_class_t *cls);
int wr__topo_sink_set(wr_topo_sink_t *s, const wr_sink_class_t *cls);
/* Frees s's config (NULL-safe). */
void wr__topo_source_free(wr_topo_source_t *s);
void wr__topo_sink_free(wr_topo_sink_t *s);

/* [a-z0-9_-] up to max - 1, or a job name ([A-Za-z0-9_.-]). */
bool wr__topo_name_ok(const char *s, size_t len, size_t max, bool job);
/* A field name (schema.h) of len bytes. */
bool wr__topo_field_ok(const char *s, size_t len);

/* ---- reading and checking ---- */

enum {
    WR__X_SCHEMA,
    WR__X_SOURCES,
    WR__X_OPERATORS,
    WR__X_EVENT_TIME,
    WR__X_WINDOW,
    WR__X_AGGREGATES,
    WR__X_SINKS,
    WR__X_N
};

/* The lines a file gave things on (0: not given), for messages of the check. */
typedef struct {
    uint32_t top[WR__TOP_N], top_x[WR__X_N];
    uint32_t et[WR__ET_N], win[WR__WIN_N], win_late, late[WR__IO_N + WR_PARAM_MAX];
    uint32_t src_item[WR_TOPO_MAX_SOURCES], src[WR_TOPO_MAX_SOURCES][WR__IO_N + WR_PARAM_MAX];
    uint32_t op_item[WR_TOPO_MAX_OPS], op[WR_TOPO_MAX_OPS][WR__OP_N];
    uint32_t out[WR_TOPO_MAX_OPS][WR_SCHEMA_MAX_FIELDS];
    uint32_t agg[WR_TOPO_MAX_AGGS];
    uint32_t sink_item[WR_TOPO_MAX_SINKS], sink[WR_TOPO_MAX_SINKS][WR__IO_N + WR_PARAM_MAX];
    bool schema_given;
} wr__topo_lines_t;

/* A file being read (doc and L set), or a topology off the bus (both NULL: every failure is
 * WR_EPROTO, without a message). */
typedef struct {
    wr_yaml_t *doc;
    wr__topo_lines_t *L;
} wr__topo_ctx_t;

/* "FILE:LINE: KEY: message" and WR_ECONFIG for a file; WR_EPROTO from the bus. */
int wr__topo_fail(wr__topo_ctx_t *c, uint32_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Validates a topology read from a file or off the bus and derives its schemas and indices
 * (topology_check.c). */
int wr__topo_check(wr__topo_ctx_t *c, wr_topology_t *t);

#endif
