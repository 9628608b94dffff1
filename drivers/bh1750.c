/* bh1750.c — the driver "bh1750": a ROHM BH1750FVI ambient light sensor
 * on a Linux I2C bus, read through i2c-dev without any kernel driver.
 *
 * The chip is used in one-time high-resolution mode: prepare() starts
 * exactly one conversion, the chip powers itself down when it is done, and
 * sample() collects the 2-byte result once the caller has waited the time
 * prepare() returned.  No sleeping here: the loop does the waiting.  open()
 * powers the chip on and sets its measurement time (MTreg); a chip that
 * lost power forgets both, so recovery is close() and open() again, which
 * the sensor does with backoff after any error.
 *
 * The bus goes through struct i2c_ops (i2c.h): the driver's open() uses
 * i2c_dev_ops, tests pass a fake chip.  open() allocates a struct
 * bh1750_state, which close() frees; the state borrows the ops and keeps no
 * pointer into the sensor config. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bh1750.h"
#include "driver.h"
#include "parse.h"

/* Longest high-resolution conversion at MTreg 69 (datasheet: typ. 120, max 180 ms). */
#define CONVERSION_MAX_MS_AT_DEFAULT 180u
/* Counts per lx in high-resolution mode at MTreg 69 (datasheet: 1.2, typical accuracy). */
#define COUNTS_PER_LUX 1.2

/* i2c-dev minors are 20 bits wide, so no bus number is larger. */
#define BUS_NUMBER_MAX 1048575L
#define BUS_PATH_SIZE 256

struct bh1750_state {
	const struct i2c_ops *ops;   /* borrowed */
	void *handle;                /* the ops' own, closed in close() */
	unsigned mtreg;
	bool converting;             /* prepare() started a conversion sample() has not collected */
};

/* The chip's settings as the options give them. */
struct bh1750_settings {
	char bus_path[BUS_PATH_SIZE];
	unsigned address;
	unsigned mtreg;
};

double bh1750_lux(uint16_t count, unsigned mtreg)
{
	if (mtreg == 0)
		return NAN;
	return (double)count / COUNTS_PER_LUX * (double)BH1750_MTREG_DEFAULT / (double)mtreg;
}

int bh1750_conversion_ms(unsigned mtreg)
{
	unsigned scaled = CONVERSION_MAX_MS_AT_DEFAULT * mtreg;
	return (int)((scaled + BH1750_MTREG_DEFAULT - 1) / BH1750_MTREG_DEFAULT);
}

/* ---- options ---------------------------------------------------------- */

/* An absolute path (e.g. a udev symlink), or N for /dev/i2c-N. */
static bool parse_bus(const char *text, char *path, size_t path_size)
{
	if (!text || text[0] == '\0')
		return false;
	if (text[0] >= '0' && text[0] <= '9') {
		long number;
		if (!parse_integer(text, 0, BUS_NUMBER_MAX, &number))
			return false;
		snprintf(path, path_size, "/dev/i2c-%ld", number);
		return true;
	}
	if (text[0] != '/' || strlen(text) >= path_size)
		return false;
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7f)
			return false;
	snprintf(path, path_size, "%s", text);
	return true;
}

/* 0x23 or 0x5c, in hex with 0x or in decimal (35, 92). */
static bool parse_address(const char *text, unsigned *address)
{
	long value;
	if (!text)
		return false;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		const char *digits = text + 2;
		size_t length = strspn(digits, "0123456789abcdefABCDEF");
		/* Hex digits only: strtol would also take a sign, spaces or
		 * another 0x.  Too many digits saturate, which is no address. */
		if (length == 0 || digits[length] != '\0')
			return false;
		value = strtol(digits, NULL, 16);
	} else if (text[0] == '0' || !parse_integer(text, 0, 0x7f, &value)) {
		/* A leading zero would read as octal to some eyes: 035 is not 35. */
		return false;
	}
	if (value != (long)BH1750_ADDRESS_LOW && value != (long)BH1750_ADDRESS_HIGH)
		return false;
	*address = (unsigned)value;
	return true;
}

static bool parse_mtreg(const char *text, unsigned *mtreg)
{
	long value;
	if (!text || !parse_integer(text, BH1750_MTREG_MIN, BH1750_MTREG_MAX, &value))
		return false;
	*mtreg = (unsigned)value;
	return true;
}

#define BUS_MESSAGE "bus must be the I2C bus the sensor is on: /dev/i2c-N, or just its number N " \
                    "(another absolute path such as a udev link works too)"
#define ADDRESS_MESSAGE "address must be 0x23 (ADDR pin low) or 0x5c (ADDR pin high), " \
                        "written in hex (0x23) or decimal (35)"
#define MTREG_MESSAGE "mtreg must be a whole number from 31 to 254 (the chip's own is 69; " \
                      "higher is more sensitive and slower)"
