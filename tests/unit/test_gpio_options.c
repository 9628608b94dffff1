/* test_gpio_options.c — unit tests of what the driver "gpio" (drivers/gpio.c)
 * accepts before it touches any GPIO: check_option() on every key, good
 * values and bad ones with their exact messages, and check_sensor() on the
 * combinations it refuses.  Nothing here opens a chip; the driver is run
 * on real (simulated) lines in the qemu guest (tests/guest).
 *
 * Every message is compared whole, and err is filled with a sentinel before
 * each call, so a message left over from an earlier call cannot pass. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "driver.h"

#define SENTINEL "(err not written)"

static const char LINE_MESSAGE[] =
	"must be a line offset (a whole number from 0 to 65535, such as 17) or a line name "
	"(such as GPIO17; up to 31 characters, not starting with a digit or sign)";
static const char CHIP_MESSAGE[] =
	"chip must name a GPIO chip by its name (gpiochip0), label (pinctrl-bcm2711), path under /dev "
	"(/dev/gpiochip0) or number (0)";
static const char ACTIVE_LOW_MESSAGE[] = "active_low must be yes or no";
static const char BIAS_MESSAGE[] = "bias must be as-is, disable, pull-up or pull-down";
static const char DETECTOR_MESSAGE[] = "detector must be beam or pir";
static const char DEBOUNCE_MESSAGE[] =
	"debounce must be a duration from 0 to 60s in whole milliseconds, such as 10ms, 2s or 1.5s";
static const char CROSSING_MESSAGE[] =
	"crossing must be a duration from 1ms to 60s in whole milliseconds, such as 5s";
static const char LINE_B_TYPE_MESSAGE[] =
	"line_b applies only to footfall sensors (the second beam of a dual beam)";
static const char DETECTOR_TYPE_MESSAGE[] = "detector applies only to footfall sensors";
static const char CROSSING_TYPE_MESSAGE[] =
	"crossing applies only to footfall sensors with two beams (line_b)";
static const char NO_LINE_MESSAGE[] =
	"the gpio driver needs line: the offset (such as 17) or name (such as GPIO17) of the input the sensor is "
	"wired to";
static const char LINE_B_ALONE_MESSAGE[] =
	"line_b is the second beam of a dual beam: give the first beam as line too";
static const char LINE_B_PIR_MESSAGE[] =
	"line_b makes a dual beam, which a PIR cannot be: remove line_b or set detector = beam";
static const char CROSSING_ALONE_MESSAGE[] =
	"crossing applies only to a dual beam: add line_b or remove crossing";
static const char SAME_LINE_MESSAGE[] = "line_b must be another line than line";
static const char LIGHT_MESSAGE[] = "the gpio driver serves footfall and lamp sensors only";

/* 31 characters, the longest name a v1 line can have, and one more. */
#define NAME_31 "ABCDEFGHIJKLMNOPQRSTUVWXYZ_1234"
#define NAME_32 NAME_31 "5"

/* ---- check_option ---------------------------------------------------------- */

static int check_option(enum sensor_type type, const char *key, const char *value, char *err, size_t err_size)
{
	snprintf(err, err_size, "%s", SENTINEL);
	return gpio_driver.check_option(type, key, value, err, err_size);
}

static void option_good(enum sensor_type type, const char *key, const char *value)
{
	char err[256];
	int result = check_option(type, key, value, err, sizeof(err));
	if (result != 0)
		fail_msg("%s %s = '%s': %d, \"%s\"", sensor_type_name(type), key, value, result, err);
}

static void option_bad(enum sensor_type type, const char *key, const char *value, const char *expected)
{
	char err[256];
	int result = check_option(type, key, value, err, sizeof(err));
	if (result != -EINVAL)
		fail_msg("%s %s = '%s': %d instead of -EINVAL, \"%s\"", sensor_type_name(type), key, value, result, err);
	if (strcmp(err, expected) != 0)
		fail_msg("%s %s = '%s':\n  got      \"%s\"\n  expected \"%s\"", sensor_type_name(type), key, value, err,
		         expected);
}

static void line_bad(enum sensor_type type, const char *key, const char *value)
{
	char expected[256];
	snprintf(expected, sizeof(expected), "%s %s", key, LINE_MESSAGE);
	option_bad(type, key, value, expected);
}

