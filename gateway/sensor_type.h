/* sensor_type.h — the sensor vocabulary: the kinds of sensor tryggd knows,
 * their names and units as the interface spells them (CONTRACT.md), and the
 * range a physical reading of each can take.  At the bottom: formats,
 * drivers and the configuration all use it, and it uses nothing. */
#ifndef TRYGGD_SENSOR_TYPE_H
#define TRYGGD_SENSOR_TYPE_H

#include <stdbool.h>
#include <stdint.h>

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

/* The most passes a footfall counter at a path can count in one second.  A
 * dense crowd moves through a passage at about 1.5 people a second per metre
 * of its width (the capacity pedestrian planning works with), so a beam or a
 * PIR across a path a few metres wide sees some five a second in a crush;
 * this allows four times that.  It stays below 50: a floating input near
 * mains wiring picks up the 50 Hz hum, 100 edges a second, which a beam's
 * 10 ms debounce turns into up to 50 passes a second.  What counts faster is
 * a floating or shorted input, a misread register or a broken driver. */
#define SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX 20

/* Whether passes counted over span_ms can be people: not more than
 * SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX a second of it (the count itself
 * is judged by sensor_type_value_plausible()). */
bool sensor_type_passes_plausible(double passes, int64_t span_ms);

#endif
