/* test_sensor_reload.c — what a reload (SIGHUP) asks of the sensor layer:
 * sensor_config_copy() and sensor_config_equal(), and sensor_reconfigure()
 * on a real sd-event loop with a simulated clock: a sim sensor whose
 * interval goes from 5 to 1 s in the middle of a window keeps that window,
 * with its samples from before and after and a coverage that credits
 * nothing twice; settings the driver refuses leave the sensor as it was,
 * whether refused at once or only once the old driver let go of a device
 * it held for itself; a device that is not there makes the sensor fail and
 * retry; a threshold turned off clears its alert; a light sensor's lamps
 * (driver_env.paired) reach its driver, at a reload too.  Every
 * configuration the sensor is given is freed right after the call that
 * takes it, so under ASan a sensor that borrowed one would be caught. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sensor.h"

#define S 1000
#define START 1793599200000LL   /* 2026-11-02T06:00:00Z, before sunrise */
#define PROFILES TRYGGD_SOURCE_DIR "/seeds/districts.ini"

/* ---- a polled driver whose device the options describe ---- */

struct device {
	int opens, open_now, max_open_now;
};

static struct device device;

/* What the driver was told at its last open of the sensors paired with
 * its sensor (driver_env.paired): how many, and each one's seed. */
static struct {
	size_t count;
	char seeds[4][16];
} told;

struct scripted {
	double value;
};

static int scripted_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                         size_t err_size)
{
	const char *gone_until = sensor_option(sc, "gone_until");
	const char *value = sensor_option(sc, "value");
	if (sensor_option(sc, "exclusive") && device.open_now > 0) {
		snprintf(err, err_size, "scripted: in use");
		return -EBUSY;
	}
	if (sensor_option(sc, "refuse")) {
		snprintf(err, err_size, "scripted: refused");
		return -EINVAL;
	}
	if (gone_until && env->now_ms < START + strtoll(gone_until, NULL, 10)) {
		snprintf(err, err_size, "scripted: not there");
		return -ENODEV;
	}
	told.count = env->paired_count;
	for (size_t i = 0; i < env->paired_count && i < 4; i++) {
		const char *seed = sensor_option(env->paired[i], "seed");
		snprintf(told.seeds[i], sizeof(told.seeds[i]), "%s", seed ? seed : "");
	}
	struct scripted *scripted = calloc(1, sizeof(*scripted));
	if (!scripted)
		return -ENOMEM;
	scripted->value = value ? strtod(value, NULL) : 100;
	device.opens++;
	device.open_now++;
	if (device.open_now > device.max_open_now)
		device.max_open_now = device.open_now;
	*state = scripted;
	return 0;
}

static void scripted_close(void *state)
{
	device.open_now--;
	free(state);
}

static int scripted_sample(void *state, int64_t now_ms, struct sample *out)
{
	(void)now_ms;
	memset(out, 0, sizeof(*out));
	out->value = ((struct scripted *)state)->value;
	return 0;
}

static const struct driver_ops scripted_driver = {
	.name = "scripted", .types = (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP), .open = scripted_open,
	.close = scripted_close, .sample = scripted_sample,
};

/* A driver whose sample() sleeps 300 ms in the kernel, on the sensor's
 * worker thread. */
static struct {
	atomic_int opens, samples;
	atomic_bool in_sample, closed_in_sample;
} sleepy;

static int sleepy_open(const struct sensor_config *sc, const struct driver_env *env, void **state, char *err,
                       size_t err_size)
{
	(void)sc;
	(void)env;
	(void)err;
	(void)err_size;
	atomic_fetch_add(&sleepy.opens, 1);
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
	(void)now_ms;
	atomic_store(&sleepy.in_sample, true);
	atomic_fetch_add(&sleepy.samples, 1);
	struct timespec pause = { 0, 300 * 1000000L };
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
		;
	atomic_store(&sleepy.in_sample, false);
	memset(out, 0, sizeof(*out));
	out->value = 50;
	return 0;
}

