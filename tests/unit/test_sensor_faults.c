/* test_sensor_faults.c — a sensor (gateway/sensor.c, sensor_events.c)
 * whose device misbehaves, on a real sd-event loop and a simulated clock:
 * values out of physical range (negative, 1e9 and NaN lux, a million
 * passes a sample, a storm of edges) never reach a reading or a window,
 * are counted as implausible and raise `failed`, which clears by itself
 * once the device reads well again and not before; a read error says what
 * the file held; an event-driven device that disappears and comes back;
 * a sample that hangs on the worker thread; and the sim driver's injected
 * garbage played through all of it. */
#include <errno.h>
#include <math.h>
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
#include "sim_test_support.h"

#define S 1000
#define START 1793599200000LL   /* 2026-11-02T06:00:00Z, before sunrise */
#define STORM 1000000

/* ---- a polled driver: a good value, and at some slots something else ---- */

struct wild {
	int64_t at_ms;               /* the slot, from START */
	double value;
	int error;                   /* < 0: sample() fails with it, saying text */
	const char *text;
};

struct script {
	double good;
	struct wild wild[8];
	size_t count;
};

static struct script polled;

static int polled_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                       size_t err_size)
{
	(void)sc;
	(void)env;
	(void)err;
	(void)err_size;
	*state = &polled;
	return 0;
}

static void nothing_to_close(void *state)
{
	(void)state;
}

static int polled_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)state;
	memset(out, 0, sizeof(*out));
	out->value = polled.good;
	for (size_t i = 0; i < polled.count; i++) {
		if (START + polled.wild[i].at_ms != now_ms)
			continue;
		if (polled.wild[i].error < 0) {
			snprintf(out->error, sizeof(out->error), "%s", polled.wild[i].text);
			return polled.wild[i].error;
		}
		out->value = polled.wild[i].value;
	}
	return 0;
}

/* ---- an event-driven footfall input: passes the test queues, a storm,
 * and a device that can go away ---- */

static struct {
	int fd;                      /* never written: the sensor reads at its ticks */
	bool open, gone;
	uint64_t queued;             /* passes waiting to be read */
	int64_t opened_ms[16];       /* every try to open, on the schedule's clock */
	size_t opens;
} edges;

static int edges_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                      size_t err_size)
{
	(void)sc;
	if (edges.opens < 16)
		edges.opened_ms[edges.opens] = env->now_ms;
	edges.opens++;
	if (edges.gone) {
		snprintf(err, err_size, "fake: no such chip");
		return -ENODEV;
	}
	edges.open = true;
	*state = &edges;
	return 0;
}

static void edges_close(void *state)
{
	(void)state;
	edges.open = false;
	edges.queued = 0;   /* what the line did while closed, nobody saw */
}

static int edges_fd(void *state)
{
	(void)state;
	return edges.fd;
}

static int edges_read(void *state, struct driver_event *events, size_t max)
{
	(void)state;
	if (edges.gone)
		return -ENODEV;
	size_t count = edges.queued < max ? (size_t)edges.queued : max;
	for (size_t i = 0; i < count; i++)
		events[i] = (struct driver_event){ .kind = DRIVER_EVENT_PASS, .direction = DIRECTION_NONE };
	edges.queued -= count;
	return (int)count;
}

/* ---- a polled driver whose first sample hangs until the test lets it go ---- */

static struct {
	int release[2];              /* a pipe: the first sample reads it */
	bool fails;                  /* the first sample comes back with -EIO */
	atomic_int samples;
	atomic_bool returned;        /* the first sample is back */
	atomic_int closes;           /* the driver closed, by the loop or the worker thread */
	int64_t opened_ms[8];        /* on the loop */
	size_t opens;
} hang;

static int hang_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                     size_t err_size)
{
	if (hang.opens < 8)
		hang.opened_ms[hang.opens] = env->now_ms;
	hang.opens++;
	return polled_open(sc, env, state, err, err_size);
}

