/* The MQTT connector (mqtt.h): a source only. */
#include "actors/connectors/mqtt/mqtt.h"

const wr_connector_t wr_mqtt_connector = {
    .source = &wr_mqtt_source_class,
    .sink = NULL,
};
