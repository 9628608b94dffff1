/* tryggctl.c — the technicians' and planners' tool: `tryggctl SUBCOMMAND
 * [ARGS]` runs one subcommand from the table below, each in a file of its
 * own (probe.c, ...) with its own options and --help.  Subcommands that
 * CONTRACT.md promises but this version does not have are listed, and say
 * so when run, so that a technician reading the manual is not left to
 * guess whether a command was mistyped.  Nothing is allocated here. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "report.h"
#include "setup_influx.h"

struct subcommand {
	const char *name;
	const char *summary;
	ctl_command run;             /* NULL: not in this version */
};

static const struct subcommand subcommands[] = {
	{ "probe", "list the sensors this board has, with config sections to paste", ctl_probe },
	{ "watch", "live view of a gateway's MQTT traffic", ctl_watch },
	{ "report", "trend report from the store (HTML, or --format csv)", ctl_report },
	{ "setup-influx", "create the database, retention and downsampling in InfluxDB", ctl_setup_influx },
};

#define SUBCOMMAND_COUNT (sizeof(subcommands) / sizeof(subcommands[0]))

static void print_help(FILE *out)
{
	fprintf(out,
	        "Usage: %s SUBCOMMAND [OPTIONS]\n"
	        "       %s SUBCOMMAND --help\n"
	        "\n"
	        "The tool for tryggd's technicians and planners.\n"
	        "\n"
	        "Subcommands:\n",
	        CTL_PROGRAM, CTL_PROGRAM);
	for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
		if (subcommands[i].run)
			fprintf(out, "  %-14s%s\n", subcommands[i].name, subcommands[i].summary);
	bool later = false;
	for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
		if (!subcommands[i].run) {
			if (!later)
				fprintf(out, "\nComing in a later version:\n");
			later = true;
			fprintf(out, "  %-14s%s\n", subcommands[i].name, subcommands[i].summary);
		}
	fprintf(out,
	        "\n"
	        "Options:\n"
	        "  -h, --help     print this help and exit\n"
	        "  -V, --version  print the version and exit\n"
	        "\n"
	        "Exit status: 0 done; 64 bad usage; 69 a subcommand not in this version;\n"
	        "70, 71 or 74 an internal, system or output error.\n");
}

static int usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *format, ...)
{
	va_list arguments;
	fprintf(stderr, "%s: ", CTL_PROGRAM);
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	fprintf(stderr, "\nTry '%s --help'.\n", CTL_PROGRAM);
	return EX_USAGE;
}

int main(int argc, char *argv[])
{
	if (argc < 2)
		return usage_error("no subcommand given");
	const char *word = argv[1];
	if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
		print_help(stdout);
		return ctl_finish_output(NULL, stdout, 0);
	}
	if (strcmp(word, "--version") == 0 || strcmp(word, "-V") == 0) {
		printf("%s %s\n", CTL_PROGRAM, TRYGGD_VERSION);
		return ctl_finish_output(NULL, stdout, 0);
	}
	if (word[0] == '-')
		return usage_error("unknown option %s (options of a subcommand come after it)", word);

	for (size_t i = 0; i < SUBCOMMAND_COUNT; i++) {
		if (strcmp(word, subcommands[i].name) != 0)
			continue;
		if (!subcommands[i].run) {
			fprintf(stderr, "%s: %s is not in this version (%s); it comes in a later one\n", CTL_PROGRAM,
			        word, TRYGGD_VERSION);
			return EX_UNAVAILABLE;
		}
		/* The subcommand sees its own name as argv[0], as getopt expects. */
		return subcommands[i].run(argc - 1, argv + 1);
	}
	return usage_error("unknown subcommand '%s'", word);
}
