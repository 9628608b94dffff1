/* test_schedule.c — the real and the simulated clock, on a real sd-event
 * loop; timers cancelled and moved, from outside the loop and from inside
 * callbacks (their own included), on both clocks.  Run under ASan, a
 * timer that fires after it was cancelled, or one freed twice or never,
 * is caught as well as counted. */
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
	/* 20 virtual seconds at 100× take at least 0.2 real seconds, counted
	 * from schedule_new(), where the pacing starts (under valgrind the
	 * setup alone can take a good part of it). */
	struct schedule_options options = {
		.simulated = true, .start_ms = 0, .end_ms = 20 * S, .speed = 100,
		.ready = simulation_ready, .on_end = simulation_end, .userdata = &simulation,
	};
	struct timespec before, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	assert_int_equal(schedule_new(simulation.event, &options, &simulation.schedule), 0);
	assert_int_equal(schedule_add(simulation.schedule, 0, 0, ticker_fire, &sample), 0);
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

/* ---- cancelling and moving ---- */

/* A timer that, on its cancel_at-th run, cancels victim (itself, perhaps),
 * and moves moved to move_to on its move_at-th run. */
struct actor {
	struct schedule *schedule;
	int64_t step_ms;             /* 0: stops itself after each run */
	int fired;
	int64_t at[16];
	struct schedule_timer *self;
	struct schedule_timer **victim;
	int cancel_at;
	struct schedule_timer **moved;
	int move_at;
	int64_t move_to;
	sd_event *exit_event;        /* the loop ends when it runs */
};

static int64_t actor_fire(void *userdata, int64_t now_ms)
{
	struct actor *actor = userdata;
	if (actor->fired < 16)
		actor->at[actor->fired] = now_ms;
	actor->fired++;
	if (actor->victim && actor->fired == actor->cancel_at) {
		schedule_cancel(actor->schedule, *actor->victim);
		*actor->victim = NULL;   /* the handle is given back */
	}
	if (actor->moved && actor->fired == actor->move_at)
		schedule_move(actor->schedule, *actor->moved, actor->move_to);
	if (actor->exit_event)
		sd_event_exit(actor->exit_event, 0);
	return actor->step_ms > 0 ? now_ms + actor->step_ms : -1;
}

static struct simulation *simulation_new(int64_t end_ms)
{
	static struct simulation simulation;
	simulation = (struct simulation){ .open = true };
	assert_int_equal(sd_event_new(&simulation.event), 0);
	struct schedule_options options = {
		.simulated = true, .start_ms = 0, .end_ms = end_ms, .speed = 0,
		.ready = simulation_ready, .on_end = simulation_end, .userdata = &simulation,
	};
	assert_int_equal(schedule_new(simulation.event, &options, &simulation.schedule), 0);
	return &simulation;
}

static void simulation_free(struct simulation *simulation)
{
	schedule_free(simulation->schedule);
	sd_event_unref(simulation->event);
}

static void add_actor(struct schedule *schedule, struct actor *actor, int64_t due_ms, int priority)
{
	actor->schedule = schedule;
	assert_int_equal(schedule_add_timer(schedule, due_ms, priority, actor_fire, actor, &actor->self), 0);
	assert_non_null(actor->self);
}

static void test_cancel_before_due_simulated(void **unused)
{
	(void)unused;
	struct simulation *simulation = simulation_new(60 * S);
	struct actor kept = { .step_ms = 5 * S }, cancelled = { .step_ms = 5 * S };
	add_actor(simulation->schedule, &cancelled, 10 * S, 0);
	add_actor(simulation->schedule, &kept, 0, 1);
	schedule_cancel(simulation->schedule, cancelled.self);
	schedule_cancel(simulation->schedule, NULL);   /* nothing */
	assert_int_equal(sd_event_loop(simulation->event), 0);
	assert_int_equal(cancelled.fired, 0);
	assert_int_equal(kept.fired, 12);
	assert_int_equal(simulation->ends, 1);
	simulation_free(simulation);
}

static void test_cancel_from_another_callback_at_the_same_instant(void **unused)
{
	(void)unused;
	struct simulation *simulation = simulation_new(60 * S);
	/* At 10 s, in priority order: early (-1) runs, then killer (0)
	 * cancels early (already run at this instant) and helper (0) cancels
	 * late (1), which must then not run at 10 s nor after. */
	struct actor early = { .step_ms = 5 * S }, late = { .step_ms = 5 * S }, other = { .step_ms = 5 * S };
	struct actor killer = { .step_ms = 0, .cancel_at = 1 };
	add_actor(simulation->schedule, &early, 0, -1);
	add_actor(simulation->schedule, &late, 0, 1);
	add_actor(simulation->schedule, &other, 0, 2);
	add_actor(simulation->schedule, &killer, 10 * S, 0);
	struct actor helper = { .step_ms = 0, .cancel_at = 1, .victim = &late.self };
	add_actor(simulation->schedule, &helper, 10 * S, 0);
	killer.victim = &early.self;
	assert_int_equal(sd_event_loop(simulation->event), 0);
	assert_int_equal(early.fired, 3);             /* 0, 5, 10 s */
	assert_int_equal(late.fired, 2);              /* 0, 5 s: not at 10 s */
	assert_int_equal(late.at[1], 5 * S);
	assert_int_equal(other.fired, 12);            /* the rest go on */
	assert_int_equal(killer.fired, 1);
	/* killer and helper stopped themselves: their handles are still
	 * theirs to give back. */
	schedule_cancel(simulation->schedule, killer.self);
	schedule_cancel(simulation->schedule, helper.self);
	simulation_free(simulation);
}

