/* test_sim.c — unit tests of the simulated driver "sim", its district
 * profiles and the solar elevation it follows.  Reference values are
 * computed here independently of drivers/sun.c (textbook solstice noon
 * elevations, Spencer's 1971 Fourier series), and times are written in UTC
 * with the Swedish offset spelled out, so a bug in the driver's own calendar
 * code cannot hide behind the same bug in the test. */
#include <errno.h>
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
#include "sim_profile.h"
#include "sim_test_support.h"
#include "sun.h"

#define PROFILES TRYGGD_SOURCE_DIR "/seeds/districts.ini"
#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
#define CET_MS MS_PER_HOUR           /* Swedish winter time, UTC+1 */
#define CEST_MS (2 * MS_PER_HOUR)    /* Swedish summer time, UTC+2 */
#define PI 3.14159265358979323846

static const char *const districts[] = { "Fröslunda", "Lagerberg", "Nyfors", "Skiftinge", "Årby" };
#define DISTRICT_COUNT (sizeof(districts) / sizeof(districts[0]))

/* ---- helpers ------------------------------------------------------------ */

/* One simulated sensor, opened the way the daemon opens it. */
struct sensor {
	struct sensor_option options[2];
	struct sensor_config config;
	void *state;
};

static int sensor_open(struct sensor *sensor, const char *name, enum sensor_type type,
                       const char *seed, const char *district, const char *profiles,
                       int interval_s)
{
	memset(sensor, 0, sizeof(*sensor));
	size_t count = 0;
	if (seed)
		sensor->options[count++] = (struct sensor_option){ .key = "seed", .value = (char *)seed };
	sensor->config = (struct sensor_config){
		.name = (char *)name, .type = type, .driver = "sim", .interval_s = interval_s,
		.dark_lux = 10, .options = sensor->options, .option_count = count,
	};
	struct driver_env env = { .gateway_id = "test", .district = district, .profiles = profiles };
	char err[256] = "";
	int result = sim_driver.open(&sensor->config, &env, &sensor->state, err, sizeof(err));
	if (result < 0)
		print_message("open: %s\n", err);
	return result;
}

static void sensor_open_ok(struct sensor *sensor, const char *name, enum sensor_type type,
                           const char *seed, const char *district, int interval_s)
{
	assert_int_equal(sensor_open(sensor, name, type, seed, district, PROFILES, interval_s), 0);
}

static struct sample sensor_sample(struct sensor *sensor, int64_t now_ms)
{
	struct sample sample;
	assert_int_equal(sim_driver.sample(sensor->state, now_ms, &sample), 0);
	return sample;
}

static void sensor_close(struct sensor *sensor)
{
	sim_driver.close(sensor->state);
	sensor->state = NULL;
}

/* A profiles file with one district "Test" whose lamp fault probability,
 * hourly weights, day-to-day spread and dark factor the test chooses;
 * caller unlinks path. */
static void write_test_profile(char *path, size_t path_size, double fault_per_night,
                               const char *weekday_hours, double day_variation, double dark_factor)
{
	struct sim_test_profile profile = sim_test_profile();
	profile.weekday_hours = profile.weekend_hours = weekday_hours;
	profile.dark_factor = dark_factor;
	profile.day_variation = day_variation;
	profile.lamp_fault_per_night = fault_per_night;
	sim_test_write_profile(path, path_size, &profile);
}

#define ONLY_SEVEN "0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"

/* ---- the sun ---------------------------------------------------------------- */

/* The highest the sun gets on a UTC day, and when. */
static double day_maximum(int year, int month, int day, int64_t *when)
{
	double best = -90.0;
	for (int64_t t = utc_ms(year, month, day, 0, 0); t < utc_ms(year, month, day, 23, 59); t += MS_PER_MINUTE) {
		double elevation = sun_elevation_degrees(SUN_ESKILSTUNA_LATITUDE, SUN_ESKILSTUNA_LONGITUDE, t);
		if (elevation > best) {
			best = elevation;
			*when = t;
		}
	}
	return best;
}

