/* driver.h — what every sensor driver provides: one struct of operations.
 *
 * A driver turns one configured sensor into samples.  The daemon owns the
 * timing: it calls sample() every interval_s seconds of the (real or
 * virtual) clock.  A driver keeps its own state behind the opaque pointer
 * open() returns and frees it in close(); it never reads the clock itself,
 * so the same driver runs in real time and in a simulated week. */
#ifndef TRYGGD_DRIVER_H
#define TRYGGD_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* One sample, as the driver read it. */
struct sample {
	double value;            /* lux (light); 1 lit / 0 dark (lamp); passes since the last sample (footfall) */
	bool has_direction;      /* footfall: the sensor tells in from out */
	unsigned in, out;        /* footfall with direction: value == in + out */
};

/* What the daemon tells every driver when it opens a sensor. */
struct driver_env {
	const char *gateway_id;
	const char *district;          /* the gateway's district, as written in the config */
	const char *profiles;          /* simulation profiles file, or NULL outside simulation */
};

struct driver_ops {
	const char *name;              /* as written after `driver =` */
	unsigned types;                /* bit (1u << SENSOR_x) for every type it can serve */
	bool simulated;                /* allowed under [simulation] */

	/* Validate one driver option of a sensor.  Return 0 when the key is
	 * the driver's and the value is good, -ENOENT for a key the driver does
	 * not know, -EINVAL with a message in err for a bad value. */
	int (*check_option)(enum sensor_type type, const char *key, const char *value,
	                    char *err, size_t err_size);
	/* After all options were checked: report what is missing or
	 * inconsistent (e.g. a required option) with a message in err, or 0. */
	int (*check_sensor)(const struct sensor_config *sc, char *err, size_t err_size);

	/* Open the sensor.  0 and *state set, or a negative errno with a
	 * message in err. */
	int (*open)(const struct sensor_config *sc, const struct driver_env *env,
	            void **state, char *err, size_t err_size);
	/* Take one sample at time now_ms (Unix epoch ms, real or virtual).
	 * 0 with *out filled; a negative errno when the sensor could not be
	 * read this time (the interval then counts as not covered). */
	int (*sample)(void *state, int64_t now_ms, struct sample *out);
	void (*close)(void *state);
};

/* The registry: every driver built in, by name; NULL when unknown. */
const struct driver_ops *driver_find(const char *name);

extern const struct driver_ops sim_driver;

#endif
