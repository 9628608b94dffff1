/* sensor_type.c — see sensor_type.h. */
#include <math.h>
#include <string.h>

#include "sensor_type.h"

/* Direct sunlight at noon in summer is about 100–130 klx; a sensor in the
 * open never reads much more. */
#define LUX_MAX 200000.0

static const struct {
	const char *name;
	const char *unit;
} types[SENSOR_TYPE_COUNT] = {
	[SENSOR_FOOTFALL] = { "footfall", "count" },
	[SENSOR_LIGHT] = { "light", "lx" },
	[SENSOR_LAMP] = { "lamp", "on" },
};

const char *sensor_type_name(enum sensor_type type)
{
	return (unsigned)type < SENSOR_TYPE_COUNT ? types[type].name : "unknown";
}

const char *sensor_type_unit(enum sensor_type type)
{
	return (unsigned)type < SENSOR_TYPE_COUNT ? types[type].unit : "";
}

bool sensor_type_parse(const char *name, enum sensor_type *out)
{
	for (unsigned i = 0; i < SENSOR_TYPE_COUNT; i++) {
		if (strcmp(name, types[i].name) == 0) {
			*out = (enum sensor_type)i;
			return true;
		}
	}
	return false;
}

bool sensor_type_value_plausible(enum sensor_type type, double value)
{
	if (!isfinite(value))
		return false;
	switch (type) {
	case SENSOR_FOOTFALL:
		return value >= 0;
	case SENSOR_LIGHT:
		return value >= 0 && value <= LUX_MAX;
	case SENSOR_LAMP:
		return value == 0 || value == 1;
	}
	return false;
}

bool sensor_type_passes_plausible(double passes, int64_t span_ms)
{
	return passes <= (double)SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX * (double)span_ms / 1000.0;
}
