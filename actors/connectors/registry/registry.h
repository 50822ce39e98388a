/* The connectors weir knows: one table (registry.c), one line per connector. Adding one is its
 * folder under actors/connectors/ (its own layer 'conn_<folder>', with only its packages: this
 * folder's SConscript depends on every such layer by itself), its line in the table, and its
 * tests (tests/test_connectors.c checks its keys as soon as it is in the table).
 *
 * The topology loader finds a source's or a sink's class here by its `type:`; nothing else looks
 * connectors up by name. */
#ifndef WR_REGISTRY_H
#define WR_REGISTRY_H

#include <stddef.h>

#include "actors/connectors/connector.h"

/* The class of the source (sink) called type[0, len), or NULL. */
const wr_source_class_t *wr_connectors_source(const char *type, size_t len);
const wr_sink_class_t *wr_connectors_sink(const char *type, size_t len);
/* The i-th source (sink) class in table order, or NULL past the last: for messages that list
 * them ("generator, file") and for documentation. */
const wr_source_class_t *wr_connectors_source_at(size_t i);
const wr_sink_class_t *wr_connectors_sink_at(size_t i);

#endif