static void test_sun_solstice_noon(void **unused)
{
	(void)unused;
	int64_t when;
	/* At solar noon elevation = 90° - latitude + declination; the
	 * solstice declination is ±23.44° (obliquity of the ecliptic). */
	double june = day_maximum(2024, 6, 20, &when);
	assert_true(fabs(june - (90.0 - 59.37 + 23.44)) < 1.0);
	/* Solar noon at 16.51° E is 12:00 - 16.51 × 4 min ≈ 10:54 UTC, give or
	 * take the equation of time (about -2 min in June). */
	assert_true(llabs(when - utc_ms(2024, 6, 20, 10, 54)) <= 10 * MS_PER_MINUTE);

	double december = day_maximum(2024, 12, 21, &when);
	assert_true(fabs(december - (90.0 - 59.37 - 23.44)) < 1.0);
	assert_true(llabs(when - utc_ms(2024, 12, 21, 10, 54)) <= 10 * MS_PER_MINUTE);

	/* Equinox: declination ≈ 0, so noon elevation ≈ 90° - latitude. */
	double equinox = day_maximum(2024, 3, 20, &when);
	assert_true(fabs(equinox - (90.0 - 59.37)) < 1.0);

	/* Midsummer midnight: the sun stays only 90 - 59.37 - 23.44 ≈ 7.2° below. */
	double midnight = sun_elevation_degrees(SUN_ESKILSTUNA_LATITUDE, SUN_ESKILSTUNA_LONGITUDE,
	                                        utc_ms(2024, 6, 20, 22, 54));
	assert_true(fabs(midnight - -(90.0 - 59.37 - 23.44)) < 1.0);

	assert_true(fabs(sun_declination_degrees(utc_ms(2024, 6, 20, 21, 0)) - 23.44) < 0.05);
}

/* Spencer (1971): a different formulation of declination and equation of time. */
static double spencer_elevation(double latitude, double longitude, int64_t unix_ms)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm fields;
	gmtime_r(&seconds, &fields);
	double hours = fields.tm_hour + fields.tm_min / 60.0 + fields.tm_sec / 3600.0;
	double gamma = 2.0 * PI / 365.0 * (fields.tm_yday + (hours - 12.0) / 24.0);
	double declination = 0.006918 - 0.399912 * cos(gamma) + 0.070257 * sin(gamma) -
	                     0.006758 * cos(2 * gamma) + 0.000907 * sin(2 * gamma) -
	                     0.002697 * cos(3 * gamma) + 0.00148 * sin(3 * gamma);
	double equation_of_time = 229.18 * (0.000075 + 0.001868 * cos(gamma) - 0.032077 * sin(gamma) -
	                                    0.014615 * cos(2 * gamma) - 0.040849 * sin(2 * gamma));
	double hour_angle = ((hours * 60.0 + equation_of_time + 4.0 * longitude) / 4.0 - 180.0) * PI / 180.0;
	double phi = latitude * PI / 180.0;
	return asin(sin(phi) * sin(declination) + cos(phi) * cos(declination) * cos(hour_angle)) * 180.0 / PI;
}

static void test_sun_matches_independent_formula(void **unused)
{
	(void)unused;
	double worst = 0.0;
	/* Every 97 hours for two years: all seasons and all times of day. */
	for (int64_t t = utc_ms(2025, 1, 1, 0, 0); t < utc_ms(2027, 1, 1, 0, 0); t += 97 * MS_PER_HOUR) {
		double ours = sun_elevation_degrees(59.37, 16.51, t);
		double theirs = spencer_elevation(59.37, 16.51, t);
		worst = fmax(worst, fabs(ours - theirs));
	}
	assert_true(worst < 1.0);
	/* Elsewhere on Earth too: the equator at an equinox noon is near 90°. */
	assert_true(sun_elevation_degrees(0.0, 0.0, utc_ms(2024, 3, 20, 12, 7)) > 88.0);
}

/* ---- determinism ------------------------------------------------------------- */

