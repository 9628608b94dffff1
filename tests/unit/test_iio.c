/* test_iio.c — unit tests of the driver "iio" and of the sysfs functions
 * tryggctl probe uses (iio.h), on a fake sysfs tree built under /tmp for
 * each test and removed after it.  The IIO dummy's numbers are the real
 * driver's (drivers/iio/dummy/iio_simple_dummy.c): voltage0 raw 73, offset
 * 7, scale 0.001333; differential voltage1-voltage2 raw 33 with the
 * type-shared in_voltage-voltage_scale 0.000001344; its name is the folder
 * made in configfs.  Files are rewritten in place, as sysfs values change,
 * so a descriptor kept open sees the new content. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "driver.h"
#include "iio.h"
#include "temp_tree.h"

#define DUMMY_NAME "tryggd_dummy"

/* ---- the fake sysfs ------------------------------------------------------ */

struct tree {
	char root[64];                 /* the temporary folder: SYSFS_ROOT */
	char devices[96];              /* SYSFS_ROOT/bus/iio/devices */
	int descriptors;               /* open at the start: close() must give back what open() took */
};

/* devices/id/file = content, written in place (O_TRUNC, same inode). */
static void put(struct tree *tree, const char *id, const char *file, const char *content)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s", tree->devices, id, file);
	temp_tree_write(path, content);
}

static void add_device(struct tree *tree, const char *id, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", tree->devices, id);
	temp_tree_make_directory(path);
	if (name) {
		char line[256];
		snprintf(line, sizeof(line), "%s\n", name);
		put(tree, id, "name", line);
	}
}

/* The configfs IIO dummy, as iio_simple_dummy.c lays it out. */
static void add_dummy(struct tree *tree, const char *id)
{
	add_device(tree, id, DUMMY_NAME);
	put(tree, id, "in_voltage0_raw", "73\n");
	put(tree, id, "in_voltage0_offset", "7\n");
	put(tree, id, "in_voltage0_scale", "0.001333\n");
	put(tree, id, "in_voltage1-voltage2_raw", "33\n");
	put(tree, id, "in_voltage3-voltage4_raw", "-34\n");
	put(tree, id, "in_voltage-voltage_scale", "0.000001344\n");
	put(tree, id, "in_sampling_frequency", "0.000000\n");
	put(tree, id, "in_accel_x_raw", "34\n");
	put(tree, id, "in_accel_x_calibbias", "-7\n");
	put(tree, id, "in_accel_x_calibscale", "0.000133\n");
	put(tree, id, "in_steps_input", "0\n");
	put(tree, id, "out_voltage0_raw", "0\n");
}

static int tree_setup(void **state)
{
	struct tree *tree = calloc(1, sizeof(*tree));
	assert_non_null(tree);
	assert_non_null(temp_tree_make(tree->root, sizeof(tree->root), "/tmp/test_iio_XXXXXX"));
	snprintf(tree->devices, sizeof(tree->devices), "%s/bus", tree->root);
	temp_tree_make_directory(tree->devices);
	snprintf(tree->devices, sizeof(tree->devices), "%s/bus/iio", tree->root);
	temp_tree_make_directory(tree->devices);
	snprintf(tree->devices, sizeof(tree->devices), "%s/bus/iio/devices", tree->root);
	temp_tree_make_directory(tree->devices);

	add_device(tree, "iio:device0", "bh1750");
	put(tree, "iio:device0", "in_illuminance_input", "123.5\n");
	add_dummy(tree, "iio:device1");
	/* A trigger has a name too, and is no device. */
	add_device(tree, "trigger0", "bh1750");
	tree->descriptors = open_descriptor_count();
	*state = tree;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *tree = *state;
	int descriptors = tree->descriptors;
	int result = temp_tree_remove(tree->root);
	free(tree);
	assert_int_equal(open_descriptor_count(), descriptors);
	return result;
}

/* ---- one configured sensor -------------------------------------------------- */

struct sensor {
	struct sensor_option options[4];
	struct sensor_config config;
	void *state;
	char err[256];
};

