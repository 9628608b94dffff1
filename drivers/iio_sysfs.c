/* iio_sysfs.c — see iio.h: IIO devices and channels through sysfs, for the
 * driver "iio" and for tryggctl probe.
 *
 * A reader keeps its value file open and reads it with pread() at offset
 * 0: sysfs makes the value anew for every read from the start, and a kept
 * descriptor costs no path lookup.  Offset and scale are constants of the
 * device's mode, read once when the reader opens.
 *
 * Lists, devices and readers own what they point to (iio.h says how each
 * is freed); no function keeps a pointer to its arguments. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iio.h"
#include "parse.h"

#define IIO_DEVICES_PATH "/bus/iio/devices"
#define DEVICE_ID_PREFIX "iio:device"
#define DEVICE_NAME_MAX 256     /* bytes of a name attribute we take; the kernel's are short */
#define VALUE_TEXT_MAX 64       /* a number in sysfs; anything longer is not one */
#define NAMES_SHOWN 6           /* channels or devices listed in a message */

/* Where an offset or scale may live, most specific first (see attribute_names). */
#define ATTRIBUTE_NAMES 4
#define ATTRIBUTE_NAME_MAX (2 * IIO_CHANNEL_MAX + 16)

static const char lowercase[] = "abcdefghijklmnopqrstuvwxyz";
static const char *const light_kinds[] = { "illuminance", "intensity", "voltage" };

/* ---- messages ---------------------------------------------------------- */

/* Messages are built in pieces; a NULL buffer (a caller that wants only
 * the errno) takes none. */
static void say(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buffer, size_t size, const char *format, ...)
{
	if (!buffer || size == 0)
		return;
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(buffer, size, format, arguments);
	va_end(arguments);
}

static void append(char *buffer, size_t size, const char *format, ...)
{
	if (!buffer || size == 0)
		return;
	size_t used = strnlen(buffer, size);
	if (used + 1 >= size)
		return;
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(buffer + used, size - used, format, arguments);
	va_end(arguments);
}

/* What a file held, fit to quote: at most 24 bytes, control bytes as '?'. */
static const char *quoted(const char *text, char buffer[32])
{
	size_t length = strnlen(text, 24);
	for (size_t i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)text[i];
		buffer[i] = byte < 0x20 || byte == 0x7F ? '?' : (char)byte;
	}
	buffer[length] = '\0';
	return buffer;
}

/* ---- names --------------------------------------------------------------- */

static bool ends_with(const char *text, size_t length, const char *suffix)
{
	size_t suffix_length = strlen(suffix);
	return length >= suffix_length && memcmp(text + length - suffix_length, suffix, suffix_length) == 0;
}

