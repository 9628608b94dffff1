/* test_config.c — config_load(): what a valid file gives, and the exact
 * "FILE:LINE: message" lines for every kind of mistake.
 *
 * Each test writes its configuration into a fresh temporary directory.
 *
 * The tests load with their own driver lookup (config_load_with_drivers):
 * the real sim driver plus a driver which serves only lamps and is not
 * simulated, the only way to test those two rules while sim is the one
 * driver built in. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ini.h>

#include "config.h"
#include "driver.h"
#include "pki.h"
#include "temp_tree.h"

#ifndef TRYGGD_SOURCE_DIR
#define TRYGGD_SOURCE_DIR "."
#endif

/* ---- a driver only the tests have -------------------------------------- */

static int test_lamp_check_option(enum sensor_type type, const char *key, const char *value, char *err,
                                  size_t err_size)
{
	(void)type;
	(void)value;
	(void)err;
	(void)err_size;
	return strcmp(key, "pin") == 0 ? 0 : -ENOENT;
}

static const struct driver_ops test_lamp_driver = {
	.name = "testlamp",
	.types = 1u << SENSOR_LAMP,
	.simulated = false,
	.check_option = test_lamp_check_option,
};

static const struct driver_ops *test_driver_find(const char *name)
{
	if (strcmp(name, sim_driver.name) == 0)
		return &sim_driver;
	if (strcmp(name, test_lamp_driver.name) == 0)
		return &test_lamp_driver;
	return NULL;
}

/* ---- fixture ----------------------------------------------------------- */

struct fixture {
	char directory[64];
	char real_directory[PATH_MAX];  /* as config_load resolves it */
	char path[PATH_MAX];            /* the file of the last load */
	char *errors;
	struct config config;
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture)
		return -1;
	if (!temp_tree_make(fixture->directory, sizeof(fixture->directory), "/tmp/test_config.XXXXXX") ||
	    !realpath(fixture->directory, fixture->real_directory)) {
		free(fixture);
		return -1;
	}
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	config_free(&fixture->config);
	free(fixture->errors);
	temp_tree_remove(fixture->directory);
	free(fixture);
	return 0;
}

/* Write text as name (may contain one directory level) in the fixture. */
static void write_config(struct fixture *fixture, const char *name, const char *text, size_t size)
{
	snprintf(fixture->path, sizeof(fixture->path), "%s/%s", fixture->directory, name);
	temp_tree_make_parent(fixture->path);
	temp_tree_write_bytes(fixture->path, text, size);
}

static int load_path(struct fixture *fixture, const char *path)
{
	size_t size = 0;
	free(fixture->errors);
	fixture->errors = NULL;
	config_free(&fixture->config);
	FILE *errors = open_memstream(&fixture->errors, &size);
	assert_non_null(errors);
	int r = config_load_with_drivers(path, test_driver_find, &fixture->config, errors);
	assert_int_equal(fclose(errors), 0);
	return r;
}

static int load_bytes(struct fixture *fixture, const char *text, size_t size)
{
	write_config(fixture, "tryggd.conf", text, size);
	return load_path(fixture, fixture->path);
}

static int load(struct fixture *fixture, const char *text)
{
	return load_bytes(fixture, text, strlen(text));
}

static void assert_loads(struct fixture *fixture, const char *text)
{
	int r = load(fixture, text);
	if (r != 0)
		print_error("unexpected problems:\n%s", fixture->errors);
	assert_int_equal(r, 0);
	assert_string_equal(fixture->errors, "");
}

/* The problems must be exactly these lines, each "LINE: message" here and
 * "FILE:LINE: message" on the stream, and the config left zeroed. */
static void check_problems(struct fixture *fixture, int r, const char *const expected[])
{
	char *wanted = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&wanted, &size);
	assert_non_null(stream);
	for (size_t i = 0; expected[i]; i++)
		fprintf(stream, "%s:%s\n", fixture->path, expected[i]);
	assert_int_equal(fclose(stream), 0);

	assert_int_equal(r, -EINVAL);
	assert_string_equal(fixture->errors, wanted);
	assert_null(fixture->config.path);
	assert_null(fixture->config.sensors);
	assert_null(fixture->config.gateway.id);
	free(wanted);
}

static void expect_problems(struct fixture *fixture, const char *text, const char *const expected[])
{
	check_problems(fixture, load(fixture, text), expected);
}

#define EXPECT_PROBLEMS(fixture, text, ...) \
	expect_problems(fixture, text, (const char *const[]){ __VA_ARGS__, NULL })

/* The smallest valid file, in three parts so tests can put things between. */
#define GATEWAY "[gateway]\nid = arby-01\ndistrict = Årby\n"              /* lines 1-3 */
#define LIGHT_SENSOR "[sensor.ljus]\ntype = light\ndriver = sim\n"      /* 3 lines */

/* ---- valid files ------------------------------------------------------- */

static void test_minimal_file_gets_defaults(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, GATEWAY LIGHT_SENSOR);
	const struct config *config = &fixture->config;

	assert_string_equal(config->path, fixture->path);
	assert_string_equal(config->gateway.id, "arby-01");
	assert_string_equal(config->gateway.district, "Årby");
	assert_null(config->gateway.site);
	assert_int_equal(config->gateway.window_s, 60);
	assert_string_equal(config->gateway.state_dir, "/var/lib/tryggd");

	assert_false(config->has_simulation);
	/* No profiles key: the installed file, since this program runs from
	 * BUILD/tests, where no seeds link is (test_build_tree.c). */
	assert_string_equal(config->simulation.profiles, "/usr/share/tryggd/seeds/districts.ini");
	assert_int_equal(config->simulation.drain_timeout_s, 30);

	assert_false(config->has_mqtt);
	assert_string_equal(config->mqtt.topic_prefix, "trygghet");
	assert_int_equal(config->mqtt.qos, 1);
	assert_true(config->mqtt.publish_readings);
	assert_int_equal(config->mqtt.keepalive_s, 30);
	assert_int_equal(config->mqtt.buffer_max, 100000);

	assert_false(config->has_influx);
	assert_int_equal(config->influx.api, INFLUX_V1);
	assert_string_equal(config->influx.database, "trygghet");
	assert_null(config->influx.retention_policy);
	assert_int_equal(config->influx.timeout_s, 10);
	assert_int_equal(config->influx.batch_lines, 5000);

	assert_int_equal(config->sensor_count, 1);
	const struct sensor_config *light = config_find_sensor(config, "ljus");
	assert_non_null(light);
	assert_int_equal(light->type, SENSOR_LIGHT);
	assert_string_equal(light->driver, "sim");
	assert_int_equal(light->interval_s, 5);
	assert_true(light->dark_lux == 10.0);
	assert_null(light->light);
	assert_int_equal(light->option_count, 0);
	assert_int_equal(light->line, 4);
	assert_null(config_find_sensor(config, "lampa"));
}

static const char full_file[] =
	"# A board on the square in Årby\n"
	"; both comment styles\n"
	"[gateway]\n"
	"id = arby-01\n"
	"district = Årby\n"
	"site = Torget vid biblioteket\n"
	"window = 300\n"
	"state_dir = /srv/tryggd\n"
	"\n"
	"[simulation]\n"
	"start = 2026-11-02T00:00:00Z\n"
	"end = 2026-11-09T00:00:00Z\n"
	"speed = 0\n"
	"drain_timeout = 5\n"
	"profiles = /opt/seeds/districts.ini\n"
	"\n"
	"[mqtt]\n"
	"uri = ws://broker.example:8080/mqtt\n"
	"topic_prefix = stad/trygghet\n"
	"qos = 2\n"
	"publish_readings = no\n"
	"keepalive = 60\n"
	"buffer_max = 5000\n"
	"\n"
	"[influx]\n"
	"url = https://influx.example:8086//\n"
	"api = v1\n"
	"database = trygg het;#1\n"
	"retention_policy = veckor\n"
	"timeout = 20\n"
	"batch_lines = 100\n"
	"\n"
	"[sensor.ljus]\n"
	"type = light\n"
	"driver = sim\n"
	"interval = 10\n"
	"dark_lux = 12.5\n"
	"seed = 42\n"
	"profile = park\n"
	"\n"
	"[sensor.lampa]\n"
	"type = lamp\n"
	"driver = sim\n"
	"light = ljus\n"
	"\n"
	"[sensor.gang-1]\n"
	"type = footfall\n"
	"driver = sim\n";

