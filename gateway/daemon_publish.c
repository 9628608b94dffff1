/* daemon_publish.c — the daemon's MQTT publishing side and its own
 * figures; see daemon_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_internal.h"
#include "log.h"
#include "mqtt.h"
#include "payload.h"
#include "schedule.h"
#include "spool.h"
#include "state.h"
#include "store_forward.h"

/* ---- publishing ---- */

/* The outbox could not keep a message (the disk refused): said when that
 * begins and when it keeps one again, with the count, not once per
 * message. */
static void daemon_watch_unkept(struct daemon *daemon, int r, const char *topic)
{
	if (r == 0) {
		if (daemon->unkept_episode > 0)
			log_info("mqtt: messages can be kept for the broker again; %llu could not be meanwhile",
			         (unsigned long long)daemon->unkept_episode);
		daemon->unkept_episode = 0;
		return;
	}
	if (daemon->unkept_episode == 0)
		log_warning("mqtt: cannot keep a message for %s in %s/mqtt-buffer.db (%s): messages are dropped, and "
		            "counted, until it can", topic, daemon->config->gateway.state_dir, strerror(-r));
	daemon->unkept_episode++;
	daemon->unkept++;
}

/* Into the durable outbox, in order; or, with now, straight to the broker
 * (a retained state re-said on connect, which must not wait behind a
 * backlog and is said again on the next connect anyway). */
int daemon_publish(struct daemon *daemon, const char *topic, char *payload, bool retained, bool now)
{
	if (!payload) {
		log_error("out of memory building a message for %s", topic);
		daemon->mqtt_dropped++;
		return -ENOMEM;
	}
	int r = now ? mqtt_publish_now(daemon->mqtt, topic, payload, daemon->config->mqtt.qos, retained)
	            : mqtt_publish(daemon->mqtt, topic, payload, daemon->config->mqtt.qos, retained);
	if (!now && r != -EMSGSIZE)
		daemon_watch_unkept(daemon, r, topic);
	if (r < 0 && !now) {
		/* Said once per thousand: a message that can never fit. */
		if (r == -EMSGSIZE && daemon->mqtt_dropped % 1000 == 0)
			log_warning("mqtt: a message to %s is larger than buffer_size, dropping: %llu dropped so far",
			            topic, (unsigned long long)daemon->mqtt_dropped + 1);
		daemon->mqtt_dropped++;
	}
	free(payload);
	return r;
}

void daemon_publish_status(struct daemon *daemon, bool online)
{
	/* online on every connect, at once; offline at a clean stop, after
	 * everything else, through the outbox so that the stop waits for it. */
	char *payload = online
		? payload_status("online", TRYGGD_VERSION, schedule_now(daemon->schedule))
		: payload_status("offline", NULL, -1);
	daemon_publish(daemon, daemon->topic_status, payload, true, online);
}

static struct daemon_sensor *daemon_find(struct daemon *daemon, const struct sensor *sensor)
{
	for (size_t i = 0; i < daemon->sensor_count; i++)
		if (daemon->sensors[i].sensor == sensor)
			return &daemon->sensors[i];
	return NULL;
}

/* Each turn the outbox made its messages durable, with the last sequence
 * number among them: that number goes to the state database too, one
 * statement per turn, before any of those messages reaches Paho.  It is
 * the floor the next start goes on from should the outbox have to be set
 * aside (a broken file), so that no number a subscriber saw is used
 * again even then.  A failure here costs nothing else: the outbox holds
 * the number. */
void daemon_on_committed(void *userdata, uint64_t sequence)
{
	struct daemon *daemon = userdata;
	if (sequence <= daemon->seq_floor)
		return;
	int r = state_sequence_store(daemon->state, sequence);
	if (r < 0) {
		if (!daemon->seq_floor_failing)
			log_warning("cannot record the reading sequence number %llu in %s/tryggd.db too: %s (%s); "
			            "mqtt-buffer.db has it", (unsigned long long)sequence,
			            daemon->config->gateway.state_dir, state_error(daemon->state), strerror(-r));
		daemon->seq_floor_failing = true;
		return;
	}
	if (daemon->seq_floor_failing)
		log_info("the reading sequence number is recorded in tryggd.db again (%llu)", (unsigned long long)sequence);
	daemon->seq_floor_failing = false;
	daemon->seq_floor = sequence;
}

void daemon_on_reading(void *userdata, struct sensor *sensor, int64_t ts_ms, double value,
                              enum reading_direction direction)
{
	struct daemon *daemon = userdata;
	if (!daemon->mqtt || !daemon->config->mqtt.publish_readings)
		return;
	/* A reading's ts from a clock that is not synchronised is wrong. */
	if (!daemon_clock_may_publish(daemon))
		return;
	const struct sensor_config *sc = sensor_config(sensor);
	struct reading reading = {
		.ts_ms = ts_ms, .seq = daemon->seq + 1, .value = value, .direction = direction,
	};
	/* A number is used once its message is kept for the broker: one the
	 * outbox refused (a full disk) goes to the next reading, so a
	 * subscriber sees a gap only where a kept message was lost.  The
	 * number is committed with the message (mqtt_set_sequence). */
	if (daemon_publish(daemon, daemon_find(daemon, sensor)->topic_reading,
	                   payload_reading(&daemon->identity, sc->name, sc->type, &reading), false, false) == 0) {
		daemon->seq = reading.seq;
		mqtt_set_sequence(daemon->mqtt, daemon->seq);
	}
}

