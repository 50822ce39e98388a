/* The Kafka connector (kafka.h): its source and its sink. */
#include "actors/connectors/kafka/kafka.h"

const wr_connector_t wr_kafka_connector = {
    .source = &wr_kafka_source_class,
    .sink = &wr_kafka_sink_class,
};