static void test_full_file(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, full_file);
	const struct config *config = &fixture->config;

	assert_string_equal(config->gateway.site, "Torget vid biblioteket");
	assert_int_equal(config->gateway.window_s, 300);
	assert_string_equal(config->gateway.state_dir, "/srv/tryggd");

	assert_true(config->has_simulation);
	assert_true(config->simulation.start_ms == INT64_C(1793577600000));
	assert_true(config->simulation.end_ms == INT64_C(1794182400000));
	assert_true(config->simulation.speed == 0.0);
	assert_int_equal(config->simulation.drain_timeout_s, 5);
	assert_string_equal(config->simulation.profiles, "/opt/seeds/districts.ini");

	assert_true(config->has_mqtt);
	assert_string_equal(config->mqtt.uri, "ws://broker.example:8080/mqtt");
	assert_string_equal(config->mqtt.topic_prefix, "stad/trygghet");
	assert_int_equal(config->mqtt.qos, 2);
	assert_false(config->mqtt.publish_readings);
	assert_int_equal(config->mqtt.keepalive_s, 60);
	assert_int_equal(config->mqtt.buffer_max, 5000);

	assert_true(config->has_influx);
	assert_string_equal(config->influx.url, "https://influx.example:8086");
	assert_int_equal(config->influx.api, INFLUX_V1);
	/* ';' and '#' start comments only at the start of a line */
	assert_string_equal(config->influx.database, "trygg het;#1");
	assert_string_equal(config->influx.retention_policy, "veckor");
	assert_int_equal(config->influx.timeout_s, 20);
	assert_int_equal(config->influx.batch_lines, 100);

	assert_int_equal(config->sensor_count, 3);
	const struct sensor_config *light = &config->sensors[0];
	assert_string_equal(light->name, "ljus");
	assert_int_equal(light->interval_s, 10);
	assert_true(light->dark_lux == 12.5);
	assert_int_equal(light->option_count, 2);
	assert_string_equal(sensor_option(light, "seed"), "42");
	assert_string_equal(sensor_option(light, "profile"), "park");
	assert_null(sensor_option(light, "dark_lux"));
	assert_int_equal(light->options[0].line, 38);
	assert_int_equal(light->options[1].line, 39);

	const struct sensor_config *lamp = &config->sensors[1];
	assert_string_equal(lamp->name, "lampa");
	assert_int_equal(lamp->type, SENSOR_LAMP);
	assert_string_equal(lamp->light, "ljus");
	assert_int_equal(lamp->line, 41);

	const struct sensor_config *footfall = config_find_sensor(config, "gang-1");
	assert_ptr_equal(footfall, &config->sensors[2]);
	assert_int_equal(footfall->type, SENSOR_FOOTFALL);
}

static void test_summary(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, full_file);
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	assert_non_null(stream);
	config_print_summary(&fixture->config, stream);
	assert_int_equal(fclose(stream), 0);

	assert_non_null(strstr(text, "arby-01 in Årby (topic level 'arby'), site Torget vid biblioteket"));
	assert_non_null(strstr(text, "simulated from 2026-11-02T00:00:00.000Z to 2026-11-09T00:00:00.000Z"));
	assert_non_null(strstr(text, "topics stad/trygghet/arby/arby-01/..."));
	assert_non_null(strstr(text, "https://influx.example:8086, api v1 (InfluxDB 1.x), database trygg het;#1"));
	assert_non_null(strstr(text, "ljus"));
	assert_non_null(strstr(text, "paired with ljus"));
	assert_non_null(strstr(text, "seed=42"));
	free(text);
}

static void test_type_names_and_units(void **state)
{
	(void)state;
	assert_string_equal(sensor_type_name(SENSOR_FOOTFALL), "footfall");
	assert_string_equal(sensor_type_name(SENSOR_LIGHT), "light");
	assert_string_equal(sensor_type_name(SENSOR_LAMP), "lamp");
	assert_string_equal(sensor_type_unit(SENSOR_FOOTFALL), "count");
	assert_string_equal(sensor_type_unit(SENSOR_LIGHT), "lx");
	assert_string_equal(sensor_type_unit(SENSOR_LAMP), "on");
}

static void test_utf8_district_and_site(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, "[gateway]\nid = frs_01\ndistrict = Fröslunda\nsite = Gångvägen vid ån – norr\n"
	                      LIGHT_SENSOR);
	assert_string_equal(fixture->config.gateway.district, "Fröslunda");
	assert_string_equal(fixture->config.gateway.site, "Gångvägen vid ån – norr");
}

static void test_relative_paths_follow_the_config_file(void **state)
{
	struct fixture *fixture = *state;
	const char *text = GATEWAY "state_dir = state\n"
	                   "[simulation]\nstart = 2026-11-02\nprofiles = ../seeds/districts.ini\n" LIGHT_SENSOR;
	write_config(fixture, "etc/tryggd.conf", text, strlen(text));
	assert_int_equal(load_path(fixture, fixture->path), 0);

	char expected[PATH_MAX + 64];
	snprintf(expected, sizeof(expected), "%s/etc/state", fixture->real_directory);
	assert_string_equal(fixture->config.gateway.state_dir, expected);
	snprintf(expected, sizeof(expected), "%s/etc/../seeds/districts.ini", fixture->real_directory);
	assert_string_equal(fixture->config.simulation.profiles, expected);

	/* a relative file name still gives absolute paths */
	char previous[PATH_MAX];
	assert_non_null(getcwd(previous, sizeof(previous)));
	snprintf(expected, sizeof(expected), "%s/etc", fixture->directory);
	assert_int_equal(chdir(expected), 0);
	int r = load_path(fixture, "tryggd.conf");
	assert_int_equal(chdir(previous), 0);
	assert_int_equal(r, 0);
	snprintf(expected, sizeof(expected), "%s/etc/state", fixture->real_directory);
	assert_string_equal(fixture->config.gateway.state_dir, expected);
	assert_string_equal(fixture->config.path, "tryggd.conf");
}

/* CR LF line endings are read (above); a CR anywhere else in a line is
 * said as such, at its line, not as a syntax error. */
static void test_carriage_return_inside_a_line(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY LIGHT_SENSOR "interval = 5\r6\n",
	                "7: a carriage return (\\r) inside the line: the file has old Mac (CR) line endings, or a value "
	                "holds one? save it as UTF-8 text with LF (or CR LF) line endings");
	/* A file with CR alone at the end of its lines is one line. */
	int r = load(fixture, "[gateway]\rid = arby-01\rdistrict = Årby\r[sensor.ljus]\rtype = light\rdriver = sim\r");
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(fixture->errors, ":1: a carriage return (\\r) inside the line"));
	assert_null(strstr(fixture->errors, "expected [section] or key = value"));
}

/* A sim sensor's district must have a profile in the profiles file: at the
 * profile key's line, or the section's when the district is [gateway]'s. */
static void test_sim_district_without_profile(void **state)
{
	struct fixture *fixture = *state;
	const char *profiles = "[simulation]\nprofiles = " TRYGGD_SOURCE_DIR "/seeds/districts.ini\n";   /* 4-5 */
	char text[1024];
	snprintf(text, sizeof(text), GATEWAY "%s[sensor.ljus]\ntype = light\ndriver = sim\nprofile = Ingenstans\n",
	         profiles);
	int r = load(fixture, text);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(fixture->errors, ":9: sim: no profile for district \"Ingenstans\""));
	assert_non_null(strstr(fixture->errors, "Årby"));
	snprintf(text, sizeof(text), "[gateway]\nid = arby-01\ndistrict = Ingenstans\n%s" LIGHT_SENSOR, profiles);
	r = load(fixture, text);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(fixture->errors, ":6: sim: no profile for district \"Ingenstans\""));
	assert_non_null(strstr(fixture->errors, "[gateway] district"));
	/* A district that has one loads. */
	snprintf(text, sizeof(text), GATEWAY "%s" LIGHT_SENSOR "profile = Nyfors\n", profiles);
	assert_loads(fixture, text);
}

static void test_line_endings_bom_and_indented_keys(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, "\xEF\xBB\xBF[gateway]\r\nid = arby-01\r\ndistrict = Årby\r\n"
	                      "    window = 30\r\n[sensor.ljus]\r\ntype = light\r\ndriver = sim\r\n");
	assert_string_equal(fixture->config.gateway.district, "Årby");
	assert_int_equal(fixture->config.gateway.window_s, 30);
}

static void check_shipped_file(struct fixture *fixture, const char *name, const char *district)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", TRYGGD_SOURCE_DIR, name);
	snprintf(fixture->path, sizeof(fixture->path), "%s", path);
	int r = load_path(fixture, path);
	if (r != 0)
		print_error("%s", fixture->errors);
	assert_int_equal(r, 0);
	assert_string_equal(fixture->config.gateway.district, district);
	assert_non_null(config_find_sensor(&fixture->config, fixture->config.sensors[0].name));
}

static void test_shipped_example_is_valid(void **state)
{
	struct fixture *fixture = *state;
	check_shipped_file(fixture, "config/tryggd.conf", "Årby");
	const struct config *config = &fixture->config;
	bool light = false, lamp = false, footfall = false;
	for (size_t i = 0; i < config->sensor_count; i++) {
		light |= config->sensors[i].type == SENSOR_LIGHT;
		footfall |= config->sensors[i].type == SENSOR_FOOTFALL;
		lamp |= config->sensors[i].type == SENSOR_LAMP && config->sensors[i].light != NULL;
	}
	assert_true(light && lamp && footfall);
}

/* config_load() itself, with the registry tryggd really has: the example
 * loads, and a driver only the tests know is unknown there. */
static void test_real_registry(void **state)
{
	(void)state;
	struct config config;
	char *errors = NULL;
	size_t errors_size = 0;
	FILE *stream = open_memstream(&errors, &errors_size);
	assert_non_null(stream);
	assert_int_equal(config_load(TRYGGD_SOURCE_DIR "/config/tryggd.conf", &config, stream), 0);
	assert_string_equal(config.sensors[0].driver, "sim");
	config_free(&config);

	char directory[64];
	assert_non_null(temp_tree_make(directory, sizeof(directory), "/tmp/test_config.XXXXXX"));
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/testlamp.conf", directory);
	temp_tree_write(path, "[gateway]\nid = a\ndistrict = Nyfors\n[sensor.lampa]\ntype = lamp\ndriver = testlamp\n");
	assert_int_equal(config_load(path, &config, stream), -EINVAL);
	fclose(stream);
	char expected[PATH_MAX + 64];
	snprintf(expected, sizeof(expected), "%s:6: unknown driver 'testlamp'\n", path);
	assert_string_equal(errors, expected);
	free(errors);
	temp_tree_remove(directory);
}

