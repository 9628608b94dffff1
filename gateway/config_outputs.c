/* config_outputs.c — pass 2 for [mqtt], where readings and windows are
 * published (the store's [influx] is config_influx.c). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "parse.h"

/* Like district and site: generous, but a finite bound for every topic
 * buffer downstream. */
#define TOPIC_PREFIX_MAX 128
#define KIBIBYTE INT64_C(1024)
#define MEBIBYTE (1024 * KIBIBYTE)
#define GIBIBYTE (1024 * MEBIBYTE)
#define PERIOD_MAX_MS (7 * INT64_C(86400000))
#define CLIENT_ID_CHARACTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/* tcp://host:port and friends, as Paho takes them; ws and wss may add a
 * path.  Returns NULL when good, or what is wrong. */
static const char *check_mqtt_uri(const char *uri)
{
	static const struct {
		const char *name;
		bool web;
	} schemes[] = {
		{ "tcp", false }, { "mqtt", false }, { "ssl", false }, { "mqtts", false }, { "ws", true }, { "wss", true },
	};
	const char *separator = strstr(uri, "://");
	if (!separator)
		return "expected SCHEME://HOST:PORT, e.g. tcp://broker.example:1883";
	size_t scheme_length = (size_t)(separator - uri);
	bool known = false, web = false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == scheme_length && strncmp(uri, schemes[i].name, scheme_length) == 0) {
			known = true;
			web = schemes[i].web;
		}
	}
	if (!known)
		return "the scheme must be tcp, mqtt, ssl, mqtts, ws or wss";
	/* Whether TLS (ssl, mqtts, wss) can work is config_mqtt_security.c's. */

	const char *host = separator + 3;
	const char *problem = NULL;
	const char *host_end = config_host_end(host, &problem);
	if (!host_end)
		return problem;
	if (host_end == host)
		return "missing or bad host name";
	if (host_end[0] != ':')
		return (host_end[0] == '\0' || host_end[0] == '/') ? "missing port, e.g. tcp://broker.example:1883"
		                                                   : "bad host name";
	const char *port = host_end + 1;
	size_t port_length;
	if (!config_port(port, &port_length))
		return "the port must be from 1 to 65535";
	const char *rest = port + port_length;
	if (rest[0] == '\0')
		return NULL;
	if (rest[0] != '/')
		return "unexpected text after the port";
	if (!web)
		return "only ws:// and wss:// may have a path after the port";
	for (const unsigned char *p = (const unsigned char *)rest; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return "spaces and control characters are not allowed in the path";
	return NULL;
}

/* One URI, or several separated by commas or blanks: the brokers of a
 * cluster, tried in order on every connect. */
static void validate_uris(struct loader *loader, const struct raw_entry *entry, struct mqtt_config *mqtt)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	static const char separators[] = ", \t";
	const char *cursor = entry->value;
	bool good = true;
	char *found[MQTT_URIS_MAX] = { 0 };
	size_t count = 0;
	for (cursor += strspn(cursor, separators); *cursor; cursor += strspn(cursor, separators)) {
		size_t length = strcspn(cursor, separators);
		char *uri = strndup(cursor, length);
		cursor += length;
		if (!uri) {
			loader->out_of_memory = true;
			good = false;
			break;
		}
		const char *problem = check_mqtt_uri(uri);
		if (problem) {
			config_report(loader, entry->line, "uri: %s, got '%s'", problem, config_shown(uri, shown_buffer));
			good = false;
		} else if (count == MQTT_URIS_MAX) {
			config_report(loader, entry->line, "uri: at most %d brokers", MQTT_URIS_MAX);
			good = false;
		} else {
			found[count++] = uri;
			continue;
		}
		free(uri);
		if (count == MQTT_URIS_MAX)
			break;
	}
	if (good && count == 0) {
		config_report(loader, entry->line, "uri: expected SCHEME://HOST:PORT, e.g. tcp://broker.example:1883");
		good = false;
	}
	if (!good) {
		for (size_t i = 0; i < count; i++)
			free(found[i]);
		return;
	}
	for (size_t i = 0; i < count; i++)
		mqtt->uris[i] = found[i];
	mqtt->uri_count = count;
	mqtt->uri = mqtt->uris[0];
}

/* 64M, 512K, 2G (powers of 1024) or a plain number of bytes. */
static bool parse_size(const char *text, int64_t minimum, int64_t maximum, int64_t *out)
{
	size_t digits = strspn(text, "0123456789");
	if (digits == 0 || digits > 12)
		return false;
	char number[16];
	memcpy(number, text, digits);
	number[digits] = '\0';
	long value;
	if (!parse_integer(number, 0, 999999999999L, &value))
		return false;
	int64_t unit = 1;
	const char *suffix = text + digits;
	if (strcmp(suffix, "K") == 0)
		unit = KIBIBYTE;
	else if (strcmp(suffix, "M") == 0)
		unit = MEBIBYTE;
	else if (strcmp(suffix, "G") == 0)
		unit = GIBIBYTE;
	else if (*suffix != '\0')
		return false;
	if (value > maximum / unit)
		return false;
	int64_t size = (int64_t)value * unit;
	if (size < minimum || size > maximum)
		return false;
	*out = size;
	return true;
}

