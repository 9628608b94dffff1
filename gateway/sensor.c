/* sensor.c — see sensor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sensor_internal.h"
#include "sensor_worker.h"
#include "tamper.h"

#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define BACKOFF_MIN_MS 1000

/* ---- small helpers ---- */

int64_t sensor_now(const struct sensor *sensor)
{
	return schedule_now(sensor->setup.schedule);
}

void sensor_alert_changed(struct sensor *sensor, bool changed)
{
	if (changed && sensor->setup.events.alert)
		sensor->setup.events.alert(sensor->setup.events.userdata, sensor);
}

void sensor_publish(struct sensor *sensor, int64_t ts_ms, double value, enum reading_direction direction)
{
	if (sensor->setup.events.reading)
		sensor->setup.events.reading(sensor->setup.events.userdata, sensor, ts_ms, value, direction);
}

/* Passes as readings: one per direction, and one for those whose direction
 * is unknown; nobody passing is not news, the window carries the zero. */
void sensor_publish_passes(struct sensor *sensor, int64_t ts_ms, uint64_t passes, uint64_t in, uint64_t out)
{
	if (in > 0)
		sensor_publish(sensor, ts_ms, (double)in, DIRECTION_IN);
	if (out > 0)
		sensor_publish(sensor, ts_ms, (double)out, DIRECTION_OUT);
	if (passes > in + out)
		sensor_publish(sensor, ts_ms, (double)(passes - in - out), DIRECTION_NONE);
}

/* Whether the lamp's light sensor says it is dark, and can be believed: a
 * failed one says nothing, and one reading near zero while the sun is well
 * up is covered or dirty (tamper_light_trusted), so an unlit lamp is then
 * no fault. */
bool sensor_light_dark(const struct sensor *lamp)
{
	const struct sensor *light = lamp->light;
	return light && light->has_dark && light->dark && !light->failing &&
	       tamper_light_trusted(&light->tamper, &light->alerts);
}

int64_t sensor_next_multiple(int64_t now_ms, int64_t step_ms)
{
	return window_align(now_ms, step_ms) + step_ms;
}

const struct driver_ops *sensor_find_driver(const struct sensor_setup *setup, const char *name)
{
	return setup->find_driver ? setup->find_driver(name) : driver_find(name);
}

int64_t sensor_first_backoff(const struct sensor *sensor)
{
	int64_t backoff = sensor->interval_ms > BACKOFF_MIN_MS ? sensor->interval_ms : BACKOFF_MIN_MS;
	return backoff > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff;
}

int64_t sensor_first_due(const struct sensor *sensor, int64_t now_ms)
{
	if (!sensor->state)
		return sensor->retry_ms > now_ms ? sensor->retry_ms : now_ms + sensor->backoff_ms;
	if (window_align(now_ms, sensor->interval_ms) == now_ms)
		return now_ms;
	return sensor_next_multiple(now_ms, sensor->interval_ms);
}

/* ---- opening, closing, failing ---- */

/* A sample hung in the kernel (sensor_poll() said so) may never come
 * back: the worker thread keeps it and the driver's state, and closes the
 * driver if it ever returns; the sensor goes on with a new worker, or
 * none when it is being freed.  A stop, a reload or a removal so never
 * waits for a device that does not answer. */
static void sensor_leave_hung_sample(struct sensor *sensor, bool replace)
{
	if (!sensor->worker || !sensor->sample_hung || !sensor_worker_abandon(sensor->worker))
		return;
	log_warning("sensor %s: left its device's sample behind, out for %lld s; the device is closed if it "
	            "ever answers", sensor->config.name,
	            (long long)((sensor_now(sensor) - sensor->sample_started_ms) / 1000));
	sensor->worker = NULL;
	sensor->state = NULL;
	sensor->sample_hung = false;
	if (replace && sensor_worker_new(sensor->setup.event, sensor_on_sampled, sensor, &sensor->worker) < 0)
		log_error("sensor %s: cannot start a new sampling thread; it is not read until tryggd restarts",
		          sensor->config.name);
}

void sensor_close_driver(struct sensor *sensor)
{
	sensor_leave_hung_sample(sensor, true);
	if (sensor->worker)
		sensor_worker_wait(sensor->worker);   /* never close under sample() */
	sensor->io = sd_event_source_disable_unref(sensor->io);
	if (sensor->state)
		sensor->driver->close(sensor->state);
	sensor->state = NULL;
	sensor->converting = false;
}

int sensor_open_driver(struct sensor *sensor, char *err, size_t err_size)
{
	sensor->setup.env.now_ms = sensor_now(sensor);
	int r = sensor->driver->open(&sensor->config, &sensor->setup.env, &sensor->state, err, err_size);
	if (r < 0) {
		sensor->state = NULL;
		return r;
	}
	return sensor_watch_driver(sensor, err, err_size);
}

