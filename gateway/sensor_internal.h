/* sensor_internal.h — what the files of one sensor share: struct sensor
 * and the functions one file calls in another.  sensor.c has the sensor's
 * life, its driver, failure and recovery, polled sampling and the windows;
 * sensor_events.c has the event-driven side (reading what the kernel
 * holds, crediting time between events, passes kept for a window not yet
 * open).  Nothing outside gateway/sensor*.c includes this.
 *
 * struct sensor owns the driver's state, the io source, the worker and
 * the pending passes; it borrows its config, the loop and the schedule
 * (sensor.h). */
#ifndef TRYGGD_SENSOR_INTERNAL_H
#define TRYGGD_SENSOR_INTERNAL_H

#include "sensor.h"
#include "tamper.h"

struct pending_pass {
	int64_t t_ms;
	enum reading_direction direction;
};

struct sensor {
	const struct sensor_config *config;
	const struct driver_ops *driver;
	struct sensor_setup setup;
	int64_t interval_ms;
	bool event_driven;

	void *state;                 /* the driver's, NULL while closed */
	sd_event_source *io;

	struct window window;
	struct sensor *light;        /* lamp: its paired light sensor */
	bool dark, has_dark;         /* light: the last sample read dark */

	/* failure and recovery */
	bool failing;
	int64_t backoff_ms;

	/* polled with a slow conversion: the slot whose sample is converting */
	bool converting;
	int64_t converting_slot_ms;

	/* polled on a worker thread (driver->sample_may_block) */
	struct sensor_worker *worker;
	int64_t retry_ms;            /* after a failed sample: when to open again */

	/* event-driven */
	int64_t cursor_ms;           /* time credited to the window up to here */
	bool level;                  /* lamp lit / beam broken, as last known */
	bool has_direction;
	uint64_t tick_in, tick_out, tick_passes;   /* since the last reading */
	struct pending_pass *pending;
	size_t pending_count, pending_capacity;

	struct tamper tamper;
	struct alerts alerts;
	struct sensor_counters counters;
};

/* sensor.c */
int64_t sensor_now(const struct sensor *sensor);
void sensor_alert_changed(struct sensor *sensor, bool changed);
void sensor_publish(struct sensor *sensor, int64_t ts_ms, double value, enum reading_direction direction);
void sensor_publish_passes(struct sensor *sensor, int64_t ts_ms, uint64_t passes, uint64_t in, uint64_t out);
bool sensor_light_dark(const struct sensor *lamp);
/* Start (or go on) failing at now_ms; closes the driver.  When to retry. */
int64_t sensor_fail(struct sensor *sensor, int64_t now_ms, const char *detail);

/* sensor_events.c */
/* Credit the time up to until_ms, as the sensor stood since the cursor. */
void sensor_credit(struct sensor *sensor, int64_t until_ms);
/* Passes kept for a window that is now open. */
void sensor_flush_pending(struct sensor *sensor);
/* Read what the kernel holds.  0, or the driver's negative errno. */
int sensor_drain(struct sensor *sensor);
/* The io source's callback on the driver's event descriptor. */
int sensor_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);
/* Once per interval: publish what was counted, check the level, tamper. */
void sensor_tick_events(struct sensor *sensor, int64_t now_ms);

#endif
