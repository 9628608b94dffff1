/* test_sensor.c — one sensor at run time (gateway/sensor.c) on a real
 * sd-event loop, with drivers played by the test through the sensor's
 * driver lookup seam: a polled driver that fails, recovers, converts
 * slowly or reads the impossible, on a simulated clock; and an event-driven
 * driver whose events carry CLOCK_MONOTONIC stamps, on the real clock, to
 * check that each one lands in the window it happened in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
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
#define START 1793599200000LL   /* 2026-11-02T06:00:00Z */

/* ---- a polled driver, scripted by the test ---- */

struct script {
	int64_t fail_from, fail_to;     /* sample() fails in [from, to) */
	int64_t gone_from, gone_to;     /* open() fails in [from, to) */
	int64_t wild_at;                /* sample() reads an impossible value here */
	int prepare_ms;                 /* > 0: a slow conversion */
	int opens;
	int64_t prepared_at, sampled_at[64];
	size_t samples;
	int64_t now;                    /* the clock, as the test's window timer sees it */
};

static struct script script;

static int polled_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                       size_t err_size)
{
	(void)sc;
	script.opens++;
	if (env->now_ms >= script.gone_from && env->now_ms < script.gone_to) {
		snprintf(err, err_size, "fake: device not present");
		return -ENODEV;
	}
	*state = &script;
	return 0;
}

static void polled_close(void *state)
{
	(void)state;
}

static int polled_prepare(void *state, int64_t now_ms)
{
	(void)state;
	script.prepared_at = now_ms;
	return script.prepare_ms;
}

static int polled_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)state;
	if (script.samples < 64)
		script.sampled_at[script.samples] = now_ms;
	script.samples++;
	if (now_ms >= script.fail_from && now_ms < script.fail_to)
		return -EIO;
	memset(out, 0, sizeof(*out));
	out->value = now_ms == script.wild_at ? -5.0 : 100.0;
	return 0;
}

static int event_fd(void *state);
static int event_read(void *state, struct driver_event *events, size_t max);
static int event_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                      size_t err_size);
static int event_level(void *state);

static const struct driver_ops polled_driver = {
	.name = "polled", .types = 1u << SENSOR_LIGHT, .open = polled_open, .close = polled_close,
	.sample = polled_sample,
};
static const struct driver_ops slow_driver = {
	.name = "slow", .types = 1u << SENSOR_LIGHT, .open = polled_open, .close = polled_close,
	.sample = polled_sample, .prepare = polled_prepare,
};
static const struct driver_ops event_driver = {
	.name = "event", .types = (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LAMP), .open = event_open,
	.close = polled_close, .event_fd = event_fd, .read_events = event_read, .level = event_level,
};

static const struct driver_ops *find(const char *name)
{
	if (strcmp(name, "polled") == 0)
		return &polled_driver;
	if (strcmp(name, "slow") == 0)
		return &slow_driver;
	return &event_driver;
}

/* ---- harness ---- */

struct harness {
	sd_event *event;
	struct schedule *schedule;
	struct sensor *sensor;
	struct window_result windows[64];
	size_t window_count;
	struct sensor_counters counters;   /* as the sensor ended */
	int alert_changes;
	enum alert_kind last_kind;
	bool last_ok;
};

static struct harness harness;

static void on_alert(void *userdata, struct sensor *sensor)
{
	(void)userdata;
	harness.alert_changes++;
	harness.last_ok = alert_shown(sensor_alerts(sensor), &harness.last_kind) == NULL;
}

static int64_t on_window(void *userdata, int64_t now_ms)
{
	(void)userdata;
	while (sensor_window_end(harness.sensor) <= now_ms && harness.window_count < 64)
		sensor_close_window(harness.sensor, &harness.windows[harness.window_count++]);
	return now_ms + 60 * S;
}

static void on_end(void *userdata)
{
	(void)userdata;
	sd_event_exit(harness.event, 0);
}

static void run_simulated(const char *driver, int64_t minutes)
{
	memset(&harness, 0, sizeof(harness));
	struct sensor_config config = { .name = "ljus", .type = SENSOR_LIGHT, .driver = (char *)driver,
	                                .interval_s = 5, .dark_lux = 10 };
	config.alerts.covered_lux = 1;
	assert_int_equal(sd_event_new(&harness.event), 0);
	struct schedule_options options = { .simulated = true, .start_ms = START, .end_ms = START + minutes * 60 * S,
	                                     .on_end = on_end };
	assert_int_equal(schedule_new(harness.event, &options, &harness.schedule), 0);
	struct sensor_setup setup = {
		.event = harness.event, .schedule = harness.schedule, .window_ms = 60 * S,
		.latitude = 59.37, .longitude = 16.51, .events = { .alert = on_alert }, .find_driver = find,
	};
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, &config, &harness.sensor, err, sizeof(err)), 0);
	assert_int_equal(sensor_start(harness.sensor, 1), 0);
	assert_int_equal(schedule_add(harness.schedule, START + 60 * S, 0, on_window, NULL), 0);
	assert_int_equal(sd_event_loop(harness.event), 0);
	harness.counters = sensor_counters(harness.sensor);
	sensor_free(harness.sensor);
	schedule_free(harness.schedule);
	sd_event_unref(harness.event);
}

