/* test_sim_scenario.c — scenarios for the sim driver (sim_scenario.h) and
 * the profile file's new parts (sim_profile.h): seeds/scenarios.ini as
 * shipped, every problem a scenarios file can have with its line, a
 * profile that changes exactly at a scenario's from and until, the
 * shipped renewal and broken-lamp scenarios as sensors see them, the
 * [simulation] scenarios key at `tryggd --check`, and sim_profile_load_all()
 * with the districts' positions. */
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

#include "config.h"
#include "driver.h"
#include "sim_profile.h"
#include "sim_scenario.h"
#include "sim_test_support.h"

#define PROFILES TRYGGD_SOURCE_DIR "/seeds/districts.ini"
#define SCENARIOS TRYGGD_SOURCE_DIR "/seeds/scenarios.ini"
#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

struct problems {
	char text[16][256];
	size_t count;
};

static void collect(void *user, const char *problem)
{
	struct problems *problems = user;
	if (problems->count < 16)
		snprintf(problems->text[problems->count], sizeof(problems->text[0]), "%s", problem);
	problems->count++;
}

/* ---- the shipped files ---------------------------------------------------- */

static void test_shipped_scenarios(void **unused)
{
	(void)unused;
	struct sim_scenarios scenarios;
	struct problems problems = { 0 };
	char err[256] = "";
	int r = sim_scenarios_load(SCENARIOS, PROFILES, &scenarios, collect, &problems, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_int_equal(problems.count, 0);
	assert_int_equal(scenarios.count, 2);

	const struct sim_scenario *renewal = &scenarios.entries[0];
	assert_string_equal(renewal->district, "Årby");
	assert_string_equal(renewal->sensor, "");
	assert_true(renewal->from_ms == utc_ms(2026, 4, 20, 0, 0));
	assert_true(renewal->until_ms == INT64_MAX);

	const struct sim_scenario *broken = &scenarios.entries[1];
	assert_string_equal(broken->district, "Lagerberg");
	assert_string_equal(broken->sensor, "park-lampa");
	assert_true(broken->until_ms - broken->from_ms == 42 * MS_PER_DAY);
	/* Both within the demo year, before the demo week. */
	for (size_t i = 0; i < scenarios.count; i++) {
		assert_true(scenarios.entries[i].from_ms >= utc_ms(2026, 1, 1, 0, 0));
		assert_true(scenarios.entries[i].from_ms < utc_ms(2026, 11, 2, 0, 0));
	}

	/* Årby's profile over time: the renewal's keys from its date on, the rest as before. */
	struct sim_profile arby, scratch;
	assert_int_equal(sim_profile_load(PROFILES, "Årby", &arby, err, sizeof(err)), 0);
	struct sim_timeline timeline;
	assert_int_equal(sim_timeline_init(&timeline, &arby, &scenarios, "torg-lampa"), 0);
	const struct sim_profile *before = sim_timeline_at(&timeline, renewal->from_ms - 1, &scratch);
	assert_ptr_equal(before, &timeline.base);
	assert_true(before->lamp_lux == arby.lamp_lux);
	const struct sim_profile *after = sim_timeline_at(&timeline, renewal->from_ms, &scratch);
	assert_true(after->lamp_fault_per_night < arby.lamp_fault_per_night / 5);
	assert_true(after->lamp_lux > arby.lamp_lux);
	assert_true(after->dark_factor > arby.dark_factor && after->dark_factor <= 1.0);
	assert_true(after->footfall_per_hour == arby.footfall_per_hour);
	assert_true(sim_timeline_next_change(&timeline, 0) == renewal->from_ms);
	assert_true(sim_timeline_next_change(&timeline, renewal->from_ms) == INT64_MAX);
	sim_timeline_clear(&timeline);
	sim_scenarios_clear(&scenarios);
}

static void test_profiles_load_all_with_positions(void **unused)
{
	(void)unused;
	struct sim_profile *profiles = NULL;
	size_t count = 0;
	char err[256] = "";
	if (sim_profile_load_all(PROFILES, &profiles, &count, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	static const char *const order[] = { "Nyfors", "Lagerberg", "Fröslunda", "Skiftinge", "Årby" };
	assert_int_equal(count, 5);
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(profiles[i].district, order[i]);
		/* Within a few km of Eskilstuna's centre (59.371 N, 16.510 E). */
		assert_true(fabs(profiles[i].latitude - 59.371) < 0.05);
		assert_true(fabs(profiles[i].longitude - 16.510) < 0.08);
		assert_true(profiles[i].night_lux >= 0.5 && profiles[i].night_lux <= 3.0);
		assert_true(profiles[i].lamp_lux >= 12.0 && profiles[i].lamp_lux <= 30.0);
		assert_true(profiles[i].night_lux + profiles[i].lamp_lux > 1.1 * 10.0);
		assert_false(profiles[i].lamp_out);
		/* Each the same as loaded alone. */
		struct sim_profile alone;
		assert_int_equal(sim_profile_load(PROFILES, order[i], &alone, err, sizeof(err)), 0);
		assert_memory_equal(&alone, &profiles[i], sizeof(alone));
	}
	free(profiles);

	/* Optional keys left out take their defaults; a bad one anywhere fails the whole file. */
	char path[64];
	write_file(path, sizeof(path),
	           "[A]\nfootfall_per_hour = 1\nweekday_hours = 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n"
	           "weekend_hours = 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\nsaturday_factor = 1\n"
	           "sunday_factor = 1\ndark_factor = 1\nday_variation = 0\nin_share = 0.5\nnight_lux = 1\n"
	           "cloudiness = 0.5\nlamp_fault_per_night = 0\n");
	assert_int_equal(sim_profile_load_all(path, &profiles, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 1);
	assert_true(profiles[0].lamp_lux == 0.0 && profiles[0].holiday_factor == 1.0 &&
	            profiles[0].event_factor == 1.0 && profiles[0].events_per_year == 0.0);
	for (int month = 0; month < 12; month++)
		assert_true(profiles[0].month_factors[month] == 1.0);
	assert_true(isnan(profiles[0].latitude) && isnan(profiles[0].longitude));
	free(profiles);
	unlink(path);
	write_file(path, sizeof(path), "[A]\nfootfall_per_hour = 1\n[B]\nnight_lux = lots\n");
	assert_int_equal(sim_profile_load_all(path, &profiles, &count, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":4: [B] night_lux"));
	unlink(path);
}

static void test_profile_errors_in_new_keys(void **unused)
{
	(void)unused;
	struct {
		const char *text;
		const char *expected;
	} cases[] = {
		{ "[Test]\nmonth_factors = 1 1 1\n", "3 monthly factors, expected 12 (January … December)" },
		{ "[Test]\nmonth_factors = 1 1 1 1 1 1 1 1 1 1 1 11\n", "factor for month 12, 11, is outside" },
		{ "[Test]\nlamp_out = yes\n", ":2: [Test] lamp_out: only a scenario" },
		{ "[Test]\nlatitude = 91\n", "latitude: 91 is outside -90–90" },
		{ "[Test]\nevents_per_year = -1\n", "events_per_year" },
		{ "[Test]\nlamp_lux = 5 lx\n", "lamp_lux: not a number" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[64], err[256] = "";
		struct sim_profile profile;
		write_file(path, sizeof(path), cases[i].text);
		assert_int_equal(sim_profile_load(path, "Test", &profile, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].expected))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].expected);
		unlink(path);
	}
}

/* ---- problems in a scenarios file ------------------------------------------ */

static void test_scenario_problems_with_their_lines(void **unused)
{
	(void)unused;
	char path[64];
	write_file(path, sizeof(path),
	           "# line 1\n"
	           "[good]\n"                       /* 2 */
	           "district = Nyfors\n"
	           "from = 2026-03-01\n"
	           "footfall_per_hour = 200\n"      /* 5 */
	           "[no district]\n"                /* 6: lacks district */
	           "from = 2026-03-01\n"
	           "lamp_lux = 3\n"
	           "[bad values]\n"                 /* 9 */
	           "district = Nowhere\n"           /* not in the profiles */
	           "sensor = Park Lampa\n"          /* 11 */
	           "from = yesterday\n"             /* 12 */
	           "lamp_lux = 3\n"
	           "latitude = 59\n"                /* 14: not a scenario's */
	           "colour = red\n"                 /* 15 */
	           "lamp_lux = 4\n"                 /* 16: given twice */
	           "[backwards]\n"                  /* 17: changes nothing it could */
	           "district = Årby\n"
	           "from = 2026-05-01\n"
	           "until = 2026-04-01\n"           /* 20 */
	           "dark_factor = dark\n"           /* 21 */
	           "[nothing]\n"                    /* 22: changes nothing */
	           "district = Årby\n"
	           "from = 2026-05-01\n"
	           "[good]\n"                       /* 25: title again */
	           "district = Årby\n");
	struct sim_scenarios scenarios;
	struct problems problems = { 0 };
	char err[256] = "";
	assert_int_equal(sim_scenarios_load(path, PROFILES, &scenarios, collect, &problems, err, sizeof(err)), -EINVAL);
	assert_null(scenarios.entries);
	const char *expected[] = {
		":11: [bad values] sensor: expected a sensor name",
		":12: [bad values] from: expected an ISO-8601 UTC time",
		":14: [bad values] latitude: unknown key",
		":15: [bad values] colour: unknown key",
		":16: [bad values] lamp_lux: given twice",
		":21: [backwards] dark_factor: not a number",
		":25: [good]: title used twice (first at line 2)",
		":6: [no district]: lacks district",
		":9: [bad values] district: no profile for \"Nowhere\"",
		":20: [backwards] until: must be after from",
		":17: [backwards]: changes no profile key",
		":22: [nothing]: changes no profile key",
	};
	size_t count = sizeof(expected) / sizeof(expected[0]);
	if (problems.count != count)
		for (size_t i = 0; i < problems.count && i < 16; i++)
			print_message("problem: %s\n", problems.text[i]);
	assert_int_equal(problems.count, count);
	for (size_t i = 0; i < count; i++) {
		bool found = false;
		for (size_t j = 0; j < problems.count; j++)
			found |= strstr(problems.text[j], expected[i]) != NULL && strncmp(problems.text[j], path, strlen(path)) == 0;
		if (!found)
			fail_msg("no problem says \"%s\"", expected[i]);
	}
	/* err has the first. */
	assert_string_equal(err, problems.text[0]);
	unlink(path);

	/* A file that is not there is another error, not a problem. */
	problems.count = 0;
	assert_int_equal(sim_scenarios_load("/nonexistent/scenarios.ini", NULL, &scenarios, collect, &problems, err,
	                                    sizeof(err)),
	                 -ENOENT);
	assert_int_equal(problems.count, 0);
	assert_non_null(strstr(err, "/nonexistent/scenarios.ini"));
}

/* ---- sensors under scenarios -------------------------------------------------- */

struct sensor {
	struct sensor_option options[2];
	struct sensor_config config;
	void *state;
};

static void sensor_open(struct sensor *sensor, const char *name, enum sensor_type type, const char *seed,
                        const char *district, const char *profiles, const char *scenarios, int interval_s,
                        const struct sensor_config *const *paired, size_t paired_count)
{
	memset(sensor, 0, sizeof(*sensor));
	sensor->options[0] = (struct sensor_option){ .key = "seed", .value = (char *)seed };
	sensor->config = (struct sensor_config){
		.name = (char *)name, .type = type, .driver = "sim", .interval_s = interval_s, .dark_lux = 10,
		.options = sensor->options, .option_count = 1,
	};
	struct driver_env env = { .gateway_id = "test", .district = district, .profiles = profiles,
		                  .scenarios = scenarios, .paired = paired, .paired_count = paired_count };
	char err[256] = "";
	if (sim_driver.open(&sensor->config, &env, &sensor->state, err, sizeof(err)) < 0)
		fail_msg("open %s: %s", name, err);
}

static double sample_at(struct sensor *sensor, int64_t t)
{
	struct sample sample;
	assert_int_equal(sim_driver.sample(sensor->state, t, &sample), 0);
	return sample.value;
}

static void test_scenario_changes_the_profile_exactly_from_its_date(void **unused)
{
	(void)unused;
	char profiles[64], scenarios[64];
	struct sim_test_profile profile = sim_test_profile();
	profile.extra = "holiday_factor = 1\n";
	sim_test_write_profile(profiles, sizeof(profiles), &profile);
	/* From 10:20 UTC for 40 minutes, ten times the rate; the gate only. */
	write_file(scenarios, sizeof(scenarios),
	           "[rush]\ndistrict = Test\nsensor = gate\nfrom = 2026-03-10T10:20:00Z\nuntil = 2026-03-10T11:00Z\n"
	           "footfall_per_hour = 36000\n");
	struct sensor plain, changed, other_name;
	sensor_open(&plain, "gate", SENSOR_FOOTFALL, "3", "Test", profiles, NULL, 60, NULL, 0);
	sensor_open(&changed, "gate", SENSOR_FOOTFALL, "3", "Test", profiles, scenarios, 60, NULL, 0);
	sensor_open(&other_name, "door", SENSOR_FOOTFALL, "3", "Test", profiles, scenarios, 60, NULL, 0);
	int64_t from = utc_ms(2026, 3, 10, 10, 20), until = utc_ms(2026, 3, 10, 11, 0);
	for (int64_t t = from - 30 * MS_PER_MINUTE; t < until + 30 * MS_PER_MINUTE; t += MS_PER_MINUTE) {
		double a = sample_at(&plain, t), b = sample_at(&changed, t);
		if (t < from || t >= until)
			assert_true(a == b);                 /* same draws, same profile */
		else
			assert_true(b > 5.0 * a && a > 20);   /* ~600 against ~60 a minute */
	}
	/* The other sensor of the district is not the one the scenario names. */
	struct sensor other_plain;
	sensor_open(&other_plain, "door", SENSOR_FOOTFALL, "3", "Test", profiles, NULL, 60, NULL, 0);
	for (int64_t t = from; t < until; t += MS_PER_MINUTE)
		assert_true(sample_at(&other_name, t) == sample_at(&other_plain, t));
	sim_driver.close(plain.state);
	sim_driver.close(changed.state);
	sim_driver.close(other_name.state);
	sim_driver.close(other_plain.state);

	/* A span that straddles the start counts each part at its own rate: an
	 * hour from 10:00 holds 20 minutes at 3600 and 40 at 36000 an hour. */
	sensor_open(&changed, "gate", SENSOR_FOOTFALL, "3", "Test", profiles, scenarios, 3600, NULL, 0);
	double hour = sample_at(&changed, utc_ms(2026, 3, 10, 10, 0));
	double expected = (3600.0 / 3 + 36000.0 * 2 / 3) * 1.0;   /* times the site level, 0.8–1.2 */
	assert_true(hour > 0.75 * expected && hour < 1.25 * expected);
	sim_driver.close(changed.state);
	unlink(profiles);
	unlink(scenarios);
}

/* The shipped broken-lamp scenario: Lagerberg's park-lampa is out every
 * night from 7 September to 19 October 2026, and its light sensor reads
 * dark meanwhile; before and after, and another lamp of the district, are
 * as usual. */
static void test_shipped_broken_lamp(void **unused)
{
	(void)unused;
	struct sensor lamp, light, elsewhere;
	sensor_open(&lamp, "park-lampa", SENSOR_LAMP, "2202", "Lagerberg", PROFILES, SCENARIOS, 60, NULL, 0);
	const struct sensor_config *paired[] = { &lamp.config };
	sensor_open(&light, "park-ljus", SENSOR_LIGHT, "2202", "Lagerberg", PROFILES, SCENARIOS, 60, paired, 1);
	sensor_open(&elsewhere, "torg-lampa", SENSOR_LAMP, "2202", "Lagerberg", PROFILES, SCENARIOS, 60, NULL, 0);
	int lit_during = 0, dark_during = 0, lit_before = 0, lit_after = 0, elsewhere_lit = 0, nights = 0;
	for (int day = 0; day < 42; day++) {
		int64_t midnight = utc_ms(2026, 9, 7, 23, 0) + day * MS_PER_DAY;   /* 01:00 local */
		nights++;
		lit_during += sample_at(&lamp, midnight) == 1.0;
		dark_during += sample_at(&light, midnight) < 10.0;
		elsewhere_lit += sample_at(&elsewhere, midnight) == 1.0;
		lit_before += sample_at(&lamp, midnight - 42 * MS_PER_DAY) == 1.0;
		lit_after += sample_at(&lamp, midnight + 42 * MS_PER_DAY) == 1.0;
	}
	assert_int_equal(lit_during, 0);
	assert_int_equal(dark_during, nights);
	assert_true(elsewhere_lit > nights - 5);
	assert_true(lit_before > nights - 5);
	assert_true(lit_after > nights - 5);
	sim_driver.close(lamp.state);
	sim_driver.close(light.state);
	sim_driver.close(elsewhere.state);
}

/* The shipped renewal: Årby's lamps fail far less often and its light
 * sensors read more light, from 20 April 2026. */
static void test_shipped_renewal(void **unused)
{
	(void)unused;
	int faults_before = 0, faults_after = 0, nights = 0;
	double lux_before = 0, lux_after = 0;
	for (int number = 0; number < 20; number++) {
		char name[16];
		snprintf(name, sizeof(name), "lampa-%d", number);
		struct sensor lamp, light;
		sensor_open(&lamp, name, SENSOR_LAMP, "77", "Årby", PROFILES, SCENARIOS, 60, NULL, 0);
		const struct sensor_config *paired[] = { &lamp.config };
		sensor_open(&light, "ljus", SENSOR_LIGHT, "77", "Årby", PROFILES, SCENARIOS, 60, paired, 1);
		/* 60 winter nights before (1 Jan–1 Mar) and 60 autumn nights after (1 Oct–30 Nov), at 22:00 local. */
		for (int day = 0; day < 60; day++) {
			int64_t before = utc_ms(2026, 1, 1, 21, 0) + day * MS_PER_DAY;
			int64_t after = utc_ms(2026, 10, 1, 20, 0) + day * MS_PER_DAY;
			after += after >= utc_ms(2026, 10, 25, 1, 0) ? MS_PER_HOUR : 0;   /* 22:00 in winter time */
			nights++;
			faults_before += sample_at(&lamp, before) == 0.0;
			faults_after += sample_at(&lamp, after) == 0.0;
			lux_before += sample_at(&light, before);
			lux_after += sample_at(&light, after);
		}
		sim_driver.close(lamp.state);
		sim_driver.close(light.state);
	}
	/* Before: Årby's 5 % a night, part of them faults that start later;
	 * after: 0.4 %. */
	assert_true(faults_before >= 15);
	assert_true(faults_after * 4 < faults_before);
	assert_true(lux_after > 1.6 * lux_before);
	(void)nights;
}

/* ---- the [simulation] key ------------------------------------------------------ */

static char *check_config(const char *scenarios_text, int *result)
{
	char scenarios[64], config[64];
	write_file(scenarios, sizeof(scenarios), scenarios_text);
	char *text = NULL;
	assert_true(asprintf(&text,
	                     "[gateway]\nid = g1\ndistrict = Årby\n"
	                     "[simulation]\nprofiles = %s\nscenarios = %s\n"   /* line 6 */
	                     "[sensor.ljus]\ntype = light\ndriver = sim\n",
	                     PROFILES, scenarios) > 0);
	write_file(config, sizeof(config), text);
	free(text);
	char *errors = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&errors, &size);
	struct config loaded;
	*result = config_load(config, &loaded, stream);
	fclose(stream);
	if (*result == 0) {
		assert_non_null(loaded.simulation.scenarios);
		assert_string_equal(loaded.simulation.scenarios, scenarios);
		config_free(&loaded);
	}
	char *with_paths = NULL;
	assert_true(asprintf(&with_paths, "%s|%s|%s", config, scenarios, errors) > 0);
	free(errors);
	unlink(scenarios);
	unlink(config);
	return with_paths;
}

