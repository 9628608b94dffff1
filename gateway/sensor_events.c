/* sensor_events.c — the event-driven side of a sensor (see
 * sensor_internal.h): events read from the driver at the kernel's time,
 * mapped onto the schedule's clock, and the time between them credited to
 * the window as the input stood.
 *
 * A footfall input that counts more passes within one second (by the
 * events' time) than people can make (SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX)
 * is in a storm: a floating or broken line.  So that no pass of a storm is
 * ever taken for a person, a slot's passes are held out of the window until
 * the slot is over (or the window closes), and a storm drops them all with
 * the slot's time, and fails the sensor.  Per pass that costs a compare and
 * a few additions; the line is closed at the first pass too many, so a
 * storm costs the loop no more than that. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sensor_internal.h"

/* Events read in one batch, and batches in one turn of the loop: a stream
 * faster than that is read on the next turn, so timers still get theirs. */
#define EVENT_BATCH 64
#define EVENT_BATCHES_PER_TURN 64
/* Passes read before the window they belong to has opened (the loop had not
 * yet turned the window over); far more than a turn of the loop can bring. */
#define PENDING_MAX 65536

/* Credit the time up to until_ms, as the sensor stood since the cursor. */
void sensor_credit(struct sensor *sensor, int64_t until_ms)
{
	if (until_ms <= sensor->cursor_ms)
		return;
	int64_t span = until_ms - sensor->cursor_ms;
	if (sensor->config.type == SENSOR_LAMP) {
		bool fault = !sensor->level && sensor_light_dark(sensor);
		window_credit_lamp(&sensor->window, sensor->cursor_ms, span, sensor->level, fault);
		sensor_alert_changed(sensor, tamper_lamp(&sensor->tamper, &sensor->alerts, until_ms, fault));
	} else {
		window_credit_time(&sensor->window, sensor->cursor_ms, span);
		window_add_passes(&sensor->window, 0, sensor->has_direction, 0, 0);
	}
	sensor->cursor_ms = until_ms;
}

static void sensor_hold_pass(struct sensor *sensor, enum reading_direction direction)
{
	sensor->held_passes++;
	sensor->held_in += direction == DIRECTION_IN;
	sensor->held_out += direction == DIRECTION_OUT;
}

void sensor_release_held(struct sensor *sensor)
{
	if (sensor->held_passes == 0)
		return;
	/* A pass with a direction says the sensor tells them apart. */
	window_add_passes(&sensor->window, sensor->held_passes, sensor->held_in + sensor->held_out > 0,
	                  sensor->held_in, sensor->held_out);
	sensor->counters.readings += sensor->held_passes;
	sensor->held_passes = sensor->held_in = sensor->held_out = 0;
}

/* Whether the pass at t_ms is one too many for its second.  Events come in
 * time order, but the clock may have been stepped back since the last. */
static bool sensor_burst(struct sensor *sensor, int64_t t_ms)
{
	int64_t second = window_align(t_ms, 1000);
	if (second != sensor->burst_second_ms) {
		sensor->burst_second_ms = second;
		sensor->burst_passes = 0;
	}
	return ++sensor->burst_passes > SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX;
}

/* 0, or -ERANGE for the pass that makes a storm (nothing of it kept). */
static int sensor_on_event(struct sensor *sensor, const struct driver_event *event)
{
	int64_t t = schedule_from_monotonic(sensor->setup.schedule, event->time_ns);
	if (event->kind == DRIVER_EVENT_LEVEL) {
		if (sensor->config.type == SENSOR_LAMP) {
			sensor_credit(sensor, t);
			sensor->level = event->active;
		} else {
			sensor->level = event->active;
			sensor_alert_changed(sensor, tamper_beam(&sensor->tamper, &sensor->alerts, t, event->active));
		}
		return 0;
	}
	if (sensor_burst(sensor, t))
		return -ERANGE;
	sensor->tick_passes++;
	sensor->tick_in += event->direction == DIRECTION_IN;
	sensor->tick_out += event->direction == DIRECTION_OUT;
	if (t < sensor->window.start_ms)
		sensor->counters.late_events++;
	if (t < sensor_window_end(sensor)) {
		sensor_hold_pass(sensor, event->direction);
		return 0;
	}
	/* The loop has not yet turned this window over: keep the pass for the
	 * window it belongs to. */
	if (sensor->pending_count == sensor->pending_capacity) {
		size_t capacity = sensor->pending_capacity ? sensor->pending_capacity * 2 : 16;
		struct pending_pass *grown = capacity <= PENDING_MAX
			? reallocarray(sensor->pending, capacity, sizeof(*grown)) : NULL;
		if (!grown) {
			sensor->counters.dropped_events++;
			return 0;
		}
		sensor->pending = grown;
		sensor->pending_capacity = capacity;
	}
	sensor->pending[sensor->pending_count++] = (struct pending_pass){ t, event->direction };
	return 0;
}

