/* test_sensor_worker.c — the sampling thread (gateway/sensor_worker.c) on
 * its own, on a real sd-event loop, with a driver whose sample() sleeps:
 * one sample at a time, each result handed to done() once, on the loop,
 * for the sample it belongs to (not for one that sensor_worker_wait()
 * dropped, nor twice when sensor_worker_finish() took it first); freeing
 * waits for a sample in flight; the thread takes no signals. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sensor_worker.h"

/* ---- a driver whose sample() sleeps ---- */

static struct {
	atomic_int sleep_ms;
	atomic_int samples;
	atomic_bool returned;           /* the last sample() has returned */
	atomic_bool signals_blocked;    /* SIGTERM and SIGINT were blocked on its thread */
} driver_state;

static void sleep_ms(int ms)
{
	struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
		;
}

static int sleepy_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)state;
	atomic_store(&driver_state.returned, false);
	sigset_t mask;
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	atomic_store(&driver_state.signals_blocked, sigismember(&mask, SIGTERM) && sigismember(&mask, SIGINT));
	atomic_fetch_add(&driver_state.samples, 1);
	sleep_ms(atomic_load(&driver_state.sleep_ms));
	memset(out, 0, sizeof(*out));
	out->value = (double)now_ms / 10;
	atomic_store(&driver_state.returned, true);
	return now_ms == 13 ? -EIO : 0;
}

static const struct driver_ops sleepy = { .name = "sleepy", .sample = sleepy_sample, .sample_may_block = true };

/* ---- what done() saw ---- */

static struct {
	int calls;
	int64_t now_ms;
	int result;
	double value;
} done;

static void on_done(void *userdata, int64_t now_ms, int result, const struct sample *sample)
{
	(void)userdata;
	done.calls++;
	done.now_ms = now_ms;
	done.result = result;
	done.value = sample->value;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Turn the loop for about ms. */
static void run_loop(sd_event *event, int ms)
{
	int64_t end = monotonic_ms() + ms;
	for (int64_t now = monotonic_ms(); now < end; now = monotonic_ms())
		assert_true(sd_event_run(event, (uint64_t)(end - now) * 1000) >= 0);
}

static sd_event *event;
static struct sensor_worker *worker;

static int setup(void **unused)
{
	(void)unused;
	memset(&done, 0, sizeof(done));
	atomic_store(&driver_state.sleep_ms, 100);
	atomic_store(&driver_state.samples, 0);
	atomic_store(&driver_state.signals_blocked, false);
	assert_int_equal(sd_event_new(&event), 0);
	assert_int_equal(sensor_worker_new(event, on_done, NULL, &worker), 0);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	sensor_worker_free(worker);
	sd_event_unref(event);
	return 0;
}

static void test_one_sample_at_a_time(void **unused)
{
	(void)unused;
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 10), 0);
	assert_true(sensor_worker_busy(worker));
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 11), -EBUSY);
	run_loop(event, 50);
	assert_int_equal(done.calls, 0);            /* still sleeping */
	run_loop(event, 150);
	assert_false(sensor_worker_busy(worker));
	assert_int_equal(done.calls, 1);
	assert_int_equal(done.now_ms, 10);
	assert_int_equal(done.result, 0);
	assert_true(done.value == 1.0);
	assert_int_equal(atomic_load(&driver_state.samples), 1);
	assert_true(atomic_load(&driver_state.signals_blocked));
	/* A failure comes back as it is. */
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 13), 0);
	run_loop(event, 200);
	assert_int_equal(done.calls, 2);
	assert_int_equal(done.now_ms, 13);
	assert_int_equal(done.result, -EIO);
}

static void test_wait_drops_the_result(void **unused)
{
	(void)unused;
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 20), 0);
	sensor_worker_wait(worker);
	assert_true(atomic_load(&driver_state.returned));
	assert_false(sensor_worker_busy(worker));
	/* The count it left on the eventfd hands over nothing... */
	run_loop(event, 50);
	assert_int_equal(done.calls, 0);
	/* ...and the next sample is handed over once, as itself. */
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 30), 0);
	run_loop(event, 200);
	assert_int_equal(done.calls, 1);
	assert_int_equal(done.now_ms, 30);
	assert_true(done.value == 3.0);
}

static void test_finish_takes_the_result_once(void **unused)
{
	(void)unused;
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 40), 0);
	sensor_worker_finish(worker);              /* blocks ~100 ms, then done() here */
	assert_int_equal(done.calls, 1);
	assert_int_equal(done.now_ms, 40);
	run_loop(event, 50);                       /* the eventfd's turn: nothing twice */
	assert_int_equal(done.calls, 1);
	/* Finished on the thread, not yet handed over: start waits for that. */
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 50), 0);
	sleep_ms(150);
	assert_false(sensor_worker_busy(worker));
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 60), -EBUSY);
	sensor_worker_finish(worker);              /* no wait: hands over at once */
	assert_int_equal(done.calls, 2);
	assert_int_equal(done.now_ms, 50);
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 60), 0);
	sensor_worker_finish(worker);
	assert_int_equal(done.calls, 3);
	assert_int_equal(done.now_ms, 60);
}

static void test_free_while_sleeping(void **unused)
{
	(void)unused;
	atomic_store(&driver_state.sleep_ms, 300);
	assert_int_equal(sensor_worker_start(worker, &sleepy, NULL, 70), 0);
	run_loop(event, 50);
	int64_t before = monotonic_ms();
	sensor_worker_free(worker);
	worker = NULL;
	int64_t took = monotonic_ms() - before;
	print_message("freed 50 ms into a 300 ms sample: waited %lld ms\n", (long long)took);
	assert_true(atomic_load(&driver_state.returned));
	assert_true(took >= 200);
	assert_int_equal(done.calls, 0);
	run_loop(event, 20);                       /* nothing left on the loop */
	assert_int_equal(done.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_sample_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_drops_the_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_takes_the_result_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_while_sleeping, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
