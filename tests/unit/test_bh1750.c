/* test_bh1750.c — unit tests of the BH1750 light driver "bh1750" against
 * the fake chip in fake_bh1750.c, and of the i2c-dev ops where no chip is
 * needed (a missing bus, a file that is not a bus).  Expected command bytes
 * and lux values are worked out here from the datasheet by hand, not taken
 * from the driver's own helpers, so a wrong formula cannot agree with
 * itself. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bh1750.h"
#include "driver.h"
#include "fake_bh1750.h"
#include "i2c.h"

#define BUS "/dev/i2c-1"
#define COUNT_TYPICAL 1000u

/* ---- helpers ------------------------------------------------------------ */

/* One [sensor.NAME] section with the bh1750 options the test gives (NULL:
 * left out). */
struct sensor {
	struct sensor_option options[3];
	struct sensor_config config;
	void *state;
	char err[256];
};

static void configure(struct sensor *sensor, const char *bus, const char *address, const char *mtreg)
{
	memset(sensor, 0, sizeof(*sensor));
	size_t count = 0;
	if (bus)
		sensor->options[count++] = (struct sensor_option){ .key = "bus", .value = (char *)bus };
	if (address)
		sensor->options[count++] = (struct sensor_option){ .key = "address", .value = (char *)address };
	if (mtreg)
		sensor->options[count++] = (struct sensor_option){ .key = "mtreg", .value = (char *)mtreg };
	sensor->config = (struct sensor_config){
		.name = "ljus", .type = SENSOR_LIGHT, .driver = "bh1750", .interval_s = 5,
		.dark_lux = 10, .options = sensor->options, .option_count = count,
	};
}

static int sensor_open(struct sensor *sensor, struct fake_bh1750 *fake)
{
	int result = bh1750_open_with(&fake->ops, &sensor->config, &sensor->state, sensor->err, sizeof(sensor->err));
	if (result < 0)
		sensor->state = NULL;
	return result;
}

static void sensor_open_ok(struct sensor *sensor, struct fake_bh1750 *fake)
{
	int result = sensor_open(sensor, fake);
	if (result < 0)
		print_message("open: %s\n", sensor->err);
	assert_int_equal(result, 0);
	assert_non_null(sensor->state);
}

static void sensor_close(struct sensor *sensor)
{
	bh1750_driver.close(sensor->state);
	sensor->state = NULL;
}

/* A fake bus /dev/i2c-1 with a chip at chip_address measuring
 * COUNT_TYPICAL, and the sensor opened on it with the options given. */
static struct fake_bh1750_chip *rig(struct fake_bh1750 *fake, struct sensor *sensor, unsigned chip_address,
                                    const char *address, const char *mtreg)
{
	fake_bh1750_init(fake);
	struct fake_bh1750_chip *chip = fake_bh1750_add_chip(fake, BUS, chip_address);
	assert_non_null(chip);
	chip->count = COUNT_TYPICAL;
	configure(sensor, BUS, address, mtreg);
	sensor_open_ok(sensor, fake);
	return chip;
}

/* prepare(), wait what it says on the fake clock, sample(): the lux. */
static double measure(struct sensor *sensor, struct fake_bh1750 *fake)
{
	int wait = bh1750_driver.prepare(sensor->state, 0);
	assert_true(wait >= 0);
	fake_bh1750_advance_ms(fake, wait);
	struct sample sample;
	assert_int_equal(bh1750_driver.sample(sensor->state, 0, &sample), 0);
	return sample.value;
}

static void assert_sent(const struct fake_bh1750_chip *chip, const uint8_t *expected, size_t length)
{
	assert_int_equal(chip->sent_length, length);
	assert_memory_equal(chip->sent, expected, length);
}

static void assert_close_to(double actual, double expected)
{
	if (fabs(actual - expected) > 1e-9 * fmax(1.0, fabs(expected))) {
		print_message("%.12g is not %.12g\n", actual, expected);
		fail();
	}
}

static int check(const char *key, const char *value, char *err, size_t err_size)
{
	err[0] = '\0';
	return bh1750_driver.check_option(SENSOR_LIGHT, key, value, err, err_size);
}

static void assert_rejected(const char *key, const char *value, const char *message)
{
	char err[256];
	int result = check(key, value, err, sizeof(err));
	if (result != -EINVAL)
		print_message("%s = '%s' gave %d\n", key, value, result);
	assert_int_equal(result, -EINVAL);
	assert_string_equal(err, message);
}

