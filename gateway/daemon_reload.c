/* daemon_reload.c — SIGHUP: the configuration read again and, when it is
 * valid, applied while everything runs.
 *
 * All or nothing at the level of the file: an invalid file, or one that
 * changes what cannot change under a running gateway ([gateway]: its
 * identity, window and state; [simulation]: its clock), is refused whole,
 * with every problem logged, and the configuration loaded before keeps
 * running.  Otherwise only what changed is reopened:
 *   - sensors are matched by name: one that did not change runs on
 *     untouched; one whose settings changed (same type), or a light
 *     sensor whose lamps were added, removed or changed, is reconfigured
 *     and keeps its open window; one that is gone, or changed type, has its
 *     open window closed as it stands (as at a stop) and its retained
 *     alert cleared; a new one is opened and started;
 *   - [mqtt]: a new session when it changed, or when it reads files (a
 *     password, a key, certificates) that may have been replaced under the
 *     same names; the outbox is on disk, so nothing buffered is lost, and
 *     `seq` goes on;
 *   - [influx]: a new forwarder on the same spool.
 * Windows stay aligned: the window timer and length do not change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "daemon_internal.h"
#include "log.h"
#include "mqtt.h"
#include "sensor.h"
#include "spool.h"
#include "store_forward.h"
#include "topic.h"

struct reload_tally {
	size_t kept, changed, added, removed;
};

/* What cannot change under a running gateway; NULL when nothing of it
 * did. */
static const char *reload_refusal(const struct config *old, const struct config *new)
{
	if (!gateway_config_equal(&old->gateway, &new->gateway))
		return "[gateway] (its id, district, site, window, state_dir or position)";
	if (old->has_simulation != new->has_simulation ||
	    (old->has_simulation && !simulation_config_equal(&old->simulation, &new->simulation)))
		return "[simulation]";
	return NULL;
}

/* A sensor that goes: its window as it stands, and no retained alert
 * left behind for a sensor that is no more. */
static void reload_close_sensor(struct daemon *daemon, struct daemon_sensor *entry)
{
	daemon_cut_sensor_window(daemon, entry);
	daemon_store_alerts_gone(daemon, entry);
	if (daemon->mqtt) {
		char *empty = strdup("");
		if (empty)
			daemon_publish(daemon, entry->topic_alert, empty, true, true);
	}
	daemon_sensor_free(entry);
}

static int reload_sensors(struct daemon *daemon, const struct config *config, struct reload_tally *tally)
{
	struct daemon_sensor *sensors = calloc(config->sensor_count ? config->sensor_count : 1, sizeof(*sensors));
	if (!sensors)
		return -ENOMEM;
	for (size_t i = 0; i < config->sensor_count; i++) {
		const struct sensor_config *sc = &config->sensors[i];
		struct daemon_sensor *old = daemon_find_sensor(daemon, sc->name);
		if (old && sensor_config(old->sensor)->type == sc->type) {
			/* A light sensor whose lamps changed has changed too: a sim
			 * one sees them (driver_env.paired). */
			const struct sensor_config **paired = NULL;
			size_t paired_count = 0;
			int paired_r = daemon_paired_configs(config, sc, &paired, &paired_count);
			if (paired_r < 0) {
				log_error("sensor %s: out of memory; it keeps its old settings", sc->name);
			} else if (sensor_config_equal(sensor_config(old->sensor), sc) &&
			           sensor_paired_equal(old->sensor, paired, paired_count)) {
				tally->kept++;
			} else {
				char err[256] = "";
				int r = sensor_reconfigure_paired(old->sensor, sc, paired, paired_count, err, sizeof(err));
				if (r < 0)
					log_error("sensor %s: the new settings cannot work (%s); it keeps its old ones", sc->name,
					          err[0] ? err : strerror(-r));
				else
					tally->changed++;
			}
			free(paired);
			sensors[i] = *old;
			memset(old, 0, sizeof(*old));
			continue;
		}
		if (old) {
			/* Another type is another measurement: a new sensor. */
			reload_close_sensor(daemon, old);
			tally->removed++;
		}
		int r = daemon_sensor_open(daemon, sc, &sensors[i]);
		if (r >= 0)
			r = daemon_sensor_start(&sensors[i]);
		if (r < 0)
			log_error("sensor %s: not started: %s", sc->name, strerror(-r));
		/* One that failed as it opened could not say so: it was not
		 * among the daemon's yet (daemon_on_alert). */
		if (sensors[i].sensor && daemon->mqtt && alert_shown(sensor_alerts(sensors[i].sensor), NULL))
			daemon_publish_alert(daemon, &sensors[i], false);
		tally->added++;
	}
	/* What is left in the old array has no place in the new config. */
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		if (!daemon->sensors[i].sensor)
			continue;
		reload_close_sensor(daemon, &daemon->sensors[i]);
		tally->removed++;
	}
	free(daemon->sensors);
	/* Sensors that could not be opened leave a hole: close it up. */
	size_t count = 0;
	for (size_t i = 0; i < config->sensor_count; i++)
		if (sensors[i].sensor)
			sensors[count++] = sensors[i];
	daemon->sensors = sensors;
	daemon->sensor_count = count;
	daemon_pair_lamps(daemon);
	daemon_store_alerts(daemon);
	return 0;
}

