/* test_number.c — numbers as the payloads and the store print them: the
 * fewest of 15 to 17 digits that read back exactly, whole numbers by a
 * short path that must print what "%.15g" prints. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "number.h"

/* What number.c did before it had a path of its own for whole numbers. */
static void reference(double value, char out[NUMBER_TEXT_SIZE])
{
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(out, NUMBER_TEXT_SIZE, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			return;
	}
}

static void expect_as_reference(double value)
{
	char got[NUMBER_TEXT_SIZE], want[NUMBER_TEXT_SIZE];
	number_format_double(value, got);
	reference(value, want);
	if (strcmp(got, want) != 0)
		fail_msg("%.17g: got \"%s\", want \"%s\"", value, got, want);
}

static void test_whole_numbers(void **state)
{
	(void)state;
	static const double values[] = {
		0, 1, -1, 9, 10, 99, 100, 12345, -12345, 1e14, 999999999999999.0, -999999999999999.0,
		/* At and past 10^15 "%.15g" writes an exponent: the long way. */
		1e15, -1e15, 1e16, 123456789012345678.0, 9007199254740992.0,
	};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		expect_as_reference(values[i]);
	for (int64_t n = -100000; n <= 100000; n += 7)
		expect_as_reference((double)n);
	char out[NUMBER_TEXT_SIZE];
	number_format_double(42, out);
	assert_string_equal(out, "42");
	number_format_double(-7, out);
	assert_string_equal(out, "-7");
}

static void test_other_numbers(void **state)
{
	(void)state;
	static const double values[] = { -0.0, 0.1, 1536.6, -3.25, 1e-300, 0.30000000000000004, 1.0 / 3, 2.5e20, 1e15 + 0.5 };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		expect_as_reference(values[i]);
	char out[NUMBER_TEXT_SIZE];
	number_format_double(-0.0, out);
	assert_string_equal(out, "-0");
	number_format_double(1536.6, out);
	assert_string_equal(out, "1536.6");
	for (int i = 0; i < 100000; i++) {
		double value = (i - 50000) / 10.0 + i * 1e-7;
		expect_as_reference(value);
		char text[NUMBER_TEXT_SIZE];
		number_format_double(value, text);
		assert_true(strtod(text, NULL) == value);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_numbers),
		cmocka_unit_test(test_other_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