static int hang_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)state;
	(void)now_ms;
	memset(out, 0, sizeof(*out));
	out->value = 100;
	if (atomic_fetch_add(&hang.samples, 1) > 0)
		return 0;
	char byte;
	while (read(hang.release[0], &byte, 1) < 0 && errno == EINTR)
		;
	atomic_store(&hang.returned, true);
	return hang.fails ? -EIO : 0;
}

static void hang_close(void *state)
{
	(void)state;
	atomic_fetch_add(&hang.closes, 1);
}

static const struct driver_ops light_driver = {
	.name = "light", .types = 1u << SENSOR_LIGHT, .open = polled_open, .close = nothing_to_close,
	.sample = polled_sample,
};
static const struct driver_ops counter_driver = {
	.name = "counter", .types = 1u << SENSOR_FOOTFALL, .open = polled_open, .close = nothing_to_close,
	.sample = polled_sample,
};
static const struct driver_ops edges_driver = {
	.name = "edges", .types = 1u << SENSOR_FOOTFALL, .open = edges_open, .close = edges_close,
	.event_fd = edges_fd, .read_events = edges_read,
};
static const struct driver_ops hang_driver = {
	.name = "hang", .types = 1u << SENSOR_LIGHT, .open = hang_open, .close = hang_close,
	.sample = hang_sample, .sample_may_block = true,
};

static const struct driver_ops *find(const char *name)
{
	static const struct driver_ops *const drivers[] = { &light_driver, &counter_driver, &edges_driver,
		                                            &hang_driver };
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return driver_find(name);   /* sim */
}

/* ---- harness: one sensor on a simulated clock, 1 min windows ---- */

#define CHANGES_MAX 16
#define READINGS_MAX 1024

struct change {
	int64_t at_ms;               /* from START */
	bool ok;                     /* else failed, with detail since since_ms */
	int64_t since_ms;
	char detail[ALERT_DETAIL_SIZE];
};

static struct {
	sd_event *event;
	struct schedule *schedule;
	struct sensor *sensor;
	struct window_result windows[16];
	size_t window_count;
	struct sensor_counters counters;
	struct change changes[CHANGES_MAX];
	size_t change_count;
	double readings[READINGS_MAX];
	size_t reading_count;
} run;

static void on_alert(void *userdata, struct sensor *sensor)
{
	(void)userdata;
	enum alert_kind kind;
	const struct alert_problem *shown = alert_shown(sensor_alerts(sensor), &kind);
	assert_true(!shown || kind == ALERT_FAILED);
	assert_true(run.change_count < CHANGES_MAX);
	struct change *change = &run.changes[run.change_count++];
	*change = (struct change){ .at_ms = schedule_now(run.schedule) - START, .ok = !shown };
	if (shown) {
		change->since_ms = shown->since_ms - START;
		snprintf(change->detail, sizeof(change->detail), "%s", shown->detail);
	}
}

static void on_reading(void *userdata, struct sensor *sensor, int64_t ts_ms, double value,
                       enum reading_direction direction)
{
	(void)userdata;
	(void)sensor;
	(void)ts_ms;
	(void)direction;
	if (run.reading_count < READINGS_MAX)
		run.readings[run.reading_count++] = value;
}

static int64_t on_window(void *userdata, int64_t now_ms)
{
	(void)userdata;
	while (sensor_window_end(run.sensor) <= now_ms && run.window_count < 16)
		sensor_close_window(run.sensor, &run.windows[run.window_count++]);
	return now_ms + 60 * S;
}

static void on_end(void *userdata)
{
	(void)userdata;
	sd_event_exit(run.event, 0);
}

typedef int64_t (*test_timer)(void *userdata, int64_t now_ms);

/* The sensor made and started at START; timers of the test's own at
 * START + their first time (at half seconds, clear of the sensor's
 * slots).  At speed 0 the clock runs as fast as it can; a sensor with a
 * worker thread needs real time between its slots, or its samples would
 * all come back too late. */
