/* test_window_resume.c — a window a stop cut short, recorded in SQLite and
 * taken up by a start within the same window: the one point of that window
 * holds both parts, exactly as if nothing had stopped; any other start
 * leaves it alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "window.h"
#include "window_resume.h"

#define S 1000
#define MIN (60 * S)
#define T0 (1793599200000)   /* a window start, 15-minute aligned */

static sqlite3 *open_database(void)
{
	sqlite3 *database = NULL;
	assert_int_equal(sqlite3_open(":memory:", &database), SQLITE_OK);
	assert_int_equal(window_resume_open(database), 0);
	return database;
}

/* Light read every 10 s from t_from to t_to (exclusive), lux rising by 1. */
static void read_light(struct window *w, int64_t from_ms, int64_t to_ms, double *lux)
{
	for (int64_t t = from_ms; t < to_ms; t += 10 * S) {
		window_add_light(w, t, 10 * S, *lux, *lux < 10);
		*lux += 1;
	}
}

/* Stopped at +4 min, started again at +6 min: the window's point holds
 * both parts: samples, coverage, lux min/mean/max and dark seconds as one
 * run that did not read from +4 to +6 min would give. */
static void test_light_resumed_equals_one_run_with_a_gap(void **unused)
{
	(void)unused;
	sqlite3 *database = open_database();
	struct window first, second, whole;
	struct window_result cut_result, resumed, reference;
	double lux = 0, lux_whole = 0;

	window_init(&first, SENSOR_LIGHT, 15 * MIN, T0);
	read_light(&first, T0, T0 + 4 * MIN, &lux);
	window_cut(&first, T0 + 4 * MIN);
	assert_int_equal(window_resume_save(database, "ljus", &first, T0 + 4 * MIN), 0);
	window_close(&first, &cut_result);
	assert_true(cut_result.coverage > 0.26 && cut_result.coverage < 0.27);

	lux += 12;   /* what the two stopped minutes would have read */
	window_init(&second, SENSOR_LIGHT, 15 * MIN, T0 + 6 * MIN);
	bool taken = false;
	assert_int_equal(window_resume_take(database, "ljus", &second, T0 + 6 * MIN, &taken), 0);
	assert_true(taken);
	read_light(&second, T0 + 6 * MIN, T0 + 15 * MIN, &lux);
	window_close(&second, &resumed);

	window_init(&whole, SENSOR_LIGHT, 15 * MIN, T0);
	read_light(&whole, T0, T0 + 4 * MIN, &lux_whole);
	lux_whole += 12;
	read_light(&whole, T0 + 6 * MIN, T0 + 15 * MIN, &lux_whole);
	window_close(&whole, &reference);

	assert_int_equal(resumed.samples, 24 + 54);
	assert_int_equal(resumed.samples, reference.samples);
	assert_true(resumed.coverage == reference.coverage);
	assert_true(resumed.coverage > 0.86 && resumed.coverage < 0.87);
	assert_true(resumed.lux_min == reference.lux_min);
	assert_true(resumed.lux_max == reference.lux_max);
	assert_true(resumed.lux_mean == reference.lux_mean);
	assert_int_equal(resumed.dark_s, reference.dark_s);
	assert_int_equal(resumed.dark_s, 100);
	assert_true(resumed.lux_min == 0);
	sqlite3_close(database);
}

static void test_footfall_and_lamp_sums(void **unused)
{
	(void)unused;
	sqlite3 *database = open_database();
	struct window passes, lamp;
	struct window_result result;
	bool taken;

	window_init(&passes, SENSOR_FOOTFALL, 15 * MIN, T0);
	window_add_footfall(&passes, T0, MIN, 7, true, 4, 3);
	window_add_footfall(&passes, T0 + MIN, MIN, 2, true, 1, 1);
	window_cut(&passes, T0 + 2 * MIN);
	assert_int_equal(window_resume_save(database, "passage", &passes, T0 + 2 * MIN), 0);
	window_init(&lamp, SENSOR_LAMP, 15 * MIN, T0);
	window_add_lamp(&lamp, T0, 2 * MIN, true, false);
	window_add_lamp(&lamp, T0 + 2 * MIN, MIN, false, true);
	window_cut(&lamp, T0 + 3 * MIN);
	assert_int_equal(window_resume_save(database, "lampa", &lamp, T0 + 3 * MIN), 0);

	window_init(&passes, SENSOR_FOOTFALL, 15 * MIN, T0 + 5 * MIN);
	assert_int_equal(window_resume_take(database, "passage", &passes, T0 + 5 * MIN, &taken), 0);
	assert_true(taken);
	window_add_footfall(&passes, T0 + 5 * MIN, 10 * MIN, 5, true, 5, 0);
	window_close(&passes, &result);
	assert_int_equal(result.count, 14);
	assert_int_equal(result.in, 10);
	assert_int_equal(result.out, 4);
	assert_int_equal(result.samples, 3);
	assert_true(result.coverage > 0.79 && result.coverage < 0.81);   /* 12 of 15 minutes */

	window_init(&lamp, SENSOR_LAMP, 15 * MIN, T0 + 4 * MIN);
	assert_int_equal(window_resume_take(database, "lampa", &lamp, T0 + 4 * MIN, &taken), 0);
	assert_true(taken);
	window_add_lamp(&lamp, T0 + 4 * MIN, 11 * MIN, true, false);
	window_close(&lamp, &result);
	assert_int_equal(result.on_s, 2 * 60 + 11 * 60);
	assert_int_equal(result.fault_s, 60);
	assert_int_equal(result.samples, 3);
	sqlite3_close(database);
}