static void test_determinism(void **unused)
{
	(void)unused;
	enum { COUNT = 200 };
	const enum sensor_type types[] = { SENSOR_LIGHT, SENSOR_LAMP, SENSOR_FOOTFALL };
	int64_t start = utc_ms(2024, 11, 4, 5, 0);   /* Monday morning rush, dark then light */

	for (size_t k = 0; k < 3; k++) {
		struct sensor first, second, restarted, other_seed;
		sensor_open_ok(&first, "s1", types[k], "7", "Nyfors", 60);
		sensor_open_ok(&second, "s1", types[k], "7", "Nyfors", 60);
		sensor_open_ok(&other_seed, "s1", types[k], "8", "Nyfors", 60);

		struct sample forward[COUNT];
		for (int i = 0; i < COUNT; i++)
			forward[i] = sensor_sample(&first, start + i * 60 * 1000);
		/* Another instance, sampled in reverse order, gives the same values. */
		for (int i = COUNT - 1; i >= 0; i--) {
			struct sample again = sensor_sample(&second, start + i * 60 * 1000);
			assert_true(again.value == forward[i].value);
			assert_int_equal(again.in, forward[i].in);
			assert_int_equal(again.out, forward[i].out);
		}
		/* So does a restart. */
		sensor_close(&first);
		sensor_open_ok(&restarted, "s1", types[k], "7", "Nyfors", 60);
		for (int i = 0; i < COUNT; i += 7)
			assert_true(sensor_sample(&restarted, start + i * 60 * 1000).value == forward[i].value);

		if (types[k] != SENSOR_LAMP) {
			/* Another seed is another sequence (lamps: mostly the same on/off). */
			int differing = 0;
			for (int i = 0; i < COUNT; i++)
				differing += sensor_sample(&other_seed, start + i * 60 * 1000).value != forward[i].value;
			assert_true(differing > COUNT / 4);
		}
		sensor_close(&second);
		sensor_close(&restarted);
		sensor_close(&other_seed);
	}

	/* Another sensor name is another sequence, under the same seed. */
	struct sensor gate_a, gate_b;
	sensor_open_ok(&gate_a, "gate-a", SENSOR_FOOTFALL, "7", "Nyfors", 60);
	sensor_open_ok(&gate_b, "gate-b", SENSOR_FOOTFALL, "7", "Nyfors", 60);
	int differing = 0;
	for (int i = 0; i < COUNT; i++)
		differing += sensor_sample(&gate_a, start + i * 60 * 1000).value !=
		             sensor_sample(&gate_b, start + i * 60 * 1000).value;
	assert_true(differing > COUNT / 4);
	sensor_close(&gate_a);
	sensor_close(&gate_b);

	/* The seed defaults to 1. */
	struct sensor implicit, explicit_one;
	sensor_open_ok(&implicit, "s1", SENSOR_FOOTFALL, NULL, "Årby", 60);
	sensor_open_ok(&explicit_one, "s1", SENSOR_FOOTFALL, "1", "Årby", 60);
	for (int i = 0; i < COUNT; i++)
		assert_true(sensor_sample(&implicit, start + i * 60 * 1000).value ==
		            sensor_sample(&explicit_one, start + i * 60 * 1000).value);
	sensor_close(&implicit);
	sensor_close(&explicit_one);
}

/* ---- light ---------------------------------------------------------------------- */

static void test_light_day_night_and_seasons(void **unused)
{
	(void)unused;
	for (size_t d = 0; d < DISTRICT_COUNT; d++) {
		for (unsigned seed = 1; seed <= 5; seed++) {
			char seed_text[16];
			snprintf(seed_text, sizeof(seed_text), "%u", seed);
			struct sensor light;
			sensor_open_ok(&light, "lux", SENSOR_LIGHT, seed_text, districts[d], 5);

			/* Local noon is 13:00 CEST in June, 12:00 CET in December. */
			double june_noon = sensor_sample(&light, utc_ms(2025, 6, 21, 13, 0) - CEST_MS).value;
			double june_midnight = sensor_sample(&light, utc_ms(2025, 6, 21, 1, 0) - CEST_MS).value;
			double december_noon = sensor_sample(&light, utc_ms(2025, 12, 21, 12, 0) - CET_MS).value;
			double december_midnight = sensor_sample(&light, utc_ms(2025, 12, 21, 0, 0) - CET_MS).value;
			double november_night = sensor_sample(&light, utc_ms(2025, 11, 12, 2, 30) - CET_MS).value;

			assert_true(june_noon > 10000.0);
			assert_true(june_noon > 1000.0 * june_midnight);
			assert_true(december_noon < june_noon);
			assert_true(december_noon > 500.0);
			/* A dark night reads only the district's other lighting. */
			assert_true(december_midnight <= 5.0);
			assert_true(november_night <= 5.0);
			assert_true(december_midnight > 0.0);
			sensor_close(&light);
		}
	}
}

static void test_light_clouds_vary_by_hour(void **unused)
{
	(void)unused;
	/* The same sun elevation on consecutive days, different skies. */
	struct sensor light;
	sensor_open_ok(&light, "lux", SENSOR_LIGHT, "3", "Lagerberg", 5);
	double lowest = 1e9, highest = 0.0;
	for (int day = 1; day <= 20; day++) {
		double value = sensor_sample(&light, utc_ms(2025, 6, day, 11, 0)).value;
		lowest = fmin(lowest, value);
		highest = fmax(highest, value);
	}
	assert_true(highest > 1.3 * lowest);
	/* Within an hour the sky changes smoothly: one minute apart, a few per cent at most. */
	double before = sensor_sample(&light, utc_ms(2025, 6, 3, 10, 59)).value;
	double after = sensor_sample(&light, utc_ms(2025, 6, 3, 11, 0)).value;
	assert_true(fabs(after - before) < 0.1 * before);
	sensor_close(&light);
}

/* ---- lamps ------------------------------------------------------------------------- */

