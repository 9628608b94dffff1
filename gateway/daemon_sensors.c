/* daemon_sensors.c — the daemon's sensors: each opened with its topics
 * (and, for a light sensor, told of its lamps' configs: driver_env.paired),
 * started on the schedule, lamps paired with their light sensors, and
 * closed again, at a stop or when a reload removes one (daemon_reload.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"
#include "log.h"
#include "sensor.h"
#include "topic.h"

struct sensor_setup daemon_sensor_setup(struct daemon *daemon)
{
	const struct config *config = daemon->config;
	return (struct sensor_setup){
		.event = daemon->event,
		.schedule = daemon->schedule,
		.env = {
			.gateway_id = config->gateway.id,
			.district = config->gateway.district,
			.profiles = config->simulation.profiles,
			.scenarios = config->simulation.scenarios,
			.config_directory = config->directory,
		},
		.window_ms = daemon->window_ms,
		.latitude = config->gateway.latitude,
		.longitude = config->gateway.longitude,
		.events = { .reading = daemon_on_reading, .alert = daemon_on_alert, .userdata = daemon },
	};
}

int daemon_open_topics(struct daemon *daemon)
{
	const char *prefix = daemon->config->mqtt.topic_prefix;
	int r = topic_gateway(prefix, &daemon->identity, TOPIC_STATUS, &daemon->topic_status);
	if (r >= 0)
		r = topic_gateway(prefix, &daemon->identity, TOPIC_HEALTH, &daemon->topic_health);
	if (r < 0)
		log_error("cannot name the gateway's MQTT topics: %s", strerror(-r));
	return r;
}

int daemon_paired_configs(const struct config *config, const struct sensor_config *sc,
                          const struct sensor_config ***paired, size_t *count)
{
	*paired = NULL;
	*count = 0;
	if (sc->type != SENSOR_LIGHT)
		return 0;
	for (size_t pass = 0; pass < 2; pass++) {
		/* Counted first, then filled. */
		size_t found = 0;
		for (size_t i = 0; i < config->sensor_count; i++) {
			const struct sensor_config *lamp = &config->sensors[i];
			if (lamp->type != SENSOR_LAMP || !lamp->light || strcmp(lamp->light, sc->name) != 0)
				continue;
			if (pass == 1)
				(*paired)[found] = lamp;
			found++;
		}
		if (found == 0)
			return 0;
		if (pass == 0) {
			*paired = calloc(found, sizeof(**paired));
			if (!*paired)
				return -ENOMEM;
		}
		*count = found;
	}
	return 0;
}

int daemon_sensor_open(struct daemon *daemon, const struct sensor_config *sc, struct daemon_sensor *entry)
{
	struct sensor_setup setup = daemon_sensor_setup(daemon);
	const struct sensor_config **paired = NULL;
	char err[256] = "";
	memset(entry, 0, sizeof(*entry));
	int r = daemon_paired_configs(daemon->config, sc, &paired, &setup.env.paired_count);
	if (r < 0) {
		log_error("sensor %s: cannot open: %s", sc->name, strerror(-r));
		return r;
	}
	setup.env.paired = paired;
	r = sensor_new(&setup, sc, &entry->sensor, err, sizeof(err));
	free(paired);   /* the sensor has its own copies */
	if (r < 0) {
		log_error("sensor %s: cannot open (driver %s): %s", sc->name, sc->driver, err[0] ? err : strerror(-r));
		return r;
	}
	r = daemon_sensor_topics(daemon, entry);
	if (r < 0)
		daemon_sensor_free(entry);
	return r;
}

int daemon_sensor_topics(struct daemon *daemon, struct daemon_sensor *entry)
{
	const char *prefix = daemon->config->mqtt.topic_prefix;
	const char *name = sensor_config(entry->sensor)->name;
	free(entry->topic_reading);
	free(entry->topic_window);
	free(entry->topic_alert);
	entry->topic_reading = entry->topic_window = entry->topic_alert = NULL;
	int r;
	if ((r = topic_sensor(prefix, &daemon->identity, name, TOPIC_READING, &entry->topic_reading)) < 0 ||
	    (r = topic_sensor(prefix, &daemon->identity, name, TOPIC_WINDOW, &entry->topic_window)) < 0 ||
	    (r = topic_sensor(prefix, &daemon->identity, name, TOPIC_ALERT, &entry->topic_alert)) < 0)
		log_error("sensor %s: cannot name its MQTT topics: %s", name, strerror(-r));
	return r;
}

void daemon_sensor_free(struct daemon_sensor *entry)
{
	sensor_free(entry->sensor);
	free(entry->topic_reading);
	free(entry->topic_window);
	free(entry->topic_alert);
	memset(entry, 0, sizeof(*entry));
}

int daemon_sensor_start(struct daemon_sensor *entry)
{
	enum sensor_type type = sensor_config(entry->sensor)->type;
	/* Light before footfall before lamps at one instant, so a lamp sees
	 * the darkness measured at that same instant. */
	int priority = type == SENSOR_LIGHT ? 1 : type == SENSOR_FOOTFALL ? 2 : 3;
	return sensor_start(entry->sensor, priority);
}

struct daemon_sensor *daemon_find_sensor(struct daemon *daemon, const char *name)
{
	/* A reload empties the entries it has moved on. */
	for (size_t i = 0; i < daemon->sensor_count; i++)
		if (daemon->sensors[i].sensor && strcmp(sensor_config(daemon->sensors[i].sensor)->name, name) == 0)
			return &daemon->sensors[i];
	return NULL;
}

void daemon_pair_lamps(struct daemon *daemon)
{
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		struct sensor *lamp = daemon->sensors[i].sensor;
		const struct sensor_config *sc = sensor_config(lamp);
		if (sc->type != SENSOR_LAMP)
			continue;
		struct daemon_sensor *light = sc->light ? daemon_find_sensor(daemon, sc->light) : NULL;
		sensor_pair(lamp, light ? light->sensor : NULL);
	}
}

int daemon_open_sensors(struct daemon *daemon)
{
	const struct config *config = daemon->config;
	daemon->sensors = calloc(config->sensor_count, sizeof(*daemon->sensors));
	if (!daemon->sensors)
		return -ENOMEM;
	for (size_t i = 0; i < config->sensor_count; i++) {
		int r = daemon_sensor_open(daemon, &config->sensors[i], &daemon->sensors[i]);
		if (r < 0)
			return r;
		daemon->sensor_count++;
	}
	daemon_pair_lamps(daemon);
	return 0;
}
