/* test_replay.c — unit tests of the driver "replay": readings played back
 * from a CSV file.  Each test writes its files in its own mkdtemp folder,
 * removed by the teardown.  Times are written out as text in the files and
 * computed here with timegm, so a bug in the driver's use of timefmt cannot
 * hide behind the same bug in the test. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "driver.h"
#include "temp_tree.h"

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

/* ---- fixture ------------------------------------------------------------ */

struct fixture {
	char directory[64];
	char path[PATH_MAX];   /* the file last written */
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture)
		return -1;
	if (!temp_tree_make(fixture->directory, sizeof(fixture->directory), "/tmp/test_replay.XXXXXX")) {
		free(fixture);
		return -1;
	}
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	assert_int_equal(temp_tree_remove(fixture->directory), 0);
	free(fixture);
	return 0;
}

/* Write size bytes as name (may contain one folder level) in the fixture. */
static void write_bytes(struct fixture *fixture, const char *name, const char *bytes, size_t size)
{
	snprintf(fixture->path, sizeof(fixture->path), "%s/%s", fixture->directory, name);
	temp_tree_make_parent(fixture->path);
	temp_tree_write_bytes(fixture->path, bytes, size);
}

static void write_text(struct fixture *fixture, const char *name, const char *text)
{
	write_bytes(fixture, name, text, strlen(text));
}

static int64_t utc_ms(int year, int month, int day, int hour, int minute, int second)
{
	struct tm fields = {
		.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
		.tm_hour = hour, .tm_min = minute, .tm_sec = second,
	};
	return (int64_t)timegm(&fields) * MS_PER_SECOND;
}

/* 2026-11-02T06:00:00Z plus seconds. */
static int64_t at(int64_t seconds)
{
	return utc_ms(2026, 11, 2, 6, 0, 0) + seconds * MS_PER_SECOND;
}

/* ---- one replayed sensor, opened the way the daemon opens it ------------ */

struct sensor {
	struct sensor_option options[3];
	struct sensor_config config;
	void *state;
	char err[512];
};

struct settings {
	const char *file;
	const char *sensor;              /* the sensor option, or NULL */
	const char *max_age;             /* or NULL */
	const char *config_directory;    /* NULL: the fixture's folder */
	bool no_config_directory;
};

static int sensor_open(struct fixture *fixture, struct sensor *sensor, const char *name,
                       enum sensor_type type, int interval_s, struct settings settings)
{
	memset(sensor, 0, sizeof(*sensor));
	size_t count = 0;
	if (settings.file)
		sensor->options[count++] = (struct sensor_option){ .key = "file", .value = (char *)settings.file };
	if (settings.sensor)
		sensor->options[count++] = (struct sensor_option){ .key = "sensor", .value = (char *)settings.sensor };
	if (settings.max_age)
		sensor->options[count++] = (struct sensor_option){ .key = "max_age", .value = (char *)settings.max_age };
	sensor->config = (struct sensor_config){
		.name = (char *)name, .type = type, .driver = "replay", .interval_s = interval_s,
		.dark_lux = 10, .options = sensor->options, .option_count = count,
	};
	struct driver_env env = {
		.gateway_id = "test", .district = "Årby",
		.config_directory = settings.no_config_directory ? NULL :
		                    settings.config_directory ? settings.config_directory : fixture->directory,
		.now_ms = at(0),
	};
	int result = replay_driver.open(&sensor->config, &env, &sensor->state, sensor->err, sizeof(sensor->err));
	if (result < 0)
		assert_null(sensor->state);
	return result;
}

static void sensor_open_ok(struct fixture *fixture, struct sensor *sensor, const char *name,
                           enum sensor_type type, int interval_s, struct settings settings)
{
	int result = sensor_open(fixture, sensor, name, type, interval_s, settings);
	if (result < 0)
		print_message("open: %s\n", sensor->err);
	assert_int_equal(result, 0);
	assert_non_null(sensor->state);
}

static struct sample sample_ok(struct sensor *sensor, int64_t now_ms)
{
	struct sample sample;
	int result = replay_driver.sample(sensor->state, now_ms, &sample);
	if (result < 0)
		print_message("sample at %lld: %d\n", (long long)now_ms, result);
	assert_int_equal(result, 0);
	return sample;
}

