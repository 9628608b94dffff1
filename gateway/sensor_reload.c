/* sensor_reload.c — sensor_reconfigure(): a running sensor takes new
 * settings from a reloaded configuration and goes on with the window it
 * has open (see sensor.h for what it keeps and sensor_internal.h for the
 * rest of the sensor).
 *
 * The new settings are tried first, while the old driver still runs, so
 * that settings the driver refuses leave the sensor exactly as it was.  A
 * device the old driver holds for itself (a GPIO line) cannot be opened
 * twice: then the old driver lets go first and the new settings are tried
 * again, and if the driver refuses them only then, the old settings are
 * opened again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sensor_internal.h"
#include "sensor_worker.h"

/* Room for "cannot open: " in front, within an alert's detail. */
#define OPEN_ERROR_SIZE (ALERT_DETAIL_SIZE - 16)

/* The driver, settings, paired configs and worker a sensor runs with:
 * what a reload exchanges, and gives back when the new settings are
 * refused late. */
struct sensor_running {
	struct sensor_config config;
	const struct driver_ops *driver;
	struct sensor_worker *worker;
	struct sensor_paired paired;
};

static bool needs_worker(const struct driver_ops *driver)
{
	return driver->sample_may_block && driver->sample;
}

/* Swap what the sensor runs with for *other; the sensor's derived fields
 * follow.  tamper.limits points at sensor->config.alerts, whose address
 * does not change. */
static void sensor_exchange(struct sensor *sensor, struct sensor_running *other)
{
	struct sensor_running mine = { sensor->config, sensor->driver, sensor->worker, sensor->paired };
	sensor->config = other->config;
	sensor->driver = other->driver;
	sensor->worker = other->worker;
	sensor->paired = other->paired;
	*other = mine;
	sensor->setup.env.paired = sensor->paired.pointers;
	sensor->setup.env.paired_count = sensor->paired.count;
	sensor->interval_ms = (int64_t)sensor->config.interval_s * 1000;
	sensor->event_driven = sensor->driver->event_fd && sensor->driver->read_events;
}

/* Everything the old driver read up to now_ms is in the open window, and
 * nothing after it is credited: the last sample stood for its slot only
 * until the driver was closed.  Then the driver is closed. */
static void sensor_let_go(struct sensor *sensor, int64_t now_ms, bool staying_event_driven)
{
	if (sensor->worker && !sensor->sample_hung)
		sensor_worker_finish(sensor->worker);   /* the sample in flight counts, up to now */
	sensor_catch_up(sensor, now_ms);
	if (sensor->event_driven && !staying_event_driven && sensor->tick_passes > 0) {
		/* A polled driver never says what was counted since the last
		 * reading: say it now. */
		sensor_publish_passes(sensor, now_ms, sensor->tick_passes, sensor->tick_in, sensor->tick_out);
		sensor->tick_passes = sensor->tick_in = sensor->tick_out = 0;
	}
	window_cut(&sensor->window, now_ms);
	sensor_close_driver(sensor);
	/* An event-driven driver credits from here on, not from before. */
	sensor->cursor_ms = now_ms;
}

/* A threshold changed: an alert raised under the old one stays until its
 * cause goes away, like any alert, and the tamper rules keep what they saw
 * (low since, held since, quiet for, off in the dark since), which the new
 * thresholds judge from now on.  Only an alert whose rule is now turned
 * off (0) is cleared: nothing it says is wanted any more. */
static void sensor_retune_alerts(struct sensor *sensor)
{
	const struct sensor_alerts *limits = &sensor->config.alerts;
	bool changed = false;
	if (limits->stuck_ms <= 0)
		changed |= alert_clear(&sensor->alerts, ALERT_STUCK);
	if (limits->blocked_ms <= 0)
		changed |= alert_clear(&sensor->alerts, ALERT_BLOCKED);
	if (limits->covered_ms <= 0)
		changed |= alert_clear(&sensor->alerts, ALERT_COVERED);
	if (limits->lamp_fault_ms <= 0)
		changed |= alert_clear(&sensor->alerts, ALERT_LAMP_FAULT);
	sensor_alert_changed(sensor, changed);
}

/* After the driver was opened at now_ms with result r (err from the
 * driver): read again, or fail and retry, as at sensor_new().  New
 * settings get a fresh backoff, from their own interval. */
