/* The leader's discovery through etcd (tm_discovery.h). */
#include "actors/taskmanager/tm_discovery.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/cluster/cluster.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/stopper.h"

struct wr__discovery {
    wr_etcd_t *etcd;
    char *cluster;
    int64_t every_ms;
    wr_node_t *node;
    char to[WR_ADDR_MAX];
    uint16_t type;
    pthread_t thread;
    wr_stopper_t stopper;
};

static void *s_run(void *arg)
{
    wr__discovery_t *d = arg;
    wr_ha_candidate_t told = {0};
    int last_rc = 0;
    do {
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        wr_ha_candidate_t now;
        int rc = wr_ha_leader(d->etcd, d->cluster, &now, &err);
        if (rc && rc != last_rc)
            wr_warn("taskmanager: cannot learn the leader from etcd: %s",
                    rc == WR_ENOTFOUND ? "no JobManager campaigns"
                    : err.len          ? err.buf
                                       : "");
        last_rc = rc;
        wr_strbuf_release(&err);
        if (rc || (now.epoch == told.epoch && !strcmp(now.addr.node, told.addr.node) &&
                   !strcmp(now.addr.endpoint, told.addr.endpoint)))
            continue;
        wr_msg_t *m = wr_msg_new(d->type, NULL, d->to, &now, sizeof now);
        rc = m ? wr_node_send(d->node, &m) : WR_ENOMEM;
        wr_msg_destroy(&m);
        if (!rc) told = now; /* else told again at the next round */
    } while (!wr_stopper_wait(&d->stopper, d->every_ms));
    return NULL;
}

static void s_free(wr__discovery_t *d)
{
    wr_etcd_destroy(&d->etcd);
    free(d->cluster);
    wr_stopper_destroy(&d->stopper);
    free(d);
}

wr__discovery_t *wr__discovery_start(const wr_ha_opts_t *o, wr_node_t *node, const char *to,
                                     uint16_t type, wr_strbuf_t *err)
{
    if (wr_ha_opts_check(o, err)) return NULL;
    wr__discovery_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    wr_stopper_init(&d->stopper);
    d->every_ms = o->renew_ms;
    d->node = node;
    d->type = type;
    snprintf(d->to, sizeof d->to, "%s", to);
    wr_etcd_opts_t eo = wr_ha_client_opts(&o->etcd, o->renew_ms < 1000 ? 1000 : o->renew_ms);
    d->cluster = strdup(o->cluster_id);
    if (d->cluster) d->etcd = wr_etcd_new(o->endpoints, &eo, err);
    if (!d->etcd || pthread_create(&d->thread, NULL, s_run, d)) {
        s_free(d);
        return NULL;
    }
    return d;
}

void wr__discovery_stop(wr__discovery_t **dp)
{
    wr__discovery_t *d = *dp;
    if (!d) return;
    wr_stopper_stop(&d->stopper);
    pthread_join(d->thread, NULL);
    s_free(d);
    *dp = NULL;
}