static void run_sensor(const struct sensor_config *config, int64_t seconds, double speed, const char *profiles,
                       const test_timer *timers, const int64_t *first_ms, size_t timer_count)
{
	memset(&run, 0, sizeof(run));
	assert_int_equal(sd_event_new(&run.event), 0);
	struct schedule_options options = { .simulated = true, .start_ms = START, .end_ms = START + seconds * S,
		                            .speed = speed, .on_end = on_end };
	assert_int_equal(schedule_new(run.event, &options, &run.schedule), 0);
	struct sensor_setup setup = {
		.event = run.event, .schedule = run.schedule, .window_ms = 60 * S, .latitude = 59.37,
		.longitude = 16.51, .env = { .district = "Test", .profiles = profiles },
		.events = { .reading = on_reading, .alert = on_alert }, .find_driver = find,
	};
	char err[256] = "";
	assert_int_equal(sensor_new(&setup, config, &run.sensor, err, sizeof(err)), 0);
	assert_int_equal(sensor_start(run.sensor, 1), 0);
	assert_int_equal(schedule_add(run.schedule, START + 60 * S, 0, on_window, NULL), 0);
	for (size_t i = 0; i < timer_count; i++)
		assert_int_equal(schedule_add(run.schedule, START + first_ms[i], 2, timers[i], NULL), 0);
	assert_int_equal(sd_event_loop(run.event), 0);
	run.counters = sensor_counters(run.sensor);
	sensor_free(run.sensor);
	schedule_free(run.schedule);
	sd_event_unref(run.event);
}

static struct sensor_config config_of(enum sensor_type type, const char *driver)
{
	return (struct sensor_config){ .name = "s", .type = type, .driver = (char *)driver, .interval_s = 5,
		                       .dark_lux = 10 };
}

/* failed raised at at_ms, saying detail, then ok again at cleared_ms. */
static void assert_episode(size_t index, int64_t at_ms, const char *detail, int64_t cleared_ms)
{
	assert_true(run.change_count >= 2 * index + 2);
	const struct change *raised = &run.changes[2 * index], *cleared = &run.changes[2 * index + 1];
	assert_false(raised->ok);
	assert_int_equal(raised->since_ms, at_ms);
	assert_string_equal(raised->detail, detail);
	assert_true(cleared->ok);
	assert_int_equal(cleared->at_ms, cleared_ms);
}

static void assert_window(size_t index, unsigned samples, double coverage)
{
	assert_true(index < run.window_count);
	assert_int_equal(run.windows[index].start_ms, START + (int64_t)index * 60 * S);
	assert_int_equal(run.windows[index].samples, samples);
	assert_true(run.windows[index].coverage == coverage);
}

/* ---- polled: out of range ---- */

static void test_light_out_of_range_never_reaches_a_window(void **unused)
{
	(void)unused;
	polled = (struct script){
		.good = 100, .count = 4,
		.wild = { { 30 * S, -5, 0, NULL }, { 90 * S, 1e9, 0, NULL }, { 150 * S, NAN, 0, NULL },
		          { 210 * S, 0, -EIO, "fake: /sys/x/in_illuminance_input holds 'abc', which is not a number" } },
	};
	struct sensor_config config = config_of(SENSOR_LIGHT, "light");
	run_sensor(&config, 4 * 60 + 5, 0, NULL, NULL, NULL, 0);
	/* Each one: failed at its slot, reopened a backoff (5 s) later, read
	 * well on the next slot, 10 s after it: two slots of twelve missing. */
	assert_int_equal(run.window_count, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_window(i, 10, 50.0 / 60.0);
		assert_true(run.windows[i].lux_min == 100 && run.windows[i].lux_max == 100);
		assert_true(run.windows[i].lux_mean == 100);
	}
	assert_episode(0, 30 * S, "read -5 lx, which no working light sensor reads", 40 * S);
	assert_episode(1, 90 * S, "read 1e+09 lx, which no working light sensor reads", 100 * S);
	assert_episode(2, 150 * S, "read nan lx, which no working light sensor reads", 160 * S);
	/* Garbage in the file is said as it was read, not as EIO. */
	assert_episode(3, 210 * S,
	               "cannot read: fake: /sys/x/in_illuminance_input holds 'abc', which is not a number", 220 * S);
	assert_int_equal(run.change_count, 8);
	assert_int_equal(run.counters.implausible, 3);   /* the read error was no value */
	assert_int_equal(run.counters.failures, 4);
	assert_int_equal(run.counters.readings, 4 * 10 + 1);
	for (size_t i = 0; i < run.reading_count; i++)
		assert_true(run.readings[i] == 100);
}