int sensor_watch_driver(struct sensor *sensor, char *err, size_t err_size)
{
	int r;
	if (!sensor->event_driven)
		return 0;
	int fd = sensor->driver->event_fd(sensor->state);
	if (fd < 0) {
		snprintf(err, err_size, "the driver has no event descriptor");
		r = fd;
		goto fail;
	}
	r = sd_event_add_io(sensor->setup.event, &sensor->io, fd, EPOLLIN, sensor_on_io, sensor);
	if (r < 0) {
		snprintf(err, err_size, "cannot watch its events: %s", strerror(-r));
		goto fail;
	}
	sensor->has_direction = sensor->driver->has_direction && sensor->driver->has_direction(sensor->state);
	if (sensor->driver->level) {
		int level = sensor->driver->level(sensor->state);
		if (level < 0) {
			snprintf(err, err_size, "cannot read the input: %s", strerror(-level));
			r = level;
			goto fail;
		}
		sensor->level = level > 0;
	}
	return 0;
fail:
	sensor_close_driver(sensor);
	return r < 0 ? r : -EIO;
}

/* What it could not do is said once per failure, not on every retry. */
void sensor_mark_failed(struct sensor *sensor, int64_t now_ms, const char *detail, const char *then)
{
	if (!sensor->failing) {
		sensor->failing = true;
		sensor->counters.failures++;
		sensor->backoff_ms = sensor_first_backoff(sensor);
		log_warning("sensor %s: %s; %s", sensor->config.name, detail, then);
		sensor_alert_changed(sensor, alert_raise(&sensor->alerts, ALERT_FAILED, now_ms, "%s", detail));
	} else {
		sensor->backoff_ms = sensor->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : sensor->backoff_ms * 2;
	}
}

/* Start (or go on) failing at now_ms.  Returns when to try again. */
int64_t sensor_fail(struct sensor *sensor, int64_t now_ms, const char *detail)
{
	sensor_close_driver(sensor);
	sensor_mark_failed(sensor, now_ms, detail, "trying again with backoff");
	return now_ms + sensor->backoff_ms;
}

/* An event-driven sensor's caller moves its cursor: what it missed is not
 * covered. */
void sensor_recovered(struct sensor *sensor, int64_t now_ms)
{
	const struct alert_problem *problem = &sensor->alerts.problems[ALERT_FAILED];
	log_info("sensor %s: reading again after %lld s", sensor->config.name,
	         (long long)((now_ms - problem->since_ms) / 1000));
	sensor->failing = false;
	sensor->burst_failed = false;
	sensor_alert_changed(sensor, alert_clear(&sensor->alerts, ALERT_FAILED));
}

/* ---- the timer ---- */

static int64_t sensor_on_timer(void *userdata, int64_t now_ms)
{
	struct sensor *sensor = userdata;
	int64_t next = sensor_next_multiple(now_ms, sensor->interval_ms);
	/* A result whose eventfd has not had its turn yet is taken first; one
	 * that failed closed the driver, and its backoff runs. */
	if (sensor->worker && !sensor_worker_busy(sensor->worker))
		sensor_worker_finish(sensor->worker);
	if (!sensor->state && now_ms < sensor->retry_ms)
		return sensor->retry_ms;
	if (!sensor->state) {
		/* Room for "cannot open: " in front, within the detail's size. */
		char err[ALERT_DETAIL_SIZE - 16] = "";
		int r = sensor_open_driver(sensor, err, sizeof(err));
		if (r < 0) {
			char detail[ALERT_DETAIL_SIZE];
			snprintf(detail, sizeof(detail), "cannot open: %s", err[0] ? err : strerror(-r));
			return sensor_fail(sensor, now_ms, detail);
		}
		/* An event-driven driver read its input's level to open; a
		 * polled one has recovered only once a sample comes back good
		 * (sensor_take), or a device whose open succeeds while it still
		 * cannot be read would raise and clear `failed` on every retry.
		 * So has one that failed for a storm of passes: it is watched
		 * from now, and a slot without a storm clears it
		 * (sensor_tick_events). */
		if (sensor->event_driven) {
			sensor->cursor_ms = now_ms;   /* what it missed is not covered */
			if (!sensor->burst_failed)
				sensor_recovered(sensor, now_ms);
		}
		/* Sampling resumes on the interval's grid. */
		return next;
	}
	if (!sensor->event_driven)
		return sensor_poll(sensor, now_ms);
	if (!sensor_read_events(sensor, now_ms))
		return sensor->retry_ms;
	sensor_tick_events(sensor, now_ms);
	return next;
}