static void test_failure_and_recovery(void **unused)
{
	(void)unused;
	/* Reads fail from 06:02:00 to 06:04:00; the device is gone (cannot be
	 * opened) until 06:03:30. */
	script = (struct script){ .fail_from = START + 120 * S, .fail_to = START + 240 * S,
	                          .gone_from = START + 120 * S, .gone_to = START + 210 * S, .wild_at = -1 };
	run_simulated("polled", 10);
	assert_int_equal(harness.window_count, 9);
	assert_true(harness.windows[0].coverage == 1.0 && harness.windows[0].samples == 12);
	assert_true(harness.windows[1].coverage == 1.0);
	/* 06:02:00 the sample fails; the retries 5, 10, 20, 40 s later
	 * (backoff from the interval, doubling) find no device; the one 80 s
	 * later, at 06:04:35, opens it, and sampling resumes on the grid at
	 * 06:04:40: a third of that window is covered. */
	assert_true(harness.windows[2].coverage == 0.0);
	assert_true(harness.windows[3].coverage == 0.0);
	assert_true(harness.windows[4].coverage == 20000.0 / 60000.0);
	assert_int_equal(harness.windows[4].samples, 4);
	assert_true(harness.windows[5].coverage == 1.0);
	assert_int_equal(script.opens, 1 + 5);
	/* Raised once and cleared once, whatever the retries. */
	assert_int_equal(harness.alert_changes, 2);
	assert_true(harness.last_ok);
	assert_int_equal(harness.counters.failures, 1);
}

static void test_slow_conversion_is_collected_later(void **unused)
{
	(void)unused;
	script = (struct script){ .prepare_ms = 150, .wild_at = -1, .fail_from = -1, .fail_to = -1,
	                          .gone_from = -1, .gone_to = -1 };
	run_simulated("slow", 2);
	/* Collected 150 ms after each slot, and credited to the slot: full
	 * coverage, 12 samples a minute. */
	assert_int_equal(script.sampled_at[0], START + 150);
	assert_int_equal(script.sampled_at[1], START + 5 * S + 150);
	assert_int_equal(harness.window_count, 1);
	assert_true(harness.windows[0].coverage == 1.0);
	assert_int_equal(harness.windows[0].samples, 12);
}

static void test_impossible_value_is_a_failure(void **unused)
{
	(void)unused;
	script = (struct script){ .wild_at = START + 30 * S, .fail_from = -1, .fail_to = -1, .gone_from = -1,
	                          .gone_to = -1 };
	run_simulated("polled", 2);
	assert_int_equal(harness.alert_changes, 2);   /* failed, then ok again at the retry 5 s later */
	/* 06:00:30 read -5 lx; reopened at :35, sampling again from :40 */
	assert_true(harness.windows[0].coverage == 50000.0 / 60000.0);
	assert_true(harness.windows[0].lux_min == 100.0);   /* the wild value never reached the window */
}

/* ---- an event-driven driver on the real clock ---- */

struct events {
	int fd;
	struct driver_event queue[64];
	size_t count;
	int level;
	int fail;                    /* read_events returns this when non-zero */
};

static struct events events;

static int event_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                      size_t err_size)
{
	(void)sc;
	(void)env;
	(void)err;
	(void)err_size;
	*state = &events;
	return 0;
}

static int event_fd(void *state)
{
	return ((struct events *)state)->fd;
}

static int event_level(void *state)
{
	return ((struct events *)state)->level;
}