static void test_lamp_never_faulty(void **unused)
{
	(void)unused;
	char path[64];
	write_test_profile(path, sizeof(path), 0.0, SIM_TEST_FLAT_HOURS, 0.1, 1.0);
	struct sensor lamp;
	assert_int_equal(sensor_open(&lamp, "lamp1", SENSOR_LAMP, "5", "Test", path, 5), 0);
	for (int day = 1; day <= 30; day++) {
		assert_true(sensor_sample(&lamp, utc_ms(2025, 11, day, 23, 0) - CET_MS).value == 1.0);
		assert_true(sensor_sample(&lamp, utc_ms(2025, 11, day, 12, 0) - CET_MS).value == 0.0);
		/* Switch-on follows dusk: on at 17:30, off at 15:00 in November. */
		assert_true(sensor_sample(&lamp, utc_ms(2025, 11, day, 17, 30) - CET_MS).value == 1.0);
		assert_true(sensor_sample(&lamp, utc_ms(2025, 11, day, 15, 0) - CET_MS).value == 0.0);
	}
	/* Midsummer: off at 22:00 local, still light; the sun is never far down. */
	assert_true(sensor_sample(&lamp, utc_ms(2025, 6, 21, 22, 0) - CEST_MS).value == 0.0);
	sensor_close(&lamp);
	unlink(path);
}

/* A lamp without a fault is lit whenever a light sensor beside it (same
 * seed, so same clouds) reads dark: fault_s must only ever mean a fault.
 * Every minute of a cloudy November and of a June, for several seeds. */
static void test_working_lamp_is_lit_whenever_it_is_dark(void **unused)
{
	(void)unused;
	char path[64];
	write_test_profile(path, sizeof(path), 0.0, SIM_TEST_FLAT_HOURS, 0.1, 1.0);
	const char *seeds[] = { "1", "2", "77", "5505" };
	const int months[] = { 11, 6 };
	long dark_minutes = 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct sensor light, lamp;
		assert_int_equal(sensor_open(&light, "ljus", SENSOR_LIGHT, seeds[i], "Test", path, 60), 0);
		assert_int_equal(sensor_open(&lamp, "lampa", SENSOR_LAMP, seeds[i], "Test", path, 60), 0);
		for (size_t m = 0; m < sizeof(months) / sizeof(months[0]); m++) {
			int64_t start = utc_ms(2026, months[m], 1, 0, 0);
			for (int64_t t = start; t < start + 30 * MS_PER_DAY; t += 60000) {
				if (sensor_sample(&light, t).value >= 10)
					continue;
				dark_minutes++;
				if (sensor_sample(&lamp, t).value != 1.0)
					fail_msg("seed %s: dark (light < 10 lx) but the lamp is off at %lld", seeds[i],
					         (long long)t);
			}
		}
		sensor_close(&light);
		sensor_close(&lamp);
	}
	/* The check saw plenty of darkness: about 16 h a day in November. */
	assert_true(dark_minutes > 4 * 30 * 12 * 60);
	unlink(path);
}

static void test_lamp_faults(void **unused)
{
	(void)unused;
	char faulty_path[64], sound_path[64];
	write_test_profile(faulty_path, sizeof(faulty_path), 1.0, SIM_TEST_FLAT_HOURS, 0.1, 1.0);
	write_test_profile(sound_path, sizeof(sound_path), 0.0, SIM_TEST_FLAT_HOURS, 0.1, 1.0);
	/* The same lamp (name, seed) twice: once failing every night, once never,
	 * so the sound twin says when the lamp should be lit. */
	struct sensor lamp, twin;
	assert_int_equal(sensor_open(&lamp, "lamp1", SENSOR_LAMP, "5", "Test", faulty_path, 5), 0);
	assert_int_equal(sensor_open(&twin, "lamp1", SENSOR_LAMP, "5", "Test", sound_path, 5), 0);
	int whole_nights = 0;
	for (int day = 1; day <= 30; day++) {
		int dark = 0, out_in_dark = 0;
		int64_t evening = utc_ms(2025, 11, day, 16, 0) - CET_MS;
		for (int64_t t = evening; t < evening + 16 * MS_PER_HOUR; t += 5 * MS_PER_MINUTE) {
			bool should_be_lit = sensor_sample(&twin, t).value == 1.0;
			double value = sensor_sample(&lamp, t).value;
			/* A faulty lamp is never lit when the sound one is not. */
			assert_true(should_be_lit || value == 0.0);
			dark += should_be_lit;
			out_in_dark += should_be_lit && value == 0.0;
		}
		assert_true(dark > 100);          /* November nights: well over 8 h */
		assert_true(out_in_dark > 0);     /* every night faulty, and it shows */
		whole_nights += out_in_dark == dark;
	}
	/* Some faults last all night, others only part of it. */
	assert_true(whole_nights > 0);
	assert_true(whole_nights < 30);
	sensor_close(&lamp);
	sensor_close(&twin);
	unlink(faulty_path);
	unlink(sound_path);

	/* The real profiles: lamps are on at 23:00 on most nights, never at noon. */
	for (size_t d = 0; d < DISTRICT_COUNT; d++) {
		struct sim_profile profile;
		char err[256];
		assert_int_equal(sim_profile_load(PROFILES, districts[d], &profile, err, sizeof(err)), 0);
		int nights = 0, lit = 0;
		for (int lamp_number = 0; lamp_number < 10; lamp_number++) {
			char name[16];
			snprintf(name, sizeof(name), "lamp%d", lamp_number);
			sensor_open_ok(&lamp, name, SENSOR_LAMP, "1", districts[d], 5);
			for (int day = 1; day <= 30; day++) {
				nights++;
				lit += sensor_sample(&lamp, utc_ms(2025, 11, day, 23, 0) - CET_MS).value == 1.0;
				assert_true(sensor_sample(&lamp, utc_ms(2025, 11, day, 12, 0) - CET_MS).value == 0.0);
			}
			sensor_close(&lamp);
		}
		/* At most the fault probability, with room for chance, is dark. */
		double unlit_share = 1.0 - (double)lit / nights;
		assert_true(unlit_share <= profile.lamp_fault_per_night + 0.05);
	}
}