static void assert_accepted(const char *key, const char *value)
{
	char err[256];
	int result = check(key, value, err, sizeof(err));
	if (result != 0)
		print_message("%s = '%s' refused: %s\n", key, value, err);
	assert_int_equal(result, 0);
}

/* ---- the driver's description ------------------------------------------------ */

static void test_driver_description(void **unused)
{
	(void)unused;
	assert_string_equal(bh1750_driver.name, "bh1750");
	assert_int_equal(bh1750_driver.types, 1u << SENSOR_LIGHT);
	assert_false(bh1750_driver.simulated);
	assert_non_null(bh1750_driver.prepare);
	assert_non_null(bh1750_driver.sample);
	assert_null(bh1750_driver.event_fd);
	assert_null(bh1750_driver.read_events);
}

/* ---- options ------------------------------------------------------------------ */

#define ADDRESS_MESSAGE "address must be 0x23 (ADDR pin low) or 0x5c (ADDR pin high), " \
                        "written in hex (0x23) or decimal (35)"
#define MTREG_MESSAGE "mtreg must be a whole number from 31 to 254 (the chip's own is 69; " \
                      "higher is more sensitive and slower)"
#define BUS_MESSAGE "bus must be the I2C bus the sensor is on: /dev/i2c-N, or just its number N " \
                    "(another absolute path such as a udev link works too)"

static void test_check_address(void **unused)
{
	(void)unused;
	assert_accepted("address", "0x23");
	assert_accepted("address", "0x5c");
	assert_accepted("address", "0X5C");
	assert_accepted("address", "35");
	assert_accepted("address", "92");
	assert_accepted("address", "0x0023");
	assert_rejected("address", "0x24", ADDRESS_MESSAGE);
	assert_rejected("address", "36", ADDRESS_MESSAGE);
	assert_rejected("address", "035", ADDRESS_MESSAGE);
	assert_rejected("address", "0x", ADDRESS_MESSAGE);
	assert_rejected("address", "0x-23", ADDRESS_MESSAGE);
	assert_rejected("address", "0x 23", ADDRESS_MESSAGE);
	assert_rejected("address", "0x10023", ADDRESS_MESSAGE);
	assert_rejected("address", "0x0x23", ADDRESS_MESSAGE);
	assert_rejected("address", "0x123456789abcdef0123", ADDRESS_MESSAGE);
	assert_rejected("address", "+35", ADDRESS_MESSAGE);
	assert_rejected("address", "", ADDRESS_MESSAGE);
	assert_rejected("address", "low", ADDRESS_MESSAGE);
}

static void test_check_mtreg(void **unused)
{
	(void)unused;
	assert_accepted("mtreg", "31");
	assert_accepted("mtreg", "69");
	assert_accepted("mtreg", "254");
	assert_rejected("mtreg", "30", MTREG_MESSAGE);
	assert_rejected("mtreg", "255", MTREG_MESSAGE);
	assert_rejected("mtreg", "-69", MTREG_MESSAGE);
	assert_rejected("mtreg", "69.0", MTREG_MESSAGE);
	assert_rejected("mtreg", "0x45", MTREG_MESSAGE);
	assert_rejected("mtreg", "", MTREG_MESSAGE);
}

static void test_check_bus(void **unused)
{
	(void)unused;
	assert_accepted("bus", "1");
	assert_accepted("bus", "0");
	assert_accepted("bus", "/dev/i2c-1");
	assert_accepted("bus", "/dev/i2c-sensors");
	assert_rejected("bus", "", BUS_MESSAGE);
	assert_rejected("bus", "i2c-1", BUS_MESSAGE);
	assert_rejected("bus", "dev/i2c-1", BUS_MESSAGE);
	assert_rejected("bus", "-1", BUS_MESSAGE);
	assert_rejected("bus", "1x", BUS_MESSAGE);
	assert_rejected("bus", "/dev/i2c-1\n", BUS_MESSAGE);
	char long_path[300];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_rejected("bus", long_path, BUS_MESSAGE);
}