static int sensor_open(struct sensor *sensor, const char *root, const char *device, const char *channel,
                       const char *factor)
{
	memset(sensor, 0, sizeof(*sensor));
	size_t count = 0;
	sensor->options[count++] = (struct sensor_option){ .key = "sysfs_root", .value = (char *)root };
	if (device)
		sensor->options[count++] = (struct sensor_option){ .key = "device", .value = (char *)device };
	if (channel)
		sensor->options[count++] = (struct sensor_option){ .key = "channel", .value = (char *)channel };
	if (factor)
		sensor->options[count++] = (struct sensor_option){ .key = "factor", .value = (char *)factor };
	sensor->config = (struct sensor_config){
		.name = "light", .type = SENSOR_LIGHT, .driver = "iio", .interval_s = 5, .dark_lux = 10,
		.options = sensor->options, .option_count = count,
	};
	struct driver_env env = { .gateway_id = "test", .district = "Årby", .config_directory = "/tmp" };
	int result = iio_driver.open(&sensor->config, &env, &sensor->state, sensor->err, sizeof(sensor->err));
	if (result == 0)
		assert_non_null(sensor->state);
	return result;
}

static void sensor_open_ok(struct sensor *sensor, const char *root, const char *device, const char *channel,
                           const char *factor)
{
	int result = sensor_open(sensor, root, device, channel, factor);
	if (result != 0)
		fail_msg("open: %d %s", result, sensor->err);
}

static double sensor_value(struct sensor *sensor)
{
	struct sample sample;
	memset(&sample, 0x5A, sizeof(sample));
	assert_int_equal(iio_driver.sample(sensor->state, 0, &sample), 0);
	assert_false(sample.has_direction);
	assert_false(sample.held);
	return sample.value;
}

static void sensor_close(struct sensor *sensor)
{
	iio_driver.close(sensor->state);
	sensor->state = NULL;
}