/* ---- footfall ------------------------------------------------------------------------- */

static unsigned passes_in_local_hour(struct sensor *sensor, int year, int month, int day, int hour,
                                     int64_t offset_ms)
{
	unsigned total = 0;
	int64_t start = utc_ms(year, month, day, hour, 0) - offset_ms;
	int64_t step = (int64_t)sensor->config.interval_s * 1000;
	for (int64_t t = start; t < start + MS_PER_HOUR; t += step) {
		struct sample sample = sensor_sample(sensor, t);
		assert_true(sample.has_direction);
		assert_true(sample.value == (double)(sample.in + sample.out));
		total += (unsigned)sample.value;
	}
	return total;
}

static void test_footfall_rush_hour(void **unused)
{
	(void)unused;
	for (size_t d = 0; d < DISTRICT_COUNT; d++) {
		struct sensor counter;
		sensor_open_ok(&counter, "gate", SENSOR_FOOTFALL, "11", districts[d], 60);
		unsigned rush = 0, night = 0;
		/* 3–7 and 10–14 November 2025: Monday to Friday. */
		for (int day = 3; day <= 14; day++) {
			if (day == 8 || day == 9)
				continue;
			rush += passes_in_local_hour(&counter, 2025, 11, day, 7, CET_MS);
			night += passes_in_local_hour(&counter, 2025, 11, day, 3, CET_MS);
		}
		assert_true(rush > 100);
		assert_true(rush > 5 * night);
		/* No commute at weekends: 8–9 and 15–16 November are Saturdays and Sundays. */
		const int weekend_days[] = { 8, 9, 15, 16 };
		unsigned weekend_morning = 0;
		for (size_t i = 0; i < 4; i++)
			weekend_morning += passes_in_local_hour(&counter, 2025, 11, weekend_days[i], 7, CET_MS);
		assert_true(weekend_morning / 4.0 < 0.5 * rush / 10.0);
		sensor_close(&counter);
	}
}

static void test_footfall_counts_the_span_after_the_sample(void **unused)
{
	(void)unused;
	char path[64];
	/* Only 07–08 local has passers-by (3600 an hour); no day-to-day spread. */
	write_test_profile(path, sizeof(path), 0.0, ONLY_SEVEN, 0.0, 1.0);
	struct sensor counter;
	assert_int_equal(sensor_open(&counter, "gate", SENSOR_FOOTFALL, "2", "Test", path, 60), 0);
	unsigned before = 0, first_minute = 0, last_minute = 0, after = 0;
	for (int day = 3; day <= 7; day++) {
		before += (unsigned)sensor_sample(&counter, utc_ms(2025, 11, day, 6, 59) - CET_MS).value;
		first_minute += (unsigned)sensor_sample(&counter, utc_ms(2025, 11, day, 7, 0) - CET_MS).value;
		last_minute += (unsigned)sensor_sample(&counter, utc_ms(2025, 11, day, 7, 59) - CET_MS).value;
		after += (unsigned)sensor_sample(&counter, utc_ms(2025, 11, day, 8, 0) - CET_MS).value;
	}
	/* The sample at 06:59 covers 06:59–07:00: nobody.  At 07:59: the last minute of the hour. */
	assert_int_equal(before, 0);
	assert_int_equal(after, 0);
	assert_true(first_minute > 5 * 30);   /* mean 60 × site level 0.8–1.2, five days */
	assert_true(last_minute > 5 * 30);
	sensor_close(&counter);

	/* The summer-time hour counts too: 07–08 CEST is 05–06 UTC. */
	assert_int_equal(sensor_open(&counter, "gate", SENSOR_FOOTFALL, "2", "Test", path, 3600), 0);
	assert_true(sensor_sample(&counter, utc_ms(2025, 6, 2, 5, 0)).value > 1000.0);
	assert_true(sensor_sample(&counter, utc_ms(2025, 6, 2, 6, 0)).value == 0.0);
	/* An hour-long span starting at 06:30 local has half the hour in it. */
	double whole = sensor_sample(&counter, utc_ms(2025, 6, 3, 5, 0)).value;
	double half = sensor_sample(&counter, utc_ms(2025, 6, 3, 4, 30)).value;
	assert_true(half > 0.4 * whole && half < 0.6 * whole);
	sensor_close(&counter);
	unlink(path);
}

