/* test_clock_trust.c — when the wall clock may stamp a window, and what
 * counts as a step (clock_trust.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/timex.h>

#include <cmocka.h>

#include "clock_trust.h"

#define FLOOR_MS INT64_C(1793599200000)   /* 2026-11-02T06:00:00Z */

static void test_floor(void **state)
{
	(void)state;
	/* A board that starts in 1970, or a minute before it was built. */
	assert_false(clock_trust_judge(CLOCK_TRUST_FLOOR_ONLY, FLOOR_MS, 0, TIME_OK, 0));
	assert_false(clock_trust_judge(CLOCK_TRUST_FLOOR_ONLY, FLOOR_MS, FLOOR_MS - 60000, TIME_OK, 0));
	assert_true(clock_trust_judge(CLOCK_TRUST_FLOOR_ONLY, FLOOR_MS, FLOOR_MS, TIME_OK, 0));
	/* `trusted` does not ask the kernel. */
	assert_true(clock_trust_judge(CLOCK_TRUST_FLOOR_ONLY, FLOOR_MS, FLOOR_MS + 1, TIME_ERROR, STA_UNSYNC));
	/* Synchronised but before the floor: still wrong. */
	assert_false(clock_trust_judge(CLOCK_TRUST_SYNCHRONISED, FLOOR_MS, FLOOR_MS - 1, TIME_OK, 0));
}

static void test_kernel_says(void **state)
{
	(void)state;
	int64_t now = FLOOR_MS + 86400000;
	assert_true(clock_trust_judge(CLOCK_TRUST_SYNCHRONISED, FLOOR_MS, now, TIME_OK, 0));
	assert_true(clock_trust_judge(CLOCK_TRUST_SYNCHRONISED, FLOOR_MS, now, TIME_INS, STA_PLL));
	assert_false(clock_trust_judge(CLOCK_TRUST_SYNCHRONISED, FLOOR_MS, now, TIME_OK, STA_UNSYNC));
	assert_false(clock_trust_judge(CLOCK_TRUST_SYNCHRONISED, FLOOR_MS, now, TIME_ERROR, 0));
	assert_false(clock_trust_judge(CLOCK_TRUST_SYNCHRONISED, FLOOR_MS, now, -1, 0));
}

static void test_simulated(void **state)
{
	(void)state;
	struct clock_trust trust = { .simulated = true, .synchronised_at_ms = FLOOR_MS + 600000 };
	assert_false(clock_trust_now(&trust, FLOOR_MS));
	assert_false(clock_trust_now(&trust, FLOOR_MS + 599999));
	assert_true(clock_trust_now(&trust, FLOOR_MS + 600000));
	trust.synchronised_at_ms = 0;   /* trusted from the start */
	assert_true(clock_trust_now(&trust, FLOOR_MS));
}

static void test_build_floor(void **state)
{
	(void)state;
	/* Built after this test was written (2026), before year 3000. */
	assert_true(clock_trust_build_floor_ms() > INT64_C(1700000000000));
	assert_true(clock_trust_build_floor_ms() < INT64_C(32503680000000));
}

static void test_step(void **state)
{
	(void)state;
	int64_t real = FLOOR_MS, mono = 5000;
	/* Both moved a minute: no step; drift and slewing within 2 s neither. */
	assert_int_equal(clock_trust_step_ms(real, mono, real + 60000, mono + 60000), 0);
	assert_int_equal(clock_trust_step_ms(real, mono, real + 61999, mono + 60000), 0);
	assert_int_equal(clock_trust_step_ms(real, mono, real + 58001, mono + 60000), 0);
	/* Past 2 s it is a step, of the difference. */
	assert_int_equal(clock_trust_step_ms(real, mono, real + 62000, mono + 60000), 2000);
	assert_int_equal(clock_trust_step_ms(real, mono, real + 58000, mono + 60000), -2000);
	/* An hour back between two ticks a minute apart. */
	assert_int_equal(clock_trust_step_ms(real, mono, real + 60000 - 3600000, mono + 60000), -3600000);
	/* From 1970 to 2026 (NTP's first answer). */
	assert_int_equal(clock_trust_step_ms(1000, mono, FLOOR_MS + 1000, mono + 1), FLOOR_MS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_kernel_says),
		cmocka_unit_test(test_simulated),
		cmocka_unit_test(test_build_floor),
		cmocka_unit_test(test_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