static void test_cancel_own_timer_from_its_callback(void **unused)
{
	(void)unused;
	struct simulation *simulation = simulation_new(60 * S);
	/* Cancels itself on its third run and still asks to run 5 s later:
	 * the answer is ignored. */
	struct actor self = { .step_ms = 5 * S, .cancel_at = 3 };
	struct actor witness = { .step_ms = 5 * S };
	add_actor(simulation->schedule, &self, 0, 0);
	add_actor(simulation->schedule, &witness, 0, 1);
	self.victim = &self.self;
	assert_int_equal(sd_event_loop(simulation->event), 0);
	assert_int_equal(self.fired, 3);
	assert_null(self.self);
	assert_int_equal(witness.fired, 12);
	simulation_free(simulation);
}

static void test_move_and_revive(void **unused)
{
	(void)unused;
	struct simulation *simulation = simulation_new(60 * S);
	/* once stops itself at 0 s; mover moves it to 20 s at 10 s, and
	 * moves late from 50 s forward to 30 s. */
	struct actor once = { .step_ms = 0 }, late = { .step_ms = 0 };
	struct actor mover = { .step_ms = 0, .move_at = 1, .move_to = 20 * S, .moved = &once.self };
	add_actor(simulation->schedule, &once, 0, 0);
	add_actor(simulation->schedule, &late, 50 * S, 0);
	add_actor(simulation->schedule, &mover, 10 * S, 0);
	schedule_move(simulation->schedule, late.self, 30 * S);
	assert_int_equal(sd_event_loop(simulation->event), 0);
	assert_int_equal(once.fired, 2);
	assert_int_equal(once.at[0], 0);
	assert_int_equal(once.at[1], 20 * S);
	assert_int_equal(late.fired, 1);
	assert_int_equal(late.at[0], 30 * S);
	schedule_cancel(simulation->schedule, once.self);
	/* late and mover are left to schedule_free(). */
	simulation_free(simulation);
}

static int64_t realtime_now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void test_cancel_on_the_real_clock(void **unused)
{
	(void)unused;
	sd_event *event;
	struct schedule *schedule;
	assert_int_equal(sd_event_new(&event), 0);
	struct schedule_options options = { .simulated = false };
	assert_int_equal(schedule_new(event, &options, &schedule), 0);
	int64_t t0 = realtime_now_ms() + 100;
	/* Due together at t0: killer cancels victim (after it in priority) and
	 * far (due later); self cancels itself and asks for 10 ms more;
	 * before is cancelled before it is due; end stops the loop at t0 +
	 * 300 ms. */
	struct actor victim = { .step_ms = 10 }, far = { .step_ms = 10 }, self = { .step_ms = 10, .cancel_at = 1 };
	struct actor before = { .step_ms = 10 }, witness = { .step_ms = 50 }, end = { .exit_event = event };
	struct actor killer = { .step_ms = 0, .cancel_at = 1, .victim = &victim.self };
	struct actor killer_far = { .step_ms = 0, .cancel_at = 1, .victim = &far.self };
	add_actor(schedule, &killer, t0, 0);
	add_actor(schedule, &killer_far, t0, 0);
	add_actor(schedule, &victim, t0, 1);
	add_actor(schedule, &self, t0, 2);
	add_actor(schedule, &witness, t0, 3);
	add_actor(schedule, &far, t0 + 200, 0);
	add_actor(schedule, &before, t0 + 50, 0);
	add_actor(schedule, &end, t0 + 300, 0);
	self.victim = &self.self;
	schedule_cancel(schedule, before.self);
	assert_int_equal(sd_event_loop(event), 0);
	assert_int_equal(killer.fired, 1);
	assert_int_equal(victim.fired, 0);
	assert_int_equal(far.fired, 0);
	assert_int_equal(before.fired, 0);
	assert_int_equal(self.fired, 1);
	assert_true(witness.fired >= 5);              /* t0, +50, ..., +250: the loop went on */
	assert_true(self.at[0] >= t0);
	assert_int_equal(end.fired, 1);
	schedule_free(schedule);   /* frees the handles still held (killers, witness, end) */
	sd_event_unref(event);
}

/* Many sensors come and go over a long run: timers added and cancelled
 * again and again leave nothing behind (none fires; under ASan, nothing
 * leaks). */