/* The example's optional settings are lines of '#' directly followed by a
 * key or a header: switched on, they must be valid too. */
/* The example's lines from the first commented-out [sensor.NAME] on are
 * examples of real drivers, which a [simulation] refuses: the test below
 * switches on every option above them, the next one every example. */
static bool is_sensor_example(const char *line)
{
	return strncmp(line, "#[sensor.", strlen("#[sensor.")) == 0;
}

static char *read_shipped_example(bool examples, int *switched_on)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config/tryggd.conf", TRYGGD_SOURCE_DIR);
	FILE *file = fopen(path, "r");
	assert_non_null(file);
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	assert_non_null(stream);
	char line[1024];
	bool in_examples = false;
	*switched_on = 0;
	if (examples)
		fputs("[gateway]\nid = examples\ndistrict = Nyfors\n", stream);
	while (fgets(line, sizeof(line), file)) {
		in_examples = in_examples || is_sensor_example(line);
		if (in_examples != examples)
			continue;
		bool option = line[0] == '#' && ((line[1] >= 'a' && line[1] <= 'z') || line[1] == '[');
		fputs(option ? line + 1 : line, stream);
		*switched_on += option;
	}
	fclose(file);
	assert_int_equal(fclose(stream), 0);
	return text;
}

static void test_shipped_example_with_every_option_on(void **state)
{
	struct fixture *fixture = *state;
	int switched_on;
	char *text = read_shipped_example(false, &switched_on);
	assert_true(switched_on >= 7);

	assert_loads(fixture, text);
	free(text);
	const struct config *config = &fixture->config;
	assert_true(config->has_simulation);
	assert_true(config->simulation.end_ms > config->simulation.start_ms);
	assert_non_null(config->influx.retention_policy);
}

/* Every example section of a real driver, switched on together under a
 * [gateway], passes validation with the drivers built in. */
static void test_shipped_driver_examples(void **state)
{
	struct fixture *fixture = *state;
	int switched_on;
	char *text = read_shipped_example(true, &switched_on);
	write_config(fixture, "examples.conf", text, strlen(text));
	free(text);
	free(fixture->errors);
	size_t size = 0;
	FILE *errors = open_memstream(&fixture->errors, &size);
	assert_non_null(errors);
	int r = config_load_with_drivers(fixture->path, driver_find, &fixture->config, errors);
	assert_int_equal(fclose(errors), 0);
	if (r != 0)
		print_error("unexpected problems:\n%s", fixture->errors);
	assert_int_equal(r, 0);
	assert_true(switched_on >= 30);

	/* One example at least of every real driver. */
	static const char *const drivers[] = { "gpio", "iio", "bh1750", "replay" };
	for (size_t d = 0; d < sizeof(drivers) / sizeof(drivers[0]); d++) {
		bool found = false;
		for (size_t i = 0; i < fixture->config.sensor_count; i++)
			found = found || strcmp(fixture->config.sensors[i].driver, drivers[d]) == 0;
		if (!found)
			print_error("no example for driver %s\n", drivers[d]);
		assert_true(found);
	}
}

static void test_demo_files_are_valid(void **state)
{
	struct fixture *fixture = *state;
	static const struct {
		const char *name, *district, *id;
	} demos[] = {
		{ "config/demo/froslunda.conf", "Fröslunda", "froslunda-01" },
		{ "config/demo/lagerberg.conf", "Lagerberg", "lagerberg-01" },
		{ "config/demo/nyfors.conf", "Nyfors", "nyfors-01" },
		{ "config/demo/skiftinge.conf", "Skiftinge", "skiftinge-01" },
		{ "config/demo/arby.conf", "Årby", "arby-01" },
	};
	char expected[PATH_MAX];
	for (size_t i = 0; i < sizeof(demos) / sizeof(demos[0]); i++) {
		check_shipped_file(fixture, demos[i].name, demos[i].district);
		const struct config *config = &fixture->config;
		assert_string_equal(config->gateway.id, demos[i].id);
		assert_int_equal(config->gateway.window_s, 60);
		assert_true(config->has_simulation);
		assert_true(config->simulation.start_ms == INT64_C(1793577600000));
		assert_true(config->simulation.end_ms == INT64_C(1794182400000));
		assert_true(config->simulation.speed == 0.0);
		assert_true(config->has_mqtt && config->has_influx);
		size_t length = strlen(config->simulation.profiles);
		snprintf(expected, sizeof(expected), "/config/demo/../../seeds/districts.ini");
		assert_true(length > strlen(expected));
		assert_string_equal(config->simulation.profiles + length - strlen(expected), expected);
	}
}

/* ---- reading ----------------------------------------------------------- */

static void test_unreadable_file(void **state)
{
	struct fixture *fixture = *state;
	snprintf(fixture->path, sizeof(fixture->path), "%s/missing.conf", fixture->directory);
	assert_int_equal(load_path(fixture, fixture->path), -ENOENT);
	char expected[PATH_MAX + 64];
	snprintf(expected, sizeof(expected), "%s: cannot read: %s\n", fixture->path, strerror(ENOENT));
	assert_string_equal(fixture->errors, expected);
	assert_null(fixture->config.path);

	assert_int_equal(load_path(fixture, fixture->directory), -EISDIR);
}

static void test_syntax_errors_are_all_reported(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture,
	                GATEWAY               /* 1-3 */
	                "  norra delen\n"     /* 4: no continuation lines */
	                "window: 60\n"        /* 5 */
	                "[mqtt\n"             /* 6 */
	                "= 5\n"               /* 7 */
	                "[influx] x\n"        /* 8 */
	                LIGHT_SENSOR,
	                "4: expected [section] or key = value",
	                "5: expected [section] or key = value",
	                "6: expected [section] or key = value",
	                "7: expected [section] or key = value",
	                "8: expected [section] or key = value");
}

static void test_invalid_utf8(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = arby-01\ndistrict = \xC5rby\nsite = \xED\xA0\x80\n" LIGHT_SENSOR,
	                "3: not valid UTF-8 (the file must be UTF-8 text)",
	                "4: not valid UTF-8 (the file must be UTF-8 text)");
}

static void test_nul_byte(void **state)
{
	static const char text[] = GATEWAY "site = a\0b\n" LIGHT_SENSOR;
	struct fixture *fixture = *state;
	check_problems(fixture, load_bytes(fixture, text, sizeof(text) - 1),
	               (const char *const[]){ "4: NUL byte in the line (the file must be UTF-8 text)", NULL });
}

static void test_line_too_long(void **state)
{
	struct fixture *fixture = *state;
	size_t length = 10000;
	char *text = malloc(length + 200);
	assert_non_null(text);
	int prefix = snprintf(text, 200, GATEWAY "state_dir = /");
	memset(text + prefix, 'x', length);
	snprintf(text + prefix + length, 200, "\n" LIGHT_SENSOR);
	check_problems(fixture, load(fixture, text),
	               (const char *const[]){ "4: line too long (at most 4350 bytes)", NULL });
	free(text);
}

/* ---- structure --------------------------------------------------------- */

static void test_missing_gateway_and_sensors(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, "[mqtt]\nuri = tcp://127.0.0.1:1883\n",
	                "1: missing section [gateway] (with at least id and district)",
	                "1: no sensors: add at least one [sensor.NAME] section");
	EXPECT_PROBLEMS(fixture, "",
	                "1: missing section [gateway] (with at least id and district)",
	                "1: no sensors: add at least one [sensor.NAME] section");
}

static void test_key_outside_any_section(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, "window = 60\n" GATEWAY LIGHT_SENSOR,
	                "1: 'window' is outside any section; keys go under a [section] header");
}

static void test_unknown_section(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[mgtt]\nuri = tcp://h:1883\n" LIGHT_SENSOR,
	                "4: unknown section [mgtt] (expected gateway, simulation, mqtt, influx or sensor.NAME)");
}

static void test_unknown_key(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "windw = 60\n" LIGHT_SENSOR, "4: unknown key 'windw' in [gateway]");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nuser = x\n" LIGHT_SENSOR,
	                "6: unknown key 'user' in [mqtt]");
}

static void test_duplicate_key(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "id = arby-02\n" LIGHT_SENSOR, "4: duplicate key 'id' (first at line 2)");
}

static void test_duplicate_section(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY LIGHT_SENSOR LIGHT_SENSOR "[gateway]\nwindow = 5\n",
	                "7: duplicate section [sensor.ljus] (first at line 4)",
	                "10: duplicate section [gateway] (first at line 1)");
}

static void test_many_problems_together_in_line_order(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture,
	                "[gateway]\n"            /* 1 */
	                "id = bad id!\n"         /* 2 */
	                "district = Årby\n"      /* 3 */
	                "window = 0\n"           /* 4 */
	                "[mqtt]\n"               /* 5 */
	                "uri = http://x:1\n"     /* 6 */
	                "qos = 3\n"              /* 7 */
	                "[sensor.dörr]\n"        /* 8 */
	                "type = footfall\n"      /* 9 */
	                "driver = sim\n"         /* 10 */
	                "[sensor.ljus]\n"        /* 11 */
	                "type = light\n"         /* 12 */
	                "driver = sim\n"         /* 13 */
	                "dark_lux = -1\n",       /* 14 */
	                "2: id: expected 1 to 64 of A-Z a-z 0-9 _ -, got 'bad id!'",
	                "4: window: expected whole seconds from 1 to 86400, got '0'",
	                "6: uri: the scheme must be tcp, mqtt, ssl, mqtts, ws or wss, got 'http://x:1'",
	                "7: qos: expected 0, 1 or 2, got '3'",
	                "8: sensor name 'dörr': expected 1 to 32 of a-z 0-9 _ -",
	                "14: dark_lux: expected lux, 0 or more, got '-1'");
}

