/* timefmt.c — the two time formats of the interface (see timefmt.h).
 *
 * Calendar arithmetic is done here, on int64 day numbers, rather than with
 * gmtime_r/timegm: those work on time_t and struct tm, which normalise out of
 * range fields (Feb 30 → Mar 2) where a strict parser has to refuse them, and
 * nothing here should depend on the TZ environment. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "timefmt.h"

#define MS_PER_SECOND INT64_C(1000)
#define SECONDS_PER_DAY INT64_C(86400)

void timefmt_rfc3339(int64_t t_ms, char out[TIMEFMT_RFC3339_SIZE])
{
	int64_t seconds = calendar_floor_divide(t_ms, MS_PER_SECOND);
	/* Not t_ms - seconds * 1000: for INT64_MIN that product overflows. */
	int64_t milliseconds = t_ms % MS_PER_SECOND;
	if (milliseconds < 0)
		milliseconds += MS_PER_SECOND;
	int64_t days = calendar_floor_divide(seconds, SECONDS_PER_DAY);
	int64_t second_of_day = seconds - days * SECONDS_PER_DAY;
	int64_t year;
	int month, day;
	calendar_civil_from_days(days, &year, &month, &day);
	if (year >= 0 && year <= 9999) {
		/* Every time a gateway stamps: by hand, as snprintf costs some
		 * 4,000 instructions a message. */
		int fields[7] = { (int)year, month, day, (int)(second_of_day / 3600), (int)(second_of_day / 60 % 60),
		                  (int)(second_of_day % 60), (int)milliseconds };
		static const char layout[] = "YYYY-MM-DDThh:mm:ss.fffZ";
		static const struct { int at, width; } places[7] = {
			{ 0, 4 }, { 5, 2 }, { 8, 2 }, { 11, 2 }, { 14, 2 }, { 17, 2 }, { 20, 3 },
		};
		memcpy(out, layout, sizeof(layout));
		for (int i = 0; i < 7; i++)
			for (int digit = places[i].width - 1, value = fields[i]; digit >= 0; digit--, value /= 10)
				out[places[i].at + digit] = (char)('0' + value % 10);
		return;
	}
	/* Even INT64_MIN ms (year -292275055) fits: at most 30 characters.
	 * Should that ever be wrong, an empty string is better than a time cut
	 * short that still looks like one. */
	int length = snprintf(out, TIMEFMT_RFC3339_SIZE,
	                      "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day,
	                      (int)(second_of_day / 3600), (int)(second_of_day / 60 % 60),
	                      (int)(second_of_day % 60), (int)milliseconds);
	if (length < 0 || length >= TIMEFMT_RFC3339_SIZE)
		out[0] = '\0';
}

static bool is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* Read exactly count decimal digits at *cursor and advance past them. */
static bool parse_digits(const char **cursor, int count, int *value)
{
	int result = 0;
	for (int i = 0; i < count; i++) {
		char digit = (*cursor)[i];
		if (digit < '0' || digit > '9')
			return false;
		result = result * 10 + (digit - '0');
	}
	*cursor += count;
	*value = result;
	return true;
}

static bool parse_literal(const char **cursor, char expected)
{
	if (**cursor != expected)
		return false;
	(*cursor)++;
	return true;
}

int timefmt_parse_iso8601(const char *text, int64_t *t_ms)
{
	if (text == NULL || t_ms == NULL)
		return -EINVAL;
	const char *cursor = text;
	int year, month, day, hour = 0, minute = 0, second = 0, millisecond = 0;

	if (!parse_digits(&cursor, 4, &year) || !parse_literal(&cursor, '-') ||
	    !parse_digits(&cursor, 2, &month) || !parse_literal(&cursor, '-') ||
	    !parse_digits(&cursor, 2, &day))
		return -EINVAL;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return -EINVAL;

	if (*cursor != '\0') {
		if (!parse_literal(&cursor, 'T') || !parse_digits(&cursor, 2, &hour) ||
		    !parse_literal(&cursor, ':') || !parse_digits(&cursor, 2, &minute))
			return -EINVAL;
		if (parse_literal(&cursor, ':')) {
			if (!parse_digits(&cursor, 2, &second))
				return -EINVAL;
			if (parse_literal(&cursor, '.')) {
				/* One to three digits: a finer fraction would be
				 * silently dropped, so it is refused instead. */
				int digits = 0;
				while (digits < 3 && cursor[digits] >= '0' && cursor[digits] <= '9')
					digits++;
				if (digits == 0 || !parse_digits(&cursor, digits, &millisecond))
					return -EINVAL;
				for (int i = digits; i < 3; i++)
					millisecond *= 10;
			}
		}
		/* A time without a zone would be local time: refused, not guessed. */
		if (*cursor == 'Z')
			cursor++;
		else if (cursor[0] == '+' && cursor[1] == '0' && cursor[2] == '0' && cursor[3] == ':' &&
		         cursor[4] == '0' && cursor[5] == '0')
			cursor += 6;
		else
			return -EINVAL;
		/* Leap seconds (:60) are refused: Unix time has no place for them. */
		if (hour > 23 || minute > 59 || second > 59 || *cursor != '\0')
			return -EINVAL;
	}

	int64_t days = calendar_days_from_civil(year, month, day);
	*t_ms = ((days * SECONDS_PER_DAY) + hour * 3600 + minute * 60 + second) * MS_PER_SECOND +
	        millisecond;
	return 0;
}