void daemon_publish_alert(struct daemon *daemon, struct daemon_sensor *entry, bool now)
{
	const struct sensor_config *sc = sensor_config(entry->sensor);
	daemon_publish(daemon, entry->topic_alert,
	               payload_alert(&daemon->identity, sc->name, sc->type, sensor_alerts(entry->sensor),
	                             schedule_now(daemon->schedule)),
	               true, now);
}

void daemon_on_alert(void *userdata, struct sensor *sensor)
{
	struct daemon *daemon = userdata;
	struct daemon_sensor *entry = daemon_find(daemon, sensor);
	enum alert_kind kind;
	const struct alert_problem *problem = alert_shown(sensor_alerts(sensor), &kind);
	if (problem)
		log_warning("sensor %s: alert %s: %s", sensor_config(sensor)->name, alert_kind_name(kind), problem->detail);
	else
		log_info("sensor %s: alert cleared, ok", sensor_config(sensor)->name);
	/* A sensor that fails as it opens is not among the daemon's yet: its
	 * alert is said once it is (on connect; a reload says it when it adds
	 * the sensor), and the store hears of it at the next comparison. */
	if (!entry)
		return;
	if (daemon->mqtt)
		daemon_publish_alert(daemon, entry, false);
	daemon_store_alerts(daemon);
}

/* ---- the gateway's own figures ---- */

uint64_t daemon_readings(const struct daemon *daemon)
{
	uint64_t readings = 0;
	for (size_t i = 0; i < daemon->sensor_count; i++)
		readings += sensor_counters(daemon->sensors[i].sensor).readings;
	return readings;
}

int64_t daemon_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Uptime on the virtual clock in a simulation, so that a simulated run
 * reports the same at any speed; in the field on CLOCK_MONOTONIC, which a
 * board without a battery clock setting its time from NTP does not step. */
static int64_t daemon_uptime_s(const struct daemon *daemon)
{
	int64_t ms = daemon->config->has_simulation ? schedule_now(daemon->schedule) - daemon->started_ms
	                                            : daemon_monotonic_ms() - daemon->started_monotonic_ms;
	return ms > 0 ? ms / 1000 : 0;
}

/* Every figure of the health topic and the gateway point, now. */
struct health daemon_health(const struct daemon *daemon)
{
	struct mqtt_counters mqtt = daemon->mqtt ? mqtt_counters(daemon->mqtt) : (struct mqtt_counters){ 0 };
	struct store_counters store = daemon->store ? store_forward_counters(daemon->store) : (struct store_counters){ 0 };
	struct health health = {
		.readings = daemon_readings(daemon),
		.published = mqtt.published,
		.buffered = mqtt.buffered,
		/* What could not be kept (unsaved among it) is counted by
		 * daemon_publish(); the outbox counts what it dropped, the
		 * session what the broker refused. */
		.dropped = daemon->mqtt_dropped + mqtt.dropped + mqtt.refused,
		.lost = mqtt.lost,
		.reconnects = mqtt.reconnects,
		.spooled = daemon->spool ? spool_pending(daemon->spool) : 0,
		.sent = store.sent,
		.spool_dropped = daemon->spool ? spool_counters(daemon->spool).dropped : 0,
		.rejected = store.rejected,
		.missing = store.missing,
		.unstamped_windows = daemon->unstamped_windows,
		.uptime_s = daemon_uptime_s(daemon),
		.window_s = daemon->window_ms / 1000,
		.memory = health_memory_bytes(),
	};
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		const struct alerts *alerts = sensor_alerts(daemon->sensors[i].sensor);
		for (unsigned kind = 0; kind < ALERT_KIND_COUNT; kind++)
			health.problems += alerts->problems[kind].active;
		health.implausible += sensor_counters(daemon->sensors[i].sensor).implausible;
	}
	return health;
}

/* The health topic, through the outbox like every message that is not a
 * retained state: a health message taken during an outage arrives late,
 * with the ts it was taken at. */
void daemon_publish_health(struct daemon *daemon)
{
	struct health health = daemon_health(daemon);
	daemon_publish(daemon, daemon->topic_health,
	               payload_health(&daemon->identity, schedule_now(daemon->schedule), &health), false, false);
}

int64_t daemon_on_health(void *userdata, int64_t now_ms)
{
	struct daemon *daemon = userdata;
	int64_t interval_ms = daemon->config->mqtt.health_interval_ms;
	/* A reload took MQTT or the period away: this timer ends. */
	if (!daemon->mqtt || interval_ms <= 0) {
		daemon->health_timer = false;
		return -1;
	}
	daemon_publish_health(daemon);
	return window_align(now_ms, interval_ms) + interval_ms;
}

/* The retained online status, said again while connected: a clustered
 * broker (RabbitMQ's MQTT plugin) keeps a retained message on the node that
 * took it, so a subscriber on another node, or on a node that restarted,
 * learns it only when it is said again. */
int64_t daemon_on_status(void *userdata, int64_t now_ms)
{
	struct daemon *daemon = userdata;
	int64_t interval_ms = daemon->config->mqtt.status_interval_ms;
	if (!daemon->mqtt || interval_ms <= 0) {
		daemon->status_timer = false;
		return -1;
	}
	if (daemon->phase == PHASE_RUNNING && mqtt_connected(daemon->mqtt))
		daemon_publish_status(daemon, true);
	return window_align(now_ms, interval_ms) + interval_ms;
}