/* The topics of every sensor and of the gateway, again: the prefix may
 * have changed. */
static int reload_topics(struct daemon *daemon)
{
	free(daemon->topic_status);
	free(daemon->topic_health);
	daemon->topic_status = daemon->topic_health = NULL;
	int r = daemon_open_topics(daemon);
	for (size_t i = 0; r >= 0 && i < daemon->sensor_count; i++)
		r = daemon_sensor_topics(daemon, &daemon->sensors[i]);
	return r;
}

static int reload_mqtt(struct daemon *daemon, const struct config *old)
{
	const struct config *config = daemon->config;
	/* A password, key or certificate is read when the session is made:
	 * one rotated under the same file name is picked up by a reload too. */
	const struct mqtt_config *mqtt = &config->mqtt;
	bool files = mqtt->password_file || mqtt->cert_file || mqtt->key_file || mqtt->ca_file || mqtt->ca_dir;
	if (old->has_mqtt == config->has_mqtt &&
	    (!config->has_mqtt || (mqtt_config_equal(&old->mqtt, mqtt) && !files)))
		return 0;
	if (daemon->mqtt) {
		/* Makes the outbox durable: the new session sends it. */
		mqtt_disconnect(daemon->mqtt, 1000);
		mqtt_free(daemon->mqtt);
		daemon->mqtt = NULL;
	}
	int r = reload_topics(daemon);
	if (r >= 0 && config->has_mqtt)
		r = daemon_open_mqtt(daemon);
	log_info("SIGHUP: MQTT %s", !config->has_mqtt ? "off ([mqtt] removed)" : r < 0 ? "could not be reopened" : "reopened");
	return 1;
}

static int reload_store(struct daemon *daemon, const struct config *old)
{
	const struct config *config = daemon->config;
	if (old->has_influx == config->has_influx &&
	    (!config->has_influx || influx_config_equal(&old->influx, &config->influx)))
		return 0;
	if (daemon->store) {
		store_forward_stop(daemon->store);
		store_forward_free(daemon->store);
		daemon->store = NULL;
	}
	int r = config->has_influx ? daemon_open_store(daemon) : 0;
	if (!config->has_influx && daemon->spool && spool_pending(daemon->spool) > 0)
		log_info("SIGHUP: the store is off ([influx] removed); %llu points stay in the spool until it is back",
		         (unsigned long long)spool_pending(daemon->spool));
	else
		log_info("SIGHUP: the store %s", r < 0 ? "could not be reopened" : "reopened");
	return 1;
}

void daemon_reload(struct daemon *daemon)
{
	const char *path = daemon->config->path;
	struct reload_tally tally = { 0 };
	sd_notify(0, "RELOADING=1");
	log_info("SIGHUP: reading %s again", path);
	struct config *config = calloc(1, sizeof(*config));
	if (!config) {
		log_error("SIGHUP: out of memory; the configuration loaded before keeps running");
		goto out;
	}
	/* Its problems go to stderr as FILE:LINE: message, one a line, as at
	 * a start. */
	if (config_load(path, config, stderr) < 0) {
		log_error("SIGHUP: %s is not valid (see above); the configuration loaded before keeps running", path);
		free(config);
		goto out;
	}
	const char *refusal = reload_refusal(daemon->config, config);
	if (refusal) {
		log_error("SIGHUP: %s cannot change while tryggd runs; nothing of the new configuration was applied, "
		          "restart tryggd to apply it", refusal);
		config_free(config);
		free(config);
		goto out;
	}

	struct config *old = daemon->config;
	daemon->config = config;
	daemon_set_identity(daemon);
	int r = reload_sensors(daemon, config, &tally);
	if (r < 0)
		log_error("SIGHUP: the sensors could not be reloaded: %s", strerror(-r));
	int mqtt = reload_mqtt(daemon, old);
	int store = reload_store(daemon, old);
	daemon_add_missing_timers(daemon);
	log_info("SIGHUP: configuration reloaded: %zu sensors kept, %zu changed, %zu added, %zu removed; MQTT %s, "
	         "store %s",
	         tally.kept, tally.changed, tally.added, tally.removed, mqtt ? "reopened" : "unchanged",
	         store ? "reopened" : "unchanged");
	/* Every module copied what it keeps of the old configuration. */
	config_free(old);
	free(old);
out:
	sd_notify(0, "READY=1");
	daemon_notify_status(daemon);
}
