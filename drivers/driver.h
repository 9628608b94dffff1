/* driver.h — what every sensor driver provides: one struct of operations.
 *
 * A driver turns one configured sensor into readings, in one of two ways:
 *
 *  - Polled: the sensor (gateway/sensor.c) calls sample() on the schedule,
 *    every interval_s seconds of the real or virtual clock.  A driver whose
 *    device needs time to convert (a BH1750 takes 120–180 ms) also has
 *    prepare(): it starts the conversion and says how long to wait; sample()
 *    is then called that much later, so the loop never blocks on a device.
 *    A driver whose sample() sleeps in the kernel instead (an IIO light
 *    driver converting inside read(2)) sets sample_may_block: the sensor
 *    then calls sample() on a worker thread of its own
 *    (gateway/sensor_worker.h), one sample at a time, and takes the result
 *    on the loop.
 *  - Event-driven: event_fd() hands the loop a file descriptor that becomes
 *    readable when the kernel has events (a GPIO line's edges), and
 *    read_events() reads what is pending, each event with the kernel's own
 *    timestamp.  No polling: the loop watches the descriptor.
 *
 * A driver may be both (a lamp line is read at open, on every edge and on
 * the interval).  It never reads the wall clock itself, so the same driver
 * runs in real time and in a simulated week; kernel timestamps are mapped
 * onto the schedule's clock by the sensor.  A driver keeps its state behind
 * the opaque pointer open() returns and frees it in close(); it keeps no
 * pointer into the configuration or the environment after open(). */
#ifndef TRYGGD_DRIVER_H
#define TRYGGD_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reading.h"
#include "sensor_config.h"

#define SAMPLE_ERROR_SIZE 128

/* One polled sample, as the driver read it. */
struct sample {
	double value;            /* lux (light); 1 lit / 0 dark (lamp); passes in the sample's slot (footfall) */
	bool has_direction;      /* footfall: the sensor tells in from out */
	unsigned in, out;        /* footfall with direction: value >= in + out; the rest went
	                          * a way the sensor could not tell */
	bool held;               /* footfall: the beam is held broken at this moment (tamper) */
	/* When sample() fails: what it found, if it can say more than its
	 * errno ("... holds 'abc', which is not a number"), for the sensor's
	 * `failed` alert.  Empty otherwise. */
	char error[SAMPLE_ERROR_SIZE];
};

/* Something an event-driven sensor saw, at the kernel's time. */
enum driver_event_kind {
	DRIVER_EVENT_PASS,       /* footfall: one person passed */
	DRIVER_EVENT_LEVEL,      /* the input changed: lamp on/off, beam broken/clear */
	DRIVER_EVENT_OVERRUN,    /* the kernel's queue was full: events after it were lost */
};

struct driver_event {
	enum driver_event_kind kind;
	int64_t time_ns;         /* the kernel's timestamp, CLOCK_MONOTONIC */
	enum reading_direction direction;  /* PASS: in, out, or none */
	bool active;             /* LEVEL: the new logical level (lamp lit, beam broken) */
};

/* What the daemon tells every driver when it opens a sensor.  Everything
 * is borrowed for the time of open() only: a driver copies what it keeps. */
struct driver_env {
	const char *gateway_id;
	const char *district;          /* the gateway's district, as written in the config */
	const char *profiles;          /* simulation profiles file, or NULL outside simulation */
	const char *scenarios;         /* simulation scenarios file, or NULL when there is none */
	const char *config_directory;  /* absolute; relative paths in options are taken from here */
	int64_t now_ms;                /* the schedule's clock at open */
	/* The sensors paired with this one, in the order of the config: for a
	 * light sensor, the lamps whose `light =` names it (a simulated light
	 * sensor sees the light of simulated lamps); none for other types. */
	const struct sensor_config *const *paired;
	size_t paired_count;
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
	 * inconsistent (e.g. a required option) with a message in err, or 0.
	 * May be NULL. */
	int (*check_sensor)(const struct sensor_config *sc, char *err, size_t err_size);
	/* After check_sensor(), with what the rest of the config says (env's
	 * district, profiles, scenarios and config_directory; nothing paired,
	 * now_ms 0): whether the sensor can work there, so that --check finds
	 * what open() would refuse.  0, or a negative errno with a message in
	 * err and in *key the option at fault (NULL: the sensor as a whole).
	 * May be NULL. */
	int (*check_environment)(const struct sensor_config *sc, const struct driver_env *env, const char **key,
	                         char *err, size_t err_size);

