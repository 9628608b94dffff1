/* test_sensor.c — one sensor at run time (gateway/sensor.c) on a real
 * sd-event loop, with drivers played by the test through the sensor's
 * driver lookup seam: a polled driver that fails, recovers, converts
 * slowly or reads the impossible, on a simulated clock; an event-driven
 * driver whose events carry CLOCK_MONOTONIC stamps, on the real clock, to
 * check that each one lands in the window it happened in; and, on the real
 * clock too, a driver whose sample() sleeps like an IIO light driver in
 * read(2), to check that the loop keeps turning meanwhile (a 10 ms timer on
 * the same loop, measured) and that its samples land where a sample taken
 * on the loop would. */
#include <errno.h>
#include <pthread.h>
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

/* ---- a polled driver whose sample() sleeps, as an IIO light driver does
 * in read(2); written to from the sensor's worker thread, read by the test
 * after the sensor was freed (the thread joined) ---- */

#define SLEEPY_MAX 16

struct sleepy {
	/* set before the run */
	int sleep_ms[SLEEPY_MAX];       /* how long each sample sleeps; 0: 300 ms */
	int fail_at;                    /* this sample (from 0) fails with -EIO; -1: none */
	/* what happened */
	atomic_int samples;
	atomic_bool in_sample, closed_in_sample;
	int64_t started_ms[SLEEPY_MAX];                   /* the now_ms each was started for */
	int64_t slept_from_ns[SLEEPY_MAX], slept_to_ns[SLEEPY_MAX];   /* CLOCK_MONOTONIC */
	bool off_loop[SLEEPY_MAX];                        /* not on the loop's thread */
	int opens;
	int64_t opened_ms[8];
};

static struct sleepy sleepy;
static pthread_t loop_thread;

static int64_t monotonic_ns(void);

static int sleepy_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                       size_t err_size)
{
	(void)sc;
	(void)err;
	(void)err_size;
	if (sleepy.opens < 8)
		sleepy.opened_ms[sleepy.opens] = env->now_ms;
	sleepy.opens++;
	*state = &sleepy;
	return 0;
}

static void sleepy_close(void *state)
{
	(void)state;
	if (atomic_load(&sleepy.in_sample))
		atomic_store(&sleepy.closed_in_sample, true);
}

static int sleepy_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)state;
	atomic_store(&sleepy.in_sample, true);
	int i = atomic_fetch_add(&sleepy.samples, 1);
	int ms = i < SLEEPY_MAX && sleepy.sleep_ms[i] > 0 ? sleepy.sleep_ms[i] : 300;
	if (i < SLEEPY_MAX) {
		sleepy.started_ms[i] = now_ms;
		sleepy.off_loop[i] = !pthread_equal(pthread_self(), loop_thread);
		sleepy.slept_from_ns[i] = monotonic_ns();
	}
	struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
		;
	if (i < SLEEPY_MAX)
		sleepy.slept_to_ns[i] = monotonic_ns();
	atomic_store(&sleepy.in_sample, false);
	if (i == sleepy.fail_at)
		return -EIO;
	memset(out, 0, sizeof(*out));
	out->value = 100.0 + i;
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

static const struct driver_ops sleepy_driver = {
	.name = "sleepy", .types = 1u << SENSOR_LIGHT, .open = sleepy_open, .close = sleepy_close,
	.sample = sleepy_sample, .sample_may_block = true,
};
/* The same sample(), not said to block: the sensor calls it on the loop. */
static const struct driver_ops sleepy_on_loop_driver = {
	.name = "sleepy-on-loop", .types = 1u << SENSOR_LIGHT, .open = sleepy_open, .close = sleepy_close,
	.sample = sleepy_sample,
};

static const struct driver_ops *find(const char *name)
{
	if (strcmp(name, "sleepy") == 0)
		return &sleepy_driver;
	if (strcmp(name, "sleepy-on-loop") == 0)
		return &sleepy_on_loop_driver;
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
	int64_t window_ms;
	int alert_changes;
	int64_t failed_since_ms;           /* when the last ALERT_FAILED raised said it began */
	enum alert_kind last_kind;
	bool last_ok;
};

static struct harness harness;

static void on_alert(void *userdata, struct sensor *sensor)
{
	(void)userdata;
	harness.alert_changes++;
	harness.last_ok = alert_shown(sensor_alerts(sensor), &harness.last_kind) == NULL;
	if (!harness.last_ok && harness.last_kind == ALERT_FAILED)
		harness.failed_since_ms = sensor_alerts(sensor)->problems[ALERT_FAILED].since_ms;
}

static int64_t on_window(void *userdata, int64_t now_ms)
{
	(void)userdata;
	while (sensor_window_end(harness.sensor) <= now_ms && harness.window_count < 64)
		sensor_close_window(harness.sensor, &harness.windows[harness.window_count++]);
	return window_align(now_ms, harness.window_ms) + harness.window_ms;
}

