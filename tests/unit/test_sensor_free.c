/* test_sensor_free.c — a sensor freed while the loop runs on, as a reload
 * frees a removed one: nothing calls into it afterwards (its slot timer,
 * due at the very instant it is freed, its io source with events waiting,
 * its worker with a sample in flight), and a lamp whose light sensor is
 * freed, or a light sensor whose lamp is, keeps no pointer to it.  Meant
 * to run under ASan too, where a call into a freed sensor is caught even
 * if it would count nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sensor.h"

#define S 1000
#define START 1793599200000LL   /* 2026-11-02T06:00:00Z, before sunrise */

/* ---- drivers: polled, one whose sample() sleeps, one event-driven ---- */

static int polled_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                       size_t err_size)
{
	(void)env;
	(void)err;
	(void)err_size;
	const char *value = sensor_option(sc, "value");
	double *reading = malloc(sizeof(*reading));
	if (!reading)
		return -ENOMEM;
	*reading = value ? strtod(value, NULL) : 100;
	*state = reading;
	return 0;
}

static int polled_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)now_ms;
	memset(out, 0, sizeof(*out));
	out->value = *(double *)state;
	return 0;
}

static struct {
	atomic_int samples;
	atomic_bool in_sample, closed_in_sample;
} sleepy;

static int sleepy_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)state;
	(void)now_ms;
	atomic_store(&sleepy.in_sample, true);
	atomic_fetch_add(&sleepy.samples, 1);
	struct timespec pause = { 0, 300 * 1000000L };
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
		;
	atomic_store(&sleepy.in_sample, false);
	memset(out, 0, sizeof(*out));
	out->value = 100;
	return 0;
}

static void sleepy_close(void *state)
{
	if (atomic_load(&sleepy.in_sample))
		atomic_store(&sleepy.closed_in_sample, true);
	free(state);
}

static struct {
	int fd;
	int reads;
} events;

static int event_fd(void *state)
{
	(void)state;
	return events.fd;
}

static int event_read(void *state, struct driver_event *out, size_t max)
{
	(void)state;
	(void)out;
	(void)max;
	uint64_t count;
	(void)!read(events.fd, &count, sizeof(count));
	events.reads++;
	return 0;
}

static const struct driver_ops polled_driver = {
	.name = "polled", .types = (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP), .open = polled_open, .close = free,
	.sample = polled_sample,
};
static const struct driver_ops sleepy_driver = {
	.name = "sleepy", .types = 1u << SENSOR_LIGHT, .open = polled_open, .close = sleepy_close,
	.sample = sleepy_sample, .sample_may_block = true,
};
static const struct driver_ops event_driver = {
	.name = "event", .types = 1u << SENSOR_FOOTFALL, .open = polled_open, .close = free,
	.event_fd = event_fd, .read_events = event_read,
};

static const struct driver_ops *find(const char *name)
{
	if (strcmp(name, "sleepy") == 0)
		return &sleepy_driver;
	if (strcmp(name, "event") == 0)
		return &event_driver;
	return &polled_driver;
}

/* ---- harness ---- */

#define SENSORS_MAX 4
#define READINGS_MAX 256

static struct {
	sd_event *event;
	struct schedule *schedule;
	struct sensor *sensors[SENSORS_MAX];
	uintptr_t freed[SENSORS_MAX];      /* compared, never followed */
	int alert_changes[SENSORS_MAX];
	bool ok[SENSORS_MAX];
	uintptr_t reading_by[READINGS_MAX];
	int64_t reading_at[READINGS_MAX];
	size_t reading_count;
} run;

static int sensor_index(const struct sensor *sensor)
{
	for (int i = 0; i < SENSORS_MAX; i++)
		if (run.sensors[i] == sensor)
			return i;
	fail_msg("a callback from a sensor that is not there (%p)", (const void *)sensor);
	return -1;
}

static void on_reading(void *userdata, struct sensor *sensor, int64_t ts_ms, double value,
                       enum reading_direction direction)
{
	(void)userdata;
	(void)value;
	(void)direction;
	sensor_index(sensor);
	if (run.reading_count < READINGS_MAX) {
		run.reading_by[run.reading_count] = (uintptr_t)sensor;
		run.reading_at[run.reading_count++] = ts_ms;
	}
}