/* One value from a freshly opened sensor. */
static double read_once(const char *root, const char *device, const char *channel, const char *factor)
{
	struct sensor sensor;
	sensor_open_ok(&sensor, root, device, channel, factor);
	double value = sensor_value(&sensor);
	sensor_close(&sensor);
	return value;
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* ---- finding the device --------------------------------------------------------- */

static void test_by_name_and_by_number(void **state)
{
	struct tree *tree = *state;
	assert_true(read_once(tree->root, "bh1750", NULL, NULL) == 123.5);
	assert_true(read_once(tree->root, "iio:device0", NULL, NULL) == 123.5);
	assert_true(read_once(tree->root, DUMMY_NAME, "in_voltage0", NULL) ==
	            read_once(tree->root, "iio:device1", "in_voltage0", NULL));

	/* A trailing '/' and a root relative to the config's directory (/tmp). */
	char root[80];
	snprintf(root, sizeof(root), "%s/", tree->root);
	assert_true(read_once(root, "bh1750", NULL, NULL) == 123.5);
	assert_true(read_once(tree->root + strlen("/tmp/"), "bh1750", NULL, NULL) == 123.5);
}

static void test_missing_device(void **state)
{
	struct tree *tree = *state;
	struct sensor sensor;
	char expected[PATH_MAX + 64];

	assert_int_equal(sensor_open(&sensor, tree->root, "tsl2591", NULL, NULL), -ENODEV);
	snprintf(expected, sizeof(expected), "iio: no device named 'tsl2591' under %s", tree->devices);
	assert_contains(sensor.err, expected);
	/* What there is, so the technician sees the name to use; no trigger. */
	assert_contains(sensor.err, "it has iio:device0 (bh1750), iio:device1 (" DUMMY_NAME ")");
	assert_null(strstr(sensor.err, "trigger"));
	assert_null(sensor.state);

	assert_int_equal(sensor_open(&sensor, tree->root, "iio:device7", NULL, NULL), -ENODEV);
	snprintf(expected, sizeof(expected), "iio: no device iio:device7 under %s", tree->devices);
	assert_contains(sensor.err, expected);

	/* No IIO bus at all: no driver loaded. */
	assert_int_equal(sensor_open(&sensor, "/tmp", "bh1750", NULL, NULL), -ENODEV);
	assert_contains(sensor.err, "iio: no device named 'bh1750' under /tmp/bus/iio/devices, which does not exist");
}

static void test_two_devices_with_one_name(void **state)
{
	struct tree *tree = *state;
	struct sensor sensor;
	add_device(tree, "iio:device10", "bh1750");
	put(tree, "iio:device10", "in_illuminance_input", "7\n");

	assert_int_equal(sensor_open(&sensor, tree->root, "bh1750", NULL, NULL), -EINVAL);
	assert_contains(sensor.err, "2 devices are named 'bh1750'");
	assert_contains(sensor.err, "(iio:device0, iio:device10)");
	assert_contains(sensor.err, "set device = iio:deviceN");
	assert_true(read_once(tree->root, "iio:device10", NULL, NULL) == 7.0);
}

static void test_renumbered_device_found_again(void **state)
{
	struct tree *tree = *state;
	struct sensor sensor;
	sensor_open_ok(&sensor, tree->root, DUMMY_NAME, "in_voltage0", "1000");
	double before = sensor_value(&sensor);
	sensor_close(&sensor);

	/* The device leaves and comes back as another number. */
	char from[PATH_MAX], to[PATH_MAX];
	snprintf(from, sizeof(from), "%s/iio:device1", tree->devices);
	snprintf(to, sizeof(to), "%s/iio:device5", tree->devices);
	assert_int_equal(rename(from, to), 0);

	sensor_open_ok(&sensor, tree->root, DUMMY_NAME, "in_voltage0", "1000");
	assert_true(sensor_value(&sensor) == before);
	sensor_close(&sensor);
	assert_int_equal(sensor_open(&sensor, tree->root, "iio:device1", "in_voltage0", NULL), -ENODEV);
	assert_contains(sensor.err, "iio:device5 (" DUMMY_NAME ")");

	/* Gone altogether: open fails until it is back. */
	snprintf(from, sizeof(from), "%s/gone", tree->root);
	assert_int_equal(rename(to, from), 0);
	assert_int_equal(sensor_open(&sensor, tree->root, DUMMY_NAME, "in_voltage0", NULL), -ENODEV);
	assert_int_equal(rename(from, to), 0);
	assert_true(read_once(tree->root, DUMMY_NAME, "in_voltage0", "1000") == before);
}

/* ---- reading ---------------------------------------------------------------------- */

static void test_input_preferred_over_raw(void **state)
{
	struct tree *tree = *state;
	put(tree, "iio:device0", "in_illuminance_raw", "1000\n");
	put(tree, "iio:device0", "in_illuminance_scale", "2\n");
	put(tree, "iio:device0", "in_illuminance_offset", "5\n");
	assert_true(read_once(tree->root, "bh1750", "in_illuminance", NULL) == 123.5);

	double value;
	assert_int_equal(iio_channel_read(tree->devices, "in_illuminance", &value), -ENOENT);
	char directory[PATH_MAX];
	snprintf(directory, sizeof(directory), "%s/iio:device0", tree->devices);
	assert_int_equal(iio_channel_read(directory, "in_illuminance", &value), 0);
	assert_true(value == 123.5);
}

static void test_raw_offset_scale_of_the_dummy(void **state)
{
	struct tree *tree = *state;
	/* (raw + offset) × scale, in double exactly as written here. */
	double expected = (73.0 + 7.0) * 0.001333;
	double value = read_once(tree->root, DUMMY_NAME, "in_voltage0", NULL);
	assert_true(value == expected);
	assert_true(fabs(value - 0.10664) < 1e-12);
	/* Not raw × scale + offset, nor raw alone. */
	assert_true(fabs(value - (73.0 * 0.001333 + 7.0)) > 1.0);

	/* A differential pair takes the type's shared in_voltage-voltage_scale,
	 * and no offset (voltage0's is its own). */
	assert_true(read_once(tree->root, DUMMY_NAME, "in_voltage1-voltage2", NULL) == 33.0 * 0.000001344);
	assert_true(read_once(tree->root, DUMMY_NAME, "in_voltage3-voltage4", NULL) == -34.0 * 0.000001344);
}

static void test_shared_offset_and_scale(void **state)
{
	struct tree *tree = *state;
	add_device(tree, "iio:device2", "ads1015");
	put(tree, "iio:device2", "in_voltage0_raw", "1650\n");
	put(tree, "iio:device2", "in_voltage1_raw", "825\n");
	put(tree, "iio:device2", "in_voltage_scale", "2\n");           /* shared by the type */
	put(tree, "iio:device2", "in_voltage1_scale", "0.5\n");        /* its own wins */
	put(tree, "iio:device2", "in_voltage_offset", "-50\n");
	put(tree, "iio:device2", "in_voltage0_supply_raw", "10\n");    /* extended name */
	put(tree, "iio:device2", "in_illuminance0_raw", "100\n");
	put(tree, "iio:device2", "in_illuminance_scale", "0.25\n");
	put(tree, "iio:device2", "in_intensity_both_raw", "400\n");   /* modifier */
	put(tree, "iio:device2", "in_intensity_scale", "0.5\n");
	put(tree, "iio:device2", "in_intensity_ir_raw", "9\n");
	put(tree, "iio:device2", "in_intensity_ir_scale", "3\n");

	assert_true(read_once(tree->root, "ads1015", "in_voltage0", NULL) == (1650.0 - 50.0) * 2.0);
	assert_true(read_once(tree->root, "ads1015", "in_voltage1", NULL) == (825.0 - 50.0) * 0.5);
	assert_true(read_once(tree->root, "ads1015", "in_voltage0_supply", NULL) == (10.0 - 50.0) * 2.0);
	assert_true(read_once(tree->root, "ads1015", "in_illuminance0", NULL) == 25.0);
	assert_true(read_once(tree->root, "ads1015", "in_intensity_both", NULL) == 200.0);
	assert_true(read_once(tree->root, "ads1015", "in_intensity_ir", NULL) == 27.0);

	/* Shared by every input, then by the whole device; none: raw as it is. */
	add_device(tree, "iio:device3", "plain");
	put(tree, "iio:device3", "in_illuminance_raw", "40\n");
	assert_true(read_once(tree->root, "plain", NULL, NULL) == 40.0);
	put(tree, "iio:device3", "scale", "3\n");
	assert_true(read_once(tree->root, "plain", NULL, NULL) == 120.0);
	put(tree, "iio:device3", "in_scale", "0.5\n");
	assert_true(read_once(tree->root, "plain", NULL, NULL) == 20.0);
}

static void test_factor(void **state)
{
	struct tree *tree = *state;
	assert_true(read_once(tree->root, "bh1750", NULL, "0.5") == 61.75);
	assert_true(read_once(tree->root, "bh1750", NULL, "1e3") == 123500.0);
	/* A photodiode on the dummy's ADC: millivolts × lux per millivolt. */
	assert_true(read_once(tree->root, DUMMY_NAME, "in_voltage0", "250") == (73.0 + 7.0) * 0.001333 * 250.0);
}

static void test_value_follows_the_file(void **state)
{
	struct tree *tree = *state;
	struct sensor sensor;
	sensor_open_ok(&sensor, tree->root, "bh1750", NULL, NULL);
	assert_true(sensor_value(&sensor) == 123.5);
	assert_true(sensor_value(&sensor) == 123.5);
	put(tree, "iio:device0", "in_illuminance_input", "0.25\n");
	assert_true(sensor_value(&sensor) == 0.25);
	/* Shorter and longer than before, no newline, the forms IIO prints. */
	put(tree, "iio:device0", "in_illuminance_input", "-7");
	assert_true(sensor_value(&sensor) == -7.0);
	put(tree, "iio:device0", "in_illuminance_input", "1.234e3\n");
	assert_true(sensor_value(&sensor) == 1234.0);
	put(tree, "iio:device0", "in_illuminance_input", "88000.123456789\n");
	assert_true(sensor_value(&sensor) == 88000.123456789);

	/* The file is read through the descriptor kept since open: another file
	 * put in its place is not seen until the sensor is opened again. */
	char path[PATH_MAX], replacement[PATH_MAX];
	snprintf(path, sizeof(path), "%s/iio:device0/in_illuminance_input", tree->devices);
	snprintf(replacement, sizeof(replacement), "%s/iio:device0/new", tree->devices);
	put(tree, "iio:device0", "new", "5\n");
	assert_int_equal(rename(replacement, path), 0);
	assert_true(sensor_value(&sensor) == 88000.123456789);
	sensor_close(&sensor);
	assert_true(read_once(tree->root, "bh1750", NULL, NULL) == 5.0);
}

static void test_garbage_is_an_io_error(void **state)
{
	struct tree *tree = *state;
	static const char *const garbage[] = {
		"abc\n", "12abc\n", "", "\n", "1 2\n", " 5\n", "5\n\n", "0x10\n", "nan\n", "inf\n",
		"1e999\n", "+5\n", "5,5\n", "--1\n", "1.2.3\n",
		"1111111111111111111111111111111111111111111111111111111111111111111111\n",
	};
	struct sensor sensor;
	sensor_open_ok(&sensor, tree->root, "bh1750", NULL, NULL);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		put(tree, "iio:device0", "in_illuminance_input", garbage[i]);
		struct sample sample;
		int result = iio_driver.sample(sensor.state, 0, &sample);
		if (result != -EIO)
			fail_msg("\"%s\" gave %d, not -EIO", garbage[i], result);
	}
	/* An embedded NUL is not a number either. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/iio:device0/in_illuminance_input", tree->devices);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12\0" "34\n", 6), 6);
	close(fd);
	struct sample sample;
	assert_int_equal(iio_driver.sample(sensor.state, 0, &sample), -EIO);

	/* The sample says which file and what it held, for the sensor's
	 * alert: -EIO alone says neither. */
	char said[PATH_MAX + 64];
	put(tree, "iio:device0", "in_illuminance_input", "abc\n");
	assert_int_equal(iio_driver.sample(sensor.state, 0, &sample), -EIO);
	snprintf(said, sizeof(said), "iio: %s/iio:device0/in_illuminance_input holds 'abc', which is not a number",
	         tree->devices);
	assert_string_equal(sample.error, said);
	put(tree, "iio:device0", "in_illuminance_input", "");
	assert_int_equal(iio_driver.sample(sensor.state, 0, &sample), -EIO);
	assert_contains(sample.error, "in_illuminance_input holds '', which is not a number");

	/* It recovers by itself once the content is a number again. */
	put(tree, "iio:device0", "in_illuminance_input", "42\n");
	assert_true(sensor_value(&sensor) == 42.0);
	sensor_close(&sensor);

	/* At open, the message says which file and what it held. */
	put(tree, "iio:device0", "in_illuminance_input", "abc\n");
	assert_int_equal(sensor_open(&sensor, tree->root, "bh1750", NULL, NULL), -EIO);
	snprintf(path, sizeof(path), "iio: %s/iio:device0/in_illuminance_input holds 'abc', which is not a number",
	         tree->devices);
	assert_contains(sensor.err, path);
	put(tree, "iio:device1", "in_voltage0_scale", "0.001333 0.002666\n");
	assert_int_equal(sensor_open(&sensor, tree->root, DUMMY_NAME, "in_voltage0", NULL), -EIO);
	assert_contains(sensor.err, "in_voltage0_scale holds '0.001333 0.002666'");
}

