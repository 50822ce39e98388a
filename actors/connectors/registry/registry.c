/* The table of connectors (registry.h). Its order is the order messages list them in. */
#include "actors/connectors/registry/registry.h"

#include <string.h>

#include "actors/connectors/collect/collect_sink.h"
#include "actors/connectors/file/file.h"
#include "actors/connectors/generator/generator.h"
#include "actors/connectors/influxdb/influxdb.h"
#include "actors/connectors/kafka/kafka.h"
#include "actors/connectors/mqtt/mqtt.h"
#include "actors/connectors/redis/redis.h"
#include "actors/connectors/stdout/stdout_sink.h"

static const wr_connector_t *const s_connectors[] = {
    &wr_stdout_connector, &wr_generator_connector, &wr_file_connector,     &wr_kafka_connector,
    &wr_mqtt_connector,   &wr_redis_connector,     &wr_influxdb_connector, &wr_collect_connector,
};

enum { S_N = sizeof s_connectors / sizeof *s_connectors };

static bool s_named(const char *name, const char *type, size_t len)
{
    return strlen(name) == len && !memcmp(name, type, len);
}

const wr_source_class_t *wr_connectors_source(const char *type, size_t len)
{
    for (size_t i = 0; i < S_N; i++)
        if (s_connectors[i]->source && s_named(s_connectors[i]->source->type, type, len))
            return s_connectors[i]->source;
    return NULL;
}

const wr_sink_class_t *wr_connectors_sink(const char *type, size_t len)
{
    for (size_t i = 0; i < S_N; i++)
        if (s_connectors[i]->sink && s_named(s_connectors[i]->sink->type, type, len))
            return s_connectors[i]->sink;
    return NULL;
}

const wr_source_class_t *wr_connectors_source_at(size_t i)
{
    for (size_t k = 0; k < S_N; k++)
        if (s_connectors[k]->source && i-- == 0) return s_connectors[k]->source;
    return NULL;
}

const wr_sink_class_t *wr_connectors_sink_at(size_t i)
{
    for (size_t k = 0; k < S_N; k++)
        if (s_connectors[k]->sink && i-- == 0) return s_connectors[k]->sink;
    return NULL;
}