static void on_end(void *userdata)
{
	(void)userdata;
	sd_event_exit(harness.event, 0);
}

static void run_simulated(const char *driver, int64_t minutes)
{
	memset(&harness, 0, sizeof(harness));
	harness.window_ms = 60 * S;
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

static void test_open_is_not_recovery(void **unused)
{
	(void)unused;
	/* The device opens fine all along, but every read fails from 06:02:00
	 * to 06:03:00 (a chip on its bus that stopped answering). */
	script = (struct script){ .fail_from = START + 120 * S, .fail_to = START + 180 * S, .gone_from = -1,
	                          .gone_to = -1, .wild_at = -1 };
	run_simulated("polled", 5);
	/* Failed at 06:02:00; each retry opens, samples on the next slot and
	 * fails again, so the backoff doubles (5, 10, 20, 40 s): opens at
	 * :05, :20, :45 and 06:03:30, whose sample at :35 is good. */
	assert_int_equal(script.opens, 1 + 4);
	assert_int_equal(harness.alert_changes, 2);   /* raised once, cleared once: no flapping */
	assert_true(harness.last_ok);
	assert_int_equal(harness.counters.failures, 1);
	assert_true(harness.windows[2].coverage == 0.0);
	assert_true(harness.windows[3].coverage == 25000.0 / 60000.0);
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

/* ---- a sample() that sleeps, on the real clock ---- */

#define W (2 * S)               /* windows of two 1 s slots */
#define TICKS_MAX 4096

/* A 10 ms timer on the sensor's loop: when it fired. */
static struct {
	sd_event_source *source;
	int64_t at_ns[TICKS_MAX];
	size_t count;
} ticker;

static int on_tick(sd_event_source *source, uint64_t usec, void *userdata)
{
	(void)usec;
	(void)userdata;
	if (ticker.count < TICKS_MAX)
		ticker.at_ns[ticker.count++] = monotonic_ns();
	sd_event_source_set_time_relative(source, 10 * 1000);
	sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
	return 0;
}

/* The longest the loop went without a tick. */
static int64_t ticker_max_gap_ms(void)
{
	int64_t gap = 0;
	for (size_t i = 1; i < ticker.count; i++)
		if (ticker.at_ns[i] - ticker.at_ns[i - 1] > gap)
			gap = ticker.at_ns[i] - ticker.at_ns[i - 1];
	return gap / 1000000;
}

/* Ticks while sample i slept. */
static size_t ticks_while_sleeping(int i)
{
	size_t count = 0;
	for (size_t t = 0; t < ticker.count; t++)
		count += ticker.at_ns[t] >= sleepy.slept_from_ns[i] && ticker.at_ns[t] <= sleepy.slept_to_ns[i];
	return count;
}

static int64_t on_stop(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	sd_event_exit(harness.event, 0);
	return -1;
}

/* A light sensor sampled every second on the real clock, made 300 ms before
 * a window boundary t0 (returned): its first slot is t0, windows[0] is the
 * empty one before it, windows[1] starts at t0.  The loop stops at stop_ms
 * after t0. */
static int64_t real_setup(const char *driver, bool ticking, int64_t stop_ms)
{
	memset(&harness, 0, sizeof(harness));
	memset(&ticker, 0, sizeof(ticker));
	harness.window_ms = W;
	loop_thread = pthread_self();
	int64_t t0 = window_align(realtime_ms() + 400, W) + W;
	sleep_until(t0 - 300);
	static struct sensor_config config;
	config = (struct sensor_config){ .name = "ljus", .type = SENSOR_LIGHT, .driver = (char *)driver,
	                                 .interval_s = 1, .dark_lux = 10 };
	assert_int_equal(sd_event_new(&harness.event), 0);
	struct schedule_options options = { .simulated = false };
	assert_int_equal(schedule_new(harness.event, &options, &harness.schedule), 0);
	struct sensor_setup setup = {
		.event = harness.event, .schedule = harness.schedule, .window_ms = W,
		.events = { .alert = on_alert }, .find_driver = find,
	};
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, &config, &harness.sensor, err, sizeof(err)), 0);
	assert_int_equal(sensor_start(harness.sensor, 1), 0);
	assert_int_equal(schedule_add(harness.schedule, t0, 0, on_window, NULL), 0);
	assert_int_equal(schedule_add(harness.schedule, t0 + stop_ms, 9, on_stop, NULL), 0);
	if (ticking)
		assert_int_equal(sd_event_add_time_relative(harness.event, &ticker.source, CLOCK_MONOTONIC, 10 * 1000,
		                                            1, on_tick, NULL), 0);
	assert_true(realtime_ms() < t0);   /* all set up before the first slot */
	return t0;
}