/* ---- windows ---- */

int64_t sensor_window_end(const struct sensor *sensor)
{
	return sensor->window.start_ms + sensor->window.length_ms;
}

void sensor_catch_up(struct sensor *sensor, int64_t t_ms)
{
	if (!sensor->event_driven || !sensor->state)
		return;
	if (!sensor_read_events(sensor, t_ms))
		return;
	sensor_credit(sensor, t_ms);
	sensor_release_held(sensor);
}

void sensor_close_window(struct sensor *sensor, struct window_result *out)
{
	sensor_catch_up(sensor, sensor_window_end(sensor));
	window_close(&sensor->window, out);
	sensor_flush_pending(sensor);
}

struct window *sensor_open_window(struct sensor *sensor)
{
	return &sensor->window;
}

bool sensor_cut_window(struct sensor *sensor, int64_t now_ms, struct window_result *out, struct window *cut)
{
	/* The sample in flight counts up to the stop, unless it hung: a stop
	 * does not wait for a device that does not answer. */
	if (sensor->worker && !sensor->sample_hung)
		sensor_worker_finish(sensor->worker);
	sensor_catch_up(sensor, now_ms);
	window_cut(&sensor->window, now_ms);
	/* A window cut short in which the sensor was never read says nothing:
	 * leave it out rather than write a zero. */
	if (sensor->window.covered_ms == 0 && sensor->window.samples == 0 && sensor->window.count == 0)
		return false;
	if (cut)
		*cut = sensor->window;
	window_close(&sensor->window, out);
	return true;
}

void sensor_clock_stepped(struct sensor *sensor, int64_t step_ms, int64_t now_ms)
{
	window_init(&sensor->window, sensor->config.type, sensor->setup.window_ms, now_ms);
	sensor->cursor_ms = now_ms;
	sensor->converting = false;
	for (size_t i = 0; i < sensor->pending_count; i++)
		sensor->pending[i].t_ms = now_ms;
	if (!sensor->timer)
		return;
	if (sensor->state)
		schedule_move(sensor->setup.schedule, sensor->timer, sensor_first_due(sensor, now_ms));
	else
		sensor->retry_ms += step_ms;
}

/* ---- life ---- */

static void sensor_clear_env(struct sensor_env_strings *strings)
{
	free(strings->gateway_id);
	free(strings->district);
	free(strings->profiles);
	free(strings->scenarios);
	free(strings->config_directory);
	*strings = (struct sensor_env_strings){ 0 };
}

void sensor_paired_clear(struct sensor_paired *paired)
{
	for (size_t i = 0; i < paired->count; i++)
		sensor_config_clear(&paired->configs[i]);
	free(paired->configs);
	free(paired->pointers);
	*paired = (struct sensor_paired){ 0 };
}

int sensor_paired_copy(const struct sensor_config *const *from, size_t count, struct sensor_paired *to)
{
	*to = (struct sensor_paired){ 0 };
	if (count == 0)
		return 0;
	to->configs = calloc(count, sizeof(*to->configs));
	to->pointers = calloc(count, sizeof(*to->pointers));
	if (!to->configs || !to->pointers)
		goto fail;
	/* Counted as they are made, so a failure clears exactly those. */
	for (; to->count < count; to->count++) {
		if (sensor_config_copy(from[to->count], &to->configs[to->count]) < 0)
			goto fail;
		to->pointers[to->count] = &to->configs[to->count];
	}
	return 0;
fail:
	sensor_paired_clear(to);
	return -ENOMEM;
}

bool sensor_paired_equal(const struct sensor *sensor, const struct sensor_config *const *paired, size_t count)
{
	if (sensor->paired.count != count)
		return false;
	for (size_t i = 0; i < count; i++)
		if (!sensor_config_equal(&sensor->paired.configs[i], paired[i]))
			return false;
	return true;
}

/* One string of the environment into the sensor's own copy; NULL stays
 * NULL.  false when out of memory. */
static bool sensor_copy_text(const char *text, char **copy, const char **used)
{
	*copy = text ? strdup(text) : NULL;
	*used = *copy;
	return !text || *copy;
}

/* The environment's strings and paired configs point into the daemon's
 * config, which a reload frees: the sensor keeps copies, and its setup
 * points at them. */