/* ---- [gateway] --------------------------------------------------------- */

static void test_missing_id(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, "# board\n[gateway]\ndistrict = Årby\n" LIGHT_SENSOR,
	                "2: missing required key 'id' in [gateway]");
}

static void test_bad_id(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = årby-01\ndistrict = Årby\n" LIGHT_SENSOR,
	                "2: id: expected 1 to 64 of A-Z a-z 0-9 _ -, got 'årby-01'");
	EXPECT_PROBLEMS(fixture,
	                "[gateway]\nid = a123456789b123456789c123456789d123456789e123456789f123456789g1234\n"
	                "district = Årby\n" LIGHT_SENSOR,
	                "2: id: expected 1 to 64 of A-Z a-z 0-9 _ -, "
	                "got 'a123456789b123456789c123456789d123456789e123456789f123456789g123...'");
	EXPECT_PROBLEMS(fixture, "[gateway]\nid =\ndistrict = Årby\n" LIGHT_SENSOR,
	                "2: id: expected 1 to 64 of A-Z a-z 0-9 _ -, got ''");
}

static void test_district_rules(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = a\n" LIGHT_SENSOR, "1: missing required key 'district' in [gateway]");
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = a\ndistrict =\n" LIGHT_SENSOR, "3: district must not be empty");
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = a\ndistrict = Års\tby\n" LIGHT_SENSOR,
	                "3: control characters are not allowed in district");
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = a\ndistrict = Årby\x1b[0m\n" LIGHT_SENSOR,
	                "3: control characters are not allowed in district");
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = a\ndistrict = ---\n" LIGHT_SENSOR,
	                "3: district '---' has no letter or digit to make a topic level of");
	char text[512];
	snprintf(text, sizeof(text), "[gateway]\nid = a\ndistrict = %0129d\n" LIGHT_SENSOR, 0);
	EXPECT_PROBLEMS(fixture, text, "3: district is too long (at most 128 bytes)");
}

/* inih's switches are shared with the sim profiles reader: left as found. */
static void test_inih_switches_are_restored(void **state)
{
	struct fixture *fixture = *state;
	const bool multiline = ini_allow_multiline, inline_comments = ini_allow_inline_comments;
	const int max_line = ini_max_line;
	ini_allow_multiline = true;
	ini_allow_inline_comments = true;
	ini_max_line = 200;
	assert_loads(fixture, GATEWAY "site = a ; b\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.gateway.site, "a ; b");
	assert_true(ini_allow_multiline);
	assert_true(ini_allow_inline_comments);
	assert_int_equal(ini_max_line, 200);
	ini_allow_multiline = multiline;
	ini_allow_inline_comments = inline_comments;
	ini_max_line = max_line;
}

static void test_site_rules(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "site = Torget\x7f\n" LIGHT_SENSOR,
	                "4: control characters are not allowed in site");
	EXPECT_PROBLEMS(fixture, GATEWAY "site =\n" LIGHT_SENSOR, "4: site must not be empty");
	/* a site needs no slug: punctuation alone is fine */
	assert_loads(fixture, GATEWAY "site = --\n" LIGHT_SENSOR);
}

/* InfluxDB 1.x cannot keep these exactly as tag values (lineproto.c). */
static void test_backslashes_the_store_cannot_keep(void **state)
{
	struct fixture *fixture = *state;
	const char *message = ": a backslash at the end or right before a comma, space or '=' cannot be stored exactly; remove it";
	char expected[256];
	snprintf(expected, sizeof(expected), "4: site%s", message);
	EXPECT_PROBLEMS(fixture, GATEWAY "site = Torget\\\n" LIGHT_SENSOR, expected);
	EXPECT_PROBLEMS(fixture, GATEWAY "site = a\\ b\n" LIGHT_SENSOR, expected);
	EXPECT_PROBLEMS(fixture, GATEWAY "site = a\\,b\n" LIGHT_SENSOR, expected);
	EXPECT_PROBLEMS(fixture, GATEWAY "site = a\\=b\n" LIGHT_SENSOR, expected);
	snprintf(expected, sizeof(expected), "3: district%s", message);
	EXPECT_PROBLEMS(fixture, "[gateway]\nid = a\ndistrict = Årby\\\n" LIGHT_SENSOR, expected);
	/* Elsewhere a backslash is kept as written. */
	assert_loads(fixture, GATEWAY "site = a\\b, c=d \"e\"\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.gateway.site, "a\\b, c=d \"e\"");
}

static void test_bad_window(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "window = abc\n" LIGHT_SENSOR,
	                "4: window: expected whole seconds from 1 to 86400, got 'abc'");
	EXPECT_PROBLEMS(fixture, GATEWAY "window = 86401\n" LIGHT_SENSOR,
	                "4: window: expected whole seconds from 1 to 86400, got '86401'");
	EXPECT_PROBLEMS(fixture, GATEWAY "window = 60s\n" LIGHT_SENSOR,
	                "4: window: expected whole seconds from 1 to 86400, got '60s'");
	/* no comments after a value */
	EXPECT_PROBLEMS(fixture, GATEWAY "window = 60 ; one minute\n" LIGHT_SENSOR,
	                "4: window: expected whole seconds from 1 to 86400, got '60 ; one minute'");
	EXPECT_PROBLEMS(fixture, GATEWAY "window = 99999999999999999999\n" LIGHT_SENSOR,
	                "4: window: expected whole seconds from 1 to 86400, got '99999999999999999999'");
}

/* ---- [simulation] ------------------------------------------------------ */

static void test_simulation_rules(void **state)
{
	struct fixture *fixture = *state;
	/* Without start the clock is real: the clock keys make no sense. */
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[simulation]\nend = 2026-11-01T00:00:00Z\nspeed = -1\ndrain_timeout = 3601\nsped = 2\n"
	                        "profiles =\n" LIGHT_SENSOR,
	                "5: end needs start: without start the clock is real",
	                "6: speed needs start: without start the clock is real",
	                "7: drain_timeout needs start: without start the clock is real",
	                "8: unknown key 'sped' in [simulation]",
	                "9: profiles must not be empty");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[simulation]\nstart = 2026-11-02T00:00:00Z\nspeed = -1\ndrain_timeout = 3601\n" LIGHT_SENSOR,
	                "6: speed: expected virtual seconds per real second, 0 or more (0 = as fast as possible), "
	                "got '-1'",
	                "7: drain_timeout: expected whole seconds from 0 to 3600, got '3601'");
	/* Simulated sensors on the real clock, with their own profiles. */
	assert_loads(fixture, GATEWAY "[simulation]\nprofiles = /srv/profiles.ini\n" LIGHT_SENSOR);
	assert_false(fixture->config.has_simulation);
	assert_string_equal(fixture->config.simulation.profiles, "/srv/profiles.ini");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[simulation]\nstart = 2026-11-02T00:00:00Z\nend = 2026-11-01T00:00:00Z\n"
	                        "speed = nan\n" LIGHT_SENSOR,
	                "6: end must be after start",
	                "7: speed: expected virtual seconds per real second, 0 or more (0 = as fast as possible), "
	                "got 'nan'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[simulation]\nstart = 2026-11-02 06:00\nend = soon\n" LIGHT_SENSOR,
	                "5: start: expected an ISO-8601 UTC time like 2026-11-02T00:00:00Z, got '2026-11-02 06:00'",
	                "6: end: expected an ISO-8601 UTC time like 2026-11-09T00:00:00Z, got 'soon'");
	assert_loads(fixture, GATEWAY "[simulation]\nstart = 2026-11-02T00:00:00Z\nspeed = 60.5\n" LIGHT_SENSOR);
	assert_true(fixture->config.simulation.speed == 60.5);
	assert_true(fixture->config.simulation.end_ms == 0);
}

static void test_simulation_needs_simulated_drivers(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[simulation]\nstart = 2026-11-02T00:00:00Z\n" LIGHT_SENSOR
	                        "[sensor.lampa]\ntype = lamp\ndriver = testlamp\n",
	                "4: [simulation] needs simulated sensors, but sensor 'lampa' uses driver 'testlamp'");
	/* the same sensors in real time are fine */
	assert_loads(fixture, GATEWAY LIGHT_SENSOR "[sensor.lampa]\ntype = lamp\ndriver = testlamp\npin = 5\n"
	                                           "light = ljus\n");
	assert_string_equal(sensor_option(&fixture->config.sensors[1], "pin"), "5");
}

/* ---- [mqtt] ------------------------------------------------------------ */

