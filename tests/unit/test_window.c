/* test_window.c — window alignment and the aggregation maths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "window.h"

#define S 1000
#define MIN (60 * S)

static void test_align(void **unused)
{
	(void)unused;
	assert_int_equal(window_align(0, MIN), 0);
	assert_int_equal(window_align(59999, MIN), 0);
	assert_int_equal(window_align(60000, MIN), 60000);
	assert_int_equal(window_align(1793599261234, MIN), 1793599260000);
	/* Before the epoch: still the window that holds t. */
	assert_int_equal(window_align(-1, MIN), -60000);
	assert_int_equal(window_align(-60000, MIN), -60000);
	/* A 15-minute window is aligned to the epoch, UTC, not to local hours. */
	assert_int_equal(window_align(1793599200000 + 14 * MIN, 15 * MIN), 1793599200000);
}

static void test_light_full_window(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_LIGHT, MIN, 120 * S + 3);
	assert_int_equal(w.start_ms, 120 * S);
	double lux[12] = { 20, 15, 9, 8, 30, 40, 5, 12, 11, 10, 9.5, 100 };
	int dark = 0;
	double sum = 0;
	for (int i = 0; i < 12; i++) {
		bool is_dark = lux[i] < 10;
		dark += is_dark;
		sum += lux[i];
		window_add_light(&w, 120 * S + i * 5 * S, 5 * S, lux[i], is_dark);
	}
	window_close(&w, &r);
	assert_int_equal(r.start_ms, 120 * S);
	assert_int_equal(r.end_ms, 180 * S);
	assert_int_equal(r.samples, 12);
	assert_true(r.coverage == 1.0);
	assert_true(r.lux_min == 5);
	assert_true(r.lux_max == 100);
	assert_true(r.lux_mean == sum / 12);
	assert_int_equal(r.dark_s, dark * 5);
	assert_int_equal(dark, 4);
	/* The next window is open and empty. */
	assert_int_equal(w.start_ms, 180 * S);
	assert_int_equal(w.samples, 0);
	assert_int_equal(w.covered_ms, 0);
}

static void test_interval_that_does_not_divide_the_window(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_LIGHT, MIN, 0);
	/* Samples every 7 s, all dark: 0, 7, …, 56 in the first window; the
	 * span of the one at 56 s reaches 63 s, 3 s of it into the next. */
	int64_t t = 0;
	for (; t < 60 * S; t += 7 * S)
		window_add_light(&w, t, 7 * S, 1.0, true);
	window_close(&w, &r);
	assert_int_equal(r.samples, 9);
	assert_true(r.coverage == 1.0);
	assert_int_equal(r.dark_s, 60);
	for (; t < 120 * S; t += 7 * S)
		window_add_light(&w, t, 7 * S, 1.0, true);
	window_close(&w, &r);
	assert_int_equal(r.samples, 9);     /* 63, 70, …, 119 */
	assert_true(r.coverage == 1.0);     /* 3 s carried + 8 × 7 s + 1 s of the one at 119 */
	assert_int_equal(r.dark_s, 60);
	/* The span of the sample at 119 s ends at 126 s: 6 s carried on. */
	assert_int_equal(w.covered_ms, 6 * S);
	assert_int_equal(w.dark_ms, 6 * S);
}

static void test_partial_coverage(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_LIGHT, MIN, 0);
	/* Read only in the second half of the window (started late, or a
	 * sensor that failed for half a minute). */
	for (int64_t t = 30 * S; t < 60 * S; t += 5 * S)
		window_add_light(&w, t, 5 * S, 50, false);
	window_close(&w, &r);
	assert_int_equal(r.samples, 6);
	assert_true(r.coverage == 0.5);
	assert_int_equal(r.dark_s, 0);

	/* Nothing read at all: coverage 0, no lux. */
	window_close(&w, &r);
	assert_int_equal(r.samples, 0);
	assert_true(r.coverage == 0.0);
	assert_true(r.lux_min == 0 && r.lux_max == 0 && r.lux_mean == 0);
}

static void test_interval_longer_than_the_window(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_LAMP, MIN, 0);
	/* One sample every 150 s stands for two and a half windows. */
	window_add_lamp(&w, 0, 150 * S, true, false);
	window_close(&w, &r);
	assert_true(r.coverage == 1.0);
	assert_int_equal(r.on_s, 60);
	assert_int_equal(r.samples, 1);
	window_close(&w, &r);
	assert_true(r.coverage == 1.0);
	assert_int_equal(r.on_s, 60);
	assert_int_equal(r.samples, 0);
	window_close(&w, &r);
	assert_true(r.coverage == 0.5);
	assert_int_equal(r.on_s, 30);
	window_close(&w, &r);
	assert_true(r.coverage == 0.0);
	assert_int_equal(r.on_s, 0);
}