static void on_alert(void *userdata, struct sensor *sensor)
{
	(void)userdata;
	int i = sensor_index(sensor);
	run.alert_changes[i]++;
	run.ok[i] = alert_shown(sensor_alerts(sensor), NULL) == NULL;
}

static void on_end(void *userdata)
{
	(void)userdata;
	sd_event_exit(run.event, 0);
}

static void run_new(bool simulated, int64_t end_ms)
{
	memset(&run, 0, sizeof(run));
	assert_int_equal(sd_event_new(&run.event), 0);
	struct schedule_options options = { .simulated = simulated, .start_ms = START, .end_ms = end_ms,
	                                     .on_end = on_end };
	assert_int_equal(schedule_new(run.event, &options, &run.schedule), 0);
}

static struct sensor *add_sensor(int index, const char *name, enum sensor_type type, const char *driver,
                                 int interval_s, const char *value, int priority)
{
	struct sensor_option option = { "value", (char *)value, 1 };
	struct sensor_config config = {
		.name = (char *)name, .type = type, .driver = (char *)driver, .interval_s = interval_s, .dark_lux = 10,
		.alerts = { .lamp_fault_ms = 10 * S }, .options = &option, .option_count = value ? 1 : 0,
	};
	struct sensor_setup setup = {
		.event = run.event, .schedule = run.schedule, .window_ms = 60 * S,
		.events = { .reading = on_reading, .alert = on_alert }, .find_driver = find,
	};
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, &config, &run.sensors[index], err, sizeof(err)), 0);
	assert_int_equal(sensor_start(run.sensors[index], priority), 0);
	return run.sensors[index];
}

static void free_sensor(int index)
{
	run.freed[index] = (uintptr_t)run.sensors[index];
	sensor_free(run.sensors[index]);
	run.sensors[index] = NULL;
}

/* A timer that frees sensor number index. */
static int64_t on_free(void *userdata, int64_t now_ms)
{
	(void)now_ms;
	free_sensor((int)(intptr_t)userdata);
	return -1;
}

/* Sensor 0 freed once its sample is in the driver's sample(): a thread
 * may be slow to start it (valgrind runs one thread at a time), and a
 * sample not yet started proves nothing.  Looked at every 5 ms. */
static int64_t on_free_in_sample(void *userdata, int64_t now_ms)
{
	(void)userdata;
	if (!atomic_load(&sleepy.in_sample))
		return now_ms + 5;
	free_sensor(0);
	return -1;
}

static void free_at(int index, int64_t at_ms, int priority)
{
	assert_int_equal(schedule_add(run.schedule, at_ms, priority, on_free, (void *)(intptr_t)index), 0);
}

static void run_free(void)
{
	for (int i = 0; i < SENSORS_MAX; i++)
		sensor_free(run.sensors[i]);
	schedule_free(run.schedule);
	sd_event_unref(run.event);
}

static size_t readings_by(uintptr_t sensor, int64_t *last_ms)
{
	size_t count = 0;
	for (size_t i = 0; i < run.reading_count; i++) {
		if (run.reading_by[i] != sensor)
			continue;
		count++;
		*last_ms = run.reading_at[i];
	}
	return count;
}

static int64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t on_stop(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	sd_event_exit(run.event, 0);
	return -1;
}

/* ---- tests ---- */

static void test_freed_at_its_own_slot(void **unused)
{
	(void)unused;
	run_new(true, START + 60 * S);
	add_sensor(0, "gone", SENSOR_LIGHT, "polled", 5, NULL, 1);
	add_sensor(1, "stays", SENSOR_LIGHT, "polled", 5, NULL, 1);
	/* Freed at 10 s, just before its slot at that same instant. */
	free_at(0, START + 10 * S, 0);
	assert_int_equal(sd_event_loop(run.event), 0);
	int64_t last = 0;
	assert_int_equal(readings_by(run.freed[0], &last), 2);
	assert_int_equal(last, START + 5 * S);
	assert_int_equal(readings_by((uintptr_t)run.sensors[1], &last), 12);
	assert_int_equal(last, START + 55 * S);
	run_free();
}

