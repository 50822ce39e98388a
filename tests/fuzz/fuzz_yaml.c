/* libFuzzer target: topology files, as a user writes them, through the YAML layer
 * (bus/base/yaml/ytree.h) and the topology reader (actors/dataflow/job/topology_read.c, connector
 * parameters from their declarations). Input: the file's bytes. Checks: only documented errors,
 * each one line "f.yaml:LINE: ..." and nothing left behind; whatever reads packs for the bus and
 * reads back equal. */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/topology.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_topology_t *t = NULL;
    int rc = wr_topology_parse((const char *)data, size, "f.yaml", &t, &err);
    if (rc) {
        if (t || (rc != WR_ECONFIG && rc != WR_ENOMEM)) abort();
        if (rc == WR_ECONFIG && (strncmp(err.buf, "f.yaml:", 7) || strchr(err.buf, '\n'))) abort();
        wr_strbuf_release(&err);
        return 0;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (wr_topology_pack(t, &pk)) abort();
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, sb.data, sb.size);
    wr_topology_t *back = NULL;
    if (wr_topology_unpack(&r, &back) || wr_mp_remaining(&r) || !wr_topology_equal(t, back))
        abort();
    wr_topology_destroy(&back);
    wr_topology_destroy(&t);
    msgpack_sbuffer_destroy(&sb);
    wr_strbuf_release(&err);
    return 0;
}