static void expect_no_data(struct sensor *sensor, int64_t now_ms)
{
	struct sample sample;
	assert_int_equal(replay_driver.sample(sensor->state, now_ms, &sample), -ENODATA);
}

static void expect_passes(struct sensor *sensor, int64_t now_ms, unsigned total, unsigned in, unsigned out)
{
	struct sample sample = sample_ok(sensor, now_ms);
	assert_true(sample.value == (double)total);
	assert_true(sample.has_direction);
	assert_int_equal(sample.in, in);
	assert_int_equal(sample.out, out);
	assert_false(sample.held);
}

static void expect_level(struct sensor *sensor, int64_t now_ms, double value)
{
	struct sample sample = sample_ok(sensor, now_ms);
	assert_true(sample.value == value);
	assert_false(sample.has_direction);
}

static void sensor_close(struct sensor *sensor)
{
	replay_driver.close(sensor->state);
	sensor->state = NULL;
}

/* ---- footfall ------------------------------------------------------------- */

static void test_footfall_sums_and_directions(void **state)
{
	struct fixture *fixture = *state;
	write_text(fixture, "gate.csv",
	           "ts,sensor,value,dir\n"
	           "2026-11-02T06:00:00Z,gate,2,in\n"
	           "2026-11-02T06:00:01.500Z,gate,1,out\n"
	           "2026-11-02T06:00:04.999Z,gate,3,in\n"
	           "2026-11-02T06:00:05Z,gate,1,out\n"
	           "2026-11-02T06:00:07Z,gate,4,\n"
	           "2026-11-02T06:00:12Z,gate,5,in\n"
	           "2026-11-02T06:00:12Z,gate,1,out\n"
	           "2026-11-02T06:00:30Z,gate,2,out\n");
	struct sensor sensor;
	sensor_open_ok(fixture, &sensor, "gate", SENSOR_FOOTFALL, 5, (struct settings){ .file = "gate.csv" });

	expect_no_data(&sensor, at(-5));             /* before the recording */
	expect_passes(&sensor, at(0), 6, 5, 1);
	/* A row without dir counts in value only: in + out is then less. */
	expect_passes(&sensor, at(5), 5, 0, 1);
	expect_passes(&sensor, at(10), 6, 5, 1);     /* two rows at the same time */
	for (int64_t second = 15; second < 30; second += 5)
		expect_passes(&sensor, at(second), 0, 0, 0);   /* inside the recording: nobody passed */
	expect_passes(&sensor, at(30), 2, 0, 2);
	expect_no_data(&sensor, at(35));             /* the slot after the last row's */
	expect_no_data(&sensor, at(3600));

	/* A timer that wakes a little late reads the slot it was due for. */
	expect_passes(&sensor, at(5) + 3, 5, 0, 1);
	expect_passes(&sensor, at(10) - 1, 5, 0, 1);
	sensor_close(&sensor);

	/* The same file over one-minute slots. */
	sensor_open_ok(fixture, &sensor, "gate", SENSOR_FOOTFALL, 60, (struct settings){ .file = "gate.csv" });
	expect_no_data(&sensor, at(-60));
	expect_passes(&sensor, at(0), 19, 10, 5);
	expect_no_data(&sensor, at(60));
	sensor_close(&sensor);
}

