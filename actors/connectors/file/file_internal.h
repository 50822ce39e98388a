/* Internal to the file connector: its sink's class, which file_source.c puts into the
 * connector with its source's. */
#ifndef WR__FILE_INTERNAL_H
#define WR__FILE_INTERNAL_H

#include "actors/connectors/connector.h"

extern const wr_sink_class_t wr__file_sink;

#endif