static const struct driver_ops sleepy_driver = {
	.name = "sleepy", .types = 1u << SENSOR_LIGHT, .open = sleepy_open, .close = sleepy_close,
	.sample = sleepy_sample, .sample_may_block = true,
};

static const struct driver_ops *find(const char *name)
{
	if (strcmp(name, "sleepy") == 0)
		return &sleepy_driver;
	return strcmp(name, "scripted") == 0 ? &scripted_driver : driver_find(name);
}

/* ---- configurations, each as its own copy on the heap ---- */

/* A sensor section; options as "key=value" strings, NULL-terminated. */
static struct sensor_config *section(const char *name, enum sensor_type type, const char *driver, int interval_s,
                                     const char *const *options)
{
	struct sensor_option written[8];
	size_t count = 0;
	char keys[8][32];
	for (; options && options[count]; count++) {
		const char *equals = strchr(options[count], '=');
		snprintf(keys[count], sizeof(keys[count]), "%.*s", (int)(equals - options[count]), options[count]);
		written[count] = (struct sensor_option){ keys[count], (char *)equals + 1, 100 + (int)count };
	}
	struct sensor_config config = {
		.name = (char *)name, .type = type, .driver = (char *)driver, .interval_s = interval_s, .dark_lux = 10,
		.alerts = { .covered_lux = 0, .lamp_fault_ms = 10 * S },
		.options = written, .option_count = count, .line = 7,
	};
	struct sensor_config *copy = malloc(sizeof(*copy));
	assert_non_null(copy);
	assert_int_equal(sensor_config_copy(&config, copy), 0);
	return copy;
}

static void section_free(struct sensor_config *config)
{
	sensor_config_clear(config);
	free(config);
}

/* ---- sensor_config_copy, sensor_config_equal ---- */

static void test_config_copy_and_equal(void **unused)
{
	(void)unused;
	const char *const options[] = { "seed=7", "profile=Nyfors", NULL };
	struct sensor_config *a = section("ljus", SENSOR_LIGHT, "sim", 5, options);
	struct sensor_config b;
	assert_int_equal(sensor_config_copy(a, &b), 0);
	assert_true(sensor_config_equal(a, &b));
	assert_ptr_not_equal(a->name, b.name);
	assert_ptr_not_equal(a->options, b.options);
	assert_ptr_not_equal(a->options[0].value, b.options[0].value);
	assert_int_equal(b.options[1].line, 101);
	section_free(a);   /* b is whole on its own */
	assert_string_equal(b.name, "ljus");
	assert_string_equal(sensor_option(&b, "profile"), "Nyfors");

	/* Line numbers and the order of options change nothing. */
	const char *const swapped[] = { "profile=Nyfors", "seed=7", NULL };
	struct sensor_config *same = section("ljus", SENSOR_LIGHT, "sim", 5, swapped);
	same->line = 99;
	same->options[0].line = 3;
	assert_true(sensor_config_equal(same, &b));
	section_free(same);

	/* Every other field does. */
	for (int field = 0; field < 15; field++) {
		struct sensor_config c;
		assert_int_equal(sensor_config_copy(&b, &c), 0);
		switch (field) {
		case 0: c.name[0] = 'x'; break;
		case 1: c.type = SENSOR_LAMP; break;
		case 2: c.driver[0] = 'x'; break;
		case 3: c.interval_s = 6; break;
		case 4: c.dark_lux = 11; break;
		case 5: c.light = strdup("x"); break;
		case 6: c.alerts.stuck_ms = 1; break;
		case 7: c.alerts.busy_from_hour = 1; break;
		case 8: c.alerts.busy_to_hour = 1; break;
		case 9: c.alerts.blocked_ms = 1; break;
		case 10: c.alerts.covered_lux = 1; break;
		case 11: c.alerts.covered_ms = 1; break;
		case 12: c.alerts.lamp_fault_ms = 1; break;
		case 13: c.options[1].value[0] = '8'; break;        /* seed=8 */
		case 14: c.option_count = 1; break;                 /* seed left out */
		}
		if (sensor_config_equal(&b, &c) || sensor_config_equal(&c, &b))
			fail_msg("field %d: a change taken for no change", field);
		c.option_count = b.option_count;   /* so clear frees them all */
		sensor_config_clear(&c);
	}
	sensor_config_clear(&b);
	assert_null(b.name);
	sensor_config_clear(&b);   /* an empty one again: nothing */
}

