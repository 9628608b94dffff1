/* report_calendar.c — the report's local time: every hour of the range
 * read in Europe/Stockholm (summer time included) through the C library
 * and the system's tz database, which report.c selects with TZ before
 * anything here runs.  The store stays in UTC; Stockholm's offset is whole
 * hours, so each UTC hour the store groups by is one local hour.
 *
 * A day is a local date (23, 24 or 25 hours).  A night runs from local
 * noon to the next local noon and is named after its evening, so that one
 * night's darkness is never split over two dates.  An hour is after dark
 * when the sun, at the middle of the hour, is more than 6° below the
 * horizon at Eskilstuna (the end of civil twilight; sun.h).
 *
 * Ownership: the calendar owns its three arrays (report_calendar_free). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "report_internal.h"
#include "sun.h"

int report_local_midnight(const char *date, int64_t *ms)
{
	int year, month, day, used = 0;
	if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 || used != 10 ||
	    month < 1 || month > 12 || day < 1 || day > 31 || year < 1971 || year > 9999)
		return -EINVAL;
	int64_t civil = calendar_days_from_civil(year, month, day);
	int64_t check_year;
	int check_month, check_day;
	calendar_civil_from_days(civil, &check_year, &check_month, &check_day);
	if (check_month != month || check_day != day)
		return -EINVAL;                    /* 2026-02-30 */
	struct tm local = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_isdst = -1 };
	time_t seconds = mktime(&local);
	if (seconds == (time_t)-1)
		return -EINVAL;
	*ms = (int64_t)seconds * 1000;
	return 0;
}

int64_t report_local_noon(int64_t midnight_ms)
{
	time_t seconds = (time_t)(midnight_ms / 1000);
	struct tm local;
	localtime_r(&seconds, &local);
	local.tm_hour = 12;
	local.tm_min = local.tm_sec = 0;
	local.tm_isdst = -1;
	return (int64_t)mktime(&local) * 1000;
}

void report_local_text(int64_t ms, char out[20])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm local;
	localtime_r(&seconds, &local);
	strftime(out, 20, "%Y-%m-%d %H:%M", &local);
}

static void date_text(int64_t civil, char out[11])
{
	int64_t year;
	int month, day;
	calendar_civil_from_days(civil, &year, &month, &day);
	char text[32];
	snprintf(text, sizeof(text), "%04d-%02d-%02d", (int)(year % 10000), month % 100, day % 100);
	memcpy(out, text, 10);
	out[10] = '\0';
}

int report_calendar_build(int64_t from_ms, int64_t since_ms, int64_t until_ms, int64_t to_ms,
                          struct report_calendar *calendar)
{
	*calendar = (struct report_calendar){ 0 };
	int64_t first = calendar_floor_divide(from_ms, REPORT_HOUR_MS);
	int64_t last = calendar_floor_divide(to_ms + REPORT_HOUR_MS - 1, REPORT_HOUR_MS);
	size_t count = last > first ? (size_t)(last - first) : 0;
	time_t since_seconds = (time_t)(since_ms / 1000), until_seconds = (time_t)(until_ms / 1000);
	struct tm since_local, until_local;
	localtime_r(&since_seconds, &since_local);
	localtime_r(&until_seconds, &until_local);
	int64_t since_civil = calendar_days_from_civil(since_local.tm_year + 1900, since_local.tm_mon + 1,
	                                               since_local.tm_mday);
	int64_t until_civil = calendar_days_from_civil(until_local.tm_year + 1900, until_local.tm_mon + 1,
	                                               until_local.tm_mday);
	size_t day_count = until_civil > since_civil ? (size_t)(until_civil - since_civil) : 0;
	calendar->first_hour = first;
	calendar->hours = calloc(count ? count : 1, sizeof(*calendar->hours));
	calendar->days = calloc(day_count ? day_count : 1, sizeof(*calendar->days));
	calendar->nights = calloc(day_count ? day_count : 1, sizeof(*calendar->nights));
	if (!calendar->hours || !calendar->days || !calendar->nights) {
		report_calendar_free(calendar);
		return -ENOMEM;
	}
	calendar->hour_count = count;
	calendar->day_count = calendar->night_count = day_count;
	for (size_t i = 0; i < day_count; i++) {
		struct report_day *day = &calendar->days[i], *night = &calendar->nights[i];
		day->civil = night->civil = since_civil + (int64_t)i;
		day->weekday = night->weekday = (calendar_weekday(day->civil) + 6) % 7;
		date_text(day->civil, day->date);
		memcpy(night->date, day->date, sizeof(day->date));
		day->first_hour = night->first_hour = SIZE_MAX;
	}
	calendar->period_first = calendar->period_end = 0;
	bool period_started = false;
	for (size_t i = 0; i < count; i++) {
		struct report_hour_info *hour = &calendar->hours[i];
		hour->start_ms = (first + (int64_t)i) * REPORT_HOUR_MS;
		time_t seconds = (time_t)(hour->start_ms / 1000);
		struct tm local;
		localtime_r(&seconds, &local);
		int64_t civil = calendar_days_from_civil(local.tm_year + 1900, local.tm_mon + 1, local.tm_mday);
		hour->local_hour = (int8_t)local.tm_hour;
		hour->weekday = (int8_t)((local.tm_wday + 6) % 7);
		hour->dark = sun_elevation_degrees(SUN_ESKILSTUNA_LATITUDE, SUN_ESKILSTUNA_LONGITUDE,
		                                   hour->start_ms + REPORT_HOUR_MS / 2) < REPORT_DARK_ELEVATION;
		bool in_period = hour->start_ms >= since_ms && hour->start_ms < until_ms;
		hour->day = in_period && civil >= since_civil && civil < until_civil ? (int32_t)(civil - since_civil) : -1;
		int64_t evening = local.tm_hour >= 12 ? civil : civil - 1;
		hour->night = evening >= since_civil && evening < until_civil ? (int32_t)(evening - since_civil) : -1;
		if (in_period && !period_started) {
			calendar->period_first = i;
			period_started = true;
		}
		if (in_period)
			calendar->period_end = i + 1;
		struct report_day *targets[2] = { hour->day >= 0 ? &calendar->days[hour->day] : NULL,
		                                  hour->night >= 0 ? &calendar->nights[hour->night] : NULL };
		for (size_t t = 0; t < 2; t++) {
			if (!targets[t])
				continue;
			if (targets[t]->first_hour == SIZE_MAX)
				targets[t]->first_hour = i;
			targets[t]->hour_count++;
		}
	}
	for (size_t i = 0; i < day_count; i++) {
		if (calendar->days[i].first_hour == SIZE_MAX)
			calendar->days[i].first_hour = 0;
		if (calendar->nights[i].first_hour == SIZE_MAX)
			calendar->nights[i].first_hour = 0;
	}
	return 0;
}

void report_calendar_free(struct report_calendar *calendar)
{
	free(calendar->hours);
	free(calendar->days);
	free(calendar->nights);
	*calendar = (struct report_calendar){ 0 };
}
