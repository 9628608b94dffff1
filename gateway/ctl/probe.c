/* probe.c — `tryggctl probe`: what sensors this board has, for a
 * technician commissioning a gateway, with a [sensor.NAME] section for each
 * one to paste into tryggd.conf.
 *
 * The board is read with the daemon's own code (drivers/iio.h, bh1750.h)
 * and libgpiod, so what probe shows is what tryggd will find.  Every
 * section is put to its driver's check_option() and check_sensor() before
 * it is printed (probe_section.c), so a section probe prints is one
 * tryggd --check accepts.
 *
 * This file is the subcommand and the frame of a probe: the options, the
 * output, and probe_run(), which goes through GPIO, IIO and I2C
 * (probe_gpio.c, probe_iio.c, probe_i2c.c; probe_internal.h says who does
 * what).  The listing goes to the output as it is probed; the sections are
 * gathered in a memory stream owned by struct probe and printed after it.
 * struct probe owns that stream and the list of section names, freed at
 * the end of probe_run(); the options are borrowed. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "probe.h"
#include "probe_internal.h"

#define COMMAND PROBE_COMMAND

/* ---- output ------------------------------------------------------------- */

void probe_listing(struct probe *probe, const char *format, ...)
{
	if (!probe->listing)
		return;
	va_list arguments;
	va_start(arguments, format);
	vfprintf(probe->listing, format, arguments);
	va_end(arguments);
}

void probe_problem(struct probe *probe, int indent, const char *format, ...)
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

/* ---- the device root ------------------------------------------------------ */

const char *probe_root_prefix(const char *root)
{
	return strcmp(root, "/") == 0 ? "" : root;
}

bool probe_numbered(const char *name, const char *prefix)
{
	size_t length = strlen(prefix);
	return strncmp(name, prefix, length) == 0 && name[length] != '\0' &&
	       strspn(name + length, "0123456789") == strlen(name + length);
}

int probe_dev_root(struct probe *probe, int (*filter)(const struct dirent *entry), const char *none_line,
                   int (*probe_entry)(struct probe *probe, const char *path, const char *entry_name))
{
	const char *root = probe->options->dev_root;
	struct dirent **entries = NULL;
	int result = 0;
	int count = scandir(root, &entries, filter, versionsort);
	if (count < 0)
		probe_problem(probe, 2, "cannot read %s: %s", root, strerror(errno));
	else if (count == 0)
		probe_listing(probe, "%s\n", none_line);
	for (int i = 0; i < count && result == 0; i++) {
		char *path = NULL;
		probe->found++;
		if (asprintf(&path, "%s/%s", probe_root_prefix(root), entries[i]->d_name) < 0)
			result = -ENOMEM;
		else
			result = probe_entry(probe, path, entries[i]->d_name);
		free(path);
	}
	for (int i = 0; i < count; i++)
		free(entries[i]);
	free(entries);
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
	probe_listing(&probe, "\n");
	if (result == 0)
		result = probe_iio(&probe);
	probe_listing(&probe, "\n");
	if (result == 0)
		result = probe_i2c(&probe);
	if (result < 0)
		goto out;
	if (fflush(probe.sections) != 0) {
		result = -ENOMEM;
		goto out;
	}

	if (probe.found == 0)
		probe_listing(&probe, "\nNothing found: no GPIO chip, IIO device or I2C bus on this board.\n");
	else if (probe.section_count == 0)
		probe_listing(&probe, "\nNo sensor found, so no section for tryggd.conf.\n");
	else
		probe_listing(&probe, "\nSections for tryggd.conf (paste those you use):\n\n");
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
		default:
			return ctl_option_error(COMMAND, option, argv, short_options);
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