/* ---- a sensor on a simulated clock ---- */

#define READINGS_MAX 256

struct run {
	sd_event *event;
	struct schedule *schedule;
	struct sensor *sensor;
	struct window_result windows[8];
	size_t window_count;
	int64_t reading_at[READINGS_MAX];
	size_t reading_count;
	int alert_changes;
	bool last_ok;
	enum alert_kind last_kind;
};

static struct run run;

static void on_reading(void *userdata, struct sensor *sensor, int64_t ts_ms, double value,
                       enum reading_direction direction)
{
	(void)userdata;
	(void)sensor;
	(void)value;
	(void)direction;
	if (run.reading_count < READINGS_MAX)
		run.reading_at[run.reading_count++] = ts_ms;
}

static void on_alert(void *userdata, struct sensor *sensor)
{
	(void)userdata;
	run.alert_changes++;
	run.last_ok = alert_shown(sensor_alerts(sensor), &run.last_kind) == NULL;
}

static int64_t on_window(void *userdata, int64_t now_ms)
{
	(void)userdata;
	while (sensor_window_end(run.sensor) <= now_ms && run.window_count < 8)
		sensor_close_window(run.sensor, &run.windows[run.window_count++]);
	return now_ms + 60 * S;
}

static void on_end(void *userdata)
{
	(void)userdata;
	sd_event_exit(run.event, 0);
}

/* The sensor, started; the configuration and the environment's strings it
 * was made from are freed before it runs. */
static void run_start(struct sensor_config *config, int64_t minutes)
{
	memset(&run, 0, sizeof(run));
	memset(&device, 0, sizeof(device));
	assert_int_equal(sd_event_new(&run.event), 0);
	struct schedule_options options = { .simulated = true, .start_ms = START, .end_ms = START + minutes * 60 * S,
	                                     .on_end = on_end };
	assert_int_equal(schedule_new(run.event, &options, &run.schedule), 0);
	char *district = strdup("Nyfors"), *profiles = strdup(PROFILES), *gateway = strdup("test-01");
	struct sensor_setup setup = {
		.event = run.event, .schedule = run.schedule, .window_ms = 60 * S,
		.env = { .gateway_id = gateway, .district = district, .profiles = profiles },
		.latitude = 59.37, .longitude = 16.51, .events = { .reading = on_reading, .alert = on_alert },
		.find_driver = find,
	};
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, config, &run.sensor, err, sizeof(err)), 0);
	section_free(config);
	free(district);
	free(profiles);
	free(gateway);
	assert_int_equal(sensor_start(run.sensor, 1), 0);
	assert_int_equal(schedule_add(run.schedule, START + 60 * S, 0, on_window, NULL), 0);
}

static void run_finish(void)
{
	sensor_free(run.sensor);
	schedule_free(run.schedule);
	sd_event_unref(run.event);
}

/* A reload at a given time: the new section, freed as soon as the sensor
 * has taken it. */
struct change {
	struct sensor_config *config;
	int result;
	char err[160];
};

static int64_t on_change(void *userdata, int64_t now_ms)
{
	struct change *change = userdata;
	(void)now_ms;
	change->result = sensor_reconfigure(run.sensor, change->config, change->err, sizeof(change->err));
	section_free(change->config);
	change->config = NULL;
	return -1;
}

static void change_at(struct change *change, int64_t at_ms, struct sensor_config *config)
{
	*change = (struct change){ .config = config, .result = 1 };
	assert_int_equal(schedule_add(run.schedule, START + at_ms, 0, on_change, change), 0);
}

