/* config_summary.c — config_print_summary(): what `tryggd --check` prints
 * about a valid configuration, on one screen. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_internal.h"
#include "credentials.h"
#include "driver.h"
#include "slug.h"
#include "store_dialect.h"
#include "timefmt.h"

void config_print_summary(const struct config *config, FILE *out)
{
	const struct gateway_config *gateway = &config->gateway;
	char slug[SLUG_BUFFER_SIZE];
	if (slug_make(gateway->district, slug, sizeof(slug)) < 0)
		snprintf(slug, sizeof(slug), "?");

	fprintf(out, "%s: configuration is valid\n\n", config->path);
	fprintf(out, "gateway     %s in %s (topic level '%s')", gateway->id, gateway->district, slug);
	if (gateway->site)
		fprintf(out, ", site %s", gateway->site);
	fprintf(out, "\nwindow      %d s, aligned to the epoch (UTC)\n", gateway->window_s);
	fprintf(out, "state       %s\n", gateway->state_dir);

	if (config->has_simulation) {
		const struct simulation_config *simulation = &config->simulation;
		char start[TIMEFMT_RFC3339_SIZE], end[TIMEFMT_RFC3339_SIZE];
		timefmt_rfc3339(simulation->start_ms, start);
		fprintf(out, "clock       simulated from %s", start);
		if (simulation->end_ms) {
			timefmt_rfc3339(simulation->end_ms, end);
			fprintf(out, " to %s", end);
		}
		if (simulation->speed == 0)
			fprintf(out, ", as fast as possible\n");
		else
			fprintf(out, ", %g virtual s per real s\n", simulation->speed);
		if (simulation->end_ms)
			fprintf(out, "            at the end, waits up to %d s for delivery\n", simulation->drain_timeout_s);
	} else {
		fprintf(out, "clock       real time\n");
	}
	bool simulated_sensors = false;
	for (size_t i = 0; i < config->sensor_count; i++) {
		const struct driver_ops *driver = driver_find(config->sensors[i].driver);
		simulated_sensors |= driver && driver->simulated;
	}
	if (simulated_sensors)
		fprintf(out, "profiles    %s\n", config->simulation.profiles);
	if (simulated_sensors && config->simulation.scenarios)
		fprintf(out, "scenarios   %s\n", config->simulation.scenarios);

	if (config->has_mqtt) {
		const struct mqtt_config *mqtt = &config->mqtt;
		fprintf(out, "mqtt        %s", mqtt->uris[0]);
		for (size_t i = 1; i < mqtt->uri_count; i++)
			fprintf(out, ", then %s", mqtt->uris[i]);
		fprintf(out, "\n            MQTT %s, qos %d, keepalive %d s, %s session, buffer %d messages or %lld MiB\n",
		        mqtt->version == MQTT_VERSION_5 ? "5" : "3.1.1", mqtt->qos, mqtt->keepalive_s,
		        mqtt->clean_session ? "clean" : "persistent", mqtt->buffer_max,
		        (long long)(mqtt->buffer_bytes >> 20));
		fprintf(out, "            topics %s/%s/%s/... (readings %s)\n", mqtt->topic_prefix, slug, gateway->id,
		        mqtt->publish_readings ? "published" : "not published, windows only");
		config_print_mqtt_security(mqtt, out);
		if (mqtt->health_interval_ms > 0)
			fprintf(out, "            health every %g s", (double)mqtt->health_interval_ms / 1000);
		else
			fprintf(out, "            health off");
		if (mqtt->status_interval_ms > 0)
			fprintf(out, ", status on connect and every %g s\n", (double)mqtt->status_interval_ms / 1000);
		else
			fprintf(out, ", status on connect only\n");
	} else {
		fprintf(out, "mqtt        off (no [mqtt] section)\n");
	}

	if (config->has_influx) {
		const struct influx_config *influx = &config->influx;
		const struct store_dialect *dialect = store_dialect_of(influx->api);
		fprintf(out, "influx      %s, api %s (%s), ", influx->url, dialect->name, dialect->product);
		if (influx->api == INFLUX_V2)
			fprintf(out, "org %s, bucket %s", influx->org, influx->bucket ? influx->bucket : influx->database);
		else
			fprintf(out, "database %s", influx->database);
		if (influx->retention_policy)
			fprintf(out, ", retention policy %s", influx->retention_policy);
		fprintf(out, "\n            timeout %d s, up to %d lines a request%s%s\n", influx->timeout_s,
		        influx->batch_lines, influx->gzip ? ", gzip" : "",
		        influx->verify == INFLUX_VERIFY_READBACK ? ", a sample of each batch read back" : "");
		if (influx->user)
			fprintf(out, "            user %s, password from %s\n", influx->user,
			        influx->password_file ? influx->password_file : "(none)");
		if (influx->token_file)
			fprintf(out, "            token from %s%s\n", influx->token_file,
			        credential_world_readable(influx->token_file) ? " (readable by every user: chmod o-r)" : "");
		if (strncmp(influx->url, "https://", 8) == 0)
			fprintf(out, "            TLS: %s, %s\n", influx->ca_file ? influx->ca_file : "the system's CAs",
			        influx->tls_verify ? "verified" : "NOT verified (tls_verify = no)");
		if (influx->proxy)
			fprintf(out, "            through the proxy %s\n", influx->proxy);
		fprintf(out, "            spool up to %llu MiB\n", (unsigned long long)(influx->spool_max_bytes >> 20));
	} else {
		fprintf(out, "influx      off (no [influx] section)\n");
	}

	fprintf(out, "\n%zu sensor%s:\n", config->sensor_count, config->sensor_count == 1 ? "" : "s");
	for (size_t i = 0; i < config->sensor_count; i++) {
		const struct sensor_config *sensor = &config->sensors[i];
		fprintf(out, "  %-16s %-8s  driver %-6s every %d s", sensor->name, sensor_type_name(sensor->type),
		        sensor->driver, sensor->interval_s);
		if (sensor->type == SENSOR_LIGHT)
			fprintf(out, ", dark below %g lx", sensor->dark_lux);
		if (sensor->light)
			fprintf(out, ", paired with %s", sensor->light);
		for (size_t j = 0; j < sensor->option_count; j++)
			fprintf(out, ", %s=%s", sensor->options[j].key, sensor->options[j].value);
		fputc('\n', out);
	}
}
