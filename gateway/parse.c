/* parse.c — see parse.h. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

bool parse_integer(const char *text, long minimum, long maximum, long *out)
{
	const char *digits = text[0] == '-' ? text + 1 : text;
	if (!isdigit((unsigned char)digits[0]))
		return false;
	errno = 0;
	char *end = NULL;
	long value = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < minimum || value > maximum)
		return false;
	*out = value;
	return true;
}

bool parse_decimal(const char *text, double minimum, double *out)
{
	if (text[0] == '\0' || strspn(text, "0123456789.eE+-") != strlen(text))
		return false;
	if (!isdigit((unsigned char)text[0]) && text[0] != '.' && text[0] != '-')
		return false;
	locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return false;
	errno = 0;
	char *end = NULL;
	double value = strtod_l(text, &end, c_locale);
	int saved_errno = errno;
	freelocale(c_locale);
	if (saved_errno != 0 || *end != '\0' || !isfinite(value) || value < minimum)
		return false;
	*out = value;
	return true;
}

bool parse_boolean(const char *text, bool *out)
{
	static const char *const truths[] = { "yes", "true", "on", "1" };
	static const char *const falsehoods[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		if (strcasecmp(text, truths[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, falsehoods[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

bool parse_duration_ms(const char *text, int64_t minimum_ms, int64_t maximum_ms, int64_t *out)
{
	static const struct {
		const char *suffix;
		double ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "min", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	size_t number_length = strspn(text, "0123456789.");
	if (number_length == 0 || number_length > 31)
		return false;
	char number[32];
	memcpy(number, text, number_length);
	number[number_length] = '\0';
	double value;
	if (!parse_decimal(number, 0, &value))
		return false;
	const char *suffix = text + number_length;
	double scale = 0;
	if (*suffix == '\0')
		scale = 1000;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && scale == 0; i++)
		if (strcmp(suffix, units[i].suffix) == 0)
			scale = units[i].ms;
	if (scale == 0)
		return false;
	/* 1.001 has no exact binary form, so 1.001 x 1000 comes out a hair
	 * off 1001: whole milliseconds are those within a rounding error of
	 * one, and anything further off (0.5ms, 1.0005s) is refused. */
	double ms = value * scale;
	double whole = round(ms);
	if (fabs(ms - whole) > 1e-6 * fmax(1.0, whole) || whole < (double)minimum_ms ||
	    whole > (double)maximum_ms)
		return false;
	*out = (int64_t)whole;
	return true;
}