static void assert_window(const struct window_result *w, int64_t start, unsigned samples, double covered_s)
{
	assert_int_equal(w->start_ms, start);
	assert_int_equal(w->samples, samples);
	if (w->coverage != covered_s / 60.0)
		fail_msg("coverage %.6f, expected %.6f (%.1f s)", w->coverage, covered_s / 60.0, covered_s);
}

static void test_sim_interval_changes_mid_window(void **unused)
{
	(void)unused;
	const char *const options[] = { "seed=7", NULL };
	run_start(section("ljus", SENSOR_LIGHT, "sim", 5, options), 3);
	struct change change;
	change_at(&change, 22500, section("ljus", SENSOR_LIGHT, "sim", 1, options));
	assert_int_equal(sd_event_loop(run.event), 0);
	assert_int_equal(change.result, 0);
	assert_int_equal(sensor_config(run.sensor)->interval_s, 1);
	/* Samples at 0, 5, …, 20 s stand for their slots up to the change at
	 * 22.5 s, not to 25 s; then every second from 23 s: 22.5 + 37 s
	 * covered, by 5 + 37 samples.  The next window is whole. */
	assert_int_equal(run.window_count, 2);
	assert_window(&run.windows[0], START, 5 + 37, 59.5);
	assert_window(&run.windows[1], START + 60 * S, 60, 60);
	assert_int_equal(run.reading_at[4], START + 20 * S);
	assert_int_equal(run.reading_at[5], START + 23 * S);
	assert_int_equal(run.reading_at[6], START + 24 * S);
	/* Counters go on. */
	assert_int_equal(sensor_counters(run.sensor).readings, 5 + 37 + 60 + 60);
	assert_int_equal(sensor_counters(run.sensor).failures, 0);
	run_finish();
}

static void test_refused_settings_leave_the_sensor_as_it_was(void **unused)
{
	(void)unused;
	const char *const refuse[] = { "refuse=yes", NULL };
	run_start(section("ljus", SENSOR_LIGHT, "scripted", 5, NULL), 2);
	struct change refused, renamed, retyped, unknown;
	change_at(&refused, 22500, section("ljus", SENSOR_LIGHT, "scripted", 1, refuse));
	change_at(&renamed, 30000, section("lampa", SENSOR_LIGHT, "scripted", 1, NULL));
	change_at(&retyped, 31000, section("ljus", SENSOR_LAMP, "scripted", 1, NULL));
	change_at(&unknown, 32000, section("ljus", SENSOR_LIGHT, "nothing", 1, NULL));
	assert_int_equal(sd_event_loop(run.event), 0);
	assert_int_equal(refused.result, -EINVAL);
	assert_string_equal(refused.err, "scripted: refused");
	assert_int_equal(renamed.result, -EINVAL);
	assert_int_equal(retyped.result, -EINVAL);
	assert_int_equal(unknown.result, -EINVAL);
	assert_string_equal(unknown.err, "no driver 'nothing' in this build");
	/* Refused before the old driver let go: nothing happened to it. */
	assert_int_equal(sensor_config(run.sensor)->interval_s, 5);
	assert_int_equal(device.opens, 1);
	assert_window(&run.windows[0], START, 12, 60);
	assert_int_equal(run.alert_changes, 0);
	run_finish();
}

static void test_device_held_by_the_old_driver(void **unused)
{
	(void)unused;
	/* The device can be open only once (a GPIO line): the new settings
	 * are tried again once the old driver has let go.  At 22.5 s they
	 * are taken; at 42.5 s the driver refuses the next ones only then,
	 * and the old ones are opened again. */
	const char *const exclusive[] = { "exclusive=yes", NULL };
	const char *const refused_late[] = { "exclusive=yes", "refuse=yes", NULL };
	run_start(section("ljus", SENSOR_LIGHT, "scripted", 5, exclusive), 2);
	struct change taken, refused;
	change_at(&taken, 22500, section("ljus", SENSOR_LIGHT, "scripted", 2, exclusive));
	change_at(&refused, 42500, section("ljus", SENSOR_LIGHT, "scripted", 10, refused_late));
	assert_int_equal(sd_event_loop(run.event), 0);
	assert_int_equal(taken.result, 0);
	assert_int_equal(refused.result, -EINVAL);
	assert_string_equal(refused.err, "scripted: refused");
	assert_int_equal(device.max_open_now, 1);
	assert_int_equal(device.opens, 3);
	assert_int_equal(sensor_config(run.sensor)->interval_s, 2);
	/* 0–20 s every 5 s, up to 22.5 s; 24–42 s every 2 s, up to 42.5 s
	 * (the old driver let go there); 44–58 s every 2 s again. */
	assert_window(&run.windows[0], START, 5 + 10 + 8, 22.5 + 18.5 + 16);
	assert_int_equal(run.alert_changes, 0);
	run_finish();
}