static void test_driver_serves_footfall_and_lamp_and_is_not_simulated(void **state)
{
	(void)state;
	assert_ptr_equal(driver_find("gpio"), &gpio_driver);
	assert_string_equal(gpio_driver.name, "gpio");
	assert_int_equal(gpio_driver.types, (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LAMP));
	assert_int_equal(gpio_driver.types & (1u << SENSOR_LIGHT), 0);
	assert_false(gpio_driver.simulated);
	assert_non_null(gpio_driver.check_option);
	assert_non_null(gpio_driver.check_sensor);
}

static void test_chip(void **state)
{
	(void)state;
	char longest[256];
	memset(longest, 'c', 255);
	longest[255] = '\0';
	const char *const good[] = { "gpiochip0", "pinctrl-bcm2711", "gpio-sim.0-node0", "/dev/gpiochip0",
	                             "/dev/gpiochip12", "0", "12", "gpio chip ~0", longest };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		option_good(SENSOR_FOOTFALL, "chip", good[i]);
		option_good(SENSOR_LAMP, "chip", good[i]);
	}

	char too_long[257];
	memset(too_long, 'c', 256);
	too_long[256] = '\0';
	/* A path outside /dev would be taken by libgpiod for a chip name. */
	const char *const bad[] = { "/tmp/gpiochip0", "/tmp", "/", "/dev", "/sys/bus/gpio/devices/gpiochip0", "",
	                            "gpiochip0\n", "gpio\tchip0", "\x1b[1mgpiochip0", "gpiochip\x7f",
	                            "gpiochip\x1f" "0", too_long };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		option_bad(SENSOR_FOOTFALL, "chip", bad[i], CHIP_MESSAGE);
		option_bad(SENSOR_LAMP, "chip", bad[i], CHIP_MESSAGE);
	}
}

static const char *const GOOD_LINES[] = { "0", "17", "65535", "00017", "GPIO17", "beam a", "P9_12",
                                          "SPI_CE1_N", "gpio-sim line", "a", "Å1", NAME_31 };

static const char *const BAD_LINES[] = {
	"65536", "99999999999999999999", "-1", "+17", "-GPIO17", "17x", "1 7", "0x11", "",
	" GPIO17", "GPIO17 ", NAME_32, "GPIO\t17", "GPIO17\n", "\rGPIO17", "\x1b[31mGPIO17", "GPIO\x7f" "17",
	"GPIO\x1f" "17",
};

static void test_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(GOOD_LINES) / sizeof(GOOD_LINES[0]); i++) {
		option_good(SENSOR_FOOTFALL, "line", GOOD_LINES[i]);
		option_good(SENSOR_LAMP, "line", GOOD_LINES[i]);
	}
	for (size_t i = 0; i < sizeof(BAD_LINES) / sizeof(BAD_LINES[0]); i++) {
		line_bad(SENSOR_FOOTFALL, "line", BAD_LINES[i]);
		line_bad(SENSOR_LAMP, "line", BAD_LINES[i]);
	}
}

static void test_line_b(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(GOOD_LINES) / sizeof(GOOD_LINES[0]); i++)
		option_good(SENSOR_FOOTFALL, "line_b", GOOD_LINES[i]);
	for (size_t i = 0; i < sizeof(BAD_LINES) / sizeof(BAD_LINES[0]); i++)
		line_bad(SENSOR_FOOTFALL, "line_b", BAD_LINES[i]);
}

static void test_active_low(void **state)
{
	(void)state;
	const char *const good[] = { "yes", "no", "Yes", "NO", "true", "false", "on", "off", "1", "0" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		option_good(SENSOR_FOOTFALL, "active_low", good[i]);
		option_good(SENSOR_LAMP, "active_low", good[i]);
	}
	const char *const bad[] = { "", "y", "n", "2", "yes ", "low", "-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		option_bad(SENSOR_FOOTFALL, "active_low", bad[i], ACTIVE_LOW_MESSAGE);
		option_bad(SENSOR_LAMP, "active_low", bad[i], ACTIVE_LOW_MESSAGE);
	}
}

