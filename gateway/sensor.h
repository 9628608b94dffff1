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
 * itself; its coverage shows what was really read.  An impossible value is
 * one out of its type's physical range (sensor_type.h): a sample that is
 * not a number, negative, lux above full sunlight, a lamp neither 0 nor 1,
 * more passes than SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX a second of the
 * sample's interval; or, counted edge by edge, more passes than that
 * within one second: a storm, after which none of the passes of its slot
 * count, nor does its time.  Each is counted (implausible) and never
 * reaches a reading, a window or an alert rule.  A polled sensor has
 * recovered only once a sample reads well, and one that failed for a storm
 * only once a slot after the reopen went by without one, so a device that
 * keeps reading garbage raises `failed` once, not on every retry.
 *
 * A sample on the worker that has not come back after 30 s is hung, not
 * converting: `failed` ("no answer from the device for N s") is raised
 * once, at the first slot due that long after it was started, while the
 * driver stays open (closing it would wait for the sample); the sample's
 * return is judged as any sample, at the time it came back.  A stop, a
 * reload or a removal does not wait for a hung sample: the worker thread
 * keeps it with the driver's state and closes the driver if it ever
 * returns (sensor_worker_abandon()).
 *
 * The daemon owns every struct sensor (sensor_new / sensor_free).  A
 * sensor keeps its own copies of its configuration and of the strings in
 * setup.env, so the configuration they came from may be freed at once (a
 * reload frees the old one); it borrows the event loop and the schedule,
 * which must outlive it, and its paired lamp or light sensor (sensor_pair).
 *
 * A reload (SIGHUP) matches sensors by name: an unchanged one
 * (sensor_config_equal) is left alone, a changed one takes its new
 * settings with sensor_reconfigure() and keeps its open window, a removed
 * one is freed with sensor_free() while the loop runs on, an added one is
 * made with sensor_new() and sensor_start(); then the daemon pairs every
 * lamp again (sensor_pair), since a lamp's `light =` may have changed.  A
 * light sensor whose lamps (driver_env.paired) changed counts as changed
 * too (sensor_paired_equal, sensor_reconfigure_paired). */
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
	struct driver_env env;       /* the strings and paired configs are copied (now_ms is the sensor's) */
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
	uint64_t implausible;        /* samples, and storms of passes, out of physical range: rejected */
};

/* Open the sensor's driver.  A device that is not there (yet) is not an
 * error: the sensor starts failed and keeps trying.  Returns -EINVAL with a
 * message in err when the driver says the sensor's settings cannot work,
 * another negative errno when out of memory or when the sampling thread of
 * a driver that may block cannot be started (with a message in err). */
int sensor_new(const struct sensor_setup *setup, const struct sensor_config *config, struct sensor **out,
               char *err, size_t err_size);

/* Safe while the loop runs on, from any callback but the sensor's own
 * events: its slot timer is cancelled, a sample in flight on its worker is
 * waited for and dropped, its driver closed (with its io source), and it
 * is unpaired from its light sensor or its lamps (they read no darkness
 * from it any more).  Its open window is not closed: take it first
 * (sensor_close_window, sensor_cut_window) if it is wanted.  NULL does
 * nothing. */
void sensor_free(struct sensor *sensor);

/* A lamp's light sensor: while it reads dark, an unlit lamp is at fault.
 * light NULL ends the pairing, as does freeing either sensor (both know of
 * it), so nobody has to unpair before sensor_free(); pairing again
 * replaces the pairing before. */
void sensor_pair(struct sensor *lamp, struct sensor *light);

/* Start sampling (or watching) on the schedule.  Priority orders sensors
 * due at the same instant.  0 or -ENOMEM. */
int sensor_start(struct sensor *sensor, int priority);

/* New settings for a running sensor of the same name and type (else
 * -EINVAL), called from the loop but not from the sensor's own events.
 * The driver is closed (a sample in flight on the worker is taken first,
 * what an event-driven one holds is read) and opened again with a copy of
 * config; the slot timer goes on at the new interval, aligned as
 * sensor_start() aligns it.  The sensor keeps its open window, its
 * counters and its alerts.  Coverage stays honest: the last sample stands
 * for its slot only up to the change, and the time until the first slot
 * of the new interval is not covered.  Thresholds: see sensor_reload.c (an
 * alert stays until its cause goes away, the tamper rules keep what they
 * saw; an alert whose rule is now off is cleared).  The setup (loop,
 * schedule, env, window, place) stays the one given to sensor_new(); its
 * pairing is the caller's (sensor_pair).
 *
 * A device that is not there is not an error: the sensor fails and keeps
 * trying, as at sensor_new() (0).  -EINVAL with a message in err when the
 * driver refuses the new settings, -ENOMEM or another negative errno when
 * out of resources: the sensor then runs on with its old settings (its
 * window cut at the change, if the old driver had to let go before the new
 * settings could be judged). */
int sensor_reconfigure(struct sensor *sensor, const struct sensor_config *config, char *err, size_t err_size);

/* sensor_reconfigure() with new paired configs for the driver too
 * (driver_env.paired: a light sensor's lamps), copied as sensor_new()
 * copies them: the daemon calls it when a lamp paired with a light sensor
 * was added, removed or changed, even if the light sensor's own section
 * did not change, since a sim light sensor sees its lamps.  When the new
 * settings are refused the sensor keeps its old paired configs too. */
int sensor_reconfigure_paired(struct sensor *sensor, const struct sensor_config *config,
                              const struct sensor_config *const *paired, size_t paired_count, char *err,
                              size_t err_size);

/* Whether the sensor's driver was told of exactly these paired configs
 * (sensor_config_equal, in this order). */
bool sensor_paired_equal(const struct sensor *sensor, const struct sensor_config *const *paired, size_t count);

/* The end of the open window. */
int64_t sensor_window_end(const struct sensor *sensor);

/* Bring the open window up to its end (read what the kernel holds, credit
 * the time up to it) and close it into *out; the next window opens. */
void sensor_close_window(struct sensor *sensor, struct window_result *out);

/* A stop at now_ms: the open window as it stands, cut at now.  Returns
 * false (nothing in *out) when the sensor was never read in it.  cut, when
 * not NULL, gets the window's sums as they stood before it closed, for
 * window_resume_save(). */
bool sensor_cut_window(struct sensor *sensor, int64_t now_ms, struct window_result *out, struct window *cut);

/* The open window, for window_resume_take() right after sensor_new(). */
struct window *sensor_open_window(struct sensor *sensor);

/* The clock stepped by step_ms to now_ms (the schedule moved the slot
 * timer by the step already), and the caller has cut the open window at
 * the step.  The window holding now_ms opens, empty (nothing is carried
 * across a step); a working sensor's next slot is the first on the new
 * clock, a failed one keeps its wait; passes waiting for the next window
 * count in the new one; a sample still converting is not used (its slot
 * was on the old clock). */
void sensor_clock_stepped(struct sensor *sensor, int64_t step_ms, int64_t now_ms);

/* The sensor's own copy: valid until sensor_reconfigure() or sensor_free(). */
const struct sensor_config *sensor_config(const struct sensor *sensor);
const struct alerts *sensor_alerts(const struct sensor *sensor);
struct sensor_counters sensor_counters(const struct sensor *sensor);

#endif
