/* test_probe.c — probe_run(), what `tryggctl probe` does, on a board made
 * up for each test under /tmp and removed after it: a fake sysfs with IIO
 * devices, a device root with i2c-N entries (plain files: probe needs only
 * their names, the bus is fake_bh1750 at the I2C seam), and no gpiochip,
 * since GPIO needs the kernel's gpio-sim and is tested in the qemu guest.
 *
 * What probe prints is held to two standards: the listing exactly as a
 * technician reads it, and every section loaded by config_load() with the
 * real driver registry, then opened and sampled with its own driver, so
 * that a section probe prints is one tryggd accepts and reads the device
 * it was printed for.  The last tests run the built tryggctl for its
 * command line (TRYGGCTL_PATH, given by tests/CMakeLists.txt).
 *
 * In expected texts '@' stands for the board's folder. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bh1750.h"
#include "config.h"
#include "driver.h"
#include "fake_bh1750.h"
#include "probe.h"
#include "temp_tree.h"

#define SECTIONS_HEADER "\nSections for tryggd.conf (paste those you use):\n\n"
/* The listing's parts for GPIO, IIO and I2C: the head, and what it says when there is none. */
#define GPIO_NONE "GPIO chips (@/dev/gpiochip*)\n  no GPIO chips\n\n"
#define IIO_HEAD "IIO devices (@/sys/bus/iio/devices)\n"
#define IIO_NONE IIO_HEAD "  no IIO devices (the directory does not exist: no IIO driver is loaded)\n\n"
#define I2C_HEAD "I2C buses (@/dev/i2c-*), BH1750 light sensors at 0x23 and 0x5c\n"
#define I2C_NONE I2C_HEAD "  no I2C buses (is I2C enabled, and the i2c-dev module loaded?)\n"
#define GATEWAY_SECTION "[gateway]\nid = probe-test\ndistrict = Årby\n\n"
#define SECTIONS_MAX 16
#define BH1750_COUNT 1200u      /* what the fake chip measures: 1000 lx at the default MTreg */

/* ---- the board --------------------------------------------------------------- */

struct board {
	char root[40];                 /* the temporary folder, as getcwd() would give it */
	char sysfs[48];                /* ROOT/sys: the sysfs root */
	char devices[64];              /* ROOT/sys/bus/iio/devices */
	char dev[48];                  /* ROOT/dev: the device root */
	struct fake_bh1750 i2c;
	int descriptors;               /* open at the start: probe must give back what it opens */
	char *output;                  /* of the last probe_board() */
	char *errors;
};

/* The whole content of path; the caller frees it. */
static char *read_whole_file(const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *file = fopen(path, "r");
	if (!file)
		fail_msg("open %s: %s", path, strerror(errno));
	FILE *copy = open_memstream(&text, &size);
	assert_non_null(copy);
	int character;
	while ((character = fgetc(file)) != EOF)
		fputc(character, copy);
	assert_int_equal(fclose(copy), 0);
	fclose(file);
	return text;
}

static int board_setup(void **state)
{
	struct board *board = calloc(1, sizeof(*board));
	assert_non_null(board);
	char folder[64];
	assert_non_null(temp_tree_make(folder, sizeof(folder), "/tmp/test_probe_XXXXXX"));
	/* Resolved, since tryggctl makes relative roots absolute with getcwd(). */
	char *resolved = realpath(folder, NULL);
	assert_non_null(resolved);
	assert_true(strlen(resolved) < sizeof(board->root));
	strcpy(board->root, resolved);
	free(resolved);
	snprintf(board->sysfs, sizeof(board->sysfs), "%s/sys", board->root);
	snprintf(board->dev, sizeof(board->dev), "%s/dev", board->root);
	snprintf(board->devices, sizeof(board->devices), "%s/bus/iio/devices", board->sysfs);
	temp_tree_make_directory(board->dev);
	fake_bh1750_init(&board->i2c);
	board->descriptors = open_descriptor_count();
	*state = board;
	return 0;
}