/* The week's mean from the profile alone, ignoring darkness and the spread. */
static double nominal_week(const struct sim_profile *profile)
{
	double weekday = 0.0, weekend = 0.0;
	for (int hour = 0; hour < SIM_PROFILE_HOURS; hour++) {
		weekday += profile->weekday_hours[hour];
		weekend += profile->weekend_hours[hour];
	}
	return profile->footfall_per_hour *
	       (5.0 * weekday + (profile->saturday_factor + profile->sunday_factor) * weekend);
}

struct week_figures {
	double total;
	double weekday_evening;   /* 18–22 local */
	double weekday_morning;   /* 07–09 local */
};

static struct week_figures simulate_week(const char *district, int interval_s)
{
	struct week_figures figures = { 0 };
	struct sensor counter;
	sensor_open_ok(&counter, "gate", SENSOR_FOOTFALL, "4", district, interval_s);
	/* Monday 2025-11-03 00:00 CET to Monday 2025-11-10 00:00 CET. */
	int64_t start = utc_ms(2025, 11, 3, 0, 0) - CET_MS;
	for (int64_t t = start; t < start + 7 * MS_PER_DAY; t += (int64_t)interval_s * 1000) {
		double value = sensor_sample(&counter, t).value;
		int64_t since = t - start;
		int day = (int)(since / MS_PER_DAY);
		int hour = (int)(since % MS_PER_DAY / MS_PER_HOUR);
		figures.total += value;
		if (day < 5 && hour >= 18 && hour < 22)
			figures.weekday_evening += value;
		if (day < 5 && hour >= 7 && hour < 9)
			figures.weekday_morning += value;
	}
	sensor_close(&counter);
	return figures;
}

static void test_footfall_week_plausible_and_districts_differ(void **unused)
{
	(void)unused;
	struct week_figures weeks[DISTRICT_COUNT];
	for (size_t d = 0; d < DISTRICT_COUNT; d++) {
		struct sim_profile profile;
		char err[256];
		assert_int_equal(sim_profile_load(PROFILES, districts[d], &profile, err, sizeof(err)), 0);
		weeks[d] = simulate_week(districts[d], 60);
		double nominal = nominal_week(&profile);
		/* Site level 0.8–1.2, dark evenings 0.75–1, days ± spread. */
		assert_true(weeks[d].total > 0.4 * nominal);
		assert_true(weeks[d].total < 1.4 * nominal);
		/* One counter on a path: thousands a week, not tens or millions. */
		assert_true(weeks[d].total > 1000.0);
		assert_true(weeks[d].total < 100000.0);

		/* Sampling every 5 s or every 5 min changes the draws, not the level. */
		struct week_figures coarse = simulate_week(districts[d], 300);
		assert_true(fabs(coarse.total - weeks[d].total) < 0.05 * weeks[d].total);
	}
	/* Same seed and sensor name everywhere: differences are the profiles'. */
	const size_t froslunda = 0, nyfors = 2, skiftinge = 3, arby = 4;
	(void)froslunda;
	/* Nyfors, near the centre, is busier overall and relatively more so in the evening. */
	assert_true(weeks[nyfors].total > weeks[skiftinge].total);
	assert_true(weeks[nyfors].total > weeks[arby].total);
	assert_true(weeks[nyfors].weekday_evening / weeks[nyfors].total >
	            1.2 * weeks[skiftinge].weekday_evening / weeks[skiftinge].total);
	/* The residential districts have the stronger morning commute. */
	assert_true(weeks[arby].weekday_morning / weeks[arby].total >
	            weeks[nyfors].weekday_morning / weeks[nyfors].total);
	/* No two districts give the same week. */
	for (size_t a = 0; a < DISTRICT_COUNT; a++)
		for (size_t b = a + 1; b < DISTRICT_COUNT; b++)
			assert_true(weeks[a].total != weeks[b].total);
}