static void test_missing_device_fails_and_retries(void **unused)
{
	(void)unused;
	const char *const gone[] = { "gone_until=40000", NULL };
	run_start(section("ljus", SENSOR_LIGHT, "scripted", 5, NULL), 2);
	struct change change;
	change_at(&change, 22500, section("ljus", SENSOR_LIGHT, "scripted", 2, gone));
	assert_int_equal(sd_event_loop(run.event), 0);
	/* Not an error: failed at 22.5 s, tried again after 2, 4, 8, 16 s
	 * (backoff from the new interval), opened at 52.5 s, read from 54 s. */
	assert_int_equal(change.result, 0);
	assert_int_equal(sensor_config(run.sensor)->interval_s, 2);
	assert_int_equal(sensor_counters(run.sensor).failures, 1);
	assert_int_equal(run.alert_changes, 2);
	assert_true(run.last_ok);
	assert_window(&run.windows[0], START, 5 + 3, 22.5 + 6);
	run_finish();
}

/* ---- thresholds ---- */

static struct sensor *light;

static int64_t on_pair(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	sensor_pair(run.sensor, light);
	return -1;
}

static void test_threshold_turned_off_clears_its_alert(void **unused)
{
	(void)unused;
	/* A lamp, off, whose light sensor reads dark: lamp_fault after 10 s.
	 * At 22.5 s fault_after becomes 20 s (the alert stays), at 32.5 s 0
	 * (the alert goes, and does not come back). */
	const char *const off[] = { "value=0", NULL };
	run_start(section("lampa", SENSOR_LAMP, "scripted", 5, off), 2);
	struct sensor_config *dark = section("ljus", SENSOR_LIGHT, "scripted", 5, off);
	struct sensor_setup setup = { .event = run.event, .schedule = run.schedule, .window_ms = 60 * S,
	                              .find_driver = find };
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, dark, &light, err, sizeof(err)), 0);
	section_free(dark);
	assert_int_equal(sensor_start(light, 0), 0);   /* before the lamp at each instant */
	assert_int_equal(schedule_add(run.schedule, START, -1, on_pair, NULL), 0);
	struct sensor_config *longer = section("lampa", SENSOR_LAMP, "scripted", 5, off);
	struct sensor_config *none = section("lampa", SENSOR_LAMP, "scripted", 5, off);
	longer->alerts.lamp_fault_ms = 20 * S;
	none->alerts.lamp_fault_ms = 0;
	struct change first, second;
	change_at(&first, 22500, longer);
	change_at(&second, 32500, none);
	assert_int_equal(sd_event_loop(run.event), 0);
	assert_int_equal(first.result, 0);
	assert_int_equal(second.result, 0);
	assert_int_equal(run.alert_changes, 2);   /* raised at 10 s, cleared at 32.5 s */
	assert_true(run.last_ok);
	/* The fault is still measured, whatever the alert: all the time
	 * covered, which the changes cut at 22.5 and 32.5 s. */
	assert_window(&run.windows[0], START, 5 + 2 + 5, 55);
	assert_int_equal(run.windows[0].fault_s, 55);
	sensor_free(light);
	run_finish();
}

/* ---- a sample in flight, on the real clock ---- */

static int64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct {
	int64_t took_ms;
	uint64_t readings;
} timed;