static void sensor_resume(struct sensor *sensor, int64_t now_ms, int r, const char *err)
{
	if (r < 0) {
		char detail[ALERT_DETAIL_SIZE];
		snprintf(detail, sizeof(detail), "cannot open: %s", err[0] ? err : strerror(-r));
		sensor_fail(sensor, now_ms, detail);
		sensor->backoff_ms = sensor_first_backoff(sensor);
		sensor->retry_ms = now_ms + sensor->backoff_ms;
	} else if (sensor->failing && sensor->event_driven) {
		/* A polled one has recovered only once a sample comes back
		 * good, as in sensor_on_timer(). */
		sensor_recovered(sensor, now_ms);
	}
	if (sensor->timer)
		schedule_move(sensor->setup.schedule, sensor->timer, sensor_first_due(sensor, now_ms));
}

int sensor_reconfigure(struct sensor *sensor, const struct sensor_config *config, char *err, size_t err_size)
{
	return sensor_reconfigure_paired(sensor, config, sensor->paired.pointers, sensor->paired.count, err,
	                                 err_size);
}

int sensor_reconfigure_paired(struct sensor *sensor, const struct sensor_config *config,
                              const struct sensor_config *const *paired, size_t paired_count, char *err,
                              size_t err_size)
{
	struct sensor_running other = { 0 };
	void *trial = NULL;
	char open_err[OPEN_ERROR_SIZE] = "";
	int r;

	if (!config->name || strcmp(config->name, sensor->config.name) != 0 || config->type != sensor->config.type) {
		snprintf(err, err_size, "a sensor takes new settings only under its own name and type (%s, %s)",
		         sensor->config.name, sensor_type_name(sensor->config.type));
		return -EINVAL;
	}
	other.driver = sensor_find_driver(&sensor->setup, config->driver);
	if (!other.driver) {
		snprintf(err, err_size, "no driver '%s' in this build", config->driver);
		return -EINVAL;
	}
	r = sensor_config_copy(config, &other.config);
	if (r >= 0)
		r = sensor_paired_copy(paired, paired_count, &other.paired);
	if (r < 0) {
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	/* The old worker serves the new driver too, if it needs one; it is
	 * idle once the old driver has let go. */
	other.worker = needs_worker(other.driver) ? sensor->worker : NULL;
	if (needs_worker(other.driver) && !sensor->worker) {
		r = sensor_worker_new(sensor->setup.event, sensor_on_sampled, sensor, &other.worker);
		if (r < 0) {
			snprintf(err, err_size, "cannot start its sampling thread: %s", strerror(-r));
			goto out;
		}
	}

	int64_t now = sensor_now(sensor);
	bool was_open = sensor->state != NULL;
	struct driver_env trial_env = sensor->setup.env;
	trial_env.now_ms = now;
	trial_env.paired = other.paired.pointers;
	trial_env.paired_count = other.paired.count;
	r = other.driver->open(&other.config, &trial_env, &trial, open_err, sizeof(open_err));
	if (r == -EINVAL || r == -ENOMEM) {
		snprintf(err, err_size, "%s", open_err[0] ? open_err : strerror(-r));
		trial = NULL;
		goto out;
	}
	if (r < 0)
		trial = NULL;

	/* From here on the sensor runs with the new settings, unless the
	 * driver refuses them once the old one has let go. */
	sensor_let_go(sensor, now, other.driver->event_fd && other.driver->read_events);
	sensor_exchange(sensor, &other);
	if (trial) {
		sensor->state = trial;
		r = sensor_watch_driver(sensor, open_err, sizeof(open_err));
	} else if (was_open) {
		/* Perhaps only busy because the old driver held it. */
		open_err[0] = '\0';
		r = sensor_open_driver(sensor, open_err, sizeof(open_err));
	}
	if (r == -EINVAL || r == -ENOMEM) {
		snprintf(err, err_size, "%s", open_err[0] ? open_err : strerror(-r));
		sensor_exchange(sensor, &other);
		char again_err[OPEN_ERROR_SIZE] = "";
		sensor_resume(sensor, now, sensor_open_driver(sensor, again_err, sizeof(again_err)), again_err);
		goto out;
	}
	log_info("sensor %s: new settings taken (driver %s, every %d s)", sensor->config.name, sensor->config.driver,
	         sensor->config.interval_s);
	sensor_retune_alerts(sensor);
	sensor_resume(sensor, now, r, open_err);
	r = 0;
out:
	/* other holds whatever the sensor does not run with: the old
	 * settings, or the new ones refused. */
	if (other.worker != sensor->worker)
		sensor_worker_free(other.worker);
	sensor_config_clear(&other.config);
	sensor_paired_clear(&other.paired);
	return r;
}