static void test_check_unknown_key_and_sensor(void **unused)
{
	(void)unused;
	char err[256];
	assert_int_equal(check("device", "bh1750", err, sizeof(err)), -ENOENT);

	struct sensor sensor;
	configure(&sensor, NULL, "0x23", NULL);
	assert_int_equal(bh1750_driver.check_sensor(&sensor.config, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bh1750 needs bus = /dev/i2c-N (or just N): the I2C bus the sensor is wired to");
	configure(&sensor, "1", NULL, NULL);
	assert_int_equal(bh1750_driver.check_sensor(&sensor.config, err, sizeof(err)), 0);
}

/* open() does not trust a config it did not see validated. */
static void test_open_refuses_bad_settings(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	fake_bh1750_init(&fake);
	assert_non_null(fake_bh1750_add_chip(&fake, BUS, 0x23));
	struct sensor sensor;

	configure(&sensor, NULL, NULL, NULL);
	assert_int_equal(sensor_open(&sensor, &fake), -EINVAL);
	assert_non_null(strstr(sensor.err, "needs bus"));
	configure(&sensor, BUS, NULL, "300");
	assert_int_equal(sensor_open(&sensor, &fake), -EINVAL);
	assert_string_equal(sensor.err, "bh1750: " MTREG_MESSAGE);
	configure(&sensor, BUS, "0x24", NULL);
	assert_int_equal(sensor_open(&sensor, &fake), -EINVAL);
	assert_string_equal(sensor.err, "bh1750: " ADDRESS_MESSAGE);
	configure(&sensor, BUS, NULL, NULL);
	sensor.config.type = SENSOR_LAMP;
	assert_int_equal(sensor_open(&sensor, &fake), -EINVAL);
	assert_int_equal(fake.open_handles, 0);
	assert_int_equal(fake.chips[0].sent_length, 0);
}

/* ---- open: the command sequence ------------------------------------------------ */

/* MTreg 69 = 0b010_00101: high bits 010, low bits 00101. */
static void test_open_sequence_default_mtreg(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	fake_bh1750_init(&fake);
	struct fake_bh1750_chip *chip = fake_bh1750_add_chip(&fake, BUS, 0x23);
	assert_non_null(chip);
	chip->mtreg = 200;   /* left there by an earlier run: open must set 69 again */
	struct sensor sensor;
	configure(&sensor, BUS, NULL, NULL);
	sensor_open_ok(&sensor, &fake);

	static const uint8_t expected[] = { 0x01, 0x42, 0x65 };
	assert_sent(chip, expected, sizeof(expected));
	assert_true(chip->powered);
	assert_int_equal(chip->mtreg, 69);
	assert_int_equal(fake.open_handles, 1);

	sensor_close(&sensor);
	assert_int_equal(fake.open_handles, 0);
	/* closed powered down: a sensor not sampled draws nothing */
	assert_false(chip->powered);
	assert_int_equal(chip->sent[chip->sent_length - 1], 0x00);
	assert_int_equal(chip->protocol_errors, 0);
	assert_int_equal(chip->unexpected_commands, 0);
}

/* MTreg 254 = 0b111_11110; 31 = 0b000_11111. */
static void test_open_sequence_mtreg_limits(void **unused)
{
	(void)unused;
	static const struct {
		const char *mtreg;
		unsigned value;
		uint8_t high, low;
	} cases[] = {
		{ "254", 254, 0x47, 0x7e },
		{ "31", 31, 0x40, 0x7f },
		{ "128", 128, 0x44, 0x60 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_bh1750 fake;
		struct sensor sensor;
		struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x5c, "0x5c", cases[i].mtreg);
		const uint8_t expected[] = { 0x01, cases[i].high, cases[i].low };
		assert_sent(chip, expected, sizeof(expected));
		assert_int_equal(chip->mtreg, cases[i].value);
		sensor_close(&sensor);
		assert_int_equal(fake.open_handles, 0);
	}
}

static void test_bus_number_is_dev_i2c(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	fake_bh1750_init(&fake);
	struct fake_bh1750_chip *chip = fake_bh1750_add_chip(&fake, BUS, 0x23);
	struct sensor sensor;
	configure(&sensor, "1", "35", NULL);
	sensor_open_ok(&sensor, &fake);
	assert_int_equal(chip->sent_length, 3);
	sensor_close(&sensor);

	configure(&sensor, "2", NULL, NULL);
	assert_int_equal(sensor_open(&sensor, &fake), -ENOENT);
	assert_string_equal(sensor.err, "bh1750: cannot open /dev/i2c-2: No such file or directory "
	                    "(is I2C enabled, e.g. dtparam=i2c_arm=on, and the i2c-dev module loaded?)");
}

/* ---- open: what a technician reads when it fails ------------------------------------ */

static void test_open_failure_messages(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	fake_bh1750_init(&fake);
	struct fake_bh1750_chip *chip = fake_bh1750_add_chip(&fake, BUS, 0x23);
	struct sensor sensor;

	/* nothing at 0x5c */
	configure(&sensor, BUS, "0x5c", NULL);
	assert_int_equal(sensor_open(&sensor, &fake), -ENXIO);
	assert_string_equal(sensor.err, "bh1750: no answer at 0x5c on /dev/i2c-1 "
	                    "(is it wired, and is the address pin high?)");

	/* the chip there does not acknowledge */
	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_NACK);
	configure(&sensor, BUS, NULL, NULL);
	assert_int_equal(sensor_open(&sensor, &fake), -EREMOTEIO);
	assert_string_equal(sensor.err, "bh1750: no answer at 0x23 on /dev/i2c-1 "
	                    "(is it wired, and is the address pin low?)");
	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_WORKING);

	/* a kernel driver holds it */
	chip->claimed = true;
	assert_int_equal(sensor_open(&sensor, &fake), -EBUSY);
	assert_string_equal(sensor.err, "bh1750: address 0x23 on /dev/i2c-1 is taken by a kernel driver "
	                    "(use driver = iio, or unbind that driver)");
	chip->claimed = false;

	/* not allowed to open the bus */
	fake.buses[0].open_error = -EACCES;
	assert_int_equal(sensor_open(&sensor, &fake), -EACCES);
	assert_string_equal(sensor.err, "bh1750: cannot open /dev/i2c-1: Permission denied (is the user in group i2c?)");

	assert_int_equal(fake.open_handles, 0);
	assert_int_equal(chip->sent_length, 0);
}

