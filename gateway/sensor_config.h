/* sensor_config.h — one [sensor.NAME] section as validated by the
 * configuration: the generic keys, and the driver's own options as text
 * (the driver judged them with check_option() and reads them at open()).
 * Whoever fills one owns every string and array in it and releases them
 * with sensor_config_clear(): struct config for the sections it read, a
 * running sensor for its own copy (sensor_config_copy()), so a reload can
 * free the old configuration.  Drivers and tryggctl only borrow it. */
#ifndef TRYGGD_SENSOR_CONFIG_H
#define TRYGGD_SENSOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor_type.h"

struct sensor_option {
	char *key;
	char *value;
	int line;
};

/* Tamper and wear thresholds (alerts); 0 turns one off. */
struct sensor_alerts {
	int64_t stuck_ms;          /* footfall: no pass for this long in busy hours */
	int busy_from_hour;        /* local hours [from, to) that are normally busy */
	int busy_to_hour;
	int64_t blocked_ms;        /* footfall: a beam held broken this long */
	double covered_lux;        /* light: below this while the sun is well up ... */
	int64_t covered_ms;        /* ... for this long */
	int64_t lamp_fault_ms;     /* lamp: off while its light sensor reads dark this long */
};

struct sensor_config {
	char *name;              /* [a-z0-9_-]{1,32} */
	enum sensor_type type;
	char *driver;            /* a name the driver registry knows */
	int interval_s;          /* seconds between samples (default 5) */
	double dark_lux;         /* light: below this a sample is dark (default 10) */
	char *light;             /* lamp: name of the paired light sensor, or NULL */
	struct sensor_alerts alerts;
	struct sensor_option *options;
	size_t option_count;
	int line;                /* line of the [sensor.NAME] header */
};

/* The value of a driver option of sc, or NULL when it was not given. */
const char *sensor_option(const struct sensor_config *sc, const char *key);

/* A deep copy of from into to, which the caller owns and empties with
 * sensor_config_clear(); to is overwritten, not cleared first.  0, or
 * -ENOMEM with to left empty. */
int sensor_config_copy(const struct sensor_config *from, struct sensor_config *to);

/* Free what sc holds and leave it empty (all zero); sc itself is the
 * caller's.  An empty one may be cleared again. */
void sensor_config_clear(struct sensor_config *sc);

/* Whether a and b make a sensor behave the same: every field but the line
 * numbers, the driver options compared by key whatever their order. */
bool sensor_config_equal(const struct sensor_config *a, const struct sensor_config *b);

#endif