static void test_footfall_slot_edges(void **state)
{
	struct fixture *fixture = *state;
	write_text(fixture, "edges.csv",
	           "2026-11-02T06:00:00Z,gate,1\n"
	           "2026-11-02T06:00:09.999Z,gate,20\n"
	           "2026-11-02T06:00:10Z,gate,300\n"
	           "2026-11-02T06:00:19.999Z,gate,4000\n");
	struct sensor sensor;
	sensor_open_ok(fixture, &sensor, "gate", SENSOR_FOOTFALL, 10, (struct settings){ .file = "edges.csv" });
	/* The row at now counts; the row at now + interval belongs to the next slot. */
	struct sample sample = sample_ok(&sensor, at(0));
	assert_true(sample.value == 21.0);
	/* No row has a dir, so no sample claims one. */
	assert_false(sample.has_direction);
	assert_int_equal(sample.in, 0);
	assert_int_equal(sample.out, 0);
	assert_true(sample_ok(&sensor, at(10)).value == 4300.0);
	/* The last row is at 06:00:19.999: the recording ends with its slot. */
	expect_no_data(&sensor, at(20));
	sensor_close(&sensor);

	/* A recording that starts inside a slot covers that slot. */
	write_text(fixture, "late.csv", "2026-11-02T06:00:07Z,gate,3\n");
	sensor_open_ok(fixture, &sensor, "gate", SENSOR_FOOTFALL, 5, (struct settings){ .file = "late.csv" });
	expect_no_data(&sensor, at(0));
	assert_true(sample_ok(&sensor, at(5)).value == 3.0);
	expect_no_data(&sensor, at(10));
	/* The far ends of the clock are outside any recording, without overflow. */
	expect_no_data(&sensor, INT64_MAX);
	expect_no_data(&sensor, INT64_MIN);
	sensor_close(&sensor);

	/* Before 1970 a slot still starts at or before now (the division
	 * truncates towards zero there). */
	write_text(fixture, "old.csv", "1969-12-31T23:59:55Z,gate,3\n");
	sensor_open_ok(fixture, &sensor, "gate", SENSOR_FOOTFALL, 5, (struct settings){ .file = "old.csv" });
	assert_true(sample_ok(&sensor, -2500).value == 3.0);
	expect_no_data(&sensor, 0);
	sensor_close(&sensor);
}

/* ---- light and lamp ---------------------------------------------------------- */

static void test_light_latest_value_and_max_age(void **state)
{
	struct fixture *fixture = *state;
	write_text(fixture, "light.csv",
	           "ts,sensor,value\n"
	           "2026-11-02T06:00:00Z,ljus,100\n"
	           "2026-11-02T06:00:03Z,ljus,120\n"
	           "2026-11-02T06:00:05Z,ljus,130.5\n"
	           "2026-11-02T06:00:30Z,ljus,50\n"
	           "2026-11-02T06:01:00Z,ljus,7e-1\n");
	struct sensor sensor;
	/* Default max_age: three intervals, 15 s. */
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "light.csv" });
	expect_no_data(&sensor, at(-5));
	expect_level(&sensor, at(0), 120.0);        /* the latest row before the slot ends */
	expect_level(&sensor, at(5), 130.5);
	expect_level(&sensor, at(10), 130.5);
	expect_level(&sensor, at(20), 130.5);       /* exactly max_age old still stands */
	expect_no_data(&sensor, at(25));            /* a gap */
	expect_level(&sensor, at(30), 50.0);
	expect_level(&sensor, at(45), 50.0);
	expect_no_data(&sensor, at(50));
	expect_level(&sensor, at(60), 0.7);
	expect_level(&sensor, at(75), 0.7);
	expect_no_data(&sensor, at(80));            /* after the recording */
	expect_no_data(&sensor, at(86400));
	/* Backwards, as a restarted simulation goes. */
	expect_level(&sensor, at(0), 120.0);
	expect_no_data(&sensor, at(-3600));
	sensor_close(&sensor);

	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5,
	               (struct settings){ .file = "light.csv", .max_age = "1min" });
	expect_level(&sensor, at(25), 130.5);
	expect_level(&sensor, at(120), 0.7);
	expect_no_data(&sensor, at(125));
	sensor_close(&sensor);

	/* max_age 0: only a row inside the slot itself. */
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5,
	               (struct settings){ .file = "light.csv", .max_age = "0" });
	expect_level(&sensor, at(5), 130.5);
	expect_no_data(&sensor, at(10));
	expect_level(&sensor, at(30), 50.0);
	sensor_close(&sensor);

	/* The default follows the interval: 3 × 20 s. */
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 20, (struct settings){ .file = "light.csv" });
	expect_level(&sensor, at(0), 130.5);
	expect_level(&sensor, at(60), 0.7);
	expect_level(&sensor, at(120), 0.7);
	expect_no_data(&sensor, at(140));
	sensor_close(&sensor);
}

