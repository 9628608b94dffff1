/* sensor_internal.h — what the files of one sensor share: struct sensor
 * and the functions one file calls in another.  sensor.c has the sensor's
 * life, its driver, failure and recovery, polled sampling and the windows;
 * sensor_events.c has the event-driven side (reading what the kernel
 * holds, crediting time between events, passes kept for a window not yet
 * open); sensor_reload.c has sensor_reconfigure().  Nothing outside
 * gateway/sensor*.c includes this.
 *
 * struct sensor owns its copy of the configuration and of the driver
 * environment's strings and paired configs, the driver's state, the io source, the worker,
 * the slot timer's handle and the pending passes; it borrows the loop and
 * the schedule, and its paired light sensor or lamps (sensor.h). */
#ifndef TRYGGD_SENSOR_INTERNAL_H
#define TRYGGD_SENSOR_INTERNAL_H

#include "sensor.h"
#include "tamper.h"

struct pending_pass {
	int64_t t_ms;
	enum reading_direction direction;
};

/* The strings of struct driver_env, the sensor's own copies. */
struct sensor_env_strings {
	char *gateway_id, *district, *profiles, *scenarios, *config_directory;
};

/* The configs of the sensors paired with this one (driver_env.paired), the
 * sensor's own copies, and the array of pointers to them the env shows. */
struct sensor_paired {
	struct sensor_config *configs;
	const struct sensor_config **pointers;
	size_t count;
};

struct sensor {
	struct sensor_config config;           /* its own copy */
	const struct driver_ops *driver;
	struct sensor_setup setup;             /* setup.env's strings point into env_strings, */
	struct sensor_env_strings env_strings;
	struct sensor_paired paired;           /* ... and its paired configs into paired */
	int64_t interval_ms;
	bool event_driven;
	struct schedule_timer *timer;          /* the slot timer: NULL until sensor_start() */

	void *state;                 /* the driver's, NULL while closed */
	sd_event_source *io;

	struct window window;
	/* A lamp and its light sensor both know of the pairing, so that
	 * freeing either one ends it. */
	struct sensor *light;        /* lamp: its paired light sensor, or NULL */
	struct sensor *next_lamp;    /* lamp: the next lamp paired with the same light sensor */
	struct sensor *lamps;        /* light: the first lamp paired with it */
	bool dark, has_dark;         /* light: the last sample read dark */

	/* failure and recovery */
	bool failing;
	int64_t backoff_ms;

	/* polled with a slow conversion: the slot whose sample is converting */
	bool converting;
	int64_t converting_slot_ms;

	/* polled on a worker thread (driver->sample_may_block) */
	struct sensor_worker *worker;
	int64_t retry_ms;            /* after a failure: when to open again */
	int64_t sample_started_ms;   /* the sample in flight was started then */
	bool sample_hung;            /* ... and has been out too long (sensor_poll) */

	/* event-driven */
	int64_t cursor_ms;           /* time credited to the window up to here */
	bool level;                  /* lamp lit / beam broken, as last known */
	bool has_direction;
	uint64_t tick_in, tick_out, tick_passes;   /* since the last reading */
	struct pending_pass *pending;
	size_t pending_count, pending_capacity;
	/* Passes of the open window not in it yet: held until their slot is
	 * over (or the window closes), so that a storm of them can still be
	 * dropped whole (sensor_events.c). */
	uint64_t held_passes, held_in, held_out;
	int64_t burst_second_ms;     /* the second, by the events' time, being counted */
	uint64_t burst_passes;       /* passes in it so far */
	bool burst_failed;           /* failed for a storm: recovered by a slot without one */

	struct tamper tamper;
	struct alerts alerts;
	struct sensor_counters counters;
};

/* sensor.c */
int64_t sensor_now(const struct sensor *sensor);
/* The driver called name, as setup says to find it; NULL when none. */
const struct driver_ops *sensor_find_driver(const struct sensor_setup *setup, const char *name);
/* Open the driver with the sensor's config and, for an event-driven one,
 * watch it (sensor_watch_driver()).  0, or a negative errno with err. */
int sensor_open_driver(struct sensor *sensor, char *err, size_t err_size);
/* An event-driven driver just opened (sensor->state set): watch its
 * descriptor and read its level.  On failure the driver is closed. */
int sensor_watch_driver(struct sensor *sensor, char *err, size_t err_size);
/* Close the driver, after a sample in flight on the worker (dropped). */
void sensor_close_driver(struct sensor *sensor);
/* Event-driven: everything up to t_ms into the open window. */
void sensor_catch_up(struct sensor *sensor, int64_t t_ms);
/* The first backoff of a failure: the interval, within its bounds. */
int64_t sensor_first_backoff(const struct sensor *sensor);
/* When the slot timer is to run first from now_ms: the next slot on the
 * interval's grid (now_ms itself when on it), or while the driver is
 * closed, when it is to be opened again. */
int64_t sensor_first_due(const struct sensor *sensor, int64_t now_ms);
/* An event-driven sensor whose driver opens again is read again. */
void sensor_recovered(struct sensor *sensor, int64_t now_ms);
/* The first multiple of step_ms after now_ms: the next slot. */
int64_t sensor_next_multiple(int64_t now_ms, int64_t step_ms);

/* sensor_polled.c */
/* The worker's done(): a sample started at now_ms. */
void sensor_on_sampled(void *userdata, int64_t now_ms, int r, const struct sample *sample);
/* A polled sensor's slot at now_ms: take (or start, or collect) its
 * sample.  Returns when to run next. */
int64_t sensor_poll(struct sensor *sensor, int64_t now_ms);
void sensor_alert_changed(struct sensor *sensor, bool changed);
void sensor_publish(struct sensor *sensor, int64_t ts_ms, double value, enum reading_direction direction);
void sensor_publish_passes(struct sensor *sensor, int64_t ts_ms, uint64_t passes, uint64_t in, uint64_t out);
bool sensor_light_dark(const struct sensor *lamp);
/* Start (or go on) failing at now_ms; closes the driver.  When to retry. */
int64_t sensor_fail(struct sensor *sensor, int64_t now_ms, const char *detail);
/* The failure said once (raise failed, count it) or gone on with (the
 * backoff doubles), without closing the driver; then says what happens
 * next, for the log. */
void sensor_mark_failed(struct sensor *sensor, int64_t now_ms, const char *detail, const char *then);
/* Copies of count configs into *to (empty first): 0, or -ENOMEM with *to
 * empty.  Cleared with sensor_paired_clear(). */
int sensor_paired_copy(const struct sensor_config *const *from, size_t count, struct sensor_paired *to);
void sensor_paired_clear(struct sensor_paired *paired);

/* sensor_events.c */
/* Credit the time up to until_ms, as the sensor stood since the cursor. */
void sensor_credit(struct sensor *sensor, int64_t until_ms);
/* Passes kept for a window that is now open. */
void sensor_flush_pending(struct sensor *sensor);
/* Read what the kernel holds at now_ms.  A read that fails (the time up to
 * now credited) or a storm of passes (nothing of its slot counted or
 * credited) fails the sensor, with retry_ms set: then false. */
bool sensor_read_events(struct sensor *sensor, int64_t now_ms);
/* The passes held for the open window into it: their slot is over, or the
 * window closes. */
void sensor_release_held(struct sensor *sensor);
/* The io source's callback on the driver's event descriptor. */
int sensor_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);
/* Once per interval: publish what was counted, check the level, tamper. */
void sensor_tick_events(struct sensor *sensor, int64_t now_ms);

#endif
