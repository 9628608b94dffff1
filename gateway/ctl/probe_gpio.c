/* probe_gpio.c — the GPIO part of `tryggctl probe`: every gpiochipN under
 * the device root, opened with libgpiod as the gpio driver opens it, its
 * lines listed (which are free, which are in use and by whom), and two
 * example sections on its first free lines, a footfall and a lamp, since
 * which line is wired is for the technician to say.
 *
 * A chip is opened, listed and closed here; nothing outlives the call. */
#include <dirent.h>
#include <errno.h>
#include <gpiod.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "probe_internal.h"

#define VALUE_SIZE 64

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
		char line[VALUE_SIZE], suffix[PROBE_NAME_SIZE], base[PROBE_NAME_SIZE + 16];
		line_option(chip, free_lines[i], line);
		if (i == 0) {
			probe_section_comment(&section, "%s: examples on its first free lines; pick the lines "
			                      "actually wired.", chip_name);
			probe_section_comment(&section, "A beam or PIR that pulls the input low when someone passes "
			                      "needs active_low = yes.");
		}
		probe_section_option(&section, "chip", chip_name);
		probe_section_option(&section, "line", line);
		if (types[i] == SENSOR_FOOTFALL)
			probe_section_option(&section, "detector", "beam");
		else
			probe_section_comment(&section, "With light = NAME of a light sensor, an unlit lamp at dark "
			                      "is a fault.");
		snprintf(base, sizeof(base), "%s-%s", sensor_type_name(types[i]), chip_name);
		snprintf(suffix, sizeof(suffix), "%u", gpiod_line_offset(free_lines[i]));
		int result = probe_section_write(probe, &section, base, suffix);
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
		probe_problem(probe, 2, "%s: cannot open: %s%s", entry_name, strerror(error), hint);
		return 0;
	}
	unsigned count = gpiod_chip_num_lines(chip), free_count = 0, shown = 0;
	struct gpiod_line *free_lines[2] = { NULL, NULL };
	probe_listing(probe, "  %s [%s], %u lines\n", gpiod_chip_name(chip), gpiod_chip_label(chip), count);
	for (unsigned offset = 0; offset < count; offset++) {
		errno = 0;
		struct gpiod_line *line = gpiod_chip_get_line(chip, offset);
		if (!line) {
			probe_problem(probe, 4, "line %u: cannot read its state: %s", offset, strerror(errno ? errno : EIO));
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
		probe_listing(probe, "    %4u  %-16s", offset, name ? name : "(no name)");
		if (used && consumer)
			probe_listing(probe, "  in use by \"%s\"", consumer);
		else if (used)
			probe_listing(probe, "  in use (no consumer name)");
		probe_listing(probe, "\n");
	}
	probe_listing(probe, "    %u of %u lines free", free_count, count);
	if (shown < count)
		probe_listing(probe, "; the %u not listed have no name", count - shown);
	probe_listing(probe, "\n");
	int result = gpio_sections(probe, chip, free_lines);
	gpiod_chip_close(chip);
	return result;
}

static int is_gpio_chip(const struct dirent *entry)
{
	return probe_numbered(entry->d_name, "gpiochip");
}

int probe_gpio(struct probe *probe)
{
	probe_listing(probe, "GPIO chips (%s/gpiochip*)\n", probe_root_prefix(probe->options->dev_root));
	return probe_dev_root(probe, is_gpio_chip, "  no GPIO chips", probe_gpio_chip);
}
