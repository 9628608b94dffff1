/* sensor_polled.c — the polled side of a sensor (see sensor_internal.h):
 * a sample per interval slot, taken on the loop, in two steps for a
 * driver that converts (prepare, then collect), or on the sensor's worker
 * thread for one that may block in the kernel; each checked against its
 * type's physical range before it reaches a reading or the window, and a
 * sample out too long on the worker called hung. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sensor_internal.h"
#include "sensor_worker.h"
#include "tamper.h"

/* A sample on the worker still out after this long is hung, not
 * converting: the slowest IIO light conversion takes well under a second
 * (600 ms at the longest integration, and the bus), and the kernel gives
 * up an I2C transfer after about a second; a read(2) still in the kernel
 * after 30 s waits for a bus held low or an interrupt that never comes. */
#define SAMPLE_HUNG_MS (30 * 1000)

/* A sample taken for the slot [slot, slot + interval). */
static void sensor_use_sample(struct sensor *sensor, int64_t now_ms, int64_t slot, const struct sample *sample)
{
	bool changed = false;
	sensor->counters.readings++;
	switch (sensor->config.type) {
	case SENSOR_LIGHT:
		sensor->dark = sample->value < sensor->config.dark_lux;
		sensor->has_dark = true;
		window_add_light(&sensor->window, slot, sensor->interval_ms, sample->value, sensor->dark);
		changed = tamper_light(&sensor->tamper, &sensor->alerts, slot, sample->value);
		sensor_publish(sensor, now_ms, sample->value, DIRECTION_NONE);
		break;
	case SENSOR_LAMP: {
		bool on = sample->value >= 0.5;
		bool fault = !on && sensor_light_dark(sensor);
		window_add_lamp(&sensor->window, slot, sensor->interval_ms, on, fault);
		changed = tamper_lamp(&sensor->tamper, &sensor->alerts, slot, fault);
		sensor_publish(sensor, now_ms, sample->value, DIRECTION_NONE);
		break;
	}
	case SENSOR_FOOTFALL:
		window_add_footfall(&sensor->window, slot, sensor->interval_ms, (uint64_t)sample->value,
		                    sample->has_direction, sample->in, sample->out);
		changed = tamper_beam(&sensor->tamper, &sensor->alerts, slot, sample->held);
		changed |= tamper_beam_check(&sensor->tamper, &sensor->alerts, slot);
		changed |= tamper_footfall(&sensor->tamper, &sensor->alerts, slot, (uint64_t)sample->value);
		sensor_publish_passes(sensor, now_ms, (uint64_t)sample->value, sample->has_direction ? sample->in : 0,
		                      sample->has_direction ? sample->out : 0);
		break;
	}
	sensor_alert_changed(sensor, changed);
}

/* What sample() returned for the slot, read at now_ms.  Returns false when
 * the sensor failed: it is closed, and opened again at retry_ms. */
static bool sensor_take(struct sensor *sensor, int64_t now_ms, int64_t slot, int r, const struct sample *sample)
{
	char detail[ALERT_DETAIL_SIZE];
	if (r == -ENODATA)
		return true;   /* nothing to read at this time: not covered, not a fault */
	if (r < 0) {
		snprintf(detail, sizeof(detail), "cannot read: %s", sample->error[0] ? sample->error : strerror(-r));
	} else if (!sensor_type_value_plausible(sensor->config.type, sample->value)) {
		sensor->counters.implausible++;
		snprintf(detail, sizeof(detail), "read %g %s, which no working %s sensor reads", sample->value,
		         sensor_type_unit(sensor->config.type), sensor_type_name(sensor->config.type));
	} else if (sensor->config.type == SENSOR_FOOTFALL &&
	           !sensor_type_passes_plausible(sample->value, sensor->interval_ms)) {
		sensor->counters.implausible++;
		snprintf(detail, sizeof(detail), "counted %.0f passes in %lld s, over %d a second, which no working "
		         "footfall sensor counts", sample->value, (long long)(sensor->interval_ms / 1000),
		         SENSOR_FOOTFALL_PASSES_PER_SECOND_MAX);
	} else {
		if (sensor->failing)
			sensor_recovered(sensor, now_ms);
		if (slot < sensor->window.start_ms || slot >= sensor_window_end(sensor))
			sensor->counters.missed_slots++;   /* the worker's, back after its window closed */
		else
			sensor_use_sample(sensor, now_ms, slot, sample);
		return true;
	}
	sensor->retry_ms = sensor_fail(sensor, now_ms, detail);
	return false;
}