static void test_bias(void **state)
{
	(void)state;
	const char *const good[] = { "as-is", "disable", "pull-up", "pull-down" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		option_good(SENSOR_FOOTFALL, "bias", good[i]);
		option_good(SENSOR_LAMP, "bias", good[i]);
	}
	const char *const bad[] = { "", "pullup", "pull_up", "Pull-Up", "up", "none", "disabled", "pull-down " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		option_bad(SENSOR_FOOTFALL, "bias", bad[i], BIAS_MESSAGE);
		option_bad(SENSOR_LAMP, "bias", bad[i], BIAS_MESSAGE);
	}
}

static void test_detector(void **state)
{
	(void)state;
	option_good(SENSOR_FOOTFALL, "detector", "beam");
	option_good(SENSOR_FOOTFALL, "detector", "pir");
	const char *const bad[] = { "", "PIR", "Beam", "beams", "dual", "pir " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		option_bad(SENSOR_FOOTFALL, "detector", bad[i], DETECTOR_MESSAGE);
}

static void test_debounce(void **state)
{
	(void)state;
	const char *const good[] = { "0", "0ms", "0s", "1ms", "10ms", "1.5s", "2s", "2", "60s", "60000ms", "1min",
	                             "0.25s", "59.999s" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		option_good(SENSOR_FOOTFALL, "debounce", good[i]);
		option_good(SENSOR_LAMP, "debounce", good[i]);
	}
	const char *const bad[] = { "61s", "60001ms", "60.001s", "2min", "1h", "0.5ms", "1.0005s", "-1ms", "",
	                            "ms", "10 ms", "10x", "10MS", "1e3ms", "1..5s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		option_bad(SENSOR_FOOTFALL, "debounce", bad[i], DEBOUNCE_MESSAGE);
		option_bad(SENSOR_LAMP, "debounce", bad[i], DEBOUNCE_MESSAGE);
	}
}

static void test_crossing(void **state)
{
	(void)state;
	const char *const good[] = { "1ms", "0.001s", "5s", "5", "1.5s", "60s", "60000ms", "1min" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		option_good(SENSOR_FOOTFALL, "crossing", good[i]);
	const char *const bad[] = { "0", "0ms", "0s", "0.5ms", "61s", "60001ms", "2min", "-1s", "", "5 s", "5sec" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		option_bad(SENSOR_FOOTFALL, "crossing", bad[i], CROSSING_MESSAGE);
}

/* line_b, detector and crossing are a footfall sensor's; the type is
 * judged before the value. */
static void test_footfall_keys_on_other_types(void **state)
{
	(void)state;
	const enum sensor_type others[] = { SENSOR_LAMP, SENSOR_LIGHT };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		option_bad(others[i], "line_b", "GPIO27", LINE_B_TYPE_MESSAGE);
		option_bad(others[i], "line_b", "17x", LINE_B_TYPE_MESSAGE);
		option_bad(others[i], "detector", "beam", DETECTOR_TYPE_MESSAGE);
		option_bad(others[i], "detector", "pir", DETECTOR_TYPE_MESSAGE);
		option_bad(others[i], "detector", "laser", DETECTOR_TYPE_MESSAGE);
		option_bad(others[i], "crossing", "5s", CROSSING_TYPE_MESSAGE);
		option_bad(others[i], "crossing", "0", CROSSING_TYPE_MESSAGE);
	}
}

static void test_unknown_key(void **state)
{
	(void)state;
	const char *const keys[] = { "pin", "Line", "LINE_B", "chip ", "lineb", "offset", "device", "sysfs_root",
	                             "interval", "" };
	char err[256];
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int result = check_option(SENSOR_FOOTFALL, keys[i], "17", err, sizeof(err));
		if (result != -ENOENT)
			fail_msg("footfall key '%s': %d instead of -ENOENT", keys[i], result);
		result = check_option(SENSOR_LAMP, keys[i], "17", err, sizeof(err));
		if (result != -ENOENT)
			fail_msg("lamp key '%s': %d instead of -ENOENT", keys[i], result);
	}
}

/* The message is cut to err_size, and still ends. */
static void test_message_is_cut_to_err_size(void **state)
{
	(void)state;
	char err[16];
	memset(err, 'x', sizeof(err));
	assert_int_equal(gpio_driver.check_option(SENSOR_FOOTFALL, "bias", "up", err, 10), -EINVAL);
	assert_string_equal(err, "bias must");
	assert_int_equal(err[10], 'x');
}

/* ---- check_sensor ---------------------------------------------------------- */

#define OPTIONS_MAX 8

/* type and key, value, ..., NULL into a sensor_config as the configuration
 * would hand it over; then check_sensor() on it. */
static int check_sensor(char *err, size_t err_size, enum sensor_type type, ...)
{
	struct sensor_option options[OPTIONS_MAX];
	size_t count = 0;
	va_list arguments;
	va_start(arguments, type);
	for (const char *key; (key = va_arg(arguments, const char *));) {
		assert_true(count < OPTIONS_MAX);
		options[count] = (struct sensor_option){
			.key = (char *)key,
			.value = va_arg(arguments, char *),
			.line = (int)count + 4,
		};
		count++;
	}
	va_end(arguments);
	struct sensor_config config = {
		.name = "door", .type = type, .driver = "gpio", .interval_s = 5, .dark_lux = 10,
		.options = options, .option_count = count, .line = 3,
	};
	snprintf(err, err_size, "%s", SENTINEL);
	return gpio_driver.check_sensor(&config, err, err_size);
}

#define SENSOR_GOOD(...)                                                                  \
	do {                                                                              \
		char err_[256];                                                           \
		int result_ = check_sensor(err_, sizeof(err_), __VA_ARGS__, NULL);        \
		if (result_ != 0)                                                         \
			fail_msg("line %d: %d, \"%s\"", __LINE__, result_, err_);         \
	} while (0)

#define SENSOR_BAD(expected, ...)                                                                     \
	do {                                                                                          \
		char err_[256];                                                                       \
		int result_ = check_sensor(err_, sizeof(err_), __VA_ARGS__, NULL);                    \
		if (result_ != -EINVAL)                                                               \
			fail_msg("line %d: %d instead of -EINVAL, \"%s\"", __LINE__, result_, err_);  \
		if (strcmp(err_, (expected)) != 0)                                                    \
			fail_msg("line %d:\n  got      \"%s\"\n  expected \"%s\"", __LINE__, err_,   \
			         (expected));                                                         \
	} while (0)

static void test_sensor_good(void **state)
{
	(void)state;
	/* A single beam: an offset on a chip, or a name found on any chip. */
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "17");
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "0", "line", "0");
	SENSOR_GOOD(SENSOR_FOOTFALL, "line", "GPIO17");
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "pinctrl-bcm2711", "line", "GPIO17", "detector", "beam", "debounce",
	            "0ms", "active_low", "yes", "bias", "pull-up");
	/* A PIR. */
	SENSOR_GOOD(SENSOR_FOOTFALL, "line", "P9_12", "detector", "pir", "debounce", "60s");
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "/dev/gpiochip0", "line", "65535", "detector", "pir");
	/* A dual beam, with and without crossing, by offset and by name. */
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "17", "line_b", "27");
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "0", "line_b", "65535", "crossing", "1ms");
	SENSOR_GOOD(SENSOR_FOOTFALL, "line", "beam a", "line_b", "beam b", "crossing", "60s", "detector", "beam");
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "gpiochip1", "line", "GPIO17", "line_b", "27", "crossing", "1.5s");
	SENSOR_GOOD(SENSOR_FOOTFALL, "chip", "gpiochip1", "line", "17", "line_b", "GPIO17");
	/* A lamp. */
	SENSOR_GOOD(SENSOR_LAMP, "line", "GPIO4");
	SENSOR_GOOD(SENSOR_LAMP, "chip", "gpiochip0", "line", "4", "active_low", "no", "bias", "as-is", "debounce",
	            "10ms");
	SENSOR_GOOD(SENSOR_LAMP, "line", "lamp in", "bias", "disable", "debounce", "1.5s");
	SENSOR_GOOD(SENSOR_LAMP, "line", "lamp in", "bias", "pull-down", "active_low", "yes");
}