static void test_mqtt_uri(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nqos = 1\n" LIGHT_SENSOR, "4: missing required key 'uri' in [mqtt]");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = amqp://broker:5672\n" LIGHT_SENSOR,
	                "5: uri: the scheme must be tcp, mqtt, ssl, mqtts, ws or wss, got 'amqp://broker:5672'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = broker:1883\n" LIGHT_SENSOR,
	                "5: uri: expected SCHEME://HOST:PORT, e.g. tcp://broker.example:1883, got 'broker:1883'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://broker\n" LIGHT_SENSOR,
	                "5: uri: missing port, e.g. tcp://broker.example:1883, got 'tcp://broker'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://broker:65536\n" LIGHT_SENSOR,
	                "5: uri: the port must be from 1 to 65535, got 'tcp://broker:65536'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://broker:1883/mqtt\n" LIGHT_SENSOR,
	                "5: uri: only ws:// and wss:// may have a path after the port, got 'tcp://broker:1883/mqtt'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://user:secret@broker:1883\n" LIGHT_SENSOR,
	                "5: uri: the port must be from 1 to 65535, got 'tcp://user:secret@broker:1883'");
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = mqtt://[::1]:1883\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.mqtt.uri, "mqtt://[::1]:1883");
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = ws://broker.example:80/mqtt\n" LIGHT_SENSOR);
	/* TLS: with no other key, the system's CA store and every check on. */
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = mqtts://[::1]:8883\n" LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.tls);
	assert_true(fixture->config.mqtt.verify);
	assert_null(fixture->config.mqtt.ca_file);
	assert_null(fixture->config.mqtt.ca_dir);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = ssl://broker:8883\n" LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.tls);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = wss://broker.example:443/mqtt\n" LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.tls);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = ws://broker.example:80/mqtt\n" LIGHT_SENSOR);
	assert_false(fixture->config.mqtt.tls);
}

/* Several brokers, tried in order; the protocol version, the session, the
 * client id and the outbox's byte bound. */
static void test_mqtt_session_keys(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883, tcp://b:1884 ws://c:80/mqtt\n" LIGHT_SENSOR);
	const struct mqtt_config *mqtt = &fixture->config.mqtt;
	assert_int_equal(mqtt->uri_count, 3);
	assert_string_equal(mqtt->uris[0], "tcp://a:1883");
	assert_string_equal(mqtt->uris[1], "tcp://b:1884");
	assert_string_equal(mqtt->uris[2], "ws://c:80/mqtt");
	assert_ptr_equal(mqtt->uri, mqtt->uris[0]);
	/* Defaults. */
	assert_int_equal(mqtt->version, MQTT_VERSION_3_1_1);
	assert_true(mqtt->clean_session);
	assert_null(mqtt->client_id);
	assert_int_equal(mqtt->buffer_bytes, 64 * 1024 * 1024);

	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nversion = 5\nclean_session = no\n"
	                              "client_id = mast-7_b\nbuffer_size = 512K\n" LIGHT_SENSOR);
	mqtt = &fixture->config.mqtt;
	assert_int_equal(mqtt->version, MQTT_VERSION_5);
	assert_false(mqtt->clean_session);
	assert_string_equal(mqtt->client_id, "mast-7_b");
	assert_int_equal(mqtt->buffer_bytes, 512 * 1024);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nversion = 3.1.1\nbuffer_size = 1G\n" LIGHT_SENSOR);
	assert_int_equal(fixture->config.mqtt.buffer_bytes, INT64_C(1) << 30);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nbuffer_size = 65536\n" LIGHT_SENSOR);
	assert_int_equal(fixture->config.mqtt.buffer_bytes, 65536);

	/* Every URI is checked; the good ones do not hide a bad one. */
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883,amqp://b:5672\n" LIGHT_SENSOR,
	                "5: uri: the scheme must be tcp, mqtt, ssl, mqtts, ws or wss, got 'amqp://b:5672'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = ,\n" LIGHT_SENSOR,
	                "5: uri: expected SCHEME://HOST:PORT, e.g. tcp://broker.example:1883");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1,tcp://a:2,tcp://a:3,tcp://a:4,tcp://a:5,"
	                                 "tcp://a:6,tcp://a:7,tcp://a:8,tcp://a:9\n" LIGHT_SENSOR,
	                "5: uri: at most 8 brokers");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nversion = 3\n" LIGHT_SENSOR,
	                "6: version: expected 3.1.1 or 5, got '3'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nclean_session = maybe\n" LIGHT_SENSOR,
	                "6: clean_session: expected yes or no, got 'maybe'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nclient_id = a/b\n" LIGHT_SENSOR,
	                "6: client_id: expected 1 to 64 of A-Z a-z 0-9 _ -, got 'a/b'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nbuffer_size = 32K\n" LIGHT_SENSOR,
	                "6: buffer_size: expected a size from 64K to 64G, such as 64M, got '32K'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nbuffer_size = 65G\n" LIGHT_SENSOR,
	                "6: buffer_size: expected a size from 64K to 64G, such as 64M, got '65G'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://a:1883\nbuffer_size = 64 M\n" LIGHT_SENSOR,
	                "6: buffer_size: expected a size from 64K to 64G, such as 64M, got '64 M'");
}

static void test_topic_prefix(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\ntopic_prefix = stad/#\n" LIGHT_SENSOR,
	                "6: topic_prefix must not contain '+' or '#' (they are MQTT wildcards)");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\ntopic_prefix = +\n" LIGHT_SENSOR,
	                "6: topic_prefix must not contain '+' or '#' (they are MQTT wildcards)");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\ntopic_prefix = /stad\n" LIGHT_SENSOR,
	                "6: topic_prefix must not start or end with '/'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\ntopic_prefix = stad//x\n" LIGHT_SENSOR,
	                "6: topic_prefix must not contain an empty level ('//')");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\ntopic_prefix =\n" LIGHT_SENSOR,
	                "6: topic_prefix must not be empty");
}

static void test_bad_qos_and_other_mqtt_numbers(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[mqtt]\nuri = tcp://h:1883\nqos = 1.0\npublish_readings = maybe\nkeepalive = 4\n"
	                        "buffer_max = 10000001\n" LIGHT_SENSOR,
	                "6: qos: expected 0, 1 or 2, got '1.0'",
	                "7: publish_readings: expected yes or no, got 'maybe'",
	                "8: keepalive: expected whole seconds from 5 to 3600, got '4'",
	                "9: buffer_max: expected a number of messages from 1 to 10000000, got '10000001'");
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nqos = 0\npublish_readings = OFF\n" LIGHT_SENSOR);
	assert_int_equal(fixture->config.mqtt.qos, 0);
	assert_false(fixture->config.mqtt.publish_readings);
}

/* health_interval and status_interval: defaults, the duration spellings,
 * 0, and every way a value is refused. */
static void test_mqtt_periods(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\n" LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.health_interval_ms == 60000);
	assert_true(fixture->config.mqtt.status_interval_ms == 300000);
	/* The same defaults without [mqtt]. */
	assert_loads(fixture, GATEWAY LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.health_interval_ms == 60000);
	assert_true(fixture->config.mqtt.status_interval_ms == 300000);

	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 15min\nstatus_interval = 90\n"
	                      LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.health_interval_ms == 900000);
	assert_true(fixture->config.mqtt.status_interval_ms == 90000);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 0\nstatus_interval = 0s\n"
	                      LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.health_interval_ms == 0);
	assert_true(fixture->config.mqtt.status_interval_ms == 0);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 1s\nstatus_interval = 7d\n"
	                      LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.health_interval_ms == 1000);
	assert_true(fixture->config.mqtt.status_interval_ms == INT64_C(604800000));
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 1500ms\nstatus_interval = 2.5min\n"
	                      LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.health_interval_ms == 1500);
	assert_true(fixture->config.mqtt.status_interval_ms == 150000);

	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 999ms\nstatus_interval = 0.5s\n" LIGHT_SENSOR,
	                "6: health_interval: expected a time from 1s to 7d such as 60s or 5min, or 0 to turn it off, "
	                "got '999ms'",
	                "7: status_interval: expected a time from 1s to 7d such as 5min, or 0 to say it only on connect, "
	                "got '0.5s'");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 8d\nstatus_interval = -5\n" LIGHT_SENSOR,
	                "6: health_interval: expected a time from 1s to 7d such as 60s or 5min, or 0 to turn it off, "
	                "got '8d'",
	                "7: status_interval: expected a time from 1s to 7d such as 5min, or 0 to say it only on connect, "
	                "got '-5'");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 1 min\nstatus_interval = off\n" LIGHT_SENSOR,
	                "6: health_interval: expected a time from 1s to 7d such as 60s or 5min, or 0 to turn it off, "
	                "got '1 min'",
	                "7: status_interval: expected a time from 1s to 7d such as 5min, or 0 to say it only on connect, "
	                "got 'off'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval =\n" LIGHT_SENSOR,
	                "6: health_interval: expected a time from 1s to 7d such as 60s or 5min, or 0 to turn it off, "
	                "got ''");

	/* --check shows them. */
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 0\nstatus_interval = 0\n"
	                      LIGHT_SENSOR);
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	assert_non_null(stream);
	config_print_summary(&fixture->config, stream);
	assert_int_equal(fclose(stream), 0);
	assert_non_null(strstr(text, "            health off, status on connect only\n"));
	free(text);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nhealth_interval = 1500ms\n" LIGHT_SENSOR);
	stream = open_memstream(&text, &size);
	assert_non_null(stream);
	config_print_summary(&fixture->config, stream);
	assert_int_equal(fclose(stream), 0);
	assert_non_null(strstr(text, "            health every 1.5 s, status on connect and every 300 s\n"));
	free(text);
}

/* ---- [mqtt] credentials, TLS and proxy ---------------------------------- */