static void test_footfall_direction_share(void **unused)
{
	(void)unused;
	char path[64];
	write_test_profile(path, sizeof(path), 0.0, SIM_TEST_FLAT_HOURS, 0.0, 1.0);
	struct sensor counter;
	assert_int_equal(sensor_open(&counter, "gate", SENSOR_FOOTFALL, "9", "Test", path, 60), 0);
	unsigned in = 0, out = 0;
	for (int hour = 0; hour < 24; hour++) {
		struct sample sample = sensor_sample(&counter, utc_ms(2025, 11, 5, hour, 0));
		in += sample.in;
		out += sample.out;
	}
	/* in_share = 0.5 of roughly 24 × 60 passes. */
	assert_true(in + out > 1000);
	assert_true(fabs((double)in / (in + out) - 0.5) < 0.06);
	sensor_close(&counter);
	unlink(path);
}

/* Daily totals of a flat profile over 20 days: mean and coefficient of variation. */
static double daily_variation(double day_variation, double dark_factor, double *mean_out)
{
	char path[64];
	write_test_profile(path, sizeof(path), 0.0, SIM_TEST_FLAT_HOURS, day_variation, dark_factor);
	struct sensor counter;
	assert_int_equal(sensor_open(&counter, "gate", SENSOR_FOOTFALL, "6", "Test", path, 3600), 0);
	double sum = 0.0, sum_of_squares = 0.0;
	for (int day = 1; day <= 20; day++) {
		double total = 0.0;
		for (int hour = 0; hour < 24; hour++)
			total += sensor_sample(&counter, utc_ms(2025, 11, day, hour, 0) - CET_MS).value;
		sum += total;
		sum_of_squares += total * total;
	}
	sensor_close(&counter);
	unlink(path);
	double mean = sum / 20.0;
	*mean_out = mean;
	return sqrt(fmax(0.0, sum_of_squares / 20.0 - mean * mean)) / mean;
}

static void test_footfall_day_variation_and_darkness(void **unused)
{
	(void)unused;
	double steady_mean, varied_mean, dark_mean;
	/* Without day-to-day spread only Poisson noise is left (~0.4 % of 86 400). */
	assert_true(daily_variation(0.0, 1.0, &steady_mean) < 0.02);
	assert_true(daily_variation(0.3, 1.0, &varied_mean) > 0.1);
	/* Halving the rate after dark: November has ~16 dark hours of 24. */
	daily_variation(0.0, 0.5, &dark_mean);
	assert_true(dark_mean < 0.75 * steady_mean);
	assert_true(dark_mean > 0.55 * steady_mean);
}

/* ---- profiles ------------------------------------------------------------------------- */

static void test_profiles_load(void **unused)
{
	(void)unused;
	struct sim_profile profiles[DISTRICT_COUNT];
	char err[256];
	for (size_t d = 0; d < DISTRICT_COUNT; d++) {
		assert_int_equal(sim_profile_load(PROFILES, districts[d], &profiles[d], err, sizeof(err)), 0);
		assert_string_equal(profiles[d].district, districts[d]);
		assert_true(profiles[d].footfall_per_hour > 0.0);
		assert_true(profiles[d].night_lux < 5.0);
		assert_true(profiles[d].in_share > 0.0 && profiles[d].in_share < 1.0);
		assert_true(profiles[d].weekday_hours[3] < profiles[d].weekday_hours[8]);
	}
	for (size_t a = 0; a < DISTRICT_COUNT; a++)
		for (size_t b = a + 1; b < DISTRICT_COUNT; b++)
			assert_true(memcmp(profiles[a].weekday_hours, profiles[b].weekday_hours,
			                   sizeof(profiles[a].weekday_hours)) != 0 ||
			            profiles[a].footfall_per_hour != profiles[b].footfall_per_hour);
}

