/* store_response.c — see store_response.h.
 *
 * An HTTP date is read by hand and counted with calendar.h rather than
 * with strptime and timegm: strptime's day and month names follow the
 * locale, and time_t is still 32 bits on some of the boards a gateway runs
 * on, where a date past 2038 would wrap instead of being capped. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "calendar.h"
#include "store_response.h"

#define SECONDS_PER_DAY INT64_C(86400)

/* The longest Retry-After worth reading: an RFC 850 date is 30 bytes. */
#define RETRY_AFTER_MAX_LENGTH 63

struct http_date {
	int64_t year;
	int month;
	int day;
	int hour;
	int minute;
	int second;
};

static const char *const short_weekdays[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const long_weekdays[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
	                                     "Friday", "Saturday", "Sunday" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Read exactly count decimal digits at *cursor and advance past them. */
static bool read_digits(const char **cursor, int count, int *value)
{
	int result = 0;
	for (int i = 0; i < count; i++) {
		if (!is_digit((*cursor)[i]))
			return false;
		result = result * 10 + ((*cursor)[i] - '0');
	}
	*cursor += count;
	*value = result;
	return true;
}

static bool read_literal(const char **cursor, const char *literal)
{
	size_t length = strlen(literal);
	if (strncmp(*cursor, literal, length) != 0)
		return false;
	*cursor += length;
	return true;
}

/* Advance past the one of names that *cursor starts with; *index is its
 * place in names.  HTTP dates are case-sensitive. */
static bool read_name(const char **cursor, const char *const *names, int count, int *index)
{
	for (int i = 0; i < count; i++)
		if (read_literal(cursor, names[i])) {
			*index = i;
			return true;
		}
	return false;
}

static bool read_weekday(const char **cursor, const char *const *names)
{
	int weekday;
	/* Only checked to be a day's name: a weekday that does not match the
	 * date is the sender's slip, and the date still says when. */
	return read_name(cursor, names, 7, &weekday);
}

static bool read_month(const char **cursor, int *month)
{
	if (!read_name(cursor, months, 12, month))
		return false;
	(*month)++;
	return true;
}

static bool read_time_of_day(const char **cursor, struct http_date *date)
{
	return read_digits(cursor, 2, &date->hour) && read_literal(cursor, ":") &&
	       read_digits(cursor, 2, &date->minute) && read_literal(cursor, ":") &&
	       read_digits(cursor, 2, &date->second);
}

/* IMF-fixdate, the form senders must use: "Sun, 06 Nov 1994 08:49:37 GMT". */
static bool read_imf_fixdate(const char *text, struct http_date *date)
{
	const char *cursor = text;
	int year;
	if (!(read_weekday(&cursor, short_weekdays) && read_literal(&cursor, ", ") &&
	      read_digits(&cursor, 2, &date->day) && read_literal(&cursor, " ") &&
	      read_month(&cursor, &date->month) && read_literal(&cursor, " ") &&
	      read_digits(&cursor, 4, &year) && read_literal(&cursor, " ") &&
	      read_time_of_day(&cursor, date) && read_literal(&cursor, " GMT")))
		return false;
	date->year = year;
	return *cursor == '\0';
}

/* RFC 9110 5.6.7: a two-digit year that would be more than 50 years ahead
 * is the most recent past year with those digits; so the year is the one
 * in the hundred that ends 50 years from now. */
static int64_t full_year(int two_digits, int64_t now_s)
{
	int64_t this_year;
	int month, day;
	calendar_civil_from_days(calendar_floor_divide(now_s, SECONDS_PER_DAY), &this_year, &month, &day);
	int64_t year = calendar_floor_divide(this_year, 100) * 100 + two_digits;
	if (year > this_year + 50)
		year -= 100;
	else if (year <= this_year - 50)
		year += 100;
	return year;
}

/* Obsolete RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". */
static bool read_rfc850_date(const char *text, int64_t now_s, struct http_date *date)
{
	const char *cursor = text;
	int two_digit_year;
	if (!(read_weekday(&cursor, long_weekdays) && read_literal(&cursor, ", ") &&
	      read_digits(&cursor, 2, &date->day) && read_literal(&cursor, "-") &&
	      read_month(&cursor, &date->month) && read_literal(&cursor, "-") &&
	      read_digits(&cursor, 2, &two_digit_year) && read_literal(&cursor, " ") &&
	      read_time_of_day(&cursor, date) && read_literal(&cursor, " GMT")))
		return false;
	date->year = full_year(two_digit_year, now_s);
	return *cursor == '\0';
}

/* Obsolete asctime: "Sun Nov  6 08:49:37 1994", the day padded with a space. */
static bool read_asctime_date(const char *text, struct http_date *date)
{
	const char *cursor = text;
	int year;
	if (!(read_weekday(&cursor, short_weekdays) && read_literal(&cursor, " ") &&
	      read_month(&cursor, &date->month) && read_literal(&cursor, " ")))
		return false;
	bool day_read = read_literal(&cursor, " ") ? read_digits(&cursor, 1, &date->day)
	                                           : read_digits(&cursor, 2, &date->day);
	if (!(day_read && read_literal(&cursor, " ") && read_time_of_day(&cursor, date) &&
	      read_literal(&cursor, " ") && read_digits(&cursor, 4, &year)))
		return false;
	date->year = year;
	return *cursor == '\0';
}

/* The date as seconds since the epoch, or -EINVAL for a day that does not
 * exist (31 Feb), a time past 23:59:60, or a year an HTTP date cannot
 * write (four digits; a two-digit year taken from an absurd clock could
 * otherwise overflow the seconds). */
static int http_date_seconds(const struct http_date *date, int64_t *seconds)
{
	if (date->hour > 23 || date->minute > 59 || date->second > 60 || date->year < 0 || date->year > 9999)
		return -EINVAL;
	int64_t days = calendar_days_from_civil(date->year, date->month, date->day);
	/* A day past the month's end comes back as another date. */
	int64_t year;
	int month, day;
	calendar_civil_from_days(days, &year, &month, &day);
	if (year != date->year || month != date->month || day != date->day)
		return -EINVAL;
	*seconds = days * SECONDS_PER_DAY + date->hour * 3600 + date->minute * 60 + date->second;
	return 0;
}

static int64_t clamp_wait(int64_t seconds)
{
	return seconds < 1 ? 1 : seconds > STORE_RETRY_AFTER_MAX_S ? STORE_RETRY_AFTER_MAX_S : seconds;
}

/* delta-seconds: digits alone.  Past the cap the number is not read on,
 * so no count of digits can overflow. */
static int read_delta_seconds(const char *text, int64_t *wait_s)
{
	if (!is_digit(text[0]))
		return -EINVAL;
	int64_t seconds = 0;
	for (const char *cursor = text; *cursor; cursor++) {
		if (!is_digit(*cursor))
			return -EINVAL;
		if (seconds <= STORE_RETRY_AFTER_MAX_S)
			seconds = seconds * 10 + (*cursor - '0');
	}
	*wait_s = clamp_wait(seconds);
	return 0;
}

static int64_t wait_until(int64_t date_s, int64_t now_s)
{
	/* Compared before subtracting: now_s comes from outside and
	 * date_s - now_s could overflow. */
	if (now_s >= date_s)
		return 1;
	if (now_s < date_s - STORE_RETRY_AFTER_MAX_S)
		return STORE_RETRY_AFTER_MAX_S;
	return clamp_wait(date_s - now_s);
}

static int parse_retry_after(const char *header, int64_t now_s, int64_t *wait_s)
{
	if (header == NULL)
		return -ENOENT;
	/* The value without the optional whitespace around it. */
	while (*header == ' ' || *header == '\t')
		header++;
	size_t length = strlen(header);
	while (length > 0 && (header[length - 1] == ' ' || header[length - 1] == '\t'))
		length--;
	if (length == 0 || length > RETRY_AFTER_MAX_LENGTH)
		return -EINVAL;
	char value[RETRY_AFTER_MAX_LENGTH + 1];
	memcpy(value, header, length);
	value[length] = '\0';

	if (read_delta_seconds(value, wait_s) == 0)
		return 0;
	struct http_date date = { 0 };
	if (!read_imf_fixdate(value, &date) && !read_rfc850_date(value, now_s, &date) &&
	    !read_asctime_date(value, &date))
		return -EINVAL;
	int64_t date_s;
	if (http_date_seconds(&date, &date_s) < 0)
		return -EINVAL;
	*wait_s = wait_until(date_s, now_s);
	return 0;
}

/* InfluxDB 1.x ends a partial write's message with " dropped=N"; the last
 * one is taken because the message may quote a refused line that itself
 * holds "dropped=". */
static long parse_dropped(const char *body)
{
	static const char key[] = "dropped=";
	long dropped = -1;
	if (body == NULL)
		return dropped;
	for (const char *found = strstr(body, key); found; found = strstr(found + 1, key)) {
		const char *digit = found + strlen(key);
		if (!is_digit(*digit))
			continue;
		long value = 0;
		for (; is_digit(*digit); digit++) {
			int next = *digit - '0';
			value = value > (LONG_MAX - next) / 10 ? LONG_MAX : value * 10 + next;
		}
		dropped = value;
	}
	return dropped;
}

struct store_decision store_classify(const struct store_answer *answer)
{
	struct store_decision decision = {
		.verdict = STORE_BACK_OFF,
		.reason = STORE_REASON_NETWORK,
		.wait_s = 0,
		.dropped = -1,
	};
	if (answer == NULL || !answer->transport_ok)
		return decision;
	decision.dropped = parse_dropped(answer->body);

	long status = answer->status;
	if (status >= 200 && status <= 299) {
		decision.verdict = STORE_DONE;
		decision.reason = STORE_REASON_STORED;
	} else if (status == 400 || status == 422) {
		decision.verdict = STORE_SPLIT;
		decision.reason = STORE_REASON_BAD_LINES;
	} else if (status == 413) {
		decision.verdict = STORE_SPLIT;
		decision.reason = STORE_REASON_TOO_LARGE;
	} else if (status == 429 || status == 503) {
		decision.reason = STORE_REASON_BUSY;
		/* A Retry-After that cannot be read is no instruction: the
		 * store is still busy, so back off as without one. */
		if (parse_retry_after(answer->retry_after, answer->now_s, &decision.wait_s) == 0)
			decision.verdict = STORE_WAIT_UNTIL;
	} else if (status == 401 || status == 403) {
		decision.reason = STORE_REASON_CREDENTIALS;
	} else if (status == 404) {
		decision.reason = STORE_REASON_NOT_FOUND;
	} else if (status >= 500 && status <= 599) {
		decision.reason = STORE_REASON_SERVER;
	} else {
		decision.reason = STORE_REASON_UNEXPECTED;
	}
	return decision;
}

const char *store_reason_text(enum store_reason reason)
{
	switch (reason) {
	case STORE_REASON_STORED:
		return "stored";
	case STORE_REASON_BAD_LINES:
		return "refused lines in the batch";
	case STORE_REASON_TOO_LARGE:
		return "found the batch too large";
	case STORE_REASON_BUSY:
		return "is busy";
	case STORE_REASON_CREDENTIALS:
		return "refused the credentials";
	case STORE_REASON_NOT_FOUND:
		return "has no such database or bucket";
	case STORE_REASON_SERVER:
		return "had a server error";
	case STORE_REASON_UNEXPECTED:
		return "answered unexpectedly";
	case STORE_REASON_NETWORK:
		return "did not answer";
	}
	/* A value outside the enum still gets words, not NULL in a printf. */
	return "answered unexpectedly";
}

bool store_reason_needs_operator(enum store_reason reason)
{
	return reason == STORE_REASON_CREDENTIALS || reason == STORE_REASON_NOT_FOUND ||
	       reason == STORE_REASON_UNEXPECTED;
}

static bool is_blank(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

static bool is_continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* The length of text[0..length) without a UTF-8 character cut short at its
 * end: by the cut here, or by whoever cut the body before.  Invalid bytes
 * are left as they are. */
static size_t without_partial_character(const char *text, size_t length)
{
	size_t start = length;
	for (int back = 0; back < 3 && start > 0 && is_continuation((unsigned char)text[start - 1]); back++)
		start--;
	if (start == 0)
		return length;
	unsigned char lead = (unsigned char)text[start - 1];
	size_t expected = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return length - (start - 1) < expected ? start - 1 : length;
}

char *store_body_for_log(const char *body, char *out, size_t out_size)
{
	if (out == NULL || out_size == 0)
		return out;
	size_t capacity = out_size - 1;
	size_t length = 0;
	bool space_pending = false;
	bool cut = false;
	for (const unsigned char *cursor = (const unsigned char *)(body ? body : ""); *cursor; cursor++) {
		if (is_blank(*cursor)) {
			space_pending = length > 0;
			continue;
		}
		if (space_pending && length < capacity)
			out[length++] = ' ';
		space_pending = false;
		if (length == capacity) {
			cut = true;
			break;
		}
		out[length++] = (char)*cursor;
	}
	if (cut)
		length = capacity < 3 ? 0 : capacity - 3;
	length = without_partial_character(out, length);
	if (length > 0 && out[length - 1] == ' ')
		length--;
	if (cut) {
		/* As many dots as fit: out_size 2 or 3 still shows it was cut. */
		size_t dots = capacity - length < 3 ? capacity - length : 3;
		memcpy(out + length, "...", dots);
		length += dots;
	}
	out[length] = '\0';
	return out;
}