static int64_t on_timed_change(void *userdata, int64_t now_ms)
{
	int64_t before = monotonic_ms();
	on_change(userdata, now_ms);
	timed.took_ms = monotonic_ms() - before;
	timed.readings = sensor_counters(run.sensor).readings;
	return -1;
}

static int64_t on_stop(void *userdata, int64_t now_ms)
{
	(void)userdata;
	(void)now_ms;
	sd_event_exit(run.event, 0);
	return -1;
}

static void test_sample_in_flight_is_taken_first(void **unused)
{
	(void)unused;
	memset(&run, 0, sizeof(run));
	memset(&sleepy, 0, sizeof(sleepy));
	memset(&timed, 0, sizeof(timed));
	assert_int_equal(sd_event_new(&run.event), 0);
	struct schedule_options options = { .simulated = false };
	assert_int_equal(schedule_new(run.event, &options, &run.schedule), 0);
	/* t0 on the 2 s grid; the sensor is made 300 ms before it, so its
	 * first slot is t0. */
	int64_t t0 = (realtime_ms() + 400) / (2 * S) * (2 * S) + 2 * S;
	for (int64_t now = realtime_ms(); now < t0 - 300; now = realtime_ms()) {
		struct timespec pause = { 0, (long)(t0 - 300 - now) * 1000000L };
		nanosleep(&pause, NULL);
	}
	struct sensor_setup setup = {
		.event = run.event, .schedule = run.schedule, .window_ms = 3600 * S,
		.events = { .reading = on_reading, .alert = on_alert }, .find_driver = find,
	};
	struct sensor_config *config = section("ljus", SENSOR_LIGHT, "sleepy", 1, NULL);
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, config, &run.sensor, err, sizeof(err)), 0);
	section_free(config);
	assert_int_equal(sensor_start(run.sensor, 1), 0);
	/* 100 ms into the sample of slot t0: every 2 s, same driver; at
	 * t0 + 1.5 s, a driver sampled on the loop (the worker goes). */
	struct change slower = { .config = section("ljus", SENSOR_LIGHT, "sleepy", 2, NULL), .result = 1 };
	struct change polled = { .config = section("ljus", SENSOR_LIGHT, "scripted", 1, NULL), .result = 1 };
	assert_int_equal(schedule_add(run.schedule, t0 + 100, 0, on_timed_change, &slower), 0);
	assert_int_equal(schedule_add(run.schedule, t0 + 1500, 0, on_change, &polled), 0);
	assert_int_equal(schedule_add(run.schedule, t0 + 2500, 0, on_stop, NULL), 0);
	assert_true(realtime_ms() < t0);
	assert_int_equal(sd_event_loop(run.event), 0);
	print_message("reconfigured 100 ms into a 300 ms sample: waited %lld ms\n", (long long)timed.took_ms);
	assert_int_equal(slower.result, 0);
	assert_int_equal(polled.result, 0);
	/* The sample in flight was waited for and taken, not dropped, and the
	 * driver was not closed under it. */
	assert_true(timed.took_ms >= 150);
	assert_int_equal(timed.readings, 1);
	assert_false(atomic_load(&sleepy.closed_in_sample));
	assert_int_equal(atomic_load(&sleepy.opens), 2);
	/* Nothing due every 2 s before t0 + 2 s; then one sample on the loop
	 * at t0 + 2 s. */
	assert_int_equal(atomic_load(&sleepy.samples), 1);
	assert_int_equal(run.reading_count, 2);
	assert_true(run.reading_at[1] >= t0 + 2 * S && run.reading_at[1] < t0 + 2 * S + 100);
	run_finish();
}

/* ---- a light sensor's lamps (driver_env.paired) ---- */