static void test_profile_errors(void **unused)
{
	(void)unused;
	struct sim_profile profile;
	char err[256];

	/* Names are compared exactly: "Arby" is not "Årby". */
	assert_int_equal(sim_profile_load(PROFILES, "Arby", &profile, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "Arby"));
	assert_non_null(strstr(err, "Årby"));
	assert_non_null(strstr(err, "Nyfors"));

	assert_int_equal(sim_profile_load("/nonexistent/districts.ini", "Årby", &profile, err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/districts.ini"));

	struct {
		const char *text;
		const char *expected;   /* in the message */
	} cases[] = {
		{ "[Test]\nfootfall_per_hour = 10\nin_share = 2\n", ":3:" },
		{ "[Test]\nfootfall_per_hour = many\n", "footfall_per_hour" },
		{ "[Test]\nfootfal_per_hour = 10\n", "unknown key" },
		{ "[Test]\nweekday_hours = 1 2 3\n", "3 hourly weights" },
		{ "[Test]\nnight_lux = 1\nnight_lux = 2\n", "twice" },
		{ "[Test]\nnight_lux = 1\n", "lacks key" },
		{ "[Test]\nthis line is not ini\n", ":2:" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[64];
		write_file(path, sizeof(path), cases[i].text);
		memset(&profile, 0x5A, sizeof(profile));
		err[0] = '\0';
		assert_int_equal(sim_profile_load(path, "Test", &profile, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].expected))
			fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, err, cases[i].expected);
		unlink(path);
	}
}

/* ---- driver surface --------------------------------------------------------------------- */

static void test_driver_options(void **unused)
{
	(void)unused;
	char err[256];
	assert_string_equal(sim_driver.name, "sim");
	assert_true(sim_driver.simulated);
	assert_int_equal(sim_driver.types,
	                 (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP));

	assert_int_equal(sim_driver.check_option(SENSOR_LIGHT, "seed", "42", err, sizeof(err)), 0);
	assert_int_equal(sim_driver.check_option(SENSOR_LIGHT, "seed", "18446744073709551615", err, sizeof(err)), 0);
	assert_int_equal(sim_driver.check_option(SENSOR_LIGHT, "seed", "18446744073709551616", err, sizeof(err)), -EINVAL);
	assert_int_equal(sim_driver.check_option(SENSOR_LIGHT, "seed", "-1", err, sizeof(err)), -EINVAL);
	assert_int_equal(sim_driver.check_option(SENSOR_LIGHT, "seed", "12abc", err, sizeof(err)), -EINVAL);
	assert_int_equal(sim_driver.check_option(SENSOR_LIGHT, "seed", "", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "seed"));
	assert_int_equal(sim_driver.check_option(SENSOR_LAMP, "profile", "Årby", err, sizeof(err)), 0);
	assert_int_equal(sim_driver.check_option(SENSOR_LAMP, "profile", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(sim_driver.check_option(SENSOR_LAMP, "profile", "a\nb", err, sizeof(err)), -EINVAL);
	assert_int_equal(sim_driver.check_option(SENSOR_FOOTFALL, "colour", "red", err, sizeof(err)), -ENOENT);

	/* Opening fails cleanly for a district the file lacks. */
	struct sensor sensor;
	assert_int_equal(sensor_open(&sensor, "x", SENSOR_LIGHT, "1", "Eskilstuna C", PROFILES, 5), -ENOENT);
#ifndef TRYGGD_PROFILES_DEFAULT
	assert_int_equal(sensor_open(&sensor, "x", SENSOR_LIGHT, "1", "Årby", NULL, 5), -EINVAL);
#endif

	/* The profile option overrides the gateway's district. */
	struct sensor_option option = { .key = "profile", .value = "Nyfors" };
	struct sensor_config config = {
		.name = "gate", .type = SENSOR_FOOTFALL, .driver = "sim", .interval_s = 3600,
		.options = &option, .option_count = 1,
	};
	struct driver_env env = { .gateway_id = "g", .district = "Not a district", .profiles = PROFILES };
	void *state = NULL;
	assert_int_equal(sim_driver.open(&config, &env, &state, err, sizeof(err)), 0);
	struct sensor nyfors;
	sensor_open_ok(&nyfors, "gate", SENSOR_FOOTFALL, NULL, "Nyfors", 3600);
	struct sample via_option, via_district;
	int64_t when = utc_ms(2025, 11, 5, 16, 0);
	assert_int_equal(sim_driver.sample(state, when, &via_option), 0);
	via_district = sensor_sample(&nyfors, when);
	assert_true(via_option.value == via_district.value);
	assert_true(via_option.value > 0.0);
	sim_driver.close(state);
	sensor_close(&nyfors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sun_solstice_noon),
		cmocka_unit_test(test_sun_matches_independent_formula),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_light_day_night_and_seasons),
		cmocka_unit_test(test_light_clouds_vary_by_hour),
		cmocka_unit_test(test_lamp_never_faulty),
		cmocka_unit_test(test_working_lamp_is_lit_whenever_it_is_dark),
		cmocka_unit_test(test_lamp_faults),
		cmocka_unit_test(test_footfall_rush_hour),
		cmocka_unit_test(test_footfall_counts_the_span_after_the_sample),
		cmocka_unit_test(test_footfall_week_plausible_and_districts_differ),
		cmocka_unit_test(test_footfall_direction_share),
		cmocka_unit_test(test_footfall_day_variation_and_darkness),
		cmocka_unit_test(test_profiles_load),
		cmocka_unit_test(test_profile_errors),
		cmocka_unit_test(test_driver_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