static void test_lamp_on_and_off(void **state)
{
	struct fixture *fixture = *state;
	write_text(fixture, "lamp.csv",
	           "ts,sensor,value\n"
	           "2026-11-02T06:00:00Z,lampa,1\n"
	           "2026-11-02T06:00:05Z,lampa,0\n"
	           "2026-11-02T06:00:10Z,lampa,1.0\n"
	           "2026-11-02T06:01:00Z,lampa,0\n");
	struct sensor sensor;
	sensor_open_ok(fixture, &sensor, "lampa", SENSOR_LAMP, 5, (struct settings){ .file = "lamp.csv" });
	expect_level(&sensor, at(0), 1.0);
	expect_level(&sensor, at(5), 0.0);
	expect_level(&sensor, at(10), 1.0);
	expect_level(&sensor, at(25), 1.0);
	expect_no_data(&sensor, at(30));
	expect_no_data(&sensor, at(55));
	expect_level(&sensor, at(60), 0.0);
	sensor_close(&sensor);

	/* A file of changes only needs a max_age as long as the longest gap. */
	sensor_open_ok(fixture, &sensor, "lampa", SENSOR_LAMP, 5,
	               (struct settings){ .file = "lamp.csv", .max_age = "1h" });
	expect_level(&sensor, at(55), 1.0);
	expect_level(&sensor, at(3600 + 60), 0.0);
	expect_no_data(&sensor, at(3600 + 65));
	sensor_close(&sensor);
}

/* ---- which rows, which file ---------------------------------------------------- */

static void test_sensor_option_takes_another_names_rows(void **state)
{
	struct fixture *fixture = *state;
	write_text(fixture, "two.csv",
	           "ts,sensor,value\n"
	           "2026-11-02T06:00:00Z,east,1\n"
	           "2026-11-02T06:00:00Z,west,10\n"
	           "not a time,east,also not a number\n"   /* not ours: not judged */
	           "2026-11-02T06:00:05Z,west,20\n"
	           "2026-11-02T05:00:00Z,east,2\n"        /* east out of order: not ours either */
	           "2026-11-02T06:00:05Z, west ,30\n");    /* fields are trimmed */
	struct sensor sensor;
	sensor_open_ok(fixture, &sensor, "torg", SENSOR_FOOTFALL, 5,
	               (struct settings){ .file = "two.csv", .sensor = "west" });
	assert_true(sample_ok(&sensor, at(0)).value == 10.0);
	assert_true(sample_ok(&sensor, at(5)).value == 50.0);
	sensor_close(&sensor);

	/* Without the option the section's own name picks the rows. */
	assert_int_equal(sensor_open(fixture, &sensor, "east", SENSOR_FOOTFALL, 5,
	                             (struct settings){ .file = "two.csv" }), -EINVAL);
	char expected[512];
	snprintf(expected, sizeof(expected),
	         "replay: %s/two.csv:4: ts 'not a time' is not an ISO-8601 UTC time such as 2026-11-02T06:00:05Z",
	         fixture->directory);
	assert_string_equal(sensor.err, expected);

	assert_int_equal(sensor_open(fixture, &sensor, "torg", SENSOR_FOOTFALL, 5,
	                             (struct settings){ .file = "two.csv" }), -EINVAL);
	snprintf(expected, sizeof(expected), "replay: %s/two.csv: no rows for sensor 'torg'", fixture->directory);
	assert_string_equal(sensor.err, expected);
}

static void test_relative_and_absolute_paths(void **state)
{
	struct fixture *fixture = *state;
	write_text(fixture, "data/day.csv", "2026-11-02T06:00:00Z,ljus,42\n");
	char absolute[PATH_MAX];
	snprintf(absolute, sizeof(absolute), "%s", fixture->path);

	struct sensor sensor;
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "data/day.csv" });
	expect_level(&sensor, at(0), 42.0);
	sensor_close(&sensor);

	/* Relative to the config's folder, not to the working directory. */
	char *saved = getcwd(NULL, 0);
	assert_non_null(saved);
	assert_int_equal(chdir("/"), 0);
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "data/day.csv" });
	sensor_close(&sensor);
	assert_int_equal(chdir(saved), 0);
	free(saved);

	char expected[PATH_MAX + 128];
	assert_int_equal(sensor_open(fixture, &sensor, "ljus", SENSOR_LIGHT, 5,
	                             (struct settings){ .file = "data/day.csv", .config_directory = "/nonexistent" }),
	                 -ENOENT);
	assert_string_equal(sensor.err, "replay: /nonexistent/data/day.csv: cannot open: No such file or directory");

	/* An absolute path ignores the config's folder. */
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5,
	               (struct settings){ .file = absolute, .config_directory = "/nonexistent" });
	expect_level(&sensor, at(0), 42.0);
	sensor_close(&sensor);

	assert_int_equal(sensor_open(fixture, &sensor, "ljus", SENSOR_LIGHT, 5,
	                             (struct settings){ .file = "data/day.csv", .no_config_directory = true }),
	                 -EINVAL);
	assert_string_equal(sensor.err,
	                    "replay: file data/day.csv is relative, but the configuration's folder is not known");

	/* A folder is not a file. */
	assert_int_equal(sensor_open(fixture, &sensor, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "data" }),
	                 -EINVAL);
	snprintf(expected, sizeof(expected), "replay: %s/data: not a regular file", fixture->directory);
	assert_string_equal(sensor.err, expected);
}

