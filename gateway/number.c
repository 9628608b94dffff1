/* number.c — see number.h. */
#include <stdio.h>
#include <stdlib.h>

#include "number.h"

void number_format_double(double value, char out[NUMBER_TEXT_SIZE])
{
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(out, NUMBER_TEXT_SIZE, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			return;
	}
}