static void test_unreadable_channel(void **state)
{
	struct tree *tree = *state;
	struct sensor sensor;
	char path[PATH_MAX];
	/* A value file that cannot be read (here a directory: EISDIR). */
	snprintf(path, sizeof(path), "%s/iio:device0/in_intensity_input", tree->devices);
	temp_tree_make_directory(path);
	assert_int_equal(sensor_open(&sensor, tree->root, "bh1750", "in_intensity", NULL), -EISDIR);
	assert_contains(sensor.err, "iio: cannot read ");
	assert_contains(sensor.err, "in_intensity_input");
	double value;
	snprintf(path, sizeof(path), "%s/iio:device0", tree->devices);
	assert_int_equal(iio_channel_read(path, "in_intensity", &value), -EISDIR);
}

static void test_missing_channel(void **state)
{
	struct tree *tree = *state;
	struct sensor sensor;
	assert_int_equal(sensor_open(&sensor, tree->root, "bh1750", "in_illuminance0", NULL), -ENOENT);
	assert_string_equal(sensor.err, "iio: iio:device0 has no channel in_illuminance0 (neither _input nor _raw); "
	                                "it has in_illuminance");

	/* Every readable input channel, in natural order, at most six. */
	assert_int_equal(sensor_open(&sensor, tree->root, DUMMY_NAME, NULL, NULL), -ENOENT);
	assert_string_equal(sensor.err, "iio: iio:device1 has no channel in_illuminance (neither _input nor _raw); "
	                                "it has in_accel_x, in_steps, in_voltage0, in_voltage1-voltage2, "
	                                "in_voltage3-voltage4");
	add_device(tree, "iio:device2", "mcp3008");
	for (int i = 0; i < 12; i++) {
		char file[32];
		snprintf(file, sizeof(file), "in_voltage%d_raw", i);
		put(tree, "iio:device2", file, "512\n");
	}
	put(tree, "iio:device2", "in_voltage_scale", "3.222656250\n");
	assert_int_equal(sensor_open(&sensor, tree->root, "mcp3008", "in_voltage12", NULL), -ENOENT);
	assert_contains(sensor.err, "it has in_voltage0, in_voltage1, in_voltage2, in_voltage3, in_voltage4, "
	                            "in_voltage5 and 6 more");
	assert_true(read_once(tree->root, "mcp3008", "in_voltage11", NULL) == 512.0 * 3.222656250);

	add_device(tree, "iio:device3", "empty");
	assert_int_equal(sensor_open(&sensor, tree->root, "empty", NULL, NULL), -ENOENT);
	assert_contains(sensor.err, "it has no readable input channel");
}

