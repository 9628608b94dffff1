/* sensor_events.c — the event-driven side of a sensor (see
 * sensor_internal.h): events read from the driver at the kernel's time,
 * mapped onto the schedule's clock, and the time between them credited to
 * the window as the input stood. */
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

static void sensor_count_pass(struct sensor *sensor, enum reading_direction direction)
{
	window_add_passes(&sensor->window, 1, direction != DIRECTION_NONE, direction == DIRECTION_IN,
	                  direction == DIRECTION_OUT);
}

static void sensor_on_event(struct sensor *sensor, const struct driver_event *event)
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
		return;
	}
	sensor->counters.readings++;
	sensor->tick_passes++;
	sensor->tick_in += event->direction == DIRECTION_IN;
	sensor->tick_out += event->direction == DIRECTION_OUT;
	if (t < sensor->window.start_ms)
		sensor->counters.late_events++;
	if (t < sensor_window_end(sensor)) {
		sensor_count_pass(sensor, event->direction);
		return;
	}
	/* The loop has not yet turned this window over: keep the pass for the
	 * window it belongs to. */
	if (sensor->pending_count == sensor->pending_capacity) {
		size_t capacity = sensor->pending_capacity ? sensor->pending_capacity * 2 : 16;
		struct pending_pass *grown = capacity <= PENDING_MAX
			? reallocarray(sensor->pending, capacity, sizeof(*grown)) : NULL;
		if (!grown) {
			sensor->counters.dropped_events++;
			return;
		}
		sensor->pending = grown;
		sensor->pending_capacity = capacity;
	}
	sensor->pending[sensor->pending_count++] = (struct pending_pass){ t, event->direction };
}

/* Passes kept for a window that is now open. */
void sensor_flush_pending(struct sensor *sensor)
{
	size_t kept = 0;
	int64_t end = sensor_window_end(sensor);
	for (size_t i = 0; i < sensor->pending_count; i++) {
		if (sensor->pending[i].t_ms < end)
			sensor_count_pass(sensor, sensor->pending[i].direction);
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

/* Read what the kernel holds.  0, or the driver's negative errno. */
int sensor_drain(struct sensor *sensor)
{
	struct driver_event events[EVENT_BATCH];
	for (int batch = 0; batch < EVENT_BATCHES_PER_TURN; batch++) {
		int count = sensor->driver->read_events(sensor->state, events, EVENT_BATCH);
		if (count < 0)
			return count;
		for (int i = 0; i < count; i++) {
			if (events[i].kind == DRIVER_EVENT_OVERRUN)
				sensor_on_overrun(sensor);
			else
				sensor_on_event(sensor, &events[i]);
		}
		if (count < EVENT_BATCH)
			break;
	}
	return 0;
}

int sensor_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct sensor *sensor = userdata;
	(void)source;
	(void)fd;
	(void)revents;
	int r = sensor_drain(sensor);
	if (r < 0) {
		int64_t now = sensor_now(sensor);
		char detail[ALERT_DETAIL_SIZE];
		sensor_credit(sensor, now);
		snprintf(detail, sizeof(detail), "cannot read events: %s", strerror(-r));
		/* The retry runs on the sensor's own timer, which keeps going. */
		sensor_fail(sensor, now, detail);
	}
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
	sensor_credit(sensor, now_ms);
	window_count_sample(&sensor->window);
	sensor_publish_passes(sensor, now_ms, sensor->tick_passes, sensor->tick_in, sensor->tick_out);
	bool changed = tamper_footfall(&sensor->tamper, &sensor->alerts, now_ms, sensor->tick_passes);
	changed |= tamper_beam_check(&sensor->tamper, &sensor->alerts, now_ms);
	sensor_alert_changed(sensor, changed);
	sensor->tick_passes = sensor->tick_in = sensor->tick_out = 0;
}