static void test_paired_configs_reach_the_driver(void **unused)
{
	(void)unused;
	sd_event *event = NULL;
	struct schedule *schedule = NULL;
	assert_int_equal(sd_event_new(&event), 0);
	struct schedule_options options = { .simulated = true, .start_ms = START };
	assert_int_equal(schedule_new(event, &options, &schedule), 0);
	memset(&device, 0, sizeof(device));
	const char *const seed_1[] = { "seed=1", NULL }, *const seed_2[] = { "seed=2", NULL };
	const char *const refuse[] = { "refuse=yes", NULL };

	/* Opened with one lamp, whose config is freed at once. */
	struct sensor_config *lamp = section("lampa", SENSOR_LAMP, "sim", 5, seed_1);
	struct sensor_config *light_config = section("ljus", SENSOR_LIGHT, "scripted", 5, NULL);
	const struct sensor_config *one[] = { lamp };
	struct sensor_setup setup = { .event = event, .schedule = schedule, .window_ms = 60 * S,
		                      .env = { .paired = one, .paired_count = 1 }, .find_driver = find };
	struct sensor *sensor = NULL;
	char err[128] = "";
	assert_int_equal(sensor_new(&setup, light_config, &sensor, err, sizeof(err)), 0);
	section_free(lamp);
	assert_int_equal(told.count, 1);
	assert_string_equal(told.seeds[0], "1");

	struct sensor_config *same = section("lampa", SENSOR_LAMP, "sim", 5, seed_1);
	struct sensor_config *other = section("lampa", SENSOR_LAMP, "sim", 5, seed_2);
	struct sensor_config *second = section("lampb", SENSOR_LAMP, "sim", 5, seed_2);
	const struct sensor_config *same_one[] = { same }, *other_one[] = { other }, *two[] = { same, second };
	assert_true(sensor_paired_equal(sensor, same_one, 1));
	assert_false(sensor_paired_equal(sensor, other_one, 1));
	assert_false(sensor_paired_equal(sensor, NULL, 0));
	assert_false(sensor_paired_equal(sensor, two, 2));

	/* A lamp added: the driver opens again and is told of both. */
	assert_int_equal(sensor_reconfigure_paired(sensor, light_config, two, 2, err, sizeof(err)), 0);
	assert_int_equal(told.count, 2);
	assert_string_equal(told.seeds[1], "2");
	assert_true(sensor_paired_equal(sensor, two, 2));
	assert_int_equal(device.opens, 2);
	assert_int_equal(device.open_now, 1);
	/* Reopened without new lamps (a plain reconfigure), it uses its own copies. */
	section_free(same);
	section_free(second);
	told.count = 0;
	assert_int_equal(sensor_reconfigure(sensor, light_config, err, sizeof(err)), 0);
	assert_int_equal(told.count, 2);
	assert_string_equal(told.seeds[0], "1");

	/* Refused settings keep the old lamps too. */
	struct sensor_config *refused = section("ljus", SENSOR_LIGHT, "scripted", 5, refuse);
	assert_int_equal(sensor_reconfigure_paired(sensor, refused, other_one, 1, err, sizeof(err)), -EINVAL);
	assert_false(sensor_paired_equal(sensor, other_one, 1));
	struct sensor_config *again_a = section("lampa", SENSOR_LAMP, "sim", 5, seed_1);
	struct sensor_config *again_b = section("lampb", SENSOR_LAMP, "sim", 5, seed_2);
	const struct sensor_config *again[] = { again_a, again_b };
	assert_true(sensor_paired_equal(sensor, again, 2));

	section_free(refused);
	section_free(again_a);
	section_free(again_b);
	section_free(other);
	section_free(light_config);
	sensor_free(sensor);
	assert_int_equal(device.open_now, 0);
	schedule_free(schedule);
	sd_event_unref(event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_copy_and_equal),
		cmocka_unit_test(test_sim_interval_changes_mid_window),
		cmocka_unit_test(test_refused_settings_leave_the_sensor_as_it_was),
		cmocka_unit_test(test_device_held_by_the_old_driver),
		cmocka_unit_test(test_missing_device_fails_and_retries),
		cmocka_unit_test(test_threshold_turned_off_clears_its_alert),
		cmocka_unit_test(test_sample_in_flight_is_taken_first),
		cmocka_unit_test(test_paired_configs_reach_the_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