/* Passes kept for a window that is now open: held with its slot's. */
void sensor_flush_pending(struct sensor *sensor)
{
	size_t kept = 0;
	int64_t end = sensor_window_end(sensor);
	for (size_t i = 0; i < sensor->pending_count; i++) {
		if (sensor->pending[i].t_ms < end)
			sensor_hold_pass(sensor, sensor->pending[i].direction);
		else
			sensor->pending[kept++] = sensor->pending[i];
	}
	sensor->pending_count = kept;
}

/* The kernel's queue of events was found full: what came after was lost.
 * Said the first time and every 100th, and counted. */
static void sensor_on_overrun(struct sensor *sensor)
{
	sensor->counters.overruns++;
	if (sensor->counters.overruns % 100 == 1)
		log_warning("sensor %s: the kernel's queue of edges was full: edges that came while it was "
		            "full are lost (%llu time%s so far); the input's level is read again to stay right",
		            sensor->config.name, (unsigned long long)sensor->counters.overruns,
		            sensor->counters.overruns == 1 ? "" : "s");
}

/* Read what the kernel holds.  0, -ERANGE at a storm (what is left unread
 * goes with the driver, which the caller closes), or the driver's negative
 * errno. */
static int sensor_drain(struct sensor *sensor)
{
	struct driver_event events[EVENT_BATCH];
	for (int batch = 0; batch < EVENT_BATCHES_PER_TURN; batch++) {
		int count = sensor->driver->read_events(sensor->state, events, EVENT_BATCH);
		if (count < 0)
			return count;
		for (int i = 0; i < count; i++) {
			if (events[i].kind == DRIVER_EVENT_OVERRUN)
				sensor_on_overrun(sensor);
			else if (sensor_on_event(sensor, &events[i]) < 0)
				return -ERANGE;
		}
		if (count < EVENT_BATCH)
			break;
	}
	return 0;
}

/* A storm: nothing counted since the slot began is a person, and the time
 * since the cursor (the slot's start, or where the window closed) is not
 * credited, since the input said nothing true in it. */
static void sensor_drop_storm(struct sensor *sensor)
{
	sensor->held_passes = sensor->held_in = sensor->held_out = 0;
	sensor->tick_passes = sensor->tick_in = sensor->tick_out = 0;
	sensor->pending_count = 0;
	sensor->burst_passes = 0;
	sensor->burst_failed = true;
	sensor->counters.implausible++;
}

bool sensor_read_events(struct sensor *sensor, int64_t now_ms)
{
	char detail[ALERT_DETAIL_SIZE];
	int r = sensor_drain(sensor);
	if (r == 0)
		return true;
	if (r == -ERANGE) {
		sensor_drop_storm(sensor);
		snprintf(detail, sizeof(detail), "counted more than %d passes within one second, which no working "
		         "footfall sensor counts", SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX);
	} else {
		/* Up to the failure the input was read, and what it counted
		 * stands. */
		sensor_credit(sensor, now_ms);
		sensor_release_held(sensor);
		snprintf(detail, sizeof(detail), "cannot read events: %s", strerror(-r));
	}
	/* The sensor's own timer, which keeps going, opens it again then,
	 * after the backoff as for a polled sensor. */
	sensor->retry_ms = sensor_fail(sensor, now_ms, detail);
	return false;
}

int sensor_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct sensor *sensor = userdata;
	(void)source;
	(void)fd;
	(void)revents;
	sensor_read_events(sensor, sensor_now(sensor));
	return 0;
}

/* Once per interval: publish what was counted, check the input's level
 * (an edge lost to a full kernel buffer is corrected here), watch for
 * tamper. */
void sensor_tick_events(struct sensor *sensor, int64_t now_ms)
{
	if (sensor->config.type == SENSOR_LAMP) {
		if (sensor->driver->level) {
			int level = sensor->driver->level(sensor->state);
			if (level >= 0 && (level > 0) != sensor->level) {
				sensor_credit(sensor, now_ms);
				sensor->level = level > 0;
			}
		}
		sensor_credit(sensor, now_ms);
		sensor->counters.readings++;
		window_count_sample(&sensor->window);
		sensor_publish(sensor, now_ms, sensor->level ? 1 : 0, DIRECTION_NONE);
		return;
	}
	/* The slot went by without a storm: its passes count, and a sensor
	 * reopened after one works again. */
	sensor_release_held(sensor);
	if (sensor->burst_failed)
		sensor_recovered(sensor, now_ms);
	sensor_credit(sensor, now_ms);
	window_count_sample(&sensor->window);
	sensor_publish_passes(sensor, now_ms, sensor->tick_passes, sensor->tick_in, sensor->tick_out);
	bool changed = tamper_footfall(&sensor->tamper, &sensor->alerts, now_ms, sensor->tick_passes);
	changed |= tamper_beam_check(&sensor->tamper, &sensor->alerts, now_ms);
	sensor_alert_changed(sensor, changed);
	sensor->tick_passes = sensor->tick_in = sensor->tick_out = 0;
}
