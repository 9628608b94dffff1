/* sim_test_support.h — what the sim driver's unit tests (test_sim*.c)
 * share: a UTC time in milliseconds, a text written to a temporary file,
 * and a profiles file with one district "Test" whose values a test
 * chooses.  Static inline, so each test program takes what it uses and
 * nothing is linked.  The caller owns each file it asked for and unlinks
 * it; nothing here keeps a pointer. */
#ifndef TRYGGD_TEST_SIM_SUPPORT_H
#define TRYGGD_TEST_SIM_SUPPORT_H

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

#define SIM_TEST_FLAT_HOURS "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"

/* Unix milliseconds of a time written in UTC. */
static inline int64_t utc_ms(int year, int month, int day, int hour, int minute)
{
	struct tm fields = {
		.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = hour, .tm_min = minute,
	};
	return (int64_t)timegm(&fields) * 1000;
}

/* text into a new temporary file, its name in path; caller unlinks it. */
static inline void write_file(char *path, size_t path_size, const char *text)
{
	snprintf(path, path_size, "/tmp/test_sim_XXXXXX");
	int descriptor = mkstemp(path);
	assert_true(descriptor >= 0);
	assert_true(write(descriptor, text, strlen(text)) == (ssize_t)strlen(text));
	assert_int_equal(close(descriptor), 0);
}

/* The keys of district "Test" (sim_profile.h says what each means). */
struct sim_test_profile {
	double footfall_per_hour;
	const char *weekday_hours, *weekend_hours;   /* 24 weights */
	double saturday_factor, sunday_factor, dark_factor, day_variation, in_share;
	double night_lux, cloudiness, lamp_fault_per_night;
	const char *extra;                     /* more lines as they are, each with its '\n' */
};

/* 3600 an hour, flat all week, the same after dark and every day, no
 * lamp faults. */
static inline struct sim_test_profile sim_test_profile(void)
{
	return (struct sim_test_profile){
		.footfall_per_hour = 3600, .weekday_hours = SIM_TEST_FLAT_HOURS, .weekend_hours = SIM_TEST_FLAT_HOURS,
		.saturday_factor = 1, .sunday_factor = 1, .dark_factor = 1, .day_variation = 0, .in_share = 0.5,
		.night_lux = 1, .cloudiness = 0.5, .lamp_fault_per_night = 0, .extra = "",
	};
}

/* profile as a profiles file, its name in path. */
static inline void sim_test_write_profile(char *path, size_t path_size, const struct sim_test_profile *profile)
{
	char *text = NULL;
	assert_true(asprintf(&text,
	                     "[Test]\n"
	                     "footfall_per_hour = %g\n"
	                     "weekday_hours = %s\n"
	                     "weekend_hours = %s\n"
	                     "saturday_factor = %g\n"
	                     "sunday_factor = %g\n"
	                     "dark_factor = %g\n"
	                     "day_variation = %g\n"
	                     "in_share = %g\n"
	                     "night_lux = %g\n"
	                     "cloudiness = %g\n"
	                     "lamp_fault_per_night = %g\n"
	                     "%s",
	                     profile->footfall_per_hour, profile->weekday_hours, profile->weekend_hours,
	                     profile->saturday_factor, profile->sunday_factor, profile->dark_factor,
	                     profile->day_variation, profile->in_share, profile->night_lux, profile->cloudiness,
	                     profile->lamp_fault_per_night, profile->extra) >= 0);
	write_file(path, path_size, text);
	free(text);
}

#endif
