/* iio.c — the driver "iio": a light sensor read from one channel of a
 * Linux IIO device through sysfs, polled.  The device is named by
 * iio:deviceN or by its name attribute, the channel by its prefix
 * (in_illuminance, in_voltage0, …), so a lux sensor with an IIO driver and
 * a photodiode on an ADC serve alike; factor turns the channel's unit into
 * lux.  The sysfs work is iio_sysfs.c's (iio.h), shared with tryggctl probe.
 *
 * sample() may sleep in the kernel while the device converts: the driver
 * says so (sample_may_block) and the sensor calls it on a worker thread.
 * It touches only its own state.  open() still reads the channel once, on
 * the loop, so that a bad channel is reported with its path: each (re)open
 * costs the loop one conversion.
 *
 * A read that fails (the device went away) is returned as it is, without
 * a retry: the sensor closes and re-opens with backoff, and open() looks
 * the device up by name again, whatever number it came back as.
 *
 * open() allocates a struct iio_state, which close() frees with the
 * descriptor it holds; it keeps no pointer into the configuration or the
 * environment. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "iio.h"
#include "parse.h"

#define DEFAULT_SYSFS_ROOT "/sys"
#define DEFAULT_CHANNEL "in_illuminance"
#define DEVICE_OPTION_MAX 128    /* bytes of the device option */
#define SYSFS_ROOT_MAX 1024      /* bytes of the sysfs_root option */

struct iio_state {
	struct iio_reader reader;
	double factor;               /* lux per unit of the channel */
};

static bool ends_with(const char *text, const char *suffix)
{
	size_t length = strlen(text), suffix_length = strlen(suffix);
	return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

/* iio:deviceN, or a name matched against the name attribute's content, so
 * anything printable goes but '/' (someone gave a path) and spaces at
 * either end (they would never match). */
static bool device_valid(const char *device)
{
	size_t length = strlen(device);
	unsigned number;
	if (length == 0 || length >= DEVICE_OPTION_MAX)
		return false;
	if (strncmp(device, "iio:device", strlen("iio:device")) == 0)
		return iio_device_id_parse(device, &number);
	if (device[0] == ' ' || device[length - 1] == ' ')
		return false;
	for (const unsigned char *cursor = (const unsigned char *)device; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F || *cursor == '/')
			return false;
	return true;
}

static bool parse_factor(const char *text, double *factor)
{
	return parse_decimal(text, 0.0, factor) && *factor > 0.0;
}

static bool sysfs_root_valid(const char *text)
{
	size_t length = strlen(text);
	if (length == 0 || length > SYSFS_ROOT_MAX)
		return false;
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F)
			return false;
	return true;
}