static void test_add_and_cancel_many(void **unused)
{
	(void)unused;
	struct simulation *simulation = simulation_new(60 * S);
	struct actor actors[64];
	struct actor witness = { .step_ms = 5 * S };
	add_actor(simulation->schedule, &witness, 0, 0);
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 64; i++) {
			actors[i] = (struct actor){ .step_ms = S };
			add_actor(simulation->schedule, &actors[i], (i % 7) * S, i % 3);
		}
		/* In another order than added. */
		for (int i = 0; i < 64; i++)
			schedule_cancel(simulation->schedule, actors[(i * 29) % 64].self);
	}
	assert_int_equal(sd_event_loop(simulation->event), 0);
	assert_int_equal(witness.fired, 12);
	for (int i = 0; i < 64; i++)
		assert_int_equal(actors[i].fired, 0);
	simulation_free(simulation);
}

/* A thousand timers with due times and priorities in no order: each
 * instant runs its timers by priority, then in the order added, and a
 * timer that comes again keeps its place among equals.  A closed gate
 * part way (backpressure within a batch of instants) stops the clock
 * where it is. */
struct ranked {
	struct order *order;
	int id;
	int priority;
	int64_t step_ms;
	int64_t *log_at;
	int *log_id;
	size_t *log_count;
	struct simulation *simulation;
};

static int64_t ranked_fire(void *userdata, int64_t now_ms)
{
	struct ranked *ranked = userdata;
	if (*ranked->log_count < 8192) {
		ranked->log_at[*ranked->log_count] = now_ms;
		ranked->log_id[*ranked->log_count] = ranked->id;
		(*ranked->log_count)++;
	}
	/* The gate closes once, at 5 s: no later instant may run until the
	 * kick. */
	if (now_ms == 5 * S && ranked->id == 0)
		ranked->simulation->open = false;
	return now_ms + ranked->step_ms;
}

static void test_many_timers_in_order(void **unused)
{
	(void)unused;
	enum { COUNT = 1000 };
	static struct ranked timers[COUNT];
	static int64_t log_at[8192];
	static int log_id[8192];
	size_t log_count = 0;
	struct simulation simulation = { .open = true };
	assert_int_equal(sd_event_new(&simulation.event), 0);
	struct schedule_options options = {
		.simulated = true, .start_ms = 0, .end_ms = 10 * S, .speed = 0,
		.ready = simulation_ready, .on_end = simulation_end, .userdata = &simulation,
	};
	assert_int_equal(schedule_new(simulation.event, &options, &simulation.schedule), 0);
	for (int i = 0; i < COUNT; i++) {
		timers[i] = (struct ranked){
			.id = i, .priority = (i * 7) % 5, .step_ms = (1 + (i * 13) % 4) * S,
			.log_at = log_at, .log_id = log_id, .log_count = &log_count, .simulation = &simulation,
		};
		assert_int_equal(schedule_add(simulation.schedule, ((i * 31) % 3) * S, timers[i].priority, ranked_fire,
		                              &timers[i]), 0);
	}
	/* Runs to the gate, and stops there. */
	for (int i = 0; i < 20 && simulation.open; i++)
		assert_true(sd_event_run(simulation.event, 20 * 1000) >= 0);
	assert_false(simulation.open);
	for (int i = 0; i < 5; i++)
		assert_true(sd_event_run(simulation.event, 5 * 1000) >= 0);
	assert_int_equal(schedule_now(simulation.schedule), 5 * S);
	simulation.open = true;
	schedule_kick(simulation.schedule);
	assert_int_equal(sd_event_loop(simulation.event), 0);
	assert_int_equal(simulation.ends, 1);

	/* Every firing a timer should have had, once, at its times. */
	size_t expected = 0;
	for (int i = 0; i < COUNT; i++)
		for (int64_t at = ((i * 31) % 3) * S; at < 10 * S; at += timers[i].step_ms)
			expected++;
	assert_int_equal(log_count, expected);
	for (size_t k = 1; k < log_count; k++) {
		const struct ranked *a = &timers[log_id[k - 1]], *b = &timers[log_id[k]];
		assert_true(log_at[k - 1] <= log_at[k]);
		if (log_at[k - 1] == log_at[k]) {
			assert_true(a->priority <= b->priority);
			if (a->priority == b->priority)
				assert_true(a->id < b->id);
		}
	}
	schedule_free(simulation.schedule);
	sd_event_unref(simulation.event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulated_hour_fast),
		cmocka_unit_test(test_backpressure_stalls_and_kick_resumes),
		cmocka_unit_test(test_speed_paces_in_real_time),
		cmocka_unit_test(test_real_time),
		cmocka_unit_test(test_cancel_before_due_simulated),
		cmocka_unit_test(test_cancel_from_another_callback_at_the_same_instant),
		cmocka_unit_test(test_cancel_own_timer_from_its_callback),
		cmocka_unit_test(test_move_and_revive),
		cmocka_unit_test(test_cancel_on_the_real_clock),
		cmocka_unit_test(test_add_and_cancel_many),
		cmocka_unit_test(test_many_timers_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
