/* test_sim_calendar.c — the sim driver's calendar (sim_calendar.h) against
 * dates looked up in almanacs, not computed the same way: Easter Sundays,
 * Sweden's public holidays and eves for 2026 and 2027, Swedish summer time;
 * and what the calendar does to simulated footfall: the months of a
 * profile's month_factors, holidays on the Sunday curve, and event
 * evenings shared by every sensor of a district. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "calendar.h"
#include "driver.h"
#include "sim_calendar.h"
#include "sim_test_support.h"

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
#define CET_MS MS_PER_HOUR

static int64_t day_of(int year, int month, int day)
{
	return calendar_days_from_civil(year, month, day);
}

/* ---- the calendar ---------------------------------------------------------- */

static void test_easter(void **unused)
{
	(void)unused;
	/* Easter Sundays from the church's tables. */
	const struct {
		int year, month, day;
	} easter[] = {
		{ 2000, 4, 23 }, { 2008, 3, 23 }, { 2011, 4, 24 }, { 2019, 4, 21 }, { 2024, 3, 31 },
		{ 2025, 4, 20 }, { 2026, 4, 5 },  { 2027, 3, 28 }, { 2038, 4, 25 }, { 2285, 3, 22 },
	};
	for (size_t i = 0; i < sizeof(easter) / sizeof(easter[0]); i++)
		if (sim_calendar_easter(easter[i].year) != day_of(easter[i].year, easter[i].month, easter[i].day))
			fail_msg("Easter %d", easter[i].year);
}

static void test_holidays_2026_and_2027(void **unused)
{
	(void)unused;
	/* Every holiday and eve of 2026 and 2027 (Swedish almanac), by name. */
	const struct {
		int year, month, day;
		const char *name;
	} holidays[] = {
		{ 2026, 1, 1, "nyårsdagen" },   { 2026, 1, 6, "trettondedag jul" },
		{ 2026, 4, 3, "långfredagen" }, { 2026, 4, 5, "påskdagen" },
		{ 2026, 4, 6, "annandag påsk" }, { 2026, 5, 1, "första maj" },
		{ 2026, 5, 14, "Kristi himmelsfärdsdag" }, { 2026, 5, 24, "pingstdagen" },
		{ 2026, 6, 6, "nationaldagen" }, { 2026, 6, 19, "midsommarafton" },
		{ 2026, 6, 20, "midsommardagen" }, { 2026, 10, 31, "alla helgons dag" },
		{ 2026, 12, 24, "julafton" },   { 2026, 12, 25, "juldagen" },
		{ 2026, 12, 26, "annandag jul" }, { 2026, 12, 31, "nyårsafton" },
		{ 2027, 3, 26, "långfredagen" }, { 2027, 3, 29, "annandag påsk" },
		{ 2027, 5, 6, "Kristi himmelsfärdsdag" }, { 2027, 6, 25, "midsommarafton" },
		{ 2027, 6, 26, "midsommardagen" }, { 2027, 11, 6, "alla helgons dag" },
	};
	size_t expected_2026 = 0, found_2026 = 0;
	for (size_t i = 0; i < sizeof(holidays) / sizeof(holidays[0]); i++) {
		const char *name = sim_calendar_holiday(day_of(holidays[i].year, holidays[i].month, holidays[i].day));
		if (!name || strcmp(name, holidays[i].name) != 0)
			fail_msg("%d-%02d-%02d: expected %s, got %s", holidays[i].year, holidays[i].month, holidays[i].day,
			         holidays[i].name, name ? name : "an ordinary day");
		expected_2026 += holidays[i].year == 2026;
	}
	/* No other day of 2026 is one. */
	for (int64_t day = day_of(2026, 1, 1); day < day_of(2027, 1, 1); day++)
		found_2026 += sim_calendar_holiday(day) != NULL;
	assert_int_equal(found_2026, expected_2026);
	/* The days around the moving ones are ordinary. */
	assert_null(sim_calendar_holiday(day_of(2026, 6, 18)));
	assert_null(sim_calendar_holiday(day_of(2026, 6, 21)));
	assert_null(sim_calendar_holiday(day_of(2026, 11, 1)));
	assert_null(sim_calendar_holiday(day_of(2026, 4, 4)));   /* påskafton: a Saturday, not in the law */
}