static void real_teardown(void)
{
	harness.counters = sensor_counters(harness.sensor);
	sensor_free(harness.sensor);
	ticker.source = sd_event_source_disable_unref(ticker.source);
	schedule_free(harness.schedule);
	sd_event_unref(harness.event);
}

/* count samples before the stop; the one started at the stop's instant may
 * have entered sample() before the sensor was freed, or been dropped. */
static bool sampled(int count)
{
	int samples = atomic_load(&sleepy.samples);
	return samples == count || samples == count + 1;
}

static void sleepy_reset(void)
{
	memset(&sleepy, 0, sizeof(sleepy));
	sleepy.fail_at = -1;
}

static void assert_light_window(const struct window_result *w, int64_t start, unsigned samples, double coverage,
                                double lux_min, double lux_max)
{
	assert_int_equal(w->start_ms, start);
	assert_int_equal(w->samples, samples);
	assert_true(w->coverage == coverage);
	assert_true(w->lux_min == lux_min);
	assert_true(w->lux_max == lux_max);
}

static void test_sleeping_sample_keeps_the_loop_turning(void **unused)
{
	(void)unused;
	/* The same 300 ms sample() first on the loop, as it was before the
	 * worker: the 10 ms timer stalls for the whole conversion. */
	sleepy_reset();
	int64_t t0 = real_setup("sleepy-on-loop", true, W + 50);
	assert_int_equal(sd_event_loop(harness.event), 0);
	real_teardown();
	int64_t blocked_gap_ms = ticker_max_gap_ms();
	size_t blocked_ticks = ticks_while_sleeping(0) + ticks_while_sleeping(1);
	struct window_result on_loop = harness.windows[1];
	print_message("on the loop: longest gap between 10 ms ticks %lld ms, %zu ticks in 2 x 300 ms of sample()\n",
	              (long long)blocked_gap_ms, blocked_ticks);
	assert_false(sleepy.off_loop[0]);
	assert_true(blocked_gap_ms >= 290);
	assert_true(blocked_ticks <= 2);
	assert_light_window(&on_loop, t0, 2, 1.0, 100, 101);

	/* Said to block: on the worker, the timer goes on ticking. */
	sleepy_reset();
	t0 = real_setup("sleepy", true, W + 50);
	assert_int_equal(sd_event_loop(harness.event), 0);
	real_teardown();
	int64_t gap_ms = ticker_max_gap_ms();
	size_t ticks = ticks_while_sleeping(0) + ticks_while_sleeping(1);
	print_message("on the worker: longest gap %lld ms, %zu ticks in 2 x 300 ms of sample(), %zu ticks in all\n",
	              (long long)gap_ms, ticks, ticker.count);
	assert_true(sampled(2));
	assert_true(sleepy.off_loop[0] && sleepy.off_loop[1]);
	/* 60 ticks at 10 ms, 10 ms apart; valgrind slows the loop to half. */
	assert_true(gap_ms < 150);
	assert_true(ticks >= 12);
	/* Each sample was started for its slot, and its window is the one the
	 * loop gave it. */
	assert_true(sleepy.started_ms[0] >= t0 && sleepy.started_ms[0] < t0 + 100);
	assert_true(sleepy.started_ms[1] >= t0 + S && sleepy.started_ms[1] < t0 + S + 100);
	assert_light_window(&harness.windows[1], t0, 2, on_loop.coverage, on_loop.lux_min, on_loop.lux_max);
	assert_int_equal(harness.counters.readings, 2);
	assert_int_equal(harness.counters.missed_slots, 0);
}

static void test_slot_due_while_in_flight_is_missed(void **unused)
{
	(void)unused;
	sleepy_reset();
	/* Slot t0 converts for 1.3 s, over the slot at t0 + 1 s; slot
	 * t0 + 3 s converts for 1.3 s, past its window's end at t0 + 4 s and
	 * over the slot there. */
	sleepy.sleep_ms[0] = 1300;
	sleepy.sleep_ms[2] = 1300;
	int64_t t0 = real_setup("sleepy", false, 3 * W + 50);
	assert_int_equal(sd_event_loop(harness.event), 0);
	real_teardown();
	/* Four samples in six slots: none queued behind one in flight. */
	assert_true(sampled(4));
	assert_true(sleepy.started_ms[1] >= t0 + 2 * S && sleepy.started_ms[1] < t0 + 2 * S + 100);
	assert_true(sleepy.started_ms[3] >= t0 + 5 * S && sleepy.started_ms[3] < t0 + 5 * S + 100);
	/* Back at t0 + 1.3 s, sample 0 still counts in [t0, t0 + 2 s) for its
	 * slot only; sample 2, back after its window closed, counts nowhere. */
	assert_int_equal(harness.window_count, 4);
	assert_light_window(&harness.windows[1], t0, 1, 0.5, 100, 100);
	assert_light_window(&harness.windows[2], t0 + W, 1, 0.5, 101, 101);
	assert_light_window(&harness.windows[3], t0 + 2 * W, 1, 0.5, 103, 103);
	assert_int_equal(harness.counters.missed_slots, 3);
	assert_int_equal(harness.counters.readings, 3);
}