/* Taken only by the same sensor, type, window and length, at or after the
 * cut: anything else leaves the open window as it was. */
static void test_only_the_same_window_after_the_cut(void **unused)
{
	(void)unused;
	sqlite3 *database = open_database();
	struct window cut, open;
	bool taken = true;
	window_init(&cut, SENSOR_FOOTFALL, 15 * MIN, T0);
	window_add_footfall(&cut, T0, MIN, 9, false, 0, 0);
	window_cut(&cut, T0 + 3 * MIN);
	assert_int_equal(window_resume_save(database, "passage", &cut, T0 + 3 * MIN), 0);

	struct {
		const char *sensor;
		enum sensor_type type;
		int64_t length_ms, now_ms;
	} others[] = {
		{ "annan", SENSOR_FOOTFALL, 15 * MIN, T0 + 5 * MIN },       /* another sensor */
		{ "passage", SENSOR_LIGHT, 15 * MIN, T0 + 5 * MIN },        /* type changed */
		{ "passage", SENSOR_FOOTFALL, 5 * MIN, T0 + 4 * MIN },      /* window length changed */
		{ "passage", SENSOR_FOOTFALL, 15 * MIN, T0 + 16 * MIN },    /* the next window */
		{ "passage", SENSOR_FOOTFALL, 15 * MIN, T0 + 2 * MIN },     /* before the cut: a run again */
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		window_init(&open, others[i].type, others[i].length_ms, others[i].now_ms);
		assert_int_equal(window_resume_take(database, others[i].sensor, &open, others[i].now_ms, &taken), 0);
		assert_false(taken);
		assert_int_equal(open.count, 0);
		assert_int_equal(open.covered_ms, 0);
	}
	/* Forgotten: not even the right start takes it any more. */
	assert_int_equal(window_resume_forget(database), 0);
	window_init(&open, SENSOR_FOOTFALL, 15 * MIN, T0 + 5 * MIN);
	assert_int_equal(window_resume_take(database, "passage", &open, T0 + 5 * MIN, &taken), 0);
	assert_false(taken);
	sqlite3_close(database);
}

/* A row changed by hand or by a bad disk is not trusted. */
static void test_insane_row_left_out(void **unused)
{
	(void)unused;
	sqlite3 *database = open_database();
	struct window cut, open;
	bool taken = true;
	window_init(&cut, SENSOR_FOOTFALL, 15 * MIN, T0);
	window_add_footfall(&cut, T0, MIN, 9, false, 0, 0);
	window_cut(&cut, T0 + MIN);
	assert_int_equal(window_resume_save(database, "passage", &cut, T0 + MIN), 0);
	assert_int_equal(sqlite3_exec(database, "UPDATE cut_window SET covered_ms = 99999999", NULL, NULL, NULL),
	                 SQLITE_OK);
	window_init(&open, SENSOR_FOOTFALL, 15 * MIN, T0 + 5 * MIN);
	assert_int_equal(window_resume_take(database, "passage", &open, T0 + 5 * MIN, &taken), 0);
	assert_false(taken);
	assert_int_equal(open.count, 0);
	sqlite3_close(database);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_light_resumed_equals_one_run_with_a_gap),
		cmocka_unit_test(test_footfall_and_lamp_sums),
		cmocka_unit_test(test_only_the_same_window_after_the_cut),
		cmocka_unit_test(test_insane_row_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