static int event_read(void *state, struct driver_event *out, size_t max)
{
	struct events *queue = state;
	uint64_t value;
	(void)!read(queue->fd, &value, sizeof(value));
	if (queue->fail)
		return queue->fail;
	size_t count = queue->count < max ? queue->count : max;
	memcpy(out, queue->queue, count * sizeof(*out));
	memmove(queue->queue, queue->queue + count, (queue->count - count) * sizeof(*out));
	queue->count -= count;
	return (int)count;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An event that happened at real time t_ms (in the past). */
static void push(enum driver_event_kind kind, int64_t t_ms, bool active)
{
	int64_t ago_ms = realtime_ms() - t_ms;
	events.queue[events.count++] = (struct driver_event){
		.kind = kind, .time_ns = monotonic_ns() - ago_ms * 1000000, .active = active,
	};
	uint64_t one = 1;
	assert_int_equal(write(events.fd, &one, sizeof(one)), sizeof(one));
	/* let the loop see it */
	while (sd_event_run(harness.event, 0) > 0)
		;
}

static void sleep_until(int64_t t_ms)
{
	for (int64_t now = realtime_ms(); now < t_ms; now = realtime_ms()) {
		struct timespec pause = { 0, (long)(t_ms - now) * 1000000 };
		nanosleep(&pause, NULL);
	}
}

static struct sensor *event_sensor(enum sensor_type type)
{
	memset(&harness, 0, sizeof(harness));
	memset(&events, 0, sizeof(events));
	events.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(events.fd >= 0);
	static struct sensor_config config;
	config = (struct sensor_config){ .name = "pass", .type = type, .driver = "event", .interval_s = 1 };
	assert_int_equal(sd_event_new(&harness.event), 0);
	struct schedule_options options = { .simulated = false };
	assert_int_equal(schedule_new(harness.event, &options, &harness.schedule), 0);
	struct sensor_setup setup = {
		.event = harness.event, .schedule = harness.schedule, .window_ms = 1000,
		.events = { .alert = on_alert }, .find_driver = find,
	};
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, &config, &harness.sensor, err, sizeof(err)), 0);
	return harness.sensor;
}

static void event_teardown(void)
{
	sensor_free(harness.sensor);
	schedule_free(harness.schedule);
	sd_event_unref(harness.event);
	close(events.fd);
}

static void test_events_land_in_their_window(void **unused)
{
	(void)unused;
	struct sensor *sensor = event_sensor(SENSOR_FOOTFALL);
	int64_t end0 = sensor_window_end(sensor);
	push(DRIVER_EVENT_PASS, realtime_ms(), false);                 /* in window 0 */
	sleep_until(end0 + 50);
	/* Read before the window was turned over: one that happened after
	 * its end waits for the next window, one before it counts in it. */
	push(DRIVER_EVENT_PASS, end0 + 20, false);
	push(DRIVER_EVENT_PASS, end0 - 30, false);
	struct window_result first, second;
	sensor_close_window(sensor, &first);
	assert_int_equal(first.count, 2);
	/* read after its window closed: counted in the open one, as late */
	push(DRIVER_EVENT_PASS, end0 - 10, false);
	sleep_until(end0 + 1000 + 20);
	sensor_close_window(sensor, &second);
	assert_int_equal(second.count, 2);
	assert_true(second.coverage == 1.0);
	assert_int_equal(sensor_counters(sensor).late_events, 1);
	assert_int_equal(sensor_counters(sensor).readings, 4);
	event_teardown();
}

static void test_lamp_edges_give_exact_seconds(void **unused)
{
	(void)unused;
	struct sensor *sensor = event_sensor(SENSOR_LAMP);
	int64_t end0 = sensor_window_end(sensor);
	sleep_until(end0 + 1);
	/* window 1 = [end0, end0 + 1000): lit for 600 ms of it */
	push(DRIVER_EVENT_LEVEL, end0 + 100, true);
	sleep_until(end0 + 800);
	push(DRIVER_EVENT_LEVEL, end0 + 700, false);
	struct window_result result;
	sensor_close_window(sensor, &result);      /* window 0, cut short by the sensor's start */
	sleep_until(end0 + 1000 + 5);
	sensor_close_window(sensor, &result);
	assert_int_equal(result.start_ms, end0);
	assert_int_equal(result.on_s, 1);          /* 600 ms, rounded */
	assert_true(result.coverage == 1.0);
	event_teardown();
}

static void test_event_read_failure_raises_failed(void **unused)
{
	(void)unused;
	struct sensor *sensor = event_sensor(SENSOR_FOOTFALL);
	events.fail = -ENODEV;
	push(DRIVER_EVENT_PASS, realtime_ms(), false);
	assert_int_equal(harness.alert_changes, 1);
	assert_false(harness.last_ok);
	assert_int_equal(harness.last_kind, ALERT_FAILED);
	assert_string_equal(sensor_alerts(sensor)->problems[ALERT_FAILED].detail, "cannot read events: No such device");
	assert_int_equal(sensor_counters(sensor).failures, 1);
	event_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_and_recovery),
		cmocka_unit_test(test_slow_conversion_is_collected_later),
		cmocka_unit_test(test_impossible_value_is_a_failure),
		cmocka_unit_test(test_events_land_in_their_window),
		cmocka_unit_test(test_lamp_edges_give_exact_seconds),
		cmocka_unit_test(test_event_read_failure_raises_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