/* snprintf that must not cut. */
static void print_into(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void print_into(char *buffer, size_t size, const char *format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	int length = vsnprintf(buffer, size, format, arguments);
	va_end(arguments);
	assert_true(length >= 0 && (size_t)length < size);
}

/* The summary --check prints, as one string (the caller frees it). */
static char *summary_of(struct fixture *fixture)
{
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	assert_non_null(stream);
	config_print_summary(&fixture->config, stream);
	assert_int_equal(fclose(stream), 0);
	return text;
}

/* fixture's directory / name, in buffer. */
static const char *in_fixture(struct fixture *fixture, const char *name, char *buffer, size_t size)
{
	assert_true(snprintf(buffer, size, "%s/%s", fixture->real_directory, name) < (int)size);
	return buffer;
}

static void put_file(struct fixture *fixture, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	print_into(path, sizeof(path), "%s/%s", fixture->directory, name);
	temp_tree_make_parent(path);
	temp_tree_write(path, text);
	assert_int_equal(chmod(path, mode), 0);
}

#define TLS_URI "[mqtt]\nuri = ssl://127.0.0.1:8883\n"   /* lines 4-5 */
#define PASSWORD "correct horse battery staple"

static void test_mqtt_credentials(void **state)
{
	struct fixture *fixture = *state;
	char path[PATH_MAX], other[PATH_MAX];
	unsetenv("CREDENTIALS_DIRECTORY");
	put_file(fixture, "mqtt-password", PASSWORD "\n", 0600);

	/* Next to the config. */
	assert_loads(fixture, GATEWAY TLS_URI "username = mast-7\npassword_file = mqtt-password\n" LIGHT_SENSOR);
	const struct mqtt_config *mqtt = &fixture->config.mqtt;
	assert_string_equal(mqtt->username, "mast-7");
	assert_string_equal(mqtt->password_file, in_fixture(fixture, "mqtt-password", path, sizeof(path)));
	char *text = summary_of(fixture);
	print_into(other, sizeof(other), "            user mast-7, password from %s\n", path);
	assert_non_null(strstr(text, other));
	assert_null(strstr(text, PASSWORD));
	free(text);

	/* A user without a password; a password over plain MQTT is said. */
	assert_loads(fixture, GATEWAY TLS_URI "username = mast-7\n" LIGHT_SENSOR);
	assert_null(fixture->config.mqtt.password_file);
	text = summary_of(fixture);
	assert_non_null(strstr(text, "            user mast-7, no password\n"));
	free(text);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nusername = u\npassword_file = mqtt-password\n"
	                      LIGHT_SENSOR);
	text = summary_of(fixture);
	assert_non_null(strstr(text, "(sent unencrypted: the broker is not TLS)\n"));
	free(text);
	put_file(fixture, "mqtt-password", PASSWORD "\n", 0644);
	assert_loads(fixture, GATEWAY TLS_URI "username = u\npassword_file = mqtt-password\n" LIGHT_SENSOR);
	text = summary_of(fixture);
	assert_non_null(strstr(text, "(readable by every user: chmod o-r)\n"));
	free(text);

	/* $CREDENTIALS_DIRECTORY first, as systemd's LoadCredential= gives it. */
	put_file(fixture, "credentials/mqtt-password", "from systemd\n", 0400);
	print_into(other, sizeof(other), "%s/credentials", fixture->real_directory);
	setenv("CREDENTIALS_DIRECTORY", other, 1);
	assert_loads(fixture, GATEWAY TLS_URI "username = u\npassword_file = mqtt-password\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.mqtt.password_file,
	                    in_fixture(fixture, "credentials/mqtt-password", path, sizeof(path)));
	/* Not there: the config's directory; in neither: said so. */
	assert_loads(fixture, GATEWAY TLS_URI "username = u\npassword_file = mqtt-password\n" LIGHT_SENSOR);
	char expected[PATH_MAX * 3];
	print_into(expected, sizeof(expected),
	         "7: password_file: cannot read 'nowhere': not in $CREDENTIALS_DIRECTORY (%s) nor in %s", other,
	         fixture->real_directory);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword_file = nowhere\n" LIGHT_SENSOR, expected);
	unsetenv("CREDENTIALS_DIRECTORY");
	print_into(expected, sizeof(expected),
	         "7: password_file: cannot read %s: No such file or directory ($CREDENTIALS_DIRECTORY is not set)",
	         in_fixture(fixture, "nowhere", path, sizeof(path)));
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword_file = nowhere\n" LIGHT_SENSOR, expected);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword_file = /no/such/file\n" LIGHT_SENSOR,
	                "7: password_file: cannot read /no/such/file: No such file or directory");

	/* What a password file must hold. */
	put_file(fixture, "empty", "\n", 0600);
	print_into(expected, sizeof(expected), "7: password_file: %s: empty",
	         in_fixture(fixture, "empty", path, sizeof(path)));
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword_file = empty\n" LIGHT_SENSOR, expected);
	put_file(fixture, "two-lines", "user\n" PASSWORD "\n", 0600);
	print_into(expected, sizeof(expected),
	         "7: password_file: %s: more than one line (the file holds the password alone, with at most one "
	         "newline at its end)", in_fixture(fixture, "two-lines", path, sizeof(path)));
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword_file = two-lines\n" LIGHT_SENSOR, expected);
	print_into(expected, sizeof(expected), "7: password_file: %s: Is a directory", fixture->real_directory);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword_file = .\n" LIGHT_SENSOR, expected);

	/* The rules around it. */
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "password_file = mqtt-password\n" LIGHT_SENSOR,
	                "6: password_file: needs username (MQTT sends no password without one)");
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username = u\npassword = " PASSWORD "\n" LIGHT_SENSOR,
	                "7: password: secrets do not go in the config; put the password in a file of its own and "
	                "name it with password_file");
	assert_null(strstr(fixture->errors, PASSWORD));
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "username =\n" LIGHT_SENSOR, "6: username must not be empty");
}

/* A CA, a client certificate it signs and its key, a key of another, a key
 * locked by a passphrase, and certificate and key in one file. */
static void make_pki(struct fixture *fixture)
{
	char ca[PATH_MAX], ca_key[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], other[PATH_MAX], other_key[PATH_MAX];
	char locked[PATH_MAX], locked_cert[PATH_MAX], both[PATH_MAX];
	in_fixture(fixture, "ca.pem", ca, sizeof(ca));
	in_fixture(fixture, "ca.key", ca_key, sizeof(ca_key));
	in_fixture(fixture, "client.pem", cert, sizeof(cert));
	in_fixture(fixture, "client.key", key, sizeof(key));
	in_fixture(fixture, "other.pem", other, sizeof(other));
	in_fixture(fixture, "other.key", other_key, sizeof(other_key));
	in_fixture(fixture, "locked.pem", locked_cert, sizeof(locked_cert));
	in_fixture(fixture, "locked.key", locked, sizeof(locked));
	in_fixture(fixture, "both.pem", both, sizeof(both));
	pki_make(ca, ca_key, "Test CA", NULL, NULL, NULL);
	pki_make(cert, key, "mast-7", ca, ca_key, NULL);
	pki_make(other, other_key, "other", ca, ca_key, NULL);
	pki_make(locked_cert, locked, "locked", ca, ca_key, "passphrase");
	pki_join(both, (const char *const[]){ cert, key, NULL });
}