bool iio_channel_valid(const char *channel)
{
	size_t length = strlen(channel);
	if (length < 4 || length > IIO_CHANNEL_MAX || strncmp(channel, "in_", 3) != 0 ||
	    channel[3] < 'a' || channel[3] > 'z')
		return false;
	return strspn(channel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == length;
}

bool iio_device_id_parse(const char *text, unsigned *number)
{
	size_t prefix_length = strlen(DEVICE_ID_PREFIX);
	if (strncmp(text, DEVICE_ID_PREFIX, prefix_length) != 0)
		return false;
	const char *digits = text + prefix_length;
	long value;
	/* parse_integer alone would take "-1" and "007". */
	if (digits[0] < '0' || digits[0] > '9' || (digits[0] == '0' && digits[1] != '\0') ||
	    !parse_integer(digits, 0, INT_MAX, &value))
		return false;
	*number = (unsigned)value;
	return true;
}

/* The kind of a valid channel prefix if it is one that can give light, else NULL. */
static const char *light_kind(const char *channel)
{
	const char *type = channel + 3;
	size_t length = strspn(type, lowercase);
	for (size_t i = 0; i < sizeof(light_kinds) / sizeof(light_kinds[0]); i++)
		if (strlen(light_kinds[i]) == length && strncmp(type, light_kinds[i], length) == 0)
			return light_kinds[i];
	return NULL;
}

/* The names under which attribute (offset, scale) of a channel may appear,
 * as the IIO core forms them: the channel's own (in_voltage0_scale), shared
 * by its type (in_voltage_scale, or in_voltage-voltage_scale for a
 * differential pair; index, modifier and extended name dropped), by all
 * inputs (in_scale) and by the whole device (scale). */
static void attribute_names(const char *channel, const char *attribute,
                            char names[ATTRIBUTE_NAMES][ATTRIBUTE_NAME_MAX])
{
	const char *type = channel + 3;
	int type_length = (int)strspn(type, lowercase);
	const char *after = type + type_length + strspn(type + type_length, "0123456789");
	bool differential = after[0] == '-' && strncmp(after + 1, type, (size_t)type_length) == 0;

	snprintf(names[0], ATTRIBUTE_NAME_MAX, "%s_%s", channel, attribute);
	if (differential)
		snprintf(names[1], ATTRIBUTE_NAME_MAX, "in_%.*s-%.*s_%s", type_length, type, type_length, type,
		         attribute);
	else
		snprintf(names[1], ATTRIBUTE_NAME_MAX, "in_%.*s_%s", type_length, type, attribute);
	snprintf(names[2], ATTRIBUTE_NAME_MAX, "in_%s", attribute);
	snprintf(names[3], ATTRIBUTE_NAME_MAX, "%s", attribute);
}

/* ---- reading attributes ------------------------------------------------------ */

/* The whole of a small attribute, read from its start, NUL-terminated,
 * one trailing newline dropped.  Its length; -EIO when it is too long for
 * a number; -errno. */
static int read_text(int fd, char *text, size_t size)
{
	ssize_t length;
	do
		length = pread(fd, text, size - 1, 0);
	while (length < 0 && errno == EINTR);
	if (length < 0)
		return -errno;
	text[length] = '\0';
	if ((size_t)length == size - 1)
		return -EIO;
	if (length > 0 && text[length - 1] == '\n')
		text[--length] = '\0';
	return (int)length;
}

/* One number, as IIO prints them ("73", "-7", "0.001333", "1.234e3"):
 * anything else, an embedded NUL included, is -EIO.  text keeps what was
 * read, for messages. */
static int read_number(int fd, double *value, char *text, size_t size)
{
	int length = read_text(fd, text, size);
	if (length < 0)
		return length;
	if (strlen(text) != (size_t)length || !parse_decimal(text, -DBL_MAX, value))
		return -EIO;
	return 0;
}

/* Offset or scale of a raw channel: the first of its names that exists, or
 * fallback when none does (the channel needs none). */
static int read_constant(int directory_fd, const char *directory, const char *channel,
                         const char *attribute, double fallback, double *value,
                         char *err, size_t err_size)
{
	char names[ATTRIBUTE_NAMES][ATTRIBUTE_NAME_MAX];
	attribute_names(channel, attribute, names);
	for (size_t i = 0; i < ATTRIBUTE_NAMES; i++) {
		int fd = openat(directory_fd, names[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0) {
			int result = -errno;
			say(err, err_size, "iio: cannot open %s/%s: %s", directory, names[i], strerror(-result));
			return result;
		}
		char text[VALUE_TEXT_MAX], shown[32];
		int result = read_number(fd, value, text, sizeof(text));
		close(fd);
		if (result == -EIO)
			say(err, err_size, "iio: %s/%s holds '%s', which is not a number", directory, names[i],
			    quoted(text, shown));
		else if (result < 0)
			say(err, err_size, "iio: cannot read %s/%s: %s", directory, names[i], strerror(-result));
		return result;
	}
	*value = fallback;
	return 0;
}

/* ---- channels ----------------------------------------------------------------- */

void iio_channel_list_free(struct iio_channel *channels, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(channels[i].prefix);
	free(channels);
}

static int compare_channels(const void *left, const void *right)
{
	return strverscmp(((const struct iio_channel *)left)->prefix, ((const struct iio_channel *)right)->prefix);
}

/* The channel prefix a directory entry is the value file of, or false. */
static bool value_file_channel(const char *entry, char prefix[IIO_CHANNEL_MAX + 1], bool *processed)
{
	size_t length = strlen(entry);
	*processed = ends_with(entry, length, "_input");
	if (!*processed && !ends_with(entry, length, "_raw"))
		return false;
	size_t prefix_length = length - strlen(*processed ? "_input" : "_raw");
	if (prefix_length > IIO_CHANNEL_MAX)
		return false;
	memcpy(prefix, entry, prefix_length);
	prefix[prefix_length] = '\0';
	return iio_channel_valid(prefix);
}

/* The readable channels of the device open as directory_fd: only those
 * that can give light, or every input channel (kind NULL for the others). */
static int list_channels(int directory_fd, bool light_only, struct iio_channel **channels_out, size_t *count_out)
{
	struct iio_channel *channels = NULL;
	size_t count = 0, capacity = 0;
	DIR *directory = NULL;
	int result = 0;

	*channels_out = NULL;
	*count_out = 0;
	/* A descriptor of its own: fdopendir takes it, and the reading position
	 * is not shared with the caller's. */
	int fd = openat(directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(directory = fdopendir(fd))) {
		result = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	for (;;) {
		errno = 0;
		struct dirent *entry = readdir(directory);
		if (!entry) {
			result = -errno;
			break;
		}
		char prefix[IIO_CHANNEL_MAX + 1];
		bool processed;
		if (!value_file_channel(entry->d_name, prefix, &processed))
			continue;
		const char *kind = light_kind(prefix);
		if (light_only && !kind)
			continue;

		size_t index = 0;
		while (index < count && strcmp(channels[index].prefix, prefix) != 0)
			index++;
		if (index == count) {
			if (count == capacity) {
				size_t grown = capacity ? 2 * capacity : 8;
				struct iio_channel *larger = realloc(channels, grown * sizeof(*larger));
				if (!larger) {
					result = -ENOMEM;
					goto out;
				}
				channels = larger;
				capacity = grown;
			}
			channels[count] = (struct iio_channel){ .prefix = strdup(prefix), .kind = kind };
			if (!channels[count].prefix) {
				result = -ENOMEM;
				goto out;
			}
			count++;
		}
		channels[index].processed |= processed;
	}
	if (result < 0)
		goto out;
	if (count > 0)
		qsort(channels, count, sizeof(*channels), compare_channels);
	*channels_out = channels;
	*count_out = count;
	channels = NULL;
	count = 0;
out:
	if (directory)
		closedir(directory);
	iio_channel_list_free(channels, count);
	return result;
}

int iio_channel_list(const char *device_directory, struct iio_channel **channels, size_t *count)
{
	*channels = NULL;
	*count = 0;
	int directory_fd = open(device_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (directory_fd < 0)
		return -errno;
	int result = list_channels(directory_fd, true, channels, count);
	close(directory_fd);
	return result;
}

/* A technician pastes the channel from this message into the config, so
 * it names the ones the device has, of every kind. */
static void describe_missing_channel(int directory_fd, const char *id, const char *channel,
                                     char *err, size_t err_size)
{
	if (!err)
		return;
	say(err, err_size, "iio: %s has no channel %s (neither _input nor _raw)", id, channel);
	struct iio_channel *channels = NULL;
	size_t count = 0;
	if (list_channels(directory_fd, false, &channels, &count) < 0)
		return;
	if (count == 0)
		append(err, err_size, "; it has no readable input channel");
	for (size_t i = 0; i < count && i < NAMES_SHOWN; i++)
		append(err, err_size, "%s%s", i == 0 ? "; it has " : ", ", channels[i].prefix);
	if (count > NAMES_SHOWN)
		append(err, err_size, " and %zu more", count - NAMES_SHOWN);
	iio_channel_list_free(channels, count);
}

/* ---- readers ---------------------------------------------------------------------- */

void iio_reader_close(struct iio_reader *reader)
{
	if (reader->fd >= 0)
		close(reader->fd);
	free(reader->path);
	*reader = (struct iio_reader){ .fd = -1, .offset = 0.0, .scale = 1.0 };
}

int iio_reader_open(const char *device_directory, const char *id, const char *channel,
                    struct iio_reader *reader, char *err, size_t err_size)
{
	char name[ATTRIBUTE_NAME_MAX];
	int directory_fd = -1, result = 0;
	*reader = (struct iio_reader){ .fd = -1, .processed = true, .offset = 0.0, .scale = 1.0 };

	if (!iio_channel_valid(channel)) {
		say(err, err_size, "iio: '%s' is not an IIO input channel such as in_illuminance", channel);
		result = -EINVAL;
		goto out;
	}
	directory_fd = open(device_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (directory_fd < 0) {
		result = -errno;
		say(err, err_size, "iio: cannot open %s: %s", device_directory, strerror(-result));
		goto out;
	}
	snprintf(name, sizeof(name), "%s_input", channel);
	reader->fd = openat(directory_fd, name, O_RDONLY | O_CLOEXEC);
	if (reader->fd < 0 && errno == ENOENT) {
		reader->processed = false;
		snprintf(name, sizeof(name), "%s_raw", channel);
		reader->fd = openat(directory_fd, name, O_RDONLY | O_CLOEXEC);
	}
	if (reader->fd < 0) {
		result = -errno;
		if (result == -ENOENT)
			describe_missing_channel(directory_fd, id, channel, err, err_size);
		else
			say(err, err_size, "iio: cannot open %s/%s: %s", device_directory, name, strerror(-result));
		goto out;
	}
	if (asprintf(&reader->path, "%s/%s", device_directory, name) < 0) {
		reader->path = NULL;
		say(err, err_size, "iio: out of memory");
		result = -ENOMEM;
		goto out;
	}
	if (!reader->processed) {
		result = read_constant(directory_fd, device_directory, channel, "offset", 0.0, &reader->offset,
		                       err, err_size);
		if (result < 0)
			goto out;
		result = read_constant(directory_fd, device_directory, channel, "scale", 1.0, &reader->scale,
		                       err, err_size);
	}
out:
	if (directory_fd >= 0)
		close(directory_fd);
	if (result < 0)
		iio_reader_close(reader);
	return result;
}

int iio_reader_read(const struct iio_reader *reader, double *value, char *err, size_t err_size)
{
	char text[VALUE_TEXT_MAX], shown[32];
	double number;
	int result = read_number(reader->fd, &number, text, sizeof(text));
	if (result == -EIO)
		say(err, err_size, "iio: %s holds '%s', which is not a number", reader->path, quoted(text, shown));
	else if (result < 0)
		say(err, err_size, "iio: cannot read %s: %s", reader->path, strerror(-result));
	if (result < 0)
		return result;
	*value = reader->processed ? number : (number + reader->offset) * reader->scale;
	return 0;
}

int iio_channel_read(const char *device_directory, const char *channel, double *value)
{
	struct iio_reader reader;
	int result = iio_reader_open(device_directory, device_directory, channel, &reader, NULL, 0);
	if (result == 0)
		result = iio_reader_read(&reader, value, NULL, 0);
	iio_reader_close(&reader);
	return result;
}

/* ---- devices -------------------------------------------------------------------- */

/* SYSFS_ROOT/bus/iio/devices, without doubling a trailing '/'. */
static int devices_path(const char *sysfs_root, char *path, size_t size)
{
	size_t length = strlen(sysfs_root);
	while (length > 0 && sysfs_root[length - 1] == '/')
		length--;
	int written = snprintf(path, size, "%.*s%s", (int)length, sysfs_root, IIO_DEVICES_PATH);
	return written < 0 || (size_t)written >= size ? -ENAMETOOLONG : 0;
}

void iio_device_clear(struct iio_device *device)
{
	free(device->id);
	free(device->name);
	free(device->directory);
	*device = (struct iio_device){ 0 };
}

void iio_device_list_free(struct iio_device *devices, size_t count)
{
	for (size_t i = 0; i < count; i++)
		iio_device_clear(&devices[i]);
	free(devices);
}

static int compare_devices(const void *left, const void *right)
{
	unsigned a = ((const struct iio_device *)left)->number, b = ((const struct iio_device *)right)->number;
	return (a > b) - (a < b);
}

/* A device's name attribute, or NULL when it has none that can be read:
 * one odd device must not hide the others from a listing. */
static int read_device_name(int devices_fd, const char *id, char **name)
{
	char path[NAME_MAX + 8], text[DEVICE_NAME_MAX];
	*name = NULL;
	snprintf(path, sizeof(path), "%s/name", id);
	int fd = openat(devices_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int length = read_text(fd, text, sizeof(text));
	close(fd);
	if (length <= 0 || strlen(text) != (size_t)length)
		return 0;
	*name = strdup(text);
	return *name ? 0 : -ENOMEM;
}

int iio_device_list(const char *sysfs_root, struct iio_device **devices_out, size_t *count_out)
{
	char path[PATH_MAX];
	struct iio_device *devices = NULL;
	size_t count = 0, capacity = 0;
	DIR *directory = NULL;

	*devices_out = NULL;
	*count_out = 0;
	int result = devices_path(sysfs_root, path, sizeof(path));
	if (result < 0)
		goto out;
	directory = opendir(path);
	if (!directory) {
		result = -errno;
		goto out;
	}
	for (;;) {
		errno = 0;
		struct dirent *entry = readdir(directory);
		if (!entry) {
			result = -errno;
			break;
		}
		unsigned number;
		if (!iio_device_id_parse(entry->d_name, &number))
			continue;   /* triggerN, which has a name too, and anything else */
		if (count == capacity) {
			size_t grown = capacity ? 2 * capacity : 8;
			struct iio_device *larger = realloc(devices, grown * sizeof(*larger));
			if (!larger) {
				result = -ENOMEM;
				goto out;
			}
			devices = larger;
			capacity = grown;
		}
		struct iio_device *device = &devices[count++];
		*device = (struct iio_device){ .number = number, .id = strdup(entry->d_name) };
		if (asprintf(&device->directory, "%s/%s", path, entry->d_name) < 0)
			device->directory = NULL;
		if (!device->id || !device->directory) {
			result = -ENOMEM;
			goto out;
		}
		result = read_device_name(dirfd(directory), entry->d_name, &device->name);
		if (result < 0)
			goto out;
	}
	if (result < 0)
		goto out;
	if (count > 0)
		qsort(devices, count, sizeof(*devices), compare_devices);
	*devices_out = devices;
	*count_out = count;
	devices = NULL;
	count = 0;
out:
	if (directory)
		closedir(directory);
	iio_device_list_free(devices, count);
	return result;
}

static bool device_is(const struct iio_device *device, bool by_id, unsigned number, const char *name)
{
	return by_id ? device->number == number : device->name && strcmp(device->name, name) == 0;
}

int iio_device_find(const char *sysfs_root, const char *wanted, struct iio_device *found,
                    char *err, size_t err_size)
{
	char path[PATH_MAX];
	struct iio_device *devices = NULL;
	size_t count = 0, matches = 0, match = 0;
	unsigned number = 0;
	bool by_id = iio_device_id_parse(wanted, &number);
	const char *quote = by_id ? "" : "'";

	*found = (struct iio_device){ 0 };
	int result = devices_path(sysfs_root, path, sizeof(path));
	if (result < 0) {
		say(err, err_size, "iio: sysfs_root %s is too long", sysfs_root);
		goto out;
	}
	result = iio_device_list(sysfs_root, &devices, &count);
	if (result == -ENOENT) {
		say(err, err_size, "iio: no device %s%s%s%s under %s, which does not exist (no IIO driver loaded?)",
		    by_id ? "" : "named ", quote, wanted, quote, path);
		result = -ENODEV;
		goto out;
	}
	if (result < 0) {
		say(err, err_size, "iio: cannot list %s: %s", path, strerror(-result));
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		if (device_is(&devices[i], by_id, number, wanted) && matches++ == 0)
			match = i;
	if (matches == 0) {
		say(err, err_size, "iio: no device %s%s%s%s under %s", by_id ? "" : "named ", quote, wanted, quote, path);
		if (count == 0)
			append(err, err_size, "; there is none");
		for (size_t i = 0; i < count && i < NAMES_SHOWN; i++)
			append(err, err_size, "%s%s (%s)", i == 0 ? "; it has " : ", ", devices[i].id,
			       devices[i].name ? devices[i].name : "no name");
		if (count > NAMES_SHOWN)
			append(err, err_size, " and %zu more", count - NAMES_SHOWN);
		result = -ENODEV;
		goto out;
	}
	if (matches > 1) {
		say(err, err_size, "iio: %zu devices are named '%s' under %s (", matches, wanted, path);
		for (size_t i = 0, shown = 0; i < count; i++)
			if (device_is(&devices[i], by_id, number, wanted))
				append(err, err_size, "%s%s", shown++ ? ", " : "", devices[i].id);
		append(err, err_size, "); set device = iio:deviceN to choose one");
		result = -EINVAL;
		goto out;
	}
	*found = devices[match];   /* its strings move to the caller */
	devices[match] = (struct iio_device){ 0 };
out:
	iio_device_list_free(devices, count);
	return result;
}