static void test_footfall_faster_than_people_is_rejected(void **unused)
{
	(void)unused;
	/* Three passes a 5 s sample; a million; exactly the bound, 20 a
	 * second (100), which stands; one more than it. */
	polled = (struct script){
		.good = 3, .count = 3,
		.wild = { { 30 * S, STORM, 0, NULL }, { 90 * S, 100, 0, NULL }, { 150 * S, 101, 0, NULL } },
	};
	struct sensor_config config = config_of(SENSOR_FOOTFALL, "counter");
	run_sensor(&config, 3 * 60 + 5, 0, NULL, NULL, NULL, 0);
	assert_int_equal(run.window_count, 3);
	assert_window(0, 10, 50.0 / 60.0);
	assert_int_equal(run.windows[0].count, 10 * 3);
	assert_window(1, 12, 1.0);
	assert_int_equal(run.windows[1].count, 11 * 3 + 100);
	assert_window(2, 10, 50.0 / 60.0);
	assert_int_equal(run.windows[2].count, 10 * 3);
	assert_episode(0, 30 * S, "counted 1000000 passes in 5 s, over 20 a second, which no working footfall "
	                          "sensor counts", 40 * S);
	assert_episode(1, 150 * S, "counted 101 passes in 5 s, over 20 a second, which no working footfall "
	                           "sensor counts", 160 * S);
	assert_int_equal(run.change_count, 4);
	assert_int_equal(run.counters.implausible, 2);
	for (size_t i = 0; i < run.reading_count; i++)
		assert_true(run.readings[i] == 3 || run.readings[i] == 100);
}

/* ---- event-driven: storms, and a device that goes away ---- */

static bool storming;

/* Two passes every 5 s while the line is open, a million while storming. */
static int64_t feed(void *userdata, int64_t now_ms)
{
	(void)userdata;
	if (edges.open)
		edges.queued += storming ? STORM : 2;
	return now_ms + 5 * S;
}

static int64_t toggle_storm(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	storming = !storming;
	return -1;
}

static void edges_reset(void)
{
	memset(&edges, 0, sizeof(edges));
	edges.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(edges.fd >= 0);
	storming = false;
}

static void run_edges(int64_t seconds, const test_timer *timers, const int64_t *first_ms, size_t count)
{
	struct sensor_config config = config_of(SENSOR_FOOTFALL, "edges");
	run_sensor(&config, seconds, 0, NULL, timers, first_ms, count);
	close(edges.fd);
}

#define STORM_DETAIL "counted more than 20 passes within one second, which no working footfall sensor counts"

static void test_storm_of_edges_counts_nothing(void **unused)
{
	(void)unused;
	edges_reset();
	/* One slot's storm: at 62.5 s two passes and a million edges, read at
	 * the 65 s slot; the feed goes on normally from 67.5 s. */
	static const test_timer timers[] = { feed, toggle_storm, toggle_storm };
	static const int64_t first[] = { 2500, 62400, 62600 };
	run_edges(3 * 60 + 1, timers, first, 3);
	/* A simulation stamps an event when it is read: the feed at 57.5 s,
	 * read as the window closes at 60 s, counts in the next window. */
	assert_int_equal(run.window_count, 3);
	assert_int_equal(run.windows[0].count, 22);
	assert_true(run.windows[0].coverage == 1.0);
	/* The storm's slot [60, 65) counts nothing of it and is not covered,
	 * nor is [65, 70) until the reopen; the two passes at 67.5 s went with
	 * the closed line.  So: the feed at 57.5 s, those at 72.5 to
	 * 112.5 s. */
	assert_int_equal(run.windows[1].count, 2 + 18);
	assert_true(run.windows[1].coverage == 50.0 / 60.0);
	assert_int_equal(run.windows[2].count, 24);
	/* Cleared by the first slot after the reopen that had no storm. */
	assert_episode(0, 65 * S, STORM_DETAIL, 75 * S);
	assert_int_equal(run.change_count, 2);
	assert_int_equal(run.counters.implausible, 1);
	assert_int_equal(run.counters.failures, 1);
	/* ... and two in the window open at the end. */
	assert_int_equal(run.counters.readings, 22 + 20 + 24 + 2);
	for (size_t i = 0; i < run.reading_count; i++)
		assert_true(run.readings[i] == 2);
}