static void test_mqtt_tls_keys(void **state)
{
	struct fixture *fixture = *state;
	char path[PATH_MAX], expected[PATH_MAX * 3];
	unsetenv("CREDENTIALS_DIRECTORY");
	make_pki(fixture);

	assert_loads(fixture, GATEWAY TLS_URI "ca_file = ca.pem\ncert_file = client.pem\nkey_file = client.key\n"
	                      "verify = yes\n" LIGHT_SENSOR);
	const struct mqtt_config *mqtt = &fixture->config.mqtt;
	assert_true(mqtt->tls);
	assert_true(mqtt->verify);
	assert_string_equal(mqtt->ca_file, in_fixture(fixture, "ca.pem", path, sizeof(path)));
	assert_string_equal(mqtt->cert_file, in_fixture(fixture, "client.pem", path, sizeof(path)));
	assert_string_equal(mqtt->key_file, in_fixture(fixture, "client.key", path, sizeof(path)));
	char *text = summary_of(fixture);
	print_into(expected, sizeof(expected),
	         "            TLS: the broker's certificate and host name checked against %s/ca.pem\n"
	         "            client certificate %s/client.pem, key %s/client.key\n",
	         fixture->real_directory, fixture->real_directory, fixture->real_directory);
	assert_non_null(strstr(text, expected));
	assert_null(strstr(text, "PRIVATE KEY"));
	free(text);

	/* The key with the certificate; the key from $CREDENTIALS_DIRECTORY;
	 * no CA: the system's store; verify off. */
	assert_loads(fixture, GATEWAY TLS_URI "cert_file = both.pem\nverify = no\n" LIGHT_SENSOR);
	assert_null(fixture->config.mqtt.key_file);
	assert_null(fixture->config.mqtt.ca_file);
	assert_false(fixture->config.mqtt.verify);
	text = summary_of(fixture);
	assert_non_null(strstr(text, "            TLS: the broker's certificate is NOT checked (verify = no)\n"));
	assert_non_null(strstr(text, "/both.pem, key in the same file\n"));
	free(text);
	temp_tree_make_directory(in_fixture(fixture, "credentials", path, sizeof(path)));
	setenv("CREDENTIALS_DIRECTORY", path, 1);
	pki_join(in_fixture(fixture, "credentials/mast.key", path, sizeof(path)),
	         (const char *const[]){ in_fixture(fixture, "client.key", expected, sizeof(expected)), NULL });
	assert_loads(fixture, GATEWAY TLS_URI "cert_file = client.pem\nkey_file = mast.key\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.mqtt.key_file, path);
	text = summary_of(fixture);
	assert_non_null(strstr(text, "checked against the system's CA store\n"));
	free(text);
	unsetenv("CREDENTIALS_DIRECTORY");

	/* A CA directory: only with OpenSSL's hashed names in it. */
	const char *real = fixture->real_directory;
	temp_tree_make_directory(in_fixture(fixture, "cas", path, sizeof(path)));
	print_into(expected, sizeof(expected),
	         "6: ca_dir: %s/cas holds no certificate under a hashed name such as 9d66eef0.0; run 'openssl rehash' "
	         "on it", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "ca_dir = cas\n" LIGHT_SENSOR, expected);
	pki_join(in_fixture(fixture, "cas/0a1b2c3d.0", path, sizeof(path)),
	         (const char *const[]){ in_fixture(fixture, "ca.pem", expected, sizeof(expected)), NULL });
	assert_loads(fixture, GATEWAY TLS_URI "ca_dir = cas\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.mqtt.ca_dir, in_fixture(fixture, "cas", path, sizeof(path)));
	print_into(expected, sizeof(expected), "6: ca_dir: cannot read %s/nope: No such file or directory", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "ca_dir = nope\n" LIGHT_SENSOR, expected);

	/* Files that do not hold what they should. */
	print_into(expected, sizeof(expected), "6: ca_file: %s/client.key holds no PEM certificate "
	         "(-----BEGIN CERTIFICATE-----)", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "ca_file = client.key\n" LIGHT_SENSOR, expected);
	print_into(expected, sizeof(expected), "6: ca_file: cannot read %s/ca.crt: No such file or directory "
	         "($CREDENTIALS_DIRECTORY is not set)", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "ca_file = ca.crt\n" LIGHT_SENSOR, expected);
	print_into(expected, sizeof(expected), "6: cert_file: %s/client.key holds no PEM certificate "
	         "(-----BEGIN CERTIFICATE-----)", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "cert_file = client.key\nkey_file = client.key\n" LIGHT_SENSOR,
	                expected);
	print_into(expected, sizeof(expected), "7: key_file: %s/ca.pem holds no PEM private key", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "cert_file = client.pem\nkey_file = ca.pem\n" LIGHT_SENSOR, expected);
	print_into(expected, sizeof(expected),
	         "6: cert_file: %s/client.pem holds no private key; name the key's file with key_file", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "cert_file = client.pem\n" LIGHT_SENSOR, expected);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "key_file = client.key\n" LIGHT_SENSOR,
	                "6: key_file: needs cert_file, the certificate the key belongs to");
	print_into(expected, sizeof(expected),
	         "7: key_file: the key in %s/other.key does not belong to the certificate in %s/client.pem", real, real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "cert_file = client.pem\nkey_file = other.key\n" LIGHT_SENSOR,
	                expected);
	print_into(expected, sizeof(expected),
	         "7: key_file: the key in %s/locked.key is locked by a passphrase; tryggd needs it unlocked (keep it "
	         "readable only by tryggd, e.g. through LoadCredential=)", real);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "cert_file = locked.pem\nkey_file = locked.key\n" LIGHT_SENSOR,
	                expected);
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "verify = maybe\n" LIGHT_SENSOR,
	                "6: verify: expected yes or no, got 'maybe'");

	/* TLS keys with plain brokers, and plain and TLS brokers mixed. */
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = tcp://h:1883\nca_file = ca.pem\nverify = no\n" LIGHT_SENSOR,
	                "6: ca_file: only for brokers reached over TLS (ssl://, mqtts://, wss://), and uri names none",
	                "7: verify: only for brokers reached over TLS (ssl://, mqtts://, wss://), and uri names none");
	EXPECT_PROBLEMS(fixture, GATEWAY "[mqtt]\nuri = ssl://a:8883, tcp://b:1883\n" LIGHT_SENSOR,
	                "5: uri: either every broker uses TLS (ssl, mqtts, wss) or none does: a failover to a plain "
	                "one would send in clear");
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = ssl://a:8883, mqtts://b:8883 wss://c:443/mqtt\n" LIGHT_SENSOR);
	assert_true(fixture->config.mqtt.tls);
}

static void test_mqtt_proxy(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, GATEWAY TLS_URI LIGHT_SENSOR);
	assert_null(fixture->config.mqtt.proxy);
	char *text = summary_of(fixture);
	assert_non_null(strstr(text, "            no proxy (https_proxy in the environment is not used)\n"));
	free(text);
	assert_loads(fixture, GATEWAY "[mqtt]\nuri = ws://h:80/mqtt\nproxy = none\n" LIGHT_SENSOR);
	assert_null(fixture->config.mqtt.proxy);
	text = summary_of(fixture);
	assert_non_null(strstr(text, "            no proxy (http_proxy in the environment is not used)\n"));
	free(text);

	assert_loads(fixture, GATEWAY TLS_URI "proxy = proxy.example:3128\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.mqtt.proxy, "proxy.example:3128");
	text = summary_of(fixture);
	assert_non_null(strstr(text, "            through the HTTP proxy proxy.example:3128\n"));
	free(text);
	assert_loads(fixture, GATEWAY TLS_URI "proxy = http://[::1]:3128/\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.mqtt.proxy, "[::1]:3128");

	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "proxy = https://p:1\n" LIGHT_SENSOR,
	                "6: proxy: expected HOST:PORT or http://HOST:PORT (tryggd asks the proxy with a plain HTTP "
	                "CONNECT), got 'https://p:1'");
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "proxy = http://u:" PASSWORD "@p:1\n" LIGHT_SENSOR,
	                "6: proxy: a user name or password in the proxy's address is not supported (secrets do not go "
	                "in the config)");
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "proxy = p\n" LIGHT_SENSOR,
	                "6: proxy: missing port, e.g. proxy.example:3128, got 'p'");
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "proxy = p:0\n" LIGHT_SENSOR,
	                "6: proxy: the port must be from 1 to 65535, got 'p:0'");
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "proxy = p:80x\n" LIGHT_SENSOR,
	                "6: proxy: unexpected text after the port, got 'p:80x'");
	EXPECT_PROBLEMS(fixture, GATEWAY TLS_URI "proxy = :80\n" LIGHT_SENSOR,
	                "6: proxy: expected HOST:PORT or http://HOST:PORT, got ':80'");
}

/* ---- [influx] ---------------------------------------------------------- */

static void test_influx_rules(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[influx]\nurl = http://127.0.0.1:8086\napi = 1\n" LIGHT_SENSOR,
	                "6: api: expected v1, v2, v3 or victoriametrics, got '1'");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[influx]\ndatabase = x\n" LIGHT_SENSOR, "4: missing required key 'url' in [influx]");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[influx]\nurl = ftp://store\ndatabase =\nretention_policy = a\x01\ntimeout = 0\n"
	                        "batch_lines = 100001\n" LIGHT_SENSOR,
	                "5: url: expected http://HOST:PORT or https://HOST:PORT, got 'ftp://store'",
	                "6: database must not be empty",
	                "7: control characters are not allowed in retention_policy",
	                "8: timeout: expected whole seconds from 1 to 300, got '0'",
	                "9: batch_lines: expected a number of lines from 1 to 100000, got '100001'");
	EXPECT_PROBLEMS(fixture, GATEWAY "[influx]\nurl = http://\n" LIGHT_SENSOR,
	                "5: url: expected http://HOST:PORT or https://HOST:PORT, got 'http://'");
	/* Secrets stay out of the config, the URL included. */
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[influx]\nurl = http://me:secret@store:8086\npassword = x\ntoken = y\n" LIGHT_SENSOR,
	                "5: url: a user name or password in the URL is not supported (secrets do not go in the config); "
	                "use user and password_file, or token_file",
	                "6: password: secrets do not go in the config; put it in a file of its own and name it with "
	                "password_file",
	                "7: token: secrets do not go in the config; put it in a file of its own and name it with "
	                "token_file");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[influx]\nurl = http://store:8086\napi = v2\nverify = readback\ngzip = maybe\n"
	                        "spool_max_mb = 0\nflush_interval = soon\n" LIGHT_SENSOR,
	                "4: [influx]: api = v2 needs org (and bucket, or database as the bucket)",
	                "7: verify = readback: only api = victoriametrics can be read back",
	                "8: gzip: expected yes or no, got 'maybe'",
	                "9: spool_max_mb: expected megabytes from 1 to 1048576, got '0'",
	                "10: flush_interval: expected a time like 30s, 15min or 3h (0 turns it off, at most 7d), got 'soon'");

	/* Each dialect's credentials, read at load. */
	write_config(fixture, "token", "t0ken\n", 6);
	write_config(fixture, "empty", "", 0);
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[influx]\nurl = http://store:8086\ntoken_file = token\npassword_file = token\n" LIGHT_SENSOR,
	                "6: token_file: api = v1 authenticates with user and password_file",
	                "7: password_file: needs user");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[influx]\nurl = http://store:8086\napi = v3\nuser = u\npassword_file = token\n"
	                        LIGHT_SENSOR,
	                "8: password_file: api = v3 authenticates with token_file");
	write_config(fixture, "tryggd.conf", "", 0);
	char *empty_path = NULL;
	assert_true(asprintf(&empty_path, "%s/empty", fixture->directory) > 0);
	char *expected = NULL;
	assert_true(asprintf(&expected, "8: token_file: %s: empty", empty_path) > 0);
	int r = load(fixture, GATEWAY "[influx]\nurl = http://store:8086\napi = v2\norg = o\ntoken_file = empty\n"
	                     LIGHT_SENSOR);
	check_problems(fixture, r, (const char *const[]){ expected, NULL });
	free(expected);
	free(empty_path);

	assert_loads(fixture, GATEWAY "[influx]\nurl = https://store:8086/\napi = v2\norg = Eskilstuna kommun\n"
	                      "bucket = trygghet/raw\ntoken_file = token\ngzip = yes\nflush_interval = 5min\n"
	                      "spool_max_mb = 2\nproxy = http://proxy.example:3128\ntls_verify = no\n" LIGHT_SENSOR);
	const struct influx_config *influx = &fixture->config.influx;
	assert_int_equal(influx->api, INFLUX_V2);
	assert_string_equal(influx->url, "https://store:8086");
	assert_string_equal(influx->org, "Eskilstuna kommun");
	assert_string_equal(influx->bucket, "trygghet/raw");
	assert_non_null(strstr(influx->token_file, "/token"));
	assert_true(influx->gzip);
	assert_false(influx->tls_verify);
	assert_int_equal(influx->flush_interval_ms, 300000);
	assert_int_equal(influx->spool_max_bytes, 2 * 1024 * 1024);
	assert_string_equal(influx->proxy, "proxy.example:3128");
	assert_int_equal(influx->verify, INFLUX_VERIFY_NONE);

	/* VictoriaMetrics: read back unless told otherwise. */
	assert_loads(fixture, GATEWAY "[influx]\nurl = http://vm:8428\napi = victoriametrics\n" LIGHT_SENSOR);
	assert_int_equal(fixture->config.influx.api, INFLUX_VICTORIA);
	assert_int_equal(fixture->config.influx.verify, INFLUX_VERIFY_READBACK);
	assert_int_equal(fixture->config.influx.spool_max_bytes, 64 * 1024 * 1024);
	assert_loads(fixture, GATEWAY "[influx]\nurl = http://vm:8428\napi = victoriametrics\nverify = none\n" LIGHT_SENSOR);
	assert_int_equal(fixture->config.influx.verify, INFLUX_VERIFY_NONE);
	/* A cluster's vminsert serves the line protocol under a path. */
	assert_loads(fixture, GATEWAY "[influx]\nurl = http://vminsert:8480/insert/0/influx/\napi = victoriametrics\n"
	                      "verify = none\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.influx.url, "http://vminsert:8480/insert/0/influx");
}

