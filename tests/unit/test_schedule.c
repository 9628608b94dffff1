/* test_schedule.c — the real and the simulated clock, on a real sd-event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "schedule.h"

#define S 1000

struct order {
	char who[4096];
	int64_t at[4096];
	size_t count;
};

struct ticker {
	struct order *order;
	char name;
	int64_t step_ms;
	int fired;
};

static int64_t ticker_fire(void *userdata, int64_t now_ms)
{
	struct ticker *ticker = userdata;
	ticker->fired++;
	if (ticker->order->count < 4096) {
		ticker->order->who[ticker->order->count] = ticker->name;
		ticker->order->at[ticker->order->count] = now_ms;
		ticker->order->count++;
	}
	return now_ms + ticker->step_ms;
}

struct simulation {
	sd_event *event;
	struct schedule *schedule;
	int ends;
	int64_t now_at_end;
	bool open;             /* backpressure gate */
	int asked;
};

static void simulation_end(void *userdata)
{
	struct simulation *simulation = userdata;
	simulation->ends++;
	simulation->now_at_end = schedule_now(simulation->schedule);
	sd_event_exit(simulation->event, 0);
}

static bool simulation_ready(void *userdata)
{
	struct simulation *simulation = userdata;
	simulation->asked++;
	return simulation->open;
}

static void test_simulated_hour_fast(void **unused)
{
	(void)unused;
	struct simulation simulation = { .open = true };
	struct order order = { 0 };
	struct ticker window = { .order = &order, .name = 'W', .step_ms = 60 * S };
	struct ticker sample = { .order = &order, .name = 's', .step_ms = 5 * S };
	const int64_t start = 1793599200000;   /* 2026-11-02T06:00:00Z */

	assert_int_equal(sd_event_new(&simulation.event), 0);
	struct schedule_options options = {
		.simulated = true, .start_ms = start, .end_ms = start + 3600 * S, .speed = 0,
		.ready = simulation_ready, .on_end = simulation_end, .userdata = &simulation,
	};
	assert_int_equal(schedule_new(simulation.event, &options, &simulation.schedule), 0);
	assert_int_equal(schedule_now(simulation.schedule), start);
	/* The sample is added first but has the higher priority number. */
	assert_int_equal(schedule_add(simulation.schedule, start, 1, ticker_fire, &sample), 0);
	assert_int_equal(schedule_add(simulation.schedule, start + 60 * S, 0, ticker_fire, &window), 0);

	struct timespec before, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	assert_int_equal(sd_event_loop(simulation.event), 0);
	clock_gettime(CLOCK_MONOTONIC, &after);

	/* A virtual hour: samples at 0, 5, …, 3595 s, windows at 60, …,
	 * 3540 s; the end instant itself is exclusive (the window ending
	 * there is closed by whoever handles the end). */
	assert_int_equal(sample.fired, 720);
	assert_int_equal(window.fired, 59);
	assert_int_equal(simulation.ends, 1);
	assert_int_equal(simulation.now_at_end, start + 3600 * S);
	/* Every callback saw its exact virtual time, in order, and at a shared
	 * instant the window (priority 0) ran before the sample. */
	for (size_t i = 1; i < order.count; i++) {
		assert_true(order.at[i] >= order.at[i - 1]);
		if (order.at[i] == order.at[i - 1] && order.who[i] == 'W')
			fail_msg("window ran after a sample at the same instant %lld", (long long)order.at[i]);
	}
	assert_int_equal(order.at[0], start);
	/* Far faster than real time (an hour would be 3.6e3 s). */
	double seconds = (double)(after.tv_sec - before.tv_sec) + (double)(after.tv_nsec - before.tv_nsec) / 1e9;
	assert_true(seconds < 60);

	schedule_free(simulation.schedule);
	sd_event_unref(simulation.event);
}

