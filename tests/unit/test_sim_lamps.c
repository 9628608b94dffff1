/* test_sim_lamps.c — a sim light sensor sees its street lamps: each sim
 * lamp paired with it (driver_env.paired) adds the profile's lamp_lux while
 * it is lit, exactly when the lamp sensor itself reads lit.  A working lamp
 * keeps its place above the dark threshold all night, a faulty one leaves
 * it dark, so over a night a lamp's fault_s (off while its light sensor
 * reads dark) and the light's dark_s count the same seconds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "driver.h"
#include "sim_test_support.h"

#define PROFILES TRYGGD_SOURCE_DIR "/seeds/districts.ini"
#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
#define CET_MS MS_PER_HOUR
#define DARK_LUX 10.0

/* A profiles file with district "Test"; caller unlinks path. */
static void write_profile(char *path, size_t path_size, double fault_per_night, double lamp_lux)
{
	struct sim_test_profile profile = sim_test_profile();
	char extra[64];
	snprintf(extra, sizeof(extra), "lamp_lux = %g\n", lamp_lux);
	profile.footfall_per_hour = 100;
	profile.night_lux = 1.5;
	profile.cloudiness = 0.6;
	profile.lamp_fault_per_night = fault_per_night;
	profile.extra = extra;
	sim_test_write_profile(path, path_size, &profile);
}

/* One sensor's section: options "key=value", at most 3. */
struct section {
	struct sensor_option options[3];
	struct sensor_config config;
};

static void section_make(struct section *section, const char *name, enum sensor_type type, const char *seed,
                         const char *inject)
{
	memset(section, 0, sizeof(*section));
	size_t count = 0;
	section->options[count++] = (struct sensor_option){ .key = "seed", .value = (char *)seed };
	if (inject)
		section->options[count++] = (struct sensor_option){ .key = "inject", .value = (char *)inject };
	section->config = (struct sensor_config){
		.name = (char *)name, .type = type, .driver = "sim", .interval_s = 60, .dark_lux = DARK_LUX,
		.light = type == SENSOR_LAMP ? "ljus" : NULL, .options = section->options, .option_count = count,
	};
}

/* Open a sensor as the daemon does, with these paired configs. */
static void *open_sensor(const struct section *section, const char *profiles, const char *district,
                         const struct sensor_config *const *paired, size_t paired_count)
{
	struct driver_env env = { .gateway_id = "test", .district = district, .profiles = profiles,
		                  .paired = paired, .paired_count = paired_count };
	void *state = NULL;
	char err[256] = "";
	int r = sim_driver.open(&section->config, &env, &state, err, sizeof(err));
	if (r < 0)
		fail_msg("open %s: %s", section->config.name, err);
	return state;
}

static double value_at(void *state, int64_t t)
{
	struct sample sample;
	assert_int_equal(sim_driver.sample(state, t, &sample), 0);
	return sample.value;
}

static void test_lit_lamp_keeps_the_place_out_of_the_dark(void **unused)
{
	(void)unused;
	char path[64];
	write_profile(path, sizeof(path), 0.0, 15.0);
	struct section light, lamp;
	section_make(&light, "ljus", SENSOR_LIGHT, "4", NULL);
	section_make(&lamp, "lampa", SENSOR_LAMP, "4", NULL);
	const struct sensor_config *paired[] = { &lamp.config };
	void *with_lamp = open_sensor(&light, path, "Test", paired, 1);
	void *without = open_sensor(&light, path, "Test", NULL, 0);
	void *lamp_state = open_sensor(&lamp, path, "Test", NULL, 0);
	int dark_with = 0, dark_without = 0, minutes = 0;
	/* Every minute of November 2026: night after night with the lamp lit. */
	for (int64_t t = utc_ms(2026, 11, 1, 0, 0); t < utc_ms(2026, 12, 1, 0, 0); t += MS_PER_MINUTE) {
		double lux = value_at(with_lamp, t), bare = value_at(without, t);
		bool lit = value_at(lamp_state, t) == 1.0;
		minutes++;
		dark_with += lux < DARK_LUX;
		dark_without += bare < DARK_LUX;
		/* The lamp's light, exactly while it is lit (the noise is ±2 %). */
		double added = lux - bare;
		if (lit)
			assert_true(added > 0.95 * 15.0 && added < 1.05 * 15.0);
		else
			assert_true(fabs(added) < 1e-9);
	}
	/* Without the lamp the sensor reads dark for the long November nights;
	 * with it, never. */
	assert_true(dark_without > minutes / 2);
	assert_int_equal(dark_with, 0);
	sim_driver.close(with_lamp);
	sim_driver.close(without);
	sim_driver.close(lamp_state);
	unlink(path);
}

/* Over each November night, with a lamp that fails every night: the
 * seconds it is off while its light sensor reads dark (fault_s) and the
 * seconds the light sensor reads dark (dark_s) agree, sample for sample. */