static void test_midsummer_and_all_saints_every_weekday(void **unused)
{
	(void)unused;
	/* Over 28 years every weekday falls on 19 June: the eve is always the
	 * Friday of 19–25 June, the day the Saturday after, All Saints' the
	 * Saturday of 31 October–6 November. */
	for (int year = 2020; year < 2048; year++) {
		int found = 0;
		for (int day = 19; day <= 25; day++) {
			const char *name = sim_calendar_holiday(day_of(year, 6, day));
			if (name && strcmp(name, "midsommarafton") == 0) {
				assert_int_equal(calendar_weekday(day_of(year, 6, day)), 5);
				found++;
			}
		}
		assert_int_equal(found, 1);
		int64_t first = day_of(year, 10, 31);
		int64_t saturday = first + (6 - calendar_weekday(first) + 7) % 7;
		assert_string_equal(sim_calendar_holiday(saturday), "alla helgons dag");
	}
	assert_string_equal(sim_calendar_holiday(day_of(2026, 6, 19)), "midsommarafton");
}

static void test_swedish_summer_time(void **unused)
{
	(void)unused;
	/* 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC. */
	assert_true(sim_calendar_offset_ms(utc_ms(2026, 3, 29, 0, 59)) == MS_PER_HOUR);
	assert_true(sim_calendar_offset_ms(utc_ms(2026, 3, 29, 1, 0)) == 2 * MS_PER_HOUR);
	assert_true(sim_calendar_offset_ms(utc_ms(2026, 10, 25, 0, 59)) == 2 * MS_PER_HOUR);
	assert_true(sim_calendar_offset_ms(utc_ms(2026, 10, 25, 1, 0)) == MS_PER_HOUR);
	assert_true(sim_calendar_local_ms(utc_ms(2026, 7, 1, 10, 0)) == utc_ms(2026, 7, 1, 12, 0));
}

/* ---- what footfall makes of it ------------------------------------------- */

#define WEEKEND_SHAPE "0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2 0.2"

/* A profiles file with district "Test" and extra keys; caller unlinks path. */
static void write_profile(char *path, size_t path_size, const char *extra)
{
	struct sim_test_profile profile = sim_test_profile();
	profile.weekend_hours = WEEKEND_SHAPE;
	profile.extra = extra;
	sim_test_write_profile(path, path_size, &profile);
}

struct counter {
	struct sensor_option options[2];
	struct sensor_config config;
	void *state;
};

static void counter_open(struct counter *counter, const char *name, const char *seed, const char *path)
{
	memset(counter, 0, sizeof(*counter));
	counter->options[0] = (struct sensor_option){ .key = "seed", .value = (char *)seed };
	counter->config = (struct sensor_config){
		.name = (char *)name, .type = SENSOR_FOOTFALL, .driver = "sim", .interval_s = 3600,
		.options = counter->options, .option_count = 1,
	};
	struct driver_env env = { .gateway_id = "test", .district = "Test", .profiles = path };
	char err[256] = "";
	int r = sim_driver.open(&counter->config, &env, &counter->state, err, sizeof(err));
	if (r < 0)
		fail_msg("open: %s", err);
}

/* Passes in local hours [from, to) of one local day in winter time. */
static double passes(struct counter *counter, int year, int month, int day, int from, int to, int64_t offset_ms)
{
	double total = 0.0;
	for (int hour = from; hour < to; hour++) {
		struct sample sample;
		assert_int_equal(sim_driver.sample(counter->state, utc_ms(year, month, day, hour, 0) - offset_ms, &sample),
		                 0);
		total += sample.value;
	}
	return total;
}

