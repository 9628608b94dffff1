/* fuzz_config.c — libFuzzer target: config_load() (gateway/config*.c), the
 * parser and every validator, on the input as a config file, through the
 * same path tryggd and tryggctl take (the file is written to a folder of
 * the target's own, so relative paths in it are taken from there); and for
 * a config that loads, what is done with one: the --check summary, and the
 * copies and comparisons a reload makes.
 *
 * What must hold: config_load() gives 0 or -EINVAL (nothing else for a file
 * that can be read); -EINVAL with at least one problem written, 0 with
 * none; every problem is one line "PATH:LINE: message" without control
 * characters; a copy of a section equals its original. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_input.h"
#include "sensor_config.h"

static void check_problems(const char *path, const char *text, size_t length)
{
	size_t path_length = strlen(path);
	for (const char *line = text; line < text + length;) {
		const char *end = memchr(line, '\n', (size_t)(text + length - line));
		FUZZ_CHECK(end != NULL, "a problem without its newline: %s", line);
		FUZZ_CHECK((size_t)(end - line) > path_length + 1 && memcmp(line, path, path_length) == 0 &&
		           line[path_length] == ':', "a problem not PATH:...: %.*s", (int)(end - line), line);
		for (const char *p = line; p < end; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "a control character in: %.*s",
			           (int)(end - line), line);
		line = end + 1;
	}
}

static void check_copies(const struct config *config)
{
	struct mqtt_config mqtt;
	if (config->has_mqtt && mqtt_config_copy(&config->mqtt, &mqtt) == 0) {
		FUZZ_CHECK(mqtt_config_equal(&config->mqtt, &mqtt), "%s", "[mqtt] differs from its copy");
		mqtt_config_clear(&mqtt);
	}
	struct influx_config influx;
	if (config->has_influx && influx_config_copy(&config->influx, &influx) == 0) {
		FUZZ_CHECK(influx_config_equal(&config->influx, &influx), "%s", "[influx] differs from its copy");
		influx_config_clear(&influx);
	}
	FUZZ_CHECK(gateway_config_equal(&config->gateway, &config->gateway), "%s", "[gateway] differs from itself");
	for (size_t i = 0; i < config->sensor_count; i++) {
		struct sensor_config sensor;
		if (sensor_config_copy(&config->sensors[i], &sensor) == 0) {
			FUZZ_CHECK(sensor_config_equal(&config->sensors[i], &sensor), "sensor %zu differs from its copy", i);
			sensor_config_clear(&sensor);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *written = fuzz_write_file("tryggd.conf", data, size);
	if (!written)
		return 0;
	char *path = strdup(written);
	char *problems = NULL;
	size_t problems_length = 0;
	FILE *errors = open_memstream(&problems, &problems_length);
	if (!path || !errors)
		abort();

	struct config config;
	int r = config_load(path, &config, errors);
	fclose(errors);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "config_load gave %d: %s", r, problems);
	FUZZ_CHECK((r == 0) == (problems_length == 0), "result %d with problems '%s'", r, problems);
	check_problems(path, problems, problems_length);
	if (r == 0) {
		FILE *summary = fopen("/dev/null", "we");
		if (summary) {
			config_print_summary(&config, summary);
			fclose(summary);
		}
		check_copies(&config);
		config_free(&config);
	}
	free(problems);
	free(path);
	return 0;
}