static int board_teardown(void **state)
{
	struct board *board = *state;
	int descriptors = board->descriptors;
	unsigned open_handles = board->i2c.open_handles;
	int result = temp_tree_remove(board->root);
	free(board->output);
	free(board->errors);
	free(board);
	assert_int_equal(open_descriptor_count(), descriptors);
	assert_int_equal(open_handles, 0);
	return result;
}

/* An IIO device; name NULL: it has no name attribute. */
static void add_iio_device(struct board *board, const char *id, const char *name)
{
	char path[PATH_MAX + 64];
	temp_tree_make_directory(board->sysfs);
	snprintf(path, sizeof(path), "%s/bus", board->sysfs);
	temp_tree_make_directory(path);
	snprintf(path, sizeof(path), "%s/bus/iio", board->sysfs);
	temp_tree_make_directory(path);
	temp_tree_make_directory(board->devices);
	snprintf(path, sizeof(path), "%s/%s", board->devices, id);
	temp_tree_make_directory(path);
	if (name) {
		snprintf(path, sizeof(path), "%s/%s/name", board->devices, id);
		char line[256];
		snprintf(line, sizeof(line), "%s\n", name);
		temp_tree_write(path, line);
	}
}

static void put(struct board *board, const char *id, const char *file, const char *content)
{
	char path[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/%s/%s", board->devices, id, file);
	temp_tree_write(path, content);
}

/* DEV/entry in path, as probe names it. */
static void dev_path(const struct board *board, const char *entry, char path[FAKE_BH1750_PATH_SIZE])
{
	int length = snprintf(path, FAKE_BH1750_PATH_SIZE, "%s/%s", board->dev, entry);
	assert_true(length > 0 && length < FAKE_BH1750_PATH_SIZE);
}

/* DEV/entry as a plain file; its path in path. */
static void add_dev_entry(struct board *board, const char *entry, char path[FAKE_BH1750_PATH_SIZE])
{
	dev_path(board, entry, path);
	temp_tree_write(path, "");
}

/* DEV/entry, and a bus of the fake there. */
static struct fake_bh1750_bus *add_i2c_bus(struct board *board, const char *entry)
{
	char path[FAKE_BH1750_PATH_SIZE];
	add_dev_entry(board, entry, path);
	struct fake_bh1750_bus *bus = fake_bh1750_add_bus(&board->i2c, path);
	assert_non_null(bus);
	return bus;
}

static struct fake_bh1750_chip *add_bh1750(struct board *board, const char *entry, unsigned address)
{
	char path[FAKE_BH1750_PATH_SIZE];
	dev_path(board, entry, path);
	struct fake_bh1750_chip *chip = fake_bh1750_add_chip(&board->i2c, path, address);
	assert_non_null(chip);
	chip->count = BH1750_COUNT;
	return chip;
}

/* A light sensor, an ADC (the IIO dummy's voltage0, scale 0.5: 40 mV), a
 * device with no channel probe can use; a BH1750 at 0x23 on i2c-1 and
 * nothing on i2c-2. */
static struct fake_bh1750_chip *build_standard_board(struct board *board)
{
	add_iio_device(board, "iio:device0", "bh1750");
	put(board, "iio:device0", "in_illuminance_input", "123.5\n");
	add_iio_device(board, "iio:device1", "tryggd_adc");
	put(board, "iio:device1", "in_voltage0_raw", "73\n");
	put(board, "iio:device1", "in_voltage0_offset", "7\n");
	put(board, "iio:device1", "in_voltage0_scale", "0.5\n");
	add_iio_device(board, "iio:device2", "accel");
	put(board, "iio:device2", "in_accel_x_raw", "3\n");
	put(board, "iio:device2", "in_steps_input", "9\n");
	add_i2c_bus(board, "i2c-1");
	add_i2c_bus(board, "i2c-2");
	return add_bh1750(board, "i2c-1", BH1750_ADDRESS_LOW);
}

/* probe_run() on the board, into board->output and board->errors. */
static int probe_board(struct board *board, bool sections_only)
{
	size_t output_size = 0, errors_size = 0;
	free(board->output);
	free(board->errors);
	FILE *out = open_memstream(&board->output, &output_size);
	FILE *errors = open_memstream(&board->errors, &errors_size);
	assert_non_null(out);
	assert_non_null(errors);
	struct probe_options options = {
		.sysfs_root = board->sysfs, .dev_root = board->dev, .i2c = &board->i2c.ops,
		.sections_only = sections_only,
	};
	int result = probe_run(&options, out, errors);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(fclose(errors), 0);
	return result;
}

static void probe_board_ok(struct board *board, bool sections_only)
{
	int result = probe_board(board, sections_only);
	if (result != 0)
		fail_msg("probe_run: %s; errors:\n%s", strerror(-result), board->errors);
}

/* ---- comparing texts --------------------------------------------------------- */

/* template with every '@' replaced by the board's folder; the caller frees it. */
static char *expand(const struct board *board, const char *template)
{
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	assert_non_null(stream);
	for (const char *cursor = template; *cursor; cursor++)
		if (*cursor == '@')
			fputs(board->root, stream);
		else
			fputc(*cursor, stream);
	assert_int_equal(fclose(stream), 0);
	return text;
}

/* actual must be template expanded; on a difference, the first line that
 * differs is shown, which a whole-text comparison leaves to the eye. */
static void assert_text(const struct board *board, const char *actual, const char *template)
{
	char *expected = expand(board, template);
	if (strcmp(actual, expected) != 0) {
		const char *got = actual, *wanted = expected;
		int line = 1;
		while (*got && *got == *wanted) {
			line += *got == '\n';
			got++;
			wanted++;
		}
		while (got > actual && got[-1] != '\n') {
			got--;
			wanted--;
		}
		print_error("line %d differs:\n  got:      %.*s\n  expected: %.*s\n", line, (int)strcspn(got, "\n"),
		            got, (int)strcspn(wanted, "\n"), wanted);
		assert_string_equal(actual, expected);
	}
	free(expected);
}

/* ---- the printed sections -------------------------------------------------- */

struct printed_section {
	char name[64];         /* from its [sensor.NAME] line */
	bool template;         /* its lines are commented out */
	char *text;            /* the section as printed, comments included */
};

/* The sections of text, as probe separates them (one empty line); their
 * count.  Each text is allocated; free_sections() frees them. */
static size_t split_sections(const char *text, struct printed_section sections[SECTIONS_MAX])
{
	size_t count = 0;
	const char *start = text;
	while (*start) {
		const char *end = strstr(start, "\n\n");
		size_t length = end ? (size_t)(end - start) + 1 : strlen(start);
		assert_true(count < SECTIONS_MAX);
		struct printed_section *section = &sections[count++];
		section->text = strndup(start, length);
		assert_non_null(section->text);
		const char *header = strstr(section->text, "[sensor.");
		assert_non_null(header);
		section->template = header > section->text && header[-1] == '#';
		size_t name_length = strcspn(header + strlen("[sensor."), "]\n");
		assert_true(name_length < sizeof(section->name));
		assert_int_equal(header[strlen("[sensor.") + name_length], ']');
		memcpy(section->name, header + strlen("[sensor."), name_length);
		section->name[name_length] = '\0';
		start += length + (end ? 1 : 0);
	}
	return count;
}

static void free_sections(struct printed_section *sections, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(sections[i].text);
}

/* A template as a technician uncomments it: '#' off every line that is not
 * a "# " comment. */
static char *uncomment(const char *text)
{
	char *copy = malloc(strlen(text) + 1), *to = copy;
	assert_non_null(copy);
	bool line_start = true;
	for (const char *from = text; *from; from++) {
		if (!(line_start && from[0] == '#' && from[1] != ' '))
			*to++ = *from;
		line_start = *from == '\n';
	}
	*to = '\0';
	return copy;
}

/* GATEWAY_SECTION and sections as ROOT/tryggd.conf, loaded with the real
 * registry; it must load with no problem at all. */
static void load_config_ok(struct board *board, const char *sections, struct config *config)
{
	char path[PATH_MAX + 16], *problems = NULL;
	size_t size = 0;
	snprintf(path, sizeof(path), "%s/tryggd.conf", board->root);
	char *text = NULL;
	assert_true(asprintf(&text, "%s%s", GATEWAY_SECTION, sections) > 0);
	temp_tree_write(path, text);
	FILE *errors = open_memstream(&problems, &size);
	assert_non_null(errors);
	int result = config_load(path, config, errors);
	assert_int_equal(fclose(errors), 0);
	if (result != 0)
		fail_msg("config_load: %d\n%s\nin:\n%s", result, problems, text);
	assert_string_equal(problems, "");
	free(problems);
	free(text);
}

static void assert_option(const struct sensor_config *sensor, const char *key, const char *expected)
{
	const char *value = sensor_option(sensor, key);
	if (!value)
		fail_msg("sensor %s has no %s", sensor->name, key);
	assert_string_equal(value, expected);
}

/* What the sensor reads when tryggd opens it: iio through sysfs, bh1750
 * through the fake bus (its open() would take i2c-dev). */
static double read_sensor(struct board *board, const struct sensor_config *sensor)
{
	struct driver_env env = { .gateway_id = "probe-test", .district = "Årby", .config_directory = board->root };
	struct sample sample = { .value = NAN };
	char message[256] = "";
	void *state = NULL;
	if (strcmp(sensor->driver, "iio") == 0) {
		if (iio_driver.open(sensor, &env, &state, message, sizeof(message)) != 0)
			fail_msg("open %s: %s", sensor->name, message);
		assert_int_equal(iio_driver.sample(state, 0, &sample), 0);
		iio_driver.close(state);
	} else {
		assert_string_equal(sensor->driver, "bh1750");
		if (bh1750_open_with(&board->i2c.ops, sensor, &state, message, sizeof(message)) != 0)
			fail_msg("open %s: %s", sensor->name, message);
		int wait = bh1750_driver.prepare(state, 0);
		assert_true(wait > 0);
		fake_bh1750_advance_ms(&board->i2c, wait);
		assert_int_equal(bh1750_driver.sample(state, 0, &sample), 0);
		bh1750_driver.close(state);
	}
	return sample.value;
}

/* ---- the standard board ------------------------------------------------------ */

static const char standard_sections[] =
	"# iio:device0 (bh1750), in_illuminance: 123.5 lx when probed\n"
	"[sensor.bh1750-illuminance]\n"
	"type = light\n"
	"driver = iio\n"
	"device = bh1750\n"
	"channel = in_illuminance\n"
	"sysfs_root = @/sys\n"
	"\n"
	"# iio:device1 (tryggd_adc), in_voltage0 reads mV, not lx: if a light sensor is wired to it (or to\n"
	"# another channel listed above), uncomment this and set factor to lux per unit.\n"
	"#[sensor.tryggd-adc-voltage0]\n"
	"#type = light\n"
	"#driver = iio\n"
	"#device = tryggd_adc\n"
	"#channel = in_voltage0\n"
	"#sysfs_root = @/sys\n"
	"#factor = 1\n"
	"\n"
	"# a BH1750 on @/dev/i2c-1 at 0x23 (ADDR pin low or open)\n"
	"[sensor.bh1750-i2c-1-23]\n"
	"type = light\n"
	"driver = bh1750\n"
	"bus = @/dev/i2c-1\n"
	"address = 0x23\n";

static const char standard_listing[] =
	GPIO_NONE
	IIO_HEAD
	"  iio:device0  bh1750\n"
	"    in_illuminance           123.5 lx\n"
	"  iio:device1  tryggd_adc\n"
	"    in_voltage0              40 mV\n"
	"  iio:device2  accel\n"
	"    no illuminance, intensity or voltage channel\n"
	"\n"
	I2C_HEAD
	"  @/dev/i2c-1\n"
	"    0x23  a BH1750 answers (to be read with driver bh1750)\n"
	"    0x5c  no BH1750\n"
	"  @/dev/i2c-2\n"
	"    0x23  no BH1750\n"
	"    0x5c  no BH1750\n"
	SECTIONS_HEADER;

/* The listing names every device with its live value, tells at each
 * address whether a BH1750 answers, and ends with the sections. */
static void test_listing(void **state)
{
	struct board *board = *state;
	struct fake_bh1750_chip *chip = build_standard_board(board);
	probe_board_ok(board, false);

	char *expected = NULL;
	assert_true(asprintf(&expected, "%s%s", standard_listing, standard_sections) > 0);
	assert_text(board, board->output, expected);
	free(expected);
	assert_string_equal(board->errors, "");

	/* Probing left the chip as it found it: on, one read, off again. */
	assert_int_equal(chip->sent_length, 2);
	assert_int_equal(chip->sent[0], BH1750_POWER_ON);
	assert_int_equal(chip->sent[1], BH1750_POWER_DOWN);
	assert_int_equal(chip->reads, 1);
	assert_false(chip->powered);
	assert_int_equal(chip->protocol_errors + chip->unexpected_commands, 0);
}

/* With sections_only the output is the sections and nothing else. */
static void test_sections_only(void **state)
{
	struct board *board = *state;
	build_standard_board(board);
	probe_board_ok(board, true);
	assert_text(board, board->output, standard_sections);
	assert_string_equal(board->errors, "");
}

/* Pasted as printed, the sections make a valid configuration whose sensors
 * read what the listing showed: the template stays out until uncommented. */
static void test_pasted_sections_load_and_read(void **state)
{
	struct board *board = *state;
	build_standard_board(board);
	probe_board_ok(board, true);

	struct config config;
	load_config_ok(board, board->output, &config);
	assert_int_equal(config.sensor_count, 2);
	char bus[FAKE_BH1750_PATH_SIZE];
	dev_path(board, "i2c-1", bus);

	const struct sensor_config *light = config_find_sensor(&config, "bh1750-illuminance");
	assert_non_null(light);
	assert_int_equal(light->type, SENSOR_LIGHT);
	assert_string_equal(light->driver, "iio");
	assert_option(light, "device", "bh1750");
	assert_option(light, "channel", "in_illuminance");
	assert_option(light, "sysfs_root", board->sysfs);
	assert_true(read_sensor(board, light) == 123.5);

	const struct sensor_config *chip = config_find_sensor(&config, "bh1750-i2c-1-23");
	assert_non_null(chip);
	assert_int_equal(chip->type, SENSOR_LIGHT);
	assert_string_equal(chip->driver, "bh1750");
	assert_option(chip, "bus", bus);
	assert_option(chip, "address", "0x23");
	assert_true(fabs(read_sensor(board, chip) - BH1750_COUNT / 1.2) < 1e-9);

	assert_null(config_find_sensor(&config, "tryggd-adc-voltage0"));
	config_free(&config);
}

/* Each section alone, a template uncommented as the technician would,
 * is a whole valid sensor that reads its device. */
static void test_each_section_loads_alone(void **state)
{
	struct board *board = *state;
	build_standard_board(board);
	probe_board_ok(board, true);

	static const struct {
		const char *name;
		bool template;
		double value;
	} expected[] = {
		{ "bh1750-illuminance", false, 123.5 },
		{ "tryggd-adc-voltage0", true, 40.0 },   /* (73 + 7) × 0.5 mV, at factor 1 */
		{ "bh1750-i2c-1-23", false, BH1750_COUNT / 1.2 },
	};
	struct printed_section sections[SECTIONS_MAX];
	size_t count = split_sections(board->output, sections);
	assert_int_equal(count, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(sections[i].name, expected[i].name);
		assert_int_equal(sections[i].template, expected[i].template);
		char *text = sections[i].template ? uncomment(sections[i].text) : strdup(sections[i].text);
		assert_non_null(text);
		struct config config;
		load_config_ok(board, text, &config);
		assert_int_equal(config.sensor_count, 1);
		assert_string_equal(config.sensors[0].name, expected[i].name);
		assert_true(fabs(read_sensor(board, &config.sensors[0]) - expected[i].value) < 1e-9);
		config_free(&config);
		free(text);
	}
	free_sections(sections, count);
}

/* ---- names ------------------------------------------------------------------ */

/* Two devices with one name are written by number (the name would be
 * ambiguous, and the iio driver refuses it); names that differ but slug
 * alike, or are cut to the same 32 bytes, get "-2".  All load together,
 * and each sensor reads its own device. */
static void test_section_names_stay_unique(void **state)
{
	struct board *board = *state;
	static const struct {
		const char *id, *name, *value;
		const char *section, *device;
	} devices[] = {
		{ "iio:device0", "bh1750", "1\n", "iio-device0-illuminance", "iio:device0" },
		{ "iio:device1", "bh1750", "2\n", "iio-device1-illuminance", "iio:device1" },
		{ "iio:device2", "Street Light", "3\n", "street-light-illuminance", "Street Light" },
		{ "iio:device3", "street-light", "4\n", "street-light-illuminance-2", "street-light" },
		{ "iio:device4", "A very long light sensor name from a vendor", "5\n",
		  "a-very-long-light-se-illuminance", "A very long light sensor name from a vendor" },
		{ "iio:device5", "a-very-long-light-sensor-name-from-a-vendor", "6\n",
		  "a-very-long-light-illuminance-2", "a-very-long-light-sensor-name-from-a-vendor" },
	};
	size_t device_count = sizeof(devices) / sizeof(devices[0]);
	for (size_t i = 0; i < device_count; i++) {
		add_iio_device(board, devices[i].id, devices[i].name);
		put(board, devices[i].id, "in_illuminance_input", devices[i].value);
	}
	probe_board_ok(board, true);
	assert_string_equal(board->errors, "");

	struct printed_section sections[SECTIONS_MAX];
	size_t count = split_sections(board->output, sections);
	assert_int_equal(count, device_count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(sections[i].name, devices[i].section);
	free_sections(sections, count);

	struct config config;
	load_config_ok(board, board->output, &config);
	assert_int_equal(config.sensor_count, device_count);
	for (size_t i = 0; i < device_count; i++) {
		const struct sensor_config *sensor = config_find_sensor(&config, devices[i].section);
		assert_non_null(sensor);
		assert_option(sensor, "device", devices[i].device);
		assert_true(read_sensor(board, sensor) == (double)(i + 1));
	}
	config_free(&config);
}

/* ---- what is not there, or cannot be used -------------------------------------- */

static void test_empty_board(void **state)
{
	struct board *board = *state;
	probe_board_ok(board, false);
	assert_text(board, board->output,
	            GPIO_NONE
	            IIO_NONE
	            I2C_NONE
	            "\n"
	            "Nothing found: no GPIO chip, IIO device or I2C bus on this board.\n");
	assert_string_equal(board->errors, "");

	probe_board_ok(board, true);
	assert_string_equal(board->output, "");
	assert_string_equal(board->errors, "tryggctl probe: no sensor found, so no section\n");
}

/* Buses in number order; names that only look like a bus or a chip left
 * out; a claimed address, a silent chip, a bus that cannot be opened and a
 * path that is no bus, each told as such, and the rest goes on. */
static void test_i2c_buses_that_cannot_be_used(void **state)
{
	struct board *board = *state;
	char path[FAKE_BH1750_PATH_SIZE];
	add_i2c_bus(board, "i2c-1");
	add_bh1750(board, "i2c-1", BH1750_ADDRESS_HIGH)->claimed = true;
	struct fake_bh1750_chip *silent = add_bh1750(board, "i2c-1", BH1750_ADDRESS_LOW);
	fake_bh1750_set_fault(&board->i2c, silent, FAKE_BH1750_NACK);
	add_i2c_bus(board, "i2c-3")->open_error = -EACCES;
	add_dev_entry(board, "i2c-4", path);   /* not a bus the fake knows: -ENOENT */
	add_i2c_bus(board, "i2c-10");
	add_bh1750(board, "i2c-10", BH1750_ADDRESS_HIGH);
	add_dev_entry(board, "i2c-x", path);
	add_dev_entry(board, "i2c-", path);
	add_dev_entry(board, "gpiochip", path);
	add_dev_entry(board, "gpiochip1a", path);
	probe_board_ok(board, false);
	assert_text(board, board->output,
	            GPIO_NONE
	            IIO_NONE
	            I2C_HEAD
	            "  @/dev/i2c-1\n"
	            "    0x23  no BH1750\n"
	            "    0x5c  taken by a kernel driver, likely the kernel's own bh1750: read it through iio "
	            "(IIO devices above)\n"
	            "  @/dev/i2c-3\n"
	            "    @/dev/i2c-3: cannot open: Permission denied (add the user to group i2c, or run as root)\n"
	            "  @/dev/i2c-4\n"
	            "    @/dev/i2c-4: cannot open: No such file or directory\n"
	            "  @/dev/i2c-10\n"
	            "    0x23  no BH1750\n"
	            "    0x5c  a BH1750 answers (to be read with driver bh1750)\n"
	            SECTIONS_HEADER
	            "# a BH1750 on @/dev/i2c-10 at 0x5c (ADDR pin high)\n"
	            "[sensor.bh1750-i2c-10-5c]\n"
	            "type = light\n"
	            "driver = bh1750\n"
	            "bus = @/dev/i2c-10\n"
	            "address = 0x5c\n");
	assert_string_equal(board->errors, "");
}

/* With sections_only, what could not be probed goes to errors, each line
 * saying which program said it. */
static void test_sections_only_problems_go_to_errors(void **state)
{
	struct board *board = *state;
	add_iio_device(board, "iio:device0", "accel");
	put(board, "iio:device0", "in_accel_x_raw", "3\n");
	add_i2c_bus(board, "i2c-3")->open_error = -EACCES;

	probe_board_ok(board, true);
	assert_string_equal(board->output, "");
	assert_text(board, board->errors,
	            "tryggctl probe: @/dev/i2c-3: cannot open: Permission denied (add the user to group i2c, "
	            "or run as root)\n"
	            "tryggctl probe: no sensor found, so no section\n");

	probe_board_ok(board, false);
	assert_string_equal(board->errors, "");
	assert_non_null(strstr(board->output, "\n  iio:device0  accel\n    no illuminance, intensity or voltage "
	                                      "channel\n"));
	assert_text(board, strstr(board->output, "\nI2C buses"),
	            "\n" I2C_HEAD
	            "  @/dev/i2c-3\n"
	            "    @/dev/i2c-3: cannot open: Permission denied (add the user to group i2c, or run as root)\n"
	            "\n"
	            "No sensor found, so no section for tryggd.conf.\n");
}

/* A channel that cannot be read is told, and its section still printed
 * (the device is there; the value may come back), marked as unread. */
static void test_unreadable_channel(void **state)
{
	struct board *board = *state;
	add_iio_device(board, "iio:device0", NULL);
	put(board, "iio:device0", "in_illuminance_raw", "5\n");
	put(board, "iio:device0", "in_illuminance_scale", "bad\n");
	probe_board_ok(board, false);
	assert_text(board, strstr(board->output, "IIO devices"),
	            IIO_HEAD
	            "  iio:device0  (no name)\n"
	            "    iio:device0 in_illuminance: cannot read it: iio: "
	            "@/sys/bus/iio/devices/iio:device0/in_illuminance_scale holds 'bad', which is not a number\n"
	            "\n"
	            I2C_NONE
	            SECTIONS_HEADER
	            "# iio:device0 (no name), in_illuminance: it could not be read when probed\n"
	            "[sensor.iio-device0-illuminance]\n"
	            "type = light\n"
	            "driver = iio\n"
	            "device = iio:device0\n"
	            "channel = in_illuminance\n"
	            "sysfs_root = @/sys\n");
}

/* ---- the command line, through the built program ------------------------------- */

struct run {
	int status;            /* exit status, or -1 when it did not exit */
	char *out, *err;
};

/* tryggctl with arguments (NULL-terminated, after the program's name) in
 * the board's folder; its output in run. */
static void run_tryggctl(struct board *board, const char *const arguments[], struct run *run)
{
	char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];
	const char *argv[16] = { "tryggctl" };
	size_t count = 1;
	for (size_t i = 0; arguments[i]; i++) {
		assert_true(count < 15);
		argv[count++] = arguments[i];
	}
	argv[count] = NULL;
	snprintf(out_path, sizeof(out_path), "%s/stdout", board->root);
	snprintf(err_path, sizeof(err_path), "%s/stderr", board->root);
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0 || err < 0 || chdir(board->root) != 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		execv(TRYGGCTL_PATH, (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	run->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	run->out = read_whole_file(out_path);
	run->err = read_whole_file(err_path);
	unlink(out_path);
	unlink(err_path);
}

static void run_free(struct run *run)
{
	free(run->out);
	free(run->err);
}

static void test_command_line(void **state)
{
	struct board *board = *state;
	struct run run;

	run_tryggctl(board, (const char *const[]){ "probe", "--help", NULL }, &run);
	assert_int_equal(run.status, 0);
	assert_true(strncmp(run.out, "Usage: tryggctl probe [--sysfs-root DIR] [--dev-root DIR] [--sections-only]\n",
	                    strlen("Usage: tryggctl probe [--sysfs-root DIR]")) == 0);
	assert_non_null(strstr(run.out, "\nExit status: 0 done"));
	assert_string_equal(run.err, "");
	run_free(&run);

	run_tryggctl(board, (const char *const[]){ "probe", "--bogus", NULL }, &run);
	assert_int_equal(run.status, 64);
	assert_string_equal(run.out, "");
	assert_string_equal(run.err, "tryggctl probe: unknown option --bogus\nTry 'tryggctl probe --help'.\n");
	run_free(&run);

	run_tryggctl(board, (const char *const[]){ "probe", "-x", NULL }, &run);
	assert_int_equal(run.status, 64);
	assert_string_equal(run.err, "tryggctl probe: unknown option -x\nTry 'tryggctl probe --help'.\n");
	run_free(&run);

	run_tryggctl(board, (const char *const[]){ "probe", "--dev-root", NULL }, &run);
	assert_int_equal(run.status, 64);
	assert_string_equal(run.err, "tryggctl probe: option --dev-root needs a value\n"
	                             "Try 'tryggctl probe --help'.\n");
	run_free(&run);
}

/* Relative roots are made absolute in the sections, since tryggd opens
 * them from wherever it runs. */
static void test_command_line_relative_roots(void **state)
{
	struct board *board = *state;
	add_iio_device(board, "iio:device0", "bh1750");
	put(board, "iio:device0", "in_illuminance_input", "7\n");
	struct run run;
	run_tryggctl(board, (const char *const[]){ "probe", "--sysfs-root", "sys", "--dev-root", "./dev",
	                                           "--sections-only", NULL }, &run);
	assert_int_equal(run.status, 0);
	assert_string_equal(run.err, "");
	assert_text(board, run.out,
	            "# iio:device0 (bh1750), in_illuminance: 7 lx when probed\n"
	            "[sensor.bh1750-illuminance]\n"
	            "type = light\n"
	            "driver = iio\n"
	            "device = bh1750\n"
	            "channel = in_illuminance\n"
	            "sysfs_root = @/sys\n");
	run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listing, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_sections_only, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_pasted_sections_load_and_read, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_each_section_loads_alone, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_section_names_stay_unique, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_empty_board, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_i2c_buses_that_cannot_be_used, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_sections_only_problems_go_to_errors, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_channel, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_command_line, board_setup, board_teardown),
		cmocka_unit_test_setup_teardown(test_command_line_relative_roots, board_setup, board_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