/* ---- what open refuses ----------------------------------------------------------- */

struct bad_file {
	enum sensor_type type;
	const char *text;
	int line;
	const char *message;
};

static void test_open_errors_name_the_line(void **state)
{
	struct fixture *fixture = *state;
	static const struct bad_file cases[] = {
		{ SENSOR_FOOTFALL, "ts,sensor,value\n2026-11-02T06:00:00Z,s,1\n2026-11-02 06:00:05Z,s,1\n", 3,
		  "ts '2026-11-02 06:00:05Z' is not an ISO-8601 UTC time such as 2026-11-02T06:00:05Z" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:05,s,1\n", 1,   /* local time: refused, not guessed */
		  "ts '2026-11-02T06:00:05' is not an ISO-8601 UTC time such as 2026-11-02T06:00:05Z" },
		{ SENSOR_LIGHT, "# lux\n\n2026-11-02T06:00:00Z,s,bright\n", 3,
		  "value 'bright' is not a number of lux (0 or more)" },
		{ SENSOR_LIGHT, "2026-11-02T06:00:00Z,s,-5\n", 1, "value '-5' is not a number of lux (0 or more)" },
		{ SENSOR_LIGHT, "2026-11-02T06:00:00Z,s,nan\n", 1, "value 'nan' is not a number of lux (0 or more)" },
		{ SENSOR_LIGHT, "2026-11-02T06:00:00Z,s,250000\n", 1,
		  "value '250000' is more lux than a light sensor can read" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,1\n2026-11-02T06:00:01Z,s,-2\n", 2,
		  "value '-2' is negative; a count of passes is 0 or more" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,1.5\n", 1, "value '1.5' is not a whole number of passes" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,\n", 1, "value '' is not a whole number of passes" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,2000000\n", 1,
		  "value '2000000' is more than 1000000 passes in one row" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,1,in\n2026-11-02T06:00:00Z,s,1,sideways\n", 2,
		  "dir 'sideways' must be in, out or empty" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,1,IN\n", 1, "dir 'IN' must be in, out or empty" },
		{ SENSOR_LIGHT, "2026-11-02T06:00:00Z,s,1,in\n", 1,
		  "dir 'in' given, but only footfall rows have a direction" },
		{ SENSOR_LAMP, "2026-11-02T06:00:00Z,s,2\n", 1, "value '2' must be 1 (lamp lit) or 0 (dark)" },
		{ SENSOR_LAMP, "2026-11-02T06:00:00Z,s,on\n", 1, "value 'on' must be 1 (lamp lit) or 0 (dark)" },
		{ SENSOR_FOOTFALL,
		  "2026-11-02T06:00:10Z,s,1\n2026-11-02T06:00:00Z,other,1\n2026-11-02T06:00:10Z,s,1\n"
		  "2026-11-02T06:00:05Z,s,1\n", 4,
		  "ts 2026-11-02T06:00:05Z is earlier than the row before it (line 3); "
		  "the rows of sensor 's' must be in time order" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s\n", 1,
		  "found 2 fields; a row is ts,sensor,value or ts,sensor,value,dir" },
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,1\nhello\n", 2,
		  "found 1 field; a row is ts,sensor,value or ts,sensor,value,dir" },
		/* The shape of every line is checked, another sensor's too. */
		{ SENSOR_FOOTFALL, "2026-11-02T06:00:00Z,s,1\n2026-11-02T06:00:00Z,other,1,in,extra\n", 2,
		  "found 5 fields; a row is ts,sensor,value or ts,sensor,value,dir" },
		/* A header is only a header on the first line that is not blank or a comment. */
		{ SENSOR_LIGHT, "2026-11-02T06:00:00Z,s,1\nts,s,value\n", 2,
		  "ts 'ts' is not an ISO-8601 UTC time such as 2026-11-02T06:00:05Z" },
		/* Long fields are cut in the message, on a character boundary. */
		{ SENSOR_LIGHT, "2026-11-02T06:00:00Z,s,ååååååååååååååååååååååå\n", 1,
		  "value 'åååååååååååååååååååå...' is not a number of lux (0 or more)" },
	};
	char name[32];
	char expected[1024];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "bad%zu.csv", i);
		write_text(fixture, name, cases[i].text);
		struct sensor sensor;
		int result = sensor_open(fixture, &sensor, "s", cases[i].type, 5, (struct settings){ .file = name });
		snprintf(expected, sizeof(expected), "replay: %s/%s:%d: %s", fixture->directory, name, cases[i].line,
		         cases[i].message);
		if (strcmp(sensor.err, expected) != 0)
			print_message("case %zu\n", i);
		assert_string_equal(sensor.err, expected);
		assert_int_equal(result, -EINVAL);
	}

	/* A NUL byte: the file is not text. */
	struct sensor sensor;
	write_bytes(fixture, "nul.csv", "2026-11-02T06:00:00Z,s,1\n2026-11-02T06:00:01Z,s,1\0\n", 51);
	assert_int_equal(sensor_open(fixture, &sensor, "s", SENSOR_FOOTFALL, 5, (struct settings){ .file = "nul.csv" }),
	                 -EINVAL);
	snprintf(expected, sizeof(expected), "replay: %s/nul.csv:2: contains a NUL byte; the file must be UTF-8 text",
	         fixture->directory);
	assert_string_equal(sensor.err, expected);

	/* A missing file, an empty one, one without our rows. */
	assert_int_equal(sensor_open(fixture, &sensor, "s", SENSOR_FOOTFALL, 5,
	                             (struct settings){ .file = "missing.csv" }), -ENOENT);
	snprintf(expected, sizeof(expected), "replay: %s/missing.csv: cannot open: No such file or directory",
	         fixture->directory);
	assert_string_equal(sensor.err, expected);

	write_text(fixture, "empty.csv", "");
	assert_int_equal(sensor_open(fixture, &sensor, "s", SENSOR_LAMP, 5, (struct settings){ .file = "empty.csv" }),
	                 -EINVAL);
	snprintf(expected, sizeof(expected), "replay: %s/empty.csv: no rows for sensor 's'", fixture->directory);
	assert_string_equal(sensor.err, expected);

	/* Too large: refused from its size, before anything is read (sparse, so cheap). */
	snprintf(fixture->path, sizeof(fixture->path), "%s/huge.csv", fixture->directory);
	int descriptor = open(fixture->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(descriptor >= 0);
	assert_int_equal(ftruncate(descriptor, (off_t)256 * 1024 * 1024 + 1), 0);
	assert_int_equal(close(descriptor), 0);
	assert_int_equal(sensor_open(fixture, &sensor, "s", SENSOR_LIGHT, 5, (struct settings){ .file = "huge.csv" }),
	                 -EFBIG);
	snprintf(expected, sizeof(expected),
	         "replay: %s/huge.csv: the file is larger than 256 MiB; keep only the rows of this board's sensors",
	         fixture->directory);
	assert_string_equal(sensor.err, expected);
}

