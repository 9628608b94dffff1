/* daemon.c — see daemon.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon.h"
#include "daemon_internal.h"
#include "health.h"
#include "identity.h"
#include "log.h"
#include "mqtt.h"
#include "payload.h"
#include "schedule.h"
#include "sensor.h"
#include "spool.h"
#include "state.h"
#include "store_dialect.h"
#include "store_forward.h"
#include "topic.h"

/* Backpressure for a simulation at speed 0: the virtual clock waits while
 * this much is under way to a server that is up.  While a server is down
 * the clock runs on, as a board's would, and the outage's backlog is what
 * the MQTT buffer limit and the spool hold. */
#define MQTT_PENDING_MAX 2000
#define SPOOL_PENDING_MAX 20000
/* Once held back, the clock goes on only when the broker has taken half:
 * then a turn of the loop makes a thousand messages, committed together
 * and handed to Paho together, rather than one for every answer. */
#define MQTT_PENDING_RESUME (MQTT_PENDING_MAX / 2)
/* On SIGTERM, how long to wait for MQTT and the store to take what is under
 * way; what the store did not take is kept in the spool. */
#define STOP_TIMEOUT_S 5
/* Among timers due at one instant: the health message first, so that it
 * tells how things stood up to that instant (everything sent before it had
 * a turn of the loop to be acknowledged), then windows, then sensors. */
#define PRIORITY_HEALTH (-2)
#define PRIORITY_STATUS (-1)
#define PRIORITY_WINDOW 0

/* ---- stopping ---- */

static uint64_t daemon_mqtt_pending(const struct daemon *daemon)
{
	return daemon->mqtt ? mqtt_pending(daemon->mqtt) : 0;
}

static void daemon_check_drained(struct daemon *daemon)
{
	if (daemon->phase == PHASE_RUNNING)
		return;
	bool store_done = !daemon->store || store_forward_idle(daemon->store);
	if (daemon_mqtt_pending(daemon) > 0 || !store_done)
		return;
	if (daemon->phase == PHASE_DRAINING && daemon->mqtt && mqtt_connected(daemon->mqtt)) {
		/* A clean stop says offline itself; the will is for the rest.
		 * Before it, the last health: the figures once everything was
		 * delivered (buffered 0, spooled 0). */
		daemon->phase = PHASE_CLOSING;
		if (daemon->config->mqtt.health_interval_ms > 0)
			daemon_publish_health(daemon);
		daemon_publish_status(daemon, false);
		return;
	}
	sd_event_exit(daemon->event, 0);
}

static int daemon_on_deadline(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct daemon *daemon = userdata;
	(void)source;
	(void)usec;
	uint64_t messages_left = daemon_mqtt_pending(daemon);
	uint64_t points_left = daemon->spool ? spool_pending(daemon->spool) : 0;
	/* Both wait on disk for the next run: the MQTT buffer (mqtt_disconnect()
	 * makes it durable on the way out) and the spool. */
	if (messages_left > 0)
		log_warning("stopping with %llu MQTT messages undelivered; they stay in the buffer for the next run",
		            (unsigned long long)messages_left);
	if (points_left > 0)
		log_warning("stopping with %llu points not yet in the store; they stay in the spool for the next run",
		            (unsigned long long)points_left);
	sd_event_exit(daemon->event, daemon->timeout_status);
	return 0;
}

/* Flush the open window and wait, at most timeout_s, until MQTT and the
 * store have taken everything; then exit 0, or timeout_status if time ran
 * out. */