static void test_lasting_storm_is_said_once(void **unused)
{
	(void)unused;
	edges_reset();
	/* Storming from 62.5 s to 100 s: each reopen (70, 85 s) finds the
	 * storm again, with the backoff doubling; the reopen at 110 s finds a
	 * quiet line, and its first slot clears. */
	static const test_timer timers[] = { feed, toggle_storm, toggle_storm };
	static const int64_t first[] = { 2500, 62400, 100 * S };
	run_edges(3 * 60 + 1, timers, first, 3);
	assert_int_equal(edges.opens, 4);
	assert_int_equal(edges.opened_ms[1], START + 70 * S);
	assert_int_equal(edges.opened_ms[2], START + 85 * S);
	assert_int_equal(edges.opened_ms[3], START + 110 * S);
	assert_episode(0, 65 * S, STORM_DETAIL, 115 * S);
	assert_int_equal(run.change_count, 2);   /* not raised and cleared at every reopen */
	assert_int_equal(run.counters.implausible, 3);
	assert_int_equal(run.counters.failures, 1);
	assert_int_equal(run.windows[1].count, 4);   /* fed at 57.5 and 112.5 s */
	assert_true(run.windows[1].coverage == 10.0 / 60.0);
}

static int64_t toggle_gone(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	edges.gone = !edges.gone;
	return -1;
}

static void test_input_gone_and_back(void **unused)
{
	(void)unused;
	edges_reset();
	/* The chip goes away at 59.5 s and is back at 90 s.  The window's
	 * close at 60 s finds it gone: failed, and tried again after the
	 * backoff (5 s, then 10 and 20): at 65, 75 and 95 s. */
	static const test_timer timers[] = { feed, toggle_gone, toggle_gone };
	static const int64_t first[] = { 2500, 59500, 90 * S };
	run_edges(2 * 60 + 1, timers, first, 3);
	assert_int_equal(edges.opens, 4);
	assert_int_equal(edges.opened_ms[1], START + 65 * S);
	assert_int_equal(edges.opened_ms[2], START + 75 * S);
	assert_int_equal(edges.opened_ms[3], START + 95 * S);
	assert_episode(0, 60 * S, "cannot read events: No such device", 95 * S);
	assert_int_equal(run.change_count, 2);
	/* The feeds at 2.5 to 52.5 s; the one at 57.5 s was never read.  From
	 * the reopen at 95 s, those at 97.5 to 112.5 s (117.5 s is read at the
	 * close, for the next window). */
	assert_int_equal(run.window_count, 2);
	assert_int_equal(run.windows[0].count, 22);
	assert_true(run.windows[0].coverage == 1.0);
	assert_int_equal(run.windows[1].count, 8);
	assert_true(run.windows[1].coverage == 25.0 / 60.0);
	assert_int_equal(run.counters.failures, 1);
	assert_int_equal(run.counters.implausible, 0);   /* a missing device reads nothing wrong */
	assert_int_equal(run.counters.readings, 22 + 8 + 2);
}

/* ---- a sample that hangs on the worker ---- */

/* Let the first sample go, and wait until it is back, so that the slot at
 * 65 s takes it. */
