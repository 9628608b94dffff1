/* test_tamper.c — unit tests of the tamper and wear rules (tamper.c), the
 * alert set behind the retained alert topic (alert.c), the duration parser
 * the thresholds are written in (parse.c) and the sim driver's fault
 * injection (sim_inject.c).  Local time is pinned to UTC so busy hours are
 * the hours written here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alert.h"
#include "parse.h"
#include "sim_inject.h"
#include "tamper.h"

#define S 1000LL
#define MIN (60 * S)
#define H (60 * MIN)

static int64_t utc(int year, int month, int day, int hour, int minute)
{
	struct tm fields = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = hour, .tm_min = minute };
	return (int64_t)timegm(&fields) * 1000;
}

static const struct sensor_alerts limits = {
	.stuck_ms = 3 * H, .busy_from_hour = 8, .busy_to_hour = 20, .blocked_ms = 30 * S,
	.covered_lux = 1.0, .covered_ms = 30 * MIN, .lamp_fault_ms = 15 * MIN,
};

static void test_duration(void **unused)
{
	(void)unused;
	int64_t ms;
	assert_true(parse_duration_ms("90", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 90000);
	assert_true(parse_duration_ms("250ms", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 250);
	assert_true(parse_duration_ms("1.5s", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 1500);
	assert_true(parse_duration_ms("15min", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 15 * MIN);
	assert_true(parse_duration_ms("3h", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 3 * H);
	assert_true(parse_duration_ms("2d", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 48 * H);
	assert_true(parse_duration_ms("0", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 0);
	/* Every time written to the millisecond in seconds is whole
	 * milliseconds, though most have no exact binary form. */
	char text[32];
	for (int64_t whole = 0; whole <= 60000; whole++) {
		snprintf(text, sizeof(text), "%d.%03ds", (int)(whole / 1000), (int)(whole % 1000));
		if (!parse_duration_ms(text, 0, INT64_MAX, &ms) || ms != whole)
			fail_msg("%s: not read as %lld ms", text, (long long)whole);
	}
	assert_true(parse_duration_ms("0.001h", 0, INT64_MAX, &ms));
	assert_int_equal(ms, 3600);
	const char *bad[] = { "", "h", "3 h", "-1s", "1.0001s", "1.0005s", "0.5ms", "3hours", "1e3", "0x10", "1,5s",
		              "nan" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(parse_duration_ms(bad[i], 0, INT64_MAX, &ms));
	assert_false(parse_duration_ms("8d", 0, 7 * 24 * H, &ms));
	assert_false(parse_duration_ms("5ms", 10, 1000, &ms));
}

static void test_stuck_counts_only_busy_hours(void **unused)
{
	(void)unused;
	struct tamper tamper;
	struct alerts alerts = { 0 };
	int64_t start = utc(2026, 11, 2, 18, 0);   /* two busy hours left today */
	tamper_init(&tamper, &limits, 59.37, 16.51, start);
	int64_t t = start;
	/* 18:00 to 08:00 next day: 2 busy hours, then night */
	for (; t < utc(2026, 11, 3, 8, 0); t += 5 * MIN)
		assert_false(tamper_footfall(&tamper, &alerts, t + 5 * MIN, 0));
	assert_false(alert_active(&alerts, ALERT_STUCK));
	/* one more busy hour reaches three */
	bool raised = false;
	for (; t < utc(2026, 11, 3, 9, 0); t += 5 * MIN)
		raised |= tamper_footfall(&tamper, &alerts, t + 5 * MIN, 0);
	assert_true(raised);
	assert_true(alert_active(&alerts, ALERT_STUCK));
	assert_int_equal(alerts.problems[ALERT_STUCK].since_ms, start);
	assert_non_null(strstr(alerts.problems[ALERT_STUCK].detail, "no one counted for 3 h of busy hours (08-20 local)"));
	/* a pass clears it */
	assert_true(tamper_footfall(&tamper, &alerts, t + 5 * MIN, 1));
	assert_false(alert_active(&alerts, ALERT_STUCK));
}

static void test_blocked_beam(void **unused)
{
	(void)unused;
	struct tamper tamper;
	struct alerts alerts = { 0 };
	int64_t t = utc(2026, 11, 2, 12, 0);
	tamper_init(&tamper, &limits, 59.37, 16.51, t);
	assert_false(tamper_beam(&tamper, &alerts, t, true));
	assert_false(tamper_beam_check(&tamper, &alerts, t + 29 * S));
	assert_true(tamper_beam_check(&tamper, &alerts, t + 30 * S));
	assert_int_equal(alerts.problems[ALERT_BLOCKED].since_ms, t);
	assert_non_null(strstr(alerts.problems[ALERT_BLOCKED].detail, "beam broken for 30 s"));
	/* raised once, not on every check */
	assert_false(tamper_beam_check(&tamper, &alerts, t + 60 * S));
	assert_true(tamper_beam(&tamper, &alerts, t + 61 * S, false));
	assert_false(alert_active(&alerts, ALERT_BLOCKED));
	/* a short break is a person, not a block */
	assert_false(tamper_beam(&tamper, &alerts, t + 70 * S, true));
	assert_false(tamper_beam(&tamper, &alerts, t + 71 * S, false));
	assert_false(tamper_beam_check(&tamper, &alerts, t + 200 * S));
}

