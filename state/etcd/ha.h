/* weir's records in etcd for JobManager high availability: the key layout under a cluster's
 * prefix, the formats of the values, and the one lookup every node makes (who leads).
 *
 *   /weir/<cluster>/leader/<lease>   a JobManager's candidacy, put with its lease (16 hex digits)
 *                                    so that it goes when the lease does; the value is its
 *                                    address, "<node id>\n<bus endpoint>\n". The candidate with
 *                                    the lowest create revision leads, and that revision is its
 *                                    epoch: the recipe of etcd's own election service, kept in
 *                                    plain keys so that no call blocks (a standby polls).
 *   /weir/<cluster>/jobs/<job id>      the job's graph: its JOB_SUBMIT payload as accepted.
 *   /weir/<cluster>/pointers/<job id>  "<attempt>\n<checkpoint path>\n": the attempt last
 *                                    deployed and the checkpoint a restart restores ("" none).
 *
 * Epochs grow: a candidate leads only once every candidate created before it is gone, so the
 * next leader's key was created after the last leader's.
 *
 * Everything read back came over the network: the decoders are strict (exact field count, node
 * ids of [A-Za-z0-9_.-], no control bytes, bounded lengths) and fuzzed (tests/fuzz/fuzz_ha.c).
 * A value that does not decode is skipped by the lookups, never trusted. */
#ifndef WR_ETCD_HA_H
#define WR_ETCD_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"
#include "state/etcd/etcd.h"

#define WR_HA_CLUSTER_MAX  64  /* cluster id: 1..63 of [A-Za-z0-9_.-] */
#define WR_HA_NODE_MAX     32  /* node id: 1..31 of [A-Za-z0-9_.-] (as actors/runtime/node.h) */
#define WR_HA_ENDPOINT_MAX 128 /* bus endpoint: 1..127 printable bytes */
#define WR_HA_KEY_MAX      256
#define WR_HA_CANDIDATES   16 /* candidates a lookup reads; more are not expected */

/* How a node reaches the cluster's records (config keys high-availability.*; the strings are
 * borrowed and must outlive whatever is given them). */
typedef struct {
    const char *endpoints;  /* etcd URLs, comma-separated (etcd.h) */
    const char *cluster_id; /* the prefix's <cluster> */
    int64_t lease_ttl_ms;   /* a JobManager's lease: whole seconds, at least 2 s */
    int64_t renew_ms;       /* how often it renews it and every node polls who leads; at most a
                               third of the lease */
    wr_etcd_opts_t etcd;    /* user, password, TLS (its timeouts are set by each user) */
} wr_ha_opts_t;

/* base (user, password, TLS; borrowed) with a node's timeouts: requests time out after
 * timeout_ms, connects after at most 500 ms (a dead endpoint is left for the next soon). */
wr_etcd_opts_t wr_ha_client_opts(const wr_etcd_opts_t *base, int64_t timeout_ms);

/* WR_EINVAL with the reason in err when the options cannot work (see the fields). */
int wr_ha_opts_check(const wr_ha_opts_t *o, wr_strbuf_t *err);

bool wr_ha_cluster_id_valid(const char *id);

/* The key "/weir/<cluster>/<kind>/<name>" (name "" gives the prefix "/weir/<cluster>/<kind>/").
 * kind is "leader", "jobs" or "pointers". WR_ETOOBIG when it does not fit out[WR_HA_KEY_MAX]. */
int wr_ha_key(const char *cluster, const char *kind, const char *name, char out[WR_HA_KEY_MAX]);

/* A JobManager's address as its candidacy holds it. */
typedef struct {
    char node[WR_HA_NODE_MAX];
    char endpoint[WR_HA_ENDPOINT_MAX];
} wr_ha_addr_t;

/* Appends the value (WR_EINVAL for a node id or endpoint that would not decode back). */
int wr_ha_addr_encode(const wr_ha_addr_t *a, wr_strbuf_t *out);
/* WR_EPROTO for anything but exactly "<node>\n<endpoint>\n" within the limits; *a untouched. */
int wr_ha_addr_decode(const void *data, size_t len, wr_ha_addr_t *a);

/* A job's pointer: appends "<attempt>\n<path>\n" (WR_EINVAL for a path with a newline). */
int wr_ha_pointer_encode(uint32_t attempt, const char *checkpoint, wr_strbuf_t *out);
/* WR_EPROTO for another shape, an attempt that is not a decimal uint32, a path with control bytes
 * or one that does not fit path[cap]; outputs untouched then. */
int wr_ha_pointer_decode(const void *data, size_t len, uint32_t *attempt, char *path, size_t cap);

/* One candidacy read back. */
typedef struct {
    wr_ha_addr_t addr;
    int64_t epoch; /* the key's create revision */
    int64_t lease;
} wr_ha_candidate_t;

/* The candidates of cluster, lowest create revision (the leader) first: up to cap into out, *n
 * how many were stored; *skipped (may be NULL) how many values did not decode. Errors are the
 * client's (etcd.h). */
int wr_ha_candidates(wr_etcd_t *e, const char *cluster, wr_ha_candidate_t *out, size_t cap,
                     size_t *n, size_t *skipped, wr_strbuf_t *err);

/* The leading candidate: WR_ENOTFOUND when the cluster has none (no JobManager campaigns). */
int wr_ha_leader(wr_etcd_t *e, const char *cluster, wr_ha_candidate_t *out, wr_strbuf_t *err);

#endif