static void test_lamp_on_and_fault(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_LAMP, MIN, 0);
	/* 12 samples: 7 lit, 3 off while dark (faults), 2 off in daylight. */
	for (int i = 0; i < 12; i++) {
		bool on = i < 7;
		bool fault = !on && i < 10;
		window_add_lamp(&w, i * 5 * S, 5 * S, on, fault);
	}
	window_close(&w, &r);
	assert_int_equal(r.on_s, 35);
	assert_int_equal(r.fault_s, 15);
	assert_int_equal(r.samples, 12);
	assert_true(r.coverage == 1.0);
}

static void test_footfall_counts(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_FOOTFALL, MIN, 0);
	uint64_t total = 0, in = 0, out = 0;
	for (int i = 0; i < 12; i++) {
		uint64_t a = (uint64_t)i % 3, b = (uint64_t)i % 2;
		window_add_footfall(&w, i * 5 * S, 5 * S, a + b, true, a, b);
		total += a + b;
		in += a;
		out += b;
	}
	window_close(&w, &r);
	assert_true(r.has_direction);
	assert_int_equal(r.count, total);
	assert_int_equal(r.in, in);
	assert_int_equal(r.out, out);
	assert_int_equal(r.count, r.in + r.out);
	assert_int_equal(r.count, 18);

	/* A counter without direction leaves in/out out. */
	window_add_footfall(&w, 60 * S, 5 * S, 4, false, 0, 0);
	window_close(&w, &r);
	assert_false(r.has_direction);
	assert_int_equal(r.count, 4);
	assert_true(r.coverage < 0.1);
}

static void test_cut_short_by_a_stop(void **unused)
{
	(void)unused;
	struct window w;
	struct window_result r;
	window_init(&w, SENSOR_LAMP, MIN, 0);
	/* Lit every 5 s from 0 to 25 s, then a stop at 27.5 s: the sample at
	 * 25 s stood for 25–30 s but the sensor was read only until 27.5 s. */
	for (int64_t t = 0; t <= 25 * S; t += 5 * S)
		window_add_lamp(&w, t, 5 * S, true, t >= 20 * S);
	window_cut(&w, 27500);
	window_close(&w, &r);
	assert_true(r.coverage == 27.5 / 60);
	assert_int_equal(r.on_s, 28);        /* 27.5 s, rounded */
	assert_int_equal(r.fault_s, 8);      /* 20–27.5 s */
	assert_int_equal(r.samples, 6);

	/* A cut at or after the last span's end takes nothing back. */
	window_init(&w, SENSOR_LIGHT, MIN, 0);
	window_add_light(&w, 0, 5 * S, 3, true);
	window_cut(&w, 5 * S);
	window_close(&w, &r);
	assert_true(r.coverage == 5.0 / 60);
	assert_int_equal(r.dark_s, 5);

	/* A span that crossed into the next window: the cut also drops the
	 * carry, since nothing was read after the stop. */
	window_init(&w, SENSOR_LIGHT, MIN, 0);
	window_add_light(&w, 55 * S, 10 * S, 3, true);
	window_cut(&w, 57 * S);
	window_close(&w, &r);
	assert_true(r.coverage == 2.0 / 60);
	assert_int_equal(r.dark_s, 2);
	assert_int_equal(w.covered_ms, 0);
	assert_int_equal(w.dark_ms, 0);

	/* A span carried into the next window is still the last one there:
	 * a cut in it takes back what lies after the cut. */
	window_init(&w, SENSOR_LIGHT, MIN, 0);
	window_add_light(&w, 56 * S, 7 * S, 3, true);    /* 56–63 s */
	window_close(&w, &r);
	assert_true(r.coverage == 4.0 / 60);
	window_cut(&w, 61 * S);
	window_close(&w, &r);
	assert_true(r.coverage == 1.0 / 60);
	assert_int_equal(r.dark_s, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_light_full_window),
		cmocka_unit_test(test_interval_that_does_not_divide_the_window),
		cmocka_unit_test(test_partial_coverage),
		cmocka_unit_test(test_interval_longer_than_the_window),
		cmocka_unit_test(test_lamp_on_and_fault),
		cmocka_unit_test(test_footfall_counts),
		cmocka_unit_test(test_cut_short_by_a_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
