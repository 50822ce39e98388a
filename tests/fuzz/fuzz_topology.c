/* libFuzzer target: the topology decoder the JobManager and TaskManagers run on what arrives over
 * the bus (JOB_SUBMIT, TASK_DEPLOY). Input: the msgpack bytes. Whatever decodes is valid (the
 * decoder validates it as the file parser does) and must pack back and decode to an equal
 * topology, byte for byte on a second pack. */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/topology.h"
#include "bus/base/mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_pack(const wr_topology_t *t, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (wr_topology_pack(t, &pk)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, data, size);
    wr_topology_t *t = NULL;
    if (wr_topology_unpack(&r, &t)) {
        if (t) abort(); /* a failure leaves nothing behind */
        return 0;
    }
    msgpack_sbuffer a, b;
    s_pack(t, &a);
    wr_mp_reader_init(&r, (const uint8_t *)a.data, a.size);
    wr_topology_t *u = NULL;
    if (wr_topology_unpack(&r, &u) || wr_mp_remaining(&r)) abort(); /* our own bytes decode */
    s_pack(u, &b);
    if (a.size != b.size || memcmp(a.data, b.data, a.size)) abort();
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    wr_topology_destroy(&t);
    wr_topology_destroy(&u);
    return 0;
}