static void test_failed_sample_on_the_worker_backs_off(void **unused)
{
	(void)unused;
	sleepy_reset();
	sleepy.fail_at = 1;   /* the sample for slot t0 + 1 s */
	int64_t t0 = real_setup("sleepy", false, 2 * W + 50);
	assert_int_equal(sd_event_loop(harness.event), 0);
	real_teardown();
	/* Failed as a sample on the loop fails: dated at its slot's start,
	 * closed, opened again a backoff (the 1 s interval) later, sampling
	 * again on the grid. */
	assert_int_equal(harness.counters.failures, 1);
	assert_int_equal(harness.failed_since_ms, sleepy.started_ms[1]);
	assert_int_equal(harness.alert_changes, 2);
	assert_true(harness.last_ok);
	assert_int_equal(sleepy.opens, 2);
	assert_true(sleepy.opened_ms[1] >= sleepy.started_ms[1] + 1000);
	assert_true(sleepy.opened_ms[1] < sleepy.started_ms[1] + 1100);
	assert_false(atomic_load(&sleepy.closed_in_sample));
	assert_true(sampled(3));
	assert_true(sleepy.started_ms[2] >= t0 + 3 * S && sleepy.started_ms[2] < t0 + 3 * S + 100);
	assert_light_window(&harness.windows[1], t0, 1, 0.5, 100, 100);
	assert_light_window(&harness.windows[2], t0 + W, 1, 0.5, 102, 102);
}

static struct {
	int64_t now_ms, took_ms;
	bool kept;
	struct window_result result;
} cut;

static int64_t on_cut(void *userdata, int64_t now_ms)
{
	(void)userdata;
	int64_t before = monotonic_ns();
	cut.now_ms = now_ms;
	cut.kept = sensor_cut_window(harness.sensor, now_ms, &cut.result, NULL);
	cut.took_ms = (monotonic_ns() - before) / 1000000;
	return -1;
}

static void test_stop_and_free_while_a_sample_sleeps(void **unused)
{
	(void)unused;
	sleepy_reset();
	sleepy.sleep_ms[0] = 500;
	sleepy.sleep_ms[1] = 500;
	memset(&cut, 0, sizeof(cut));
	int64_t t0 = real_setup("sleepy", false, S + 100);
	/* A stop 100 ms into the first sample: the cut waits for it and
	 * takes it, up to the stop. */
	assert_int_equal(schedule_add(harness.schedule, t0 + 100, 5, on_cut, NULL), 0);
	assert_int_equal(sd_event_loop(harness.event), 0);
	print_message("cut 100 ms into a 500 ms sample: waited %lld ms\n", (long long)cut.took_ms);
	assert_true(cut.kept);
	assert_int_equal(cut.result.start_ms, t0);
	assert_int_equal(cut.result.samples, 1);
	assert_true(cut.result.lux_min == 100);
	assert_true(cut.result.coverage == (double)(cut.now_ms - t0) / W);
	assert_true(cut.took_ms >= 300);
	/* The loop stopped 100 ms into the second sample: freeing the sensor
	 * waits for it and closes the driver only after it. */
	int64_t before = monotonic_ns();
	real_teardown();
	int64_t took_ms = (monotonic_ns() - before) / 1000000;
	print_message("freed 100 ms into a 500 ms sample: waited %lld ms\n", (long long)took_ms);
	assert_int_equal(atomic_load(&sleepy.samples), 2);
	assert_true(took_ms >= 300);
	assert_false(atomic_load(&sleepy.closed_in_sample));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_and_recovery),
		cmocka_unit_test(test_open_is_not_recovery),
		cmocka_unit_test(test_slow_conversion_is_collected_later),
		cmocka_unit_test(test_impossible_value_is_a_failure),
		cmocka_unit_test(test_events_land_in_their_window),
		cmocka_unit_test(test_lamp_edges_give_exact_seconds),
		cmocka_unit_test(test_event_read_failure_raises_failed),
		cmocka_unit_test(test_sleeping_sample_keeps_the_loop_turning),
		cmocka_unit_test(test_slot_due_while_in_flight_is_missed),
		cmocka_unit_test(test_failed_sample_on_the_worker_backs_off),
		cmocka_unit_test(test_stop_and_free_while_a_sample_sleeps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