static int64_t release_hang(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	assert_int_equal(write(hang.release[1], "x", 1), 1);
	for (int i = 0; i < 5000 && !atomic_load(&hang.returned); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return -1;
}

static void run_hang(bool fails, int64_t seconds)
{
	memset(&hang, 0, sizeof(hang));
	hang.fails = fails;
	assert_int_equal(pipe(hang.release), 0);
	static const test_timer timers[] = { release_hang };
	static const int64_t first[] = { 62500 };
	struct sensor_config config = config_of(SENSOR_LIGHT, "hang");
	run_sensor(&config, seconds, 50, NULL, timers, first, 1);
	close(hang.release[0]);
	close(hang.release[1]);
}

static void test_hung_sample_is_said_once(void **unused)
{
	(void)unused;
	run_hang(false, 70);
	/* The sample started at 0 s is still out at the slot 30 s later. */
	assert_true(atomic_load(&hang.returned));
	assert_int_equal(run.change_count, 2);
	assert_false(run.changes[0].ok);
	assert_int_equal(run.changes[0].at_ms, 30 * S);
	assert_int_equal(run.changes[0].since_ms, 30 * S);
	assert_string_equal(run.changes[0].detail, "no answer from the device for 30 s");
	/* Back, and good: cleared when it came back, not dated at its start. */
	assert_true(run.changes[1].ok);
	assert_true(run.changes[1].at_ms >= 62500 && run.changes[1].at_ms <= 65 * S);
	assert_int_equal(run.counters.failures, 1);
	assert_int_equal(run.window_count, 1);
	assert_window(0, 0, 0.0);
	/* Slots 5 ... 60 s, and the sample itself, back after its window. */
	assert_true(run.counters.missed_slots >= 13);
}

static void test_hung_sample_that_fails_backs_off_from_its_return(void **unused)
{
	(void)unused;
	/* Back at 62.5 s with an error: a failure from then (not from 0 s,
	 * when it was started), so the driver is opened again a backoff
	 * (doubled: 10 s) after its return, and the alert stays as raised. */
	run_hang(true, 100);
	assert_int_equal(hang.opens, 2);
	assert_true(hang.opened_ms[1] >= START + 72500);
	/* The sample of the first slot after the reopen reads well. */
	int64_t first_slot = window_align(hang.opened_ms[1] - START, 5 * S) + 5 * S;
	assert_episode(0, 30 * S, "no answer from the device for 30 s", first_slot);
	assert_int_equal(run.change_count, 2);
	assert_int_equal(run.counters.failures, 1);
}

/* A stop while a sample hangs: the window is cut and the sensor freed at
 * once, not when (if) the device answers; the worker thread closes the
 * driver when the sample finally returns. */
static struct window_result stop_cut;
static bool stop_cut_kept;

static int64_t stop_now(void *userdata, int64_t now_ms)
{
	(void)userdata;
	stop_cut_kept = sensor_cut_window(run.sensor, now_ms, &stop_cut, NULL);
	sd_event_exit(run.event, 0);
	return -1;
}

static void test_stop_leaves_a_hung_sample_behind(void **unused)
{
	(void)unused;
	memset(&hang, 0, sizeof(hang));
	assert_int_equal(pipe(hang.release), 0);
	static const test_timer timers[] = { stop_now };
	static const int64_t first[] = { 40500 };
	struct sensor_config config = config_of(SENSOR_LIGHT, "hang");
	struct timespec before, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	run_sensor(&config, 60, 50, NULL, timers, first, 1);   /* cut, then sensor_free() */
	clock_gettime(CLOCK_MONOTONIC, &after);
	/* Raised at 30 s; the run ended with the sample still out. */
	assert_int_equal(run.change_count, 1);
	assert_string_equal(run.changes[0].detail, "no answer from the device for 30 s");
	assert_false(atomic_load(&hang.returned));
	assert_int_equal(atomic_load(&hang.closes), 0);
	/* The window as it stood: nothing read in it, so nothing to flush. */
	assert_false(stop_cut_kept);
	/* 40.5 virtual seconds at speed 50 are 0.8 s; the stop did not wait. */
	double seconds = (double)(after.tv_sec - before.tv_sec) + (double)(after.tv_nsec - before.tv_nsec) / 1e9;
	assert_true(seconds < 5.0);
	/* The device answers at last: the thread closes the driver and goes. */
	assert_int_equal(write(hang.release[1], "x", 1), 1);
	for (int i = 0; i < 5000 && atomic_load(&hang.closes) == 0; i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	assert_true(atomic_load(&hang.returned));
	assert_int_equal(atomic_load(&hang.closes), 1);
	/* Give the detached thread time to free the worker after the close. */
	nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	close(hang.release[0]);
	close(hang.release[1]);
}

/* ---- the sim driver's injected garbage ---- */

static void run_sim(enum sensor_type type, const char *inject, const char *profiles, int64_t seconds)
{
	struct sensor_option options[2] = { { .key = "seed", .value = "3" }, { .key = "inject", .value = (char *)inject } };
	struct sensor_config config = config_of(type, "sim");
	config.options = options;
	config.option_count = inject ? 2 : 1;
	run_sensor(&config, seconds, 0, profiles, NULL, NULL, 0);
}

static void test_sim_garbage(void **unused)
{
	(void)unused;
	char profiles[64];
	struct sim_test_profile profile = sim_test_profile();
	sim_test_write_profile(profiles, sizeof(profiles), &profile);
	const char *inject = "garbage@2026-11-02T06:01:00Z/1min";

	/* Light: -5, 1e9 and NaN lx by slot, from 60 s: read at 60 (-5), 70,
	 * 85 (NaN) and 110 s (1e9) as the backoff doubles; good at 155 s. */
	run_sim(SENSOR_LIGHT, inject, profiles, 4 * 60 + 5);
	assert_episode(0, 60 * S, "read -5 lx, which no working light sensor reads", 155 * S);
	assert_int_equal(run.change_count, 2);
	assert_int_equal(run.counters.implausible, 4);
	for (size_t i = 0; i < run.window_count; i++)
		assert_true(run.windows[i].samples == 0 ||
		            (run.windows[i].lux_min >= 0 && run.windows[i].lux_max <= 200000));
	assert_true(run.windows[1].coverage < 1.0);
	for (size_t i = 0; i < run.reading_count; i++)
		assert_true(run.readings[i] >= 0 && run.readings[i] <= 200000);

	/* Footfall: a million passes a sample.  The windows hold what the
	 * same sensor counts without the garbage, less the slots it was out. */
	run_sim(SENSOR_FOOTFALL, NULL, profiles, 4 * 60 + 5);
	struct window_result clean[4];
	assert_int_equal(run.window_count, 4);
	memcpy(clean, run.windows, sizeof(clean));
	run_sim(SENSOR_FOOTFALL, inject, profiles, 4 * 60 + 5);
	assert_episode(0, 60 * S, "counted 1000000 passes in 5 s, over 20 a second, which no working footfall "
	                          "sensor counts", 155 * S);
	assert_int_equal(run.counters.implausible, 4);
	assert_int_equal(run.windows[0].count, clean[0].count);
	assert_true(run.windows[1].count < clean[1].count);
	assert_true(run.windows[2].count <= clean[2].count && run.windows[2].coverage < 1.0);
	assert_int_equal(run.windows[3].count, clean[3].count);
	for (size_t i = 0; i < run.reading_count; i++)
		assert_true(run.readings[i] < 100);

	/* A lamp neither lit nor dark. */
	run_sim(SENSOR_LAMP, inject, profiles, 2 * 60 + 5);
	assert_false(run.changes[0].ok);
	assert_string_equal(run.changes[0].detail, "read 0.5 on, which no working lamp sensor reads");
	unlink(profiles);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_light_out_of_range_never_reaches_a_window),
		cmocka_unit_test(test_footfall_faster_than_people_is_rejected),
		cmocka_unit_test(test_storm_of_edges_counts_nothing),
		cmocka_unit_test(test_lasting_storm_is_said_once),
		cmocka_unit_test(test_input_gone_and_back),
		cmocka_unit_test(test_hung_sample_is_said_once),
		cmocka_unit_test(test_hung_sample_that_fails_backs_off_from_its_return),
		cmocka_unit_test(test_stop_leaves_a_hung_sample_behind),
		cmocka_unit_test(test_sim_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
