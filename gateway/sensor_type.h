/* sensor_type.h — the sensor vocabulary: the kinds of sensor tryggd knows,
 * their names and units as the interface spells them (CONTRACT.md), and the
 * range a physical reading of each can take.  At the bottom: formats,
 * drivers and the configuration all use it, and it uses nothing. */
#ifndef TRYGGD_SENSOR_TYPE_H
#define TRYGGD_SENSOR_TYPE_H

#include <stdbool.h>

enum sensor_type { SENSOR_FOOTFALL, SENSOR_LIGHT, SENSOR_LAMP };

#define SENSOR_TYPE_COUNT 3

const char *sensor_type_name(enum sensor_type type);   /* "footfall", "light", "lamp" */
const char *sensor_type_unit(enum sensor_type type);   /* "count", "lx", "on" */

/* The type called name; false when there is none. */
bool sensor_type_parse(const char *name, enum sensor_type *out);

/* Whether a reading can come from a working sensor of this type: lux from 0
 * to a little above full sunlight, a lamp 0 or 1, a count not negative.
 * Anything else is a fault (a broken wire, a misread register), never data. */
bool sensor_type_value_plausible(enum sensor_type type, double value);

#endif