static void test_header_comments_and_line_endings(void **state)
{
	struct fixture *fixture = *state;
	/* A spreadsheet's byte-order mark and CRLF, comments, blank lines,
	 * spaces around fields, a fraction of a second. */
	write_text(fixture, "excel.csv",
	           "\xEF\xBB\xBF"
	           "# exported from the counter at Årby torg\r\n"
	           "\r\n"
	           "ts,sensor,value,dir\r\n"
	           "   # an indented comment\r\n"
	           "2026-11-02T06:00:00Z,gate,1,in\r\n"
	           "  \t\r\n"
	           " 2026-11-02T06:00:01.25Z , gate , 2 , out \r\n"
	           "2026-11-02T06:00:02+00:00,gate,4,\r\n"
	           "2026-11-02T06:00:03Z,gate,8");   /* no newline at the end */
	struct sensor sensor;
	sensor_open_ok(fixture, &sensor, "gate", SENSOR_FOOTFALL, 5, (struct settings){ .file = "excel.csv" });
	expect_passes(&sensor, at(0), 15, 1, 2);
	sensor_close(&sensor);

	/* The short header, and a file with no header at all. */
	write_text(fixture, "short.csv", "ts,sensor,value\n2026-11-02T06:00:00Z,ljus,3\n");
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "short.csv" });
	expect_level(&sensor, at(0), 3.0);
	sensor_close(&sensor);
	write_text(fixture, "bare.csv", "2026-11-02T06:00:00Z,ljus,4\n");
	sensor_open_ok(fixture, &sensor, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "bare.csv" });
	expect_level(&sensor, at(0), 4.0);
	sensor_close(&sensor);
}