static void validate_topic_prefix(struct loader *loader, const struct raw_entry *entry, char **field)
{
	const char *prefix = entry->value;
	size_t length = strlen(prefix);
	if (length == 0)
		config_report(loader, entry->line, "topic_prefix must not be empty");
	else if (config_has_control_characters(prefix))
		config_report(loader, entry->line, "control characters are not allowed in topic_prefix");
	else if (strpbrk(prefix, "+#"))
		config_report(loader, entry->line,
		              "topic_prefix must not contain '+' or '#' (they are MQTT wildcards)");
	else if (prefix[0] == '/' || prefix[length - 1] == '/')
		config_report(loader, entry->line, "topic_prefix must not start or end with '/'");
	else if (strstr(prefix, "//"))
		config_report(loader, entry->line, "topic_prefix must not contain an empty level ('//')");
	else if (length > TOPIC_PREFIX_MAX)
		config_report(loader, entry->line, "topic_prefix is too long (at most %d bytes)", TOPIC_PREFIX_MAX);
	else {
		free(*field);
		*field = config_copy_text(loader, prefix);
	}
}

/* A period of something tryggd says on its own: 0 (off, as zero_means
 * says), or from 1 s to 7 days, in parse_duration_ms()'s spelling.  A
 * shorter period would only flood the broker. */
static void take_period(struct loader *loader, struct raw_section *section, const char *key,
                        const char *example, const char *zero_means, int64_t *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take(section, key);
	int64_t value;
	if (!entry)
		return;
	if (parse_duration_ms(entry->value, 0, PERIOD_MAX_MS, &value) && (value == 0 || value >= 1000))
		*field = value;
	else
		config_report(loader, entry->line, "%s: expected a time from 1s to 7d such as %s, or 0 %s, got '%s'",
		              key, example, zero_means, config_shown(entry->value, shown_buffer));
}

void config_validate_mqtt(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct mqtt_config *mqtt = &config->mqtt;
	struct raw_section *section = config_find_section(loader, SECTION_MQTT, NULL);
	/* Defaults even without [mqtt]: topics are also named in logs. */
	mqtt->topic_prefix = config_copy_text(loader, "trygghet");
	mqtt->qos = 1;
	mqtt->publish_readings = true;
	mqtt->keepalive_s = 30;
	mqtt->buffer_max = 100000;
	mqtt->buffer_bytes = 64 * MEBIBYTE;
	mqtt->version = MQTT_VERSION_3_1_1;
	mqtt->clean_session = true;
	mqtt->health_interval_ms = 60 * 1000;
	mqtt->status_interval_ms = 5 * 60 * 1000;
	if (!section)
		return;
	config->has_mqtt = true;

	struct raw_entry *entry = config_take_required(loader, section, "uri");
	if (entry)
		validate_uris(loader, entry, mqtt);
	config_validate_mqtt_security(loader, section, entry, config);

	entry = config_take(section, "version");
	if (entry) {
		if (strcmp(entry->value, "3.1.1") == 0)
			mqtt->version = MQTT_VERSION_3_1_1;
		else if (strcmp(entry->value, "5") == 0)
			mqtt->version = MQTT_VERSION_5;
		else
			config_report(loader, entry->line, "version: expected 3.1.1 or 5, got '%s'",
			              config_shown(entry->value, shown_buffer));
	}

	entry = config_take(section, "clean_session");
	if (entry && !parse_boolean(entry->value, &mqtt->clean_session))
		config_report(loader, entry->line, "clean_session: expected yes or no, got '%s'",
		              config_shown(entry->value, shown_buffer));

	entry = config_take(section, "client_id");
	if (entry) {
		size_t length = strlen(entry->value);
		if (length == 0 || length > 64 || strspn(entry->value, CLIENT_ID_CHARACTERS) != length)
			config_report(loader, entry->line, "client_id: expected 1 to 64 of A-Z a-z 0-9 _ -, got '%s'",
			              config_shown(entry->value, shown_buffer));
		else
			mqtt->client_id = config_copy_text(loader, entry->value);
	}

	entry = config_take(section, "topic_prefix");
	if (entry)
		validate_topic_prefix(loader, entry, &mqtt->topic_prefix);

	entry = config_take(section, "qos");
	if (entry) {
		long qos;
		if (parse_integer(entry->value, 0, 2, &qos))
			mqtt->qos = (int)qos;
		else
			config_report(loader, entry->line, "qos: expected 0, 1 or 2, got '%s'",
			              config_shown(entry->value, shown_buffer));
	}

	entry = config_take(section, "publish_readings");
	if (entry && !parse_boolean(entry->value, &mqtt->publish_readings))
		config_report(loader, entry->line, "publish_readings: expected yes or no, got '%s'",
		              config_shown(entry->value, shown_buffer));

	config_take_integer(loader, section, "keepalive", "whole seconds", 5, 3600, &mqtt->keepalive_s);
	config_take_integer(loader, section, "buffer_max", "a number of messages", 1, 10000000, &mqtt->buffer_max);
	entry = config_take(section, "buffer_size");
	if (entry && !parse_size(entry->value, 64 * KIBIBYTE, 64 * GIBIBYTE, &mqtt->buffer_bytes))
		config_report(loader, entry->line, "buffer_size: expected a size from 64K to 64G, such as 64M, got '%s'",
		              config_shown(entry->value, shown_buffer));
	take_period(loader, section, "health_interval", "60s or 5min", "to turn it off", &mqtt->health_interval_ms);
	take_period(loader, section, "status_interval", "5min", "to say it only on connect",
	            &mqtt->status_interval_ms);
	config_report_unused(loader, section);
}