static int iio_check_option(enum sensor_type type, const char *key, const char *value,
                            char *err, size_t err_size)
{
	(void)type;   /* light only: the configuration keeps other types away */
	if (!value)
		value = "";
	if (strcmp(key, "device") == 0) {
		if (!device_valid(value)) {
			snprintf(err, err_size, "device must be iio:deviceN or the device's name as sysfs gives it "
			         "(e.g. bh1750): 1–%d bytes, no '/' or control characters", DEVICE_OPTION_MAX - 1);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "channel") == 0) {
		if (ends_with(value, "_raw") || ends_with(value, "_input")) {
			snprintf(err, err_size, "channel is the prefix without _raw or _input, e.g. in_illuminance "
			         "for in_illuminance_raw");
			return -EINVAL;
		}
		if (!iio_channel_valid(value)) {
			snprintf(err, err_size, "channel must be an IIO input channel such as in_illuminance, "
			         "in_intensity_both or in_voltage0: in_ and a type, then letters, digits, _ or -, "
			         "at most %d bytes", IIO_CHANNEL_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "sysfs_root") == 0) {
		if (!sysfs_root_valid(value)) {
			snprintf(err, err_size, "sysfs_root must be the directory where sysfs is mounted "
			         "(default /sys): 1–%d bytes, no control characters", SYSFS_ROOT_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "factor") == 0) {
		double factor;
		if (!parse_factor(value, &factor)) {
			snprintf(err, err_size, "factor must be a decimal number greater than 0: lux per unit of "
			         "the channel's value (e.g. 0.5)");
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

static int iio_check_sensor(const struct sensor_config *sc, char *err, size_t err_size)
{
	if (!sensor_option(sc, "device")) {
		snprintf(err, err_size, "driver iio needs device = iio:deviceN or the device's name "
		         "(e.g. bh1750); tryggctl probe lists them");
		return -EINVAL;
	}
	return 0;
}

/* A relative sysfs_root is taken from the configuration's directory, as
 * every relative path in an option is. */
static int resolve_root(const char *text, const struct driver_env *env, char **root)
{
	if (!text)
		text = DEFAULT_SYSFS_ROOT;
	if (text[0] == '/' || !env || !env->config_directory)
		*root = strdup(text);
	else if (asprintf(root, "%s/%s", env->config_directory, text) < 0)
		*root = NULL;
	return *root ? 0 : -ENOMEM;
}

static int iio_open(const struct sensor_config *sc, const struct driver_env *env,
                    void **state_out, char *err, size_t err_size)
{
	struct iio_state *state = NULL;
	struct iio_device device = { 0 };
	char *root = NULL;
	const char *wanted = sensor_option(sc, "device");
	const char *channel = sensor_option(sc, "channel");
	const char *factor_text = sensor_option(sc, "factor");
	double factor = 1.0, value;
	int result = 0;

	if (sc->type != SENSOR_LIGHT) {
		snprintf(err, err_size, "iio: only light sensors");
		result = -EINVAL;
		goto out;
	}
	if (!wanted || !device_valid(wanted)) {
		snprintf(err, err_size, "iio: device must be iio:deviceN or the device's name");
		result = -EINVAL;
		goto out;
	}
	if (factor_text && !parse_factor(factor_text, &factor)) {
		snprintf(err, err_size, "iio: factor must be a decimal number greater than 0");
		result = -EINVAL;
		goto out;
	}
	if (resolve_root(sensor_option(sc, "sysfs_root"), env, &root) < 0) {
		snprintf(err, err_size, "iio: out of memory");
		result = -ENOMEM;
		goto out;
	}
	result = iio_device_find(root, wanted, &device, err, err_size);
	if (result < 0)
		goto out;
	state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, err_size, "iio: out of memory");
		result = -ENOMEM;
		goto out;
	}
	state->factor = factor;
	result = iio_reader_open(device.directory, device.id, channel ? channel : DEFAULT_CHANNEL,
	                         &state->reader, err, err_size);
	if (result < 0)
		goto out;
	/* One reading now, so that a channel that cannot be read is reported
	 * here with its path, rather than as a bare errno from every sample. */
	result = iio_reader_read(&state->reader, &value, err, err_size);
	if (result < 0)
		goto out;

	*state_out = state;
	state = NULL;   /* now the caller's, until close() */
out:
	if (state) {
		iio_reader_close(&state->reader);
		free(state);
	}
	iio_device_clear(&device);
	free(root);
	return result;
}

static int iio_sample(void *opaque, int64_t now_ms, struct sample *out)
{
	const struct iio_state *state = opaque;
	double value;
	(void)now_ms;   /* the device has only the value of now */
	memset(out, 0, sizeof(*out));
	/* The message names the file and what it held: the errno of a file
	 * holding garbage (-EIO) says neither. */
	int result = iio_reader_read(&state->reader, &value, out->error, sizeof(out->error));
	if (result < 0)
		return result;
	out->value = value * state->factor;
	return 0;
}

static void iio_close(void *opaque)
{
	struct iio_state *state = opaque;
	if (!state)
		return;
	iio_reader_close(&state->reader);
	free(state);
}

const struct driver_ops iio_driver = {
	.name = "iio",
	.types = 1u << SENSOR_LIGHT,
	.simulated = false,
	.check_option = iio_check_option,
	.check_sensor = iio_check_sensor,
	.open = iio_open,
	.sample = iio_sample,
	.close = iio_close,
	/* Light drivers under drivers/iio/light (bh1750, tsl2563, veml6030)
	 * sleep in read(2) for the conversion time, 120–600 ms. */
	.sample_may_block = true,
};