static void test_check_reports_scenario_problems(void **unused)
{
	(void)unused;
	int result;
	char *out = check_config("[ok]\ndistrict = Årby\nfrom = 2026-04-20\nlamp_lux = 30\n", &result);
	assert_int_equal(result, 0);
	free(out);

	out = check_config("[a]\ndistrict = Årby\nfrom = soon\nlamp_lux = 30\n[b]\ndistrict = Arby\nfrom = 2026-01-01\n"
	                   "lamp_lux = 1\n",
	                   &result);
	assert_int_equal(result, -EINVAL);
	char *config = out, *scenarios = strchr(out, '|');
	*scenarios++ = '\0';
	char *errors = strchr(scenarios, '|');
	*errors++ = '\0';
	/* One line per problem, CONFIG:6: scenarios: SCENARIOS:LINE: ... */
	char first[512], second[512];
	snprintf(first, sizeof(first), "%s:6: scenarios: %s:3: [a] from: expected an ISO-8601 UTC time", config,
	         scenarios);
	snprintf(second, sizeof(second), "%s:6: scenarios: %s:5: [b] district: no profile for \"Arby\"", config,
	         scenarios);
	if (!strstr(errors, first) || !strstr(errors, second))
		fail_msg("got:\n%s", errors);
	free(out);

	/* A file that is not there, relative to the config's folder. */
	char missing[64];
	write_file(missing, sizeof(missing),
	           "[gateway]\nid = g1\ndistrict = Årby\n[simulation]\nscenarios = no-such-scenarios.ini\n"
	           "[sensor.ljus]\ntype = light\ndriver = sim\n");
	char *messages = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&messages, &size);
	struct config loaded;
	assert_int_equal(config_load(missing, &loaded, stream), -EINVAL);
	fclose(stream);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s:5: scenarios: cannot read /tmp/no-such-scenarios.ini: ", missing);
	if (!strstr(messages, expected))
		fail_msg("got:\n%s", messages);
	free(messages);
	unlink(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_scenarios),
		cmocka_unit_test(test_profiles_load_all_with_positions),
		cmocka_unit_test(test_profile_errors_in_new_keys),
		cmocka_unit_test(test_scenario_problems_with_their_lines),
		cmocka_unit_test(test_scenario_changes_the_profile_exactly_from_its_date),
		cmocka_unit_test(test_shipped_broken_lamp),
		cmocka_unit_test(test_shipped_renewal),
		cmocka_unit_test(test_check_reports_scenario_problems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