static void test_freed_with_a_sample_in_flight(void **unused)
{
	(void)unused;
	memset(&sleepy, 0, sizeof(sleepy));
	run_new(false, 0);
	/* A 300 ms sample every second from the next second on; freed while
	 * in the first, then the loop runs on over two more slots. */
	int64_t t0 = (realtime_ms() / S + 1) * S;
	add_sensor(0, "sleepy", SENSOR_LIGHT, "sleepy", 1, NULL, 1);
	assert_int_equal(schedule_add(run.schedule, t0 + 10, 0, on_free_in_sample, NULL), 0);
	assert_int_equal(schedule_add(run.schedule, t0 + 2 * S + 500, 0, on_stop, NULL), 0);
	assert_int_equal(sd_event_loop(run.event), 0);
	int64_t last = 0;
	assert_int_equal(readings_by(run.freed[0], &last), 0);   /* its sample was dropped */
	assert_int_equal(atomic_load(&sleepy.samples), 1);
	assert_false(atomic_load(&sleepy.closed_in_sample));
	run_free();
}

static void test_freed_with_events_waiting(void **unused)
{
	(void)unused;
	run_new(false, 0);
	events.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	events.reads = 0;
	assert_true(events.fd >= 0);
	add_sensor(0, "beam", SENSOR_FOOTFALL, "event", 1, NULL, 1);
	/* Something to read, then freed before the loop gets to it. */
	uint64_t one = 1;
	assert_int_equal(write(events.fd, &one, sizeof(one)), sizeof(one));
	free_sensor(0);
	assert_int_equal(schedule_add(run.schedule, realtime_ms() + 1200, 0, on_stop, NULL), 0);
	assert_int_equal(sd_event_loop(run.event), 0);
	assert_int_equal(events.reads, 0);
	run_free();
	close(events.fd);
}

static void test_lamp_whose_light_sensor_is_freed(void **unused)
{
	(void)unused;
	run_new(true, START + 60 * S);
	/* A light sensor that reads dark, two lamps that are off paired with
	 * it, and a third whose pairing ends early.  lamp_fault after 10 s. */
	struct sensor *light = add_sensor(0, "ljus", SENSOR_LIGHT, "polled", 5, "0", 1);
	struct sensor *first = add_sensor(1, "lampa-1", SENSOR_LAMP, "polled", 5, "0", 3);
	struct sensor *second = add_sensor(2, "lampa-2", SENSOR_LAMP, "polled", 5, "0", 3);
	struct sensor *third = add_sensor(3, "lampa-3", SENSOR_LAMP, "polled", 5, "0", 3);
	sensor_pair(first, light);
	sensor_pair(second, light);
	sensor_pair(third, light);
	sensor_pair(third, NULL);
	/* The first lamp goes at 20 s, the light sensor at 30 s. */
	free_at(1, START + 20 * S, 0);
	free_at(0, START + 30 * S, 0);
	assert_int_equal(sd_event_loop(run.event), 0);
	struct window_result second_window, third_window;
	sensor_close_window(second, &second_window);
	sensor_close_window(third, &third_window);
	/* At fault while it was dark by its light sensor (0–30 s): raised at
	 * 10 s, cleared at 30 s, when there was no light sensor to say so. */
	assert_int_equal(second_window.fault_s, 30);
	assert_true(second_window.coverage == 1.0);
	assert_int_equal(run.alert_changes[2], 2);
	assert_true(run.ok[2]);
	assert_int_equal(third_window.fault_s, 0);
	assert_int_equal(run.alert_changes[3], 0);
	run_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_freed_at_its_own_slot),
		cmocka_unit_test(test_freed_with_a_sample_in_flight),
		cmocka_unit_test(test_freed_with_events_waiting),
		cmocka_unit_test(test_lamp_whose_light_sensor_is_freed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
