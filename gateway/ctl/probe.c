/* probe.c — `tryggctl probe`: what sensors this board has, for a
 * technician commissioning a gateway, with a [sensor.NAME] section for each
 * one to paste into tryggd.conf.
 *
 * The board is read with the daemon's own code (drivers/iio.h, bh1750.h)
 * and libgpiod, so what probe shows is what tryggd will find.  Every
 * section is put to its driver's check_option() and check_sensor() before
 * it is printed, so a section probe prints is one tryggd --check accepts.
 *
 * The listing goes to the output as it is probed; the sections are
 * gathered in a memory stream owned by struct probe and printed after it.
 * struct probe owns that stream and the list of section names, freed at
 * the end of probe_run(); the options are borrowed. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <gpiod.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bh1750.h"
#include "common.h"
#include "driver.h"
#include "iio.h"
#include "probe.h"
#include "slug.h"

#define COMMAND "probe"
#define NAME_SIZE 33            /* a sensor name, [a-z0-9_-]{1,32}, and its NUL */
#define SLUG_SIZE 512           /* a device name as a slug, before it is cut to fit */
#define SUFFIX_MAX 16           /* bytes of a name's suffix (a channel, a line, an address) */
#define OPTIONS_MAX 6           /* driver options of one section */
#define COMMENT_SIZE 512
#define VALUE_SIZE 64

struct probe {
	const struct probe_options *options;
	FILE *listing;              /* the output, or NULL with sections_only */
	FILE *errors;
	FILE *sections;             /* memory stream over sections_text */
	char *sections_text;
	size_t sections_length;
	char (*names)[NAME_SIZE];   /* the sections' names so far, to keep them unique */
	size_t name_count, name_capacity;
	unsigned found;             /* chips, devices and buses seen, usable or not */
	unsigned section_count;
};

/* One section as drivers see it, before it has a name. */
struct section {
	enum sensor_type type;
	const struct driver_ops *driver;
	struct sensor_option options[OPTIONS_MAX];
	size_t option_count;
	char comment[COMMENT_SIZE]; /* "# " lines above it, each ending in '\n' */
	bool commented_out;         /* a template: every line of it starts with '#' */
};

/* ---- output ------------------------------------------------------------- */