/* ---- conversion and lux ----------------------------------------------------------- */

/* 180 ms × mtreg / 69, rounded up: 180, 80.87 → 81, 662.6 → 663. */
static void test_prepare_wait(void **unused)
{
	(void)unused;
	static const struct {
		const char *mtreg;
		int wait_ms;
	} cases[] = { { "69", 180 }, { "31", 81 }, { "254", 663 } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_bh1750 fake;
		struct sensor sensor;
		struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, cases[i].mtreg);
		fake_bh1750_clear_sent(chip);

		assert_int_equal(bh1750_driver.prepare(sensor.state, 0), cases[i].wait_ms);
		static const uint8_t one_time_high_resolution[] = { 0x20 };
		assert_sent(chip, one_time_high_resolution, 1);
		assert_true(chip->converting);
		sensor_close(&sensor);
	}
}

/* Every MTreg: the wait covers the chip's worst case, by less than 1 ms. */
static void test_wait_covers_conversion_at_every_mtreg(void **unused)
{
	(void)unused;
	for (unsigned mtreg = 31; mtreg <= 254; mtreg++) {
		char text[8];
		snprintf(text, sizeof(text), "%u", mtreg);
		struct fake_bh1750 fake;
		struct sensor sensor;
		struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, text);

		int wait = bh1750_driver.prepare(sensor.state, 0);
		assert_true((int64_t)wait * 1000 >= fake_bh1750_conversion_us(mtreg));
		assert_true((int64_t)(wait - 1) * 1000 < fake_bh1750_conversion_us(mtreg));
		fake_bh1750_advance_ms(&fake, wait);
		struct sample sample;
		assert_int_equal(bh1750_driver.sample(sensor.state, 0, &sample), 0);
		assert_int_equal(chip->premature_reads, 0);
		assert_close_to(sample.value, COUNT_TYPICAL / 1.2 * 69.0 / mtreg);
		sensor_close(&sensor);
	}
}

/* The fake itself: a read before the conversion is done is seen, and
 * gets the old register, as from the chip. */
static void test_fake_catches_a_short_wait(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	struct sensor sensor;
	struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, NULL);

	int wait = bh1750_driver.prepare(sensor.state, 0);
	fake_bh1750_advance_ms(&fake, wait - 1);
	struct sample sample;
	assert_int_equal(bh1750_driver.sample(sensor.state, 0, &sample), 0);
	assert_int_equal(chip->premature_reads, 1);
	assert_close_to(sample.value, 0.0);   /* the register as power-on left it */
	assert_int_equal(chip->conversions, 0);
	sensor_close(&sensor);
}

