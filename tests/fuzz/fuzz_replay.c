/* fuzz_replay.c — libFuzzer target: the replay driver's CSV reader
 * (drivers/replay.c) on the input as a recorded file, through the driver's
 * own open(), then a walk of sample() calls forward, back and far away.
 *
 * The input starts with a header the target takes for the sensor: its
 * type, interval, whether a max_age is given, the walk's start and steps,
 * and the sensor column's name up to a 0xff byte; the rest is the file.
 *
 * What must hold: open() gives 0 or -EINVAL/-EFBIG with a message; a
 * sample is 0 or -ENODATA, a light's lux plausible, a lamp 0 or 1, a
 * footfall count whole and not below its in and out. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "fuzz_input.h"
#include "sensor_config.h"
#include "sensor_type.h"

#define WALK_STEPS 16
/* 2026-11-02T06:00:00Z, where the corpus's files are. */
#define WALK_ORIGIN_MS INT64_C(1793599200000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input input = { .data = data, .size = size };
	uint8_t type = fuzz_take_byte(&input) % SENSOR_TYPE_COUNT;
	uint8_t interval = fuzz_take_byte(&input);
	uint8_t switches = fuzz_take_byte(&input);
	int64_t start_offset = (int16_t)(fuzz_take_byte(&input) << 8 | fuzz_take_byte(&input));
	int8_t steps[WALK_STEPS];
	for (size_t i = 0; i < WALK_STEPS; i++)
		steps[i] = (int8_t)fuzz_take_byte(&input);
	char *wanted = fuzz_take_text(&input, 0xff);
	size_t file_length;
	const uint8_t *file = fuzz_rest(&input, &file_length);
	const char *path = fuzz_write_file("readings.csv", file, file_length);
	if (!wanted || !path) {
		free(wanted);
		return 0;
	}

	struct sensor_option options[3] = {
		{ .key = "file", .value = "readings.csv" },
		{ .key = "sensor", .value = wanted },
		{ .key = "max_age", .value = (switches & 0x02) ? "1min" : "0s" },
	};
	struct sensor_config sensor = {
		.name = "fuzzed",
		.type = (enum sensor_type)type,
		.driver = "replay",
		.interval_s = interval ? interval : 1,
		.options = options,
		.option_count = (switches & 0x01) ? 3 : 2,
	};
	struct driver_env env = { .config_directory = fuzz_folder() };
	char err[256] = "";
	void *state = NULL;
	int r = replay_driver.open(&sensor, &env, &state, err, sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(err[0] != '\0', "open gave %d without a message", r);
		FUZZ_CHECK(strchr(err, '\n') == NULL, "a message of two lines: %s", err);
		goto out;
	}

	int64_t now = WALK_ORIGIN_MS + start_offset * 1000 * sensor.interval_s;
	for (size_t i = 0; i < WALK_STEPS; i++) {
		struct sample sample;
		r = replay_driver.sample(state, now, &sample);
		FUZZ_CHECK(r == 0 || r == -ENODATA, "sample gave %d", r);
		if (r == 0) {
			FUZZ_CHECK(isfinite(sample.value) && sample.value >= 0, "value %g", sample.value);
			if (sensor.type == SENSOR_LIGHT)
				FUZZ_CHECK(sensor_type_value_plausible(SENSOR_LIGHT, sample.value), "lux %g", sample.value);
			if (sensor.type == SENSOR_LAMP)
				FUZZ_CHECK(sample.value == 0 || sample.value == 1, "lamp %g", sample.value);
			if (sensor.type == SENSOR_FOOTFALL)
				FUZZ_CHECK(sample.value == floor(sample.value) &&
				           (double)sample.in + (double)sample.out <= sample.value,
				           "count %g, in %u, out %u", sample.value, sample.in, sample.out);
		}
		/* Mostly a slot or a few forward, sometimes back, now and then
		 * to the ends of time. */
		if (steps[i] == INT8_MIN)
			now = (i % 2) ? INT64_MAX : INT64_MIN;
		else if (__builtin_add_overflow(now, (int64_t)steps[i] * 1000 * sensor.interval_s / 4, &now))
			now = steps[i] < 0 ? INT64_MIN : INT64_MAX;
	}
	replay_driver.close(state);
out:
	free(wanted);
	return 0;
}