/* On the loop: the worker's sample, started at now_ms for that slot.  A
 * hung one is judged as it comes back: its failure or its recovery is
 * now, not when it was started. */
void sensor_on_sampled(void *userdata, int64_t now_ms, int r, const struct sample *sample)
{
	struct sensor *sensor = userdata;
	int64_t slot = window_align(now_ms, sensor->interval_ms);
	if (sensor->sample_hung) {
		sensor->sample_hung = false;
		now_ms = sensor_now(sensor);
	}
	sensor_take(sensor, now_ms, slot, r, sample);
}

/* The sample in flight has been out SAMPLE_HUNG_MS: said once, as failed.
 * The driver stays open, since closing it would wait for the sample
 * (sensor_close_driver); its return ends the hang (sensor_on_sampled). */
static void sensor_check_hung(struct sensor *sensor, int64_t now_ms)
{
	int64_t out_ms = now_ms - sensor->sample_started_ms;
	if (sensor->sample_hung || out_ms < SAMPLE_HUNG_MS)
		return;
	sensor->sample_hung = true;
	if (sensor->failing)
		return;   /* a reopened sensor whose first sample hangs: already said */
	char detail[ALERT_DETAIL_SIZE];
	snprintf(detail, sizeof(detail), "no answer from the device for %lld s", (long long)(out_ms / 1000));
	sensor_mark_failed(sensor, now_ms, detail, "its sample is still in the kernel; waiting for it");
}

/* Returns when to run next. */
int64_t sensor_poll(struct sensor *sensor, int64_t now_ms)
{
	int64_t next = sensor_next_multiple(now_ms, sensor->interval_ms);
	char detail[ALERT_DETAIL_SIZE];
	/* The sample stands for its interval slot, [slot, slot + interval):
	 * a real timer wakes a little after its due time, and that must not
	 * shave the sample's span (nor a suspended board's late wake-up
	 * stretch it over the slots it missed). */
	int64_t slot = window_align(now_ms, sensor->interval_ms);
	if (sensor->worker) {
		/* One sample at a time on the worker, taken in sensor_on_sampled:
		 * a slot due while the last one still converts is not covered. */
		if (sensor_worker_start(sensor->worker, sensor->driver, sensor->state, now_ms) == 0) {
			sensor->sample_started_ms = now_ms;
			return next;
		}
		sensor->counters.missed_slots++;
		sensor_check_hung(sensor, now_ms);
		return next;
	}
	if (sensor->converting) {
		sensor->converting = false;
		slot = sensor->converting_slot_ms;
	} else if (sensor->driver->prepare) {
		int wait = sensor->driver->prepare(sensor->state, now_ms);
		if (wait < 0) {
			snprintf(detail, sizeof(detail), "cannot start a reading: %s", strerror(-wait));
			return sensor_fail(sensor, now_ms, detail);
		}
		if (wait > 0) {
			/* Collected on the schedule, never by blocking the loop. */
			sensor->converting = true;
			sensor->converting_slot_ms = slot;
			return now_ms + wait;
		}
	}

	struct sample sample = { 0 };
	int r = sensor->driver->sample(sensor->state, now_ms, &sample);
	return sensor_take(sensor, now_ms, slot, r, &sample) ? next : sensor->retry_ms;
}
