/* The InfluxDB sink's writer (influxdb.h): the hooks of wr_sink_class_t that its class
 * (influxdb_sink.c) points at. Internal to the connector. */
#ifndef WR_INFLUXDB_WRITER_H
#define WR_INFLUXDB_WRITER_H

#include "actors/connectors/connector.h"

int wr__influxdb_open(const void *config, const wr_sink_open_t *o, void **writer, wr_strbuf_t *err);
void wr__influxdb_close(void **writer);
int wr__influxdb_write(void *writer, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel);
int wr__influxdb_flush(void *writer);
int wr__influxdb_barrier(void *writer, uint64_t checkpoint_id);
const char *wr__influxdb_failed_on(void *writer);

#endif
