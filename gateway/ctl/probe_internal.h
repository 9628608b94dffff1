/* probe_internal.h — what the files of `tryggctl probe` share, and no one
 * else sees:
 *
 *   probe.c          the subcommand (options, --help, ctl_probe), probe_run()
 *                    and the struct probe it owns, the listing and problem
 *                    output, and the walk over the device root that GPIO and
 *                    I2C both need;
 *   probe_section.c  naming a [sensor.NAME] section (unique, fitting the
 *                    config's rules) and writing it, once its driver's
 *                    check_option() and check_sensor() have taken it;
 *   probe_gpio.c     GPIO chips and their lines, through libgpiod;
 *   probe_iio.c      IIO devices and their channels, through sysfs (iio.h);
 *   probe_i2c.c      I2C buses and a BH1750 at 0x23 or 0x5c, through
 *                    options->i2c.
 *
 * Ownership: probe_run() owns struct probe, its sections stream and its
 * list of names; the device files only write through it.  A struct section
 * borrows every key and value it is given: they must outlive the call to
 * probe_section_write(), which copies them to the stream. */
#ifndef TRYGGCTL_PROBE_INTERNAL_H
#define TRYGGCTL_PROBE_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "driver.h"
#include "probe.h"

#define PROBE_COMMAND "probe"
#define PROBE_NAME_SIZE 33          /* a sensor name, [a-z0-9_-]{1,32}, and its NUL */
#define PROBE_OPTIONS_MAX 6         /* driver options of one section */
#define PROBE_COMMENT_SIZE 512

struct probe {
	const struct probe_options *options;
	FILE *listing;              /* the output, or NULL with sections_only */
	FILE *errors;
	FILE *sections;             /* memory stream over sections_text */
	char *sections_text;
	size_t sections_length;
	char (*names)[PROBE_NAME_SIZE];   /* the sections' names so far, to keep them unique */
	size_t name_count, name_capacity;
	unsigned found;             /* chips, devices and buses seen, usable or not */
	unsigned section_count;
};

/* One section as drivers see it, before it has a name. */
struct section {
	enum sensor_type type;
	const struct driver_ops *driver;
	struct sensor_option options[PROBE_OPTIONS_MAX];
	size_t option_count;
	char comment[PROBE_COMMENT_SIZE];   /* "# " lines above it, each ending in '\n' */
	bool commented_out;                 /* a template: every line of it starts with '#' */
};

/* ---- probe.c ------------------------------------------------------------- */

/* A line of the listing; nothing with sections_only. */
void probe_listing(struct probe *probe, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Something that could not be probed: a line of the listing indented by
 * indent, or "tryggctl probe: ..." on the error stream with sections_only. */
void probe_problem(struct probe *probe, int indent, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* root as it goes before "/more" in a path: "" for "/", so that no path
 * starts with "//". */
const char *probe_root_prefix(const char *root);

/* Whether name is prefix followed by a number, as the kernel names device
 * nodes (gpiochip0, i2c-1). */
bool probe_numbered(const char *name, const char *prefix);

/* probe_entry(probe, DEV_ROOT/NAME, NAME) for every entry of the device
 * root that filter takes, in number order (gpiochip2 before gpiochip10),
 * each counted as found; none_line to the listing when there is none, and a
 * problem when the device root cannot be read.  0, or the first negative
 * errno of probe_entry, which stops the walk. */
int probe_dev_root(struct probe *probe, int (*filter)(const struct dirent *entry), const char *none_line,
                   int (*probe_entry)(struct probe *probe, const char *path, const char *entry_name));

/* ---- probe_section.c ------------------------------------------------------ */

/* key = value in the section; both borrowed.  Beyond PROBE_OPTIONS_MAX it
 * is left out (no section of probe's has that many). */
void probe_section_option(struct section *section, const char *key, const char *value);

/* A "# " line above the section; cut to what fits in its comment. */
void probe_section_comment(struct section *section, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Name the section after base and suffix (slugs, joined by '-', cut to 32
 * bytes, "-2", "-3"... when the name is taken) and write it to the sections
 * when its driver takes it; a refusal is told as a problem.  0, or -ENOMEM. */
int probe_section_write(struct probe *probe, const struct section *section, const char *base, const char *suffix);

/* ---- one file each ---------------------------------------------------------- */

/* Each lists its part of the board and writes the sections for what it
 * found.  0, or a negative errno when the probe cannot go on. */
int probe_gpio(struct probe *probe);
int probe_iio(struct probe *probe);
int probe_i2c(struct probe *probe);

#endif
