/* sensor.h — one configured sensor at run time: its driver (polled on the
 * schedule, or event-driven through a descriptor the loop watches), the
 * per-type logic (darkness, a lamp's paired light sensor, footfall
 * counting), its open window, and its tamper and fault alerts.
 *
 * Time: polled samples stand for their interval slot on the schedule's
 * clock; event-driven sensors credit the time they were up as it passes,
 * and place each event at its kernel timestamp mapped onto the schedule's
 * clock (schedule_from_monotonic), so an edge counts in the window it
 * happened in, however late the loop read it.
 *
 * A polled driver whose sample() may sleep in the kernel
 * (driver_ops.sample_may_block) is read on a worker thread of the sensor's
 * own (sensor_worker.h): the slot's timer starts the sample, and the result,
 * back through the loop, is taken there for the slot it was started for,
 * as if it had been read then.  A slot that comes due while the last sample
 * is still in flight is not covered and not queued, nor is one whose
 * window closed before its sample came back (missed_slots).  The loop
 * waits for a sample in flight only where it must: a stop's cut window
 * takes it, and the driver is never closed under it (a failure is taken
 * only once its sample is back; freeing the sensor waits for it and drops
 * it).
 *
 * A sensor that fails (cannot be opened or read, or reads an impossible
 * value) is logged once, raises `failed`, is closed and opened again with
 * backoff (from its interval, doubling, up to 5 minutes) and recovers by
 * itself; its coverage shows what was really read.
 *
 * The daemon owns every struct sensor (sensor_new / sensor_free); a sensor
 * borrows its configuration, the event loop and the schedule, which must
 * outlive it, and copies nothing else it keeps. */
#ifndef TRYGGD_SENSOR_H
#define TRYGGD_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "alert.h"
#include "driver.h"
#include "reading.h"
#include "schedule.h"
#include "sensor_config.h"
#include "window.h"

struct sensor;

struct sensor_events {
	/* A reading to publish: a sample, or passes since the last reading. */
	void (*reading)(void *userdata, struct sensor *sensor, int64_t ts_ms, double value,
	                enum reading_direction direction);
	/* What the sensor's alert topic shows has changed. */
	void (*alert)(void *userdata, struct sensor *sensor);
	void *userdata;
};

struct sensor_setup {
	sd_event *event;
	struct schedule *schedule;
	struct driver_env env;       /* strings borrowed for the sensor's life */
	int64_t window_ms;
	double latitude, longitude;  /* for the sun's height (covered) */
	struct sensor_events events;
	/* How the driver is found by name: driver_find() (the registry) when
	 * NULL; tests bring their own. */
	const struct driver_ops *(*find_driver)(const char *name);
};

struct sensor_counters {
	uint64_t readings;           /* samples taken, or passes counted */
	uint64_t failures;           /* times the sensor went from working to failed */
	uint64_t late_events;        /* events read after their window had closed (counted in the next) */
	uint64_t dropped_events;     /* events that could not be kept (out of memory) */
	uint64_t missed_slots;       /* worker: slots not covered, their sample still in flight */
	uint64_t overruns;           /* event-driven: times the kernel's event queue was full (edges lost) */
};

/* Open the sensor's driver.  A device that is not there (yet) is not an
 * error: the sensor starts failed and keeps trying.  Returns -EINVAL with a
 * message in err when the driver says the sensor's settings cannot work,
 * another negative errno when out of memory or when the sampling thread of
 * a driver that may block cannot be started (with a message in err). */
int sensor_new(const struct sensor_setup *setup, const struct sensor_config *config, struct sensor **out,
               char *err, size_t err_size);
void sensor_free(struct sensor *sensor);

/* A lamp's light sensor: while it reads dark, an unlit lamp is at fault. */
void sensor_pair(struct sensor *lamp, struct sensor *light);

/* Start sampling (or watching) on the schedule.  Priority orders sensors
 * due at the same instant. */
int sensor_start(struct sensor *sensor, int priority);

/* The end of the open window. */
int64_t sensor_window_end(const struct sensor *sensor);

/* Bring the open window up to its end (read what the kernel holds, credit
 * the time up to it) and close it into *out; the next window opens. */
void sensor_close_window(struct sensor *sensor, struct window_result *out);

/* A stop at now_ms: the open window as it stands, cut at now.  Returns
 * false (nothing in *out) when the sensor was never read in it. */
bool sensor_cut_window(struct sensor *sensor, int64_t now_ms, struct window_result *out);

const struct sensor_config *sensor_config(const struct sensor *sensor);
const struct alerts *sensor_alerts(const struct sensor *sensor);
struct sensor_counters sensor_counters(const struct sensor *sensor);

#endif