static void test_covered_needs_the_sun_up(void **unused)
{
	(void)unused;
	struct tamper tamper;
	struct alerts alerts = { 0 };
	/* Eskilstuna in December: the sun peaks near 7° at noon, so a covered
	 * sensor cannot be told from a dark day; in June it can. */
	int64_t december = utc(2026, 12, 15, 10, 0);
	tamper_init(&tamper, &limits, 59.37, 16.51, december);
	for (int64_t t = december; t < december + 2 * H; t += 5 * MIN)
		assert_false(tamper_light(&tamper, &alerts, t, 0.2));
	assert_false(alert_active(&alerts, ALERT_COVERED));

	int64_t june = utc(2026, 6, 20, 9, 0);   /* 11:00 local, sun ~45° */
	tamper_init(&tamper, &limits, 59.37, 16.51, june);
	bool raised = false;
	for (int64_t t = june; t <= june + 30 * MIN; t += MIN)
		raised |= tamper_light(&tamper, &alerts, t, 0.2);
	assert_true(raised);
	assert_int_equal(alerts.problems[ALERT_COVERED].since_ms, june);
	assert_non_null(strstr(alerts.problems[ALERT_COVERED].detail, "0.20 lx for 30 min"));
	assert_true(tamper_light(&tamper, &alerts, june + H, 5000));
	assert_false(alert_active(&alerts, ALERT_COVERED));
	/* at night a dark reading is not evidence */
	int64_t night = utc(2026, 6, 20, 22, 30);
	for (int64_t t = night; t < night + 2 * H; t += MIN)
		assert_false(tamper_light(&tamper, &alerts, t, 0.0));
}

/* A light sensor's darkness is believed, for its lamp, only when nothing
 * says it is covered: not while it reads near zero in daylight, even
 * before `covered` is raised, and not while `covered` stands. */
static void test_light_trusted(void **unused)
{
	(void)unused;
	struct tamper tamper;
	struct alerts alerts = { 0 };
	int64_t june = utc(2026, 6, 20, 9, 0);   /* sun ~45° */
	tamper_init(&tamper, &limits, 59.37, 16.51, june);
	assert_true(tamper_light_trusted(&tamper, &alerts));
	tamper_light(&tamper, &alerts, june, 0.2);
	assert_false(alert_active(&alerts, ALERT_COVERED));
	assert_false(tamper_light_trusted(&tamper, &alerts));   /* at once, before covered_after */
	for (int64_t t = june; t <= june + 30 * MIN; t += MIN)
		tamper_light(&tamper, &alerts, t, 0.2);
	assert_true(alert_active(&alerts, ALERT_COVERED));
	/* Still covered at nightfall: its darkness then is no evidence either. */
	int64_t night = utc(2026, 6, 20, 22, 30);
	tamper_light(&tamper, &alerts, night, 0.0);
	assert_true(alert_active(&alerts, ALERT_COVERED));
	assert_false(tamper_light_trusted(&tamper, &alerts));
	/* Uncovered: a bright reading clears it, and the next night is believed. */
	tamper_light(&tamper, &alerts, june + 24 * H, 5000);
	tamper_light(&tamper, &alerts, night + 24 * H, 0.0);
	assert_true(tamper_light_trusted(&tamper, &alerts));
}

static void test_lamp_fault(void **unused)
{
	(void)unused;
	struct tamper tamper;
	struct alerts alerts = { 0 };
	int64_t t = utc(2026, 11, 2, 20, 0);
	tamper_init(&tamper, &limits, 59.37, 16.51, t);
	assert_false(tamper_lamp(&tamper, &alerts, t, true));
	assert_false(tamper_lamp(&tamper, &alerts, t + 14 * MIN, true));
	assert_true(tamper_lamp(&tamper, &alerts, t + 15 * MIN, true));
	assert_int_equal(alerts.problems[ALERT_LAMP_FAULT].since_ms, t);
	assert_true(tamper_lamp(&tamper, &alerts, t + 16 * MIN, false));
	/* a photocell switching late is not a fault */
	assert_false(tamper_lamp(&tamper, &alerts, t + 20 * MIN, true));
	assert_false(tamper_lamp(&tamper, &alerts, t + 24 * MIN, false));
	assert_false(alert_active(&alerts, ALERT_LAMP_FAULT));
}