static void test_backpressure_stalls_and_kick_resumes(void **unused)
{
	(void)unused;
	struct simulation simulation = { .open = false };
	struct order order = { 0 };
	struct ticker sample = { .order = &order, .name = 's', .step_ms = 5 * S };

	assert_int_equal(sd_event_new(&simulation.event), 0);
	struct schedule_options options = {
		.simulated = true, .start_ms = 0, .end_ms = 60 * S, .speed = 0,
		.ready = simulation_ready, .on_end = simulation_end, .userdata = &simulation,
	};
	assert_int_equal(schedule_new(simulation.event, &options, &simulation.schedule), 0);
	assert_int_equal(schedule_add(simulation.schedule, 0, 0, ticker_fire, &sample), 0);

	/* Closed gate: the clock does not move, however long we wait. */
	for (int i = 0; i < 5; i++)
		assert_true(sd_event_run(simulation.event, 20 * 1000) >= 0);
	assert_int_equal(sample.fired, 0);
	assert_int_equal(schedule_now(simulation.schedule), 0);
	assert_true(simulation.asked >= 1);

	simulation.open = true;
	schedule_kick(simulation.schedule);
	assert_int_equal(sd_event_loop(simulation.event), 0);
	assert_int_equal(sample.fired, 12);
	assert_int_equal(simulation.ends, 1);

	schedule_free(simulation.schedule);
	sd_event_unref(simulation.event);
}

static void test_speed_paces_in_real_time(void **unused)
{
	(void)unused;
	struct simulation simulation = { .open = true };
	struct order order = { 0 };
	struct ticker sample = { .order = &order, .name = 's', .step_ms = 1 * S };

	assert_int_equal(sd_event_new(&simulation.event), 0);
	/* 20 virtual seconds at 100× take at least 0.2 real seconds. */
	struct schedule_options options = {
		.simulated = true, .start_ms = 0, .end_ms = 20 * S, .speed = 100,
		.ready = simulation_ready, .on_end = simulation_end, .userdata = &simulation,
	};
	assert_int_equal(schedule_new(simulation.event, &options, &simulation.schedule), 0);
	assert_int_equal(schedule_add(simulation.schedule, 0, 0, ticker_fire, &sample), 0);
	struct timespec before, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	assert_int_equal(sd_event_loop(simulation.event), 0);
	clock_gettime(CLOCK_MONOTONIC, &after);
	double seconds = (double)(after.tv_sec - before.tv_sec) + (double)(after.tv_nsec - before.tv_nsec) / 1e9;
	assert_int_equal(sample.fired, 20);
	assert_true(seconds >= 0.19);
	assert_true(seconds < 5);

	schedule_free(simulation.schedule);
	sd_event_unref(simulation.event);
}

struct real_timer {
	sd_event *event;
	int64_t due_ms, fired_at_ms;
};

static int64_t real_timer_fire(void *userdata, int64_t now_ms)
{
	struct real_timer *timer = userdata;
	timer->fired_at_ms = now_ms;
	sd_event_exit(timer->event, 0);
	return -1;
}

static void test_real_time(void **unused)
{
	(void)unused;
	struct real_timer timer = { 0 };
	struct schedule *schedule;
	assert_int_equal(sd_event_new(&timer.event), 0);
	struct schedule_options options = { .simulated = false };
	assert_int_equal(schedule_new(timer.event, &options, &schedule), 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	assert_true(schedule_now(schedule) - now_ms < 1000);
	timer.due_ms = now_ms + 150;
	assert_int_equal(schedule_add(schedule, timer.due_ms, 0, real_timer_fire, &timer), 0);
	assert_int_equal(sd_event_loop(timer.event), 0);
	assert_true(timer.fired_at_ms >= timer.due_ms);
	assert_true(timer.fired_at_ms < timer.due_ms + 1000);
	schedule_free(schedule);
	sd_event_unref(timer.event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulated_hour_fast),
		cmocka_unit_test(test_backpressure_stalls_and_kick_resumes),
		cmocka_unit_test(test_speed_paces_in_real_time),
		cmocka_unit_test(test_real_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