static void test_month_factors(void **unused)
{
	(void)unused;
	char plain_path[64], seasonal_path[64];
	write_profile(plain_path, sizeof(plain_path), "");
	/* January 0.5, July 1.5: the season the profile says. */
	write_profile(seasonal_path, sizeof(seasonal_path),
	              "month_factors = 0.5 1 1 1 1 1 1.5 1 1 1 1 1\n");
	struct counter plain, seasonal;
	counter_open(&plain, "gate", "3", plain_path);
	counter_open(&seasonal, "gate", "3", seasonal_path);
	/* Evenings 18–22 local of the working days of a January and a July week. */
	double plain_january = 0, seasonal_january = 0, plain_july = 0, seasonal_july = 0;
	for (int day = 12; day <= 16; day++) {   /* 12–16 January 2026: Monday to Friday */
		plain_january += passes(&plain, 2026, 1, day, 18, 22, CET_MS);
		seasonal_january += passes(&seasonal, 2026, 1, day, 18, 22, CET_MS);
	}
	for (int day = 13; day <= 17; day++) {   /* 13–17 July 2026: Monday to Friday, summer time */
		plain_july += passes(&plain, 2026, 7, day, 18, 22, 2 * MS_PER_HOUR);
		seasonal_july += passes(&seasonal, 2026, 7, day, 18, 22, 2 * MS_PER_HOUR);
	}
	/* A flat profile without darkness: the same either way; with the factors, July three times January. */
	assert_true(fabs(plain_july / plain_january - 1.0) < 0.05);
	assert_true(fabs(seasonal_january / plain_january - 0.5) < 0.03);
	assert_true(fabs(seasonal_july / plain_july - 1.5) < 0.03);
	assert_true(seasonal_july > 2.8 * seasonal_january);
	sim_driver.close(plain.state);
	sim_driver.close(seasonal.state);
	unlink(plain_path);
	unlink(seasonal_path);
}

static void test_real_profiles_summer_evenings_busier(void **unused)
{
	(void)unused;
	/* With the districts' own profiles, a working-day evening (18–22) in July
	 * is busier than one in January: light evenings and the season. */
	static const char *const districts[] = { "Fröslunda", "Lagerberg", "Nyfors", "Skiftinge", "Årby" };
	for (size_t d = 0; d < sizeof(districts) / sizeof(districts[0]); d++) {
		struct counter counter;
		memset(&counter, 0, sizeof(counter));
		counter.options[0] = (struct sensor_option){ .key = "seed", .value = "8" };
		counter.config = (struct sensor_config){
			.name = "gate", .type = SENSOR_FOOTFALL, .driver = "sim", .interval_s = 3600,
			.options = counter.options, .option_count = 1,
		};
		struct driver_env env = { .district = districts[d], .profiles = TRYGGD_SOURCE_DIR "/seeds/districts.ini" };
		char err[256];
		assert_int_equal(sim_driver.open(&counter.config, &env, &counter.state, err, sizeof(err)), 0);
		double january = 0, july = 0;
		for (int week = 0; week < 3; week++) {
			for (int day = 0; day < 5; day++) {
				january += passes(&counter, 2026, 1, 12 + 7 * week + day, 18, 22, CET_MS);
				july += passes(&counter, 2026, 7, 6 + 7 * week + day, 18, 22, 2 * MS_PER_HOUR);
			}
		}
		if (!(july > 1.1 * january))
			fail_msg("%s: July evenings %g, January evenings %g", districts[d], july, january);
		sim_driver.close(counter.state);
	}
}

static void test_holiday_uses_the_sunday_curve(void **unused)
{
	(void)unused;
	char path[64];
	/* Weekdays flat at 1, the weekend curve at 0.2, Sunday × 1, holidays × 0.5. */
	write_profile(path, sizeof(path), "holiday_factor = 0.5\n");
	struct counter counter;
	counter_open(&counter, "gate", "5", path);
	/* Thursday 24 December 2026 (julafton) against Thursday 17 December and
	 * against Sunday 20 December: 0.2 × 0.5 of a weekday, half a Sunday. */
	double christmas_eve = passes(&counter, 2026, 12, 24, 0, 24, CET_MS);
	double thursday = passes(&counter, 2026, 12, 17, 0, 24, CET_MS);
	double sunday = passes(&counter, 2026, 12, 20, 0, 24, CET_MS);
	assert_true(fabs(christmas_eve / thursday - 0.1) < 0.01);
	assert_true(fabs(christmas_eve / sunday - 0.5) < 0.03);
	/* Midsommarafton 2026 is a Friday: a Sunday's curve too. */
	double midsummer_eve = passes(&counter, 2026, 6, 19, 0, 24, 2 * MS_PER_HOUR);
	double friday_before = passes(&counter, 2026, 6, 12, 0, 24, 2 * MS_PER_HOUR);
	assert_true(fabs(midsummer_eve / friday_before - 0.1) < 0.01);
	sim_driver.close(counter.state);
	unlink(path);
}

