/* iio.h — Linux IIO devices seen through sysfs
 * (Documentation/ABI/testing/sysfs-bus-iio), implemented in iio_sysfs.c:
 * list the devices of a board and the channels of a device that can give
 * light, find a device by number or name, and read a channel, once or
 * again and again.  The driver "iio" (iio.c) is built on these functions,
 * so tryggctl probe shows exactly what the daemon would read.
 *
 * Ownership: every list and struct filled here owns its strings and
 * descriptor; the caller frees them with the matching *_free, *_clear or
 * *_close (fine on NULL, zero counts and cleared structs).  Nothing keeps
 * a pointer to its arguments.  Messages go to err (a complete sentence
 * starting "iio: ") when err is not NULL. */
#ifndef TRYGGD_IIO_H
#define TRYGGD_IIO_H

#include <stdbool.h>
#include <stddef.h>

#define IIO_CHANNEL_MAX 64      /* bytes of a channel prefix; the kernel's are far shorter */

struct iio_device {
	char *id;           /* "iio:device0" */
	unsigned number;    /* 0 */
	char *name;         /* its name attribute, e.g. "bh1750"; NULL when it has none */
	char *directory;    /* SYSFS_ROOT/bus/iio/devices/iio:device0 (absolute when SYSFS_ROOT is) */
};

/* The IIO devices under sysfs_root (triggers left out), by increasing N.
 * 0 with *devices and *count set (possibly none); -ENOENT when
 * SYSFS_ROOT/bus/iio/devices does not exist (no IIO driver loaded); another
 * negative errno. */
int iio_device_list(const char *sysfs_root, struct iio_device **devices, size_t *count);
void iio_device_list_free(struct iio_device *devices, size_t count);

/* The device that wanted names: "iio:deviceN", or the content of its name
 * attribute.  0 with *device filled; -ENODEV when there is none (the
 * message lists the devices there are); -EINVAL when two or more devices
 * have that name (the message lists them: a guess could read the wrong
 * one of two identical chips, silently). */
int iio_device_find(const char *sysfs_root, const char *wanted, struct iio_device *device,
                    char *err, size_t err_size);
void iio_device_clear(struct iio_device *device);

/* Whether text is "iio:deviceN" as the kernel writes it (no leading zeros). */
bool iio_device_id_parse(const char *text, unsigned *number);
/* Whether channel is an input channel prefix as the IIO core forms them:
 * "in_", the type, then index, modifier, extended name or differential
 * partner from [A-Za-z0-9_-] ("in_voltage0-voltage1"), at most
 * IIO_CHANNEL_MAX bytes.  Never contains '/' or '.'. */
bool iio_channel_valid(const char *channel);

struct iio_channel {
	char *prefix;       /* "in_illuminance", "in_voltage0", "in_intensity_both" */
	const char *kind;   /* "illuminance" (lx), "intensity" (no unit) or "voltage" (mV); static */
	bool processed;     /* has <prefix>_input, read as it is; else <prefix>_raw with offset and scale */
};

/* The readable channels (an _input or _raw attribute) of kinds
 * illuminance, intensity and voltage in device_directory, in natural order
 * (in_voltage2 before in_voltage10).  0 with *channels and *count set, or
 * a negative errno. */
int iio_channel_list(const char *device_directory, struct iio_channel **channels, size_t *count);
void iio_channel_list_free(struct iio_channel *channels, size_t count);

/* One channel, open for reading as often as needed. */
struct iio_reader {
	int fd;             /* <channel>_input, else <channel>_raw; -1 when closed */
	bool processed;     /* fd is _input: its value is used as it is */
	double offset;      /* _raw: value = (raw + offset) * scale, read once at open */
	double scale;
	char *path;         /* the file fd reads, for messages */
};

/* Open channel of the device in device_directory; id names the device in
 * messages ("iio:device0").  The value file is <channel>_input when it
 * exists, else <channel>_raw, with offset and scale from the channel's own
 * attribute or a shared form the ABI allows (in_voltage_scale for
 * in_voltage0, in_voltage-voltage_scale for in_voltage1-voltage2,
 * in_scale, scale), 0 and 1 when there is none.  0, or -EINVAL for a
 * malformed channel, -ENOENT when the device has no such channel (the
 * message lists those it has), -EIO when offset or scale is not a number,
 * another negative errno. */
int iio_reader_open(const char *device_directory, const char *id, const char *channel,
                    struct iio_reader *reader, char *err, size_t err_size);
/* The channel's value now, in its own unit: 0 with *value set; -EIO when
 * the file does not hold one number (a trailing newline is fine); the
 * errno of the failed read (ENODEV: the device went away). */
int iio_reader_read(const struct iio_reader *reader, double *value, char *err, size_t err_size);
void iio_reader_close(struct iio_reader *reader);

/* Open, read once and close: the errors of the two above. */
int iio_channel_read(const char *device_directory, const char *channel, double *value);

#endif