static void listing(struct probe *probe, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct probe *probe, int indent, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void listing(struct probe *probe, const char *format, ...)
{
	if (!probe->listing)
		return;
	va_list arguments;
	va_start(arguments, format);
	vfprintf(probe->listing, format, arguments);
	va_end(arguments);
}

/* Something that could not be probed: part of the listing, or a line on
 * the error stream when only the sections go to the output. */
static void problem(struct probe *probe, int indent, const char *format, ...)
{
	FILE *stream = probe->listing ? probe->listing : probe->errors;
	va_list arguments;
	va_start(arguments, format);
	if (probe->listing)
		fprintf(stream, "%*s", indent, "");
	else
		fprintf(stream, "%s %s: ", CTL_PROGRAM, COMMAND);
	vfprintf(stream, format, arguments);
	va_end(arguments);
	fputc('\n', stream);
}

/* ---- sections ----------------------------------------------------------- */

static bool name_taken(const struct probe *probe, const char *name)
{
	for (size_t i = 0; i < probe->name_count; i++)
		if (strcmp(probe->names[i], name) == 0)
			return true;
	return false;
}

/* A slug of text cut to at most limit bytes, without a '-' at the cut;
 * fallback when text has no letter or digit. */
static void cut_slug(const char *text, size_t limit, const char *fallback, char *out, size_t out_size)
{
	char slug[SLUG_SIZE];
	if (slug_make(text, slug, sizeof(slug)) < 0)
		snprintf(slug, sizeof(slug), "%s", fallback);
	size_t length = strnlen(slug, limit < out_size ? limit : out_size - 1);
	while (length > 1 && slug[length - 1] == '-')
		length--;
	memcpy(out, slug, length);
	out[length] = '\0';
}

/* base and suffix as slugs joined by '-', base cut so that the name fits
 * in 32 bytes, and "-2", "-3"... added when the name is taken. */
static int make_name(struct probe *probe, const char *base, const char *suffix, char name[NAME_SIZE])
{
	char base_slug[NAME_SIZE], suffix_slug[SUFFIX_MAX + 1] = "", candidate[NAME_SIZE];
	cut_slug(base, NAME_SIZE - 1, "sensor", base_slug, sizeof(base_slug));
	if (suffix)
		cut_slug(suffix, SUFFIX_MAX, "channel", suffix_slug, sizeof(suffix_slug));
	for (unsigned number = 1;; number++) {
		char tail[16] = "";
		if (number > 1)
			snprintf(tail, sizeof(tail), "-%u", number);
		size_t fixed = (suffix ? strlen(suffix_slug) + 1 : 0) + strlen(tail);
		size_t length = strlen(base_slug);
		if (length > NAME_SIZE - 1 - fixed)
			length = NAME_SIZE - 1 - fixed;
		while (length > 1 && base_slug[length - 1] == '-')
			length--;
		memcpy(candidate, base_slug, length);
		candidate[length] = '\0';
		if (suffix) {
			strcat(candidate, "-");
			strcat(candidate, suffix_slug);
		}
		strcat(candidate, tail);
		if (!name_taken(probe, candidate))
			break;
	}
	if (probe->name_count == probe->name_capacity) {
		size_t capacity = probe->name_capacity ? 2 * probe->name_capacity : 16;
		char(*grown)[NAME_SIZE] = realloc(probe->names, capacity * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		probe->names = grown;
		probe->name_capacity = capacity;
	}
	snprintf(probe->names[probe->name_count++], NAME_SIZE, "%s", candidate);
	snprintf(name, NAME_SIZE, "%s", candidate);
	return 0;
}

static void add_option(struct section *section, const char *key, const char *value)
{
	if (section->option_count < OPTIONS_MAX)
		section->options[section->option_count++] = (struct sensor_option){
			.key = (char *)key, .value = (char *)value,
		};
}

static void add_comment(struct section *section, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void add_comment(struct section *section, const char *format, ...)
{
	size_t used = strlen(section->comment);
	if (used + 3 >= sizeof(section->comment))
		return;
	memcpy(section->comment + used, "# ", 2);
	used += 2;
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(section->comment + used, sizeof(section->comment) - used - 1, format, arguments);
	va_end(arguments);
	strcat(section->comment, "\n");
}

/* Whether the driver takes the section as it stands: every option, then
 * the section as a whole.  A refusal is this program's mistake, not the
 * board's, and is shown so rather than printed as a section that fails. */
static bool section_accepted(struct probe *probe, const struct section *section, const char *name)
{
	char message[256] = "";
	const struct driver_ops *driver = section->driver;
	for (size_t i = 0; i < section->option_count; i++) {
		const struct sensor_option *option = &section->options[i];
		if (driver->check_option(section->type, option->key, option->value, message, sizeof(message)) < 0) {
			problem(probe, 4, "no section %s: driver %s refuses %s = %s (%s)", name, driver->name,
			        option->key, option->value, message);
			return false;
		}
	}
	struct sensor_config config = {
		.name = (char *)name, .type = section->type, .driver = (char *)driver->name, .interval_s = 5,
		.dark_lux = 10, .options = (struct sensor_option *)section->options,
		.option_count = section->option_count,
	};
	if (driver->check_sensor && driver->check_sensor(&config, message, sizeof(message)) < 0) {
		problem(probe, 4, "no section %s: driver %s refuses it (%s)", name, driver->name, message);
		return false;
	}
	return true;
}

static int write_section(struct probe *probe, const struct section *section, const char *base, const char *suffix)
{
	char name[NAME_SIZE];
	int result = make_name(probe, base, suffix, name);
	if (result < 0)
		return result;
	if (!section_accepted(probe, section, name))
		return 0;
	const char *mark = section->commented_out ? "#" : "";
	fprintf(probe->sections, "%s%s[sensor.%s]\n", probe->section_count ? "\n" : "", section->comment, name);
	fprintf(probe->sections, "%stype = %s\n", mark, sensor_type_name(section->type));
	fprintf(probe->sections, "%sdriver = %s\n", mark, section->driver->name);
	for (size_t i = 0; i < section->option_count; i++)
		fprintf(probe->sections, "%s%s = %s\n", mark, section->options[i].key, section->options[i].value);
	probe->section_count++;
	return 0;
}

/* ---- the board's devices ------------------------------------------------ */

/* "PREFIX" followed by a number, as the kernel names device nodes. */
static bool numbered(const char *name, const char *prefix)
{
	size_t length = strlen(prefix);
	return strncmp(name, prefix, length) == 0 && name[length] != '\0' &&
	       strspn(name + length, "0123456789") == strlen(name + length);
}

static int is_gpio_chip(const struct dirent *entry)
{
	return numbered(entry->d_name, "gpiochip");
}

static int is_i2c_bus(const struct dirent *entry)
{
	return numbered(entry->d_name, "i2c-");
}

/* The entries of the device root that filter takes, in number order
 * (gpiochip2 before gpiochip10).  Their count, or -1 with a problem told. */
static int scan_dev_root(struct probe *probe, int (*filter)(const struct dirent *), struct dirent ***entries)
{
	int count = scandir(probe->options->dev_root, entries, filter, versionsort);
	if (count < 0)
		problem(probe, 2, "cannot read %s: %s", probe->options->dev_root, strerror(errno));
	return count;
}

static void free_entries(struct dirent **entries, int count)
{
	for (int i = 0; i < count; i++)
		free(entries[i]);
	free(entries);
}

/* ---- GPIO ---------------------------------------------------------------- */

/* How line is best written in line =: by its name when the driver finds
 * this line by it (names need not be unique; the driver takes the first),
 * else by its offset. */
static void line_option(struct gpiod_chip *chip, struct gpiod_line *line, char value[VALUE_SIZE])
{
	const char *name = gpiod_line_name(line);
	char message[256];
	if (name && strlen(name) < VALUE_SIZE && gpiod_chip_find_line(chip, name) == line &&
	    gpio_driver.check_option(SENSOR_FOOTFALL, "line", name, message, sizeof(message)) == 0)
		snprintf(value, VALUE_SIZE, "%s", name);
	else
		snprintf(value, VALUE_SIZE, "%u", gpiod_line_offset(line));
}

/* The example sections: footfall on the first free line, a lamp on the next. */
static int gpio_sections(struct probe *probe, struct gpiod_chip *chip, struct gpiod_line *free_lines[2])
{
	static const enum sensor_type types[2] = { SENSOR_FOOTFALL, SENSOR_LAMP };
	const char *chip_name = gpiod_chip_name(chip);
	for (size_t i = 0; i < 2 && free_lines[i]; i++) {
		struct section section = { .type = types[i], .driver = &gpio_driver };
		char line[VALUE_SIZE], suffix[NAME_SIZE], base[NAME_SIZE + 16];
		line_option(chip, free_lines[i], line);
		if (i == 0) {
			add_comment(&section, "%s: examples on its first free lines; pick the lines actually wired.",
			            chip_name);
			add_comment(&section, "A beam or PIR that pulls the input low when someone passes needs "
			            "active_low = yes.");
		}
		add_option(&section, "chip", chip_name);
		add_option(&section, "line", line);
		if (types[i] == SENSOR_FOOTFALL)
			add_option(&section, "detector", "beam");
		else
			add_comment(&section, "With light = NAME of a light sensor, an unlit lamp at dark is a fault.");
		snprintf(base, sizeof(base), "%s-%s", sensor_type_name(types[i]), chip_name);
		snprintf(suffix, sizeof(suffix), "%u", gpiod_line_offset(free_lines[i]));
		int result = write_section(probe, &section, base, suffix);
		if (result < 0)
			return result;
	}
	return 0;
}

static int probe_gpio_chip(struct probe *probe, const char *path, const char *entry_name)
{
	errno = 0;
	struct gpiod_chip *chip = gpiod_chip_open(path);
	if (!chip) {
		int error = errno ? errno : ENODEV;
		const char *hint = error == EACCES || error == EPERM ? " (add the user to group gpio, or run as root)"
		                   : error == ENOTTY || error == ENODEV ? " (not a GPIO character device)"
		                                                       : "";
		problem(probe, 2, "%s: cannot open: %s%s", entry_name, strerror(error), hint);
		return 0;
	}
	unsigned count = gpiod_chip_num_lines(chip), free_count = 0, shown = 0;
	struct gpiod_line *free_lines[2] = { NULL, NULL };
	listing(probe, "  %s [%s], %u lines\n", gpiod_chip_name(chip), gpiod_chip_label(chip), count);
	for (unsigned offset = 0; offset < count; offset++) {
		errno = 0;
		struct gpiod_line *line = gpiod_chip_get_line(chip, offset);
		if (!line) {
			problem(probe, 4, "line %u: cannot read its state: %s", offset, strerror(errno ? errno : EIO));
			continue;
		}
		const char *name = gpiod_line_name(line);
		const char *consumer = gpiod_line_consumer(line);
		bool used = gpiod_line_is_used(line);
		if (!used) {
			if (free_count < 2)
				free_lines[free_count] = line;
			free_count++;
		}
		if (!name && !used)
			continue;
		shown++;
		listing(probe, "    %4u  %-16s", offset, name ? name : "(no name)");
		if (used && consumer)
			listing(probe, "  in use by \"%s\"", consumer);
		else if (used)
			listing(probe, "  in use (no consumer name)");
		listing(probe, "\n");
	}
	listing(probe, "    %u of %u lines free", free_count, count);
	if (shown < count)
		listing(probe, "; the %u not listed have no name", count - shown);
	listing(probe, "\n");
	int result = gpio_sections(probe, chip, free_lines);
	gpiod_chip_close(chip);
	return result;
}

static int probe_gpio(struct probe *probe)
{
	struct dirent **entries = NULL;
	int result = 0;
	listing(probe, "GPIO chips (%s/gpiochip*)\n", probe->options->dev_root);
	int count = scan_dev_root(probe, is_gpio_chip, &entries);
	if (count == 0)
		listing(probe, "  no GPIO chips\n");
	for (int i = 0; i < count && result == 0; i++) {
		char *path = NULL;
		probe->found++;
		if (asprintf(&path, "%s/%s", probe->options->dev_root, entries[i]->d_name) < 0)
			result = -ENOMEM;
		else
			result = probe_gpio_chip(probe, path, entries[i]->d_name);
		free(path);
	}
	free_entries(entries, count);
	return result;
}

/* ---- IIO ------------------------------------------------------------------- */

static const char *unit_of(const char *kind)
{
	if (strcmp(kind, "illuminance") == 0)
		return "lx";
	if (strcmp(kind, "voltage") == 0)
		return "mV";
	return "(no unit)";
}

/* What device = should say: its name, when that finds this device and no
 * other and the driver takes it; else iio:deviceN. */
static const char *device_option(const struct iio_device *devices, size_t count, size_t index)
{
	const struct iio_device *device = &devices[index];
	char message[256];
	if (!device->name ||
	    iio_driver.check_option(SENSOR_LIGHT, "device", device->name, message, sizeof(message)) < 0)
		return device->id;
	for (size_t i = 0; i < count; i++)
		if (i != index && devices[i].name && strcmp(devices[i].name, device->name) == 0)
			return device->id;
	return device->name;
}

static void iio_section(struct probe *probe, struct section *section, const char *device_text,
                        const char *channel)
{
	*section = (struct section){ .type = SENSOR_LIGHT, .driver = &iio_driver };
	add_option(section, "device", device_text);
	add_option(section, "channel", channel);
	if (strcmp(probe->options->sysfs_root, PROBE_DEFAULT_SYSFS_ROOT) != 0)
		add_option(section, "sysfs_root", probe->options->sysfs_root);
}

static int probe_iio_device(struct probe *probe, const struct iio_device *devices, size_t count, size_t index)
{
	const struct iio_device *device = &devices[index];
	struct iio_channel *channels = NULL;
	size_t channel_count = 0, illuminance = 0;
	const char *device_text = device_option(devices, count, index);
	int result = 0;

	listing(probe, "  %s  %s\n", device->id, device->name ? device->name : "(no name)");
	int listed = iio_channel_list(device->directory, &channels, &channel_count);
	if (listed == -ENOMEM)
		return listed;
	if (listed < 0) {
		problem(probe, 4, "%s: cannot list its channels: %s", device->id, strerror(-listed));
		return 0;
	}
	if (channel_count == 0)
		listing(probe, "    no illuminance, intensity or voltage channel\n");
	for (size_t i = 0; i < channel_count; i++) {
		const struct iio_channel *channel = &channels[i];
		struct iio_reader reader = { .fd = -1 };
		char message[256] = "";
		double value = 0.0;
		int read = iio_reader_open(device->directory, device->id, channel->prefix, &reader, message,
		                           sizeof(message));
		if (read == 0)
			read = iio_reader_read(&reader, &value, message, sizeof(message));
		iio_reader_close(&reader);
		if (read == 0)
			listing(probe, "    %-24s %.6g %s\n", channel->prefix, value, unit_of(channel->kind));
		else
			problem(probe, 4, "%s %s: cannot read it: %s", device->id, channel->prefix,
			        message[0] ? message : strerror(-read));
		if (strcmp(channel->kind, "illuminance") != 0)
			continue;
		illuminance++;
		struct section section;
		iio_section(probe, &section, device_text, channel->prefix);
		if (read == 0)
			add_comment(&section, "%s (%s), %s: %.6g lx when probed", device->id,
			            device->name ? device->name : "no name", channel->prefix, value);
		else
			add_comment(&section, "%s (%s), %s: it could not be read when probed", device->id,
			            device->name ? device->name : "no name", channel->prefix);
		result = write_section(probe, &section, device_text, channel->prefix + strlen("in_"));
		if (result < 0)
			goto out;
	}
	/* A device with no lux channel may still be a light sensor (a
	 * photodiode on an ADC): a template, since lux per unit is for the
	 * technician to find out. */
	if (illuminance == 0 && channel_count > 0) {
		const struct iio_channel *channel = &channels[0];
		struct section section;
		iio_section(probe, &section, device_text, channel->prefix);
		section.commented_out = true;
		add_option(&section, "factor", "1");
		add_comment(&section, "%s (%s), %s reads %s, not lx: if a light sensor is wired to it (or to",
		            device->id, device->name ? device->name : "no name", channel->prefix,
		            unit_of(channel->kind));
		add_comment(&section, "another channel listed above), uncomment this and set factor to lux per unit.");
		result = write_section(probe, &section, device_text, channel->prefix + strlen("in_"));
	}
out:
	iio_channel_list_free(channels, channel_count);
	return result;
}

static int probe_iio(struct probe *probe)
{
	struct iio_device *devices = NULL;
	size_t count = 0;
	const char *root = probe->options->sysfs_root;
	int result = 0;

	listing(probe, "IIO devices (%s/bus/iio/devices)\n", strcmp(root, "/") == 0 ? "" : root);
	int listed = iio_device_list(root, &devices, &count);
	if (listed == -ENOENT) {
		listing(probe, "  no IIO devices (the directory does not exist: no IIO driver is loaded)\n");
	} else if (listed == -ENOMEM) {
		result = listed;
	} else if (listed < 0) {
		problem(probe, 2, "cannot list the IIO devices: %s", strerror(-listed));
	} else if (count == 0) {
		listing(probe, "  no IIO devices\n");
	}
	for (size_t i = 0; i < count && result == 0; i++) {
		probe->found++;
		result = probe_iio_device(probe, devices, count, i);
	}
	iio_device_list_free(devices, count);
	return result;
}

/* ---- I2C ------------------------------------------------------------------- */

/* Errors that say the bus itself cannot be used, whatever the address. */
static bool bus_error(int error)
{
	return error == -EACCES || error == -EPERM || error == -ENOENT || error == -ENOTTY || error == -ENODEV ||
	       error == -ENXIO;
}

static int probe_i2c_bus(struct probe *probe, const char *path, const char *entry_name)
{
	static const unsigned addresses[] = { BH1750_ADDRESS_LOW, BH1750_ADDRESS_HIGH };
	listing(probe, "  %s\n", path);
	for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
		unsigned address = addresses[i];
		int found = bh1750_detect(probe->options->i2c, path, address);
		if (found == 0) {
			listing(probe, "    0x%02x  no BH1750\n", address);
			continue;
		}
		if (found == -EBUSY) {
			listing(probe, "    0x%02x  taken by a kernel driver, likely the kernel's own bh1750: "
			        "read it through iio (IIO devices above)\n", address);
			continue;
		}
		if (found == -ENOTTY) {
			problem(probe, 4, "%s: not an I2C bus", path);
			break;
		}
		if (bus_error(found)) {
			problem(probe, 4, "%s: cannot open: %s%s", path, strerror(-found),
			        found == -EACCES || found == -EPERM ? " (add the user to group i2c, or run as root)" : "");
			break;
		}
		if (found < 0) {
			problem(probe, 4, "%s at 0x%02x: %s", path, address, strerror(-found));
			continue;
		}
		listing(probe, "    0x%02x  a BH1750 answers (to be read with driver bh1750)\n", address);
		char address_text[8], suffix[NAME_SIZE], base[NAME_SIZE];
		struct section section = { .type = SENSOR_LIGHT, .driver = &bh1750_driver };
		snprintf(address_text, sizeof(address_text), "0x%02x", address);
		add_option(&section, "bus", path);
		add_option(&section, "address", address_text);
		add_comment(&section, "a BH1750 on %s at %s (ADDR pin %s)", path, address_text,
		            address == BH1750_ADDRESS_LOW ? "low or open" : "high");
		snprintf(base, sizeof(base), "bh1750-%.*s", NAME_SIZE - 8, entry_name);
		snprintf(suffix, sizeof(suffix), "%02x", address);
		int result = write_section(probe, &section, base, suffix);
		if (result < 0)
			return result;
	}
	return 0;
}

static int probe_i2c(struct probe *probe)
{
	struct dirent **entries = NULL;
	int result = 0;
	listing(probe, "I2C buses (%s/i2c-*), BH1750 light sensors at 0x23 and 0x5c\n", probe->options->dev_root);
	int count = scan_dev_root(probe, is_i2c_bus, &entries);
	if (count == 0)
		listing(probe, "  no I2C buses (is I2C enabled, and the i2c-dev module loaded?)\n");
	for (int i = 0; i < count && result == 0; i++) {
		char *path = NULL;
		probe->found++;
		if (asprintf(&path, "%s/%s", probe->options->dev_root, entries[i]->d_name) < 0)
			result = -ENOMEM;
		else
			result = probe_i2c_bus(probe, path, entries[i]->d_name);
		free(path);
	}
	free_entries(entries, count);
	return result;
}

/* ---- the probe --------------------------------------------------------------- */

int probe_run(const struct probe_options *options, FILE *out, FILE *errors)
{
	struct probe probe = {
		.options = options,
		.listing = options->sections_only ? NULL : out,
		.errors = errors,
	};
	int result = 0;

	probe.sections = open_memstream(&probe.sections_text, &probe.sections_length);
	if (!probe.sections) {
		result = -errno;
		goto out;
	}
	result = probe_gpio(&probe);
	listing(&probe, "\n");
	if (result == 0)
		result = probe_iio(&probe);
	listing(&probe, "\n");
	if (result == 0)
		result = probe_i2c(&probe);
	if (result < 0)
		goto out;
	if (fflush(probe.sections) != 0) {
		result = -ENOMEM;
		goto out;
	}

	if (probe.found == 0)
		listing(&probe, "\nNothing found: no GPIO chip, IIO device or I2C bus on this board.\n");
	else if (probe.section_count == 0)
		listing(&probe, "\nNo sensor found, so no section for tryggd.conf.\n");
	else
		listing(&probe, "\nSections for tryggd.conf (paste those you use):\n\n");
	if (probe.section_count == 0 && options->sections_only)
		fprintf(errors, "%s %s: no sensor found, so no section\n", CTL_PROGRAM, COMMAND);
	fwrite(probe.sections_text, 1, probe.sections_length, out);
out:
	if (probe.sections)
		fclose(probe.sections);
	free(probe.sections_text);
	free(probe.names);
	return result;
}

/* ---- the command line ---------------------------------------------------------- */

static void print_help(FILE *out)
{
	fprintf(out,
	        "Usage: %s %s [--sysfs-root DIR] [--dev-root DIR] [--sections-only]\n"
	        "\n"
	        "List what this board has for tryggd: GPIO chips and their lines (which are\n"
	        "free, which are in use and by whom), IIO devices with a live value of each\n"
	        "light, intensity and voltage channel, and I2C buses with any BH1750 light\n"
	        "sensor at 0x23 or 0x5c.  Then a [sensor.NAME] section for every sensor found,\n"
	        "ready to paste into tryggd.conf (GPIO: examples on the first free lines).\n"
	        "\n"
	        "      --sysfs-root DIR  where sysfs is, for IIO devices (default %s)\n"
	        "      --dev-root DIR    where gpiochipN and i2c-N are (default %s); libgpiod\n"
	        "                        still checks each chip under /sys/bus/gpio, whatever\n"
	        "                        --sysfs-root says\n"
	        "      --sections-only   print only the sections (problems go to stderr)\n"
	        "  -h, --help            print this help and exit\n"
	        "\n"
	        "Probing an I2C address writes to whatever chip answers there (power on, a\n"
	        "2-byte read, power down).  Run as root, or as a user in groups gpio and i2c.\n"
	        "Exit status: 0 done (even if nothing was found); 64 bad usage; 70, 71 or 74\n"
	        "when probing could not go on.\n",
	        CTL_PROGRAM, COMMAND, PROBE_DEFAULT_SYSFS_ROOT, PROBE_DEFAULT_DEV_ROOT);
}

int ctl_probe(int argc, char *argv[])
{
	enum { OPTION_SYSFS_ROOT = 256, OPTION_DEV_ROOT, OPTION_SECTIONS_ONLY };
	static const char short_options[] = ":h";
	static const struct option long_options[] = {
		{ "sysfs-root", required_argument, NULL, OPTION_SYSFS_ROOT },
		{ "dev-root", required_argument, NULL, OPTION_DEV_ROOT },
		{ "sections-only", no_argument, NULL, OPTION_SECTIONS_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs_root = PROBE_DEFAULT_SYSFS_ROOT, *dev_root = PROBE_DEFAULT_DEV_ROOT;
	struct probe_options options = { .i2c = &i2c_dev_ops };
	char *absolute_sysfs = NULL, *absolute_dev = NULL;
	char spelled[3];
	int option, status = 0;

	opterr = 0;
	while ((option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (option) {
		case OPTION_SYSFS_ROOT:
			sysfs_root = optarg;
			break;
		case OPTION_DEV_ROOT:
			dev_root = optarg;
			break;
		case OPTION_SECTIONS_ONLY:
			options.sections_only = true;
			break;
		case 'h':
			print_help(stdout);
			return ctl_finish_output(COMMAND, stdout, 0);
		case ':':
			return ctl_usage_error(COMMAND, "option %s needs a value", ctl_bad_option(argv, short_options, spelled));
		default:
			return ctl_usage_error(COMMAND, "unknown option %s", ctl_bad_option(argv, short_options, spelled));
		}
	}
	if (optind < argc)
		return ctl_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
	if (sysfs_root[0] == '\0' || dev_root[0] == '\0')
		return ctl_usage_error(COMMAND, "--sysfs-root and --dev-root need a directory");

	/* Absolute, because the sections name paths tryggd will open from
	 * wherever it runs. */
	int result = ctl_absolute_path(sysfs_root, &absolute_sysfs);
	if (result == 0)
		result = ctl_absolute_path(dev_root, &absolute_dev);
	if (result == 0) {
		options.sysfs_root = absolute_sysfs;
		options.dev_root = absolute_dev;
		result = probe_run(&options, stdout, stderr);
	}
	if (result < 0) {
		ctl_error(COMMAND, "cannot go on: %s", strerror(-result));
		status = ctl_status_of_error(result);
	}
	free(absolute_sysfs);
	free(absolute_dev);
	return ctl_finish_output(COMMAND, stdout, status);
}