/* ---- options ------------------------------------------------------------------------ */

static void test_driver_and_options(void **unused)
{
	(void)unused;
	char err[256];
	assert_string_equal(iio_driver.name, "iio");
	assert_false(iio_driver.simulated);
	assert_int_equal(iio_driver.types, 1u << SENSOR_LIGHT);
	assert_non_null(iio_driver.sample);
	assert_null(iio_driver.prepare);
	assert_null(iio_driver.event_fd);
	assert_null(iio_driver.read_events);

	static const char *const good[][2] = {
		{ "device", "bh1750" }, { "device", "iio:device0" }, { "device", "iio:device12" },
		{ "device", "iio_dummy_part_no" }, { "device", "cros-ec-light" },
		{ "channel", "in_illuminance" }, { "channel", "in_illuminance0" }, { "channel", "in_intensity_both" },
		{ "channel", "in_voltage0" }, { "channel", "in_voltage1-voltage2" }, { "channel", "in_voltage0_supply" },
		{ "sysfs_root", "/sys" }, { "sysfs_root", "testdata/sys" },
		{ "factor", "1" }, { "factor", "0.5" }, { "factor", "1e3" }, { "factor", "0.000001" },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (iio_driver.check_option(SENSOR_LIGHT, good[i][0], good[i][1], err, sizeof(err)) != 0)
			fail_msg("%s = %s refused: %s", good[i][0], good[i][1], err);

	static const char *const bad[][3] = {   /* key, value, part of the message */
		{ "device", "", "device must be iio:deviceN or the device's name" },
		{ "device", "/sys/bus/iio/devices/iio:device0", "no '/'" },
		{ "device", "a/b", "device" },
		{ "device", "iio:devicex", "device" },
		{ "device", "iio:device", "device" },
		{ "device", "iio:device01", "device" },
		{ "device", "iio:device-1", "device" },
		{ "device", " bh1750", "device" },
		{ "device", "bh\n1750", "device" },
		{ "channel", "", "channel must be an IIO input channel" },
		{ "channel", "../x", "channel must be" },
		{ "channel", "in_illuminance/../../x", "channel must be" },
		{ "channel", "in_a/b", "channel must be" },
		{ "channel", "in_illuminance.x", "channel must be" },
		{ "channel", "illuminance", "channel must be" },
		{ "channel", "out_voltage0", "channel must be" },
		{ "channel", "in_", "channel must be" },
		{ "channel", "in_0", "channel must be" },
		{ "channel", "in_illuminance_raw", "prefix without _raw or _input" },
		{ "channel", "in_illuminance_input", "prefix without _raw or _input" },
		{ "channel", "in_voltaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaage0", "at most 64" },
		{ "sysfs_root", "", "sysfs_root" },
		{ "sysfs_root", "/sys\n", "sysfs_root" },
		{ "factor", "0", "factor must be a decimal number greater than 0" },
		{ "factor", "-1", "factor" },
		{ "factor", "abc", "factor" },
		{ "factor", "", "factor" },
		{ "factor", "1,5", "factor" },
		{ "factor", "inf", "factor" },
		{ "factor", "0x10", "factor" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int result = iio_driver.check_option(SENSOR_LIGHT, bad[i][0], bad[i][1], err, sizeof(err));
		if (result != -EINVAL)
			fail_msg("%s = \"%s\" gave %d, not -EINVAL", bad[i][0], bad[i][1], result);
		assert_contains(err, bad[i][2]);
	}
	assert_int_equal(iio_driver.check_option(SENSOR_LIGHT, "seed", "1", err, sizeof(err)), -ENOENT);
	assert_int_equal(iio_driver.check_option(SENSOR_LIGHT, "address", "0x23", err, sizeof(err)), -ENOENT);

	/* device is required; the rest have defaults. */
	struct sensor_option option = { .key = "channel", .value = "in_illuminance" };
	struct sensor_config config = {
		.name = "light", .type = SENSOR_LIGHT, .driver = "iio", .interval_s = 5,
		.options = &option, .option_count = 1,
	};
	err[0] = '\0';
	assert_int_equal(iio_driver.check_sensor(&config, err, sizeof(err)), -EINVAL);
	assert_contains(err, "needs device =");
	option = (struct sensor_option){ .key = "device", .value = "bh1750" };
	assert_int_equal(iio_driver.check_sensor(&config, err, sizeof(err)), 0);

	/* open() does not trust that check_option ran. */
	struct sensor sensor;
	assert_int_equal(sensor_open(&sensor, "/tmp", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(sensor_open(&sensor, "/tmp", "bh1750", NULL, "0"), -EINVAL);
	assert_int_equal(sensor_open(&sensor, "/tmp", "a/b", NULL, NULL), -EINVAL);
}

/* ---- the probe API -------------------------------------------------------------------- */

static void test_device_list(void **state)
{
	struct tree *tree = *state;
	add_device(tree, "iio:device10", "tsl2591");
	add_device(tree, "iio:device2", NULL);
	add_device(tree, "iio:device02", "not a kernel name");

	struct iio_device *devices = NULL;
	size_t count = 0;
	assert_int_equal(iio_device_list(tree->root, &devices, &count), 0);
	assert_int_equal(count, 4);
	static const char *const ids[] = { "iio:device0", "iio:device1", "iio:device2", "iio:device10" };
	static const unsigned numbers[] = { 0, 1, 2, 10 };
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(devices[i].id, ids[i]);
		assert_int_equal(devices[i].number, numbers[i]);
		char directory[PATH_MAX];
		snprintf(directory, sizeof(directory), "%s/%s", tree->devices, ids[i]);
		assert_string_equal(devices[i].directory, directory);
	}
	assert_string_equal(devices[0].name, "bh1750");
	assert_string_equal(devices[1].name, DUMMY_NAME);
	assert_null(devices[2].name);
	assert_string_equal(devices[3].name, "tsl2591");
	iio_device_list_free(devices, count);

	struct iio_device device;
	char err[256];
	assert_int_equal(iio_device_find(tree->root, "tsl2591", &device, err, sizeof(err)), 0);
	assert_string_equal(device.id, "iio:device10");
	iio_device_clear(&device);
	assert_null(device.id);
	assert_int_equal(iio_device_find(tree->root, "nothing", &device, NULL, 0), -ENODEV);
	assert_null(device.id);

	/* No IIO bus: -ENOENT, nothing to free. */
	assert_int_equal(iio_device_list("/tmp", &devices, &count), -ENOENT);
	assert_null(devices);
	assert_int_equal(count, 0);
	iio_device_list_free(devices, count);
}

static void test_channel_list_and_read(void **state)
{
	struct tree *tree = *state;
	char directory[PATH_MAX];
	snprintf(directory, sizeof(directory), "%s/iio:device1", tree->devices);
	put(tree, "iio:device1", "in_voltage10_raw", "1\n");
	put(tree, "iio:device1", "in_voltage2_raw", "2\n");
	put(tree, "iio:device1", "in_voltage2_input", "2.5\n");
	put(tree, "iio:device1", "in_illuminance_input", "3\n");
	put(tree, "iio:device1", "in_intensity_ir_raw", "4\n");
	put(tree, "iio:device1", "in_voltage0_raw_available", "[0 1 1023]\n");

	struct iio_channel *channels = NULL;
	size_t count = 0;
	assert_int_equal(iio_channel_list(directory, &channels, &count), 0);
	static const struct {
		const char *prefix, *kind;
		bool processed;
	} expected[] = {
		{ "in_illuminance", "illuminance", true },
		{ "in_intensity_ir", "intensity", false },
		{ "in_voltage0", "voltage", false },
		{ "in_voltage1-voltage2", "voltage", false },
		{ "in_voltage2", "voltage", true },
		{ "in_voltage3-voltage4", "voltage", false },
		{ "in_voltage10", "voltage", false },
	};
	assert_int_equal(count, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(channels[i].prefix, expected[i].prefix);
		assert_string_equal(channels[i].kind, expected[i].kind);
		assert_int_equal(channels[i].processed, expected[i].processed);
	}
	iio_channel_list_free(channels, count);

	/* Each listed channel reads as the driver would read it. */
	double value;
	assert_int_equal(iio_channel_read(directory, "in_voltage0", &value), 0);
	assert_true(value == (73.0 + 7.0) * 0.001333);
	assert_int_equal(iio_channel_read(directory, "in_voltage2", &value), 0);
	assert_true(value == 2.5);
	assert_int_equal(iio_channel_read(directory, "in_voltage1-voltage2", &value), 0);
	assert_true(value == 33.0 * 0.000001344);
	assert_int_equal(iio_channel_read(directory, "in_illuminance0", &value), -ENOENT);
	assert_int_equal(iio_channel_read(directory, "../x", &value), -EINVAL);
	assert_int_equal(iio_channel_read(directory, "in_x/../../y", &value), -EINVAL);
	assert_int_equal(iio_channel_list("/tmp/no/such/device", &channels, &count), -ENOENT);
	assert_null(channels);

	/* A reader kept open, as the driver keeps one. */
	struct iio_reader reader;
	char err[256];
	assert_int_equal(iio_reader_open(directory, "iio:device1", "in_intensity_ir", &reader, err, sizeof(err)), 0);
	assert_int_equal(iio_reader_read(&reader, &value, err, sizeof(err)), 0);
	assert_true(value == 4.0);
	put(tree, "iio:device1", "in_intensity_ir_raw", "x\n");
	assert_int_equal(iio_reader_read(&reader, &value, err, sizeof(err)), -EIO);
	assert_contains(err, "in_intensity_ir_raw holds 'x'");
	iio_reader_close(&reader);
	assert_int_equal(reader.fd, -1);
	iio_reader_close(&reader);   /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_by_name_and_by_number, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_missing_device, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_two_devices_with_one_name, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_renumbered_device_found_again, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_input_preferred_over_raw, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_raw_offset_scale_of_the_dummy, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_shared_offset_and_scale, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_factor, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_value_follows_the_file, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_an_io_error, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_channel, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_missing_channel, tree_setup, tree_teardown),
		cmocka_unit_test(test_driver_and_options),
		cmocka_unit_test_setup_teardown(test_device_list, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_channel_list_and_read, tree_setup, tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