static int sensor_copy_env(struct sensor *sensor, const struct driver_env *env)
{
	struct sensor_env_strings *strings = &sensor->env_strings;
	struct driver_env *own = &sensor->setup.env;
	if (sensor_copy_text(env->gateway_id, &strings->gateway_id, &own->gateway_id) &&
	    sensor_copy_text(env->district, &strings->district, &own->district) &&
	    sensor_copy_text(env->profiles, &strings->profiles, &own->profiles) &&
	    sensor_copy_text(env->scenarios, &strings->scenarios, &own->scenarios) &&
	    sensor_copy_text(env->config_directory, &strings->config_directory, &own->config_directory) &&
	    sensor_paired_copy(env->paired, env->paired_count, &sensor->paired) == 0) {
		own->paired = sensor->paired.pointers;
		own->paired_count = sensor->paired.count;
		return 0;
	}
	sensor_clear_env(strings);
	*own = (struct driver_env){ 0 };
	return -ENOMEM;
}

int sensor_new(const struct sensor_setup *setup, const struct sensor_config *config, struct sensor **out,
               char *err, size_t err_size)
{
	int r;
	const struct driver_ops *driver = sensor_find_driver(setup, config->driver);
	if (!driver) {
		snprintf(err, err_size, "no driver '%s' in this build", config->driver);
		return -EINVAL;   /* config validation rules this out */
	}
	struct sensor *sensor = calloc(1, sizeof(*sensor));
	if (!sensor)
		return -ENOMEM;
	sensor->setup = *setup;
	if ((r = sensor_copy_env(sensor, &setup->env)) < 0 || (r = sensor_config_copy(config, &sensor->config)) < 0) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	sensor->driver = driver;
	sensor->interval_ms = (int64_t)config->interval_s * 1000;
	sensor->event_driven = driver->event_fd && driver->read_events;
	int64_t now = sensor_now(sensor);
	window_init(&sensor->window, config->type, setup->window_ms, now);
	tamper_init(&sensor->tamper, &sensor->config.alerts, setup->latitude, setup->longitude, now);
	sensor->cursor_ms = now;

	r = driver->sample_may_block && driver->sample
	    ? sensor_worker_new(setup->event, sensor_on_sampled, sensor, &sensor->worker) : 0;
	if (r < 0) {
		snprintf(err, err_size, "cannot start its sampling thread: %s", strerror(-r));
		goto fail;
	}
	r = sensor_open_driver(sensor, err, err_size);
	if (r == -EINVAL || r == -ENOMEM)
		goto fail;
	if (r < 0) {
		/* Not there yet (a board that boots before its sensor is
		 * plugged in): run without it and keep trying. */
		char detail[ALERT_DETAIL_SIZE];
		snprintf(detail, sizeof(detail), "cannot open: %s", err[0] ? err : strerror(-r));
		sensor->retry_ms = sensor_fail(sensor, now, detail);
	}
	*out = sensor;
	return 0;
fail:
	sensor_free(sensor);
	return r;
}

void sensor_pair(struct sensor *lamp, struct sensor *light)
{
	if (lamp->light) {
		struct sensor **link = &lamp->light->lamps;
		while (*link && *link != lamp)
			link = &(*link)->next_lamp;
		if (*link)
			*link = lamp->next_lamp;
		lamp->next_lamp = NULL;
	}
	lamp->light = light;
	if (light) {
		lamp->next_lamp = light->lamps;
		light->lamps = lamp;
	}
}

int sensor_start(struct sensor *sensor, int priority)
{
	schedule_cancel(sensor->setup.schedule, sensor->timer);
	sensor->timer = NULL;
	return schedule_add_timer(sensor->setup.schedule, sensor_first_due(sensor, sensor_now(sensor)), priority,
	                          sensor_on_timer, sensor, &sensor->timer);
}

void sensor_free(struct sensor *sensor)
{
	if (!sensor)
		return;
	/* Nothing that calls back into this sensor may outlive it: its timer,
	 * its lamps' and its light sensor's pointers to it, the io source
	 * (closed with the driver) and the worker's eventfd source. */
	schedule_cancel(sensor->setup.schedule, sensor->timer);
	sensor_pair(sensor, NULL);
	while (sensor->lamps)
		sensor_pair(sensor->lamps, NULL);
	sensor_leave_hung_sample(sensor, false);
	sensor_close_driver(sensor);          /* after a sample in flight */
	sensor_worker_free(sensor->worker);
	free(sensor->pending);
	sensor_config_clear(&sensor->config);
	sensor_clear_env(&sensor->env_strings);
	sensor_paired_clear(&sensor->paired);
	free(sensor);
}

const struct sensor_config *sensor_config(const struct sensor *sensor)
{
	return &sensor->config;
}

const struct alerts *sensor_alerts(const struct sensor *sensor)
{
	return &sensor->alerts;
}

struct sensor_counters sensor_counters(const struct sensor *sensor)
{
	return sensor->counters;
}