static void test_lux_formula(void **unused)
{
	(void)unused;
	assert_close_to(bh1750_lux(0, 69), 0.0);
	assert_close_to(bh1750_lux(1, 69), 1.0 / 1.2);
	assert_close_to(bh1750_lux(1000, 69), 833.333333333333);
	assert_close_to(bh1750_lux(65535, 69), 54612.5);
	/* twice the measurement time: twice the counts for the same light */
	assert_close_to(bh1750_lux(1000, 138), 416.666666666667);
	assert_close_to(bh1750_lux(65535, 31), 65535 / 1.2 * 69.0 / 31.0);
	assert_close_to(bh1750_lux(65535, 254), 65535 / 1.2 * 69.0 / 254.0);
}

static void test_sample_reads_big_endian(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	struct sensor sensor;
	struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, NULL);

	chip->count = COUNT_TYPICAL;
	assert_close_to(measure(&sensor, &fake), 833.333333333333);
	chip->count = 0x0102;   /* read little-endian it would be 0x0201 */
	assert_close_to(measure(&sensor, &fake), 258 / 1.2);
	chip->count = 65535;
	assert_close_to(measure(&sensor, &fake), 54612.5);
	chip->count = 0;
	assert_close_to(measure(&sensor, &fake), 0.0);

	/* one conversion per prepare, each from power-down */
	assert_int_equal(chip->conversions, 4);
	assert_int_equal(chip->reads, 4);
	assert_int_equal(chip->premature_reads, 0);
	assert_false(chip->powered);
	assert_int_equal(chip->protocol_errors, 0);
	assert_int_equal(chip->unexpected_commands, 0);
	sensor_close(&sensor);
}

static void test_sample_needs_prepare(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	struct sensor sensor;
	struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, NULL);
	struct sample sample;

	assert_int_equal(bh1750_driver.sample(sensor.state, 0, &sample), -EAGAIN);
	assert_int_equal(chip->reads, 0);
	measure(&sensor, &fake);
	/* a conversion is collected once */
	assert_int_equal(bh1750_driver.sample(sensor.state, 0, &sample), -EAGAIN);
	assert_int_equal(chip->reads, 1);
	sensor_close(&sensor);
}

/* ---- failure and recovery ------------------------------------------------------------ */

static void test_read_error_then_recovery(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	struct sensor sensor;
	struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, NULL);
	assert_close_to(measure(&sensor, &fake), 833.333333333333);

	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_READ_ERROR);
	int wait = bh1750_driver.prepare(sensor.state, 0);
	assert_int_equal(wait, 180);
	fake_bh1750_advance_ms(&fake, wait);
	struct sample sample;
	assert_int_equal(bh1750_driver.sample(sensor.state, 0, &sample), -EIO);
	sensor_close(&sensor);

	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_WORKING);
	chip->count = 2000;
	sensor_open_ok(&sensor, &fake);
	assert_close_to(measure(&sensor, &fake), 2000 / 1.2);
	sensor_close(&sensor);
	assert_int_equal(fake.open_handles, 0);
}

/* A chip that lost power comes back at MTreg 69 and powered down; the
 * reopen must set it up again, or its readings would be off by mtreg/69. */
static void test_removed_chip_then_recovery(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	struct sensor sensor;
	struct fake_bh1750_chip *chip = rig(&fake, &sensor, 0x23, NULL, "254");
	assert_close_to(measure(&sensor, &fake), COUNT_TYPICAL / 1.2 * 69.0 / 254.0);

	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_REMOVED);
	assert_int_equal(bh1750_driver.prepare(sensor.state, 0), -ENXIO);
	struct sample sample;
	assert_int_equal(bh1750_driver.sample(sensor.state, 0, &sample), -EAGAIN);
	sensor_close(&sensor);
	assert_int_equal(sensor_open(&sensor, &fake), -ENXIO);
	assert_string_equal(sensor.err, "bh1750: no answer at 0x23 on /dev/i2c-1 "
	                    "(is it wired, and is the address pin low?)");

	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_WORKING);
	assert_int_equal(chip->mtreg, 69);
	fake_bh1750_clear_sent(chip);
	sensor_open_ok(&sensor, &fake);
	static const uint8_t expected[] = { 0x01, 0x47, 0x7e };
	assert_sent(chip, expected, sizeof(expected));
	assert_int_equal(chip->mtreg, 254);
	assert_close_to(measure(&sensor, &fake), COUNT_TYPICAL / 1.2 * 69.0 / 254.0);
	assert_int_equal(chip->premature_reads, 0);
	sensor_close(&sensor);
	assert_int_equal(fake.open_handles, 0);
}