	/* Open the sensor.  0 and *state set, or a negative errno with a
	 * message in err.  A sensor that fails later is closed and opened
	 * again (with backoff), so open() is also how a driver recovers.
	 * -EINVAL (and -ENOMEM) mean the settings cannot work; anything else,
	 * that the device cannot be had now.  A reload tries new settings
	 * while the sensor's old state is still open (sensor_reconfigure()):
	 * a device that cannot be opened twice answers with another errno
	 * than -EINVAL (-EBUSY), and the old state's close() must leave the
	 * new one working. */
	int (*open)(const struct sensor_config *sc, const struct driver_env *env,
	            void **state, char *err, size_t err_size);
	void (*close)(void *state);

	/* sample() may sleep in the kernel; the sensor runs it on a worker
	 * thread, so it must touch nothing but its own state, and the sensor
	 * calls no other operation on that state while it runs.  Not with
	 * prepare(), nor with simulated: a virtual clock would jump over
	 * however many slots while a sample is in flight. */
	bool sample_may_block;

	/* Polled (NULL for a driver that is only event-driven).  Take one
	 * sample at time now_ms (Unix epoch ms, real or virtual): 0 with *out
	 * filled; -ENODATA when there is nothing to read at that time (not a
	 * fault, e.g. a replay file's gap); another negative errno when the
	 * sensor could not be read (the interval then counts as not covered),
	 * with out->error said when the errno alone would not say what is
	 * wrong.  A value out of the type's physical range
	 * (sensor_type_value_plausible(), sensor_type_passes_plausible() over
	 * the interval) is not data: the sensor fails as for an error. */
	int (*sample)(void *state, int64_t now_ms, struct sample *out);
	/* Optional: start a slow conversion for the sample at now_ms.  Returns
	 * how many ms to wait before sample() collects it (>= 0), or a
	 * negative errno (the sensor then fails like a failed sample: the
	 * interval is not covered, and it is closed and opened again with
	 * backoff).  A driver with prepare() gets exactly one prepare() before
	 * each sample(), whose now_ms is then the time of collection; the
	 * sample stands for the slot prepare() was called for.  close() may
	 * talk to the device (e.g. to power it down). */
	int (*prepare)(void *state, int64_t now_ms);

	/* Event-driven (both NULL otherwise).  event_fd(): the descriptor to
	 * watch for POLLIN.  read_events(): read without blocking at most max
	 * pending events into events, oldest first; returns how many (fewer
	 * than max: nothing is left), or a negative errno (the device is gone). */
	int (*event_fd)(void *state);
	int (*read_events)(void *state, struct driver_event *events, size_t max);
	/* Optional, event-driven: the input's logical level now (lamp lit,
	 * beam broken): 1, 0, or a negative errno. */
	int (*level)(void *state);
	/* Optional, event-driven footfall: whether this sensor tells in from
	 * out (a dual beam), so its windows carry in and out even when no one
	 * passed. */
	bool (*has_direction)(void *state);
};

/* The registry: every driver built in, by name; NULL when unknown. */
const struct driver_ops *driver_find(const char *name);
/* All drivers, for listing: *count set. */
const struct driver_ops *const *driver_all(size_t *count);

extern const struct driver_ops sim_driver;
extern const struct driver_ops gpio_driver;
extern const struct driver_ops iio_driver;
extern const struct driver_ops bh1750_driver;
extern const struct driver_ops replay_driver;

#endif