static void test_alert_priority(void **unused)
{
	(void)unused;
	struct alerts alerts = { 0 };
	enum alert_kind kind;
	assert_null(alert_shown(&alerts, &kind));
	assert_true(alert_raise(&alerts, ALERT_STUCK, 100, "quiet"));
	assert_false(alert_raise(&alerts, ALERT_STUCK, 200, "still quiet"));
	assert_int_equal(alerts.problems[ALERT_STUCK].since_ms, 100);
	assert_string_equal(alerts.problems[ALERT_STUCK].detail, "still quiet");
	assert_true(alert_raise(&alerts, ALERT_FAILED, 300, "gone"));
	const struct alert_problem *shown = alert_shown(&alerts, &kind);
	assert_int_equal(kind, ALERT_FAILED);
	assert_string_equal(shown->detail, "gone");
	assert_true(alert_clear(&alerts, ALERT_FAILED));
	assert_false(alert_clear(&alerts, ALERT_FAILED));
	alert_shown(&alerts, &kind);
	assert_int_equal(kind, ALERT_STUCK);
	assert_string_equal(alert_kind_name(ALERT_LAMP_FAULT), "lamp_fault");
}

static void test_inject(void **unused)
{
	(void)unused;
	struct sim_injections injections;
	char err[256] = "";
	assert_int_equal(sim_inject_parse(SENSOR_LIGHT, "covered@2026-11-03T09:00:00Z/3h, failed@2026-11-03T20:00Z/10min",
	                                  &injections, err, sizeof(err)), 0);
	assert_int_equal(injections.count, 2);
	int64_t start = utc(2026, 11, 3, 9, 0);
	assert_false(sim_inject_active(&injections, SIM_FAULT_COVERED, start - 1));
	assert_true(sim_inject_active(&injections, SIM_FAULT_COVERED, start));
	assert_true(sim_inject_active(&injections, SIM_FAULT_COVERED, start + 3 * H - 1));
	assert_false(sim_inject_active(&injections, SIM_FAULT_COVERED, start + 3 * H));
	assert_true(sim_inject_active(&injections, SIM_FAULT_FAILED, utc(2026, 11, 3, 20, 5)));
	assert_false(sim_inject_active(&injections, SIM_FAULT_STUCK, start));
	/* garbage applies to every type. */
	static const enum sensor_type types[] = { SENSOR_LIGHT, SENSOR_LAMP, SENSOR_FOOTFALL };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(sim_inject_parse(types[i], "garbage@2026-11-03T09:00:00Z/2min", &injections, err,
		                                  sizeof(err)), 0);
		assert_true(sim_inject_active(&injections, SIM_FAULT_GARBAGE, start + 2 * MIN - 1));
		assert_false(sim_inject_active(&injections, SIM_FAULT_GARBAGE, start + 2 * MIN));
		assert_false(sim_inject_active(&injections, SIM_FAULT_FAILED, start));
	}

	static const struct {
		enum sensor_type type;
		const char *text, *message;
	} bad[] = {
		{ SENSOR_LIGHT, "stuck@2026-11-03T09:00:00Z/1h", "inject: stuck does not apply to light sensors" },
		{ SENSOR_LAMP, "dim@2026-11-03T09:00:00Z/1h",
		  "inject: unknown fault 'dim' (expected failed, stuck, blocked, covered, lamp_fault or garbage)" },
		{ SENSOR_FOOTFALL, "blocked 2026-11-03/1h",
		  "inject: expected KIND@START/DURATION like covered@2026-11-03T09:00:00Z/3h, got 'blocked 2026-11-03/1h'" },
		{ SENSOR_FOOTFALL, "blocked@tomorrow/1h",
		  "inject: expected an ISO-8601 UTC start like 2026-11-03T09:00:00Z, got 'tomorrow'" },
		{ SENSOR_FOOTFALL, "blocked@2026-11-03/a while",
		  "inject: expected a duration like 90s, 15min or 3h, got 'a while'" },
		{ SENSOR_FOOTFALL, "blocked@2026-11-03/1h,,stuck@2026-11-03/1h",
		  "inject: empty entry; separate KIND@START/DURATION entries with commas" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sim_inject_parse(bad[i].type, bad[i].text, &injections, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].message);
	}
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_stuck_counts_only_busy_hours),
		cmocka_unit_test(test_blocked_beam),
		cmocka_unit_test(test_covered_needs_the_sun_up),
		cmocka_unit_test(test_light_trusted),
		cmocka_unit_test(test_lamp_fault),
		cmocka_unit_test(test_alert_priority),
		cmocka_unit_test(test_inject),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