/* ---- detect ---------------------------------------------------------------------- */

static void test_detect(void **unused)
{
	(void)unused;
	struct fake_bh1750 fake;
	fake_bh1750_init(&fake);
	struct fake_bh1750_chip *chip = fake_bh1750_add_chip(&fake, BUS, 0x23);
	assert_non_null(fake_bh1750_add_bus(&fake, "/dev/i2c-3"));

	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x23), 1);
	static const uint8_t power_on_then_down[] = { 0x01, 0x00 };
	assert_sent(chip, power_on_then_down, sizeof(power_on_then_down));
	assert_int_equal(chip->reads, 1);
	assert_false(chip->powered);

	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x5c), 0);
	assert_int_equal(bh1750_detect(&fake.ops, "/dev/i2c-3", 0x23), 0);
	assert_int_equal(bh1750_detect(&fake.ops, "/dev/i2c-9", 0x23), -ENOENT);
	/* never writes to an address a BH1750 cannot have */
	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x24), -EINVAL);

	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_NACK);
	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x23), 0);
	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_READ_ERROR);
	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x23), 0);
	fake_bh1750_set_fault(&fake, chip, FAKE_BH1750_WORKING);
	chip->claimed = true;
	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x23), -EBUSY);
	chip->claimed = false;
	fake.buses[0].open_error = -EACCES;
	assert_int_equal(bh1750_detect(&fake.ops, BUS, 0x23), -EACCES);

	assert_int_equal(fake.open_handles, 0);
}

/* ---- the real i2c-dev ops, where no chip is needed --------------------------------- */

static void test_i2c_dev_without_a_bus(void **unused)
{
	(void)unused;
	void *handle = NULL;
	assert_int_equal(i2c_dev_ops.open(NULL, "/nonexistent/i2c-9", 0x23, &handle), -ENOENT);
	/* qemu's user mode (the arm64 unit tests) answers an ioctl it does not
	 * translate, I2C_SLAVE among them, with ENOSYS; a kernel never does. */
	if (i2c_dev_ops.open(NULL, "/dev/null", 0x23, &handle) == -ENOSYS)
		skip();
	/* /dev/null opens, but is no I2C adapter */
	assert_int_equal(i2c_dev_ops.open(NULL, "/dev/null", 0x23, &handle), -ENOTTY);
	assert_int_equal(i2c_dev_ops.open(NULL, "/dev/null", 0x78, &handle), -EINVAL);
	assert_null(handle);

	/* the driver as the daemon opens it */
	struct sensor sensor;
	configure(&sensor, "/dev/null", NULL, NULL);
	struct driver_env env = { .gateway_id = "test", .district = "Årby", .config_directory = "/" };
	assert_int_equal(bh1750_driver.open(&sensor.config, &env, &sensor.state, sensor.err, sizeof(sensor.err)),
	                 -ENOTTY);
	assert_string_equal(sensor.err, "bh1750: /dev/null is not an I2C bus");
	assert_int_equal(bh1750_detect(&i2c_dev_ops, "/nonexistent/i2c-9", 0x23), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_description),
		cmocka_unit_test(test_check_address),
		cmocka_unit_test(test_check_mtreg),
		cmocka_unit_test(test_check_bus),
		cmocka_unit_test(test_check_unknown_key_and_sensor),
		cmocka_unit_test(test_open_refuses_bad_settings),
		cmocka_unit_test(test_open_sequence_default_mtreg),
		cmocka_unit_test(test_open_sequence_mtreg_limits),
		cmocka_unit_test(test_bus_number_is_dev_i2c),
		cmocka_unit_test(test_open_failure_messages),
		cmocka_unit_test(test_prepare_wait),
		cmocka_unit_test(test_wait_covers_conversion_at_every_mtreg),
		cmocka_unit_test(test_fake_catches_a_short_wait),
		cmocka_unit_test(test_lux_formula),
		cmocka_unit_test(test_sample_reads_big_endian),
		cmocka_unit_test(test_sample_needs_prepare),
		cmocka_unit_test(test_read_error_then_recovery),
		cmocka_unit_test(test_removed_chip_then_recovery),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_i2c_dev_without_a_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
