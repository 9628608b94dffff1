/* test_timefmt.c — RFC 3339 out, ISO-8601 in (timefmt.c).  The epoch
 * numbers below were computed independently (GNU date and Python's
 * datetime), not with the code under test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "timefmt.h"

struct known_time {
	int64_t t_ms;
	const char *text;
};

static const struct known_time known_times[] = {
	{ INT64_C(1793599200000), "2026-11-02T06:00:00.000Z" },   /* date -u -d ... +%s */
	{ INT64_C(0), "1970-01-01T00:00:00.000Z" },
	{ INT64_C(1709251199999), "2024-02-29T23:59:59.999Z" },   /* leap day */
	{ INT64_C(951827696789), "2000-02-29T12:34:56.789Z" },    /* 400-year leap day */
	{ INT64_C(-1), "1969-12-31T23:59:59.999Z" },
	{ INT64_C(-2203891200000), "1900-03-01T00:00:00.000Z" },  /* 1900 had no Feb 29 */
	{ INT64_C(253402300799999), "9999-12-31T23:59:59.999Z" },
	{ INT64_C(-62135596800000), "0001-01-01T00:00:00.000Z" },
};

static void test_format_known_times(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known_times) / sizeof(known_times[0]); i++) {
		char out[TIMEFMT_RFC3339_SIZE];
		timefmt_rfc3339(known_times[i].t_ms, out);
		assert_string_equal(out, known_times[i].text);
	}
}

static void test_parse_known_times(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known_times) / sizeof(known_times[0]); i++) {
		int64_t t_ms = 12345;
		assert_int_equal(timefmt_parse_iso8601(known_times[i].text, &t_ms), 0);
		assert_int_equal(t_ms, known_times[i].t_ms);
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	/* every millisecond offset around the epoch, then big strides across
	 * centuries on both sides of it */
	for (int64_t t_ms = -5000; t_ms <= 5000; t_ms += 7) {
		char text[TIMEFMT_RFC3339_SIZE];
		int64_t back = 0;
		timefmt_rfc3339(t_ms, text);
		assert_int_equal(timefmt_parse_iso8601(text, &back), 0);
		assert_int_equal(back, t_ms);
	}
	for (int64_t t_ms = INT64_C(-62135596800000); t_ms < INT64_C(253402300799999);
	     t_ms += INT64_C(8640000123)) {
		char text[TIMEFMT_RFC3339_SIZE];
		int64_t back = 0;
		timefmt_rfc3339(t_ms, text);
		assert_int_equal(timefmt_parse_iso8601(text, &back), 0);
		assert_int_equal(back, t_ms);
	}
}

static void test_extreme_values_fit(void **state)
{
	(void)state;
	char out[TIMEFMT_RFC3339_SIZE];
	timefmt_rfc3339(INT64_MIN, out);
	assert_string_equal(out, "-292275055-05-16T16:47:04.192Z");
	timefmt_rfc3339(INT64_MAX, out);
	assert_string_equal(out, "292278994-08-17T07:12:55.807Z");
}

static void test_parse_accepted_forms(void **state)
{
	(void)state;
	int64_t t_ms = 0;
	assert_int_equal(timefmt_parse_iso8601("2026-11-02T06:00Z", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793599200000));
	assert_int_equal(timefmt_parse_iso8601("2026-11-02T06:00:00Z", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793599200000));
	assert_int_equal(timefmt_parse_iso8601("2026-11-02T06:00:00+00:00", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793599200000));
	assert_int_equal(timefmt_parse_iso8601("2026-11-02T06:00+00:00", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793599200000));
	assert_int_equal(timefmt_parse_iso8601("2026-11-02", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793577600000));
	assert_int_equal(timefmt_parse_iso8601("2026-11-02T06:00:00.5Z", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793599200500));
	assert_int_equal(timefmt_parse_iso8601("2026-11-02T06:00:00.05Z", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1793599200050));
	assert_int_equal(timefmt_parse_iso8601("2024-02-29", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(1709164800000));
	assert_int_equal(timefmt_parse_iso8601("2000-02-29T00:00Z", &t_ms), 0);
	assert_int_equal(t_ms, INT64_C(951782400000));
}

static void test_parse_rejects(void **state)
{
	(void)state;
	static const char *const invalid[] = {
		"", "2026", "2026-11", "2026-1-02", "26-11-02",
		"2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31",
		"2026-02-30", "2025-02-29", "1900-02-29", "2100-02-29",
		"2026-04-31T00:00Z",
		"2026-11-02T24:00Z", "2026-11-02T06:60Z", "2026-11-02T06:00:60Z",
		"2026-11-02T06:00:00", "2026-11-02T06:00", "2026-11-02T06Z",
		"2026-11-02T06:00:00.Z", "2026-11-02T06:00:00.1234Z",
		"2026-11-02T06:00:00Zjunk", "2026-11-02 ", "2026-11-02x",
		"2026-11-02T06:00:00.000Z ", " 2026-11-02",
		"2026-11-02T06:00:00+01:00", "2026-11-02T06:00:00-00:00", "2026-11-02T06:00:00+00",
		"2026-11-02t06:00:00z", "2026-11-02 06:00:00Z", "2026-11-02T6:00Z",
		"2026-11-02T06:00:0Z", "+2026-11-02", "2026-11-02T06:00:00.000+00:00x",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int64_t t_ms = 42;
		if (timefmt_parse_iso8601(invalid[i], &t_ms) != -EINVAL)
			fail_msg("accepted \"%s\"", invalid[i]);
		assert_int_equal(t_ms, 42);   /* untouched on failure */
	}
	int64_t t_ms = 0;
	assert_int_equal(timefmt_parse_iso8601(NULL, &t_ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known_times),
		cmocka_unit_test(test_parse_known_times),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_extreme_values_fit),
		cmocka_unit_test(test_parse_accepted_forms),
		cmocka_unit_test(test_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