static void test_faulty_lamp_leaves_it_dark_and_fault_s_equals_dark_s(void **unused)
{
	(void)unused;
	char path[64];
	write_profile(path, sizeof(path), 1.0, 20.0);
	struct section light, lamp;
	section_make(&light, "ljus", SENSOR_LIGHT, "9", NULL);
	section_make(&lamp, "lampa", SENSOR_LAMP, "9", NULL);
	const struct sensor_config *paired[] = { &lamp.config };
	void *light_state = open_sensor(&light, path, "Test", paired, 1);
	void *lamp_state = open_sensor(&lamp, path, "Test", NULL, 0);
	long total_dark_s = 0, total_fault_s = 0, lit_dark = 0;
	int nights_with_fault = 0;
	for (int day = 1; day <= 30; day++) {
		long dark_s = 0, fault_s = 0;
		int64_t evening = utc_ms(2026, 11, day, 14, 0) - CET_MS;
		for (int64_t t = evening; t < evening + 20 * MS_PER_HOUR; t += MS_PER_MINUTE) {
			bool dark = value_at(light_state, t) < DARK_LUX;
			bool lit = value_at(lamp_state, t) == 1.0;
			dark_s += dark ? 60 : 0;
			fault_s += dark && !lit ? 60 : 0;
			lit_dark += dark && lit;
		}
		assert_int_equal(fault_s, dark_s);
		nights_with_fault += fault_s > 0;
		total_dark_s += dark_s;
		total_fault_s += fault_s;
	}
	/* Never dark beside a lit lamp; a fault every night shows as darkness. */
	assert_int_equal(lit_dark, 0);
	assert_int_equal(nights_with_fault, 30);
	assert_true(total_dark_s > 30 * 3600);
	assert_int_equal(total_fault_s, total_dark_s);
	sim_driver.close(light_state);
	sim_driver.close(lamp_state);
	unlink(path);
}

/* What the light sensor makes of its lamp is what the lamp sensor reads,
 * with the lamp's own seed and profile and an injected lamp_fault; a lamp
 * of another driver adds nothing, and a lamp that cannot be simulated
 * (no such profile) does not stop the light sensor. */
static void test_light_follows_each_lamp_as_the_lamp_sees_itself(void **unused)
{
	(void)unused;
	struct section light, north, south, real, broken;
	section_make(&light, "ljus", SENSOR_LIGHT, "21", NULL);
	/* Another seed than the light's, and an hour out on the first evening. */
	section_make(&north, "lampa-norr", SENSOR_LAMP, "22", "lamp_fault@2026-11-03T17:00:00Z/1h");
	section_make(&south, "lampa-syd", SENSOR_LAMP, "23", NULL);
	section_make(&real, "lampa-gpio", SENSOR_LAMP, "24", NULL);
	real.config.driver = "gpio";
	section_make(&broken, "lampa-x", SENSOR_LAMP, "25", NULL);
	broken.options[1] = (struct sensor_option){ .key = "profile", .value = "Nowhere" };
	broken.config.option_count = 2;
	const struct sensor_config *paired[] = { &north.config, &south.config, &real.config, &broken.config };
	void *light_state = open_sensor(&light, PROFILES, "Nyfors", paired, 4);
	void *bare = open_sensor(&light, PROFILES, "Nyfors", NULL, 0);
	void *north_state = open_sensor(&north, PROFILES, "Nyfors", NULL, 0);
	void *south_state = open_sensor(&south, PROFILES, "Nyfors", NULL, 0);
	const double lamp_lux = 26.0;   /* Nyfors in seeds/districts.ini */
	int both = 0, one = 0;
	for (int64_t t = utc_ms(2026, 11, 2, 12, 0); t < utc_ms(2026, 11, 9, 12, 0); t += 5 * MS_PER_MINUTE) {
		int lit = (value_at(north_state, t) == 1.0) + (value_at(south_state, t) == 1.0);
		double added = value_at(light_state, t) - value_at(bare, t);
		double expected = lit * lamp_lux;
		if (fabs(added - expected) > 0.021 * (expected + 40.0))
			fail_msg("at %lld: %d lamps lit, the light gained %g lx", (long long)t, lit, added);
		both += lit == 2;
		one += lit == 1;
	}
	assert_true(both > 100);
	assert_true(one > 0);   /* the injected hour at least */
	/* In the injected hour the north lamp is out and the light sees only the south one. */
	int64_t during = utc_ms(2026, 11, 3, 17, 30);
	assert_true(value_at(north_state, during) == 0.0);
	assert_true(value_at(south_state, during) == 1.0);
	sim_driver.close(light_state);
	sim_driver.close(bare);
	sim_driver.close(north_state);
	sim_driver.close(south_state);
}

static void test_determinism_with_lamps(void **unused)
{
	(void)unused;
	struct section light, lamp;
	section_make(&light, "ljus", SENSOR_LIGHT, "5505", NULL);
	section_make(&lamp, "lampa", SENSOR_LAMP, "5505", NULL);
	const struct sensor_config *paired[] = { &lamp.config };
	void *first = open_sensor(&light, PROFILES, "Årby", paired, 1);
	void *second = open_sensor(&light, PROFILES, "Årby", paired, 1);
	enum { COUNT = 500 };
	static double forward[COUNT];
	int64_t start = utc_ms(2026, 11, 2, 14, 0);
	for (int i = 0; i < COUNT; i++)
		forward[i] = value_at(first, start + i * 5 * MS_PER_MINUTE);
	for (int i = COUNT - 1; i >= 0; i--)
		assert_true(value_at(second, start + i * 5 * MS_PER_MINUTE) == forward[i]);
	sim_driver.close(first);
	sim_driver.close(second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lit_lamp_keeps_the_place_out_of_the_dark),
		cmocka_unit_test(test_faulty_lamp_leaves_it_dark_and_fault_s_equals_dark_s),
		cmocka_unit_test(test_light_follows_each_lamp_as_the_lamp_sees_itself),
		cmocka_unit_test(test_determinism_with_lamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
