/* number.c — see number.h. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "number.h"

/* What "%.15g" prints for a whole number below 10^15 in magnitude: its
 * digits.  A count or a lamp's state is most of what is printed, and
 * snprintf with strtod to check costs some 6,000 instructions. */
static bool number_format_whole(double value, char out[NUMBER_TEXT_SIZE])
{
	if (!(fabs(value) < 1e15) || value != trunc(value) || (value == 0 && signbit(value)))
		return false;
	int64_t whole = (int64_t)value;
	uint64_t magnitude = whole < 0 ? (uint64_t)-whole : (uint64_t)whole;
	char digits[20];
	int count = 0;
	do {
		digits[count++] = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude > 0);
	char *cursor = out;
	if (whole < 0)
		*cursor++ = '-';
	while (count > 0)
		*cursor++ = digits[--count];
	*cursor = '\0';
	return true;
}

void number_format_double(double value, char out[NUMBER_TEXT_SIZE])
{
	if (number_format_whole(value, out))
		return;
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(out, NUMBER_TEXT_SIZE, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			return;
	}
}