static void daemon_begin_stop(struct daemon *daemon, int timeout_s, int timeout_status)
{
	if (daemon->phase != PHASE_RUNNING)
		return;
	sd_notify(0, "STOPPING=1");
	daemon->phase = PHASE_DRAINING;
	daemon->timeout_status = timeout_status;
	/* The open window is flushed as it stands; its coverage tells how much
	 * of it the sensor was read. */
	daemon_close_windows(daemon, true, schedule_now(daemon->schedule));
	schedule_halt(daemon->schedule);
	if (daemon->store)
		store_forward_flush(daemon->store);

	uint64_t now;
	sd_event_now(daemon->event, CLOCK_MONOTONIC, &now);
	if (sd_event_add_time(daemon->event, &daemon->deadline, CLOCK_MONOTONIC,
	                      now + (uint64_t)timeout_s * 1000000u, 0, daemon_on_deadline, daemon) < 0)
		sd_event_exit(daemon->event, 1);
	daemon_check_drained(daemon);
}

static void daemon_on_simulation_end(void *userdata)
{
	struct daemon *daemon = userdata;
	log_info("simulated end reached: %llu readings, %llu windows; delivering what is left",
	         (unsigned long long)daemon_readings(daemon), (unsigned long long)daemon->windows);
	/* A simulation that could not deliver says so in its exit status. */
	daemon_begin_stop(daemon, daemon->config->simulation.drain_timeout_s, EXIT_TEMPFAIL);
}

static int daemon_on_signal(sd_event_source *source, const struct signalfd_siginfo *info, void *userdata)
{
	struct daemon *daemon = userdata;
	(void)source;
	if (info->ssi_signo == SIGHUP) {
		if (daemon->phase == PHASE_RUNNING)
			daemon_reload(daemon);
		return 0;
	}
	log_info("%s: stopping", strsignal((int)info->ssi_signo));
	/* Asked to stop: a store or broker that is down must not hold the
	 * stop up; what the store did not take stays in the spool. */
	daemon_begin_stop(daemon, STOP_TIMEOUT_S, 0);
	return 0;
}

/* ---- wiring ---- */

static bool daemon_ready(void *userdata)
{
	struct daemon *daemon = userdata;
	if (daemon->mqtt && mqtt_connected(daemon->mqtt)) {
		uint64_t pending = mqtt_pending(daemon->mqtt);
		if (pending >= MQTT_PENDING_MAX)
			daemon->mqtt_held = true;
		else if (pending <= MQTT_PENDING_RESUME)
			daemon->mqtt_held = false;
		if (daemon->mqtt_held)
			return false;
	}
	if (daemon->store && store_forward_available(daemon->store) && spool_pending(daemon->spool) >= SPOOL_PENDING_MAX)
		return false;
	return true;
}

void daemon_on_progress(void *userdata)
{
	struct daemon *daemon = userdata;
	schedule_kick(daemon->schedule);
	daemon_check_drained(daemon);
}

static void daemon_on_mqtt_connected(void *userdata)
{
	struct daemon *daemon = userdata;
	if (daemon->phase == PHASE_RUNNING) {
		daemon_publish_status(daemon, true);
		/* Retained, so a broker that lost them (restarted without
		 * persistence) learns every sensor's health again. */
		for (size_t i = 0; i < daemon->sensor_count; i++)
			daemon_publish_alert(daemon, &daemon->sensors[i], true);
	}
	daemon_notify_status(daemon);
	schedule_kick(daemon->schedule);
	daemon_check_drained(daemon);
}

void daemon_add_missing_timers(struct daemon *daemon)
{
	const struct mqtt_config *mqtt = &daemon->config->mqtt;
	int64_t now = schedule_now(daemon->schedule);
	/* Both on the schedule's clock, aligned to multiples of their period
	 * since the epoch like windows: a simulation says them at virtual
	 * times, the same at any speed.  Each stops by itself when MQTT or
	 * its period goes (a reload). */
	if (!daemon->health_timer && daemon->mqtt && mqtt->health_interval_ms > 0)
		daemon->health_timer = schedule_add(daemon->schedule, daemon_next_multiple(now, mqtt->health_interval_ms),
		                                    PRIORITY_HEALTH, daemon_on_health, daemon) >= 0;
	if (!daemon->status_timer && daemon->mqtt && mqtt->status_interval_ms > 0)
		daemon->status_timer = schedule_add(daemon->schedule, daemon_next_multiple(now, mqtt->status_interval_ms),
		                                    PRIORITY_STATUS, daemon_on_status, daemon) >= 0;
}