#define BUS_MISSING_MESSAGE "bh1750 needs bus = /dev/i2c-N (or just N): the I2C bus the sensor is wired to"

static int bh1750_check_option(enum sensor_type type, const char *key, const char *value,
                               char *err, size_t err_size)
{
	(void)type;   /* the configuration only asks for types the driver serves: light */
	if (strcmp(key, "bus") == 0) {
		char path[BUS_PATH_SIZE];
		if (!parse_bus(value, path, sizeof(path))) {
			snprintf(err, err_size, "%s", BUS_MESSAGE);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "address") == 0) {
		unsigned address;
		if (!parse_address(value, &address)) {
			snprintf(err, err_size, "%s", ADDRESS_MESSAGE);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "mtreg") == 0) {
		unsigned mtreg;
		if (!parse_mtreg(value, &mtreg)) {
			snprintf(err, err_size, "%s", MTREG_MESSAGE);
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

static int bh1750_check_sensor(const struct sensor_config *sc, char *err, size_t err_size)
{
	if (!sensor_option(sc, "bus")) {
		snprintf(err, err_size, "%s", BUS_MISSING_MESSAGE);
		return -EINVAL;
	}
	return 0;
}

/* The options again at open: the config judged them, but open() must not
 * trust a sensor_config it did not see validated (tryggctl builds its own). */
static int read_settings(const struct sensor_config *sc, struct bh1750_settings *settings,
                         char *err, size_t err_size)
{
	const char *bus = sensor_option(sc, "bus");
	const char *address = sensor_option(sc, "address");
	const char *mtreg = sensor_option(sc, "mtreg");

	settings->address = BH1750_ADDRESS_LOW;
	settings->mtreg = BH1750_MTREG_DEFAULT;
	if (sc->type != SENSOR_LIGHT) {
		snprintf(err, err_size, "bh1750: the sensor measures light only");
		return -EINVAL;
	}
	if (!bus) {
		snprintf(err, err_size, "%s", BUS_MISSING_MESSAGE);
		return -EINVAL;
	}
	if (!parse_bus(bus, settings->bus_path, sizeof(settings->bus_path))) {
		snprintf(err, err_size, "bh1750: %s", BUS_MESSAGE);
		return -EINVAL;
	}
	if (address && !parse_address(address, &settings->address)) {
		snprintf(err, err_size, "bh1750: %s", ADDRESS_MESSAGE);
		return -EINVAL;
	}
	if (mtreg && !parse_mtreg(mtreg, &settings->mtreg)) {
		snprintf(err, err_size, "bh1750: %s", MTREG_MESSAGE);
		return -EINVAL;
	}
	return 0;
}

/* ---- the chip ------------------------------------------------------------ */

/* How a chip that is absent, unpowered or miswired shows, depending on the
 * bus controller's driver. */
static bool no_answer(int error)
{
	return error == -ENXIO || error == -EREMOTEIO || error == -EIO;
}

static int send_command(const struct i2c_ops *ops, void *handle, uint8_t opcode)
{
	return ops->write(handle, &opcode, 1);
}

static void explain_open_error(int error, const struct bh1750_settings *settings, char *err, size_t err_size)
{
	const char *path = settings->bus_path;
	switch (error) {
	case -EACCES:
	case -EPERM:
		snprintf(err, err_size, "bh1750: cannot open %s: %s (is the user in group i2c?)", path, strerror(-error));
		break;
	case -ENOENT:
		snprintf(err, err_size, "bh1750: cannot open %s: %s (is I2C enabled, e.g. dtparam=i2c_arm=on, "
		         "and the i2c-dev module loaded?)", path, strerror(-error));
		break;
	case -ENOTTY:
		snprintf(err, err_size, "bh1750: %s is not an I2C bus", path);
		break;
	case -EBUSY:
		snprintf(err, err_size, "bh1750: address 0x%02x on %s is taken by a kernel driver "
		         "(use driver = iio, or unbind that driver)", settings->address, path);
		break;
	default:
		snprintf(err, err_size, "bh1750: cannot open %s: %s", path, strerror(-error));
		break;
	}
}

int bh1750_open_with(const struct i2c_ops *ops, const struct sensor_config *sc, void **state_out,
                     char *err, size_t err_size)
{
	struct bh1750_settings settings;
	struct bh1750_state *state = NULL;
	void *handle = NULL;
	int result = read_settings(sc, &settings, err, err_size);
	if (result < 0)
		goto out;

	result = ops->open(ops->context, settings.bus_path, settings.address, &handle);
	if (result < 0) {
		handle = NULL;
		explain_open_error(result, &settings, err, err_size);
		goto out;
	}

	/* Power-on is the first thing the chip hears, so a missing chip shows
	 * here rather than at the first sample. */
	result = send_command(ops, handle, BH1750_POWER_ON);
	if (result < 0) {
		if (no_answer(result))
			snprintf(err, err_size, "bh1750: no answer at 0x%02x on %s (is it wired, and is the address pin %s?)",
			         settings.address, settings.bus_path,
			         settings.address == BH1750_ADDRESS_LOW ? "low" : "high");
		else
			snprintf(err, err_size, "bh1750: cannot power on the chip at 0x%02x on %s: %s",
			         settings.address, settings.bus_path, strerror(-result));
		goto out;
	}
	/* Sent even for the default 69: after a brown-out the chip is back at
	 * 69 anyway, but a previous run may have left another value. */
	result = send_command(ops, handle, (uint8_t)(BH1750_MTREG_HIGH_BITS | (settings.mtreg >> 5)));
	if (result == 0)
		result = send_command(ops, handle, (uint8_t)(BH1750_MTREG_LOW_BITS | (settings.mtreg & 0x1f)));
	if (result < 0) {
		snprintf(err, err_size, "bh1750: cannot set mtreg on the chip at 0x%02x on %s: %s",
		         settings.address, settings.bus_path, strerror(-result));
		goto out;
	}

	state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, err_size, "bh1750: out of memory");
		result = -ENOMEM;
		goto out;
	}
	state->ops = ops;
	state->handle = handle;
	state->mtreg = settings.mtreg;
	handle = NULL;   /* now the state's */
	*state_out = state;

out:
	if (handle)
		ops->close(handle);
	return result;
}

int bh1750_detect(const struct i2c_ops *ops, const char *bus_path, unsigned address)
{
	void *handle = NULL;
	uint8_t bytes[2];
	int result;

	/* Writing to an unknown chip is never quite harmless: only the two
	 * addresses a BH1750 can have are tried. */
	if (address != BH1750_ADDRESS_LOW && address != BH1750_ADDRESS_HIGH)
		return -EINVAL;
	result = ops->open(ops->context, bus_path, address, &handle);
	if (result < 0)
		return result;

	result = send_command(ops, handle, BH1750_POWER_ON);
	if (result == 0)
		result = ops->read(handle, bytes, sizeof(bytes));
	if (result == 0) {
		/* Leave it as found: powered down, drawing under a microampere. */
		(void)send_command(ops, handle, BH1750_POWER_DOWN);
		result = 1;
	} else if (no_answer(result)) {
		result = 0;
	}
	ops->close(handle);
	return result;
}

/* ---- driver operations ------------------------------------------------------ */

static int bh1750_open(const struct sensor_config *sc, const struct driver_env *env,
                       void **state, char *err, size_t err_size)
{
	(void)env;   /* the bus path is absolute; nothing else comes from the environment */
	return bh1750_open_with(&i2c_dev_ops, sc, state, err, err_size);
}

static int bh1750_prepare(void *opaque, int64_t now_ms)
{
	struct bh1750_state *state = opaque;
	(void)now_ms;
	state->converting = false;
	int result = send_command(state->ops, state->handle, BH1750_ONE_TIME_HIGH_RESOLUTION);
	if (result < 0)
		return result;
	state->converting = true;
	return bh1750_conversion_ms(state->mtreg);
}

/* -EAGAIN without a conversion prepare() started: the chip would only
 * repeat its last result (or 0), which must not pass for a new reading. */
static int bh1750_sample(void *opaque, int64_t now_ms, struct sample *out)
{
	struct bh1750_state *state = opaque;
	uint8_t bytes[2];
	(void)now_ms;
	if (!state->converting)
		return -EAGAIN;
	/* One conversion gives one reading, read or not. */
	state->converting = false;
	int result = state->ops->read(state->handle, bytes, sizeof(bytes));
	if (result < 0)
		return result;
	memset(out, 0, sizeof(*out));
	out->value = bh1750_lux((uint16_t)(bytes[0] << 8 | bytes[1]), state->mtreg);
	return 0;
}

static void bh1750_close(void *opaque)
{
	struct bh1750_state *state = opaque;
	if (!state)
		return;
	/* After open() without a conversion the chip is still powered on;
	 * best effort, since a chip being closed for an error may not answer. */
	(void)send_command(state->ops, state->handle, BH1750_POWER_DOWN);
	state->ops->close(state->handle);
	free(state);
}

const struct driver_ops bh1750_driver = {
	.name = "bh1750",
	.types = 1u << SENSOR_LIGHT,
	.simulated = false,
	.check_option = bh1750_check_option,
	.check_sensor = bh1750_check_sensor,
	.open = bh1750_open,
	.close = bh1750_close,
	.sample = bh1750_sample,
	.prepare = bh1750_prepare,
};