/* ---- [sensor.NAME] ----------------------------------------------------- */

static void test_sensor_name(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.Ljus]\ntype = light\ndriver = sim\n",
	                "4: sensor name 'Ljus': expected 1 to 32 of a-z 0-9 _ -");
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.]\ntype = light\ndriver = sim\n",
	                "4: sensor name '': expected 1 to 32 of a-z 0-9 _ -");
}

static void test_sensor_type(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.ljus]\ndriver = sim\n", "4: missing required key 'type' in [sensor.ljus]");
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.ljus]\ntype = lux\ndriver = sim\n",
	                "5: type: expected footfall, light or lamp, got 'lux'");
}

static void test_sensor_without_driver(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.ljus]\ntype = light\n",
	                "4: missing required key 'driver' in [sensor.ljus]");
}

static void test_unknown_driver(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.ljus]\ntype = light\ndriver = magic\nseed = 1\n",
	                "6: unknown driver 'magic'");
}

static void test_alert_thresholds(void **state)
{
	struct fixture *fixture = *state;
	assert_loads(fixture, GATEWAY "latitude = 59.5\nlongitude = -16.25\n"
	                      "[sensor.dorr]\ntype = footfall\ndriver = sim\nstuck_after = 2h\nbusy_hours = 7-22\n"
	                      "blocked_after = 45s\n"
	                      "[sensor.ljus]\ntype = light\ndriver = sim\ncovered_lux = 0.5\ncovered_after = 0\n"
	                      "[sensor.lampa]\ntype = lamp\ndriver = sim\nlight = ljus\nfault_after = 10min\n");
	const struct config *config = &fixture->config;
	assert_true(config->gateway.latitude == 59.5 && config->gateway.longitude == -16.25);
	const struct sensor_alerts *door = &config_find_sensor(config, "dorr")->alerts;
	assert_int_equal(door->stuck_ms, 2 * 3600 * 1000);
	assert_int_equal(door->busy_from_hour, 7);
	assert_int_equal(door->busy_to_hour, 22);
	assert_int_equal(door->blocked_ms, 45000);
	const struct sensor_alerts *light = &config_find_sensor(config, "ljus")->alerts;
	assert_true(light->covered_lux == 0.5);
	assert_int_equal(light->covered_ms, 0);
	assert_int_equal(config_find_sensor(config, "lampa")->alerts.lamp_fault_ms, 600000);
	/* the defaults */
	config_free(&fixture->config);
	assert_loads(fixture, GATEWAY "[sensor.lampa]\ntype = lamp\ndriver = sim\n");
	const struct sensor_alerts *lamp = &fixture->config.sensors[0].alerts;
	assert_int_equal(lamp->lamp_fault_ms, 15 * 60 * 1000);
	assert_int_equal(lamp->stuck_ms, 3 * 3600 * 1000);
	assert_true(fixture->config.gateway.latitude == 59.37);

	EXPECT_PROBLEMS(fixture,
	                GATEWAY "latitude = 91\n[sensor.dorr]\ntype = footfall\ndriver = sim\nstuck_after = 3 hours\n"
	                        "busy_hours = 20-8\ncovered_lux = 1\n[sensor.ljus]\ntype = light\ndriver = sim\n"
	                        "covered_lux = dim\nfault_after = 8d\n",
	                "4: latitude: expected degrees from -90 to 90, got '91'",
	                "8: stuck_after: expected a time like 30s, 15min or 3h (0 turns it off, at most 7d), got '3 hours'",
	                "9: busy_hours: expected local hours FROM-TO like 8-20, got '20-8'",
	                "10: covered_lux applies only to light sensors",
	                "14: covered_lux: expected lux, 0 or more, got 'dim'",
	                "15: fault_after applies only to lamp sensors");
}

static void test_driver_must_serve_the_type(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.ljus]\ntype = light\ndriver = testlamp\npin = 4\n",
	                "6: driver 'testlamp' cannot serve light sensors");
}

static void test_generic_sensor_keys(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY "[sensor.dorr]\ntype = footfall\ndriver = sim\ndark_lux = 5\n",
	                "7: dark_lux applies only to light sensors");
	EXPECT_PROBLEMS(fixture, GATEWAY LIGHT_SENSOR "dark_lux = lots\ninterval = 0\nlight = ljus\n",
	                "7: dark_lux: expected lux, 0 or more, got 'lots'",
	                "8: interval: expected whole seconds from 1 to 86400, got '0'",
	                "9: light applies only to lamp sensors");
}

static void test_lamp_light_partner(void **state)
{
	struct fixture *fixture = *state;
	EXPECT_PROBLEMS(fixture, GATEWAY LIGHT_SENSOR "[sensor.lampa]\ntype = lamp\ndriver = sim\nlight = ljus2\n",
	                "10: light: no sensor 'ljus2' is configured");
	EXPECT_PROBLEMS(fixture,
	                GATEWAY "[sensor.lampa]\ntype = lamp\ndriver = sim\nlight = dorr\n"
	                        "[sensor.dorr]\ntype = footfall\ndriver = sim\n",
	                "7: light: sensor 'dorr' is a footfall sensor, not a light sensor");
	/* a partner defined after the lamp is fine */
	assert_loads(fixture, GATEWAY "[sensor.lampa]\ntype = lamp\ndriver = sim\nlight = ljus\n" LIGHT_SENSOR);
	assert_string_equal(fixture->config.sensors[0].light, "ljus");
}

static void test_driver_options(void **state)
{
	struct fixture *fixture = *state;
	char message[256] = "";
	int r = sim_driver.check_option(SENSOR_LIGHT, "seed", "-3", message, sizeof(message));
	assert_int_equal(r, -EINVAL);
	char expected[300];
	snprintf(expected, sizeof(expected), "7: %s", message);
	EXPECT_PROBLEMS(fixture, GATEWAY LIGHT_SENSOR "seed = -3\n", expected);

	r = sim_driver.check_option(SENSOR_LIGHT, "profile", "", message, sizeof(message));
	assert_int_equal(r, -EINVAL);
	snprintf(expected, sizeof(expected), "8: %s", message);
	EXPECT_PROBLEMS(fixture, GATEWAY LIGHT_SENSOR "seed = 3\nprofile =\ncolour = red\n", expected,
	                "9: unknown key 'colour' for driver 'sim'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_minimal_file_gets_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
		cmocka_unit_test(test_type_names_and_units),
		cmocka_unit_test_setup_teardown(test_utf8_district_and_site, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths_follow_the_config_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_endings_bom_and_indented_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_carriage_return_inside_a_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_district_without_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shipped_example_is_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shipped_example_with_every_option_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shipped_driver_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_files_are_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors_are_all_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_gateway_and_sensors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_outside_any_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_problems_together_in_line_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_district_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inih_switches_are_restored, setup, teardown),
		cmocka_unit_test(test_real_registry),
		cmocka_unit_test_setup_teardown(test_backslashes_the_store_cannot_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_site_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simulation_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simulation_needs_simulated_drivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_session_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_topic_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_qos_and_other_mqtt_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_periods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_tls_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_influx_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensor_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensor_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensor_without_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_must_serve_the_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generic_sensor_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lamp_light_partner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
