/* sim_calendar.c — see sim_calendar.h. */
#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "sim_calendar.h"

static int64_t year_of(int64_t day)
{
	int64_t year;
	int month, day_of_month;
	calendar_civil_from_days(day, &year, &month, &day_of_month);
	return year;
}

static int64_t last_sunday(int64_t year, int month, int last_day_of_month)
{
	int64_t last = calendar_days_from_civil(year, month, last_day_of_month);
	return last - calendar_weekday(last);
}

int64_t sim_calendar_offset_ms(int64_t utc_ms)
{
	int64_t year = year_of(calendar_floor_divide(utc_ms, SIM_CALENDAR_MS_PER_DAY));
	int64_t summer_start = last_sunday(year, 3, 31) * SIM_CALENDAR_MS_PER_DAY + SIM_CALENDAR_MS_PER_HOUR;
	int64_t summer_end = last_sunday(year, 10, 31) * SIM_CALENDAR_MS_PER_DAY + SIM_CALENDAR_MS_PER_HOUR;
	return utc_ms >= summer_start && utc_ms < summer_end ? 2 * SIM_CALENDAR_MS_PER_HOUR : SIM_CALENDAR_MS_PER_HOUR;
}

int64_t sim_calendar_local_ms(int64_t utc_ms)
{
	return utc_ms + sim_calendar_offset_ms(utc_ms);
}

int64_t sim_calendar_easter(int64_t year)
{
	/* The anonymous Gregorian algorithm (Meeus, Astronomical Algorithms,
	 * ch. 8): integer steps only, valid for every Gregorian year.  Written
	 * for years >= 0, where C's division truncates as the algorithm means. */
	int64_t a = year % 19;
	int64_t b = year / 100, c = year % 100;
	int64_t d = b / 4, e = b % 4;
	int64_t f = (b + 8) / 25;
	int64_t g = (b - f + 1) / 3;
	int64_t h = (19 * a + b - d - g + 15) % 30;
	int64_t i = c / 4, k = c % 4;
	int64_t l = (32 + 2 * e + 2 * i - h - k) % 7;
	int64_t m = (a + 11 * h + 22 * l) / 451;
	int month = (int)((h + l - 7 * m + 114) / 31);
	int day = (int)((h + l - 7 * m + 114) % 31 + 1);
	return calendar_days_from_civil(year, month, day);
}

/* The day of weekday (0 = Sunday) in [first, first + 6]. */
static int64_t weekday_from(int64_t first, int weekday)
{
	return first + (weekday - calendar_weekday(first) + 7) % 7;
}

const char *sim_calendar_holiday(int64_t day)
{
	int64_t year;
	int month, day_of_month;
	calendar_civil_from_days(day, &year, &month, &day_of_month);

	static const struct {
		int month, day;
		const char *name;
	} fixed[] = {
		{ 1, 1, "nyårsdagen" },     { 1, 6, "trettondedag jul" }, { 5, 1, "första maj" },
		{ 6, 6, "nationaldagen" },  { 12, 24, "julafton" },       { 12, 25, "juldagen" },
		{ 12, 26, "annandag jul" }, { 12, 31, "nyårsafton" },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].month == month && fixed[i].day == day_of_month)
			return fixed[i].name;

	if (year < 0)
		return NULL;   /* the Easter algorithm is written for years >= 0 */
	int64_t easter = sim_calendar_easter(year);
	static const struct {
		int from_easter;
		const char *name;
	} moving[] = {
		{ -2, "långfredagen" }, { 0, "påskdagen" }, { 1, "annandag påsk" },
		{ 39, "Kristi himmelsfärdsdag" }, { 49, "pingstdagen" },
	};
	for (size_t i = 0; i < sizeof(moving) / sizeof(moving[0]); i++)
		if (day == easter + moving[i].from_easter)
			return moving[i].name;

	int64_t midsummer_eve = weekday_from(calendar_days_from_civil(year, 6, 19), 5);
	if (day == midsummer_eve)
		return "midsommarafton";
	if (day == midsummer_eve + 1)
		return "midsommardagen";
	if (day == weekday_from(calendar_days_from_civil(year, 10, 31), 6))
		return "alla helgons dag";
	return NULL;
}