/* ---- options ---------------------------------------------------------------------- */

static void test_options(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(replay_driver.check_option(SENSOR_LIGHT, "file", "day.csv", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_LIGHT, "file", "/var/lib/x.csv", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_LIGHT, "file", "", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "file must be the path of a CSV file of readings "
	                         "(relative paths are taken from this file's folder)");
	assert_int_equal(replay_driver.check_option(SENSOR_LIGHT, "file", "a\tb", err, sizeof(err)), -EINVAL);

	assert_int_equal(replay_driver.check_option(SENSOR_FOOTFALL, "sensor", "Torg ljus 1", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_FOOTFALL, "sensor", "Årby", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_FOOTFALL, "sensor", "a,b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "sensor must be a name from the file's sensor column "
	                         "(1–255 bytes, no comma, no control characters)");
	assert_int_equal(replay_driver.check_option(SENSOR_FOOTFALL, "sensor", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(replay_driver.check_option(SENSOR_FOOTFALL, "sensor", "a\x01", err, sizeof(err)), -EINVAL);

	assert_int_equal(replay_driver.check_option(SENSOR_LIGHT, "max_age", "15s", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_LAMP, "max_age", "1d", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_LAMP, "max_age", "0", err, sizeof(err)), 0);
	assert_int_equal(replay_driver.check_option(SENSOR_LAMP, "max_age", "366d", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "max_age must be a duration from 0 to 365d, e.g. 15s, 10min or 1h");
	assert_int_equal(replay_driver.check_option(SENSOR_LAMP, "max_age", "soon", err, sizeof(err)), -EINVAL);
	assert_int_equal(replay_driver.check_option(SENSOR_LAMP, "max_age", "-5s", err, sizeof(err)), -EINVAL);
	assert_int_equal(replay_driver.check_option(SENSOR_FOOTFALL, "max_age", "15s", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "max_age applies only to light and lamp sensors");

	assert_int_equal(replay_driver.check_option(SENSOR_LIGHT, "seed", "7", err, sizeof(err)), -ENOENT);

	struct sensor_option option = { .key = "file", .value = "day.csv" };
	struct sensor_config config = { .name = "ljus", .type = SENSOR_LIGHT, .driver = "replay", .interval_s = 5 };
	assert_int_equal(replay_driver.check_sensor(&config, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "driver replay needs file = PATH, the CSV file of recorded readings");
	config.options = &option;
	config.option_count = 1;
	assert_int_equal(replay_driver.check_sensor(&config, err, sizeof(err)), 0);

	assert_true(replay_driver.simulated);
	assert_int_equal(replay_driver.types, (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP));
	assert_null(replay_driver.event_fd);
}

/* ---- a week of rows ----------------------------------------------------------------- */

#define WEEK_ROWS (7 * 24 * 720)   /* 5-second rows */

static unsigned week_passes(int64_t row)
{
	return (unsigned)(row % 4);
}

static enum reading_direction week_direction(int64_t row)
{
	return row % 3 == 0 ? DIRECTION_IN : row % 3 == 1 ? DIRECTION_OUT : DIRECTION_NONE;
}

static double week_lux(int64_t row)
{
	return (double)(row % 1000) + 0.5;
}

static double week_lamp(int64_t row)
{
	return (double)((row / 720) % 2);   /* toggles every hour */
}

static double cpu_seconds(void)
{
	struct timespec now;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void test_a_week_of_rows_sampled_quickly(void **state)
{
	struct fixture *fixture = *state;
	int64_t start = utc_ms(2026, 11, 2, 0, 0, 0);
	snprintf(fixture->path, sizeof(fixture->path), "%s/week.csv", fixture->directory);
	FILE *file = fopen(fixture->path, "w");
	assert_non_null(file);
	fputs("ts,sensor,value,dir\n", file);
	static const char *const direction_names[] = { "", "in", "out" };
	for (int64_t row = 0; row < WEEK_ROWS; row++) {
		time_t seconds = (time_t)((start + row * 5 * MS_PER_SECOND) / MS_PER_SECOND);
		struct tm fields;
		char ts[32];
		gmtime_r(&seconds, &fields);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &fields);
		fprintf(file, "%s,passage,%u,%s\n%s,ljus,%.1f\n%s,lampa,%.0f\n", ts, week_passes(row),
		        direction_names[week_direction(row)], ts, week_lux(row), ts, week_lamp(row));
	}
	assert_int_equal(fclose(file), 0);

	struct sensor passage, light, lamp;
	sensor_open_ok(fixture, &passage, "passage", SENSOR_FOOTFALL, 5, (struct settings){ .file = "week.csv" });
	sensor_open_ok(fixture, &light, "ljus", SENSOR_LIGHT, 5, (struct settings){ .file = "week.csv" });
	sensor_open_ok(fixture, &lamp, "lampa", SENSOR_LAMP, 5, (struct settings){ .file = "week.csv" });

	double began = cpu_seconds();
	uint64_t total = 0;
	for (int64_t row = 0; row < WEEK_ROWS; row++) {
		int64_t now = start + row * 5 * MS_PER_SECOND;
		struct sample sample = sample_ok(&passage, now);
		unsigned passes = week_passes(row);
		enum reading_direction direction = week_direction(row);
		if (sample.value != (double)passes || sample.in != (direction == DIRECTION_IN ? passes : 0) ||
		    sample.out != (direction == DIRECTION_OUT ? passes : 0))
			fail_msg("footfall row %lld", (long long)row);
		total += (uint64_t)sample.value;
		if (sample_ok(&light, now).value != week_lux(row))
			fail_msg("light row %lld", (long long)row);
		if (sample_ok(&lamp, now).value != week_lamp(row))
			fail_msg("lamp row %lld", (long long)row);
	}
	double spent = cpu_seconds() - began;
	expect_no_data(&passage, start + WEEK_ROWS * 5 * MS_PER_SECOND);
	expect_no_data(&light, start + WEEK_ROWS * 5 * MS_PER_SECOND + 15 * MS_PER_SECOND);
	/* A scan from the first row on every sample would take minutes. */
	print_message("sampled %d slots of 3 sensors in %.3f s of CPU\n", WEEK_ROWS, spent);
	assert_true(spent < 3.0);
	assert_int_equal(total, (uint64_t)WEEK_ROWS / 4 * (0 + 1 + 2 + 3));

	/* Back to Tuesday after Sunday, then on again from there. */
	for (int64_t row = WEEK_ROWS / 7 + 11; row < WEEK_ROWS / 7 + 20; row++) {
		assert_true(sample_ok(&light, start + row * 5 * MS_PER_SECOND).value == week_lux(row));
		assert_true(sample_ok(&passage, start + row * 5 * MS_PER_SECOND).value == week_passes(row));
	}
	/* A jump forward far past the cursor. */
	assert_true(sample_ok(&lamp, start + (WEEK_ROWS - 1) * 5 * MS_PER_SECOND).value == week_lamp(WEEK_ROWS - 1));
	sensor_close(&passage);
	sensor_close(&light);
	sensor_close(&lamp);

	/* Hourly slots sum 720 rows each. */
	sensor_open_ok(fixture, &passage, "passage", SENSOR_FOOTFALL, 3600, (struct settings){ .file = "week.csv" });
	for (int hour = 0; hour < 7 * 24; hour += 13) {
		unsigned expected = 0, inward = 0, outward = 0;
		for (int64_t row = (int64_t)hour * 720; row < (int64_t)(hour + 1) * 720; row++) {
			expected += week_passes(row);
			inward += week_direction(row) == DIRECTION_IN ? week_passes(row) : 0;
			outward += week_direction(row) == DIRECTION_OUT ? week_passes(row) : 0;
		}
		expect_passes(&passage, start + hour * MS_PER_HOUR, expected, inward, outward);
	}
	sensor_close(&passage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_footfall_sums_and_directions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_footfall_slot_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_light_latest_value_and_max_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lamp_on_and_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensor_option_takes_another_names_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_and_absolute_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors_name_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_comments_and_line_endings, setup, teardown),
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_a_week_of_rows_sampled_quickly, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