/* The local days of 2026 whose evening (18–22) is at least 1.5 times the
 * morning (08–12) for counter, as a bitmap over day numbers from 1 January. */
static void busy_evenings(struct counter *counter, unsigned char busy[366])
{
	int64_t first = day_of(2026, 1, 1);
	for (int64_t day = first; day < day_of(2027, 1, 1); day++) {
		int64_t year;
		int month, day_of_month;
		calendar_civil_from_days(day, &year, &month, &day_of_month);
		int64_t offset = sim_calendar_offset_ms(day * MS_PER_DAY + 12 * MS_PER_HOUR);
		double morning = passes(counter, 2026, month, day_of_month, 8, 12, offset);
		double evening = passes(counter, 2026, month, day_of_month, 18, 22, offset);
		busy[day - first] = evening > 1.5 * morning;
	}
}

static void test_event_evenings(void **unused)
{
	(void)unused;
	char path[64];
	write_profile(path, sizeof(path), "events_per_year = 20\nevent_factor = 3\n");
	struct counter gate, other_gate, other_seed;
	counter_open(&gate, "gate", "7", path);
	counter_open(&other_gate, "another-gate", "7", path);
	counter_open(&other_seed, "gate", "8", path);
	static unsigned char busy[366], busy_other_gate[366], busy_other_seed[366];
	busy_evenings(&gate, busy);
	busy_evenings(&other_gate, busy_other_gate);
	busy_evenings(&other_seed, busy_other_seed);
	int events = 0, shared = 0, same_days_other_seed = 0;
	for (int day = 0; day < 365; day++) {
		events += busy[day];
		shared += busy[day] && busy_other_gate[day];
		same_days_other_seed += busy[day] && busy_other_seed[day];
	}
	/* About 20 event evenings a year, tripled from 16 to 23 (the flat
	 * profile makes every other evening like its morning). */
	assert_true(events >= 8 && events <= 35);
	/* Every sensor of the district has them on the same evenings; another seed on others. */
	assert_int_equal(shared, events);
	for (int day = 0; day < 365; day++)
		assert_int_equal(busy[day], busy_other_gate[day]);
	assert_true(same_days_other_seed < events / 2);

	/* An event evening: 16–23 × 3, the hours around it as usual. */
	int64_t first = day_of(2026, 1, 1);
	int event = 0;
	while (!busy[event])
		event++;
	int64_t year;
	int month, day_of_month;
	calendar_civil_from_days(first + event, &year, &month, &day_of_month);
	int64_t offset = sim_calendar_offset_ms((first + event) * MS_PER_DAY + 12 * MS_PER_HOUR);
	double before = passes(&gate, 2026, month, day_of_month, 15, 16, offset);
	double during = passes(&gate, 2026, month, day_of_month, 16, 23, offset) / 7.0;
	double after = passes(&gate, 2026, month, day_of_month, 23, 24, offset);
	assert_true(during > 2.5 * before);
	assert_true(during > 2.5 * after);
	sim_driver.close(gate.state);
	sim_driver.close(other_gate.state);
	sim_driver.close(other_seed.state);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_easter),
		cmocka_unit_test(test_holidays_2026_and_2027),
		cmocka_unit_test(test_midsummer_and_all_saints_every_weekday),
		cmocka_unit_test(test_swedish_summer_time),
		cmocka_unit_test(test_month_factors),
		cmocka_unit_test(test_real_profiles_summer_evenings_busier),
		cmocka_unit_test(test_holiday_uses_the_sunday_curve),
		cmocka_unit_test(test_event_evenings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