int daemon_add_timers(struct daemon *daemon)
{
	int64_t now = schedule_now(daemon->schedule);
	daemon_clock_start(daemon);
	int r = schedule_add_timer(daemon->schedule, daemon_next_multiple(now, daemon->window_ms), PRIORITY_WINDOW,
	                           daemon_on_window_end, daemon, &daemon->window_timer);
	if (r < 0)
		return r;
	daemon_add_missing_timers(daemon);
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		r = daemon_sensor_start(&daemon->sensors[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void daemon_set_identity(struct daemon *daemon)
{
	const struct gateway_config *gateway = &daemon->config->gateway;
	daemon->identity = (struct identity){ gateway->id, gateway->district, gateway->site };
}

void daemon_notify_status(struct daemon *daemon)
{
	char mqtt[64] = "no MQTT", store[96] = "no store", clock[128];
	daemon_clock_status(daemon, clock, sizeof(clock));
	if (daemon->mqtt)
		snprintf(mqtt, sizeof(mqtt), "MQTT %s, %llu buffered", mqtt_connected(daemon->mqtt) ? "connected" : "not connected",
		         (unsigned long long)mqtt_pending(daemon->mqtt));
	if (daemon->store)
		snprintf(store, sizeof(store), "store %s, %llu points spooled",
		         store_forward_available(daemon->store) ? "up" : "not answering",
		         (unsigned long long)spool_pending(daemon->spool));
	sd_notifyf(0, "STATUS=%s%zu sensors; %s; %s", clock, daemon->sensor_count, mqtt, store);
}

int daemon_open_mqtt(struct daemon *daemon)
{
	const struct config *config = daemon->config;
	char *offline = payload_status("offline", NULL, -1);
	struct mqtt_events events = {
		.connected = daemon_on_mqtt_connected,
		.progress = daemon_on_progress,
		.committed = daemon_on_committed,
		.userdata = daemon,
	};
	char *outbox = NULL;
	if (asprintf(&outbox, "%s/mqtt-buffer.db", config->gateway.state_dir) < 0)
		outbox = NULL;
	struct mqtt_setup setup = {
		.config = &config->mqtt,
		.client_id = config->mqtt.client_id ? config->mqtt.client_id : config->gateway.id,
		.outbox_path = outbox,
		.will_topic = daemon->topic_status,
		.will_payload = offline,
		.events = events,
	};
	int r = offline && outbox ? mqtt_new(daemon->event, &setup, &daemon->mqtt) : -ENOMEM;
	free(offline);
	free(outbox);
	if (r < 0)
		return r;
	/* The outbox has the number with its messages; the state database's
	 * is the floor (and where an earlier version kept it). */
	if (mqtt_sequence(daemon->mqtt) > daemon->seq)
		daemon->seq = mqtt_sequence(daemon->mqtt);
	mqtt_start(daemon->mqtt);
	return 0;
}

int daemon_open_store(struct daemon *daemon)
{
	const struct config *config = daemon->config;
	daemon->backslash = store_dialect_of(config->influx.api)->backslash;
	if (!daemon->spool) {
		int r = spool_open(state_database(daemon->state), config->influx.spool_max_bytes, &daemon->spool);
		if (r < 0)
			return r;
		if (spool_pending(daemon->spool) > 0)
			log_info("spool: %llu points from an earlier run are waiting",
			         (unsigned long long)spool_pending(daemon->spool));
	}
	spool_set_max_bytes(daemon->spool, config->influx.spool_max_bytes);
	struct store_forward_options options = {
		.event = daemon->event,
		.config = &config->influx,
		.config_directory = config->directory,
		.spool = daemon->spool,
		/* The store's waits run on the simulated clock too. */
		.time_scale = config->has_simulation && config->simulation.speed > 0 ? config->simulation.speed : 1,
		.progress = daemon_on_progress,
		.userdata = daemon,
	};
	int r = store_forward_new(&options, &daemon->store);
	if (r < 0)
		return r;
	store_forward_kick(daemon->store);
	return 0;
}

void daemon_free(struct daemon *daemon)
{
	if (!daemon)
		return;
	for (size_t i = 0; i < daemon->sensor_count; i++)
		daemon_sensor_free(&daemon->sensors[i]);
	free(daemon->sensors);
	free(daemon->topic_status);
	free(daemon->topic_health);
	store_forward_free(daemon->store);
	mqtt_free(daemon->mqtt);
	/* The last chance for points the disk refused: after this they are
	 * gone, and said so. */
	if (daemon->spool && spool_counters(daemon->spool).held > 0 && spool_retry(daemon->spool) < 0)
		log_error("spool: %llu points kept in memory are lost: the state database still refuses writes",
		          (unsigned long long)spool_counters(daemon->spool).held);
	spool_close(daemon->spool);
	state_close(daemon->state);
	schedule_free(daemon->schedule);
	sd_event_source_disable_unref(daemon->deadline);
	for (size_t i = 0; i < sizeof(daemon->signal_sources) / sizeof(daemon->signal_sources[0]); i++)
		sd_event_source_disable_unref(daemon->signal_sources[i]);
	sd_event_unref(daemon->event);
	if (daemon->config) {
		config_free(daemon->config);
		free(daemon->config);
	}
	free(daemon);
}

/* After a damaged tryggd.db or mqtt-buffer.db was set aside: where the
 * reading sequence number goes on from.  Each file holds it (the buffer
 * with its messages, the state database as the floor), so one set aside
 * costs nothing; both, and the numbers start again. */
static void daemon_say_sequence(struct daemon *daemon)
{
	struct state_damage state = state_damage(daemon->state);
	bool outbox_aside = mqtt_counters(daemon->mqtt).set_aside > 0;
	unsigned long long next = (unsigned long long)daemon->seq + 1;
	if (!state.set_aside && !outbox_aside)
		return;
	if (state.set_aside && !state.sequence_known && outbox_aside)
		log_warning("the reading sequence number restarts from %llu: tryggd.db and the MQTT buffer were both set "
		            "aside and neither number could be read; a subscriber may see numbers it saw before", next);
	else if (state.set_aside && !state.sequence_known)
		log_info("the reading sequence number goes on from %llu, kept with the MQTT buffer", next);
	else
		log_info("the reading sequence number goes on from %llu, the floor kept in tryggd.db", next);
}

int daemon_new(struct config *config, struct daemon **out, int *status)
{
	char err[512] = "";
	int r = -ENOMEM;
	*status = 1;
	struct daemon *daemon = calloc(1, sizeof(*daemon));
	if (!daemon) {
		config_free(config);
		free(config);
		return -ENOMEM;
	}
	daemon->config = config;
	daemon_set_identity(daemon);
	daemon->backslash = store_dialect_of(config->influx.api)->backslash;
	daemon->window_ms = (int64_t)config->gateway.window_s * 1000;

	r = sd_event_new(&daemon->event);
	if (r < 0)
		goto out;
	/* The loop feeds systemd's watchdog (WatchdogSec=) by itself when
	 * WATCHDOG_USEC is set: a stuck loop stops feeding it. */
	sd_event_set_watchdog(daemon->event, true);
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	const int numbers[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < 3; i++) {
		r = sd_event_add_signal(daemon->event, &daemon->signal_sources[i], numbers[i], daemon_on_signal, daemon);
		if (r < 0)
			goto out;
	}

	r = state_open(config->gateway.state_dir, &daemon->state, err, sizeof(err));
	if (r < 0) {
		log_error("state: %s", err);
		*status = EXIT_UNAVAILABLE;
		goto out;
	}
	r = state_sequence_load(daemon->state, &daemon->seq);
	if (r < 0)
		goto out;
	daemon->seq_floor = daemon->seq;

	struct schedule_options options = {
		.simulated = config->has_simulation,
		.start_ms = config->simulation.start_ms,
		.end_ms = config->simulation.end_ms,
		.speed = config->simulation.speed,
		.ready = daemon_ready,
		.on_end = daemon_on_simulation_end,
		.on_step = daemon_on_clock_step,
		.step_at_ms = config->simulation.clock_step_at_ms,
		.step_ms = config->simulation.clock_step_ms,
		.userdata = daemon,
	};
	r = schedule_new(daemon->event, &options, &daemon->schedule);
	if (r < 0)
		goto out;
	daemon->started_ms = schedule_now(daemon->schedule);
	daemon->started_monotonic_ms = daemon_monotonic_ms();
	r = daemon_open_topics(daemon);
	if (r < 0)
		goto out;
	r = daemon_open_sensors(daemon);
	if (r < 0) {
		*status = EXIT_UNAVAILABLE;
		goto out;
	}
	daemon_resume_windows(daemon);
	if (config->has_mqtt && (r = daemon_open_mqtt(daemon)) < 0)
		goto out;
	if (config->has_mqtt)
		daemon_say_sequence(daemon);
	if (config->has_influx && (r = daemon_open_store(daemon)) < 0) {
		*status = EXIT_UNAVAILABLE;
		goto out;
	}
	r = daemon_add_timers(daemon);
	if (r < 0)
		goto out;
	*out = daemon;
	*status = 0;
	return 0;
out:
	if (*status == 1)
		log_error("cannot start: %s", strerror(-r));
	daemon_free(daemon);
	return r < 0 ? r : -EIO;
}

int daemon_run(struct daemon *daemon)
{
	const struct config *config = daemon->config;
	log_info("gateway %s in %s: %zu sensors, %d s windows, %s", config->gateway.id, config->gateway.district,
	         daemon->sensor_count, config->gateway.window_s,
	         config->has_simulation ? "simulated clock" : "real time");
	sd_notify(0, "READY=1");
	daemon_notify_status(daemon);
	int status = sd_event_loop(daemon->event);
	if (status < 0) {
		log_error("event loop: %s", strerror(-status));
		status = 1;
	}
	/* The config may have been reloaded meanwhile. */
	config = daemon->config;
	if (daemon->mqtt)
		mqtt_disconnect(daemon->mqtt, 1000);
	if (daemon->unkept > 0)
		log_info("%llu messages could not be kept for the broker (the disk refused)%s",
		         (unsigned long long)daemon->unkept,
		         daemon->unkept_episode > 0 ? " (it still refused at the stop)" : "");
	/* What the store did not take by now stays in the spool; a batch on
	 * its way is dropped, and what the bound took of it counted. */
	if (daemon->store)
		store_forward_stop(daemon->store);
	struct health health = daemon_health(daemon);
	log_info("stopped: %llu readings, %llu windows, %llu MQTT messages delivered, %llu kept for the next start, "
	         "%llu dropped, %llu lost to the disk; %llu points stored, %llu set aside, %llu dropped from a full spool; "
	         "%llu windows not stamped (clock)",
	         (unsigned long long)health.readings, (unsigned long long)daemon->windows,
	         (unsigned long long)health.published, (unsigned long long)health.buffered,
	         (unsigned long long)health.dropped, (unsigned long long)health.lost,
	         (unsigned long long)health.sent, (unsigned long long)health.rejected,
	         (unsigned long long)health.spool_dropped, (unsigned long long)health.unstamped_windows);
	if (daemon->store && config->influx.verify == INFLUX_VERIFY_READBACK) {
		struct store_counters store = store_forward_counters(daemon->store);
		log_info("store: %llu sampled points read back: %llu found, %llu missing",
		         (unsigned long long)(store.verified + store.missing), (unsigned long long)store.verified,
		         (unsigned long long)store.missing);
	}
	return status;
}