static void test_sensor_without_line(void **state)
{
	(void)state;
	SENSOR_BAD(NO_LINE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0");
	SENSOR_BAD(NO_LINE_MESSAGE, SENSOR_FOOTFALL, "detector", "pir", "debounce", "2s");
	SENSOR_BAD(NO_LINE_MESSAGE, SENSOR_LAMP, "chip", "gpiochip0", "bias", "pull-up", "active_low", "yes");
	char err[256];
	assert_int_equal(check_sensor(err, sizeof(err), SENSOR_FOOTFALL, NULL), -EINVAL);
	assert_string_equal(err, NO_LINE_MESSAGE);
	assert_int_equal(check_sensor(err, sizeof(err), SENSOR_LAMP, NULL), -EINVAL);
	assert_string_equal(err, NO_LINE_MESSAGE);
}

static void test_sensor_line_b_without_line(void **state)
{
	(void)state;
	SENSOR_BAD(LINE_B_ALONE_MESSAGE, SENSOR_FOOTFALL, "line_b", "GPIO27");
	SENSOR_BAD(LINE_B_ALONE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line_b", "27", "crossing", "5s");
	/* Not mistaken for a missing chip or a PIR's beam first. */
	SENSOR_BAD(LINE_B_ALONE_MESSAGE, SENSOR_FOOTFALL, "line_b", "27", "detector", "pir");
}

static void test_sensor_line_b_with_pir(void **state)
{
	(void)state;
	SENSOR_BAD(LINE_B_PIR_MESSAGE, SENSOR_FOOTFALL, "line", "GPIO17", "line_b", "GPIO27", "detector", "pir");
	SENSOR_BAD(LINE_B_PIR_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "17", "line_b", "27", "detector",
	           "pir", "crossing", "5s");
}

static void test_sensor_crossing_without_line_b(void **state)
{
	(void)state;
	SENSOR_BAD(CROSSING_ALONE_MESSAGE, SENSOR_FOOTFALL, "line", "GPIO17", "crossing", "5s");
	SENSOR_BAD(CROSSING_ALONE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "17", "crossing", "1ms");
	SENSOR_BAD(CROSSING_ALONE_MESSAGE, SENSOR_FOOTFALL, "line", "GPIO17", "detector", "pir", "crossing", "60s");
}

static void test_sensor_offset_without_chip(void **state)
{
	(void)state;
	SENSOR_BAD("line 17 is an offset, which needs chip (such as chip = gpiochip0); without chip, line must be "
	           "a line name",
	           SENSOR_FOOTFALL, "line", "17");
	SENSOR_BAD("line 0 is an offset, which needs chip (such as chip = gpiochip0); without chip, line must be "
	           "a line name",
	           SENSOR_LAMP, "line", "0");
	SENSOR_BAD("line 65535 is an offset, which needs chip (such as chip = gpiochip0); without chip, line must "
	           "be a line name",
	           SENSOR_FOOTFALL, "line", "65535", "line_b", "GPIO27");
	/* The offset as read, not as written. */
	SENSOR_BAD("line 17 is an offset, which needs chip (such as chip = gpiochip0); without chip, line must be "
	           "a line name",
	           SENSOR_FOOTFALL, "line", "017", "detector", "pir");

	SENSOR_BAD("line_b 27 is an offset, which needs chip (such as chip = gpiochip0); without chip, line_b must "
	           "be a line name",
	           SENSOR_FOOTFALL, "line", "GPIO17", "line_b", "27");
	SENSOR_BAD("line_b 0 is an offset, which needs chip (such as chip = gpiochip0); without chip, line_b must "
	           "be a line name",
	           SENSOR_FOOTFALL, "line", "beam a", "line_b", "0", "crossing", "5s");
}

static void test_sensor_line_b_same_as_line(void **state)
{
	(void)state;
	SENSOR_BAD(SAME_LINE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "17", "line_b", "17");
	SENSOR_BAD(SAME_LINE_MESSAGE, SENSOR_FOOTFALL, "line", "beam a", "line_b", "beam a", "crossing", "5s");
	SENSOR_BAD(SAME_LINE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "GPIO17", "line_b", "GPIO17");
	/* The same offset written two ways is still one line. */
	SENSOR_BAD(SAME_LINE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "17", "line_b", "017");
	SENSOR_BAD(SAME_LINE_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "00", "line_b", "0");
	/* Names differ by case: two lines as far as the text can tell. */
	SENSOR_GOOD(SENSOR_FOOTFALL, "line", "beam a", "line_b", "Beam a");
}

static void test_sensor_light_is_refused(void **state)
{
	(void)state;
	SENSOR_BAD(LIGHT_MESSAGE, SENSOR_LIGHT, "line", "GPIO17");
	SENSOR_BAD(LIGHT_MESSAGE, SENSOR_LIGHT, "chip", "gpiochip0", "line", "17");
	/* Refused as a light sensor before any option is judged. */
	SENSOR_BAD(LIGHT_MESSAGE, SENSOR_LIGHT, "line_b", "GPIO27", "crossing", "5s");
	char err[256];
	assert_int_equal(check_sensor(err, sizeof(err), SENSOR_LIGHT, NULL), -EINVAL);
	assert_string_equal(err, LIGHT_MESSAGE);
}

/* open() trusts nothing the check did not see: check_sensor() judges every
 * option again, before the combinations. */
static void test_sensor_judges_every_option(void **state)
{
	(void)state;
	SENSOR_BAD(CHIP_MESSAGE, SENSOR_FOOTFALL, "chip", "/tmp/gpiochip0", "line", "17");
	SENSOR_BAD("line " "must be a line offset (a whole number from 0 to 65535, such as 17) or a line name "
	           "(such as GPIO17; up to 31 characters, not starting with a digit or sign)",
	           SENSOR_FOOTFALL, "chip", "gpiochip0", "line", "65536");
	SENSOR_BAD("line_b must be a line offset (a whole number from 0 to 65535, such as 17) or a line name "
	           "(such as GPIO17; up to 31 characters, not starting with a digit or sign)",
	           SENSOR_FOOTFALL, "line", "GPIO17", "line_b", NAME_32);
	SENSOR_BAD(ACTIVE_LOW_MESSAGE, SENSOR_LAMP, "line", "GPIO4", "active_low", "maybe");
	SENSOR_BAD(BIAS_MESSAGE, SENSOR_LAMP, "line", "GPIO4", "bias", "pullup");
	SENSOR_BAD(DETECTOR_MESSAGE, SENSOR_FOOTFALL, "line", "GPIO17", "detector", "radar");
	SENSOR_BAD(DEBOUNCE_MESSAGE, SENSOR_FOOTFALL, "line", "GPIO17", "debounce", "61s");
	SENSOR_BAD(CROSSING_MESSAGE, SENSOR_FOOTFALL, "line", "GPIO17", "line_b", "GPIO27", "crossing", "0");
	SENSOR_BAD(LINE_B_TYPE_MESSAGE, SENSOR_LAMP, "line", "GPIO4", "line_b", "GPIO5");
	SENSOR_BAD(DETECTOR_TYPE_MESSAGE, SENSOR_LAMP, "line", "GPIO4", "detector", "beam");
	SENSOR_BAD(CROSSING_TYPE_MESSAGE, SENSOR_LAMP, "line", "GPIO4", "crossing", "5s");
	/* A bad value is named even when line is missing too. */
	SENSOR_BAD(BIAS_MESSAGE, SENSOR_FOOTFALL, "chip", "gpiochip0", "bias", "up");
	/* Options the driver does not know are the configuration's to refuse. */
	SENSOR_GOOD(SENSOR_FOOTFALL, "line", "GPIO17", "pin", "17");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_serves_footfall_and_lamp_and_is_not_simulated),
		cmocka_unit_test(test_chip),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_b),
		cmocka_unit_test(test_active_low),
		cmocka_unit_test(test_bias),
		cmocka_unit_test(test_detector),
		cmocka_unit_test(test_debounce),
		cmocka_unit_test(test_crossing),
		cmocka_unit_test(test_footfall_keys_on_other_types),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_message_is_cut_to_err_size),
		cmocka_unit_test(test_sensor_good),
		cmocka_unit_test(test_sensor_without_line),
		cmocka_unit_test(test_sensor_line_b_without_line),
		cmocka_unit_test(test_sensor_line_b_with_pir),
		cmocka_unit_test(test_sensor_crossing_without_line_b),
		cmocka_unit_test(test_sensor_offset_without_chip),
		cmocka_unit_test(test_sensor_line_b_same_as_line),
		cmocka_unit_test(test_sensor_light_is_refused),
		cmocka_unit_test(test_sensor_judges_every_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
