/* parse.h — strict parsers for the values of configuration keys, shared by
 * the configuration and the drivers' own options.  Each accepts exactly the
 * spelling it documents and nothing else, whatever the process locale. */
#ifndef TRYGGD_PARSE_H
#define TRYGGD_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Digits with an optional minus, within [minimum, maximum]. */
bool parse_integer(const char *text, long minimum, long maximum, long *out);
/* Plain decimal (digits, '.', exponent; no hex, inf or nan), >= minimum. */
bool parse_decimal(const char *text, double minimum, double *out);
/* yes/no, true/false, on/off, 1/0 (any case). */
bool parse_boolean(const char *text, bool *out);
/* A span of time: a decimal number with an optional unit, ms, s, min, h or
 * d (no unit: seconds), e.g. "250ms", "1.5s", "90", "2h".  Whole
 * milliseconds, within [minimum_ms, maximum_ms]. */
bool parse_duration_ms(const char *text, int64_t minimum_ms, int64_t maximum_ms, int64_t *out);

#endif
